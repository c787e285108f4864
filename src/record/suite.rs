//! The three TLS 1.3 cipher suites and what the record layer needs of each.

use ring::{aead, digest, hkdf, hmac};

use crate::wire::CipherSuite;

/// A supported TLS 1.3 cipher suite: its AEAD, its hash, and its usage limit.
pub struct Suite {
    /// The suite's code point.
    pub id: CipherSuite,
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
    aead: &aead::CHACHA20_POLY1305,
    hkdf: hkdf::HKDF_SHA256,
    hmac: hmac::HMAC_SHA256,
    hash: &digest::SHA256,
    hash_len: 32,
    max_records: u64::MAX,
};

/// Every suite, in our default order of preference.
pub static ALL_SUITES: [&Suite; 3] = [
    &TLS13_AES_128_GCM_SHA256,
    &TLS13_AES_256_GCM_SHA384,
    &TLS13_CHACHA20_POLY1305_SHA256,
];

impl Suite {
    /// The suite with this code point, if we support it.
    pub fn from_id(id: CipherSuite) -> Option<&'static Suite> {
        ALL_SUITES.iter().copied().find(|s| s.id == id)
    }

    /// AEAD key length in bytes.
    pub fn key_len(&self) -> usize {
        self.aead.key_len()
    }
}
