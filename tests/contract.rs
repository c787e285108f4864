//! One test per row of the SSL_write(3) contract table in docs/semantics.md.
//! Each test is named after its row; the table lists them.

mod common;

use common::{drain_read, open_alerts, transfer, transfer_all, Pair, Sizes, CLIENT_SECRET};
use tlspair::record::{MAX_PLAINTEXT, MAX_RECORD_LEN, RECORD_OVERHEAD};
use tlspair::{
    Buffers, Connection, Error, Misuse, RecordConfig, Shutdown, Status, WriteMode, ALL_SUITES,
    TLS13_AES_128_GCM_SHA256 as AES128,
};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn partial() -> RecordConfig {
    let mut cfg = RecordConfig::default();
    cfg.write_mode = WriteMode::Partial;
    cfg
}

/// Lengths of the records in `bytes`, from their headers.
fn record_lengths(mut bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    while let Some(h) = tlspair::record::Header::parse(bytes) {
        out.push(h.len);
        bytes = &bytes[5 + h.len..];
    }
    assert!(bytes.is_empty(), "trailing partial record");
    out
}

// Row: "SSL_write negotiates the handshake if not yet done". Until the
// handshake layer lands, a connection is built established from traffic
// secrets, so its first write carries data at once.
#[test]
fn established_connection_writes_data_at_once() {
    for suite in ALL_SUITES {
        let mut p = Pair::new(suite);
        assert_eq!(
            p.client.conn.write(&mut p.client.bufs, b"first").unwrap(),
            Status::Done(5)
        );
        transfer_all(&mut p.client, &mut p.server);
        let mut buf = [0u8; 8];
        assert_eq!(
            p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
            Status::Done(5)
        );
        assert_eq!(&buf[..5], b"first");
    }
}

// Row: "client or server mode must be set before the first read/write".
// The direction of each secret is fixed by the constructor: a connection
// built with the secrets swapped cannot read its peer.
#[test]
fn direction_is_fixed_by_the_constructor() {
    let s = &CLIENT_SECRET[..32];
    let other = [0x77u8; 32];
    let cfg = RecordConfig::default();
    let mut writer = Connection::from_traffic_secrets(&AES128, s, &other, cfg).unwrap();
    // Wrong: this reader uses `s` to send and `other` to receive.
    let mut reader = Connection::from_traffic_secrets(&AES128, s, &other, cfg).unwrap();
    let mut wb = Buffers::new(vec![0; MAX_RECORD_LEN], vec![0; MAX_RECORD_LEN]);
    let mut rb = Buffers::new(vec![0; MAX_RECORD_LEN], vec![0; MAX_RECORD_LEN]);
    assert_eq!(writer.write(&mut wb, b"x").unwrap(), Status::Done(1));
    rb.recv.fill(wb.send.pending());
    let err = reader.read(&mut rb, &mut [0; 4]).unwrap_err();
    assert_eq!(
        err,
        Error::PeerMisbehaved(tlspair::PeerMisbehaved::BadRecordMac)
    );
    // A wrong-length secret is refused at construction.
    assert!(matches!(
        Connection::from_traffic_secrets(&AES128, &[0; 31], &other, cfg),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
}

// Row: "a write can cause reads". An established connection's write never
// needs the peer: it never answers WantRead, even with nothing received.
#[test]
fn established_write_never_wants_read() {
    let mut p = Pair::new(&AES128);
    let data = pattern(100_000);
    let mut off = 0;
    while off < data.len() {
        match p
            .client
            .conn
            .write(&mut p.client.bufs, &data[off..])
            .unwrap()
        {
            Status::Done(n) => off += n,
            Status::WantWrite { .. } => {
                let n = p.client.bufs.send.len();
                p.client.bufs.send.consume(n);
            }
            other => panic!("write answered {other:?}"),
        }
    }
}

// Row: "non-blocking BIO: WANT_READ / WANT_WRITE, then repeat the call".
#[test]
fn want_read_until_a_whole_record_is_in() {
    let mut p = Pair::new(&AES128);
    let _ = p.client.conn.write(&mut p.client.bufs, b"hello").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::WantRead
    );
    // One byte at a time: WantRead until the last byte of the record.
    let total = p.client.bufs.send.len();
    for i in 0..total {
        assert_eq!(transfer(&mut p.client, &mut p.server, 1), 1);
        let status = p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap();
        if i + 1 < total {
            assert_eq!(status, Status::WantRead, "byte {i}");
        } else {
            assert_eq!(status, Status::Done(5));
        }
    }
    assert_eq!(&buf[..5], b"hello");
}

#[test]
fn want_write_when_the_outgoing_view_is_full_then_repeat() {
    let mut p = Pair::new(&AES128);
    let data = pattern(3 * MAX_PLAINTEXT);
    // The view holds one full record: the second needs the first drained.
    let first = p.client.conn.write(&mut p.client.bufs, &data).unwrap();
    let needed = MAX_PLAINTEXT + RECORD_OVERHEAD;
    assert_eq!(first, Status::WantWrite { needed });
    assert_eq!(p.client.conn.write_progress(), MAX_PLAINTEXT);
    // The same call again without draining changes nothing.
    assert_eq!(
        p.client.conn.write(&mut p.client.bufs, &data).unwrap(),
        first
    );
    assert_eq!(p.client.bufs.send.len(), needed);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 70_000];
    loop {
        transfer_all(&mut p.client, &mut p.server);
        drain_read(&mut p.server, &mut buf, &mut got);
        match p.client.conn.write(&mut p.client.bufs, &data).unwrap() {
            Status::Done(n) => {
                assert_eq!(n, data.len());
                break;
            }
            Status::WantWrite { needed: n } => assert_eq!(n, needed),
            other => panic!("{other:?}"),
        }
    }
    transfer_all(&mut p.client, &mut p.server);
    drain_read(&mut p.server, &mut buf, &mut got);
    assert_eq!(got, data);
}

// Row: "success only when all num bytes are written (default)".
#[test]
fn complete_write_succeeds_only_when_every_byte_is_sealed() {
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 10 * MAX_RECORD_LEN,
        },
        Sizes::default(),
    );
    let data = pattern(5 * MAX_PLAINTEXT + 123);
    assert_eq!(
        p.client.conn.write(&mut p.client.bufs, &data).unwrap(),
        Status::Done(data.len())
    );
    assert_eq!(p.client.conn.write_progress(), 0);
    assert_eq!(
        record_lengths(p.client.bufs.send.pending()),
        [vec![MAX_PLAINTEXT + 17; 5], vec![123 + 17]].concat()
    );
}

// Row: "SSL_MODE_ENABLE_PARTIAL_WRITE: success after one record".
#[test]
fn partial_write_succeeds_after_one_record() {
    let mut p = Pair::with(
        &AES128,
        partial(),
        partial(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 4 * MAX_RECORD_LEN,
        },
        Sizes::default(),
    );
    let data = pattern(2 * MAX_PLAINTEXT + 10);
    let w = |p: &mut Pair, d: &[u8]| p.client.conn.write(&mut p.client.bufs, d).unwrap();
    assert_eq!(w(&mut p, &data), Status::Done(MAX_PLAINTEXT));
    assert_eq!(
        w(&mut p, &data[MAX_PLAINTEXT..]),
        Status::Done(MAX_PLAINTEXT)
    );
    assert_eq!(w(&mut p, &data[2 * MAX_PLAINTEXT..]), Status::Done(10));
    assert_eq!(record_lengths(p.client.bufs.send.pending()).len(), 3);
    // Switching modes at run time, as SSL_set_mode does.
    p.client.conn.set_write_mode(WriteMode::Complete);
    assert_eq!(
        w(&mut p, &data[..MAX_PLAINTEXT + 1]),
        Status::Done(MAX_PLAINTEXT + 1)
    );
}

// Row: "a partial write is one message block, 16 kB".
#[test]
fn records_carry_at_most_16_kib() {
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 1 << 20,
        },
        Sizes::default(),
    );
    let _ = p
        .client
        .conn
        .write(&mut p.client.bufs, &pattern(200_000))
        .unwrap();
    let lens = record_lengths(p.client.bufs.send.pending());
    assert!(lens.iter().all(|&l| l <= MAX_PLAINTEXT + 17));
    assert_eq!(lens.iter().map(|l| l - 17).sum::<usize>(), 200_000);
}

#[test]
fn records_shrink_to_a_configured_fragment_length() {
    let mut cfg = RecordConfig::default();
    cfg.max_fragment_len = 512;
    let mut p = Pair::with(
        &AES128,
        cfg,
        cfg,
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 1 << 16,
        },
        Sizes::default(),
    );
    assert_eq!(
        p.client
            .conn
            .write(&mut p.client.bufs, &pattern(2000))
            .unwrap(),
        Status::Done(2000)
    );
    assert_eq!(
        record_lengths(p.client.bufs.send.pending()),
        vec![529, 529, 529, 481]
    );
}

#[test]
fn records_shrink_to_fit_a_small_outgoing_view() {
    for cap in [tlspair::record::MIN_SEND_CAPACITY, 100, 4096] {
        let mut p = Pair::with(
            &AES128,
            RecordConfig::default(),
            RecordConfig::default(),
            Sizes {
                recv: MAX_RECORD_LEN,
                send: cap,
            },
            Sizes::default(),
        );
        let data = pattern(10_000);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 20_000];
        loop {
            match p.client.conn.write(&mut p.client.bufs, &data).unwrap() {
                Status::Done(n) => {
                    assert_eq!(n, data.len());
                    break;
                }
                Status::WantWrite { needed } => {
                    assert!(needed <= cap, "needed {needed} > capacity {cap}")
                }
                other => panic!("{other:?}"),
            }
            assert!(record_lengths(p.client.bufs.send.pending())
                .iter()
                .all(|&l| l + 5 <= cap));
            transfer_all(&mut p.client, &mut p.server);
            drain_read(&mut p.server, &mut buf, &mut got);
        }
        transfer_all(&mut p.client, &mut p.server);
        drain_read(&mut p.server, &mut buf, &mut got);
        assert_eq!(got, data, "capacity {cap}");
    }
    // Below the smallest record, the call is refused and nothing changes.
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 26,
        },
        Sizes::default(),
    );
    assert_eq!(
        p.client.conn.write(&mut p.client.bufs, b"x").unwrap_err(),
        Error::Misuse(Misuse::SendBufferTooSmall { needed: 27 })
    );
    assert!(p.client.conn.error().is_none());
}

// Row: "after WANT_*, repeat with the same arguments".
#[test]
fn retry_with_a_moved_buffer_continues_where_it_stopped() {
    let mut p = Pair::new(&AES128);
    let data = pattern(40_000);
    assert!(matches!(
        p.client.conn.write(&mut p.client.bufs, &data).unwrap(),
        Status::WantWrite { .. }
    ));
    let moved = data.clone(); // same bytes, another address
    let mut got = Vec::new();
    let mut buf = vec![0u8; 50_000];
    loop {
        transfer_all(&mut p.client, &mut p.server);
        drain_read(&mut p.server, &mut buf, &mut got);
        if let Status::Done(n) = p.client.conn.write(&mut p.client.bufs, &moved).unwrap() {
            assert_eq!(n, moved.len());
            break;
        }
    }
    transfer_all(&mut p.client, &mut p.server);
    drain_read(&mut p.server, &mut buf, &mut got);
    assert_eq!(got, data);
}

#[test]
fn retry_with_fewer_bytes_than_sealed_is_bad_write_retry_and_loses_nothing() {
    let mut p = Pair::new(&AES128);
    let data = pattern(40_000);
    assert!(matches!(
        p.client.conn.write(&mut p.client.bufs, &data).unwrap(),
        Status::WantWrite { .. }
    ));
    let sealed = p.client.conn.write_progress();
    assert_eq!(sealed, MAX_PLAINTEXT);
    let pending_before = p.client.bufs.send.pending().to_vec();
    assert_eq!(
        p.client
            .conn
            .write(&mut p.client.bufs, &data[..100])
            .unwrap_err(),
        Error::Misuse(Misuse::BadWriteRetry {
            sealed,
            offered: 100
        })
    );
    // Nothing lost, nothing emitted, the connection is still usable.
    assert_eq!(p.client.bufs.send.pending(), &pending_before[..]);
    assert_eq!(p.client.conn.write_progress(), sealed);
    assert!(p.client.conn.error().is_none());
    // An empty retry is also fewer bytes than sealed.
    assert!(matches!(
        p.client.conn.write(&mut p.client.bufs, &[]).unwrap_err(),
        Error::Misuse(Misuse::BadWriteRetry { offered: 0, .. })
    ));
    let mut got = Vec::new();
    let mut buf = vec![0u8; 50_000];
    loop {
        transfer_all(&mut p.client, &mut p.server);
        drain_read(&mut p.server, &mut buf, &mut got);
        if let Status::Done(_) = p.client.conn.write(&mut p.client.bufs, &data).unwrap() {
            break;
        }
    }
    transfer_all(&mut p.client, &mut p.server);
    drain_read(&mut p.server, &mut buf, &mut got);
    assert_eq!(got, data);
}

#[test]
fn retry_with_other_bytes_is_bad_write_retry_and_splices_nothing() {
    // Another buffer (what an embedder who reused the slot passes), or the
    // same bytes changed at the start or at the end of the sealed prefix,
    // where a splice would show: refused, nothing of it sealed. The check
    // samples the prefix (at most 80 bytes read, whatever its length), so
    // a lone change between the samples is not the claim. The vectored
    // form is checked the same way.
    let sealed_len = MAX_PLAINTEXT;
    for at in [0, 1, 31, sealed_len - 32, sealed_len - 1] {
        for vectored in [false, true] {
            let mut p = Pair::new(&AES128);
            let data = pattern(40_000);
            assert!(matches!(
                p.client.conn.write(&mut p.client.bufs, &data).unwrap(),
                Status::WantWrite { .. }
            ));
            let sealed = p.client.conn.write_progress();
            assert_eq!(sealed, sealed_len);
            let pending_before = p.client.bufs.send.pending().to_vec();
            let mut other = data.clone();
            other[at] ^= 0x80;
            let foreign: Vec<u8> = data.iter().map(|b| b.wrapping_add(1)).collect();
            for retry in [&other, &foreign] {
                let result = if vectored {
                    let (a, b) = retry.split_at(retry.len() / 3);
                    p.client.conn.write_vectored(&mut p.client.bufs, &[a, b])
                } else {
                    p.client.conn.write(&mut p.client.bufs, retry)
                };
                assert_eq!(
                    result.unwrap_err(),
                    Error::Misuse(Misuse::BadWriteRetry {
                        sealed,
                        offered: retry.len()
                    }),
                    "byte {at} changed, vectored {vectored}"
                );
                assert_eq!(p.client.bufs.send.pending(), &pending_before[..]);
                assert_eq!(p.client.conn.write_progress(), sealed);
                assert!(p.client.conn.error().is_none());
            }
            // The real retry still completes the stream, unspliced.
            let mut got = Vec::new();
            let mut buf = vec![0u8; 50_000];
            loop {
                transfer_all(&mut p.client, &mut p.server);
                drain_read(&mut p.server, &mut buf, &mut got);
                if let Status::Done(_) = p.client.conn.write(&mut p.client.bufs, &data).unwrap() {
                    break;
                }
            }
            transfer_all(&mut p.client, &mut p.server);
            drain_read(&mut p.server, &mut buf, &mut got);
            assert_eq!(got, data);
        }
    }
}

#[test]
fn a_received_view_moved_to_other_storage_mid_record_carries_on() {
    // A large view for the handshake, then the unconsumed bytes (half a
    // record, and a record whose plaintext is opened in place) move to a
    // record-sized one: the stream reads on unchanged.
    let mut p = Pair::new(&AES128);
    let data = pattern(50_000);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1000];
    assert_eq!(
        p.client
            .conn
            .write(&mut p.client.bufs, &data[..16_000])
            .unwrap(),
        Status::Done(16_000)
    );
    let sent = p.client.bufs.send.pending().to_vec();
    p.client.bufs.send.consume(sent.len());
    // Half of the record, then open it partly.
    p.server.bufs.recv.fill(&sent[..sent.len() / 2]);
    let placeholder = tlspair::RecvBuf::new(Vec::new());
    let old = std::mem::replace(&mut p.server.bufs.recv, placeholder);
    let (moved, _) = old.move_to(vec![0u8; MAX_RECORD_LEN]).unwrap();
    p.server.bufs.recv = moved;
    p.server.bufs.recv.fill(&sent[sent.len() / 2..]);
    if let Status::Done(n) = p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap() {
        got.extend_from_slice(&buf[..n]);
    }
    // Plaintext now opened in place at the front: move again, mid-record.
    let old = std::mem::replace(&mut p.server.bufs.recv, tlspair::RecvBuf::new(Vec::new()));
    let (moved, _) = old.move_to(vec![0u8; MAX_RECORD_LEN + 7]).unwrap();
    p.server.bufs.recv = moved;
    // Too small a storage: refused, nothing lost.
    let old = std::mem::replace(&mut p.server.bufs.recv, tlspair::RecvBuf::new(Vec::new()));
    let (back, _) = old.move_to(vec![0u8; 10]).unwrap_err();
    p.server.bufs.recv = back;
    drain_read(&mut p.server, &mut buf, &mut got);
    assert_eq!(got, &data[..16_000]);
    let rest = common::send_and_receive(&mut p.client, &mut p.server, &data[16_000..]);
    assert_eq!(rest, &data[16_000..]);
}

// Row: "num = 0: behaviour undefined".
#[test]
fn zero_length_write_returns_zero_and_emits_nothing() {
    for mode in [RecordConfig::default(), partial()] {
        let mut p = Pair::with(&AES128, mode, mode, Sizes::default(), Sizes::default());
        assert_eq!(
            p.client.conn.write(&mut p.client.bufs, &[]).unwrap(),
            Status::Done(0)
        );
        assert!(p.client.bufs.send.is_empty());
        // The peer sees nothing either, and an empty read buffer reads 0.
        assert_eq!(
            p.server.conn.read(&mut p.server.bufs, &mut []).unwrap(),
            Status::Done(0)
        );
    }
}

// Row: "return value > 0 or <= 0 plus SSL_get_error". Every outcome is a
// variant of one type; this checks each can occur and is told apart.
#[test]
fn outcomes_are_one_typed_result() {
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 100,
        },
        Sizes::default(),
    );
    let mut seen = [false; 5];
    let mut mark = |r: Result<Status<usize>, Error>| match r {
        Ok(Status::Done(_)) => seen[0] = true,
        Ok(Status::WantRead) => seen[1] = true,
        Ok(Status::WantWrite { .. }) => seen[2] = true,
        Ok(Status::Closed) => seen[3] = true,
        Ok(other) => panic!("no signer here, so no {other:?}"),
        Err(_) => seen[4] = true,
    };
    mark(p.client.conn.write(&mut p.client.bufs, &[1; 50]));
    mark(p.client.conn.write(&mut p.client.bufs, &[1; 50]));
    mark(p.server.conn.read(&mut p.server.bufs, &mut [0; 10]));
    transfer_all(&mut p.client, &mut p.server);
    p.client.bufs.send.consume(usize::MAX);
    let _ = p.client.conn.shutdown(&mut p.client.bufs).unwrap();
    transfer_all(&mut p.client, &mut p.server);
    let mut buf = [0u8; 100];
    mark(p.server.conn.read(&mut p.server.bufs, &mut buf));
    mark(p.server.conn.read(&mut p.server.bufs, &mut buf));
    mark(p.client.conn.write(&mut p.client.bufs, &[1]));
    assert_eq!(seen, [true; 5]);
}

// Row: "SSLv2 cannot tell why a connection closed": the three reasons.
#[test]
fn clean_close_is_reported_as_closed() {
    let mut p = Pair::new(&AES128);
    let _ = p
        .client
        .conn
        .write(&mut p.client.bufs, b"last words")
        .unwrap();
    assert_eq!(
        p.client.conn.shutdown(&mut p.client.bufs).unwrap(),
        Status::Done(Shutdown::Sent)
    );
    assert_eq!(
        p.client
            .conn
            .write(&mut p.client.bufs, b"more")
            .unwrap_err(),
        Error::Misuse(Misuse::WriteAfterShutdown)
    );
    transfer_all(&mut p.client, &mut p.server);
    p.server.bufs.recv.set_eof();
    let mut buf = [0u8; 64];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(10)
    );
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    assert!(p.server.conn.peer_closed());
    // The server can still write (half-close), then close too.
    assert_eq!(
        p.server.conn.write(&mut p.server.bufs, b"bye").unwrap(),
        Status::Done(3)
    );
    assert_eq!(
        p.server.conn.shutdown(&mut p.server.bufs).unwrap(),
        Status::Done(Shutdown::Complete)
    );
    transfer_all(&mut p.server, &mut p.client);
    assert_eq!(
        p.client.conn.read(&mut p.client.bufs, &mut buf).unwrap(),
        Status::Done(3)
    );
    assert_eq!(
        p.client.conn.read(&mut p.client.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    assert_eq!(
        p.client.conn.shutdown(&mut p.client.bufs).unwrap(),
        Status::Done(Shutdown::Complete)
    );
}

#[test]
fn transport_eof_without_close_notify_is_truncation() {
    // At a record boundary, and in the middle of a record.
    for cut in [0usize, 7] {
        let mut p = Pair::new(&AES128);
        let _ = p.client.conn.write(&mut p.client.bufs, b"data").unwrap();
        transfer_all(&mut p.client, &mut p.server);
        let _ = p
            .client
            .conn
            .write(&mut p.client.bufs, b"cut short")
            .unwrap();
        transfer(&mut p.client, &mut p.server, cut);
        p.server.bufs.recv.set_eof();
        let mut buf = [0u8; 64];
        assert_eq!(
            p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
            Status::Done(4)
        );
        assert_eq!(
            p.server
                .conn
                .read(&mut p.server.bufs, &mut buf)
                .unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            p.server
                .conn
                .read(&mut p.server.bufs, &mut buf)
                .unwrap_err(),
            Error::Truncated
        );
        // No alert goes to a transport that is gone.
        assert!(p.server.bufs.send.is_empty());
    }
}

#[test]
fn fatal_alert_is_reported_with_its_description() {
    let mut p = Pair::new(&AES128);
    // The client breaks the protocol: a record with a bad tag.
    let _ = p.client.conn.write(&mut p.client.bufs, b"x").unwrap();
    let mut rec = p.client.bufs.send.pending().to_vec();
    p.client.bufs.send.consume(usize::MAX);
    *rec.last_mut().unwrap() ^= 1;
    p.server.bufs.recv.fill(&rec);
    let mut buf = [0u8; 8];
    assert!(p.server.conn.read(&mut p.server.bufs, &mut buf).is_err());
    let alerts = open_alerts(
        &AES128,
        &common::SERVER_SECRET[..32],
        0,
        p.server.bufs.send.pending(),
    );
    assert_eq!(alerts, vec![(2, 20)]);
    // The server's bad_record_mac reaches the client as that description.
    transfer_all(&mut p.server, &mut p.client);
    assert_eq!(
        p.client
            .conn
            .read(&mut p.client.bufs, &mut buf)
            .unwrap_err(),
        Error::AlertReceived(tlspair::AlertDescription::BAD_RECORD_MAC)
    );
    // Receiving a fatal alert sends none back, and the error is sticky.
    assert!(p.client.bufs.send.is_empty());
    assert_eq!(
        p.client.conn.write(&mut p.client.bufs, b"y").unwrap_err(),
        Error::AlertReceived(tlspair::AlertDescription::BAD_RECORD_MAC)
    );
    assert!(p.client.bufs.send.is_empty());
}

// The zero-copy read the buffer model promises.
#[test]
fn read_in_place_lends_the_plaintext_where_it_was_received() {
    let mut p = Pair::new(&AES128);
    let _ = p
        .client
        .conn
        .write(&mut p.client.bufs, b"in place please")
        .unwrap();
    transfer_all(&mut p.client, &mut p.server);
    let storage = p.server.bufs.recv.spare_mut().as_ptr() as usize; // after the record
    let plain = match p.server.conn.read_in_place(&mut p.server.bufs).unwrap() {
        Status::Done(plain) => plain,
        other => panic!("{other:?}"),
    };
    assert_eq!(plain, b"in place please");
    // The slice lies inside the received view: no copy was made.
    let at = plain.as_ptr() as usize;
    assert!(at < storage && at + 15 <= storage);
    p.server.conn.consume(&mut p.server.bufs, 3);
    match p.server.conn.read_in_place(&mut p.server.bufs).unwrap() {
        Status::Done(rest) => assert_eq!(rest, b"place please"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.server.conn.pending_plaintext(), 12);
    p.server.conn.consume(&mut p.server.bufs, 100);
    assert_eq!(p.server.conn.pending_plaintext(), 0);
    assert!(p.server.bufs.recv.is_empty());
    assert_eq!(
        p.server.conn.read_in_place(&mut p.server.bufs).unwrap(),
        Status::WantRead
    );
}

// Reading spans records until the caller's buffer is full.
#[test]
fn read_fills_across_records_and_keeps_the_rest() {
    let mut p = Pair::with(
        &AES128,
        partial(),
        partial(),
        Sizes {
            recv: 1 << 16,
            send: 1 << 16,
        },
        Sizes {
            recv: 1 << 16,
            send: MAX_RECORD_LEN,
        },
    );
    for chunk in [b"abc".as_slice(), b"defg", b"hij"] {
        let _ = p.client.conn.write(&mut p.client.bufs, chunk).unwrap();
    }
    transfer_all(&mut p.client, &mut p.server);
    let mut buf = [0u8; 5];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(5)
    );
    assert_eq!(&buf, b"abcde");
    assert_eq!(p.server.conn.pending_plaintext(), 2);
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(5)
    );
    assert_eq!(&buf, b"fghij");
}

#[test]
fn every_suite_carries_data_both_ways() {
    for suite in ALL_SUITES {
        let mut p = Pair::new(suite);
        let up = pattern(70_000);
        assert_eq!(
            common::send_and_receive(&mut p.client, &mut p.server, &up),
            up
        );
        let down = pattern(33_333);
        assert_eq!(
            common::send_and_receive(&mut p.server, &mut p.client, &down),
            down
        );
    }
}

// The zero-copy write: room lent in the outgoing view, sealed in place.
#[test]
fn reserve_then_seal_in_place_copies_nothing() {
    let mut p = Pair::new(&AES128);
    let storage = p.client.bufs.send.pending().as_ptr() as usize;
    let room = match p.client.conn.reserve(&mut p.client.bufs, 100_000).unwrap() {
        Status::Done(room) => room,
        other => panic!("{other:?}"),
    };
    // One record's worth at most, inside the caller's outgoing buffer.
    assert_eq!(room.len(), MAX_PLAINTEXT);
    let at = room.as_ptr() as usize;
    assert!(at >= storage && at < storage + MAX_RECORD_LEN);
    room[..5].copy_from_slice(b"hello");
    assert_eq!(
        p.client.conn.seal_reserved(&mut p.client.bufs, 5).unwrap(),
        5
    );
    assert_eq!(record_lengths(p.client.bufs.send.pending()), [5 + 17]);
    transfer_all(&mut p.client, &mut p.server);
    let mut buf = [0u8; 16];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(5)
    );
    assert_eq!(&buf[..5], b"hello");
    // Without a reservation, or asking for more than was lent: refused,
    // nothing sealed.
    assert_eq!(
        p.client
            .conn
            .seal_reserved(&mut p.client.bufs, 1)
            .unwrap_err(),
        Error::Misuse(Misuse::NoReservation)
    );
    let _ = p.client.conn.reserve(&mut p.client.bufs, 10).unwrap();
    assert_eq!(
        p.client
            .conn
            .seal_reserved(&mut p.client.bufs, 11)
            .unwrap_err(),
        Error::Misuse(Misuse::NoReservation)
    );
    assert!(p.client.bufs.send.is_empty());
}

#[test]
fn draining_while_reserved_keeps_the_room() {
    let mut p = Pair::new(&AES128);
    let _ = p.client.conn.write(&mut p.client.bufs, b"first").unwrap();
    if let Status::Done(room) = p.client.conn.reserve(&mut p.client.bufs, 6).unwrap() {
        room.copy_from_slice(b"second");
    }
    // The caller sends what was pending: the cursors meet but the lent
    // room stays where it is.
    transfer_all(&mut p.client, &mut p.server);
    assert_eq!(
        p.client.conn.seal_reserved(&mut p.client.bufs, 6).unwrap(),
        6
    );
    transfer_all(&mut p.client, &mut p.server);
    let mut buf = [0u8; 32];
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Done(11)
    );
    assert_eq!(&buf[..11], b"firstsecond");
}

#[test]
fn a_record_placed_meanwhile_ends_the_reservation() {
    let mut p = Pair::new(&AES128);
    let _ = p.client.conn.reserve(&mut p.client.bufs, 10).unwrap();
    // Another write takes the room.
    let _ = p.client.conn.write(&mut p.client.bufs, b"x").unwrap();
    assert_eq!(
        p.client
            .conn
            .seal_reserved(&mut p.client.bufs, 3)
            .unwrap_err(),
        Error::Misuse(Misuse::NoReservation)
    );
    assert_eq!(record_lengths(p.client.bufs.send.pending()), [1 + 17]);
}

#[test]
fn vectored_write_fills_records_across_slices() {
    for mode in [RecordConfig::default(), partial()] {
        let mut p = Pair::with(
            &AES128,
            mode,
            mode,
            Sizes {
                recv: MAX_RECORD_LEN,
                send: 3 * MAX_RECORD_LEN,
            },
            Sizes::default(),
        );
        let a = pattern(10_000);
        let b = vec![7u8; 9_000];
        let c = pattern(20);
        let parts: [&[u8]; 4] = [&a, &[], &b, &c];
        let total = a.len() + b.len() + c.len();
        let mut done = 0;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 40_000];
        while done < total {
            // Partial mode: a new call for what is left, sliced again.
            let rest: Vec<u8> = parts.concat()[done..].to_vec();
            let status = if mode.write_mode == WriteMode::Partial {
                let (x, y) = rest.split_at(rest.len() / 2);
                p.client
                    .conn
                    .write_vectored(&mut p.client.bufs, &[x, y])
                    .unwrap()
            } else {
                p.client
                    .conn
                    .write_vectored(&mut p.client.bufs, &parts)
                    .unwrap()
            };
            if let Status::Done(n) = status {
                done += n;
            }
            transfer_all(&mut p.client, &mut p.server);
            drain_read(&mut p.server, &mut buf, &mut got);
        }
        while !p.client.bufs.send.is_empty() {
            transfer_all(&mut p.client, &mut p.server);
            drain_read(&mut p.server, &mut buf, &mut got);
        }
        let want = parts.concat();
        let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
        assert!(
            got == want,
            "{:?}: {} of {} bytes, first difference at {first_diff:?}",
            mode.write_mode,
            got.len(),
            want.len()
        );
        if mode.write_mode == WriteMode::Complete {
            // Records are full across the slice boundaries: 19,020 bytes
            // make one 16 KiB record and the rest.
            assert_eq!(done, total);
        }
    }
}

#[test]
fn wants_write_and_is_finished_answer_for_what_the_engine_queued() {
    // A KeyUpdate asked for: queued, then written by any call with room.
    let mut p = Pair::new(&AES128);
    assert!(!p.client.conn.wants_write(&p.client.bufs));
    p.client.conn.key_update(false);
    assert!(
        p.client.conn.wants_write(&p.client.bufs),
        "a queued KeyUpdate"
    );
    let mut buf = [0u8; 16];
    let _ = p.client.conn.read(&mut p.client.bufs, &mut buf).unwrap();
    assert!(!p.client.bufs.send.is_empty(), "written");
    assert!(p.client.conn.wants_write(&p.client.bufs), "bytes to send");
    transfer_all(&mut p.client, &mut p.server);
    assert!(!p.client.conn.wants_write(&p.client.bufs));

    // An alert with no room for it: queued until the view drains.
    let mut p = Pair::with(
        &AES128,
        RecordConfig::default(),
        RecordConfig::default(),
        Sizes::default(),
        Sizes {
            recv: MAX_RECORD_LEN,
            send: 40,
        },
    );
    let garbage = [
        23u8, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ];
    // A 10-byte record (32 bytes) leaves no room for a 24-byte alert.
    assert_eq!(
        p.server
            .conn
            .write(&mut p.server.bufs, b"0123456789")
            .unwrap(),
        Status::Done(10)
    );
    let held = p.server.bufs.send.len();
    assert_eq!(p.server.bufs.recv.fill(&garbage), garbage.len());
    assert!(p.server.conn.read(&mut p.server.bufs, &mut buf).is_err());
    assert!(p.server.conn.alert_pending());
    p.server.bufs.send.consume(held);
    assert!(
        p.server.conn.wants_write(&p.server.bufs),
        "the alert, queued"
    );
    assert!(
        !p.server.conn.is_finished(&p.server.bufs),
        "its alert is not out"
    );
    let _ = p.server.conn.read(&mut p.server.bufs, &mut buf);
    assert!(!p.server.bufs.send.is_empty(), "the alert, written");
    p.server.bufs.send.consume(p.server.bufs.send.len());
    assert!(p.server.conn.is_finished(&p.server.bufs));

    // Both close_notify exchanged and sent: finished.
    let mut p = Pair::new(&AES128);
    let _ = p.client.conn.shutdown(&mut p.client.bufs).unwrap();
    assert!(
        !p.client.conn.is_finished(&p.client.bufs),
        "ours sent, theirs not"
    );
    transfer_all(&mut p.client, &mut p.server);
    assert_eq!(
        p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    let _ = p.server.conn.shutdown(&mut p.server.bufs).unwrap();
    assert!(
        !p.server.conn.is_finished(&p.server.bufs),
        "its close_notify is not out"
    );
    transfer_all(&mut p.server, &mut p.client);
    assert!(p.server.conn.is_finished(&p.server.bufs));
    assert_eq!(
        p.client.conn.read(&mut p.client.bufs, &mut buf).unwrap(),
        Status::Closed
    );
    assert!(p.client.conn.is_finished(&p.client.bufs));
}

#[test]
fn handshake_writes_a_queued_key_update_once_established() {
    // wants_write says any call with room writes what is queued: handshake
    // too, after the handshake. Failed before (handshake returned Done and
    // left the KeyUpdate queued, so a loop calling it would spin).
    let mut p = Pair::new(&AES128);
    p.client.conn.key_update(true);
    assert!(p.client.conn.wants_write(&p.client.bufs));
    assert_eq!(
        p.client.conn.handshake(&mut p.client.bufs).unwrap(),
        Status::Done(())
    );
    assert!(!p.client.bufs.send.is_empty(), "the KeyUpdate, written");
    transfer_all(&mut p.client, &mut p.server);
    assert!(!p.client.conn.wants_write(&p.client.bufs));
    let got = common::send_and_receive(&mut p.client, &mut p.server, b"after the update");
    assert_eq!(got, b"after the update");
}
