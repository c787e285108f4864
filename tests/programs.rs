//! The example programs end to end: `server` on a free port, talked to by
//! the `client` program and by a `Stream` over TCP.
//!
//! `cargo test` builds the examples before running tests, but
//! `cargo test --test programs` does not: so the tests ask cargo for them
//! first, once (a no-op of a fraction of a second when they are fresh).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use common::tls;
use tlspair::{Connection, Stream};

/// The path of an example binary of this build.
fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/programs-<hash> -> target/<profile>/examples/
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--example",
            "client",
            "--example",
            "server",
            "--example",
            "load",
        ]);
        // Without the variables cargo sets for this test: build scripts
        // (ring's) watch some, and would rebuild on every run.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            let set_for_tests = k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_MANIFEST_")
                || matches!(
                    &*k,
                    "CARGO_CRATE_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_TARGET_TMPDIR"
                        | "OUT_DIR"
                );
            if set_for_tests {
                cmd.env_remove(&key);
            }
        }
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
        }
        let status = cmd.status().expect("cargo build --example");
        assert!(status.success(), "building the examples failed");
    });
    profile_dir.join("examples").join(name)
}

/// A running `server`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(example("server"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        // "listening on 127.0.0.1:PORT (...)"
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .split_whitespace()
            .nth(2)
            .and_then(|a| a.rsplit_once(':'))
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Self { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `client` with `args`, feeding `stdin`.
fn client(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(example("client"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("client starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn server_answers_get_with_the_session_and_the_client_prints_it() {
    let server = Server::start(&[]);
    let addr = format!("localhost:{}", server.port);
    let out = client(&["-v", &addr], b"GET / HTTP/1.0\r\n\r\n");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("HTTP/1.0 200 OK\r\n"), "{stdout}");
    assert!(stdout.contains("<td>TLSv1.3</td>"), "{stdout}");
    assert!(stdout.contains("<td>localhost</td>"), "the SNI: {stdout}");
    assert!(stdout.contains("<td>built-in ECDSA P-256</td>"), "{stdout}");
    assert!(stderr.contains("Resumed: no"), "{stderr}");
    assert!(stderr.contains("Closed (close_notify)"), "{stderr}");

    // The same page through a Stream over TCP, without SNI (an IP name).
    let sock = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let config = Box::leak(Box::new(tls::client_config()));
    let conn = Connection::client(config, Some("127.0.0.1"), tls::now()).unwrap();
    let mut s = Stream::new(conn, sock);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    assert!(
        page.contains("<th align=\"left\">SNI</th><td>none"),
        "{page}"
    );
}

#[test]
fn server_and_client_speak_tls12_when_either_is_told_to() {
    // Either side forced to TLS 1.2 (`--tls1_2`), the other speaking both.
    for (server_args, client_args) in [(&["--tls1_2"][..], &[][..]), (&[][..], &["--tls1_2"][..])] {
        let server = Server::start(server_args);
        let addr = format!("localhost:{}", server.port);
        let mut args = vec!["-v"];
        args.extend_from_slice(client_args);
        args.push(&addr);
        let out = client(&args, b"GET / HTTP/1.0\r\n\r\n");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains("<td>TLSv1.2</td>"), "{stdout}");
        assert!(stderr.contains("Protocol: TLSv1.2"), "{stderr}");
        assert!(
            stderr.contains("Cipher suite: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
            "{stderr}"
        );
    }
}

#[test]
fn curl_gets_the_page_over_tls12_and_tls13() {
    let server = Server::start(&[]);
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/certs/ca.pem");
    for (flags, want) in [
        (&["--tlsv1.2", "--tls-max", "1.2"][..], "TLSv1.2"),
        (&["--tlsv1.3"][..], "TLSv1.3"),
    ] {
        let out = Command::new("curl")
            .args(["-sS", "--cacert", ca])
            .args(flags)
            .arg(format!("https://localhost:{}/", server.port))
            .output()
            .expect("curl runs (scripts/install-deps.sh installs it)");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "curl {flags:?}: {stderr}");
        assert!(stdout.contains(&format!("<td>{want}</td>")), "{stdout}");
    }
}

#[test]
fn echo_server_and_client_resume_from_a_saved_ticket() {
    let server = Server::start(&["--echo", "--alpn", "x,echo"]);
    let addr = format!("localhost:{}", server.port);
    let dir = std::env::temp_dir().join(format!("tlspair-programs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sess = dir.join("session");
    let sess = sess.to_str().unwrap();

    let first = client(
        &["-v", "--alpn", "echo", "--sess-out", sess, &addr],
        b"ping\n",
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(first.stdout, b"ping\n");
    assert!(text(&first.stderr).contains("ALPN: echo"));

    let second = client(&["-v", "--sess-in", sess, &addr], b"pong\n");
    let stderr = text(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert_eq!(second.stdout, b"pong\n");
    assert!(stderr.contains("Resumed: yes"), "{stderr}");

    // --early-data with a ticket that allows none (this server takes no
    // 0-RTT): nothing is lost, the bytes go first after the handshake.
    let early = dir.join("early");
    std::fs::write(&early, b"early\n").unwrap();
    let third = client(
        &[
            "-v",
            "--sess-in",
            sess,
            "--early-data",
            early.to_str().unwrap(),
            &addr,
        ],
        b"pong\n",
    );
    let stderr = text(&third.stderr);
    assert!(third.status.success(), "{stderr}");
    assert_eq!(third.stdout, b"early\npong\n", "{stderr}");
    assert!(stderr.contains("Early data: NotOffered"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn client_failures_are_one_line_each() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = client(&[&format!("127.0.0.1:{port}")], b"");
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("connection refused"));

    let server = Server::start(&[]);
    let addr = format!("localhost:{}", server.port);
    let ca = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/certs/untrusted-ca.pem"
    );
    let unknown_ca = client(&["--cafile", ca, &addr], b"");
    let stderr = text(&unknown_ca.stderr);
    assert_eq!(unknown_ca.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not issued by a trusted CA"), "{stderr}");

    let wrong_name = client(&["--servername", "example.com", &addr], b"");
    let stderr = text(&wrong_name.stderr);
    assert_eq!(wrong_name.status.code(), Some(1));
    assert!(stderr.contains("not valid for the server name"), "{stderr}");
}

/// A ClientHello whose key share we take, as one record.
fn raw_client_hello() -> Vec<u8> {
    use common::hello::{client_hello, good_extensions};
    client_hello(&good_extensions())
}

/// Reads what the server sends until it closes (or 5 s pass).
fn read_to_close(sock: &mut TcpStream) -> Vec<u8> {
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server went silent: {e} after {} bytes", got.len()),
        }
    }
}

#[test]
fn the_server_answers_a_client_hello_and_two_ccs_in_one_segment() {
    // The stall seen from outside: a ClientHello and two change_cipher_spec
    // records in one TCP segment. The server answers with its flight,
    // refuses the second CCS with an alert, and closes: never silence.
    let server = Server::start(&[]);
    let mut sock = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let ccs = [20u8, 3, 3, 0, 1, 1];
    let segment = [raw_client_hello(), ccs.to_vec(), ccs.to_vec()].concat();
    sock.write_all(&segment).unwrap();
    let got = read_to_close(&mut sock);
    assert!(
        got.len() > 100 && got[0] == 22,
        "{} bytes: no ServerHello",
        got.len()
    );
    // And with one CCS, the flight comes and the server waits for ours.
    let mut sock = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    sock.write_all(&[raw_client_hello(), ccs.to_vec()].concat())
        .unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 8192];
    let n = sock.read(&mut buf).unwrap();
    assert!(n > 5 && buf[0] == 22, "no ServerHello");
}

/// The server's CPU time so far (user + system, in clock ticks).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised name: state is field 3, utime 14,
    // stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn the_event_loop_server_holds_many_connections_and_sleeps_when_idle() {
    let server = Server::start(&["--quiet"]);
    let pid = server.child.id();
    // Bounded in count and time: 400 connections held at once, then as
    // many resumed, 60 s at most.
    let out = Command::new(example("load"))
        .args(["--addr", &format!("127.0.0.1:{}", server.port)])
        .args(["--connections", "400", "--concurrency", "50", "--hold"])
        .args(["--seconds", "60", "--server-pid", &pid.to_string()])
        .output()
        .expect("load runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("full: 400 handshakes") && stdout.contains("400 held open at once"),
        "{stdout}"
    );
    assert!(stdout.contains("0 failed, 400 resumed"), "{stdout}");
    assert!(stdout.contains("bytes per connection"), "{stdout}");
    // Idle (its connections gone after the load ended): no polling loop
    // burns CPU. Two seconds at 100 ticks a second; a 1 ms polling sleep
    // would spend several ticks, a wakeup a second for deadlines none.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let before = cpu_ticks(pid);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let spent = cpu_ticks(pid) - before;
    assert!(spent <= 1, "{spent} ticks of CPU in 2 s idle");
}

/// Standard base64, for Chromium's SPKI pin flag.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Headless Chromium (Debian's package, installed by scripts/test.sh)
/// fetches the event-loop server's page and negotiates X25519MLKEM768, the
/// hybrid it offers by default and the server's default first group. The
/// certificate is trusted by its key alone (Chromium's SPKI pin flag), not
/// by turning checks off.
#[test]
fn chromium_negotiates_x25519mlkem768_with_the_event_loop_server() {
    use tlspair::test_credentials as creds;
    let server = Server::start(&["--quiet"]);
    let der = tlspair::verify::CertificateDer::from(creds::SERVER_ECDSA_P256.cert);
    let pin = base64(&tlspair::verify::spki_sha256(&der).unwrap());
    let profile = std::env::temp_dir().join(format!("tlspair-chromium-{}", std::process::id()));
    let mut child = Command::new("chromium")
        .args(["--headless=new", "--no-sandbox", "--disable-gpu"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--ignore-certificate-errors-spki-list={pin}"))
        .arg("--dump-dom")
        .arg(format!("https://localhost:{}/", server.port))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium runs (scripts/test.sh installs Debian's chromium)");
    // Bounded: Chromium is killed if it has not answered in 60 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    let page = text(&out.stdout);
    assert!(
        page.contains("<td>X25519MLKEM768</td>") && page.contains("<td>TLSv1.3</td>"),
        "{page}\n{}",
        text(&out.stderr)
    );
}

#[test]
fn the_echo_server_takes_0rtt_and_echoes_it_in_its_first_flight() {
    // `server --echo --early-data`: a resumed client's early data is
    // taken (its ticket key is the process's own, so no restart window
    // applies) and echoed right behind the server's flight, then stdin's
    // line; each once.
    let server = Server::start(&["--echo", "--early-data"]);
    let addr = format!("localhost:{}", server.port);
    let dir = std::env::temp_dir().join(format!("tlspair-programs-0rtt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sess = dir.join("session");
    let sess = sess.to_str().unwrap();
    let early = dir.join("early");
    std::fs::write(&early, b"early\n").unwrap();
    let early = early.to_str().unwrap();
    let first = client(&["--sess-out", sess, &addr], b"ping\n");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let out = client(
        &["-v", "--sess-in", sess, "--early-data", early, &addr],
        b"pong\n",
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(out.stdout, b"early\npong\n", "{stderr}");
    assert!(stderr.contains("Resumed: yes"), "{stderr}");
    assert!(stderr.contains("Early data: Accepted"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
