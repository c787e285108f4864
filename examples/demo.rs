//! The main job: two tlspair engines talking through caller-owned memory.
//!
//! Until the handshake layer lands, both sides start from traffic secrets
//! made up here (as if negotiated elsewhere, the way kernel TLS is handed
//! keys). The demo then moves 64 MiB each way through fixed buffers it owns,
//! closes cleanly, and reports throughput, engine state size and the heap
//! allocations the engine made (counted by this program's allocator).
//!
//! Run: `cargo run --release --example demo`

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ring::rand::{SecureRandom, SystemRandom};
use tlspair::record::MAX_RECORD_LEN;
use tlspair::{Buffers, Connection, RecordConfig, Shutdown, Status, Suite, ALL_SUITES};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const TRANSFER: usize = 64 << 20;
const WRITE_SIZE: usize = 16 << 10;

type Bufs = Buffers<Box<[u8]>, Box<[u8]>>;

/// Moves every pending outgoing byte of one side into the other's
/// received view: the demo's whole "network".
fn wire(from: &mut Bufs, to: &mut Bufs) {
    let n = to.recv.fill(from.send.pending());
    from.send.consume(n);
}

/// Streams `TRANSFER` bytes from `tx` to `rx`; returns bytes received and
/// seconds taken.
fn stream(
    tx: &mut Connection,
    txb: &mut Bufs,
    rx: &mut Connection,
    rxb: &mut Bufs,
    pattern: &[u8],
    label: &str,
) -> (usize, f64) {
    // The stream is the bytes 0..=255 repeated: any 16 KiB window of
    // `pattern` is a valid write, and a received slice must equal the
    // window at its stream offset.
    let chunk = &pattern[..WRITE_SIZE];
    let live = std::io::stdout().is_terminal();
    let mut sent = 0;
    let mut received = 0;
    let started = Instant::now();
    let mut next_report = 0;
    while received < TRANSFER {
        if sent < TRANSFER {
            match tx.write(txb, chunk).expect("write") {
                Status::Done(n) => sent += n,
                Status::WantWrite { .. } => {}
                other => panic!("write: {other:?}"),
            }
        }
        wire(txb, rxb);
        loop {
            match rx.read_in_place(rxb).expect("read") {
                Status::Done(plain) => {
                    let n = plain.len();
                    assert!(
                        plain[..] == pattern[received % 256..][..n],
                        "corrupted stream"
                    );
                    received += n;
                    rx.consume(rxb, n);
                }
                Status::WantRead => break,
                other => panic!("read: {other:?}"),
            }
        }
        if live && received >= next_report {
            print!(
                "\r  {label}: {:>3} / {} MiB",
                received >> 20,
                TRANSFER >> 20
            );
            let _ = std::io::stdout().flush();
            next_report += 4 << 20;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\r  {label}: {} MiB in {:.3} s, {:.2} GB/s",
        TRANSFER >> 20,
        secs,
        TRANSFER as f64 / secs / 1e9
    );
    (received, secs)
}

fn run(suite: &'static Suite, rng: &SystemRandom) {
    let mut c2s = [0u8; 48];
    let mut s2c = [0u8; 48];
    rng.fill(&mut c2s).expect("rng");
    rng.fill(&mut s2c).expect("rng");
    let (c2s, s2c) = (&c2s[..suite.hash_len], &s2c[..suite.hash_len]);
    let cfg = RecordConfig::default();
    let mut client = Connection::from_traffic_secrets(suite, c2s, s2c, cfg).expect("client");
    let mut server = Connection::from_traffic_secrets(suite, s2c, c2s, cfg).expect("server");
    let buf = || vec![0u8; MAX_RECORD_LEN].into_boxed_slice();
    let mut cb: Bufs = Buffers::new(buf(), buf());
    let mut sb: Bufs = Buffers::new(buf(), buf());

    let pattern: Vec<u8> = (0..WRITE_SIZE + 256).map(|i| i as u8).collect();

    println!("{suite:?}");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let (up, _) = stream(
        &mut client,
        &mut cb,
        &mut server,
        &mut sb,
        &pattern,
        "client -> server",
    );
    let (down, _) = stream(
        &mut server,
        &mut sb,
        &mut client,
        &mut cb,
        &pattern,
        "server -> client",
    );

    // Clean shutdown both ways.
    assert_eq!(
        client.shutdown(&mut cb).expect("shutdown"),
        Status::Done(Shutdown::Sent)
    );
    wire(&mut cb, &mut sb);
    assert_eq!(
        server.read(&mut sb, &mut [0u8; 1]).expect("read"),
        Status::Closed
    );
    assert_eq!(
        server.shutdown(&mut sb).expect("shutdown"),
        Status::Done(Shutdown::Complete)
    );
    wire(&mut sb, &mut cb);
    assert_eq!(
        client.read(&mut cb, &mut [0u8; 1]).expect("read"),
        Status::Closed
    );
    // Counted across both transfers and the close; stdout is line-buffered
    // with its buffer made earlier, so printing adds nothing.
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    println!(
        "  closed cleanly both ways; {up} + {down} bytes checked; heap allocations: {allocations}"
    );
}

fn main() {
    println!("tlspair demo: two engines, caller-owned buffers, no I/O inside the engine");
    println!(
        "  engine state per connection: {} bytes (size_of::<Connection>()); buffers are the caller's: {} + {} bytes here",
        std::mem::size_of::<Connection>(),
        MAX_RECORD_LEN,
        MAX_RECORD_LEN
    );
    println!("  traffic secrets come from the RNG (the TLS 1.3 handshake is the next milestone)\n");
    let rng = SystemRandom::new();
    for suite in ALL_SUITES {
        run(suite, &rng);
    }
}
