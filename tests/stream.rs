//! The blocking adapter over a real socket: a `Stream`-wrapped client and
//! a `Stream`-wrapped server in a thread, over a Unix socket pair, with the
//! built-in test credentials.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;

use common::tls;
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::stream::tls_error;
use tlspair::test_credentials as creds;
use tlspair::verify::{CertificateError, WebPkiServerVerifier};
use tlspair::{AlertDescription, Connection, Error, Shutdown, Stream};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn server_config() -> &'static ServerConfig<'static> {
    leak(tls::server_config(&[tls::certified(
        &creds::SERVER_ECDSA_P256,
    )]))
}

fn client_config() -> &'static ClientConfig<'static> {
    leak(tls::client_config())
}

fn client(config: &'static ClientConfig<'static>, sock: UnixStream) -> Stream<'static, UnixStream> {
    let conn = Connection::client(config, Some("localhost"), tls::now()).unwrap();
    Stream::new(conn, sock)
}

/// Runs `body` on a Stream-wrapped server over `sock` in a thread.
fn serve<R: Send + 'static>(
    sock: UnixStream,
    body: impl FnOnce(&mut Stream<'static, UnixStream>) -> R + Send + 'static,
) -> thread::JoinHandle<R> {
    thread::spawn(move || {
        let conn = Connection::server(server_config(), tls::now()).unwrap();
        let mut s = Stream::new(conn, sock);
        body(&mut s)
    })
}

#[test]
fn handshake_exchange_and_clean_close_over_a_socket() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = serve(b, |s| {
        s.handshake().unwrap();
        let mut line = [0u8; 5];
        s.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"hello");
        s.write_all(b"HELLO").unwrap();
        // The client closes: reading ends with Ok(0), then we close too.
        let mut rest = Vec::new();
        assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
        assert_eq!(s.shutdown().unwrap(), Shutdown::Complete);
        s.connection().negotiated().copied()
    });
    let mut c = client(client_config(), a);
    c.handshake().unwrap();
    c.write_all(b"hello").unwrap();
    let mut got = [0u8; 5];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"HELLO");
    assert_eq!(c.shutdown().unwrap(), Shutdown::Sent);
    assert_eq!(c.read(&mut got).unwrap(), 0, "the server's close_notify");
    assert!(c.connection().peer_closed());
    let ours = *c.connection().negotiated().unwrap();
    let theirs = server.join().unwrap().unwrap();
    assert_eq!((ours.suite, ours.group), (theirs.suite, theirs.group));
}

#[test]
fn read_and_write_drive_the_handshake_and_a_megabyte_crosses_with_key_updates() {
    const LEN: usize = 1 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let (a, b) = UnixStream::pair().unwrap();
    // The server echoes everything, asking for a KeyUpdate halfway.
    let server = serve(b, |s| {
        let mut buf = vec![0u8; 10_000];
        let mut total = 0;
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
            if total >= LEN / 2 && total - n < LEN / 2 {
                s.connection_mut().key_update(true);
            }
            s.write_all(&buf[..n]).unwrap();
        }
        s.shutdown().unwrap();
        total
    });
    let mut c = client(client_config(), a);
    // Reader and writer on one thread: write in chunks, read what comes
    // back between chunks so neither socket buffer fills up.
    let mut got = vec![0u8; LEN];
    let mut read = 0;
    for chunk in data.chunks(64 << 10) {
        c.write_all(chunk).unwrap();
        let target = read + chunk.len();
        while read < target {
            read += c.read(&mut got[read..target]).unwrap();
        }
        if read == LEN / 2 {
            c.connection_mut().key_update(false);
            c.flush().unwrap();
        }
    }
    assert!(got == expected, "echoed bytes differ");
    // Both directions changed keys halfway, so neither sequence number
    // counts every record: the client sent 64 records of 16 KiB, the
    // server at least 105 (it echoes at most 10,000 bytes per record).
    let (send, recv) = c.connection().sequence_numbers();
    assert!(send < 64 && recv < 105, "no KeyUpdate: {send}, {recv}");
    c.shutdown().unwrap();
    assert_eq!(c.read(&mut [0u8; 1]).unwrap(), 0);
    assert_eq!(server.join().unwrap(), LEN);
}

#[test]
fn end_of_stream_without_close_notify_is_unexpected_eof() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = serve(b, |s| {
        s.handshake().unwrap();
        s.write_all(b"partial").unwrap();
        // Dropped without shutdown: the socket closes, no close_notify.
    });
    let mut c = client(client_config(), a);
    let mut got = [0u8; 7];
    c.read_exact(&mut got).unwrap();
    server.join().unwrap();
    let e = c.read(&mut got).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(tls_error(&e), Some(Error::Truncated));
}

#[test]
fn a_refused_certificate_is_an_error_carrying_its_alert_to_both_sides() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = serve(b, |s| s.handshake().unwrap_err());
    // A client that trusts another CA.
    let verifier = leak(WebPkiServerVerifier::new(tls::anchors(
        creds::UNTRUSTED_CA_CERT,
    )));
    let config = leak(ClientConfig::new(verifier, tls::rng()));
    let mut c = client(config, a);
    let e = c.handshake().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Other);
    assert_eq!(
        tls_error(&e),
        Some(Error::Certificate(CertificateError::UnknownIssuer))
    );
    // The alert reached the server before the client gave up.
    let se = server.join().unwrap();
    assert_eq!(
        tls_error(&se),
        Some(Error::AlertReceived(AlertDescription::UNKNOWN_CA))
    );
    // Sticky: the stream keeps failing the same way.
    let again = c.write(b"x").unwrap_err();
    assert_eq!(
        tls_error(&again),
        Some(Error::Certificate(CertificateError::UnknownIssuer))
    );
}

/// `RecvBuf::read_from` and `SendBuf::write_to`: one transport call each,
/// end of stream recorded, nothing committed or consumed on an error.
#[test]
fn buffers_pump_a_transport_one_call_at_a_time() {
    use std::io::{self, Cursor, Read, Write};
    use tlspair::{Received, RecvBuf, SendBuf};

    struct Refusing(io::ErrorKind);
    impl Read for Refusing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
    }
    impl Write for Refusing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    /// Takes at most 3 bytes per write; none at all once `full`.
    struct Slow(Vec<u8>, bool);
    impl Write for Slow {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let n = if self.1 { 0 } else { b.len().min(3) };
            self.0.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    let mut recv = RecvBuf::new(vec![0u8; 8]);
    let mut src = Cursor::new(b"0123456789".to_vec());
    assert_eq!(recv.read_from(&mut src).unwrap(), Received::Data(8));
    assert_eq!(
        recv.read_from(&mut src).unwrap(),
        Received::Full,
        "no room: no read"
    );
    assert!(!recv.is_eof());
    let e = recv.read_from(&mut Refusing(io::ErrorKind::WouldBlock));
    assert_eq!(recv.len(), 8);
    assert!(e.is_ok(), "a full view does not even call the transport");

    let mut recv = RecvBuf::new(vec![0u8; 8]);
    let e = recv.read_from(&mut Refusing(io::ErrorKind::WouldBlock));
    assert_eq!(e.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!((recv.len(), recv.is_eof()), (0, false));
    let mut src = Cursor::new(b"ab".to_vec());
    assert_eq!(recv.read_from(&mut src).unwrap(), Received::Data(2));
    assert_eq!(recv.read_from(&mut src).unwrap(), Received::Eof);
    assert_eq!(
        recv.read_from(&mut src).unwrap(),
        Received::Eof,
        "and it stays so"
    );
    assert!(
        recv.is_eof(),
        "a read of 0 into spare room is end of stream"
    );
    assert_eq!(recv.len(), 2);

    let mut send = SendBuf::new(vec![0u8; 64]);
    let mut slow = Slow(Vec::new(), false);
    assert_eq!(send.write_to(&mut slow).unwrap(), 0, "nothing pending");
    // Fill the outgoing view through a real record.
    let mut c = tlspair::Connection::from_traffic_secrets(
        &tlspair::TLS13_AES_128_GCM_SHA256,
        &[1; 32],
        &[2; 32],
        tlspair::RecordConfig::default(),
    )
    .unwrap();
    let mut bufs = tlspair::Buffers::new(vec![0u8; 64], vec![0u8; 64]);
    assert_eq!(c.write(&mut bufs, b"hi").unwrap(), tlspair::Status::Done(2));
    let record = bufs.send.pending().to_vec();
    assert_eq!(bufs.send.write_to(&mut slow).unwrap(), 3);
    assert_eq!(bufs.send.len(), record.len() - 3);
    let e = bufs
        .send
        .write_to(&mut Refusing(io::ErrorKind::Interrupted));
    assert_eq!(e.unwrap_err().kind(), io::ErrorKind::Interrupted);
    assert_eq!(
        bufs.send.len(),
        record.len() - 3,
        "nothing consumed on error"
    );
    slow.1 = true;
    let e = bufs.send.write_to(&mut slow);
    assert_eq!(e.unwrap_err().kind(), io::ErrorKind::WriteZero);
    slow.1 = false;
    while !bufs.send.is_empty() {
        bufs.send.write_to(&mut slow).unwrap();
    }
    assert_eq!(slow.0, record);
    drop(send);
}

/// TLS 1.3 post-handshake authentication through `Stream` on both sides:
/// the server asks between two lines; the client's blocking `read`
/// answers inside the call (its flight written, drained, the data read),
/// and the server's next `read` verifies the answer.
#[test]
fn post_handshake_authentication_inside_read_and_write() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = thread::spawn(move || {
        let mut sc = tls::mtls_server_config();
        sc.defer_client_auth = true;
        let conn = Connection::server(leak(sc), tls::now()).unwrap();
        let mut s = Stream::new(conn, b);
        s.handshake().unwrap();
        assert_eq!(s.connection().negotiated().unwrap().peer_cert_sha256, None);
        s.connection_mut().request_client_auth(tls::now()).unwrap();
        // The request goes out ahead of the line.
        s.write_all(b"who?").unwrap();
        let mut line = [0u8; 3];
        s.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"me.");
        assert_eq!(s.connection().client_auth_pending(), 0);
        s.connection().negotiated().unwrap().peer_cert_sha256
    });
    let mut cc = tls::client_config();
    cc.client_auth = Some(tls::certified(&creds::CLIENT_ECDSA_P256));
    cc.post_handshake_auth = 1;
    let mut c = client(leak(cc), a);
    let mut got = [0u8; 4];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"who?");
    c.write_all(b"me.").unwrap();
    let sha = server.join().unwrap();
    let expected = ring::digest::digest(&ring::digest::SHA256, creds::CLIENT_ECDSA_P256.cert);
    assert_eq!(sha.as_ref().map(|d| &d[..]), Some(expected.as_ref()));
}
