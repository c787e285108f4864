//! A TLS 1.3 client in the manner of `openssl s_client`: connects, sends
//! what arrives on stdin, prints what the server sends.
//!
//! ```text
//! cargo run --example client -- [options] HOST:PORT
//!   --cafile PEM        trust these CAs (default: the built-in test CA)
//!   --servername NAME   SNI and the name to check (default: HOST)
//!   --alpn a,b          offer these ALPN protocols
//!   --cert PEM --key PEM  client certificate chain and PKCS#8 key
//!   --partial           partial-write mode (one record per write)
//!   --max-frag N        records of at most N bytes, both ways (ours by
//!                       configuration, the server's by record_size_limit)
//!   --keyupdate         send a KeyUpdate (asking for one back) once connected
//!   --sess-out FILE     save the session ticket the server sends
//!   --sess-in FILE      resume with a saved ticket
//!   --early-data FILE   with --sess-in: send FILE as 0-RTT early data
//!                       (what the server declines, or what its ticket's
//!                       allowance leaves out, goes again after the
//!                       handshake, before stdin)
//!   --keylog FILE       append the secrets in SSLKEYLOGFILE format
//!   --tls1_2, --tls1_3  speak only this version (default: both, 1.3 first)
//!                       (default: $SSLKEYLOGFILE if set)
//!   -v                  print what was negotiated (to stderr)
//! ```
//!
//! The event loop is the embedder's side of the engine's contract, in
//! plain std: a non-blocking `TcpStream` polled with a short sleep when
//! nothing moved, and two buffers this program owns. Stdin is read by a
//! helper thread (std has no portable non-blocking stdin); the engine and
//! the socket stay on the main thread. When stdin ends we send close_notify
//! and go on reading until the server closes.

mod common;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use ring::rand::SystemRandom;
use tlspair::handshake::ticket::{NewTicket, ResumptionTicket, TicketSink};
use tlspair::handshake::{CertifiedKey, ClientConfig, KeyLog};
use tlspair::keylog_file::KeyLogFile;
use tlspair::record::MAX_RECORD_LEN;
use tlspair::sign::SigningKey;
use tlspair::stream::DEFAULT_RECV_CAPACITY;
use tlspair::test_credentials as creds;
use tlspair::verify::{
    trust_anchor_from_der, CertificateDer, ServerName, UnixTime, WebPkiServerVerifier,
};
use tlspair::{Buffers, CipherSuite, Connection, Error, RecordConfig, Status, WriteMode};

use common::{alpn_list, hex, unhex, would_block, Args};

const USAGE: &str = "usage: client [--cafile PEM] [--servername NAME] [--alpn a,b] \
[--cert PEM --key PEM] [--partial] [--max-frag N] [--keyupdate] [--sess-out FILE] \
[--sess-in FILE] [--early-data FILE] [--keylog FILE] [--tls1_2 | --tls1_3] [-v] HOST:PORT";

#[derive(Default)]
struct Options {
    /// `--tls1_2` or `--tls1_3`: one version only.
    version: Option<String>,
    addr: String,
    host: String,
    cafile: Option<String>,
    servername: Option<String>,
    alpn: Vec<Vec<u8>>,
    cert: Option<String>,
    key: Option<String>,
    partial: bool,
    max_frag: Option<usize>,
    keyupdate: bool,
    sess_out: Option<String>,
    sess_in: Option<String>,
    early_data: Option<String>,
    keylog: Option<String>,
    verbose: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut args = Args::from_env();
    let mut o = Options::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cafile" => o.cafile = Some(args.value(&arg)?),
            "--servername" => o.servername = Some(args.value(&arg)?),
            "--alpn" => o.alpn = alpn_list(&args.value(&arg)?),
            "--cert" => o.cert = Some(args.value(&arg)?),
            "--key" => o.key = Some(args.value(&arg)?),
            "--partial" => o.partial = true,
            "--max-frag" => o.max_frag = Some(args.number(&arg)?),
            "--keyupdate" => o.keyupdate = true,
            "--sess-out" => o.sess_out = Some(args.value(&arg)?),
            "--sess-in" => o.sess_in = Some(args.value(&arg)?),
            "--early-data" => o.early_data = Some(args.value(&arg)?),
            "--keylog" => o.keylog = Some(args.value(&arg)?),
            "-v" | "--verbose" => o.verbose = true,
            "--tls1_2" | "--tls1_3" => o.version = Some(arg.clone()),
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if o.addr.is_empty() => o.addr = arg,
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let Some((host, port)) = o.addr.rsplit_once(':') else {
        return Err(if o.addr.is_empty() {
            "no HOST:PORT given".into()
        } else {
            format!("{}: expected HOST:PORT", o.addr)
        });
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("{}: bad port", o.addr));
    }
    o.host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if o.cert.is_some() != o.key.is_some() {
        return Err("--cert and --key go together".into());
    }
    if o.early_data.is_some() && o.sess_in.is_none() {
        return Err("--early-data needs --sess-in".into());
    }
    Ok(o)
}

/// A session ticket as saved to and read from `--sess-out` / `--sess-in`:
/// the fields of a [`ResumptionTicket`], one per line. The file holds a
/// resumption secret: whoever reads it can resume the session.
struct SavedTicket {
    suite: CipherSuite,
    psk: Vec<u8>,
    ticket: Vec<u8>,
    lifetime: u32,
    age_add: u32,
    received_at: u64,
    server_name: Option<String>,
    peer_cert_sha256: Option<[u8; 32]>,
    peer_identity: Option<u64>,
    verifier_policy: Option<[u8; 32]>,
    alpn_context: Option<[u8; 32]>,
    client_cert_sha256: Option<[u8; 32]>,
    /// TLS 1.2: the ticket is a session id.
    session_id: bool,
    /// The most 0-RTT data the server takes with it (0: none).
    max_early_data: u32,
}

impl SavedTicket {
    fn save(t: &NewTicket<'_>, now: UnixTime, path: &str) -> io::Result<()> {
        let text = format!(
            "# tlspair session ticket: a resumption secret, keep private\n\
             suite {:04x}\nlifetime {}\nage_add {}\nreceived_at {}\npsk {}\nticket {}\n\
             server_name {}\npeer_cert_sha256 {}\npeer_identity {}\nverifier_policy {}\n\
             alpn_context {}\nclient_cert_sha256 {}\nsession_id {}\nmax_early_data {}\n",
            t.suite.0,
            t.lifetime,
            t.age_add,
            now.as_secs(),
            hex(t.psk),
            hex(t.ticket),
            t.server_name.unwrap_or(""),
            t.peer_cert_sha256.map(|h| hex(&h)).unwrap_or_default(),
            t.peer_identity.map(|i| i.to_string()).unwrap_or_default(),
            t.verifier_policy.map(|h| hex(&h)).unwrap_or_default(),
            t.alpn_context.map(|h| hex(&h)).unwrap_or_default(),
            t.client_cert_sha256.map(|h| hex(&h)).unwrap_or_default(),
            u8::from(t.session_id),
            t.max_early_data,
        );
        std::fs::write(path, text)
    }

    fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .ok_or_else(|| format!("{path}: no {name} line"))
        };
        let bad = |name: &str| format!("{path}: bad {name}");
        Ok(Self {
            suite: CipherSuite(u16::from_str_radix(field("suite")?, 16).map_err(|_| bad("suite"))?),
            psk: unhex(field("psk")?).ok_or_else(|| bad("psk"))?,
            ticket: unhex(field("ticket")?).ok_or_else(|| bad("ticket"))?,
            lifetime: field("lifetime")?.parse().map_err(|_| bad("lifetime"))?,
            age_add: field("age_add")?.parse().map_err(|_| bad("age_add"))?,
            received_at: field("received_at")?
                .parse()
                .map_err(|_| bad("received_at"))?,
            server_name: Some(field("server_name")?.to_owned()).filter(|n| !n.is_empty()),
            peer_cert_sha256: digest(field("peer_cert_sha256")?)
                .ok_or_else(|| bad("peer_cert_sha256"))?,
            // Absent from files saved before identities were kept.
            peer_identity: match field("peer_identity") {
                Ok("") | Err(_) => None,
                Ok(id) => Some(id.parse().map_err(|_| bad("peer_identity"))?),
            },
            // Absent from older files: such a ticket is refused by a
            // verifier that records its policy (a full handshake then).
            verifier_policy: match field("verifier_policy") {
                Ok(h) => digest(h).ok_or_else(|| bad("verifier_policy"))?,
                Err(_) => None,
            },
            // Absent from older files: unknown, so the resumed session
            // reports no identity for the server.
            alpn_context: match field("alpn_context") {
                Ok(h) => digest(h).ok_or_else(|| bad("alpn_context"))?,
                Err(_) => None,
            },
            client_cert_sha256: digest(field("client_cert_sha256")?)
                .ok_or_else(|| bad("client_cert_sha256"))?,
            // Absent from older files: a ticket.
            session_id: field("session_id") == Ok("1"),
            // Absent from older files: no 0-RTT.
            max_early_data: match field("max_early_data") {
                Ok(n) => n.parse().map_err(|_| bad("max_early_data"))?,
                Err(_) => 0,
            },
        })
    }

    fn resumption(&self) -> ResumptionTicket<'_> {
        ResumptionTicket {
            suite: self.suite,
            psk: &self.psk,
            ticket: &self.ticket,
            lifetime: self.lifetime,
            age_add: self.age_add,
            received_at: UnixTime::since_unix_epoch(Duration::from_secs(self.received_at)),
            server_name: self.server_name.as_deref(),
            peer_cert_sha256: self.peer_cert_sha256,
            peer_identity: self.peer_identity,
            verifier_policy: self.verifier_policy,
            alpn_context: self.alpn_context,
            client_cert_sha256: self.client_cert_sha256,
            session_id: self.session_id,
            max_early_data: self.max_early_data,
        }
    }
}

/// An optional SHA-256 in hex: `Some(None)` for an empty field, `None` if
/// it does not parse.
fn digest(h: &str) -> Option<Option<[u8; 32]>> {
    if h.is_empty() {
        return Some(None);
    }
    unhex(h).and_then(|v| v.try_into().ok()).map(Some)
}

/// Saves each ticket the server sends over the previous one.
struct SaveTickets {
    path: String,
    saved: AtomicU32,
}

impl TicketSink for SaveTickets {
    fn store(&self, ticket: &NewTicket<'_>) {
        match SavedTicket::save(ticket, UnixTime::now(), &self.path) {
            Ok(()) => {
                self.saved.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => eprintln!("warning: cannot save the ticket to {}: {e}", self.path),
        }
    }
}

/// Why the run ended badly: the one line to print.
struct Failure(String);

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn main() -> ExitCode {
    common::main("client", USAGE, parse_args(), run)
}

fn run(o: &Options) -> Result<(), Failure> {
    let rng = SystemRandom::new();
    // Everything the engine borrows is built first and outlives it.
    let cas = match &o.cafile {
        Some(path) => common::load_certs(path)?,
        None => vec![CertificateDer::from(creds::CA_CERT)],
    };
    let anchors = cas
        .iter()
        .map(trust_anchor_from_der)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("CA certificate: {e}"))?;
    let verifier = WebPkiServerVerifier::new(&anchors);
    let chain_ders = match &o.cert {
        Some(path) => common::load_certs(path)?,
        None => Vec::new(),
    };
    let chain: Vec<&[u8]> = chain_ders.iter().map(|c| c.as_ref()).collect();
    let client_key = match &o.key {
        Some(path) => Some(
            SigningKey::from_pkcs8(&common::load_key(path)?, &rng)
                .map_err(|e| format!("{path}: {e}"))?,
        ),
        None => None,
    };
    let alpn: Vec<&[u8]> = o.alpn.iter().map(Vec::as_slice).collect();
    let keylog = match &o.keylog {
        Some(path) => KeyLogFile::open(path.as_ref()).map_err(|e| format!("{path}: {e}"))?,
        None => KeyLogFile::from_env(),
    };
    let sink = o.sess_out.as_ref().map(|path| SaveTickets {
        path: path.clone(),
        saved: AtomicU32::new(0),
    });
    let saved = match &o.sess_in {
        Some(path) => Some(SavedTicket::load(path)?),
        None => None,
    };
    let resumption = saved.as_ref().map(SavedTicket::resumption);

    let mut record = RecordConfig::default();
    if o.partial {
        record.write_mode = WriteMode::Partial;
    }
    if let Some(n) = o.max_frag {
        record.max_fragment_len = n;
        record.recv_max_fragment_len = n.max(tlspair::conn::MIN_RECV_FRAGMENT);
    }
    let mut config = ClientConfig::new(&verifier, &rng);
    config.suites = common::suites_for(o.version.as_deref());
    config.record = record;
    config.alpn = &alpn;
    config.key_log = Some(&keylog as &dyn KeyLog);
    config.ticket_sink = sink.as_ref().map(|s| s as &dyn TicketSink);
    config.client_auth = client_key
        .as_ref()
        .map(|key| CertifiedKey::new(&chain, key));
    let name = o.servername.as_deref().unwrap_or(&o.host);
    // Checked here for a clear message; the engine would refuse it only
    // once the server's certificate arrives.
    if ServerName::try_from(name).is_err() {
        return Err(Failure(format!("{name}: not a DNS name or IP address")));
    }
    let now = UnixTime::now();
    let conn = match &resumption {
        Some(ticket) => match Connection::client_resuming(&config, Some(name), now, ticket) {
            // A ticket for another name, client certificate or trust
            // anchors: not ours to offer, so a full handshake.
            Err(tlspair::Error::Misuse(
                e @ (tlspair::Misuse::TicketForAnotherServer
                | tlspair::Misuse::TicketForAnotherClient
                | tlspair::Misuse::TicketForAnotherVerifier),
            )) => {
                eprintln!("saved ticket not offered ({e:?}): full handshake");
                Connection::client(&config, Some(name), now)
            }
            other => other,
        },
        None => Connection::client(&config, Some(name), now),
    }
    .map_err(|e| format!("configuration: {e}"))?;

    let sock = TcpStream::connect(&o.addr).map_err(|e| match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            format!("cannot connect to {}: connection refused", o.addr)
        }
        _ => format!("cannot connect to {}: {e}", o.addr),
    })?;
    sock.set_nonblocking(true)
        .and_then(|()| sock.set_nodelay(true))
        .map_err(|e| format!("socket: {e}"))?;
    let early = match &o.early_data {
        Some(path) => std::fs::read(path).map_err(|e| format!("{path}: {e}"))?,
        None => Vec::new(),
    };
    let mut session = Session::new(o, conn, sock, &alpn);
    session.early = early;
    let result = session.run();
    if let (Some(sink), true) = (&sink, o.verbose) {
        eprintln!(
            "Tickets saved to {}: {}",
            sink.path,
            sink.saved.load(Ordering::Relaxed)
        );
    }
    result
}

/// One connection: the engine, the socket and the buffers this program
/// owns for it.
struct Session<'a> {
    o: &'a Options,
    alpn: &'a [&'a [u8]],
    conn: Connection<'a>,
    sock: TcpStream,
    bufs: Buffers<Box<[u8]>, Box<[u8]>>,
    /// Stdin bytes not yet sealed. A complete-mode write that answered
    /// `WantWrite` is repeated with these bytes, which only grow at the end.
    outbox: Vec<u8>,
    stdin: mpsc::Receiver<Vec<u8>>,
    stdin_open: bool,
    connected: bool,
    /// `--early-data`: the bytes for 0-RTT, and how many were sealed.
    early: Vec<u8>,
    early_sealed: usize,
}

impl<'a> Session<'a> {
    fn new(o: &'a Options, conn: Connection<'a>, sock: TcpStream, alpn: &'a [&'a [u8]]) -> Self {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
        std::thread::spawn(move || {
            let mut stdin = io::stdin().lock();
            let mut buf = vec![0u8; 16 << 10];
            // An empty chunk says stdin has ended.
            while let Ok(n) = stdin.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() || n == 0 {
                    return;
                }
            }
            let _ = tx.send(Vec::new());
        });
        let buf = |n: usize| vec![0u8; n].into_boxed_slice();
        Self {
            o,
            alpn,
            conn,
            sock,
            bufs: Buffers::new(buf(DEFAULT_RECV_CAPACITY), buf(MAX_RECORD_LEN)),
            outbox: Vec::new(),
            stdin: rx,
            stdin_open: true,
            connected: false,
            early: Vec::new(),
            early_sealed: 0,
        }
    }

    /// Seals what it can of `--early-data` as 0-RTT, before the server
    /// answers; true if anything was sealed.
    fn write_early(&mut self) -> Result<bool, Failure> {
        if self.early_sealed == self.early.len() || self.connected {
            return Ok(false);
        }
        match self
            .conn
            .write_early(&mut self.bufs, &self.early[self.early_sealed..])
        {
            Ok(Status::Done(0)) | Err(tlspair::Error::Misuse(tlspair::Misuse::NoEarlyData)) => {
                // The allowance is used up, the server has answered, or
                // the ticket allows none: the rest waits for the handshake.
                self.early.truncate(self.early_sealed);
                Ok(false)
            }
            Ok(Status::Done(n)) => {
                self.early_sealed += n;
                Ok(true)
            }
            // No room: the loop drains the outgoing view.
            Ok(_) => Ok(false),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The event loop: until the server closes, or something fails.
    fn run(mut self) -> Result<(), Failure> {
        let mut stdout = io::stdout().lock();
        let unsent = self.early.clone();
        loop {
            let mut progress = self.receive()?;
            progress |= self.write_early()?;
            if self.conn.is_handshaking() {
                // WantRead / WantWrite: the loop provides both.
                let _ = self
                    .conn
                    .handshake(&mut self.bufs)
                    .map_err(|e| self.fail(e))?;
            }
            if !self.conn.is_handshaking() {
                if !self.connected {
                    self.connected = true;
                    // What the early data did not deliver goes first.
                    let delivered = match self.conn.early_data() {
                        tlspair::EarlyData::Accepted => self.conn.early_data_sent(),
                        _ => 0,
                    };
                    let mut first = unsent.get(delivered..).unwrap_or(&[]).to_vec();
                    first.append(&mut self.outbox);
                    self.outbox = first;
                    self.on_connected();
                }
                match self.read_plaintext(&mut stdout)? {
                    Some(p) => progress |= p,
                    None => return self.close(),
                }
                progress |= self.write_stdin()?;
            }
            progress |= self.send()?;
            if !progress {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Moves what the socket has into the received view.
    fn receive(&mut self) -> Result<bool, Failure> {
        let was_eof = self.bufs.recv.is_eof();
        match self.bufs.recv.read_from(&mut self.sock) {
            Ok(got) => Ok(!got.is_empty() || self.bufs.recv.is_eof() != was_eof),
            Err(e) if would_block(&e) => Ok(false),
            Err(e) => Err(Failure(format!("connection lost: {e}"))),
        }
    }

    /// Sends what the outgoing view holds, as far as the socket takes it.
    fn send(&mut self) -> Result<bool, Failure> {
        let mut progress = false;
        while !self.bufs.send.is_empty() {
            match self.bufs.send.write_to(&mut self.sock) {
                Ok(_) => progress = true,
                Err(e) if would_block(&e) => break,
                Err(e) => return Err(Failure(format!("connection lost: {e}"))),
            }
        }
        Ok(progress)
    }

    /// Prints the plaintext that has arrived. `None` once the server's
    /// close_notify has been read.
    fn read_plaintext(&mut self, out: &mut impl Write) -> Result<Option<bool>, Failure> {
        let mut progress = false;
        loop {
            match self.conn.read_in_place(&mut self.bufs) {
                Ok(Status::Done(plain)) => {
                    let n = plain.len();
                    out.write_all(plain)
                        .map_err(|e| Failure(format!("stdout: {e}")))?;
                    self.conn.consume(&mut self.bufs, n);
                    progress = true;
                }
                Ok(Status::Closed) => {
                    let _ = out.flush();
                    return Ok(None);
                }
                // WantRead, WantWrite: the loop's other turns serve them.
                Ok(_) => break,
                Err(Error::Truncated) if self.conn.close_sent() => {
                    // We had closed; the server dropped the connection
                    // without answering with its own close_notify.
                    let _ = out.flush();
                    if self.o.verbose {
                        eprintln!("Server closed the connection without close_notify");
                    }
                    return Ok(None);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
        out.flush().map_err(|e| Failure(format!("stdout: {e}")))?;
        Ok(Some(progress))
    }

    /// Seals what stdin gave; sends close_notify once stdin has ended and
    /// everything before it is sealed.
    fn write_stdin(&mut self) -> Result<bool, Failure> {
        let mut progress = false;
        while self.stdin_open && self.outbox.len() < (64 << 10) {
            match self.stdin.try_recv() {
                Ok(chunk) if chunk.is_empty() => self.stdin_open = false,
                Ok(chunk) => self.outbox.extend_from_slice(&chunk),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => self.stdin_open = false,
            }
            progress = true;
        }
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
        if !self.stdin_open && self.outbox.is_empty() && !self.conn.close_sent() {
            match self.conn.shutdown(&mut self.bufs) {
                Ok(Status::Done(_)) => progress = true,
                Ok(_) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(progress)
    }

    fn on_connected(&mut self) {
        if self.o.verbose {
            if let Some(n) = self.conn.negotiated() {
                let alpn = common::alpn_name(self.alpn, n.alpn_index);
                for (name, value) in common::describe(n, &alpn) {
                    eprintln!("{name}: {value}");
                }
                if let Some(limit) = n.peer_record_size_limit {
                    eprintln!("Server record size limit: {limit}");
                }
                if let Some(sha) = n.peer_cert_sha256 {
                    eprintln!("Server certificate SHA-256: {}", hex(&sha));
                }
            }
            if self.o.early_data.is_some() {
                eprintln!(
                    "Early data: {:?} ({} bytes sealed as 0-RTT)",
                    self.conn.early_data(),
                    self.conn.early_data_sent()
                );
            }
            eprintln!("---");
        }
        if self.o.keyupdate {
            // Goes out with the next call that has room, before more data.
            self.conn.key_update(true);
            if self.o.verbose {
                eprintln!("KeyUpdate requested (update_requested)");
            }
        }
    }

    /// The server closed: answer with our close_notify and wait until it
    /// has left.
    fn close(mut self) -> Result<(), Failure> {
        if !self.conn.close_sent() {
            let _ = self.conn.shutdown(&mut self.bufs);
        }
        let _ = self.sock.set_nonblocking(false);
        let _ = self.send();
        if self.o.verbose {
            eprintln!("Closed (close_notify)");
        }
        Ok(())
    }

    /// Sends the alert the engine queued, best effort, and words the error.
    fn fail(&mut self, e: Error) -> Failure {
        let _ = self.sock.set_nonblocking(false);
        let _ = self.send();
        let handshaking = !self.connected;
        let name = self.o.servername.as_deref().unwrap_or(&self.o.host);
        Failure(match e {
            Error::Certificate(c) => {
                let hint = match c {
                    tlspair::verify::CertificateError::NotValidForName => {
                        format!(" (checked for {name}; --servername sets another name)")
                    }
                    tlspair::verify::CertificateError::UnknownIssuer => {
                        " (--cafile names the CA to trust)".to_owned()
                    }
                    _ => String::new(),
                };
                format!("server certificate refused: {c}{hint}; sent {}", c.alert())
            }
            Error::AlertReceived(a) if handshaking => {
                format!("handshake failed: the server sent alert {a}")
            }
            Error::AlertReceived(a) => format!("the server sent alert {a}"),
            Error::Truncated if handshaking => {
                "the server closed the connection during the handshake".to_owned()
            }
            Error::Truncated => {
                "the server closed the connection without close_notify: output may be truncated"
                    .to_owned()
            }
            other if handshaking => format!("handshake failed: {other}"),
            other => other.to_string(),
        })
    }
}
