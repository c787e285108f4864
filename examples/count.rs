//! A small program to count instructions with callgrind: it sets up one
//! workload, then repeats it `N` times. The instructions of one unit are
//! `(Ir(N) - Ir(0)) / N`, which cancels the setup (configurations, the
//! handshake that opens a transfer, process start).
//!
//! ```sh
//! cargo build --release --example count
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     target/release/examples/count full-tlspair 20
//! ```
//!
//! `scripts/count-instructions.sh` runs every workload that way and
//! prints the table of docs/performance.md. Workloads (`N` is handshakes,
//! or MiB for transfers, which use 16 KiB writes unless a third argument
//! gives another write size):
//!
//! - `full-tlspair`, `full-rustls`: full handshakes, client + server
//!   (TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256, webpki verification);
//! - `resumed-tlspair`, `resumed-rustls`: ticket resumptions (psk_dhe_ke),
//!   one new ticket issued and stored per handshake;
//! - `pk-limit`: the public-key work of one full handshake in raw ring;
//! - `transfer-tlspair`: `write`, a copy into the server's received view,
//!   `read` into a buffer (each payload byte copied three times, once of
//!   them by the "transport");
//! - `transfer-tlspair-in-place`: `write`, storage handed over, and
//!   `read_in_place` (one copy: into the outgoing view);
//! - `transfer-tlspair12-in-place`: the same over TLS 1.2
//!   (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
//! - `transfer-tlspair-swap`: `write`, storage handed over, `read` (two
//!   copies: into the outgoing view, out of the received one);
//! - `transfer-tlspair-in-place-copy`: `write`, the copying transport,
//!   `read_in_place` (two: `write` and the transport);
//! - `transfer-tlspair-zero-copy`: `reserve`/`seal_reserved`, storage
//!   handed over, `read_in_place` (none);
//! - `transfer-rustls`: buffered `ClientConnection`/`ServerConnection`,
//!   `write_tls`/`read_tls` through a Vec;
//! - `transfer-rustls-unbuffered`: rustls's unbuffered API;
//! - `transfer-ring`: AES-128-GCM seal + open of the same records.

#[path = "../benches/common/mod.rs"]
mod common;

use common::{
    handshake_bufs, OurTransfer, Ours, PublicKeyLimit, Read, RingRecord, RustlsTransfer, Theirs,
    Transport, UnbufferedTransfer,
};

const WRITE: usize = 16 * 1024;
const MIB: usize = 1 << 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(what), Some(n)) = (
        args.next(),
        args.next().and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: count <workload> <N> [write size]   (see the source for workloads)");
        std::process::exit(2);
    };
    // Optional: the write size of transfers (default 16 KiB).
    let write = args.next().and_then(|w| w.parse().ok()).unwrap_or(WRITE);
    let chunk: Vec<u8> = (0..write).map(|i| i as u8).collect();
    match what.as_str() {
        "full-tlspair" => {
            let ours = Ours::new();
            let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
            for _ in 0..n {
                std::hint::black_box(ours.full(&mut cb, &mut sb));
            }
        }
        "resumed-tlspair" => {
            let ours = Ours::new();
            let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
            let ticket = ours.first_ticket(&mut cb, &mut sb);
            for _ in 0..n {
                std::hint::black_box(ours.resumed(ticket, &mut cb, &mut sb));
            }
        }
        "full-rustls" => {
            let theirs = Theirs::new();
            let mut wire = Vec::with_capacity(20_000);
            for _ in 0..n {
                drop(std::hint::black_box(theirs.full(&mut wire)));
            }
        }
        "resumed-rustls" => {
            let theirs = Theirs::new();
            let mut wire = Vec::with_capacity(20_000);
            // A full handshake fills the cache.
            drop(theirs.resumed(&mut wire));
            for _ in 0..n {
                drop(std::hint::black_box(theirs.resumed(&mut wire)));
            }
        }
        "pk-limit" => {
            let limit = PublicKeyLimit::new();
            for _ in 0..n {
                limit.run();
            }
        }
        "transfer-tlspair" => {
            let mut t = OurTransfer::new(&Ours::new());
            assert_eq!(t.run(&chunk, n * MIB, Transport::Copy, Read::Copy), n * MIB);
        }
        "transfer-tlspair-in-place" => {
            let mut t = OurTransfer::new(&Ours::new());
            assert_eq!(
                t.run(&chunk, n * MIB, Transport::Swap, Read::InPlace),
                n * MIB
            );
        }
        "transfer-tlspair12-in-place" => {
            let mut t = OurTransfer::new_tls12(&Ours::new());
            assert_eq!(
                t.run(&chunk, n * MIB, Transport::Swap, Read::InPlace),
                n * MIB
            );
        }
        "transfer-tlspair-swap" => {
            let mut t = OurTransfer::new(&Ours::new());
            assert_eq!(t.run(&chunk, n * MIB, Transport::Swap, Read::Copy), n * MIB);
        }
        "transfer-tlspair-in-place-copy" => {
            let mut t = OurTransfer::new(&Ours::new());
            assert_eq!(
                t.run(&chunk, n * MIB, Transport::Copy, Read::InPlace),
                n * MIB
            );
        }
        "transfer-tlspair-zero-copy" => {
            let mut t = OurTransfer::new(&Ours::new());
            assert_eq!(t.run_zero_copy(chunk.len(), n * MIB), n * MIB);
        }
        "transfer-rustls" => {
            let mut t = RustlsTransfer::new(&Theirs::new());
            assert_eq!(t.run(&chunk, n * MIB), n * MIB);
        }
        "transfer-rustls-unbuffered" => {
            let mut t = UnbufferedTransfer::new(&Theirs::new());
            assert_eq!(t.run(&chunk, n * MIB), n * MIB);
        }
        "transfer-ring" => {
            let mut r = RingRecord::new(&chunk);
            assert!(r.transfer(n * MIB) >= n * MIB);
        }
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(2);
        }
    }
    // What the engine copied (plaintext into and out of the views, the
    // transport's `RecvBuf::fill`), for copies per byte: built with
    // `--features count-copies` (scripts/count-instructions.sh does).
    #[cfg(feature = "count-copies")]
    println!("copied {}", tlspair::test_bytes_copied());
}
