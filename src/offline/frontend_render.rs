//! `hopscope render --frontend NAME`: a model front-end's features of a file as a PNG,
//! drawn as the window draws a front-end pane (one stripe per band on the front-end's
//! band axis, its own units on the colour bar, linear front-ends in `10·log10`).
//!
//! Rows are folded into plot columns as they come (each pixel the maximum of its rows,
//! as `render --width` does for the STFT), before the clamp and the scaling: both are
//! non-decreasing, so clamping the folded maximum equals folding the clamped rows, and
//! the clamp's reference (the whole input's maximum, as in `analyze --frontend`) is known
//! only at the end. Memory: the plot's columns × bands floats.
//!
//! Thread: main (offline commands). Allocates: yes.

use std::time::Instant;

use super::frontend::{commit_with_json, input_resampler, prepare_frontend_outputs};
use super::plot::PlotColumns;
use super::render::{
    duration_label, file_name, indexed_chrome, pixel_levels, plot_row, time_ticks, transpose_block,
    write_png, IndexTile, IndexTiles, RenderPalette, RenderReport, STRIP_COLUMNS,
};
use super::source::MonoSource;
use super::unless_interrupted;
use crate::config::{PlotWidth, RenderConfig};
use crate::dsp::frontend::engine::FrontendEngine;
use crate::dsp::frontend::{row_max, FrontendSpec};
use crate::error::{Error, Result};
use crate::io::atomic::Staged;
use crate::io::interrupt;
use crate::render::chrome::{Chrome, Layout};
use crate::render::colormap::{Colormap, DbRange};
use crate::render::freqmap::{frontend_axis, ColumnMap};
use crate::render::frontend::{display_range, display_unit, display_value};

/// Most plot pixels (columns × height) a front-end render holds.
const MAX_PIXELS: usize = 1 << 28;

/// Runs `render --frontend`.
///
/// # Errors
/// An unreadable input, one too short for a row, a plot too large, an unwritable output,
/// or a signal (nothing is written then).
pub fn run(cfg: &RenderConfig, spec: &FrontendSpec) -> Result<RenderReport> {
    unless_interrupted(staged(cfg, spec))
}

/// The plot's columns of raw (unclamped) band values, folded as rows arrive: each
/// column the maximum of its rows ([`PlotColumns::columns_of`], as the STFT render).
struct Folder {
    bands: usize,
    columns: PlotColumns,
    values: Vec<f32>,
    rows: u64,
    max: f32,
}

impl Folder {
    fn new(bands: usize, columns: PlotColumns) -> Folder {
        let values = match columns {
            PlotColumns::Fold { width, .. } => vec![f32::NEG_INFINITY; width as usize * bands],
            PlotColumns::PerRow => Vec::new(),
        };
        Folder {
            bands,
            columns,
            values,
            rows: 0,
            max: f32::NEG_INFINITY,
        }
    }

    fn push(&mut self, row: &[f32]) {
        self.max = self.max.max(row_max(row));
        let r = self.rows;
        self.rows += 1;
        if self.columns == PlotColumns::PerRow {
            return self.values.extend_from_slice(row);
        }
        let (first, last) = self.columns.columns_of(r);
        for x in first as usize..=last as usize {
            let column = &mut self.values[x * self.bands..(x + 1) * self.bands];
            for (v, &b) in column.iter_mut().zip(row) {
                *v = v.max(b);
            }
        }
    }

    fn columns(&self) -> usize {
        self.values.len() / self.bands
    }
}

fn staged(cfg: &RenderConfig, spec: &FrontendSpec) -> Result<RenderReport> {
    let started = Instant::now();
    prepare_frontend_outputs(&cfg.output, cfg.export.as_deref())?;
    let mut source = MonoSource::open(&cfg.input, cfg.channel, cfg.nan, cfg.crop)?;
    let info = source.info().clone();
    let mut resampler = input_resampler(cfg.input.as_path(), info.sample_rate_hz, spec)?;
    let bands = spec.bands();
    let plot_h = cfg.height.unwrap_or((bands * 4).max(256));
    let fold = fold_for(cfg, &source, &resampler, spec)?;
    let mut png = Staged::create(&cfg.output)?;
    let mut engine = FrontendEngine::new(spec);
    let mut folder = Folder::new(bands, fold);
    let mut samples = Vec::new();
    loop {
        interrupt::check()?;
        samples.clear();
        if source.read(&mut samples, 1 << 16)? == 0 {
            break;
        }
        resampler.push(&samples, |x| engine.push(x, |row| folder.push(row)));
        if folder.columns() * plot_h > MAX_PIXELS {
            return Err(too_large(folder.columns(), plot_h));
        }
    }
    resampler.finish(|x| engine.push(x, |row| folder.push(row)));
    engine.finish(|row| folder.push(row));
    let summary = source.finish()?;
    if folder.rows == 0 {
        return Err(Error::Input {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, the front-end '{}' needs at least {} at {} Hz",
                summary.frames,
                spec.name,
                spec.min_samples().max(1),
                spec.sample_rate_hz
            ),
        });
    }
    let tiles = plot_tiles(spec, &mut folder, plot_h);
    let plot_w = folder.columns();
    let layout = Layout::for_plot(plot_w, plot_h);
    let seconds = summary.frames as f64 / f64::from(info.sample_rate_hz);
    let write_error = |source| Error::Write {
        path: cfg.output.clone(),
        source,
    };
    let start_s = cfg.crop.start_s.unwrap_or(0.0);
    let (chrome, palette) =
        chrome_image(cfg, spec, &layout, folder.rows, seconds, start_s).map_err(write_error)?;
    interrupt::check()?;
    let row = |y: usize, out: &mut [u8]| plot_row(&layout, &chrome, &tiles, y, out);
    write_png(&mut png, &layout, &palette.colours, &row).map_err(write_error)?;
    let exported = commit_with_json(png, cfg.export.as_deref(), spec)?;
    Ok(RenderReport {
        width: layout.width,
        height: layout.height,
        rows: folder.rows as usize,
        bins: bands,
        elapsed: started.elapsed(),
        exported,
    })
}

/// How rows become columns: folded into a fixed width (`--width`, `--px-per-second`),
/// or one column per row.
///
/// # Errors
/// A fixed width for an input without a declared length.
fn fold_for(
    cfg: &RenderConfig,
    source: &MonoSource,
    resampler: &crate::dsp::resample::Resampler,
    spec: &FrontendSpec,
) -> Result<PlotColumns> {
    let Some(width) = cfg.width else {
        return Ok(PlotColumns::PerRow);
    };
    let frames = source
        .expected_frames()
        .ok_or_else(|| Error::InvalidArgument {
            flag: "--width",
            message: format!(
                "'{}' gives no length, and a fixed width with --frontend needs one: leave out --width and --px-per-second",
                cfg.input.display()
            ),
        })?;
    let rows = spec.rows_for(resampler.output_len_for(frames));
    let px = match width {
        PlotWidth::Px(px) => px as u64,
        PlotWidth::PxPerSecond(pps) => {
            let seconds = frames as f64 / f64::from(source.sample_rate_hz());
            ((seconds * pps).round() as u64).max(1)
        }
    };
    Ok(PlotColumns::Fold {
        rows: rows.max(1),
        width: px,
    })
}

fn too_large(columns: usize, plot_h: usize) -> Error {
    Error::InvalidArgument {
        flag: "--frontend",
        message: format!(
            "the plot would be {columns} x {plot_h} px or more: use --width (or --px-per-second) or a smaller --height"
        ),
    }
}

/// The clamp and scaling on the folded maxima, the display conversion, the band stripes
/// and the palette levels, as strips of image rows.
fn plot_tiles(spec: &FrontendSpec, folder: &mut Folder, plot_h: usize) -> IndexTiles {
    let post = spec.post();
    let range = colour_range(spec);
    let map = ColumnMap::stripes(folder.bands, plot_h);
    let (bands, max) = (folder.bands, folder.max);
    let columns = folder.columns();
    let mut pixels = vec![0f32; plot_h];
    // A strip's levels column after column, then laid out as image rows.
    let mut block = vec![0u8; STRIP_COLUMNS * plot_h];
    let mut tiles = Vec::new();
    for first in (0..columns).step_by(STRIP_COLUMNS) {
        let n = STRIP_COLUMNS.min(columns - first);
        for (m, levels) in block.chunks_exact_mut(plot_h).take(n).enumerate() {
            let col = &mut folder.values[(first + m) * bands..(first + m + 1) * bands];
            post.apply(max, col);
            col.iter_mut().for_each(|v| *v = display_value(spec, *v));
            map.apply(col, &mut pixels);
            pixel_levels(&pixels, range, levels);
        }
        let mut index = vec![0u8; n * plot_h];
        transpose_block(&block, plot_h, n, &mut index, n, 0);
        tiles.push(IndexTile { columns: n, index });
    }
    IndexTiles {
        height: plot_h,
        tiles,
    }
}

/// The chrome as palette entries, and the palette: the front-end's band axis, its units
/// on the colour bar, a title with its parameters.
///
/// # Errors
/// More chrome colours than the palette has room for (a bug).
fn chrome_image(
    cfg: &RenderConfig,
    spec: &FrontendSpec,
    layout: &Layout,
    rows: u64,
    seconds: f64,
    start_s: f64,
) -> std::io::Result<(Vec<u8>, RenderPalette)> {
    let axis = frontend_axis(spec);
    let range = colour_range(spec);
    let sr = f64::from(spec.sample_rate_hz);
    let ticks = time_ticks(
        layout.plot.w,
        rows as f64 * spec.hop as f64 / sr / layout.plot.w as f64,
        start_s + spec.win_length as f64 / sr,
    );
    let title = format!(
        "{}  front-end {}  {} Hz  n_fft {}  win {}  hop {}  {} bands  {}..{} {}  {}",
        file_name(&cfg.input),
        spec.name,
        spec.sample_rate_hz,
        spec.n_fft,
        spec.win_length,
        spec.hop,
        spec.bands(),
        range.floor_db,
        range.ceiling_db,
        display_unit(spec),
        duration_label(seconds),
    );
    let cmap = Colormap::new(cfg.look.colormap);
    let chrome = Chrome {
        axis: &axis,
        cmap: &cmap,
        range,
        time_ticks: &ticks,
        title: &title,
        unit: display_unit(spec),
    };
    indexed_chrome(layout, &chrome)
}

/// The colour bar's range: the front-end's `display_range`, as shown.
fn colour_range(spec: &FrontendSpec) -> DbRange {
    let (floor_db, ceiling_db) = display_range(spec);
    DbRange {
        floor_db,
        ceiling_db,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_takes_each_columns_rows_maximum() {
        // 10 rows into 4 columns and 3 rows into 5 columns, against the definition:
        // column x holds rows a(x) .. max(a(x) + 1, a(x + 1)), a(x) = ⌊x·rows/width⌋.
        for (rows, width) in [(10u64, 4u64), (3, 5), (7, 7)] {
            let mut f = Folder::new(1, PlotColumns::Fold { rows, width });
            for r in 0..rows {
                f.push(&[r as f32]);
            }
            for x in 0..width {
                let a = x * rows / width;
                let b = ((x + 1) * rows / width).max(a + 1);
                assert_eq!(
                    f.values[x as usize],
                    (b - 1) as f32,
                    "{rows}/{width} col {x}"
                );
                assert!(a < b);
            }
        }
    }
}
