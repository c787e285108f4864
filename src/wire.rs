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
        /// A renegotiation was refused (TLS 1.2, a warning).
        NO_RENEGOTIATION = 100 => "no_renegotiation",
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

impl AlertDescription {
    /// Whether an alert is fatal whatever level it comes with: the ones
    /// RFC 5246 §7.2.2 calls always fatal or a fatal error
    /// (unexpected_message, bad_record_mac, decryption_failed,
    /// record_overflow, decompression_failure, handshake_failure,
    /// illegal_parameter, unknown_ca, access_denied, decode_error,
    /// decrypt_error, export_restriction, protocol_version,
    /// insufficient_security, internal_error, unsupported_extension),
    /// inappropriate_fallback (RFC 7507), no_application_protocol (RFC
    /// 7301) and TLS 1.3's missing_extension, unknown_psk_identity and
    /// certificate_required. The rest may come as warnings in TLS 1.2:
    /// close_notify, user_canceled, no_renegotiation, the certificate
    /// alerts, unrecognized_name (RFC 6066), and ones we do not know.
    pub fn is_always_fatal(self) -> bool {
        matches!(
            self.0,
            10 | 20
                | 21
                | 22
                | 30
                | 40
                | 47
                | 48
                | 49
                | 50
                | 51
                | 60
                | 70
                | 71
                | 80
                | 86
                | 109
                | 110
                | 115
                | 116
                | 120
        )
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
        /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2, RFC 5289).
        ECDHE_ECDSA_AES_128_GCM_SHA256 = 0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (TLS 1.2, RFC 5289).
        ECDHE_ECDSA_AES_256_GCM_SHA384 = 0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (TLS 1.2, RFC 5289).
        ECDHE_RSA_AES_128_GCM_SHA256 = 0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (TLS 1.2, RFC 5289).
        ECDHE_RSA_AES_256_GCM_SHA384 = 0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (TLS 1.2, RFC 7905).
        ECDHE_RSA_CHACHA20_POLY1305_SHA256 = 0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (TLS 1.2, RFC 7905).
        ECDHE_ECDSA_CHACHA20_POLY1305_SHA256 = 0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746): no suite, a signal.
        EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        /// TLS_FALLBACK_SCSV (RFC 7507): no suite, a signal.
        FALLBACK_SCSV = 0x5600 => "TLS_FALLBACK_SCSV",
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

wire_enum! {
    /// A `SignatureScheme` (RFC 8446 §4.2.3).
    pub struct SignatureScheme(u16) {
        /// RSASSA-PKCS1-v1_5 with SHA-256 (certificates only in TLS 1.3).
        RSA_PKCS1_SHA256 = 0x0401 => "rsa_pkcs1_sha256",
        /// RSASSA-PKCS1-v1_5 with SHA-384 (certificates only in TLS 1.3).
        RSA_PKCS1_SHA384 = 0x0501 => "rsa_pkcs1_sha384",
        /// RSASSA-PKCS1-v1_5 with SHA-512 (certificates only in TLS 1.3).
        RSA_PKCS1_SHA512 = 0x0601 => "rsa_pkcs1_sha512",
        /// ECDSA on P-256 with SHA-256.
        ECDSA_SECP256R1_SHA256 = 0x0403 => "ecdsa_secp256r1_sha256",
        /// ECDSA on P-384 with SHA-384.
        ECDSA_SECP384R1_SHA384 = 0x0503 => "ecdsa_secp384r1_sha384",
        /// ECDSA on P-521 with SHA-512.
        ECDSA_SECP521R1_SHA512 = 0x0603 => "ecdsa_secp521r1_sha512",
        /// RSASSA-PSS with SHA-256, rsaEncryption key.
        RSA_PSS_RSAE_SHA256 = 0x0804 => "rsa_pss_rsae_sha256",
        /// RSASSA-PSS with SHA-384, rsaEncryption key.
        RSA_PSS_RSAE_SHA384 = 0x0805 => "rsa_pss_rsae_sha384",
        /// RSASSA-PSS with SHA-512, rsaEncryption key.
        RSA_PSS_RSAE_SHA512 = 0x0806 => "rsa_pss_rsae_sha512",
        /// Ed25519.
        ED25519 = 0x0807 => "ed25519",
        /// Ed448.
        ED448 = 0x0808 => "ed448",
        /// RSASSA-PSS with SHA-256, RSASSA-PSS key.
        RSA_PSS_PSS_SHA256 = 0x0809 => "rsa_pss_pss_sha256",
        /// RSASSA-PSS with SHA-384, RSASSA-PSS key.
        RSA_PSS_PSS_SHA384 = 0x080a => "rsa_pss_pss_sha384",
        /// RSASSA-PSS with SHA-512, RSASSA-PSS key.
        RSA_PSS_PSS_SHA512 = 0x080b => "rsa_pss_pss_sha512",
        /// RSASSA-PKCS1-v1_5 with SHA-1 (legacy).
        RSA_PKCS1_SHA1 = 0x0201 => "rsa_pkcs1_sha1",
        /// ECDSA with SHA-1 (legacy).
        ECDSA_SHA1 = 0x0203 => "ecdsa_sha1",
    }
}

wire_enum! {
    /// A `NamedGroup` for key exchange (RFC 8446 §4.2.7).
    pub struct NamedGroup(u16) {
        /// NIST P-256.
        SECP256R1 = 0x0017 => "secp256r1",
        /// NIST P-384.
        SECP384R1 = 0x0018 => "secp384r1",
        /// NIST P-521.
        SECP521R1 = 0x0019 => "secp521r1",
        /// Curve25519 ECDH.
        X25519 = 0x001d => "x25519",
        /// Curve448 ECDH.
        X448 = 0x001e => "x448",
        /// Hybrid NIST P-256 ECDH and ML-KEM-768
        /// (draft-ietf-tls-ecdhe-mlkem): ECDH first.
        SECP256R1MLKEM768 = 0x11eb => "SecP256r1MLKEM768",
        /// Hybrid ML-KEM-768 and X25519 (draft-ietf-tls-ecdhe-mlkem):
        /// ML-KEM first.
        X25519MLKEM768 = 0x11ec => "X25519MLKEM768",
    }
}

wire_enum! {
    /// A `HandshakeType` (RFC 8446 §4).
    pub struct HandshakeType(u8) {
        /// HelloRequest (TLS 1.2).
        HELLO_REQUEST = 0 => "HelloRequest",
        /// ClientHello.
        CLIENT_HELLO = 1 => "ClientHello",
        /// ServerHello (and HelloRetryRequest).
        SERVER_HELLO = 2 => "ServerHello",
        /// NewSessionTicket.
        NEW_SESSION_TICKET = 4 => "NewSessionTicket",
        /// EndOfEarlyData.
        END_OF_EARLY_DATA = 5 => "EndOfEarlyData",
        /// EncryptedExtensions.
        ENCRYPTED_EXTENSIONS = 8 => "EncryptedExtensions",
        /// Certificate.
        CERTIFICATE = 11 => "Certificate",
        /// ServerKeyExchange (TLS 1.2).
        SERVER_KEY_EXCHANGE = 12 => "ServerKeyExchange",
        /// CertificateRequest.
        CERTIFICATE_REQUEST = 13 => "CertificateRequest",
        /// ServerHelloDone (TLS 1.2).
        SERVER_HELLO_DONE = 14 => "ServerHelloDone",
        /// CertificateVerify.
        CERTIFICATE_VERIFY = 15 => "CertificateVerify",
        /// ClientKeyExchange (TLS 1.2).
        CLIENT_KEY_EXCHANGE = 16 => "ClientKeyExchange",
        /// Finished.
        FINISHED = 20 => "Finished",
        /// KeyUpdate.
        KEY_UPDATE = 24 => "KeyUpdate",
        /// message_hash, the synthetic message of a HelloRetryRequest transcript.
        MESSAGE_HASH = 254 => "message_hash",
    }
}

wire_enum! {
    /// An `ExtensionType` (RFC 8446 §4.2, RFC 8449).
    pub struct ExtensionType(u16) {
        /// server_name (RFC 6066).
        SERVER_NAME = 0 => "server_name",
        /// max_fragment_length (RFC 6066).
        MAX_FRAGMENT_LENGTH = 1 => "max_fragment_length",
        /// status_request (RFC 6066).
        STATUS_REQUEST = 5 => "status_request",
        /// supported_groups (RFC 8422, 7919).
        SUPPORTED_GROUPS = 10 => "supported_groups",
        /// signature_algorithms (RFC 8446).
        SIGNATURE_ALGORITHMS = 13 => "signature_algorithms",
        /// use_srtp (RFC 5764).
        USE_SRTP = 14 => "use_srtp",
        /// heartbeat (RFC 6520).
        HEARTBEAT = 15 => "heartbeat",
        /// application_layer_protocol_negotiation (RFC 7301).
        ALPN = 16 => "application_layer_protocol_negotiation",
        /// signed_certificate_timestamp (RFC 6962).
        SIGNED_CERTIFICATE_TIMESTAMP = 18 => "signed_certificate_timestamp",
        /// client_certificate_type (RFC 7250).
        CLIENT_CERTIFICATE_TYPE = 19 => "client_certificate_type",
        /// server_certificate_type (RFC 7250).
        SERVER_CERTIFICATE_TYPE = 20 => "server_certificate_type",
        /// ec_point_formats (RFC 8422, TLS 1.2).
        EC_POINT_FORMATS = 11 => "ec_point_formats",
        /// padding (RFC 7685).
        PADDING = 21 => "padding",
        /// extended_master_secret (RFC 7627, TLS 1.2).
        EXTENDED_MASTER_SECRET = 23 => "extended_master_secret",
        /// record_size_limit (RFC 8449).
        RECORD_SIZE_LIMIT = 28 => "record_size_limit",
        /// session_ticket (RFC 5077, TLS 1.2).
        SESSION_TICKET = 35 => "session_ticket",
        /// pre_shared_key (RFC 8446).
        PRE_SHARED_KEY = 41 => "pre_shared_key",
        /// early_data (RFC 8446).
        EARLY_DATA = 42 => "early_data",
        /// supported_versions (RFC 8446).
        SUPPORTED_VERSIONS = 43 => "supported_versions",
        /// cookie (RFC 8446).
        COOKIE = 44 => "cookie",
        /// psk_key_exchange_modes (RFC 8446).
        PSK_KEY_EXCHANGE_MODES = 45 => "psk_key_exchange_modes",
        /// certificate_authorities (RFC 8446).
        CERTIFICATE_AUTHORITIES = 47 => "certificate_authorities",
        /// oid_filters (RFC 8446).
        OID_FILTERS = 48 => "oid_filters",
        /// post_handshake_auth (RFC 8446).
        POST_HANDSHAKE_AUTH = 49 => "post_handshake_auth",
        /// signature_algorithms_cert (RFC 8446).
        SIGNATURE_ALGORITHMS_CERT = 50 => "signature_algorithms_cert",
        /// key_share (RFC 8446).
        KEY_SHARE = 51 => "key_share",
        /// renegotiation_info (RFC 5746).
        RENEGOTIATION_INFO = 0xff01 => "renegotiation_info",
    }
}

impl ExtensionType {
    /// Whether this is one of the extensions RFC 8446 §4.2 (and RFC 8449)
    /// defines for TLS 1.3. Such an extension in a message it is not
    /// defined for is `illegal_parameter`; any other extension we did not
    /// ask for is `unsupported_extension` (RFC 8446 §4.2).
    pub fn is_tls13_defined(self) -> bool {
        matches!(
            self,
            Self::SERVER_NAME
                | Self::MAX_FRAGMENT_LENGTH
                | Self::STATUS_REQUEST
                | Self::SUPPORTED_GROUPS
                | Self::SIGNATURE_ALGORITHMS
                | Self::USE_SRTP
                | Self::HEARTBEAT
                | Self::ALPN
                | Self::SIGNED_CERTIFICATE_TIMESTAMP
                | Self::CLIENT_CERTIFICATE_TYPE
                | Self::SERVER_CERTIFICATE_TYPE
                | Self::PADDING
                | Self::RECORD_SIZE_LIMIT
                | Self::PRE_SHARED_KEY
                | Self::EARLY_DATA
                | Self::SUPPORTED_VERSIONS
                | Self::COOKIE
                | Self::PSK_KEY_EXCHANGE_MODES
                | Self::CERTIFICATE_AUTHORITIES
                | Self::OID_FILTERS
                | Self::POST_HANDSHAKE_AUTH
                | Self::SIGNATURE_ALGORITHMS_CERT
                | Self::KEY_SHARE
        )
    }
}
