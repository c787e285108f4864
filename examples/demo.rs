//! The main job: a tlspair client and server talking through caller-owned
//! memory.
//!
//! For each TLS 1.3 suite: a full handshake with the built-in test
//! credentials (a test CA and an ECDSA P-256 certificate for localhost),
//! 64 MiB each way through fixed buffers the demo owns with a KeyUpdate in
//! the middle, a clean close, then a second connection resuming with the
//! ticket the first one left and sending its request as 0-RTT early data
//! (the server takes it with `read_early`, its replay guard having seen
//! no such ClientHello). Then the same transfer over TLS 1.2 (its
//! ECDHE_ECDSA suites; TLS 1.2 has no KeyUpdate, and its resumption is
//! not built yet). It reports what was negotiated,
//! throughput, engine state size and the heap allocations the engine made
//! (counted by this program's allocator).
//!
//! Run: `cargo run --release --example demo`

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ring::rand::SystemRandom;
use std::sync::Mutex;

use ring::rand::SecureRandom as _;
use tlspair::handshake::replay::StrikeRegister;
use tlspair::handshake::ticket::{NewTicket, StoredTicket, TicketKey, TicketSink};
use tlspair::handshake::{CertifiedKey, ClientConfig, ServerConfig};
use tlspair::record::MAX_RECORD_LEN;
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::verify::{trust_anchor_from_der, CertificateDer, UnixTime, WebPkiServerVerifier};
use tlspair::wire::ProtocolVersion;
use tlspair::{Buffers, Connection, EarlyData, Shutdown, Status, Suite, ALL_SUITES, TLS12_SUITES};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const TRANSFER: usize = 64 << 20;
const WRITE_SIZE: usize = 16 << 10;

type Bufs = Buffers<Box<[u8]>, Box<[u8]>>;

/// Moves every pending outgoing byte of one side into the other's
/// received view: the demo's whole "network".
fn wire(from: &mut Bufs, to: &mut Bufs) {
    let n = to.recv.fill(from.send.pending());
    from.send.consume(n);
}

/// Streams `TRANSFER` bytes from `tx` to `rx`; returns bytes received and
/// seconds taken.
fn stream(
    tx: &mut Connection,
    txb: &mut Bufs,
    rx: &mut Connection,
    rxb: &mut Bufs,
    pattern: &[u8],
    label: &str,
) -> (usize, f64) {
    // The stream is the bytes 0..=255 repeated: any 16 KiB window of
    // `pattern` is a valid write, and a received slice must equal the
    // window at its stream offset.
    let chunk = &pattern[..WRITE_SIZE];
    let live = std::io::stdout().is_terminal();
    let mut sent = 0;
    let mut received = 0;
    let mut updated = false;
    let started = Instant::now();
    let mut next_report = 0;
    while received < TRANSFER {
        if sent < TRANSFER {
            match tx.write(txb, chunk).expect("write") {
                Status::Done(n) => sent += n,
                Status::WantWrite { .. } => {}
                other => panic!("write: {other:?}"),
            }
        }
        if sent >= TRANSFER / 2
            && !updated
            && tx.negotiated().map(|n| n.version) == Some(ProtocolVersion::TLS1_3)
        {
            // Halfway: new sending keys, and ask the peer for new ones too.
            tx.key_update(true);
            updated = true;
        }
        wire(txb, rxb);
        loop {
            match rx.read_in_place(rxb).expect("read") {
                Status::Done(plain) => {
                    let n = plain.len();
                    assert!(
                        plain[..] == pattern[received % 256..][..n],
                        "corrupted stream"
                    );
                    received += n;
                    rx.consume(rxb, n);
                }
                Status::WantRead => break,
                other => panic!("read: {other:?}"),
            }
        }
        // The receiver's answer to the KeyUpdate flows back.
        wire(rxb, txb);
        if live && received >= next_report {
            print!(
                "\r  {label}: {:>3} / {} MiB",
                received >> 20,
                TRANSFER >> 20
            );
            let _ = std::io::stdout().flush();
            next_report += 4 << 20;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\r  {label}: {} MiB in {:.3} s, {:.2} GB/s",
        TRANSFER >> 20,
        secs,
        TRANSFER as f64 / secs / 1e9
    );
    (received, secs)
}

fn run(
    suite: &'static Suite,
    client_config: &ClientConfig<'_>,
    server_config: &ServerConfig<'_>,
    now: UnixTime,
) {
    let suites = [suite];
    let mut client_config = client_config.clone();
    client_config.suites = &suites;
    let mut client = Connection::client(&client_config, Some("localhost"), now).expect("client");
    let mut server = Connection::server(server_config, now).expect("server");
    let buf = || vec![0u8; MAX_RECORD_LEN].into_boxed_slice();
    let mut cb: Bufs = Buffers::new(buf(), buf());
    let mut sb: Bufs = Buffers::new(buf(), buf());

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut flights = 0;
    while client.is_handshaking() || server.is_handshaking() {
        let _ = client.handshake(&mut cb).expect("client handshake");
        wire(&mut cb, &mut sb);
        let _ = server.handshake(&mut sb).expect("server handshake");
        wire(&mut sb, &mut cb);
        flights += 1;
    }
    let handshake_time = started.elapsed();
    let handshake_allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let n = *client.negotiated().expect("negotiated");
    println!("{suite:?}");
    println!(
        "  handshake: {} / {:?} / {:?} / {:?}, server certificate verified for localhost, {} round trips, {:.2} ms, heap allocations: {}",
        n.version, n.suite, n.group.expect("group"), n.signature_scheme.expect("scheme"), flights, handshake_time.as_secs_f64() * 1e3, handshake_allocations
    );

    // The pattern is allocated before counting starts.
    let pattern: Vec<u8> = (0..WRITE_SIZE + 256).map(|i| i as u8).collect();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let (up, _) = stream(
        &mut client,
        &mut cb,
        &mut server,
        &mut sb,
        &pattern,
        "client -> server",
    );
    let (down, _) = stream(
        &mut server,
        &mut sb,
        &mut client,
        &mut cb,
        &pattern,
        "server -> client",
    );
    // Each side reads what the other sent last: the KeyUpdate replies.
    let _ = client.read(&mut cb, &mut [0u8; 1]).expect("read");
    let _ = server.read(&mut sb, &mut [0u8; 1]).expect("read");
    let (seq_c, seq_s) = (client.sequence_numbers(), server.sequence_numbers());

    // Clean shutdown both ways.
    assert_eq!(
        client.shutdown(&mut cb).expect("shutdown"),
        Status::Done(Shutdown::Sent)
    );
    wire(&mut cb, &mut sb);
    assert_eq!(
        server.read(&mut sb, &mut [0u8; 1]).expect("read"),
        Status::Closed
    );
    assert_eq!(
        server.shutdown(&mut sb).expect("shutdown"),
        Status::Done(Shutdown::Complete)
    );
    wire(&mut sb, &mut cb);
    assert_eq!(
        client.read(&mut cb, &mut [0u8; 1]).expect("read"),
        Status::Closed
    );
    // Counted across both transfers and the close; stdout is line-buffered
    // with its buffer made earlier, so printing adds nothing.
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    if n.version == ProtocolVersion::TLS1_3 {
        println!(
            "  KeyUpdate halfway through each transfer: 4 key changes, sequence numbers (send, receive) client {seq_c:?}, server {seq_s:?} (records under the current keys)"
        );
    } else {
        println!(
            "  no KeyUpdate in TLS 1.2: sequence numbers (send, receive) client {seq_c:?}, server {seq_s:?}"
        );
    }
    println!("  closed cleanly both ways; {up} + {down} bytes checked; heap allocations in transfers and close: {allocations}");
}

fn main() {
    println!("tlspair demo: TLS 1.3 and TLS 1.2 client and server engines, caller-owned buffers, no I/O inside the engine");
    println!(
        "  engine state per connection: {} bytes (size_of::<Connection>()); buffers are the caller's: {} + {} bytes per side here\n",
        std::mem::size_of::<Connection>(),
        MAX_RECORD_LEN,
        MAX_RECORD_LEN
    );
    let rng = SystemRandom::new();
    // Credentials, trust anchors and configurations are built once, before
    // any connection: the engine borrows them.
    let ca = CertificateDer::from(creds::CA_CERT);
    let anchors = [trust_anchor_from_der(&ca).expect("test CA")];
    let verifier = WebPkiServerVerifier::new(&anchors);
    let key = SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, &rng).expect("server key");
    let chain = [creds::SERVER_ECDSA_P256.cert];
    let certs = [CertifiedKey::new(&chain, &key)];
    // Session tickets: the server seals them under a key made here; the
    // client keeps the ones it receives (a bounded store, no allocator).
    let mut ticket_secret = [0u8; 32];
    rng.fill(&mut ticket_secret).expect("rng");
    let ticket_keys = [TicketKey::new(1, &ticket_secret).expect("ticket key")];
    let store = Store::default();
    let guard = StrikeRegister::<[AtomicU64; 1024]>::new();
    let mut client_config = ClientConfig::new(&verifier, &rng);
    client_config.ticket_sink = Some(&store);
    let mut server_config = ServerConfig::new(&certs, &rng);
    server_config.ticket_keys = (&ticket_keys).into();
    // 0-RTT: tickets allow 16 KiB of early data, and a strike register
    // refuses each ClientHello's second use.
    server_config.max_early_data_size = 16 << 10;
    server_config.replay_guard = Some(&guard);
    let now = UnixTime::now();
    for suite in ALL_SUITES {
        run(suite, &client_config, &server_config, now);
        resume(suite, &client_config, &server_config, &store);
    }
    // TLS 1.2: both configurations speak both versions, the client offers
    // only a TLS 1.2 suite, and the server answers with TLS 1.2 (its
    // random marked as TLS 1.3-capable, RFC 8446 §4.1.3).
    server_config.suites = &tlspair::BOTH_VERSIONS_SUITES;
    for suite in TLS12_SUITES
        .iter()
        .filter(|s| s.auth == tlspair::Auth::Ecdsa)
    {
        run(suite, &client_config, &server_config, now);
        println!();
    }
}

/// The client's ticket store: the newest ticket, stamped with our clock.
#[derive(Default)]
struct Store(Mutex<Option<StoredTicket>>);

impl TicketSink for Store {
    fn store(&self, ticket: &NewTicket<'_>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = StoredTicket::new(ticket, UnixTime::now());
        }
    }
}

/// A second connection that resumes with the ticket the first one left,
/// its request in the first flight as 0-RTT data, the response right
/// behind the server's flight: one round trip.
fn resume(
    suite: &'static Suite,
    client_config: &ClientConfig<'_>,
    server_config: &ServerConfig<'_>,
    store: &Store,
) {
    let Some(stored) = store.0.lock().ok().and_then(|mut s| s.take()) else {
        println!("  no ticket received");
        return;
    };
    let ticket = stored.resumption();
    let suites = [suite];
    let mut client_config = client_config.clone();
    client_config.suites = &suites;
    let now = UnixTime::now();
    let mut client = Connection::client_resuming(&client_config, Some("localhost"), now, &ticket)
        .expect("client");
    let mut server = Connection::server(server_config, now).expect("server");
    let buf = || vec![0u8; MAX_RECORD_LEN].into_boxed_slice();
    let mut cb: Bufs = Buffers::new(buf(), buf());
    let mut sb: Bufs = Buffers::new(buf(), buf());
    let request = b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let started = Instant::now();
    // The client's first flight: its ClientHello and the request, sealed
    // under the early traffic key.
    let sealed = match client.write_early(&mut cb, request) {
        Ok(Status::Done(n)) => n,
        other => panic!("write_early: {other:?}"),
    };
    wire(&mut cb, &mut sb);
    // The server's first call is read_early: it answers the ClientHello
    // with its flight and hands out the early data, apart from what
    // follows the handshake.
    let mut early = [0u8; 256];
    let mut got = 0;
    loop {
        match server.read_early(&mut sb, &mut early[got..]) {
            Ok(Status::Done(n)) if n > 0 => got += n,
            // Over, or all that has come: the client's EndOfEarlyData
            // follows our flight.
            Ok(Status::Done(_) | Status::WantRead) => break,
            other => panic!("read_early: {other:?}"),
        }
    }
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let accepted = server.early_data() == EarlyData::Accepted;
    if accepted {
        // The response goes right behind our flight (0.5-RTT data).
        assert_eq!(&early[..got], request);
        let _ = server.write(&mut sb, response).expect("response");
    }
    wire(&mut sb, &mut cb);
    let mut round_trips = 1;
    let _ = client.handshake(&mut cb).expect("client handshake");
    wire(&mut cb, &mut sb);
    if !accepted {
        // Declined: none of it was delivered; the application sends it again.
        assert_eq!(client.early_data_sent(), sealed);
        let _ = client.write(&mut cb, request).expect("request");
        wire(&mut cb, &mut sb);
        got = match server.read(&mut sb, &mut early) {
            Ok(Status::Done(n)) => n,
            other => panic!("read: {other:?}"),
        };
        assert_eq!(&early[..got], request);
        let _ = server.write(&mut sb, response).expect("response");
        wire(&mut sb, &mut cb);
        round_trips += 1;
    }
    let mut answer = [0u8; 256];
    let n = match client.read(&mut cb, &mut answer) {
        Ok(Status::Done(n)) => n,
        other => panic!("read: {other:?}"),
    };
    assert_eq!(&answer[..n], response);
    // The server reads the client's EndOfEarlyData and Finished.
    assert_eq!(server.read_early(&mut sb, &mut early), Ok(Status::Done(0)));
    assert!(!server.is_handshaking());
    let elapsed = started.elapsed();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let n = client.negotiated().expect("negotiated");
    println!(
        "  resumption: resumed = {}, no certificate sent; 0-RTT request of {} bytes {}, response after {} round trip(s), {:.2} ms, heap allocations: {allocations}\n",
        n.resumed,
        request.len(),
        if accepted { "accepted (read before the handshake completed)" } else { "declined and sent again" },
        round_trips,
        elapsed.as_secs_f64() * 1e3
    );
}
