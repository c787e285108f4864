//! Session tickets for PSK resumption (RFC 8446 §4.2.11, §4.6.1).
//!
//! Server side: tickets are stateless. Everything the server needs to
//! resume is sealed with AES-256-GCM under a [`TicketKey`] the embedder
//! provides and rotates: the first key of the configured list seals, every
//! key opens (by its id), so retired keys can keep opening old tickets for
//! a while.
//!
//! Client side: the engine hands each NewSessionTicket to a [`TicketSink`];
//! the embedder keeps it (in a [`StoredTicket`], bounded, no allocator) with
//! the time it received it, and offers it again through
//! [`ResumptionTicket`].

use ring::aead;
use ring::rand::SecureRandom;
use rustls_pki_types::UnixTime;

use crate::key_schedule::{Secret, MAX_HASH_LEN};
use crate::wire::CipherSuite;

/// Longest ticket lifetime RFC 8446 allows: 7 days, in seconds.
pub const MAX_TICKET_LIFETIME: u32 = 604_800;

/// Bytes of a sealed ticket: key id (4), nonce (12), the sealed state
/// (version 1, suite 2, issue time 8, lifetime 4, age_add 4, ALPN index 1,
/// PSK length 1, PSK up to 48 = 69) and the tag (16).
pub const SEALED_TICKET_LEN: usize = 4 + 12 + 69 + 16;

/// Longest ticket a [`StoredTicket`] keeps. Ours are 101 bytes; OpenSSL's
/// and rustls' a few hundred.
pub const MAX_STORED_TICKET: usize = 1024;

const STATE_VERSION: u8 = 1;
const STATE_LEN: usize = 69;

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

/// What a ticket carries from one connection to the next.
#[derive(Clone, Debug)]
pub struct TicketState {
    /// The suite of the connection that issued it.
    pub suite: CipherSuite,
    /// Issue time, seconds since the Unix epoch.
    pub issued_at: u64,
    /// Lifetime in seconds.
    pub lifetime: u32,
    /// The age obfuscator sent with it.
    pub age_add: u32,
    /// The ALPN protocol index of that connection (0xff: none).
    pub alpn_index: u8,
    /// The resumption PSK.
    pub psk: Secret,
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
    let mut w = crate::codec::Writer::new(body);
    w.u8(STATE_VERSION).ok()?;
    w.u16(state.suite.0).ok()?;
    w.bytes(&state.issued_at.to_be_bytes()).ok()?;
    w.u32(state.lifetime).ok()?;
    w.u32(state.age_add).ok()?;
    w.u8(state.alpn_index).ok()?;
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
pub(crate) fn open(keys: &[TicketKey], ticket: &[u8]) -> Option<TicketState> {
    if ticket.len() != SEALED_TICKET_LEN {
        return None;
    }
    let id = ticket.get(..4)?;
    let key = keys.iter().find(|k| k.id == id)?;
    let nonce: [u8; 12] = ticket.get(4..16)?.try_into().ok()?;
    let mut sealed = [0u8; STATE_LEN + 16];
    sealed.copy_from_slice(ticket.get(16..)?);
    let plain = key
        .key
        .open_in_place(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(key.id),
            &mut sealed,
        )
        .ok()?;
    let mut r = crate::codec::Reader::new(plain);
    if r.u8("").ok()? != STATE_VERSION {
        return None;
    }
    let suite = CipherSuite(r.u16("").ok()?);
    let issued_at = u64::from_be_bytes(*r.array::<8>("").ok()?);
    let lifetime = r.u32("").ok()?;
    let age_add = r.u32("").ok()?;
    let alpn_index = r.u8("").ok()?;
    let psk = Secret::new(r.vec8("").ok()?)?;
    Some(TicketState {
        suite,
        issued_at,
        lifetime,
        age_add,
        alpn_index,
        psk,
    })
}

/// A NewSessionTicket as the client receives it, with the PSK derived.
#[derive(Debug)]
pub struct NewTicket<'a> {
    /// The suite of the connection (a resumption must use its hash).
    pub suite: CipherSuite,
    /// The resumption PSK.
    pub psk: &'a [u8],
    /// The ticket, opaque to the client.
    pub ticket: &'a [u8],
    /// Lifetime in seconds, at most 7 days.
    pub lifetime: u32,
    /// Added to the ticket age the client reports.
    pub age_add: u32,
}

/// Where a client's engine puts the tickets it receives. The embedder
/// stamps each with its own clock (the engine has none).
pub trait TicketSink {
    /// A ticket arrived; keep it if wanted.
    fn store(&self, ticket: &NewTicket<'_>);
}

/// A ticket offered for resumption.
#[derive(Clone, Copy, Debug)]
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
}

/// A ticket kept by value, without an allocator: the ticket bytes (up to
/// [`MAX_STORED_TICKET`]), the PSK and the time it arrived.
#[derive(Clone)]
pub struct StoredTicket {
    suite: CipherSuite,
    psk: Secret,
    ticket: [u8; MAX_STORED_TICKET],
    ticket_len: u16,
    lifetime: u32,
    age_add: u32,
    received_at: UnixTime,
}

impl core::fmt::Debug for StoredTicket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredTicket")
            .field("suite", &self.suite)
            .field("ticket_len", &self.ticket_len)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl StoredTicket {
    /// Keeps `t`, received at `now`. `None` if its ticket is longer than
    /// [`MAX_STORED_TICKET`].
    pub fn new(t: &NewTicket<'_>, now: UnixTime) -> Option<Self> {
        let mut ticket = [0u8; MAX_STORED_TICKET];
        ticket.get_mut(..t.ticket.len())?.copy_from_slice(t.ticket);
        Some(Self {
            suite: t.suite,
            psk: Secret::new(t.psk)?,
            ticket,
            ticket_len: u16::try_from(t.ticket.len()).ok()?,
            lifetime: t.lifetime,
            age_add: t.age_add,
            received_at: now,
        })
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
        }
    }
}
