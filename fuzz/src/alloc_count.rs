//! A counting global allocator: the engine targets wrap every engine call
//! in [`allocations_in`] and require zero, the "memory fixed" invariant
//! (the engine is `no_std` at heart and must never allocate, whatever the
//! peer sends). Counting is per thread and off outside those calls, so
//! libFuzzer's and the harness's own allocations do not count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-local may be gone while the thread exits.
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
        }
    });
}

// SAFETY: forwards every call to `System` unchanged; the counting touches
// only thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the number of heap allocations it
/// made on this thread.
pub fn allocations_in<T>(f: impl FnOnce() -> T) -> (T, u64) {
    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCATIONS.with(Cell::get))
}

/// Runs `f` and panics if it allocated.
pub fn no_alloc<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (out, n) = allocations_in(f);
    assert_eq!(n, 0, "{what} allocated {n} times");
    out
}

/// [`no_alloc`], except for a call that ends in `excused(&out)`: webpki
/// (with its `alloc` feature, which ours turns on for RSA) builds the
/// context of a wrong-purpose certificate error with a few `Vec`s while
/// it builds a path, so a refused chain may allocate; nothing else may
/// (docs/security.md, "What allocates").
pub fn no_alloc_unless<T>(what: &str, f: impl FnOnce() -> T, excused: impl Fn(&T) -> bool) -> T {
    let (out, n) = allocations_in(f);
    assert!(n == 0 || excused(&out), "{what} allocated {n} times");
    out
}
