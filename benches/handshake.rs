//! Handshakes per second, client and server together in one thread, with
//! the public-key work they cannot avoid measured in the same run.
//!
//! Both stacks: TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, the built-in
//! ECDSA P-256 server credential, the client verifying the chain with
//! webpki against the test CA; rustls 0.23 on its ring provider (the same
//! ring 0.17 as ours). Groups:
//!
//! - `handshake/full`: a full handshake, no tickets on either side
//!   (rustls: client resumption disabled, server `send_tls13_tickets = 0`).
//! - `handshake/resumed`: a PSK (psk_dhe_ke) resumption from a ticket,
//!   the server issuing one new ticket and the client storing it (rustls:
//!   its ring `Ticketer` and in-memory client cache; tlspair: a ticket key
//!   and a sink keeping a `StoredTicket`).
//! - `handshake/full/public-key-limit`: what any full handshake with these
//!   choices computes at least, in raw ring: two X25519 key pairs and
//!   agreements, one ECDSA P-256 signature (CertificateVerify), two ECDSA
//!   P-256 verifications (the certificate by the CA, CertificateVerify).
//!
//! Each iteration is one whole handshake (both connections created,
//! driven through in-memory buffers reused across iterations, dropped).
//! After criterion's report the bench prints the ratios from this run's
//! medians. `cargo bench --bench handshake` takes about 40 seconds.

mod common;

use std::time::Duration;

use common::{estimate, handshake_bufs, speed_ratio, Ours, PublicKeyLimit, Theirs};
use criterion::{criterion_group, Criterion};

fn full(c: &mut Criterion) {
    let ours = Ours::new();
    let theirs = Theirs::new();
    let limit = PublicKeyLimit::new();
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let mut wire = Vec::with_capacity(20_000);

    let mut g = c.benchmark_group("handshake/full");
    g.bench_function("tlspair", |b| b.iter(|| ours.full(&mut cb, &mut sb)));
    g.bench_function("rustls", |b| b.iter(|| theirs.full(&mut wire)));
    g.bench_function("public-key-limit", |b| b.iter(|| limit.run()));
    g.finish();
}

fn resumed(c: &mut Criterion) {
    let ours = Ours::new();
    let theirs = Theirs::new();
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let ticket = ours.first_ticket(&mut cb, &mut sb);
    let mut wire = Vec::with_capacity(20_000);
    // rustls: a first full handshake fills the client's cache; each
    // resumed one takes a ticket and stores the new one.
    let (c0, _) = theirs.resumed(&mut wire);
    assert!(c0.handshake_kind() == Some(rustls::HandshakeKind::Full));
    let (c1, _) = theirs.resumed(&mut wire);
    assert!(c1.handshake_kind() == Some(rustls::HandshakeKind::Resumed));
    let (conn, _) = ours.resumed(ticket, &mut cb, &mut sb);
    assert!(conn.negotiated().expect("negotiated").resumed);

    let mut g = c.benchmark_group("handshake/resumed");
    g.bench_function("tlspair", |b| b.iter(|| ours.resumed(ticket, &mut cb, &mut sb)));
    g.bench_function("rustls", |b| b.iter(|| theirs.resumed(&mut wire)));
    g.finish();
}

fn ratios() {
    let per_sec = |ns: f64| 1e9 / ns;
    println!("\nMedians of this run (handshakes/s; ratios are rate ours / reference, 95% CI of the medians in brackets):");
    let row = |group: &str, reference: &str| {
        let (Some(ours), Some(r)) = (estimate(group, "tlspair"), estimate(group, reference)) else {
            return;
        };
        let (x, lo, hi) = speed_ratio(ours, r);
        println!(
            "  {group:<18} tlspair {:>7.0}/s   {reference:<16} {:>7.0}/s   ratio {x:.3} [{lo:.3}, {hi:.3}]",
            per_sec(ours.median),
            per_sec(r.median),
        );
    };
    row("handshake/full", "public-key-limit");
    row("handshake/full", "rustls");
    row("handshake/resumed", "rustls");
    if let (Some(f), Some(r)) = (
        estimate("handshake/full", "rustls"),
        estimate("handshake/full", "public-key-limit"),
    ) {
        let (x, lo, hi) = speed_ratio(f, r);
        println!("  (rustls full / public-key limit: {x:.3} [{lo:.3}, {hi:.3}])");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(30);
    targets = full, resumed
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
