//! TLS 1.2's NewSessionTicket parser (RFC 5077), byte-for-byte round trip. See
//! `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::Tls12NewSessionTicket.run(data));
