//! Ephemeral key exchange with ring: X25519, secp256r1, secp384r1.

use ring::agreement;
use ring::rand::SecureRandom;

use crate::wire::NamedGroup;

/// Longest public value: an uncompressed P-384 point, 1 + 2 × 48 = 97.
pub const MAX_PUBLIC_LEN: usize = 97;

/// Longest shared secret: a P-384 x-coordinate, 48 bytes.
pub const MAX_SHARED_LEN: usize = 48;

/// The groups we implement, in our default preference order.
pub const SUPPORTED_GROUPS: [NamedGroup; 3] = [
    NamedGroup::X25519,
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
];

fn algorithm(group: NamedGroup) -> Option<&'static agreement::Algorithm> {
    match group {
        NamedGroup::X25519 => Some(&agreement::X25519),
        NamedGroup::SECP256R1 => Some(&agreement::ECDH_P256),
        NamedGroup::SECP384R1 => Some(&agreement::ECDH_P384),
        _ => None,
    }
}

/// Whether we implement `group`.
pub fn is_supported(group: NamedGroup) -> bool {
    algorithm(group).is_some()
}

/// One side's ephemeral key pair, waiting for the peer's share.
pub struct KeyExchange {
    group: NamedGroup,
    private: agreement::EphemeralPrivateKey,
    public: [u8; MAX_PUBLIC_LEN],
    public_len: usize,
}

impl core::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyExchange({:?})", self.group)
    }
}

/// The (EC)DHE shared secret, wiped on drop.
pub struct SharedSecret {
    bytes: [u8; MAX_SHARED_LEN],
    len: usize,
}

impl Drop for SharedSecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
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
}

impl KeyExchange {
    /// Generates a key pair for `group`; `None` if we do not implement it or
    /// the RNG fails.
    pub fn start(group: NamedGroup, rng: &dyn SecureRandom) -> Option<Self> {
        let alg = algorithm(group)?;
        let private = agreement::EphemeralPrivateKey::generate(alg, rng).ok()?;
        let pk = private.compute_public_key().ok()?;
        let mut public = [0u8; MAX_PUBLIC_LEN];
        let src = pk.as_ref();
        public.get_mut(..src.len())?.copy_from_slice(src);
        Some(Self {
            group,
            private,
            public,
            public_len: src.len(),
        })
    }

    /// The group.
    pub fn group(&self) -> NamedGroup {
        self.group
    }

    /// Our public value, as sent in key_share.
    pub fn public(&self) -> &[u8] {
        self.public.get(..self.public_len).unwrap_or(&[])
    }

    /// Completes the exchange with the peer's public value. `None` if the
    /// value is not a valid point for the group, or (X25519) the result is
    /// all zeros (RFC 8446 §7.4.2): both `illegal_parameter`.
    pub fn complete(self, peer: &[u8]) -> Option<SharedSecret> {
        let alg = algorithm(self.group)?;
        let peer = agreement::UnparsedPublicKey::new(alg, peer);
        agreement::agree_ephemeral(self.private, &peer, |shared| {
            let mut out = SharedSecret {
                bytes: [0; MAX_SHARED_LEN],
                len: shared.len().min(MAX_SHARED_LEN),
            };
            crate::codec::copy_prefix(&mut out.bytes, shared, out.len);
            out
        })
        .ok()
        .filter(|s| !all_zero(s.as_bytes()))
    }
}
