//! What the fuzz targets share with each other and with the seed
//! generator, so the two cannot drift apart. The targets themselves are
//! thin: each calls one entry point here.
//!
//! - `deframe`: the input format below ([`Plan`], [`seal_records`]);
//! - `client_hello`, ..., `codec`: [`messages::Parser::run`], each wire
//!   parser on its own (the list is [`messages::PARSERS`]);
//! - `server`, `client`: [`engine::run_server`], [`engine::run_client`],
//!   a whole engine fed hostile bytes, with the checked [`engine::Driver`];
//! - `session`: [`session::run`], a valid session replayed under
//!   fuzzer-chosen conditions;
//! - [`fixtures`]: the deterministic configurations all of them (and the
//!   seeds) are built from; [`alloc_count`]: the counting allocator.
//!
//! The `deframe` input format:
//!
//! An input is a [`Plan`] (the first [`PLAN_LEN`] bytes) followed by a body.
//! The plan fixes the suite, the buffer sizes and how the body is fed; the
//! body is either raw wire bytes, or (with [`Plan::SEALED`]) a list of
//! record descriptions that [`seal_records`] turns into records a client
//! really sealed. Raw bytes exercise framing and every rejection before the
//! AEAD; since a fuzzer cannot forge a tag, only sealed descriptions reach
//! the code behind it: content types, padding, alerts, empty records.

pub mod alloc_count;
pub mod engine;
pub mod fixtures;
pub mod messages;
pub mod session;

use tlspair::record::protect::RecordKey;
use tlspair::record::{max_record_len, HEADER_LEN, MAX_PLAINTEXT, MAX_RECORD_LEN, TAG_LEN};
use tlspair::{Connection, ContentType, Error, Status, Suite, ALL_SUITES};

/// Traffic secret of the client-to-server direction of raw inputs. Fixed,
/// so the records in raw seeds stay valid.
const C2S: [u8; 48] = [0x11; 48];
/// Traffic secret of the client-to-server direction of sealed inputs. It
/// differs from the raw one because the fuzzer copies bytes between inputs:
/// a record lifted from a raw seed must not open in a sealed input, where
/// only the records [`seal_records`] made may deliver anything.
const SEALED_C2S: [u8; 48] = [0x33; 48];
/// Traffic secret of the server-to-client direction.
const S2C: [u8; 48] = [0x22; 48];

/// Bytes of the plan at the front of every input.
pub const PLAN_LEN: usize = 8;

/// How one input is run, as raw fields; the methods map them into range.
///
/// ```text
/// 0      flags: bits 0-1 suite, bit 2 SEALED, bit 3 IN_PLACE_FIRST
/// 1..3   chunk size, u16 little-endian
/// 3      send capacity above the minimum
/// 4      plaintext the server writes before reading
/// 5      read buffer length, squared
/// 6..8   receive limit, u16 little-endian
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Suite selector and mode bits.
    pub flags: u8,
    /// Selects the size of the chunks the body is fed in.
    pub chunk: u16,
    /// Send capacity above [`tlspair::record::MIN_SEND_CAPACITY`].
    pub send_extra: u8,
    /// Bytes written before reading, to leave the send buffer part full.
    pub prewrite: u8,
    /// Selects the length of the `read` destination.
    pub dst: u8,
    /// Selects the configured receive limit.
    pub recv_limit: u16,
}

impl Plan {
    /// The body is record descriptions, not wire bytes.
    pub const SEALED: u8 = 1 << 2;
    /// The first call is `read_in_place` rather than `read`.
    pub const IN_PLACE_FIRST: u8 = 1 << 3;

    /// Splits `data` into its plan and body; `None` if too short.
    pub fn parse(data: &[u8]) -> Option<(Self, &[u8])> {
        let (plan, body) = data.split_first_chunk::<PLAN_LEN>()?;
        let [flags, c0, c1, send_extra, prewrite, dst, l0, l1] = *plan;
        let plan = Self {
            flags,
            chunk: u16::from_le_bytes([c0, c1]),
            send_extra,
            prewrite,
            dst,
            recv_limit: u16::from_le_bytes([l0, l1]),
        };
        Some((plan, body))
    }

    /// The wire form, for seeds.
    pub fn to_bytes(self) -> [u8; PLAN_LEN] {
        let [c0, c1] = self.chunk.to_le_bytes();
        let [l0, l1] = self.recv_limit.to_le_bytes();
        [
            self.flags,
            c0,
            c1,
            self.send_extra,
            self.prewrite,
            self.dst,
            l0,
            l1,
        ]
    }

    /// The suite (selector 3 wraps to the first).
    pub fn suite(&self) -> &'static Suite {
        ALL_SUITES[usize::from(self.flags & 3) % ALL_SUITES.len()]
    }

    /// Whether the body holds record descriptions.
    pub fn sealed(&self) -> bool {
        self.flags & Self::SEALED != 0
    }

    /// The client's sending secret, the server's receiving one.
    pub fn client_secret(&self) -> &'static [u8] {
        let fixed = if self.sealed() { &SEALED_C2S } else { &C2S };
        &fixed[..self.suite().hash_len]
    }

    /// The server's sending secret, the client's receiving one.
    pub fn server_secret(&self) -> &'static [u8] {
        &S2C[..self.suite().hash_len]
    }

    /// Whether the first call is `read_in_place`.
    pub fn in_place_first(&self) -> bool {
        self.flags & Self::IN_PLACE_FIRST != 0
    }

    /// Bytes fed per step: 1 to a whole maximal record.
    pub fn chunk_len(&self) -> usize {
        1 + usize::from(self.chunk) % MAX_RECORD_LEN
    }

    /// Capacity of the server's send buffer: from the smallest allowed
    /// upwards, small enough that a pre-write can leave no room for an
    /// alert.
    pub fn send_capacity(&self) -> usize {
        tlspair::record::MIN_SEND_CAPACITY + usize::from(self.send_extra)
    }

    /// Plaintext the server writes before it reads.
    pub fn prewrite_len(&self) -> usize {
        usize::from(self.prewrite)
    }

    /// Length of the `read` destination, and of what is consumed after
    /// each `read_in_place`: 1 to past a whole record, dense at the small
    /// end where partial reads happen.
    pub fn dst_len(&self) -> usize {
        1 + usize::from(self.dst) * usize::from(self.dst)
    }

    /// The configured receive limit, 64 to 2^14 bytes.
    pub fn recv_limit(&self) -> usize {
        usize::from(self.recv_limit).clamp(64, MAX_PLAINTEXT)
    }

    /// Receive capacity: exactly what the limit requires, the tightest
    /// buffer the engine must cope with.
    pub fn recv_capacity(&self) -> usize {
        max_record_len(self.recv_limit())
    }
}

/// One record description of a sealed body:
///
/// ```text
/// 0      kind: bit 7 set = raw bytes; clear = content type to seal
/// 1      zero padding after the content type
/// 2..4   content length, u16 little-endian (cut to what the body holds)
/// 4..    content
/// ```
pub const DESCRIPTION_LEN: usize = 4;

/// Marks a description whose content goes on the wire as is.
pub const RAW: u8 = 0x80;

/// Encodes one record description, for seeds.
pub fn description(kind: u8, pad: u8, content: &[u8]) -> Vec<u8> {
    let len = u16::try_from(content.len()).expect("content fits a description");
    let [l0, l1] = len.to_le_bytes();
    let mut out = vec![kind, pad, l0, l1];
    out.extend_from_slice(content);
    out
}

/// Content longer than this is cut, so every header length stays
/// representable while still reaching past every limit.
const MAX_CONTENT: usize = MAX_PLAINTEXT + 256;

/// What the sealed records should deliver, worked out from their inner
/// plaintexts the way RFC 8446 §5.4 reads them.
#[derive(Debug, Default)]
pub struct Expected {
    /// Application data of every sealed record, in order.
    pub data: Vec<u8>,
    /// Application data of the sealed records before the first
    /// close_notify; all of it if there is none.
    pub data_before_close: Vec<u8>,
    /// Whether a sealed close_notify is among the records.
    pub has_close: bool,
    /// Whether raw bytes are mixed in: they can swallow the records after
    /// them into one the connection never completes.
    pub has_raw: bool,
    /// Handshake bytes not yet forming a whole message, as the receiver
    /// holds them.
    handshake: Vec<u8>,
}

/// Bytes of a handshake message header: type (1), length (3).
const HANDSHAKE_HEADER_LEN: usize = 4;
/// HandshakeType key_update.
const KEY_UPDATE: u8 = 24;

/// Seals the descriptions in `body` with the client's key of `plan`, as
/// records the server's connection will accept; returns the wire bytes and
/// what they carry.
///
/// A record that ends a well-formed KeyUpdate moves the client to the next
/// traffic secret (RFC 8446 §4.6.3), as the server does on reading it, so
/// the records after it still open.
pub fn seal_records(plan: &Plan, mut body: &[u8]) -> (Vec<u8>, Expected) {
    let suite = plan.suite();
    let mut key = RecordKey::new(suite, plan.client_secret()).expect("fixed secret fits the suite");
    let mut wire = Vec::new();
    let mut expected = Expected::default();
    while let Some((desc, rest)) = body.split_first_chunk::<DESCRIPTION_LEN>() {
        let [kind, pad, l0, l1] = *desc;
        let len = usize::from(u16::from_le_bytes([l0, l1]))
            .min(rest.len())
            .min(MAX_CONTENT);
        let (content, rest) = rest.split_at(len);
        body = rest;
        if kind & RAW != 0 {
            wire.extend_from_slice(content);
            expected.has_raw |= !content.is_empty();
            continue;
        }
        let start = wire.len();
        let inner = len + 1 + usize::from(pad);
        wire.resize(start + HEADER_LEN + inner + TAG_LEN, 0);
        let record = &mut wire[start..];
        record[HEADER_LEN..][..len].copy_from_slice(content);
        key.seal(ContentType(kind), len, record)
            .expect("fixed layout seals");
        if expected.add(content, kind, usize::from(pad)) {
            key = key.next().expect("next secret fits the suite");
        }
    }
    (wire, expected)
}

impl Expected {
    /// Accounts for one sealed record; true if it completes a KeyUpdate.
    fn add(&mut self, content: &[u8], ty: u8, pad: usize) -> bool {
        // The receiver takes the last non-zero byte as the content type, so
        // a zero type moves the boundary into the content.
        let inner: Vec<u8> = content
            .iter()
            .copied()
            .chain([ty])
            .chain(std::iter::repeat_n(0, pad))
            .collect();
        let Some(end) = inner.iter().rposition(|&b| b != 0) else {
            return false;
        };
        let (content, ty) = (&inner[..end], ContentType(inner[end]));
        if ty == ContentType::APPLICATION_DATA {
            self.data.extend_from_slice(content);
            if !self.has_close {
                self.data_before_close.extend_from_slice(content);
            }
        } else if ty == ContentType::ALERT && content.len() == 2 && content[1] == 0 {
            self.has_close = true;
        } else if ty == ContentType::HANDSHAKE {
            return self.add_handshake(content);
        }
        false
    }

    /// Splits whole handshake messages off the held bytes; true if the last
    /// is a valid KeyUpdate that ends the record, the one place the RFC
    /// allows it.
    fn add_handshake(&mut self, content: &[u8]) -> bool {
        self.handshake.extend_from_slice(content);
        let mut key_update = false;
        while let [ty, l0, l1, l2, ..] = self.handshake[..] {
            let len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
            let total = HANDSHAKE_HEADER_LEN + len;
            if self.handshake.len() < total {
                break;
            }
            let message: Vec<u8> = self.handshake.drain(..total).collect();
            key_update = ty == KEY_UPDATE && matches!(message[HANDSHAKE_HEADER_LEN..], [0 | 1]);
        }
        key_update && self.handshake.is_empty()
    }
}

/// The stickiness every driver checks after a call that returned
/// `result`: after `Closed` every call returns `Closed`; after an error
/// (`before`, the connection's error before the call) every call returns
/// it; the error the connection records (`recorded`, as of the previous
/// call, updated here) never changes once set.
pub fn check_sticky(
    conn: &Connection<'_>,
    result: Result<Status<usize>, Error>,
    closed: bool,
    before: Option<Error>,
    recorded: &mut Option<Error>,
) {
    if closed {
        assert_eq!(result, Ok(Status::Closed), "Closed is not sticky");
    }
    if let Some(e) = before {
        assert_eq!(result, Err(e), "call after {e:?}");
    }
    if let Some(e) = *recorded {
        assert_eq!(conn.error(), Some(e), "error changed");
    }
    *recorded = conn.error();
}
