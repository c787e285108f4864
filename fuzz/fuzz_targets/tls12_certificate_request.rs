//! TLS 1.2's CertificateRequest parser (no encoder: the parse must hold what it promises). See
//! `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::Tls12CertificateRequest.run(data));
