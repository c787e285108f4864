//! Built-in credentials for tests, examples and demos: **never for
//! production**. Every private key here is published in the repository, so
//! anyone can impersonate these certificates; trust the test CA nowhere but
//! in tests.
//!
//! All DER, made by `scripts/make-test-certs.sh` (PEM copies for the
//! `openssl` and `curl` command lines sit beside them in testdata/certs/).
//! Server certificates are for `localhost` (DNS:localhost and
//! IP:127.0.0.1), issued by [`CA_CERT`] (ECDSA P-256, CN "tlspair test
//! CA"), valid for 20 years from their creation in November 2026 unless
//! said otherwise. Keys are unencrypted PKCS#8, as
//! [`SigningKey::from_pkcs8`](crate::sign::SigningKey::from_pkcs8) takes
//! them.

/// A certificate and its private key.
#[derive(Clone, Copy, Debug)]
pub struct Credential {
    /// The end-entity certificate, DER.
    pub cert: &'static [u8],
    /// Its private key, unencrypted PKCS#8 DER.
    pub key: &'static [u8],
}

macro_rules! credential {
    ($name:literal) => {
        Credential {
            cert: include_bytes!(concat!("../testdata/certs/", $name, ".der")),
            key: include_bytes!(concat!("../testdata/certs/", $name, ".key.der")),
        }
    };
}

/// The test root CA certificate (ECDSA P-256, CN "tlspair test CA"), DER.
pub static CA_CERT: &[u8] = include_bytes!("../testdata/certs/ca.der");

/// Server for localhost, ECDSA P-256 key.
pub static SERVER_ECDSA_P256: Credential = credential!("server-p256");
/// Server for localhost, ECDSA P-384 key.
pub static SERVER_ECDSA_P384: Credential = credential!("server-p384");
/// Server for localhost, Ed25519 key.
pub static SERVER_ED25519: Credential = credential!("server-ed25519");
/// Server for localhost, RSA 2048 key (signing it needs feature `alloc`).
pub static SERVER_RSA_2048: Credential = credential!("server-rsa2048");

/// Client certificate (CN "tlspair test client"), ECDSA P-256, extended
/// key usage clientAuth only.
pub static CLIENT_ECDSA_P256: Credential = credential!("client-p256");
/// Client certificate, as [`CLIENT_ECDSA_P256`] with ECDSA P-384.
pub static CLIENT_ECDSA_P384: Credential = credential!("client-p384");
/// Client certificate, as [`CLIENT_ECDSA_P256`] with Ed25519.
pub static CLIENT_ED25519: Credential = credential!("client-ed25519");
/// Client certificate, as [`CLIENT_ECDSA_P256`] with RSA 2048 (signing
/// needs feature `alloc`).
pub static CLIENT_RSA_2048: Credential = credential!("client-rsa2048");

/// Negative test: a localhost server certificate valid only from
/// 2020-01-01 to 2021-01-01.
pub static EXPIRED_ECDSA_P256: Credential = credential!("expired-p256");
/// Negative test: a server certificate from the test CA for `example.com`.
pub static WRONG_NAME_ECDSA_P256: Credential = credential!("wrong-name-p256");
/// Negative test: a localhost server certificate from [`UNTRUSTED_CA_CERT`].
pub static UNTRUSTED_ECDSA_P256: Credential = credential!("untrusted-p256");
/// Negative test: a localhost server certificate from [`IMPOSTOR_CA_CERT`],
/// whose issuer name is the test CA's.
pub static IMPOSTOR_ECDSA_P256: Credential = credential!("impostor-p256");

/// A second root CA (CN "tlspair untrusted CA") that tests do not trust.
pub static UNTRUSTED_CA_CERT: &[u8] = include_bytes!("../testdata/certs/untrusted-ca.der");
/// A third root CA with the test CA's exact name but its own key.
pub static IMPOSTOR_CA_CERT: &[u8] = include_bytes!("../testdata/certs/impostor-ca.der");
