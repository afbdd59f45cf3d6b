//! `hopscope frontends`: every built-in model front-end with its full parameter set, one
//! in detail, or one as its JSON.
//!
//! Thread: main.

use crate::cli::FrontendsArgs;
use crate::config::frontend::resolve;
use crate::dsp::frontend::{
    presets, Framing, FrontendSpec, LogFunc, Pad, Preemphasis, Spectrum, Triangles,
};
use std::io::Write as _;

use crate::error::{Error, Result};
use crate::io::frontend_json::FrontendFile;

/// Runs `hopscope frontends`.
///
/// # Errors
/// NAME is neither a built-in nor a valid front-end JSON.
pub fn run_frontends(args: &FrontendsArgs) -> Result<()> {
    let specs = match &args.name {
        Some(name) => vec![resolve(name, "frontends")?],
        None => presets::all(),
    };
    let text = if args.json {
        FrontendFile::of(&specs[0]).to_json_pretty() + "\n"
    } else {
        let mut text: Vec<String> = specs.iter().map(describe).collect();
        if args.name.is_none() {
            text.push("Use one with --frontend NAME (live, analyze, render); `hopscope frontends NAME --json` writes its JSON, which --frontend PATH.json reads back.\n".into());
        }
        text.join("\n")
    };
    // A closed pipe (`| head`) is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// A number as people write it: `1e-10`, `0.001`, `1.1920929e-7`.
fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// The parameter set of `spec`, several lines.
pub fn describe(spec: &FrontendSpec) -> String {
    let mut out = format!("{}  {}\n", spec.name, spec.description);
    let line = |out: &mut String, label: &str, text: String| {
        out.push_str(&format!("  {label:<10}{text}\n"));
    };
    line(
        &mut out,
        "framing",
        format!(
            "{} Hz, n_fft {}, win {}, hop {} ({:.2} rows/s), {}{}",
            spec.sample_rate_hz,
            spec.n_fft,
            spec.win_length,
            spec.hop,
            spec.frame_rate_hz(),
            match spec.framing {
                Framing::Center { pad: Pad::Reflect } => "centred (reflect padding)",
                Framing::Center { pad: Pad::Constant } => "centred (zero padding)",
                Framing::Valid => "valid frames (no padding)",
                Framing::PadEnd => "valid frames, zero-padded last frame",
            },
            if spec.drop_last_frame {
                ", last frame dropped"
            } else {
                ""
            }
        ),
    );
    let mut pre = Vec::new();
    if spec.waveform_scale != 1.0 {
        pre.push(format!("waveform × {}", spec.waveform_scale));
    }
    if let Some(Preemphasis::Signal(c)) = spec.preemphasis {
        pre.push(format!("pre-emphasis {c} over the signal"));
    }
    if spec.remove_dc {
        pre.push("DC removed per frame".into());
    }
    if let Some(Preemphasis::Frame(c)) = spec.preemphasis {
        pre.push(format!("pre-emphasis {c} per frame"));
    }
    pre.push(format!("window {}", spec.window_name));
    line(&mut out, "frame", pre.join(", "));
    let spectrum = match spec.spectrum {
        Spectrum::Magnitude => "|X|",
        Spectrum::Power => "|X|²",
    };
    let scaled = if spec.spectrum_scale == 1.0 {
        spectrum.to_string()
    } else {
        format!("{spectrum} × {}", spec.spectrum_scale)
    };
    let bands = match &spec.mel {
        Some(m) => format!(
            "{scaled} → {} mel bands, {}–{} Hz, {} scale, triangles {}{}",
            m.weights.len(),
            m.fmin_hz,
            m.fmax_hz,
            m.scale,
            match m.triangles {
                Triangles::Hz => "linear in Hz",
                Triangles::Mel => "linear in mel",
                Triangles::FftBins => "on integer FFT bins",
            },
            if m.slaney_norm {
                ", Slaney area norm"
            } else {
                ""
            }
        ),
        None => format!("{scaled}, {} bins", spec.bands()),
    };
    line(&mut out, "spectrum", bands);
    let mut values = Vec::new();
    if let Some(l) = spec.log {
        let arg = match (l.offset, l.floor) {
            (o, f) if o != 0.0 && f > 0.0 => format!("max(x + {}, {})", num(o), num(f)),
            (o, _) if o != 0.0 => format!("x + {}", num(o)),
            (_, f) => format!("max(x, {})", num(f)),
        };
        values.push(match l.func {
            LogFunc::Ln => format!("ln({arg})"),
            LogFunc::Log10 => format!("log10({arg})"),
            LogFunc::Db10 => format!("10·log10({arg} / {})", l.reference),
        });
    }
    if let Some(c) = spec.clamp {
        values.push(format!(
            "max(v, max − {}) over the whole input (live: the last {} s)",
            c.below_max, c.live_span_s
        ));
    }
    if let Some(a) = spec.affine {
        values.push(format!("(v + {}) / {}", a.add, a.div));
    }
    if values.is_empty() {
        values.push("linear".into());
    }
    line(&mut out, "values", values.join(", then "));
    line(&mut out, "units", spec.units.clone());
    if let Some(m) = &spec.model_input {
        line(&mut out, "model", m.text.clone());
    }
    line(&mut out, "reference", spec.reference.clone());
    out
}
