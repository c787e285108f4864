//! Bounded, panic-free readers and writers over byte slices.
//!
//! Every TLS structure is parsed through a [`Reader`] from untrusted bytes:
//! each read checks the length first and fails with [`DecodeError`] rather
//! than panic, and [`Reader::finish`] rejects trailing bytes. Parsed values
//! borrow from the input; nothing is copied or allocated.
//!
//! A [`Writer`] encodes into a caller-provided slice and fails with
//! [`Overflow`] when it is full; lengths of nested vectors are back-patched
//! once the body is written.

/// Input did not decode: too short, too long, or trailing bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

/// A writer ran out of room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

/// A cursor over untrusted bytes. It has no `PartialEq` and prints no bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl core::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Reader({} of {} bytes left)",
            self.left(),
            self.buf.len()
        )
    }
}

impl<'a> Reader<'a> {
    /// Reads `buf` from the start.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn left(&self) -> usize {
        // `pos` never passes the end; saturating keeps that an invariant,
        // not a panic.
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.left() == 0
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError(what))?;
        let out = self.buf.get(self.pos..end).ok_or(DecodeError(what))?;
        self.pos = end;
        Ok(out)
    }

    /// The next `N` bytes as an array reference.
    pub fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<&'a [u8; N], DecodeError> {
        self.take(N, what)?
            .try_into()
            .map_err(|_| DecodeError(what))
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        out
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let [b] = *self.array::<1>(what)?;
        Ok(b)
    }

    /// A big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(*self.array::<2>(what)?))
    }

    /// A big-endian 24-bit integer.
    pub fn u24(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let [a, b, c] = *self.array::<3>(what)?;
        Ok(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    /// A big-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(*self.array::<4>(what)?))
    }

    /// A vector with a one-byte length prefix.
    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u8(what)?;
        self.take(usize::from(n), what)
    }

    /// A vector with a two-byte length prefix.
    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    /// A vector with a three-byte length prefix.
    pub fn vec24(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u24(what)?;
        self.take(n, what)
    }

    /// Fails unless everything was read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError(what))
        }
    }
}

/// Copies the first `n` bytes of `src` to the front of `dst`; copies
/// nothing if either is shorter (callers size both first). The one way
/// the engine copies prefixes, so no slice index can panic, and the way
/// bulk bytes are copied between buffers: plaintext into and out of the
/// views, `RecvBuf::fill`. (Moves within one buffer, `copy_within`, are
/// not cut: the receive view's compaction moves bytes towards the front,
/// and a flight's records are moved back a few bytes each, overlapping,
/// which glibc's memmove copies backwards without `rep movsb`; flights are
/// small.)
///
/// A long copy whose destination sits 1 to 63 bytes after its source
/// within a 4 KiB page is done in pieces of [`ALIASED_PIECE`] bytes. The
/// C library copies long blocks with `rep movsb`, which on the processors
/// measured runs up to 30 times slower for such a pair; pieces that short
/// take its vector loop instead, at full speed. The pair is common: a
/// record's content starts 5 bytes into its record, so an application
/// buffer at the same page offset as the view's storage (fresh large
/// allocations are) is one (docs/performance.md, "Buffer placement").
pub(crate) fn copy_prefix(dst: &mut [u8], src: &[u8], n: usize) {
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        #[cfg(feature = "count-copies")]
        COPIED.fetch_add(n, core::sync::atomic::Ordering::Relaxed);
        if n > ALIASED_PIECE && close_in_page(d.as_ptr(), s.as_ptr()) {
            for (d, s) in d.chunks_mut(ALIASED_PIECE).zip(s.chunks(ALIASED_PIECE)) {
                d.copy_from_slice(s);
            }
        } else {
            d.copy_from_slice(s);
        }
    }
}

/// Bytes [`copy_prefix`] has copied (feature `count-copies` only, a
/// relaxed add per copy, kept off the benches' record path):
/// examples/count.rs reports copies per payload byte with it, whichever
/// way the C library copies.
#[cfg(feature = "count-copies")]
pub(crate) static COPIED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// The piece a copy between close page offsets is cut into: below the
/// smallest length at which the C library switches to `rep movsb` (2 KiB
/// with SSE2 copies, more with wider vectors).
pub(crate) const ALIASED_PIECE: usize = 1024;

/// Whether `dst` is 1 to 63 bytes after `src` modulo 4 KiB (the addresses
/// are compared, never dereferenced).
fn close_in_page(dst: *const u8, src: *const u8) -> bool {
    let apart = dst.addr().wrapping_sub(src.addr()) % 4096;
    (1..64).contains(&apart)
}

/// Iterates a vector of big-endian u16 values, e.g. cipher suites. The
/// slice must have even length (checked by [`U16List::new`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct U16List<'a>(&'a [u8]);

impl<'a> U16List<'a> {
    /// Wraps an even-length slice; `allow_empty` false refuses an empty one.
    pub fn new(
        bytes: &'a [u8],
        allow_empty: bool,
        what: &'static str,
    ) -> Result<Self, DecodeError> {
        if bytes.len() % 2 != 0 || (!allow_empty && bytes.is_empty()) {
            return Err(DecodeError(what));
        }
        Ok(Self(bytes))
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.0
            .chunks_exact(2)
            .filter_map(|c| c.try_into().ok().map(u16::from_be_bytes))
    }

    /// Whether `value` is in the list.
    pub fn contains(&self, value: u16) -> bool {
        self.iter().any(|v| v == value)
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// Encodes into a borrowed slice.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// Writes into `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What has been written.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// What has been written, from `from` on, mutable (for back-patching
    /// and in-place signing).
    pub fn written_mut(&mut self, from: usize) -> &mut [u8] {
        self.buf.get_mut(from..self.len).unwrap_or(&mut [])
    }

    /// Reserves `n` bytes and returns them for the caller to fill.
    pub fn reserve(&mut self, n: usize) -> Result<&mut [u8], Overflow> {
        let end = self.len.checked_add(n).ok_or(Overflow)?;
        let out = self.buf.get_mut(self.len..end).ok_or(Overflow)?;
        self.len = end;
        Ok(out)
    }

    /// Appends bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Overflow> {
        self.reserve(b.len())?.copy_from_slice(b);
        Ok(())
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> Result<(), Overflow> {
        self.bytes(&[v])
    }

    /// Appends a big-endian u16.
    pub fn u16(&mut self, v: u16) -> Result<(), Overflow> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian u24 (the low 24 bits of `v`).
    pub fn u24(&mut self, v: usize) -> Result<(), Overflow> {
        let v = u32::try_from(v).map_err(|_| Overflow)?;
        if v >= 1 << 24 {
            return Err(Overflow);
        }
        self.bytes(&v.to_be_bytes()[1..])
    }

    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) -> Result<(), Overflow> {
        self.bytes(&v.to_be_bytes())
    }

    /// Writes a vector with a `LEN`-byte length prefix (1, 2 or 3) whose
    /// body `body` writes; the prefix is patched once the body is done.
    pub fn vec<const LEN: usize>(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<(), Overflow>,
    ) -> Result<(), Overflow> {
        let at = self.len;
        let _ = self.reserve(LEN)?;
        body(self)?;
        let body_at = at.checked_add(LEN).ok_or(Overflow)?;
        let n = self.len.checked_sub(body_at).ok_or(Overflow)?;
        let bits = LEN.checked_mul(8).ok_or(Overflow)?;
        let max = 1usize
            .checked_shl(u32::try_from(bits).map_err(|_| Overflow)?)
            .ok_or(Overflow)?;
        if n >= max {
            return Err(Overflow);
        }
        let be = n.to_be_bytes();
        let prefix_at = be.len().checked_sub(LEN).ok_or(Overflow)?;
        let prefix = be.get(prefix_at..).ok_or(Overflow)?;
        self.buf
            .get_mut(at..body_at)
            .ok_or(Overflow)?
            .copy_from_slice(prefix);
        Ok(())
    }

    /// `vec::<1>` with bytes.
    pub fn vec8(&mut self, b: &[u8]) -> Result<(), Overflow> {
        self.vec::<1>(|w| w.bytes(b))
    }

    /// `vec::<2>` with bytes.
    pub fn vec16(&mut self, b: &[u8]) -> Result<(), Overflow> {
        self.vec::<2>(|w| w.bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::{close_in_page, copy_prefix, ALIASED_PIECE};

    /// Every placement of source and destination within a page, for
    /// lengths around the piece size: the bytes arrive whole, in order,
    /// and nothing past `n` is touched, whether or not the copy is cut.
    #[test]
    fn copies_are_exact_at_every_page_offset() {
        let src: std::vec::Vec<u8> = (0..8192 + 4096u32)
            .map(|i| (i * 7 + 3).to_le_bytes()[0])
            .collect();
        let mut dst = std::vec![0u8; 8192 + 4096 + 64];
        let mut cut = 0;
        for n in [
            0,
            1,
            ALIASED_PIECE - 1,
            ALIASED_PIECE,
            ALIASED_PIECE + 1,
            5000,
            8192,
        ] {
            for at in (0..4096).step_by(7).chain(1..70) {
                dst.fill(0xee);
                let s = &src[..n + 64];
                let d = &mut dst[at..at + n + 64];
                if n > ALIASED_PIECE && close_in_page(d.as_ptr(), s.as_ptr()) {
                    cut += 1;
                }
                copy_prefix(d, s, n);
                assert_eq!(&d[..n], &s[..n], "n {n} at {at}");
                assert!(
                    d[n..].iter().all(|&b| b == 0xee),
                    "n {n} at {at}: past the end"
                );
            }
        }
        assert!(cut > 0, "the cut path ran");
        // Too short a side: nothing copied.
        let mut short = [0u8; 4];
        copy_prefix(&mut short, &src, 5);
        assert_eq!(short, [0; 4]);
    }

    #[test]
    fn close_in_page_is_the_destination_1_to_63_bytes_after_the_source() {
        let buf = [0u8; 8192];
        let base = buf.as_ptr();
        for (apart, close) in [(0, false), (1, true), (5, true), (63, true), (64, false)] {
            assert_eq!(
                close_in_page(base.wrapping_add(apart), base),
                close,
                "{apart}"
            );
            assert_eq!(
                close_in_page(base.wrapping_add(4096 + apart), base),
                close,
                "{apart}"
            );
        }
        // A destination before its source is not.
        assert!(!close_in_page(base, base.wrapping_add(5)));
    }
}
