//! Offline analysis: WAV (hound) → the live engine's [`FrameTransform`] → `.npy`.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use realfft::RealFftPlanner;

use crate::analysis::ChannelSelect;
use crate::config::AnalyzeConfig;
use crate::dsp::scale::Scale;
use crate::dsp::stft::{FrameTransform, StftParams};

use crate::error::{Error, Result};
use crate::{npy, wav};

/// A signal prepared for framing: samples plus the number of rows to take.
#[derive(Clone, Debug, PartialEq)]
pub struct Framed<'a> {
    /// Samples; row `m` uses `[m·hop, m·hop + win_length)`.
    pub samples: Cow<'a, [f32]>,
    /// Rows.
    pub rows: usize,
}

/// Frames `signal` causally (librosa `center=False`), or as librosa `center=True`
/// with `pad_mode="constant"`: `n_fft/2` zeros at both ends, `1 + L/hop` rows.
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
    let rows =
        (1 + signal.len() / params.hop_size).min(params.rows_for(samples.len() as u64) as usize);
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
}

/// Threads for offline work: every available core.
pub fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Computes every row of `framed` block by block and streams them into `writer`:
/// the workers fill block k+1 while a writer thread writes block k.
///
/// # Errors
/// Any write failure (the temporary file is removed).
pub fn stream_rows(
    framed: &Framed<'_>,
    params: StftParams,
    scale: Scale,
    mut writer: npy::NpyWriter,
) -> Result<()> {
    let bins = params.num_bins();
    let (full_tx, full_rx) = crossbeam_channel::bounded::<(Vec<f32>, usize)>(1);
    let (empty_tx, empty_rx) = crossbeam_channel::bounded::<Vec<f32>>(2);
    for _ in 0..2 {
        empty_tx
            .send(vec![0.0; BLOCK_ROWS * bins])
            .expect("receiver alive");
    }
    let mut workers = transforms(params, scale, worker_threads());
    std::thread::scope(|scope| {
        let write = scope.spawn(move || -> Result<()> {
            for (buf, len) in full_rx {
                writer.write(&buf[..len])?;
                let _ = empty_tx.send(buf);
            }
            writer.finish()
        });
        let mut first_row = 0;
        while first_row < framed.rows {
            let n = BLOCK_ROWS.min(framed.rows - first_row);
            let Ok(mut buf) = empty_rx.recv() else { break };
            compute_rows(
                &framed.samples,
                first_row,
                &mut workers,
                &mut buf[..n * bins],
            );
            if full_tx.send((buf, n * bins)).is_err() {
                break; // the writer failed; its error is returned below
            }
            first_row += n;
        }
        drop(full_tx);
        write.join().expect("the writer thread does not panic")
    })
}

/// Runs `hopscope analyze`.
///
/// # Errors
/// Unreadable WAV, a channel that does not exist, a file too short for one frame,
/// or an unwritable output.
pub fn analyze(cfg: &AnalyzeConfig) -> Result<AnalyzeReport> {
    let started = Instant::now();
    let audio = wav::read_wav(&cfg.input)?;
    if let ChannelSelect::Index(c) = cfg.channel {
        if c >= audio.channels {
            return Err(Error::InvalidArgument {
                flag: "--channel",
                message: format!(
                    "channel {c} does not exist: '{}' has {} channel(s) (0..={})",
                    cfg.input.display(),
                    audio.channels,
                    audio.channels - 1
                ),
            });
        }
    }
    let (sample_rate_hz, channels) = (audio.sample_rate_hz, audio.channels);
    let mono = audio.into_mono(cfg.channel);
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
    let bins = cfg.params.num_bins();
    let writer = npy::NpyWriter::create(&cfg.output, framed.rows, bins)?;
    stream_rows(&framed, cfg.params, cfg.scale, writer)?;
    Ok(AnalyzeReport {
        rows: framed.rows,
        bins,
        sample_rate_hz,
        channels,
        seconds: mono.len() as f64 / sample_rate_hz as f64,
        elapsed: started.elapsed(),
    })
}
