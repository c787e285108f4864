//! The `client` target with X25519MLKEM768 first on both sides: arbitrary
//! server bytes reach the hybrid's ciphertext parsing and decapsulation,
//! and the choice between the hybrid and the X25519 share sent beside it.
//! See `tlspair_fuzz::engine`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlspair_fuzz::engine::run_client_hybrid(data);
});
