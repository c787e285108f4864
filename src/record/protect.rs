//! AEAD protection of one direction of records (RFC 8446 §5.2–§5.5).
//!
//! A [`RecordKey`] holds one traffic secret and what is derived from it: the
//! AEAD key, the static IV and the sequence number. It seals and opens in
//! place; the bytes it works on always belong to the caller's views.

use ring::aead;
use zeroize::Zeroize;

use super::suite::Suite;
use super::{Header, HEADER_LEN, TAG_LEN};
use crate::error::{Error, PeerMisbehaved};
use crate::key_schedule::{hkdf_expand_label, Secret};
use crate::wire::{ContentType, ProtocolVersion};

/// Per-record nonce length of every TLS 1.3 suite.
pub const IV_LEN: usize = aead::NONCE_LEN;

/// Longest AEAD key of the supported suites (AES-256, ChaCha20).
const MAX_KEY_LEN: usize = 32;

/// One direction's record protection state. The traffic secret and the IV
/// are wiped on drop; ring's AEAD key schedule inside `LessSafeKey` is not
/// (ring offers no way to), see docs/security.md.
pub struct RecordKey {
    key: aead::LessSafeKey,
    iv: [u8; IV_LEN],
    seq: u64,
    suite: &'static Suite,
    /// Kept to derive the next generation on KeyUpdate (RFC 8446 §7.2).
    secret: Secret,
}

impl RecordKey {
    /// Derives the key and IV from `secret` (RFC 8446 §7.3) and starts at
    /// sequence number 0. `None` if `secret` is not the suite's hash length.
    pub fn new(suite: &'static Suite, secret: &[u8]) -> Option<Self> {
        if secret.len() != suite.hash_len {
            return None;
        }
        let secret = Secret::new(secret)?;
        let prk = secret.prk(suite.hkdf);
        let mut key_bytes = zeroize::Zeroizing::new([0u8; MAX_KEY_LEN]);
        let key = key_bytes.get_mut(..suite.key_len())?;
        hkdf_expand_label(&prk, b"key", &[], key).ok()?;
        let mut iv = [0u8; IV_LEN];
        if hkdf_expand_label(&prk, b"iv", &[], &mut iv).is_err() {
            iv.zeroize();
            return None;
        }
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(suite.aead, key).ok()?);
        Some(Self {
            key,
            iv,
            seq: 0,
            suite,
            secret,
        })
    }

    /// The key that follows this one on KeyUpdate (RFC 8446 §7.2), at
    /// sequence number 0.
    pub fn next(&self) -> Result<Self, Error> {
        let next = self.secret.next_traffic_secret(self.suite)?;
        Self::new(self.suite, next.as_bytes()).ok_or(Error::Internal("KeyUpdate derivation"))
    }

    /// The suite this key belongs to.
    pub fn suite(&self) -> &'static Suite {
        self.suite
    }

    /// The traffic secret this key was derived from.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The sequence number the next record will use.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// The static IV (exposed for known-answer tests).
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// Test hook: sets the next sequence number (one call can reuse a
    /// nonce, so only test builds have it).
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn set_sequence(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Records this key may still seal, the one kept for a closing alert
    /// included: the suite's usage limit (RFC 8446 §5.5) or the end of the
    /// sequence space, whichever comes first.
    pub fn records_left(&self) -> u64 {
        self.suite.max_records.saturating_sub(self.seq)
    }

    /// The per-record nonce: the IV XORed with the sequence number, padded
    /// on the left (RFC 8446 §5.3).
    fn nonce(&self) -> aead::Nonce {
        let mut nonce = self.iv;
        for (n, s) in nonce
            .iter_mut()
            .rev()
            .zip(self.seq.to_be_bytes().iter().rev())
        {
            *n ^= s;
        }
        aead::Nonce::assume_unique_for_key(nonce)
    }

    /// Seals the record that fills `record`.
    ///
    /// On entry `record[HEADER_LEN..][..content_len]` holds the content; the
    /// rest of `record` is header, content type, zero padding and tag space,
    /// so `record.len() = HEADER_LEN + content_len + 1 + padding + TAG_LEN`.
    /// On return `record` is the protected record, ready for the wire.
    ///
    /// Fails with [`Error::KeyExhausted`] when no sequence number is left:
    /// a nonce is never reused.
    pub fn seal(
        &mut self,
        content_type: ContentType,
        content_len: usize,
        record: &mut [u8],
    ) -> Result<(), Error> {
        if self.records_left() == 0 {
            return Err(Error::KeyExhausted);
        }
        const BAD_LAYOUT: Error = Error::Internal("record layout");
        let body_len = record.len().checked_sub(HEADER_LEN).ok_or(BAD_LAYOUT)?;
        let inner_len = body_len.checked_sub(TAG_LEN).ok_or(BAD_LAYOUT)?;
        let header = Header {
            content_type: ContentType::APPLICATION_DATA,
            version: ProtocolVersion::TLS1_2,
            len: body_len,
        }
        .encode();
        let (head, rest) = record.split_at_mut(HEADER_LEN);
        let (inner, tag_out) = rest.split_at_mut(inner_len);
        head.copy_from_slice(&header);
        let (ty, padding) = inner
            .get_mut(content_len..)
            .and_then(|tail| tail.split_first_mut())
            .ok_or(BAD_LAYOUT)?;
        *ty = content_type.0;
        padding.fill(0);
        let nonce = self.nonce();
        // Cannot fail: `records_left() > 0` above means `seq < max_records`.
        self.seq = self.seq.checked_add(1).ok_or(Error::KeyExhausted)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, aead::Aad::from(header), inner)
            .map_err(|_| BAD_LAYOUT)?;
        tag_out.copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// Opens, in place, the whole protected record `record` (header
    /// included, already checked by [`Header::check_protected`]).
    ///
    /// Returns the inner content type and the content length; the content
    /// is then at `record[HEADER_LEN..][..len]`, followed by the content
    /// type, padding and the dead tag bytes.
    pub fn open(&mut self, record: &mut [u8]) -> Result<(ContentType, usize), Error> {
        if self.seq == u64::MAX {
            return Err(PeerMisbehaved::PeerSequenceExhausted.into());
        }
        let nonce = self.nonce();
        let Some((head, body)) = record.split_at_mut_checked(HEADER_LEN) else {
            return Err(PeerMisbehaved::BadRecordMac.into());
        };
        let aad = aead::Aad::from(&*head);
        let plain = self
            .key
            .open_in_place(nonce, aad, body)
            .map_err(|_| PeerMisbehaved::BadRecordMac)?;
        // Cannot fail: `seq < u64::MAX` was checked above.
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(PeerMisbehaved::PeerSequenceExhausted)?;
        // RFC 8446 §5.4: the content type is the last non-zero byte.
        let len = plain
            .iter()
            .rposition(|&b| b != 0)
            .ok_or(PeerMisbehaved::NoContentType)?;
        let ty = plain.get(len).copied().unwrap_or(0);
        Ok((ContentType(ty), len))
    }
}

impl core::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordKey")
            .field("suite", &self.suite.id)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}
impl Drop for RecordKey {
    fn drop(&mut self) {
        // The secret wipes itself.
        self.iv.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for RecordKey {}
