//! Time columns: the waterfall's horizontal axis in seconds, whatever the hop.
//!
//! A screen of `width_px` columns spans `span_ms` of stream time, so column `c` holds the
//! times `[c·T, (c+1)·T)` with `T = span/width`. A row belongs to the column its end (the
//! sample boundary just after its last sample) falls in, computed exactly in integers:
//!
//! ```text
//! column(end) = origin_col + ⌊(end − origin_sample) · width_px · 1000 / (span_ms · sr)⌋
//! ```
//!
//! so a hop that is not a whole number of columns never drifts. [`ColumnFold`] turns rows
//! into columns the way the window draws them:
//!
//! - several rows in one column: the column shows their **maximum per display pixel** (a
//!   click or a chirp is never lost between pixels);
//! - a row whose column lies past the next column to draw: it fills every column from
//!   there to its own (one row spans the columns of its hop, exactly by its time);
//! - a gap in the input (time without samples): its columns are hatched.
//!
//! The live analysis thread folds its rows with it before they reach the UI, and the
//! history re-render folds its rows with the same code, so both agree to the column.

use crate::dsp::mel::MelSpec;

use super::freqmap::{ColumnMap, FreqAxis};

/// Where columns fall in stream time.
///
/// Thread: any (a `Copy` value made by the analysis thread, sent to the UI with each run
/// so that a re-render of the history folds on the same grid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeGrid {
    /// Time one screen spans, ms (> 0).
    pub span_ms: u32,
    /// Columns per screen (> 0).
    pub width_px: u32,
    /// Stream sample rate (> 0).
    pub sample_rate_hz: u32,
    /// A sample boundary and the column it starts: column indices stay continuous when
    /// the sample rate changes (a reopened device) by restarting the count there.
    pub origin_sample: u64,
    /// The column starting at `origin_sample`.
    pub origin_col: u64,
}

impl TimeGrid {
    /// The grid counting from sample 0 = column 0.
    pub fn new(span_ms: u32, width_px: u32, sample_rate_hz: u32) -> TimeGrid {
        TimeGrid {
            span_ms: span_ms.max(1),
            width_px: width_px.max(1),
            sample_rate_hz: sample_rate_hz.max(1),
            origin_sample: 0,
            origin_col: 0,
        }
    }

    /// The column of a row ending at sample boundary `end_sample` (its last sample is
    /// `end_sample − 1`). Exact: integer arithmetic, no rounding per row.
    pub fn column_of(&self, end_sample: u64) -> u64 {
        let since = u128::from(end_sample.saturating_sub(self.origin_sample));
        let num = since * u128::from(self.width_px) * 1000;
        let den = u128::from(self.span_ms) * u128::from(self.sample_rate_hz);
        self.origin_col + (num / den) as u64
    }

    /// The first sample boundary a row may end at to fall in column `col` or later (the
    /// inverse of [`TimeGrid::column_of`]).
    pub fn column_start_sample(&self, col: u64) -> u64 {
        let Some(cols) = col.checked_sub(self.origin_col) else {
            return self.origin_sample;
        };
        let num = u128::from(cols) * u128::from(self.span_ms) * u128::from(self.sample_rate_hz);
        let den = u128::from(self.width_px) * 1000;
        self.origin_sample + num.div_ceil(den) as u64
    }

    /// Columns per sample (what bounds the runs a fold hands out per input frame).
    pub fn columns_per_sample(&self) -> f64 {
        f64::from(self.width_px) * 1000.0
            / (f64::from(self.span_ms) * f64::from(self.sample_rate_hz))
    }
}

/// Seconds one column spans when `width_px` columns span `span_ms`.
pub fn column_s(span_ms: u32, width_px: usize) -> f64 {
    f64::from(span_ms) / 1000.0 / width_px.max(1) as f64
}

/// Stream time at column `col`'s right edge, s, for columns of `column_s` (what its
/// ticks and readout show; the same in every pane).
pub fn column_end_s(col: u64, column_s: f64) -> f64 {
    (col + 1) as f64 * column_s
}

/// What a pane's columns show: its frequency axis (or mel bands), its size, and the time
/// one screen spans. The analysis thread builds the pane's column map from it for each
/// n_fft it meets.
///
/// Thread: a `Copy` value sent UI → analysis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnSpec {
    /// The frequency axis (the mel bands' axis is derived from `mel`).
    pub axis: FreqAxis,
    /// Mel bands instead of the axis.
    pub mel: Option<MelSpec>,
    /// A model front-end's rows of this many bands, drawn as equal stripes
    /// ([`ColumnMap::stripes`]) against the front-end's band axis (`axis` is ignored).
    pub bands: Option<usize>,
    /// Pixels per column.
    pub height_px: usize,
    /// Columns per screen.
    pub width_px: u32,
    /// Time one screen spans, ms.
    pub span_ms: u32,
}

impl ColumnSpec {
    /// The bins → pixels map of these columns for rows of `fft_size` at
    /// `sample_rate_hz`: the mel bands when given, else pixels on the axis; at least one
    /// pixel tall. The one map the live fold and the history re-render both use.
    pub fn map(&self, fft_size: usize, sample_rate_hz: u32) -> ColumnMap {
        let height = self.height_px.max(1);
        if let Some(n) = self.bands {
            return ColumnMap::stripes(n, height);
        }
        match &self.mel {
            Some(mel) => ColumnMap::mel(mel, height, fft_size, sample_rate_hz),
            None => ColumnMap::new(&self.axis, height, fft_size, sample_rate_hz),
        }
    }
}

/// A run of columns ready to draw: `first..=last` all show `values` (bottom pixel
/// first), or are hatched as a gap when `values` is `None`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run<'a> {
    /// First column of the run.
    pub first: u64,
    /// Last column of the run (inclusive).
    pub last: u64,
    /// The columns' values; `None`: a gap in the input.
    pub values: Option<&'a [f32]>,
    /// Rows folded into the run (0 for a gap).
    pub rows: u32,
    /// End sample of the oldest row folded in (for a gap: the sample the gap ended at).
    pub first_row_end: u64,
}

/// Folds rows (already mapped onto display pixels) into time columns.
///
/// Rows must come in time order. A column is handed out as soon as no later row can fall
/// into it: with the row whose successor (`end + hop`) lies in a later column, so the
/// newest column is never held back waiting for the next row.
///
/// Thread: the analysis thread (live) or the `rerender` thread. Allocates: in `new` only.
#[derive(Clone, Debug)]
pub struct ColumnFold {
    grid: TimeGrid,
    /// The maximum of the rows folded into the open column.
    acc: Vec<f32>,
    /// The column being accumulated (`None`: nothing accumulated).
    open: Option<u64>,
    /// The first column not handed out yet (`None`: before the first row).
    next: Option<u64>,
    rows: u32,
    first_row_end: u64,
}

impl ColumnFold {
    /// An empty fold of columns `height_px` pixels tall on `grid`.
    pub fn new(grid: TimeGrid, height_px: usize) -> ColumnFold {
        ColumnFold {
            grid,
            acc: vec![f32::NEG_INFINITY; height_px],
            open: None,
            next: None,
            rows: 0,
            first_row_end: 0,
        }
    }

    /// The grid.
    pub fn grid(&self) -> &TimeGrid {
        &self.grid
    }

    /// Pixels per column.
    pub fn height(&self) -> usize {
        self.acc.len()
    }

    /// The first column not handed out yet (`None` before the first row or gap).
    pub fn next_column(&self) -> Option<u64> {
        self.next
    }

    /// Continues on `grid` (a changed sample rate): the open column is handed out first.
    pub fn regrid(&mut self, grid: TimeGrid, emit: impl FnMut(Run<'_>)) {
        self.flush(emit);
        self.grid = grid;
    }

    /// Folds one row ending at `end_sample` (display values `values`, bottom first),
    /// handing out the columns it completes. `hop` is the distance to the next row's end.
    ///
    /// Allocates: no.
    pub fn push_row(
        &mut self,
        values: &[f32],
        end_sample: u64,
        hop: usize,
        mut emit: impl FnMut(Run<'_>),
    ) {
        debug_assert_eq!(values.len(), self.acc.len());
        let mut col = self.grid.column_of(end_sample);
        if let Some(open) = self.open {
            if col > open {
                self.emit_open(&mut emit);
            } else {
                // Same column (or, right after a parameter change, one already open).
                col = open;
            }
        }
        // A row never lands in a column already handed out (only a parameter change
        // could move it back; it is then drawn in the next column).
        let next = *self.next.get_or_insert(col);
        col = col.max(next);
        if self.open.is_none() {
            self.acc.copy_from_slice(values);
            self.open = Some(col);
            self.rows = 1;
            self.first_row_end = end_sample;
        } else {
            for (a, &v) in self.acc.iter_mut().zip(values) {
                // NaN never wins: a column of rows with and without values shows the values.
                *a = a.max(v);
            }
            self.rows += 1;
        }
        if self.grid.column_of(end_sample + hop as u64) > col {
            self.emit_open(&mut emit);
        }
    }

    /// A gap in the input that ended at sample boundary `end_sample`: the open column is
    /// handed out, then the columns up to the one holding `end_sample` (at least one) as
    /// a hatched run.
    ///
    /// Allocates: no.
    pub fn push_gap(&mut self, end_sample: u64, mut emit: impl FnMut(Run<'_>)) {
        self.emit_open(&mut emit);
        let end_col = self.grid.column_of(end_sample);
        let first = self.next.unwrap_or(end_col);
        let last = end_col.saturating_sub(1).max(first);
        emit(Run {
            first,
            last,
            values: None,
            rows: 0,
            first_row_end: end_sample,
        });
        self.next = Some(last + 1);
    }

    /// Hands out the open column now (the rows after it will have other parameters, or
    /// there are no more).
    ///
    /// Allocates: no.
    pub fn flush(&mut self, mut emit: impl FnMut(Run<'_>)) {
        self.emit_open(&mut emit);
    }

    fn emit_open(&mut self, emit: &mut impl FnMut(Run<'_>)) {
        let Some(open) = self.open.take() else {
            return;
        };
        let first = self.next.unwrap_or(open).min(open);
        emit(Run {
            first,
            last: open,
            values: Some(&self.acc),
            rows: self.rows,
            first_row_end: self.first_row_end,
        });
        self.next = Some(open + 1);
        self.rows = 0;
    }
}
