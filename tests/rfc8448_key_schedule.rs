//! Known answers from RFC 8448 §3 for the key exchange and every stage of
//! the key schedule, computed from the trace's messages and keys.

// ring's fixed-output RNG is the only way to inject a known private key.
#![allow(deprecated)]

mod common;

use ring::test::rand::FixedSliceRandom;
use tlspair::handshake::kx::KeyExchange;
use tlspair::key_schedule::{EarlySecret, Transcript};
use tlspair::wire::NamedGroup;
use tlspair::TLS13_AES_128_GCM_SHA256 as SUITE;

fn v(name: &str) -> Vec<u8> {
    common::vectors("rfc8448_simple_1rtt.txt")
        .remove(name)
        .unwrap_or_else(|| panic!("missing vector {name}"))
}

/// Splits the server's encrypted flight into its messages.
fn messages(flight: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = flight;
    while !rest.is_empty() {
        let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
        out.push(rest[..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    out
}

#[test]
fn x25519_with_injected_keys_agrees_on_the_trace_secret() {
    let private = v("client_x25519_private");
    let rng = FixedSliceRandom { bytes: &private };
    let kx = KeyExchange::start(NamedGroup::X25519, &rng).unwrap();
    assert_eq!(kx.public(), &v("client_x25519_public")[..]);
    let shared = kx.complete(&v("server_x25519_public")).unwrap();
    assert_eq!(shared.as_bytes(), &v("ecdhe_shared_secret")[..]);

    // And from the server's side.
    let private = v("server_x25519_private");
    let rng = FixedSliceRandom { bytes: &private };
    let kx = KeyExchange::start(NamedGroup::X25519, &rng).unwrap();
    assert_eq!(kx.public(), &v("server_x25519_public")[..]);
    let shared = kx.complete(&v("client_x25519_public")).unwrap();
    assert_eq!(shared.as_bytes(), &v("ecdhe_shared_secret")[..]);
}

#[test]
fn x25519_refuses_a_low_order_point() {
    let rng = ring::rand::SystemRandom::new();
    let kx = KeyExchange::start(NamedGroup::X25519, &rng).unwrap();
    // The all-zero point makes an all-zero shared secret (RFC 8446 §7.4.2).
    assert!(kx.complete(&[0u8; 32]).is_none());
}

#[test]
fn every_secret_of_the_schedule() {
    let early = EarlySecret::new(&SUITE, None).unwrap();
    assert_eq!(early.secret().as_bytes(), &v("early_secret")[..]);

    let mut transcript = Transcript::new(&SUITE);
    transcript.add(&v("client_hello"));
    transcript.add(&v("server_hello"));
    let hs = early
        .into_handshake(&SUITE, &v("ecdhe_shared_secret"))
        .unwrap();
    let (c_hs, s_hs) = hs.traffic_secrets(&SUITE, &transcript.current()).unwrap();
    assert_eq!(c_hs.as_bytes(), &v("client_handshake_traffic_secret")[..]);
    assert_eq!(s_hs.as_bytes(), &v("server_handshake_traffic_secret")[..]);

    // The server's flight: EncryptedExtensions, Certificate,
    // CertificateVerify, Finished. Its Finished verifies under s_hs.
    let flight = messages(&v("server_encrypted_flight_payload"));
    assert_eq!(flight.len(), 4);
    for m in &flight[..3] {
        transcript.add(m);
    }
    let server_finished = &flight[3][4..];
    assert!(s_hs
        .verify_finished(&SUITE, &transcript.current(), server_finished)
        .unwrap());
    assert_eq!(
        s_hs.finished_mac(&SUITE, &transcript.current())
            .unwrap()
            .as_bytes(),
        server_finished
    );
    let mut tampered = server_finished.to_vec();
    tampered[0] ^= 1;
    assert!(!s_hs
        .verify_finished(&SUITE, &transcript.current(), &tampered)
        .unwrap());
    transcript.add(&flight[3]);

    let master = hs.into_master(&SUITE).unwrap();
    let (c_ap, s_ap, exporter) = master
        .application_secrets(&SUITE, &transcript.current())
        .unwrap();
    assert_eq!(c_ap.as_bytes(), &v("client_application_traffic_secret")[..]);
    assert_eq!(s_ap.as_bytes(), &v("server_application_traffic_secret")[..]);
    assert_eq!(exporter.as_bytes(), &v("exporter_master_secret")[..]);

    // The client's Finished, under c_hs, over the transcript so far.
    let client_finished = v("client_finished_payload");
    assert_eq!(
        c_hs.finished_mac(&SUITE, &transcript.current())
            .unwrap()
            .as_bytes(),
        &client_finished[4..]
    );
    transcript.add(&client_finished);
    let resumption = master
        .resumption_secret(&SUITE, &transcript.current())
        .unwrap();
    assert_eq!(resumption.as_bytes(), &v("resumption_master_secret")[..]);
}

fn r(name: &str) -> Vec<u8> {
    common::vectors("rfc8448_resumption.txt")
        .remove(name)
        .unwrap_or_else(|| panic!("missing vector {name}"))
}

#[test]
fn resumption_psk_early_secret_and_binder() {
    // §3's NewSessionTicket carries nonce 00 00: the §4 PSK derives from
    // §3's resumption master secret.
    let res = tlspair::key_schedule::Secret::new(&v("resumption_master_secret")).unwrap();
    let psk = res.expand(&SUITE, b"resumption", &[0, 0]).unwrap();
    assert_eq!(psk.as_bytes(), &r("psk")[..]);
    assert_eq!(
        EarlySecret::new(&SUITE, Some(psk.as_bytes()))
            .unwrap()
            .secret()
            .as_bytes(),
        &r("early_secret")[..]
    );

    // The binder covers the ClientHello up to its binder list; our parser
    // finds that cut in the trace's ClientHello.
    let hello = r("client_hello_with_binders");
    let ch = tlspair::handshake::messages::ClientHello::parse(&hello[4..]).unwrap();
    let offered =
        tlspair::handshake::messages::OfferedPsks::parse(ch.ext.pre_shared_key.unwrap()).unwrap();
    let cut = hello.len() - offered.binders_len;
    assert_eq!(&hello[..cut], &r("client_hello_prefix")[..]);
    let mut transcript = Transcript::new(&SUITE);
    transcript.add(&hello[..cut]);
    assert_eq!(transcript.current().as_bytes(), &r("binder_hash")[..]);

    let key = tlspair::key_schedule::binder_key(&SUITE, psk.as_bytes()).unwrap();
    assert_eq!(key.as_bytes(), &r("binder_key")[..]);
    let binder = key.finished_mac(&SUITE, &transcript.current()).unwrap();
    assert_eq!(binder.as_bytes(), &r("binder")[..]);
    assert_eq!(offered.binders().next().unwrap(), &r("binder")[..]);
    assert!(key
        .verify_finished(
            &SUITE,
            &transcript.current(),
            offered.binders().next().unwrap()
        )
        .unwrap());
}

#[test]
fn early_traffic_secret_exporter_and_record_of_the_0rtt_trace() {
    // RFC 8448 §4: the client's early secrets derive from the early
    // secret over the ClientHello (binders included), and its 0-RTT
    // record ("ABCDEF") and then its EndOfEarlyData are sealed under
    // client_early_traffic_secret.
    let early = EarlySecret::new(&SUITE, Some(&r("psk"))).unwrap();
    let mut transcript = Transcript::new(&SUITE);
    transcript.add(&r("client_hello_with_binders"));
    let hello = transcript.current();
    assert_eq!(hello.as_bytes(), &r("client_hello_hash")[..]);
    let (traffic, exporter) = early.early_secrets(&SUITE, &hello).unwrap();
    assert_eq!(traffic.as_bytes(), &r("client_early_traffic_secret")[..]);
    assert_eq!(exporter.as_bytes(), &r("early_exporter_master_secret")[..]);

    let mut key = tlspair::record::protect::RecordKey::new(&SUITE, traffic.as_bytes()).unwrap();
    assert_eq!(&key.iv()[..], &r("early_iv")[..]);
    let data = r("early_data");
    let mut record = vec![0u8; 5];
    record.extend(&data);
    record.resize(5 + data.len() + 1 + 16, 0);
    key.seal(
        tlspair::wire::ContentType::APPLICATION_DATA,
        data.len(),
        &mut record,
    )
    .unwrap();
    assert_eq!(record, r("early_data_record"));
    // The EndOfEarlyData follows under the same key (sequence 1).
    let eoed = r("end_of_early_data");
    assert_eq!(eoed, [5, 0, 0, 0]);
    let mut record = vec![0u8; 5];
    record.extend(&eoed);
    record.resize(5 + eoed.len() + 1 + 16, 0);
    key.seal(
        tlspair::wire::ContentType::HANDSHAKE,
        eoed.len(),
        &mut record,
    )
    .unwrap();
    assert_eq!(record, r("end_of_early_data_record"));

    // Without a PSK there is no early data to key.
    let none = EarlySecret::new(&SUITE, None).unwrap();
    assert!(none.early_secrets(&SUITE, &hello).is_err());
}
