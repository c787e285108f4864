//! `ClientHello::parse` (every extension a server reads), re-encoded with
//! `ClientHelloOut` and parsed back. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::ClientHello.run(data));
