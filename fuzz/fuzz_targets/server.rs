//! A tlspair server (test credentials, ECDSA P-256, deterministic
//! randomness, ticket keys) fed arbitrary client bytes in fuzzer-chosen
//! chunks through `handshake`, `read` and `read_in_place`, with the
//! engine's contract checked after every call: no panic, no allocation,
//! sticky errors, `WantWrite` within capacity, no stall. See
//! `tlspair_fuzz::engine`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlspair_fuzz::engine::run_server(data);
});
