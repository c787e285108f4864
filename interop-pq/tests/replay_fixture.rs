//! Records a hybrid session between rustls (aws-lc-rs) and our side, with
//! our randomness and clock fixed, and replays it byte for byte on a new
//! connection: every run records a fresh one (rustls's randomness differs
//! each time). `cargo test -- --ignored record_fixtures` writes the ones
//! the main crate replays without rustls (`tests/pq.rs`), with their
//! provenance.

#![allow(deprecated)] // ring's fixed randomness, as the main crate's tests use it

mod common;

#[path = "../../tests/common/replay.rs"]
#[allow(dead_code)]
mod replay;

use std::io::{Read, Write};

use replay::{answer, drive, fixed_now, Event, FIXED_RANDOM_BYTE};
use ring::test::rand::FixedByteRandom;
use rustls::crypto::aws_lc_rs::kx_group;
use rustls_pki_types::CertificateDer;
use tlspair::handshake::{CertifiedKey, ClientConfig, ServerConfig};
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::verify::{TrustAnchor, WebPkiServerVerifier};
use tlspair::wire::NamedGroup;
use tlspair::{Buffers, Connection, Status};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn fixed_rng() -> &'static FixedByteRandom {
    leak(FixedByteRandom {
        byte: FIXED_RANDOM_BYTE,
    })
}

/// Our server as the main crate's replay makes it.
fn our_server() -> Connection<'static> {
    let rng = fixed_rng();
    let key = leak(SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, rng).unwrap());
    let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
    let certs = leak([CertifiedKey::new(chain, key)]);
    Connection::server(leak(ServerConfig::new(certs, rng)), fixed_now()).unwrap()
}

/// Our client as the main crate's replay makes it.
fn our_client() -> Connection<'static> {
    let ca: &'static CertificateDer<'static> = leak(CertificateDer::from(creds::CA_CERT));
    let anchors: &'static [TrustAnchor<'static>] =
        leak([tlspair::verify::trust_anchor_from_der(ca).unwrap()]);
    let verifier = leak(WebPkiServerVerifier::new(anchors));
    let config = leak(ClientConfig::new(verifier, fixed_rng()));
    Connection::client(config, Some("localhost"), fixed_now()).unwrap()
}

/// The groups the rustls peer offers or accepts.
const PEER_GROUPS: &[&dyn rustls::crypto::SupportedKxGroup] =
    &[kx_group::X25519MLKEM768, kx_group::X25519];

fn rustls_client() -> rustls::Connection {
    common::rustls_client(PEER_GROUPS)
}

fn rustls_server() -> rustls::Connection {
    common::rustls_server(PEER_GROUPS)
}

fn peer_output(peer: &mut rustls::Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while peer.wants_write() {
        peer.write_tls(&mut out).unwrap();
    }
    out
}

fn peer_input(peer: &mut rustls::Connection, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = peer.read_tls(&mut bytes).unwrap();
        assert!(n > 0);
        peer.process_new_packets()
            .unwrap_or_else(|e| panic!("rustls: {e}"));
    }
}

/// Runs a session: the handshake, the request from the client, the
/// response from the server, the client's close_notify. Returns what was
/// said, our side's events as `drive` sees them.
fn record(
    ours: &mut Connection<'static>,
    peer: &mut rustls::Connection,
    we_serve: bool,
) -> Vec<Event> {
    let mut bufs = Buffers::new(vec![0; 40_000], vec![0; 40_000]);
    let mut events = Vec::new();
    let ours_said = |events: &mut Vec<Event>,
                     peer: &mut rustls::Connection,
                     (sent, read): (Vec<u8>, Vec<u8>)| {
        peer_input(peer, &sent);
        events.extend(answer(sent, read));
    };
    if !we_serve {
        let said = drive(ours, &mut bufs);
        ours_said(&mut events, peer, said);
    }
    for _ in 0..16 {
        let bytes = peer_output(peer);
        if bytes.is_empty() {
            break;
        }
        assert_eq!(bufs.recv.fill(&bytes), bytes.len());
        events.push(Event::Peer(bytes));
        let said = drive(ours, &mut bufs);
        ours_said(&mut events, peer, said);
    }
    assert!(!ours.is_handshaking() && !peer.is_handshaking());
    assert_eq!(
        ours.negotiated().unwrap().group,
        Some(NamedGroup::X25519MLKEM768)
    );
    let (request_from, response_from) = if we_serve {
        (None, Some(RESPONSE))
    } else {
        (Some(REQUEST), None)
    };
    // The client's request, then the server's response.
    for (text, ours_writes) in [
        (REQUEST, request_from.is_some()),
        (RESPONSE, response_from.is_some()),
    ] {
        if ours_writes {
            assert_eq!(
                ours.write(&mut bufs, text).unwrap(),
                Status::Done(text.len())
            );
            events.push(Event::Write(text.to_vec()));
            let said = drive(ours, &mut bufs);
            ours_said(&mut events, peer, said);
            let mut got = vec![0; text.len()];
            peer.reader().read_exact(&mut got).unwrap();
            assert_eq!(got, text);
        } else {
            peer.writer().write_all(text).unwrap();
            let bytes = peer_output(peer);
            assert_eq!(bufs.recv.fill(&bytes), bytes.len());
            events.push(Event::Peer(bytes));
            let said = drive(ours, &mut bufs);
            assert_eq!(said.1, text);
            ours_said(&mut events, peer, said);
        }
    }
    events
}

fn provenance(what: &str) -> Vec<String> {
    vec![
        format!("{what}, X25519MLKEM768 negotiated, TLS_AES_128_GCM_SHA256."),
        "The peer: rustls 0.23.46 on aws-lc-rs 1.19.0 / aws-lc-sys 0.47.0 (its own ML-KEM and hybrid".into(),
        "layout), groups X25519MLKEM768 then X25519, recorded 2026-12-01 in memory by".into(),
        "interop-pq/tests/replay_fixture.rs (cargo test -- --ignored record_fixtures, in interop-pq/).".into(),
        format!(
            "Our side: default configuration, the built-in test credentials, every random byte 0x{FIXED_RANDOM_BYTE:02x},"
        ),
        "the clock at 2026-12-01T00:00:00Z. Replayed by tests/pq.rs.".into(),
    ]
}

fn replayed(mut fresh: Connection<'static>, events: &[Event]) {
    let mut bufs = Buffers::new(vec![0; 40_000], vec![0; 40_000]);
    let fed = replay::replay(&mut fresh, &mut bufs, events);
    assert!(fed >= 2, "the peer spoke at least twice");
}

#[test]
fn a_fresh_recording_with_a_rustls_client_replays_byte_for_byte() {
    let events = record(&mut our_server(), &mut rustls_client(), true);
    replayed(our_server(), &events);
}

#[test]
fn a_fresh_recording_with_a_rustls_server_replays_byte_for_byte() {
    let events = record(&mut our_client(), &mut rustls_server(), false);
    replayed(our_client(), &events);
}

#[test]
#[ignore = "writes the fixtures of tests/pq.rs; run by hand to record them again"]
fn record_fixtures() {
    for (name, what, we_serve) in [
        (
            "pq_rustls_client.txt",
            "A rustls client and our server",
            true,
        ),
        (
            "pq_rustls_server.txt",
            "Our client and a rustls server",
            false,
        ),
    ] {
        let events = if we_serve {
            record(&mut our_server(), &mut rustls_client(), true)
        } else {
            record(&mut our_client(), &mut rustls_server(), false)
        };
        let lines = provenance(what);
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let path = format!("{}/../tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(&path, replay::format(&lines, &events)).unwrap();
    }
}
