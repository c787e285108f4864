//! The `server` target with both sides speaking TLS 1.2 only: arbitrary
//! client bytes reach the TLS 1.2 messages
//! (ClientKeyExchange, and with the client-auth plans the client's
//! Certificate and CertificateVerify over the lent transcript copy),
//! the ChangeCipherSpec switch and the TLS 1.2 record protection. Its
//! seeds are recorded TLS 1.2 sessions. See `tlspair_fuzz::engine`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlspair_fuzz::engine::run_server_tls12(data);
});
