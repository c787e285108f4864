//! TLS 1.2 secure renegotiation (RFC 5746), our client against our
//! server in memory: who may start one, what each side's calls answer
//! while it runs, the data that crosses it, the identity it settles, and
//! the refusals and bounds. (Real peers: tests/tls12.rs.)

mod common;

use std::sync::Mutex;

use common::tls::{self, complete, pair};
use common::{transfer_all, Side};
use tlspair::handshake::post_auth::{AuthHook, PeerAuth};
use tlspair::{Error, Misuse, Status, TLS12_SUITES};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// What a server's hook was told, in order.
#[derive(Default)]
struct Told(Mutex<Vec<String>>);

impl AuthHook for Told {
    fn authenticated(&self, _: u64, auth: &PeerAuth) {
        self.0
            .lock()
            .unwrap()
            .push(format!("authenticated {}", auth.request));
    }

    fn renegotiated(&self, _: u64, auth: &PeerAuth) {
        self.0.lock().unwrap().push(format!(
            "renegotiated {} cert={}",
            auth.request,
            auth.peer_cert_sha256.is_some()
        ));
    }

    fn renegotiation_refused(&self, _: u64) {
        self.0.lock().unwrap().push("refused".into());
    }
}

impl Told {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// An established TLS 1.2 pair: the client performs `client` renegotiations
/// a server asks for, the server `server` a client starts; the server's
/// hook.
fn established(client: u8, server: u8) -> (Side, Side, &'static Told) {
    let told = leak(Told::default());
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.renegotiations = client;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    sc.renegotiations = server;
    sc.auth_hook = Some(told);
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    (c, s, told)
}

/// Reads on both sides, moving bytes between them, until neither is
/// renegotiating and nothing moves: the plaintext each side read.
fn settle(c: &mut Side, s: &mut Side) -> (Vec<u8>, Vec<u8>) {
    let mut got = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..64 {
        let mut moved = 0;
        match c.conn.read(&mut c.bufs, &mut buf) {
            Ok(Status::Done(n)) => {
                moved += n;
                got.0.extend_from_slice(&buf[..n]);
            }
            Ok(_) => {}
            Err(e) => panic!("client: {e:?}"),
        }
        moved += transfer_all(c, s);
        match s.conn.read(&mut s.bufs, &mut buf) {
            Ok(Status::Done(n)) => {
                moved += n;
                got.1.extend_from_slice(&buf[..n]);
            }
            Ok(_) => {}
            Err(e) => panic!("server: {e:?}"),
        }
        moved += transfer_all(s, c);
        if moved == 0 && !c.conn.is_renegotiating() && !s.conn.is_renegotiating() {
            return got;
        }
    }
    panic!("the renegotiation did not settle")
}

/// `data` from one side to the other, whole.
fn exchange(from: &mut Side, to: &mut Side, data: &[u8]) {
    assert_eq!(
        from.conn.write(&mut from.bufs, data),
        Ok(Status::Done(data.len()))
    );
    transfer_all(from, to);
    let mut got = vec![0u8; data.len() + 1];
    assert_eq!(
        to.conn.read(&mut to.bufs, &mut got),
        Ok(Status::Done(data.len()))
    );
    assert_eq!(&got[..data.len()], data);
}

fn exporter(side: &Side) -> [u8; 32] {
    let mut out = [0u8; 32];
    side.conn
        .export_keying_material(&mut out, b"EXPERIMENTAL test", None)
        .unwrap();
    out
}

#[test]
fn a_renegotiation_the_server_asks_for_is_performed_inside_reads() {
    let (mut c, mut s, told) = established(1, 0);
    let before = exporter(&c);
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    // Asked once: a second call sends no second HelloRequest.
    let sent = s.bufs.send.len();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    assert_eq!(s.bufs.send.len(), sent);
    transfer_all(&mut s, &mut c);
    let mut buf = [0u8; 16];
    // The HelloRequest starts it: our ClientHello goes out.
    assert_eq!(c.conn.read(&mut c.bufs, &mut buf), Ok(Status::WantRead));
    assert!(c.conn.is_renegotiating());
    assert!(!c.conn.is_handshaking(), "established all along");
    let (a, b) = settle(&mut c, &mut s);
    assert!(a.is_empty() && b.is_empty());
    assert_eq!(told.take(), ["renegotiated 1 cert=false"]);
    // New keys, a new session: the exporter changed, on both sides alike.
    let after = exporter(&c);
    assert_ne!(after, before);
    assert_eq!(exporter(&s), after);
    exchange(&mut c, &mut s, b"after, client to server");
    exchange(&mut s, &mut c, b"after, server to client");
}

#[test]
fn a_renegotiation_the_client_starts_is_answered_within_the_servers_bound() {
    let (mut c, mut s, told) = established(0, 2);
    for round in 1..=3u8 {
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        assert!(c.conn.is_renegotiating());
        settle(&mut c, &mut s);
        assert!(!c.conn.is_renegotiating());
        if round <= 2 {
            assert_eq!(told.take(), [format!("renegotiated {round} cert=false")]);
        } else {
            // Past the bound: refused with a warning, the connection goes
            // on as it was.
            assert!(told.take().is_empty());
        }
        exchange(&mut c, &mut s, format!("round {round}").as_bytes());
        exchange(&mut s, &mut c, format!("round {round} back").as_bytes());
    }
}

#[test]
fn renegotiation_is_refused_by_default_on_both_sides() {
    let (mut c, mut s, told) = established(0, 0);
    // The client refuses the server's HelloRequest with a warning.
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    settle(&mut c, &mut s);
    assert_eq!(told.take(), ["refused"]);
    exchange(&mut s, &mut c, b"still here");
    // The server refuses the client's ClientHello with a warning.
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Ok(Status::Done(()))
    );
    settle(&mut c, &mut s);
    assert!(!c.conn.is_renegotiating());
    assert!(told.take().is_empty());
    exchange(&mut c, &mut s, b"and here");
}

/// A client that starts renegotiations in a loop gets the server's
/// bound and then refusals, each a warning; the connection survives.
#[test]
fn a_client_renegotiating_in_a_loop_is_bounded() {
    let (mut c, mut s, told) = established(0, 3);
    for _ in 0..20 {
        assert_eq!(
            c.conn.renegotiate(&mut c.bufs, tls::now(), false),
            Ok(Status::Done(()))
        );
        settle(&mut c, &mut s);
    }
    assert_eq!(
        told.take(),
        [
            "renegotiated 1 cert=false",
            "renegotiated 2 cert=false",
            "renegotiated 3 cert=false"
        ]
    );
    exchange(&mut c, &mut s, b"survived");
}

#[test]
fn renegotiate_is_refused_where_it_cannot_run() {
    use tlspair::Connection;
    // During the handshake.
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut c = tls::side(Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap());
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Err(Error::Misuse(Misuse::NoRenegotiation))
    );
    // On TLS 1.3.
    let (mut c, mut s) = pair(tls::client_config(), tls::p256_server_config());
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), false),
        Err(Error::Misuse(Misuse::NoRenegotiation))
    );
    // While one runs, and a client asking for certificates.
    let (mut c, mut s, _) = established(1, 1);
    assert!(matches!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), true),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    c.conn.renegotiate(&mut c.bufs, tls::now(), false).unwrap();
    assert_eq!(
        c.conn.renegotiate(&mut c.bufs, tls::now(), false),
        Err(Error::Misuse(Misuse::NoRenegotiation))
    );
    // A server without a verifier cannot ask for a certificate.
    assert!(matches!(
        s.conn.renegotiate(&mut s.bufs, tls::now(), true),
        Err(Error::Misuse(Misuse::BadConfig(_)))
    ));
    settle(&mut c, &mut s);
}
