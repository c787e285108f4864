//! Our side of authentication: the private key behind our certificate, and
//! the content a TLS 1.3 CertificateVerify signs.
//!
//! [`SigningKey`] holds one *ring* key pair: ECDSA P-256, ECDSA P-384,
//! Ed25519, or (feature `alloc`) RSA. It picks the scheme to sign with from
//! what the peer offered ([`SigningKey::scheme_for`]) and signs into a
//! buffer the caller owns ([`SigningKey::sign`]). ECDSA and Ed25519 signing
//! allocate nothing; *ring*'s RSA needs an allocator, which is why RSA keys
//! exist only with `alloc` (docs/architecture.md counts its allocations).
//!
//! [`certificate_verify_message`] builds the signed content of RFC 8446
//! §4.4.3 on the stack.
//!
//! [`Signer`] is what a [`CertifiedKey`](crate::handshake::CertifiedKey)
//! signs with: a [`SigningKey`] in this process, or a key held elsewhere
//! (an HSM, PKCS#11, a cloud KMS) whose signature may come later. A signer
//! that answers [`Signing::Pending`] makes the handshake answer
//! [`Status::SignaturePending`](crate::Status::SignaturePending); the
//! embedder calls again once its signer has the signature.

use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};

use crate::error::{Error, Misuse};
use crate::wire::SignatureScheme;

/// The longest signature [`SigningKey::sign`] writes: 512 bytes, an RSA
/// signature with the largest modulus *ring* signs with (4,096 bits / 8).
///
/// The other keys need less: Ed25519 64 bytes; ECDSA DER-encodes
/// `SEQUENCE { INTEGER r, INTEGER s }`, at most 2 + 2 × (2 + 1 + 32) = 72
/// bytes on P-256 and 2 + 2 × (2 + 1 + 48) = 104 on P-384 (each integer may
/// take a leading zero byte to stay positive).
pub const MAX_SIGNATURE_LEN: usize = 4096 / 8;

/// The longest transcript hash a TLS 1.3 CertificateVerify covers: 48
/// bytes, SHA-384. Every TLS 1.3 cipher suite hashes with SHA-256 or
/// SHA-384 (RFC 8446 §B.4).
pub const MAX_TRANSCRIPT_HASH_LEN: usize = 48;

/// The two context strings of RFC 8446 §4.4.3; both are 33 bytes.
const SERVER_CONTEXT: &[u8; 33] = b"TLS 1.3, server CertificateVerify";
const CLIENT_CONTEXT: &[u8; 33] = b"TLS 1.3, client CertificateVerify";

/// The octet 0x20 repeated this many times opens the signed content
/// (RFC 8446 §4.4.3): it pushes the attacker-influenced randoms of older
/// TLS versions' signed structures out of the prefix.
const PAD_LEN: usize = 64;

/// The longest content [`certificate_verify_message`] builds: 146 bytes =
/// 64 (pad) + 33 (context string) + 1 (zero separator) + 48
/// ([`MAX_TRANSCRIPT_HASH_LEN`]).
pub const MAX_CERTIFICATE_VERIFY_MESSAGE_LEN: usize =
    PAD_LEN + SERVER_CONTEXT.len() + 1 + MAX_TRANSCRIPT_HASH_LEN;

/// Who signs a CertificateVerify: the context string differs so that a
/// server's signature can never pass for a client's, or the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// The server signs: "TLS 1.3, server CertificateVerify".
    Server,
    /// The client signs: "TLS 1.3, client CertificateVerify".
    Client,
}

impl Context {
    /// The context string RFC 8446 §4.4.3 assigns to this signer.
    pub const fn context_string(self) -> &'static [u8] {
        match self {
            Self::Server => SERVER_CONTEXT,
            Self::Client => CLIENT_CONTEXT,
        }
    }
}

/// Builds in `out` the content a TLS 1.3 CertificateVerify signs (RFC 8446
/// §4.4.3): 64 bytes of 0x20, the context string, one 0 byte, then
/// `transcript_hash` (Transcript-Hash(Handshake Context, Certificate)).
/// Returns the filled front of `out`.
///
/// # Errors
///
/// [`Error::Internal`] when `transcript_hash` is longer than
/// [`MAX_TRANSCRIPT_HASH_LEN`]: no TLS 1.3 suite has such a hash, so the
/// handshake passed something that is not one.
pub fn certificate_verify_message<'o>(
    context: Context,
    transcript_hash: &[u8],
    out: &'o mut [u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN],
) -> Result<&'o [u8], Error> {
    if transcript_hash.len() > MAX_TRANSCRIPT_HASH_LEN {
        return Err(Error::Internal(
            "transcript hash longer than any TLS 1.3 hash",
        ));
    }
    let context = context.context_string();
    let (pad, rest) = out.split_at_mut(PAD_LEN);
    pad.fill(0x20);
    let (ctx, rest) = rest.split_at_mut(context.len());
    ctx.copy_from_slice(context);
    let (separator, rest) = rest.split_at_mut(1);
    separator.fill(0);
    let (hash, _) = rest.split_at_mut(transcript_hash.len());
    hash.copy_from_slice(transcript_hash);
    // Bounded by the splits above; were it not, `get` would refuse it.
    let len = PAD_LEN
        .saturating_add(context.len())
        .saturating_add(1)
        .saturating_add(transcript_hash.len());
    out.get(..len)
        .ok_or(Error::Internal("CertificateVerify content length"))
}

/// What [`Signer::sign`] answers.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// The signature is the first `n` bytes of `out`.
    Done(usize),
    /// Not yet. The handshake stops with
    /// [`Status::SignaturePending`](crate::Status::SignaturePending)
    /// (what it wrote so far is in the outgoing view, to be sent) and asks
    /// again, with the same request, on each later call of the connection.
    Pending,
}

/// One CertificateVerify signature to make (RFC 8446 §4.4.3).
#[non_exhaustive]
#[derive(Clone, Copy)]
pub struct SignRequest<'a> {
    /// The scheme, one of [`Signer::schemes`] that the peer offered.
    pub scheme: SignatureScheme,
    /// The content to sign: in TLS 1.3 [`certificate_verify_message`]'s
    /// output (at most 146 bytes); in TLS 1.2 a ServerKeyExchange's
    /// signed parameters (at most 165 bytes) or, for a client's
    /// CertificateVerify, every handshake message before it (kilobytes:
    /// a remote signer with a size limit should hash it and sign the
    /// digest with the scheme's hash, where its interface allows). The
    /// same bytes on every poll of one handshake, and different for every
    /// handshake (both randoms are in it), so a remote signer can key its
    /// pending operations by it.
    pub message: &'a [u8],
    /// The first time this handshake asks (start the operation), or a
    /// later poll of the same request.
    pub first: bool,
    /// The configuration's randomness, for signers that need it.
    pub rng: &'a dyn SecureRandom,
}

impl core::fmt::Debug for SignRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignRequest")
            .field("scheme", &self.scheme)
            .field("message_len", &self.message.len())
            .field("first", &self.first)
            .finish_non_exhaustive()
    }
}

/// A private key that signs CertificateVerify messages, in this process
/// ([`SigningKey`]) or not (an HSM, PKCS#11 token or KMS).
///
/// `Send + Sync`: one signer serves every connection of a configuration,
/// on any thread.
pub trait Signer: Send + Sync {
    /// The schemes this key signs with, in our order of preference.
    /// Schemes TLS 1.3 forbids in CertificateVerify (PKCS#1 v1.5, SHA-1)
    /// are never used there, whatever this lists; TLS 1.2's
    /// ServerKeyExchange may use PKCS#1 v1.5 with SHA-256/384/512, never
    /// SHA-1 or MD5.
    fn schemes(&self) -> &[SignatureScheme];

    /// The longest signature this key makes, at most
    /// [`MAX_SIGNATURE_LEN`]: the room `out` of [`sign`](Self::sign) gets.
    fn max_signature_len(&self) -> usize;

    /// Signs `request.message` with `request.scheme` into `out`, or says
    /// the signature is pending. Called again with the same request on
    /// each later call of the connection until it answers `Done` or fails.
    ///
    /// # Errors
    ///
    /// Any error fails the handshake with an `internal_error` alert (as
    /// [`Error::Internal`]; an `Internal` error keeps its text).
    fn sign(&self, request: &SignRequest<'_>, out: &mut [u8]) -> Result<Signing, Error>;

    /// The handshake that asked for `request`, still pending, will not ask
    /// again: its connection was dropped, shut down or failed. A signer
    /// that keeps pending operations (keyed by `request.message`) frees
    /// this one. By default nothing.
    fn cancel(&self, request: &SignRequest<'_>) {
        let _ = request;
    }

    /// The handshake that asked for `request` (still pending) would like
    /// `waker` woken once the signature is ready, so that an async task
    /// waits instead of asking again at once. Return `true` if it will be
    /// (keep a clone; a later registration for the same request replaces
    /// it), `false` if this signer cannot: the async adapters then poll
    /// again on the next turn of the executor. A signature that is ready
    /// already must wake `waker` at once (or the task sleeps for ever).
    /// By default `false`.
    fn wake_when_ready(&self, request: &SignRequest<'_>, waker: &core::task::Waker) -> bool {
        let _ = (request, waker);
        false
    }
}

impl Signer for SigningKey {
    fn schemes(&self) -> &[SignatureScheme] {
        SigningKey::schemes(self)
    }

    fn max_signature_len(&self) -> usize {
        SigningKey::max_signature_len(self)
    }

    fn sign(&self, request: &SignRequest<'_>, out: &mut [u8]) -> Result<Signing, Error> {
        SigningKey::sign(self, request.scheme, request.message, request.rng, out).map(Signing::Done)
    }
}

/// The first scheme in `offered` that `signer` lists and TLS 1.2 allows
/// in a ServerKeyExchange: TLS 1.3's, and RSASSA-PKCS1-v1_5 with SHA-256,
/// SHA-384 or SHA-512; never SHA-1, MD5 or SHA-224.
pub fn scheme_for_tls12(
    signer: &dyn Signer,
    offered: impl IntoIterator<Item = SignatureScheme>,
) -> Option<SignatureScheme> {
    let ours = signer.schemes();
    offered
        .into_iter()
        .find(|scheme| ours.contains(scheme) && tls12_allows(*scheme))
}

/// Whether we sign or verify with `scheme` in TLS 1.2: SHA-256 and
/// stronger (0x04..=0x06 hashes of RFC 5246, and the 0x08 schemes of RFC
/// 8446 that RFC 8422 and RFC 8446 §4.2.3 allow in TLS 1.2), never SHA-1,
/// SHA-224 or MD5.
pub(crate) fn tls12_allows(scheme: SignatureScheme) -> bool {
    let [hash, _] = scheme.0.to_be_bytes();
    hash >= 0x07 || (0x04..=0x06).contains(&hash)
}

/// The first scheme in `offered` (the peer's order of preference, RFC
/// 8446 §4.2.3) that `signer` lists and TLS 1.3 allows in a
/// CertificateVerify.
pub fn scheme_for(
    signer: &dyn Signer,
    offered: impl IntoIterator<Item = SignatureScheme>,
) -> Option<SignatureScheme> {
    let ours = signer.schemes();
    offered.into_iter().find(|scheme| {
        ours.contains(scheme) && crate::verify::tls13_allows_in_certificate_verify(*scheme)
    })
}

/// The kind of key a [`SigningKey`] holds.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA (2,048 to 4,096 bits; feature `alloc`).
    Rsa,
}

/// A private key for signing CertificateVerify messages.
///
/// Built once from PKCS#8 and shared by every connection that presents the
/// matching certificate; signing takes `&self`.
pub struct SigningKey(Inner);

enum Inner {
    EcdsaP256(EcdsaKeyPair),
    EcdsaP384(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    #[cfg(feature = "alloc")]
    Rsa(signature::RsaKeyPair),
}

/// The one scheme TLS 1.3 allows for each ECDSA curve and for Ed25519: the
/// curve is part of the scheme (RFC 8446 §4.2.3), unlike in TLS 1.2.
const P256_SCHEMES: &[SignatureScheme] = &[SignatureScheme::ECDSA_SECP256R1_SHA256];
const P384_SCHEMES: &[SignatureScheme] = &[SignatureScheme::ECDSA_SECP384R1_SHA384];
const ED25519_SCHEMES: &[SignatureScheme] = &[SignatureScheme::ED25519];
/// RSA signs only with PSS in TLS 1.3 (RFC 8446 §4.4.3), with an
/// rsaEncryption key ("rsae"); PKCS#1 v1.5 comes last, for the TLS 1.2
/// ServerKeyExchange of clients that offer nothing else (TLS 1.3's
/// scheme choice never takes it).
#[cfg(feature = "alloc")]
const RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    SignatureScheme::RSA_PSS_RSAE_SHA384,
    SignatureScheme::RSA_PSS_RSAE_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

/// What `from_pkcs8` says when no key type accepts the document.
#[cfg(feature = "alloc")]
const NOT_A_KEY: &str = "signing key: not PKCS#8 for ECDSA P-256/P-384, Ed25519 or RSA 2048-4096";
#[cfg(not(feature = "alloc"))]
const NOT_A_KEY: &str =
    "signing key: not PKCS#8 for ECDSA P-256/P-384 or Ed25519 (RSA needs feature alloc)";

impl SigningKey {
    /// Parses an unencrypted PKCS#8 private key (`openssl pkcs8 -topk8
    /// -nocrypt -outform DER`), detecting its type by trying each in turn:
    /// ECDSA P-256, ECDSA P-384, Ed25519, RSA. *ring* checks the algorithm
    /// identifier and the key's consistency on each try.
    ///
    /// `rng` is needed by *ring* to check an ECDSA key pair.
    ///
    /// Ed25519 keys may be PKCS#8 v1 (no public key, as OpenSSL writes them)
    /// or v2; the public key is then derived from the private one.
    ///
    /// # Errors
    ///
    /// [`Misuse::BadConfig`] when no supported key type accepts `der`
    /// (without feature `alloc`, RSA keys are refused).
    pub fn from_pkcs8(der: &[u8], rng: &dyn SecureRandom) -> Result<Self, Error> {
        let p256 = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let p384 = &signature::ECDSA_P384_SHA384_ASN1_SIGNING;
        if let Ok(key) = EcdsaKeyPair::from_pkcs8(p256, der, rng) {
            return Ok(Self(Inner::EcdsaP256(key)));
        }
        if let Ok(key) = EcdsaKeyPair::from_pkcs8(p384, der, rng) {
            return Ok(Self(Inner::EcdsaP384(key)));
        }
        if let Ok(key) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Ok(Self(Inner::Ed25519(key)));
        }
        #[cfg(feature = "alloc")]
        if let Ok(key) = signature::RsaKeyPair::from_pkcs8(der) {
            return Ok(Self(Inner::Rsa(key)));
        }
        Err(Misuse::BadConfig(NOT_A_KEY).into())
    }

    /// The kind of key this is.
    pub fn kind(&self) -> KeyKind {
        match &self.0 {
            Inner::EcdsaP256(_) => KeyKind::EcdsaP256,
            Inner::EcdsaP384(_) => KeyKind::EcdsaP384,
            Inner::Ed25519(_) => KeyKind::Ed25519,
            #[cfg(feature = "alloc")]
            Inner::Rsa(_) => KeyKind::Rsa,
        }
    }

    /// The schemes this key can sign with, in our order of preference:
    /// for RSA the PSS ones, then PKCS#1 v1.5 (TLS 1.2 only).
    pub fn schemes(&self) -> &'static [SignatureScheme] {
        match &self.0 {
            Inner::EcdsaP256(_) => P256_SCHEMES,
            Inner::EcdsaP384(_) => P384_SCHEMES,
            Inner::Ed25519(_) => ED25519_SCHEMES,
            #[cfg(feature = "alloc")]
            Inner::Rsa(_) => RSA_SCHEMES,
        }
    }

    /// The first scheme in `offered` that this key can sign with, or `None`
    /// when there is none (the handshake then fails with
    /// `handshake_failure`).
    ///
    /// `offered` is the peer's signature_algorithms list, which is in the
    /// peer's order of preference (RFC 8446 §4.2.3), so the peer's
    /// preference wins among the schemes [`schemes`](Self::schemes) allows.
    pub fn scheme_for(
        &self,
        offered: impl IntoIterator<Item = SignatureScheme>,
    ) -> Option<SignatureScheme> {
        let ours = self.schemes();
        offered.into_iter().find(|scheme| {
            ours.contains(scheme) && crate::verify::tls13_allows_in_certificate_verify(*scheme)
        })
    }

    /// The longest signature this key makes: what `out` of
    /// [`sign`](Self::sign) must hold. At most [`MAX_SIGNATURE_LEN`].
    pub fn max_signature_len(&self) -> usize {
        match &self.0 {
            // See MAX_SIGNATURE_LEN for the DER arithmetic.
            Inner::EcdsaP256(_) => 72,
            Inner::EcdsaP384(_) => 104,
            Inner::Ed25519(_) => 64,
            #[cfg(feature = "alloc")]
            Inner::Rsa(key) => key.public().modulus_len(),
        }
    }

    /// The public key, in the encoding *ring* uses for this key type (an
    /// uncompressed point for ECDSA, 32 bytes for Ed25519, a DER
    /// `RSAPublicKey` for RSA). Not a SubjectPublicKeyInfo.
    pub fn public_key(&self) -> &[u8] {
        match &self.0 {
            Inner::EcdsaP256(key) | Inner::EcdsaP384(key) => key.public_key().as_ref(),
            Inner::Ed25519(key) => key.public_key().as_ref(),
            #[cfg(feature = "alloc")]
            Inner::Rsa(key) => key.public_key().as_ref(),
        }
    }

    /// Signs `message` (for TLS 1.3, the output of
    /// [`certificate_verify_message`]) with `scheme`, writing the signature
    /// to the front of `out` and returning its length.
    ///
    /// ECDSA and RSA-PSS signatures are randomized with `rng`; Ed25519 is
    /// deterministic and ignores it. ECDSA and Ed25519 allocate nothing.
    ///
    /// # Errors
    ///
    /// - [`Misuse::BadConfig`] when `scheme` is not one of
    ///   [`schemes`](Self::schemes), or `out` is shorter than
    ///   [`max_signature_len`](Self::max_signature_len); nothing is written.
    /// - [`Error::Internal`] when *ring* fails to sign (a failing `rng`).
    pub fn sign(
        &self,
        scheme: SignatureScheme,
        message: &[u8],
        rng: &dyn SecureRandom,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        if !self.schemes().contains(&scheme) {
            return Err(Misuse::BadConfig("signature scheme does not fit the signing key").into());
        }
        let room = out
            .get_mut(..self.max_signature_len())
            .ok_or(Misuse::BadConfig(
                "signature buffer shorter than the key's max_signature_len",
            ))?;
        const FAILED: Error = Error::Internal("signing failed (random number generator)");
        let sig = match &self.0 {
            Inner::EcdsaP256(key) | Inner::EcdsaP384(key) => {
                key.sign(rng, message).map_err(|_| FAILED)?
            }
            Inner::Ed25519(key) => key.sign(message),
            #[cfg(feature = "alloc")]
            Inner::Rsa(key) => {
                let padding: &'static dyn signature::RsaEncoding = match scheme {
                    SignatureScheme::RSA_PSS_RSAE_SHA256 => &signature::RSA_PSS_SHA256,
                    SignatureScheme::RSA_PSS_RSAE_SHA384 => &signature::RSA_PSS_SHA384,
                    SignatureScheme::RSA_PSS_RSAE_SHA512 => &signature::RSA_PSS_SHA512,
                    SignatureScheme::RSA_PKCS1_SHA256 => &signature::RSA_PKCS1_SHA256,
                    SignatureScheme::RSA_PKCS1_SHA384 => &signature::RSA_PKCS1_SHA384,
                    SignatureScheme::RSA_PKCS1_SHA512 => &signature::RSA_PKCS1_SHA512,
                    _ => return Err(Error::Internal("RSA_SCHEMES and the RSA paddings disagree")),
                };
                // RSA writes straight into `out`: the signature is exactly
                // the modulus length, which `room` is.
                key.sign(padding, rng, message, room).map_err(|_| FAILED)?;
                return Ok(room.len());
            }
        };
        let sig = sig.as_ref();
        // max_signature_len bounds every ECDSA/Ed25519 signature, so this
        // cannot fail; it is checked rather than indexed all the same.
        room.get_mut(..sig.len())
            .ok_or(Error::Internal("signature longer than max_signature_len"))?
            .copy_from_slice(sig);
        Ok(sig.len())
    }
}

impl core::fmt::Debug for SigningKey {
    /// Shows the key type only: never key material.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SigningKey").field(&self.kind()).finish()
    }
}
