//! The one error type, and the alert each error puts on the wire.
//!
//! Errors fall into four families, the way a caller has to react to them:
//!
//! - the peer sent something we refuse ([`Error::InvalidMessage`],
//!   [`Error::PeerMisbehaved`]): we queue the fatal alert RFC 8446 assigns
//!   and the connection is dead;
//! - the peer told us it failed ([`Error::AlertReceived`]) or the transport
//!   ended without a close_notify ([`Error::Truncated`]): dead, no alert;
//! - a local limit ended the connection ([`Error::KeyExhausted`]): dead, a
//!   close_notify is sent with the last sequence number kept for it;
//! - the caller misused the API ([`Error::Misuse`]): nothing happened, nothing
//!   was lost, the connection carries on and the call can be corrected;
//!   where a misuse is only found inside a handshake step that cannot be
//!   undone, it ends the connection as [`Error::Aborted`].
//!
//! Every error except `Misuse` is sticky: once returned, every later call
//! returns it again and emits nothing new.

use crate::wire::{AlertDescription, ContentType, ExtensionType, HandshakeType};

/// What went wrong. See the module documentation for which are fatal.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The peer sent bytes that do not decode; the alert is sent.
    InvalidMessage(InvalidMessage),
    /// The peer sent well-formed bytes that break the protocol; the alert
    /// is sent.
    PeerMisbehaved(PeerMisbehaved),
    /// The peer cannot speak what we require; the alert is sent.
    PeerIncompatible(PeerIncompatible),
    /// The peer sent this fatal alert. Nothing is sent back.
    AlertReceived(AlertDescription),
    /// The transport reported end of stream before the peer's close_notify:
    /// the data received may have been cut short by an attacker.
    Truncated,
    /// The sending key has reached its sequence-number or AEAD usage limit.
    /// The connection was closed with a close_notify rather than wrap.
    KeyExhausted,
    /// The call was not valid; nothing changed and the connection goes on.
    Misuse(Misuse),
    /// The engine broke one of its own invariants (a bug); `internal_error`
    /// is sent.
    Internal(&'static str),
    /// We sent close_notify ([`Connection::shutdown`](crate::Connection::shutdown))
    /// while the peer still waited for a handshake flight of ours: the
    /// handshake cannot finish. Nothing more is sent.
    Abandoned,
    /// A call was invalid at a point the handshake could not come back
    /// from (a step had consumed its state): unlike [`Error::Misuse`] this
    /// is fatal and sticky, and `internal_error` is sent.
    Aborted(Misuse),
    /// We refused the peer's certificate or CertificateVerify; the alert
    /// [`CertificateError::alert`](crate::verify::CertificateError::alert)
    /// names is sent.
    Certificate(crate::verify::CertificateError),
}

/// Input that does not decode.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidMessage {
    /// A record header announced more ciphertext than is allowed
    /// (`record_overflow`).
    RecordTooLarge {
        /// The length the header announced.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// A protected record carried a legacy_record_version other than
    /// 0x0303 (`decode_error`, as OpenSSL answers).
    BadRecordVersion(u16),
    /// A protected record was too short to hold a tag and a content type
    /// (`decode_error`).
    RecordTooShort,
    /// An alert record was not exactly two bytes (`decode_error`).
    BadAlert,
    /// A handshake message did not decode (`decode_error`); names the field.
    Handshake(&'static str),
    /// A change_cipher_spec record was not the single byte 1
    /// (`unexpected_message`, RFC 8446 §5).
    BadChangeCipherSpec,
}

/// Well-formed input that the protocol forbids here.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerMisbehaved {
    /// A record failed AEAD authentication (`bad_record_mac`).
    BadRecordMac,
    /// A record of this content type is not allowed now
    /// (`unexpected_message`).
    UnexpectedContentType(ContentType),
    /// A decrypted record was all zeros: no inner content type
    /// (`unexpected_message`).
    NoContentType,
    /// A handshake or alert record carried no bytes (`unexpected_message`).
    EmptyRecord(ContentType),
    /// More consecutive empty application-data records than
    /// [`MAX_EMPTY_RECORDS`](crate::conn::MAX_EMPTY_RECORDS)
    /// (`unexpected_message`).
    TooManyEmptyRecords,
    /// A handshake message arrived that is not allowed in this state
    /// (`unexpected_message`).
    UnexpectedHandshake(HandshakeType),
    /// A handshake message was split around a key change, or other records
    /// came between its fragments (`unexpected_message`, RFC 8446 §5.1).
    HandshakeFragmentation,
    /// A handshake message longer than the configured maximum
    /// (`illegal_parameter`).
    HandshakeTooLarge {
        /// The length announced.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A field had a value the protocol forbids here (`illegal_parameter`).
    IllegalParameter(&'static str),
    /// The same extension twice in one block (`illegal_parameter`).
    DuplicateExtension(ExtensionType),
    /// An extension we did not ask for (`unsupported_extension`, RFC 8446
    /// §4.2).
    UnsolicitedExtension(ExtensionType),
    /// An extension TLS 1.3 defines, in a message it is not defined for
    /// (`illegal_parameter`, RFC 8446 §4.2).
    MisplacedExtension(ExtensionType),
    /// A required extension is missing (`missing_extension`).
    MissingExtension(ExtensionType),
    /// The server_name is not a host name: LDH labels, no trailing dot
    /// (`unrecognized_name`, RFC 6066 §3).
    BadServerName,
    /// The peer's Finished did not verify (`decrypt_error`).
    BadFinished,
    /// A PSK binder did not verify (`decrypt_error`, RFC 8446 §4.2.11).
    BadBinder,
    /// The server random carries a downgrade sentinel (`illegal_parameter`,
    /// RFC 8446 §4.1.3).
    Downgrade,
    /// The peer's sequence number would wrap (`internal_error`; no sane peer
    /// gets here: it must rekey first).
    PeerSequenceExhausted,
    /// More 0-RTT data than the ticket allows (`unexpected_message`, RFC
    /// 8446 §4.2.10).
    TooMuchEarlyData,
    /// A renegotiation's renegotiation_info that does not carry the
    /// connection's verify_data (`handshake_failure`, RFC 5746 §3.5).
    BadRenegotiationInfo,
    /// A renegotiation with a peer presenting another certificate than the
    /// one the connection was made with (`illegal_parameter`).
    PeerCertificateChanged,
    /// More post-handshake CertificateRequests than
    /// [`ClientConfig::post_handshake_auth`](crate::handshake::ClientConfig::post_handshake_auth)
    /// answers (`unexpected_message`).
    TooManyAuthRequests,
}

/// Nothing acceptable in common with the peer.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerIncompatible {
    /// The peer does not speak TLS 1.3 (`protocol_version`).
    NotTls13,
    /// No cipher suite in common (`handshake_failure`).
    NoSharedSuite,
    /// No key exchange group in common (`handshake_failure`).
    NoSharedGroup,
    /// No signature scheme in common with our certificates
    /// (`handshake_failure`).
    NoSharedSignatureScheme,
    /// No ALPN protocol in common (`no_application_protocol`).
    NoSharedProtocol,
    /// We require a client certificate and the client sent none
    /// (`certificate_required`).
    CertificateRequired,
    /// We require a client certificate and a TLS 1.2 client sent none
    /// (`handshake_failure`, RFC 5246 §7.4.6: TLS 1.2 has no
    /// certificate_required).
    NoClientCertificate,
    /// A TLS 1.2 peer without the extended master secret (RFC 7627), which
    /// the configuration requires (`handshake_failure`).
    NoExtendedMasterSecret,
    /// A TLS 1.2 peer without secure renegotiation (RFC 5746: neither
    /// renegotiation_info nor its SCSV) (`handshake_failure`).
    NoSecureRenegotiation,
    /// A client fell back to a lower version than we speak
    /// (TLS_FALLBACK_SCSV, RFC 7507: `inappropriate_fallback`).
    InappropriateFallback,
    /// A server answered our 0-RTT offer with TLS 1.2, which has no early
    /// data: the records sent after our ClientHello cannot be taken back
    /// (`protocol_version`).
    Tls12AfterEarlyData,
}

/// A call that was not valid. Not sticky: nothing was consumed or lost.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misuse {
    /// A complete-mode write was retried with fewer bytes than the engine
    /// had already sealed from it (OpenSSL's `SSL_R_BAD_WRITE_RETRY`).
    BadWriteRetry {
        /// Bytes of the pending write already sealed into records.
        sealed: usize,
        /// Bytes offered by the retry.
        offered: usize,
    },
    /// The outgoing buffer's whole capacity cannot hold the smallest record.
    SendBufferTooSmall {
        /// Capacity needed for the smallest record.
        needed: usize,
    },
    /// The received buffer's capacity cannot hold the record at its front.
    RecvBufferTooSmall {
        /// Capacity needed to hold that record.
        needed: usize,
    },
    /// `write` after `shutdown` sent our close_notify.
    WriteAfterShutdown,
    /// The call needs a completed handshake.
    NotReady,
    /// A complete-mode write is still pending: finish it first.
    WritePending,
    /// `write_early` without 0-RTT to write: not a client resuming with a
    /// TLS 1.3 ticket that allows early data, a handshake that went past
    /// its ClientHello without offering it, or a server that has
    /// answered ([`Connection::early_data`](crate::Connection::early_data)).
    NoEarlyData,
    /// A server call other than
    /// [`read_early`](crate::Connection::read_early) while 0-RTT data it
    /// accepted waits at the front of the received view: take it with
    /// `read_early` until that answers `Done(0)`.
    EarlyDataUnread,
    /// [`Connection::renegotiate`](crate::Connection::renegotiate) on a
    /// connection that is not an established TLS 1.2 one, that is
    /// renegotiating, or whose peer has closed.
    NoRenegotiation,
    /// A `write` during a TLS 1.2 renegotiation needs the peer's next
    /// handshake record, which the received view has no room for behind
    /// the plaintext the caller has not read (`pending` bytes): read it,
    /// then repeat the write (nothing of it was taken).
    PlaintextUnread {
        /// Plaintext waiting to be read.
        pending: usize,
    },
    /// [`read_early`](crate::Connection::read_early) with an empty buffer,
    /// whose `Done(0)` would read as the end of the early data.
    EmptyEarlyDataBuffer,
    /// `seal_reserved` without a reservation, or one that another call
    /// (which had to place a record) or a larger length ended.
    NoReservation,
    /// A configuration value was out of range.
    BadConfig(&'static str),
    /// A resumption ticket offered to another server name than the one it
    /// was issued for (RFC 8446 §4.6.1).
    TicketForAnotherServer,
    /// A resumption ticket offered by a configuration with another client
    /// certificate (or none) than the one it was issued to.
    TicketForAnotherClient,
    /// A resumption ticket offered by a configuration whose server
    /// verifier gives another policy digest
    /// ([`ServerCertVerifier::policy_digest`](crate::verify::ServerCertVerifier::policy_digest))
    /// than the one that checked the server it came from.
    TicketForAnotherVerifier,
    /// The storage lent to
    /// [`Connection::keep_tls12_transcript`](crate::Connection::keep_tls12_transcript)
    /// cannot hold the TLS 1.2 handshake's messages, which a
    /// CertificateVerify signs: a client finds out before it writes its
    /// certificate, a server as soon as a message does not fit (the
    /// handshake fails with [`Error::Aborted`] and internal_error).
    TranscriptStorageTooSmall {
        /// Bytes the messages took so far.
        needed: usize,
    },
    /// [`request_client_auth`](crate::Connection::request_client_auth)
    /// where post-handshake authentication cannot be: not a TLS 1.3
    /// server whose handshake completed, with a client verifier, talking
    /// to a client that offered post_handshake_auth.
    NoPostHandshakeAuth,
    /// [`request_client_auth`](crate::Connection::request_client_auth)
    /// with as many requests unanswered as a connection keeps
    /// ([`MAX_AUTH_REQUESTS`](crate::handshake::post_auth::MAX_AUTH_REQUESTS)),
    /// or after 65,535 requests (each names itself with a unique context).
    TooManyAuthRequests,
}

impl PeerMisbehaved {
    /// The refusal of an extension that has no place in the message it came
    /// in: misplaced if TLS 1.3 defines it (for another message), else
    /// unsolicited.
    pub fn unexpected_extension(ty: ExtensionType) -> Self {
        if ty.is_tls13_defined() {
            Self::MisplacedExtension(ty)
        } else {
            Self::UnsolicitedExtension(ty)
        }
    }
}

impl Error {
    /// The alert this error puts on the wire, if any.
    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            Self::InvalidMessage(m) => Some(match m {
                InvalidMessage::RecordTooLarge { .. } => AlertDescription::RECORD_OVERFLOW,
                InvalidMessage::BadRecordVersion(_)
                | InvalidMessage::RecordTooShort
                | InvalidMessage::BadAlert
                | InvalidMessage::Handshake(_) => AlertDescription::DECODE_ERROR,
                InvalidMessage::BadChangeCipherSpec => AlertDescription::UNEXPECTED_MESSAGE,
            }),
            Self::PeerIncompatible(p) => Some(match p {
                PeerIncompatible::NotTls13 | PeerIncompatible::Tls12AfterEarlyData => {
                    AlertDescription::PROTOCOL_VERSION
                }
                PeerIncompatible::NoSharedProtocol => AlertDescription::NO_APPLICATION_PROTOCOL,
                PeerIncompatible::NoSharedSuite
                | PeerIncompatible::NoSharedGroup
                | PeerIncompatible::NoSharedSignatureScheme
                | PeerIncompatible::NoExtendedMasterSecret
                | PeerIncompatible::NoSecureRenegotiation
                | PeerIncompatible::NoClientCertificate => AlertDescription::HANDSHAKE_FAILURE,
                PeerIncompatible::InappropriateFallback => AlertDescription::INAPPROPRIATE_FALLBACK,
                PeerIncompatible::CertificateRequired => AlertDescription::CERTIFICATE_REQUIRED,
            }),
            Self::PeerMisbehaved(p) => Some(match p {
                PeerMisbehaved::BadRecordMac => AlertDescription::BAD_RECORD_MAC,
                PeerMisbehaved::PeerSequenceExhausted => AlertDescription::INTERNAL_ERROR,
                PeerMisbehaved::UnexpectedContentType(_)
                | PeerMisbehaved::NoContentType
                | PeerMisbehaved::EmptyRecord(_)
                | PeerMisbehaved::TooManyEmptyRecords
                | PeerMisbehaved::UnexpectedHandshake(_)
                | PeerMisbehaved::TooMuchEarlyData
                | PeerMisbehaved::TooManyAuthRequests
                | PeerMisbehaved::HandshakeFragmentation => AlertDescription::UNEXPECTED_MESSAGE,
                PeerMisbehaved::HandshakeTooLarge { .. }
                | PeerMisbehaved::IllegalParameter(_)
                | PeerMisbehaved::DuplicateExtension(_)
                | PeerMisbehaved::MisplacedExtension(_)
                | PeerMisbehaved::PeerCertificateChanged
                | PeerMisbehaved::Downgrade => AlertDescription::ILLEGAL_PARAMETER,
                PeerMisbehaved::BadRenegotiationInfo => AlertDescription::HANDSHAKE_FAILURE,
                PeerMisbehaved::UnsolicitedExtension(_) => AlertDescription::UNSUPPORTED_EXTENSION,
                PeerMisbehaved::BadServerName => AlertDescription::UNRECOGNIZED_NAME,
                PeerMisbehaved::MissingExtension(_) => AlertDescription::MISSING_EXTENSION,
                PeerMisbehaved::BadFinished | PeerMisbehaved::BadBinder => {
                    AlertDescription::DECRYPT_ERROR
                }
            }),
            Self::KeyExhausted => Some(AlertDescription::CLOSE_NOTIFY),
            Self::Internal(_) | Self::Aborted(_) => Some(AlertDescription::INTERNAL_ERROR),
            Self::Certificate(c) => Some(c.alert()),
            Self::AlertReceived(_) | Self::Truncated | Self::Abandoned | Self::Misuse(_) => None,
        }
    }

    /// Whether the connection is dead after this error (everything but
    /// [`Error::Misuse`]): exactly when the next call returns it again.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::Misuse(_))
    }
}

impl From<InvalidMessage> for Error {
    fn from(e: InvalidMessage) -> Self {
        Self::InvalidMessage(e)
    }
}

impl From<PeerMisbehaved> for Error {
    fn from(e: PeerMisbehaved) -> Self {
        Self::PeerMisbehaved(e)
    }
}

impl From<PeerIncompatible> for Error {
    fn from(e: PeerIncompatible) -> Self {
        Self::PeerIncompatible(e)
    }
}

impl From<Misuse> for Error {
    fn from(e: Misuse) -> Self {
        Self::Misuse(e)
    }
}

impl From<crate::verify::CertificateError> for Error {
    fn from(e: crate::verify::CertificateError) -> Self {
        Self::Certificate(e)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidMessage(m) => write!(f, "peer sent an undecodable record: {m:?}")?,
            Self::PeerMisbehaved(p) => write!(f, "peer broke the protocol: {p:?}")?,
            Self::PeerIncompatible(p) => write!(f, "nothing in common with the peer: {p:?}")?,
            Self::AlertReceived(a) => return write!(f, "peer sent fatal alert {a}"),
            Self::Truncated => return f.write_str("transport closed without close_notify"),
            Self::Abandoned => {
                return f.write_str("handshake abandoned: we closed before our flight was sent")
            }
            Self::KeyExhausted => return f.write_str("sending key exhausted; connection closed"),
            Self::Misuse(m) => return write!(f, "invalid call: {m:?}"),
            Self::Internal(what) => write!(f, "internal error: {what}")?,
            Self::Aborted(m) => write!(f, "handshake aborted on an invalid call: {m:?}")?,
            Self::Certificate(c) => write!(f, "peer authentication failed: {c}")?,
        }
        match self.alert() {
            Some(alert) => write!(f, " (sent {alert})"),
            None => Ok(()),
        }
    }
}

/// `core::error::Error` (which `std::error::Error` is): also without
/// `std`, for no_std traits such as embedded-io's.
impl core::error::Error for Error {}
