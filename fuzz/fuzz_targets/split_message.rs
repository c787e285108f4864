//! `split_message` and `announced_len` against each other, and
//! `write_message` back. See `tlspair_fuzz::messages`.

#![no_main]

use tlspair_fuzz::messages::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Parser::SplitMessage.run(data));
