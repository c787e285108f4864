//! Generated ClientHellos: random legal ones (extension order, unknown
//! extensions with and without bodies, GREASE, key shares for unknown
//! groups of any size before and after ours, padding, long lists), which
//! our server must answer with a ServerHello; and random single-field
//! corruptions of them, each answered with the alert docs/security.md's
//! table names for it.

mod common;

use common::hello::{alert, client_hello_with, ext};
use common::tls::{self, p256_server_config, side};
use proptest::prelude::*;
use tlspair::{AlertDescription as AD, Connection, Status};

fn vec16(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend(body);
    v
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A GREASE value (RFC 8701) from a nibble.
fn grease(n: u8) -> u16 {
    let n = u16::from(n & 0x0f);
    0x0a0a | (n << 12) | (n << 4)
}

/// What a legal ClientHello is made of; `build` turns it into bytes.
#[derive(Clone, Debug)]
struct Hello {
    /// Unknown extension types (distinct, none TLS 1.3 defines) and bodies.
    unknown: Vec<(u16, Vec<u8>)>,
    /// Unknown groups, each with a share of this length (0: listed only).
    unknown_groups: Vec<(u16, usize)>,
    /// Where X25519 goes among the groups and shares.
    ours_at: usize,
    /// Unknown signature schemes before ours.
    unknown_schemes: Vec<u16>,
    /// GREASE nibbles for suites, versions, groups, schemes, extensions.
    grease: Option<[u8; 5]>,
    sni: bool,
    alpn: bool,
    record_size_limit: Option<u16>,
    psk_modes: bool,
    padding: Option<usize>,
    /// The order of the extensions: a permutation seed.
    order: u64,
    legacy_version: u16,
}

const DEFINED: [u16; 23] = [
    0, 1, 5, 10, 13, 14, 15, 16, 18, 19, 20, 21, 28, 41, 42, 43, 44, 45, 47, 48, 49, 50, 51,
];

fn hello() -> impl Strategy<Value = Hello> {
    (
        prop::collection::btree_map(
            0x0100u16..0xfe00,
            prop::collection::vec(any::<u8>(), 0..40),
            0..60,
        ),
        prop::collection::btree_map(0x0200u16..0x11ff, 0usize..1300, 0..8),
        0usize..10,
        prop::collection::vec(0x0900u16..0x0fff, 0..400),
        prop::option::of(any::<[u8; 5]>()),
        any::<(bool, bool, bool)>(),
        prop::option::of(64u16..=16385),
        prop::option::of(0usize..600),
        any::<u64>(),
        prop::sample::select(vec![0x0301u16, 0x0302, 0x0303]),
    )
        .prop_map(
            |(
                unknown,
                groups,
                ours_at,
                schemes,
                grease,
                (sni, alpn, psk_modes),
                rsl,
                padding,
                order,
                v,
            )| Hello {
                unknown: unknown
                    .into_iter()
                    .filter(|(t, _)| !DEFINED.contains(t) && *t & 0x0f0f != 0x0a0a)
                    .collect(),
                unknown_groups: groups
                    .into_iter()
                    // Unknown to us: not a group we implement (the
                    // hybrids 0x11eb and 0x11ec are in the range), not
                    // one we know of, not GREASE.
                    .filter(|(g, _)| {
                        !tlspair::handshake::kx::is_supported(tlspair::wire::NamedGroup(*g))
                            && ![0x17u16, 0x18, 0x19, 0x1d, 0x1e].contains(g)
                            && g & 0x0f0f != 0x0a0a
                    })
                    .collect(),
                ours_at,
                unknown_schemes: schemes,
                grease,
                sni,
                alpn,
                record_size_limit: rsl,
                psk_modes,
                padding,
                order,
                legacy_version: v,
            },
        )
}

/// A real X25519 public value.
fn x25519_public() -> Vec<u8> {
    let rng = ring::rand::SystemRandom::new();
    let kx = tlspair::handshake::kx::KeyExchange::start(tlspair::wire::NamedGroup::X25519, &rng)
        .unwrap();
    kx.public().to_vec()
}

impl Hello {
    /// The extensions, each as (type, encoded extension), in their order.
    fn extensions(&self) -> Vec<(u16, Vec<u8>)> {
        let g = self.grease;
        let mut versions = Vec::new();
        if let Some(g) = g {
            versions.push(grease(g[1]));
        }
        versions.push(0x0304);
        let mut groups: Vec<u16> = self.unknown_groups.iter().map(|(g, _)| *g).collect();
        let at = self.ours_at.min(groups.len());
        groups.insert(at, 0x001d);
        if let Some(g) = g {
            groups.insert(0, grease(g[2]));
        }
        // Shares in the order of the groups: unknown ones of their length
        // (none for length 0), GREASE with one byte, ours.
        let ours = x25519_public();
        let mut shares: Vec<(u16, Vec<u8>)> = Vec::new();
        for group in &groups {
            if *group == 0x001d {
                shares.push((0x001d, ours.clone()));
            } else if let Some((_, len)) = self.unknown_groups.iter().find(|(u, _)| u == group) {
                if *len > 0 {
                    shares.push((*group, vec![7u8; *len]));
                }
            } else {
                shares.push((*group, vec![0]));
            }
        }
        let mut key_share = Vec::new();
        for (group, key) in &shares {
            key_share.extend(group.to_be_bytes());
            key_share.extend(vec16(key));
        }
        let mut schemes = self.unknown_schemes.clone();
        if let Some(g) = g {
            schemes.insert(0, grease(g[3]));
        }
        schemes.push(0x0403);
        let mut out = vec![
            (
                43,
                ext(
                    43,
                    &[&[(versions.len() * 2) as u8][..], &u16s(&versions)].concat(),
                ),
            ),
            (10, ext(10, &vec16(&u16s(&groups)))),
            (13, ext(13, &vec16(&u16s(&schemes)))),
            (51, ext(51, &vec16(&key_share))),
        ];
        if self.sni {
            let mut entry = vec![0u8];
            entry.extend(vec16(b"localhost"));
            out.push((0, ext(0, &vec16(&entry))));
        }
        if self.alpn {
            out.push((
                16,
                ext(16, &vec16(&[&[2u8][..], b"h2", &[8], b"http/1.1"].concat())),
            ));
        }
        if let Some(l) = self.record_size_limit {
            out.push((28, ext(28, &l.to_be_bytes())));
        }
        if self.psk_modes {
            out.push((45, ext(45, &[1, 1])));
        }
        if let Some(p) = self.padding {
            out.push((21, ext(21, &vec![0; p])));
        }
        if let Some(g) = g {
            out.push((grease(g[4]), ext(grease(g[4]), &[])));
        }
        for (t, body) in &self.unknown {
            out.push((*t, ext(*t, body)));
        }
        // A deterministic shuffle from the seed.
        let mut x = self.order | 1;
        for i in (1..out.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.swap(i, (x % (i as u64 + 1)) as usize);
        }
        out
    }

    fn suites(&self) -> Vec<u16> {
        let mut s = vec![0x1302, 0x1301, 0x1303];
        if let Some(g) = self.grease {
            s.insert(0, grease(g[0]));
        }
        s
    }

    fn build(&self) -> Vec<u8> {
        let exts: Vec<u8> = self.extensions().into_iter().flat_map(|(_, e)| e).collect();
        client_hello_with(self.legacy_version, &self.suites(), &exts)
    }
}

/// How a fresh server answers `bytes`: its status or error, and what it sent.
fn serve(bytes: &[u8]) -> (Result<Status<()>, tlspair::Error>, Vec<u8>) {
    let sc: &'static _ = Box::leak(Box::new(p256_server_config()));
    let mut s = side(Connection::server(sc, tls::now()).unwrap());
    assert_eq!(s.bufs.recv.fill(bytes), bytes.len());
    let r = s.conn.handshake(&mut s.bufs);
    (r, s.bufs.send.pending().to_vec())
}

/// A single-field corruption, and the alert the table names for it.
#[derive(Clone, Copy, Debug)]
enum Corruption {
    DuplicateExtension,
    Ssl3LegacyVersion,
    NoSupportedVersions,
    ShareForUnlistedGroup,
    EmptyKeyExchange,
    BadServerName,
    ExtensionLengthOverrun,
}

impl Corruption {
    const ALL: [Corruption; 7] = [
        Corruption::DuplicateExtension,
        Corruption::Ssl3LegacyVersion,
        Corruption::NoSupportedVersions,
        Corruption::ShareForUnlistedGroup,
        Corruption::EmptyKeyExchange,
        Corruption::BadServerName,
        Corruption::ExtensionLengthOverrun,
    ];

    fn alert(self) -> AD {
        match self {
            Corruption::DuplicateExtension
            | Corruption::ShareForUnlistedGroup
            | Corruption::EmptyKeyExchange => AD::ILLEGAL_PARAMETER,
            Corruption::Ssl3LegacyVersion | Corruption::NoSupportedVersions => AD::PROTOCOL_VERSION,
            Corruption::BadServerName => AD::UNRECOGNIZED_NAME,
            Corruption::ExtensionLengthOverrun => AD::DECODE_ERROR,
        }
    }

    fn apply(self, h: &Hello) -> Vec<u8> {
        let mut exts = h.extensions();
        match self {
            Corruption::DuplicateExtension => {
                let copy = exts[0].clone();
                exts.push(copy);
            }
            Corruption::Ssl3LegacyVersion => {
                let bytes: Vec<u8> = exts.into_iter().flat_map(|(_, e)| e).collect();
                return client_hello_with(0x0300, &h.suites(), &bytes);
            }
            Corruption::NoSupportedVersions => exts.retain(|(t, _)| *t != 43),
            Corruption::ShareForUnlistedGroup | Corruption::EmptyKeyExchange => {
                let (group, key): (u16, Vec<u8>) = match self {
                    // secp521r1, never listed by the generator.
                    Corruption::ShareForUnlistedGroup => (0x0019, vec![4; 133]),
                    _ => (0x001d, vec![]),
                };
                let i = exts.iter().position(|(t, _)| *t == 51).unwrap();
                let mut list = group.to_be_bytes().to_vec();
                list.extend(vec16(&key));
                if matches!(self, Corruption::ShareForUnlistedGroup) {
                    // Keep ours as well: only the unlisted share is wrong.
                    list.extend(&exts[i].1[6..]);
                }
                exts[i].1 = ext(51, &vec16(&list));
            }
            Corruption::BadServerName => {
                exts.retain(|(t, _)| *t != 0);
                let mut entry = vec![0u8];
                entry.extend(vec16(b"bad_name.example"));
                exts.push((0, ext(0, &vec16(&entry))));
            }
            Corruption::ExtensionLengthOverrun => {
                // The last extension claims one byte more than the block has.
                let last = exts.last_mut().unwrap();
                let len = u16::from_be_bytes([last.1[2], last.1[3]]) + 1;
                last.1[2..4].copy_from_slice(&len.to_be_bytes());
            }
        }
        let bytes: Vec<u8> = exts.into_iter().flat_map(|(_, e)| e).collect();
        client_hello_with(h.legacy_version, &h.suites(), &bytes)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_generated_legal_client_hello_gets_a_server_hello(h in hello()) {
        let bytes = h.build();
        // One record holds at most 2^14 bytes; bigger ones are cut.
        prop_assume!(bytes.len() <= 16_384 + 5);
        let (r, sent) = serve(&bytes);
        prop_assert_eq!(r, Ok(Status::WantRead), "{:?}", h);
        prop_assert!(sent.len() > 43 && sent[0] == 22 && sent[5] == 2, "no ServerHello");
        prop_assert!(sent[11..43] != tlspair::handshake::messages::HRR_RANDOM, "a retry");
    }

    #[test]
    fn every_single_field_corruption_gets_its_documented_alert(
        h in hello(),
        which in 0..Corruption::ALL.len(),
    ) {
        let c = Corruption::ALL[which];
        let bytes = c.apply(&h);
        prop_assume!(bytes.len() <= 16_384 + 5);
        let (r, sent) = serve(&bytes);
        prop_assert!(r.is_err(), "{:?} accepted", c);
        prop_assert_eq!(sent, alert(c.alert()), "{:?} -> {:?}", c, r);
    }
}

/// Writes eight generated ClientHellos (bodies, as the `client_hello`
/// fuzz target takes them), four legal and four corrupted, into
/// fuzz/seeds/client_hello/generated-*: run with `--ignored` to make
/// them again. A fixed seed makes the same shapes every time (the X25519
/// share in them is fresh).
#[test]
#[ignore]
fn write_generated_fuzz_seeds() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/client_hello");
    let mut written = 0;
    while written < 8 {
        let h = hello().new_tree(&mut runner).unwrap().current();
        let record = if written < 4 {
            h.build()
        } else {
            Corruption::ALL[written % Corruption::ALL.len()].apply(&h)
        };
        if record.len() > 4096 {
            continue;
        }
        // The body: past the record header (5) and the message header (4).
        std::fs::write(dir.join(format!("generated-{written}")), &record[9..]).unwrap();
        written += 1;
    }
}
