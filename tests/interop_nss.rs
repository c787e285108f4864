//! Interop with NSS's command-line tools over loopback TCP, both ways:
//! our client against `selfserv` (which answers a request with a fixed
//! header, the request itself and "EOF"), and `tstclnt` against our
//! server. Every suite × group × ECDSA and RSA key in each direction; NSS
//! 3.87 has no Ed25519 in TLS, so its column is the refusal (tested
//! below). `scripts/test.sh` installs libnss3-tools; without it every test
//! fails, saying so.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use common::interop::{assert_negotiated, server_config, KeyType};
use common::net::{self, bounded, Process, TlsSocket};
use common::tls;
use tlspair::wire::NamedGroup;
use tlspair::{Connection, Error, PeerIncompatible, Suite};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (libnss3-tools / openssl): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An NSS database trusting the test CA and, with `key`, holding that
/// server credential (one database per key: NSS gives certificates of
/// one subject one nickname). Made once per test process.
fn nss_db(key: Option<KeyType>) -> PathBuf {
    nss_db_with(key.map(|k| k.pem_base()))
}

/// The same for the credential whose PEM files in testdata/certs are
/// named `name` (a server's or a client's), its nickname `name`.
fn nss_db_with(name: Option<&'static str>) -> PathBuf {
    static DBS: OnceLock<Mutex<HashMap<Option<&'static str>, PathBuf>>> = OnceLock::new();
    let mut dbs = DBS.get_or_init(Default::default).lock().unwrap();
    dbs.entry(name)
        .or_insert_with(|| {
            let dir = std::env::temp_dir().join(format!(
                "tlspair-nss-{}-{}",
                std::process::id(),
                name.unwrap_or("client")
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let d = dir.to_str().unwrap();
            run("certutil", &["-N", "-d", d, "--empty-password"]);
            let ca = net::cert_path("ca.pem");
            run(
                "certutil",
                &["-A", "-d", d, "-n", "testca", "-t", "CT,C,C", "-i", &ca],
            );
            if let Some(k) = name {
                let p12 = dir.join("credential.p12");
                let p12 = p12.to_str().unwrap();
                run(
                    net::openssl_binary(),
                    &[
                        "pkcs12",
                        "-export",
                        "-in",
                        &net::cert_path(&format!("{k}.pem")),
                        "-inkey",
                        &net::cert_path(&format!("{k}.key.pem")),
                        "-name",
                        k,
                        "-passout",
                        "pass:",
                        "-out",
                        p12,
                    ],
                );
                run("pk12util", &["-i", p12, "-d", d, "-W", ""]);
            }
            dir
        })
        .clone()
}

/// NSS's names: the suite as `-c :XXXX`, the group for `-I`.
fn nss_suite(suite: &Suite) -> String {
    format!(":{:04x}", suite.id.0)
}

/// `-V`: the suite's version only.
fn nss_version(suite: &Suite) -> &'static str {
    if suite.is_tls12() {
        "tls1.2:tls1.2"
    } else {
        "tls1.3:tls1.3"
    }
}

/// `-I`: the group, and for TLS 1.2 with an ECDSA key the certificate's
/// curve after it.
fn nss_groups(suite: &Suite, group: NamedGroup, key: KeyType) -> String {
    match common::interop::cert_curve(key).filter(|c| *c != group && suite.is_tls12()) {
        Some(curve) => format!("{},{}", nss_group(group), nss_group(curve)),
        None => nss_group(group).to_owned(),
    }
}

fn nss_group(group: NamedGroup) -> &'static str {
    match group {
        NamedGroup::X25519 => "x25519",
        NamedGroup::SECP256R1 => "P256",
        NamedGroup::SECP384R1 => "P384",
        other => panic!("no NSS name for {other:?}"),
    }
}

/// `selfserv` with this key, TLS 1.3 only, once it listens (it prints
/// nothing then: its socket table is read, see [`net::listens`]).
fn selfserv(key: KeyType, suite: &Suite, group: NamedGroup) -> (Process, u16) {
    let db = nss_db(Some(key));
    net::start_server(
        "selfserv",
        |port| {
            Process::spawn_program(
                "selfserv",
                &[
                    "-p",
                    &port.to_string(),
                    "-d",
                    db.to_str().unwrap(),
                    "-n",
                    key.pem_base(),
                    "-V",
                    nss_version(suite),
                    "-c",
                    &nss_suite(suite),
                    "-I",
                    &nss_groups(suite, group, key),
                ],
            )
        },
        |server, port| net::listens(server.id(), port).then_some(true),
    )
}

/// Our client against selfserv restricted to one suite and group.
fn our_client_with_selfserv(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (server, port) = selfserv(key, suite, group);
        let conn = Connection::client(
            leak(common::interop::client_config_for(suite, group, key)),
            Some("localhost"),
            tls::now(),
        )
        .unwrap();
        let sock = net::try_connect(port)
            .unwrap_or_else(|e| panic!("connect to selfserv: {e}\n{}", server.describe()));
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with selfserv: {e}\n{}", server.describe()));
        match common::interop::cert_curve(key).filter(|c| *c != group && suite.is_tls12()) {
            // NSS in TLS 1.2 picks among the groups offered by its own
            // strength rules (P-384 with a P-384 key and an AES-256 suite,
            // whatever group comes first), and our client must list the
            // certificate's curve: either offered group is right.
            Some(curve) => {
                let n = ours.conn.negotiated().expect("negotiated");
                assert_eq!(n.suite, suite.id);
                assert!(
                    n.group == Some(group) || n.group == Some(curve),
                    "group {:?}",
                    n.group
                );
            }
            None => assert_negotiated(&ours.conn, suite, group, key),
        }
        let request = b"GET /tlspair HTTP/1.0\r\n\r\n";
        ours.send_all(request).unwrap();
        let answer = ours
            .read_until_closed()
            .unwrap_or_else(|e| panic!("selfserv's answer: {e}\n{}", server.describe()));
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.0 200 OK"), "{text}");
        assert!(text.contains("GET /tlspair HTTP/1.0"), "{text}");
    });
}

/// `tstclnt` to our server on `port`, one suite and group, TLS 1.3. NSS
/// wants keyEncipherment in an RSA server certificate's key usage (a rule
/// from RSA key transport); our test certificate has digitalSignature only,
/// which is what TLS 1.3 needs, so for RSA the chain check is overridden
/// (`-o`): the handshake, the RSA-PSS CertificateVerify and the data are
/// still NSS's.
fn tstclnt(port: u16, suite: &Suite, group: NamedGroup, key: KeyType) -> Process {
    let db = nss_db(None);
    let mut args = vec![
        "-h".to_owned(),
        "127.0.0.1".to_owned(),
        "-a".to_owned(),
        "localhost".to_owned(),
        "-p".to_owned(),
        port.to_string(),
        "-d".to_owned(),
        db.to_str().unwrap().to_owned(),
        "-V".to_owned(),
        nss_version(suite).to_owned(),
        "-c".to_owned(),
        nss_suite(suite),
        "-I".to_owned(),
        nss_groups(suite, group, key),
    ];
    if key == KeyType::Rsa2048 {
        args.push("-o".to_owned());
    }
    Process::spawn_program("tstclnt", &args)
}

/// tstclnt restricted to one suite and group against our server.
fn tstclnt_with_our_server(suite: &'static Suite, group: NamedGroup, key: KeyType) {
    bounded(move || {
        let (listener, port) = net::listener();
        let mut client = tstclnt(port, suite, group, key);
        let sock = net::accept(&listener, || client.alive());
        let conn = Connection::server(leak(server_config(suite, group, key)), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        // tstclnt sends once it has input.
        let up = b"hello from tstclnt\n";
        client.feed(up.to_vec());
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with tstclnt: {e}\n{}", client.describe()));
        assert_negotiated(&ours.conn, suite, group, key);
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        let down = b"hello from tlspair\n";
        ours.send_all(down).unwrap();
        client.wait_stdout("our line", |out| out.windows(down.len()).any(|w| w == down));
        // tstclnt waits on its stdin and socket until it is killed (at
        // drop): our close_notify ends the session.
        assert_eq!(ours.close().unwrap(), tlspair::Shutdown::Sent);
    });
}

mod our_client_with_selfserv {
    crate::interop_matrix!(ecdsa_rsa: crate::our_client_with_selfserv);
}

mod tstclnt_with_our_server {
    crate::interop_matrix!(ecdsa_rsa: crate::tstclnt_with_our_server);
}

/// The TLS 1.2 matrix, each direction, without Ed25519 (NSS has none).
mod tls12 {
    mod our_client_with_selfserv {
        crate::tls12_matrix!(ecdsa_rsa: crate::our_client_with_selfserv);
    }

    mod tstclnt_with_our_server {
        crate::tls12_matrix!(ecdsa_rsa: crate::tstclnt_with_our_server);
    }
}

#[test]
fn tstclnt_offers_no_ed25519_and_our_ed25519_server_refuses_it_with_handshake_failure() {
    bounded(|| {
        let (listener, port) = net::listener();
        let suite = &tlspair::TLS13_AES_128_GCM_SHA256;
        let mut client = tstclnt(port, suite, NamedGroup::X25519, KeyType::Ed25519);
        client.feed(b"x\n".to_vec());
        let sock = net::accept(&listener, || client.alive());
        let sc = server_config(suite, NamedGroup::X25519, KeyType::Ed25519);
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut ours = TlsSocket::new(conn, sock);
        assert_eq!(
            ours.handshake().unwrap_err(),
            Error::PeerIncompatible(PeerIncompatible::NoSharedSignatureScheme)
        );
        client.wait_exit();
        assert!(
            client.describe().contains("SSL_ERROR_NO_CYPHER_OVERLAP")
                || client.describe().contains("HANDSHAKE_FAILURE"),
            "{}",
            client.describe()
        );
    });
}

// ---------------------------------------------------------------------
// TLS 1.2 client certificates, each way (ECDSA and RSA: NSS has no
// Ed25519): our side keeps the messages the CertificateVerify signs.

/// Our client with `key`'s client certificate against `selfserv -r -r`
/// (a certificate required, verified against the test CA its database
/// trusts), TLS 1.2.
fn our_client_certificate_to_selfserv(key: KeyType) {
    bounded(move || {
        let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
        let db = nss_db(Some(KeyType::EcdsaP256));
        let (server, port) = net::start_server(
            "selfserv",
            |port| {
                Process::spawn_program(
                    "selfserv",
                    &[
                        "-p",
                        &port.to_string(),
                        "-d",
                        db.to_str().unwrap(),
                        "-n",
                        KeyType::EcdsaP256.pem_base(),
                        "-V",
                        nss_version(suite),
                        "-r",
                        "-r",
                    ],
                )
            },
            |server, port| net::listens(server.id(), port).then_some(true),
        );
        let mut cc = tls::client_config();
        cc.suites = &tlspair::TLS12_SUITES;
        cc.client_auth = Some(tls::certified(key.client_credential()));
        let mut conn = Connection::client(leak(cc), Some("localhost"), tls::now()).unwrap();
        conn.keep_tls12_transcript(Vec::new());
        let sock = net::try_connect(port)
            .unwrap_or_else(|e| panic!("connect to selfserv: {e}\n{}", server.describe()));
        let mut ours = TlsSocket::new(conn, sock);
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with selfserv: {e}\n{}", server.describe()));
        let request = b"GET /mutual HTTP/1.0\r\n\r\n";
        ours.send_all(request).unwrap();
        let answer = ours
            .read_until_closed()
            .unwrap_or_else(|e| panic!("selfserv's answer: {e}\n{}", server.describe()));
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.0 200 OK"), "{text}");
    });
}

/// `tstclnt -n` with `key`'s client certificate (imported into its
/// database) against our server requiring one, TLS 1.2.
fn tstclnt_certificate_to_our_server(key: KeyType) {
    bounded(move || {
        let suite = &tlspair::ECDHE_ECDSA_AES_128_GCM_SHA256;
        let db = nss_db_with(Some(key.client_pem_base()));
        let (listener, port) = net::listener();
        let mut client = Process::spawn_program(
            "tstclnt",
            &[
                "-h",
                "127.0.0.1",
                "-a",
                "localhost",
                "-p",
                &port.to_string(),
                "-d",
                db.to_str().unwrap(),
                "-V",
                nss_version(suite),
                "-n",
                key.client_pem_base(),
            ],
        );
        let sock = net::accept(&listener, || client.alive());
        let mut sc = tls::mtls_server_config();
        sc.suites = &tlspair::TLS12_SUITES;
        let mut conn = Connection::server(leak(sc), tls::now()).unwrap();
        conn.keep_tls12_transcript(Vec::new());
        let mut ours = TlsSocket::new(conn, sock);
        let up = b"hello from tstclnt\n";
        client.feed(up.to_vec());
        ours.handshake()
            .unwrap_or_else(|e| panic!("handshake with tstclnt: {e}\n{}", client.describe()));
        let sha = ring::digest::digest(&ring::digest::SHA256, key.client_credential().cert);
        assert_eq!(
            ours.conn.negotiated().unwrap().peer_cert_sha256.as_ref(),
            Some(&sha.as_ref().try_into().unwrap())
        );
        assert_eq!(ours.read_exact(up.len()).unwrap(), up);
        assert_eq!(ours.close().unwrap(), tlspair::Shutdown::Sent);
    });
}

mod tls12_client_certificates {
    use super::*;

    #[test]
    fn ours_to_selfserv_ecdsa_p256() {
        our_client_certificate_to_selfserv(KeyType::EcdsaP256);
    }

    #[test]
    fn ours_to_selfserv_rsa() {
        our_client_certificate_to_selfserv(KeyType::Rsa2048);
    }

    #[test]
    fn tstclnt_to_ours_ecdsa_p384() {
        tstclnt_certificate_to_our_server(KeyType::EcdsaP384);
    }

    #[test]
    fn tstclnt_to_ours_rsa() {
        tstclnt_certificate_to_our_server(KeyType::Rsa2048);
    }
}
