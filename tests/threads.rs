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

mod shared {
    use super::*;
    use std::sync::{Arc, Weak};
    use tlspair::Shared;

    #[test]
    fn arc_configurations_make_static_connections_that_cross_threads() {
        let server: Arc<ServerConfig<'static>> = Arc::new(p256_server_config());
        let client: Arc<ClientConfig<'static>> = Arc::new(client_config());
        // Connection<'static> from an Arc: no leak, no borrow.
        let c: Connection<'static> =
            Connection::client(client.clone(), Some("localhost"), common::tls::now()).unwrap();
        let s: Connection<'static> =
            Connection::server(Shared::from(server.clone()), common::tls::now()).unwrap();
        let bufs = || Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);
        let (mut c, mut s) = (
            common::Side {
                conn: c,
                bufs: bufs(),
            },
            common::Side {
                conn: s,
                bufs: bufs(),
            },
        );
        let moved = std::thread::spawn(move || {
            complete(&mut c, &mut s).unwrap();
            (c, s)
        });
        let (mut c, mut s) = moved.join().unwrap();
        assert_eq!(
            c.conn.write(&mut c.bufs, b"shared").unwrap(),
            Status::Done(6)
        );
        common::transfer_all(&mut c, &mut s);
        let mut got = [0u8; 6];
        assert_eq!(s.conn.read(&mut s.bufs, &mut got).unwrap(), Status::Done(6));
        assert_eq!(Arc::strong_count(&server), 2, "ours and the connection's");
        drop(s);
        assert_eq!(Arc::strong_count(&server), 1, "the connection let go");
    }

    /// A configuration that owns everything it rotates: its chain, its
    /// key, its names and its ticket keys.
    fn owned_config(
        names: Vec<String>,
    ) -> (ServerConfig<'static>, Weak<dyn tlspair::sign::Signer>) {
        use tlspair::handshake::ticket::TicketKey;
        use tlspair::handshake::CertifiedKey;
        use tlspair::sign::SigningKey;
        use tlspair::test_credentials as creds;
        let key: Arc<dyn tlspair::sign::Signer> = Arc::new(
            SigningKey::from_pkcs8(creds::SERVER_ECDSA_P256.key, common::tls::rng()).unwrap(),
        );
        let weak = Arc::downgrade(&key);
        let cert = CertifiedKey::owned(vec![creds::SERVER_ECDSA_P256.cert.to_vec()], key)
            .for_owned_names(names);
        let mut sc = ServerConfig::new(vec![cert], common::tls::rng());
        sc.ticket_keys = vec![TicketKey::new(1, &[3; 32]).unwrap()].into();
        (sc, weak)
    }

    #[test]
    fn rotating_owned_certificates_frees_the_old_ones_with_their_last_connection() {
        let (first, first_key) = owned_config(vec!["localhost".to_owned()]);
        let first = Arc::new(first);
        let (mut c, mut s) = pair(client_config(), p256_server_config());
        s.conn = Connection::server(first.clone(), common::tls::now()).unwrap();
        complete(&mut c, &mut s).unwrap();
        assert_eq!(
            s.conn.negotiated().unwrap().server_name.unwrap().as_str(),
            "localhost"
        );
        // Rotation: the next configuration, and the old one dropped by
        // the server; its connection still works and still holds it.
        let (second, second_key) =
            owned_config(vec!["www.example.com".to_owned(), "localhost".to_owned()]);
        let second = Arc::new(second);
        drop(first);
        assert!(first_key.upgrade().is_some(), "held by its connection");
        assert_eq!(common::send_and_receive(&mut c, &mut s, b"old"), b"old");
        let (mut c2, mut s2) = pair(client_config(), p256_server_config());
        s2.conn = Connection::server(second.clone(), common::tls::now()).unwrap();
        complete(&mut c2, &mut s2).unwrap();
        drop((c, s));
        assert!(
            first_key.upgrade().is_none(),
            "freed with its last connection"
        );
        assert!(second_key.upgrade().is_some());
        drop((c2, s2, second));
        assert!(second_key.upgrade().is_none());
    }

    #[test]
    fn a_rotated_configuration_lives_exactly_as_long_as_its_last_connection() {
        let first = Arc::new(p256_server_config());
        let weak: Weak<ServerConfig<'static>> = Arc::downgrade(&first);
        let mut old = Vec::new();
        for _ in 0..3 {
            let (mut c, mut s) = pair(client_config(), p256_server_config());
            s.conn = Connection::server(first.clone(), common::tls::now()).unwrap();
            complete(&mut c, &mut s).unwrap();
            old.push((c, s));
        }
        // Rotation: new connections take the new configuration, and the
        // server lets go of the old one.
        let second = Arc::new(p256_server_config());
        drop(first);
        let (mut c, mut s) = pair(client_config(), p256_server_config());
        s.conn = Connection::server(second.clone(), common::tls::now()).unwrap();
        complete(&mut c, &mut s).unwrap();
        // The old connections still work on the old configuration.
        for (c, s) in &mut old {
            assert_eq!(common::send_and_receive(c, s, b"still here"), b"still here");
        }
        assert!(weak.upgrade().is_some(), "kept by its connections");
        old.pop();
        old.pop();
        assert!(weak.upgrade().is_some(), "one connection left");
        old.pop();
        assert!(weak.upgrade().is_none(), "freed with its last connection");
    }
}
