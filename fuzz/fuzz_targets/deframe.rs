//! Hostile bytes into the receive side: `record::deframe` on its own, then a
//! server `Connection` fed the bytes in chunks, alternating `read` and
//! `read_in_place` + `consume`, with the engine's contract checked after
//! every call:
//!
//! - no panic, and no stall: a live connection always makes room in a
//!   receive buffer of the size its configuration asks for;
//! - errors are sticky: once a call fails, `error()` never changes and
//!   every later call returns that error;
//! - `WantWrite { needed }` only when `needed` bytes are not free, and never
//!   more than the send capacity;
//! - reading adds to the send buffer only KeyUpdate replies and one 24-byte
//!   alert record, once, after an error that has an alert; the alert goes
//!   out at once when there is room, else on the first call after the
//!   caller drains the buffer;
//! - the plaintext delivered is never more than was fed, and with sealed
//!   records it is exactly what the RFC says they carry;
//! - what the server sent opens, at its peer, as the pre-written data and
//!   that error's alert.
//!
//! The input format is in `tlspair_fuzz` (fuzz/src/lib.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tlspair::record::{
    deframe, max_record_len, Header, HEADER_LEN, MAX_PLAINTEXT, MAX_RECORD_LEN, MIN_SEND_CAPACITY,
    RECORD_OVERHEAD, TAG_LEN,
};
use tlspair::{Buffers, Connection, ContentType, Error, RecordConfig, Status};
use tlspair_fuzz::{seal_records, Expected, Plan};

/// An alert record: level and description, sealed.
const ALERT_RECORD_LEN: usize = RECORD_OVERHEAD + 2;
/// A KeyUpdate reply: handshake header (4) and request flag (1), sealed.
const KEY_UPDATE_RECORD_LEN: usize = RECORD_OVERHEAD + 4 + 1;

fuzz_target!(|data: &[u8]| {
    check_deframe(data, MAX_PLAINTEXT);
    let Some((plan, body)) = Plan::parse(data) else {
        return;
    };
    let (wire, expected) = if plan.sealed() {
        let (wire, expected) = seal_records(&plan, body);
        (wire, Some(expected))
    } else {
        (body.to_vec(), None)
    };
    check_deframe(&wire, plan.recv_limit());

    let mut server = Server::new(plan);
    server.prewrite();
    server.feed(&wire);
    server.finish(&wire, expected.as_ref());
});

/// Walks `bytes` record by record with `deframe` and checks each answer
/// against the header it read.
fn check_deframe(mut bytes: &[u8], limit: usize) {
    loop {
        match deframe(bytes, limit) {
            Ok(Some((header, total))) => {
                assert_eq!(Header::parse(bytes), Some(header));
                assert_eq!(header.content_type, ContentType::APPLICATION_DATA);
                assert!(header.len > TAG_LEN, "record shorter than a tag accepted");
                assert_eq!(total, HEADER_LEN + header.len);
                assert!(total <= bytes.len());
                assert!(total <= max_record_len(limit), "record over the limit");
                bytes = &bytes[total..];
            }
            Ok(None) => {
                match Header::parse(bytes) {
                    // A header is judged as soon as it is whole.
                    Some(header) => {
                        assert_eq!(header.check_protected(limit), Ok(()));
                        assert!(HEADER_LEN + header.len > bytes.len());
                    }
                    None => assert!(bytes.len() < HEADER_LEN),
                }
                return;
            }
            Err(e) => {
                // Refused on the header alone, with an alert to send.
                assert!(e.alert().is_some(), "deframe error {e:?} has no alert");
                assert_eq!(deframe(&bytes[..HEADER_LEN], limit), Err(e));
                return;
            }
        }
    }
}

/// The server under test, and what it has done so far.
struct Server {
    plan: Plan,
    conn: Connection<'static>,
    bufs: Buffers<Vec<u8>, Vec<u8>>,
    /// Destination of `read`; also the most consumed per `read_in_place`.
    dst: Vec<u8>,
    /// Whether the next call is `read_in_place`.
    in_place: bool,
    /// Plaintext delivered by either call.
    delivered: Vec<u8>,
    /// Plaintext sealed by the pre-write.
    prewritten: usize,
    /// Everything drained from the send buffer.
    sent: Vec<u8>,
    /// The first fatal error, as the connection reported it.
    error: Option<Error>,
    alerts: usize,
    closed: bool,
}

/// Plaintext of the pre-write.
const PREWRITE: [u8; 255] = [0xab; 255];

impl Server {
    fn new(plan: Plan) -> Self {
        let suite = plan.suite();
        let mut config = RecordConfig::default();
        config.recv_max_fragment_len = plan.recv_limit();
        let conn = Connection::from_traffic_secrets(
            suite,
            plan.server_secret(),
            plan.client_secret(),
            config,
        )
        .expect("valid keys and config");
        let bufs = Buffers::new(vec![0; plan.recv_capacity()], vec![0; plan.send_capacity()]);
        Self {
            plan,
            conn,
            bufs,
            dst: vec![0; plan.dst_len()],
            in_place: plan.in_place_first(),
            delivered: Vec::new(),
            prewritten: 0,
            sent: Vec::new(),
            error: None,
            alerts: 0,
            closed: false,
        }
    }

    /// Leaves the send buffer part full, so an alert may find no room.
    fn prewrite(&mut self) {
        let data = &PREWRITE[..self.plan.prewrite_len()];
        self.prewritten = match self.conn.write(&mut self.bufs, data) {
            Ok(Status::Done(n)) => n,
            Ok(Status::WantWrite { needed }) => {
                assert!(
                    needed <= self.bufs.send.capacity(),
                    "WantWrite({needed}) over capacity"
                );
                self.conn.write_progress()
            }
            other => panic!("write into an empty buffer: {other:?}"),
        };
    }

    /// Feeds `wire` in chunks, reading after each one.
    fn feed(&mut self, wire: &[u8]) {
        for chunk in wire.chunks(self.plan.chunk_len()) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let n = self.bufs.recv.fill(rest);
                if n == 0 {
                    // The last calls left the buffer full: fine for a
                    // connection that stopped reading, a stall otherwise.
                    assert!(
                        self.error.is_some() || self.closed,
                        "receive buffer full ({} of {}) and the engine wants more",
                        self.bufs.recv.len(),
                        self.bufs.recv.capacity(),
                    );
                    return;
                }
                rest = &rest[n..];
                // `call` checked each outcome; what matters next is kept
                // in `error` and `closed`.
                let _ = self.drive();
            }
        }
    }

    /// Reads until the engine has nothing to deliver, draining the send
    /// buffer when it asks, as a transport would.
    fn drive(&mut self) -> Result<Status<usize>, Error> {
        loop {
            match self.call() {
                Ok(Status::Done(_)) => {}
                Ok(Status::WantWrite { .. }) => self.drain(),
                other => return other,
            }
        }
    }

    /// One `read`, or one `read_in_place` and `consume`, with the checks
    /// every call must pass.
    fn call(&mut self) -> Result<Status<usize>, Error> {
        let error_before = self.conn.error();
        let alert_was_pending = self.conn.alert_pending();
        let sent_before = self.bufs.send.len();
        let in_place = self.in_place;
        self.in_place = !in_place;

        let result = if in_place {
            let result = match self.conn.read_in_place(&mut self.bufs) {
                Ok(Status::Done(plain)) => {
                    assert!(!plain.is_empty(), "read_in_place lent nothing");
                    let n = plain.len().min(self.dst.len());
                    self.delivered.extend_from_slice(&plain[..n]);
                    Ok(Status::Done(n))
                }
                Ok(other) => Ok(other.map(|plain| plain.len())),
                Err(e) => Err(e),
            };
            if let Ok(Status::Done(n)) = result {
                self.conn.consume(&mut self.bufs, n);
            }
            result
        } else {
            let result = self.conn.read(&mut self.bufs, &mut self.dst);
            if let Ok(Status::Done(n)) = result {
                assert!(n > 0 && n <= self.dst.len(), "read returned Done({n})");
                self.delivered.extend_from_slice(&self.dst[..n]);
            }
            result
        };

        match result {
            Ok(Status::WantWrite { needed }) => {
                assert!(
                    needed <= self.bufs.send.capacity(),
                    "WantWrite({needed}) over capacity"
                );
                panic!("read asked for send room: WantWrite({needed})");
            }
            Ok(Status::WantRead) => assert!(!self.bufs.recv.is_eof(), "WantRead at end of stream"),
            Ok(Status::Closed) => self.closed = true,
            Ok(Status::Done(_)) => assert!(!self.closed, "plaintext after Closed"),
            // Built from secrets: no handshake, no signer.
            Ok(other) => panic!("read answered {other:?}"),
            Err(e) => {
                assert!(e.is_fatal(), "misuse from a valid call: {e:?}");
                assert_eq!(self.conn.error(), Some(e), "returned error not recorded");
            }
        }
        tlspair_fuzz::check_sticky(
            &self.conn,
            result,
            self.closed,
            error_before,
            &mut self.error,
        );

        // The send buffer gains KeyUpdate replies, and one alert record,
        // once, only for an error that has one. 24 is no multiple of 27, so
        // the growth tells which.
        let sent_after = self.bufs.send.len();
        assert!(
            sent_after >= sent_before,
            "read took bytes out of the send buffer"
        );
        let gained = sent_after - sent_before;
        let alerts = usize::from(!gained.is_multiple_of(KEY_UPDATE_RECORD_LEN));
        let replies = gained
            .checked_sub(alerts * ALERT_RECORD_LEN)
            .filter(|rest| rest.is_multiple_of(KEY_UPDATE_RECORD_LEN))
            .map(|rest| rest / KEY_UPDATE_RECORD_LEN)
            .unwrap_or_else(|| panic!("read added {gained} bytes to the send buffer"));
        let alert = self.error.and_then(|e| e.alert());
        if alerts > 0 {
            assert!(alert.is_some(), "alert record without an alerting error");
            self.alerts += 1;
            assert_eq!(self.alerts, 1, "second alert sent");
        }
        if alert.is_some() && error_before.is_none() {
            // A new error: its alert goes out now if it fits after the
            // replies sealed before the error.
            let used = sent_before + replies * KEY_UPDATE_RECORD_LEN;
            let room = self.bufs.send.capacity() - used;
            assert_eq!(
                alerts > 0,
                room >= ALERT_RECORD_LEN,
                "alert with room {room}"
            );
            assert_eq!(self.conn.alert_pending(), alerts == 0);
        }
        if error_before.is_some() {
            assert_eq!(replies, 0, "KeyUpdate reply after an error");
            assert!(alerts == 0 || alert_was_pending, "alert sent twice");
        }
        result
    }

    /// Ends the stream and checks what came out of both ends.
    fn finish(&mut self, wire: &[u8], expected: Option<&Expected>) {
        self.bufs.recv.set_eof();
        let last = self.drive();
        assert!(
            matches!(last, Err(_) | Ok(Status::Closed)),
            "end of stream read as {last:?}"
        );

        match expected {
            None => assert!(
                self.delivered.len() <= wire.len(),
                "more plaintext than input"
            ),
            Some(expected) => {
                let until_close = &expected.data_before_close;
                assert!(
                    until_close.starts_with(&self.delivered),
                    "delivered bytes the records do not carry"
                );
                match last {
                    Ok(Status::Closed) => {
                        assert_eq!(self.delivered.len(), until_close.len(), "closed early")
                    }
                    Err(Error::Truncated) if !expected.has_raw => {
                        assert!(!expected.has_close);
                        assert_eq!(self.delivered.len(), expected.data.len(), "records lost");
                    }
                    _ => {}
                }
            }
        }

        // Drain; an alert that found no room goes out on the next call.
        self.drain();
        let pending = self.conn.alert_pending();
        let again = self.drive();
        assert_eq!(again, last, "outcome changed at end of stream");
        assert!(!self.conn.alert_pending(), "alert still pending with room");
        assert!(!pending || self.alerts == 1, "pending alert not sent");
        self.drain();
        self.check_wire();
    }

    fn drain(&mut self) {
        self.sent.extend_from_slice(self.bufs.send.pending());
        self.bufs.send.consume(self.sent.len());
    }

    /// Opens what the server sent as its peer would: the pre-written
    /// plaintext, any KeyUpdate replies (handled inside `read`), then the
    /// alert of the server's error.
    fn check_wire(&self) {
        let suite = self.plan.suite();
        let config = RecordConfig::default();
        let mut client = Connection::from_traffic_secrets(
            suite,
            self.plan.client_secret(),
            self.plan.server_secret(),
            config,
        )
        .expect("valid keys and config");
        let mut bufs = Buffers::new(vec![0; MAX_RECORD_LEN], vec![0; MIN_SEND_CAPACITY]);
        assert_eq!(bufs.recv.fill(&self.sent), self.sent.len());

        let mut plain = Vec::new();
        let mut dst = [0u8; 512];
        let last = loop {
            match client.read(&mut bufs, &mut dst) {
                Ok(Status::Done(n)) => plain.extend_from_slice(&dst[..n]),
                other => break other,
            }
        };
        assert_eq!(
            plain,
            PREWRITE[..self.prewritten],
            "pre-written data garbled"
        );
        match self.error.and_then(|e| e.alert()) {
            Some(alert) if self.alerts == 1 => {
                assert_eq!(last, Err(Error::AlertReceived(alert)), "alert on the wire")
            }
            _ => assert_eq!(last, Ok(Status::WantRead), "stray bytes on the wire"),
        }
    }
}
