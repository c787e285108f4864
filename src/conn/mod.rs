//! The engine: OpenSSL's `SSL_write` / `SSL_read` contract over the
//! caller's [`Buffers`].
//!
//! A [`Connection`] holds keys, sequence numbers and a few counters; it
//! holds no bytes of the stream. Each call takes the caller's buffers, moves
//! what it can, and says what happened with a [`Status`]:
//!
//! - `Done(n)`: `n` plaintext bytes were taken (`write`) or delivered
//!   (`read`);
//! - `WantRead`: no whole record is available; feed received bytes into
//!   `bufs.recv` and call again;
//! - `WantWrite { needed }`: the next record needs `needed` bytes of room in
//!   `bufs.send` (never more than its capacity); send pending bytes, then
//!   call again with the same arguments;
//! - `Closed`: the peer sent close_notify (`read` only);
//! - `SignaturePending`: the handshake waits for our
//!   [`Signer`](crate::sign::Signer) (a key in an HSM or KMS); send what
//!   `bufs.send` holds and call again once the signer has the signature.
//!   Only with a signer that can answer `Pending`; while it is pending the
//!   engine reads nothing, so bound the wait with a timer of your own.
//!
//! Call order for an event loop: after the transport delivers bytes,
//! `commit` them and `read`; before the transport can take bytes, `write`
//! and `shutdown`; whenever `bufs.send` is not empty, drain it.
//!
//! Bookkeeping kept between calls, none of it a buffer:
//!
//! - `write_sealed`: bytes of a pending complete-mode write already sealed,
//!   so a retry continues where it stopped (`0 <= write_sealed <= len` of
//!   the write that is being retried), and `write_print`, a fingerprint of
//!   those bytes (sampled, see `fingerprint`) that the retry must match;
//! - `plain_left` / `plain_tail`: when a record has been opened in place,
//!   `bufs.recv`'s front holds `plain_left` bytes of its plaintext, followed
//!   by `plain_tail` bytes (content type, padding, tag) to drop once the
//!   plaintext is read;
//! - `hs_len` / `hs_gap`: handshake messages are reassembled in place at the
//!   front of `bufs.recv`: `hs_len` bytes of handshake plaintext, then
//!   `hs_gap` dead bytes (the headers and tags of the records they came
//!   in), then unread records. Each record's handshake bytes are moved down
//!   to join the ones before, so a message split across records becomes
//!   contiguous where it lies. `plain_left > 0` and `hs_len > 0` hold
//!   together only while a client's answer to a post-handshake
//!   certificate request waits for room or for its signer: the request
//!   stays in the region, the data behind it is read meanwhile, its
//!   plaintext after the gap, and what is read of it joins the gap.
//!
//! ```text
//! bufs.recv: [ hs_len: handshake plaintext | hs_gap: dead | unread records | spare ]
//!            start
//! bufs.recv: [ hs_len: the request | hs_gap | plain_left | plain_tail | unread records ]
//! ```

use rustls_pki_types::UnixTime;

use crate::buffer::{Buffers, RecvView, SendView};
use crate::error::{Error, Misuse};
use crate::handshake::client::{self};
use crate::handshake::messages::HANDSHAKE_HEADER_LEN;
use crate::handshake::post_auth::PostAuth;
use crate::handshake::{server, ClientConfig, Negotiated, Records, ServerConfig};
use crate::key_schedule::Secret;
use crate::record::protect::RecordKey;
use crate::record::suite::Suite;
use crate::record::{Header, HEADER_LEN, MIN_SEND_CAPACITY, RECORD_OVERHEAD};
use crate::shared::{Name, Offer, Shared};
use crate::wire::{AlertDescription, AlertLevel, ContentType, HandshakeType, ProtocolVersion};

/// The connection's parts a handshake step works on (`client::Keys`),
/// each field borrowed on its own so that the configuration can be
/// borrowed beside them.
macro_rules! step_keys {
    ($conn:expr, $post_auth:expr) => {
        crate::handshake::client::Keys {
            records: &mut $conn.records,
            negotiated: &mut $conn.negotiated,
            exporter: &mut $conn.exporter,
            resumption: &mut $conn.resumption,
            skip_early_data: &mut $conn.skip_early_data,
            early: &mut $conn.early,
            peer_chain: &mut $conn.peer_chain,
            transcript_copy: &mut $conn.tls12_transcript,
            tag: $conn.tag,
            post_auth: $post_auth,
        }
    };
}

mod auth;
mod chain;
mod config;
mod input;
mod renegotiation;
pub(crate) use input::check_plaintext;

pub use chain::{ChainStorage, PeerChain};
pub(crate) use chain::{KeepChain, KeepTranscript};
pub use config::{
    EarlyData, Padding, RecordConfig, Shutdown, Status, WriteMode, AUTO_KEY_UPDATE_MARGIN,
    MAX_EMPTY_RECORDS, MIN_RECV_FRAGMENT,
};

/// What a connection keeps past its handshake besides its keys and the
/// exporter secret (TLS 1.3's exporter_master_secret, TLS 1.2's master
/// secret): one or the other, in the same bytes.
pub(crate) enum AfterHandshake {
    /// Nothing (a server, or before the handshake ends).
    None,
    /// TLS 1.3 client: resumption_master_secret, for the tickets to come.
    Resumption(Secret),
    /// TLS 1.2: client_random || server_random, for RFC 5705 exporters.
    Tls12Randoms([u8; 64]),
    /// TLS 1.2 client during a full handshake: the session id the server
    /// named the session with (kept here, not in the handshake state,
    /// until the server's Finished lets it be stored).
    Tls12SessionId([u8; 32], u8),
    /// TLS 1.3 client that offered 0-RTT, until its EndOfEarlyData or the
    /// server's refusal: the key early data is sealed with, as its
    /// secret (a sealing key is made from it for each call) and the
    /// records sealed so far (its sequence number).
    Early(Secret, u32),
    /// TLS 1.3 server that took 0-RTT data, until the client's
    /// EndOfEarlyData: the client's handshake traffic secret, which the
    /// receiving key switches to then, and the early bytes still allowed.
    EarlyAccepted(Secret, u32),
}

impl AfterHandshake {
    /// A server that took early data and has not read its EndOfEarlyData.
    pub(crate) fn takes_early_data(&self) -> bool {
        matches!(self, Self::EarlyAccepted(..))
    }
}

/// Where a client's 0-RTT stands (`EarlyData` tells the embedder; the
/// key is in `AfterHandshake::Early` while it is needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EarlyPhase {
    None,
    /// `write_early` before the ClientHello: it offers early_data.
    Requested,
    Offered,
    Accepted,
    Rejected,
}

/// Which side we are (a connection built from secrets counts as a client:
/// it accepts tickets, which it drops without a sink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

/// The handshake in progress, if any.
enum Handshake {
    Client(client::State),
    Server(server::State),
}

impl Handshake {
    /// Whether the peer's TLS 1.2 ChangeCipherSpec is due.
    fn expects_change_cipher_spec(&self) -> bool {
        match self {
            Self::Client(s) => s.expects_change_cipher_spec(),
            Self::Server(s) => s.expects_change_cipher_spec(),
        }
    }

    /// Whether a message waits in the region across the peer's
    /// ChangeCipherSpec: only a TLS 1.2 client's NewSessionTicket.
    fn holds_ticket(&self) -> bool {
        matches!(self, Self::Client(s) if s.holds_ticket())
    }

    /// The peer's TLS 1.2 ChangeCipherSpec: its key takes over.
    fn change_cipher_spec(self, records: &mut Records) -> Result<Self, Error> {
        Ok(match self {
            Self::Client(s) => Self::Client(s.change_cipher_spec(records)?),
            Self::Server(s) => Self::Server(s.change_cipher_spec(records)?),
        })
    }

    /// A renegotiation that lets us seal data under the connection's key
    /// meanwhile: a server's, which ends with its ChangeCipherSpec. Not a
    /// client's from its ClientHello on: RFC 5246 §6.2.1 lets records
    /// interleave, but OpenSSL, as a server, takes data during a
    /// renegotiation only until it has written its ServerHello, which a
    /// record sent after our ClientHello may meet, so a client's write
    /// waits (`WantRead`) until the renegotiation completes.
    fn renegotiation_may_write(&self) -> bool {
        matches!(self, Self::Server(_))
    }

    /// The peer's ChangeCipherSpec came (TLS 1.2), its Finished not yet.
    fn awaits_finished_after_change(&self) -> bool {
        match self {
            Self::Client(s) => s.awaits_finished_after_change(),
            Self::Server(s) => s.awaits_finished_after_change(),
        }
    }

    /// Whether the peer still waits for a flight of ours before the
    /// handshake can complete (a client until its Finished, a server until
    /// its first flight); a server that only has tickets left does not.
    fn owes_flight(&self) -> bool {
        match self {
            Self::Client(_) => true,
            Self::Server(s) => s.owes_flight(),
        }
    }
}

/// The handshake in progress, or once it completed what post-handshake
/// authentication keeps, in the same bytes. Its `Option`-like methods
/// see the handshake alone: `is_some` means "handshaking".
enum Slot {
    Idle,
    Running(Handshake),
    After(PostAuth),
}

impl Slot {
    fn is_some(&self) -> bool {
        matches!(self, Self::Running(_))
    }

    fn is_none(&self) -> bool {
        !self.is_some()
    }

    fn as_ref(&self) -> Option<&Handshake> {
        match self {
            Self::Running(hs) => Some(hs),
            _ => None,
        }
    }

    /// Takes the running handshake out (what post-handshake
    /// authentication keeps stays).
    fn take(&mut self) -> Option<Handshake> {
        match core::mem::replace(self, Self::Idle) {
            Self::Running(hs) => Some(hs),
            other => {
                *self = other;
                None
            }
        }
    }

    /// What post-handshake authentication keeps, once the handshake is
    /// done.
    fn post_auth(&mut self) -> Option<&mut PostAuth> {
        match self {
            Self::After(p) => Some(p),
            _ => None,
        }
    }

    /// A server's post-handshake requests, if it keeps them.
    fn server_auth(&self) -> Option<&crate::handshake::post_auth::ServerAuth> {
        match self {
            Self::After(PostAuth::Server(a)) => Some(a),
            _ => None,
        }
    }
}

impl Slot {
    /// After a step: the next handshake state or, once it is done, what
    /// the step left for post-handshake authentication.
    fn after_step(next: Option<Handshake>, post_auth: Option<PostAuth>) -> Self {
        match (next, post_auth) {
            (Some(hs), _) => Self::Running(hs),
            (None, Some(p)) => Self::After(p),
            (None, None) => Self::Idle,
        }
    }
}

impl From<Option<Handshake>> for Slot {
    fn from(hs: Option<Handshake>) -> Self {
        hs.map_or(Self::Idle, Self::Running)
    }
}

/// A TLS 1.3 connection: the engine behind `write`, `read` and `shutdown`.
/// It owns no buffer; see the module docs.
pub struct Connection<'a> {
    records: Records,
    role: Role,
    config: RecordConfig,
    /// Largest content per sent record: our setting, lowered by the peer's
    /// record_size_limit.
    /// (At most 2^14, so kept in two bytes: an idle connection pays for
    /// every field.)
    send_fragment: u16,
    hs: Slot,
    /// Handshake messages are at most 2^24 - 1 bytes: larger settings
    /// saturate (kept in four bytes).
    max_handshake_message: u32,
    negotiated: Option<Negotiated>,
    exporter: Option<Secret>,
    /// resumption_master_secret (client), for the tickets the server
    /// sends; with TLS 1.2, both randoms (the exporter's seed).
    resumption: AfterHandshake,
    /// The configuration, after the handshake too: a client's ticket sink
    /// and certificate, either side's ALPN protocols.
    peer_config: PeerConfig<'a>,
    /// The name a client connects to, which its tickets are for.
    server_name: Name<'a>,
    /// The ticket a client offers (lent to the handshake's steps).
    resume: Option<Offer<'a>>,
    /// The embedder's name for this connection, handed to its ticket
    /// sink.
    tag: u64,
    /// Where the peer's verified chain is kept, if the embedder asked.
    peer_chain: chain::ChainStore<'a>,
    /// Where a TLS 1.2 handshake's messages are copied for client
    /// authentication, if the embedder lent storage.
    tls12_transcript: chain::TranscriptStore<'a>,
    /// Bytes of unreadable (0-RTT) records a server may still skip.
    skip_early_data: u32,
    /// A client's 0-RTT: where it stands and the bytes sealed.
    early: EarlyPhase,
    early_sent: u32,
    write_sealed: usize,
    /// Fingerprint of the `write_sealed` bytes, for the retry check.
    write_print: u32,
    /// Plaintext at the front: a record's content, or during a TLS 1.2
    /// renegotiation that of the records read behind it, up to 2^16 - 1.
    plain_left: u16,
    /// Dead bytes after it: one record's overhead and padding (< 2^14 +
    /// 256; those of the records before are reclaimed first).
    plain_tail: u16,
    hs_len: usize,
    hs_gap: usize,
    empty_records: u8,
    key_update: Option<bool>,
    /// Plaintext room lent by `reserve`, 0 without a reservation.
    /// At most one record's content (≤ 2^14).
    reserved: u16,
    sent_close: bool,
    recv_close: bool,
    /// The peer's one compatibility change_cipher_spec has come.
    ccs_seen: bool,
    /// The handshake completed (from the start for a connection built from
    /// secrets); never set again once false after a failure.
    handshake_done: bool,
    error: Option<Error>,
    alert_pending: Option<AlertDescription>,
}

/// A connection dropped while its signer is pending tells the signer.
impl Drop for Connection<'_> {
    fn drop(&mut self) {
        self.drop_handshake();
    }
}

/// Which configuration a connection was made from, borrowed or shared.
#[derive(Clone)]
pub(crate) enum PeerConfig<'a> {
    /// Built from traffic secrets.
    None,
    Client(Shared<'a, ClientConfig<'a>>),
    Server(Shared<'a, ServerConfig<'a>>),
}

pub(crate) const NO_CONFIG: Error = Error::Internal("a handshake without its configuration");

impl<'a> PeerConfig<'a> {
    pub(crate) fn client(&self) -> Option<&ClientConfig<'a>> {
        match self {
            Self::Client(c) => Some(c),
            _ => None,
        }
    }

    fn alpn(&self) -> &[&'a [u8]] {
        match self {
            Self::Client(c) => c.alpn,
            Self::Server(s) => s.alpn,
            Self::None => &[],
        }
    }
}

impl core::fmt::Debug for Connection<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("send", &self.records.send())
            .field("recv", &self.records.recv())
            .field("handshaking", &self.hs.is_some())
            .field("write_sealed", &self.write_sealed)
            .field("plain_left", &self.plain_left)
            .field("sent_close", &self.sent_close)
            .field("recv_close", &self.recv_close)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<'a> Connection<'a> {
    fn with(
        config: RecordConfig,
        hs: Option<Handshake>,
        max_handshake_message: usize,
    ) -> Result<Self, Error> {
        config.check()?;
        let handshake_done = hs.is_none();
        Ok(Self {
            records: Records::Empty,
            role: match hs {
                Some(Handshake::Server(_)) => Role::Server,
                _ => Role::Client,
            },
            // `check` bounds it to 2^14.
            send_fragment: u16::try_from(config.max_fragment_len).unwrap_or(u16::MAX),
            config,
            hs: hs.into(),
            max_handshake_message: u32::try_from(max_handshake_message).unwrap_or(u32::MAX),
            negotiated: None,
            exporter: None,
            resumption: AfterHandshake::None,
            peer_config: PeerConfig::None,
            server_name: Name(None),
            resume: None,
            tag: 0,
            peer_chain: chain::ChainStore::default(),
            tls12_transcript: chain::TranscriptStore::default(),
            skip_early_data: 0,
            early: EarlyPhase::None,
            early_sent: 0,
            write_sealed: 0,
            write_print: 0,
            plain_left: 0,
            plain_tail: 0,
            hs_len: 0,
            hs_gap: 0,
            empty_records: 0,
            key_update: None,
            reserved: 0,
            sent_close: false,
            recv_close: false,
            ccs_seen: false,
            handshake_done,
            error: None,
            alert_pending: None,
        })
    }

    /// A client connection to `server_name` (the name sent as SNI and
    /// checked against the certificate; `None` only with a verifier that
    /// checks no name). `now` is the time certificates are checked against:
    /// the engine has no clock. The first `write`, `read` or
    /// [`handshake`](Self::handshake) sends the ClientHello.
    ///
    /// `config` is borrowed (`&config`) or, with feature `alloc`, shared
    /// (`Arc<ClientConfig>`): see [`Shared`].
    ///
    /// `server_name` is borrowed (`Some("example.com")`) or, with feature
    /// `alloc`, owned (a `String` or an `Arc<str>`): see [`Name`]. Owned
    /// configuration and name make a `Connection<'static>`.
    pub fn client(
        config: impl Into<Shared<'a, ClientConfig<'a>>>,
        server_name: impl Into<Name<'a>>,
        now: UnixTime,
    ) -> Result<Self, Error> {
        Self::client_with(config.into(), server_name.into(), now, None)
    }

    /// A client connection offering `ticket` for resumption (RFC 8446
    /// §2.2), falling back to a full handshake if the server declines or
    /// the ticket has expired at `now`.
    ///
    /// `ticket` is borrowed (`&ResumptionTicket`) or, with feature
    /// `alloc`, shared (`Arc<StoredTicket>`): see [`Offer`].
    pub fn client_resuming(
        config: impl Into<Shared<'a, ClientConfig<'a>>>,
        server_name: impl Into<Name<'a>>,
        now: UnixTime,
        ticket: impl Into<Offer<'a>>,
    ) -> Result<Self, Error> {
        Self::client_with(config.into(), server_name.into(), now, Some(ticket.into()))
    }

    fn client_with(
        config: Shared<'a, ClientConfig<'a>>,
        server_name: Name<'a>,
        now: UnixTime,
        resume: Option<Offer<'a>>,
    ) -> Result<Self, Error> {
        if let Some(name) = server_name.as_str() {
            rustls_pki_types::ServerName::try_from(name).map_err(|_| {
                Misuse::BadConfig("server name is neither a DNS name nor an IP address")
            })?;
        }
        // RFC 8446 §4.6.1: a ticket is offered only to the server it came
        // from, and only by the client identity it was issued to (a store
        // shared by several configurations must not lend one client's
        // session to another).
        if let Some(t) = resume.as_ref().map(Offer::view) {
            if !t.is_for(server_name.as_str()) {
                return Err(Misuse::TicketForAnotherServer.into());
            }
            if t.client_cert_sha256 != crate::handshake::ticket::client_identity(&config) {
                return Err(Misuse::TicketForAnotherClient.into());
            }
            if t.verifier_policy != config.verifier.policy_digest() {
                return Err(Misuse::TicketForAnotherVerifier.into());
            }
        }
        config.check()?;
        let mut conn = Self::with(
            config.record,
            Some(Handshake::Client(client::State::new(now))),
            config.max_handshake_message,
        )?;
        conn.peer_config = PeerConfig::Client(config);
        conn.server_name = server_name;
        conn.resume = resume;
        Ok(conn)
    }

    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    /// Test hook: a client that has already sent `client_hello` (a whole
    /// message) with `kx`'s key share, for replaying published traces.
    pub fn client_after_hello(
        config: &'a ClientConfig<'a>,
        server_name: Option<&'a str>,
        now: UnixTime,
        client_hello: &[u8],
        kx: crate::handshake::kx::KeyExchange,
    ) -> Result<Self, Error> {
        let (state, pending) = client::State::after_hello(now, client_hello, kx)?;
        let mut conn = Self::with(
            config.record,
            Some(Handshake::Client(state)),
            config.max_handshake_message,
        )?;
        conn.records = Records::Pending(pending);
        conn.peer_config = PeerConfig::Client(config.into());
        conn.server_name = server_name.into();
        Ok(conn)
    }

    /// A server connection. `now` is the time client certificates are
    /// checked against.
    ///
    /// `config` is borrowed (`&config`) or, with feature `alloc`, shared
    /// (`Arc<ServerConfig>`): see [`Shared`].
    pub fn server(
        config: impl Into<Shared<'a, ServerConfig<'a>>>,
        now: UnixTime,
    ) -> Result<Self, Error> {
        let config = config.into();
        config.check()?;
        let mut conn = Self::with(
            config.record,
            Some(Handshake::Server(server::State::new(now))),
            config.max_handshake_message,
        )?;
        conn.peer_config = PeerConfig::Server(config);
        Ok(conn)
    }
}

impl Connection<'static> {
    /// An established connection from traffic secrets negotiated elsewhere,
    /// the way kernel TLS is handed its keys: `send_secret` protects what we
    /// write, `recv_secret` what we read. Both start at sequence number 0.
    ///
    /// Fails with [`Misuse::BadConfig`] if a secret is not the suite's hash
    /// length or `config` is out of range.
    pub fn from_traffic_secrets(
        suite: &'static Suite,
        send_secret: &[u8],
        recv_secret: &[u8],
        config: RecordConfig,
    ) -> Result<Self, Error> {
        let mut conn = Self::with(
            config,
            None,
            crate::handshake::DEFAULT_MAX_HANDSHAKE_MESSAGE,
        )?;
        let bad_secret = Misuse::BadConfig("traffic secret length differs from the suite's hash");
        conn.records = Records::Keys {
            send: RecordKey::new(suite, send_secret).ok_or(bad_secret)?,
            recv: RecordKey::new(suite, recv_secret).ok_or(bad_secret)?,
        };
        Ok(conn)
    }
}

impl Connection<'static> {
    /// An established TLS 1.2 connection from keys negotiated elsewhere
    /// (the TLS 1.2 counterpart of
    /// [`from_traffic_secrets`](Self::from_traffic_secrets), as kernel
    /// TLS takes them): each direction's write key and IV from the key
    /// block (RFC 5246 §6.3; the IV is 4 bytes of salt for AES-GCM, 12
    /// for ChaCha20-Poly1305). Both start at sequence number 0: call it
    /// before the first record under the keys, or set the sequence
    /// numbers (test builds) to continue.
    ///
    /// Fails with [`Misuse::BadConfig`] if `suite` is not a TLS 1.2
    /// suite, a length does not fit it, or `config` is out of range.
    pub fn from_tls12_keys(
        suite: &'static Suite,
        send: (&[u8], &[u8]),
        recv: (&[u8], &[u8]),
        config: RecordConfig,
    ) -> Result<Self, Error> {
        let mut conn = Self::with(
            config,
            None,
            crate::handshake::DEFAULT_MAX_HANDSHAKE_MESSAGE,
        )?;
        let bad = Misuse::BadConfig("not a TLS 1.2 suite, or a key or IV of the wrong length");
        conn.records = Records::Keys {
            send: RecordKey::new_tls12(suite, send.0, send.1).ok_or(bad)?,
            recv: RecordKey::new_tls12(suite, recv.0, recv.1).ok_or(bad)?,
        };
        Ok(conn)
    }
}

impl<'a> Connection<'a> {
    /// Keeps the peer's certificate chain, once verified, in `storage`:
    /// lent (`&mut [u8]`, no allocation) or, with feature `alloc`, a
    /// `Vec<u8>` grown to fit. Call it before the peer's Certificate
    /// arrives (before the first call, say); a chain already verified is
    /// not kept retroactively. [`peer_chain`](Self::peer_chain) lends it
    /// after the handshake. A resumed session carries no chain (none was
    /// sent): `Negotiated::peer_cert_sha256` and `peer_identity` name its
    /// peer. Storage given before comes back, emptied.
    pub fn keep_peer_chain(
        &mut self,
        storage: impl Into<ChainStorage<'a>>,
    ) -> Option<ChainStorage<'a>> {
        self.peer_chain.set(storage.into())
    }

    /// The peer's certificate chain (DER, end-entity first, as the peer
    /// sent it), once the handshake is complete and the verifier accepted
    /// it. Only the end-entity certificate is proven by the handshake (its
    /// key signed the CertificateVerify); the rest is what the peer sent
    /// and the verifier accepted, which may have ignored it (a pin
    /// verifier does). `None` if no storage was given, the peer sent no
    /// certificate (a resumption, a client without one) or the chain did
    /// not fit: a check that needs the chain must tell these apart with
    /// [`peer_chain_needed`](Self::peer_chain_needed) and
    /// `Negotiated::peer_cert_sha256`, never treat `None` as "nothing to
    /// check".
    pub fn peer_chain(&self) -> Option<PeerChain<'_>> {
        self.peer_chain
            .chain()
            .filter(|_| self.handshake_done && self.error.is_none())
    }

    /// How many bytes of storage the peer's chain needed, if it was not
    /// kept for lack of them.
    pub fn peer_chain_needed(&self) -> Option<usize> {
        self.peer_chain.needed()
    }

    /// Takes back the storage given to
    /// [`keep_peer_chain`](Self::keep_peer_chain) (to reuse it), emptied:
    /// a kept chain is wiped from it (an owned `Vec` comes back zeroed and cleared).
    pub fn take_peer_chain_storage(&mut self) -> Option<ChainStorage<'a>> {
        self.peer_chain.take()
    }

    /// Lends storage for TLS 1.2 client authentication, in either role:
    /// lent (`&mut [u8]`, no allocation) or, with feature `alloc`, a
    /// `Vec<u8>` grown as needed. TLS 1.2's CertificateVerify signs all
    /// the handshake messages before it (RFC 5246 §7.4.8), and *ring*
    /// signs and verifies messages only as bytes, never as digests, so
    /// those messages are copied here during a TLS 1.2 handshake: the
    /// ClientHello, the server's flight with its chain, the client's
    /// chain and key exchange (a few KiB with short chains; at most the
    /// configuration's `max_handshake_message` per message).
    ///
    /// - A client with a certificate (`ClientConfig::client_auth`) needs
    ///   it to answer a TLS 1.2 server's CertificateRequest; without it
    ///   it answers with an empty Certificate, as a client without a
    ///   certificate does.
    /// - A server whose client verifier requires a certificate
    ///   negotiates TLS 1.2 only with it (else TLS 1.3 or nothing). One
    ///   whose verifier takes anonymous clients asks for a certificate in
    ///   TLS 1.2 only with it, and without it takes TLS 1.2 clients
    ///   anonymously.
    ///
    /// Storage too small for the messages fails the handshake with
    /// [`Error::Aborted`]`(`[`Misuse::TranscriptStorageTooSmall`]`)`,
    /// which says how much it needed; except that a server whose
    /// verifier takes anonymous clients asks for no certificate when the
    /// ClientHello and the most its own flight takes do not fit (the
    /// client stays anonymous, and
    /// [`tls12_transcript_needed`](Self::tls12_transcript_needed) tells
    /// that shortfall). A client chain that then does not fit still fails
    /// the handshake, with the size it needed. Call it before the first call
    /// (the copy starts with the ClientHello); a TLS 1.3 handshake copies
    /// nothing. Storage given before comes back; while a TLS 1.2
    /// handshake copies into it, it stays, and `storage` comes back
    /// instead.
    pub fn keep_tls12_transcript(
        &mut self,
        storage: impl Into<ChainStorage<'a>>,
    ) -> Option<ChainStorage<'a>> {
        if self.copying_tls12_transcript() {
            return Some(storage.into());
        }
        self.tls12_transcript.set(storage.into())
    }

    /// Takes back the storage given to
    /// [`keep_tls12_transcript`](Self::keep_tls12_transcript) (an owned
    /// `Vec` comes back cleared): `None` while a TLS 1.2 handshake copies
    /// into it (until [`is_established`](Self::is_established) or a
    /// failure).
    pub fn take_tls12_transcript_storage(&mut self) -> Option<ChainStorage<'a>> {
        if self.copying_tls12_transcript() {
            return None;
        }
        self.tls12_transcript.take()
    }

    /// Whether a handshake in progress copies its messages into the
    /// storage (which must then stay where it is).
    fn copying_tls12_transcript(&self) -> bool {
        self.hs.is_some() && self.tls12_transcript.is_active()
    }

    /// How many bytes the TLS 1.2 handshake's messages needed, if they
    /// did not fit the storage lent to
    /// [`keep_tls12_transcript`](Self::keep_tls12_transcript). (A server
    /// whose optional verifier went without a certificate for want of
    /// room tells the bound it checked, the ClientHello and the most its
    /// own flight takes: a lower bound, since a client's chain and key
    /// exchange come on top.)
    pub fn tls12_transcript_needed(&self) -> Option<usize> {
        self.tls12_transcript.needed_if_short()
    }

    /// The negotiated cipher suite, once keys exist; `None` after a fatal
    /// error.
    pub fn suite(&self) -> Option<&'static Suite> {
        self.records
            .send()
            .map(RecordKey::suite)
            .filter(|_| self.error.is_none())
    }

    /// What the handshake settled on, once it is complete (`None` for a
    /// connection built from secrets, and after a fatal error: nothing of
    /// a dead connection is to be relied on).
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated
            .as_ref()
            .filter(|_| self.handshake_done && self.error.is_none())
    }

    /// Keying material exported from the connection (RFC 8446 §7.5, the
    /// RFC 5705 interface): fills `out` with TLS-Exporter(`label`,
    /// `context`, `out.len()`). In TLS 1.3 an absent context and an empty
    /// one give the same output. Fails with [`Misuse::NotReady`] before
    /// the handshake completes (and on connections built from secrets),
    /// with [`Misuse::BadConfig`] for a label over 249 bytes or more
    /// than 255 hash lengths of output, and with the connection's error
    /// after a fatal one.
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let (Some(exporter), Some(suite), true) =
            (self.exporter.as_ref(), self.suite(), self.handshake_done)
        else {
            return Err(Misuse::NotReady.into());
        };
        if self.is_tls12() {
            return match &self.resumption {
                AfterHandshake::Tls12Randoms(randoms) => {
                    export_tls12(exporter, suite, randoms, out, label, context)
                }
                _ => Err(Misuse::NotReady.into()),
            };
        }
        crate::key_schedule::export(exporter, suite, out, label, context)
    }

    /// Keying material from the early exporter (RFC 8446 §7.5,
    /// early_exporter_master_secret; `SSL_export_keying_material_early`):
    /// TLS-Exporter over the early secret, known to both sides from the
    /// ClientHello on. A client has it from the ClientHello that offers
    /// 0-RTT ([`write_early`](Self::write_early)) until the server's answer
    /// (its Finished, or a refusal); a server that took early data, until
    /// the client's EndOfEarlyData ([`read_early`](Self::read_early)
    /// answering `Done(0)`). Like the early data, it is bound to a
    /// ClientHello an attacker may replay. [`Misuse::NotReady`] outside
    /// those windows; the other rules as for
    /// [`export_keying_material`](Self::export_keying_material).
    pub fn export_keying_material_early(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let suite = match (&self.resumption, self.role) {
            (AfterHandshake::Early(..), Role::Client) => self.early_suite(),
            (AfterHandshake::EarlyAccepted(..), Role::Server) => {
                self.records.send().map(RecordKey::suite)
            }
            _ => None,
        };
        match (suite, self.exporter.as_ref()) {
            (Some(suite), Some(early)) => {
                crate::key_schedule::export(early, suite, out, label, context)
            }
            _ => Err(Misuse::NotReady.into()),
        }
    }

    /// Whether the handshake is still running: `false` once it completed,
    /// and once the connection failed (so a loop on it ends).
    /// [`is_established`](Self::is_established) tells the two apart.
    pub fn is_handshaking(&self) -> bool {
        !self.handshake_done && self.error.is_none()
    }

    /// Whether a TLS 1.2 renegotiation (RFC 5746) is running: the
    /// connection stays established meanwhile; `write` answers `WantRead`
    /// until it completes, `read` delivers the data that comes.
    pub fn is_renegotiating(&self) -> bool {
        self.handshake_done && self.hs.is_some() && self.error.is_none()
    }

    /// The ALPN protocol the handshake settled on, as its bytes (`None`
    /// without ALPN, and after a fatal error).
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        let index = self.negotiated()?.alpn_index?;
        self.peer_config.alpn().get(usize::from(index)).copied()
    }

    /// Largest handshake message accepted.
    fn max_handshake_message(&self) -> usize {
        usize::try_from(self.max_handshake_message).unwrap_or(usize::MAX)
    }

    /// Names this connection for the embedder's hooks: the tickets it
    /// receives reach the [`TicketSink`](crate::handshake::ticket::TicketSink)
    /// with this tag ([`NewTicket::connection`](crate::handshake::ticket::NewTicket::connection)),
    /// so one sink shared by every connection of a configuration knows
    /// which connection (a slab key, a task id) each ticket came from.
    pub fn set_tag(&mut self, tag: u64) {
        self.tag = tag;
    }

    /// The tag [`set_tag`](Self::set_tag) gave (0 by default).
    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// Whether the handshake, or our answer to a post-handshake
    /// certificate request, waits for our signer (the last call answered
    /// [`Status::SignaturePending`]).
    pub fn awaits_signature(&self) -> bool {
        match (self.hs.as_ref(), &self.hs) {
            (Some(Handshake::Client(s)), _) => s.awaits_signature(),
            (Some(Handshake::Server(s)), _) => s.awaits_signature(),
            (None, Slot::After(PostAuth::Client(a))) => a.awaits_signature(),
            (None, _) => false,
        }
    }

    /// Whether the handshake completed and no fatal error has ended the
    /// connection since.
    pub fn is_established(&self) -> bool {
        self.handshake_done && self.error.is_none()
    }

    /// The record settings in force.
    pub fn config(&self) -> &RecordConfig {
        &self.config
    }

    /// Switches between complete and partial writes (`SSL_set_mode`). A
    /// complete write in progress keeps its progress.
    pub fn set_write_mode(&mut self, mode: WriteMode) {
        self.config.write_mode = mode;
    }

    /// Bytes of the pending complete-mode write already sealed into records:
    /// after `WantWrite` or an error, exactly this prefix of the plaintext
    /// is in the outgoing view and the rest is not.
    pub fn write_progress(&self) -> usize {
        self.write_sealed
    }

    /// Decrypted plaintext ready to read without more input (`SSL_pending`).
    /// After a fatal error, what was opened before it: `read` delivers
    /// that first, then the error.
    pub fn pending_plaintext(&self) -> usize {
        // Before the handshake completes plaintext is early data, for
        // `read_early` (and a failed handshake delivers none).
        if !self.handshake_done {
            0
        } else {
            self.plain_len()
        }
    }

    /// Whether the peer's close_notify has been received.
    pub fn peer_closed(&self) -> bool {
        self.recv_close
    }

    /// Whether our close_notify has been sealed.
    pub fn close_sent(&self) -> bool {
        self.sent_close
    }

    /// The fatal error that ended this connection, if one did.
    pub fn error(&self) -> Option<Error> {
        self.error
    }

    /// Whether there is output to send: bytes in `bufs.send`, or a record
    /// the engine has queued and not yet written for lack of room (an
    /// alert; a KeyUpdate, ours or the reply to the peer's; a server's
    /// post-handshake CertificateRequest; a client's first ClientHello). Any call with room writes what is queued
    /// (`handshake` does while the handshake runs). An edge-triggered loop
    /// waits for writability while this is true, and only then. Tickets
    /// are never queued: a server writes them with the step that reads the
    /// client's Finished, which needs the room for them.
    pub fn wants_write<R, S>(&self, bufs: &Buffers<R, S>) -> bool
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let usable = self.error.is_none() && !self.sent_close;
        !bufs.send.is_empty()
            || self.alert_pending.is_some()
            || (usable && self.handshake_done && self.key_update.is_some())
            || (usable && matches!(self.hs.as_ref(), Some(Handshake::Client(s)) if s.has_output()))
            || (usable && self.hs.server_auth().is_some_and(|a| a.queued()))
    }

    /// Whether the connection is over: both directions closed
    /// (close_notify sent and received) or a fatal error, and everything
    /// sent (`bufs.send` empty, no alert queued). The socket can go.
    pub fn is_finished<R, S>(&self, bufs: &Buffers<R, S>) -> bool
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let ended = self.error.is_some() || (self.sent_close && self.recv_close);
        ended && bufs.send.is_empty() && self.alert_pending.is_none()
    }

    /// Whether an alert still waits for room in the outgoing view; any call
    /// with room emits it.
    pub fn alert_pending(&self) -> bool {
        self.alert_pending.is_some()
    }

    /// Asks for a KeyUpdate (RFC 8446 §4.6.3): our sending key is replaced
    /// after the next KeyUpdate message, which the next `write`, `read`,
    /// `handshake` or `shutdown` with room sends before any more data.
    /// With `request_peer`, the peer is asked to update its key too.
    pub fn key_update(&mut self, request_peer: bool) {
        let requested = self.key_update.unwrap_or(false) || request_peer;
        self.key_update = Some(requested);
    }

    /// Drives the handshake without carrying data (`SSL_do_handshake`).
    /// `Done(())` once it is complete (at once for a connection built from
    /// secrets); `WantRead` / `WantWrite` while it runs, and
    /// `SignaturePending` while our signer has not answered.
    pub fn handshake<R, S>(&mut self, bufs: &mut Buffers<R, S>) -> Result<Status<()>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        match self.drive(&mut rx, &mut tx)? {
            // Once established, a queued KeyUpdate goes too: any call with
            // room writes what is queued (`wants_write`).
            Status::Done(()) | Status::Established if self.handshake_done => {
                self.flush_key_update(&mut tx)
            }
            other => Ok(other),
        }
    }

    /// Seals `data` as 0-RTT early data (`SSL_write_early_data`, RFC 8446
    /// §4.2.10), on a client made with
    /// [`client_resuming`](Self::client_resuming) from a TLS 1.3 ticket
    /// whose server allows early data
    /// ([`ResumptionTicket::max_early_data`](crate::handshake::ticket::ResumptionTicket::max_early_data)).
    /// The first call, before any other, writes the ClientHello offering
    /// early data; each call then seals what fits after it, under the
    /// early traffic key, up to the ticket's allowance.
    ///
    /// - `Done(n)`: `n` bytes of `data` sealed (fewer when the outgoing
    ///   view or the allowance ran out: 0 once it is used up); call again
    ///   with the rest, or drive the handshake.
    /// - `WantWrite { needed }`: no room for the ClientHello or a record;
    ///   drain `bufs.send` and repeat.
    /// - `Err(Misuse(NoEarlyData))`: nothing to do with 0-RTT here (see
    ///   [`Misuse::NoEarlyData`]); nothing changed.
    ///
    /// Until the server answers, "sealed" is not "delivered": once the
    /// handshake completes, [`early_data`](Self::early_data) says whether
    /// the server took those bytes ([`EarlyData::Accepted`]: each once,
    /// though an attacker may replay them to the server) or declined
    /// them ([`EarlyData::Rejected`]: none were delivered, and the
    /// application sends them again with `write` if it still wants to;
    /// [`early_data_sent`](Self::early_data_sent) counts them). Early
    /// data may be sealed until the ServerHello is read.
    pub fn write_early<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        data: &[u8],
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        let inputs = input::client_inputs(
            &self.peer_config,
            &self.server_name,
            &self.resume,
            EarlyPhase::Requested,
        );
        let startable = match (self.hs.as_ref(), inputs) {
            (Some(Handshake::Client(s)), Some(inputs)) => s.may_offer_early(inputs),
            _ => false,
        };
        let before_server_hello = matches!(self.records, Records::Pending(_));
        match self.early {
            EarlyPhase::None | EarlyPhase::Requested if startable => {
                let before = self.early;
                self.early = EarlyPhase::Requested;
                // The ClientHello first, offering early data.
                let driven = self.drive(&mut rx, &mut tx);
                match driven {
                    // Nothing written (a misuse: the view is too small):
                    // nothing asked either.
                    Err(e) => {
                        if self.early == EarlyPhase::Requested {
                            self.early = before;
                        }
                        return Err(e);
                    }
                    Ok(Status::WantWrite { needed }) => return Ok(Status::WantWrite { needed }),
                    // A server's answer already waiting (a HelloRetryRequest)
                    // declined it: nothing sealed, `early_data` says so.
                    Ok(_) if self.early == EarlyPhase::Rejected => return Ok(Status::Done(0)),
                    Ok(_) if self.early != EarlyPhase::Offered => {
                        return Err(Error::Internal("0-RTT not offered"))
                    }
                    Ok(_) => {}
                }
            }
            EarlyPhase::Offered if before_server_hello => {}
            _ => return Err(Misuse::NoEarlyData.into()),
        }
        self.seal_early(&mut tx, data)
    }

    /// A client's 0-RTT suite: its ticket's.
    fn early_suite(&self) -> Option<&'static Suite> {
        let id = self.resume.as_ref()?.view().suite;
        self.peer_config
            .client()?
            .suites
            .iter()
            .copied()
            .find(|s| s.id == id)
    }

    /// The records of [`write_early`](Self::write_early): as many as fit,
    /// within the ticket's allowance.
    fn seal_early(&mut self, tx: &mut SendView<'_>, data: &[u8]) -> Result<Status<usize>, Error> {
        const NO_KEY: Error = Error::Internal("early key missing");
        let allowance = self.resume.as_ref().map_or(0, |t| t.view().max_early_data);
        let suite = self.early_suite().ok_or(NO_KEY)?;
        let AfterHandshake::Early(secret, sealed) = &self.resumption else {
            return Err(NO_KEY);
        };
        let mut key = RecordKey::new(suite, secret.as_bytes())
            .ok_or(NO_KEY)?
            .resumed_at(u64::from(*sealed));
        let mut done = 0usize;
        loop {
            let left = usize::try_from(allowance.saturating_sub(self.early_sent)).unwrap_or(0);
            let available = data.len().saturating_sub(done).min(left);
            if available == 0 {
                break;
            }
            // Never padded: a server that declines skips early records
            // within a budget of bytes on the wire.
            let (take, _) = self.next_record(tx.capacity(), available);
            let total = self.record_overhead().saturating_add(take);
            let Some(record) = tx.room(total) else {
                if done == 0 {
                    return Ok(Status::WantWrite { needed: total });
                }
                break;
            };
            crate::codec::copy_prefix(
                record
                    .get_mut(HEADER_LEN..HEADER_LEN.saturating_add(take))
                    .unwrap_or(&mut []),
                data.get(done..).unwrap_or(&[]),
                take,
            );
            if let Err(e) = key.seal(ContentType::APPLICATION_DATA, take, record) {
                return Err(self.fail(tx, e));
            }
            tx.commit(total);
            done = done.saturating_add(take);
            self.early_sent = self
                .early_sent
                .saturating_add(u32::try_from(take).unwrap_or(u32::MAX));
            if let AfterHandshake::Early(_, sealed) = &mut self.resumption {
                *sealed = sealed.saturating_add(1);
            }
        }
        Ok(Status::Done(done))
    }

    /// What became of the 0-RTT data.
    ///
    /// A client ([`write_early`](Self::write_early)): `Offered` until the
    /// handshake completes, then `Accepted` or `Rejected`. A server
    /// ([`read_early`](Self::read_early)): `Accepted` from its first
    /// flight on if it took the client's early data, `Rejected` if it
    /// declined an offer, `NotOffered` otherwise.
    pub fn early_data(&self) -> EarlyData {
        match self.early {
            EarlyPhase::None | EarlyPhase::Requested => EarlyData::NotOffered,
            EarlyPhase::Offered => EarlyData::Offered,
            // The server's acceptance counts once its Finished verified.
            EarlyPhase::Accepted if self.role == Role::Client && !self.handshake_done => {
                EarlyData::Offered
            }
            EarlyPhase::Accepted => EarlyData::Accepted,
            EarlyPhase::Rejected => EarlyData::Rejected,
        }
    }

    /// Bytes of 0-RTT data: a client's, those [`write_early`](Self::write_early)
    /// sealed (all delivered if the server accepted them, none if it
    /// declined); a server's, those [`read_early`](Self::read_early)
    /// delivered.
    pub fn early_data_sent(&self) -> usize {
        usize::try_from(self.early_sent).unwrap_or(usize::MAX)
    }

    /// Reads 0-RTT data (`SSL_read_early_data`, RFC 8446 §4.2.10) on a
    /// server: called until the ClientHello is answered (first, say), it
    /// lets the server take the early data of a resumed client (with
    /// [`ServerConfig::max_early_data_size`](crate::handshake::ServerConfig::max_early_data_size),
    /// a ticket that allows it, and a
    /// [`replay_guard`](crate::handshake::ServerConfig::replay_guard)
    /// that has not seen the offer); a ClientHello answered by any other
    /// call is declined.
    ///
    /// - `Done(n)`, `n > 0`: `n` bytes of early data in `dst`. They may be
    ///   a replay (the guard makes that rare, never impossible: RFC 8446
    ///   §8): act on them only as on a request that is safe to repeat.
    /// - `Done(0)`: the early data is over (the client's EndOfEarlyData
    ///   came, or none was offered or taken); go on with `handshake`,
    ///   `read` and `write`. [`early_data`](Self::early_data) says which.
    /// - `WantRead`, `WantWrite { needed }`, `SignaturePending`: as for
    ///   [`handshake`](Self::handshake), which the call drives (our first
    ///   flight goes out as it answers the ClientHello).
    /// - `Err(Misuse(EmptyEarlyDataBuffer))`: `dst` is empty.
    ///
    /// Early data never comes out of `read`: until `Done(0)`, any other
    /// call that meets it answers `Err(Misuse(EarlyDataUnread))` and
    /// leaves it in place.
    pub fn read_early<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        dst: &mut [u8],
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if self.role != Role::Server {
            return Err(Misuse::NoEarlyData.into());
        }
        if dst.is_empty() {
            return Err(Misuse::EmptyEarlyDataBuffer.into());
        }
        // Willing for this call only: a ClientHello answered by another
        // call declines, since that call could not hand the data out.
        if self.early == EarlyPhase::None && self.awaits_first_hello() {
            self.early = EarlyPhase::Requested;
        }
        let read = self.read_early_views(&mut rx, &mut tx, dst);
        if self.early == EarlyPhase::Requested {
            self.early = EarlyPhase::None;
        }
        read
    }

    /// A server that has not answered its first ClientHello yet.
    fn awaits_first_hello(&self) -> bool {
        matches!(self.hs.as_ref(), Some(Handshake::Server(s)) if s.awaits_client_hello())
    }

    /// A server that took early data and has not read its EndOfEarlyData.
    pub(super) fn early_receiving(&self) -> bool {
        self.resumption.takes_early_data()
    }

    /// Copies the plaintext at the front of the received view into `dst`,
    /// as much as both hold, and consumes it; returns the count.
    fn copy_plain(&mut self, rx: &mut RecvView<'_>, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.plain_len());
        let at = self.plain_offset();
        crate::codec::copy_prefix(dst, rx.unread().get(at..).unwrap_or(&[]), n);
        self.consume_plain(rx, n);
        n
    }

    /// The body of [`read_early`](Self::read_early).
    fn read_early_views(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        dst: &mut [u8],
    ) -> Result<Status<usize>, Error> {
        loop {
            // While the handshake runs, plaintext at the front is early
            // data (a server reads no other before the client's Finished).
            if self.plain_left > 0 && self.hs.is_some() && !self.handshake_done {
                let n = self.copy_plain(rx, dst);
                self.early_sent = self
                    .early_sent
                    .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                return Ok(Status::Done(n));
            }
            if !self.early_receiving() && !self.awaits_first_hello() {
                return Ok(Status::Done(0));
            }
            match self.drive(rx, tx) {
                Err(Error::Misuse(Misuse::EarlyDataUnread)) => {}
                Err(e) => return Err(e),
                Ok(Status::WantRead) if self.early_receiving() || self.awaits_first_hello() => {
                    return Ok(Status::WantRead)
                }
                // Answered: the loop tells what follows.
                Ok(Status::WantRead | Status::Done(()) | Status::Established) => {}
                Ok(other) => return Ok(other.map(|()| 0)),
            }
        }
    }

    /// Seals `data` as application data into `bufs.send` (`SSL_write`).
    ///
    /// Drives the handshake first: until it completes the call answers
    /// `WantRead` (the peer's flight is needed), `WantWrite` (our flight
    /// needs room) or `SignaturePending` (our signer has not answered),
    /// and nothing of `data` is taken.
    ///
    /// - `Done(n)`: in complete mode `n == data.len()`, every byte sealed;
    ///   in partial mode one record was sealed and `n` is its content.
    /// - `WantWrite { needed }`: drain `bufs.send`, then repeat the call with
    ///   the same bytes (the buffer may move). In complete mode the engine
    ///   remembers how many bytes it sealed ([`write_progress`](Self::write_progress)).
    /// - `Err(Misuse(BadWriteRetry))`: the retry passed fewer bytes than
    ///   were already sealed; nothing changed.
    ///
    /// An empty `data` writes nothing and returns `Done(0)` once the
    /// handshake is done. Never returns `Closed`: after the peer's
    /// close_notify we may still write (TLS 1.3 closes each direction on
    /// its own). Returns `WantRead` only while the handshake runs.
    pub fn write<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        data: &[u8],
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        self.write_gather(bufs, data.len(), |from, dst| {
            crate::codec::copy_prefix(dst, data.get(from..).unwrap_or(&[]), dst.len());
        })
    }

    /// Like [`write`](Self::write), with the plaintext in several slices
    /// (`writev`): records are filled across slice boundaries, each byte
    /// copied once, and the progress a retry needs counts bytes of the
    /// concatenation.
    pub fn write_vectored<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        data: &[&[u8]],
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        // Saturating: a concatenation longer than `usize::MAX` bytes is
        // written up to that many, like a short write.
        let total = data.iter().fold(0, |n: usize, d| n.saturating_add(d.len()));
        self.write_gather(bufs, total, |mut from, mut dst| {
            for part in data {
                if dst.is_empty() {
                    return;
                }
                let Some(rest) = part.get(from..) else {
                    // `from > part.len()`: `get` failed.
                    from = from.saturating_sub(part.len());
                    continue;
                };
                from = 0;
                let n = rest.len().min(dst.len());
                crate::codec::copy_prefix(dst, rest, n);
                dst = dst.get_mut(n..).unwrap_or(&mut []);
            }
        })
    }

    /// `write` over `len` bytes that `copy(from, dst)` copies out, starting
    /// at offset `from`, to fill `dst`.
    fn write_gather<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        len: usize,
        copy: impl Fn(usize, &mut [u8]),
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if self.closing() {
            return Err(Misuse::WriteAfterShutdown.into());
        }
        // SSL_write(3): a retry repeats the same bytes (the buffer may
        // move). Fewer bytes than were sealed, or other bytes where they
        // were sampled, would splice two streams into one.
        let sealed = self.write_sealed;
        if sealed > 0 && (len < sealed || fingerprint(&copy, sealed) != self.write_print) {
            return Err(Misuse::BadWriteRetry {
                sealed,
                offered: len,
            }
            .into());
        }
        let status = self.write_records(&mut rx, &mut tx, len, &copy);
        if matches!(status, Ok(Status::Done(_))) || self.write_sealed == sealed {
            return status;
        }
        // Stopped with new bytes sealed: what the retry must match.
        self.write_print = fingerprint(&copy, self.write_sealed);
        status
    }

    /// The body of [`write_gather`](Self::write_gather): seals records
    /// until `len` bytes are sealed or the outgoing view is full.
    fn write_records(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        len: usize,
        copy: &impl Fn(usize, &mut [u8]),
    ) -> Result<Status<usize>, Error> {
        match self.ready_to_send(rx, tx)? {
            Status::Done(()) => {}
            other => return Ok(other.map(|()| 0)),
        }
        loop {
            match self.flush_key_update(tx)? {
                Status::Done(()) => {}
                other => return Ok(other.map(|()| 0)),
            }
            let done = self.write_sealed;
            if done >= len {
                self.write_sealed = 0;
                return Ok(Status::Done(len));
            }
            // `done < len`, and a record takes at most `len - done`.
            match self.seal_data(tx, len.saturating_sub(done), |dst| copy(done, dst))? {
                Status::Done(n) => {
                    self.write_sealed = self.write_sealed.saturating_add(n);
                    if self.config.write_mode == WriteMode::Partial {
                        return Ok(Status::Done(core::mem::take(&mut self.write_sealed)));
                    }
                }
                other => return Ok(other),
            }
            self.schedule_key_update();
        }
    }

    /// Before sending data: not after our close_notify, the handshake
    /// done, and a KeyUpdate queued if the key nears its usage limit.
    fn ready_to_send(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        if self.closing() {
            return Err(Misuse::WriteAfterShutdown.into());
        }
        if self.hs.is_some() {
            // A renegotiation lets us write until our ChangeCipherSpec;
            // from it until the peer's Finished, the new key is not yet
            // confirmed: `WantRead`.
            let renegotiating = self.handshake_done;
            match self.drive(rx, tx)? {
                Status::Done(()) if !renegotiating || self.may_write_renegotiating() => {}
                Status::Done(()) => return Ok(Status::WantRead),
                // 0.5-RTT data (RFC 8446 §4.4.4): a server that took the
                // client's early data writes under its application key
                // from its Finished on.
                Status::WantRead
                    if self.half_rtt() || (renegotiating && self.may_write_renegotiating()) => {}
                // The peer closed during a renegotiation, which ended
                // there: as after any TLS 1.2 close_notify, ours answers
                // it and nothing more is written.
                Status::Closed if renegotiating && self.closing() => {
                    return Err(Misuse::WriteAfterShutdown.into())
                }
                Status::Closed if renegotiating => {}
                other => return Ok(other),
            }
        }
        self.schedule_key_update();
        Ok(Status::Done(()))
    }

    /// Whether the handshake is done, or a renegotiation still lets us
    /// seal under the connection's key.
    fn may_write_renegotiating(&self) -> bool {
        self.hs
            .as_ref()
            .is_none_or(Handshake::renegotiation_may_write)
    }

    /// Whether a server may write before the client's Finished: only one
    /// that took early data (its embedder chose 0-RTT; the client is the
    /// resumed session's, not yet proven live by its Finished) and has
    /// sent its own Finished.
    fn half_rtt(&self) -> bool {
        self.role == Role::Server
            && self.early == EarlyPhase::Accepted
            && matches!(self.hs.as_ref(), Some(Handshake::Server(s)) if s.awaits_client_finished())
    }

    /// Queues a KeyUpdate when the sending key nears its usage limit (and
    /// automatic updates are on).
    fn schedule_key_update(&mut self) {
        // TLS 1.2 has none: its key ends the connection at the limit
        // (`check_send_key`).
        if self.config.auto_key_update
            && !self.records.send().is_some_and(RecordKey::is_tls12)
            && self.key_update.is_none()
            && self
                .records
                .send()
                .is_some_and(|k| k.records_left() <= AUTO_KEY_UPDATE_MARGIN)
        {
            self.key_update = Some(false);
        }
    }

    /// Lends room in `bufs.send` for one record of up to `len` plaintext
    /// bytes, to be written there by the caller and sealed in place by
    /// [`seal_reserved`](Self::seal_reserved): no copy of the plaintext at
    /// all. The slice may be shorter than `len` (one record at most).
    ///
    /// Between the two calls the caller may drain `bufs.send` (the room
    /// stays put) but should make no other call on this connection that
    /// writes: one that must place a record (a KeyUpdate reply or one
    /// asked for, which `read`, `write` and `handshake` all write, an
    /// alert) ends the reservation, and `seal_reserved` then fails with
    /// [`Misuse::NoReservation`], sealing nothing. `WantWrite` and
    /// `WantRead` as for [`write`](Self::write); `Misuse::WritePending`
    /// while a complete-mode write is unfinished.
    pub fn reserve<'b, R, S>(
        &mut self,
        bufs: &'b mut Buffers<R, S>,
        len: usize,
    ) -> Result<Status<&'b mut [u8]>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if self.write_sealed > 0 {
            return Err(Misuse::WritePending.into());
        }
        match self.ready_to_send(&mut rx, &mut tx)? {
            Status::Done(()) => {}
            Status::WantRead => return Ok(Status::WantRead),
            Status::WantWrite { needed } => return Ok(Status::WantWrite { needed }),
            Status::Closed => return Ok(Status::Closed),
            Status::SignaturePending => return Ok(Status::SignaturePending),
            Status::Established => return Ok(Status::Established),
        }
        match self.flush_key_update(&mut tx)? {
            Status::Done(()) => {}
            Status::WantWrite { needed } => return Ok(Status::WantWrite { needed }),
            _ => return Err(Error::Internal("KeyUpdate outcome")),
        }
        self.check_send_key(&mut tx)?;
        let (take, total) = self.next_record(tx.capacity(), len);
        let Some(room) = tx.into_reserved(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        // `take` is one record's content, at most 2^14.
        self.reserved = u16::try_from(take).unwrap_or(u16::MAX);
        let at = self.content_offset();
        Ok(Status::Done(
            room.get_mut(at..at.saturating_add(take)).unwrap_or(&mut []),
        ))
    }

    /// Seals the first `n` bytes of the room [`reserve`](Self::reserve)
    /// lent, in place, as one record; returns `n`. Fails with
    /// [`Misuse::NoReservation`] (nothing sealed) if there is no
    /// reservation, it ended, or `n` is more than it lent.
    pub fn seal_reserved<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        n: usize,
    ) -> Result<usize, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (_, mut tx) = bufs.views();
        self.check(&mut tx)?;
        let lent = usize::from(core::mem::take(&mut self.reserved));
        if self.closing() {
            let _ = tx.take_reserved(0);
            return Err(Misuse::WriteAfterShutdown.into());
        }
        if n > lent {
            let _ = tx.take_reserved(0);
            return Err(Misuse::NoReservation.into());
        }
        // The record for `n` bytes is never larger than the one reserved.
        let (take, total) = self.next_record(tx.capacity(), n);
        let Some(record) = tx.take_reserved(total) else {
            return Err(Misuse::NoReservation.into());
        };
        let sealed = match self.records.send_mut() {
            Some(key) => key.seal(ContentType::APPLICATION_DATA, take, record),
            None => Err(Error::Internal("no sending key")),
        };
        if let Err(e) = sealed {
            return Err(self.fail(&mut tx, e));
        }
        tx.commit(total);
        Ok(take)
    }

    /// Reads decrypted application data into `dst` (`SSL_read`).
    ///
    /// Drives the handshake first, like [`write`](Self::write). Then opens
    /// records in place in `bufs.recv` and copies their plaintext into
    /// `dst`, across as many records as are whole and fit. Post-handshake
    /// messages met on the way (NewSessionTicket, KeyUpdate) are handled.
    ///
    /// - `Done(n)`: `n > 0` bytes delivered (`Done(0)` only for an empty
    ///   `dst`);
    /// - `WantRead`: no plaintext and no whole record: add received bytes;
    /// - `WantWrite`: the handshake or a KeyUpdate reply needs room;
    /// - `Closed`: the peer sent close_notify and everything before it has
    ///   been read;
    /// - `Err(Truncated)`: `bufs.recv` is at end of stream without a
    ///   close_notify.
    ///
    /// If a bad record follows plaintext already delivered in this call, the
    /// call returns that plaintext and the next call the error (whose alert
    /// is already queued).
    pub fn read<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        dst: &mut [u8],
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        if let Err(e) = self.check(&mut tx) {
            // Plaintext opened before the error (a renegotiation reads
            // behind data the caller has not read) is still delivered;
            // the error comes once it is.
            if self.plain_left == 0 || !self.handshake_done || dst.is_empty() {
                return Err(e);
            }
            return Ok(Status::Done(self.copy_plain(&mut rx, dst)));
        }
        if dst.is_empty() && self.hs.is_none() {
            // Nothing to read into; what is queued still goes out.
            return self.flush_key_update(&mut tx).map(|s| s.map(|()| 0));
        }
        let mut done = 0;
        loop {
            let out = dst.get_mut(done..).unwrap_or(&mut []);
            if out.is_empty() && done > 0 {
                break;
            }
            match self.next_plaintext(&mut rx, &mut tx, done > 0) {
                Ok(Status::Done(())) => {}
                Ok(_) | Err(_) if done > 0 => break,
                Ok(other) => return Ok(other.map(|()| 0)),
                Err(e) => return Err(e),
            }
            if out.is_empty() {
                break;
            }
            let n = self.copy_plain(&mut rx, out);
            // At most `dst.len()`: `n <= out.len()`.
            done = done.saturating_add(n);
        }
        Ok(Status::Done(done))
    }

    /// Opens the next record in place and lends its plaintext, with no
    /// copy. Call [`consume`](Self::consume) with the bytes used; until
    /// then the same plaintext is lent again. Outcomes as for
    /// [`read`](Self::read), with the slice in place of a count.
    pub fn read_in_place<'b, R, S>(
        &mut self,
        bufs: &'b mut Buffers<R, S>,
    ) -> Result<Status<&'b mut [u8]>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        let lend_anyway = self.plain_left > 0 && self.handshake_done;
        match self.check(&mut tx) {
            Ok(()) => {}
            // As in `read`: plaintext opened before the error is lent.
            Err(_) if lend_anyway => {
                let at = self.plain_offset();
                let n = self.plain_len();
                return Ok(Status::Done(
                    rx.into_unread_mut()
                        .get_mut(at..at.saturating_add(n))
                        .unwrap_or(&mut []),
                ));
            }
            Err(e) => return Err(e),
        }
        Ok(match self.next_plaintext(&mut rx, &mut tx, false)? {
            Status::Done(()) => {
                let at = self.plain_offset();
                let n = self.plain_len();
                Status::Done(
                    rx.into_unread_mut()
                        .get_mut(at..at.saturating_add(n))
                        .unwrap_or(&mut []),
                )
            }
            Status::WantRead => Status::WantRead,
            Status::WantWrite { needed } => Status::WantWrite { needed },
            Status::Closed => Status::Closed,
            Status::SignaturePending => Status::SignaturePending,
            Status::Established => Status::Established,
        })
    }

    /// Marks `n` bytes of the plaintext lent by
    /// [`read_in_place`](Self::read_in_place) as used (clamped to what is
    /// pending).
    pub fn consume<R, S>(&mut self, bufs: &mut Buffers<R, S>, n: usize)
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        // Nothing is lent during the handshake (early data is
        // `read_early`'s), but during a renegotiation.
        if self.hs.is_some() && !self.handshake_done {
            return;
        }
        let n = n.min(self.plain_len());
        self.consume_plain(&mut bufs.recv.view(), n);
    }

    /// Sends our close_notify (`SSL_shutdown`): nothing more will be
    /// written. Reading goes on until the peer's close_notify, which turns
    /// `Done(Sent)` into `Done(Complete)`. A complete-mode write still in
    /// progress is abandoned; [`write_progress`](Self::write_progress) says
    /// how much of it was sealed before this call. During the handshake the
    /// close_notify goes out unprotected if no key exists yet; if the peer
    /// still waits for a flight of ours (a client before its Finished, a
    /// server before its first flight), the handshake cannot finish and
    /// every later call returns [`Error::Abandoned`]. A server whose flight
    /// is out still reads the client's Finished and data, and sends no
    /// tickets.
    pub fn shutdown<R, S>(&mut self, bufs: &mut Buffers<R, S>) -> Result<Status<Shutdown>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (_, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if self.alert_pending == Some(AlertDescription::CLOSE_NOTIFY) {
            // Our TLS 1.2 answer to the peer's close_notify, still
            // waiting for room (`check` just tried).
            let needed = self.record_overhead().saturating_add(2);
            return Ok(Status::WantWrite { needed });
        }
        if !self.sent_close {
            match self.seal_alert(&mut tx, AlertDescription::CLOSE_NOTIFY)? {
                Status::Done(()) => {
                    self.sent_close = true;
                    // Nothing follows our close_notify: certificate
                    // requests not yet written are dropped (those written
                    // may still be answered).
                    if let Some(PostAuth::Server(auth)) = self.hs.post_auth() {
                        auth.drop_queued();
                    }
                    // Nor an answer of ours: a signer working on one is
                    // told.
                    self.forget_auth_signature();
                }
                other => return Ok(other.map(|()| Shutdown::Sent)),
            }
            // A handshake that still needs a flight of ours cannot finish
            // now that nothing may follow the close_notify: it ends here,
            // rather than wait for a peer that waits for us.
            if self.handshake_done && self.hs.is_some() {
                // A renegotiation cannot finish past our close_notify, and
                // the peer's records of it could not be read: it is
                // abandoned (a signer working for it is told).
                self.drop_handshake();
                self.error = Some(Error::Abandoned);
            } else if self.hs.as_ref().is_some_and(Handshake::owes_flight) {
                self.drop_handshake();
                self.error = Some(Error::Abandoned);
            }
        }
        Ok(Status::Done(if self.recv_close {
            Shutdown::Complete
        } else {
            Shutdown::Sent
        }))
    }

    #[doc(hidden)]
    /// Test hook: the next (send, receive) sequence numbers.
    pub fn sequence_numbers(&self) -> (u64, u64) {
        (
            self.records.send().map_or(0, RecordKey::sequence),
            self.records.recv().map_or(0, RecordKey::sequence),
        )
    }

    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    /// Test hook: start the sequence numbers near their limits.
    pub fn set_sequence_numbers(&mut self, send: u64, recv: u64) {
        if let Some(k) = self.records.send_mut() {
            k.set_sequence(send);
        }
        if let Some(k) = self.records.recv_mut() {
            k.set_sequence(recv);
        }
    }

    /// Sticky errors: re-emit nothing new, except an alert that found no
    /// room earlier.
    fn check(&mut self, tx: &mut SendView<'_>) -> Result<(), Error> {
        let min = if self.records.send().is_some_and(RecordKey::is_tls12) {
            crate::record::TLS12_MIN_SEND_CAPACITY
        } else {
            MIN_SEND_CAPACITY
        };
        if tx.capacity() < min {
            return Err(Misuse::SendBufferTooSmall { needed: min }.into());
        }
        // A queued alert goes out with the first call that has room for
        // it, on a live connection as on a failed one.
        if self.alert_pending.is_some() {
            self.flush_alert(tx);
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Records a fatal error and queues its alert (none after our
    /// close_notify: nothing may follow it); returns it for `?`.
    fn fail(&mut self, tx: &mut SendView<'_>, e: Error) -> Error {
        if e.is_fatal() && self.error.is_none() {
            self.error = Some(e);
            self.alert_pending = e.alert().filter(|_| !self.sent_close);
            self.drop_handshake();
            self.flush_alert(tx);
        }
        e
    }

    /// Tells a signer working on our answer to a post-handshake
    /// certificate request that it will not be asked again.
    pub(super) fn forget_auth_signature(&mut self) {
        if matches!(&self.hs, Slot::After(PostAuth::Client(a)) if a.awaits_signature()) {
            let _ = self.pending_signature(|signer, request| signer.cancel(request));
            if let Some(PostAuth::Client(a)) = self.hs.post_auth() {
                a.forget_signature();
            }
        }
    }

    /// Ends the handshake, telling a pending signer it will not be asked
    /// again.
    fn drop_handshake(&mut self) {
        let _ = self.pending_signature(|signer, request| signer.cancel(request));
        // A handshake that never completed leaves no early secret behind
        // (assigned, so that each is wiped where it lay).
        if self.hs.is_some() && !self.handshake_done {
            if matches!(
                self.resumption,
                AfterHandshake::Early(..) | AfterHandshake::EarlyAccepted(..)
            ) {
                self.resumption = AfterHandshake::None;
            }
            self.exporter = None;
        }
        self.hs = Slot::Idle;
    }

    /// The signer our handshake waits for and its request, for `f`;
    /// `None` unless a signature is pending.
    fn pending_signature<R>(
        &self,
        f: impl FnOnce(&dyn crate::sign::Signer, &crate::sign::SignRequest<'_>) -> R,
    ) -> Option<R> {
        // Our answer to a post-handshake certificate request.
        if let (Slot::After(PostAuth::Client(a)), Some(config)) =
            (&self.hs, self.peer_config.client())
        {
            return a.pending_signature(config, f);
        }
        match (self.hs.as_ref()?, &self.peer_config) {
            (Handshake::Client(s), PeerConfig::Client(_)) => s.pending_signature(
                input::client_inputs(
                    &self.peer_config,
                    &self.server_name,
                    &self.resume,
                    EarlyPhase::None,
                )?,
                &self.tls12_transcript,
                f,
            ),
            (Handshake::Server(s), PeerConfig::Server(config)) => s.pending_signature(config, f),
            _ => None,
        }
    }

    /// While a signature is pending ([`Status::SignaturePending`]), asks
    /// the signer to wake `waker` once it has the signature
    /// ([`Signer::wake_when_ready`](crate::sign::Signer::wake_when_ready)).
    /// `true` if it will: an async caller may then wait for the wake
    /// instead of asking again at once. `false` without a pending
    /// signature or with a signer that cannot wake anyone.
    pub fn register_signature_waker(&self, waker: &core::task::Waker) -> bool {
        self.pending_signature(|signer, request| signer.wake_when_ready(request, waker))
            .unwrap_or(false)
    }

    /// Ends the connection on an error met inside a handshake step. The
    /// step consumed its state, so even a [`Misuse`] cannot leave the
    /// connection usable: it becomes [`Error::Aborted`], fatal and
    /// sticky, with `internal_error` on the wire.
    fn abort(&mut self, tx: &mut SendView<'_>, e: Error) -> Error {
        let e = match e {
            Error::Misuse(m) => Error::Aborted(m),
            other => other,
        };
        if self.error.is_none() {
            self.error = Some(e);
            self.alert_pending = e.alert().filter(|_| !self.sent_close);
            self.drop_handshake();
            self.flush_alert(tx);
        }
        self.error.unwrap_or(e)
    }

    fn flush_alert(&mut self, tx: &mut SendView<'_>) {
        if self.sent_close {
            // RFC 8446 §6.1: nothing follows our close_notify.
            self.alert_pending = None;
        }
        if let Some(alert) = self.alert_pending {
            // Our close_notify counts as sent once it is in the view, not
            // before: a queued one waits for room (a TLS 1.2 reply to the
            // peer's), and `closing` keeps data from going out first.
            match self.seal_alert(tx, alert) {
                Ok(Status::Done(())) | Err(_) => {
                    self.alert_pending = None;
                    if alert == AlertDescription::CLOSE_NOTIFY {
                        self.sent_close = true;
                    }
                }
                Ok(_) => {}
            }
        }
    }

    /// Whether our close_notify is sent or queued: nothing more of the
    /// caller's is written.
    fn closing(&self) -> bool {
        self.sent_close || self.alert_pending == Some(AlertDescription::CLOSE_NOTIFY)
    }

    /// Sends a KeyUpdate asked for by the caller or the peer, then switches
    /// to the next sending key.
    fn flush_key_update(&mut self, tx: &mut SendView<'_>) -> Result<Status<()>, Error> {
        // A server's certificate requests first, in the order made.
        match self.flush_auth_requests(tx)? {
            Status::Done(()) => {}
            other => return Ok(other),
        }
        // Queued during 0.5-RTT data, it waits for the handshake's end,
        // when any call sends it (`wants_write` says so).
        let (Some(request_peer), true) = (self.key_update, self.handshake_done) else {
            return Ok(Status::Done(()));
        };
        if self.sent_close || self.records.send().is_some_and(RecordKey::is_tls12) {
            // Nothing follows our close_notify, and TLS 1.2 has no
            // KeyUpdate: the update is moot.
            self.key_update = None;
            return Ok(Status::Done(()));
        }
        let total = RECORD_OVERHEAD + HANDSHAKE_HEADER_LEN + 1;
        let Some(record) = tx.room(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        let Some(key) = self.records.send_mut() else {
            return Ok(Status::Done(()));
        };
        if key.records_left() <= 1 {
            return Err(self.fail(tx, Error::KeyExhausted));
        }
        let message = [HandshakeType::KEY_UPDATE.0, 0, 0, 1, u8::from(request_peer)];
        crate::codec::copy_prefix(record.get_mut(HEADER_LEN..).unwrap_or(&mut []), &message, 5);
        if let Err(e) = key.seal(ContentType::HANDSHAKE, 5, record) {
            return Err(self.fail(tx, e));
        }
        tx.commit(total);
        let next = match key.next() {
            Ok(next) => next,
            Err(e) => return Err(self.fail(tx, e)),
        };
        if let Err(e) = self.records.set_send(next) {
            return Err(self.fail(tx, e));
        }
        self.key_update = None;
        Ok(Status::Done(()))
    }

    /// Whether the connection speaks TLS 1.2 (once the ServerHello has
    /// settled it).
    pub(crate) fn is_tls12(&self) -> bool {
        self.negotiated
            .as_ref()
            .is_some_and(|n| n.version == ProtocolVersion::TLS1_2)
            || self.records.recv().is_some_and(RecordKey::is_tls12)
    }

    /// Whether a client that has not seen the version yet offered TLS
    /// 1.2 (no record key, nothing negotiated, no HelloRetryRequest).
    pub(crate) fn may_speak_tls12(&self) -> bool {
        self.negotiated.is_none()
            && self.records.recv().is_none()
            && !self.records.retried()
            && self
                .peer_config
                .client()
                .is_some_and(|c| c.suites.iter().any(|s| s.is_tls12()))
    }

    /// Largest content per sent record now.
    fn send_fragment(&self) -> usize {
        usize::from(self.send_fragment)
    }

    /// Bytes a sealed record adds around its content: the sending key's
    /// (22 for TLS 1.3, 29 or 21 for TLS 1.2).
    fn record_overhead(&self) -> usize {
        self.records
            .send()
            .map_or(RECORD_OVERHEAD, RecordKey::overhead)
    }

    /// Where a sealed record's content starts (after the header, and the
    /// explicit nonce of TLS 1.2 AES-GCM).
    fn content_offset(&self) -> usize {
        self.records
            .send()
            .map_or(HEADER_LEN, RecordKey::content_offset)
    }

    /// The next record for `available` bytes: how many it takes, and its
    /// size on the wire with padding. Records shrink to fit a small
    /// outgoing view, so draining it always makes room (`size <= capacity`).
    /// TLS 1.2 records carry no padding.
    fn next_record(&self, capacity: usize, available: usize) -> (usize, usize) {
        let overhead = self.record_overhead();
        // The peer's record_size_limit binds from its first flight on: a
        // server's 0.5-RTT data too, before `established` folds it into
        // `send_fragment` (so the lookup is made only while handshaking).
        let fragment = match self.hs.as_ref().and_then(|_| self.peer_fragment_limit()) {
            Some(limit) => self.send_fragment().min(limit),
            None => self.send_fragment(),
        };
        let max_content = fragment.min(capacity.saturating_sub(overhead));
        let take = available.min(max_content);
        let tls12 = self.records.send().is_some_and(RecordKey::is_tls12);
        // Everything below is at most `overhead + max_content`, and
        // `max_content <= send_fragment <= MAX_PLAINTEXT`: nothing saturates.
        let padding = match self.config.padding {
            _ if tls12 => 0,
            Padding::None => 0,
            Padding::ToMultiple(m) if m > 1 => {
                let inner = take.saturating_add(1);
                let padded = inner
                    .checked_next_multiple_of(usize::from(m))
                    .unwrap_or(usize::MAX)
                    .min(max_content.saturating_add(1));
                padded.saturating_sub(inner)
            }
            Padding::ToMultiple(_) => 0,
            Padding::Max => max_content.saturating_sub(take),
        };
        (take, overhead.saturating_add(take).saturating_add(padding))
    }

    /// Refuses to seal with the key's last sequence number, kept for the
    /// alert that closes the connection when the key runs out.
    fn check_send_key(&mut self, tx: &mut SendView<'_>) -> Result<(), Error> {
        match self.records.send().map(RecordKey::records_left) {
            None => Err(self.fail(tx, Error::Internal("no sending key"))),
            Some(left) if left <= 1 => Err(self.fail(tx, Error::KeyExhausted)),
            Some(_) => Ok(()),
        }
    }

    /// Seals one application-data record of up to `available` bytes, which
    /// `fill` copies into its place.
    fn seal_data(
        &mut self,
        tx: &mut SendView<'_>,
        available: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<Status<usize>, Error> {
        self.check_send_key(tx)?;
        let (take, total) = self.next_record(tx.capacity(), available);
        let at = self.content_offset();
        let Some(record) = tx.room(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        fill(
            record
                .get_mut(at..at.saturating_add(take))
                .unwrap_or(&mut []),
        );
        let sealed = match self.records.send_mut() {
            Some(key) => key.seal(ContentType::APPLICATION_DATA, take, record),
            None => Err(Error::Internal("no sending key")),
        };
        if let Err(e) = sealed {
            return Err(self.fail(tx, e));
        }
        tx.commit(total);
        Ok(Status::Done(take))
    }

    /// Seals an alert, or writes it in the clear before keys exist.
    fn seal_alert(
        &mut self,
        tx: &mut SendView<'_>,
        alert: AlertDescription,
    ) -> Result<Status<()>, Error> {
        let level = match alert {
            AlertDescription::CLOSE_NOTIFY
            | AlertDescription::USER_CANCELED
            | AlertDescription::NO_RENEGOTIATION => AlertLevel::WARNING,
            _ => AlertLevel::FATAL,
        };
        self.seal_short(tx, ContentType::ALERT, &[level.0, alert.0])
    }

    /// One record of a few bytes of `content` (an alert, a HelloRequest),
    /// sealed, or in the clear before keys exist; `WantWrite` until the
    /// outgoing view has room for it.
    pub(super) fn seal_short(
        &mut self,
        tx: &mut SendView<'_>,
        ty: ContentType,
        content: &[u8],
    ) -> Result<Status<()>, Error> {
        let len = content.len();
        let total = if self.records.send().is_some() {
            self.record_overhead().saturating_add(len)
        } else {
            HEADER_LEN.saturating_add(len)
        };
        let at = self.content_offset();
        let Some(record) = tx.room(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        crate::codec::copy_prefix(record.get_mut(at..).unwrap_or(&mut []), content, len);
        match self.records.send_mut() {
            Some(key) => key.seal(ty, len, record)?,
            None => {
                let header = Header {
                    content_type: ty,
                    version: ProtocolVersion::TLS1_2,
                    len,
                };
                crate::codec::copy_prefix(record, &header.encode(), HEADER_LEN);
            }
        }
        tx.commit(total);
        Ok(Status::Done(()))
    }
}

/// RFC 5705's exporter for TLS 1.2: `PRF(master_secret, label,
/// client_random || server_random [|| context_length || context])`,
/// where an absent context and an empty one differ. The labels of the
/// key schedule itself are refused: their output would be the
/// connection's own keys or Finished values.
fn export_tls12(
    master: &Secret,
    suite: &Suite,
    randoms: &[u8; 64],
    out: &mut [u8],
    label: &[u8],
    context: Option<&[u8]>,
) -> Result<(), Error> {
    const RESERVED: [&[u8]; 5] = [
        b"client finished",
        b"server finished",
        b"master secret",
        b"extended master secret",
        b"key expansion",
    ];
    if RESERVED.contains(&label) {
        return Err(Misuse::BadConfig("exporter label reserved by TLS 1.2's key schedule").into());
    }
    let context_len = match context {
        Some(c) => Some(
            u16::try_from(c.len())
                .map_err(|_| Misuse::BadConfig("exporter context over 65,535 bytes"))?
                .to_be_bytes(),
        ),
        None => None,
    };
    let len = context_len.as_ref().map_or(&[][..], |l| &l[..]);
    crate::key_schedule::tls12::prf(
        suite.prf_hash(),
        master.as_bytes(),
        label,
        &[randoms, len, context.unwrap_or(&[])],
        out,
    );
    Ok(())
}

/// A fingerprint of the first `n` bytes a write's `copy` yields, for the
/// retry check: FNV-1a over `n`, the first and the last 32 bytes, and 16
/// bytes spread evenly between. It reads at most 80 bytes whatever `n` is,
/// so a write pays nothing per byte for it; it catches a retry from
/// another buffer (the misuse), not bytes chosen to collide.
fn fingerprint(copy: &impl Fn(usize, &mut [u8]), n: usize) -> u32 {
    const EDGE: usize = 32;
    const SPREAD: usize = 16;
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    };
    eat(&n.to_le_bytes());
    let mut buf = [0u8; EDGE];
    let edge = n.min(EDGE);
    for from in [0, n.saturating_sub(edge)] {
        let part = buf.get_mut(..edge).unwrap_or(&mut []);
        part.fill(0);
        copy(from, part);
        eat(part);
    }
    let step = n / (SPREAD + 1);
    if step > 0 {
        for i in 1..=SPREAD {
            let mut one = [0u8];
            copy(step.saturating_mul(i), &mut one);
            eat(&one);
        }
    }
    h
}
