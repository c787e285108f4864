//! The in-memory client/server harness every test shares.
//!
//! Each side is a `Connection` with its own caller-owned `Buffers`; the
//! harness plays the transport by moving bytes from one side's outgoing view
//! to the other's received view, in chunks of any size.

#![allow(dead_code)]

pub mod hello;
pub mod interop;
pub mod net;
pub mod replay;
pub mod tls;

use std::collections::HashMap;

use tlspair::{Buffers, Connection, RecordConfig, Status, Suite};

/// Fixed test secrets, one per direction, cut to the suite's hash length.
pub const CLIENT_SECRET: [u8; 48] = [0xc1; 48];
pub const SERVER_SECRET: [u8; 48] = [0x5e; 48];

pub type Bufs = Buffers<Vec<u8>, Vec<u8>>;

pub struct Side {
    pub conn: Connection<'static>,
    pub bufs: Bufs,
}

pub struct Pair {
    pub client: Side,
    pub server: Side,
}

/// Buffer sizes for one side.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub recv: usize,
    pub send: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Self {
            recv: tlspair::record::MAX_RECORD_LEN,
            send: tlspair::record::MAX_RECORD_LEN,
        }
    }
}

impl Pair {
    pub fn new(suite: &'static Suite) -> Self {
        Self::with(
            suite,
            RecordConfig::default(),
            RecordConfig::default(),
            Sizes::default(),
            Sizes::default(),
        )
    }

    pub fn with(
        suite: &'static Suite,
        client_cfg: RecordConfig,
        server_cfg: RecordConfig,
        client_sizes: Sizes,
        server_sizes: Sizes,
    ) -> Self {
        let len = if suite.is_tls12() { 44 } else { suite.hash_len };
        let c = &CLIENT_SECRET[..len];
        let s = &SERVER_SECRET[..len];
        // TLS 1.2: keys and IVs cut from the same bytes (a key of the
        // suite's length, then 4 or 12 bytes of IV).
        let iv_len = if suite.record_overhead() == 29 { 4 } else { 12 };
        let key_len = suite.key_len();
        let side = |send: &[u8], recv: &[u8], cfg, sizes: Sizes| Side {
            conn: if suite.is_tls12() {
                Connection::from_tls12_keys(
                    suite,
                    (&send[..key_len], &send[key_len..][..iv_len]),
                    (&recv[..key_len], &recv[key_len..][..iv_len]),
                    cfg,
                )
                .unwrap()
            } else {
                Connection::from_traffic_secrets(suite, send, recv, cfg).unwrap()
            },
            bufs: Buffers::new(vec![0; sizes.recv], vec![0; sizes.send]),
        };
        Self {
            client: side(c, s, client_cfg, client_sizes),
            server: side(s, c, server_cfg, server_sizes),
        }
    }
}

/// Moves up to `max` pending bytes from `from`'s outgoing view to `to`'s
/// received view; returns the count moved.
pub fn transfer(from: &mut Side, to: &mut Side, max: usize) -> usize {
    let pending = from.bufs.send.pending();
    let n = pending.len().min(max);
    let moved = to.bufs.recv.fill(&pending[..n]);
    from.bufs.send.consume(moved);
    moved
}

/// Moves everything pending from `from` to `to` (as far as `to` has room).
pub fn transfer_all(from: &mut Side, to: &mut Side) -> usize {
    transfer(from, to, usize::MAX)
}

/// Writes all of `data` from `from`, moving bytes to `to` whenever the
/// outgoing view is full; returns the bytes `to` read, reading as it goes.
pub fn send_and_receive(from: &mut Side, to: &mut Side, data: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut off = 0;
    let mut buf = vec![0u8; 20_000];
    while off < data.len() {
        match from.conn.write(&mut from.bufs, &data[off..]).unwrap() {
            Status::Done(n) => off += n,
            Status::WantWrite { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
        transfer_all(from, to);
        drain_read(to, &mut buf, &mut got);
    }
    transfer_all(from, to);
    drain_read(to, &mut buf, &mut got);
    got
}

/// Reads until `WantRead`, appending to `got`.
pub fn drain_read(to: &mut Side, buf: &mut [u8], got: &mut Vec<u8>) {
    loop {
        match to.conn.read(&mut to.bufs, buf).unwrap() {
            Status::Done(n) => got.extend_from_slice(&buf[..n]),
            Status::WantRead => return,
            other => panic!("unexpected {other:?}"),
        }
    }
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Loads a `name = hex` data file from tests/data.
pub fn vectors(file: &str) -> HashMap<String, Vec<u8>> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once(" = ").expect("name = hex");
            (k.to_owned(), unhex(v.trim()))
        })
        .collect()
}

/// An alert record as the engine seals it, opened with the peer's key, for
/// asserting the alert bytes on the wire: returns (level, description) of
/// each alert among `records`.
pub fn open_alerts(
    suite: &'static Suite,
    secret: &[u8],
    first_seq: u64,
    records: &[u8],
) -> Vec<(u8, u8)> {
    use tlspair::record::{protect::RecordKey, Header, HEADER_LEN};
    let mut key = RecordKey::new(suite, secret).unwrap();
    key.set_sequence(first_seq);
    let mut out = Vec::new();
    let mut rest = records.to_vec();
    while let Some(h) = Header::parse(&rest) {
        let total = HEADER_LEN + h.len;
        let mut rec: Vec<u8> = rest.drain(..total).collect();
        let (ty, len) = key.open(&mut rec).unwrap();
        if ty == tlspair::ContentType::ALERT {
            assert_eq!(len, 2);
            out.push((rec[HEADER_LEN], rec[HEADER_LEN + 1]));
        }
    }
    out
}
