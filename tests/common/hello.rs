//! Hand-made ClientHellos, for the tests that play a hostile or unusual
//! client against our server.

use super::tls::{p256_server_config, side};
use tlspair::{AlertDescription as AD, Connection, Error, Status};

/// A ClientHello with the given extensions block (raw bytes, each
/// `type(2) len(2) body`), as a plaintext record.
pub fn client_hello(extensions: &[u8]) -> Vec<u8> {
    client_hello_with(0x0303, &[0x1301], extensions)
}

/// A ClientHello with this legacy_version and these cipher suites.
pub fn client_hello_with(version: u16, suites: &[u16], extensions: &[u8]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([7u8; 32]); // random
    body.push(0); // session id
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // null compression
    body.extend((extensions.len() as u16).to_be_bytes());
    body.extend(extensions);
    let mut msg = vec![1];
    msg.extend(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend(body);
    let mut rec = vec![22, 3, 1];
    rec.extend((msg.len() as u16).to_be_bytes());
    rec.extend(msg);
    rec
}

/// A ClientHello with these extensions, cut into plaintext records of at
/// most 2^14 bytes.
pub fn client_hello_records(extensions: &[u8]) -> Vec<Vec<u8>> {
    let one = client_hello(extensions);
    one[5..]
        .chunks(16384)
        .map(|c| {
            let mut rec = vec![22, 3, 1];
            rec.extend((c.len() as u16).to_be_bytes());
            rec.extend(c);
            rec
        })
        .collect()
}

/// A server that takes 64 KiB handshake messages, with the views for them.
pub fn large_server() -> super::Side {
    let mut sc = p256_server_config();
    sc.max_handshake_message = 64 * 1024;
    let sc: &'static _ = Box::leak(Box::new(sc));
    super::Side {
        conn: Connection::server(sc, super::tls::now()).unwrap(),
        bufs: tlspair::Buffers::new(vec![0; 70_000], vec![0; 20_000]),
    }
}

/// Like `server_answer`, for a ClientHello larger than one record, with a
/// server that takes 64 KiB handshake messages.
pub fn server_answer_large(extensions: &[u8]) -> (Error, Vec<u8>) {
    let mut s = large_server();
    for rec in client_hello_records(extensions) {
        s.bufs.recv.fill(&rec);
        match s.conn.handshake(&mut s.bufs) {
            Ok(Status::WantRead) => {}
            Ok(other) => panic!("{other:?}"),
            Err(e) => return (e, s.bufs.send.pending().to_vec()),
        }
    }
    panic!("server waits on a hostile ClientHello")
}

pub fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut e = ty.to_be_bytes().to_vec();
    e.extend((body.len() as u16).to_be_bytes());
    e.extend(body);
    e
}

/// The extensions of a good ClientHello: versions, groups, sigalgs and an
/// X25519 share from a real key.
pub fn good_extensions() -> Vec<u8> {
    let rng = ring::rand::SystemRandom::new();
    let kx = tlspair::handshake::kx::KeyExchange::start(tlspair::wire::NamedGroup::X25519, &rng)
        .unwrap();
    let mut share = vec![0, 36, 0, 0x1d, 0, 32];
    share.extend(kx.public());
    [
        ext(43, &[2, 3, 4]),
        ext(10, &[0, 2, 0, 0x1d]),
        ext(13, &[0, 2, 4, 3]),
        ext(51, &share),
    ]
    .concat()
}

/// Feeds `bytes` to a fresh server; returns its error and the alert it
/// sent (plaintext before keys exist).
///
/// The same bytes are also fed byte by byte and record by record to fresh
/// servers, which must answer the same way (the same error, the same bytes
/// sent) and never wait with input in hand: every hostile test checks
/// every coalescing.
pub fn server_answer(bytes: &[u8]) -> (Error, Vec<u8>) {
    let at_once = answer_in_pieces(bytes, &[bytes.len()]);
    let mut records = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        let len = (5 + u16::from_be_bytes([rest[3], rest[4]]) as usize).min(rest.len());
        records.push(len);
        rest = &rest[len..];
    }
    if !rest.is_empty() {
        records.push(rest.len());
    }
    for (how, pieces) in [
        ("record by record", records),
        ("byte by byte", vec![1; bytes.len()]),
    ] {
        assert_eq!(answer_in_pieces(bytes, &pieces), at_once, "{how}");
    }
    at_once
}

/// Feeds `bytes` to a fresh server in pieces of these lengths, calling
/// `handshake` after each; its error and what it sent.
fn answer_in_pieces(bytes: &[u8], pieces: &[usize]) -> (Error, Vec<u8>) {
    let sc: &'static _ = Box::leak(Box::new(p256_server_config()));
    let mut s = side(Connection::server(sc, super::tls::now()).unwrap());
    let mut at = 0;
    for &n in pieces {
        s.bufs.recv.fill(&bytes[at..at + n]);
        at += n;
        match s.conn.handshake(&mut s.bufs) {
            Ok(Status::WantRead) if at < bytes.len() => {}
            Ok(Status::WantRead) => panic!("server waits on a hostile ClientHello"),
            Ok(other) => panic!("{other:?}"),
            Err(e) => return (e, s.bufs.send.pending().to_vec()),
        }
    }
    panic!("server waits on a hostile ClientHello")
}

pub fn alert(a: AD) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, 2, a.0]
}

/// A server_name extension carrying one host_name.
pub fn sni(name: &[u8]) -> Vec<u8> {
    let mut entry = vec![0u8];
    entry.extend((name.len() as u16).to_be_bytes());
    entry.extend(name);
    let mut list = (entry.len() as u16).to_be_bytes().to_vec();
    list.extend(entry);
    ext(0, &list)
}
