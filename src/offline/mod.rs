//! Offline analysis: any audio file, streamed ([`source`]) → the live engine's
//! [`FrameTransform`] → `.npy` ([`analyze`]), a PNG ([`render`], [`plot`]) or a ranking
//! ([`suggest`]).
//!
//! Every output of a run (the `.npy` or `.png`, the `--export` files) is written under a
//! temporary name ([`Staged`]) and renamed into place only when all are complete; a
//! signal stops the run and removes them ([`interrupt`]).

pub mod analyze;
pub mod batch;
pub mod export;
pub mod frontend;
pub mod frontend_render;
pub mod latency;
pub mod params;
pub mod plot;
pub mod progress;
pub mod render;
pub mod snapshot;
pub mod source;
pub mod suggest;

use std::borrow::Cow;
use std::path::Path;

use rayon::prelude::*;

use crate::dsp::mel::{MelFilterbank, MelSpec};
use crate::dsp::scale::{Calibration, ValueScale};
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::dsp::window::WindowSums;

use crate::error::{Error, Result};
use crate::io::atomic::Staged;
use crate::io::{atomic, interrupt, npy};

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

/// Pieces per pool thread of one [`compute_rows`] call: fine enough that the thread
/// writing the previous block (see [`stream_rows`]) still finds work when done, coarse
/// enough to clone few transforms. `analyze` of 600 s on 2 cores, interleaved runs:
/// 0.28 s with 4, 0.295 s with 1, 0.31 s with the scoped threads before rayon; 16-row
/// pieces were ~30 ms slower than that.
const PIECES_PER_THREAD: usize = 4;

/// Computes rows `first_row..first_row + out.len()/num_bins` of `samples` into `out`
/// (row-major) with `transform`, on the calling thread.
///
/// Allocates: no.
pub fn compute_rows_here(
    samples: &[f32],
    first_row: usize,
    transform: &mut FrameTransform,
    out: &mut [f32],
) {
    let params = transform.params();
    for (i, row) in out.chunks_exact_mut(params.num_bins()).enumerate() {
        let start = (first_row + i) * params.hop_size;
        transform.process(&samples[start..start + params.win_length], row);
    }
}

/// [`compute_rows_here`] on rayon's pool (the global one, or the one the caller runs
/// in): the rows are cut into `PIECES_PER_THREAD` (4) pieces per thread of the pool,
/// each computed with its own clone of `transform` (the FFT plan shared, the buffers its
/// own). Every row is computed by an identical transform whichever thread runs it, so
/// the rows equal [`compute_rows_here`]'s bit for bit.
///
/// Thread: caller (waits) plus the pool. Allocates: one transform's buffers per task.
pub fn compute_rows(
    samples: &[f32],
    first_row: usize,
    transform: &FrameTransform,
    out: &mut [f32],
) {
    let bins = transform.params().num_bins();
    let pieces = PIECES_PER_THREAD * rayon::current_num_threads();
    let per = (out.len() / bins).div_ceil(pieces).max(1);
    out.par_chunks_mut(per * bins).enumerate().for_each_init(
        || transform.clone(),
        |tf, (k, piece)| compute_rows_here(samples, first_row + k * per, tf, piece),
    );
}

/// Computes `rows` rows of `samples` into a new row-major `rows × num_bins` array:
/// on the calling thread when `threads` is 1 (or 0), else on rayon's pool (the
/// same values either way).
pub fn stft_rows(
    samples: &[f32],
    rows: usize,
    params: StftParams,
    scale: ValueScale,
    threads: usize,
) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * params.num_bins()];
    let mut transform = FrameTransform::new(params, scale);
    if threads <= 1 {
        compute_rows_here(samples, 0, &mut transform, &mut out);
    } else {
        compute_rows(samples, 0, &transform, &mut out);
    }
    out
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
    pub scale: ValueScale,
    /// Calibration of the bin powers (dB output only).
    calibration: Calibration,
}

impl MelStage {
    /// The stage for `params` at `sample_rate_hz`, writing `scale` values.
    pub fn new(
        spec: MelSpec,
        sample_rate_hz: u32,
        params: StftParams,
        scale: ValueScale,
    ) -> MelStage {
        let calibration = Calibration::new(
            WindowSums::of(params.window, params.win_length).s1,
            params.fft_size,
        );
        MelStage {
            filterbank: MelFilterbank::new(spec, sample_rate_hz, params.fft_size),
            scale,
            calibration,
        }
    }

    /// The linear scale the transforms must produce.
    pub fn input_scale(&self) -> ValueScale {
        match self.scale {
            ValueScale::Magnitude => ValueScale::Magnitude,
            ValueScale::Power | ValueScale::Db => ValueScale::Power,
        }
    }

    /// One row: `spectrum` (in [`MelStage::input_scale`]) → `out`.
    ///
    /// Allocates: no.
    pub fn apply(&self, spectrum: &[f32], out: &mut [f32]) {
        if self.scale != ValueScale::Db {
            return self.filterbank.apply(spectrum, out);
        }
        let (cal, bins) = (&self.calibration, spectrum.len());
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.filterbank.band_db(i, |k| {
                f64::from(spectrum[k]) * f64::from(cal.bin_gain(k, bins))
            });
        }
    }
}

/// Computes every row of `feed` over `source` block by block and streams them into
/// `writer`: while block k is computed, block k−1 is written and the samples of block
/// k+1 are decoded (one `rayon::join` of the three). With `mel`, rows are mel bands.
/// Returns the finished file, still under its temporary name, and its row count.
///
/// The whole loop runs inside rayon's pool, so no thread outside it waits and wakes
/// between blocks: the thread that writes block k helps compute block k+1 when done.
///
/// Memory: two blocks of rows and the samples of two blocks, whatever the file's length.
///
/// # Errors
/// A read or write failure, or a signal between blocks (the temporary file is removed).
pub fn stream_rows(
    source: &mut source::MonoSource,
    feed: &mut source::RowFeed,
    stage: Stage<'_>,
    mut writer: npy::NpyWriter,
) -> Result<(Staged, usize)> {
    let Stage { params, scale, mel } = stage;
    let bins = mel.map_or(params.num_bins(), |m| m.filterbank.n_mels());
    let mut blocks = RowBlocks::new(params, scale, mel);
    let mut filling = vec![0.0f32; BLOCK_ROWS * bins];
    let mut full = vec![0.0f32; BLOCK_ROWS * bins];
    let block_samples = BLOCK_ROWS * params.hop_size;
    let mut incoming: Vec<f32> = Vec::new();
    rayon::scope(|_| -> Result<()> {
        // Values of the previous block, waiting in `full`.
        let mut ready = 0;
        loop {
            interrupt::check()?;
            // Synchronous only at the start: each block reads the next one's samples.
            let n = feed.fill(source, BLOCK_ROWS)?;
            // Read ahead only while less than two blocks of samples wait (a decoder block
            // can be longer than a block of rows).
            let waiting = feed.samples().len() - n * params.hop_size;
            let more = feed.total_rows().is_none() && waiting < 2 * block_samples;
            let (written, ((), read)) = rayon::join(
                || writer.write(&full[..ready]),
                || {
                    rayon::join(
                        || blocks.compute(feed.samples(), 0, &mut filling[..n * bins]),
                        || match more {
                            true => source.read(&mut incoming, block_samples),
                            false => Ok(0),
                        },
                    )
                },
            );
            written?;
            let got = read?;
            if n == 0 && !more {
                break;
            }
            feed.advance(n);
            if more {
                feed.push(&incoming, got == 0);
            }
            incoming.clear();
            std::mem::swap(&mut filling, &mut full);
            ready = n * bins;
        }
        Ok(())
    })?;
    interrupt::check()?;
    let rows = writer.rows_written();
    Ok((writer.finish()?, rows))
}

/// What [`stream_rows`] computes: the STFT, its value scale and the optional mel stage.
///
/// Thread: the pipeline's (borrowed).
#[derive(Clone, Copy)]
pub struct Stage<'a> {
    /// The framing and window.
    pub params: StftParams,
    /// What the rows hold.
    pub scale: ValueScale,
    /// Mel bands instead of linear bins.
    pub mel: Option<&'a MelStage>,
}

/// The workers' side of [`stream_rows`]: one block of linear or mel rows at a time.
struct RowBlocks<'a> {
    /// Cloned by every task of [`compute_rows`] (planned once).
    transform: FrameTransform,
    mel: Option<&'a MelStage>,
    /// Linear rows of a block, before the mel stage (empty without one).
    linear: Vec<f32>,
}

impl<'a> RowBlocks<'a> {
    fn new(params: StftParams, scale: ValueScale, mel: Option<&'a MelStage>) -> Self {
        let linear = match mel {
            Some(_) => vec![0.0f32; BLOCK_ROWS * params.num_bins()],
            None => Vec::new(),
        };
        let scale = mel.map_or(scale, MelStage::input_scale);
        RowBlocks {
            transform: FrameTransform::new(params, scale),
            mel,
            linear,
        }
    }

    /// Rows `first_row..` of `samples` into `out` (whole rows).
    fn compute(&mut self, samples: &[f32], first_row: usize, out: &mut [f32]) {
        let Some(stage) = self.mel else {
            return compute_rows(samples, first_row, &self.transform, out);
        };
        let (linear_bins, bins) = (
            self.transform.params().num_bins(),
            stage.filterbank.n_mels(),
        );
        let lin = &mut self.linear[..out.len() / bins * linear_bins];
        compute_rows(samples, first_row, &self.transform, lin);
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
        targets.extend(crate::offline::export::paths(path)?);
    }
    for target in &targets {
        if target.is_dir() {
            return Err(Error::Write {
                path: target.clone(),
                source: std::io::Error::other("it is a directory"),
            });
        }
        atomic::remove_stale(target);
    }
    Ok(())
}

/// Stages the `--export` files (if asked) after `staged`; returns their paths.
pub(crate) fn stage_export(
    path: Option<&Path>,
    spec: &crate::offline::export::ExportSpec<'_>,
    staged: &mut Vec<Staged>,
) -> Result<Vec<std::path::PathBuf>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let files = crate::offline::export::stage(path, spec)?;
    let paths = files.iter().map(|f| f.target().to_path_buf()).collect();
    staged.extend(files);
    Ok(paths)
}
