//! A pane's rows folded into time columns before they leave the analysis thread (the
//! live window: see `render::timeaxis`), so the UI receives at most one column per pixel
//! of time, whatever the hop.

use crate::dsp::stft::StftParams;
use crate::render::freqmap::ColumnMap;
use crate::render::timeaxis::{ColumnFold, ColumnSpec, Run, TimeGrid};

/// Where stream time stands at a sample boundary: columns continue across a change of
/// sample rate (a reopened device) by counting from the last change.
///
/// Thread: analysis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeOrigin {
    /// Stream sample index of the boundary.
    pub sample: u64,
    /// Stream time there, ns.
    pub time_ns: u128,
}

impl TimeOrigin {
    /// The origin at `sample` when the rate up to it was `sample_rate_hz`.
    pub fn advanced(&self, sample: u64, sample_rate_hz: u32) -> TimeOrigin {
        let frames = u128::from(sample.saturating_sub(self.sample));
        TimeOrigin {
            sample,
            time_ns: self.time_ns + frames * 1_000_000_000 / u128::from(sample_rate_hz.max(1)),
        }
    }

    /// `spec`'s grid at `sample_rate_hz`, counting from this origin.
    pub fn grid(&self, spec: &ColumnSpec, sample_rate_hz: u32) -> TimeGrid {
        let mut grid = TimeGrid::new(spec.span_ms, spec.width_px, sample_rate_hz);
        grid.origin_sample = self.sample;
        grid.origin_col = (self.time_ns * u128::from(grid.width_px)
            / (u128::from(grid.span_ms) * 1_000_000)) as u64;
        grid
    }
}

/// One pane's column state.
///
/// Thread: analysis. Allocates: when made, and when a row's n_fft or sample rate needs a
/// new map; not per row.
pub struct PaneColumns {
    /// The controller's number for `spec`.
    pub grid_id: u64,
    spec: ColumnSpec,
    map: ColumnMap,
    /// (n_fft, sample rate) `map` is for.
    map_for: (usize, u32),
    /// One row on the display pixels.
    column: Vec<f32>,
    fold: ColumnFold,
    /// Parameters of the rows in the open column.
    params: Option<StftParams>,
}

impl PaneColumns {
    /// Columns for `spec`, first fed rows of `params` at `sample_rate_hz`.
    pub fn new(
        grid_id: u64,
        spec: ColumnSpec,
        params: &StftParams,
        sample_rate_hz: u32,
        origin: &TimeOrigin,
    ) -> PaneColumns {
        let map = spec.map(params.fft_size, sample_rate_hz);
        let height = map.height();
        PaneColumns {
            grid_id,
            map,
            map_for: (params.fft_size, sample_rate_hz),
            column: vec![0.0; height],
            fold: ColumnFold::new(origin.grid(&spec, sample_rate_hz), height),
            spec,
            params: None,
        }
    }

    /// Folds one row (`bins` of `params`, ending at `end_sample`), after the gap that
    /// ended at `gap_end` if any; `emit` gets the runs it completes with the parameters
    /// of their rows. A row of other parameters or another sample rate first hands out
    /// the open column.
    ///
    /// Allocates: only for a new map (n_fft or sample rate changed).
    pub fn push(
        &mut self,
        row: FoldRow<'_>,
        origin: &TimeOrigin,
        mut emit: impl FnMut(Run<'_>, &StftParams, &TimeGrid),
    ) {
        let p = *row.params;
        let grid = *self.fold.grid();
        if let Some(old) = self.params.filter(|old| *old != p) {
            self.fold.flush(|run| emit(run, &old, &grid));
        }
        self.params = Some(p);
        if self.map_for != (p.fft_size, row.sample_rate_hz) {
            self.map = self.spec.map(p.fft_size, row.sample_rate_hz);
            self.map_for = (p.fft_size, row.sample_rate_hz);
        }
        if self.fold.grid().sample_rate_hz != row.sample_rate_hz {
            let grid = origin.grid(&self.spec, row.sample_rate_hz);
            let old = *self.fold.grid();
            self.fold.regrid(grid, |run| emit(run, &p, &old));
        }
        let grid = *self.fold.grid();
        if let Some(gap_end) = row.gap_end {
            self.fold.push_gap(gap_end, |run| emit(run, &p, &grid));
        }
        if row.bins.len() != self.map.num_bins() {
            // Rows of a pane switched to or from a front-end before its new columns
            // were asked for: not drawable on this map.
            return;
        }
        self.map.apply(row.bins, &mut self.column);
        self.fold
            .push_row(&self.column, row.end_sample, p.hop_size, |run| {
                emit(run, &p, &grid)
            });
    }

    /// Runs per input frame at most with rows of hop `hop` (one per row, or one per
    /// column when columns are longer than the hop).
    pub fn runs_per_frame(&self, hop: usize) -> f64 {
        (1.0 / hop.max(1) as f64).min(self.fold.grid().columns_per_sample())
    }
}

/// One row for [`PaneColumns::push`].
pub struct FoldRow<'a> {
    /// Its values (`n_fft/2 + 1`).
    pub bins: &'a [f32],
    /// Its parameters.
    pub params: &'a StftParams,
    /// Its sample rate.
    pub sample_rate_hz: u32,
    /// Its end (exclusive sample index).
    pub end_sample: u64,
    /// Where a gap in the input before it ended, if there was one.
    pub gap_end: Option<u64>,
}
