//! Known answers from RFC 8448 §5 (HelloRetryRequest) and §6 (client
//! authentication): the transcript with message_hash, P-256 key exchange
//! with an injected key, CertificateRequest parsing, both CertificateVerify
//! signatures checked, and the client's Finished.

// ring's fixed-output RNG is the only way to inject a known private key.
#![allow(deprecated)]

mod common;

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
    let hs = EarlySecret::new(&SUITE, None).into_handshake(&SUITE, shared.as_bytes());
    let (c_hs, s_hs) = hs.traffic_secrets(&SUITE, &transcript.current());
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
    assert!(s_hs.verify_finished(&SUITE, &transcript.current(), &fin[4..]));
    transcript.add(fin);
    let master = hs.into_master(&SUITE);
    let (c_ap, s_ap, _) = master.application_secrets(&SUITE, &transcript.current());
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
        c_hs.finished_mac(&SUITE, &transcript.current()).as_bytes(),
        &fin[4..]
    );
}
