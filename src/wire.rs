//! Wire-level enumerations.
//!
//! Each is a newtype over its integer with named constants, so a value the
//! peer sends that we do not know survives parsing, printing and re-encoding
//! unchanged instead of collapsing into an "unknown" variant.

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($int:ty) {
            $( $(#[$vmeta:meta])* $konst:ident = $value:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        impl $name {
            $( $(#[$vmeta])* pub const $konst: Self = Self($value); )*

            /// The name the RFC gives this value, or `None` when it is unknown.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(text) => f.write_str(text),
                    None => write!(f, "{}(0x{:x})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(self, f)
            }
        }
    };
}

wire_enum! {
    /// `ContentType` of a record (RFC 8446 §5.1).
    pub struct ContentType(u8) {
        /// change_cipher_spec, only a compatibility no-op in TLS 1.3.
        CHANGE_CIPHER_SPEC = 20 => "change_cipher_spec",
        /// alert.
        ALERT = 21 => "alert",
        /// handshake.
        HANDSHAKE = 22 => "handshake",
        /// application_data; also the outer type of every protected record.
        APPLICATION_DATA = 23 => "application_data",
    }
}

wire_enum! {
    /// `AlertLevel` (RFC 8446 §6). TLS 1.3 ignores it on receipt.
    pub struct AlertLevel(u8) {
        /// warning(1).
        WARNING = 1 => "warning",
        /// fatal(2).
        FATAL = 2 => "fatal",
    }
}

wire_enum! {
    /// `AlertDescription` (RFC 8446 §6).
    pub struct AlertDescription(u8) {
        /// The sender will send no more data.
        CLOSE_NOTIFY = 0 => "close_notify",
        /// A message arrived where it is not allowed.
        UNEXPECTED_MESSAGE = 10 => "unexpected_message",
        /// A record failed authentication.
        BAD_RECORD_MAC = 20 => "bad_record_mac",
        /// A record was longer than allowed.
        RECORD_OVERFLOW = 22 => "record_overflow",
        /// No acceptable set of parameters.
        HANDSHAKE_FAILURE = 40 => "handshake_failure",
        /// A certificate was corrupt or failed verification.
        BAD_CERTIFICATE = 42 => "bad_certificate",
        /// A certificate was of an unsupported type.
        UNSUPPORTED_CERTIFICATE = 43 => "unsupported_certificate",
        /// A certificate was revoked.
        CERTIFICATE_REVOKED = 44 => "certificate_revoked",
        /// A certificate has expired or is not yet valid.
        CERTIFICATE_EXPIRED = 45 => "certificate_expired",
        /// A certificate was unacceptable for another reason.
        CERTIFICATE_UNKNOWN = 46 => "certificate_unknown",
        /// A field was out of range or inconsistent.
        ILLEGAL_PARAMETER = 47 => "illegal_parameter",
        /// The certificate chain does not lead to a trusted anchor.
        UNKNOWN_CA = 48 => "unknown_ca",
        /// Access control refused the peer.
        ACCESS_DENIED = 49 => "access_denied",
        /// A message could not be decoded.
        DECODE_ERROR = 50 => "decode_error",
        /// A handshake cryptographic operation failed.
        DECRYPT_ERROR = 51 => "decrypt_error",
        /// The protocol version is not supported.
        PROTOCOL_VERSION = 70 => "protocol_version",
        /// The parameters offered are too weak.
        INSUFFICIENT_SECURITY = 71 => "insufficient_security",
        /// An error unrelated to the peer.
        INTERNAL_ERROR = 80 => "internal_error",
        /// An inappropriate fallback was detected.
        INAPPROPRIATE_FALLBACK = 86 => "inappropriate_fallback",
        /// The user cancelled the handshake.
        USER_CANCELED = 90 => "user_canceled",
        /// A mandatory extension is missing.
        MISSING_EXTENSION = 109 => "missing_extension",
        /// An extension appeared where it is not allowed.
        UNSUPPORTED_EXTENSION = 110 => "unsupported_extension",
        /// No server matches the requested name.
        UNRECOGNIZED_NAME = 112 => "unrecognized_name",
        /// An OCSP response was invalid.
        BAD_CERTIFICATE_STATUS_RESPONSE = 113 => "bad_certificate_status_response",
        /// No acceptable PSK identity.
        UNKNOWN_PSK_IDENTITY = 115 => "unknown_psk_identity",
        /// A certificate was required but none was given.
        CERTIFICATE_REQUIRED = 116 => "certificate_required",
        /// No application protocol in common.
        NO_APPLICATION_PROTOCOL = 120 => "no_application_protocol",
    }
}

wire_enum! {
    /// A TLS `CipherSuite` code point (RFC 8446 §B.4).
    pub struct CipherSuite(u16) {
        /// TLS_AES_128_GCM_SHA256.
        TLS13_AES_128_GCM_SHA256 = 0x1301 => "TLS_AES_128_GCM_SHA256",
        /// TLS_AES_256_GCM_SHA384.
        TLS13_AES_256_GCM_SHA384 = 0x1302 => "TLS_AES_256_GCM_SHA384",
        /// TLS_CHACHA20_POLY1305_SHA256.
        TLS13_CHACHA20_POLY1305_SHA256 = 0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
    }
}

wire_enum! {
    /// A `ProtocolVersion` (RFC 8446 §4.2.1).
    pub struct ProtocolVersion(u16) {
        /// TLS 1.0, the legacy record version of a first ClientHello.
        TLS1_0 = 0x0301 => "TLSv1.0",
        /// TLS 1.2, the legacy record version of every other record.
        TLS1_2 = 0x0303 => "TLSv1.2",
        /// TLS 1.3.
        TLS1_3 = 0x0304 => "TLSv1.3",
    }
}
