//! Known answers from RFC 8448 §3: key derivation and the protected records
//! of the simple 1-RTT handshake, opened and re-sealed byte for byte.

mod common;

use common::vectors;
use ring::hkdf;
use tlspair::key_schedule::hkdf_expand_label;
use tlspair::record::protect::RecordKey;
use tlspair::record::HEADER_LEN;
use tlspair::{Buffers, Connection, ContentType, RecordConfig, Status, TLS13_AES_128_GCM_SHA256};

const SUITE: &tlspair::Suite = &TLS13_AES_128_GCM_SHA256;

fn v(name: &str) -> Vec<u8> {
    vectors("rfc8448_simple_1rtt.txt")
        .remove(name)
        .unwrap_or_else(|| panic!("missing vector {name}"))
}

#[test]
fn hkdf_expand_label_key_and_iv() {
    // The published key/iv of the server handshake keys, from the published
    // server handshake traffic secret.
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &v("server_handshake_traffic_secret"));
    let mut key = [0u8; 16];
    hkdf_expand_label(&prk, b"key", b"", &mut key).unwrap();
    assert_eq!(key.to_vec(), v("server_handshake_key"));
    let mut iv = [0u8; 12];
    hkdf_expand_label(&prk, b"iv", b"", &mut iv).unwrap();
    assert_eq!(iv.to_vec(), v("server_handshake_iv"));
}

#[test]
fn hkdf_label_info_encoding() {
    // The HkdfLabel structure itself: length, "tls13 " label, empty context.
    // A context of the full 255 bytes and an over-long label are the edges.
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &[7; 32]);
    let mut out = [0u8; 32];
    hkdf_expand_label(&prk, b"x", &[0u8; 255], &mut out).unwrap();
    assert!(hkdf_expand_label(&prk, b"x", &[0u8; 256], &mut out).is_err());
    assert!(hkdf_expand_label(&prk, &[b'a'; 250], b"", &mut out).is_err());
    assert_eq!(v("key_info"), b"\x00\x10\x09tls13 key\x00");
    assert_eq!(v("iv_info"), b"\x00\x0c\x08tls13 iv\x00");
}

#[test]
fn traffic_keys_for_application_data() {
    for side in ["server", "client"] {
        let secret = v(&format!("{side}_application_traffic_secret"));
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
        let mut key = [0u8; 16];
        hkdf_expand_label(&prk, b"key", b"", &mut key).unwrap();
        assert_eq!(key.to_vec(), v(&format!("{side}_application_key")));
        // The record key derives the same IV (its key is checked by the
        // records it opens below).
        let record_key = RecordKey::new(SUITE, &secret).unwrap();
        assert_eq!(
            record_key.iv().to_vec(),
            v(&format!("{side}_application_iv"))
        );
    }
}

/// Opens `record` with `secret` at `seq`, checks the content against
/// `payload`, then re-seals the content and checks the record byte for byte.
fn open_and_reseal(secret: &str, seq: u64, record: &str, payload: &str, ty: ContentType) {
    let record = v(record);
    let payload = v(payload);

    let mut opener = RecordKey::new(SUITE, &v(secret)).unwrap();
    opener.set_sequence(seq);
    let mut buf = record.clone();
    let (got_ty, len) = opener.open(&mut buf).unwrap();
    assert_eq!(got_ty, ty);
    assert_eq!(&buf[HEADER_LEN..HEADER_LEN + len], &payload[..]);
    assert_eq!(opener.sequence(), seq + 1);

    let mut sealer = RecordKey::new(SUITE, &v(secret)).unwrap();
    sealer.set_sequence(seq);
    let mut out = vec![0u8; record.len()];
    out[HEADER_LEN..HEADER_LEN + payload.len()].copy_from_slice(&payload);
    sealer.seal(ty, payload.len(), &mut out).unwrap();
    assert_eq!(out, record);
}

#[test]
fn server_encrypted_handshake_flight() {
    open_and_reseal(
        "server_handshake_traffic_secret",
        0,
        "server_encrypted_flight_record",
        "server_encrypted_flight_payload",
        ContentType::HANDSHAKE,
    );
}

#[test]
fn client_finished_record() {
    open_and_reseal(
        "client_handshake_traffic_secret",
        0,
        "client_finished_record",
        "client_finished_payload",
        ContentType::HANDSHAKE,
    );
}

#[test]
fn server_new_session_ticket_record() {
    open_and_reseal(
        "server_application_traffic_secret",
        0,
        "server_new_session_ticket_record",
        "server_new_session_ticket_payload",
        ContentType::HANDSHAKE,
    );
}

#[test]
fn application_data_records() {
    open_and_reseal(
        "client_application_traffic_secret",
        0,
        "client_application_data_record",
        "application_data_payload",
        ContentType::APPLICATION_DATA,
    );
    open_and_reseal(
        "server_application_traffic_secret",
        1,
        "server_application_data_record",
        "application_data_payload",
        ContentType::APPLICATION_DATA,
    );
}

/// The same exchange through the engine: the server's `Connection`, built
/// from the published secrets, reads the client's record and writes the
/// trace's reply and close_notify byte for byte; the client does the
/// mirror image.
#[test]
fn engine_reproduces_application_records_and_close_notify() {
    let c_ap = v("client_application_traffic_secret");
    let s_ap = v("server_application_traffic_secret");
    let cfg = RecordConfig::default();
    let mut server = Connection::from_traffic_secrets(SUITE, &s_ap, &c_ap, cfg).unwrap();
    let mut client = Connection::from_traffic_secrets(SUITE, &c_ap, &s_ap, cfg).unwrap();
    // The server already sent its NewSessionTicket with sequence number 0.
    server.set_sequence_numbers(1, 0);
    client.set_sequence_numbers(0, 1);

    let mut sbufs = Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);
    let mut cbufs = Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);
    let payload = v("application_data_payload");

    // Client → server application data.
    assert_eq!(
        client.write(&mut cbufs, &payload).unwrap(),
        Status::Done(50)
    );
    assert_eq!(
        cbufs.send.pending(),
        &v("client_application_data_record")[..]
    );
    sbufs.recv.fill(&v("client_application_data_record"));
    let mut plain = [0u8; 100];
    assert_eq!(
        server.read(&mut sbufs, &mut plain).unwrap(),
        Status::Done(50)
    );
    assert_eq!(&plain[..50], &payload[..]);

    // Server → client application data.
    assert_eq!(
        server.write(&mut sbufs, &payload).unwrap(),
        Status::Done(50)
    );
    assert_eq!(
        sbufs.send.pending(),
        &v("server_application_data_record")[..]
    );
    sbufs.send.consume(72);

    // Both close_notify alerts.
    assert!(matches!(
        client.shutdown(&mut cbufs).unwrap(),
        Status::Done(_)
    ));
    assert_eq!(&cbufs.send.pending()[72..], &v("client_alert_record")[..]);
    assert!(matches!(
        server.shutdown(&mut sbufs).unwrap(),
        Status::Done(_)
    ));
    assert_eq!(sbufs.send.pending(), &v("server_alert_record")[..]);

    // And each side reads the other's close_notify as a clean close.
    sbufs.recv.fill(&v("client_alert_record"));
    assert_eq!(server.read(&mut sbufs, &mut plain).unwrap(), Status::Closed);
    cbufs.recv.fill(&v("server_application_data_record"));
    cbufs.recv.fill(&v("server_alert_record"));
    assert_eq!(
        client.read(&mut cbufs, &mut plain).unwrap(),
        Status::Done(50)
    );
    assert_eq!(client.read(&mut cbufs, &mut plain).unwrap(), Status::Closed);
}
