//! Writes the seed corpora of every target to fuzz/seeds/TARGET/ (or under
//! the directory given as the first argument):
//!
//! ```text
//! cd fuzz && cargo run --release --example make_seeds
//! ```
//!
//! - `deframe`: raw seeds carry records a client `Connection` sealed with
//!   the fixed secrets, so the server opens them; sealed seeds carry record
//!   descriptions that reach content types and alerts. Each starts from a
//!   different plan so chunking, read sizes and a full send buffer are all
//!   covered from the first run.
//! - `server`, `client`: the bytes each side sent in real in-memory
//!   sessions between a deterministic client and server (see
//!   `tlspair_fuzz::fixtures`), one per configuration: full handshake,
//!   client certificate required / optional / absent, ALPN, resumption,
//!   HelloRetryRequest, a small record limit; then data both ways, a
//!   KeyUpdate that asks for one back, and close_notify both ways. The
//!   fuzzed engine, built the same way, gets through the whole session.
//! - the parser targets (`client_hello`, ..., `codec`; see
//!   `tlspair_fuzz::messages::PARSERS`): every handshake message of those
//!   sessions (the encrypted ones opened with the secrets the key log hook
//!   hands out), each in its parser's directory, plus record headers,
//!   alerts and vectors.
//! - `session`: fixed pseudo-random bytes, which `arbitrary` turns into
//!   sessions of several shapes, and the longer ones again as TLS 1.2
//!   sessions (whose KeyUpdate and RequestClientAuth ops renegotiate).
//!
//! Everything is deterministic: running this again writes the same files.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tlspair::handshake::messages::{split_message, ClientHello, HANDSHAKE_HEADER_LEN};
use tlspair::handshake::KeyLog;
use tlspair::record::protect::RecordKey;
use tlspair::record::{Header, HEADER_LEN};
use tlspair::wire::HandshakeType;
use tlspair::{Buffers, Connection, ContentType, RecordConfig, Status, Suite};
use tlspair_fuzz::engine::EnginePlan;
use tlspair_fuzz::fixtures::{self, Flags};
use tlspair_fuzz::messages::Parser;
use tlspair_fuzz::{description, Plan, RAW};

const APPLICATION_DATA: u8 = 23;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const KEY_UPDATE: u8 = 24;
const CLIENT_HELLO: u8 = 1;

fn main() -> std::io::Result<()> {
    let root = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds"),
        PathBuf::from,
    );
    deframe_seeds(&root.join("deframe"))?;
    let sessions = engine_seeds(&root.join("server"), &root.join("client"))?;
    hybrid_seeds(&root.join("server_hybrid"), &root.join("client_hybrid"))?;
    let tls12 = tls12_seeds(&root.join("server_tls12"), &root.join("client_tls12"))?;
    tls12_message_seeds(&root, &tls12)?;
    message_seeds(&root, &sessions)?;
    session_seeds(&root.join("session"))?;
    Ok(())
}

fn deframe_seeds(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;

    let full = Plan {
        send_extra: 255,
        recv_limit: u16::MAX,
        ..Plan::default()
    };

    // Three writes and a close_notify, fed 100 bytes at a time.
    let plan = Plan {
        flags: 0,
        chunk: 99,
        dst: 8,
        ..full
    };
    let records = sealed_by_client(&plan, &[b"hello", &[0x5a; 300], b"!"], true);
    write(dir, "raw-aes128-close", plan, &records)?;

    // A good record, then the same record again: its sequence number is
    // stale, so it fails as bad_record_mac. The pre-write leaves 10 bytes
    // free, too few for the alert, which waits for a drain.
    let plan = Plan {
        flags: 1 | Plan::IN_PLACE_FIRST,
        chunk: 6,
        send_extra: 60,
        prewrite: 50,
        dst: 2,
        ..full
    };
    let mut records = sealed_by_client(&plan, &[&[0x33; 40]], false);
    records.extend_from_within(..);
    write(dir, "raw-aes256-replay", plan, &records)?;

    // Data with padding, an empty record, user_canceled, close_notify, and
    // data after it that must be ignored; fed a byte at a time.
    let plan = Plan {
        flags: 2 | Plan::SEALED | Plan::IN_PLACE_FIRST,
        chunk: 0,
        dst: 3,
        recv_limit: 512,
        ..full
    };
    let body = [
        description(APPLICATION_DATA, 10, b"abc"),
        description(APPLICATION_DATA, 0, b""),
        description(ALERT, 0, &[1, 90]),
        description(APPLICATION_DATA, 0, &[0x77; 200]),
        description(ALERT, 0, &[1, 0]),
        description(APPLICATION_DATA, 0, b"ignored"),
    ]
    .concat();
    write(dir, "sealed-chacha-close", plan, &body)?;

    // Data, then a ClientHello after the handshake, which is refused with
    // unexpected_message before the stray header fragment behind it counts.
    let plan = Plan {
        flags: Plan::SEALED,
        chunk: 30,
        dst: 1,
        ..full
    };
    let body = [
        description(APPLICATION_DATA, 3, &[0x42; 64]),
        description(HANDSHAKE, 0, &[CLIENT_HELLO, 0, 0, 1, 0]),
        description(RAW, 0, &[23, 3, 3]),
    ]
    .concat();
    write(dir, "sealed-aes128-handshake", plan, &body)?;

    // Records that deliver nothing: 32 in a row are accepted, data resets
    // the count, and the 33rd of the next run is refused.
    let plan = Plan {
        flags: 1 | Plan::SEALED,
        chunk: 1000,
        dst: 16,
        ..full
    };
    let empty = description(APPLICATION_DATA, 0, b"");
    let user_canceled = description(ALERT, 0, &[1, 90]);
    let mut body = empty.repeat(31);
    body.extend_from_slice(&user_canceled);
    body.extend_from_slice(&description(APPLICATION_DATA, 0, b"x"));
    body.extend_from_slice(&user_canceled.repeat(3));
    body.extend_from_slice(&empty.repeat(30));
    write(dir, "sealed-aes256-empty-flood", plan, &body)?;

    // KeyUpdates: one requesting a reply, which the server seals into its
    // send buffer, then one split across two records; data between them
    // opens only under the right key generation.
    let plan = Plan {
        flags: Plan::SEALED,
        chunk: 40,
        dst: 4,
        ..full
    };
    let body = [
        description(APPLICATION_DATA, 0, b"before"),
        description(HANDSHAKE, 0, &[KEY_UPDATE, 0, 0, 1, 1]),
        description(APPLICATION_DATA, 5, b"between"),
        description(HANDSHAKE, 0, &[KEY_UPDATE, 0, 0]),
        description(HANDSHAKE, 0, &[1, 0]),
        description(APPLICATION_DATA, 0, b"after"),
        description(ALERT, 0, &[1, 0]),
    ]
    .concat();
    write(dir, "sealed-aes128-key-update", plan, &body)?;
    Ok(())
}

/// The records the client connection of a raw `plan` seals for `writes`,
/// with its close_notify after them if `close`.
fn sealed_by_client(plan: &Plan, writes: &[&[u8]], close: bool) -> Vec<u8> {
    let mut client = Connection::from_traffic_secrets(
        plan.suite(),
        plan.client_secret(),
        plan.server_secret(),
        RecordConfig::default(),
    )
    .expect("valid keys and config");
    let mut bufs = Buffers::new(vec![0; 64], vec![0; 1 << 16]);
    for data in writes {
        let status = client.write(&mut bufs, data);
        assert_eq!(status, Ok(Status::Done(data.len())));
    }
    if close {
        assert!(client.shutdown(&mut bufs).is_ok());
    }
    bufs.send.pending().to_vec()
}

fn write(dir: &std::path::Path, name: &str, plan: Plan, body: &[u8]) -> std::io::Result<()> {
    let input = [&plan.to_bytes()[..], body].concat();
    std::fs::write(dir.join(name), &input)?;
    println!("{name}: {} bytes", input.len());
    Ok(())
}

/// Secrets handed out by the key log hook, by label.
#[derive(Default)]
struct Secrets(Mutex<Vec<(String, Vec<u8>)>>);

impl KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8; 32], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((label.to_owned(), secret.to_vec()));
    }
}

impl Secrets {
    fn get(&self, label: &str) -> Option<Vec<u8>> {
        let all = self.0.lock().unwrap();
        all.iter()
            .rev()
            .find(|(l, _)| l == label)
            .map(|(_, s)| s.clone())
    }
}

/// What one recorded session left: each side's bytes, the secrets, the
/// suite.
struct Recorded {
    name: &'static str,
    client_bytes: Vec<u8>,
    server_bytes: Vec<u8>,
    secrets: Secrets,
    suite: &'static Suite,
}

type Bufs = Buffers<Vec<u8>, Vec<u8>>;

/// Moves everything `from` has sent to `to`, appending it to `log`.
fn pass(from: &mut Bufs, to: &mut Bufs, log: &mut Vec<u8>) {
    let pending = from.send.pending();
    let n = to.recv.fill(pending);
    log.extend_from_slice(&pending[..n]);
    from.send.consume(n);
}

fn read_all(conn: &mut Connection<'_>, bufs: &mut Bufs) -> (Vec<u8>, Status<usize>) {
    let mut got = Vec::new();
    let mut dst = [0u8; 4096];
    loop {
        match conn
            .read(bufs, &mut dst)
            .expect("read in a recorded session")
        {
            Status::Done(n) => got.extend_from_slice(&dst[..n]),
            other => return (got, other),
        }
    }
}

fn write_all(conn: &mut Connection<'_>, bufs: &mut Bufs, data: &[u8]) {
    let status = conn.write(bufs, data).expect("write in a recorded session");
    assert_eq!(status, Status::Done(data.len()));
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const RESPONSE_LEN: usize = 1500;
const UPDATE_REQUEST: &[u8] = b"after the update";
const UPDATE_RESPONSE: &[u8] = b"updated too";

/// A whole session between the client and the server `plan` builds:
/// handshake, a request and a response, a KeyUpdate that asks for one
/// back, and close_notify both ways.
fn record(name: &'static str, plan: &EnginePlan) -> Recorded {
    record_with(name, plan, 0)
}

/// A session with `extra` flags beyond the plan's ([`Flags::HYBRID`]).
fn record_with(name: &'static str, plan: &EnginePlan, extra: u8) -> Recorded {
    let flags = Flags(plan.config_flags().0 | extra);
    let secrets = Secrets::default();
    let mut cc = fixtures::client_config(flags, plan.record());
    cc.key_log = Some(&secrets);
    let sc = fixtures::server_config(flags, plan.record());
    let mut c = fixtures::client(&cc, flags);
    let mut s = fixtures::server(&sc);
    c.keep_tls12_transcript(vec![0u8; fixtures::TRANSCRIPT_LEN]);
    s.keep_tls12_transcript(vec![0u8; fixtures::TRANSCRIPT_LEN]);
    let big = || Buffers::new(vec![0; fixtures::HANDSHAKE_RECV], vec![0; 1 << 16]);
    let (mut cb, mut sb) = (big(), big());
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    while c.is_handshaking() || s.is_handshaking() {
        let _ = c.handshake(&mut cb).expect("client handshake");
        pass(&mut cb, &mut sb, &mut c2s);
        let _ = s.handshake(&mut sb).expect("server handshake");
        pass(&mut sb, &mut cb, &mut s2c);
    }
    write_all(&mut c, &mut cb, REQUEST);
    pass(&mut cb, &mut sb, &mut c2s);
    assert_eq!(read_all(&mut s, &mut sb).0, REQUEST);
    let response: Vec<u8> = (0..RESPONSE_LEN).map(|i| (i % 251) as u8).collect();
    write_all(&mut s, &mut sb, &response);
    pass(&mut sb, &mut cb, &mut s2c);
    assert_eq!(read_all(&mut c, &mut cb).0, response);

    c.key_update(true);
    write_all(&mut c, &mut cb, UPDATE_REQUEST);
    pass(&mut cb, &mut sb, &mut c2s);
    assert_eq!(read_all(&mut s, &mut sb).0, UPDATE_REQUEST);
    write_all(&mut s, &mut sb, UPDATE_RESPONSE);
    pass(&mut sb, &mut cb, &mut s2c);
    assert_eq!(read_all(&mut c, &mut cb).0, UPDATE_RESPONSE);

    assert!(c.shutdown(&mut cb).is_ok());
    pass(&mut cb, &mut sb, &mut c2s);
    assert_eq!(read_all(&mut s, &mut sb).1, Status::Closed);
    assert!(s.shutdown(&mut sb).is_ok());
    pass(&mut sb, &mut cb, &mut s2c);
    assert_eq!(read_all(&mut c, &mut cb).1, Status::Closed);

    let suite = c.suite().expect("keys");
    // The connections borrow the key log (and a connection's drop looks
    // at its configuration): end them before the log moves.
    drop((c, s));
    drop(cc);
    Recorded {
        name,
        client_bytes: c2s,
        server_bytes: s2c,
        secrets,
        suite,
    }
}

/// One recorded session per configuration, written as `server` seeds (the
/// client's bytes) and `client` seeds (the server's bytes), each with its
/// own way of driving and chunking.
fn engine_seeds(server_dir: &Path, client_dir: &Path) -> std::io::Result<Vec<Recorded>> {
    std::fs::create_dir_all(server_dir)?;
    std::fs::create_dir_all(client_dir)?;
    let base = EnginePlan {
        flags: 0,
        chunks: [255, 255, 255, 255],
        send: 255,
        dst: 64,
        recv_limit: u16::MAX,
        recv_extra: 0,
    };
    let cases = [
        ("full", 0, [255, 255, 255, 255], 255),
        (
            "client-auth",
            Flags::CLIENT_AUTH | EnginePlan::HANDSHAKE_CALLS,
            [40, 3, 255, 7],
            200,
        ),
        (
            "anonymous-client",
            Flags::ANONYMOUS_OK | EnginePlan::IN_PLACE_FIRST,
            [10, 20, 30, 40],
            128,
        ),
        (
            "optional-client-auth",
            Flags::CLIENT_AUTH | Flags::ANONYMOUS_OK | EnginePlan::EAGER_DRAIN,
            [2, 200, 2, 200],
            100,
        ),
        (
            "alpn",
            Flags::ALPN | EnginePlan::HANDSHAKE_CALLS,
            [0, 1, 2, 3],
            64,
        ),
        ("resumed", Flags::RESUME, [255, 255, 255, 255], 255),
        (
            "retry",
            Flags::RETRY | EnginePlan::IN_PLACE_FIRST | EnginePlan::EAGER_DRAIN,
            [17, 255, 5, 90],
            150,
        ),
    ];
    let mut sessions = Vec::new();
    for (name, flags, chunks, send) in cases {
        let plan = EnginePlan {
            flags,
            chunks,
            send,
            ..base
        };
        let recorded = record(name, &plan);
        write_engine(server_dir, name, &plan, &recorded.client_bytes)?;
        write_engine(client_dir, name, &plan, &recorded.server_bytes)?;
        sessions.push(recorded);
    }
    // A 512-byte receive limit, advertised both ways: every protected
    // record after the ServerHello is cut to fit it.
    let plan = EnginePlan {
        flags: Flags::ALPN,
        recv_limit: 512,
        dst: 5,
        ..base
    };
    let recorded = record("small-limit", &plan);
    write_engine(server_dir, "small-limit", &plan, &recorded.client_bytes)?;
    write_engine(client_dir, "small-limit", &plan, &recorded.server_bytes)?;
    sessions.push(recorded);
    Ok(sessions)
}

/// Sessions with X25519MLKEM768 first on both sides, for the `*_hybrid`
/// targets: the hybrid at once, and (with `RETRY`) after the server asked
/// for it.
fn hybrid_seeds(server_dir: &Path, client_dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(server_dir)?;
    std::fs::create_dir_all(client_dir)?;
    let base = EnginePlan {
        flags: 0,
        chunks: [255, 255, 255, 255],
        send: 255,
        dst: 64,
        recv_limit: u16::MAX,
        recv_extra: 0,
    };
    let cases = [
        ("hybrid", 0, [255, 255, 255, 255]),
        (
            "hybrid-retry",
            Flags::RETRY | EnginePlan::EAGER_DRAIN,
            [17, 255, 5, 90],
        ),
        (
            "hybrid-client-auth",
            Flags::CLIENT_AUTH | EnginePlan::HANDSHAKE_CALLS,
            [40, 3, 255, 7],
        ),
    ];
    for (name, flags, chunks) in cases {
        let plan = EnginePlan {
            flags,
            chunks,
            ..base
        };
        let recorded = record_with(name, &plan, Flags::HYBRID);
        write_engine(server_dir, name, &plan, &recorded.client_bytes)?;
        write_engine(client_dir, name, &plan, &recorded.server_bytes)?;
    }
    Ok(())
}

/// TLS 1.2 sessions for the `*_tls12` targets: a full handshake, with
/// ALPN, with a small record limit and eager draining, with a client
/// certificate required and sent, and asked for and answered with none.
fn tls12_seeds(server_dir: &Path, client_dir: &Path) -> std::io::Result<Vec<Recorded>> {
    std::fs::create_dir_all(server_dir)?;
    std::fs::create_dir_all(client_dir)?;
    let base = EnginePlan {
        flags: 0,
        chunks: [255, 255, 255, 255],
        send: 255,
        dst: 64,
        recv_limit: u16::MAX,
        recv_extra: 0,
    };
    let mut sessions = Vec::new();
    let cases = [
        ("tls12", 0, [255, 255, 255, 255], u16::MAX),
        (
            "tls12-alpn",
            Flags::ALPN | EnginePlan::HANDSHAKE_CALLS,
            [40, 3, 255, 7],
            u16::MAX,
        ),
        (
            "tls12-small-limit",
            EnginePlan::EAGER_DRAIN,
            [17, 255, 5, 90],
            512,
        ),
        (
            "tls12-client-auth",
            Flags::CLIENT_AUTH,
            [255, 255, 255, 255],
            u16::MAX,
        ),
        (
            "tls12-anonymous-ok",
            Flags::ANONYMOUS_OK | EnginePlan::HANDSHAKE_CALLS,
            [60, 255, 9, 255],
            u16::MAX,
        ),
    ];
    for (name, flags, chunks, recv_limit) in cases {
        let plan = EnginePlan {
            flags,
            chunks,
            recv_limit,
            ..base
        };
        let recorded = record_with(name, &plan, Flags::TLS12);
        write_engine(server_dir, name, &plan, &recorded.client_bytes)?;
        write_engine(client_dir, name, &plan, &recorded.server_bytes)?;
        sessions.push(recorded);
    }
    Ok(sessions)
}

/// The TLS 1.2 messages of the recorded TLS 1.2 sessions, each in its
/// TLS 1.2 parser's seed directory: those in the clear, before each
/// side's ChangeCipherSpec (its Finished is sealed).
fn tls12_message_seeds(root: &Path, sessions: &[Recorded]) -> std::io::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for rec in sessions {
        for (side, wire) in [("client", &rec.client_bytes), ("server", &rec.server_bytes)] {
            let mut handshake = Vec::new();
            let mut rest = &wire[..];
            while let Some(h) = Header::parse(rest) {
                let total = HEADER_LEN + h.len;
                if h.content_type == ContentType::CHANGE_CIPHER_SPEC {
                    break;
                }
                if h.content_type == ContentType::HANDSHAKE {
                    handshake.extend_from_slice(&rest[HEADER_LEN..total]);
                }
                rest = &rest[total..];
            }
            let mut at = &handshake[..];
            let mut i = 0;
            while let Some((ty, _, total)) = split_message(at) {
                let body = &at[HANDSHAKE_HEADER_LEN..total];
                let parser = match ty {
                    HandshakeType::SERVER_KEY_EXCHANGE => Some(Parser::Tls12ServerKeyExchange),
                    HandshakeType::CLIENT_KEY_EXCHANGE => Some(Parser::Tls12ClientKeyExchange),
                    HandshakeType::CERTIFICATE_REQUEST => Some(Parser::Tls12CertificateRequest),
                    HandshakeType::NEW_SESSION_TICKET => Some(Parser::Tls12NewSessionTicket),
                    HandshakeType::CERTIFICATE => Some(Parser::Tls12Certificate),
                    _ => None,
                };
                if let Some(parser) = parser.filter(|p| seen.insert((*p, body.to_vec()))) {
                    let dir = root.join(parser.name());
                    std::fs::create_dir_all(&dir)?;
                    let name = format!("{}-{side}-{i}", rec.name);
                    std::fs::write(dir.join(&name), body)?;
                    println!("{}/{name}: {} bytes", parser.name(), body.len());
                }
                at = &at[total..];
                i += 1;
            }
        }
    }
    Ok(())
}

fn write_engine(dir: &Path, name: &str, plan: &EnginePlan, body: &[u8]) -> std::io::Result<()> {
    let input = [&plan.to_bytes()[..], body].concat();
    // The fuzzed engine must get through the whole recorded session.
    let target = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let server = target.starts_with("server");
    let outcome = match (server, target.rsplit('_').next().unwrap_or("")) {
        (true, "hybrid") => tlspair_fuzz::engine::run_server_hybrid(&input),
        (false, "hybrid") => tlspair_fuzz::engine::run_client_hybrid(&input),
        (true, "tls12") => tlspair_fuzz::engine::run_server_tls12(&input),
        (false, "tls12") => tlspair_fuzz::engine::run_client_tls12(&input),
        (true, _) => tlspair_fuzz::engine::run_server(&input),
        (false, _) => tlspair_fuzz::engine::run_client(&input),
    };
    let outcome = outcome.expect("a plan");
    let expected = if server {
        REQUEST.len() + UPDATE_REQUEST.len()
    } else {
        RESPONSE_LEN + UPDATE_RESPONSE.len()
    };
    assert!(
        outcome.handshake_done && outcome.closed && outcome.error.is_none(),
        "{name}: seed does not replay: {outcome:?}"
    );
    assert_eq!(
        outcome.delivered, expected,
        "{name}: plaintext of the replay"
    );
    std::fs::write(dir.join(name), &input)?;
    println!("{}/{name}: {} bytes", dir.display(), input.len());
    Ok(())
}

/// The handshake messages in `wire` (one side's bytes): plaintext
/// handshake records as they are, protected ones opened with the side's
/// handshake key and then its first application key; stops at the first
/// record neither opens (after a KeyUpdate).
fn messages_of(wire: &[u8], suite: &'static Suite, secrets: [Option<Vec<u8>>; 2]) -> Vec<Vec<u8>> {
    let mut keys: Vec<RecordKey> = secrets
        .iter()
        .flatten()
        .map(|s| RecordKey::new(suite, s).expect("secret fits"))
        .collect();
    let mut handshake = Vec::new();
    let mut rest = wire;
    while let Some(h) = Header::parse(rest) {
        let total = HEADER_LEN + h.len;
        let mut record = rest[..total].to_vec();
        rest = &rest[total..];
        if h.content_type == ContentType::HANDSHAKE {
            handshake.extend_from_slice(&record[HEADER_LEN..]);
        } else if h.content_type == ContentType::APPLICATION_DATA {
            let opened = loop {
                let Some(key) = keys.first_mut() else {
                    break None;
                };
                let mut copy = record.clone();
                if let Ok((ty, len)) = key.open(&mut copy) {
                    record = copy;
                    break Some((ty, len));
                }
                keys.remove(0);
            };
            match opened {
                Some((ContentType::HANDSHAKE, len)) => {
                    handshake.extend_from_slice(&record[HEADER_LEN..][..len])
                }
                Some(_) => {}
                None => break,
            }
        }
    }
    let mut out = Vec::new();
    let mut at = &handshake[..];
    while let Some((_, _, total)) = split_message(at) {
        out.push(at[..total].to_vec());
        at = &at[total..];
    }
    out
}

/// Every distinct message of the recorded sessions in its parser's seed
/// directory, and hand-made inputs for the other parsers.
fn message_seeds(root: &Path, sessions: &[Recorded]) -> std::io::Result<()> {
    let mut seen = std::collections::HashSet::new();
    let mut put = |name: String, parser: Parser, body: &[u8]| -> std::io::Result<()> {
        if seen.insert((parser, body.to_vec())) {
            let dir = root.join(parser.name());
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(&name), body)?;
            println!("{}/{name}: {} bytes", parser.name(), body.len());
        }
        Ok(())
    };
    for rec in sessions {
        let sides = [
            (
                "client",
                &rec.client_bytes,
                ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"],
            ),
            (
                "server",
                &rec.server_bytes,
                ["SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"],
            ),
        ];
        for (side, wire, labels) in sides {
            let secrets = labels.map(|l| rec.secrets.get(l));
            for (i, message) in messages_of(wire, rec.suite, secrets).iter().enumerate() {
                let ty = HandshakeType(message[0]);
                let body = &message[HANDSHAKE_HEADER_LEN..];
                let parser = match ty {
                    HandshakeType::CLIENT_HELLO => Parser::ClientHello,
                    HandshakeType::SERVER_HELLO => Parser::ServerHello,
                    HandshakeType::ENCRYPTED_EXTENSIONS => Parser::EncryptedExtensions,
                    HandshakeType::CERTIFICATE => Parser::Certificate,
                    HandshakeType::CERTIFICATE_VERIFY => Parser::CertificateVerify,
                    HandshakeType::CERTIFICATE_REQUEST => Parser::CertificateRequest,
                    HandshakeType::NEW_SESSION_TICKET => Parser::NewSessionTicket,
                    _ => Parser::SplitMessage,
                };
                // The directory names the parser.
                let name = format!("{}-{side}-{i}", rec.name);
                if parser == Parser::SplitMessage {
                    put(name, parser, message)?;
                } else {
                    put(name, parser, body)?;
                }
                if ty == HandshakeType::CLIENT_HELLO {
                    let ch = ClientHello::parse(body).expect("recorded ClientHello parses");
                    if let Some(psk) = ch.ext.pre_shared_key {
                        put(format!("{}-{side}-{i}", rec.name), Parser::OfferedPsks, psk)?;
                    }
                }
            }
        }
        // A record header and the start of its record, at a 1 KiB limit.
        let wire = &rec.server_bytes;
        put(
            format!("{}-records", rec.name),
            Parser::RecordHeader,
            &[&[15u8][..], &wire[..wire.len().min(64)]].concat(),
        )?;
    }
    for (name, alert) in [
        ("close-notify", [1u8, 0]),
        ("user-canceled", [1, 90]),
        ("handshake-failure", [2, 40]),
    ] {
        put(
            format!("alert-sealed-{name}"),
            Parser::SealedAlert,
            &[&[3u8][..], &alert].concat(),
        )?;
        put(
            format!("alert-plaintext-{name}"),
            Parser::PlaintextAlert,
            &alert,
        )?;
    }
    put(
        "codec-vectors".into(),
        Parser::Codec,
        &[40, 0, 3, b'a', b'b', b'c', 1, 0, 2, 7, 7, 2, 0, 0, 1, 9],
    )?;
    Ok(())
}

/// Pseudo-random inputs of several lengths: `arbitrary` reads any bytes as
/// a [`tlspair_fuzz::session::Session`], so these are sessions of several
/// shapes (few or many operations, chunk lists, capacities).
fn session_seeds(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for (i, len) in [48usize, 120, 300, 700, 1500].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let name = format!("random-{i}-{len}");
        std::fs::write(dir.join(&name), &bytes)?;
        println!("session/{name}: {len} bytes");
        // The same shapes over TLS 1.2 (the flags byte comes first), where
        // KeyUpdate and RequestClientAuth ops start renegotiations.
        if len >= 300 {
            let mut tls12 = bytes.clone();
            tls12[0] = (tls12[0] | Flags::TLS12) & !Flags::EARLY;
            let name = format!("tls12-renegotiation-{i}-{len}");
            std::fs::write(dir.join(&name), &tls12)?;
            println!("session/{name}: {len} bytes");
        }
    }
    Ok(())
}
