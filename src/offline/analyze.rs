//! `hopscope analyze`: an audio file → STFT (or mel) rows → `.npy`, streamed block by
//! block in bounded memory.

use std::time::{Duration, Instant};

use super::source::{MonoSource, RowFeed};
use super::{prepare_outputs, stage_export, stream_rows, unless_interrupted, MelStage, Stage};
use crate::config::AnalyzeConfig;
use crate::error::{Error, Result};
use crate::io::atomic::commit_all;
use crate::io::{interrupt, npy};

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

/// Runs `hopscope analyze`.
///
/// # Errors
/// Unreadable WAV, a channel that does not exist, a file too short for one frame,
/// an unwritable output, or a signal (nothing is written then).
pub fn run(cfg: &AnalyzeConfig) -> Result<AnalyzeReport> {
    if let Some(spec) = &cfg.frontend {
        return super::frontend::run(cfg, spec);
    }
    unless_interrupted(analyze_staged(cfg))
}

fn analyze_staged(cfg: &AnalyzeConfig) -> Result<AnalyzeReport> {
    let started = Instant::now();
    prepare_outputs(&cfg.output, cfg.export.as_deref())?;
    let mut source = MonoSource::open(&cfg.input, cfg.channel, cfg.nan, cfg.crop)?;
    let info = source.info().clone();
    let mel = cfg
        .mel
        .map(|opts| mel_stage(opts, info.sample_rate_hz, cfg))
        .transpose()?;
    let bins = mel
        .as_ref()
        .map_or(cfg.params.num_bins(), |m| m.filterbank.n_mels());
    interrupt::check()?;
    let expected_rows = source
        .expected_frames()
        .map(|n| RowFeed::rows_for(&cfg.params, cfg.center, n) as usize);
    let writer = npy::NpyWriter::create(&cfg.output, expected_rows, bins)?;
    let mut feed = RowFeed::new(cfg.params, cfg.center);
    let stage = Stage {
        params: cfg.params,
        scale: cfg.scale,
        mel: mel.as_ref(),
    };
    let (npy, rows) = stream_rows(&mut source, &mut feed, stage, writer)?;
    let summary = source.finish()?;
    if rows == 0 {
        return Err(Error::Wav {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, fewer than one window of {} (use --center or a smaller --win-length)",
                summary.frames,
                cfg.params.win_length
            ),
        });
    }
    let mut staged = vec![npy];
    let spec = crate::offline::export::ExportSpec {
        sample_rate_hz: info.sample_rate_hz,
        params: cfg.params,
        center: cfg.center,
        scale: cfg.scale,
        mel: mel.as_ref().map(|m| &m.filterbank),
        channel: cfg.channel.index_in(info.channels),
        params_from: cfg.params_from.as_ref(),
    };
    let exported = stage_export(cfg.export.as_deref(), &spec, &mut staged)?;
    interrupt::check()?;
    commit_all(staged)?;
    Ok(AnalyzeReport {
        rows,
        bins,
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        seconds: summary.frames as f64 / f64::from(info.sample_rate_hz),
        elapsed: started.elapsed(),
        exported,
    })
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
