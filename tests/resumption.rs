//! PSK resumption (RFC 8446 §2.2, §4.2.11, §4.6.1): tickets issued after a
//! full handshake, stored by the client's embedder, offered again; every
//! reason to refuse one falls back to a full handshake, except a bad
//! binder, which is fatal.

mod common;

use std::sync::Mutex;

use common::tls::{client_config, complete, outcome, p256_server_config, side};
use common::{transfer_all, Side};
use rustls_pki_types::UnixTime;
use tlspair::handshake::ticket::{
    NewTicket, ResumptionTicket, StoredTicket, TicketKey, TicketSink,
};
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::wire::NamedGroup;
use tlspair::{AlertDescription as AD, Connection, Error, Status};

/// The embedder's ticket store: keeps every ticket with the time it came.
#[derive(Default)]
struct Store {
    now: Mutex<u64>,
    tickets: Mutex<Vec<StoredTicket>>,
}

impl TicketSink for Store {
    fn store(&self, t: &NewTicket<'_>) {
        let now =
            UnixTime::since_unix_epoch(core::time::Duration::from_secs(*self.now.lock().unwrap()));
        self.tickets
            .lock()
            .unwrap()
            .push(StoredTicket::new(t, now).unwrap());
    }
}

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(core::time::Duration::from_secs(secs))
}

const T0: u64 = 1_798_761_600;

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn server(keys: &'static [TicketKey]) -> &'static ServerConfig<'static> {
    let mut sc = p256_server_config();
    sc.ticket_keys = (keys).into();
    leak(sc)
}

fn key(id: u32, byte: u8) -> TicketKey {
    TicketKey::new(id, &[byte; 32]).unwrap()
}

/// A full handshake at T0 that leaves the server's tickets in `store`.
fn first_connection(
    cc: &'static ClientConfig<'static>,
    sc: &'static ServerConfig<'static>,
    store: &Store,
) -> Vec<StoredTicket> {
    *store.now.lock().unwrap() = T0;
    let mut c = side(Connection::client(cc, Some("localhost"), at(T0)).unwrap());
    let mut s = side(Connection::server(sc, at(T0)).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(!c.conn.negotiated().unwrap().resumed);
    // The tickets follow the server's last flight; the client's read
    // hands them to the store.
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap(),
        Status::WantRead
    );
    store.tickets.lock().unwrap().clone()
}

type Outcomes = (Result<(), Error>, Result<(), Error>);

fn resume(
    cc: &'static ClientConfig<'static>,
    sc: &'static ServerConfig<'static>,
    ticket: &'static StoredTicket,
    client_now: u64,
    server_now: u64,
) -> (Side, Side, Outcomes) {
    resume_with(cc, sc, leak(ticket.resumption()), client_now, server_now)
}

fn resume_with(
    cc: &'static ClientConfig<'static>,
    sc: &'static ServerConfig<'static>,
    ticket: &'static ResumptionTicket<'static>,
    client_now: u64,
    server_now: u64,
) -> (Side, Side, Outcomes) {
    let mut c =
        side(Connection::client_resuming(cc, Some("localhost"), at(client_now), ticket).unwrap());
    let mut s = side(Connection::server(sc, at(server_now)).unwrap());
    let r = outcome(&mut c, &mut s);
    (c, s, r)
}

/// Whether a handshake that succeeded on both sides was a resumption
/// (the server's word).
fn resumed((_, s, (cr, sr)): (Side, Side, Outcomes)) -> bool {
    cr.unwrap();
    sr.unwrap();
    s.conn.negotiated().unwrap().resumed
}

/// SHA-256 of a certificate (a peer identity as `Negotiated` reports it).
fn sha256(der: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .try_into()
        .unwrap()
}

/// Asserts a full (not resumed) handshake that succeeded.
fn full((c, s, (cr, sr)): (Side, Side, Outcomes)) {
    cr.unwrap();
    sr.unwrap();
    assert!(!c.conn.negotiated().unwrap().resumed);
    assert!(!s.conn.negotiated().unwrap().resumed);
    assert!(c.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

fn setup(
    keys: &'static [TicketKey],
) -> (
    &'static ClientConfig<'static>,
    &'static ServerConfig<'static>,
    &'static Store,
) {
    let store: &'static Store = leak(Store::default());
    let mut cc = client_config();
    cc.ticket_sink = Some(store);
    (leak(cc), server(keys), store)
}

#[test]
fn resumption_after_a_full_handshake() {
    let keys = leak([key(1, 7)]);
    let (cc, sc, store) = setup(keys);
    let tickets = first_connection(cc, sc, store);
    assert_eq!(tickets.len(), 2, "the server's default is two tickets");
    for ticket in tickets {
        let (mut c, mut s, (cr, sr)) = resume(cc, sc, leak(ticket), T0 + 30, T0 + 30);
        cr.unwrap();
        sr.unwrap();
        for side in [&c, &s] {
            let n = side.conn.negotiated().unwrap();
            assert!(n.resumed);
            assert_eq!(
                n.group,
                Some(NamedGroup::X25519MLKEM768),
                "psk_dhe_ke still exchanges keys (the default's first group)"
            );
        }
        // No certificate in a resumed handshake: the identity reported is
        // the one of the full handshake.
        assert!(c.conn.negotiated().unwrap().peer_cert_sha256.is_some());
        assert!(c.conn.negotiated().unwrap().signature_scheme.is_none());
        assert_eq!(
            common::send_and_receive(&mut c, &mut s, b"resumed"),
            b"resumed"
        );
    }
}

#[test]
fn expired_altered_and_foreign_tickets_fall_back_to_a_full_handshake() {
    let keys = leak([key(1, 7)]);
    let (cc, sc, store) = setup(keys);
    let tickets = first_connection(cc, sc, store);
    let ticket = leak(tickets[0].clone());
    // Expired on the client's clock: not even offered.
    full(resume(cc, sc, ticket, T0 + 7200, T0 + 7200));
    // Expired on the server's clock only.
    full(resume(cc, sc, ticket, T0 + 60, T0 + 7201));
    // Ages that disagree by more than the tolerance.
    full(resume(cc, sc, ticket, T0 + 60, T0 + 600));
    // Altered ticket bytes: the seal does not open.
    let mut altered = ticket.resumption();
    let mut bytes = altered.ticket.to_vec();
    bytes[20] ^= 1;
    altered.ticket = Box::leak(bytes.into_boxed_slice());
    full(resume_with(cc, sc, leak(altered), T0 + 30, T0 + 30));
    // A ticket from another server (another key).
    let other = server(leak([key(9, 9)]));
    full(resume(cc, other, ticket, T0 + 30, T0 + 30));
}

#[test]
fn a_rotated_key_still_opens_its_tickets() {
    let (cc, sc, store) = setup(leak([key(1, 7)]));
    let ticket = leak(first_connection(cc, sc, store).remove(0));
    // The new key seals from now on; the old one still opens.
    let rotated = server(leak([key(2, 8), key(1, 7)]));
    let (_, s, (cr, sr)) = resume(cc, rotated, ticket, T0 + 30, T0 + 30);
    cr.unwrap();
    sr.unwrap();
    assert!(s.conn.negotiated().unwrap().resumed);
}

#[test]
fn a_bad_binder_is_decrypt_error() {
    let (cc, sc, store) = setup(leak([key(1, 7)]));
    let ticket = leak(first_connection(cc, sc, store).remove(0));
    // The client binds with a PSK that is not the ticket's.
    let mut wrong = ticket.resumption();
    let mut psk = wrong.psk.to_vec();
    psk[0] ^= 1;
    wrong.psk = Box::leak(psk.into_boxed_slice());
    let (_, _, (cr, sr)) = resume_with(cc, sc, leak(wrong), T0 + 30, T0 + 30);
    assert_eq!(
        sr.unwrap_err(),
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::BadBinder)
    );
    assert_eq!(cr.unwrap_err(), Error::AlertReceived(AD::DECRYPT_ERROR));
}

#[test]
fn resumption_through_a_hello_retry_request() {
    let (cc, sc, store) = setup(leak([key(1, 7)]));
    let ticket = leak(first_connection(cc, sc, store).remove(0));
    // This server only takes P-384: the client's X25519 share needs a retry,
    // and the second ClientHello carries a fresh binder.
    let mut p384 = sc.clone();
    p384.groups = &[NamedGroup::SECP384R1];
    let (mut c, mut s, (cr, sr)) = resume(cc, leak(p384), ticket, T0 + 30, T0 + 30);
    cr.unwrap();
    sr.unwrap();
    assert!(s.conn.negotiated().unwrap().resumed);
    assert_eq!(
        c.conn.negotiated().unwrap().group,
        Some(NamedGroup::SECP384R1)
    );
    assert_eq!(c.conn.negotiated().unwrap().signature_scheme, None);
    assert_eq!(
        common::send_and_receive(&mut s, &mut c, b"retried"),
        b"retried"
    );
}

#[test]
fn a_flood_of_tickets_is_cut_off() {
    // 60 tickets after one handshake (what fits the test's outgoing view):
    // the client accepts a bounded run of records that deliver no data.
    let mut sc = (server(leak([key(1, 7)]))).clone();
    sc.tickets = 60;
    let (cc, _, store) = setup(leak([key(1, 7)]));
    let mut c = side(Connection::client(cc, Some("localhost"), at(T0)).unwrap());
    let mut s = side(Connection::server(leak(sc), at(T0)).unwrap());
    complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap_err(),
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::TooManyEmptyRecords)
    );
    assert_eq!(
        store.tickets.lock().unwrap().len(),
        usize::from(tlspair::conn::MAX_EMPTY_RECORDS)
    );
}

#[test]
fn a_client_that_wants_tickets_lists_a_psk_mode() {
    // Without a ticket to offer, psk_key_exchange_modes still goes out when
    // the client keeps tickets, and not otherwise.
    for (sink, want) in [(true, true), (false, false)] {
        let store: &'static Store = leak(Store::default());
        let mut cc = client_config();
        if sink {
            cc.ticket_sink = Some(store);
        }
        let mut c = side(Connection::client(leak(cc), Some("localhost"), at(T0)).unwrap());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let hello = c.bufs.send.pending()[5..].to_vec();
        let ch = tlspair::handshake::messages::ClientHello::parse(&hello[4..]).unwrap();
        assert_eq!(ch.ext.psk_modes, want.then_some(&[1u8][..]));
        assert!(ch.ext.pre_shared_key.is_none());
    }
}

// Review finding 1: a ticket carries the client's authentication, the
// server name and the time of the original full handshake, and a server
// resumes only what its own policy would have accepted.

/// A server with client authentication required, sharing `keys`.
fn mtls_server(keys: &'static [TicketKey]) -> &'static ServerConfig<'static> {
    let mut sc = common::tls::mtls_server_config();
    sc.ticket_keys = (keys).into();
    leak(sc)
}

fn mtls_client(store: &'static Store) -> &'static ClientConfig<'static> {
    let mut cc = client_config();
    cc.ticket_sink = Some(store);
    cc.client_auth = Some(common::tls::certified(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
    ));
    leak(cc)
}

#[test]
fn a_ticket_from_an_anonymous_server_does_not_resume_into_one_that_requires_certificates() {
    let keys = leak([key(1, 7)]);
    let (cc, anonymous, store) = setup(keys);
    let ticket = leak(first_connection(cc, anonymous, store).remove(0));
    // Same ticket key, client certificates required: the ticket does not
    // satisfy the policy, so the server runs a full handshake and asks for
    // a certificate this client does not have.
    let (mut c, s, (cr, sr)) = resume(cc, mtls_server(keys), ticket, T0 + 30, T0 + 30);
    assert_eq!(
        sr.unwrap_err(),
        Error::PeerIncompatible(tlspair::PeerIncompatible::CertificateRequired)
    );
    assert!(s.conn.negotiated().is_none());
    // The client finished its side (TLS 1.3: it learns of the refusal
    // afterwards); its next read meets the alert.
    cr.unwrap();
    assert!(!c.conn.negotiated().unwrap().resumed);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap_err(),
        Error::AlertReceived(AD::CERTIFICATE_REQUIRED)
    );
}

#[test]
fn a_resumed_session_reports_the_peer_identity_of_the_full_handshake() {
    let keys = leak([key(1, 7)]);
    let store: &'static Store = leak(Store::default());
    let (cc, sc) = (mtls_client(store), mtls_server(keys));
    let ticket = leak(first_connection(cc, sc, store).remove(0));
    let (c, s, (cr, sr)) = resume(cc, sc, ticket, T0 + 30, T0 + 30);
    cr.unwrap();
    sr.unwrap();
    let (cn, sn) = (c.conn.negotiated().unwrap(), s.conn.negotiated().unwrap());
    assert!(cn.resumed && sn.resumed);
    let creds = &tlspair::test_credentials::CLIENT_ECDSA_P256;
    assert_eq!(sn.peer_cert_sha256, Some(sha256(creds.cert)));
    let server = &tlspair::test_credentials::SERVER_ECDSA_P256;
    assert_eq!(cn.peer_cert_sha256, Some(sha256(server.cert)));
}

#[test]
fn resumption_cannot_renew_a_session_past_the_lifetime_of_its_full_handshake() {
    let keys = leak([key(1, 7)]);
    let store: &'static Store = leak(Store::default());
    let (cc, sc) = (mtls_client(store), mtls_server(keys));
    // The full handshake at T0; lifetime 7200 s.
    let first = leak(first_connection(cc, sc, store).remove(0));
    store.tickets.lock().unwrap().clear();
    // Resumed at T0 + 1 h: the tickets this issues inherit the original
    // handshake's time.
    *store.now.lock().unwrap() = T0 + 3600;
    let (mut c, mut s, (cr, sr)) = resume(cc, sc, first, T0 + 3600, T0 + 3600);
    cr.unwrap();
    sr.unwrap();
    assert!(s.conn.negotiated().unwrap().resumed);
    transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let renewed = leak(store.tickets.lock().unwrap()[0].clone());
    let r = renewed.resumption();
    assert!(
        r.lifetime <= 3600,
        "a renewed ticket lives only as long as the original session: {}",
        r.lifetime
    );
    // Even a client that believes the renewed ticket lives longer cannot
    // resume past T0 + 7200: the server counts from the full handshake.
    let mut stretched = r;
    stretched.lifetime = 7200;
    let stretched = leak(stretched);
    assert!(!resumed(resume_with(
        cc,
        sc,
        stretched,
        T0 + 7300,
        T0 + 7300
    )));
    // Within the original lifetime, the renewed ticket still resumes.
    assert!(resumed(resume_with(
        cc,
        sc,
        stretched,
        T0 + 7000,
        T0 + 7000
    )));
}

#[test]
fn a_ticket_does_not_resume_under_another_server_name() {
    // Issued under SNI "localhost"; offered by a client that connects to
    // 127.0.0.1 (so sends no SNI) and claims the ticket is for that name:
    // the server's binding refuses it and runs a full handshake.
    let keys = leak([key(1, 7)]);
    let (cc, sc, store) = setup(keys);
    let ticket = leak(first_connection(cc, sc, store).remove(0));
    let mut lying = ticket.resumption();
    lying.server_name = Some("127.0.0.1");
    let lying = leak(lying);
    let mut c =
        side(Connection::client_resuming(cc, Some("127.0.0.1"), at(T0 + 30), lying).unwrap());
    let mut s = side(Connection::server(sc, at(T0 + 30)).unwrap());
    let (cr, sr) = outcome(&mut c, &mut s);
    cr.unwrap();
    sr.unwrap();
    assert!(!s.conn.negotiated().unwrap().resumed);
    // The honest offer under the right name resumes.
    assert!(resumed(resume(cc, sc, ticket, T0 + 30, T0 + 30)));
}

#[test]
fn a_lowered_lifetime_applies_to_tickets_already_issued() {
    // Issued under a 2 h lifetime; the server's configuration now says
    // 1 h: a session older than that from its full handshake resumes no
    // more, though the ticket itself says 2 h.
    let keys = leak([key(1, 7)]);
    let (cc, sc, store) = setup(keys);
    let ticket = leak(first_connection(cc, sc, store).remove(0));
    let mut shorter = sc.clone();
    shorter.ticket_lifetime = 3600;
    let shorter = leak(shorter);
    assert!(resumed(resume(cc, shorter, ticket, T0 + 3500, T0 + 3500)));
    assert!(!resumed(resume(cc, shorter, ticket, T0 + 4000, T0 + 4000)));
}

#[test]
fn resumption_through_a_retry_that_drops_the_ticket_keeps_psk_modes_in_both_hellos() {
    // A SHA-384 ticket, then a server that prefers a SHA-256 suite and
    // needs a retry: the second ClientHello cannot carry the PSK, and a
    // client without a ticket sink once dropped psk_key_exchange_modes
    // with it, which our server's retry check refused (found by an
    // outside review).
    let keys = leak([key(1, 7)]);
    let (cc, sc, store) = setup(keys);
    let mut sha384 = sc.clone();
    sha384.suites = leak([&tlspair::TLS13_AES_256_GCM_SHA384]);
    let ticket = leak(first_connection(cc, leak(sha384), store).remove(0));
    let mut no_sink = cc.clone();
    no_sink.ticket_sink = None;
    let mut retrying = sc.clone();
    retrying.suites = leak([
        &tlspair::TLS13_AES_128_GCM_SHA256,
        &tlspair::TLS13_AES_256_GCM_SHA384,
    ]);
    retrying.groups = &[NamedGroup::SECP384R1];
    let (_, s, (cr, sr)) = resume(leak(no_sink), leak(retrying), ticket, T0 + 30, T0 + 30);
    cr.unwrap();
    sr.unwrap();
    let n = s.conn.negotiated().unwrap();
    assert!(!n.resumed);
    assert_eq!(n.group, Some(NamedGroup::SECP384R1));
}

#[test]
fn owned_name_and_shared_ticket_make_a_static_resuming_connection() {
    // A name known only at run time (a String) and a stored ticket behind
    // an Arc: nothing borrowed, so the connection is 'static and moves to
    // another thread; it resumes as a borrowed one would.
    let store: &'static Store = leak(Store::default());
    let mut cc = client_config();
    cc.ticket_sink = Some(store);
    let cc = std::sync::Arc::new(cc);
    let keys: &'static [TicketKey] = leak([key(1, 0x11)]);
    let sc = server(keys);
    let tickets = first_connection(leak((*cc).clone()), sc, store);
    let ticket = std::sync::Arc::new(tickets[0].clone());
    let host = String::from("local") + "host";
    let c: Connection<'static> =
        Connection::client_resuming(cc.clone(), host, at(T0 + 10), ticket.clone()).unwrap();
    let mut c = side(c);
    let mut s = side(Connection::server(sc, at(T0 + 10)).unwrap());
    let (c, s) = std::thread::spawn(move || {
        complete(&mut c, &mut s).unwrap();
        (c, s)
    })
    .join()
    .unwrap();
    assert!(c.conn.negotiated().unwrap().resumed);
    assert!(s.conn.negotiated().unwrap().resumed);
    assert_eq!(
        std::sync::Arc::strong_count(&ticket),
        2,
        "ours and the connection's"
    );
    drop(c);
    assert_eq!(std::sync::Arc::strong_count(&ticket), 1);
    // An owned name that is not a name is refused as a borrowed one is.
    assert!(Connection::client(cc, String::from("not a name!"), at(T0)).is_err());
}

#[test]
fn the_ticket_sink_is_told_which_connection_each_ticket_came_from() {
    #[derive(Default)]
    struct Tags(Mutex<Vec<(u64, Option<String>)>>);
    impl TicketSink for Tags {
        fn store(&self, t: &NewTicket<'_>) {
            let name = t.server_name.map(str::to_owned);
            self.0.lock().unwrap().push((t.connection, name));
        }
    }
    let tags: &'static Tags = leak(Tags::default());
    let mut cc = client_config();
    cc.ticket_sink = Some(tags);
    let cc: &'static ClientConfig<'static> = leak(cc);
    let sc = server(leak([key(1, 0x22)]));
    for (tag, name) in [(7u64, "localhost"), (8, "127.0.0.1")] {
        let mut c = side(Connection::client(cc, Some(name), at(T0)).unwrap());
        c.conn.set_tag(tag);
        assert_eq!(c.conn.tag(), tag);
        let mut s = side(Connection::server(sc, at(T0)).unwrap());
        complete(&mut c, &mut s).unwrap();
        transfer_all(&mut s, &mut c);
        let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    }
    let got = tags.0.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "two tickets per connection");
    assert!(got[..2]
        .iter()
        .all(|(t, n)| *t == 7 && n.as_deref() == Some("localhost")));
    assert!(got[2..]
        .iter()
        .all(|(t, n)| *t == 8 && n.as_deref() == Some("127.0.0.1")));
}
