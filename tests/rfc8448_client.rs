//! RFC 8448 §3 in the client role: the trace's ClientHello replayed as
//! sent (our encoder orders extensions differently, so the hook
//! `Connection::client_after_hello` stands in for it, with the trace's
//! X25519 key injected), then the trace's server flight fed in. Our client
//! derives every published secret (checked through its key log), emits the
//! trace's protected client Finished record byte for byte, reads the
//! trace's ticket and application data, and writes the trace's
//! application data record.
//!
//! Named difference: the trace's server key is RSA-1024, below ring's
//! 2048-bit floor, so its CertificateVerify cannot be checked here; the
//! verifier below accepts it (and any chain) and records that it was
//! asked. Everything after it, Finished included, is checked for real.

// ring's fixed-output RNG is the only way to inject a known private key.
#![allow(deprecated)]

mod common;

use common::tls::Lines;

use std::sync::Mutex;

use ring::test::rand::FixedSliceRandom;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tlspair::handshake::kx::KeyExchange;
use tlspair::verify::{CertificateError, ServerCertVerifier};
use tlspair::wire::{NamedGroup, SignatureScheme};
use tlspair::{Buffers, Connection, Status};

fn v(name: &str) -> Vec<u8> {
    common::vectors("rfc8448_simple_1rtt.txt")
        .remove(name)
        .unwrap_or_else(|| panic!("missing vector {name}"))
}

/// Accepts the trace's RSA-1024 server (see the module docs).
#[derive(Default)]
struct TraceServer {
    asked: Mutex<Vec<&'static str>>,
}

impl ServerCertVerifier for TraceServer {
    fn verify_server_cert(
        &self,
        chain: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        _: UnixTime,
    ) -> Result<(), CertificateError> {
        assert_eq!(chain.len(), 1);
        assert_eq!(name.to_str(), "server");
        self.asked.lock().unwrap().push("chain");
        Ok(())
    }
    fn verify_signature(
        &self,
        _: &CertificateDer<'_>,
        scheme: SignatureScheme,
        _: &[u8],
        _: &[u8],
    ) -> Result<(), CertificateError> {
        assert_eq!(scheme, SignatureScheme::RSA_PSS_RSAE_SHA256);
        self.asked.lock().unwrap().push("signature");
        Ok(())
    }
    fn supported_schemes(&self) -> &[SignatureScheme] {
        &[SignatureScheme::RSA_PSS_RSAE_SHA256]
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn client_replays_the_trace() {
    let verifier: &'static TraceServer = Box::leak(Box::default());
    let log: &'static Lines = Box::leak(Box::default());
    let rng: &'static _ = Box::leak(Box::new(ring::rand::SystemRandom::new()));
    let mut config = tlspair::handshake::ClientConfig::new(verifier, rng);
    config.middlebox_compat = false;
    config.key_log = Some(log);
    config.groups = &[NamedGroup::X25519];
    let config: &'static _ = Box::leak(Box::new(config));

    let private = v("client_x25519_private");
    let kx = KeyExchange::start(NamedGroup::X25519, &FixedSliceRandom { bytes: &private }).unwrap();
    let hello = v("client_hello");
    let mut client =
        Connection::client_after_hello(config, Some("server"), common::tls::now(), &hello, kx)
            .unwrap();
    let mut bufs = Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);

    let server_hello = v("server_hello");
    let mut record = vec![22, 3, 3, 0, server_hello.len() as u8];
    record.extend(&server_hello);
    bufs.recv.fill(&record);
    bufs.recv.fill(&v("server_encrypted_flight_record"));
    assert_eq!(client.handshake(&mut bufs).unwrap(), Status::Done(()));
    assert_eq!(*verifier.asked.lock().unwrap(), ["chain", "signature"]);

    // The client's Finished, byte for byte.
    assert_eq!(bufs.send.pending(), &v("client_finished_record")[..]);
    bufs.send.consume(usize::MAX);

    // Every published secret, through the key log.
    let random = hex(&hello[6..38]);
    let want = [
        (
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "client_handshake_traffic_secret",
        ),
        (
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "server_handshake_traffic_secret",
        ),
        (
            "CLIENT_TRAFFIC_SECRET_0",
            "client_application_traffic_secret",
        ),
        (
            "SERVER_TRAFFIC_SECRET_0",
            "server_application_traffic_secret",
        ),
        ("EXPORTER_SECRET", "exporter_master_secret"),
    ];
    let lines = log.0.lock().unwrap().clone();
    assert_eq!(lines.len(), want.len());
    for (line, (label, name)) in lines.iter().zip(want) {
        assert_eq!(*line, format!("{label} {random} {}\n", hex(&v(name))));
    }

    // The ticket (dropped: no sink) and the server's application data.
    bufs.recv.fill(&v("server_new_session_ticket_record"));
    // The trace's server sent its data under sequence number 1, after the
    // ticket: feed it as sent.
    bufs.recv.fill(&v("server_application_data_record"));
    let mut plain = [0u8; 64];
    assert_eq!(
        client.read(&mut bufs, &mut plain).unwrap(),
        Status::Done(50)
    );
    assert_eq!(&plain[..50], &v("application_data_payload")[..]);

    // Our application data record and close_notify, byte for byte.
    assert_eq!(
        client
            .write(&mut bufs, &v("application_data_payload"))
            .unwrap(),
        Status::Done(50)
    );
    assert_eq!(
        bufs.send.pending(),
        &v("client_application_data_record")[..]
    );
    bufs.send.consume(usize::MAX);
    let _ = client.shutdown(&mut bufs).unwrap();
    assert_eq!(bufs.send.pending(), &v("client_alert_record")[..]);
}
