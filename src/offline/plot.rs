//! `render`'s plot computed as the audio streams in: palette levels for one column per
//! STFT row ([`PlotColumns::PerRow`]), or rows folded into a fixed number of columns by
//! the maximum per display pixel ([`PlotColumns::Fold`], `--width` / `--px-per-second`),
//! the aggregation of the live window's time axis at small hops
//! ([`crate::render::timeaxis::ColumnFold`]).
//!
//! Memory: three batches of rows' samples (≤ [`BATCH_SAMPLES`] each plus a window) and the plot's
//! levels (width × height bytes), whatever the file's length.
//!
//! Thread: caller (waits) plus rayon's pool.

use rayon::prelude::*;

use super::render::{
    is_identity, pixel_levels, transpose_block, IndexTile, IndexTiles, PlotMapping, StripWorker,
};
use super::source::{MonoSource, RowFeed};
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::error::Result;
use crate::io::interrupt;
use crate::render::colormap::DbRange;
use crate::render::freqmap::ColumnMap;

/// Samples per batch of rows computed at once on the pool (8 MB of f32; up to three
/// batches wait, the next one being decoded while this one is computed).
pub const BATCH_SAMPLES: usize = 1 << 21;

/// How STFT rows become plot columns.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotColumns {
    /// One column per row.
    PerRow,
    /// `rows` rows in `width` columns: column `x` holds rows
    /// `a(x) .. max(a(x) + 1, a(x + 1))`, `a(x) = ⌊x·rows/width⌋`, each pixel the
    /// maximum of its rows (a row spans several columns when there are fewer rows).
    Fold {
        /// Rows of the whole plot.
        rows: u64,
        /// Columns.
        width: u64,
    },
}

impl PlotColumns {
    /// The columns row `m` is drawn in: `first..=last`.
    pub fn columns_of(&self, m: u64) -> (u64, u64) {
        match *self {
            PlotColumns::PerRow => (m, m),
            PlotColumns::Fold { rows, width } => {
                let (rows, width) = (u128::from(rows.max(1)), u128::from(width));
                let m = u128::from(m).min(rows - 1);
                // The last x with a(x) ≤ m: x < (m + 1)·width/rows.
                let last = ((m + 1) * width).div_ceil(rows) - 1;
                let first = if width >= rows {
                    (m * width).div_ceil(rows)
                } else {
                    last
                };
                (first as u64, last.min(width - 1) as u64)
            }
        }
    }
}

/// Computes the plot of every row `feed` cuts from `source`, mapped through `map` and
/// `range` to palette levels, laid out as image rows. One column per row stops at
/// `max_rows` rows (a stream whose length was not known: the plot's size limit).
///
/// # Errors
/// A read failure, a signal, or more than `max_rows` columns.
pub fn stream_plot(
    source: &mut MonoSource,
    feed: &mut RowFeed,
    params: StftParams,
    columns: PlotColumns,
    map: &ColumnMap,
    range: DbRange,
    max_rows: u64,
) -> Result<IndexTiles> {
    let transform = FrameTransform::new(params, ValueScale::Db);
    let pieces = 2 * rayon::current_num_threads();
    let batch_rows = (BATCH_SAMPLES / params.hop_size).clamp(pieces * 64, pieces * 4096);
    let mut plot = Plot::new(columns, map.height());
    let identity = is_identity(map);
    let batch_samples = batch_rows * params.hop_size;
    let mut incoming: Vec<f32> = Vec::new();
    loop {
        interrupt::check()?;
        // Synchronous only at the start: each batch reads the next one's samples.
        let n = feed.fill(source, batch_rows)?;
        if n == 0 {
            break;
        }
        let first_row = feed.next_row();
        if columns == PlotColumns::PerRow && first_row + n as u64 > max_rows {
            return Err(crate::error::Error::InvalidArgument {
                flag: "--hop",
                message: format!(
                    "the plot would be more than {max_rows} columns, over the size limit: give --width or --px-per-second, raise --hop, or render an excerpt (--start/--end)"
                ),
            });
        }
        let per = n.div_ceil(pieces);
        let samples = feed.samples();
        // Read ahead while fewer than two batches of samples wait.
        let more =
            feed.total_rows().is_none() && samples.len() - n * params.hop_size < 2 * batch_samples;
        let (parts, read): (Vec<Part>, Result<usize>) = rayon::join(
            || {
                (0..n.div_ceil(per))
                    .into_par_iter()
                    .map_init(
                        || Worker::new(&transform, map.height()),
                        |w, k| {
                            let rows = k * per..((k + 1) * per).min(n);
                            w.part(samples, first_row, rows, columns, map, identity, range)
                        },
                    )
                    .collect()
            },
            || match more {
                true => source.read(&mut incoming, batch_samples),
                false => Ok(0),
            },
        );
        let got = read?;
        for part in parts {
            plot.add(part, range);
        }
        feed.advance(n);
        if more {
            feed.push(&incoming, got == 0);
            incoming.clear();
        }
    }
    interrupt::check()?;
    Ok(plot.finish(range))
}

/// One task's piece of a batch.
enum Part {
    /// Levels of consecutive columns, as an image-row-major tile.
    Tile(IndexTile),
    /// Maxima (bottom pixel first) of columns `first..first + maxima.len()`.
    Fold { first: u64, maxima: Vec<Vec<f32>> },
}

/// A task's transform and buffers.
struct Worker {
    /// One column per row: the in-memory render's strip worker.
    strip: StripWorker,
    tf: FrameTransform,
    row: Vec<f32>,
    column: Vec<f32>,
}

impl Worker {
    fn new(transform: &FrameTransform, height: usize) -> Worker {
        Worker {
            strip: StripWorker::new(transform, height),
            tf: transform.clone(),
            row: vec![0.0; transform.params().num_bins()],
            column: vec![0.0; height],
        }
    }

    /// Rows `rows` (of the batch whose first row is `first_row`, in `samples`).
    #[allow(clippy::too_many_arguments)]
    fn part(
        &mut self,
        samples: &[f32],
        first_row: u64,
        rows: std::ops::Range<usize>,
        columns: PlotColumns,
        map: &ColumnMap,
        identity: bool,
        range: DbRange,
    ) -> Part {
        let (hop, win) = (self.tf.params().hop_size, self.tf.params().win_length);
        let height = self.column.len();
        match columns {
            PlotColumns::PerRow => {
                let plot = PlotMapping {
                    map,
                    identity,
                    range,
                };
                Part::Tile(self.strip.strip(samples, rows.start, rows.len(), &plot))
            }
            PlotColumns::Fold { .. } => {
                let first = columns.columns_of(first_row + rows.start as u64).0;
                let last = columns.columns_of(first_row + rows.end as u64 - 1).1;
                let mut maxima = vec![vec![f32::NEG_INFINITY; height]; (last - first + 1) as usize];
                for r in rows {
                    let start = r * hop;
                    self.tf.process(&samples[start..start + win], &mut self.row);
                    let values: &[f32] = if identity {
                        &self.row
                    } else {
                        map.apply(&self.row, &mut self.column);
                        &self.column
                    };
                    let (a, b) = columns.columns_of(first_row + r as u64);
                    for acc in &mut maxima[(a - first) as usize..=(b - first) as usize] {
                        for (m, &v) in acc.iter_mut().zip(values) {
                            *m = m.max(v);
                        }
                    }
                }
                Part::Fold { first, maxima }
            }
        }
    }
}

/// The plot as it is assembled, part after part.
struct Plot {
    columns: PlotColumns,
    tiles: Vec<IndexTile>,
    /// Fold: levels of every column, column after column (top pixel first).
    levels: Vec<u8>,
    /// Fold: the last column seen, still open to the next part.
    open: Option<(u64, Vec<f32>)>,
    height: usize,
}

impl Plot {
    fn new(columns: PlotColumns, height: usize) -> Plot {
        let levels = match columns {
            PlotColumns::PerRow => Vec::new(),
            PlotColumns::Fold { width, .. } => vec![0u8; width as usize * height],
        };
        Plot {
            columns,
            tiles: Vec::new(),
            levels,
            open: None,
            height,
        }
    }

    fn add(&mut self, part: Part, range: DbRange) {
        match part {
            Part::Tile(tile) => self.tiles.push(tile),
            Part::Fold { first, maxima } => {
                for (i, acc) in maxima.into_iter().enumerate() {
                    let col = first + i as u64;
                    match &mut self.open {
                        Some((open, open_acc)) if *open == col => {
                            for (m, v) in open_acc.iter_mut().zip(&acc) {
                                *m = m.max(*v);
                            }
                        }
                        _ => {
                            self.close(range);
                            self.open = Some((col, acc));
                        }
                    }
                }
            }
        }
    }

    /// Turns the open column into levels.
    fn close(&mut self, range: DbRange) {
        let Some((col, acc)) = self.open.take() else {
            return;
        };
        let h = self.height;
        let out = &mut self.levels[col as usize * h..(col as usize + 1) * h];
        pixel_levels(&acc, range, out);
    }

    fn finish(mut self, range: DbRange) -> IndexTiles {
        let height = self.height;
        if let PlotColumns::Fold { width, .. } = self.columns {
            self.close(range);
            let w = width as usize;
            let mut index = vec![0u8; w * height];
            transpose_block(&self.levels, height, w, &mut index, w, 0);
            self.tiles = vec![IndexTile { columns: w, index }];
        }
        IndexTiles {
            height,
            tiles: self.tiles,
        }
    }
}
