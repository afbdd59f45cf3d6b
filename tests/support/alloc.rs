//! The global allocator of the in-process test binary (`tests/it`): `assert_no_alloc`'s
//! [`AllocDisabler`] (whose per-thread checks the live-mel test relies on) with a count of
//! the live heap bytes and their peak over every thread added (what the WAV fuzz test
//! bounds with [`measure`]). A binary has one global allocator: this one serves both.
//!
//! The count covers the whole process, so a measurement means something only while
//! nothing else runs: the tests that [`measure`] run alone in a process of their own
//! ([`super::alone`]).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_no_alloc::AllocDisabler;

/// Live heap bytes, and their peak since the last [`measure`] started.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// [`AllocDisabler`] (itself the system allocator plus its per-thread checks), counting
/// live bytes and their peak (every thread).
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `AllocDisabler`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = AllocDisabler.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = AllocDisabler.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        AllocDisabler.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = AllocDisabler.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // Counted as if both blocks were live at once, as a copying realloc is.
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

/// Runs `f` and returns its result with the peak of live heap bytes above the level
/// at its start (every thread's: run alone, see the module docs).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}
