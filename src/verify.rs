//! Checking the peer: its certificate chain, and its CertificateVerify
//! signature.
//!
//! The handshake calls a verifier through one of two small traits:
//! [`ServerCertVerifier`] (a client checking a server) and
//! [`ClientCertVerifier`] (a server checking a client, for mutual TLS).
//! Three implementations come with the crate:
//!
//! - [`WebPkiServerVerifier`], the default: X.509 path validation by
//!   rustls-webpki to the caller's trust anchors, server-auth EKU, dates and
//!   the server name;
//! - [`WebPkiClientVerifier`]: the same with the client-auth EKU and no name;
//! - [`SpkiPinVerifier`]: accepts exactly the certificates whose public key
//!   (SubjectPublicKeyInfo) hashes to a pinned SHA-256, and nothing else.
//!
//! None of them allocates: webpki and *ring* work on the DER where it lies.
//! RSA is the exception: *ring*'s RSA needs an allocator, so certificates
//! signed with RSA, and RSA CertificateVerify signatures, are verified only
//! with feature `alloc` (an ECDSA-signed chain ending in an RSA certificate
//! still validates without it, but its CertificateVerify cannot).
//!
//! Every refusal is a [`CertificateError`], which names the alert RFC 8446
//! §6.2 sends for it ([`CertificateError::alert`]).

use arrayvec::ArrayVec;
use ring::digest;
use rustls_pki_types::SignatureVerificationAlgorithm;
use webpki::{EndEntityCert, KeyUsage};

use crate::error::{Error, Misuse};
use crate::wire::{AlertDescription, SignatureScheme};

pub use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};

/// The longest certificate chain a peer may send: the end-entity
/// certificate and up to seven more. Longer chains are refused with
/// [`CertificateError::ChainTooLong`] before any parsing.
///
/// webpki itself builds paths of at most six intermediates; the extra room
/// is for the root that servers often send needlessly. The bound also caps
/// the work a peer can ask for: path building is quadratic in the number of
/// candidate issuers.
pub const MAX_CHAIN_LEN: usize = 8;

/// The length of a pin: a SHA-256 digest.
pub const SPKI_SHA256_LEN: usize = 32;

/// The most pins a [`SpkiPinVerifier`] holds: the current key and backups
/// (RFC 7469 §4.3 asks for at least one backup pin).
pub const MAX_PINS: usize = 8;

/// Why a peer's certificate or CertificateVerify was refused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertificateError {
    /// A certificate does not decode, or breaks X.509's rules (also: an
    /// empty chain) (`bad_certificate`).
    BadEncoding,
    /// No trust anchor or intermediate we were given signed this chain: the
    /// issuer is unknown, or a certificate of the issuer's name is known but
    /// its key did not make the signature (an impostor issuer or a tampered
    /// certificate), or the issuer is distrusted (`unknown_ca`).
    UnknownIssuer,
    /// A certificate's notAfter is before the verification time
    /// (`certificate_expired`).
    Expired,
    /// A certificate's notBefore is after the verification time
    /// (`certificate_expired`: RFC 8446 has no separate alert).
    NotYetValid,
    /// The end-entity certificate is not valid for the server name
    /// (`bad_certificate`).
    NotValidForName,
    /// The CertificateVerify signature does not verify with the end-entity
    /// certificate's key (`decrypt_error`, RFC 8446 §4.4.3).
    BadSignature,
    /// The CertificateVerify used a scheme we did not offer, one TLS 1.3
    /// forbids there (RSASSA-PKCS1-v1_5, SHA-1), or one that does not fit
    /// the certificate's key (`illegal_parameter`).
    UnsupportedSignatureScheme,
    /// The chain is longer than [`MAX_CHAIN_LEN`], or path building ran
    /// past webpki's depth or work budget (`bad_certificate`).
    ChainTooLong,
    /// A certificate in the chain is revoked (`certificate_revoked`).
    Revoked,
    /// A certificate is not for this use: its extended key usage lacks
    /// server (or client) authentication, or a CA certificate stands where
    /// the end-entity belongs (`unsupported_certificate`).
    InvalidPurpose,
    /// A certificate in the chain is signed with an algorithm we do not
    /// verify (SHA-1, P-521, RSA-PSS keys; any RSA without feature `alloc`)
    /// (`unsupported_certificate`).
    UnsupportedCertificateAlgorithm,
    /// The end-entity certificate's public key matches no pin
    /// (`bad_certificate`).
    PinMismatch,
    /// Any other refusal, such as a name-constraint violation
    /// (`bad_certificate`).
    Other,
}

impl CertificateError {
    /// The alert RFC 8446 §6.2 assigns to this refusal.
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::BadEncoding
            | Self::NotValidForName
            | Self::ChainTooLong
            | Self::PinMismatch
            | Self::Other => AlertDescription::BAD_CERTIFICATE,
            Self::UnknownIssuer => AlertDescription::UNKNOWN_CA,
            Self::Expired | Self::NotYetValid => AlertDescription::CERTIFICATE_EXPIRED,
            Self::BadSignature => AlertDescription::DECRYPT_ERROR,
            Self::UnsupportedSignatureScheme => AlertDescription::ILLEGAL_PARAMETER,
            Self::Revoked => AlertDescription::CERTIFICATE_REVOKED,
            Self::InvalidPurpose | Self::UnsupportedCertificateAlgorithm => {
                AlertDescription::UNSUPPORTED_CERTIFICATE
            }
        }
    }

    /// Maps a webpki error met while parsing or validating a chain.
    #[allow(deprecated)] // the deprecated variants are matched in case they still occur
    fn from_chain(e: webpki::Error) -> Self {
        use webpki::Error as E;
        match e {
            E::BadDer
            | E::BadDerTime
            | E::TrailingData(_)
            | E::UnsupportedCertVersion
            | E::InvalidSerialNumber
            | E::MalformedExtensions
            | E::ExtensionValueInvalid
            | E::EmptyEkuExtension
            | E::InvalidCertValidity
            | E::SignatureAlgorithmMismatch
            | E::UnsupportedCriticalExtension
            | E::MalformedDnsIdentifier
            | E::MalformedNameConstraint
            | E::InvalidNetworkMaskConstraint => Self::BadEncoding,
            // A signature that fails during path building means the issuer
            // we found by name is not the one that signed: to us, unknown.
            E::UnknownIssuer | E::InvalidSignatureForPublicKey | E::CertDistrusted => {
                Self::UnknownIssuer
            }
            E::CertExpired { .. } => Self::Expired,
            E::CertNotValidYet { .. } => Self::NotYetValid,
            E::CertNotValidForName(_) | E::UnsupportedNameType => Self::NotValidForName,
            E::CertRevoked => Self::Revoked,
            E::RequiredEkuNotFound
            | E::RequiredEkuNotFoundContext(_)
            | E::CaUsedAsEndEntity
            | E::EndEntityUsedAsCa => Self::InvalidPurpose,
            E::MaximumPathDepthExceeded
            | E::MaximumSignatureChecksExceeded
            | E::MaximumPathBuildCallsExceeded
            | E::MaximumNameConstraintComparisonsExceeded => Self::ChainTooLong,
            E::UnsupportedSignatureAlgorithm
            | E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKey
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                Self::UnsupportedCertificateAlgorithm
            }
            // Name and path-length constraint violations, and the CRL
            // errors (we pass no CRLs, so they should not occur).
            _ => Self::Other,
        }
    }

    /// Maps a webpki error met while verifying a CertificateVerify.
    #[allow(deprecated)] // as in from_chain
    fn from_signature(e: webpki::Error) -> Self {
        use webpki::Error as E;
        match e {
            E::InvalidSignatureForPublicKey => Self::BadSignature,
            // The scheme's key type or curve is not the certificate's.
            E::UnsupportedSignatureAlgorithm
            | E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKey
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                Self::UnsupportedSignatureScheme
            }
            other => Self::from_chain(other),
        }
    }
}

impl core::fmt::Display for CertificateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BadEncoding => "certificate does not decode",
            Self::UnknownIssuer => "certificate not issued by a trusted CA",
            Self::Expired => "certificate expired",
            Self::NotYetValid => "certificate not yet valid",
            Self::NotValidForName => "certificate not valid for the server name",
            Self::BadSignature => "CertificateVerify signature does not verify",
            Self::UnsupportedSignatureScheme => "signature scheme not allowed here",
            Self::ChainTooLong => "certificate chain too long",
            Self::Revoked => "certificate revoked",
            Self::InvalidPurpose => "certificate not valid for this purpose",
            Self::UnsupportedCertificateAlgorithm => {
                "certificate signed with an unsupported algorithm"
            }
            Self::PinMismatch => "certificate key matches no pin",
            Self::Other => "certificate refused",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CertificateError {}

/// What a client uses to check the server it connects to.
///
/// The handshake calls [`verify_server_cert`](Self::verify_server_cert) on
/// the Certificate message, then
/// [`verify_signature`](Self::verify_signature) on the CertificateVerify,
/// and fails with [`CertificateError::alert`] if either refuses. It answers
/// an empty Certificate message itself (`decode_error`, RFC 8446
/// §4.4.2.4) before asking the verifier.
///
/// `Send + Sync`, as every trait object in a configuration.
///
/// The lists it gives (`supported_schemes`) are read when the ClientHello
/// is written and again when the CertificateVerify is checked: they must
/// not change while a configuration that holds the verifier is in use.
pub trait ServerCertVerifier: Send + Sync {
    /// Checks the server's chain for `server_name` at time `now`.
    ///
    /// `chain[0]` is the end-entity certificate (DER); the rest are
    /// intermediates as sent.
    fn verify_server_cert(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), CertificateError>;

    /// Verifies a CertificateVerify signature by the end-entity
    /// certificate's key. `message` is the signed content
    /// ([`crate::sign::certificate_verify_message`]).
    ///
    /// By default, [`verify_tls13_signature`] with
    /// [`supported_schemes`](Self::supported_schemes) (of which only the
    /// schemes TLS 1.3 allows in CertificateVerify count).
    fn verify_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        verify_tls13_signature(
            end_entity,
            scheme,
            message,
            signature,
            self.supported_schemes(),
        )
    }

    /// Verifies a TLS 1.2 ServerKeyExchange signature by the end-entity
    /// certificate's key over `message` (both randoms and the ECDHE
    /// parameters, RFC 8422 §5.4).
    ///
    /// By default [`verify_signature`](Self::verify_signature), so a
    /// verifier's own signature policy holds in TLS 1.2 too: with the
    /// default `verify_signature`, that is TLS 1.3's rules (no PKCS#1
    /// v1.5, ECDSA bound to its curve), which some TLS 1.2 servers do not
    /// meet. [`WebPkiServerVerifier`] and [`SpkiPinVerifier`] override it
    /// with [`verify_tls12_signature`], TLS 1.2's rules; a custom verifier
    /// that wants them does the same.
    fn verify_tls12_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        self.verify_signature(end_entity, scheme, message, signature)
    }

    /// Schemes this verifier accepts, in preference order (for the
    /// signature_algorithms extension).
    fn supported_schemes(&self) -> &[SignatureScheme];

    /// Checks the server's chain for a connection made without a server
    /// name (`Connection::client(config, None, now)`). Refused by default
    /// ([`CertificateError::NotValidForName`], `bad_certificate`): a
    /// verifier that checks names cannot check none. [`SpkiPinVerifier`]
    /// accepts, since it checks no name anyway.
    fn verify_server_cert_unnamed(
        &self,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), CertificateError> {
        let _ = (chain, now);
        Err(CertificateError::NotValidForName)
    }

    /// What the handshake calls: checks the server's chain in the
    /// connection's context and names the peer. The identity returned
    /// (a row in the embedder's own table, an account number: anything
    /// that fits a `u64`) is reported as
    /// [`Negotiated::peer_identity`](crate::handshake::Negotiated::peer_identity) once
    /// the CertificateVerify has also been checked, and carried in the
    /// tickets of the session, so a resumed connection in the same ALPN
    /// context (the protocols offered and the one chosen) reports it too.
    ///
    /// By default [`verify_server_cert`](Self::verify_server_cert) (or
    /// [`verify_server_cert_unnamed`](Self::verify_server_cert_unnamed)
    /// without a name) and no identity.
    fn verify_server_cert_in(
        &self,
        chain: &[CertificateDer<'_>],
        context: &ServerCertContext<'_>,
    ) -> Result<Option<u64>, CertificateError> {
        match context.server_name {
            Some(name) => self.verify_server_cert(chain, name, context.now)?,
            None => self.verify_server_cert_unnamed(chain, context.now)?,
        }
        Ok(None)
    }

    /// A digest of what this verifier accepts and how it names servers,
    /// stable across processes, as
    /// [`ClientCertVerifier::policy_digest`]. A client's tickets carry
    /// it: a ticket is offered only by a configuration whose verifier
    /// gives the same digest
    /// ([`Misuse::TicketForAnotherVerifier`]),
    /// so a session checked by one verifier never resumes under another,
    /// and an identity one verifier gave is never reported under another.
    /// It must change whenever the decision or the identity mapping
    /// changes.
    ///
    /// By default `None`: not recorded, and then the identity this
    /// verifier returns is not carried into tickets (a resumed session
    /// reports none).
    fn policy_digest(&self) -> Option<[u8; 32]> {
        None
    }
}

/// What a client's connection knows when it checks the server's chain,
/// for [`ServerCertVerifier::verify_server_cert_in`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ServerCertContext<'c> {
    /// The name the connection was made to (`None`: made without one).
    pub server_name: Option<&'c ServerName<'c>>,
    /// The ALPN protocols we offered, in our order.
    pub alpn_offered: &'c [&'c [u8]],
    /// The protocol the server chose (its EncryptedExtensions came
    /// before its Certificate), if any.
    pub alpn: Option<&'c [u8]>,
    /// The time the connection was made with.
    pub now: UnixTime,
}

/// What a server's connection knows when it checks the client's chain,
/// for [`ClientCertVerifier::verify_client_cert_in`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ClientCertContext<'c> {
    /// The host name the client asked for (SNI), if it sent one.
    pub server_name: Option<&'c str>,
    /// The ALPN protocol this server chose from the client's offer, if any.
    pub alpn: Option<&'c [u8]>,
    /// The time the connection was made with.
    pub now: UnixTime,
}

/// What a server uses to check a client's certificate (mutual TLS).
///
/// The twin of [`ServerCertVerifier`], without a name to check: a client
/// certificate names a person or a machine, which only the application
/// can judge.
///
/// `Send + Sync`, as every trait object in a configuration.
pub trait ClientCertVerifier: Send + Sync {
    /// Checks the client's chain at time `now`. `chain[0]` is the
    /// end-entity certificate (DER); the rest are intermediates as sent.
    fn verify_client_cert(
        &self,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), CertificateError>;

    /// Verifies a CertificateVerify signature by the end-entity
    /// certificate's key, as [`ServerCertVerifier::verify_signature`]
    /// (the same default).
    fn verify_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        verify_tls13_signature(
            end_entity,
            scheme,
            message,
            signature,
            self.supported_schemes(),
        )
    }

    /// Verifies a TLS 1.2 client's CertificateVerify signature by the
    /// end-entity certificate's key over `message` (every handshake
    /// message before it, RFC 5246 §7.4.8).
    ///
    /// By default [`verify_signature`](Self::verify_signature), as
    /// [`ServerCertVerifier::verify_tls12_signature`]: TLS 1.3's rules
    /// unless the verifier says otherwise. [`WebPkiClientVerifier`] and
    /// [`SpkiPinVerifier`] override it with [`verify_tls12_signature`].
    fn verify_tls12_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        self.verify_signature(end_entity, scheme, message, signature)
    }

    /// Schemes this verifier accepts, in preference order (for the
    /// CertificateRequest's signature_algorithms extension).
    fn supported_schemes(&self) -> &[SignatureScheme];

    /// Whether a client without a certificate is refused. When `true`, the
    /// handshake answers an empty client Certificate with
    /// `certificate_required` (RFC 8446 §4.4.2.4); when `false`, it goes on
    /// unauthenticated and the application sees no peer certificate.
    fn client_auth_mandatory(&self) -> bool;

    /// A digest of what this verifier accepts (its trust anchors, its pins,
    /// whatever its decision depends on, and how
    /// [`verify_client_cert_in`](Self::verify_client_cert_in) names
    /// clients: it must change when the identity mapping does), stable
    /// across processes. Session
    /// tickets carry it: a session whose client was checked by one verifier
    /// resumes only where the verifier gives the same digest, so two
    /// verifiers that accept different clients must give different ones
    /// (RFC 8446 §4.6.1). No default, on purpose: a verifier that cannot
    /// name its policy must not let sessions cross into it.
    fn policy_digest(&self) -> [u8; 32];

    /// What the handshake calls: checks the client's chain in the
    /// connection's context and names the client, as
    /// [`ServerCertVerifier::verify_server_cert_in`]. The identity is
    /// carried in the session's tickets (sealed, under this verifier's
    /// [`policy_digest`](Self::policy_digest)), so a resumed connection
    /// reports the client of the full handshake.
    ///
    /// By default [`verify_client_cert`](Self::verify_client_cert) and no
    /// identity.
    fn verify_client_cert_in(
        &self,
        chain: &[CertificateDer<'_>],
        context: &ClientCertContext<'_>,
    ) -> Result<Option<u64>, CertificateError> {
        self.verify_client_cert(chain, context.now)?;
        Ok(None)
    }
}

/// SHA-256 over a label and length-prefixed parts: the shape of every
/// `policy_digest` here.
fn policy_hash<'p>(label: &[u8], parts: impl IntoIterator<Item = &'p [u8]>) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(label);
    for part in parts {
        ctx.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Whether TLS 1.3 allows `scheme` in a CertificateVerify at all (RFC 8446
/// §4.4.3, §4.2.3): of the TLS 1.2-style hash/signature pairs (code points
/// up to 0x06ff) only ECDSA with SHA-256, SHA-384 or SHA-512; never
/// RSASSA-PKCS1-v1_5, DSA, anonymous, MD5, SHA-1 or SHA-224. The schemes
/// of 0x0700 and up (EdDSA, RSASSA-PSS and later ones) are left to the
/// verifier. The handshake applies this rule before any verifier is
/// asked, so no verifier can loosen it.
pub fn tls13_allows_in_certificate_verify(scheme: SignatureScheme) -> bool {
    let [hash, signature] = scheme.0.to_be_bytes();
    if hash <= 0x06 {
        return signature == 0x03 && hash >= 0x04;
    }
    true
}

/// The schemes accepted in a TLS 1.3 CertificateVerify, in our order of
/// preference: the cheapest to verify and most deployed first.
/// RSASSA-PSS needs feature `alloc` (*ring*'s RSA allocates).
pub static TLS13_VERIFY_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::ECDSA_SECP384R1_SHA384,
    SignatureScheme::ED25519,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PSS_RSAE_SHA384,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PSS_RSAE_SHA512,
];

/// What the webpki verifiers advertise in signature_algorithms:
/// [`TLS13_VERIFY_SCHEMES`], then (with `alloc`) the RSASSA-PKCS1-v1_5
/// schemes.
///
/// Without a signature_algorithms_cert extension, signature_algorithms also
/// says which signatures we accept *in certificates* (RFC 8446 §4.2.3), and
/// most RSA certificates are signed with PKCS#1 v1.5; a peer that uses one
/// in a CertificateVerify is still refused
/// ([`CertificateError::UnsupportedSignatureScheme`]).
pub static WEBPKI_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::ECDSA_SECP384R1_SHA384,
    SignatureScheme::ED25519,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PSS_RSAE_SHA384,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PSS_RSAE_SHA512,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PKCS1_SHA256,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PKCS1_SHA384,
    #[cfg(feature = "alloc")]
    SignatureScheme::RSA_PKCS1_SHA512,
];

/// The algorithms a certificate in a chain may be signed with. ECDSA with
/// the "other" hash appears because CAs do sign P-384 keys' certificates
/// with SHA-256 and the reverse; X.509 does not bind curve and hash.
static CHAIN_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    #[cfg(feature = "alloc")]
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    #[cfg(feature = "alloc")]
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    #[cfg(feature = "alloc")]
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    #[cfg(feature = "alloc")]
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    #[cfg(feature = "alloc")]
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    #[cfg(feature = "alloc")]
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// The webpki algorithm that checks a TLS 1.3 CertificateVerify `scheme`,
/// or `None` when TLS 1.3 (or this build) does not allow it there. TLS 1.3
/// binds each ECDSA scheme to one curve, and webpki's algorithm checks the
/// key's curve, so a P-256 key cannot pass for ecdsa_secp384r1_sha384.
fn tls13_algorithm(scheme: SignatureScheme) -> Option<&'static dyn SignatureVerificationAlgorithm> {
    match scheme {
        SignatureScheme::ECDSA_SECP256R1_SHA256 => Some(webpki::ring::ECDSA_P256_SHA256),
        SignatureScheme::ECDSA_SECP384R1_SHA384 => Some(webpki::ring::ECDSA_P384_SHA384),
        SignatureScheme::ED25519 => Some(webpki::ring::ED25519),
        // "rsae": PSS with an rsaEncryption key, webpki's "legacy key".
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PSS_RSAE_SHA256 => {
            Some(webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY)
        }
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PSS_RSAE_SHA384 => {
            Some(webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY)
        }
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PSS_RSAE_SHA512 => {
            Some(webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY)
        }
        _ => None,
    }
}

/// Verifies a TLS 1.3 CertificateVerify `signature` over `message` with the
/// key in `end_entity`, for any verifier: the shared body of every
/// `verify_signature` here, public for embedders writing their own.
///
/// `accepted` is the list the verifier advertised; a scheme outside it, or
/// outside [`TLS13_VERIFY_SCHEMES`], is refused without looking at the
/// signature.
///
/// # Errors
///
/// [`CertificateError::UnsupportedSignatureScheme`] for a scheme not
/// accepted or not fitting the key, [`CertificateError::BadSignature`] for
/// a signature that does not verify, [`CertificateError::BadEncoding`] for
/// a certificate that does not parse.
pub fn verify_tls13_signature(
    end_entity: &CertificateDer<'_>,
    scheme: SignatureScheme,
    message: &[u8],
    signature: &[u8],
    accepted: &[SignatureScheme],
) -> Result<(), CertificateError> {
    let algorithm = tls13_algorithm(scheme)
        .filter(|_| accepted.contains(&scheme))
        .ok_or(CertificateError::UnsupportedSignatureScheme)?;
    let cert = EndEntityCert::try_from(end_entity).map_err(CertificateError::from_chain)?;
    cert.verify_signature(algorithm, message, signature)
        .map_err(CertificateError::from_signature)
}

/// The webpki algorithm that checks a TLS 1.2 signature `scheme`
/// (RFC 5246 §7.4.1.4.1 as RFC 8446 §4.2.3 names the pairs): TLS 1.3's,
/// and RSASSA-PKCS1-v1_5 with SHA-256, SHA-384 or SHA-512; SHA-1 and MD5
/// are refused. The second is for ECDSA: in TLS 1.2 its code point names
/// a hash, not a curve (0x0403 is "ECDSA with SHA-256"), and OpenSSL
/// signs with a P-384 key under it, so ECDSA with SHA-256 or SHA-384 is
/// accepted on either curve (what we sign stays bound: `SigningKey`).
#[allow(clippy::type_complexity)]
fn tls12_algorithm(
    scheme: SignatureScheme,
) -> Option<(
    &'static dyn SignatureVerificationAlgorithm,
    Option<&'static dyn SignatureVerificationAlgorithm>,
)> {
    match scheme {
        SignatureScheme::ECDSA_SECP256R1_SHA256 => Some((
            webpki::ring::ECDSA_P256_SHA256,
            Some(webpki::ring::ECDSA_P384_SHA256),
        )),
        SignatureScheme::ECDSA_SECP384R1_SHA384 => Some((
            webpki::ring::ECDSA_P384_SHA384,
            Some(webpki::ring::ECDSA_P256_SHA384),
        )),
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PKCS1_SHA256 => Some((webpki::ring::RSA_PKCS1_2048_8192_SHA256, None)),
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PKCS1_SHA384 => Some((webpki::ring::RSA_PKCS1_2048_8192_SHA384, None)),
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PKCS1_SHA512 => Some((webpki::ring::RSA_PKCS1_2048_8192_SHA512, None)),
        other => tls13_algorithm(other).map(|a| (a, None)),
    }
}

/// Verifies a TLS 1.2 signature (ServerKeyExchange, or a client's
/// CertificateVerify) over `message` with the key in `end_entity`: the
/// schemes of [`verify_tls13_signature`] and RSASSA-PKCS1-v1_5 with
/// SHA-256/384/512, each only if `accepted` lists it.
///
/// # Errors
///
/// As [`verify_tls13_signature`].
pub fn verify_tls12_signature(
    end_entity: &CertificateDer<'_>,
    scheme: SignatureScheme,
    message: &[u8],
    signature: &[u8],
    accepted: &[SignatureScheme],
) -> Result<(), CertificateError> {
    let (algorithm, other_curve) = tls12_algorithm(scheme)
        .filter(|_| accepted.contains(&scheme))
        .ok_or(CertificateError::UnsupportedSignatureScheme)?;
    let cert = EndEntityCert::try_from(end_entity).map_err(CertificateError::from_chain)?;
    let first = cert
        .verify_signature(algorithm, message, signature)
        .map_err(CertificateError::from_signature);
    match (first, other_curve) {
        // The key is on the other curve: webpki refuses the algorithm
        // for it before looking at the signature.
        (Err(CertificateError::UnsupportedSignatureScheme), Some(other)) => cert
            .verify_signature(other, message, signature)
            .map_err(CertificateError::from_signature),
        (result, _) => result,
    }
}

/// Makes a trust anchor from a CA certificate in DER (webpki's
/// `anchor_from_trusted_cert`). The anchor borrows from `ca`.
///
/// ```
/// use tlspair::verify::{trust_anchor_from_der, CertificateDer};
/// let ca = CertificateDer::from(tlspair::test_credentials::CA_CERT);
/// let anchors = [trust_anchor_from_der(&ca)?];
/// # Ok::<(), tlspair::verify::CertificateError>(())
/// ```
///
/// # Errors
///
/// [`CertificateError::BadEncoding`] when `ca` is not a certificate.
pub fn trust_anchor_from_der<'a>(
    ca: &'a CertificateDer<'a>,
) -> Result<TrustAnchor<'a>, CertificateError> {
    webpki::anchor_from_trusted_cert(ca).map_err(CertificateError::from_chain)
}

/// The SHA-256 of a certificate's DER-encoded SubjectPublicKeyInfo: the
/// pin [`SpkiPinVerifier`] compares, and the same value as
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER |
/// openssl dgst -sha256` (the HPKP pin of RFC 7469, before base64).
///
/// # Errors
///
/// [`CertificateError::BadEncoding`] when `cert` is not an X.509 v3
/// certificate webpki accepts.
pub fn spki_sha256(cert: &CertificateDer<'_>) -> Result<[u8; SPKI_SHA256_LEN], CertificateError> {
    // Parse strictly as an end-entity certificate first: the anchor parser
    // below is laxer (it ignores unknown critical extensions).
    EndEntityCert::try_from(cert).map_err(CertificateError::from_chain)?;
    // webpki hands out the SPKI without allocating only through a trust
    // anchor (`Cert::subject_public_key_info` needs `alloc`); both give the
    // contents of the SEQUENCE, so its DER header is rebuilt here.
    let anchor = webpki::anchor_from_trusted_cert(cert).map_err(CertificateError::from_chain)?;
    let contents: &[u8] = anchor.subject_public_key_info.as_ref();
    let mut header = [0u8; DER_HEADER_MAX];
    let header_len = der_sequence_header(contents.len(), &mut header)?;
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(
        header
            .get(..header_len)
            .ok_or(CertificateError::BadEncoding)?,
    );
    ctx.update(contents);
    let mut out = [0u8; SPKI_SHA256_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

/// The longest DER tag-and-length of anything held in memory: a tag byte,
/// the length-of-length byte, and a `usize`.
const DER_HEADER_MAX: usize = 2 + core::mem::size_of::<usize>();

/// Writes the DER tag and length of a SEQUENCE with `len` bytes of
/// contents into `out`, returning how many bytes it took: the short form
/// below 128, else 0x80 | n followed by the n big-endian length bytes, with
/// no leading zero (DER's minimal encoding).
fn der_sequence_header(
    len: usize,
    out: &mut [u8; DER_HEADER_MAX],
) -> Result<usize, CertificateError> {
    const SEQUENCE: u8 = 0x30;
    out[0] = SEQUENCE;
    if let Ok(short @ 0..=127) = u8::try_from(len) {
        out[1] = short;
        return Ok(2);
    }
    let be = len.to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let significant = be.get(skip..).ok_or(CertificateError::BadEncoding)?;
    out[1] = 0x80 | u8::try_from(significant.len()).map_err(|_| CertificateError::BadEncoding)?;
    // At most `size_of::<usize>()` bytes follow the two header bytes.
    let end = significant.len().saturating_add(2);
    out.get_mut(2..end)
        .ok_or(CertificateError::BadEncoding)?
        .copy_from_slice(significant);
    Ok(end)
}

/// Splits a chain into its end-entity certificate and the rest, refusing
/// an empty chain and one longer than [`MAX_CHAIN_LEN`].
fn split_chain<'c, 'd>(
    chain: &'c [CertificateDer<'d>],
) -> Result<(&'c CertificateDer<'d>, &'c [CertificateDer<'d>]), CertificateError> {
    if chain.len() > MAX_CHAIN_LEN {
        return Err(CertificateError::ChainTooLong);
    }
    chain.split_first().ok_or(CertificateError::BadEncoding)
}

/// Validates a chain to `anchors` for `usage` at `now`, returning the
/// parsed end-entity certificate for further checks.
fn verify_chain<'c>(
    anchors: &[TrustAnchor<'_>],
    chain: &'c [CertificateDer<'c>],
    now: UnixTime,
    usage: KeyUsage,
) -> Result<EndEntityCert<'c>, CertificateError> {
    let (end_entity, intermediates) = split_chain(chain)?;
    let cert = EndEntityCert::try_from(end_entity).map_err(CertificateError::from_chain)?;
    cert.verify_for_usage(CHAIN_ALGS, anchors, intermediates, now, usage, None, None)
        .map_err(CertificateError::from_chain)?;
    Ok(cert)
}

/// The default server verifier: X.509 path validation by rustls-webpki.
///
/// A chain passes when it leads from the end-entity certificate through
/// the intermediates sent to one of the trust anchors, every certificate is
/// within its validity period at `now`, the end-entity certificate allows
/// server authentication (extended key usage id-kp-serverAuth, or none)
/// and is valid for the server name (a DNS name or an IP address in its
/// subjectAltName). No revocation checking: no CRLs are given.
#[derive(Clone, Copy, Debug)]
pub struct WebPkiServerVerifier<'a> {
    anchors: &'a [TrustAnchor<'a>],
}

impl<'a> WebPkiServerVerifier<'a> {
    /// A verifier trusting `anchors` (see [`trust_anchor_from_der`]).
    pub const fn new(anchors: &'a [TrustAnchor<'a>]) -> Self {
        Self { anchors }
    }
}

impl ServerCertVerifier for WebPkiServerVerifier<'_> {
    fn verify_tls12_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        verify_tls12_signature(
            end_entity,
            scheme,
            message,
            signature,
            self.supported_schemes(),
        )
    }

    fn verify_server_cert(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), CertificateError> {
        // The chain first, so that a certificate from an unknown CA is
        // reported as such even when its name is wrong too.
        let cert = verify_chain(self.anchors, chain, now, KeyUsage::server_auth())?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(CertificateError::from_chain)
    }

    fn supported_schemes(&self) -> &[SignatureScheme] {
        WEBPKI_SCHEMES
    }

    /// The anchors' subjects, keys and name constraints, in order.
    fn policy_digest(&self) -> Option<[u8; 32]> {
        Some(policy_hash(
            b"tlspair webpki server verifier",
            anchor_parts(self.anchors),
        ))
    }
}

/// What a set of trust anchors decides by, in order: each anchor's
/// subject, key and name constraints.
fn anchor_parts<'x>(anchors: &'x [TrustAnchor<'_>]) -> impl Iterator<Item = &'x [u8]> + Clone {
    anchors.iter().flat_map(|a| {
        let constraints: &[u8] = a.name_constraints.as_ref().map_or(&[], |c| c.as_ref());
        [
            a.subject.as_ref(),
            a.subject_public_key_info.as_ref(),
            constraints,
        ]
    })
}

/// The default client verifier for mutual TLS: X.509 path validation by
/// rustls-webpki with the client-authentication extended key usage.
///
/// A chain passes when it leads to one of the trust anchors, is within its
/// validity period at `now`, and the end-entity certificate allows client
/// authentication (id-kp-clientAuth, or no extended key usage at all).
/// Client authentication is mandatory unless
/// [`allow_anonymous`](Self::allow_anonymous) says otherwise.
#[derive(Clone, Copy, Debug)]
pub struct WebPkiClientVerifier<'a> {
    anchors: &'a [TrustAnchor<'a>],
    mandatory: bool,
}

impl<'a> WebPkiClientVerifier<'a> {
    /// A verifier trusting `anchors`, refusing clients without a
    /// certificate.
    pub const fn new(anchors: &'a [TrustAnchor<'a>]) -> Self {
        Self {
            anchors,
            mandatory: true,
        }
    }

    /// The same verifier, but letting clients without a certificate
    /// through unauthenticated. A client that does send one must still
    /// pass.
    pub const fn allow_anonymous(self) -> Self {
        Self {
            mandatory: false,
            ..self
        }
    }
}

impl ClientCertVerifier for WebPkiClientVerifier<'_> {
    fn verify_tls12_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        verify_tls12_signature(
            end_entity,
            scheme,
            message,
            signature,
            self.supported_schemes(),
        )
    }

    fn verify_client_cert(
        &self,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), CertificateError> {
        verify_chain(self.anchors, chain, now, KeyUsage::client_auth()).map(drop)
    }

    fn supported_schemes(&self) -> &[SignatureScheme] {
        WEBPKI_SCHEMES
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    /// The anchors' subjects, keys and name constraints, in order, and
    /// whether a certificate is required.
    fn policy_digest(&self) -> [u8; 32] {
        let mode: &[u8] = if self.mandatory {
            b"required"
        } else {
            b"optional"
        };
        policy_hash(
            b"tlspair webpki client verifier",
            core::iter::once(mode).chain(anchor_parts(self.anchors)),
        )
    }
}

/// Accepts exactly the peers whose end-entity certificate carries a pinned
/// public key: the SHA-256 of its SubjectPublicKeyInfo ([`spki_sha256`])
/// equals one of the pins.
///
/// By design it ignores everything else about the certificate: issuer,
/// names, validity dates, key usage. The pin *is* the trust decision, as
/// with a raw public key (RFC 7250), so a pinned key works with a
/// self-signed certificate, an expired one, or one for another name; and
/// no CA, however trusted, can vouch for a key that is not pinned.
/// Intermediates are ignored. The CertificateVerify signature is still
/// verified with the certificate's key, which is what proves the peer
/// holds the pinned key.
///
/// As a [`ClientCertVerifier`] it makes client authentication mandatory.
#[derive(Clone, Debug)]
pub struct SpkiPinVerifier {
    pins: ArrayVec<[u8; SPKI_SHA256_LEN], MAX_PINS>,
}

impl SpkiPinVerifier {
    /// A verifier accepting the keys pinned in `pins` (1 to [`MAX_PINS`]
    /// SHA-256 digests, copied in).
    ///
    /// # Errors
    ///
    /// [`Misuse::BadConfig`] when `pins` is empty (nothing would pass) or
    /// longer than [`MAX_PINS`].
    pub fn new(pins: &[[u8; SPKI_SHA256_LEN]]) -> Result<Self, Error> {
        if pins.is_empty() {
            return Err(Misuse::BadConfig("SPKI pin set is empty").into());
        }
        let pins = ArrayVec::try_from(pins)
            .map_err(|_| Misuse::BadConfig("more SPKI pins than MAX_PINS"))?;
        Ok(Self { pins })
    }

    /// The pins this verifier accepts.
    pub fn pins(&self) -> &[[u8; SPKI_SHA256_LEN]] {
        &self.pins
    }

    fn check(&self, chain: &[CertificateDer<'_>]) -> Result<(), CertificateError> {
        let (end_entity, _) = split_chain(chain)?;
        let hash = spki_sha256(end_entity)?;
        // Pins are public values, so a plain comparison leaks nothing.
        if self.pins.contains(&hash) {
            Ok(())
        } else {
            Err(CertificateError::PinMismatch)
        }
    }
}

impl ServerCertVerifier for SpkiPinVerifier {
    fn verify_tls12_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        verify_tls12_signature(
            end_entity,
            scheme,
            message,
            signature,
            ServerCertVerifier::supported_schemes(self),
        )
    }

    /// Accepts the chain when its end-entity key is pinned; `server_name`
    /// and `now` are ignored by design (see the type's documentation).
    fn verify_server_cert(
        &self,
        chain: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _now: UnixTime,
    ) -> Result<(), CertificateError> {
        self.check(chain)
    }

    /// The same check: a pin names no server.
    fn verify_server_cert_unnamed(
        &self,
        chain: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<(), CertificateError> {
        self.check(chain)
    }

    /// Only the CertificateVerify schemes: no certificate signature is
    /// checked, so PKCS#1 v1.5 is not needed.
    fn supported_schemes(&self) -> &[SignatureScheme] {
        TLS13_VERIFY_SCHEMES
    }

    /// The pins.
    fn policy_digest(&self) -> Option<[u8; 32]> {
        Some(policy_hash(
            b"tlspair SPKI pin verifier",
            self.pins.iter().map(|p| &p[..]),
        ))
    }
}

impl ClientCertVerifier for SpkiPinVerifier {
    fn verify_tls12_signature(
        &self,
        end_entity: &CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        verify_tls12_signature(
            end_entity,
            scheme,
            message,
            signature,
            ClientCertVerifier::supported_schemes(self),
        )
    }

    /// Accepts the chain when its end-entity key is pinned; `now` is
    /// ignored by design.
    fn verify_client_cert(
        &self,
        chain: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<(), CertificateError> {
        self.check(chain)
    }

    fn supported_schemes(&self) -> &[SignatureScheme] {
        TLS13_VERIFY_SCHEMES
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn policy_digest(&self) -> [u8; 32] {
        policy_hash(
            b"tlspair SPKI pin verifier",
            self.pins.iter().map(|p| &p[..]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: usize) -> ([u8; DER_HEADER_MAX], Result<usize, CertificateError>) {
        let mut out = [0u8; DER_HEADER_MAX];
        let n = der_sequence_header(len, &mut out);
        (out, n)
    }

    #[test]
    fn der_sequence_header_uses_the_minimal_length_form() {
        // (contents length, expected header), per X.690 §8.1.3 and §10.1.
        let cases: [(usize, &[u8]); 7] = [
            (0, &[0x30, 0x00]),
            (91, &[0x30, 0x5b]), // a P-256 SPKI
            (127, &[0x30, 0x7f]),
            (128, &[0x30, 0x81, 0x80]),
            (255, &[0x30, 0x81, 0xff]),
            (290, &[0x30, 0x82, 0x01, 0x22]), // an RSA-2048 SPKI
            (65_536, &[0x30, 0x83, 0x01, 0x00, 0x00]),
        ];
        for (len, expected) in cases {
            let (out, n) = header(len);
            assert_eq!(n, Ok(expected.len()), "{len}");
            assert_eq!(&out[..expected.len()], expected, "{len}");
        }
    }
}
