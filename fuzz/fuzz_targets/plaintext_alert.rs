//! alert bytes in a plaintext record to a server awaiting its ClientHello. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::PlaintextAlert.run(data));
