//! Session tickets for PSK resumption (RFC 8446 §4.2.11, §4.6.1).
//!
//! Server side: tickets are stateless. Everything the server needs to
//! resume is sealed with AES-256-GCM under a [`TicketKey`] the embedder
//! provides and rotates: the first key of the configured list seals, every
//! key opens (by its id), so retired keys can keep opening old tickets for
//! a while.
//!
//! What a ticket carries decides what it may resume (RFC 8446 §4.6.1: the
//! server must keep the client's identity and the server name consistent):
//!
//! - the digest of the client-auth policy of the server that issued it and
//!   of the client's end-entity certificate, if it sent one: a server
//!   resumes only tickets issued under its own policy, and the resumed
//!   session reports the original client;
//! - the digest of the server name (SNI) it was issued under: another
//!   name means a full handshake;
//! - the digest of the ALPN protocol of that connection (carried for
//!   early data, which must keep it; not checked on a 1-RTT resumption,
//!   where RFC 8446 lets ALPN change);
//! - the time of the original full handshake: however often a session is
//!   resumed and its tickets renewed, its keys live at most the configured
//!   ticket lifetime (at most 7 days) from that handshake.
//!
//! Client side: the engine hands each NewSessionTicket to a [`TicketSink`],
//! with the server name, the server's identity and our own client
//! certificate's digest of the connection; the embedder keeps it (in a
//! [`StoredTicket`], bounded, no allocator) with the time it received it,
//! and offers it again through [`ResumptionTicket`], only to that server
//! name and only from a configuration with the same client certificate.
//! The digest of the verifier that checked the server
//! ([`ServerCertVerifier::policy_digest`](crate::verify::ServerCertVerifier::policy_digest))
//! goes with the ticket, and a configuration whose verifier gives another
//! refuses to offer it; a verifier that gives none (the trait's default)
//! records nothing, and its identities are not carried. The ALPN context
//! the verifier saw ([`alpn_context`]: the protocols offered and the one
//! chosen) goes with it too: a resumed session in another context
//! reports the server's certificate digest but no identity.

use ring::aead;
use ring::rand::SecureRandom;
use rustls_pki_types::UnixTime;
use zeroize::Zeroizing;

use crate::key_schedule::{Secret, MAX_HASH_LEN};
use crate::wire::CipherSuite;

/// Longest ticket lifetime RFC 8446 allows: 7 days, in seconds.
pub const MAX_TICKET_LIFETIME: u32 = 604_800;

/// Bytes of a sealed ticket: key id (4), nonce (12), the sealed state
/// (201 bytes, listed below) and the tag (16).
pub const SEALED_TICKET_LEN: usize = 4 + 12 + STATE_LEN + 16;

/// Longest ticket a [`StoredTicket`] keeps. Ours are 233 bytes (4 + 12 + 201 + 16); OpenSSL's
/// and rustls' a few hundred.
pub const MAX_STORED_TICKET: usize = 1024;

/// Longest server name a [`StoredTicket`] keeps (a DNS name's 253).
pub const MAX_TICKET_SERVER_NAME: usize = 253;

/// 3: the client's identity was added; 4: TLS 1.2 tickets (a TLS 1.2
/// suite, the master secret, the extended-master-secret flag), which a
/// server of version 3 would not tell from TLS 1.3 ones; 5: the 0-RTT
/// allowance. A ticket of another version opens to nothing (a full
/// handshake).
const STATE_VERSION: u8 = 5;

/// The sealed state: version 1, suite 2, issue time 8, time of the full
/// handshake 8, lifetime 4, age_add 4, flags 1, client-auth policy 32,
/// client certificate 32, client identity 8, server name 16, ALPN 32,
/// 0-RTT allowance 4, PSK length 1, PSK up to 48.
const STATE_LEN: usize = 1 + 2 + 8 + 8 + 4 + 4 + 1 + 3 * 32 + 8 + 16 + 4 + 1 + MAX_HASH_LEN;

/// Flags of the sealed state: which optional digests are present.
const HAS_CLIENT_CERT: u8 = 1;
const HAS_SERVER_NAME: u8 = 2;
const HAS_ALPN: u8 = 4;
const HAS_CLIENT_IDENTITY: u8 = 8;
/// A TLS 1.2 session whose master secret was made without the extended
/// master secret (a peer the configuration let through).
const NO_EXTENDED_MASTER_SECRET: u8 = 16;

/// A key that seals and opens session tickets.
pub struct TicketKey {
    id: [u8; 4],
    key: aead::LessSafeKey,
}

impl core::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TicketKey({:02x?})", self.id)
    }
}

impl TicketKey {
    /// A ticket key named `id` (sent in the clear in each ticket, so a
    /// server can tell which of its keys sealed it) from 32 secret bytes.
    pub fn new(id: u32, secret: &[u8; 32]) -> Result<Self, crate::Error> {
        let key = aead::UnboundKey::new(&aead::AES_256_GCM, secret)
            .map_err(|_| crate::Error::Internal("ticket key"))?;
        Ok(Self {
            id: id.to_be_bytes(),
            key: aead::LessSafeKey::new(key),
        })
    }
}

/// What a ticket carries from one connection to the next. The PSK is
/// wiped on drop; the rest is not secret.
#[derive(Debug)]
pub struct TicketState {
    /// The suite of the connection that issued it.
    pub suite: CipherSuite,
    /// Issue time of this ticket, seconds since the Unix epoch (the
    /// ticket's age counts from it).
    pub issued_at: u64,
    /// Time of the full handshake this session comes from, seconds since
    /// the Unix epoch: resumption never extends a session past it plus the
    /// lifetime.
    pub auth_time: u64,
    /// Lifetime in seconds.
    pub lifetime: u32,
    /// The age obfuscator sent with it.
    pub age_add: u32,
    /// Digest of the issuing server's client-auth policy
    /// ([`client_auth_policy`]).
    pub client_auth_policy: [u8; 32],
    /// SHA-256 of the client's end-entity certificate, if it sent one.
    pub client_cert: Option<[u8; 32]>,
    /// What the issuing server's verifier named the client
    /// ([`ClientCertVerifier::verify_client_cert_in`](crate::verify::ClientCertVerifier::verify_client_cert_in)).
    pub client_identity: Option<u64>,
    /// The server name (SNI) it was issued under, if one was sent: the
    /// first 16 bytes of its SHA-256 in lower case ([`server_name_digest`];
    /// matching it takes a second preimage, 2^128 work).
    pub server_name: Option<[u8; 16]>,
    /// SHA-256 of the ALPN protocol negotiated, if one was.
    pub alpn: Option<[u8; 32]>,
    /// Bytes of 0-RTT data this ticket allows (its NewSessionTicket's
    /// early_data extension; 0: none, and always for TLS 1.2).
    pub max_early_data: u32,
    /// The resumption PSK (TLS 1.3), or the master secret (TLS 1.2).
    pub psk: Secret,
    /// TLS 1.2: the master secret is the extended one (RFC 7627); always
    /// true for TLS 1.3.
    pub extended_master_secret: bool,
}

/// The digest a ticket keeps of a server name: the first 16 bytes of the
/// SHA-256 of the name in lower case.
pub fn server_name_digest(name: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(digest(name, true).get(..16).unwrap_or(&[0; 16]));
    out
}

/// The ALPN context a client's verifier names the server in, as tickets
/// record it: SHA-256 of the protocols offered (each length-prefixed, in
/// order) and then the one chosen (a 0 byte for none, else 1 and the
/// protocol length-prefixed). Never the digest of nothing: a session
/// without ALPN has a context too, so `None` in a ticket only means
/// unknown.
pub fn alpn_context(offered: &[&[u8]], chosen: Option<&[u8]>) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let prefixed = |ctx: &mut ring::digest::Context, p: &[u8]| {
        // At most 255 bytes (checked in the configuration); longer ones
        // are cut in the prefix only, which no configuration reaches.
        ctx.update(&[u8::try_from(p.len()).unwrap_or(u8::MAX)]);
        ctx.update(p);
    };
    ctx.update(
        &u16::try_from(offered.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    for p in offered {
        prefixed(&mut ctx, p);
    }
    match chosen {
        None => ctx.update(&[0]),
        Some(p) => {
            ctx.update(&[1]);
            prefixed(&mut ctx, p);
        }
    }
    let mut out = [0u8; 32];
    crate::codec::copy_prefix(&mut out, ctx.finish().as_ref(), 32);
    out
}

/// SHA-256 of `bytes` with ASCII letters in lower case (server names
/// compare without case), or as they are.
pub(crate) fn digest(bytes: &[u8], fold_case: bool) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    if fold_case {
        for chunk in bytes.chunks(64) {
            let mut lower = [0u8; 64];
            for (l, b) in lower.iter_mut().zip(chunk) {
                *l = b.to_ascii_lowercase();
            }
            ctx.update(lower.get(..chunk.len()).unwrap_or(&[]));
        }
    } else {
        ctx.update(bytes);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The digest of a server's client-auth policy: whether it checks client
/// certificates, whether it requires one, and what its verifier accepts
/// ([`ClientCertVerifier::policy_digest`](crate::verify::ClientCertVerifier::policy_digest)).
/// A ticket resumes only on a server whose policy digest is the one it
/// was issued under, so a session authenticated (or not) under one policy
/// never resumes under another, even with a shared ticket key.
pub fn client_auth_policy(verifier: Option<&dyn crate::verify::ClientCertVerifier>) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"tlspair client-auth policy 1");
    match verifier {
        None => ctx.update(&[0]),
        Some(v) => {
            ctx.update(&[1, u8::from(v.client_auth_mandatory())]);
            ctx.update(&v.policy_digest());
        }
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Whether a ticket's session meets a server's client-auth policy now:
/// issued under the same policy (`policy`, [`client_auth_policy`] of
/// `verifier`), and with a client certificate if the verifier requires
/// one. A session can lack one under such a verifier when its client
/// was to be asked after the handshake
/// ([`ServerConfig::defer_client_auth`](super::ServerConfig::defer_client_auth)):
/// resuming it would skip the certificate the policy requires.
pub(crate) fn meets_client_auth(
    state: &TicketState,
    verifier: Option<&dyn crate::verify::ClientCertVerifier>,
    policy: [u8; 32],
) -> bool {
    let mandatory = verifier.is_some_and(|v| v.client_auth_mandatory());
    state.client_auth_policy == policy && (state.client_cert.is_some() || !mandatory)
}

/// Seals `state` under `key` into `out` (exactly [`SEALED_TICKET_LEN`]
/// bytes are written); returns the length.
pub(crate) fn seal(
    key: &TicketKey,
    state: &TicketState,
    rng: &dyn SecureRandom,
    out: &mut [u8],
) -> Option<usize> {
    let out = out.get_mut(..SEALED_TICKET_LEN)?;
    let (head, rest) = out.split_at_mut(16);
    let (body, tag_out) = rest.split_at_mut(STATE_LEN);
    head.get_mut(..4)?.copy_from_slice(&key.id);
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce).ok()?;
    head.get_mut(4..16)?.copy_from_slice(&nonce);
    let psk = state.psk.as_bytes();
    let flag = |present: bool, f: u8| if present { f } else { 0 };
    let flags = flag(state.client_cert.is_some(), HAS_CLIENT_CERT)
        | flag(state.server_name.is_some(), HAS_SERVER_NAME)
        | flag(state.alpn.is_some(), HAS_ALPN)
        | flag(state.client_identity.is_some(), HAS_CLIENT_IDENTITY)
        | flag(!state.extended_master_secret, NO_EXTENDED_MASTER_SECRET);
    let mut w = crate::codec::Writer::new(body);
    w.u8(STATE_VERSION).ok()?;
    w.u16(state.suite.0).ok()?;
    w.bytes(&state.issued_at.to_be_bytes()).ok()?;
    w.bytes(&state.auth_time.to_be_bytes()).ok()?;
    w.u32(state.lifetime).ok()?;
    w.u32(state.age_add).ok()?;
    w.u8(flags).ok()?;
    w.bytes(&state.client_auth_policy).ok()?;
    w.bytes(&state.client_cert.unwrap_or([0; 32])).ok()?;
    w.bytes(&state.client_identity.unwrap_or(0).to_be_bytes())
        .ok()?;
    w.bytes(&state.server_name.unwrap_or([0; 16])).ok()?;
    w.bytes(&state.alpn.unwrap_or([0; 32])).ok()?;
    w.u32(state.max_early_data).ok()?;
    w.vec8(psk).ok()?;
    let pad = STATE_LEN.checked_sub(w.len())?;
    w.bytes([0u8; MAX_HASH_LEN].get(..pad)?).ok()?;
    let tag = key
        .key
        .seal_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(key.id),
            body,
        )
        .ok()?;
    tag_out.copy_from_slice(tag.as_ref());
    Some(SEALED_TICKET_LEN)
}

/// Opens a ticket sealed by one of `keys`. `None` for a foreign, altered
/// or malformed ticket: the server then falls back to a full handshake.
/// The decrypted state is wiped once parsed.
pub(crate) fn open(keys: &[TicketKey], ticket: &[u8]) -> Option<TicketState> {
    if ticket.len() != SEALED_TICKET_LEN {
        return None;
    }
    let id = ticket.get(..4)?;
    let key = keys.iter().find(|k| k.id == id)?;
    let nonce: [u8; 12] = ticket.get(4..16)?.try_into().ok()?;
    let mut sealed = Zeroizing::new([0u8; STATE_LEN + 16]);
    sealed.copy_from_slice(ticket.get(16..)?);
    let plain = key
        .key
        .open_in_place(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(key.id),
            &mut sealed[..],
        )
        .ok()?;
    let mut r = crate::codec::Reader::new(plain);
    if r.u8("").ok()? != STATE_VERSION {
        return None;
    }
    let suite = CipherSuite(r.u16("").ok()?);
    let issued_at = u64::from_be_bytes(*r.array::<8>("").ok()?);
    let auth_time = u64::from_be_bytes(*r.array::<8>("").ok()?);
    let lifetime = r.u32("").ok()?;
    let age_add = r.u32("").ok()?;
    let flags = r.u8("").ok()?;
    let client_auth_policy = *r.array::<32>("").ok()?;
    let client_cert = *r.array::<32>("").ok()?;
    let client_identity = u64::from_be_bytes(*r.array::<8>("").ok()?);
    let server_name = *r.array::<16>("").ok()?;
    let alpn = *r.array::<32>("").ok()?;
    let max_early_data = r.u32("").ok()?;
    let client_cert = (flags & HAS_CLIENT_CERT != 0).then_some(client_cert);
    let client_identity = (flags & HAS_CLIENT_IDENTITY != 0).then_some(client_identity);
    let server_name = (flags & HAS_SERVER_NAME != 0).then_some(server_name);
    let alpn = (flags & HAS_ALPN != 0).then_some(alpn);
    let psk = Secret::new(r.vec8("").ok()?)?;
    Some(TicketState {
        suite,
        issued_at,
        auth_time,
        lifetime,
        age_add,
        client_auth_policy,
        client_cert,
        client_identity,
        server_name,
        alpn,
        max_early_data,
        psk,
        extended_master_secret: flags & NO_EXTENDED_MASTER_SECRET == 0,
    })
}

/// A NewSessionTicket as the client receives it, with the PSK derived and
/// what the ticket belongs to. `Debug` shows no PSK byte.
pub struct NewTicket<'a> {
    /// The suite of the connection (a resumption must use its hash): a
    /// TLS 1.3 suite, or a TLS 1.2 one for a TLS 1.2 ticket.
    pub suite: CipherSuite,
    /// The resumption PSK (TLS 1.3), or the session's master secret (TLS
    /// 1.2): whoever holds it can read that session and its resumptions.
    pub psk: &'a [u8],
    /// The ticket, opaque to the client.
    pub ticket: &'a [u8],
    /// Lifetime in seconds, at most 7 days.
    pub lifetime: u32,
    /// Added to the ticket age the client reports.
    pub age_add: u32,
    /// The server name the connection was made to (RFC 8446 §4.6.1: the
    /// ticket is offered only to it).
    pub server_name: Option<&'a str>,
    /// SHA-256 of the server's end-entity certificate on that connection
    /// (the identity a resumed session reports).
    pub peer_cert_sha256: Option<[u8; 32]>,
    /// What our verifier named the server on that connection
    /// ([`Negotiated::peer_identity`](crate::handshake::Negotiated::peer_identity));
    /// carried only from a verifier with a policy digest.
    pub peer_identity: Option<u64>,
    /// The digest of the verifier that checked the server
    /// ([`ServerCertVerifier::policy_digest`](crate::verify::ServerCertVerifier::policy_digest)):
    /// only a configuration whose verifier gives the same may offer the
    /// ticket.
    pub verifier_policy: Option<[u8; 32]>,
    /// The ALPN context our verifier named the server in, as
    /// [`alpn_context`]: the protocols offered and the one chosen. A
    /// resumed session in another context, or with a ticket whose context
    /// is `None` (unknown: a ticket saved without it), reports no
    /// identity.
    pub alpn_context: Option<[u8; 32]>,
    /// SHA-256 of our own end-entity certificate in the configuration of
    /// that connection ([`client_identity`]): only a configuration with
    /// the same one may offer the ticket.
    pub client_cert_sha256: Option<[u8; 32]>,
    /// TLS 1.2: `ticket` is the session id the server named the session
    /// with (RFC 5246 §7.4.1.2; resumed by offering it as the session id,
    /// from a server that keeps a session cache), not an RFC 5077 ticket.
    pub session_id: bool,
    /// The most 0-RTT data the server takes with this ticket: its
    /// early_data extension's max_early_data_size (RFC 8446 §4.6.1); 0
    /// when the ticket allows none (and for every TLS 1.2 session).
    pub max_early_data: u32,
    /// Which connection it came from: the embedder's tag for it
    /// ([`Connection::set_tag`](crate::Connection::set_tag); 0 unless
    /// set), such as its slab key, since one sink serves every connection
    /// of a configuration.
    pub connection: u64,
}

/// The client identity a ticket is bound to: SHA-256 of the end-entity
/// certificate of `config.client_auth`, if it has one.
pub fn client_identity(config: &crate::handshake::ClientConfig<'_>) -> Option<[u8; 32]> {
    let end_entity = config.client_auth.as_ref()?.chain.get(0)?;
    Some(digest(end_entity, false))
}

impl core::fmt::Debug for NewTicket<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NewTicket")
            .field("suite", &self.suite)
            .field("psk", &format_args!("({} bytes)", self.psk.len()))
            .field("ticket_len", &self.ticket.len())
            .field("lifetime", &self.lifetime)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// A TLS 1.2 server's session cache (RFC 5246 §7.4.1.2 session-id
/// resumption): the embedder's table, since the no_std core keeps none.
/// What it keeps is sealed like a ticket (under the configuration's first
/// [`TicketKey`], so a server with a cache needs ticket keys): a cache
/// entry read by another gives it nothing, and rotating the keys retires
/// the entries with them. Entries expire by themselves (a lookup checks
/// the lifetimes), so a bounded cache may drop any entry at any time.
///
/// `Send + Sync`, as every trait object in a configuration.
pub trait SessionCache: Send + Sync {
    /// Keeps `session` (at most [`SEALED_TICKET_LEN`] bytes) under `id`,
    /// replacing what was there.
    fn put(&self, id: &[u8; 32], session: &[u8]);

    /// Copies the session kept under `id` into `out` (room for
    /// [`SEALED_TICKET_LEN`] bytes) and returns its length, or `None`.
    /// `id` comes from the client: a lookup of what another client's
    /// session was named is refused by the checks after it, not here.
    /// Called inside the handshake step: a cache backed by a remote store
    /// blocks the connection meanwhile.
    fn get(&self, id: &[u8; 32], out: &mut [u8]) -> Option<usize>;
}

/// Where a client's engine puts the tickets it receives. The embedder
/// stamps each with its own clock (the engine has none).
/// `Send + Sync`, as every trait object in a configuration.
pub trait TicketSink: Send + Sync {
    /// A ticket arrived; keep it if wanted.
    fn store(&self, ticket: &NewTicket<'_>);
}

/// A ticket offered for resumption. `Debug` shows no PSK byte.
#[derive(Clone, Copy)]
pub struct ResumptionTicket<'a> {
    /// The suite it was issued under.
    pub suite: CipherSuite,
    /// The resumption PSK.
    pub psk: &'a [u8],
    /// The ticket.
    pub ticket: &'a [u8],
    /// Its lifetime in seconds.
    pub lifetime: u32,
    /// Its age obfuscator.
    pub age_add: u32,
    /// When the client received it.
    pub received_at: UnixTime,
    /// The server name it was issued for: a connection to another name
    /// refuses it ([`Misuse::TicketForAnotherServer`](crate::Misuse::TicketForAnotherServer)).
    pub server_name: Option<&'a str>,
    /// SHA-256 of the server's end-entity certificate when it was issued,
    /// reported by the resumed session.
    pub peer_cert_sha256: Option<[u8; 32]>,
    /// What our verifier named the server when it was issued, reported by
    /// the resumed session if it has the same ALPN protocol.
    pub peer_identity: Option<u64>,
    /// The digest of the verifier that checked the server
    /// ([`NewTicket::verifier_policy`]).
    pub verifier_policy: Option<[u8; 32]>,
    /// The ALPN context the server was named in
    /// ([`NewTicket::alpn_context`]; `None`: unknown).
    pub alpn_context: Option<[u8; 32]>,
    /// The client identity it was issued to
    /// ([`NewTicket::client_cert_sha256`]): a configuration with another
    /// refuses it ([`Misuse::TicketForAnotherClient`](crate::Misuse::TicketForAnotherClient)).
    pub client_cert_sha256: Option<[u8; 32]>,
    /// TLS 1.2: `ticket` is a session id, offered as the ClientHello's
    /// session id rather than in session_ticket.
    pub session_id: bool,
    /// The most 0-RTT data the server takes with it
    /// ([`NewTicket::max_early_data`]; 0: none).
    pub max_early_data: u32,
}

impl core::fmt::Debug for ResumptionTicket<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResumptionTicket")
            .field("suite", &self.suite)
            .field("psk", &format_args!("({} bytes)", self.psk.len()))
            .field("ticket_len", &self.ticket.len())
            .field("lifetime", &self.lifetime)
            .field("received_at", &self.received_at)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl ResumptionTicket<'_> {
    /// The obfuscated_ticket_age at `now`, or `None` if the ticket has
    /// expired (or `now` is before it was received).
    pub fn obfuscated_age(&self, now: UnixTime) -> Option<u32> {
        let age = now.as_secs().checked_sub(self.received_at.as_secs())?;
        if age >= u64::from(self.lifetime.min(MAX_TICKET_LIFETIME)) {
            return None;
        }
        let ms = u32::try_from(age.checked_mul(1000)?).ok()?;
        Some(ms.wrapping_add(self.age_add))
    }

    /// Whether this ticket may be offered to `server_name` (the name
    /// compares without case, RFC 6066 §3).
    pub fn is_for(&self, server_name: Option<&str>) -> bool {
        match (self.server_name, server_name) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }
}

/// A ticket kept by value, without an allocator: the ticket bytes (up to
/// [`MAX_STORED_TICKET`]), the PSK, the server name and the time it
/// arrived. The PSK is wiped on drop; `Debug` shows none of it.
pub struct StoredTicket {
    suite: CipherSuite,
    psk: Secret,
    ticket: [u8; MAX_STORED_TICKET],
    ticket_len: u16,
    lifetime: u32,
    age_add: u32,
    received_at: UnixTime,
    server_name: [u8; MAX_TICKET_SERVER_NAME],
    server_name_len: Option<u8>,
    peer_cert_sha256: Option<[u8; 32]>,
    peer_identity: Option<u64>,
    verifier_policy: Option<[u8; 32]>,
    alpn_context: Option<[u8; 32]>,
    client_cert_sha256: Option<[u8; 32]>,
    session_id: bool,
    max_early_data: u32,
}

impl Clone for StoredTicket {
    /// A second copy of the ticket and its PSK (an embedder's store may
    /// keep several): each copy wipes its own PSK.
    fn clone(&self) -> Self {
        Self {
            suite: self.suite,
            psk: self.psk.duplicate(),
            ticket: self.ticket,
            ticket_len: self.ticket_len,
            lifetime: self.lifetime,
            age_add: self.age_add,
            received_at: self.received_at,
            server_name: self.server_name,
            server_name_len: self.server_name_len,
            peer_cert_sha256: self.peer_cert_sha256,
            peer_identity: self.peer_identity,
            verifier_policy: self.verifier_policy,
            alpn_context: self.alpn_context,
            client_cert_sha256: self.client_cert_sha256,
            session_id: self.session_id,
            max_early_data: self.max_early_data,
        }
    }
}

impl core::fmt::Debug for StoredTicket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredTicket")
            .field("suite", &self.suite)
            .field("ticket_len", &self.ticket_len)
            .field("lifetime", &self.lifetime)
            .field("server_name", &self.name())
            .finish_non_exhaustive()
    }
}

impl StoredTicket {
    /// Keeps `t`, received at `now`. `None` if its ticket is longer than
    /// [`MAX_STORED_TICKET`] or its server name than
    /// [`MAX_TICKET_SERVER_NAME`].
    pub fn new(t: &NewTicket<'_>, now: UnixTime) -> Option<Self> {
        let mut ticket = [0u8; MAX_STORED_TICKET];
        ticket.get_mut(..t.ticket.len())?.copy_from_slice(t.ticket);
        let mut server_name = [0u8; MAX_TICKET_SERVER_NAME];
        let server_name_len = match t.server_name {
            Some(name) => {
                server_name
                    .get_mut(..name.len())?
                    .copy_from_slice(name.as_bytes());
                Some(u8::try_from(name.len()).ok()?)
            }
            None => None,
        };
        Some(Self {
            suite: t.suite,
            psk: Secret::new(t.psk)?,
            ticket,
            ticket_len: u16::try_from(t.ticket.len()).ok()?,
            lifetime: t.lifetime,
            age_add: t.age_add,
            received_at: now,
            server_name,
            server_name_len,
            peer_cert_sha256: t.peer_cert_sha256,
            peer_identity: t.peer_identity,
            verifier_policy: t.verifier_policy,
            alpn_context: t.alpn_context,
            client_cert_sha256: t.client_cert_sha256,
            session_id: t.session_id,
            max_early_data: t.max_early_data,
        })
    }

    fn name(&self) -> Option<&str> {
        let len = usize::from(self.server_name_len?);
        core::str::from_utf8(self.server_name.get(..len)?).ok()
    }

    /// The ticket to offer.
    pub fn resumption(&self) -> ResumptionTicket<'_> {
        ResumptionTicket {
            suite: self.suite,
            psk: self.psk.as_bytes(),
            ticket: self
                .ticket
                .get(..usize::from(self.ticket_len))
                .unwrap_or(&[]),
            lifetime: self.lifetime,
            age_add: self.age_add,
            received_at: self.received_at,
            server_name: self.name(),
            peer_cert_sha256: self.peer_cert_sha256,
            peer_identity: self.peer_identity,
            verifier_policy: self.verifier_policy,
            alpn_context: self.alpn_context,
            client_cert_sha256: self.client_cert_sha256,
            session_id: self.session_id,
            max_early_data: self.max_early_data,
        }
    }
}
