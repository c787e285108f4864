//! The cipher suites, three of TLS 1.3 and six of TLS 1.2, and what the
//! record layer needs of each.

use ring::{aead, digest, hkdf, hmac};

use crate::wire::{CipherSuite, ProtocolVersion};

/// What a TLS 1.2 suite's server authenticates with (RFC 8422 §5.1; a
/// TLS 1.3 suite names none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// TLS 1.3: the suite does not say.
    Any,
    /// ECDHE_ECDSA: an ECDSA or EdDSA certificate (RFC 8422 §5.1.1).
    Ecdsa,
    /// ECDHE_RSA: an RSA certificate.
    Rsa,
}

/// A supported cipher suite: its version, AEAD, hash, and usage limit.
pub struct Suite {
    /// The suite's code point.
    pub id: CipherSuite,
    /// The protocol version it belongs to (TLS 1.3 or TLS 1.2).
    pub version: ProtocolVersion,
    /// What the server's certificate key must be (TLS 1.2 suites).
    pub auth: Auth,
    pub(crate) aead: &'static aead::Algorithm,
    pub(crate) hkdf: hkdf::Algorithm,
    pub(crate) hmac: hmac::Algorithm,
    pub(crate) hash: &'static digest::Algorithm,
    /// Hash output length in bytes (the length of every secret).
    pub hash_len: usize,
    /// Records one key may protect before it must be replaced
    /// (RFC 8446 §5.5).
    pub max_records: u64,
}

impl core::fmt::Debug for Suite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.id, f)
    }
}

impl PartialEq for Suite {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Suite {}

/// AES-GCM may protect 2^24.5 full-size records under one key (RFC 8446
/// §5.5): floor(2^24.5) = 23,726,566.
const AES_GCM_MAX_RECORDS: u64 = 23_726_566;

/// TLS_AES_128_GCM_SHA256.
pub static TLS13_AES_128_GCM_SHA256: Suite = Suite {
    id: CipherSuite::TLS13_AES_128_GCM_SHA256,
    version: ProtocolVersion::TLS1_3,
    auth: Auth::Any,
    aead: &aead::AES_128_GCM,
    hkdf: hkdf::HKDF_SHA256,
    hmac: hmac::HMAC_SHA256,
    hash: &digest::SHA256,
    hash_len: 32,
    max_records: AES_GCM_MAX_RECORDS,
};

/// TLS_AES_256_GCM_SHA384.
pub static TLS13_AES_256_GCM_SHA384: Suite = Suite {
    id: CipherSuite::TLS13_AES_256_GCM_SHA384,
    version: ProtocolVersion::TLS1_3,
    auth: Auth::Any,
    aead: &aead::AES_256_GCM,
    hkdf: hkdf::HKDF_SHA384,
    hmac: hmac::HMAC_SHA384,
    hash: &digest::SHA384,
    hash_len: 48,
    max_records: AES_GCM_MAX_RECORDS,
};

/// TLS_CHACHA20_POLY1305_SHA256. Its usage limit exceeds the sequence-number
/// space (RFC 8446 §5.5), so only the 2^64 sequence bound applies.
pub static TLS13_CHACHA20_POLY1305_SHA256: Suite = Suite {
    id: CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    version: ProtocolVersion::TLS1_3,
    auth: Auth::Any,
    aead: &aead::CHACHA20_POLY1305,
    hkdf: hkdf::HKDF_SHA256,
    hmac: hmac::HMAC_SHA256,
    hash: &digest::SHA256,
    hash_len: 32,
    max_records: u64::MAX,
};

/// A TLS 1.2 suite: ECDHE key exchange, `auth` signing it, `aead`
/// protecting records, the PRF over `hash`.
macro_rules! tls12_suite {
    ($(#[$doc:meta])* $name:ident, $auth:ident, $aead:ident, $sha:ident, $limit:expr) => {
        $(#[$doc])*
        pub static $name: Suite = Suite {
            id: CipherSuite::$name,
            version: ProtocolVersion::TLS1_2,
            auth: Auth::$auth,
            aead: &aead::$aead,
            hkdf: tls12_suite!(@hkdf $sha),
            hmac: tls12_suite!(@hmac $sha),
            hash: tls12_suite!(@hash $sha),
            hash_len: tls12_suite!(@len $sha),
            max_records: $limit,
        };
    };
    (@hkdf SHA256) => { hkdf::HKDF_SHA256 };
    (@hkdf SHA384) => { hkdf::HKDF_SHA384 };
    (@hmac SHA256) => { hmac::HMAC_SHA256 };
    (@hmac SHA384) => { hmac::HMAC_SHA384 };
    (@hash SHA256) => { &digest::SHA256 };
    (@hash SHA384) => { &digest::SHA384 };
    (@len SHA256) => { 32 };
    (@len SHA384) => { 48 };
}

tls12_suite!(
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2).
    ECDHE_ECDSA_AES_128_GCM_SHA256, Ecdsa, AES_128_GCM, SHA256, AES_GCM_MAX_RECORDS
);
tls12_suite!(
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (TLS 1.2).
    ECDHE_ECDSA_AES_256_GCM_SHA384, Ecdsa, AES_256_GCM, SHA384, AES_GCM_MAX_RECORDS
);
tls12_suite!(
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (TLS 1.2).
    ECDHE_ECDSA_CHACHA20_POLY1305_SHA256, Ecdsa, CHACHA20_POLY1305, SHA256, u64::MAX
);
tls12_suite!(
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (TLS 1.2).
    ECDHE_RSA_AES_128_GCM_SHA256, Rsa, AES_128_GCM, SHA256, AES_GCM_MAX_RECORDS
);
tls12_suite!(
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (TLS 1.2).
    ECDHE_RSA_AES_256_GCM_SHA384, Rsa, AES_256_GCM, SHA384, AES_GCM_MAX_RECORDS
);
tls12_suite!(
    /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (TLS 1.2).
    ECDHE_RSA_CHACHA20_POLY1305_SHA256, Rsa, CHACHA20_POLY1305, SHA256, u64::MAX
);

/// Every TLS 1.3 suite, in our default order of preference: what a
/// configuration offers by default.
pub static ALL_SUITES: [&Suite; 3] = [
    &TLS13_AES_128_GCM_SHA256,
    &TLS13_AES_256_GCM_SHA384,
    &TLS13_CHACHA20_POLY1305_SHA256,
];

/// Every TLS 1.2 suite, in our order of preference (AES-128-GCM, then
/// AES-256-GCM, then ChaCha20-Poly1305; ECDSA before RSA).
pub static TLS12_SUITES: [&Suite; 6] = [
    &ECDHE_ECDSA_AES_128_GCM_SHA256,
    &ECDHE_RSA_AES_128_GCM_SHA256,
    &ECDHE_ECDSA_AES_256_GCM_SHA384,
    &ECDHE_RSA_AES_256_GCM_SHA384,
    &ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
    &ECDHE_RSA_CHACHA20_POLY1305_SHA256,
];

/// Every suite of both versions: TLS 1.3's, then TLS 1.2's. A
/// configuration with these suites speaks both versions.
pub static BOTH_VERSIONS_SUITES: [&Suite; 9] = [
    &TLS13_AES_128_GCM_SHA256,
    &TLS13_AES_256_GCM_SHA384,
    &TLS13_CHACHA20_POLY1305_SHA256,
    &ECDHE_ECDSA_AES_128_GCM_SHA256,
    &ECDHE_RSA_AES_128_GCM_SHA256,
    &ECDHE_ECDSA_AES_256_GCM_SHA384,
    &ECDHE_RSA_AES_256_GCM_SHA384,
    &ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
    &ECDHE_RSA_CHACHA20_POLY1305_SHA256,
];

impl Suite {
    /// The suite with this code point, if we support it.
    pub fn from_id(id: CipherSuite) -> Option<&'static Suite> {
        BOTH_VERSIONS_SUITES.iter().copied().find(|s| s.id == id)
    }

    /// Whether this is a TLS 1.2 suite.
    pub fn is_tls12(&self) -> bool {
        self.version == ProtocolVersion::TLS1_2
    }

    /// The TLS 1.2 PRF's hash (SHA-384 for the `_SHA384` suites).
    pub(crate) fn prf_hash(&self) -> crate::key_schedule::tls12::PrfHash {
        if self.hash_len == 48 {
            crate::key_schedule::tls12::PrfHash::Sha384
        } else {
            crate::key_schedule::tls12::PrfHash::Sha256
        }
    }

    /// Whether records carry an explicit 8-byte nonce (TLS 1.2 AES-GCM,
    /// RFC 5288 §3); TLS 1.2 ChaCha20-Poly1305 XORs the sequence number
    /// into its IV as TLS 1.3 does (RFC 7905 §2).
    pub(crate) fn explicit_nonce(&self) -> bool {
        self.is_tls12() && *self.aead != aead::CHACHA20_POLY1305
    }

    /// Bytes a record adds around its content, no padding: TLS 1.3's
    /// header, content type and tag (22); TLS 1.2's header, explicit nonce
    /// and tag (29 for AES-GCM, 21 for ChaCha20-Poly1305).
    pub fn record_overhead(&self) -> usize {
        if !self.is_tls12() {
            super::RECORD_OVERHEAD
        } else if self.explicit_nonce() {
            super::HEADER_LEN + 8 + super::TAG_LEN
        } else {
            super::HEADER_LEN + super::TAG_LEN
        }
    }

    /// AEAD key length in bytes.
    pub fn key_len(&self) -> usize {
        self.aead.key_len()
    }
}
