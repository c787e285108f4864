//! What the benches and the measuring examples share: tlspair and rustls
//! configured alike (TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, the built-in
//! ECDSA P-256 server credential, the client verifying with webpki against
//! the test CA), in-memory drivers for handshakes and bulk transfer, and
//! the raw-ring limits.
//!
//! Included by path (`#[path = "../benches/common/mod.rs"]` from examples),
//! so every function is not used by every includer.

#![allow(dead_code)]

pub mod ossl;

use std::sync::Arc;
use std::sync::Mutex;

use ring::aead;
use ring::rand::SystemRandom;
use rustls::crypto::ring as rustls_ring;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use tlspair::handshake::ticket::{
    NewTicket, ResumptionTicket, StoredTicket, TicketKey, TicketSink,
};
use tlspair::handshake::{CertifiedKey, ClientConfig, ServerConfig};
use tlspair::record::{HEADER_LEN, TAG_LEN};
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::verify::{trust_anchor_from_der, WebPkiServerVerifier};
use tlspair::{Buffers, Connection, RecvBuf, SendBuf, Status, TLS13_AES_128_GCM_SHA256};

/// 2027-01-01: inside every test certificate's validity; tickets are
/// issued and offered at the same instant.
pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_798_761_600))
}

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

pub type Bufs = Buffers<Vec<u8>, Vec<u8>>;

/// Buffers for a handshake: room for the server's flight and one record.
pub fn handshake_bufs() -> Bufs {
    Buffers::new(vec![0; 20_000], vec![0; 20_000])
}

// ---------------------------------------------------------------------
// tlspair

/// A ticket sink that keeps the last ticket, as an embedder would.
#[derive(Default)]
pub struct LastTicket(pub Mutex<Option<StoredTicket>>);

impl TicketSink for LastTicket {
    fn store(&self, t: &NewTicket<'_>) {
        *self.0.lock().unwrap() = StoredTicket::new(t, now());
    }
}

/// tlspair's configurations, built once and borrowed by every connection.
pub struct Ours {
    /// No tickets wanted.
    pub client: &'static ClientConfig<'static>,
    /// No ticket keys: no tickets sent.
    pub server: &'static ServerConfig<'static>,
    /// Keeps the ticket each resumed handshake brings.
    pub resuming_client: &'static ClientConfig<'static>,
    /// Issues one ticket per handshake.
    pub ticket_server: &'static ServerConfig<'static>,
    pub sink: &'static LastTicket,
    /// `client` and `server` with X25519MLKEM768 first (the default
    /// groups): the hybrid handshake.
    pub hybrid_client: &'static ClientConfig<'static>,
    pub hybrid_server: &'static ServerConfig<'static>,
    /// `client` and `server` speaking TLS 1.2 only:
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 over X25519.
    pub tls12_client: &'static ClientConfig<'static>,
    pub tls12_server: &'static ServerConfig<'static>,
    /// The same with tickets: the client keeps them in `sink`, the
    /// server issues one per handshake (RFC 5077).
    pub tls12_resuming_client: &'static ClientConfig<'static>,
    pub tls12_ticket_server: &'static ServerConfig<'static>,
    /// `ticket_server` taking 0-RTT: tickets allowing 16 KiB, a strike
    /// register of 2^24 slots as its guard. The clock is fixed here, so no
    /// entry expires: a fresh offer whose slot is taken is declined (about
    /// one in 2^24 per request made before it; counted in
    /// [`EARLY_DECLINED`]).
    pub early_server: &'static ServerConfig<'static>,
    /// `client` with the test client certificate, offering
    /// post_handshake_auth; `server` verifying client certificates
    /// against the test CA, asking only after the handshake (mutual TLS
    /// in the handshake when the client does not offer it).
    pub mtls_client: &'static ClientConfig<'static>,
    pub mtls_server: &'static ServerConfig<'static>,
    /// `mtls_server` asking for the certificate in the handshake.
    pub mtls_handshake_server: &'static ServerConfig<'static>,
}

impl Ours {
    pub fn new() -> Self {
        let rng: &'static SystemRandom = leak(SystemRandom::new());
        let ca: &'static CertificateDer<'static> = leak(CertificateDer::from(creds::CA_CERT));
        let anchors = leak([trust_anchor_from_der(ca).expect("test CA")]);
        let verifier = leak(WebPkiServerVerifier::new(anchors));
        let key = leak(SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, rng).expect("key"));
        let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
        let certs = leak([CertifiedKey::new(chain, key)]);
        let suites = leak([&TLS13_AES_128_GCM_SHA256]);

        // X25519, as the rustls and OpenSSL sides of the benches use.
        let groups = leak([tlspair::wire::NamedGroup::X25519]);
        let mut client = ClientConfig::new(verifier, rng);
        client.suites = suites;
        client.groups = groups;
        let mut server = ServerConfig::new(certs, rng);
        server.suites = suites;
        server.groups = groups;

        let sink: &'static LastTicket = leak(LastTicket::default());
        let mut resuming_client = client.clone();
        resuming_client.ticket_sink = Some(sink);
        let mut ticket_server = server.clone();
        ticket_server.ticket_keys =
            (leak([TicketKey::new(1, &[7; 32]).expect("ticket key")])).into();
        ticket_server.tickets = 1;
        let mut hybrid_client = client.clone();
        hybrid_client.groups = &tlspair::handshake::kx::DEFAULT_GROUPS;
        let mut hybrid_server = server.clone();
        hybrid_server.groups = &tlspair::handshake::kx::DEFAULT_GROUPS;
        let tls12 = leak([&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256]);
        let mut tls12_client = client.clone();
        tls12_client.suites = tls12;
        let mut tls12_server = server.clone();
        tls12_server.suites = tls12;
        let mut tls12_resuming_client = resuming_client.clone();
        tls12_resuming_client.suites = tls12;
        let mut tls12_ticket_server = ticket_server.clone();
        tls12_ticket_server.suites = tls12;
        let mut early_server = ticket_server.clone();
        early_server.max_early_data_size = 16 << 10;
        early_server.replay_guard = Some(leak(
            tlspair::handshake::replay::StrikeRegister::with_capacity(1 << 24),
        ));
        let client_key =
            leak(SigningKey::from_pkcs8(creds::CLIENT_ECDSA_P256.key, rng).expect("client key"));
        let client_chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
        let mut mtls_client = client.clone();
        mtls_client.client_auth = Some(CertifiedKey::new(client_chain, client_key));
        mtls_client.post_handshake_auth = u8::MAX;
        let mut mtls_server = server.clone();
        mtls_server.client_verifier =
            Some(leak(tlspair::verify::WebPkiClientVerifier::new(anchors)));
        let mtls_handshake_server = mtls_server.clone();
        mtls_server.defer_client_auth = true;
        Self {
            mtls_handshake_server: leak(mtls_handshake_server),
            mtls_client: leak(mtls_client),
            mtls_server: leak(mtls_server),
            early_server: leak(early_server),
            tls12_resuming_client: leak(tls12_resuming_client),
            tls12_ticket_server: leak(tls12_ticket_server),
            tls12_client: leak(tls12_client),
            tls12_server: leak(tls12_server),
            hybrid_client: leak(hybrid_client),
            hybrid_server: leak(hybrid_server),
            client: leak(client),
            server: leak(server),
            resuming_client: leak(resuming_client),
            ticket_server: leak(ticket_server),
            sink,
        }
    }

    /// A full handshake, then the ticket it brought, to offer again.
    pub fn first_ticket(&self, cb: &mut Bufs, sb: &mut Bufs) -> &'static ResumptionTicket<'static> {
        let mut c =
            Connection::client(self.resuming_client, Some("localhost"), now()).expect("client");
        let mut s = Connection::server(self.ticket_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        read_tickets(&mut c, cb);
        assert!(!c.negotiated().expect("negotiated").resumed);
        let stored = self.sink.0.lock().unwrap().take().expect("a ticket");
        leak(leak(stored).resumption())
    }

    /// A full TLS 1.2 handshake, then the ticket it brought.
    pub fn first_ticket_tls12(
        &self,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> &'static ResumptionTicket<'static> {
        let mut c = Connection::client(self.tls12_resuming_client, Some("localhost"), now())
            .expect("client");
        let mut s = Connection::server(self.tls12_ticket_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        assert!(!c.negotiated().expect("negotiated").resumed);
        let stored = self
            .sink
            .0
            .lock()
            .unwrap()
            .take()
            .expect("a TLS 1.2 ticket");
        leak(leak(stored).resumption())
    }

    /// One abbreviated TLS 1.2 handshake with `ticket`, with the new
    /// ticket the server sends and the client stores.
    pub fn resumed_tls12(
        &self,
        ticket: &'static ResumptionTicket<'static>,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> (Connection<'static>, Connection<'static>) {
        let mut c = Connection::client_resuming(
            self.tls12_resuming_client,
            Some("localhost"),
            now(),
            ticket,
        )
        .expect("client");
        let mut s = Connection::server(self.tls12_ticket_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        (c, s)
    }

    /// One full handshake with X25519MLKEM768.
    pub fn full_hybrid(
        &self,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> (Connection<'static>, Connection<'static>) {
        let mut c =
            Connection::client(self.hybrid_client, Some("localhost"), now()).expect("client");
        let mut s = Connection::server(self.hybrid_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        (c, s)
    }

    /// One full TLS 1.2 handshake.
    pub fn full_tls12(
        &self,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> (Connection<'static>, Connection<'static>) {
        let mut c =
            Connection::client(self.tls12_client, Some("localhost"), now()).expect("client");
        let mut s = Connection::server(self.tls12_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        (c, s)
    }

    /// One full handshake, client and server, through `cb` and `sb`.
    pub fn full(&self, cb: &mut Bufs, sb: &mut Bufs) -> (Connection<'static>, Connection<'static>) {
        let mut c = Connection::client(self.client, Some("localhost"), now()).expect("client");
        let mut s = Connection::server(self.server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        (c, s)
    }

    /// A full handshake with the client's certificate asked for,
    /// verified, and the client's signature.
    pub fn full_mtls(
        &self,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> (Connection<'static>, Connection<'static>) {
        let mut c = Connection::client(self.mtls_client, Some("localhost"), now()).expect("client");
        let mut s = Connection::server(self.mtls_handshake_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        debug_assert!(s
            .negotiated()
            .expect("negotiated")
            .peer_cert_sha256
            .is_some());
        (c, s)
    }

    /// One resumed handshake with `ticket`, including the new ticket the
    /// server sends and the client stores.
    pub fn resumed(
        &self,
        ticket: &'static ResumptionTicket<'static>,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> (Connection<'static>, Connection<'static>) {
        let mut c =
            Connection::client_resuming(self.resuming_client, Some("localhost"), now(), ticket)
                .expect("client");
        let mut s = Connection::server(self.ticket_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        read_tickets(&mut c, cb);
        (c, s)
    }
}

/// 0-RTT requests our server declined ([`Ours::request_0rtt`]).
pub static EARLY_DECLINED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The request of the request–response benches, and its response.
pub const REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

impl Ours {
    /// A full handshake with `early_server`: its ticket allows 0-RTT.
    pub fn first_early_ticket(
        &self,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> &'static ResumptionTicket<'static> {
        let mut c =
            Connection::client(self.resuming_client, Some("localhost"), now()).expect("client");
        let mut s = Connection::server(self.early_server, now()).expect("server");
        handshake(&mut c, cb, &mut s, sb);
        read_tickets(&mut c, cb);
        let stored = self.sink.0.lock().unwrap().take().expect("a ticket");
        let ticket = leak(leak(stored).resumption());
        assert!(ticket.max_early_data > 0);
        ticket
    }

    /// A resumed connection that sends `REQUEST` once the handshake is
    /// done and reads `RESPONSE`: the round trips the client waited.
    pub fn request_1rtt(
        &self,
        ticket: &'static ResumptionTicket<'static>,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> usize {
        let mut c =
            Connection::client_resuming(self.resuming_client, Some("localhost"), now(), ticket)
                .expect("client");
        let mut s = Connection::server(self.ticket_server, now()).expect("server");
        let mut trips = 0;
        loop {
            let _ = c.handshake(cb).expect("client handshake");
            if !c.is_handshaking() {
                break;
            }
            wire(cb, sb);
            trips += 1;
            let _ = s.handshake(sb).expect("server handshake");
            wire(sb, cb);
        }
        request_after_the_handshake(&mut c, cb, &mut s, sb);
        trips + 1
    }

    /// The same with `REQUEST` as 0-RTT data in the first flight, taken
    /// by the server's `read_early`, and `RESPONSE` right behind the
    /// server's flight (0.5-RTT); a declined request is sent again after
    /// the handshake (2 round trips).
    pub fn request_0rtt(
        &self,
        ticket: &'static ResumptionTicket<'static>,
        cb: &mut Bufs,
        sb: &mut Bufs,
    ) -> usize {
        let mut c =
            Connection::client_resuming(self.resuming_client, Some("localhost"), now(), ticket)
                .expect("client");
        let mut s = Connection::server(self.early_server, now()).expect("server");
        let mut got = [0u8; 256];
        assert_eq!(c.write_early(cb, REQUEST), Ok(Status::Done(REQUEST.len())));
        wire(cb, sb);
        let mut n = 0;
        loop {
            match s.read_early(sb, &mut got[n..]) {
                Ok(Status::Done(k)) if k > 0 => n += k,
                Ok(_) => break,
                Err(e) => panic!("read_early: {e:?}"),
            }
        }
        if n == 0 {
            // Declined: the guard's slot for this binder was taken (the
            // fixed clock lets no entry expire). The request goes again
            // after the handshake, as an application would send it.
            EARLY_DECLINED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            handshake(&mut c, cb, &mut s, sb);
            request_after_the_handshake(&mut c, cb, &mut s, sb);
            return 2;
        }
        assert_eq!(&got[..n], REQUEST);
        assert_eq!(s.write(sb, RESPONSE), Ok(Status::Done(RESPONSE.len())));
        wire(sb, cb);
        assert_eq!(read_some(&mut c, cb, &mut got), RESPONSE);
        assert_eq!(c.early_data(), tlspair::EarlyData::Accepted);
        // The client's EndOfEarlyData and Finished; the server's ticket.
        wire(cb, sb);
        assert_eq!(s.read_early(sb, &mut got), Ok(Status::Done(0)));
        wire(sb, cb);
        read_tickets(&mut c, cb);
        1
    }
}

/// `REQUEST` from `c` once its handshake is done, read by `s`, and
/// `RESPONSE` back: one round trip.
fn request_after_the_handshake(
    c: &mut Connection<'_>,
    cb: &mut Bufs,
    s: &mut Connection<'_>,
    sb: &mut Bufs,
) {
    let mut got = [0u8; 256];
    assert_eq!(c.write(cb, REQUEST), Ok(Status::Done(REQUEST.len())));
    wire(cb, sb);
    assert_eq!(read_some(s, sb, &mut got), REQUEST);
    assert_eq!(s.write(sb, RESPONSE), Ok(Status::Done(RESPONSE.len())));
    wire(sb, cb);
    assert_eq!(read_some(c, cb, &mut got), RESPONSE);
}

/// Plaintext from `conn`, past the handshake's end: the first `Done(n)`
/// with bytes.
fn read_some<'b>(conn: &mut Connection<'_>, bufs: &mut Bufs, buf: &'b mut [u8]) -> &'b [u8] {
    for _ in 0..4 {
        match conn.read(bufs, buf).expect("read") {
            Status::Done(n) if n > 0 => return &buf[..n],
            Status::Established | Status::Done(_) => {}
            other => panic!("read: {other:?}"),
        }
    }
    panic!("no plaintext")
}

/// Moves every pending outgoing byte of `from` into `to`'s received view
/// (a copy, like a socket).
pub fn wire(from: &mut Bufs, to: &mut Bufs) {
    let n = to.recv.fill(from.send.pending());
    from.send.consume(n);
}

/// An established pair that authenticates its client again and again
/// after the handshake (TLS 1.3 post-handshake authentication), a new
/// pair once the client has answered as many requests as it may.
pub struct PostHandshakeAuth {
    client: Connection<'static>,
    server: Connection<'static>,
    cb: Bufs,
    sb: Bufs,
    answered: u8,
}

impl PostHandshakeAuth {
    pub fn new(ours: &Ours) -> Self {
        let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
        let mut client =
            Connection::client(ours.mtls_client, Some("localhost"), now()).expect("client");
        let mut server = Connection::server(ours.mtls_server, now()).expect("server");
        handshake(&mut client, &mut cb, &mut server, &mut sb);
        assert!(server
            .negotiated()
            .expect("negotiated")
            .peer_cert_sha256
            .is_none());
        Self {
            client,
            server,
            cb,
            sb,
            answered: 0,
        }
    }

    /// One exchange: the server's request, the client's answer inside its
    /// read (certificate, signature, Finished), the server's check
    /// (chain and signature verified). The bench's `ours` makes a new
    /// pair every 255 exchanges (the client's limit).
    pub fn run(&mut self, ours: &Ours) {
        if self.answered == u8::MAX {
            *self = Self::new(ours);
        }
        self.server.request_client_auth(now()).expect("request");
        assert_eq!(self.server.handshake(&mut self.sb), Ok(Status::Done(())));
        wire(&mut self.sb, &mut self.cb);
        assert_eq!(
            self.client.read(&mut self.cb, &mut [0u8; 1]),
            Ok(Status::WantRead)
        );
        wire(&mut self.cb, &mut self.sb);
        assert_eq!(
            self.server.read(&mut self.sb, &mut [0u8; 1]),
            Ok(Status::WantRead)
        );
        assert_eq!(self.server.client_auth_pending(), 0);
        self.answered += 1;
    }
}

/// A TLS 1.2 connection renegotiated over and over (RFC 5746): each run
/// is one renegotiation our server asks for, performed inside the
/// client's and the server's reads (a full TLS 1.2 handshake under the
/// connection's keys: the same public-key work as `full_tls12`).
pub struct Renegotiation {
    client: Connection<'static>,
    server: Connection<'static>,
    cb: Bufs,
    sb: Bufs,
    done: u8,
}

impl Renegotiation {
    pub fn new(ours: &Ours) -> Self {
        let mut cc = ours.tls12_client.clone();
        cc.renegotiations = u8::MAX;
        let cc: &'static ClientConfig<'static> = leak(cc);
        let (mut cb, mut sb) = (handshake_bufs(), handshake_bufs());
        let mut client = Connection::client(cc, Some("localhost"), now()).expect("client");
        let mut server = Connection::server(ours.tls12_server, now()).expect("server");
        handshake(&mut client, &mut cb, &mut server, &mut sb);
        Self {
            client,
            server,
            cb,
            sb,
            done: 0,
        }
    }

    /// One renegotiation: the server's HelloRequest, the client's
    /// ClientHello inside its read, the server's flight inside its read,
    /// the client's flight, the server's ChangeCipherSpec and Finished.
    /// A new pair every 255 (the client's count).
    pub fn run(&mut self, ours: &Ours) {
        if self.done == u8::MAX {
            *self = Self::new(ours);
        }
        assert_eq!(
            self.server.renegotiate(&mut self.sb, now(), false),
            Ok(Status::Done(()))
        );
        let mut buf = [0u8; 1];
        for _ in 0..3 {
            wire(&mut self.sb, &mut self.cb);
            assert_eq!(
                self.client.read(&mut self.cb, &mut buf),
                Ok(Status::WantRead)
            );
            wire(&mut self.cb, &mut self.sb);
            assert_eq!(
                self.server.read(&mut self.sb, &mut buf),
                Ok(Status::WantRead)
            );
        }
        assert!(!self.client.is_renegotiating() && !self.server.is_renegotiating());
        self.done += 1;
    }
}

/// Runs a handshake to completion; both sides' buffers are empty after.
pub fn handshake(c: &mut Connection<'_>, cb: &mut Bufs, s: &mut Connection<'_>, sb: &mut Bufs) {
    for _ in 0..10 {
        let cs = c.handshake(cb).expect("client handshake");
        wire(cb, sb);
        let ss = s.handshake(sb).expect("server handshake");
        wire(sb, cb);
        if cs == Status::Done(()) && ss == Status::Done(()) {
            return;
        }
    }
    panic!("handshake did not finish");
}

/// The client reads what followed the handshake (tickets).
pub fn read_tickets(c: &mut Connection<'_>, cb: &mut Bufs) {
    assert_eq!(c.read(cb, &mut [0u8; 1]).expect("read"), Status::WantRead);
    assert!(cb.recv.is_empty() && cb.send.is_empty());
}

/// How the bench's "transport" moves sealed records from the client's
/// outgoing view to the server's received view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `recv.fill(send.pending())`: one memcpy per byte, as a socket does.
    Copy,
    /// The caller owns both storages, so it hands the client's outgoing
    /// storage to the server as its received storage (and the emptied
    /// received storage back): no byte moves. Isolates the engine's cost.
    Swap,
}

/// How the server reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// `read` into the caller's buffer (one copy, like SSL_read).
    Copy,
    /// `read_in_place` + `consume` (no copy).
    InPlace,
}

/// Bulk client→server transfer with tlspair on established connections.
pub struct OurTransfer {
    pub client: Connection<'static>,
    pub server: Connection<'static>,
    pub cb: Bufs,
    pub sb: Bufs,
    pub dst: Vec<u8>,
}

/// Storage of each view during bulk transfer: several full records.
pub const TRANSFER_BUF: usize = 64 * 1024;

/// Every transfer constructor first moves this much, untimed, so fresh
/// buffers are faulted in and caches warm before anything is timed.
const WARM_TOTAL: usize = 4 * TRANSFER_BUF;
const WARM_CHUNK: [u8; 16 * 1024] = [0; 16 * 1024];

impl OurTransfer {
    /// A fresh pair after a real handshake (fresh sequence numbers).
    pub fn new(ours: &Ours) -> Self {
        let mut cb = handshake_bufs();
        let mut sb = handshake_bufs();
        let (client, server) = ours.full(&mut cb, &mut sb);
        Self::from_pair(client, server)
    }

    /// [`new`](Self::new) over TLS 1.2.
    pub fn new_tls12(ours: &Ours) -> Self {
        let mut cb = handshake_bufs();
        let mut sb = handshake_bufs();
        let (client, server) = ours.full_tls12(&mut cb, &mut sb);
        Self::from_pair(client, server)
    }

    fn from_pair(client: Connection<'static>, server: Connection<'static>) -> Self {
        let buf = || Buffers::new(vec![0u8; TRANSFER_BUF], vec![0u8; TRANSFER_BUF]);
        let mut t = Self {
            client,
            server,
            cb: buf(),
            sb: buf(),
            dst: vec![0u8; TRANSFER_BUF],
        };
        // Untimed: fault in every page of the fresh buffers (calloc'd
        // memory is untouched until written) and warm the caches.
        for transport in [Transport::Copy, Transport::Swap] {
            t.run(&WARM_CHUNK, WARM_TOTAL, transport, Read::Copy);
        }
        t
    }

    /// Sends `total` bytes as writes of `chunk` (whose length divides
    /// `total`); returns the bytes the server received. Each round the
    /// client writes until its outgoing view is full, the transport moves
    /// the records, and the server reads until it has nothing left.
    pub fn run(&mut self, chunk: &[u8], total: usize, transport: Transport, read: Read) -> usize {
        let mut dst = std::mem::take(&mut self.dst);
        let received = self.run_into(chunk, &mut dst, total, transport, read);
        self.dst = dst;
        received
    }

    /// [`run`](Self::run), `read` copying into `dst`.
    fn run_into(
        &mut self,
        chunk: &[u8],
        dst: &mut [u8],
        total: usize,
        transport: Transport,
        read: Read,
    ) -> usize {
        let mut sent = 0;
        let mut received = 0;
        while received < total {
            while sent < total {
                match self.client.write(&mut self.cb, chunk).expect("write") {
                    Status::Done(n) => sent += n,
                    Status::WantWrite { .. } => break,
                    other => panic!("write: {other:?}"),
                }
            }
            match transport {
                Transport::Copy => wire(&mut self.cb, &mut self.sb),
                Transport::Swap => swap(&mut self.cb, &mut self.sb),
            }
            loop {
                let n = match read {
                    Read::Copy => match self.server.read(&mut self.sb, dst) {
                        Ok(Status::Done(n)) => n,
                        Ok(Status::WantRead) => break,
                        other => panic!("read: {other:?}"),
                    },
                    Read::InPlace => {
                        let n = match self.server.read_in_place(&mut self.sb) {
                            Ok(Status::Done(plain)) => std::hint::black_box(plain).len(),
                            Ok(Status::WantRead) => break,
                            other => panic!("read_in_place: {other:?}"),
                        };
                        self.server.consume(&mut self.sb, n);
                        n
                    }
                };
                received += n;
            }
        }
        received
    }
}

/// Where a placed transfer's application buffers sit: `offset` bytes past
/// the start of a 4 KiB page, counted from the page offset of the view
/// they are copied to or from (the client's outgoing view for the
/// written data, the server's received view for the read buffer).
pub struct Placed {
    src: Vec<u8>,
    src_at: usize,
    dst: Vec<u8>,
    dst_at: usize,
}

/// A 4 KiB page.
pub const PAGE: usize = 4096;

/// The index into `v` whose address is `offset` past `base`'s page offset.
fn at_page_offset(v: &[u8], base: *const u8, offset: usize) -> usize {
    let want = (base as usize).wrapping_add(offset) % PAGE;
    (want + PAGE - v.as_ptr() as usize % PAGE) % PAGE
}

impl OurTransfer {
    /// Application buffers for [`run_placed`](Self::run_placed): the data
    /// written (`chunk_len` bytes of it) and the buffer read into, each at
    /// `offset` from its view's page offset.
    pub fn place(&mut self, chunk_len: usize, offset: usize) -> Placed {
        let mut src: Vec<u8> = (0..chunk_len + PAGE).map(|i| i as u8).collect();
        let src_at = at_page_offset(&src, self.cb.send.pending().as_ptr(), offset);
        src.truncate(src_at + chunk_len);
        let dst = vec![0u8; TRANSFER_BUF + PAGE];
        let dst_at = at_page_offset(&dst, self.sb.recv.received().as_ptr(), offset);
        Placed {
            src,
            src_at,
            dst,
            dst_at,
        }
    }

    /// [`run`](Self::run) with `write` + `read` over the copying transport,
    /// from and into the placed buffers.
    pub fn run_placed(&mut self, placed: &mut Placed, total: usize) -> usize {
        let chunk = &placed.src[placed.src_at..];
        let dst = &mut placed.dst[placed.dst_at..placed.dst_at + TRANSFER_BUF];
        self.run_into(chunk, dst, total, Transport::Copy, Read::Copy)
    }
}

impl OurTransfer {
    /// Like [`run`](Self::run) with the zero-copy paths at both ends: the
    /// client seals in place (`reserve` + `seal_reserved`: the application
    /// would produce its data in the lent room; here the room keeps what it
    /// holds, as the ring reference seals what its buffer holds), the
    /// transport swaps storage, the server reads in place.
    pub fn run_zero_copy(&mut self, chunk_len: usize, total: usize) -> usize {
        let mut sent = 0;
        let mut received = 0;
        while received < total {
            while sent < total {
                match self
                    .client
                    .reserve(&mut self.cb, chunk_len)
                    .expect("reserve")
                {
                    Status::Done(room) => {
                        let n = std::hint::black_box(room).len();
                        sent += self.client.seal_reserved(&mut self.cb, n).expect("seal");
                    }
                    Status::WantWrite { .. } => break,
                    other => panic!("reserve: {other:?}"),
                }
            }
            swap(&mut self.cb, &mut self.sb);
            loop {
                let n = match self.server.read_in_place(&mut self.sb) {
                    Ok(Status::Done(plain)) => std::hint::black_box(plain).len(),
                    Ok(Status::WantRead) => break,
                    other => panic!("read_in_place: {other:?}"),
                };
                self.server.consume(&mut self.sb, n);
                received += n;
            }
        }
        received
    }
}

/// The zero-copy transport: the client's outgoing storage, with its
/// sealed records at the front, becomes the server's received storage.
/// Needs the server's received view to be empty and the client's pending
/// bytes to start at 0 (true when every round drains both).
fn swap(cb: &mut Bufs, sb: &mut Bufs) {
    assert!(sb.recv.is_empty());
    let send = std::mem::replace(&mut cb.send, SendBuf::new(Vec::new()));
    let len = send.len();
    let recv = std::mem::replace(&mut sb.recv, RecvBuf::new(send.into_inner()));
    assert_eq!(sb.recv.commit(len), len);
    cb.send = SendBuf::new(recv.into_inner());
}

// ---------------------------------------------------------------------
// rustls

/// rustls's configurations: its ring provider cut down to the same suite
/// and group, TLS 1.3 only.
pub struct Theirs {
    /// Resumption disabled: every handshake is full.
    pub client: Arc<rustls::ClientConfig>,
    /// No tickets sent.
    pub server: Arc<rustls::ServerConfig>,
    /// Keeps tickets in memory and resumes with them.
    pub resuming_client: Arc<rustls::ClientConfig>,
    /// Stateless tickets (rustls's ring ticketer), one per handshake.
    pub ticket_server: Arc<rustls::ServerConfig>,
    /// 0-RTT: a client with early data enabled and its own session cache,
    /// a server taking 16 KiB of it (stateful sessions, one ticket per
    /// handshake) and sending 0.5-RTT data.
    pub early_client: Arc<rustls::ClientConfig>,
    pub early_server: Arc<rustls::ServerConfig>,
    /// TLS 1.2 only, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 over X25519,
    /// no resumption either way (no tickets, no session ids kept).
    pub tls12_client: Arc<rustls::ClientConfig>,
    pub tls12_server: Arc<rustls::ServerConfig>,
    /// TLS 1.2 with RFC 5077 tickets (rustls's ring ticketer) and the
    /// client's in-memory cache.
    pub tls12_resuming_client: Arc<rustls::ClientConfig>,
    pub tls12_ticket_server: Arc<rustls::ServerConfig>,
}

impl Theirs {
    pub fn new() -> Self {
        let mut p = rustls_ring::default_provider();
        p.cipher_suites = vec![rustls_ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
        p.kx_groups = vec![rustls_ring::kx_group::X25519];
        let p: Arc<CryptoProvider> = Arc::new(p);

        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(creds::CA_CERT))
            .expect("test CA");
        let mut client = rustls::ClientConfig::builder_with_provider(p.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut resuming_client = resuming_client_base(&client);
        client.resumption = rustls::client::Resumption::disabled();
        resuming_client.resumption = rustls::client::Resumption::in_memory_sessions(16);

        let cred = &creds::SERVER_ECDSA_P256;
        let mut server = rustls::ServerConfig::builder_with_provider(p)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cred.cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cred.key)),
            )
            .expect("server credential");
        let mut ticket_server = server.clone();
        // 0-RTT: rustls takes early data on sessions from its stateful
        // store (single use), and sends its response as 0.5-RTT data.
        let mut early_server = server.clone();
        early_server.max_early_data_size = 16 << 10;
        early_server.send_half_rtt_data = true;
        early_server.send_tls13_tickets = 1;
        let mut early_client = resuming_client_base(&client);
        early_client.enable_early_data = true;
        server.send_tls13_tickets = 0;
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        ticket_server.ticketer = rustls_ring::Ticketer::new().expect("ticketer");
        ticket_server.send_tls13_tickets = 1;

        let mut p12 = rustls_ring::default_provider();
        p12.cipher_suites =
            vec![rustls_ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
        p12.kx_groups = vec![rustls_ring::kx_group::X25519];
        let p12: Arc<CryptoProvider> = Arc::new(p12);
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(creds::CA_CERT))
            .expect("test CA");
        let mut tls12_client = rustls::ClientConfig::builder_with_provider(p12.clone())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tls12_resuming_client = tls12_client.clone();
        tls12_resuming_client.resumption = rustls::client::Resumption::in_memory_sessions(16);
        tls12_client.resumption = rustls::client::Resumption::disabled();
        let mut tls12_server = rustls::ServerConfig::builder_with_provider(p12)
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cred.cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cred.key)),
            )
            .expect("server credential");
        let mut tls12_ticket_server = tls12_server.clone();
        tls12_ticket_server.ticketer = rustls_ring::Ticketer::new().expect("ticketer");
        tls12_server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        tls12_ticket_server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        Self {
            early_client: Arc::new(early_client),
            early_server: Arc::new(early_server),
            tls12_resuming_client: Arc::new(tls12_resuming_client),
            tls12_ticket_server: Arc::new(tls12_ticket_server),
            tls12_client: Arc::new(tls12_client),
            tls12_server: Arc::new(tls12_server),
            client: Arc::new(client),
            server: Arc::new(server),
            resuming_client: Arc::new(resuming_client),
            ticket_server: Arc::new(ticket_server),
        }
    }

    pub fn full(&self, wire: &mut Vec<u8>) -> (rustls::ClientConnection, rustls::ServerConnection) {
        let mut c =
            rustls::ClientConnection::new(self.client.clone(), server_name()).expect("client");
        let mut s = rustls::ServerConnection::new(self.server.clone()).expect("server");
        rustls_handshake(&mut c, &mut s, wire);
        (c, s)
    }

    /// A full TLS 1.2 handshake.
    pub fn full_tls12(
        &self,
        wire: &mut Vec<u8>,
    ) -> (rustls::ClientConnection, rustls::ServerConnection) {
        let mut c = rustls::ClientConnection::new(self.tls12_client.clone(), server_name())
            .expect("client");
        let mut s = rustls::ServerConnection::new(self.tls12_server.clone()).expect("server");
        rustls_handshake(&mut c, &mut s, wire);
        (c, s)
    }

    /// An abbreviated TLS 1.2 handshake from the client's cached ticket
    /// (a first call makes one), with the new ticket stored.
    pub fn resumed_tls12(
        &self,
        wire: &mut Vec<u8>,
    ) -> (rustls::ClientConnection, rustls::ServerConnection) {
        let mut c =
            rustls::ClientConnection::new(self.tls12_resuming_client.clone(), server_name())
                .expect("client");
        let mut s =
            rustls::ServerConnection::new(self.tls12_ticket_server.clone()).expect("server");
        rustls_handshake(&mut c, &mut s, wire);
        (c, s)
    }

    /// A resumed handshake (the client's cache must hold a ticket from a
    /// previous one), with the new ticket delivered and stored.
    pub fn resumed(
        &self,
        wire: &mut Vec<u8>,
    ) -> (rustls::ClientConnection, rustls::ServerConnection) {
        let mut c = rustls::ClientConnection::new(self.resuming_client.clone(), server_name())
            .expect("client");
        let mut s = rustls::ServerConnection::new(self.ticket_server.clone()).expect("server");
        rustls_handshake(&mut c, &mut s, wire);
        (c, s)
    }
}

/// A rustls client that keeps up to 16 sessions in memory.
fn resuming_client_base(client: &rustls::ClientConfig) -> rustls::ClientConfig {
    let mut c = client.clone();
    c.resumption = rustls::client::Resumption::in_memory_sessions(16);
    c
}

impl Theirs {
    /// The rustls counterpart of [`Ours::request_1rtt`] (the client's
    /// cache must hold a session).
    pub fn request_1rtt(&self, wire: &mut Vec<u8>) -> usize {
        let (mut c, mut s) = self.resumed(wire);
        use std::io::{Read as _, Write as _};
        c.writer().write_all(REQUEST).expect("request");
        rustls_wire(&mut c, &mut s, wire);
        let mut got = [0u8; 256];
        let n = s.reader().read(&mut got).expect("request");
        assert_eq!(&got[..n], REQUEST);
        s.writer().write_all(RESPONSE).expect("response");
        rustls_wire(&mut s, &mut c, wire);
        let n = c.reader().read(&mut got).expect("response");
        assert_eq!(&got[..n], RESPONSE);
        2
    }

    /// The rustls counterpart of [`Ours::request_0rtt`]: early data from
    /// its session cache, the response as 0.5-RTT data (a first call
    /// fills the cache and sends no early data: 0).
    pub fn request_0rtt(&self, wire: &mut Vec<u8>) -> usize {
        use std::io::{Read as _, Write as _};
        let mut c = rustls::ClientConnection::new(self.early_client.clone(), server_name())
            .expect("client");
        let mut s = rustls::ServerConnection::new(self.early_server.clone()).expect("server");
        let early = c
            .early_data()
            .map(|mut e| e.write(REQUEST).expect("early data"));
        let Some(sent) = early else {
            rustls_handshake(&mut c, &mut s, wire);
            return 0;
        };
        assert_eq!(sent, REQUEST.len());
        rustls_wire(&mut c, &mut s, wire);
        let mut got = [0u8; 256];
        let n = match s.early_data() {
            Some(mut e) => e.read(&mut got).expect("early data"),
            None => panic!("rustls declined 0-RTT"),
        };
        assert_eq!(&got[..n], REQUEST);
        s.writer().write_all(RESPONSE).expect("response");
        rustls_wire(&mut s, &mut c, wire);
        let n = c.reader().read(&mut got).expect("response");
        assert_eq!(&got[..n], RESPONSE);
        assert!(c.is_early_data_accepted());
        rustls_handshake(&mut c, &mut s, wire);
        1
    }
}

pub fn server_name() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("name")
}

/// Moves everything `from` wants to write into `to`, through `wire` (one
/// reused Vec), and lets `to` process it.
pub fn rustls_wire(
    from: &mut impl std::ops::DerefMut<Target = rustls::ConnectionCommon<impl Sized>>,
    to: &mut impl std::ops::DerefMut<Target = rustls::ConnectionCommon<impl Sized>>,
    wire: &mut Vec<u8>,
) -> bool {
    let mut moved = false;
    while from.wants_write() {
        wire.clear();
        from.write_tls(wire).expect("write_tls");
        let mut rd = &wire[..];
        while !rd.is_empty() {
            to.read_tls(&mut rd).expect("read_tls");
            to.process_new_packets().expect("process_new_packets");
        }
        moved = true;
    }
    moved
}

/// Runs a rustls handshake to completion, and the tickets after it.
pub fn rustls_handshake(
    c: &mut rustls::ClientConnection,
    s: &mut rustls::ServerConnection,
    wire: &mut Vec<u8>,
) {
    for _ in 0..10 {
        let a = rustls_wire(c, s, wire);
        let b = rustls_wire(s, c, wire);
        if !a && !b && !c.is_handshaking() && !s.is_handshaking() {
            return;
        }
    }
    panic!("rustls handshake did not finish");
}

/// Bulk client→server transfer with rustls's buffered API.
pub struct RustlsTransfer {
    pub client: rustls::ClientConnection,
    pub server: rustls::ServerConnection,
    pub wire: Vec<u8>,
    pub dst: Vec<u8>,
}

impl RustlsTransfer {
    pub fn new(theirs: &Theirs) -> Self {
        let mut wire = Vec::with_capacity(TRANSFER_BUF);
        let (mut client, mut server) = theirs.full(&mut wire);
        // The client queues a whole round before write_tls; rustls's
        // default 64 KiB limit counts ciphertext, which is a little more.
        client.set_buffer_limit(None);
        server.set_buffer_limit(None);
        let mut t = Self {
            client,
            server,
            wire,
            dst: vec![0u8; TRANSFER_BUF],
        };
        t.run(&WARM_CHUNK, WARM_TOTAL);
        t
    }

    /// Same rounds as [`OurTransfer::run`]: the client writes a window of
    /// about [`TRANSFER_BUF`] bytes, `write_tls` into the wire, `read_tls`
    /// and `process_new_packets` on the server, which reads it all.
    pub fn run(&mut self, chunk: &[u8], total: usize) -> usize {
        use std::io::{Read as _, Write as _};
        let per_round = (TRANSFER_BUF / chunk.len()).max(1);
        let mut sent = 0;
        let mut received = 0;
        while received < total {
            for _ in 0..per_round {
                if sent == total {
                    break;
                }
                self.client.writer().write_all(chunk).expect("write");
                sent += chunk.len();
            }
            while self.client.wants_write() {
                self.wire.clear();
                self.client.write_tls(&mut self.wire).expect("write_tls");
                let mut rd = &self.wire[..];
                while !rd.is_empty() {
                    self.server.read_tls(&mut rd).expect("read_tls");
                    self.server.process_new_packets().expect("process");
                    loop {
                        match self.server.reader().read(&mut self.dst) {
                            Ok(0) => panic!("eof"),
                            Ok(n) => received += n,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => panic!("read: {e}"),
                        }
                    }
                }
            }
        }
        received
    }
}

// ---------------------------------------------------------------------
// rustls, unbuffered API

/// Bulk transfer through rustls's unbuffered API (caller-owned buffers,
/// like ours): the client encrypts into its outgoing buffer, which is
/// handed to the server as its incoming buffer.
pub struct UnbufferedTransfer {
    pub client: rustls::client::UnbufferedClientConnection,
    pub server: rustls::server::UnbufferedServerConnection,
    out: Vec<u8>,
    inc: Vec<u8>,
}

/// One side's step in an unbuffered handshake: processes `inc[..*inc_len]`,
/// encodes what it must send at the end of `out[..*out_len]`; true once it
/// may write application data.
macro_rules! unbuffered_step {
    ($conn:expr, $inc:expr, $inc_len:expr, $out:expr, $out_len:expr) => {{
        use rustls::unbuffered::ConnectionState;
        let mut done = false;
        loop {
            let st = $conn.process_tls_records(&mut $inc[..*$inc_len]);
            let discard = st.discard;
            let mut stop = false;
            match st.state.expect("unbuffered state") {
                ConnectionState::EncodeTlsData(mut e) => {
                    let n = e.encode(&mut $out[*$out_len..]).expect("encode");
                    *$out_len += n;
                }
                ConnectionState::TransmitTlsData(t) => t.done(),
                ConnectionState::BlockedHandshake => stop = true,
                ConnectionState::WriteTraffic(_) => {
                    done = true;
                    stop = true;
                }
                ConnectionState::ReadTraffic(mut r) => {
                    while let Some(rec) = r.next_record() {
                        rec.expect("record");
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
            $inc.copy_within(discard..*$inc_len, 0);
            *$inc_len -= discard;
            if stop {
                break;
            }
        }
        done
    }};
}

impl UnbufferedTransfer {
    pub fn new(theirs: &Theirs) -> Self {
        let mut client =
            rustls::client::UnbufferedClientConnection::new(theirs.client.clone(), server_name())
                .expect("client");
        let mut server =
            rustls::server::UnbufferedServerConnection::new(theirs.server.clone()).expect("server");
        // c2s / s2c: bytes in flight each way.
        let mut c2s = vec![0u8; TRANSFER_BUF];
        let mut s2c = vec![0u8; TRANSFER_BUF];
        let (mut c2s_len, mut s2c_len) = (0usize, 0usize);
        let mut client_done = false;
        let mut server_done = false;
        for _ in 0..10 {
            client_done = unbuffered_step!(client, s2c, &mut s2c_len, c2s, &mut c2s_len);
            server_done = unbuffered_step!(server, c2s, &mut c2s_len, s2c, &mut s2c_len);
            if client_done && server_done && c2s_len == 0 && s2c_len == 0 {
                break;
            }
        }
        assert!(client_done && server_done && c2s_len == 0 && s2c_len == 0);
        let mut t = Self {
            client,
            server,
            out: c2s,
            inc: s2c,
        };
        t.run(&WARM_CHUNK, WARM_TOTAL);
        t
    }

    /// Same rounds as [`OurTransfer::run`] with the swap transport: the
    /// client encrypts writes into its outgoing buffer until the next one
    /// would not fit, the buffers trade places, the server reads all.
    pub fn run(&mut self, chunk: &[u8], total: usize) -> usize {
        use rustls::unbuffered::ConnectionState;
        let mut sent = 0;
        let mut received = 0;
        while received < total {
            let mut used = 0;
            {
                let st = self.client.process_tls_records(&mut []);
                let Ok(ConnectionState::WriteTraffic(mut w)) = st.state else {
                    panic!("client cannot write");
                };
                while sent < total {
                    match w.encrypt(chunk, &mut self.out[used..]) {
                        Ok(n) => {
                            used += n;
                            sent += chunk.len();
                        }
                        Err(rustls::unbuffered::EncryptError::InsufficientSize(_)) => break,
                        Err(e) => panic!("encrypt: {e}"),
                    }
                }
            }
            std::mem::swap(&mut self.out, &mut self.inc);
            // Discarded bytes leave the front by advancing `start` (no
            // moving of what remains).
            let mut start = 0;
            while start < used {
                let st = self.server.process_tls_records(&mut self.inc[start..used]);
                let mut discard = st.discard;
                match st.state.expect("server state") {
                    ConnectionState::ReadTraffic(mut r) => {
                        while let Some(rec) = r.next_record() {
                            let rec = rec.expect("record");
                            discard += rec.discard;
                            received += std::hint::black_box(rec.payload).len();
                        }
                    }
                    ConnectionState::WriteTraffic(_) => {}
                    other => panic!("server: {other:?}"),
                }
                start += discard;
            }
        }
        received
    }
}

// ---------------------------------------------------------------------
// The limits: raw ring

/// The record-layer limit: AES-128-GCM `seal_in_place_separate_tag` then
/// `open_in_place` of a TLS 1.3 inner plaintext (payload + content type)
/// with a record header as AAD and a counter nonce; no framing, no copy.
pub struct RingRecord {
    key: aead::LessSafeKey,
    seq: u64,
    buf: Vec<u8>,
}

impl RingRecord {
    /// AES-128-GCM under a fixed key.
    pub fn new(payload: &[u8]) -> Self {
        let key = aead::UnboundKey::new(&aead::AES_128_GCM, &[0x11; 16]).expect("ring key");
        Self::with_key(key, payload)
    }

    /// Under `key` (any AEAD).
    pub fn with_key(key: aead::UnboundKey, payload: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(payload.len() + 1 + TAG_LEN);
        buf.extend_from_slice(payload);
        buf.push(23);
        buf.resize(payload.len() + 1 + TAG_LEN, 0);
        Self {
            key: aead::LessSafeKey::new(key),
            seq: 0,
            buf,
        }
    }

    /// Seals and reopens one record; returns the inner plaintext length.
    pub fn round_trip(&mut self) -> usize {
        let mut nonce = [0u8; aead::NONCE_LEN];
        nonce[4..].copy_from_slice(&self.seq.to_be_bytes());
        self.seq += 1;
        let len = u16::try_from(self.buf.len()).expect("record length");
        let [l0, l1] = len.to_be_bytes();
        let header: [u8; HEADER_LEN] = [23, 3, 3, l0, l1];
        let nonce = || aead::Nonce::assume_unique_for_key(nonce);
        let inner_len = self.buf.len() - TAG_LEN;
        let (inner, tag_out) = self.buf.split_at_mut(inner_len);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce(), aead::Aad::from(header), inner)
            .expect("seal");
        tag_out.copy_from_slice(tag.as_ref());
        let plain = self
            .key
            .open_in_place(nonce(), aead::Aad::from(header), &mut self.buf)
            .expect("open");
        std::hint::black_box(plain).len()
    }

    /// `total` bytes as records of this payload: the limit of a transfer.
    pub fn transfer(&mut self, total: usize) -> usize {
        let per = self.buf.len() - 1 - TAG_LEN;
        let mut done = 0;
        while done < total {
            self.round_trip();
            done += per;
        }
        done
    }
}

/// The public-key work of one full handshake, with ring: two X25519 key
/// pairs and agreements (client and server), one ECDSA P-256 signature
/// (CertificateVerify) and two ECDSA P-256 verifications (the certificate's
/// signature by the CA, and CertificateVerify).
pub struct PublicKeyLimit {
    rng: SystemRandom,
    signer: ring::signature::EcdsaKeyPair,
    public: Vec<u8>,
    message: [u8; 130],
}

impl PublicKeyLimit {
    pub fn new() -> Self {
        use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
        let rng = SystemRandom::new();
        let signer = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            creds::SERVER_ECDSA_P256.key,
            &rng,
        )
        .expect("key");
        let public = signer.public_key().as_ref().to_vec();
        Self {
            rng,
            signer,
            public,
            // The size of a TLS 1.3 CertificateVerify input with SHA-256.
            message: [0x20; 130],
        }
    }

    /// A full handshake's public-key work.
    pub fn run(&self) {
        use ring::signature::{UnparsedPublicKey as Verify, ECDSA_P256_SHA256_ASN1};
        self.run_key_exchange();
        let sig = self.signer.sign(&self.rng, &self.message).expect("sign");
        let key = Verify::new(&ECDSA_P256_SHA256_ASN1, &self.public);
        for _ in 0..2 {
            key.verify(&self.message, sig.as_ref()).expect("verify");
        }
    }

    /// A post-handshake authentication's: one ECDSA P-256 signature (the
    /// client's CertificateVerify) and two verifications (its
    /// certificate by the CA, the CertificateVerify).
    pub fn run_signatures(&self) {
        use ring::signature::{UnparsedPublicKey as Verify, ECDSA_P256_SHA256_ASN1};
        let sig = self.signer.sign(&self.rng, &self.message).expect("sign");
        let key = Verify::new(&ECDSA_P256_SHA256_ASN1, &self.public);
        for _ in 0..2 {
            key.verify(&self.message, sig.as_ref()).expect("verify");
        }
    }

    /// A resumed (psk_dhe_ke) handshake's: two X25519 key pairs and
    /// agreements.
    pub fn run_key_exchange(&self) {
        use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
        let a = EphemeralPrivateKey::generate(&X25519, &self.rng).expect("x25519");
        let a_pub = a.compute_public_key().expect("public");
        let b = EphemeralPrivateKey::generate(&X25519, &self.rng).expect("x25519");
        let b_pub = b.compute_public_key().expect("public");
        let s1 = agree_ephemeral(a, &UnparsedPublicKey::new(&X25519, b_pub.as_ref()), |s| {
            s[0]
        })
        .expect("agree");
        let s2 = agree_ephemeral(b, &UnparsedPublicKey::new(&X25519, a_pub.as_ref()), |s| {
            s[0]
        })
        .expect("agree");
        assert_eq!(s1, s2);
    }
}

// ---------------------------------------------------------------------
// Paired measurement: ratios that survive a shared machine

/// One contender of a paired run: `unit` does its own untimed setup and
/// returns the time of one timed unit of work.
pub struct Variant<'a> {
    pub name: &'static str,
    pub unit: Box<dyn FnMut() -> std::time::Duration + 'a>,
}

impl<'a> Variant<'a> {
    pub fn new(name: &'static str, unit: impl FnMut() -> std::time::Duration + 'a) -> Self {
        Self {
            name,
            unit: Box::new(unit),
        }
    }
}

/// Seconds per unit of each variant, round by round.
pub struct Paired {
    pub names: Vec<&'static str>,
    pub secs: Vec<Vec<f64>>,
}

/// Runs every variant once per round, `rounds` times (after one discarded
/// warm-up round), rotating the order each round. Another process that
/// slows the machine for a while slows every variant of the rounds it
/// overlaps, so the ratio of two variants *within a round* stays honest
/// where criterion's one-after-the-other medians drift apart.
pub fn paired(rounds: usize, mut variants: Vec<Variant<'_>>) -> Paired {
    let n = variants.len();
    let mut secs = vec![Vec::with_capacity(rounds); n];
    for round in 0..=rounds {
        for k in 0..n {
            let i = (k + round) % n;
            let t = (variants[i].unit)().as_secs_f64();
            if round > 0 {
                secs[i].push(t);
            }
        }
    }
    Paired {
        names: variants.iter().map(|v| v.name).collect(),
        secs,
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

/// Median and interquartile range (p25, p75) of `xs`.
pub fn median_iqr(xs: &[f64]) -> (f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    (quantile(&v, 0.5), quantile(&v, 0.25), quantile(&v, 0.75))
}

impl Paired {
    fn index(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("no variant {name}"))
    }

    /// Median seconds per unit of `name`, with its interquartile range.
    pub fn time(&self, name: &str) -> (f64, f64, f64) {
        median_iqr(&self.secs[self.index(name)])
    }

    /// Speed of `name` relative to `reference` (>1: `name` is faster),
    /// from the per-round ratios: median, p25, p75.
    pub fn ratio(&self, name: &str, reference: &str) -> (f64, f64, f64) {
        let (a, b) = (
            &self.secs[self.index(name)],
            &self.secs[self.index(reference)],
        );
        let ratios: Vec<f64> = a.iter().zip(b).map(|(x, r)| r / x).collect();
        median_iqr(&ratios)
    }
}

/// Whether to run the paired pass: not when the bench binary was asked
/// only to test or list (`cargo test --benches`, `--list`) or given a
/// criterion filter, except the filter `paired`, which matches no
/// criterion benchmark and so runs the paired pass alone
/// (`cargo bench --bench transfer -- paired`).
pub fn paired_pass_wanted() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return false;
    }
    let mut filters = args.iter().filter(|a| !a.starts_with('-'));
    match (filters.next(), filters.next()) {
        (None, _) => true,
        (Some(f), None) => f == "paired",
        _ => false,
    }
}

/// Times `iters` rounds of `round` on state built by `setup` outside the
/// timed region.
pub fn timed<T>(
    iters: u64,
    setup: impl FnOnce() -> T,
    mut round: impl FnMut(&mut T),
) -> std::time::Duration {
    let mut state = setup();
    let start = std::time::Instant::now();
    for _ in 0..iters {
        round(&mut state);
    }
    start.elapsed()
}

/// The ML-KEM-768 work a hybrid handshake adds at least, with the same
/// crate the engine uses: the client's key pair derived from its seed
/// twice (for the ClientHello, and again to decapsulate), the server's
/// encapsulation, the client's decapsulation.
pub struct MlKemCost {
    seed: [u8; 64],
}

impl MlKemCost {
    pub fn new() -> Self {
        Self { seed: [0x5a; 64] }
    }

    pub fn run(&self) {
        use ml_kem::kem::Decapsulate;
        use ml_kem::{EncapsulateDeterministic, EncodedSizeUser, KemCore};
        let d = ml_kem::B32::try_from(&self.seed[..32]).expect("d");
        let z = ml_kem::B32::try_from(&self.seed[32..]).expect("z");
        let (_, ek) = ml_kem::MlKem768::generate_deterministic(&d, &z);
        let encoded = ek.as_bytes();
        let ek = <ml_kem::MlKem768 as KemCore>::EncapsulationKey::from_bytes(&encoded);
        let (ct, ss) = ek.encapsulate_deterministic(&d).expect("encapsulate");
        let (dk, _) = ml_kem::MlKem768::generate_deterministic(&d, &z);
        let back = dk.decapsulate(&ct).expect("decapsulate");
        assert_eq!(back, ss);
    }
}
