//! TLS 1.2's Certificate parser, re-encoded with the engine's encoder. See
//! `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::Tls12Certificate.run(data));
