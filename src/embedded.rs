//! The engine over an embedded-io transport (features `embedded-io` and
//! `embedded-io-async`), for firmware: no `std`, no allocator. The views
//! are the caller's (any `AsRef<[u8]> + AsMut<[u8]>`, such as `&mut [u8]`
//! in a static), and so is the transport: a UART, a modem, an
//! `embassy-net` socket.
//!
//! [`EmbeddedStream`] implements `embedded_io::{Read, Write}` over a
//! blocking transport; [`AsyncEmbeddedStream`] implements
//! `embedded_io_async::{Read, Write}` over an async one. Both follow
//! the contract of the std `Stream`: the handshake runs on
//! the first read or write (or [`EmbeddedStream::handshake`]); a write
//! seals at most one record and reports it (partial write mode), so
//! nothing is sealed twice; `close` sends close_notify and flushes it.
//!
//! A [`Signer`](crate::sign::Signer) that answers `Pending` is polled
//! again at once: the blocking adapter spins on it and the async one
//! yields to the executor between polls.

use crate::buffer::Buffers;
use crate::conn::{Connection, Shutdown, Status, WriteMode};
use crate::error::Error;

/// What an embedded stream fails with: the engine's error, or the
/// transport's.
#[derive(Debug)]
pub enum EmbeddedError<E> {
    /// The TLS connection failed (its alert, if any, was sent).
    Tls(Error),
    /// The transport failed.
    Transport(E),
    /// The transport wrote nothing.
    WriteZero,
}

impl<E: core::fmt::Debug> core::fmt::Display for EmbeddedError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Transport(e) => write!(f, "transport: {e:?}"),
            Self::WriteZero => f.write_str("transport: wrote nothing"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for EmbeddedError<E> {}

impl<E: embedded_io::Error> embedded_io::Error for EmbeddedError<E> {
    fn kind(&self) -> embedded_io::ErrorKind {
        use embedded_io::ErrorKind;
        match self {
            Self::Transport(e) => e.kind(),
            Self::WriteZero => ErrorKind::WriteZero,
            Self::Tls(Error::Truncated) => ErrorKind::ConnectionAborted,
            Self::Tls(Error::Misuse(_)) => ErrorKind::InvalidInput,
            Self::Tls(_) => ErrorKind::InvalidData,
        }
    }
}

/// A TLS connection over a blocking embedded-io transport `T`, with the
/// caller's views.
#[cfg(feature = "embedded-io")]
pub struct EmbeddedStream<'a, T: embedded_io::ErrorType, R, S> {
    conn: Connection<'a>,
    transport: T,
    bufs: Buffers<R, S>,
    /// A transport error met after a call had sealed or delivered
    /// plaintext: returned by the next call (a caller who got it now
    /// would repeat the call and seal the bytes again, or lose them).
    deferred: Option<T::Error>,
}

/// What a call of the engine asks the adapter to do before repeating it.
enum Next<T> {
    Return(T),
    Receive,
    Send,
    Again,
}

fn next<T>(r: Result<Status<T>, Error>) -> Result<Next<Option<T>>, Error> {
    Ok(match r? {
        Status::Done(t) => Next::Return(Some(t)),
        Status::Closed => Next::Return(None),
        Status::WantRead => Next::Receive,
        Status::WantWrite { .. } => Next::Send,
        // The handshake just completed, a pending signer, or a future
        // outcome: call again.
        _ => Next::Again,
    })
}

#[cfg(feature = "embedded-io")]
impl<'a, T, R, S> EmbeddedStream<'a, T, R, S>
where
    T: embedded_io::Read + embedded_io::Write,
    R: AsRef<[u8]> + AsMut<[u8]>,
    S: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Wraps `conn`, `transport` and the views (see docs/architecture.md,
    /// "Buffer sizes", for how large).
    pub fn new(mut conn: Connection<'a>, transport: T, bufs: Buffers<R, S>) -> Self {
        conn.set_write_mode(WriteMode::Partial);
        Self {
            conn,
            transport,
            bufs,
            deferred: None,
        }
    }

    /// The engine.
    pub fn connection(&self) -> &Connection<'a> {
        &self.conn
    }

    /// The engine, the transport and the views back.
    pub fn into_parts(self) -> (Connection<'a>, T, Buffers<R, S>) {
        (self.conn, self.transport, self.bufs)
    }

    /// Runs the handshake to completion and sends our last flight.
    ///
    /// # Errors
    ///
    /// The handshake's or the transport's.
    pub fn handshake(&mut self) -> Result<(), EmbeddedError<T::Error>> {
        loop {
            let r = self.conn.handshake(&mut self.bufs);
            match self.serve(r)? {
                Some(_) => return self.drain(),
                None => continue,
            }
        }
    }

    /// Sends close_notify and flushes it.
    ///
    /// # Errors
    ///
    /// The engine's or the transport's.
    pub fn close(&mut self) -> Result<Shutdown, EmbeddedError<T::Error>> {
        loop {
            let r = self.conn.shutdown(&mut self.bufs);
            if let Some(done) = self.serve(r)? {
                self.drain()?;
                self.transport.flush().map_err(EmbeddedError::Transport)?;
                return Ok(done.unwrap_or(Shutdown::Sent));
            }
        }
    }

    /// Does what the engine asked: `Some(outcome)` to return it, `None` to
    /// call again.
    fn serve<U>(
        &mut self,
        r: Result<Status<U>, Error>,
    ) -> Result<Option<Option<U>>, EmbeddedError<T::Error>> {
        match next(r) {
            Ok(Next::Return(t)) => Ok(Some(t)),
            Ok(Next::Receive) => {
                self.drain()?;
                self.receive()?;
                Ok(None)
            }
            Ok(Next::Send) => {
                self.drain()?;
                Ok(None)
            }
            Ok(Next::Again) => {
                self.drain()?;
                Ok(None)
            }
            Err(e) => {
                if e.is_fatal() {
                    let _ = self.drain();
                }
                Err(EmbeddedError::Tls(e))
            }
        }
    }

    fn receive(&mut self) -> Result<(), EmbeddedError<T::Error>> {
        let spare = self.bufs.recv.spare_mut();
        if spare.is_empty() {
            return Err(EmbeddedError::Tls(Error::Internal("received view full")));
        }
        let n = self
            .transport
            .read(spare)
            .map_err(EmbeddedError::Transport)?;
        if n == 0 {
            self.bufs.recv.set_eof();
        } else {
            self.bufs.recv.commit(n);
        }
        Ok(())
    }

    /// `drain` after a call that took or delivered plaintext: a transport
    /// error is kept for the next call.
    fn drain_after_success(&mut self) {
        // WriteZero leaves the records queued for the next call.
        if let Err(EmbeddedError::Transport(e)) = self.drain() {
            self.deferred = Some(e);
        }
    }

    fn drain(&mut self) -> Result<(), EmbeddedError<T::Error>> {
        while !self.bufs.send.is_empty() {
            let n = self
                .transport
                .write(self.bufs.send.pending())
                .map_err(EmbeddedError::Transport)?;
            if n == 0 {
                return Err(EmbeddedError::WriteZero);
            }
            self.bufs.send.consume(n);
        }
        Ok(())
    }
}

#[cfg(feature = "embedded-io")]
impl<T: embedded_io::ErrorType, R, S> embedded_io::ErrorType for EmbeddedStream<'_, T, R, S> {
    type Error = EmbeddedError<T::Error>;
}

#[cfg(feature = "embedded-io")]
impl<T, R, S> embedded_io::Read for EmbeddedStream<'_, T, R, S>
where
    T: embedded_io::Read + embedded_io::Write,
    R: AsRef<[u8]> + AsMut<[u8]>,
    S: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Plaintext; blocks until at least one byte, `Ok(0)` after the peer's
    /// close_notify. End of stream without it is `Tls(Truncated)`.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if let Some(e) = self.deferred.take() {
            return Err(EmbeddedError::Transport(e));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let r = self.conn.read(&mut self.bufs, buf);
            if let Some(n) = self.serve(r)? {
                // A KeyUpdate reply may be queued; the plaintext is the
                // caller's whatever the transport says.
                self.drain_after_success();
                return Ok(n.unwrap_or(0));
            }
        }
    }
}

#[cfg(feature = "embedded-io")]
impl<T, R, S> embedded_io::Write for EmbeddedStream<'_, T, R, S>
where
    T: embedded_io::Read + embedded_io::Write,
    R: AsRef<[u8]> + AsMut<[u8]>,
    S: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Seals one record of `buf` (at most its content) and sends it.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if let Some(e) = self.deferred.take() {
            return Err(EmbeddedError::Transport(e));
        }
        loop {
            let r = self.conn.write(&mut self.bufs, buf);
            if let Some(n) = self.serve(r)? {
                // Sealed: the bytes are ours whatever the transport says.
                self.drain_after_success();
                return Ok(n.unwrap_or(0));
            }
        }
    }

    /// Sends what is sealed, and a KeyUpdate asked for on the connection.
    fn flush(&mut self) -> Result<(), Self::Error> {
        if let Some(e) = self.deferred.take() {
            return Err(EmbeddedError::Transport(e));
        }
        if self.conn.is_established() && !self.conn.close_sent() {
            loop {
                let r = self.conn.write(&mut self.bufs, &[]);
                if self.serve(r)?.is_some() {
                    break;
                }
            }
        }
        self.drain()?;
        self.transport.flush().map_err(EmbeddedError::Transport)
    }
}

/// A TLS connection over an async embedded-io transport `T`, with the
/// caller's views.
#[cfg(feature = "embedded-io-async")]
pub struct AsyncEmbeddedStream<'a, T: embedded_io::ErrorType, R, S> {
    conn: Connection<'a>,
    transport: T,
    bufs: Buffers<R, S>,
    /// A transport error met after a call had sealed or delivered
    /// plaintext: returned by the next call (a caller who got it now
    /// would repeat the call and seal the bytes again, or lose them).
    deferred: Option<T::Error>,
}

/// Waits once: for the signer's wake if `conn` awaits a signer that can
/// wake the task ([`Connection::register_signature_waker`]), or else
/// until the executor's next turn.
#[cfg(feature = "embedded-io-async")]
async fn wait_for_signer(conn: &Connection<'_>) {
    let mut waited = false;
    core::future::poll_fn(|cx| {
        if waited || !conn.awaits_signature() {
            core::task::Poll::Ready(())
        } else {
            waited = true;
            if !conn.register_signature_waker(cx.waker()) {
                cx.waker().wake_by_ref();
            }
            core::task::Poll::Pending
        }
    })
    .await;
}

#[cfg(feature = "embedded-io-async")]
impl<'a, T, R, S> AsyncEmbeddedStream<'a, T, R, S>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    R: AsRef<[u8]> + AsMut<[u8]>,
    S: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Wraps `conn`, `transport` and the views.
    pub fn new(mut conn: Connection<'a>, transport: T, bufs: Buffers<R, S>) -> Self {
        conn.set_write_mode(WriteMode::Partial);
        Self {
            conn,
            transport,
            bufs,
            deferred: None,
        }
    }

    /// The engine.
    pub fn connection(&self) -> &Connection<'a> {
        &self.conn
    }

    /// The engine, the transport and the views back.
    pub fn into_parts(self) -> (Connection<'a>, T, Buffers<R, S>) {
        (self.conn, self.transport, self.bufs)
    }

    /// Runs the handshake to completion and sends our last flight.
    ///
    /// # Errors
    ///
    /// The handshake's or the transport's.
    pub async fn handshake(&mut self) -> Result<(), EmbeddedError<T::Error>> {
        loop {
            let r = self.conn.handshake(&mut self.bufs);
            if self.serve(r).await?.is_some() {
                return self.drain().await;
            }
        }
    }

    /// Sends close_notify and flushes it.
    ///
    /// # Errors
    ///
    /// The engine's or the transport's.
    pub async fn close(&mut self) -> Result<Shutdown, EmbeddedError<T::Error>> {
        loop {
            let r = self.conn.shutdown(&mut self.bufs);
            if let Some(done) = self.serve(r).await? {
                self.drain().await?;
                self.transport
                    .flush()
                    .await
                    .map_err(EmbeddedError::Transport)?;
                return Ok(done.unwrap_or(Shutdown::Sent));
            }
        }
    }

    async fn serve<U>(
        &mut self,
        r: Result<Status<U>, Error>,
    ) -> Result<Option<Option<U>>, EmbeddedError<T::Error>> {
        match next(r) {
            Ok(Next::Return(t)) => Ok(Some(t)),
            Ok(Next::Receive) => {
                self.drain().await?;
                self.receive().await?;
                Ok(None)
            }
            Ok(Next::Send) => {
                self.drain().await?;
                Ok(None)
            }
            Ok(Next::Again) => {
                self.drain().await?;
                wait_for_signer(&self.conn).await;
                Ok(None)
            }
            Err(e) => {
                if e.is_fatal() {
                    let _ = self.drain().await;
                }
                Err(EmbeddedError::Tls(e))
            }
        }
    }

    async fn receive(&mut self) -> Result<(), EmbeddedError<T::Error>> {
        let spare = self.bufs.recv.spare_mut();
        if spare.is_empty() {
            return Err(EmbeddedError::Tls(Error::Internal("received view full")));
        }
        let n = self
            .transport
            .read(spare)
            .await
            .map_err(EmbeddedError::Transport)?;
        if n == 0 {
            self.bufs.recv.set_eof();
        } else {
            self.bufs.recv.commit(n);
        }
        Ok(())
    }

    async fn drain_after_success(&mut self) {
        if let Err(EmbeddedError::Transport(e)) = self.drain().await {
            self.deferred = Some(e);
        }
    }

    async fn drain(&mut self) -> Result<(), EmbeddedError<T::Error>> {
        while !self.bufs.send.is_empty() {
            let n = self
                .transport
                .write(self.bufs.send.pending())
                .await
                .map_err(EmbeddedError::Transport)?;
            if n == 0 {
                return Err(EmbeddedError::WriteZero);
            }
            self.bufs.send.consume(n);
        }
        Ok(())
    }
}

#[cfg(feature = "embedded-io-async")]
impl<T: embedded_io_async::ErrorType, R, S> embedded_io_async::ErrorType
    for AsyncEmbeddedStream<'_, T, R, S>
{
    type Error = EmbeddedError<T::Error>;
}

#[cfg(feature = "embedded-io-async")]
impl<T, R, S> embedded_io_async::Read for AsyncEmbeddedStream<'_, T, R, S>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    R: AsRef<[u8]> + AsMut<[u8]>,
    S: AsRef<[u8]> + AsMut<[u8]>,
{
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if let Some(e) = self.deferred.take() {
            return Err(EmbeddedError::Transport(e));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let r = self.conn.read(&mut self.bufs, buf);
            if let Some(n) = self.serve(r).await? {
                self.drain_after_success().await;
                return Ok(n.unwrap_or(0));
            }
        }
    }
}

#[cfg(feature = "embedded-io-async")]
impl<T, R, S> embedded_io_async::Write for AsyncEmbeddedStream<'_, T, R, S>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    R: AsRef<[u8]> + AsMut<[u8]>,
    S: AsRef<[u8]> + AsMut<[u8]>,
{
    /// Seals one record of `buf` and reports it at once: its records go
    /// out on the next call or `flush` (so a future dropped after this
    /// call returned never leaves bytes sealed and unreported).
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if let Some(e) = self.deferred.take() {
            return Err(EmbeddedError::Transport(e));
        }
        loop {
            let r = self.conn.write(&mut self.bufs, buf);
            if let Some(n) = self.serve(r).await? {
                return Ok(n.unwrap_or(0));
            }
        }
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        if let Some(e) = self.deferred.take() {
            return Err(EmbeddedError::Transport(e));
        }
        if self.conn.is_established() && !self.conn.close_sent() {
            loop {
                let r = self.conn.write(&mut self.bufs, &[]);
                if self.serve(r).await?.is_some() {
                    break;
                }
            }
        }
        self.drain().await?;
        self.transport
            .flush()
            .await
            .map_err(EmbeddedError::Transport)
    }
}
