//! alert bytes sealed into a record for an established connection: the
//! outcome RFC 8446 §6 prescribes. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::SealedAlert.run(data));
