//! Server hooks: remote signers whose signature comes later (both roles),
//! and the certificate chosen by SNI (exact names, wildcards, a default).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::tls::{self, certified, client_config, complete, side, AcceptAnyServer};
use common::{transfer_all, Side};
use tlspair::handshake::{CertifiedKey, ClientConfig, ServerConfig};
use tlspair::sign::{SignRequest, Signer, Signing, SigningKey};
use tlspair::test_credentials as creds;
use tlspair::wire::SignatureScheme;
use tlspair::{AlertDescription as AD, Connection, Error, Status};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// A key "in an HSM": pending on the first `answer_on - 1` polls, then
/// the signature. Checks that every poll carries the same request and
/// that only the first says so.
struct SlowSigner {
    key: SigningKey,
    answer_on: usize,
    polls: AtomicUsize,
    seen: Mutex<Option<(SignatureScheme, Vec<u8>)>>,
    /// Fail instead of signing.
    fail: bool,
    /// Requests cancelled (each must be the one pending).
    cancelled: AtomicUsize,
}

impl SlowSigner {
    fn new(cred: &creds::Credential, answer_on: usize) -> &'static Self {
        Self::failing(cred, answer_on, false)
    }

    fn failing(cred: &creds::Credential, answer_on: usize, fail: bool) -> &'static Self {
        leak(Self {
            key: SigningKey::from_pkcs8(cred.key, tls::rng()).unwrap(),
            answer_on,
            polls: AtomicUsize::new(0),
            seen: Mutex::new(None),
            fail,
            cancelled: AtomicUsize::new(0),
        })
    }

    fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }
}

impl Signer for SlowSigner {
    fn schemes(&self) -> &[SignatureScheme] {
        self.key.schemes()
    }

    fn max_signature_len(&self) -> usize {
        self.key.max_signature_len()
    }

    fn sign(&self, request: &SignRequest<'_>, out: &mut [u8]) -> Result<Signing, Error> {
        let poll = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        assert_eq!(request.first, poll == 1, "poll {poll}");
        let mut seen = self.seen.lock().unwrap();
        let this = (request.scheme, request.message.to_vec());
        match &*seen {
            None => *seen = Some(this),
            Some(first) => assert_eq!(first, &this, "the same request on every poll"),
        }
        if poll < self.answer_on {
            return Ok(Signing::Pending);
        }
        if self.fail {
            // Not an internal error: the engine must still call it one.
            return Err(Error::Truncated);
        }
        self.key
            .sign(request.scheme, request.message, request.rng, out)
            .map(Signing::Done)
    }

    fn cancel(&self, request: &SignRequest<'_>) {
        let seen = self.seen.lock().unwrap();
        assert_eq!(
            seen.as_ref(),
            Some(&(request.scheme, request.message.to_vec())),
            "cancel names the pending request"
        );
        self.cancelled.fetch_add(1, Ordering::SeqCst);
    }
}

fn server_with(signer: &'static SlowSigner) -> Side {
    let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
    let certs = leak([CertifiedKey::new(chain, signer)]);
    let sc = leak(ServerConfig::new(certs, tls::rng()));
    side(Connection::server(sc, tls::now()).unwrap())
}

fn client() -> Side {
    side(Connection::client(leak(client_config()), Some("localhost"), tls::now()).unwrap())
}

/// Sends and receives one message each way.
fn exchange(c: &mut Side, s: &mut Side) {
    assert_eq!(c.conn.write(&mut c.bufs, b"ping").unwrap(), Status::Done(4));
    transfer_all(c, s);
    let mut got = [0u8; 4];
    assert_eq!(s.conn.read(&mut s.bufs, &mut got).unwrap(), Status::Done(4));
    assert_eq!(&got, b"ping");
    assert_eq!(s.conn.write(&mut s.bufs, b"pong").unwrap(), Status::Done(4));
    transfer_all(s, c);
    assert_eq!(c.conn.read(&mut c.bufs, &mut got).unwrap(), Status::Done(4));
    assert_eq!(&got, b"pong");
}

#[test]
fn a_server_signature_that_comes_on_the_third_poll() {
    let signer = SlowSigner::new(&creds::SERVER_ECDSA_P256, 3);
    let mut s = server_with(signer);
    let mut c = client();
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    transfer_all(&mut c, &mut s);

    // Poll 1, while the ClientHello is handled: what precedes the
    // signature is written and goes out at once.
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap(),
        Status::SignaturePending
    );
    assert_eq!(signer.polls(), 1);
    assert!(
        !s.bufs.send.is_empty(),
        "ServerHello to Certificate wait for no one"
    );
    assert!(s.conn.is_handshaking());
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);

    // Poll 2, from a write: nothing of its data is taken.
    assert_eq!(
        s.conn.write(&mut s.bufs, b"early").unwrap(),
        Status::SignaturePending
    );
    assert_eq!(signer.polls(), 2);
    assert!(s.bufs.send.is_empty(), "no new bytes while pending");

    // Poll 3 answers: the rest of the flight follows.
    assert_eq!(s.conn.handshake(&mut s.bufs).unwrap(), Status::WantRead);
    assert_eq!(signer.polls(), 3);
    complete(&mut c, &mut s).unwrap();
    assert_eq!(signer.polls(), 3, "never asked again");
    assert_eq!(
        c.conn.negotiated().unwrap().signature_scheme,
        Some(SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
    exchange(&mut c, &mut s);
}

#[test]
fn a_failing_signer_fails_the_handshake_with_internal_error() {
    let signer = SlowSigner::failing(&creds::SERVER_ECDSA_P256, 2, true);
    let mut s = server_with(signer);
    let mut c = client();
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap(),
        Status::SignaturePending
    );
    let e = s.conn.handshake(&mut s.bufs).unwrap_err();
    assert!(matches!(e, Error::Internal(_)), "{e:?}");
    assert_eq!(e.alert(), Some(AD::INTERNAL_ERROR));
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap_err(),
        Error::AlertReceived(AD::INTERNAL_ERROR)
    );
}

#[test]
fn a_client_signature_that_comes_on_the_third_poll() {
    let signer = SlowSigner::new(&creds::CLIENT_ECDSA_P256, 3);
    let chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
    let mut cc: ClientConfig<'static> = client_config();
    cc.client_auth = Some(CertifiedKey::new(chain, signer));
    let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(leak(tls::mtls_server_config()), tls::now()).unwrap());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    transfer_all(&mut s, &mut c);
    // The server's flight is in; our Certificate is written, the signature
    // is pending.
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap(),
        Status::SignaturePending
    );
    assert!(c.conn.is_handshaking());
    let mut buf = [0u8; 8];
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf).unwrap(),
        Status::SignaturePending
    );
    assert_eq!(signer.polls(), 2);
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::Done(()));
    assert!(c.conn.is_established());
    complete(&mut c, &mut s).unwrap();
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    exchange(&mut c, &mut s);
}

/// When the signature that ends the handshake comes from a `read`, that
/// read answers `Established` (a `handshake` call would answer `Done`).
#[test]
fn a_client_signature_that_completes_the_handshake_in_a_read_says_established() {
    let signer = SlowSigner::new(&creds::CLIENT_ECDSA_P256, 2);
    let chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
    let mut cc: ClientConfig<'static> = client_config();
    cc.client_auth = Some(CertifiedKey::new(chain, signer));
    let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(leak(tls::mtls_server_config()), tls::now()).unwrap());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    transfer_all(&mut s, &mut c);
    let mut buf = [0u8; 8];
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf).unwrap(),
        Status::SignaturePending
    );
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf).unwrap(),
        Status::Established
    );
    assert_eq!(signer.polls(), 2);
    assert!(c.conn.is_established());
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf).unwrap(),
        Status::WantRead
    );
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut buf).unwrap(),
        Status::Established
    );
    exchange(&mut c, &mut s);
}

/// The server's choice among chains for `sni` (None: no SNI), by the
/// index it reports.
fn chosen(certs: &'static [CertifiedKey<'static>], sni: &'static str) -> Option<u8> {
    let schemes = leak([
        SignatureScheme::ECDSA_SECP256R1_SHA256,
        SignatureScheme::ED25519,
        SignatureScheme::ECDSA_SECP384R1_SHA384,
    ]);
    let mut cc = ClientConfig::new(leak(AcceptAnyServer(schemes)), tls::rng());
    cc.grease = false;
    let sc = leak(ServerConfig::new(certs, tls::rng()));
    let mut c = side(Connection::client(leak(cc), Some(sni), tls::now()).unwrap());
    let mut s = side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    s.conn.negotiated().unwrap().cert_index
}

#[test]
fn certificates_by_sni_exact_then_wildcard_then_default() {
    let certs: &'static [CertifiedKey<'static>] = leak([
        certified(&creds::SERVER_ECDSA_P256).for_names(leak(["*.example.com"])),
        certified(&creds::SERVER_ED25519).for_names(leak(["exact.example.com", "other.test"])),
        certified(&creds::SERVER_ECDSA_P384),
    ]);
    assert_eq!(chosen(certs, "www.example.com"), Some(0));
    assert_eq!(chosen(certs, "WWW.EXAMPLE.COM"), Some(0));
    assert_eq!(
        chosen(certs, "exact.example.com"),
        Some(1),
        "exact before wildcard"
    );
    assert_eq!(chosen(certs, "other.test"), Some(1));
    // One label only, and not the bare domain: the default.
    assert_eq!(chosen(certs, "a.b.example.com"), Some(2));
    assert_eq!(chosen(certs, "example.com"), Some(2));
    // No SNI (an IP address): the default.
    assert_eq!(chosen(certs, "127.0.0.1"), Some(2));
}

#[test]
fn without_a_default_an_unknown_name_is_refused() {
    let certs: &'static [CertifiedKey<'static>] =
        leak([certified(&creds::SERVER_ECDSA_P256).for_names(leak(["*.example.com"]))]);
    let schemes = leak([SignatureScheme::ECDSA_SECP256R1_SHA256]);
    let cc = ClientConfig::new(leak(AcceptAnyServer(schemes)), tls::rng());
    let sc = leak(ServerConfig::new(certs, tls::rng()));
    let mut c = side(Connection::client(leak(cc), Some("www.other.test"), tls::now()).unwrap());
    let mut s = side(Connection::server(sc, tls::now()).unwrap());
    let (_, server) = tls::outcome(&mut c, &mut s);
    let e = server.unwrap_err();
    assert!(e.alert().is_some(), "{e:?}");
}

/// A server whose signer is pending after the ClientHello.
fn pending_server(signer: &'static SlowSigner) -> (Side, Side) {
    let mut s = server_with(signer);
    let mut c = client();
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap(),
        Status::SignaturePending
    );
    assert!(s.conn.awaits_signature());
    (c, s)
}

#[test]
fn a_pending_request_is_cancelled_when_its_connection_goes() {
    // Dropped.
    let signer = SlowSigner::new(&creds::SERVER_ECDSA_P256, 10);
    let (_c, s) = pending_server(signer);
    drop(s);
    assert_eq!(signer.cancelled.load(Ordering::SeqCst), 1);

    // Shut down: the client waits for a flight that cannot come now.
    let signer = SlowSigner::new(&creds::SERVER_ECDSA_P256, 10);
    let (_c, mut s) = pending_server(signer);
    let _ = s.conn.shutdown(&mut s.bufs).unwrap();
    assert_eq!(s.conn.error(), Some(Error::Abandoned));
    assert!(!s.conn.awaits_signature());
    assert_eq!(signer.cancelled.load(Ordering::SeqCst), 1);
    drop(s);
    assert_eq!(signer.cancelled.load(Ordering::SeqCst), 1, "once");

    // Answered: nothing to cancel.
    let signer = SlowSigner::new(&creds::SERVER_ECDSA_P256, 2);
    let (mut c, mut s) = pending_server(signer);
    complete(&mut c, &mut s).unwrap();
    drop(s);
    assert_eq!(signer.cancelled.load(Ordering::SeqCst), 0);
}

#[test]
fn server_names_that_no_client_can_send_are_refused_at_construction() {
    for names in [
        &["*.com"][..],
        &["*"],
        &["w*.example.com"],
        &["*.*.example.com"],
        &["example.com."],
        &["exa mple.com"],
        &[""],
        &["ok.example.com", "bad_name.example.com"],
    ] {
        let certs = leak([certified(&creds::SERVER_ECDSA_P256).for_names(leak(names.to_vec()))]);
        let sc = leak(ServerConfig::new(certs, tls::rng()));
        assert!(
            Connection::server(sc, tls::now()).is_err(),
            "{names:?} accepted"
        );
    }
    let certs = leak([certified(&creds::SERVER_ECDSA_P256).for_names(&[
        "*.example.com",
        "example.com",
        "a-b.example.com",
    ])]);
    let sc = leak(ServerConfig::new(certs, tls::rng()));
    assert!(Connection::server(sc, tls::now()).is_ok());
}

mod peek {
    use super::*;
    use tlspair::handshake::peek::peek_client_hello;
    use tlspair::wire::{CipherSuite, NamedGroup, ProtocolVersion};

    /// Two tenants, each with its own configuration (chain and ALPN).
    fn tenants() -> [&'static ServerConfig<'static>; 2] {
        let mut a = ServerConfig::new(leak([certified(&creds::SERVER_ECDSA_P256)]), tls::rng());
        a.alpn = leak([&b"h2"[..]]);
        let mut b = ServerConfig::new(leak([certified(&creds::SERVER_ED25519)]), tls::rng());
        b.alpn = leak([&b"http/1.1"[..]]);
        [leak(a), leak(b)]
    }

    fn client_to(name: &'static str) -> Side {
        let schemes = leak([
            SignatureScheme::ECDSA_SECP256R1_SHA256,
            SignatureScheme::ED25519,
        ]);
        let mut cc = ClientConfig::new(leak(AcceptAnyServer(schemes)), tls::rng());
        cc.alpn = leak([&b"h2"[..], &b"http/1.1"[..]]);
        side(Connection::client(leak(cc), Some(name), tls::now()).unwrap())
    }

    #[test]
    fn peek_then_choose_the_configuration_on_the_same_buffers() {
        for (name, tenant) in [("a.example", 0usize), ("b.example", 1)] {
            let mut c = client_to(name);
            let _ = c.conn.handshake(&mut c.bufs).unwrap();
            // The server side: bytes arrive, nothing is made yet.
            let mut s = side(Connection::server(tenants()[0], tls::now()).unwrap());
            transfer_all(&mut c, &mut s);
            let before = s.bufs.recv.received().to_vec();
            let chosen = {
                let Status::Done(hello) = peek_client_hello(&s.bufs.recv, &mut []).unwrap() else {
                    panic!("a whole ClientHello");
                };
                assert_eq!(hello.server_name(), Some(name));
                assert_eq!(
                    hello.alpn().collect::<Vec<_>>(),
                    [&b"h2"[..], &b"http/1.1"[..]]
                );
                assert!(hello.versions().any(|v| v == ProtocolVersion::TLS1_3));
                assert!(hello
                    .cipher_suites()
                    .any(|s| s == CipherSuite::TLS13_AES_128_GCM_SHA256));
                assert!(hello.groups().any(|g| g == NamedGroup::X25519));
                assert!(hello.key_share_groups().any(|g| g == NamedGroup::X25519));
                assert!(hello
                    .signature_schemes()
                    .any(|s| s == SignatureScheme::ED25519));
                assert!(!hello.resumes());
                if hello.server_name() == Some("b.example") {
                    1
                } else {
                    0
                }
            };
            assert_eq!(chosen, tenant);
            assert_eq!(s.bufs.recv.received(), &before[..], "nothing consumed");
            // Connection::server with the chosen configuration, same buffers.
            s.conn = Connection::server(tenants()[chosen], tls::now()).unwrap();
            complete(&mut c, &mut s).unwrap();
            let n = s.conn.negotiated().unwrap();
            let expect = [
                SignatureScheme::ECDSA_SECP256R1_SHA256,
                SignatureScheme::ED25519,
            ][tenant];
            assert_eq!(n.signature_scheme, Some(expect));
            assert_eq!(n.alpn_index, Some(0));
            assert_eq!(
                c.conn.negotiated().unwrap().alpn_index,
                Some(tenant as u8),
                "the tenant's protocol"
            );
            exchange(&mut c, &mut s);
        }
    }

    #[test]
    fn a_hello_arriving_byte_by_byte_or_across_records_is_awaited_then_joined() {
        for split in [false, true] {
            let mut c = client_to("a.example");
            let _ = c.conn.handshake(&mut c.bufs).unwrap();
            let hello = c.bufs.send.pending().to_vec();
            c.bufs.send.consume(hello.len());
            let msg = hello[5..].to_vec();
            // As sent, or the same message cut into records of 7 bytes.
            let wire = if split {
                msg.chunks(7)
                    .flat_map(|piece| [&[22, 3, 1, 0, piece.len() as u8][..], piece].concat())
                    .collect()
            } else {
                hello.clone()
            };
            let mut s = side(Connection::server(tenants()[0], tls::now()).unwrap());
            let mut scratch = vec![0u8; msg.len()];
            for (i, b) in wire.iter().enumerate() {
                let status = peek_client_hello(&s.bufs.recv, &mut scratch).unwrap();
                assert!(matches!(status, Status::WantRead), "byte {i}");
                assert_eq!(s.bufs.recv.fill(&[*b]), 1);
            }
            let Status::Done(view) = peek_client_hello(&s.bufs.recv, &mut scratch).unwrap() else {
                panic!("whole");
            };
            assert_eq!(view.server_name(), Some("a.example"));
            if split {
                // Too little scratch for a split hello: the typed refusal.
                let e = peek_client_hello(&s.bufs.recv, &mut [0u8; 100]).unwrap_err();
                assert!(
                    matches!(
                        e,
                        Error::PeerMisbehaved(tlspair::PeerMisbehaved::HandshakeTooLarge { .. })
                    ),
                    "{e:?}"
                );
            }
            // The server reads the same bytes, once, and completes.
            complete(&mut c, &mut s).unwrap();
            exchange(&mut c, &mut s);
        }
    }

    #[test]
    fn what_the_peek_refuses_the_server_refuses_with_its_alert() {
        for wire in [
            vec![21u8, 3, 3, 0, 2, 2, 40],          // an alert first
            vec![20, 3, 3, 0, 1, 1],                // a CCS first
            vec![22, 3, 3, 0, 4, 2, 0, 0, 0],       // a ServerHello
            vec![22, 3, 3, 0, 6, 1, 0, 0, 2, 3, 3], // a truncated hello
            vec![23, 3, 3, 0, 1, 0],                // application data
        ] {
            let mut s = side(Connection::server(tenants()[0], tls::now()).unwrap());
            s.bufs.recv.fill(&wire);
            let peeked = peek_client_hello(&s.bufs.recv, &mut []).unwrap_err();
            let served = s.conn.handshake(&mut s.bufs).unwrap_err();
            assert_eq!(
                peeked.alert(),
                served.alert(),
                "{wire:?}: {peeked:?} / {served:?}"
            );
            assert_eq!(
                !s.bufs.send.is_empty(),
                served.alert().is_some(),
                "the server's alert, when it has one"
            );
        }
        // As the connection reads alerts: user_canceled before the
        // hello (or between its fragments) is skipped, a record of one
        // alert and a half is bad_alert-like for both.
        let mut c = client_to("a.example");
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let hello = c.bufs.send.pending().to_vec();
        c.bufs.send.consume(hello.len());
        let canceled = [21u8, 3, 3, 0, 2, 1, 90];
        let mut s = side(Connection::server(tenants()[0], tls::now()).unwrap());
        s.bufs.recv.fill(&[&canceled[..], &hello].concat());
        assert!(matches!(
            peek_client_hello(&s.bufs.recv, &mut []).unwrap(),
            Status::Done(_)
        ));
        complete(&mut c, &mut s).unwrap();
        let mut s = side(Connection::server(tenants()[0], tls::now()).unwrap());
        s.bufs.recv.fill(&[21u8, 3, 3, 0, 3, 1, 90, 0]);
        let peeked = peek_client_hello(&s.bufs.recv, &mut []).unwrap_err();
        let served = s.conn.handshake(&mut s.bufs).unwrap_err();
        assert_eq!(peeked, served);

        // End of stream before a whole hello.
        let mut s = side(Connection::server(tenants()[0], tls::now()).unwrap());
        s.bufs.recv.fill(&[22, 3, 1]);
        s.bufs.recv.set_eof();
        assert_eq!(
            peek_client_hello(&s.bufs.recv, &mut []).unwrap_err(),
            Error::Truncated
        );
    }
}

mod peek_edges {
    use super::*;
    use tlspair::handshake::peek::peek_client_hello;

    fn our_hello() -> Vec<u8> {
        let mut c =
            side(Connection::client(leak(client_config()), Some("localhost"), tls::now()).unwrap());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        c.bufs.send.pending().to_vec()
    }

    #[test]
    fn a_one_record_hello_in_pieces_is_awaited_without_scratch() {
        // A review suspected the scratch path was taken before the first
        // record was whole; it is not (the header is gathered from whole
        // records only). Kept as the check that it stays so.
        let hello = our_hello();
        let mut recv = tlspair::RecvBuf::new(vec![0u8; 40_000]);
        for piece in hello.chunks(hello.len() / 3 + 1) {
            assert!(
                matches!(peek_client_hello(&recv, &mut []), Ok(Status::WantRead)),
                "a partial hello is awaited"
            );
            recv.fill(piece);
        }
        assert!(matches!(
            peek_client_hello(&recv, &mut []),
            Ok(Status::Done(_))
        ));
    }

    #[test]
    fn a_full_view_without_a_whole_hello_is_an_error_not_a_wait() {
        // Failed before: WantRead for ever, though nothing can arrive.
        let hello = our_hello();
        let mut recv = tlspair::RecvBuf::new(vec![0u8; 100]);
        assert_eq!(recv.fill(&hello), 100);
        let mut scratch = vec![0u8; 100];
        assert!(peek_client_hello(&recv, &mut scratch).is_err());
    }
}

#[test]
fn a_tls12_server_signature_that_comes_on_the_third_poll() {
    // The ServerKeyExchange's signer answers on its third poll: the
    // ServerHello and Certificate go out at once, the rest after it. (A
    // TLS 1.2 server with such a signer used to fail with
    // internal_error.)
    let signer = SlowSigner::new(&creds::SERVER_ECDSA_P256, 3);
    let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
    let certs = leak([CertifiedKey::new(chain, signer)]);
    let mut sc = ServerConfig::new(certs, tls::rng());
    sc.suites = &tlspair::TLS12_SUITES;
    let mut s = side(Connection::server(leak(sc), tls::now()).unwrap());
    let mut cc = client_config();
    cc.suites = &tlspair::TLS12_SUITES;
    let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap(),
        Status::SignaturePending
    );
    assert!(s.conn.awaits_signature());
    assert!(
        !s.bufs.send.is_empty(),
        "ServerHello and Certificate go out"
    );
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    assert_eq!(
        s.conn.write(&mut s.bufs, b"early").unwrap(),
        Status::SignaturePending
    );
    assert!(s.bufs.send.is_empty(), "no new bytes while pending");
    assert_eq!(s.conn.handshake(&mut s.bufs).unwrap(), Status::WantRead);
    assert_eq!(signer.polls(), 3);
    complete(&mut c, &mut s).unwrap();
    assert_eq!(signer.polls(), 3, "never asked again");
    let n = c.conn.negotiated().unwrap();
    assert_eq!(n.version, tlspair::wire::ProtocolVersion::TLS1_2);
    exchange(&mut c, &mut s);

    // A connection dropped while its signer is pending tells it.
    let signer = SlowSigner::new(&creds::SERVER_ECDSA_P256, 100);
    let certs = leak([CertifiedKey::new(chain, signer)]);
    let mut sc = ServerConfig::new(certs, tls::rng());
    sc.suites = &tlspair::TLS12_SUITES;
    let mut s = side(Connection::server(leak(sc), tls::now()).unwrap());
    let mut cc = client_config();
    cc.suites = &tlspair::TLS12_SUITES;
    let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap(),
        Status::SignaturePending
    );
    drop(s);
    assert_eq!(signer.cancelled.load(Ordering::SeqCst), 1);
}

/// A TLS 1.2 pair whose client signs with `signer` (both sides keep the
/// transcript copy), run until the client's first `SignaturePending`.
fn tls12_client_signing_with(signer: &'static SlowSigner) -> (Side, Side) {
    let chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
    let mut cc: ClientConfig<'static> = client_config();
    cc.suites = &tlspair::TLS12_SUITES;
    cc.client_auth = Some(CertifiedKey::new(chain, signer));
    let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    c.conn.keep_tls12_transcript(Vec::new());
    let mut sc = tls::mtls_server_config();
    sc.suites = &tlspair::TLS12_SUITES;
    let mut s = side(Connection::server(leak(sc), tls::now()).unwrap());
    s.conn.keep_tls12_transcript(Vec::new());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap(),
        Status::SignaturePending
    );
    (c, s)
}

#[test]
fn a_tls12_client_signature_that_comes_on_the_third_poll() {
    // The client's CertificateVerify signs the copied transcript: each
    // poll hands the signer the same bytes; the Certificate and
    // ClientKeyExchange go out first, the CertificateVerify, CCS and
    // Finished once it answers.
    let signer = SlowSigner::new(&creds::CLIENT_ECDSA_P256, 3);
    let (mut c, mut s) = tls12_client_signing_with(signer);
    let sent = c.bufs.send.len();
    assert!(sent > 0, "Certificate and ClientKeyExchange go out");
    let mut buf = [0u8; 8];
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut buf).unwrap(),
        Status::SignaturePending
    );
    assert_eq!(c.bufs.send.len(), sent, "no new bytes while pending");
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    assert_eq!(signer.polls(), 3);
    complete(&mut c, &mut s).unwrap();
    assert_eq!(signer.polls(), 3, "never asked again");
    let n = s.conn.negotiated().unwrap();
    assert_eq!(n.version, tlspair::wire::ProtocolVersion::TLS1_2);
    assert!(n.peer_cert_sha256.is_some());
    exchange(&mut c, &mut s);

    // Dropped while pending, the connection cancels the request it made
    // (the same transcript bytes).
    let signer = SlowSigner::new(&creds::CLIENT_ECDSA_P256, 100);
    let (c, _s) = tls12_client_signing_with(signer);
    drop(c);
    assert_eq!(signer.cancelled.load(Ordering::SeqCst), 1);
}

/// A client whose signer is slow answers a post-handshake certificate
/// request on the third poll: `read` answers `SignaturePending` meanwhile
/// (the request stays, nothing is sealed), `awaits_signature` says so,
/// each poll asks for the same signature, and a connection dropped while
/// it is pending cancels exactly that request.
#[test]
fn a_post_handshake_answer_whose_signature_comes_on_the_third_poll() {
    for drop_early in [false, true] {
        let signer = SlowSigner::new(&creds::CLIENT_ECDSA_P256, 3);
        let chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
        let mut cc: ClientConfig<'static> = client_config();
        cc.client_auth = Some(CertifiedKey::new(chain, signer));
        cc.post_handshake_auth = 1;
        let mut sc = tls::mtls_server_config();
        sc.defer_client_auth = true;
        let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
        let mut s = side(Connection::server(leak(sc), tls::now()).unwrap());
        complete(&mut c, &mut s).unwrap();
        assert_eq!(signer.polls(), 0, "not asked in the handshake");
        s.conn.request_client_auth(tls::now()).unwrap();
        assert_eq!(s.conn.write(&mut s.bufs, b"data").unwrap(), Status::Done(4));
        transfer_all(&mut s, &mut c);
        let mut buf = [0u8; 8];
        let sent_before = c.bufs.send.len();
        // The data behind the request is read while the signer works
        // (asked twice in that read: once before the data, once after).
        assert_eq!(c.conn.read(&mut c.bufs, &mut buf).unwrap(), Status::Done(4));
        assert_eq!(&buf[..4], b"data");
        assert_eq!(signer.polls(), 2);
        assert!(c.conn.awaits_signature());
        assert_eq!(
            c.bufs.send.len(),
            sent_before,
            "nothing sealed while pending"
        );
        if drop_early {
            drop(c);
            assert_eq!(signer.cancelled.load(Ordering::SeqCst), 1);
            continue;
        }
        assert_eq!(
            c.conn.read(&mut c.bufs, &mut buf).unwrap(),
            Status::WantRead
        );
        assert!(!c.conn.awaits_signature());
        assert_eq!(signer.polls(), 3);
        transfer_all(&mut c, &mut s);
        assert_eq!(
            s.conn.read(&mut s.bufs, &mut buf).unwrap(),
            Status::WantRead
        );
        assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
        assert_eq!(signer.cancelled.load(Ordering::SeqCst), 0);
    }
}
