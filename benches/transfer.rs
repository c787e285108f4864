//! Bulk transfer: 16 MiB client→server per iteration, in writes of
//! 16 KiB, 1 KiB and 64 B, over connections set up by a real handshake
//! (TLS_AES_128_GCM_SHA256, X25519), against rustls 0.23 on the same ring
//! and against raw ring seal+open of the same records.
//!
//! Every round the client writes until its outgoing room (64 KiB) is
//! full, the "transport" moves the records, and the server reads until it
//! has nothing left. One group per write size:
//!
//! - `ring`: the limit. AES-128-GCM seal then open of each record's inner
//!   plaintext in place; no framing, no buffers, no copy.
//! - `tlspair/<read>/<transport>`: `read` copies the plaintext into the
//!   caller's buffer (SSL_read), `read_in_place` lends it; the `copy`
//!   transport memcpys the records into the server's received view (as a
//!   socket would), `swap` hands the client's outgoing storage to the
//!   server as received storage (no byte moves: the engine's own cost).
//! - `rustls/buffered`: `writer().write_all`, `write_tls` into a reused
//!   Vec, `read_tls` + `process_new_packets`, `reader().read`.
//! - `rustls/unbuffered`: `WriteTraffic::encrypt` into a caller buffer
//!   that is then handed to the server (like `swap`), `process_tls_records`
//!   and `ReadTraffic::next_record`.
//!
//! Connections are fresh for every criterion sample (set up untimed), so
//! no key nears its usage limit. After criterion's report the bench
//! prints the ratios (throughput of ours / reference, medians of this
//! run). `cargo bench --bench transfer` takes about 2 minutes on 2 cores.

mod common;

use std::time::{Duration, Instant};

use common::{
    estimate, speed_ratio, OurTransfer, Ours, Read, RingRecord, RustlsTransfer, Theirs, Transport,
    UnbufferedTransfer,
};
use criterion::{criterion_group, BenchmarkGroup, Criterion, SamplingMode, Throughput};

const TOTAL: usize = 16 << 20;
const WRITES: [usize; 3] = [16 * 1024, 1024, 64];

const OURS: [(&str, Read, Transport); 4] = [
    ("tlspair/read/copy", Read::Copy, Transport::Copy),
    ("tlspair/read/swap", Read::Copy, Transport::Swap),
    ("tlspair/read_in_place/copy", Read::InPlace, Transport::Copy),
    ("tlspair/read_in_place/swap", Read::InPlace, Transport::Swap),
];

fn group_name(write: usize) -> String {
    format!("transfer/{write}")
}

fn timed<T>(iters: u64, setup: impl FnOnce() -> T, mut round: impl FnMut(&mut T)) -> Duration {
    let mut state = setup();
    let start = Instant::now();
    for _ in 0..iters {
        round(&mut state);
    }
    start.elapsed()
}

fn bench_write(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ours: &Ours,
    theirs: &Theirs,
    write: usize,
) {
    let chunk: Vec<u8> = (0..write).map(|i| i as u8).collect();

    // Untimed: every variant delivers all the bytes.
    for (_, read, transport) in OURS {
        assert_eq!(OurTransfer::new(ours).run(&chunk, TOTAL, transport, read), TOTAL);
    }
    assert_eq!(RustlsTransfer::new(theirs).run(&chunk, TOTAL), TOTAL);
    assert_eq!(UnbufferedTransfer::new(theirs).run(&chunk, TOTAL), TOTAL);

    group.bench_function("ring", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || RingRecord::new(&chunk),
                |r| {
                    r.transfer(TOTAL);
                },
            )
        })
    });
    for (name, read, transport) in OURS {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    || OurTransfer::new(ours),
                    |t| {
                        t.run(&chunk, TOTAL, transport, read);
                    },
                )
            })
        });
    }
    group.bench_function("rustls/buffered", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || RustlsTransfer::new(theirs),
                |t| {
                    t.run(&chunk, TOTAL);
                },
            )
        })
    });
    group.bench_function("rustls/unbuffered", |b| {
        b.iter_custom(|iters| {
            timed(
                iters,
                || UnbufferedTransfer::new(theirs),
                |t| {
                    t.run(&chunk, TOTAL);
                },
            )
        })
    });
}

fn transfer(c: &mut Criterion) {
    let ours = Ours::new();
    let theirs = Theirs::new();
    for write in WRITES {
        let mut group = c.benchmark_group(group_name(write));
        group.throughput(Throughput::Bytes(TOTAL as u64));
        group.sampling_mode(SamplingMode::Flat);
        bench_write(&mut group, &ours, &theirs, write);
        group.finish();
    }
}

/// Prints, per write size, each variant's median throughput and its ratio
/// to ring and to rustls (buffered), from this run's estimates.
fn ratios() {
    let gib = |ns: f64| TOTAL as f64 / ns / 1.073_741_824;
    println!("\nMedians of this run (GiB/s; ratios are throughput ours / reference, 95% CI of the medians in brackets):");
    for write in WRITES {
        let g = group_name(write);
        let (Some(ring), Some(rustls)) = (estimate(&g, "ring"), estimate(&g, "rustls/buffered"))
        else {
            continue;
        };
        println!("  {write:>5} B writes: ring {:.2}", gib(ring.median));
        let mut rows: Vec<&str> = OURS.iter().map(|(n, _, _)| *n).collect();
        rows.push("rustls/unbuffered");
        rows.push("rustls/buffered");
        for name in rows {
            let Some(e) = estimate(&g, name) else { continue };
            let (r, rlo, rhi) = speed_ratio(e, ring);
            let (t, tlo, thi) = speed_ratio(e, rustls);
            println!(
                "    {name:<28} {:>6.2}   / ring {r:.2} [{rlo:.2}, {rhi:.2}]   / rustls {t:.2} [{tlo:.2}, {thi:.2}]",
                gib(e.median)
            );
        }
    }
}

criterion_group! {
    name = benches;
    // 21 benchmarks at ~4 s each.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    targets = transfer
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
