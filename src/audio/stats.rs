//! Counters written by the capture callback and read by everyone else.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Lock-free capture counters.
///
/// Thread: written by the capture callback (and the stream error callback) with
/// `Relaxed` atomics; read by the UI/status thread. Allocates: no.
#[derive(Debug, Default)]
pub struct CaptureStats {
    frames_captured: AtomicU64,
    frames_dropped: AtomicU64,
    callbacks: AtomicU64,
    stream_errors: AtomicU64,
    xruns: AtomicU64,
    marks_dropped: AtomicU64,
}

/// A copy of [`CaptureStats`] at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureSnapshot {
    /// Frames (one sample per channel) delivered by the source, dropped ones included.
    pub frames_captured: u64,
    /// Frames dropped because the ring was full.
    pub frames_dropped: u64,
    /// Callbacks received.
    pub callbacks: u64,
    /// Errors reported by the audio stream (xruns included).
    pub stream_errors: u64,
    /// Of those, buffer overruns (xruns).
    pub xruns: u64,
    /// Timing marks dropped because the mark ring was full (timestamps extrapolate).
    pub marks_dropped: u64,
}

impl CaptureStats {
    /// Counts one callback of `frames` frames, `dropped` of which did not fit.
    pub fn record_callback(&self, frames: u64, dropped: u64) {
        self.callbacks.fetch_add(1, Relaxed);
        self.frames_captured.fetch_add(frames, Relaxed);
        if dropped > 0 {
            self.frames_dropped.fetch_add(dropped, Relaxed);
        }
    }

    /// Counts a dropped timing mark.
    pub fn record_mark_dropped(&self) {
        self.marks_dropped.fetch_add(1, Relaxed);
    }

    /// Counts a stream error; `xrun` marks an overrun.
    pub fn record_stream_error(&self, xrun: bool) {
        self.stream_errors.fetch_add(1, Relaxed);
        if xrun {
            self.xruns.fetch_add(1, Relaxed);
        }
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> CaptureSnapshot {
        CaptureSnapshot {
            frames_captured: self.frames_captured.load(Relaxed),
            frames_dropped: self.frames_dropped.load(Relaxed),
            callbacks: self.callbacks.load(Relaxed),
            stream_errors: self.stream_errors.load(Relaxed),
            xruns: self.xruns.load(Relaxed),
            marks_dropped: self.marks_dropped.load(Relaxed),
        }
    }
}
