//! Record throughput: one record sealed by a client and opened by a server
//! through the engine, against raw ring AEAD on the same bytes.
//!
//! Each group is one suite and one payload size, so the engine and its
//! lower bound are reported side by side:
//!
//! - `tlspair/read`: `write` into the client's send buffer, the caller's
//!   "transport" copy into the server's receive buffer, `read` into a
//!   plaintext buffer;
//! - `tlspair/read_in_place`: the same, but the server lends the plaintext
//!   where it was decrypted and the bench `consume`s it, so there is no
//!   plaintext copy on the receive side;
//! - `ring`: `seal_in_place_separate_tag` then `open_in_place` of a TLS
//!   inner plaintext (payload + content type) with a 5-byte record header as
//!   AAD and a nonce from a counter: what any TLS 1.3 record layer over ring
//!   must do at least, with no framing, no buffer and no copy.
//!
//! The ring key is the one the engine derives from the same traffic
//! secret. After criterion's report a paired pass (every variant once per
//! round, order rotating; see benches/transfer.rs) prints the ratios to
//! quote. `cargo bench --bench record` runs it all in about 80 seconds
//! on two cores; docs/performance.md has the figures.

use std::time::{Duration, Instant};

mod common;

use common::{paired, paired_pass_wanted, timed, RingRecord, Variant};
use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use ring::aead;
use tlspair::key_schedule::hkdf_expand_label;
use tlspair::record::MAX_RECORD_LEN;
use tlspair::{Buffers, Connection, RecordConfig, Status, Suite, ALL_SUITES};

/// Payload sizes: a full record, a typical request, and a tiny message
/// where per-record overhead dominates.
const SIZES: [usize; 3] = [16 * 1024, 1024, 64];

const C2S: [u8; 48] = [0x11; 48];
const S2C: [u8; 48] = [0x22; 48];

type Bufs = Buffers<Vec<u8>, Vec<u8>>;

fn bufs() -> Bufs {
    Buffers::new(vec![0; MAX_RECORD_LEN], vec![0; MAX_RECORD_LEN])
}

/// A client and a server connection that share keys in both directions,
/// each with full-size buffers. Fresh for every criterion sample, so the
/// sequence numbers never approach AES-GCM's usage limit however many
/// iterations a sample runs.
struct Pair {
    client: Connection<'static>,
    server: Connection<'static>,
    cbufs: Bufs,
    sbufs: Bufs,
}

impl Pair {
    fn new(suite: &'static Suite) -> Self {
        let secret = |s: &'static [u8; 48]| &s[..suite.hash_len];
        let cfg = RecordConfig::default();
        Self {
            client: Connection::from_traffic_secrets(suite, secret(&C2S), secret(&S2C), cfg)
                .expect("client keys"),
            server: Connection::from_traffic_secrets(suite, secret(&S2C), secret(&C2S), cfg)
                .expect("server keys"),
            cbufs: bufs(),
            sbufs: bufs(),
        }
    }

    /// Seals `payload` as one record and moves it to the server's receive
    /// buffer, as a transport would.
    fn send(&mut self, payload: &[u8]) {
        let status = self.client.write(&mut self.cbufs, payload);
        assert_eq!(status, Ok(Status::Done(payload.len())));
        let n = self.sbufs.recv.fill(self.cbufs.send.pending());
        self.cbufs.send.consume(n);
    }

    /// Opens the record and copies its plaintext into `dst`.
    fn recv_copy(&mut self, dst: &mut [u8]) -> usize {
        match self.server.read(&mut self.sbufs, dst) {
            Ok(Status::Done(n)) => n,
            other => panic!("read: {other:?}"),
        }
    }

    /// Opens the record and consumes its plaintext where it lies.
    fn recv_in_place(&mut self) -> usize {
        let n = match self.server.read_in_place(&mut self.sbufs) {
            Ok(Status::Done(plain)) => std::hint::black_box(plain).len(),
            other => panic!("read_in_place: {other:?}"),
        };
        self.server.consume(&mut self.sbufs, n);
        n
    }
}

/// The ring baseline ([`RingRecord`]) under the key the engine derives
/// from the same client traffic secret (RFC 8446 §7.3), so both sides
/// seal under the same key.
fn ring_record(suite: &'static Suite, payload: &[u8]) -> RingRecord {
    let alg = match suite.id.name() {
        Some("TLS_AES_128_GCM_SHA256") => &aead::AES_128_GCM,
        Some("TLS_AES_256_GCM_SHA384") => &aead::AES_256_GCM,
        Some("TLS_CHACHA20_POLY1305_SHA256") => &aead::CHACHA20_POLY1305,
        _ => panic!("no ring AEAD for {suite:?}"),
    };
    let hkdf = match suite.hash_len {
        32 => ring::hkdf::HKDF_SHA256,
        _ => ring::hkdf::HKDF_SHA384,
    };
    let prk = ring::hkdf::Prk::new_less_safe(hkdf, &C2S[..suite.hash_len]);
    let mut key = [0u8; 32];
    let key = &mut key[..alg.key_len()];
    hkdf_expand_label(&prk, b"key", &[], key).expect("key derivation");
    RingRecord::with_key(aead::UnboundKey::new(alg, key).expect("ring key"), payload)
}

fn bench_size(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    suite: &'static Suite,
    size: usize,
) {
    let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let mut dst = vec![0u8; size];

    // Check once, untimed, that each variant really round-trips the payload.
    let mut pair = Pair::new(suite);
    pair.send(&payload);
    assert_eq!(pair.recv_copy(&mut dst), size);
    assert_eq!(dst, payload);
    assert_eq!(ring_record(suite, &payload).round_trip(), size + 1);

    group.bench_function("tlspair/read", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || Pair::new(suite),
                |pair| {
                    pair.send(&payload);
                    pair.recv_copy(&mut dst);
                },
            )
        })
    });
    group.bench_function("tlspair/read_in_place", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || Pair::new(suite),
                |pair| {
                    pair.send(&payload);
                    pair.recv_in_place();
                },
            )
        })
    });
    group.bench_function("ring", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || ring_record(suite, &payload),
                |rec| {
                    rec.round_trip();
                },
            )
        })
    });
}

fn record(c: &mut Criterion) {
    for suite in ALL_SUITES {
        for size in SIZES {
            let name = suite.id.name().unwrap_or("unknown suite");
            let mut group = c.benchmark_group(format!("{name}/{size}"));
            group.throughput(Throughput::Bytes(size as u64));
            bench_size(&mut group, suite, size);
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    // 27 benchmarks at ~2.6 s each: the whole run stays under two minutes
    // on a 2-core machine.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = record
}
/// The paired pass (see benches/transfer.rs and `common::paired`): every
/// variant once per round, order rotating, ratios within rounds.
fn paired_ratios() {
    println!("\nPaired rounds (about 1 MiB of records per variant per round): median GiB/s;");
    println!("ratios are throughput tlspair / ring, median of per-round ratios [p25, p75]");
    for suite in ALL_SUITES {
        for size in SIZES {
            let name = suite.id.name().unwrap_or("unknown suite");
            let records = (1 << 20) / size;
            let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
            let payload = &payload;
            let mut dst = vec![0u8; size];
            let dst = &mut dst;
            let variants = vec![
                Variant::new("tlspair/read", move || {
                    let mut pair = Pair::new(suite);
                    let t = Instant::now();
                    for _ in 0..records {
                        pair.send(payload);
                        pair.recv_copy(dst);
                    }
                    t.elapsed()
                }),
                Variant::new("tlspair/read_in_place", move || {
                    let mut pair = Pair::new(suite);
                    let t = Instant::now();
                    for _ in 0..records {
                        pair.send(payload);
                        pair.recv_in_place();
                    }
                    t.elapsed()
                }),
                Variant::new("ring", move || {
                    let mut rec = ring_record(suite, payload);
                    let t = Instant::now();
                    for _ in 0..records {
                        rec.round_trip();
                    }
                    t.elapsed()
                }),
            ];
            let p = paired(40, variants);
            let gib = |s: f64| (records * size) as f64 / s / f64::from(1u32 << 30);
            let (ring, _, _) = p.time("ring");
            let (a, _, _) = p.time("tlspair/read");
            let (b, _, _) = p.time("tlspair/read_in_place");
            let (ra, ra25, ra75) = p.ratio("tlspair/read", "ring");
            let (rb, rb25, rb75) = p.ratio("tlspair/read_in_place", "ring");
            println!(
                "  {name:<30} {size:>5} B: ring {:.2}  read {:.2} ({ra:.3} [{ra25:.3}, {ra75:.3}])  read_in_place {:.2} ({rb:.3} [{rb25:.3}, {rb75:.3}])",
                gib(ring),
                gib(a),
                gib(b),
            );
        }
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if paired_pass_wanted() {
        paired_ratios();
    }
}
