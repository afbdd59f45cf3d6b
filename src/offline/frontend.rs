//! `hopscope analyze --frontend NAME`: a model front-end's features of an audio file,
//! streamed into `.npy` in bounded memory.
//!
//! The engine ([`FrontendEngine`]) runs over the decoded samples block by block; rows go
//! straight to the staged `.npy`. A clamp below the maximum (Whisper's `max − 8`,
//! keras's `top_db`) needs the maximum over the whole input, as every reference computes
//! it: the rows are written unclamped, their maximum kept, and a second pass over the
//! staged file applies the clamp and the scaling in place before it is committed.
//!
//! An input at another rate is resampled to the front-end's by [`Resampler`] (the live
//! path's), block by block.
//!
//! Thread: main (offline commands). Allocates: yes (blocks of bounded size).

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::time::Instant;

use super::analyze::AnalyzeReport;
use super::source::MonoSource;
use super::{prepare_outputs, unless_interrupted};
use crate::config::AnalyzeConfig;
use crate::dsp::frontend::engine::FrontendEngine;
use crate::dsp::frontend::{row_max, FrontendSpec, Post};
use crate::dsp::resample::Resampler;
use crate::error::{Error, Result};
use crate::io::atomic::{commit_all, Staged};
use crate::io::frontend_json::FrontendFile;
use crate::io::{interrupt, npy};

/// Samples decoded per block.
const BLOCK_SAMPLES: usize = 1 << 16;

/// Runs `analyze --frontend`. An input at another rate than the front-end's is resampled
/// to it first ([`Resampler`], as live).
///
/// # Errors
/// An unreadable input, one too short
/// for a row, an unwritable output, or a signal (nothing is written then).
pub fn run(cfg: &AnalyzeConfig, spec: &FrontendSpec) -> Result<AnalyzeReport> {
    unless_interrupted(staged(cfg, spec))
}

fn staged(cfg: &AnalyzeConfig, spec: &FrontendSpec) -> Result<AnalyzeReport> {
    let started = Instant::now();
    prepare_frontend_outputs(&cfg.output, cfg.export.as_deref())?;
    let mut source = MonoSource::open(&cfg.input, cfg.channel, cfg.nan, cfg.crop)?;
    let info = source.info().clone();
    // The input at the front-end's rate (a pass-through when they are equal).
    let mut resampler = input_resampler(&cfg.input, info.sample_rate_hz, spec)?;
    let bands = spec.bands();
    let expected = source
        .expected_frames()
        .map(|n| spec.rows_for(resampler.output_len_for(n)) as usize);
    let mut writer = npy::NpyWriter::create(&cfg.output, expected, bands)?;
    let post = spec.post();
    let mut engine = FrontendEngine::new(spec);
    let mut samples = Vec::with_capacity(2 * BLOCK_SAMPLES);
    let mut rows: Vec<f32> = Vec::new();
    let mut max = f32::NEG_INFINITY;
    // Without a clamp the scaling is applied as the rows come; with one, in the second
    // pass.
    let inline = post.below_max.is_none();
    let mut take = |row: &[f32], rows: &mut Vec<f32>| {
        max = max.max(row_max(row));
        let at = rows.len();
        rows.extend_from_slice(row);
        if inline {
            post.apply(0.0, &mut rows[at..]);
        }
    };
    loop {
        interrupt::check()?;
        samples.clear();
        let got = source.read(&mut samples, BLOCK_SAMPLES)?;
        if got == 0 {
            break;
        }
        rows.clear();
        resampler.push(&samples, |x| engine.push(x, |row| take(row, &mut rows)));
        writer.write(&rows)?;
    }
    rows.clear();
    resampler.finish(|x| engine.push(x, |row| take(row, &mut rows)));
    engine.finish(|row| take(row, &mut rows));
    writer.write(&rows)?;
    let summary = source.finish()?;
    let n = writer.rows_written();
    if n == 0 {
        return Err(Error::Input {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples at {} Hz, the front-end '{}' needs at least {} at {} Hz",
                summary.frames,
                info.sample_rate_hz,
                spec.name,
                spec.min_samples().max(1),
                spec.sample_rate_hz
            ),
        });
    }
    let mut npy = writer.finish()?;
    if !inline {
        apply_in_place(&mut npy, &cfg.output, post, max)?;
    }
    let exported = commit_with_json(npy, cfg.export.as_deref(), spec)?;
    Ok(AnalyzeReport {
        rows: n,
        bins: bands,
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        seconds: summary.frames as f64 / f64::from(info.sample_rate_hz),
        elapsed: started.elapsed(),
        exported,
    })
}

/// The second pass: every value of the staged `.npy` through `post` with the input's
/// maximum, block by block, in place.
fn apply_in_place(npy: &mut Staged, target: &std::path::Path, post: Post, max: f32) -> Result<()> {
    let fail = |source: std::io::Error| Error::Write {
        path: target.to_path_buf(),
        source,
    };
    let file = npy.file_mut();
    let mut head = [0u8; 10];
    file.seek(SeekFrom::Start(0)).map_err(fail)?;
    file.read_exact(&mut head).map_err(fail)?;
    let mut pos = 10 + u64::from(u16::from_le_bytes([head[8], head[9]]));
    let mut bytes = vec![0u8; 4 * BLOCK_SAMPLES];
    let mut values = vec![0f32; BLOCK_SAMPLES];
    loop {
        file.seek(SeekFrom::Start(pos)).map_err(fail)?;
        let n = read_full(file, &mut bytes).map_err(fail)?;
        if n == 0 {
            break;
        }
        let vals = &mut values[..n / 4];
        for (v, b) in vals.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        post.apply(max, vals);
        for (v, b) in vals.iter().zip(bytes.chunks_exact_mut(4)) {
            b.copy_from_slice(&v.to_le_bytes());
        }
        file.seek(SeekFrom::Start(pos)).map_err(fail)?;
        file.write_all(&bytes[..n]).map_err(fail)?;
        pos += n as u64;
    }
    file.flush().map_err(fail)
}

/// The resampler from the input's rate to the front-end's (a pass-through when equal).
///
/// # Errors
/// A ratio the resampler refuses, naming the input.
pub(super) fn input_resampler(
    input: &std::path::Path,
    rate_hz: u32,
    spec: &FrontendSpec,
) -> Result<Resampler> {
    Resampler::new(rate_hz, spec.sample_rate_hz).map_err(|e| Error::Input {
        path: input.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Checks a front-end run's outputs (`--export` must end in `.json`) and removes the
/// temporaries killed runs left for them.
///
/// # Errors
/// A bad export name, or an output path that is a directory.
pub(super) fn prepare_frontend_outputs(
    output: &std::path::Path,
    export: Option<&std::path::Path>,
) -> Result<()> {
    prepare_outputs(output, None)?;
    if let Some(export) = export {
        crate::offline::export::json_name(export)?;
        crate::io::atomic::remove_stale(export);
    }
    Ok(())
}

/// Renames `main` (and the front-end's JSON, for `--export`) into place together; the
/// exported paths.
///
/// # Errors
/// A write failure, or a signal (nothing is committed then).
pub(super) fn commit_with_json(
    main: Staged,
    export: Option<&std::path::Path>,
    spec: &FrontendSpec,
) -> Result<Vec<std::path::PathBuf>> {
    let mut staged = vec![main];
    let mut exported = Vec::new();
    if let Some(path) = export {
        staged.push(stage_json(path, spec)?);
        exported.push(path.to_path_buf());
    }
    interrupt::check()?;
    commit_all(staged)?;
    Ok(exported)
}

/// The front-end's JSON (`--export` with `--frontend`), staged.
fn stage_json(path: &std::path::Path, spec: &FrontendSpec) -> Result<Staged> {
    crate::offline::export::stage_text(path, &FrontendFile::of(spec).to_json_pretty())
}
