//! The background thread that re-renders the waterfall's history from the analysed
//! mono signal ([`MonoHistory`](crate::analysis::history::MonoHistory)) when the parameters change.
//!
//! ```text
//! UI ─ RerenderRequest ─→ `rerender` thread ─ copy the span, STFT, ColumnMap ─→ Rerendered ─→ UI
//! ```
//!
//! A re-render recomputes the rows that the new parameters would have produced before
//! the change, on the same grid as the live rows after it (row ends `first_end − k·hop`),
//! so the rebuilt waterfall reads as if the new parameters had always been in effect.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::analysis::history::SharedHistory;
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::render::freqmap::ColumnMap;

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
    let mut tf = FrameTransform::new(p, ValueScale::Db);
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
