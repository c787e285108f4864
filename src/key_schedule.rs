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
    let label_len =
        u8::try_from(PREFIX.len() + label.len()).map_err(|_| ring::error::Unspecified)?;
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
        Self::from_digest(digest::digest(suite.hash, b""))
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
        let mut out = Secret::zero(suite);
        let len = suite.hash_len.min(MAX_HASH_LEN);
        // Cannot fail: hash-length output and RFC labels are in range.
        let dst = out.bytes.get_mut(..len).unwrap_or(&mut []);
        let _ = hkdf_expand_label(&self.prk(suite.hkdf), label, context, dst);
        out
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
        let salt = self.0.derive(suite, b"derived", &Hash::empty(suite));
        HandshakeSecret(extract(suite, salt.as_bytes(), shared))
    }
}

impl HandshakeSecret {
    /// client_handshake_traffic_secret and server_handshake_traffic_secret
    /// over the transcript through ServerHello.
    pub fn traffic_secrets(&self, suite: &Suite, hash: &Hash) -> (Secret, Secret) {
        (
            self.0.derive(suite, b"c hs traffic", hash),
            self.0.derive(suite, b"s hs traffic", hash),
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
        (
            self.0.derive(suite, b"c ap traffic", hash),
            self.0.derive(suite, b"s ap traffic", hash),
            self.0.derive(suite, b"exp master", hash),
        )
    }

    /// resumption_master_secret over the transcript through client Finished.
    pub fn resumption_secret(&self, suite: &Suite, hash: &Hash) -> Secret {
        self.0.derive(suite, b"res master", hash)
    }
}
