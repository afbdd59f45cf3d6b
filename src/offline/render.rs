//! `hopscope render`: a WAV → a spectrogram image with axes and colour bar → an 8-bit
//! indexed PNG.
//!
//! The plot is computed as palette levels (each pixel's colour index as the window maps
//! dB, 0 = floor … 255 = ceiling, merged into [`PALETTE_LEVELS`] levels), laid out as
//! image rows ([`index_tiles`]); the chrome (`chrome::draw`, the window's axes, labels
//! and colour bar) is drawn once and turned into palette entries
//! ([`RenderPalette::chrome_indices`]); the encoder pulls each image row from both
//! ([`plot_row`]), so no RGB frame of the image is ever made.

use std::io::Write as _;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::plot::{stream_plot, PlotColumns};
use super::source::{MonoSource, RowFeed};
use super::{prepare_outputs, stage_export, unless_interrupted};
use crate::config::{PlotWidth, RenderConfig};
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::error::{Error, Result};
use crate::io::atomic::{commit_all, Staged};
use crate::io::interrupt;
use crate::io::png::{encode_indexed, IndexRows};
use crate::io::wav::NanPolicy;
use crate::render::chrome::{Chrome, Layout};
use crate::render::colormap::{Colormap, DbRange};
use crate::render::freqmap::{ColumnMap, FreqAxis, Span};

/// What `render` did.
#[derive(Clone, Debug)]
pub struct RenderReport {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// STFT rows (plot columns).
    pub rows: usize,
    /// Bins per row.
    pub bins: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Files written by `--export`.
    pub exported: Vec<std::path::PathBuf>,
}

/// Time ticks for a plot whose column `x` starts at `first_column_s + x·seconds_per_column`
/// s: at least ~90 px apart, on a 1-2-5 step in seconds (`12.5s`) up to 50 s, beyond that
/// on a clock step (1, 2, 5, 10, 15, 30 min; 1, 2, 3, 6, 12, 24 h) labelled `45m`, `1h30`,
/// `12h`.
pub fn time_ticks(
    columns: usize,
    seconds_per_column: f64,
    first_column_s: f64,
) -> Vec<(usize, String)> {
    const CLOCK_STEPS_S: [f64; 12] = [
        60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0,
        86400.0,
    ];
    let span = columns as f64 * seconds_per_column;
    let raw = span * 90.0 / columns.max(1) as f64;
    let (step, decimals) = match raw > 50.0 {
        true => (
            CLOCK_STEPS_S
                .iter()
                .copied()
                .find(|&s| s >= raw)
                .unwrap_or((raw / 86400.0).ceil() * 86400.0),
            0,
        ),
        false => crate::render::chrome::time_step(raw),
    };
    let label = |t: f64| match step >= 60.0 {
        true => clock_label(t),
        false => format!("{t:.decimals$}s"),
    };
    let mut ticks = Vec::new();
    let mut k = (first_column_s / step).ceil();
    loop {
        let t = k * step;
        if t > first_column_s + span + 1e-9 {
            break;
        }
        let x = ((t - first_column_s) / seconds_per_column).round() as usize;
        if x < columns {
            ticks.push((x, label(t)));
        }
        k += 1.0;
    }
    ticks
}

/// A whole number of minutes as `45m`, `2h`, `1h30`.
pub fn clock_label(t_s: f64) -> String {
    let minutes = (t_s / 60.0).round() as u64;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}"),
    }
}

/// A duration for the title: `12.3 s`, `2:05.0`, `1:02:03`.
pub fn duration_label(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    match h {
        0 => format!("{m}:{:04.1}", seconds - 60.0 * (whole / 60) as f64),
        _ => format!("{h}:{m:02}:{s:02}"),
    }
}

/// Frames per transposed block in [`index_tiles`]: 64 columns × plot height bytes stay
/// in L2 while they are turned into 64-byte runs of image rows.
pub const TILE_BLOCK: usize = 64;

/// Plot columns per strip of [`index_tiles`], one rayon task each: 28 strips for the
/// README's 600 s render, so two to a few dozen cores share them evenly.
pub const STRIP_COLUMNS: usize = 32 * TILE_BLOCK;

/// A plot's palette levels (0 = floor … [`PALETTE_LEVELS`] − 1 = ceiling), image-row-major,
/// in vertical strips of [`STRIP_COLUMNS`] columns (the last one narrower).
#[derive(Clone, Debug, PartialEq)]
pub struct IndexTiles {
    /// Plot height (image rows, 0 = top = highest frequency).
    pub height: usize,
    /// The strips, left to right.
    pub tiles: Vec<IndexTile>,
}

/// A vertical strip of [`IndexTiles`].
#[derive(Clone, Debug, PartialEq)]
pub struct IndexTile {
    /// Plot columns (STFT rows) held.
    pub columns: usize,
    /// `index[r·columns + m]`: image row `r`, column `m` of the strip.
    pub index: Vec<u8>,
}

impl IndexTiles {
    /// Copies plot row `r` into `out` (the plot's width).
    #[inline]
    pub fn index_row(&self, r: usize, out: &mut [u8]) {
        let mut at = 0;
        for tile in &self.tiles {
            out[at..at + tile.columns]
                .copy_from_slice(&tile.index[r * tile.columns..(r + 1) * tile.columns]);
            at += tile.columns;
        }
    }
}

/// Transposes `block` (`n` columns of `height` indices each, column after column) into
/// columns `at..at + n` of the image-row-major `dst` whose rows are `stride` long.
///
/// 8 × 8 byte squares at a time, transposed inside a `u64` each (three rounds of
/// masked swaps); the ragged edges byte by byte.
pub fn transpose_block(
    block: &[u8],
    height: usize,
    n: usize,
    dst: &mut [u8],
    stride: usize,
    at: usize,
) {
    let (n8, h8) = (n / 8 * 8, height / 8 * 8);
    for r0 in (0..h8).step_by(8) {
        for j0 in (0..n8).step_by(8) {
            let mut a: [u64; 8] = std::array::from_fn(|j| {
                let o = (j0 + j) * height + r0;
                u64::from_le_bytes(block[o..o + 8].try_into().expect("8 bytes"))
            });
            for (k, mask) in [
                (4usize, 0x0000_0000_ffff_ffffu64),
                (2, 0x0000_ffff_0000_ffff),
                (1, 0x00ff_00ff_00ff_00ff),
            ] {
                let shift = 8 * k as u32;
                for j in (0..8).filter(|j| j & k == 0) {
                    let t = ((a[j] >> shift) ^ a[j + k]) & mask;
                    a[j] ^= t << shift;
                    a[j + k] ^= t;
                }
            }
            for (r, word) in a.iter().enumerate() {
                let o = (r0 + r) * stride + at + j0;
                dst[o..o + 8].copy_from_slice(&word.to_le_bytes());
            }
        }
    }
    let naive = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>, dst: &mut [u8]| {
        for r in rows {
            for m in cols.clone() {
                dst[r * stride + at + m] = block[m * height + r];
            }
        }
    };
    naive(0..h8, n8..n, dst);
    naive(h8..height, 0..n, dst);
}

/// Palette levels of one plot column, top row first, from `db` (an STFT row in dBFS):
/// the colour index `range.index` of each of `map`'s pixels (0..=255, as the window maps
/// dB), merged into its level [`RenderPalette::level_of`]. A map whose pixel `y` is
/// exactly bin `y` (a linear axis over all bins, one pixel each: `render`'s default)
/// skips `map.apply`.
pub(crate) fn column_levels(
    db: &[f32],
    map: &ColumnMap,
    identity: bool,
    range: DbRange,
    column: &mut [f32],
    out: &mut [u8],
) {
    let values = if identity {
        db
    } else {
        map.apply(db, column);
        &*column
    };
    pixel_levels(values, range, out);
}

/// Palette levels, top row first, of a plot column's pixel values in dB (bottom first).
pub(crate) fn pixel_levels(values: &[f32], range: DbRange, out: &mut [u8]) {
    // Written to vectorise (no saturating float → int cast, which x86-64's SSE2 does one
    // lane at a time; no table lookup):
    // - `DbRange::index`: (t·255 + 0.5) clamped to 0..=255 (`max` takes NaN to 0, as the
    //   cast there does) and truncated, exactly: adding and subtracting 2^23 rounds to
    //   the nearest integer, one less where that rounded up; the integer is then read
    //   from the mantissa of index + 2^23;
    // - `level_of`'s round(index·247/255) = (index·247 + 127)/255 for every index 0..=255.
    const ROUND: f32 = 8_388_608.0;
    let (floor, span) = (range.floor_db, range.ceiling_db - range.floor_db);
    for (o, &v) in out.iter_mut().zip(values.iter().rev()) {
        let t = (v - floor) / span;
        #[allow(
            clippy::manual_clamp,
            reason = "NaN must become 0; `clamp` keeps it NaN"
        )]
        let y = (t * 255.0 + 0.5).max(0.0).min(255.0);
        let nearest = (y + ROUND) - ROUND;
        let index = if nearest > y { nearest - 1.0 } else { nearest };
        let index = ((index + ROUND).to_bits() & 0xff) as u16;
        *o = ((index * (PALETTE_LEVELS as u16 - 1) + 127) / 255) as u8;
    }
}

/// Whether `map` takes pixel `y` from bin `y` alone, for every pixel of every bin.
pub(crate) fn is_identity(map: &ColumnMap) -> bool {
    map.height() == map.num_bins()
        && map.spans().iter().enumerate().all(|(y, s)| {
            *s == Span::Max {
                lo: y as u32,
                hi: y as u32,
            }
        })
}

/// Computes the STFT rows `0..rows` of `samples`, maps each through `map` (a plot column,
/// flipped so row 0 is the top) and `range` to palette levels, and lays them out as
/// image rows: strips of [`STRIP_COLUMNS`] consecutive columns on rayon's pool, each in
/// blocks of [`TILE_BLOCK`] columns. Every column is computed by an identical clone of
/// one planned transform, so the levels do not depend on the threads.
///
/// Thread: caller (waits) plus the pool. Stops early (strips left partly zero) when a
/// signal arrives; the caller checks [`interrupt`].
pub fn index_tiles(
    samples: &[f32],
    rows: usize,
    params: StftParams,
    map: &ColumnMap,
    range: DbRange,
) -> IndexTiles {
    let height = map.height();
    let transform = FrameTransform::new(params, ValueScale::Db);
    let plot = PlotMapping {
        map,
        identity: is_identity(map),
        range,
    };
    let firsts: Vec<usize> = (0..rows).step_by(STRIP_COLUMNS).collect();
    let tiles = firsts
        .par_iter()
        .map_init(
            || StripWorker::new(&transform, height),
            |worker, &first| worker.strip(samples, first, STRIP_COLUMNS.min(rows - first), &plot),
        )
        .collect();
    IndexTiles { height, tiles }
}

/// STFT row → plot column → palette levels, as [`column_levels`] takes them.
pub(crate) struct PlotMapping<'a> {
    pub(crate) map: &'a ColumnMap,
    pub(crate) identity: bool,
    pub(crate) range: DbRange,
}

/// One task's transform and buffers in [`index_tiles`], reused strip after strip.
pub(crate) struct StripWorker {
    tf: FrameTransform,
    /// One STFT row (dBFS).
    row: Vec<f32>,
    /// One mapped plot column.
    column: Vec<f32>,
    /// [`TILE_BLOCK`] columns of levels, column after column.
    block: Vec<u8>,
}

impl StripWorker {
    pub(crate) fn new(transform: &FrameTransform, height: usize) -> Self {
        StripWorker {
            tf: transform.clone(),
            row: vec![0.0; transform.params().num_bins()],
            column: vec![0.0; height],
            block: vec![0; TILE_BLOCK * height],
        }
    }

    /// The strip of `columns` plot columns from STFT row `first` on.
    pub(crate) fn strip(
        &mut self,
        samples: &[f32],
        first: usize,
        columns: usize,
        plot: &PlotMapping<'_>,
    ) -> IndexTile {
        let height = self.column.len();
        let params = self.tf.params();
        let mut index = vec![0u8; columns * height];
        for at in (0..columns).step_by(TILE_BLOCK) {
            if interrupt::received().is_some() {
                break; // the caller returns the interruption
            }
            let n = TILE_BLOCK.min(columns - at);
            for (j, out) in self.block.chunks_exact_mut(height).take(n).enumerate() {
                let start = (first + at + j) * params.hop_size;
                self.tf
                    .process(&samples[start..start + params.win_length], &mut self.row);
                column_levels(
                    &self.row,
                    plot.map,
                    plot.identity,
                    plot.range,
                    &mut self.column,
                    out,
                );
            }
            transpose_block(&self.block, height, n, &mut index, columns, at);
        }
        IndexTile { columns, index }
    }
}

/// Colormap levels in a rendered PNG's palette. An indexed PNG holds at most 256
/// colours, fewer than the plot's 256 colour indices plus the chrome's own colours, so
/// the indices are merged into this many evenly spaced levels (as sox's `spectrogram`
/// quantises to 249), which leaves [`CHROME_ENTRIES`] entries for the chrome.
pub const PALETTE_LEVELS: usize = 248;

/// Palette entries reserved for the chrome's colours outside the colour bar
/// (background, labels and ticks: 3 today).
pub const CHROME_ENTRIES: usize = 256 - PALETTE_LEVELS;

/// The palette of a rendered PNG: [`PALETTE_LEVELS`] colours of the colormap, then the
/// chrome's own colours in the order they are first met (top row first).
#[derive(Clone, Debug, PartialEq)]
pub struct RenderPalette {
    /// `0x00RRGGBB`, at most 256.
    pub colours: Vec<u32>,
    /// Colour index (0..=255) → palette entry of its level: `round(i·247/255)`.
    pub level_of: [u8; 256],
}

impl RenderPalette {
    /// The levels of the colormap whose table is `lut`: level `l` shows the colour of
    /// index `round(l·255/247)`, which is the index of that level nearest to it.
    pub fn new(lut: &[u32; 256]) -> Self {
        let last = (PALETTE_LEVELS - 1) as f64;
        let level_of = std::array::from_fn(|i| (i as f64 * last / 255.0).round() as u8);
        let colours = (0..PALETTE_LEVELS)
            .map(|l| lut[(l as f64 * 255.0 / last).round() as usize])
            .collect();
        RenderPalette { colours, level_of }
    }

    /// The palette entries of `frame`'s pixels outside `layout.plot` (0 inside it), a
    /// frame `chrome::draw` painted with the colormap of `lut`. Colour-bar pixels take
    /// their colour index's level, like the plot's; every other colour is added to the
    /// palette as it is.
    ///
    /// # Errors
    /// More than [`CHROME_ENTRIES`] distinct colours outside the colour bar.
    pub fn chrome_indices(
        &mut self,
        frame: &[u32],
        layout: &Layout,
        lut: &[u32; 256],
    ) -> std::io::Result<Vec<u8>> {
        let (width, plot, bar) = (layout.width, layout.plot, layout.colorbar);
        let mut lut_index = std::collections::HashMap::with_capacity(256);
        for (i, &c) in lut.iter().enumerate().rev() {
            lut_index.insert(c, i); // the first index of a repeated colour wins
        }
        // Zeroed lazily: only the margins' pages are touched.
        let mut out = vec![0u8; frame.len()];
        let mut last = (u32::MAX, 0u8); // (colour, entry) of the previous chrome pixel
        for (y, (src, dst)) in frame
            .chunks_exact(width)
            .zip(out.chunks_exact_mut(width))
            .enumerate()
        {
            let spans = if y >= plot.y && y < plot.y + plot.h {
                [0..plot.x, plot.x + plot.w..width]
            } else {
                [0..width, 0..0]
            };
            for span in spans {
                for x in span {
                    let c = src[x] & 0x00ff_ffff;
                    dst[x] = if bar.contains(x, y) {
                        let i = lut_index.get(&c).copied().unwrap_or_default();
                        self.level_of[i]
                    } else if c == last.0 {
                        last.1
                    } else {
                        last = (c, self.chrome_entry(c)?);
                        last.1
                    };
                }
            }
        }
        Ok(out)
    }

    /// The entry of chrome colour `c` (added if new).
    fn chrome_entry(&mut self, c: u32) -> std::io::Result<u8> {
        let chrome = &self.colours[PALETTE_LEVELS..];
        if let Some(k) = chrome.iter().position(|&k| k == c) {
            return Ok((PALETTE_LEVELS + k) as u8);
        }
        if chrome.len() == CHROME_ENTRIES {
            return Err(std::io::Error::other(format!(
                "internal: the chrome uses more than {CHROME_ENTRIES} colours"
            )));
        }
        self.colours.push(c);
        Ok((self.colours.len() - 1) as u8)
    }
}

/// Row `y` of a rendered image as palette entries: `chrome`'s outside `layout.plot`
/// (from [`RenderPalette::chrome_indices`]), the plot's levels from `tiles`.
pub fn plot_row(layout: &Layout, chrome: &[u8], tiles: &IndexTiles, y: usize, out: &mut [u8]) {
    let (width, plot) = (layout.width, layout.plot);
    let src = &chrome[y * width..(y + 1) * width];
    if y < plot.y || y >= plot.y + plot.h {
        out.copy_from_slice(src);
        return;
    }
    out[..plot.x].copy_from_slice(&src[..plot.x]);
    out[plot.x + plot.w..].copy_from_slice(&src[plot.x + plot.w..]);
    tiles.index_row(y - plot.y, &mut out[plot.x..plot.x + plot.w]);
}

/// Most plot pixels (STFT rows × plot height) `render` draws: 2^28, so the colour-index
/// tiles hold at most 256 MiB and the frame at most 1 GiB of address space (zeroed
/// lazily: only the margins' pages are touched). E.g. 262 000 columns at the default
/// 1025-pixel height of n_fft 2048: 23 min of 48 kHz audio at hop 256.
pub const MAX_RENDER_PLOT_PIXELS: usize = 1 << 28;

/// Refuses a plot of `rows` columns × `plot_h` pixels over [`MAX_RENDER_PLOT_PIXELS`],
/// before anything of that size is allocated.
fn check_plot_size(rows: usize, plot_h: usize) -> Result<()> {
    let pixels = rows.saturating_mul(plot_h);
    if pixels <= MAX_RENDER_PLOT_PIXELS {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        flag: "--hop",
        message: format!(
            "the plot would be {rows} columns x {plot_h} px = {pixels} pixels, over the limit of {MAX_RENDER_PLOT_PIXELS}: raise --hop, lower --height or --n-fft, or render an excerpt"
        ),
    })
}

/// Runs `hopscope render`: the whole file, one column per row, through the window's
/// column map, colormap and chrome.
///
/// # Errors
/// Unreadable WAV, a bad channel or frequency range, a file too short, an unwritable output.
pub fn run(cfg: &RenderConfig) -> Result<RenderReport> {
    if let Some(spec) = &cfg.frontend {
        return super::frontend_render::run(cfg, spec);
    }
    unless_interrupted(render_staged(cfg))
}

fn render_staged(cfg: &RenderConfig) -> Result<RenderReport> {
    let started = Instant::now();
    prepare_outputs(&cfg.output, cfg.export.as_deref())?;
    // 1. The source, its frequency axis and the plot's columns, all checked.
    let (mut source, input) = open_input(cfg)?;
    // 2. The output, staged before the work so that an unwritable one fails at once.
    let mut png = Staged::create(&cfg.output)?;
    // 3. STFT rows → column map → palette levels laid out as image rows, streamed.
    let map = ColumnMap::new(
        &input.axis,
        input.plot_h,
        cfg.params.fft_size,
        input.sample_rate_hz,
    );
    let mut feed = RowFeed::new(cfg.params, false);
    let limit = (MAX_RENDER_PLOT_PIXELS / input.plot_h) as u64;
    let tiles = stream_plot(
        &mut source,
        &mut feed,
        cfg.params,
        input.columns,
        &map,
        cfg.look.range,
        limit,
    )?;
    let summary = source.finish()?;
    let rows = feed.next_row() as usize;
    if rows == 0 {
        return Err(Error::Wav {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, fewer than one window of {}",
                summary.frames, cfg.params.win_length
            ),
        });
    }
    // 4. The chrome around the plot and the palette of both.
    let plot_w = tiles.tiles.iter().map(|t| t.columns).sum();
    let layout = Layout::for_plot(plot_w, input.plot_h);
    let seconds = summary.frames as f64 / f64::from(input.sample_rate_hz);
    let write_error = |source| Error::Write {
        path: cfg.output.clone(),
        source,
    };
    let (chrome, palette) =
        chrome_image(cfg, &input, &layout, rows, seconds).map_err(write_error)?;
    interrupt::check()?;
    // 5. The PNG: image rows assembled from the chrome and the tiles, encoded in bands.
    let row = |y: usize, out: &mut [u8]| plot_row(&layout, &chrome, &tiles, y, out);
    write_png(&mut png, &layout, &palette.colours, &row).map_err(write_error)?;
    // 6. The --export files, then every output renamed into place together.
    let mut staged = vec![png];
    let spec = crate::offline::export::ExportSpec {
        sample_rate_hz: input.sample_rate_hz,
        params: cfg.params,
        center: false,
        scale: ValueScale::Db,
        mel: None,
        channel: cfg.channel.index_in(input.channels),
        params_from: cfg.params_from.as_ref(),
    };
    let exported = stage_export(cfg.export.as_deref(), &spec, &mut staged)?;
    interrupt::check()?;
    commit_all(staged)?;
    Ok(RenderReport {
        width: layout.width,
        height: layout.height,
        rows,
        bins: cfg.params.num_bins(),
        elapsed: started.elapsed(),
        exported,
    })
}

/// What the plot needs of the input `render` draws.
struct RenderInput {
    sample_rate_hz: u32,
    channels: usize,
    axis: FreqAxis,
    /// How rows become columns.
    columns: PlotColumns,
    /// Plot height in pixels.
    plot_h: usize,
    /// Seconds of the file before the first sample drawn (`--start`).
    start_s: f64,
}

/// Opens `cfg.input` and checks it against `cfg`: the channel, the crop, the frequency
/// range, the plot's size; a fixed width needs the row count, counted by a first
/// decoding pass when the header does not give the length.
fn open_input(cfg: &RenderConfig) -> Result<(MonoSource, RenderInput)> {
    let source = MonoSource::open(&cfg.input, cfg.channel, cfg.nan, cfg.crop)?;
    let info = source.info().clone();
    let axis = cfg.look.axis(cfg.freq_scale, info.sample_rate_hz)?;
    let plot_h = cfg.height.unwrap_or(cfg.params.num_bins());
    let sr = f64::from(info.sample_rate_hz);
    let columns = match cfg.width {
        None => {
            if let Some(frames) = source.expected_frames() {
                check_plot_size(cfg.params.rows_for(frames) as usize, plot_h)?;
            }
            PlotColumns::PerRow
        }
        Some(width) => {
            let frames = match source.expected_frames() {
                Some(n) => n,
                None => count_frames(cfg)?,
            };
            let rows = cfg.params.rows_for(frames);
            let px = match width {
                PlotWidth::Px(px) => px as u64,
                PlotWidth::PxPerSecond(pps) => ((frames as f64 / sr * pps).round() as u64).max(1),
            };
            check_plot_size(px as usize, plot_h)?;
            PlotColumns::Fold { rows, width: px }
        }
    };
    let start_s = source.start_frame() as f64 / sr;
    let input = RenderInput {
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        axis,
        columns,
        plot_h,
        start_s,
    };
    Ok((source, input))
}

/// The mono frames `cfg`'s crop of a file without a declared length holds, by decoding it
/// once (a file; standard input and pipes cannot be read twice).
fn count_frames(cfg: &RenderConfig) -> Result<u64> {
    if crate::io::wav::is_stream(&cfg.input) {
        return Err(Error::InvalidArgument {
            flag: "--width",
            message: format!(
                "'{}' gives no length, and a fixed width needs one: render a file, or leave out --width and --px-per-second",
                cfg.input.display()
            ),
        });
    }
    let mut counter = MonoSource::open(&cfg.input, cfg.channel, NanPolicy::Zero, cfg.crop)?;
    let mut scratch = Vec::new();
    loop {
        scratch.clear();
        if counter.read(&mut scratch, 1 << 16)? == 0 {
            return Ok(counter.delivered());
        }
    }
}

/// The chrome of a `layout`-sized image as palette entries (0 in the plot), and the
/// palette: the colormap's levels, then the chrome's colours.
///
/// # Errors
/// More chrome colours than the palette has room for (a bug).
fn chrome_image(
    cfg: &RenderConfig,
    input: &RenderInput,
    layout: &Layout,
    rows: usize,
    seconds: f64,
) -> std::io::Result<(Vec<u8>, RenderPalette)> {
    let (params, range, axis) = (cfg.params, cfg.look.range, &input.axis);
    let sample_rate_hz = input.sample_rate_hz;
    let sr = f64::from(sample_rate_hz);
    // Column x shows the rows from ⌊x·rows/width⌋ on, ending (m·hop + win_length)/sr.
    let ticks = time_ticks(
        layout.plot.w,
        rows as f64 * params.hop_size as f64 / sr / layout.plot.w as f64,
        input.start_s + params.win_length as f64 / sr,
    );
    let title = format!(
        "{}  {sample_rate_hz} Hz  n_fft {}  win {}  hop {}  {}  {} {:.0}-{:.0} Hz  {:.0}..{:.0} dBFS  {}",
        file_name(&cfg.input),
        params.fft_size,
        params.win_length,
        params.hop_size,
        params.window,
        axis.scale,
        axis.lo_hz(),
        axis.fmax_hz,
        range.floor_db,
        range.ceiling_db,
        duration_label(seconds),
    );
    let cmap = Colormap::new(cfg.look.colormap);
    let chrome = Chrome {
        axis,
        cmap: &cmap,
        range,
        time_ticks: &ticks,
        title: &title,
        unit: "dBFS",
    };
    indexed_chrome(layout, &chrome)
}

/// `path`'s file name, for a title (empty when it has none).
pub(crate) fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The image with everything but the plot painted by `chrome::draw` (the window's axes,
/// ticks, colour bar and title), as palette entries (0 in the plot), and the palette:
/// `chrome.cmap`'s levels, then the chrome's colours. A zeroed allocation is mapped
/// lazily, so only the margins' pages are ever touched; the plot comes from the tiles.
///
/// # Errors
/// More chrome colours than the palette has room for (a bug).
pub(crate) fn indexed_chrome(
    layout: &Layout,
    chrome: &Chrome<'_>,
) -> std::io::Result<(Vec<u8>, RenderPalette)> {
    let (width, height) = (layout.width, layout.height);
    let mut frame = vec![0u32; width * height];
    let mut canvas = crate::render::text::Canvas {
        pixels: &mut frame,
        width,
        height,
    };
    crate::render::chrome::draw(&mut canvas, layout, chrome);
    let mut palette = RenderPalette::new(chrome.cmap.lut());
    let indices = palette.chrome_indices(&frame, layout, chrome.cmap.lut())?;
    Ok((indices, palette))
}

/// Encodes the `layout`-sized image whose rows `row` gives into `png`, flushed.
pub(crate) fn write_png(
    png: &mut Staged,
    layout: &Layout,
    palette: &[u32],
    row: &IndexRows<'_>,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, png);
    encode_indexed(&mut out, layout.width, layout.height, palette, row)?;
    out.flush()
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::render::freqmap::FreqScale;

    #[test]
    fn transpose_block_matches_the_naive_transposition() {
        for (height, n, stride, at) in [
            (1025, 64, 200, 3),
            (17, 13, 40, 0),
            (8, 8, 8, 0),
            (3, 1, 5, 4),
        ] {
            let block: Vec<u8> = (0..height * n).map(|i| (i * 31 % 251) as u8).collect();
            let mut got = vec![0xaa; height * stride];
            transpose_block(&block, height, n, &mut got, stride, at);
            let mut want = vec![0xaa; height * stride];
            for r in 0..height {
                for m in 0..n {
                    want[r * stride + at + m] = block[m * height + r];
                }
            }
            assert_eq!(got, want, "{height}x{n}");
        }
    }

    #[test]
    fn column_levels_equal_the_column_map_range_and_palette_levels() {
        let range = DbRange {
            floor_db: -97.5,
            ceiling_db: -3.25,
        };
        let level_of = RenderPalette::new(&[0; 256]).level_of;
        let db: Vec<f32> = (0..1025)
            .map(|i| match i {
                5 => f32::NAN,
                6 => f32::NEG_INFINITY,
                7 => f32::INFINITY,
                _ => -130.0 + (i as f32 * 0.731) % 140.0,
            })
            .collect();
        for (scale, height) in [
            (FreqScale::Linear, 1025),
            (FreqScale::Linear, 300),
            (FreqScale::Log, 1025),
            (FreqScale::Linear, 2000),
        ] {
            let axis = FreqAxis {
                scale,
                fmin_hz: if scale == FreqScale::Linear {
                    0.0
                } else {
                    20.0
                },
                fmax_hz: 24_000.0,
            };
            let map = ColumnMap::new(&axis, height, 2048, 48_000);
            let mut mapped = vec![0.0; height];
            map.apply(&db, &mut mapped);
            let want: Vec<u8> = mapped
                .iter()
                .rev()
                .map(|&v| level_of[range.index(v)])
                .collect();
            // The general path always; the shortcut where the map allows it.
            for identity in [false, is_identity(&map)] {
                let mut column = vec![0.0; height];
                let mut got = vec![0u8; height];
                column_levels(&db, &map, identity, range, &mut column, &mut got);
                assert_eq!(got, want, "{scale:?} {height} identity {identity}");
            }
        }
    }

    #[test]
    fn column_levels_of_every_colour_index_are_level_of() {
        // 257 bins on a linear axis over all of them: the identity map.
        let axis = FreqAxis {
            scale: FreqScale::Linear,
            fmin_hz: 0.0,
            fmax_hz: 24_000.0,
        };
        let map = ColumnMap::new(&axis, 257, 512, 48_000);
        assert!(is_identity(&map));
        let range = DbRange {
            floor_db: -120.0,
            ceiling_db: 0.0,
        };
        // Bin b (drawn at row 256 − b) at colour index b's centre; bin 256 above the top.
        let db: Vec<f32> = (0..257)
            .map(|b| -120.0 + b as f32 * 120.0 / 255.0)
            .collect();
        let level_of = RenderPalette::new(&[0; 256]).level_of;
        let mut got = vec![0u8; 257];
        column_levels(&db, &map, true, range, &mut vec![0.0; 257], &mut got);
        for (b, &v) in db.iter().enumerate() {
            let i = range.index(v);
            assert_eq!(i, b.min(255));
            assert_eq!(got[256 - b], level_of[i], "colour index {i}");
        }
    }

    #[test]
    fn palette_levels_are_the_colormap_within_one_step() {
        use crate::render::colormap::{Colormap, ColormapKind};
        let cmap = Colormap::new(ColormapKind::Grayscale);
        let palette = RenderPalette::new(cmap.lut());
        assert_eq!(palette.colours.len(), PALETTE_LEVELS);
        for i in 0..256 {
            let level = usize::from(palette.level_of[i]);
            // Grayscale: the colour's red channel is its colour index.
            let shown = (palette.colours[level] >> 16) as usize;
            assert!(shown.abs_diff(i) <= 1, "index {i} shows {shown}");
            if i > 0 {
                let step = level - usize::from(palette.level_of[i - 1]);
                assert!(step <= 1, "levels are consecutive at {i}");
            }
        }
        // Every level is used, and its representative index maps back to it.
        for (level, &c) in palette.colours.iter().enumerate() {
            let i = (c >> 16) as usize;
            assert_eq!(usize::from(palette.level_of[i]), level);
        }
    }

    #[test]
    fn chrome_colours_are_kept_exactly_and_the_colour_bar_takes_levels() {
        use crate::render::colormap::{Colormap, ColormapKind};
        let cmap = Colormap::new(ColormapKind::Magma);
        let layout = Layout::for_plot(300, 200);
        let axis = FreqAxis {
            scale: FreqScale::Linear,
            fmin_hz: 0.0,
            fmax_hz: 24_000.0,
        };
        let range = DbRange {
            floor_db: -120.0,
            ceiling_db: 0.0,
        };
        let mut frame = vec![0u32; layout.width * layout.height];
        let mut canvas = crate::render::text::Canvas {
            pixels: &mut frame,
            width: layout.width,
            height: layout.height,
        };
        let ticks = time_ticks(300, 0.01, 0.0);
        let spec = crate::render::chrome::Chrome {
            axis: &axis,
            cmap: &cmap,
            range,
            time_ticks: &ticks,
            title: "title",
            unit: "dBFS",
        };
        crate::render::chrome::draw(&mut canvas, &layout, &spec);
        let mut palette = RenderPalette::new(cmap.lut());
        let index = palette
            .chrome_indices(&frame, &layout, cmap.lut())
            .expect("the chrome's colours fit");
        let chrome = &palette.colours[PALETTE_LEVELS..];
        assert!(chrome.contains(&crate::render::chrome::BACKGROUND));
        assert!(chrome.contains(&crate::render::chrome::FOREGROUND));
        assert!(chrome.contains(&crate::render::chrome::TICK));
        let lut_pos = |c: u32| cmap.lut().iter().position(|&k| k == c);
        for y in 0..layout.height {
            for x in 0..layout.width {
                let (c, e) = (frame[y * layout.width + x], index[y * layout.width + x]);
                if layout.plot.contains(x, y) {
                    assert_eq!(e, 0);
                } else if layout.colorbar.contains(x, y) {
                    let i = lut_pos(c).expect("a colormap colour");
                    assert_eq!(e, palette.level_of[i], "colour bar at ({x}, {y})");
                } else {
                    assert_eq!(palette.colours[usize::from(e)], c, "({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn index_tiles_are_the_same_on_any_number_of_threads_and_equal_each_column() {
        let params = StftParams {
            fft_size: 256,
            win_length: 200,
            hop_size: 50,
            window: crate::dsp::window::WindowKind::Hann,
        };
        let samples: Vec<f32> = (0..(STRIP_COLUMNS + 300) * 50 + 200)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let rows = params.rows_for(samples.len() as u64) as usize;
        let axis = FreqAxis {
            scale: FreqScale::Log,
            fmin_hz: 50.0,
            fmax_hz: 24_000.0,
        };
        let map = ColumnMap::new(&axis, 90, params.fft_size, 48_000);
        let range = DbRange {
            floor_db: -100.0,
            ceiling_db: 0.0,
        };
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            pool.install(|| index_tiles(&samples, rows, params, &map, range))
        };
        let tiles = on(1);
        assert_eq!(tiles, on(3));
        assert_eq!(tiles.tiles.len(), rows.div_ceil(STRIP_COLUMNS));
        // Each column: the transform's dB row through the map and the range, top first.
        let mut tf = FrameTransform::new(params, ValueScale::Db);
        let mut db = vec![0.0; params.num_bins()];
        let mut mapped = vec![0.0; map.height()];
        let level_of = RenderPalette::new(&[0; 256]).level_of;
        let mut image = vec![vec![0u8; rows]; map.height()];
        for (r, row) in image.iter_mut().enumerate() {
            tiles.index_row(r, row);
        }
        for m in (0..rows).step_by(97).chain([rows - 1]) {
            tf.process(&samples[m * 50..m * 50 + 200], &mut db);
            map.apply(&db, &mut mapped);
            for (r, &v) in mapped.iter().rev().enumerate() {
                assert_eq!(image[r][m], level_of[range.index(v)], "column {m} row {r}");
            }
        }
    }
}
