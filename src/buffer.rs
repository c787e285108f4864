//! The caller-owned buffers: the network half of a BIO pair.
//!
//! The caller owns both byte arrays, and the engine owns neither. Each view
//! wraps storage `B` (an array, a `&mut [u8]`, a `Vec<u8>`...) with two
//! cursors, and the invariant `0 <= start <= end <= capacity` always holds.
//!
//! ```text
//! RecvBuf:  [ consumed | unread: records, in place | spare ]
//!           0        start                         end     capacity
//!             engine advances start ->     caller fills spare_mut(), commit(n) ->
//!
//! SendBuf:  [ drained  | pending: sealed records   | room  ]
//!           0        start                         end     capacity
//!             caller sends pending(), consume(n) -> engine seals into room ->
//! ```
//!
//! - Received ciphertext is decrypted where it lies. While the plaintext of
//!   an opened record is being read, `start` points at that plaintext, so a
//!   compaction that moves `[start, end)` to the front moves it along.
//! - Records are sealed straight into the outgoing room; nothing is staged
//!   elsewhere. A record is placed whole or not at all.
//! - When both cursors meet they return to 0 for free. Bytes move to the
//!   front only when a view would otherwise run out of contiguous room: the
//!   unsent tail of the outgoing view when the caller drained part of it,
//!   or the incomplete record at the front of the received view. That
//!   `copy_within` is the only time the engine moves ciphertext.

use crate::record::{Header, HEADER_LEN};

/// The two cursors of a view, and whether room after `end` is lent out
/// (a reservation for sealing in place, outgoing view only).
///
/// Invariant: `start <= end <=` the storage's length; the arithmetic on
/// the cursors saturates under it.
#[derive(Clone, Copy, Debug, Default)]
struct Cursors {
    start: usize,
    end: usize,
    hold: bool,
}

impl Cursors {
    fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Moves `[start, end)` of `buf` to the front.
    fn compact(&mut self, buf: &mut [u8]) {
        if self.start == 0 {
            return;
        }
        buf.copy_within(self.start..self.end, 0);
        self.end = self.end.saturating_sub(self.start);
        self.start = 0;
    }

    fn advance(&mut self, n: usize) {
        // At most `end`.
        self.start = self.start.saturating_add(n.min(self.len()));
        // Meeting cursors go back to 0, unless room after `end` is lent
        // out: it must stay where it is.
        if self.start == self.end && !self.hold {
            self.start = 0;
            self.end = 0;
        }
    }
}

/// What `RecvBuf::read_from` (feature `std`) did.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// This many bytes (more than 0) arrived.
    Data(usize),
    /// The transport is at end of stream.
    Eof,
    /// The view had no spare room; the transport was not read.
    Full,
}

impl Received {
    /// The bytes that arrived (0 for `Eof` and `Full`).
    pub fn len(self) -> usize {
        match self {
            Self::Data(n) => n,
            _ => 0,
        }
    }

    /// Whether no bytes arrived.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Shows sizes only: the bytes may be plaintext opened in place.
impl<B: AsRef<[u8]>> core::fmt::Debug for RecvBuf<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecvBuf")
            .field("capacity", &self.buf.as_ref().len())
            .field("len", &self.cur.len())
            .field("eof", &self.eof)
            .finish()
    }
}

/// Shows sizes only: the bytes may be plaintext written in place.
impl<B: AsRef<[u8]>> core::fmt::Debug for SendBuf<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SendBuf")
            .field("capacity", &self.buf.as_ref().len())
            .field("len", &self.cur.len())
            .finish()
    }
}

/// Received ciphertext: the caller appends what the transport delivered,
/// the engine consumes whole records from the front.
pub struct RecvBuf<B> {
    buf: B,
    cur: Cursors,
    eof: bool,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> RecvBuf<B> {
    /// Wraps `storage`, empty. To hold any record a peer may send it needs
    /// [`MAX_RECORD_LEN`](crate::record::MAX_RECORD_LEN) bytes, or the
    /// smaller size the configuration's receive limit allows.
    pub fn new(storage: B) -> Self {
        Self {
            buf: storage,
            cur: Cursors::default(),
            eof: false,
        }
    }

    /// Capacity of the storage.
    pub fn capacity(&self) -> usize {
        self.buf.as_ref().len()
    }

    /// Bytes received and not yet consumed by the engine.
    pub fn len(&self) -> usize {
        self.cur.len()
    }

    /// Whether no unconsumed bytes are held.
    pub fn is_empty(&self) -> bool {
        self.cur.len() == 0
    }

    /// The bytes received and not yet consumed, for looking at them
    /// without consuming (see
    /// [`peek_client_hello`](crate::handshake::peek::peek_client_hello)).
    pub fn received(&self) -> &[u8] {
        self.buf
            .as_ref()
            .get(self.cur.start..self.cur.end)
            .unwrap_or(&[])
    }

    /// Room to receive into, e.g. straight from `recv(2)`; follow with
    /// [`commit`](Self::commit). Moves an incomplete record to the front
    /// first when it would not otherwise fit.
    pub fn spare_mut(&mut self) -> &mut [u8] {
        let buf = self.buf.as_mut();
        let pending = buf.get(self.cur.start..self.cur.end).unwrap_or(&[]);
        // Only compared: a saturated end is still past the storage's.
        let front_record_end = match Header::parse(pending) {
            Some(h) => self
                .cur
                .start
                .saturating_add(HEADER_LEN)
                .saturating_add(h.len),
            None => self.cur.start.saturating_add(HEADER_LEN),
        };
        if self.cur.start > 0 && (self.cur.end == buf.len() || front_record_end > buf.len()) {
            self.cur.compact(buf);
        }
        buf.get_mut(self.cur.end..).unwrap_or(&mut [])
    }

    /// Marks `n` bytes written into [`spare_mut`](Self::spare_mut) as
    /// received. `n` is clamped to the spare room; returns the count taken.
    pub fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.capacity().saturating_sub(self.cur.end));
        // At most the capacity.
        self.cur.end = self.cur.end.saturating_add(n);
        n
    }

    /// Copies as much of `src` as fits; returns the count copied. The
    /// convenience for data that is already in memory.
    pub fn fill(&mut self, src: &[u8]) -> usize {
        let spare = self.spare_mut();
        let n = spare.len().min(src.len());
        crate::codec::copy_prefix(spare, src, n);
        self.commit(n)
    }

    /// Tells the engine the transport reached end of stream: no more bytes
    /// will be committed. An incomplete record, or none, without the peer's
    /// close_notify then reads as [`Error::Truncated`](crate::Error::Truncated).
    pub fn set_eof(&mut self) {
        self.eof = true;
    }

    /// Whether [`set_eof`](Self::set_eof) was called.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// One `read` from `transport` straight into the spare room
    /// ([`spare_mut`](Self::spare_mut), then [`commit`](Self::commit)).
    ///
    /// - `Data(n)`: `n > 0` bytes arrived;
    /// - `Eof`: the transport is at end of stream (a read of 0 bytes into
    ///   spare room, now or before): [`set_eof`](Self::set_eof) is called;
    /// - `Full`: no spare room, so no read: the engine must consume first
    ///   (call `read` or `handshake`), after which the transport may be
    ///   read again. An edge-triggered loop must remember that the socket
    ///   is still readable.
    ///
    /// # Errors
    ///
    /// The transport's, `WouldBlock` and `Interrupted` included; nothing
    /// is committed then.
    #[cfg(feature = "std")]
    pub fn read_from(&mut self, transport: &mut impl std::io::Read) -> std::io::Result<Received> {
        if self.eof {
            return Ok(Received::Eof);
        }
        let spare = self.spare_mut();
        if spare.is_empty() {
            return Ok(Received::Full);
        }
        let n = transport.read(spare)?;
        if n == 0 {
            self.set_eof();
            return Ok(Received::Eof);
        }
        Ok(Received::Data(self.commit(n)))
    }

    /// Gives the storage back.
    pub fn into_inner(self) -> B {
        self.buf
    }

    /// Moves what is received and not yet consumed (and end of stream) to
    /// `storage`, at its front, and gives back the old storage: to grow a
    /// view, or to shrink one after the handshake (which may need room for
    /// a large ClientHello) to the size records need. The engine keeps no
    /// position in the storage, only counts from the front of the
    /// unconsumed bytes, so it carries on with the new view.
    ///
    /// # Errors
    ///
    /// This view and `storage` back, untouched, when the unconsumed bytes
    /// do not fit `storage`.
    #[allow(clippy::type_complexity)]
    pub fn move_to<C: AsRef<[u8]> + AsMut<[u8]>>(
        self,
        mut storage: C,
    ) -> Result<(RecvBuf<C>, B), (Self, C)> {
        let held = self.received();
        let Some(front) = storage.as_mut().get_mut(..held.len()) else {
            return Err((self, storage));
        };
        front.copy_from_slice(held);
        let len = held.len();
        let eof = self.eof;
        let moved = RecvBuf {
            buf: storage,
            cur: Cursors {
                start: 0,
                end: len,
                hold: false,
            },
            eof,
        };
        Ok((moved, self.buf))
    }

    pub(crate) fn view(&mut self) -> RecvView<'_> {
        RecvView {
            buf: self.buf.as_mut(),
            cur: &mut self.cur,
            eof: self.eof,
        }
    }
}

/// Outgoing ciphertext: the engine appends whole records, the caller drains
/// them from the front to the transport.
pub struct SendBuf<B> {
    buf: B,
    cur: Cursors,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> SendBuf<B> {
    /// Wraps `storage`, empty. With at least
    /// [`MAX_RECORD_LEN`](crate::record::MAX_RECORD_LEN) bytes
    /// every record can be full size; smaller storage gets smaller records,
    /// down to [`MIN_SEND_CAPACITY`](crate::record::MIN_SEND_CAPACITY).
    pub fn new(storage: B) -> Self {
        Self {
            buf: storage,
            cur: Cursors::default(),
        }
    }

    /// Capacity of the storage.
    pub fn capacity(&self) -> usize {
        self.buf.as_ref().len()
    }

    /// Sealed bytes waiting to be sent.
    pub fn pending(&self) -> &[u8] {
        self.buf
            .as_ref()
            .get(self.cur.start..self.cur.end)
            .unwrap_or(&[])
    }

    /// Number of bytes waiting to be sent.
    pub fn len(&self) -> usize {
        self.cur.len()
    }

    /// Whether nothing waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.cur.len() == 0
    }

    /// Marks the first `n` pending bytes as sent (clamped to what is
    /// pending).
    pub fn consume(&mut self, n: usize) {
        self.cur.advance(n);
    }

    /// One `write` of the pending bytes to `transport`, consuming what it
    /// took: the count sent (0 when nothing was pending).
    ///
    /// # Errors
    ///
    /// The transport's, `WouldBlock` and `Interrupted` included, and
    /// `WriteZero` when it took none of a non-empty write; nothing is
    /// consumed then.
    #[cfg(feature = "std")]
    pub fn write_to(&mut self, transport: &mut impl std::io::Write) -> std::io::Result<usize> {
        if self.is_empty() {
            return Ok(0);
        }
        let n = transport.write(self.pending())?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.consume(n);
        Ok(n)
    }

    /// Gives the storage back. Pending bytes are lost with it.
    pub fn into_inner(self) -> B {
        self.buf
    }

    pub(crate) fn view(&mut self) -> SendView<'_> {
        SendView {
            buf: self.buf.as_mut(),
            cur: &mut self.cur,
        }
    }
}

/// Both views of one connection: the memory BIO pair, as the caller holds
/// it. Every engine call that may move bytes takes this.
pub struct Buffers<R, S> {
    /// Received ciphertext, filled by the caller.
    pub recv: RecvBuf<R>,
    /// Outgoing ciphertext, drained by the caller.
    pub send: SendBuf<S>,
}

impl<R: AsRef<[u8]> + AsMut<[u8]>, S: AsRef<[u8]> + AsMut<[u8]>> Buffers<R, S> {
    /// Wraps received-ciphertext storage and outgoing-ciphertext storage.
    pub fn new(recv: R, send: S) -> Self {
        Self {
            recv: RecvBuf::new(recv),
            send: SendBuf::new(send),
        }
    }

    pub(crate) fn views(&mut self) -> (RecvView<'_>, SendView<'_>) {
        (self.recv.view(), self.send.view())
    }
}

/// The engine's non-generic handle on a [`RecvBuf`].
pub(crate) struct RecvView<'a> {
    buf: &'a mut [u8],
    cur: &'a mut Cursors,
    pub(crate) eof: bool,
}

impl<'a> RecvView<'a> {
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The unconsumed bytes.
    pub(crate) fn unread(&self) -> &[u8] {
        self.buf.get(self.cur.start..self.cur.end).unwrap_or(&[])
    }

    /// The unconsumed bytes, mutable, for opening in place.
    pub(crate) fn unread_mut(&mut self) -> &mut [u8] {
        self.buf
            .get_mut(self.cur.start..self.cur.end)
            .unwrap_or(&mut [])
    }

    /// The unconsumed bytes, for as long as the view was borrowed.
    pub(crate) fn into_unread_mut(self) -> &'a mut [u8] {
        self.buf
            .get_mut(self.cur.start..self.cur.end)
            .unwrap_or(&mut [])
    }

    pub(crate) fn advance(&mut self, n: usize) {
        self.cur.advance(n);
    }

    /// Removes `len` bytes at `at` (relative to the front), moving the
    /// bytes after them down.
    pub(crate) fn remove(&mut self, at: usize, len: usize) {
        let Some(from) = self.cur.start.checked_add(at) else {
            return;
        };
        let to_end = self.cur.end;
        let Some(from_end) = from.checked_add(len).filter(|&e| e <= to_end) else {
            return;
        };
        self.buf.copy_within(from_end..to_end, from);
        // `len <= from_end <= end`.
        self.cur.end = to_end.saturating_sub(len);
    }

    /// Makes room for a record of `total` bytes at the front when it would
    /// run past the end of the storage.
    pub(crate) fn make_room_for(&mut self, total: usize) {
        // Only compared: a saturated sum is still past the end.
        if self.cur.start.saturating_add(total) > self.buf.len() {
            self.cur.compact(self.buf);
        }
    }
}

/// The engine's non-generic handle on a [`SendBuf`].
pub(crate) struct SendView<'a> {
    buf: &'a mut [u8],
    cur: &'a mut Cursors,
}

impl<'a> SendView<'a> {
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether no bytes are pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.cur.len() == 0
    }

    /// `n` contiguous bytes of room after the pending bytes, moving the
    /// pending bytes to the front if that makes them fit. `None` if even
    /// that does not.
    pub(crate) fn room(&mut self, n: usize) -> Option<&mut [u8]> {
        // Placing a record ends any reservation: its room is taken.
        self.cur.hold = false;
        if self.buf.len().saturating_sub(self.cur.end) < n {
            if self.buf.len().saturating_sub(self.cur.len()) < n {
                return None;
            }
            self.cur.compact(self.buf);
        }
        self.buf.get_mut(self.cur.end..)?.get_mut(..n)
    }

    /// All the contiguous room after the pending bytes, if it is at least
    /// `n` bytes (moving the pending bytes to the front if that helps).
    pub(crate) fn room_at_least(&mut self, n: usize) -> Option<&mut [u8]> {
        let _ = self.room(n)?;
        self.buf.get_mut(self.cur.end..)
    }

    /// Like [`room`](Self::room), and lends the room out, for as long as
    /// the view was borrowed: until the next record is placed, draining
    /// does not move `end`.
    pub(crate) fn into_reserved(self, n: usize) -> Option<&'a mut [u8]> {
        let Self { buf, cur } = self;
        let mut view = SendView { buf, cur };
        let _ = view.room(n)?;
        view.cur.hold = true;
        let end = view.cur.end;
        view.buf.get_mut(end..)?.get_mut(..n)
    }

    /// The reserved room, `n` bytes at `end`, if the reservation still
    /// holds; ends it.
    pub(crate) fn take_reserved(&mut self, n: usize) -> Option<&mut [u8]> {
        if !core::mem::take(&mut self.cur.hold) {
            return None;
        }
        self.buf.get_mut(self.cur.end..)?.get_mut(..n)
    }

    /// Marks `n` bytes of the room as pending.
    pub(crate) fn commit(&mut self, n: usize) {
        self.cur.end = self.cur.end.saturating_add(n).min(self.buf.len());
    }
}
