//! The commands that run once and print what they did: `analyze`, `render`, `suggest`,
//! `latency` and `devices`.
//!
//! Thread: main.

use std::io::Write;

use crate::audio::capture;
use crate::cli::{AnalyzeArgs, LatencyArgs, RenderArgs, SuggestArgs};
use crate::config::{AnalyzeConfig, LatencyConfig, RenderConfig, SuggestConfig};
use crate::error::Result;
use crate::offline;

/// Runs `hopscope analyze`: the .npy (and the export), then one `wrote` line.
///
/// # Errors
/// Invalid flags, an unreadable WAV, an output that cannot be written.
pub(super) fn run_analyze(args: &AnalyzeArgs) -> Result<()> {
    let cfg = AnalyzeConfig::try_from(args)?;
    let r = offline::analyze::run(&cfg)?;
    println!(
        "wrote {}: {} rows x {} bins float32 ({}) from {} ({} Hz, {} ch, {:.3} s) in {:.3} s",
        cfg.output.display(),
        r.rows,
        r.bins,
        cfg.scale,
        cfg.input.display(),
        r.sample_rate_hz,
        r.channels,
        r.seconds,
        r.elapsed.as_secs_f64()
    );
    for path in &r.exported {
        println!("exported {}", path.display());
    }
    Ok(())
}

/// Runs `hopscope render`: the PNG (and the export), then one `wrote` line.
///
/// # Errors
/// Invalid flags, an unreadable WAV, an output that cannot be written.
pub(super) fn run_render(args: &RenderArgs) -> Result<()> {
    let cfg = RenderConfig::try_from(args)?;
    let r = offline::render::run(&cfg)?;
    println!(
        "wrote {}: {} x {} px ({} rows x {} bins, {} scale) from {} in {:.3} s",
        cfg.output.display(),
        r.width,
        r.height,
        r.rows,
        r.bins,
        cfg.freq_scale,
        cfg.input.display(),
        r.elapsed.as_secs_f64()
    );
    for path in &r.exported {
        println!("exported {}", path.display());
    }
    Ok(())
}

/// Runs `hopscope suggest`: the ranking table and the `best:` line on stdout.
///
/// # Errors
/// Invalid flags, an unreadable or too short WAV.
pub fn run_suggest(args: &SuggestArgs) -> Result<()> {
    let cfg = SuggestConfig::try_from(args)?;
    let report = offline::suggest::suggest(&cfg)?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.to_text().as_bytes());
    let _ = out.flush();
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
