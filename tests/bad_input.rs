//! Hostile and malformed input: each case yields its typed error and the
//! alert RFC 8446 assigns, as bytes in the outgoing view.

mod common;

use common::{open_alerts, transfer_all, Pair, Sizes, SERVER_SECRET};
use tlspair::record::protect::RecordKey;
use tlspair::record::{HEADER_LEN, MAX_RECORD_LEN};
use tlspair::{
    AlertDescription as AD, ContentType, Error, InvalidMessage, Misuse, PeerMisbehaved,
    RecordConfig, Status, Suite, TLS13_AES_128_GCM_SHA256 as AES128,
    TLS13_CHACHA20_POLY1305_SHA256 as CHACHA,
};

/// Feeds `bytes` to a fresh server and returns the error of its read and
/// the alerts it put on the wire.
fn server_reads(bytes: &[u8]) -> (Error, Vec<(u8, u8)>) {
    let mut p = Pair::new(&AES128);
    p.server.bufs.recv.fill(bytes);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 64])
        .unwrap_err();
    let alerts = open_alerts(
        &AES128,
        &SERVER_SECRET[..32],
        0,
        p.server.bufs.send.pending(),
    );
    // Sticky: the same error again, and nothing more on the wire.
    let before = p.server.bufs.send.len();
    assert_eq!(
        p.server
            .conn
            .read(&mut p.server.bufs, &mut [0u8; 64])
            .unwrap_err(),
        err
    );
    assert_eq!(
        p.server.conn.write(&mut p.server.bufs, b"x").unwrap_err(),
        err
    );
    assert_eq!(p.server.bufs.send.len(), before);
    (err, alerts)
}

/// A record sealed with the client's key: `content` + `ty`, then padding.
fn client_record(ty: ContentType, content: &[u8], padding: usize, seq: u64) -> Vec<u8> {
    let mut key = RecordKey::new(&AES128, &common::CLIENT_SECRET[..32]).unwrap();
    key.set_sequence(seq);
    let mut rec = vec![0u8; HEADER_LEN + content.len() + 1 + padding + 16];
    rec[HEADER_LEN..HEADER_LEN + content.len()].copy_from_slice(content);
    key.seal(ty, content.len(), &mut rec).unwrap();
    rec
}

fn fatal(alert: AD) -> Vec<(u8, u8)> {
    vec![(2, alert.0)]
}

#[test]
fn truncated_header_waits_then_reports_truncation_at_eof() {
    let mut p = Pair::new(&AES128);
    p.server.bufs.recv.fill(&[0x17, 0x03]);
    let mut buf = [0u8; 8];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::WantRead
    );
    p.server.bufs.recv.set_eof();
    assert_eq!(
        p.server
            .conn
            .read(&mut p.server.bufs, &mut buf)
            .unwrap_err(),
        Error::Truncated
    );
    assert!(p.server.bufs.send.is_empty());
}

#[test]
fn oversize_length_is_record_overflow_on_the_header_alone() {
    // 2^14 + 1 + 16 is the largest protected record; one more is refused
    // before any body byte arrives.
    let len = 16384 + 17 + 1;
    let (err, alerts) = server_reads(&[0x17, 0x03, 0x03, (len >> 8) as u8, len as u8]);
    assert_eq!(
        err,
        Error::InvalidMessage(InvalidMessage::RecordTooLarge { len, max: 16401 })
    );
    assert_eq!(alerts, fatal(AD::RECORD_OVERFLOW));
    let (err, _) = server_reads(&[0x17, 0x03, 0x03, 0xff, 0xff]);
    assert!(matches!(
        err,
        Error::InvalidMessage(InvalidMessage::RecordTooLarge { .. })
    ));
}

#[test]
fn record_over_the_configured_receive_limit_is_record_overflow() {
    let mut small = RecordConfig::default();
    small.recv_max_fragment_len = 1024;
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        small,
        Sizes::default(),
        Sizes {
            recv: small.recv_buffer_len(),
            send: MAX_RECORD_LEN,
        },
    );
    // The limit, one byte a TLS 1.2 peer may add, a TLS 1.2 AES-GCM
    // record's 29 around it.
    assert_eq!(p.server.bufs.recv.capacity(), 1024 + 1 + 29);
    let _ = p
        .client
        .conn
        .write(&mut p.client.bufs, &[7u8; 1025])
        .unwrap();
    transfer_all(&mut p.client, &mut p.server);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 2048])
        .unwrap_err();
    assert_eq!(
        err,
        Error::InvalidMessage(InvalidMessage::RecordTooLarge {
            len: 1025 + 17,
            max: 1024 + 17
        })
    );
    let alerts = open_alerts(
        &AES128,
        &SERVER_SECRET[..32],
        0,
        p.server.bufs.send.pending(),
    );
    assert_eq!(alerts, fatal(AD::RECORD_OVERFLOW));
}

#[test]
fn wrong_legacy_version_is_decode_error() {
    let mut rec = client_record(ContentType::APPLICATION_DATA, b"hi", 0, 0);
    rec[1..3].copy_from_slice(&[0x03, 0x01]);
    let (err, alerts) = server_reads(&rec);
    assert_eq!(
        err,
        Error::InvalidMessage(InvalidMessage::BadRecordVersion(0x0301))
    );
    assert_eq!(alerts, fatal(AD::DECODE_ERROR));
}

#[test]
fn bad_tag_is_bad_record_mac() {
    // A flipped bit anywhere in header, ciphertext or tag fails the AEAD.
    let good = client_record(ContentType::APPLICATION_DATA, b"integrity", 0, 0);
    for at in [5usize, 10, good.len() - 1] {
        let mut rec = good.clone();
        rec[at] ^= 0x01;
        let (err, alerts) = server_reads(&rec);
        assert_eq!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::BadRecordMac),
            "flipped byte {at}"
        );
        assert_eq!(alerts, fatal(AD::BAD_RECORD_MAC));
    }
    // The header is authenticated too: a length one shorter is a whole
    // record that fails.
    let mut rec = good.clone();
    rec[4] -= 1;
    let (err, _) = server_reads(&rec);
    assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::BadRecordMac));
    // A record sealed for the next sequence number is a replay/reorder.
    let (err, _) = server_reads(&client_record(ContentType::APPLICATION_DATA, b"x", 0, 1));
    assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::BadRecordMac));
}

#[test]
fn record_shorter_than_a_tag_is_decode_error() {
    let (err, alerts) = server_reads(&[
        0x17, 0x03, 0x03, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    assert_eq!(err, Error::InvalidMessage(InvalidMessage::RecordTooShort));
    assert_eq!(alerts, fatal(AD::DECODE_ERROR));
}

#[test]
fn wrong_outer_content_type_is_unexpected_message() {
    // A plaintext handshake record, a plaintext alert, garbage ("GET /").
    for first in [0x16u8, 0x15, 0x14, b'G'] {
        let (err, alerts) = server_reads(&[first, 0x03, 0x03, 0x00, 0x20]);
        assert_eq!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedContentType(ContentType(first)))
        );
        assert_eq!(alerts, fatal(AD::UNEXPECTED_MESSAGE));
    }
}

#[test]
fn wrong_inner_content_type_is_unexpected_message() {
    for ty in [ContentType::CHANGE_CIPHER_SPEC, ContentType(0x42)] {
        let (err, alerts) = server_reads(&client_record(ty, b"\x01", 0, 0));
        assert_eq!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedContentType(ty))
        );
        assert_eq!(alerts, fatal(AD::UNEXPECTED_MESSAGE));
    }
    // All zeros: no content type at all.
    let (err, alerts) = server_reads(&client_record(ContentType(0), b"", 7, 0));
    assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::NoContentType));
    assert_eq!(alerts, fatal(AD::UNEXPECTED_MESSAGE));
    // Handshake messages cannot be processed by a connection built from
    // secrets; an empty handshake record is refused in any case.
    // A renegotiation-style ClientHello after the handshake is refused.
    let (err, alerts) = server_reads(&client_record(
        ContentType::HANDSHAKE,
        b"\x01\x00\x00\x00",
        0,
        0,
    ));
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(
            tlspair::wire::HandshakeType::CLIENT_HELLO
        ))
    );
    assert_eq!(alerts, fatal(AD::UNEXPECTED_MESSAGE));
    let (err, alerts) = server_reads(&client_record(ContentType::HANDSHAKE, b"", 0, 0));
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::EmptyRecord(ContentType::HANDSHAKE))
    );
    assert_eq!(alerts, fatal(AD::UNEXPECTED_MESSAGE));
}

#[test]
fn padded_records_are_accepted() {
    let mut p = Pair::new(&AES128);
    p.server.bufs.recv.fill(&client_record(
        ContentType::APPLICATION_DATA,
        b"padded",
        1000,
        0,
    ));
    let mut buf = [0u8; 64];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(6)
    );
    assert_eq!(&buf[..6], b"padded");
}

#[test]
fn malformed_alert_is_decode_error() {
    for body in [&b"\x02"[..], b"\x02\x28\x00"] {
        let (err, alerts) = server_reads(&client_record(ContentType::ALERT, body, 0, 0));
        assert_eq!(err, Error::InvalidMessage(InvalidMessage::BadAlert));
        assert_eq!(alerts, fatal(AD::DECODE_ERROR));
    }
}

#[test]
fn received_fatal_alert_is_reported_and_not_answered() {
    // Level is ignored in TLS 1.3: a "warning" handshake_failure is fatal.
    for level in [1u8, 2] {
        let (err, alerts) = server_reads(&client_record(ContentType::ALERT, &[level, 40], 0, 0));
        assert_eq!(err, Error::AlertReceived(AD::HANDSHAKE_FAILURE));
        assert!(alerts.is_empty());
    }
}

#[test]
fn records_after_close_notify_are_ignored() {
    let mut p = Pair::new(&AES128);
    let mut bytes = client_record(ContentType::ALERT, &[1, 0], 0, 0);
    bytes.extend(client_record(ContentType::APPLICATION_DATA, b"late", 0, 1));
    bytes.extend([0xde, 0xad]); // and garbage
    p.server.bufs.recv.fill(&bytes);
    let mut buf = [0u8; 64];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    assert!(
        p.server.bufs.send.is_empty(),
        "RFC 8446 §6.1: ignored, not answered"
    );
}

#[test]
fn write_after_a_fatal_error_returns_it_and_emits_nothing() {
    let mut p = Pair::new(&AES128);
    p.server
        .bufs
        .recv
        .fill(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 8])
        .unwrap_err();
    let wire = p.server.bufs.send.pending().to_vec();
    assert_eq!(
        p.server
            .conn
            .write(&mut p.server.bufs, b"data")
            .unwrap_err(),
        err
    );
    assert_eq!(p.server.conn.shutdown(&mut p.server.bufs).unwrap_err(), err);
    assert_eq!(p.server.bufs.send.pending(), &wire[..]);
}

#[test]
fn alert_waits_for_room_and_goes_out_with_the_next_call() {
    let mut p = Pair::new(&AES128);
    // Fill the server's outgoing view so the alert cannot fit.
    let _ = p
        .server
        .conn
        .write(&mut p.server.bufs, &vec![0u8; 16384])
        .unwrap();
    let before = p.server.bufs.send.len();
    p.server.bufs.recv.fill(&[0x16, 0x03, 0x03, 0x00, 0x20]);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 8])
        .unwrap_err();
    assert!(p.server.conn.alert_pending());
    assert_eq!(p.server.bufs.send.len(), before);
    p.server.bufs.send.consume(usize::MAX);
    assert_eq!(
        p.server
            .conn
            .read(&mut p.server.bufs, &mut [0u8; 8])
            .unwrap_err(),
        err
    );
    assert!(!p.server.conn.alert_pending());
    let alerts = open_alerts(
        &AES128,
        &SERVER_SECRET[..32],
        1,
        p.server.bufs.send.pending(),
    );
    assert_eq!(alerts, fatal(AD::UNEXPECTED_MESSAGE));
}

#[test]
fn flood_of_empty_records_is_cut_off() {
    let mut p = Pair::new(&AES128);
    let mut bytes = Vec::new();
    for seq in 0..=u64::from(tlspair::conn::MAX_EMPTY_RECORDS) {
        bytes.extend(client_record(ContentType::APPLICATION_DATA, b"", 0, seq));
    }
    p.server.bufs.recv.fill(&bytes);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 8])
        .unwrap_err();
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::TooManyEmptyRecords)
    );
    // One fewer, then data: accepted.
    let mut p = Pair::new(&AES128);
    let mut bytes = Vec::new();
    let n = u64::from(tlspair::conn::MAX_EMPTY_RECORDS);
    for seq in 0..n {
        bytes.extend(client_record(ContentType::APPLICATION_DATA, b"", 0, seq));
    }
    bytes.extend(client_record(ContentType::APPLICATION_DATA, b"ok", 0, n));
    p.server.bufs.recv.fill(&bytes);
    assert_eq!(
        p.server
            .conn
            .read(&mut p.server.bufs, &mut [0u8; 8])
            .unwrap(),
        Status::Done(2)
    );
}

fn exhaust(suite: &'static Suite, start: u64) {
    // Without automatic KeyUpdate, the key runs out and the connection
    // closes.
    let mut cfg = RecordConfig::default();
    cfg.auto_key_update = false;
    let mut p = Pair::with(suite, cfg, cfg, Sizes::default(), Sizes::default());
    p.client.conn.set_sequence_numbers(start, 0);
    p.server.conn.set_sequence_numbers(0, start);
    // One data record fits before the last sequence number, kept for the
    // closing alert.
    assert_eq!(
        p.client.conn.write(&mut p.client.bufs, b"last").unwrap(),
        Status::Done(4)
    );
    assert_eq!(
        p.client
            .conn
            .write(&mut p.client.bufs, b"one too many")
            .unwrap_err(),
        Error::KeyExhausted
    );
    assert!(p.client.conn.close_sent());
    assert_eq!(
        p.client
            .conn
            .write(&mut p.client.bufs, b"again")
            .unwrap_err(),
        Error::KeyExhausted
    );
    // The peer reads the data, then a clean close.
    transfer_all(&mut p.client, &mut p.server);
    let mut buf = [0u8; 16];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(4)
    );
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Closed
    );
}

#[test]
fn sequence_exhaustion_closes_instead_of_wrapping() {
    // ChaCha20-Poly1305: bounded only by the 2^64 sequence space.
    exhaust(&CHACHA, u64::MAX - 2);
}

#[test]
fn aead_usage_limit_closes_the_connection() {
    // AES-GCM: 2^24.5 records per key (RFC 8446 §5.5).
    exhaust(&AES128, AES128.max_records - 2);
}

#[test]
fn aead_usage_limit_triggers_a_key_update_by_default() {
    let mut p = Pair::new(&AES128);
    let near = AES128.max_records - tlspair::conn::AUTO_KEY_UPDATE_MARGIN;
    p.client.conn.set_sequence_numbers(near - 2, 0);
    p.server.conn.set_sequence_numbers(0, near - 2);
    // Two records under the old key, then a KeyUpdate and new keys.
    for _ in 0..4 {
        assert_eq!(
            common::send_and_receive(&mut p.client, &mut p.server, b"more"),
            b"more"
        );
    }
    assert_eq!(
        p.client.conn.sequence_numbers().0,
        2,
        "fresh key: KeyUpdate + ... restart at 0"
    );
    assert_eq!(p.server.conn.sequence_numbers().1, 2);
}

#[test]
fn peer_sequence_wrap_is_refused() {
    let mut p = Pair::new(&CHACHA);
    p.server.conn.set_sequence_numbers(0, u64::MAX);
    p.server.bufs.recv.fill(&[0x17, 0x03, 0x03, 0x00, 0x11]);
    p.server.bufs.recv.fill(&[0u8; 17]);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 8])
        .unwrap_err();
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::PeerSequenceExhausted)
    );
    let alerts = open_alerts(
        &CHACHA,
        &SERVER_SECRET[..32],
        0,
        p.server.bufs.send.pending(),
    );
    assert_eq!(alerts, fatal(AD::INTERNAL_ERROR));
}

#[test]
fn receive_buffer_smaller_than_a_record_is_misuse_not_fatal() {
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes::default(),
        Sizes {
            recv: 1000,
            send: MAX_RECORD_LEN,
        },
    );
    let _ = p
        .client
        .conn
        .write(&mut p.client.bufs, &[1u8; 2000])
        .unwrap();
    transfer_all(&mut p.client, &mut p.server);
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 8])
        .unwrap_err();
    assert_eq!(
        err,
        Error::Misuse(Misuse::RecvBufferTooSmall { needed: 2000 + 22 })
    );
    assert!(p.server.conn.error().is_none());
    assert!(p.server.bufs.send.is_empty());
}

#[test]
fn bad_configuration_is_refused() {
    for (send, recv) in [(0, 16384), (16385, 16384), (16384, 63), (16384, 16385)] {
        let mut cfg = RecordConfig::default();
        cfg.max_fragment_len = send;
        cfg.recv_max_fragment_len = recv;
        let r = tlspair::Connection::from_traffic_secrets(&AES128, &[0; 32], &[0; 32], cfg);
        assert!(matches!(r, Err(Error::Misuse(Misuse::BadConfig(_)))));
    }
}

/// A NewSessionTicket-shaped message of `len` bytes in all.
fn ticket_message(len: usize) -> Vec<u8> {
    let body = len - 4;
    let mut m = vec![4, (body >> 16) as u8, (body >> 8) as u8, body as u8];
    m.extend(7200u32.to_be_bytes()); // lifetime
    m.extend(1u32.to_be_bytes()); // age_add
    m.push(0); // nonce
    let ticket = body - 4 - 4 - 1 - 2 - 2;
    m.extend((ticket as u16).to_be_bytes());
    m.extend(std::iter::repeat_n(0xaa, ticket));
    m.extend([0, 0]); // extensions
    assert_eq!(m.len(), len);
    m
}

// Fuzzing found these (fuzz/seeds/deframe/stall-*, recv-too-small-*).
#[test]
fn fragmented_ticket_in_a_small_buffer_never_stalls() {
    let mut small = RecordConfig::default();
    small.recv_max_fragment_len = 64;
    let m = ticket_message(100);
    let mut bytes = client_record(ContentType::HANDSHAKE, &m[..64], 0, 0);
    bytes.extend(client_record(ContentType::HANDSHAKE, &m[64..], 0, 1));
    bytes.extend(client_record(ContentType::APPLICATION_DATA, b"data", 0, 2));
    // One record's room plus the message: it is reassembled and the data
    // after it read. One record's room alone: a clean fatal error, where
    // the fuzzer found a hang.
    for (capacity, ok) in [
        (small.recv_buffer_len() + 100, true),
        (small.recv_buffer_len(), false),
    ] {
        let sizes = Sizes {
            recv: capacity,
            send: MAX_RECORD_LEN,
        };
        let mut p = Pair::with(
            &AES128,
            RecordConfig::default(),
            small,
            Sizes::default(),
            sizes,
        );
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        let mut fed = 0;
        let result = loop {
            fed += p.server.bufs.recv.fill(&bytes[fed..]);
            match p.server.conn.read(&mut p.server.bufs, &mut buf) {
                Ok(Status::Done(n)) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.len() == 4 {
                        break Ok(());
                    }
                }
                Ok(Status::WantRead) => assert!(fed < bytes.len(), "stalled with a full buffer"),
                Ok(other) => panic!("{other:?}"),
                Err(e) => break Err(e),
            }
        };
        if ok {
            result.unwrap();
            assert_eq!(got, b"data");
        } else {
            assert_eq!(
                result.unwrap_err(),
                Error::PeerMisbehaved(PeerMisbehaved::HandshakeTooLarge {
                    len: 64 + 58,
                    max: capacity
                })
            );
        }
    }
}

#[test]
fn a_handshake_fragment_the_buffer_cannot_reassemble_is_fatal_not_misuse() {
    // Twelve bytes of a ticket, then a full-size record: both cannot fit
    // in a buffer of one record (16,413 bytes, a full TLS 1.2 record).
    let m = ticket_message(100);
    let mut bytes = client_record(ContentType::HANDSHAKE, &m[..12], 0, 0);
    bytes.extend(client_record(
        ContentType::APPLICATION_DATA,
        &[1u8; 16384],
        0,
        1,
    ));
    let mut p = Pair::new(&AES128);
    let mut fed = p.server.bufs.recv.fill(&bytes);
    let err = loop {
        match p.server.conn.read(&mut p.server.bufs, &mut [0u8; 64]) {
            Ok(Status::WantRead) => fed += p.server.bufs.recv.fill(&bytes[fed..]),
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::HandshakeTooLarge { .. })
        ),
        "{err:?}"
    );
    assert!(err.is_fatal());
    let alerts = open_alerts(
        &AES128,
        &SERVER_SECRET[..32],
        0,
        p.server.bufs.send.pending(),
    );
    assert_eq!(alerts, fatal(AD::ILLEGAL_PARAMETER));
}

/// A TLS 1.2 pair from keys (`Pair::with`), default settings.
fn tls12_pair(suite: &'static Suite) -> Pair {
    Pair::with(
        suite,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes::default(),
        Sizes::default(),
    )
}

/// A TLS 1.2 record sealed with the client's key of `Pair::with` for
/// `suite` (key, then IV, cut from the same bytes).
fn tls12_client_record(
    suite: &'static tlspair::Suite,
    ty: ContentType,
    content: &[u8],
    seq: u64,
) -> Vec<u8> {
    let key_len = suite.key_len();
    let iv_len = if suite.record_overhead() == 29 { 4 } else { 12 };
    let c = &common::CLIENT_SECRET[..44];
    let mut key = RecordKey::new_tls12(suite, &c[..key_len], &c[key_len..][..iv_len]).unwrap();
    key.set_sequence(seq);
    let mut rec = vec![0u8; key.overhead() + content.len()];
    let at = key.content_offset();
    rec[at..at + content.len()].copy_from_slice(content);
    key.seal(ty, content.len(), &mut rec).unwrap();
    rec
}

#[test]
fn tls12_warnings_skip_only_alerts_that_may_be_warnings() {
    // RFC 5246 §7.2.2 names the alerts that are always fatal, whatever
    // the level says (bad_record_mac, handshake_failure, ...); those a
    // peer may send as warnings (no_renegotiation, user_canceled,
    // unrecognized_name, the certificate ones) and ones we do not know
    // are skipped, and the connection reads on.
    let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
    for desc in [
        10u8, 20, 21, 22, 30, 40, 47, 48, 49, 50, 51, 60, 70, 71, 80, 86, 109, 110, 115, 116, 120,
    ] {
        let mut p = tls12_pair(suite);
        p.server.bufs.recv.fill(&tls12_client_record(
            suite,
            ContentType::ALERT,
            &[1, desc],
            0,
        ));
        let err = p
            .server
            .conn
            .read(&mut p.server.bufs, &mut [0u8; 64])
            .unwrap_err();
        assert_eq!(err, Error::AlertReceived(AD(desc)), "{desc}");
    }
    for desc in [90u8, 100, 112, 42, 43, 44, 45, 46, 200] {
        let mut p = tls12_pair(suite);
        let mut bytes = tls12_client_record(suite, ContentType::ALERT, &[1, desc], 0);
        bytes.extend(tls12_client_record(
            suite,
            ContentType::APPLICATION_DATA,
            b"after",
            1,
        ));
        p.server.bufs.recv.fill(&bytes);
        let mut buf = [0u8; 64];
        assert_eq!(
            p.server.conn.read(&mut p.server.bufs, &mut buf),
            Ok(Status::Done(5)),
            "{desc}"
        );
        assert_eq!(&buf[..5], b"after");
    }
}

#[test]
fn a_tls12_fatal_user_canceled_ends_the_connection() {
    // RFC 5246 §7.2: a fatal alert is fatal, user_canceled too (TLS 1.3
    // ignores the level and skips it).
    let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
    let mut p = tls12_pair(suite);
    p.server
        .bufs
        .recv
        .fill(&tls12_client_record(suite, ContentType::ALERT, &[2, 90], 0));
    let err = p
        .server
        .conn
        .read(&mut p.server.bufs, &mut [0u8; 64])
        .unwrap_err();
    assert_eq!(err, Error::AlertReceived(AD::USER_CANCELED));
}
