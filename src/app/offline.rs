//! The commands that run once and print what they did: `analyze`, `render`, `suggest`,
//! `latency` and `devices`.
//!
//! `analyze` and `render` take one file (`IN -o OUT.npy`: its `wrote` line, or a
//! one-line error and exit code 2, as ever) or a batch (`IN… DIR… -o OUT/`,
//! `offline::batch`): a `wrote` line per file on stdout as each is done, each failure
//! as `hopscope: error: PATH: message` on stderr, then the summary line
//! `N files: K written, F failed (S skipped)`; exit code 1 if any failed.
//!
//! Thread: main; the batch's `file-N` threads print their files' lines.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::progress::Progress;
use crate::audio::capture;
use crate::cli::{AnalyzeArgs, LatencyArgs, RenderArgs, SuggestArgs};
use crate::config::batch::{BatchConfig, OutputTarget};
use crate::config::{
    AnalyzeConfig, AnalyzeJob, LatencyConfig, RenderConfig, RenderJob, SuggestConfig,
};
use crate::error::Result;
use crate::offline;
use crate::offline::batch::{BatchFile, Plan};
use crate::stream::CropSeconds;

/// Runs `hopscope analyze`: the .npy (and the export) of each file, with its `wrote`
/// line.
///
/// # Errors
/// Invalid flags or `--params` file; in the one-file form, an unreadable WAV or an
/// output that cannot be written.
pub(super) fn run_analyze(args: &AnalyzeArgs) -> Result<ExitCode> {
    let file = args
        .params
        .as_deref()
        .map(offline::params::read)
        .transpose()?;
    let job = AnalyzeJob::new(args, file.as_ref())?;
    let per_file = |f: &BatchFile| {
        let cfg = AnalyzeConfig {
            input: f.input.clone(),
            output: f.output.clone(),
            export: job.batch.export.for_output(&f.output),
            ..job.cfg.clone()
        };
        let r = offline::analyze::run(&cfg)?;
        Ok(analyzed(&cfg, &r))
    };
    run_job(&job.batch, &job.cfg.input, job.cfg.crop, "npy", per_file)
}

/// The `wrote` line (and the `exported` lines) of one `analyze` output.
fn analyzed(cfg: &AnalyzeConfig, r: &offline::analyze::AnalyzeReport) -> String {
    let mut text = format!(
        "wrote {}: {} rows x {} bins float32 ({}) from {} ({} Hz, {} ch, {:.3} s) in {:.3} s\n",
        cfg.output.display(),
        r.rows,
        r.bins,
        cfg.frontend.as_ref().map_or_else(
            || cfg.scale.to_string(),
            |f| format!("front-end {}", f.name)
        ),
        cfg.input.display(),
        r.sample_rate_hz,
        r.channels,
        r.seconds,
        r.elapsed.as_secs_f64()
    );
    exported_lines(&mut text, &r.exported);
    text
}

/// Runs `hopscope render`: the PNG (and the export) of each file, with its `wrote` line.
///
/// # Errors
/// Invalid flags or `--params` file; in the one-file form, an unreadable WAV or an
/// output that cannot be written.
pub(super) fn run_render(args: &RenderArgs) -> Result<ExitCode> {
    let file = args
        .params
        .as_deref()
        .map(offline::params::read)
        .transpose()?;
    let job = RenderJob::new(args, file.as_ref())?;
    let per_file = |f: &BatchFile| {
        let cfg = RenderConfig {
            input: f.input.clone(),
            output: f.output.clone(),
            export: job.batch.export.for_output(&f.output),
            ..job.cfg.clone()
        };
        let r = offline::render::run(&cfg)?;
        Ok(rendered(&cfg, &r))
    };
    run_job(&job.batch, &job.cfg.input, job.cfg.crop, "png", per_file)
}

/// The `wrote` line (and the `exported` lines) of one `render` output.
fn rendered(cfg: &RenderConfig, r: &offline::render::RenderReport) -> String {
    let mut text = format!(
        "wrote {}: {} x {} px ({} rows x {} bins, {}) from {} in {:.3} s\n",
        cfg.output.display(),
        r.width,
        r.height,
        r.rows,
        r.bins,
        cfg.frontend.as_ref().map_or_else(
            || format!("{} scale", cfg.freq_scale),
            |f| format!("front-end {}", f.name)
        ),
        cfg.input.display(),
        r.elapsed.as_secs_f64()
    );
    exported_lines(&mut text, &r.exported);
    text
}

fn exported_lines(text: &mut String, exported: &[PathBuf]) {
    for path in exported {
        text.push_str(&format!("exported {}\n", path.display()));
    }
}

/// Runs `per_file` (which returns the lines to print) on the one file of `batch`, or on
/// every file of its plan; prints as each is done.
///
/// # Errors
/// The one file failed; two inputs of a batch with the same output; a signal.
fn run_job(
    batch: &BatchConfig,
    input: &Path,
    crop: CropSeconds,
    ext: &str,
    per_file: impl Fn(&BatchFile) -> Result<String> + Sync,
) -> Result<ExitCode> {
    match &batch.output {
        OutputTarget::File(output) => {
            let one = BatchFile {
                input: input.to_path_buf(),
                output: output.clone(),
            };
            let bar = Progress::start(vec![one.input.clone()], crop, batch.quiet);
            let text = per_file(&one);
            offline::progress::file_done();
            bar.finish();
            print_out(&text?);
            Ok(ExitCode::SUCCESS)
        }
        OutputTarget::Dir(dir) => {
            let plan = offline::batch::plan(&batch.inputs, dir, batch.recursive, ext)?;
            run_plan(&plan, crop, batch.quiet, per_file)
        }
    }
}

/// Runs a batch's plan: its `wrote` lines, errors and summary line; exit code 1 if a
/// file failed.
///
/// # Errors
/// A thread could not start, or a signal stopped the batch (after the summary line).
fn run_plan(
    plan: &Plan,
    crop: CropSeconds,
    quiet: bool,
    per_file: impl Fn(&BatchFile) -> Result<String> + Sync,
) -> Result<ExitCode> {
    for (path, why) in &plan.unlisted {
        eprintln!("hopscope: error: {}: {why}", path.display());
    }
    let inputs = plan.files.iter().map(|f| f.input.clone()).collect();
    let bar = Progress::start(inputs, crop, quiet);
    let summary = offline::batch::run(plan, per_file, |f, result| match result {
        Ok(text) => bar.suspend(|| print_out(&text)),
        Err(e) => bar.suspend(|| eprintln!("hopscope: error: {}: {e}", f.input.display())),
    });
    bar.finish();
    let summary = summary?;
    if summary.files == 0 {
        eprintln!(
            "hopscope: warning: no audio files found (by extension: {}){}",
            offline::batch::AUDIO_EXTENSIONS.join(" "),
            if summary.skipped > 0 {
                "; subdirectories are taken with --recursive"
            } else {
                ""
            }
        );
    }
    print_out(&format!("{summary}\n"));
    if let Some(signal) = summary.interrupted {
        return Err(crate::error::Error::Interrupted { signal });
    }
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes `text` to stdout in one piece (lines of files finishing together stay whole).
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Runs `hopscope suggest`: the ranking table and the `best:` line on stdout.
///
/// # Errors
/// Invalid flags, an unreadable or too short WAV.
pub fn run_suggest(args: &SuggestArgs) -> Result<()> {
    let cfg = SuggestConfig::try_from(args)?;
    let bar = Progress::start(vec![cfg.input.clone()], cfg.crop, args.quiet);
    let report = offline::suggest::suggest(&cfg);
    bar.finish();
    print_out(&report?.to_text());
    Ok(())
}

/// Runs `hopscope latency`: the model and measured CPU per hop, as a table on stdout.
///
/// # Errors
/// Invalid flags (a hop of 0 or above win_length, n_fft out of range, ...).
pub fn run_latency(args: &LatencyArgs) -> Result<()> {
    let cfg = LatencyConfig::try_from(args)?;
    let report = offline::latency::run(&cfg);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.to_text().as_bytes());
    let _ = out.flush();
    Ok(())
}

/// Runs `hopscope devices`: every host, its input devices and their configurations.
pub(super) fn run_devices() -> Result<()> {
    let hosts = capture::list_hosts();
    for host in &hosts {
        print_host(host);
    }
    if !hosts
        .iter()
        .any(|h| h.devices.as_ref().is_ok_and(|d| !d.is_empty()))
    {
        println!("no input devices found (live mode will fall back to the demo signal)");
    }
    Ok(())
}

fn print_host(host: &capture::HostReport) {
    let default = if host.is_default {
        " (default host)"
    } else {
        ""
    };
    println!("host {}{default}", host.name);
    match &host.devices {
        Err(e) => println!("  {e}"),
        Ok(devices) => {
            if let Some(input) = &host.default_input {
                if !devices.iter().any(|d| d.is_default) {
                    println!(
                        "  default input: {input} (an alias of a device below, or not openable)"
                    );
                }
            }
            if devices.is_empty() {
                println!("  no input devices");
            }
            for d in devices {
                let default = if d.is_default { " (default)" } else { "" };
                println!("  {}{default}  [id {}]", d.name, d.id);
                println!("      default: {}", d.default_config);
                for s in &d.supported {
                    println!("      supports: {s}");
                }
            }
        }
    }
}
