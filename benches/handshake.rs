//! Handshakes per second, client and server together in one thread, with
//! the public-key work they cannot avoid measured in the same run.
//!
//! Both stacks: TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, the built-in
//! ECDSA P-256 server credential, the client verifying the chain with
//! webpki against the test CA; rustls 0.23 on its ring provider (the same
//! ring 0.17 as ours); OpenSSL (the system's libssl) over memory BIO
//! pairs, verifying the chain and the name itself. Groups:
//!
//! - `handshake/full`: a full handshake, no tickets on either side
//!   (rustls: client resumption disabled, server `send_tls13_tickets = 0`).
//! - `handshake/resumed`: a PSK (psk_dhe_ke) resumption from a ticket,
//!   the server issuing one new ticket and the client storing it (rustls:
//!   its ring `Ticketer` and in-memory client cache; tlspair: a ticket key
//!   and a sink keeping a `StoredTicket`).
//! - `resumed/public-key-limit` (paired pass): what a psk_dhe_ke
//!   resumption computes at least, two X25519 key pairs and agreements.
//! - `full/*-tls12` and `resumed/*-tls12` (paired pass): TLS 1.2 with
//!   TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 over X25519; resumed is an
//!   RFC 5077 abbreviated handshake (no key exchange at all) whose server
//!   sends a new ticket (rustls: its ring ticketer and in-memory cache).
//! - `handshake/request`: a resumed connection's request and response
//!   (a 45-byte GET, a 38-byte answer): `*-1rtt` sends the request once
//!   the handshake is done (2 round trips before the response), `*-0rtt`
//!   sends it as early data in the first flight and the server answers
//!   right behind its own flight (1 round trip; tlspair: `write_early`,
//!   `read_early`, a strike register as the replay guard; rustls:
//!   `enable_early_data`, its stateful session store, `send_half_rtt_data`).
//! - `auth/tlspair-post-handshake` (paired pass): one TLS 1.3
//!   post-handshake authentication on an established connection (the
//!   server's request, the client's certificate, signature and Finished
//!   inside its read, the server verifying the chain and the signature),
//!   next to `auth/public-key-limit` (one ECDSA P-256 signature and two
//!   verifications) and `full/tlspair-mtls` (a new full handshake with
//!   the client certificate: what asking on a new connection costs).
//! - `renegotiation/tlspair-tls12` (paired pass): one TLS 1.2 secure
//!   renegotiation (RFC 5746) our server asks for on an established
//!   connection, performed inside both sides' reads, next to
//!   `full/tlspair-tls12` (a new connection's full handshake, the same
//!   public-key work).
//! - `handshake/full/public-key-limit`: what any full handshake with these
//!   choices computes at least, in raw ring: two X25519 key pairs and
//!   agreements, one ECDSA P-256 signature (CertificateVerify), two ECDSA
//!   P-256 verifications (the certificate by the CA, CertificateVerify).
//!
//! Each iteration is one whole handshake (both connections created,
//! driven through in-memory buffers reused across iterations, dropped).
//! After criterion's report a paired pass (every variant once per round,
//! order rotating; see benches/transfer.rs) prints the ratios to quote.
//! The paired pass ends with allocations per handshake of each stack:
//! Rust's allocator counted by this binary's global allocator, OpenSSL's
//! through `CRYPTO_set_mem_functions`.
//! `cargo bench --bench handshake` takes about a minute.

mod common;
#[path = "common/counting.rs"]
mod counting;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

use std::time::{Duration, Instant};

use common::ossl::Openssl;
use common::{
    handshake_bufs, paired, paired_pass_wanted, MlKemCost, Ours, PublicKeyLimit, Theirs, Variant,
};
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
    g.bench_function("tlspair", |b| {
        b.iter(|| ours.resumed(ticket, &mut cb, &mut sb))
    });
    g.bench_function("rustls", |b| b.iter(|| theirs.resumed(&mut wire)));
    g.finish();
}

fn request(c: &mut Criterion) {
    let ours = Ours::new();
    let theirs = Theirs::new();
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let ticket = ours.first_ticket(&mut cb, &mut sb);
    let early = ours.first_early_ticket(&mut cb, &mut sb);
    let mut wire = Vec::with_capacity(20_000);
    drop(theirs.resumed(&mut wire));
    assert_eq!(
        theirs.request_0rtt(&mut wire),
        0,
        "the first fills the cache"
    );
    let mut g = c.benchmark_group("handshake/request");
    g.bench_function("tlspair-1rtt", |b| {
        b.iter(|| ours.request_1rtt(ticket, &mut cb, &mut sb))
    });
    g.bench_function("tlspair-0rtt", |b| {
        b.iter(|| ours.request_0rtt(early, &mut cb, &mut sb))
    });
    g.bench_function("rustls-1rtt", |b| b.iter(|| theirs.request_1rtt(&mut wire)));
    g.bench_function("rustls-0rtt", |b| b.iter(|| theirs.request_0rtt(&mut wire)));
    g.finish();
}

/// Handshakes per paired round and variant.
const PER_ROUND: usize = 16;

/// Times `PER_ROUND` calls of `f`; returns the time of one.
fn time<'a>(mut f: impl FnMut() + 'a) -> impl FnMut() -> Duration + 'a {
    move || {
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            f();
        }
        t.elapsed() / PER_ROUND as u32
    }
}

/// The paired pass (see `common::paired`): the figures docs/performance.md
/// uses.
fn paired_ratios() {
    let ours = Ours::new();
    let theirs = Theirs::new();
    let limit = PublicKeyLimit::new();
    let mlkem = MlKemCost::new();
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let ticket = ours.first_ticket(&mut cb, &mut sb);
    let ticket12 = ours.first_ticket_tls12(&mut cb, &mut sb);
    let early = ours.first_early_ticket(&mut cb, &mut sb);
    let mut wire = Vec::with_capacity(20_000);
    drop(theirs.resumed(&mut wire));
    assert_eq!(
        theirs.request_0rtt(&mut wire),
        0,
        "the first fills the cache"
    );
    println!(
        "\nRound trips before the response: tlspair {} (1-RTT), {} (0-RTT); rustls {} (1-RTT), {} (0-RTT)",
        ours.request_1rtt(ticket, &mut cb, &mut sb),
        ours.request_0rtt(early, &mut cb, &mut sb),
        theirs.request_1rtt(&mut wire),
        theirs.request_0rtt(&mut wire)
    );
    let (c12, _) = theirs.resumed_tls12(&mut wire);
    assert!(!c12.is_handshaking());
    let (c12, _) = theirs.resumed_tls12(&mut wire);
    assert_eq!(c12.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
    let (c12, _) = ours.resumed_tls12(ticket12, &mut cb, &mut sb);
    assert!(c12.negotiated().expect("negotiated").resumed);
    let bufs = std::cell::RefCell::new((cb, sb, wire));
    let pha = &std::cell::RefCell::new(common::PostHandshakeAuth::new(&ours));
    let reneg = &std::cell::RefCell::new(common::Renegotiation::new(&ours));
    let (o, th, b) = (&ours, &theirs, &bufs);
    let openssl = Openssl::load();
    if openssl.is_none() {
        println!("(no libssl.so.3 / libcrypto.so.3: OpenSSL left out)");
    }
    let variants = vec![
        Variant::new(
            "full/tlspair",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.full(cb, sb);
            }),
        ),
        Variant::new(
            "full/rustls",
            time(move || drop(th.full(&mut b.borrow_mut().2))),
        ),
        Variant::new("full/public-key-limit", time(|| limit.run())),
        Variant::new(
            "full/tlspair-hybrid",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.full_hybrid(cb, sb);
            }),
        ),
        Variant::new(
            "full/hybrid-limit",
            time(|| {
                limit.run();
                mlkem.run();
            }),
        ),
        Variant::new(
            "full/tlspair-tls12",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.full_tls12(cb, sb);
            }),
        ),
        Variant::new(
            "full/rustls-tls12",
            time(move || drop(th.full_tls12(&mut b.borrow_mut().2))),
        ),
        Variant::new(
            "resumed/tlspair",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.resumed(ticket, cb, sb);
            }),
        ),
        Variant::new(
            "resumed/rustls",
            time(move || drop(th.resumed(&mut b.borrow_mut().2))),
        ),
        Variant::new(
            "resumed/public-key-limit",
            time(|| limit.run_key_exchange()),
        ),
        Variant::new(
            "resumed/tlspair-tls12",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.resumed_tls12(ticket12, cb, sb);
            }),
        ),
        Variant::new(
            "resumed/rustls-tls12",
            time(move || drop(th.resumed_tls12(&mut b.borrow_mut().2))),
        ),
        Variant::new(
            "request/tlspair-1rtt",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.request_1rtt(ticket, cb, sb);
            }),
        ),
        Variant::new(
            "request/tlspair-0rtt",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.request_0rtt(early, cb, sb);
            }),
        ),
        Variant::new(
            "request/rustls-1rtt",
            time(move || {
                let _ = th.request_1rtt(&mut b.borrow_mut().2);
            }),
        ),
        Variant::new(
            "request/rustls-0rtt",
            time(move || {
                let _ = th.request_0rtt(&mut b.borrow_mut().2);
            }),
        ),
        Variant::new(
            "auth/tlspair-post-handshake",
            time(move || pha.borrow_mut().run(o)),
        ),
        Variant::new("auth/public-key-limit", time(|| limit.run_signatures())),
        Variant::new(
            "renegotiation/tlspair-tls12",
            time(move || reneg.borrow_mut().run(o)),
        ),
        Variant::new(
            "full/tlspair-mtls",
            time(move || {
                let (cb, sb, _) = &mut *b.borrow_mut();
                let _ = o.full_mtls(cb, sb);
            }),
        ),
    ];
    let mut variants = variants;
    if let Some(os) = openssl.as_ref() {
        variants.push(Variant::new("full/openssl", time(move || drop(os.full()))));
        variants.push(Variant::new(
            "full/openssl-tls12",
            time(move || drop(os.full_tls12())),
        ));
    }
    let rounds = 150;
    let p = paired(rounds, variants);
    println!("\nPaired rounds ({rounds} rounds of {PER_ROUND} handshakes per variant): median handshakes/s [p25, p75];");
    println!("ratios are rate ours / reference, median of per-round ratios [p25, p75]");
    for name in &p.names {
        let (t, t25, t75) = p.time(name);
        println!(
            "  {name:<22} {:>7.0}/s [{:.0}, {:.0}]",
            1.0 / t,
            1.0 / t75,
            1.0 / t25
        );
    }
    for (a, r) in [
        ("full/tlspair", "full/public-key-limit"),
        ("full/tlspair", "full/rustls"),
        ("resumed/tlspair", "resumed/rustls"),
        ("full/rustls", "full/public-key-limit"),
        ("full/tlspair-hybrid", "full/tlspair"),
        ("full/tlspair-hybrid", "full/hybrid-limit"),
        ("full/tlspair", "full/openssl"),
        ("resumed/tlspair", "resumed/public-key-limit"),
        ("full/openssl", "full/public-key-limit"),
        ("full/tlspair-tls12", "full/rustls-tls12"),
        ("full/tlspair-tls12", "full/openssl-tls12"),
        ("full/tlspair-tls12", "full/tlspair"),
        ("full/tlspair-tls12", "full/public-key-limit"),
        ("resumed/tlspair-tls12", "resumed/rustls-tls12"),
        ("resumed/tlspair-tls12", "resumed/tlspair"),
        ("request/tlspair-0rtt", "request/tlspair-1rtt"),
        ("request/tlspair-0rtt", "request/rustls-0rtt"),
        ("request/tlspair-1rtt", "request/rustls-1rtt"),
        ("request/rustls-0rtt", "request/rustls-1rtt"),
        ("auth/tlspair-post-handshake", "auth/public-key-limit"),
        ("auth/tlspair-post-handshake", "full/tlspair-mtls"),
        ("full/tlspair-mtls", "full/tlspair"),
        ("renegotiation/tlspair-tls12", "full/tlspair-tls12"),
        ("renegotiation/tlspair-tls12", "full/public-key-limit"),
    ] {
        if [a, r].iter().all(|n| p.names.contains(n)) {
            let (x, lo, hi) = p.ratio(a, r);
            println!("  {a} / {r}: {x:.3} [{lo:.3}, {hi:.3}]");
        }
    }

    println!(
        "  0-RTT requests our server declined (strike-register slot taken): {}",
        common::EARLY_DECLINED.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "\nAllocations per handshake, client + server (Rust's allocator; OpenSSL's CRYPTO_malloc):"
    );
    let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
    let ticket = ours.first_ticket(&mut cb, &mut sb);
    let ticket12 = ours.first_ticket_tls12(&mut cb, &mut sb);
    let early = ours.first_early_ticket(&mut cb, &mut sb);
    let mut wire = Vec::with_capacity(20_000);
    drop(theirs.resumed(&mut wire));
    drop(theirs.resumed_tls12(&mut wire));
    let _ = theirs.request_0rtt(&mut wire);
    let mut rows: Vec<(&str, (f64, f64))> = vec![
        (
            "full/tlspair",
            counting::per_call(50, || drop(ours.full(&mut cb, &mut sb))),
        ),
        (
            "full/rustls",
            counting::per_call(50, || drop(theirs.full(&mut wire))),
        ),
        (
            "full/tlspair-tls12",
            counting::per_call(50, || drop(ours.full_tls12(&mut cb, &mut sb))),
        ),
        (
            "full/rustls-tls12",
            counting::per_call(50, || drop(theirs.full_tls12(&mut wire))),
        ),
        (
            "resumed/tlspair",
            counting::per_call(50, || drop(ours.resumed(ticket, &mut cb, &mut sb))),
        ),
        (
            "resumed/rustls",
            counting::per_call(50, || drop(theirs.resumed(&mut wire))),
        ),
        (
            "resumed/tlspair-tls12",
            counting::per_call(50, || drop(ours.resumed_tls12(ticket12, &mut cb, &mut sb))),
        ),
        (
            "resumed/rustls-tls12",
            counting::per_call(50, || drop(theirs.resumed_tls12(&mut wire))),
        ),
        (
            "request/tlspair-0rtt",
            counting::per_call(50, || {
                let _ = ours.request_0rtt(early, &mut cb, &mut sb);
            }),
        ),
        (
            "request/rustls-0rtt",
            counting::per_call(50, || {
                let _ = theirs.request_0rtt(&mut wire);
            }),
        ),
        ("auth/tlspair-post-handshake", {
            let mut pha = common::PostHandshakeAuth::new(&ours);
            counting::per_call(50, || pha.run(&ours))
        }),
        ("renegotiation/tlspair-tls12", {
            let mut r = common::Renegotiation::new(&ours);
            counting::per_call(50, || r.run(&ours))
        }),
    ];
    if let Some(os) = openssl.as_ref() {
        rows.push(("full/openssl", counting::per_call(50, || drop(os.full()))));
        rows.push((
            "full/openssl-tls12",
            counting::per_call(50, || drop(os.full_tls12())),
        ));
    }
    for (name, (rust, c)) in rows {
        println!("  {name:<22} {rust:>7.1} Rust, {c:>7.1} OpenSSL");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(30);
    targets = full, resumed, request
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
    if paired_pass_wanted() {
        paired_ratios();
    }
}
