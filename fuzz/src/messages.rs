//! Every wire parser on its own, one cargo-fuzz target per [`Parser`]:
//! fuzz_targets/NAME.rs runs [`Parser::run`] of the parser whose
//! [`Parser::name`] is NAME. No parser may panic, and where an encoder
//! exists the parsed value is encoded again and parsed back, and the
//! values the encoder can express must come back equal. Which
//! fields are compared, and which the encoder fixes, is said per parser
//! below (and in docs/security.md, "Fuzzing").

use tlspair::codec::{Reader, Writer};
use tlspair::handshake::messages::{
    announced_len, encode_certificate, encode_new_session_ticket, split_message, write_message,
    CertificateChain, CertificateRequest, CertificateVerify, ClientHello, ClientHelloOut,
    EncryptedExtensions, EncryptedExtensionsOut, HelloRetryRequestOut, KeyShare, NewSessionTicket,
    OfferedPsks, PskIdentity, ServerHello, ServerHelloOut, HANDSHAKE_HEADER_LEN, PSK_DHE_KE,
};
use tlspair::record::protect::RecordKey;
use tlspair::record::{deframe, Header, HEADER_LEN, MAX_PLAINTEXT, RECORD_OVERHEAD, TAG_LEN};
use tlspair::wire::{CipherSuite, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme};
use tlspair::{
    AlertDescription, Buffers, Connection, ContentType, Error, InvalidMessage, RecordConfig,
    Status, TLS13_AES_128_GCM_SHA256,
};

/// One parser target: its cargo-fuzz name is [`Parser::name`], its entry
/// point [`Parser::run`] (also a public function of this module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parser {
    /// `ClientHello::parse`, re-encoded with `ClientHelloOut`.
    ClientHello,
    /// `ServerHello::parse`, re-encoded with `ServerHelloOut` or
    /// `HelloRetryRequestOut`.
    ServerHello,
    /// `EncryptedExtensions::parse`, re-encoded with
    /// `EncryptedExtensionsOut`.
    EncryptedExtensions,
    /// `CertificateChain::parse`, re-encoded with `encode_certificate`.
    Certificate,
    /// `CertificateVerify::parse`, which must round-trip byte for byte.
    CertificateVerify,
    /// `CertificateRequest::parse` (no encoder).
    CertificateRequest,
    /// `NewSessionTicket::parse`, re-encoded with
    /// `encode_new_session_ticket`.
    NewSessionTicket,
    /// `OfferedPsks::parse`, which must round-trip byte for byte.
    OfferedPsks,
    /// `split_message` and `announced_len`, and `write_message` back.
    SplitMessage,
    /// `Header::parse` and `deframe`.
    RecordHeader,
    /// Alert bytes sealed into a record for an established connection.
    SealedAlert,
    /// Alert bytes in a plaintext record to a server awaiting its
    /// ClientHello.
    PlaintextAlert,
    /// `Reader` / `Writer` vectors with 1-, 2- and 3-byte lengths.
    Codec,
    /// TLS 1.2's ServerKeyExchange (ECDHE), which must round-trip byte
    /// for byte.
    Tls12ServerKeyExchange,
    /// TLS 1.2's ClientKeyExchange (ECDHE), byte for byte.
    Tls12ClientKeyExchange,
    /// TLS 1.2's CertificateRequest (no encoder: checked for what it
    /// promises, and its fields against the input).
    Tls12CertificateRequest,
    /// TLS 1.2's NewSessionTicket (RFC 5077), byte for byte.
    Tls12NewSessionTicket,
    /// TLS 1.2's Certificate, re-encoded with the engine's encoder: byte
    /// for byte.
    Tls12Certificate,
}

/// Every parser target.
pub const PARSERS: [Parser; 18] = [
    Parser::ClientHello,
    Parser::ServerHello,
    Parser::EncryptedExtensions,
    Parser::Certificate,
    Parser::CertificateVerify,
    Parser::CertificateRequest,
    Parser::NewSessionTicket,
    Parser::OfferedPsks,
    Parser::SplitMessage,
    Parser::RecordHeader,
    Parser::SealedAlert,
    Parser::PlaintextAlert,
    Parser::Codec,
    Parser::Tls12ServerKeyExchange,
    Parser::Tls12ClientKeyExchange,
    Parser::Tls12CertificateRequest,
    Parser::Tls12NewSessionTicket,
    Parser::Tls12Certificate,
];

impl Parser {
    /// The cargo-fuzz target (fuzz_targets/NAME.rs) and its seed
    /// directory (seeds/NAME/).
    pub fn name(self) -> &'static str {
        match self {
            Parser::ClientHello => "client_hello",
            Parser::ServerHello => "server_hello",
            Parser::EncryptedExtensions => "encrypted_extensions",
            Parser::Certificate => "certificate",
            Parser::CertificateVerify => "certificate_verify",
            Parser::CertificateRequest => "certificate_request",
            Parser::NewSessionTicket => "new_session_ticket",
            Parser::OfferedPsks => "offered_psks",
            Parser::SplitMessage => "split_message",
            Parser::RecordHeader => "record_header",
            Parser::SealedAlert => "sealed_alert",
            Parser::PlaintextAlert => "plaintext_alert",
            Parser::Codec => "codec",
            Parser::Tls12ServerKeyExchange => "tls12_server_key_exchange",
            Parser::Tls12ClientKeyExchange => "tls12_client_key_exchange",
            Parser::Tls12CertificateRequest => "tls12_certificate_request",
            Parser::Tls12NewSessionTicket => "tls12_new_session_ticket",
            Parser::Tls12Certificate => "tls12_certificate",
        }
    }

    /// Runs one input of this parser's target.
    pub fn run(self, data: &[u8]) {
        match self {
            Parser::ClientHello => client_hello(data),
            Parser::ServerHello => server_hello(data),
            Parser::EncryptedExtensions => encrypted_extensions(data),
            Parser::Certificate => certificate(data),
            Parser::CertificateVerify => certificate_verify(data),
            Parser::CertificateRequest => certificate_request(data),
            Parser::NewSessionTicket => new_session_ticket(data),
            Parser::OfferedPsks => offered_psks(data),
            Parser::SplitMessage => split_message_target(data),
            Parser::RecordHeader => record_header(data),
            Parser::SealedAlert => sealed_alert(data),
            Parser::PlaintextAlert => plaintext_alert(data),
            Parser::Codec => codec(data),
            Parser::Tls12ServerKeyExchange => tls12_server_key_exchange(data),
            Parser::Tls12ClientKeyExchange => tls12_client_key_exchange(data),
            Parser::Tls12CertificateRequest => tls12_certificate_request(data),
            Parser::Tls12NewSessionTicket => tls12_new_session_ticket(data),
            Parser::Tls12Certificate => tls12_certificate(data),
        }
    }
}

/// Encodes with `encode` into a buffer big enough for any re-encoding of
/// an input of `input_len` bytes; returns the message body (the handshake
/// header checked and cut off).
fn encode_message(
    input_len: usize,
    ty: HandshakeType,
    encode: impl FnOnce(&mut Writer<'_>) -> Result<(), tlspair::codec::Overflow>,
) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 2 * input_len + 4096];
    let mut w = Writer::new(&mut buf);
    encode(&mut w).ok()?;
    let n = w.len();
    buf.truncate(n);
    let (got_ty, len, total) = split_message(&buf).expect("encoder wrote a whole message");
    assert_eq!(got_ty, ty, "encoder wrote another message type");
    assert_eq!(total, buf.len(), "encoder wrote bytes after the message");
    buf.drain(..total - len);
    Some(buf)
}

/// ClientHello → `ClientHelloOut` → ClientHello.
///
/// Expressible when the encoder's mandatory lists can carry the values:
/// supported_groups and signature_algorithms present (the encoder always
/// writes both, and an empty list does not parse), a server_name in
/// UTF-8, and no pre_shared_key or one with a single identity and a binder
/// of at most 64 bytes. Compared: random, legacy_session_id,
/// cipher_suites, server_name, supported_groups, signature_algorithms,
/// key_share entries (absent = empty), ALPN names, record_size_limit,
/// cookie, the presence of psk_key_exchange_modes (its value is always
/// written as [psk_dhe_ke]), and the PSK identity, ticket age and binder
/// length. Fixed by the encoder, not compared: legacy_version (0x0303),
/// compression ([0]), supported_versions ([TLS 1.3]), early_data,
/// signature_algorithms_cert and unknown extensions (not written), order.
pub fn client_hello(body: &[u8]) {
    peek_agrees(body);
    let Ok(ch) = ClientHello::parse(body) else {
        return;
    };
    assert!(ch.session_id.len() <= 32);
    assert!(!ch.compression.is_empty());
    let (Some(groups), Some(schemes)) = (ch.ext.supported_groups, ch.ext.signature_algorithms)
    else {
        return;
    };
    let server_name = match ch.ext.server_name.map(core::str::from_utf8) {
        None => None,
        Some(Ok(name)) => Some(name),
        Some(Err(_)) => return,
    };
    let psk = match ch.ext.pre_shared_key {
        None => None,
        Some(raw) => {
            let offered = OfferedPsks::parse(raw);
            let Ok(offered) = offered else {
                return;
            };
            let ids: Vec<_> = offered.identities().collect();
            let binders: Vec<_> = offered.binders().collect();
            match (&ids[..], &binders[..]) {
                ([(identity, obfuscated_age)], [binder]) if binder.len() <= 64 => {
                    Some(PskIdentity {
                        identity,
                        obfuscated_age: *obfuscated_age,
                        binder_len: binder.len(),
                    })
                }
                _ => return,
            }
        }
    };
    let suites: Vec<CipherSuite> = ch.cipher_suites.iter().map(CipherSuite).collect();
    let group_list: Vec<NamedGroup> = groups.iter().map(NamedGroup).collect();
    let scheme_list: Vec<SignatureScheme> = schemes.iter().map(SignatureScheme).collect();
    let shares: Vec<KeyShare<'_>> = ch.ext.key_shares.iter().flat_map(|k| k.iter()).collect();
    let alpn: Vec<&[u8]> = ch.ext.alpn.iter().flat_map(|a| a.iter()).collect();
    let out = ClientHelloOut {
        random: ch.random,
        session_id: ch.session_id,
        suites: &suites,
        server_name,
        groups: &group_list,
        key_shares: &shares,
        schemes: &scheme_list,
        alpn: &alpn,
        record_size_limit: ch.ext.record_size_limit,
        cookie: ch.ext.cookie,
        want_tickets: ch.ext.psk_modes.is_some(),
        psk,
        grease: None,
        grease_share: false,
        tls13: true,
        // The TLS 1.2 extensions, when the parsed hello offered the
        // extended master secret.
        tls12: ch.ext.extended_master_secret,
        session_ticket: ch.ext.session_ticket,
        // Written only with a PSK, as a client offers it.
        early_data: ch.ext.early_data,
        post_handshake_auth: ch.ext.post_handshake_auth,
        renegotiation_info: ch.ext.renegotiation_info.unwrap_or(&[]),
    };
    let Some(again) = encode_message(body.len(), HandshakeType::CLIENT_HELLO, |w| out.encode(w))
    else {
        // Only an extension block grown past 2^16 - 1 does not encode.
        assert!(body.len() > 65_535 - 256, "ClientHelloOut overflowed");
        return;
    };
    let back = ClientHello::parse(&again).expect("re-encoded ClientHello parses");
    assert_eq!(back.legacy_version, ProtocolVersion::TLS1_2);
    assert_eq!(back.random, ch.random, "random");
    assert_eq!(back.session_id, ch.session_id, "session id");
    assert_eq!(
        back.cipher_suites.bytes(),
        ch.cipher_suites.bytes(),
        "suites"
    );
    assert_eq!(back.ext.server_name, ch.ext.server_name, "server_name");
    assert_eq!(
        back.ext.extended_master_secret, ch.ext.extended_master_secret,
        "extended_master_secret"
    );
    if back.ext.extended_master_secret {
        assert_eq!(
            back.ext.renegotiation_info,
            Some(&[][..]),
            "renegotiation_info"
        );
        assert_eq!(
            back.ext.ec_point_formats,
            Some(&[0u8][..]),
            "ec_point_formats"
        );
    }
    assert_eq!(
        back.ext.supported_groups.map(|l| l.bytes()),
        Some(groups.bytes()),
        "groups"
    );
    assert_eq!(
        back.ext.signature_algorithms.map(|l| l.bytes()),
        Some(schemes.bytes()),
        "signature_algorithms"
    );
    let back_shares: Vec<(NamedGroup, &[u8])> = back
        .ext
        .key_shares
        .iter()
        .flat_map(|k| k.iter())
        .map(|k| (k.group, k.public))
        .collect();
    let shares: Vec<(NamedGroup, &[u8])> = shares.iter().map(|k| (k.group, k.public)).collect();
    assert_eq!(back_shares, shares, "key shares");
    let back_alpn: Vec<&[u8]> = back.ext.alpn.iter().flat_map(|a| a.iter()).collect();
    assert_eq!(back_alpn, alpn, "alpn");
    assert_eq!(
        back.ext.record_size_limit, ch.ext.record_size_limit,
        "record_size_limit"
    );
    assert_eq!(back.ext.cookie, ch.ext.cookie, "cookie");
    assert_eq!(
        back.ext.early_data,
        ch.ext.early_data && psk.is_some(),
        "early_data"
    );
    // Any psk_key_exchange_modes, or a PSK, comes back as [psk_dhe_ke].
    let modes_sent = ch.ext.psk_modes.is_some() || psk.is_some();
    assert_eq!(
        back.ext.psk_modes,
        modes_sent.then_some(&[PSK_DHE_KE][..]),
        "psk_key_exchange_modes"
    );
    assert_eq!(
        back.ext.supported_versions.map(|l| l.bytes()),
        Some(&[3, 4][..]),
        "supported_versions"
    );
    match psk {
        None => assert!(back.ext.pre_shared_key.is_none(), "psk appeared"),
        Some(psk) => {
            let raw = back.ext.pre_shared_key.expect("psk kept");
            let offered = OfferedPsks::parse(raw).expect("re-encoded psk parses");
            let ids: Vec<_> = offered.identities().collect();
            assert_eq!(ids, [(psk.identity, psk.obfuscated_age)], "psk identity");
            let binders: Vec<_> = offered.binders().collect();
            assert_eq!(binders.len(), 1);
            assert_eq!(binders[0].len(), psk.binder_len, "binder length");
            assert_eq!(offered.binders_len, psk.binders_len(), "binders_len");
            // The binders are the message's last bytes, for patching.
            assert!(again.ends_with(binders[0]));
        }
    }
}

/// ServerHello → `ServerHelloOut` (or `HelloRetryRequestOut`) →
/// ServerHello.
///
/// Compared for a ServerHello: random, legacy_session_id_echo,
/// cipher_suite, key_share (group and public value), selected PSK; the
/// encoder fixes legacy_version, compression (0) and supported_versions
/// (TLS 1.3) and writes nothing else. For a HelloRetryRequest
/// (expressible when it names a group): legacy_session_id_echo,
/// cipher_suite and the selected group; its cookie cannot be expressed.
pub fn server_hello(body: &[u8]) {
    let Ok(sh) = ServerHello::parse(body) else {
        return;
    };
    assert!(sh.session_id.len() <= 32);
    assert!(sh.key_share.is_none() || sh.hrr_group.is_none());
    let again = if sh.is_retry() {
        assert!(sh.key_share.is_none() && sh.selected_psk.is_none());
        let Some(group) = sh.hrr_group else {
            return;
        };
        let out = HelloRetryRequestOut {
            session_id: sh.session_id,
            suite: sh.suite,
            group,
        };
        encode_message(body.len(), HandshakeType::SERVER_HELLO, |w| out.encode(w))
    } else {
        assert!(sh.hrr_group.is_none() && sh.cookie.is_none());
        let out = ServerHelloOut {
            random: sh.random,
            session_id: sh.session_id,
            suite: sh.suite,
            key_share: sh.key_share,
            selected_psk: sh.selected_psk,
        };
        encode_message(body.len(), HandshakeType::SERVER_HELLO, |w| out.encode(w))
    };
    let again = again.expect("ServerHello re-encodes");
    let back = ServerHello::parse(&again).expect("re-encoded ServerHello parses");
    assert_eq!(back.is_retry(), sh.is_retry(), "retry");
    assert_eq!(back.random, sh.random, "random");
    assert_eq!(back.session_id, sh.session_id, "session id");
    assert_eq!(back.suite, sh.suite, "suite");
    assert_eq!(back.legacy_version, ProtocolVersion::TLS1_2);
    assert_eq!(back.compression, 0);
    assert_eq!(back.selected_version, Some(ProtocolVersion::TLS1_3));
    assert_eq!(back.unexpected, None, "encoder wrote a stray extension");
    assert_eq!(
        back.key_share.map(|k| (k.group, k.public)),
        sh.key_share.map(|k| (k.group, k.public)),
        "key share"
    );
    assert_eq!(back.hrr_group, sh.hrr_group, "hrr group");
    assert_eq!(back.selected_psk, sh.selected_psk, "selected psk");
    assert_eq!(back.cookie, None);
}

/// EncryptedExtensions → `EncryptedExtensionsOut` → EncryptedExtensions.
/// Compared: ALPN, record_size_limit, server_name acknowledgement,
/// early_data. Not expressible: the extensions a client ignores or
/// refuses (they must not come back).
pub fn encrypted_extensions(body: &[u8]) {
    let Ok(ee) = EncryptedExtensions::parse(body) else {
        return;
    };
    if let Some(p) = ee.alpn {
        assert!(!p.is_empty());
    }
    let out = EncryptedExtensionsOut {
        alpn: ee.alpn,
        record_size_limit: ee.record_size_limit,
        server_name_ack: ee.server_name_ack,
        early_data: ee.early_data,
    };
    let again = encode_message(body.len(), HandshakeType::ENCRYPTED_EXTENSIONS, |w| {
        out.encode(w)
    })
    .expect("EncryptedExtensions re-encodes");
    let back = EncryptedExtensions::parse(&again).expect("re-encoded EE parses");
    assert_eq!(back.alpn, ee.alpn, "alpn");
    assert_eq!(
        back.record_size_limit, ee.record_size_limit,
        "record_size_limit"
    );
    assert_eq!(back.server_name_ack, ee.server_name_ack, "server_name");
    assert_eq!(back.early_data, ee.early_data, "early_data");
    assert_eq!(back.forbidden, None);
}

/// Certificate → `encode_certificate` → Certificate. Compared: the
/// request context and every certificate's DER; per-certificate
/// extensions are not expressible (written empty).
pub fn certificate(body: &[u8]) {
    let Ok(chain) = CertificateChain::parse(body) else {
        return;
    };
    let certs = chain.certs();
    assert!(certs.len() <= tlspair::handshake::messages::MAX_CHAIN_LEN);
    assert!(certs.iter().all(|c| !c.is_empty()));
    assert_eq!(chain.ders().len(), certs.len());
    let again = encode_message(body.len(), HandshakeType::CERTIFICATE, |w| {
        encode_certificate(w, chain.context, certs)
    })
    .expect("Certificate re-encodes");
    let back = CertificateChain::parse(&again).expect("re-encoded Certificate parses");
    assert_eq!(back.context, chain.context, "context");
    assert_eq!(back.certs(), certs, "certificates");
}

/// CertificateVerify: its two fields are the whole body, so writing them
/// back must give the input byte for byte.
pub fn certificate_verify(body: &[u8]) {
    let Ok(cv) = CertificateVerify::parse(body) else {
        return;
    };
    let mut buf = vec![0u8; body.len()];
    let mut w = Writer::new(&mut buf);
    w.u16(cv.scheme.0).expect("room");
    w.vec16(cv.signature).expect("room");
    assert_eq!(w.written(), body, "CertificateVerify round trip");
}

/// CertificateRequest: no encoder; the parse must hold what it promises.
pub fn certificate_request(body: &[u8]) {
    let Ok(cr) = CertificateRequest::parse(body) else {
        return;
    };
    assert!(cr.context.len() < 256);
    let schemes = cr.signature_algorithms.bytes();
    assert!(!schemes.is_empty() && schemes.len() % 2 == 0);
    assert_eq!(cr.signature_algorithms.iter().count() * 2, schemes.len());
}

/// NewSessionTicket → `encode_new_session_ticket` → NewSessionTicket.
/// Compared: lifetime, age_add, nonce, ticket and the early_data
/// allowance (other extensions are not written back).
pub fn new_session_ticket(body: &[u8]) {
    let Ok(nst) = NewSessionTicket::parse(body) else {
        return;
    };
    assert!(!nst.ticket.is_empty());
    let again = encode_message(body.len(), HandshakeType::NEW_SESSION_TICKET, |w| {
        encode_new_session_ticket(
            w,
            nst.lifetime,
            nst.age_add,
            nst.nonce,
            nst.ticket,
            nst.max_early_data,
        )
    })
    .expect("NewSessionTicket re-encodes");
    let back = NewSessionTicket::parse(&again).expect("re-encoded ticket parses");
    assert_eq!(back.lifetime, nst.lifetime);
    assert_eq!(back.age_add, nst.age_add);
    assert_eq!(back.nonce, nst.nonce);
    assert_eq!(back.ticket, nst.ticket);
    assert_eq!(back.max_early_data, nst.max_early_data);
}

/// OfferedPsks: identities and binders written back must give the input
/// byte for byte; `binders_len` is what the binder list takes.
pub fn offered_psks(body: &[u8]) {
    let Ok(psks) = OfferedPsks::parse(body) else {
        return;
    };
    let ids: Vec<(&[u8], u32)> = psks.identities().collect();
    let binders: Vec<&[u8]> = psks.binders().collect();
    assert!(!ids.is_empty());
    assert_eq!(ids.len(), binders.len());
    assert!(ids.iter().all(|(id, _)| !id.is_empty()));
    assert!(binders.iter().all(|b| b.len() >= 32));
    let mut buf = vec![0u8; body.len()];
    let mut w = Writer::new(&mut buf);
    w.vec::<2>(|w| {
        ids.iter().try_for_each(|(id, age)| {
            w.vec16(id)?;
            w.u32(*age)
        })
    })
    .expect("room");
    let binders_at = w.len();
    w.vec::<2>(|w| binders.iter().try_for_each(|b| w.vec8(b)))
        .expect("room");
    assert_eq!(w.written(), body, "pre_shared_key round trip");
    assert_eq!(psks.binders_len, body.len() - binders_at, "binders_len");
}

/// `split_message` and `announced_len` agree with each other and with the
/// bytes; `write_message` writes back what was split off.
pub fn split_message_target(bytes: &[u8]) {
    let announced = announced_len(bytes);
    match split_message(bytes) {
        Some((ty, len, total)) => {
            assert_eq!(announced, Some(len));
            assert_eq!(total, HANDSHAKE_HEADER_LEN + len);
            assert!(total <= bytes.len());
            assert_eq!(ty.0, bytes[0]);
            let body = &bytes[HANDSHAKE_HEADER_LEN..total];
            let mut buf = vec![0u8; total];
            let mut w = Writer::new(&mut buf);
            write_message(&mut w, ty, |w| w.bytes(body)).expect("room");
            assert_eq!(w.written(), &bytes[..total], "write_message round trip");
        }
        None => match announced {
            Some(len) => assert!(HANDSHAKE_HEADER_LEN + len > bytes.len()),
            None => assert!(bytes.len() < HANDSHAKE_HEADER_LEN),
        },
    }
}

/// `Header::parse` reads exactly the first five bytes; `deframe` agrees
/// with `Header::check_protected` at a fuzzer-chosen limit.
pub fn record_header(data: &[u8]) {
    let Some((&limit, bytes)) = data.split_first() else {
        return;
    };
    let limit = (64 + usize::from(limit) * 64).min(MAX_PLAINTEXT);
    let header = Header::parse(bytes);
    match header {
        Some(h) => {
            assert_eq!(h.encode(), bytes[..HEADER_LEN], "header round trip");
            match deframe(bytes, limit) {
                Ok(Some((dh, total))) => {
                    assert_eq!(dh, h);
                    assert_eq!(total, HEADER_LEN + h.len);
                    assert!(total <= bytes.len());
                    assert!(h.len > TAG_LEN);
                }
                Ok(None) => {
                    assert_eq!(h.check_protected(limit), Ok(()));
                    assert!(HEADER_LEN + h.len > bytes.len());
                }
                Err(e) => assert_eq!(h.check_protected(limit), Err(e)),
            }
        }
        None => {
            assert!(bytes.len() < HEADER_LEN);
            assert_eq!(deframe(bytes, limit), Ok(None));
        }
    }
}

/// What a connection must make of an alert record with `content`: RFC
/// 8446 §6 (close_notify closes, user_canceled is ignored, every other
/// alert is fatal whatever its level) and §5 (exactly two bytes).
fn alert_outcome(content: &[u8], handshaking: bool) -> Result<Status<usize>, Error> {
    match *content {
        [_, 0] if handshaking => Err(Error::AlertReceived(AlertDescription::CLOSE_NOTIFY)),
        [_, 0] => Ok(Status::Closed),
        [_, 90] => Ok(Status::WantRead),
        [_, d] => Err(Error::AlertReceived(AlertDescription(d))),
        // RFC 8446 §5.1: an empty alert record is unexpected_message.
        [] => Err(tlspair::PeerMisbehaved::EmptyRecord(ContentType::ALERT).into()),
        _ => Err(InvalidMessage::BadAlert.into()),
    }
}

/// Alert bytes, sealed as one alert record, into an established
/// connection (padding chosen by the first byte).
pub fn sealed_alert(data: &[u8]) {
    let Some((&pad, content)) = data.split_first() else {
        return;
    };
    let content = &content[..content.len().min(64)];
    let suite = &TLS13_AES_128_GCM_SHA256;
    let (c2s, s2c) = ([0x11; 32], [0x22; 32]);
    let mut key = RecordKey::new(suite, &c2s).expect("secret fits");
    let mut record = vec![0u8; RECORD_OVERHEAD + content.len() + usize::from(pad)];
    record[HEADER_LEN..][..content.len()].copy_from_slice(content);
    key.seal(ContentType::ALERT, content.len(), &mut record)
        .expect("seals");
    let mut conn = Connection::from_traffic_secrets(suite, &s2c, &c2s, RecordConfig::default())
        .expect("valid keys");
    let mut bufs = Buffers::new(vec![0u8; 1024], vec![0u8; 1024]);
    assert_eq!(bufs.recv.fill(&record), record.len());
    let got = conn.read(&mut bufs, &mut [0u8; 16]);
    assert_eq!(got, alert_outcome(content, false), "alert {content:02x?}");
}

/// Alert bytes in a plaintext record to a server that awaits its
/// ClientHello.
pub fn plaintext_alert(content: &[u8]) {
    if content.is_empty() {
        // An empty plaintext alert record: `alert_outcome` covers it with
        // the sealed one.
        return;
    }
    let content = &content[..content.len().min(64)];
    let config = crate::fixtures::server_config(Default::default(), RecordConfig::default());
    let mut conn = crate::fixtures::server(&config);
    let mut bufs = Buffers::new(vec![0u8; 1024], vec![0u8; 4096]);
    let len = u16::try_from(content.len()).expect("short");
    let header = Header {
        content_type: ContentType::ALERT,
        version: ProtocolVersion::TLS1_2,
        len: usize::from(len),
    };
    assert_eq!(bufs.recv.fill(&header.encode()), HEADER_LEN);
    assert_eq!(bufs.recv.fill(content), content.len());
    let got = conn.handshake(&mut bufs).map(|s| s.map(|()| 0));
    assert_eq!(got, alert_outcome(content, true), "alert {content:02x?}");
}

/// Reader and Writer: each step reads a vector with a 1-, 2- or 3-byte
/// length (chosen by a byte of the input) from the rest of the input;
/// writing it back with `Writer::vec` must give the bytes read. A Writer
/// with a fuzzer-chosen room fails with `Overflow` exactly when the
/// encoding does not fit.
pub fn codec(data: &[u8]) {
    let Some((&room, mut rest)) = data.split_first() else {
        return;
    };
    let mut out = vec![0u8; usize::from(room) * 4];
    let mut w = Writer::new(&mut out);
    let mut fits = true;
    while let Some((&kind, after)) = rest.split_first() {
        let mut r = Reader::new(after);
        let (value, prefix) = match kind % 3 {
            0 => (r.vec8("v8"), 1),
            1 => (r.vec16("v16"), 2),
            _ => (r.vec24("v24"), 3),
        };
        let Ok(value) = value else {
            // Too short for its announced length: nothing was consumed
            // past the length.
            assert!(after.len() < prefix || after.len() - prefix < declared(after, prefix));
            return;
        };
        let used = after.len() - r.left();
        assert_eq!(used, prefix + value.len());
        let encoded = &after[..used];
        let before = w.len();
        let wrote = match prefix {
            1 => w.vec8(value),
            2 => w.vec16(value),
            _ => w.vec::<3>(|w| w.bytes(value)),
        };
        let room_left = out_len(room) - before;
        if fits {
            match wrote {
                Ok(()) => {
                    assert!(used <= room_left);
                    assert_eq!(&w.written()[before..], encoded, "vec round trip");
                }
                Err(_) => {
                    assert!(used > room_left, "Overflow with room");
                    fits = false;
                }
            }
        }
        // Reading the encoding back gives the value.
        let mut back = Reader::new(encoded);
        let again = match prefix {
            1 => back.vec8(""),
            2 => back.vec16(""),
            _ => back.vec24(""),
        };
        assert_eq!(again, Ok(value));
        assert_eq!(back.finish(""), Ok(()));
        rest = &after[used..];
    }
}

fn out_len(room: u8) -> usize {
    usize::from(room) * 4
}

/// The length a `prefix`-byte vector header at the front of `bytes`
/// announces.
fn declared(bytes: &[u8], prefix: usize) -> usize {
    bytes[..prefix]
        .iter()
        .fold(0, |n, &b| n << 8 | usize::from(b))
}

/// The ClientHello peek, over `body` as one record and as records of 5
/// bytes, agrees with the parser: the same hello, or an error when the
/// parser refuses it.
fn peek_agrees(body: &[u8]) {
    use tlspair::handshake::peek::peek_client_hello;
    let Ok(len) = u32::try_from(body.len()) else {
        return;
    };
    let mut msg = vec![1];
    msg.extend(&len.to_be_bytes()[1..]);
    msg.extend(body);
    let parsed = ClientHello::parse(body).is_ok();
    let one = (msg.len() <= 16384).then(|| {
        let mut r = vec![22, 3, 1];
        r.extend((msg.len() as u16).to_be_bytes());
        r.extend(&msg);
        r
    });
    let split: Vec<u8> = msg
        .chunks(5)
        .flat_map(|c| [&[22, 3, 1, 0, c.len() as u8][..], c].concat())
        .collect();
    for wire in one.iter().chain([&split]) {
        let mut recv = tlspair::RecvBuf::new(vec![0u8; wire.len()]);
        recv.fill(wire);
        let mut scratch = vec![0u8; msg.len()];
        match peek_client_hello(&recv, &mut scratch) {
            Ok(tlspair::Status::Done(view)) => {
                assert!(parsed, "peek accepted what the parser refuses");
                assert_eq!(
                    view.message().extensions,
                    ClientHello::parse(body).unwrap().extensions
                );
            }
            Ok(other) => panic!("peek on a whole hello answered {other:?}"),
            Err(_) => assert!(!parsed, "peek refused what the parser accepts"),
        }
    }
}

/// Writes with `encode` into a buffer of `len` bytes and returns what was
/// written (room enough: a re-encoding is as long as its input).
fn written(
    len: usize,
    encode: impl FnOnce(&mut Writer<'_>) -> Result<(), tlspair::codec::Overflow>,
) -> Vec<u8> {
    let mut buf = vec![0u8; len + 16];
    let mut w = Writer::new(&mut buf);
    encode(&mut w).expect("room for the re-encoding");
    let n = w.len();
    buf.truncate(n);
    buf
}

/// TLS 1.2 ServerKeyExchange: curve type (named_curve only), group,
/// point, scheme and signature are the whole body: written back, byte
/// for byte; the signed parameters are the body's first bytes.
pub fn tls12_server_key_exchange(body: &[u8]) {
    let Ok((group, point, params, scheme, sig)) =
        tlspair::handshake::tls12_parsers::server_key_exchange(body)
    else {
        return;
    };
    assert!(!point.is_empty());
    let again = written(body.len(), |w| {
        w.u8(3)?;
        w.u16(group.0)?;
        w.vec8(point)?;
        w.u16(scheme.0)?;
        w.vec16(sig)
    });
    assert_eq!(again, body, "ServerKeyExchange round trip");
    assert_eq!(params, &body[..4 + point.len()], "signed parameters");
}

/// TLS 1.2 ClientKeyExchange: one non-empty point, byte for byte.
pub fn tls12_client_key_exchange(body: &[u8]) {
    let Ok(point) = tlspair::handshake::tls12_parsers::client_key_exchange(body) else {
        return;
    };
    assert!(!point.is_empty());
    assert_eq!(written(body.len(), |w| w.vec8(point)), body);
}

/// TLS 1.2 CertificateRequest: non-empty certificate types, a non-empty
/// even scheme list, both as the input has them.
pub fn tls12_certificate_request(body: &[u8]) {
    let Ok((types, schemes)) = tlspair::handshake::tls12_parsers::certificate_request(body) else {
        return;
    };
    assert!(!types.is_empty());
    let bytes = schemes.bytes();
    assert!(!bytes.is_empty() && bytes.len() % 2 == 0);
    assert_eq!(schemes.iter().count() * 2, bytes.len());
    let head = written(body.len(), |w| {
        w.vec8(types)?;
        w.vec16(bytes)
    });
    assert_eq!(&body[..head.len()], &head[..], "types and schemes");
}

/// TLS 1.2 NewSessionTicket: lifetime hint and ticket, byte for byte.
pub fn tls12_new_session_ticket(body: &[u8]) {
    let Ok((hint, ticket)) = tlspair::handshake::tls12_parsers::new_session_ticket(body) else {
        return;
    };
    let again = written(body.len(), |w| {
        w.u32(hint)?;
        w.vec16(ticket)
    });
    assert_eq!(again, body, "NewSessionTicket round trip");
}

/// TLS 1.2 Certificate: at most `MAX_CHAIN_LEN` non-empty certificates;
/// the engine's encoder writes the input back byte for byte.
pub fn tls12_certificate(body: &[u8]) {
    let Ok(chain) = tlspair::handshake::tls12_parsers::certificate(body) else {
        return;
    };
    assert!(chain.len() <= tlspair::handshake::messages::MAX_CHAIN_LEN);
    assert!(chain.iter().all(|c| !c.is_empty()));
    let again = encode_message(body.len(), HandshakeType::CERTIFICATE, |w| {
        tlspair::handshake::tls12_parsers::encode_certificate(w, chain.iter().map(|c| c.as_ref()))
    })
    .expect("Certificate re-encodes");
    assert_eq!(again, body, "Certificate round trip");
}
