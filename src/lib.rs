//! # tlspair
//!
//! A TLS 1.3 engine that does no I/O and allocates nothing. It seals
//! plaintext into records in a buffer you own and opens records you hand it
//! in another, with the exact semantics of OpenSSL's `SSL_write` /
//! `SSL_read` over a memory BIO pair, and typed outcomes instead of
//! `SSL_get_error` codes.
//!
//! The pieces:
//!
//! - [`Buffers`]: your two byte arrays with cursors, the network half of
//!   the BIO pair ([`RecvBuf`] for received ciphertext, [`SendBuf`] for
//!   outgoing ciphertext);
//! - [`Connection`]: the engine; [`Connection::write`], [`Connection::read`],
//!   [`Connection::read_in_place`] and [`Connection::shutdown`] move bytes
//!   and answer with a [`Status`] or an [`Error`];
//! - [`record`]: the record layer, for embedders who need its pieces;
//! - [`Stream`] (feature `std`): the blocking adapter over any socket,
//!   like `SslStream`.
//!
//! docs/semantics.md maps every rule of the `SSL_write(3)` manual page to
//! the behaviour here and the test that checks it.
//!
//! ```
//! use tlspair::{Buffers, Connection, RecordConfig, Status, TLS13_AES_128_GCM_SHA256};
//!
//! // Secrets negotiated elsewhere (the handshake layer, or another stack).
//! let c2s = [0x11; 32];
//! let s2c = [0x22; 32];
//! let suite = &TLS13_AES_128_GCM_SHA256;
//! let cfg = RecordConfig::default();
//! let mut client = Connection::from_traffic_secrets(suite, &c2s, &s2c, cfg).unwrap();
//! let mut server = Connection::from_traffic_secrets(suite, &s2c, &c2s, cfg).unwrap();
//!
//! // Each side's buffers belong to the caller: here, plain arrays.
//! let mut cbufs = Buffers::new([0u8; 17_000], [0u8; 17_000]);
//! let mut sbufs = Buffers::new([0u8; 17_000], [0u8; 17_000]);
//!
//! assert_eq!(client.write(&mut cbufs, b"hello")?, Status::Done(5));
//!
//! // The caller is the transport: move the record to the server.
//! let n = sbufs.recv.fill(cbufs.send.pending());
//! cbufs.send.consume(n);
//!
//! let mut plain = [0u8; 64];
//! assert_eq!(server.read(&mut sbufs, &mut plain)?, Status::Done(5));
//! assert_eq!(&plain[..5], b"hello");
//! assert_eq!(server.read(&mut sbufs, &mut plain)?, Status::WantRead);
//! # Ok::<(), tlspair::Error>(())
//! ```

#![no_std]
#![forbid(unsafe_code, unused_must_use)]
#![deny(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::as_conversions,
    // No slice index can panic on input: every access is `get`, a checked
    // split, or `codec::copy_prefix`.
    clippy::indexing_slicing,
    // No arithmetic can overflow or underflow: lengths from input are
    // checked, the rest saturate under a named invariant.
    clippy::arithmetic_side_effects,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]
#![cfg_attr(test, allow(clippy::indexing_slicing, clippy::arithmetic_side_effects))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod buffer;
pub mod codec;
pub mod conn;
#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
pub mod embedded;
pub mod error;
pub mod handshake;
pub mod key_schedule;
#[cfg(feature = "std")]
pub mod keylog_file;
pub mod record;
pub mod shared;
pub mod sign;
#[cfg(feature = "std")]
pub mod stream;
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod test_credentials;

/// Test support: the bytes the engine has copied so far, plaintext into
/// and out of the views and `RecvBuf::fill` (examples/count.rs, built
/// with feature `count-copies`).
#[cfg(feature = "count-copies")]
#[doc(hidden)]
pub fn test_bytes_copied() -> usize {
    codec::COPIED.load(core::sync::atomic::Ordering::Relaxed)
}
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod verify;
pub mod wire;

pub use buffer::{Buffers, Received, RecvBuf, SendBuf};
pub use conn::{
    ChainStorage, Connection, EarlyData, Padding, PeerChain, RecordConfig, Shutdown, Status,
    WriteMode,
};
pub use error::{Error, InvalidMessage, Misuse, PeerIncompatible, PeerMisbehaved};
pub use record::suite::{
    Auth, Suite, ALL_SUITES, BOTH_VERSIONS_SUITES, ECDHE_ECDSA_AES_128_GCM_SHA256,
    ECDHE_ECDSA_AES_256_GCM_SHA384, ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
    ECDHE_RSA_AES_128_GCM_SHA256, ECDHE_RSA_AES_256_GCM_SHA384, ECDHE_RSA_CHACHA20_POLY1305_SHA256,
    TLS12_SUITES, TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384,
    TLS13_CHACHA20_POLY1305_SHA256,
};
pub use shared::Shared;
#[cfg(feature = "std")]
pub use stream::Stream;
pub use wire::{AlertDescription, CipherSuite, ContentType};
