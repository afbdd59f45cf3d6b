//! Bad input never panics, never hangs and never leaves a partial output:
//! exit code 2, exactly one non-empty line on stderr, nothing on stdout, and the
//! output directory holds no `OUT.npy` nor a `.OUT.npy.tmp-*` leftover.
//!
//! Positive controls (so these tests can fail): valid WAVs in every supported
//! sample format are analysed to `.npy` files whose shape and values are checked
//! against closed forms, and a short `--file` replay runs to its end with exit 0.

use std::f64::consts::PI;
use std::path::Path;

use crate::support;
use crate::support::{
    assert_one_line_error, hopscope_in, read_npy, run_with_timeout, status_lines, Outcome, TempDir,
};

/// Every run here is offline or fails before any audio starts: a hang catcher, never a
/// claim about speed.
const TIMEOUT: std::time::Duration = support::PATIENCE;

fn run(dir: &TempDir, args: &[&str]) -> Outcome {
    run_with_timeout(hopscope_in(dir.path(), args), TIMEOUT)
}

/// Runs one failing case and checks the whole contract, plus that the message
/// mentions `mention` and that the directory is unchanged.
fn expect_error(dir: &TempDir, args: &[&str], mention: &str) {
    let before = dir.entries();
    let o = run(dir, args);
    let what = format!("hopscope {}", args.join(" "));
    assert_one_line_error(&what, &o);
    assert!(
        o.stderr.contains(mention),
        "{what}: the error should mention {mention:?}: {}",
        o.stderr
    );
    assert_eq!(
        dir.entries(),
        before,
        "{what}: the directory changed (partial output or temp leftover)"
    );
}

fn spec(channels: u16, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: 48_000,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

/// A 16-bit WAV of `frames` frames; `f(frame, channel)` in [−1, 1).
fn write_wav_i16(path: &Path, channels: u16, frames: usize, f: impl Fn(usize, u16) -> f64) {
    let mut w = hound::WavWriter::create(path, spec(channels, 16, false)).expect("create wav");
    for n in 0..frames {
        for c in 0..channels {
            let v = (f(n, c) * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            w.write_sample(v).expect("write sample");
        }
    }
    w.finalize().expect("finalize wav");
}

/// Deterministic bytes (LCG) that are not a WAV.
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

/// A canonical 44-byte PCM header whose data chunk claims `claimed_bytes`.
fn pcm_header(channels: u16, bits: u16, claimed_bytes: u32) -> Vec<u8> {
    let block = u32::from(channels) * u32::from(bits) / 8;
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&36u32.wrapping_add(claimed_bytes).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&48_000u32.to_le_bytes());
    h.extend_from_slice(&(48_000 * block).to_le_bytes());
    h.extend_from_slice(&(block as u16).to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&claimed_bytes.to_le_bytes());
    h
}

/// The input files shared by the error cases.
fn bad_inputs() -> TempDir {
    let dir = TempDir::new("cli-errors");
    std::fs::write(dir.join("corrupt.wav"), garbage(4096)).unwrap();
    std::fs::write(dir.join("empty.wav"), b"").unwrap();
    // A valid header whose data chunk claims 100 000 bytes but holds 4 000.
    let mut lying = pcm_header(2, 16, 100_000);
    lying.extend(garbage(4000));
    std::fs::write(dir.join("lying.wav"), lying).unwrap();
    // Header cut in the middle of the fmt chunk.
    std::fs::write(dir.join("cut.wav"), &pcm_header(2, 16, 4000)[..22]).unwrap();
    // Valid header, zero samples.
    hound::WavWriter::create(dir.join("zero_samples.wav"), spec(2, 16, false))
        .unwrap()
        .finalize()
        .unwrap();
    // Shorter than one default window (2048).
    write_wav_i16(&dir.join("short.wav"), 1, 1000, |n, _| {
        (n as f64 * 0.1).sin() * 0.5
    });
    write_wav_i16(&dir.join("mono.wav"), 1, 8000, |n, _| {
        (n as f64 * 0.1).sin() * 0.5
    });
    write_wav_i16(&dir.join("good.wav"), 2, 8000, |n, _| {
        (n as f64 * 0.1).sin() * 0.5
    });
    std::fs::create_dir(dir.join("isadir.npy")).unwrap();
    dir
}

#[test]
fn analyze_rejects_bad_wav_files() {
    let dir = bad_inputs();
    for (file, mention) in [
        ("corrupt.wav", "corrupt.wav"),
        ("lying.wav", "truncated"),
        ("empty.wav", "empty.wav"),
        ("cut.wav", "cut.wav"),
        ("zero_samples.wav", "zero_samples.wav"),
        ("short.wav", "short.wav"),
        ("missing.wav", "missing.wav"),
    ] {
        expect_error(&dir, &["analyze", file, "-o", "out.npy"], mention);
        // --center must not turn an empty or broken file into a success
        // (short.wav is valid with --center: padding makes whole frames).
        if file != "short.wav" {
            expect_error(&dir, &["analyze", file, "--center", "-o", "out.npy"], file);
        }
    }
}

#[test]
fn analyze_rejects_bad_flags() {
    let dir = bad_inputs();
    let cases: &[(&[&str], &str)] = &[
        (&["--n-fft", "0"], "--n-fft"),
        (&["--n-fft", "70000"], "--n-fft"),
        (&["--n-fft", "15"], "--n-fft"),
        (&["--n-fft", "abc"], "--n-fft"),
        (&["--hop", "0"], "--hop"),
        (
            &["--n-fft", "1024", "--win-length", "512", "--hop", "600"],
            "--hop",
        ),
        (&["--n-fft", "1024", "--hop", "1025"], "--hop"),
        (&["--n-fft", "1024", "--win-length", "2048"], "--win-length"),
        (&["--win-length", "0"], "--win-length"),
        (&["--window", "nosuch"], "--window"),
        (&["--window", "kaiser=abc"], "--window"),
        (&["--scale", "nosuch"], "--scale"),
        (&["--channel", "2"], "--channel"),
        (&["--bogus"], "--bogus"),
        (&["--hop"], "--hop"),
    ];
    for (extra, mention) in cases {
        let mut args = vec!["analyze", "good.wav", "-o", "out.npy"];
        args.extend_from_slice(extra);
        expect_error(&dir, &args, mention);
    }
    expect_error(
        &dir,
        &["analyze", "mono.wav", "-o", "out.npy", "--channel", "5"],
        "--channel",
    );
    expect_error(&dir, &["analyze", "good.wav", "-o", "out.txt"], ".npy");
    expect_error(&dir, &["analyze", "good.wav"], "--output");
    expect_error(&dir, &["analyze"], "IN.wav");
    expect_error(
        &dir,
        &["analyze", "good.wav", "-o", "no/such/dir/out.npy"],
        "out.npy",
    );
    // The target is a directory: the rename fails and the temp file must go.
    expect_error(
        &dir,
        &["analyze", "good.wav", "-o", "isadir.npy"],
        "isadir.npy",
    );
    expect_error(&dir, &["nosuchcommand"], "nosuchcommand");
}

#[test]
fn live_mode_rejects_bad_flags_fast() {
    let dir = bad_inputs();
    let cases: &[(&[&str], &str)] = &[
        (&["--loop", "--duration", "1"], "--file"),
        (&["--file", "good.wav", "--demo"], "--demo"),
        (&["--device", "x", "--demo"], "--demo"),
        (&["--demo", "--sample-rate", "0"], "--sample-rate"),
        (&["--demo", "--sample-rate", "999999999"], "--sample-rate"),
        (&["--demo", "--buffer", "0"], "--buffer"),
        (&["--demo", "--buffer", "100000"], "--buffer"),
        (&["--demo", "--duration", "-1"], "-1"),
        (&["--demo", "--duration=-1"], "--duration"),
        (&["--demo", "--duration", "0"], "--duration"),
        (&["--demo", "--duration", "nan"], "--duration"),
        (&["--demo", "--duration", "inf"], "--duration"),
        (&["--demo", "--n-fft", "0"], "--n-fft"),
        (&["--demo", "--window", "nosuch"], "--window"),
        (&["--demo", "--channel", "5"], "--channel"),
        (&["--file", "corrupt.wav"], "corrupt.wav"),
        (&["--file", "corrupt.wav", "--loop"], "corrupt.wav"),
        (&["--file", "lying.wav"], "truncated"),
        (&["--file", "empty.wav"], "empty.wav"),
        (
            &["--file", "zero_samples.wav", "--loop"],
            "zero_samples.wav",
        ),
        (&["--file", "missing.wav"], "missing.wav"),
        (&["--file", "mono.wav", "--channel", "5"], "--channel"),
        (
            &["--file", "good.wav", "--sample-rate", "44100"],
            "--sample-rate",
        ),
        (&["--unknown-flag"], "--unknown-flag"),
        (&["--demo", "--compare", "window=hann"], "--compare"),
        (
            &["--demo", "--compare", "window=hann;window=nosuch"],
            "--compare",
        ),
        (
            &["--demo", "--compare", "window=hann;colour=red"],
            "--compare",
        ),
        (&["--demo", "--compare", "a=1;b=2;c=3;d=4;e=5"], "--compare"),
        (
            &[
                "--demo",
                "--compare",
                "n_fft=1024,win_length=2048;window=hann",
            ],
            "--compare",
        ),
        (&["--demo", "--compare", "hop=256;mel=100000"], "--compare"),
        (&["--demo", "--mel", "0"], "--mel"),
        (&["--demo", "--suggest-seconds", "0"], "--suggest-seconds"),
        (&["--demo", "--suggest-seconds", "nan"], "--suggest-seconds"),
        (&["--demo", "--mel", "100000"], "--mel"),
        (
            &["--demo", "--mel", "64", "--mel-scale", "nosuch"],
            "--mel-scale",
        ),
        (&["--demo", "--mel-norm", "none"], "--mel"),
        (
            &["--demo", "--mel", "64", "--fmin", "5000", "--fmax", "100"],
            "--f",
        ),
    ];
    for (args, mention) in cases {
        expect_error(&dir, args, mention);
    }
}

/// A bad value of an enumerated flag is clap's one line listing the values (aliases of
/// old stay accepted: `cli::values` tests them); render's old `--scale`, its frequency
/// axis, is an error naming `--freq-scale`, and so is `--scale` in live mode.
#[test]
fn enum_flags_list_their_values() {
    let dir = bad_inputs();
    let render = ["render", "good.wav", "-o", "x.png"];
    let analyze = ["analyze", "good.wav", "-o", "x.npy"];
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&render, &["--scale", "log"], &["use --freq-scale log"]),
        (
            &render,
            &["--freq-scale", "bark"],
            &["linear, log, mel, mel-slaney"],
        ),
        (
            &render,
            &["--colormap", "jet"],
            &["magma, viridis", "cividis"],
        ),
        (
            &analyze,
            &["--scale", "log"],
            &["--scale", "db, magnitude, power"],
        ),
        (
            &analyze,
            &["--window", "nosuch"],
            &["--window", "rect, hann"],
        ),
        (
            &analyze,
            &["--window", "kaiser=abc"],
            &["--window", "0..=100"],
        ),
        (&analyze, &["--window", "hann=2"], &["takes no parameter"]),
        (
            &analyze,
            &["--mel", "10", "--mel-scale", "x"],
            &["slaney, htk, tf"],
        ),
        (
            &analyze,
            &["--mel", "10", "--mel-norm", "x"],
            &["slaney, none"],
        ),
        (&analyze, &["--nan", "x"], &["--nan", "error, zero"]),
        (
            &["--demo"],
            &["--freq-scale", "bark"],
            &["--freq-scale", "mel-slaney"],
        ),
        (&["--demo"], &["--scale", "log"], &["use --freq-scale log"]),
        (&[], &["--host", "nosuch"], &["--host", "alsa"]),
    ];
    for (base, extra, mentions) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        for mention in *mentions {
            expect_error(&dir, &args, mention);
        }
    }
}

/// A data chunk claiming ~4 GiB must fail as "truncated", not abort on a huge
/// allocation: run under a 1 GiB address-space limit to prove it.
#[cfg(unix)]
#[test]
fn lying_header_claiming_gigabytes_does_not_allocate_them() {
    let dir = TempDir::new("cli-errors-huge");
    for (name, bits) in [("huge8.wav", 8u16), ("huge16.wav", 16)] {
        let mut bytes = pcm_header(1, bits, 0xFFFF_FFF0);
        bytes.extend(garbage(4000));
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    for name in ["huge8.wav", "huge16.wav"] {
        let mut cmd = std::process::Command::new("sh");
        cmd.current_dir(dir.path()).args([
            "-c",
            "ulimit -v 1048576 && exec \"$0\" \"$@\"",
            support::HOPSCOPE,
            "analyze",
            name,
            "-o",
            "out.npy",
        ]);
        let o = run_with_timeout(cmd, TIMEOUT);
        assert_one_line_error(name, &o);
        assert!(o.stderr.contains("truncated"), "{name}: {}", o.stderr);
        assert_eq!(dir.entries(), vec!["huge16.wav", "huge8.wav"]);
    }
}

// ---------------------------------------------------------------- positive controls

/// `analyze` must succeed: exit 0, nothing on stderr, one "wrote" line, only
/// `out` added to the directory.
fn analyze_ok(dir: &TempDir, args: &[&str], out: &str) -> support::Npy {
    let _ = std::fs::remove_file(dir.join(out));
    let before = dir.entries();
    let o = run(dir, args);
    assert_eq!(
        o.code(),
        Some(0),
        "hopscope {}: {}{}",
        args.join(" "),
        o.stdout,
        o.stderr
    );
    assert!(o.stderr.is_empty(), "unexpected stderr: {}", o.stderr);
    assert!(o.stdout.starts_with("wrote "), "stdout: {}", o.stdout);
    let mut expected = before;
    expected.push(out.to_string());
    expected.sort();
    assert_eq!(dir.entries(), expected, "only {out} may appear");
    let npy = read_npy(&dir.join(out));
    assert!(!npy.fortran_order);
    assert_eq!(npy.descr, "<f4");
    npy
}

#[test]
fn analyze_shapes_follow_the_framing_formulas() {
    let dir = TempDir::new("cli-shapes");
    let frames = 10_000usize;
    write_wav_i16(&dir.join("stereo16.wav"), 2, frames, |n, c| {
        (n as f64 * if c == 0 { 0.05 } else { 0.11 }).sin() * 0.4
    });
    // (n_fft, win_length, hop)
    for (n_fft, win, hop) in [
        (1024usize, 1024usize, 256usize),
        (1024, 600, 100),
        (2048, 2048, 512),
        (512, 400, 160),
    ] {
        let (n, w, h) = (n_fft.to_string(), win.to_string(), hop.to_string());
        let base = [
            "analyze",
            "stereo16.wav",
            "-o",
            "out.npy",
            "--n-fft",
            &n,
            "--win-length",
            &w,
            "--hop",
            &h,
        ];
        let npy = analyze_ok(&dir, &base, "out.npy");
        let rows = (frames - win) / hop + 1;
        assert_eq!(
            npy.shape,
            vec![rows, n_fft / 2 + 1],
            "center=False, {n_fft}/{win}/{hop}"
        );
        let mut centred = base.to_vec();
        centred.push("--center");
        let npy = analyze_ok(&dir, &centred, "out.npy");
        assert_eq!(
            npy.shape,
            vec![1 + frames / hop, n_fft / 2 + 1],
            "center=True, {n_fft}/{win}/{hop}"
        );
    }
}

const N: usize = 256;
const K0: usize = 16; // 16 · 48000 / 256 = 3000 Hz, bin-centred
const AMP: f64 = 0.5;
const ROWS: usize = 8;

fn sine(n: usize) -> f64 {
    AMP * (2.0 * PI * (K0 * n) as f64 / N as f64).sin()
}

/// Checks every row of a `--scale magnitude --n-fft 256 --hop 256` analysis of
/// `amp · sin(2π·16·n/256)`: periodic Hann (S1 = N/2) gives |X[16]| = amp·N/4 and
/// |X[15]| = |X[17]| = amp·N/8 exactly, and nothing elsewhere.
fn check_sine_rows(npy: &support::Npy, amp: f64, tol: f64, what: &str) {
    assert_eq!(npy.shape, vec![ROWS, N / 2 + 1], "{what}: shape");
    for r in 0..ROWS {
        let peak = f64::from(npy.at(r, K0));
        let expect = amp * N as f64 / 4.0;
        assert!(
            (peak - expect).abs() <= tol,
            "{what}: row {r}: |X[{K0}]| = {peak}, expected {expect} ± {tol}"
        );
        for k in [K0 - 1, K0 + 1] {
            let v = f64::from(npy.at(r, k));
            assert!(
                (v - amp * N as f64 / 8.0).abs() <= tol,
                "{what}: row {r}: |X[{k}]| = {v}, expected {}",
                amp * N as f64 / 8.0
            );
        }
        for k in (0..=N / 2).filter(|k| k.abs_diff(K0) > 1) {
            let v = f64::from(npy.at(r, k));
            assert!(v <= tol, "{what}: row {r}: |X[{k}]| = {v}, expected ~0");
        }
    }
}

fn analyze_magnitude(dir: &TempDir, file: &str, extra: &[&str]) -> support::Npy {
    let mut args = vec![
        "analyze",
        file,
        "-o",
        "out.npy",
        "--scale",
        "magnitude",
        "--n-fft",
        "256",
        "--hop",
        "256",
    ];
    args.extend_from_slice(extra);
    analyze_ok(dir, &args, "out.npy")
}

#[test]
fn every_sample_format_decodes_to_the_right_level() {
    let dir = TempDir::new("cli-formats");
    let frames = N * ROWS;
    // 8-bit unsigned (hound takes i8 and adds the 128 offset).
    {
        let mut w = hound::WavWriter::create(dir.join("u8.wav"), spec(1, 8, false)).unwrap();
        for n in 0..frames {
            w.write_sample((sine(n) * 128.0).round() as i8).unwrap();
        }
        w.finalize().unwrap();
    }
    write_wav_i16(&dir.join("i16.wav"), 1, frames, |n, _| sine(n));
    for (name, bits) in [("i24.wav", 24u16), ("i32.wav", 32)] {
        let mut w = hound::WavWriter::create(dir.join(name), spec(1, bits, false)).unwrap();
        let full = (1u64 << (bits - 1)) as f64;
        for n in 0..frames {
            w.write_sample((sine(n) * full).round() as i32).unwrap();
        }
        w.finalize().unwrap();
    }
    {
        let mut w = hound::WavWriter::create(dir.join("f32.wav"), spec(1, 32, true)).unwrap();
        for n in 0..frames {
            w.write_sample(sine(n) as f32).unwrap();
        }
        w.finalize().unwrap();
    }
    // Tolerances: 8-bit quantisation noise (step 1/128) is ~0.02 here; the rest is
    // float rounding. A wrong scale, sign or offset is off by orders of magnitude.
    for (file, tol) in [
        ("u8.wav", 0.15),
        ("i16.wav", 2e-3),
        ("i24.wav", 2e-3),
        ("i32.wav", 2e-3),
        ("f32.wav", 2e-3),
    ] {
        let npy = analyze_magnitude(&dir, file, &[]);
        check_sine_rows(&npy, AMP, tol, file);
    }
    // Calibrated dBFS: amplitude 0.5 on a bin reads −6.02 dBFS.
    let npy = analyze_ok(
        &dir,
        &[
            "analyze", "f32.wav", "-o", "db.npy", "--n-fft", "256", "--hop", "256",
        ],
        "db.npy",
    );
    let expect_db = 20.0 * AMP.log10();
    for r in 0..ROWS {
        let db = f64::from(npy.at(r, K0));
        assert!(
            (db - expect_db).abs() < 0.01,
            "row {r}: {db} dBFS, expected {expect_db:.2}"
        );
    }
}

#[test]
fn stereo_channel_selection_and_mix() {
    let dir = TempDir::new("cli-channels");
    // Left: the sine; right: silence.
    write_wav_i16(&dir.join("lr.wav"), 2, N * ROWS, |n, c| {
        if c == 0 {
            sine(n)
        } else {
            0.0
        }
    });
    check_sine_rows(
        &analyze_magnitude(&dir, "lr.wav", &[]),
        AMP / 2.0,
        2e-3,
        "mix",
    );
    check_sine_rows(
        &analyze_magnitude(&dir, "lr.wav", &["--channel", "0"]),
        AMP,
        2e-3,
        "channel 0",
    );
    let right = analyze_magnitude(&dir, "lr.wav", &["--channel", "1"]);
    assert!(
        right.data.iter().all(|&v| v == 0.0),
        "channel 1 is digital silence"
    );
}

/// `--file` replays through the live pipeline and stops on its own at the end.
#[test]
fn live_file_replay_runs_to_the_end() {
    let dir = TempDir::new("cli-live-file");
    // 0.6 s stereo, 3000 Hz at amplitude 0.5 (bin 64 of n_fft 1024 at 48 kHz).
    write_wav_i16(&dir.join("tone.wav"), 2, 28_800, |n, _| {
        AMP * (2.0 * PI * 3000.0 * n as f64 / 48_000.0).sin()
    });
    let o = run(
        &dir,
        &[
            "--headless",
            "--file",
            "tone.wav",
            "--n-fft",
            "1024",
            "--hop",
            "256",
        ],
    );
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"));
    let status = status_lines(&o.stdout);
    let last = status.last().expect("at least the final status line");
    assert_eq!(last.str("peak_hz"), "3000.0", "{}", last.line);
    assert!(
        (last.num("peak_dbfs") + 6.02).abs() <= 0.05,
        "{}",
        last.line
    );
    assert_eq!(last.num("captured"), 28_800.0, "{}", last.line);
    assert_eq!(
        last.num("rows"),
        ((28_800 - 1024) / 256 + 1) as f64,
        "{}",
        last.line
    );
    assert_eq!(last.num("dropped_samples"), 0.0);
    assert_eq!(last.num("dropped_rows"), 0.0);
}

// ---------------------------------------------------------------- messages that said the wrong thing

/// A mono float WAV at `rate` Hz holding `frames` samples of a slow sine.
fn write_wav_at_rate(path: &Path, rate: u32, frames: usize) {
    let spec = hound::WavSpec {
        sample_rate: rate,
        ..spec(1, 32, true)
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for n in 0..frames {
        w.write_sample((n as f32 * 0.3).sin() * 0.5)
            .expect("write sample");
    }
    w.finalize().expect("finalize wav");
}

/// Each message names the real problem: a 1 Hz file's axis is too short (not "0 Hz must be
/// below 0.5 Hz"), a NaN edge is NaN (not a range up to 2147483647.5 Hz), a negative
/// frequency is a frequency below 0 (not "unexpected argument '-100'"), and 1e10 s is
/// out of range (not "not a positive number").
#[test]
fn messages_name_the_real_problem() {
    let dir = bad_inputs();
    write_wav_at_rate(&dir.join("one_hz.wav"), 1, 100);
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["render", "one_hz.wav", "-o", "x.png", "--n-fft", "16"],
            &[
                "--fmin",
                "0.5 Hz, the Nyquist frequency of the 1 Hz input",
                "at least 1 Hz",
            ],
            &["must be below"],
        ),
        (
            &[
                "render", "good.wav", "-o", "x.png", "--fmin", "300", "--fmax", "300.5",
            ],
            &["--fmax", "at least 1 Hz above --fmin (300 Hz)"],
            &[],
        ),
        (
            &[
                "analyze",
                "good.wav",
                "-o",
                "x.npy",
                "--mel",
                "10",
                "--mel-fmin",
                "nan",
            ],
            &["--mel-fmin", "NaN Hz", "finite"],
            &["2147483647"],
        ),
        (
            &[
                "analyze",
                "good.wav",
                "-o",
                "x.npy",
                "--mel",
                "10",
                "--mel-fmax",
                "inf",
            ],
            &["--mel-fmax", "inf Hz", "finite"],
            &["2147483647"],
        ),
        (
            &[
                "analyze",
                "good.wav",
                "-o",
                "x.npy",
                "--mel",
                "10",
                "--mel-fmin",
                "500",
                "--mel-fmax",
                "100",
            ],
            &["--mel-fmax", "100 Hz must be above --mel-fmin (500 Hz)"],
            &["2147483647"],
        ),
        (
            &["render", "good.wav", "-o", "x.png", "--fmin", "-100"],
            &["--fmin", "-100 Hz", "≥ 0"],
            &["unexpected argument"],
        ),
        (
            &[
                "analyze",
                "good.wav",
                "-o",
                "x.npy",
                "--mel",
                "10",
                "--mel-fmin",
                "-5",
            ],
            &["--mel-fmin", "-5 Hz", ">= 0"],
            &["unexpected argument"],
        ),
        (
            &["analyze", "good.wav", "-o", "x.npy", "--hop", "-1"],
            &["'-1'", "--hop"],
            &["unexpected argument"],
        ),
        (
            &["--demo", "--headless", "--duration", "1e10"],
            &["--duration", "10000000000 s is out of range", "(0, 1e9]"],
            &["not a positive number"],
        ),
    ];
    for (args, mentions, absent) in cases {
        let what = args.join(" ");
        for mention in *mentions {
            expect_error(&dir, args, mention);
        }
        let o = run(&dir, args);
        for text in *absent {
            assert!(
                !o.stderr.contains(text),
                "{what}: still says {text:?}: {}",
                o.stderr
            );
        }
    }
}

/// `--file` of an 8 Hz WAV: one 480-frame period lasts 60 s, which the source thread used
/// to sleep in one piece, ignoring `--duration 1` (and Ctrl-C) until it ended. The child
/// gets a generous 20 s; the old code needed 60.
#[test]
fn a_very_low_rate_file_stops_at_its_duration() {
    let dir = TempDir::new("cli-8hz");
    write_wav_at_rate(&dir.join("eight_hz.wav"), 8, 800);
    let o = run(
        &dir,
        &[
            "--headless",
            "--file",
            "eight_hz.wav",
            "--duration",
            "1",
            "--n-fft",
            "16",
        ],
    );
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    let status = status_lines(&o.stdout);
    let last = status.last().expect("at least the final status line");
    assert_eq!(last.str("sr"), "8", "{}", last.line);
}
