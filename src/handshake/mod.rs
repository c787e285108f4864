//! The TLS 1.3 handshake (RFC 8446 §4): configuration, the client and
//! server state machines, and the flight writer that turns handshake
//! messages into records in the caller's outgoing view.
//!
//! Working memory during the handshake is borrowed, not owned:
//!
//! - received handshake messages are reassembled in place at the front of
//!   the received view (see `conn`), parsed where they lie, and dropped
//!   once handled;
//! - outgoing flights are encoded straight into the outgoing view's room,
//!   then cut into records in place and sealed.
//!
//! What the state machines keep between messages is small and bounded: the
//! transcript hash context, the ephemeral key, a few secrets.

pub mod client;
pub mod kx;
pub mod messages;
pub mod peek;
pub mod post_auth;
pub mod replay;
pub mod server;
pub mod ticket;
pub(crate) mod tls12;
/// The TLS 1.2 message parsers, for the fuzz targets.
#[cfg(feature = "test-support")]
pub use tls12::parsers as tls12_parsers;

use ring::rand::SecureRandom;
use rustls_pki_types::UnixTime;

use crate::codec::{Overflow, Writer};
use crate::conn::RecordConfig;
use crate::error::Error;
use crate::record::protect::RecordKey;
use crate::record::{HEADER_LEN, RECORD_OVERHEAD};
use crate::shared::{Chain, Names, Shared};
use crate::sign::Signer;
use crate::verify::{ClientCertVerifier, ServerCertVerifier};
use crate::wire::{CipherSuite, ContentType, NamedGroup, ProtocolVersion, SignatureScheme};
use crate::Suite;

/// Largest handshake message accepted by default: 16 KiB covers
/// certificate chains of several RSA-4096 certificates. The received view
/// must hold the message being reassembled plus one record.
pub const DEFAULT_MAX_HANDSHAKE_MESSAGE: usize = 16 * 1024;

/// Longest ALPN protocol name (RFC 7301: 1..255 bytes).
pub const MAX_ALPN_LEN: usize = 255;

/// Longest SNI host name kept (DNS names are at most 253 bytes).
pub const MAX_SERVER_NAME_LEN: usize = 253;

/// The randomness a configuration uses: any *ring* [`SecureRandom`] that
/// may be shared between threads (`ring::rand::SystemRandom` is). On
/// targets without an operating system *ring* draws from the `getrandom`
/// crate, whose custom backend is where a hardware RNG plugs in (see
/// docs/architecture.md, "Randomness").
pub type Rng = dyn SecureRandom + Send + Sync;

/// Receives the secrets of each connection, for SSLKEYLOGFILE-style
/// debugging (Wireshark decrypts a capture with them). Off unless a
/// configuration names one. Whoever holds these lines can read the traffic.
///
/// `Send + Sync`: a configuration, and the connections made from it, may
/// move to or be shared with other threads.
pub trait KeyLog: Send + Sync {
    /// One secret: `label` is CLIENT_HANDSHAKE_TRAFFIC_SECRET,
    /// SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
    /// SERVER_TRAFFIC_SECRET_0 or EXPORTER_SECRET; `client_random`
    /// identifies the connection. [`key_log_line`] formats the line.
    fn log(&self, label: &str, client_random: &[u8; 32], secret: &[u8]);
}

/// Longest SSLKEYLOGFILE line: a 31-byte label, 64 + 96 hex digits, two
/// spaces and a newline.
pub const MAX_KEY_LOG_LINE: usize = 31 + 1 + 64 + 1 + 96 + 1;

/// Formats one SSLKEYLOGFILE line (`LABEL <client random> <secret>\n`, hex
/// in lower case) into `out`, returning it.
pub fn key_log_line<'o>(
    label: &str,
    client_random: &[u8; 32],
    secret: &[u8],
    out: &'o mut [u8; MAX_KEY_LOG_LINE],
) -> &'o str {
    let mut n = 0;
    let mut put = |b: u8| {
        if let Some(slot) = out.get_mut(n) {
            *slot = b;
            // Bounded by `out`'s length, checked just above.
            n = n.saturating_add(1);
        }
    };
    label.bytes().for_each(&mut put);
    put(b' ');
    for b in client_random {
        put(hex_digit(b >> 4));
        put(hex_digit(b & 15));
    }
    put(b' ');
    for b in secret {
        put(hex_digit(b >> 4));
        put(hex_digit(b & 15));
    }
    put(b'\n');
    core::str::from_utf8(out.get(..n).unwrap_or(&[])).unwrap_or("")
}

/// The lower-case hex digit of a nibble.
fn hex_digit(nibble: u8) -> u8 {
    b"0123456789abcdef"
        .get(usize::from(nibble & 15))
        .copied()
        .unwrap_or(b'0')
}

/// Logs `secret` under `label` if a key log is configured.
pub(crate) fn log_secret(
    log: Option<&dyn KeyLog>,
    label: &str,
    random: &[u8; 32],
    secret: &crate::key_schedule::Secret,
) {
    if let Some(log) = log {
        log.log(label, random, secret.as_bytes());
    }
}

/// A certificate chain and the key that signs for it: borrowed
/// ([`new`](Self::new), no allocator) or, with feature `alloc`, owned
/// ([`owned`](Self::owned)), so that a server that rotates its
/// certificates frees each old one with the last configuration and
/// connection using it.
#[derive(Clone)]
#[non_exhaustive]
pub struct CertifiedKey<'a> {
    /// DER certificates, end entity first.
    pub chain: Chain<'a>,
    /// The end entity's private key: a [`SigningKey`](crate::sign::SigningKey) or any other
    /// [`Signer`] (an HSM, a KMS).
    pub key: Shared<'a, dyn Signer + 'a>,
    /// SNI names this chain serves: exact names, or `*.example.com` for
    /// any one label in front of `example.com` (RFC 6125 §6.4.3). Empty:
    /// a default, for any name and for clients that send none.
    pub server_names: Names<'a>,
}

impl<'a> CertifiedKey<'a> {
    /// `chain` (DER, end entity first) signed for by `key`, serving any
    /// name.
    pub fn new(chain: &'a [&'a [u8]], key: &'a dyn Signer) -> Self {
        Self {
            chain: Chain::Borrowed(chain),
            key: Shared::Borrowed(key),
            server_names: Names::Borrowed(&[]),
        }
    }

    /// The same, serving only `names` (exact or `*.` wildcards).
    #[must_use]
    pub fn for_names(self, names: &'a [&'a str]) -> Self {
        Self {
            server_names: Names::Borrowed(names),
            ..self
        }
    }

    /// The same, serving only `names`, owned (feature `alloc`).
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn for_owned_names(self, names: alloc::vec::Vec<alloc::string::String>) -> Self {
        Self {
            server_names: Names::from(names),
            ..self
        }
    }
}

#[cfg(feature = "alloc")]
impl CertifiedKey<'static> {
    /// An owned `chain` (DER, end entity first) signed for by a shared
    /// `key`, serving any name: nothing borrowed, nothing leaked.
    pub fn owned(
        chain: alloc::vec::Vec<alloc::vec::Vec<u8>>,
        key: alloc::sync::Arc<dyn Signer>,
    ) -> Self {
        Self {
            chain: Chain::from(chain),
            key: Shared::Arc(key),
            server_names: Names::Borrowed(&[]),
        }
    }
}

impl core::fmt::Debug for CertifiedKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("certs", &self.chain.len())
            .field("schemes", &self.key.schemes())
            .field("server_names", &self.server_names)
            .finish()
    }
}

/// A client's settings. Borrowed: nothing here is copied per connection.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig<'a> {
    /// Record layer settings.
    pub record: RecordConfig,
    /// Offered suites, in preference order.
    pub suites: &'a [&'static Suite],
    /// Offered groups, in preference order; a key share is sent for the
    /// first, and for its classical half too when that is a hybrid whose
    /// half is listed. By default [`kx::DEFAULT_GROUPS`]: X25519MLKEM768
    /// and X25519 shares, then P-256 and P-384.
    pub groups: &'a [NamedGroup],
    /// ALPN protocols to offer, in preference order (empty: no ALPN).
    pub alpn: &'a [&'a [u8]],
    /// Verifies the server's certificate chain and signature.
    pub verifier: &'a dyn ServerCertVerifier,
    /// Randomness: randoms, session ids, ephemeral keys, signature nonces.
    pub rng: &'a Rng,
    /// Middlebox compatibility mode (RFC 8446 §D.4): a 32-byte legacy
    /// session id and a dummy change_cipher_spec. On by default.
    pub middlebox_compat: bool,
    /// Largest handshake message accepted.
    pub max_handshake_message: usize,
    /// Our certificate and key, if the server asks for one.
    pub client_auth: Option<CertifiedKey<'a>>,
    /// Where to log secrets (off by default).
    pub key_log: Option<&'a dyn KeyLog>,
    /// Where to put session tickets the server sends (none: dropped).
    pub ticket_sink: Option<&'a dyn ticket::TicketSink>,
    /// Send GREASE values (RFC 8701) in cipher_suites, the extensions,
    /// supported_groups, signature_algorithms, supported_versions and
    /// key_share, so that servers stay tolerant of values they do not
    /// know. On by default, as in BoringSSL; the values come from the
    /// ClientHello's random (the configuration's rng).
    pub grease: bool,
    /// Let a TLS 1.2 server without the extended master secret (RFC
    /// 7627) through. Off by default: without it the master secret is
    /// not bound to the handshake, which the triple handshake attack
    /// uses to make two sessions share one (docs/security.md).
    pub allow_no_extended_master_secret: bool,
    /// Post-handshake authentication (RFC 8446 §4.6.2): with a
    /// `client_auth` certificate, our ClientHellos offer it, and we answer
    /// up to this many of the server's CertificateRequests per
    /// connection (each with our certificate and a signature); one more
    /// is a fatal unexpected_message. 0, the default: not offered, and a
    /// request is unexpected_message at once.
    pub post_handshake_auth: u8,
    /// TLS 1.2 secure renegotiations (RFC 5746) a server may ask for with
    /// a HelloRequest, per connection: each is performed inside the call
    /// that meets it (a full handshake under the connection's keys, with
    /// the same suite, ALPN protocol and server certificate). Past the
    /// count, and by default (0), each is refused with a no_renegotiation
    /// warning and the connection goes on.
    pub renegotiations: u8,
    /// Told of each TLS 1.2 renegotiation that completes
    /// ([`AuthHook::renegotiated`](post_auth::AuthHook::renegotiated), the
    /// server's certificate now in force) and of a server refusing ours
    /// ([`AuthHook::renegotiation_refused`](post_auth::AuthHook::renegotiation_refused)).
    /// None by default.
    pub auth_hook: Option<&'a dyn post_auth::AuthHook>,
}

/// Checks what both configurations share: suites, groups, ALPN.
fn check_common(suites: &[&Suite], groups: &[NamedGroup], alpn: &[&[u8]]) -> Result<(), Error> {
    use crate::error::Misuse::BadConfig;
    if suites.is_empty() || suites.len() > MAX_SUITES {
        return Err(BadConfig("1 to 8 cipher suites").into());
    }
    if !groups.iter().any(|g| kx::is_supported(*g)) {
        return Err(BadConfig("no supported group configured").into());
    }
    if alpn.len() > MAX_ALPN_PROTOCOLS
        || alpn.iter().any(|p| !(1..=MAX_ALPN_LEN).contains(&p.len()))
    {
        return Err(BadConfig("ALPN: at most 255 protocols of 1 to 255 bytes").into());
    }
    Ok(())
}

/// Checks that each signer's signatures fit the room the handshake
/// keeps for one, and that each server name is one a client can send
/// (a host name, or `*.` and a host name of two labels or more): a name
/// that can never match would silently hand out the default chain.
fn check_signers<'k>(keys: impl Iterator<Item = &'k CertifiedKey<'k>>) -> Result<(), Error> {
    use crate::error::Misuse::BadConfig;
    for k in keys {
        if !(1..=crate::sign::MAX_SIGNATURE_LEN).contains(&k.key.max_signature_len()) {
            return Err(BadConfig("signer: max_signature_len must be 1 to 512").into());
        }
        let valid = |name: &str| match name.strip_prefix("*.") {
            Some(rest) => is_host_name(rest.as_bytes()) && rest.contains('.'),
            None => is_host_name(name.as_bytes()),
        };
        if !k.server_names.iter().all(valid) {
            return Err(BadConfig(
                "server_names: host names, or *. and a name of two labels or more",
            )
            .into());
        }
    }
    Ok(())
}

/// Most suites a configuration lists (there are nine: three of TLS 1.3,
/// six of TLS 1.2).
pub const MAX_SUITES: usize = 16;

/// Most ALPN protocols a configuration lists: the negotiated one is
/// reported by its index, a byte.
pub const MAX_ALPN_PROTOCOLS: usize = 255;

/// Most certificate chains a server configuration lists: the chosen one
/// is reported by its index, a byte.
pub const MAX_CERTIFIED_KEYS: usize = 255;

impl<'a> ClientConfig<'a> {
    /// Checks the configuration once, when a connection is made, so that
    /// nothing in it can fail a handshake halfway.
    pub(crate) fn check(&self) -> Result<(), Error> {
        check_common(self.suites, self.groups, self.alpn)?;
        check_signers(self.client_auth.iter())
    }

    /// Defaults: every suite we implement, [`kx::DEFAULT_GROUPS`], no
    /// ALPN, compatibility mode on.
    pub fn new(verifier: &'a dyn ServerCertVerifier, rng: &'a Rng) -> Self {
        Self {
            record: RecordConfig::default(),
            suites: &crate::ALL_SUITES,
            groups: &kx::DEFAULT_GROUPS,
            alpn: &[],
            verifier,
            rng,
            middlebox_compat: true,
            max_handshake_message: DEFAULT_MAX_HANDSHAKE_MESSAGE,
            client_auth: None,
            key_log: None,
            ticket_sink: None,
            grease: true,
            allow_no_extended_master_secret: false,
            post_handshake_auth: 0,
            renegotiations: 0,
            auth_hook: None,
        }
    }
}

/// A server's settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig<'a> {
    /// Record layer settings.
    pub record: RecordConfig,
    /// Accepted suites, in our preference order.
    pub suites: &'a [&'static Suite],
    /// Accepted groups, in our preference order (by default
    /// [`kx::DEFAULT_GROUPS`]: X25519MLKEM768 first, asked for with a
    /// HelloRetryRequest from a client that lists it and sent a classical
    /// share).
    pub groups: &'a [NamedGroup],
    /// Certificate chains; the first that suits the client's SNI and
    /// signature schemes is used. Borrowed, or with feature `alloc`
    /// shared (`Vec<CertifiedKey>` or `Arc<[CertifiedKey]>`).
    pub certs: Shared<'a, [CertifiedKey<'a>]>,
    /// ALPN protocols we speak, in preference order (empty: ignore ALPN).
    pub alpn: &'a [&'a [u8]],
    /// Randomness.
    pub rng: &'a Rng,
    /// Largest handshake message accepted.
    pub max_handshake_message: usize,
    /// Verifies client certificates, if we ask for them.
    pub client_verifier: Option<&'a dyn ClientCertVerifier>,
    /// Where to log secrets (off by default).
    pub key_log: Option<&'a dyn KeyLog>,
    /// Keys for session tickets: the first seals, all open. Empty: no
    /// tickets, no resumption. Borrowed, or with feature `alloc` shared
    /// (`Vec<TicketKey>`), so retired keys are freed.
    pub ticket_keys: Shared<'a, [ticket::TicketKey]>,
    /// Tickets sent after each full handshake (with ticket keys).
    pub tickets: u8,
    /// Ticket lifetime in seconds (at most 7 days).
    pub ticket_lifetime: u32,
    /// Accept PSK-only resumption (psk_ke, no fresh key exchange, so no
    /// forward secrecy for the resumed session). Off by default.
    pub allow_psk_ke: bool,
    /// Let a TLS 1.2 client without the extended master secret (RFC
    /// 7627) through. Off by default (see the client's switch).
    pub allow_no_extended_master_secret: bool,
    /// A TLS 1.2 session cache, for clients that resume by session id
    /// (with `ticket_keys`, which seal its entries). None by default:
    /// RFC 5077 tickets only.
    pub session_cache: Option<&'a dyn ticket::SessionCache>,
    /// Bytes of 0-RTT data a ticket of ours allows (RFC 8446 §4.2.10),
    /// advertised in each NewSessionTicket. 0, the default: none, and
    /// early data is always declined. A connection accepts early data
    /// only when its ClientHello is answered by
    /// [`read_early`](crate::Connection::read_early),
    /// the resumed ticket allows it, and `replay_guard` answers that the
    /// offer is new.
    pub max_early_data_size: u32,
    /// Decides which 0-RTT offers are seen for the first time
    /// ([`replay::ReplayGuard`]); none, the default, declines all early
    /// data (fail closed).
    pub replay_guard: Option<&'a dyn replay::ReplayGuard>,
    /// Told of each answer to a post-handshake certificate request
    /// ([`Connection::request_client_auth`](crate::Connection::request_client_auth)):
    /// the identity the client verifier gave, or the client's refusal.
    /// None by default ([`Connection::negotiated`](crate::Connection::negotiated)
    /// reports the identity too).
    pub auth_hook: Option<&'a dyn post_auth::AuthHook>,
    /// TLS 1.2 secure renegotiations (RFC 5746) a client may start on its
    /// own: one is performed (inside the call that meets its ClientHello)
    /// while the connection has had fewer renegotiations than this, of
    /// any kind. Past the count, and by default (0), each is refused
    /// with a no_renegotiation warning and the connection goes on: a
    /// renegotiation costs the server a full handshake's public-key
    /// work, which a client could otherwise ask for in a loop
    /// (CVE-2011-1473). Those the server asks for with
    /// [`Connection::renegotiate`](crate::Connection::renegotiate) are
    /// always performed (and counted).
    pub renegotiations: u8,
    /// Whether a renegotiation may bring another client certificate than
    /// the one the connection had (or none, when it had one). Off by
    /// default: `PeerCertificateChanged`, illegal_parameter. A first
    /// certificate, where the connection had none, is always taken.
    pub allow_peer_certificate_change: bool,
    /// With `client_verifier`, a client that offered post_handshake_auth
    /// is not asked for its certificate in the handshake, only when
    /// [`Connection::request_client_auth`](crate::Connection::request_client_auth)
    /// asks (per resource, say); until its answer is verified it is
    /// unauthenticated, whatever the verifier requires. A client that
    /// did not offer it is asked in the handshake as usual, a TLS 1.2
    /// client too (see `defer_tls12_client_auth`). Off by default.
    pub defer_client_auth: bool,
    /// With `client_verifier`, a TLS 1.2 client is not asked for its
    /// certificate in the handshake, only by a renegotiation
    /// ([`Connection::renegotiate`](crate::Connection::renegotiate) with
    /// `client_auth`, per resource, say); until that completes it is
    /// unauthenticated, whatever the verifier requires. A client may
    /// refuse or ignore the renegotiation (rustls always refuses): it then
    /// stays unauthenticated, and serving it is the embedder's choice.
    /// Off by default.
    pub defer_tls12_client_auth: bool,
}

impl<'a> ServerConfig<'a> {
    /// Checks the configuration once, when a connection is made.
    pub(crate) fn check(&self) -> Result<(), Error> {
        check_common(self.suites, self.groups, self.alpn)?;
        if self.certs.len() > MAX_CERTIFIED_KEYS || self.certs.iter().any(|c| c.chain.is_empty()) {
            return Err(crate::error::Misuse::BadConfig(
                "certificates: at most 255 chains, none empty",
            )
            .into());
        }
        check_signers(self.certs.iter())
    }

    /// Defaults: every suite we implement, [`kx::DEFAULT_GROUPS`], no ALPN. `certs`
    /// borrowed (`&[..]`) or, with feature `alloc`, shared (a `Vec` or an
    /// `Arc<[CertifiedKey]>`).
    pub fn new(certs: impl Into<Shared<'a, [CertifiedKey<'a>]>>, rng: &'a Rng) -> Self {
        let certs = certs.into();
        Self {
            record: RecordConfig::default(),
            suites: &crate::ALL_SUITES,
            groups: &kx::DEFAULT_GROUPS,
            certs,
            alpn: &[],
            rng,
            max_handshake_message: DEFAULT_MAX_HANDSHAKE_MESSAGE,
            client_verifier: None,
            key_log: None,
            ticket_keys: Shared::Borrowed(&[]),
            tickets: 2,
            ticket_lifetime: 7200,
            allow_psk_ke: false,
            allow_no_extended_master_secret: false,
            session_cache: None,
            max_early_data_size: 0,
            replay_guard: None,
            auth_hook: None,
            renegotiations: 0,
            allow_peer_certificate_change: false,
            defer_client_auth: false,
            defer_tls12_client_auth: false,
        }
    }
}

/// What the handshake settled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// TLS 1.3 or TLS 1.2.
    pub version: ProtocolVersion,
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The key exchange group (`None` for PSK-only resumption).
    pub group: Option<NamedGroup>,
    /// The scheme the server signed with (`None` when resumed: no
    /// certificate was used).
    pub signature_scheme: Option<SignatureScheme>,
    /// Index of the ALPN protocol in our configured list.
    pub alpn_index: Option<u8>,
    /// Index of the certificate chain the server used (server side).
    pub cert_index: Option<u8>,
    /// SHA-256 of the peer's end-entity certificate (the chain itself is
    /// seen by the verifier while the handshake runs).
    pub peer_cert_sha256: Option<[u8; 32]>,
    /// What our verifier named the peer
    /// ([`ServerCertVerifier::verify_server_cert_in`],
    /// [`ClientCertVerifier::verify_client_cert_in`]),
    /// if it did. A resumed session reports the identity of the full
    /// handshake it comes from, in the same ALPN context only (a client:
    /// the protocols it offers and the one chosen; a server resumes a
    /// named client only under the same protocol).
    pub peer_identity: Option<u64>,
    /// The peer's record_size_limit, if it sent one.
    pub peer_record_size_limit: Option<u16>,
    /// Whether the session was resumed from a ticket (no certificate was
    /// exchanged).
    pub resumed: bool,
    /// The host name the client asked for (server side), if it sent one:
    /// every host name a client may send is kept whole
    /// ([`MAX_KEPT_SERVER_NAME`] bytes).
    pub server_name: Option<HostName>,
}

/// Longest SNI host name a server connection keeps: 253 bytes, the
/// longest DNS name ([`is_host_name`]), so every name a server accepts is
/// kept whole, inline (189 bytes more per connection than the 64 of a DNS
/// label, docs/performance.md).
pub const MAX_KEPT_SERVER_NAME: usize = MAX_SERVER_NAME_LEN;

/// Whether `name` is a host name as SNI carries it (RFC 6066 §3, RFC 1123
/// §2.1): 1 to 253 bytes of dot-separated labels, each 1 to 63 letters,
/// digits and hyphens, not starting or ending with a hyphen, and no
/// trailing dot.
pub fn is_host_name(name: &[u8]) -> bool {
    (1..=MAX_SERVER_NAME_LEN).contains(&name.len())
        && name.split(|&b| b == b'.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && label.first() != Some(&b'-')
                && label.last() != Some(&b'-')
        })
}

/// A host name kept inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HostName {
    bytes: [u8; MAX_KEPT_SERVER_NAME],
    len: u8,
}

impl HostName {
    /// Keeps `name` if it is short enough and ASCII.
    pub fn new(name: &[u8]) -> Option<Self> {
        if !name.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; MAX_KEPT_SERVER_NAME];
        bytes.get_mut(..name.len())?.copy_from_slice(name);
        Some(Self {
            bytes,
            len: u8::try_from(name.len()).ok()?,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.bytes.get(..usize::from(self.len)).unwrap_or(&[])).unwrap_or("")
    }
}

impl core::fmt::Debug for HostName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The record keys of a connection, sharing their storage with what the
/// client holds before any key exists (its ephemeral key and two
/// transcript hashes, about as large as the two keys). An enum is as large
/// as its largest variant; this keeps that cost paid once. (`Empty` is
/// small on purpose: boxing the others would need an allocator.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Records {
    /// No key yet, nothing pending (a server before the ClientHello).
    Empty,
    /// A client between its ClientHello and the ServerHello.
    Pending(client::Pending),
    /// Both directions keyed.
    Keys {
        /// Protects what we send.
        send: RecordKey,
        /// Opens what we receive.
        recv: RecordKey,
    },
    /// TLS 1.2, between the two ChangeCipherSpecs: one direction keyed.
    SendOnly(RecordKey),
    /// TLS 1.2, the peer's ChangeCipherSpec came before ours.
    RecvOnly(RecordKey),
    /// A TLS 1.2 client between its ServerHello and its
    /// ClientKeyExchange: the key exchange and the transcript.
    Tls12Client(tls12::ClientPending),
    /// A TLS 1.2 server between its flight and the ClientKeyExchange.
    Tls12Server(tls12::ServerPending),
}

impl Records {
    /// Whether a client's HelloRetryRequest came (the peer speaks TLS
    /// 1.3) while no key exists yet.
    pub fn retried(&self) -> bool {
        matches!(self, Self::Pending(p) if p.retried())
    }

    pub fn send(&self) -> Option<&RecordKey> {
        match self {
            Self::Keys { send, .. } | Self::SendOnly(send) => Some(send),
            _ => None,
        }
    }

    pub fn send_mut(&mut self) -> Option<&mut RecordKey> {
        match self {
            Self::Keys { send, .. } | Self::SendOnly(send) => Some(send),
            _ => None,
        }
    }

    pub fn recv(&self) -> Option<&RecordKey> {
        match self {
            Self::Keys { recv, .. } | Self::RecvOnly(recv) => Some(recv),
            _ => None,
        }
    }

    pub fn recv_mut(&mut self) -> Option<&mut RecordKey> {
        match self {
            Self::Keys { recv, .. } | Self::RecvOnly(recv) => Some(recv),
            _ => None,
        }
    }

    /// Replaces the sending key (after the pair exists).
    pub fn set_send(&mut self, key: RecordKey) -> Result<(), Error> {
        let slot = self
            .send_mut()
            .ok_or(Error::Internal("no keys to replace"))?;
        *slot = key;
        Ok(())
    }

    /// Replaces the receiving key (after the pair exists).
    pub fn set_recv(&mut self, key: RecordKey) -> Result<(), Error> {
        let slot = self
            .recv_mut()
            .ok_or(Error::Internal("no keys to replace"))?;
        *slot = key;
        Ok(())
    }

    /// TLS 1.2's ChangeCipherSpec on our side: `key` protects what we send
    /// from now on, beside a receiving key if there is one.
    pub fn switch_send(&mut self, key: RecordKey) {
        *self = match core::mem::replace(self, Self::Empty) {
            Self::RecvOnly(recv) | Self::Keys { recv, .. } => Self::Keys { send: key, recv },
            _ => Self::SendOnly(key),
        };
    }

    /// TLS 1.2's ChangeCipherSpec from the peer: `key` opens what we
    /// receive from now on.
    pub fn switch_recv(&mut self, key: RecordKey) {
        *self = match core::mem::replace(self, Self::Empty) {
            Self::SendOnly(send) | Self::Keys { send, .. } => Self::Keys { send, recv: key },
            _ => Self::RecvOnly(key),
        };
    }
}

/// Time, name and ticket a client connection is made with: the time
/// kept by the handshake state, the name and ticket lent by the
/// connection to each step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    pub now: UnixTime,
    pub server_name: Option<&'a str>,
    /// A ticket to offer (client).
    pub resume: Option<ticket::ResumptionTicket<'a>>,
    /// 0-RTT is asked for or under way (client).
    pub early: bool,
}

/// Where a handshake step writes: the outgoing room and the record keys.
pub(crate) struct Out<'x> {
    /// The free room of the outgoing view (compacted).
    pub room: &'x mut [u8],
    /// Bytes of `room` filled with finished records.
    pub used: usize,
    /// Largest plaintext per record.
    pub fragment: usize,
    /// Our close_notify is sent: nothing may follow it (RFC 8446 §6.1), so
    /// flights are still encoded (the transcript goes on) but never
    /// committed to the outgoing view.
    pub closed: bool,
}

impl Out<'_> {
    /// Encodes handshake messages with `encode` and cuts them into records
    /// of `content_type`, sealed with `key` when there is one.
    ///
    /// `encode` writes whole messages and may hash them as it goes (it sees
    /// the writer); they are laid out contiguously first, then moved, back
    /// to front, to their places between record headers and tags.
    pub fn records(
        &mut self,
        key: Option<&mut RecordKey>,
        content_type: ContentType,
        encode: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.records_if(key, content_type, |w| encode(w).map(|()| true))
    }

    /// [`records`](Self::records), where `encode` may answer `false`:
    /// then nothing is sealed or committed, and the key is not used.
    pub fn records_if(
        &mut self,
        key: Option<&mut RecordKey>,
        content_type: ContentType,
        encode: impl FnOnce(&mut Writer<'_>) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        const OVERFLOW: Error = Error::Internal("flight larger than its room estimate");
        let (overhead, offset) = match &key {
            Some(k) => (k.overhead(), k.content_offset()),
            None => (HEADER_LEN, HEADER_LEN),
        };
        let start = self.used;
        let body_at = start.checked_add(HEADER_LEN).ok_or(OVERFLOW)?;
        let body = self.room.get_mut(body_at..).ok_or(OVERFLOW)?;
        let mut w = Writer::new(body);
        if !encode(&mut w)? {
            return Ok(());
        }
        let m = w.len();
        let f = self.fragment.max(1);
        let n = m.div_ceil(f).max(1);
        let end = n
            .checked_mul(overhead)
            .and_then(|o| o.checked_add(m))
            .and_then(|total| total.checked_add(start))
            .ok_or(OVERFLOW)?;
        if end > self.room.len() {
            return Err(OVERFLOW);
        }
        // Below, `i < n` so `i * f < max(m, 1)`, and every offset is at most
        // `end`, checked just above: nothing saturates.
        let stride = f.saturating_add(overhead);
        for i in (0..n).rev() {
            let src = body_at.saturating_add(i.saturating_mul(f));
            let len = f.min(m.saturating_sub(i.saturating_mul(f)));
            let dst = start
                .saturating_add(i.saturating_mul(stride))
                .saturating_add(offset);
            self.room.copy_within(src..src.saturating_add(len), dst);
        }
        let mut key = key;
        for i in 0..n {
            let len = f.min(m.saturating_sub(i.saturating_mul(f)));
            let at = start.saturating_add(i.saturating_mul(stride));
            let rec_end = at.saturating_add(len).saturating_add(overhead);
            let rec = self.room.get_mut(at..rec_end).ok_or(OVERFLOW)?;
            match key.as_deref_mut() {
                Some(k) => k.seal(content_type, len, rec)?,
                None => {
                    let [v0, v1] = ProtocolVersion::TLS1_2.0.to_be_bytes();
                    let [l0, l1] = u16::try_from(len).map_err(|_| OVERFLOW)?.to_be_bytes();
                    crate::codec::copy_prefix(rec, &[content_type.0, v0, v1, l0, l1], HEADER_LEN);
                }
            }
        }
        if !self.closed {
            self.used = end;
        }
        Ok(())
    }

    /// The dummy change_cipher_spec record of compatibility mode.
    pub fn change_cipher_spec(&mut self) -> Result<(), Error> {
        self.records(None, ContentType::CHANGE_CIPHER_SPEC, |w| Ok(w.u8(1)?))
    }
}

impl From<Overflow> for Error {
    fn from(_: Overflow) -> Self {
        Error::Internal("encoding overflow")
    }
}

/// Parses a Certificate message body whose request context must be empty
/// (it always is within the main handshake).
pub(crate) fn parse_certificate(body: &[u8]) -> Result<messages::CertificateChain<'_>, Error> {
    let chain = parse_certificate_in(body)?;
    if !chain.context.is_empty() {
        return Err(
            crate::error::PeerMisbehaved::IllegalParameter("certificate_request_context").into(),
        );
    }
    Ok(chain)
}

/// Parses a Certificate message body with any request context (a
/// post-handshake answer's names its request): no entry extension (we
/// request none).
pub(crate) fn parse_certificate_in(body: &[u8]) -> Result<messages::CertificateChain<'_>, Error> {
    use messages::CertificateMessageError as E;
    let chain = messages::CertificateChain::parse(body).map_err(|e| match e {
        E::Decode(crate::codec::DecodeError(what)) => {
            Error::from(crate::error::InvalidMessage::Handshake(what))
        }
        E::TooLong => crate::verify::CertificateError::ChainTooLong.into(),
    })?;
    if let Some(ty) = chain.entry_extension {
        return Err(crate::error::PeerMisbehaved::UnsolicitedExtension(ty).into());
    }
    Ok(chain)
}

/// The CertificateVerify that must follow the Certificate message of
/// `total` bytes at the front of `region`: `None` while it is incomplete.
/// The two are handled together so the certificate is never kept.
pub(crate) fn paired_certificate_verify(
    region: &[u8],
    total: usize,
) -> Result<Option<&[u8]>, Error> {
    let rest = region.get(total..).unwrap_or(&[]);
    match messages::split_message(rest) {
        None => Ok(None),
        Some((crate::wire::HandshakeType::CERTIFICATE_VERIFY, _, n)) => Ok(rest.get(..n)),
        Some((ty, _, _)) => Err(crate::error::PeerMisbehaved::UnexpectedHandshake(ty).into()),
    }
}

/// Checks the CertificateVerify message `cv_msg` (RFC 8446 §4.4.3): a
/// scheme among `accepted`, and a signature that `verify` accepts over the
/// transcript so far, which then takes the message. Returns the scheme and
/// the SHA-256 of the end-entity certificate.
pub(crate) fn check_certificate_verify(
    signer: crate::sign::Context,
    accepted: &[SignatureScheme],
    end_entity: &rustls_pki_types::CertificateDer<'_>,
    transcript: &mut crate::key_schedule::Transcript,
    cv_msg: &[u8],
    verify: impl FnOnce(
        &rustls_pki_types::CertificateDer<'_>,
        SignatureScheme,
        &[u8],
        &[u8],
    ) -> Result<(), crate::verify::CertificateError>,
) -> Result<(SignatureScheme, [u8; 32]), Error> {
    let cv = messages::CertificateVerify::parse(
        cv_msg.get(messages::HANDSHAKE_HEADER_LEN..).unwrap_or(&[]),
    )
    .map_err(|crate::codec::DecodeError(w)| crate::error::InvalidMessage::Handshake(w))?;
    // TLS 1.3's own rule first: no verifier's list can let a forbidden
    // scheme through.
    if !crate::verify::tls13_allows_in_certificate_verify(cv.scheme) {
        return Err(crate::verify::CertificateError::UnsupportedSignatureScheme.into());
    }
    if !accepted.contains(&cv.scheme) {
        return Err(
            crate::error::PeerMisbehaved::IllegalParameter("signature scheme not offered").into(),
        );
    }
    let mut content = [0u8; crate::sign::MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let signed = crate::sign::certificate_verify_message(
        signer,
        transcript.current().as_bytes(),
        &mut content,
    )?;
    verify(end_entity, cv.scheme, signed, cv.signature)?;
    transcript.add(cv_msg);
    Ok((cv.scheme, cert_sha256(end_entity)))
}

/// The SHA-256 of a certificate (DER): how `Negotiated` names the peer's.
pub(crate) fn cert_sha256(der: &[u8]) -> [u8; 32] {
    let mut sha = [0u8; 32];
    crate::codec::copy_prefix(
        &mut sha,
        ring::digest::digest(&ring::digest::SHA256, der).as_ref(),
        32,
    );
    sha
}

/// Writes a message with `encode` and adds it to the transcript.
fn write_hashed(
    w: &mut Writer<'_>,
    transcript: &mut crate::key_schedule::Transcript,
    encode: impl FnOnce(&mut Writer<'_>) -> Result<(), Overflow>,
) -> Result<(), Error> {
    let from = w.len();
    encode(w)?;
    transcript.add(w.written().get(from..).unwrap_or(&[]));
    Ok(())
}

/// Writes our Certificate message (empty `chain`: none, RFC 8446 §4.4.2)
/// with `context` (empty within the handshake).
pub(crate) fn write_certificate(
    w: &mut Writer<'_>,
    transcript: &mut crate::key_schedule::Transcript,
    context: &[u8],
    chain: Option<&Chain<'_>>,
) -> Result<(), Error> {
    let chain = chain.into_iter().flat_map(Chain::iter);
    write_hashed(w, transcript, |w| {
        messages::encode_certificate(w, context, chain)
    })
}

/// Asks `signer` for the CertificateVerify signature over `transcript`
/// (through our Certificate, RFC 8446 §4.4.3) into `sig`: its length, or
/// `None` while it is pending.
pub(crate) fn sign_certificate_verify(
    signer: &dyn Signer,
    scheme: SignatureScheme,
    context: crate::sign::Context,
    transcript: &crate::key_schedule::Transcript,
    rng: &dyn SecureRandom,
    first: bool,
    sig: &mut [u8; crate::sign::MAX_SIGNATURE_LEN],
) -> Result<Option<usize>, Error> {
    let mut content = [0u8; crate::sign::MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let message = crate::sign::certificate_verify_message(
        context,
        transcript.current().as_bytes(),
        &mut content,
    )?;
    sign_message(signer, scheme, message, rng, first, sig)
}

/// Asks `signer` to sign `message` with `scheme` into `sig`: the
/// signature's length, or `None` while it is pending.
pub(crate) fn sign_message(
    signer: &dyn Signer,
    scheme: SignatureScheme,
    message: &[u8],
    rng: &dyn SecureRandom,
    first: bool,
    sig: &mut [u8; crate::sign::MAX_SIGNATURE_LEN],
) -> Result<Option<usize>, Error> {
    let room = signer.max_signature_len().min(sig.len());
    let out = sig.get_mut(..room).unwrap_or(&mut []);
    let request = crate::sign::SignRequest {
        scheme,
        message,
        first,
        rng,
    };
    // Whatever the signer failed with, it is our failure, not the peer's
    // and not the transport's: internal_error.
    let signed = signer.sign(&request, out).map_err(|e| match e {
        Error::Internal(what) => Error::Internal(what),
        _ => Error::Internal("signer failed"),
    })?;
    match signed {
        crate::sign::Signing::Done(n) if (1..=room).contains(&n) => Ok(Some(n)),
        crate::sign::Signing::Done(_) => Err(Error::Internal(
            "signer: a signature of no bytes or longer than its max_signature_len",
        )),
        crate::sign::Signing::Pending => Ok(None),
    }
}

/// Writes our Certificate and, when `signer` answers at once, the
/// CertificateVerify after it (the first time a handshake asks). Returns
/// whether the signature came: if not, the flight stops after the
/// Certificate and the state waits for the signer.
pub(crate) fn write_authentication(
    w: &mut Writer<'_>,
    transcript: &mut crate::key_schedule::Transcript,
    context: crate::sign::Context,
    chain: Option<&Chain<'_>>,
    signer: Option<(&dyn Signer, SignatureScheme)>,
    rng: &dyn SecureRandom,
) -> Result<bool, Error> {
    write_certificate(w, transcript, &[], chain)?;
    let Some((signer, scheme)) = signer else {
        return Ok(true);
    };
    let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
    let Some(n) =
        sign_certificate_verify(signer, scheme, context, transcript, rng, true, &mut sig)?
    else {
        return Ok(false);
    };
    write_certificate_verify(w, transcript, scheme, sig.get(..n).unwrap_or(&[]))?;
    Ok(true)
}

/// After a pending signature came (`sig`): our CertificateVerify and
/// Finished, sealed under our handshake key, whose secret keys Finished.
pub(crate) fn write_signed_tail(
    out: &mut Out<'_>,
    records: &mut Records,
    suite: &'static Suite,
    transcript: &mut crate::key_schedule::Transcript,
    scheme: SignatureScheme,
    sig: &[u8],
) -> Result<(), Error> {
    let send = records
        .send_mut()
        .ok_or(Error::Internal("handshake keys missing"))?;
    let finished_key = send.secret().finished_key(suite)?;
    out.records(Some(send), ContentType::HANDSHAKE, |w| {
        write_certificate_verify(w, transcript, scheme, sig)?;
        write_finished(w, transcript, suite, &finished_key)
    })
}

/// Hands `signer` the pending request over `transcript` (as a later
/// poll sees it) for `f`: to cancel it, or to register a waker for it.
pub(crate) fn pending_request<R>(
    signer: &dyn Signer,
    scheme: SignatureScheme,
    context: crate::sign::Context,
    transcript: &crate::key_schedule::Transcript,
    rng: &dyn SecureRandom,
    f: impl FnOnce(&dyn Signer, &crate::sign::SignRequest<'_>) -> R,
) -> Option<R> {
    let mut content = [0u8; crate::sign::MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let message = crate::sign::certificate_verify_message(
        context,
        transcript.current().as_bytes(),
        &mut content,
    )
    .ok()?;
    Some(f(
        signer,
        &crate::sign::SignRequest {
            scheme,
            message,
            first: false,
            rng,
        },
    ))
}

/// Writes our CertificateVerify with signature `sig` under `scheme`.
pub(crate) fn write_certificate_verify(
    w: &mut Writer<'_>,
    transcript: &mut crate::key_schedule::Transcript,
    scheme: SignatureScheme,
    sig: &[u8],
) -> Result<(), Error> {
    write_hashed(w, transcript, |w| {
        messages::write_message(w, crate::wire::HandshakeType::CERTIFICATE_VERIFY, |w| {
            w.u16(scheme.0)?;
            w.vec16(sig)
        })
    })
}

/// Room for what follows a pending signature: CertificateVerify (4 + 2 +
/// 2 + signature) and Finished (4 + 48), as protected records.
pub(crate) fn signature_room(fragment: usize) -> usize {
    flight_room(
        room_sum([8, crate::sign::MAX_SIGNATURE_LEN, 52]),
        fragment,
        RECORD_OVERHEAD,
    )
}

/// Writes Finished keyed by `finished_key` (of the sender's handshake
/// traffic secret) over the transcript (RFC 8446 §4.4.4).
pub(crate) fn write_finished(
    w: &mut Writer<'_>,
    transcript: &mut crate::key_schedule::Transcript,
    suite: &Suite,
    finished_key: &crate::key_schedule::Secret,
) -> Result<(), Error> {
    let verify_data = finished_key.hmac(suite, &transcript.current());
    write_hashed(w, transcript, |w| {
        messages::write_message(w, crate::wire::HandshakeType::FINISHED, |w| {
            w.bytes(verify_data.as_bytes())
        })
    })
}

/// Room a flight of `m` plaintext bytes needs as records of `fragment`
/// bytes with `overhead` bytes each.
pub(crate) fn flight_room(m: usize, fragment: usize, overhead: usize) -> usize {
    let records = m.div_ceil(fragment.max(1)).max(1);
    room_sum([m, records.saturating_mul(overhead)])
}

/// Adds up room estimates, saturating: a saturated estimate is more than
/// any buffer, which the caller is told is too small.
pub(crate) fn room_sum(parts: impl IntoIterator<Item = usize>) -> usize {
    parts.into_iter().fold(0, usize::saturating_add)
}

#[cfg(test)]
mod sizes {
    use core::mem::size_of;

    /// The parts of a connection, against the budgets docs/architecture.md
    /// gives: the handshake state is the part every idle connection pays
    /// for, and the client's pre-key state must fit where the two record
    /// keys go.
    #[test]
    fn state_sizes_stay_in_budget() {
        let client = size_of::<super::client::State>();
        let server = size_of::<super::server::State>();
        let keys = size_of::<super::Records>();
        let pending = size_of::<super::client::Pending>();
        assert!(
            client <= 384 && server <= 384,
            "handshake state: client {client}, server {server}"
        );
        assert!(
            pending <= 2 * size_of::<crate::record::protect::RecordKey>(),
            "pending {pending}"
        );
        assert!(
            keys <= 2 * size_of::<crate::record::protect::RecordKey>() + 8,
            "records {keys}"
        );
        // tests/no_alloc.rs says why: 2,336 today.
        assert!(size_of::<crate::conn::Connection<'_>>() <= 2336);
    }
}
