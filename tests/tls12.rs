//! TLS 1.2 against real peers: the `openssl` command-line tool in both
//! roles (`s_server -tls1_2`, `s_client -tls1_2`), every TLS 1.2 suite ×
//! group × key type its suite allows, and the version negotiation matrix.

mod common;

use common::interop::{reversed_lines, text, KeyType};
use common::net::{self, bounded, Openssl, TlsSocket};
use common::tls;
use tlspair::handshake::ClientConfig;
use tlspair::wire::{NamedGroup, ProtocolVersion};
use tlspair::{Connection, Shutdown, Suite};

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

/// The curve of an ECDSA key: RFC 8422 §5.1 lets supported_groups
/// constrain ECDSA certificates' curves too, and OpenSSL holds TLS 1.2
/// clients to it.
fn cert_curve(key: KeyType) -> Option<NamedGroup> {
    match key {
        KeyType::EcdsaP256 => Some(NamedGroup::SECP256R1),
        KeyType::EcdsaP384 => Some(NamedGroup::SECP384R1),
        _ => None,
    }
}

/// Our client offering exactly `suite` and `group` (and the curve of the
/// server's ECDSA key after it).
fn client_config(suite: &'static Suite, group: NamedGroup, key: KeyType) -> ClientConfig<'static> {
    let mut cc = tls::client_config();
    cc.suites = leak([suite]);
    cc.groups = match cert_curve(key).filter(|c| *c != group) {
        Some(curve) => leak([group, curve]),
        None => leak([group]),
    };
    cc
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
            leak(client_config(suite, group, key)),
            Some("localhost"),
            tls::now(),
        )
        .expect("client");
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("handshake with s_server: {e}\n{}", server.describe()));
        let n = ours.conn.negotiated().expect("negotiated");
        assert_eq!(n.version, ProtocolVersion::TLS1_2);
        assert_eq!(n.suite, suite.id);
        assert_eq!(n.group, Some(group));
        assert!(n
            .signature_scheme
            .is_some_and(|s| key.schemes().contains(&s)));
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

#[test]
fn smoke_client() {
    our_client_with_s_server(
        &tlspair::record::suite::ECDHE_ECDSA_AES_128_GCM_SHA256,
        NamedGroup::X25519,
        KeyType::EcdsaP256,
    );
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
        let n = ours.conn.negotiated().expect("negotiated");
        assert_eq!(n.version, ProtocolVersion::TLS1_2);
        assert_eq!(n.suite, suite.id);
        assert_eq!(n.group, Some(group));
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

#[test]
fn smoke_server() {
    s_client_with_our_server(
        &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256,
        NamedGroup::X25519,
        KeyType::EcdsaP256,
    );
}
