//! Compressed-format fixtures for the decoder tests, made at test time from a WAV by
//! ffmpeg or sox (installed by `make test-deps`), and an independent decoder to compare
//! with: ffmpeg's own, to raw f32.
//!
//! The source signal is deterministic: a −6 dBFS 997 Hz tone plus seeded noise on the
//! left, a 200 Hz → 12 kHz log chirp on the right, quantised to the WAV's bit depth.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::rng::Rng;

/// Sample rate of the fixtures.
pub const SR: u32 = 48_000;

/// The tool `name`, or a failure that says how to get it (these tests never skip).
pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("{name} is needed by the format tests: run `make test-deps` (apt-get install ffmpeg sox flac)"))
}

/// Interleaved stereo source samples as integers of `bits` bits (left-justified values
/// are the caller's business), `frames` frames.
pub fn source_ints(frames: usize, bits: u32) -> Vec<i32> {
    let mut rng = Rng::new(0xC0DEC);
    let full = (1i64 << (bits - 1)) as f64;
    let mut out = Vec::with_capacity(frames * 2);
    let dur = frames as f64 / SR as f64;
    for i in 0..frames {
        let t = i as f64 / SR as f64;
        let left = 0.5 * (2.0 * std::f64::consts::PI * 997.0 * t).sin()
            + 0.01 * (rng.uniform() * 2.0 - 1.0);
        let (f0, f1) = (200.0f64, 12_000.0f64);
        let k = (f1 / f0).ln() / dur;
        let phase = 2.0 * std::f64::consts::PI * f0 * ((k * t).exp() - 1.0) / k;
        let right = 0.4 * phase.sin();
        for v in [left, right] {
            out.push((v * full).round().clamp(-full, full - 1.0) as i32);
        }
    }
    out
}

/// Writes `ints` (stereo, `bits`-bit values) as a PCM WAV at [`SR`].
pub fn write_wav(path: &Path, ints: &[i32], bits: u16) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SR,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for &v in ints {
        w.write_sample(v).expect("write sample");
    }
    w.finalize().expect("finish wav");
}

/// Runs `ffmpeg -i src ARGS dst`, quietly; panics with its stderr on failure.
pub fn ffmpeg(src: &Path, args: &[&str], dst: &Path) {
    let out = Command::new(tool("ffmpeg"))
        .args(["-nostdin", "-y", "-loglevel", "error", "-i"])
        .arg(src)
        .args(args)
        .arg(dst)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `sox src ARGS dst`; panics with its stderr on failure.
pub fn sox(src: &Path, args: &[&str], dst: &Path) {
    let out = Command::new(tool("sox"))
        .arg(src)
        .args(args)
        .arg(dst)
        .output()
        .expect("run sox");
    assert!(
        out.status.success(),
        "sox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ffmpeg's decoding of `path`: interleaved f32 and the channel count (stereo fixtures).
pub fn ffmpeg_decode(path: &Path) -> Vec<f32> {
    let out = Command::new(tool("ffmpeg"))
        .args(["-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-ac", "2", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg decode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Relative error in dB, `10·log10(Σ(a−b)² / Σb²)`, of stereo `a` against `b` with `a`
/// delayed by `lag` frames (`a[i + lag]` against `b[i]`), over the frames both hold.
pub fn relative_error_db(a: &[f32], b: &[f32], lag: isize) -> f64 {
    let (mut err, mut energy) = (0.0f64, 0.0f64);
    let frames_a = a.len() / 2;
    for i in 0..b.len() / 2 {
        let j = i as isize + lag;
        if j < 0 || j as usize >= frames_a {
            continue;
        }
        for c in 0..2 {
            let (x, y) = (f64::from(a[j as usize * 2 + c]), f64::from(b[i * 2 + c]));
            err += (x - y) * (x - y);
            energy += y * y;
        }
    }
    if energy == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (err / energy).log10()
}

/// The lag in `-max..=max` frames that minimises [`relative_error_db`] over 4096
/// frames from 0.5 s in, and the error over all frames at that lag.
pub fn best_lag(a: &[f32], b: &[f32], max: isize) -> (isize, f64) {
    let from = (SR as usize / 2) * 2;
    let probe = &b[from.min(b.len())..(from + 8192).min(b.len())];
    let lag = (-max..=max)
        .min_by(|&x, &y| {
            let e = |lag: isize| relative_error_db(&a[from..], probe, lag);
            e(x).total_cmp(&e(y))
        })
        .expect("a range of lags");
    (lag, relative_error_db(a, b, lag))
}
