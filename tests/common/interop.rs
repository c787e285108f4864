//! The interop matrix shared by the OpenSSL and rustls tests: suites,
//! groups and server key types, with their names on each peer's side, and
//! a macro that turns the matrix into one test per cell so each cell passes
//! or fails on its own.

use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::test_credentials::{self as creds, Credential};
use tlspair::wire::{NamedGroup, SignatureScheme};
use tlspair::Suite;

use super::tls;

/// The server key types we claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa2048,
}

impl KeyType {
    pub const ALL: [KeyType; 4] = [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
        KeyType::Rsa2048,
    ];

    pub fn credential(self) -> &'static Credential {
        match self {
            KeyType::EcdsaP256 => &creds::SERVER_ECDSA_P256,
            KeyType::EcdsaP384 => &creds::SERVER_ECDSA_P384,
            KeyType::Ed25519 => &creds::SERVER_ED25519,
            KeyType::Rsa2048 => &creds::SERVER_RSA_2048,
        }
    }

    /// The client certificate (clientAuth) with this key type.
    pub fn client_credential(self) -> &'static Credential {
        match self {
            KeyType::EcdsaP256 => &creds::CLIENT_ECDSA_P256,
            KeyType::EcdsaP384 => &creds::CLIENT_ECDSA_P384,
            KeyType::Ed25519 => &creds::CLIENT_ED25519,
            KeyType::Rsa2048 => &creds::CLIENT_RSA_2048,
        }
    }

    /// Base name of the client certificate's PEM files in testdata/certs.
    pub fn client_pem_base(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "client-p256",
            KeyType::EcdsaP384 => "client-p384",
            KeyType::Ed25519 => "client-ed25519",
            KeyType::Rsa2048 => "client-rsa2048",
        }
    }

    /// Base name of the PEM files in testdata/certs.
    pub fn pem_base(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "server-p256",
            KeyType::EcdsaP384 => "server-p384",
            KeyType::Ed25519 => "server-ed25519",
            KeyType::Rsa2048 => "server-rsa2048",
        }
    }

    pub fn cert_pem(self) -> String {
        format!("{}.pem", self.pem_base())
    }

    pub fn key_pem(self) -> String {
        format!("{}.key.pem", self.pem_base())
    }

    /// The TLS 1.3 signature schemes this key may sign with. RSA keys
    /// sign with RSA-PSS only in TLS 1.3; which hash is the signer's
    /// choice among those offered.
    pub fn schemes(self) -> &'static [SignatureScheme] {
        match self {
            KeyType::EcdsaP256 => &[SignatureScheme::ECDSA_SECP256R1_SHA256],
            KeyType::EcdsaP384 => &[SignatureScheme::ECDSA_SECP384R1_SHA384],
            KeyType::Ed25519 => &[SignatureScheme::ED25519],
            KeyType::Rsa2048 => &[
                SignatureScheme::RSA_PSS_RSAE_SHA256,
                SignatureScheme::RSA_PSS_RSAE_SHA384,
                SignatureScheme::RSA_PSS_RSAE_SHA512,
            ],
        }
    }
}

/// OpenSSL's name for a suite (`-ciphersuites`).
pub fn openssl_suite(suite: &Suite) -> &'static str {
    match suite.id.0 {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        other => panic!("no OpenSSL name for suite {other:#06x}"),
    }
}

/// OpenSSL's name for a group (`-groups`).
pub fn openssl_group(group: NamedGroup) -> &'static str {
    match group {
        NamedGroup::X25519 => "X25519",
        NamedGroup::SECP256R1 => "P-256",
        NamedGroup::SECP384R1 => "P-384",
        other => panic!("no OpenSSL name for group {other:?}"),
    }
}

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// Our client offering exactly this suite and group. A single group keeps
/// the key share we send the one the peer must pick, so the matrix checks
/// each group without a HelloRetryRequest (which has tests of its own).
pub fn client_config(suite: &'static Suite, group: NamedGroup) -> ClientConfig<'static> {
    let mut cc = tls::client_config();
    cc.suites = leak([suite]);
    cc.groups = leak([group]);
    cc
}

/// The curve of an ECDSA key: RFC 8422 §5.1 lets supported_groups name
/// the curves of ECDSA certificates too, and OpenSSL holds TLS 1.2
/// clients to it.
pub fn cert_curve(key: KeyType) -> Option<NamedGroup> {
    match key {
        KeyType::EcdsaP256 => Some(NamedGroup::SECP256R1),
        KeyType::EcdsaP384 => Some(NamedGroup::SECP384R1),
        _ => None,
    }
}

/// [`client_config`] for a server with `key`: with a TLS 1.2 suite, the
/// certificate's curve is listed after `group` (see [`cert_curve`]).
pub fn client_config_for(
    suite: &'static Suite,
    group: NamedGroup,
    key: KeyType,
) -> ClientConfig<'static> {
    let mut cc = client_config(suite, group);
    if let Some(curve) = cert_curve(key).filter(|c| *c != group && suite.is_tls12()) {
        cc.groups = leak([group, curve]);
    }
    cc
}

/// Our server with one certificate, accepting exactly this suite and group.
pub fn server_config(
    suite: &'static Suite,
    group: NamedGroup,
    key: KeyType,
) -> ServerConfig<'static> {
    let mut sc = tls::server_config(&[tls::certified(key.credential())]);
    sc.suites = leak([suite]);
    sc.groups = leak([group]);
    sc
}

/// Checks what our side of a connection settled on.
pub fn assert_negotiated(
    conn: &tlspair::Connection<'_>,
    suite: &'static Suite,
    group: NamedGroup,
    key: KeyType,
) {
    let n = conn.negotiated().expect("handshake complete");
    assert_eq!(n.version, suite.version, "version");
    assert_eq!(n.suite, suite.id, "suite");
    assert_eq!(n.group, Some(group), "group");
    let schemes = if suite.is_tls12() {
        tls12_schemes(key)
    } else {
        key.schemes()
    };
    assert!(
        n.signature_scheme.is_some_and(|s| schemes.contains(&s)),
        "{:?} signed with {:?}",
        key,
        n.signature_scheme
    );
}

/// The schemes a TLS 1.2 peer may sign with for this key: in TLS 1.2 an
/// ECDSA code point names the hash only, and OpenSSL signs with a P-384
/// key under ecdsa_secp256r1_sha256.
pub fn tls12_schemes(key: KeyType) -> &'static [tlspair::wire::SignatureScheme] {
    use tlspair::wire::SignatureScheme as S;
    match key {
        KeyType::EcdsaP256 | KeyType::EcdsaP384 => {
            &[S::ECDSA_SECP256R1_SHA256, S::ECDSA_SECP384R1_SHA384]
        }
        // RSASSA-PKCS1-v1_5 is legal in TLS 1.2's ServerKeyExchange, and
        // a client that lists it first (gnutls-cli does) gets it.
        KeyType::Rsa2048 => &[
            S::RSA_PSS_RSAE_SHA256,
            S::RSA_PSS_RSAE_SHA384,
            S::RSA_PSS_RSAE_SHA512,
            S::RSA_PKCS1_SHA256,
            S::RSA_PKCS1_SHA384,
            S::RSA_PKCS1_SHA512,
        ],
        other => other.schemes(),
    }
}

/// Test data that is printable, has a newline every 64 bytes (for line
/// oriented peers like `s_server -rev`), and never starts an s_client
/// command letter (`Q`, `R`, `k`, `K`...): lowercase letters but `k`,
/// digits and newlines only.
pub fn text(len: usize, seed: u32) -> Vec<u8> {
    text_with_lines(len, seed, 64)
}

/// [`text`] with a newline every `line` bytes, and as the last byte (a
/// line-oriented peer answers only whole lines).
pub fn text_with_lines(len: usize, seed: u32, line: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijlmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|i| {
            if i % line == line - 1 || i == len - 1 {
                b'\n'
            } else {
                // xorshift32: cheap, deterministic, seedable.
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                ALPHABET[x as usize % ALPHABET.len()]
            }
        })
        .collect()
}

/// What `s_server -rev` answers to `text`: each line reversed.
pub fn reversed_lines(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        out.extend(body.iter().rev());
        out.push(b'\n');
    }
    out
}

/// One `#[test]` per suite × group × key type, each calling
/// `$check(suite, group, key)`; `$check` must be a path from the crate
/// root, e.g. `crate::handshake_with_s_server`. Test names read
/// `module::aes_128_gcm_sha256::x25519::ecdsa_p256`.
/// `interop_matrix!(ecdsa_rsa: $check)` leaves Ed25519 out, for peers
/// without it (NSS 3.87 has no Ed25519 in TLS).
#[macro_export]
macro_rules! interop_matrix {
    ($check:path) => {
        $crate::interop_matrix!(@suites all, $check);
    };
    (ecdsa_rsa: $check:path) => {
        $crate::interop_matrix!(@suites ecdsa_rsa, $check);
    };
    (@suites $keys:ident, $check:path) => {
        mod aes_128_gcm_sha256 {
            $crate::interop_matrix!(@groups $keys, $check, &tlspair::TLS13_AES_128_GCM_SHA256);
        }
        mod aes_256_gcm_sha384 {
            $crate::interop_matrix!(@groups $keys, $check, &tlspair::TLS13_AES_256_GCM_SHA384);
        }
        mod chacha20_poly1305_sha256 {
            $crate::interop_matrix!(@groups $keys, $check, &tlspair::TLS13_CHACHA20_POLY1305_SHA256);
        }
    };
    (@groups $keys:ident, $check:path, $suite:expr) => {
        mod x25519 {
            $crate::interop_matrix!(@$keys $check, $suite, tlspair::wire::NamedGroup::X25519);
        }
        mod p256 {
            $crate::interop_matrix!(@$keys $check, $suite, tlspair::wire::NamedGroup::SECP256R1);
        }
        mod p384 {
            $crate::interop_matrix!(@$keys $check, $suite, tlspair::wire::NamedGroup::SECP384R1);
        }
    };
    (@all $check:path, $suite:expr, $group:expr) => {
        $crate::interop_matrix!(@ecdsa_rsa $check, $suite, $group);
        #[test]
        fn ed25519() {
            $check($suite, $group, $crate::common::interop::KeyType::Ed25519)
        }
    };
    (@ecdsa_rsa $check:path, $suite:expr, $group:expr) => {
        #[test]
        fn ecdsa_p256() {
            $check($suite, $group, $crate::common::interop::KeyType::EcdsaP256)
        }
        #[test]
        fn ecdsa_p384() {
            $check($suite, $group, $crate::common::interop::KeyType::EcdsaP384)
        }
        #[test]
        fn rsa_2048() {
            $check($suite, $group, $crate::common::interop::KeyType::Rsa2048)
        }
    };
}

/// One `#[test]` per TLS 1.2 suite × group × key type the suite allows
/// (ECDSA and Ed25519 keys for ECDHE_ECDSA, RSA for ECDHE_RSA), each
/// calling `$check(suite, group, key)`.
#[macro_export]
macro_rules! tls12_matrix {
    (ecdsa_rsa: $check:path) => {
        $crate::tls12_matrix!(@suite $check, ecdhe_ecdsa_aes_128_gcm_sha256, ECDHE_ECDSA_AES_128_GCM_SHA256, ecdsa_only);
        $crate::tls12_matrix!(@suite $check, ecdhe_ecdsa_aes_256_gcm_sha384, ECDHE_ECDSA_AES_256_GCM_SHA384, ecdsa_only);
        $crate::tls12_matrix!(@suite $check, ecdhe_ecdsa_chacha20_poly1305, ECDHE_ECDSA_CHACHA20_POLY1305_SHA256, ecdsa_only);
        $crate::tls12_matrix!(@suite $check, ecdhe_rsa_aes_128_gcm_sha256, ECDHE_RSA_AES_128_GCM_SHA256, rsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_rsa_aes_256_gcm_sha384, ECDHE_RSA_AES_256_GCM_SHA384, rsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_rsa_chacha20_poly1305, ECDHE_RSA_CHACHA20_POLY1305_SHA256, rsa);
    };
    ($check:path) => {
        $crate::tls12_matrix!(@suite $check, ecdhe_ecdsa_aes_128_gcm_sha256, ECDHE_ECDSA_AES_128_GCM_SHA256, ecdsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_ecdsa_aes_256_gcm_sha384, ECDHE_ECDSA_AES_256_GCM_SHA384, ecdsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_ecdsa_chacha20_poly1305, ECDHE_ECDSA_CHACHA20_POLY1305_SHA256, ecdsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_rsa_aes_128_gcm_sha256, ECDHE_RSA_AES_128_GCM_SHA256, rsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_rsa_aes_256_gcm_sha384, ECDHE_RSA_AES_256_GCM_SHA384, rsa);
        $crate::tls12_matrix!(@suite $check, ecdhe_rsa_chacha20_poly1305, ECDHE_RSA_CHACHA20_POLY1305_SHA256, rsa);
    };
    (@suite $check:path, $m:ident, $suite:ident, $keys:ident) => {
        mod $m {
            mod x25519 {
                $crate::tls12_matrix!(@$keys $check, $suite, X25519);
            }
            mod p256 {
                $crate::tls12_matrix!(@$keys $check, $suite, SECP256R1);
            }
            mod p384 {
                $crate::tls12_matrix!(@$keys $check, $suite, SECP384R1);
            }
        }
    };
    (@ecdsa $check:path, $suite:ident, $group:ident) => {
        #[test]
        fn ecdsa_p256() {
            $check(&tlspair::$suite, tlspair::wire::NamedGroup::$group, $crate::common::interop::KeyType::EcdsaP256)
        }
        #[test]
        fn ecdsa_p384() {
            $check(&tlspair::$suite, tlspair::wire::NamedGroup::$group, $crate::common::interop::KeyType::EcdsaP384)
        }
        #[test]
        fn ed25519() {
            $check(&tlspair::$suite, tlspair::wire::NamedGroup::$group, $crate::common::interop::KeyType::Ed25519)
        }
    };
    (@ecdsa_only $check:path, $suite:ident, $group:ident) => {
        #[test]
        fn ecdsa_p256() {
            $check(&tlspair::$suite, tlspair::wire::NamedGroup::$group, $crate::common::interop::KeyType::EcdsaP256)
        }
        #[test]
        fn ecdsa_p384() {
            $check(&tlspair::$suite, tlspair::wire::NamedGroup::$group, $crate::common::interop::KeyType::EcdsaP384)
        }
    };
    (@rsa $check:path, $suite:ident, $group:ident) => {
        #[test]
        fn rsa2048() {
            $check(&tlspair::$suite, tlspair::wire::NamedGroup::$group, $crate::common::interop::KeyType::Rsa2048)
        }
    };
}
