//! Offline analysis: WAV (hound) → the live engine's [`FrameTransform`] → `.npy`.

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
pub struct Framed {
    /// Samples; row `m` uses `[m·hop, m·hop + win_length)`.
    pub samples: Vec<f32>,
    /// Rows.
    pub rows: usize,
}

/// Frames `signal` causally (librosa `center=False`), or as librosa `center=True`
/// with `pad_mode="constant"`: `n_fft/2` zeros at both ends, `1 + L/hop` rows.
///
/// With `win_length < n_fft`, librosa's centred frame `m` windows padded samples
/// `[m·hop + left, m·hop + left + win_length)`, `left = (n_fft − win_length)/2`; the
/// front padding is therefore `n_fft/2 − left` so that the causal frames line up.
pub fn frame_signal(signal: &[f32], params: &StftParams, center: bool) -> Framed {
    if !center {
        return Framed {
            samples: signal.to_vec(),
            rows: params.rows_for(signal.len() as u64) as usize,
        };
    }
    let half = params.fft_size / 2;
    let front = half - params.window_offset();
    let mut samples = vec![0.0; front + signal.len() + half];
    samples[front..front + signal.len()].copy_from_slice(signal);
    let rows = (1 + signal.len() / params.hop_size).min(params.rows_for(samples.len() as u64) as usize);
    Framed { samples, rows }
}

/// Computes `rows` rows of `samples` into a row-major `rows × num_bins` array,
/// splitting the rows over `threads` workers, each with its own plan and buffers.
pub fn stft_rows(
    samples: &[f32],
    rows: usize,
    params: StftParams,
    scale: Scale,
    threads: usize,
) -> Vec<f32> {
    let bins = params.num_bins();
    let mut out = vec![0.0f32; rows * bins];
    if rows == 0 {
        return out;
    }
    let threads = threads.clamp(1, rows);
    let rows_per = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        for (t, chunk) in out.chunks_mut(rows_per * bins).enumerate() {
            scope.spawn(move || {
                let mut planner = RealFftPlanner::new();
                let mut transform = FrameTransform::new(params, scale, &mut planner);
                let first_row = t * rows_per;
                for (i, row) in chunk.chunks_exact_mut(bins).enumerate() {
                    let start = (first_row + i) * params.hop_size;
                    transform.process(&samples[start..start + params.win_length], row);
                }
            });
        }
    });
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
    let mono = audio.to_mono(cfg.channel);
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
    let data = stft_rows(&framed.samples, framed.rows, cfg.params, cfg.scale, worker_threads());
    npy::write_f32_2d(&cfg.output, framed.rows, bins, &data)?;
    Ok(AnalyzeReport {
        rows: framed.rows,
        bins,
        sample_rate_hz: audio.sample_rate_hz,
        channels: audio.channels,
        seconds: mono.len() as f64 / audio.sample_rate_hz as f64,
        elapsed: started.elapsed(),
    })
}
