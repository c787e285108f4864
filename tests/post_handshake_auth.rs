//! TLS 1.3 post-handshake client authentication (RFC 8446 §4.6.2): a
//! server asks once the handshake is done (`request_client_auth`), the
//! client's `read` answers with Certificate, CertificateVerify and
//! Finished under the room rules of any flight, and the server's `read`
//! verifies the answer, reports it in `negotiated` and tells its hook;
//! data flows both ways meanwhile. Then the refusals, each with its
//! alert.

mod common;

use std::sync::Mutex;

use common::tls::{self, certified, client_config, leak, secret_of, Lines};
use common::{transfer_all, Side};
use tlspair::handshake::messages::HANDSHAKE_HEADER_LEN;
use tlspair::handshake::post_auth::{AuthHook, PeerAuth, MAX_AUTH_REQUESTS};
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::record::protect::RecordKey;
use tlspair::record::HEADER_LEN;
use tlspair::test_credentials as creds;
use tlspair::verify::WebPkiClientVerifier;
use tlspair::wire::HandshakeType;
use tlspair::{
    AlertDescription as AD, Connection, ContentType, Error, Misuse, PeerIncompatible,
    PeerMisbehaved, Status, TLS13_AES_128_GCM_SHA256,
};

/// Remembers every answer, by connection tag.
#[derive(Default)]
struct Hook(Mutex<Vec<(u64, PeerAuth)>>);

impl AuthHook for Hook {
    fn authenticated(&self, connection: u64, auth: &PeerAuth) {
        self.0.lock().unwrap().push((connection, *auth));
    }
}

/// A client that offers post_handshake_auth with the test client
/// certificate, answering up to `answers` requests.
fn pha_client(answers: u8) -> ClientConfig<'static> {
    let mut cc = client_config();
    cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    cc.post_handshake_auth = answers;
    cc
}

/// A server that defers client authentication to after the handshake,
/// with a verifier that requires a certificate (or allows none, with
/// `anonymous`), a hook, and its secrets logged.
fn pha_server(anonymous: bool) -> (ServerConfig<'static>, &'static Hook, &'static Lines) {
    let hook: &'static Hook = leak(Hook::default());
    let lines: &'static Lines = leak(Lines::default());
    let mut sc = tls::p256_server_config();
    let verifier = WebPkiClientVerifier::new(tls::anchors(creds::CA_CERT));
    sc.client_verifier = Some(if anonymous {
        leak(verifier.allow_anonymous())
    } else {
        leak(verifier)
    });
    sc.defer_client_auth = true;
    sc.auth_hook = Some(hook);
    sc.key_log = Some(lines);
    sc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
    (sc, hook, lines)
}

/// Both sides established, the server's tickets read by the client.
fn established(cc: ClientConfig<'static>, sc: ServerConfig<'static>) -> (Side, Side) {
    let (mut c, mut s) = tls::pair(cc, sc);
    tls::complete(&mut c, &mut s).unwrap();
    s.conn.set_tag(7);
    (c, s)
}

/// Reads what is there: the bytes, then how the read ended.
fn read_all(side: &mut Side) -> (Vec<u8>, Result<Status<usize>, Error>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match side.conn.read(&mut side.bufs, &mut buf) {
            Ok(Status::Done(0)) => return (got, Ok(Status::Done(0))),
            Ok(Status::Done(n)) => got.extend_from_slice(&buf[..n]),
            other => return (got, other),
        }
    }
}

fn write_all(side: &mut Side, data: &[u8]) {
    assert_eq!(
        side.conn.write(&mut side.bufs, data).unwrap(),
        Status::Done(data.len())
    );
}

#[test]
fn a_deferred_client_is_authenticated_during_a_transfer() {
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    // Not asked in the handshake.
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
    assert_eq!(s.conn.client_auth_pending(), 0);

    s.conn.request_client_auth(tls::now()).unwrap();
    assert_eq!(s.conn.client_auth_pending(), 1);
    assert!(s.conn.wants_write(&s.bufs));
    // The request goes out before the data that follows it.
    write_all(&mut s, b"server data after the request");
    assert!(!s.conn.wants_write(&s.bufs) || !s.bufs.send.is_empty());
    // The client sends data before it has seen the request.
    write_all(&mut c, b"client data before the answer");
    transfer_all(&mut s, &mut c);
    // Its read answers the request and delivers the data after it.
    let (got, end) = read_all(&mut c);
    assert_eq!(got, b"server data after the request");
    assert_eq!(end, Ok(Status::WantRead));
    write_all(&mut c, b"client data after the answer");
    transfer_all(&mut c, &mut s);
    let (got, end) = read_all(&mut s);
    assert_eq!(
        got,
        b"client data before the answerclient data after the answer"
    );
    assert_eq!(end, Ok(Status::WantRead));

    let expected = ring::digest::digest(&ring::digest::SHA256, creds::CLIENT_ECDSA_P256.cert);
    let negotiated = s.conn.negotiated().unwrap();
    assert_eq!(
        negotiated.peer_cert_sha256.as_ref().map(|d| &d[..]),
        Some(expected.as_ref())
    );
    assert_eq!(s.conn.client_auth_pending(), 0);
    let seen = hook.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, 7);
    assert_eq!(seen[0].1.request, 0);
    assert_eq!(seen[0].1.peer_cert_sha256, negotiated.peer_cert_sha256);
}

#[test]
fn several_requests_are_answered_and_matched_by_context() {
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(MAX_AUTH_REQUESTS), sc);
    for _ in 0..MAX_AUTH_REQUESTS {
        s.conn.request_client_auth(tls::now()).unwrap();
    }
    // A ninth while eight are unanswered is refused, and changes nothing.
    assert_eq!(
        s.conn.request_client_auth(tls::now()),
        Err(Error::Misuse(Misuse::TooManyAuthRequests))
    );
    assert_eq!(s.conn.client_auth_pending(), MAX_AUTH_REQUESTS);
    assert_eq!(s.conn.handshake(&mut s.bufs), Ok(Status::Done(())));
    transfer_all(&mut s, &mut c);
    assert_eq!(read_all(&mut c).1, Ok(Status::WantRead));
    transfer_all(&mut c, &mut s);
    assert_eq!(read_all(&mut s).1, Ok(Status::WantRead));
    assert_eq!(s.conn.client_auth_pending(), 0);
    let requests: Vec<u16> = hook
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, a)| a.request)
        .collect();
    assert_eq!(
        requests,
        (0..u16::from(MAX_AUTH_REQUESTS)).collect::<Vec<_>>()
    );
    // Once answered, there is room again.
    s.conn.request_client_auth(tls::now()).unwrap();
}

#[test]
fn a_client_answers_only_as_many_requests_as_configured() {
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    s.conn.request_client_auth(tls::now()).unwrap();
    assert_eq!(s.conn.handshake(&mut s.bufs), Ok(Status::Done(())));
    transfer_all(&mut s, &mut c);
    let (_, end) = read_all(&mut c);
    assert_eq!(
        end,
        Err(Error::PeerMisbehaved(PeerMisbehaved::TooManyAuthRequests))
    );
    // The first answer went out before the alert.
    transfer_all(&mut c, &mut s);
    let (_, end) = read_all(&mut s);
    assert_eq!(
        end,
        Err(Error::AlertReceived(AD::UNEXPECTED_MESSAGE)),
        "the server reads the answer, then the alert"
    );
    let seen = hook.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].1.peer_cert_sha256.is_some());
}

#[test]
fn a_server_cannot_ask_a_client_that_did_not_offer_it() {
    let (sc, _, _) = pha_server(false);
    // Without post_handshake_auth the client is asked in the handshake.
    let mut cc = client_config();
    cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    let (_, s) = established(cc, sc.clone());
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    let mut s = s;
    assert_eq!(
        s.conn.request_client_auth(tls::now()),
        Err(Error::Misuse(Misuse::NoPostHandshakeAuth))
    );
    // Nor before its handshake is done, nor as a client.
    let (mut c, mut s) = tls::pair(pha_client(1), sc);
    assert_eq!(
        s.conn.request_client_auth(tls::now()),
        Err(Error::Misuse(Misuse::NoPostHandshakeAuth))
    );
    tls::complete(&mut c, &mut s).unwrap();
    assert_eq!(
        c.conn.request_client_auth(tls::now()),
        Err(Error::Misuse(Misuse::NoPostHandshakeAuth))
    );
}

#[test]
fn an_empty_answer_is_certificate_required_or_reported_by_policy() {
    for anonymous in [false, true] {
        let (sc, hook, _) = pha_server(anonymous);
        // A client that offers it but has no key for the request's
        // schemes answers with an empty Certificate.
        let mut cc = pha_client(1);
        cc.client_auth = Some(certified(&creds::SERVER_ED25519));
        let mut verifier_schemes = sc.clone();
        verifier_schemes.client_verifier = Some(leak(OnlyP384(
            WebPkiClientVerifier::new(tls::anchors(creds::CA_CERT)),
            anonymous,
        )));
        let (mut c, mut s) = established(cc, verifier_schemes);
        s.conn.request_client_auth(tls::now()).unwrap();
        assert_eq!(s.conn.handshake(&mut s.bufs), Ok(Status::Done(())));
        transfer_all(&mut s, &mut c);
        assert_eq!(read_all(&mut c).1, Ok(Status::WantRead));
        transfer_all(&mut c, &mut s);
        let (_, end) = read_all(&mut s);
        if anonymous {
            assert_eq!(end, Ok(Status::WantRead));
            let seen = hook.0.lock().unwrap().clone();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].1.peer_cert_sha256, None);
            assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
        } else {
            assert_eq!(
                end,
                Err(Error::PeerIncompatible(
                    PeerIncompatible::CertificateRequired
                ))
            );
            assert_eq!(s.bufs.send.pending().len(), HEADER_LEN + 2 + 17);
            transfer_all(&mut s, &mut c);
            assert_eq!(
                read_all(&mut c).1,
                Err(Error::AlertReceived(AD::CERTIFICATE_REQUIRED))
            );
        }
    }
}

/// A client verifier that lists ECDSA P-384 alone (so the P-256 and
/// Ed25519 test clients have no key for it).
struct OnlyP384(WebPkiClientVerifier<'static>, bool);

impl tlspair::verify::ClientCertVerifier for OnlyP384 {
    fn verify_client_cert(
        &self,
        chain: &[tlspair::verify::CertificateDer<'_>],
        now: tlspair::verify::UnixTime,
    ) -> Result<(), tlspair::verify::CertificateError> {
        self.0.verify_client_cert(chain, now)
    }
    fn verify_signature(
        &self,
        ee: &tlspair::verify::CertificateDer<'_>,
        scheme: tlspair::wire::SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), tlspair::verify::CertificateError> {
        self.0.verify_signature(ee, scheme, message, signature)
    }
    fn supported_schemes(&self) -> &[tlspair::wire::SignatureScheme] {
        &[tlspair::wire::SignatureScheme::ECDSA_SECP384R1_SHA384]
    }
    fn client_auth_mandatory(&self) -> bool {
        !self.1
    }
    fn policy_digest(&self) -> [u8; 32] {
        [0x38; 32]
    }
}

#[test]
fn a_request_waits_for_room_in_the_clients_outgoing_view() {
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    write_all(&mut s, b"after");
    transfer_all(&mut s, &mut c);
    // The client's outgoing view is full: the request stays and its read
    // answers WantWrite, having read the data behind the request (so a
    // server that writes on before reading cannot stall it).
    let filler = vec![0x55; c.bufs.send.capacity() - 100];
    let _ = c.conn.write(&mut c.bufs, &filler).unwrap();
    let free = c.bufs.send.capacity() - c.bufs.send.pending().len();
    let (got, end) = read_all(&mut c);
    assert_eq!(got, b"after");
    match end {
        Ok(Status::WantWrite { needed }) => assert!(needed > free, "{needed} > {free}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.conn.client_auth_pending(), 1);
    // More data behind the waiting request is read too.
    write_all(&mut s, b" and more");
    transfer_all(&mut s, &mut c);
    let (got, end) = read_all(&mut c);
    assert_eq!(got, b" and more");
    assert!(matches!(end, Ok(Status::WantWrite { .. })), "{end:?}");
    // Drained, the next read answers.
    transfer_all(&mut c, &mut s);
    let (mut got_s, _) = read_all(&mut s);
    let (got, end) = read_all(&mut c);
    assert!(got.is_empty());
    assert_eq!(end, Ok(Status::WantRead));
    transfer_all(&mut c, &mut s);
    got_s.extend(read_all(&mut s).0);
    assert_eq!(got_s, filler);
    assert_eq!(hook.0.lock().unwrap().len(), 1);
    assert_eq!(s.conn.client_auth_pending(), 0);
    // The view is whole again.
    assert!(c.bufs.recv.is_empty(), "{}", c.bufs.recv.len());
}

#[test]
fn behind_a_waiting_request_a_key_update_stops_reading() {
    // Request, data, KeyUpdate, data: while the answer waits, the first
    // data is read; the KeyUpdate joins the region and nothing after it
    // is read until the request is answered (its records are under the
    // new key), then all of it.
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    write_all(&mut s, b"one ");
    s.conn.key_update(false);
    write_all(&mut s, b"two");
    transfer_all(&mut s, &mut c);
    let filler = vec![0x55; c.bufs.send.capacity() - 100];
    let _ = c.conn.write(&mut c.bufs, &filler).unwrap();
    let (got, end) = read_all(&mut c);
    assert_eq!(got, b"one ");
    assert!(matches!(end, Ok(Status::WantWrite { .. })), "{end:?}");
    transfer_all(&mut c, &mut s);
    let _ = read_all(&mut s);
    let (got, end) = read_all(&mut c);
    assert_eq!(got, b"two");
    assert_eq!(end, Ok(Status::WantRead));
    transfer_all(&mut c, &mut s);
    let _ = read_all(&mut s);
    assert_eq!(hook.0.lock().unwrap().len(), 1);
}

// ---- hostile peers ---------------------------------------------------

/// `content` as a protected handshake record under `secret` at `seq`.
fn seal(secret: &[u8], seq: u64, content: &[u8]) -> Vec<u8> {
    seal_as(secret, seq, ContentType::HANDSHAKE, content)
}

/// A CertificateRequest with `context`, listing ECDSA P-256.
fn request(context: &[u8]) -> Vec<u8> {
    let mut body = vec![context.len() as u8];
    body.extend(context);
    body.extend([0, 8, 0, 13, 0, 4, 0, 2, 4, 3]);
    message(HandshakeType::CERTIFICATE_REQUEST, &body)
}

fn message(ty: HandshakeType, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty.0];
    m.extend(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend(body);
    m
}

#[test]
fn a_request_to_a_client_that_did_not_offer_it_is_unexpected_message() {
    // (It may go without a certificate: it is asked in the handshake.)
    let (sc, _, lines) = pha_server(true);
    let mut cc = client_config();
    cc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
    let (mut c, s) = established(cc, sc);
    let (seq, _) = s.conn.sequence_numbers();
    let rec = seal(
        &secret_of(lines, "SERVER_TRAFFIC_SECRET_0"),
        seq,
        &request(&[1, 2]),
    );
    c.bufs.recv.fill(&rec);
    assert_eq!(
        read_all(&mut c).1,
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(
            HandshakeType::CERTIFICATE_REQUEST
        )))
    );
}

#[test]
fn a_flood_of_requests_ends_at_the_configured_bound() {
    let (sc, _, lines) = pha_server(false);
    let (mut c, s) = established(pha_client(3), sc);
    let (seq, _) = s.conn.sequence_numbers();
    let secret = secret_of(lines, "SERVER_TRAFFIC_SECRET_0");
    let mut flood = Vec::new();
    for i in 0..50u64 {
        flood.extend(seal(&secret, seq + i, &request(&i.to_be_bytes())));
    }
    let mut answered = 0;
    let mut off = 0;
    let end = loop {
        off += c.bufs.recv.fill(&flood[off..]);
        let (_, end) = read_all(&mut c);
        let before = c.bufs.send.pending().len();
        c.bufs.send.consume(usize::MAX);
        match end {
            Ok(Status::WantRead) | Ok(Status::WantWrite { .. }) => {
                answered += usize::from(before > 0);
                assert!(off < flood.len(), "the flood was read without end");
            }
            other => break other,
        }
    };
    assert_eq!(
        end,
        Err(Error::PeerMisbehaved(PeerMisbehaved::TooManyAuthRequests))
    );
    assert!(answered <= 3, "{answered}");
}

/// Establishes a deferring server with a client whose answer to one
/// request the test rewrites: returns the server, the answer's
/// messages (decrypted) and what seals a replacement.
fn answer_to_rewrite() -> (Side, Vec<u8>, Vec<u8>, u64) {
    let (sc, _, lines) = pha_server(false);
    let mut cc = pha_client(1);
    cc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
    let (mut c, mut s) = established(cc, sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    assert_eq!(s.conn.handshake(&mut s.bufs), Ok(Status::Done(())));
    transfer_all(&mut s, &mut c);
    assert_eq!(read_all(&mut c).1, Ok(Status::WantRead));
    let client_secret = secret_of(lines, "CLIENT_TRAFFIC_SECRET_0");
    let (_, seq) = s.conn.sequence_numbers();
    let wire = c.bufs.send.pending().to_vec();
    let mut key = RecordKey::new(&TLS13_AES_128_GCM_SHA256, &client_secret).unwrap();
    for _ in 0..seq {
        let mut scratch = vec![0u8; HEADER_LEN + 1 + 16];
        key.seal(ContentType::APPLICATION_DATA, 0, &mut scratch)
            .unwrap();
    }
    let mut messages = Vec::new();
    let mut rest = &wire[..];
    while rest.len() >= HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let mut rec = rest[..HEADER_LEN + len].to_vec();
        rest = &rest[HEADER_LEN + len..];
        let (ty, n) = key.open(&mut rec).unwrap();
        assert_eq!(ty, ContentType::HANDSHAKE);
        messages.extend(&rec[HEADER_LEN..HEADER_LEN + n]);
    }
    (s, messages, client_secret, seq)
}

/// Splits handshake messages.
fn split(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while bytes.len() >= HANDSHAKE_HEADER_LEN {
        let len = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]) as usize;
        out.push(bytes[..HANDSHAKE_HEADER_LEN + len].to_vec());
        bytes = &bytes[HANDSHAKE_HEADER_LEN + len..];
    }
    out
}

/// The server's error for the answer's messages after `edit`.
fn server_meets(edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> (Error, Vec<u8>) {
    let (mut s, messages, secret, seq) = answer_to_rewrite();
    let mut messages = split(&messages);
    assert_eq!(
        messages.len(),
        3,
        "Certificate, CertificateVerify, Finished"
    );
    edit(&mut messages);
    let rec = seal(&secret, seq, &messages.concat());
    s.bufs.recv.fill(&rec);
    let e = read_all(&mut s).1.unwrap_err();
    (e, s.bufs.send.pending().to_vec())
}

#[test]
fn the_answer_unaltered_is_accepted() {
    let (mut s, messages, secret, seq) = answer_to_rewrite();
    s.bufs.recv.fill(&seal(&secret, seq, &messages));
    assert_eq!(read_all(&mut s).1, Ok(Status::WantRead));
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

#[test]
fn a_wrong_or_replayed_context_is_illegal_parameter() {
    for context in [&[0u8, 1][..], &[], &[0], &[0, 0, 0], &[0xff, 0xff]] {
        let (e, _) = server_meets(|m| {
            // Certificate: context length at 4, the context after it.
            let old = usize::from(m[0][4]);
            let mut body = vec![context.len() as u8];
            body.extend(context);
            body.extend(&m[0][5 + old..]);
            m[0] = message(HandshakeType::CERTIFICATE, &body);
        });
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter(
                "certificate_request_context"
            )),
            "{context:?}"
        );
    }
}

#[test]
fn a_bad_signature_or_finished_is_decrypt_error() {
    let (e, _) = server_meets(|m| {
        let last = m[1].len() - 1;
        m[1][last] ^= 1;
    });
    assert!(matches!(e, Error::Certificate(_)), "{e:?}");
    assert_eq!(e.alert(), Some(AD::DECRYPT_ERROR));
    let (e, _) = server_meets(|m| {
        let last = m[2].len() - 1;
        m[2][last] ^= 1;
    });
    assert_eq!(e, Error::PeerMisbehaved(PeerMisbehaved::BadFinished));
    assert_eq!(e.alert(), Some(AD::DECRYPT_ERROR));
}

#[test]
fn messages_out_of_order_or_missing_are_unexpected_message() {
    // Finished where CertificateVerify must be.
    let (e, _) = server_meets(|m| {
        m.remove(1);
    });
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(HandshakeType::FINISHED))
    );
    // A KeyUpdate inside the answer.
    let (e, _) = server_meets(|m| m.insert(2, message(HandshakeType::KEY_UPDATE, &[0])));
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(
            HandshakeType::KEY_UPDATE
        ))
    );
    // An answer nobody asked for: a second copy after the first.
    let (mut s, messages, secret, seq) = answer_to_rewrite();
    let mut wire = seal(&secret, seq, &messages);
    wire.extend(seal(&secret, seq + 1, &messages));
    s.bufs.recv.fill(&wire);
    assert_eq!(
        read_all(&mut s).1,
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(
            HandshakeType::CERTIFICATE
        )))
    );
}

#[test]
fn an_answer_cut_across_records_is_reassembled() {
    let (mut s, messages, secret, seq) = answer_to_rewrite();
    let mut wire = Vec::new();
    for (i, piece) in messages.chunks(7).enumerate() {
        wire.extend(seal(&secret, seq + i as u64, piece));
    }
    let mut off = 0;
    while off < wire.len() {
        off += s.bufs.recv.fill(&wire[off..(off + 50).min(wire.len())]);
        assert_eq!(read_all(&mut s).1, Ok(Status::WantRead));
    }
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

/// `content` as a protected record of `ty` under `secret` at `seq`.
fn seal_as(secret: &[u8], seq: u64, ty: ContentType, content: &[u8]) -> Vec<u8> {
    tls::seal_record(secret, seq, ty, content, 0)
}

#[test]
fn application_data_between_the_answers_messages_is_unexpected_message() {
    // RFC 8446 §4.6.2: the client's messages for a response appear
    // consecutively on the wire, no other type between them.
    for between in 0..2 {
        let (mut s, messages, secret, seq) = answer_to_rewrite();
        let parts = split(&messages);
        let mut wire = Vec::new();
        let mut n = seq;
        for (i, part) in parts.iter().enumerate() {
            wire.extend(seal_as(&secret, n, ContentType::HANDSHAKE, part));
            n += 1;
            if i == between {
                wire.extend(seal_as(&secret, n, ContentType::APPLICATION_DATA, b"early"));
                n += 1;
            }
        }
        s.bufs.recv.fill(&wire);
        assert_eq!(
            read_all(&mut s).1,
            Err(Error::PeerMisbehaved(
                PeerMisbehaved::HandshakeFragmentation
            )),
            "data after message {between}"
        );
        assert_eq!(s.bufs.send.pending().len(), HEADER_LEN + 2 + 17);
    }
}

#[test]
fn one_read_never_returns_data_from_both_sides_of_an_answer() {
    // Data, the answer, data: the first read stops before the answer, so
    // what it returns came before the client proved anything.
    let (mut s, messages, secret, seq) = answer_to_rewrite();
    let mut wire = seal_as(&secret, seq, ContentType::APPLICATION_DATA, b"before ");
    wire.extend(seal_as(&secret, seq + 1, ContentType::HANDSHAKE, &messages));
    wire.extend(seal_as(
        &secret,
        seq + 2,
        ContentType::APPLICATION_DATA,
        b"after",
    ));
    s.bufs.recv.fill(&wire);
    let mut buf = [0u8; 64];
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::Done(7)));
    assert_eq!(&buf[..7], b"before ");
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::Done(5)));
    assert_eq!(&buf[..5], b"after");
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

#[test]
fn a_ticket_from_a_deferred_handshake_never_resumes_under_a_mandatory_verifier() {
    // Its client was never asked: resuming it would skip the certificate
    // the verifier requires, here or on another server sharing the
    // ticket key (with or without deferring). Each resumption attempt is
    // a full handshake, which asks (or, deferred, leaves the client
    // unauthenticated until it answers a request).
    use common::tls::Tickets;
    use tlspair::handshake::ticket::TicketKey;
    let keys: &'static [TicketKey] = leak([TicketKey::new(1, &[9; 32]).unwrap()]);
    let store: &'static Tickets = leak(Tickets::default());
    let (mut sc, _, _) = pha_server(false);
    sc.ticket_keys = keys.into();
    let sc = leak(sc);
    let mut cc = pha_client(1);
    cc.ticket_sink = Some(store);
    let cc = leak(cc);
    let ticket = tls::first_ticket(cc, sc, store);
    let mut strict = sc.clone();
    strict.defer_client_auth = false;
    for server in [sc, leak(strict)] {
        let c = Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).unwrap();
        let s = Connection::server(server, tls::now()).unwrap();
        let (mut c, mut s) = (tls::side(c), tls::side(s));
        tls::complete(&mut c, &mut s).unwrap();
        let n = s.conn.negotiated().unwrap();
        assert!(!n.resumed, "defer = {}", server.defer_client_auth);
        assert_eq!(n.peer_cert_sha256.is_some(), !server.defer_client_auth);
    }
}

#[test]
fn requests_not_yet_written_when_we_close_are_dropped() {
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    assert_eq!(s.conn.client_auth_pending(), 1);
    assert_eq!(
        s.conn.shutdown(&mut s.bufs).unwrap(),
        Status::Done(tlspair::Shutdown::Sent)
    );
    assert_eq!(
        s.conn.client_auth_pending(),
        0,
        "the queued request is dropped"
    );
    assert!(!s.conn.wants_write(&s.bufs) || !s.bufs.send.is_empty());
    transfer_all(&mut s, &mut c);
    // The client sees the close_notify and no request.
    let (_, end) = read_all(&mut c);
    assert_eq!(end, Ok(Status::Closed));
    assert!(c.bufs.send.is_empty(), "no request came to answer");
    assert!(hook.0.lock().unwrap().is_empty());
    assert_eq!(
        s.conn.request_client_auth(tls::now()),
        Err(Error::Misuse(Misuse::WriteAfterShutdown))
    );
}

#[test]
fn each_answer_is_checked_at_the_time_of_its_request() {
    // The test client certificate is valid for 20 years from 2026-11-25.
    let later = tlspair::verify::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        2_600_000_000, // 2052
    ));
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(2), sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    s.conn.request_client_auth(later).unwrap();
    assert_eq!(s.conn.handshake(&mut s.bufs), Ok(Status::Done(())));
    transfer_all(&mut s, &mut c);
    assert_eq!(read_all(&mut c).1, Ok(Status::WantRead));
    transfer_all(&mut c, &mut s);
    let (_, end) = read_all(&mut s);
    // The first answer verifies at its request's time; the second is
    // checked in 2052, when the certificate has expired.
    assert_eq!(
        end,
        Err(Error::Certificate(
            tlspair::verify::CertificateError::Expired
        ))
    );
    let seen = hook.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1.request, 0);
}

#[test]
fn requests_after_our_close_notify_go_unanswered_and_a_flood_is_cut_off() {
    let (sc, _, lines) = pha_server(false);
    let mut cc = pha_client(100);
    cc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
    let (mut c, s) = established(cc, sc);
    assert_eq!(
        c.conn.shutdown(&mut c.bufs).unwrap(),
        Status::Done(tlspair::Shutdown::Sent)
    );
    c.bufs.send.consume(usize::MAX);
    let (seq, _) = s.conn.sequence_numbers();
    let secret = secret_of(lines, "SERVER_TRAFFIC_SECRET_0");
    let one = seal(&secret, seq, &request(&[0, 0]));
    c.bufs.recv.fill(&one);
    assert_eq!(read_all(&mut c).1, Ok(Status::WantRead));
    assert!(c.bufs.send.is_empty(), "nothing follows our close_notify");
    let mut flood = Vec::new();
    for i in 1..40u64 {
        flood.extend(seal(&secret, seq + i, &request(&i.to_be_bytes())));
    }
    c.bufs.recv.fill(&flood);
    assert_eq!(
        read_all(&mut c).1,
        Err(Error::PeerMisbehaved(PeerMisbehaved::TooManyEmptyRecords))
    );
}

#[test]
fn a_read_stops_only_before_an_answer_not_before_a_key_update() {
    // Data, a KeyUpdate, data: one read returns both (a short read still
    // means no whole record waits).
    let (sc, _, lines) = pha_server(false);
    let mut cc = pha_client(1);
    cc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
    let (mut c, s) = established(cc, sc);
    let (seq, _) = s.conn.sequence_numbers();
    let secret = secret_of(lines, "SERVER_TRAFFIC_SECRET_0");
    let mut wire = seal_as(&secret, seq, ContentType::APPLICATION_DATA, b"one ");
    wire.extend(seal_as(
        &secret,
        seq + 1,
        ContentType::HANDSHAKE,
        &message(HandshakeType::KEY_UPDATE, &[0]),
    ));
    // After the update, the next secret; at sequence 0.
    let next = tlspair::key_schedule::Secret::new(&secret)
        .unwrap()
        .expand(&TLS13_AES_128_GCM_SHA256, b"traffic upd", &[])
        .unwrap();
    wire.extend(seal_as(
        next.as_bytes(),
        0,
        ContentType::APPLICATION_DATA,
        b"two",
    ));
    c.bufs.recv.fill(&wire);
    let mut buf = [0u8; 64];
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::Done(7)));
    assert_eq!(&buf[..7], b"one two");
}

#[test]
fn shutdown_cancels_a_signature_pending_for_an_answer() {
    // A client signer that never answers: its request is cancelled when
    // our close_notify makes the answer moot.
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Never(tlspair::sign::SigningKey, AtomicUsize);
    impl tlspair::sign::Signer for Never {
        fn schemes(&self) -> &[tlspair::wire::SignatureScheme] {
            self.0.schemes()
        }
        fn max_signature_len(&self) -> usize {
            self.0.max_signature_len()
        }
        fn sign(
            &self,
            _: &tlspair::sign::SignRequest<'_>,
            _: &mut [u8],
        ) -> Result<tlspair::sign::Signing, Error> {
            Ok(tlspair::sign::Signing::Pending)
        }
        fn cancel(&self, _: &tlspair::sign::SignRequest<'_>) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
    let signer: &'static Never = leak(Never(
        tlspair::sign::SigningKey::from_pkcs8(creds::CLIENT_ECDSA_P256.key, tls::rng()).unwrap(),
        AtomicUsize::new(0),
    ));
    let chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
    let mut cc = pha_client(1);
    cc.client_auth = Some(tlspair::handshake::CertifiedKey::new(chain, signer));
    let (sc, _, _) = pha_server(false);
    let (mut c, mut s) = established(cc, sc);
    s.conn.request_client_auth(tls::now()).unwrap();
    assert_eq!(s.conn.handshake(&mut s.bufs), Ok(Status::Done(())));
    transfer_all(&mut s, &mut c);
    assert_eq!(read_all(&mut c).1, Ok(Status::SignaturePending));
    assert!(c.conn.awaits_signature());
    assert_eq!(
        c.conn.shutdown(&mut c.bufs),
        Ok(Status::Done(tlspair::Shutdown::Sent))
    );
    assert_eq!(signer.1.load(Ordering::SeqCst), 1);
    assert!(!c.conn.awaits_signature());
    drop(c);
    assert_eq!(signer.1.load(Ordering::SeqCst), 1, "told once");
}

#[test]
fn no_request_once_the_client_has_closed() {
    let (sc, _, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    assert_eq!(
        c.conn.shutdown(&mut c.bufs),
        Ok(Status::Done(tlspair::Shutdown::Sent))
    );
    transfer_all(&mut c, &mut s);
    assert_eq!(read_all(&mut s).1, Ok(Status::Closed));
    assert_eq!(
        s.conn.request_client_auth(tls::now()),
        Err(Error::Misuse(Misuse::NoPostHandshakeAuth))
    );
    assert_eq!(s.conn.client_auth_pending(), 0);
}

#[test]
fn a_request_larger_than_the_outgoing_view_does_not_stop_reading() {
    // The server's view holds the smallest record and no request: its
    // reads go on delivering data; its writes say the view is too small,
    // taking nothing, until a larger one is lent.
    let (sc, hook, _) = pha_server(false);
    let (mut c, mut s) = established(pha_client(1), sc);
    s.bufs.send = tlspair::SendBuf::new(vec![0; tlspair::record::MIN_SEND_CAPACITY]);
    s.conn.request_client_auth(tls::now()).unwrap();
    write_all(&mut c, b"still flowing");
    transfer_all(&mut c, &mut s);
    let (got, end) = read_all(&mut s);
    assert_eq!(got, b"still flowing");
    assert_eq!(end, Ok(Status::WantRead));
    let needed = match s.conn.write(&mut s.bufs, b"x") {
        Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => needed,
        other => panic!("{other:?}"),
    };
    assert!(needed > tlspair::record::MIN_SEND_CAPACITY);
    s.bufs.send = tlspair::SendBuf::new(vec![0; 20_000]);
    write_all(&mut s, b"x");
    transfer_all(&mut s, &mut c);
    assert_eq!(read_all(&mut c).0, b"x");
    transfer_all(&mut c, &mut s);
    assert_eq!(read_all(&mut s).1, Ok(Status::WantRead));
    assert_eq!(hook.0.lock().unwrap().len(), 1);
}

#[test]
fn an_answer_message_announcing_an_impossible_length_is_refused_on_its_header() {
    for (index, len) in [(1usize, 0x00ff_ffffu32), (1, 4 + 513), (2, 47), (2, 49)] {
        let (mut s, messages, secret, seq) = answer_to_rewrite();
        let parts = split(&messages);
        // Everything before the message, then its header alone.
        let mut bytes = parts[..index].concat();
        bytes.push(parts[index][0]);
        bytes.extend(&len.to_be_bytes()[1..]);
        s.bufs
            .recv
            .fill(&seal_as(&secret, seq, ContentType::HANDSHAKE, &bytes));
        assert_eq!(
            read_all(&mut s).1,
            Err(Error::InvalidMessage(tlspair::InvalidMessage::Handshake(
                "post-handshake answer length"
            ))),
            "message {index}, length {len}"
        );
    }
}

#[test]
fn a_bad_request_is_refused_at_once_even_without_room_for_an_answer() {
    let (sc, _, lines) = pha_server(false);
    let mut cc = pha_client(1);
    cc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
    let (mut c, s) = established(cc, sc);
    let filler = vec![0x55; c.bufs.send.capacity() - 100];
    let _ = c.conn.write(&mut c.bufs, &filler).unwrap();
    let (seq, _) = s.conn.sequence_numbers();
    let secret = secret_of(lines, "SERVER_TRAFFIC_SECRET_0");
    // No signature_algorithms: decode_error, whatever the room.
    let bad = message(HandshakeType::CERTIFICATE_REQUEST, &[0, 0, 0]);
    c.bufs.recv.fill(&seal(&secret, seq, &bad));
    assert_eq!(
        read_all(&mut c).1,
        Err(Error::InvalidMessage(tlspair::InvalidMessage::Handshake(
            "missing signature_algorithms"
        )))
    );
}
