//! AEAD protection of one direction of records: TLS 1.3's (RFC 8446
//! §5.2–§5.5) and TLS 1.2's (RFC 5246 §6.2.3.3, RFC 5288, RFC 7905).
//!
//! A [`RecordKey`] holds one traffic secret and what is derived from it: the
//! AEAD key, the static IV and the sequence number. It seals and opens in
//! place; the bytes it works on always belong to the caller's views.
//!
//! The two versions lay a record out differently:
//!
//! ```text
//! TLS 1.3:          | hdr: 23 0303 len | enc(content | type | zeros) | tag |
//! TLS 1.2 AES-GCM:  | hdr: type 0303 len | seq (explicit nonce, 8) | enc(content) | tag |
//! TLS 1.2 ChaCha20: | hdr: type 0303 len | enc(content) | tag |
//! ```
//!
//! TLS 1.2's additional data is the sequence number, the type, the
//! version and the content length (RFC 5246 §6.2.3.3); its AES-GCM nonce
//! is a 4-byte salt from the key block and the 8-byte explicit part, which
//! is the sequence number, so it never repeats under one key.

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
        if suite.is_tls12() {
            iv.zeroize();
            return None;
        }
        Some(Self {
            key,
            iv,
            seq: 0,
            suite,
            secret,
        })
    }

    /// A TLS 1.2 key from its part of the key block (RFC 5246 §6.3): the
    /// write key and the write IV (4 bytes of salt for AES-GCM, 12 for
    /// ChaCha20-Poly1305), at sequence number 0. `None` if `suite` is not
    /// a TLS 1.2 suite or a length does not fit it.
    pub fn new_tls12(suite: &'static Suite, key: &[u8], iv: &[u8]) -> Option<Self> {
        let iv_len = if suite.explicit_nonce() { 4 } else { IV_LEN };
        if !suite.is_tls12() || iv.len() != iv_len || key.len() != suite.key_len() {
            return None;
        }
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(suite.aead, key).ok()?);
        let mut fixed = [0u8; IV_LEN];
        fixed.get_mut(..iv_len)?.copy_from_slice(iv);
        Some(Self {
            key,
            iv: fixed,
            seq: 0,
            suite,
            // TLS 1.2 has no KeyUpdate: no secret to derive from.
            secret: Secret::new(&[])?,
        })
    }

    /// Bytes a record adds around its content (no padding): 22 for TLS
    /// 1.3, 29 for TLS 1.2 AES-GCM, 21 for TLS 1.2 ChaCha20-Poly1305.
    pub fn overhead(&self) -> usize {
        self.suite.record_overhead()
    }

    /// Whether this is a TLS 1.2 key.
    pub fn is_tls12(&self) -> bool {
        self.suite.is_tls12()
    }

    /// Checks the header of a record this key is to open, as soon as its
    /// five bytes are in: [`Header::check_protected`] for TLS 1.3; for
    /// TLS 1.2 a handshake, alert, application-data or (a renegotiation's)
    /// change_cipher_spec record of version 0x0303 whose body holds the
    /// nonce and the tag and whose content is at most `max_plaintext`
    /// bytes. (Where a protected change_cipher_spec may come is the
    /// connection's to say.)
    pub fn check_header(&self, header: &Header, max_plaintext: usize) -> Result<(), Error> {
        if !self.is_tls12() {
            return header.check_protected(max_plaintext);
        }
        let ty = header.content_type;
        if ty != ContentType::APPLICATION_DATA
            && ty != ContentType::HANDSHAKE
            && ty != ContentType::ALERT
            && ty != ContentType::CHANGE_CIPHER_SPEC
        {
            return Err(PeerMisbehaved::UnexpectedContentType(ty).into());
        }
        let extra = self.overhead().saturating_sub(HEADER_LEN);
        let max = max_plaintext.saturating_add(extra);
        if header.len > max {
            return Err(crate::error::InvalidMessage::RecordTooLarge {
                len: header.len,
                max,
            }
            .into());
        }
        if header.version != ProtocolVersion::TLS1_2 {
            return Err(crate::error::InvalidMessage::BadRecordVersion(header.version.0).into());
        }
        if header.len < extra {
            return Err(crate::error::InvalidMessage::RecordTooShort.into());
        }
        Ok(())
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

    /// The same key at sequence number `seq`, for a key kept as its
    /// secret between calls (0-RTT) and made again where it stopped: the
    /// caller counts the records it sealed.
    pub(crate) fn resumed_at(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
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
        if self.is_tls12() {
            return self.seal_tls12(content_type, content_len, record);
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

    /// TLS 1.2's seal: `record` is header, explicit nonce (AES-GCM),
    /// content and tag, the content already in place after the nonce
    /// (at [`content_offset`](Self::content_offset)); no padding.
    fn seal_tls12(
        &mut self,
        content_type: ContentType,
        content_len: usize,
        record: &mut [u8],
    ) -> Result<(), Error> {
        const BAD_LAYOUT: Error = Error::Internal("record layout");
        let explicit = self.content_offset().saturating_sub(HEADER_LEN);
        if record.len() != self.overhead().saturating_add(content_len) {
            return Err(BAD_LAYOUT);
        }
        let body_len = record.len().saturating_sub(HEADER_LEN);
        let seq = self.seq.to_be_bytes();
        let nonce = self.nonce_tls12();
        let header = Header {
            content_type,
            version: ProtocolVersion::TLS1_2,
            len: body_len,
        }
        .encode();
        let aad = aad_tls12(&seq, content_type, content_len);
        let (head, rest) = record.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&header);
        let (nonce_out, rest) = rest.split_at_mut(explicit);
        nonce_out.copy_from_slice(seq.get(..explicit).unwrap_or(&[]));
        let (inner, tag_out) = rest.split_at_mut(content_len);
        self.seq = self.seq.checked_add(1).ok_or(Error::KeyExhausted)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), inner)
            .map_err(|_| BAD_LAYOUT)?;
        tag_out.copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// Where a record's content starts: after the header, and for TLS 1.2
    /// AES-GCM after the explicit nonce too.
    pub fn content_offset(&self) -> usize {
        if self.suite.explicit_nonce() {
            HEADER_LEN + 8
        } else {
            HEADER_LEN
        }
    }

    /// TLS 1.2's per-record nonce: the 4-byte salt and the sequence
    /// number (AES-GCM, whose explicit part we choose to be the sequence
    /// number), or the IV XORed with it (ChaCha20-Poly1305), which is
    /// the TLS 1.3 construction.
    fn nonce_tls12(&self) -> aead::Nonce {
        if !self.suite.explicit_nonce() {
            return self.nonce();
        }
        let mut nonce = self.iv;
        if let Some(tail) = nonce.get_mut(4..) {
            tail.copy_from_slice(&self.seq.to_be_bytes());
        }
        aead::Nonce::assume_unique_for_key(nonce)
    }

    /// TLS 1.2's open: returns the header's content type and the content
    /// length; the content is then at
    /// `record[content_offset()..][..len]`, followed by the dead tag.
    fn open_tls12(&mut self, record: &mut [u8]) -> Result<(ContentType, usize), Error> {
        let offset = self.content_offset();
        let header = Header::parse(record).ok_or(PeerMisbehaved::BadRecordMac)?;
        let content_len = record
            .len()
            .checked_sub(self.overhead())
            .ok_or(PeerMisbehaved::BadRecordMac)?;
        let nonce = if self.suite.explicit_nonce() {
            // The peer's explicit nonce, whatever it chose (RFC 5288 §3).
            let mut nonce = self.iv;
            let explicit = record.get(HEADER_LEN..offset).unwrap_or(&[]);
            if let Some(tail) = nonce.get_mut(4..) {
                tail.copy_from_slice(explicit);
            }
            aead::Nonce::assume_unique_for_key(nonce)
        } else {
            self.nonce()
        };
        let seq = self.seq.to_be_bytes();
        let aad = aad_tls12(&seq, header.content_type, content_len);
        let body = record
            .get_mut(offset..)
            .ok_or(PeerMisbehaved::BadRecordMac)?;
        self.key
            .open_in_place(nonce, aead::Aad::from(aad), body)
            .map_err(|_| PeerMisbehaved::BadRecordMac)?;
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(PeerMisbehaved::PeerSequenceExhausted)?;
        Ok((header.content_type, content_len))
    }

    /// Opens, in place, the whole protected record `record` (header
    /// included, already checked by [`check_header`](Self::check_header)).
    ///
    /// Returns the content type and the content length; the content is
    /// then at `record[content_offset()..][..len]`, followed (TLS 1.3) by
    /// the content type, padding and the dead tag bytes.
    pub fn open(&mut self, record: &mut [u8]) -> Result<(ContentType, usize), Error> {
        if self.seq == u64::MAX {
            return Err(PeerMisbehaved::PeerSequenceExhausted.into());
        }
        if self.is_tls12() {
            return self.open_tls12(record);
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

/// TLS 1.2's additional data (RFC 5246 §6.2.3.3): seq_num, type,
/// version, length.
fn aad_tls12(seq: &[u8; 8], ty: ContentType, len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    let [v0, v1] = ProtocolVersion::TLS1_2.0.to_be_bytes();
    // A record's content is at most 2^14 + 2048 bytes: it fits.
    let [l0, l1] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    let tail = [ty.0, v0, v1, l0, l1];
    for (slot, b) in aad.iter_mut().zip(seq.iter().chain(tail.iter())) {
        *slot = *b;
    }
    aad
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
