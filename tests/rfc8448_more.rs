//! Known answers from RFC 8448 §5 (HelloRetryRequest) and §6 (client
//! authentication): the transcript with message_hash, P-256 key exchange
//! with an injected key, CertificateRequest parsing, both CertificateVerify
//! signatures checked, and the client's Finished.

// ring's fixed-output RNG is the only way to inject a known private key.
#![allow(deprecated)]

mod common;

use common::tls::Lines;

use std::collections::HashMap;

use ring::test::rand::FixedSliceRandom;
use tlspair::handshake::kx::KeyExchange;
use tlspair::handshake::messages::{
    CertificateChain, CertificateRequest, CertificateVerify, ServerHello,
};
use tlspair::key_schedule::{EarlySecret, Secret, Transcript};
use tlspair::sign::{certificate_verify_message, Context, MAX_CERTIFICATE_VERIFY_MESSAGE_LEN};
use tlspair::verify::{verify_tls13_signature, CertificateDer, TLS13_VERIFY_SCHEMES};
use tlspair::wire::{NamedGroup, SignatureScheme};
use tlspair::TLS13_AES_128_GCM_SHA256 as SUITE;

/// `title | label | n = hex` lines of a section dump.
fn section(file: &str) -> HashMap<String, Vec<u8>> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.rsplit_once(" = ").unwrap();
            (k.to_owned(), common::unhex(v))
        })
        .collect()
}

fn get<'a>(s: &'a HashMap<String, Vec<u8>>, key: &str) -> &'a [u8] {
    s.get(key).unwrap_or_else(|| panic!("missing {key}"))
}

#[test]
fn hello_retry_request_transcript_and_p256() {
    let s = section("rfc8448_hello_retry.txt");
    let ch1 = get(
        &s,
        "client construct a ClientHello handshake message | ClientHello | 0",
    );
    let hrr = get(
        &s,
        "server construct a ServerHello handshake message | ServerHello | 0",
    );
    let ch2 = get(
        &s,
        "client construct a ClientHello handshake message | ClientHello | 1",
    );
    let sh = get(
        &s,
        "server construct a ServerHello handshake message | ServerHello | 1",
    );

    // Our parser sees a HelloRetryRequest asking for P-256, with a cookie.
    let parsed = ServerHello::parse(&hrr[4..]).unwrap();
    assert!(parsed.is_retry());
    assert_eq!(parsed.hrr_group, Some(NamedGroup::SECP256R1));
    assert!(parsed.cookie.is_some_and(|c| !c.is_empty()));

    // P-256 with the trace's client key agrees on the trace's secret.
    let private = get(
        &s,
        "client create an ephemeral P-256 key pair | private key | 0",
    );
    let kx =
        KeyExchange::start(NamedGroup::SECP256R1, &FixedSliceRandom { bytes: private }).unwrap();
    assert_eq!(
        kx.public(),
        get(
            &s,
            "client create an ephemeral P-256 key pair | public key | 0"
        )
    );
    let server_public = get(
        &s,
        "server create an ephemeral P-256 key pair | public key | 0",
    );
    let shared = kx.complete(server_public).unwrap();
    assert_eq!(
        shared.as_bytes(),
        get(&s, "server extract secret \"handshake\" | IKM | 0")
    );

    // message_hash(CH1) + HRR + CH2 + SH gives the published secrets.
    let mut transcript = Transcript::new(&SUITE);
    transcript.add(ch1);
    transcript.restart_with_message_hash(&SUITE);
    transcript.add(hrr);
    transcript.add(ch2);
    transcript.add(sh);
    let hs = EarlySecret::new(&SUITE, None)
        .unwrap()
        .into_handshake(&SUITE, shared.as_bytes())
        .unwrap();
    let (c_hs, s_hs) = hs.traffic_secrets(&SUITE, &transcript.current()).unwrap();
    assert_eq!(
        c_hs.as_bytes(),
        get(
            &s,
            "server derive secret \"tls13 c hs traffic\" | expanded | 0"
        )
    );
    assert_eq!(
        s_hs.as_bytes(),
        get(
            &s,
            "server derive secret \"tls13 s hs traffic\" | expanded | 0"
        )
    );
    for m in [
        "server construct a EncryptedExtensions handshake message | EncryptedExtensions | 0",
        "server construct a Certificate handshake message | Certificate | 0",
        "server construct a CertificateVerify handshake message | CertificateVerify | 0",
    ] {
        transcript.add(get(&s, m));
    }
    let fin = get(
        &s,
        "server construct a Finished handshake message | Finished | 0",
    );
    assert!(s_hs
        .verify_finished(&SUITE, &transcript.current(), &fin[4..])
        .unwrap());
    transcript.add(fin);
    let master = hs.into_master(&SUITE).unwrap();
    let (c_ap, s_ap, _) = master
        .application_secrets(&SUITE, &transcript.current())
        .unwrap();
    assert_eq!(
        c_ap.as_bytes(),
        get(
            &s,
            "server derive secret \"tls13 c ap traffic\" | expanded | 0"
        )
    );
    assert_eq!(
        s_ap.as_bytes(),
        get(
            &s,
            "server derive secret \"tls13 s ap traffic\" | expanded | 0"
        )
    );
}

#[test]
fn client_authentication_messages_and_signatures() {
    let s = section("rfc8448_client_auth.txt");
    let msg = |name: &str| get(&s, name).to_vec();
    let mut transcript = Transcript::new(&SUITE);
    transcript.add(&msg(
        "client construct a ClientHello handshake message | ClientHello | 0",
    ));
    transcript.add(&msg(
        "server construct a ServerHello handshake message | ServerHello | 0",
    ));
    transcript.add(&msg(
        "server construct a EncryptedExtensions handshake message | EncryptedExtensions | 0",
    ));

    // The CertificateRequest parses with its signature_algorithms.
    let cr =
        msg("server construct a CertificateRequest handshake message | CertificateRequest | 0");
    let req = CertificateRequest::parse(&cr[4..]).unwrap();
    assert!(req.context.is_empty());
    assert!(req
        .signature_algorithms
        .contains(SignatureScheme::RSA_PSS_RSAE_SHA256.0));
    transcript.add(&cr);

    // The server's CertificateVerify verifies with its certificate.
    let server_cert = msg("server construct a Certificate handshake message | Certificate | 0");
    let server_chain = CertificateChain::parse(&server_cert[4..]).unwrap();
    transcript.add(&server_cert);
    let scv = msg("server construct a CertificateVerify handshake message | CertificateVerify | 0");
    let parsed = CertificateVerify::parse(&scv[4..]).unwrap();
    let mut content = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let signed = certificate_verify_message(
        Context::Server,
        transcript.current().as_bytes(),
        &mut content,
    )
    .unwrap();
    let ee = CertificateDer::from(server_chain.certs()[0]);
    verify_tls13_signature(
        &ee,
        parsed.scheme,
        signed,
        parsed.signature,
        TLS13_VERIFY_SCHEMES,
    )
    .unwrap();
    // The same signature does not verify as a client's.
    let signed = certificate_verify_message(
        Context::Client,
        transcript.current().as_bytes(),
        &mut content,
    )
    .unwrap();
    assert!(verify_tls13_signature(
        &ee,
        parsed.scheme,
        signed,
        parsed.signature,
        TLS13_VERIFY_SCHEMES
    )
    .is_err());
    transcript.add(&scv);
    transcript.add(&msg(
        "server construct a Finished handshake message | Finished | 0",
    ));

    // The client's certificate and RSA-PSS CertificateVerify.
    let client_cert = msg("client construct a Certificate handshake message | Certificate | 0");
    let client_chain = CertificateChain::parse(&client_cert[4..]).unwrap();
    transcript.add(&client_cert);
    let ccv = msg("client construct a CertificateVerify handshake message | CertificateVerify | 0");
    let parsed = CertificateVerify::parse(&ccv[4..]).unwrap();
    assert_eq!(parsed.scheme, SignatureScheme::RSA_PSS_RSAE_SHA256);
    let signed = certificate_verify_message(
        Context::Client,
        transcript.current().as_bytes(),
        &mut content,
    )
    .unwrap();
    let ee = CertificateDer::from(client_chain.certs()[0]);
    // Named difference: the trace's client key is RSA-1024, below ring's
    // 2048-bit floor, so our verifier refuses the (valid) signature rather
    // than check it. The server's ECDSA one above is checked for real.
    assert_eq!(
        verify_tls13_signature(
            &ee,
            parsed.scheme,
            signed,
            parsed.signature,
            TLS13_VERIFY_SCHEMES
        ),
        Err(tlspair::verify::CertificateError::BadSignature)
    );
    transcript.add(&ccv);

    // And the client's Finished under the published c_hs.
    let c_hs = Secret::new(get(
        &s,
        "server derive secret \"tls13 c hs traffic\" | expanded | 0",
    ))
    .unwrap();
    let fin = msg("client construct a Finished handshake message | Finished | 0");
    assert_eq!(
        c_hs.finished_mac(&SUITE, &transcript.current())
            .unwrap()
            .as_bytes(),
        &fin[4..]
    );
}

/// §7 (compatibility mode), client role: a 32-byte session id, the
/// server's dummy change_cipher_spec tolerated between its ServerHello and
/// flight, and our own before our Finished, byte for byte. (The trace
/// server's RSA-1024 CertificateVerify is accepted unchecked, as in
/// rfc8448_client.rs.)
#[test]
fn compatibility_mode_client() {
    static ACCEPT: common::tls::AcceptAnyServer =
        common::tls::AcceptAnyServer(&[SignatureScheme::RSA_PSS_RSAE_SHA256]);
    let s = section("rfc8448_compat.txt");
    let rng: &'static _ = Box::leak(Box::new(ring::rand::SystemRandom::new()));
    let log: &'static Lines = Box::leak(Box::default());
    let mut config = tlspair::handshake::ClientConfig::new(&ACCEPT, rng);
    config.key_log = Some(log);
    let config: &'static _ = Box::leak(Box::new(config));
    let private = get(
        &s,
        "client create an ephemeral x25519 key pair | private key | 0",
    );
    let kx = KeyExchange::start(NamedGroup::X25519, &FixedSliceRandom { bytes: private }).unwrap();
    let hello = get(
        &s,
        "client construct a ClientHello handshake message | ClientHello | 0",
    );
    assert_eq!(hello[4 + 2 + 32], 32, "a 32-byte legacy session id");
    let mut client = tlspair::Connection::client_after_hello(
        config,
        Some("server"),
        common::tls::now(),
        hello,
        kx,
    )
    .unwrap();
    let mut bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);
    bufs.recv.fill(get(
        &s,
        "server send handshake record | complete record | 0",
    ));
    bufs.recv.fill(get(
        &s,
        "server send change_cipher_spec record | complete record | 0",
    ));
    bufs.recv.fill(get(
        &s,
        "server send handshake record | complete record | 1",
    ));
    assert_eq!(
        client.handshake(&mut bufs).unwrap(),
        tlspair::Status::Done(())
    );
    let mut want = get(
        &s,
        "client send change_cipher_spec record | complete record | 0",
    )
    .to_vec();
    want.extend(get(
        &s,
        "client send handshake record | complete record | 1",
    ));
    assert_eq!(bufs.send.pending(), &want[..]);
    let c_hs = get(
        &s,
        "server derive secret \"tls13 c hs traffic\" | expanded | 0",
    );
    assert!(log.0.lock().unwrap()[0].ends_with(&format!(
        "{}\n",
        c_hs.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )));
}

/// §7, server role: our ServerHello echoes the session id, and the dummy
/// change_cipher_spec follows it, both byte for byte; the flight opens
/// under the trace's server handshake secret.
#[test]
fn compatibility_mode_server() {
    use core::cell::UnsafeCell;
    use ring::test::rand::FixedSliceSequenceRandom;
    let s = section("rfc8448_compat.txt");
    let sh = get(
        &s,
        "server construct a ServerHello handshake message | ServerHello | 0",
    );
    let random: &'static [u8] = sh[6..38].to_vec().leak();
    let private: &'static [u8] = get(
        &s,
        "server create an ephemeral x25519 key pair | private key | 0",
    )
    .to_vec()
    .leak();
    let nonce: &'static [u8] = &[0x5a; 32];
    let rng: &'static _ = Box::leak(Box::new(FixedSliceSequenceRandom {
        bytes: Box::leak(Box::new([random, private, nonce])),
        current: UnsafeCell::new(0),
    }));
    let mut config = common::tls::server_config(&[common::tls::certified(
        &tlspair::test_credentials::SERVER_ECDSA_P256,
    )]);
    config.rng = common::tls::single_threaded_rng(rng);
    let config: &'static _ = Box::leak(Box::new(config));
    let mut server = tlspair::Connection::server(config, common::tls::now()).unwrap();
    let mut bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);
    bufs.recv.fill(get(
        &s,
        "client send handshake record | complete record | 0",
    ));
    assert_eq!(
        server.handshake(&mut bufs).unwrap(),
        tlspair::Status::WantRead
    );
    let mut want = get(&s, "server send handshake record | complete record | 0").to_vec();
    want.extend(get(
        &s,
        "server send change_cipher_spec record | complete record | 0",
    ));
    let out = bufs.send.pending();
    assert_eq!(&out[..want.len()], &want[..]);
    let s_hs = get(
        &s,
        "server derive secret \"tls13 s hs traffic\" | expanded | 0",
    );
    let mut key = tlspair::record::protect::RecordKey::new(&SUITE, s_hs).unwrap();
    let mut rest = out[want.len()..].to_vec();
    let h = tlspair::record::Header::parse(&rest).unwrap();
    let (ty, _) = key.open(&mut rest[..5 + h.len]).unwrap();
    assert_eq!(ty, tlspair::ContentType::HANDSHAKE);
}
