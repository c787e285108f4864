//! Hostile bytes into a whole client or server [`Connection`], the `server`
//! and `client` targets.
//!
//! An input is an [`EnginePlan`] (the first [`ENGINE_PLAN_LEN`] bytes)
//! followed by the bytes the peer "sent", which the plan's chunk sizes cut
//! into transport deliveries. Seeds are real peers' bytes recorded by
//! `make_seeds` with the same deterministic randomness, so the fuzzer
//! starts from sessions that get through the handshake and mutates them.
//!
//! After every engine call the [`Driver`] checks:
//!
//! - memory is fixed: the call made no heap allocation;
//! - errors are sticky: once a call fails, `error()` keeps that error and
//!   every later call returns it; no `Internal` error (an engine bug), no
//!   misuse but a send buffer smaller than a flight, which the engine
//!   reports with the size it needs;
//! - `WantWrite { needed }` is at most the send capacity, more than the
//!   free room, and never comes from a call that started with an empty
//!   send buffer and added nothing to it (a drain must make progress);
//! - never a stall: a `WantRead` always leaves room to receive, and never
//!   comes at end of stream; `Closed` is sticky and no plaintext follows
//!   it; `read` delivers `0 < n <= dst.len()`;
//! - at end of stream, the connection ends (an error or `Closed`) and says
//!   the same again after a drain, with no alert left pending.

use tlspair::record::{max_record_len, MAX_PLAINTEXT};
use tlspair::{Buffers, Connection, Error, Misuse, RecordConfig, Status};

use crate::alloc_count::{no_alloc, no_alloc_unless};

/// A call that failed on a certificate the verifier refused: webpki
/// allocates the context of a wrong-purpose error (EKU) while it builds
/// the path, whichever error the path ends with (see `no_alloc_unless`).
fn refused_certificate<T>(result: &Result<T, Error>) -> bool {
    matches!(result, Err(Error::Certificate(_)))
}
use crate::fixtures::{self, Flags, HANDSHAKE_RECV};

/// Bytes of the plan at the front of every engine input.
pub const ENGINE_PLAN_LEN: usize = 10;

/// How one engine input is run.
///
/// ```text
/// 0      Flags (bits 0-4: configuration, see fixtures::Flags), and
///        bit 5 IN_PLACE_FIRST, bit 6 HANDSHAKE_CALLS, bit 7 EAGER_DRAIN
/// 1..5   four chunk-size selectors, used in turn: 1 + c^2 bytes each
/// 5      send capacity selector: 1024 + 16 s bytes
/// 6      read destination selector: 1 + d^2 bytes
/// 7..9   receive limit (recv_max_fragment_len), u16 LE, clamped 64..=2^14
/// 9      extra receive capacity
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnginePlan {
    /// Configuration flags and driving style.
    pub flags: u8,
    /// Chunk-size selectors.
    pub chunks: [u8; 4],
    /// Send capacity selector.
    pub send: u8,
    /// Read destination selector.
    pub dst: u8,
    /// Receive limit.
    pub recv_limit: u16,
    /// Receive capacity above the documented minimum.
    pub recv_extra: u8,
}

impl EnginePlan {
    /// The first call of the data phase is `read_in_place`.
    pub const IN_PLACE_FIRST: u8 = 1 << 5;
    /// While the handshake runs, call `handshake` rather than `read`.
    pub const HANDSHAKE_CALLS: u8 = 1 << 6;
    /// Drain the send buffer after every call, not only on `WantWrite`.
    pub const EAGER_DRAIN: u8 = 1 << 7;

    /// Splits `data` into its plan and body; `None` if too short.
    pub fn parse(data: &[u8]) -> Option<(Self, &[u8])> {
        let (plan, body) = data.split_first_chunk::<ENGINE_PLAN_LEN>()?;
        let [flags, c0, c1, c2, c3, send, dst, l0, l1, recv_extra] = *plan;
        let plan = Self {
            flags,
            chunks: [c0, c1, c2, c3],
            send,
            dst,
            recv_limit: u16::from_le_bytes([l0, l1]),
            recv_extra,
        };
        Some((plan, body))
    }

    /// The wire form, for seeds.
    pub fn to_bytes(self) -> [u8; ENGINE_PLAN_LEN] {
        let [c0, c1, c2, c3] = self.chunks;
        let [l0, l1] = self.recv_limit.to_le_bytes();
        [
            self.flags,
            c0,
            c1,
            c2,
            c3,
            self.send,
            self.dst,
            l0,
            l1,
            self.recv_extra,
        ]
    }

    /// The configuration flags both sides are built with.
    pub fn config_flags(&self) -> Flags {
        Flags(self.flags & 0x1f)
    }

    /// Record settings: the receive limit (advertised as
    /// record_size_limit, so it is part of the recorded handshake).
    pub fn record(&self) -> RecordConfig {
        let mut record = RecordConfig::default();
        record.recv_max_fragment_len = usize::from(self.recv_limit).clamp(64, MAX_PLAINTEXT);
        record
    }

    /// The `i`-th chunk length.
    pub fn chunk_len(&self, i: usize) -> usize {
        let c = usize::from(self.chunks[i % self.chunks.len()]);
        1 + c * c
    }

    /// Send capacity: from below a server's first flight (which the engine
    /// must then refuse as too small, saying how much it needs) to several
    /// flights.
    pub fn send_capacity(&self) -> usize {
        1024 + 16 * usize::from(self.send)
    }

    /// With [`Flags::HYBRID`], a send view that holds the hybrid's larger
    /// first flight (a ClientHello of about 1,450 bytes, a server flight
    /// of about 1,850): at least 1024 + 16 × 64.
    fn with_room_for(mut self, extra: u8) -> Self {
        if extra & Flags::HYBRID != 0 {
            self.send = self.send.max(64);
        }
        self
    }

    /// Length of the `read` destination, and the most consumed per
    /// `read_in_place`.
    pub fn dst_len(&self) -> usize {
        1 + usize::from(self.dst) * usize::from(self.dst)
    }

    /// Receive capacity: what the handshake needs (a message of the
    /// default maximum plus a record), which also holds any record the
    /// limit allows, plus a little.
    pub fn recv_capacity(&self) -> usize {
        HANDSHAKE_RECV.max(max_record_len(self.record().recv_max_fragment_len))
            + usize::from(self.recv_extra)
    }
}

/// How a run ended, for the seed generator to check that its seeds go
/// all the way through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the handshake completed.
    pub handshake_done: bool,
    /// Plaintext bytes delivered.
    pub delivered: usize,
    /// Whether the peer's close_notify was read.
    pub closed: bool,
    /// The fatal error, if any.
    pub error: Option<Error>,
}

/// Runs a server on `data` (the client's bytes).
pub fn run_server(data: &[u8]) -> Option<Outcome> {
    run_server_with(data, 0)
}

/// [`run_server`] with the post-quantum hybrid first on both sides
/// ([`Flags::HYBRID`]).
pub fn run_server_hybrid(data: &[u8]) -> Option<Outcome> {
    run_server_with(data, Flags::HYBRID)
}

/// [`run_server`] with both sides speaking TLS 1.2 only
/// ([`Flags::TLS12`]).
pub fn run_server_tls12(data: &[u8]) -> Option<Outcome> {
    run_server_with(data, Flags::TLS12)
}

fn run_server_with(data: &[u8], extra: u8) -> Option<Outcome> {
    let (plan, body) = EnginePlan::parse(data)?;
    let plan = plan.with_room_for(extra);
    let flags = Flags(plan.config_flags().0 | extra);
    let config = fixtures::server_config(flags, plan.record());
    let mut transcript = [0u8; fixtures::TRANSCRIPT_LEN];
    let mut conn = fixtures::server(&config);
    conn.keep_tls12_transcript(&mut transcript[..]);
    let mut driver = Driver::new(conn, plan);
    driver.feed(body);
    driver.finish();
    Some(driver.outcome())
}

/// Runs a client that has sent its ClientHello on `data` (the server's
/// bytes).
pub fn run_client(data: &[u8]) -> Option<Outcome> {
    run_client_with(data, 0)
}

/// [`run_client`] with the post-quantum hybrid first on both sides.
pub fn run_client_hybrid(data: &[u8]) -> Option<Outcome> {
    run_client_with(data, Flags::HYBRID)
}

/// [`run_client`] with both sides speaking TLS 1.2 only.
pub fn run_client_tls12(data: &[u8]) -> Option<Outcome> {
    run_client_with(data, Flags::TLS12)
}

fn run_client_with(data: &[u8], extra: u8) -> Option<Outcome> {
    let (plan, body) = EnginePlan::parse(data)?;
    let plan = plan.with_room_for(extra);
    let flags = Flags(plan.config_flags().0 | extra);
    let config = fixtures::client_config(flags, plan.record());
    let mut transcript = [0u8; fixtures::TRANSCRIPT_LEN];
    let mut conn = fixtures::client(&config, flags);
    conn.keep_tls12_transcript(&mut transcript[..]);
    let mut driver = Driver::new(conn, plan);
    // The ClientHello goes out before anything is received.
    let first = driver.call();
    assert_eq!(first, Ok(Status::WantRead), "client's first call");
    assert!(!driver.bufs.send.is_empty(), "no ClientHello");
    driver.drain();
    driver.feed(body);
    driver.finish();
    Some(driver.outcome())
}

/// Which call a step makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Handshake,
    Read,
    ReadInPlace,
}

/// A connection under test with its buffers and what it has said so far.
pub struct Driver<'a> {
    plan: EnginePlan,
    conn: Connection<'a>,
    bufs: Buffers<Vec<u8>, Vec<u8>>,
    dst: Vec<u8>,
    /// Whether the next data call is `read_in_place`.
    in_place: bool,
    /// The fatal error, once there is one.
    error: Option<Error>,
    closed: bool,
    /// The send buffer cannot hold a flight: the caller's mistake, which
    /// the engine reported; nothing more can happen.
    too_small: bool,
    /// Plaintext bytes delivered.
    delivered: usize,
    /// Our close_notify had been sent before the current call.
    closed_before: bool,
    /// A call answered `Established` (once per handshake at most).
    established_said: bool,
}

/// Calls without a wait or an end before the driver calls it a livelock.
const MAX_CALLS_PER_DRIVE: usize = 100_000;

impl<'a> Driver<'a> {
    /// Wraps `conn` with the buffers `plan` sizes.
    pub fn new(conn: Connection<'a>, plan: EnginePlan) -> Self {
        Self {
            plan,
            conn,
            bufs: Buffers::new(vec![0; plan.recv_capacity()], vec![0; plan.send_capacity()]),
            dst: vec![0; plan.dst_len()],
            in_place: plan.flags & EnginePlan::IN_PLACE_FIRST != 0,
            error: None,
            closed: false,
            too_small: false,
            delivered: 0,
            closed_before: false,
            established_said: false,
        }
    }

    /// How the run ended.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            handshake_done: self.conn.negotiated().is_some(),
            delivered: self.delivered,
            closed: self.closed,
            error: self.error,
        }
    }

    /// Whether the connection can do nothing more.
    fn ended(&self) -> bool {
        self.error.is_some() || self.closed || self.too_small
    }

    /// Feeds `wire` in the plan's chunks, driving the engine after each.
    pub fn feed(&mut self, wire: &[u8]) {
        let mut rest = wire;
        let mut i = 0;
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(self.plan.chunk_len(i).min(rest.len()));
            rest = after;
            i += 1;
            let mut chunk = chunk;
            while !chunk.is_empty() {
                let n = self.bufs.recv.fill(chunk);
                if n == 0 {
                    // The last call left the buffer full: fine for a
                    // connection that stopped, a stall otherwise.
                    assert!(
                        self.ended(),
                        "receive buffer full ({} of {}) and the engine wants more",
                        self.bufs.recv.len(),
                        self.bufs.recv.capacity(),
                    );
                    return;
                }
                chunk = &chunk[n..];
                let _ = self.drive();
                if self.too_small {
                    return;
                }
            }
        }
    }

    /// Calls until the engine waits or ends, draining the send buffer when
    /// it asks, as a transport would.
    pub fn drive(&mut self) -> Result<Status<usize>, Error> {
        for _ in 0..MAX_CALLS_PER_DRIVE {
            let result = self.call();
            if self.plan.flags & EnginePlan::EAGER_DRAIN != 0 {
                self.drain();
            }
            match result {
                Ok(Status::Done(_)) => {}
                Ok(Status::WantWrite { .. }) => self.drain(),
                other => return other,
            }
        }
        panic!("engine neither waits nor ends after {MAX_CALLS_PER_DRIVE} calls");
    }

    /// Sends everything pending (to nowhere: the peer is the fuzzer).
    pub fn drain(&mut self) {
        let n = self.bufs.send.len();
        self.bufs.send.consume(n);
    }

    /// One engine call, with the checks every call must pass.
    pub fn call(&mut self) -> Result<Status<usize>, Error> {
        let kind =
            if self.conn.is_handshaking() && self.plan.flags & EnginePlan::HANDSHAKE_CALLS != 0 {
                Call::Handshake
            } else if self.in_place {
                Call::ReadInPlace
            } else {
                Call::Read
            };
        if kind != Call::Handshake {
            self.in_place = !self.in_place;
        }
        let error_before = self.conn.error();
        self.closed_before = self.conn.close_sent();
        let sent_before = self.bufs.send.len();
        let was_handshaking = self.conn.is_handshaking();

        let conn = &mut self.conn;
        let bufs = &mut self.bufs;
        let dst = &mut self.dst[..];
        let result = match kind {
            Call::Handshake => {
                no_alloc_unless("handshake", || conn.handshake(bufs), refused_certificate)
                    .map(|s| s.map(|()| 0))
            }
            Call::Read => {
                let result = no_alloc_unless("read", || conn.read(bufs, dst), refused_certificate);
                if let Ok(Status::Done(n)) = result {
                    assert!(n > 0 && n <= dst.len(), "read returned Done({n})");
                }
                result
            }
            Call::ReadInPlace => {
                let max = dst.len();
                let result = no_alloc_unless(
                    "read_in_place",
                    || match conn.read_in_place(bufs) {
                        Ok(status) => Ok(status.map(|plain: &mut [u8]| plain.len())),
                        Err(e) => Err(e),
                    },
                    refused_certificate,
                );
                if let Ok(Status::Done(n)) = result {
                    assert!(n > 0, "read_in_place lent nothing");
                    let used = n.min(max);
                    no_alloc("consume", || conn.consume(bufs, used));
                    Ok(Status::Done(used))
                } else {
                    result
                }
            }
        };
        self.check(kind, result, error_before, sent_before, was_handshaking);
        result
    }

    fn check(
        &mut self,
        kind: Call,
        result: Result<Status<usize>, Error>,
        error_before: Option<Error>,
        sent_before: usize,
        was_handshaking: bool,
    ) {
        let capacity = self.bufs.send.capacity();
        match result {
            Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => {
                // The only misuse a valid caller meets: a flight that does
                // not fit the whole send buffer.
                assert!(
                    needed > capacity,
                    "SendBufferTooSmall({needed}) with capacity {capacity}"
                );
                assert!(was_handshaking, "SendBufferTooSmall after the handshake");
                assert_eq!(
                    self.bufs.send.len(),
                    sent_before,
                    "misuse changed the buffer"
                );
                self.too_small = true;
            }
            Err(Error::Internal(what)) => panic!("internal error: {what}"),
            Err(e) => {
                assert!(e.is_fatal(), "misuse from a valid call: {e:?}");
                assert_eq!(self.conn.error(), Some(e), "returned error not recorded");
                assert!(!self.conn.is_handshaking(), "handshake goes on after {e:?}");
                // Liveness: a new failure has its alert on the wire or
                // waiting for room (none follows our own close_notify).
                if error_before.is_none() && e.alert().is_some() && !self.closed_before {
                    assert!(
                        self.bufs.send.len() > sent_before || self.conn.alert_pending(),
                        "{e:?} without its alert"
                    );
                }
            }
            Ok(Status::WantWrite { needed }) => {
                assert!(
                    needed <= capacity,
                    "WantWrite({needed}) over capacity {capacity}"
                );
                let free = capacity - self.bufs.send.len();
                assert!(needed > free, "WantWrite({needed}) with {free} bytes free");
                assert!(
                    sent_before > 0 || !self.bufs.send.is_empty(),
                    "WantWrite({needed}) from an empty send buffer, nothing written"
                );
            }
            Ok(Status::WantRead) => {
                assert!(!self.bufs.recv.is_eof(), "WantRead at end of stream");
                // Liveness: waiting for bytes there is room for, never a
                // silent stall on a full view.
                assert!(
                    self.bufs.recv.capacity() > self.bufs.recv.len(),
                    "WantRead with a full receive view ({} bytes)",
                    self.bufs.recv.len()
                );
            }
            Ok(Status::Closed) => {
                assert_ne!(kind, Call::Handshake, "handshake returned Closed");
                self.closed = true;
            }
            Ok(Status::Done(n)) => {
                assert!(!self.closed, "Done after Closed");
                if kind == Call::Handshake {
                    assert!(
                        !self.conn.is_handshaking(),
                        "handshake Done while handshaking"
                    );
                } else {
                    self.delivered += n;
                    assert!(
                        !self.conn.is_handshaking(),
                        "plaintext delivered during the handshake"
                    );
                }
            }
            // Once, from the data call that completed the handshake, which
            // did nothing more.
            Ok(Status::Established) => {
                assert_ne!(kind, Call::Handshake, "handshake() answered Established");
                assert!(
                    was_handshaking && !self.conn.is_handshaking(),
                    "Established from a call that did not complete the handshake"
                );
                assert!(!self.established_said, "Established twice");
                self.established_said = true;
            }
            // The fixtures' keys sign at once.
            Ok(other) => panic!("{other:?} without a pending signer"),
        }
        crate::check_sticky(
            &self.conn,
            result,
            self.closed,
            error_before,
            &mut self.error,
        );
        if !self.conn.is_handshaking() && self.error.is_none() {
            assert!(
                self.conn.negotiated().is_some(),
                "handshake over without a result"
            );
        }
    }

    /// Ends the stream and checks that the connection ends, the same way
    /// twice, with its alert out.
    pub fn finish(&mut self) {
        if self.too_small {
            return;
        }
        self.bufs.recv.set_eof();
        let last = self.drive();
        assert!(
            matches!(last, Err(_) | Ok(Status::Closed)),
            "end of stream read as {last:?}"
        );
        if self.too_small {
            return;
        }
        self.drain();
        let again = self.drive();
        assert_eq!(again, last, "outcome changed at end of stream");
        assert!(
            !self.conn.alert_pending(),
            "alert still pending with an empty send buffer"
        );
        assert!(
            self.bufs.send.len() >= tlspair::record::HEADER_LEN + 2 || self.bufs.send.is_empty(),
            "a partial record in the send buffer"
        );
    }
}
