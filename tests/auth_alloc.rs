//! What the authentication layer allocates, counted by a global allocator
//! (with `std` linked, as tests are): nothing for ECDSA and Ed25519 keys,
//! chains and signatures; a fixed, small number of allocations inside
//! *ring* for RSA, which is why RSA needs feature `alloc`.
//! docs/architecture.md ("Verify and sign") quotes these counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use ring::rand::SystemRandom;
use tlspair::sign::{
    certificate_verify_message, Context, SigningKey, MAX_CERTIFICATE_VERIFY_MESSAGE_LEN,
    MAX_SIGNATURE_LEN,
};
use tlspair::test_credentials::{self as creds, Credential};
use tlspair::verify::{
    spki_sha256, trust_anchor_from_der, CertificateDer, ServerCertVerifier, ServerName,
    SpkiPinVerifier, UnixTime, WebPkiServerVerifier,
};

struct Counting;

thread_local! {
    // Per thread, so the harness's other test threads do not interfere.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
    static FREED: Cell<u64> = const { Cell::new(0) };
}

fn count(layout: Layout) {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        BYTES.with(|b| b.set(b.get() + layout.size() as u64));
    }
}

fn count_free(layout: Layout) {
    if COUNTING.with(Cell::get) {
        FREED.with(|b| b.set(b.get() + layout.size() as u64));
    }
}

// SAFETY: forwards every call to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_free(layout);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_free(layout);
        count(Layout::from_size_align(new_size, layout.align()).unwrap());
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap use of one call on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cost {
    /// Allocations (and reallocations) made.
    allocations: u64,
    /// Bytes they asked for, in total.
    bytes: u64,
    /// Bytes still allocated when the call returned (kept by its result).
    kept: u64,
}

const FREE: Cost = Cost {
    allocations: 0,
    bytes: 0,
    kept: 0,
};

/// Runs `f`; returns its result and what it allocated on this thread.
fn counted<T>(f: impl FnOnce() -> T) -> (T, Cost) {
    ALLOCATIONS.with(|a| a.set(0));
    BYTES.with(|b| b.set(0));
    FREED.with(|b| b.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    let bytes = BYTES.with(Cell::get);
    let cost = Cost {
        allocations: ALLOCATIONS.with(Cell::get),
        bytes,
        kept: bytes - FREED.with(Cell::get),
    };
    (out, cost)
}

const NOW: UnixTime = UnixTime::since_unix_epoch(Duration::from_secs(1_798_761_600));
static CA: CertificateDer<'static> = CertificateDer::from_slice(creds::CA_CERT);

fn message() -> [u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN] {
    let mut buf = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    certificate_verify_message(Context::Server, &[0x42; 48], &mut buf).unwrap();
    buf
}

/// Parses, signs and verifies with `cred`'s key; returns the allocations of
/// each step: (from_pkcs8, sign, verify_server_cert, verify_signature).
fn steps(cred: &Credential) -> [Cost; 4] {
    let rng = SystemRandom::new();
    let anchors = [trust_anchor_from_der(&CA).unwrap()];
    let verifier = WebPkiServerVerifier::new(&anchors);
    let name = ServerName::try_from("localhost").unwrap();
    let chain = [CertificateDer::from_slice(cred.cert)];
    let message = message();

    let (key, parse) = counted(|| SigningKey::from_pkcs8(cred.key, &rng).unwrap());
    let scheme = key.schemes()[0];
    let mut sig = [0u8; MAX_SIGNATURE_LEN];
    let (len, sign) = counted(|| key.sign(scheme, &message, &rng, &mut sig).unwrap());
    let (chain_ok, chain_cost) = counted(|| verifier.verify_server_cert(&chain, &name, NOW));
    assert_eq!(chain_ok, Ok(()));
    let (sig_ok, verify) =
        counted(|| verifier.verify_signature(&chain[0], scheme, &message, &sig[..len]));
    assert_eq!(sig_ok, Ok(()));
    [parse, sign, chain_cost, verify]
}

#[test]
fn counter_sees_an_allocation() {
    let (_, cost) = counted(|| drop(std::hint::black_box(vec![1u8; 10])));
    assert_eq!(
        cost,
        Cost {
            allocations: 1,
            bytes: 10,
            kept: 0
        }
    );
    let (kept, cost) = counted(|| std::hint::black_box(vec![1u8; 10]));
    assert_eq!(cost.kept, 10);
    drop(kept);
}

#[test]
fn ecdsa_and_ed25519_allocate_nothing() {
    for (name, cred) in [
        ("p256", &creds::SERVER_ECDSA_P256),
        ("p384", &creds::SERVER_ECDSA_P384),
        ("ed25519", &creds::SERVER_ED25519),
    ] {
        let costs = steps(cred);
        println!("{name}: from_pkcs8, sign, verify_server_cert, verify_signature = {costs:?}");
        assert_eq!(costs, [FREE; 4], "{name}");
    }
}

#[test]
fn pinning_allocates_nothing() {
    let cert = CertificateDer::from_slice(creds::SERVER_ECDSA_P256.cert);
    let (pin, cost) = counted(|| spki_sha256(&cert).unwrap());
    assert_eq!(cost, FREE);
    let verifier = SpkiPinVerifier::new(&[pin]).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let (ok, cost) =
        counted(|| verifier.verify_server_cert(std::slice::from_ref(&cert), &name, NOW));
    assert_eq!(ok, Ok(()));
    assert_eq!(cost, FREE);
}

/// RSA-2048: *ring* keeps the key's big numbers in boxed limbs, and each
/// private-key operation builds temporary ones (one of the modulus' size
/// per step, half-size ones for the CRT halves); verification boxes the
/// public modulus and its working values. The counts are exact for ring
/// 0.17.14 (Cargo.lock); a *ring* that moves them fails here, and
/// docs/architecture.md is updated with the new figures.
#[cfg(feature = "alloc")]
#[test]
fn rsa_allocates_inside_ring_only() {
    let [parse, sign, chain, verify] = steps(&creds::SERVER_RSA_2048);
    println!("rsa2048: from_pkcs8 {parse:?}\nsign {sign:?}\nverify_server_cert {chain:?}\nverify_signature {verify:?}");
    // The chain is ECDSA-signed: no RSA there.
    assert_eq!(chain, FREE);
    // Signing: 9 temporaries of 128 or 256 bytes (2,048 / 8), all freed.
    assert_eq!(
        sign,
        Cost {
            allocations: 9,
            bytes: 1920,
            kept: 0
        }
    );
    // Verifying: 5 temporaries of 256 bytes, all freed.
    assert_eq!(
        verify,
        Cost {
            allocations: 5,
            bytes: 1280,
            kept: 0
        }
    );
    // Parsing: the key keeps what it did not free (its moduli, exponents
    // and precomputed Montgomery values).
    assert_eq!(
        parse,
        Cost {
            allocations: 14,
            bytes: 2574,
            kept: 1678
        }
    );
}
