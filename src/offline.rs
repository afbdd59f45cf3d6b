//! Offline analysis: WAV (hound) → the live engine's [`FrameTransform`] → `.npy`.
//!
//! Every output of a run (the `.npy` or `.png`, the `--export` files) is written under a
//! temporary name ([`staged`]) and renamed into place only when all are complete; a
//! signal stops the run and removes them ([`interrupt`]).

pub mod interrupt;
pub mod staged;

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

use realfft::RealFftPlanner;

use crate::config::AnalyzeConfig;
use crate::dsp::mel::{MelFilterbank, MelSpec};
use crate::dsp::scale::{power_to_db, Calibration, Scale};
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::dsp::window::WindowSums;

use crate::analysis::ChannelSelect;
use crate::error::{Error, Result};
use crate::offline::staged::{commit_all, Staged};
use crate::wav::{NanPolicy, WavAudio};
use crate::{npy, wav};

/// The mono signal `analyze`, `render` and `suggest` analyse: `audio`'s selected channel
/// or the mix of all, its non-finite samples refused or set to 0 as `policy` says (then
/// with a warning on stderr naming how many).
///
/// # Errors
/// A channel that does not exist; NaN or ±Inf samples under [`NanPolicy::Error`].
pub fn analysed_mono(
    mut audio: WavAudio,
    select: ChannelSelect,
    policy: NanPolicy,
    path: &Path,
) -> Result<Vec<f32>> {
    select.check(audio.channels)?;
    if let Some(bad) = audio.non_finite(select) {
        let what = bad.describe(audio.sample_rate_hz);
        match policy {
            NanPolicy::Error => {
                return Err(Error::Wav {
                    path: path.to_path_buf(),
                    message: format!(
                        "{what}: pass --nan zero to analyse it with those samples set to 0"
                    ),
                })
            }
            NanPolicy::Zero => {
                eprintln!(
                    "hopscope: warning: '{}': {what}: set to 0 (--nan zero)",
                    path.display()
                );
                audio.zero_non_finite(select);
            }
        }
    }
    Ok(audio.into_mono(select))
}

/// A signal prepared for framing: samples plus the number of rows to take.
#[derive(Clone, Debug, PartialEq)]
pub struct Framed<'a> {
    /// Samples; row `m` uses `[m·hop, m·hop + win_length)`.
    pub samples: Cow<'a, [f32]>,
    /// Rows.
    pub rows: usize,
}

/// Frames `signal` causally (librosa `center=False`), or as librosa `center=True`
/// with `pad_mode="constant"`: `n_fft/2` zeros at both ends, `1 + (L + 2·(n_fft/2) −
/// n_fft)/hop` rows (`1 + L/hop` for an even n_fft).
///
/// With `win_length < n_fft`, librosa's centred frame `m` windows padded samples
/// `[m·hop + left, m·hop + left + win_length)`, `left = (n_fft − win_length)/2`; the
/// front padding is therefore `n_fft/2 − left` so that the causal frames line up.
pub fn frame_signal<'a>(signal: &'a [f32], params: &StftParams, center: bool) -> Framed<'a> {
    if !center {
        return Framed {
            samples: Cow::Borrowed(signal),
            rows: params.rows_for(signal.len() as u64) as usize,
        };
    }
    let half = params.fft_size / 2;
    let front = half - params.window_offset();
    let mut samples = vec![0.0; front + signal.len() + half];
    samples[front..front + signal.len()].copy_from_slice(signal);
    // librosa's count: n_fft-long frames over the signal padded by n_fft/2 each side
    // (1 + L/hop for an even n_fft, one fewer when L is a multiple of hop for an odd one).
    let rows = (signal.len() + 2 * half)
        .checked_sub(params.fft_size)
        .map_or(0, |n| n / params.hop_size + 1)
        .min(params.rows_for(samples.len() as u64) as usize);
    Framed {
        samples: Cow::Owned(samples),
        rows,
    }
}

/// Rows per block of the streaming `analyze` pipeline: 2 MB at n_fft 2048, so a block
/// stays in L2 between the workers that fill it and the writer that drains it.
pub const BLOCK_ROWS: usize = 512;

/// One [`FrameTransform`] per worker thread, built once.
pub fn transforms(params: StftParams, scale: Scale, threads: usize) -> Vec<FrameTransform> {
    (0..threads.max(1))
        .map(|_| FrameTransform::new(params, scale, &mut RealFftPlanner::new()))
        .collect()
}

/// Computes rows `first_row..first_row + out.len()/num_bins` of `samples` into `out`
/// (row-major), splitting them over the given transforms, one thread each.
///
/// Thread: caller plus `transforms.len() − 1` scoped workers. Allocates: no.
pub fn compute_rows(
    samples: &[f32],
    first_row: usize,
    transforms: &mut [FrameTransform],
    out: &mut [f32],
) {
    let Some(params) = transforms.first().map(FrameTransform::params) else {
        return;
    };
    let bins = params.num_bins();
    let rows = out.len() / bins;
    if rows == 0 {
        return;
    }
    let per = rows.div_ceil(transforms.len());
    let work = |t: usize, chunk: &mut [f32], tf: &mut FrameTransform| {
        for (i, row) in chunk.chunks_exact_mut(bins).enumerate() {
            let start = (first_row + t * per + i) * params.hop_size;
            tf.process(&samples[start..start + params.win_length], row);
        }
    };
    if transforms.len() == 1 || rows < 64 {
        return work(0, out, &mut transforms[0]);
    }
    std::thread::scope(|scope| {
        let mut jobs = out
            .chunks_mut(per * bins)
            .zip(transforms.iter_mut())
            .enumerate();
        let first = jobs.next();
        for (t, (chunk, tf)) in jobs {
            scope.spawn(move || work(t, chunk, tf));
        }
        if let Some((t, (chunk, tf))) = first {
            work(t, chunk, tf);
        }
    });
}

/// Computes `rows` rows of `samples` into a new row-major `rows × num_bins` array.
pub fn stft_rows(
    samples: &[f32],
    rows: usize,
    params: StftParams,
    scale: Scale,
    threads: usize,
) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * params.num_bins()];
    compute_rows(
        samples,
        0,
        &mut transforms(params, scale, threads),
        &mut out,
    );
    out
}

/// What `analyze` did.
#[derive(Clone, Debug)]
pub struct AnalyzeReport {
    /// Rows written.
    pub rows: usize,
    /// Bins per row.
    pub bins: usize,
    /// Input sample rate.
    pub sample_rate_hz: u32,
    /// Input channels.
    pub channels: usize,
    /// Input duration in seconds.
    pub seconds: f64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Files written by `--export` (the JSON, then the snippets).
    pub exported: Vec<std::path::PathBuf>,
}

/// Threads for offline work: every available core.
pub fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Turns linear spectrum rows into mel rows (../shared/DSP.md §7): the mel-weighted sum
/// of `|X|²` (power), of `|X|` (magnitude), or of calibrated bin powers then in dBFS
/// (`10·log10`, the one formula of `dsp::scale` applied per bin before the sum).
///
/// Thread: offline workers (read-only). Allocates: in `new` only.
pub struct MelStage {
    /// The filterbank.
    pub filterbank: MelFilterbank,
    /// What the output rows hold.
    pub scale: Scale,
    /// Per-bin calibration gain (dB output only).
    bin_gain: Vec<f32>,
}

impl MelStage {
    /// The stage for `params` at `sample_rate_hz`, writing `scale` values.
    pub fn new(spec: MelSpec, sample_rate_hz: u32, params: StftParams, scale: Scale) -> MelStage {
        let bins = params.num_bins();
        let cal = Calibration::new(
            WindowSums::of(params.window, params.win_length).s1,
            params.fft_size,
        );
        let mut bin_gain = vec![cal.gain; bins];
        bin_gain[0] = cal.edge_gain;
        if cal.has_nyquist {
            bin_gain[bins - 1] = cal.edge_gain;
        }
        MelStage {
            filterbank: MelFilterbank::new(spec, sample_rate_hz, params.fft_size),
            scale,
            bin_gain,
        }
    }

    /// The linear scale the transforms must produce.
    pub fn input_scale(&self) -> Scale {
        match self.scale {
            Scale::Magnitude => Scale::Magnitude,
            Scale::Power | Scale::Db => Scale::Power,
        }
    }

    /// One row: `spectrum` (in [`MelStage::input_scale`], modified for dB) → `out`.
    ///
    /// Allocates: no.
    pub fn apply(&self, spectrum: &mut [f32], out: &mut [f32]) {
        if self.scale == Scale::Db {
            for (p, g) in spectrum.iter_mut().zip(&self.bin_gain) {
                *p *= g;
            }
        }
        self.filterbank.apply(spectrum, out);
        if self.scale == Scale::Db {
            for v in out.iter_mut() {
                *v = power_to_db(*v);
            }
        }
    }
}

/// Computes every row of `framed` block by block and streams them into `writer`:
/// the workers fill block k+1 while a writer thread writes block k. With `mel`, rows are
/// mel bands. Returns the finished file, still under its temporary name.
///
/// # Errors
/// Any write failure, or a signal between blocks (the temporary file is removed).
pub fn stream_rows(
    framed: &Framed<'_>,
    params: StftParams,
    scale: Scale,
    mel: Option<&MelStage>,
    mut writer: npy::NpyWriter,
) -> Result<Staged> {
    let bins = mel.map_or(params.num_bins(), |m| m.filterbank.n_mels());
    let (full_tx, full_rx) = crossbeam_channel::bounded::<(Vec<f32>, usize)>(1);
    let (empty_tx, empty_rx) = crossbeam_channel::bounded::<Vec<f32>>(2);
    for _ in 0..2 {
        empty_tx
            .send(vec![0.0; BLOCK_ROWS * bins])
            .expect("receiver alive");
    }
    let mut blocks = RowBlocks::new(params, scale, mel);
    std::thread::scope(|scope| {
        let write = scope.spawn(move || -> Result<Staged> {
            for (buf, len) in full_rx {
                writer.write(&buf[..len])?;
                let _ = empty_tx.send(buf);
            }
            writer.finish()
        });
        let mut first_row = 0;
        while first_row < framed.rows && interrupt::received().is_none() {
            let n = BLOCK_ROWS.min(framed.rows - first_row);
            let Ok(mut buf) = empty_rx.recv() else { break };
            blocks.compute(&framed.samples, first_row, &mut buf[..n * bins]);
            if full_tx.send((buf, n * bins)).is_err() {
                break; // the writer failed; its error is returned below
            }
            first_row += n;
        }
        drop(full_tx);
        let written = write.join().expect("the writer thread does not panic");
        interrupt::check()?;
        written
    })
}

/// The workers' side of [`stream_rows`]: one block of linear or mel rows at a time.
struct RowBlocks<'a> {
    workers: Vec<FrameTransform>,
    mel: Option<&'a MelStage>,
    /// Linear rows of a block, before the mel stage (empty without one).
    linear: Vec<f32>,
}

impl<'a> RowBlocks<'a> {
    fn new(params: StftParams, scale: Scale, mel: Option<&'a MelStage>) -> Self {
        let linear = match mel {
            Some(_) => vec![0.0f32; BLOCK_ROWS * params.num_bins()],
            None => Vec::new(),
        };
        let scale = mel.map_or(scale, MelStage::input_scale);
        RowBlocks {
            workers: transforms(params, scale, worker_threads()),
            mel,
            linear,
        }
    }

    /// Rows `first_row..` of `samples` into `out` (whole rows).
    fn compute(&mut self, samples: &[f32], first_row: usize, out: &mut [f32]) {
        let Some(stage) = self.mel else {
            return compute_rows(samples, first_row, &mut self.workers, out);
        };
        let (linear_bins, bins) = (
            self.workers[0].params().num_bins(),
            stage.filterbank.n_mels(),
        );
        let lin = &mut self.linear[..out.len() / bins * linear_bins];
        compute_rows(samples, first_row, &mut self.workers, lin);
        for (spectrum, row) in lin
            .chunks_exact_mut(linear_bins)
            .zip(out.chunks_exact_mut(bins))
        {
            stage.apply(spectrum, row);
        }
    }
}

/// `result`; a failure after a signal arrived is reported as [`Error::Interrupted`] (it
/// is the signal's doing, e.g. a staged write refused). A run that committed its
/// outputs before the signal was seen succeeded.
fn unless_interrupted<T>(result: Result<T>) -> Result<T> {
    match result {
        Err(e) => interrupt::check().and(Err(e)),
        ok => ok,
    }
}

/// Checks the names of a run's outputs (the export's must end in `.json`, none may be a
/// directory) and removes the temporaries that killed runs left for them.
///
/// # Errors
/// A bad export name, or an output path that is a directory.
pub fn prepare_outputs(output: &Path, export: Option<&Path>) -> Result<()> {
    let mut targets = vec![output.to_path_buf()];
    if let Some(path) = export {
        targets.extend(crate::export::paths(path)?);
    }
    for target in &targets {
        if target.is_dir() {
            return Err(Error::Write {
                path: target.clone(),
                source: std::io::Error::other("it is a directory"),
            });
        }
        staged::remove_stale(target);
    }
    Ok(())
}

/// Runs `hopscope analyze`.
///
/// # Errors
/// Unreadable WAV, a channel that does not exist, a file too short for one frame,
/// an unwritable output, or a signal (nothing is written then).
pub fn analyze(cfg: &AnalyzeConfig) -> Result<AnalyzeReport> {
    unless_interrupted(analyze_staged(cfg))
}

fn analyze_staged(cfg: &AnalyzeConfig) -> Result<AnalyzeReport> {
    let started = Instant::now();
    prepare_outputs(&cfg.output, cfg.export.as_deref())?;
    let audio = wav::read_wav(&cfg.input)?;
    let (sample_rate_hz, channels) = (audio.sample_rate_hz, audio.channels);
    let mono = analysed_mono(audio, cfg.channel, cfg.nan, &cfg.input)?;
    let framed = frame_signal(&mono, &cfg.params, cfg.center);
    if framed.rows == 0 {
        return Err(Error::Wav {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, fewer than one window of {} (use --center or a smaller --win-length)",
                mono.len(),
                cfg.params.win_length
            ),
        });
    }
    let mel = cfg
        .mel
        .map(|opts| mel_stage(opts, sample_rate_hz, cfg))
        .transpose()?;
    let bins = mel
        .as_ref()
        .map_or(cfg.params.num_bins(), |m| m.filterbank.n_mels());
    interrupt::check()?;
    let writer = npy::NpyWriter::create(&cfg.output, framed.rows, bins)?;
    let mut staged = vec![stream_rows(
        &framed,
        cfg.params,
        cfg.scale,
        mel.as_ref(),
        writer,
    )?];
    let spec = crate::export::ExportSpec {
        sample_rate_hz,
        params: cfg.params,
        center: cfg.center,
        scale: cfg.scale,
        mel: mel.as_ref().map(|m| &m.filterbank),
        channel: cfg.channel.index_in(channels),
    };
    let exported = stage_export(cfg.export.as_deref(), &spec, &mut staged)?;
    interrupt::check()?;
    commit_all(staged)?;
    Ok(AnalyzeReport {
        rows: framed.rows,
        bins,
        sample_rate_hz,
        channels,
        seconds: mono.len() as f64 / sample_rate_hz as f64,
        elapsed: started.elapsed(),
        exported,
    })
}

/// Stages the `--export` files (if asked) after `staged`; returns their paths.
fn stage_export(
    path: Option<&Path>,
    spec: &crate::export::ExportSpec<'_>,
    staged: &mut Vec<Staged>,
) -> Result<Vec<std::path::PathBuf>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let files = crate::export::stage(path, spec)?;
    let paths = files.iter().map(|f| f.target().to_path_buf()).collect();
    staged.extend(files);
    Ok(paths)
}

/// The mel stage of `analyze --mel`, with a warning for bands that hold no FFT bin.
fn mel_stage(
    opts: crate::config::MelOptions,
    sample_rate_hz: u32,
    cfg: &AnalyzeConfig,
) -> Result<MelStage> {
    let spec = opts.spec(sample_rate_hz);
    spec.validate(sample_rate_hz)
        .map_err(|m| Error::InvalidArgument {
            flag: "--mel",
            message: m,
        })?;
    let stage = MelStage::new(spec, sample_rate_hz, cfg.params, cfg.scale);
    let dead = stage.filterbank.dead_bands();
    if dead > 0 {
        eprintln!(
            "hopscope: warning: {dead} of {} mel bands contain no FFT bin at n_fft {} (all zero): use a larger --n-fft or fewer bands",
            spec.n_mels, cfg.params.fft_size
        );
    }
    Ok(stage)
}

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
        let mut tf = FrameTransform::new(params, Scale::Db, &mut RealFftPlanner::new());
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
pub fn render(cfg: &crate::config::RenderConfig) -> Result<RenderReport> {
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
    let spec = crate::export::ExportSpec {
        sample_rate_hz,
        params,
        center: false,
        scale: Scale::Db,
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
    row: &crate::render::png_out::RowSource<'_>,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, png);
    crate::render::png_out::encode_rows(&mut out, layout.width, layout.height, threads, row)?;
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
    crate::render::chrome::draw(
        &mut canvas,
        layout,
        axis,
        cmap,
        range,
        &ticks,
        &title,
        "dBFS",
    );
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
