//! `Header::parse` and `deframe` at a fuzzer-chosen record limit. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::RecordHeader.run(data));
