//! TLS 1.2 secure renegotiation (RFC 5746), our client against our
//! server in memory: who may start one, what each side's calls answer
//! while it runs, the data that crosses it, the identity it settles, and
//! the refusals and bounds. (Real peers: tests/tls12.rs.)

mod common;

use common::tls::{self, complete, pair, Told};
use common::{transfer_all, Side};
use tlspair::{Error, Misuse, Status, TLS12_SUITES};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// An established TLS 1.2 pair: the client performs `client` renegotiations
/// a server asks for, the server `server` a client starts; the server's
/// hook.
fn established(client: u8, server: u8) -> (Side, Side, &'static Told) {
    let told = leak(Told::default());
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.renegotiations = client;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    sc.renegotiations = server;
    sc.auth_hook = Some(told);
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    (c, s, told)
}

/// An established TLS 1.2 pair whose handshake left the client anonymous
/// (`defer_tls12_client_auth`): a client with a certificate that
/// performs one renegotiation, a server with a mandatory verifier, both
/// with transcript storage lent; the server's hook.
fn deferred_client_auth_pair() -> (Side, Side, &'static Told) {
    let told = leak(Told::default());
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.renegotiations = 1;
    cc.client_auth = Some(tls::certified(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
    ));
    let mut sc = tls::mtls_server_config();
    sc.suites = &TLS12_SUITES;
    sc.defer_tls12_client_auth = true;
    sc.auth_hook = Some(told);
    let (mut c, mut s) = pair(cc, sc);
    c.conn.keep_tls12_transcript(Vec::new());
    s.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    (c, s, told)
}

/// Reads on both sides, moving bytes between them, until neither is
/// renegotiating and nothing moves: the plaintext each side read.
fn settle(c: &mut Side, s: &mut Side) -> (Vec<u8>, Vec<u8>) {
    let mut got = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..64 {
        let mut moved = 0;
        match c.conn.read(&mut c.bufs, &mut buf) {
            Ok(Status::Done(n)) => {
                moved += n;
                got.0.extend_from_slice(&buf[..n]);
            }
            Ok(_) => {}
            Err(e) => panic!("client: {e:?}"),
        }
        moved += transfer_all(c, s);
        match s.conn.read(&mut s.bufs, &mut buf) {
            Ok(Status::Done(n)) => {
                moved += n;
                got.1.extend_from_slice(&buf[..n]);
            }
            Ok(_) => {}
            Err(e) => panic!("server: {e:?}"),
        }
        moved += transfer_all(s, c);
        if moved == 0 && !c.conn.is_renegotiating() && !s.conn.is_renegotiating() {
            return got;
        }
    }
    panic!("the renegotiation did not settle")
}

/// `data` from one side to the other, whole.
fn exchange(from: &mut Side, to: &mut Side, data: &[u8]) {
    assert_eq!(
        from.conn.write(&mut from.bufs, data),
        Ok(Status::Done(data.len()))
    );
    transfer_all(from, to);
    let mut got = vec![0u8; data.len() + 1];
    assert_eq!(
        to.conn.read(&mut to.bufs, &mut got),
        Ok(Status::Done(data.len()))
    );
    assert_eq!(&got[..data.len()], data);
}

fn exporter(side: &Side) -> [u8; 32] {
    let mut out = [0u8; 32];
    side.conn
        .export_keying_material(&mut out, b"EXPERIMENTAL test", None)
        .unwrap();
    out
}

#[test]
fn a_renegotiation_the_server_asks_for_is_performed_inside_reads() {
    let (mut c, mut s, told) = established(1, 0);
    let before = exporter(&c);
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    // Asked once: a second call sends no second HelloRequest.
    let sent = s.bufs.send.len();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    assert_eq!(s.bufs.send.len(), sent);
    transfer_all(&mut s, &mut c);
    let mut buf = [0u8; 16];
    // The HelloRequest starts it: our ClientHello goes out.
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    assert!(c.conn.is_renegotiating());
    assert!(!c.conn.is_handshaking(), "established all along");
    let (a, b) = settle(&mut c, &mut s);
    assert!(a.is_empty() && b.is_empty());
    assert_eq!(told.take(), ["renegotiated 1 cert=false"]);
    // New keys, a new session: the exporter changed, on both sides alike.
    let after = exporter(&c);
    assert_ne!(after, before);
    assert_eq!(exporter(&s), after);
    exchange(&mut c, &mut s, b"after, client to server");
    exchange(&mut s, &mut c, b"after, server to client");
}

#[test]
fn a_renegotiation_the_client_starts_is_answered_within_the_servers_bound() {
    let (mut c, mut s, told) = established(0, 2);
    for round in 1..=3u8 {
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        assert!(c.conn.is_renegotiating());
        settle(&mut c, &mut s);
        assert!(!c.conn.is_renegotiating());
        if round <= 2 {
            assert_eq!(told.take(), [format!("renegotiated {round} cert=false")]);
        } else {
            // Past the bound: refused with a warning, the connection goes
            // on as it was.
            assert!(told.take().is_empty());
        }
        exchange(&mut c, &mut s, format!("round {round}").as_bytes());
        exchange(&mut s, &mut c, format!("round {round} back").as_bytes());
    }
}

#[test]
fn renegotiation_is_refused_by_default_on_both_sides() {
    let (mut c, mut s, told) = established(0, 0);
    // The client refuses the server's HelloRequest with a warning.
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    settle(&mut c, &mut s);
    assert_eq!(told.take(), ["refused"]);
    exchange(&mut s, &mut c, b"still here");
    // The server refuses the client's ClientHello with a warning.
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    settle(&mut c, &mut s);
    assert!(!c.conn.is_renegotiating());
    assert!(told.take().is_empty());
    exchange(&mut c, &mut s, b"and here");
}

/// A client that starts renegotiations in a loop gets the server's
/// bound and then refusals, each a warning; the connection survives.
#[test]
fn a_client_renegotiating_in_a_loop_is_bounded() {
    let (mut c, mut s, told) = established(0, 3);
    for _ in 0..20 {
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        settle(&mut c, &mut s);
    }
    assert_eq!(
        told.take(),
        [
            "renegotiated 1 cert=false",
            "renegotiated 2 cert=false",
            "renegotiated 3 cert=false"
        ]
    );
    exchange(&mut c, &mut s, b"survived");
}

#[test]
fn renegotiate_is_refused_where_it_cannot_run() {
    use tlspair::Connection;
    // During the handshake.
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut c = tls::side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Err(Error::Misuse(Misuse::NoRenegotiation))
    );
    // On TLS 1.3.
    let (mut c, mut s) = pair(tls::client_config(), tls::p256_server_config());
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Err(Error::Misuse(Misuse::NoRenegotiation))
    );
    // While one runs, and a client asking for certificates.
    let (mut c, mut s, _) = established(1, 1);
    assert!(matches!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), true),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Err(Error::Misuse(Misuse::NoRenegotiation))
    );
    // A server without a verifier cannot ask for a certificate.
    assert!(matches!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), true),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    settle(&mut c, &mut s);
}

/// While a renegotiation runs the server goes on writing (RFC 5246
/// §6.2.1 lets records of other types come between handshake messages):
/// the client reads every byte, in order, whatever it meets between
/// them. The client's own write answers `WantRead` from its ClientHello
/// until the renegotiation completes, then goes through.
#[test]
fn data_interleaved_with_a_renegotiation_is_read_in_order() {
    let (mut c, mut s, told) = established(1, 0);
    let mut sent = Vec::new();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    let mut round = 0u32;
    let mut client_wrote = false;
    let mut during = 0;
    loop {
        round += 1;
        assert!(round < 64, "did not settle");
        // A line from the server each round, sealed under whatever key
        // it sends with now.
        let line = format!("line {round:03}\n").into_bytes();
        if round < 20 {
            assert_eq!(
                s.conn.write(&mut s.bufs, &line),
                Ok(Status::Done(line.len()))
            );
            sent.extend_from_slice(&line);
        }
        transfer_all(&mut s, &mut c);
        match c.conn.read(&mut c.bufs, &mut buf) {
            Ok(Status::Done(n)) => {
                got.extend_from_slice(&buf[..n]);
                if c.conn.is_renegotiating() {
                    during += 1;
                }
            }
            Ok(_) => {}
            Err(e) => panic!("client: {e:?}"),
        }
        if c.conn.is_renegotiating() && !client_wrote {
            assert_eq!(
                c.conn.write(&mut c.bufs, b"from the client"),
                Ok(Status::WantRead)
            );
        } else if !client_wrote && round > 2 {
            assert_eq!(
                c.conn.write(&mut c.bufs, b"from the client"),
                Ok(Status::Done(15))
            );
            client_wrote = true;
        }
        transfer_all(&mut c, &mut s);
        let mut sbuf = [0u8; 64];
        match s.conn.read(&mut s.bufs, &mut sbuf) {
            Ok(Status::Done(n)) => assert_eq!(&sbuf[..n], b"from the client"),
            Ok(_) => {}
            Err(e) => panic!("server: {e:?}"),
        }
        if round >= 20 && client_wrote && !c.conn.is_renegotiating() && got.len() == sent.len() {
            break;
        }
    }
    assert_eq!(got, sent);
    assert!(during > 0, "data was read while the renegotiation ran");
    assert_eq!(told.take(), ["renegotiated 1 cert=false"]);
}

/// A complete-mode write larger than the outgoing view, under way when
/// the server asks for a renegotiation: it answers `WantWrite` and then
/// `WantRead` while the renegotiation runs, and repeated with the same
/// arguments it completes; the server reads every byte once.
#[test]
fn a_complete_write_spanning_a_renegotiation_loses_and_duplicates_nothing() {
    let (mut c, mut s, _) = established(1, 0);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut asked = false;
    let mut saw_want_read = false;
    for _ in 0..400 {
        match c.conn.write(&mut c.bufs, &data) {
            Ok(Status::Done(n)) => {
                assert_eq!(n, data.len());
                break;
            }
            Ok(Status::WantRead) => {
                saw_want_read = true;
                // The caller reads, as the contract asks.
                let mut b = [0u8; 16];
                assert!(!matches!(
                    c.conn.read(&mut c.bufs, &mut b),
                    Ok(Status::Done(_)) | Err(_)
                ));
            }
            Ok(_) => {}
            Err(e) => panic!("client write: {e:?}"),
        }
        transfer_all(&mut c, &mut s);
        match s.conn.read(&mut s.bufs, &mut buf) {
            Ok(Status::Done(n)) => got.extend_from_slice(&buf[..n]),
            Ok(_) => {}
            Err(e) => panic!("server: {e:?}"),
        }
        if !asked && got.len() > 50_000 {
            assert_eq!(
                s.conn.renegotiate(&mut s.bufs, tls::now(), false),
                Ok(Status::Done(()))
            );
            asked = true;
        }
        transfer_all(&mut s, &mut c);
        // The HelloRequest is met by a read; the write meets the rest.
        if asked && !saw_want_read && !c.conn.is_renegotiating() {
            let mut b = [0u8; 16];
            let _ = c.conn.read(&mut c.bufs, &mut b);
        }
    }
    assert!(saw_want_read, "the write met the renegotiation");
    loop {
        transfer_all(&mut c, &mut s);
        match s.conn.read(&mut s.bufs, &mut buf) {
            Ok(Status::Done(n)) => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data, "every byte once, in order");
}

/// The per-resource case: the handshake leaves the client anonymous
/// (`defer_client_auth`), a renegotiation asks for its certificate, and
/// only once it completes do `negotiated()`, the chain and the hook name
/// the client.
#[test]
fn a_renegotiation_asking_for_a_client_certificate_authenticates_the_client() {
    let (mut c, mut s, told) = deferred_client_auth_pair();
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), true),
        Ok(Status::Done(()))
    );
    // Step by step: until the renegotiation completes the server names
    // no client.
    let mut buf = [0u8; 64];
    for _ in 0..20 {
        transfer_all(&mut s, &mut c);
        let _ = c.conn.read(&mut c.bufs, &mut buf).unwrap();
        transfer_all(&mut c, &mut s);
        let _ = s.conn.read(&mut s.bufs, &mut buf).unwrap();
        if s.conn.is_renegotiating() {
            assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
            assert!(told.take().is_empty());
        }
        if !s.conn.is_renegotiating()
            && !c.conn.is_renegotiating()
            && s.bufs.send.is_empty()
            && s.conn.negotiated().unwrap().peer_cert_sha256.is_some()
        {
            break;
        }
    }
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    assert_eq!(told.take(), ["renegotiated 1 cert=true"]);
    exchange(&mut c, &mut s, b"the protected resource, please");
    exchange(&mut s, &mut c, b"here it is");
}

/// A write during a renegotiation needs the server's flight, which does
/// not fit in the received view behind data the caller has not read:
/// it says so (`PlaintextUnread`, nothing taken) rather than wait for
/// bytes that cannot come; once the data is read, the write completes.
#[test]
fn a_write_behind_a_full_view_of_unread_data_says_to_read() {
    use tlspair::Connection;
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.renegotiations = 1;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let client = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
    let server = Connection::server(leak(sc), tls::now()).unwrap();
    let mut c = Side {
        conn: client,
        bufs: tlspair::Buffers::new(vec![0; 17_000], vec![0; 20_000]),
    };
    let mut s = tls::side(server);
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut s, &mut c);
    let mut buf = vec![0u8; 20_000];
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    transfer_all(&mut c, &mut s);
    // The server reads our ClientHello and answers; a full record of
    // data goes first.
    let data = vec![7u8; 16_384];
    assert_eq!(s.conn.write(&mut s.bufs, &data), Ok(Status::Done(16_384)));
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    transfer_all(&mut s, &mut c);
    // The write opens the data record, and finds no room for the flight.
    assert_eq!(
        c.conn.write(&mut c.bufs, b"reply"),
        Err(Error::Misuse(Misuse::PlaintextUnread { pending: 16_384 }))
    );
    assert_eq!(c.conn.pending_plaintext(), 16_384);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(16_384)));
    assert!(buf[..16_384] == data[..]);
    let mut wrote = false;
    for _ in 0..10 {
        transfer_all(&mut s, &mut c);
        match c.conn.write(&mut c.bufs, b"reply") {
            Ok(Status::Done(5)) => {
                wrote = true;
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("{e:?}"),
        }
        transfer_all(&mut c, &mut s);
        let _ = s.conn.read(&mut s.bufs, &mut buf).unwrap();
    }
    assert!(wrote);
    transfer_all(&mut c, &mut s);
    let mut got = Vec::new();
    for _ in 0..4 {
        if let Ok(Status::Done(n)) = s.conn.read(&mut s.bufs, &mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
        transfer_all(&mut c, &mut s);
    }
    assert_eq!(got, b"reply");
}

/// The server closes while the renegotiation it asked for runs: the
/// client's renegotiation ends there and its read answers `Closed`, as
/// it would have without one.
#[test]
fn a_close_notify_during_a_renegotiation_reads_as_closed() {
    let (mut c, mut s, _) = established(1, 0);
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut s, &mut c);
    let mut buf = [0u8; 16];
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    assert!(c.conn.is_renegotiating());
    // Our ClientHello is held back; the server's close_notify comes.
    assert!(matches!(s.conn.shutdown(&mut s.bufs), Ok(Status::Done(_))));
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Closed));
    assert!(!c.conn.is_renegotiating());
}

/// The client's sending key in a TLS 1.2 session of
/// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, rebuilt from the key log
/// and the randoms: it opens what the client seals and seals what a
/// hostile client would, at the sequence numbers the server expects.
struct Forger {
    key: [u8; 16],
    iv: [u8; 4],
    seq: u64,
}

impl Forger {
    fn record_key(&self) -> tlspair::record::protect::RecordKey {
        let mut k = tlspair::record::protect::RecordKey::new_tls12(
            &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
            &self.key,
            &self.iv,
        )
        .unwrap();
        for _ in 0..self.seq {
            let mut scratch = vec![0u8; 5 + 8 + 1 + 16];
            k.seal(tlspair::ContentType::APPLICATION_DATA, 1, &mut scratch)
                .unwrap();
        }
        k
    }

    /// Opens the client's next record: its type and content.
    fn open(&mut self, record: &[u8]) -> (tlspair::ContentType, Vec<u8>) {
        let mut rec = record.to_vec();
        let (ty, len) = self.record_key().open(&mut rec).unwrap();
        self.seq += 1;
        (ty, rec[5 + 8..5 + 8 + len].to_vec())
    }

    /// Seals `content` as the client's next record.
    fn seal(&mut self, ty: tlspair::ContentType, content: &[u8]) -> Vec<u8> {
        let mut rec = vec![0u8; 5 + 8];
        rec.extend_from_slice(content);
        rec.resize(5 + 8 + content.len() + 16, 0);
        self.record_key().seal(ty, content.len(), &mut rec).unwrap();
        self.seq += 1;
        rec
    }
}

/// RFC 5246 §5's P_SHA256(secret, seed) into `out`, written here from
/// the RFC so that the forger does not lean on the crate's own PRF.
fn p_sha256(secret: &[u8], seed: &[u8], out: &mut [u8]) {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut a = hmac::sign(&key, seed).as_ref().to_vec();
    let mut done = 0;
    while done < out.len() {
        let chunk = hmac::sign(&key, &[&a[..], seed].concat());
        let n = (out.len() - done).min(32);
        out[done..done + n].copy_from_slice(&chunk.as_ref()[..n]);
        done += n;
        a = hmac::sign(&key, &a).as_ref().to_vec();
    }
}

/// An established pair whose server accepts one renegotiation a client
/// starts, and the forger of the client's records.
fn forged_pair() -> (Side, Side, Forger) {
    let (c, s, client, _) = forged_pair_both();
    (c, s, client)
}

/// As [`forged_pair`], with the forger of the server's records too.
fn forged_pair_both() -> (Side, Side, Forger, Forger) {
    let (c, s, client, server, _) = forged_pair_logged();
    (c, s, client, server)
}

/// As [`forged_pair_both`], with the client's key log (a renegotiation
/// logs its own line).
fn forged_pair_logged() -> (Side, Side, Forger, Forger, &'static tls::Lines) {
    let lines = leak(tls::Lines::default());
    let mut cc = tls::client_config();
    cc.suites = leak([&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256]);
    cc.key_log = Some(lines);
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    sc.renegotiations = 1;
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    // The ServerHello leads the server's first flight, in the clear:
    // header (5), message header (4), version (2), then the random.
    let server_random: [u8; 32] = s.bufs.send.pending()[11..43].try_into().unwrap();
    complete(&mut c, &mut s).unwrap();
    // The client's Finished and the server's took sequence 0.
    let (client, server) = session_forgers(lines, 0, &server_random, 1);
    (c, s, client, server, lines)
}

/// Both directions' forgers of the session of the `n`th CLIENT_RANDOM
/// line and `server_random`, at sequence `seq`.
fn session_forgers(
    lines: &tls::Lines,
    n: usize,
    server_random: &[u8; 32],
    seq: u64,
) -> (Forger, Forger) {
    let line = lines
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("CLIENT_RANDOM"))
        .nth(n)
        .cloned()
        .unwrap();
    let mut parts = line.split(' ').skip(1);
    let client_random: [u8; 32] = common::unhex(parts.next().unwrap()).try_into().unwrap();
    let master = common::unhex(parts.next().unwrap().trim());
    let mut block = [0u8; 2 * 16 + 2 * 4];
    let seed = [&b"key expansion"[..], server_random, &client_random].concat();
    p_sha256(&master, &seed, &mut block);
    let forger = |key: &[u8], iv: &[u8]| Forger {
        key: key.try_into().unwrap(),
        iv: iv.try_into().unwrap(),
        seq,
    };
    (
        forger(&block[..16], &block[32..36]),
        forger(&block[16..32], &block[36..40]),
    )
}

/// What the server answers a renegotiation ClientHello that our client
/// wrote and `edit` changed, resealed as the client's.
fn server_answer_to_edited_hello(edit: impl Fn(&mut Vec<u8>)) -> Error {
    let (mut c, mut s, mut forger) = forged_pair();
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    let record = c.bufs.send.pending().to_vec();
    let (ty, mut hello) = forger.open(&record);
    assert_eq!(ty, tlspair::ContentType::HANDSHAKE);
    assert_eq!(hello[0], 1, "a ClientHello");
    forger.seq -= 1;
    edit(&mut hello);
    let n = hello.len() - 4;
    hello[1..4].copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    let forged = forger.seal(tlspair::ContentType::HANDSHAKE, &hello);
    s.bufs.recv.fill(&forged);
    let mut buf = [0u8; 16];
    match s.conn.read(&mut s.bufs, &mut buf) {
        Err(e) => e,
        other => panic!("accepted: {other:?}"),
    }
}

/// Where `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("pattern")
}

/// Each of RFC 5746 §3.7's checks of a renegotiation ClientHello, and the
/// version, suite and EMS a renegotiation keeps: each refused with its
/// alert (docs/security.md's table). The unedited hello is accepted (the
/// forger works).
#[test]
fn hostile_renegotiation_client_hellos_get_their_alerts() {
    use tlspair::{AlertDescription as A, PeerIncompatible, PeerMisbehaved};
    // Control: resealed unchanged, the hello is answered.
    {
        let (mut c, mut s, mut forger) = forged_pair();
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        let record = c.bufs.send.pending().to_vec();
        let (_, hello) = forger.open(&record);
        forger.seq -= 1;
        s.bufs
            .recv
            .fill(&forger.seal(tlspair::ContentType::HANDSHAKE, &hello));
        let mut buf = [0u8; 16];
        assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
        assert!(s.conn.is_renegotiating());
    }
    // renegotiation_info: `ff01`, length 13, verify_data of 12.
    let ri = [0xff, 0x01, 0x00, 0x0d, 0x0c];
    type Edit = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Edit, Error, A)> = vec![
        (
            "wrong verify_data",
            Box::new(move |h: &mut Vec<u8>| {
                let at = find(h, &ri) + 5;
                h[at] ^= 1;
            }),
            PeerMisbehaved::BadRenegotiationInfo.into(),
            A::HANDSHAKE_FAILURE,
        ),
        (
            "no renegotiation_info",
            Box::new(move |h: &mut Vec<u8>| {
                let at = find(h, &ri);
                // An extension type nobody knows, ignored.
                h[at] = 0x7a;
            }),
            PeerMisbehaved::BadRenegotiationInfo.into(),
            A::HANDSHAKE_FAILURE,
        ),
        (
            "the SCSV in a renegotiation",
            // The suites: after the header (4), version (2), random (32)
            // and an empty session id (1), a length and our one suite.
            Box::new(|h: &mut Vec<u8>| h.splice(41..41, [0x00, 0xff]).for_each(drop)),
            PeerMisbehaved::BadRenegotiationInfo.into(),
            A::HANDSHAKE_FAILURE,
        ),
        (
            "another suite",
            Box::new(|h: &mut Vec<u8>| h[41..43].copy_from_slice(&[0xc0, 0x2c])),
            PeerIncompatible::NoSharedSuite.into(),
            A::HANDSHAKE_FAILURE,
        ),
        (
            "another version",
            Box::new(|h: &mut Vec<u8>| h[4..6].copy_from_slice(&[3, 2])),
            PeerIncompatible::NotTls13.into(),
            A::PROTOCOL_VERSION,
        ),
        (
            "no extended master secret",
            Box::new(|h: &mut Vec<u8>| {
                let at = find(h, &[0x00, 0x17, 0x00, 0x00]);
                h[at] = 0x7a;
            }),
            PeerIncompatible::NoExtendedMasterSecret.into(),
            A::HANDSHAKE_FAILURE,
        ),
    ];
    for (what, edit, error, alert) in cases {
        let got = server_answer_to_edited_hello(|h| {
            if what == "the SCSV in a renegotiation" {
                // The suites' length grows with the SCSV.
                h[40] += 2;
            }
            edit(h);
        });
        assert_eq!(got, error, "{what}");
        assert_eq!(got.alert(), Some(alert), "{what}");
    }
}

/// The records in `wire`, whole: how many.
fn records_in(mut wire: &[u8]) -> u64 {
    let mut n = 0;
    while wire.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([wire[3], wire[4]]));
        wire = &wire[5 + len..];
        n += 1;
    }
    n
}

/// Data the server sent before a record that fails is still read: a
/// write during the renegotiation opens the data behind the caller's
/// back and then meets a forged record (bad_record_mac); the next read
/// returns the data, the one after it the error. Failed before: the
/// data was lost behind the sticky error.
#[test]
fn data_opened_before_a_fatal_error_is_still_read() {
    let (mut c, mut s, _, mut server) = forged_pair_both();
    // The client renegotiates; the server answers, with data first.
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.write(&mut s.bufs, b"first"), Ok(Status::Done(5)));
    server.seq += 1;
    // The rest of the server's stream is ours: a record that fails.
    let mut bad = server.seal(tlspair::ContentType::HANDSHAKE, &[2, 0, 0, 1, 0]);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    transfer_all(&mut s, &mut c);
    c.bufs.recv.fill(&bad);
    let e = c.conn.write(&mut c.bufs, b"x").unwrap_err();
    assert_eq!(
        e,
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::BadRecordMac)
    );
    assert_eq!(c.conn.pending_plaintext(), 5);
    let mut buf = [0u8; 16];
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(5)));
    assert_eq!(&buf[..5], b"first");
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Err(e));
}

/// A read during a renegotiation that opens a record of data and finds
/// the next too large for the room behind it returns the data: only a
/// write is told to read first. Failed before: the read answered
/// `Misuse(PlaintextUnread)`.
#[test]
fn a_read_returns_the_data_it_opened_whatever_comes_behind() {
    use tlspair::Connection;
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.renegotiations = 1;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let mut c = Side {
        conn: Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap(),
        bufs: tlspair::Buffers::new(vec![0; 17_000], vec![0; 20_000]),
    };
    let mut s = Side {
        conn: Connection::server(leak(sc), tls::now()).unwrap(),
        bufs: tlspair::Buffers::new(vec![0; 20_000], vec![0; 40_000]),
    };
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut s, &mut c);
    let mut buf = vec![0u8; 40_000];
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    assert!(c.conn.is_renegotiating());
    let (a, b) = (vec![1u8; 8192], vec![2u8; 16_384]);
    assert_eq!(s.conn.write(&mut s.bufs, &a), Ok(Status::Done(8192)));
    assert_eq!(s.conn.write(&mut s.bufs, &b), Ok(Status::Done(16_384)));
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(8192)));
    assert!(buf[..8192] == a[..]);
}

/// The server closes during the renegotiation our client started: a
/// write then answers as after any TLS 1.2 close_notify (ours answers
/// it, nothing more goes), never `Closed`. Failed before: `Ok(Closed)`.
#[test]
fn a_write_meeting_the_peers_close_mid_renegotiation_is_write_after_shutdown() {
    let (mut c, mut s, _) = established(0, 1);
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    assert!(matches!(s.conn.shutdown(&mut s.bufs), Ok(Status::Done(_))));
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.write(&mut c.bufs, b"x"),
        Err(Error::Misuse(Misuse::WriteAfterShutdown))
    );
    assert!(!c.conn.is_renegotiating());
}

/// A no_renegotiation warning is the refusal of our ClientHello, and
/// only that: after the server's flight and ours it is fatal. Failed
/// before: the renegotiation was dropped half done and the connection
/// went on with the directions' keys out of step.
#[test]
fn a_no_renegotiation_warning_after_the_servers_flight_is_fatal() {
    let (mut c, mut s, _, mut server) = forged_pair_both();
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut c, &mut s);
    let mut buf = [0u8; 16];
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    server.seq += records_in(s.bufs.send.pending());
    transfer_all(&mut s, &mut c);
    // Our flight goes out; the server's ChangeCipherSpec is due.
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    assert!(c.conn.is_renegotiating());
    c.bufs
        .recv
        .fill(&server.seal(tlspair::ContentType::ALERT, &[1, 100]));
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf),
        Err(Error::AlertReceived(
            tlspair::AlertDescription::NO_RENEGOTIATION
        ))
    );
}

/// HelloRequests during our renegotiation are ignored (RFC 5246
/// §7.4.1.1), as many as the records that carry nothing; more end the
/// connection. Failed before: any number were ignored.
#[test]
fn hello_requests_during_a_renegotiation_are_bounded() {
    let (mut c, _s, _, mut server) = forged_pair_both();
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    let mut buf = [0u8; 16];
    for _ in 0..32 {
        c.bufs
            .recv
            .fill(&server.seal(tlspair::ContentType::HANDSHAKE, &[0, 0, 0, 0]));
    }
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    c.bufs
        .recv
        .fill(&server.seal(tlspair::ContentType::HANDSHAKE, &[0, 0, 0, 0]));
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf),
        Err(Error::PeerMisbehaved(
            tlspair::PeerMisbehaved::TooManyEmptyRecords
        ))
    );
}

/// A client's hook hears of its renegotiations too: one completed (the
/// server's certificate in force) and one the server refused.
#[test]
fn the_clients_hook_is_told_of_each_renegotiation() {
    let told = leak(Told::default());
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.auth_hook = Some(told);
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    sc.renegotiations = 1;
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    for _ in 0..2 {
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        settle(&mut c, &mut s);
    }
    assert_eq!(told.take(), ["renegotiated 1 cert=true", "refused"]);
    exchange(&mut c, &mut s, b"on");
}

/// Our client's renegotiation meets a forged ServerHello (sealed as the
/// server's): another version or suite is illegal_parameter, a
/// renegotiation_info that is missing or carries other verify_data is
/// handshake_failure (RFC 5746 §3.5).
#[test]
fn hostile_renegotiation_server_hellos_get_their_alerts() {
    use tlspair::{AlertDescription as A, PeerMisbehaved};
    // A ServerHello for TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 with these
    // version and suite bytes and extensions.
    let server_hello = |version: [u8; 2], suite: [u8; 2], extensions: &[u8]| {
        let mut body = version.to_vec();
        body.extend([7u8; 32]);
        body.push(0);
        body.extend(suite);
        body.push(0);
        body.extend((extensions.len() as u16).to_be_bytes());
        body.extend(extensions);
        let mut msg = vec![2, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend(body);
        msg
    };
    let ems = [0x00, 0x17, 0x00, 0x00];
    let mut other_verify = vec![0xff, 0x01, 0x00, 0x19, 0x18];
    other_verify.extend([9u8; 24]);
    let ri_and_ems = [&other_verify[..], &ems].concat();
    let cases = [
        (
            "another version",
            server_hello([3, 2], [0xc0, 0x2b], &ri_and_ems),
            Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter(
                "renegotiation to another version",
            )),
            A::ILLEGAL_PARAMETER,
        ),
        (
            "another suite",
            server_hello([3, 3], [0xc0, 0x2c], &ri_and_ems),
            Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter(
                "renegotiation to another suite",
            )),
            A::ILLEGAL_PARAMETER,
        ),
        (
            "other verify_data",
            server_hello([3, 3], [0xc0, 0x2b], &ri_and_ems),
            PeerMisbehaved::BadRenegotiationInfo.into(),
            A::HANDSHAKE_FAILURE,
        ),
        (
            "no renegotiation_info",
            server_hello([3, 3], [0xc0, 0x2b], &ems),
            PeerMisbehaved::BadRenegotiationInfo.into(),
            A::HANDSHAKE_FAILURE,
        ),
    ];
    for (what, hello, error, alert) in cases {
        let (mut c, _s, _, mut server) = forged_pair_both();
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        c.bufs
            .recv
            .fill(&server.seal(tlspair::ContentType::HANDSHAKE, &hello));
        let mut buf = [0u8; 16];
        let got = c.conn.read(&mut c.bufs, &mut buf);
        assert_eq!(got, Err(error), "{what}");
        assert_eq!(error.alert(), Some(alert), "{what}");
    }
}

/// A HelloRequest during a first TLS 1.2 handshake is unexpected_message:
/// RFC 5246 §7.4.1.1 lets a client ignore it, but no server has a reason
/// to send one before its Finished, and until the ServerHello the
/// handshake may turn out to be TLS 1.3, which has none.
#[test]
fn a_hello_request_during_the_first_handshake_is_unexpected_message() {
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    // In the clear, before the server's flight.
    c.bufs.recv.fill(&[22, 3, 3, 0, 4, 0, 0, 0, 0]);
    transfer_all(&mut s, &mut c);
    let got = c.conn.handshake(&mut c.bufs);
    assert_eq!(
        got,
        Err(Error::PeerMisbehaved(
            tlspair::PeerMisbehaved::UnexpectedHandshake(
                tlspair::wire::HandshakeType::HELLO_REQUEST
            )
        ))
    );
    assert_eq!(
        got.unwrap_err().alert(),
        Some(tlspair::AlertDescription::UNEXPECTED_MESSAGE)
    );
}

/// Nothing may come between the server's ChangeCipherSpec and its
/// Finished in a renegotiation: application data sealed under the new
/// key there is unexpected_message (RFC 5246 §7.1; data is welcome
/// before the ChangeCipherSpec).
#[test]
fn data_between_the_servers_change_cipher_spec_and_finished_is_unexpected() {
    let (mut c, mut s, _, mut old_server, lines) = forged_pair_logged();
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut c, &mut s);
    let mut buf = [0u8; 16];
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    // The server's flight, opened on the way: its ServerHello's random.
    let flight = s.bufs.send.pending().to_vec();
    let first_len = usize::from(u16::from_be_bytes([flight[3], flight[4]]));
    let (_, hello) = old_server.open(&flight[..5 + first_len]);
    assert_eq!(hello[0], 2, "a ServerHello");
    let server_random: [u8; 32] = hello[6..38].try_into().unwrap();
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    // The server's ChangeCipherSpec goes through; its Finished does not,
    // data under the new key takes its place.
    let end = s.bufs.send.pending().to_vec();
    let ccs_len = 5 + usize::from(u16::from_be_bytes([end[3], end[4]]));
    c.bufs.recv.fill(&end[..ccs_len]);
    let (_, mut new_server) = session_forgers(lines, 1, &server_random, 0);
    c.bufs
        .recv
        .fill(&new_server.seal(tlspair::ContentType::APPLICATION_DATA, b"early"));
    let got = c.conn.read(&mut c.bufs, &mut buf);
    assert_eq!(
        got,
        Err(Error::PeerMisbehaved(
            tlspair::PeerMisbehaved::UnexpectedContentType(tlspair::ContentType::APPLICATION_DATA)
        ))
    );
    assert_eq!(
        got.unwrap_err().alert(),
        Some(tlspair::AlertDescription::UNEXPECTED_MESSAGE)
    );
}

/// A renegotiation of a resumed TLS 1.2 session (which showed no
/// certificate) asks for the client's certificate and completes: the
/// server shows the certificate a first handshake would, which the
/// client checks is its session's. Failed before: internal_error (no
/// certificate index).
#[test]
fn a_resumed_session_renegotiates_with_a_client_certificate() {
    let store = leak(tls::Tickets::default());
    let told = leak(Told::default());
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.ticket_sink = Some(store);
    cc.renegotiations = 1;
    cc.client_auth = Some(tls::certified(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
    ));
    let mut sc = tls::mtls_server_config();
    sc.suites = &TLS12_SUITES;
    sc.client_verifier = Some(leak(tls::client_verifier().allow_anonymous()));
    sc.defer_tls12_client_auth = true;
    sc.auth_hook = Some(told);
    sc.ticket_keys = leak([tlspair::handshake::ticket::TicketKey::new(1, &[9; 32]).unwrap()])
        .as_slice()
        .into();
    let (cc, sc) = (leak(cc), leak(sc));
    let ticket = tls::first_ticket(cc, sc, store);
    let mut c = tls::side(
        tlspair::Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).unwrap(),
    );
    let mut s = tls::side(tlspair::Connection::server(sc, tls::now()).unwrap());
    c.conn.keep_tls12_transcript(Vec::new());
    s.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    assert!(s.conn.negotiated().unwrap().resumed);
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), true),
        Ok(Status::Done(()))
    );
    settle(&mut c, &mut s);
    assert_eq!(told.take(), ["renegotiated 1 cert=true"]);
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    exchange(&mut c, &mut s, b"after");
}

/// A server that asks twice sends one HelloRequest, and the one
/// renegotiation asks for the certificate if either call did; meanwhile
/// `renegotiation_asked` says a request is out. Failed before: the
/// second call's `client_auth` was dropped.
#[test]
fn asking_twice_sends_one_request_and_keeps_the_certificate_request() {
    let (mut c, mut s, told) = deferred_client_auth_pair();
    assert!(!s.conn.renegotiation_asked());
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    let sent = s.bufs.send.len();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), true),
        Ok(Status::Done(()))
    );
    assert_eq!(s.bufs.send.len(), sent, "one HelloRequest");
    assert!(s.conn.renegotiation_asked());
    settle(&mut c, &mut s);
    assert!(!s.conn.renegotiation_asked());
    assert_eq!(told.take(), ["renegotiated 1 cert=true"]);
}

/// One `read` never returns data from both sides of a renegotiation's
/// completion: data the server sent before its ChangeCipherSpec and
/// Finished, and data after, all in the view at once, come in two reads,
/// the renegotiation completing between them. Failed before: one read
/// returned both.
#[test]
fn one_read_never_spans_a_renegotiations_completion() {
    let (mut c, mut s, _) = established(0, 1);
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    let mut buf = [0u8; 64];
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    // The server writes, reads our flight (its ChangeCipherSpec and
    // Finished go out), and writes again.
    assert_eq!(s.conn.write(&mut s.bufs, b"before"), Ok(Status::Done(6)));
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    assert!(!s.conn.is_renegotiating());
    assert_eq!(s.conn.write(&mut s.bufs, b"after"), Ok(Status::Done(5)));
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(6)));
    assert_eq!(&buf[..6], b"before");
    assert!(c.conn.is_renegotiating(), "not yet complete");
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(5)));
    assert_eq!(&buf[..5], b"after");
    assert!(!c.conn.is_renegotiating());
}

/// `defer_client_auth` (TLS 1.3's deferral to post-handshake
/// authentication) leaves a TLS 1.2 client asked in the handshake, as
/// before renegotiation existed; only `defer_tls12_client_auth` defers
/// it to a renegotiation.
#[test]
fn defer_client_auth_still_asks_a_tls12_client_in_the_handshake() {
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.client_auth = Some(tls::certified(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
    ));
    for (tls13_deferral, asked) in [(true, true), (false, true)] {
        let mut sc = tls::mtls_server_config();
        sc.suites = &TLS12_SUITES;
        sc.defer_client_auth = tls13_deferral;
        let (mut c, mut s) = pair(cc.clone(), sc);
        c.conn.keep_tls12_transcript(Vec::new());
        s.conn.keep_tls12_transcript(Vec::new());
        complete(&mut c, &mut s).unwrap();
        assert_eq!(
            s.conn.negotiated().unwrap().peer_cert_sha256.is_some(),
            asked
        );
    }
    let mut sc = tls::mtls_server_config();
    sc.suites = &TLS12_SUITES;
    sc.defer_tls12_client_auth = true;
    let (mut c, mut s) = pair(cc, sc);
    c.conn.keep_tls12_transcript(Vec::new());
    s.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
}

/// Data the server sent before the end of a renegotiation that our
/// client's `handshake` calls completed (reading it behind the caller's
/// back) is read alone: the next read does not run on into the data sent
/// after it. Failed before: one read returned both.
#[test]
fn data_from_before_a_renegotiation_a_handshake_call_completed_is_read_alone() {
    let (mut c, mut s, _) = established(0, 1);
    let mut buf = [0u8; 64];
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    transfer_all(&mut s, &mut c);
    // Our flight, written by `handshake`; the server writes before it
    // reads it, then completes, then writes again.
    assert_eq!(c.conn.handshake(&mut c.bufs), Ok(Status::WantRead));
    assert_eq!(s.conn.write(&mut s.bufs, b"before"), Ok(Status::Done(6)));
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::WantRead));
    assert!(!s.conn.is_renegotiating());
    assert_eq!(s.conn.write(&mut s.bufs, b"after"), Ok(Status::Done(5)));
    transfer_all(&mut s, &mut c);
    // `handshake` completes it, the data before left unread.
    assert_eq!(c.conn.handshake(&mut c.bufs), Ok(Status::Done(())));
    assert!(!c.conn.is_renegotiating());
    assert_eq!(c.conn.pending_plaintext(), 6);
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(6)));
    assert_eq!(&buf[..6], b"before");
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(5)));
    assert_eq!(&buf[..5], b"after");
}
