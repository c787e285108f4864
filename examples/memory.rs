//! What a connection costs in memory, tlspair against rustls 0.23 (ring
//! provider), with the configurations of the benches (TLS 1.3,
//! TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256 server key, webpki).
//!
//! 1. `size_of` of the connection types.
//! 2. Heap allocations (count and bytes, counted by this program's global
//!    allocator) per full and per resumed handshake, client + server, and
//!    per MiB of bulk transfer (16 KiB writes).
//! 3. Live heap of one established idle connection: the heap bytes still
//!    held by a connection after its handshake, with its peer dropped.
//! 4. Resident memory of many established idle server connections held in
//!    one `Vec` (no buffers: those belong to the caller), from
//!    `/proc/self/statm` before and after: 100,000 for tlspair, 10,000
//!    for rustls (pass other counts as arguments).
//!
//! Run: `cargo run --release --example memory [tlspair_count [rustls_count]]`

#[path = "../benches/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use common::{handshake_bufs, OurTransfer, Ours, Read, RustlsTransfer, Theirs, Transport};
use tlspair::Connection;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn grow(by: i64) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        grow(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        grow(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        grow(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes allocated while `f` runs.
fn counted<T>(f: impl FnOnce() -> T) -> (u64, u64, T) {
    let (a, b) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let t = f();
    (ALLOCS.load(Relaxed) - a, BYTES.load(Relaxed) - b, t)
}

/// Resident set size in bytes, from /proc/self/statm (4 KiB pages).
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm resident");
    pages * 4096
}

const HANDSHAKES: u64 = 200;
const MIB: usize = 1 << 20;
const TRANSFER_MIB: usize = 64;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("rss") {
        let stack = args.nth(1).expect("stack");
        let count = args.next().and_then(|a| a.parse().ok()).expect("count");
        return rss(&stack, count);
    }
    let ours_count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let theirs_count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);

    let ours = Ours::new();
    let theirs = Theirs::new();
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let mut wire = Vec::with_capacity(20_000);
    let ticket = ours.first_ticket(&mut cb, &mut sb);
    drop(theirs.resumed(&mut wire)); // fills rustls's client cache

    println!(
        "1. size_of (bytes; the same while handshaking and idle: the handshake state lives inside)"
    );
    println!(
        "   tlspair Connection {:>6}   rustls ClientConnection {:>6}   ServerConnection {:>6}   UnbufferedClientConnection {:>6}   UnbufferedServerConnection {:>6}",
        size_of::<Connection>(),
        size_of::<rustls::ClientConnection>(),
        size_of::<rustls::ServerConnection>(),
        size_of::<rustls::client::UnbufferedClientConnection>(),
        size_of::<rustls::server::UnbufferedServerConnection>(),
    );

    println!("\n2. heap allocations (client + server together; count, bytes)");
    let per = |(a, b, ()): (u64, u64, ()), n: u64| (a as f64 / n as f64, b as f64 / n as f64);
    let row = |what: &str, (oa, ob): (f64, f64), (ta, tb): (f64, f64)| {
        println!(
            "   {what:<22} tlspair {oa:>8.1} allocs {ob:>10.0} B    rustls {ta:>8.1} allocs {tb:>10.0} B"
        );
    };
    let o = per(
        counted(|| {
            for _ in 0..HANDSHAKES {
                let _ = ours.full(&mut cb, &mut sb);
            }
        }),
        HANDSHAKES,
    );
    let t = per(
        counted(|| {
            for _ in 0..HANDSHAKES {
                drop(theirs.full(&mut wire));
            }
        }),
        HANDSHAKES,
    );
    row("per full handshake", o, t);
    let o = per(
        counted(|| {
            for _ in 0..HANDSHAKES {
                let _ = ours.resumed(ticket, &mut cb, &mut sb);
            }
        }),
        HANDSHAKES,
    );
    let t = per(
        counted(|| {
            for _ in 0..HANDSHAKES {
                drop(theirs.resumed(&mut wire));
            }
        }),
        HANDSHAKES,
    );
    row("per resumed handshake", o, t);
    let chunk: Vec<u8> = (0..16 * 1024).map(|i| i as u8).collect();
    let mut ot = OurTransfer::new(&ours);
    let mut tt = RustlsTransfer::new(&theirs);
    let total = TRANSFER_MIB * MIB;
    let o = per(
        counted(|| assert_eq!(ot.run(&chunk, total, Transport::Copy, Read::Copy), total)),
        TRANSFER_MIB as u64,
    );
    let t = per(
        counted(|| assert_eq!(tt.run(&chunk, total), total)),
        TRANSFER_MIB as u64,
    );
    row("per MiB (16 KiB writes)", o, t);
    drop((ot, tt));

    // Peak heap while one handshake runs, above what was live before it.
    let peak = |f: &mut dyn FnMut()| {
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        f();
        PEAK.load(Relaxed) - base
    };
    let o = peak(&mut || {
        let _ = ours.full(&mut cb, &mut sb);
    });
    let t = peak(&mut || drop(theirs.full(&mut wire)));
    println!(
        "   peak heap during a full handshake (client + server): tlspair {o} B    rustls {t} B"
    );

    println!("\n3. live heap of one established idle connection (its peer dropped; mean of 100)");
    let live = || LIVE.load(Relaxed);
    let mut held_ours = Vec::with_capacity(100);
    let mut held_theirs_s = Vec::with_capacity(100);
    let mut held_theirs_c = Vec::with_capacity(100);
    let before = live();
    for _ in 0..100 {
        held_ours.push(ours.full(&mut cb, &mut sb));
    }
    let ours_live = (live() - before) as f64 / 100.0;
    let before = live();
    for _ in 0..100 {
        let (_, s) = theirs.full(&mut wire);
        held_theirs_s.push(s);
    }
    let server_live = (live() - before) as f64 / 100.0;
    let before = live();
    for _ in 0..100 {
        let (c, _) = theirs.full(&mut wire);
        held_theirs_c.push(c);
    }
    let client_live = (live() - before) as f64 / 100.0;
    println!(
        "   tlspair client+server pair {ours_live:.0} B    rustls server {server_live:.0} B    rustls client {client_live:.0} B"
    );
    drop((held_ours, held_theirs_s, held_theirs_c));

    println!("\n4. resident memory of established idle server connections, held in a Vec");
    println!("   (each count in a fresh process, so no freed heap is reused)");
    let exe = std::env::current_exe().expect("own path");
    let mut per_conn = [0f64; 2];
    for (i, (stack, count)) in [("tlspair", ours_count), ("rustls", theirs_count)]
        .into_iter()
        .enumerate()
    {
        let out = std::process::Command::new(&exe)
            .args(["rss", stack, &count.to_string()])
            .output()
            .expect("run self");
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        per_conn[i] = text
            .rsplit_once("per connection: ")
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(f64::NAN);
    }
    println!(
        "   rustls / tlspair per connection: {:.1}; rustls scaled to {ours_count} connections: {:.0} MiB",
        per_conn[1] / per_conn[0],
        per_conn[1] * ours_count as f64 / MIB as f64
    );
}

/// Section 4 in a child process: `count` server connections of `stack`.
fn rss(stack: &str, count: usize) {
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let mut wire = Vec::with_capacity(20_000);
    let ours = Ours::new();
    let theirs = Theirs::new();
    // One of each first, so lazily built state is not counted.
    let _ = ours.full(&mut cb, &mut sb);
    drop(theirs.full(&mut wire));
    let mut held_ours: Vec<Connection<'static>> = Vec::new();
    let mut held_theirs: Vec<rustls::ServerConnection> = Vec::new();
    if stack == "tlspair" {
        held_ours.reserve_exact(count);
    } else {
        held_theirs.reserve_exact(count);
    }
    let before = resident();
    for _ in 0..count {
        if stack == "tlspair" {
            let (_, s) = ours.full(&mut cb, &mut sb);
            held_ours.push(s);
        } else {
            let (_, s) = theirs.full(&mut wire);
            held_theirs.push(s);
        }
    }
    let after = resident();
    let per = (after - before) as f64 / count as f64;
    println!(
        "   {stack:<8} {count:>7} connections: RSS {:.1} MiB -> {:.1} MiB (the Vec included); per connection: {per:.0}",
        before as f64 / MIB as f64,
        after as f64 / MIB as f64,
    );
    std::hint::black_box((&held_ours, &held_theirs));
}
