//! An HTTPS echo server on tokio: answers each request with its own head
//! and body, over TLS 1.3 by the engine's tokio adapter, with the
//! built-in test certificate for localhost.
//!
//! ```text
//! cargo run --example tokio_echo -- [PORT]      (default 4443; 0: any)
//! curl --cacert testdata/certs/ca.pem https://localhost:4443/ -d hello
//! ```
//!
//! Each connection is a task; the acceptor reads the ClientHello first and
//! prints the name and protocols the client asked for before choosing
//! the configuration (one here; a multi-tenant server would pick by SNI).

use std::process::ExitCode;

use tlspair::handshake::{CertifiedKey, ServerConfig};
use tlspair::sign::SigningKey;
use tlspair::test_credentials as creds;
use tlspair::tokio::LazyAcceptor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

/// The request head and as much body as Content-Length says (capped).
async fn read_request<S: AsyncReadExt + Unpin>(s: &mut S) -> std::io::Result<Vec<u8>> {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&req[..end]).to_ascii_lowercase();
            let body_len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
                .min(1 << 20);
            if req.len() >= end + 4 + body_len {
                return Ok(req);
            }
        }
        let n = s.read(&mut buf).await?;
        if n == 0 || req.len() > 2 << 20 {
            return Ok(req);
        }
        req.extend_from_slice(&buf[..n]);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        None => 4443,
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("tokio_echo: the port: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rng = leak(ring::rand::SystemRandom::new());
    let key =
        leak(SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, rng).expect("built-in key"));
    let chain = leak([creds::SERVER_ECDSA_P256.cert]);
    let certs = leak([CertifiedKey::new(chain, key)]);
    let mut config = ServerConfig::new(certs, rng);
    config.alpn = leak([&b"http/1.1"[..]]);
    let config: &'static ServerConfig<'static> = leak(config);
    let listener = match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tokio_echo: 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", listener.local_addr().expect("bound"));
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let served = async {
                let mut start = LazyAcceptor::new(tcp).await?;
                if let Ok(hello) = start.client_hello() {
                    let alpn: Vec<String> = hello
                        .alpn()
                        .map(|p| String::from_utf8_lossy(p).into())
                        .collect();
                    eprintln!("{peer}: SNI {:?}, ALPN {alpn:?}", hello.server_name());
                }
                let mut s = start.into_stream(config).await?;
                let request = read_request(&mut s).await?;
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    request.len()
                )
                .into_bytes();
                response.extend_from_slice(&request);
                s.write_all(&response).await?;
                s.shutdown().await?;
                std::io::Result::Ok(())
            };
            if let Err(e) = served.await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
