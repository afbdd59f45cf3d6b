//! Issue 12 §4: `--params PATH.json` reads an export (`offline::export::write`, what
//! `--export`, the live E key and snapshots write) back as the parameters it records
//! (`offline::params::read`), a flag given beside it overrides it (`AnalyzeJob::new`),
//! and a broken file is one line naming the file and the key.
//!
//! Oracle: the parameters each export was written from, typed in here.

use std::path::{Path, PathBuf};

use clap::Parser;
use hopscope::cli::{Cli, Command};
use hopscope::config::params::FileParams;
use hopscope::config::{AnalyzeJob, MelOptions, RenderJob};
use hopscope::dsp::mel::{MelFilterbank, MelNorm, MelScale, MelSpec};
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::offline::export::{self, Export, ExportSpec};
use hopscope::offline::params::read;
use hopscope::stream::ChannelSelect;
use serde_json::{json, Value};

use crate::support::TempDir;

const SR: u32 = 16_000;

fn stft(n_fft: usize, win: usize, hop: usize, window: WindowKind) -> StftParams {
    StftParams {
        fft_size: n_fft,
        win_length: win,
        hop_size: hop,
        window,
    }
}

/// Writes the export of these parameters to `dir/name.json`.
fn write_export(
    dir: &TempDir,
    name: &str,
    params: StftParams,
    center: bool,
    scale: ValueScale,
    mel: Option<MelSpec>,
    channel: Option<usize>,
) -> PathBuf {
    let fb = mel.map(|m| MelFilterbank::new(m, SR, params.fft_size));
    let path = dir.join(&format!("{name}.json"));
    let spec = ExportSpec {
        sample_rate_hz: SR,
        params,
        center,
        scale,
        mel: fb.as_ref(),
        channel,
        params_from: None,
    };
    export::write(&path, &spec).expect("write the export");
    path
}

#[test]
fn an_export_reads_back_as_the_parameters_it_was_written_from() {
    let dir = TempDir::new("params-read");
    let kaiser = WindowKind::Kaiser { beta: 5.5 };
    let p1 = stft(1000, 800, 123, kaiser);
    let path = write_export(&dir, "a", p1, true, ValueScale::Power, None, Some(1));
    assert_eq!(
        read(&path).expect("read"),
        FileParams {
            path: path.clone(),
            params: p1,
            center: true,
            scale: ValueScale::Power,
            mel: None,
            channel: Some(1),
        }
    );
    // Mel bands: HTK from 30 Hz to Nyquist (an edge at the file's Nyquist frequency is
    // read as "Nyquist", so it follows each input's rate), dB rows.
    let p2 = stft(512, 512, 128, WindowKind::Blackman);
    let htk = MelSpec {
        n_mels: 40,
        fmin_hz: 30.0,
        fmax_hz: 8000.0,
        scale: MelScale::Htk,
        norm: MelNorm::None,
    };
    let path = write_export(&dir, "b", p2, false, ValueScale::Db, Some(htk), None);
    let got = read(&path).expect("read");
    assert_eq!(got.params, p2);
    assert_eq!(got.scale, ValueScale::Db);
    assert_eq!(
        got.mel,
        Some(MelOptions {
            n_mels: 40,
            scale: MelScale::Htk,
            norm: MelNorm::None,
            fmin_hz: 30.0,
            fmax_hz: None,
        })
    );
    // Slaney bands below Nyquist on magnitudes: the top edge is kept.
    let slaney = MelSpec {
        fmax_hz: 7000.0,
        ..MelSpec::librosa(64, SR)
    };
    let p3 = stft(2048, 2048, 512, WindowKind::Hann);
    let path = write_export(
        &dir,
        "c",
        p3,
        false,
        ValueScale::Magnitude,
        Some(slaney),
        None,
    );
    let got = read(&path).expect("read");
    assert_eq!(got.scale, ValueScale::Magnitude);
    let m = got.mel.expect("mel");
    assert_eq!(
        (m.n_mels, m.scale, m.norm),
        (64, MelScale::Slaney, MelNorm::Slaney)
    );
    assert_eq!((m.fmin_hz, m.fmax_hz), (0.0, Some(7000.0)));
}

/// The JSON of a mel export, to break.
fn mel_json(dir: &TempDir) -> Value {
    let mel = MelSpec::librosa(32, SR);
    let p = stft(512, 400, 160, WindowKind::Hamming);
    let path = write_export(dir, "m", p, false, ValueScale::Db, Some(mel), Some(0));
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

/// `read` of `v` written to `dir/bad.json`: the error's one line.
fn error_of(dir: &TempDir, v: &Value) -> String {
    let path = dir.join("bad.json");
    std::fs::write(&path, serde_json::to_string(v).expect("JSON")).expect("write");
    let e = read(&path).expect_err("a broken file").to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("invalid --params: '") && e.contains("bad.json"),
        "{e}"
    );
    e
}

/// Removes the key at `path` (dot-separated) from `v`.
fn without(v: &Value, path: &str) -> Value {
    let mut v = v.clone();
    let (parent, leaf) = path.rsplit_once('.').map_or(("", path), |(p, l)| (p, l));
    let mut at = &mut v;
    for k in parent.split('.').filter(|k| !k.is_empty()) {
        at = &mut at[k];
    }
    at.as_object_mut()
        .expect("an object")
        .remove(leaf)
        .expect("the key");
    v
}

#[test]
fn a_missing_key_is_named() {
    let dir = TempDir::new("params-missing");
    let v = mel_json(&dir);
    for key in [
        "schema",
        "sample_rate",
        "n_fft",
        "win_length",
        "hop_length",
        "window",
        "window.name",
        "center",
        "power",
        "mel",
        "mel.enabled",
        "db",
        "db.enabled",
        "channel",
        "mel.n_mels",
        "mel.fmin",
        "mel.fmax",
        "mel.scale",
        "mel.norm",
        "mel.applied_to",
    ] {
        let e = error_of(&dir, &without(&v, key));
        let leaf = key.rsplit('.').next().expect("leaf");
        // serde names the key in backquotes (and its section before it); the mel keys
        // are checked by name.
        let named = e.contains(&format!("`{leaf}`"))
            && key
                .split_once('.')
                .is_none_or(|(sec, _)| e.contains(&format!("{sec}:")));
        assert!(
            named || e.contains(&format!("{key}: missing")),
            "{key}: {e}"
        );
    }
    // Only what sets a parameter is needed: no snippets, descriptions or coefficients.
    let mut trimmed = v.clone();
    for key in [
        "snippets",
        "framing",
        "layout",
        "frame_time",
        "generator",
        "scaling",
        "dtype",
    ] {
        trimmed = without(&trimmed, key);
    }
    trimmed = without(&trimmed, "window.coefficients_f64");
    trimmed = without(&trimmed, "mel.weights_f32");
    let path = dir.join("trimmed.json");
    std::fs::write(&path, trimmed.to_string()).expect("write");
    let got = read(&path).expect("a trimmed file");
    assert_eq!(got.params, stft(512, 400, 160, WindowKind::Hamming));
    assert_eq!(got.channel, Some(0));
}

#[test]
fn impossible_or_unsupported_values_are_named() {
    let dir = TempDir::new("params-values");
    let v = mel_json(&dir);
    let set = |path: &str, value: Value| {
        let mut v = v.clone();
        let mut at = &mut v;
        for k in path.split('.') {
            at = if let Ok(i) = k.parse::<usize>() {
                &mut at[i]
            } else {
                &mut at[k]
            };
        }
        *at = value;
        v
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (set("n_fft", json!(8)), "n_fft:", "out of range"),
        (set("n_fft", json!("big")), "n_fft:", "invalid type"),
        (set("win_length", json!(600)), "win_length:", "1..=n_fft"),
        (set("hop_length", json!(0)), "hop_length:", "out of range"),
        (
            set("window.name", json!("nosuch")),
            "window.name:",
            "unknown window",
        ),
        (
            set("window.periodic", json!(false)),
            "window.periodic:",
            "symmetric",
        ),
        (
            set("window.coefficients_f64.7", json!(0.5)),
            "window.coefficients_f64:",
            "custom coefficients are not supported yet",
        ),
        (set("power", json!(3.0)), "power:", "expected 1.0"),
        (set("power", json!(1.0)), "power:", "db enabled"),
        (
            set("pad_mode", json!("reflect")),
            "pad_mode:",
            "not supported",
        ),
        (set("onesided", json!(false)), "onesided:", "not supported"),
        (
            set("schema", json!("other/2")),
            "schema:",
            "spectrogram-export/1",
        ),
        (set("sample_rate", json!(0)), "sample_rate:", "0 Hz"),
        (set("db.ref", json!(2.0)), "db.ref:", "1.0"),
        (set("db.top_db", json!(80.0)), "db.top_db:", "null"),
        (set("mel.n_mels", json!(0)), "mel:", "1..=4096"),
        (set("mel.fmax", json!(9000.0)), "mel:", "Nyquist"),
        (
            set("mel.scale", json!("bark")),
            "mel.scale:",
            "unknown variant",
        ),
        (
            set("mel.weights_f32.3.10", json!(0.5)),
            "mel.weights_f32:",
            "custom mel weights are not supported yet",
        ),
        (
            set("mel.weights_f32", json!([[0.0]])),
            "mel.weights_f32:",
            "rows",
        ),
        (set("channel", json!(-1)), "channel:", "invalid value"),
    ];
    // Magnitude rows (power 1, no dB) with bands that weight |X|²: inconsistent.
    let mut magnitude = set("power", json!(1.0));
    magnitude["db"] = json!({"enabled": false});
    let cases = [cases, vec![(magnitude, "mel.applied_to:", "power 1")]].concat();
    for (bad, key, says) in &cases {
        let e = error_of(&dir, bad);
        assert!(e.contains(key) && e.contains(says), "{key} {says}: {e}");
    }
    // A coefficient a rounding away (1e-9 relative) is hopscope's own.
    let w = v["window"]["coefficients_f64"][7].as_f64().expect("f64");
    let close = set("window.coefficients_f64.7", json!(w * (1.0 + 1e-9)));
    let path = dir.join("close.json");
    std::fs::write(&path, close.to_string()).expect("write");
    assert!(read(&path).is_ok());
    // Not JSON, and no file.
    let path = dir.join("text.json");
    std::fs::write(&path, "n_fft = 2048\n").expect("write");
    let e = read(&path).expect_err("not JSON").to_string();
    assert!(
        e.contains("text.json") && e.contains("not a JSON export"),
        "{e}"
    );
    let e = read(&dir.join("none.json"))
        .expect_err("missing")
        .to_string();
    assert!(e.contains("none.json") && e.contains("cannot read"), "{e}");
}

#[test]
fn old_exports_parse_and_params_from_round_trips() {
    let dir = TempDir::new("params-old");
    let v = mel_json(&dir);
    assert!(v.get("params_from").is_none(), "absent without --params");
    let old: Export = serde_json::from_value(v.clone()).expect("an export without params_from");
    assert_eq!(old.params_from, None);
    let mut with = v;
    with["params_from"] = json!({"file": "/x/p.json", "overridden": ["--hop"]});
    let new: Export = serde_json::from_value(with).expect("with params_from");
    let from = new.params_from.clone().expect("params_from");
    assert_eq!(
        (from.file.as_str(), from.overridden),
        ("/x/p.json", vec!["--hop".to_string()])
    );
    let again: Export = serde_json::from_str(&new.to_json_pretty()).expect("round trip");
    assert_eq!(again, new);
}

fn analyze_args(args: &[&str]) -> hopscope::cli::AnalyzeArgs {
    let cli = Cli::try_parse_from(["hopscope", "analyze"].iter().chain(args)).expect("parse");
    match cli.command {
        Some(Command::Analyze(a)) => a,
        other => panic!("not analyze: {other:?}"),
    }
}

fn file_params(path: &Path) -> FileParams {
    FileParams {
        path: path.to_path_buf(),
        params: stft(1000, 800, 123, WindowKind::Kaiser { beta: 5.5 }),
        center: true,
        scale: ValueScale::Power,
        mel: Some(MelOptions {
            n_mels: 40,
            scale: MelScale::Htk,
            norm: MelNorm::Slaney,
            fmin_hz: 30.0,
            fmax_hz: None,
        }),
        channel: Some(1),
    }
}

#[test]
fn flags_given_beside_the_file_override_it_and_are_recorded() {
    let file = file_params(Path::new("p.json"));
    let base = ["in.wav", "-o", "x.npy", "--params", "p.json"];
    let with = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        AnalyzeJob::new(&analyze_args(&args), Some(&file)).expect("valid")
    };
    // The same parameters as flags; `hop` and `center` as given.
    let flags = |hop: &str, center: &str, extra: &[&str]| {
        let mut args = vec![
            "in.wav",
            "-o",
            "x.npy",
            "--n-fft",
            "1000",
            "--win-length",
            "800",
            "--hop",
            hop,
            "--window",
            "kaiser=5.5",
            center,
            "--scale",
            "power",
            "--mel",
            "40",
            "--mel-scale",
            "htk",
            "--mel-norm",
            "slaney",
            "--mel-fmin",
            "30",
            "--channel",
            "1",
        ];
        args.extend_from_slice(extra);
        AnalyzeJob::new(&analyze_args(&args), None)
            .expect("valid")
            .cfg
    };
    let same = |a: &hopscope::config::AnalyzeConfig, b: &hopscope::config::AnalyzeConfig| {
        assert_eq!(a.params, b.params);
        assert_eq!(a.scale, b.scale);
        assert_eq!(a.center, b.center);
        assert_eq!(a.mel, b.mel);
        assert_eq!(a.channel, b.channel);
    };
    let job = with(&[]);
    same(&job.cfg, &flags("123", "--center", &[]));
    let from = job.cfg.params_from.expect("params_from");
    assert!(from.file.is_absolute() && from.file.ends_with("p.json"));
    assert!(from.overridden.is_empty());
    // Each override replaces that parameter alone.
    let job = with(&["--hop", "200", "--center=false", "--mel-fmax", "6000"]);
    same(
        &job.cfg,
        &flags("200", "--center=false", &["--mel-fmax", "6000"]),
    );
    assert_eq!(
        job.cfg.params_from.expect("params_from").overridden,
        ["--hop", "--center", "--mel-fmax"]
    );
    assert_eq!(job.cfg.channel, ChannelSelect::Index(1));
    // A flag that makes the file's values impossible: the error says where each came from.
    let e = AnalyzeJob::new(
        &analyze_args(&[&base[..], &["--n-fft", "512"]].concat()),
        Some(&file),
    )
    .expect_err("win_length 800 > n_fft 512")
    .to_string();
    assert!(
        e.contains("--win-length") && e.contains("from --params 'p.json'"),
        "{e}"
    );
    // render takes the STFT and the channel only.
    let cli = Cli::try_parse_from([
        "hopscope", "render", "in.wav", "-o", "x.png", "--params", "p.json", "--window", "hann",
    ])
    .expect("parse");
    let Some(Command::Render(args)) = cli.command else {
        panic!("not render");
    };
    let job = RenderJob::new(&args, Some(&file)).expect("valid");
    assert_eq!(job.cfg.params, stft(1000, 800, 123, WindowKind::Hann));
    assert_eq!(job.cfg.channel, ChannelSelect::Index(1));
    assert_eq!(job.cfg.params_from.expect("from").overridden, ["--window"]);
}
