//! How far the offline commands have come, for the progress bar: seconds of audio
//! analysed, summed over every file of the run (files run in parallel), and files done.
//!
//! The pipelines add to these counters as they go; whoever draws the bar reads them.
//! Process-wide, like [`crate::io::interrupt`]: one run per process.
//!
//! Thread: any (atomics).

use std::sync::atomic::{AtomicU64, Ordering};

/// Microseconds of audio analysed so far.
static AUDIO_DONE_US: AtomicU64 = AtomicU64::new(0);

/// Files finished (successfully or not).
static FILES_DONE: AtomicU64 = AtomicU64::new(0);

/// Counts `frames` frames at `sample_rate_hz` as analysed.
pub fn add_audio(frames: u64, sample_rate_hz: u32) {
    let us = u128::from(frames) * 1_000_000 / u128::from(sample_rate_hz.max(1));
    AUDIO_DONE_US.fetch_add(u64::try_from(us).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Counts one file as finished.
pub fn file_done() {
    FILES_DONE.fetch_add(1, Ordering::Relaxed);
}

/// Seconds of audio analysed so far.
pub fn audio_done_s() -> f64 {
    AUDIO_DONE_US.load(Ordering::Relaxed) as f64 * 1e-6
}

/// Files finished so far.
pub fn files_done() -> u64 {
    FILES_DONE.load(Ordering::Relaxed)
}
