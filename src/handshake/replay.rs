//! Single use of 0-RTT offers (RFC 8446 §8): a server that accepts early
//! data must refuse the same ClientHello a second time, or an attacker
//! who recorded it replays the early data at will. [`ReplayGuard`] is the
//! decision the server asks for before it accepts 0-RTT; the embedder
//! implements it, or takes [`StrikeRegister`], a bounded strike register
//! in fixed storage that allocates nothing and needs no lock.
//!
//! A guard answers for one server process. A fleet behind one name, whose
//! servers share ticket keys, must share the guard too, or a ClientHello
//! refused by one is accepted by the next: implement [`ReplayGuard`] over
//! a store all of them reach (keyed by the binder, each entry kept until
//! the `until` it came with), and fail closed when the store does not
//! answer.

use core::sync::atomic::{AtomicU64, Ordering};

use rustls_pki_types::UnixTime;

/// Decides whether a 0-RTT offer is seen for the first time.
pub trait ReplayGuard: Send + Sync {
    /// Records the offer named by `key` (the ClientHello's first PSK
    /// binder, which is unique to that ClientHello, RFC 8446 §8.2) as
    /// used until `until`, the end of the window in which the server would
    /// take it. `true` only if no use of it within its window is known:
    /// a replay answers `false`, and so must every case the guard cannot
    /// decide (full, unreachable): the server then declines the early data
    /// and the handshake goes on in 1-RTT, which costs a round trip and
    /// never safety.
    fn first_use(&self, key: &[u8], now: UnixTime, until: UnixTime) -> bool;
}

/// A strike register in fixed storage: one slot per hash of the key,
/// holding the time until which it is taken. An offer whose slot is taken
/// is refused, whether by a replay or by another offer with the same
/// slot, so it fails closed; with `m` live offers in `n` slots, about
/// `m / n` of fresh ones are refused. Each check is one compare-and-swap:
/// threads that race with the same key see exactly one `true`.
///
/// `StrikeRegister::<[AtomicU64; N]>::new()` needs no allocator;
/// [`with_capacity`](StrikeRegister::with_capacity) (feature `alloc`)
/// sizes it at run time.
///
/// A register starts empty, so a process that restarts forgets the offers
/// it took. That matters only where tickets outlive the process (ticket
/// keys kept or shared): then [`started_at`](StrikeRegister::started_at)
/// makes a new one refuse everything for the longest window a server asks
/// for ([`MAX_WINDOW_SECS`]), which RFC 8446 §8.2 asks of a server that
/// lost its state. It counts on the clock: one stepped back across the
/// restart by more than a second shortens the refusal.
pub struct StrikeRegister<S> {
    slots: S,
    /// Every offer is refused before this time (seconds since the epoch).
    closed_until: AtomicU64,
}

/// The longest a server's guard keeps an offer: the ticket age check
/// passes the same ClientHello for up to twice its 10-second tolerance
/// after a first use, and a second for whole seconds.
pub const MAX_WINDOW_SECS: u64 = 21;

impl<const N: usize> StrikeRegister<[AtomicU64; N]> {
    /// An empty register of `N` slots.
    pub const fn new() -> Self {
        Self {
            slots: [const { AtomicU64::new(0) }; N],
            closed_until: AtomicU64::new(0),
        }
    }
}

impl<S> StrikeRegister<S> {
    /// The register of a process started at `now`, which may have taken
    /// offers before it (a restart): it refuses every offer until `now`
    /// plus [`MAX_WINDOW_SECS`], the longest any of them could still be
    /// replayed, so that none is taken twice.
    pub fn started_at(self, now: UnixTime) -> Self {
        self.restarted(now);
        self
    }

    /// [`started_at`](Self::started_at) for a register already in place
    /// (a `static` one, say): from `now` on it refuses every offer for
    /// [`MAX_WINDOW_SECS`].
    pub fn restarted(&self, now: UnixTime) {
        let until = now.as_secs().saturating_add(MAX_WINDOW_SECS);
        self.closed_until.fetch_max(until, Ordering::AcqRel);
    }
}

impl<const N: usize> Default for StrikeRegister<[AtomicU64; N]> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "alloc")]
impl StrikeRegister<alloc::boxed::Box<[AtomicU64]>> {
    /// An empty register of `slots` slots, on the heap.
    pub fn with_capacity(slots: usize) -> Self {
        Self {
            slots: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            closed_until: AtomicU64::new(0),
        }
    }
}

impl<S: AsRef<[AtomicU64]>> StrikeRegister<S> {
    /// Slots still taken at `now`.
    pub fn live(&self, now: UnixTime) -> usize {
        let now = now.as_secs();
        self.slots
            .as_ref()
            .iter()
            .filter(|s| s.load(Ordering::Acquire) > now)
            .count()
    }
}

impl<S: AsRef<[AtomicU64]> + Send + Sync> ReplayGuard for StrikeRegister<S> {
    fn first_use(&self, key: &[u8], now: UnixTime, until: UnixTime) -> bool {
        let slots = self.slots.as_ref();
        let n = u64::try_from(slots.len()).unwrap_or(u64::MAX);
        if n == 0 {
            return false;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, key);
        let mut head = [0u8; 8];
        crate::codec::copy_prefix(&mut head, digest.as_ref(), 8);
        let index = u64::from_be_bytes(head)
            .checked_rem(n)
            .and_then(|i| usize::try_from(i).ok())
            .unwrap_or(0);
        let Some(slot) = slots.get(index) else {
            return false;
        };
        let (now, until) = (now.as_secs(), until.as_secs());
        if until <= now || now < self.closed_until.load(Ordering::Acquire) {
            return false;
        }
        let mut current = slot.load(Ordering::Acquire);
        loop {
            // Taken until a time still to come: a replay, or another
            // offer in the same slot. Either way, refused.
            if current > now {
                return false;
            }
            match slot.compare_exchange(current, until, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(seen) => current = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(secs))
    }

    #[test]
    fn a_key_is_used_once_within_its_window_and_again_after() {
        let r = StrikeRegister::<[AtomicU64; 64]>::new();
        assert!(r.first_use(b"binder one", at(100), at(110)));
        assert!(!r.first_use(b"binder one", at(105), at(115)), "a replay");
        assert_eq!(r.live(at(105)), 1);
        // Past the window the ticket-age check refuses it anyway; the
        // slot is free again.
        assert!(r.first_use(b"binder one", at(110), at(120)));
        assert_eq!(r.live(at(121)), 0);
    }

    #[test]
    fn a_restarted_register_refuses_every_offer_for_the_longest_window() {
        let r = StrikeRegister::<[AtomicU64; 64]>::new().started_at(at(100));
        assert!(!r.first_use(b"taken before the restart", at(100), at(121)));
        assert!(!r.first_use(b"another", at(120), at(141)));
        assert!(r.first_use(b"another", at(121), at(142)));
        assert!(!r.first_use(b"another", at(122), at(143)), "a replay");
        // A static register, told in place.
        static STATIC: StrikeRegister<[AtomicU64; 8]> = StrikeRegister::new();
        STATIC.restarted(at(200));
        assert!(!STATIC.first_use(b"k", at(220), at(230)));
        assert!(STATIC.first_use(b"k", at(221), at(231)));
    }

    #[test]
    fn it_fails_closed() {
        // No slot, or a window already over: refused.
        let empty = StrikeRegister::<[AtomicU64; 0]>::new();
        assert!(!empty.first_use(b"k", at(1), at(2)));
        let r = StrikeRegister::<[AtomicU64; 1]>::new();
        assert!(!r.first_use(b"k", at(5), at(5)));
        // One slot: a second, different offer within the window is
        // refused too.
        assert!(r.first_use(b"first", at(5), at(9)));
        assert!(!r.first_use(b"second", at(6), at(9)));
    }
}
