//! Property: however the received bytes are chunked, whatever room the
//! outgoing view has, in either write mode and either read style, the peer
//! reads exactly the plaintext that was written: in order, nothing lost,
//! nothing duplicated.

mod common;

use common::{Pair, Sizes};
use proptest::prelude::*;
use tlspair::record::{MAX_RECORD_LEN, MIN_SEND_CAPACITY};
use tlspair::{Padding, RecordConfig, Shutdown, Status, WriteMode};

#[derive(Debug, Clone)]
struct Plan {
    suite: usize,
    data: Vec<u8>,
    mode: WriteMode,
    padding: Padding,
    max_fragment: usize,
    send_capacity: usize,
    recv_extra: usize,
    write_sizes: Vec<usize>,
    chunks: Vec<usize>,
    read_sizes: Vec<usize>,
    in_place: bool,
    /// 0: `write`; 1: `write_vectored` over three slices; 2: `reserve` and
    /// `seal_reserved`.
    write_style: u8,
}

/// Every suite of both versions: TLS 1.2 sessions are keyed like TLS 1.3
/// ones here (`Connection::from_tls12_keys`), with their own record
/// layout (explicit nonce, no inner type, no padding).
static SUITES: [&tlspair::Suite; 9] = tlspair::BOTH_VERSIONS_SUITES;

fn send_capacity() -> impl Strategy<Value = usize> {
    prop_oneof![
        MIN_SEND_CAPACITY..200usize,
        200..MAX_RECORD_LEN,
        Just(MAX_RECORD_LEN),
        MAX_RECORD_LEN..3 * MAX_RECORD_LEN,
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        0..SUITES.len(),
        prop::collection::vec(any::<u8>(), 0..40_000),
        prop_oneof![Just(WriteMode::Complete), Just(WriteMode::Partial)],
        prop_oneof![
            Just(Padding::None),
            (0u16..300).prop_map(Padding::ToMultiple),
            Just(Padding::Max)
        ],
        prop_oneof![Just(16384usize), 1..16384usize],
        send_capacity(),
        0..2 * MAX_RECORD_LEN,
        prop::collection::vec(1..50_000usize, 1..8),
        prop::collection::vec(1..40_000usize, 1..8),
        prop::collection::vec(1..40_000usize, 1..8),
        any::<bool>(),
        0u8..3,
    )
        .prop_map(
            |(
                suite,
                data,
                mode,
                padding,
                max_fragment,
                send_capacity,
                recv_extra,
                write_sizes,
                chunks,
                read_sizes,
                in_place,
                write_style,
            )| Plan {
                suite,
                data,
                mode,
                padding,
                max_fragment,
                send_capacity,
                recv_extra,
                write_sizes,
                chunks,
                read_sizes,
                in_place,
                write_style,
            },
        )
}

/// The plan's outgoing view, at least the suite's smallest (TLS 1.2's is
/// 31 bytes, TLS 1.3's 27).
fn view_capacity(plan: &Plan) -> usize {
    if SUITES[plan.suite].is_tls12() {
        plan.send_capacity
            .max(tlspair::record::TLS12_MIN_SEND_CAPACITY)
    } else {
        plan.send_capacity
    }
}

fn run(plan: &Plan) -> Result<(), TestCaseError> {
    let mut cfg = RecordConfig::default();
    cfg.write_mode = plan.mode;
    cfg.padding = plan.padding;
    cfg.max_fragment_len = plan.max_fragment;
    let mut p = Pair::with(
        SUITES[plan.suite],
        cfg,
        RecordConfig::default(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: view_capacity(plan),
        },
        Sizes {
            recv: MAX_RECORD_LEN + plan.recv_extra,
            send: MAX_RECORD_LEN,
        },
    );
    let data = &plan.data;
    let mut got = Vec::with_capacity(data.len());
    let mut dst = vec![0u8; 40_000];
    let (mut start, mut end) = (0usize, 0usize);
    let mut step = 0usize;
    let mut closed = false;
    let mut steps_without_progress = 0;
    loop {
        step += 1;
        let progress_before = (start, got.len(), p.client.bufs.send.len());
        // Writer: one call per step, retried with the same bytes after
        // WantWrite, a new call after Done.
        if start == end && end < data.len() {
            end = (start + plan.write_sizes[step % plan.write_sizes.len()]).min(data.len());
        }
        if start < end {
            let call = &data[start..end];
            let status = match plan.write_style {
                1 => {
                    let (a, rest) = call.split_at(call.len() / 3);
                    let (b, c) = rest.split_at(rest.len() / 2);
                    p.client
                        .conn
                        .write_vectored(&mut p.client.bufs, &[a, b, c])
                        .unwrap()
                }
                // Sealing in place is one record per call, like a partial
                // write: its progress is then taken as such.
                2 => match p
                    .client
                    .conn
                    .reserve(&mut p.client.bufs, call.len())
                    .unwrap()
                {
                    Status::Done(room) => {
                        let n = room.len();
                        room.copy_from_slice(&call[..n]);
                        let sealed = p.client.conn.seal_reserved(&mut p.client.bufs, n).unwrap();
                        prop_assert_eq!(sealed, n);
                        if n < call.len() {
                            start += n;
                            Status::WantWrite { needed: 0 }
                        } else {
                            Status::Done(n)
                        }
                    }
                    other => other.map(|_| 0),
                },
                _ => p.client.conn.write(&mut p.client.bufs, call).unwrap(),
            };
            match status {
                Status::Done(n) => {
                    if plan.mode == WriteMode::Complete {
                        prop_assert_eq!(n, end - start);
                    }
                    prop_assert!(n > 0 && n <= end - start);
                    start += n;
                    if start < end && plan.mode == WriteMode::Partial {
                        end = start; // the next call decides its own length
                    }
                }
                Status::WantWrite { needed: 0 } if plan.write_style == 2 => {}
                Status::WantWrite { needed } => {
                    prop_assert!(needed <= view_capacity(plan));
                    prop_assert!(needed > view_capacity(plan) - p.client.bufs.send.len());
                }
                other => prop_assert!(false, "write answered {:?}", other),
            }
        } else if !closed {
            match p.client.conn.shutdown(&mut p.client.bufs).unwrap() {
                Status::Done(Shutdown::Sent) => closed = true,
                Status::WantWrite { .. } => {}
                other => prop_assert!(false, "shutdown answered {:?}", other),
            }
        }
        // Transport: a chunk of whatever is pending.
        let chunk = plan.chunks[step % plan.chunks.len()];
        common::transfer(&mut p.client, &mut p.server, chunk);
        // Reader: until it wants more.
        loop {
            let status = if plan.in_place {
                let want = plan.read_sizes[step % plan.read_sizes.len()];
                match p.server.conn.read_in_place(&mut p.server.bufs).unwrap() {
                    Status::Done(plain) => {
                        prop_assert!(!plain.is_empty());
                        let n = plain.len().min(want);
                        got.extend_from_slice(&plain[..n]);
                        p.server.conn.consume(&mut p.server.bufs, n);
                        Status::Done(n)
                    }
                    other => other.map(|_| 0),
                }
            } else {
                let len = plan.read_sizes[step % plan.read_sizes.len()];
                let r = p
                    .server
                    .conn
                    .read(&mut p.server.bufs, &mut dst[..len])
                    .unwrap();
                if let Status::Done(n) = r {
                    prop_assert!(n > 0);
                    got.extend_from_slice(&dst[..n]);
                }
                r
            };
            match status {
                Status::Done(_) => {}
                Status::WantRead => break,
                Status::Closed => {
                    prop_assert_eq!(&got, data);
                    prop_assert!(p.client.bufs.send.is_empty());
                    return Ok(());
                }
                other => prop_assert!(false, "read answered {:?}", other),
            }
        }
        prop_assert!(got.len() <= data.len() && got[..] == data[..got.len()]);
        if (start, got.len(), p.client.bufs.send.len()) == progress_before {
            steps_without_progress += 1;
            prop_assert!(steps_without_progress < 3, "stalled at step {}", step);
        } else {
            steps_without_progress = 0;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn peer_reads_exactly_what_was_written(plan in plan()) {
        run(&plan)?;
    }
}

/// Runs a handshake and a short exchange with chunked transport and the
/// given buffer sizes; returns the client's and server's received bytes.
fn handshake_run(
    chunks: &[usize],
    client_send: usize,
    server_send: usize,
    server_fragment: usize,
    client_recv_limit: usize,
) -> (Vec<u8>, Vec<u8>, tlspair::handshake::Negotiated) {
    use common::tls::{certified, client_config, server_config};
    let mut cc = client_config();
    cc.record.recv_max_fragment_len = client_recv_limit;
    let mut sc = server_config(&[certified(&tlspair::test_credentials::SERVER_ECDSA_P256)]);
    sc.record.max_fragment_len = server_fragment;
    let cc: &'static _ = Box::leak(Box::new(cc));
    let sc: &'static _ = Box::leak(Box::new(sc));
    let now = common::tls::now();
    let recv = 20_000 + 16_406;
    let mut c = common::Side {
        conn: tlspair::Connection::client(cc, Some("localhost"), now).unwrap(),
        bufs: tlspair::Buffers::new(vec![0; recv], vec![0; client_send]),
    };
    let mut s = common::Side {
        conn: tlspair::Connection::server(sc, now).unwrap(),
        bufs: tlspair::Buffers::new(vec![0; recv], vec![0; server_send]),
    };
    let up = b"client says hello through every chunking".repeat(50);
    let down = b"and the server answers".repeat(70);
    let (mut up_off, mut down_off) = (0, 0);
    let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 4096];
    for step in 0..200_000 {
        let chunk = chunks[step % chunks.len()];
        if up_off < up.len() {
            if let Status::Done(n) = c.conn.write(&mut c.bufs, &up[up_off..]).unwrap() {
                up_off += n;
            }
        }
        if down_off < down.len() && !s.conn.is_handshaking() {
            if let Status::Done(n) = s.conn.write(&mut s.bufs, &down[down_off..]).unwrap() {
                down_off += n;
            }
        }
        common::transfer(&mut c, &mut s, chunk);
        common::transfer(&mut s, &mut c, chunk);
        while let Status::Done(n) = s.conn.read(&mut s.bufs, &mut buf).unwrap() {
            got_up.extend_from_slice(&buf[..n]);
        }
        while let Status::Done(n) = c.conn.read(&mut c.bufs, &mut buf).unwrap() {
            got_down.extend_from_slice(&buf[..n]);
        }
        if got_up.len() == up.len() && got_down.len() == down.len() {
            assert_eq!(got_up, up);
            assert_eq!(got_down, down);
            return (got_up, got_down, *c.conn.negotiated().unwrap());
        }
    }
    panic!(
        "no progress: up {}/{} down {}/{}",
        got_up.len(),
        up.len(),
        got_down.len(),
        down.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Handshakes through any chunking and buffer sizes end in the same
    /// negotiated parameters and carry the same bytes.
    #[test]
    fn handshake_result_is_independent_of_chunking_and_room(
        chunks in prop::collection::vec(1..3000usize, 1..6),
        client_send in 2_048..3 * MAX_RECORD_LEN,
        server_send in 4_096..3 * MAX_RECORD_LEN,
        server_fragment in prop_oneof![Just(16_384usize), 64..16_384usize],
        client_recv_limit in prop_oneof![Just(16_384usize), 64..16_384usize],
    ) {
        let (_, _, n) = handshake_run(&chunks, client_send, server_send, server_fragment, client_recv_limit);
        let (_, _, reference) = handshake_run(&[usize::MAX], 3 * MAX_RECORD_LEN, 3 * MAX_RECORD_LEN, 16_384, 16_384);
        prop_assert_eq!(n.suite, reference.suite);
        prop_assert_eq!(n.group, reference.group);
        prop_assert_eq!(n.signature_scheme, reference.signature_scheme);
        prop_assert_eq!(n.peer_cert_sha256, reference.peer_cert_sha256);
    }
}
