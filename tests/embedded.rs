//! The embedded-io adapters over an in-memory transport, with views
//! that are plain `&mut [u8]` (as a firmware would keep in a static):
//! blocking (client and server on two threads) and async (both futures
//! polled in turn by a minimal executor). Every byte is checked.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use common::tls::{self, client_config, p256_server_config};
use embedded_io::{Read, Write};
use tlspair::embedded::{AsyncEmbeddedStream, EmbeddedStream};
use tlspair::record::MAX_RECORD_LEN;
use tlspair::{Buffers, Connection};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i * 31 + usize::from(seed)) as u8)
        .collect()
}

/// One direction of an in-memory byte pipe; the writer's end closes it.
#[derive(Default)]
struct Pipe {
    bytes: Mutex<(VecDeque<u8>, bool)>,
    ready: Condvar,
}

/// One end of a duplex in-memory transport.
struct End {
    rx: Arc<Pipe>,
    tx: Arc<Pipe>,
    /// Writes to refuse (a transient transport error) before taking any.
    fail_writes: usize,
}

fn duplex() -> (End, End) {
    let (a, b) = (Arc::new(Pipe::default()), Arc::new(Pipe::default()));
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
            fail_writes: 0,
        },
        End {
            rx: b,
            tx: a,
            fail_writes: 0,
        },
    )
}

impl Drop for End {
    fn drop(&mut self) {
        self.tx.bytes.lock().unwrap().1 = true;
        self.tx.ready.notify_all();
    }
}

impl embedded_io::ErrorType for End {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let mut g = self.rx.bytes.lock().unwrap();
        while g.0.is_empty() && !g.1 {
            g = self.rx.ready.wait(g).unwrap();
        }
        // At most 1,000 bytes a read: records arrive in pieces.
        let n = buf.len().min(g.0.len()).min(1000);
        for (d, s) in buf.iter_mut().zip(g.0.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

impl embedded_io::Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if self.fail_writes > 0 {
            self.fail_writes -= 1;
            return Err(embedded_io::ErrorKind::TimedOut);
        }
        let mut g = self.tx.bytes.lock().unwrap();
        // At most 3,000 bytes a write: the transport takes part.
        let n = buf.len().min(3000);
        g.0.extend(&buf[..n]);
        self.tx.ready.notify_all();
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Views of one record each, borrowed, as a firmware keeps them.
fn views() -> Buffers<&'static mut [u8], &'static mut [u8]> {
    Buffers::new(
        Box::leak(vec![0u8; 2 * MAX_RECORD_LEN].into_boxed_slice()),
        Box::leak(vec![0u8; MAX_RECORD_LEN].into_boxed_slice()),
    )
}

#[test]
fn blocking_adapter_both_ways_over_memory() {
    let (a, b) = duplex();
    let sc = leak(p256_server_config());
    let server = std::thread::spawn(move || {
        let conn = Connection::server(sc, tls::now()).unwrap();
        let mut s = EmbeddedStream::new(conn, b, views());
        // Echo until the client's close_notify, then close.
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).unwrap();
        }
        s.close().unwrap();
    });
    let cc = leak(client_config());
    let conn = Connection::client(cc, Some("localhost"), tls::now()).unwrap();
    let mut c = EmbeddedStream::new(conn, a, views());
    c.handshake().unwrap();
    assert!(c.connection().is_established());
    let up = pattern(200_000, 3);
    let mut got = Vec::new();
    let mut buf = [0u8; 5000];
    let mut written = 0;
    for chunk in up.chunks(20_000) {
        c.write_all(chunk).unwrap();
        written += chunk.len();
        // The echo of everything written so far.
        while got.len() < written {
            let n = c.read(&mut buf).unwrap();
            assert!(n > 0, "the echo ended early");
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(got, up);
    c.close().unwrap();
    assert_eq!(c.read(&mut buf).unwrap(), 0, "the server's close_notify");
    server.join().unwrap();
}

#[test]
fn a_transport_error_after_sealing_is_reported_next_and_nothing_is_sealed_twice() {
    // Failed before: the error came back from the write that had sealed
    // the bytes, and its retry sealed them again.
    let (a, b) = duplex();
    let sc = leak(p256_server_config());
    let server = std::thread::spawn(move || {
        let conn = Connection::server(sc, tls::now()).unwrap();
        let mut s = EmbeddedStream::new(conn, b, views());
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    let cc = leak(client_config());
    let conn = Connection::client(cc, Some("localhost"), tls::now()).unwrap();
    let mut c = EmbeddedStream::new(conn, a, views());
    c.handshake().unwrap();
    // The transport refuses the next write: the record is sealed, so the
    // write reports its bytes, and the next call the error.
    let (conn, mut end, bufs) = c.into_parts();
    end.fail_writes = 1;
    let mut c = EmbeddedStream::new(conn, end, bufs);
    assert_eq!(c.write(b"exactly once").unwrap(), 12);
    let e = c.write(b"not yet").unwrap_err();
    assert!(
        matches!(e, tlspair::embedded::EmbeddedError::Transport(_)),
        "{e:?}"
    );
    // The caller goes on: the pending record leaves, then the rest.
    c.flush().unwrap();
    c.write_all(b", and this").unwrap();
    c.close().unwrap();
    drop(c);
    assert_eq!(server.join().unwrap(), b"exactly once, and this");
}

mod asynchronous {
    use super::*;
    use core::future::Future;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// One direction, single-threaded: a read of nothing is Pending.
    type Half = Rc<RefCell<(VecDeque<u8>, bool)>>;

    struct AsyncEnd {
        rx: Half,
        tx: Half,
    }

    impl Drop for AsyncEnd {
        fn drop(&mut self) {
            self.tx.borrow_mut().1 = true;
        }
    }

    impl embedded_io_async::ErrorType for AsyncEnd {
        type Error = embedded_io::ErrorKind;
    }

    impl embedded_io_async::Read for AsyncEnd {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            core::future::poll_fn(|_| {
                let mut g = self.rx.borrow_mut();
                if g.0.is_empty() && !g.1 {
                    // The executor polls everyone in turn: no waker needed.
                    return Poll::Pending;
                }
                let n = buf.len().min(g.0.len()).min(700);
                for (d, s) in buf.iter_mut().zip(g.0.drain(..n)) {
                    *d = s;
                }
                Poll::Ready(Ok(n))
            })
            .await
        }
    }

    impl embedded_io_async::Write for AsyncEnd {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            let n = buf.len().min(2500);
            self.tx.borrow_mut().0.extend(&buf[..n]);
            Ok(n)
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    /// Polls both futures in turn until both are done.
    fn join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
        let (mut a, mut b) = (pin!(a), pin!(b));
        let mut cx = Context::from_waker(Waker::noop());
        let (mut a_done, mut b_done) = (false, false);
        for _ in 0..10_000_000 {
            a_done = a_done || a.as_mut().poll(&mut cx).is_ready();
            b_done = b_done || b.as_mut().poll(&mut cx).is_ready();
            if a_done && b_done {
                return;
            }
        }
        panic!("the two sides did not finish");
    }

    #[test]
    fn async_adapter_both_ways_over_memory() {
        use embedded_io_async::{Read as _, Write as _};
        let (x, y): (Half, Half) = Default::default();
        let client_end = AsyncEnd {
            rx: x.clone(),
            tx: y.clone(),
        };
        let server_end = AsyncEnd { rx: y, tx: x };
        let sc = leak(p256_server_config());
        let cc = leak(client_config());
        let up = pattern(150_000, 9);
        let got = RefCell::new(Vec::new());
        let server = async {
            let conn = Connection::server(sc, tls::now()).unwrap();
            let mut s = AsyncEmbeddedStream::new(conn, server_end, views());
            let mut buf = [0u8; 3000];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
            s.close().await.unwrap();
        };
        let client = async {
            let conn = Connection::client(cc, Some("localhost"), tls::now()).unwrap();
            let mut c = AsyncEmbeddedStream::new(conn, client_end, views());
            c.handshake().await.unwrap();
            c.write_all(&up).await.unwrap();
            c.close().await.unwrap();
            let mut buf = [0u8; 4000];
            loop {
                let n = c.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.borrow_mut().extend_from_slice(&buf[..n]);
            }
        };
        join(client, server);
        assert_eq!(*got.borrow(), up);
    }
}
