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
//! - `openssl`: OpenSSL (the system's libssl) over memory BIO pairs:
//!   `SSL_write`, `BIO_read` from the client's write BIO and `BIO_write`
//!   into the server's read BIO (the copying transport), `SSL_read` into
//!   a buffer: SSL_write(3)'s own configuration.
//! - `rustls/unbuffered`: `WriteTraffic::encrypt` into a caller buffer
//!   that is then handed to the server (like `swap`), `process_tls_records`
//!   and `ReadTraffic::next_record`.
//!
//! Connections are fresh for every criterion sample (set up untimed), so
//! no key nears its usage limit.
//!
//! On a shared 2-core machine criterion's medians, taken one benchmark
//! after another, drift with the load of other processes (a ring limit
//! slower than the engine built on it was seen). So after criterion's
//! report a paired pass runs every variant once per round, rotating the
//! order, and prints the median of the per-round ratios: those are the
//! figures to quote. `cargo bench --bench transfer` takes about 2 minutes
//! on 2 cores (a criterion filter skips the paired pass; the filter
//! `paired` runs it alone).
//!
//! The paired pass ends with the offset sweep (the filter `sweep` runs it
//! alone): the copying path with the application's buffers at every
//! 64-byte offset of a page relative to the views, since a copy whose
//! source and destination sit a few bytes apart within their pages can
//! run many times slower (docs/performance.md, "Buffer placement").

mod common;
#[path = "common/counting.rs"]
mod counting;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

use std::time::{Duration, Instant};

use common::ossl::{Openssl, OpensslTransfer};
use common::{
    median_iqr, paired, paired_pass_wanted, timed, OurTransfer, Ours, Read, RingRecord,
    RustlsTransfer, Theirs, Transport, UnbufferedTransfer, Variant, PAGE,
};
use criterion::{criterion_group, BenchmarkGroup, Criterion, SamplingMode, Throughput};

const TOTAL: usize = 16 << 20;
/// Per write size: bytes per variant per round of the paired pass, and
/// rounds. Small units (a few ms), many rounds, so a burst of load spoils
/// few pairs.
const PAIRED: [(usize, usize); 3] = [(2 << 20, 200), (2 << 20, 120), (256 << 10, 150)];
const WRITES: [usize; 3] = [16 * 1024, 1024, 64];

/// TLS 1.2 paths, each paired with its TLS 1.3 counterpart in the report.
const TLS12: [(&str, Read, Transport); 2] = [
    ("tlspair-tls12/read/copy", Read::Copy, Transport::Copy),
    (
        "tlspair-tls12/read_in_place/swap",
        Read::InPlace,
        Transport::Swap,
    ),
];

const OURS: [(&str, Read, Transport); 4] = [
    ("tlspair/read/copy", Read::Copy, Transport::Copy),
    ("tlspair/read/swap", Read::Copy, Transport::Swap),
    ("tlspair/read_in_place/copy", Read::InPlace, Transport::Copy),
    ("tlspair/read_in_place/swap", Read::InPlace, Transport::Swap),
];

/// Per path, the copies of each payload byte its API needs: `write`
/// copies into the outgoing view, the copying transport into the received
/// view, `read` out of it; in-place paths copy nothing.
const COPIES: [(&str, f64); 5] = [
    ("tlspair/read/copy", 3.0),
    ("tlspair/read/swap", 2.0),
    ("tlspair/read_in_place/copy", 2.0),
    ("tlspair/read_in_place/swap", 1.0),
    ("tlspair/seal_in_place+read_in_place/swap", 0.0),
];

/// The index into `v` that is `offset` bytes into a 4 KiB page.
fn page_offset(v: &[u8], offset: usize) -> usize {
    (offset + PAGE - v.as_ptr() as usize % PAGE) % PAGE
}

fn group_name(write: usize) -> String {
    format!("transfer/{write}")
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
        assert_eq!(
            OurTransfer::new(ours).run(&chunk, TOTAL, transport, read),
            TOTAL
        );
    }
    assert_eq!(OurTransfer::new(ours).run_zero_copy(write, TOTAL), TOTAL);
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

/// The paired pass: per write size, every variant once per round, the
/// order rotating; ratios are taken within each round (see
/// `common::paired`). These are the figures docs/performance.md uses.
fn paired_ratios(ours: &Ours, theirs: &Theirs, openssl: Option<&Openssl>) {
    println!("\nPaired rounds: median GiB/s [p25, p75];");
    println!("ratios are throughput ours / reference (rustls: buffered; unbuffered: rustls's unbuffered API),");
    println!("median of per-round ratios [p25, p75]");
    for (write, (unit, rounds)) in WRITES.into_iter().zip(PAIRED) {
        let chunk: Vec<u8> = (0..write).map(|i| i as u8).collect();
        let chunk = &chunk;
        let mut variants = vec![Variant::new("ring", move || {
            let mut r = RingRecord::new(chunk);
            let t = Instant::now();
            r.transfer(unit);
            t.elapsed()
        })];
        for (name, read, transport) in OURS {
            variants.push(Variant::new(name, move || {
                let mut x = OurTransfer::new(ours);
                let t = Instant::now();
                x.run(chunk, unit, transport, read);
                t.elapsed()
            }));
        }
        // TLS 1.2 (AES-128-GCM, its explicit nonce), the copying path and
        // the one that copies least.
        for (name, read, transport) in TLS12 {
            variants.push(Variant::new(name, move || {
                let mut x = OurTransfer::new_tls12(ours);
                let t = Instant::now();
                x.run(chunk, unit, transport, read);
                t.elapsed()
            }));
        }
        variants.push(Variant::new(
            "tlspair/seal_in_place+read_in_place/swap",
            move || {
                let mut x = OurTransfer::new(ours);
                let t = Instant::now();
                x.run_zero_copy(chunk.len(), unit);
                t.elapsed()
            },
        ));
        variants.push(Variant::new("rustls/unbuffered", move || {
            let mut x = UnbufferedTransfer::new(theirs);
            let t = Instant::now();
            x.run(chunk, unit);
            t.elapsed()
        }));
        variants.push(Variant::new("rustls/buffered", move || {
            let mut x = RustlsTransfer::new(theirs);
            let t = Instant::now();
            x.run(chunk, unit);
            t.elapsed()
        }));
        // The copy-bound limits' copy: `unit` bytes in writes of this
        // size, from one buffer to another (256 bytes into a page each:
        // no close page offsets).
        variants.push(Variant::new("memcpy", move || {
            let src = vec![1u8; write + 8192];
            let mut dst = vec![0u8; write + 8192];
            let (s0, d0) = (page_offset(&src, 256), page_offset(&dst, 256));
            let t = Instant::now();
            let mut done = 0;
            while done < unit {
                dst[d0..d0 + write].copy_from_slice(std::hint::black_box(&src[s0..s0 + write]));
                std::hint::black_box(&mut dst);
                done += write;
            }
            t.elapsed()
        }));
        if let Some(openssl) = openssl {
            variants.push(Variant::new("openssl", move || {
                let mut x = OpensslTransfer::new(openssl);
                let t = Instant::now();
                x.run(chunk, unit);
                t.elapsed()
            }));
        }
        let p = paired(rounds, variants);
        let gib = |s: f64| unit as f64 / s / f64::from(1u32 << 30);
        let (ring, _, _) = p.time("ring");
        let (copy, _, _) = p.time("memcpy");
        println!(
            "  {write:>5} B writes, {rounds} rounds: ring {:.2} GiB/s, memcpy {:.2} GiB/s",
            gib(ring),
            gib(copy)
        );
        for name in p.names.iter().skip(1).filter(|n| **n != "memcpy") {
            let (t, t25, t75) = p.time(name);
            let (r, r25, r75) = p.ratio(name, "ring");
            let (q, q25, q75) = p.ratio(name, "rustls/buffered");
            let (u, u25, u75) = p.ratio(name, "rustls/unbuffered");
            let o = if p.names.contains(&"openssl") {
                let (o, o25, o75) = p.ratio(name, "openssl");
                format!("   / openssl {o:.3} [{o25:.3}, {o75:.3}]")
            } else {
                String::new()
            };
            println!(
                "    {name:<42} {:>5.2} [{:.2}, {:.2}]   / ring {r:.3} [{r25:.3}, {r75:.3}]   / rustls {q:.3} [{q25:.3}, {q75:.3}]   / unbuffered {u:.3} [{u25:.3}, {u75:.3}]{o}",
                gib(t),
                gib(t75),
                gib(t25),
            );
        }
        // TLS 1.2 against TLS 1.3 on the same path, per round.
        for (name, _, _) in TLS12 {
            let tls13 = name.replace("tlspair-tls12", "tlspair");
            let (x, lo, hi) = p.ratio(name, &tls13);
            println!("    {name:<42} / {tls13}: {x:.3} [{lo:.3}, {hi:.3}]");
        }
        // Against the copy-bound limit: ring plus, per payload byte, the
        // copies the path needs (write into the outgoing view; the
        // transport; read out of the received view), at this round's
        // memcpy speed.
        let column = |name: &str| &p.secs[p.names.iter().position(|n| *n == name).unwrap()];
        let (ring_s, copy_s) = (column("ring"), column("memcpy"));
        println!("    against the copy-bound limit (ring + copies × memcpy, per round):");
        for (name, copies) in COPIES {
            let ours = column(name);
            let ratios: Vec<f64> = (0..ours.len())
                .map(|r| (ring_s[r] + copies * copy_s[r]) / ours[r])
                .collect();
            let (x, lo, hi) = median_iqr(&ratios);
            println!("      {name:<42} {copies} copies: {x:.3} [{lo:.3}, {hi:.3}]");
        }
    }
}

/// The offset sweep: 16 KiB writes with `write` + `read` over the copying
/// transport, the written data and the read buffer placed at each offset
/// from their views' page offsets (0 to 4,095 in steps of 64), paired with
/// ring in every round. Prints the ratio to ring per offset and the worst
/// and best.
fn offset_sweep(ours: &Ours) {
    const WRITE: usize = 16 * 1024;
    const UNIT: usize = 2 << 20;
    const ROUNDS: usize = 60;
    let chunk: Vec<u8> = (0..WRITE).map(|i| i as u8).collect();
    let chunk = &chunk;
    let offsets: Vec<usize> = (0..PAGE).step_by(64).collect();
    let mut ring = RingRecord::new(chunk);
    let mut variants = vec![Variant::new("ring", move || {
        ring.transfer(4 * WRITE);
        let t = Instant::now();
        ring.transfer(UNIT);
        t.elapsed()
    })];
    for &offset in &offsets {
        let name: &'static str = Box::leak(format!("offset {offset}").into_boxed_str());
        // One pair per offset for the whole sweep (its keys stay far from
        // their limits), warmed before each timed unit.
        let mut x = OurTransfer::new(ours);
        let mut placed = x.place(WRITE, offset);
        variants.push(Variant::new(name, move || {
            x.run_placed(&mut placed, 4 * WRITE);
            let t = Instant::now();
            x.run_placed(&mut placed, UNIT);
            t.elapsed()
        }));
    }
    let p = paired(ROUNDS, variants);
    println!(
        "\nOffset sweep: 16 KiB writes, write + read over the copying transport, the application"
    );
    println!("buffers at each offset from their views' page offsets; ratio to ring, median of {ROUNDS} rounds");
    let mut ratios: Vec<(f64, &str)> = p
        .names
        .iter()
        .skip(1)
        .map(|name| (p.ratio(name, "ring").0, *name))
        .collect();
    for row in ratios.chunks(8) {
        let line: Vec<String> = row
            .iter()
            .map(|(r, n)| format!("{:>4}:{r:.3}", &n[7..]))
            .collect();
        println!("  {}", line.join("  "));
    }
    ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (worst, best) = (ratios[0], ratios[ratios.len() - 1]);
    println!(
        "  worst {:.3} ({}), best {:.3} ({}): worst/best {:.3}, best - worst {:.3}",
        worst.0,
        worst.1,
        best.0,
        best.1,
        worst.0 / best.0,
        best.0 - worst.0
    );

    // Among 64 offsets the extremes of one sweep are partly the noise of
    // its rounds; the worst and the best offset are measured again, side
    // by side, in rounds of their own.
    const RECHECK_ROUNDS: usize = 150;
    let offset_of = |name: &str| name[7..].parse::<usize>().unwrap();
    let mut ring = RingRecord::new(chunk);
    let mut again = vec![Variant::new("ring", move || {
        ring.transfer(4 * WRITE);
        let t = Instant::now();
        ring.transfer(UNIT);
        t.elapsed()
    })];
    for (label, name) in [("worst", worst.1), ("best", best.1)] {
        let mut x = OurTransfer::new(ours);
        let mut placed = x.place(WRITE, offset_of(name));
        again.push(Variant::new(label, move || {
            x.run_placed(&mut placed, 4 * WRITE);
            let t = Instant::now();
            x.run_placed(&mut placed, UNIT);
            t.elapsed()
        }));
    }
    let q = paired(RECHECK_ROUNDS, again);
    let (w, w25, w75) = q.ratio("worst", "ring");
    let (b, b25, b75) = q.ratio("best", "ring");
    let (wb, wb25, wb75) = q.ratio("worst", "best");
    println!(
        "  again, {RECHECK_ROUNDS} rounds: {} {w:.3} [{w25:.3}, {w75:.3}], {} {b:.3} [{b25:.3}, {b75:.3}] of ring; worst/best {wb:.3} [{wb25:.3}, {wb75:.3}], best - worst {:.3}",
        worst.1,
        best.1,
        b - w
    );
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

/// Allocations per MiB moved with 16 KiB writes, after the connections
/// exist: Rust's allocator, OpenSSL's `CRYPTO_malloc`.
fn allocations(ours: &Ours, theirs: &Theirs, openssl: Option<&Openssl>) {
    const MIB: usize = 1 << 20;
    let chunk = vec![7u8; 16 * 1024];
    println!("\nAllocations per MiB (16 KiB writes; Rust's allocator, OpenSSL's CRYPTO_malloc):");
    let mut x = OurTransfer::new(ours);
    let a = counting::per_call(8, || {
        x.run(&chunk, MIB, Transport::Copy, Read::Copy);
    });
    let mut y = RustlsTransfer::new(theirs);
    let b = counting::per_call(8, || {
        y.run(&chunk, MIB);
    });
    let mut rows = vec![("tlspair/read/copy", a), ("rustls/buffered", b)];
    if let Some(openssl) = openssl {
        let mut z = OpensslTransfer::new(openssl);
        let c = counting::per_call(8, || {
            z.run(&chunk, MIB);
        });
        rows.push(("openssl", c));
    }
    for (name, (rust, c)) in rows {
        println!("  {name:<22} {rust:>7.1} Rust, {c:>7.1} OpenSSL");
    }
}

fn main() {
    // Before OpenSSL allocates anything.
    assert_ne!(
        common::ossl::count_allocations(),
        Some(false),
        "OpenSSL allocated first"
    );
    benches();
    Criterion::default().configure_from_args().final_summary();
    let sweep_alone = std::env::args().skip(1).any(|a| a == "sweep");
    if sweep_alone {
        offset_sweep(&Ours::new());
    } else if paired_pass_wanted() {
        let ours = Ours::new();
        let theirs = Theirs::new();
        let openssl = Openssl::load();
        if openssl.is_none() {
            println!("(no libssl.so.3 / libcrypto.so.3: OpenSSL left out)");
        }
        paired_ratios(&ours, &theirs, openssl.as_ref());
        allocations(&ours, &theirs, openssl.as_ref());
        offset_sweep(&ours);
    }
}
