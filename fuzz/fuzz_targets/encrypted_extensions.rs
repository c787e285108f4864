//! `EncryptedExtensions::parse`, re-encoded with `EncryptedExtensionsOut`
//! and parsed back. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::EncryptedExtensions.run(data));
