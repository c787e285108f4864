//! Who the peer is: verifiers see the connection's context (SNI, ALPN)
//! and name the peer; the name is reported after the handshake and, carried
//! in the session's tickets, after a resumption, for both roles.

mod common;

use common::tls::Tickets;

use std::sync::Mutex;

use common::tls::{self, certified, client_config, complete, p256_server_config, side};
use common::{transfer_all, Side};
use tlspair::handshake::ticket::{StoredTicket, TicketKey};
use tlspair::test_credentials as creds;
use tlspair::verify::{
    CertificateDer, CertificateError, ClientCertContext, ClientCertVerifier, ServerCertContext,
    ServerCertVerifier, ServerName, UnixTime, WebPkiClientVerifier, WebPkiServerVerifier,
};
use tlspair::wire::SignatureScheme;
use tlspair::{AlertDescription as AD, Connection, Error, Status};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// The embedder's name for a certificate: its first 8 SHA-256 bytes.
fn name_of(der: &[u8]) -> u64 {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    u64::from_be_bytes(d.as_ref()[..8].try_into().unwrap())
}

/// What a naming verifier was shown, one entry per call.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    server_name: Option<String>,
    alpn_offered: Vec<Vec<u8>>,
    alpn: Option<Vec<u8>>,
}

/// A server verifier that checks as webpki does, then names the server
/// (or refuses everyone, with `refuse`).
struct NamingServerVerifier {
    inner: WebPkiServerVerifier<'static>,
    seen: Mutex<Vec<Seen>>,
    refuse: bool,
    /// Gives no policy digest: its identities stay out of tickets.
    unrecorded: bool,
}

impl ServerCertVerifier for NamingServerVerifier {
    fn verify_server_cert(
        &self,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: UnixTime,
    ) -> Result<(), CertificateError> {
        panic!("the handshake calls verify_server_cert_in")
    }

    fn supported_schemes(&self) -> &[SignatureScheme] {
        self.inner.supported_schemes()
    }

    fn verify_server_cert_in(
        &self,
        chain: &[CertificateDer<'_>],
        context: &ServerCertContext<'_>,
    ) -> Result<Option<u64>, CertificateError> {
        self.seen.lock().unwrap().push(Seen {
            server_name: context.server_name.map(|n| n.to_str().into_owned()),
            alpn_offered: context.alpn_offered.iter().map(|p| p.to_vec()).collect(),
            alpn: context.alpn.map(<[u8]>::to_vec),
        });
        if self.refuse {
            return Err(CertificateError::NotValidForName);
        }
        self.inner.verify_server_cert_in(chain, context)?;
        Ok(Some(name_of(&chain[0])))
    }

    /// The anchors and the naming rule: tickets carry the identity.
    fn policy_digest(&self) -> Option<[u8; 32]> {
        let mut d = self.inner.policy_digest()?;
        d[0] ^= 1;
        (!self.unrecorded).then_some(d)
    }
}

/// A client verifier that checks as webpki does, then names the client.
struct NamingClientVerifier {
    inner: WebPkiClientVerifier<'static>,
    seen: Mutex<Vec<Seen>>,
}

impl ClientCertVerifier for NamingClientVerifier {
    fn verify_client_cert(
        &self,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<(), CertificateError> {
        panic!("the handshake calls verify_client_cert_in")
    }

    fn supported_schemes(&self) -> &[SignatureScheme] {
        self.inner.supported_schemes()
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn policy_digest(&self) -> [u8; 32] {
        self.inner.policy_digest()
    }

    fn verify_client_cert_in(
        &self,
        chain: &[CertificateDer<'_>],
        context: &ClientCertContext<'_>,
    ) -> Result<Option<u64>, CertificateError> {
        self.seen.lock().unwrap().push(Seen {
            server_name: context.server_name.map(str::to_owned),
            alpn_offered: Vec::new(),
            alpn: context.alpn.map(<[u8]>::to_vec),
        });
        self.inner.verify_client_cert_in(chain, context)?;
        Ok(Some(name_of(&chain[0])))
    }
}

const OFFERED: &[&[u8]] = &[b"h2", b"http/1.1"];
const SERVED: &[&[u8]] = &[b"http/1.1"];

struct Setup {
    server_verifier: &'static NamingServerVerifier,
    client_verifier: &'static NamingClientVerifier,
    cc: &'static tlspair::handshake::ClientConfig<'static>,
    sc: &'static tlspair::handshake::ServerConfig<'static>,
    store: &'static Tickets,
}

fn setup(refuse: bool) -> Setup {
    setup_with(refuse, false)
}

fn setup_with(refuse: bool, unrecorded: bool) -> Setup {
    let server_verifier = leak(NamingServerVerifier {
        inner: WebPkiServerVerifier::new(tls::anchors(creds::CA_CERT)),
        seen: Mutex::default(),
        refuse,
        unrecorded,
    });
    let client_verifier = leak(NamingClientVerifier {
        inner: tls::client_verifier(),
        seen: Mutex::default(),
    });
    let store: &'static Tickets = leak(Tickets::default());
    let mut cc = client_config();
    cc.verifier = server_verifier;
    cc.alpn = OFFERED;
    cc.ticket_sink = Some(store);
    cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    let mut sc = p256_server_config();
    sc.alpn = SERVED;
    sc.client_verifier = Some(client_verifier);
    sc.ticket_keys = (leak([TicketKey::new(1, &[7; 32]).unwrap()])).into();
    Setup {
        server_verifier,
        client_verifier,
        cc: leak(cc),
        sc: leak(sc),
        store,
    }
}

fn identities(c: &Side, s: &Side) -> (Option<u64>, Option<u64>) {
    (
        c.conn.negotiated().unwrap().peer_identity,
        s.conn.negotiated().unwrap().peer_identity,
    )
}

#[test]
fn verifiers_see_the_context_and_name_the_peer_for_the_session_and_its_resumptions() {
    let t = setup(false);
    let server_id = name_of(creds::SERVER_ECDSA_P256.cert);
    let client_id = name_of(creds::CLIENT_ECDSA_P256.cert);

    let mut c = side(Connection::client(t.cc, Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(t.sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert_eq!(identities(&c, &s), (Some(server_id), Some(client_id)));
    assert_eq!(
        *t.server_verifier.seen.lock().unwrap(),
        [Seen {
            server_name: Some("localhost".into()),
            alpn_offered: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            alpn: Some(b"http/1.1".to_vec()),
        }]
    );
    assert_eq!(
        *t.client_verifier.seen.lock().unwrap(),
        [Seen {
            server_name: Some("localhost".into()),
            alpn_offered: vec![],
            alpn: Some(b"http/1.1".to_vec()),
        }]
    );
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap(),
        Status::WantRead
    );
    let ticket = t.store.0.lock().unwrap().first().unwrap().clone();
    assert_eq!(ticket.resumption().peer_identity, Some(server_id));

    // Resumed: no certificate, no verifier call, the same names.
    let mut c = side(
        Connection::client_resuming(
            t.cc,
            Some("localhost"),
            tls::now(),
            std::sync::Arc::new(ticket),
        )
        .unwrap(),
    );
    let mut s = side(Connection::server(t.sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(s.conn.negotiated().unwrap().resumed);
    assert_eq!(identities(&c, &s), (Some(server_id), Some(client_id)));
    assert_eq!(t.server_verifier.seen.lock().unwrap().len(), 1);
    assert_eq!(t.client_verifier.seen.lock().unwrap().len(), 1);
}

#[test]
fn the_default_verifiers_name_no_one() {
    let mut cc = client_config();
    cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    let (mut c, mut s) = tls::pair(cc, tls::mtls_server_config());
    complete(&mut c, &mut s).unwrap();
    assert_eq!(identities(&c, &s), (None, None));
    assert!(c.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

#[test]
fn a_refusal_from_the_context_method_is_the_alert_of_its_error() {
    let t = setup(true);
    let mut c = side(Connection::client(t.cc, Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(t.sc, tls::now()).unwrap());
    let e = complete(&mut c, &mut s).unwrap_err();
    assert_eq!(e, Error::Certificate(CertificateError::NotValidForName));
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut [0u8; 8]).unwrap_err(),
        Error::AlertReceived(AD::BAD_CERTIFICATE)
    );
}

/// The server's chain with the CA after its certificate.
fn server_with_ca() -> tlspair::handshake::ServerConfig<'static> {
    use tlspair::handshake::CertifiedKey;
    use tlspair::sign::SigningKey;
    let key = leak(SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, tls::rng()).unwrap());
    let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert, creds::CA_CERT]);
    tls::server_config(&[CertifiedKey::new(chain, key)])
}

#[test]
fn the_peer_chain_is_kept_where_the_embedder_asked_for_both_roles() {
    let mut cc = client_config();
    cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    let store: &'static Tickets = leak(Tickets::default());
    cc.ticket_sink = Some(store);
    let cc = leak(cc);
    let mut sc = server_with_ca();
    sc.client_verifier = Some(leak(tls::client_verifier()));
    sc.ticket_keys = (leak([TicketKey::new(1, &[9; 32]).unwrap()])).into();
    let sc = leak(sc);

    let mut c = side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(sc, tls::now()).unwrap());
    // The client lends storage; the server lets the connection own a Vec.
    let lent: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    c.conn.keep_peer_chain(lent);
    s.conn.keep_peer_chain(Vec::new());
    assert!(
        c.conn.peer_chain().is_none(),
        "nothing before the handshake"
    );
    complete(&mut c, &mut s).unwrap();
    let got: Vec<&[u8]> = c.conn.peer_chain().unwrap().collect();
    assert_eq!(got, [creds::SERVER_ECDSA_P256.cert, creds::CA_CERT]);
    assert_eq!(
        c.conn.peer_chain().unwrap().end_entity(),
        Some(creds::SERVER_ECDSA_P256.cert)
    );
    let got: Vec<&[u8]> = s.conn.peer_chain().unwrap().collect();
    assert_eq!(got, [creds::CLIENT_ECDSA_P256.cert]);
    assert_eq!(c.conn.peer_chain_needed(), None);
    // The storage comes back; the chain goes with it.
    match c.conn.take_peer_chain_storage() {
        Some(tlspair::conn::ChainStorage::Lent(s)) => assert_eq!(s.len(), 4096),
        other => panic!("{other:?}"),
    }
    assert!(c.conn.peer_chain().is_none());

    // A resumption carries no chain; the digest names the peer.
    transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let ticket = store.0.lock().unwrap().first().unwrap().clone();
    let mut c = side(
        Connection::client_resuming(
            cc,
            Some("localhost"),
            tls::now(),
            std::sync::Arc::new(ticket),
        )
        .unwrap(),
    );
    let mut s = side(Connection::server(sc, tls::now()).unwrap());
    c.conn.keep_peer_chain(vec![0u8; 16]);
    s.conn.keep_peer_chain(Vec::new());
    complete(&mut c, &mut s).unwrap();
    assert!(c.conn.negotiated().unwrap().resumed);
    assert!(c.conn.peer_chain().is_none() && s.conn.peer_chain().is_none());
    assert!(c.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

#[test]
fn a_chain_that_does_not_fit_is_not_kept_and_says_what_it_needed() {
    let need = 3 + creds::SERVER_ECDSA_P256.cert.len() + 3 + creds::CA_CERT.len();
    for room in [0, 1, need - 1, need, need + 1] {
        let (mut c, mut s) = tls::pair(client_config(), server_with_ca());
        let lent: &'static mut [u8] = Box::leak(vec![0u8; room].into_boxed_slice());
        c.conn.keep_peer_chain(lent);
        complete(&mut c, &mut s).unwrap();
        if room >= need {
            assert_eq!(c.conn.peer_chain().unwrap().count(), 2, "{room}");
            assert_eq!(c.conn.peer_chain_needed(), None);
        } else {
            assert!(c.conn.peer_chain().is_none(), "{room}");
            assert_eq!(c.conn.peer_chain_needed(), Some(need), "{room}");
        }
    }
    // Without storage nothing is kept, and nothing is said to be needed.
    let (mut c, mut s) = tls::pair(client_config(), server_with_ca());
    complete(&mut c, &mut s).unwrap();
    assert!(c.conn.peer_chain().is_none());
    assert_eq!(c.conn.peer_chain_needed(), None);
}

/// A full handshake under `t`, and the first ticket it left.
fn first_ticket(t: &Setup) -> StoredTicket {
    let mut c = side(Connection::client(t.cc, Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(t.sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let ticket = t.store.0.lock().unwrap().first().unwrap().clone();
    ticket
}

/// A ticket records the verifier that checked the server: a configuration
/// with another verifier may not offer it, so no identity crosses from
/// one verifier's table to another's.
#[test]
fn a_ticket_is_offered_only_under_the_verifier_that_checked_the_server() {
    let t = setup(false);
    let ticket = std::sync::Arc::new(first_ticket(&t));
    assert!(ticket.resumption().verifier_policy.is_some());
    // The same trust anchors without the naming rule: another digest.
    let mut other = (*t.cc).clone();
    other.verifier = tls::verifier();
    let e = Connection::client_resuming(leak(other), Some("localhost"), tls::now(), ticket.clone())
        .unwrap_err();
    assert_eq!(e, Error::Misuse(tlspair::Misuse::TicketForAnotherVerifier));
    // The configuration it came from still may.
    assert!(Connection::client_resuming(t.cc, Some("localhost"), tls::now(), ticket).is_ok());
}

/// A verifier without a policy digest names the server for the session,
/// but its identity is not carried into tickets.
#[test]
fn an_unrecorded_verifier_names_the_peer_but_its_tickets_carry_no_identity() {
    let t = setup_with(false, true);
    let ticket = first_ticket(&t);
    assert_eq!(ticket.resumption().peer_identity, None);
    assert_eq!(ticket.resumption().verifier_policy, None);
    let mut c = side(
        Connection::client_resuming(
            t.cc,
            Some("localhost"),
            tls::now(),
            std::sync::Arc::new(ticket),
        )
        .unwrap(),
    );
    let mut s = side(Connection::server(t.sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(c.conn.negotiated().unwrap().resumed);
    let client_id = name_of(creds::CLIENT_ECDSA_P256.cert);
    assert_eq!(identities(&c, &s), (None, Some(client_id)));
}

/// A client named in the context of one protocol resumes only under it:
/// another ALPN means a full handshake, where the verifier is asked again.
#[test]
fn a_named_client_resumes_only_under_the_protocol_it_was_named_for() {
    let t = setup(false);
    let mut sc = (*t.sc).clone();
    sc.alpn = leak([&b"h2"[..], &b"http/1.1"[..]]);
    let sc: &'static _ = leak(sc);
    let mut only = (*t.cc).clone();
    only.alpn = leak([&b"http/1.1"[..]]);
    let only: &'static _ = leak(only);
    let mut c = side(Connection::client(only, Some("localhost"), tls::now()).unwrap());
    let mut s = side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let ticket = std::sync::Arc::new(t.store.0.lock().unwrap().first().unwrap().clone());
    for (cc, resumed) in [(t.cc, false), (only, true)] {
        let mut c = side(
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket.clone()).unwrap(),
        );
        let mut s = side(Connection::server(sc, tls::now()).unwrap());
        complete(&mut c, &mut s).unwrap();
        assert_eq!(s.conn.negotiated().unwrap().resumed, resumed);
        let client_id = name_of(creds::CLIENT_ECDSA_P256.cert);
        assert_eq!(s.conn.negotiated().unwrap().peer_identity, Some(client_id));
    }
    // Asked again for the full handshake under h2 only.
    let seen = t.client_verifier.seen.lock().unwrap();
    assert_eq!(seen.last().unwrap().alpn.as_deref(), Some(&b"h2"[..]));
}

/// Our verifier named the server in an ALPN context (the protocols the
/// client offered, the one chosen): a session resumed in another context
/// reports no identity, one resumed in the same reports it; a ticket
/// whose context is unknown reports none.
#[test]
fn a_resumed_session_names_the_server_only_in_the_alpn_context_it_was_named_in() {
    let t = setup(false);
    let server_id = name_of(creds::SERVER_ECDSA_P256.cert);
    // Servers that ask for no client certificate (so that they resume in
    // any context), with the same ticket key.
    let server = |alpn: &'static [&'static [u8]]| {
        let mut sc = (*t.sc).clone();
        sc.client_verifier = None;
        sc.alpn = alpn;
        let sc: &'static _ = leak(sc);
        sc
    };
    let http1 = server(SERVED);
    let h2 = server(leak([&b"h2"[..], &b"http/1.1"[..]]));
    let none = server(&[]);
    let client = |alpn: &'static [&'static [u8]]| {
        let mut cc = (*t.cc).clone();
        cc.alpn = alpn;
        let cc: &'static _ = leak(cc);
        cc
    };
    let no_alpn = client(&[]);
    let fewer = client(leak([&b"http/1.1"[..]]));
    let ticket_from = |cc, sc| {
        t.store.0.lock().unwrap().clear();
        let mut c = side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
        let mut s = side(Connection::server(sc, tls::now()).unwrap());
        complete(&mut c, &mut s).unwrap();
        transfer_all(&mut s, &mut c);
        let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
        let ticket = t.store.0.lock().unwrap().first().unwrap().clone();
        assert_eq!(ticket.resumption().peer_identity, Some(server_id));
        assert!(ticket.resumption().alpn_context.is_some());
        std::sync::Arc::new(ticket)
    };
    let resume = |cc, sc, ticket: &std::sync::Arc<StoredTicket>| {
        let mut c = side(
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket.clone()).unwrap(),
        );
        let mut s = side(Connection::server(sc, tls::now()).unwrap());
        complete(&mut c, &mut s).unwrap();
        let n = *c.conn.negotiated().unwrap();
        assert!(n.resumed);
        assert!(n.peer_cert_sha256.is_some(), "the digest is reported");
        n.peer_identity
    };
    // Named offering h2 and http/1.1, http/1.1 chosen.
    let named = ticket_from(t.cc, http1);
    assert_eq!(
        resume(t.cc, http1, &named),
        Some(server_id),
        "the same context"
    );
    assert_eq!(resume(t.cc, h2, &named), None, "h2 chosen");
    assert_eq!(resume(t.cc, none, &named), None, "no protocol chosen");
    assert_eq!(
        resume(fewer, http1, &named),
        None,
        "another offer, the same choice"
    );
    // Named without ALPN: kept without, not with.
    let plain = ticket_from(no_alpn, none);
    assert_eq!(resume(no_alpn, none, &plain), Some(server_id));
    assert_eq!(
        resume(no_alpn, http1, &plain),
        Some(server_id),
        "nothing offered, nothing chosen"
    );
    // A ticket whose context is unknown (saved without it) names no one.
    let kept: &'static StoredTicket = leak((*named).clone());
    let mut unknown = kept.resumption();
    unknown.alpn_context = None;
    let unknown = leak(unknown);
    let mut c =
        side(Connection::client_resuming(t.cc, Some("localhost"), tls::now(), unknown).unwrap());
    let mut s = side(Connection::server(http1, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(c.conn.negotiated().unwrap().resumed);
    assert_eq!(c.conn.negotiated().unwrap().peer_identity, None);
    // Only full handshakes asked the verifier.
    assert_eq!(t.server_verifier.seen.lock().unwrap().len(), 2);
}

#[test]
fn chain_storage_comes_back_emptied() {
    let (mut c, mut s) = tls::pair(client_config(), server_with_ca());
    assert!(c.conn.keep_peer_chain(vec![0u8; 4]).is_none());
    // The second storage replaces the first, which comes back.
    match c.conn.keep_peer_chain(Vec::with_capacity(64)) {
        Some(tlspair::conn::ChainStorage::Owned(v)) => assert!(v.is_empty()),
        other => panic!("{other:?}"),
    }
    complete(&mut c, &mut s).unwrap();
    assert_eq!(c.conn.peer_chain().unwrap().count(), 2);
    match c.conn.take_peer_chain_storage() {
        Some(tlspair::conn::ChainStorage::Owned(v)) => assert!(v.is_empty(), "cleared"),
        other => panic!("{other:?}"),
    }
    // Lent storage is wiped where the chain was.
    let (mut c, mut s) = tls::pair(client_config(), server_with_ca());
    let lent: &'static mut [u8] = Box::leak(vec![0xeeu8; 4096].into_boxed_slice());
    c.conn.keep_peer_chain(lent);
    complete(&mut c, &mut s).unwrap();
    let kept = 3 + creds::SERVER_ECDSA_P256.cert.len() + 3 + creds::CA_CERT.len();
    match c.conn.take_peer_chain_storage() {
        Some(tlspair::conn::ChainStorage::Lent(s)) => {
            assert!(s[..kept].iter().all(|&b| b == 0));
            assert!(s[kept..].iter().all(|&b| b == 0xee));
        }
        other => panic!("{other:?}"),
    }
}

/// The same for a verifier that names no one: the certificate it
/// accepted in one ALPN context is not carried into another by a
/// resumption (the verifier saw the protocol and might have refused it
/// there), in either version.
#[test]
fn a_client_certificate_resumes_only_under_the_protocol_it_was_checked_for() {
    for suites in [&tlspair::ALL_SUITES[..], &tlspair::TLS12_SUITES[..]] {
        let store: &'static Tickets = leak(Tickets::default());
        let mut cc = client_config();
        cc.suites = leak(suites.to_vec()).as_slice();
        cc.ticket_sink = Some(store);
        cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
        cc.alpn = leak([&b"http/1.1"[..]]);
        let mut sc = p256_server_config();
        sc.suites = cc.suites;
        sc.alpn = leak([&b"h2"[..], &b"http/1.1"[..]]);
        sc.client_verifier = Some(leak(tls::client_verifier()));
        sc.ticket_keys = (leak([TicketKey::new(1, &[7; 32]).unwrap()])).into();
        let (cc, sc): (&'static _, &'static _) = (leak(cc), leak(sc));
        let mut c = side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
        let mut s = side(Connection::server(sc, tls::now()).unwrap());
        c.conn.keep_tls12_transcript(Vec::new());
        s.conn.keep_tls12_transcript(Vec::new());
        complete(&mut c, &mut s).unwrap();
        transfer_all(&mut s, &mut c);
        let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]);
        let ticket = std::sync::Arc::new(store.0.lock().unwrap().first().unwrap().clone());
        let mut h2 = (*cc).clone();
        h2.alpn = leak([&b"h2"[..]]);
        let h2: &'static _ = leak(h2);
        for (cc, resumed) in [(h2, false), (cc, true)] {
            let mut c = side(
                Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket.clone())
                    .unwrap(),
            );
            let mut s = side(Connection::server(sc, tls::now()).unwrap());
            c.conn.keep_tls12_transcript(Vec::new());
            s.conn.keep_tls12_transcript(Vec::new());
            complete(&mut c, &mut s).unwrap();
            let n = s.conn.negotiated().unwrap();
            assert_eq!(n.resumed, resumed, "{:?} {:?}", n.version, n.alpn_index);
            assert!(n.peer_cert_sha256.is_some());
        }
    }
}
