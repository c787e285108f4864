//! `CertificateVerify::parse`, which must round-trip byte for byte. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::CertificateVerify.run(data));
