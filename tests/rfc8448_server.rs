//! RFC 8448 §3 in the server role: our server, fed the trace's ClientHello
//! with the trace's server random and X25519 key injected, answers with the
//! trace's ServerHello byte for byte and derives the trace's handshake
//! traffic secrets (its encrypted flight opens under the published server
//! handshake secret).
//!
//! Named differences, where our encoding choices differ from the trace's
//! server: EncryptedExtensions omits supported_groups (RFC 8446 §4.2.7
//! allows it; we never send it) and so differs in length; Certificate and
//! CertificateVerify carry our ECDSA P-256 test certificate instead of the
//! trace's RSA one (the trace's RSA-PSS signature is randomized and its key
//! is not published as PKCS#8); the Finished and every secret after it
//! follow from that different transcript. Each is still checked: the
//! Finished verifies under the trace's server handshake secret over our
//! transcript.

// ring's fixed-output RNG is the only way to inject a known private key.
#![allow(deprecated)]

mod common;

use common::tls::Lines;

use core::cell::UnsafeCell;

use common::tls::p256_server_config;
use ring::test::rand::FixedSliceSequenceRandom;
use tlspair::handshake::messages::split_message;
use tlspair::key_schedule::{Secret, Transcript};
use tlspair::record::protect::RecordKey;
use tlspair::record::{Header, HEADER_LEN};
use tlspair::wire::HandshakeType;
use tlspair::{Buffers, Connection, ContentType, Status, TLS13_AES_128_GCM_SHA256 as SUITE};

fn v(name: &str) -> Vec<u8> {
    common::vectors("rfc8448_simple_1rtt.txt")
        .remove(name)
        .unwrap_or_else(|| panic!("missing vector {name}"))
}

#[test]
fn server_answers_the_trace_client_hello() {
    let server_hello = v("server_hello");
    let random = server_hello[6..38].to_vec();
    let private = v("server_x25519_private");
    // The third output feeds ring's ECDSA nonce derivation (which also
    // mixes in the key and the message).
    let nonce_seed = [0x5a; 32];
    let outputs: [&[u8]; 3] = [&random, &private, &nonce_seed];
    let rng: &'static FixedSliceSequenceRandom<'static> =
        Box::leak(Box::new(FixedSliceSequenceRandom {
            bytes: Box::leak(Box::new(outputs.map(|o| &*o.to_vec().leak()))),
            current: UnsafeCell::new(0),
        }));
    let log: &'static Lines = Box::leak(Box::default());
    let mut config = p256_server_config();
    config.rng = common::tls::single_threaded_rng(rng);
    config.key_log = Some(log);
    let config: &'static _ = Box::leak(Box::new(config));
    let mut server = Connection::server(config, common::tls::now()).unwrap();
    let mut bufs = Buffers::new(vec![0u8; 20_000], vec![0u8; 20_000]);

    let client_hello = v("client_hello");
    let mut record = vec![22, 3, 1, 0, client_hello.len() as u8];
    record.extend(&client_hello);
    bufs.recv.fill(&record);
    assert_eq!(server.handshake(&mut bufs).unwrap(), Status::WantRead);

    // 1. The ServerHello record, byte for byte (the trace's session id is
    //    empty, so no change_cipher_spec follows it).
    let out = bufs.send.pending().to_vec();
    let mut sh_record = vec![22, 3, 3, 0, server_hello.len() as u8];
    sh_record.extend(&server_hello);
    assert_eq!(&out[..sh_record.len()], &sh_record[..]);

    // 2. The protected flight opens under the trace's server handshake
    //    traffic secret: the whole key schedule up to there matches.
    let mut rest = out[sh_record.len()..].to_vec();
    let mut key = RecordKey::new(&SUITE, &v("server_handshake_traffic_secret")).unwrap();
    let mut flight = Vec::new();
    while let Some(h) = Header::parse(&rest) {
        let total = HEADER_LEN + h.len;
        let mut rec: Vec<u8> = rest.drain(..total).collect();
        let (ty, len) = key
            .open(&mut rec)
            .expect("record opens under the trace's s_hs");
        assert_eq!(ty, ContentType::HANDSHAKE);
        flight.extend_from_slice(&rec[HEADER_LEN..HEADER_LEN + len]);
    }
    assert!(rest.is_empty());

    // 3. The flight's messages, and the named differences.
    let mut messages = Vec::new();
    let mut f = &flight[..];
    while let Some((ty, _, total)) = split_message(f) {
        messages.push((ty, f[..total].to_vec()));
        f = &f[total..];
    }
    let types: Vec<_> = messages.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        types,
        [
            HandshakeType::ENCRYPTED_EXTENSIONS,
            HandshakeType::CERTIFICATE,
            HandshakeType::CERTIFICATE_VERIFY,
            HandshakeType::FINISHED
        ]
    );
    let trace_ee = &v("server_encrypted_flight_payload")[..40];
    // Ours: server_name ack, then record_size_limit 0x4001; the trace's
    // also lists supported_groups first.
    assert_eq!(trace_ee[..4], [8, 0, 0, 0x24]);
    assert_eq!(
        messages[0].1,
        [8, 0, 0, 0x0c, 0, 0x0a, 0, 0, 0, 0, 0, 0x1c, 0, 2, 0x40, 1]
    );
    assert!(trace_ee
        .windows(8)
        .any(|w| w == [0, 0x1c, 0, 2, 0x40, 1, 0, 0]));

    // 4. The key log names the trace's handshake secrets, under the
    //    trace's client random.
    let random: String = client_hello[6..38]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let hex = |v: Vec<u8>| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let lines = log.0.lock().unwrap().clone();
    assert_eq!(
        lines[0],
        format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {}\n",
            hex(v("client_handshake_traffic_secret"))
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {}\n",
            hex(v("server_handshake_traffic_secret"))
        )
    );
    assert_eq!(lines.len(), 5);

    // 5. Our Finished verifies under the trace's s_hs over our transcript.
    let mut transcript = Transcript::new(&SUITE);
    transcript.add(&client_hello);
    transcript.add(&server_hello);
    for (_, m) in &messages[..3] {
        transcript.add(m);
    }
    let s_hs = Secret::new(&v("server_handshake_traffic_secret")).unwrap();
    assert!(s_hs
        .verify_finished(&SUITE, &transcript.current(), &messages[3].1[4..])
        .unwrap());
}
