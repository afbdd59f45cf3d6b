//! The scrolling waterfall: a circular image of columns (time along x, newest at the
//! right), kept as dB values and as colours, so the colormap and dB range re-colour the
//! whole history and the cursor can read levels.
//!
//! Pushing a column writes `height` pixels; composing copies the visible columns into the
//! frame with two `copy_from_slice` per pixel row, or (the live window on X11) the X
//! server copies them straight from a shared-memory mirror of [`Waterfall::pixels`] using
//! [`Waterfall::visible`]. Nothing is shifted per row.

use std::ops::Range;

use super::colormap::{Colormap, DbRange};

/// A parameter change marker: a label shown at the column where it took effect.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Serial number of the first column with the new parameters.
    pub column: u64,
    /// Short label, e.g. `n_fft 4096`.
    pub label: String,
    /// Which of 4 label rows it is drawn on (successive markers alternate).
    pub lane: u8,
}

/// The circular column image.
///
/// Thread: UI (or an offline renderer). Allocates: in `new` only; `push_column` and
/// `compose_into` allocate nothing (markers allocate their label).
pub struct Waterfall {
    capacity: usize,
    height: usize,
    /// dB values in [`CentiDb`], `[column * height + row]`, row 0 = top of the plot:
    /// column-major, so pushing a column writes one contiguous run.
    values: Vec<CentiDb>,
    /// Colours, `[row * capacity + column]`: row-major, the layout frames are copied from.
    pixels: Vec<u32>,
    /// Stream time (s) of each column's newest sample.
    times_s: Vec<f64>,
    /// Serial number of the next column to be pushed.
    next_serial: u64,
    markers: Vec<Marker>,
    markers_made: u64,
    recolors: u64,
}

impl Waterfall {
    /// An empty image of `capacity` columns × `height` pixels (background = floor colour).
    pub fn new(capacity: usize, height: usize, background: u32) -> Self {
        let capacity = capacity.max(1);
        Waterfall {
            capacity,
            height,
            values: vec![CentiDb::EMPTY; capacity * height],
            pixels: vec![background; capacity * height],
            times_s: vec![f64::NAN; capacity],
            next_serial: 0,
            markers: Vec::with_capacity(64),
            markers_made: 0,
            recolors: 0,
        }
    }

    /// Empties the image in place (no column held, no marker), as [`Waterfall::new`]
    /// with `background` would, without allocating.
    pub fn clear(&mut self, background: u32) {
        self.values.fill(CentiDb::EMPTY);
        self.pixels.fill(background);
        self.times_s.fill(f64::NAN);
        self.next_serial = 0;
        self.markers.clear();
        self.recolors += 1;
    }

    /// Columns held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Pixels per column.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Serial number of the next column (= columns pushed so far).
    pub fn next_serial(&self) -> u64 {
        self.next_serial
    }

    /// Appends one column: `bottom_up[0]` is the lowest frequency pixel; NaN values
    /// (a gap in the input, re-rendered from the history) are drawn as hatching.
    ///
    /// Thread: UI. Allocates: no.
    pub fn push_column(&mut self, bottom_up: &[f32], time_s: f64, cmap: &Colormap, range: DbRange) {
        debug_assert_eq!(bottom_up.len(), self.height);
        let next = self.next_serial;
        self.put_run((next, next), Some(bottom_up), |_| time_s, cmap, range);
    }

    /// Fills columns `first..=last` (serials: absolute column numbers) with `bottom_up`,
    /// or hatches them as a gap when `None`; `time_s(serial)` gives each column's stream
    /// time. Columns skipped before `first` are left empty (background); columns
    /// before the newest one are replaced, keeping the larger value per pixel (re-rendered
    /// history meeting the live columns); of a run longer than the image only its newest
    /// columns are kept.
    ///
    /// Thread: UI. Allocates: no.
    pub fn put_run(
        &mut self,
        (first, last): (u64, u64),
        bottom_up: Option<&[f32]>,
        time_s: impl Fn(u64) -> f64,
        cmap: &Colormap,
        range: DbRange,
    ) {
        let cap = self.capacity as u64;
        if first > self.next_serial {
            // Nothing was drawn there: an empty stretch (at most the image's width).
            self.next_serial = self.next_serial.max(first.saturating_sub(cap));
            while self.next_serial < first {
                let col = (self.next_serial % cap) as usize;
                self.values[col * self.height..(col + 1) * self.height].fill(CentiDb::EMPTY);
                for row in 0..self.height {
                    self.pixels[row * self.capacity + col] = cmap.lut()[0];
                }
                self.times_s[col] = time_s(self.next_serial);
                self.next_serial += 1;
            }
        }
        let oldest = self.next_serial.saturating_sub(cap);
        for serial in first.max(last.saturating_add(1).saturating_sub(cap))..=last {
            if serial < oldest {
                continue;
            }
            let merge = serial < self.next_serial;
            self.write_column(serial, bottom_up, merge, cmap, range);
            self.times_s[(serial % cap) as usize] = time_s(serial);
            self.next_serial = self.next_serial.max(serial + 1);
        }
    }

    /// Writes column `serial`'s slot: `bottom_up` (or the gap's NaN), or with `merge`
    /// the larger of it and what the slot holds.
    fn write_column(
        &mut self,
        serial: u64,
        bottom_up: Option<&[f32]>,
        merge: bool,
        cmap: &Colormap,
        range: DbRange,
    ) {
        let col = (serial % self.capacity as u64) as usize;
        let lut = cmap.lut();
        let values = &mut self.values[col * self.height..(col + 1) * self.height];
        for (row, slot) in values.iter_mut().enumerate() {
            let v = bottom_up.map_or(f32::NAN, |b| b[self.height - 1 - row]);
            // f32::max keeps the number over a NaN (a gap): values win over hatching.
            let v = if merge { slot.db().max(v) } else { v };
            *slot = CentiDb::from_db(v);
            self.pixels[row * self.capacity + col] = pixel(lut, range, slot.db(), row, col);
        }
    }

    /// Marks that the next column starts new parameters.
    pub fn add_marker(&mut self, label: String) {
        self.add_marker_at(self.next_serial, label);
    }

    /// Marks that column `serial` starts new parameters.
    pub fn add_marker_at(&mut self, serial: u64, label: String) {
        if self.markers.len() == self.markers.capacity() {
            self.markers.remove(0);
        }
        self.markers.push(Marker {
            column: serial,
            label,
            lane: (self.markers_made % 4) as u8,
        });
        self.markers_made += 1;
    }

    /// Markers still in the image, oldest first. (Older ones stay in the list, which
    /// holds the newest 64, until a new marker pushes them out: evicting them with their
    /// columns would free their labels on every frame's path.)
    pub fn markers(&self) -> &[Marker] {
        let oldest = self.next_serial.saturating_sub(self.capacity as u64);
        let first = self.markers.partition_point(|m| m.column < oldest);
        &self.markers[first..]
    }

    /// Re-colours the whole history (after a colormap or dB range change).
    pub fn recolor(&mut self, cmap: &Colormap, range: DbRange) {
        let lut = cmap.lut();
        for (col, values) in self.values.chunks_exact(self.height).enumerate() {
            for (row, v) in values.iter().map(|v| v.db()).enumerate() {
                self.pixels[row * self.capacity + col] = pixel(lut, range, v, row, col);
            }
        }
        self.recolors += 1;
    }

    fn slot(&self, serial: u64) -> Option<usize> {
        let oldest = self.next_serial.saturating_sub(self.capacity as u64);
        (serial >= oldest && serial < self.next_serial)
            .then(|| (serial % self.capacity as u64) as usize)
    }

    /// Whether column `serial` is held (drawn, and not yet overwritten).
    pub fn holds(&self, serial: u64) -> bool {
        self.slot(serial).is_some()
    }

    /// dB value at column `serial`, pixel row `row` (0 = top); `None` if not held.
    pub fn value(&self, serial: u64, row: usize) -> Option<f32> {
        let col = self.slot(serial)?;
        (row < self.height).then(|| self.values[col * self.height + row].db())
    }

    /// Copies column `serial` into `bottom_up` (lowest pixel first, as pushed); `false`
    /// when it is not held.
    ///
    /// Allocates: no.
    pub fn column(&self, serial: u64, bottom_up: &mut [f32]) -> bool {
        let Some(col) = self.slot(serial) else {
            return false;
        };
        let values = &self.values[col * self.height..(col + 1) * self.height];
        for (out, v) in bottom_up.iter_mut().zip(values.iter().rev()) {
            *out = v.db();
        }
        true
    }

    /// Stream time of column `serial`.
    pub fn time_s(&self, serial: u64) -> Option<f64> {
        self.slot(serial).map(|c| self.times_s[c])
    }

    /// The end of a paused view of `width` columns that ended at `view_end`: unchanged
    /// while its oldest column is held, else slid just enough to show only held columns
    /// (a pause longer than the history). While nothing has been evicted yet the view
    /// stays put, padding included.
    pub fn paused_view_end(&self, view_end: u64, width: usize) -> u64 {
        let evicted = self.next_serial.saturating_sub(self.capacity as u64);
        if evicted == 0 {
            view_end
        } else {
            view_end.max(evicted + width as u64).min(self.next_serial)
        }
    }

    /// Where the `width` columns ending before serial `view_end` come from: a left pad
    /// (columns not, or no longer, held), up to two runs of the circular image, and a
    /// right pad (columns not drawn yet: a pane whose rows come later than another's).
    pub fn visible(&self, width: usize, view_end: u64) -> Visible {
        let oldest_held = self.next_serial.saturating_sub(self.capacity as u64);
        let right_pad = (view_end.saturating_sub(self.next_serial)).min(width as u64) as usize;
        let width = width - right_pad;
        let view_end = view_end.min(self.next_serial);
        let start = view_end.saturating_sub(width as u64);
        // Columns [start, view_end) are shown at the right; pad on the left.
        // A view older than everything held shows only background.
        let first_held = start.max(oldest_held).min(view_end);
        let shown = ((view_end - first_held) as usize).min(width);
        let c0 = (first_held % self.capacity as u64) as usize;
        let first_len = shown.min(self.capacity - c0);
        Visible {
            pad: width - shown,
            first_col: c0,
            first_len,
            second_len: shown - first_len,
            right_pad,
        }
    }

    /// The colour image, `[row * capacity + column]` (row 0 = top): what [`Visible`]'s
    /// runs index.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// Counts whole-image re-colourings: a copy of [`Waterfall::pixels`] made under an
    /// older count is stale everywhere, not only in new columns.
    pub fn recolors(&self) -> u64 {
        self.recolors
    }

    /// Copies the view's `width` columns ending before serial `view_end` into `dst`
    /// (row-major, `dst_stride` pixels per row) at (`x0`, `y0`), newest at the right;
    /// columns not (or no longer) held are filled with `background`.
    ///
    /// Thread: UI. Allocates: no.
    pub fn compose_into(&self, dst: &mut [u32], dst_stride: usize, view: &View) {
        self.compose_region(dst, dst_stride, view, 0..view.width, 0..self.height);
    }

    /// Like [`Waterfall::compose_into`], but only view columns `cols` and pixel rows
    /// `rows` (both relative to the view's top-left corner; clipped to the view).
    ///
    /// Thread: UI. Allocates: no.
    pub fn compose_region(
        &self,
        dst: &mut [u32],
        dst_stride: usize,
        view: &View,
        cols: Range<usize>,
        rows: Range<usize>,
    ) {
        let vis = self.visible(view.width, view.view_end);
        let cols = cols.start.min(view.width)..cols.end.min(view.width);
        let rows = rows.start.min(self.height)..rows.end.min(self.height);
        // The three runs in view columns: pad, first, second.
        let pad = 0..vis.pad;
        let first = vis.pad..vis.pad + vis.first_len;
        let second = first.end..view.width - vis.right_pad;
        let right = second.end..view.width;
        let clip = |r: &Range<usize>| cols.start.max(r.start)..cols.end.min(r.end);
        let (pad, first_c, second_c) = (clip(&pad), clip(&first), clip(&second));
        let right = clip(&right);
        for row in rows {
            let d = (view.y0 + row) * dst_stride + view.x0;
            let src = row * self.capacity;
            if !pad.is_empty() {
                dst[d + pad.start..d + pad.end].fill(view.background);
            }
            if !right.is_empty() {
                dst[d + right.start..d + right.end].fill(view.background);
            }
            if !first_c.is_empty() {
                let s = src + vis.first_col + (first_c.start - first.start);
                dst[d + first_c.start..d + first_c.end]
                    .copy_from_slice(&self.pixels[s..s + first_c.len()]);
            }
            if !second_c.is_empty() {
                let s = src + (second_c.start - second.start);
                dst[d + second_c.start..d + second_c.end]
                    .copy_from_slice(&self.pixels[s..s + second_c.len()]);
            }
        }
    }
}

/// The part of a frame a waterfall is composed into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// Frame x of the view's left edge.
    pub x0: usize,
    /// Frame y of the view's top edge.
    pub y0: usize,
    /// View width in columns.
    pub width: usize,
    /// Serial just past the newest column shown (at the right edge).
    pub view_end: u64,
    /// Colour of columns not held.
    pub background: u32,
}

/// How a view's columns map onto the circular image, left to right: `pad` background
/// columns, `first_len` columns from image column `first_col`, then `second_len` columns
/// from image column 0 (after the wrap), then `right_pad` background columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visible {
    /// Background columns at the left.
    pub pad: usize,
    /// Image column of the first run.
    pub first_col: usize,
    /// Columns in the first run.
    pub first_len: usize,
    /// Columns in the second run (from image column 0).
    pub second_len: usize,
    /// Background columns at the right (not drawn yet).
    pub right_pad: usize,
}

/// Dark stripe of the hatching that marks a gap in the input (no samples).
pub const GAP_DARK: u32 = 0x2A2A2A;
/// Light stripe of the gap hatching.
pub const GAP_LIGHT: u32 = 0x5A5A5A;

/// One pixel: the colormap's colour of `v`, or the gap hatching (diagonal stripes
/// 4 px wide) where `v` is NaN.
fn pixel(lut: &[u32], range: DbRange, v: f32, row: usize, col: usize) -> u32 {
    if v.is_nan() {
        if (row + col) % 8 < 4 {
            GAP_DARK
        } else {
            GAP_LIGHT
        }
    } else {
        lut[range.index(v)]
    }
}

/// A dB value in hundredths of a dB in an `i16` (±327.66 dB; the display's range is
/// −200…+60): half the memory of an `f32` for the image's values, which the readout and
/// snapshots read to 0.01 dB. Two codes are kept for what is not a level: a gap in the
/// input (NaN, hatched) and an empty column (−∞, the floor colour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CentiDb(i16);

impl CentiDb {
    /// A gap in the input (NaN).
    const GAP: CentiDb = CentiDb(i16::MIN);
    /// Nothing drawn (−∞).
    const EMPTY: CentiDb = CentiDb(i16::MIN + 1);

    /// `db` to the nearest 0.01 dB (NaN: a gap; −∞ and anything below −327.66: empty;
    /// above +327.67: the largest).
    fn from_db(db: f32) -> CentiDb {
        if db.is_nan() {
            return CentiDb::GAP;
        }
        let c = (db * 100.0).round();
        if c <= f32::from(i16::MIN + 1) {
            CentiDb::EMPTY
        } else {
            // In range, or saturating at i16::MAX (+∞ included): `as` saturates.
            CentiDb(c as i16)
        }
    }

    /// The value in dB.
    fn db(self) -> f32 {
        match self {
            CentiDb::GAP => f32::NAN,
            CentiDb::EMPTY => f32::NEG_INFINITY,
            CentiDb(c) => f32::from(c) / 100.0,
        }
    }
}
