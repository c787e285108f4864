//! Hostile handshakes: what an attacker sends a server (and a client), each
//! with the alert RFC 8446 assigns and the typed error, and the engine's
//! memory fixed throughout (it has no heap to grow).

mod common;

use common::hello::{
    alert, client_hello, client_hello_records, ext, good_extensions, large_server, server_answer,
    server_answer_large, sni,
};
use common::tls::{client_config, p256_server_config, pair, side};
use tlspair::wire::HandshakeType;
use tlspair::{
    AlertDescription as AD, Connection, Error, InvalidMessage, PeerIncompatible, PeerMisbehaved,
    Status,
};

#[test]
fn the_baseline_client_hello_is_accepted() {
    let sc: &'static _ = Box::leak(Box::new(p256_server_config()));
    let mut s = side(Connection::server(sc, common::tls::now()).unwrap());
    s.bufs.recv.fill(&client_hello(&good_extensions()));
    assert_eq!(s.conn.handshake(&mut s.bufs).unwrap(), Status::WantRead);
    assert_eq!(s.bufs.send.pending()[0], 22, "a ServerHello went out");
}

#[test]
fn lengths_that_overrun_their_container() {
    // An extension claiming more than the block holds.
    let mut exts = good_extensions();
    exts.extend([0, 0x17, 0x10, 0]);
    let (e, wire) = server_answer(&client_hello(&exts));
    assert!(
        matches!(e, Error::InvalidMessage(InvalidMessage::Handshake(_))),
        "{e:?}"
    );
    assert_eq!(wire, alert(AD::DECODE_ERROR));
    // A key share claiming more than its extension.
    let mut bad = good_extensions();
    let at = bad.len() - 32 - 2;
    bad[at] = 0x7f;
    let (e, wire) = server_answer(&client_hello(&bad));
    assert!(
        matches!(e, Error::InvalidMessage(InvalidMessage::Handshake(_))),
        "{e:?}"
    );
    assert_eq!(wire, alert(AD::DECODE_ERROR));
}

#[test]
fn a_2_pow_24_handshake_length_claim_is_refused_on_its_header() {
    // Four bytes announce a 16 MiB ClientHello: refused at once, before
    // any of it arrives.
    let (e, wire) = server_answer(&[22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]);
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::HandshakeTooLarge {
            len: 0xff_ffff,
            max: 16 * 1024
        })
    );
    assert_eq!(wire, alert(AD::ILLEGAL_PARAMETER));
}

#[test]
fn thousands_of_extensions_and_duplicates() {
    // Thousands of unknown extensions, before and after the known ones,
    // with and without bodies, are skipped (RFC 8446 §4.2): the duplicate
    // check is linear, with no count limit below the syntax's.
    let mut many = Vec::new();
    for i in 0..1500u16 {
        many.extend(ext(0x4000 + i, &[]));
    }
    many.extend(good_extensions());
    for i in 0..1500u16 {
        many.extend(ext(0x8000 + i, &[i as u8; 3]));
    }
    let mut s = large_server();
    for rec in client_hello_records(&many) {
        assert_eq!(s.bufs.recv.fill(&rec), rec.len());
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
    }
    assert_eq!(s.bufs.send.pending()[0], 22, "a ServerHello went out");
    // A duplicate among thousands is still found, wherever it is.
    let mut late_dup = many.clone();
    late_dup.extend(ext(0x4000 + 1499, &[]));
    let (e, wire) = server_answer_large(&late_dup);
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::DuplicateExtension(
            tlspair::wire::ExtensionType(0x4000 + 1499)
        ))
    );
    assert_eq!(wire, alert(AD::ILLEGAL_PARAMETER));

    let mut dup = good_extensions();
    dup.extend(ext(10, &[0, 2, 0, 0x1d]));
    let (e, wire) = server_answer(&client_hello(&dup));
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::DuplicateExtension(
            tlspair::wire::ExtensionType::SUPPORTED_GROUPS
        ))
    );
    assert_eq!(wire, alert(AD::ILLEGAL_PARAMETER));
}

#[test]
fn empty_lists_and_missing_extensions() {
    // An empty supported_groups list.
    let exts = [
        ext(43, &[2, 3, 4]),
        ext(10, &[0, 0]),
        ext(13, &[0, 2, 4, 3]),
    ]
    .concat();
    let (e, wire) = server_answer(&client_hello(&exts));
    assert!(
        matches!(e, Error::InvalidMessage(InvalidMessage::Handshake(_))),
        "{e:?}"
    );
    assert_eq!(wire, alert(AD::DECODE_ERROR));
    // No supported_versions: not TLS 1.3.
    let (e, wire) = server_answer(&client_hello(&ext(10, &[0, 2, 0, 0x1d])));
    assert_eq!(e, Error::PeerIncompatible(PeerIncompatible::NotTls13));
    assert_eq!(wire, alert(AD::PROTOCOL_VERSION));
    // No key_share.
    let exts = [
        ext(43, &[2, 3, 4]),
        ext(10, &[0, 2, 0, 0x1d]),
        ext(13, &[0, 2, 4, 3]),
    ]
    .concat();
    let (e, wire) = server_answer(&client_hello(&exts));
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::MissingExtension(
            tlspair::wire::ExtensionType::KEY_SHARE
        ))
    );
    assert_eq!(wire, alert(AD::MISSING_EXTENSION));
    // An all-zero X25519 share.
    let mut zero = good_extensions();
    let n = zero.len();
    zero[n - 32..].fill(0);
    let (e, wire) = server_answer(&client_hello(&zero));
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter("key_share public value"))
    );
    assert_eq!(wire, alert(AD::ILLEGAL_PARAMETER));
}

#[test]
fn an_unexpected_message_in_every_server_state() {
    // Before the ClientHello: any other message.
    for ty in [2u8, 4, 8, 11, 13, 15, 20, 24] {
        let rec = [22, 3, 3, 0, 4, ty, 0, 0, 0];
        let (e, wire) = server_answer(&rec);
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(HandshakeType(ty))),
            "type {ty}"
        );
        assert_eq!(wire, alert(AD::UNEXPECTED_MESSAGE));
    }
    // Application data before the handshake is done.
    let (e, _) = server_answer(&[23, 3, 3, 0, 1, 0]);
    assert!(
        matches!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedContentType(_))
        ),
        "{e:?}"
    );
}

#[test]
fn an_unexpected_message_in_every_client_state() {
    // Right after the ClientHello: anything but a ServerHello.
    for ty in [1u8, 4, 8, 11, 13, 15, 20, 24] {
        let (mut c, _) = pair(client_config(), p256_server_config());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        c.bufs.send.consume(usize::MAX);
        c.bufs.recv.fill(&[22, 3, 3, 0, 4, ty, 0, 0, 0]);
        let e = c.conn.handshake(&mut c.bufs).unwrap_err();
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(HandshakeType(ty))),
            "type {ty}"
        );
        assert_eq!(c.bufs.send.pending(), &alert(AD::UNEXPECTED_MESSAGE)[..]);
    }
}

#[test]
fn a_flood_of_key_updates_is_cut_off() {
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    common::tls::complete(&mut c, &mut s).unwrap();
    // Each KeyUpdate makes the next one go out under a new key; the server
    // stops reading them after MAX_EMPTY_RECORDS in a row.
    for _ in 0..40 {
        c.conn.key_update(false);
        // An empty write flushes the KeyUpdate without data.
        let _ = c.conn.write(&mut c.bufs, &[]).unwrap();
    }
    common::transfer_all(&mut c, &mut s);
    assert_eq!(
        s.conn.read(&mut s.bufs, &mut [0u8; 8]).unwrap_err(),
        Error::PeerMisbehaved(PeerMisbehaved::TooManyEmptyRecords)
    );
}

/// Records a whole session's bytes in each direction (handshake, a little
/// data each way, close), delivered in one go at each step.
fn record_session() -> (Vec<u8>, Vec<u8>) {
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    let (mut up, mut down) = (Vec::new(), Vec::new());
    let mut step = |c: &mut common::Side, s: &mut common::Side| {
        up.extend_from_slice(c.bufs.send.pending());
        common::transfer_all(c, s);
        down.extend_from_slice(s.bufs.send.pending());
        common::transfer_all(s, c);
    };
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    step(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    step(&mut c, &mut s);
    let _ = c.conn.write(&mut c.bufs, b"request").unwrap();
    step(&mut c, &mut s);
    let _ = s.conn.read(&mut s.bufs, &mut [0u8; 64]).unwrap();
    let _ = s.conn.write(&mut s.bufs, b"response").unwrap();
    let _ = s.conn.shutdown(&mut s.bufs).unwrap();
    step(&mut c, &mut s);
    (up, down)
}

#[test]
fn transport_eof_inside_the_client_hello_is_truncation() {
    // The server gets the ClientHello cut at every offset, then EOF.
    let (mut c, _) = pair(client_config(), p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let hello = c.bufs.send.pending().to_vec();
    for cut in 0..hello.len() {
        let sc: &'static _ = Box::leak(Box::new(p256_server_config()));
        let mut s = side(Connection::server(sc, common::tls::now()).unwrap());
        s.bufs.recv.fill(&hello[..cut]);
        s.bufs.recv.set_eof();
        assert_eq!(
            s.conn.handshake(&mut s.bufs).unwrap_err(),
            Error::Truncated,
            "cut at {cut}"
        );
        assert_eq!(
            s.conn.read(&mut s.bufs, &mut [0u8; 8]).unwrap_err(),
            Error::Truncated
        );
    }
}

#[test]
fn transport_eof_at_every_point_of_a_live_session() {
    // One session, replayed to fresh peers is impossible (fresh keys), so
    // each cut runs its own session: the client's bytes to the server are
    // cut at `cut`, the server sees EOF there.
    let total = {
        let (up, _) = record_session();
        up.len()
    };
    for cut in (0..total).step_by(7) {
        let (mut c, mut s) = pair(client_config(), p256_server_config());
        let mut fed = 0usize;
        let mut result = None;
        for _ in 0..20 {
            let _ = c.conn.write(&mut c.bufs, b"request");
            let pending = c.bufs.send.pending().to_vec();
            let take = pending.len().min(cut - fed.min(cut));
            s.bufs.recv.fill(&pending[..take]);
            fed += take;
            c.bufs.send.consume(pending.len());
            if fed == cut {
                s.bufs.recv.set_eof();
            }
            if let Err(e) = s.conn.read(&mut s.bufs, &mut [0u8; 64]) {
                result = Some(e);
                break;
            }
            common::transfer_all(&mut s, &mut c);
        }
        match result {
            Some(Error::Truncated) => {}
            Some(other) => panic!("cut {cut}: {other:?}"),
            // The cut fell after all the client sent: the server got the
            // request; EOF without close_notify shows on the next read.
            None => {
                s.bufs.recv.set_eof();
                loop {
                    match s.conn.read(&mut s.bufs, &mut [0u8; 64]) {
                        Ok(Status::Done(_)) => continue,
                        Err(e) => {
                            assert_eq!(e, Error::Truncated, "cut {cut}");
                            break;
                        }
                        Ok(other) => panic!("cut {cut}: {other:?}"),
                    }
                }
            }
        }
    }
}

#[test]
fn server_names_that_are_not_host_names_are_unrecognized_name() {
    // RFC 6066 §3: LDH labels, no trailing dot. Review finding 10: before,
    // any ASCII passed, control characters included.
    let long_label = [b'a'; 64];
    let long_name = [b"a.".repeat(126).as_slice(), b"ab"].concat();
    for bad in [
        &b"bad\x01name"[..],
        b"localhost.",
        b".localhost",
        b"a..b",
        b"-leading.example",
        b"trailing-.example",
        b"under_score.example",
        b"sp ace",
        b"caf\xc3\xa9.example",
        &long_label,
        &long_name,
    ] {
        let (e, sent) = server_answer(&client_hello(&[good_extensions(), sni(bad)].concat()));
        assert_eq!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::BadServerName),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(sent, alert(AD::UNRECOGNIZED_NAME));
    }
    // Legal names of every shape go through.
    let longest = [
        b"a".repeat(63).as_slice(),
        b".",
        &b"b".repeat(63),
        b".",
        &b"c".repeat(63),
        b".",
        &b"d".repeat(61),
    ]
    .concat();
    assert_eq!(longest.len(), 253);
    for good in [
        &b"localhost"[..],
        b"LocalHost",
        b"a",
        b"xn--bcher-kva.example",
        b"1.2.3.4",
        b"a-b.c-d.example",
        &longest,
    ] {
        let sc: &'static _ = Box::leak(Box::new(p256_server_config()));
        let mut s = side(Connection::server(sc, common::tls::now()).unwrap());
        s.bufs
            .recv
            .fill(&client_hello(&[good_extensions(), sni(good)].concat()));
        assert_eq!(
            s.conn.handshake(&mut s.bufs).unwrap(),
            Status::WantRead,
            "{:?}",
            String::from_utf8_lossy(good)
        );
    }
}
