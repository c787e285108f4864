//! With `std` linked, a counting global allocator shows that `write`,
//! `read`, `read_in_place` and `shutdown` allocate nothing, at any size.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{transfer_all, Pair, Sizes};
use tlspair::record::MAX_RECORD_LEN;
use tlspair::{RecordConfig, Status, WriteMode, ALL_SUITES};

struct Counting;

thread_local! {
    // Counted per thread so the test harness's own threads do not interfere.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many heap allocations it made on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn counter_sees_an_allocation() {
    // The counter itself works: a Vec allocates.
    assert_eq!(
        allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))),
        1
    );
}

#[test]
fn write_read_and_shutdown_allocate_nothing() {
    for suite in ALL_SUITES {
        for mode in [WriteMode::Complete, WriteMode::Partial] {
            for size in [0usize, 1, 64, 1024, 16384, 100_000] {
                let mut cfg = RecordConfig::default();
                cfg.write_mode = mode;
                let mut p = Pair::with(
                    suite,
                    cfg,
                    cfg,
                    Sizes {
                        recv: MAX_RECORD_LEN,
                        send: 40_000,
                    },
                    Sizes::default(),
                );
                let data = vec![0x5au8; size];
                let mut dst = vec![0u8; 4096];
                let mut got = 0usize;
                let mut in_place_turn = false;
                let n = allocations_in(|| {
                    let mut off = 0;
                    loop {
                        if off < size {
                            if let Status::Done(n) = p
                                .client
                                .conn
                                .write(&mut p.client.bufs, &data[off..])
                                .unwrap()
                            {
                                off += n;
                            }
                        }
                        transfer_all(&mut p.client, &mut p.server);
                        loop {
                            in_place_turn = !in_place_turn;
                            let r = if in_place_turn {
                                p.server
                                    .conn
                                    .read_in_place(&mut p.server.bufs)
                                    .unwrap()
                                    .map(|s| s.len())
                            } else {
                                p.server.conn.read(&mut p.server.bufs, &mut dst).unwrap()
                            };
                            match r {
                                Status::Done(k) => {
                                    if in_place_turn {
                                        p.server.conn.consume(&mut p.server.bufs, k);
                                    }
                                    got += k;
                                }
                                _ => break,
                            }
                        }
                        if off == size && p.client.bufs.send.is_empty() {
                            break;
                        }
                    }
                    let _ = p.client.conn.shutdown(&mut p.client.bufs).unwrap();
                    transfer_all(&mut p.client, &mut p.server);
                    assert_eq!(
                        p.server.conn.read(&mut p.server.bufs, &mut dst).unwrap(),
                        Status::Closed
                    );
                });
                assert_eq!(got, size);
                assert_eq!(n, 0, "{suite:?} {mode:?} {size}: {n} allocations");
            }
        }
    }
}

#[test]
fn errors_allocate_nothing() {
    let mut p = Pair::new(&tlspair::TLS13_AES_128_GCM_SHA256);
    p.server.bufs.recv.fill(&[0x17, 0x03, 0x03, 0x00, 0x20]);
    p.server.bufs.recv.fill(&[0u8; 0x20]);
    let n = allocations_in(|| {
        assert!(p
            .server
            .conn
            .read(&mut p.server.bufs, &mut [0u8; 8])
            .is_err());
        assert!(p.server.conn.write(&mut p.server.bufs, b"x").is_err());
    });
    assert_eq!(n, 0);
}

#[test]
fn established_connection_is_at_most_2336_bytes() {
    // 2,336 today (16 for the verify_data of our last TLS 1.2 Finished and
    // the renegotiation count, which a secure renegotiation needs while
    // the handshake state runs), 2,320 before (32 for the TLS 1.2
    // client-authentication transcript
    // loan), 2,288 before (16 for the TLS 1.2 exporter's randoms), 2,272
    // before that: 2,032 until every SNI was kept whole (189 bytes), the
    // verifier's identity (16) and the peer chain storage (32) came in.
    let size = std::mem::size_of::<tlspair::Connection>();
    println!("size_of::<Connection>() = {size}");
    assert!(size <= 2336, "{size} bytes");
}

#[test]
fn a_whole_handshake_and_exchange_allocates_nothing() {
    use common::tls::{certified, client_config, server_config};
    use tlspair::test_credentials as creds;
    // Configurations and keys are built before counting: they are the
    // embedder's, made once. ECDSA and Ed25519 only: ring's RSA allocates.
    for cred in [
        &creds::SERVER_ECDSA_P256,
        &creds::SERVER_ECDSA_P384,
        &creds::SERVER_ED25519,
    ] {
        let cc: &'static _ = Box::leak(Box::new(client_config()));
        let sc: &'static _ = Box::leak(Box::new(server_config(&[certified(cred)])));
        let now = common::tls::now();
        let mut c =
            common::tls::side(tlspair::Connection::client(cc, Some("localhost"), now).unwrap());
        let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
        let mut buf = [0u8; 1024];
        let n = allocations_in(|| {
            common::tls::complete(&mut c, &mut s).unwrap();
            for _ in 0..10 {
                assert_eq!(
                    c.conn.write(&mut c.bufs, &[9u8; 1000]).unwrap(),
                    Status::Done(1000)
                );
                transfer_all(&mut c, &mut s);
                assert_eq!(
                    s.conn.read(&mut s.bufs, &mut buf).unwrap(),
                    Status::Done(1000)
                );
            }
            c.conn.key_update(true);
            assert_eq!(
                c.conn.write(&mut c.bufs, b"after").unwrap(),
                Status::Done(5)
            );
            transfer_all(&mut c, &mut s);
            assert_eq!(s.conn.read(&mut s.bufs, &mut buf).unwrap(), Status::Done(5));
            let _ = c.conn.shutdown(&mut c.bufs).unwrap();
            transfer_all(&mut c, &mut s);
            assert_eq!(s.conn.read(&mut s.bufs, &mut buf).unwrap(), Status::Closed);
        });
        assert_eq!(n, 0, "{cred:?}: {n} allocations");
    }
}

#[test]
fn a_hybrid_post_quantum_handshake_allocates_nothing() {
    use common::tls::{client_config, p256_server_config};
    use tlspair::wire::NamedGroup as G;
    for groups in [
        &[G::X25519MLKEM768, G::X25519][..],
        &[G::SECP256R1MLKEM768, G::SECP256R1][..],
    ] {
        let groups: &'static [G] = Box::leak(groups.to_vec().into_boxed_slice());
        let mut cc = client_config();
        cc.groups = groups;
        let mut sc = p256_server_config();
        sc.groups = groups;
        let (cc, sc): (&'static _, &'static _) = (Box::leak(Box::new(cc)), Box::leak(Box::new(sc)));
        let now = common::tls::now();
        let mut c =
            common::tls::side(tlspair::Connection::client(cc, Some("localhost"), now).unwrap());
        let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
        let n = allocations_in(|| common::tls::complete(&mut c, &mut s).unwrap());
        assert_eq!(n, 0, "{groups:?}: {n} allocations");
        assert_eq!(c.conn.negotiated().unwrap().group, Some(groups[0]));
    }
}

#[test]
fn sealing_in_place_and_vectored_writes_allocate_nothing() {
    let mut p = Pair::new(&tlspair::TLS13_CHACHA20_POLY1305_SHA256);
    let a = [1u8; 3000];
    let b = [2u8; 20_000];
    let mut buf = [0u8; 4096];
    let n = allocations_in(|| {
        if let Status::Done(room) = p.client.conn.reserve(&mut p.client.bufs, 1000).unwrap() {
            room.fill(9);
        }
        assert_eq!(
            p.client
                .conn
                .seal_reserved(&mut p.client.bufs, 1000)
                .unwrap(),
            1000
        );
        transfer_all(&mut p.client, &mut p.server);
        while let Status::Done(_) = p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap() {}
        loop {
            let status = p
                .client
                .conn
                .write_vectored(&mut p.client.bufs, &[&a, &b])
                .unwrap();
            transfer_all(&mut p.client, &mut p.server);
            while let Status::Done(_) = p.server.conn.read(&mut p.server.bufs, &mut buf).unwrap() {}
            if status == Status::Done(23_000) {
                break;
            }
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn tls12_client_authentication_with_lent_transcript_storage_allocates_nothing() {
    use common::tls::{certified, client_config, mtls_server_config};
    use tlspair::test_credentials as creds;
    for cred in [&creds::CLIENT_ECDSA_P256, &creds::CLIENT_ED25519] {
        let mut cc = client_config();
        cc.suites = &tlspair::TLS12_SUITES;
        cc.client_auth = Some(certified(cred));
        let mut sc = mtls_server_config();
        sc.suites = &tlspair::TLS12_SUITES;
        let (cc, sc): (&'static _, &'static _) = (Box::leak(Box::new(cc)), Box::leak(Box::new(sc)));
        let now = common::tls::now();
        let mut c =
            common::tls::side(tlspair::Connection::client(cc, Some("localhost"), now).unwrap());
        let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
        // Lent: the embedder's memory, made before counting.
        c.conn
            .keep_tls12_transcript(&mut Box::leak(Box::new([0u8; 8192]))[..]);
        s.conn
            .keep_tls12_transcript(&mut Box::leak(Box::new([0u8; 8192]))[..]);
        let n = allocations_in(|| common::tls::complete(&mut c, &mut s).unwrap());
        assert_eq!(n, 0, "{cred:?}: {n} allocations");
        assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    }
}

#[test]
fn early_data_allocates_nothing() {
    use common::tls::{client_config, p256_server_config};
    use tlspair::handshake::ticket::{NewTicket, StoredTicket, TicketKey, TicketSink};
    struct Keep(std::sync::Mutex<Option<StoredTicket>>);
    impl TicketSink for Keep {
        fn store(&self, t: &NewTicket<'_>) {
            let kept = StoredTicket::new(t, common::tls::now()).unwrap();
            *self.0.lock().unwrap() = Some(kept);
        }
    }
    let keep: &'static Keep = Box::leak(Box::new(Keep(std::sync::Mutex::new(None))));
    let mut cc = client_config();
    cc.ticket_sink = Some(keep);
    let keys: &'static [TicketKey] = Box::leak(Box::new([TicketKey::new(1, &[5; 32]).unwrap()]));
    let mut sc = p256_server_config();
    sc.ticket_keys = keys.into();
    let (cc, sc): (&'static _, &'static _) = (Box::leak(Box::new(cc)), Box::leak(Box::new(sc)));
    let now = common::tls::now();
    let mut c = common::tls::side(tlspair::Connection::client(cc, Some("localhost"), now).unwrap());
    let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
    common::tls::complete(&mut c, &mut s).unwrap();
    transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let stored = keep.0.lock().unwrap().take().unwrap();
    // An allowance our server does not give, so that 0-RTT is offered
    // (and declined: the records are skipped).
    let mut ticket = Box::leak(Box::new(stored)).resumption();
    ticket.max_early_data = 4096;
    let ticket: &'static _ = Box::leak(Box::new(ticket));
    let mut c = common::tls::side(
        tlspair::Connection::client_resuming(cc, Some("localhost"), now, ticket).unwrap(),
    );
    let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
    let n = allocations_in(|| {
        assert_eq!(
            c.conn.write_early(&mut c.bufs, &[3u8; 3000]).unwrap(),
            Status::Done(3000)
        );
        common::tls::complete(&mut c, &mut s).unwrap();
    });
    assert_eq!(n, 0, "{n} allocations");
    assert_eq!(c.conn.early_data(), tlspair::EarlyData::Rejected);

    // Taken: a server with a strike register reads it with read_early.
    let (cc, sc, store) = common::tls::early_data_configs(4096);
    let ticket = common::tls::first_ticket(cc, sc, store);
    let mut c = common::tls::side(
        tlspair::Connection::client_resuming(cc, Some("localhost"), now, ticket).unwrap(),
    );
    let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
    let mut got = [0u8; 4096];
    let n = allocations_in(|| {
        assert_eq!(
            c.conn.write_early(&mut c.bufs, &[3u8; 3000]).unwrap(),
            Status::Done(3000)
        );
        transfer_all(&mut c, &mut s);
        let mut read = 0;
        while let Ok(Status::Done(k)) = s.conn.read_early(&mut s.bufs, &mut got[read..]) {
            if k == 0 {
                break;
            }
            read += k;
        }
        assert_eq!(read, 3000);
        assert_eq!(
            s.conn.write(&mut s.bufs, b"0.5-RTT").unwrap(),
            Status::Done(7)
        );
        common::tls::complete(&mut c, &mut s).unwrap();
    });
    assert_eq!(n, 0, "{n} allocations");
    assert_eq!(c.conn.early_data(), tlspair::EarlyData::Accepted);
}

#[test]
fn post_handshake_authentication_allocates_nothing() {
    // A server asks, the client answers inside its read, the server
    // verifies: no allocation on either side.
    let mut cc = common::tls::client_config();
    cc.client_auth = Some(common::tls::certified(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
    ));
    cc.post_handshake_auth = 4;
    let mut sc = common::tls::mtls_server_config();
    sc.defer_client_auth = true;
    let (mut c, mut s) = common::tls::pair(cc, sc);
    common::tls::complete(&mut c, &mut s).unwrap();
    let now = common::tls::now();
    let mut buf = [0u8; 64];
    let n = allocations_in(|| {
        for _ in 0..4 {
            s.conn.request_client_auth(now).unwrap();
            assert_eq!(s.conn.write(&mut s.bufs, b"ask").unwrap(), Status::Done(3));
            transfer_all(&mut s, &mut c);
            assert_eq!(c.conn.read(&mut c.bufs, &mut buf).unwrap(), Status::Done(3));
            transfer_all(&mut c, &mut s);
            assert_eq!(
                s.conn.read(&mut s.bufs, &mut buf).unwrap(),
                Status::WantRead
            );
            assert_eq!(s.conn.client_auth_pending(), 0);
        }
    });
    assert_eq!(n, 0, "{n} allocations");
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
}

#[test]
fn renegotiation_allocates_nothing_and_the_connection_keeps_its_size() {
    // Three renegotiations, the server asking for the client's
    // certificate in the last, with data both ways between them: no
    // allocation on either side, and the connection is the size it was
    // (its size is its type's: nothing of a renegotiation stays outside).
    use common::tls::{certified, client_config, mtls_server_config};
    let mut cc = client_config();
    cc.suites = &tlspair::TLS12_SUITES;
    cc.renegotiations = 3;
    cc.client_auth = Some(certified(&tlspair::test_credentials::CLIENT_ECDSA_P256));
    let mut sc = mtls_server_config();
    sc.suites = &tlspair::TLS12_SUITES;
    sc.defer_tls12_client_auth = true;
    let (cc, sc): (&'static _, &'static _) = (Box::leak(Box::new(cc)), Box::leak(Box::new(sc)));
    let now = common::tls::now();
    let mut c = common::tls::side(tlspair::Connection::client(cc, Some("localhost"), now).unwrap());
    let mut s = common::tls::side(tlspair::Connection::server(sc, now).unwrap());
    c.conn
        .keep_tls12_transcript(&mut Box::leak(Box::new([0u8; 8192]))[..]);
    s.conn
        .keep_tls12_transcript(&mut Box::leak(Box::new([0u8; 8192]))[..]);
    common::tls::complete(&mut c, &mut s).unwrap();
    let mut buf = [0u8; 64];
    let n = allocations_in(|| {
        for round in 0..3 {
            assert_eq!(
                s.conn.renegotiate(&mut s.bufs, now, round == 2),
                Ok(Status::Done(()))
            );
            for _ in 0..8 {
                transfer_all(&mut s, &mut c);
                let _ = c.conn.read(&mut c.bufs, &mut buf).unwrap();
                transfer_all(&mut c, &mut s);
                let _ = s.conn.read(&mut s.bufs, &mut buf).unwrap();
            }
            assert!(!c.conn.is_renegotiating() && !s.conn.is_renegotiating());
            assert_eq!(c.conn.write(&mut c.bufs, b"ping"), Ok(Status::Done(4)));
            transfer_all(&mut c, &mut s);
            assert_eq!(s.conn.read(&mut s.bufs, &mut buf), Ok(Status::Done(4)));
        }
    });
    assert_eq!(n, 0, "{n} allocations");
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    assert!(std::mem::size_of_val(&c.conn) <= 2336);
}
