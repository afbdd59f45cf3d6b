//! One pane of the window: its band of the frame, its waterfall and column map, and how
//! rows become columns (time zoom, gaps, parameter-change markers, re-rendered history).

use crate::analysis::message::SpectrumRow;
use crate::config::pane::PaneSettings;
use crate::dsp::stft::StftParams;
use crate::render::chrome::{Layout, BACKGROUND};
use crate::render::colormap::{Colormap, ColormapKind, DbRange};
use crate::render::freqmap::{mel_axis, ColumnMap, FreqAxis};
use crate::render::waterfall::Waterfall;
use crate::ui::labels;
use crate::ui::rerender::Rerendered;

/// Waterfall history in screen widths (how long a pause can hold its view).
pub const HISTORY_SCREENS: usize = 4;

/// The frequency axis pane settings `s` are drawn on: the mel bands' own axis in the mel
/// view (band i's centre in the middle of stripe i).
pub fn display_axis(s: &PaneSettings) -> FreqAxis {
    match s.mel {
        Some(mel) => mel_axis(&mel.spec(&s.axis)),
        None => s.axis,
    }
}

/// The bins → pixels map of pane settings `s` for rows of `fft_size`.
fn column_map(s: &PaneSettings, height: usize, fft_size: usize, sample_rate_hz: u32) -> ColumnMap {
    match s.mel {
        Some(mel) => ColumnMap::mel(&mel.spec(&s.axis), height, fft_size, sample_rate_hz),
        None => ColumnMap::new(&s.axis, height, fft_size, sample_rate_hz),
    }
}

/// What a pane's chrome was drawn for: axis, colours, range, and whether it shows mel
/// bands.
pub type ChromeKey = (FreqAxis, ColormapKind, DbRange, bool);

/// A re-render in flight: its id and the first waterfall column drawn with the new
/// parameters (everything before it will be replaced).
pub struct PendingRerender {
    /// The request's id.
    pub id: u64,
    /// The first column the re-rendered rows do not replace.
    pub cut_serial: u64,
}

/// A re-render a pane wants: its history before `first_end` under `params` (the column
/// map is the pane's current one), replacing the columns before `cut_serial`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RerenderWant {
    /// The pane.
    pub pane: usize,
    /// Parameters to re-render with.
    pub params: StftParams,
    /// End sample (exclusive) of the newest row to re-render.
    pub first_end: u64,
    /// The first column drawn with `params`.
    pub cut_serial: u64,
}

/// How rows become columns in a pane, for one row.
pub struct RowLook<'a> {
    /// The pane's time zoom (see `ViewState::pane_zoom`).
    pub zoom: i32,
    /// Colours.
    pub cmap: &'a Colormap,
    /// dB range.
    pub range: DbRange,
}

/// Rows folded into one column while time is compressed (zoom < 0).
struct ZoomAcc {
    max: Vec<f32>,
    count: u32,
}

impl ZoomAcc {
    fn new(height: usize) -> ZoomAcc {
        ZoomAcc {
            max: vec![f32::NEG_INFINITY; height],
            count: 0,
        }
    }

    /// Pushes one row's column: `2^zoom` copies when stretched, or the maximum of
    /// `2^−zoom` rows when compressed (peaks survive).
    ///
    /// Allocates: no.
    fn push(&mut self, waterfall: &mut Waterfall, column: &[f32], time_s: f64, look: &RowLook) {
        let (zoom, cmap, range) = (look.zoom, look.cmap, look.range);
        if zoom >= 0 {
            for _ in 0..(1u32 << zoom) {
                waterfall.push_column(column, time_s, cmap, range);
            }
            return;
        }
        for (a, &v) in self.max.iter_mut().zip(column) {
            *a = a.max(v);
        }
        self.count += 1;
        if self.count >= 1u32 << (-zoom) {
            waterfall.push_column(&self.max, time_s, cmap, range);
            self.max.fill(f32::NEG_INFINITY);
            self.count = 0;
        }
    }
}

/// Draws the gap in the input before `row` as hatched columns: as many as the rows
/// the gap's real duration would have made (at the pane's zoom), at most a screenful.
///
/// Allocates: no.
fn push_gap(waterfall: &mut Waterfall, row: &SpectrumRow, look: &RowLook) {
    let hop = row.params.hop_size as u64;
    let rows = row.gap_before / hop.max(1);
    let columns = if look.zoom >= 0 {
        rows << look.zoom
    } else {
        rows >> (-look.zoom)
    }
    .clamp(1, waterfall.capacity() as u64);
    let rate = f64::from(row.sample_rate_hz.max(1));
    let start = row.first_sample.saturating_sub(row.gap_before) as f64;
    let step = row.gap_before as f64 / columns as f64;
    for k in 0..columns {
        waterfall.push_gap(
            (start + (k + 1) as f64 * step) / rate,
            look.cmap,
            look.range,
        );
    }
}

/// One pane: a full-width band of the frame with its own layout (label line, frequency
/// axis, plot, time ticks, colour bar), waterfall and column map. Its rows come from its
/// own STFT in the analysis thread.
///
/// Thread: UI. Allocates: when made, on parameter or axis changes, and when re-rendered
/// history arrives; not per row or per frame.
pub struct Pane {
    /// First frame row of the band; the band is `layout.height` rows.
    pub y0: usize,
    /// The band's layout, in band coordinates.
    pub layout: Layout,
    /// The columns drawn so far.
    pub waterfall: Waterfall,
    map: ColumnMap,
    map_fft_size: usize,
    column: Vec<f32>,
    /// Rows folded into the next column while time is compressed.
    zoom_acc: ZoomAcc,
    /// Serial just past the newest column shown.
    pub view_end: u64,
    /// Everything outside the plot that changes only with layout, axis, colours or range.
    pub chrome: Vec<u32>,
    /// What `chrome` was drawn for (`None`: not yet).
    pub chrome_key: Option<ChromeKey>,
    /// Parameters of the newest row drawn (`None`: none yet).
    pub last_params: Option<StftParams>,
    /// End sample (exclusive) of the newest row drawn.
    pub last_row_end: Option<u64>,
    /// The re-render in flight.
    pub rerender: Option<PendingRerender>,
}

impl Pane {
    /// A `width × height` band at frame row `y0`, empty.
    pub fn new(
        y0: usize,
        (width, height): (usize, usize),
        settings: &PaneSettings,
        sample_rate_hz: u32,
        cmap: &Colormap,
    ) -> Pane {
        let layout = Layout::new(width, height);
        let (w, h) = (layout.plot.w, layout.plot.h);
        let fft_size = settings.params.fft_size;
        Pane {
            y0,
            layout,
            waterfall: Waterfall::new(w * HISTORY_SCREENS, h, cmap.lut()[0]),
            map: column_map(settings, h, fft_size, sample_rate_hz),
            map_fft_size: fft_size,
            column: vec![0.0; h],
            zoom_acc: ZoomAcc::new(h),
            view_end: 0,
            chrome: vec![BACKGROUND; width * height],
            chrome_key: None,
            last_params: None,
            last_row_end: None,
            rerender: None,
        }
    }

    /// The column map the pane uses now (what a re-render must use).
    pub fn map(&self) -> &ColumnMap {
        &self.map
    }

    /// A new column map for `settings` and rows of `fft_size` (the current n_fft when
    /// `None`).
    pub fn remap(&mut self, settings: &PaneSettings, fft_size: Option<usize>, sample_rate_hz: u32) {
        let fft_size = fft_size.unwrap_or(self.map_fft_size);
        self.map = column_map(settings, self.layout.plot.h, fft_size, sample_rate_hz);
        self.map_fft_size = fft_size;
    }

    /// The frame's rows `[y0, y0 + height)`: the band this pane draws into.
    pub fn band<'a>(&self, frame: &'a mut [u32]) -> &'a mut [u32] {
        let w = self.layout.width;
        &mut frame[self.y0 * w..(self.y0 + self.layout.height) * w]
    }

    /// Draws `row` (of this pane, with `settings`): a marker and a new map when its
    /// parameters changed, the gap before it, then its column(s). Returns the re-render
    /// of the history that the new parameters call for (`rerender`: whether wanted).
    ///
    /// Allocates: only when the parameters changed.
    pub fn take_row(
        &mut self,
        row: &SpectrumRow,
        settings: &PaneSettings,
        rerender: bool,
        look: &RowLook,
    ) -> Option<RerenderWant> {
        let want = self.follow_params(row, settings, rerender);
        if row.gap_before > 0 {
            push_gap(&mut self.waterfall, row, look);
        }
        self.map.apply(&row.bins, &mut self.column);
        let row_end = row.first_sample + row.params.win_length as u64;
        self.last_row_end = Some(row_end);
        let time_s = row_end as f64 / row.sample_rate_hz as f64;
        self.zoom_acc
            .push(&mut self.waterfall, &self.column, time_s, look);
        want
    }

    /// A row with other parameters than the last one: its marker, a map for its n_fft,
    /// and (when `rerender`) the history redrawn as these parameters would have.
    fn follow_params(
        &mut self,
        row: &SpectrumRow,
        settings: &PaneSettings,
        rerender: bool,
    ) -> Option<RerenderWant> {
        let new_params = self.last_params != Some(row.params);
        if !new_params && row.params.fft_size == self.map_fft_size {
            return None;
        }
        if let Some(old) = self.last_params.filter(|old| *old != row.params) {
            self.waterfall
                .add_marker(labels::change_label(&old, &row.params));
        }
        if row.params.fft_size != self.map_fft_size {
            self.remap(settings, Some(row.params.fft_size), row.sample_rate_hz);
        }
        self.last_params = Some(row.params);
        (new_params && rerender).then(|| RerenderWant {
            pane: row.pane,
            params: row.params,
            first_end: row.first_sample + row.params.win_length as u64,
            cut_serial: self.waterfall.next_serial(),
        })
    }

    /// What redrawing the history up to the newest row drawn (under its parameters and
    /// the current map) needs; `None` before the first row.
    pub fn rerender_current(&self, pane: usize) -> Option<RerenderWant> {
        let (end, p) = (self.last_row_end?, self.last_params?);
        Some(RerenderWant {
            pane,
            params: p,
            first_end: end + p.hop_size as u64,
            cut_serial: self.waterfall.next_serial(),
        })
    }

    /// Moves the view to the newest column, or (paused) keeps it on the same columns
    /// while they are held.
    pub fn follow_view(&mut self, paused: bool) {
        self.view_end = if paused {
            self.waterfall
                .paused_view_end(self.view_end, self.layout.plot.w)
        } else {
            self.waterfall.next_serial()
        };
    }

    /// Replaces the waterfall with the re-rendered rows followed by the columns drawn
    /// since the change (and their markers); a paused view stays on the same moment.
    /// Returns whether the waterfall was replaced (not when the window was resized
    /// meanwhile).
    pub fn rebuild_history(
        &mut self,
        done: &Rerendered,
        pending: &PendingRerender,
        paused: bool,
        look: &RowLook,
    ) -> bool {
        let old = &self.waterfall;
        if done.height != old.height() {
            return false;
        }
        let paused_time = paused
            .then(|| self.view_end.checked_sub(1).and_then(|s| old.time_s(s)))
            .flatten();
        let mut fresh = Waterfall::new(old.capacity(), old.height(), look.cmap.lut()[0]);
        let mut acc = ZoomAcc::new(old.height());
        for (column, &t) in done
            .columns
            .chunks_exact(done.height.max(1))
            .zip(&done.times_s)
        {
            acc.push(&mut fresh, column, t, look);
        }
        copy_since_cut(old, &mut fresh, pending.cut_serial, look);
        self.waterfall = fresh;
        if let Some(t) = paused_time {
            self.view_end = newest_at_or_before(&self.waterfall, t);
        }
        true
    }
}

/// Appends the columns of `old` from `cut_serial` on (and their markers, but the cut's
/// own) to `fresh`.
fn copy_since_cut(old: &Waterfall, fresh: &mut Waterfall, cut_serial: u64, look: &RowLook) {
    let mut column = vec![0.0; old.height()];
    for serial in cut_serial..old.next_serial() {
        let Some(t) = old.time_s(serial) else {
            continue;
        };
        if !old.column(serial, &mut column) {
            continue;
        }
        for m in old.markers() {
            if m.column == serial && serial != cut_serial {
                fresh.add_marker(m.label.clone());
            }
        }
        fresh.push_column(&column, t, look.cmap, look.range);
    }
}

/// The view end just past the newest column at or before time `t_s`.
fn newest_at_or_before(w: &Waterfall, t_s: f64) -> u64 {
    let first = w.next_serial().saturating_sub(w.capacity() as u64);
    (first..w.next_serial())
        .rev()
        .find(|&s| w.time_s(s).is_some_and(|ts| ts <= t_s + 1e-9))
        .map_or(w.next_serial(), |s| s + 1)
}
