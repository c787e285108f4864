//! A TLS 1.3 server in the manner of `openssl s_server -www`: answers
//! `GET /` with a page describing the connection, or echoes (`--echo`).
//!
//! ```text
//! cargo run --example server -- [options]
//!   --port N            listen on 127.0.0.1:N (default 4433; 0: any free port)
//!   --echo              echo what clients send instead of serving HTTP
//!   --cert PEM --key PEM  a certificate chain and its PKCS#8 key; repeat
//!                       for more chains (the handshake picks one by the
//!                       client's signature schemes). Default: the built-in
//!                       test chains, ECDSA P-256 and RSA-2048, for localhost
//!   --alpn a,b          ALPN protocols we speak, in preference order
//!   --verify-client PEM require a client certificate from these CAs
//!   --tickets N         session tickets per full handshake (default 2; 0: none)
//!   --early-data        take 0-RTT early data (16 KiB per ticket) from
//!                       resumed clients, once per ClientHello; echo
//!                       mode answers it in our first flight (0.5-RTT)
//!   --keylog FILE       append the secrets in SSLKEYLOGFILE format
//!   --tls1_2, --tls1_3  speak only this version (default: both, 1.3 first)
//!   --max-connections N connections served at once (default 10000)
//!   --quiet             no line per connection
//! ```
//!
//! One thread serves every connection from a `mio` event loop, the
//! readiness API Rust event loops are built on: edge-triggered, so each
//! socket is read and written until it would block, and the loop sleeps in
//! `poll` until a socket is ready or a deadline (handshake, idle, linger)
//! is due: no CPU at all when idle. Each connection is an engine and two
//! buffers owned by the loop, in a slab indexed by the `mio` token. A
//! connection that could go on without a new event (it used its turn's
//! budget) is served again before the loop sleeps. Ticket keys are random
//! per run, so resumption works until the server restarts.

mod common;

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use ring::rand::{SecureRandom, SystemRandom};
use tlspair::handshake::replay::StrikeRegister;
use tlspair::handshake::ticket::TicketKey;
use tlspair::handshake::{CertifiedKey, KeyLog, Negotiated, ServerConfig};
use tlspair::keylog_file::KeyLogFile;
use tlspair::record::MAX_RECORD_LEN;
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::verify::{trust_anchor_from_der, UnixTime, WebPkiClientVerifier};
use tlspair::{Buffers, Connection, EarlyData, Error, RecvBuf, Status};

use common::{alpn_list, hex, would_block, Args};

/// The largest ClientHello taken: 64 KiB of extensions and the fields
/// before them.
const MAX_CLIENT_HELLO: usize = 64 * 1024 + 1024;

/// Each connection's received view: a ClientHello of that size being
/// reassembled, plus one whole record.
const RECV_CAPACITY: usize = MAX_CLIENT_HELLO + MAX_RECORD_LEN;

const USAGE: &str = "usage: server [--port N] [--echo] [--cert PEM --key PEM]... \
[--alpn a,b] [--verify-client CAFILE] [--tickets N] [--early-data] [--keylog FILE] \
[--max-connections N] [--quiet] [--tls1_2 | --tls1_3]";

/// Connections served at once by default; more are accepted and closed at
/// once.
const MAX_CONNECTIONS: usize = 10_000;
/// Passes of one connection's loop in one turn, so that one busy client
/// cannot starve the others; it is served again before the loop sleeps.
const TURN_BUDGET: usize = 16;
/// How often deadlines are checked while connections are open.
const SWEEP: Duration = Duration::from_secs(1);
const LISTENER: Token = Token(usize::MAX);
/// Longest HTTP request head we read.
const MAX_REQUEST: usize = 8 << 10;
/// Echo data waiting to be sealed before we stop reading from that client.
const MAX_OUTBOX: usize = 256 << 10;
/// A handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection where nothing moves for this long is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// After our close_notify, how long we wait for the client to close before
/// dropping the socket (closing with unread bytes would send a reset that
/// can destroy the response in flight).
const LINGER: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Options {
    /// `--tls1_2` or `--tls1_3`: one version only.
    version: Option<String>,
    port: u16,
    echo: bool,
    certs: Vec<(String, String)>,
    alpn: Vec<Vec<u8>>,
    verify_client: Option<String>,
    tickets: Option<u8>,
    keylog: Option<String>,
    max_connections: usize,
    quiet: bool,
    early_data: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut args = Args::from_env();
    let mut o = Options {
        port: 4433,
        max_connections: MAX_CONNECTIONS,
        ..Options::default()
    };
    let mut cert = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => o.port = args.number(&arg)?,
            "--echo" => o.echo = true,
            "--cert" => cert = Some(args.value(&arg)?),
            "--key" => {
                let key = args.value(&arg)?;
                let cert = cert.take().ok_or("--key must follow its --cert")?;
                o.certs.push((cert, key));
            }
            "--alpn" => o.alpn = alpn_list(&args.value(&arg)?),
            "--verify-client" => o.verify_client = Some(args.value(&arg)?),
            "--tickets" => o.tickets = Some(args.number(&arg)?),
            "--keylog" => o.keylog = Some(args.value(&arg)?),
            "--max-connections" => o.max_connections = args.number(&arg)?,
            "--quiet" => o.quiet = true,
            "--early-data" => o.early_data = true,
            "--tls1_2" | "--tls1_3" => o.version = Some(arg.clone()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if cert.is_some() {
        return Err("--cert needs a --key after it".into());
    }
    Ok(o)
}

fn main() -> ExitCode {
    common::main("server", USAGE, parse_args(), run)
}

/// A certificate chain and key this program owns. Every chain serves any
/// SNI name (and none): the handshake picks by signature schemes.
struct Chain {
    ders: Vec<Vec<u8>>,
    key: SigningKey,
    /// Where it came from, for the page.
    what: String,
}

fn run(o: &Options) -> Result<(), String> {
    let rng = SystemRandom::new();
    // Everything the engine borrows is built first and outlives the loop.
    let mut chains = Vec::new();
    if o.certs.is_empty() {
        // The built-in test chains; the handshake takes the first whose
        // key can sign with a scheme the client offers.
        for cred in [&creds::SERVER_ECDSA_P256, &creds::SERVER_RSA_2048] {
            chains.push(Chain {
                ders: vec![cred.cert.to_vec()],
                key: SigningKey::from_pkcs8(cred.key, &rng)
                    .map_err(|e| format!("built-in key: {e}"))?,
                what: if cred.cert == creds::SERVER_RSA_2048.cert {
                    "built-in RSA-2048"
                } else {
                    "built-in ECDSA P-256"
                }
                .to_owned(),
            });
        }
    }
    for (cert, key) in &o.certs {
        let ders = common::load_certs(cert)?
            .into_iter()
            .map(|c| c.as_ref().to_vec())
            .collect();
        let key = SigningKey::from_pkcs8(&common::load_key(key)?, &rng)
            .map_err(|e| format!("{key}: {e}"))?;
        chains.push(Chain {
            ders,
            key,
            what: cert.clone(),
        });
    }
    let chain_refs: Vec<Vec<&[u8]>> = chains
        .iter()
        .map(|c| c.ders.iter().map(Vec::as_slice).collect())
        .collect();
    let certified: Vec<CertifiedKey<'_>> = chains
        .iter()
        .zip(&chain_refs)
        .map(|(c, refs)| CertifiedKey::new(refs, &c.key))
        .collect();
    let client_cas = match &o.verify_client {
        Some(path) => common::load_certs(path)?,
        None => Vec::new(),
    };
    let client_anchors = client_cas
        .iter()
        .map(trust_anchor_from_der)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("client CA certificate: {e}"))?;
    let client_verifier = WebPkiClientVerifier::new(&client_anchors);
    let ticket_key = random_ticket_key(&rng)?;
    let alpn: Vec<&[u8]> = o.alpn.iter().map(Vec::as_slice).collect();
    let keylog = match &o.keylog {
        Some(path) => KeyLogFile::open(path.as_ref()).map_err(|e| format!("{path}: {e}"))?,
        None => KeyLogFile::from_env(),
    };

    // 0-RTT: one use per ClientHello. The ticket key is this process's
    // own, so no ticket from before a restart opens here: the register
    // may start empty (with keys that outlive the process it would start
    // with `started_at`, refusing offers for the longest window).
    let guard = StrikeRegister::with_capacity(1 << 16);
    let mut config = ServerConfig::new(&certified, &rng);
    config.suites = common::suites_for(o.version.as_deref());
    // Room for any legal ClientHello (its extension block is at most
    // 64 KiB): the received view below holds it and one record more.
    config.max_handshake_message = MAX_CLIENT_HELLO;
    config.alpn = &alpn;
    config.ticket_keys = (std::slice::from_ref(&ticket_key)).into();
    if let Some(n) = o.tickets {
        config.tickets = n;
    }
    config.key_log = Some(&keylog as &dyn KeyLog);
    if o.verify_client.is_some() {
        config.client_verifier = Some(&client_verifier);
    }
    if o.early_data {
        config.max_early_data_size = 16 << 10;
        config.replay_guard = Some(&guard);
    }

    let addr = SocketAddr::from(([127, 0, 0, 1], o.port));
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("listener: {e}"))?;
    let mut listener = TcpListener::from_std(listener);
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "listening on {addr} ({}; {} chain(s); up to {} connections)",
        if o.echo { "echo" } else { "www" },
        chains.len(),
        o.max_connections
    );
    io::stdout().flush().map_err(|e| e.to_string())?;
    let ctx = Context {
        config: &config,
        chains: &chains,
        alpn: &alpn,
        echo: o.echo,
        quiet: o.quiet,
        early: o.early_data,
    };
    serve(&mut listener, &ctx, o.max_connections)
}

/// A ticket key from the system's randomness: tickets last as long as the
/// process.
fn random_ticket_key(rng: &SystemRandom) -> Result<TicketKey, String> {
    let mut id = [0u8; 4];
    let mut secret = [0u8; 32];
    rng.fill(&mut id)
        .and_then(|()| rng.fill(&mut secret))
        .map_err(|_| "no randomness for the ticket key".to_owned())?;
    TicketKey::new(u32::from_be_bytes(id), &secret).map_err(|e| e.to_string())
}

/// What every connection shares.
struct Context<'c> {
    config: &'c ServerConfig<'c>,
    chains: &'c [Chain],
    alpn: &'c [&'c [u8]],
    echo: bool,
    quiet: bool,
    /// Take 0-RTT data (`--early-data`).
    early: bool,
}

/// The loop: wait for readiness, serve the connections it names (and
/// those that still had work), accept, and check deadlines once a second.
fn serve(listener: &mut TcpListener, ctx: &Context<'_>, max: usize) -> Result<(), String> {
    let mut poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
    poll.registry()
        .register(listener, LISTENER, Interest::READABLE)
        .map_err(|e| format!("poll: {e}"))?;
    let mut events = Events::with_capacity(1024);
    let mut clients: Vec<Option<Client<'_>>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut again: Vec<usize> = Vec::new();
    let mut next_id = 1u64;
    let mut open = 0usize;
    let mut last_sweep = Instant::now();
    loop {
        // Sleep until a socket is ready; with connections open, no longer
        // than the next deadline check; with work left over, not at all.
        let timeout = if !again.is_empty() {
            Some(Duration::ZERO)
        } else if open > 0 {
            Some(SWEEP.saturating_sub(last_sweep.elapsed()))
        } else {
            None
        };
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("poll: {e}")),
        }
        let mut ready: Vec<usize> = std::mem::take(&mut again);
        for event in &events {
            if event.token() == LISTENER {
                accept(
                    listener,
                    &poll,
                    ctx,
                    max,
                    &mut clients,
                    &mut free,
                    &mut next_id,
                    &mut open,
                );
            } else {
                ready.push(event.token().0);
            }
        }
        for i in ready {
            let Some(Some(c)) = clients.get_mut(i) else {
                continue;
            };
            let outcome = c.turn(ctx);
            let end = match outcome {
                Ok(Turn::Wait) => false,
                Ok(Turn::Again) => {
                    again.push(i);
                    false
                }
                Ok(Turn::Done) => {
                    if !ctx.quiet {
                        eprintln!("#{} closed", c.id);
                    }
                    true
                }
                Err(e) => {
                    if !ctx.quiet {
                        eprintln!("#{} {}: {e}", c.id, c.peer);
                    }
                    true
                }
            };
            if end {
                close(&poll, &mut clients, &mut free, i, &mut open);
            }
        }
        again.sort_unstable();
        again.dedup();
        if last_sweep.elapsed() >= SWEEP {
            last_sweep = Instant::now();
            for i in 0..clients.len() {
                let Some(Some(c)) = clients.get_mut(i) else {
                    continue;
                };
                if let Some(why) = c.overdue() {
                    if !ctx.quiet {
                        eprintln!("#{} {}: {why}", c.id, c.peer);
                    }
                    close(&poll, &mut clients, &mut free, i, &mut open);
                }
            }
        }
    }
}

/// Accepts every pending connection (edge-triggered: until it would
/// block), each into a free slot of the slab.
#[allow(clippy::too_many_arguments)]
fn accept<'c>(
    listener: &mut TcpListener,
    poll: &Poll,
    ctx: &Context<'c>,
    max: usize,
    clients: &mut Vec<Option<Client<'c>>>,
    free: &mut Vec<usize>,
    next_id: &mut u64,
    open: &mut usize,
) {
    loop {
        match listener.accept() {
            Ok((mut sock, peer)) => {
                let id = *next_id;
                *next_id += 1;
                if *open >= max {
                    if !ctx.quiet {
                        eprintln!("#{id} {peer}: refused, {max} connections open");
                    }
                    continue;
                }
                let slot = free.pop().unwrap_or_else(|| {
                    clients.push(None);
                    clients.len() - 1
                });
                let registered = poll.registry().register(
                    &mut sock,
                    Token(slot),
                    Interest::READABLE | Interest::WRITABLE,
                );
                match registered
                    .map_err(|e| format!("poll: {e}"))
                    .and_then(|()| Client::new(id, peer, sock, ctx))
                {
                    Ok(c) => {
                        clients[slot] = Some(c);
                        *open += 1;
                    }
                    Err(e) => {
                        eprintln!("#{id} {peer}: {e}");
                        free.push(slot);
                    }
                }
            }
            Err(e) if would_block(&e) => return,
            Err(e) => {
                // Such as running out of file descriptors: keep serving
                // the connections we have.
                eprintln!("accept: {e}");
                return;
            }
        }
    }
}

fn close(
    poll: &Poll,
    clients: &mut [Option<Client<'_>>],
    free: &mut Vec<usize>,
    i: usize,
    open: &mut usize,
) {
    if let Some(mut c) = clients[i].take() {
        let _ = poll.registry().deregister(&mut c.sock);
        free.push(i);
        *open -= 1;
    }
}

/// What a connection's turn ended in.
enum Turn {
    /// Nothing more to do until its socket is ready again.
    Wait,
    /// It used its budget with work left: serve it again soon.
    Again,
    /// Closed cleanly.
    Done,
}

/// Plaintext a client sent: echoed (`echo`), or added to its request head
/// (answered once the handshake is done and the head complete).
fn take(echo: bool, outbox: &mut Vec<u8>, request: &mut Vec<u8>, plain: &[u8]) {
    if echo {
        outbox.extend_from_slice(plain);
    } else {
        let room = MAX_REQUEST - request.len();
        request.extend_from_slice(&plain[..plain.len().min(room)]);
    }
}

/// What one step of a connection did.
struct Step {
    progress: bool,
    done: bool,
}

/// One connection: its socket, its engine and the buffers the loop owns
/// for it.
struct Client<'c> {
    id: u64,
    peer: SocketAddr,
    sock: TcpStream,
    conn: Connection<'c>,
    bufs: Buffers<Box<[u8]>, Box<[u8]>>,
    /// The HTTP request head read so far (www mode).
    request: Vec<u8>,
    /// Plaintext to seal: echoed bytes or the HTTP response. A complete
    /// write that answered `WantWrite` is repeated with these bytes, which
    /// only grow at the end.
    outbox: Vec<u8>,
    /// Close once the outbox is sealed.
    close_when_sent: bool,
    started: Instant,
    last_progress: Instant,
    /// When our close_notify and FIN left.
    closed_at: Option<Instant>,
    /// The handshake completed (kept: a connection that fails later no
    /// longer reports what it negotiated).
    established: bool,
    /// `read_early` has not answered `Done(0)` yet (`--early-data`).
    reading_early: bool,
    /// Its last answer was `WantRead`: no early data waits unread, so a
    /// 0.5-RTT write may go (a write that met unread early data would
    /// fail with `Misuse::EarlyDataUnread`).
    early_drained: bool,
}

impl<'c> Client<'c> {
    fn new(id: u64, peer: SocketAddr, sock: TcpStream, ctx: &Context<'c>) -> Result<Self, String> {
        sock.set_nodelay(true).map_err(|e| format!("socket: {e}"))?;
        let conn = Connection::server(ctx.config, UnixTime::now()).map_err(|e| e.to_string())?;
        let buf = |n: usize| vec![0u8; n].into_boxed_slice();
        let now = Instant::now();
        Ok(Self {
            id,
            peer,
            sock,
            conn,
            bufs: Buffers::new(buf(RECV_CAPACITY), buf(MAX_RECORD_LEN)),
            request: Vec::new(),
            outbox: Vec::new(),
            close_when_sent: false,
            started: now,
            last_progress: now,
            closed_at: None,
            established: false,
            reading_early: ctx.early,
            early_drained: false,
        })
    }

    /// Serves the connection until it would block on both sides (its
    /// socket is edge-triggered: nothing new is announced until then), or
    /// for `TURN_BUDGET` passes.
    fn turn(&mut self, ctx: &Context<'_>) -> Result<Turn, String> {
        for _ in 0..TURN_BUDGET {
            let Step { progress, done } = self.step(ctx)?;
            if done {
                return Ok(Turn::Done);
            }
            if !progress {
                return Ok(Turn::Wait);
            }
        }
        Ok(Turn::Again)
    }

    /// Why the connection should go, at a deadline check.
    fn overdue(&self) -> Option<&'static str> {
        if let Some(at) = self.closed_at {
            return (at.elapsed() > LINGER).then_some("closed (the client did not)");
        }
        if self.conn.is_handshaking() && self.started.elapsed() > HANDSHAKE_TIMEOUT {
            return Some("handshake timed out");
        }
        (self.last_progress.elapsed() > IDLE_TIMEOUT).then_some("idle, dropped")
    }

    /// One pass: receive, drive the engine, send.
    fn step(&mut self, ctx: &Context<'_>) -> Result<Step, String> {
        if let Some(at) = self.closed_at {
            return self.linger(at);
        }
        let mut progress = self.receive()?;
        if self.conn.is_handshaking() && self.reading_early {
            progress |= self.read_early(ctx)?;
        }
        if self.conn.is_handshaking() && !self.reading_early {
            // WantRead / WantWrite: the loop provides both.
            let _ = self
                .conn
                .handshake(&mut self.bufs)
                .map_err(|e| self.fail(e))?;
        }
        if !self.established && self.conn.is_established() {
            self.established = true;
            progress = true;
            self.shrink_received_view();
            if !ctx.quiet {
                self.log_handshake(ctx);
            }
            // A request that came whole as early data is answered now.
            progress |= self.answer_request(ctx);
        }
        if !self.conn.is_handshaking() {
            progress |= self.read_plaintext(ctx)?;
            progress |= self.seal()?;
        } else if ctx.echo && self.early_drained && self.conn.early_data() == EarlyData::Accepted {
            // 0.5-RTT: the echo of early data goes right behind our flight.
            progress |= self.seal()?;
        }
        progress |= self.send()?;
        if self.conn.close_sent() && self.bufs.send.is_empty() {
            // Everything is out: half-close TCP, then wait for the client.
            let _ = self.sock.shutdown(Shutdown::Write);
            if self.conn.peer_closed() || self.bufs.recv.is_eof() {
                return Ok(Step {
                    progress: true,
                    done: true,
                });
            }
            self.closed_at = Some(Instant::now());
        }
        if progress {
            self.last_progress = Instant::now();
        }
        Ok(Step {
            progress,
            done: false,
        })
    }

    /// After the handshake no message needs the room a large ClientHello
    /// did: the received view goes down to one record's size (what is in
    /// it moves along), so an idle connection holds two record-sized
    /// buffers, not a 64 KiB one.
    fn shrink_received_view(&mut self) {
        if self.bufs.recv.capacity() <= MAX_RECORD_LEN || self.bufs.recv.len() > MAX_RECORD_LEN {
            return;
        }
        let placeholder = RecvBuf::new(Box::default());
        let big = std::mem::replace(&mut self.bufs.recv, placeholder);
        self.bufs.recv = match big.move_to(vec![0u8; MAX_RECORD_LEN].into_boxed_slice()) {
            Ok((small, _)) => small,
            Err((big, _)) => big,
        };
    }

    /// Moves what the socket has into the received view.
    fn receive(&mut self) -> Result<bool, String> {
        let was_eof = self.bufs.recv.is_eof();
        match self.bufs.recv.read_from(&mut self.sock) {
            Ok(got) => Ok(!got.is_empty() || self.bufs.recv.is_eof() != was_eof),
            Err(e) if would_block(&e) => Ok(false),
            Err(e) => Err(format!("connection lost: {e}")),
        }
    }

    /// Sends what the outgoing view holds, as far as the socket takes it.
    fn send(&mut self) -> Result<bool, String> {
        let mut progress = false;
        while !self.bufs.send.is_empty() {
            match self.bufs.send.write_to(&mut self.sock) {
                Ok(_) => progress = true,
                Err(e) if would_block(&e) => break,
                Err(e) => return Err(format!("connection lost: {e}")),
            }
        }
        Ok(progress)
    }

    /// Takes what `read_early` hands out before the handshake completes:
    /// the same as plaintext after it (an echo, or the request head).
    fn read_early(&mut self, ctx: &Context<'_>) -> Result<bool, String> {
        // Not bounded by the outbox: early data is at most the 16 KiB a
        // ticket allows, and what waits must be taken before any write.
        let mut progress = false;
        let mut buf = [0u8; 4096];
        self.early_drained = false;
        loop {
            match self.conn.read_early(&mut self.bufs, &mut buf) {
                Ok(Status::Done(0)) => {
                    self.reading_early = false;
                    return Ok(true);
                }
                Ok(Status::Done(n)) => {
                    take(ctx.echo, &mut self.outbox, &mut self.request, &buf[..n]);
                    progress = true;
                }
                Ok(Status::WantRead) => {
                    self.early_drained = true;
                    return Ok(progress);
                }
                // WantWrite, SignaturePending: the loop's other turns.
                Ok(_) => return Ok(progress),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// In www mode, the response once the request head is complete (or
    /// too long); true if one was made.
    fn answer_request(&mut self, ctx: &Context<'_>) -> bool {
        if ctx.echo || self.close_when_sent || !self.established {
            return false;
        }
        if let Some(head) = request_head(&self.request) {
            let response = self.page(ctx, head);
            self.outbox = response;
            self.close_when_sent = true;
            true
        } else if self.request.len() >= MAX_REQUEST {
            self.outbox = response(431, "text/plain", b"request head too long\n");
            self.close_when_sent = true;
            true
        } else {
            false
        }
    }

    /// Takes the plaintext that has arrived: echo it, or collect the
    /// request and answer it once its head is complete.
    fn read_plaintext(&mut self, ctx: &Context<'_>) -> Result<bool, String> {
        let mut progress = false;
        while !self.close_when_sent && self.outbox.len() < MAX_OUTBOX {
            let plain = match self.conn.read_in_place(&mut self.bufs) {
                Ok(Status::Done(plain)) => plain,
                Ok(Status::Closed) => {
                    // The client is done sending: answer with our own
                    // close_notify once what it sent is echoed.
                    self.close_when_sent = true;
                    break;
                }
                // WantRead, WantWrite: the loop's other turns serve them.
                Ok(_) => break,
                Err(e) => return Err(self.fail(e)),
            };
            let n = plain.len();
            take(ctx.echo, &mut self.outbox, &mut self.request, plain);
            self.conn.consume(&mut self.bufs, n);
            progress = true;
            let _ = self.answer_request(ctx);
        }
        Ok(progress)
    }

    /// Seals the outbox, then our close_notify when it is time.
    fn seal(&mut self) -> Result<bool, String> {
        let mut progress = false;
        while !self.outbox.is_empty() {
            match self.conn.write(&mut self.bufs, &self.outbox) {
                Ok(Status::Done(n)) => {
                    let _ = self.outbox.drain(..n);
                    progress = true;
                }
                Ok(_) => break,
                Err(e) => return Err(self.fail(e)),
            }
        }
        if self.close_when_sent && self.outbox.is_empty() && !self.conn.close_sent() {
            match self.conn.shutdown(&mut self.bufs) {
                Ok(Status::Done(_)) => progress = true,
                Ok(_) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(progress)
    }

    /// After our close: read and drop what the client still sends until it
    /// closes too, or `LINGER` has passed. Through the engine, so that an
    /// alert the client sent is reported.
    fn linger(&mut self, since: Instant) -> Result<Step, String> {
        let progress = self.receive()?;
        loop {
            match self.conn.read_in_place(&mut self.bufs) {
                Ok(Status::Done(plain)) => {
                    let n = plain.len();
                    self.conn.consume(&mut self.bufs, n);
                }
                Ok(Status::Closed) => {
                    return Ok(Step {
                        progress: true,
                        done: true,
                    })
                }
                Ok(_) => break,
                // The client closed the socket without its close_notify:
                // fine once ours is out.
                Err(Error::Truncated) => {
                    return Ok(Step {
                        progress: true,
                        done: true,
                    })
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(Step {
            progress,
            done: since.elapsed() > LINGER,
        })
    }

    /// Sends the alert the engine queued (best effort) and words the error.
    fn fail(&mut self, e: Error) -> String {
        let _ = self.send();
        // (A fatal error ends the handshake: whether one was established
        // is in `negotiated`.)
        match e {
            Error::Truncated if !self.established => "closed during the handshake".to_owned(),
            Error::Truncated => "closed without close_notify".to_owned(),
            Error::AlertReceived(a) => format!("client sent alert {a}"),
            other => other.to_string(),
        }
    }

    fn log_handshake(&self, ctx: &Context<'_>) {
        let Some(n) = self.conn.negotiated() else {
            return;
        };
        let alpn = common::alpn_name(ctx.alpn, n.alpn_index);
        let fields: Vec<String> = common::describe(n, &alpn)
            .into_iter()
            .map(|(name, v)| format!("{name} {v}"))
            .collect();
        eprintln!(
            "#{} {}: {}, SNI {}",
            self.id,
            self.peer,
            fields.join(", "),
            sni(n)
        );
    }

    /// The page for a request head.
    fn page(&self, ctx: &Context<'_>, head: &[u8]) -> Vec<u8> {
        let request_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
        if !request_line.starts_with(b"GET ") {
            return response(405, "text/plain", b"only GET is served\n");
        }
        let Some(n) = self.conn.negotiated() else {
            return response(500, "text/plain", b"no session\n");
        };
        let alpn = common::alpn_name(ctx.alpn, n.alpn_index);
        let mut rows = common::describe(n, &alpn);
        rows.push(("SNI", sni(n)));
        rows.push(("Certificate", chain(ctx, n)));
        rows.push((
            "Client certificate",
            n.peer_cert_sha256
                .map_or("none".into(), |h| format!("SHA-256 {}", hex(&h))),
        ));
        if let Some(limit) = n.peer_record_size_limit {
            rows.push(("Client record size limit", limit.to_string()));
        }
        rows.push(("Connection", format!("#{} from {}", self.id, self.peer)));
        let mut html = String::from(
            "<!DOCTYPE html>\n<html><head><title>tlspair</title></head><body>\n\
             <h1>tlspair</h1>\n<p>TLS 1.3 and 1.2 by tlspair's engine, served from a \
             single-threaded event loop.</p>\n<table>\n",
        );
        for (name, value) in rows {
            html.push_str(&format!(
                "<tr><th align=\"left\">{name}</th><td>{}</td></tr>\n",
                escape(&value)
            ));
        }
        html.push_str(&format!(
            "</table>\n<h2>Your request</h2>\n<pre>{}</pre>\n</body></html>\n",
            escape(&String::from_utf8_lossy(head))
        ));
        response(200, "text/html; charset=utf-8", html.as_bytes())
    }
}

/// The host name the client sent as SNI.
fn sni(n: &Negotiated) -> String {
    n.server_name.map_or_else(
        || "none (or a name longer than the engine keeps)".to_owned(),
        |name| name.as_str().to_owned(),
    )
}

/// The chain the handshake chose.
fn chain(ctx: &Context<'_>, n: &Negotiated) -> String {
    match n.cert_index.and_then(|i| ctx.chains.get(usize::from(i))) {
        Some(c) => c.what.clone(),
        None if n.resumed => "none (resumed)".to_owned(),
        None => "none".to_owned(),
    }
}

/// The request head (up to the blank line), once complete.
fn request_head(buf: &[u8]) -> Option<&[u8]> {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))?;
    buf.get(..end)
}

/// An HTTP/1.0 response that closes the connection.
fn response(code: u16, content_type: &str, body: &[u8]) -> Vec<u8> {
    let reason = match code {
        200 => "OK",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    };
    let mut out = format!(
        "HTTP/1.0 {code} {reason}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
