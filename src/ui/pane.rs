//! One pane of the window: its band of the frame, its waterfall, and how runs of time
//! columns are drawn (parameter-change markers, re-rendered history).

use crate::analysis::message::SpectrumRow;
use crate::config::pane::PaneSettings;
use crate::dsp::stft::StftParams;
use crate::render::chrome::{Layout, BACKGROUND};
use crate::render::colormap::{Colormap, ColormapKind, DbRange};
use crate::render::freqmap::{frontend_axis, mel_axis, FreqAxis};
use crate::render::timeaxis::{column_end_s, column_s, ColumnSpec, TimeGrid};
use crate::render::waterfall::Waterfall;
use crate::ui::labels;
use crate::ui::rerender::Rerendered;

/// Waterfall history in screen widths (how long a pause can hold its view).
pub const HISTORY_SCREENS: usize = 3;

/// The frequency axis pane settings `s` are drawn on: the mel bands' own axis in the mel
/// view (band i's centre in the middle of stripe i).
pub fn display_axis(s: &PaneSettings) -> FreqAxis {
    if let Some(f) = s.frontend {
        return frontend_axis(f);
    }
    match s.mel {
        Some(mel) => mel_axis(&mel.spec(&s.axis)),
        None => s.axis,
    }
}

/// What pane settings `s` draw in a plot of `width_px × height_px` when a screen spans
/// `span_ms`: the spec the analysis folds the pane's rows with.
pub fn column_spec(
    s: &PaneSettings,
    (width_px, height_px): (usize, usize),
    span_ms: u32,
) -> ColumnSpec {
    ColumnSpec {
        bands: s.frontend.map(|f| f.bands()),
        axis: s.axis,
        mel: s.mel.map(|m| m.spec(&s.axis)),
        height_px,
        width_px: width_px as u32,
        span_ms,
    }
}

/// What a pane's chrome was drawn for: axis, colours, range, and whether it shows mel
/// bands.
pub type ChromeKey = (FreqAxis, ColormapKind, DbRange, bool);

/// A re-render in flight: its id and the first column drawn by the live rows it meets
/// (everything before it will be replaced).
pub struct PendingRerender {
    /// The request's id.
    pub id: u64,
    /// The first live column the re-rendered columns do not replace (they merge into it).
    pub cut_serial: u64,
}

/// A re-render a pane wants: its history before `first_end` under `params`, folded on
/// `grid` (the map is the pane's current one), replacing the columns before `cut_serial`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RerenderWant {
    /// The pane.
    pub pane: usize,
    /// Parameters to re-render with.
    pub params: StftParams,
    /// End sample (exclusive) of the oldest live row on the new parameters or grid.
    pub first_end: u64,
    /// The first live column on them.
    pub cut_serial: u64,
    /// The time grid of the live columns.
    pub grid: TimeGrid,
}

/// How values become colours.
pub struct RowLook<'a> {
    /// Colours.
    pub cmap: &'a Colormap,
    /// dB range.
    pub range: DbRange,
    /// The pane shows a model front-end.
    pub frontend: bool,
}

/// One pane: a full-width band of the frame with its own layout (label line, frequency
/// axis, plot, time ticks, colour bar) and waterfall. Its columns come from its own STFT,
/// folded into time columns by the analysis thread (`Control::SetColumns`); column
/// serials are absolute column numbers on the shared time grid, so every pane's column
/// `n` shows the same time.
///
/// Thread: UI. Allocates: when made, on parameter changes (a marker), and when
/// re-rendered history arrives; not per column or per frame.
pub struct Pane {
    /// First frame row of the band; the band is `layout.height` rows.
    pub y0: usize,
    /// The band's layout, in band coordinates.
    pub layout: Layout,
    /// The columns drawn so far.
    pub waterfall: Waterfall,
    /// Seconds one column spans.
    pub column_s: f64,
    /// The geometry the analysis folds this pane's rows with (0: none asked yet); runs
    /// of any other are not drawn.
    pub grid_id: u64,
    /// Whether a run of `grid_id` has been drawn.
    grid_started: bool,
    /// A marker for the first run of `grid_id` (what changed).
    pub grid_marker: Option<String>,
    /// Serial just past the newest column shown (the same in every pane).
    pub view_end: u64,
    /// Everything outside the plot that changes only with layout, axis, colours or range.
    pub chrome: Vec<u32>,
    /// What `chrome` was drawn for (`None`: not yet).
    pub chrome_key: Option<ChromeKey>,
    /// Parameters of the newest row drawn (`None`: none yet).
    pub last_params: Option<StftParams>,
    /// The re-render in flight.
    pub rerender: Option<PendingRerender>,
}

impl Pane {
    /// A `width × height` band at frame row `y0`, empty, whose screen spans `span_ms`.
    pub fn new(y0: usize, (width, height): (usize, usize), span_ms: u32, cmap: &Colormap) -> Pane {
        let layout = Layout::new(width, height);
        let (w, h) = (layout.plot.w, layout.plot.h);
        Pane {
            y0,
            layout,
            waterfall: Waterfall::new(w * HISTORY_SCREENS, h, cmap.lut()[0]),
            column_s: column_s(span_ms, w),
            grid_id: 0,
            grid_started: false,
            grid_marker: None,
            view_end: 0,
            chrome: vec![BACKGROUND; width * height],
            chrome_key: None,
            last_params: None,
            rerender: None,
        }
    }

    /// The frame's rows `[y0, y0 + height)`: the band this pane draws into.
    pub fn band<'a>(&self, frame: &'a mut [u32]) -> &'a mut [u32] {
        let w = self.layout.width;
        &mut frame[self.y0 * w..(self.y0 + self.layout.height) * w]
    }

    /// Stream time at column `serial`'s right edge, s.
    pub fn time_s(&self, serial: u64) -> f64 {
        column_end_s(serial, self.column_s)
    }

    /// From now on the pane's runs come on grid `grid_id` with a screen spanning
    /// `span_ms` (the first run re-renders the history). The columns drawn so far stay
    /// when a column still spans the same time (a new axis or sample rate: they are
    /// replaced by the re-render, or kept as drawn with it off); with another span they
    /// go.
    pub fn regrid(&mut self, grid_id: u64, span_ms: u32, cmap: &Colormap) {
        let column_s = column_s(span_ms, self.layout.plot.w);
        if column_s != self.column_s {
            self.waterfall.clear(cmap.lut()[0]);
        }
        self.column_s = column_s;
        self.grid_id = grid_id;
        self.grid_started = false;
        self.grid_marker = None;
        self.rerender = None;
    }

    /// Draws `row` (a run of time columns of this pane): a marker where its parameters
    /// changed, then its columns. Returns the re-render of the history that new
    /// parameters or a new grid call for (`rerender`: whether wanted).
    ///
    /// Allocates: only when the parameters changed (the marker's label).
    pub fn take_row(
        &mut self,
        row: &SpectrumRow,
        rerender: bool,
        look: &RowLook,
    ) -> Option<RerenderWant> {
        let run = row.columns.filter(|r| r.grid_id == self.grid_id)?;
        let new_params = self.last_params != Some(row.params);
        // A front-end pane's parameters are its geometry in stream samples: its axis
        // marker (N) names the change instead.
        if let Some(old) = self
            .last_params
            .filter(|old| *old != row.params && !look.frontend)
        {
            self.waterfall
                .add_marker_at(run.first, labels::change_label(&old, &row.params));
        }
        let want = ((new_params || !self.grid_started) && rerender).then_some(RerenderWant {
            pane: row.pane,
            params: row.params,
            first_end: run.first_row_end,
            cut_serial: run.first,
            grid: run.grid,
        });
        if let Some(label) = self.grid_marker.take() {
            self.waterfall.add_marker_at(run.first, label);
        }
        self.grid_started = true;
        self.last_params = Some(row.params);
        let values = (run.rows > 0).then_some(row.bins.as_slice());
        let column_s = self.column_s;
        self.waterfall.put_run(
            (run.first, run.last),
            values,
            |s| column_end_s(s, column_s),
            look.cmap,
            look.range,
        );
        want
    }

    /// Replaces the waterfall's columns before the cut with the re-rendered ones, keeping
    /// the live columns from the cut on (and their markers); the column at the cut holds
    /// the larger of both. In place: the image is not allocated twice. Returns whether the
    /// waterfall was rebuilt (not when the window was resized meanwhile).
    ///
    /// Allocates: a copy of the live columns since the cut, and their markers' labels.
    pub fn rebuild_history(
        &mut self,
        done: &Rerendered,
        pending: &PendingRerender,
        look: &RowLook,
    ) -> bool {
        let wf = &mut self.waterfall;
        let h = wf.height();
        if done.height != h {
            return false;
        }
        let cut = pending.cut_serial;
        let next = wf.next_serial();
        let live_from = cut.max(next.saturating_sub(wf.capacity() as u64));
        let live_n = next.saturating_sub(live_from) as usize;
        let mut live = vec![0.0f32; live_n * h];
        let held: Vec<bool> = (0..live_n)
            .map(|k| wf.column(live_from + k as u64, &mut live[k * h..(k + 1) * h]))
            .collect();
        let markers: Vec<(u64, String)> = wf
            .markers()
            .iter()
            .filter(|m| m.column > cut)
            .map(|m| (m.column, m.label.clone()))
            .collect();
        wf.clear(look.cmap.lut()[0]);
        let column_s = self.column_s;
        let time_s = |s: u64| column_end_s(s, column_s);
        for run in done.runs().take_while(|r| r.first <= cut) {
            wf.put_run(
                (run.first, run.last.min(cut)),
                run.values,
                time_s,
                look.cmap,
                look.range,
            );
        }
        // Columns between the newest re-rendered row and the first live one are spanned
        // by the latter (a hop longer than a column), as the live fold would have drawn.
        let filled = wf.next_serial();
        if filled > 0 && filled < cut && live_from == cut && held.first() == Some(&true) {
            wf.put_run(
                (filled, cut - 1),
                Some(&live[..h]),
                time_s,
                look.cmap,
                look.range,
            );
        }
        for (k, column) in live.chunks_exact(h.max(1)).enumerate() {
            let serial = live_from + k as u64;
            for (_, label) in markers.iter().filter(|(c, _)| *c == serial) {
                wf.add_marker_at(serial, label.clone());
            }
            if held[k] {
                wf.put_run(
                    (serial, serial),
                    Some(column),
                    time_s,
                    look.cmap,
                    look.range,
                );
            }
        }
        true
    }
}
