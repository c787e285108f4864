//! The `client` target with both sides speaking TLS 1.2 only: arbitrary
//! server bytes reach the TLS 1.2 messages
//! (Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone),
//! the ChangeCipherSpec switch and the TLS 1.2 record protection. Its
//! seeds are recorded TLS 1.2 sessions. See `tlspair_fuzz::engine`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlspair_fuzz::engine::run_client_tls12(data);
});
