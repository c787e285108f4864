//! A load generator built on the engine's client: many concurrent TLS 1.3
//! connections to one server, full handshakes then resumed ones, with the
//! figures a server is judged by.
//!
//! ```text
//! cargo run --release --example load -- [options]
//!   --addr HOST:PORT     the server (default 127.0.0.1:4433), name "localhost"
//!   --connections N      full handshakes (default 1000)
//!   --resumed N          resumed handshakes, from the tickets of the first
//!                        phase (default: as many as full handshakes)
//!   --concurrency N      handshakes in flight at once (default 100)
//!   --hold               keep every connection open until all are made
//!                        (the server then holds N at once); otherwise each
//!                        sends GET / and reads the answer to its end
//!   --server-pid PID     read the server's resident memory from /proc
//!                        before and with the connections open
//!   --seconds N          give up after N seconds (default 120)
//! ```
//!
//! Prints, per phase: handshakes per second (completed handshakes over the
//! phase's wall time), p50 and p99 handshake latency (from `connect` to the
//! client's handshake done), failures; with `--server-pid`, the server's
//! resident bytes per connection held. The trust anchor is the built-in
//! test CA (the servers use the built-in test certificate for localhost).

mod common;

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rustls_pki_types::CertificateDer;
use tlspair::handshake::ticket::{NewTicket, ResumptionTicket, StoredTicket, TicketSink};
use tlspair::handshake::ClientConfig;
use tlspair::record::MAX_RECORD_LEN;
use tlspair::test_credentials as creds;
use tlspair::verify::{trust_anchor_from_der, UnixTime, WebPkiServerVerifier};
use tlspair::{Buffers, Connection, Error, Status};

use common::{would_block, Args};

const USAGE: &str = "usage: load [--addr HOST:PORT] [--connections N] [--resumed N] \
[--concurrency N] [--hold] [--server-pid PID] [--seconds N]";

struct Options {
    addr: SocketAddr,
    connections: usize,
    resumed: Option<usize>,
    concurrency: usize,
    hold: bool,
    server_pid: Option<u32>,
    seconds: u64,
}

fn parse_args() -> Result<Options, String> {
    let mut args = Args::from_env();
    let mut o = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 4433)),
        connections: 1000,
        resumed: None,
        concurrency: 100,
        hold: false,
        server_pid: None,
        seconds: 120,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                let v = args.value(&arg)?;
                o.addr = v.parse().map_err(|e| format!("--addr {v}: {e}"))?;
            }
            "--connections" => o.connections = args.number(&arg)?,
            "--resumed" => o.resumed = Some(args.number(&arg)?),
            "--concurrency" => o.concurrency = args.number::<usize>(&arg)?.max(1),
            "--hold" => o.hold = true,
            "--server-pid" => o.server_pid = Some(args.number(&arg)?),
            "--seconds" => o.seconds = args.number(&arg)?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    common::main("load", USAGE, parse_args(), run)
}

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// Keeps the first ticket of each connection, for the resumed phase.
#[derive(Default)]
struct Tickets(Mutex<Vec<StoredTicket>>);

impl TicketSink for Tickets {
    fn store(&self, t: &NewTicket<'_>) {
        if let Some(stored) = StoredTicket::new(t, UnixTime::now()) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(stored);
        }
    }
}

fn run(o: &Options) -> Result<(), String> {
    let rng = leak(ring::rand::SystemRandom::new());
    let ca: &'static CertificateDer<'static> = leak(CertificateDer::from(creds::CA_CERT));
    let anchors = leak([trust_anchor_from_der(ca).map_err(|e| e.to_string())?]);
    let verifier = leak(WebPkiServerVerifier::new(anchors));
    let tickets: &'static Tickets = leak(Tickets::default());
    let mut config = ClientConfig::new(verifier, rng);
    config.ticket_sink = Some(tickets);
    // X25519, as `openssl s_server` (3.0, no ML-KEM) gets it from the same
    // generator: the figures compare the servers, not the groups.
    config.groups = &tlspair::handshake::kx::CLASSICAL_GROUPS;
    let config: &'static ClientConfig<'static> = leak(config);

    let rss_before = o.server_pid.and_then(resident);
    let full = Phase::run(o, "full", o.connections, |_| {
        Connection::client(config, Some("localhost"), UnixTime::now())
    })?;
    let held = full.open;
    let rss_held = o.server_pid.and_then(resident);
    full.report(false);
    if let (Some(before), Some(with)) = (rss_before, rss_held) {
        if held > 0 {
            println!(
                "server resident: {} KiB idle -> {} KiB with {held} connections open: {} bytes per connection",
                before / 1024,
                with / 1024,
                with.saturating_sub(before) / held as u64
            );
        }
    }
    drop(full);
    // Let the server see those connections go before the next phase.
    std::thread::sleep(Duration::from_secs(2));

    let stored: Vec<StoredTicket> =
        std::mem::take(&mut *tickets.0.lock().unwrap_or_else(|e| e.into_inner()));
    let n = o.resumed.unwrap_or(o.connections).min(stored.len());
    let offered: &'static [ResumptionTicket<'static>] = {
        let stored: &'static [StoredTicket] = Box::leak(stored.into_boxed_slice());
        Box::leak(
            stored
                .iter()
                .take(n)
                .map(StoredTicket::resumption)
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        )
    };
    if n > 0 {
        let resumed = Phase::run(o, "resumed", n, |i| {
            Connection::client_resuming(config, Some("localhost"), UnixTime::now(), &offered[i])
        })?;
        resumed.report(true);
    } else {
        println!("resumed: no tickets (the server sent none)");
    }
    Ok(())
}

/// The server's resident set, in bytes.
fn resident(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One client connection of the generator.
struct Client {
    sock: TcpStream,
    conn: Connection<'static>,
    bufs: Buffers<Box<[u8]>, Box<[u8]>>,
    started: Instant,
    /// Time from connect to the handshake's end, once it ended.
    latency: Option<Duration>,
    handshake_done: bool,
    request_sent: bool,
}

/// What a client's turn ended in.
enum Outcome {
    Waiting,
    /// The handshake just completed (in `--hold` mode the connection
    /// stays).
    Established,
    /// The answer was read to its end (or, held, the connection ended).
    Finished,
}

const REQUEST: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

impl Client {
    fn turn(&mut self, hold: bool) -> Result<Outcome, String> {
        let mut outcome = Outcome::Waiting;
        loop {
            let mut progress = false;
            match self.bufs.recv.read_from(&mut self.sock) {
                Ok(got) => progress |= !got.is_empty(),
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(format!("socket: {e}")),
            }
            if !self.handshake_done {
                match self.conn.handshake(&mut self.bufs) {
                    Ok(Status::Done(())) => {
                        self.handshake_done = true;
                        self.latency = Some(self.started.elapsed());
                        outcome = Outcome::Established;
                        progress = true;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(describe(e)),
                }
            }
            if self.handshake_done {
                if !hold && !self.request_sent {
                    match self.conn.write(&mut self.bufs, REQUEST) {
                        Ok(Status::Done(_)) => {
                            self.request_sent = true;
                            progress = true;
                        }
                        Ok(_) => {}
                        Err(e) => return Err(describe(e)),
                    }
                }
                // The answer (and the tickets, which come first).
                let mut sink = [0u8; 16 * 1024];
                loop {
                    match self.conn.read(&mut self.bufs, &mut sink) {
                        Ok(Status::Done(n)) => progress |= n > 0,
                        Ok(Status::Closed) => return Ok(Outcome::Finished),
                        Ok(_) => break,
                        Err(Error::Truncated) if self.request_sent => return Ok(Outcome::Finished),
                        Err(e) => return Err(describe(e)),
                    }
                }
            }
            while !self.bufs.send.is_empty() {
                match self.bufs.send.write_to(&mut self.sock) {
                    Ok(_) => progress = true,
                    Err(e) if would_block(&e) => break,
                    Err(e) => return Err(format!("socket: {e}")),
                }
            }
            if !progress {
                return Ok(outcome);
            }
        }
    }
}

fn describe(e: Error) -> String {
    match e {
        Error::Truncated => "the server closed the connection".into(),
        other => other.to_string(),
    }
}

/// One phase: `count` connections, `concurrency` handshaking at once.
struct Phase {
    name: &'static str,
    latencies: Vec<Duration>,
    failures: usize,
    elapsed: Duration,
    /// Connections still open at the end (held).
    open: usize,
    resumed: usize,
    /// Held connections, dropped with the phase.
    _held: Vec<Client>,
}

impl Phase {
    fn run(
        o: &Options,
        name: &'static str,
        count: usize,
        make: impl Fn(usize) -> Result<Connection<'static>, Error>,
    ) -> Result<Phase, String> {
        let mut poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
        let mut events = Events::with_capacity(1024);
        let mut slots: Vec<Option<Client>> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let mut held = Vec::new();
        let mut latencies = Vec::with_capacity(count);
        let (mut started, mut in_flight, mut failures, mut resumed) =
            (0usize, 0usize, 0usize, 0usize);
        let begin = Instant::now();
        let deadline = begin + Duration::from_secs(o.seconds);
        let mut first_error: Option<String> = None;
        while (started < count || in_flight > 0) && Instant::now() < deadline {
            while started < count && in_flight < o.concurrency {
                let conn = make(started).map_err(|e| e.to_string())?;
                started += 1;
                let mut sock = match TcpStream::connect(o.addr) {
                    Ok(s) => s,
                    Err(e) => {
                        failures += 1;
                        first_error.get_or_insert(format!("connect: {e}"));
                        continue;
                    }
                };
                let _ = sock.set_nodelay(true);
                let slot = free.pop().unwrap_or_else(|| {
                    slots.push(None);
                    slots.len() - 1
                });
                poll.registry()
                    .register(
                        &mut sock,
                        Token(slot),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map_err(|e| format!("poll: {e}"))?;
                let buf = |n: usize| vec![0u8; n].into_boxed_slice();
                slots[slot] = Some(Client {
                    sock,
                    conn,
                    bufs: Buffers::new(buf(MAX_RECORD_LEN), buf(4096)),
                    started: Instant::now(),
                    latency: None,
                    handshake_done: false,
                    request_sent: false,
                });
                in_flight += 1;
            }
            match poll.poll(&mut events, Some(Duration::from_millis(100))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            for event in &events {
                let i = event.token().0;
                let Some(Some(c)) = slots.get_mut(i) else {
                    continue;
                };
                let turn = c.turn(o.hold);
                // Counted once, whichever outcome the turn that completed
                // the handshake ended in.
                if let Some(l) = c.latency.take() {
                    latencies.push(l);
                    resumed += usize::from(c.conn.negotiated().is_some_and(|n| n.resumed));
                }
                let finished = match turn {
                    Ok(Outcome::Waiting) => false,
                    Ok(Outcome::Established) => {
                        if o.hold {
                            // Stays open (the tickets still arrive), no
                            // longer in flight.
                            in_flight -= 1;
                            let mut c = slots[i].take().expect("slot");
                            let _ = poll.registry().deregister(&mut c.sock);
                            // Take the tickets that came with the flight.
                            let _ = c.turn(true);
                            held.push(c);
                            free.push(i);
                        }
                        false
                    }
                    Ok(Outcome::Finished) => true,
                    Err(e) => {
                        failures += 1;
                        first_error.get_or_insert(e);
                        if !c.handshake_done {
                            in_flight -= 1;
                            let mut c = slots[i].take().expect("slot");
                            let _ = poll.registry().deregister(&mut c.sock);
                            free.push(i);
                            continue;
                        }
                        true
                    }
                };
                if finished {
                    in_flight -= 1;
                    let mut c = slots[i].take().expect("slot");
                    let _ = poll.registry().deregister(&mut c.sock);
                    free.push(i);
                }
            }
        }
        let elapsed = begin.elapsed();
        failures += in_flight;
        if let Some(e) = first_error {
            eprintln!("{name}: first failure: {e}");
        }
        // Held connections need their tickets read; give the server a
        // moment, then read what came.
        if o.hold {
            std::thread::sleep(Duration::from_millis(200));
            for c in &mut held {
                let _ = c.turn(true);
            }
        }
        Ok(Phase {
            name,
            latencies,
            failures,
            elapsed,
            open: held.len(),
            resumed,
            _held: held,
        })
    }

    fn report(&self, resumption: bool) {
        let mut l = self.latencies.clone();
        l.sort_unstable();
        let pct = |p: usize| {
            l.get((l.len().saturating_sub(1)) * p / 100)
                .copied()
                .unwrap_or_default()
        };
        let rate = l.len() as f64 / self.elapsed.as_secs_f64();
        println!(
            "{}: {} handshakes in {:.2} s: {:.0} per second, latency p50 {:.2} ms, p99 {:.2} ms, {} failed{}{}",
            self.name,
            l.len(),
            self.elapsed.as_secs_f64(),
            rate,
            pct(50).as_secs_f64() * 1e3,
            pct(99).as_secs_f64() * 1e3,
            self.failures,
            if resumption {
                format!(", {} resumed", self.resumed)
            } else {
                String::new()
            },
            if self.open > 0 {
                format!(", {} held open at once", self.open)
            } else {
                String::new()
            }
        );
    }
}
