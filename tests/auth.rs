//! The authentication layer: signing with every key type, verifying chains
//! and CertificateVerify signatures with the built-in test credentials
//! (testdata/certs, made by scripts/make-test-certs.sh), each refusal with
//! its error and its RFC 8446 §6.2 alert, SPKI pinning, and client
//! certificates.
//!
//! Times are fixed: the good certificates are valid from 2026-11-25 for 20
//! years, so they are checked at 2027-01-01 ([`NOW`]).

use core::time::Duration;

use ring::rand::SystemRandom;
use tlspair::sign::{
    certificate_verify_message, Context, KeyKind, SigningKey, MAX_CERTIFICATE_VERIFY_MESSAGE_LEN,
    MAX_SIGNATURE_LEN,
};
use tlspair::test_credentials::{self as creds, Credential};
use tlspair::verify::{
    spki_sha256, trust_anchor_from_der, CertificateDer, CertificateError, ClientCertVerifier,
    ServerCertVerifier, ServerName, SpkiPinVerifier, TrustAnchor, UnixTime, WebPkiClientVerifier,
    WebPkiServerVerifier, MAX_CHAIN_LEN, MAX_PINS, TLS13_VERIFY_SCHEMES, WEBPKI_SCHEMES,
};
use tlspair::wire::{AlertDescription, SignatureScheme};
use tlspair::{Error, Misuse};

/// 2027-01-01T00:00:00Z: inside every good certificate's validity.
const NOW: UnixTime = UnixTime::since_unix_epoch(Duration::from_secs(1_798_761_600));
/// 2026-01-01T00:00:00Z: before the good certificates' notBefore.
const BEFORE_ISSUE: UnixTime = UnixTime::since_unix_epoch(Duration::from_secs(1_767_225_600));
/// 2020-06-01T00:00:00Z: inside the expired certificate's validity.
const IN_2020: UnixTime = UnixTime::since_unix_epoch(Duration::from_secs(1_590_969_600));

static CA: CertificateDer<'static> = CertificateDer::from_slice(creds::CA_CERT);
static UNTRUSTED_CA: CertificateDer<'static> = CertificateDer::from_slice(creds::UNTRUSTED_CA_CERT);

fn anchors() -> [TrustAnchor<'static>; 1] {
    [trust_anchor_from_der(&CA).expect("the test CA parses")]
}

fn der(cred: &Credential) -> CertificateDer<'static> {
    CertificateDer::from_slice(cred.cert)
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("a DNS name")
}

fn key(cred: &Credential) -> SigningKey {
    SigningKey::from_pkcs8(cred.key, &SystemRandom::new()).expect("test key parses")
}

/// The four server credentials and what their keys must be detected as.
fn servers() -> Vec<(&'static str, &'static Credential, KeyKind)> {
    vec![
        ("p256", &creds::SERVER_ECDSA_P256, KeyKind::EcdsaP256),
        ("p384", &creds::SERVER_ECDSA_P384, KeyKind::EcdsaP384),
        ("ed25519", &creds::SERVER_ED25519, KeyKind::Ed25519),
        #[cfg(feature = "alloc")]
        ("rsa2048", &creds::SERVER_RSA_2048, KeyKind::Rsa),
    ]
}

/// The content a server CertificateVerify would sign over a made-up hash.
fn server_message(hash_byte: u8) -> Vec<u8> {
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    certificate_verify_message(Context::Server, &[hash_byte; 32], &mut buf)
        .expect("32-byte hash")
        .to_vec()
}

fn sign(key: &SigningKey, scheme: SignatureScheme, message: &[u8]) -> Vec<u8> {
    let mut out = [0u8; MAX_SIGNATURE_LEN];
    let n = key
        .sign(scheme, message, &SystemRandom::new(), &mut out)
        .expect("sign");
    assert!(n <= key.max_signature_len(), "{scheme}: {n} bytes");
    out[..n].to_vec()
}

fn refused_with(
    result: Result<(), CertificateError>,
    error: CertificateError,
    alert: AlertDescription,
) {
    assert_eq!(result, Err(error));
    assert_eq!(error.alert(), alert, "{error:?}");
    // The engine's error carries the same alert.
    assert_eq!(Error::from(error).alert(), Some(alert));
}

// ---- signing -----------------------------------------------------------

#[test]
fn key_types_are_detected_with_their_tls13_schemes() {
    use SignatureScheme as S;
    for (name, cred, kind) in servers() {
        let key = key(cred);
        assert_eq!(key.kind(), kind, "{name}");
        let expected: &[SignatureScheme] = match kind {
            KeyKind::EcdsaP256 => &[S::ECDSA_SECP256R1_SHA256],
            KeyKind::EcdsaP384 => &[S::ECDSA_SECP384R1_SHA384],
            KeyKind::Ed25519 => &[S::ED25519],
            // PSS, then PKCS#1 v1.5 for TLS 1.2's ServerKeyExchange.
            _ => &[
                S::RSA_PSS_RSAE_SHA256,
                S::RSA_PSS_RSAE_SHA384,
                S::RSA_PSS_RSAE_SHA512,
                S::RSA_PKCS1_SHA256,
                S::RSA_PKCS1_SHA384,
                S::RSA_PKCS1_SHA512,
            ],
        };
        assert_eq!(key.schemes(), expected, "{name}");
        assert!(
            format!("{key:?}").starts_with("SigningKey("),
            "no key material"
        );
    }
    assert_eq!(key(&creds::CLIENT_ECDSA_P256).kind(), KeyKind::EcdsaP256);
}

#[test]
fn signature_lengths_fit_their_bounds() {
    for (name, cred, kind) in servers() {
        let key = key(cred);
        let bound = match kind {
            KeyKind::EcdsaP256 => 72,
            KeyKind::EcdsaP384 => 104,
            KeyKind::Ed25519 => 64,
            _ => 256, // RSA-2048
        };
        assert_eq!(key.max_signature_len(), bound, "{name}");
        assert!(bound <= MAX_SIGNATURE_LEN);
    }
}

#[test]
fn not_a_key_is_refused() {
    let rng = SystemRandom::new();
    for bad in [&b""[..], b"not a key", creds::CA_CERT] {
        assert!(matches!(
            SigningKey::from_pkcs8(bad, &rng),
            Err(Error::Misuse(Misuse::BadConfig(_)))
        ));
    }
}

#[test]
fn sign_then_verify_round_trips_for_every_key_and_scheme() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    let mut checked = 0;
    for (name, cred, _) in servers() {
        let key = key(cred);
        let cert = der(cred);
        // TLS 1.3's schemes (PKCS#1 v1.5 has its own test).
        for &scheme in key
            .schemes()
            .iter()
            .filter(|s| tlspair::verify::tls13_allows_in_certificate_verify(**s))
        {
            let message = server_message(0x42);
            let sig = sign(&key, scheme, &message);
            assert_eq!(
                verifier.verify_signature(&cert, scheme, &message, &sig),
                Ok(()),
                "{name} {scheme}"
            );
            // The signature covers the message: another hash fails.
            refused_with(
                verifier.verify_signature(&cert, scheme, &server_message(0x43), &sig),
                CertificateError::BadSignature,
                AlertDescription::DECRYPT_ERROR,
            );
            checked += 1;
        }
    }
    #[cfg(feature = "alloc")]
    assert_eq!(checked, 6, "P-256, P-384, Ed25519 and three RSA-PSS hashes");
    #[cfg(not(feature = "alloc"))]
    assert_eq!(checked, 3);
}

#[test]
fn ed25519_signatures_are_deterministic_and_ecdsa_ones_randomized() {
    let message = server_message(7);
    let ed = key(&creds::SERVER_ED25519);
    assert_eq!(
        sign(&ed, SignatureScheme::ED25519, &message),
        sign(&ed, SignatureScheme::ED25519, &message)
    );
    let ec = key(&creds::SERVER_ECDSA_P256);
    let scheme = SignatureScheme::ECDSA_SECP256R1_SHA256;
    assert_ne!(sign(&ec, scheme, &message), sign(&ec, scheme, &message));
}

#[test]
fn client_signature_does_not_pass_as_server_signature() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    let key = key(&creds::SERVER_ECDSA_P256);
    let scheme = SignatureScheme::ECDSA_SECP256R1_SHA256;
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let client_msg = certificate_verify_message(Context::Client, &[1; 32], &mut buf)
        .unwrap()
        .to_vec();
    let sig = sign(&key, scheme, &client_msg);
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let server_msg = certificate_verify_message(Context::Server, &[1; 32], &mut buf).unwrap();
    assert_eq!(
        verifier.verify_signature(&der(&creds::SERVER_ECDSA_P256), scheme, server_msg, &sig),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn scheme_for_follows_the_peer_and_never_picks_pkcs1() {
    use SignatureScheme as S;
    let p256 = key(&creds::SERVER_ECDSA_P256);
    let p384 = key(&creds::SERVER_ECDSA_P384);
    let ed = key(&creds::SERVER_ED25519);
    let offered = [
        S::ED25519,
        S::ECDSA_SECP384R1_SHA384,
        S::ECDSA_SECP256R1_SHA256,
    ];
    assert_eq!(p256.scheme_for(offered), Some(S::ECDSA_SECP256R1_SHA256));
    assert_eq!(p384.scheme_for(offered), Some(S::ECDSA_SECP384R1_SHA384));
    assert_eq!(ed.scheme_for(offered), Some(S::ED25519));
    // TLS 1.3 binds the curve: a P-256 key cannot use the P-384 scheme.
    assert_eq!(p256.scheme_for([S::ECDSA_SECP384R1_SHA384]), None);
    assert_eq!(p384.scheme_for([S::ECDSA_SECP256R1_SHA256]), None);
    assert_eq!(p256.scheme_for([S::ECDSA_SHA1, S(0xfefe)]), None);
    assert_eq!(ed.scheme_for([]), None);
    // And signing with a scheme the key cannot make is a misuse.
    let mut out = [0u8; MAX_SIGNATURE_LEN];
    assert!(matches!(
        p256.sign(
            S::ECDSA_SECP384R1_SHA384,
            b"m",
            &SystemRandom::new(),
            &mut out
        ),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
}

#[cfg(feature = "alloc")]
#[test]
fn rsa_scheme_for_is_pss_only() {
    use SignatureScheme as S;
    let rsa = key(&creds::SERVER_RSA_2048);
    let pkcs1 = [
        S::RSA_PKCS1_SHA256,
        S::RSA_PKCS1_SHA384,
        S::RSA_PKCS1_SHA512,
    ];
    assert_eq!(rsa.scheme_for(pkcs1), None);
    assert_eq!(rsa.scheme_for([S::RSA_PKCS1_SHA1]), None);
    // RSASSA-PSS with PSS keys ("pss_pss") is another key type.
    assert_eq!(rsa.scheme_for([S::RSA_PSS_PSS_SHA256]), None);
    // The peer's order wins among the PSS schemes.
    assert_eq!(
        rsa.scheme_for([
            S::RSA_PKCS1_SHA256,
            S::RSA_PSS_RSAE_SHA384,
            S::RSA_PSS_RSAE_SHA256
        ]),
        Some(S::RSA_PSS_RSAE_SHA384)
    );
    // TLS 1.2's choice takes PKCS#1 v1.5 (never with SHA-1), and the key
    // signs with it; a TLS 1.3 verification still refuses it.
    assert_eq!(
        tlspair::sign::scheme_for_tls12(&rsa, pkcs1),
        Some(S::RSA_PKCS1_SHA256)
    );
    assert_eq!(
        tlspair::sign::scheme_for_tls12(&rsa, [S::RSA_PKCS1_SHA1]),
        None
    );
    let message = server_message(0x17);
    let sig = sign(&rsa, S::RSA_PKCS1_SHA256, &message);
    let cert = der(&creds::SERVER_RSA_2048);
    let accepted = tlspair::verify::WEBPKI_SCHEMES;
    assert_eq!(
        tlspair::verify::verify_tls12_signature(
            &cert,
            S::RSA_PKCS1_SHA256,
            &message,
            &sig,
            accepted
        ),
        Ok(())
    );
    assert!(tlspair::verify::verify_tls13_signature(
        &cert,
        S::RSA_PKCS1_SHA256,
        &message,
        &sig,
        accepted
    )
    .is_err());
}

#[test]
fn sign_refuses_a_short_buffer_and_writes_nothing() {
    let key = key(&creds::SERVER_ECDSA_P384);
    let mut out = [0xaau8; 103];
    assert!(matches!(
        key.sign(
            SignatureScheme::ECDSA_SECP384R1_SHA384,
            b"m",
            &SystemRandom::new(),
            &mut out
        ),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    assert!(out.iter().all(|&b| b == 0xaa));
    // Exactly max_signature_len is enough.
    let mut out = [0u8; 104];
    assert!(key
        .sign(
            SignatureScheme::ECDSA_SECP384R1_SHA384,
            b"m",
            &SystemRandom::new(),
            &mut out
        )
        .is_ok());
}

#[test]
fn certificate_verify_message_is_rfc8446_example() {
    // RFC 8446 §4.4.3: a server signature over a transcript hash of 32
    // bytes of 01, as printed there.
    let expected = concat!(
        "2020202020202020202020202020202020202020202020202020202020202020",
        "2020202020202020202020202020202020202020202020202020202020202020",
        "544c5320312e332c207365727665722043657274696669636174655665726966",
        "79",
        "00",
        "0101010101010101010101010101010101010101010101010101010101010101",
    );
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let msg = certificate_verify_message(Context::Server, &[1; 32], &mut buf).unwrap();
    assert_eq!(hex(msg), expected);

    // The client's differs only in "client"; SHA-384 fills the buffer.
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let msg = certificate_verify_message(Context::Client, &[2; 48], &mut buf).unwrap();
    assert_eq!(msg.len(), MAX_CERTIFICATE_VERIFY_MESSAGE_LEN);
    assert_eq!(&msg[64..97], b"TLS 1.3, client CertificateVerify");
    assert_eq!(msg[97], 0);
    assert_eq!(&msg[98..], &[2; 48]);

    // Longer than any TLS 1.3 hash: refused, not truncated.
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    assert!(matches!(
        certificate_verify_message(Context::Server, &[0; 49], &mut buf),
        Err(Error::Internal(_))
    ));
}

// ---- chains ------------------------------------------------------------

#[test]
fn every_server_certificate_verifies_for_localhost() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    let ip = ServerName::try_from("127.0.0.1").unwrap();
    for (name, cred) in [
        ("p256", &creds::SERVER_ECDSA_P256),
        ("p384", &creds::SERVER_ECDSA_P384),
        ("ed25519", &creds::SERVER_ED25519),
        // An RSA end-entity under the ECDSA CA validates even without
        // `alloc`: only its CertificateVerify needs RSA.
        ("rsa2048", &creds::SERVER_RSA_2048),
    ] {
        let chain = [der(cred)];
        assert_eq!(
            verifier.verify_server_cert(&chain, &localhost(), NOW),
            Ok(()),
            "{name}"
        );
        assert_eq!(
            verifier.verify_server_cert(&chain, &ip, NOW),
            Ok(()),
            "{name} by IP"
        );
        // A server that also sends the root is fine.
        let with_root = [der(cred), CA.clone()];
        assert_eq!(
            verifier.verify_server_cert(&with_root, &localhost(), NOW),
            Ok(()),
            "{name} + root"
        );
    }
}

#[test]
fn wrong_name_is_refused() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    refused_with(
        verifier.verify_server_cert(&[der(&creds::WRONG_NAME_ECDSA_P256)], &localhost(), NOW),
        CertificateError::NotValidForName,
        AlertDescription::BAD_CERTIFICATE,
    );
    let other_names = ["example.com", "localhost.example", "127.0.0.2", "::1"];
    for name in other_names {
        let name = ServerName::try_from(name).unwrap();
        refused_with(
            verifier.verify_server_cert(&[der(&creds::SERVER_ECDSA_P256)], &name, NOW),
            CertificateError::NotValidForName,
            AlertDescription::BAD_CERTIFICATE,
        );
    }
    // It is the name, not the certificate: example.com passes for itself.
    let example = ServerName::try_from("example.com").unwrap();
    assert_eq!(
        verifier.verify_server_cert(&[der(&creds::WRONG_NAME_ECDSA_P256)], &example, NOW),
        Ok(())
    );
}

#[test]
fn expired_and_not_yet_valid_are_refused() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    refused_with(
        verifier.verify_server_cert(&[der(&creds::EXPIRED_ECDSA_P256)], &localhost(), NOW),
        CertificateError::Expired,
        AlertDescription::CERTIFICATE_EXPIRED,
    );
    refused_with(
        verifier.verify_server_cert(
            &[der(&creds::SERVER_ECDSA_P256)],
            &localhost(),
            BEFORE_ISSUE,
        ),
        CertificateError::NotYetValid,
        AlertDescription::CERTIFICATE_EXPIRED,
    );
    // Only the dates were wrong: in 2020 the expired one passes (a trust
    // anchor has no dates, so the root's 2026 notBefore does not count).
    assert_eq!(
        verifier.verify_server_cert(&[der(&creds::EXPIRED_ECDSA_P256)], &localhost(), IN_2020),
        Ok(())
    );
}

#[test]
fn untrusted_and_impostor_issuers_are_refused() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    // Issued by a CA we do not trust.
    refused_with(
        verifier.verify_server_cert(&[der(&creds::UNTRUSTED_ECDSA_P256)], &localhost(), NOW),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    // Sending the untrusted root along does not help.
    let chain = [der(&creds::UNTRUSTED_ECDSA_P256), UNTRUSTED_CA.clone()];
    refused_with(
        verifier.verify_server_cert(&chain, &localhost(), NOW),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    // Issued in the trusted CA's exact name, by another key.
    refused_with(
        verifier.verify_server_cert(&[der(&creds::IMPOSTOR_ECDSA_P256)], &localhost(), NOW),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    // And the other way: trusting only the untrusted CA refuses our certs.
    let other = [trust_anchor_from_der(&UNTRUSTED_CA).unwrap()];
    refused_with(
        WebPkiServerVerifier::new(&other).verify_server_cert(
            &[der(&creds::SERVER_ECDSA_P256)],
            &localhost(),
            NOW,
        ),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    // With no anchors at all, nothing passes.
    refused_with(
        WebPkiServerVerifier::new(&[]).verify_server_cert(
            &[der(&creds::SERVER_ECDSA_P256)],
            &localhost(),
            NOW,
        ),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
}

#[test]
fn tampered_certificate_is_refused() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    let good = creds::SERVER_ECDSA_P256.cert;
    // The last byte lies in the CA's signature: still DER, no longer signed.
    let mut bad = good.to_vec();
    *bad.last_mut().unwrap() ^= 1;
    refused_with(
        verifier.verify_server_cert(&[CertificateDer::from(&bad[..])], &localhost(), NOW),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    // A changed name inside the signed part: the same.
    let mut bad = good.to_vec();
    let at = find(&bad, b"localhost").expect("CN=localhost");
    bad[at + 8] = b'x';
    refused_with(
        verifier.verify_server_cert(&[CertificateDer::from(&bad[..])], &localhost(), NOW),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    // Bytes that are not a certificate at all.
    for junk in [&b""[..], b"\x30\x03\x02\x01\x00", &good[..good.len() - 1]] {
        refused_with(
            verifier.verify_server_cert(&[CertificateDer::from(junk)], &localhost(), NOW),
            CertificateError::BadEncoding,
            AlertDescription::BAD_CERTIFICATE,
        );
    }
}

#[test]
fn tampered_certificate_verify_is_refused() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    for (name, cred, _) in servers() {
        let key = key(cred);
        let scheme = key.schemes()[0];
        let message = server_message(9);
        let good = sign(&key, scheme, &message);
        // Flip one bit in the middle, or cut the signature short.
        let mut flipped = good.clone();
        flipped[good.len() / 2] ^= 0x10;
        for bad in [flipped, good[..good.len() - 1].to_vec(), Vec::new()] {
            refused_with(
                verifier.verify_signature(&der(cred), scheme, &message, &bad),
                CertificateError::BadSignature,
                AlertDescription::DECRYPT_ERROR,
            );
        }
        let _ = name;
    }
}

#[test]
fn schemes_tls13_forbids_in_certificate_verify_are_illegal_parameter() {
    use SignatureScheme as S;
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    let cert = der(&creds::SERVER_RSA_2048);
    let message = server_message(3);
    // A genuine RSASSA-PKCS1-v1_5 signature by the certificate's key: the
    // signature is right, the scheme is not allowed (RFC 8446 §4.4.3).
    #[cfg(feature = "alloc")]
    {
        let pair = ring::signature::RsaKeyPair::from_pkcs8(creds::SERVER_RSA_2048.key).unwrap();
        let mut sig = vec![0u8; pair.public().modulus_len()];
        pair.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &message,
            &mut sig,
        )
        .unwrap();
        // ...even though we advertise it, for signatures in certificates.
        assert!(verifier.supported_schemes().contains(&S::RSA_PKCS1_SHA256));
        refused_with(
            verifier.verify_signature(&cert, S::RSA_PKCS1_SHA256, &message, &sig),
            CertificateError::UnsupportedSignatureScheme,
            AlertDescription::ILLEGAL_PARAMETER,
        );
    }
    for scheme in [
        S::RSA_PKCS1_SHA256,
        S::RSA_PKCS1_SHA384,
        S::RSA_PKCS1_SHA512,
        S::RSA_PKCS1_SHA1,
        S::ECDSA_SHA1,
        S::RSA_PSS_PSS_SHA256,
        S::ED448,
        S::ECDSA_SECP521R1_SHA512,
        S(0x1234),
    ] {
        refused_with(
            verifier.verify_signature(&cert, scheme, &message, &[0; 256]),
            CertificateError::UnsupportedSignatureScheme,
            AlertDescription::ILLEGAL_PARAMETER,
        );
    }
}

#[test]
fn scheme_that_does_not_fit_the_key_is_illegal_parameter() {
    use SignatureScheme as S;
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    let message = server_message(4);
    // A P-256 signature presented as P-384 over a P-256 certificate, and a
    // P-384 certificate with a P-256 scheme: TLS 1.3 binds the curve.
    let p256_sig = sign(
        &key(&creds::SERVER_ECDSA_P256),
        S::ECDSA_SECP256R1_SHA256,
        &message,
    );
    for (cert, scheme) in [
        (&creds::SERVER_ECDSA_P256, S::ECDSA_SECP384R1_SHA384),
        (&creds::SERVER_ECDSA_P384, S::ECDSA_SECP256R1_SHA256),
        (&creds::SERVER_ED25519, S::ECDSA_SECP256R1_SHA256),
        (&creds::SERVER_ECDSA_P256, S::ED25519),
    ] {
        refused_with(
            verifier.verify_signature(&der(cert), scheme, &message, &p256_sig),
            CertificateError::UnsupportedSignatureScheme,
            AlertDescription::ILLEGAL_PARAMETER,
        );
    }
}

#[test]
fn chains_longer_than_max_chain_len_are_refused() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    // Exactly MAX_CHAIN_LEN: the end-entity and the root sent seven times.
    let mut chain = vec![der(&creds::SERVER_ECDSA_P256)];
    chain.extend(vec![CA.clone(); MAX_CHAIN_LEN - 1]);
    assert_eq!(
        verifier.verify_server_cert(&chain, &localhost(), NOW),
        Ok(())
    );
    // One more is refused before any parsing...
    chain.push(CA.clone());
    refused_with(
        verifier.verify_server_cert(&chain, &localhost(), NOW),
        CertificateError::ChainTooLong,
        AlertDescription::BAD_CERTIFICATE,
    );
    // ...even when the extra certificates are junk.
    let junk = vec![CertificateDer::from(&b"junk"[..]); MAX_CHAIN_LEN + 1];
    refused_with(
        verifier.verify_server_cert(&junk, &localhost(), NOW),
        CertificateError::ChainTooLong,
        AlertDescription::BAD_CERTIFICATE,
    );
    // And an empty chain is no chain.
    refused_with(
        verifier.verify_server_cert(&[], &localhost(), NOW),
        CertificateError::BadEncoding,
        AlertDescription::BAD_CERTIFICATE,
    );
}

#[test]
fn a_ca_certificate_is_not_a_server_certificate() {
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    refused_with(
        verifier.verify_server_cert(std::slice::from_ref(&CA), &localhost(), NOW),
        CertificateError::InvalidPurpose,
        AlertDescription::UNSUPPORTED_CERTIFICATE,
    );
}

// ---- pinning -----------------------------------------------------------

fn pin_of(name: &str) -> [u8; 32] {
    let path = format!(
        "{}/testdata/certs/{name}.spki-sha256.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let bytes: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

#[test]
fn spki_sha256_matches_openssl_for_every_certificate() {
    // OpenSSL computed these pins (scripts/make-test-certs.sh); the SPKIs
    // cover DER lengths in short form (EC, Ed25519) and long form (RSA).
    for (name, cred) in [
        ("server-p256", &creds::SERVER_ECDSA_P256),
        ("server-p384", &creds::SERVER_ECDSA_P384),
        ("server-ed25519", &creds::SERVER_ED25519),
        ("server-rsa2048", &creds::SERVER_RSA_2048),
        ("client-p256", &creds::CLIENT_ECDSA_P256),
        ("client-p384", &creds::CLIENT_ECDSA_P384),
        ("client-ed25519", &creds::CLIENT_ED25519),
        ("client-rsa2048", &creds::CLIENT_RSA_2048),
        ("expired-p256", &creds::EXPIRED_ECDSA_P256),
        ("wrong-name-p256", &creds::WRONG_NAME_ECDSA_P256),
        ("untrusted-p256", &creds::UNTRUSTED_ECDSA_P256),
        ("impostor-p256", &creds::IMPOSTOR_ECDSA_P256),
    ] {
        assert_eq!(spki_sha256(&der(cred)), Ok(pin_of(name)), "{name}");
    }
    assert_eq!(
        spki_sha256(&CertificateDer::from(&b"junk"[..])),
        Err(CertificateError::BadEncoding)
    );
}

#[cfg(feature = "alloc")]
#[test]
fn spki_sha256_hashes_what_webpki_calls_the_spki() {
    // With `alloc`, webpki hands out the whole SubjectPublicKeyInfo; the
    // no-allocation path must hash exactly those bytes.
    for (_, cred, _) in servers() {
        let cert = der(cred);
        let ee = webpki::EndEntityCert::try_from(&cert).unwrap();
        let spki = ee.subject_public_key_info();
        let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
        assert_eq!(spki_sha256(&cert).unwrap().as_slice(), digest.as_ref());
    }
}

#[test]
fn pinned_key_is_accepted_whatever_its_names_dates_and_issuer() {
    let pins = [
        pin_of("server-p256"),
        pin_of("expired-p256"),
        pin_of("untrusted-p256"),
    ];
    let verifier = SpkiPinVerifier::new(&pins).unwrap();
    assert_eq!(verifier.pins(), &pins);
    let elsewhere = ServerName::try_from("example.org").unwrap();
    let long_ago = UnixTime::since_unix_epoch(Duration::ZERO);
    for cred in [
        &creds::SERVER_ECDSA_P256,
        &creds::EXPIRED_ECDSA_P256,
        &creds::UNTRUSTED_ECDSA_P256,
    ] {
        for (name, time) in [(&localhost(), NOW), (&elsewhere, long_ago)] {
            assert_eq!(
                verifier.verify_server_cert(&[der(cred)], name, time),
                Ok(())
            );
        }
        // Intermediates are ignored, junk included.
        let chain = [der(cred), CertificateDer::from(&b"junk"[..])];
        assert_eq!(
            verifier.verify_server_cert(&chain, &localhost(), NOW),
            Ok(())
        );
    }
}

#[test]
fn unpinned_key_is_refused_whoever_signed_it() {
    let verifier = SpkiPinVerifier::new(&[pin_of("server-p256")]).unwrap();
    for cred in [
        &creds::SERVER_ECDSA_P384,
        &creds::SERVER_ED25519,
        &creds::SERVER_RSA_2048,
        &creds::CLIENT_ECDSA_P256,
        &creds::WRONG_NAME_ECDSA_P256,
    ] {
        refused_with(
            verifier.verify_server_cert(&[der(cred)], &localhost(), NOW),
            CertificateError::PinMismatch,
            AlertDescription::BAD_CERTIFICATE,
        );
    }
    // The pinned certificate placed second does not count.
    let chain = [
        der(&creds::SERVER_ECDSA_P384),
        der(&creds::SERVER_ECDSA_P256),
    ];
    refused_with(
        verifier.verify_server_cert(&chain, &localhost(), NOW),
        CertificateError::PinMismatch,
        AlertDescription::BAD_CERTIFICATE,
    );
    refused_with(
        verifier.verify_server_cert(&[], &localhost(), NOW),
        CertificateError::BadEncoding,
        AlertDescription::BAD_CERTIFICATE,
    );
    let long = vec![der(&creds::SERVER_ECDSA_P256); MAX_CHAIN_LEN + 1];
    refused_with(
        verifier.verify_server_cert(&long, &localhost(), NOW),
        CertificateError::ChainTooLong,
        AlertDescription::BAD_CERTIFICATE,
    );
}

#[test]
fn pin_verifier_still_checks_certificate_verify() {
    let verifier = SpkiPinVerifier::new(&[pin_of("server-ed25519")]).unwrap();
    let cert = der(&creds::SERVER_ED25519);
    let message = server_message(5);
    let sig = sign(
        &key(&creds::SERVER_ED25519),
        SignatureScheme::ED25519,
        &message,
    );
    for check in [
        ServerCertVerifier::verify_signature,
        ClientCertVerifier::verify_signature,
    ] {
        assert_eq!(
            check(&verifier, &cert, SignatureScheme::ED25519, &message, &sig),
            Ok(())
        );
    }
    // A signature over another message fails.
    let other = sign(
        &key(&creds::SERVER_ED25519),
        SignatureScheme::ED25519,
        &server_message(6),
    );
    refused_with(
        ServerCertVerifier::verify_signature(
            &verifier,
            &cert,
            SignatureScheme::ED25519,
            &message,
            &other,
        ),
        CertificateError::BadSignature,
        AlertDescription::DECRYPT_ERROR,
    );
    // No certificate signatures are checked, so no PKCS#1 is advertised.
    assert_eq!(
        ServerCertVerifier::supported_schemes(&verifier),
        TLS13_VERIFY_SCHEMES
    );
    assert!(!TLS13_VERIFY_SCHEMES.contains(&SignatureScheme::RSA_PKCS1_SHA256));
}

#[test]
fn pin_sets_must_be_one_to_max_pins() {
    assert!(matches!(
        SpkiPinVerifier::new(&[]),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    assert!(SpkiPinVerifier::new(&[[0; 32]; MAX_PINS]).is_ok());
    assert!(matches!(
        SpkiPinVerifier::new(&[[0; 32]; MAX_PINS + 1]),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
}

// ---- client certificates ----------------------------------------------

#[test]
fn client_certificate_verifies_with_client_auth_eku() {
    let anchors = anchors();
    let verifier = WebPkiClientVerifier::new(&anchors);
    assert!(verifier.client_auth_mandatory());
    assert!(!verifier.allow_anonymous().client_auth_mandatory());
    let cert = der(&creds::CLIENT_ECDSA_P256);
    assert_eq!(
        verifier.verify_client_cert(std::slice::from_ref(&cert), NOW),
        Ok(())
    );

    // Its CertificateVerify, signed in the client context.
    let key = key(&creds::CLIENT_ECDSA_P256);
    let scheme = key
        .scheme_for(verifier.supported_schemes().iter().copied())
        .unwrap();
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let message = certificate_verify_message(Context::Client, &[8; 48], &mut buf).unwrap();
    let sig = sign(&key, scheme, message);
    assert_eq!(
        verifier.verify_signature(&cert, scheme, message, &sig),
        Ok(())
    );

    // Dates, issuers and the chain bound matter as for servers.
    refused_with(
        verifier.verify_client_cert(std::slice::from_ref(&cert), BEFORE_ISSUE),
        CertificateError::NotYetValid,
        AlertDescription::CERTIFICATE_EXPIRED,
    );
    refused_with(
        WebPkiClientVerifier::new(&[]).verify_client_cert(std::slice::from_ref(&cert), NOW),
        CertificateError::UnknownIssuer,
        AlertDescription::UNKNOWN_CA,
    );
    refused_with(
        verifier.verify_client_cert(&vec![cert; MAX_CHAIN_LEN + 1], NOW),
        CertificateError::ChainTooLong,
        AlertDescription::BAD_CERTIFICATE,
    );
}

#[test]
fn server_and_client_certificates_do_not_swap() {
    let anchors = anchors();
    // The server certificates' EKU is serverAuth only.
    let clients = WebPkiClientVerifier::new(&anchors);
    for (name, cred, _) in servers() {
        refused_with(
            clients.verify_client_cert(&[der(cred)], NOW),
            CertificateError::InvalidPurpose,
            AlertDescription::UNSUPPORTED_CERTIFICATE,
        );
        let _ = name;
    }
    // The client certificate's EKU is clientAuth only (and it has no name).
    let servers = WebPkiServerVerifier::new(&anchors);
    refused_with(
        servers.verify_server_cert(&[der(&creds::CLIENT_ECDSA_P256)], &localhost(), NOW),
        CertificateError::InvalidPurpose,
        AlertDescription::UNSUPPORTED_CERTIFICATE,
    );
}

#[test]
fn pin_verifier_checks_clients_too() {
    let verifier = SpkiPinVerifier::new(&[pin_of("client-p256")]).unwrap();
    assert!(verifier.client_auth_mandatory());
    assert_eq!(
        verifier.verify_client_cert(&[der(&creds::CLIENT_ECDSA_P256)], NOW),
        Ok(())
    );
    refused_with(
        verifier.verify_client_cert(&[der(&creds::SERVER_ECDSA_P256)], NOW),
        CertificateError::PinMismatch,
        AlertDescription::BAD_CERTIFICATE,
    );
}

// ---- errors ------------------------------------------------------------

#[test]
fn every_certificate_error_has_its_rfc8446_alert() {
    use AlertDescription as A;
    use CertificateError as E;
    let table = [
        (E::BadEncoding, A::BAD_CERTIFICATE),
        (E::UnknownIssuer, A::UNKNOWN_CA),
        (E::Expired, A::CERTIFICATE_EXPIRED),
        (E::NotYetValid, A::CERTIFICATE_EXPIRED),
        (E::NotValidForName, A::BAD_CERTIFICATE),
        (E::BadSignature, A::DECRYPT_ERROR),
        (E::UnsupportedSignatureScheme, A::ILLEGAL_PARAMETER),
        (E::ChainTooLong, A::BAD_CERTIFICATE),
        (E::Revoked, A::CERTIFICATE_REVOKED),
        (E::InvalidPurpose, A::UNSUPPORTED_CERTIFICATE),
        (
            E::UnsupportedCertificateAlgorithm,
            A::UNSUPPORTED_CERTIFICATE,
        ),
        (E::PinMismatch, A::BAD_CERTIFICATE),
        (E::Other, A::BAD_CERTIFICATE),
    ];
    for (error, alert) in table {
        assert_eq!(error.alert(), alert, "{error:?}");
        let engine = Error::from(error);
        assert_eq!(engine, Error::Certificate(error));
        assert_eq!(engine.alert(), Some(alert));
        assert!(engine.is_fatal());
        let text = engine.to_string();
        assert!(text.contains(&error.to_string()), "{text}");
        assert!(text.ends_with(&format!("(sent {alert})")), "{text}");
    }
}

#[test]
fn advertised_schemes_are_ordered_and_honest() {
    use SignatureScheme as S;
    let anchors = anchors();
    let verifier = WebPkiServerVerifier::new(&anchors);
    // Everything accepted in a CertificateVerify comes first, and each is
    // advertised by the webpki verifiers.
    assert_eq!(
        &WEBPKI_SCHEMES[..TLS13_VERIFY_SCHEMES.len()],
        TLS13_VERIFY_SCHEMES
    );
    assert_eq!(verifier.supported_schemes(), WEBPKI_SCHEMES);
    assert_eq!(
        ClientCertVerifier::supported_schemes(&WebPkiClientVerifier::new(&anchors)),
        WEBPKI_SCHEMES
    );
    assert_eq!(
        &TLS13_VERIFY_SCHEMES[..3],
        &[
            S::ECDSA_SECP256R1_SHA256,
            S::ECDSA_SECP384R1_SHA384,
            S::ED25519
        ]
    );
    #[cfg(feature = "alloc")]
    assert_eq!(WEBPKI_SCHEMES.len(), 9);
    #[cfg(not(feature = "alloc"))]
    assert_eq!(WEBPKI_SCHEMES.len(), 3, "no RSA without alloc");
    for scheme in WEBPKI_SCHEMES {
        assert!(scheme.name().is_some());
        assert!(*scheme != S::RSA_PKCS1_SHA1 && *scheme != S::ECDSA_SHA1);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn state_sizes_are_as_documented() {
    use std::mem::size_of;
    // docs/architecture.md quotes these (64-bit targets). A SigningKey is
    // as large as its largest variant, the ECDSA key pair; RSA's inline
    // part is as large, and it also keeps 1,678 bytes on the heap
    // (tests/auth_alloc.rs).
    assert_eq!(size_of::<ring::signature::EcdsaKeyPair>(), 240);
    assert_eq!(size_of::<ring::signature::Ed25519KeyPair>(), 96);
    #[cfg(feature = "alloc")]
    assert_eq!(size_of::<ring::signature::RsaKeyPair>(), 240);
    assert_eq!(size_of::<SigningKey>(), 248);
    assert_eq!(size_of::<WebPkiServerVerifier<'_>>(), 16);
    assert_eq!(size_of::<WebPkiClientVerifier<'_>>(), 24);
    assert_eq!(size_of::<SpkiPinVerifier>(), 4 + 32 * MAX_PINS);
    assert_eq!(size_of::<CertificateError>(), 1);
}

#[test]
fn verify_tls13_signature_accepts_only_the_listed_schemes() {
    use tlspair::verify::verify_tls13_signature;
    let scheme = SignatureScheme::ECDSA_SECP256R1_SHA256;
    let cert = der(&creds::SERVER_ECDSA_P256);
    let message = server_message(10);
    let sig = sign(&key(&creds::SERVER_ECDSA_P256), scheme, &message);
    assert_eq!(
        verify_tls13_signature(&cert, scheme, &message, &sig, &[scheme]),
        Ok(())
    );
    // A verifier that did not advertise the scheme refuses even a good
    // signature made with it: the peer had no business using it.
    refused_with(
        verify_tls13_signature(&cert, scheme, &message, &sig, &[SignatureScheme::ED25519]),
        CertificateError::UnsupportedSignatureScheme,
        AlertDescription::ILLEGAL_PARAMETER,
    );
    // Listing a scheme TLS 1.3 forbids in CertificateVerify does not
    // allow it there.
    refused_with(
        verify_tls13_signature(
            &cert,
            SignatureScheme::ECDSA_SHA1,
            &message,
            &sig,
            &[SignatureScheme::ECDSA_SHA1],
        ),
        CertificateError::UnsupportedSignatureScheme,
        AlertDescription::ILLEGAL_PARAMETER,
    );
}
