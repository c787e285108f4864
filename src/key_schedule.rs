//! HKDF-Expand-Label and traffic key derivation (RFC 8446 §7.1, §7.3).
//!
//! Secrets are kept as bytes ([`Secret`], 49 bytes) rather than as ring's
//! `hkdf::Prk` (176 bytes); each stage of the schedule is its own type and
//! consumes the previous one.

use ring::{digest, hkdf, hmac};

use crate::record::suite::Suite;

/// The largest hash output of any supported suite (SHA-384).
pub const MAX_HASH_LEN: usize = 48;

/// An output length for ring's HKDF, which wants a `KeyType`.
struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// `HKDF-Expand-Label(Secret, Label, Context, out.len())` with the
/// `"tls13 "` prefix added to `label`.
///
/// Fails only if `label` is longer than 249 bytes, `context` longer than 255
/// bytes, or `out` longer than 255 hash outputs: none happens with the labels
/// of RFC 8446.
pub fn hkdf_expand_label(
    prk: &hkdf::Prk,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), ring::error::Unspecified> {
    const PREFIX: &[u8] = b"tls13 ";
    let out_len = u16::try_from(out.len()).map_err(|_| ring::error::Unspecified)?;
    let label_len = PREFIX
        .len()
        .checked_add(label.len())
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(ring::error::Unspecified)?;
    let context_len = u8::try_from(context.len()).map_err(|_| ring::error::Unspecified)?;
    let out_len = out_len.to_be_bytes();
    let info: [&[u8]; 6] = [
        &out_len,
        &[label_len],
        PREFIX,
        label,
        &[context_len],
        context,
    ];
    prk.expand(&info, OkmLen(out.len()))?.fill(out)
}

/// A traffic secret: a hash-length byte string, kept as bytes rather than as
/// ring's larger `Prk` so an established connection stays small.
#[derive(Clone)]
pub struct Secret {
    bytes: [u8; MAX_HASH_LEN],
    len: u8,
}

impl Secret {
    /// Copies `bytes` (32 or 48 bytes for the supported suites). `None` if it
    /// is longer than [`MAX_HASH_LEN`].
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let mut out = [0u8; MAX_HASH_LEN];
        out.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self {
            bytes: out,
            len: u8::try_from(bytes.len()).ok()?,
        })
    }

    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// This secret as an HKDF pseudorandom key for `alg`.
    pub(crate) fn prk(&self, alg: hkdf::Algorithm) -> hkdf::Prk {
        hkdf::Prk::new_less_safe(alg, self.as_bytes())
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        write!(f, "Secret({} bytes)", self.len)
    }
}

/// A running transcript hash (RFC 8446 §4.4.1).
#[derive(Clone)]
pub struct Transcript {
    ctx: digest::Context,
}

impl Transcript {
    /// An empty transcript for `suite`'s hash.
    pub fn new(suite: &Suite) -> Self {
        Self {
            ctx: digest::Context::new(suite.hash),
        }
    }

    /// A transcript continuing `ctx`.
    pub(crate) fn from_context(ctx: digest::Context) -> Self {
        Self { ctx }
    }

    /// Adds a whole handshake message (header included).
    pub fn add(&mut self, message: &[u8]) {
        self.ctx.update(message);
    }

    /// The hash of everything added so far.
    pub fn current(&self) -> Hash {
        Hash::from_digest(self.ctx.clone().finish())
    }

    /// Replaces the transcript so far by the synthetic message_hash message
    /// (RFC 8446 §4.4.1), after a HelloRetryRequest.
    pub fn restart_with_message_hash(&mut self, suite: &Suite) {
        let hash = self.current();
        self.ctx = digest::Context::new(suite.hash);
        let len = u8::try_from(hash.len).unwrap_or(0);
        self.ctx.update(&[254, 0, 0, len]);
        self.ctx.update(hash.as_bytes());
    }
}

/// A hash value, at most [`MAX_HASH_LEN`] bytes.
#[derive(Clone, Copy)]
pub struct Hash {
    bytes: [u8; MAX_HASH_LEN],
    len: usize,
}

impl Hash {
    fn from_digest(d: digest::Digest) -> Self {
        let mut bytes = [0u8; MAX_HASH_LEN];
        let src = d.as_ref();
        let len = src.len().min(MAX_HASH_LEN);
        crate::codec::copy_prefix(&mut bytes, src, len);
        Self { bytes, len }
    }

    /// The hash of `data` under `suite`'s hash.
    pub fn of(suite: &Suite, data: &[u8]) -> Self {
        Self::from_digest(digest::digest(suite.hash, data))
    }

    /// The hash of the empty string under `suite`'s hash.
    pub fn empty(suite: &Suite) -> Self {
        let src = fixed(suite).empty;
        let mut bytes = [0u8; MAX_HASH_LEN];
        crate::codec::copy_prefix(&mut bytes, src, src.len());
        Self {
            bytes,
            len: src.len(),
        }
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl core::fmt::Debug for Hash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Hash({} bytes)", self.len)
    }
}

/// What the schedule computes the same way on every handshake without a
/// PSK, per hash: Hash(""), Early Secret = HKDF-Extract(0, 0), and
/// Derive-Secret(Early Secret, "derived", ""), the Handshake Secret's salt.
/// Written out once (the SHA-256 ones are RFC 8448 §3's published values)
/// and checked against the computation by a unit test; they save a dozen
/// hash compressions per handshake.
struct Fixed {
    empty: &'static [u8],
    early: &'static [u8],
    derived: &'static [u8],
}

const SHA256_FIXED: Fixed = Fixed {
    empty: &[
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ],
    early: &[
        0x33, 0xad, 0x0a, 0x1c, 0x60, 0x7e, 0xc0, 0x3b, 0x09, 0xe6, 0xcd, 0x98, 0x93, 0x68, 0x0c,
        0xe2, 0x10, 0xad, 0xf3, 0x00, 0xaa, 0x1f, 0x26, 0x60, 0xe1, 0xb2, 0x2e, 0x10, 0xf1, 0x70,
        0xf9, 0x2a,
    ],
    derived: &[
        0x6f, 0x26, 0x15, 0xa1, 0x08, 0xc7, 0x02, 0xc5, 0x67, 0x8f, 0x54, 0xfc, 0x9d, 0xba, 0xb6,
        0x97, 0x16, 0xc0, 0x76, 0x18, 0x9c, 0x48, 0x25, 0x0c, 0xeb, 0xea, 0xc3, 0x57, 0x6c, 0x36,
        0x11, 0xba,
    ],
};

const SHA384_FIXED: Fixed = Fixed {
    empty: &[
        0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38, 0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3,
        0x6a, 0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43, 0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6,
        0xe1, 0xda, 0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1, 0x48,
        0x98, 0xb9, 0x5b,
    ],
    early: &[
        0x7e, 0xe8, 0x20, 0x6f, 0x55, 0x70, 0x02, 0x3e, 0x6d, 0xc7, 0x51, 0x9e, 0xb1, 0x07, 0x3b,
        0xc4, 0xe7, 0x91, 0xad, 0x37, 0xb5, 0xc3, 0x82, 0xaa, 0x10, 0xba, 0x18, 0xe2, 0x35, 0x7e,
        0x71, 0x69, 0x71, 0xf9, 0x36, 0x2f, 0x2c, 0x2f, 0xe2, 0xa7, 0x6b, 0xfd, 0x78, 0xdf, 0xec,
        0x4e, 0xa9, 0xb5,
    ],
    derived: &[
        0x15, 0x91, 0xda, 0xc5, 0xcb, 0xbf, 0x03, 0x30, 0xa4, 0xa8, 0x4d, 0xe9, 0xc7, 0x53, 0x33,
        0x0e, 0x92, 0xd0, 0x1f, 0x0a, 0x88, 0x21, 0x4b, 0x44, 0x64, 0x97, 0x2f, 0xd6, 0x68, 0x04,
        0x9e, 0x93, 0xe5, 0x2f, 0x2b, 0x16, 0xfa, 0xd9, 0x22, 0xfd, 0xc0, 0x58, 0x44, 0x78, 0x42,
        0x8f, 0x28, 0x2b,
    ],
};

fn fixed(suite: &Suite) -> &'static Fixed {
    if suite.hash_len == 48 {
        &SHA384_FIXED
    } else {
        &SHA256_FIXED
    }
}

/// Derive-Secret / HKDF-Expand-Label from an already keyed `prk`, so one
/// secret keys HMAC once for all its labels.
fn expand_prk(prk: &hkdf::Prk, suite: &Suite, label: &[u8], context: &[u8]) -> Secret {
    let mut out = Secret::zero(suite);
    let len = suite.hash_len.min(MAX_HASH_LEN);
    let dst = out.bytes.get_mut(..len).unwrap_or(&mut []);
    // Cannot fail: hash-length output and RFC labels are in range.
    let _ = hkdf_expand_label(prk, label, context, dst);
    out
}

/// HKDF-Extract(salt, ikm), returning the PRK as bytes: it is
/// HMAC-Hash(salt, ikm) (RFC 5869 §2.2). ring's `Prk` hides its bytes, and
/// the engine keeps secrets as bytes to stay small.
fn extract(suite: &Suite, salt: &[u8], ikm: &[u8]) -> Secret {
    let tag = hmac::sign(&hmac::Key::new(suite.hmac, salt), ikm);
    Secret::new(tag.as_ref()).unwrap_or_else(|| Secret::zero(suite))
}

impl Secret {
    /// A hash-length run of zeros.
    pub(crate) fn zero(suite: &Suite) -> Self {
        Self {
            bytes: [0; MAX_HASH_LEN],
            len: u8::try_from(suite.hash_len).unwrap_or(0),
        }
    }

    /// Derive-Secret(self, label, transcript_hash) (RFC 8446 §7.1).
    pub fn derive(&self, suite: &Suite, label: &[u8], hash: &Hash) -> Secret {
        self.expand(suite, label, hash.as_bytes())
    }

    /// HKDF-Expand-Label(self, label, context, Hash.length).
    pub fn expand(&self, suite: &Suite, label: &[u8], context: &[u8]) -> Secret {
        expand_prk(&self.prk(suite.hkdf), suite, label, context)
    }

    /// The next traffic secret on KeyUpdate (RFC 8446 §7.2).
    pub fn next_traffic_secret(&self, suite: &Suite) -> Secret {
        self.expand(suite, b"traffic upd", &[])
    }

    /// verify_data of a Finished message keyed by this traffic secret over
    /// `hash` (RFC 8446 §4.4.4).
    pub fn finished_mac(&self, suite: &Suite, hash: &Hash) -> Hash {
        let finished_key = self.expand(suite, b"finished", &[]);
        let tag = hmac::sign(
            &hmac::Key::new(suite.hmac, finished_key.as_bytes()),
            hash.as_bytes(),
        );
        let mut out = Hash {
            bytes: [0; MAX_HASH_LEN],
            len: 0,
        };
        let t = tag.as_ref();
        out.len = t.len().min(MAX_HASH_LEN);
        crate::codec::copy_prefix(&mut out.bytes, t, out.len);
        out
    }

    /// Checks `verify_data` against this secret's Finished MAC, in constant
    /// time (ring's HMAC verification).
    pub fn verify_finished(&self, suite: &Suite, hash: &Hash, verify_data: &[u8]) -> bool {
        let finished_key = self.expand(suite, b"finished", &[]);
        hmac::verify(
            &hmac::Key::new(suite.hmac, finished_key.as_bytes()),
            hash.as_bytes(),
            verify_data,
        )
        .is_ok()
    }
}

/// binder_key = Derive-Secret(Early Secret(`psk`), "res binder", "")
/// (RFC 8446 §7.1). A PSK binder is its Finished-style MAC
/// ([`Secret::finished_mac`]) over the transcript hash of the ClientHello
/// cut before its binder list.
pub fn binder_key(suite: &Suite, psk: &[u8]) -> Secret {
    EarlySecret::new(suite, Some(psk))
        .secret()
        .derive(suite, b"res binder", &Hash::empty(suite))
}

/// The TLS 1.3 key schedule (RFC 8446 §7.1), one stage at a time. Each
/// stage consumes the previous one, so a secret cannot be used out of order.
pub struct EarlySecret(Secret);
/// See [`EarlySecret`].
pub struct HandshakeSecret(Secret);
/// See [`EarlySecret`].
pub struct MasterSecret(Secret);

impl EarlySecret {
    /// Early Secret = HKDF-Extract(0, PSK), with an all-zero PSK when none.
    pub fn new(suite: &Suite, psk: Option<&[u8]>) -> Self {
        let zeros = Secret::zero(suite);
        Self(extract(
            suite,
            zeros.as_bytes(),
            psk.unwrap_or(zeros.as_bytes()),
        ))
    }

    /// The early secret's bytes (binder and 0-RTT keys derive from it).
    pub fn secret(&self) -> &Secret {
        &self.0
    }

    /// Handshake Secret = HKDF-Extract(Derive-Secret(., "derived", ""), (EC)DHE).
    pub fn into_handshake(self, suite: &Suite, shared: &[u8]) -> HandshakeSecret {
        let fixed = fixed(suite);
        let salt = if self.0.as_bytes() == fixed.early {
            Secret::new(fixed.derived).unwrap_or_else(|| Secret::zero(suite))
        } else {
            self.0.derive(suite, b"derived", &Hash::empty(suite))
        };
        HandshakeSecret(extract(suite, salt.as_bytes(), shared))
    }
}

impl HandshakeSecret {
    /// client_handshake_traffic_secret and server_handshake_traffic_secret
    /// over the transcript through ServerHello.
    pub fn traffic_secrets(&self, suite: &Suite, hash: &Hash) -> (Secret, Secret) {
        let prk = self.0.prk(suite.hkdf);
        (
            expand_prk(&prk, suite, b"c hs traffic", hash.as_bytes()),
            expand_prk(&prk, suite, b"s hs traffic", hash.as_bytes()),
        )
    }

    /// Master Secret = HKDF-Extract(Derive-Secret(., "derived", ""), 0).
    pub fn into_master(self, suite: &Suite) -> MasterSecret {
        let salt = self.0.derive(suite, b"derived", &Hash::empty(suite));
        let zeros = Secret::zero(suite);
        MasterSecret(extract(suite, salt.as_bytes(), zeros.as_bytes()))
    }
}

impl MasterSecret {
    /// client_application_traffic_secret_0, server_application_traffic_secret_0
    /// and exporter_master_secret over the transcript through server Finished.
    pub fn application_secrets(&self, suite: &Suite, hash: &Hash) -> (Secret, Secret, Secret) {
        let prk = self.0.prk(suite.hkdf);
        (
            expand_prk(&prk, suite, b"c ap traffic", hash.as_bytes()),
            expand_prk(&prk, suite, b"s ap traffic", hash.as_bytes()),
            expand_prk(&prk, suite, b"exp master", hash.as_bytes()),
        )
    }

    /// resumption_master_secret over the transcript through client Finished.
    pub fn resumption_secret(&self, suite: &Suite, hash: &Hash) -> Secret {
        self.0.derive(suite, b"res master", hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::suite::{TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384};

    #[test]
    fn fixed_values_are_what_the_schedule_computes() {
        for suite in [&TLS13_AES_128_GCM_SHA256, &TLS13_AES_256_GCM_SHA384] {
            let f = fixed(suite);
            assert_eq!(f.empty, digest::digest(suite.hash, b"").as_ref());
            let zeros = Secret::zero(suite);
            let early = extract(suite, zeros.as_bytes(), zeros.as_bytes());
            assert_eq!(f.early, early.as_bytes());
            let hash = Hash::from_digest(digest::digest(suite.hash, b""));
            assert_eq!(f.derived, early.derive(suite, b"derived", &hash).as_bytes());
        }
    }
}
