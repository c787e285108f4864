//! The tokio adapter over tokio TCP: against itself (with the
//! ClientHello-peeking acceptor), against rustls through tokio-rustls, and
//! against OpenSSL's s_server and s_client. Every transfer checks the
//! bytes: nothing duplicated or lost, whatever `Pending` the transport
//! answered; shutdown sends close_notify, which the peer sees as a clean
//! end.

mod common;

use std::sync::Arc;

use common::net::Openssl;
use common::tls::{self, client_config, p256_server_config};
use rustls::crypto::ring as rustls_ring;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::test_credentials as creds;
use tlspair::tokio::{connect, LazyAcceptor, TlsStream};
use tlspair::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// Bytes that show any shift, duplication or loss.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn ours_to(port: u16, cc: &'static ClientConfig<'static>) -> TlsStream<'static, TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let conn = Connection::client(cc, Some("localhost"), tls::now()).unwrap();
    connect(conn, tcp).await.unwrap()
}

/// Sends `up`, then reads until the peer closes; the peer echoes.
async fn echo_through<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    up: &[u8],
) -> Vec<u8> {
    s.write_all(up).await.unwrap();
    s.shutdown().await.unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).await.unwrap();
    got
}

/// Echoes everything until the peer's close, then closes.
async fn echo_back<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(s: &mut S) {
    let mut buf = vec![0u8; 7_000];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        s.write_all(&buf[..n]).await.unwrap();
    }
    s.shutdown().await.unwrap();
}

#[test]
fn ours_to_ours_with_the_acceptor_choosing_by_sni() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut a = ServerConfig::new(
            leak([tls::certified(&creds::SERVER_ECDSA_P256)]),
            tls::rng(),
        );
        a.alpn = leak([&b"a"[..]]);
        let mut b = ServerConfig::new(leak([tls::certified(&creds::SERVER_ED25519)]), tls::rng());
        b.alpn = leak([&b"b"[..]]);
        let (a, b): (
            &'static ServerConfig<'static>,
            &'static ServerConfig<'static>,
        ) = (leak(a), leak(b));
        let server = tokio::spawn(async move {
            for _ in 0..2 {
                let (tcp, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut start = LazyAcceptor::new(tcp).await.unwrap();
                    let wants_b = start.client_hello().unwrap().alpn().any(|p| p == b"b");
                    let mut s = start
                        .into_stream(if wants_b { b } else { a })
                        .await
                        .unwrap();
                    echo_back(&mut s).await;
                });
            }
        });
        use tlspair::wire::SignatureScheme as S;
        for (alpn, scheme) in [
            (&b"a"[..], S::ECDSA_SECP256R1_SHA256),
            (&b"b"[..], S::ED25519),
        ] {
            let mut cc = client_config();
            cc.alpn = leak([alpn]);
            let mut s = ours_to(port, leak(cc)).await;
            let n = s.connection().negotiated().unwrap();
            assert_eq!(n.alpn_index, Some(0));
            assert_eq!(n.signature_scheme, Some(scheme), "the tenant's chain");
            let up = pattern(300_000, alpn[0].into());
            assert_eq!(echo_through(&mut s, &up).await, up);
        }
        server.await.unwrap();
    });
}

fn rustls_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls_ring::default_provider())
}

#[test]
fn ours_as_client_to_tokio_rustls() {
    runtime().block_on(async {
        let cfg = rustls::ServerConfig::builder_with_provider(rustls_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(creds::SERVER_ECDSA_P256.cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(creds::SERVER_ECDSA_P256.key)),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = acceptor.accept(tcp).await.unwrap();
            echo_back(&mut s).await;
        });
        let mut s = ours_to(port, leak(client_config())).await;
        let up = pattern(1 << 20, 7);
        assert_eq!(echo_through(&mut s, &up).await, up);
        server.await.unwrap();
    });
}

#[test]
fn tokio_rustls_as_client_to_ours() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sc: &'static ServerConfig<'static> = leak(p256_server_config());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = tlspair::tokio::accept(sc, tcp).await.unwrap();
            echo_back(&mut s).await;
        });
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(creds::CA_CERT)).unwrap();
        let cfg = rustls::ClientConfig::builder_with_provider(rustls_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut s = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let up = pattern(1 << 20, 9);
        assert_eq!(echo_through(&mut s, &up).await, up);
        server.await.unwrap();
    });
}

#[test]
fn ours_as_client_to_openssl_s_server() {
    // s_server -rev answers each line reversed.
    let (_server, port) = Openssl::s_server("server-p256.pem", "server-p256.key.pem", &["-rev"]);
    runtime().block_on(async {
        let mut s = ours_to(port, leak(client_config())).await;
        let lines = common::interop::text_with_lines(100_000, 3, 60);
        s.write_all(&lines).await.unwrap();
        let expect = common::interop::reversed_lines(&lines);
        let mut got = vec![0u8; expect.len()];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(got, expect);
        s.shutdown().await.unwrap();
    });
}

#[test]
fn openssl_s_client_to_ours() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sc: &'static ServerConfig<'static> = leak(p256_server_config());
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = tlspair::tokio::accept(sc, tcp).await.unwrap();
            echo_back(&mut s).await;
        });
        let up = common::interop::text_with_lines(200_000, 5, 70);
        let mut client = Openssl::s_client(port, &["-quiet", "-no_ign_eof"]);
        client.feed(up.clone());
        client.wait_stdout("the echo", |b| b.len() >= up.len());
        assert_eq!(client.stdout.bytes(), up);
        // End of stdin: s_client sends close_notify; we answer with ours.
        client.close_stdin();
        server.await.unwrap();
        assert!(client.wait_exit().success(), "{}", client.describe());
    });
}
