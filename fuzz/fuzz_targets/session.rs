//! A valid client/server session replayed with fuzzer-chosen chunk
//! boundaries, send capacities, fragment sizes, padding, write modes, read
//! styles and KeyUpdates: both directions must deliver exactly what was
//! written. See `tlspair_fuzz::session`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|session: tlspair_fuzz::session::Session| tlspair_fuzz::session::run(&session));
