//! Ownership and threads: configurations are `Send + Sync`, connections
//! `Send`, checked at compile time; and a connection really moves to
//! another thread in the middle of its handshake and carries on there.

mod common;

use common::tls::{client_config, complete, p256_server_config, pair};
use tlspair::handshake::{ClientConfig, ServerConfig};
use tlspair::{Buffers, Connection, Status};

const fn send_sync<T: Send + Sync>() {}
const fn send<T: Send>() {}

// Compile-time: this file does not build if any of them is not.
const _: () = {
    send_sync::<ClientConfig<'static>>();
    send_sync::<ServerConfig<'static>>();
    send_sync::<tlspair::handshake::CertifiedKey<'static>>();
    send_sync::<tlspair::sign::SigningKey>();
    send_sync::<tlspair::handshake::ticket::TicketKey>();
    send::<Connection<'static>>();
    send::<Buffers<Vec<u8>, Vec<u8>>>();
    send::<tlspair::Error>();
};

#[test]
fn a_connection_moves_to_another_thread_mid_handshake() {
    let (mut c, mut s) = pair(client_config(), p256_server_config());
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    common::transfer_all(&mut c, &mut s);
    // The server answers on a worker thread, and comes back.
    let mut s = std::thread::spawn(move || {
        let _ = s.conn.handshake(&mut s.bufs).unwrap();
        s
    })
    .join()
    .unwrap();
    common::transfer_all(&mut s, &mut c);
    // The client finishes on another.
    let c = std::thread::spawn(move || {
        complete(&mut c, &mut s).unwrap();
        assert_eq!(
            c.conn.write(&mut c.bufs, b"moved").unwrap(),
            Status::Done(5)
        );
        common::transfer_all(&mut c, &mut s);
        let mut got = [0u8; 5];
        assert_eq!(s.conn.read(&mut s.bufs, &mut got).unwrap(), Status::Done(5));
        assert_eq!(&got, b"moved");
        c
    })
    .join()
    .unwrap();
    assert!(c.conn.is_established());
}
