//! HKDF-Expand-Label and traffic key derivation (RFC 8446 §7.1, §7.3).
//!
//! The handshake's full key schedule grows here; for now it holds what the
//! record layer needs to turn a traffic secret into a key and an IV, and what
//! KeyUpdate needs to derive the next secret.

use ring::hkdf;

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
