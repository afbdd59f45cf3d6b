//! `hopscope render`: a WAV → a spectrogram image with axes and colour bar → PNG.

use super::*;

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

/// Time ticks for a plot whose column `x` ends at `(x + 1)·seconds_per_column` s:
/// a 1-2-5 step at least ~90 px apart, labelled in seconds.
pub fn time_ticks(
    columns: usize,
    seconds_per_column: f64,
    first_column_s: f64,
) -> Vec<(usize, String)> {
    let span = columns as f64 * seconds_per_column;
    let raw = span * 90.0 / columns.max(1) as f64;
    let (step, decimals) = crate::render::chrome::time_step(raw);
    let mut ticks = Vec::new();
    let mut t = (first_column_s / step).ceil() * step;
    while t <= first_column_s + span + 1e-9 {
        let x = ((t - first_column_s) / seconds_per_column).round() as usize;
        if x < columns {
            ticks.push((x, format!("{t:.decimals$}s")));
        }
        t += step;
    }
    ticks
}

/// Frames per transposed block in [`index_tiles`]: 64 columns × plot height bytes stay
/// in L2 while they are turned into 64-byte runs of image rows.
pub const TILE_BLOCK: usize = 64;

/// A plot's colour indices (0 = floor … 255 = ceiling), image-row-major, in vertical
/// strips: one per worker of [`index_tiles`].
#[derive(Clone, Debug, PartialEq)]
pub struct IndexTiles {
    /// Plot height (image rows, 0 = top = highest frequency).
    pub height: usize,
    /// Strips, left to right.
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
    /// Writes plot row `r` through `lut` into `out` (the plot's width).
    #[inline]
    pub fn colour_row(&self, r: usize, lut: &[u32; 256], out: &mut [u32]) {
        let mut at = 0;
        for tile in &self.tiles {
            let src = &tile.index[r * tile.columns..(r + 1) * tile.columns];
            for (o, &i) in out[at..at + tile.columns].iter_mut().zip(src) {
                *o = lut[i as usize];
            }
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

/// Colour indices of one plot column, top row first, from `db` (an STFT row in dBFS):
/// `range.index` of `map`'s pixels. A map whose pixel `y` is exactly bin `y` (a linear
/// axis over all bins, one pixel each: `render`'s default) skips `map.apply`.
fn column_indices(
    db: &[f32],
    map: &crate::render::freqmap::ColumnMap,
    identity: bool,
    range: crate::render::colormap::DbRange,
    column: &mut [f32],
    out: &mut [u8],
) {
    let values = if identity {
        db
    } else {
        map.apply(db, column);
        &*column
    };
    // `DbRange::index`, written to vectorise (the same operations, so the same result;
    // clamping to 0..=255 before the cast makes `as u8` equal `as usize`).
    let (floor, span) = (range.floor_db, range.ceiling_db - range.floor_db);
    for (o, &v) in out.iter_mut().zip(values.iter().rev()) {
        let t = (v - floor) / span;
        *o = (t * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
    }
}

/// Whether `map` takes pixel `y` from bin `y` alone, for every pixel of every bin.
fn is_identity(map: &crate::render::freqmap::ColumnMap) -> bool {
    use crate::render::freqmap::Span;
    map.height() == map.num_bins()
        && map.spans().iter().enumerate().all(|(y, s)| {
            *s == Span::Max {
                lo: y as u32,
                hi: y as u32,
            }
        })
}

/// Computes the STFT rows `0..rows` of `samples`, maps each through `map` (a plot column,
/// flipped so row 0 is the top) and `range` to colour indices, and lays them out as
/// image rows: `threads` strips of consecutive columns, each computed by its own thread
/// in blocks of [`TILE_BLOCK`] columns.
pub fn index_tiles(
    samples: &[f32],
    rows: usize,
    params: StftParams,
    map: &crate::render::freqmap::ColumnMap,
    range: crate::render::colormap::DbRange,
    threads: usize,
) -> IndexTiles {
    let height = map.height();
    let bins = params.num_bins();
    let identity = is_identity(map);
    let per = rows.div_ceil(threads.max(1)).max(1);
    let strip = |first: usize| -> IndexTile {
        let columns = per.min(rows - first);
        let mut index = vec![0u8; columns * height];
        let mut tf = FrameTransform::new(params, ValueScale::Db);
        let mut row = vec![0.0f32; bins];
        let mut column = vec![0.0f32; height];
        let mut block = vec![0u8; TILE_BLOCK * height];
        for at in (0..columns).step_by(TILE_BLOCK) {
            if interrupt::received().is_some() {
                break; // the caller returns the interruption
            }
            let n = TILE_BLOCK.min(columns - at);
            for (j, out) in block.chunks_exact_mut(height).take(n).enumerate() {
                let start = (first + at + j) * params.hop_size;
                tf.process(&samples[start..start + params.win_length], &mut row);
                column_indices(&row, map, identity, range, &mut column, out);
            }
            transpose_block(&block, height, n, &mut index, columns, at);
        }
        IndexTile { columns, index }
    };
    let firsts: Vec<usize> = (0..rows).step_by(per).collect();
    let tiles = std::thread::scope(|scope| {
        let handles: Vec<_> = firsts[1..]
            .iter()
            .map(|&first| scope.spawn(move || strip(first)))
            .collect();
        let mut tiles = vec![strip(0)];
        tiles.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("an index worker panicked")),
        );
        tiles
    });
    IndexTiles { height, tiles }
}

/// Row `y` of a rendered image: `chrome`'s pixels outside `layout.plot` (a frame
/// `chrome::draw` painted), the plot's from `tiles` through `lut`.
pub fn plot_row(
    layout: &crate::render::chrome::Layout,
    chrome: &[u32],
    tiles: &IndexTiles,
    lut: &[u32; 256],
    y: usize,
    out: &mut [u32],
) {
    let (width, plot) = (layout.width, layout.plot);
    let src = &chrome[y * width..(y + 1) * width];
    if y < plot.y || y >= plot.y + plot.h {
        out.copy_from_slice(src);
        return;
    }
    out[..plot.x].copy_from_slice(&src[..plot.x]);
    out[plot.x + plot.w..].copy_from_slice(&src[plot.x + plot.w..]);
    tiles.colour_row(y - plot.y, lut, &mut out[plot.x..plot.x + plot.w]);
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
pub fn run(cfg: &crate::config::RenderConfig) -> Result<RenderReport> {
    unless_interrupted(render_staged(cfg))
}

fn render_staged(cfg: &crate::config::RenderConfig) -> Result<RenderReport> {
    use crate::render::chrome::Layout;
    use crate::render::colormap::Colormap;
    use crate::render::freqmap::ColumnMap;

    let started = Instant::now();
    prepare_outputs(&cfg.output, cfg.export.as_deref())?;
    let audio = wav::read_wav(&cfg.input)?;
    let (sample_rate_hz, channels) = (audio.sample_rate_hz, audio.channels);
    let axis = cfg.look.axis(cfg.freq_scale, sample_rate_hz)?;
    let mono = analysed_mono(audio, cfg.channel, cfg.nan, &cfg.input)?;
    let params = cfg.params;
    let rows = params.rows_for(mono.len() as u64) as usize;
    if rows == 0 {
        return Err(Error::Wav {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, fewer than one window of {}",
                mono.len(),
                params.win_length
            ),
        });
    }
    let bins = params.num_bins();
    let plot_h = cfg.height.unwrap_or(bins);
    check_plot_size(rows, plot_h)?;
    // Staged before the work, so an unwritable output fails at once.
    let mut png = Staged::create(&cfg.output)?;
    let layout = Layout::for_plot(rows, plot_h);
    let map = ColumnMap::new(&axis, plot_h, params.fft_size, sample_rate_hz);
    let cmap = Colormap::new(cfg.look.colormap);

    // STFT rows → column map → colour index, transposed into row-major tiles.
    let threads = worker_threads();
    let tiles = index_tiles(&mono, rows, params, &map, cfg.look.range, threads);
    interrupt::check()?;
    let seconds = mono.len() as f64 / f64::from(sample_rate_hz);
    let frame = chrome_frame(cfg, &layout, &axis, &cmap, sample_rate_hz, seconds);

    // Each image row is assembled from the chrome's margins and the tiles through the
    // colormap while the encoder compresses bands of rows in parallel.
    let lut = cmap.lut();
    let row = |y: usize, out: &mut [u32]| plot_row(&layout, &frame, &tiles, lut, y, out);
    write_png(&mut png, &layout, threads, &row).map_err(|source| Error::Write {
        path: cfg.output.clone(),
        source,
    })?;
    let mut staged = vec![png];
    let spec = crate::offline::export::ExportSpec {
        sample_rate_hz,
        params,
        center: false,
        scale: ValueScale::Db,
        mel: None,
        channel: cfg.channel.index_in(channels),
    };
    let exported = stage_export(cfg.export.as_deref(), &spec, &mut staged)?;
    interrupt::check()?;
    commit_all(staged)?;
    Ok(RenderReport {
        width: layout.width,
        height: layout.height,
        rows,
        bins,
        elapsed: started.elapsed(),
        exported,
    })
}

/// Encodes the `layout`-sized image whose rows `row` gives into `png`, flushed.
fn write_png(
    png: &mut Staged,
    layout: &crate::render::chrome::Layout,
    threads: usize,
    row: &crate::io::png::RowSource<'_>,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, png);
    crate::io::png::encode_rows(&mut out, layout.width, layout.height, threads, row)?;
    std::io::Write::flush(&mut out)
}

/// The image with everything but the plot painted by `chrome::draw`: the window's axes,
/// ticks, colour bar and a title with the parameters. A zeroed allocation is mapped
/// lazily, so only the margins' pages are ever touched; the plot comes from the tiles.
fn chrome_frame(
    cfg: &crate::config::RenderConfig,
    layout: &crate::render::chrome::Layout,
    axis: &crate::render::freqmap::FreqAxis,
    cmap: &crate::render::colormap::Colormap,
    sample_rate_hz: u32,
    seconds: f64,
) -> Vec<u32> {
    let (params, range) = (cfg.params, cfg.look.range);
    let sr = f64::from(sample_rate_hz);
    let ticks = time_ticks(
        layout.plot.w,
        params.hop_size as f64 / sr,
        params.win_length as f64 / sr,
    );
    let name = cfg
        .input
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let title = format!(
        "{name}  {sample_rate_hz} Hz  n_fft {}  win {}  hop {}  {}  {} {:.0}-{:.0} Hz  {:.0}..{:.0} dBFS  {seconds:.1} s",
        params.fft_size,
        params.win_length,
        params.hop_size,
        params.window,
        axis.scale,
        axis.lo_hz(),
        axis.fmax_hz,
        range.floor_db,
        range.ceiling_db,
    );
    let (width, height) = (layout.width, layout.height);
    let mut frame = vec![0u32; width * height];
    let mut canvas = crate::render::text::Canvas {
        pixels: &mut frame,
        width,
        height,
    };
    let chrome = crate::render::chrome::Chrome {
        axis,
        cmap,
        range,
        time_ticks: &ticks,
        title: &title,
        unit: "dBFS",
    };
    crate::render::chrome::draw(&mut canvas, layout, &chrome);
    frame
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::render::colormap::DbRange;
    use crate::render::freqmap::{ColumnMap, FreqAxis, FreqScale};

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
    fn column_indices_equal_the_column_map_and_range() {
        let range = DbRange {
            floor_db: -97.5,
            ceiling_db: -3.25,
        };
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
            let want: Vec<u8> = mapped.iter().rev().map(|&v| range.index(v) as u8).collect();
            // The general path always; the shortcut where the map allows it.
            for identity in [false, is_identity(&map)] {
                let mut column = vec![0.0; height];
                let mut got = vec![0u8; height];
                column_indices(&db, &map, identity, range, &mut column, &mut got);
                assert_eq!(got, want, "{scale:?} {height} identity {identity}");
            }
        }
    }
}
