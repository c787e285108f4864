//! Settings and outcomes of the engine: what a caller configures, and what
//! every call answers.

use crate::error::{Error, Misuse};
use crate::record::MAX_PLAINTEXT;

/// Consecutive records that deliver nothing (empty application data,
/// ignored warning alerts) accepted before the peer is cut off with
/// `unexpected_message`. OpenSSL uses the same bound (MAX_EMPTY_RECORDS).
pub const MAX_EMPTY_RECORDS: u8 = 32;

/// The smallest receive limit a peer may be asked for (RFC 8449 §4).
pub const MIN_RECV_FRAGMENT: usize = 64;

/// When `write` reports success (`SSL_MODE_ENABLE_PARTIAL_WRITE` or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteMode {
    /// `Done(n)` only once all `n` bytes are sealed; until then the call
    /// answers `WantWrite` and remembers how far it got. OpenSSL's default.
    #[default]
    Complete,
    /// `Done(n)` as soon as one record is sealed, `n` being its content
    /// length. Like `SSL_MODE_ENABLE_PARTIAL_WRITE`.
    Partial,
}

/// How sent records are padded (RFC 8446 §5.4). Padding hides lengths at
/// the cost of bandwidth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Padding {
    /// No padding.
    #[default]
    None,
    /// Pad each inner plaintext (content + type byte) up to a multiple of
    /// this many bytes, within the record size limit. 0 and 1 mean none.
    ToMultiple(u16),
    /// Pad every record to the largest size it may have.
    Max,
}

/// Settings of the record layer. `Default` gives full-size records, no
/// padding, complete writes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordConfig {
    /// When `write` reports success.
    pub write_mode: WriteMode,
    /// Largest content per sent record: 1 to 2^14 (default 2^14). A smaller
    /// outgoing view makes records smaller still.
    pub max_fragment_len: usize,
    /// Largest content per received record: 64 to 2^14 (default 2^14).
    /// The handshake advertises it as record_size_limit (RFC 8449), and
    /// it binds a peer that answers with its own: larger records from it
    /// are refused with `record_overflow`, and a received view of
    /// [`recv_buffer_len`](Self::recv_buffer_len) holds any record it may
    /// send. A peer that does not speak RFC 8449 (OpenSSL 3.0, rustls)
    /// never learns the limit and may send 2^14, which is legal: a view
    /// too small for such a record answers
    /// [`Misuse::RecvBufferTooSmall`] with the size it needs, and the
    /// connection goes on once the view is larger
    /// ([`RecvBuf::move_to`](crate::RecvBuf::move_to)). Before the peer's
    /// answer (its first flight) the same holds.
    pub recv_max_fragment_len: usize,
    /// Padding of sent records.
    pub padding: Padding,
    /// Replace the sending key with a KeyUpdate before it comes within
    /// [`AUTO_KEY_UPDATE_MARGIN`] records of its usage limit (default on).
    /// Off, the connection closes with [`Error::KeyExhausted`] instead.
    pub auto_key_update: bool,
}

/// Records before a key's usage limit at which the engine sends a
/// KeyUpdate on its own: 2^16, far from AES-GCM's 2^24.5 and leaving a
/// margin for records already queued.
pub const AUTO_KEY_UPDATE_MARGIN: u64 = 1 << 16;

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            write_mode: WriteMode::Complete,
            max_fragment_len: MAX_PLAINTEXT,
            recv_max_fragment_len: MAX_PLAINTEXT,
            padding: Padding::None,
            auto_key_update: true,
        }
    }
}

impl RecordConfig {
    pub(super) fn check(&self) -> Result<(), Error> {
        if !(1..=MAX_PLAINTEXT).contains(&self.max_fragment_len) {
            return Err(Misuse::BadConfig("max_fragment_len must be 1..=16384").into());
        }
        if !(MIN_RECV_FRAGMENT..=MAX_PLAINTEXT).contains(&self.recv_max_fragment_len) {
            return Err(Misuse::BadConfig("recv_max_fragment_len must be 64..=16384").into());
        }
        Ok(())
    }

    /// The most content a TLS 1.2 peer may put in a record: a ClientHello
    /// that offers TLS 1.3 too announces TLS 1.3's limit, which counts
    /// the content type byte (limit + 1), and a TLS 1.2 server reads it
    /// as content (RFC 8449 §4): one byte more than
    /// `recv_max_fragment_len`, within 2^14. (A TLS 1.2-only ClientHello
    /// and a server announce the limit itself, and are held to it.)
    pub(crate) fn tls12_recv_limit(&self) -> usize {
        self.recv_max_fragment_len
            .saturating_add(1)
            .min(MAX_PLAINTEXT)
    }

    /// Capacity the received view needs to hold any record a peer that
    /// agreed to [`recv_max_fragment_len`](Self::recv_max_fragment_len)
    /// may send, in either version (a TLS 1.2 AES-GCM record adds 29
    /// bytes to its content, a TLS 1.3 record 22).
    pub fn recv_buffer_len(&self) -> usize {
        crate::record::max_record_len_any(self.tls12_recv_limit())
    }
}

/// What a call did, or what it needs before it can go on.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status<T> {
    /// The call made progress; see the method for what `T` is.
    Done(T),
    /// No whole record is available: add received bytes, call again.
    WantRead,
    /// The outgoing view lacks room for the next record: drain it until
    /// `needed` bytes are free (never more than its capacity), call again.
    WantWrite {
        /// Free bytes the next record needs.
        needed: usize,
    },
    /// The peer sent close_notify: it will send nothing more.
    Closed,
    /// The handshake waits for our [`Signer`](crate::sign::Signer), which
    /// answered [`Signing::Pending`](crate::sign::Signing::Pending). What
    /// the handshake wrote so far is in the outgoing view: send it. Call
    /// again once the signer has the signature (any call drives the
    /// handshake: `handshake`, `read`, `write`).
    SignaturePending,
    /// The handshake completed in this call, and the call did nothing
    /// more: the peer is authenticated and
    /// [`negotiated`](super::Connection::negotiated) is set. Call again to
    /// carry data (plaintext may already wait in the received view).
    /// `read`, `read_in_place`, `write`, `write_vectored` and `reserve`
    /// answer it once per handshake, from the call that completes it;
    /// [`handshake`](super::Connection::handshake) answers `Done(())`
    /// instead, and a connection built from secrets never answers it.
    Established,
}

/// What became of a client's 0-RTT data
/// ([`Connection::early_data`](super::Connection::early_data)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EarlyData {
    /// None was offered.
    NotOffered,
    /// Offered: the server has not answered yet, and
    /// [`write_early`](super::Connection::write_early) may seal more.
    Offered,
    /// The server took it: every byte `write_early` sealed is delivered,
    /// once, as early data (which an attacker may replay to the server).
    Accepted,
    /// The server declined it (in TLS 1.3: a server that answers with TLS
    /// 1.2 cannot skip it, and fails the handshake with
    /// [`PeerIncompatible::Tls12AfterEarlyData`](crate::PeerIncompatible::Tls12AfterEarlyData)):
    /// none of it is delivered. Send those bytes again with `write` once
    /// the handshake completes (all of them:
    /// [`early_data_sent`](super::Connection::early_data_sent)); the
    /// engine resends nothing by itself.
    Rejected,
}

/// How far [`Connection::shutdown`](super::Connection::shutdown) got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shutdown {
    /// Our close_notify is in the outgoing view; the peer's has not come.
    Sent,
    /// Both close_notify alerts have been exchanged.
    Complete,
}

impl<T> Status<T> {
    /// Maps the `Done` value, keeping the other outcomes.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Status<U> {
        match self {
            Self::Done(t) => Status::Done(f(t)),
            Self::WantRead => Status::WantRead,
            Self::WantWrite { needed } => Status::WantWrite { needed },
            Self::Closed => Status::Closed,
            Self::SignaturePending => Status::SignaturePending,
            Self::Established => Status::Established,
        }
    }
}
