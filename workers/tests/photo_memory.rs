//! How much memory cleaning takes, counted by a global allocator that records the peak of
//! live heap bytes: a bomb must be refused before any pixel buffer exists, and a 12 MP phone
//! photo must stay well under the 150 MB budget per photo in flight. One test, so that no
//! other test's allocations run at the same time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use meldeweg_workers::photo::{clean, Limits, PhotoError};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated while `f` runs, above what was live before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let value = f();
    (value, PEAK.load(Ordering::Relaxed) - before)
}

mod support;

#[test]
fn memory_stays_bounded() {
    let bomb = support::bomb_png(30_000, 30_000);
    let (result, peak) = peak_during(|| clean(&bomb, &Limits::default()));
    assert!(matches!(result, Err(PhotoError::TooManyPixels { .. })));
    assert!(peak < 1024 * 1024, "refusing a bomb allocated {peak} bytes");

    let huge_chunk = support::webp_with_huge_chunk();
    let (result, peak) = peak_during(|| clean(&huge_chunk, &Limits::default()));
    assert!(peak < 1024 * 1024, "refusing a WebP with a 4 GB chunk allocated {peak} bytes");
    assert!(matches!(result, Err(PhotoError::Truncated)), "{:?}", result.err());

    let photo = support::fixture("phone_o6_gps.jpg");
    let (result, peak) = peak_during(|| clean(&photo, &Limits::default()));
    result.unwrap();
    assert!(peak < 150 * 1024 * 1024, "cleaning a 12 MP photo peaked at {} MB", peak / 1024 / 1024);
    eprintln!("12 MP phone photo: peak heap {} MB", peak / 1024 / 1024);
}
