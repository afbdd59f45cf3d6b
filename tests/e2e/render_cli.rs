//! `hopscope render` end to end (split from `tests/it/render_image.rs`, which checks the
//! waterfall and PNG code in-process): image size, the tone's row where the axis says
//! and its level, and the one-line errors.
//!
//! Oracles: PNGs are decoded with the `png` crate; the rendered sine's row is predicted
//! from the axis formulas typed in here (DSP.md §7 mel, ln for log) and the level from
//! the dBFS calibration (−6.02 dBFS sine → −6.02 dB at its bin-centred peak).

use std::path::Path;
use std::process::{Command, Output};

use hopscope::render::chrome::{MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP};

use crate::support::image::decode_png;
use crate::support::mel::{htk, slaney};
use crate::support::{output_within, TempDir, HOPSCOPE, PATIENCE};

const SR: u32 = 48_000;
const TONE_HZ: f64 = 3000.0;

/// 2 s at 48 kHz of a 3000 Hz sine at −6.02 dBFS (amplitude ½), 32-bit float.
fn write_sine(path: &Path) -> usize {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SR,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = 2 * SR as usize;
    for i in 0..n {
        let x = 0.5 * (2.0 * std::f64::consts::PI * TONE_HZ * i as f64 / SR as f64).sin();
        w.write_sample(x as f32).unwrap();
    }
    w.finalize().unwrap();
    n
}

fn hopscope(args: &[&str]) -> Output {
    let mut cmd = Command::new(HOPSCOPE);
    cmd.args(args).env("NO_COLOR", "1");
    output_within(cmd, PATIENCE)
}

/// Axis fraction of `hz` (typed in: DSP.md §7 mel, ln for log from max(fmin, 20)).
fn frac(scale: &str, fmin: f64, fmax: f64, hz: f64) -> f64 {
    let w = |f: f64| match scale {
        "linear" => f,
        "log" => f.ln(),
        "mel" => htk(f),
        "mel-slaney" => slaney(f),
        _ => unreachable!(),
    };
    let lo = if scale == "log" { fmin.max(20.0) } else { fmin };
    (w(hz) - w(lo)) / (w(fmax) - w(lo))
}

struct RenderCase<'a> {
    extra: &'a [&'a str],
    n_fft: usize,
    hop: usize,
    scale: &'a str,
    height: Option<usize>,
    fmin: f64,
    fmax: f64,
}

#[test]
fn render_draws_the_sine_where_the_axis_says_at_its_level() {
    let dir = TempDir::new("render");
    let wav = dir.join("sine.wav");
    let n = write_sine(&wav);
    let cases = [
        RenderCase {
            extra: &[],
            n_fft: 2048,
            hop: 512,
            scale: "linear",
            height: None,
            fmin: 0.0,
            fmax: 24_000.0,
        },
        RenderCase {
            extra: &["--n-fft", "1024", "--hop", "256", "--window", "blackman"],
            n_fft: 1024,
            hop: 256,
            scale: "linear",
            height: Some(300),
            fmin: 1000.0,
            fmax: 8000.0,
        },
        RenderCase {
            extra: &["--n-fft", "4096", "--hop", "1024"],
            n_fft: 4096,
            hop: 1024,
            scale: "log",
            height: Some(300),
            fmin: 0.0,
            fmax: 24_000.0,
        },
        RenderCase {
            extra: &[],
            n_fft: 2048,
            hop: 512,
            scale: "mel",
            height: Some(256),
            fmin: 0.0,
            fmax: 24_000.0,
        },
        RenderCase {
            extra: &["--hop", "700"],
            n_fft: 2048,
            hop: 700,
            scale: "mel-slaney",
            height: Some(200),
            fmin: 100.0,
            fmax: 12_000.0,
        },
    ];
    let mut measured = vec![];
    for (i, c) in cases.iter().enumerate() {
        let out = dir.join(&format!("out{i}.png"));
        let (fmin, fmax) = (c.fmin.to_string(), c.fmax.to_string());
        let height = c.height.map(|h| h.to_string());
        let mut args = vec![
            "render",
            wav.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--freq-scale",
            c.scale,
            "--colormap",
            "grayscale",
            "--fmin",
            &fmin,
            "--fmax",
            &fmax,
        ];
        args.extend_from_slice(c.extra);
        if let Some(h) = &height {
            args.extend_from_slice(&["--height", h]);
        }
        let o = hopscope(&args);
        let what = format!("hopscope {}", args[4..].join(" "));
        assert!(
            o.status.success(),
            "{what}: {:?}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        let img = decode_png(&out);
        let rows = (n - c.n_fft) / c.hop + 1;
        let plot_h = c.height.unwrap_or(c.n_fft / 2 + 1);
        assert_eq!(
            (img.width, img.height),
            (
                rows + MARGIN_LEFT + MARGIN_RIGHT,
                plot_h + MARGIN_TOP + MARGIN_BOTTOM
            ),
            "{what}: image size"
        );
        // The brightest pixel of the middle plot column (grayscale: R = colour index).
        let x = MARGIN_LEFT + rows / 2;
        let column: Vec<u32> = (MARGIN_TOP..MARGIN_TOP + plot_h)
            .map(|y| img.at(x, y) >> 16)
            .collect();
        let peak = *column.iter().max().unwrap();
        let peak_rows: Vec<usize> = column
            .iter()
            .enumerate()
            .filter(|(_, &v)| v == peak)
            .map(|(r, _)| r + MARGIN_TOP)
            .collect();
        let f = frac(c.scale, c.fmin, c.fmax, TONE_HZ);
        let y = MARGIN_TOP as f64 + plot_h as f64 - f * plot_h as f64;
        // The pixel row holding y is floor(y); allow ±1 px.
        let expected_row = y.floor();
        measured.push(format!(
            "{what}: {}x{}, peak index {peak} at rows {peak_rows:?}, axis says y = {y:.2}",
            img.width, img.height
        ));
        for r in &peak_rows {
            assert!(
                (*r as f64 - expected_row).abs() <= 1.0,
                "{what}: brightest row {r} (of {peak_rows:?}), axis puts {TONE_HZ} Hz at y = {y:.2}"
            );
        }
        // Level: the sine is bin-centred for every n_fft here (3000·n_fft/48000 is an
        // integer), so its peak bin reads −6.02 dBFS; the default range is −120..0 dB.
        let want = (255.0 * (-6.0206 + 120.0) / 120.0f64).round() as u32;
        assert!(
            peak.abs_diff(want) <= 1,
            "{what}: peak colour index {peak}, a −6.02 dBFS bin-centred sine is {want}"
        );
    }
    eprintln!("{}", measured.join("\n"));
}

fn assert_one_line_exit_2(o: &Output, what: &str, mention: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {:?} {stderr}", o.status);
    assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr:?}");
    assert!(
        stderr.ends_with('\n') && stderr.trim().len() > 10,
        "{what}: {stderr:?}"
    );
    assert!(
        stderr.contains(mention),
        "{what}: should mention {mention}: {stderr}"
    );
    assert!(
        o.stdout.is_empty(),
        "{what}: stdout {:?}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn render_rejects_a_non_png_output_and_fmax_above_nyquist() {
    let dir = TempDir::new("render-err");
    let wav = dir.join("sine.wav");
    write_sine(&wav);
    let w = wav.to_str().unwrap();
    let jpg = dir.join("x.jpg");
    let o = hopscope(&["render", w, "-o", jpg.to_str().unwrap()]);
    assert_one_line_exit_2(&o, "-o x.jpg", ".png");
    let png = dir.join("y.png");
    let o = hopscope(&["render", w, "-o", png.to_str().unwrap(), "--fmax", "30000"]);
    assert_one_line_exit_2(&o, "--fmax 30000", "--fmax");
    assert_eq!(
        dir.entries(),
        vec!["sine.wav".to_string()],
        "no output left behind"
    );
}
