//! A tlspair client that has sent its ClientHello, fed arbitrary bytes as
//! the server's answer, with the same checks as the `server` target. Its
//! seeds are real server flights recorded with the same deterministic
//! randomness, so mutations reach past the ServerHello. See
//! `tlspair_fuzz::engine`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlspair_fuzz::engine::run_client(data);
});
