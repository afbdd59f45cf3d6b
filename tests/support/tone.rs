//! Oracles shared by the live-input tests (`tests/e2e/pulse_live.rs`,
//! `tests/e2e/pipewire_live.rs`): the level a Hann-windowed tone reads in a status line,
//! the exit summary's `input down N time(s) for X s`, and the final status line after an
//! outage the test caused.

use super::Status;

/// What a status line may say once the input is gone.
pub const DOWN_STATES: [&str; 3] = ["stalled", "lost", "reconnecting"];

/// Gain of a Hann window for a sine `delta` bins off a bin centre (0 dB at the centre),
/// from the DTFT of the periodic window of length `n`.
pub fn hann_gain_db(delta: f64, n: usize) -> f64 {
    let (mut re, mut im, mut sum) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
        let ph = 2.0 * std::f64::consts::PI * delta * i as f64 / n as f64;
        re += w * ph.cos();
        im -= w * ph.sin();
        sum += w;
    }
    20.0 * ((re * re + im * im).sqrt() / sum).log10()
}

/// Gain (dB, 0 at a bin centre) of a periodic Hann window of length `n` for a sine
/// `delta` bins off a bin centre, in closed form: with w = ½ − ½·cos(2πi/n), the DTFT
/// is ½·D(δ) − ¼·D(δ−1) − ¼·D(δ+1), D(x) = Σ e^{−2πjxi/n} = e^{−jπx(n−1)/n}·sin(πx) /
/// sin(πx/n); taking out the common phase leaves A0 = sin(πδ)/sin(πδ/n) and
/// A± = sin(πδ)·e^{±jπ/n}/sin(π(δ±1)/n), over the window sum n/2. (For large n this is
/// sinc(δ)/(1 − δ²): −0.6276 dB at δ = 1/3.)
pub fn hann_scalloping_db(delta: f64, n: usize) -> f64 {
    use std::f64::consts::PI;
    if delta.abs() < 1e-12 {
        return 0.0;
    }
    let n = n as f64;
    let s = (PI * delta).sin();
    let a0 = s / (PI * delta / n).sin();
    // A+ and A−: magnitude, and phase ±π/n.
    let ap = s / (PI * (delta + 1.0) / n).sin();
    let am = s / (PI * (delta - 1.0) / n).sin();
    let (c, sn) = ((PI / n).cos(), (PI / n).sin());
    let re = 0.5 * a0 - 0.25 * (ap * c + am * c);
    let im = -0.25 * (ap * sn - am * sn);
    20.0 * ((re * re + im * im).sqrt() / (n / 2.0)).log10()
}

/// `Ok` when the status line shows a tone of `tone_hz` and amplitude `amp` (relative to
/// full scale) in its bin at its level (the Hann scalloping at its offset from the bin
/// centre, in closed form) within `tol_db`; otherwise why not.
pub fn tone_seen(s: &Status, tone_hz: f64, amp: f64, tol_db: f64) -> Result<(), String> {
    let bin_hz = s.num("sr") / s.num("n_fft");
    let k = (tone_hz / bin_hz).round();
    let expect_hz = k * bin_hz;
    let expect_db =
        20.0 * amp.log10() + hann_scalloping_db(tone_hz / bin_hz - k, s.num("n_fft") as usize);
    let (hz, db) = (s.num("peak_hz"), s.num("peak_dbfs"));
    if (hz - expect_hz).abs() > 0.05 {
        return Err(format!("peak_hz {hz}, expected {expect_hz:.2}"));
    }
    if (db - expect_db).abs().is_nan() || (db - expect_db).abs() > tol_db {
        return Err(format!(
            "peak_dbfs {db}, expected {expect_db:.3} ± {tol_db}"
        ));
    }
    Ok(())
}

/// Parses `input down N time(s) for X s` from the exit summary.
pub fn input_down(stderr: &str) -> Option<(u64, f64)> {
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("hopscope: stopped after"))?;
    let rest = &summary[summary.find("input down ")? + "input down ".len()..];
    let mut words = rest.split_whitespace();
    let n = words.next()?.parse().ok()?;
    if words.next()? != "time(s)" || words.next()? != "for" {
        return None;
    }
    let secs = words.next()?.parse().ok()?;
    Some((n, secs))
}

/// The last status line `last` of a run whose server was dead for `dead_s` and whose
/// status said live again `until_back_s` after the kill: nothing dropped since `toned`
/// (the line that saw the tone again), the loss counted and every loss recovered,
/// `down_s` at least the outage less the detection (≤ 2 lines) and at most until live
/// again (+ one line), no non-finite sample.
pub fn check_recovered(test: &str, last: &Status, toned: &Status, dead_s: f64, until_back_s: f64) {
    for key in ["dropped_samples", "dropped_rows"] {
        assert_eq!(
            last.num(key),
            toned.num(key),
            "{test}: {key} grew after the recovery: {} → {}",
            toned.line,
            last.line
        );
    }
    let (losses, recoveries) = (last.num("losses"), last.num("recoveries"));
    assert!(
        losses >= 1.0,
        "{test}: the loss is not counted: {}",
        last.line
    );
    assert!(
        recoveries >= losses,
        "{test}: every loss recovered: {}",
        last.line
    );
    let down_s = last.num("down_s");
    assert!(
        down_s > 0.0 && down_s >= dead_s - 2.0 && down_s <= until_back_s + 1.0,
        "{test}: down_s {down_s}: the server was dead {dead_s:.2} s, live again after \
         {until_back_s:.2} s: {}",
        last.line
    );
    assert_eq!(last.num("nonfinite"), 0.0, "{}", last.line);
}
