//! Generated server flights for our client: a server written here from
//! the public key schedule, record protection and signing keys, which
//! answers our client's real ClientHello with random legal variations
//! (ServerHello extension order and suite, a HelloRetryRequest with or
//! without a cookie, EncryptedExtensions in any order with the server's
//! own groups, chains with and without the CA, every signature scheme the
//! key and our offer share, records of any size and padding, one
//! compatibility change_cipher_spec anywhere before Finished, delivered in
//! any coalescing). The client must finish every one, with a Finished
//! this server checks and application data both ways; and each single-field
//! corruption of such a flight must get the alert docs/security.md's table
//! names for it, on the wire.

mod common;

use common::tls::{self, side};
use common::Side;
use proptest::prelude::*;
use tlspair::handshake::messages::HRR_RANDOM;
use tlspair::handshake::ClientConfig;
use tlspair::key_schedule::{EarlySecret, Transcript};
use tlspair::record::protect::RecordKey;
use tlspair::record::{Header, HEADER_LEN};
use tlspair::sign::{
    certificate_verify_message, Context, SigningKey, MAX_CERTIFICATE_VERIFY_MESSAGE_LEN,
};
use tlspair::test_credentials::{self as creds, Credential};
use tlspair::wire::{NamedGroup, SignatureScheme};
use tlspair::{AlertDescription as AD, Connection, ContentType, Error, Status, Suite, ALL_SUITES};

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn vec8(body: &[u8]) -> Vec<u8> {
    let mut v = vec![body.len() as u8];
    v.extend(body);
    v
}

fn vec16(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend(body);
    v
}

fn vec24(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes()[1..].to_vec();
    v.extend(body);
    v
}

fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend(vec16(body));
    v
}

fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend(vec24(body));
    v
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// A permutation of `items` from `seed` (a Fisher-Yates shuffle driven by
/// a small linear congruential generator).
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items.swap(i, (seed >> 33) as usize % (i + 1));
    }
}

/// What the server reads in our client's ClientHello.
struct Hello {
    message: Vec<u8>,
    session_id: Vec<u8>,
    suites: Vec<u16>,
    groups: Vec<u16>,
    /// The first share for a group we implement: the one answered.
    share: (u16, Vec<u8>),
    /// Every group the ClientHello carries a share for.
    shared: Vec<u16>,
    schemes: Vec<u16>,
    sni: bool,
    alpn: Vec<Vec<u8>>,
    cookie: Option<Vec<u8>>,
}

impl Hello {
    fn parse(message: Vec<u8>) -> Self {
        assert_eq!(message[0], 1, "a ClientHello");
        let b = &message[4..];
        let sid_len = b[34] as usize;
        let session_id = b[35..35 + sid_len].to_vec();
        let mut at = 35 + sid_len;
        let n = be16(&b[at..]) as usize;
        let suites = b[at + 2..at + 2 + n].chunks(2).map(be16).collect();
        at += 2 + n;
        at += 1 + b[at] as usize;
        let end = at + 2 + be16(&b[at..]) as usize;
        at += 2;
        let mut hello = Hello {
            message: message.clone(),
            session_id,
            suites,
            groups: Vec::new(),
            share: (0, Vec::new()),
            shared: Vec::new(),
            schemes: Vec::new(),
            sni: false,
            alpn: Vec::new(),
            cookie: None,
        };
        while at < end {
            let ty = be16(&b[at..]);
            let len = be16(&b[at + 2..]) as usize;
            let body = &b[at + 4..at + 4 + len];
            match ty {
                0 => hello.sni = true,
                10 => hello.groups = body[2..].chunks(2).map(be16).collect(),
                13 => hello.schemes = body[2..].chunks(2).map(be16).collect(),
                16 => {
                    let mut list = &body[2..];
                    while !list.is_empty() {
                        let n = list[0] as usize;
                        hello.alpn.push(list[1..1 + n].to_vec());
                        list = &list[1 + n..];
                    }
                }
                44 => hello.cookie = Some(body[2..].to_vec()),
                51 => {
                    let mut list = &body[2..];
                    while !list.is_empty() {
                        let group = be16(list);
                        let n = be16(&list[2..]) as usize;
                        hello.shared.push(group);
                        if hello.share.0 == 0
                            && tlspair::handshake::kx::is_supported(NamedGroup(group))
                        {
                            hello.share = (group, list[4..4 + n].to_vec());
                        }
                        list = &list[4 + n..];
                    }
                }
                _ => {}
            }
            at += 4 + len;
        }
        hello
    }
}

/// The random choices of one legal flight.
#[derive(Clone, Debug)]
struct Plan {
    grease: bool,
    sni: bool,
    alpn: bool,
    /// Index into the suites we offer.
    suite: usize,
    /// A HelloRetryRequest first: the group (index among the offered
    /// groups we implement but sent no share for) and the cookie length.
    retry: Option<(usize, Option<usize>)>,
    /// supported_versions before key_share in the ServerHello (and the
    /// HelloRetryRequest).
    versions_first: bool,
    /// EncryptedExtensions: acknowledge SNI, answer ALPN (index), send
    /// our own groups (any values), in the order of this seed.
    ee_sni: bool,
    ee_alpn: usize,
    ee_groups: Option<Vec<u16>>,
    ee_order: u64,
    /// Which credential, which of its schemes, whether the CA follows.
    key: usize,
    scheme: usize,
    with_ca: bool,
    /// Where the change_cipher_spec goes: before the ServerHello (0),
    /// after it (1), between protected records (2..), or nowhere.
    ccs: Option<usize>,
    /// Protected records: the content length of each (cycled) and the
    /// padding of each.
    records: Vec<usize>,
    padding: Vec<usize>,
    /// The ServerHello cut into plaintext records of this size.
    hello_record: usize,
    /// The chunks the client's received view gets the flight in.
    chunk: usize,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        any::<(bool, bool, bool, bool, bool, bool)>(),
        (
            0usize..3,
            prop::option::of((0usize..2, prop::option::of(1usize..300))),
        ),
        (
            0usize..4,
            prop::option::of(prop::collection::vec(any::<u16>(), 1..40)),
            any::<u64>(),
        ),
        (0usize..4, 0usize..3),
        prop::option::of(0usize..6),
        prop::collection::vec(1usize..=16384, 1..6),
        prop::collection::vec(0usize..300, 1..6),
        (1usize..=16384, 1usize..5000),
    )
        .prop_map(
            |(
                (grease, sni, alpn, versions_first, ee_sni, with_ca),
                (suite, retry),
                (ee_alpn, ee_groups, ee_order),
                (key, scheme),
                ccs,
                records,
                padding,
                (hello_record, chunk),
            )| Plan {
                grease,
                sni,
                alpn,
                suite,
                retry,
                versions_first,
                ee_sni,
                ee_alpn,
                ee_groups,
                ee_order,
                key,
                scheme,
                with_ca,
                ccs,
                records,
                padding,
                hello_record,
                chunk,
            },
        )
}

const KEYS: [&Credential; 4] = [
    &creds::SERVER_ECDSA_P256,
    &creds::SERVER_ECDSA_P384,
    &creds::SERVER_ED25519,
    &creds::SERVER_RSA_2048,
];

/// A single-field corruption of a legal flight, and the alert it must get.
#[derive(Clone, Copy, Debug)]
enum Corruption {
    SuiteNotOffered,
    SessionIdEcho,
    Compression,
    SelectedVersion,
    ShareForAnotherGroup,
    UnsolicitedServerHelloExtension,
    DuplicateServerHelloExtension,
    PreSharedKeyNeverOffered,
    UnsolicitedEncryptedExtension,
    MisplacedEncryptedExtension,
    DuplicateEncryptedExtension,
    AlpnNotOffered,
    EmptyCertificateList,
    CertificateRequestContext,
    CertificateEntryExtension,
    SignatureFlipped,
    SchemeNotFittingTheKey,
    SchemeForbiddenInTls13,
    FinishedMac,
    FinishedLength,
    TrailingByte,
    CertificateBeforeEncryptedExtensions,
    UnknownMessageType,
}

const CORRUPTIONS: [Corruption; 23] = [
    Corruption::SuiteNotOffered,
    Corruption::SessionIdEcho,
    Corruption::Compression,
    Corruption::SelectedVersion,
    Corruption::ShareForAnotherGroup,
    Corruption::UnsolicitedServerHelloExtension,
    Corruption::DuplicateServerHelloExtension,
    Corruption::PreSharedKeyNeverOffered,
    Corruption::UnsolicitedEncryptedExtension,
    Corruption::MisplacedEncryptedExtension,
    Corruption::DuplicateEncryptedExtension,
    Corruption::AlpnNotOffered,
    Corruption::EmptyCertificateList,
    Corruption::CertificateRequestContext,
    Corruption::CertificateEntryExtension,
    Corruption::SignatureFlipped,
    Corruption::SchemeNotFittingTheKey,
    Corruption::SchemeForbiddenInTls13,
    Corruption::FinishedMac,
    Corruption::FinishedLength,
    Corruption::TrailingByte,
    Corruption::CertificateBeforeEncryptedExtensions,
    Corruption::UnknownMessageType,
];

impl Corruption {
    /// The alert docs/security.md's table gives it.
    fn alert(self, plan: &Plan) -> AD {
        use Corruption::*;
        match self {
            // ALPN is no answer to an offer we did not make.
            AlpnNotOffered if !plan.alpn => AD::UNSUPPORTED_EXTENSION,
            SuiteNotOffered
            | SessionIdEcho
            | Compression
            | SelectedVersion
            | ShareForAnotherGroup
            | DuplicateServerHelloExtension
            | MisplacedEncryptedExtension
            | DuplicateEncryptedExtension
            | AlpnNotOffered
            | CertificateRequestContext
            | SchemeNotFittingTheKey
            | SchemeForbiddenInTls13 => AD::ILLEGAL_PARAMETER,
            UnsolicitedServerHelloExtension
            | PreSharedKeyNeverOffered
            | UnsolicitedEncryptedExtension
            | CertificateEntryExtension => AD::UNSUPPORTED_EXTENSION,
            EmptyCertificateList | FinishedLength | TrailingByte => AD::DECODE_ERROR,
            SignatureFlipped | FinishedMac => AD::DECRYPT_ERROR,
            CertificateBeforeEncryptedExtensions | UnknownMessageType => AD::UNEXPECTED_MESSAGE,
        }
    }
}

/// The ServerHello (or HelloRetryRequest) body.
fn server_hello(
    random: [u8; 32],
    hello: &Hello,
    suite: u16,
    versions_first: bool,
    share: &[u8],
    extra: &[u8],
) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend(random);
    body.extend(vec8(&hello.session_id));
    body.extend(suite.to_be_bytes());
    body.push(0);
    let versions = ext(43, &[3, 4]);
    let share = ext(51, share);
    let mut exts = if versions_first {
        [versions, share].concat()
    } else {
        [share, versions].concat()
    };
    exts.extend(extra);
    body.extend(vec16(&exts));
    body
}

/// Protected records of `messages` under `key`: contents of the plan's
/// lengths, each with its padding.
fn seal_records(key: &mut RecordKey, messages: &[u8], plan: &Plan) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = messages;
    let mut i = 0;
    while !rest.is_empty() {
        let pad = plan.padding[i % plan.padding.len()];
        let len = plan.records[i % plan.records.len()]
            .min(16384 - pad.min(16383))
            .min(rest.len());
        let (content, tail) = rest.split_at(len);
        rest = tail;
        let mut rec = vec![0u8; HEADER_LEN];
        rec.extend(content);
        rec.resize(HEADER_LEN + len + 1 + pad + 16, 0);
        key.seal(ContentType::HANDSHAKE, len, &mut rec).unwrap();
        out.push(rec);
        i += 1;
    }
    out
}

fn plaintext_records(ty: u8, bytes: &[u8], size: usize) -> Vec<u8> {
    bytes
        .chunks(size)
        .flat_map(|c| [vec![ty, 3, 3], vec16(c)].concat())
        .collect()
}

const CCS: [u8; 6] = [20, 3, 3, 0, 1, 1];

/// The handshake messages of the client's plaintext records (its
/// ClientHello), skipping a change_cipher_spec.
fn client_plaintext(c: &mut Side) -> Vec<u8> {
    let out = c.bufs.send.pending().to_vec();
    c.bufs.send.consume(out.len());
    let mut msg = Vec::new();
    let mut rest = &out[..];
    while let Some(h) = Header::parse(rest) {
        if h.content_type == ContentType::HANDSHAKE {
            msg.extend(&rest[HEADER_LEN..HEADER_LEN + h.len]);
        }
        rest = &rest[HEADER_LEN + h.len..];
    }
    msg
}

/// Feeds `flight` to the client in chunks of `chunk`, calling `handshake`
/// after each: no call may fail, and each waits only with room left.
fn deliver(c: &mut Side, flight: &[u8], chunk: usize) -> Result<Status<()>, Error> {
    let mut last = Status::WantRead;
    for piece in flight.chunks(chunk) {
        let mut piece = piece;
        while !piece.is_empty() {
            let n = c.bufs.recv.fill(piece);
            assert!(n > 0, "the client stopped taking input");
            piece = &piece[n..];
            last = c.conn.handshake(&mut c.bufs)?;
            if last == Status::WantRead {
                assert!(
                    c.bufs.recv.len() < c.bufs.recv.capacity(),
                    "waiting with a full view"
                );
            }
        }
    }
    Ok(last)
}

/// The alert the client put on the wire: plaintext, or protected under
/// `key` (the client's handshake key).
fn alert_sent(c: &Side, mut key: Option<RecordKey>) -> Option<u8> {
    let out = c.bufs.send.pending().to_vec();
    let mut rest = &out[..];
    while let Some(h) = Header::parse(rest) {
        let mut rec = rest[..HEADER_LEN + h.len].to_vec();
        rest = &rest[HEADER_LEN + h.len..];
        match h.content_type {
            ContentType::ALERT => return Some(rec[HEADER_LEN + 1]),
            ContentType::APPLICATION_DATA => {
                let (ty, len) = key.as_mut()?.open(&mut rec).ok()?;
                if ty == ContentType::ALERT && len == 2 {
                    return Some(rec[HEADER_LEN + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

fn suite_of(id: u16) -> Option<&'static Suite> {
    ALL_SUITES.iter().copied().find(|s| s.id.0 == id)
}

/// Plays `plan` (and `corruption`, if any) against a fresh client.
fn run(plan: &Plan, corruption: Option<Corruption>) {
    run_keeping(plan, corruption, &mut Vec::new());
}

/// `run`, keeping the message bodies it built in `kept`, by fuzz target.
fn run_keeping(
    plan: &Plan,
    corruption: Option<Corruption>,
    kept: &mut Vec<(&'static str, Vec<u8>)>,
) {
    let mut cc = ClientConfig::new(tls::verifier(), tls::rng());
    cc.grease = plan.grease;
    if plan.alpn {
        cc.alpn = leak([&b"h2"[..], &b"http/1.1"[..]]);
    }
    let cc = leak(cc);
    let name = if plan.sni { "localhost" } else { "127.0.0.1" };
    let mut c = side(Connection::client(cc, Some(name), tls::now()).unwrap());
    assert_eq!(c.conn.handshake(&mut c.bufs).unwrap(), Status::WantRead);
    let mut hello = Hello::parse(client_plaintext(&mut c));
    assert_eq!(hello.sni, plan.sni);

    let ours: Vec<u16> = hello
        .suites
        .iter()
        .copied()
        .filter(|s| suite_of(*s).is_some())
        .collect();
    let suite_id = ours[plan.suite % ours.len()];
    let suite = suite_of(suite_id).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let mut transcript = Transcript::new(suite);
    transcript.add(&hello.message);
    let mut flight = Vec::new();
    let mut ccs_sent = false;

    if let Some((group, cookie)) = plan.retry {
        let others: Vec<u16> = hello
            .groups
            .iter()
            .copied()
            .filter(|g| {
                !hello.shared.contains(g) && tlspair::handshake::kx::is_supported(NamedGroup(*g))
            })
            .collect();
        let group = others[group % others.len()];
        let cookie: Option<Vec<u8>> = cookie.map(|n| (0..n).map(|i| i as u8 ^ 0x5a).collect());
        let extra = cookie
            .as_ref()
            .map(|k| ext(44, &vec16(k)))
            .unwrap_or_default();
        let hrr = message(
            2,
            &server_hello(
                HRR_RANDOM,
                &hello,
                suite_id,
                plan.versions_first,
                &group.to_be_bytes(),
                &extra,
            ),
        );
        transcript.restart_with_message_hash(suite);
        transcript.add(&hrr);
        let mut records = plaintext_records(22, &hrr, plan.hello_record);
        if plan.ccs.is_some() {
            records.extend(CCS);
            ccs_sent = true;
        }
        assert_eq!(
            deliver(&mut c, &records, plan.chunk).unwrap(),
            Status::WantRead
        );
        hello = Hello::parse(client_plaintext(&mut c));
        assert_eq!(hello.share.0, group, "the second ClientHello's share");
        assert_eq!(hello.cookie, cookie, "the cookie echoed");
        transcript.add(&hello.message);
    }

    // ServerHello.
    let mut ours = vec![0u8; tlspair::handshake::kx::MAX_SHARE_LEN];
    let (n, shared) =
        tlspair::handshake::kx::respond(NamedGroup(hello.share.0), &hello.share.1, &rng, &mut ours)
            .unwrap();
    let mut share = hello.share.0.to_be_bytes().to_vec();
    share.extend(vec16(&ours[..n]));
    let mut random = [0u8; 32];
    ring::rand::SecureRandom::fill(&rng, &mut random).unwrap();
    let mut sh = server_hello(random, &hello, suite_id, plan.versions_first, &share, &[]);
    let versions_at = sh
        .windows(6)
        .position(|w| w == [0, 43, 0, 2, 3, 4])
        .unwrap();
    let sid_end = 35 + hello.session_id.len();
    let ext_block = sid_end + 3 + 2;
    match corruption {
        Some(Corruption::SuiteNotOffered) => {
            sh[sid_end..sid_end + 2].copy_from_slice(&[0x13, 0x04])
        }
        Some(Corruption::SessionIdEcho) => {
            if hello.session_id.is_empty() {
                sh[34] = 1;
                sh.insert(35, 0);
            } else {
                sh[35] ^= 1;
            }
        }
        Some(Corruption::Compression) => sh[sid_end + 2] = 1,
        Some(Corruption::SelectedVersion) => sh[versions_at + 5] = 3,
        Some(Corruption::ShareForAnotherGroup) => {
            let other = hello
                .groups
                .iter()
                .copied()
                .find(|g| {
                    *g != hello.share.0 && tlspair::handshake::kx::is_supported(NamedGroup(*g))
                })
                .unwrap();
            let at = sh.windows(4).position(|w| w[..2] == [0, 51]).unwrap() + 4;
            sh[at..at + 2].copy_from_slice(&other.to_be_bytes());
        }
        Some(Corruption::UnsolicitedServerHelloExtension) => {
            append_ext(&mut sh, ext_block - 2, &ext(0x7777, &[]))
        }
        Some(Corruption::PreSharedKeyNeverOffered) => {
            // A server "resuming" a ticket we never offered.
            append_ext(&mut sh, ext_block - 2, &ext(41, &[0, 0]))
        }
        Some(Corruption::DuplicateServerHelloExtension) => {
            append_ext(&mut sh, ext_block - 2, &ext(43, &[3, 4]))
        }
        _ => {}
    }
    kept.push(("server_hello", sh.clone()));
    let sh = message(2, &sh);
    transcript.add(&sh);
    let hs = EarlySecret::new(suite, None)
        .unwrap()
        .into_handshake(suite, shared.as_bytes())
        .unwrap();
    let (client_hs, server_hs) = hs.traffic_secrets(suite, &transcript.current()).unwrap();
    let client_key = || RecordKey::new(suite, client_hs.as_bytes());
    let shello = plaintext_records(22, &sh, plan.hello_record);

    // EncryptedExtensions.
    let mut exts = Vec::new();
    if plan.ee_sni && hello.sni {
        exts.push(ext(0, &[]));
    }
    if !hello.alpn.is_empty() && plan.ee_alpn > 0 {
        let pick = &hello.alpn[plan.ee_alpn % hello.alpn.len()];
        exts.push(ext(16, &vec16(&vec8(pick))));
    }
    if let Some(groups) = &plan.ee_groups {
        let list: Vec<u8> = groups.iter().flat_map(|g| g.to_be_bytes()).collect();
        exts.push(ext(10, &vec16(&list)));
    }
    match corruption {
        Some(Corruption::UnsolicitedEncryptedExtension) => exts.push(ext(0x7777, &[])),
        Some(Corruption::MisplacedEncryptedExtension) => exts.push(ext(43, &[3, 4])),
        Some(Corruption::DuplicateEncryptedExtension) => {
            exts.push(ext(10, &vec16(&[0, 0x1d])));
            exts.push(ext(10, &vec16(&[0, 0x17])));
        }
        Some(Corruption::AlpnNotOffered) => exts.push(ext(16, &vec16(&vec8(b"spdy/1")))),
        _ => {}
    }
    shuffle(&mut exts, plan.ee_order);
    let mut ee_body = vec16(&exts.concat());
    if let Some(Corruption::TrailingByte) = corruption {
        ee_body.push(0);
    }
    kept.push(("encrypted_extensions", ee_body.clone()));
    let ee = message(8, &ee_body);

    // Certificate.
    let cred = KEYS[plan.key % KEYS.len()];
    let key = SigningKey::from_pkcs8(cred.key, &rng).unwrap();
    let mut chain = vec![cred.cert];
    if plan.with_ca {
        chain.push(creds::CA_CERT);
    }
    let mut entries = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        entries.extend(vec24(cert));
        if i == 0 && matches!(corruption, Some(Corruption::CertificateEntryExtension)) {
            entries.extend(vec16(&ext(5, &[1, 0, 0, 0, 0])));
        } else {
            entries.extend(vec16(&[]));
        }
    }
    let mut cert_body = match corruption {
        Some(Corruption::CertificateRequestContext) => vec8(&[1, 2]),
        _ => vec8(&[]),
    };
    match corruption {
        Some(Corruption::EmptyCertificateList) => cert_body.extend(vec24(&[])),
        _ => cert_body.extend(vec24(&entries)),
    }
    kept.push(("certificate", cert_body.clone()));
    let cert = message(11, &cert_body);

    let mut ee_then_cert =
        if let Some(Corruption::CertificateBeforeEncryptedExtensions) = corruption {
            [cert.clone(), ee.clone()].concat()
        } else {
            [ee.clone(), cert.clone()].concat()
        };
    if let Some(Corruption::UnknownMessageType) = corruption {
        ee_then_cert[0] = 99;
    }
    transcript.add(&ee_then_cert);

    // CertificateVerify.
    let offered: Vec<SignatureScheme> = key
        .schemes()
        .iter()
        .copied()
        .filter(|s| hello.schemes.contains(&s.0))
        .collect();
    let scheme = offered[plan.scheme % offered.len()];
    let mut content = [0u8; MAX_CERTIFICATE_VERIFY_MESSAGE_LEN];
    let content = certificate_verify_message(
        Context::Server,
        transcript.current().as_bytes(),
        &mut content,
    )
    .unwrap();
    let mut sig = vec![0u8; key.max_signature_len()];
    let n = key.sign(scheme, content, &rng, &mut sig).unwrap();
    sig.truncate(n);
    let claimed = match corruption {
        Some(Corruption::SchemeNotFittingTheKey) => {
            if key.kind() == tlspair::sign::KeyKind::Ed25519 {
                SignatureScheme::ECDSA_SECP256R1_SHA256
            } else {
                SignatureScheme::ED25519
            }
        }
        Some(Corruption::SchemeForbiddenInTls13) => SignatureScheme::RSA_PKCS1_SHA256,
        _ => scheme,
    };
    if let Some(Corruption::SignatureFlipped) = corruption {
        let last = sig.len() - 1;
        sig[last / 2] ^= 0x10;
    }
    let mut cv_body = claimed.0.to_be_bytes().to_vec();
    cv_body.extend(vec16(&sig));
    let cv = message(15, &cv_body);
    transcript.add(&cv);

    // Finished.
    let mac = server_hs
        .finished_mac(suite, &transcript.current())
        .unwrap();
    let mut fin_body = mac.as_bytes().to_vec();
    match corruption {
        Some(Corruption::FinishedMac) => fin_body[0] ^= 1,
        Some(Corruption::FinishedLength) => {
            fin_body.pop();
        }
        _ => {}
    }
    let fin = message(20, &fin_body);
    transcript.add(&fin);

    let protected = [ee_then_cert, cv, fin].concat();
    let mut server_key = RecordKey::new(suite, server_hs.as_bytes()).unwrap();
    let records = seal_records(&mut server_key, &protected, plan);
    // A change_cipher_spec may not split a handshake message (RFC 8446
    // §5.1) nor follow Finished (§D.4): it goes before the ServerHello,
    // after it, or after a record that ends a message before Finished.
    let mut ends = Vec::new();
    let (mut at, mut sealed) = (0, 0);
    while at + 4 <= protected.len() {
        at += 4 + u32::from_be_bytes([0, protected[at + 1], protected[at + 2], protected[at + 3]])
            as usize;
        ends.push(at);
    }
    // Not after Finished: the peer's Finished ends the window.
    ends.pop();
    let mut boundaries = vec![0, 1];
    for (i, rec) in records.iter().enumerate() {
        sealed += rec.len() - HEADER_LEN - 1 - 16 - plan.padding[i % plan.padding.len()];
        if ends.contains(&sealed) {
            boundaries.push(i + 2);
        }
    }
    let ccs_at = plan
        .ccs
        .filter(|_| !ccs_sent)
        .map(|i| boundaries[i % boundaries.len()]);
    if ccs_at == Some(0) {
        flight.extend(CCS);
    }
    flight.extend(&shello);
    for (i, rec) in records.iter().enumerate() {
        if ccs_at == Some(i + 1) {
            flight.extend(CCS);
        }
        flight.extend(rec);
    }
    if ccs_at == Some(records.len() + 1) {
        flight.extend(CCS);
    }

    let result = deliver(&mut c, &flight, plan.chunk);
    if let Some(corruption) = corruption {
        let e = result.expect_err("a corrupted flight must fail");
        assert_eq!(
            e.alert(),
            Some(corruption.alert(plan)),
            "{corruption:?}: {e:?}"
        );
        let key = client_key();
        assert_eq!(
            alert_sent(&c, key),
            Some(corruption.alert(plan).0),
            "{corruption:?}: the alert on the wire"
        );
        return;
    }
    assert_eq!(result.unwrap(), Status::Done(()), "{plan:?}");
    assert!(c.conn.is_established());
    let negotiated = c.conn.negotiated().unwrap();
    assert_eq!(negotiated.suite.0, suite_id);
    assert_eq!(negotiated.signature_scheme, Some(scheme));
    assert_eq!(negotiated.group, Some(NamedGroup(hello.share.0)));
    let alpn = (!hello.alpn.is_empty() && plan.ee_alpn > 0)
        .then(|| (plan.ee_alpn % hello.alpn.len()) as u8);
    assert_eq!(negotiated.alpn_index, alpn);

    // The client's Finished, checked against the transcript.
    let through_server_finished = transcript.current();
    let expected = client_hs
        .finished_mac(suite, &through_server_finished)
        .unwrap();
    let out = c.bufs.send.pending().to_vec();
    c.bufs.send.consume(out.len());
    let mut key = client_key().unwrap();
    let mut finished = Vec::new();
    for (ty, content) in open_records(&out, &mut key) {
        assert_eq!(ty, ContentType::HANDSHAKE);
        finished.extend(content);
    }
    assert_eq!(
        finished,
        message(20, expected.as_bytes()),
        "the client's Finished"
    );

    // Application data both ways under the application keys.
    let master = hs.into_master(suite).unwrap();
    let (client_ap, server_ap, _) = master
        .application_secrets(suite, &through_server_finished)
        .unwrap();
    let mut to_client = RecordKey::new(suite, server_ap.as_bytes()).unwrap();
    let mut rec = vec![0u8; HEADER_LEN];
    rec.extend(b"from the server");
    rec.resize(HEADER_LEN + 15 + 1 + 16, 0);
    to_client
        .seal(ContentType::APPLICATION_DATA, 15, &mut rec)
        .unwrap();
    assert_eq!(c.bufs.recv.fill(&rec), rec.len());
    let mut got = [0u8; 64];
    assert_eq!(
        c.conn.read(&mut c.bufs, &mut got).unwrap(),
        Status::Done(15)
    );
    assert_eq!(&got[..15], b"from the server");
    assert_eq!(
        c.conn.write(&mut c.bufs, b"from the client").unwrap(),
        Status::Done(15)
    );
    let out = c.bufs.send.pending().to_vec();
    let mut from_client = RecordKey::new(suite, client_ap.as_bytes()).unwrap();
    let data: Vec<u8> = open_records(&out, &mut from_client)
        .into_iter()
        .flat_map(|(ty, content)| {
            assert_eq!(ty, ContentType::APPLICATION_DATA);
            content
        })
        .collect();
    assert_eq!(data, b"from the client");
}

/// The protected records of `bytes`, opened under `key` (a
/// change_cipher_spec skipped).
fn open_records(bytes: &[u8], key: &mut RecordKey) -> Vec<(ContentType, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(h) = Header::parse(rest) {
        let mut rec = rest[..HEADER_LEN + h.len].to_vec();
        rest = &rest[HEADER_LEN + h.len..];
        if h.content_type == ContentType::APPLICATION_DATA {
            let (ty, len) = key.open(&mut rec).unwrap();
            out.push((ty, rec[HEADER_LEN..HEADER_LEN + len].to_vec()));
        }
    }
    assert!(rest.is_empty(), "whole records");
    out
}

/// Appends extension `e` to the block whose 2-byte length is at `at`.
fn append_ext(body: &mut Vec<u8>, at: usize, e: &[u8]) {
    let len = be16(&body[at..]) as usize + e.len();
    body.extend(e);
    body[at..at + 2].copy_from_slice(&(len as u16).to_be_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_legal_flight_completes(plan in plan()) {
        run(&plan, None);
    }

    #[test]
    fn every_single_field_corruption_gets_its_alert(
        plan in plan(),
        which in 0usize..CORRUPTIONS.len(),
    ) {
        run(&plan, Some(CORRUPTIONS[which]));
    }
}

/// Every corruption at least once per run, on a plain flight.
#[test]
fn each_corruption_on_a_plain_flight() {
    let plan = Plan {
        grease: true,
        sni: true,
        alpn: true,
        suite: 0,
        retry: None,
        versions_first: true,
        ee_sni: true,
        ee_alpn: 1,
        ee_groups: None,
        ee_order: 0,
        key: 0,
        scheme: 0,
        with_ca: false,
        ccs: Some(1),
        records: vec![16384],
        padding: vec![0],
        hello_record: 16384,
        chunk: 16384,
    };
    run(&plan, None);
    for corruption in CORRUPTIONS {
        run(&plan, Some(corruption));
    }
}

/// Writes generated ServerHello, EncryptedExtensions and Certificate
/// bodies (legal ones and corruptions) as seeds of their fuzz targets:
/// `cargo test --test generated_flights -- --ignored`.
#[test]
#[ignore]
fn write_generated_fuzz_seeds() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for n in 0..6 {
        let plan = plan().new_tree(&mut runner).unwrap().current();
        let corruption = (n >= 3).then(|| CORRUPTIONS[(n * 7) % CORRUPTIONS.len()]);
        let mut kept = Vec::new();
        run_keeping(&plan, corruption, &mut kept);
        for (target, body) in kept {
            std::fs::write(dir.join(target).join(format!("generated-{n}")), body).unwrap();
        }
    }
}
