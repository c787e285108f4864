//! Every wire parser on its own: the first byte picks a handshake message
//! parser, the record header / deframe, alert handling or the codec's
//! vectors; the rest is its input. No panic, and parse → encode → parse
//! keeps every value the encoder can express. See `tlspair_fuzz::messages`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tlspair_fuzz::messages::run(data));
