//! A global allocator that counts allocations (for the benches' allocation
//! figures; a relaxed atomic add per allocation). Included by path by the
//! bench binaries that report allocations; the examples that count have
//! their own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap allocations through Rust's allocator so far.
pub fn rust_allocations() -> u64 {
    ALLOCS.load(Relaxed)
}

/// Allocations per call of `f` over `n` calls: (Rust's allocator,
/// OpenSSL's `CRYPTO_malloc`).
pub fn per_call(n: u32, mut f: impl FnMut()) -> (f64, f64) {
    let (r, o) = (rust_allocations(), super::common::ossl::allocations());
    for _ in 0..n {
        f();
    }
    let n = f64::from(n);
    (
        (rust_allocations() - r) as f64 / n,
        (super::common::ossl::allocations() - o) as f64 / n,
    )
}
