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

/// A remote signer: the signature is made on another thread after a
/// delay, and the task waiting for it is woken when it is ready, if the
/// signer was told whom to wake (`wakes`).
struct RemoteSigner {
    key: tlspair::sign::SigningKey,
    wakes: bool,
    polls: std::sync::atomic::AtomicUsize,
    state: std::sync::Mutex<(Option<Vec<u8>>, Option<std::task::Waker>)>,
    started: std::sync::atomic::AtomicBool,
    /// Itself, leaked: what the signing thread holds.
    this: std::sync::OnceLock<&'static RemoteSigner>,
}

impl tlspair::sign::Signer for RemoteSigner {
    fn schemes(&self) -> &[tlspair::wire::SignatureScheme] {
        self.key.schemes()
    }

    fn max_signature_len(&self) -> usize {
        self.key.max_signature_len()
    }

    fn sign(
        &self,
        request: &tlspair::sign::SignRequest<'_>,
        out: &mut [u8],
    ) -> Result<tlspair::sign::Signing, tlspair::Error> {
        use std::sync::atomic::Ordering;
        self.polls.fetch_add(1, Ordering::Relaxed);
        if let Some(sig) = self.state.lock().unwrap().0.take() {
            out[..sig.len()].copy_from_slice(&sig);
            return Ok(tlspair::sign::Signing::Done(sig.len()));
        }
        if !self.started.swap(true, Ordering::Relaxed) {
            let mut sig = vec![0u8; self.key.max_signature_len()];
            let n = self
                .key
                .sign(request.scheme, request.message, tls::rng(), &mut sig)
                .unwrap();
            sig.truncate(n);
            let me: &'static RemoteSigner = self.this.get().unwrap();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let waker = {
                    let mut state = me.state.lock().unwrap();
                    state.0 = Some(sig);
                    state.1.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            });
        }
        Ok(tlspair::sign::Signing::Pending)
    }

    fn wake_when_ready(
        &self,
        _: &tlspair::sign::SignRequest<'_>,
        waker: &std::task::Waker,
    ) -> bool {
        if !self.wakes {
            return false;
        }
        let mut state = self.state.lock().unwrap();
        if state.0.is_some() {
            waker.wake_by_ref();
        } else {
            state.1 = Some(waker.clone());
        }
        true
    }
}

/// A signer that can wake the task is waited for, not polled in a loop:
/// over a 200 ms signature it is asked a handful of times; one that cannot
/// wake anyone is asked on every turn of the executor.
#[test]
fn a_remote_signer_that_wakes_the_task_is_not_polled_in_a_loop() {
    for wakes in [true, false] {
        let signer: &'static RemoteSigner = leak(RemoteSigner {
            key: tlspair::sign::SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, tls::rng())
                .unwrap(),
            wakes,
            polls: Default::default(),
            state: Default::default(),
            started: Default::default(),
            this: Default::default(),
        });
        signer.this.set(signer).ok().unwrap();
        let chain: &'static [&'static [u8]] = leak([creds::SERVER_ECDSA_P256.cert]);
        let sc: &'static ServerConfig<'static> = leak(ServerConfig::new(
            leak([tlspair::handshake::CertifiedKey::new(chain, signer)]),
            tls::rng(),
        ));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut s = tlspair::tokio::accept(sc, tcp).await.unwrap();
                echo_back(&mut s).await;
            });
            let mut c = ours_to(port, leak(client_config())).await;
            assert_eq!(
                echo_through(&mut c, b"signed remotely").await,
                b"signed remotely"
            );
            server.await.unwrap();
        });
        let polls = signer.polls.load(std::sync::atomic::Ordering::Relaxed);
        if wakes {
            assert!(polls <= 4, "asked {polls} times");
        } else {
            assert!(
                polls > 20,
                "asked only {polls} times: the busy poll is gone?"
            );
        }
    }
}
