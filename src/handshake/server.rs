//! The TLS 1.3 server state machine (RFC 8446 §2, §4).
//!
//! ```text
//! ExpectClientHello ──ServerHello, CCS, {EncryptedExtensions, [CertificateRequest],
//!   Certificate, CertificateVerify, Finished}──► [ExpectCertificate] ──► ExpectFinished ──► done
//! ```
//!
//! The ClientHello is handled only once the outgoing view has room for the
//! whole first flight, so the state never has to remember a half-answered
//! ClientHello: it stays in the received view until it can be answered.

use super::client::{map_extension_error, Keys, Polled, Step};
use super::messages::{
    encode_new_session_ticket, split_message, ClientHello, EncryptedExtensionsOut,
    HelloRetryRequestOut, OfferedPsks, ServerHelloOut, HANDSHAKE_HEADER_LEN, PSK_DHE_KE, PSK_KE,
};
use super::{flight_room, room_sum, CertifiedKey, Negotiated, Out, Records, ServerConfig};
use rustls_pki_types::UnixTime;

use crate::codec::DecodeError;
use crate::conn::{AfterHandshake, EarlyPhase};
use crate::error::{Error, InvalidMessage, PeerIncompatible, PeerMisbehaved};
use crate::key_schedule::{EarlySecret, HandshakeSecret, MasterSecret, Secret, Transcript};
use crate::record::protect::RecordKey;
use crate::record::suite::Suite;
use crate::record::RECORD_OVERHEAD;
use crate::sign::Context as SignContext;
use crate::verify::ClientCertContext;
use crate::wire::{
    ContentType, ExtensionType, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme,
};

/// The server's states, named for the message each waits for.
#[allow(clippy::enum_variant_names)]
pub(crate) enum State {
    /// Nothing received yet.
    ExpectClientHello(Kept),
    /// We sent a HelloRetryRequest.
    ExpectRetriedClientHello(Kept, Retry),
    /// Our flight is out; the client's certificate is due (we asked).
    ExpectCertificate(Kept, Keyed),
    /// Our flight is out; the client's Finished is due.
    ExpectFinished(Kept, Keyed),
    /// Our flight is out up to our Certificate; the signer has not
    /// answered yet.
    AwaitSignature(Kept, Unsigned),
    /// We answered with TLS 1.2.
    Tls12(Kept, super::tls12::ServerState),
}

/// What every state carries. The configuration is not among it: the
/// connection holds it (borrowed or shared) and hands it to each call.
#[derive(Clone, Copy)]
pub(crate) struct Kept {
    /// The time client certificates and tickets are checked against.
    now: UnixTime,
}

impl State {
    /// A TLS 1.2 renegotiation whose flight is out, its certificates
    /// checked at `now`.
    pub(crate) fn renegotiation(now: UnixTime, s: super::tls12::ServerState) -> Self {
        Self::Tls12(Kept { now }, s)
    }

    /// A TLS 1.2 handshake that has the client's ChangeCipherSpec and
    /// waits for its Finished.
    pub(crate) fn awaits_finished_after_change(&self) -> bool {
        matches!(self, Self::Tls12(_, s) if s.awaits_finished_after_change())
    }
}

impl Kept {
    fn with<'c>(self, config: &'c ServerConfig<'c>) -> Common<'c> {
        Common {
            config,
            now: self.now,
        }
    }
}

/// What a step works with: the state's `Kept` and the configuration.
#[derive(Clone, Copy)]
pub(crate) struct Common<'c> {
    pub config: &'c ServerConfig<'c>,
    pub now: UnixTime,
}

impl Common<'_> {
    fn keep(&self) -> Kept {
        Kept { now: self.now }
    }
}

/// What a HelloRetryRequest settled, for the second ClientHello.
pub(crate) struct Retry {
    suite: &'static Suite,
    group: NamedGroup,
    transcript: Transcript,
    ccs_sent: bool,
    /// What the second ClientHello must repeat of the first.
    hello: [u8; 32],
    /// The first ClientHello offered a PSK: only then may the second
    /// (RFC 8446 §4.1.2 lets it update or remove one, not add one).
    psk: bool,
}

/// What a ClientHello led to.
enum Answer {
    /// Our first flight is out.
    Flight(Keyed, bool),
    /// A HelloRetryRequest is out.
    Retry(Retry),
    /// Our flight is out up to our Certificate; the signature is pending.
    Signing(Unsigned),
    /// A TLS 1.2 flight is out.
    Tls12(super::tls12::ServerState),
}

/// Our flight up to the Certificate, waiting for its signature.
pub(crate) struct Unsigned {
    suite: &'static Suite,
    /// Through our Certificate.
    transcript: Transcript,
    secret: HandshakeSecret,
    /// The certificate (index into the configuration's) and scheme.
    cert: u8,
    scheme: SignatureScheme,
    /// The client's random, for the key log.
    client_random: [u8; 32],
    ask_cert: bool,
    auth_time: u64,
    server_name: Option<[u8; 16]>,
    /// The client offered post_handshake_auth.
    pha: bool,
}

/// State after our first flight.
pub(crate) struct Keyed {
    suite: &'static Suite,
    transcript: Transcript,
    client_ap: Secret,
    /// For the resumption secret, once the client's Finished is in.
    master: MasterSecret,
    /// Time of the full handshake this session comes from (now, or the
    /// resumed ticket's): the tickets we issue inherit it.
    auth_time: u64,
    /// The SNI's digest, for the tickets we issue.
    server_name: Option<[u8; 16]>,
    /// The client offered post_handshake_auth.
    pha: bool,
}

/// What the ClientHello at the front of `region` sets in the room of our
/// answer: the largest share we may answer it with, now or after a
/// HelloRetryRequest (for a group of ours it lists, the only groups its
/// shares may name; none: a failure), and
/// the record_size_limit it sends, which cuts our protected records at
/// once (RFC 8449 §4). So the room a first ClientHello is told holds the
/// flight that answers the second one too, a server that meets only
/// classical clients is not asked for a hybrid's room, and a client with
/// a small limit gets the records' overhead counted. Only the first
/// message counts, as the step reads it; out of line, so the parse's
/// working space is not in the frame of the step that follows.
#[inline(never)]
fn first_flight_shape(config: &ServerConfig<'_>, region: &[u8]) -> (usize, Option<u16>) {
    let body = super::messages::split_message(region)
        .filter(|(ty, _, _)| *ty == HandshakeType::CLIENT_HELLO)
        .and_then(|(_, _, total)| region.get(super::messages::HANDSHAKE_HEADER_LEN..total));
    let Some(ch) = body.and_then(|b| super::messages::ClientHello::parse(b).ok()) else {
        return (0, None);
    };
    // Listed groups alone: a share for any other is refused
    // (`check_key_shares`), and must not make the room, and with it a
    // misuse, come before that alert.
    let share = ch
        .ext
        .supported_groups
        .into_iter()
        .flat_map(|l| l.iter())
        .map(NamedGroup)
        .filter(|g| config.groups.contains(g))
        .filter_map(super::kx::server_share_len)
        .max()
        .unwrap_or(0);
    (share, ch.ext.record_size_limit)
}

/// Room for the fixed part of our first flight: the ServerHello without
/// its share's public value (4 + 70 + 6 + 8 < 100; the share, up to
/// [`super::kx::MAX_SHARE_LEN`], and its record headers are added), the
/// CCS record (6), and inside the protected flight EncryptedExtensions
/// (≤ 4 + 2 + 4 + 6 + 4 + 2 + 1 + 255 + 4 < 300), CertificateVerify headers
/// (8) and Finished (4 + 48); a CertificateRequest adds
/// [`CERTIFICATE_REQUEST`] and two bytes per scheme it lists.
const FIXED_HELLO: usize = 100;
const CCS_RECORD: usize = 6;
const FIXED_PROTECTED: usize = 300 + 8 + 52;
/// A CertificateRequest without its schemes: the header (4), an empty
/// context (1), the extensions' length (2), signature_algorithms'
/// header and list length (6): 13 < 28.
const CERTIFICATE_REQUEST: usize = 28;

/// What a client verifier sees of the connection: the SNI and the ALPN
/// protocol chosen (in `negotiated`), and the connection's time.
pub(crate) fn client_cert_context<'c>(
    config: &'c ServerConfig<'c>,
    negotiated: Option<&'c Negotiated>,
    now: UnixTime,
) -> ClientCertContext<'c> {
    ClientCertContext {
        server_name: negotiated
            .and_then(|n| n.server_name.as_ref())
            .map(super::HostName::as_str),
        alpn: negotiated
            .and_then(|n| n.alpn_index)
            .and_then(|i| config.alpn.get(usize::from(i)).copied()),
        now,
    }
}

impl State {
    pub fn new(now: UnixTime) -> Self {
        Self::ExpectClientHello(Kept { now })
    }

    /// Whether a TLS 1.2 client's ChangeCipherSpec is due.
    pub fn expects_change_cipher_spec(&self) -> bool {
        matches!(self, Self::Tls12(_, s) if s.expects_change_cipher_spec())
    }

    /// A TLS 1.2 client's ChangeCipherSpec: switches the receiving key.
    pub fn change_cipher_spec(self, records: &mut Records) -> Result<Self, Error> {
        match self {
            Self::Tls12(kept, s) => Ok(Self::Tls12(kept, s.change_cipher_spec(records)?)),
            _ => Err(PeerMisbehaved::UnexpectedContentType(ContentType::CHANGE_CIPHER_SPEC).into()),
        }
    }

    /// Whether no ClientHello has come yet.
    pub fn awaits_client_hello(&self) -> bool {
        matches!(self, Self::ExpectClientHello(_))
    }

    /// Whether our flight is out and the client's Finished is due (our
    /// application key is in place).
    pub fn awaits_client_finished(&self) -> bool {
        matches!(self, Self::ExpectFinished(..))
    }

    /// Whether the client still waits for our first flight.
    pub fn owes_flight(&self) -> bool {
        matches!(
            self,
            Self::ExpectClientHello(_)
                | Self::ExpectRetriedClientHello(..)
                | Self::AwaitSignature(..)
                | Self::Tls12(..)
        )
    }

    /// Whether the handshake waits for our signer.
    pub fn awaits_signature(&self) -> bool {
        match self {
            Self::AwaitSignature(..) => true,
            Self::Tls12(_, s) => s.awaits_signature(),
            _ => false,
        }
    }

    /// The pending signer and its request, for `f`; `None` unless a
    /// signature is pending.
    pub fn pending_signature<R>(
        &self,
        config: &ServerConfig<'_>,
        f: impl FnOnce(&dyn crate::sign::Signer, &crate::sign::SignRequest<'_>) -> R,
    ) -> Option<R> {
        if let Self::Tls12(_, s) = self {
            return s.pending_signature(config, f);
        }
        let Self::AwaitSignature(kept, u) = self else {
            return None;
        };
        let c = kept.with(config);
        let cert = c.config.certs.get(usize::from(u.cert))?;
        super::pending_request(
            &*cert.key,
            u.scheme,
            SignContext::Server,
            &u.transcript,
            c.config.rng,
            f,
        )
    }

    /// Asks the signer again; with the signature, writes the rest of our
    /// flight.
    pub fn poll_signature(
        self,
        config: &ServerConfig<'_>,
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<Polled<Self>, Error> {
        let (kept, mut u) = match self {
            Self::AwaitSignature(kept, u) => (kept, u),
            Self::Tls12(kept, s) => {
                return Ok(match s.poll_signature(config, keys, out)? {
                    Polled::Pending(s) => Polled::Pending(Self::Tls12(kept, s)),
                    Polled::Signed(s) => Polled::Signed(s.map(|s| Self::Tls12(kept, s))),
                })
            }
            other => return Ok(Polled::Pending(other)),
        };
        let c = kept.with(config);
        let cert = c
            .config
            .certs
            .get(usize::from(u.cert))
            .ok_or(Error::Internal("pending certificate index"))?;
        let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
        let Some(n) = super::sign_certificate_verify(
            &*cert.key,
            u.scheme,
            SignContext::Server,
            &u.transcript,
            c.config.rng,
            false,
            &mut sig,
        )?
        else {
            return Ok(Polled::Pending(Self::AwaitSignature(c.keep(), u)));
        };
        let sig = sig.get(..n).unwrap_or(&[]);
        super::write_signed_tail(out, keys.records, u.suite, &mut u.transcript, u.scheme, sig)?;
        let ask_cert = u.ask_cert;
        let keyed = finish_flight(c.config, u, keys)?;
        Ok(Polled::Signed(Some(if ask_cert {
            Self::ExpectCertificate(c.keep(), keyed)
        } else {
            Self::ExpectFinished(c.keep(), keyed)
        })))
    }

    /// Room in the outgoing view the next step may need.
    /// Room the step that handles `message` (the ClientHello, for the
    /// first flight) may write.
    pub fn room_needed(&self, config: &ServerConfig<'_>, fragment: usize, message: &[u8]) -> usize {
        match self {
            Self::AwaitSignature(..) => super::signature_room(fragment),
            Self::ExpectFinished(kept, _) => {
                let c = kept.with(config);
                let n = if c.config.ticket_keys.is_empty() {
                    0
                } else {
                    usize::from(c.config.tickets)
                };
                n.saturating_mul(flight_room(TICKET_MESSAGE_LEN, fragment, RECORD_OVERHEAD))
            }
            Self::ExpectClientHello(kept) | Self::ExpectRetriedClientHello(kept, _) => {
                let c = kept.with(config);
                let chain = c
                    .config
                    .certs
                    .iter()
                    .map(|ck| room_sum(ck.chain.iter().map(|d| d.len().saturating_add(5))))
                    .max()
                    .map_or(0, |chain| chain.saturating_add(8));
                // A CertificateRequest lists the client verifier's schemes.
                let request = c.config.client_verifier.map_or(0, |v| {
                    v.supported_schemes()
                        .len()
                        .saturating_mul(2)
                        .saturating_add(CERTIFICATE_REQUEST)
                });
                let protected = room_sum([
                    FIXED_PROTECTED,
                    request,
                    chain,
                    crate::sign::MAX_SIGNATURE_LEN,
                ]);
                let (share, limit) = first_flight_shape(c.config, message);
                let hello = FIXED_HELLO.saturating_add(share);
                // The client's limit cuts the protected records as the
                // step does (`client_hello`).
                let protected_fragment = limit.map_or(fragment, |l| {
                    fragment.min(usize::from(l).saturating_sub(1).max(1))
                });
                let tls13 = room_sum([
                    flight_room(hello, fragment, crate::record::HEADER_LEN),
                    CCS_RECORD,
                    flight_room(protected, protected_fragment, RECORD_OVERHEAD),
                ]);
                // A TLS 1.2 answer, when we speak it.
                let tls12 = if c.config.suites.iter().any(|s| s.is_tls12()) {
                    super::tls12::server_first_flight_room(c.config, fragment)
                } else {
                    0
                };
                tls13.max(tls12)
            }
            Self::Tls12(_, s) => s.room_needed(config, fragment),
            _ => 0,
        }
    }

    /// Handles the messages at the front of `region`.
    pub fn handle(
        self,
        config: &ServerConfig<'_>,
        region: &[u8],
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<Step<Self>, Error> {
        let Some((ty, _, total)) = split_message(region) else {
            return Ok(Step {
                next: Some(self),
                consumed: 0,
            });
        };
        let msg = region.get(..total).unwrap_or(&[]);
        let body = msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
        match (self, ty) {
            (Self::Tls12(kept, s), _) => {
                let step = s.handle(config, kept.now.as_secs(), region, keys, out)?;
                Ok(Step {
                    next: step.next.map(|n| Self::Tls12(kept, n)),
                    consumed: step.consumed,
                })
            }
            (Self::ExpectClientHello(kept), HandshakeType::CLIENT_HELLO) => {
                let c = kept.with(config);
                let next = match client_hello(&c, None, msg, body, keys, out)? {
                    Answer::Flight(keyed, true) => Self::ExpectCertificate(c.keep(), keyed),
                    Answer::Flight(keyed, false) => Self::ExpectFinished(c.keep(), keyed),
                    Answer::Retry(retry) => Self::ExpectRetriedClientHello(c.keep(), retry),
                    Answer::Signing(u) => Self::AwaitSignature(c.keep(), u),
                    Answer::Tls12(s) => Self::Tls12(c.keep(), s),
                };
                Ok(Step {
                    next: Some(next),
                    consumed: total,
                })
            }
            (Self::ExpectRetriedClientHello(kept, retry), HandshakeType::CLIENT_HELLO) => {
                let c = kept.with(config);
                let next = match client_hello(&c, Some(retry), msg, body, keys, out)? {
                    Answer::Flight(keyed, true) => Self::ExpectCertificate(c.keep(), keyed),
                    Answer::Flight(keyed, false) => Self::ExpectFinished(c.keep(), keyed),
                    Answer::Signing(u) => Self::AwaitSignature(c.keep(), u),
                    // client_hello never asks twice, nor falls to TLS 1.2
                    // after a HelloRetryRequest.
                    Answer::Retry(_) | Answer::Tls12(_) => {
                        return Err(Error::Internal("second HelloRetryRequest"))
                    }
                };
                Ok(Step {
                    next: Some(next),
                    consumed: total,
                })
            }
            (Self::ExpectCertificate(kept, mut k), HandshakeType::CERTIFICATE) => {
                let c = kept.with(config);
                let chain = super::parse_certificate(body)?;
                let verifier = c
                    .config
                    .client_verifier
                    .ok_or(Error::Internal("no client verifier"))?;
                let ders = chain.ders();
                let Some(end_entity) = ders.first() else {
                    if verifier.client_auth_mandatory() {
                        return Err(PeerIncompatible::CertificateRequired.into());
                    }
                    k.transcript.add(msg);
                    return Ok(Step {
                        next: Some(Self::ExpectFinished(c.keep(), k)),
                        consumed: total,
                    });
                };
                let Some(cv) = super::paired_certificate_verify(region, total)? else {
                    return Ok(Step {
                        next: Some(Self::ExpectCertificate(c.keep(), k)),
                        consumed: 0,
                    });
                };
                let context = client_cert_context(config, keys.negotiated.as_ref(), c.now);
                let identity = verifier.verify_client_cert_in(&ders, &context)?;
                k.transcript.add(msg);
                let (_, sha) = super::check_certificate_verify(
                    SignContext::Client,
                    verifier.supported_schemes(),
                    end_entity,
                    &mut k.transcript,
                    cv,
                    |ee, scheme, msg, sig| verifier.verify_signature(ee, scheme, msg, sig),
                )?;
                if let Some(n) = keys.negotiated.as_mut() {
                    n.peer_cert_sha256 = Some(sha);
                    n.peer_identity = identity;
                }
                keys.peer_chain.keep(&ders);
                Ok(Step {
                    next: Some(Self::ExpectFinished(c.keep(), k)),
                    // Both messages lie in the region.
                    consumed: total.saturating_add(cv.len()),
                })
            }
            // RFC 8446 §4.5: the end of the 0-RTT data we took; the
            // client's handshake key follows. Its Finished before it is
            // unexpected.
            (Self::ExpectFinished(kept, mut k), HandshakeType::END_OF_EARLY_DATA)
                if keys.resumption.takes_early_data() =>
            {
                if !body.is_empty() {
                    return Err(InvalidMessage::Handshake("end of early data length").into());
                }
                let bad = Error::Internal("handshake keys missing");
                let AfterHandshake::EarlyAccepted(client_hs, _) = &*keys.resumption else {
                    return Err(bad);
                };
                let key = RecordKey::new(k.suite, client_hs.as_bytes()).ok_or(bad)?;
                // Assigned, not moved out: the secret is wiped in place.
                *keys.resumption = AfterHandshake::None;
                keys.records.set_recv(key)?;
                // The transcript still ends at our Finished: the exporter
                // (made at our flight, but the early one held its slot).
                let (_, _, exporter) = k
                    .master
                    .application_secrets(k.suite, &k.transcript.current())?;
                *keys.exporter = Some(exporter);
                k.transcript.add(msg);
                Ok(Step {
                    next: Some(Self::ExpectFinished(kept, k)),
                    consumed: total,
                })
            }
            (Self::ExpectFinished(..), HandshakeType::FINISHED)
                if keys.resumption.takes_early_data() =>
            {
                Err(PeerMisbehaved::UnexpectedHandshake(HandshakeType::FINISHED).into())
            }
            (Self::ExpectFinished(kept, mut k), HandshakeType::FINISHED) => {
                let c = kept.with(config);
                let bad = Error::Internal("handshake keys missing");
                let client_hs = keys.records.recv().ok_or(bad)?.secret();
                // RFC 8446 §4.4.4: the wrong length does not decode; the
                // right length with the wrong MAC does not verify.
                if body.len() != k.suite.hash_len {
                    return Err(InvalidMessage::Handshake("finished length").into());
                }
                if !client_hs.verify_finished(k.suite, &k.transcript.current(), body)? {
                    return Err(PeerMisbehaved::BadFinished.into());
                }
                k.transcript.add(msg);
                keys.records
                    .set_recv(RecordKey::new(k.suite, k.client_ap.as_bytes()).ok_or(bad)?)?;
                issue_tickets(&c, &k, keys, out)?;
                // Through the client's Finished: what post-handshake
                // authentication signs over (RFC 8446 §4.4), kept where
                // this state was.
                if k.pha && c.config.client_verifier.is_some() {
                    *keys.post_auth = Some(super::post_auth::PostAuth::server(
                        k.suite,
                        k.transcript.clone(),
                    ));
                }
                Ok(Step {
                    next: None,
                    consumed: total,
                })
            }
            (_, ty) => Err(PeerMisbehaved::UnexpectedHandshake(ty).into()),
        }
    }
}

/// Picks the certificate for the client's SNI and schemes: chains with
/// the SNI as an exact name first, then those whose wildcard covers it,
/// then the unnamed defaults (also for clients that send no SNI), each
/// with the first scheme the key supports among the client's.
fn choose_cert<'a>(
    certs: &'a [CertifiedKey<'a>],
    sni: Option<&[u8]>,
    schemes: &crate::codec::U16List<'_>,
) -> Option<(usize, &'a CertifiedKey<'a>, SignatureScheme)> {
    choose_cert_for(
        certs,
        sni,
        || schemes.iter().map(SignatureScheme),
        |k, o| crate::sign::scheme_for(k, o),
    )
}

/// [`choose_cert`] over the schemes `offered` yields (each call a fresh
/// walk, in the client's order).
pub(crate) fn choose_cert_for<'a, I: Iterator<Item = SignatureScheme>>(
    certs: &'a [CertifiedKey<'a>],
    sni: Option<&[u8]>,
    offered: impl Fn() -> I,
    pick: impl Fn(&dyn crate::sign::Signer, I) -> Option<SignatureScheme>,
) -> Option<(usize, &'a CertifiedKey<'a>, SignatureScheme)> {
    // Exact names first, then wildcards, then the defaults.
    let named = |wild: bool| {
        move |(_, ck): &(usize, &CertifiedKey<'_>)| {
            sni.is_some_and(|name| {
                ck.server_names.iter().any(|pattern| {
                    pattern.starts_with("*.") == wild && name_matches(pattern.as_bytes(), name)
                })
            })
        }
    };
    let exact = certs.iter().enumerate().filter(named(false));
    let wildcard = certs.iter().enumerate().filter(named(true));
    let defaults = certs
        .iter()
        .enumerate()
        .filter(|(_, ck)| ck.server_names.is_empty());
    exact
        .chain(wildcard)
        .chain(defaults)
        .find_map(|(i, ck)| pick(&*ck.key, offered()).map(|s| (i, ck, s)))
}

/// Whether SNI `name` is `pattern`: the same name (ASCII case
/// insensitive), or for `*.rest`, one label (non-empty, no dot) followed
/// by `.rest` (RFC 6125 §6.4.3: the wildcard is the whole left-most label
/// and covers exactly one).
fn name_matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.strip_prefix(b"*.") {
        Some(rest) => name
            .iter()
            .position(|&b| b == b'.')
            .filter(|&dot| dot > 0)
            .and_then(|dot| name.get(dot.saturating_add(1)..))
            .is_some_and(|tail| !rest.is_empty() && tail.eq_ignore_ascii_case(rest)),
        None => pattern.eq_ignore_ascii_case(name),
    }
}

/// A NewSessionTicket of ours: lifetime, age_add, nonce (1 + 1), ticket
/// (2 + sealed), extensions (2, and 8 for early_data), header (4).
const TICKET_MESSAGE_LEN: usize = 4 + 4 + 4 + 2 + 2 + super::ticket::SEALED_TICKET_LEN + 2 + 8;

/// Sends the configured number of NewSessionTickets (RFC 8446 §4.6.1),
/// each under the resumption secret of this connection, sealed with the
/// first ticket key. The issue time is the connection's `now`: the
/// engine has no clock of its own.
fn issue_tickets(
    c: &Common<'_>,
    k: &Keyed,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<(), Error> {
    let config = c.config;
    let Some(ticket_key) = config.ticket_keys.first() else {
        return Ok(());
    };
    // A ticket lives no longer than the session it resumes: the configured
    // lifetime counts from the full handshake, however often renewed.
    let now = c.now.as_secs();
    let end = k
        .auth_time
        .saturating_add(u64::from(session_lifetime(config)));
    let lifetime = u32::try_from(end.saturating_sub(now)).unwrap_or(u32::MAX);
    if lifetime == 0 {
        return Ok(());
    }
    let res = k
        .master
        .resumption_secret(k.suite, &k.transcript.current())?;
    let negotiated = keys.negotiated.as_ref();
    let client_cert = negotiated.and_then(|n| n.peer_cert_sha256);
    let client_identity = negotiated.and_then(|n| n.peer_identity);
    let alpn = negotiated
        .and_then(|n| n.alpn_index)
        .and_then(|i| config.alpn.get(usize::from(i)))
        .map(|p| super::ticket::digest(p, false));
    let policy = super::ticket::client_auth_policy(config.client_verifier);
    let bad = Error::Internal("ticket");
    // 0-RTT is advertised only where it can be taken.
    let max_early_data =
        Some(config.max_early_data_size).filter(|n| *n > 0 && config.replay_guard.is_some());
    for i in 0..config.tickets {
        let nonce = [i];
        let mut add = [0u8; 4];
        config.rng.fill(&mut add).map_err(|_| bad)?;
        let age_add = u32::from_be_bytes(add);
        let state = super::ticket::TicketState {
            suite: k.suite.id,
            issued_at: now,
            auth_time: k.auth_time,
            lifetime,
            age_add,
            client_auth_policy: policy,
            client_cert,
            client_identity,
            server_name: k.server_name,
            alpn,
            max_early_data: max_early_data.unwrap_or(0),
            psk: res.expand(k.suite, b"resumption", &nonce)?,
            extended_master_secret: true,
        };
        // Holds the plain state until sealed in place: wiped either way.
        let mut sealed = zeroize::Zeroizing::new([0u8; super::ticket::SEALED_TICKET_LEN]);
        let n = super::ticket::seal(ticket_key, &state, config.rng, &mut sealed[..]).ok_or(bad)?;
        let send = keys.records.send_mut().ok_or(bad)?;
        out.records(Some(send), ContentType::HANDSHAKE, |w| {
            Ok(encode_new_session_ticket(
                w,
                lifetime,
                age_add,
                &nonce,
                sealed.get(..n).unwrap_or(&[]),
                max_early_data,
            )?)
        })?;
    }
    Ok(())
}

/// Longest run of early data (0-RTT records we cannot read, RFC 8446
/// §4.2.10) a server skips while rejecting it: 64 KiB of content, or more
/// for a larger allowance (`skipped_early_data`).
pub const MAX_SKIPPED_EARLY_DATA: u32 = 64 * 1024;

/// The content of declined early data a server skips (each record
/// counted by the content it can carry): at least
/// [`MAX_SKIPPED_EARLY_DATA`], what our tickets allow now, and what the
/// offered ticket allowed when it was issued (`ticket`, 0 if none opened).
fn skipped_early_data(config: &ServerConfig<'_>, ticket: u32) -> u32 {
    MAX_SKIPPED_EARLY_DATA
        .max(config.max_early_data_size)
        .max(ticket)
}

/// Largest gap accepted between the ticket age the client reports and the
/// one the server computes, in milliseconds (both clocks are the
/// embedders'; the server's has whole seconds only).
const TICKET_AGE_TOLERANCE_MS: u64 = 10_000;

// A restarted strike register stays closed for the longest window the
// server asks its guard to keep an offer (`takes_early_data`).
const _: () = assert!(super::replay::MAX_WINDOW_SECS > 2 * TICKET_AGE_TOLERANCE_MS / 1000);

/// The longest a session lives from its full handshake: the configured
/// ticket lifetime, at most 7 days.
pub(crate) fn session_lifetime(config: &ServerConfig<'_>) -> u32 {
    config
        .ticket_lifetime
        .min(super::ticket::MAX_TICKET_LIFETIME)
}

/// A ticket the server accepted.
struct Accepted {
    state: super::ticket::TicketState,
    index: u16,
    /// Its binder, which names the ClientHello for the replay guard.
    binder: [u8; crate::key_schedule::MAX_HASH_LEN],
    /// The ticket age the client reported, in milliseconds.
    client_age_ms: u64,
}

impl Accepted {
    fn binder(&self) -> &[u8] {
        self.binder
            .get(..self.state.psk.as_bytes().len())
            .unwrap_or(&[])
    }
}

/// Finds the first offered ticket that opens, fits the suite and is alive,
/// and checks its binder (RFC 8446 §4.2.11). A bad binder is fatal; any
/// other problem means a full handshake. `alpn`: the digest of the
/// protocol this handshake chose.
fn accept_psk(
    c: &Common<'_>,
    ch: &ClientHello<'_>,
    suite: &'static Suite,
    alpn: Option<[u8; 32]>,
    prefix: Option<&Transcript>,
    msg: &[u8],
) -> Result<Option<Accepted>, Error> {
    let config = c.config;
    let (Some(body), false) = (ch.ext.pre_shared_key, config.ticket_keys.is_empty()) else {
        return Ok(None);
    };
    let modes = ch.ext.psk_modes.unwrap_or(&[]);
    if !(modes.contains(&PSK_DHE_KE) || config.allow_psk_ke && modes.contains(&PSK_KE)) {
        return Ok(None);
    }
    let offered =
        OfferedPsks::parse(body).map_err(|DecodeError(w)| InvalidMessage::Handshake(w))?;
    let now = c.now.as_secs();
    // What a ticket must match to resume here (RFC 8446 §4.6.1): our
    // client-auth policy and the server name it was issued under. The
    // policy digest (which hashes the verifier's anchors) is made only
    // once a ticket has opened.
    let mut policy = None;
    let server_name = ch.ext.server_name.map(super::ticket::server_name_digest);
    let session_limit = u64::from(session_lifetime(config));
    let found = offered
        .identities()
        .zip(0u16..)
        .find_map(|((identity, obfuscated), index)| {
            let state = super::ticket::open(&config.ticket_keys, identity)?;
            // A TLS 1.2 ticket is never a TLS 1.3 PSK.
            let ticket_suite = Suite::from_id(state.suite).filter(|s| !s.is_tls12())?;
            let age = now.checked_sub(state.issued_at)?;
            let client_age_ms = u64::from(obfuscated.wrapping_sub(state.age_add));
            let session_age = now.checked_sub(state.auth_time)?;
            let fits = ticket_suite.hash_len == suite.hash_len
                && state.psk.as_bytes().len() == suite.hash_len
                && age < u64::from(state.lifetime)
                && session_age < session_limit
                && client_age_ms.abs_diff(age.saturating_mul(1000)) <= TICKET_AGE_TOLERANCE_MS
                && super::ticket::meets_client_auth(
                    &state,
                    config.client_verifier,
                    *policy.get_or_insert_with(|| {
                        super::ticket::client_auth_policy(config.client_verifier)
                    }),
                )
                && state.server_name == server_name
                && (state.client_cert.is_none() && state.client_identity.is_none()
                    || state.alpn == alpn);
            fits.then_some(Accepted {
                state,
                index,
                binder: [0; crate::key_schedule::MAX_HASH_LEN],
                client_age_ms,
            })
        });
    let Some(mut accepted) = found else {
        return Ok(None);
    };
    let binder = offered
        .binders()
        .nth(usize::from(accepted.index))
        .ok_or(InvalidMessage::Handshake("psk binder"))?;
    let cut = msg
        .len()
        .checked_sub(offered.binders_len)
        .ok_or(InvalidMessage::Handshake("psk binders"))?;
    let mut transcript = prefix.cloned().unwrap_or_else(|| Transcript::new(suite));
    transcript.add(msg.get(..cut).unwrap_or(&[]));
    let key = super::client::binder_key(suite, accepted.state.psk.as_bytes())?;
    if !key.verify_finished(suite, &transcript.current(), binder)? {
        return Err(PeerMisbehaved::BadBinder.into());
    }
    // It verified: as long as the PSK.
    crate::codec::copy_prefix(&mut accepted.binder, binder, binder.len());
    Ok(Some(accepted))
}

/// Whether the server takes the 0-RTT data of a ClientHello whose PSK it
/// accepted (RFC 8446 §4.2.10, §8): offered with the first identity, on a
/// ticket that allows early data, issued on a connection with the same
/// suite and ALPN protocol, under a configuration that allows it, and
/// new to the replay guard (asked last, once nothing but the guard can
/// decline, so that only offers we take are recorded). The ticket's age
/// was checked with its PSK: the same ClientHello (the same reported
/// age) passes that check until the ticket's age exceeds the reported
/// one by [`TICKET_AGE_TOLERANCE_MS`], which can be up to twice the
/// tolerance after this use; the guard keeps the offer until then.
/// `Some(allowance)` if taken.
fn takes_early_data(
    c: &Common<'_>,
    ch: &ClientHello<'_>,
    suite: &Suite,
    alpn: Option<[u8; 32]>,
    psk: &Accepted,
) -> Option<u32> {
    let config = c.config;
    let guard = config.replay_guard?;
    let allowance = config.max_early_data_size.min(psk.state.max_early_data);
    let fits = ch.ext.early_data
        && psk.index == 0
        && allowance > 0
        && psk.state.suite == suite.id
        && psk.state.alpn == alpn;
    if !fits {
        return None;
    }
    // The last second the age check passes this ClientHello in, and one.
    let last = psk
        .state
        .issued_at
        .saturating_add(psk.client_age_ms.saturating_add(TICKET_AGE_TOLERANCE_MS) / 1000);
    let until = UnixTime::since_unix_epoch(core::time::Duration::from_secs(last.saturating_add(1)));
    guard
        .first_use(psk.binder(), c.now, until)
        .then_some(allowance)
}

/// RFC 8446 §4.2.8: every key share is for a group in supported_groups,
/// once, with a key_exchange (an empty one is illegal_parameter for a
/// group we implement, a decode error for one we do not know). Linear in
/// both lists, whatever their lengths. Not inlined: its 8 KiB set stays
/// off the stack of the rest of the ClientHello's handling.
#[inline(never)]
fn check_key_shares(ch: &ClientHello<'_>) -> Result<(), Error> {
    let Some(shares) = ch.ext.key_shares else {
        return Ok(());
    };
    // RFC 8446 §9.2: key_share needs supported_groups.
    if ch.ext.supported_groups.is_none() {
        return Err(PeerMisbehaved::MissingExtension(ExtensionType::SUPPORTED_GROUPS).into());
    }
    let mut listed = super::messages::SeenTypes::new();
    for g in ch.ext.supported_groups.iter().flat_map(|l| l.iter()) {
        let _ = listed.insert(g);
    }
    for share in shares.iter() {
        // Removed once used: a second share for a group finds it gone.
        if !listed.contains(share.group.0) {
            return Err(PeerMisbehaved::IllegalParameter(
                "key_share for a group not listed, or twice",
            )
            .into());
        }
        listed.remove(share.group.0);
        if share.public.is_empty() {
            return Err(if super::kx::is_supported(share.group) {
                PeerMisbehaved::IllegalParameter("empty key_exchange").into()
            } else {
                InvalidMessage::Handshake("empty key_exchange").into()
            });
        }
    }
    Ok(())
}

fn client_hello(
    c: &Common<'_>,
    retry: Option<Retry>,
    msg: &[u8],
    body: &[u8],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<Answer, Error> {
    let config = c.config;
    let ch = ClientHello::parse(body).map_err(map_extension_error)?;
    // RFC 8446 §D.5: SSL 3.0 or older is refused even alongside
    // supported_versions.
    if ch.legacy_version.0 <= 0x0300 {
        return Err(PeerIncompatible::NotTls13.into());
    }
    check_key_shares(&ch)?;
    // RFC 8446 §4.2.9: a PSK offer without psk_key_exchange_modes.
    if ch.ext.pre_shared_key.is_some() && ch.ext.psk_modes.is_none() {
        return Err(PeerMisbehaved::MissingExtension(ExtensionType::PSK_KEY_EXCHANGE_MODES).into());
    }
    // RFC 8446 §4.2.10: no early data in the ClientHello after a
    // HelloRetryRequest.
    if retry.is_some() && ch.ext.early_data {
        return Err(PeerMisbehaved::IllegalParameter("early_data after HelloRetryRequest").into());
    }
    // 0-RTT is taken only by a connection whose first call was
    // `read_early`; an offer is declined unless taken below.
    let willing = *keys.early == EarlyPhase::Requested;
    if retry.is_none() {
        *keys.early = if ch.ext.early_data {
            EarlyPhase::Rejected
        } else {
            EarlyPhase::None
        };
    }
    // RFC 8446 §4.1.2: otherwise the same ClientHello, by content.
    if retry.as_ref().is_some_and(|r| r.hello != ch.retry_digest()) {
        return Err(
            PeerMisbehaved::IllegalParameter("second ClientHello differs from the first").into(),
        );
    }
    if retry.as_ref().is_some_and(|r| !r.psk) && ch.ext.pre_shared_key.is_some() {
        return Err(PeerMisbehaved::IllegalParameter(
            "pre_shared_key added after HelloRetryRequest",
        )
        .into());
    }
    // RFC 6066 §3: a host name, LDH labels without a trailing dot.
    if ch.ext.server_name.is_some_and(|n| !super::is_host_name(n)) {
        return Err(PeerMisbehaved::BadServerName.into());
    }
    // The version: TLS 1.3 whenever both sides speak it, else TLS 1.2
    // whenever both do (never after a HelloRetryRequest, which is TLS
    // 1.3's). A server whose verifier requires client certificates
    // speaks TLS 1.2 only with storage for the messages their
    // CertificateVerify signs (`Connection::keep_tls12_transcript`); one
    // whose verifier takes anonymous clients asks for a certificate only
    // then, and speaks TLS 1.2 either way.
    let tls13 = config.suites.iter().any(|s| !s.is_tls12())
        && ch
            .ext
            .supported_versions
            .is_some_and(|v| v.contains(ProtocolVersion::TLS1_3.0));
    if !tls13 {
        let tls12 = retry.is_none()
            && config.client_verifier.is_none_or(|v| {
                !v.client_auth_mandatory()
                    || super::tls12::client_auth_possible(config, &*keys.transcript_copy)
            })
            && config.suites.iter().any(|s| s.is_tls12())
            && super::tls12::client_offers_tls12(&ch);
        if !tls12 {
            return Err(PeerIncompatible::NotTls13.into());
        }
        return Ok(Answer::Tls12(super::tls12::server_client_hello(
            config,
            c.now.as_secs(),
            &ch,
            msg,
            keys,
            out,
        )?));
    }
    if ch.compression != [0] {
        return Err(PeerMisbehaved::IllegalParameter("legacy_compression_methods").into());
    }
    let suite = match &retry {
        // RFC 8446 §4.1.4: the second ClientHello must allow the suite the
        // HelloRetryRequest chose.
        Some(r) if ch.cipher_suites.contains(r.suite.id.0) => r.suite,
        Some(_) => {
            return Err(
                PeerMisbehaved::IllegalParameter("suite of the HelloRetryRequest dropped").into(),
            )
        }
        None => config
            .suites
            .iter()
            .copied()
            .find(|s| !s.is_tls12() && ch.cipher_suites.contains(s.id.0))
            .ok_or(PeerIncompatible::NoSharedSuite)?,
    };
    let alpn_index = match ch.ext.alpn {
        Some(theirs) if !config.alpn.is_empty() => Some(
            config
                .alpn
                .iter()
                .position(|ours| theirs.iter().any(|t| t == *ours))
                .ok_or(PeerIncompatible::NoSharedProtocol)?,
        ),
        _ => None,
    };
    // A client's identity was given in the context of its protocol: a
    // session that carries one resumes only under the same protocol.
    let alpn = alpn_index
        .and_then(|i| config.alpn.get(i))
        .map(|p| super::ticket::digest(p, false));
    let psk = accept_psk(
        c,
        &ch,
        suite,
        alpn,
        retry.as_ref().map(|r| &r.transcript),
        msg,
    )?;
    let dhe_allowed = psk.is_none() || ch.ext.psk_modes.is_some_and(|m| m.contains(&PSK_DHE_KE));
    // Our preference among the groups the client sent a share for.
    let chosen = ch.ext.key_shares.and_then(|shares| {
        config
            .groups
            .iter()
            .filter(|g| super::kx::is_supported(**g))
            .find_map(|g| shares.iter().find(|s| s.group == *g))
    });
    // A hybrid we prefer, which the client lists without a share, when the
    // share we got is classical: worth a round trip for post-quantum
    // security (a first ClientHello only; a hybrid share already has it).
    let hybrid_wanted = retry.is_none()
        && dhe_allowed
        && config
            .groups
            .iter()
            .copied()
            .filter(|g| super::kx::is_supported(*g))
            .find(|g| ch.ext.supported_groups.is_some_and(|l| l.contains(g.0)))
            .is_some_and(|best| {
                super::kx::is_hybrid(best)
                    && chosen.is_none_or(|s| s.group != best && !super::kx::is_hybrid(s.group))
            });
    let chosen = chosen.filter(|_| !hybrid_wanted);
    let share = match (&retry, chosen) {
        (Some(r), Some(share)) if share.group == r.group => Some(share),
        (Some(_), _) => {
            return Err(
                PeerMisbehaved::IllegalParameter("no share for the group asked for").into(),
            );
        }
        (None, Some(share)) if dhe_allowed => Some(share),
        // PSK-only resumption: no key exchange.
        (None, _) if !dhe_allowed => None,
        (None, _) => {
            let client_groups = ch
                .ext
                .supported_groups
                .ok_or(PeerMisbehaved::MissingExtension(
                    ExtensionType::SUPPORTED_GROUPS,
                ))?;
            if ch.ext.key_shares.is_none() {
                return Err(PeerMisbehaved::MissingExtension(ExtensionType::KEY_SHARE).into());
            }
            // A common group without a share: ask for one (RFC 8446 §4.1.4).
            let group = config
                .groups
                .iter()
                .copied()
                .filter(|g| super::kx::is_supported(*g))
                .find(|g| client_groups.contains(g.0))
                .ok_or(PeerIncompatible::NoSharedGroup)?;
            let mut transcript = Transcript::new(suite);
            transcript.add(msg);
            transcript.restart_with_message_hash(suite);
            out.records(None, ContentType::HANDSHAKE, |w| {
                HelloRetryRequestOut {
                    session_id: ch.session_id,
                    suite: suite.id,
                    group,
                }
                .encode(w)?;
                transcript.add(w.written());
                Ok(())
            })?;
            // We take no early data: skip the client's 0-RTT records until
            // the second ClientHello (RFC 8446 §4.2.10).
            if ch.ext.early_data {
                *keys.skip_early_data = skipped_early_data(config, 0);
            }
            // Compatibility mode: the CCS follows our first handshake
            // message, which is this one.
            let ccs_sent = !ch.session_id.is_empty();
            if ccs_sent {
                out.change_cipher_spec()?;
            }
            return Ok(Answer::Retry(Retry {
                suite,
                group,
                transcript,
                ccs_sent,
                hello: ch.retry_digest(),
                psk: ch.ext.pre_shared_key.is_some(),
            }));
        }
    };
    // A full handshake authenticates with a certificate.
    let cert = match psk {
        Some(_) => None,
        None => {
            let schemes = ch
                .ext
                .signature_algorithms
                .ok_or(PeerMisbehaved::MissingExtension(
                    ExtensionType::SIGNATURE_ALGORITHMS,
                ))?;
            Some(
                choose_cert(&config.certs, ch.ext.server_name, &schemes)
                    .ok_or(PeerIncompatible::NoSharedSignatureScheme)?,
            )
        }
    };
    let peer_limit = match ch.ext.record_size_limit {
        Some(l) if l < 64 => {
            return Err(PeerMisbehaved::IllegalParameter("record_size_limit below 64").into())
        }
        other => other,
    };

    let fail_rng = Error::Internal("random number generator failed");
    let mut random = [0u8; 32];
    config.rng.fill(&mut random).map_err(|_| fail_rng)?;
    let mut public = [0u8; super::kx::MAX_SHARE_LEN];
    let mut shared = zeroize::Zeroizing::new([0u8; super::kx::MAX_SHARED_LEN]);
    let (ours, shared_len) = match share {
        Some(share) => {
            let (n, secret) =
                super::kx::respond(share.group, share.public, config.rng, &mut public).map_err(
                    |bad_share| -> Error {
                        if bad_share {
                            PeerMisbehaved::IllegalParameter("key_share public value").into()
                        } else {
                            fail_rng
                        }
                    },
                )?;
            let m = secret.as_bytes().len();
            crate::codec::copy_prefix(&mut shared[..], secret.as_bytes(), m);
            (Some((share.group, n)), m)
        }
        // psk_ke: the (EC)DHE input is a string of zeros (RFC 8446 §7.1).
        None => (None, suite.hash_len),
    };
    let ours = ours.map(|(group, n)| (group, public.get(..n).unwrap_or(&[])));
    flight(
        c,
        ch,
        msg,
        keys,
        out,
        retry,
        suite,
        psk,
        cert,
        alpn_index,
        peer_limit,
        random,
        ours,
        shared.get(..shared_len).unwrap_or(&[]),
        willing.then_some(alpn),
    )
}

/// Writes our first flight once everything is chosen.
#[allow(clippy::too_many_arguments)]
fn flight(
    c: &Common<'_>,
    ch: ClientHello<'_>,
    msg: &[u8],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
    retry: Option<Retry>,
    suite: &'static Suite,
    psk: Option<Accepted>,
    cert: Option<(usize, &CertifiedKey<'_>, SignatureScheme)>,
    alpn_index: Option<usize>,
    peer_limit: Option<u16>,
    random: [u8; 32],
    share: Option<(NamedGroup, &[u8])>,
    shared: &[u8],
    willing: Option<Option<[u8; 32]>>,
) -> Result<Answer, Error> {
    let config = c.config;
    // 0-RTT is decided here, past every check that could still decline
    // or fail the offer: the replay guard records only what is taken.
    // (`willing`: the connection would take it, under the ALPN protocol
    // with this digest.)
    let early = match (&psk, willing) {
        (Some(p), Some(alpn)) if retry.is_none() => takes_early_data(c, &ch, suite, alpn, p),
        _ => None,
    };
    let (mut transcript, ccs_sent) = match retry {
        Some(r) => (r.transcript, r.ccs_sent),
        None => (Transcript::new(suite), false),
    };
    transcript.add(msg);
    let hello = transcript.current();
    out.records(None, ContentType::HANDSHAKE, |w| {
        ServerHelloOut {
            random: &random,
            session_id: ch.session_id,
            suite: suite.id,
            key_share: share.map(|(group, public)| super::messages::KeyShare { group, public }),
            selected_psk: psk.as_ref().map(|p| p.index),
        }
        .encode(w)?;
        transcript.add(w.written());
        Ok(())
    })?;
    let early_secret = EarlySecret::new(suite, psk.as_ref().map(|p| p.state.psk.as_bytes()))?;
    let client_early = match early {
        Some(_) => {
            let (traffic, early_exporter) = early_secret.early_secrets(suite, &hello)?;
            super::log_secret(
                config.key_log,
                "EARLY_EXPORTER_SECRET",
                ch.random,
                &early_exporter,
            );
            // The early exporter takes the exporter's slot until the
            // client's EndOfEarlyData, when the exporter is made again.
            *keys.exporter = Some(early_exporter);
            Some(traffic)
        }
        None => None,
    };
    let secret = early_secret.into_handshake(suite, shared)?;
    let (client_hs, server_hs) = secret.traffic_secrets(suite, &transcript.current())?;
    let log = config.key_log;
    if let Some(client_early) = &client_early {
        super::log_secret(log, "CLIENT_EARLY_TRAFFIC_SECRET", ch.random, client_early);
    }
    super::log_secret(
        log,
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        ch.random,
        &client_hs,
    );
    super::log_secret(
        log,
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        ch.random,
        &server_hs,
    );
    let bad = Error::Internal("handshake key derivation");
    // Taken 0-RTT data is read under the early key until the client's
    // EndOfEarlyData, which switches to the handshake key kept meanwhile
    // in the after-handshake slot.
    let recv = client_early.as_ref().unwrap_or(&client_hs);
    *keys.records = Records::Keys {
        send: RecordKey::new(suite, server_hs.as_bytes()).ok_or(bad)?,
        recv: RecordKey::new(suite, recv.as_bytes()).ok_or(bad)?,
    };
    if let (Some(allowance), Some(_)) = (early, &client_early) {
        *keys.resumption = crate::conn::AfterHandshake::EarlyAccepted(client_hs, allowance);
        *keys.early = EarlyPhase::Accepted;
    }
    // Declined 0-RTT: skip what the client sent of it (RFC 8446
    // §4.2.10), up to a bound; after a HelloRetryRequest nothing more
    // comes (the second ClientHello offers none).
    *keys.skip_early_data = if ch.ext.early_data && early.is_none() {
        skipped_early_data(config, psk.as_ref().map_or(0, |p| p.state.max_early_data))
    } else {
        0
    };
    // Compatibility mode: a client that sent a session id expects a CCS.
    if !ch.session_id.is_empty() && !ccs_sent {
        out.change_cipher_spec()?;
    }
    // RFC 8449 §4: the client's limit binds our protected records at once.
    if let Some(limit) = peer_limit {
        out.fragment = out
            .fragment
            .min(usize::from(limit).saturating_sub(1).max(1));
    }
    // Client certificates only in a full handshake (RFC 8446 §4.3.2).
    // A client that can be asked after the handshake is, when the
    // configuration defers it.
    let deferred = config.defer_client_auth && ch.ext.post_handshake_auth;
    let ask_cert = config.client_verifier.is_some() && cert.is_some() && !deferred;
    let our_limit = (config.record.recv_max_fragment_len < crate::record::MAX_PLAINTEXT
        || peer_limit.is_some())
    .then(|| {
        u16::try_from(config.record.recv_max_fragment_len.saturating_add(1)).unwrap_or(u16::MAX)
    });
    let sni = ch.ext.server_name.and_then(super::HostName::new);
    let server_name = ch.ext.server_name.map(super::ticket::server_name_digest);
    // A resumed session is the original's: its client, its age.
    let (auth_time, peer_cert_sha256, peer_identity) = match &psk {
        Some(p) => (
            p.state.auth_time,
            p.state.client_cert,
            p.state.client_identity,
        ),
        None => (c.now.as_secs(), None, None),
    };
    *keys.negotiated = Some(Negotiated {
        version: ProtocolVersion::TLS1_3,
        suite: suite.id,
        group: share.map(|(g, _)| g),
        signature_scheme: cert.map(|(_, _, s)| s),
        alpn_index: alpn_index.and_then(|i| u8::try_from(i).ok()),
        cert_index: cert.and_then(|(i, _, _)| u8::try_from(i).ok()),
        peer_cert_sha256,
        peer_identity,
        peer_record_size_limit: peer_limit,
        resumed: psk.is_some(),
        server_name: sni,
    });
    let send = keys.records.send_mut().ok_or(bad)?;
    let rng = config.rng;
    let server_finished = server_hs.finished_key(suite)?;
    let mut pending = false;
    out.records(Some(send), ContentType::HANDSHAKE, |w| {
        EncryptedExtensionsOut {
            alpn: alpn_index.and_then(|i| config.alpn.get(i).copied()),
            record_size_limit: peer_limit.and(our_limit),
            server_name_ack: ch.ext.server_name.is_some() && cert.is_some(),
            early_data: early.is_some(),
        }
        .encode(w)?;
        if let Some(verifier) = config.client_verifier.filter(|_| ask_cert) {
            super::messages::encode_certificate_request(w, &[], verifier.supported_schemes())?;
        }
        transcript.add(w.written());
        if let Some((_, cert, scheme)) = cert {
            let signer = Some((&*cert.key, scheme));
            if !super::write_authentication(
                w,
                &mut transcript,
                SignContext::Server,
                Some(&cert.chain),
                signer,
                rng,
            )? {
                // The rest waits for the signer: what is written goes out.
                pending = true;
                return Ok(());
            }
        }
        super::write_finished(w, &mut transcript, suite, &server_finished)?;
        Ok(())
    })?;
    let unsigned = Unsigned {
        suite,
        transcript,
        secret,
        cert: cert.and_then(|(i, _, _)| u8::try_from(i).ok()).unwrap_or(0),
        scheme: cert.map_or(SignatureScheme(0), |(_, _, s)| s),
        client_random: *ch.random,
        ask_cert,
        auth_time,
        server_name,
        pha: ch.ext.post_handshake_auth,
    };
    if pending {
        return Ok(Answer::Signing(unsigned));
    }
    Ok(Answer::Flight(
        finish_flight(config, unsigned, keys)?,
        ask_cert,
    ))
}

/// After our Finished: the application secrets, our sending key, and
/// the state that waits for the client.
fn finish_flight(
    config: &ServerConfig<'_>,
    u: Unsigned,
    keys: &mut Keys<'_>,
) -> Result<Keyed, Error> {
    let bad = Error::Internal("handshake key derivation");
    let suite = u.suite;
    let master = u.secret.into_master(suite)?;
    let (client_ap, server_ap, exporter) =
        master.application_secrets(suite, &u.transcript.current())?;
    let log = config.key_log;
    let random = &u.client_random;
    super::log_secret(log, "CLIENT_TRAFFIC_SECRET_0", random, &client_ap);
    super::log_secret(log, "SERVER_TRAFFIC_SECRET_0", random, &server_ap);
    super::log_secret(log, "EXPORTER_SECRET", random, &exporter);
    // While early data comes, the slot holds the early exporter: the
    // EndOfEarlyData step makes this one again.
    if !keys.resumption.takes_early_data() {
        *keys.exporter = Some(exporter);
    }
    keys.records
        .set_send(RecordKey::new(suite, server_ap.as_bytes()).ok_or(bad)?)?;
    Ok(Keyed {
        suite,
        transcript: u.transcript,
        client_ap,
        master,
        auth_time: u.auth_time,
        server_name: u.server_name,
        pha: u.pha,
    })
}

#[cfg(test)]
mod names {
    use super::name_matches;

    #[test]
    fn wildcards_cover_exactly_one_left_most_label() {
        for (pattern, name, matches) in [
            ("example.com", "example.com", true),
            ("example.com", "EXAMPLE.com", true),
            ("example.com", "www.example.com", false),
            ("*.example.com", "www.example.com", true),
            ("*.example.com", "WWW.Example.COM", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", ".example.com", false),
            ("*.example.com", "wwwexample.com", false),
            ("*.", "a.", false),
            ("*.com", "example.com", true),
        ] {
            assert_eq!(
                name_matches(pattern.as_bytes(), name.as_bytes()),
                matches,
                "{pattern} / {name}"
            );
        }
    }
}
