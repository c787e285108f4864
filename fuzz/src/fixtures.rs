//! Deterministic client and server configurations for the engine targets
//! and the seed generator, built once from the built-in test credentials.
//!
//! Randomness is ring's `FixedByteRandom`: every random, ephemeral key,
//! signature nonce and ticket nonce is the same on every run, so a session
//! recorded by `make_seeds` replays byte for byte against a fuzzed engine
//! built from the same [`Flags`], and its encrypted records still open.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::sync::OnceLock;

#[allow(deprecated)]
use ring::test::rand::FixedByteRandom;
use rustls_pki_types::{CertificateDer, UnixTime};
use tlspair::handshake::ticket::{NewTicket, StoredTicket, TicketKey, TicketSink};
use tlspair::handshake::{CertifiedKey, ClientConfig, ServerConfig};
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::verify::{trust_anchor_from_der, WebPkiClientVerifier, WebPkiServerVerifier};
use tlspair::wire::NamedGroup;
use tlspair::{Buffers, Connection, RecordConfig, Status};

/// 2027-01-01: inside every test certificate's validity. Every connection
/// (and the recorded ticket) lives at this instant.
pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_798_761_600))
}

/// The name the client asks for and the server certificate carries.
pub const SERVER_NAME: &str = "localhost";

/// ALPN protocols both sides configure with [`Flags::ALPN`].
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Which features a client and a server are built with. The same bits
/// build both sides, so a session recorded between them replays against
/// either one alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    /// The server asks for a client certificate and requires it; the
    /// client has one.
    pub const CLIENT_AUTH: u8 = 1 << 0;
    /// The server asks for a client certificate but lets anonymous clients
    /// through (with `CLIENT_AUTH` off, the client sends an empty one).
    pub const ANONYMOUS_OK: u8 = 1 << 1;
    /// Both sides configure ALPN.
    pub const ALPN: u8 = 1 << 2;
    /// The client offers the recorded ticket ([`ticket`]); the server also
    /// accepts psk_ke.
    pub const RESUME: u8 = 1 << 3;
    /// The client's first key share (P-256) is not one the server takes
    /// (X25519 only): a HelloRetryRequest.
    pub const RETRY: u8 = 1 << 4;
    /// Both sides put X25519MLKEM768 first (the client sends its X25519
    /// share beside it); with `RETRY`, the client lists it second and the
    /// server asks for it. Set by the `*_hybrid` targets, never by a plan.
    pub const HYBRID: u8 = 1 << 5;
    /// Both sides speak TLS 1.2 only (every TLS 1.2 suite). Set by the
    /// `*_tls12` targets, never by a plan.
    pub const TLS12: u8 = 1 << 6;
    /// The server allows [`EARLY_ALLOWANCE`] bytes of 0-RTT (every offer
    /// new to its guard, [`AcceptAll`]); with `RESUME` the client offers
    /// a ticket from such a server ([`early_ticket`]) and may send early
    /// data, which the server takes if its first call is `read_early`.
    /// Set by the `session` target.
    pub const EARLY: u8 = 1 << 7;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// Everything the configurations borrow, built once and kept for the
/// process (`'static`).
struct Fixtures {
    /// Kept so the leak stays reachable (LeakSanitizer).
    _ca: &'static CertificateDer<'static>,
    server_certs: [CertifiedKey<'static>; 1],
    client_cert: CertifiedKey<'static>,
    server_verifier: WebPkiServerVerifier<'static>,
    client_verifier: WebPkiClientVerifier<'static>,
    ticket_keys: [TicketKey; 2],
}

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// The deterministic randomness every connection uses.
#[allow(deprecated)]
pub fn rng() -> &'static tlspair::handshake::Rng {
    static RNG: FixedByteRandom = FixedByteRandom { byte: 0x5a };
    &RNG
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let rng = rng();
        let certified = |cred: &creds::Credential| {
            CertifiedKey::new(
                leak([cred.cert]),
                leak(SigningKey::from_pkcs8(cred.key, rng).expect("test key parses")),
            )
        };
        let ca: &'static CertificateDer<'static> = leak(CertificateDer::from(creds::CA_CERT));
        let anchors = leak([trust_anchor_from_der(ca).expect("test CA parses")]);
        Fixtures {
            _ca: ca,
            server_certs: [certified(&creds::SERVER_ECDSA_P256)],
            client_cert: certified(&creds::CLIENT_ECDSA_P256),
            server_verifier: WebPkiServerVerifier::new(anchors),
            client_verifier: WebPkiClientVerifier::new(anchors),
            ticket_keys: [
                TicketKey::new(1, &[0x71; 32]).expect("ticket key"),
                TicketKey::new(2, &[0x72; 32]).expect("ticket key"),
            ],
        }
    })
}

/// A server (ECDSA P-256 certificate, two ticket keys) with `flags` and
/// `record`.
pub fn server_config(flags: Flags, record: RecordConfig) -> ServerConfig<'static> {
    let f = fixtures();
    let mut config = ServerConfig::new(&f.server_certs, rng());
    config.record = record;
    // Classical unless the target asks for the hybrid: the seeds of the
    // classical targets stay what they were, and fast.
    config.groups = &tlspair::handshake::kx::CLASSICAL_GROUPS;
    config.ticket_keys = (&f.ticket_keys).into();
    if flags.has(Flags::CLIENT_AUTH | Flags::ANONYMOUS_OK) {
        static MANDATORY: OnceLock<WebPkiClientVerifier<'static>> = OnceLock::new();
        static OPTIONAL: OnceLock<WebPkiClientVerifier<'static>> = OnceLock::new();
        let verifier = if flags.has(Flags::ANONYMOUS_OK) {
            OPTIONAL.get_or_init(|| f.client_verifier.allow_anonymous())
        } else {
            MANDATORY.get_or_init(|| f.client_verifier)
        };
        config.client_verifier = Some(verifier);
    }
    if flags.has(Flags::ALPN) {
        config.alpn = &ALPN;
    }
    if flags.has(Flags::RESUME) {
        config.allow_psk_ke = true;
    }
    if flags.has(Flags::RETRY) {
        config.groups = &[NamedGroup::X25519];
    }
    if flags.has(Flags::HYBRID) {
        config.groups = &[NamedGroup::X25519MLKEM768, NamedGroup::X25519];
    }
    if flags.has(Flags::TLS12) {
        config.suites = &tlspair::TLS12_SUITES;
    }
    if flags.has(Flags::EARLY) {
        config.max_early_data_size = EARLY_ALLOWANCE;
        config.replay_guard = Some(&AcceptAll);
    }
    config
}

/// A replay guard that finds every offer new. The fixtures' randomness is
/// fixed, so every run's ClientHello is the same: a real guard would
/// answer differently from one run to the next, and a crash would not
/// reproduce. What the engine does with the guard's answer is fuzzed;
/// the strike register is tested on its own.
pub struct AcceptAll;

impl tlspair::handshake::replay::ReplayGuard for AcceptAll {
    fn first_use(&self, _: &[u8], _: UnixTime, _: UnixTime) -> bool {
        true
    }
}

/// Bytes lent to each connection for a TLS 1.2 handshake's messages
/// (client authentication signs them): the recorded sessions take about
/// 2.5 KiB; the fuzzer's messages may take more, which the engine must
/// then refuse (`TranscriptStorageTooSmall`).
pub const TRANSCRIPT_LEN: usize = 8192;

/// A client trusting the test CA, with `flags` and `record`.
pub fn client_config(flags: Flags, record: RecordConfig) -> ClientConfig<'static> {
    let f = fixtures();
    let mut config = ClientConfig::new(&f.server_verifier, rng());
    config.record = record;
    config.ticket_sink = Some(&TICKETS);
    // The recorded seeds were made without GREASE; the fuzzer mutates the
    // peer's bytes, not ours.
    config.grease = false;
    if flags.has(Flags::CLIENT_AUTH) {
        config.client_auth = Some(f.client_cert.clone());
    }
    if flags.has(Flags::ALPN) {
        config.alpn = &ALPN;
    }
    match (flags.has(Flags::HYBRID), flags.has(Flags::RETRY)) {
        (true, true) => config.groups = &[NamedGroup::X25519, NamedGroup::X25519MLKEM768],
        (true, false) => config.groups = &[NamedGroup::X25519MLKEM768, NamedGroup::X25519],
        (false, true) => config.groups = &[NamedGroup::SECP256R1, NamedGroup::X25519],
        (false, false) => config.groups = &tlspair::handshake::kx::CLASSICAL_GROUPS,
    }
    if flags.has(Flags::TLS12) {
        config.suites = &tlspair::TLS12_SUITES;
    }
    config
}

/// The 0-RTT allowance of the ticket with [`Flags::EARLY`].
pub const EARLY_ALLOWANCE: u32 = 1024;

/// A client connection to [`SERVER_NAME`] at [`now`]; with
/// [`Flags::RESUME`] it offers the recorded [`ticket`].
pub fn client<'a>(config: &'a ClientConfig<'a>, flags: Flags) -> Connection<'a> {
    let made = if flags.has(Flags::RESUME) {
        let stored: &'static StoredTicket = if flags.has(Flags::EARLY) {
            early_ticket()
        } else {
            ticket()
        };
        let resumption = leak_resumption(stored, config, flags.has(Flags::EARLY));
        Connection::client_resuming(config, Some(SERVER_NAME), now(), resumption)
    } else {
        Connection::client(config, Some(SERVER_NAME), now())
    };
    made.expect("valid client configuration")
}

/// The recorded ticket as `config` may offer it: issued to the client
/// certificate `config` has (every fixture has the same one, or none), as
/// a matching ticket in an embedder's store would be. One static each, so
/// fuzzing allocates nothing per run.
fn leak_resumption(
    stored: &'static StoredTicket,
    config: &ClientConfig<'_>,
    early: bool,
) -> &'static tlspair::handshake::ticket::ResumptionTicket<'static> {
    type Ticket = tlspair::handshake::ticket::ResumptionTicket<'static>;
    static SLOTS: [OnceLock<Ticket>; 4] = [const { OnceLock::new() }; 4];
    let identity = tlspair::handshake::ticket::client_identity(config);
    let slot = &SLOTS[usize::from(identity.is_some()) | usize::from(early) << 1];
    slot.get_or_init(|| {
        let mut t = stored.resumption();
        t.client_cert_sha256 = identity;
        assert_eq!(t.max_early_data, if early { EARLY_ALLOWANCE } else { 0 });
        t
    })
}

/// A server connection at [`now`].
pub fn server<'a>(config: &'a ServerConfig<'a>) -> Connection<'a> {
    Connection::server(config, now()).expect("valid server configuration")
}

/// Keeps the first ticket a client receives, as an embedder would.
#[derive(Default)]
pub struct FirstTicket(pub Mutex<Option<StoredTicket>>);

impl TicketSink for FirstTicket {
    fn store(&self, t: &NewTicket<'_>) {
        let mut slot = self.0.lock().unwrap();
        if slot.is_none() {
            *slot = StoredTicket::new(t, now());
        }
    }
}

/// Counts the tickets a client receives, allocating nothing. Every client
/// has one (a client that keeps tickets says so in its ClientHello), so
/// recorded and fuzzed clients send the same bytes.
#[derive(Default)]
pub struct CountTickets(pub AtomicUsize);

impl TicketSink for CountTickets {
    fn store(&self, _: &NewTicket<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The sink of every client built here.
pub static TICKETS: CountTickets = CountTickets(AtomicUsize::new(0));

/// The ticket of a full handshake between default configurations: the
/// same bytes on every run, so a recorded resumption replays.
pub fn ticket() -> &'static StoredTicket {
    static TICKET: OnceLock<StoredTicket> = OnceLock::new();
    TICKET.get_or_init(|| first_ticket(Flags::default()))
}

/// The same from a server that allows 0-RTT ([`Flags::EARLY`]): its
/// ticket carries [`EARLY_ALLOWANCE`].
pub fn early_ticket() -> &'static StoredTicket {
    static TICKET: OnceLock<StoredTicket> = OnceLock::new();
    TICKET.get_or_init(|| first_ticket(Flags(Flags::EARLY)))
}

/// The first ticket a full handshake under `flags` gives.
fn first_ticket(flags: Flags) -> StoredTicket {
    {
        let sink = FirstTicket::default();
        let mut cc = client_config(Flags::default(), RecordConfig::default());
        cc.ticket_sink = Some(&sink);
        let sc = server_config(flags, RecordConfig::default());
        let mut c = client(&cc, Flags::default());
        let mut s = server(&sc);
        let mut cb = Buffers::new(vec![0; HANDSHAKE_RECV], vec![0; HANDSHAKE_SEND]);
        let mut sb = Buffers::new(vec![0; HANDSHAKE_RECV], vec![0; HANDSHAKE_SEND]);
        for _ in 0..20 {
            let _ = c.handshake(&mut cb).expect("client handshake");
            move_all(&mut cb, &mut sb);
            let _ = s.handshake(&mut sb).expect("server handshake");
            move_all(&mut sb, &mut cb);
            if !c.is_handshaking() && !s.is_handshaking() {
                break;
            }
        }
        let status = c.read(&mut cb, &mut [0u8; 16]).expect("tickets read");
        assert_eq!(status, Status::WantRead);
        let stored = sink.0.lock().unwrap().take();
        stored.expect("the server sent a ticket")
    }
}

/// Receive capacity that holds a handshake message of the default maximum
/// being reassembled plus one whole record (docs/architecture.md, Sizes).
pub const HANDSHAKE_RECV: usize =
    tlspair::handshake::DEFAULT_MAX_HANDSHAKE_MESSAGE + tlspair::record::MAX_RECORD_LEN;

/// Send capacity that holds any flight of these configurations whole.
pub const HANDSHAKE_SEND: usize = 8192;

/// Moves everything pending in `from`'s send buffer into `to`'s receive
/// buffer, as far as it has room.
pub fn move_all(from: &mut Buffers<Vec<u8>, Vec<u8>>, to: &mut Buffers<Vec<u8>, Vec<u8>>) {
    let n = to.recv.fill(from.send.pending());
    from.send.consume(n);
}
