//! The last `--history` seconds of the analysed mono signal (re-rendered by the UI's
//! `rerender` thread, `ui::rerender`, when the parameters change).
//!
//! ```text
//! analysis thread ─ push(mono) under a short lock ─→ MonoHistory (preallocated ring)
//! ```

use std::sync::{Arc, Mutex};

/// A ring of the newest mono samples with their absolute indices.
///
/// Thread: written by analysis, read by `rerender`, behind [`SharedHistory`]'s mutex
/// (held for one memcpy). Allocates: in `new` only.
pub struct MonoHistory {
    buf: Vec<f32>,
    /// Samples pushed since the stream started (= absolute index of the next sample).
    total: u64,
}

/// The history as shared between the analysis thread and the re-render thread.
pub type SharedHistory = Arc<Mutex<MonoHistory>>;

impl MonoHistory {
    /// Room for `capacity` samples (at least 1).
    pub fn new(capacity: usize) -> MonoHistory {
        MonoHistory {
            buf: vec![0.0; capacity.max(1)],
            total: 0,
        }
    }

    /// A shareable history of `seconds` at `sample_rate_hz`.
    pub fn shared(seconds: f64, sample_rate_hz: u32) -> SharedHistory {
        let n = (seconds.max(0.0) * f64::from(sample_rate_hz)).ceil() as usize;
        Arc::new(Mutex::new(MonoHistory::new(n)))
    }

    /// Samples held at most.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Absolute index of the next sample (samples pushed so far).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Absolute index of the oldest sample held.
    pub fn oldest(&self) -> u64 {
        self.total.saturating_sub(self.buf.len() as u64)
    }

    /// Appends samples, overwriting the oldest.
    ///
    /// Thread: analysis. Allocates: no.
    pub fn push(&mut self, mut samples: &[f32]) {
        let cap = self.buf.len();
        if samples.len() > cap {
            self.total += (samples.len() - cap) as u64;
            samples = &samples[samples.len() - cap..];
        }
        while !samples.is_empty() {
            let pos = (self.total % cap as u64) as usize;
            let n = samples.len().min(cap - pos);
            self.buf[pos..pos + n].copy_from_slice(&samples[..n]);
            self.total += n as u64;
            samples = &samples[n..];
        }
    }

    /// Records `n` samples that never arrived (a gap in the input) as NaN, so what is
    /// re-rendered or snapshotted over them is marked as a gap, not drawn as silence;
    /// the indices advance by all `n`.
    ///
    /// Thread: analysis. Allocates: no.
    pub fn push_gap(&mut self, n: u64) {
        let cap = self.buf.len() as u64;
        let held = n.min(cap);
        self.total += n - held;
        let mut left = held as usize;
        while left > 0 {
            let pos = (self.total % cap) as usize;
            let k = left.min(cap as usize - pos);
            self.buf[pos..pos + k].fill(f32::NAN);
            self.total += k as u64;
            left -= k;
        }
    }

    /// Marks everything held as a gap (NaN) without moving the indices: what it held
    /// was sampled at a rate the stream no longer has.
    ///
    /// Thread: analysis. Allocates: no.
    pub fn forget(&mut self) {
        self.buf.fill(f32::NAN);
    }

    /// The newest `max_samples` held (fewer if fewer are held) and the absolute index of
    /// the first.
    ///
    /// Allocates: the returned vector.
    pub fn newest(&self, max_samples: u64) -> (u64, Vec<f32>) {
        let start = self.total.saturating_sub(max_samples).max(self.oldest());
        let mut out = vec![0.0; (self.total - start) as usize];
        let held = self.copy(start, &mut out);
        debug_assert!(held, "[start, total) is held by construction");
        (start, out)
    }

    /// Copies samples `[start, start + out.len())` into `out`; `false` (nothing copied)
    /// when any of them is not held.
    ///
    /// Allocates: no.
    pub fn copy(&self, start: u64, out: &mut [f32]) -> bool {
        let end = start + out.len() as u64;
        if start < self.oldest() || end > self.total {
            return false;
        }
        let cap = self.buf.len();
        let mut done = 0;
        while done < out.len() {
            let pos = ((start + done as u64) % cap as u64) as usize;
            let n = (out.len() - done).min(cap - pos);
            out[done..done + n].copy_from_slice(&self.buf[pos..pos + n]);
            done += n;
        }
        true
    }
}
