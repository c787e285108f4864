//! `Reader` / `Writer` vectors with 1-, 2- and 3-byte lengths, and
//! `Overflow` exactly when an encoding does not fit. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::Codec.run(data));
