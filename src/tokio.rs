//! The engine over a tokio transport (feature `tokio`): [`TlsStream`]
//! implements `AsyncRead` and `AsyncWrite`, [`connect`] and [`accept`]
//! run the handshake, and [`LazyAcceptor`] reads the ClientHello first so
//! that the server's configuration can be chosen from it
//! ([`peek`](crate::handshake::peek)).
//!
//! The contract is [`Stream`](crate::Stream)'s: nothing duplicated or lost
//! when a call answers `Pending`. `AsyncWrite` lets a caller change its
//! buffer after `Pending`, so the stream writes in
//! [`WriteMode::Partial`]: a call that answers `Pending` has sealed
//! nothing of its buffer, and one that seals answers `Ready(Ok(n))` at
//! once (its records leave on the next call or on `poll_flush`).
//! `poll_shutdown` sends close_notify and drains it before shutting the
//! transport's write side.
//!
//! A [`Signer`](crate::sign::Signer) that answers `Pending` has no waker:
//! the stream wakes itself and is polled again (a cooperative yield), so
//! such a signer should answer soon.

use std::boxed::Box;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::vec;
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::conn::{Connection, Status, WriteMode};
use crate::error::{Error, Misuse, PeerMisbehaved};
use crate::handshake::peek::{peek_client_hello, ClientHelloView};
use crate::handshake::ServerConfig;
use crate::stream::{BoxedBuffers, DEFAULT_RECV_CAPACITY, DEFAULT_SEND_CAPACITY};
use crate::Buffers;

/// A TLS connection over an async transport `IO`.
pub struct TlsStream<'a, IO> {
    io: IO,
    conn: Connection<'a>,
    bufs: BoxedBuffers,
    /// A transport error met after a call had already taken or delivered
    /// plaintext: returned by the next call, not by that one (whose
    /// caller would repeat it and seal, or lose, the bytes again).
    deferred: Option<io::Error>,
}

impl<IO: core::fmt::Debug> core::fmt::Debug for TlsStream<'_, IO> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsStream")
            .field("io", &self.io)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

fn io_error(e: Error) -> io::Error {
    match e {
        Error::Truncated => io::Error::new(io::ErrorKind::UnexpectedEof, e),
        other => io::Error::other(other),
    }
}

fn boxed(n: usize) -> Box<[u8]> {
    vec![0u8; n].into_boxed_slice()
}

impl<'a, IO: AsyncRead + AsyncWrite + Unpin> TlsStream<'a, IO> {
    /// Wraps `conn` (fresh or established) and `io`, with views of
    /// [`DEFAULT_RECV_CAPACITY`] and [`DEFAULT_SEND_CAPACITY`] bytes.
    /// Nothing is sent or received yet: the handshake runs on the first
    /// read or write, or in [`handshake`](Self::handshake).
    pub fn new(conn: Connection<'a>, io: IO) -> Self {
        let bufs = Buffers::new(boxed(DEFAULT_RECV_CAPACITY), boxed(DEFAULT_SEND_CAPACITY));
        Self::with_buffers(conn, io, bufs)
    }

    /// The same, with views the caller sized (see docs/architecture.md,
    /// "Buffer sizes"); what they hold is kept.
    pub fn with_buffers(mut conn: Connection<'a>, io: IO, bufs: BoxedBuffers) -> Self {
        conn.set_write_mode(WriteMode::Partial);
        Self {
            io,
            conn,
            bufs,
            deferred: None,
        }
    }

    /// Runs the handshake to completion and sends our last flight.
    pub async fn handshake(&mut self) -> io::Result<()> {
        core::future::poll_fn(|cx| self.poll_handshake(cx)).await
    }

    /// The engine: what the handshake negotiated, exporters, state.
    pub fn connection(&self) -> &Connection<'a> {
        &self.conn
    }

    /// The engine, mutable (for a KeyUpdate). Driving it with other
    /// buffers than this stream's breaks the connection.
    pub fn connection_mut(&mut self) -> &mut Connection<'a> {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// The engine, the transport and the views, for another adapter.
    pub fn into_parts(self) -> (Connection<'a>, IO, BoxedBuffers) {
        (self.conn, self.io, self.bufs)
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self.conn.handshake(&mut self.bufs) {
                Ok(Status::Done(())) => return self.poll_drain(cx),
                Ok(status) => ready!(self.poll_wait(cx, status))?,
                Err(e) => return Poll::Ready(Err(self.fail(cx, e))),
            }
        }
    }

    /// Serves a `WantRead` / `WantWrite` / `SignaturePending`: `Ready` when
    /// the call may be repeated.
    fn poll_wait<T>(&mut self, cx: &mut Context<'_>, status: Status<T>) -> Poll<io::Result<()>> {
        match status {
            Status::WantRead => {
                // What we owe the peer goes first: it may be what it waits
                // for.
                if self.poll_drain(cx)?.is_pending() && self.bufs.recv.spare_mut().is_empty() {
                    return Poll::Pending;
                }
                self.poll_receive(cx)
            }
            Status::WantWrite { .. } => self.poll_drain(cx),
            Status::SignaturePending => {
                // Send what is written, then wait for the signer's wake;
                // a signer that cannot wake anyone is asked again on the
                // executor's next turn.
                let _ = self.poll_drain(cx)?;
                if !self.conn.register_signature_waker(cx.waker()) {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            // Done and Closed are the caller's; after Established the
            // call goes on to the data.
            _ => Poll::Ready(Ok(())),
        }
    }

    /// Reads once from the transport into the received view.
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let spare = self.bufs.recv.spare_mut();
        if spare.is_empty() {
            return Poll::Ready(Err(io::Error::other(Error::Internal("received view full"))));
        }
        let mut buf = ReadBuf::new(spare);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        if n == 0 {
            self.bufs.recv.set_eof();
        } else {
            self.bufs.recv.commit(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Sends what the outgoing view holds: `Ready` once it is empty.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.bufs.send.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, self.bufs.send.pending()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.bufs.send.consume(n);
        }
        Poll::Ready(Ok(()))
    }

    /// A fatal error's alert goes out if the transport takes it now.
    fn fail(&mut self, cx: &mut Context<'_>, e: Error) -> io::Error {
        if e.is_fatal() {
            let _ = self.poll_drain(cx);
        }
        io_error(e)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<'_, IO> {
    /// Plaintext, after the handshake. Ready with nothing added once the
    /// peer's close_notify is read; end of stream without it is
    /// `UnexpectedEof`.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            match this.conn.read(&mut this.bufs, buf.initialize_unfilled()) {
                Ok(Status::Done(n)) => {
                    buf.advance(n);
                    // A KeyUpdate reply may be waiting; it goes when it
                    // can. The plaintext is the caller's now: a transport
                    // error waits for the next call.
                    if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                        this.deferred = Some(e);
                    }
                    return Poll::Ready(Ok(()));
                }
                Ok(Status::Closed) => return Poll::Ready(Ok(())),
                Ok(status) => ready!(this.poll_wait(cx, status))?,
                Err(e) => return Poll::Ready(Err(this.fail(cx, e))),
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<'_, IO> {
    /// Seals at most one record of `data` and answers how much; `Pending`
    /// only before anything of `data` is sealed. The records leave as the
    /// transport takes them, on this call, the next, or `poll_flush`.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        loop {
            match this.conn.write(&mut this.bufs, data) {
                Ok(Status::Done(n)) => {
                    // Sealed: ours now. Send what the transport takes; an
                    // error waits for the next call (a retry of this one
                    // would seal the bytes again).
                    if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                        if n == 0 {
                            return Poll::Ready(Err(e));
                        }
                        this.deferred = Some(e);
                    }
                    return Poll::Ready(Ok(n));
                }
                Ok(status) => ready!(this.poll_wait(cx, status))?,
                Err(e) => return Poll::Ready(Err(this.fail(cx, e))),
            }
        }
    }

    /// Sends what is sealed, and a KeyUpdate asked for with
    /// `connection_mut().key_update(..)`.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        while this.conn.is_established() && !this.conn.close_sent() {
            // An empty write writes what the engine queued.
            match this.conn.write(&mut this.bufs, &[]) {
                Ok(Status::Done(_)) => break,
                Ok(Status::WantWrite { .. }) => ready!(this.poll_drain(cx))?,
                Ok(_) => break,
                Err(e) => return Poll::Ready(Err(this.fail(cx, e))),
            }
        }
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    /// Sends close_notify, drains it, then shuts the transport's write
    /// side. Reading may go on until the peer's close_notify.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.conn.close_sent() {
            loop {
                match this.conn.shutdown(&mut this.bufs) {
                    Ok(Status::Done(_)) => break,
                    Ok(status) => ready!(this.poll_wait(cx, status))?,
                    Err(e) => {
                        // A failed connection still ends cleanly on the
                        // wire: its alert out, then the transport shut.
                        ready!(this.poll_drain(cx))?;
                        ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
                        return Poll::Ready(Err(io_error(e)));
                    }
                }
            }
        }
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// A client connection's handshake over `io`: [`Connection::client`] (or
/// `client_resuming`) made by the caller, run to completion.
///
/// # Errors
///
/// The handshake's, as `io::Error` ([`tls_error`](crate::stream::tls_error)
/// gives the engine's [`Error`] back), or the transport's.
pub async fn connect<'a, IO: AsyncRead + AsyncWrite + Unpin>(
    conn: Connection<'a>,
    io: IO,
) -> io::Result<TlsStream<'a, IO>> {
    let mut stream = TlsStream::new(conn, io);
    stream.handshake().await?;
    Ok(stream)
}

/// A server connection's handshake over `io`, with `config`.
///
/// # Errors
///
/// As [`connect`].
pub async fn accept<'a, IO: AsyncRead + AsyncWrite + Unpin>(
    config: impl Into<crate::Shared<'a, ServerConfig<'a>>>,
    io: IO,
) -> io::Result<TlsStream<'a, IO>> {
    accept_with(config, io, |_| {}).await
}

/// As [`accept`], with `setup` called on the connection before its
/// handshake runs (to [`keep_peer_chain`](Connection::keep_peer_chain),
/// say).
///
/// # Errors
///
/// As [`accept`].
pub async fn accept_with<'a, IO: AsyncRead + AsyncWrite + Unpin>(
    config: impl Into<crate::Shared<'a, ServerConfig<'a>>>,
    io: IO,
    setup: impl FnOnce(&mut Connection<'a>),
) -> io::Result<TlsStream<'a, IO>> {
    let mut conn = Connection::server(config, crate::verify::UnixTime::now()).map_err(io_error)?;
    setup(&mut conn);
    let mut stream = TlsStream::new(conn, io);
    stream.handshake().await?;
    Ok(stream)
}

/// Reads a client's ClientHello before a server configuration exists:
/// [`LazyAcceptor::new`]`(io).await` gives a [`StartHandshake`], whose
/// [`client_hello`](StartHandshake::client_hello) the embedder looks at
/// to choose the configuration, for as long as it likes.
pub struct LazyAcceptor;

impl LazyAcceptor {
    /// Reads from `io` until a whole ClientHello is in (nothing of it is
    /// consumed: the server reads it again, once).
    ///
    /// # Errors
    ///
    /// The transport's; or what the peek refuses (the engine's error,
    /// see [`tls_error`](crate::stream::tls_error)); end of stream first
    /// is `UnexpectedEof`.
    #[allow(clippy::new_ret_no_self)]
    pub async fn new<IO: AsyncRead + AsyncWrite + Unpin>(io: IO) -> io::Result<StartHandshake<IO>> {
        let mut start = StartHandshake {
            io,
            bufs: Buffers::new(boxed(DEFAULT_RECV_CAPACITY), boxed(DEFAULT_SEND_CAPACITY)),
            scratch: Vec::new(),
        };
        core::future::poll_fn(|cx| start.poll_hello(cx)).await?;
        Ok(start)
    }
}

/// A transport whose ClientHello has arrived, waiting for the server's
/// configuration.
pub struct StartHandshake<IO> {
    io: IO,
    bufs: BoxedBuffers,
    /// For a ClientHello split across records.
    scratch: Vec<u8>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> StartHandshake<IO> {
    fn poll_hello(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let peeked = match peek_client_hello(&self.bufs.recv, &mut self.scratch) {
                Ok(Status::Done(_)) => Ok(true),
                Ok(_) => Ok(false),
                Err(e) => Err(e),
            };
            match peeked {
                Ok(true) => return Poll::Ready(Ok(())),
                Ok(false) => {}
                // A hello split across records is joined in the scratch
                // space, sized once for it (never beyond the view).
                Err(Error::PeerMisbehaved(PeerMisbehaved::HandshakeTooLarge { len, .. }))
                    if len < self.bufs.recv.capacity()
                        && self.scratch.len() < len.saturating_add(4) =>
                {
                    self.scratch = vec![0u8; len.saturating_add(4)];
                    continue;
                }
                Err(e) => return Poll::Ready(Err(io_error(e))),
            }
            let room = self.bufs.recv.capacity();
            let spare = self.bufs.recv.spare_mut();
            if spare.is_empty() {
                return Poll::Ready(Err(io_error(
                    Misuse::RecvBufferTooSmall {
                        needed: room.saturating_add(1),
                    }
                    .into(),
                )));
            }
            let mut buf = ReadBuf::new(spare);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
            let n = buf.filled().len();
            if n == 0 {
                self.bufs.recv.set_eof();
            } else {
                self.bufs.recv.commit(n);
            }
        }
    }

    /// The ClientHello (parsed again where it lies: nothing is kept but
    /// the bytes).
    ///
    /// # Errors
    ///
    /// None in practice: [`LazyAcceptor::new`] returned only once it
    /// parsed, and nothing has changed since.
    pub fn client_hello(&mut self) -> Result<ClientHelloView<'_>, Error> {
        match peek_client_hello(&self.bufs.recv, &mut self.scratch)? {
            Status::Done(view) => Ok(view),
            _ => Err(Error::Internal("the ClientHello went away")),
        }
    }

    /// Makes the server connection with the chosen `config` and runs its
    /// handshake over the same bytes.
    ///
    /// # Errors
    ///
    /// As [`connect`].
    pub async fn into_stream<'a>(
        self,
        config: impl Into<crate::Shared<'a, ServerConfig<'a>>>,
    ) -> io::Result<TlsStream<'a, IO>> {
        self.into_stream_with(config, |_| {}).await
    }

    /// As [`into_stream`](Self::into_stream), with `setup` called on the
    /// connection before its handshake runs (to
    /// [`keep_peer_chain`](Connection::keep_peer_chain), or
    /// [`set_tag`](Connection::set_tag)).
    ///
    /// # Errors
    ///
    /// As [`connect`].
    pub async fn into_stream_with<'a>(
        self,
        config: impl Into<crate::Shared<'a, ServerConfig<'a>>>,
        setup: impl FnOnce(&mut Connection<'a>),
    ) -> io::Result<TlsStream<'a, IO>> {
        let mut conn =
            Connection::server(config, crate::verify::UnixTime::now()).map_err(io_error)?;
        setup(&mut conn);
        let mut stream = TlsStream::with_buffers(conn, self.io, self.bufs);
        stream.handshake().await?;
        Ok(stream)
    }
}
