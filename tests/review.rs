//! The faults a code review found, one test (or more) each, named for the
//! finding in docs/security.md ("Review findings"). Every test here failed
//! before its fix.

mod common;

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use common::tls::{self, certified, client_config, complete, outcome, p256_server_config, side};
use common::{transfer_all, Side};
use tlspair::handshake::ticket::{NewTicket, ResumptionTicket, TicketKey};
use tlspair::record::protect::RecordKey;
use tlspair::record::{Header, HEADER_LEN};
use tlspair::test_credentials as creds;
use tlspair::verify::CertificateDer;
use tlspair::wire::{CipherSuite, SignatureScheme};
use tlspair::{
    AlertDescription as AD, Buffers, Connection, ContentType, Error, Misuse, RecordConfig, Status,
    Stream, WriteMode, TLS13_AES_128_GCM_SHA256,
};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

// Finding 2: an over-long exporter label.

#[test]
fn an_exporter_label_over_249_bytes_is_bad_config() {
    let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
    complete(&mut c, &mut s).unwrap();
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    c.conn
        .export_keying_material(&mut a, &[b'x'; 249], None)
        .unwrap();
    for (conn, out) in [(&c.conn, &mut a), (&s.conn, &mut b)] {
        assert!(matches!(
            conn.export_keying_material(out, &[b'x'; 250], None),
            Err(Error::Misuse(Misuse::BadConfig(_)))
        ));
    }
    // Output length is the other bound: 255 hash lengths.
    let mut long = vec![0u8; 255 * 32 + 1];
    assert!(matches!(
        c.conn.export_keying_material(&mut long, b"label", None),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
}

// Finding 3: Stream::write on a socket that answers WouldBlock.

/// A socket that takes `first` bytes, then answers WouldBlock `blocks`
/// times, then takes everything; reads always WouldBlock.
struct Choking {
    out: Arc<Mutex<Vec<u8>>>,
    first: usize,
    blocks: usize,
}

impl Read for Choking {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Choking {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let mut out = self.out.lock().unwrap();
        if self.first > 0 {
            let n = b.len().min(self.first);
            self.first -= n;
            out.extend_from_slice(&b[..n]);
            return Ok(n);
        }
        if self.blocks > 0 {
            self.blocks -= 1;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        out.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn keyed_pair() -> (Connection<'static>, Connection<'static>) {
    let suite = &TLS13_AES_128_GCM_SHA256;
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let cfg = RecordConfig::default();
    (
        Connection::from_traffic_secrets(suite, &a, &b, cfg).unwrap(),
        Connection::from_traffic_secrets(suite, &b, &a, cfg).unwrap(),
    )
}

/// Writes `data` through a Stream over a choking socket the way the docs
/// say (repeat on WouldBlock, with the rest of the data after `Ok(n)`),
/// then returns what the peer reads.
fn write_through_choking_socket(mode: WriteMode, data: &[u8]) -> Vec<u8> {
    let (mut ours, mut peer) = keyed_pair();
    ours.set_write_mode(mode);
    let out = Arc::new(Mutex::new(Vec::new()));
    let sock = Choking {
        out: out.clone(),
        first: 10,
        blocks: 1,
    };
    let mut stream = Stream::new(ours, sock);
    let mut off = 0;
    let mut spins = 0;
    while off < data.len() {
        match stream.write(&data[off..]) {
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        spins += 1;
        assert!(spins < 10_000);
    }
    loop {
        match stream.flush() {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    let wire = out.lock().unwrap().clone();
    let mut bufs = Buffers::new(vec![0u8; wire.len() + 64], vec![0u8; 1024]);
    assert_eq!(bufs.recv.fill(&wire), wire.len());
    let mut got = Vec::new();
    let mut buf = vec![0u8; 70_000];
    loop {
        match peer.read(&mut bufs, &mut buf).unwrap() {
            Status::Done(n) => got.extend_from_slice(&buf[..n]),
            Status::WantRead => return got,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn stream_write_on_a_socket_that_would_block_delivers_each_byte_once() {
    let text = b"a line of text, written once and read once".to_vec();
    assert_eq!(
        write_through_choking_socket(WriteMode::Complete, &text),
        text
    );
    assert_eq!(
        write_through_choking_socket(WriteMode::Partial, &text),
        text
    );
    let big: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(write_through_choking_socket(WriteMode::Complete, &big), big);
    assert_eq!(write_through_choking_socket(WriteMode::Partial, &big), big);
}

// Finding 4: after a fatal error nothing looks established.

#[test]
fn after_a_fatal_error_every_accessor_says_so() {
    let mut cc = client_config();
    cc.client_auth = Some(certified(&creds::UNTRUSTED_ECDSA_P256));
    let (mut c, mut s) = tls::pair(cc, tls::mtls_server_config());
    let (cr, sr) = outcome(&mut c, &mut s);
    assert!(matches!(sr, Err(Error::Certificate(_))), "{sr:?}");
    // The client finished its side before the server refused it; its next
    // read meets the alert.
    cr.unwrap();
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]),
        Err(Error::AlertReceived(AD::UNSUPPORTED_CERTIFICATE))
    );
    for side in [&s, &c] {
        let conn = &side.conn;
        assert!(conn.error().is_some());
        assert!(conn.negotiated().is_none(), "{conn:?}");
        assert!(conn.suite().is_none());
        assert_eq!(conn.pending_plaintext(), 0);
        let mut out = [0u8; 16];
        assert_eq!(
            conn.export_keying_material(&mut out, b"label", None),
            Err(conn.error().unwrap())
        );
    }
    // Neither is handshaking any more, and neither is established: a loop
    // on `is_handshaking` ends.
    for side in [&s, &c] {
        assert!(!side.conn.is_handshaking());
        assert!(!side.conn.is_established());
    }
}

// Finding 4, the same rule for `is_fatal`: whatever it answers is what the
// next call does.

#[test]
fn is_fatal_matches_what_the_next_call_does() {
    // A configuration whose only group we do not implement.
    let mut cc = client_config();
    cc.groups = &[tlspair::wire::NamedGroup(0x1234)];
    match Connection::client(leak(cc), Some("localhost"), tls::now()) {
        // Refused up front: nothing happened.
        Err(e) => assert!(!e.is_fatal(), "{e:?}"),
        Ok(conn) => {
            let mut c = side(conn);
            let e = c.conn.handshake(&mut c.bufs).unwrap_err();
            let again = c.conn.handshake(&mut c.bufs);
            assert_eq!(
                e.is_fatal(),
                again == Err(e),
                "is_fatal says {}, the next call returns {again:?}",
                e.is_fatal()
            );
        }
    }
}

// Finding 5: no Debug prints secret bytes.

#[test]
fn no_debug_output_prints_a_psk() {
    let psk = [0xabu8; 32];
    let nt = NewTicket {
        suite: CipherSuite(0x1301),
        psk: &psk,
        ticket: b"ticket",
        lifetime: 60,
        age_add: 1,
        server_name: Some("localhost"),
        peer_cert_sha256: None,
        peer_identity: None,
        verifier_policy: tlspair::verify::ServerCertVerifier::policy_digest(tls::verifier()),
        alpn_context: None,
        client_cert_sha256: None,
        session_id: false,
        max_early_data: 0,
        connection: 0,
    };
    let printed = format!("{nt:?} {nt:#?}");
    assert!(
        !printed.contains("171") && !printed.contains("ab"),
        "{printed}"
    );
    let stored = tlspair::handshake::ticket::StoredTicket::new(&nt, tls::now()).unwrap();
    let rt = stored.resumption();
    let printed = format!("{rt:?} {rt:#?} {stored:?}");
    assert!(
        !printed.contains("171") && !printed.contains("ab"),
        "{printed}"
    );
}

// Finding 6: the ClientHello fits the room it asks for, whatever it offers.

#[test]
fn a_client_hello_fits_exactly_the_room_it_reports() {
    use tlspair::wire::NamedGroup as G;
    let psk: &'static [u8; 32] = leak([7u8; 32]);
    let tickets: Vec<&'static [u8]> = vec![
        leak([1u8; 101]),
        leak([2u8; 300]),
        leak([3u8; 1024]),
        leak(vec![4u8; 4000]).as_slice(),
    ];
    let group_sets: [&'static [G]; 5] = [
        &[G::X25519],
        &[G::SECP384R1, G::X25519],
        &[G::SECP256R1, G::SECP384R1, G::X25519],
        &[G::X25519MLKEM768, G::X25519],
        &[G::SECP256R1MLKEM768, G::SECP256R1, G::X25519],
    ];
    let alpns: [&'static [&'static [u8]]; 2] = [&[], &[b"h2", b"http/1.1"]];
    let mut checked = 0;
    for groups in group_sets {
        for alpn in alpns {
            for sni in [
                None,
                Some("localhost"),
                Some("a-rather-long-name.example.com"),
            ] {
                for sink in [false, true] {
                    for ticket in std::iter::once(None).chain(tickets.iter().map(Some)) {
                        let mut cc = client_config();
                        cc.groups = groups;
                        cc.alpn = alpn;
                        if sink {
                            cc.ticket_sink = Some(leak(common::tls::NullSink));
                        }
                        let cc = leak(cc);
                        let make = || match ticket {
                            None => Connection::client(cc, sni, tls::now()).unwrap(),
                            Some(t) => {
                                let rt = leak(ResumptionTicket {
                                    psk,
                                    ticket: t,
                                    server_name: sni,
                                    ..tls::unopened_ticket()
                                });
                                Connection::client_resuming(cc, sni, tls::now(), rt).unwrap()
                            }
                        };
                        // Ask with a view too small for anything.
                        let mut conn = make();
                        let mut small = Buffers::new(vec![0u8; 1024], vec![0u8; 64]);
                        let needed = match conn.handshake(&mut small) {
                            Err(Error::Misuse(Misuse::SendBufferTooSmall { needed })) => needed,
                            other => panic!("{other:?}"),
                        };
                        // Exactly that room is enough.
                        let mut conn = make();
                        let mut exact = Buffers::new(vec![0u8; 1024], vec![0u8; needed]);
                        assert_eq!(
                            conn.handshake(&mut exact),
                            Ok(Status::WantRead),
                            "groups {groups:?} alpn {alpn:?} sni {sni:?} ticket {:?}",
                            ticket.map(|t| t.len())
                        );
                        assert!(exact.send.len() <= needed);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 5 * 2 * 3 * 2 * 5);
}

// Finding 7: nothing follows our close_notify.

#[test]
fn a_queued_key_update_does_not_follow_our_close_notify() {
    let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
    complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    c.conn.key_update(true);
    assert_eq!(
        c.conn.shutdown(&mut c.bufs).unwrap(),
        Status::Done(tlspair::Shutdown::Sent)
    );
    let sent = c.bufs.send.len();
    // The close_notify alone: one record of an alert.
    assert_eq!(sent, tlspair::record::RECORD_OVERHEAD + 2);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    assert_eq!(c.bufs.send.len(), sent, "records after our close_notify");
}

#[test]
fn tickets_do_not_follow_a_server_close_notify() {
    let mut sc = p256_server_config();
    sc.ticket_keys = (leak([TicketKey::new(1, &[9; 32]).unwrap()])).into();
    let (mut c, mut s) = tls::pair(client_config(), sc);
    // The server's flight out, the client's Finished on its way.
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::Done(()));
    // The server closes before it reads the Finished.
    let _ = s.conn.shutdown(&mut s.bufs).unwrap();
    let sent = s.bufs.send.len();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.read(&mut s.bufs, &mut [0u8; 8]);
    assert_eq!(s.bufs.send.len(), sent, "tickets after our close_notify");
}

#[test]
fn no_alert_follows_our_close_notify() {
    let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
    complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    let _ = c.conn.shutdown(&mut c.bufs).unwrap();
    let sent = c.bufs.send.len();
    // A record that does not open: fatal, but our side is closed already.
    let garbage = [
        23u8, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ];
    assert_eq!(c.bufs.recv.fill(&garbage), garbage.len());
    assert!(c.conn.read(&mut c.bufs, &mut [0u8; 8]).is_err());
    assert_eq!(c.bufs.send.len(), sent, "an alert after our close_notify");
}

// Finding 8: the engine refuses schemes TLS 1.3 forbids in
// CertificateVerify, whatever the verifier says.

/// A verifier that accepts every chain and signature, and lists
/// RSASSA-PKCS1-v1_5 and SHA-1 schemes among its own.
const PERMISSIVE: tls::AcceptAnyServer = tls::AcceptAnyServer(&[
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA1,
    SignatureScheme::ECDSA_SHA1,
]);

/// Rewrites the scheme of the CertificateVerify in the server's protected
/// flight (the client's handshake keys come from the key log).
fn rewrite_certificate_verify(flight: &[u8], secret: &[u8], scheme: SignatureScheme) -> Vec<u8> {
    let suite = &TLS13_AES_128_GCM_SHA256;
    let mut open = RecordKey::new(suite, secret).unwrap();
    let mut seal = RecordKey::new(suite, secret).unwrap();
    let mut out = Vec::new();
    let mut rest = flight;
    let mut found = false;
    while let Some(h) = Header::parse(rest) {
        let total = HEADER_LEN + h.len;
        let mut rec = rest[..total].to_vec();
        rest = &rest[total..];
        if h.content_type != ContentType::APPLICATION_DATA {
            out.extend(rec);
            continue;
        }
        let (ty, len) = open.open(&mut rec).unwrap();
        let body = &mut rec[HEADER_LEN..HEADER_LEN + len];
        let mut at = 0;
        while at + 4 <= body.len() {
            let mlen = u32::from_be_bytes([0, body[at + 1], body[at + 2], body[at + 3]]) as usize;
            if body[at] == 15 {
                body[at + 4..at + 6].copy_from_slice(&scheme.0.to_be_bytes());
                found = true;
            }
            at += 4 + mlen;
        }
        let mut resealed = rec[..HEADER_LEN + len].to_vec();
        resealed.resize(total, 0);
        seal.seal(ty, len, &mut resealed).unwrap();
        out.extend(resealed);
    }
    assert!(found, "no CertificateVerify in the flight");
    out
}

#[test]
fn schemes_tls13_forbids_are_refused_whatever_the_verifier_says() {
    for scheme in [
        SignatureScheme::RSA_PKCS1_SHA256,
        SignatureScheme::RSA_PKCS1_SHA1,
        SignatureScheme::ECDSA_SHA1,
    ] {
        let lines: &'static tls::Lines = leak(tls::Lines::default());
        let mut cc = client_config();
        cc.verifier = &PERMISSIVE;
        cc.suites = leak([&TLS13_AES_128_GCM_SHA256]);
        let mut sc = p256_server_config();
        sc.key_log = Some(lines);
        let (mut c, mut s) = tls::pair(cc, sc);
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        transfer_all(&mut c, &mut s);
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
        let secret = lines
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.starts_with("SERVER_HANDSHAKE_TRAFFIC_SECRET"))
            .map(|l| common::unhex(l.split(' ').nth(2).unwrap().trim()))
            .unwrap();
        let flight = s.bufs.send.pending().to_vec();
        s.bufs.send.consume(flight.len());
        let tampered = rewrite_certificate_verify(&flight, &secret, scheme);
        assert_eq!(c.bufs.recv.fill(&tampered), tampered.len());
        let e = c.conn.handshake(&mut c.bufs).unwrap_err();
        assert_eq!(e.alert(), Some(AD::ILLEGAL_PARAMETER), "{scheme:?}: {e:?}");
    }
}

// Finding 10: values the peer controls are validated.

#[test]
fn configurations_whose_indexes_do_not_fit_are_refused() {
    let protocols: &'static [&'static [u8]] = leak(
        (0..300)
            .map(|i| leak(format!("p{i}").into_bytes()).as_slice())
            .collect::<Vec<_>>(),
    )
    .as_slice();
    let mut sc = p256_server_config();
    sc.alpn = protocols;
    assert!(matches!(
        Connection::server(leak(sc), tls::now()),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    let mut cc = client_config();
    cc.alpn = protocols;
    assert!(matches!(
        Connection::client(leak(cc), Some("localhost"), tls::now()),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
}

#[test]
fn a_legal_record_larger_than_the_configured_view_asks_for_a_larger_one() {
    // A server that takes 4 KiB records and gave the view its config asks
    // for; the client, which has not heard of the limit yet (it comes in
    // the server's answer, RFC 8449 §4), sends a 5,000-byte plaintext
    // ClientHello record, which is legal: the view is the caller's to
    // grow, and the connection goes on once it has. (Before the limit
    // bound only peers that agreed to it, this was a fatal
    // record_overflow.)
    let mut sc = p256_server_config();
    let mut record = RecordConfig::default();
    record.recv_max_fragment_len = 4096;
    sc.record = record;
    let sc = leak(sc);
    let mut s = Side {
        conn: Connection::server(sc, tls::now()).unwrap(),
        bufs: Buffers::new(vec![0u8; record.recv_buffer_len()], vec![0u8; 20_000]),
    };
    let mut rec = vec![22u8, 3, 1, 0x13, 0x88, 1, 0, 0x13, 0x84];
    rec.resize(5 + 5000, 0);
    let n = s.bufs.recv.fill(&rec);
    assert!(n < rec.len());
    let e = s.conn.handshake(&mut s.bufs).unwrap_err();
    assert_eq!(
        e,
        Error::Misuse(Misuse::RecvBufferTooSmall { needed: 5005 })
    );
    assert!(!e.is_fatal(), "{e:?}");
    let Ok((recv, _)) = s.bufs.recv.move_to(vec![0u8; 6000]) else {
        panic!("move")
    };
    s.bufs.recv = recv;
    assert_eq!(s.bufs.recv.fill(&rec[n..]), rec.len() - n);
    // Now the ClientHello is read: its zeros are a malformed message.
    let e = s.conn.handshake(&mut s.bufs).unwrap_err();
    assert!(e.is_fatal(), "{e:?}");
    assert_eq!(e.alert(), Some(AD::DECODE_ERROR));
}

// Finding 12: the key log file is private.

#[cfg(unix)]
#[test]
fn the_key_log_file_is_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("tlspair-keylog-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let log = tlspair::keylog_file::KeyLogFile::open(&path).unwrap();
    drop(log);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(mode, 0o600);
}

// Also: a client without a server name works with a verifier that checks
// none.

#[test]
fn a_client_without_a_server_name_connects_with_a_pin_verifier() {
    let cert = CertificateDer::from(creds::SERVER_ECDSA_P256.cert);
    let pin = tlspair::verify::spki_sha256(&cert).unwrap();
    let verifier = leak(tlspair::verify::SpkiPinVerifier::new(&[pin]).unwrap());
    let mut cc = client_config();
    cc.verifier = verifier;
    let mut c = side(Connection::client(leak(cc), None, tls::now()).unwrap());
    let mut s = side(Connection::server(leak(p256_server_config()), tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        common::send_and_receive(&mut c, &mut s, b"pinned"),
        b"pinned"
    );
}

// Finding 12: what holds secrets wipes itself.

#[test]
fn secret_bearing_types_zeroize_on_drop() {
    fn wipes<T: zeroize::ZeroizeOnDrop>() {}
    wipes::<tlspair::key_schedule::Secret>();
    wipes::<RecordKey>();
    wipes::<tlspair::handshake::kx::SharedSecret>();
    // A stored ticket's PSK is a Secret; its Debug and clones show none.
    let nt = NewTicket {
        suite: CipherSuite(0x1301),
        psk: &[0x5a; 32],
        ticket: b"t",
        lifetime: 60,
        age_add: 0,
        server_name: None,
        peer_cert_sha256: None,
        peer_identity: None,
        verifier_policy: tlspair::verify::ServerCertVerifier::policy_digest(tls::verifier()),
        alpn_context: None,
        client_cert_sha256: None,
        session_id: false,
        max_early_data: 0,
        connection: 0,
    };
    let stored = tlspair::handshake::ticket::StoredTicket::new(&nt, tls::now()).unwrap();
    assert_eq!(stored.clone().resumption().psk, &[0x5a; 32]);
}

/// A ticket (never to reach a server) issued for "localhost" to the
/// client certificate with digest `client`.
fn ticket_for_localhost(client: Option<[u8; 32]>) -> &'static ResumptionTicket<'static> {
    leak(ResumptionTicket {
        ticket: b"ticket",
        lifetime: 60,
        client_cert_sha256: client,
        ..tls::unopened_ticket()
    })
}

#[test]
fn a_ticket_is_refused_under_another_server_name() {
    let cc = leak(client_config());
    let ticket = ticket_for_localhost(None);
    for other in [Some("example.com"), None] {
        assert_eq!(
            Connection::client_resuming(cc, other, tls::now(), ticket).err(),
            Some(Error::Misuse(Misuse::TicketForAnotherServer))
        );
    }
    // Names compare without case.
    assert!(Connection::client_resuming(cc, Some("LOCALHOST"), tls::now(), ticket).is_ok());
}

// From the outside review of the fixes.

#[test]
fn a_ticket_is_refused_by_a_configuration_with_another_client_certificate() {
    let cert = CertificateDer::from(creds::CLIENT_ECDSA_P256.cert);
    let ours = ring::digest::digest(&ring::digest::SHA256, &cert);
    let mut with_cert = client_config();
    with_cert.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    let with_cert = leak(with_cert);
    let without = leak(client_config());
    let ticket = ticket_for_localhost;
    let issued_to_us = ticket(Some(ours.as_ref().try_into().unwrap()));
    let anonymous = ticket(None);
    let other = ticket(Some([9; 32]));
    let refused = Some(Error::Misuse(Misuse::TicketForAnotherClient));
    let name = Some("localhost");
    assert!(Connection::client_resuming(with_cert, name, tls::now(), issued_to_us).is_ok());
    assert!(Connection::client_resuming(without, name, tls::now(), anonymous).is_ok());
    assert_eq!(
        Connection::client_resuming(without, name, tls::now(), issued_to_us).err(),
        refused
    );
    assert_eq!(
        Connection::client_resuming(with_cert, name, tls::now(), anonymous).err(),
        refused
    );
    assert_eq!(
        Connection::client_resuming(with_cert, name, tls::now(), other).err(),
        refused
    );
}

#[test]
fn a_shutdown_while_the_peer_waits_for_our_flight_abandons_the_handshake() {
    // The client closes after its ClientHello: its Finished can never be
    // sent, so it does not wait for a server flight it could not answer.
    let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    assert_eq!(
        c.conn.shutdown(&mut c.bufs).unwrap(),
        Status::Done(tlspair::Shutdown::Sent)
    );
    assert_eq!(c.conn.handshake(&mut c.bufs), Err(Error::Abandoned));
    assert!(!c.conn.is_handshaking() && !c.conn.is_established());
    let sent = c.bufs.send.len();
    transfer_all(&mut c, &mut s);
    // The server answers the ClientHello, then meets the close_notify.
    let e = loop {
        match s.conn.handshake(&mut s.bufs) {
            Ok(Status::WantRead) if s.bufs.recv.is_empty() => panic!("server stalls"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(e, Error::AlertReceived(AD::CLOSE_NOTIFY));
    transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]),
        Err(Error::Abandoned)
    );
    assert!(sent > 0);
    // A server whose flight is out may still close and finish reading.
    let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::Done(()));
    let _ = s.conn.shutdown(&mut s.bufs).unwrap();
    assert_eq!(c.conn.write(&mut c.bufs, b"late").unwrap(), Status::Done(4));
    transfer_all(&mut c, &mut s);
    let mut buf = [0u8; 8];
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut buf).unwrap(),
        Status::Established
    );
    assert_eq!(s.conn.read(&mut s.bufs, &mut buf).unwrap(), Status::Done(4));
    assert_eq!(&buf[..4], b"late");
}

#[test]
fn the_client_sends_sni_without_a_trailing_dot_and_only_host_names() {
    for (name, sent) in [
        ("localhost.", Some("localhost")),
        ("localhost", Some("localhost")),
        ("127.0.0.1", None),
    ] {
        let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
        c.conn = Connection::client(leak(client_config()), Some(name), tls::now()).unwrap();
        complete(&mut c, &mut s).unwrap_or_else(|e| panic!("{name}: {e}"));
        let n = s.conn.negotiated().unwrap();
        assert_eq!(n.server_name.as_ref().map(|h| h.as_str()), sent, "{name}");
    }
}

/// A socket that takes `first` bytes, then fails with `kind` once, then
/// takes everything.
struct Failing {
    out: Arc<Mutex<Vec<u8>>>,
    first: usize,
    kind: Option<io::ErrorKind>,
}

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for Failing {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.first > 0 {
            let n = b.len().min(self.first);
            self.first -= n;
            self.out.lock().unwrap().extend_from_slice(&b[..n]);
            return Ok(n);
        }
        if let Some(kind) = self.kind.take() {
            return Err(kind.into());
        }
        self.out.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_socket_error_after_sealing_is_reported_by_the_next_call_not_lost() {
    let (ours, _) = keyed_pair();
    let out = Arc::new(Mutex::new(Vec::new()));
    let sock = Failing {
        out,
        first: 10,
        kind: Some(io::ErrorKind::BrokenPipe),
    };
    let mut stream = Stream::new(ours, sock);
    // Sealed: reported, though the socket broke.
    assert_eq!(stream.write(b"sealed once").unwrap(), 11);
    // The next call says so, once.
    assert_eq!(
        stream.flush().unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
    stream.flush().unwrap();
}

/// Every host name a client can send is kept whole, up to the 253 bytes a
/// DNS name has: the name the certificate was chosen by is the name the
/// server reports.
#[test]
fn the_server_keeps_every_host_name_up_to_253_bytes() {
    use tlspair::verify::{spki_sha256, SpkiPinVerifier};
    let pin = spki_sha256(&CertificateDer::from(creds::SERVER_ECDSA_P256.cert)).unwrap();
    let verifier: &'static SpkiPinVerifier = leak(SpkiPinVerifier::new(&[pin]).unwrap());
    for len in [1usize, 63, 64, 65, 127, 200, 252, 253] {
        // Labels of up to 50 bytes, none empty.
        let mut name = String::new();
        let mut left = len;
        loop {
            let mut take = left.min(50);
            if left - take == 1 {
                take -= 1;
            }
            name.push_str(&"a".repeat(take));
            left -= take;
            if left == 0 {
                break;
            }
            name.push('.');
            left -= 1;
        }
        assert_eq!(name.len(), len);
        let mut cc = client_config();
        cc.verifier = verifier;
        let (mut c, mut s) = tls::pair(client_config(), p256_server_config());
        let name: &'static str = leak(name);
        c.conn = Connection::client(leak(cc), Some(name), tls::now()).unwrap();
        complete(&mut c, &mut s).unwrap_or_else(|e| panic!("{len}: {e}"));
        let kept = s.conn.negotiated().unwrap().server_name;
        assert_eq!(kept.as_ref().map(|h| h.as_str()), Some(name), "{len}");
    }
}

/// The server's first flight under a client's record_size_limit: the room
/// the server asks for on the ClientHello counts the protected records at
/// the client's limit, so a send view of exactly that room holds the
/// flight (it counted 16 KiB records, one record's overhead where the
/// flight takes dozens, and overran with an internal error). A long RSA
/// chain, at the smallest limits, with and without client certificates.
#[test]
fn the_first_flight_room_counts_records_at_the_clients_size_limit() {
    for limit in [64usize, 65, 200, 16_384] {
        for mtls in [false, true] {
            let key: &'static tlspair::sign::SigningKey = Box::leak(Box::new(
                tlspair::sign::SigningKey::from_pkcs8(creds::SERVER_RSA_2048.key, tls::rng())
                    .unwrap(),
            ));
            let chain: &'static [&'static [u8]] = Box::leak(Box::new([
                creds::SERVER_RSA_2048.cert,
                creds::CA_CERT,
                creds::CA_CERT,
                creds::CA_CERT,
            ]));
            let mut sc = tls::server_config(&[tlspair::handshake::CertifiedKey::new(chain, key)]);
            if mtls {
                sc.client_verifier = tls::mtls_server_config().client_verifier;
            }
            let sc: &'static _ = Box::leak(Box::new(sc));
            let mut cc = client_config();
            cc.record.recv_max_fragment_len = limit;
            if mtls {
                cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
            }
            let cc: &'static _ = Box::leak(Box::new(cc));
            let mut c = side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
            let _ = c.conn.handshake(&mut c.bufs).unwrap();
            let hello = c.bufs.send.pending().to_vec();
            // The room the server asks for.
            let mut probe = Connection::server(sc, tls::now()).unwrap();
            let mut bufs = Buffers::new(vec![0u8; 40_000], vec![0u8; 64]);
            bufs.recv.fill(&hello);
            let needed = match probe.handshake(&mut bufs) {
                Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall { needed })) => needed,
                other => panic!("limit {limit}: {other:?}"),
            };
            // Exactly that room: the flight is written whole.
            let mut s = side(Connection::server(sc, tls::now()).unwrap());
            s.bufs = Buffers::new(vec![0u8; 40_000], vec![0u8; needed]);
            s.bufs.recv.fill(&hello);
            c.bufs.send.consume(hello.len());
            match s.conn.handshake(&mut s.bufs) {
                Ok(_) => {}
                Err(e) => panic!("limit {limit} mtls {mtls}: room {needed}: {e:?}"),
            }
            assert!(s.bufs.send.len() <= needed);
            let (cr, sr) = outcome(&mut c, &mut s);
            cr.unwrap_or_else(|e| panic!("limit {limit} mtls {mtls}: {e:?}"));
            sr.unwrap();
        }
    }
}
