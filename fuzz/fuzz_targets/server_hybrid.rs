//! The `server` target with X25519MLKEM768 first on both sides: arbitrary
//! client bytes reach the hybrid's share parsing, the FIPS 203 modulus
//! check and the encapsulation. See `tlspair_fuzz::engine`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlspair_fuzz::engine::run_server_hybrid(data);
});
