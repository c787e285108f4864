//! tlspair's hybrid groups against rustls 0.23 on aws-lc-rs, which
//! implements X25519MLKEM768 and SecP256r1MLKEM768 independently of us
//! (aws-lc's ML-KEM, rustls's hybrid layout): both directions, in memory.

use std::io::{self, Read};

use rustls::crypto::aws_lc_rs::kx_group;
use rustls_pki_types::CertificateDer;
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::verify::{TrustAnchor, WebPkiServerVerifier};
use tlspair::wire::NamedGroup as G;
use tlspair::{Buffers, Connection, Status};

mod common;
use common::{rustls_client, rustls_server};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn rng() -> &'static ring::rand::SystemRandom {
    leak(ring::rand::SystemRandom::new())
}

fn now() -> tlspair::verify::UnixTime {
    tlspair::verify::UnixTime::now()
}

fn our_client(groups: &'static [G]) -> Connection<'static> {
    let ca: &'static CertificateDer<'static> = leak(CertificateDer::from(creds::CA_CERT));
    let anchor: TrustAnchor<'static> = tlspair::verify::trust_anchor_from_der(ca).unwrap();
    let anchors: &'static [TrustAnchor<'static>] = leak([anchor]);
    let verifier = leak(WebPkiServerVerifier::new(anchors));
    let mut cc = ClientConfig::new(verifier, rng());
    cc.groups = groups;
    Connection::client(leak(cc), Some("localhost"), now()).unwrap()
}

fn our_server(groups: &'static [G]) -> Connection<'static> {
    let key = leak(SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, rng()).unwrap());
    let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
    let certs = leak([tlspair::handshake::CertifiedKey::new(chain, key)]);
    let mut sc = ServerConfig::new(certs, rng());
    sc.groups = groups;
    Connection::server(leak(sc), now()).unwrap()
}

/// Our connection and a rustls one, the test being the wire. Counts the
/// HelloRetryRequests that went by.
struct Pair {
    ours: Connection<'static>,
    bufs: Buffers<Vec<u8>, Vec<u8>>,
    peer: rustls::Connection,
}

impl Pair {
    fn new(ours: Connection<'static>, peer: rustls::Connection) -> Self {
        Self {
            ours,
            bufs: Buffers::new(vec![0; 40_000], vec![0; 40_000]),
            peer,
        }
    }

    fn shuttle(&mut self) {
        while !self.bufs.send.is_empty() {
            let n = self.peer.read_tls(&mut self.bufs.send.pending()).unwrap();
            self.bufs.send.consume(n);
            self.peer
                .process_new_packets()
                .unwrap_or_else(|e| panic!("rustls: {e}"));
        }
        while self.peer.wants_write() {
            let mut out = Vec::new();
            self.peer.write_tls(&mut out).unwrap();
            assert_eq!(self.bufs.recv.fill(&out), out.len());
        }
    }

    fn handshake(&mut self) {
        for _ in 0..100 {
            let status = self.ours.handshake(&mut self.bufs).unwrap();
            self.shuttle();
            if status == Status::Done(()) && !self.peer.is_handshaking() {
                return;
            }
        }
        panic!("no progress");
    }

    /// One message each way.
    fn exchange(&mut self) {
        assert_eq!(
            self.ours.write(&mut self.bufs, b"from us").unwrap(),
            Status::Done(7)
        );
        self.shuttle();
        let mut got = [0u8; 64];
        let n = self.peer.reader().read(&mut got).unwrap();
        assert_eq!(&got[..n], b"from us");
        io::Write::write_all(&mut self.peer.writer(), b"from rustls").unwrap();
        self.shuttle();
        let mut got = [0u8; 64];
        match self.ours.read(&mut self.bufs, &mut got).unwrap() {
            Status::Done(n) => assert_eq!(&got[..n], b"from rustls"),
            other => panic!("{other:?}"),
        }
    }

    fn group(&self) -> G {
        let ours = self.ours.negotiated().unwrap().group.unwrap();
        let theirs = self.peer.negotiated_key_exchange_group().unwrap().name();
        assert_eq!(u16::from(theirs), ours.0, "both sides agree");
        ours
    }
}

fn leak_groups(groups: &[G]) -> &'static [G] {
    Box::leak(groups.to_vec().into_boxed_slice())
}

#[test]
fn our_client_and_rustls_server_negotiate_each_hybrid() {
    for (ours, theirs, expect) in [
        (
            &[G::X25519MLKEM768, G::X25519][..],
            &[kx_group::X25519MLKEM768, kx_group::X25519][..],
            G::X25519MLKEM768,
        ),
        (
            &[G::SECP256R1MLKEM768, G::SECP256R1][..],
            &[kx_group::SECP256R1MLKEM768, kx_group::SECP256R1][..],
            G::SECP256R1MLKEM768,
        ),
        // rustls without the hybrid takes the X25519 share we send beside it.
        (
            &[G::X25519MLKEM768, G::X25519][..],
            &[kx_group::X25519][..],
            G::X25519,
        ),
        // rustls prefers the hybrid we list second: its HelloRetryRequest.
        (
            &[G::X25519, G::X25519MLKEM768][..],
            &[kx_group::X25519MLKEM768][..],
            G::X25519MLKEM768,
        ),
    ] {
        let mut p = Pair::new(our_client(leak_groups(ours)), rustls_server(theirs));
        p.handshake();
        assert_eq!(p.group(), expect, "{ours:?}");
        p.exchange();
    }
}

#[test]
fn rustls_client_and_our_server_negotiate_each_hybrid() {
    for (theirs, ours, expect) in [
        (
            &[kx_group::X25519MLKEM768, kx_group::X25519][..],
            &[G::X25519MLKEM768, G::X25519][..],
            G::X25519MLKEM768,
        ),
        (
            &[kx_group::SECP256R1MLKEM768, kx_group::SECP256R1][..],
            &[G::SECP256R1MLKEM768, G::SECP256R1][..],
            G::SECP256R1MLKEM768,
        ),
        // rustls listing the hybrid second sends only its X25519 share:
        // our server, preferring the hybrid, asks for it.
        (
            &[kx_group::X25519, kx_group::X25519MLKEM768][..],
            &[G::X25519MLKEM768, G::X25519][..],
            G::X25519MLKEM768,
        ),
        // A classical server of ours: the X25519 share rustls sends.
        (
            &[kx_group::X25519MLKEM768, kx_group::X25519][..],
            &[G::X25519][..],
            G::X25519,
        ),
    ] {
        let mut p = Pair::new(our_server(leak_groups(ours)), rustls_client(theirs));
        // rustls speaks first.
        p.shuttle();
        p.handshake();
        assert_eq!(p.group(), expect, "{ours:?}");
        p.exchange();
    }
}
