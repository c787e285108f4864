//! TLS 1.2 against real peers: the `openssl` command-line tool in both
//! roles (`s_server -tls1_2`, `s_client -tls1_2`), every TLS 1.2 suite ×
//! group × key type its suite allows, and the version negotiation matrix.

mod common;

use common::interop::{
    assert_negotiated, cert_curve, client_config_for, reversed_lines, text, KeyType,
};
use common::net::{self, bounded, Openssl, TlsSocket};
use common::tls;
use common::tls::{complete, outcome, pair};
use tlspair::wire::{NamedGroup, ProtocolVersion};
use tlspair::{
    Connection, Error, PeerIncompatible, PeerMisbehaved, Shutdown, Suite, ALL_SUITES,
    BOTH_VERSIONS_SUITES, TLS12_SUITES,
};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// OpenSSL's name for a TLS 1.2 suite.
fn openssl_cipher(suite: &Suite) -> &'static str {
    match suite.id.0 {
        0xc02b => "ECDHE-ECDSA-AES128-GCM-SHA256",
        0xc02c => "ECDHE-ECDSA-AES256-GCM-SHA384",
        0xcca9 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        0xc02f => "ECDHE-RSA-AES128-GCM-SHA256",
        0xc030 => "ECDHE-RSA-AES256-GCM-SHA384",
        0xcca8 => "ECDHE-RSA-CHACHA20-POLY1305",
        other => panic!("not a TLS 1.2 suite: {other:#06x}"),
    }
}

fn openssl_group(group: NamedGroup) -> &'static str {
    common::interop::openssl_group(group)
}

/// Our client against `s_server -tls1_2 -rev` restricted to one suite and
/// group with this key type's certificate: the handshake, 4 KiB through
/// the echo, close_notify both ways.
fn our_client_with_s_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &[
                "-tls1_2",
                "-rev",
                "-cipher",
                openssl_cipher(suite),
                "-groups",
                openssl_group(group),
            ],
        );
        let conn = Connection::client(
            leak(client_config_for(suite, group, key)),
            Some("localhost"),
            tls::now(),
        )
        .expect("client");
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("handshake with s_server: {e}\n{}", server.describe()));
        assert_negotiated(&ours.conn, suite, group, key);
        let data = text(4096, 7);
        let want = reversed_lines(&data);
        let got = ours
            .exchange(&data, want.len())
            .unwrap_or_else(|e| panic!("exchange: {e}\n{}", server.describe()));
        assert!(got == want, "echo differs\n{}", server.describe());
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
        let rest = ours
            .read_until_closed()
            .unwrap_or_else(|e| panic!("close: {e}\n{}", server.describe()));
        assert!(rest.is_empty());
        let _ = net::listener;
    });
}

/// `s_client -tls1_2` restricted to one suite and group against our
/// server with this key type's certificate: a line each way, then
/// close_notify.
fn s_client_with_our_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let mut sc = tls::server_config(&[tls::certified(key.credential())]);
        sc.suites = leak([suite]);
        sc.groups = leak([group]);
        let (listener, port) = net::listener();
        let mut groups = openssl_group(group).to_owned();
        if let Some(curve) = cert_curve(key).filter(|c| *c != group) {
            groups = format!("{groups}:{}", openssl_group(curve));
        }
        let mut client = Openssl::s_client(
            port,
            &[
                "-tls1_2",
                "-cipher",
                openssl_cipher(suite),
                "-groups",
                &groups,
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let conn = Connection::server(leak(sc), tls::now()).expect("server");
        let mut ours = TlsSocket::new(conn, sock);
        if let Err(e) = ours.handshake() {
            panic!("handshake with s_client: {e}\n{}", client.describe());
        }
        assert_negotiated(&ours.conn, suite, group, key);
        let up = b"hello from s_client\n";
        client.feed(up.to_vec());
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        let down = b"hello from tlspair\n";
        ours.send_all(down).unwrap();
        client.wait_stdout("our line", |out| out.ends_with(down));
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        let status = client.wait_exit();
        assert!(
            status.success(),
            "s_client: {status}\n{}",
            client.describe()
        );
    });
}

mod our_client_with_s_server {
    crate::tls12_matrix!(crate::our_client_with_s_server);
}

mod s_client_with_our_server {
    crate::tls12_matrix!(crate::s_client_with_our_server);
}

/// `data` from one side to the other, read whole.
fn exchange(from: &mut common::Side, to: &mut common::Side, data: &[u8]) {
    assert_eq!(
        from.conn.write(&mut from.bufs, data).unwrap(),
        tlspair::Status::Done(data.len())
    );
    common::transfer_all(from, to);
    let mut got = vec![0u8; data.len()];
    assert_eq!(
        to.conn.read(&mut to.bufs, &mut got).unwrap(),
        tlspair::Status::Done(data.len())
    );
    assert_eq!(got, data);
}

/// Our client against our server, in memory, each side speaking `client`
/// and `server` suites: what version they settle on, or how they fail.
fn negotiate(
    client: &'static [&'static Suite],
    server: &'static [&'static Suite],
) -> (
    Result<(), Error>,
    Result<(), Error>,
    Option<ProtocolVersion>,
) {
    let mut cc = tls::client_config();
    cc.suites = client;
    let mut sc = tls::p256_server_config();
    sc.suites = server;
    let (mut c, mut s) = pair(cc, sc);
    let (cr, sr) = outcome(&mut c, &mut s);
    let version = c.conn.negotiated().map(|n| n.version);
    if cr.is_ok() && sr.is_ok() {
        assert_eq!(version, s.conn.negotiated().map(|n| n.version));
        // Data both ways under the negotiated keys.
        exchange(&mut c, &mut s, b"ping");
        exchange(&mut s, &mut c, b"pong");
    }
    (cr, sr, version)
}

#[test]
fn version_matrix_settles_on_the_highest_version_both_speak() {
    let v13 = Some(ProtocolVersion::TLS1_3);
    let v12 = Some(ProtocolVersion::TLS1_2);
    for (client, server, want) in [
        (&ALL_SUITES[..], &ALL_SUITES[..], v13),
        (&ALL_SUITES[..], &BOTH_VERSIONS_SUITES[..], v13),
        (&BOTH_VERSIONS_SUITES[..], &ALL_SUITES[..], v13),
        (&BOTH_VERSIONS_SUITES[..], &BOTH_VERSIONS_SUITES[..], v13),
        (&TLS12_SUITES[..], &BOTH_VERSIONS_SUITES[..], v12),
        (&BOTH_VERSIONS_SUITES[..], &TLS12_SUITES[..], v12),
        (&TLS12_SUITES[..], &TLS12_SUITES[..], v12),
    ] {
        let (cr, sr, got) = negotiate(client, server);
        assert!(
            cr.is_ok() && sr.is_ok(),
            "{client:?} / {server:?}: {cr:?} {sr:?}"
        );
        assert_eq!(got, want, "{client:?} / {server:?}");
    }
}

#[test]
fn version_matrix_without_a_common_version_is_protocol_version() {
    for (client, server) in [
        (&ALL_SUITES[..], &TLS12_SUITES[..]),
        (&TLS12_SUITES[..], &ALL_SUITES[..]),
    ] {
        let (cr, sr, _) = negotiate(client, server);
        assert_eq!(
            sr,
            Err(Error::PeerIncompatible(PeerIncompatible::NotTls13)),
            "{client:?}"
        );
        assert_eq!(
            cr,
            Err(Error::AlertReceived(
                tlspair::AlertDescription::PROTOCOL_VERSION
            )),
            "{client:?}"
        );
    }
}

/// Removes supported_versions from a ClientHello record (a whole record
/// in the clear, one extension block), fixing the lengths: what an
/// attacker who strips TLS 1.3 from the offer sends on.
fn strip_supported_versions(record: &[u8]) -> Vec<u8> {
    let body = &record[5 + 4..];
    let sid = body[34] as usize;
    let at = 35 + sid;
    let suites = u16::from_be_bytes([body[at], body[at + 1]]) as usize;
    let at = at + 2 + suites;
    let comp = body[at] as usize;
    let ext_at = at + 1 + comp;
    let mut exts = Vec::new();
    let mut r = ext_at + 2;
    while r < body.len() {
        let ty = u16::from_be_bytes([body[r], body[r + 1]]);
        let len = u16::from_be_bytes([body[r + 2], body[r + 3]]) as usize;
        if ty != 43 {
            exts.extend_from_slice(&body[r..r + 4 + len]);
        }
        r += 4 + len;
    }
    let mut new_body = body[..ext_at].to_vec();
    new_body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    new_body.extend_from_slice(&exts);
    let mut msg = vec![1];
    msg.extend_from_slice(&(new_body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&new_body);
    let mut out = vec![22, 3, 3];
    out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    out.extend_from_slice(&msg);
    out
}

#[test]
fn a_client_that_speaks_tls13_refuses_a_downgrade_it_did_not_ask_for() {
    // Both sides speak both versions; an attacker strips TLS 1.3 from
    // the ClientHello. The server answers TLS 1.2 and says, in its
    // random, that it speaks TLS 1.3: the client aborts (RFC 8446 §4.1.3)
    // with illegal_parameter before anything else.
    let mut cc = tls::client_config();
    cc.suites = &BOTH_VERSIONS_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &BOTH_VERSIONS_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let hello = c.bufs.send.pending().to_vec();
    c.bufs.send.consume(hello.len());
    let stripped = strip_supported_versions(&hello);
    s.bufs.recv.fill(&stripped);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    assert_eq!(s.conn.negotiated(), None, "still handshaking");
    common::transfer_all(&mut s, &mut c);
    let err = c.conn.handshake(&mut c.bufs).unwrap_err();
    assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::Downgrade));
    assert_eq!(
        err.alert(),
        Some(tlspair::AlertDescription::ILLEGAL_PARAMETER)
    );
}

#[test]
fn a_tls12_only_client_accepts_the_sentinel_of_a_server_that_speaks_both() {
    // The sentinel is for clients that offered TLS 1.3: one that did not
    // completes.
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &BOTH_VERSIONS_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        c.conn.negotiated().unwrap().version,
        ProtocolVersion::TLS1_2
    );
}

#[test]
fn fallback_scsv_to_a_server_that_speaks_tls13_is_inappropriate_fallback() {
    // RFC 7507: a TLS 1.2 ClientHello carrying TLS_FALLBACK_SCSV, to a
    // server that speaks TLS 1.3, means a client retrying below its best.
    let mut sc = tls::p256_server_config();
    sc.suites = &BOTH_VERSIONS_SUITES;
    let mut s = tls::side(Connection::server(leak(sc), tls::now()).unwrap());
    let exts = [
        common::hello::ext(10, &[0, 2, 0, 23]),
        common::hello::ext(13, &[0, 2, 4, 3]),
        common::hello::ext(23, &[]),
        common::hello::ext(0xff01, &[0]),
    ]
    .concat();
    let hello = common::hello::client_hello_with(0x0303, &[0xc02b, 0x5600], &exts);
    s.bufs.recv.fill(&hello);
    let err = s.conn.handshake(&mut s.bufs).unwrap_err();
    assert_eq!(
        err,
        Error::PeerIncompatible(PeerIncompatible::InappropriateFallback)
    );
    assert_eq!(s.bufs.send.pending(), [21, 3, 3, 0, 2, 2, 86]);
}

#[test]
fn a_tls12_client_without_the_extended_master_secret_is_refused_by_default() {
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    for allow in [false, true] {
        sc.allow_no_extended_master_secret = allow;
        let mut s = tls::side(Connection::server(leak(sc.clone()), tls::now()).unwrap());
        let exts = [
            common::hello::ext(10, &[0, 2, 0, 23]),
            common::hello::ext(13, &[0, 2, 4, 3]),
            common::hello::ext(0xff01, &[0]),
        ]
        .concat();
        let hello = common::hello::client_hello_with(0x0303, &[0xc02b], &exts);
        s.bufs.recv.fill(&hello);
        let got = s.conn.handshake(&mut s.bufs);
        if allow {
            assert!(matches!(got, Ok(tlspair::Status::WantRead)), "{got:?}");
        } else {
            assert_eq!(
                got,
                Err(Error::PeerIncompatible(
                    PeerIncompatible::NoExtendedMasterSecret
                ))
            );
            assert_eq!(s.bufs.send.pending(), [21, 3, 3, 0, 2, 2, 40]);
        }
    }
}

// ---------------------------------------------------------------------
// Hostile input. The TLS 1.2 flights before the ChangeCipherSpecs are in
// the clear, so a test can rewrite them as a hostile peer would, and
// sign what it rewrites with the test server's key (the published test
// credential), so the check under test is the one that fails.

/// The handshake messages of a run of plaintext handshake records.
fn messages(records: &[u8]) -> Vec<Vec<u8>> {
    let mut body = Vec::new();
    let mut at = 0;
    while at + 5 <= records.len() {
        let len = u16::from_be_bytes([records[at + 3], records[at + 4]]) as usize;
        assert_eq!(records[at], 22, "a handshake record");
        body.extend_from_slice(&records[at + 5..at + 5 + len]);
        at += 5 + len;
    }
    let mut out = Vec::new();
    let mut m = 0;
    while m + 4 <= body.len() {
        let len = u32::from_be_bytes([0, body[m + 1], body[m + 2], body[m + 3]]) as usize;
        out.push(body[m..m + 4 + len].to_vec());
        m += 4 + len;
    }
    out
}

/// One plaintext handshake record per message.
fn records(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend([22, 3, 3]);
        out.extend((m.len() as u16).to_be_bytes());
        out.extend(m);
    }
    out
}

/// A handshake message of type `ty` around `body`.
fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty];
    m.extend(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend(body);
    m
}

/// A TLS 1.2 client and server (P-256 certificate) with the client's
/// ClientHello delivered and the server's first flight, as messages,
/// taken off the wire: ServerHello, Certificate, ServerKeyExchange,
/// ServerHelloDone. Also both randoms.
fn server_flight() -> (common::Side, common::Side, Vec<Vec<u8>>, [u8; 32], [u8; 32]) {
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let hello = c.bufs.send.pending().to_vec();
    let client_random: [u8; 32] = hello[5 + 4 + 2..][..32].try_into().unwrap();
    common::transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    let flight = s.bufs.send.pending().to_vec();
    s.bufs.send.consume(flight.len());
    let msgs = messages(&flight);
    assert_eq!(
        msgs.iter().map(|m| m[0]).collect::<Vec<_>>(),
        [2, 11, 12, 14],
        "ServerHello, Certificate, ServerKeyExchange, ServerHelloDone"
    );
    let server_random: [u8; 32] = msgs[0][4 + 2..][..32].try_into().unwrap();
    (c, s, msgs, client_random, server_random)
}

/// A ServerKeyExchange for `group` and `point`, signed with `scheme` by
/// the test P-256 key over both randoms (or carrying `signature` as is).
fn server_key_exchange(
    group: u16,
    point: &[u8],
    scheme: u16,
    randoms: (&[u8; 32], &[u8; 32]),
    signature: Option<&[u8]>,
) -> Vec<u8> {
    let mut params = vec![3];
    params.extend(group.to_be_bytes());
    params.push(point.len() as u8);
    params.extend(point);
    let sig = match signature {
        Some(s) => s.to_vec(),
        None => {
            let key = tlspair::sign::SigningKey::from_pkcs8(
                tlspair::test_credentials::SERVER_ECDSA_P256.key,
                tls::rng(),
            )
            .unwrap();
            let mut signed = randoms.0.to_vec();
            signed.extend(randoms.1);
            signed.extend(&params);
            let mut out = [0u8; 512];
            let n = key
                .sign(
                    tlspair::wire::SignatureScheme(scheme),
                    &signed,
                    tls::rng(),
                    &mut out,
                )
                .unwrap();
            out[..n].to_vec()
        }
    };
    let mut body = params;
    body.extend(scheme.to_be_bytes());
    body.extend((sig.len() as u16).to_be_bytes());
    body.extend(&sig);
    message(12, &body)
}

/// What our client answers to the server flight `msgs`: its error and the
/// alert it sent.
fn client_answer(mut c: common::Side, msgs: &[Vec<u8>]) -> (Error, Vec<u8>) {
    c.bufs.recv.fill(&records(msgs));
    let err = loop {
        match c.conn.handshake(&mut c.bufs) {
            Ok(tlspair::Status::WantRead) => panic!("the client waits for more"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    let pending = c.bufs.send.pending().to_vec();
    (err, pending)
}

fn fatal(a: tlspair::AlertDescription) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, 2, a.0]
}

/// A valid P-256 point: the server's own, from its ServerKeyExchange.
fn point_of(ske: &[u8]) -> Vec<u8> {
    let len = ske[4 + 3] as usize;
    ske[4 + 4..][..len].to_vec()
}

#[test]
fn a_server_key_exchange_resigned_unchanged_is_accepted() {
    // The harness itself: the same parameters signed by the test key
    // pass, so each failure below is the check it names.
    let (c, _s, mut msgs, cr, sr) = server_flight();
    let point = point_of(&msgs[2]);
    let group = u16::from_be_bytes([msgs[2][5], msgs[2][6]]);
    msgs[2] = server_key_exchange(group, &point, 0x0403, (&cr, &sr), None);
    let mut c = c;
    c.bufs.recv.fill(&records(&msgs));
    let status = c.conn.handshake(&mut c.bufs).unwrap();
    assert_eq!(status, tlspair::Status::WantRead, "our flight is out");
    assert!(c.bufs.send.pending().len() > 40);
}

#[test]
fn a_bad_server_key_exchange_signature_is_decrypt_error() {
    let (c, _s, mut msgs, _, _) = server_flight();
    let last = msgs[2].len() - 1;
    msgs[2][last] ^= 1;
    let (err, alert) = client_answer(c, &msgs);
    assert!(
        matches!(
            err,
            Error::Certificate(tlspair::verify::CertificateError::BadSignature)
        ),
        "{err:?}"
    );
    assert_eq!(alert, fatal(tlspair::AlertDescription::DECRYPT_ERROR));
}

#[test]
fn a_server_key_exchange_point_off_the_curve_is_illegal_parameter() {
    let (c, _s, mut msgs, cr, sr) = server_flight();
    // Signed, but not a point of P-256.
    let mut bad = vec![4u8];
    bad.extend([0x11; 64]);
    msgs[2] = server_key_exchange(23, &bad, 0x0403, (&cr, &sr), None);
    let (err, alert) = client_answer(c, &msgs);
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter("ECDH point"))
    );
    assert_eq!(alert, fatal(tlspair::AlertDescription::ILLEGAL_PARAMETER));
}

#[test]
fn a_server_key_exchange_for_a_group_not_offered_is_illegal_parameter() {
    let (c, _s, mut msgs, cr, sr) = server_flight();
    // ffdhe2048 (256) and a group we never offer with TLS 1.2: the
    // hybrid X25519MLKEM768 (0x11ec).
    for group in [256u16, 0x11ec, 30] {
        let (c, _s, _, _, _) = server_flight();
        let mut m = msgs.clone();
        m[2] = server_key_exchange(group, &[4; 65], 0x0403, (&cr, &sr), None);
        let (err, alert) = client_answer(c, &m);
        assert!(
            matches!(
                err,
                Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter(_))
            ),
            "{group}: {err:?}"
        );
        assert_eq!(
            alert,
            fatal(tlspair::AlertDescription::ILLEGAL_PARAMETER),
            "{group}"
        );
    }
    // A curve type other than named_curve (explicit_prime, 1).
    let mut ske = msgs[2].clone();
    ske[4] = 1;
    msgs[2] = ske;
    let (err, _) = client_answer(c, &msgs);
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter("ECDH curve type"))
    );
}

#[test]
fn a_server_key_exchange_signed_with_a_scheme_unfit_for_the_suite_is_illegal_parameter() {
    // RSA PKCS#1 and RSA-PSS on an ECDHE_ECDSA suite; and a SHA-1 scheme.
    for scheme in [0x0401u16, 0x0804, 0x0203, 0x0201] {
        let (c, _s, mut msgs, _, _) = server_flight();
        let point = point_of(&msgs[2]);
        msgs[2] = server_key_exchange(29, &point, scheme, (&[0; 32], &[0; 32]), Some(&[1; 64]));
        let (err, alert) = client_answer(c, &msgs);
        assert!(
            matches!(
                err,
                Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter(_))
            ),
            "{scheme:#06x}: {err:?}"
        );
        assert_eq!(
            alert,
            fatal(tlspair::AlertDescription::ILLEGAL_PARAMETER),
            "{scheme:#06x}"
        );
    }
}

#[test]
fn a_server_flight_out_of_order_or_truncated_is_refused() {
    // ServerHelloDone before the key exchange; a missing
    // ServerKeyExchange; a second Certificate.
    for order in [vec![0, 1, 3, 2], vec![0, 1, 3], vec![0, 1, 1, 2, 3]] {
        let (c, _s, msgs, _, _) = server_flight();
        let m: Vec<Vec<u8>> = order.iter().map(|&i| msgs[i].clone()).collect();
        let (err, alert) = client_answer(c, &m);
        assert!(
            matches!(
                err,
                Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(_))
            ),
            "{order:?}: {err:?}"
        );
        assert_eq!(
            alert,
            fatal(tlspair::AlertDescription::UNEXPECTED_MESSAGE),
            "{order:?}"
        );
    }
    // A ServerHelloDone with a body.
    let (c, _s, mut msgs, _, _) = server_flight();
    msgs[3] = message(14, &[0]);
    let (err, alert) = client_answer(c, &msgs);
    assert!(matches!(err, Error::InvalidMessage(_)), "{err:?}");
    assert_eq!(alert, fatal(tlspair::AlertDescription::DECODE_ERROR));
}

/// The server after our client's flight: what it answers to
/// `client_flight` (ClientKeyExchange and the rest, as records).
fn server_answer(mut s: common::Side, bytes: &[u8]) -> (Error, Vec<u8>) {
    s.bufs.recv.fill(bytes);
    let err = loop {
        match s.conn.handshake(&mut s.bufs) {
            Ok(tlspair::Status::WantRead) => panic!("the server waits for more"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    (err, s.bufs.send.pending().to_vec())
}

#[test]
fn a_bad_client_key_exchange_is_refused_with_its_alert() {
    // An empty point, a point off the curve, trailing bytes.
    let mut off_curve = vec![32u8];
    off_curve.extend([0u8; 32]);
    let cases: [(Vec<u8>, tlspair::AlertDescription); 3] = [
        (vec![0], tlspair::AlertDescription::DECODE_ERROR),
        // X25519's all-zero public value gives the all-zero secret.
        (off_curve, tlspair::AlertDescription::ILLEGAL_PARAMETER),
        (
            [&[32u8][..], &[9; 32], &[0]].concat(),
            tlspair::AlertDescription::DECODE_ERROR,
        ),
    ];
    for (body, want) in cases {
        let (_c, s, _, _, _) = server_flight();
        let (err, alert) = server_answer(s, &records(&[message(16, &body)]));
        assert!(err.is_fatal(), "{err:?}");
        assert_eq!(alert, fatal(want), "{body:02x?}: {err:?}");
    }
}

#[test]
fn change_cipher_spec_before_the_key_exchange_is_unexpected_message() {
    let (_c, s, _, _, _) = server_flight();
    let (err, alert) = server_answer(s, &[20, 3, 3, 0, 1, 1]);
    assert!(
        matches!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedContentType(_))
        ),
        "{err:?}"
    );
    assert_eq!(alert, fatal(tlspair::AlertDescription::UNEXPECTED_MESSAGE));
}

#[test]
fn a_tampered_finished_is_bad_record_mac_and_the_error_sticks() {
    let (mut c, s, msgs, _, _) = server_flight();
    c.bufs.recv.fill(&records(&msgs));
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let mut flight = c.bufs.send.pending().to_vec();
    c.bufs.send.consume(flight.len());
    // The last byte is the Finished record's tag.
    let last = flight.len() - 1;
    flight[last] ^= 0x80;
    let (err, alert) = server_answer(s, &flight);
    assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::BadRecordMac));
    assert_eq!(alert, fatal(tlspair::AlertDescription::BAD_RECORD_MAC));
}

#[test]
fn a_hello_request_from_s_server_is_refused_with_no_renegotiation() {
    // s_server (interactive) sends a HelloRequest on an `R` line. Our
    // client answers with a no_renegotiation warning (RFC 5746 §4.2 lets
    // a client refuse), which OpenSSL, having asked, answers with a fatal
    // handshake_failure (its policy: a refused renegotiation it started
    // ends the connection).
    bounded(|| {
        let key = KeyType::EcdsaP256;
        let log = std::env::temp_dir().join(format!("tlspair-tls12-hr-{}.msg", std::process::id()));
        let log_path = log.to_string_lossy().into_owned();
        let (mut server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &["-tls1_2", "-msg", "-msgfile", &log_path],
        );
        let conn = Connection::client(
            leak(client_config_for(
                &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
                NamedGroup::X25519,
                key,
            )),
            Some("localhost"),
            tls::now(),
        )
        .unwrap();
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        server.feed(b"before\n".to_vec());
        assert_eq!(ours.read_exact(7).unwrap(), b"before\n");
        server.feed(b"R\n".to_vec());
        let err = ours.read_exact(1).unwrap_err();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert_eq!(
            err,
            Error::AlertReceived(tlspair::AlertDescription::HANDSHAKE_FAILURE),
            "{text}"
        );
        let hello_request = text
            .find("HelloRequest")
            .expect("s_server sent a HelloRequest");
        let refusal = text
            .find("warning no_renegotiation")
            .expect("our warning reached s_server");
        assert!(hello_request < refusal, "{text}");
    });
}

#[test]
fn a_tls12_outgoing_view_below_31_bytes_is_refused_up_front_and_31_makes_progress() {
    // Found by the invariance test: a 27-byte view (TLS 1.3's smallest)
    // was asked for 30 bytes, more than it can ever hold.
    use common::{Pair, Sizes};
    for (cap, ok) in [(27usize, false), (30, false), (31, true)] {
        let mut p = Pair::with(
            &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
            tlspair::RecordConfig::default(),
            tlspair::RecordConfig::default(),
            Sizes {
                recv: 20_000,
                send: cap,
            },
            Sizes::default(),
        );
        let got = p.client.conn.write(&mut p.client.bufs, b"ab");
        if ok {
            assert_eq!(got, Ok(tlspair::Status::Done(2)), "{cap}");
        } else {
            assert_eq!(
                got,
                Err(Error::Misuse(tlspair::Misuse::SendBufferTooSmall {
                    needed: 31
                })),
                "{cap}"
            );
        }
    }
}

#[test]
fn both_sides_log_the_same_client_random_line_with_the_master_secret() {
    // SSLKEYLOGFILE for TLS 1.2: `CLIENT_RANDOM <client random> <master
    // secret>`, which Wireshark reads.
    let client_log: &'static tls::Lines = leak(tls::Lines::default());
    let server_log: &'static tls::Lines = leak(tls::Lines::default());
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.key_log = Some(client_log);
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    sc.key_log = Some(server_log);
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let random: Vec<u8> = c.bufs.send.pending()[11..43].to_vec();
    complete(&mut c, &mut s).unwrap();
    let lines = client_log.0.lock().unwrap().clone();
    assert_eq!(lines, *server_log.0.lock().unwrap());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let fields: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(fields[0], "CLIENT_RANDOM");
    assert_eq!(fields[1], hex);
    assert_eq!(fields[2].len(), 96, "a 48-byte master secret");
}

#[test]
fn our_close_notify_answer_waits_for_room_and_goes_out_after_a_drain() {
    // RFC 5246 §7.2.1: our answer to the peer's close_notify. With the
    // outgoing view full it waits (it used to be counted as sent and was
    // never written); data can no longer be written after it.
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    // Fill the client's outgoing view, sending nothing.
    let big = vec![7u8; 40_000];
    tlspair::Connection::set_write_mode(&mut c.conn, tlspair::WriteMode::Partial);
    // Full records, then one-byte records (30 bytes each) until fewer
    // than 30 bytes are free: no room for an alert (31).
    for chunk in [&big[..], &big[..1]] {
        loop {
            match c.conn.write(&mut c.bufs, chunk).unwrap() {
                tlspair::Status::Done(_) => continue,
                tlspair::Status::WantWrite { .. } => break,
                other => panic!("{other:?}"),
            }
        }
    }
    let queued = c.bufs.send.pending().len();
    assert_eq!(
        s.conn.shutdown(&mut s.bufs).unwrap(),
        tlspair::Status::Done(Shutdown::Sent)
    );
    common::transfer_all(&mut s, &mut c);
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut [0u8; 16]).unwrap(),
        tlspair::Status::Closed
    );
    assert_eq!(
        c.bufs.send.pending().len(),
        queued,
        "no room for the answer yet"
    );
    assert!(c.conn.wants_write(&c.bufs));
    assert_eq!(
        c.conn.write(&mut c.bufs, b"more"),
        Err(Error::Misuse(tlspair::Misuse::WriteAfterShutdown))
    );
    // The data goes, then any call writes the answer.
    let mut got = Vec::new();
    while !c.bufs.send.is_empty() {
        common::transfer_all(&mut c, &mut s);
        let mut buf = vec![0u8; 20_000];
        while let Ok(tlspair::Status::Done(n)) = s.conn.read(&mut s.bufs, &mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(
        c.conn.shutdown(&mut c.bufs).unwrap(),
        tlspair::Status::Done(Shutdown::Complete)
    );
    assert!(c.conn.close_sent());
    common::transfer_all(&mut c, &mut s);
    let mut buf = vec![0u8; 20_000];
    loop {
        match s.conn.read(&mut s.bufs, &mut buf).unwrap() {
            tlspair::Status::Done(n) => got.extend_from_slice(&buf[..n]),
            tlspair::Status::Closed => break,
            other => panic!("the server waits: {other:?}"),
        }
    }
    assert!(got.iter().all(|&b| b == 7));
    assert!(c.conn.is_finished(&c.bufs));
}

#[test]
fn a_tls13_server_hello_naming_a_tls12_suite_is_illegal_parameter() {
    // The client speaks both versions; the server's TLS 1.3 ServerHello
    // is patched to name a TLS 1.2 suite. (It used to pass the suite on
    // and fail deriving keys, with internal_error.)
    let mut cc = tls::client_config();
    cc.suites = &BOTH_VERSIONS_SUITES;
    let (mut c, mut s) = pair(cc, tls::p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    common::transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    let mut flight = s.bufs.send.pending().to_vec();
    s.bufs.send.consume(flight.len());
    let sid = flight[5 + 4 + 2 + 32] as usize;
    let at = 5 + 4 + 2 + 32 + 1 + sid;
    assert_eq!(&flight[at..at + 2], &[0x13, 0x01]);
    flight[at..at + 2].copy_from_slice(&[0xc0, 0x2b]);
    c.bufs.recv.fill(&flight);
    let err = c.conn.handshake(&mut c.bufs).unwrap_err();
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::IllegalParameter("cipher_suite not offered"))
    );
}

#[test]
fn a_plaintext_alert_after_the_change_cipher_spec_is_not_taken_for_one() {
    // Once the client's ChangeCipherSpec has switched its key, an alert
    // record in the clear is not the client's: it fails to open
    // (bad_record_mac) instead of ending the handshake as that alert.
    let (mut c, s, msgs, _, _) = server_flight();
    c.bufs.recv.fill(&records(&msgs));
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let flight = c.bufs.send.pending().to_vec();
    // Through the ChangeCipherSpec record, then a forged alert.
    let ccs = flight
        .windows(6)
        .position(|w| w == [20, 3, 3, 0, 1, 1])
        .expect("the ChangeCipherSpec");
    let mut forged = flight[..ccs + 6].to_vec();
    forged.extend([21, 3, 3, 0, 2, 2, 40]);
    let (err, alert) = server_answer(s, &forged);
    // Read as a protected record, it is too short to hold the tag (and it
    // used to end the handshake as the client's handshake_failure).
    assert_eq!(
        err,
        Error::InvalidMessage(tlspair::InvalidMessage::RecordTooShort)
    );
    assert_eq!(alert, fatal(tlspair::AlertDescription::DECODE_ERROR));
}

// ---------------------------------------------------------------------
// Resumption (RFC 5077 tickets).

/// A ticket store: the last ticket, stamped with the test's clock.
#[derive(Default)]
struct LastTicket(std::sync::Mutex<Option<tlspair::handshake::ticket::StoredTicket>>);

impl tlspair::handshake::ticket::TicketSink for LastTicket {
    fn store(&self, t: &tlspair::handshake::ticket::NewTicket<'_>) {
        *self.0.lock().unwrap() = tlspair::handshake::ticket::StoredTicket::new(t, tls::now());
    }
}

/// A TLS 1.2 client keeping tickets in `sink`, and a server issuing them
/// under `keys`, with `suites` on both sides.
fn ticket_configs(
    sink: &'static LastTicket,
    suites: &'static [&'static Suite],
) -> (
    tlspair::handshake::ClientConfig<'static>,
    tlspair::handshake::ServerConfig<'static>,
) {
    let mut cc = tls::client_config();
    cc.suites = suites;
    cc.ticket_sink = Some(sink);
    let mut sc = tls::p256_server_config();
    sc.suites = suites;
    let keys: &'static [tlspair::handshake::ticket::TicketKey] =
        leak([tlspair::handshake::ticket::TicketKey::new(1, &[9; 32]).unwrap()]);
    sc.ticket_keys = keys.into();
    (cc, sc)
}

/// A full handshake, then its ticket.
fn full_then_ticket(
    cc: &'static tlspair::handshake::ClientConfig<'static>,
    sc: &'static tlspair::handshake::ServerConfig<'static>,
    sink: &'static LastTicket,
) -> &'static tlspair::handshake::ticket::StoredTicket {
    let mut c = tls::side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(!c.conn.negotiated().unwrap().resumed);
    exchange(&mut c, &mut s, b"first");
    leak(sink.0.lock().unwrap().take().expect("a TLS 1.2 ticket"))
}

#[test]
fn a_tls12_ticket_resumes_an_abbreviated_handshake_and_brings_a_new_ticket() {
    let sink: &'static LastTicket = leak(LastTicket::default());
    let (cc, sc) = ticket_configs(sink, &TLS12_SUITES);
    let (cc, sc) = (leak(cc), leak(sc));
    let stored = full_then_ticket(cc, sc, sink);
    let ticket = leak(stored.resumption());
    assert_eq!(ticket.suite, tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256.id);
    assert_eq!(ticket.psk.len(), 48, "the master secret");
    let mut c =
        tls::side(Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).unwrap());
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    let (cn, sn) = (c.conn.negotiated().unwrap(), s.conn.negotiated().unwrap());
    assert!(cn.resumed && sn.resumed);
    assert_eq!(cn.version, ProtocolVersion::TLS1_2);
    assert_eq!(cn.signature_scheme, None, "no certificate in a resumption");
    assert_eq!(cn.peer_cert_sha256, ticket.peer_cert_sha256);
    assert!(cn.peer_cert_sha256.is_some());
    exchange(&mut c, &mut s, b"resumed");
    exchange(&mut s, &mut c, b"both ways");
    // The server sent a fresh ticket, which resumes again.
    let next = leak(leak(sink.0.lock().unwrap().take().expect("a new ticket")).resumption());
    assert_ne!(next.ticket, ticket.ticket);
    let mut c =
        tls::side(Connection::client_resuming(cc, Some("localhost"), tls::now(), next).unwrap());
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(c.conn.negotiated().unwrap().resumed);
}

#[test]
fn a_tls12_ticket_is_never_a_tls13_psk_nor_the_reverse() {
    // Both sides speak both versions. A TLS 1.2 ticket relabelled as a
    // TLS 1.3 one (same 48-byte secret, TLS_AES_256_GCM_SHA384) is
    // offered as a PSK: the server opens it, sees TLS 1.2, and runs a
    // full handshake. A TLS 1.3 ticket relabelled as a TLS 1.2 one is
    // offered in session_ticket to a TLS 1.2 server: the same.
    let sink: &'static LastTicket = leak(LastTicket::default());
    static SHA384_12: [&Suite; 1] = [&tlspair::ECDHE_ECDSA_AES_256_GCM_SHA384];
    let (cc, sc) = ticket_configs(sink, &SHA384_12);
    let (cc12, sc12) = (leak(cc), leak(sc));
    let stored = full_then_ticket(cc12, sc12, sink);
    let mut as13 = stored.resumption();
    as13.suite = tlspair::TLS13_AES_256_GCM_SHA384.id;
    let mut cc = cc12.clone();
    static BOTH_384: [&Suite; 2] = [
        &tlspair::TLS13_AES_256_GCM_SHA384,
        &tlspair::ECDHE_ECDSA_AES_256_GCM_SHA384,
    ];
    cc.suites = &BOTH_384;
    let mut sc = sc12.clone();
    sc.suites = &BOTH_384;
    let (cc, sc) = (leak(cc), leak(sc));
    let mut c = tls::side(
        Connection::client_resuming(cc, Some("localhost"), tls::now(), leak(as13)).unwrap(),
    );
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    let n = s.conn.negotiated().unwrap();
    assert_eq!(n.version, ProtocolVersion::TLS1_3);
    assert!(!n.resumed, "a TLS 1.2 ticket taken as a TLS 1.3 PSK");

    // The reverse: this full TLS 1.3 handshake left a TLS 1.3 ticket
    // (read after the handshake).
    common::transfer_all(&mut s, &mut c);
    let _ = c.conn.read(&mut c.bufs, &mut [0u8; 8]).unwrap();
    let stored13 = leak(sink.0.lock().unwrap().take().expect("a TLS 1.3 ticket"));
    let mut as12 = stored13.resumption();
    assert_eq!(as12.suite, tlspair::TLS13_AES_256_GCM_SHA384.id);
    as12.suite = tlspair::ECDHE_ECDSA_AES_256_GCM_SHA384.id;
    let mut c = tls::side(
        Connection::client_resuming(cc12, Some("localhost"), tls::now(), leak(as12)).unwrap(),
    );
    let mut s = tls::side(Connection::server(sc12, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    let n = s.conn.negotiated().unwrap();
    assert_eq!(n.version, ProtocolVersion::TLS1_2);
    assert!(!n.resumed, "a TLS 1.3 ticket taken as a TLS 1.2 session");
}

#[test]
fn our_master_secret_is_the_one_openssl_logs() {
    // A known answer from an independent implementation: s_server's key
    // log line for the session has the extended master secret we
    // derived (our Finished and OpenSSL's verified with it too).
    bounded(|| {
        let key = KeyType::EcdsaP256;
        let log =
            std::env::temp_dir().join(format!("tlspair-tls12-keylog-{}.txt", std::process::id()));
        let log_path = log.to_string_lossy().into_owned();
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &["-tls1_2", "-rev", "-keylogfile", &log_path],
        );
        let lines: &'static tls::Lines = leak(tls::Lines::default());
        let mut cc = client_config_for(
            &tlspair::ECDHE_ECDSA_AES_256_GCM_SHA384,
            NamedGroup::X25519,
            key,
        );
        cc.key_log = Some(lines);
        let conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        let data = text(64, 3);
        let want = reversed_lines(&data);
        assert_eq!(ours.exchange(&data, want.len()).unwrap(), want);
        let ours_line = lines.0.lock().unwrap()[0].trim().to_owned();
        let theirs = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert!(
            theirs.lines().any(|l| l.trim() == ours_line),
            "ours: {ours_line}\nOpenSSL's:\n{theirs}"
        );
    });
}

/// A TLS 1.2 pair with tickets, run until the server's last flight
/// (NewSessionTicket, ChangeCipherSpec, Finished) is taken off the wire.
fn last_server_flight(sink: &'static LastTicket) -> (common::Side, common::Side, Vec<Vec<u8>>) {
    let (cc, sc) = ticket_configs(sink, &TLS12_SUITES);
    let (mut c, mut s) = pair(cc, sc);
    for _ in 0..2 {
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        common::transfer_all(&mut c, &mut s);
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
        if !s.conn.is_handshaking() {
            break;
        }
        common::transfer_all(&mut s, &mut c);
    }
    assert!(!s.conn.is_handshaking(), "the server is done");
    let wire = s.bufs.send.pending().to_vec();
    s.bufs.send.consume(wire.len());
    // Split into records.
    let mut records = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let len = u16::from_be_bytes([wire[at + 3], wire[at + 4]]) as usize;
        records.push(wire[at..at + 5 + len].to_vec());
        at += 5 + len;
    }
    assert_eq!(
        records.iter().map(|r| r[0]).collect::<Vec<_>>(),
        [22, 20, 22],
        "NewSessionTicket, ChangeCipherSpec, Finished"
    );
    (c, s, records)
}

#[test]
fn a_ticket_reaches_the_sink_only_once_the_servers_finished_verified() {
    // The server's Finished is tampered with: the handshake fails, and
    // the ticket that came before it (with the master secret) must not
    // have been handed out. It used to be, at once.
    let sink: &'static LastTicket = leak(LastTicket::default());
    let (mut c, _s, mut records) = last_server_flight(sink);
    let last = records[2].len() - 1;
    records[2][last] ^= 1;
    c.bufs.recv.fill(&records.concat());
    let err = c.conn.handshake(&mut c.bufs).unwrap_err();
    assert_eq!(err, Error::PeerMisbehaved(PeerMisbehaved::BadRecordMac));
    assert!(
        sink.0.lock().unwrap().is_none(),
        "a ticket from a failed handshake"
    );

    // Untouched, the same flight completes and the ticket is kept.
    let (mut c, _s, records) = last_server_flight(sink);
    c.bufs.recv.fill(&records.concat());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    assert!(!c.conn.is_handshaking());
    assert!(sink.0.lock().unwrap().is_some());
}

#[test]
fn a_promised_ticket_that_does_not_come_is_unexpected_message() {
    // RFC 5077 §3.3: a server that answered session_ticket sends a
    // NewSessionTicket (possibly empty) before its ChangeCipherSpec.
    let sink: &'static LastTicket = leak(LastTicket::default());
    let (mut c, _s, records) = last_server_flight(sink);
    c.bufs.recv.fill(&records[1..].concat());
    let err = c.conn.handshake(&mut c.bufs).unwrap_err();
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::UnexpectedHandshake(
            tlspair::wire::HandshakeType::FINISHED
        ))
    );
}

#[test]
fn a_session_with_the_extended_master_secret_offered_without_it_is_refused() {
    // RFC 7627 §5.3, server side: even a server that lets clients
    // without the extension through refuses to resume such a session
    // for one (it used to fall back to a full handshake).
    let sink: &'static LastTicket = leak(LastTicket::default());
    let (cc, mut sc) = ticket_configs(sink, &TLS12_SUITES);
    sc.allow_no_extended_master_secret = true;
    let (cc, sc) = (leak(cc), leak(sc));
    let stored = full_then_ticket(cc, sc, sink);
    let ticket = stored.resumption().ticket.to_vec();
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    // The same server name the ticket was issued under: it would resume.
    let exts = [
        common::hello::sni(b"localhost"),
        common::hello::ext(10, &[0, 2, 0, 29]),
        common::hello::ext(13, &[0, 2, 4, 3]),
        common::hello::ext(0xff01, &[0]),
        common::hello::ext(35, &ticket),
    ]
    .concat();
    let mut hello = common::hello::client_hello_with(0x0303, &[0xc02b], &exts);
    // A 32-byte session id in place of the empty one.
    let at = 5 + 4 + 2 + 32;
    assert_eq!(hello[at], 0);
    hello.splice(at..at + 1, std::iter::once(32u8).chain([5u8; 32]));
    let len = hello.len() - 5;
    hello[3..5].copy_from_slice(&(len as u16).to_be_bytes());
    let body = (len - 4) as u32;
    hello[6..9].copy_from_slice(&body.to_be_bytes()[1..]);
    s.bufs.recv.fill(&hello);
    let err = s.conn.handshake(&mut s.bufs).unwrap_err();
    assert_eq!(
        err,
        Error::PeerIncompatible(PeerIncompatible::NoExtendedMasterSecret)
    );
}

#[test]
fn exported_keying_material_matches_openssls() {
    // RFC 5705 with the extended master secret: s_client (not quiet)
    // prints what it exports for the label, with no context, in its
    // session summary; our server exports the same.
    bounded(|| {
        let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
        let mut sc = tls::p256_server_config();
        sc.suites = leak([suite]);
        let (listener, port) = net::listener();
        let connect = format!("127.0.0.1:{port}");
        let ca = net::cert_path("ca.pem");
        let mut client = Openssl::spawn(&[
            "s_client",
            "-connect",
            &connect,
            "-tls1_2",
            "-CAfile",
            &ca,
            "-keymatexport",
            "EXPERIMENTAL-tlspair",
            "-keymatexportlen",
            "40",
        ]);
        let sock = net::accept(&listener, || client.alive());
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        let mut out = [0u8; 40];
        ours.conn
            .export_keying_material(&mut out, b"EXPERIMENTAL-tlspair", None)
            .unwrap();
        let hex: String = out.iter().map(|b| format!("{b:02X}")).collect();
        client.wait_stdout("s_client's keying material", |o| {
            String::from_utf8_lossy(o).contains("Keying material:")
        });
        let printed = client.stdout.text();
        assert!(printed.contains(&hex), "ours: {hex}\n{printed}");
        // The labels of the key schedule are refused; an empty context
        // differs from none.
        assert!(ours
            .conn
            .export_keying_material(&mut out, b"key expansion", None)
            .is_err());
        let mut with_empty = [0u8; 40];
        ours.conn
            .export_keying_material(&mut with_empty, b"EXPERIMENTAL-tlspair", Some(&[]))
            .unwrap();
        assert_ne!(&with_empty[..], &out[..]);
        client.close_stdin();
    });
}

#[test]
fn a_session_id_resumes_from_the_servers_cache() {
    // No tickets: the server names the session with a session id and
    // keeps it (sealed) in its cache; the client keeps the id and offers
    // it alone.
    let sink: &'static LastTicket = leak(LastTicket::default());
    let cache: &'static tls::SessionMap = leak(tls::SessionMap::default());
    let (cc, mut sc) = ticket_configs(sink, &TLS12_SUITES);
    sc.tickets = 0;
    sc.session_cache = Some(cache);
    let (cc, sc) = (leak(cc), leak(sc));
    let stored = full_then_ticket(cc, sc, sink);
    let offer = leak(stored.resumption());
    assert!(offer.session_id, "a session id, not a ticket");
    assert_eq!(offer.ticket.len(), 32);
    assert_eq!(cache.0.lock().unwrap().len(), 1);
    let mut c =
        tls::side(Connection::client_resuming(cc, Some("localhost"), tls::now(), offer).unwrap());
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(c.conn.negotiated().unwrap().resumed && s.conn.negotiated().unwrap().resumed);
    exchange(&mut c, &mut s, b"by id");
    // An id the cache does not know is a full handshake.
    let mut other = *offer;
    let bogus = [7u8; 32];
    other.ticket = leak(bogus);
    let mut c = tls::side(
        Connection::client_resuming(cc, Some("localhost"), tls::now(), leak(other)).unwrap(),
    );
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    complete(&mut c, &mut s).unwrap();
    assert!(!s.conn.negotiated().unwrap().resumed);
}

#[test]
fn our_client_resumes_by_session_id_with_s_server() {
    // s_server without tickets (-no_ticket) keeps sessions in its cache.
    bounded(|| {
        let key = KeyType::EcdsaP256;
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &["-tls1_2", "-rev", "-no_ticket"],
        );
        let sink: &'static LastTicket = leak(LastTicket::default());
        let mut cc = client_config_for(
            &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
            NamedGroup::X25519,
            key,
        );
        cc.ticket_sink = Some(sink);
        let cc = leak(cc);
        let run = |conn: Connection<'static>| {
            let mut ours = TlsSocket::connect_and_handshake(conn, port)
                .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
            let data = text(64, 9);
            let want = reversed_lines(&data);
            assert_eq!(ours.exchange(&data, want.len()).unwrap(), want);
            let resumed = ours.conn.negotiated().unwrap().resumed;
            let _ = ours.close();
            let _ = ours.read_until_closed();
            resumed
        };
        assert!(!run(
            Connection::client(cc, Some("localhost"), tls::now()).unwrap()
        ));
        let stored = leak(sink.0.lock().unwrap().take().expect("a session id"));
        let offer = leak(stored.resumption());
        assert!(offer.session_id);
        assert!(
            run(Connection::client_resuming(cc, Some("localhost"), tls::now(), offer).unwrap()),
            "s_server did not resume\n{}",
            server.describe()
        );
    });
}

#[test]
fn s_client_resumes_by_session_id_with_our_server() {
    bounded(|| {
        let sess =
            std::env::temp_dir().join(format!("tlspair-tls12-sid-{}.pem", std::process::id()));
        let sess = sess.to_string_lossy().into_owned();
        let cache: &'static tls::SessionMap = leak(tls::SessionMap::default());
        let mut sc = tls::p256_server_config();
        sc.suites = &TLS12_SUITES;
        sc.tickets = 0;
        sc.session_cache = Some(cache);
        sc.ticket_keys =
            (leak([tlspair::handshake::ticket::TicketKey::new(1, &[3; 32]).unwrap()])).into();
        let sc = leak(sc);
        let mut resumed = Vec::new();
        for flag in ["-sess_out", "-sess_in"] {
            let (listener, port) = net::listener();
            let mut client = Openssl::s_client(port, &["-tls1_2", "-no_ticket", flag, &sess]);
            let sock = net::accept(&listener, || client.alive());
            let mut ours = TlsSocket::new(Connection::server(sc, tls::now()).unwrap(), sock);
            ours.handshake()
                .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
            resumed.push(ours.conn.negotiated().unwrap().resumed);
            client.feed(b"line\n".to_vec());
            assert_eq!(ours.read_exact(5).unwrap(), b"line\n");
            client.close_stdin();
            let _ = ours.read_until_closed();
            let _ = ours.close();
            let _ = client.wait_exit();
        }
        let _ = std::fs::remove_file(&sess);
        assert_eq!(resumed, [false, true]);
        assert_eq!(cache.0.lock().unwrap().len(), 1);
    });
}

#[test]
fn an_rsa_server_signs_with_pkcs1_for_a_tls12_client_that_offers_only_that() {
    // RSASSA-PKCS1-v1_5 is legal in TLS 1.2's ServerKeyExchange, and the
    // only RSA signature older clients take (it used to fail with
    // handshake_failure: our RSA key signed with PSS only).
    bounded(|| {
        let key = KeyType::Rsa2048;
        let mut sc = tls::server_config(&[tls::certified(key.credential())]);
        sc.suites = &TLS12_SUITES;
        let (listener, port) = net::listener();
        let mut client = Openssl::s_client(port, &["-tls1_2", "-sigalgs", "RSA+SHA256"]);
        let sock = net::accept(&listener, || client.alive());
        let mut ours = TlsSocket::new(Connection::server(leak(sc), tls::now()).unwrap(), sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert_eq!(
            ours.conn.negotiated().unwrap().signature_scheme,
            Some(tlspair::wire::SignatureScheme::RSA_PKCS1_SHA256)
        );
        client.feed(b"pkcs1\n".to_vec());
        assert_eq!(ours.read_exact(6).unwrap(), b"pkcs1\n");
        client.close_stdin();
        let _ = ours.read_until_closed();
    });
}

// ---------------------------------------------------------------------
// Client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8): each side keeps
// the messages the CertificateVerify signs.

/// A TLS 1.2 pair whose client has `cred`'s certificate and whose server
/// verifies client certificates from the test CA (`mandatory` or not),
/// each keeping the transcript in an owned vector when `keep` says so.
fn tls12_mtls_pair(
    cred: &tlspair::test_credentials::Credential,
    mandatory: bool,
    keep: (bool, bool),
) -> (common::Side, common::Side) {
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.client_auth = Some(tls::certified(cred));
    let mut sc = tls::mtls_server_config();
    sc.suites = &TLS12_SUITES;
    if !mandatory {
        sc.client_verifier = Some(leak(tls::client_verifier().allow_anonymous()));
    }
    let (mut c, mut s) = pair(cc, sc);
    if keep.0 {
        c.conn.keep_tls12_transcript(Vec::new());
    }
    if keep.1 {
        s.conn.keep_tls12_transcript(Vec::new());
    }
    (c, s)
}

#[test]
fn a_client_certificate_of_each_key_type_authenticates_in_tls12() {
    use tlspair::test_credentials as creds;
    for (cred, scheme_kind) in [
        (&creds::CLIENT_ECDSA_P256, "ecdsa"),
        (&creds::CLIENT_ECDSA_P384, "ecdsa"),
        (&creds::CLIENT_ED25519, "ed25519"),
        (&creds::CLIENT_RSA_2048, "rsa"),
    ] {
        let (mut c, mut s) = tls12_mtls_pair(cred, true, (true, true));
        complete(&mut c, &mut s).unwrap_or_else(|e| panic!("{scheme_kind}: {e:?}"));
        let n = s.conn.negotiated().unwrap();
        assert_eq!(n.version, ProtocolVersion::TLS1_2);
        let want: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, cred.cert)
            .as_ref()
            .try_into()
            .unwrap();
        assert_eq!(n.peer_cert_sha256, Some(want), "{scheme_kind}");
        exchange(&mut c, &mut s, b"ping");
        exchange(&mut s, &mut c, b"pong");
        // The copy is no longer needed: an owned vector gave its memory
        // back.
        for side in [&mut c, &mut s] {
            match side.conn.take_tls12_transcript_storage() {
                Some(tlspair::ChainStorage::Owned(v)) => assert_eq!(v.capacity(), 0),
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn a_forged_tls12_certificate_verify_is_decrypt_error() {
    // The server's check can fail: the client signs with another key
    // than its certificate's (the impostor's key under the real
    // client's certificate).
    use tlspair::test_credentials as creds;
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let key = leak(
        tlspair::sign::SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, tls::rng()).unwrap(),
    );
    let chain: &'static [&'static [u8]] = leak([creds::CLIENT_ECDSA_P256.cert]);
    cc.client_auth = Some(tlspair::handshake::CertifiedKey::new(chain, key));
    let mut sc = tls::mtls_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    c.conn.keep_tls12_transcript(Vec::new());
    s.conn.keep_tls12_transcript(Vec::new());
    let (cr, sr) = outcome(&mut c, &mut s);
    assert!(matches!(sr, Err(Error::Certificate(_))), "{sr:?}");
    assert_eq!(
        sr.unwrap_err().alert(),
        Some(tlspair::AlertDescription::DECRYPT_ERROR)
    );
    assert_eq!(
        cr,
        Err(Error::AlertReceived(
            tlspair::AlertDescription::DECRYPT_ERROR
        ))
    );
}

#[test]
fn a_tls12_client_without_transcript_storage_sends_no_certificate() {
    // Documented: without the copy it cannot sign, and answers as a
    // client without a certificate does. A mandatory server refuses
    // with handshake_failure (TLS 1.2 has no certificate_required); an
    // optional one goes on unauthenticated.
    let (mut c, mut s) = tls12_mtls_pair(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
        true,
        (false, true),
    );
    let (cr, sr) = outcome(&mut c, &mut s);
    assert_eq!(sr, Err(PeerIncompatible::NoClientCertificate.into()));
    assert_eq!(
        cr,
        Err(Error::AlertReceived(
            tlspair::AlertDescription::HANDSHAKE_FAILURE
        ))
    );
    let (mut c, mut s) = tls12_mtls_pair(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
        false,
        (false, true),
    );
    complete(&mut c, &mut s).unwrap();
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
    exchange(&mut c, &mut s, b"anonymous");
}

#[test]
fn a_server_verifying_clients_without_transcript_storage_speaks_tls13_only() {
    let (mut c, mut s) = tls12_mtls_pair(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
        true,
        (true, false),
    );
    let (_, sr) = outcome(&mut c, &mut s);
    assert_eq!(sr, Err(PeerIncompatible::NotTls13.into()));
}

#[test]
fn lent_transcript_storage_too_small_fails_the_handshake_saying_how_much() {
    // Each side in turn with 512 bytes (the ClientHello and the server's
    // chain alone take more): the error names the bytes the messages
    // took, and the same handshake with that much lent succeeds.
    for client_short in [true, false] {
        let cred = &tlspair::test_credentials::CLIENT_ECDSA_P256;
        let (mut c, mut s) = tls12_mtls_pair(cred, true, (!client_short, client_short));
        let storage: &'static mut [u8] = Box::leak(vec![0u8; 512].into_boxed_slice());
        if client_short {
            c.conn.keep_tls12_transcript(storage);
        } else {
            s.conn.keep_tls12_transcript(storage);
        }
        let (cr, sr) = outcome(&mut c, &mut s);
        let (ours, theirs) = if client_short { (cr, sr) } else { (sr, cr) };
        let Err(Error::Aborted(tlspair::Misuse::TranscriptStorageTooSmall { needed })) = ours
        else {
            panic!("{ours:?}")
        };
        assert!(needed > 512, "{needed}");
        assert_eq!(
            theirs,
            Err(Error::AlertReceived(
                tlspair::AlertDescription::INTERNAL_ERROR
            ))
        );
        let (mut c, mut s) = tls12_mtls_pair(cred, true, (!client_short, client_short));
        let storage: &'static mut [u8] = Box::leak(vec![0u8; needed + 1024].into_boxed_slice());
        if client_short {
            c.conn.keep_tls12_transcript(storage);
        } else {
            s.conn.keep_tls12_transcript(storage);
        }
        complete(&mut c, &mut s).unwrap_or_else(|e| panic!("with {needed}: {e:?}"));
    }
}

#[test]
fn a_server_with_an_optional_verifier_and_too_little_storage_asks_no_certificate() {
    // An optional verifier takes clients without a certificate: rather
    // than fail a legal ClientHello for want of storage, the server sends
    // no CertificateRequest, the client stays anonymous, and
    // `tls12_transcript_needed` tells how much storage it would have
    // taken. A mandatory verifier fails as before. Failed before: the
    // optional case failed with TranscriptStorageTooSmall too.
    let cred = &tlspair::test_credentials::CLIENT_ECDSA_P256;
    for mandatory in [false, true] {
        let (mut c, mut s) = tls12_mtls_pair(cred, mandatory, (true, false));
        let storage: &'static mut [u8] = Box::leak(vec![0u8; 512].into_boxed_slice());
        s.conn.keep_tls12_transcript(storage);
        let (cr, sr) = outcome(&mut c, &mut s);
        if mandatory {
            assert!(
                matches!(
                    sr,
                    Err(Error::Aborted(
                        tlspair::Misuse::TranscriptStorageTooSmall { .. }
                    ))
                ),
                "{sr:?}"
            );
            continue;
        }
        cr.unwrap();
        sr.unwrap();
        let n = s.conn.negotiated().unwrap();
        assert_eq!(n.version, ProtocolVersion::TLS1_2);
        assert_eq!(n.peer_cert_sha256, None, "no certificate asked for");
        assert!(s.conn.tls12_transcript_needed().is_some_and(|n| n > 512));
        exchange(&mut c, &mut s, b"anonymous for want of storage");
    }
}

/// Our client with `key`'s client certificate against `s_server -tls1_2
/// -Verify 1` (with `extra` arguments): an echo, and s_server printing
/// our certificate's subject.
fn our_client_certificate_to_s_server(key: KeyType, extra: &[&str]) {
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    bounded(move || {
        let ca = net::cert_path("ca.pem");
        let mut args = vec!["-tls1_2", "-rev", "-Verify", "1", "-CAfile", &ca];
        args.extend(extra.iter().map(String::as_str));
        let (server, port) = Openssl::s_server(
            &KeyType::EcdsaP256.cert_pem(),
            &KeyType::EcdsaP256.key_pem(),
            &args,
        );
        let mut cc = tls::client_config();
        cc.suites = &TLS12_SUITES;
        cc.client_auth = Some(tls::certified(key.client_credential()));
        let mut conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("handshake with s_server: {e}\n{}", server.describe()));
        let data = text(1024, 9);
        let want = reversed_lines(&data);
        let got = ours
            .exchange(&data, want.len())
            .unwrap_or_else(|e| panic!("exchange: {e}\n{}", server.describe()));
        assert!(got == want, "echo differs\n{}", server.describe());
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
        net::wait_for("s_server to print our certificate", || {
            server.describe().contains("tlspair test client")
        });
    });
}

/// `s_client -tls1_2` with `key`'s client certificate against our server
/// requiring one: the certificate it proved, a line each way.
fn s_client_certificate_to_our_server(key: KeyType) {
    bounded(move || {
        let mut sc = tls::mtls_server_config();
        sc.suites = &TLS12_SUITES;
        let (listener, port) = net::listener();
        let cert = net::cert_path(&format!("{}.pem", key.client_pem_base()));
        let pkey = net::cert_path(&format!("{}.key.pem", key.client_pem_base()));
        let mut client = Openssl::s_client(port, &["-tls1_2", "-cert", &cert, "-key", &pkey]);
        let sock = net::accept(&listener, || client.alive());
        let mut conn = Connection::server(leak(sc), tls::now()).expect("server");
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::new(conn, sock);
        if let Err(e) = ours.handshake() {
            panic!("handshake with s_client: {e}\n{}", client.describe());
        }
        let n = ours.conn.negotiated().unwrap();
        assert_eq!(n.version, ProtocolVersion::TLS1_2);
        let want: [u8; 32] =
            ring::digest::digest(&ring::digest::SHA256, key.client_credential().cert)
                .as_ref()
                .try_into()
                .unwrap();
        assert_eq!(n.peer_cert_sha256, Some(want));
        let up = b"hello from s_client\n";
        client.feed(up.to_vec());
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        let down = b"hello from tlspair\n";
        ours.send_all(down).unwrap();
        client.wait_stdout("our line", |out| out.ends_with(down));
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        let status = client.wait_exit();
        assert!(
            status.success(),
            "s_client: {status}\n{}",
            client.describe()
        );
    });
}

mod client_certificates {
    use super::*;

    #[test]
    fn ours_to_s_server_ecdsa_p256() {
        our_client_certificate_to_s_server(KeyType::EcdsaP256, &[]);
    }

    #[test]
    fn ours_to_s_server_ecdsa_p384() {
        our_client_certificate_to_s_server(KeyType::EcdsaP384, &[]);
    }

    #[test]
    fn ours_to_s_server_ed25519() {
        our_client_certificate_to_s_server(KeyType::Ed25519, &[]);
    }

    #[test]
    fn ours_to_s_server_rsa() {
        our_client_certificate_to_s_server(KeyType::Rsa2048, &[]);
    }

    #[test]
    fn ours_to_s_server_rsa_asking_for_pkcs1() {
        // A CertificateRequest listing only rsa_pkcs1_sha256: legal in
        // TLS 1.2, and our RSA key signs with it.
        our_client_certificate_to_s_server(KeyType::Rsa2048, &["-client_sigalgs", "RSA+SHA256"]);
    }

    #[test]
    fn ours_to_s_server_ecdsa_asking_for_sha384_only() {
        // A P-256 key cannot sign ECDSA with SHA-384 here (its scheme is
        // fixed): it answers with no certificate, which -Verify refuses.
        let ca = net::cert_path("ca.pem");
        bounded(move || {
            let (server, port) = Openssl::s_server(
                &KeyType::EcdsaP256.cert_pem(),
                &KeyType::EcdsaP256.key_pem(),
                &[
                    "-tls1_2",
                    "-rev",
                    "-Verify",
                    "1",
                    "-CAfile",
                    &ca,
                    "-client_sigalgs",
                    "ECDSA+SHA384",
                ],
            );
            let mut cc = tls::client_config();
            cc.suites = &TLS12_SUITES;
            cc.client_auth = Some(tls::certified(KeyType::EcdsaP256.client_credential()));
            let mut conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
            conn.keep_tls12_transcript(Vec::new());
            let e = TlsSocket::connect_and_handshake(conn, port)
                .err()
                .unwrap_or_else(|| panic!("handshake succeeded\n{}", server.describe()));
            assert_eq!(
                e,
                Error::AlertReceived(tlspair::AlertDescription::HANDSHAKE_FAILURE),
                "{}",
                server.describe()
            );
        });
    }

    #[test]
    fn s_client_to_ours_ecdsa_p256() {
        s_client_certificate_to_our_server(KeyType::EcdsaP256);
    }

    #[test]
    fn s_client_to_ours_ecdsa_p384() {
        s_client_certificate_to_our_server(KeyType::EcdsaP384);
    }

    #[test]
    fn s_client_to_ours_ed25519() {
        s_client_certificate_to_our_server(KeyType::Ed25519);
    }

    #[test]
    fn s_client_to_ours_rsa() {
        s_client_certificate_to_our_server(KeyType::Rsa2048);
    }
}

#[test]
fn a_tls12_ticket_from_an_authenticated_client_resumes_with_its_identity() {
    // The ticket carries the client certificate's digest: the resumed
    // session (which sends no certificate) names the same client. A
    // server whose client verifier has another policy (optional instead
    // of required) does not resume it, and asks for a certificate again.
    use tlspair::test_credentials as creds;
    let sink: &'static LastTicket = leak(LastTicket::default());
    let (mut cc, mut sc) = ticket_configs(sink, &TLS12_SUITES);
    cc.client_auth = Some(tls::certified(&creds::CLIENT_ECDSA_P256));
    sc.client_verifier = Some(leak(tls::client_verifier()));
    let (cc, sc) = (leak(cc), leak(sc));
    let mut c = tls::side(Connection::client(cc, Some("localhost"), tls::now()).unwrap());
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    c.conn.keep_tls12_transcript(Vec::new());
    s.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    let want = s.conn.negotiated().unwrap().peer_cert_sha256;
    assert!(want.is_some());
    let ticket = leak(leak(sink.0.lock().unwrap().take().expect("a ticket")).resumption());
    let mut c =
        tls::side(Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).unwrap());
    let mut s = tls::side(Connection::server(sc, tls::now()).unwrap());
    s.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    let n = s.conn.negotiated().unwrap();
    assert!(n.resumed);
    assert_eq!(n.peer_cert_sha256, want);
    exchange(&mut c, &mut s, b"resumed, authenticated");

    let mut other = (*sc).clone();
    other.client_verifier = Some(leak(tls::client_verifier().allow_anonymous()));
    let mut c =
        tls::side(Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).unwrap());
    c.conn.keep_tls12_transcript(Vec::new());
    let mut s = tls::side(Connection::server(leak(other), tls::now()).unwrap());
    s.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    let n = s.conn.negotiated().unwrap();
    assert!(!n.resumed, "another policy: a full handshake");
    assert_eq!(n.peer_cert_sha256, want, "with the certificate again");
}

/// A TLS 1.2 pair where the server (optional or required client
/// certificates) has asked for one: the server's flight (with its
/// CertificateRequest) as messages, not yet delivered.
fn mtls_server_flight(mandatory: bool) -> (common::Side, common::Side, Vec<Vec<u8>>) {
    let (mut c, mut s) = tls12_mtls_pair(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
        mandatory,
        (true, true),
    );
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    common::transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    let flight = s.bufs.send.pending().to_vec();
    s.bufs.send.consume(flight.len());
    let msgs = messages(&flight);
    assert_eq!(
        msgs.iter().map(|m| m[0]).collect::<Vec<_>>(),
        [2, 11, 12, 13, 14],
        "ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone"
    );
    (c, s, msgs)
}

/// The client's answer to `msgs`: its plaintext handshake messages
/// (Certificate, ClientKeyExchange, CertificateVerify), then the rest of
/// its flight as bytes (ChangeCipherSpec, Finished).
fn mtls_client_flight(mut c: common::Side, msgs: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<u8>) {
    c.bufs.recv.fill(&records(msgs));
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let flight = c.bufs.send.pending().to_vec();
    // Plaintext handshake records up to the ChangeCipherSpec.
    let ccs = (0..flight.len())
        .find(|&i| flight[i..].starts_with(&[20, 3, 3, 0, 1, 1]))
        .expect("a ChangeCipherSpec");
    (messages(&flight[..ccs]), flight[ccs..].to_vec())
}

#[test]
fn tls12_client_authentication_out_of_order_is_refused_with_its_alert() {
    use tlspair::AlertDescription as AD;
    let (c, _s, msgs) = mtls_server_flight(true);
    let (ours, tail) = mtls_client_flight(c, &msgs);
    assert_eq!(
        ours.iter().map(|m| m[0]).collect::<Vec<_>>(),
        [11, 16, 15],
        "Certificate, ClientKeyExchange, CertificateVerify"
    );
    let (cert, cke, cv) = (&ours[0], &ours[1], &ours[2]);
    let empty_cert = message(11, &[0, 0, 0]);
    let mut bad_scheme = cv.clone();
    bad_scheme[4..6].copy_from_slice(&[0x02, 0x03]); // ecdsa_sha1
    let cases: Vec<(&str, Vec<u8>, bool, AD)> = vec![
        // No CertificateVerify: the ChangeCipherSpec comes where it is due.
        (
            "no verify",
            [records(&[cert.clone(), cke.clone()]), tail.clone()].concat(),
            true,
            AD::UNEXPECTED_MESSAGE,
        ),
        // No Certificate at all (RFC 5246 §7.4.6: it must come, empty or not).
        (
            "no certificate",
            records(&[cke.clone(), cv.clone()]),
            true,
            AD::UNEXPECTED_MESSAGE,
        ),
        // A CertificateVerify for no certificate.
        (
            "verify without certificate",
            records(&[empty_cert.clone(), cke.clone(), cv.clone()]),
            false,
            AD::UNEXPECTED_MESSAGE,
        ),
        // A scheme the CertificateRequest did not list.
        (
            "scheme not offered",
            records(&[cert.clone(), cke.clone(), bad_scheme]),
            true,
            AD::ILLEGAL_PARAMETER,
        ),
        // A truncated signature.
        (
            "truncated",
            records(&[cert.clone(), cke.clone(), message(15, &cv[4..cv.len() - 1])]),
            true,
            AD::DECODE_ERROR,
        ),
        // The verify before the key exchange.
        (
            "verify first",
            records(&[cert.clone(), cv.clone(), cke.clone()]),
            true,
            AD::UNEXPECTED_MESSAGE,
        ),
    ];
    for (what, bytes, mandatory, want) in cases {
        let (_c, s, _) = mtls_server_flight(mandatory);
        let (err, alert) = server_answer(s, &bytes);
        assert!(err.is_fatal(), "{what}: {err:?}");
        assert_eq!(alert, fatal(want), "{what}: {err:?}");
    }
}

#[test]
fn a_malformed_tls12_certificate_request_is_decode_error() {
    let (_c, _s, msgs) = mtls_server_flight(true);
    let body = &msgs[3][4..];
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "no certificate types",
            [&[0u8][..], &body[1 + body[0] as usize..]].concat(),
        ),
        (
            "no schemes",
            [&body[..1 + body[0] as usize], &[0, 0, 0, 0][..]].concat(),
        ),
        ("trailing", [body, &[0][..]].concat()),
    ];
    for (what, bad) in cases {
        let (c, _s, mut msgs) = mtls_server_flight(true);
        msgs[3] = message(13, &bad);
        let (err, alert) = client_answer(c, &msgs);
        assert!(err.is_fatal(), "{what}: {err:?}");
        assert_eq!(
            alert,
            fatal(tlspair::AlertDescription::DECODE_ERROR),
            "{what}: {err:?}"
        );
    }
}

#[test]
fn a_tls12_client_hello_with_a_record_size_limit_below_64_is_illegal_parameter() {
    // RFC 8449 §4, as in TLS 1.3 (the TLS 1.2 server ignored it before).
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    let mut hello = c.bufs.send.pending().to_vec();
    let at = hello
        .windows(4)
        .position(|w| w == [0x00, 0x1c, 0x00, 0x02])
        .expect("record_size_limit");
    hello[at + 4..at + 6].copy_from_slice(&63u16.to_be_bytes());
    let (err, alert) = server_answer(s, &hello);
    assert_eq!(
        err,
        PeerMisbehaved::IllegalParameter("record_size_limit below 64").into()
    );
    assert_eq!(alert, fatal(tlspair::AlertDescription::ILLEGAL_PARAMETER));
}

#[test]
fn transcript_storage_stays_while_a_tls12_handshake_copies_into_it() {
    // Taking it back or replacing it mid-handshake would leave a copy
    // that no longer holds what the CertificateVerify signs: both are
    // refused until the handshake is over, then allowed.
    let (mut c, mut s) = tls12_mtls_pair(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
        true,
        (true, true),
    );
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    assert!(c.conn.take_tls12_transcript_storage().is_none());
    assert!(matches!(
        c.conn.keep_tls12_transcript(vec![0u8; 4]),
        Some(tlspair::ChainStorage::Owned(v)) if v.len() == 4
    ));
    complete(&mut c, &mut s).unwrap();
    assert!(s.conn.negotiated().unwrap().peer_cert_sha256.is_some());
    assert!(c.conn.take_tls12_transcript_storage().is_some());
    assert!(s.conn.take_tls12_transcript_storage().is_some());
}

/// A client verifier that lists only a scheme TLS 1.2 refuses (SHA-1).
struct Sha1OnlyVerifier;

impl tlspair::verify::ClientCertVerifier for Sha1OnlyVerifier {
    fn verify_client_cert(
        &self,
        _chain: &[tlspair::verify::CertificateDer<'_>],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<(), tlspair::verify::CertificateError> {
        Ok(())
    }

    fn supported_schemes(&self) -> &[tlspair::wire::SignatureScheme] {
        &[tlspair::wire::SignatureScheme(0x0203)]
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn policy_digest(&self) -> [u8; 32] {
        [1; 32]
    }
}

#[test]
fn a_server_whose_verifier_has_no_tls12_scheme_does_not_ask_in_tls12() {
    // A CertificateRequest must list a scheme; with none to list, such a
    // server speaks TLS 1.3 only, as without transcript storage.
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &BOTH_VERSIONS_SUITES;
    sc.client_verifier = Some(&Sha1OnlyVerifier);
    let (mut c, mut s) = pair(cc, sc);
    s.conn.keep_tls12_transcript(Vec::new());
    let (_, sr) = outcome(&mut c, &mut s);
    assert_eq!(sr, Err(PeerIncompatible::NotTls13.into()));
}

#[test]
fn a_client_with_a_long_chain_needs_room_for_it_only_when_asked() {
    // A client certificate chain of 15 KiB: against a server that asks
    // for no certificate, the default outgoing view (16,413 bytes) is
    // enough; the chain's room is asked for only by a flight with a
    // CertificateRequest.
    use tlspair::test_credentials as creds;
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let filler = vec![0x30u8; 15 * 1024];
    let chain: &'static [&'static [u8]] =
        leak([creds::CLIENT_ECDSA_P256.cert, leak(filler).as_slice()]);
    let key = leak(
        tlspair::sign::SigningKey::from_pkcs8(creds::CLIENT_ECDSA_P256.key, tls::rng()).unwrap(),
    );
    cc.client_auth = Some(tlspair::handshake::CertifiedKey::new(chain, key));
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    c.bufs = tlspair::Buffers::new(vec![0; 20_000], vec![0; tlspair::record::MAX_RECORD_LEN]);
    c.conn.keep_tls12_transcript(Vec::new());
    complete(&mut c, &mut s).unwrap();
    exchange(&mut c, &mut s, b"no certificate asked for");
}

#[test]
fn a_full_record_goes_in_one_tls12_record_both_ways() {
    // A TLS 1.2 record_size_limit counts the content alone (RFC 8449 §4;
    // TLS 1.3's counts the inner content type too): 16,384 bytes are one
    // record of 16,384 each way, not 16,383 and 1.
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    let mut sc = tls::p256_server_config();
    sc.suites = &TLS12_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    complete(&mut c, &mut s).unwrap();
    let data = vec![5u8; 16_384];
    for client_sends in [true, false] {
        let (from, to) = if client_sends {
            (&mut c, &mut s)
        } else {
            (&mut s, &mut c)
        };
        let before = from.bufs.send.len();
        assert_eq!(
            from.conn.write(&mut from.bufs, &data).unwrap(),
            tlspair::Status::Done(data.len())
        );
        assert_eq!(
            from.bufs.send.len() - before,
            16_384 + 29,
            "one record (client sends: {client_sends})"
        );
        common::transfer_all(from, to);
        let mut got = vec![0u8; data.len()];
        assert_eq!(
            to.conn.read(&mut to.bufs, &mut got).unwrap(),
            tlspair::Status::Done(data.len())
        );
    }
}

#[test]
fn a_warning_before_the_server_hello_is_skipped_by_a_client_that_offered_tls12() {
    // Some TLS 1.2 servers send a warning unrecognized_name before their
    // ServerHello (RFC 6066 allows the warning); the version is not
    // known yet, and a client that offered TLS 1.2 reads on. A TLS
    // 1.3-only client takes it as fatal (RFC 8446 §6).
    for (suites, goes_on) in [(&BOTH_VERSIONS_SUITES[..], true), (&TLS12_SUITES[..], true)] {
        let mut cc = tls::client_config();
        cc.suites = leak(suites.to_vec()).as_slice();
        let mut sc = tls::p256_server_config();
        sc.suites = &TLS12_SUITES;
        let (mut c, mut s) = pair(cc, sc);
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        common::transfer_all(&mut c, &mut s);
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
        c.bufs.recv.fill(&[21, 3, 3, 0, 2, 1, 112]);
        common::transfer_all(&mut s, &mut c);
        assert_eq!(goes_on, complete(&mut c, &mut s).is_ok());
    }
    let mut cc = tls::client_config();
    cc.suites = &ALL_SUITES;
    let (mut c, _s) = pair(cc, tls::p256_server_config());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    c.bufs.recv.fill(&[21, 3, 3, 0, 2, 1, 112]);
    assert_eq!(
        c.conn.handshake(&mut c.bufs),
        Err(Error::AlertReceived(
            tlspair::AlertDescription::UNRECOGNIZED_NAME
        ))
    );
}

#[test]
fn a_tls12_only_client_hello_announces_its_limit_as_content() {
    // RFC 8449 §4: at most 2^14 in TLS 1.2, and the value is content; a
    // ClientHello that also offers TLS 1.3 announces the limit plus the
    // inner type byte.
    for (suites, want) in [
        (&TLS12_SUITES[..], 16_384u16),
        (&BOTH_VERSIONS_SUITES[..], 16_385),
    ] {
        let mut cc = tls::client_config();
        cc.suites = leak(suites.to_vec()).as_slice();
        let (mut c, _s) = pair(cc, tls::p256_server_config());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let hello = c.bufs.send.pending();
        let at = hello
            .windows(4)
            .position(|w| w == [0x00, 0x1c, 0x00, 0x02])
            .expect("record_size_limit");
        assert_eq!(u16::from_be_bytes([hello[at + 4], hello[at + 5]]), want);
    }
}

#[test]
fn a_tls13_handshake_stops_the_copy_and_frees_the_storage() {
    // A client with a certificate that offers both versions starts the
    // copy with its ClientHello; a TLS 1.3 ServerHello stops it, so the
    // storage may be taken back before the handshake ends.
    let mut cc = tls::client_config();
    cc.suites = &BOTH_VERSIONS_SUITES;
    cc.client_auth = Some(tls::certified(
        &tlspair::test_credentials::CLIENT_ECDSA_P256,
    ));
    let mut sc = tls::mtls_server_config();
    sc.suites = &BOTH_VERSIONS_SUITES;
    let (mut c, mut s) = pair(cc, sc);
    c.conn.keep_tls12_transcript(Vec::new());
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    assert!(c.conn.take_tls12_transcript_storage().is_none(), "copying");
    common::transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    common::transfer_all(&mut s, &mut c);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    assert_eq!(
        c.conn.negotiated().map(|n| n.version),
        Some(ProtocolVersion::TLS1_3)
    );
    assert!(c.conn.take_tls12_transcript_storage().is_some());
    complete(&mut c, &mut s).unwrap();
}

#[test]
fn a_tls12_only_client_hello_lists_no_hybrid_group() {
    // TLS 1.2 cannot use X25519MLKEM768: a ClientHello offering TLS 1.2
    // only leaves it out of supported_groups (one that offers TLS 1.3 too
    // lists it), and a TLS 1.2-only client with hybrids alone is refused.
    use tlspair::wire::NamedGroup as G;
    let groups: &'static [G] = leak([G::X25519MLKEM768, G::X25519]);
    for (suites, listed) in [
        (&TLS12_SUITES[..], false),
        (&BOTH_VERSIONS_SUITES[..], true),
    ] {
        let mut cc = tls::client_config();
        cc.suites = leak(suites.to_vec()).as_slice();
        cc.groups = groups;
        let (mut c, _s) = pair(cc, tls::p256_server_config());
        let _ = c.conn.handshake(&mut c.bufs).unwrap();
        let hello = c.bufs.send.pending();
        // Record header, handshake header, then the body.
        let ch = tlspair::handshake::messages::ClientHello::parse(&hello[9..]).unwrap();
        let list = ch.ext.supported_groups.expect("supported_groups");
        assert_eq!(list.contains(G::X25519MLKEM768.0), listed);
        assert!(list.contains(G::X25519.0));
    }
    let mut cc = tls::client_config();
    cc.suites = &TLS12_SUITES;
    cc.groups = leak([G::X25519MLKEM768]);
    let (mut c, _s) = pair(cc, tls::p256_server_config());
    assert!(matches!(
        c.conn.handshake(&mut c.bufs),
        Err(Error::Misuse(tlspair::Misuse::BadConfig(_)) | Error::Aborted(_))
    ));
}

/// P_SHA256 (RFC 5246 §5), written here so the test derives the key block
/// on its own.
fn p_sha256(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    use ring::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let seed = [label, seed].concat();
    let mut a = hmac::sign(&key, &seed).as_ref().to_vec();
    for chunk in out.chunks_mut(32) {
        let block = hmac::sign(&key, &[&a[..], &seed].concat());
        chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        a = hmac::sign(&key, &a).as_ref().to_vec();
    }
}

/// A TLS 1.2 record of `content_len` bytes of application data, sealed
/// as the peer of `receiver` would at sequence number 1, from the key
/// log's master secret and the two randoms.
fn tls12_record_to(
    receiver_is_server: bool,
    master: &[u8],
    client_random: &[u8],
    server_random: &[u8],
    content_len: usize,
) -> Vec<u8> {
    let mut block = [0u8; 40];
    let seed = [server_random, client_random].concat();
    p_sha256(master, b"key expansion", &seed, &mut block);
    let (key, iv) = if receiver_is_server {
        (&block[..16], &block[32..36])
    } else {
        (&block[16..32], &block[36..40])
    };
    let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
    let mut k = tlspair::record::protect::RecordKey::new_tls12(suite, key, iv).unwrap();
    k.set_sequence(1);
    let mut rec = vec![0x42; k.overhead() + content_len];
    k.seal(
        tlspair::wire::ContentType::APPLICATION_DATA,
        content_len,
        &mut rec,
    )
    .unwrap();
    rec
}

#[test]
fn a_tls12_peer_is_held_to_the_limit_we_announced() {
    // RFC 8449 §4: a TLS 1.2 record_size_limit is content. What we
    // announce is what binds: a TLS 1.2-only client and any server
    // announce the limit itself; a client that also offered TLS 1.3
    // announced one more (its inner type byte), which a TLS 1.2 server
    // reads as content. Failed before: every TLS 1.2 side took one byte
    // more than it announced.
    let limit = 512;
    for (receiver_is_server, client_suites, taken) in [
        (true, &TLS12_SUITES[..], limit),
        (false, &TLS12_SUITES[..], limit),
        (false, &BOTH_VERSIONS_SUITES[..], limit + 1),
    ] {
        for (len, ok) in [(taken, true), (taken + 1, false)] {
            let log: &'static tls::Lines = leak(tls::Lines::default());
            let mut cc = tls::client_config();
            cc.suites = leak(client_suites.to_vec()).as_slice();
            cc.key_log = Some(log);
            let mut sc = tls::p256_server_config();
            sc.suites = leak([&tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256]);
            if receiver_is_server {
                sc.record.recv_max_fragment_len = limit;
            } else {
                cc.record.recv_max_fragment_len = limit;
            }
            let (mut c, mut s) = pair(cc, sc);
            let _ = c.conn.handshake(&mut c.bufs).unwrap();
            let client_random = c.bufs.send.pending()[11..43].to_vec();
            common::transfer_all(&mut c, &mut s);
            let _ = s.conn.handshake(&mut s.bufs).unwrap();
            let server_random = s.bufs.send.pending()[11..43].to_vec();
            complete(&mut c, &mut s).unwrap();
            let line = log.0.lock().unwrap()[0].clone();
            let master = common::unhex(line.split_whitespace().nth(2).unwrap());
            let rec = tls12_record_to(
                receiver_is_server,
                &master,
                &client_random,
                &server_random,
                len,
            );
            let to = if receiver_is_server { &mut s } else { &mut c };
            to.bufs.recv.fill(&rec);
            let got = to.conn.read(&mut to.bufs, &mut vec![0u8; 20_000]);
            let what = format!("server {receiver_is_server}, {client_suites:?}, {len}: {got:?}");
            if ok {
                assert_eq!(got, Ok(tlspair::Status::Done(len)), "{what}");
            } else {
                let e = got.expect_err(&what);
                assert_eq!(
                    e.alert(),
                    Some(tlspair::AlertDescription::RECORD_OVERFLOW),
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn after_a_hello_retry_request_a_warning_is_fatal_as_in_tls13() {
    // A HelloRetryRequest is TLS 1.3's: from it on, a client that also
    // offered TLS 1.2 follows TLS 1.3's alert rules (RFC 8446 §6), so a
    // warning before the ServerHello is fatal. Failed before: TLS 1.2's
    // rules held until the ServerHello, and the warning was skipped.
    use tlspair::wire::NamedGroup as G;
    let mut cc = tls::client_config();
    cc.suites = &BOTH_VERSIONS_SUITES;
    cc.groups = leak([G::X25519, G::SECP384R1]);
    let mut sc = tls::p256_server_config();
    sc.suites = &BOTH_VERSIONS_SUITES;
    sc.groups = leak([G::SECP384R1]);
    let (mut c, mut s) = pair(cc, sc);
    let _ = c.conn.handshake(&mut c.bufs).unwrap();
    common::transfer_all(&mut c, &mut s);
    let _ = s.conn.handshake(&mut s.bufs).unwrap();
    common::transfer_all(&mut s, &mut c);
    assert_eq!(c.conn.handshake(&mut c.bufs), Ok(tlspair::Status::WantRead));
    assert!(!c.bufs.send.is_empty(), "a second ClientHello");
    c.bufs.recv.fill(&[21, 3, 3, 0, 2, 1, 112]);
    assert_eq!(
        c.conn.handshake(&mut c.bufs),
        Err(Error::AlertReceived(
            tlspair::AlertDescription::UNRECOGNIZED_NAME
        ))
    );
}

#[test]
fn a_server_with_an_optional_verifier_and_no_storage_takes_tls12_clients_anonymously() {
    // No storage and too little storage are one case for a verifier that
    // takes anonymous clients: no CertificateRequest, TLS 1.2 goes on. A
    // mandatory verifier without storage speaks TLS 1.3 only. Failed
    // before: the optional one refused TLS 1.2 (NotTls13) without
    // storage while it went on with too little.
    let cred = &tlspair::test_credentials::CLIENT_ECDSA_P256;
    let (mut c, mut s) = tls12_mtls_pair(cred, false, (true, false));
    complete(&mut c, &mut s).unwrap();
    assert_eq!(
        s.conn.negotiated().unwrap().version,
        ProtocolVersion::TLS1_2
    );
    assert_eq!(s.conn.negotiated().unwrap().peer_cert_sha256, None);
    exchange(&mut c, &mut s, b"anonymous without storage");
    let (mut c, mut s) = tls12_mtls_pair(cred, true, (true, false));
    let (_, sr) = outcome(&mut c, &mut s);
    assert_eq!(sr, Err(PeerIncompatible::NotTls13.into()));
}

/// A TLS 1.2 server that asks for renegotiation in a loop: each
/// HelloRequest is refused with a no_renegotiation warning and the
/// connection goes on while data comes between them; 32 in a row with
/// nothing else (`MAX_EMPTY_RECORDS`) end it with unexpected_message.
#[test]
fn hello_requests_in_a_loop_are_each_refused_then_cut_off() {
    use tlspair::record::protect::RecordKey;
    use tlspair::{ContentType, PeerMisbehaved, Status};
    let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
    let (ck, civ, sk, siv) = ([1u8; 16], [2u8; 4], [3u8; 16], [4u8; 4]);
    let mut client = common::Side {
        conn: Connection::from_tls12_keys(suite, (&ck, &civ), (&sk, &siv), Default::default())
            .unwrap(),
        bufs: tlspair::Buffers::new(vec![0; 40_000], vec![0; 40_000]),
    };
    // The peer's sealing key, and ours to open the warnings.
    let mut server_key = RecordKey::new_tls12(suite, &sk, &siv).unwrap();
    let mut opener = RecordKey::new_tls12(suite, &ck, &civ).unwrap();
    let mut seal = |ty: ContentType, content: &[u8]| {
        let mut rec = vec![0u8; 5 + 8];
        rec.extend(content);
        rec.resize(5 + 8 + content.len() + 16, 0);
        server_key.seal(ty, content.len(), &mut rec).unwrap();
        rec
    };
    let hello_request = [0u8, 0, 0, 0];
    let mut buf = [0u8; 64];
    // Ten rounds of a request and some data: refused, read, refused...
    for round in 0..10 {
        client
            .bufs
            .recv
            .fill(&seal(ContentType::HANDSHAKE, &hello_request));
        client
            .bufs
            .recv
            .fill(&seal(ContentType::APPLICATION_DATA, b"data"));
        assert_eq!(
            client.conn.read(&mut client.bufs, &mut buf),
            Ok(Status::Done(4)),
            "round {round}"
        );
        // Our warning went out.
        let mut rec = client.bufs.send.pending().to_vec();
        client.bufs.send.consume(usize::MAX);
        let (ty, len) = opener.open(&mut rec).unwrap();
        assert_eq!((ty, len), (ContentType::ALERT, 2));
        assert_eq!(
            &rec[13..15],
            &[1, tlspair::AlertDescription::NO_RENEGOTIATION.0]
        );
    }
    // Then nothing but requests.
    for _ in 0..40 {
        client
            .bufs
            .recv
            .fill(&seal(ContentType::HANDSHAKE, &hello_request));
    }
    assert_eq!(
        client.conn.read(&mut client.bufs, &mut buf),
        Err(Error::PeerMisbehaved(PeerMisbehaved::TooManyEmptyRecords))
    );
}

/// `s_server -tls1_2 -msg` with the P-256 key (and `extra` flags), its
/// message log in a file named for `name`: the server, its port, the log.
fn logged_s_server(name: &str, extra: &[&str]) -> (Openssl, u16, std::path::PathBuf) {
    let key = KeyType::EcdsaP256;
    let log = std::env::temp_dir().join(format!(
        "tlspair-tls12-reneg-{name}-{}.msg",
        std::process::id()
    ));
    let log_path = log.to_string_lossy().into_owned();
    let mut args = vec!["-tls1_2", "-msg", "-msgfile", &log_path];
    args.extend_from_slice(extra);
    let (server, port) = Openssl::s_server(&key.cert_pem(), &key.key_pem(), &args);
    (server, port, log)
}

/// Our client for [`logged_s_server`], performing `renegotiations` of its
/// renegotiations.
fn renegotiating_client(renegotiations: u8) -> tlspair::handshake::ClientConfig<'static> {
    let mut cc = client_config_for(
        &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
        NamedGroup::X25519,
        KeyType::EcdsaP256,
    );
    cc.renegotiations = renegotiations;
    cc
}

/// Has s_server start a renegotiation (`letter`: `r`, or `R` to ask for
/// our certificate too), and waits until its log shows the `count`th
/// HelloRequest out.
fn ask_renegotiation(server: &mut Openssl, log: &std::path::Path, letter: &str, count: usize) {
    server.feed(format!("{letter}\n").into_bytes());
    net::wait_for("s_server's HelloRequest", || {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .matches("HelloRequest")
            .count()
            >= count
    });
}

/// [`logged_s_server`] and [`renegotiating_client`], connected, the
/// handshake done.
fn renegotiating_pair(name: &str, renegotiations: u8) -> (Openssl, std::path::PathBuf, TlsSocket) {
    let (server, port, log) = logged_s_server(name, &[]);
    let conn = Connection::client(
        leak(renegotiating_client(renegotiations)),
        Some("localhost"),
        tls::now(),
    )
    .unwrap();
    let ours = TlsSocket::connect_and_handshake(conn, port)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
    (server, log, ours)
}

/// `s_server -tls1_2` renegotiates when a line `r` comes on its stdin
/// (`R`: and asks for a client certificate). Our client, configured to
/// accept, performs the renegotiation inside its reads (RFC 5746: its
/// ClientHello carries our verify_data, the ServerHello both), data
/// flows before, during and after, and the -msg log shows the second
/// handshake.
fn renegotiation_asked_by_s_server(letter: &'static str, with_certificate: bool) {
    bounded(move || {
        let ca = net::cert_path("ca.pem");
        let (mut server, port, log) = logged_s_server(letter, &["-CAfile", &ca]);
        let mut cc = renegotiating_client(2);
        if with_certificate {
            cc.client_auth = Some(tls::certified(
                &tlspair::test_credentials::CLIENT_ECDSA_P256,
            ));
        }
        let mut conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
        // TLS 1.2's CertificateVerify signs the messages: lent storage.
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        let before = *ours.conn.negotiated().unwrap();
        server.feed(b"before\n".to_vec());
        assert_eq!(ours.read_exact(7).unwrap(), b"before\n");
        ask_renegotiation(&mut server, &log, letter, 1);
        server.feed(b"after\n".to_vec());
        let got = ours
            .read_exact(6)
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        assert_eq!(got, b"after\n");
        ours.send_all(b"reply\n").unwrap();
        server.wait_stdout("reply", |out| {
            String::from_utf8_lossy(out).contains("reply\n")
        });
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let count = |needle: &str| text.lines().filter(|l| l.ends_with(needle)).count();
        assert_eq!(count(", ClientHello"), 2, "{text}");
        assert_eq!(count(", ServerHello"), 2, "{text}");
        assert_eq!(count(", Finished"), 4, "{text}");
        if with_certificate {
            assert_eq!(count(", CertificateVerify"), 1, "{text}");
        }
        let after = *ours.conn.negotiated().unwrap();
        assert_eq!(after.suite, before.suite);
        assert_eq!(after.peer_cert_sha256, before.peer_cert_sha256);
        assert!(!ours.conn.is_handshaking());
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    });
}

#[test]
fn a_renegotiation_asked_by_s_server_is_performed_inside_read() {
    renegotiation_asked_by_s_server("r", false);
}

#[test]
fn a_renegotiation_asking_for_our_certificate_is_performed_inside_read() {
    renegotiation_asked_by_s_server("R", true);
}

/// A client configured for one renegotiation performs the first the
/// server asks for and refuses the second with a no_renegotiation
/// warning (which s_server, having asked, answers with handshake_failure).
#[test]
fn renegotiations_past_the_configured_count_are_refused_with_a_warning() {
    bounded(|| {
        let (mut server, log, mut ours) = renegotiating_pair("count", 1);
        for (round, expect_renegotiation) in [(1, true), (2, false)] {
            ask_renegotiation(&mut server, &log, "r", round);
            let line = format!("line {round}\n");
            server.feed(line.clone().into_bytes());
            let got = ours.read_exact(line.len());
            // The line may come before the server's flight: read on
            // until the renegotiation is over.
            while got.is_ok() && ours.conn.is_renegotiating() {
                let mut buf = [0u8; 16];
                match ours.conn.read(&mut ours.bufs, &mut buf) {
                    Ok(tlspair::Status::Done(_)) => panic!("no more data expected"),
                    Ok(_) => {
                        ours.pump();
                    }
                    Err(e) => panic!("{e}\n{}", server.describe()),
                }
            }
            if expect_renegotiation {
                assert_eq!(got.unwrap(), line.as_bytes());
            } else {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                assert!(
                    matches!(
                        got,
                        Err(Error::AlertReceived(
                            tlspair::AlertDescription::HANDSHAKE_FAILURE
                        ))
                    ) || got.is_ok(),
                    "{got:?}\n{text}"
                );
            }
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert_eq!(
            text.lines()
                .filter(|l| l.ends_with(", ClientHello"))
                .count(),
            2,
            "{text}"
        );
        assert!(text.contains("warning no_renegotiation"), "{text}");
    });
}

/// While the renegotiation s_server asked for runs, our client's write
/// answers WantRead (its data waits: OpenSSL takes none after its
/// ServerHello); repeated as the contract says, it completes after the
/// renegotiation, every byte once.
#[test]
fn a_write_during_a_renegotiation_answers_want_read_then_completes() {
    bounded(|| {
        let (mut server, log, mut ours) = renegotiating_pair("w", 1);
        ask_renegotiation(&mut server, &log, "r", 1);
        // Let the HelloRequest arrive, then read it: the renegotiation
        // starts inside that read.
        net::wait_for("the HelloRequest on our side", || {
            ours.pump();
            !ours.bufs.recv.is_empty()
        });
        let mut buf = [0u8; 16];
        assert_eq!(
            ours.conn.read(&mut ours.bufs, &mut buf),
            Ok(tlspair::Status::WantRead)
        );
        assert!(ours.conn.is_renegotiating());
        assert!(!ours.conn.is_handshaking(), "established all along");
        // Our write now waits for the renegotiation.
        let data = text(40_000, 3);
        assert_eq!(
            ours.conn.write(&mut ours.bufs, &data),
            Ok(tlspair::Status::WantRead)
        );
        assert_eq!(ours.conn.write_progress(), 0, "nothing sealed");
        // The same call repeated until done: it drives the renegotiation.
        ours.send_all(&data).unwrap();
        assert!(!ours.conn.is_renegotiating());
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert_eq!(
            text.lines()
                .filter(|l| l.ends_with(", ServerHello"))
                .count(),
            2,
            "{text}"
        );
        // s_server printed what it read: all of it, the end last.
        let tail = data[data.len() - 200..].to_vec();
        server.wait_stdout("our data", move |out| {
            out.windows(tail.len()).any(|w| w == tail.as_slice())
        });
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    });
}

/// Starts the renegotiation s_server asks for (`r`) and keeps our
/// ClientHello from it: the connection is renegotiating, the server
/// has not answered. The server, its message log, and our side.
fn renegotiation_held_back(name: &str) -> (Openssl, std::path::PathBuf, TlsSocket) {
    let (mut server, log, mut ours) = renegotiating_pair(name, 1);
    ask_renegotiation(&mut server, &log, "r", 1);
    // Its sealed HelloRequest: 5 + 8 + 4 + 16 bytes, read without
    // sending anything.
    net::wait_for("the HelloRequest on our side", || {
        receive_only(&mut ours);
        ours.bufs.recv.len() >= 33
    });
    let mut buf = [0u8; 16];
    assert_eq!(
        ours.conn.read(&mut ours.bufs, &mut buf),
        Ok(tlspair::Status::WantRead)
    );
    assert!(ours.conn.is_renegotiating());
    assert!(!ours.bufs.send.is_empty(), "our ClientHello, held back");
    (server, log, ours)
}

/// Moves what has come from the socket into the received view, and
/// sends nothing.
fn receive_only(ours: &mut TlsSocket) {
    use std::io::Read;
    let spare = ours.bufs.recv.spare_mut();
    match ours.sock.read(spare) {
        Ok(0) => ours.bufs.recv.set_eof(),
        Ok(n) => {
            ours.bufs.recv.commit(n);
        }
        Err(_) => {}
    }
}

/// Our shutdown while a renegotiation runs: our close_notify goes out
/// (the ClientHello before it), the renegotiation cannot finish past it
/// and is abandoned, as a handshake that owes a flight is.
#[test]
fn a_shutdown_during_a_renegotiation_abandons_it() {
    bounded(|| {
        let (server, log, mut ours) = renegotiation_held_back("shutdown");
        assert_eq!(
            ours.conn.shutdown(&mut ours.bufs),
            Ok(tlspair::Status::Done(Shutdown::Sent))
        );
        let mut buf = [0u8; 16];
        assert_eq!(
            ours.conn.read(&mut ours.bufs, &mut buf),
            Err(Error::Abandoned)
        );
        assert_eq!(ours.conn.write(&mut ours.bufs, b"x"), Err(Error::Abandoned));
        ours.flush();
        let _ = std::fs::remove_file(&log);
        drop(server);
    });
}

/// Data the server sends after its HelloRequest, left unread at the
/// front of our received view, does not hold up the renegotiation: a
/// `write` reads the server's flight behind it, answers its own, and
/// completes once the renegotiation has; the data is read afterwards,
/// whole and once. (Before the receive view kept records behind unread
/// plaintext, this write answered `WantRead` for ever.)
#[test]
fn a_write_reads_a_renegotiation_behind_unread_data() {
    bounded(|| {
        let (mut server, log, mut ours) = renegotiating_pair("unread", 1);
        ask_renegotiation(&mut server, &log, "r", 1);
        server.feed(b"during\n".to_vec());
        // The sealed HelloRequest (5 + 8 + 4 + 16 bytes) and the line
        // (5 + 8 + 7 + 16) both here before we look.
        net::wait_for("the HelloRequest and the line", || {
            ours.pump();
            ours.bufs.recv.len() >= 33 + 36
        });
        // Lent, not consumed: the renegotiation starts, the line stays.
        match ours.conn.read_in_place(&mut ours.bufs) {
            Ok(tlspair::Status::Done(plain)) => assert_eq!(plain, b"during\n"),
            other => panic!("{other:?}"),
        }
        assert!(ours.conn.is_renegotiating());
        assert_eq!(ours.conn.pending_plaintext(), 7);
        // The write performs the renegotiation behind the unread line.
        let data = text(20_000, 5);
        ours.send_all(&data).unwrap();
        assert!(!ours.conn.is_renegotiating());
        assert_eq!(ours.read_exact(7).unwrap(), b"during\n");
        let tail = data[data.len() - 200..].to_vec();
        server.wait_stdout("our data", move |out| {
            out.windows(tail.len()).any(|w| w == tail.as_slice())
        });
        server.feed(b"after\n".to_vec());
        assert_eq!(ours.read_exact(6).unwrap(), b"after\n");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert_eq!(
            text.lines()
                .filter(|l| l.ends_with(", ServerHello"))
                .count(),
            2,
            "{text}"
        );
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    });
}

/// `Stream` performs a renegotiation s_server asks for inside its
/// blocking `read` and `write` (SSL_MODE_AUTO_RETRY): the caller never
/// sees `WantRead`, and every byte goes through once.
#[test]
fn stream_performs_a_renegotiation_inside_read_and_write() {
    use std::io::{Read, Write};
    bounded(|| {
        let (mut server, port, log) = logged_s_server("stream", &[]);
        let conn = Connection::client(leak(renegotiating_client(1)), Some("localhost"), tls::now())
            .unwrap();
        let sock = net::connect(port);
        sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut stream = tlspair::Stream::new(conn, sock);
        stream.handshake().unwrap();
        ask_renegotiation(&mut server, &log, "r", 1);
        server.feed(b"line\n".to_vec());
        let mut got = [0u8; 5];
        stream.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"line\n");
        let data = text(30_000, 9);
        stream.write_all(&data).unwrap();
        stream.flush().unwrap();
        let tail = data[data.len() - 200..].to_vec();
        server.wait_stdout("our data", move |out| {
            out.windows(tail.len()).any(|w| w == tail.as_slice())
        });
        assert!(!stream.connection().is_renegotiating());
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert_eq!(
            text.lines()
                .filter(|l| l.ends_with(", ServerHello"))
                .count(),
            2,
            "{text}"
        );
    });
}

/// Our server asks `s_client -tls1_2` for a renegotiation (a
/// HelloRequest): s_client performs it inside its reads, our server
/// inside its own, data goes on both ways, and s_client's message log
/// shows the second handshake. With `client_auth` (the per-resource
/// case: the handshake left the client anonymous) s_client's certificate
/// is the connection's once it completes, and the hook says so.
fn our_server_renegotiates_with_s_client(client_auth: bool) {
    bounded(move || {
        let told = leak(tls::Told::default());
        let mut sc = tls::mtls_server_config();
        if !client_auth {
            sc.client_verifier = None;
        }
        sc.suites = &tlspair::TLS12_SUITES;
        sc.auth_hook = Some(told);
        sc.defer_tls12_client_auth = true;
        let (listener, port) = net::listener();
        let (cert, key) = (
            net::cert_path("client-p256.pem"),
            net::cert_path("client-p256.key.pem"),
        );
        let mut args = vec!["-tls1_2", "-msg"];
        if client_auth {
            args.extend(["-cert", &cert, "-key", &key]);
        }
        let mut client = Openssl::s_client(port, &args);
        let sock = net::accept(&listener, || client.alive());
        let mut conn = Connection::server(leak(sc), tls::now()).unwrap();
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake: {e}\n{}", client.describe()));
        assert_eq!(ours.conn.negotiated().unwrap().peer_cert_sha256, None);
        client.feed(b"before\n".to_vec());
        assert_eq!(ours.read_exact(7).unwrap(), b"before\n");
        assert_eq!(
            ours.conn
                .renegotiate(&mut ours.bufs, tls::now(), client_auth),
            Ok(tlspair::Status::Done(()))
        );
        ours.flush();
        // Lines until the renegotiation has completed on our side.
        let mut round = 0;
        while told.take().is_empty() {
            round += 1;
            assert!(round < 200, "no renegotiation\n{}", client.describe());
            client.feed(b"x\n".to_vec());
            assert_eq!(
                ours.read_exact(2)
                    .unwrap_or_else(|e| panic!("{e}\n{}", client.describe())),
                b"x\n"
            );
        }
        assert!(!ours.conn.is_renegotiating());
        assert_eq!(
            ours.conn.negotiated().unwrap().peer_cert_sha256.is_some(),
            client_auth
        );
        ours.send_all(b"down\n").unwrap();
        client.wait_stdout("our line and the second handshake", |out| {
            let text = String::from_utf8_lossy(out);
            text.contains("down\n") && text.matches(", ClientHello").count() == 2
        });
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
    });
}

#[test]
fn our_server_renegotiates_with_s_client_inside_its_reads() {
    our_server_renegotiates_with_s_client(false);
}

#[test]
fn our_server_asks_s_client_for_its_certificate_in_a_renegotiation() {
    our_server_renegotiates_with_s_client(true);
}

/// s_client starts a renegotiation (its `R` command). A server that
/// allows one performs it inside its reads; by default it refuses with a
/// no_renegotiation warning, which OpenSSL, having asked, answers with
/// handshake_failure.
fn s_client_starts_a_renegotiation(allowed: bool) {
    bounded(move || {
        let told = leak(tls::Told::default());
        let mut sc = tls::p256_server_config();
        sc.suites = &tlspair::TLS12_SUITES;
        sc.auth_hook = Some(told);
        sc.renegotiations = u8::from(allowed);
        let (listener, port) = net::listener();
        let mut client = Openssl::s_client(port, &["-tls1_2", "-msg"]);
        let sock = net::accept(&listener, || client.alive());
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake: {e}\n{}", client.describe()));
        client.feed(b"R\n".to_vec());
        client.wait_stdout("s_client's second ClientHello", |out| {
            String::from_utf8_lossy(out)
                .matches(", ClientHello")
                .count()
                == 2
        });
        client.feed(b"after\n".to_vec());
        let got = ours.read_exact(6);
        if allowed {
            assert_eq!(
                got.unwrap_or_else(|e| panic!("{e}\n{}", client.describe())),
                b"after\n"
            );
            assert_eq!(told.take(), ["renegotiated 1 cert=false"]);
            ours.send_all(b"down\n").unwrap();
            client.wait_stdout("our line", |out| {
                String::from_utf8_lossy(out).contains("down\n")
            });
            client.close_stdin();
            assert_eq!(ours.read_until_closed().unwrap(), b"");
        } else {
            assert_eq!(
                got,
                Err(Error::AlertReceived(
                    tlspair::AlertDescription::HANDSHAKE_FAILURE
                )),
                "{}",
                client.describe()
            );
            assert!(told.take().is_empty());
            let out = client.describe();
            assert!(out.contains("no_renegotiation"), "{out}");
        }
    });
}

#[test]
fn s_client_renegotiation_is_performed_when_allowed() {
    s_client_starts_a_renegotiation(true);
}

#[test]
fn s_client_renegotiation_is_refused_by_default() {
    s_client_starts_a_renegotiation(false);
}
