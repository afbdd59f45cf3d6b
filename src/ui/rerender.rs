//! The background thread that re-renders the waterfall's history from the analysed
//! mono signal ([`MonoHistory`](crate::analysis::history::MonoHistory)) when the
//! parameters, the axis or the time span change.
//!
//! ```text
//! UI ─ RerenderRequest ─→ `rerender` thread ─ copy the span, STFT, ColumnMap, ColumnFold ─→ Rerendered ─→ UI
//! ```
//!
//! A re-render recomputes the rows that the new parameters would have produced before
//! the change, on the same grid as the live rows after it (row ends `first_end − k·hop`),
//! and folds them into time columns exactly as the analysis thread folds the live rows,
//! so the rebuilt waterfall reads as if the new parameters had always been in effect.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::analysis::history::SharedHistory;
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::render::freqmap::ColumnMap;
use crate::render::timeaxis::{ColumnFold, Run, TimeGrid};

/// Recompute the columns before a change.
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
    /// The live columns' time grid.
    pub grid: TimeGrid,
    /// End sample (exclusive) of the first live row on the new grid: re-rendered rows
    /// end at `first_end − k·hop`, k = 1, 2, …
    pub first_end: u64,
    /// The first live column: columns before it (and it, merged) are re-rendered.
    pub cut_serial: u64,
    /// Columns wanted before the cut.
    pub columns: usize,
}

/// A run of re-rendered columns (see [`Run`]): `values` indexes [`Rerendered::values`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSpan {
    /// First column.
    pub first: u64,
    /// Last column (inclusive).
    pub last: u64,
    /// Offset of its values in [`Rerendered::values`]; `None`: a gap.
    pub values: Option<usize>,
}

/// The re-rendered columns, oldest first.
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
    /// The runs, oldest first.
    pub spans: Vec<RunSpan>,
    /// Their values, `height` per run, each bottom-up.
    pub values: Vec<f32>,
    /// Rows computed.
    pub rows: usize,
}

impl Rerendered {
    /// The runs, oldest first.
    pub fn runs(&self) -> impl Iterator<Item = Run<'_>> + '_ {
        self.spans.iter().map(|s| Run {
            first: s.first,
            last: s.last,
            values: s.values.map(|o| &self.values[o..o + self.height]),
            rows: 0,
            first_row_end: 0,
        })
    }
}

/// Renders `req` from `history`: the columns its rows fill, oldest first.
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
        // The newest re-rendered row ends one hop before the first live one; the oldest
        // is the first in the oldest column wanted, or the oldest the history holds whole.
        let newest_end = req.first_end.saturating_sub(hop);
        let oldest_col = req.cut_serial.saturating_sub(req.columns as u64);
        let lowest_end = req
            .grid
            .column_start_sample(oldest_col)
            .max(h.oldest() + win);
        if newest_end <= h.total() && newest_end >= lowest_end {
            rows = ((newest_end - lowest_end) / hop + 1) as usize;
            start = newest_end - (rows as u64 - 1) * hop - win;
            samples.resize((newest_end - start) as usize, 0.0);
            if !h.copy(start, &mut samples) {
                rows = 0;
            }
        }
    }
    let mut tf = FrameTransform::new(p, ValueScale::Db);
    let mut bins = vec![0.0; p.num_bins()];
    let mut column = vec![0.0; height];
    let mut fold = ColumnFold::new(req.grid, height);
    let mut out = Rerendered {
        id: req.id,
        pane: req.pane,
        height,
        spans: Vec::new(),
        values: Vec::new(),
        rows,
    };
    let mut keep = |run: Run<'_>| {
        let values = run.values.map(|v| {
            out.values.extend_from_slice(v);
            out.values.len() - v.len()
        });
        out.spans.push(RunSpan {
            first: run.first,
            last: run.last,
            values,
        });
    };
    for r in 0..rows {
        let off = r * p.hop_size;
        tf.process(&samples[off..off + p.win_length], &mut bins);
        req.map.apply(&bins, &mut column);
        let end = start + off as u64 + win;
        fold.push_row(&column, end, p.hop_size, &mut keep);
    }
    fold.flush(&mut keep);
    out
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
                    let started = std::time::Instant::now();
                    let done = render(&history, &req);
                    if crate::audio::quiet::debug_enabled() {
                        eprintln!(
                            "hopscope: debug: re-rendered pane {}: {} rows into {} runs of columns in {:.1} ms",
                            done.pane,
                            done.rows,
                            done.spans.len(),
                            started.elapsed().as_secs_f64() * 1e3
                        );
                    }
                    if res_tx.send(done).is_err() {
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
