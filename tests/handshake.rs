//! The TLS 1.3 handshake between our client and our server, in memory:
//! every suite × group × key type, then data both ways and a clean close;
//! and each failure provoked on purpose, with its alert and error.

mod common;

use common::tls::Lines;

use common::tls::{
    self, certified, client_config, complete, outcome, p256_server_config, pair, server_config,
};
use common::{send_and_receive, transfer_all, Side};
use tlspair::test_credentials as creds;
use tlspair::verify::CertificateError;
use tlspair::wire::{NamedGroup, SignatureScheme};
use tlspair::{AlertDescription as AD, Error, PeerIncompatible, Shutdown, Status, ALL_SUITES};

fn exchange_and_close(c: &mut Side, s: &mut Side) {
    let up: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(send_and_receive(c, s, &up), up);
    let down: Vec<u8> = (0..30_000u32).map(|i| (i % 249) as u8).collect();
    assert_eq!(send_and_receive(s, c, &down), down);
    assert_eq!(
        c.conn.shutdown(&mut c.bufs).unwrap(),
        Status::Done(Shutdown::Sent)
    );
    transfer_all(c, s);
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut [0u8; 8]).unwrap(),
        Status::Closed
    );
    assert_eq!(
        s.conn.shutdown(&mut s.bufs).unwrap(),
        Status::Done(Shutdown::Complete)
    );
    transfer_all(s, c);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap(),
        Status::Closed
    );
}

#[test]
fn every_suite_group_and_key_type() {
    let keys = [
        (
            &creds::SERVER_ECDSA_P256,
            SignatureScheme::ECDSA_SECP256R1_SHA256,
        ),
        (
            &creds::SERVER_ECDSA_P384,
            SignatureScheme::ECDSA_SECP384R1_SHA384,
        ),
        (&creds::SERVER_ED25519, SignatureScheme::ED25519),
        (
            &creds::SERVER_RSA_2048,
            SignatureScheme::RSA_PSS_RSAE_SHA256,
        ),
    ];
    let groups = [
        NamedGroup::X25519,
        NamedGroup::SECP256R1,
        NamedGroup::SECP384R1,
    ];
    let mut count = 0;
    for suite in ALL_SUITES {
        for group in groups {
            for (cred, scheme) in keys {
                let mut cc = client_config();
                cc.suites = Box::leak(Box::new([suite]));
                cc.groups = Box::leak(Box::new([group]));
                let mut sc = server_config(&[certified(cred)]);
                sc.groups = Box::leak(Box::new([group]));
                let (mut c, mut s) = pair(cc, sc);
                complete(&mut c, &mut s)
                    .unwrap_or_else(|e| panic!("{suite:?} {group:?} {scheme:?}: {e}"));
                for side in [&c, &s] {
                    let n = side.conn.negotiated().unwrap();
                    assert_eq!(n.suite, suite.id);
                    assert_eq!(n.group, Some(group));
                    assert_eq!(n.signature_scheme, Some(scheme));
                }
                assert!(c.conn.negotiated().unwrap().peer_cert_sha256.is_some());
                exchange_and_close(&mut c, &mut s);
                count += 1;
            }
        }
    }
    assert_eq!(count, 36);
}

#[test]
fn write_and_read_drive_the_handshake() {
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    // The client's first write sends the ClientHello and wants the reply.
    assert_eq!(
        c.conn.write(&mut c.bufs, b"early bird").unwrap(),
        Status::WantRead
    );
    assert!(c.conn.is_handshaking());
    assert!(!c.bufs.send.is_empty());
    transfer_all(&mut c, &mut s);
    // The server's read answers with its flight and waits for Finished.
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut [0u8; 64]).unwrap(),
        Status::WantRead
    );
    transfer_all(&mut s, &mut c);
    // The same write, repeated, completes the handshake and says so,
    // taking nothing; once more, it seals.
    assert_eq!(
        c.conn.write(&mut c.bufs, b"early bird").unwrap(),
        Status::Established
    );
    assert!(!c.conn.is_handshaking());
    assert_eq!(c.conn.write_progress(), 0);
    assert_eq!(
        c.conn.write(&mut c.bufs, b"early bird").unwrap(),
        Status::Done(10)
    );
    transfer_all(&mut c, &mut s);
    // The server's read completes its handshake (the data already waits
    // behind the Finished), then reads.
    let mut buf = [0u8; 64];
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut buf).unwrap(),
        Status::Established
    );
    assert!(!s.conn.is_handshaking());
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut buf).unwrap(),
        Status::Done(10)
    );
    assert_eq!(&buf[..10], b"early bird");
}

/// `Established` comes once, from whichever call completes the handshake:
/// never again, and never after `handshake()` answered `Done(())`.
#[test]
fn the_call_that_completes_the_handshake_says_so_once() {
    #[derive(Clone, Copy, Debug)]
    enum Call {
        Handshake,
        Read,
        ReadInPlace,
        Write,
        Reserve,
    }
    fn call(p: &mut Side, how: Call) -> Status<()> {
        let mut buf = [0u8; 64];
        match how {
            Call::Handshake => p.conn.handshake(&mut p.bufs).unwrap(),
            Call::Read => p.conn.read(&mut p.bufs, &mut buf).unwrap().map(|_| ()),
            Call::ReadInPlace => p.conn.read_in_place(&mut p.bufs).unwrap().map(|_| ()),
            Call::Write => p.conn.write(&mut p.bufs, b"x").unwrap().map(|_| ()),
            Call::Reserve => match p.conn.reserve(&mut p.bufs, 1).unwrap() {
                Status::Done(room) => {
                    room[0] = b'x';
                    p.conn.seal_reserved(&mut p.bufs, 1).unwrap();
                    Status::Done(())
                }
                other => other.map(|_| ()),
            },
        }
    }
    let calls = [
        Call::Handshake,
        Call::Read,
        Call::ReadInPlace,
        Call::Write,
        Call::Reserve,
    ];
    for client_call in calls {
        for server_call in calls {
            let (mut c, mut s) = pair(client_config(), p256_server_config());
            let mut said = [0usize; 2];
            for _ in 0..6 {
                for (i, (p, how)) in [(&mut c, client_call), (&mut s, server_call)]
                    .into_iter()
                    .enumerate()
                {
                    let was = p.conn.is_handshaking();
                    let status = call(p, how);
                    match status {
                        Status::Established => {
                            assert!(was && !p.conn.is_handshaking(), "{how:?}");
                            said[i] += 1;
                        }
                        _ if matches!(how, Call::Handshake) && was && !p.conn.is_handshaking() => {
                            assert_eq!(status, Status::Done(()));
                        }
                        _ => assert!(
                            was == p.conn.is_handshaking(),
                            "{how:?} completed the handshake with {status:?}"
                        ),
                    }
                }
                transfer_all(&mut c, &mut s);
                transfer_all(&mut s, &mut c);
            }
            assert!(!c.conn.is_handshaking() && !s.conn.is_handshaking());
            let expect = |how| usize::from(!matches!(how, Call::Handshake));
            assert_eq!(
                said,
                [expect(client_call), expect(server_call)],
                "{client_call:?} / {server_call:?}"
            );
        }
    }
}

#[test]
fn alpn_and_record_size_limit_are_negotiated() {
    let mut cc = client_config();
    cc.alpn = &[b"h2", b"http/1.1"];
    cc.record.recv_max_fragment_len = 1024;
    let mut sc = p256_server_config();
    sc.alpn = &[b"http/1.1", b"h2"];
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    // Server preference wins: http/1.1 is index 1 in the client's list.
    assert_eq!(c.conn.negotiated().unwrap().alpn_index, Some(1));
    assert_eq!(s.conn.negotiated().unwrap().alpn_index, Some(0));
    // As bytes, on both sides.
    assert_eq!(c.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(s.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        s.conn.negotiated().unwrap().peer_record_size_limit,
        Some(1025)
    );
    // The server now sends records of at most 1024 bytes.
    let _ = s.conn.write(&mut s.bufs, &[7u8; 3000]).unwrap();
    let mut pending = s.bufs.send.pending();
    while let Some(h) = tlspair::record::Header::parse(pending) {
        assert!(h.len <= 1024 + 17, "record of {}", h.len);
        pending = &pending[5 + h.len..];
    }
}

#[test]
fn no_common_alpn_is_no_application_protocol() {
    let mut cc = client_config();
    cc.alpn = &[b"h2"];
    let mut sc = p256_server_config();
    sc.alpn = &[b"http/1.1"];
    let (mut c, mut s) = pair(cc, sc);
    let (cr, sr) = outcome(&mut c, &mut s);
    assert_eq!(
        sr.unwrap_err(),
        Error::PeerIncompatible(PeerIncompatible::NoSharedProtocol)
    );
    assert_eq!(
        cr.unwrap_err(),
        Error::AlertReceived(AD::NO_APPLICATION_PROTOCOL)
    );
}

#[test]
fn server_picks_the_chain_the_client_can_verify() {
    let both = [
        certified(&creds::SERVER_ECDSA_P256),
        certified(&creds::SERVER_RSA_2048),
    ];
    for (schemes, want) in [
        (&[SignatureScheme::RSA_PSS_RSAE_SHA256][..], 1u8),
        (&[SignatureScheme::ECDSA_SECP256R1_SHA256][..], 0u8),
    ] {
        // A client whose verifier accepts only these schemes.
        let verifier = Box::leak(Box::new(Only(tls::verifier(), schemes)));
        let mut cc = client_config();
        cc.verifier = verifier;
        let (mut c, mut s) = pair(cc, server_config(&both));
        complete(&mut c, &mut s).unwrap();
        assert_eq!(s.conn.negotiated().unwrap().cert_index, Some(want));
    }
}

/// A verifier that offers only some schemes.
struct Only(
    &'static dyn tlspair::verify::ServerCertVerifier,
    &'static [SignatureScheme],
);

impl tlspair::verify::ServerCertVerifier for Only {
    fn verify_server_cert(
        &self,
        chain: &[rustls_pki_types::CertificateDer<'_>],
        name: &rustls_pki_types::ServerName<'_>,
        now: rustls_pki_types::UnixTime,
    ) -> Result<(), CertificateError> {
        self.0.verify_server_cert(chain, name, now)
    }
    fn verify_signature(
        &self,
        ee: &rustls_pki_types::CertificateDer<'_>,
        scheme: SignatureScheme,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CertificateError> {
        self.0.verify_signature(ee, scheme, message, signature)
    }
    fn supported_schemes(&self) -> &[SignatureScheme] {
        self.1
    }
}

fn failing(
    server_cred: &creds::Credential,
    name: &'static str,
) -> (Result<(), Error>, Result<(), Error>) {
    let client =
        tlspair::Connection::client(Box::leak(Box::new(client_config())), Some(name), tls::now())
            .unwrap();
    let server = tlspair::Connection::server(
        Box::leak(Box::new(server_config(&[certified(server_cred)]))),
        tls::now(),
    )
    .unwrap();
    let (mut c, mut s) = (tls::side(client), tls::side(server));
    outcome(&mut c, &mut s)
}

#[test]
fn wrong_name_is_bad_certificate() {
    let (c, s) = failing(&creds::WRONG_NAME_ECDSA_P256, "localhost");
    assert_eq!(
        c.unwrap_err(),
        Error::Certificate(CertificateError::NotValidForName)
    );
    assert_eq!(s.unwrap_err(), Error::AlertReceived(AD::BAD_CERTIFICATE));
    let (c, _) = failing(&creds::SERVER_ECDSA_P256, "example.com");
    assert_eq!(
        c.unwrap_err(),
        Error::Certificate(CertificateError::NotValidForName)
    );
}

#[test]
fn unknown_ca_is_unknown_ca() {
    let (c, s) = failing(&creds::UNTRUSTED_ECDSA_P256, "localhost");
    assert_eq!(
        c.unwrap_err(),
        Error::Certificate(CertificateError::UnknownIssuer)
    );
    assert_eq!(s.unwrap_err(), Error::AlertReceived(AD::UNKNOWN_CA));
}

#[test]
fn expired_certificate_is_certificate_expired() {
    let (c, s) = failing(&creds::EXPIRED_ECDSA_P256, "localhost");
    assert_eq!(
        c.unwrap_err(),
        Error::Certificate(CertificateError::Expired)
    );
    assert_eq!(
        s.unwrap_err(),
        Error::AlertReceived(AD::CERTIFICATE_EXPIRED)
    );
    // A valid certificate checked at a time far beyond its notAfter.
    let later = rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(
        4_000_000_000,
    ));
    let client = tlspair::Connection::client(
        Box::leak(Box::new(client_config())),
        Some("localhost"),
        later,
    )
    .unwrap();
    let server =
        tlspair::Connection::server(Box::leak(Box::new(p256_server_config())), later).unwrap();
    let (mut c, mut s) = (tls::side(client), tls::side(server));
    let (c, _) = outcome(&mut c, &mut s);
    assert_eq!(
        c.unwrap_err(),
        Error::Certificate(CertificateError::Expired)
    );
}

#[test]
fn certificate_verify_by_the_wrong_key_is_decrypt_error() {
    // The server holds the P-256 certificate but signs with another key.
    let mut wrong = certified(&creds::SERVER_ECDSA_P256);
    wrong.key = certified(&creds::CLIENT_ECDSA_P256).key;
    let (mut c, mut s) = pair(client_config(), server_config(&[wrong]));
    let (cr, sr) = outcome(&mut c, &mut s);
    assert_eq!(
        cr.unwrap_err(),
        Error::Certificate(CertificateError::BadSignature)
    );
    assert_eq!(sr.unwrap_err(), Error::AlertReceived(AD::DECRYPT_ERROR));
}

#[test]
fn no_common_group_is_handshake_failure() {
    let mut cc = client_config();
    cc.groups = &[NamedGroup::SECP384R1];
    let mut sc = p256_server_config();
    sc.groups = &[NamedGroup::X25519];
    let (mut c, mut s) = pair(cc, sc);
    let (cr, sr) = outcome(&mut c, &mut s);
    assert_eq!(
        sr.unwrap_err(),
        Error::PeerIncompatible(PeerIncompatible::NoSharedGroup)
    );
    assert_eq!(cr.unwrap_err(), Error::AlertReceived(AD::HANDSHAKE_FAILURE));
}

#[test]
fn no_common_suite_is_handshake_failure() {
    let mut cc = client_config();
    cc.suites = Box::leak(Box::new([&tlspair::TLS13_CHACHA20_POLY1305_SHA256]));
    let mut sc = p256_server_config();
    sc.suites = Box::leak(Box::new([&tlspair::TLS13_AES_128_GCM_SHA256]));
    let (mut c, mut s) = pair(cc, sc);
    let (cr, sr) = outcome(&mut c, &mut s);
    assert_eq!(
        sr.unwrap_err(),
        Error::PeerIncompatible(PeerIncompatible::NoSharedSuite)
    );
    assert_eq!(cr.unwrap_err(), Error::AlertReceived(AD::HANDSHAKE_FAILURE));
}

#[test]
fn garbage_instead_of_server_hello_is_unexpected_message() {
    let (mut c, _) = pair(client_config(), p256_server_config());
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    c.bufs.send.consume(usize::MAX);
    c.bufs.recv.fill(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let err = c.conn.handshake(&mut c.bufs).unwrap_err();
    assert_eq!(
        err,
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::UnexpectedContentType(
            tlspair::ContentType(b'H')
        ))
    );
    // The alert goes out in the clear: no keys exist yet.
    assert_eq!(c.bufs.send.pending(), &[21, 3, 3, 0, 2, 2, 10]);
}

#[test]
fn server_hello_for_tls12_is_protocol_version_and_sentinel_is_caught() {
    let (mut c, _) = pair(client_config(), p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    c.bufs.send.consume(usize::MAX);
    // A TLS 1.2 ServerHello: no supported_versions, random ends in DOWNGRD\x01.
    let mut sh = vec![2, 0, 0, 0x2a, 3, 3];
    let mut random = [7u8; 32];
    random[24..].copy_from_slice(b"DOWNGRD\x01");
    sh.extend(random);
    sh.extend([0, 0xc0, 0x2f, 0]);
    let len = sh.len() - 4;
    sh[3] = len as u8;
    let mut rec = vec![22, 3, 3, 0, sh.len() as u8];
    rec.extend(&sh);
    c.bufs.recv.fill(&rec);
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap_err(),
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::Downgrade)
    );
    assert_eq!(c.bufs.send.pending(), &[21, 3, 3, 0, 2, 2, 47]);

    let (mut c, _) = pair(client_config(), p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    c.bufs.send.consume(usize::MAX);
    let mut rec2 = rec.clone();
    rec2[5 + 6 + 24..5 + 6 + 32].copy_from_slice(&[9; 8]);
    c.bufs.recv.fill(&rec2);
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap_err(),
        Error::PeerIncompatible(PeerIncompatible::NotTls13)
    );
    assert_eq!(c.bufs.send.pending(), &[21, 3, 3, 0, 2, 2, 70]);
}

#[test]
fn handshake_through_one_byte_chunks_and_small_records() {
    // Every byte of both flights delivered one at a time; the server's
    // flight cut into 64-byte records by the client's record_size_limit.
    let mut cc = client_config();
    cc.record.recv_max_fragment_len = 64;
    let mut sc = server_config(&[certified(&creds::SERVER_RSA_2048)]);
    sc.record.max_fragment_len = 64;
    let (mut c, mut s) = pair(cc, sc);
    let mut done = (false, false);
    for _ in 0..100_000 {
        if !done.0 {
            done.0 = c.conn.handshake(&mut c.bufs).unwrap() == Status::Done(());
        }
        common::transfer(&mut c, &mut s, 1);
        if !done.1 {
            done.1 = s.conn.handshake(&mut s.bufs).unwrap() == Status::Done(());
        }
        common::transfer(&mut s, &mut c, 1);
        if done == (true, true) && c.bufs.send.is_empty() && s.bufs.send.is_empty() {
            break;
        }
    }
    assert_eq!(done, (true, true));
    exchange_and_close(&mut c, &mut s);
}

#[test]
fn key_update_in_both_directions_mid_transfer() {
    let (mut c, mut s) = pair(
        client_config(),
        server_config(&[certified(&creds::SERVER_ED25519)]),
    );
    complete(&mut c, &mut s).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    for round in 0..4 {
        // The client updates and asks the server to; then the server
        // updates on its own.
        if round == 1 {
            c.conn.key_update(true);
        }
        if round == 2 {
            s.conn.key_update(false);
        }
        let before = (c.conn.sequence_numbers(), s.conn.sequence_numbers());
        assert_eq!(send_and_receive(&mut c, &mut s, &data), data);
        assert_eq!(send_and_receive(&mut s, &mut c, &data), data);
        let after = (c.conn.sequence_numbers(), s.conn.sequence_numbers());
        // 200 KB is 13 records each way; a fresh key restarts at 0.
        match round {
            1 => {
                assert_eq!(after.0, (13, 13), "client: new keys both ways");
                assert_eq!(after.1, (13, 13), "server: new keys both ways");
            }
            2 => {
                assert_eq!(after.1 .0, 13, "server's own update");
                assert_eq!(after.0 .1, 13, "client follows it");
                assert_eq!(after.0 .0, before.0 .0 + 13, "client's key unchanged");
            }
            _ => assert_eq!(after.0 .0, before.0 .0 + 13),
        }
    }
    exchange_and_close(&mut c, &mut s);
}

#[test]
fn a_requested_key_update_is_answered_before_more_data() {
    let (mut c, mut s) = pair(
        client_config(),
        server_config(&[certified(&creds::SERVER_ED25519)]),
    );
    complete(&mut c, &mut s).unwrap();
    s.conn.key_update(true);
    assert_eq!(s.conn.write(&mut s.bufs, b"ping").unwrap(), Status::Done(4));
    transfer_all(&mut s, &mut c);
    let mut buf = [0u8; 16];
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf).unwrap(), Status::Done(4));
    // The client's reply went out with that read, under its old key...
    assert_eq!(
        c.conn.sequence_numbers().0,
        0,
        "client now sends under a new key"
    );
    assert!(!c.bufs.send.is_empty());
    transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut buf).unwrap(),
        Status::WantRead
    );
    assert_eq!(
        s.conn.sequence_numbers().1,
        0,
        "server reads under the client's new key"
    );
    assert_eq!(send_and_receive(&mut c, &mut s, b"pong"), b"pong");
}

#[test]
fn hello_retry_request_for_each_server_preference() {
    for preferred in [
        NamedGroup::X25519,
        NamedGroup::SECP256R1,
        NamedGroup::SECP384R1,
    ] {
        // The client's share is for a group the server does not take, but
        // the client supports the server's preference.
        let first = if preferred == NamedGroup::X25519 {
            NamedGroup::SECP384R1
        } else {
            NamedGroup::X25519
        };
        let mut cc = client_config();
        cc.groups = Box::leak(Box::new([first, preferred]));
        for compat in [true, false] {
            cc.middlebox_compat = compat;
            let mut sc = p256_server_config();
            sc.groups = Box::leak(Box::new([preferred]));
            let (mut c, mut s) = pair(cc.clone(), sc);
            // ClientHello, then HelloRetryRequest (and one CCS in compat mode).
            assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
            transfer_all(&mut c, &mut s);
            assert_eq!(s.conn.handshake(&mut s.bufs).unwrap(), Status::WantRead);
            let hrr = s.bufs.send.pending().to_vec();
            assert_eq!(&hrr[11..43], &tlspair::handshake::messages::HRR_RANDOM);
            let ccs = [20, 3, 3, 0, 1, 1];
            assert_eq!(hrr.ends_with(&ccs), compat);
            complete(&mut c, &mut s).unwrap();
            assert_eq!(c.conn.negotiated().unwrap().group, Some(preferred));
            assert_eq!(s.conn.negotiated().unwrap().group, Some(preferred));
            exchange_and_close(&mut c, &mut s);
        }
    }
}

/// A HelloRetryRequest record as a server would send it.
fn hrr_record(session_id: &[u8], group: NamedGroup) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let mut w = tlspair::codec::Writer::new(&mut buf);
    tlspair::handshake::messages::HelloRetryRequestOut {
        session_id,
        suite: tlspair::CipherSuite::TLS13_AES_128_GCM_SHA256,
        group,
    }
    .encode(&mut w)
    .unwrap();
    let msg = w.written();
    let mut rec = vec![22, 3, 3, 0, msg.len() as u8];
    rec.extend(msg);
    rec
}

#[test]
fn client_refuses_a_second_or_empty_hello_retry_request() {
    let mut cc = client_config();
    cc.middlebox_compat = false;
    cc.groups = &[
        NamedGroup::X25519,
        NamedGroup::SECP256R1,
        NamedGroup::SECP384R1,
    ];
    // A retry for the group whose share was sent changes nothing.
    let (mut c, _) = pair(cc.clone(), p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    c.bufs.send.consume(usize::MAX);
    c.bufs.recv.fill(&hrr_record(&[], NamedGroup::X25519));
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap_err(),
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::IllegalParameter(
            "HelloRetryRequest for the group already sent"
        ))
    );
    assert_eq!(c.bufs.send.pending(), &[21, 3, 3, 0, 2, 2, 47]);

    // A second HelloRetryRequest after a good first one.
    let (mut c, _) = pair(cc, p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    c.bufs.send.consume(usize::MAX);
    c.bufs.recv.fill(&hrr_record(&[], NamedGroup::SECP256R1));
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    // The second ClientHello went out, with a P-256 share.
    let ch2 = c.bufs.send.pending().to_vec();
    assert_eq!(ch2[5], 1);
    assert!(ch2.windows(4).any(|w| w == [0, 0x17, 0, 65]));
    c.bufs.send.consume(usize::MAX);
    c.bufs.recv.fill(&hrr_record(&[], NamedGroup::SECP384R1));
    assert_eq!(
        c.conn.handshake(&mut c.bufs).unwrap_err(),
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::UnexpectedHandshake(
            tlspair::wire::HandshakeType::SERVER_HELLO
        ))
    );
    assert_eq!(c.bufs.send.pending(), &[21, 3, 3, 0, 2, 2, 10]);
}

#[test]
fn server_refuses_a_second_client_hello_without_the_asked_share() {
    let mut cc = client_config();
    cc.groups = &[NamedGroup::X25519, NamedGroup::SECP384R1];
    let mut sc = p256_server_config();
    sc.groups = &[NamedGroup::SECP384R1];
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let ch1 = c.bufs.send.pending().to_vec();
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    s.bufs.send.consume(usize::MAX);
    // Replaying the first ClientHello (an X25519 share) is refused.
    s.bufs.recv.fill(&ch1);
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap_err(),
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::IllegalParameter(
            "no share for the group asked for"
        ))
    );
}

fn client_verifier(optional: bool) -> &'static dyn tlspair::verify::ClientCertVerifier {
    let v = tls::client_verifier();
    Box::leak(Box::new(if optional { v.allow_anonymous() } else { v }))
}

/// Each side's handshake result.
type Outcomes = (Result<(), Error>, Result<(), Error>);

fn mtls(optional: bool, client_cred: Option<&creds::Credential>) -> (Side, Side, Outcomes) {
    let mut cc = client_config();
    cc.client_auth = client_cred.map(certified);
    let mut sc = p256_server_config();
    sc.client_verifier = Some(client_verifier(optional));
    let (mut c, mut s) = pair(cc, sc);
    let r = outcome(&mut c, &mut s);
    (c, s, r)
}

#[test]
fn mutual_tls_required_optional_and_absent() {
    // Required, and given.
    let (mut c, mut s, (cr, sr)) = mtls(false, Some(&creds::CLIENT_ECDSA_P256));
    cr.unwrap();
    sr.unwrap();
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    exchange_and_close(&mut c, &mut s);

    // Optional, and given or not.
    let (mut c, mut s, (cr, sr)) = mtls(true, Some(&creds::CLIENT_ECDSA_P256));
    cr.unwrap();
    sr.unwrap();
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    exchange_and_close(&mut c, &mut s);
    let (mut c, mut s, (cr, sr)) = mtls(true, None);
    cr.unwrap();
    sr.unwrap();
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_none());
    exchange_and_close(&mut c, &mut s);

    // Required, and absent: certificate_required. The client has already
    // finished its side; it learns why on its next read.
    let (mut c, _s, (_, sr)) = mtls(false, None);
    assert_eq!(
        sr.unwrap_err(),
        Error::PeerIncompatible(PeerIncompatible::CertificateRequired)
    );
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap_err(),
        Error::AlertReceived(AD::CERTIFICATE_REQUIRED)
    );

    // A server certificate (serverAuth only) offered as a client's.
    let (mut c, _s, (_, sr)) = mtls(false, Some(&creds::UNTRUSTED_ECDSA_P256));
    assert_eq!(
        sr.unwrap_err(),
        Error::Certificate(CertificateError::InvalidPurpose)
    );
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap_err(),
        Error::AlertReceived(AD::UNSUPPORTED_CERTIFICATE)
    );
}

fn secret_of(lines: &[String], label: &str) -> Vec<u8> {
    let line = lines
        .iter()
        .find(|l| l.starts_with(&format!("{label} ")))
        .unwrap();
    common::unhex(line.trim_end().rsplit(' ').next().unwrap())
}

#[test]
fn key_log_lines_are_the_secrets_in_use_and_exporters_agree() {
    let client_log: &'static Lines = Box::leak(Box::default());
    let server_log: &'static Lines = Box::leak(Box::default());
    let mut cc = client_config();
    cc.key_log = Some(client_log);
    let mut sc = server_config(&[certified(&creds::SERVER_ECDSA_P384)]);
    sc.key_log = Some(server_log);
    sc.suites = Box::leak(Box::new([&tlspair::TLS13_AES_256_GCM_SHA384]));
    let (mut c, mut s) = pair(cc, sc);
    let mut ekm = [0u8; 32];
    assert_eq!(
        c.conn
            .export_keying_material(&mut ekm, b"too early", None)
            .unwrap_err(),
        Error::Misuse(tlspair::Misuse::NotReady)
    );
    complete(&mut c, &mut s).unwrap();
    let lines = client_log.0.lock().unwrap().clone();
    assert_eq!(lines, *server_log.0.lock().unwrap());
    assert_eq!(lines.len(), 5);
    for l in &lines {
        // LABEL, 64 hex digits of client random, 96 of a SHA-384 secret.
        let parts: Vec<&str> = l.trim_end().split(' ').collect();
        assert_eq!((parts[1].len(), parts[2].len()), (64, 96), "{l}");
        assert!(l.ends_with('\n'));
    }
    // The logged client traffic secret opens what the client sends.
    let _ = c.conn.write(&mut c.bufs, b"logged").unwrap();
    let mut rec = c.bufs.send.pending().to_vec();
    let suite = &tlspair::TLS13_AES_256_GCM_SHA384;
    let mut key = tlspair::record::protect::RecordKey::new(
        suite,
        &secret_of(&lines, "CLIENT_TRAFFIC_SECRET_0"),
    )
    .unwrap();
    let (_, len) = key.open(&mut rec).unwrap();
    assert_eq!(&rec[5..5 + len], b"logged");

    // Exporters: equal on both sides, different per label, context, length.
    let ex = |conn: &tlspair::Connection<'_>, label: &[u8], ctx: Option<&[u8]>, n: usize| {
        let mut out = vec![0u8; n];
        conn.export_keying_material(&mut out, label, ctx).unwrap();
        out
    };
    assert_eq!(
        ex(&c.conn, b"EXPERIMENTAL x", None, 32),
        ex(&s.conn, b"EXPERIMENTAL x", None, 32)
    );
    assert_eq!(
        ex(&c.conn, b"EXPERIMENTAL x", Some(b"ctx"), 64),
        ex(&s.conn, b"EXPERIMENTAL x", Some(b"ctx"), 64)
    );
    assert_ne!(
        ex(&c.conn, b"EXPERIMENTAL x", None, 32),
        ex(&c.conn, b"EXPERIMENTAL y", None, 32)
    );
    assert_ne!(
        ex(&c.conn, b"EXPERIMENTAL x", Some(b"a"), 32),
        ex(&c.conn, b"EXPERIMENTAL x", Some(b"b"), 32)
    );
    // RFC 8446 §7.5: no context and an empty one are the same.
    assert_eq!(
        ex(&c.conn, b"EXPERIMENTAL x", None, 32),
        ex(&c.conn, b"EXPERIMENTAL x", Some(b""), 32)
    );
    // The exporter is derived from the logged exporter secret as RFC 8446
    // §7.5 says: HKDF-Expand-Label(Derive-Secret(s, label, ""), "exporter", Hash(ctx), n).
    let exporter =
        tlspair::key_schedule::Secret::new(&secret_of(&lines, "EXPORTER_SECRET")).unwrap();
    let derived = exporter
        .derive(
            suite,
            b"EXPERIMENTAL x",
            &tlspair::key_schedule::Hash::empty(suite),
        )
        .unwrap();
    let prk = ring::hkdf::Prk::new_less_safe(ring::hkdf::HKDF_SHA384, derived.as_bytes());
    let mut want = [0u8; 32];
    let h = ring::digest::digest(&ring::digest::SHA384, b"ctx");
    tlspair::key_schedule::hkdf_expand_label(&prk, b"exporter", h.as_ref(), &mut want).unwrap();
    assert_eq!(ex(&s.conn, b"EXPERIMENTAL x", Some(b"ctx"), 32), want);
}

#[test]
fn key_update_in_the_middle_of_16_mib_in_both_write_modes() {
    for mode in [tlspair::WriteMode::Complete, tlspair::WriteMode::Partial] {
        for updater_is_client in [true, false] {
            let mut cc = client_config();
            cc.record.write_mode = mode;
            let (mut c, mut s) = pair(cc, p256_server_config());
            complete(&mut c, &mut s).unwrap();
            let data: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
            let mut got = Vec::with_capacity(data.len());
            let mut buf = vec![0u8; 64 << 10];
            let (mut start, mut end) = (0, 0);
            let mut updated = false;
            while got.len() < data.len() {
                if start == end && end < data.len() {
                    end = (start + (1 << 20)).min(data.len());
                }
                if start < end {
                    match c.conn.write(&mut c.bufs, &data[start..end]).unwrap() {
                        Status::Done(n) => {
                            start += n;
                            if mode == tlspair::WriteMode::Partial {
                                end = start;
                            }
                        }
                        // Halfway, with a write pending: update keys.
                        Status::WantWrite { .. } if !updated && start >= 8 << 20 => {
                            if updater_is_client {
                                c.conn.key_update(true);
                            } else {
                                s.conn.key_update(true);
                            }
                            updated = true;
                        }
                        Status::WantWrite { .. } => {}
                        other => panic!("{other:?}"),
                    }
                }
                transfer_all(&mut c, &mut s);
                loop {
                    match s.conn.read(&mut s.bufs, &mut buf).unwrap() {
                        Status::Done(n) => got.extend_from_slice(&buf[..n]),
                        Status::WantRead => break,
                        other => panic!("{other:?}"),
                    }
                }
                // The server's KeyUpdate (or its reply) flows back.
                transfer_all(&mut s, &mut c);
                let _ = c.conn.read(&mut c.bufs, &mut buf).unwrap();
                if !updated && mode == tlspair::WriteMode::Partial && start >= 8 << 20 {
                    if updater_is_client {
                        c.conn.key_update(true);
                    } else {
                        s.conn.key_update(true);
                    }
                    updated = true;
                }
            }
            assert!(updated);
            assert!(got == data, "{mode:?} {updater_is_client}");
            // Both directions rekeyed: far fewer records under the current keys.
            assert!(
                c.conn.sequence_numbers().0 < 1000,
                "{:?}",
                c.conn.sequence_numbers()
            );
            assert!(s.conn.sequence_numbers().1 < 1000);
        }
    }
}

#[test]
fn a_plaintext_alert_during_the_handshake_is_reported() {
    // A client that fails after our flight may answer in the clear
    // (OpenSSL does): the server reports the alert, not a protocol error.
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    transfer_all(&mut c, &mut s);
    assert_eq!(s.conn.handshake(&mut s.bufs).unwrap(), Status::WantRead);
    s.bufs.recv.fill(&[21, 3, 3, 0, 2, 2, 48]);
    assert_eq!(
        s.conn.handshake(&mut s.bufs).unwrap_err(),
        Error::AlertReceived(AD::UNKNOWN_CA)
    );
}

/// Decrypts the protected records in `bytes` (after any plaintext ones)
/// with `secret`, lets `edit` change the handshake plaintext, and seals it
/// again under the same key and sequence numbers: a man in the middle who
/// knows the handshake keys (from the key log).
fn tamper(bytes: &[u8], secret: &[u8], edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    use tlspair::record::protect::RecordKey;
    use tlspair::record::{Header, HEADER_LEN};
    let suite = &tlspair::TLS13_AES_128_GCM_SHA256;
    let mut opener = RecordKey::new(suite, secret).unwrap();
    let mut sealer = RecordKey::new(suite, secret).unwrap();
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(h) = Header::parse(rest) {
        let total = HEADER_LEN + h.len;
        let mut rec = rest[..total].to_vec();
        rest = &rest[total..];
        if h.content_type != tlspair::ContentType::APPLICATION_DATA {
            out.extend(rec);
            continue;
        }
        let (ty, len) = opener.open(&mut rec).unwrap();
        let mut plain = rec[HEADER_LEN..HEADER_LEN + len].to_vec();
        edit(&mut plain);
        let mut new = vec![0u8; HEADER_LEN + plain.len() + 1 + 16];
        new[HEADER_LEN..HEADER_LEN + plain.len()].copy_from_slice(&plain);
        sealer.seal(ty, plain.len(), &mut new).unwrap();
        out.extend(new);
    }
    out
}

#[test]
fn tampered_finished_is_decrypt_error_both_ways() {
    let suites: &'static [&'static tlspair::Suite] =
        Box::leak(Box::new([&tlspair::TLS13_AES_128_GCM_SHA256]));
    for tamper_server in [true, false] {
        // The server's key log knows both handshake secrets once it has
        // answered the ClientHello.
        let log: &'static Lines = Box::leak(Box::default());
        let mut cc = client_config();
        cc.suites = suites;
        let mut sc = server_config(&[certified(&creds::SERVER_ED25519)]);
        sc.key_log = Some(log);
        let (mut c, mut s) = pair(cc, sc);
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        transfer_all(&mut c, &mut s);
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
        // The last byte of the last handshake message is the Finished's.
        let flip_last = |p: &mut Vec<u8>| *p.last_mut().unwrap() ^= 1;
        if tamper_server {
            let flight = s.bufs.send.pending().to_vec();
            s.bufs.send.consume(usize::MAX);
            let hs = secret_of(&log.0.lock().unwrap(), "SERVER_HANDSHAKE_TRAFFIC_SECRET");
            c.bufs.recv.fill(&tamper(&flight, &hs, flip_last));
            assert_eq!(
                c.conn.handshake(&mut c.bufs).unwrap_err(),
                Error::PeerMisbehaved(tlspair::PeerMisbehaved::BadFinished)
            );
            transfer_all(&mut c, &mut s);
            assert_eq!(
                s.conn.handshake(&mut s.bufs).unwrap_err(),
                Error::AlertReceived(AD::DECRYPT_ERROR)
            );
        } else {
            transfer_all(&mut s, &mut c);
            assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::Done(()));
            let flight = c.bufs.send.pending().to_vec();
            c.bufs.send.consume(usize::MAX);
            let hs = secret_of(&log.0.lock().unwrap(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET");
            s.bufs.recv.fill(&tamper(&flight, &hs, flip_last));
            assert_eq!(
                s.conn.handshake(&mut s.bufs).unwrap_err(),
                Error::PeerMisbehaved(tlspair::PeerMisbehaved::BadFinished)
            );
            transfer_all(&mut s, &mut c);
            assert_eq!(
                c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap_err(),
                Error::AlertReceived(AD::DECRYPT_ERROR)
            );
        }
    }
}

#[test]
fn early_data_is_skipped_while_rejected() {
    // A client offering 0-RTT sends early data under keys we never derive:
    // the server skips those records and completes the handshake.
    early_data_skipped(client_config(), p256_server_config(), 64);
}

#[test]
fn early_data_over_our_record_limit_is_skipped_too() {
    // The client sent them before it could know our limit (it comes in
    // our EncryptedExtensions): a server with a 1 KiB limit skips 2 KiB
    // early records as well. (They were record_overflow before.)
    let mut cc = client_config();
    cc.record.recv_max_fragment_len = 1024;
    let mut sc = p256_server_config();
    sc.record.recv_max_fragment_len = 1024;
    early_data_skipped(cc, sc, 2048);
}

/// The server's view of a ClientHello offering early_data and two early
/// records of `len` bytes no key of ours opens: skipped, the handshake
/// goes on.
fn early_data_skipped(
    cc: tlspair::handshake::ClientConfig<'static>,
    sc: tlspair::handshake::ServerConfig<'static>,
    len: usize,
) {
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    // Add early_data to the ClientHello: rebuild it with the extension
    // (type 42, empty) appended, fixing the three lengths.
    let mut rec = c.bufs.send.pending().to_vec();
    c.bufs.send.consume(usize::MAX);
    rec.extend([0, 42, 0, 0]);
    let bump = |v: &mut [u8], at: usize, width: usize| {
        let mut n = 0usize;
        for b in &v[at..at + width] {
            n = n << 8 | usize::from(*b);
        }
        n += 4;
        for i in 0..width {
            v[at + width - 1 - i] = (n >> (8 * i)) as u8;
        }
    };
    bump(&mut rec, 3, 2); // record length
    bump(&mut rec, 6, 3); // handshake length
                          // The extensions length sits after the fixed fields.
    let sid = usize::from(rec[5 + 4 + 2 + 32]);
    let at = 5 + 4 + 2 + 32 + 1 + sid;
    let suites = usize::from(rec[at]) << 8 | usize::from(rec[at + 1]);
    let at = at + 2 + suites;
    let comp = usize::from(rec[at]);
    bump(&mut rec, at + 1 + comp, 2);
    s.bufs.recv.fill(&rec);
    // Two records of "early data" that no key of ours opens.
    for _ in 0..2 {
        let mut junk = vec![23, 3, 3];
        junk.extend(u16::try_from(len).unwrap().to_be_bytes());
        junk.extend(vec![0x5a; len]);
        assert_eq!(s.bufs.recv.fill(&junk), junk.len());
    }
    // The server answers; the client (which never meant 0-RTT) finishes.
    assert_eq!(s.conn.handshake(&mut s.bufs).unwrap(), Status::WantRead);
    transfer_all(&mut s, &mut c);
    // The client's transcript has the original ClientHello: this run only
    // checks the server's skipping, so the client's Finished would not
    // match. Its refusal is its own business; the server must still be
    // waiting, not failed.
    assert!(s.conn.error().is_none());
    assert!(s.conn.is_handshaking());
}

#[test]
fn server_keeps_the_client_server_name() {
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    assert!(
        s.conn.negotiated().is_none(),
        "nothing shown before the handshake completes"
    );
    complete(&mut c, &mut s).unwrap();
    let n = s.conn.negotiated().unwrap();
    assert_eq!(
        n.server_name.map(|h| h.as_str().to_owned()).as_deref(),
        Some("localhost")
    );
    assert!(c.conn.negotiated().unwrap().server_name.is_none());
}

#[test]
fn no_server_name_with_a_verifier_that_checks_names_is_bad_certificate() {
    // No server name with a verifier that checks one: the certificate
    // cannot be checked for a name, so it is refused as not valid for the
    // (absent) name, with bad_certificate, and the refusal is sticky.
    let cc: &'static _ = Box::leak(Box::new(client_config()));
    let sc: &'static _ = Box::leak(Box::new(p256_server_config()));
    let mut c = common::tls::side(tlspair::Connection::client(cc, None, tls::now()).unwrap());
    let mut s = common::tls::side(tlspair::Connection::server(sc, tls::now()).unwrap());
    let (cr, sr) = outcome(&mut c, &mut s);
    let e = cr.unwrap_err();
    assert_eq!(e, Error::Certificate(CertificateError::NotValidForName));
    assert!(e.is_fatal());
    assert_eq!(sr.unwrap_err(), Error::AlertReceived(AD::BAD_CERTIFICATE));
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap_err(), e);
    assert_eq!(c.conn.write(&mut c.bufs, b"x").unwrap_err(), e);
    // A name that is not a name is refused at once.
    assert!(matches!(
        tlspair::Connection::client(cc, Some("not a name!"), tls::now()),
        Err(Error::Misuse(tlspair::Misuse::BadConfig(_)))
    ));
}

#[test]
fn tickets_respect_the_client_record_size_limit() {
    use tlspair::handshake::ticket::TicketKey;
    let mut cc = client_config();
    cc.record.recv_max_fragment_len = 100;
    let mut sc = p256_server_config();
    sc.ticket_keys = (Box::leak(Box::new([TicketKey::new(1, &[3; 32]).unwrap()]))).into();
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    // The tickets came in records of at most 100 bytes; the client reads
    // them without complaint.
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap(),
        Status::WantRead
    );
}

// Fuzzing found these two (fuzz/seeds/session/regression-*).
#[test]
fn a_server_with_a_small_receive_limit_and_a_default_client() {
    // The client always sends record_size_limit, so the server can answer
    // with its own, and the client keeps to it from its second flight on.
    let mut sc = p256_server_config();
    sc.record.recv_max_fragment_len = 200;
    let mut cc = client_config();
    cc.client_auth = Some(certified(&creds::CLIENT_ECDSA_P256));
    sc.client_verifier = Some(Box::leak(Box::new(tls::client_verifier())));
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    let data = vec![0x42u8; 20_000];
    assert_eq!(send_and_receive(&mut c, &mut s, &data), data);
}

#[test]
fn the_smallest_outgoing_view_carries_a_key_update() {
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    complete(&mut c, &mut s).unwrap();
    let mut small = tlspair::Buffers::new(
        vec![0u8; 20_000],
        vec![0u8; tlspair::record::MIN_SEND_CAPACITY],
    );
    c.conn.key_update(true);
    // Records of up to 5 bytes; the KeyUpdate (27 bytes) fits.
    let mut sent = 0;
    while sent < 3 {
        match c.conn.write(&mut small, &b"abc"[sent..]).unwrap() {
            Status::Done(n) => sent += n,
            Status::WantWrite { needed } => assert!(needed <= tlspair::record::MIN_SEND_CAPACITY),
            other => panic!("{other:?}"),
        }
        s.bufs.recv.fill(small.send.pending());
        let n = small.send.len();
        small.send.consume(n);
    }
    let mut buf = [0u8; 8];
    let mut got = Vec::new();
    while let Status::Done(n) = s.conn.read(&mut s.bufs, &mut buf).unwrap() {
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"abc");
    assert_eq!(
        c.conn.sequence_numbers().0,
        1,
        "one record under the new key"
    );
}
