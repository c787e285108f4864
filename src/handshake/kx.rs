//! Ephemeral key exchange: X25519, secp256r1 and secp384r1 with ring, and
//! the hybrids of draft-ietf-tls-ecdhe-mlkem, X25519MLKEM768 and
//! SecP256r1MLKEM768, whose ML-KEM-768 half (FIPS 203) is RustCrypto's
//! `ml-kem`.
//!
//! A hybrid share is the two halves' shares concatenated, and its shared
//! secret the two secrets: ML-KEM first for X25519MLKEM768, ECDH first for
//! SecP256r1MLKEM768. The client sends an ML-KEM encapsulation key (1,184
//! bytes), the server answers with a ciphertext (1,088 bytes) made against
//! it.
//!
//! Memory: a client keeps the 64-byte seed (d, z) of its ML-KEM key pair,
//! not the decapsulation key; the key pair is derived from it when the
//! ClientHello is written and again when the server's share arrives (FIPS
//! 203 §6.1: ML-KEM.KeyGen_internal is deterministic). The derived keys
//! live on the stack for the length of one call, the decapsulation key
//! wiping itself when it goes (where it is dropped: a copy left behind
//! when the compiler moves it, and `ml-kem`'s own intermediate values,
//! are not wiped; docs/security.md, "What is wiped").

use ring::agreement;
use ring::rand::SecureRandom;
use zeroize::{Zeroize, Zeroizing};

use crate::wire::NamedGroup;

/// Longest classical public value: an uncompressed P-384 point,
/// 1 + 2 × 48 = 97.
pub const MAX_PUBLIC_LEN: usize = 97;

/// Longest shared secret: a hybrid's, 32 + 32 = 64 bytes (a P-384
/// x-coordinate is 48).
pub const MAX_SHARED_LEN: usize = 64;

/// An ML-KEM-768 encapsulation key (FIPS 203, k = 3): 384k + 32.
pub const MLKEM768_PUBLIC_LEN: usize = 1184;

/// An ML-KEM-768 ciphertext: 32(d_u k + d_v) = 32 (10 × 3 + 4).
pub const MLKEM768_CIPHERTEXT_LEN: usize = 1088;

/// Longest share either side sends: a SecP256r1MLKEM768 client share,
/// 65 + 1,184.
pub const MAX_SHARE_LEN: usize = 65 + MLKEM768_PUBLIC_LEN;

/// The default `groups` of both configurations, in preference order:
/// X25519MLKEM768 first (a client sends its share and an X25519 share
/// beside it, with one X25519 key, as browsers do), then the classical
/// groups. SecP256r1MLKEM768 is implemented but not listed by default.
pub const DEFAULT_GROUPS: [NamedGroup; 4] = [
    NamedGroup::X25519MLKEM768,
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

/// The default groups before X25519MLKEM768 became the default.
#[deprecated(note = "the default is DEFAULT_GROUPS; the classical ones are CLASSICAL_GROUPS")]
pub const SUPPORTED_GROUPS: [NamedGroup; 3] = CLASSICAL_GROUPS;

/// The classical groups, in our preference order: for a configuration
/// that does without ML-KEM (`config.groups = &CLASSICAL_GROUPS`).
pub const CLASSICAL_GROUPS: [NamedGroup; 3] = [
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

/// Every group we implement.
pub const ALL_GROUPS: [NamedGroup; 5] = [
    NamedGroup::X25519MLKEM768,
    NamedGroup::SECP256R1MLKEM768,
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

/// How a group's share and secret are made of a classical (ECDH) half and,
/// for a hybrid, an ML-KEM-768 half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    classical: &'static agreement::Algorithm,
    /// The classical group, as a group of its own.
    classical_group: NamedGroup,
    /// Length of the classical public value.
    classical_len: usize,
    /// ML-KEM-768 half: `Some(true)` when it comes first, `Some(false)`
    /// after the classical half, `None` for a classical group.
    mlkem_first: Option<bool>,
}

fn shape(group: NamedGroup) -> Option<Shape> {
    let classical = |alg, group, len| Shape {
        classical: alg,
        classical_group: group,
        classical_len: len,
        mlkem_first: None,
    };
    Some(match group {
        NamedGroup::X25519 => classical(&agreement::X25519, group, 32),
        NamedGroup::SECP256R1 => classical(&agreement::ECDH_P256, group, 65),
        NamedGroup::SECP384R1 => classical(&agreement::ECDH_P384, group, 97),
        NamedGroup::X25519MLKEM768 => Shape {
            mlkem_first: Some(true),
            ..classical(&agreement::X25519, NamedGroup::X25519, 32)
        },
        NamedGroup::SECP256R1MLKEM768 => Shape {
            mlkem_first: Some(false),
            ..classical(&agreement::ECDH_P256, NamedGroup::SECP256R1, 65)
        },
        _ => return None,
    })
}

/// Whether we implement `group`.
pub fn is_supported(group: NamedGroup) -> bool {
    shape(group).is_some()
}

/// Whether `group` is one of the hybrids with ML-KEM.
pub fn is_hybrid(group: NamedGroup) -> bool {
    shape(group).is_some_and(|s| s.mlkem_first.is_some())
}

/// The classical group inside `group` (itself for a classical group).
pub fn classical_group(group: NamedGroup) -> Option<NamedGroup> {
    shape(group).map(|s| s.classical_group)
}

/// Length of a client's share for `group`.
pub fn client_share_len(group: NamedGroup) -> Option<usize> {
    let s = shape(group)?;
    let mlkem = if s.mlkem_first.is_some() {
        MLKEM768_PUBLIC_LEN
    } else {
        0
    };
    s.classical_len.checked_add(mlkem)
}

/// Length of a server's share for `group`.
pub fn server_share_len(group: NamedGroup) -> Option<usize> {
    let s = shape(group)?;
    let mlkem = if s.mlkem_first.is_some() {
        MLKEM768_CIPHERTEXT_LEN
    } else {
        0
    };
    s.classical_len.checked_add(mlkem)
}

/// Splits a hybrid value into (ML-KEM part, classical part) by the
/// group's order and lengths; `None` if its length is not exactly theirs.
fn split(value: &[u8], shape: Shape, mlkem_len: usize) -> Option<(&[u8], &[u8])> {
    if value.len() != mlkem_len.checked_add(shape.classical_len)? {
        return None;
    }
    Some(if shape.mlkem_first == Some(true) {
        let (m, c) = value.split_at_checked(mlkem_len)?;
        (m, c)
    } else {
        let (c, m) = value.split_at_checked(shape.classical_len)?;
        (m, c)
    })
}

/// One side's ephemeral key pair, waiting for the peer's share. For a
/// hybrid, the classical key pair and the seed of the ML-KEM one.
pub struct KeyExchange {
    group: NamedGroup,
    private: agreement::EphemeralPrivateKey,
    public: [u8; MAX_PUBLIC_LEN],
    public_len: usize,
    /// The ML-KEM-768 seed (d, z), for a hybrid.
    mlkem_seed: Option<Zeroizing<[u8; 64]>>,
}

impl core::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyExchange({:?})", self.group)
    }
}

/// The shared secret, wiped on drop.
pub struct SharedSecret {
    bytes: [u8; MAX_SHARED_LEN],
    len: usize,
}

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for SharedSecret {}

/// Whether `bytes` are all zero, in time that depends on their length
/// only (the bytes are a secret).
fn all_zero(bytes: &[u8]) -> bool {
    let acc = bytes
        .iter()
        .fold(0u8, |acc, &b| acc | core::hint::black_box(b));
    core::hint::black_box(acc) == 0
}

impl SharedSecret {
    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    fn empty() -> Self {
        Self {
            bytes: [0; MAX_SHARED_LEN],
            len: 0,
        }
    }

    /// Appends `part` (the secret is at most [`MAX_SHARED_LEN`]).
    fn push(&mut self, part: &[u8]) -> Option<()> {
        let end = self.len.checked_add(part.len())?;
        self.bytes.get_mut(self.len..end)?.copy_from_slice(part);
        self.len = end;
        Some(())
    }
}

type MlKem = ml_kem::MlKem768;
type DecapsulationKey = <MlKem as ml_kem::KemCore>::DecapsulationKey;
type EncapsulationKey = <MlKem as ml_kem::KemCore>::EncapsulationKey;

/// An ML-KEM-768 key pair derived from `seed` (d, z); the decapsulation
/// key (which holds the encapsulation key) wipes itself when it goes.
struct MlKemPair {
    dk: DecapsulationKey,
}

/// `bytes` as ML-KEM's 32-byte array, for `f`; the copy is wiped after.
fn with_b32<R>(bytes: &[u8], f: impl FnOnce(&ml_kem::B32) -> R) -> Option<R> {
    let mut b = ml_kem::B32::try_from(bytes).ok()?;
    let r = f(&b);
    b.as_mut_slice().zeroize();
    Some(r)
}

impl MlKemPair {
    fn derive(seed: &[u8; 64]) -> Option<Self> {
        use ml_kem::KemCore;
        let (d, z) = seed.split_at(32);
        let (dk, _) = with_b32(d, |d| with_b32(z, |z| MlKem::generate_deterministic(d, z)))??;
        Some(Self { dk })
    }

    /// The encapsulation key, encoded.
    fn public(&self) -> ml_kem::Encoded<EncapsulationKey> {
        use ml_kem::EncodedSizeUser;
        self.dk.encapsulation_key().as_bytes()
    }

    fn decapsulate(&self, ciphertext: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
        use ml_kem::kem::Decapsulate;
        let ct = ml_kem::Ciphertext::<MlKem>::try_from(ciphertext).ok()?;
        let mut ss = self.dk.decapsulate(&ct).ok()?;
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&ss);
        ss.zeroize();
        Some(out)
    }
}

/// FIPS 203 §7.2, the modulus check: every 12-bit coefficient of the
/// encoded vector (the key's first 1,152 bytes) is below q = 3,329, so
/// decoding and encoding again gives the same bytes.
fn ml_kem_key_is_valid(ek: &[u8]) -> bool {
    const Q: u16 = 3329;
    let Some(vector) = ek.get(..MLKEM768_PUBLIC_LEN.saturating_sub(32)) else {
        return false;
    };
    vector.chunks_exact(3).all(|b| {
        let (b0, b1, b2) = match *b {
            [b0, b1, b2] => (u16::from(b0), u16::from(b1), u16::from(b2)),
            _ => return false,
        };
        let low = b0 | ((b1 & 0x0f) << 8);
        let high = (b1 >> 4) | (b2 << 4);
        low < Q && high < Q
    })
}

impl KeyExchange {
    /// Generates a key pair for `group` (for a hybrid, the classical key
    /// pair and an ML-KEM seed); `None` if we do not implement it or the
    /// RNG fails.
    pub fn start(group: NamedGroup, rng: &dyn SecureRandom) -> Option<Self> {
        let shape = shape(group)?;
        let private = agreement::EphemeralPrivateKey::generate(shape.classical, rng).ok()?;
        let pk = private.compute_public_key().ok()?;
        let mut public = [0u8; MAX_PUBLIC_LEN];
        let src = pk.as_ref();
        public.get_mut(..src.len())?.copy_from_slice(src);
        let mlkem_seed = match shape.mlkem_first {
            Some(_) => {
                let mut seed = Zeroizing::new([0u8; 64]);
                rng.fill(&mut seed[..]).ok()?;
                Some(seed)
            }
            None => None,
        };
        Some(Self {
            group,
            private,
            public,
            public_len: src.len(),
            mlkem_seed,
        })
    }

    /// The group.
    pub fn group(&self) -> NamedGroup {
        self.group
    }

    /// The classical public value: the whole share of a classical group,
    /// the classical half of a hybrid's ([`write_share`](Self::write_share)
    /// writes a whole hybrid share).
    pub fn public(&self) -> &[u8] {
        self.public.get(..self.public_len).unwrap_or(&[])
    }

    /// Completes the exchange with the peer's share for our own group, as
    /// [`complete_for`](Self::complete_for).
    pub fn complete(self, peer: &[u8]) -> Option<SharedSecret> {
        let group = self.group;
        self.complete_for(group, peer)
    }

    /// The private key alone, once its public value is out: all a TLS
    /// 1.2 server's renegotiation keeps for the ClientKeyExchange. `None`
    /// for a hybrid (TLS 1.2 has none).
    pub fn into_classical(self) -> Option<agreement::EphemeralPrivateKey> {
        match self.mlkem_seed {
            None => Some(self.private),
            Some(_) => None,
        }
    }

    /// Writes our whole share for our group into `out` (at least
    /// [`client_share_len`] bytes) and returns its length.
    pub fn write_share(&self, out: &mut [u8]) -> Option<usize> {
        let shape = shape(self.group)?;
        let classical = self.public();
        let Some(seed) = self.mlkem_seed.as_ref() else {
            out.get_mut(..classical.len())?.copy_from_slice(classical);
            return Some(classical.len());
        };
        let pair = MlKemPair::derive(seed)?;
        let ek = pair.public();
        let first = shape.mlkem_first?;
        let (a, b) = if first {
            (&ek[..], classical)
        } else {
            (classical, &ek[..])
        };
        let len = a.len().checked_add(b.len())?;
        let out = out.get_mut(..len)?;
        let (head, tail) = out.split_at_mut(a.len());
        head.copy_from_slice(a);
        tail.copy_from_slice(b);
        Some(len)
    }

    /// Completes the exchange with the server's share for `group`: our
    /// group, or (a client that sent a hybrid share and its classical
    /// half as a share of its own) the classical half's group. `None` if
    /// the share has the wrong length or is not a valid point, or
    /// (X25519) the classical result is all zeros (RFC 8446 §7.4.2): all
    /// `illegal_parameter`.
    pub fn complete_for(self, group: NamedGroup, peer: &[u8]) -> Option<SharedSecret> {
        let ours = shape(self.group)?;
        if group == ours.classical_group && group != self.group {
            // The server took the classical share we sent beside the
            // hybrid: the same key.
            return agree(self.private, ours.classical, peer);
        }
        if group != self.group {
            return None;
        }
        let Some(seed) = self.mlkem_seed.as_ref() else {
            return agree(self.private, ours.classical, peer);
        };
        let (ct, classical) = split(peer, ours, MLKEM768_CIPHERTEXT_LEN)?;
        let mlkem = MlKemPair::derive(seed)?.decapsulate(ct)?;
        let ecdh = agree(self.private, ours.classical, classical)?;
        combine(ours, &mlkem[..], ecdh.as_bytes())
    }
}

/// The classical agreement of a key kept by
/// [`into_classical`](KeyExchange::into_classical) with the peer's
/// public value, validated as [`KeyExchange::complete`] does.
pub fn agree_classical(
    private: agreement::EphemeralPrivateKey,
    peer: &[u8],
) -> Option<SharedSecret> {
    let alg = private.algorithm();
    agree(private, alg, peer)
}

/// The classical agreement with the peer's public value.
fn agree(
    private: agreement::EphemeralPrivateKey,
    alg: &'static agreement::Algorithm,
    peer: &[u8],
) -> Option<SharedSecret> {
    let peer = agreement::UnparsedPublicKey::new(alg, peer);
    agreement::agree_ephemeral(private, &peer, |shared| {
        let mut out = SharedSecret::empty();
        out.push(shared).map(|()| out)
    })
    .ok()
    .flatten()
    .filter(|s| !all_zero(s.as_bytes()))
}

/// The hybrid secret: the two in the group's order.
fn combine(shape: Shape, mlkem: &[u8], ecdh: &[u8]) -> Option<SharedSecret> {
    let mut out = SharedSecret::empty();
    if shape.mlkem_first == Some(true) {
        out.push(mlkem)?;
        out.push(ecdh)?;
    } else {
        out.push(ecdh)?;
        out.push(mlkem)?;
    }
    Some(out)
}

/// The server's side: answers the client's `share` for `group` with our
/// share, written into `out` (at least [`server_share_len`] bytes), and
/// the shared secret. `Err(true)` for a share that is not valid for the
/// group (wrong length, a point not on the curve, an ML-KEM key that
/// fails the FIPS 203 §7.2 modulus check, an all-zero X25519 result:
/// `illegal_parameter`), `Err(false)` when the RNG fails.
pub fn respond(
    group: NamedGroup,
    share: &[u8],
    rng: &dyn SecureRandom,
    out: &mut [u8],
) -> Result<(usize, SharedSecret), bool> {
    let shape = shape(group).ok_or(true)?;
    let private =
        agreement::EphemeralPrivateKey::generate(shape.classical, rng).map_err(|_| false)?;
    let ours = private.compute_public_key().map_err(|_| false)?;
    let ours = ours.as_ref();
    if shape.mlkem_first.is_none() {
        let secret = agree(private, shape.classical, share).ok_or(true)?;
        let dst = out.get_mut(..ours.len()).ok_or(false)?;
        dst.copy_from_slice(ours);
        return Ok((ours.len(), secret));
    }
    let (ek, classical) = split(share, shape, MLKEM768_PUBLIC_LEN).ok_or(true)?;
    if !ml_kem_key_is_valid(ek) {
        return Err(true);
    }
    // The classical half first: a bad point is refused before the ML-KEM
    // work, and no ML-KEM secret is made for a share we refuse.
    let ecdh = agree(private, shape.classical, classical).ok_or(true)?;
    let ek = {
        use ml_kem::EncodedSizeUser;
        let encoded = ml_kem::Encoded::<EncapsulationKey>::try_from(ek).map_err(|_| true)?;
        EncapsulationKey::from_bytes(&encoded)
    };
    let mut m = Zeroizing::new([0u8; 32]);
    rng.fill(&mut m[..]).map_err(|_| false)?;
    let (ct, mut ss) = {
        use ml_kem::EncapsulateDeterministic;
        with_b32(&m[..], |m| ek.encapsulate_deterministic(m))
            .ok_or(false)?
            .map_err(|_| false)?
    };
    let secret = combine(shape, &ss, ecdh.as_bytes());
    ss.zeroize();
    let secret = secret.ok_or(false)?;
    let (a, b) = if shape.mlkem_first == Some(true) {
        (&ct[..], ours)
    } else {
        (ours, &ct[..])
    };
    let len = a.len().checked_add(b.len()).ok_or(false)?;
    let dst = out.get_mut(..len).ok_or(false)?;
    let (head, tail) = dst.split_at_mut(a.len());
    head.copy_from_slice(a);
    tail.copy_from_slice(b);
    Ok((len, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_ciphertexts_have_the_draft_lengths() {
        assert_eq!(client_share_len(NamedGroup::X25519MLKEM768), Some(1216));
        assert_eq!(server_share_len(NamedGroup::X25519MLKEM768), Some(1120));
        assert_eq!(client_share_len(NamedGroup::SECP256R1MLKEM768), Some(1249));
        assert_eq!(server_share_len(NamedGroup::SECP256R1MLKEM768), Some(1153));
        assert_eq!(client_share_len(NamedGroup::X25519), Some(32));
        assert_eq!(MAX_SHARE_LEN, 1249);
    }
}
