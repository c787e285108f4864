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
//!   plaintext is read.

use crate::buffer::{Buffers, RecvView, SendView};
use crate::error::{Error, InvalidMessage, Misuse, PeerMisbehaved};
use crate::record::protect::RecordKey;
use crate::record::suite::Suite;
use crate::record::{
    deframe, max_record_len, Header, HEADER_LEN, MAX_PLAINTEXT, MIN_SEND_CAPACITY, RECORD_OVERHEAD,
};
use crate::wire::{AlertDescription, AlertLevel, ContentType};

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
}

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            write_mode: WriteMode::Complete,
            max_fragment_len: MAX_PLAINTEXT,
            recv_max_fragment_len: MAX_PLAINTEXT,
            padding: Padding::None,
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

/// One TLS 1.3 connection's record state: the engine behind `write`,
/// `read` and `shutdown`. It owns no buffer; see the module docs.
pub struct Connection {
    send: RecordKey,
    recv: RecordKey,
    config: RecordConfig,
    write_sealed: usize,
    plain_left: usize,
    plain_tail: usize,
    empty_records: u8,
    sent_close: bool,
    recv_close: bool,
    error: Option<Error>,
    alert_pending: Option<AlertDescription>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("send", &self.send)
            .field("recv", &self.recv)
            .field("write_sealed", &self.write_sealed)
            .field("plain_left", &self.plain_left)
            .field("sent_close", &self.sent_close)
            .field("recv_close", &self.recv_close)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Connection {
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
        config.check()?;
        let bad_secret = Misuse::BadConfig("traffic secret length differs from the suite's hash");
        let send = RecordKey::new(suite, send_secret).ok_or(bad_secret)?;
        let recv = RecordKey::new(suite, recv_secret).ok_or(bad_secret)?;
        Ok(Self {
            send,
            recv,
            config,
            write_sealed: 0,
            plain_left: 0,
            plain_tail: 0,
            empty_records: 0,
            sent_close: false,
            recv_close: false,
            error: None,
            alert_pending: None,
        })
    }

    /// The negotiated cipher suite.
    pub fn suite(&self) -> &'static Suite {
        self.send.suite()
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

    /// Seals `data` as application data into `bufs.send` (`SSL_write`).
    ///
    /// - `Done(n)`: in complete mode `n == data.len()`, every byte sealed;
    ///   in partial mode one record was sealed and `n` is its content.
    /// - `WantWrite { needed }`: drain `bufs.send`, then repeat the call with
    ///   the same bytes (the buffer may move). In complete mode the engine
    ///   remembers how many bytes it sealed ([`write_progress`](Self::write_progress)).
    /// - `Err(Misuse(BadWriteRetry))`: the retry passed fewer bytes than
    ///   were already sealed; nothing changed.
    ///
    /// An empty `data` writes nothing and returns `Done(0)`. Never returns
    /// `WantRead` or `Closed`: after the peer's close_notify we may still
    /// write (TLS 1.3 closes each direction on its own).
    pub fn write<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        data: &[u8],
    ) -> Result<Status<usize>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (_, mut tx) = bufs.views();
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
        loop {
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
    /// Opens records in place in `bufs.recv` and copies their plaintext into
    /// `dst`, across as many records as are whole and fit.
    ///
    /// - `Done(n)`: `n > 0` bytes delivered (`Done(0)` only for an empty
    ///   `dst`);
    /// - `WantRead`: no plaintext and no whole record: add received bytes;
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
        let mut done = 0;
        while let Some(out) = dst.get_mut(done..).filter(|d| !d.is_empty()) {
            match self.next_plaintext(&mut rx, &mut tx) {
                Ok(Status::Done(())) => {}
                Ok(_) | Err(_) if done > 0 => break,
                Ok(other) => return Ok(other.map(|()| 0)),
                Err(e) => return Err(e),
            }
            let n = out.len().min(self.plain_left);
            out[..n].copy_from_slice(&rx.unread()[..n]);
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
    /// how much of it was sealed before this call.
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
    /// Test hook: start the sequence numbers near their limits.
    pub fn set_sequence_numbers(&mut self, send: u64, recv: u64) {
        self.send.set_sequence(send);
        self.recv.set_sequence(recv);
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

    /// Seals one application-data record from the front of `content`.
    fn seal_data(&mut self, tx: &mut SendView<'_>, content: &[u8]) -> Result<Status<usize>, Error> {
        // Keep the last sequence number for the alert that closes the
        // connection when the key runs out.
        if self.send.records_left() <= 1 {
            return Err(self.fail(tx, Error::KeyExhausted));
        }
        // Records shrink to fit a small outgoing view, so draining it always
        // makes room: `needed <= capacity`.
        let max_content = self
            .config
            .max_fragment_len
            .min(tx.capacity() - RECORD_OVERHEAD);
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
        record[HEADER_LEN..HEADER_LEN + take].copy_from_slice(&content[..take]);
        if let Err(e) = self.send.seal(ContentType::APPLICATION_DATA, take, record) {
            return Err(self.fail(tx, e));
        }
        tx.commit(total);
        Ok(Status::Done(take))
    }

    fn seal_alert(
        &mut self,
        tx: &mut SendView<'_>,
        alert: AlertDescription,
    ) -> Result<Status<()>, Error> {
        let level = match alert {
            AlertDescription::CLOSE_NOTIFY | AlertDescription::USER_CANCELED => AlertLevel::WARNING,
            _ => AlertLevel::FATAL,
        };
        let total = RECORD_OVERHEAD + 2;
        let Some(record) = tx.room(total) else {
            return Ok(Status::WantWrite { needed: total });
        };
        record[HEADER_LEN] = level.0;
        record[HEADER_LEN + 1] = alert.0;
        self.send.seal(ContentType::ALERT, 2, record)?;
        tx.commit(total);
        Ok(Status::Done(()))
    }

    /// Makes plaintext available at the front of the received view, opening
    /// records until one carries application data.
    fn next_plaintext(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        loop {
            if self.plain_left > 0 {
                return Ok(Status::Done(()));
            }
            if self.recv_close {
                // RFC 8446 §6.1: anything after close_notify is ignored.
                return Ok(Status::Closed);
            }
            let limit = self.config.recv_max_fragment_len;
            let (_, total) = match deframe(rx.unread(), limit) {
                Ok(Some(whole)) => whole,
                Ok(None) => return self.incomplete(rx, tx),
                Err(e) => return Err(self.fail(tx, e)),
            };
            let Some(record) = rx.unread_mut().get_mut(..total) else {
                return Err(self.fail(tx, Error::Internal("deframe length")));
            };
            let (ty, len) = match self.recv.open(record) {
                Ok(opened) => opened,
                Err(e) => return Err(self.fail(tx, e)),
            };
            let payload = [
                record[HEADER_LEN],
                record.get(HEADER_LEN + 1).copied().unwrap_or(0),
            ];
            match (ty, len) {
                (ContentType::APPLICATION_DATA, 0) => self.nothing_delivered(rx, tx, total)?,
                (ContentType::APPLICATION_DATA, _) => {
                    self.empty_records = 0;
                    rx.advance(HEADER_LEN);
                    self.plain_left = len;
                    self.plain_tail = total - HEADER_LEN - len;
                }
                (ContentType::ALERT, 2) => {
                    let alert = AlertDescription(payload[1]);
                    match alert {
                        AlertDescription::CLOSE_NOTIFY => {
                            rx.advance(total);
                            self.recv_close = true;
                        }
                        // RFC 8446 §6.1: user_canceled is not fatal; a
                        // close_notify is to follow it.
                        AlertDescription::USER_CANCELED => self.nothing_delivered(rx, tx, total)?,
                        // RFC 8446 §6: every other alert is fatal, whatever
                        // its level says. No alert is sent back.
                        _ => {
                            rx.advance(total);
                            return Err(self.fail(tx, Error::AlertReceived(alert)));
                        }
                    }
                }
                (ContentType::ALERT, _) => {
                    return Err(self.fail(tx, InvalidMessage::BadAlert.into()))
                }
                (ContentType::HANDSHAKE, 0) => {
                    return Err(self.fail(tx, PeerMisbehaved::EmptyRecord(ty).into()));
                }
                // Post-handshake messages (KeyUpdate, NewSessionTicket) are
                // processed once the handshake layer exists; a connection
                // built from bare secrets cannot act on them.
                (ContentType::HANDSHAKE, _) => {
                    return Err(self.fail(tx, PeerMisbehaved::UnexpectedHandshake.into()));
                }
                _ => return Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into())),
            }
        }
    }

    /// A record that carried nothing for the caller: count it against
    /// [`MAX_EMPTY_RECORDS`] and drop it.
    fn nothing_delivered(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        total: usize,
    ) -> Result<(), Error> {
        rx.advance(total);
        self.empty_records += 1;
        if self.empty_records > MAX_EMPTY_RECORDS {
            return Err(self.fail(tx, PeerMisbehaved::TooManyEmptyRecords.into()));
        }
        Ok(())
    }

    /// No whole record at the front of the received view.
    fn incomplete(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        if let Some(header) = Header::parse(rx.unread()) {
            let total = HEADER_LEN + header.len;
            if total > rx.capacity() {
                return Err(Misuse::RecvBufferTooSmall { needed: total }.into());
            }
            rx.make_room_for(total);
        }
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
