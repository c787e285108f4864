//! TLS 1.3 post-handshake client authentication (RFC 8446 §4.6.2).
//!
//! ```text
//! server: request_client_auth ──{CertificateRequest(context)}──►
//! client: read ──{Certificate(context), [CertificateVerify], Finished}──►
//! server: read verifies all three at once, then tells the AuthHook
//! ```
//!
//! Each exchange signs over the main handshake's transcript through the
//! client's Finished, then its own messages (§4.4): both sides keep that
//! transcript after the handshake, in the bytes the handshake state
//! occupied, and each exchange continues a copy of it. Finished is keyed
//! by the client's current application traffic secret.
//!
//! A server names each request with a two-byte context, its number: it
//! keeps up to [`MAX_AUTH_REQUESTS`] unanswered and never repeats a
//! context, so an answer cannot be replayed into another request. It
//! handles an answer once its messages are all in the received view, so
//! nothing of the client's certificate is kept between records.

use super::messages::{
    encode_certificate_request, split_message, CertificateRequest, HANDSHAKE_HEADER_LEN,
};
use super::{flight_room, room_sum, ClientConfig, Negotiated, Out, ServerConfig};
use crate::error::{Error, InvalidMessage, Misuse, PeerIncompatible, PeerMisbehaved};
use crate::key_schedule::{Hash, Secret, Transcript, MAX_HASH_LEN};
use crate::record::protect::RecordKey;
use crate::record::suite::Suite;
use crate::record::RECORD_OVERHEAD;
use crate::sign::Context as SignContext;
use crate::wire::{ContentType, HandshakeType, SignatureScheme};
use rustls_pki_types::UnixTime;

/// Requests a server keeps unanswered at once.
pub const MAX_AUTH_REQUESTS: u8 = 8;
// One bit each in a byte, by the low three bits of the request number.
const _: () = assert!(MAX_AUTH_REQUESTS == 8);

/// Longest CertificateRequest a server writes: its header, a two-byte
/// context and signature_algorithms with up to 240 schemes.
const MAX_REQUEST_LEN: usize = 4 + 3 + 2 + 6 + 480;

/// What a server learns from one answer to its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerAuth {
    /// The request answered: 0 for the first
    /// [`request_client_auth`](crate::Connection::request_client_auth),
    /// counting up.
    pub request: u16,
    /// SHA-256 of the client's end-entity certificate; `None`: the
    /// client sent none (allowed only when the verifier does not make
    /// client authentication mandatory).
    pub peer_cert_sha256: Option<[u8; 32]>,
    /// What the client verifier named the client, if it did.
    pub peer_identity: Option<u64>,
}

/// Told, on the server, of each answer to a post-handshake
/// certificate request once its Finished has verified
/// ([`ServerConfig::auth_hook`]).
pub trait AuthHook: Send + Sync {
    /// The connection tagged `connection`
    /// ([`Connection::set_tag`](crate::Connection::set_tag)) was answered.
    /// Called from within the `read` that verified the answer.
    fn authenticated(&self, connection: u64, auth: &PeerAuth);

    /// The TLS 1.2 connection tagged `connection` completed a secure
    /// renegotiation: `auth.request` is its number (from 1), the rest
    /// what is now in force (the client's certificate, present if this
    /// renegotiation or an earlier handshake verified one). Called from
    /// within the call that read the client's Finished. By default,
    /// nothing.
    fn renegotiated(&self, connection: u64, auth: &PeerAuth) {
        let _ = (connection, auth);
    }

    /// The client of the connection tagged `connection` refused the
    /// renegotiation [`Connection::renegotiate`](crate::Connection::renegotiate)
    /// asked for, with a no_renegotiation warning; the connection goes on
    /// as it was. By default, nothing.
    fn renegotiation_refused(&self, connection: u64) {
        let _ = connection;
    }
}

/// What a connection keeps after its handshake, in the bytes the
/// handshake state took: for TLS 1.3 post-handshake authentication, or
/// for a TLS 1.2 secure renegotiation.
pub(crate) enum PostAuth {
    Client(ClientAuth),
    Server(ServerAuth),
    Tls12(super::tls12::Secured),
}

/// A client that offered post_handshake_auth.
pub(crate) struct ClientAuth {
    suite: &'static Suite,
    /// Through our Finished.
    base: Transcript,
    /// Requests answered so far.
    answered: u8,
    /// Our signer said "pending" for the request at the front of the
    /// received view: its scheme and the transcript hash it signs, so
    /// the next call asks it again (not anew), and a waker or a cancel
    /// can name the request.
    signing: Option<(SignatureScheme, Hash)>,
}

/// A server whose client offered post_handshake_auth.
pub(crate) struct ServerAuth {
    suite: &'static Suite,
    /// Through the client's Finished.
    base: Transcript,
    /// Requests made (the next one's number).
    made: u16,
    /// Requests written to the peer (the rest are queued).
    written: u16,
    /// Unanswered requests, written or queued: bit `n % 8` for request
    /// `n`, one of the last eight made.
    outstanding: u8,
    /// The time each unanswered request was made (by its bit), which its
    /// answer's certificate is checked at.
    made_at: [u64; 8],
}

impl PostAuth {
    pub(crate) fn client(suite: &'static Suite, base: Transcript) -> Self {
        Self::Client(ClientAuth {
            suite,
            base,
            answered: 0,
            signing: None,
        })
    }

    pub(crate) fn server(suite: &'static Suite, base: Transcript) -> Self {
        Self::Server(ServerAuth {
            suite,
            base,
            made: 0,
            written: 0,
            outstanding: 0,
            made_at: [0; 8],
        })
    }
}

/// The context that names request `n`.
fn context(n: u16) -> [u8; 2] {
    n.to_be_bytes()
}

/// Bit of request `n` in `outstanding`.
fn bit(n: u16) -> u8 {
    // The low three bits: 0 to 7.
    1u8.checked_shl(u32::from(n & 7)).unwrap_or(0)
}

impl ServerAuth {
    /// Queues a request, checked against `config`'s verifier.
    pub(crate) fn request(
        &mut self,
        config: &ServerConfig<'_>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let verifier = config.client_verifier.ok_or(Misuse::NoPostHandshakeAuth)?;
        if request_len(verifier.supported_schemes()) > MAX_REQUEST_LEN {
            return Err(Misuse::BadConfig("a client verifier with at most 240 schemes").into());
        }
        if self.outstanding & bit(self.made) != 0 || self.made == u16::MAX {
            return Err(Misuse::TooManyAuthRequests.into());
        }
        self.outstanding |= bit(self.made);
        if let Some(at) = self.made_at.get_mut(usize::from(self.made & 7)) {
            *at = now.as_secs();
        }
        self.made = self.made.saturating_add(1);
        Ok(())
    }

    /// Requests made and not yet written.
    pub(crate) fn queued(&self) -> bool {
        self.written < self.made
    }

    /// Forgets the requests not yet written (our close_notify is out).
    pub(crate) fn drop_queued(&mut self) {
        for n in self.written..self.made {
            self.outstanding &= !bit(n);
        }
        self.made = self.written;
    }

    /// Requests unanswered.
    pub(crate) fn outstanding(&self) -> u8 {
        // At most 8.
        u8::try_from(self.outstanding.count_ones()).unwrap_or(u8::MAX)
    }

    /// Room the next queued request takes as records of `fragment`.
    pub(crate) fn room(&self, config: &ServerConfig<'_>, fragment: usize) -> usize {
        let schemes = config
            .client_verifier
            .map_or(&[][..], |v| v.supported_schemes());
        flight_room(request_len(schemes), fragment, RECORD_OVERHEAD)
    }

    /// Writes the next queued request under `send`.
    pub(crate) fn write(
        &mut self,
        config: &ServerConfig<'_>,
        send: &mut RecordKey,
        out: &mut Out<'_>,
    ) -> Result<(), Error> {
        let schemes = config
            .client_verifier
            .map_or(&[][..], |v| v.supported_schemes());
        let n = self.written;
        out.records(Some(send), ContentType::HANDSHAKE, |w| {
            Ok(encode_certificate_request(w, &context(n), schemes)?)
        })?;
        self.written = self.written.saturating_add(1);
        Ok(())
    }

    /// The request that `context` names, if it is unanswered.
    fn answered_request(&self, context: &[u8]) -> Option<u16> {
        let n = u16::from_be_bytes(context.try_into().ok()?);
        // Among the last eight made, its bit is its own: a later request
        // with the same bit was made only once this one was answered.
        let recent = self.made.checked_sub(n)? <= u16::from(MAX_AUTH_REQUESTS);
        let unanswered = self.outstanding & bit(n) != 0;
        (n < self.written && recent && unanswered).then_some(n)
    }

    /// Handles the client's answer at the front of `region`, a
    /// Certificate: `None` until its CertificateVerify (if it sent a
    /// certificate) and Finished are in the region too; then the bytes
    /// they take and what was learnt, with `negotiated` updated and the
    /// verified chain kept.
    pub(crate) fn answer(
        &mut self,
        config: &ServerConfig<'_>,
        region: &[u8],
        client_key: &Secret,
        negotiated: &mut Option<Negotiated>,
        peer_chain: &mut dyn crate::conn::KeepChain,
    ) -> Result<Option<(usize, PeerAuth)>, Error> {
        let unexpected = PeerMisbehaved::UnexpectedHandshake(HandshakeType::CERTIFICATE);
        let Some((_, _, total)) = split_message(region) else {
            return Ok(None);
        };
        if self.outstanding == 0 {
            return Err(unexpected.into());
        }
        let cert_msg = region.get(..total).unwrap_or(&[]);
        let chain =
            super::parse_certificate_in(cert_msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]))?;
        let request =
            self.answered_request(chain.context)
                .ok_or(PeerMisbehaved::IllegalParameter(
                    "certificate_request_context",
                ))?;
        let verifier = config
            .client_verifier
            .ok_or(Error::Internal("no client verifier"))?;
        let ders = chain.ders();
        // The messages that must follow: CertificateVerify (with a
        // certificate), then Finished.
        // Each is refused on its header, before it is awaited: another
        // type, or a length no such message has.
        let mut at = total;
        let hash_len = self.suite.hash_len;
        let mut next = |expected: HandshakeType| -> Result<Option<&[u8]>, Error> {
            let rest = region.get(at..).unwrap_or(&[]);
            let (Some(&ty), Some(len)) = (rest.first(), super::messages::announced_len(rest))
            else {
                return Ok(None);
            };
            if HandshakeType(ty) != expected {
                return Err(PeerMisbehaved::UnexpectedHandshake(HandshakeType(ty)).into());
            }
            let fits = match expected {
                // Scheme, length, signature.
                HandshakeType::CERTIFICATE_VERIFY => len <= 4 + crate::sign::MAX_SIGNATURE_LEN,
                _ => len == hash_len,
            };
            if !fits {
                return Err(InvalidMessage::Handshake("post-handshake answer length").into());
            }
            match split_message(rest) {
                Some((_, _, n)) => {
                    at = at.saturating_add(n);
                    Ok(rest.get(..n))
                }
                None => Ok(None),
            }
        };
        let cv = if ders.is_empty() {
            None
        } else {
            match next(HandshakeType::CERTIFICATE_VERIFY)? {
                Some(cv) => Some(cv),
                None => return Ok(None),
            }
        };
        let Some(finished) = next(HandshakeType::FINISHED)? else {
            return Ok(None);
        };
        let consumed = at;

        let mut transcript = self.base.clone();
        let mut sent = [0u8; MAX_REQUEST_LEN];
        let mut w = crate::codec::Writer::new(&mut sent);
        encode_certificate_request(&mut w, &context(request), verifier.supported_schemes())?;
        transcript.add(w.written());
        transcript.add(cert_msg);
        let mut auth = PeerAuth {
            request,
            peer_cert_sha256: None,
            peer_identity: None,
        };
        match (ders.first(), cv) {
            (Some(end_entity), Some(cv)) => {
                let made_at = self.made_at.get(usize::from(request & 7)).copied();
                let now = UnixTime::since_unix_epoch(core::time::Duration::from_secs(
                    made_at.unwrap_or(0),
                ));
                let context = super::server::client_cert_context(config, negotiated.as_ref(), now);
                let identity = verifier.verify_client_cert_in(&ders, &context)?;
                let (_, sha) = super::check_certificate_verify(
                    SignContext::Client,
                    verifier.supported_schemes(),
                    end_entity,
                    &mut transcript,
                    cv,
                    |ee, scheme, msg, sig| verifier.verify_signature(ee, scheme, msg, sig),
                )?;
                auth.peer_cert_sha256 = Some(sha);
                auth.peer_identity = identity;
            }
            _ if verifier.client_auth_mandatory() => {
                return Err(PeerIncompatible::CertificateRequired.into());
            }
            _ => {}
        }
        // RFC 8446 §4.4.4: the wrong length does not decode; the right
        // length with the wrong MAC does not verify.
        let verify_data = finished.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
        if verify_data.len() != self.suite.hash_len {
            return Err(InvalidMessage::Handshake("finished length").into());
        }
        if !client_key.verify_finished(self.suite, &transcript.current(), verify_data)? {
            return Err(PeerMisbehaved::BadFinished.into());
        }
        self.outstanding &= !bit(request);
        if auth.peer_cert_sha256.is_some() {
            if let Some(n) = negotiated.as_mut() {
                n.peer_cert_sha256 = auth.peer_cert_sha256;
                n.peer_identity = auth.peer_identity;
            }
            peer_chain.keep(&ders);
        }
        Ok(Some((consumed, auth)))
    }
}

/// Bytes of a CertificateRequest listing `schemes`.
fn request_len(schemes: &[SignatureScheme]) -> usize {
    room_sum([4 + 3 + 2 + 6, schemes.len().saturating_mul(2)])
}

/// What a client's answer to a request came to.
pub(crate) enum Answered {
    /// Our flight is written.
    Written,
    /// Our signer has not answered: nothing written, the request stays.
    Pending,
}

impl ClientAuth {
    /// Whether we answer the request `body` (a CertificateRequest after
    /// its header): within our count, and well formed.
    pub(crate) fn check(&self, config: &ClientConfig<'_>, body: &[u8]) -> Result<(), Error> {
        if self.answered >= config.post_handshake_auth {
            return Err(PeerMisbehaved::TooManyAuthRequests.into());
        }
        CertificateRequest::parse(body)
            .map(drop)
            .map_err(super::client::extension_error)
    }

    /// Forgets a pending signature (the request will not be answered).
    pub(crate) fn forget_signature(&mut self) {
        self.signing = None;
    }

    /// Whether our signer has not answered for the request at the front
    /// of the received view.
    pub(crate) fn awaits_signature(&self) -> bool {
        self.signing.is_some()
    }

    /// The pending signer and its request, for `f` (a waker, a cancel);
    /// `None` unless a signature is pending.
    pub(crate) fn pending_signature<R>(
        &self,
        config: &ClientConfig<'_>,
        f: impl FnOnce(&dyn crate::sign::Signer, &crate::sign::SignRequest<'_>) -> R,
    ) -> Option<R> {
        let (scheme, hash) = self.signing?;
        let auth = config.client_auth.as_ref()?;
        let mut content = [0u8; crate::sign::MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
        let message = crate::sign::certificate_verify_message(
            SignContext::Client,
            hash.as_bytes(),
            &mut content,
        )
        .ok()?;
        Some(f(
            &*auth.key,
            &crate::sign::SignRequest {
                scheme,
                message,
                first: false,
                rng: config.rng,
            },
        ))
    }

    /// Room our answer to any request takes, as records of `fragment`:
    /// our Certificate (with the longest context a request may name, so
    /// that the room, and a `SendBufferTooSmall`, depend on our
    /// configuration and never on the peer), CertificateVerify and
    /// Finished at their largest.
    pub(crate) fn room(config: &ClientConfig<'_>, fragment: usize) -> usize {
        let context = usize::from(u8::MAX);
        let chain = config.client_auth.as_ref().map_or(0, |a| {
            room_sum(a.chain.iter().map(|d| d.as_ref().len().saturating_add(5)))
        });
        let m = room_sum([
            4 + 1 + 3,
            context,
            chain,
            8,
            crate::sign::MAX_SIGNATURE_LEN,
            4 + MAX_HASH_LEN,
        ]);
        flight_room(m, fragment, RECORD_OVERHEAD)
    }

    /// Answers the CertificateRequest `msg` (`body` after its header)
    /// with our certificate, signature and Finished under `send`, or an
    /// empty Certificate and Finished when we have no key for the
    /// schemes it lists (RFC 8446 §4.4.2.3).
    pub(crate) fn answer(
        &mut self,
        config: &ClientConfig<'_>,
        msg: &[u8],
        body: &[u8],
        send: &mut RecordKey,
        out: &mut Out<'_>,
    ) -> Result<Answered, Error> {
        self.check(config, body)?;
        let request = CertificateRequest::parse(body).map_err(super::client::extension_error)?;
        let auth = config.client_auth.as_ref().and_then(|a| {
            crate::sign::scheme_for(
                &*a.key,
                request.signature_algorithms.iter().map(SignatureScheme),
            )
            .map(|scheme| (a, scheme))
        });
        let suite = self.suite;
        let mut transcript = self.base.clone();
        transcript.add(msg);
        // Keyed by the secret of the key that seals it (§4.4).
        let finished_key = send.secret().finished_key(suite)?;
        let first = self.signing.is_none();
        let mut pending = None;
        out.records_if(Some(send), ContentType::HANDSHAKE, |w| {
            super::write_certificate(
                w,
                &mut transcript,
                request.context,
                auth.map(|(a, _)| &a.chain),
            )?;
            if let Some((a, scheme)) = auth {
                let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
                let Some(n) = super::sign_certificate_verify(
                    &*a.key,
                    scheme,
                    SignContext::Client,
                    &transcript,
                    config.rng,
                    first,
                    &mut sig,
                )?
                else {
                    pending = Some((scheme, transcript.current()));
                    return Ok(false);
                };
                super::write_certificate_verify(
                    w,
                    &mut transcript,
                    scheme,
                    sig.get(..n).unwrap_or(&[]),
                )?;
            }
            super::write_finished(w, &mut transcript, suite, &finished_key)?;
            Ok(true)
        })?;
        if pending.is_some() {
            self.signing = pending;
            return Ok(Answered::Pending);
        }
        self.signing = None;
        self.answered = self.answered.saturating_add(1);
        Ok(Answered::Written)
    }
}
