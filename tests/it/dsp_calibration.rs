//! dBFS calibration and noise-floor oracles (../shared/DSP.md §2.1–§2.3), through
//! the live engine's `FrameTransform`.
//!
//! Expected levels are DSP.md numbers or exact consequences of the calibration
//! formula (a bin-centred full-scale sine reads 0 dBFS); none is read back from the
//! implementation.

use std::f64::consts::PI;

use crate::support::dsp::{ref_window_vec, windows_under_test};
use crate::support::rng::Rng;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::{FrameTransform, StftParams};
use hopscope::dsp::window::WindowKind;

/// One row of `frame` (length `win_length`) with a fresh transform.
fn row(params: StftParams, scale: ValueScale, frame: &[f32]) -> Vec<f32> {
    let mut t = FrameTransform::new(params, scale);
    let mut out = vec![f32::NAN; params.num_bins()];
    t.process(frame, &mut out);
    out
}

fn params(fft_size: usize, win_length: usize, window: WindowKind) -> StftParams {
    StftParams {
        fft_size,
        win_length,
        hop_size: win_length,
        window,
    }
}

/// `A·cos(2π·f·n/period + φ)`, `n = 0..len`, computed in f64 and rounded once.
fn tone(len: usize, amp: f64, cycles: f64, period: f64, phase: f64) -> Vec<f32> {
    (0..len)
        .map(|n| (amp * (2.0 * PI * cycles * n as f64 / period + phase).cos()) as f32)
        .collect()
}

fn is_cosine_sum(kind: WindowKind) -> bool {
    !matches!(
        kind,
        WindowKind::Kaiser { .. } | WindowKind::Gaussian { .. }
    )
}

/// Phases used for every bin-centred tone: cosine, sine, and two arbitrary ones.
const PHASES: [f64; 4] = [0.0, -PI / 2.0, 0.7, 2.9];

/// Test 4a: a full-scale bin-centred tone reads 0 dBFS at its bin, for every window
/// and n_fft 256..8192 (plus two non-powers of two), window = n_fft, k0 = n_fft/8.
///
/// Exact for cosine-sum windows (k0 ≥ number of terms, so the negative-frequency image
/// falls on a zero of W); for Kaiser/Gaussian the image leaks ≤ a few 1e-3 dB.
#[test]
fn full_scale_bin_centred_tone_reads_0_dbfs() {
    let mut worst_cos: f64 = 0.0;
    let mut worst_other: f64 = 0.0;
    for kind in windows_under_test() {
        for n_fft in [256usize, 512, 1024, 2048, 4096, 8192, 1000, 1536] {
            let k0 = n_fft / 8;
            let p = params(n_fft, n_fft, kind);
            let mut t = FrameTransform::new(p, ValueScale::Db);
            let mut out = vec![f32::NAN; p.num_bins()];
            for phase in PHASES {
                let x = tone(n_fft, 1.0, k0 as f64, n_fft as f64, phase);
                t.process(&x, &mut out);
                let level = out[k0] as f64;
                let peak = (0..out.len())
                    .max_by(|&a, &b| out[a].total_cmp(&out[b]))
                    .expect("non-empty");
                assert_eq!(peak, k0, "{kind} n_fft={n_fft}: peak bin");
                if is_cosine_sum(kind) {
                    worst_cos = worst_cos.max(level.abs());
                    assert!(
                        level.abs() <= 1e-3,
                        "{kind} n_fft={n_fft} φ={phase}: {level} dBFS, expected exactly 0"
                    );
                } else {
                    worst_other = worst_other.max(level.abs());
                }
                assert!(
                    level.abs() <= 0.05,
                    "{kind} n_fft={n_fft} φ={phase}: {level} dBFS, expected 0 ± 0.05"
                );
            }
        }
    }
    eprintln!(
        "bin-centred full scale: max |L| cosine-sum {worst_cos:.2e} dB, kaiser/gaussian {worst_other:.2e} dB"
    );
}

/// Test 4b: `win_length < n_fft` (window centred at `left`, zero-padded). S1 sums only
/// the window, so a tone on the n_fft grid still reads 0 dBFS.
///
/// Exactness needs the negative-frequency image, `2·k0` n_fft-bins away, to land on an
/// integer multiple of the *window's* bin spacing: `2·k0·win/n_fft ∈ ℕ` (and ≥ the number
/// of cosine terms). The cases are chosen so (400/300, k0=50 → 75; 1024/768, k0=128 → 192;
/// 2048/1536, k0=256 → 384; 4096/3000, k0=512 → 375; 1024/1022 with odd left = 1, k0=256 → 511).
/// Tones that are on the n_fft grid but not so placed read within the window's far
/// leakage instead (≈0.04 dB for rect), so they are not asserted as exact.
#[test]
fn zero_padded_window_reads_0_dbfs() {
    let cases = [
        (400usize, 300usize, 50usize),
        (1024, 768, 128),
        (2048, 1536, 256),
        (4096, 3000, 512),
        (1024, 1022, 256),
    ];
    let mut worst: f64 = 0.0;
    for kind in windows_under_test() {
        for (n_fft, win, k0) in cases {
            assert_eq!((2 * k0 * win) % n_fft, 0, "case design");
            let p = params(n_fft, win, kind);
            for phase in PHASES {
                let x = tone(win, 1.0, k0 as f64, n_fft as f64, phase);
                let out = row(p, ValueScale::Db, &x);
                let level = out[k0] as f64;
                if is_cosine_sum(kind) {
                    worst = worst.max(level.abs());
                    assert!(
                        level.abs() <= 1e-3,
                        "{kind} n_fft={n_fft} win={win} k0={k0} φ={phase}: {level} dBFS, expected 0"
                    );
                }
                assert!(
                    level.abs() <= 0.05,
                    "{kind} n_fft={n_fft} win={win} k0={k0} φ={phase}: {level} dBFS"
                );
            }
        }
    }
    eprintln!("zero-padded bin-centred: max |L| cosine-sum {worst:.2e} dB");
}

/// Test 4c: DC and Nyquist carry no factor 2; the last bin of an odd n_fft is not a
/// Nyquist bin and does.
#[test]
fn dc_and_nyquist_read_0_dbfs() {
    let mut worst: f64 = 0.0;
    for kind in windows_under_test() {
        for (n_fft, win) in [
            (256usize, 256usize),
            (1024, 1024),
            (1024, 1022),
            (400, 300),
            (1000, 999),
            (255, 255),
            (17, 16),
        ] {
            let p = params(n_fft, win, kind);
            let dc = row(p, ValueScale::Db, &vec![1.0; win]);
            worst = worst.max((dc[0] as f64).abs());
            assert!(
                (dc[0] as f64).abs() <= 1e-3,
                "{kind} n_fft={n_fft} win={win}: DC of a constant 1.0 reads {} dBFS",
                dc[0]
            );
            if n_fft % 2 == 0 {
                let alt: Vec<f32> = (0..win)
                    .map(|n| if n % 2 == 0 { 1.0 } else { -1.0 })
                    .collect();
                let ny = row(p, ValueScale::Db, &alt);
                let last = *ny.last().expect("non-empty") as f64;
                worst = worst.max(last.abs());
                assert!(
                    last.abs() <= 1e-3,
                    "{kind} n_fft={n_fft} win={win}: Nyquist of ±1 reads {last} dBFS"
                );
            }
        }
    }
    // Odd n_fft: bin 127 of 255 is an ordinary bin. With the rectangular window the
    // image (2·127 ≡ −1 mod 255, a whole bin away) is a zero of W, so this is exact.
    let x = tone(255, 1.0, 127.0, 255.0, 0.3);
    let out = row(params(255, 255, WindowKind::Rect), ValueScale::Db, &x);
    assert_eq!(out.len(), 128);
    let last = out[127] as f64;
    worst = worst.max(last.abs());
    assert!(
        last.abs() <= 1e-3,
        "odd n_fft last bin reads {last} dBFS, expected 0 (factor 2 applies)"
    );
    eprintln!("DC / Nyquist / odd last bin: max |L| {worst:.2e} dB");
}

/// Test 4d: DSP.md §2.2, a 1 kHz full-scale sine at 48 kHz, Hann, n_fft 2048 peaks at
/// −0.627 dBFS with |X| = 476.348.
#[test]
fn one_khz_at_48k_hann_2048() {
    let p = params(2048, 2048, WindowKind::Hann);
    let x = tone(2048, 1.0, 1000.0, 48_000.0, -PI / 2.0); // sin(2π·1000·n/48000)
    let db = row(p, ValueScale::Db, &x);
    let mag = row(p, ValueScale::Magnitude, &x);
    let peak = (0..db.len())
        .max_by(|&a, &b| db[a].total_cmp(&db[b]))
        .expect("non-empty");
    eprintln!(
        "1 kHz @ 48 kHz: peak bin {peak}, {} dBFS, |X| {}",
        db[peak], mag[peak]
    );
    assert_eq!(peak, 43, "1000 Hz is bin 42.67");
    assert!(
        (db[peak] as f64 + 0.627).abs() <= 0.01,
        "{} dBFS vs −0.627",
        db[peak]
    );
    assert!(
        (mag[peak] as f64 - 476.348).abs() <= 0.01,
        "|X| {} vs 476.348",
        mag[peak]
    );
}

/// Test 4e: DSP.md §2.1 at N = 1024, A = 0.5: S1, the bin-centred peak |X[k0]| = A·S1/2,
/// and the calibrated level at k0 + ½ (scalloping), relative to the tone's own level.
///
/// The table's half-bin levels include the negative-frequency image, which for the
/// rectangular and Hamming windows moves the reading by up to ~0.03 dB depending on k0
/// and phase. `A·sin(2π(k0+½)n/N)` with k0 = 100, read at bin k0, reproduces every row
/// to < 0.001 dB; the bin-centred peak uses the same k0.
#[test]
fn scalloping_table_n1024() {
    #[rustfmt::skip]
    let table: [(WindowKind, f64, f64, f64); 7] = [
        (WindowKind::Rect, 1024.0, 256.000, -3.904),
        (WindowKind::Hann, 512.0, 128.000, -1.424),
        (WindowKind::Hamming, 552.96, 138.240, -1.749),
        (WindowKind::Blackman, 430.08, 107.520, -1.099),
        (WindowKind::BlackmanHarris, 367.36, 91.840, -0.826),
        (WindowKind::Flattop, 220.753, 55.188, -0.010),
        (WindowKind::Kaiser { beta: 8.6 }, 430.90, 107.725, -1.109),
    ];
    const N: usize = 1024;
    const A: f64 = 0.5;
    const K0: usize = 100;
    for (kind, s1_table, peak_table, half_bin_db) in table {
        let p = params(N, N, kind);
        // S1 from the closed form in the test (independent of WindowSums).
        let s1: f64 = ref_window_vec(kind, N).iter().sum();
        assert!(
            (s1 - s1_table).abs() <= 0.006,
            "{kind}: S1 {s1} vs {s1_table}"
        );

        let centred = tone(N, A, K0 as f64, N as f64, -PI / 2.0);
        let mag = row(p, ValueScale::Magnitude, &centred)[K0] as f64;
        assert!(
            (mag - peak_table).abs() <= 1e-3 + 2e-5 * peak_table,
            "{kind}: |X[k0]| {mag} vs DSP.md {peak_table}"
        );
        let db = row(p, ValueScale::Db, &centred)[K0] as f64;
        assert!(
            (db - 20.0 * A.log10()).abs() <= 0.002,
            "{kind}: A=0.5 bin-centred reads {db} dBFS, expected −6.021"
        );

        let off = tone(N, A, K0 as f64 + 0.5, N as f64, -PI / 2.0);
        let level = row(p, ValueScale::Db, &off)[K0] as f64 - 20.0 * A.log10();
        eprintln!("{kind:>14}: S1 {s1:.3} |X[k0]| {mag:.4} level at k0+½ {level:.4} dB (DSP.md {half_bin_db})");
        assert!(
            (level - half_bin_db).abs() <= 0.01,
            "{kind}: level at k0+½ {level:.4} dB vs DSP.md {half_bin_db}"
        );
    }
}

/// White Gaussian noise of variance ½ (RMS of a full-scale sine), Box–Muller.
fn half_variance_noise(len: usize) -> Vec<f32> {
    let mut rng = Rng::new(5);
    let sd = 0.5f64.sqrt();
    (0..len).map(|_| (sd * rng.gaussian()) as f32).collect()
}

/// Calibrated powers (linear) and levels (dB) of every interior bin of every
/// non-overlapping frame.
fn noise_rows(noise: &[f32], n: usize, kind: WindowKind) -> (f64, f64, usize) {
    let p = params(n, n, kind);
    let mut t = FrameTransform::new(p, ValueScale::Db);
    let mut out = vec![f32::NAN; p.num_bins()];
    let (mut sum_pow, mut sum_db, mut count) = (0.0f64, 0.0f64, 0usize);
    for frame in noise.chunks_exact(n) {
        t.process(frame, &mut out);
        for &l in &out[1..n / 2] {
            sum_pow += 10f64.powf(l as f64 / 10.0);
            sum_db += l as f64;
            count += 1;
        }
    }
    (sum_pow / count as f64, sum_db / count as f64, count)
}

/// Test 5: DSP.md §2.3 noise floors (σ² = ½), averaged in power, within 0.2 dB; and
/// averaging in dB reads 2.51 dB low.
///
/// 2^18 samples give ≥ 32 frames at N = 8192 and ≥ 34 000 effectively independent
/// bins in every cell (bins/ENBW), i.e. a standard error ≤ 0.025 dB: 0.2 dB is > 8σ.
#[test]
fn noise_floor_table() {
    #[rustfmt::skip]
    let table: [(usize, [f64; 4]); 4] = [
        (256, [-21.07, -19.31, -18.05, -15.31]),
        (1024, [-27.09, -25.33, -24.07, -21.33]),
        (4096, [-33.11, -31.35, -30.09, -27.35]),
        (8192, [-36.12, -34.36, -33.10, -30.36]),
    ];
    let kinds = [
        WindowKind::Rect,
        WindowKind::Hann,
        WindowKind::BlackmanHarris,
        WindowKind::Flattop,
    ];
    let noise = half_variance_noise(1 << 18);
    let var: f64 = noise.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>() / noise.len() as f64;
    eprintln!("noise variance {var:.5} (target 0.5)");
    let mut worst: f64 = 0.0;
    for (n, floors) in table {
        for (kind, want) in kinds.iter().zip(floors) {
            let (mean_pow, mean_db, count) = noise_rows(&noise, n, *kind);
            let floor = 10.0 * mean_pow.log10();
            // The formula, from the test's own window: 10·log10(2·ENBW/N).
            let w = ref_window_vec(*kind, n);
            let s1: f64 = w.iter().sum();
            let s2: f64 = w.iter().map(|v| v * v).sum();
            let formula = 10.0 * (2.0 * n as f64 * s2 / (s1 * s1) / n as f64).log10();
            eprintln!(
                "N={n:>5} {kind:>14}: floor {floor:.3} dB (DSP.md {want}, formula {formula:.3}), \
                 dB-average {:.3} ({count} bins)",
                mean_db - floor
            );
            assert!(
                (formula - want).abs() <= 0.006,
                "table vs formula: {formula} vs {want}"
            );
            worst = worst.max((floor - want).abs());
            assert!(
                (floor - want).abs() <= 0.2,
                "N={n} {kind}: noise floor {floor:.3} dB vs DSP.md {want}"
            );
            if n == 1024 && *kind == WindowKind::Hann {
                let low = mean_db - floor;
                assert!(
                    (low + 2.51).abs() <= 0.1,
                    "averaging in dB should read 2.51 dB low, read {low:.3}"
                );
            }
        }
    }
    eprintln!("noise floor: max |err| {worst:.3} dB");
}
