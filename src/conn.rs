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
//! - `Closed`: the peer sent close_notify (`read` only).
//!
//! Call order for an event loop: after the transport delivers bytes,
//! `commit` them and `read`; before the transport can take bytes, `write`
//! and `shutdown`; whenever `bufs.send` is not empty, drain it.
//!
//! Bookkeeping kept between calls, none of it a buffer:
//!
//! - `write_sealed`: bytes of a pending complete-mode write already sealed,
//!   so a retry continues where it stopped (`0 <= write_sealed <= len` of
//!   the write that is being retried);
//! - `plain_left` / `plain_tail`: when a record has been opened in place,
//!   `bufs.recv`'s front holds `plain_left` bytes of its plaintext, followed
//!   by `plain_tail` bytes (content type, padding, tag) to drop once the
//!   plaintext is read;
//! - `hs_len` / `hs_gap`: handshake messages are reassembled in place at the
//!   front of `bufs.recv`: `hs_len` bytes of handshake plaintext, then
//!   `hs_gap` dead bytes (the headers and tags of the records they came
//!   in), then unread records. Each record's handshake bytes are moved down
//!   to join the ones before, so a message split across records becomes
//!   contiguous where it lies. `plain_left > 0` and `hs_len > 0` never hold
//!   together.
//!
//! ```text
//! bufs.recv: [ hs_len: handshake plaintext | hs_gap: dead | unread records | spare ]
//!            start
//! ```

use rustls_pki_types::UnixTime;

use crate::buffer::{Buffers, RecvView, SendView};
use crate::codec::Reader;
use crate::error::{Error, InvalidMessage, Misuse, PeerMisbehaved};
use crate::handshake::client::{self, Keys};
use crate::handshake::messages::{
    announced_len, split_message, NewSessionTicket, HANDSHAKE_HEADER_LEN,
};
use crate::handshake::ticket::{NewTicket, ResumptionTicket, TicketSink};
use crate::handshake::{server, ClientConfig, Context, Negotiated, Out, Records, ServerConfig};
use crate::key_schedule::Secret;
use crate::record::protect::RecordKey;
use crate::record::suite::Suite;
use crate::record::{
    max_record_len, Header, HEADER_LEN, MAX_PLAINTEXT, MIN_SEND_CAPACITY, RECORD_OVERHEAD,
};
use crate::wire::{AlertDescription, AlertLevel, ContentType, HandshakeType, ProtocolVersion};

/// Consecutive records that deliver nothing (empty application data,
/// ignored warning alerts) accepted before the peer is cut off with
/// `unexpected_message`. OpenSSL uses the same bound (MAX_EMPTY_RECORDS).
pub const MAX_EMPTY_RECORDS: u8 = 32;

/// The smallest receive limit a peer may be asked for (RFC 8449 §4).
pub const MIN_RECV_FRAGMENT: usize = 64;

/// When `write` reports success (`SSL_MODE_ENABLE_PARTIAL_WRITE` or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// `Done(n)` only once all `n` bytes are sealed; until then the call
    /// answers `WantWrite` and remembers how far it got. OpenSSL's default.
    #[default]
    Complete,
    /// `Done(n)` as soon as one record is sealed, `n` being its content
    /// length. Like `SSL_MODE_ENABLE_PARTIAL_WRITE`.
    Partial,
}

/// How sent records are padded (RFC 8446 §5.4). Padding hides lengths at
/// the cost of bandwidth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    #[default]
    None,
    /// Pad each inner plaintext (content + type byte) up to a multiple of
    /// this many bytes, within the record size limit. 0 and 1 mean none.
    ToMultiple(u16),
    /// Pad every record to the largest size it may have.
    Max,
}

/// Settings of the record layer. `Default` gives full-size records, no
/// padding, complete writes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordConfig {
    /// When `write` reports success.
    pub write_mode: WriteMode,
    /// Largest content per sent record: 1 to 2^14 (default 2^14). A smaller
    /// outgoing view makes records smaller still.
    pub max_fragment_len: usize,
    /// Largest content per received record: 64 to 2^14 (default 2^14).
    /// Larger records are refused with `record_overflow`; the received view
    /// must hold [`max_record_len`] of it. The handshake advertises it as
    /// record_size_limit (RFC 8449).
    pub recv_max_fragment_len: usize,
    /// Padding of sent records.
    pub padding: Padding,
    /// Replace the sending key with a KeyUpdate before it comes within
    /// [`AUTO_KEY_UPDATE_MARGIN`] records of its usage limit (default on).
    /// Off, the connection closes with [`Error::KeyExhausted`] instead.
    pub auto_key_update: bool,
}

/// Records before a key's usage limit at which the engine sends a
/// KeyUpdate on its own: 2^16, far from AES-GCM's 2^24.5 and leaving a
/// margin for records already queued.
pub const AUTO_KEY_UPDATE_MARGIN: u64 = 1 << 16;

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            write_mode: WriteMode::Complete,
            max_fragment_len: MAX_PLAINTEXT,
            recv_max_fragment_len: MAX_PLAINTEXT,
            padding: Padding::None,
            auto_key_update: true,
        }
    }
}

impl RecordConfig {
    fn check(&self) -> Result<(), Error> {
        if !(1..=MAX_PLAINTEXT).contains(&self.max_fragment_len) {
            return Err(Misuse::BadConfig("max_fragment_len must be 1..=16384").into());
        }
        if !(MIN_RECV_FRAGMENT..=MAX_PLAINTEXT).contains(&self.recv_max_fragment_len) {
            return Err(Misuse::BadConfig("recv_max_fragment_len must be 64..=16384").into());
        }
        Ok(())
    }

    /// Capacity the received view needs to hold any record this
    /// configuration accepts.
    pub fn recv_buffer_len(&self) -> usize {
        max_record_len(self.recv_max_fragment_len)
    }
}

/// What a call did, or what it needs before it can go on.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// The call made progress; see the method for what `T` is.
    Done(T),
    /// No whole record is available: add received bytes, call again.
    WantRead,
    /// The outgoing view lacks room for the next record: drain it until
    /// `needed` bytes are free (never more than its capacity), call again.
    WantWrite {
        /// Free bytes the next record needs.
        needed: usize,
    },
    /// The peer sent close_notify: it will send nothing more.
    Closed,
}

/// How far [`Connection::shutdown`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Our close_notify is in the outgoing view; the peer's has not come.
    Sent,
    /// Both close_notify alerts have been exchanged.
    Complete,
}

/// Which side we are (a connection built from secrets counts as a client:
/// it accepts tickets, which it drops without a sink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Client,
    Server,
}

/// The handshake in progress, if any.
enum Handshake<'a> {
    Client(client::State<'a>),
    Server(server::State<'a>),
}

/// A TLS 1.3 connection: the engine behind `write`, `read` and `shutdown`.
/// It owns no buffer; see the module docs.
pub struct Connection<'a> {
    records: Records,
    role: Role,
    config: RecordConfig,
    /// Largest content per sent record: our setting, lowered by the peer's
    /// record_size_limit.
    send_fragment: usize,
    hs: Option<Handshake<'a>>,
    max_handshake_message: usize,
    negotiated: Option<Negotiated>,
    exporter: Option<Secret>,
    /// resumption_master_secret (client), for the tickets the server sends.
    resumption: Option<Secret>,
    /// Where a client puts those tickets.
    ticket_sink: Option<&'a dyn TicketSink>,
    /// Bytes of unreadable (0-RTT) records a server may still skip.
    skip_early_data: u32,
    write_sealed: usize,
    plain_left: usize,
    plain_tail: usize,
    hs_len: usize,
    hs_gap: usize,
    empty_records: u8,
    key_update: Option<bool>,
    sent_close: bool,
    recv_close: bool,
    error: Option<Error>,
    alert_pending: Option<AlertDescription>,
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
        hs: Option<Handshake<'a>>,
        max_handshake_message: usize,
    ) -> Result<Self, Error> {
        config.check()?;
        Ok(Self {
            records: Records::Empty,
            role: match hs {
                Some(Handshake::Server(_)) => Role::Server,
                _ => Role::Client,
            },
            send_fragment: config.max_fragment_len,
            config,
            hs,
            max_handshake_message,
            negotiated: None,
            exporter: None,
            resumption: None,
            ticket_sink: None,
            skip_early_data: 0,
            write_sealed: 0,
            plain_left: 0,
            plain_tail: 0,
            hs_len: 0,
            hs_gap: 0,
            empty_records: 0,
            key_update: None,
            sent_close: false,
            recv_close: false,
            error: None,
            alert_pending: None,
        })
    }

    /// A client connection to `server_name` (the name sent as SNI and
    /// checked against the certificate; `None` only with a verifier that
    /// checks no name). `now` is the time certificates are checked against:
    /// the engine has no clock. The first `write`, `read` or
    /// [`handshake`](Self::handshake) sends the ClientHello.
    pub fn client(
        config: &'a ClientConfig<'a>,
        server_name: Option<&'a str>,
        now: UnixTime,
    ) -> Result<Self, Error> {
        Self::client_with(config, server_name, now, None)
    }

    /// A client connection offering `ticket` for resumption (RFC 8446
    /// §2.2), falling back to a full handshake if the server declines or
    /// the ticket has expired at `now`.
    pub fn client_resuming(
        config: &'a ClientConfig<'a>,
        server_name: Option<&'a str>,
        now: UnixTime,
        ticket: &'a ResumptionTicket<'a>,
    ) -> Result<Self, Error> {
        Self::client_with(config, server_name, now, Some(ticket))
    }

    fn client_with(
        config: &'a ClientConfig<'a>,
        server_name: Option<&'a str>,
        now: UnixTime,
        resume: Option<&'a ResumptionTicket<'a>>,
    ) -> Result<Self, Error> {
        if let Some(name) = server_name {
            rustls_pki_types::ServerName::try_from(name).map_err(|_| {
                Misuse::BadConfig("server name is neither a DNS name nor an IP address")
            })?;
        }
        let ctx = Context {
            now,
            server_name,
            resume,
        };
        let mut conn = Self::with(
            config.record,
            Some(Handshake::Client(client::State::new(config, ctx))),
            config.max_handshake_message,
        )?;
        conn.ticket_sink = config.ticket_sink;
        Ok(conn)
    }

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
        let ctx = Context {
            now,
            server_name,
            resume: None,
        };
        let (state, pending) = client::State::after_hello(config, ctx, client_hello, kx)?;
        let mut conn = Self::with(
            config.record,
            Some(Handshake::Client(state)),
            config.max_handshake_message,
        )?;
        conn.records = Records::Pending(pending);
        Ok(conn)
    }

    /// A server connection. `now` is the time client certificates are
    /// checked against.
    pub fn server(config: &'a ServerConfig<'a>, now: UnixTime) -> Result<Self, Error> {
        let ctx = Context {
            now,
            server_name: None,
            resume: None,
        };
        Self::with(
            config.record,
            Some(Handshake::Server(server::State::new(config, ctx))),
            config.max_handshake_message,
        )
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

impl Connection<'_> {
    /// The negotiated cipher suite, once keys exist.
    pub fn suite(&self) -> Option<&'static Suite> {
        self.records.send().map(RecordKey::suite)
    }

    /// What the handshake settled on, once it is complete (`None` for a
    /// connection built from secrets).
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref().filter(|_| self.hs.is_none())
    }

    /// Keying material exported from the connection (RFC 8446 §7.5, the
    /// RFC 5705 interface): fills `out` with TLS-Exporter(`label`,
    /// `context`, `out.len()`). In TLS 1.3 an absent context and an empty
    /// one give the same output. Fails with [`Misuse::NotReady`] before
    /// the handshake completes (and on connections built from secrets),
    /// and with [`Misuse::BadConfig`] for a label over 249 bytes or more
    /// than 255 hash lengths of output.
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        let (Some(exporter), Some(suite), false) =
            (self.exporter.as_ref(), self.suite(), self.hs.is_some())
        else {
            return Err(Misuse::NotReady.into());
        };
        let derived = exporter.derive(suite, label, &crate::key_schedule::Hash::empty(suite));
        let context_hash = crate::key_schedule::Hash::of(suite, context.unwrap_or(&[]));
        crate::key_schedule::hkdf_expand_label(
            &derived.prk(suite.hkdf),
            b"exporter",
            context_hash.as_bytes(),
            out,
        )
        .map_err(|_| Misuse::BadConfig("exporter label or length out of range").into())
    }

    /// Whether the handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        self.hs.is_some()
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
    pub fn pending_plaintext(&self) -> usize {
        self.plain_left
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
    /// secrets); `WantRead` / `WantWrite` while it runs.
    pub fn handshake<R, S>(&mut self, bufs: &mut Buffers<R, S>) -> Result<Status<()>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        self.drive(&mut rx, &mut tx)
    }

    /// Seals `data` as application data into `bufs.send` (`SSL_write`).
    ///
    /// Drives the handshake first: until it completes the call answers
    /// `WantRead` (the peer's flight is needed) or `WantWrite` (our flight
    /// needs room), and nothing of `data` is taken.
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
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if data.len() < self.write_sealed {
            return Err(Misuse::BadWriteRetry {
                sealed: self.write_sealed,
                offered: data.len(),
            }
            .into());
        }
        if self.sent_close {
            return Err(Misuse::WriteAfterShutdown.into());
        }
        if self.hs.is_some() {
            match self.drive(&mut rx, &mut tx)? {
                Status::Done(()) => {}
                other => return Ok(other.map(|()| 0)),
            }
        }
        loop {
            // A KeyUpdate asked for (by the caller, the peer, or the usage
            // limit coming near) goes out before more data.
            if self.config.auto_key_update
                && self.key_update.is_none()
                && self
                    .records
                    .send()
                    .is_some_and(|k| k.records_left() <= AUTO_KEY_UPDATE_MARGIN)
            {
                self.key_update = Some(false);
            }
            match self.flush_key_update(&mut tx)? {
                Status::Done(()) => {}
                other => return Ok(other.map(|()| 0)),
            }
            let Some(rest) = data.get(self.write_sealed..).filter(|r| !r.is_empty()) else {
                self.write_sealed = 0;
                return Ok(Status::Done(data.len()));
            };
            match self.seal_data(&mut tx, rest)? {
                Status::Done(n) => {
                    self.write_sealed += n;
                    if self.config.write_mode == WriteMode::Partial {
                        return Ok(Status::Done(core::mem::take(&mut self.write_sealed)));
                    }
                }
                other => return Ok(other),
            }
        }
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
        self.check(&mut tx)?;
        if dst.is_empty() && self.hs.is_none() {
            return Ok(Status::Done(0));
        }
        let mut done = 0;
        loop {
            let out = dst.get_mut(done..).unwrap_or(&mut []);
            if out.is_empty() && done > 0 {
                break;
            }
            match self.next_plaintext(&mut rx, &mut tx) {
                Ok(Status::Done(())) => {}
                Ok(_) | Err(_) if done > 0 => break,
                Ok(other) => return Ok(other.map(|()| 0)),
                Err(e) => return Err(e),
            }
            if out.is_empty() {
                break;
            }
            let n = out.len().min(self.plain_left);
            crate::codec::copy_prefix(out, rx.unread(), n);
            self.consume_plain(&mut rx, n);
            done += n;
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
        self.check(&mut tx)?;
        Ok(match self.next_plaintext(&mut rx, &mut tx)? {
            Status::Done(()) => {
                let n = self.plain_left;
                Status::Done(rx.into_unread_mut().get_mut(..n).unwrap_or(&mut []))
            }
            Status::WantRead => Status::WantRead,
            Status::WantWrite { needed } => Status::WantWrite { needed },
            Status::Closed => Status::Closed,
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
        let n = n.min(self.plain_left);
        self.consume_plain(&mut bufs.recv.view(), n);
    }

    /// Sends our close_notify (`SSL_shutdown`): nothing more will be
    /// written. Reading goes on until the peer's close_notify, which turns
    /// `Done(Sent)` into `Done(Complete)`. A complete-mode write still in
    /// progress is abandoned; [`write_progress`](Self::write_progress) says
    /// how much of it was sealed before this call. During the handshake the
    /// close_notify goes out unprotected if no key exists yet.
    pub fn shutdown<R, S>(&mut self, bufs: &mut Buffers<R, S>) -> Result<Status<Shutdown>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (_, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if !self.sent_close {
            match self.seal_alert(&mut tx, AlertDescription::CLOSE_NOTIFY)? {
                Status::Done(()) => self.sent_close = true,
                other => return Ok(other.map(|()| Shutdown::Sent)),
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
        if tx.capacity() < MIN_SEND_CAPACITY {
            return Err(Misuse::SendBufferTooSmall {
                needed: MIN_SEND_CAPACITY,
            }
            .into());
        }
        match self.error {
            Some(e) => {
                self.flush_alert(tx);
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Records a fatal error and queues its alert; returns it for `?`.
    fn fail(&mut self, tx: &mut SendView<'_>, e: Error) -> Error {
        if e.is_fatal() && self.error.is_none() {
            self.error = Some(e);
            self.alert_pending = e.alert();
            self.hs = None;
            self.flush_alert(tx);
        }
        e
    }

    /// Ends the connection on an error met inside a handshake step. The
    /// step consumed its state, so even a [`Misuse`] cannot leave the
    /// connection usable: it becomes sticky, with `internal_error` on the
    /// wire when the error names no alert of its own.
    fn abort(&mut self, tx: &mut SendView<'_>, e: Error) -> Error {
        if self.error.is_none() {
            self.error = Some(e);
            self.alert_pending = Some(e.alert().unwrap_or(AlertDescription::INTERNAL_ERROR));
            self.hs = None;
            self.flush_alert(tx);
        }
        e
    }

    fn flush_alert(&mut self, tx: &mut SendView<'_>) {
        if let Some(alert) = self.alert_pending {
            match self.seal_alert(tx, alert) {
                Ok(Status::Done(())) | Err(_) => self.alert_pending = None,
                Ok(_) => {}
            }
            if alert == AlertDescription::CLOSE_NOTIFY {
                self.sent_close = true;
            }
        }
    }

    /// Sends a KeyUpdate asked for by the caller or the peer, then switches
    /// to the next sending key.
    fn flush_key_update(&mut self, tx: &mut SendView<'_>) -> Result<Status<()>, Error> {
        let Some(request_peer) = self.key_update else {
            return Ok(Status::Done(()));
        };
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
        let next = key.secret().next_traffic_secret(key.suite());
        let suite = key.suite();
        match RecordKey::new(suite, next.as_bytes()) {
            Some(k) => {
                let _ = self.records.set_send(k);
            }
            None => return Err(self.fail(tx, Error::Internal("KeyUpdate derivation"))),
        }
        self.key_update = None;
        Ok(Status::Done(()))
    }

    /// Seals one application-data record from the front of `content`.
    fn seal_data(&mut self, tx: &mut SendView<'_>, content: &[u8]) -> Result<Status<usize>, Error> {
        let Some(key) = self.records.send() else {
            return Err(self.fail(tx, Error::Internal("no sending key")));
        };
        // Keep the last sequence number for the alert that closes the
        // connection when the key runs out.
        if key.records_left() <= 1 {
            return Err(self.fail(tx, Error::KeyExhausted));
        }
        // Records shrink to fit a small outgoing view, so draining it always
        // makes room: `needed <= capacity`.
        let max_content = self.send_fragment.min(tx.capacity() - RECORD_OVERHEAD);
        let take = content.len().min(max_content);
        let padding = match self.config.padding {
            Padding::None => 0,
            Padding::ToMultiple(m) if m > 1 => {
                let inner = take + 1;
                let padded = inner.next_multiple_of(usize::from(m)).min(max_content + 1);
                padded - inner
            }
            Padding::ToMultiple(_) => 0,
            Padding::Max => max_content - take,
        };
        let total = RECORD_OVERHEAD + take + padding;
        let Some(record) = tx.room(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        crate::codec::copy_prefix(
            record.get_mut(HEADER_LEN..).unwrap_or(&mut []),
            content,
            take,
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
            AlertDescription::CLOSE_NOTIFY | AlertDescription::USER_CANCELED => AlertLevel::WARNING,
            _ => AlertLevel::FATAL,
        };
        let protected = self.records.send().is_some();
        let total = if protected {
            RECORD_OVERHEAD + 2
        } else {
            HEADER_LEN + 2
        };
        let Some(record) = tx.room(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        crate::codec::copy_prefix(
            record.get_mut(HEADER_LEN..).unwrap_or(&mut []),
            &[level.0, alert.0],
            2,
        );
        match self.records.send_mut() {
            Some(key) => key.seal(ContentType::ALERT, 2, record)?,
            None => {
                let header = Header {
                    content_type: ContentType::ALERT,
                    version: ProtocolVersion::TLS1_2,
                    len: 2,
                };
                crate::codec::copy_prefix(record, &header.encode(), HEADER_LEN);
            }
        }
        tx.commit(total);
        Ok(Status::Done(()))
    }

    /// Runs the handshake as far as the buffers allow.
    fn drive(&mut self, rx: &mut RecvView<'_>, tx: &mut SendView<'_>) -> Result<Status<()>, Error> {
        loop {
            let Some(hs) = self.hs.take() else {
                return Ok(Status::Done(()));
            };
            // The peer's record_size_limit binds every flight once known.
            let fragment = match self.negotiated.and_then(|n| n.peer_record_size_limit) {
                Some(limit) => self
                    .send_fragment
                    .min(usize::from(limit).saturating_sub(1).max(1)),
                None => self.send_fragment,
            };
            // The client speaks first.
            let hs = match hs {
                Handshake::Client(state) if state.has_output() => {
                    let need = state.room_needed(fragment);
                    let room = match self.room_for(tx, need) {
                        Ok(Some(room)) => room,
                        Ok(None) => {
                            self.hs = Some(Handshake::Client(state));
                            return Ok(Status::WantWrite { needed: need });
                        }
                        Err(e) => {
                            self.hs = Some(Handshake::Client(state));
                            return Err(e);
                        }
                    };
                    let mut out = Out {
                        room,
                        used: 0,
                        fragment,
                    };
                    let next = state.write_client_hello(&mut out, &mut self.records);
                    let used = out.used;
                    tx.commit(used);
                    match next {
                        Ok(next) => self.hs = Some(Handshake::Client(next)),
                        Err(e) => return Err(self.abort(tx, e)),
                    }
                    continue;
                }
                other => other,
            };
            // A whole message at the front of the region?
            let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
            if let Some(len) = announced_len(region) {
                if len > self.max_handshake_message {
                    let e = PeerMisbehaved::HandshakeTooLarge {
                        len,
                        max: self.max_handshake_message,
                    };
                    return Err(self.fail(tx, e.into()));
                }
            }
            if split_message(region).is_some() {
                let need = match &hs {
                    Handshake::Client(s) => s.room_needed(fragment),
                    Handshake::Server(s) => s.room_needed(fragment),
                };
                let room = match self.room_for(tx, need) {
                    Ok(Some(room)) => room,
                    Ok(None) => {
                        self.hs = Some(hs);
                        return Ok(Status::WantWrite { needed: need });
                    }
                    Err(e) => {
                        self.hs = Some(hs);
                        return Err(e);
                    }
                };
                let mut out = Out {
                    room,
                    used: 0,
                    fragment,
                };
                let recv_before = self.records.recv().map(|k| k.secret().clone());
                let mut keys = Keys {
                    records: &mut self.records,
                    negotiated: &mut self.negotiated,
                    exporter: &mut self.exporter,
                    resumption: &mut self.resumption,
                    skip_early_data: &mut self.skip_early_data,
                };
                let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
                let stepped = match hs {
                    Handshake::Client(s) => s
                        .handle(region, &mut keys, &mut out)
                        .map(|st| (st.next.map(Handshake::Client), st.consumed)),
                    Handshake::Server(s) => s
                        .handle(region, &mut keys, &mut out)
                        .map(|st| (st.next.map(Handshake::Server), st.consumed)),
                };
                let used = out.used;
                tx.commit(used);
                let (next, consumed) = match stepped {
                    Ok(x) => x,
                    Err(e) => return Err(self.abort(tx, e)),
                };
                let done = next.is_none();
                self.hs = next;
                if consumed > 0 {
                    self.consume_handshake(rx, consumed);
                    let rekeyed = match (&recv_before, self.records.recv()) {
                        (Some(a), Some(b)) => a.as_bytes() != b.secret().as_bytes(),
                        (None, None) => false,
                        _ => true,
                    };
                    // RFC 8446 §5.1: no message may straddle a key change.
                    if rekeyed && self.hs_len > 0 {
                        return Err(self.fail(tx, PeerMisbehaved::HandshakeFragmentation.into()));
                    }
                    if done {
                        self.established();
                    }
                    continue;
                }
            } else {
                self.hs = Some(hs);
            }
            if self.hs.is_none() {
                continue;
            }
            match self.read_record(rx, tx)? {
                Status::Done(_) => {}
                Status::WantRead => return Ok(Status::WantRead),
                Status::WantWrite { needed } => return Ok(Status::WantWrite { needed }),
                Status::Closed => {
                    return Err(self.fail(tx, Error::AlertReceived(AlertDescription::CLOSE_NOTIFY)))
                }
            }
        }
    }

    /// Applies what the handshake settled on.
    fn established(&mut self) {
        if let Some(limit) = self.negotiated.and_then(|n| n.peer_record_size_limit) {
            // TLS 1.3's record_size_limit counts the content type byte.
            let peer = usize::from(limit).saturating_sub(1).clamp(1, MAX_PLAINTEXT);
            self.send_fragment = self.send_fragment.min(peer);
        }
    }

    /// `need` bytes of contiguous outgoing room (all of it, to write a
    /// flight into), or `None` to ask for a drain.
    fn room_for<'t>(
        &mut self,
        tx: &'t mut SendView<'_>,
        need: usize,
    ) -> Result<Option<&'t mut [u8]>, Error> {
        if need > tx.capacity() {
            return Err(Misuse::SendBufferTooSmall { needed: need }.into());
        }
        Ok(tx.room_at_least(need))
    }

    fn consume_handshake(&mut self, rx: &mut RecvView<'_>, n: usize) {
        rx.advance(n);
        self.hs_len -= n;
        if self.hs_len == 0 {
            rx.advance(core::mem::take(&mut self.hs_gap));
        }
    }

    /// Makes plaintext available at the front of the received view,
    /// driving the handshake first and handling post-handshake messages.
    fn next_plaintext(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        loop {
            if self.hs.is_some() {
                match self.drive(rx, tx)? {
                    Status::Done(()) => {}
                    other => return Ok(other),
                }
            }
            // A reply to the peer's KeyUpdate goes before anything else; if
            // it finds no room it waits, and reading goes on.
            let _ = self.flush_key_update(tx)?;
            if self.plain_left > 0 {
                return Ok(Status::Done(()));
            }
            if self.recv_close {
                // RFC 8446 §6.1: anything after close_notify is ignored.
                return Ok(Status::Closed);
            }
            if self.hs_len > 0
                && split_message(rx.unread().get(..self.hs_len).unwrap_or(&[])).is_some()
            {
                self.post_handshake(rx, tx)?;
                continue;
            }
            match self.read_record(rx, tx)? {
                Status::Done(()) => {}
                other => return Ok(other),
            }
        }
    }

    /// Derives a ticket's PSK (RFC 8446 §4.6.1) and hands it on.
    fn new_ticket(&self, nst: &NewSessionTicket<'_>) {
        let (Some(sink), Some(res), Some(suite)) =
            (self.ticket_sink, self.resumption.as_ref(), self.suite())
        else {
            return;
        };
        let psk = res.expand(suite, b"resumption", nst.nonce);
        sink.store(&NewTicket {
            suite: suite.id,
            psk: psk.as_bytes(),
            ticket: nst.ticket,
            lifetime: nst
                .lifetime
                .min(crate::handshake::ticket::MAX_TICKET_LIFETIME),
            age_add: nst.age_add,
        });
    }

    /// Handles one post-handshake message at the front of the region.
    fn post_handshake(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<(), Error> {
        let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
        let Some((ty, len, total)) = split_message(region) else {
            return Ok(());
        };
        if len > self.max_handshake_message.max(MAX_PLAINTEXT) {
            let e = PeerMisbehaved::HandshakeTooLarge {
                len,
                max: self.max_handshake_message,
            };
            return Err(self.fail(tx, e.into()));
        }
        let body = region.get(HANDSHAKE_HEADER_LEN..total).unwrap_or(&[]);
        let result = match ty {
            // A client hands tickets to its sink; a server never gets one.
            HandshakeType::NEW_SESSION_TICKET if self.role == Role::Client => {
                NewSessionTicket::parse(body)
                    .map_err(client::map_extension_error)
                    .map(|nst| self.new_ticket(&nst))
            }
            HandshakeType::KEY_UPDATE => {
                let mut r = Reader::new(body);
                match (r.u8("key update"), r.finish("key update trailing")) {
                    (Ok(0), Ok(())) => Ok(false),
                    (Ok(1), Ok(())) => Ok(true),
                    (Ok(_), Ok(())) => {
                        Err(PeerMisbehaved::IllegalParameter("KeyUpdateRequest").into())
                    }
                    _ => Err(InvalidMessage::Handshake("key update").into()),
                }
                .map(|requested| {
                    if let Some(key) = self.records.recv() {
                        let next = key.secret().next_traffic_secret(key.suite());
                        if let Some(k) = RecordKey::new(key.suite(), next.as_bytes()) {
                            let _ = self.records.set_recv(k);
                        }
                    }
                    if requested && self.key_update.is_none() && !self.sent_close {
                        self.key_update = Some(false);
                    }
                })
            }
            other => Err(PeerMisbehaved::UnexpectedHandshake(other).into()),
        };
        if let Err(e) = result {
            return Err(self.fail(tx, e));
        }
        self.consume_handshake(rx, total);
        if ty == HandshakeType::KEY_UPDATE && self.hs_len > 0 {
            return Err(self.fail(tx, PeerMisbehaved::HandshakeFragmentation.into()));
        }
        self.count_empty(tx)
    }

    /// Reads the next record after the handshake region: its handshake
    /// bytes join the region, application data becomes `plain_left`,
    /// alerts and CCS are handled. `Done(())` when a record was consumed.
    fn read_record(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        let off = self.hs_len + self.hs_gap;
        let unread = rx.unread().get(off..).unwrap_or(&[]);
        let Some(header) = Header::parse(unread) else {
            return self.incomplete(rx, tx, None);
        };
        let handshaking = self.hs.is_some();
        let ccs = header.content_type == ContentType::CHANGE_CIPHER_SPEC;
        // While the handshake runs, a peer that fails before it has our
        // keys in place (OpenSSL does) sends its alert in the clear: read
        // it as the alert it is rather than as an unexpected record.
        let plain_alert = handshaking && header.content_type == ContentType::ALERT;
        let protected = self.records.recv().is_some() && !ccs && !plain_alert;
        let limit = self.config.recv_max_fragment_len;
        let checked = if protected {
            header.check_protected(limit)
        } else {
            check_plaintext(&header, handshaking)
        };
        if let Err(e) = checked {
            return Err(self.fail(tx, e));
        }
        let total = HEADER_LEN + header.len;
        if unread.len() < total {
            return self.incomplete(rx, tx, Some(total));
        }
        let Some(record) = rx.unread_mut().get_mut(off..off + total) else {
            return Err(self.fail(tx, Error::Internal("deframe length")));
        };
        let (ty, len) = if protected {
            let Some(key) = self.records.recv_mut() else {
                return Err(self.fail(tx, Error::Internal("no receiving key")));
            };
            match key.open(record) {
                Ok(opened) => {
                    // Early data ends where records open again.
                    self.skip_early_data = 0;
                    opened
                }
                // A server rejecting 0-RTT skips what it cannot read
                // (RFC 8446 §4.2.10), within a bound.
                Err(_)
                    if handshaking
                        && u32::try_from(total).is_ok_and(|n| n <= self.skip_early_data) =>
                {
                    self.skip_early_data -= u32::try_from(total).unwrap_or(0);
                    self.drop_record(rx, off, total);
                    return Ok(Status::Done(()));
                }
                Err(e) => return Err(self.fail(tx, e)),
            }
        } else {
            (header.content_type, header.len)
        };
        let first = record.get(HEADER_LEN).copied().unwrap_or(0);
        let alert = AlertDescription(record.get(HEADER_LEN + 1).copied().unwrap_or(0));
        if ty != ContentType::HANDSHAKE && ty != ContentType::ALERT && self.hs_len > 0 {
            // RFC 8446 §5.1: no other record between a message's fragments.
            return Err(self.fail(tx, PeerMisbehaved::HandshakeFragmentation.into()));
        }
        match (ty, len) {
            (ContentType::HANDSHAKE, 0) => {
                Err(self.fail(tx, PeerMisbehaved::EmptyRecord(ty).into()))
            }
            (ContentType::HANDSHAKE, _) => {
                // Move the fragment down to join the region.
                let from = off + HEADER_LEN;
                rx.unread_mut().copy_within(from..from + len, self.hs_len);
                self.hs_len += len;
                self.hs_gap += total - len;
                let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
                if let Some(announced) = announced_len(region) {
                    if announced > self.max_handshake_message {
                        let e = PeerMisbehaved::HandshakeTooLarge {
                            len: announced,
                            max: self.max_handshake_message,
                        };
                        return Err(self.fail(tx, e.into()));
                    }
                }
                Ok(Status::Done(()))
            }
            (ContentType::APPLICATION_DATA, _) if handshaking => {
                Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into()))
            }
            (ContentType::APPLICATION_DATA, 0) => {
                self.drop_record(rx, off, total);
                self.count_empty(tx)?;
                Ok(Status::Done(()))
            }
            (ContentType::APPLICATION_DATA, _) => {
                self.empty_records = 0;
                rx.advance(HEADER_LEN);
                self.plain_left = len;
                self.plain_tail = total - HEADER_LEN - len;
                Ok(Status::Done(()))
            }
            (ContentType::ALERT, 2) => {
                self.drop_record(rx, off, total);
                match alert {
                    AlertDescription::CLOSE_NOTIFY => {
                        self.recv_close = true;
                        Ok(Status::Closed)
                    }
                    // RFC 8446 §6.1: user_canceled is not fatal; a
                    // close_notify is to follow it.
                    AlertDescription::USER_CANCELED => {
                        self.count_empty(tx)?;
                        Ok(Status::Done(()))
                    }
                    // RFC 8446 §6: every other alert is fatal, whatever its
                    // level says. No alert is sent back.
                    _ => Err(self.fail(tx, Error::AlertReceived(alert))),
                }
            }
            (ContentType::ALERT, _) => Err(self.fail(tx, InvalidMessage::BadAlert.into())),
            (ContentType::CHANGE_CIPHER_SPEC, _) => {
                // RFC 8446 §5: a single byte 1, unprotected, only while the
                // handshake runs; dropped.
                if !handshaking || len != 1 || first != 1 {
                    let e: Error = if handshaking {
                        InvalidMessage::BadChangeCipherSpec.into()
                    } else {
                        PeerMisbehaved::UnexpectedContentType(ty).into()
                    };
                    return Err(self.fail(tx, e));
                }
                self.drop_record(rx, off, total);
                self.count_empty(tx)?;
                Ok(Status::Done(()))
            }
            _ => Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into())),
        }
    }

    /// Drops a record that sits after the region.
    fn drop_record(&mut self, rx: &mut RecvView<'_>, off: usize, total: usize) {
        if off == 0 {
            rx.advance(total);
        } else {
            self.hs_gap += total;
        }
    }

    /// A record that carried nothing for the caller: count it against
    /// [`MAX_EMPTY_RECORDS`].
    fn count_empty(&mut self, tx: &mut SendView<'_>) -> Result<(), Error> {
        self.empty_records = self.empty_records.saturating_add(1);
        if self.empty_records > MAX_EMPTY_RECORDS {
            return Err(self.fail(tx, PeerMisbehaved::TooManyEmptyRecords.into()));
        }
        Ok(())
    }

    /// No whole record after the region.
    fn incomplete(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        total: Option<usize>,
    ) -> Result<Status<()>, Error> {
        // Reclaim the dead bytes between the handshake region and the next
        // record before waiting: with them in place a full buffer could
        // wait forever for bytes it has no room for.
        if self.hs_gap > 0 {
            rx.remove(self.hs_len, self.hs_gap);
            self.hs_gap = 0;
        }
        let needed = self.hs_len + total.unwrap_or(HEADER_LEN);
        if needed > rx.capacity() {
            if self.hs_len > 0 {
                // A handshake message in pieces whose next piece does not
                // fit beside the ones before: this buffer cannot
                // reassemble it (its size is the caller's, the limit ours).
                let e = PeerMisbehaved::HandshakeTooLarge {
                    len: needed,
                    max: rx.capacity(),
                };
                return Err(self.fail(tx, e.into()));
            }
            return Err(Misuse::RecvBufferTooSmall { needed }.into());
        }
        rx.make_room_for(needed);
        if rx.eof {
            return Err(self.fail(tx, Error::Truncated));
        }
        Ok(Status::WantRead)
    }

    fn consume_plain(&mut self, rx: &mut RecvView<'_>, n: usize) {
        rx.advance(n);
        self.plain_left -= n;
        if self.plain_left == 0 {
            rx.advance(core::mem::take(&mut self.plain_tail));
        }
    }
}

/// Checks the header of an unprotected record: a handshake, alert or CCS
/// record, at most 2^14 bytes, with a 0x03xx version.
fn check_plaintext(header: &Header, handshaking: bool) -> Result<(), Error> {
    let ty = header.content_type;
    let allowed = ty == ContentType::HANDSHAKE
        || ty == ContentType::ALERT
        || (ty == ContentType::CHANGE_CIPHER_SPEC && handshaking);
    if !allowed {
        return Err(PeerMisbehaved::UnexpectedContentType(ty).into());
    }
    if header.len > MAX_PLAINTEXT {
        return Err(InvalidMessage::RecordTooLarge {
            len: header.len,
            max: MAX_PLAINTEXT,
        }
        .into());
    }
    // RFC 8446 §5.1: legacy_record_version is ignored, but anything not
    // 0x03xx is not TLS at all.
    if header.version.0 >> 8 != 3 {
        return Err(InvalidMessage::BadRecordVersion(header.version.0).into());
    }
    Ok(())
}

impl<T> Status<T> {
    /// Maps the `Done` value, keeping the other outcomes.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Status<U> {
        match self {
            Self::Done(t) => Status::Done(f(t)),
            Self::WantRead => Status::WantRead,
            Self::WantWrite { needed } => Status::WantWrite { needed },
            Self::Closed => Status::Closed,
        }
    }
}
