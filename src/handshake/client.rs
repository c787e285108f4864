//! The TLS 1.3 client state machine (RFC 8446 §2, §4).
//!
//! ```text
//! Start ──ClientHello──► ExpectServerHello ──► ExpectEncryptedExtensions
//!   ──► ExpectCertificate (CertificateRequest?) ──Certificate+CertificateVerify──►
//!   ExpectFinished ──[Certificate, CertificateVerify], CCS, Finished──► done
//! ```
//!
//! Each state consumes itself in `handle`, so a stale state cannot be
//! reused. Certificate and CertificateVerify are handled as a pair: the
//! end-entity certificate is still in the received view when its signature
//! is checked, so no copy of it is kept.

use crate::verify::ServerCertContext;
use ring::digest;
use rustls_pki_types::ServerName;

use super::kx::KeyExchange;
use super::messages::{
    split_message, CertificateRequest, ClientHelloOut, EncryptedExtensions, ExtensionError,
    KeyShare, ServerHello, DOWNGRADE_TLS11, DOWNGRADE_TLS12, HANDSHAKE_HEADER_LEN,
};
use super::ticket::ResumptionTicket;
use super::{flight_room, room_sum, ClientConfig, Context, Negotiated, Out, Records};
use crate::codec::DecodeError;
use crate::error::{Error, InvalidMessage, PeerIncompatible, PeerMisbehaved};
use rustls_pki_types::UnixTime;

use crate::key_schedule::{EarlySecret, HandshakeSecret, MasterSecret, Secret, Transcript};
use crate::record::protect::RecordKey;
use crate::record::suite::Suite;
use crate::record::{HEADER_LEN, RECORD_OVERHEAD};
use crate::sign::Context as SignContext;
use crate::wire::{ContentType, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme};

/// The record keys a handshake step may install, and what it reports.
pub(crate) struct Keys<'x> {
    pub records: &'x mut Records,
    pub negotiated: &'x mut Option<Negotiated>,
    /// exporter_master_secret, once known.
    pub exporter: &'x mut Option<crate::key_schedule::Secret>,
    /// resumption_master_secret, once known (client: for the tickets to
    /// come); with TLS 1.2, both randoms, for the exporter.
    pub resumption: &'x mut crate::conn::AfterHandshake,
    /// Bytes of unreadable early data a server may skip.
    pub skip_early_data: &'x mut u32,
    /// Where a client's 0-RTT stands.
    pub early: &'x mut crate::conn::EarlyPhase,
    /// Where the peer's chain goes once verified.
    pub peer_chain: &'x mut dyn crate::conn::KeepChain,
    /// Where a TLS 1.2 handshake's messages are copied for client
    /// authentication.
    pub transcript_copy: &'x mut dyn crate::conn::KeepTranscript,
    /// The embedder's name for the connection, for its ticket sink.
    pub tag: u64,
    /// What post-handshake authentication keeps, set as the handshake
    /// completes (it then takes the handshake state's place).
    pub post_auth: &'x mut Option<super::post_auth::PostAuth>,
}

/// What a step did with the handshake messages at the front of the
/// reassembly region.
pub(crate) struct Step<S> {
    /// The next state; `None` once the handshake is complete.
    pub next: Option<S>,
    /// Bytes of the region consumed (0: the step needs more bytes).
    pub consumed: usize,
}

/// What asking a pending signer again led to.
pub(crate) enum Polled<S> {
    /// Still pending.
    Pending(S),
    /// The signature came and the rest of the flight is written; the next
    /// state (`None`: the handshake is complete).
    Signed(Option<S>),
}

/// [`client_hello_bound`] with no 0-RTT (a renegotiation's ClientHello).
pub(crate) fn client_hello_bound_for(c: &Common<'_>, fragment: usize) -> usize {
    client_hello_bound_with(c, fragment, 0)
}

/// Room our ClientHello needs, as plaintext records: every field and
/// extension header at its largest (a P-384 key share, a 32-byte session
/// id), from the configured lists.
fn client_hello_bound(c: &Common<'_>, fragment: usize) -> usize {
    // Offering 0-RTT adds early_data (4) and the compatibility CCS that
    // then follows the ClientHello at once (6).
    let early = if c.ctx.early && early_possible(c) {
        4 + 6
    } else {
        0
    };
    client_hello_bound_with(c, fragment, early)
}

/// Whether our ClientHellos offer post_handshake_auth (RFC 8446
/// §4.2.6): with a certificate to answer with, and requests allowed.
pub(crate) fn offers_post_handshake_auth(config: &ClientConfig<'_>) -> bool {
    config.post_handshake_auth > 0 && config.client_auth.is_some()
}

/// Whether this ClientHello may offer 0-RTT: the ticket it offers as a
/// PSK allows early data (its server said how much, RFC 8446 §4.6.1).
fn early_possible(c: &Common<'_>) -> bool {
    psk_offer(c).is_some_and(|(t, _)| {
        t.max_early_data > 0 && !t.session_id && t.alpn_context.is_some_and(|ctx| same_alpn(c, ctx))
    })
}

/// Whether a ticket's ALPN context is one this offer may end in: the
/// same protocols offered, and the session's protocol (or none) among
/// them. Early data is sent only where the server may accept it without
/// failing the handshake (RFC 8446 §4.2.10: under the session's protocol).
fn same_alpn(c: &Common<'_>, ctx: [u8; 32]) -> bool {
    let offered = c.config.alpn;
    let context = |p| super::ticket::alpn_context(offered, p);
    context(None) == ctx || offered.iter().any(|p| context(Some(p)) == ctx)
}

/// [`client_hello_bound`] with `extra` bytes more in the message (a
/// HelloRetryRequest's cookie echoed), counted before it is cut into
/// records, so the records' headers cover them too.
fn client_hello_bound_with(c: &Common<'_>, fragment: usize, extra: usize) -> usize {
    let config = c.config;
    // Sizes from the configuration saturate: see `room_sum`.
    let list = |n: usize| n.saturating_mul(2).saturating_add(2);
    let sni = c
        .ctx
        .server_name
        .map_or(0, |n| n.len().saturating_add(4 + 2 + 1 + 2));
    let alpn =
        room_sum(config.alpn.iter().map(|p| p.len().saturating_add(1))).saturating_add(4 + 2);
    // psk_key_exchange_modes (4 + 1 + 1), sent with a ticket or a sink;
    // pre_shared_key (4 + 2 + 2 + ticket + 4 + 2 + 1 + binder of at most a
    // hash length).
    let psk_modes = if c.ctx.resume.is_some() || config.ticket_sink.is_some() {
        6
    } else {
        0
    };
    let psk = psk_offer(c).map_or(0, |(t, _)| {
        room_sum([
            4 + 2 + 2,
            t.ticket.len(),
            4 + 2 + 1,
            crate::key_schedule::MAX_HASH_LEN,
        ])
    });
    let body = room_sum([
        2,
        32,
        1,
        32,
        list(config.suites.len()),
        2,
        2,
        sni,
        4,
        list(config.groups.len()),
        4,
        list(config.verifier.supported_schemes().len()),
        alpn,
        6,
        7,
        4,
        2,
        shares_bound(config.groups),
        psk_modes,
        psk,
        if config.grease {
            super::messages::Grease::HELLO_BYTES
        } else {
            0
        },
        if config.suites.iter().any(|s| s.is_tls12()) {
            room_sum([
                super::messages::TLS12_HELLO_BYTES,
                super::messages::session_ticket_bytes(
                    tls12_offer(c)
                        .filter(|t| !t.session_id)
                        .map_or(&[][..], |t| t.ticket),
                ),
            ])
        } else {
            0
        },
        // post_handshake_auth (4).
        if offers_post_handshake_auth(config) {
            4
        } else {
            0
        },
        extra,
    ]);
    flight_room(body.saturating_add(4), fragment, HEADER_LEN)
}

/// The room of the second ClientHello that answers `region`'s first
/// message, if that is a HelloRetryRequest: the ClientHello's bound with
/// the cookie extension it echoes (4 + 2 + the cookie). `None` for any
/// other message: a ServerHello is answered with nothing, and a message
/// that does not parse fails its step before anything is written.
fn retry_room(c: &Common<'_>, fragment: usize, region: &[u8]) -> Option<usize> {
    let (ty, _, total) = split_message(region)?;
    let body = region.get(HANDSHAKE_HEADER_LEN..total)?;
    let hello = (ty == HandshakeType::SERVER_HELLO)
        .then(|| ServerHello::parse(body).ok())
        .flatten()
        .filter(ServerHello::is_retry)?;
    let cookie = hello
        .cookie
        .map_or(0, |k| k.len().min(MAX_COOKIE_LEN).saturating_add(4 + 2));
    Some(client_hello_bound_with(c, fragment, cookie))
}

/// The groups of the shares a first ClientHello sends: the first group we
/// implement, and, when that is a hybrid whose classical half is also
/// configured, that classical group too (the same key: a classical-only
/// server costs no round trip, as browsers do it).
fn first_share_groups(groups: &[NamedGroup]) -> Option<(NamedGroup, Option<NamedGroup>)> {
    let first = *groups.iter().find(|g| super::kx::is_supported(**g))?;
    let extra = super::kx::classical_group(first).filter(|c| *c != first && groups.contains(c));
    Some((first, extra))
}

/// Room for key_share's entries (group, length, public value each) in any
/// ClientHello: the first one's, or a second one's single share for any
/// configured group.
fn shares_bound(groups: &[NamedGroup]) -> usize {
    let entry = |g: NamedGroup| super::kx::client_share_len(g).map_or(0, |n| n.saturating_add(4));
    let first =
        first_share_groups(groups).map_or(0, |(a, b)| entry(a).saturating_add(b.map_or(0, entry)));
    let retried = groups.iter().map(|g| entry(*g)).max().unwrap_or(0);
    first.max(retried)
}

/// The client's transcript before the suite is known: one context per
/// hash the offered suites use.
struct EarlyTranscript {
    sha256: digest::Context,
    sha384: digest::Context,
}

impl EarlyTranscript {
    fn new() -> Self {
        Self {
            sha256: digest::Context::new(&digest::SHA256),
            sha384: digest::Context::new(&digest::SHA384),
        }
    }

    fn add(&mut self, m: &[u8]) {
        self.sha256.update(m);
        self.sha384.update(m);
    }

    /// The hash so far under `suite`'s hash function.
    fn current(&self, suite: &Suite) -> crate::key_schedule::Hash {
        let ctx = if suite.hash_len == 48 {
            self.sha384.clone()
        } else {
            self.sha256.clone()
        };
        Transcript::from_context(ctx).current()
    }

    fn pick(self, suite: &Suite) -> Transcript {
        let ctx = if suite.hash_len == 48 {
            self.sha384
        } else {
            self.sha256
        };
        Transcript::from_context(ctx)
    }
}

/// The client's states.
///
/// Each keeps the time the connection was made with; the configuration,
/// the server name and the ticket are not among it: the connection holds
/// them (borrowed or shared) and lends them to each call (`Inputs`).
pub(crate) enum State {
    /// ClientHello not yet sent.
    Start(UnixTime),
    /// ClientHello sent; what it needs next waits in `Records::Pending`.
    ExpectServerHello(UnixTime),
    /// After ServerHello.
    ExpectEncryptedExtensions(UnixTime, Keyed),
    /// After EncryptedExtensions (and a CertificateRequest, if any).
    ExpectCertificate(UnixTime, Keyed),
    /// After CertificateVerify.
    ExpectFinished(UnixTime, Keyed),
    /// The server's Finished is in and our flight is out up to our
    /// Certificate; our signer has not answered yet.
    AwaitSignature(UnixTime, Unsigned),
    /// The server answered with TLS 1.2.
    Tls12(UnixTime, super::tls12::ClientState),
}

/// Our final flight up to the Certificate, waiting for its signature.
pub(crate) struct Unsigned {
    suite: &'static Suite,
    /// Through our Certificate.
    transcript: Transcript,
    master: MasterSecret,
    client_ap: Secret,
    scheme: SignatureScheme,
}

/// What the connection lends each step.
#[derive(Clone, Copy)]
pub(crate) struct Inputs<'c> {
    pub config: &'c ClientConfig<'c>,
    pub server_name: Option<&'c str>,
    pub resume: Option<ResumptionTicket<'c>>,
    /// 0-RTT is asked for (before the ClientHello) or under way.
    pub early: bool,
}

/// What a step works with: the lent inputs and the state's time.
#[derive(Clone, Copy)]
pub(crate) struct Common<'c> {
    pub config: &'c ClientConfig<'c>,
    pub ctx: Context<'c>,
}

fn with(now: UnixTime, i: Inputs<'_>) -> Common<'_> {
    Common {
        config: i.config,
        ctx: Context {
            now,
            server_name: i.server_name,
            resume: i.resume,
            early: i.early,
        },
    }
}

/// What a client keeps between its ClientHello and the ServerHello. It
/// lives in [`Records::Pending`], the storage the record keys take later.
pub(crate) struct Pending {
    /// The key exchange of our key_share; none for a client that offers
    /// TLS 1.2 only (its ECDHE key is made for the server's group, once
    /// the ServerKeyExchange names it: a resumption makes none).
    kx: Option<KeyExchange>,
    transcript: PendingTranscript,
    fields: HelloFields,
}

impl Pending {
    /// Whether a HelloRetryRequest came: the server speaks TLS 1.3.
    pub(crate) fn retried(&self) -> bool {
        matches!(self.transcript, PendingTranscript::Retried(..))
    }
}

/// The transcript before the ServerHello. (Sized for its larger variant on
/// purpose: it lives where the record keys will, which are larger still.)
#[allow(clippy::large_enum_variant)]
enum PendingTranscript {
    /// After the first ClientHello: both hashes, the suite is unknown.
    Both(EarlyTranscript),
    /// After a HelloRetryRequest: the suite is chosen, and a second retry
    /// is refused.
    Retried(Transcript, &'static Suite),
}

/// The ClientHello fields a second ClientHello repeats.
#[derive(Clone, Copy)]
struct HelloFields {
    random: [u8; 32],
    session_id: [u8; 32],
    session_id_len: u8,
    /// The ClientHello the ServerHello answers carried our ticket (after
    /// a HelloRetryRequest to a suite of another hash, the second one
    /// does not): only then may the server select it.
    psk_sent: bool,
    /// A second share, for the classical half of the hybrid our key
    /// exchange is for, sent beside it with the same key.
    extra_share: Option<NamedGroup>,
}

/// Encodes a ClientHello with `kx`'s share (and `cookie`, after a
/// HelloRetryRequest) as plaintext records, handing the message to `hash`.
/// Returns whether it offered our ticket.
#[allow(clippy::too_many_arguments)]
fn encode_hello(
    common: &Common<'_>,
    fields: &HelloFields,
    kx: Option<&KeyExchange>,
    cookie: Option<&[u8]>,
    binder_prefix: Option<&Transcript>,
    share_replaced: bool,
    early_data: bool,
    out: &mut Out<'_>,
    hash: impl FnOnce(&[u8]),
) -> Result<bool, Error> {
    let config = common.config;
    // The ticket, if it is still alive and its suite's hash can be used:
    // after a HelloRetryRequest, only if the chosen suite shares it.
    let tls13 = config.suites.iter().any(|s| !s.is_tls12());
    let offer = psk_offer(common).filter(|(_, suite)| {
        tls13 && binder_prefix.is_none_or(|t| t.current().as_bytes().len() == suite.hash_len)
    });
    let mut suites = [crate::wire::CipherSuite(0); super::MAX_SUITES];
    let n = config.suites.len().min(suites.len());
    for (slot, s) in suites.iter_mut().zip(config.suites) {
        *slot = s.id;
    }
    // Our share goes through the stack once, into the record: a hybrid's
    // ML-KEM key is derived again from its seed for it.
    let mut public = [0u8; super::kx::MAX_SHARE_LEN];
    let shares_buf;
    let main;
    let shares: &[KeyShare<'_>] = match kx {
        // A TLS 1.2-only ClientHello has no key_share.
        None => &[],
        Some(kx) => {
            let share_len = kx
                .write_share(&mut public)
                .ok_or(Error::Internal("key share"))?;
            main = KeyShare {
                group: kx.group(),
                public: public.get(..share_len).unwrap_or(&[]),
            };
            match fields.extra_share {
                Some(group) => {
                    shares_buf = [
                        main,
                        KeyShare {
                            group,
                            public: kx.public(),
                        },
                    ];
                    &shares_buf
                }
                None => core::slice::from_ref(&main),
            }
        }
    };
    // Always sent, 2^14 + 1 when we take full records (RFC 8449 allows it
    // in TLS 1.3): a server can only announce its own limit in answer. A
    // ClientHello that offers TLS 1.2 only counts the content alone, at
    // most 2^14 (RFC 8449 §4).
    let tls13_offered = config.suites.iter().any(|s| !s.is_tls12());
    let record_size_limit = if tls13_offered {
        config.record.recv_max_fragment_len.checked_add(1)
    } else {
        Some(
            config
                .record
                .recv_max_fragment_len
                .min(crate::record::MAX_PLAINTEXT),
        )
    }
    .and_then(|n| u16::try_from(n).ok());
    let hello = ClientHelloOut {
        random: &fields.random,
        session_id: fields
            .session_id
            .get(..usize::from(fields.session_id_len))
            .unwrap_or(&[]),
        suites: suites.get(..n).unwrap_or(&[]),
        server_name: common.ctx.server_name.and_then(sni),
        groups: config.groups,
        key_shares: shares,
        schemes: config.verifier.supported_schemes(),
        alpn: config.alpn,
        record_size_limit,
        cookie,
        // psk_key_exchange_modes goes in every ClientHello of a client
        // that keeps tickets or has one to offer, even one whose PSK a
        // retry drops: the second ClientHello repeats the first.
        want_tickets: config.ticket_sink.is_some() || psk_offer(common).is_some(),
        grease: config
            .grease
            .then(|| super::messages::Grease::from_seed(&fields.random)),
        // A second ClientHello replaces key_share only if the retry named
        // a group; then it carries just the share asked for.
        grease_share: !share_replaced,
        tls13,
        tls12: config.suites.iter().any(|s| s.is_tls12()),
        // A TLS 1.2 ticket to offer, or an empty extension to ask for
        // one when we keep tickets.
        session_ticket: tls12_offer(common)
            .filter(|t| !t.session_id)
            .map(|t| t.ticket)
            .or(config.ticket_sink.map(|_| &[][..])),
        psk: offer.map(|(t, suite)| super::messages::PskIdentity {
            identity: t.ticket,
            obfuscated_age: t.obfuscated_age(common.ctx.now).unwrap_or(0),
            binder_len: suite.hash_len,
        }),
        early_data: early_data && offer.is_some(),
        post_handshake_auth: tls13 && offers_post_handshake_auth(config),
        renegotiation_info: &[],
    };
    out.records(None, ContentType::HANDSHAKE, |w| {
        hello.encode(w)?;
        if let Some((t, suite)) = offer {
            // RFC 8446 §4.2.11.2: the binder covers the transcript up to
            // and including the ClientHello without its binder list.
            const LAYOUT: Error = Error::Internal("binder layout");
            let cut = w
                .len()
                .checked_sub(suite.hash_len.saturating_add(2 + 1))
                .ok_or(LAYOUT)?;
            let mut transcript = binder_prefix
                .cloned()
                .unwrap_or_else(|| Transcript::new(suite));
            transcript.add(w.written().get(..cut).unwrap_or(&[]));
            let binder = binder_key(suite, t.psk)?.finished_mac(suite, &transcript.current())?;
            let at = w.len().checked_sub(suite.hash_len).ok_or(LAYOUT)?;
            w.written_mut(at).copy_from_slice(binder.as_bytes());
        }
        hash(w.written());
        Ok(())
    })?;
    Ok(offer.is_some())
}

/// What a client sends as SNI for `name` (RFC 6066 §3): the name without a
/// trailing dot, and nothing for an IP address or a name that is not a
/// host name (a server would refuse it; the certificate is still checked
/// against `name`).
pub(crate) fn sni(name: &str) -> Option<&str> {
    if name.parse::<core::net::IpAddr>().is_ok() {
        return None;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    super::is_host_name(name.as_bytes()).then_some(name)
}

/// Longest ticket a client offers: room for it and the rest of the
/// pre_shared_key extension within the 2^16-byte extension block. A
/// longer one is not offered: a full handshake.
pub const MAX_OFFERED_TICKET: usize = 32 * 1024;

/// The ticket to offer and its suite, if there is one that is alive, not
/// longer than [`MAX_OFFERED_TICKET`], and whose suite we still offer.
fn psk_offer<'t>(common: &Common<'t>) -> Option<(ResumptionTicket<'t>, &'static Suite)> {
    let t = common
        .ctx
        .resume
        .filter(|t| t.ticket.len() <= MAX_OFFERED_TICKET)?;
    let suite = common
        .config
        .suites
        .iter()
        .copied()
        .find(|s| s.id == t.suite && !s.is_tls12())?;
    t.obfuscated_age(common.ctx.now)?;
    (t.psk.len() == suite.hash_len).then_some((t, suite))
}

/// The TLS 1.2 ticket to offer (RFC 5077), if the one held is alive, of
/// a TLS 1.2 suite we offer, and carries a master secret: a TLS 1.3
/// ticket is never offered this way, nor a TLS 1.2 one as a PSK.
pub(crate) fn tls12_offer<'t>(common: &Common<'t>) -> Option<ResumptionTicket<'t>> {
    let t = common.ctx.resume.filter(|t| {
        let max = if t.session_id { 32 } else { MAX_OFFERED_TICKET };
        t.ticket.len() <= max && !t.ticket.is_empty()
    })?;
    common
        .config
        .suites
        .iter()
        .find(|s| s.id == t.suite && s.is_tls12())?;
    t.obfuscated_age(common.ctx.now)?;
    (t.psk.len() == crate::key_schedule::tls12::MASTER_SECRET_LEN).then_some(t)
}

/// binder_key = Derive-Secret(Early Secret, "res binder", "") (RFC 8446
/// §7.1), whose Finished-style MAC is the binder.
pub(crate) fn binder_key(suite: &Suite, psk: &[u8]) -> Result<crate::key_schedule::Secret, Error> {
    crate::key_schedule::binder_key(suite, psk)
}

/// Answers a HelloRetryRequest (RFC 8446 §4.1.4): checks that it changes
/// something we can give, restarts the transcript with message_hash, and
/// sends the second ClientHello with a share for the group asked for.
#[allow(clippy::too_many_arguments)]
fn retry(
    c: &Common<'_>,
    kx: Option<KeyExchange>,
    fields: HelloFields,
    suite: &'static Suite,
    mut transcript: Transcript,
    msg: &[u8],
    hrr: &ServerHello<'_>,
    out: &mut Out<'_>,
) -> Result<Pending, Error> {
    if hrr
        .cookie
        .is_some_and(|c| c.len() > MAX_COOKIE_LEN || c.is_empty())
    {
        return Err(PeerMisbehaved::IllegalParameter("HelloRetryRequest cookie length").into());
    }
    // A client that sent a key share offered TLS 1.3.
    let kx = kx.ok_or(Error::Internal("key share"))?;
    let group = match hrr.hrr_group {
        Some(g) if g == kx.group() || Some(g) == fields.extra_share => {
            return Err(PeerMisbehaved::IllegalParameter(
                "HelloRetryRequest for the group already sent",
            )
            .into());
        }
        Some(g) if c.config.groups.contains(&g) && super::kx::is_supported(g) => g,
        Some(_) => {
            return Err(PeerMisbehaved::IllegalParameter(
                "HelloRetryRequest for a group not offered",
            )
            .into())
        }
        None if hrr.cookie.is_some() => kx.group(),
        None => {
            return Err(
                PeerMisbehaved::IllegalParameter("HelloRetryRequest changes nothing").into(),
            )
        }
    };
    let kx = if group == kx.group() {
        kx
    } else {
        KeyExchange::start(group, c.config.rng)
            .ok_or(Error::Internal("random number generator failed"))?
    };
    transcript.restart_with_message_hash(suite);
    transcript.add(msg);
    let prefix = transcript.clone();
    let replaced = hrr.hrr_group.is_some();
    let mut fields = fields;
    // A retry that named a group gets the one share asked for.
    if replaced {
        fields.extra_share = None;
    }
    fields.psk_sent = encode_hello(
        c,
        &fields,
        Some(&kx),
        hrr.cookie,
        Some(&prefix),
        replaced,
        // No early data after a HelloRetryRequest (RFC 8446 §4.2.10).
        false,
        out,
        |m| transcript.add(m),
    )?;
    Ok(Pending {
        kx: Some(kx),
        transcript: PendingTranscript::Retried(transcript, suite),
        fields,
    })
}

/// Longest HelloRetryRequest cookie we echo. RFC 8446 allows 2^16 - 1
/// bytes; real servers send a few hundred. Room for the second
/// ClientHello with it is asked for once a HelloRetryRequest has come,
/// never while a ServerHello is only awaited.
pub const MAX_COOKIE_LEN: usize = 1024;

/// What a ServerHello led to (a transient return value, moved once).
#[allow(clippy::large_enum_variant)]
enum Hello {
    Keyed(Keyed),
    Retry(Pending),
    Tls12(super::tls12::ClientState),
}

/// State once handshake keys exist.
pub(crate) struct Keyed {
    suite: &'static Suite,
    transcript: Transcript,
    secret: HandshakeSecret,
    /// Names the connection in the key log.
    client_random: [u8; 32],
    /// The session is resumed: no certificate comes.
    resumed: bool,
    /// The server sent a CertificateRequest.
    cert_requested: bool,
    /// The scheme our key signs with for it, if we have a fitting key.
    client_scheme: Option<SignatureScheme>,
}

impl State {
    pub fn new(now: UnixTime) -> Self {
        Self::Start(now)
    }

    /// A client that has already sent `hello` with `kx`'s share: the
    /// known-answer tests replay a published ClientHello this way, since
    /// our own encoder orders extensions differently.
    #[cfg(feature = "test-support")]
    pub fn after_hello(
        now: UnixTime,
        hello: &[u8],
        kx: KeyExchange,
    ) -> Result<(Self, Pending), Error> {
        let parsed = super::messages::ClientHello::parse(hello.get(4..).unwrap_or(&[]))
            .map_err(extension_error)?;
        let mut fields = HelloFields {
            random: *parsed.random,
            session_id: [0; 32],
            session_id_len: u8::try_from(parsed.session_id.len()).unwrap_or(0),
            psk_sent: parsed.ext.pre_shared_key.is_some(),
            extra_share: None,
        };
        crate::codec::copy_prefix(
            &mut fields.session_id,
            parsed.session_id,
            parsed.session_id.len(),
        );
        let mut transcript = EarlyTranscript::new();
        transcript.add(hello);
        let pending = Pending {
            kx: Some(kx),
            transcript: PendingTranscript::Both(transcript),
            fields,
        };
        Ok((Self::ExpectServerHello(now), pending))
    }

    /// Room in the outgoing view the next step may need.
    /// `region` is the reassembled handshake bytes, starting with the
    /// message the step is to handle (empty for a step that handles
    /// none).
    pub fn room_needed(&self, inputs: Inputs<'_>, fragment: usize, region: &[u8]) -> usize {
        match self {
            Self::Start(kept) => client_hello_bound(&with(*kept, inputs), fragment),
            // A HelloRetryRequest is answered with a second ClientHello,
            // which echoes its cookie if it has one; a ServerHello with
            // nothing.
            Self::ExpectServerHello(kept) => {
                retry_room(&with(*kept, inputs), fragment, region).unwrap_or(0)
            }
            // The final flight: CCS, our certificate and signature if asked,
            // Finished, as protected records.
            Self::ExpectFinished(kept, k)
            | Self::ExpectCertificate(kept, k)
            | Self::ExpectEncryptedExtensions(kept, k) => {
                let c = &with(*kept, inputs);
                let mut m: usize = 4 + 48;
                if k.cert_requested {
                    m = m.saturating_add(4 + 1 + 3 + 4 + 4 + crate::sign::MAX_SIGNATURE_LEN);
                    if let Some(auth) = &c.config.client_auth {
                        let chain = auth.chain.iter().map(|d| d.len().saturating_add(5));
                        m = m.saturating_add(room_sum(chain));
                    }
                }
                // An EndOfEarlyData first, under the early key, once 0-RTT
                // was offered (4 bytes, one record).
                let eoed = if c.ctx.early { 4 + RECORD_OVERHEAD } else { 0 };
                room_sum([
                    HEADER_LEN + 1,
                    eoed,
                    flight_room(m, fragment, RECORD_OVERHEAD),
                ])
            }
            Self::AwaitSignature(..) => super::signature_room(fragment),
            // Our chain only for a flight that asks for it.
            Self::Tls12(kept, s) => {
                let c = &with(*kept, inputs);
                let chain = match &c.config.client_auth {
                    Some(a) if super::tls12::asks_certificate(region) => {
                        room_sum(a.chain.iter().map(|d| d.len().saturating_add(3)))
                    }
                    _ => 0,
                };
                s.room_needed(fragment, chain)
            }
        }
    }

    /// Whether a TLS 1.2 server's ChangeCipherSpec is due.
    pub fn expects_change_cipher_spec(&self) -> bool {
        matches!(self, Self::Tls12(_, s) if s.expects_change_cipher_spec())
    }

    /// Whether a TLS 1.2 NewSessionTicket waits, whole, in the region
    /// across the server's ChangeCipherSpec.
    pub fn holds_ticket(&self) -> bool {
        matches!(self, Self::Tls12(_, s) if s.holds_ticket())
    }

    /// A TLS 1.2 server's ChangeCipherSpec: switches the receiving key.
    pub fn change_cipher_spec(self, records: &mut Records) -> Result<Self, Error> {
        match self {
            Self::Tls12(kept, s) => Ok(Self::Tls12(kept, s.change_cipher_spec(records)?)),
            _ => Err(PeerMisbehaved::UnexpectedContentType(ContentType::CHANGE_CIPHER_SPEC).into()),
        }
    }

    /// Whether this state writes before it reads (the ClientHello).
    pub fn has_output(&self) -> bool {
        matches!(self, Self::Start(_))
    }

    /// Whether the ClientHello, not yet written, can offer 0-RTT.
    pub fn may_offer_early(&self, inputs: Inputs<'_>) -> bool {
        matches!(self, Self::Start(now) if early_possible(&with(*now, inputs)))
    }

    /// Whether the handshake waits for our signer.
    pub fn awaits_signature(&self) -> bool {
        matches!(self, Self::AwaitSignature(..))
            || matches!(self, Self::Tls12(_, s) if s.awaits_signature())
    }

    /// The pending signer and its request, for `f`; `None` unless a
    /// signature is pending.
    pub fn pending_signature<R>(
        &self,
        inputs: Inputs<'_>,
        copy: &dyn crate::conn::KeepTranscript,
        f: impl FnOnce(&dyn crate::sign::Signer, &crate::sign::SignRequest<'_>) -> R,
    ) -> Option<R> {
        if let Self::Tls12(kept, s) = self {
            let c = with(*kept, inputs);
            let auth = c.config.client_auth.as_ref()?;
            return s.pending_signature(&*auth.key, copy, c.config.rng, f);
        }
        let Self::AwaitSignature(kept, u) = self else {
            return None;
        };
        let c = with(*kept, inputs);
        let auth = c.config.client_auth.as_ref()?;
        super::pending_request(
            &*auth.key,
            u.scheme,
            SignContext::Client,
            &u.transcript,
            c.config.rng,
            f,
        )
    }

    /// Asks the signer again; with the signature, writes the rest of our
    /// flight and completes the handshake.
    pub fn poll_signature(
        self,
        inputs: Inputs<'_>,
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<Polled<Self>, Error> {
        if let Self::Tls12(kept, s) = self {
            let c = with(kept, inputs);
            return Ok(match s.poll_signature(&c, keys, out)? {
                Polled::Pending(s) => Polled::Pending(Self::Tls12(kept, s)),
                Polled::Signed(s) => Polled::Signed(s.map(|s| Self::Tls12(kept, s))),
            });
        }
        let Self::AwaitSignature(kept, mut u) = self else {
            return Ok(Polled::Pending(self));
        };
        let c = with(kept, inputs);
        let auth = c
            .config
            .client_auth
            .as_ref()
            .ok_or(Error::Internal("pending signature without a key"))?;
        let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
        let Some(n) = super::sign_certificate_verify(
            &*auth.key,
            u.scheme,
            SignContext::Client,
            &u.transcript,
            c.config.rng,
            false,
            &mut sig,
        )?
        else {
            return Ok(Polled::Pending(Self::AwaitSignature(c.ctx.now, u)));
        };
        let sig = sig.get(..n).unwrap_or(&[]);
        super::write_signed_tail(out, keys.records, u.suite, &mut u.transcript, u.scheme, sig)?;
        let pha = offers_post_handshake_auth(c.config);
        finish_flight(u.suite, &u.transcript, &u.master, &u.client_ap, pha, keys)?;
        Ok(Polled::Signed(None))
    }

    /// Room the ClientHello of a renegotiation takes (protected records).
    pub fn renegotiation_room(now: UnixTime, inputs: Inputs<'_>, fragment: usize) -> usize {
        super::tls12::renegotiation_hello_room(&with(now, inputs), fragment)
    }

    /// Starts the TLS 1.2 renegotiation a server asked for: writes our
    /// ClientHello under the connection's keys (RFC 5746 §3.5). `secured`
    /// is what the last handshake left; certificates are checked at its
    /// time.
    pub fn renegotiate(
        inputs: Inputs<'_>,
        secured: super::tls12::Secured,
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<Self, Error> {
        let now = secured.now;
        let c = with(now, inputs);
        super::tls12::start_renegotiation(&c, secured, keys, out).map(|s| Self::Tls12(now, s))
    }

    /// Whether our TLS 1.2 renegotiation waits for the answer to its
    /// ClientHello.
    pub fn awaits_renegotiation_answer(&self) -> bool {
        matches!(self, Self::Tls12(_, s) if s.awaits_renegotiation_answer())
    }

    /// A server refused our TLS 1.2 renegotiation: what the connection
    /// had before it, if the refusal came in its place.
    pub fn refused_renegotiation(self) -> Option<super::tls12::Secured> {
        match self {
            Self::Tls12(_, s) => s.refused(),
            _ => None,
        }
    }

    /// Whether the server's ChangeCipherSpec has switched its key and its
    /// Finished has not yet come (nothing else may come between them).
    pub fn awaits_finished_after_change(&self) -> bool {
        matches!(self, Self::Tls12(_, s) if s.awaits_finished_after_change())
    }

    /// Writes the ClientHello; what the ServerHello will need goes to
    /// `records`, and its bytes to `copy` (TLS 1.2 client
    /// authentication's transcript, if storage was lent).
    pub fn write_client_hello(
        self,
        inputs: Inputs<'_>,
        out: &mut Out<'_>,
        records: &mut Records,
        copy: &mut dyn crate::conn::KeepTranscript,
        (after, early, exporter): (
            &mut crate::conn::AfterHandshake,
            &mut crate::conn::EarlyPhase,
            &mut Option<crate::key_schedule::Secret>,
        ),
    ) -> Result<Self, Error> {
        let Self::Start(kept) = self else {
            return Ok(self);
        };
        let common = with(kept, inputs);
        let config = common.config;
        let rng = config.rng;
        let fail_rng = Error::Internal("random number generator failed");
        let mut random = [0u8; 32];
        rng.fill(&mut random).map_err(|_| fail_rng)?;
        let mut session_id = [0u8; 32];
        // Compatibility mode sends one; so does a TLS 1.2 resumption,
        // whose acceptance the server tells by echoing it (RFC 5077 §3.4).
        let offer = tls12_offer(&common);
        let session_id_len = match offer {
            // A TLS 1.2 session named by its id: offered as the id.
            Some(t) if t.session_id => {
                crate::codec::copy_prefix(&mut session_id, t.ticket, t.ticket.len());
                u8::try_from(t.ticket.len()).map_err(|_| Error::Internal("session id"))?
            }
            _ if config.middlebox_compat || offer.is_some() => {
                rng.fill(&mut session_id).map_err(|_| fail_rng)?;
                32u8
            }
            _ => 0,
        };
        let (group, extra_share) = first_share_groups(config.groups).ok_or(
            crate::error::Misuse::BadConfig("no supported group configured"),
        )?;
        let kx = if config.suites.iter().any(|s| !s.is_tls12()) {
            Some(KeyExchange::start(group, rng).ok_or(fail_rng)?)
        } else if !config
            .groups
            .iter()
            .any(|g| super::tls12::is_tls12_group(*g))
        {
            return Err(crate::error::Misuse::BadConfig(
                "TLS 1.2 only, and no group TLS 1.2 can use (hybrids are TLS 1.3's)",
            )
            .into());
        } else {
            None
        };
        let mut transcript = EarlyTranscript::new();
        let mut fields = HelloFields {
            random,
            session_id,
            session_id_len,
            psk_sent: false,
            extra_share,
        };
        // Copied only by a client that may answer a TLS 1.2
        // CertificateRequest.
        let copying = config.client_auth.is_some() && config.suites.iter().any(|s| s.is_tls12());
        if copying {
            copy.start();
        }
        let offer_early = *early == crate::conn::EarlyPhase::Requested && early_possible(&common);
        fields.psk_sent = encode_hello(
            &common,
            &fields,
            kx.as_ref(),
            None,
            None,
            false,
            offer_early,
            out,
            |m| {
                transcript.add(m);
                copy.add(m);
            },
        )?;
        if offer_early {
            // RFC 8446 §D.4: offering early data, the compatibility CCS
            // follows the first ClientHello at once.
            if config.middlebox_compat {
                out.change_cipher_spec()?;
            }
            let (t, suite) = psk_offer(&common).ok_or(Error::Internal("0-RTT without a PSK"))?;
            let (traffic, early_exporter) =
                crate::key_schedule::EarlySecret::new(suite, Some(t.psk))?
                    .early_secrets(suite, &transcript.current(suite))?;
            super::log_secret(
                config.key_log,
                "CLIENT_EARLY_TRAFFIC_SECRET",
                &random,
                &traffic,
            );
            super::log_secret(
                config.key_log,
                "EARLY_EXPORTER_SECRET",
                &random,
                &early_exporter,
            );
            *after = crate::conn::AfterHandshake::Early(traffic, 0);
            // The exporter's slot is empty until the server's Finished:
            // the early exporter waits there meanwhile.
            *exporter = Some(early_exporter);
            *early = crate::conn::EarlyPhase::Offered;
        }
        *records = Records::Pending(Pending {
            kx,
            transcript: PendingTranscript::Both(transcript),
            fields,
        });
        Ok(Self::ExpectServerHello(common.ctx.now))
    }

    /// Handles the messages at the front of `region`.
    pub fn handle(
        self,
        inputs: Inputs<'_>,
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
            (Self::ExpectServerHello(kept), HandshakeType::SERVER_HELLO) => {
                let c = with(kept, inputs);
                let Records::Pending(s) = core::mem::replace(keys.records, Records::Empty) else {
                    return Err(Error::Internal("ClientHello state missing"));
                };
                match server_hello(&c, s, msg, body, keys, out)? {
                    Hello::Keyed(keyed) => Ok(Step {
                        next: Some(Self::ExpectEncryptedExtensions(c.ctx.now, keyed)),
                        consumed: total,
                    }),
                    Hello::Retry(pending) => {
                        early_declined(keys);
                        *keys.records = Records::Pending(pending);
                        Ok(Step {
                            next: Some(Self::ExpectServerHello(c.ctx.now)),
                            consumed: total,
                        })
                    }
                    Hello::Tls12(state) => {
                        // Our CCS and early records already went to a
                        // server that cannot skip them.
                        if *keys.early == crate::conn::EarlyPhase::Offered {
                            early_declined(keys);
                            return Err(PeerIncompatible::Tls12AfterEarlyData.into());
                        }
                        Ok(Step {
                            next: Some(Self::Tls12(c.ctx.now, state)),
                            consumed: total,
                        })
                    }
                }
            }
            (Self::Tls12(kept, s), _) => {
                let c = with(kept, inputs);
                let step = s.handle(&c, region, keys, out)?;
                Ok(Step {
                    next: step.next.map(|n| Self::Tls12(kept, n)),
                    consumed: step.consumed,
                })
            }
            (Self::ExpectEncryptedExtensions(kept, mut k), HandshakeType::ENCRYPTED_EXTENSIONS) => {
                let c = with(kept, inputs);
                let n = negotiated(keys)?;
                let accepted = encrypted_extensions(&c, n, body)?;
                let chosen = n.alpn_index.and_then(|i| c.config.alpn.get(usize::from(i)));
                let here = super::ticket::alpn_context(c.config.alpn, chosen.copied());
                if k.resumed {
                    // The verifier named the server in the ticket's ALPN
                    // context: the name holds only in the same one.
                    n.peer_identity = c
                        .ctx
                        .resume
                        .filter(|t| t.alpn_context == Some(here))
                        .and_then(|t| t.peer_identity);
                }
                early_answer(&c, &k, keys, accepted, here)?;
                k.transcript.add(msg);
                // A resumed session authenticates with the PSK alone.
                let next = if k.resumed {
                    Self::ExpectFinished(c.ctx.now, k)
                } else {
                    Self::ExpectCertificate(c.ctx.now, k)
                };
                Ok(Step {
                    next: Some(next),
                    consumed: total,
                })
            }
            (Self::ExpectCertificate(kept, mut k), HandshakeType::CERTIFICATE_REQUEST)
                if !k.cert_requested =>
            {
                let c = with(kept, inputs);
                let req = CertificateRequest::parse(body).map_err(extension_error)?;
                if !req.context.is_empty() {
                    return Err(
                        PeerMisbehaved::IllegalParameter("certificate_request_context").into(),
                    );
                }
                k.cert_requested = true;
                // RFC 8446 §4.4.2.3: sign with a scheme the server listed;
                // without one, answer with an empty Certificate.
                k.client_scheme = c.config.client_auth.as_ref().and_then(|a| {
                    crate::sign::scheme_for(
                        &*a.key,
                        req.signature_algorithms.iter().map(SignatureScheme),
                    )
                });
                k.transcript.add(msg);
                Ok(Step {
                    next: Some(Self::ExpectCertificate(c.ctx.now, k)),
                    consumed: total,
                })
            }
            (Self::ExpectCertificate(kept, mut k), HandshakeType::CERTIFICATE) => {
                let c = with(kept, inputs);
                let Some(cv) = super::paired_certificate_verify(region, total)? else {
                    return Ok(Step {
                        next: Some(Self::ExpectCertificate(c.ctx.now, k)),
                        consumed: 0,
                    });
                };
                let cv_total = cv.len();
                let n = keys
                    .negotiated
                    .as_mut()
                    .ok_or(Error::Internal("negotiated parameters missing"))?;
                certificate_and_verify(&c, &mut k, n, &mut *keys.peer_chain, msg, cv)?;
                Ok(Step {
                    next: Some(Self::ExpectFinished(c.ctx.now, k)),
                    // Both messages lie in the region.
                    consumed: total.saturating_add(cv_total),
                })
            }
            (Self::ExpectFinished(kept, k), HandshakeType::FINISHED) => {
                let c = with(kept, inputs);
                let unsigned = finished(&c, k, msg, body, keys, out)?;
                Ok(Step {
                    next: unsigned.map(|u| Self::AwaitSignature(c.ctx.now, u)),
                    consumed: total,
                })
            }
            (_, ty) => Err(PeerMisbehaved::UnexpectedHandshake(ty).into()),
        }
    }
}

pub(crate) fn extension_error(e: ExtensionError) -> Error {
    match e {
        ExtensionError::Decode(DecodeError(what)) => InvalidMessage::Handshake(what).into(),
        ExtensionError::Duplicate(ty) => PeerMisbehaved::DuplicateExtension(ty).into(),
    }
}

pub(crate) use extension_error as map_extension_error;

fn server_hello(
    c: &Common<'_>,
    s: Pending,
    msg: &[u8],
    body: &[u8],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<Hello, Error> {
    let sh = ServerHello::parse(body).map_err(extension_error)?;
    // RFC 8446 §4.2.1: a supported_versions naming anything but TLS 1.3
    // (we offer nothing else) is illegal_parameter.
    if sh
        .selected_version
        .is_some_and(|v| v != ProtocolVersion::TLS1_3)
    {
        return Err(PeerMisbehaved::IllegalParameter("selected_version").into());
    }
    let offers_tls12 = c.config.suites.iter().any(|s| s.is_tls12());
    // A client that offered TLS 1.2 only takes no TLS 1.3 answer: no
    // supported_versions, no HelloRetryRequest.
    if !c.config.suites.iter().any(|s| !s.is_tls12())
        && (sh.selected_version.is_some() || sh.is_retry())
    {
        return Err(
            PeerMisbehaved::IllegalParameter("TLS 1.3 answer to a TLS 1.2 ClientHello").into(),
        );
    }
    if sh.selected_version.is_none() && offers_tls12 && !sh.is_retry() {
        // TLS 1.2: its state machine takes over, with our key exchange and
        // the transcript of our (only) ClientHello.
        let PendingTranscript::Both(early) = s.transcript else {
            return Err(
                PeerMisbehaved::IllegalParameter("TLS 1.2 after a HelloRetryRequest").into(),
            );
        };
        let suite = c
            .config
            .suites
            .iter()
            .copied()
            .find(|x| x.id == sh.suite && x.is_tls12())
            .ok_or(PeerMisbehaved::IllegalParameter("cipher_suite not offered"))?;
        let session_id = s
            .fields
            .session_id
            .get(..usize::from(s.fields.session_id_len))
            .unwrap_or(&[]);
        return Ok(Hello::Tls12(super::tls12::client_server_hello(
            c,
            s.kx,
            s.fields.extra_share,
            early.pick(suite),
            (s.fields.random, session_id),
            &sh,
            msg,
            keys,
        )?));
    }
    if sh.selected_version == Some(ProtocolVersion::TLS1_2) && offers_tls12 {
        // RFC 8446 §4.2.1: TLS 1.2 is never selected this way.
        return Err(PeerMisbehaved::IllegalParameter("selected_version").into());
    }
    if sh.selected_version != Some(ProtocolVersion::TLS1_3) {
        // A 1.2-or-older ServerHello: check the sentinel first, which tells
        // an attack from a server that simply lacks 1.3.
        let tail = &sh.random[24..];
        if tail == DOWNGRADE_TLS12 || tail == DOWNGRADE_TLS11 {
            return Err(PeerMisbehaved::Downgrade.into());
        }
        return Err(PeerIncompatible::NotTls13.into());
    }
    if sh.legacy_version != ProtocolVersion::TLS1_2 {
        return Err(PeerMisbehaved::IllegalParameter("legacy_version").into());
    }
    if let Some(ext) = sh.unexpected {
        return Err(PeerMisbehaved::unexpected_extension(ext).into());
    }
    // Did the server take our ticket? Only identity 0 was offered, and
    // only if it was offered in the ClientHello this answers.
    let offered = psk_offer(c).filter(|_| s.fields.psk_sent);
    let psk = match (sh.selected_psk, offered) {
        (None, _) => None,
        (Some(0), Some((t, psk_suite))) if !sh.is_retry() => {
            if psk_suite.hash_len != Suite::from_id(sh.suite).map_or(0, |s| s.hash_len) {
                return Err(
                    PeerMisbehaved::IllegalParameter("suite hash differs from the PSK's").into(),
                );
            }
            Some(t)
        }
        (Some(0), Some(_)) => None,
        (Some(_), Some(_)) => {
            return Err(PeerMisbehaved::IllegalParameter("selected_identity").into());
        }
        (Some(_), None) => {
            return Err(PeerMisbehaved::UnsolicitedExtension(
                crate::wire::ExtensionType::PRE_SHARED_KEY,
            )
            .into());
        }
    };
    if sh.session_id
        != s.fields
            .session_id
            .get(..usize::from(s.fields.session_id_len))
            .unwrap_or(&[])
    {
        return Err(PeerMisbehaved::IllegalParameter("legacy_session_id_echo").into());
    }
    if sh.compression != 0 {
        return Err(PeerMisbehaved::IllegalParameter("legacy_compression_method").into());
    }
    // A TLS 1.3 ServerHello (or HelloRetryRequest) names a TLS 1.3 suite.
    let suite = c
        .config
        .suites
        .iter()
        .copied()
        .find(|x| x.id == sh.suite && !x.is_tls12())
        .ok_or(PeerMisbehaved::IllegalParameter("cipher_suite not offered"))?;
    let mut transcript = match s.transcript {
        PendingTranscript::Both(t) => t.pick(suite),
        PendingTranscript::Retried(t, retry_suite) => {
            if sh.is_retry() {
                // RFC 8446 §4.1.4: a second HelloRetryRequest.
                return Err(
                    PeerMisbehaved::UnexpectedHandshake(HandshakeType::SERVER_HELLO).into(),
                );
            }
            if retry_suite.id != suite.id {
                return Err(PeerMisbehaved::IllegalParameter(
                    "cipher_suite differs from HelloRetryRequest",
                )
                .into());
            }
            t
        }
    };
    // TLS 1.3 from here: no CertificateVerify signs a copy.
    keys.transcript_copy.stop();
    if sh.is_retry() {
        return Ok(Hello::Retry(retry(
            c, s.kx, s.fields, suite, transcript, msg, &sh, out,
        )?));
    }
    let share = sh.key_share.ok_or(PeerMisbehaved::MissingExtension(
        crate::wire::ExtensionType::KEY_SHARE,
    ))?;
    let kx = s.kx.ok_or(Error::Internal("key share"))?;
    if share.group != kx.group() && Some(share.group) != s.fields.extra_share {
        return Err(PeerMisbehaved::IllegalParameter("key_share group not offered").into());
    }
    let group = share.group;
    let shared = kx
        .complete_for(group, share.public)
        .ok_or(PeerMisbehaved::IllegalParameter("key_share public value"))?;
    transcript.add(msg);
    let secret =
        EarlySecret::new(suite, psk.map(|t| t.psk))?.into_handshake(suite, shared.as_bytes())?;
    let (client_hs, server_hs) = secret.traffic_secrets(suite, &transcript.current())?;
    let log = c.config.key_log;
    let random = s.fields.random;
    super::log_secret(log, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", &random, &client_hs);
    super::log_secret(log, "SERVER_HANDSHAKE_TRAFFIC_SECRET", &random, &server_hs);
    let bad = Error::Internal("handshake key derivation");
    *keys.records = Records::Keys {
        send: RecordKey::new(suite, client_hs.as_bytes()).ok_or(bad)?,
        recv: RecordKey::new(suite, server_hs.as_bytes()).ok_or(bad)?,
    };
    // Filled in as the handshake goes; shown once it is complete.
    *keys.negotiated = Some(Negotiated {
        version: ProtocolVersion::TLS1_3,
        suite: suite.id,
        group: Some(group),
        signature_scheme: None,
        alpn_index: None,
        cert_index: None,
        // A resumed session reports the server of the original one (its
        // identity once EncryptedExtensions shows the ALPN context).
        peer_cert_sha256: psk.and_then(|t| t.peer_cert_sha256),
        peer_identity: None,
        peer_record_size_limit: None,
        resumed: psk.is_some(),
        server_name: None,
    });
    Ok(Hello::Keyed(Keyed {
        suite,
        transcript,
        secret,
        client_random: random,
        resumed: psk.is_some(),
        cert_requested: false,
        client_scheme: None,
    }))
}

/// The parameters being negotiated (set at the ServerHello).
fn negotiated<'k>(keys: &'k mut Keys<'_>) -> Result<&'k mut Negotiated, Error> {
    keys.negotiated
        .as_mut()
        .ok_or(Error::Internal("negotiated parameters missing"))
}

/// Checks EncryptedExtensions and records what it settles; returns
/// whether it accepts early data (which the caller checks against what
/// was offered).
fn encrypted_extensions(c: &Common<'_>, n: &mut Negotiated, body: &[u8]) -> Result<bool, Error> {
    use crate::wire::ExtensionType as E;
    let ee = EncryptedExtensions::parse(body).map_err(extension_error)?;
    if let Some(ext) = ee.forbidden {
        // Defined for EncryptedExtensions, but answers to what we never
        // ask: unsolicited. Anything else TLS 1.3 defines is misplaced.
        let answers_a_request = matches!(
            ext,
            E::MAX_FRAGMENT_LENGTH
                | E::USE_SRTP
                | E::HEARTBEAT
                | E::CLIENT_CERTIFICATE_TYPE
                | E::SERVER_CERTIFICATE_TYPE
        );
        return Err(if answers_a_request {
            PeerMisbehaved::UnsolicitedExtension(ext)
        } else {
            PeerMisbehaved::unexpected_extension(ext)
        }
        .into());
    }
    // An acknowledgement of a server_name we did not send.
    if ee.server_name_ack && c.ctx.server_name.and_then(sni).is_none() {
        return Err(PeerMisbehaved::UnsolicitedExtension(E::SERVER_NAME).into());
    }
    if ee.alpn.is_some() && c.config.alpn.is_empty() {
        return Err(PeerMisbehaved::UnsolicitedExtension(E::ALPN).into());
    }
    if let Some(p) = ee.alpn {
        let index = c.config.alpn.iter().position(|ours| *ours == p).ok_or(
            PeerMisbehaved::IllegalParameter("ALPN protocol not offered"),
        )?;
        n.alpn_index = u8::try_from(index).ok();
    }
    if let Some(limit) = ee.record_size_limit {
        if limit < 64 {
            return Err(PeerMisbehaved::IllegalParameter("record_size_limit below 64").into());
        }
        n.peer_record_size_limit = Some(limit);
    }
    Ok(ee.early_data)
}

/// The server's answer to our 0-RTT, from its EncryptedExtensions
/// (RFC 8446 §4.2.10): accepted only with the PSK the early data was
/// keyed with, that PSK's suite, and the ALPN context of its session
/// (`here`, as `ticket::alpn_context` makes it); without an early_data,
/// declined.
fn early_answer(
    c: &Common<'_>,
    k: &Keyed,
    keys: &mut Keys<'_>,
    accepted: bool,
    here: [u8; 32],
) -> Result<(), Error> {
    use crate::conn::EarlyPhase as P;
    let offered = *keys.early == P::Offered;
    if accepted && !offered {
        return Err(
            PeerMisbehaved::UnsolicitedExtension(crate::wire::ExtensionType::EARLY_DATA).into(),
        );
    }
    if !offered {
        return Ok(());
    }
    if !accepted {
        early_declined(keys);
        return Ok(());
    }
    if !k.resumed || c.ctx.resume.map(|t| t.suite) != Some(k.suite.id) {
        return Err(PeerMisbehaved::IllegalParameter(
            "early data accepted without its PSK or suite",
        )
        .into());
    }
    if c.ctx.resume.and_then(|t| t.alpn_context) != Some(here) {
        return Err(PeerMisbehaved::IllegalParameter(
            "early data accepted under another ALPN protocol",
        )
        .into());
    }
    *keys.early = P::Accepted;
    Ok(())
}

/// Our 0-RTT is declined (no early_data in EncryptedExtensions, a
/// HelloRetryRequest, TLS 1.2): its key goes.
fn early_declined(keys: &mut Keys<'_>) {
    if *keys.early == crate::conn::EarlyPhase::Offered {
        *keys.early = crate::conn::EarlyPhase::Rejected;
        if matches!(keys.resumption, crate::conn::AfterHandshake::Early(..)) {
            *keys.resumption = crate::conn::AfterHandshake::None;
            // The early exporter waited in the exporter's slot.
            *keys.exporter = None;
        }
    }
}

/// Our EndOfEarlyData (RFC 8446 §4.5), under the early key, after the
/// server's Finished: then the early key goes.
fn end_of_early_data(
    suite: &'static Suite,
    transcript: &mut Transcript,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<(), Error> {
    let crate::conn::AfterHandshake::Early(secret, sealed) = &*keys.resumption else {
        return Err(Error::Internal("early key missing"));
    };
    let mut key = RecordKey::new(suite, secret.as_bytes())
        .ok_or(Error::Internal("early key"))?
        .resumed_at(u64::from(*sealed));
    // Assigned, not moved out: the secret is wiped where it lay.
    *keys.resumption = crate::conn::AfterHandshake::None;
    out.records(Some(&mut key), ContentType::HANDSHAKE, |w| {
        let from = w.len();
        super::messages::write_message(w, HandshakeType::END_OF_EARLY_DATA, |_| Ok(()))?;
        transcript.add(w.written().get(from..).unwrap_or(&[]));
        Ok(())
    })
}

fn certificate_and_verify(
    c: &Common<'_>,
    k: &mut Keyed,
    n: &mut Negotiated,
    keep: &mut dyn crate::conn::KeepChain,
    cert_msg: &[u8],
    cv_msg: &[u8],
) -> Result<(), Error> {
    let chain = super::parse_certificate(cert_msg.get(4..).unwrap_or(&[]))?;
    let ders = chain.ders();
    let Some(end_entity) = ders.first() else {
        // RFC 8446 §4.4.2.4: an empty server Certificate is decode_error.
        return Err(InvalidMessage::Handshake("empty server certificate").into());
    };
    let verifier = c.config.verifier;
    // Checked when the connection was made.
    let name = match c.ctx.server_name {
        Some(name) => Some(
            ServerName::try_from(name)
                .map_err(|_| crate::error::Misuse::BadConfig("server name"))?,
        ),
        None => None,
    };
    let context = ServerCertContext {
        server_name: name.as_ref(),
        alpn_offered: c.config.alpn,
        alpn: n
            .alpn_index
            .and_then(|i| c.config.alpn.get(usize::from(i)).copied()),
        now: c.ctx.now,
    };
    let identity = verifier.verify_server_cert_in(&ders, &context)?;
    k.transcript.add(cert_msg);
    let (scheme, sha) = super::check_certificate_verify(
        SignContext::Server,
        verifier.supported_schemes(),
        end_entity,
        &mut k.transcript,
        cv_msg,
        |ee, scheme, msg, sig| verifier.verify_signature(ee, scheme, msg, sig),
    )?;
    n.signature_scheme = Some(scheme);
    n.peer_cert_sha256 = Some(sha);
    n.peer_identity = identity;
    keep.keep(&ders);
    Ok(())
}

fn finished(
    c: &Common<'_>,
    mut k: Keyed,
    msg: &[u8],
    body: &[u8],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<Option<Unsigned>, Error> {
    let suite = k.suite;
    let bad = Error::Internal("handshake keys missing");
    let server_hs = keys.records.recv().ok_or(bad)?.secret();
    // RFC 8446 §4.4.4: the wrong length does not decode; the right length
    // with the wrong MAC does not verify.
    if body.len() != suite.hash_len {
        return Err(InvalidMessage::Handshake("finished length").into());
    }
    if !server_hs.verify_finished(suite, &k.transcript.current(), body)? {
        return Err(PeerMisbehaved::BadFinished.into());
    }
    k.transcript.add(msg);
    let master = k.secret.into_master(suite)?;
    let (client_ap, server_ap, exporter) =
        master.application_secrets(suite, &k.transcript.current())?;
    let log = c.config.key_log;
    super::log_secret(log, "CLIENT_TRAFFIC_SECRET_0", &k.client_random, &client_ap);
    super::log_secret(log, "SERVER_TRAFFIC_SECRET_0", &k.client_random, &server_ap);
    super::log_secret(log, "EXPORTER_SECRET", &k.client_random, &exporter);
    *keys.exporter = Some(exporter);
    keys.records
        .set_recv(RecordKey::new(suite, server_ap.as_bytes()).ok_or(bad)?)?;

    // Our flight: EndOfEarlyData (accepted 0-RTT), CCS (compatibility
    // mode, unless it followed a ClientHello that offered early data),
    // certificate if asked, Finished (`out` already keeps to the
    // server's record_size_limit).
    use crate::conn::EarlyPhase as P;
    let early_offered = matches!(*keys.early, P::Accepted | P::Rejected);
    if *keys.early == P::Accepted {
        end_of_early_data(suite, &mut k.transcript, keys, out)?;
    }
    if c.config.middlebox_compat && !early_offered {
        out.change_cipher_spec()?;
    }
    let send = keys.records.send_mut().ok_or(bad)?;
    // Finished is keyed by the secret of the key that seals it.
    let finished_key = send.secret().finished_key(suite)?;
    let transcript = &mut k.transcript;
    let auth = c.config.client_auth.as_ref().zip(k.client_scheme);
    let rng = c.config.rng;
    let mut pending = false;
    out.records(Some(send), ContentType::HANDSHAKE, |w| {
        if k.cert_requested {
            // Our chain and signature, or an empty Certificate when we
            // have no key that suits the request.
            let chain = auth.map(|(a, _)| &a.chain);
            let signer = auth.map(|(a, scheme)| (&*a.key, scheme));
            if !super::write_authentication(w, transcript, SignContext::Client, chain, signer, rng)?
            {
                // The rest waits for the signer.
                pending = true;
                return Ok(());
            }
        }
        super::write_finished(w, transcript, suite, &finished_key)?;
        Ok(())
    })?;
    if let Some((_, scheme)) = auth.filter(|_| pending) {
        return Ok(Some(Unsigned {
            suite,
            transcript: k.transcript,
            master,
            client_ap,
            scheme,
        }));
    }
    let pha = offers_post_handshake_auth(c.config);
    finish_flight(suite, &k.transcript, &master, &client_ap, pha, keys)?;
    Ok(None)
}

/// After our Finished: our application key, the resumption secret and,
/// when we offered post_handshake_auth, the transcript.
fn finish_flight(
    suite: &'static Suite,
    transcript: &Transcript,
    master: &MasterSecret,
    client_ap: &Secret,
    post_handshake_auth: bool,
    keys: &mut Keys<'_>,
) -> Result<(), Error> {
    let bad = Error::Internal("handshake keys missing");
    keys.records
        .set_send(RecordKey::new(suite, client_ap.as_bytes()).ok_or(bad)?)?;
    *keys.resumption = crate::conn::AfterHandshake::Resumption(
        master.resumption_secret(suite, &transcript.current())?,
    );
    // Through our Finished: what a post-handshake CertificateVerify and
    // Finished sign over (RFC 8446 §4.4).
    if post_handshake_auth {
        *keys.post_auth = Some(super::post_auth::PostAuth::client(
            suite,
            transcript.clone(),
        ));
    }
    Ok(())
}
