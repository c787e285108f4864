//! A blocking adapter (feature `std`): a [`Connection`] over any
//! `Read + Write` socket, used like OpenSSL's `SslStream` or rustls'
//! `StreamOwned`. This is the blocking-BIO case of the `SSL_write`
//! contract: every `WantRead` becomes a blocking `read(2)` into the
//! received view, every `WantWrite` a blocking drain of the outgoing view.
//!
//! Who owns which bytes: the [`Stream`] owns the socket, the engine and both
//! views (boxed, allocated once in [`Stream::new`]); nothing else is
//! allocated afterwards. Invariants between calls:
//!
//! - `bufs.recv` holds received ciphertext the engine has not consumed
//!   (and, while a record's plaintext is being read, that plaintext);
//! - `bufs.send` holds sealed records not yet accepted by the socket. It is
//!   empty after every successful [`Write::flush`], [`Stream::handshake`]
//!   and [`Stream::shutdown`] (and after [`Write::write`] unless the
//!   socket would not take it all), and before every
//!   blocking socket read (so a peer waiting for our flight is never
//!   deadlocked against us waiting for its).
//!
//! Errors: the engine's [`Error`] reaches the caller inside an
//! [`io::Error`]: [`Error::Truncated`] (end of stream without the peer's
//! close_notify) as [`io::ErrorKind::UnexpectedEof`], everything else as
//! [`io::ErrorKind::Other`]; [`tls_error`] gets the [`Error`] back. Before a
//! fatal error is returned, the alert it queued is sent, best effort.
//!
//! A socket in non-blocking mode works too: its `WouldBlock` is returned as
//! is, nothing is lost, and the call is repeated with the same arguments
//! (the engine remembers how much of a write it sealed). A write that has
//! sealed its bytes returns `Ok(n)` even when the socket would block on
//! them; they stay in `bufs.send` until the next call or `flush`.

use std::boxed::Box;
use std::io::{self, Read, Write};
use std::vec;

use crate::conn::{Connection, Shutdown, Status};
use crate::error::Error;
use crate::handshake::DEFAULT_MAX_HANDSHAKE_MESSAGE;
use crate::record::MAX_RECORD_LEN;
use crate::Buffers;

/// Default capacity of the received view: the largest handshake message
/// accepted by default, reassembled in place, plus one whole record
/// (16,384 + 16,406 bytes). After the handshake one record would do.
pub const DEFAULT_RECV_CAPACITY: usize = DEFAULT_MAX_HANDSHAKE_MESSAGE + MAX_RECORD_LEN;

/// Default capacity of the outgoing view: one full-size record (16,406
/// bytes), which also holds a server's first flight with a certificate
/// chain of up to about 14 KiB.
pub const DEFAULT_SEND_CAPACITY: usize = MAX_RECORD_LEN;

/// The two boxed views a [`Stream`] owns.
pub type BoxedBuffers = Buffers<Box<[u8]>, Box<[u8]>>;

/// A TLS connection over a blocking socket: [`Read`] gives plaintext,
/// [`Write`] takes plaintext, and the handshake runs on the first call that
/// needs it (or on [`handshake`](Self::handshake)).
pub struct Stream<'a, T: Read + Write> {
    conn: Connection<'a>,
    socket: T,
    bufs: BoxedBuffers,
    /// A socket error met while sending records of a write that had
    /// already reported its bytes: returned by the next call.
    deferred: Option<io::Error>,
}

impl<T: Read + Write> core::fmt::Debug for Stream<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stream")
            .field("conn", &self.conn)
            .field("recv_len", &self.bufs.recv.len())
            .field("send_len", &self.bufs.send.len())
            .finish_non_exhaustive()
    }
}

/// The engine's error inside an `io::Error` returned by a [`Stream`], if
/// that is where it came from.
pub fn tls_error(e: &io::Error) -> Option<Error> {
    e.get_ref()?.downcast_ref::<Error>().copied()
}

/// An outcome the engine documents it never gives for the call.
const UNEXPECTED_CLOSED: Error = Error::Internal("Closed from a call that never returns it");

/// Errors after which the same call, repeated, may succeed.
fn retryable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::TimedOut
    )
}

fn io_error(e: Error) -> io::Error {
    match e {
        Error::Truncated => io::Error::new(io::ErrorKind::UnexpectedEof, e),
        other => io::Error::other(other),
    }
}

impl<'a, T: Read + Write> Stream<'a, T> {
    /// Wraps `conn` (fresh from [`Connection::client`] or
    /// [`Connection::server`], or established) and `socket`, with views of
    /// [`DEFAULT_RECV_CAPACITY`] and [`DEFAULT_SEND_CAPACITY`] bytes.
    /// Nothing is sent or received yet.
    pub fn new(conn: Connection<'a>, socket: T) -> Self {
        Self::with_capacity(conn, socket, DEFAULT_RECV_CAPACITY, DEFAULT_SEND_CAPACITY)
    }

    /// Like [`new`](Self::new) with views of the given capacities: `recv`
    /// must hold the largest handshake message plus one record (see
    /// docs/architecture.md, "Sizes"), `send` at least
    /// [`MIN_SEND_CAPACITY`](crate::record::MIN_SEND_CAPACITY) and our
    /// first flight.
    pub fn with_capacity(conn: Connection<'a>, socket: T, recv: usize, send: usize) -> Self {
        let bufs = Buffers::new(
            vec![0u8; recv].into_boxed_slice(),
            vec![0u8; send].into_boxed_slice(),
        );
        Self {
            conn,
            socket,
            bufs,
            deferred: None,
        }
    }

    /// Runs the handshake to completion (`SSL_do_handshake` /
    /// `SSL_connect` / `SSL_accept`), sending our last flight before it
    /// returns. At once `Ok(())` if it is already complete.
    pub fn handshake(&mut self) -> io::Result<()> {
        self.take_deferred()?;
        loop {
            match self.conn.handshake(&mut self.bufs) {
                Ok(Status::Done(()) | Status::Established) => return self.drain(),
                Ok(Status::WantRead) => self.receive()?,
                Ok(Status::WantWrite { .. }) => self.drain()?,
                Ok(Status::SignaturePending) => return Err(self.signature_pending()),
                // `handshake` reports a close_notify mid-handshake as an
                // error; this arm only keeps the match total.
                Ok(Status::Closed) => return Err(io_error(UNEXPECTED_CLOSED)),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Sends our close_notify (`SSL_shutdown`) and drains it to the socket:
    /// we write nothing more. `Shutdown::Complete` if the peer's
    /// close_notify has already been read; otherwise `Shutdown::Sent`, and
    /// reading goes on until [`Read::read`] returns `Ok(0)`. The socket is
    /// left open: drop it, or take it back with
    /// [`into_inner`](Self::into_inner).
    pub fn shutdown(&mut self) -> io::Result<Shutdown> {
        self.take_deferred()?;
        loop {
            match self.conn.shutdown(&mut self.bufs) {
                Ok(Status::Done(s)) => {
                    self.drain()?;
                    return Ok(s);
                }
                Ok(_) => self.drain()?,
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// The engine, for what the handshake negotiated, exporters and state.
    pub fn connection(&self) -> &Connection<'a> {
        &self.conn
    }

    /// The engine, mutable: for [`Connection::key_update`] and
    /// [`Connection::set_write_mode`]. Driving it with other buffers than
    /// this stream's breaks the connection.
    pub fn connection_mut(&mut self) -> &mut Connection<'a> {
        &mut self.conn
    }

    /// The socket.
    pub fn get_ref(&self) -> &T {
        &self.socket
    }

    /// The socket, mutable (for its options). Reading or writing it
    /// directly corrupts the TLS stream.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.socket
    }

    /// Gives the socket back. Received bytes not yet read and sealed bytes
    /// not yet sent are dropped: call [`flush`](Write::flush) (or
    /// [`shutdown`](Self::shutdown)) first.
    pub fn into_inner(self) -> T {
        self.socket
    }

    /// The socket error a write deferred, if any: every call returns it
    /// first, once.
    fn take_deferred(&mut self) -> io::Result<()> {
        match self.deferred.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Our signer has not answered: what the handshake wrote goes out,
    /// and the call returns `WouldBlock`, to be repeated once the signer
    /// has the signature (nothing of the caller's data was taken).
    /// [`Connection::awaits_signature`] tells it from a socket's
    /// `WouldBlock`: the peer waits for us, so do not wait for the socket.
    fn signature_pending(&mut self) -> io::Error {
        match self.drain() {
            Ok(()) => io::Error::new(io::ErrorKind::WouldBlock, "signature pending"),
            Err(e) => e,
        }
    }

    /// Sends every pending outgoing byte, blocking as the socket does.
    fn drain(&mut self) -> io::Result<()> {
        while !self.bufs.send.is_empty() {
            match self.bufs.send.write_to(&mut self.socket) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sends what is pending, then blocks for more received bytes; end of
    /// stream is told to the engine, which then answers `Closed` or
    /// `Truncated`.
    fn receive(&mut self) -> io::Result<()> {
        self.drain()?;
        if self.bufs.recv.spare_mut().is_empty() {
            // The engine asks for more only with room for it (else it
            // answers RecvBufferTooSmall); never spin on a full view.
            return Err(io::Error::other(Error::Internal("received view full")));
        }
        loop {
            match self.bufs.recv.read_from(&mut self.socket) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends the alert a fatal error queued (best effort: the error being
    /// reported matters more than a failure to tell the peer), and converts.
    fn fail(&mut self, e: Error) -> io::Error {
        if e.is_fatal() {
            let _ = self.drain();
        }
        io_error(e)
    }
}

impl<T: Read + Write> Read for Stream<'_, T> {
    /// Reads plaintext (`SSL_read`), running the handshake first if needed
    /// and blocking until at least one byte is available. `Ok(0)` once the
    /// peer's close_notify has been read (and for an empty `buf`); end of
    /// stream without it is `UnexpectedEof`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.take_deferred()?;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.conn.read(&mut self.bufs, buf) {
                Ok(Status::Done(n)) => return Ok(n),
                // The handshake just completed: now the data.
                Ok(Status::Established) => {}
                Ok(Status::WantRead) => self.receive()?,
                Ok(Status::WantWrite { .. }) => self.drain()?,
                Ok(Status::SignaturePending) => return Err(self.signature_pending()),
                Ok(Status::Closed) => return Ok(0),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }
}

impl<T: Read + Write> Write for Stream<'_, T> {
    /// Seals `buf` (`SSL_write`), running the handshake first if needed,
    /// and sends the records before returning. In the default complete
    /// write mode it returns `buf.len()`; in partial mode the length of the
    /// one record it sealed.
    ///
    /// Once bytes are sealed they are reported, even if the socket then
    /// fails to take the records: on `WouldBlock` (a non-blocking socket)
    /// the records stay pending and go out first on the next call or on
    /// [`flush`](Write::flush); any other socket error is returned by the
    /// next call. A write repeated after `Ok(n)` never seals the same bytes
    /// twice. On a non-blocking socket, call `flush` until it succeeds
    /// before waiting for the peer: records may still be pending.
    ///
    /// A TLS 1.2 renegotiation the peer starts is performed inside this
    /// call, reading as it needs (never surfacing `WantRead`); if the
    /// received view is full of data not yet read, the call fails with
    /// [`Misuse::PlaintextUnread`](crate::Misuse::PlaintextUnread) in an
    /// `io::Error` (not fatal, nothing taken): read, then write again.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.take_deferred()?;
        loop {
            match self.conn.write(&mut self.bufs, buf) {
                Ok(Status::Done(n)) => {
                    // Sealed: the bytes are ours now, whatever the socket
                    // says. A socket that would block keeps the records
                    // pending; any other error is returned by the next
                    // call (never by this one, whose retry would seal the
                    // bytes again).
                    match self.drain() {
                        Err(e) if !retryable(&e) => self.deferred = Some(e),
                        _ => {}
                    }
                    return Ok(n);
                }
                // The handshake just completed: now the data.
                Ok(Status::Established) => {}
                Ok(Status::WantRead) => self.receive()?,
                Ok(Status::WantWrite { .. }) => self.drain()?,
                Ok(Status::SignaturePending) => return Err(self.signature_pending()),
                // `write` never answers `Closed`: after the peer's
                // close_notify we may still write.
                Ok(Status::Closed) => return Err(io_error(UNEXPECTED_CLOSED)),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Sends every sealed record still pending (a KeyUpdate, or what a
    /// `WouldBlock` left), then flushes the socket.
    fn flush(&mut self) -> io::Result<()> {
        self.take_deferred()?;
        // A KeyUpdate asked for with `key_update` goes out with the next
        // call that has room; an empty write is that call.
        // (Not while a complete write waits to be repeated: an empty write
        // would be a bad retry.)
        let idle = !self.conn.is_handshaking()
            && self.conn.error().is_none()
            && !self.conn.close_sent()
            && self.conn.write_progress() == 0;
        if idle {
            loop {
                match self.conn.write(&mut self.bufs, &[]) {
                    Ok(Status::WantWrite { .. }) => self.drain()?,
                    Ok(_) => break,
                    Err(e) => return Err(self.fail(e)),
                }
            }
        }
        self.drain()?;
        self.socket.flush()
    }
}
