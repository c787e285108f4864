//! Interop with GnuTLS's command-line tools over loopback TCP, both ways:
//! our client against `gnutls-serv --echo`, and `gnutls-cli` against our
//! server. Every suite × group × server key type in each direction, each
//! bounded in time, each killing its child. `scripts/test.sh` installs
//! gnutls-bin; without it every test fails, saying so.

mod common;

use common::interop::{assert_negotiated, client_config_for, server_config, text, KeyType};
use common::net::{self, bounded, Process, TlsSocket};
use common::tls;
use tlspair::wire::NamedGroup;
use tlspair::{Connection, Shutdown, Suite};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// GnuTLS's priority string for exactly this suite and group: TLS 1.3,
/// or TLS 1.2 with the suite's key exchange, AEAD only, and (for an
/// ECDSA `key`) the certificate's curve after the group.
fn priority(suite: &Suite, group: NamedGroup, key: KeyType) -> String {
    let cipher = match suite.id.0 {
        0x1301 | 0xc02b | 0xc02f => "AES-128-GCM",
        0x1302 | 0xc02c | 0xc030 => "AES-256-GCM",
        0x1303 | 0xcca8 | 0xcca9 => "CHACHA20-POLY1305",
        other => panic!("no GnuTLS name for {other:#06x}"),
    };
    let name = |group| match group {
        NamedGroup::X25519 => "GROUP-X25519",
        NamedGroup::SECP256R1 => "GROUP-SECP256R1",
        NamedGroup::SECP384R1 => "GROUP-SECP384R1",
        other => panic!("no GnuTLS name for {other:?}"),
    };
    if !suite.is_tls12() {
        let group = name(group);
        return format!("NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+{cipher}:-GROUP-ALL:+{group}");
    }
    let kx = match suite.auth {
        tlspair::Auth::Rsa => "ECDHE-RSA",
        _ => "ECDHE-ECDSA",
    };
    let mut groups = format!("+{}", name(group));
    if let Some(curve) = common::interop::cert_curve(key).filter(|c| *c != group) {
        groups = format!("{groups}:+{}", name(curve));
    }
    format!(
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+{cipher}:-KX-ALL:+{kx}:-MAC-ALL:+AEAD:-GROUP-ALL:{groups}"
    )
}

/// `gnutls-serv --echo` with this key type's certificate, listening: it
/// says "...done" on its port once it listens, "failed" if it cannot.
fn gnutls_serv(key: KeyType, priority: &str) -> (Process, u16) {
    gnutls_serv_with(key, priority, &[])
}

/// The same with `extra` arguments.
fn gnutls_serv_with(key: KeyType, priority: &str, extra: &[String]) -> (Process, u16) {
    net::start_server(
        "gnutls-serv",
        |port| {
            let mut args = vec![
                "--echo".to_owned(),
                "--port".to_owned(),
                port.to_string(),
                "--x509certfile".to_owned(),
                net::cert_path(&key.cert_pem()),
                "--x509keyfile".to_owned(),
                net::cert_path(&key.key_pem()),
                "--priority".to_owned(),
                priority.to_owned(),
            ];
            args.extend(extra.iter().cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Process::spawn_program("gnutls-serv", &args)
        },
        |server, port| {
            if server
                .stderr
                .contains(&format!("IPv4 0.0.0.0 port {port}...done"))
            {
                Some(true)
            } else if server.stderr.contains("failed") {
                Some(false)
            } else {
                None
            }
        },
    )
}

/// Our client against gnutls-serv restricted to one suite and group.
fn our_client_with_gnutls_serv(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (server, port) = gnutls_serv(key, &priority(suite, group, key));
        let conn = Connection::client(
            leak(client_config_for(suite, group, key)),
            Some("localhost"),
            tls::now(),
        )
        .unwrap();
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("handshake with gnutls-serv: {e}\n{}", server.describe()));
        assert_negotiated(&ours.conn, suite, group, key);
        let data = text(4096, 7);
        let got = ours
            .exchange(&data, data.len())
            .unwrap_or_else(|e| panic!("echo: {e}\n{}", server.describe()));
        assert!(got == data, "echo differs\n{}", server.describe());
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    });
}

/// gnutls-cli restricted to one suite and group against our server.
fn gnutls_cli_with_our_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (listener, port) = net::listener();
        let mut client = Process::spawn_program(
            "gnutls-cli",
            &[
                "--x509cafile",
                &net::cert_path("ca.pem"),
                "--port",
                &port.to_string(),
                "--priority",
                &priority(suite, group, key),
                "localhost",
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let conn = Connection::server(leak(server_config(suite, group, key)), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with gnutls-cli: {e}\n{}", client.describe()));
        assert_negotiated(&ours.conn, suite, group, key);
        let up = b"hello from gnutls-cli\n";
        client.feed(up.to_vec());
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        let down = b"hello from tlspair\n";
        ours.send_all(down).unwrap();
        client.wait_stdout("our line", |out| out.windows(down.len()).any(|w| w == down));
        // End of its stdin: gnutls-cli sends close_notify and exits.
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        assert_eq!(ours.close().unwrap(), Shutdown::Complete);
        let status = client.wait_exit();
        assert!(
            status.success(),
            "gnutls-cli: {status}\n{}",
            client.describe()
        );
    });
}

mod our_client_with_gnutls_serv {
    crate::interop_matrix!(crate::our_client_with_gnutls_serv);
}

mod gnutls_cli_with_our_server {
    crate::interop_matrix!(crate::gnutls_cli_with_our_server);
}

/// The TLS 1.2 matrix, each direction.
mod tls12 {
    mod our_client_with_gnutls_serv {
        crate::tls12_matrix!(crate::our_client_with_gnutls_serv);
    }

    mod gnutls_cli_with_our_server {
        crate::tls12_matrix!(crate::gnutls_cli_with_our_server);
    }
}

/// gnutls-cli sends a share for its first group only: a server that takes
/// another of its groups asks again (a HelloRetryRequest, and a second
/// ClientHello that must repeat the first).
#[test]
fn gnutls_cli_offering_another_group_first_gets_a_hello_retry_request() {
    bounded(|| {
        let (listener, port) = net::listener();
        // gnutls-cli sends a share for its first group only.
        let mut client = Process::spawn_program(
            "gnutls-cli",
            &[
                "--x509cafile",
                &net::cert_path("ca.pem"),
                "--port",
                &port.to_string(),
                "--priority",
                "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1:+GROUP-X25519",
                "localhost",
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let mut sc = tls::p256_server_config();
        sc.groups = &[NamedGroup::X25519];
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with gnutls-cli: {e}\n{}", client.describe()));
        assert_eq!(
            ours.conn.negotiated().unwrap().group,
            Some(NamedGroup::X25519)
        );
        client.feed(b"retried\n".to_vec());
        assert_eq!(ours.read_exact(8).unwrap(), b"retried\n");
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
    });
}

// ---------------------------------------------------------------------
// TLS 1.2 client certificates, each way: our side keeps the messages the
// CertificateVerify signs.

/// GnuTLS's TLS 1.2 priority for a server with an ECDSA P-256 key and a
/// client whose `key` signs: any AEAD suite and group.
const TLS12_PRIORITY: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:-MAC-ALL:+AEAD";

fn our_client_certificate_to_gnutls_serv_in_tls12(key: KeyType) {
    bounded(move || {
        let (server, port) = gnutls_serv_with(
            KeyType::EcdsaP256,
            TLS12_PRIORITY,
            &[
                "--require-client-cert".to_owned(),
                "--verify-client-cert".to_owned(),
                "--x509cafile".to_owned(),
                net::cert_path("ca.pem"),
            ],
        );
        let mut cc = tls::client_config();
        cc.suites = &tlspair::TLS12_SUITES;
        cc.client_auth = Some(tls::certified(key.client_credential()));
        let mut conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("handshake with gnutls-serv: {e}\n{}", server.describe()));
        let data = text(1024, 8);
        let got = ours
            .exchange(&data, data.len())
            .unwrap_or_else(|e| panic!("echo: {e}\n{}", server.describe()));
        assert!(got == data, "echo differs\n{}", server.describe());
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    });
}

fn gnutls_cli_certificate_to_our_server_in_tls12(key: KeyType) {
    bounded(move || {
        let (listener, port) = net::listener();
        let mut client = Process::spawn_program(
            "gnutls-cli",
            &[
                "--x509cafile",
                &net::cert_path("ca.pem"),
                "--x509certfile",
                &net::cert_path(&format!("{}.pem", key.client_pem_base())),
                "--x509keyfile",
                &net::cert_path(&format!("{}.key.pem", key.client_pem_base())),
                "--port",
                &port.to_string(),
                "--priority",
                TLS12_PRIORITY,
                "localhost",
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let mut sc = tls::mtls_server_config();
        sc.suites = &tlspair::TLS12_SUITES;
        let mut conn = Connection::server(leak(sc), tls::now()).unwrap();
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with gnutls-cli: {e}\n{}", client.describe()));
        let sha = ring::digest::digest(&ring::digest::SHA256, key.client_credential().cert);
        assert_eq!(
            ours.conn.negotiated().unwrap().peer_cert_sha256.as_ref(),
            Some(&sha.as_ref().try_into().unwrap())
        );
        let up = b"hello from gnutls-cli\n";
        client.feed(up.to_vec());
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
        let status = client.wait_exit();
        assert!(
            status.success(),
            "gnutls-cli: {status}\n{}",
            client.describe()
        );
    });
}

mod tls12_client_certificates {
    use super::*;

    #[test]
    fn ours_to_gnutls_serv_ecdsa_p256() {
        our_client_certificate_to_gnutls_serv_in_tls12(KeyType::EcdsaP256);
    }

    #[test]
    fn ours_to_gnutls_serv_rsa() {
        our_client_certificate_to_gnutls_serv_in_tls12(KeyType::Rsa2048);
    }

    #[test]
    fn ours_to_gnutls_serv_ed25519() {
        our_client_certificate_to_gnutls_serv_in_tls12(KeyType::Ed25519);
    }

    #[test]
    fn gnutls_cli_to_ours_ecdsa_p384() {
        gnutls_cli_certificate_to_our_server_in_tls12(KeyType::EcdsaP384);
    }

    #[test]
    fn gnutls_cli_to_ours_rsa() {
        gnutls_cli_certificate_to_our_server_in_tls12(KeyType::Rsa2048);
    }

    #[test]
    fn gnutls_cli_to_ours_ed25519() {
        gnutls_cli_certificate_to_our_server_in_tls12(KeyType::Ed25519);
    }
}

/// 0-RTT from `gnutls-cli --resume --earlydata FILE` to our server: its
/// first connection takes our ticket (which allows early data), its
/// second sends the file as early data, which our `read_early` takes
/// whole, apart from the 1-RTT data that follows.
#[test]
fn gnutls_cli_sends_early_data_to_our_server() {
    bounded(|| {
        let request = b"GET /early HTTP/1.1\r\n\r\n".repeat(20);
        let early =
            std::env::temp_dir().join(format!("tlspair-gnutls-early-{}.msg", std::process::id()));
        std::fs::write(&early, &request).unwrap();
        let (_, sc, _) = tls::early_data_configs(16_384);
        let (listener, port) = net::listener();
        let mut client = Process::spawn_program(
            "gnutls-cli",
            &[
                "--x509cafile",
                &net::cert_path("ca.pem"),
                "--port",
                &port.to_string(),
                "--resume",
                &format!("--earlydata={}", early.display()),
                "localhost",
            ],
        );
        // The first connection: a full handshake and our ticket.
        let sock = net::accept(&listener, || client.alive());
        let mut first = TlsSocket::new(Connection::server(sc, tls::now()).unwrap(), sock);
        first
            .handshake()
            .unwrap_or_else(|e| panic!("first handshake: {e}\n{}", client.describe()));
        assert!(!first.conn.negotiated().unwrap().resumed);
        // gnutls-cli closes it once it has the ticket (or just goes).
        let _ = first.read_until_closed();
        // The second: resumed, with early data.
        let sock = net::accept(&listener, || client.alive());
        let mut ours = TlsSocket::new(Connection::server(sc, tls::now()).unwrap(), sock);
        let got = ours
            .read_early_all()
            .unwrap_or_else(|e| panic!("read_early: {e}\n{}", client.describe()));
        ours.handshake()
            .unwrap_or_else(|e| panic!("resumption: {e}\n{}", client.describe()));
        assert!(
            ours.conn.negotiated().unwrap().resumed,
            "{}",
            client.describe()
        );
        assert_eq!(
            ours.conn.early_data(),
            tlspair::EarlyData::Accepted,
            "{}",
            client.describe()
        );
        assert!(
            got == request,
            "{} early bytes\n{}",
            got.len(),
            client.describe()
        );
        let up = b"after the handshake\n";
        client.feed(up.to_vec());
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        client.close_stdin();
        let _ = ours.read_until_closed();
        let _ = std::fs::remove_file(&early);
    });
}

/// 0-RTT from our client to `gnutls-serv --earlydata`: the ticket of a
/// first connection carries gnutls-serv's allowance, and our second
/// connection's early data is accepted.
#[test]
fn our_client_sends_early_data_to_gnutls_serv() {
    bounded(|| {
        let key = KeyType::EcdsaP256;
        let (server, port) = gnutls_serv_with(
            key,
            "NORMAL",
            &["--earlydata".to_owned(), "--maxearlydata=16384".to_owned()],
        );
        let store: &'static tls::Tickets = leak(tls::Tickets::default());
        let mut cc = tls::client_config();
        cc.ticket_sink = Some(store);
        let cc = leak(cc);
        let mut ours = TlsSocket::connect_and_handshake(
            Connection::client(cc, Some("localhost"), tls::now()).unwrap(),
            port,
        )
        .unwrap_or_else(|e| panic!("first handshake: {e}\n{}", server.describe()));
        // gnutls-serv --echo: the echo comes after its tickets.
        let got = ours
            .exchange(b"first\n", 6)
            .unwrap_or_else(|e| panic!("echo: {e}\n{}", server.describe()));
        assert_eq!(got, b"first\n");
        let _ = ours.close();
        let ticket = store.0.lock().unwrap().first().cloned().expect("a ticket");
        let ticket = leak(leak(ticket).resumption());
        assert_eq!(ticket.max_early_data, 16_384, "{}", server.describe());
        let conn = Connection::client_resuming(cc, Some("localhost"), tls::now(), ticket).unwrap();
        let mut ours = TlsSocket::new(conn, net::connect(port));
        let early = b"early from tlspair\n";
        assert_eq!(
            ours.conn.write_early(&mut ours.bufs, early),
            Ok(tlspair::Status::Done(early.len()))
        );
        ours.handshake()
            .unwrap_or_else(|e| panic!("0-RTT handshake: {e}\n{}", server.describe()));
        assert!(ours.conn.negotiated().unwrap().resumed);
        assert_eq!(
            ours.conn.early_data(),
            tlspair::EarlyData::Accepted,
            "{}",
            server.describe()
        );
        let got = ours
            .exchange(b"second\n", 7)
            .unwrap_or_else(|e| panic!("echo: {e}\n{}", server.describe()));
        assert_eq!(got, b"second\n", "{}", server.describe());
    });
}

/// TLS 1.3 post-handshake authentication (RFC 8446 §4.6.2):
/// `gnutls-cli --post-handshake-auth` with a certificate answers the
/// request our server makes after the handshake, and data flows after.
#[test]
fn gnutls_cli_answers_our_post_handshake_certificate_request() {
    bounded(|| {
        let key = KeyType::EcdsaP256;
        let (listener, port) = net::listener();
        let mut client = Process::spawn_program(
            "gnutls-cli",
            &[
                "--x509cafile",
                &net::cert_path("ca.pem"),
                "--x509certfile",
                &net::cert_path(&format!("{}.pem", key.client_pem_base())),
                "--x509keyfile",
                &net::cert_path(&format!("{}.key.pem", key.client_pem_base())),
                "--post-handshake-auth",
                "--port",
                &port.to_string(),
                "localhost",
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let mut sc = tls::mtls_server_config();
        sc.defer_client_auth = true;
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with gnutls-cli: {e}\n{}", client.describe()));
        assert_eq!(ours.conn.negotiated().unwrap().peer_cert_sha256, None);
        ours.conn.request_client_auth(tls::now()).unwrap();
        ours.send_all(b"who are you?\n").unwrap();
        client.wait_stdout("our line", |out| {
            String::from_utf8_lossy(out).contains("who are you?")
        });
        let up = b"hello after authenticating\n";
        client.feed(up.to_vec());
        assert_eq!(
            ours.read_exact(up.len())
                .unwrap_or_else(|e| panic!("{e}\n{}", client.describe())),
            up
        );
        let sha = ring::digest::digest(&ring::digest::SHA256, key.client_credential().cert);
        assert_eq!(
            ours.conn.negotiated().unwrap().peer_cert_sha256.as_ref(),
            Some(&sha.as_ref().try_into().unwrap()),
            "{}",
            client.describe()
        );
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
    });
}

/// `gnutls-cli --rehandshake` renegotiates right after its handshake
/// (GnuTLS's safe renegotiation, RFC 5746): our server, allowing one,
/// performs it inside its reads, and data goes on.
#[test]
fn gnutls_cli_rehandshake_is_performed_by_our_server() {
    bounded(|| {
        let told = leak(tls::Told::default());
        let mut sc = tls::p256_server_config();
        sc.suites = &tlspair::TLS12_SUITES;
        sc.auth_hook = Some(told);
        sc.renegotiations = 1;
        let (listener, port) = net::listener();
        let mut client = Process::spawn_program(
            "gnutls-cli",
            &[
                "--x509cafile",
                &net::cert_path("ca.pem"),
                "--rehandshake",
                "--port",
                &port.to_string(),
                "--priority",
                TLS12_PRIORITY,
                "localhost",
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with gnutls-cli: {e}\n{}", client.describe()));
        let up = b"after the rehandshake\n";
        client.feed(up.to_vec());
        assert_eq!(
            ours.read_exact(up.len())
                .unwrap_or_else(|e| panic!("{e}\n{}", client.describe())),
            up
        );
        assert_eq!(told.take(), ["renegotiated 1 cert=false"]);
        let out = client.describe();
        assert!(out.contains("ReHandshake was completed"), "{out}");
        client.close_stdin();
        assert_eq!(ours.read_until_closed().unwrap(), b"");
    });
}

/// Our client renegotiates with `gnutls-serv` (which allows safe
/// renegotiation): the echo goes on before and after, under the new keys.
#[test]
fn our_client_renegotiates_with_gnutls_serv() {
    bounded(|| {
        let (server, port) = gnutls_serv_with(KeyType::EcdsaP256, TLS12_PRIORITY, &[]);
        let mut cc = tls::client_config();
        cc.suites = &tlspair::TLS12_SUITES;
        let conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
        let mut ours = TlsSocket::connect_and_handshake(conn, port)
            .unwrap_or_else(|e| panic!("handshake with gnutls-serv: {e}\n{}", server.describe()));
        let before = text(512, 1);
        assert!(ours.exchange(&before, before.len()).unwrap() == before);
        let exporter = |c: &Connection<'_>| {
            let mut out = [0u8; 16];
            c.export_keying_material(&mut out, b"EXPERIMENTAL t", None)
                .unwrap();
            out
        };
        let old = exporter(&ours.conn);
        assert_eq!(
            ours.conn.renegotiate(&mut ours.bufs, tls::now(), false),
            Ok(tlspair::Status::Done(()))
        );
        let after = text(2048, 2);
        let got = ours
            .exchange(&after, after.len())
            .unwrap_or_else(|e| panic!("echo: {e}\n{}", server.describe()));
        assert!(got == after, "echo differs\n{}", server.describe());
        assert!(!ours.conn.is_renegotiating());
        assert_ne!(exporter(&ours.conn), old, "a new session");
        assert_eq!(ours.close().unwrap(), Shutdown::Sent);
    });
}
