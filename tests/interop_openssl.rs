//! Interop with the OpenSSL command-line tool over loopback TCP, both ways:
//!
//! - our client against `openssl s_server -rev` (an echo server that sends
//!   each line back reversed, so every byte we send is checked on its way
//!   back);
//! - `openssl s_client -quiet` against our server (its stdin is what it
//!   sends us, its stdout what it received from us).
//!
//! Every suite × group × server key type in each direction, then ALPN, SNI,
//! 1 MiB each way, close_notify each way, truncation when the peer process
//! is killed, KeyUpdate from and to OpenSSL, and a peer sending 512-byte
//! records. Each test is bounded in time and kills its `openssl` children.
//! If `openssl` is missing every test fails, saying so.
//!
//! HelloRetryRequest and resumption each way have a test of their own; the
//! matrix offers exactly one group on each side, so it never needs a
//! retry. Not covered: 0-RTT (not implemented), client certificates.

mod common;

use common::tls::Tickets;

use common::interop::{
    assert_negotiated, client_config, openssl_group, openssl_suite, reversed_lines, server_config,
    text, text_with_lines, KeyType,
};
use common::net::{self, bounded, Openssl, TlsSocket, KEY_UPDATE_RECORD_LEN};
use common::tls;
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::test_credentials as creds;
use tlspair::wire::NamedGroup;
use tlspair::{
    Connection, Error, PeerIncompatible, Shutdown, Suite, TLS13_AES_128_GCM_SHA256,
    TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// `s_server -rev` with the P-256 certificate and `args`.
fn s_server(args: &[&str]) -> (Openssl, u16) {
    let key = KeyType::EcdsaP256;
    Openssl::s_server(&key.cert_pem(), &key.key_pem(), args)
}

/// Our client, connected to `port` and through the handshake; on failure
/// the peer's output is part of the message.
fn our_client(cc: ClientConfig<'static>, port: u16, peer: &Openssl) -> TlsSocket {
    let conn = Connection::client(leak(cc), Some("localhost"), tls::now()).expect("client");
    TlsSocket::connect_and_handshake(conn, port)
        .unwrap_or_else(|e| panic!("handshake with s_server: {e}\n{}", peer.describe()))
}

/// Our server on a fresh port, and `s_client` (with `args`) connected to
/// it; the handshake has not run yet.
fn our_server_and_s_client(sc: ServerConfig<'static>, args: &[&str]) -> (TlsSocket, Openssl) {
    let (listener, port) = net::listener();
    let mut client = Openssl::s_client(port, args);
    let sock = net::accept(&listener, || client.alive());
    let conn = Connection::server(leak(sc), tls::now()).expect("server");
    (TlsSocket::new(conn, sock), client)
}

/// Our server and `s_client`, through the handshake.
fn our_server_with_s_client(sc: ServerConfig<'static>, args: &[&str]) -> (TlsSocket, Openssl) {
    let (mut ours, client) = our_server_and_s_client(sc, args);
    if let Err(e) = ours.handshake() {
        panic!("handshake with s_client: {e}\n{}", client.describe());
    }
    (ours, client)
}

/// Lines through `s_server -rev` and back.
fn echo_through_s_server(ours: &mut TlsSocket, server: &Openssl, data: &[u8]) {
    let want = reversed_lines(data);
    let got = ours
        .exchange(data, want.len())
        .unwrap_or_else(|e| panic!("exchange: {e}\n{}", server.describe()));
    assert!(got == want, "echo differs\n{}", server.describe());
}

/// Both close_notify alerts exchanged, us first; `s_server -rev` answers
/// ours with its own.
fn close_with_s_server(ours: &mut TlsSocket, server: &Openssl) {
    assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    let rest = ours
        .read_until_closed()
        .unwrap_or_else(|e| panic!("waiting for close_notify: {e}\n{}", server.describe()));
    assert!(rest.is_empty());
    assert_eq!(ours.close().unwrap(), Shutdown::Complete);
}

/// One line each way, then s_client's close_notify (end of its stdin) and
/// ours; s_client exits cleanly.
fn talk_and_close_with_s_client(ours: &mut TlsSocket, client: &mut Openssl) {
    let up = b"hello from s_client\n";
    client.feed(up.to_vec());
    let got = ours.read_exact(up.len()).unwrap();
    assert_eq!(got, up);
    let down = b"hello from tlspair\n";
    ours.send_all(down).unwrap();
    client.wait_stdout("our line", |out| out.ends_with(down));
    client.close_stdin();
    assert_eq!(ours.read_until_closed().unwrap(), b"");
    assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    let status = client.wait_exit();
    assert!(
        status.success(),
        "s_client: {status}\n{}",
        client.describe()
    );
}

// ---------------------------------------------------------------------
// The matrix: suite × group × server key type, each direction.

/// Our client against s_server restricted to one suite and group, with
/// this key type's certificate.
fn our_client_with_s_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &[
                "-rev",
                "-ciphersuites",
                openssl_suite(suite),
                "-groups",
                openssl_group(group),
            ],
        );
        let mut ours = our_client(client_config(suite, group), port, &server);
        assert_negotiated(&ours.conn, suite, group, key);
        echo_through_s_server(&mut ours, &server, &text(4096, 1));
        close_with_s_server(&mut ours, &server);
    });
}

/// s_client restricted to one suite and group against our server with this
/// key type's certificate.
fn s_client_with_our_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (mut ours, mut client) = our_server_with_s_client(
            server_config(suite, group, key),
            &[
                "-ciphersuites",
                openssl_suite(suite),
                "-groups",
                openssl_group(group),
            ],
        );
        assert_negotiated(&ours.conn, suite, group, key);
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

mod our_client_with_s_server {
    crate::interop_matrix!(crate::our_client_with_s_server);
}

mod s_client_with_our_server {
    crate::interop_matrix!(crate::s_client_with_our_server);
}

// ---------------------------------------------------------------------
// ALPN and SNI.

#[test]
fn alpn_our_client_gets_s_server_choice() {
    bounded(|| {
        let (server, port) = s_server(&["-rev", "-alpn", "h2"]);
        let mut cc = tls::client_config();
        cc.alpn = &[b"http/1.1", b"h2"];
        let mut ours = our_client(cc, port, &server);
        // Index into our list: s_server chose "h2".
        assert_eq!(ours.conn.negotiated().unwrap().alpn_index, Some(1));
        echo_through_s_server(&mut ours, &server, b"alpn\n");
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn alpn_our_server_picks_from_s_client_offer() {
    bounded(|| {
        let mut sc = server_config(
            &TLS13_AES_128_GCM_SHA256,
            NamedGroup::X25519,
            KeyType::EcdsaP256,
        );
        sc.alpn = &[b"http/1.1", b"h2"];
        let (mut ours, mut client) = our_server_with_s_client(sc, &["-alpn", "h2,http/1.1"]);
        // Our preference wins: http/1.1, index 0 of our list.
        assert_eq!(ours.conn.negotiated().unwrap().alpn_index, Some(0));
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn alpn_without_common_protocol_our_server_sends_no_application_protocol() {
    bounded(|| {
        let mut sc = server_config(
            &TLS13_AES_128_GCM_SHA256,
            NamedGroup::X25519,
            KeyType::EcdsaP256,
        );
        sc.alpn = &[b"http/1.1"];
        let (mut ours, mut client) = our_server_and_s_client(sc, &["-alpn", "h2"]);
        assert_eq!(
            ours.handshake().unwrap_err(),
            Error::PeerIncompatible(PeerIncompatible::NoSharedProtocol)
        );
        let status = client.wait_exit();
        assert!(!status.success());
        // OpenSSL names the alert it received.
        assert!(
            client.stderr.contains("no application protocol"),
            "{}",
            client.describe()
        );
    });
}

#[test]
fn sni_our_client_makes_s_server_switch_certificate() {
    bounded(|| {
        // The default certificate is for example.com: only a client that
        // sends SNI "localhost" gets the localhost one (-cert2), so our
        // client verifying the name localhost proves the SNI was sent and
        // understood.
        let good = KeyType::EcdsaP256;
        let (server, port) = Openssl::s_server(
            "wrong-name-p256.pem",
            "wrong-name-p256.key.pem",
            &[
                "-rev",
                "-servername",
                "localhost",
                "-servername_fatal",
                "-cert2",
                &net::cert_path(&good.cert_pem()),
                "-key2",
                &net::cert_path(&good.key_pem()),
            ],
        );
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, b"sni\n");
        close_with_s_server(&mut ours, &server);
    });
}

/// Our server holding a default chain and one named for localhost.
fn sni_server_config() -> ServerConfig<'static> {
    let mut named = tls::certified(&creds::SERVER_ECDSA_P256);
    named = named.for_names(&["localhost"]);
    let default = tls::certified(&creds::SERVER_ECDSA_P384);
    tls::server_config(&[default, named])
}

#[test]
fn sni_from_s_client_selects_our_named_certificate() {
    bounded(|| {
        let (mut ours, mut client) =
            our_server_with_s_client(sni_server_config(), &["-servername", "localhost"]);
        assert_eq!(ours.conn.negotiated().unwrap().cert_index, Some(1));
        let name = ours.conn.negotiated().unwrap().server_name;
        assert_eq!(name.as_ref().map(|n| n.as_str()), Some("localhost"));
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn no_sni_from_s_client_gets_our_default_certificate() {
    bounded(|| {
        let (mut ours, mut client) =
            our_server_with_s_client(sni_server_config(), &["-noservername"]);
        assert_eq!(ours.conn.negotiated().unwrap().cert_index, Some(0));
        assert!(ours.conn.negotiated().unwrap().server_name.is_none());
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

// ---------------------------------------------------------------------
// Refusals: the alert must reach the peer, sealed under the keys it
// expects at that point of the handshake.

#[test]
fn our_client_refusing_s_server_certificate_sends_bad_certificate() {
    bounded(|| {
        let (mut server, port) =
            Openssl::s_server("wrong-name-p256.pem", "wrong-name-p256.key.pem", &["-rev"]);
        let conn = Connection::client(leak(tls::client_config()), Some("localhost"), tls::now())
            .expect("client");
        let err = TlsSocket::connect_and_handshake(conn, port).unwrap_err();
        assert_eq!(
            err,
            Error::Certificate(tlspair::verify::CertificateError::NotValidForName)
        );
        // OpenSSL decrypted our alert (handshake keys) and names it.
        net::wait_for("s_server to report our alert", || {
            server.stderr.contains("alert bad certificate")
        });
        server.alive().expect("s_server goes on serving");
    });
}

#[test]
fn our_client_refusing_unknown_ca_sends_unknown_ca() {
    bounded(|| {
        let (server, port) =
            Openssl::s_server("untrusted-p256.pem", "untrusted-p256.key.pem", &["-rev"]);
        let conn = Connection::client(leak(tls::client_config()), Some("localhost"), tls::now())
            .expect("client");
        let err = TlsSocket::connect_and_handshake(conn, port).unwrap_err();
        assert_eq!(
            err,
            Error::Certificate(tlspair::verify::CertificateError::UnknownIssuer)
        );
        net::wait_for("s_server to report our alert", || {
            server.stderr.contains("alert unknown ca")
        });
    });
}

/// OpenSSL's client has not switched its sending side to the handshake
/// keys when it refuses the server's certificate, so its alert comes in
/// the clear, after our encrypted flight: `15 03 03 00 02 02 2a` (fatal
/// bad_certificate). rustls accepts such a plaintext alert as long as it
/// has decrypted nothing from the peer (rustls 0.23 src/conn.rs, "Alerts
/// are allowed to be plaintext if-and-only-if"); so must we (found here,
/// fixed on main in 18646c2).
#[test]
fn s_client_refusing_our_certificate_is_alert_received() {
    bounded(|| {
        let sc = tls::server_config(&[tls::certified(&creds::WRONG_NAME_ECDSA_P256)]);
        let (mut ours, mut client) = our_server_and_s_client(sc, &[]);
        let err = ours.handshake().unwrap_err();
        assert_eq!(
            err,
            Error::AlertReceived(tlspair::AlertDescription::BAD_CERTIFICATE),
            "{}",
            client.describe()
        );
        // No alert goes back in answer to an alert.
        assert!(ours.take_sent_records().iter().all(|&l| l != 19 && l != 2));
        assert!(!client.wait_exit().success());
        assert!(
            client.stderr.contains("hostname mismatch"),
            "{}",
            client.describe()
        );
    });
}

#[test]
fn tls12_only_s_server_refuses_our_client_with_protocol_version() {
    bounded(|| {
        // -tls1_2 takes the place of the helper's -tls1_3.
        let (server, port) = s_server(&["-rev", "-tls1_2"]);
        let conn = Connection::client(leak(tls::client_config()), Some("localhost"), tls::now())
            .expect("client");
        let err = TlsSocket::connect_and_handshake(conn, port).unwrap_err();
        assert_eq!(
            err,
            Error::AlertReceived(tlspair::AlertDescription::PROTOCOL_VERSION),
            "{}",
            server.describe()
        );
    });
}

#[test]
fn tls12_only_s_client_gets_protocol_version_from_our_server() {
    bounded(|| {
        let sc = tls::p256_server_config();
        let (mut ours, mut client) = our_server_and_s_client(sc, &["-tls1_2"]);
        assert_eq!(
            ours.handshake().unwrap_err(),
            Error::PeerIncompatible(PeerIncompatible::NotTls13)
        );
        assert!(!client.wait_exit().success());
        assert!(
            client.stderr.contains("alert protocol version"),
            "{}",
            client.describe()
        );
    });
}

// ---------------------------------------------------------------------
// Bulk data.

const MIB: usize = 1024 * 1024;

#[test]
fn one_mib_each_way_between_our_client_and_s_server() {
    bounded(|| {
        let (server, port) = s_server(&["-rev"]);
        let mut ours = our_client(tls::client_config(), port, &server);
        // Long lines, so s_server answers with full-size records too.
        echo_through_s_server(&mut ours, &server, &text_with_lines(MIB, 2, 8000));
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn one_mib_from_s_client_to_our_server() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        let data = text(MIB, 3);
        client.feed(data.clone());
        client.close_stdin();
        // End of stdin makes s_client send close_notify after the data.
        let got = ours
            .read_until_closed()
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert!(
            got == data,
            "received {} of {} bytes",
            got.len(),
            data.len()
        );
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

#[test]
fn one_mib_from_our_server_to_s_client() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        let data = text(MIB, 4);
        ours.send_all(&data).unwrap();
        client.wait_stdout("1 MiB", |out| out.len() >= data.len());
        assert!(
            client.stdout.bytes() == data,
            "s_client received other bytes"
        );
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

#[test]
fn one_mib_from_s_client_read_in_place_by_our_server() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        let data = text(MIB, 21);
        client.feed(data.clone());
        client.close_stdin();
        // Odd steps, so records are consumed in several pieces.
        let got = ours
            .read_in_place_until_closed(1000)
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert!(
            got == data,
            "received {} of {} bytes",
            got.len(),
            data.len()
        );
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

#[test]
fn one_mib_in_partial_write_mode_from_our_server_to_s_client() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        ours.conn.set_write_mode(tlspair::WriteMode::Partial);
        let data = text(MIB, 22);
        ours.send_all(&data).unwrap();
        client.wait_stdout("1 MiB", |out| out.len() >= data.len());
        assert!(
            client.stdout.bytes() == data,
            "s_client received other bytes"
        );
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

#[test]
fn our_client_write_drives_the_handshake_with_s_server() {
    bounded(|| {
        let (server, port) = s_server(&["-rev"]);
        let conn = Connection::client(leak(tls::client_config()), Some("localhost"), tls::now())
            .expect("client");
        // No handshake() call: the first write (then read) runs it.
        let mut ours = TlsSocket::new(conn, net::connect(port));
        let data = text(64 * 1024, 23);
        echo_through_s_server(&mut ours, &server, &data);
        assert!(!ours.conn.is_handshaking());
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn our_server_read_drives_the_handshake_with_s_client() {
    bounded(|| {
        let (mut ours, mut client) = our_server_and_s_client(tls::p256_server_config(), &[]);
        client.feed(b"first words\n".to_vec());
        // No handshake() call: the read runs it.
        assert_eq!(ours.read_exact(12).unwrap(), b"first words\n");
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

// ---------------------------------------------------------------------
// Closing.

#[test]
fn close_notify_from_our_client_is_answered_by_s_server() {
    bounded(|| {
        let (server, port) = s_server(&["-rev"]);
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, b"before close\n");
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn close_notify_from_s_server_reads_as_closed() {
    bounded(|| {
        // "CLOSE" makes s_server -rev shut the connection down.
        let (server, port) = s_server(&["-rev"]);
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, b"before close\n");
        ours.send_all(b"CLOSE\n").unwrap();
        assert_eq!(
            ours.read_until_closed()
                .unwrap_or_else(|e| panic!("{e}\n{}", server.describe())),
            b""
        );
        assert!(ours.conn.peer_closed());
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

#[test]
fn close_notify_from_s_client_reads_as_closed() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        client.feed(b"last words\n".to_vec());
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"last words\n");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert!(client.wait_exit().success(), "{}", client.describe());
    });
}

#[test]
fn close_notify_from_our_server_ends_s_client() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        ours.send_all(b"bye\n").unwrap();
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
        // s_client reads our close_notify, answers with its own and exits.
        assert_eq!(
            ours.read_until_closed()
                .unwrap_or_else(|e| panic!("{e}\n{}", client.describe())),
            b""
        );
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert!(client.wait_exit().success(), "{}", client.describe());
        assert_eq!(client.stdout.bytes(), b"bye\n");
    });
}

#[test]
fn killed_s_server_is_truncation_for_our_client() {
    bounded(|| {
        let (mut server, port) = s_server(&["-rev"]);
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, b"still here\n");
        server.kill();
        assert_eq!(ours.recv().unwrap_err(), Error::Truncated);
        // Sticky: the connection stays failed.
        assert_eq!(ours.conn.error(), Some(Error::Truncated));
    });
}

#[test]
fn killed_s_client_is_truncation_for_our_server() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(tls::p256_server_config(), &[]);
        client.feed(b"still here\n".to_vec());
        assert_eq!(ours.read_exact(11).unwrap(), b"still here\n");
        client.kill();
        assert_eq!(ours.recv().unwrap_err(), Error::Truncated);
    });
}

// ---------------------------------------------------------------------
// KeyUpdate.

/// A temporary file for `-msgfile`, removed on drop.
struct MsgFile(std::path::PathBuf);

impl MsgFile {
    fn new(tag: &str) -> Self {
        let name = format!(
            "tlspair-interop-{tag}-{}-{:?}.msg",
            std::process::id(),
            std::thread::current().id()
        )
        .replace(['(', ')'], "");
        Self(std::env::temp_dir().join(name))
    }

    fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

impl Drop for MsgFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The KeyUpdate messages in an OpenSSL `-msg` log that went in
/// `direction` (`"<<<"` received, `">>>"` sent), as their request byte.
fn key_updates(log: &str, direction: &str) -> Vec<u8> {
    let lines: Vec<&str> = log.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with(direction) && l.ends_with("KeyUpdate"))
        .map(|(i, _)| {
            // The next line is the message in hex: 18 00 00 01 <request>.
            let hex = lines.get(i + 1).copied().unwrap_or("");
            let last = hex.split_whitespace().last().unwrap_or("ff");
            u8::from_str_radix(last, 16).unwrap_or(0xff)
        })
        .collect()
}

/// s_client sends a KeyUpdate when a line `k` (not requested) or `K`
/// (requested) comes on its stdin; data must still flow both ways after.
fn key_update_from_s_client(letter: &'static str, requested: bool) {
    bounded(move || {
        let msgs = MsgFile::new("sc");
        let (mut ours, mut client) = our_server_with_s_client(
            tls::p256_server_config(),
            &["-msg", "-msgfile", &msgs.path()],
        );
        client.feed(b"before\n".to_vec());
        assert_eq!(ours.read_exact(7).unwrap(), b"before\n");
        // From here on, count what we send: our answer to a requested
        // update goes out as soon as the read meets the request.
        ours.take_sent_records();
        client.feed(format!("{letter}\n").into_bytes());
        // s_client reads stdin in chunks and takes a whole chunk starting
        // with a command letter as the command: wait until it has.
        client.wait_stderr("KEYUPDATE");
        client.feed(b"after\n".to_vec());
        // Sealed under s_client's new key: we must have moved on too.
        let got = ours
            .read_exact(6)
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert_eq!(got, b"after\n");
        ours.send_all(b"reply\n").unwrap();
        client.wait_stdout("reply", |out| out.ends_with(b"reply\n"));
        let sent = ours.take_sent_records();
        let ours_updates = sent.iter().filter(|&&l| l == KEY_UPDATE_RECORD_LEN).count();
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert!(client.wait_exit().success(), "{}", client.describe());
        let log = msgs.text();
        assert_eq!(key_updates(&log, ">>>"), [u8::from(requested)], "{log}");
        if requested {
            // Our answer: one KeyUpdate, not requesting another.
            assert_eq!(key_updates(&log, "<<<"), [0], "{log}");
            assert_eq!(ours_updates, 1, "records sent: {sent:?}");
        } else {
            assert_eq!(key_updates(&log, "<<<"), [] as [u8; 0], "{log}");
            assert_eq!(ours_updates, 0, "records sent: {sent:?}");
        }
    });
}

#[test]
fn key_update_requested_from_s_client_while_our_server_writes_4_mib() {
    bounded(|| {
        let msgs = MsgFile::new("sc-mid");
        let (mut ours, mut client) = our_server_with_s_client(
            tls::p256_server_config(),
            &["-msg", "-msgfile", &msgs.path()],
        );
        let data = text(4 * MIB, 29);
        let (first, rest) = data.split_at(MIB);
        assert_eq!(ours.exchange_in(first, 0, 256 * 1024).unwrap(), b"");
        client.feed(b"K\n".to_vec());
        client.wait_stderr("KEYUPDATE");
        client.feed(b"after\n".to_vec());
        // 256 KiB writes into a 20 kB outgoing view: the request is read
        // while a complete-mode write is pending.
        let got = ours
            .exchange_in(rest, 6, 256 * 1024)
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert_eq!(got, b"after\n");
        client.wait_stdout("4 MiB", |out| out.len() >= data.len());
        assert!(
            client.stdout.bytes() == data,
            "s_client received other bytes"
        );
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert!(client.wait_exit().success(), "{}", client.describe());
        let log = msgs.text();
        assert_eq!(key_updates(&log, ">>>"), [1], "{log}");
        assert_eq!(key_updates(&log, "<<<"), [0], "{log}");
    });
}

#[test]
fn key_update_not_requested_from_s_client() {
    key_update_from_s_client("k", false);
}

#[test]
fn key_update_requested_from_s_client_is_answered() {
    key_update_from_s_client("K", true);
}

/// Our client updates its key in the middle of a transfer to s_server.
fn key_update_from_our_client(requested: bool) {
    bounded(move || {
        let msgs = MsgFile::new("ss");
        let (server, port) = s_server(&["-rev", "-msg", "-msgfile", &msgs.path()]);
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, &text(64 * 1024, 5));
        ours.conn.key_update(requested);
        echo_through_s_server(&mut ours, &server, &text(64 * 1024, 6));
        close_with_s_server(&mut ours, &server);
        let log = msgs.text();
        assert_eq!(key_updates(&log, "<<<"), [u8::from(requested)], "{log}");
        if requested {
            assert_eq!(key_updates(&log, ">>>"), [0], "{log}");
        } else {
            assert_eq!(key_updates(&log, ">>>"), [] as [u8; 0], "{log}");
        }
    });
}

#[test]
fn key_update_requested_from_our_client_is_answered_by_s_server() {
    key_update_from_our_client(true);
}

#[test]
fn key_update_not_requested_from_our_client() {
    key_update_from_our_client(false);
}

#[test]
fn key_update_requested_from_our_server_is_answered_by_s_client() {
    bounded(|| {
        let msgs = MsgFile::new("sc2");
        let (mut ours, mut client) = our_server_with_s_client(
            tls::p256_server_config(),
            &["-msg", "-msgfile", &msgs.path()],
        );
        ours.send_all(b"one\n").unwrap();
        client.wait_stdout("one", |out| out.ends_with(b"one\n"));
        ours.conn.key_update(true);
        ours.send_all(b"two\n").unwrap();
        client.wait_stdout("two", |out| out.ends_with(b"two\n"));
        // s_client's answer comes in under its new key, then its data.
        client.feed(b"three\n".to_vec());
        assert_eq!(
            ours.read_exact(6)
                .unwrap_or_else(|e| panic!("{e}\n{}", client.describe())),
            b"three\n"
        );
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        assert!(client.wait_exit().success(), "{}", client.describe());
        let log = msgs.text();
        assert_eq!(key_updates(&log, "<<<"), [1], "{log}");
        assert_eq!(key_updates(&log, ">>>"), [0], "{log}");
    });
}

/// s_server (interactive, no -rev) sends a KeyUpdate when a line `k` or
/// `K` comes on its stdin.
fn key_update_from_s_server(letter: &'static str, requested: bool) {
    bounded(move || {
        let msgs = MsgFile::new("ss-int");
        let (mut server, port) = s_server(&["-msg", "-msgfile", &msgs.path()]);
        let mut ours = our_client(tls::client_config(), port, &server);
        server.feed(b"before\n".to_vec());
        assert_eq!(ours.read_exact(7).unwrap(), b"before\n");
        ours.take_sent_records();
        server.feed(format!("{letter}\n").into_bytes());
        // s_server reads stdin in chunks and takes a whole chunk starting
        // with a command letter as the command. Its stdout is a buffered
        // pipe, but the -msg log is flushed per message: wait there.
        net::wait_for("s_server's KeyUpdate", || {
            !key_updates(&msgs.text(), ">>>").is_empty()
        });
        server.feed(b"after\n".to_vec());
        // Sealed under s_server's new key.
        let got = ours
            .read_exact(6)
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        assert_eq!(got, b"after\n");
        ours.send_all(b"reply\n").unwrap();
        // Its own printf output may be flushed after what it received.
        server.wait_stdout("reply", |out| {
            String::from_utf8_lossy(out).contains("\nreply\n")
        });
        let sent = ours.take_sent_records();
        let ours_updates = sent.iter().filter(|&&l| l == KEY_UPDATE_RECORD_LEN).count();
        close_with_s_server(&mut ours, &server);
        let log = msgs.text();
        assert_eq!(key_updates(&log, ">>>"), [u8::from(requested)], "{log}");
        if requested {
            assert_eq!(key_updates(&log, "<<<"), [0], "{log}");
            assert_eq!(ours_updates, 1, "records sent: {sent:?}");
        } else {
            assert_eq!(key_updates(&log, "<<<"), [] as [u8; 0], "{log}");
            assert_eq!(ours_updates, 0, "records sent: {sent:?}");
        }
    });
}

#[test]
fn key_update_not_requested_from_s_server() {
    key_update_from_s_server("k", false);
}

#[test]
fn key_update_requested_from_s_server_is_answered() {
    key_update_from_s_server("K", true);
}

// ---------------------------------------------------------------------
// Choices the peer makes: key share, compatibility mode, signature
// schemes, chain.

#[test]
fn s_client_key_share_for_its_first_group_is_taken_by_our_server() {
    bounded(|| {
        // s_client sends a share for P-384 only; our server prefers
        // X25519 but must take a group it has a share for (no HRR).
        let (mut ours, mut client) =
            our_server_with_s_client(tls::p256_server_config(), &["-groups", "P-384:X25519"]);
        assert_eq!(
            ours.conn.negotiated().unwrap().group,
            Some(NamedGroup::SECP384R1)
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn s_client_without_middlebox_compat_with_our_server() {
    bounded(|| {
        let (mut ours, mut client) =
            our_server_with_s_client(tls::p256_server_config(), &["-no_middlebox"]);
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn our_client_without_middlebox_compat_with_s_server() {
    bounded(|| {
        let (server, port) = s_server(&["-rev", "-no_middlebox"]);
        let mut cc = tls::client_config();
        cc.middlebox_compat = false;
        let mut ours = our_client(cc, port, &server);
        echo_through_s_server(&mut ours, &server, b"no compat\n");
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn s_client_allowing_only_rsa_pss_sha512_gets_it_from_our_server() {
    bounded(|| {
        let (mut ours, mut client) = our_server_with_s_client(
            tls::server_config(&[tls::certified(&creds::SERVER_RSA_2048)]),
            &["-sigalgs", "rsa_pss_rsae_sha512"],
        );
        assert_eq!(
            ours.conn.negotiated().unwrap().signature_scheme,
            Some(tlspair::wire::SignatureScheme::RSA_PSS_RSAE_SHA512)
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn s_server_signing_with_rsa_pss_sha384_to_our_client() {
    bounded(|| {
        let key = KeyType::Rsa2048;
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &["-rev", "-sigalgs", "rsa_pss_rsae_sha384"],
        );
        let mut ours = our_client(tls::client_config(), port, &server);
        assert_eq!(
            ours.conn.negotiated().unwrap().signature_scheme,
            Some(tlspair::wire::SignatureScheme::RSA_PSS_RSAE_SHA384)
        );
        echo_through_s_server(&mut ours, &server, b"pss384\n");
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn s_server_sending_its_chain_with_the_ca_to_our_client() {
    bounded(|| {
        let ca = net::cert_path("ca.pem");
        let (server, port) = s_server(&["-rev", "-cert_chain", &ca]);
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, b"chain\n");
        close_with_s_server(&mut ours, &server);
    });
}

// ---------------------------------------------------------------------
// HelloRetryRequest and resumption (on main since the interop branch
// started).

#[test]
fn hello_retry_from_s_server_moves_our_client_to_p384() {
    bounded(|| {
        // Our client sends a share for X25519 only; s_server speaks P-384
        // only, so it asks for a retry.
        let msgs = MsgFile::new("hrr-ss");
        let (server, port) =
            s_server(&["-rev", "-groups", "P-384", "-msg", "-msgfile", &msgs.path()]);
        let mut ours = our_client(tls::client_config(), port, &server);
        assert_eq!(
            ours.conn.negotiated().unwrap().group,
            Some(NamedGroup::SECP384R1)
        );
        echo_through_s_server(&mut ours, &server, b"after a retry\n");
        close_with_s_server(&mut ours, &server);
        let log = msgs.text();
        assert_eq!(log.matches("ClientHello").count(), 2, "{log}");
    });
}

#[test]
fn hello_retry_from_our_server_moves_s_client_to_p384() {
    bounded(|| {
        let mut sc = tls::p256_server_config();
        sc.groups = &[NamedGroup::SECP384R1];
        // s_client sends a share for X25519, its first group.
        let (mut ours, mut client) = our_server_with_s_client(sc, &["-groups", "X25519:P-384"]);
        assert_eq!(
            ours.conn.negotiated().unwrap().group,
            Some(NamedGroup::SECP384R1)
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn our_client_resumes_with_s_server_ticket() {
    our_client_resumes_with_s_server_ticket_in(false);
}

#[test]
fn our_client_resumes_with_s_server_ticket_in_tls12() {
    our_client_resumes_with_s_server_ticket_in(true);
}

/// A full handshake of `cc` (whose ticket sink is `store`) with
/// `server`, an echo and a close: the first ticket it gave, ready to
/// resume with.
fn first_ticket_of_s_server(
    server: &Openssl,
    port: u16,
    cc: &'static ClientConfig<'static>,
    store: &Tickets,
) -> &'static tlspair::handshake::ticket::ResumptionTicket<'static> {
    let mut ours = TlsSocket::connect_and_handshake(
        Connection::client(cc, Some("localhost"), tls::now()).expect("client"),
        port,
    )
    .expect("first handshake");
    // The tickets come after the handshake; reading the echo reads them.
    echo_through_s_server(&mut ours, server, b"first\n");
    close_with_s_server(&mut ours, server);
    let ticket = store
        .0
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("s_server sends tickets");
    leak(leak(ticket).resumption())
}
/// Our client's second connection resumes with the ticket of its first,
/// in TLS 1.3 (a PSK) or TLS 1.2 (RFC 5077: session_ticket, and the
/// session id echoed).
fn our_client_resumes_with_s_server_ticket_in(tls12: bool) {
    bounded(move || {
        let (server, port) = if tls12 {
            s_server(&["-rev", "-tls1_2"])
        } else {
            s_server(&["-rev"])
        };
        let store: &'static Tickets = leak(Tickets::default());
        let mut cc = tls::client_config();
        if tls12 {
            cc.suites = &tlspair::TLS12_SUITES;
        }
        cc.ticket_sink = Some(store);
        let cc = leak(cc);
        let ticket = first_ticket_of_s_server(&server, port, cc, store);
        let conn =
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).expect("client");
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("resumption: {e}\n{}", server.describe()));
        let n = ours.conn.negotiated().unwrap();
        assert!(n.resumed, "s_server did not take our ticket");
        assert_eq!(n.version == tlspair::wire::ProtocolVersion::TLS1_2, tls12);
        // The identity of the full handshake the ticket came from.
        assert_eq!(n.peer_cert_sha256, ticket.peer_cert_sha256);
        assert!(n.peer_cert_sha256.is_some());
        echo_through_s_server(&mut ours, &server, b"second\n");
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn s_client_resumes_with_our_ticket() {
    s_client_resumes_with_our_ticket_in(false);
}

#[test]
fn s_client_resumes_with_our_ticket_in_tls12() {
    s_client_resumes_with_our_ticket_in(true);
}

/// s_client's second connection resumes with our ticket (`-sess_out`,
/// then `-sess_in`), in TLS 1.3 or TLS 1.2.
fn s_client_resumes_with_our_ticket_in(tls12: bool) {
    bounded(move || {
        let sess = MsgFile::new(if tls12 { "sess12" } else { "sess" });
        let version: &[&str] = if tls12 { &["-tls1_2"] } else { &[] };
        let mut sc = tls::p256_server_config();
        if tls12 {
            sc.suites = &tlspair::TLS12_SUITES;
        }
        sc.ticket_keys =
            (leak([tlspair::handshake::ticket::TicketKey::new(1, &[7; 32]).unwrap()])).into();
        let sc = leak(sc);
        let out = sess.path();
        let args = [version, &["-sess_out", &out]].concat();
        let (mut ours, mut client) = our_server_with_s_client(sc.clone(), &args);
        assert!(!ours.conn.negotiated().unwrap().resumed);
        // s_client writes the session once our ticket has arrived.
        talk_and_close_with_s_client(&mut ours, &mut client);
        assert!(
            std::path::Path::new(&sess.path()).exists(),
            "no session written"
        );
        let args = [version, &["-sess_in", &out]].concat();
        let (mut ours, mut client) = our_server_with_s_client(sc.clone(), &args);
        assert_eq!(
            ours.conn.negotiated().unwrap().version == tlspair::wire::ProtocolVersion::TLS1_2,
            tls12
        );
        assert!(
            ours.conn.negotiated().unwrap().resumed,
            "our ticket was not offered or not taken\n{}",
            client.describe()
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

/// 0-RTT from `s_client -early_data FILE -sess_in` to our server
/// (RFC 8446 §4.2.10): a server whose first call is `read_early` takes
/// the file's bytes, apart from 1-RTT data; one that calls `handshake`
/// first declines (policy), and so does one whose ticket keys no longer
/// open the ticket (an old ticket: a full handshake); s_client finishes
/// the handshake either way.
#[test]
fn s_client_sends_early_data_to_our_server() {
    bounded(|| {
        let sess = MsgFile::new("sess-early");
        let early = MsgFile::new("early-data");
        let request = b"GET /early HTTP/1.1\r\n\r\n".repeat(40);
        std::fs::write(early.path(), &request).unwrap();
        let (_, sc, _) = tls::early_data_configs(16_384);
        let out = sess.path();
        let (mut ours, mut client) = our_server_with_s_client(sc.clone(), &["-sess_out", &out]);
        talk_and_close_with_s_client(&mut ours, &mut client);
        let args = ["-sess_in", &out, "-early_data", &early.path()];
        for (case, reads_early) in [("accepted", true), ("policy", false), ("old ticket", true)] {
            let mut sc = sc.clone();
            if case == "old ticket" {
                sc.ticket_keys =
                    (leak([tlspair::handshake::ticket::TicketKey::new(2, &[8; 32]).unwrap()]))
                        .into();
            }
            let (mut ours, mut client) = our_server_and_s_client(sc, &args);
            if reads_early {
                let got = ours
                    .read_early_all()
                    .unwrap_or_else(|e| panic!("{case}: {e}\n{}", client.describe()));
                let taken = case == "accepted";
                assert_eq!(got == request, taken, "{case}: {} bytes", got.len());
                assert!(taken || got.is_empty(), "{case}");
            }
            ours.handshake()
                .unwrap_or_else(|e| panic!("{case}: {e}\n{}", client.describe()));
            let accepted = ours.conn.early_data() == tlspair::EarlyData::Accepted;
            assert_eq!(accepted, case == "accepted", "{case}");
            talk_and_close_with_s_client(&mut ours, &mut client);
        }
    });
}

// ---------------------------------------------------------------------
// Small records from the peer.

#[test]
fn s_server_sending_512_byte_records_to_our_client() {
    bounded(|| {
        let (server, port) = s_server(&["-rev", "-max_send_frag", "512"]);
        let mut ours = our_client(tls::client_config(), port, &server);
        // 4000-byte lines come back as 8 records each.
        echo_through_s_server(&mut ours, &server, &text_with_lines(256 * 1024, 7, 4000));
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn s_client_sending_512_byte_records_to_our_server() {
    bounded(|| {
        let (mut ours, mut client) =
            our_server_with_s_client(tls::p256_server_config(), &["-max_send_frag", "512"]);
        let data = text(256 * 1024, 8);
        client.feed(data.clone());
        client.close_stdin();
        let got = ours
            .read_until_closed()
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert!(
            got == data,
            "received {} of {} bytes",
            got.len(),
            data.len()
        );
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

// ---------------------------------------------------------------------
// Our buffers at their smallest.

#[test]
fn our_client_with_exactly_one_record_of_receive_buffer_echoes_1_mib() {
    bounded(|| {
        // RSA certificate and the CA in the chain: the largest flight our
        // test credentials make, and full-size records back.
        let key = KeyType::Rsa2048;
        let ca = net::cert_path("ca.pem");
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &["-rev", "-cert_chain", &ca],
        );
        let conn = Connection::client(leak(tls::client_config()), Some("localhost"), tls::now())
            .expect("client");
        let mut ours = TlsSocket::with_buffers(
            conn,
            net::connect(port),
            tlspair::record::MAX_RECORD_LEN,
            4096,
        );
        ours.handshake()
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        echo_through_s_server(&mut ours, &server, &text_with_lines(MIB, 17, 9000));
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn s_server_cutting_its_flight_into_512_byte_records() {
    bounded(|| {
        // The Certificate message (RSA, with the CA) spans several records.
        let key = KeyType::Rsa2048;
        let ca = net::cert_path("ca.pem");
        let (server, port) = Openssl::s_server(
            &key.cert_pem(),
            &key.key_pem(),
            &["-rev", "-max_send_frag", "512", "-cert_chain", &ca],
        );
        let mut ours = our_client(tls::client_config(), port, &server);
        echo_through_s_server(&mut ours, &server, &text(8192, 18));
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn our_server_with_a_2_kib_send_buffer_to_s_client() {
    bounded(|| {
        let (listener, port) = net::listener();
        let mut client = Openssl::s_client(port, &[]);
        let sock = net::accept(&listener, || client.alive());
        let sc = tls::server_config(&[tls::certified(&creds::SERVER_RSA_2048)]);
        let conn = Connection::server(leak(sc), tls::now()).expect("server");
        // Records shrink to fit the outgoing view.
        let mut ours = TlsSocket::with_buffers(conn, sock, 20_000, 2048);
        ours.handshake()
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        let data = text(100_000, 19);
        ours.send_all(&data).unwrap();
        client.wait_stdout("100 kB", |out| out.len() >= data.len());
        assert!(
            client.stdout.bytes() == data,
            "s_client received other bytes"
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn our_server_with_a_1_kib_record_limit_and_s_client_sending_1_kib_records() {
    bounded(|| {
        // OpenSSL 3.0 ignores record_size_limit (RFC 8449): it is told to
        // keep to 1 KiB with -max_send_frag, and our receive buffer holds
        // just one such record (the ClientHello is smaller).
        let (listener, port) = net::listener();
        let mut client = Openssl::s_client(port, &["-max_send_frag", "1024"]);
        let sock = net::accept(&listener, || client.alive());
        let mut sc = tls::p256_server_config();
        sc.record.recv_max_fragment_len = 1024;
        let recv = sc.record.recv_buffer_len();
        let conn = Connection::server(leak(sc), tls::now()).expect("server");
        let mut ours = TlsSocket::with_buffers(conn, sock, recv, 20_000);
        ours.handshake()
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        let data = text(100_000, 20);
        client.feed(data.clone());
        let got = ours.read_exact(data.len()).unwrap();
        assert!(got == data, "received other bytes");
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

// ---------------------------------------------------------------------
// Padded records (RFC 8446 §5.4): the peer strips the zeros.

#[test]
fn padded_records_from_our_client_to_s_server() {
    bounded(|| {
        let (server, port) = s_server(&["-rev"]);
        let mut cc = tls::client_config();
        // Every record as large as a record may be.
        cc.record.padding = tlspair::Padding::Max;
        let mut ours = our_client(cc, port, &server);
        echo_through_s_server(&mut ours, &server, &text(64 * 1024, 24));
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn padded_records_from_our_server_to_s_client() {
    bounded(|| {
        let mut sc = tls::server_config(&[tls::certified(&creds::SERVER_ED25519)]);
        sc.record.padding = tlspair::Padding::ToMultiple(1000);
        let (mut ours, mut client) = our_server_with_s_client(sc, &[]);
        let data = text(100_000, 25);
        ours.send_all(&data).unwrap();
        client.wait_stdout("100 kB", |out| out.len() >= data.len());
        assert!(
            client.stdout.bytes() == data,
            "s_client received other bytes"
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

// ---------------------------------------------------------------------
// Per suite without restricting groups: the peers' default group lists.

fn default_groups_both_ways(suite: &'static Suite) {
    bounded(move || {
        let name = openssl_suite(suite);
        let (server, port) = s_server(&["-rev", "-ciphersuites", name]);
        let mut cc = tls::client_config();
        cc.suites = leak([suite]);
        let mut ours = our_client(cc, port, &server);
        assert_eq!(ours.conn.negotiated().unwrap().suite, suite.id);
        echo_through_s_server(&mut ours, &server, b"defaults\n");
        close_with_s_server(&mut ours, &server);

        let (mut ours, mut client) =
            our_server_with_s_client(tls::p256_server_config(), &["-ciphersuites", name]);
        assert_eq!(ours.conn.negotiated().unwrap().suite, suite.id);
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn default_groups_aes_128_gcm_sha256() {
    default_groups_both_ways(&TLS13_AES_128_GCM_SHA256);
}

#[test]
fn default_groups_aes_256_gcm_sha384() {
    default_groups_both_ways(&TLS13_AES_256_GCM_SHA384);
}

#[test]
fn default_groups_chacha20_poly1305_sha256() {
    default_groups_both_ways(&TLS13_CHACHA20_POLY1305_SHA256);
}

#[test]
fn openssl_reports_its_version() {
    let out = std::process::Command::new(net::openssl_binary())
        .arg("version")
        .output()
        .expect("openssl version");
    let v = String::from_utf8_lossy(&out.stdout);
    // The expectations here (command letters, -msg output, alert wording)
    // are OpenSSL 3's.
    assert!(
        v.starts_with("OpenSSL 3."),
        "interop is checked against OpenSSL 3.x, found {v}"
    );
}

// ---------------------------------------------------------------------
// Mutual TLS.

#[test]
fn s_client_with_a_certificate_to_our_server_requiring_one() {
    bounded(|| {
        let cert = net::cert_path("client-p256.pem");
        let key = net::cert_path("client-p256.key.pem");
        let (mut ours, mut client) =
            our_server_with_s_client(tls::mtls_server_config(), &["-cert", &cert, "-key", &key]);
        assert!(ours.conn.negotiated().unwrap().peer_cert_sha256.is_some());
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

#[test]
fn s_client_without_a_certificate_is_refused_with_certificate_required() {
    bounded(|| {
        let (mut ours, client) = our_server_and_s_client(tls::mtls_server_config(), &[]);
        let e = ours.handshake().unwrap_err();
        assert_eq!(
            e,
            Error::PeerIncompatible(PeerIncompatible::CertificateRequired),
            "{}",
            client.describe()
        );
    });
}

#[test]
fn our_client_certificate_to_s_server_verifying_it() {
    bounded(|| {
        let ca = net::cert_path("ca.pem");
        let (server, port) = s_server(&["-rev", "-Verify", "1", "-CAfile", &ca]);
        let mut cc = tls::client_config();
        cc.client_auth = Some(tls::certified(&creds::CLIENT_ECDSA_P256));
        let mut ours = our_client(cc, port, &server);
        echo_through_s_server(&mut ours, &server, b"authenticated\n");
        close_with_s_server(&mut ours, &server);
        // s_server saw our certificate (it may print it after the close,
        // when the machine is loaded: wait for it).
        net::wait_for("s_server to print our certificate", || {
            server.describe().contains("tlspair test client")
        });
    });
}

/// A ticket keeps the 0-RTT allowance its server gave it (the
/// NewSessionTicket's early_data extension, RFC 8446 §4.6.1): `s_server
/// -max_early_data N` gives N, plain `s_server` none; either ticket
/// resumes (our client sends no early data yet).
#[test]
fn a_ticket_keeps_the_early_data_allowance_of_s_server() {
    for (args, allowance) in [
        (&["-rev"][..], 0u32),
        (&["-rev", "-max_early_data", "12345"][..], 12_345),
    ] {
        bounded(move || {
            let (server, port) = s_server(args);
            let store: &'static Tickets = leak(Tickets::default());
            let mut cc = tls::client_config();
            cc.ticket_sink = Some(store);
            let cc = leak(cc);
            let ticket = first_ticket_of_s_server(&server, port, cc, store);
            assert_eq!(ticket.max_early_data, allowance, "{args:?}");
            let conn = Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket)
                .expect("client");
            let mut ours = TlsSocket::connect_and_handshake(conn, port)
                .unwrap_or_else(|e| panic!("resumption: {e}\n{}", server.describe()));
            assert!(ours.conn.negotiated().unwrap().resumed);
            echo_through_s_server(&mut ours, &server, b"second\n");
            close_with_s_server(&mut ours, &server);
        });
    }
}

/// 0-RTT to `s_server -early_data` (RFC 8446 §4.2.10): the second
/// connection's `write_early` is in its first flight, s_server prints it
/// as early data, and our EndOfEarlyData lets the handshake finish; a
/// plain s_server process (other ticket keys) declines, and the bytes are
/// ours to send again.
#[test]
fn our_client_sends_early_data_to_s_server() {
    bounded(|| {
        let (server, port) = s_server(&["-early_data", "-max_early_data", "16384"]);
        let store: &'static Tickets = leak(Tickets::default());
        let log: &'static tls::Lines = leak(tls::Lines::default());
        let mut cc = tls::client_config();
        cc.ticket_sink = Some(store);
        cc.key_log = Some(log);
        let cc = leak(cc);
        let mut ours = TlsSocket::connect_and_handshake(
            Connection::client(cc, Some("localhost"), tls::now()).expect("client"),
            port,
        )
        .expect("first handshake");
        net::wait_for("s_server's ticket", || {
            ours.pump();
            // Reading meets the tickets (no data comes).
            let _ = ours.conn.read(&mut ours.bufs, &mut [0u8; 64]);
            !store.0.lock().unwrap().is_empty()
        });
        let _ = ours.close();
        let ticket = store.0.lock().unwrap().first().cloned().expect("a ticket");
        let ticket = leak(leak(ticket).resumption());
        assert_eq!(ticket.max_early_data, 16_384);
        let conn =
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).expect("client");
        let mut ours = TlsSocket::new(conn, net::connect(port));
        let early = b"early bird request\n";
        assert_eq!(
            ours.conn.write_early(&mut ours.bufs, early),
            Ok(tlspair::Status::Done(early.len()))
        );
        ours.handshake()
            .unwrap_or_else(|e| panic!("0-RTT handshake: {e}\n{}", server.describe()));
        assert_eq!(
            ours.conn.early_data(),
            tlspair::EarlyData::Accepted,
            "{}",
            server.describe()
        );
        assert!(ours.conn.negotiated().unwrap().resumed);
        assert!(
            log.0
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.starts_with("CLIENT_EARLY_TRAFFIC_SECRET ")),
            "the early secret is logged"
        );
        ours.send_all(b"after the handshake\n").unwrap();
        net::wait_for("s_server printing both", || {
            ours.pump();
            let _ = ours.conn.read(&mut ours.bufs, &mut [0u8; 64]);
            server.describe().contains("after the handshake")
        });
        // s_server writes the early bytes straight to stdout and its
        // notes through a buffer: their order on stdout varies.
        let out = server.describe();
        assert!(out.contains("Early data received:"), "{out}");
        assert!(out.contains("End of early data"), "{out}");
        assert!(!out.contains("Early data was rejected"), "{out}");
        assert_eq!(out.matches("early bird request").count(), 1, "{out}");

        // Another s_server cannot open the ticket: a full handshake, the
        // early data skipped, and the request ours to send again.
        let (other, port) = s_server(&[]);
        let conn =
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).expect("client");
        let mut ours = TlsSocket::new(conn, net::connect(port));
        assert_eq!(
            ours.conn.write_early(&mut ours.bufs, early),
            Ok(tlspair::Status::Done(early.len()))
        );
        ours.handshake()
            .unwrap_or_else(|e| panic!("declined 0-RTT: {e}\n{}", other.describe()));
        assert_eq!(ours.conn.early_data(), tlspair::EarlyData::Rejected);
        assert!(!ours.conn.negotiated().unwrap().resumed);
        assert_eq!(ours.conn.early_data_sent(), early.len());
        ours.send_all(early).unwrap();
        net::wait_for("s_server printing the request", || {
            ours.pump();
            let _ = ours.conn.read(&mut ours.bufs, &mut [0u8; 64]);
            other.describe().contains("early bird request")
        });
        assert_eq!(other.describe().matches("early bird request").count(), 1);
    });
}

/// 0-RTT declined by policy: `s_server -max_early_data` without
/// `-early_data` gives tickets that allow it but never reads it. The
/// resumption goes through (the PSK is taken), the early data is
/// skipped, and the request is ours to send again, read once.
#[test]
fn s_server_declining_our_early_data_by_policy_still_resumes() {
    bounded(|| {
        let (server, port) = s_server(&["-rev", "-max_early_data", "16384"]);
        let store: &'static Tickets = leak(Tickets::default());
        let mut cc = tls::client_config();
        cc.ticket_sink = Some(store);
        let cc = leak(cc);
        let ticket = first_ticket_of_s_server(&server, port, cc, store);
        assert_eq!(ticket.max_early_data, 16_384);
        let conn =
            Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).expect("client");
        let mut ours = TlsSocket::new(conn, net::connect(port));
        let early = b"early bird by policy\n";
        assert_eq!(
            ours.conn.write_early(&mut ours.bufs, early),
            Ok(tlspair::Status::Done(early.len()))
        );
        ours.handshake()
            .unwrap_or_else(|e| panic!("declined 0-RTT: {e}\n{}", server.describe()));
        assert_eq!(ours.conn.early_data(), tlspair::EarlyData::Rejected);
        assert!(ours.conn.negotiated().unwrap().resumed, "the PSK is taken");
        // Sent again, it comes back once, reversed (and nothing before it).
        echo_through_s_server(&mut ours, &server, early);
        close_with_s_server(&mut ours, &server);
    });
}

// ---------------------------------------------------------------------
// Post-handshake client authentication (RFC 8446 §4.6.2).

/// A server that asks for the client's certificate only after the
/// handshake, from a client that offered post_handshake_auth.
fn deferring_mtls_server_config() -> ServerConfig<'static> {
    let mut sc = tls::mtls_server_config();
    sc.defer_client_auth = true;
    sc
}

#[test]
fn s_client_with_enable_pha_answers_our_post_handshake_request() {
    bounded(|| {
        let cert = net::cert_path("client-p256.pem");
        let key = net::cert_path("client-p256.key.pem");
        let (mut ours, mut client) = our_server_with_s_client(
            deferring_mtls_server_config(),
            &["-enable_pha", "-cert", &cert, "-key", &key],
        );
        // Deferred: not asked in the handshake.
        assert_eq!(ours.conn.negotiated().unwrap().peer_cert_sha256, None);
        ours.conn.request_client_auth(tls::now()).unwrap();
        // The request goes out ahead of this line.
        ours.send_all(b"which resource?\n").unwrap();
        client.wait_stdout("our line", |out| out.ends_with(b"which resource?\n"));
        // s_client answered as it read; its next line comes after.
        let up = b"the protected one\n";
        client.feed(up.to_vec());
        let got = ours
            .read_exact(up.len())
            .unwrap_or_else(|e| panic!("{e}\n{}", client.describe()));
        assert_eq!(got, up);
        assert_eq!(ours.conn.client_auth_pending(), 0);
        assert!(
            ours.conn.negotiated().unwrap().peer_cert_sha256.is_some(),
            "{}",
            client.describe()
        );
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
    });
}

#[test]
fn s_client_without_a_certificate_answering_our_request_is_certificate_required() {
    bounded(|| {
        let (mut ours, client) =
            our_server_with_s_client(deferring_mtls_server_config(), &["-enable_pha"]);
        ours.conn.request_client_auth(tls::now()).unwrap();
        ours.send_all(b"certificate, please\n").unwrap();
        let e = ours.read_exact(1).unwrap_err();
        assert_eq!(
            e,
            Error::PeerIncompatible(PeerIncompatible::CertificateRequired),
            "{}",
            client.describe()
        );
    });
}

#[test]
fn s_client_without_enable_pha_is_asked_in_the_handshake() {
    bounded(|| {
        let cert = net::cert_path("client-p256.pem");
        let key = net::cert_path("client-p256.key.pem");
        let (mut ours, mut client) = our_server_with_s_client(
            deferring_mtls_server_config(),
            &["-cert", &cert, "-key", &key],
        );
        assert!(ours.conn.negotiated().unwrap().peer_cert_sha256.is_some());
        assert_eq!(
            ours.conn.request_client_auth(tls::now()),
            Err(Error::Misuse(tlspair::Misuse::NoPostHandshakeAuth))
        );
        talk_and_close_with_s_client(&mut ours, &mut client);
    });
}

/// `s_server` sends a post-handshake CertificateRequest when a line `c`
/// comes on its stdin; our client answers it inside its read, and data
/// flows both ways after.
#[test]
fn our_client_answers_the_post_handshake_request_of_s_server() {
    bounded(|| {
        let ca = net::cert_path("ca.pem");
        let msgs = MsgFile::new("pha");
        let (mut server, port) = s_server(&["-CAfile", &ca, "-msg", "-msgfile", &msgs.path()]);
        let mut cc = tls::client_config();
        cc.client_auth = Some(tls::certified(&creds::CLIENT_ECDSA_P256));
        cc.post_handshake_auth = 1;
        let mut ours = our_client(cc, port, &server);
        server.feed(b"before\n".to_vec());
        assert_eq!(ours.read_exact(7).unwrap(), b"before\n");
        server.feed(b"c\n".to_vec());
        net::wait_for("s_server's CertificateRequest", || {
            msgs.text()
                .lines()
                .any(|l| l.starts_with(">>>") && l.ends_with("CertificateRequest"))
        });
        server.feed(b"after\n".to_vec());
        let got = ours
            .read_exact(6)
            .unwrap_or_else(|e| panic!("{e}\n{}", server.describe()));
        assert_eq!(got, b"after\n");
        ours.send_all(b"reply\n").unwrap();
        server.wait_stdout("reply", |out| {
            String::from_utf8_lossy(out).contains("\nreply\n")
        });
        let log = msgs.text();
        for message in ["Certificate", "CertificateVerify", "Finished"] {
            assert!(
                log.lines()
                    .filter(|l| l.starts_with("<<<") && l.ends_with(&format!(", {message}")))
                    .count()
                    >= 1,
                "s_server received no {message}\n{log}\n{}",
                server.describe()
            );
        }
        assert!(
            !server.describe().contains("verify error"),
            "{}",
            server.describe()
        );
        close_with_s_server(&mut ours, &server);
    });
}

#[test]
fn a_request_of_s_server_to_our_client_that_did_not_offer_it_fails_on_its_side() {
    bounded(|| {
        let ca = net::cert_path("ca.pem");
        let (mut server, port) = s_server(&["-CAfile", &ca]);
        let mut cc = tls::client_config();
        cc.client_auth = Some(tls::certified(&creds::CLIENT_ECDSA_P256));
        let mut ours = our_client(cc, port, &server);
        server.feed(b"c\n".to_vec());
        // OpenSSL refuses to ask a client that did not offer it (on
        // stderr: its stdout is a buffered pipe).
        net::wait_for("its refusal", || {
            server.describe().contains("extension not received")
        });
        server.feed(b"still here\n".to_vec());
        assert_eq!(ours.read_exact(11).unwrap(), b"still here\n");
        close_with_s_server(&mut ours, &server);
    });
}
