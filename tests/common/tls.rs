//! Handshake fixtures: configurations built from the built-in test
//! credentials, leaked to `'static` (tests only), and a driver that runs a
//! client and a server to completion through the shared harness.

use rustls_pki_types::{CertificateDer, UnixTime};
use tlspair::handshake::{CertifiedKey, ClientConfig, ServerConfig};
use tlspair::sign::SigningKey;
use tlspair::test_credentials::{self as creds, Credential};
use tlspair::verify::{
    trust_anchor_from_der, TrustAnchor, WebPkiClientVerifier, WebPkiServerVerifier,
};
use tlspair::{Buffers, Connection, Error, Status};

use super::Side;

/// 2027-01-01: inside every test certificate's validity.
pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_798_761_600))
}

pub fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

pub fn rng() -> &'static ring::rand::SystemRandom {
    leak(ring::rand::SystemRandom::new())
}

/// The trust anchors of a CA certificate (DER), leaked.
pub fn anchors(ca: &'static [u8]) -> &'static [TrustAnchor<'static>] {
    let ca: &'static CertificateDer<'static> = leak(CertificateDer::from(ca));
    leak([trust_anchor_from_der(ca).unwrap()])
}

/// A verifier trusting the test CA.
pub fn verifier() -> &'static WebPkiServerVerifier<'static> {
    leak(WebPkiServerVerifier::new(anchors(creds::CA_CERT)))
}

/// A verifier of client certificates issued by the test CA (one is
/// required).
pub fn client_verifier() -> WebPkiClientVerifier<'static> {
    WebPkiClientVerifier::new(anchors(creds::CA_CERT))
}

/// A server with the ECDSA P-256 test credential that requires a client
/// certificate from the test CA.
pub fn mtls_server_config() -> ServerConfig<'static> {
    let mut sc = server_config(&[certified(&creds::SERVER_ECDSA_P256)]);
    sc.client_verifier = Some(leak(client_verifier()));
    sc
}

pub fn certified(cred: &Credential) -> CertifiedKey<'static> {
    let key = leak(SigningKey::from_pkcs8(cred.key, rng()).unwrap());
    let chain: &'static [&'static [u8]] = leak([cred.cert]);
    CertifiedKey::new(chain, key)
}

pub fn client_config() -> ClientConfig<'static> {
    ClientConfig::new(verifier(), rng())
}

pub fn server_config(certs: &[CertifiedKey<'static>]) -> ServerConfig<'static> {
    ServerConfig::new(leak(certs.to_vec()).as_slice(), rng())
}

/// A server with the test P-256 ECDSA credential, the usual peer.
pub fn p256_server_config() -> ServerConfig<'static> {
    server_config(&[certified(&creds::SERVER_ECDSA_P256)])
}

pub fn side(conn: Connection<'static>) -> Side {
    Side {
        conn,
        bufs: Buffers::new(vec![0; 20_000], vec![0; 20_000]),
    }
}

/// A client for "localhost" and a server, from these configurations.
pub fn pair(client: ClientConfig<'static>, server: ServerConfig<'static>) -> (Side, Side) {
    let client = Connection::client(leak(client), Some("localhost"), now()).unwrap();
    let server = Connection::server(leak(server), now()).unwrap();
    (side(client), side(server))
}

/// Runs both handshakes to completion, moving bytes between them.
pub fn complete(c: &mut Side, s: &mut Side) -> Result<(), Error> {
    for _ in 0..50 {
        let cs = c.conn.handshake(&mut c.bufs)?;
        super::transfer_all(c, s);
        let ss = s.conn.handshake(&mut s.bufs)?;
        super::transfer_all(s, c);
        if cs == Status::Done(()) && ss == Status::Done(()) {
            return Ok(());
        }
    }
    panic!("handshake did not finish")
}

/// Runs the handshake and returns each side's result, stopping at the
/// first error (whose alert has then been delivered to the other side's
/// received view).
pub fn outcome(c: &mut Side, s: &mut Side) -> (Result<(), Error>, Result<(), Error>) {
    let mut client = Ok(());
    let mut server = Ok(());
    for _ in 0..50 {
        if client.is_ok() {
            client = c.conn.handshake(&mut c.bufs).map(|_| ());
        }
        super::transfer_all(c, s);
        if server.is_ok() {
            server = s.conn.handshake(&mut s.bufs).map(|_| ());
        }
        super::transfer_all(s, c);
        if client.is_err() || server.is_err() {
            // Let the other side read the alert.
            if client.is_ok() {
                client = c.conn.handshake(&mut c.bufs).map(|_| ());
            }
            if server.is_ok() {
                server = s.conn.handshake(&mut s.bufs).map(|_| ());
            }
            return (client, server);
        }
        if !c.conn.is_handshaking() && !s.conn.is_handshaking() {
            return (client, server);
        }
    }
    panic!("handshake neither finished nor failed")
}

/// A key log that keeps its lines, for checking them.
#[derive(Default)]
pub struct Lines(pub std::sync::Mutex<Vec<String>>);

impl tlspair::handshake::KeyLog for Lines {
    fn log(&self, label: &str, random: &[u8; 32], secret: &[u8]) {
        let mut buf = [0u8; tlspair::handshake::MAX_KEY_LOG_LINE];
        let line = tlspair::handshake::key_log_line(label, random, secret, &mut buf);
        self.0.lock().unwrap().push(line.to_owned());
    }
}

/// `content` as a protected TLS_AES_128_GCM_SHA256 record of type `ty`
/// under traffic secret `secret` at sequence `seq`, with `pad` zeros of
/// padding.
pub fn seal_record(
    secret: &[u8],
    seq: u64,
    ty: tlspair::ContentType,
    content: &[u8],
    pad: usize,
) -> Vec<u8> {
    use tlspair::record::protect::RecordKey;
    use tlspair::record::HEADER_LEN;
    let mut key = RecordKey::new(&tlspair::TLS13_AES_128_GCM_SHA256, secret).unwrap();
    for _ in 0..seq {
        let mut scratch = vec![0u8; HEADER_LEN + 1 + 16];
        key.seal(tlspair::ContentType::APPLICATION_DATA, 0, &mut scratch)
            .unwrap();
    }
    let mut rec = vec![0u8; HEADER_LEN];
    rec.extend(content);
    rec.resize(HEADER_LEN + content.len() + 1 + pad + 16, 0);
    key.seal(ty, content.len(), &mut rec).unwrap();
    rec
}

/// The secret a key log logged under `label` (the first such line).
pub fn secret_of(lines: &Lines, label: &str) -> Vec<u8> {
    lines
        .0
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.starts_with(label))
        .map(|l| super::unhex(l.split(' ').nth(2).unwrap().trim()))
        .unwrap()
}

/// A ticket sink that drops every ticket (a client that asks for tickets).
pub struct NullSink;

impl tlspair::handshake::ticket::TicketSink for NullSink {
    fn store(&self, _: &tlspair::handshake::ticket::NewTicket<'_>) {}
}

/// A verifier that accepts every chain and signature and lists `schemes`:
/// for peers whose certificates are not the point (published traces, a
/// rewritten flight).
pub struct AcceptAnyServer(pub &'static [tlspair::wire::SignatureScheme]);

impl tlspair::verify::ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _: &[CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: UnixTime,
    ) -> Result<(), tlspair::verify::CertificateError> {
        Ok(())
    }
    fn verify_signature(
        &self,
        _: &CertificateDer<'_>,
        _: tlspair::wire::SignatureScheme,
        _: &[u8],
        _: &[u8],
    ) -> Result<(), tlspair::verify::CertificateError> {
        Ok(())
    }
    fn supported_schemes(&self) -> &[tlspair::wire::SignatureScheme] {
        self.0
    }
}

/// *ring*'s fixed-output test generators (for the RFC 8448 traces) keep
/// their position in a `Cell` and so are not `Sync`, which a
/// configuration's rng must be; and *ring* seals its trait, so no
/// `Sync` wrapper can implement it. This lends one to a configuration
/// whose connections stay on the calling thread.
pub fn single_threaded_rng(
    rng: &'static dyn ring::rand::SecureRandom,
) -> &'static tlspair::handshake::Rng {
    // SAFETY: auto traits do not change a trait object's layout or
    // vtable; the tests that call this drive their connections from one
    // thread, so the generator's Cell is never touched concurrently.
    unsafe {
        core::mem::transmute::<
            &'static dyn ring::rand::SecureRandom,
            &'static (dyn ring::rand::SecureRandom + Send + Sync),
        >(rng)
    }
}

/// A TLS 1.2 session cache: a map, as an embedder would keep one.
#[derive(Default)]
pub struct SessionMap(pub std::sync::Mutex<std::collections::HashMap<Vec<u8>, Vec<u8>>>);

impl tlspair::handshake::ticket::SessionCache for SessionMap {
    fn put(&self, id: &[u8; 32], session: &[u8]) {
        self.0.lock().unwrap().insert(id.to_vec(), session.to_vec());
    }

    fn get(&self, id: &[u8; 32], out: &mut [u8]) -> Option<usize> {
        let map = self.0.lock().unwrap();
        let s = map.get(&id[..])?;
        out.get_mut(..s.len())?.copy_from_slice(s);
        Some(s.len())
    }
}

/// A TLS 1.3 ticket for "localhost" (AES-128-GCM, a PSK of ones, an hour
/// of lifetime, no 0-RTT) that no server's key opens: tests set the
/// fields they are about with struct update syntax.
pub fn unopened_ticket() -> tlspair::handshake::ticket::ResumptionTicket<'static> {
    tlspair::handshake::ticket::ResumptionTicket {
        suite: tlspair::wire::CipherSuite(0x1301),
        psk: &[1; 32],
        ticket: b"a ticket no key of the server opens",
        lifetime: 3600,
        age_add: 0,
        received_at: now(),
        server_name: Some("localhost"),
        peer_cert_sha256: None,
        peer_identity: None,
        verifier_policy: tlspair::verify::ServerCertVerifier::policy_digest(verifier()),
        alpn_context: None,
        client_cert_sha256: None,
        session_id: false,
        max_early_data: 0,
    }
}

/// A ticket sink that keeps every ticket our client receives, in order.
#[derive(Default)]
pub struct Tickets(pub std::sync::Mutex<Vec<tlspair::handshake::ticket::StoredTicket>>);

impl tlspair::handshake::ticket::TicketSink for Tickets {
    fn store(&self, t: &tlspair::handshake::ticket::NewTicket<'_>) {
        let kept = tlspair::handshake::ticket::StoredTicket::new(t, now()).expect("ticket fits");
        self.0.lock().expect("tickets").push(kept);
    }
}

/// A client (its tickets kept in the returned sink) and a server that
/// takes 0-RTT: tickets allowing `max_early_data` bytes, sealed with one
/// key, and a strike register as its replay guard.
pub fn early_data_configs(
    max_early_data: u32,
) -> (
    &'static ClientConfig<'static>,
    &'static ServerConfig<'static>,
    &'static Tickets,
) {
    use std::sync::atomic::AtomicU64;
    use tlspair::handshake::replay::StrikeRegister;
    let store: &'static Tickets = leak(Tickets::default());
    let mut cc = client_config();
    cc.ticket_sink = Some(store);
    let keys: &'static [tlspair::handshake::ticket::TicketKey] =
        leak([tlspair::handshake::ticket::TicketKey::new(1, &[9; 32]).unwrap()]);
    let guard: &'static StrikeRegister<[AtomicU64; 256]> = leak(StrikeRegister::new());
    let mut sc = p256_server_config();
    sc.ticket_keys = keys.into();
    sc.max_early_data_size = max_early_data;
    sc.replay_guard = Some(guard);
    (leak(cc), leak(sc), store)
}

/// The first ticket `sc` gives `cc` (whose sink is `store`) after a full
/// handshake, ready to resume with.
pub fn first_ticket(
    cc: &'static ClientConfig<'static>,
    sc: &'static ServerConfig<'static>,
    store: &'static Tickets,
) -> &'static tlspair::handshake::ticket::ResumptionTicket<'static> {
    let mut c = side(Connection::client(cc, Some("localhost"), now()).unwrap());
    let mut s = side(Connection::server(sc, now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    super::transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let stored = leak(store.0.lock().unwrap()[0].clone());
    leak(stored.resumption())
}

/// What a server's hook was told, in order.
#[derive(Default)]
pub struct Told(std::sync::Mutex<Vec<String>>);

impl tlspair::handshake::post_auth::AuthHook for Told {
    fn authenticated(&self, _: u64, auth: &tlspair::handshake::post_auth::PeerAuth) {
        self.0
            .lock()
            .unwrap()
            .push(format!("authenticated {}", auth.request));
    }

    fn renegotiated(&self, _: u64, auth: &tlspair::handshake::post_auth::PeerAuth) {
        self.0.lock().unwrap().push(format!(
            "renegotiated {} cert={}",
            auth.request,
            auth.peer_cert_sha256.is_some()
        ));
    }

    fn renegotiation_refused(&self, _: u64) {
        self.0.lock().unwrap().push("refused".into());
    }
}

impl Told {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}
