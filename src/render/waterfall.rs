//! The scrolling waterfall: a circular image of columns (time along x, newest at the
//! right), kept as dB values and as colours, so the colormap and dB range re-colour the
//! whole history and the cursor can read levels.
//!
//! Pushing a column writes `height` pixels; composing copies the visible columns into the
//! frame with two `copy_from_slice` per pixel row. Nothing is shifted per row.

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
    /// dB values, `[row * capacity + column]`, row 0 = top of the plot.
    values: Vec<f32>,
    /// Colours, same layout.
    pixels: Vec<u32>,
    /// Stream time (s) of each column's newest sample.
    times_s: Vec<f64>,
    /// Serial number of the next column to be pushed.
    next_serial: u64,
    markers: Vec<Marker>,
    markers_made: u64,
}

impl Waterfall {
    /// An empty image of `capacity` columns × `height` pixels (background = floor colour).
    pub fn new(capacity: usize, height: usize, background: u32) -> Self {
        let capacity = capacity.max(1);
        Waterfall {
            capacity,
            height,
            values: vec![f32::NEG_INFINITY; capacity * height],
            pixels: vec![background; capacity * height],
            times_s: vec![f64::NAN; capacity],
            next_serial: 0,
            markers: Vec::with_capacity(64),
            markers_made: 0,
        }
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

    /// Appends one column: `bottom_up[0]` is the lowest frequency pixel.
    ///
    /// Thread: UI. Allocates: no.
    pub fn push_column(&mut self, bottom_up: &[f32], time_s: f64, cmap: &Colormap, range: DbRange) {
        debug_assert_eq!(bottom_up.len(), self.height);
        let col = (self.next_serial % self.capacity as u64) as usize;
        let lut = cmap.lut();
        for (i, &v) in bottom_up.iter().enumerate() {
            let idx = (self.height - 1 - i) * self.capacity + col;
            self.values[idx] = v;
            self.pixels[idx] = lut[range.index(v)];
        }
        self.times_s[col] = time_s;
        self.next_serial += 1;
        let oldest = self.next_serial.saturating_sub(self.capacity as u64);
        self.markers.retain(|m| m.column >= oldest);
    }

    /// Marks that the next column starts new parameters.
    pub fn add_marker(&mut self, label: String) {
        if self.markers.len() == self.markers.capacity() {
            self.markers.remove(0);
        }
        self.markers.push(Marker {
            column: self.next_serial,
            label,
            lane: (self.markers_made % 4) as u8,
        });
        self.markers_made += 1;
    }

    /// Markers still in the image, oldest first.
    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    /// Re-colours the whole history (after a colormap or dB range change).
    pub fn recolor(&mut self, cmap: &Colormap, range: DbRange) {
        let lut = cmap.lut();
        for (p, &v) in self.pixels.iter_mut().zip(&self.values) {
            *p = lut[range.index(v)];
        }
    }

    fn slot(&self, serial: u64) -> Option<usize> {
        let oldest = self.next_serial.saturating_sub(self.capacity as u64);
        (serial >= oldest && serial < self.next_serial)
            .then(|| (serial % self.capacity as u64) as usize)
    }

    /// dB value at column `serial`, pixel row `row` (0 = top); `None` if not held.
    pub fn value(&self, serial: u64, row: usize) -> Option<f32> {
        let col = self.slot(serial)?;
        (row < self.height).then(|| self.values[row * self.capacity + col])
    }

    /// Stream time of column `serial`.
    pub fn time_s(&self, serial: u64) -> Option<f64> {
        self.slot(serial).map(|c| self.times_s[c])
    }

    /// Copies the `width` columns ending before serial `view_end` into `dst` (row-major,
    /// `dst_stride` pixels per row) at (`x0`, `y0`), newest at the right; columns not (or
    /// no longer) held are filled with `background`.
    ///
    /// Thread: UI. Allocates: no.
    #[allow(clippy::too_many_arguments)]
    pub fn compose_into(
        &self,
        dst: &mut [u32],
        dst_stride: usize,
        x0: usize,
        y0: usize,
        width: usize,
        view_end: u64,
        background: u32,
    ) {
        let oldest_held = self.next_serial.saturating_sub(self.capacity as u64);
        let view_end = view_end.min(self.next_serial);
        let start = view_end.saturating_sub(width as u64);
        // Columns [start, view_end) are shown at the right; pad on the left.
        // A view older than everything held shows only background.
        let first_held = start.max(oldest_held).min(view_end);
        let shown = (view_end - first_held) as usize;
        let pad = width - shown;
        let c0 = (first_held % self.capacity as u64) as usize;
        let first_len = shown.min(self.capacity - c0);
        for row in 0..self.height {
            let d = (y0 + row) * dst_stride + x0;
            let src = row * self.capacity;
            dst[d..d + pad].fill(background);
            dst[d + pad..d + pad + first_len]
                .copy_from_slice(&self.pixels[src + c0..src + c0 + first_len]);
            let rest = shown - first_len;
            dst[d + pad + first_len..d + width].copy_from_slice(&self.pixels[src..src + rest]);
        }
    }
}
