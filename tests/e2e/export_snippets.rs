//! `hopscope analyze --export`: the JSON and the librosa / torch / tf.signal / Keras
//! snippets it writes reproduce the .npy hopscope wrote (tests/python/export_check.py, on
//! the real binary), and the exported mel matrix equals librosa.filters.mel.
//!
//! Needs a Python with numpy, scipy and librosa: `$HOPSCOPE_PYTHON`, else
//! `.venv/bin/python` (`make test-deps` creates it), where the librosa snippet runs with
//! the pinned librosa (the Keras one compiles); and a second one with the
//! newest librosa that installs: `$HOPSCOPE_PYTHON_LIBROSA_NEW`, else
//! `.venv-librosa-new/bin/python` (`make test-ml-deps`; Python ≥ 3.12, which librosa
//! 1.0 requires: 0.5 GB that would take make test's Python past 1 GB). A missing interpreter fails the test. The torch and TensorFlow snippets,
//! and the Keras one on the jax and tensorflow backends, run in the ML tier only (keras
//! needs jax even on its numpy backend, and jax would double the light venv): their tests
//! are ignored by `make test` (which compiles those snippets) and run by
//! `make test-ml` (`-- --ignored`, after `make test-ml-deps` installs torch and
//! tensorflow-cpu), where it fails if either is missing.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::python::{python, python_librosa_new};
use crate::support::{output_within, TempDir, PATIENCE};

/// A hang catcher for export_check.py (it runs hopscope and the snippets 8 times; torch
/// and TensorFlow take a while to import).
const SCRIPT_PATIENCE: Duration = Duration::from_secs(900);

/// Lines of export_check.py comparing one library's snippet with hopscope: one per case,
/// two for the three dB cases (as power and in dB).
const SNIPPET_CHECKS: usize = 8 + 3;

/// Runs tests/python/export_check.py in `py` with `--run libs` (the Keras snippet on
/// `keras_backend`); its stdout, after checking that it passed.
fn export_check(py: PathBuf, libs: &str, keras_backend: &str) -> String {
    assert!(
        py.exists(),
        "no Python with librosa at {}: run `make test-deps` or set HOPSCOPE_PYTHON \
         (HOPSCOPE_PYTHON_LIBROSA_NEW for the newest librosa)",
        py.display()
    );
    let work = TempDir::new("export");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/export_check.py");
    let mut cmd = Command::new(&py);
    cmd.arg(&script)
        .arg(env!("CARGO_BIN_EXE_hopscope"))
        .arg(work.path())
        .args(["--run", libs])
        .env("KERAS_BACKEND", keras_backend);
    let out = output_within(cmd, SCRIPT_PATIENCE);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "export check failed:\n{stdout}");
    assert!(stdout.contains("export: 0 failing case(s)"));
    stdout
}

/// The version `requirements` (a file of tests/python) pins for `package`.
fn pinned(requirements: &str, package: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(requirements);
    let text = std::fs::read_to_string(&path).expect("requirements file");
    let prefix = format!("{package}==");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{} pins no {package}", path.display()))
        .trim()
        .to_string()
}

/// Checks the librosa snippet's lines of one export_check run: every case, the 2 mel
/// matrices, and the librosa it ran with (`version`) named in the snippet as checked.
fn assert_librosa_ran(stdout: &str, version: &str) {
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&format!("librosa {version} "))),
        "not librosa {version}:\n{stdout}"
    );
    assert_eq!(
        ok_lines(stdout, "librosa snippet vs hopscope"),
        SNIPPET_CHECKS,
        "{stdout}"
    );
    assert_eq!(
        ok_lines(stdout, "mel matrix vs librosa.filters.mel"),
        2,
        "{stdout}"
    );
    assert_eq!(
        ok_lines(
            stdout,
            &format!("librosa snippet states the running librosa {version} as checked")
        ),
        1,
        "{stdout}"
    );
}

/// Checks that the Keras snippet ran on `backend` and matched for every case.
fn assert_keras_ran(stdout: &str, backend: &str) {
    assert!(
        stdout.contains(&format!("keras backend: {backend} (keras 3.")),
        "{stdout}"
    );
    assert_eq!(
        ok_lines(stdout, "keras snippet vs hopscope"),
        SNIPPET_CHECKS,
        "the keras snippet did not run for every case on {backend}:\n{stdout}"
    );
}

/// How many `ok` lines of `stdout` contain `text`.
fn ok_lines(stdout: &str, text: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.starts_with("ok") && l.contains(text))
        .count()
}

#[test]
fn exported_snippets_reproduce_analyze() {
    // The librosa snippet with the pinned librosa.
    let stdout = export_check(python(), "librosa", "jax");
    // 8 cases with the librosa snippet run (the 3 dB cases report power and dB), and 2
    // mel matrices against librosa.filters.mel.
    assert_librosa_ran(&stdout, &pinned("requirements.txt", "librosa"));
    // The torch, tf and keras snippets are at least valid Python here (`make test-ml`
    // runs them).
    for lib in ["torch", "tf", "keras"] {
        assert_eq!(
            ok_lines(&stdout, &format!("{lib} snippet compiles")),
            8,
            "{stdout}"
        );
    }
}

/// The librosa snippet with the newest librosa that installs (.venv-librosa-new, pinned by
/// tests/python/requirements-librosa-new.txt), for the same 8 configurations.
#[test]
#[ignore = "ML tier: the newest librosa's venv (Python >= 3.12) is made by make test-ml"]
fn exported_librosa_snippet_reproduces_analyze_with_the_newest_librosa() {
    let stdout = export_check(python_librosa_new(), "librosa", "jax");
    assert_librosa_ran(&stdout, &pinned("requirements-librosa-new.txt", "librosa"));
}

/// The ML tier (`make test-ml`): the Keras snippet on the jax backend reproduces
/// `analyze` for the same 8 configurations.
#[test]
#[ignore = "needs keras and jax: make test-ml"]
fn exported_keras_snippet_on_jax_reproduces_analyze() {
    let stdout = export_check(python(), "keras", "jax");
    assert_keras_ran(&stdout, "jax");
}

/// The ML tier (`make test-ml`): the torch and tf.signal snippets, and the Keras one on
/// the tensorflow backend, reproduce `analyze` for the same 8 configurations. Fails when
/// torch or TensorFlow is not installed.
#[test]
#[ignore = "needs torch/TensorFlow: make test-ml"]
fn exported_torch_tf_and_keras_on_tensorflow_snippets_reproduce_analyze() {
    let stdout = export_check(python(), "torch,tf,keras", "tensorflow");
    assert_keras_ran(&stdout, "tensorflow");
    for lib in ["torch", "tf"] {
        assert_eq!(
            ok_lines(&stdout, &format!("{lib} snippet vs hopscope")),
            SNIPPET_CHECKS,
            "the {lib} snippet did not run for every case:\n{stdout}"
        );
    }
}

/// Writes an int16 WAV of `frames` frames, `channels` samples each from `sample(n, ch)`.
fn write_i16_wav(
    path: &std::path::Path,
    channels: u16,
    sample_rate: u32,
    frames: usize,
    sample: impl Fn(usize, u16) -> i16,
) {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for n in 0..frames {
        for ch in 0..channels {
            w.write_sample(sample(n, ch)).expect("sample");
        }
    }
    w.finalize().expect("finalize");
}

#[test]
fn export_json_names_every_parameter() {
    // Independent of Python: the JSON a short file produces.
    let dir = TempDir::new("export-json");
    let wav = dir.join("a.wav");
    write_i16_wav(&wav, 1, 16000, 16000, |n, _| {
        (0.25 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 16000.0).sin() * 32767.0) as i16
    });
    let json = dir.join("p.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    cmd.args(["analyze"])
        .arg(&wav)
        .args(["-o"])
        .arg(dir.join("o.npy"))
        .args([
            "--n-fft",
            "512",
            "--win-length",
            "400",
            "--hop",
            "160",
            "--window",
            "hamming",
            "--mel",
            "40",
            "--mel-scale",
            "htk",
            "--scale",
            "db",
            "--export",
        ])
        .arg(&json);
    let out = output_within(cmd, PATIENCE);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("parse");
    assert_eq!(v["schema"], "spectrogram-export/1");
    assert_eq!(v["sample_rate"], 16000);
    assert_eq!(
        (
            v["n_fft"].clone(),
            v["win_length"].clone(),
            v["hop_length"].clone()
        ),
        (512.into(), 400.into(), 160.into())
    );
    assert_eq!(v["window"]["name"], "hamming");
    assert_eq!(v["center"], false);
    assert_eq!(v["power"], 2.0);
    assert_eq!(v["scaling"]["mode"], "sine_dbfs");
    // Periodic Hamming of length 400 (scipy get_window('hamming', 400)), closed form.
    let coeffs = v["window"]["coefficients_f64"]
        .as_array()
        .expect("coefficients");
    assert_eq!(coeffs.len(), 400);
    for (n, c) in coeffs.iter().enumerate() {
        let want = 0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / 400.0).cos();
        assert!((c.as_f64().expect("number") - want).abs() < 1e-12, "w[{n}]");
    }
    let s1: f64 = (0..400)
        .map(|n| 0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / 400.0).cos())
        .sum();
    assert!((v["db"]["S1"].as_f64().expect("S1") - s1).abs() < 1e-9);
    assert_eq!(v["mel"]["n_mels"], 40);
    assert_eq!(v["mel"]["scale"], "htk");
    assert_eq!(v["mel"]["norm"], serde_json::Value::Null);
    let weights = v["mel"]["weights_f32"].as_array().expect("weights");
    assert_eq!(
        (weights.len(), weights[0].as_array().expect("row").len()),
        (40, 257)
    );
    for lib in ["librosa", "torch", "tf", "keras"] {
        let snippet = dir.join(&format!("p.{lib}.py"));
        let text = std::fs::read_to_string(&snippet).expect("snippet written");
        assert!(text.contains("\"p.json\""), "{lib} snippet reads its JSON");
        assert_eq!(v["snippets"][lib].as_str(), Some(text.as_str()));
    }
    // A non-.json export path is a one-line error, exit 2.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopscope"));
    cmd.arg("analyze")
        .arg(&wav)
        .arg("-o")
        .arg(dir.join("o2.npy"))
        .arg("--export")
        .arg(dir.join("p.txt"));
    let bad = output_within(cmd, PATIENCE);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--export"), "{err}");
}

#[test]
fn render_exports_the_parameters_of_its_image() {
    // The image's columns are the dBFS rows `analyze --scale db` writes with the same
    // options, so both exports must describe the same spectrogram.
    let dir = TempDir::new("export-render");
    let wav = dir.join("a.wav");
    write_i16_wav(&wav, 2, 22050, 22050, |n, ch| {
        let v = ((n * 7919) % 20000) as i16 - 10000;
        if ch == 0 {
            v
        } else {
            -v
        }
    });
    let opts = [
        "--n-fft",
        "1024",
        "--win-length",
        "900",
        "--hop",
        "300",
        "--window",
        "blackman",
        "--channel",
        "1",
    ];
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopscope"));
        cmd.args(args);
        let out = output_within(cmd, PATIENCE);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (a, r) = (dir.join("a.json"), dir.join("r.json"));
    let s = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_string();
    for (command, out, json) in [("analyze", "a.npy", &a), ("render", "r.png", &r)] {
        let mut args = vec![
            command.to_string(),
            s(&wav),
            "-o".into(),
            s(&dir.join(out)),
            "--export".into(),
            s(json),
        ];
        args.extend(opts.iter().map(|o| o.to_string()));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("json")).expect("parse")
    };
    let (va, vr) = (read(&a), read(&r));
    for key in [
        "sample_rate",
        "n_fft",
        "win_length",
        "hop_length",
        "window",
        "center",
        "power",
        "scaling",
        "db",
        "mel",
        "channel",
        "framing",
    ] {
        assert_eq!(va[key], vr[key], "{key}");
    }
    assert_eq!(vr["n_fft"], 1024);
    assert_eq!(vr["channel"], 1);
    assert_eq!(vr["window"]["name"], "blackman");
    assert!(dir.join("r.librosa.py").exists());
}
