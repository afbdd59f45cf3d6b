//! The last `--history` seconds of the analysed mono signal, and the background thread
//! that re-renders the waterfall's history from it when the parameters change.
//!
//! ```text
//! analysis thread ─ push(mono) under a short lock ─→ MonoHistory (preallocated ring)
//! UI ─ RerenderRequest ─→ `rerender` thread ─ copy the span, STFT, ColumnMap ─→ Rerendered ─→ UI
//! ```
//!
//! A re-render recomputes the rows that the new parameters would have produced before
//! the change, on the same grid as the live rows after it (row ends `first_end − k·hop`),
//! so the rebuilt waterfall reads as if the new parameters had always been in effect.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use realfft::RealFftPlanner;

use crate::dsp::scale::Scale;
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::render::freqmap::ColumnMap;

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

/// Recompute the rows before a parameter change.
///
/// Thread: sent UI → `rerender`.
#[derive(Clone, Debug)]
pub struct RerenderRequest {
    /// Echoed in the answer; the UI keeps only the answer to its newest request.
    pub id: u64,
    /// The pane it is for (echoed; only the newest request of each pane is rendered).
    pub pane: usize,
    /// Parameters to render with.
    pub params: StftParams,
    /// Bins → display pixels (bottom-up), as the live columns use.
    pub map: ColumnMap,
    /// End sample (exclusive) of the first live row on the new grid: re-rendered rows
    /// end at `first_end − k·hop`, k = 1, 2, …
    pub first_end: u64,
    /// Rows wanted at most (the newest ones).
    pub max_rows: usize,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
}

/// The re-rendered rows, oldest first.
///
/// Thread: sent `rerender` → UI.
#[derive(Debug)]
pub struct Rerendered {
    /// The request's id.
    pub id: u64,
    /// The request's pane.
    pub pane: usize,
    /// Pixels per column.
    pub height: usize,
    /// `rows × height` dB values, each row bottom-up (the live `ColumnMap` output).
    pub columns: Vec<f32>,
    /// Stream time (s) of each row's newest sample boundary (`end / sr`).
    pub times_s: Vec<f64>,
    /// Row ends (exclusive sample index), oldest first.
    pub ends: Vec<u64>,
}

/// Renders `req` from `history`: the rows the history holds, oldest first.
///
/// Thread: `rerender` (or tests). Allocates: yes.
pub fn render(history: &SharedHistory, req: &RerenderRequest) -> Rerendered {
    let p = req.params;
    let (win, hop) = (p.win_length as u64, p.hop_size as u64);
    let height = req.map.height();
    let mut samples = Vec::new();
    let mut start = 0;
    let mut rows = 0;
    if let Ok(h) = history.lock() {
        // The newest re-rendered row ends one hop before the first live one, and must be
        // held whole, as must every older row.
        let newest_end = req.first_end.saturating_sub(hop);
        let oldest = h.oldest();
        if newest_end <= h.total() && newest_end >= oldest + win {
            let available = (newest_end - oldest - win) / hop + 1;
            rows = (available as usize).min(req.max_rows);
            if rows > 0 {
                start = newest_end - (rows as u64 - 1) * hop - win;
                samples.resize((newest_end - start) as usize, 0.0);
                if !h.copy(start, &mut samples) {
                    rows = 0;
                }
            }
        }
    }
    let mut tf = FrameTransform::new(p, Scale::Db, &mut RealFftPlanner::new());
    let mut bins = vec![0.0; p.num_bins()];
    let mut columns = vec![0.0; rows * height];
    let mut times_s = Vec::with_capacity(rows);
    let mut ends = Vec::with_capacity(rows);
    for (r, column) in columns
        .chunks_exact_mut(height.max(1))
        .take(rows)
        .enumerate()
    {
        let off = r * p.hop_size;
        tf.process(&samples[off..off + p.win_length], &mut bins);
        req.map.apply(&bins, column);
        let end = start + off as u64 + win;
        ends.push(end);
        times_s.push(end as f64 / f64::from(req.sample_rate_hz));
    }
    Rerendered {
        id: req.id,
        pane: req.pane,
        height,
        columns,
        times_s,
        ends,
    }
}

/// The UI's ends of the re-render thread.
///
/// Thread: UI.
pub struct RerenderLink {
    /// Requests (bounded; a full channel means one is pending and this one waits).
    pub requests: Sender<RerenderRequest>,
    /// Answers.
    pub results: Receiver<Rerendered>,
    /// Requests sent so far (the id of the newest).
    pub sent: u64,
}

/// Spawns the `rerender` thread; it stops when the UI drops the link.
///
/// # Errors
/// If the OS cannot spawn a thread.
pub fn spawn(history: SharedHistory) -> std::io::Result<(JoinHandle<()>, RerenderLink)> {
    let (req_tx, req_rx) = crossbeam_channel::bounded::<RerenderRequest>(16);
    let (res_tx, res_rx) = crossbeam_channel::bounded::<Rerendered>(4);
    let handle = std::thread::Builder::new()
        .name("rerender".into())
        .spawn(move || {
            let mut newest: Vec<RerenderRequest> = Vec::new();
            while let Ok(req) = req_rx.recv() {
                // Only the newest request of each pane matters.
                newest.push(req);
                newest.extend(req_rx.try_iter());
                let mut i = 0;
                while i < newest.len() {
                    if newest[i + 1..].iter().any(|r| r.pane == newest[i].pane) {
                        newest.remove(i);
                    } else {
                        i += 1;
                    }
                }
                for req in newest.drain(..) {
                    if res_tx.send(render(&history, &req)).is_err() {
                        return;
                    }
                }
            }
        })?;
    Ok((
        handle,
        RerenderLink {
            requests: req_tx,
            results: res_rx,
            sent: 0,
        },
    ))
}
