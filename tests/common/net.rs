//! Real sockets and real peer processes for the interop tests.
//!
//! - [`TlsSocket`]: a tlspair `Connection` over a `TcpStream`, driven by a
//!   poll loop over the caller-owned `Buffers` the way an embedder's event
//!   loop would: drain `bufs.send` to the socket, read the socket into
//!   `bufs.recv.spare_mut()` and `commit`, `set_eof()` on end of stream.
//!   The socket is non-blocking and every wait has a deadline, so a peer
//!   that stops answering fails the test instead of hanging it.
//! - [`Openssl`]: an `openssl s_server` / `s_client` child process with its
//!   output captured, always killed by its process id when dropped.
//! - [`bounded`]: runs a test body under a hard time limit.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tlspair::{Buffers, Connection, Error, Shutdown, Status};

use super::Bufs;

/// Every single wait (a handshake, a transfer, a process starting or
/// exiting) gives up after this long. Shorter than [`TEST_LIMIT`] so the
/// driver fails with its own message, and its guards kill the children,
/// before the outer limit fires.
pub const WAIT_LIMIT: Duration = Duration::from_secs(15);

/// No interop test may run longer than this.
pub const TEST_LIMIT: Duration = Duration::from_secs(20);

/// Runs `body` on its own thread and fails the test if it has not finished
/// within [`TEST_LIMIT`]. A panic in `body` is re-raised here unchanged.
pub fn bounded<F: FnOnce() + Send + 'static>(body: F) {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let _ = tx.send(());
        result
    });
    match rx.recv_timeout(TEST_LIMIT) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(Ok(())) => {}
            Ok(Err(panic)) | Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("test exceeded its {TEST_LIMIT:?} limit")
        }
    }
}

/// Polls `done` until it holds, failing the test after [`WAIT_LIMIT`].
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// A peer server on a free port: `spawn(port)` starts it, `ready`
/// says whether it listens (`Some(true)`), failed to (`Some(false)`:
/// another process took the port since `free_port`, so another port),
/// or is still starting (`None`).
pub fn start_server(
    what: &str,
    spawn: impl Fn(u16) -> Openssl,
    ready: impl Fn(&mut Openssl, u16) -> Option<bool>,
) -> (Openssl, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut server = spawn(port);
        let started = Instant::now();
        loop {
            match ready(&mut server, port) {
                Some(true) => return (server, port),
                Some(false) => break,
                None => {}
            }
            if server.exited().is_some() {
                break;
            }
            assert!(
                started.elapsed() < WAIT_LIMIT,
                "{what} did not start: {}",
                server.describe()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
    panic!("{what} would not start")
}

/// Whether process `pid` itself has a socket listening on TCP `port`
/// (IPv4 or IPv6, any address). Read from `/proc`, so no connection is
/// made: a readiness probe that connects is a connection the peer must
/// handle, and NSS's `selfserv` may exit on one it finds broken, leaving
/// the test's real connection reset. The socket must be the child's own
/// (its inode among the child's descriptors), so a port that some other
/// process took since [`free_port`] is not mistaken for the peer's.
pub fn listens(pid: u32, port: u16) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let inodes: Vec<String> = fds
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let port = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        text.lines().skip(1).any(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 9
                && fields[1].ends_with(&port)
                && fields[3] == "0A"
                && inodes.iter().any(|inode| inode == fields[9])
        })
    })
}

/// Path of a file in testdata/certs, for the openssl command line.
pub fn cert_path(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "testdata", "certs", name]
        .iter()
        .collect();
    assert!(path.exists(), "missing test credential {}", path.display());
    path.to_string_lossy().into_owned()
}

/// A port on 127.0.0.1 that was free a moment ago, for a peer program
/// to listen on. Taken below the kernel's ephemeral range (32768 and up
/// on Linux), which every client socket and every `bind(0)` listener of
/// the other tests draws from: so a port handed out here is not also a
/// port some other test is given at the same time, and the probe that
/// the peer listens cannot reach another test's server instead. Each
/// call of a process takes the next port (from an offset by process id),
/// skipping ports that are in use. The caller retries if another process
/// takes it first.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let base = std::process::id().wrapping_mul(7919) % SPAN;
    loop {
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + (base + i) % SPAN) as u16;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// A listener on a kernel-chosen 127.0.0.1 port, for our servers.
pub fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    l.set_nonblocking(true).expect("nonblocking listener");
    let port = l.local_addr().expect("local_addr").port();
    (l, port)
}

/// Accepts one connection within [`WAIT_LIMIT`]. `alive` is polled while
/// waiting so a peer process that died early fails the test at once, with
/// its output.
pub fn accept(listener: &TcpListener, mut alive: impl FnMut() -> Result<(), String>) -> TcpStream {
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        match listener.accept() {
            Ok((sock, _)) => return sock,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        if let Err(why) = alive() {
            panic!("peer gone before connecting: {why}");
        }
        assert!(
            Instant::now() < deadline,
            "no connection within {WAIT_LIMIT:?}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// Connects to 127.0.0.1:`port`.
pub fn connect(port: u16) -> TcpStream {
    try_connect(port).unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"))
}

/// Connects to 127.0.0.1:`port`, for a caller that reports a failure with
/// the peer process's output.
pub fn try_connect(port: u16) -> io::Result<TcpStream> {
    TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), WAIT_LIMIT)
}

/// A tlspair connection on a socket: the engine, the caller-owned buffers,
/// and the transport between them.
pub struct TlsSocket {
    pub conn: Connection<'static>,
    pub bufs: Bufs,
    pub sock: TcpStream,
    /// When the current wait gives up.
    deadline: Instant,
    /// The peer stopped taking bytes (reset or broken pipe): what was still
    /// pending was dropped. Only shutdown paths expect this.
    pub write_closed: bool,
    /// The records drained to the socket, for tests that check what went
    /// out (a KeyUpdate is a 22-byte record).
    pub sent: RecordLengths,
}

impl std::fmt::Debug for TlsSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSocket")
            .field("conn", &self.conn)
            .field("recv_pending", &self.bufs.recv.len())
            .field("send_pending", &self.bufs.send.len())
            .field("eof", &self.bufs.recv.is_eof())
            .finish_non_exhaustive()
    }
}

/// Ciphertext length of a record carrying one KeyUpdate message: 5 bytes
/// of message, 1 of content type, 16 of AEAD tag.
pub const KEY_UPDATE_RECORD_LEN: usize = 5 + 1 + 16;

impl TlsSocket {
    /// Wraps `sock` (made non-blocking) with buffers large enough for any
    /// record and for the handshake messages of the test credentials.
    pub fn new(conn: Connection<'static>, sock: TcpStream) -> Self {
        Self::with_buffers(conn, sock, 20_000, 20_000)
    }

    /// Wraps `sock` with buffers of these sizes: received and outgoing
    /// ciphertext.
    pub fn with_buffers(
        conn: Connection<'static>,
        sock: TcpStream,
        recv: usize,
        send: usize,
    ) -> Self {
        sock.set_nonblocking(true).expect("nonblocking socket");
        sock.set_nodelay(true).expect("nodelay");
        Self {
            conn,
            bufs: Buffers::new(vec![0; recv], vec![0; send]),
            sock,
            deadline: Instant::now() + WAIT_LIMIT,
            write_closed: false,
            sent: RecordLengths::default(),
        }
    }

    /// Our client on a new connection to 127.0.0.1:`port`, handshake done.
    pub fn connect_and_handshake(conn: Connection<'static>, port: u16) -> Result<Self, Error> {
        let mut s = Self::new(conn, connect(port));
        s.handshake()?;
        Ok(s)
    }

    /// Record lengths sent since the last call.
    pub fn take_sent_records(&mut self) -> Vec<usize> {
        self.sent.take()
    }

    /// Moves bytes both ways without blocking; true if any moved.
    pub fn pump(&mut self) -> bool {
        let mut progress = false;
        // Outgoing first: the peer may be waiting on our flight.
        while !self.bufs.send.is_empty() && !self.write_closed {
            match self.sock.write(self.bufs.send.pending()) {
                Ok(0) => panic!("socket write returned 0"),
                Ok(n) => {
                    self.sent.see(&self.bufs.send.pending()[..n]);
                    self.bufs.send.consume(n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if peer_gone(&e) => {
                    self.write_closed = true;
                    let n = self.bufs.send.len();
                    self.bufs.send.consume(n);
                    progress = true;
                }
                Err(e) => panic!("socket write: {e}"),
            }
        }
        while !self.bufs.recv.is_eof() {
            let spare = self.bufs.recv.spare_mut();
            if spare.is_empty() {
                break;
            }
            match self.sock.read(spare) {
                Ok(0) => {
                    self.bufs.recv.set_eof();
                    progress = true;
                }
                Ok(n) => {
                    self.bufs.recv.commit(n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A killed peer with unread bytes resets the connection: to
                // TLS that is the same as end of stream.
                Err(e) if peer_gone(&e) => {
                    self.bufs.recv.set_eof();
                    progress = true;
                }
                Err(e) => panic!("socket read: {e}"),
            }
        }
        progress
    }

    /// Starts a new wait of at most [`WAIT_LIMIT`].
    fn arm(&mut self) {
        self.deadline = Instant::now() + WAIT_LIMIT;
    }

    /// Sleeps briefly when nothing moved; fails the test at the deadline.
    fn idle(&mut self, progress: bool, what: &str) {
        if progress {
            return;
        }
        assert!(
            Instant::now() < self.deadline,
            "timed out in {what} after {WAIT_LIMIT:?}: {:?}",
            self.conn
        );
        thread::sleep(Duration::from_micros(300));
    }

    /// Drains `bufs.send` to the socket.
    pub fn flush(&mut self) {
        self.arm();
        while !self.bufs.send.is_empty() && !self.write_closed {
            let p = self.pump();
            self.idle(p, "flush");
        }
    }

    /// An engine error: send its alert if it can go, and hand it back.
    fn failed(&mut self, e: Error) -> Error {
        let until = Instant::now() + Duration::from_secs(2);
        while !self.bufs.send.is_empty() && !self.write_closed && Instant::now() < until {
            if !self.pump() {
                thread::sleep(Duration::from_millis(1));
            }
        }
        e
    }

    /// Runs the handshake to completion (`SSL_do_handshake` in a loop).
    pub fn handshake(&mut self) -> Result<(), Error> {
        self.arm();
        loop {
            match self.conn.handshake(&mut self.bufs) {
                Ok(Status::Done(())) => break,
                Ok(_) => {
                    let p = self.pump();
                    self.idle(p, "handshake");
                }
                Err(e) => return Err(self.failed(e)),
            }
        }
        self.flush();
        Ok(())
    }

    /// Writes all of `data` and drains it to the socket. Reads nothing:
    /// for peers that take everything before they answer. In partial-write
    /// mode each `Done(n)` is one record; in complete mode, all of it.
    pub fn send_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.arm();
        let mut off = 0;
        while off < data.len() {
            match self.conn.write(&mut self.bufs, &data[off..]) {
                Ok(Status::Done(n)) => {
                    assert!(n > 0, "write made no progress");
                    off += n;
                    self.arm();
                }
                Ok(_) => {
                    let p = self.pump();
                    self.idle(p, "write");
                }
                Err(e) => return Err(self.failed(e)),
            }
        }
        self.flush();
        Ok(())
    }

    /// Waits for plaintext: `Some(bytes)`, or `None` once the peer's
    /// close_notify has been read.
    pub fn recv(&mut self) -> Result<Option<Vec<u8>>, Error> {
        self.arm();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match self.conn.read(&mut self.bufs, &mut buf) {
                Ok(Status::Done(n)) => {
                    buf.truncate(n);
                    return Ok(Some(buf));
                }
                Ok(Status::Closed) => return Ok(None),
                Ok(_) => {
                    let p = self.pump();
                    self.idle(p, "read");
                }
                Err(e) => return Err(self.failed(e)),
            }
        }
    }

    /// Reads until the peer's close_notify with `read_in_place` and
    /// `consume`, taking at most `step` bytes of each lent slice at a time:
    /// the zero-copy path.
    pub fn read_in_place_until_closed(&mut self, step: usize) -> Result<Vec<u8>, Error> {
        self.arm();
        let mut got = Vec::new();
        loop {
            match self.conn.read_in_place(&mut self.bufs) {
                Ok(Status::Done(plain)) => {
                    let n = plain.len().min(step);
                    got.extend_from_slice(&plain[..n]);
                    self.conn.consume(&mut self.bufs, n);
                    self.arm();
                }
                Ok(Status::Closed) => return Ok(got),
                Ok(_) => {
                    let p = self.pump();
                    self.idle(p, "read_in_place");
                }
                Err(e) => return Err(self.failed(e)),
            }
        }
    }

    /// A server's first call: `read_early` until it answers `Done(0)`,
    /// pumping meanwhile; the 0-RTT data it handed out.
    pub fn read_early_all(&mut self) -> Result<Vec<u8>, Error> {
        self.arm();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            match self.conn.read_early(&mut self.bufs, &mut buf) {
                Ok(Status::Done(0)) => return Ok(got),
                Ok(Status::Done(n)) => {
                    got.extend_from_slice(&buf[..n]);
                    self.arm();
                }
                Ok(_) => {
                    let p = self.pump();
                    self.idle(p, "read_early");
                }
                Err(e) => return Err(self.failed(e)),
            }
        }
    }

    /// Reads exactly `n` bytes of plaintext. Fails the test if the peer
    /// closes first.
    pub fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            match self.recv()? {
                Some(bytes) => got.extend_from_slice(&bytes),
                None => panic!("peer closed after {} of {n} bytes", got.len()),
            }
        }
        assert_eq!(got.len(), n, "peer sent more than expected");
        Ok(got)
    }

    /// Reads until the peer's close_notify; everything read before it.
    /// `Err(Truncated)` if the transport ends without one.
    pub fn read_until_closed(&mut self) -> Result<Vec<u8>, Error> {
        let mut got = Vec::new();
        while let Some(bytes) = self.recv()? {
            got.extend_from_slice(&bytes);
        }
        Ok(got)
    }

    /// Sends `data` while reading what arrives, until all of `data` is
    /// sent and `expect` bytes have been read (or the peer closed). For
    /// echoing peers, which would block on us if we only wrote.
    pub fn exchange(&mut self, data: &[u8], expect: usize) -> Result<Vec<u8>, Error> {
        self.exchange_in(data, expect, 16 * 1024)
    }

    /// [`exchange`](Self::exchange), passing `write` up to `chunk` bytes at a
    /// time: with a chunk larger than the outgoing view, a complete-mode
    /// write is pending while reads go on.
    pub fn exchange_in(
        &mut self,
        data: &[u8],
        expect: usize,
        chunk: usize,
    ) -> Result<Vec<u8>, Error> {
        self.arm();
        let mut got = Vec::with_capacity(expect);
        let mut buf = vec![0u8; 32 * 1024];
        let mut off = 0;
        let mut closed = false;
        while off < data.len() || (got.len() < expect && !closed) {
            let mut progress = false;
            if off < data.len() {
                // A WantWrite is retried with the same slice, as the
                // contract asks; reads go on in between.
                let chunk = &data[off..data.len().min(off + chunk)];
                match self.conn.write(&mut self.bufs, chunk) {
                    Ok(Status::Done(n)) => {
                        off += n;
                        progress = true;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(self.failed(e)),
                }
            }
            if !closed {
                match self.conn.read(&mut self.bufs, &mut buf) {
                    Ok(Status::Done(n)) => {
                        got.extend_from_slice(&buf[..n]);
                        progress = true;
                    }
                    Ok(Status::Closed) => closed = true,
                    Ok(_) => {}
                    Err(e) => return Err(self.failed(e)),
                }
            }
            let p = self.pump();
            if progress || p {
                self.arm();
            }
            self.idle(progress || p, "exchange");
        }
        self.flush();
        Ok(got)
    }

    /// Sends our close_notify (`SSL_shutdown`) and drains it.
    pub fn close(&mut self) -> Result<Shutdown, Error> {
        self.arm();
        let state = loop {
            match self.conn.shutdown(&mut self.bufs) {
                Ok(Status::Done(s)) => break s,
                Ok(_) => {
                    let p = self.pump();
                    self.idle(p, "shutdown");
                }
                Err(e) => return Err(self.failed(e)),
            }
        };
        self.flush();
        Ok(state)
    }
}

/// Splits a byte stream into TLS records as it goes by, keeping each
/// record's length field: what a test sees of encrypted traffic.
#[derive(Debug, Default)]
pub struct RecordLengths {
    lengths: Vec<usize>,
    /// Body bytes of the current record still to come.
    body_left: usize,
    /// Header bytes of the current record seen so far: a transport may
    /// cut anywhere, even inside a header.
    header: Vec<u8>,
}

impl RecordLengths {
    pub fn see(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.body_left > 0 {
                self.body_left -= 1;
                continue;
            }
            self.header.push(b);
            if self.header.len() == 5 {
                let len = usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
                self.lengths.push(len);
                self.body_left = len;
                self.header.clear();
            }
        }
    }

    /// Lengths of the records seen since the last call.
    pub fn take(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.lengths)
    }
}

fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

/// Output of a child process, collected by a thread as it comes.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("capture lock").clone()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    pub fn len(&self) -> usize {
        self.0.lock().expect("capture lock").len()
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }

    fn collect(&self, mut from: impl Read + Send + 'static) -> JoinHandle<()> {
        let sink = self.0.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("capture lock")
                    .extend_from_slice(&buf[..n]);
            }
        })
    }
}

/// Fails with one clear message when the tool is missing: interop tests
/// are never skipped silently.
pub fn openssl_binary() -> &'static str {
    const BIN: &str = "openssl";
    match Command::new(BIN).arg("version").output() {
        Ok(out) if out.status.success() => BIN,
        Ok(out) => panic!(
            "`openssl version` failed ({}); the interop tests need the OpenSSL \
             command-line tool (`apt-get install -y openssl`)",
            out.status
        ),
        Err(e) => panic!(
            "cannot run `openssl` ({e}); the interop tests need the OpenSSL \
             command-line tool (`apt-get install -y openssl`; .ci/run installs it)"
        ),
    }
}

/// An `openssl` child process with piped stdin and captured output. Dropping
/// it kills the process by its id and reaps it.
pub struct Openssl {
    child: Child,
    program: String,
    args: Vec<String>,
    pub stdout: Captured,
    pub stderr: Captured,
    stdin: Option<ChildStdin>,
    /// A thread writing to stdin, which hands stdin back when done.
    feeder: Option<JoinHandle<Option<ChildStdin>>>,
    readers: Vec<JoinHandle<()>>,
}

/// A peer process of any command-line tool (GnuTLS, NSS), with the same
/// captured output and helpers as `openssl`'s.
pub type Process = Openssl;

impl Openssl {
    pub fn spawn<S: AsRef<str>>(args: &[S]) -> Self {
        Self::spawn_program(openssl_binary(), args)
    }

    /// `program` with `args`, stdin piped and stdout/stderr captured.
    pub fn spawn_program<S: AsRef<str>>(program: &str, args: &[S]) -> Self {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
        let mut child = Command::new(program)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {program} {args:?}: {e}"));
        let (stdout, stderr) = (Captured::default(), Captured::default());
        let readers = vec![
            stdout.collect(child.stdout.take().expect("piped stdout")),
            stderr.collect(child.stderr.take().expect("piped stderr")),
        ];
        let stdin = child.stdin.take();
        Self {
            child,
            program: program.to_owned(),
            args,
            stdout,
            stderr,
            stdin,
            feeder: None,
            readers,
        }
    }

    /// `openssl s_server` on a free port, serving `cert`/`key` (names in
    /// testdata/certs) with the extra `args`, once it accepts connections.
    /// Returns the process and its port.
    pub fn s_server(cert: &str, key: &str, args: &[&str]) -> (Self, u16) {
        let mut last = String::new();
        // Another test may take the port between free_port() and the bind:
        // try a few ports.
        for _ in 0..5 {
            let port = free_port();
            let accept = format!("127.0.0.1:{port}");
            let mut full = vec![
                "s_server".to_owned(),
                "-accept".to_owned(),
                accept,
                version_flag(args).to_owned(),
                "-cert".to_owned(),
                cert_path(cert),
                "-key".to_owned(),
                cert_path(key),
            ];
            full.extend(
                args.iter()
                    .filter(|a| **a != "-tls1_2")
                    .map(|a| (*a).to_owned()),
            );
            let mut server = Self::spawn(&full);
            // s_server prints ACCEPT on stdout once it listens.
            let deadline = Instant::now() + WAIT_LIMIT;
            loop {
                if server.stdout.contains("ACCEPT") {
                    return (server, port);
                }
                if let Some(status) = server.exited() {
                    last = format!("exited with {status}: {}", server.stderr.text());
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "s_server did not start: {}",
                    server.describe()
                );
                thread::sleep(Duration::from_millis(2));
            }
        }
        panic!("s_server would not start: {last}")
    }

    /// `openssl s_client` to 127.0.0.1:`port`, trusting the test CA and
    /// checking the name localhost, with the extra `args`. `-quiet` leaves
    /// only received data on stdout; `-no_ign_eof` (after it) makes end of
    /// stdin send close_notify and exit.
    pub fn s_client(port: u16, args: &[&str]) -> Self {
        let connect = format!("127.0.0.1:{port}");
        let mut full = vec![
            "s_client".to_owned(),
            "-connect".to_owned(),
            connect,
            version_flag(args).to_owned(),
            "-CAfile".to_owned(),
            cert_path("ca.pem"),
            "-verify_return_error".to_owned(),
            "-verify_hostname".to_owned(),
            "localhost".to_owned(),
            "-quiet".to_owned(),
            "-no_ign_eof".to_owned(),
        ];
        full.extend(
            args.iter()
                .filter(|a| **a != "-tls1_2")
                .map(|a| (*a).to_owned()),
        );
        Self::spawn(&full)
    }

    /// The process id, for messages.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// `Err` with the process's output if it has exited: for waits on
    /// something the process should still be doing.
    pub fn alive(&mut self) -> Result<(), String> {
        match self.exited() {
            None => Ok(()),
            Some(status) => Err(format!("exited with {status}: {}", self.describe())),
        }
    }

    /// The command line and all output so far.
    pub fn describe(&self) -> String {
        format!(
            "{} {}\n--- stdout ({} bytes, last 2000 shown):\n{}\n--- stderr:\n{}",
            self.program,
            self.args.join(" "),
            self.stdout.len(),
            tail(&self.stdout.text(), 2000),
            self.stderr.text()
        )
    }

    /// Writes `data` to stdin from a thread, so a child that is busy on its
    /// socket cannot deadlock the test on a full pipe.
    pub fn feed(&mut self, data: Vec<u8>) {
        self.wait_fed();
        let mut stdin = self.stdin.take().expect("stdin still open");
        self.feeder = Some(thread::spawn(move || {
            stdin.write_all(&data).ok()?;
            stdin.flush().ok()?;
            Some(stdin)
        }));
    }

    /// Waits until everything fed so far has been taken by the pipe.
    pub fn wait_fed(&mut self) {
        if let Some(feeder) = self.feeder.take() {
            let deadline = Instant::now() + WAIT_LIMIT;
            while !feeder.is_finished() {
                assert!(
                    Instant::now() < deadline,
                    "child did not read its stdin: {}",
                    self.describe()
                );
                thread::sleep(Duration::from_millis(1));
            }
            self.stdin = feeder.join().expect("feeder thread");
        }
    }

    /// Closes stdin (after what was fed): s_client then sends close_notify
    /// and exits.
    pub fn close_stdin(&mut self) {
        self.wait_fed();
        self.stdin = None;
    }

    /// Waits until `stdout` satisfies `done`, failing with the process's
    /// output at the deadline.
    pub fn wait_stdout(&mut self, what: &str, done: impl Fn(&[u8]) -> bool) {
        let deadline = Instant::now() + WAIT_LIMIT;
        while !done(&self.stdout.bytes()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {}",
                self.describe()
            );
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_stderr(&mut self, needle: &str) {
        let deadline = Instant::now() + WAIT_LIMIT;
        while !self.stderr.contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?} on stderr: {}",
                self.describe()
            );
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            if let Some(status) = self.exited() {
                self.join_readers();
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit: {}",
                self.describe()
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills the process (SIGKILL, by its id) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.join_readers();
    }

    fn join_readers(&mut self) {
        // The pipes close with the process, so the readers end.
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for Openssl {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `-tls1_3`, unless the caller asks for TLS 1.2 only: OpenSSL refuses two
/// version flags.
fn version_flag(args: &[&str]) -> &'static str {
    if args.contains(&"-tls1_2") {
        "-tls1_2"
    } else {
        "-tls1_3"
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut at = s.len().saturating_sub(n);
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}
