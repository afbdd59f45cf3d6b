//! Issue 12 §4: `--params PATH.json` end to end. An export written by `analyze
//! --export`, by `render --export` or by the live window's E key, fed back with
//! `--params`, gives output equal bit for bit to the run with the flags it records; a
//! flag given beside it overrides that parameter alone; the new export says where its
//! parameters came from (`params_from`); a broken file is one line naming it.
//!
//! Oracle: the run with the flags typed in here (the one-file form, whose rows the
//! librosa parity and export tests check independently).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::live::LiveChild;
use crate::support::x11::Xvfb;
use crate::support::{
    assert_one_line_error, run_with_timeout, Outcome, TempDir, HOPSCOPE, PATIENCE,
};

/// A WAV of two tones (one per channel, stereo) and a little noise, 48 kHz, 16-bit.
fn write_wav(path: &Path, channels: u16, seconds: f64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let mut rng = crate::support::rng::Rng::new(12);
    for n in 0..(seconds * 48_000.0) as usize {
        let t = n as f64 / 48_000.0;
        for ch in 0..channels {
            let hz = [1000.0, 3000.0][usize::from(ch) % 2];
            let x = 0.4 * (2.0 * std::f64::consts::PI * hz * t).sin() + 0.01 * rng.uniform();
            w.write_sample((x * 32767.0).round() as i16)
                .expect("sample");
        }
    }
    w.finalize().expect("finalize");
}

fn run(dir: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(dir).args(args);
    let o = run_with_timeout(cmd, PATIENCE);
    assert!(!o.stderr.contains("panicked"), "{o:?}");
    o
}

fn ok(dir: &Path, args: &[&str]) {
    let o = run(dir, args);
    assert_eq!(o.code(), Some(0), "{args:?}: {o:?}");
}

fn bytes(dir: &TempDir, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("JSON")
}

/// The export without what names the run rather than its parameters.
fn parameters(mut v: Value) -> Value {
    let o = v.as_object_mut().expect("object");
    for key in ["params_from", "snippets", "generator"] {
        o.remove(key);
    }
    v
}

#[test]
fn an_analyze_export_fed_back_gives_the_same_rows_and_flags_override_it() {
    let dir = TempDir::new("params-analyze");
    write_wav(&dir.join("in.wav"), 2, 1.5);
    let cases: &[&[&str]] = &[
        &[],
        &[
            "--n-fft",
            "1000",
            "--win-length",
            "800",
            "--hop",
            "123",
            "--window",
            "kaiser=5.5",
            "--scale",
            "power",
            "--center",
        ],
        &[
            "--n-fft",
            "512",
            "--hop",
            "128",
            "--window",
            "blackman",
            "--mel",
            "40",
            "--mel-scale",
            "htk",
            "--mel-fmin",
            "50",
            "--mel-fmax",
            "7000",
            "--channel",
            "1",
        ],
        &[
            "--mel",
            "64",
            "--scale",
            "magnitude",
            "--window",
            "gaussian=0.3",
            "--center",
        ],
        &[
            "--n-fft",
            "600",
            "--mel",
            "24",
            "--mel-scale",
            "tf",
            "--mel-norm",
            "none",
        ],
    ];
    for (i, flags) in cases.iter().enumerate() {
        let (e, f, p) = (
            format!("e{i}.json"),
            format!("f{i}.npy"),
            format!("p{i}.npy"),
        );
        let mut args = vec!["analyze", "in.wav", "-o", &f, "--export", &e];
        args.extend_from_slice(flags);
        ok(dir.path(), &args);
        let pj = format!("p{i}.json");
        ok(
            dir.path(),
            &[
                "analyze", "in.wav", "-o", &p, "--params", &e, "--export", &pj,
            ],
        );
        assert!(bytes(&dir, &f) == bytes(&dir, &p), "{flags:?}: rows differ");
        // The new export records the same parameters, and where they came from.
        let (first, again) = (json(&dir.join(&e)), json(&dir.join(&pj)));
        let from = &again["params_from"];
        let file = dir.path().canonicalize().expect("dir").join(&e);
        assert_eq!(
            std::fs::canonicalize(from["file"].as_str().expect("file")).expect("exists"),
            file
        );
        assert_eq!(from["overridden"], serde_json::json!([]));
        assert!(first.get("params_from").is_none());
        assert_eq!(parameters(first), parameters(again), "{flags:?}");
    }
    // --params X --hop N equals the flags with hop N (and --center=false undoes --center).
    let o = "over.npy";
    ok(
        dir.path(),
        &[
            "analyze",
            "in.wav",
            "-o",
            o,
            "--params",
            "e1.json",
            "--hop",
            "200",
            "--center=false",
            "--export",
            "over.json",
        ],
    );
    ok(
        dir.path(),
        &[
            "analyze",
            "in.wav",
            "-o",
            "flags.npy",
            "--n-fft",
            "1000",
            "--win-length",
            "800",
            "--hop",
            "200",
            "--window",
            "kaiser=5.5",
            "--scale",
            "power",
        ],
    );
    assert!(
        bytes(&dir, o) == bytes(&dir, "flags.npy"),
        "--hop 200 over the file"
    );
    let over = json(&dir.join("over.json"));
    assert_eq!(
        over["params_from"]["overridden"],
        serde_json::json!(["--hop", "--center"])
    );
    assert_eq!(
        (over["hop_length"].as_u64(), over["center"].as_bool()),
        (Some(200), Some(false))
    );
    // A batch takes the same file for every input.
    std::fs::create_dir(dir.join("many")).expect("mkdir");
    std::fs::copy(dir.join("in.wav"), dir.join("many/x.wav")).expect("copy");
    ok(
        dir.path(),
        &["analyze", "many", "-o", "out/", "--params", "e2.json"],
    );
    assert!(
        bytes(&dir, "out/x.npy") == bytes(&dir, "f2.npy"),
        "batch with --params"
    );
}

#[test]
fn render_takes_the_stft_and_channel_of_any_export() {
    let dir = TempDir::new("params-render");
    write_wav(&dir.join("in.wav"), 2, 1.0);
    let stft = [
        "--n-fft",
        "1024",
        "--hop",
        "256",
        "--window",
        "hamming",
        "--channel",
        "1",
    ];
    let mut args = vec!["render", "in.wav", "-o", "flags.png", "--export", "r.json"];
    args.extend_from_slice(&stft);
    ok(dir.path(), &args);
    ok(
        dir.path(),
        &["render", "in.wav", "-o", "params.png", "--params", "r.json"],
    );
    assert!(
        bytes(&dir, "flags.png") == bytes(&dir, "params.png"),
        "render --params"
    );
    // An analyze export with centring, magnitudes and mel bands: render draws the
    // causal dBFS frames of its STFT.
    let mut args = vec!["analyze", "in.wav", "-o", "a.npy", "--export", "a.json"];
    args.extend_from_slice(&stft);
    args.extend_from_slice(&["--center", "--scale", "magnitude", "--mel", "32"]);
    ok(dir.path(), &args);
    ok(
        dir.path(),
        &[
            "render",
            "in.wav",
            "-o",
            "from-analyze.png",
            "--params",
            "a.json",
        ],
    );
    assert!(bytes(&dir, "flags.png") == bytes(&dir, "from-analyze.png"));
}

#[test]
fn a_broken_params_file_is_one_line_naming_the_file_and_the_key() {
    let dir = TempDir::new("params-broken");
    write_wav(&dir.join("in.wav"), 1, 0.5);
    ok(
        dir.path(),
        &["analyze", "in.wav", "-o", "x.npy", "--export", "good.json"],
    );
    let good = json(&dir.join("good.json"));
    let mut missing = good.clone();
    missing
        .as_object_mut()
        .expect("object")
        .remove("hop_length");
    let mut impossible = good.clone();
    impossible["win_length"] = serde_json::json!(4096);
    let mut custom = good.clone();
    custom["window"]["coefficients_f64"][10] = serde_json::json!(0.25);
    std::fs::write(dir.join("text.json"), "hop = 512\n").expect("write");
    for (name, v) in [
        ("missing", missing),
        ("impossible", impossible),
        ("custom", custom),
    ] {
        std::fs::write(dir.join(&format!("{name}.json")), v.to_string()).expect("write");
    }
    let cases = [
        ("text.json", "not a JSON export"),
        ("missing.json", "`hop_length`"),
        ("impossible.json", "win_length:"),
        (
            "custom.json",
            "window.coefficients_f64: custom coefficients are not supported yet",
        ),
        ("none.json", "cannot read"),
    ];
    for (file, says) in cases {
        for cmd in ["analyze", "render"] {
            let out = if cmd == "analyze" { "y.npy" } else { "y.png" };
            let o = run(dir.path(), &[cmd, "in.wav", "-o", out, "--params", file]);
            assert_one_line_error(file, &o);
            let line = o.stderr.trim_end();
            assert!(
                line.contains(&format!("--params: '{file}'")) && line.contains(says),
                "{cmd} {file}: {line}"
            );
            assert!(!dir.join(out).exists());
        }
    }
}

/// The live window's E key writes `hopscope-params-*.json` for the rows on screen (here
/// the mel view); `analyze --params` of that file equals `analyze` with the window's
/// flags, bit for bit.
#[test]
fn the_live_e_key_export_gives_analyze_the_window_s_parameters() {
    let dir = TempDir::new("params-live");
    let live = [
        "--n-fft",
        "1024",
        "--hop",
        "256",
        "--window",
        "blackman",
        "--mel",
        "64",
        "--mel-scale",
        "htk",
    ];
    let x = Xvfb::start(1280, 800);
    let mut cmd = x.command(HOPSCOPE);
    cmd.current_dir(dir.path()).arg("--demo").args(live);
    let mut app = LiveChild::spawn("hopscope", cmd);
    let wid = {
        let app_ref = &mut app;
        x.wait_for_window("^hopscope$", PATIENCE, || app_ref.is_running())
    };
    let Some(wid) = wid else {
        panic!("no window on {}\n{}", x.display(), app.dump());
    };
    // The window's status line, once up: it starts on the mel view.
    let view = app.expect_line("a status line", PATIENCE, |l| l.starts_with("n_fft="));
    assert!(view.contains(" mel=64-htk "), "{view}");
    x.key(&wid, "e");
    let line = app.expect_line("E → export: PATH", PATIENCE, |l| {
        l.starts_with("export: ")
    });
    let export = line.trim_start_matches("export: ").to_string();
    x.key_unchecked(&wid, "q");
    let status = app.wait_exit(PATIENCE);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", app.dump());

    write_wav(&dir.join("in.wav"), 1, 2.0);
    ok(
        dir.path(),
        &["analyze", "in.wav", "-o", "params.npy", "--params", &export],
    );
    let mut args = vec!["analyze", "in.wav", "-o", "flags.npy"];
    args.extend_from_slice(&live);
    ok(dir.path(), &args);
    let (a, b) = (bytes(&dir, "params.npy"), bytes(&dir, "flags.npy"));
    assert!(
        a == b,
        "analyze --params {export} differs from the window's flags"
    );
    // 1 + (96000 − 1024)/256 = 1 + 371 = 372 rows of 64 bands.
    let npy = crate::support::read_npy(&dir.join("params.npy"));
    assert_eq!(npy.shape, [372, 64]);
}
