//! A valid session replayed under fuzzer-chosen conditions, the `session`
//! target: a deterministic client and server complete a handshake through
//! chunked transfers, then carry data both ways under the [`Op`]s of a
//! [`Session`] (writes of any size in complete or partial mode, reads
//! with `read` or `read_in_place` and any destination, transfers of any
//! chunk, KeyUpdates with or without a request), with any outgoing
//! capacity, fragment size, padding and receive limit. With
//! [`Flags::TLS12`] the session is TLS 1.2, and its KeyUpdate and
//! RequestClientAuth ops start renegotiations (RFC 5746) from either
//! side, the server's asking for the client's certificate. Nothing may fail,
//! no call may allocate, and each side must receive exactly the bytes the
//! other side's writes acknowledged, then close cleanly.

use arbitrary::Arbitrary;
use tlspair::record::{MAX_PLAINTEXT, MAX_RECORD_LEN, MIN_SEND_CAPACITY};
use tlspair::{
    Buffers, Connection, Error, Misuse, Padding, RecordConfig, SendBuf, Shutdown, Status, Suite,
    WriteMode, ALL_SUITES,
};

use crate::alloc_count::no_alloc;
use crate::fixtures::{self, Flags, HANDSHAKE_RECV, HANDSHAKE_SEND};

/// The conditions of one replay.
#[derive(Arbitrary, Debug)]
pub struct Session {
    /// Configuration flags of both sides ([`Flags`], low five bits, and
    /// [`Flags::EARLY`]); bit 5 ([`READ_EARLY`]): the server's first call
    /// is `read_early`.
    pub flags: u8,
    /// The one suite the client offers (modulo 3); the rest, with
    /// [`Flags::EARLY`], is how much 0-RTT the client writes (8 bytes a
    /// unit).
    pub suite: u8,
    /// Each side's settings: client first.
    pub sides: [SideConfig; 2],
    /// Transfer chunk sizes, used in turn (1 + c bytes each).
    pub chunks: Vec<u16>,
    /// What happens after the handshake.
    pub ops: Vec<Op>,
}

/// One side's record settings and buffer size.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct SideConfig {
    /// recv_max_fragment_len, clamped to 64..=2^14.
    pub recv_limit: u16,
    /// max_fragment_len, 1..=2^14.
    pub fragment: u16,
    /// Padding: 0 none, 1 to the maximum, else to a multiple of it.
    pub padding: u8,
    /// Send capacity after the handshake: 24 bytes and up.
    pub send: u16,
}

/// One step of the data phase.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    /// Write `len` bytes of the side's stream (or retry the write still
    /// pending), in partial or complete mode.
    Write {
        /// The client writes (else the server).
        client: bool,
        /// Bytes to write.
        len: u16,
        /// Partial mode.
        partial: bool,
    },
    /// Read once.
    Read {
        /// The client reads.
        client: bool,
        /// `read_in_place` + `consume`, else `read`.
        in_place: bool,
        /// Destination length (and most consumed), 1 + dst.
        dst: u16,
    },
    /// Move one chunk from one side's send buffer to the other's receive
    /// buffer.
    Transfer {
        /// From the client (else from the server).
        from_client: bool,
    },
    /// Ask for a KeyUpdate.
    KeyUpdate {
        /// The client updates.
        client: bool,
        /// Ask the peer to update too.
        request_peer: bool,
    },
    /// The server asks for the client's certificate again (TLS 1.3
    /// post-handshake authentication, offered by a client with
    /// [`Flags::CLIENT_AUTH`]); a misuse where it cannot be.
    RequestClientAuth,
}

/// Post-handshake certificate requests a client answers.
const MAX_AUTH_ANSWERS: u8 = u8::MAX;

/// In [`Session::flags`]: the server takes 0-RTT (its first call is
/// `read_early`, until that answers `Done(0)`).
pub const READ_EARLY: u8 = 1 << 5;

static ONE_SUITE: [[&Suite; 1]; 3] = [[ALL_SUITES[0]], [ALL_SUITES[1]], [ALL_SUITES[2]]];

/// With [`Flags::TLS12`], the TLS 1.2 suites the fixtures' ECDSA server
/// can take.
static ONE_TLS12_SUITE: [[&Suite; 1]; 3] = [
    [&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256],
    [&tlspair::ECDHE_ECDSA_AES_256_GCM_SHA384],
    [&tlspair::ECDHE_ECDSA_CHACHA20_POLY1305_SHA256],
];

/// Largest flight room the engine may ask for: every flight byte in its
/// own record (fragment 1), 23 bytes each, for flights of a few KiB.
const MAX_FLIGHT_ROOM: usize = 1 << 18;

impl SideConfig {
    fn record(&self) -> RecordConfig {
        let mut record = RecordConfig::default();
        record.recv_max_fragment_len = usize::from(self.recv_limit).clamp(64, MAX_PLAINTEXT);
        record.max_fragment_len = 1 + usize::from(self.fragment) % MAX_PLAINTEXT;
        record.padding = match self.padding {
            0 => Padding::None,
            1 => Padding::Max,
            m => Padding::ToMultiple(u16::from(m)),
        };
        record
    }

    fn send_capacity(&self) -> usize {
        MIN_SEND_CAPACITY + usize::from(self.send) % MAX_RECORD_LEN
    }
}

/// One side: its connection, buffers, and the two streams.
struct Side<'a> {
    name: &'static str,
    conn: Connection<'a>,
    bufs: Buffers<Vec<u8>, Vec<u8>>,
    /// Bytes this side's writes acknowledged, in order.
    sent: Vec<u8>,
    /// Bytes this side read.
    received: Vec<u8>,
    /// A complete-mode write that answered `WantWrite`.
    pending: Option<Vec<u8>>,
    seed: u8,
}

/// Byte `i` of a side's stream.
fn stream_byte(seed: u8, i: usize) -> u8 {
    let x = u32::try_from(i % (1 << 30)).unwrap_or(0);
    (x.wrapping_mul(2_654_435_761) >> 24) as u8 ^ seed
}

impl Side<'_> {
    fn write(&mut self, len: usize, partial: bool) {
        let data = match self.pending.take() {
            Some(data) => data,
            None => {
                self.conn.set_write_mode(if partial {
                    WriteMode::Partial
                } else {
                    WriteMode::Complete
                });
                let start = self.sent.len();
                (start..start + len)
                    .map(|i| stream_byte(self.seed, i))
                    .collect()
            }
        };
        let (conn, bufs) = (&mut self.conn, &mut self.bufs);
        let result = no_alloc("write", || conn.write(bufs, &data));
        let capacity = self.bufs.send.capacity();
        let partial = self.conn.config().write_mode == WriteMode::Partial;
        match result {
            Ok(Status::Done(n)) => {
                if partial {
                    assert!(n <= data.len() && (n > 0 || data.is_empty()));
                } else {
                    assert_eq!(n, data.len(), "{}: complete write cut short", self.name);
                }
                assert_eq!(self.conn.write_progress(), 0);
                self.sent.extend_from_slice(&data[..n]);
            }
            Ok(Status::WantWrite { needed }) => {
                assert!(
                    needed <= capacity,
                    "{}: WantWrite({needed}) over capacity {capacity}",
                    self.name
                );
                if !partial {
                    assert!(self.conn.write_progress() <= data.len());
                    self.pending = Some(data);
                }
            }
            // A renegotiation waits for the peer (or, behind data not
            // yet read, for a read): the same call again later.
            Ok(Status::WantRead) => {
                assert!(
                    self.conn.is_renegotiating(),
                    "{}: WantRead from an established write",
                    self.name
                );
                if !partial {
                    self.pending = Some(data);
                }
            }
            Err(Error::Misuse(Misuse::PlaintextUnread { pending })) => {
                assert!(pending > 0 && pending == self.conn.pending_plaintext());
                if !partial {
                    self.pending = Some(data);
                }
            }
            // A queued record larger than the whole outgoing view (a
            // post-handshake CertificateRequest): nothing of `data` was
            // taken; the embedder's remedy is a larger view, then the
            // same call again.
            Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => {
                self.grow(needed, capacity);
                if !partial {
                    self.pending = Some(data);
                }
            }
            other => panic!("{}: write answered {other:?}", self.name),
        }
    }

    /// Starts a TLS 1.2 renegotiation from this side (`client_auth`: a
    /// server's asking for the client's certificate); refused where one
    /// cannot start, which changes nothing.
    fn renegotiate(&mut self, client_auth: bool) {
        let (conn, bufs) = (&mut self.conn, &mut self.bufs);
        let before = bufs.send.len();
        let capacity = bufs.send.capacity();
        let result = no_alloc("renegotiate", || {
            conn.renegotiate(bufs, fixtures::now(), client_auth)
        });
        match result {
            Ok(Status::Done(())) => {}
            // A ClientHello larger than the whole outgoing view: the
            // embedder's remedy, then the same call again.
            Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => {
                self.grow(needed, capacity);
                self.renegotiate(client_auth);
            }
            Ok(Status::WantWrite { .. }) | Err(Error::Misuse(Misuse::NoRenegotiation)) => {
                assert_eq!(
                    self.bufs.send.len(),
                    before,
                    "{}: a refusal wrote",
                    self.name
                );
            }
            other => panic!("{}: renegotiate answered {other:?}", self.name),
        }
    }

    /// After `SendBufferTooSmall { needed }` (only ever on an empty view
    /// of `capacity` bytes): the embedder's remedy, a larger view.
    fn grow(&mut self, needed: usize, capacity: usize) {
        assert!(
            needed > capacity && self.bufs.send.is_empty(),
            "{}: SendBufferTooSmall({needed}) with capacity {capacity}",
            self.name
        );
        self.bufs.send = SendBuf::new(vec![0; needed]);
    }

    /// Writes what the engine queued (a CertificateRequest a read could
    /// not place) with `handshake`, growing a view it does not fit.
    fn flush(&mut self) {
        let (conn, bufs) = (&mut self.conn, &mut self.bufs);
        let capacity = bufs.send.capacity();
        match no_alloc("handshake", || conn.handshake(bufs)) {
            Ok(Status::Done(())) | Ok(Status::WantWrite { .. }) => {}
            // A renegotiation that waits for the peer, or for a read.
            Ok(Status::WantRead) if self.conn.is_renegotiating() => {}
            Err(Error::Misuse(Misuse::PlaintextUnread { .. })) => {
                assert!(self.conn.pending_plaintext() > 0);
            }
            Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => {
                self.grow(needed, capacity);
            }
            other => panic!("{}: handshake answered {other:?}", self.name),
        }
    }

    /// One read; returns whether it delivered anything (or grew the
    /// outgoing view, so the read must be repeated).
    fn read(&mut self, in_place: bool, dst: usize) -> bool {
        let (conn, bufs) = (&mut self.conn, &mut self.bufs);
        let capacity = bufs.send.capacity();
        let result = if in_place {
            let lent = no_alloc("read_in_place", move || conn.read_in_place(bufs));
            let lent = match lent {
                Ok(Status::Done(plain)) => {
                    let n = plain.len().min(dst);
                    self.received.extend_from_slice(&plain[..n]);
                    Ok(Status::Done(n))
                }
                Ok(other) => Ok(other.map(|_| 0)),
                Err(e) => Err(e),
            };
            if let Ok(Status::Done(n)) = lent {
                let (conn, bufs) = (&mut self.conn, &mut self.bufs);
                no_alloc("consume", || conn.consume(bufs, n));
            }
            lent
        } else {
            let mut buf = vec![0u8; dst];
            let result = no_alloc("read", || conn.read(bufs, &mut buf));
            if let Ok(Status::Done(n)) = result {
                self.received.extend_from_slice(&buf[..n]);
            }
            result
        };
        match result {
            Ok(Status::Done(n)) => {
                assert!(n > 0, "{}: read delivered nothing", self.name);
                true
            }
            Ok(Status::WantRead) => {
                assert!(
                    self.bufs.recv.len() < self.bufs.recv.capacity(),
                    "{}: stall: WantRead with a full receive buffer",
                    self.name
                );
                false
            }
            Ok(Status::WantWrite { needed }) => {
                assert!(
                    needed <= capacity,
                    "{}: WantWrite({needed}) over capacity {capacity}",
                    self.name
                );
                false
            }
            // A flight larger than the whole outgoing view (a client's
            // answer to a post-handshake request): the embedder's remedy
            // is a larger view.
            Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => {
                self.grow(needed, capacity);
                // Then the same call again.
                true
            }
            other => panic!("{}: read answered {other:?}", self.name),
        }
    }
}

/// The chunk sizes of a session, in turn.
struct Chunks<'a> {
    sizes: &'a [u16],
    next: usize,
}

impl Chunks<'_> {
    fn next(&mut self) -> usize {
        if self.sizes.is_empty() {
            return usize::MAX;
        }
        let c = self.sizes[self.next % self.sizes.len()];
        self.next += 1;
        1 + usize::from(c)
    }
}

/// Moves up to `max` pending bytes of `from` into `to`; returns the count.
fn transfer(from: &mut Side<'_>, to: &mut Side<'_>, max: usize) -> usize {
    let pending = from.bufs.send.pending();
    let n = pending.len().min(max);
    let moved = to.bufs.recv.fill(&pending[..n]);
    from.bufs.send.consume(moved);
    moved
}

/// Replays one session.
pub fn run(session: &Session) {
    // TLS 1.2 sessions resume nothing and send no 0-RTT: those bits go.
    let tls12 = session.flags & Flags::TLS12 != 0;
    let mask = if tls12 {
        (0x1f & !Flags::RESUME) | Flags::TLS12
    } else {
        0x1f | Flags::EARLY
    };
    let flags = Flags(session.flags & mask);
    let [client_side, server_side] = session.sides;
    let mut cc = fixtures::client_config(flags, client_side.record());
    cc.suites = if tls12 {
        &ONE_TLS12_SUITE[usize::from(session.suite) % ONE_TLS12_SUITE.len()]
    } else {
        &ONE_SUITE[usize::from(session.suite) % ONE_SUITE.len()]
    };
    // A client with a certificate also answers post-handshake requests,
    // and either side performs the renegotiations the other starts.
    cc.post_handshake_auth = MAX_AUTH_ANSWERS;
    cc.renegotiations = u8::MAX;
    let mut sc = fixtures::server_config(flags, server_side.record());
    sc.renegotiations = u8::MAX;
    // TLS 1.2 client authentication signs the messages: storage lent,
    // made before the connections that borrow it.
    let mut transcripts = [[0u8; fixtures::TRANSCRIPT_LEN]; 2];
    let [client_transcript, server_transcript] = &mut transcripts;
    let side = |name, conn, seed| Side {
        name,
        conn,
        bufs: Buffers::new(vec![0; HANDSHAKE_RECV], vec![0; HANDSHAKE_SEND]),
        sent: Vec::new(),
        received: Vec::new(),
        pending: None,
        seed,
    };
    let mut c = side("client", fixtures::client(&cc, flags), 0x00);
    let mut s = side("server", fixtures::server(&sc), 0xff);
    if tls12 {
        c.conn.keep_tls12_transcript(&mut client_transcript[..]);
        s.conn.keep_tls12_transcript(&mut server_transcript[..]);
    }
    let mut chunks = Chunks {
        sizes: &session.chunks,
        next: 0,
    };

    // 0-RTT before the handshake: a server whose first call is not
    // `read_early` declines it, and none of it may reach that server;
    // one that reads early takes exactly what the client sealed, or
    // nothing, and both sides must say the same.
    let mut reading_early = session.flags & READ_EARLY != 0 && !tls12;
    let mut early_got = Vec::new();
    let mut early = 0;
    let mut early_offered = false;
    if flags.0 & Flags::EARLY != 0 {
        let data = [0x0e; 8 * 64];
        let len = 8 * usize::from(session.suite >> 2);
        let (conn, bufs) = (&mut c.conn, &mut c.bufs);
        match no_alloc("write_early", || conn.write_early(bufs, &data[..len])) {
            Ok(Status::Done(n)) => {
                assert!(n <= len && n <= fixtures::EARLY_ALLOWANCE as usize);
                early = n;
            }
            // A padded record larger than the room the ClientHello left.
            Ok(Status::WantWrite { needed }) => {
                assert!(needed <= c.bufs.send.capacity(), "WantWrite({needed})");
            }
            Err(Error::Misuse(Misuse::NoEarlyData)) => {
                assert!(c.bufs.send.is_empty(), "a misuse that wrote");
            }
            other => panic!("write_early: {other:?}"),
        }
        early_offered = c.conn.early_data() == tlspair::EarlyData::Offered;
    }

    // The handshake, through chunked transfers.
    while c.conn.is_handshaking() || s.conn.is_handshaking() {
        let sizes = |c: &Side<'_>, s: &Side<'_>| {
            [c, s].map(|side| (side.bufs.send.len(), side.bufs.send.capacity()))
        };
        let before = (sizes(&c, &s), early_got.len());
        for side in [&mut c, &mut s] {
            if side.conn.is_handshaking() || reading_early && side.name == "server" {
                let (conn, bufs) = (&mut side.conn, &mut side.bufs);
                let status = if reading_early && side.name == "server" {
                    let mut buf = [0u8; 64];
                    match no_alloc("read_early", || conn.read_early(bufs, &mut buf)) {
                        Ok(Status::Done(0)) => {
                            reading_early = false;
                            Ok(Status::Done(()))
                        }
                        Ok(Status::Done(n)) => {
                            early_got.extend_from_slice(&buf[..n]);
                            Ok(Status::Done(()))
                        }
                        other => other.map(|s| s.map(|_| ())),
                    }
                } else {
                    no_alloc("handshake", || conn.handshake(bufs))
                };
                match status {
                    Ok(_) => {}
                    // A flight must fit the send buffer whole, and with
                    // tiny fragments it takes a record per byte or two:
                    // the caller gives the room the engine says it needs.
                    Err(Error::Misuse(Misuse::SendBufferTooSmall { needed }))
                        if side.bufs.send.is_empty() && needed <= MAX_FLIGHT_ROOM =>
                    {
                        side.bufs.send = SendBuf::new(vec![0; needed]);
                    }
                    Err(e) => panic!("{}: handshake failed: {e:?}", side.name),
                }
            }
        }
        let n = chunks.next();
        let mut moved = transfer(&mut c, &mut s, n);
        let n = chunks.next();
        moved += transfer(&mut s, &mut c, n);
        // Every round must move bytes or produce some: else a stall.
        // (A TLS 1.2 client's last step reads the server's Finished and
        // answers nothing.)
        let done = !c.conn.is_handshaking() && !s.conn.is_handshaking();
        assert!(
            moved > 0 || done || (sizes(&c, &s), early_got.len()) != before,
            "handshake stuck"
        );
    }
    // The early data went on after the handshake's end: it ends at once.
    if reading_early {
        let mut buf = [0u8; 64];
        let (conn, bufs) = (&mut s.conn, &mut s.bufs);
        let end = no_alloc("read_early", || conn.read_early(bufs, &mut buf));
        assert_eq!(end, Ok(Status::Done(0)), "early data after the handshake");
    }
    // Resumption happens only when offered, and whenever the ticket's
    // suite is the one offered.
    let resumed = c.conn.negotiated().expect("handshake done").resumed;
    let offered = flags.0 & Flags::RESUME != 0;
    // (ALPN or client authentication may make the server decline it.)
    let plain = flags.0 & (Flags::ALPN | Flags::CLIENT_AUTH | Flags::ANONYMOUS_OK) == 0;
    let same_suite =
        ALL_SUITES[usize::from(session.suite) % 3].id == fixtures::ticket().resumption().suite;
    assert!(!resumed || offered, "resumed without a ticket");
    assert_eq!(c.conn.early_data_sent(), early);
    let taken = s.conn.early_data() == tlspair::EarlyData::Accepted;
    let early_expected = match (early_offered, taken) {
        (true, true) => tlspair::EarlyData::Accepted,
        (true, false) => tlspair::EarlyData::Rejected,
        (false, _) => tlspair::EarlyData::NotOffered,
    };
    assert_eq!(c.conn.early_data(), early_expected, "both sides agree");
    assert!(!taken || session.flags & READ_EARLY != 0, "taken unasked");
    let sealed = &[0x0e; 8 * 64][..if taken { early } else { 0 }];
    assert_eq!(
        early_got, sealed,
        "early data delivered whole, or not at all"
    );
    assert_eq!(s.conn.early_data_sent(), early_got.len());
    assert!(
        resumed || !(offered && same_suite && plain),
        "ticket refused"
    );

    // Hand everything over, then switch to the session's send capacities:
    // the connection keeps no hold on its buffers between calls.
    while !c.bufs.send.is_empty() || !s.bufs.send.is_empty() {
        assert!(transfer(&mut c, &mut s, usize::MAX) + transfer(&mut s, &mut c, usize::MAX) > 0);
    }
    // (TLS 1.2's smallest record takes more room than TLS 1.3's.)
    let least = if tls12 {
        tlspair::record::TLS12_MIN_SEND_CAPACITY
    } else {
        MIN_SEND_CAPACITY
    };
    c.bufs.send = SendBuf::new(vec![0; client_side.send_capacity().max(least)]);
    s.bufs.send = SendBuf::new(vec![0; server_side.send_capacity().max(least)]);

    let mut auth_requests = 0u8;
    for op in &session.ops {
        match *op {
            Op::Write {
                client,
                len,
                partial,
            } => {
                let side = if client { &mut c } else { &mut s };
                side.write(usize::from(len), partial);
            }
            Op::Read {
                client,
                in_place,
                dst,
            } => {
                let side = if client { &mut c } else { &mut s };
                side.read(in_place, 1 + usize::from(dst));
            }
            Op::Transfer { from_client } => {
                let n = chunks.next();
                if from_client {
                    transfer(&mut c, &mut s, n);
                } else {
                    transfer(&mut s, &mut c, n);
                }
            }
            // In TLS 1.2, a renegotiation that side starts instead.
            Op::KeyUpdate { client, .. } if tls12 => {
                let side = if client { &mut c } else { &mut s };
                side.renegotiate(false);
            }
            Op::KeyUpdate {
                client,
                request_peer,
            } => {
                let side = if client { &mut c } else { &mut s };
                side.conn.key_update(request_peer);
            }
            // In TLS 1.2, a renegotiation that asks for the client's
            // certificate (with a client verifier).
            Op::RequestClientAuth if tls12 => {
                let ask = flags.0 & (Flags::CLIENT_AUTH | Flags::ANONYMOUS_OK) != 0;
                s.renegotiate(ask);
            }
            // Within what the client answers (its limit ends the
            // connection, which a session must not).
            Op::RequestClientAuth if auth_requests < MAX_AUTH_ANSWERS => {
                match s.conn.request_client_auth(fixtures::now()) {
                    Ok(()) => auth_requests += 1,
                    Err(Error::Misuse(
                        Misuse::NoPostHandshakeAuth | Misuse::TooManyAuthRequests,
                    )) => {}
                    other => panic!("server: request_client_auth answered {other:?}"),
                }
            }
            Op::RequestClientAuth => {}
        }
    }

    // Finish every write, move and read everything; every round must make
    // progress (seal, move or deliver bytes) until all is quiet.
    loop {
        let progress = |c: &Side<'_>, s: &Side<'_>| {
            [c, s].map(|side| {
                (
                    side.sent.len() + side.conn.write_progress(),
                    side.received.len(),
                    side.bufs.send.len(),
                    side.bufs.send.capacity(),
                )
            })
        };
        let before = progress(&c, &s);
        for side in [&mut c, &mut s] {
            if side.pending.is_some() {
                side.write(0, false);
            } else if side.conn.wants_write(&side.bufs) {
                side.flush();
            }
        }
        let moved = transfer(&mut c, &mut s, usize::MAX) + transfer(&mut s, &mut c, usize::MAX);
        for side in [&mut c, &mut s] {
            while side.read(false, 4096) {}
        }
        // Quiet: nothing pending, nothing to send, nothing queued (a
        // request that found no room).
        let idle = [&c, &s]
            .iter()
            .all(|side| side.pending.is_none() && !side.conn.wants_write(&side.bufs));
        if idle && moved == 0 {
            break;
        }
        assert!(moved > 0 || progress(&c, &s) != before, "flush stuck");
    }
    assert_eq!(s.received, c.sent, "client-to-server stream differs");
    assert_eq!(c.received, s.sent, "server-to-client stream differs");
    assert_eq!(s.conn.client_auth_pending(), 0, "a request went unanswered");

    // Close both ways.
    close(&mut c, &mut s);
    close(&mut s, &mut c);
    for side in [&mut c, &mut s] {
        let (conn, bufs) = (&mut side.conn, &mut side.bufs);
        let status = no_alloc("shutdown", || conn.shutdown(bufs));
        assert_eq!(
            status,
            Ok(Status::Done(Shutdown::Complete)),
            "{}",
            side.name
        );
    }
}

/// `a` sends its close_notify; `b` must read it as `Closed`.
fn close(a: &mut Side<'_>, b: &mut Side<'_>) {
    let (conn, bufs) = (&mut a.conn, &mut a.bufs);
    let status = no_alloc("shutdown", || conn.shutdown(bufs));
    assert!(
        matches!(status, Ok(Status::Done(_))),
        "{}: shutdown answered {status:?}",
        a.name
    );
    transfer(a, b, usize::MAX);
    let (conn, bufs) = (&mut b.conn, &mut b.bufs);
    let got = no_alloc("read", || conn.read(bufs, &mut [0u8; 16]));
    assert_eq!(got, Ok(Status::Closed), "{}: close_notify read as", b.name);
}
