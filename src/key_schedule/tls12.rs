//! The TLS 1.2 key schedule (RFC 5246 §5, §6.3, §7.4.9; RFC 7627): the
//! PRF, the master secret with the extended master secret and without
//! it, the key block and Finished's verify_data.
//!
//! `handshake::tls12` uses it. Like the TLS 1.3 schedule it
//! writes into buffers its caller owns and keeps the master secret as a
//! [`Secret`], wiped when dropped; ring's HMAC state is not (see
//! docs/security.md, "What is wiped").

use ring::hmac;

use super::Secret;
use crate::error::Error;

/// The length of a TLS 1.2 master secret (RFC 5246 §8.1).
pub const MASTER_SECRET_LEN: usize = 48;

/// The length of Finished's verify_data for every suite we implement
/// (RFC 5246 §7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;

/// The PRF's hash: SHA-256 for every suite we implement, SHA-384 for the
/// `_SHA384` suites (RFC 5246 §5, RFC 5288 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrfHash {
    /// P_SHA256.
    Sha256,
    /// P_SHA384.
    Sha384,
}

impl PrfHash {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// `PRF(secret, label, seed)` into all of `out` (RFC 5246 §5): P_hash over
/// `label || seed`, the seed given in parts so that no caller concatenates
/// into a buffer of its own.
///
/// ```text
/// A(0) = label || seed
/// A(i) = HMAC(secret, A(i-1))
/// P_hash = HMAC(secret, A(1) || label || seed) || HMAC(secret, A(2) || label || seed) || ...
/// ```
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let key = hmac::Key::new(hash.hmac(), secret);
    // A(i) and each output block are secret: they are copied out of
    // ring's tags (which this crate cannot wipe) into buffers that wipe
    // themselves, at once.
    let mut a = zeroize::Zeroizing::new([0u8; 48]);
    let mut block = zeroize::Zeroizing::new([0u8; 48]);
    let a_len = {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(label);
        seed.iter().for_each(|s| ctx.update(s));
        copy_tag(&mut a, ctx.sign())
    };
    let mut rest = out;
    while !rest.is_empty() {
        let a_now = a.get(..a_len).unwrap_or(&[]);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a_now);
        ctx.update(label);
        seed.iter().for_each(|s| ctx.update(s));
        let block_len = copy_tag(&mut block, ctx.sign());
        let n = rest.len().min(block_len);
        crate::codec::copy_prefix(rest, &block[..], n);
        rest = rest.get_mut(n..).unwrap_or(&mut []);
        let next = hmac::sign(&key, a_now);
        copy_tag(&mut a, next);
    }
}

/// Copies a tag (at most 48 bytes, SHA-384's) into `to`; its length.
fn copy_tag(to: &mut [u8; 48], tag: hmac::Tag) -> usize {
    let tag = tag.as_ref();
    let n = tag.len().min(to.len());
    crate::codec::copy_prefix(to, tag, n);
    n
}

/// A TLS 1.2 master secret.
pub struct MasterSecret(Secret);

/// The error of a derivation that cannot fail with 48-byte secrets.
const DERIVATION: Error = Error::Internal("TLS 1.2 key derivation");

impl MasterSecret {
    fn from_prf(hash: PrfHash, pms: &[u8], label: &[u8], seed: &[&[u8]]) -> Result<Self, Error> {
        let mut bytes = zeroize::Zeroizing::new([0u8; MASTER_SECRET_LEN]);
        prf(hash, pms, label, seed, &mut bytes[..]);
        Ok(Self(Secret::new(&bytes[..]).ok_or(DERIVATION)?))
    }

    /// The extended master secret (RFC 7627 §4): `PRF(pre_master_secret,
    /// "extended master secret", session_hash)`, the session hash being the
    /// transcript through ClientKeyExchange.
    pub fn extended(hash: PrfHash, pms: &[u8], session_hash: &[u8]) -> Result<Self, Error> {
        Self::from_prf(hash, pms, b"extended master secret", &[session_hash])
    }

    /// The master secret without the extension (RFC 5246 §8.1):
    /// `PRF(pre_master_secret, "master secret", ClientHello.random ||
    /// ServerHello.random)`. Only for peers the configuration lets go
    /// without the extended master secret.
    pub fn legacy(
        hash: PrfHash,
        pms: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<Self, Error> {
        Self::from_prf(hash, pms, b"master secret", &[client_random, server_random])
    }

    /// A master secret kept from an earlier session (a TLS 1.2 ticket's);
    /// `None` unless it is 48 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == MASTER_SECRET_LEN).then(|| Secret::new(bytes).map(Self))?
    }

    /// The secret's bytes (for the exporter and key log lines).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The key block into all of `out` (RFC 5246 §6.3): `PRF(master_secret,
    /// "key expansion", server_random || client_random)`, cut by the
    /// caller into keys and IVs.
    pub fn key_block(
        &self,
        hash: PrfHash,
        server_random: &[u8; 32],
        client_random: &[u8; 32],
        out: &mut [u8],
    ) {
        prf(
            hash,
            self.as_bytes(),
            b"key expansion",
            &[server_random, client_random],
            out,
        );
    }

    /// Finished's verify_data (RFC 5246 §7.4.9): `PRF(master_secret,
    /// finished_label, Hash(handshake_messages))` cut to 12 bytes, the
    /// label "client finished" or "server finished".
    pub fn verify_data(
        &self,
        hash: PrfHash,
        client: bool,
        handshake_hash: &[u8],
    ) -> [u8; VERIFY_DATA_LEN] {
        let label: &[u8] = if client {
            b"client finished"
        } else {
            b"server finished"
        };
        let mut out = [0u8; VERIFY_DATA_LEN];
        prf(hash, self.as_bytes(), label, &[handshake_hash], &mut out);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    /// Published vectors, provenance in the file.
    const VECTORS: &str = include_str!("../../tests/data/tls12-prf.txt");

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hash(name: &str) -> PrfHash {
        match name {
            "sha256" => PrfHash::Sha256,
            "sha384" => PrfHash::Sha384,
            other => panic!("hash {other}"),
        }
    }

    /// The records of `kind`: the hash, then the fields (tcIds kept as
    /// text).
    fn records(kind: &str) -> Vec<(PrfHash, Vec<String>)> {
        VECTORS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split(' ');
                (f.next()? == kind)
                    .then(|| (hash(f.next().unwrap()), f.map(String::from).collect()))
            })
            .collect()
    }

    fn random(hex: &str) -> [u8; 32] {
        unhex(hex).try_into().expect("a 32-byte random")
    }

    #[test]
    fn the_prf_gives_the_published_outputs() {
        let prfs = records("prf");
        assert!(prfs.iter().any(|(h, _)| *h == PrfHash::Sha256));
        assert!(prfs.iter().any(|(h, _)| *h == PrfHash::Sha384));
        for (h, f) in prfs {
            let [secret, label, seed, want] = &f[..] else {
                panic!("prf record")
            };
            let want = unhex(want);
            let mut out = std::vec![0u8; want.len()];
            prf(h, &unhex(secret), &unhex(label), &[&unhex(seed)], &mut out);
            assert_eq!(out, want, "{h:?}");
            // The seed in parts gives the same.
            let seed = unhex(seed);
            let (a, b) = seed.split_at(seed.len() / 2);
            let mut parts = std::vec![0u8; want.len()];
            prf(h, &unhex(secret), &unhex(label), &[a, b], &mut parts);
            assert_eq!(parts, want);
        }
    }

    #[test]
    fn the_extended_master_secret_and_key_block_are_nists() {
        let ems = records("ems");
        assert!(ems.iter().any(|(h, _)| *h == PrfHash::Sha256));
        assert!(ems.iter().any(|(h, _)| *h == PrfHash::Sha384));
        for (h, f) in ems {
            let [id, pms, session_hash, client_random, server_random, master, key_block] = &f[..]
            else {
                panic!("ems record")
            };
            let m = MasterSecret::extended(h, &unhex(pms), &unhex(session_hash)).unwrap();
            assert_eq!(m.as_bytes(), &unhex(master)[..], "ems {h:?} {id}");
            let want = unhex(key_block);
            let mut out = std::vec![0u8; want.len()];
            m.key_block(h, &random(server_random), &random(client_random), &mut out);
            assert_eq!(out, want, "key block {h:?} {id}");
        }
    }

    /// ACVP's cases of the plain KDF give the hello randoms (for the master
    /// secret) and the key block's randoms as separate values; in a
    /// handshake they are the same two.
    #[test]
    fn the_master_secret_without_the_extension_and_its_key_block_are_nists() {
        let kdf = records("kdf");
        assert!(kdf.iter().any(|(h, _)| *h == PrfHash::Sha256));
        assert!(kdf.iter().any(|(h, _)| *h == PrfHash::Sha384));
        for (h, f) in kdf {
            let [id, pms, client_hello, server_hello, client_random, server_random, master, key_block] =
                &f[..]
            else {
                panic!("kdf record")
            };
            let m =
                MasterSecret::legacy(h, &unhex(pms), &random(client_hello), &random(server_hello))
                    .unwrap();
            assert_eq!(m.as_bytes(), &unhex(master)[..], "kdf {h:?} {id}");
            let want = unhex(key_block);
            let mut out = std::vec![0u8; want.len()];
            m.key_block(h, &random(server_random), &random(client_random), &mut out);
            assert_eq!(out, want, "key block {h:?} {id}");
        }
    }

    /// verify_data is the PRF cut to 12 bytes under the Finished labels:
    /// checked against the PRF itself, and the two labels differ.
    #[test]
    fn verify_data_is_the_prf_under_the_finished_labels() {
        let m = MasterSecret::extended(PrfHash::Sha256, &[7; 48], &[9; 32]).unwrap();
        let hash = [0x5a; 32];
        let mut want = [0u8; 12];
        prf(
            PrfHash::Sha256,
            m.as_bytes(),
            b"client finished",
            &[&hash],
            &mut want,
        );
        assert_eq!(m.verify_data(PrfHash::Sha256, true, &hash), want);
        assert_ne!(
            m.verify_data(PrfHash::Sha256, true, &hash),
            m.verify_data(PrfHash::Sha256, false, &hash)
        );
    }
}
