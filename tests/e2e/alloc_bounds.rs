//! Allocations sized by in-range flags or by a WAV header are checked against their
//! stated bounds before anything is allocated: each case runs under a 1 GiB address-space
//! limit (`ulimit -v`), where the unchecked allocation (2–22 GB) used to abort with
//! SIGABRT and a backtrace; now it is one line and exit code 2. A positive control
//! renders within the bound under the same limit.

#![cfg(unix)]

use std::path::Path;

use crate::support::{
    assert_one_line_error, run_with_timeout, Outcome, TempDir, HOPSCOPE, PATIENCE,
};

/// The address-space limit, KiB.
const LIMIT_KIB: u64 = 1 << 20;

/// Runs hopscope with `args` in `dir` under [`LIMIT_KIB`] of address space.
fn run_limited(dir: &TempDir, args: &[&str]) -> Outcome {
    let mut cmd = std::process::Command::new("sh");
    cmd.current_dir(dir.path())
        .arg("-c")
        .arg(format!("ulimit -v {LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(HOPSCOPE)
        .args(args);
    run_with_timeout(cmd, PATIENCE)
}

fn write_wav(path: &Path, rate: u32, channels: u16, frames: usize) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for n in 0..frames * usize::from(channels) {
        w.write_sample(((n * 7919) % 20_000) as i16 - 10_000)
            .expect("sample");
    }
    w.finalize().expect("finalize");
}

/// A mono 8-bit WAV whose header says `rate` Hz (hound's writer cannot write such rates).
fn write_wav_rate_u8(path: &Path, rate: u32, frames: usize) {
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + frames as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes()); // byte rate = rate × 1
    b.extend_from_slice(&1u16.to_le_bytes()); // block align
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(frames as u32).to_le_bytes());
    b.extend((0..frames).map(|n| (n * 37 % 256) as u8));
    std::fs::write(path, b).expect("write wav");
}

fn inputs() -> TempDir {
    let dir = TempDir::new("alloc-bounds");
    // 60 s at 8 kHz: --hop 1 gives 478 k columns; × 16384 px = 7.8 G plot pixels.
    write_wav(&dir.join("minute.wav"), 8_000, 1, 480_000);
    write_wav_rate_u8(&dir.join("four_ghz.wav"), 4_000_000_000, 10_000);
    write_wav(&dir.join("wide.wav"), 48_000, 65, 100);
    write_wav(&dir.join("fast192k.wav"), 192_000, 1, 1000);
    dir
}

fn expect_refusal(dir: &TempDir, args: &[&str], mentions: &[&str]) {
    let before = dir.entries();
    let o = run_limited(dir, args);
    let what = args.join(" ");
    assert_one_line_error(&what, &o);
    for m in mentions {
        assert!(o.stderr.contains(m), "{what}: no {m:?} in {}", o.stderr);
    }
    assert_eq!(dir.entries(), before, "{what}: left a file");
}

#[test]
fn render_refuses_a_plot_over_its_pixel_bound() {
    let dir = inputs();
    expect_refusal(
        &dir,
        &[
            "render",
            "minute.wav",
            "-o",
            "x.png",
            "--hop",
            "1",
            "--height",
            "16384",
        ],
        &[
            "--hop",
            "477953 columns x 16384 px",
            "over the limit of 268435456",
        ],
    );
    // Positive control: the same file within the bound renders under the same limit.
    let o = run_limited(&dir, &["render", "minute.wav", "-o", "ok.png"]);
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
    assert!(
        o.stdout.contains("wrote ok.png: 1074 x 1073 px"),
        "{}",
        o.stdout
    );
}

#[test]
fn live_history_over_its_bound_is_refused_before_the_window_opens() {
    let dir = inputs();
    // 3600 s × 1.536 MHz = 22 GB; with --demo the rate is known (48 kHz by default).
    expect_refusal(
        &dir,
        &["--demo", "--history", "3600", "--sample-rate", "1536000"],
        &["--history", "5529600000 samples", "at most 175 s"],
    );
    // A --file's rate comes from its header: 3600 s at 192 kHz = 2.8 GB.
    expect_refusal(
        &dir,
        &["--file", "fast192k.wav", "--history", "3600"],
        &["--history", "691200000 samples", "at most 1398 s"],
    );
}

#[test]
fn live_file_rate_and_channels_are_bounded() {
    let dir = inputs();
    // The capture ring holds 0.5 s of every channel: 2 G samples at 4 GHz.
    expect_refusal(
        &dir,
        &["--file", "four_ghz.wav", "--headless"],
        &["--file", "4000000000 Hz", "at most 1536000 Hz"],
    );
    expect_refusal(
        &dir,
        &["--file", "wide.wav", "--headless"],
        &["--file", "65 ch", "64 channels"],
    );
    // Offline commands take any rate.
    let o = run_limited(&dir, &["analyze", "four_ghz.wav", "-o", "fast.npy"]);
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
}

#[test]
fn analyze_mel_filterbank_is_bounded() {
    let dir = inputs();
    expect_refusal(
        &dir,
        &[
            "analyze",
            "minute.wav",
            "-o",
            "m.npy",
            "--mel",
            "4096",
            "--n-fft",
            "8192",
            "--export",
            "m.json",
        ],
        &["--mel", "4096 bands at n_fft 8192", "at most 2048 bands"],
    );
}
