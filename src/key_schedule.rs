//! HKDF-Expand-Label and traffic key derivation (RFC 8446 §7.1, §7.3).
//!
//! Secrets are kept as bytes ([`Secret`], 49 bytes) rather than as ring's
//! `hkdf::Prk` (176 bytes); each stage of the schedule is its own type and
//! consumes the previous one. Every [`Secret`] is wiped when dropped.
//!
//! Every derivation returns a `Result`: HKDF-Expand-Label refuses labels
//! over 249 bytes, contexts over 255 and outputs over 255 hash lengths, and
//! no such refusal may turn into a secret of zeros.

use ring::{digest, hkdf, hmac};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

use crate::record::suite::Suite;

pub(crate) mod tls12;

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
/// ring's larger `Prk` so an established connection stays small. Not
/// `Clone`: a secret is derived, used and wiped, never copied by accident.
pub struct Secret {
    bytes: [u8; MAX_HASH_LEN],
    len: u8,
}

impl Zeroize for Secret {
    fn zeroize(&mut self) {
        self.bytes.zeroize();
        self.len.zeroize();
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Secret {}

/// The error of a derivation that cannot fail with the labels of RFC 8446.
const DERIVATION: Error = Error::Internal("key derivation");

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

    /// A second copy, for the rare owner that must keep its own (a stored
    /// ticket's embedder may copy it). Each copy wipes itself.
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            bytes: self.bytes,
            len: self.len,
        }
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
        self.ctx.update(&[254, 0, 0, hash.len]);
        self.ctx.update(hash.as_bytes());
    }
}

/// A hash value, at most [`MAX_HASH_LEN`] bytes. (Transcript hashes and
/// Finished MACs, which go on the wire: not secret.)
#[derive(Clone, Copy)]
pub struct Hash {
    bytes: [u8; MAX_HASH_LEN],
    len: u8,
}

impl Hash {
    /// Copies `src`, cut to [`MAX_HASH_LEN`] (every hash here is 32 or 48
    /// bytes).
    fn from_bytes(src: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_HASH_LEN];
        let len = src.len().min(MAX_HASH_LEN);
        crate::codec::copy_prefix(&mut bytes, src, len);
        // `len <= MAX_HASH_LEN < 256`.
        Self {
            bytes,
            len: u8::try_from(len).unwrap_or(u8::MAX),
        }
    }

    fn from_digest(d: digest::Digest) -> Self {
        Self::from_bytes(d.as_ref())
    }

    /// The hash of `data` under `suite`'s hash.
    pub fn of(suite: &Suite, data: &[u8]) -> Self {
        Self::from_digest(digest::digest(suite.hash, data))
    }

    /// The hash of the empty string under `suite`'s hash.
    pub fn empty(suite: &Suite) -> Self {
        Self::from_bytes(fixed(suite).empty)
    }

    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
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
/// secret keys HMAC once for all its labels. Fails (rather than give a
/// secret of zeros) when HKDF-Expand-Label refuses `label` or `context`.
fn expand_prk(
    prk: &hkdf::Prk,
    suite: &Suite,
    label: &[u8],
    context: &[u8],
) -> Result<Secret, Error> {
    let mut out = Secret::zero(suite)?;
    let len = usize::from(out.len);
    let dst = out.bytes.get_mut(..len).ok_or(DERIVATION)?;
    hkdf_expand_label(prk, label, context, dst).map_err(|_| DERIVATION)?;
    Ok(out)
}

/// HKDF-Extract(salt, ikm), returning the PRK as bytes: it is
/// HMAC-Hash(salt, ikm) (RFC 5869 §2.2). ring's `Prk` hides its bytes, and
/// the engine keeps secrets as bytes to stay small.
fn extract(suite: &Suite, salt: &[u8], ikm: &[u8]) -> Result<Secret, Error> {
    let tag = hmac::sign(&hmac::Key::new(suite.hmac, salt), ikm);
    Secret::new(tag.as_ref()).ok_or(DERIVATION)
}

impl Secret {
    /// A hash-length run of zeros.
    pub(crate) fn zero(suite: &Suite) -> Result<Self, Error> {
        Self::new([0; MAX_HASH_LEN].get(..suite.hash_len).ok_or(DERIVATION)?).ok_or(DERIVATION)
    }

    /// Derive-Secret(self, label, transcript_hash) (RFC 8446 §7.1).
    pub fn derive(&self, suite: &Suite, label: &[u8], hash: &Hash) -> Result<Secret, Error> {
        self.expand(suite, label, hash.as_bytes())
    }

    /// HKDF-Expand-Label(self, label, context, Hash.length). Fails for a
    /// label over 249 bytes or a context over 255.
    pub fn expand(&self, suite: &Suite, label: &[u8], context: &[u8]) -> Result<Secret, Error> {
        expand_prk(&self.prk(suite.hkdf), suite, label, context)
    }

    /// The next traffic secret on KeyUpdate (RFC 8446 §7.2).
    pub fn next_traffic_secret(&self, suite: &Suite) -> Result<Secret, Error> {
        self.expand(suite, b"traffic upd", &[])
    }

    /// finished_key = HKDF-Expand-Label(self, "finished", "", Hash.length)
    /// (RFC 8446 §4.4.4).
    pub fn finished_key(&self, suite: &Suite) -> Result<Secret, Error> {
        self.expand(suite, b"finished", &[])
    }

    /// HMAC(self, hash): verify_data when `self` is a finished key.
    pub fn hmac(&self, suite: &Suite, hash: &Hash) -> Hash {
        let tag = hmac::sign(
            &hmac::Key::new(suite.hmac, self.as_bytes()),
            hash.as_bytes(),
        );
        Hash::from_bytes(tag.as_ref())
    }

    /// verify_data of a Finished message keyed by this traffic secret over
    /// `hash` (RFC 8446 §4.4.4).
    pub fn finished_mac(&self, suite: &Suite, hash: &Hash) -> Result<Hash, Error> {
        Ok(self.finished_key(suite)?.hmac(suite, hash))
    }

    /// Checks `verify_data` against this secret's Finished MAC, in constant
    /// time (ring's HMAC verification).
    pub fn verify_finished(
        &self,
        suite: &Suite,
        hash: &Hash,
        verify_data: &[u8],
    ) -> Result<bool, Error> {
        let finished_key = self.finished_key(suite)?;
        Ok(hmac::verify(
            &hmac::Key::new(suite.hmac, finished_key.as_bytes()),
            hash.as_bytes(),
            verify_data,
        )
        .is_ok())
    }
}

/// binder_key = Derive-Secret(Early Secret(`psk`), "res binder", "")
/// (RFC 8446 §7.1). A PSK binder is its Finished-style MAC
/// ([`Secret::finished_mac`]) over the transcript hash of the ClientHello
/// cut before its binder list.
pub fn binder_key(suite: &Suite, psk: &[u8]) -> Result<Secret, Error> {
    EarlySecret::new(suite, Some(psk))?
        .secret()
        .derive(suite, b"res binder", &Hash::empty(suite))
}

/// TLS-Exporter(`label`, `context`, `out.len()`) from an exporter master
/// secret (RFC 8446 §7.5), the early one or the one after the handshake:
/// an absent context and an empty one give the same output. Fails with
/// [`Misuse::BadConfig`](crate::Misuse::BadConfig) for a label over 249
/// bytes or more than 255 hash lengths of output.
pub fn export(
    exporter: &Secret,
    suite: &Suite,
    out: &mut [u8],
    label: &[u8],
    context: Option<&[u8]>,
) -> Result<(), Error> {
    // HKDF-Expand-Label takes labels of at most 249 bytes ("tls13 "
    // makes 255) and outputs of at most 255 hash lengths.
    const RANGE: crate::Misuse = crate::Misuse::BadConfig("exporter label or length out of range");
    if label.len() > 249 || out.len() > suite.hash_len.saturating_mul(255) {
        return Err(RANGE.into());
    }
    let derived = exporter.derive(suite, label, &Hash::empty(suite))?;
    let context_hash = Hash::of(suite, context.unwrap_or(&[]));
    hkdf_expand_label(
        &derived.prk(suite.hkdf),
        b"exporter",
        context_hash.as_bytes(),
        out,
    )
    .map_err(|_| RANGE.into())
}

/// The TLS 1.3 key schedule (RFC 8446 §7.1), one stage at a time. Each
/// stage consumes the previous one, so a secret cannot be used out of order.
pub struct EarlySecret {
    secret: Secret,
    /// Made without a PSK: the schedule's fixed values apply.
    fixed: bool,
}
/// See [`EarlySecret`].
pub struct HandshakeSecret(Secret);
/// See [`EarlySecret`].
pub struct MasterSecret(Secret);

impl EarlySecret {
    /// Early Secret = HKDF-Extract(0, PSK), with an all-zero PSK when none
    /// (whose result is a constant of the hash).
    pub fn new(suite: &Suite, psk: Option<&[u8]>) -> Result<Self, Error> {
        Ok(match psk {
            Some(psk) => Self {
                secret: extract(suite, Secret::zero(suite)?.as_bytes(), psk)?,
                fixed: false,
            },
            None => Self {
                secret: Secret::new(fixed(suite).early).ok_or(DERIVATION)?,
                fixed: true,
            },
        })
    }

    /// The early secret's bytes (binder and 0-RTT keys derive from it).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// client_early_traffic_secret and early_exporter_master_secret over
    /// the transcript hash of the ClientHello (RFC 8446 §7.1): the keys of
    /// 0-RTT data and its exporter. Made only from a PSK.
    pub fn early_secrets(&self, suite: &Suite, hello: &Hash) -> Result<(Secret, Secret), Error> {
        if self.fixed {
            return Err(DERIVATION);
        }
        let prk = self.secret.prk(suite.hkdf);
        Ok((
            expand_prk(&prk, suite, b"c e traffic", hello.as_bytes())?,
            expand_prk(&prk, suite, b"e exp master", hello.as_bytes())?,
        ))
    }

    /// Handshake Secret = HKDF-Extract(Derive-Secret(., "derived", ""), (EC)DHE).
    pub fn into_handshake(self, suite: &Suite, shared: &[u8]) -> Result<HandshakeSecret, Error> {
        // Without a PSK the salt is a constant too: no secret is compared
        // to find that out.
        let salt = if self.fixed {
            Secret::new(fixed(suite).derived).ok_or(DERIVATION)?
        } else {
            self.secret.derive(suite, b"derived", &Hash::empty(suite))?
        };
        Ok(HandshakeSecret(extract(suite, salt.as_bytes(), shared)?))
    }
}

impl HandshakeSecret {
    /// client_handshake_traffic_secret and server_handshake_traffic_secret
    /// over the transcript through ServerHello.
    pub fn traffic_secrets(&self, suite: &Suite, hash: &Hash) -> Result<(Secret, Secret), Error> {
        let prk = self.0.prk(suite.hkdf);
        Ok((
            expand_prk(&prk, suite, b"c hs traffic", hash.as_bytes())?,
            expand_prk(&prk, suite, b"s hs traffic", hash.as_bytes())?,
        ))
    }

    /// Master Secret = HKDF-Extract(Derive-Secret(., "derived", ""), 0).
    pub fn into_master(self, suite: &Suite) -> Result<MasterSecret, Error> {
        let salt = self.0.derive(suite, b"derived", &Hash::empty(suite))?;
        let zeros = Secret::zero(suite)?;
        Ok(MasterSecret(extract(
            suite,
            salt.as_bytes(),
            zeros.as_bytes(),
        )?))
    }
}

impl MasterSecret {
    /// client_application_traffic_secret_0, server_application_traffic_secret_0
    /// and exporter_master_secret over the transcript through server Finished.
    pub fn application_secrets(
        &self,
        suite: &Suite,
        hash: &Hash,
    ) -> Result<(Secret, Secret, Secret), Error> {
        let prk = self.0.prk(suite.hkdf);
        Ok((
            expand_prk(&prk, suite, b"c ap traffic", hash.as_bytes())?,
            expand_prk(&prk, suite, b"s ap traffic", hash.as_bytes())?,
            expand_prk(&prk, suite, b"exp master", hash.as_bytes())?,
        ))
    }

    /// resumption_master_secret over the transcript through client Finished.
    pub fn resumption_secret(&self, suite: &Suite, hash: &Hash) -> Result<Secret, Error> {
        self.0.derive(suite, b"res master", hash)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::record::suite::{TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384};

    #[test]
    fn fixed_values_are_what_the_schedule_computes() {
        for suite in [&TLS13_AES_128_GCM_SHA256, &TLS13_AES_256_GCM_SHA384] {
            let f = fixed(suite);
            assert_eq!(f.empty, digest::digest(suite.hash, b"").as_ref());
            let zeros = Secret::zero(suite).unwrap();
            let early = extract(suite, zeros.as_bytes(), zeros.as_bytes()).unwrap();
            assert_eq!(f.early, early.as_bytes());
            let hash = Hash::from_digest(digest::digest(suite.hash, b""));
            let derived = early.derive(suite, b"derived", &hash).unwrap();
            assert_eq!(f.derived, derived.as_bytes());
        }
    }

    #[test]
    fn a_refused_label_is_an_error_not_a_secret() {
        let suite = &TLS13_AES_128_GCM_SHA256;
        let s = Secret::new(&[7; 32]).unwrap();
        assert!(s.expand(suite, &[b'x'; 243], &[]).is_ok());
        assert_eq!(s.expand(suite, &[b'x'; 250], &[]).err(), Some(DERIVATION));
        assert_eq!(s.expand(suite, b"l", &[0; 256]).err(), Some(DERIVATION));
    }

    #[test]
    fn a_secret_wipes_itself() {
        let mut s = Secret::new(&[7; 48]).unwrap();
        s.zeroize();
        assert_eq!(s.bytes, [0; MAX_HASH_LEN]);
        assert!(s.as_bytes().is_empty());
    }
}
