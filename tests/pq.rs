//! The hybrid post-quantum groups of draft-ietf-tls-ecdhe-mlkem:
//! X25519MLKEM768 and SecP256r1MLKEM768, in both roles.
//!
//! - The ML-KEM half (RustCrypto's `ml-kem`) against an independent FIPS
//!   203 implementation (libcrux's, formally verified), key for key: the
//!   encapsulation key our client derives from its seed (d, z), the
//!   ciphertext and secret our server makes with a given m, and libcrux's
//!   own check of the key (the modulus check) against ours.
//! - Handshakes between our client and server: the hybrid when both have
//!   it, the classical share beside it when the server has not (no round
//!   trip), a HelloRetryRequest when the client lists a hybrid the server
//!   prefers without sending its share.
//! - NIST ACVP vectors (tests/data/acvp-ml-kem-768.txt) for key generation
//!   from the seed, encapsulation and decapsulation (one implicit rejection).
//! - Sessions with rustls on aws-lc-rs replayed byte for byte
//!   (tests/data/pq_rustls_*.txt).
//! - A share that is not an ML-KEM key (the FIPS 203 modulus check) or has
//!   the wrong length is illegal_parameter.

mod common;

use common::tls::{self, client_config, complete, outcome, p256_server_config, pair, side};
use common::transfer_all;
use libcrux_ml_kem::mlkem768 as libcrux;
#[allow(deprecated)]
use ring::test::rand::FixedSliceSequenceRandom;
use tlspair::handshake::kx::{self, KeyExchange};
use tlspair::test_credentials as creds;
use tlspair::wire::NamedGroup;
use tlspair::{AlertDescription as AD, Connection, Error, PeerMisbehaved, Status};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

const HYBRID: NamedGroup = NamedGroup::X25519MLKEM768;
const P256_HYBRID: NamedGroup = NamedGroup::SECP256R1MLKEM768;

#[allow(deprecated)]
fn seq(parts: &'static [&'static [u8]]) -> FixedSliceSequenceRandom<'static> {
    FixedSliceSequenceRandom {
        bytes: parts,
        current: core::cell::UnsafeCell::new(0),
    }
}

/// Bytes that vary: `seed` picks them.
fn bytes<const N: usize>(seed: u8) -> [u8; N] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
}

#[test]
fn the_ml_kem_half_matches_an_independent_fips_203_implementation() {
    for (group, classical_len, mlkem_first) in [(HYBRID, 32, true), (P256_HYBRID, 65, false)] {
        for round in 0..4u8 {
            // The client: its classical key, then its ML-KEM seed d || z.
            let client_private: &'static [u8; 32] = leak(bytes(round));
            let seed: &'static [u8; 64] = leak(bytes(round.wrapping_add(100)));
            let rng = seq(leak([&client_private[..], &seed[..]]));
            let client = KeyExchange::start(group, &rng).unwrap();
            let mut share = vec![0u8; kx::client_share_len(group).unwrap()];
            assert_eq!(client.write_share(&mut share), Some(share.len()));
            let (ek_ours, classical) = if mlkem_first {
                let (a, b) = share.split_at(1184);
                (a, b)
            } else {
                let (a, b) = share.split_at(classical_len);
                (b, a)
            };
            assert_eq!(classical, client.public());
            // FIPS 203 key generation from d || z.
            let pair = libcrux::generate_key_pair(*seed);
            assert_eq!(ek_ours, &pair.pk()[..], "{group:?} encapsulation key");

            // The server: its classical key, then m.
            let server_private: &'static [u8; 32] = leak(bytes(round.wrapping_add(50)));
            let m: &'static [u8; 32] = leak(bytes(round.wrapping_add(150)));
            let rng = seq(leak([&server_private[..], &m[..]]));
            let mut answer = vec![0u8; kx::server_share_len(group).unwrap()];
            let (n, server_secret) = kx::respond(group, &share, &rng, &mut answer).unwrap();
            assert_eq!(n, answer.len());
            let ct_ours = if mlkem_first {
                &answer[..1088]
            } else {
                &answer[classical_len..]
            };
            let (ct, ss) = libcrux::encapsulate(pair.public_key(), *m);
            assert_eq!(ct_ours, ct.as_ref(), "{group:?} ciphertext");
            let mlkem_secret = if mlkem_first {
                &server_secret.as_bytes()[..32]
            } else {
                &server_secret.as_bytes()[32..]
            };
            assert_eq!(mlkem_secret, &ss[..], "{group:?} ML-KEM secret first/last");
            assert_eq!(libcrux::decapsulate(pair.private_key(), &ct), ss);

            // The client derives the same 64-byte secret from its seed.
            let client_secret = client.complete(&answer).unwrap();
            assert_eq!(client_secret.as_bytes().len(), 64);
            assert_eq!(client_secret.as_bytes(), server_secret.as_bytes());
        }
    }
}

#[test]
fn shares_of_the_wrong_length_or_not_ml_kem_keys_are_refused() {
    let rng = ring::rand::SystemRandom::new();
    for group in [HYBRID, P256_HYBRID] {
        let client = KeyExchange::start(group, &rng).unwrap();
        let mut share = vec![0u8; kx::client_share_len(group).unwrap()];
        client.write_share(&mut share).unwrap();
        let mut out = vec![0u8; kx::MAX_SHARE_LEN];
        assert!(kx::respond(group, &share, &rng, &mut out).is_ok());
        for len in [0, 32, 65, share.len() - 1, share.len() + 1] {
            let mut other = share.clone();
            other.resize(len, 7);
            assert_eq!(
                kx::respond(group, &other, &rng, &mut out).err(),
                Some(true),
                "{group:?} {len}"
            );
        }
        // A coefficient of q or more (12 bits of 0xfff): FIPS 203 §7.2.
        let at = if group == HYBRID { 0 } else { 65 };
        let mut bad = share.clone();
        bad[at] = 0xff;
        bad[at + 1] |= 0x0f;
        assert_eq!(kx::respond(group, &bad, &rng, &mut out).err(), Some(true));
        // Each coefficient at q - 1 passes, at q fails, as libcrux's own
        // check says: the low and the high coefficient of a byte triple.
        for (b0, b1, b2, valid) in [
            (0x00, 0x0d, 0x00, true),  // low 3328
            (0x01, 0x0d, 0x00, false), // low 3329
            (0x00, 0x00, 0xd0, true),  // high 3328
            (0x00, 0x10, 0xd0, false), // high 3329
        ] {
            let mut key = share.clone();
            key[at + 300] = b0;
            key[at + 301] = b1;
            key[at + 302] = b2;
            let ek = libcrux::MlKem768PublicKey::try_from(&key[at..at + 1184]).unwrap();
            assert_eq!(
                libcrux::validate_public_key(&ek),
                valid,
                "{b0:x} {b1:x} {b2:x}"
            );
            assert_eq!(
                kx::respond(group, &key, &rng, &mut out).is_ok(),
                valid,
                "{b0:x} {b1:x} {b2:x}"
            );
        }
        // The client: a ciphertext share of the wrong length.
        let mut answer = vec![0u8; kx::server_share_len(group).unwrap()];
        kx::respond(group, &share, &rng, &mut answer).unwrap();
        answer.pop();
        assert!(client.complete(&answer).is_none());
    }
}

/// A client whose send view is exactly the room its first call asks for
/// (told by `SendBufferTooSmall` on a 64-byte view), and that room.
fn client_in_its_hello_room(
    cc: &'static tlspair::handshake::ClientConfig<'static>,
) -> (common::Side, usize) {
    let mut probe = side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
    probe.bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 64]);
    let needed = match probe.conn.handshake(&mut probe.bufs) {
        Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall { needed })) => needed,
        other => panic!("{other:?}"),
    };
    let mut c = side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
    c.bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; needed]);
    (c, needed)
}

fn with_groups_client(groups: &'static [NamedGroup]) -> tlspair::handshake::ClientConfig<'static> {
    let mut cc = client_config();
    cc.groups = groups;
    cc
}

fn with_groups_server(groups: &'static [NamedGroup]) -> tlspair::handshake::ServerConfig<'static> {
    let mut sc = p256_server_config();
    sc.groups = groups;
    sc
}

/// Runs a handshake; the negotiated group and whether the server asked
/// for another share first.
fn negotiate(client: &'static [NamedGroup], server: &'static [NamedGroup]) -> (NamedGroup, bool) {
    let (mut c, mut s) = pair(with_groups_client(client), with_groups_server(server));
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    // A HelloRetryRequest has the ServerHello's special random.
    const HRR_RANDOM: [u8; 8] = [0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11];
    let hrr = s.bufs.send.pending()[11..19] == HRR_RANDOM;
    complete(&mut c, &mut s).unwrap();
    let group = c.conn.negotiated().unwrap().group.unwrap();
    assert_eq!(s.conn.negotiated().unwrap().group, Some(group));
    assert_eq!(common::send_and_receive(&mut c, &mut s, b"after"), b"after");
    (group, hrr)
}

#[test]
fn the_hybrid_is_negotiated_when_both_have_it_and_costs_no_round_trip_when_one_has_not() {
    use NamedGroup as G;
    let hybrid_first: &'static [G] = &[G::X25519MLKEM768, G::X25519, G::SECP256R1];
    let classical: &'static [G] = &[G::X25519, G::SECP256R1];
    // Both: the hybrid, at once.
    assert_eq!(
        negotiate(hybrid_first, hybrid_first),
        (G::X25519MLKEM768, false)
    );
    // A classical server takes the X25519 share sent beside the hybrid.
    assert_eq!(negotiate(hybrid_first, classical), (G::X25519, false));
    // A classical client: the server does not ask for what it lacks.
    assert_eq!(negotiate(classical, hybrid_first), (G::X25519, false));
    // A client listing the hybrid second (its share not sent): the server
    // prefers it enough to ask for it.
    assert_eq!(
        negotiate(&[G::X25519, G::X25519MLKEM768], hybrid_first),
        (G::X25519MLKEM768, true)
    );
    // Hybrid only, both sides.
    assert_eq!(
        negotiate(&[G::X25519MLKEM768], &[G::X25519MLKEM768]),
        (G::X25519MLKEM768, false)
    );
    // The NIST hybrid, with P-256 beside it.
    let nist: &'static [G] = &[G::SECP256R1MLKEM768, G::SECP256R1];
    assert_eq!(negotiate(nist, nist), (G::SECP256R1MLKEM768, false));
    assert_eq!(negotiate(nist, &[G::SECP256R1]), (G::SECP256R1, false));
    // A server with X25519MLKEM768 first and a client with only the NIST
    // hybrid and X25519: the server's order among what the client has.
    assert_eq!(
        negotiate(
            &[G::SECP256R1MLKEM768, G::X25519],
            &[G::X25519MLKEM768, G::SECP256R1MLKEM768, G::X25519]
        ),
        (G::SECP256R1MLKEM768, false)
    );
}

/// The ClientHello with both shares: the hybrid (1,216 bytes, ML-KEM
/// first) and X25519 (32 bytes), the X25519 key the same in both.
#[test]
fn the_client_sends_the_hybrid_share_and_the_x25519_share_with_one_key() {
    use NamedGroup as G;
    let mut c = side(
        Connection::client(
            leak(with_groups_client(&[G::X25519MLKEM768, G::X25519])),
            Some("localhost"),
            tls::now(),
        )
        .unwrap(),
    );
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let hello = c.bufs.send.pending().to_vec();
    let find = |group: G, len: usize| -> usize {
        let mut pat = group.0.to_be_bytes().to_vec();
        pat.extend((len as u16).to_be_bytes());
        hello
            .windows(4)
            .position(|w| w == &pat[..])
            .unwrap_or_else(|| panic!("no {group:?} share of {len} bytes"))
            + 4
    };
    let hybrid = find(G::X25519MLKEM768, 1216);
    let x25519 = find(G::X25519, 32);
    assert_eq!(
        hello[hybrid + 1184..hybrid + 1216],
        hello[x25519..x25519 + 32]
    );
}

/// A server that gets a share that is not an ML-KEM key says
/// illegal_parameter; so does our client for a server share of the wrong
/// length (checked on the key exchange above).
#[test]
fn a_bad_ml_kem_key_in_the_client_hello_is_illegal_parameter() {
    use NamedGroup as G;
    let (mut c, mut s) = pair(
        with_groups_client(&[G::X25519MLKEM768, G::X25519]),
        with_groups_server(&[G::X25519MLKEM768, G::X25519]),
    );
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    // The hybrid share starts after its group and length.
    let hello = c.bufs.send.pending().to_vec();
    let at = hello
        .windows(4)
        .position(|w| w == [0x11, 0xec, 0x04, 0xc0])
        .unwrap()
        + 4;
    let mut bad = hello.clone();
    bad[at] = 0xff;
    bad[at + 1] |= 0x0f;
    c.bufs.send.consume(hello.len());
    s.bufs.recv.fill(&bad);
    let e = s.conn.handshake(&mut s.bufs).unwrap_err();
    assert_eq!(
        e,
        Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter("key_share public value"))
    );
    assert_eq!(
        s.bufs.send.pending(),
        &[21, 3, 3, 0, 2, 2, AD::ILLEGAL_PARAMETER.0]
    );
}

#[test]
fn a_hybrid_handshake_fits_the_room_it_reports_and_holds_no_decapsulation_key() {
    use NamedGroup as G;
    // What the client keeps before the ServerHello is where its record
    // keys go: the 64-byte seed, not a 2,400-byte key.
    assert!(std::mem::size_of::<Connection>() <= 2336);
    for groups in [
        &[G::X25519MLKEM768, G::X25519][..],
        &[G::SECP256R1MLKEM768, G::SECP256R1][..],
        &[G::X25519, G::X25519MLKEM768][..],
    ] {
        let groups: &'static [G] = leak(groups.to_vec());
        let cc = leak(with_groups_client(groups));
        // A send view of exactly the room the first call asks for: the
        // ClientHello fits it; the rest of the handshake gets room to spare.
        let (mut c, _) = client_in_its_hello_room(cc);
        assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
        let mut s = side(Connection::server(leak(with_groups_server(groups)), tls::now()).unwrap());
        transfer_all(&mut c, &mut s);
        c.bufs.send = tlspair::SendBuf::new(vec![0u8; 20_000]);
        let (cr, sr) = outcome(&mut c, &mut s);
        cr.unwrap();
        sr.unwrap();
    }
}

/// A client whose send view is exactly the room its ClientHello asks for
/// completes the handshake in it, a HelloRetryRequest without a cookie
/// included: the room for a second ClientHello is asked for only once a
/// HelloRetryRequest has come, and only for the cookie it carries. (It
/// was asked for while the ServerHello was awaited, 1,030 bytes more than
/// the ClientHello, and a 2,048-byte view failed on every ServerHello once
/// the hybrid share was sent by default.)
#[test]
fn a_send_view_of_the_client_hello_room_suffices_for_the_whole_handshake() {
    use NamedGroup as G;
    // The client's groups, whether our server asks for another share,
    // the group that comes of it.
    for (groups, retry, group) in [
        (
            &[G::X25519MLKEM768, G::X25519][..],
            false,
            G::X25519MLKEM768,
        ),
        (
            &[G::SECP256R1MLKEM768, G::SECP256R1][..],
            false,
            G::SECP256R1MLKEM768,
        ),
        (&[G::X25519][..], false, G::X25519),
        (&[G::X25519, G::X25519MLKEM768][..], true, G::X25519MLKEM768),
    ] {
        let groups: &'static [G] = leak(groups.to_vec());
        let cc = leak(with_groups_client(groups));
        let (mut c, _) = client_in_its_hello_room(cc);
        let server = leak(with_groups_server(&[
            G::X25519MLKEM768,
            G::SECP256R1MLKEM768,
            G::X25519,
            G::SECP256R1,
        ]));
        let mut s = side(Connection::server(server, tls::now()).unwrap());
        let (cr, sr) = outcome(&mut c, &mut s);
        cr.unwrap_or_else(|e| panic!("{groups:?} (retry: {retry}): {e:?}"));
        sr.unwrap();
        assert_eq!(c.conn.negotiated().unwrap().group, Some(group));
        assert_eq!(common::send_and_receive(&mut c, &mut s, b"after"), b"after");
    }
}

/// The bytes on the wire, for docs/architecture.md: the first flight of
/// each side, classical and hybrid.
#[test]
#[ignore = "prints sizes for the docs"]
fn print_flight_sizes() {
    use NamedGroup as G;
    for groups in [
        &[G::X25519][..],
        &[G::X25519MLKEM768, G::X25519][..],
        &[G::X25519MLKEM768][..],
        &[G::SECP256R1MLKEM768, G::SECP256R1][..],
    ] {
        let groups: &'static [G] = leak(groups.to_vec());
        let (mut c, mut s) = pair(with_groups_client(groups), with_groups_server(groups));
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let hello = c.bufs.send.len();
        transfer_all(&mut c, &mut s);
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
        let flight = s.bufs.send.len();
        println!("{groups:?}: ClientHello {hello} bytes, server flight {flight} bytes");
    }
    // The room the default configuration asks for its ClientHello.
    let mut probe =
        side(Connection::client(leak(client_config()), Some("localhost"), tls::now()).unwrap());
    probe.bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 64]);
    println!(
        "default ClientHello room: {:?}",
        probe.conn.handshake(&mut probe.bufs)
    );
    let mut classical = client_config();
    classical.groups = &kx::CLASSICAL_GROUPS;
    let mut probe =
        side(Connection::client(leak(classical), Some("localhost"), tls::now()).unwrap());
    probe.bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 64]);
    println!(
        "classical ClientHello room: {:?}",
        probe.conn.handshake(&mut probe.bufs)
    );
    // The room the default server asks for its first flight, per client.
    for groups in [&kx::DEFAULT_GROUPS[..], &kx::CLASSICAL_GROUPS[..]] {
        let mut cc = client_config();
        cc.groups = leak(groups.to_vec());
        let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let mut server = Connection::server(leak(p256_server_config()), tls::now()).unwrap();
        let mut bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 64]);
        bufs.recv.fill(c.bufs.send.pending());
        println!(
            "server first-flight room for {groups:?}: {:?}",
            server.handshake(&mut bufs)
        );
    }
}

/// A server that prefers the NIST hybrid, and a client that lists both
/// hybrids but sends a share for X25519MLKEM768 only: that share already
/// has post-quantum security, so no round trip for the other.
#[test]
fn a_hybrid_share_is_taken_without_asking_for_a_preferred_hybrid() {
    use NamedGroup as G;
    assert_eq!(
        negotiate(
            &[G::X25519MLKEM768, G::SECP256R1MLKEM768, G::X25519],
            &[G::SECP256R1MLKEM768, G::X25519MLKEM768, G::X25519],
        ),
        (G::X25519MLKEM768, false)
    );
}

/// The first flight's room counts the share from the ClientHello alone,
/// also when more handshake bytes follow it in the same record: with
/// exactly the room it asks for, the server answers with the RFC's error,
/// never an internal one.
#[test]
fn the_first_flight_room_counts_the_share_whatever_follows_the_client_hello() {
    for groups in [&kx::DEFAULT_GROUPS[..], &kx::CLASSICAL_GROUPS[..]] {
        let mut cc = client_config();
        cc.groups = leak(groups.to_vec());
        let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let mut record = c.bufs.send.pending().to_vec();
        // A Finished header after the ClientHello, in the same record.
        record.extend([20, 0, 0, 0]);
        let len = u16::from_be_bytes([record[3], record[4]]) + 4;
        record[3..5].copy_from_slice(&len.to_be_bytes());
        let serve = |send: usize| {
            let mut s = Connection::server(leak(p256_server_config()), tls::now()).unwrap();
            let mut bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; send]);
            bufs.recv.fill(&record);
            s.handshake(&mut bufs)
        };
        let needed = match serve(64) {
            Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall { needed })) => needed,
            other => panic!("{other:?}"),
        };
        match serve(needed) {
            Err(Error::Internal(what)) => panic!("{groups:?}: internal error: {what}"),
            Err(_) => {}
            Ok(status) => {
                panic!("{groups:?}: {status:?} after a message straddling the key change")
            }
        }
    }
}

/// The room a server asks for on the first ClientHello holds its flight
/// after a HelloRetryRequest too: a caller that sizes its send view once,
/// from the first answer, is not asked again.
#[test]
fn the_room_asked_on_the_first_client_hello_holds_the_flight_after_a_retry() {
    use NamedGroup as G;
    for (client, server) in [
        // The client lists the hybrid second: the server asks for it.
        (&[G::X25519, G::X25519MLKEM768][..], &kx::DEFAULT_GROUPS[..]),
        // The client's share is for a group the server lacks.
        (
            &[G::SECP256R1, G::X25519MLKEM768][..],
            &[G::X25519MLKEM768][..],
        ),
    ] {
        let mut cc = client_config();
        cc.groups = leak(client.to_vec());
        let mut c = side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let hello = c.bufs.send.pending().to_vec();
        c.bufs.send.consume(hello.len());
        let mut sc = p256_server_config();
        sc.groups = leak(server.to_vec());
        let sc = leak(sc);
        let needed = {
            let mut s = Connection::server(sc, tls::now()).unwrap();
            let mut bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; 64]);
            bufs.recv.fill(&hello);
            match s.handshake(&mut bufs) {
                Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall { needed })) => needed,
                other => panic!("{other:?}"),
            }
        };
        let mut s = side(Connection::server(sc, tls::now()).unwrap());
        s.bufs = tlspair::Buffers::new(vec![0u8; 20_000], vec![0u8; needed]);
        s.bufs.recv.fill(&hello);
        let (cr, sr) = outcome(&mut c, &mut s);
        cr.unwrap_or_else(|e| panic!("{client:?}: {e}"));
        sr.unwrap_or_else(|e| panic!("{client:?}: {e}"));
        assert_eq!(c.conn.negotiated().unwrap().group, Some(G::X25519MLKEM768));
    }
}

/// The configurations the fixtures were recorded with
/// (interop-pq/tests/replay_fixture.rs): defaults, the test credentials,
/// every random byte fixed.
#[allow(deprecated)]
fn fixed_rng() -> &'static ring::test::rand::FixedByteRandom {
    leak(ring::test::rand::FixedByteRandom {
        byte: common::replay::FIXED_RANDOM_BYTE,
    })
}

fn fixture_server() -> Connection<'static> {
    let rng = fixed_rng();
    let key =
        leak(tlspair::sign::SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, rng).unwrap());
    let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
    let certs = leak([tlspair::handshake::CertifiedKey::new(chain, key)]);
    let config = leak(tlspair::handshake::ServerConfig::new(certs, rng));
    Connection::server(config, common::replay::fixed_now()).unwrap()
}

fn fixture_client() -> Connection<'static> {
    let config = leak(tlspair::handshake::ClientConfig::new(
        tls::verifier(),
        fixed_rng(),
    ));
    Connection::client(config, Some("localhost"), common::replay::fixed_now()).unwrap()
}

const RUSTLS_CLIENT: &str = include_str!("data/pq_rustls_client.txt");
const RUSTLS_SERVER: &str = include_str!("data/pq_rustls_server.txt");

fn fixture_bufs() -> common::Bufs {
    tlspair::Buffers::new(vec![0; 40_000], vec![0; 40_000])
}

#[test]
fn a_rustls_x25519mlkem768_client_session_replays_byte_for_byte() {
    let events = common::replay::parse(RUSTLS_CLIENT);
    let mut server = fixture_server();
    let fed = common::replay::replay(&mut server, &mut fixture_bufs(), &events);
    assert_eq!(fed, 3);
    let n = server.negotiated().unwrap();
    assert_eq!(n.group, Some(HYBRID));
}

#[test]
fn a_rustls_x25519mlkem768_server_session_replays_byte_for_byte() {
    let events = common::replay::parse(RUSTLS_SERVER);
    let mut client = fixture_client();
    let fed = common::replay::replay(&mut client, &mut fixture_bufs(), &events);
    assert_eq!(fed, 2);
    assert_eq!(client.negotiated().unwrap().group, Some(HYBRID));
}

/// The replays check the key exchange: one bit of the peer's ML-KEM part
/// changed, and its Finished no longer verifies (or its records no longer
/// open). A ServerHello's share is at a fixed place after our session id;
/// a ClientHello's is found by its group.
#[test]
fn a_replay_with_one_bit_of_the_peer_ml_kem_part_changed_fails() {
    use common::replay::Event;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    // key_share entry: group 0x11ec, then a two-byte length.
    for (text, serve, len) in [(RUSTLS_CLIENT, true, 1216u16), (RUSTLS_SERVER, false, 1120)] {
        let mut events = common::replay::parse(text);
        let Some(Event::Peer(first)) = events.iter_mut().find(|e| matches!(e, Event::Peer(_)))
        else {
            panic!("no peer bytes");
        };
        let [hi, lo] = len.to_be_bytes();
        let at = find(first, &[0x11, 0xec, hi, lo]).expect("the hybrid share") + 4;
        // Inside the ML-KEM part (first for X25519MLKEM768).
        first[at + 100] ^= 0x01;
        let mut conn = if serve {
            fixture_server()
        } else {
            fixture_client()
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            common::replay::replay(&mut conn, &mut fixture_bufs(), &events)
        }));
        assert!(result.is_err(), "a changed share must not replay");
        assert!(
            conn.negotiated().is_none(),
            "serve={serve}: no handshake completed"
        );
    }
}

/// NIST's ACVP vectors for ML-KEM-768 (FIPS 203), provenance in the file.
const ACVP: &str = include_str!("data/acvp-ml-kem-768.txt");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The records of one kind, as their byte fields (the tcId first, as is).
fn acvp(kind: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    ACVP.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split(' ');
            (fields.next()? == kind).then(|| {
                let id = fields.next().unwrap().to_string();
                (id, fields.map(unhex).collect())
            })
        })
        .collect()
}

/// Key generation through our client (its seed is d || z, the ML-KEM part
/// of its share the encapsulation key), encapsulation through our server
/// (m from the rng, the first half of the hybrid secret K), decapsulation
/// through the `ml-kem` key type our client decapsulates with, including a
/// modified ciphertext (implicit rejection).
#[test]
fn ml_kem_768_passes_the_nist_acvp_vectors() {
    use ml_kem::kem::Decapsulate;
    use ml_kem::{EncodedSizeUser, KemCore, MlKem768};
    type Dk = <MlKem768 as KemCore>::DecapsulationKey;

    let keygen = acvp("keygen");
    assert_eq!(keygen.len(), 4);
    for (id, f) in &keygen {
        let [d, z, ek, dk] = &f[..] else {
            panic!("keygen {id}")
        };
        let seed: Vec<u8> = [&d[..], &z[..]].concat();
        let rng = seq(leak([&[7u8; 32][..], leak(seed)]));
        let client = KeyExchange::start(HYBRID, &rng).unwrap();
        let mut share = vec![0u8; kx::client_share_len(HYBRID).unwrap()];
        client.write_share(&mut share).unwrap();
        assert_eq!(&share[..1184], &ek[..], "keygen {id}: ek");
        let (ours, _) = MlKem768::generate_deterministic(
            &ml_kem::B32::try_from(&d[..]).unwrap(),
            &ml_kem::B32::try_from(&z[..]).unwrap(),
        );
        assert_eq!(&ours.as_bytes()[..], &dk[..], "keygen {id}: dk");
    }

    // A valid X25519 share to put after each ek.
    let x25519 = {
        let c = KeyExchange::start(NamedGroup::X25519, &ring::rand::SystemRandom::new()).unwrap();
        c.public().to_vec()
    };
    let encap = acvp("encap");
    assert_eq!(encap.len(), 4);
    for (id, f) in &encap {
        let [ek, m, c, k] = &f[..] else {
            panic!("encap {id}")
        };
        let share = [&ek[..], &x25519[..]].concat();
        let rng = seq(leak([&[9u8; 32][..], leak(m.clone())]));
        let mut answer = vec![0u8; kx::server_share_len(HYBRID).unwrap()];
        let (_, secret) = kx::respond(HYBRID, &share, &rng, &mut answer).unwrap();
        assert_eq!(&answer[..1088], &c[..], "encap {id}: c");
        assert_eq!(&secret.as_bytes()[..32], &k[..], "encap {id}: K");
    }

    let decap = acvp("decap");
    assert_eq!(decap.len(), 4);
    for (id, f) in &decap {
        let [dk, c, k] = &f[..] else {
            panic!("decap {id}")
        };
        let dk = Dk::from_bytes(&ml_kem::Encoded::<Dk>::try_from(&dk[..]).unwrap());
        let c = ml_kem::Ciphertext::<MlKem768>::try_from(&c[..]).unwrap();
        assert_eq!(&dk.decapsulate(&c).unwrap()[..], &k[..], "decap {id}: K");
    }
    // The modified ciphertext (its K is the implicit-rejection key) is
    // among them.
    assert!(decap.iter().any(|(id, _)| id == "88"), "tcId 88");
}

/// A HelloRetryRequest for TLS_AES_128_GCM_SHA256 echoing `session_id`,
/// with a cookie of `cookie_len` bytes.
fn hello_retry_request(session_id: &[u8], cookie_len: usize) -> Vec<u8> {
    const HRR_RANDOM: [u8; 32] = [
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,
        0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,
        0x33, 0x9c,
    ];
    let mut ext = vec![0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
    let n = cookie_len as u16;
    ext.extend_from_slice(&[0x00, 0x2c]);
    ext.extend_from_slice(&(n + 2).to_be_bytes());
    ext.extend_from_slice(&n.to_be_bytes());
    ext.extend((0..cookie_len).map(|i| i as u8 | 1));
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&HRR_RANDOM);
    body.push(session_id.len() as u8);
    body.extend_from_slice(session_id);
    body.extend_from_slice(&[0x13, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut msg = vec![0x02, 0, 0, 0];
    msg[1..4].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x03];
    record.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    record.extend_from_slice(&msg);
    record
}

/// A HelloRetryRequest that carries a cookie: the client asks for the
/// room of its second ClientHello with the cookie, records' headers
/// included, and writes it in a view of exactly that size whatever the
/// record size (the cookie's bytes were once counted after the records
/// were, 5 bytes short for each record they added).
#[test]
fn a_retry_with_a_cookie_gets_the_room_its_second_client_hello_takes() {
    for fragment in [16_384, 1_024, 512, 100] {
        for cookie in [1, 200, 1_024] {
            let mut cc = client_config();
            cc.record.max_fragment_len = fragment;
            let cc = leak(cc);
            let (mut c, needed) = client_in_its_hello_room(cc);
            assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
            let hello = c.bufs.send.pending().to_vec();
            c.bufs.send.consume(hello.len());
            let session_id = hello[44..76].to_vec();
            assert_eq!(hello[43], 32, "a 32-byte session id");
            c.bufs.recv.fill(&hello_retry_request(&session_id, cookie));
            let more = match c.conn.handshake(&mut c.bufs) {
                Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall { needed: more })) => more,
                other => panic!("fragment {fragment} cookie {cookie}: {other:?}"),
            };
            assert!(more > needed, "the cookie needs room");
            // Exactly that room: the second ClientHello is written whole.
            c.bufs.send = tlspair::SendBuf::new(vec![0u8; more]);
            assert_eq!(
                c.conn
                    .handshake(&mut c.bufs)
                    .unwrap_or_else(|e| panic!("fragment {fragment} cookie {cookie}: {e:?}")),
                Status::WantRead
            );
            let second = c.bufs.send.pending();
            assert!(second.len() <= more && second.len() > hello.len());
            assert!(second
                .windows(4)
                .any(|w| w == [0x00, 0x2c, ((cookie + 2) >> 8) as u8, (cookie + 2) as u8]));
        }
    }
}

/// A flight too large for the whole send view is refused only once the
/// view is empty: with the first ClientHello not yet drained, a retry
/// whose cookie outgrows the view asks for a drain of everything first,
/// and the misuse that follows changes nothing. Failed before: the
/// misuse came while the first ClientHello was still pending, so a
/// caller who took it for "nothing was written" lost that hello.
#[test]
fn a_flight_too_large_for_the_view_is_refused_only_once_the_view_is_empty() {
    let (mut c, needed) = client_in_its_hello_room(leak(client_config()));
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    let hello = c.bufs.send.pending().to_vec();
    let session_id = hello[44..76].to_vec();
    c.bufs.recv.fill(&hello_retry_request(&session_id, 1_024));
    assert_eq!(
        c.conn.handshake(&mut c.bufs),
        Ok(Status::WantWrite { needed })
    );
    assert_eq!(c.bufs.send.pending(), &hello[..], "the hello stays");
    c.bufs.send.consume(hello.len());
    match c.conn.handshake(&mut c.bufs) {
        Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall { needed: more })) => {
            assert!(more > needed)
        }
        other => panic!("{other:?}"),
    }
    assert!(c.bufs.send.is_empty(), "the misuse wrote nothing");
}
