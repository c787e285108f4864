//! The TLS 1.3 record layer (RFC 8446 §5): framing, deframing and AEAD
//! protection, working in place on bytes the caller owns.
//!
//! A protected record on the wire:
//!
//! ```text
//!  0      1      3      5                                   5+len
//!  +------+------+------+-----------------------------------+
//!  | type | vers | len  | encrypted TLSInnerPlaintext | tag |
//!  +------+------+------+-----------------------------------+
//!    23    0x0303          content | ctype | zeros    16 B
//! ```
//!
//! The record layer never owns a byte of it: [`protect`] seals a record
//! whose payload the engine has already placed in the outgoing view, and
//! opens a record where it lies in the received view.

pub mod protect;
pub mod suite;

use crate::error::{Error, InvalidMessage, PeerMisbehaved};
use crate::wire::{ContentType, ProtocolVersion};

/// Bytes in a record header: type (1), legacy_record_version (2), length (2).
pub const HEADER_LEN: usize = 5;

/// Largest plaintext a record may carry: 2^14 bytes (RFC 8446 §5.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;

/// Largest ciphertext the RFC lets a record carry: 2^14 + 256 bytes
/// (RFC 8446 §5.2).
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 256;

/// AEAD tag length of every TLS 1.3 suite.
pub const TAG_LEN: usize = 16;

/// Bytes a protected record adds around its content when it has no padding:
/// header (5) + inner content type (1) + tag (16) = 22.
pub const RECORD_OVERHEAD: usize = HEADER_LEN + 1 + TAG_LEN;

/// Largest protected record, header included, for a given plaintext limit:
/// the inner plaintext may not exceed the limit + 1 (RFC 8446 §5.2), and
/// every supported AEAD adds a 16-byte tag.
pub const fn max_record_len(max_plaintext: usize) -> usize {
    // Saturates for an absurd limit: no record is that long anyway.
    max_plaintext.saturating_add(RECORD_OVERHEAD)
}

/// Bytes a TLS 1.2 AES-GCM record adds around its content: header (5),
/// explicit nonce (8), tag (16) = 29, the most of any record we speak.
pub const TLS12_MAX_RECORD_OVERHEAD: usize = HEADER_LEN + 8 + TAG_LEN;

/// Largest protected record of either version, header included, for a
/// given plaintext limit: a TLS 1.2 AES-GCM record's 29 bytes around it
/// (a TLS 1.3 record's 22 are fewer).
pub const fn max_record_len_any(max_plaintext: usize) -> usize {
    max_plaintext.saturating_add(TLS12_MAX_RECORD_OVERHEAD)
}

/// Largest protected record on the wire: 16,384 + 29 = 16,413 bytes, a
/// full TLS 1.2 AES-GCM record (a full TLS 1.3 record is 16,406).
///
/// A received view this large holds any record a peer may send. (The RFC's
/// 2^14 + 256 ciphertext bound is looser, but with a 16-byte tag anything
/// past 2^14 + 17 breaks the 2^14 + 1 inner-plaintext bound of TLS 1.3, and
/// a TLS 1.2 AEAD record's content is at most 2^14 too, so such records
/// are refused on their header.) An outgoing view this large never
/// splits a write into records smaller than the configured fragment size.
pub const MAX_RECORD_LEN: usize = max_record_len_any(MAX_PLAINTEXT);

/// The smallest outgoing view that can carry every record the engine may
/// have to send once established: a KeyUpdate, 22 + 4 + 1 = 27 bytes (an
/// alert needs 24, a one-byte data record 23). Fuzzing found a 24-byte
/// view waiting forever on a KeyUpdate reply.
pub const MIN_SEND_CAPACITY: usize = RECORD_OVERHEAD + 5;

/// The smallest outgoing view a TLS 1.2 connection can use once
/// established: an alert record under AES-GCM, 29 + 2 = 31 bytes (a
/// one-byte data record needs 30). The fuzzed invariance test found a
/// 27-byte view asked for 30.
pub const TLS12_MIN_SEND_CAPACITY: usize = TLS12_MAX_RECORD_OVERHEAD + 2;

/// A parsed record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The outer content type.
    pub content_type: ContentType,
    /// legacy_record_version.
    pub version: ProtocolVersion,
    /// Length of the fragment that follows.
    pub len: usize,
}

impl Header {
    /// Parses the first five bytes of `bytes`; `None` if fewer are there.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        match *bytes {
            [ty, v0, v1, l0, l1, ..] => Some(Self {
                content_type: ContentType(ty),
                version: ProtocolVersion(u16::from_be_bytes([v0, v1])),
                len: usize::from(u16::from_be_bytes([l0, l1])),
            }),
            _ => None,
        }
    }

    /// The whole record's length, header included. Fails only where
    /// `usize` cannot hold it (16-bit targets), as a record too large.
    pub(crate) fn record_len(&self) -> Result<usize, Error> {
        HEADER_LEN
            .checked_add(self.len)
            .ok_or(Error::InvalidMessage(InvalidMessage::RecordTooLarge {
                len: self.len,
                max: usize::MAX - HEADER_LEN,
            }))
    }

    /// The wire encoding.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let [v0, v1] = self.version.0.to_be_bytes();
        // Lengths above u16::MAX never reach here: callers bound them by
        // MAX_CIPHERTEXT first.
        let [l0, l1] = u16::try_from(self.len).unwrap_or(u16::MAX).to_be_bytes();
        [self.content_type.0, v0, v1, l0, l1]
    }

    /// Checks a header that must introduce a protected record whose
    /// plaintext may not exceed `max_plaintext` bytes.
    ///
    /// This runs as soon as five bytes are in, before the body arrives, so a
    /// hostile length never makes the engine wait for bytes it will refuse.
    pub fn check_protected(&self, max_plaintext: usize) -> Result<(), Error> {
        // RFC 8446 §5.2: every protected record is application_data outside.
        if self.content_type != ContentType::APPLICATION_DATA {
            return Err(PeerMisbehaved::UnexpectedContentType(self.content_type).into());
        }
        // RFC 8446 §5.2 caps the ciphertext at 2^14 + 256 and the inner
        // plaintext (content, type, padding) at 2^14 + 1. With a 16-byte tag
        // the second bound is the tighter, so it is checked here, on the
        // header, against the configured receive limit.
        // `max_record_len` is at least RECORD_OVERHEAD > HEADER_LEN.
        let max = max_record_len(max_plaintext).saturating_sub(HEADER_LEN);
        if self.len > max {
            return Err(InvalidMessage::RecordTooLarge { len: self.len, max }.into());
        }
        if self.version != ProtocolVersion::TLS1_2 {
            return Err(InvalidMessage::BadRecordVersion(self.version.0).into());
        }
        if self.len < TAG_LEN + 1 {
            return Err(InvalidMessage::RecordTooShort.into());
        }
        Ok(())
    }
}

/// Splits off the first whole record of `bytes`.
///
/// Returns `Ok(None)` when the header or the body is still incomplete (a
/// record may arrive one byte at a time), and the header with the record's
/// total length otherwise. The header is checked with
/// [`Header::check_protected`] as soon as it is complete.
pub fn deframe(bytes: &[u8], max_plaintext: usize) -> Result<Option<(Header, usize)>, Error> {
    let Some(header) = Header::parse(bytes) else {
        return Ok(None);
    };
    header.check_protected(max_plaintext)?;
    let total = header.record_len()?;
    Ok((bytes.len() >= total).then_some((header, total)))
}
