//! Interop with rustls 0.23 (its ring provider, TLS 1.3 only), both ways.
//!
//! Mostly in memory: a rustls `ClientConnection` / `ServerConnection` and
//! a tlspair `Connection` with its caller-owned `Buffers`, the test moving
//! ciphertext between `bufs.send` / `bufs.recv` and rustls's
//! `read_tls` / `write_tls`. Every suite × group × server key type in each
//! direction; ALPN; SNI; KeyUpdate from each side in the middle of a
//! 16 MiB transfer; close_notify each way; truncation. Then once each way
//! over loopback TCP with rustls's blocking `StreamOwned` in a thread.
//!
//! HelloRetryRequest and resumption each way have a test of their own;
//! the matrix offers exactly one group on each side, so it never needs a
//! retry. Client certificates each way, and their absence refused each
//! way. Not covered: 0-RTT (not implemented).
//! rustls does not implement record_size_limit (RFC 8449), so our
//! advertised limit is not exercised here.

mod common;

use common::tls::Tickets;

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use common::interop::{assert_negotiated, client_config, server_config, text, KeyType};
use common::net::{self, bounded, RecordLengths, TlsSocket, KEY_UPDATE_RECORD_LEN};
use common::tls;
use rustls::crypto::{ring as rustls_ring, CryptoProvider};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::test_credentials as creds;
use tlspair::wire::NamedGroup;
use tlspair::{Buffers, Connection, Error, Shutdown, Status, Suite};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

// ---------------------------------------------------------------------
// rustls configurations.

fn rustls_suite(suite: &Suite) -> rustls::SupportedCipherSuite {
    use rustls_ring::cipher_suite as cs;
    match suite.id.0 {
        0x1301 => cs::TLS13_AES_128_GCM_SHA256,
        0x1302 => cs::TLS13_AES_256_GCM_SHA384,
        0x1303 => cs::TLS13_CHACHA20_POLY1305_SHA256,
        0xc02b => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        0xc02c => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        0xcca9 => cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        0xc02f => cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        0xc030 => cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        0xcca8 => cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        other => panic!("no rustls suite {other:#06x}"),
    }
}

fn rustls_group(group: NamedGroup) -> &'static dyn rustls::crypto::SupportedKxGroup {
    use rustls_ring::kx_group as kx;
    match group {
        NamedGroup::X25519 => kx::X25519,
        NamedGroup::SECP256R1 => kx::SECP256R1,
        NamedGroup::SECP384R1 => kx::SECP384R1,
        other => panic!("no rustls group {other:?}"),
    }
}

/// rustls's ring provider, cut down to one suite and one group when given.
fn provider(suite: Option<&Suite>, group: Option<NamedGroup>) -> Arc<CryptoProvider> {
    let mut p = rustls_ring::default_provider();
    if let Some(suite) = suite {
        p.cipher_suites = vec![rustls_suite(suite)];
    }
    if let Some(group) = group {
        p.kx_groups = vec![rustls_group(group)];
    }
    Arc::new(p)
}

/// rustls's roots: the test CA.
fn rustls_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(creds::CA_CERT))
        .expect("test CA");
    roots
}

/// TLS 1.2 for a provider cut down to TLS 1.2 suites, else TLS 1.3 only.
fn versions(p: &CryptoProvider) -> &'static [&'static rustls::SupportedProtocolVersion] {
    if p.cipher_suites
        .iter()
        .all(|s| s.version() == &rustls::version::TLS12)
    {
        static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        &TLS12
    } else {
        static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        &TLS13
    }
}

/// A rustls client builder trusting the test CA, TLS 1.3 only (TLS 1.2
/// only with a TLS 1.2 suite).
fn rustls_client_builder(
    p: Arc<CryptoProvider>,
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    let versions = versions(&p);
    rustls::ClientConfig::builder_with_provider(p)
        .with_protocol_versions(versions)
        .expect("protocol version")
        .with_root_certificates(rustls_roots())
}

fn rustls_client_config(p: Arc<CryptoProvider>, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut cfg = rustls_client_builder(p).with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

fn rustls_server_config(
    p: Arc<CryptoProvider>,
    key: KeyType,
    alpn: &[&[u8]],
) -> Arc<rustls::ServerConfig> {
    let cred = key.credential();
    let versions = versions(&p);
    let mut cfg = rustls::ServerConfig::builder_with_provider(p)
        .with_protocol_versions(versions)
        .expect("protocol version")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cred.cert)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cred.key)),
        )
        .expect("server credential");
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

/// A rustls server with the default provider and a P-256 key, no ALPN.
fn default_rustls_server() -> rustls::Connection {
    rustls_server(rustls_server_config(
        provider(None, None),
        KeyType::EcdsaP256,
        &[],
    ))
}

/// A rustls client with the default provider, no ALPN.
fn default_rustls_client() -> rustls::Connection {
    rustls_client(rustls_client_config(provider(None, None), &[]))
}

fn rustls_client(cfg: Arc<rustls::ClientConfig>) -> rustls::Connection {
    let name = ServerName::try_from("localhost").expect("name");
    rustls::ClientConnection::new(cfg, name)
        .expect("rustls client")
        .into()
}

fn rustls_server(cfg: Arc<rustls::ServerConfig>) -> rustls::Connection {
    rustls::ServerConnection::new(cfg)
        .expect("rustls server")
        .into()
}

fn our_client(cc: ClientConfig<'static>) -> Connection<'static> {
    Connection::client(leak(cc), Some("localhost"), tls::now()).expect("client")
}

fn our_server(sc: ServerConfig<'static>) -> Connection<'static> {
    Connection::server(leak(sc), tls::now()).expect("server")
}

// ---------------------------------------------------------------------
// The in-memory pair.

/// Who failed, and with what (read through `Debug` in failure messages).
#[derive(Debug)]
#[allow(dead_code)]
enum Failure {
    Ours(Error),
    Rustls(rustls::Error),
}

/// Our connection and a rustls one, the test being the wire.
struct Mem {
    ours: Connection<'static>,
    bufs: Buffers<Vec<u8>, Vec<u8>>,
    peer: rustls::Connection,
    /// Ciphertext from rustls that our received view had no room for yet.
    to_us: Vec<u8>,
    /// Plaintext rustls received.
    peer_got: Vec<u8>,
    /// rustls read our close_notify.
    peer_closed: bool,
    /// Plaintext we received.
    ours_got: Vec<u8>,
    /// We read rustls's close_notify.
    ours_closed: bool,
    /// Records each side sent.
    ours_sent: RecordLengths,
    peer_sent: RecordLengths,
    /// Most bytes moved each way per shuttle: a transport that delivers
    /// in small pieces.
    chunk: usize,
}

impl Mem {
    fn new(ours: Connection<'static>, peer: rustls::Connection) -> Self {
        Self {
            ours,
            bufs: Buffers::new(vec![0; 20_000], vec![0; 20_000]),
            peer,
            to_us: Vec::new(),
            peer_got: Vec::new(),
            peer_closed: false,
            ours_got: Vec::new(),
            ours_closed: false,
            ours_sent: RecordLengths::default(),
            peer_sent: RecordLengths::default(),
            chunk: usize::MAX,
        }
    }

    /// Moves ciphertext both ways and lets rustls process it; true if
    /// anything moved.
    fn shuttle(&mut self) -> Result<bool, Failure> {
        let mut moved = false;
        loop {
            let pending = self.bufs.send.pending();
            let pending = &pending[..pending.len().min(self.chunk)];
            if pending.is_empty() {
                break;
            }
            // rustls's plaintext is drained after every batch, so its
            // buffer limit is never what stops read_tls.
            let n = self
                .peer
                .read_tls(&mut &pending[..])
                .unwrap_or_else(|e| panic!("rustls read_tls: {e}"));
            self.ours_sent.see(&pending[..n]);
            self.bufs.send.consume(n);
            moved |= n > 0;
            if let Err(e) = self.peer.process_new_packets() {
                // Its alert still goes out, for our side to read.
                self.flush_peer();
                return Err(Failure::Rustls(e));
            }
            self.drain_peer_plaintext();
            if n == 0 || self.chunk != usize::MAX {
                break;
            }
        }
        moved |= self.flush_peer();
        Ok(moved)
    }

    /// Moves what rustls has to send into our received view (as far as
    /// `chunk` and the room there allow); true if anything moved.
    fn flush_peer(&mut self) -> bool {
        let mut moved = false;
        while self.peer.wants_write() {
            let before = self.to_us.len();
            self.peer
                .write_tls(&mut self.to_us)
                .expect("write_tls to memory");
            self.peer_sent.see(&self.to_us[before..]);
            moved = true;
        }
        if !self.to_us.is_empty() {
            let n = self.to_us.len().min(self.chunk);
            let n = self.bufs.recv.fill(&self.to_us[..n]);
            self.to_us.drain(..n);
            moved |= n > 0;
        }
        moved
    }

    fn drain_peer_plaintext(&mut self) {
        let mut buf = [0u8; 32 * 1024];
        loop {
            match self.peer.reader().read(&mut buf) {
                Ok(0) => {
                    self.peer_closed = true;
                    return;
                }
                Ok(n) => self.peer_got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => panic!("rustls reader: {e}"),
            }
        }
    }

    /// Reads what our side can, until it wants more input.
    fn drain_ours(&mut self) -> Result<(), Failure> {
        let mut buf = [0u8; 32 * 1024];
        while !self.ours_closed {
            match self
                .ours
                .read(&mut self.bufs, &mut buf)
                .map_err(Failure::Ours)?
            {
                Status::Done(n) => self.ours_got.extend_from_slice(&buf[..n]),
                Status::Closed => self.ours_closed = true,
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    fn handshake(&mut self) -> Result<(), Failure> {
        for _ in 0..100_000 {
            let status = self.ours.handshake(&mut self.bufs);
            // Our error, if any, is the one to report, once its alert has
            // been shuttled to rustls (which then fails too).
            let moved = self.shuttle();
            let _ = status.map_err(Failure::Ours)?;
            let moved = match moved {
                Ok(moved) => moved,
                // rustls refused: report how our side took its alert, if
                // it did.
                Err(peer) => {
                    let _ = self.ours.handshake(&mut self.bufs).map_err(Failure::Ours)?;
                    return Err(peer);
                }
            };
            if !moved && !self.ours.is_handshaking() && !self.peer.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish: {:?}", self.ours)
    }

    /// Sends `data` from us to rustls, reading our side as we go (rustls
    /// may send tickets or KeyUpdates); calls `at_half` halfway.
    fn ours_to_peer(
        &mut self,
        data: &[u8],
        mut at_half: impl FnMut(&mut Self),
    ) -> Result<(), Failure> {
        let start = self.peer_got.len();
        let mut off = 0;
        let mut halfway = false;
        for _ in 0..1_000_000 {
            if !halfway && off >= data.len() / 2 {
                halfway = true;
                at_half(self);
            }
            if off < data.len() {
                let chunk = &data[off..data.len().min(off + 64 * 1024)];
                if let Status::Done(n) = self
                    .ours
                    .write(&mut self.bufs, chunk)
                    .map_err(Failure::Ours)?
                {
                    off += n;
                }
            }
            self.shuttle()?;
            self.drain_ours()?;
            if off == data.len() && self.peer_got.len() - start >= data.len() {
                assert!(
                    self.peer_got[start..] == *data,
                    "rustls received other bytes"
                );
                return Ok(());
            }
        }
        panic!("transfer to rustls stalled at {off}")
    }

    /// Sends `data` from rustls to us; calls `at_half` halfway.
    fn peer_to_ours(
        &mut self,
        data: &[u8],
        mut at_half: impl FnMut(&mut Self),
    ) -> Result<(), Failure> {
        let start = self.ours_got.len();
        let mut off = 0;
        let mut halfway = false;
        for _ in 0..1_000_000 {
            if !halfway && off >= data.len() / 2 {
                halfway = true;
                at_half(self);
            }
            if off < data.len() {
                let chunk = &data[off..data.len().min(off + 64 * 1024)];
                off += self.peer.writer().write(chunk).expect("rustls writer");
            }
            self.shuttle()?;
            self.drain_ours()?;
            if off == data.len() && self.ours_got.len() - start >= data.len() {
                assert!(self.ours_got[start..] == *data, "we received other bytes");
                return Ok(());
            }
        }
        panic!("transfer from rustls stalled at {off}")
    }

    /// Moves bytes and reads both sides until nothing moves.
    fn settle(&mut self) -> Result<(), Failure> {
        while self.shuttle()? {
            self.drain_ours()?;
        }
        self.drain_ours()
    }

    /// We close first: rustls reads our close_notify and answers with its
    /// own, which we read.
    fn close_ours_first(&mut self) -> Result<(), Failure> {
        assert_eq!(
            self.ours.shutdown(&mut self.bufs).map_err(Failure::Ours)?,
            Status::Done(Shutdown::Sent)
        );
        self.settle()?;
        assert!(self.peer_closed, "rustls did not see our close_notify");
        self.peer.send_close_notify();
        self.settle()?;
        assert!(self.ours_closed, "we did not see rustls's close_notify");
        assert_eq!(
            self.ours.shutdown(&mut self.bufs).map_err(Failure::Ours)?,
            Status::Done(Shutdown::Complete)
        );
        Ok(())
    }

    /// rustls closes first.
    fn close_peer_first(&mut self) -> Result<(), Failure> {
        self.peer.send_close_notify();
        self.settle()?;
        assert!(self.ours_closed, "we did not see rustls's close_notify");
        assert!(self.ours.peer_closed());
        assert_eq!(
            self.ours.shutdown(&mut self.bufs).map_err(Failure::Ours)?,
            Status::Done(Shutdown::Complete)
        );
        self.settle()?;
        assert!(self.peer_closed, "rustls did not see our close_notify");
        Ok(())
    }
}

/// Checks what rustls settled on.
fn assert_rustls_negotiated(peer: &rustls::Connection, suite: &Suite, group: NamedGroup) {
    let s = peer.negotiated_cipher_suite().expect("suite");
    assert_eq!(u16::from(s.suite()), suite.id.0);
    let g = peer.negotiated_key_exchange_group().expect("group");
    assert_eq!(u16::from(g.name()), group_id(group));
}

fn group_id(group: NamedGroup) -> u16 {
    match group {
        NamedGroup::X25519 => 0x001d,
        NamedGroup::SECP256R1 => 0x0017,
        NamedGroup::SECP384R1 => 0x0018,
        other => panic!("{other:?}"),
    }
}

fn run(m: &mut Mem, what: &str, f: impl FnOnce(&mut Mem) -> Result<(), Failure>) {
    if let Err(e) = f(m) {
        panic!("{what}: {e:?}; ours: {:?}", m.ours);
    }
}

// ---------------------------------------------------------------------
// The matrix.

fn our_client_with_rustls_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let peer = rustls_server(rustls_server_config(
            provider(Some(suite), Some(group)),
            key,
            &[],
        ));
        let mut m = Mem::new(our_client(client_config(suite, group)), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_negotiated(&m.ours, suite, group, key);
        assert_rustls_negotiated(&m.peer, suite, group);
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(&text(40_000, 1), |_| {})
        });
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(40_000, 2), |_| {})
        });
        run(&mut m, "close", Mem::close_ours_first);
    });
}

fn rustls_client_with_our_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let peer = rustls_client(rustls_client_config(
            provider(Some(suite), Some(group)),
            &[],
        ));
        let mut m = Mem::new(our_server(server_config(suite, group, key)), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_negotiated(&m.ours, suite, group, key);
        assert_rustls_negotiated(&m.peer, suite, group);
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(40_000, 3), |_| {})
        });
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(&text(40_000, 4), |_| {})
        });
        run(&mut m, "close", Mem::close_peer_first);
    });
}

mod our_client_with_rustls_server {
    crate::interop_matrix!(crate::our_client_with_rustls_server);
}

mod rustls_client_with_our_server {
    crate::interop_matrix!(crate::rustls_client_with_our_server);
}

/// The TLS 1.2 matrix, each direction: rustls with its `tls12` feature.
mod tls12 {
    mod our_client_with_rustls_server {
        crate::tls12_matrix!(crate::our_client_with_rustls_server);
    }

    mod rustls_client_with_our_server {
        crate::tls12_matrix!(crate::rustls_client_with_our_server);
    }
}

// ---------------------------------------------------------------------
// ALPN and SNI.

#[test]
fn alpn_our_client_gets_rustls_server_choice() {
    bounded(|| {
        let peer = rustls_server(rustls_server_config(
            provider(None, None),
            KeyType::EcdsaP256,
            &[b"h2", b"http/1.1"],
        ));
        let mut cc = tls::client_config();
        cc.alpn = &[b"http/1.1", b"h2"];
        let mut m = Mem::new(our_client(cc), peer);
        run(&mut m, "handshake", Mem::handshake);
        // rustls servers choose by their own preference: h2.
        assert_eq!(m.peer.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(m.ours.negotiated().unwrap().alpn_index, Some(1));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn alpn_our_server_picks_from_rustls_client_offer() {
    bounded(|| {
        let peer = rustls_client(rustls_client_config(
            provider(None, None),
            &[b"h2", b"http/1.1"],
        ));
        let mut sc = tls::p256_server_config();
        sc.alpn = &[b"http/1.1", b"h2"];
        let mut m = Mem::new(our_server(sc), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(m.peer.alpn_protocol(), Some(&b"http/1.1"[..]));
        assert_eq!(m.ours.negotiated().unwrap().alpn_index, Some(0));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

#[test]
fn alpn_without_common_protocol_is_refused_by_our_server() {
    bounded(|| {
        let peer = rustls_client(rustls_client_config(provider(None, None), &[b"h2"]));
        let mut sc = tls::p256_server_config();
        sc.alpn = &[b"http/1.1"];
        let mut m = Mem::new(our_server(sc), peer);
        match m.handshake() {
            Err(Failure::Ours(e)) => assert_eq!(
                e,
                Error::PeerIncompatible(tlspair::PeerIncompatible::NoSharedProtocol)
            ),
            other => panic!("expected our refusal, got {other:?}"),
        }
        // rustls read our alert.
        let err = m.peer.process_new_packets().unwrap_err();
        assert_eq!(
            err,
            rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol)
        );
    });
}

#[test]
fn sni_from_our_client_reaches_rustls_server() {
    bounded(|| {
        let peer = default_rustls_server();
        let mut m = Mem::new(our_client(tls::client_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        let rustls::Connection::Server(server) = &m.peer else {
            unreachable!()
        };
        assert_eq!(server.server_name(), Some("localhost"));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn sni_from_rustls_client_selects_our_named_certificate() {
    bounded(|| {
        let mut named = tls::certified(&creds::SERVER_ECDSA_P256);
        named = named.for_names(&["localhost"]);
        let default = tls::certified(&creds::SERVER_ECDSA_P384);
        let peer = default_rustls_client();
        let mut m = Mem::new(our_server(tls::server_config(&[default, named])), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(m.ours.negotiated().unwrap().cert_index, Some(1));
        let name = m.ours.negotiated().unwrap().server_name;
        assert_eq!(name.as_ref().map(|n| n.as_str()), Some("localhost"));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

// ---------------------------------------------------------------------
// HelloRetryRequest and resumption (on main since the interop branch
// started).

#[test]
fn hello_retry_from_rustls_server_moves_our_client_to_p384() {
    bounded(|| {
        let server = rustls_server_config(
            provider(None, Some(NamedGroup::SECP384R1)),
            KeyType::EcdsaP256,
            &[],
        );
        // Our default client sends a share for X25519 only.
        let mut m = Mem::new(our_client(tls::client_config()), rustls_server(server));
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(
            m.peer.handshake_kind(),
            Some(rustls::HandshakeKind::FullWithHelloRetryRequest)
        );
        assert_eq!(
            m.ours.negotiated().unwrap().group,
            Some(NamedGroup::SECP384R1)
        );
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(&text(20_000, 30), |_| {})
        });
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn hello_retry_from_our_server_moves_rustls_client_to_p384() {
    bounded(|| {
        // rustls sends a share for its first group, X25519.
        let mut p = rustls_ring::default_provider();
        p.kx_groups = vec![
            rustls_ring::kx_group::X25519,
            rustls_ring::kx_group::SECP384R1,
        ];
        let peer = rustls_client(rustls_client_config(Arc::new(p), &[]));
        let mut sc = tls::p256_server_config();
        sc.groups = &[NamedGroup::SECP384R1];
        let mut m = Mem::new(our_server(sc), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(
            m.peer.handshake_kind(),
            Some(rustls::HandshakeKind::FullWithHelloRetryRequest)
        );
        assert_eq!(
            m.ours.negotiated().unwrap().group,
            Some(NamedGroup::SECP384R1)
        );
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(20_000, 31), |_| {})
        });
        run(&mut m, "close", Mem::close_peer_first);
    });
}

/// rustls issues tickets only to a client whose ClientHello lists
/// psk_dhe_ke in psk_key_exchange_modes (RFC 8446 §4.2.9: servers SHOULD
/// NOT send tickets incompatible with the advertised modes; rustls 0.23
/// src/server/tls13.rs, "Client unwilling to resume, PSK_DHE_KE not
/// offered"). Our client sent that extension only when it offered a
/// ticket, so with a ticket sink it never got a first one from rustls
/// (found here, fixed on main in b766088).
#[test]
fn our_client_resumes_with_rustls_server_ticket() {
    our_client_resumes_with_rustls_server_ticket_in(None, true);
}

#[test]
fn our_client_resumes_with_rustls_server_ticket_in_tls12() {
    our_client_resumes_with_rustls_server_ticket_in(
        Some(&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256),
        true,
    );
}

#[test]
fn our_client_resumes_by_session_id_with_rustls_server_in_tls12() {
    // rustls without a ticketer keeps TLS 1.2 sessions in its cache.
    our_client_resumes_with_rustls_server_ticket_in(
        Some(&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256),
        false,
    );
}

/// A full handshake of `cc` (whose ticket sink is `store`) with a
/// rustls `server`, data from it and a close: the first ticket it gave,
/// ready to resume with.
fn first_ticket_of_rustls(
    server: &Arc<rustls::ServerConfig>,
    cc: &'static ClientConfig<'static>,
    store: &Tickets,
) -> &'static tlspair::handshake::ticket::ResumptionTicket<'static> {
    let first = Connection::client(cc, Some("localhost"), tls::now()).expect("client");
    let mut m = Mem::new(first, rustls_server(server.clone()));
    run(&mut m, "handshake", Mem::handshake);
    // rustls's tickets follow its last flight; our read takes them.
    run(&mut m, "from rustls", |m| m.peer_to_ours(b"first", |_| {}));
    run(&mut m, "close", Mem::close_ours_first);
    let ticket = store
        .0
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("rustls sends tickets");
    leak(leak(ticket).resumption())
}

/// Our second connection resumes with rustls's ticket: TLS 1.3, or with a
/// TLS 1.2 suite, TLS 1.2 (RFC 5077 tickets from rustls's ticketer).
fn our_client_resumes_with_rustls_server_ticket_in(tls12: Option<&'static Suite>, tickets: bool) {
    bounded(move || {
        let server = rustls_server_config(provider(tls12, None), KeyType::EcdsaP256, &[]);
        let server = if tls12.is_some() && tickets {
            let mut cfg = (*server).clone();
            cfg.ticketer = rustls_ring::Ticketer::new().expect("ticketer");
            Arc::new(cfg)
        } else {
            server
        };
        let store: &'static Tickets = leak(Tickets::default());
        let mut cc = tls::client_config();
        if let Some(suite) = tls12 {
            cc.suites = leak([suite]);
        }
        cc.ticket_sink = Some(store);
        let cc = leak(cc);
        let ticket = first_ticket_of_rustls(&server, cc, store);
        assert_eq!(ticket.session_id, tls12.is_some() && !tickets);
        let second =
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).expect("client");
        let mut m = Mem::new(second, rustls_server(server));
        run(&mut m, "resumption", Mem::handshake);
        assert!(m.ours.negotiated().unwrap().resumed);
        assert_eq!(
            m.peer.handshake_kind(),
            Some(rustls::HandshakeKind::Resumed)
        );
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"second", |_| {}));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn rustls_client_resumes_with_our_ticket() {
    rustls_client_resumes_with_our_ticket_in(None, true);
}

#[test]
fn rustls_client_resumes_with_our_ticket_in_tls12() {
    rustls_client_resumes_with_our_ticket_in(Some(&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256), true);
}

#[test]
fn rustls_client_resumes_by_session_id_with_our_server_in_tls12() {
    rustls_client_resumes_with_our_ticket_in(Some(&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256), false);
}

/// rustls's second connection resumes with our ticket, in TLS 1.3 or
/// (with a TLS 1.2 suite) TLS 1.2.
fn rustls_client_resumes_with_our_ticket_in(tls12: Option<&'static Suite>, tickets: bool) {
    bounded(move || {
        let client = rustls_client_config(provider(tls12, None), &[]);
        let mut sc = tls::p256_server_config();
        if let Some(suite) = tls12 {
            sc.suites = leak([suite]);
        }
        if !tickets {
            sc.tickets = 0;
            sc.session_cache = Some(leak(tls::SessionMap::default()));
        }
        sc.ticket_keys =
            (leak([tlspair::handshake::ticket::TicketKey::new(1, &[9; 32]).unwrap()])).into();
        let sc = leak(sc);
        let mut m = Mem::new(our_server((*sc).clone()), rustls_client(client.clone()));
        run(&mut m, "handshake", Mem::handshake);
        assert!(!m.ours.negotiated().unwrap().resumed);
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"first", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
        // The same rustls config keeps the ticket in its session store.
        let mut m = Mem::new(our_server((*sc).clone()), rustls_client(client));
        run(&mut m, "resumption", Mem::handshake);
        assert_eq!(
            m.peer.handshake_kind(),
            Some(rustls::HandshakeKind::Resumed)
        );
        assert!(m.ours.negotiated().unwrap().resumed);
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"second", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

/// 0-RTT from rustls (`enable_early_data`) to our server: its second
/// connection writes early data with our ticket, our `read_early` takes
/// it, and rustls sees it accepted.
#[test]
fn rustls_client_sends_early_data_to_our_server() {
    bounded(|| {
        let mut client = (*rustls_client_config(provider(None, None), &[])).clone();
        client.enable_early_data = true;
        let client = Arc::new(client);
        let (_, sc, _) = tls::early_data_configs(16_384);
        let mut m = Mem::new(our_server(sc.clone()), rustls_client(client.clone()));
        run(&mut m, "handshake", Mem::handshake);
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"first", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
        let mut peer = rustls_client(client);
        let request = b"early request from rustls";
        match &mut peer {
            rustls::Connection::Client(c) => {
                let mut early = c.early_data().expect("rustls offers 0-RTT on our ticket");
                assert_eq!(early.write(request).unwrap(), request.len());
            }
            rustls::Connection::Server(_) => unreachable!("a client"),
        }
        let mut m = Mem::new(our_server(sc.clone()), peer);
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..1000 {
            match m.ours.read_early(&mut m.bufs, &mut buf) {
                Ok(Status::Done(0)) => break,
                Ok(Status::Done(n)) => got.extend_from_slice(&buf[..n]),
                Ok(_) => {
                    m.shuttle().expect("rustls");
                }
                Err(e) => panic!("read_early: {e:?}"),
            }
        }
        assert_eq!(got, request);
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(m.ours.early_data(), tlspair::EarlyData::Accepted);
        match &m.peer {
            rustls::Connection::Client(c) => assert!(c.is_early_data_accepted()),
            rustls::Connection::Server(_) => unreachable!("a client"),
        }
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"second", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

// ---------------------------------------------------------------------
// Refusals, and the alert that carries them.

#[test]
fn rustls_client_refusing_our_certificate_is_alert_received() {
    bounded(|| {
        let peer = default_rustls_client();
        let sc = tls::server_config(&[tls::certified(&creds::WRONG_NAME_ECDSA_P256)]);
        let mut m = Mem::new(our_server(sc), peer);
        match m.handshake() {
            Err(Failure::Ours(e)) => assert_eq!(
                e,
                Error::AlertReceived(tlspair::AlertDescription::BAD_CERTIFICATE)
            ),
            other => panic!("expected rustls's alert, got {other:?}"),
        }
    });
}

#[test]
fn our_client_refusing_rustls_certificate_sends_bad_certificate() {
    bounded(|| {
        let peer = default_rustls_server();
        // Our client expects another name than the certificate's.
        let conn = Connection::client(leak(tls::client_config()), Some("example.com"), tls::now())
            .expect("client");
        let mut m = Mem::new(conn, peer);
        match m.handshake() {
            Err(Failure::Ours(e)) => assert_eq!(
                e,
                Error::Certificate(tlspair::verify::CertificateError::NotValidForName)
            ),
            other => panic!("expected our refusal, got {other:?}"),
        }
        // rustls opened our alert, sealed under the handshake keys.
        assert_eq!(
            m.peer.process_new_packets().unwrap_err(),
            rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate)
        );
    });
}

// ---------------------------------------------------------------------
// KeyUpdate in the middle of 16 MiB.

const SIXTEEN_MIB: usize = 16 * 1024 * 1024;

fn key_update_records(lengths: &[usize]) -> usize {
    lengths
        .iter()
        .filter(|&&l| l == KEY_UPDATE_RECORD_LEN)
        .count()
}

#[test]
fn key_update_from_rustls_in_the_middle_of_16_mib_is_answered() {
    bounded(|| {
        let peer = default_rustls_client();
        let mut m = Mem::new(our_server(tls::p256_server_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        m.ours_sent.take();
        let data = text(SIXTEEN_MIB, 9);
        // refresh_traffic_keys sends a KeyUpdate with update_requested.
        run(&mut m, "16 MiB from rustls", |m| {
            m.peer_to_ours(&data, |m| m.peer.refresh_traffic_keys().expect("refresh"))
        });
        // While only reading, all we sent is our answer.
        assert_eq!(key_update_records(&m.ours_sent.take()), 1);
        // And it was taken: rustls reads what we seal with our new key.
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(b"after the update", |_| {})
        });
        run(&mut m, "close", Mem::close_peer_first);
    });
}

#[test]
fn key_update_from_us_in_the_middle_of_16_mib_is_answered_by_rustls() {
    bounded(|| {
        let peer = default_rustls_server();
        let mut m = Mem::new(our_client(tls::client_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        let data = text(SIXTEEN_MIB, 10);
        run(&mut m, "16 MiB to rustls", |m| {
            m.ours_to_peer(&data, |m| m.ours.key_update(true))
        });
        assert_eq!(key_update_records(&m.ours_sent.take()), 1);
        // rustls answers our request when it next sends: its KeyUpdate,
        // then data sealed under its new key, which we must open.
        m.peer_sent.take();
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(64 * 1024, 11), |_| {})
        });
        assert_eq!(key_update_records(&m.peer_sent.take()), 1);
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn key_update_from_rustls_while_we_write_16_mib_is_answered_between_records() {
    bounded(|| {
        let peer = default_rustls_server();
        let mut m = Mem::new(our_client(tls::client_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        m.ours_sent.take();
        // Our writes are 64 KiB into a 20 kB outgoing view: a complete-mode
        // write is pending when rustls's request is read, and our answer
        // must go between its records.
        let data = text(SIXTEEN_MIB, 28);
        run(&mut m, "16 MiB to rustls", |m| {
            m.ours_to_peer(&data, |m| {
                m.peer.refresh_traffic_keys().expect("refresh");
                m.shuttle().expect("request to us");
            })
        });
        assert_eq!(key_update_records(&m.ours_sent.take()), 1);
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"after", |_| {}));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn key_update_not_requested_from_us_gets_no_answer_from_rustls() {
    bounded(|| {
        let peer = rustls_server(rustls_server_config(
            provider(None, None),
            KeyType::Ed25519,
            &[],
        ));
        let mut m = Mem::new(our_client(tls::client_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(&text(1024 * 1024, 12), |m| m.ours.key_update(false))
        });
        assert_eq!(key_update_records(&m.ours_sent.take()), 1);
        m.peer_sent.take();
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(64 * 1024, 13), |_| {})
        });
        assert_eq!(key_update_records(&m.peer_sent.take()), 0);
        run(&mut m, "close", Mem::close_peer_first);
    });
}

// ---------------------------------------------------------------------
// Padded records (RFC 8446 §5.4).

#[test]
fn padded_records_from_us_are_read_by_rustls_both_ways() {
    bounded(|| {
        for padding in [tlspair::Padding::Max, tlspair::Padding::ToMultiple(333)] {
            let mut cc = tls::client_config();
            cc.record.padding = padding;
            let peer = rustls_server(rustls_server_config(
                provider(None, None),
                KeyType::EcdsaP384,
                &[],
            ));
            let mut m = Mem::new(our_client(cc), peer);
            run(&mut m, "handshake", Mem::handshake);
            run(&mut m, "to rustls", |m| {
                m.ours_to_peer(&text(100_000, 26), |_| {})
            });
            run(&mut m, "close", Mem::close_ours_first);

            let mut sc = tls::server_config(&[tls::certified(&creds::SERVER_ECDSA_P384)]);
            sc.record.padding = padding;
            let peer = default_rustls_client();
            let mut m = Mem::new(our_server(sc), peer);
            run(&mut m, "handshake", Mem::handshake);
            run(&mut m, "to rustls", |m| {
                m.ours_to_peer(&text(100_000, 27), |_| {})
            });
            run(&mut m, "close", Mem::close_peer_first);
        }
    });
}

// ---------------------------------------------------------------------
// Closing and truncation.

#[test]
fn close_notify_from_us_then_rustls() {
    bounded(|| {
        let peer = default_rustls_server();
        let mut m = Mem::new(our_client(tls::client_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"bye", |_| {}));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn close_notify_from_rustls_then_us() {
    bounded(|| {
        let peer = default_rustls_client();
        let mut m = Mem::new(
            our_server(tls::server_config(&[tls::certified(
                &creds::SERVER_RSA_2048,
            )])),
            peer,
        );
        run(&mut m, "handshake", Mem::handshake);
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"bye", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

#[test]
fn end_of_stream_without_close_notify_from_rustls_is_truncation() {
    bounded(|| {
        let peer = default_rustls_server();
        let mut m = Mem::new(our_client(tls::client_config()), peer);
        run(&mut m, "handshake", Mem::handshake);
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(b"cut short", |_| {})
        });
        m.bufs.recv.set_eof();
        match m.drain_ours() {
            Err(Failure::Ours(Error::Truncated)) => {}
            other => panic!("expected truncation, got {other:?}"),
        }
        // And rustls sees our silence the same way.
        assert_eq!(
            m.peer.read_tls(&mut &[][..]).unwrap(),
            0,
            "end of stream to rustls"
        );
        m.peer.process_new_packets().unwrap();
        let err = m.peer.reader().read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    });
}

// ---------------------------------------------------------------------
// Over loopback TCP, rustls in a thread with its blocking stream.

const MIB: usize = 1024 * 1024;

#[test]
fn tcp_our_client_with_rustls_echo_server() {
    bounded(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let cfg = rustls_server_config(provider(None, None), KeyType::Rsa2048, &[]);
        // Echoes until our close_notify, then closes too.
        let server = thread::spawn(move || -> Result<usize, String> {
            let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
            sock.set_read_timeout(Some(net::WAIT_LIMIT)).unwrap();
            sock.set_write_timeout(Some(net::WAIT_LIMIT)).unwrap();
            let conn = rustls::ServerConnection::new(cfg).map_err(|e| e.to_string())?;
            let mut tls = rustls::StreamOwned::new(conn, sock);
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0;
            loop {
                let n = tls
                    .read(&mut buf)
                    .map_err(|e| format!("rustls read: {e}"))?;
                if n == 0 {
                    break;
                }
                tls.write_all(&buf[..n])
                    .map_err(|e| format!("rustls write: {e}"))?;
                total += n;
            }
            tls.conn.send_close_notify();
            tls.flush().map_err(|e| e.to_string())?;
            Ok(total)
        });
        let mut ours = TlsSocket::connect_and_handshake(our_client(tls::client_config()), port)
            .expect("handshake with rustls");
        let data = text(MIB, 14);
        let echoed = ours.exchange(&data, data.len()).expect("echo");
        assert!(echoed == data, "echo differs");
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert_eq!(server.join().unwrap(), Ok(MIB));
    });
}

#[test]
fn tcp_rustls_client_with_our_server() {
    bounded(|| {
        let (listener, port) = net::listener();
        let cfg = rustls_client_config(provider(None, None), &[b"h2"]);
        let up = text(MIB, 15);
        let down = text(MIB, 16);
        let (up2, down2) = (up.clone(), down.clone());
        // Sends 1 MiB and its close_notify, then reads our 1 MiB until ours.
        let client = thread::spawn(move || -> Result<(), String> {
            let sock = net::connect(port);
            sock.set_read_timeout(Some(net::WAIT_LIMIT)).unwrap();
            sock.set_write_timeout(Some(net::WAIT_LIMIT)).unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(cfg, name).map_err(|e| e.to_string())?;
            let mut tls = rustls::StreamOwned::new(conn, sock);
            tls.write_all(&up2)
                .map_err(|e| format!("rustls write: {e}"))?;
            tls.conn.send_close_notify();
            tls.flush().map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            tls.read_to_end(&mut got)
                .map_err(|e| format!("rustls read: {e}"))?;
            if got != down2 {
                return Err(format!(
                    "rustls received {} bytes, other than sent",
                    got.len()
                ));
            }
            Ok(())
        });
        let sock = net::accept(&listener, || Ok(()));
        let mut sc = tls::server_config(&[tls::certified(&creds::SERVER_ED25519)]);
        sc.alpn = &[b"h2"];
        let mut ours = TlsSocket::new(our_server(sc), sock);
        ours.handshake().expect("handshake with rustls");
        assert_eq!(ours.conn.negotiated().unwrap().alpn_index, Some(0));
        let got = ours.read_until_closed().expect("1 MiB from rustls");
        assert!(got == up, "received {} bytes, other than sent", got.len());
        ours.send_all(&down).unwrap();
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert_eq!(client.join().unwrap(), Ok(()));
    });
}

#[test]
fn rustls_version_is_0_23() {
    // docs/interop.md names the version Cargo.lock pins; a major bump
    // should be a deliberate change there.
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let at = lock
        .find("name = \"rustls\"\n")
        .expect("rustls in Cargo.lock");
    assert!(lock[at..]
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("version = \"0.23."));
}

/// Every byte of both directions delivered on its own: our reassembly of
/// rustls's flights and records, and rustls's of ours.
#[test]
fn one_byte_at_a_time_each_way_for_every_key_type() {
    bounded(|| {
        for key in KeyType::ALL {
            let peer = rustls_server(rustls_server_config(provider(None, None), key, &[]));
            let mut m = Mem::new(our_client(tls::client_config()), peer);
            m.chunk = 1;
            run(&mut m, "handshake", Mem::handshake);
            run(&mut m, "to rustls", |m| {
                m.ours_to_peer(&text(20_000, 1), |_| {})
            });
            run(&mut m, "from rustls", |m| {
                m.peer_to_ours(&text(20_000, 2), |_| {})
            });
            run(&mut m, "close", Mem::close_ours_first);

            let peer = default_rustls_client();
            let mut m = Mem::new(
                our_server(tls::server_config(&[tls::certified(key.credential())])),
                peer,
            );
            m.chunk = 1;
            run(&mut m, "handshake", Mem::handshake);
            run(&mut m, "from rustls", |m| {
                m.peer_to_ours(&text(20_000, 3), |_| {})
            });
            run(&mut m, "to rustls", |m| {
                m.ours_to_peer(&text(20_000, 4), |_| {})
            });
            run(&mut m, "close", Mem::close_peer_first);
        }
    });
}

/// rustls cutting its flights and data into records of 32 to 512 bytes:
/// its Certificate message spans many records, reassembled in place.
#[test]
fn rustls_sending_small_records_each_way() {
    bounded(|| {
        for frag in [32usize, 64, 100, 512] {
            let mut cfg =
                (*rustls_server_config(provider(None, None), KeyType::Rsa2048, &[])).clone();
            cfg.max_fragment_size = Some(frag);
            let peer = rustls_server(Arc::new(cfg));
            let mut m = Mem::new(our_client(tls::client_config()), peer);
            run(&mut m, "handshake", Mem::handshake);
            run(&mut m, "from rustls", |m| {
                m.peer_to_ours(&text(50_000, 2), |_| {})
            });
            run(&mut m, "close", Mem::close_peer_first);

            let mut cfg = (*rustls_client_config(provider(None, None), &[])).clone();
            cfg.max_fragment_size = Some(frag);
            let peer = rustls_client(Arc::new(cfg));
            let mut m = Mem::new(
                our_server(tls::server_config(&[tls::certified(
                    &creds::SERVER_RSA_2048,
                )])),
                peer,
            );
            run(&mut m, "handshake", Mem::handshake);
            run(&mut m, "from rustls", |m| {
                m.peer_to_ours(&text(50_000, 3), |_| {})
            });
            run(&mut m, "close", Mem::close_peer_first);
        }
    });
}

// ---------------------------------------------------------------------
// Client certificates, each way.

/// Our server requiring a client certificate from the test CA.
fn our_mtls_server() -> Connection<'static> {
    our_server(tls::mtls_server_config())
}

/// A rustls server requiring a client certificate from the test CA.
fn rustls_mtls_server() -> rustls::Connection {
    rustls_mtls_server_with(provider(None, None))
}

/// The same with provider `p` (TLS 1.2 only for a TLS 1.2 suite).
fn rustls_mtls_server_with(p: Arc<CryptoProvider>) -> rustls::Connection {
    let versions = versions(&p);
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(rustls_roots()),
        p.clone(),
    )
    .build()
    .expect("client verifier");
    let cred = &creds::SERVER_ECDSA_P256;
    let cfg = rustls::ServerConfig::builder_with_provider(p)
        .with_protocol_versions(versions)
        .expect("protocol version")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(cred.cert)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cred.key)),
        )
        .expect("server credential");
    rustls_server(Arc::new(cfg))
}

#[test]
fn rustls_client_certificate_to_our_server_requiring_one() {
    bounded(|| {
        let client = &creds::CLIENT_ECDSA_P256;
        let cfg = rustls_client_builder(provider(None, None))
            .with_client_auth_cert(
                vec![CertificateDer::from(client.cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client.key)),
            )
            .expect("client credential");
        let mut m = Mem::new(our_mtls_server(), rustls_client(Arc::new(cfg)));
        run(&mut m, "handshake", Mem::handshake);
        // The certificate our server verified is the one rustls sent.
        let sha = ring::digest::digest(&ring::digest::SHA256, client.cert);
        assert_eq!(
            m.ours.negotiated().unwrap().peer_cert_sha256.as_ref(),
            Some(&sha.as_ref().try_into().unwrap())
        );
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"mutual", |_| {}));
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"mutual", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

#[test]
fn rustls_client_without_a_certificate_is_refused_with_certificate_required() {
    bounded(|| {
        let peer = default_rustls_client();
        let mut m = Mem::new(our_mtls_server(), peer);
        match m.handshake() {
            Err(Failure::Ours(e)) => assert_eq!(
                e,
                Error::PeerIncompatible(tlspair::PeerIncompatible::CertificateRequired)
            ),
            other => panic!("expected our refusal, got {other:?}"),
        }
        // rustls opened our certificate_required alert.
        assert_eq!(
            m.peer.process_new_packets().unwrap_err(),
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)
        );
    });
}

#[test]
fn our_client_certificate_to_rustls_server_requiring_one() {
    bounded(|| {
        let mut cc = tls::client_config();
        cc.client_auth = Some(tls::certified(&creds::CLIENT_ECDSA_P256));
        let mut m = Mem::new(our_client(cc), rustls_mtls_server());
        run(&mut m, "handshake", Mem::handshake);
        // rustls verified and kept exactly our certificate.
        let certs = m
            .peer
            .peer_certificates()
            .expect("rustls saw a certificate");
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].as_ref(), creds::CLIENT_ECDSA_P256.cert);
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"mutual", |_| {}));
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"mutual", |_| {}));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn our_client_without_a_certificate_gets_rustls_certificate_required() {
    bounded(|| {
        let mut m = Mem::new(our_client(tls::client_config()), rustls_mtls_server());
        match m.handshake() {
            Err(Failure::Rustls(e)) => assert_eq!(e, rustls::Error::NoCertificatesPresented),
            other => panic!("expected rustls's refusal, got {other:?}"),
        }
        // Our client finished its side; the alert rustls sent instead of
        // its tickets ends our connection on the next read.
        match m.drain_ours() {
            Err(Failure::Ours(e)) => assert_eq!(
                e,
                Error::AlertReceived(tlspair::AlertDescription::CERTIFICATE_REQUIRED)
            ),
            other => panic!("expected rustls's alert, got {other:?}"),
        }
    });
}

// ---------------------------------------------------------------------
// A receive limit the peer never agreed to (RFC 8449 §4): rustls does not
// answer record_size_limit, so it is not bound by ours and sends full
// records, which a large enough view takes.

fn rustls_ignoring_our_record_limit(ours_client: bool, suite: &'static Suite) {
    bounded(move || {
        let group = NamedGroup::X25519;
        let key = KeyType::EcdsaP256;
        let p = provider(Some(suite), Some(group));
        let mut m = if ours_client {
            let mut cc = client_config(suite, group);
            cc.record.recv_max_fragment_len = 1024;
            let peer = rustls_server(rustls_server_config(p, key, &[]));
            Mem::new(our_client(cc), peer)
        } else {
            let mut sc = server_config(suite, group, key);
            sc.record.recv_max_fragment_len = 1024;
            let peer = rustls_client(rustls_client_config(p, &[]));
            Mem::new(our_server(sc), peer)
        };
        run(&mut m, "handshake", Mem::handshake);
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(40_000, 5), |_| {})
        });
        let sent = m.peer_sent.take();
        assert!(
            sent.iter().any(|&n| n > 1024 + 29),
            "rustls sent no record over our limit: {sent:?}"
        );
        run(&mut m, "close", Mem::close_ours_first);
    });
}

#[test]
fn our_client_takes_full_records_from_a_rustls_server_that_ignored_its_limit() {
    rustls_ignoring_our_record_limit(true, &tlspair::TLS13_AES_128_GCM_SHA256);
}

#[test]
fn our_client_takes_full_records_from_a_rustls_server_that_ignored_its_limit_in_tls12() {
    rustls_ignoring_our_record_limit(true, &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256);
}

#[test]
fn our_server_takes_full_records_from_a_rustls_client_that_ignored_its_limit() {
    rustls_ignoring_our_record_limit(false, &tlspair::TLS13_AES_128_GCM_SHA256);
}

#[test]
fn our_server_takes_full_records_from_a_rustls_client_that_ignored_its_limit_in_tls12() {
    rustls_ignoring_our_record_limit(false, &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256);
}

#[test]
fn a_view_sized_for_a_limit_rustls_ignored_asks_to_grow_and_then_goes_on() {
    // The full record is legal, so it is not the peer's fault: the error
    // is the caller's to mend (a larger view) and the connection lives.
    bounded(|| {
        let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
        let mut cc = client_config(suite, NamedGroup::X25519);
        cc.record.recv_max_fragment_len = 1024;
        let small = cc.record.recv_buffer_len();
        let p = provider(Some(suite), Some(NamedGroup::X25519));
        let peer = rustls_server(rustls_server_config(p, KeyType::EcdsaP256, &[]));
        let mut m = Mem::new(our_client(cc), peer);
        run(&mut m, "handshake", Mem::handshake);
        let recv = std::mem::replace(&mut m.bufs.recv, tlspair::RecvBuf::new(Vec::new()));
        let Ok((recv, _)) = recv.move_to(vec![0; small]) else {
            panic!("move")
        };
        m.bufs.recv = recv;
        let data = text(40_000, 6);
        match m.peer_to_ours(&data, |_| {}) {
            Err(Failure::Ours(Error::Misuse(tlspair::Misuse::RecvBufferTooSmall { needed }))) => {
                assert!(needed > small, "{needed}")
            }
            other => panic!("{other:?}"),
        }
        let recv = std::mem::replace(&mut m.bufs.recv, tlspair::RecvBuf::new(Vec::new()));
        let Ok((recv, _)) = recv.move_to(vec![0; 20_000]) else {
            panic!("move")
        };
        m.bufs.recv = recv;
        let got_before = m.ours_got.len();
        while m.ours_got.len() < data.len() {
            let before = m.ours_got.len();
            run(&mut m, "after growing", Mem::settle);
            assert!(m.ours_got.len() > before, "stalled at {}", m.ours_got.len());
        }
        assert!(got_before < data.len());
        assert!(m.ours_got == data, "we received other bytes");
        run(&mut m, "close", Mem::close_ours_first);
    });
}

// ---------------------------------------------------------------------
// TLS 1.2 client certificates, each way and each key type: both sides
// of ours keep the messages the CertificateVerify signs.

fn rustls_client_certificate_to_our_server_in_tls12(key: KeyType) {
    bounded(move || {
        let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
        let client = key.client_credential();
        let cfg = rustls_client_builder(provider(Some(suite), None))
            .with_client_auth_cert(
                vec![CertificateDer::from(client.cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client.key)),
            )
            .expect("client credential");
        let mut sc = tls::mtls_server_config();
        sc.suites = &tlspair::TLS12_SUITES;
        let mut ours = our_server(sc);
        ours.keep_tls12_transcript(Vec::new());
        let mut m = Mem::new(ours, rustls_client(Arc::new(cfg)));
        run(&mut m, "handshake", Mem::handshake);
        let n = m.ours.negotiated().unwrap();
        assert_eq!(n.version, tlspair::wire::ProtocolVersion::TLS1_2);
        let sha = ring::digest::digest(&ring::digest::SHA256, client.cert);
        assert_eq!(
            n.peer_cert_sha256.as_ref(),
            Some(&sha.as_ref().try_into().unwrap())
        );
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"mutual", |_| {}));
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"mutual", |_| {}));
        run(&mut m, "close", Mem::close_peer_first);
    });
}

fn our_client_certificate_to_rustls_server_in_tls12(key: KeyType) {
    bounded(move || {
        let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
        let mut cc = tls::client_config();
        cc.suites = &tlspair::TLS12_SUITES;
        cc.client_auth = Some(tls::certified(key.client_credential()));
        let mut ours = our_client(cc);
        ours.keep_tls12_transcript(Vec::new());
        let mut m = Mem::new(ours, rustls_mtls_server_with(provider(Some(suite), None)));
        run(&mut m, "handshake", Mem::handshake);
        let certs = m
            .peer
            .peer_certificates()
            .expect("rustls saw a certificate");
        assert_eq!(certs[0].as_ref(), key.client_credential().cert);
        assert_eq!(
            m.peer.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"mutual", |_| {}));
        run(&mut m, "from rustls", |m| m.peer_to_ours(b"mutual", |_| {}));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

mod tls12_client_certificates {
    use super::*;

    #[test]
    fn rustls_to_ours_ecdsa_p256() {
        rustls_client_certificate_to_our_server_in_tls12(KeyType::EcdsaP256);
    }

    #[test]
    fn rustls_to_ours_ecdsa_p384() {
        rustls_client_certificate_to_our_server_in_tls12(KeyType::EcdsaP384);
    }

    #[test]
    fn rustls_to_ours_ed25519() {
        rustls_client_certificate_to_our_server_in_tls12(KeyType::Ed25519);
    }

    #[test]
    fn rustls_to_ours_rsa() {
        rustls_client_certificate_to_our_server_in_tls12(KeyType::Rsa2048);
    }

    #[test]
    fn ours_to_rustls_ecdsa_p256() {
        our_client_certificate_to_rustls_server_in_tls12(KeyType::EcdsaP256);
    }

    #[test]
    fn ours_to_rustls_ecdsa_p384() {
        our_client_certificate_to_rustls_server_in_tls12(KeyType::EcdsaP384);
    }

    #[test]
    fn ours_to_rustls_ed25519() {
        our_client_certificate_to_rustls_server_in_tls12(KeyType::Ed25519);
    }

    #[test]
    fn ours_to_rustls_rsa() {
        our_client_certificate_to_rustls_server_in_tls12(KeyType::Rsa2048);
    }
}

/// 0-RTT to a rustls server that allows it (`max_early_data_size`): its
/// ticket carries the allowance, our second connection's `write_early`
/// goes in its first flight, and rustls reads it as early data, once.
#[test]
fn our_client_sends_early_data_to_rustls() {
    bounded(|| {
        let mut cfg =
            (*rustls_server_config(provider(None, None), KeyType::EcdsaP256, &[])).clone();
        cfg.max_early_data_size = 8192;
        let server = Arc::new(cfg);
        let store: &'static Tickets = leak(Tickets::default());
        let mut cc = tls::client_config();
        cc.ticket_sink = Some(store);
        let cc = leak(cc);
        let ticket = first_ticket_of_rustls(&server, cc, store);
        assert_eq!(ticket.max_early_data, 8192);
        let second =
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).expect("client");
        let mut m = Mem::new(second, rustls_server(server));
        let early = b"0-RTT request";
        assert_eq!(
            m.ours.write_early(&mut m.bufs, early),
            Ok(Status::Done(early.len()))
        );
        // rustls hands out early data as soon as its ClientHello is read.
        let _ = m.shuttle();
        let mut got = Vec::new();
        if let rustls::Connection::Server(s) = &mut m.peer {
            if let Some(mut e) = s.early_data() {
                e.read_to_end(&mut got).expect("early data");
            }
        }
        run(&mut m, "0-RTT handshake", Mem::handshake);
        assert_eq!(m.ours.early_data(), tlspair::EarlyData::Accepted);
        assert_eq!(got, early);
        assert!(m.peer_got.is_empty(), "not delivered again as 1-RTT data");
        run(&mut m, "to rustls", |m| m.ours_to_peer(b"after", |_| {}));
        run(&mut m, "close", Mem::close_ours_first);
    });
}

/// rustls refuses renegotiation (it implements none): our client's
/// renegotiate() meets a no_renegotiation warning from a rustls TLS 1.2
/// server, and the connection goes on as it was, both ways.
#[test]
fn rustls_server_refuses_our_renegotiation_and_the_connection_goes_on() {
    bounded(|| {
        let (suite, group, key) = (
            &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
            NamedGroup::X25519,
            KeyType::EcdsaP256,
        );
        let peer = rustls_server(rustls_server_config(
            provider(Some(suite), Some(group)),
            key,
            &[],
        ));
        let mut m = Mem::new(our_client(client_config(suite, group)), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(
            m.ours.renegotiate(&mut m.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        assert!(m.ours.is_renegotiating());
        run(&mut m, "refusal", |m| {
            for _ in 0..8 {
                m.shuttle()?;
                m.drain_ours()?;
            }
            Ok(())
        });
        assert!(!m.ours.is_renegotiating(), "the refusal ended it");
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(&text(20_000, 5), |_| {})
        });
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(20_000, 6), |_| {})
        });
        run(&mut m, "close", Mem::close_ours_first);
    });
}

/// A rustls TLS 1.2 client answers our server's HelloRequest with a
/// no_renegotiation warning: the hook is told, the connection goes on.
#[test]
fn rustls_client_refuses_our_servers_renegotiation_and_the_connection_goes_on() {
    bounded(|| {
        let (suite, group, key) = (
            &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
            NamedGroup::X25519,
            KeyType::EcdsaP256,
        );
        let told = leak(tls::Told::default());
        let mut sc = server_config(suite, group, key);
        sc.auth_hook = Some(told);
        let peer = rustls_client(rustls_client_config(
            provider(Some(suite), Some(group)),
            &[],
        ));
        let mut m = Mem::new(our_server(sc), peer);
        run(&mut m, "handshake", Mem::handshake);
        assert_eq!(
            m.ours.renegotiate(&mut m.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        run(&mut m, "refusal", |m| {
            for _ in 0..8 {
                m.shuttle()?;
                m.drain_ours()?;
            }
            Ok(())
        });
        assert_eq!(told.take(), ["refused"]);
        assert!(!m.ours.is_renegotiating());
        run(&mut m, "from rustls", |m| {
            m.peer_to_ours(&text(20_000, 7), |_| {})
        });
        run(&mut m, "to rustls", |m| {
            m.ours_to_peer(&text(20_000, 8), |_| {})
        });
        run(&mut m, "close", Mem::close_peer_first);
    });
}
