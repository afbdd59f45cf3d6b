//! Every window, at every degenerate and a few ordinary lengths, against scipy's
//! `get_window(name, N, fftbins=True)` run in the reference venv; and the one length
//! where the periodic formula breaks (N = 1: Hann's single coefficient would be 0, so
//! every row read −200 dB) end to end through `analyze`.
//!
//! Needs a Python with numpy and scipy: `$HOPSCOPE_PYTHON`, else `.venv/bin/python`
//! (`make test-deps` creates it). A missing interpreter fails the test.

use std::process::Command;

use hopscope::dsp::window::WindowKind;

use crate::support::python;
use crate::support::{hopscope_in, output_within, read_npy, run_with_timeout, TempDir, PATIENCE};

/// Lengths checked: every length up to 9 (where the cosine sums alias), then ordinary ones.
const LENGTHS: [usize; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 100, 257];

/// (hopscope spelling, scipy expression building the window of length `M`).
fn kinds() -> Vec<(&'static str, &'static str)> {
    vec![
        ("rect", "get_window('boxcar', M, fftbins=True)"),
        ("hann", "get_window('hann', M, fftbins=True)"),
        ("hamming", "get_window('hamming', M, fftbins=True)"),
        ("blackman", "get_window('blackman', M, fftbins=True)"),
        (
            "blackmanharris",
            "get_window('blackmanharris', M, fftbins=True)",
        ),
        ("flattop", "get_window('flattop', M, fftbins=True)"),
        ("kaiser=8.6", "get_window(('kaiser', 8.6), M, fftbins=True)"),
        ("kaiser=0.5", "get_window(('kaiser', 0.5), M, fftbins=True)"),
        // hopscope's σ is a fraction of the window length.
        (
            "gaussian=0.2",
            "get_window(('gaussian', 0.2 * M), M, fftbins=True)",
        ),
        (
            "gaussian=0.05",
            "get_window(('gaussian', 0.05 * M), M, fftbins=True)",
        ),
    ]
}

/// scipy's coefficients for every (kind, length), in `kinds()` × `LENGTHS` order.
fn scipy_windows() -> Vec<Vec<f64>> {
    let py = python::python();
    assert!(
        py.exists(),
        "no Python with scipy at {}: run `make test-deps` or set HOPSCOPE_PYTHON",
        py.display()
    );
    let exprs: Vec<String> = kinds().iter().map(|(_, e)| format!("\"{e}\"")).collect();
    let script = format!(
        "import json\nfrom scipy.signal import get_window\nout = []\n\
         for e in [{}]:\n    for M in {LENGTHS:?}:\n        out.append([float(v) for v in eval(e)])\n\
         print(json.dumps(out))\n",
        exprs.join(", ")
    );
    let mut cmd = Command::new(&py);
    cmd.args(["-c", &script]);
    let out = output_within(cmd, PATIENCE);
    assert!(
        out.status.success(),
        "scipy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("scipy's JSON")
}

#[test]
fn every_window_matches_scipy_at_every_length_including_one() {
    let reference = scipy_windows();
    let mut cases = 0;
    for (k, (name, _)) in kinds().iter().enumerate() {
        let kind: WindowKind = name.parse().expect("a valid window name");
        for (l, &len) in LENGTHS.iter().enumerate() {
            let want = &reference[k * LENGTHS.len() + l];
            let got = kind.coefficients_f64(len);
            assert_eq!(got.len(), want.len(), "{name} N={len}");
            for (n, (g, w)) in got.iter().zip(want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12,
                    "{name} N={len} n={n}: hopscope {g} vs scipy {w}"
                );
            }
            // Level calibration divides by S1: it must be positive at every length.
            assert!(got.iter().sum::<f64>() > 0.0, "{name} N={len}: S1 <= 0");
            cases += 1;
        }
    }
    assert_eq!(cases, kinds().len() * LENGTHS.len());
}

/// `--win-length 1` with Hann: each row is the DFT of one sample, so every bin of the
/// magnitude row `m` is `|x[m]|`, and in dBFS (S1 = 1) every inner bin is
/// `20·log10(2·|x[m]|)` and the DC bin `20·log10(|x[m]|)`.
#[test]
fn analyze_with_a_one_sample_window_reads_each_sample() {
    let dir = TempDir::new("win-length-1");
    let samples: Vec<f32> = (0..64)
        .map(|n| 0.25 + 0.5 * ((n % 7) as f32) / 7.0)
        .collect();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(dir.join("x.wav"), spec).expect("wav");
    for &s in &samples {
        w.write_sample(s).expect("sample");
    }
    w.finalize().expect("finalize");
    for (scale, out) in [("magnitude", "m.npy"), ("db", "d.npy")] {
        let args = [
            "analyze",
            "x.wav",
            "-o",
            out,
            "--n-fft",
            "16",
            "--win-length",
            "1",
            "--hop",
            "1",
            "--scale",
            scale,
        ];
        let o = run_with_timeout(hopscope_in(dir.path(), &args), PATIENCE);
        assert_eq!(o.code(), Some(0), "{}", o.stderr);
        let npy = read_npy(&dir.join(out));
        assert_eq!(npy.shape, vec![64, 9]);
        for (m, &x) in samples.iter().enumerate() {
            let x = f64::from(x);
            for k in 0..9 {
                let got = f64::from(npy.at(m, k));
                let want = match (scale, k) {
                    ("magnitude", _) => x,
                    (_, 0 | 8) => 20.0 * x.log10(),
                    _ => 20.0 * (2.0 * x).log10(),
                };
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{scale} row {m} bin {k}: {got} vs {want}"
                );
            }
        }
    }
}
