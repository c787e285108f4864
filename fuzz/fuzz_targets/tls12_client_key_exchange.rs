//! TLS 1.2's ClientKeyExchange parser (ECDHE), byte-for-byte round trip. See
//! `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::Tls12ClientKeyExchange.run(data));
