//! Messages between the analysis thread and its controller (UI or status loop).

use std::time::Instant;

use crate::dsp::frontend::FrontendSpec;
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::StftParams;
use crate::render::timeaxis::{ColumnSpec, TimeGrid};

/// A change requested of the analysis thread.
///
/// Thread: sent by UI/status (main), received by analysis, over a bounded crossbeam channel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Control {
    /// New STFT parameters for one pane (index) from its next row on (validated by the
    /// sender; an index past the panes is ignored).
    SetParams(usize, StftParams),
    /// A new set of panes (1..=[`MAX_PANES`] STFTs of the same input), stamped `layout`
    /// on every row from now on. Panes that already exist keep their sample buffers.
    SetPanes {
        /// The UI's number for this set; rows of an older set carry an older one.
        layout: u64,
        /// Panes in use (`params[..count]`).
        count: usize,
        /// Each pane's parameters (validated by the sender).
        params: [StftParams; MAX_PANES],
    },
    /// Pane `pane` (an index past the panes is ignored) shows a model front-end from
    /// now on (`None`: its STFT again): the stream resampled to the front-end's rate, its
    /// rows in its own units. The specs are the program's table, made once
    /// (`config::frontend::table`).
    SetFrontend(usize, Option<&'static FrontendSpec>),
    /// New output scale from the next row on.
    SetScale(ValueScale),
    /// From now on, fold pane `pane`'s rows into time columns as `spec` says (the live
    /// window; without it rows are sent one by one, as `--headless` reads them). Rows
    /// then reach the controller as [`ColumnRun`]s stamped `grid_id`.
    SetColumns {
        /// The pane (an index past the panes is ignored).
        pane: usize,
        /// The controller's number for this geometry, echoed in every run made with it.
        grid_id: u64,
        /// Axis, size and span of the pane's columns.
        spec: ColumnSpec,
    },
    /// Stop the analysis thread.
    Shutdown,
}

/// Most panes the window can compare (STFTs of the same input, each with its own
/// parameters).
pub const MAX_PANES: usize = 4;

/// Counts parameter changes; every row carries the generation it was computed with.
pub type Generation = u64;

/// One STFT row on its way to the UI.
///
/// Thread: built by analysis, moved to UI over a bounded channel; `bins` is returned
/// on the recycle channel so steady state allocates nothing.
#[derive(Clone, Debug)]
pub struct SpectrumRow {
    /// Which pane's STFT made it (0 without compare panes).
    pub pane: usize,
    /// The pane set it belongs to (see [`Control::SetPanes`]; 0 at start).
    pub layout: u64,
    /// Parameter generation (0 at start, +1 per applied change).
    pub generation: Generation,
    /// Parameters of this row.
    pub params: StftParams,
    /// What `bins` means.
    pub scale: ValueScale,
    /// Sample rate of the stream.
    pub sample_rate_hz: u32,
    /// Stream index of the row's first sample (gaps in the input count their samples).
    pub first_sample: u64,
    /// Samples of a gap in the input (time with no samples) between this pane's
    /// previous row and this one; 0 almost always.
    pub gap_before: u64,
    /// When the row's last sample was captured.
    pub captured_at: Instant,
    /// When the analysis thread finished the row.
    pub finished_at: Instant,
    /// `n_fft/2 + 1` values in `scale`; for a column run ([`SpectrumRow::columns`]),
    /// the columns' display values, bottom pixel first (empty for a gap).
    pub bins: Vec<f32>,
    /// `Some` when the pane's rows are folded into time columns ([`Control::SetColumns`]):
    /// which columns this message fills. `params`, `first_sample` and the instants are
    /// then those of the newest row folded in, and `gap_before` is 0 (gaps come as runs).
    pub columns: Option<ColumnRun>,
}

/// Time columns a message fills (see `render::timeaxis::ColumnFold`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnRun {
    /// The geometry it was made with (see [`Control::SetColumns`]).
    pub grid_id: u64,
    /// Its time grid (what a re-render of the history before it must fold on).
    pub grid: TimeGrid,
    /// First column (absolute: counted from the stream's start on the grid).
    pub first: u64,
    /// Last column, inclusive.
    pub last: u64,
    /// Rows folded into it; 0: a gap in the input (hatched, no values).
    pub rows: u32,
    /// End sample (exclusive) of the oldest row folded in; for a gap, where it ended.
    pub first_row_end: u64,
}

impl SpectrumRow {
    /// Index and value of the strongest bin.
    pub fn peak(&self) -> (usize, f32) {
        self.bins
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (k, v)| {
                if v > best.1 {
                    (k, v)
                } else {
                    best
                }
            })
    }
}
