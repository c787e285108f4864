//! The peer's certificate chain, kept after the handshake where the
//! embedder asked (`Connection::keep_peer_chain`): in storage it lends, or
//! (feature `alloc`) in a `Vec` the connection grows.
//!
//! Kept as the DER certificates, each after a 3-byte length, in the order
//! the peer sent them: the end-entity certificate first.

use crate::verify::CertificateDer;

/// Where a connection keeps the peer's certificate chain
/// ([`Connection::keep_peer_chain`](super::Connection::keep_peer_chain)),
/// or the messages of a TLS 1.2 handshake with client authentication
/// ([`Connection::keep_tls12_transcript`](super::Connection::keep_tls12_transcript)).
#[non_exhaustive]
pub enum ChainStorage<'a> {
    /// Storage the embedder lends. A chain that does not fit is not kept
    /// ([`Connection::peer_chain_needed`](super::Connection::peer_chain_needed)
    /// tells how much it needed); the handshake goes on.
    Lent(&'a mut [u8]),
    /// A vector the connection grows to fit the chain (at most the
    /// Certificate message, itself bounded by the configuration's
    /// `max_handshake_message`).
    /// An allocation that fails keeps nothing, as a short loan would.
    #[cfg(feature = "alloc")]
    Owned(alloc::vec::Vec<u8>),
}

impl<'a> From<&'a mut [u8]> for ChainStorage<'a> {
    fn from(storage: &'a mut [u8]) -> Self {
        Self::Lent(storage)
    }
}

#[cfg(feature = "alloc")]
impl From<alloc::vec::Vec<u8>> for ChainStorage<'_> {
    fn from(storage: alloc::vec::Vec<u8>) -> Self {
        Self::Owned(storage)
    }
}

impl core::fmt::Debug for ChainStorage<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Lent(s) => write!(f, "Lent({} bytes)", s.len()),
            #[cfg(feature = "alloc")]
            Self::Owned(v) => write!(f, "Owned({} bytes)", v.len()),
        }
    }
}

/// A connection's chain storage and what it holds.
#[derive(Debug, Default)]
pub(crate) struct ChainStore<'a> {
    storage: Option<ChainStorage<'a>>,
    /// Bytes of the kept chain (0: none kept).
    len: u32,
    /// What the last chain needed when it was not kept.
    needed: u32,
}

/// Bytes a chain takes kept: each certificate and its 3-byte length.
fn kept_len(chain: &[CertificateDer<'_>]) -> usize {
    chain
        .iter()
        .fold(0usize, |n, c| n.saturating_add(3).saturating_add(c.len()))
}

/// What the handshake sees of the store: a place to put the verified chain.
pub(crate) trait KeepChain {
    /// Keeps `chain` (verified) if there is storage and room for it.
    fn keep(&mut self, chain: &[CertificateDer<'_>]);
}

impl KeepChain for ChainStore<'_> {
    fn keep(&mut self, chain: &[CertificateDer<'_>]) {
        self.len = 0;
        self.needed = 0;
        let need = kept_len(chain);
        let Some(storage) = self.storage.as_mut() else {
            return;
        };
        // A chain came in one handshake message: fewer than 2^24 bytes.
        let need32 = u32::try_from(need).unwrap_or(u32::MAX);
        // Without `alloc` there is one kind of storage.
        #[allow(clippy::infallible_destructuring_match)]
        let dst: &mut [u8] = match storage {
            ChainStorage::Lent(s) => s,
            #[cfg(feature = "alloc")]
            ChainStorage::Owned(v) => {
                v.clear();
                if v.try_reserve(need).is_err() {
                    self.needed = need32;
                    return;
                }
                v.resize(need, 0);
                v
            }
        };
        let Some(dst) = dst.get_mut(..need) else {
            self.needed = need32;
            return;
        };
        let mut rest = dst;
        for cert in chain {
            // Fewer than 2^24 bytes (checked when it was parsed).
            let len = u32::try_from(cert.len()).unwrap_or(u32::MAX).to_be_bytes();
            let (head, tail) = rest.split_at_mut(3.min(rest.len()));
            let (body, tail) = tail.split_at_mut(cert.len().min(tail.len()));
            if head.len() != 3 || body.len() != cert.len() {
                self.needed = need32;
                return;
            }
            head.copy_from_slice(len.get(len.len().saturating_sub(3)..).unwrap_or(&[0; 3]));
            body.copy_from_slice(cert);
            rest = tail;
        }
        self.len = need32;
    }
}

impl<'a> ChainStore<'a> {
    /// Puts `storage` in place; the storage it replaces comes back.
    pub(crate) fn set(&mut self, storage: ChainStorage<'a>) -> Option<ChainStorage<'a>> {
        let old = self.take();
        self.storage = Some(storage);
        old
    }

    /// The storage, emptied: a kept chain is wiped from it, so nothing
    /// reads a chain out of storage taken back from a connection that
    /// may not have completed.
    pub(crate) fn take(&mut self) -> Option<ChainStorage<'a>> {
        let kept = usize::try_from(self.len).unwrap_or(usize::MAX);
        let mut storage = self.storage.take();
        *self = Self::default();
        match storage.as_mut() {
            Some(ChainStorage::Lent(s)) => {
                let n = kept.min(s.len());
                s.get_mut(..n).unwrap_or(&mut []).fill(0);
            }
            #[cfg(feature = "alloc")]
            Some(ChainStorage::Owned(v)) => {
                // Zeroed, then emptied: the chain's bytes are not handed
                // back (a connection dropped with the storage still in it
                // does not wipe it: a chain is not a secret).
                v.fill(0);
                v.clear();
            }
            None => {}
        }
        storage
    }

    /// The kept chain, if one was.
    pub(crate) fn chain(&self) -> Option<PeerChain<'_>> {
        let kept = usize::try_from(self.len).ok().filter(|&n| n > 0)?;
        // Without `alloc` there is one kind of storage.
        #[allow(clippy::infallible_destructuring_match)]
        let bytes: &[u8] = match self.storage.as_ref()? {
            ChainStorage::Lent(s) => s,
            #[cfg(feature = "alloc")]
            ChainStorage::Owned(v) => v,
        };
        Some(PeerChain {
            rest: bytes.get(..kept)?,
        })
    }

    pub(crate) fn needed(&self) -> Option<usize> {
        usize::try_from(self.needed).ok().filter(|&n| n > 0)
    }
}

/// The peer's verified certificate chain, borrowed from the connection's
/// chain storage: an iterator over the DER certificates, the end-entity
/// certificate first, as the peer sent them.
#[derive(Clone, Debug)]
pub struct PeerChain<'c> {
    rest: &'c [u8],
}

impl<'c> PeerChain<'c> {
    /// The end-entity certificate (DER).
    pub fn end_entity(&self) -> Option<&'c [u8]> {
        self.clone().next()
    }
}

impl<'c> Iterator for PeerChain<'c> {
    type Item = &'c [u8];

    fn next(&mut self) -> Option<&'c [u8]> {
        let (head, rest) = self.rest.split_at_checked(3)?;
        let len = head.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        let (cert, rest) = rest.split_at_checked(len)?;
        self.rest = rest;
        Some(cert)
    }
}

/// A connection's copy of the TLS 1.2 handshake messages
/// ([`Connection::keep_tls12_transcript`](super::Connection::keep_tls12_transcript)),
/// for client authentication: TLS 1.2's CertificateVerify signs every
/// message before it, as bytes, and *ring* signs and verifies only
/// messages, never digests.
#[derive(Debug, Default)]
pub(crate) struct TranscriptStore<'a> {
    storage: Option<ChainStorage<'a>>,
    /// Bytes the messages since the last ClientHello take (saturating),
    /// whether or not they fit.
    len: u32,
    /// Some message did not fit: the copy is incomplete.
    short: bool,
    /// A TLS 1.2 handshake with client authentication is copying.
    active: bool,
}

/// What the handshake sees of the transcript copy.
pub(crate) trait KeepTranscript {
    /// A ClientHello starts the transcript: what was copied is forgotten,
    /// and copying starts if there is storage.
    fn start(&mut self);
    /// Copies `msg` after the messages before it, if copying and there
    /// is room.
    fn add(&mut self, msg: &[u8]);
    /// Copying stops (the copy is no longer needed).
    fn stop(&mut self);
    /// The whole copy since the ClientHello, while copying and if every
    /// message fitted.
    fn bytes(&self) -> Option<&[u8]>;
    /// Whether `more` bytes would still fit the copy.
    fn fits(&self, more: usize) -> bool;
    /// `more` bytes did not fit (counted, so that the embedder learns
    /// what the copy needed): the copy is incomplete.
    fn short_by(&mut self, more: usize);
    /// Whether copying (since a ClientHello, into lent storage).
    fn is_active(&self) -> bool;
    /// Whether the embedder lent storage at all.
    fn is_lent(&self) -> bool;
    /// Bytes the copy takes (or would take), for the error that tells
    /// the embedder its storage was too small.
    fn needed(&self) -> usize;
}

impl KeepTranscript for TranscriptStore<'_> {
    fn start(&mut self) {
        self.len = 0;
        self.short = false;
        self.active = self.storage.is_some();
        #[cfg(feature = "alloc")]
        if let Some(ChainStorage::Owned(v)) = self.storage.as_mut() {
            v.clear();
        }
    }

    fn add(&mut self, msg: &[u8]) {
        if !self.active {
            return;
        }
        let at = usize::try_from(self.len).unwrap_or(usize::MAX);
        let end = at.saturating_add(msg.len());
        self.len = u32::try_from(end).unwrap_or(u32::MAX);
        if self.short {
            return;
        }
        let fitted = match self.storage.as_mut() {
            Some(ChainStorage::Lent(s)) => match s.get_mut(at..end) {
                Some(dst) => {
                    dst.copy_from_slice(msg);
                    true
                }
                None => false,
            },
            // Grown as the messages come; a failed allocation keeps
            // nothing, as a short loan would.
            #[cfg(feature = "alloc")]
            Some(ChainStorage::Owned(v)) => {
                v.len() == at && v.try_reserve(msg.len()).is_ok() && {
                    v.extend_from_slice(msg);
                    true
                }
            }
            None => false,
        };
        self.short = !fitted;
    }

    fn stop(&mut self) {
        self.active = false;
    }

    fn bytes(&self) -> Option<&[u8]> {
        if self.short || !self.active {
            return None;
        }
        let len = usize::try_from(self.len).ok()?;
        // Without `alloc` there is one kind of storage.
        #[allow(clippy::infallible_destructuring_match)]
        let bytes: &[u8] = match self.storage.as_ref()? {
            ChainStorage::Lent(s) => s,
            #[cfg(feature = "alloc")]
            ChainStorage::Owned(v) => v,
        };
        bytes.get(..len)
    }

    fn fits(&self, more: usize) -> bool {
        let end = usize::try_from(self.len)
            .unwrap_or(usize::MAX)
            .saturating_add(more);
        self.active
            && !self.short
            && match self.storage.as_ref() {
                Some(ChainStorage::Lent(s)) => end <= s.len(),
                // Grows; an allocation that fails is found when it does.
                #[cfg(feature = "alloc")]
                Some(ChainStorage::Owned(_)) => u32::try_from(end).is_ok(),
                None => false,
            }
    }

    fn short_by(&mut self, more: usize) {
        let end = usize::try_from(self.len)
            .unwrap_or(usize::MAX)
            .saturating_add(more);
        self.len = u32::try_from(end).unwrap_or(u32::MAX);
        self.short = true;
    }

    fn is_active(&self) -> bool {
        self.active
    }

    fn is_lent(&self) -> bool {
        self.storage.is_some()
    }

    fn needed(&self) -> usize {
        usize::try_from(self.len).unwrap_or(usize::MAX)
    }
}

impl<'a> TranscriptStore<'a> {
    /// Puts `storage` in place; the storage it replaces comes back.
    pub(crate) fn set(&mut self, storage: ChainStorage<'a>) -> Option<ChainStorage<'a>> {
        let old = self.take();
        self.storage = Some(storage);
        old
    }

    /// The storage back, emptied (an owned `Vec` cleared; a loan comes
    /// back as it is: handshake messages are not secret, the peer had
    /// them in the clear).
    pub(crate) fn take(&mut self) -> Option<ChainStorage<'a>> {
        let storage = self.storage.take();
        *self = Self::default();
        #[cfg(feature = "alloc")]
        let storage = storage.map(|s| match s {
            ChainStorage::Owned(mut v) => {
                v.clear();
                ChainStorage::Owned(v)
            }
            lent => lent,
        });
        storage
    }

    /// The handshake is over: copying stops, and an owned `Vec` gives
    /// its memory back (the storage stays, for
    /// [`take`](Self::take)).
    pub(crate) fn finish(&mut self) {
        self.stop();
        #[cfg(feature = "alloc")]
        if let Some(ChainStorage::Owned(v)) = self.storage.as_mut() {
            v.clear();
            v.shrink_to_fit();
        }
    }

    /// Bytes the last TLS 1.2 handshake's copy needed when it did not
    /// fit.
    pub(crate) fn needed_if_short(&self) -> Option<usize> {
        self.short.then(|| self.needed())
    }
}
