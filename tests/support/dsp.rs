//! DSP oracles shared by the `dsp_*`, `compare` and other STFT tests.
//!
//! Everything here is written independently of `src/dsp`: the windows are the
//! closed forms of ../shared/DSP.md §1.1 typed in again and the DFT is the naive
//! O(n²) sum in f64 (the random signals come from [`super::rng`]).

use std::f64::consts::PI;

use hopscope::dsp::window::WindowKind;

/// I0 by its power series summed to a fixed 200 terms (independent of `bessel_i0`,
/// which stops adaptively). Converges to f64 precision for x ≤ 100.
pub fn ref_i0(x: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..200 {
        let half_x_over_k = x / (2.0 * k as f64);
        term *= half_x_over_k * half_x_over_k;
        sum += term;
    }
    sum
}

/// Periodic window sample `w[n]`, length `len`, typed in from DSP.md §1.1.
///
/// `ck = cos(2πkn/N)`. Kaiser: `I0(β√(1 − ((n − N/2)/(N/2))²))/I0(β)`. Gaussian:
/// `exp(−½(α(n − N/2)/(N/2))²)` with `std = N/(2α)`, so `α = 1/(2·sigma_frac)`.
pub fn ref_window(kind: WindowKind, n: usize, len: usize) -> f64 {
    let big_n = len as f64;
    let x = n as f64;
    let c = |k: f64| (2.0 * PI * k * x / big_n).cos();
    match kind {
        WindowKind::Rect => 1.0,
        WindowKind::Hann => 0.5 - 0.5 * c(1.0),
        WindowKind::Hamming => 0.54 - 0.46 * c(1.0),
        WindowKind::Blackman => 0.42 - 0.5 * c(1.0) + 0.08 * c(2.0),
        WindowKind::BlackmanHarris => {
            0.35875 - 0.48829 * c(1.0) + 0.14128 * c(2.0) - 0.01168 * c(3.0)
        }
        WindowKind::Flattop => {
            0.21557895 - 0.41663158 * c(1.0) + 0.277263158 * c(2.0) - 0.083578947 * c(3.0)
                + 0.006947368 * c(4.0)
        }
        WindowKind::Kaiser { beta } => {
            let r = (x - big_n / 2.0) / (big_n / 2.0);
            ref_i0(beta * (1.0 - r * r).sqrt()) / ref_i0(beta)
        }
        WindowKind::Gaussian { sigma_frac } => {
            let alpha = 1.0 / (2.0 * sigma_frac);
            let t = alpha * (x - big_n / 2.0) / (big_n / 2.0);
            (-0.5 * t * t).exp()
        }
    }
}

/// The whole periodic window from [`ref_window`].
pub fn ref_window_vec(kind: WindowKind, len: usize) -> Vec<f64> {
    (0..len).map(|n| ref_window(kind, n, len)).collect()
}

/// Naive one-sided DFT in f64 of `frame · w`, placed at `left` in a zero buffer of
/// `n_fft`: `X[k] = Σ_n x[n]·w[n]·e^{−j2πk(n+left)/n_fft}`, `k = 0..=n_fft/2`.
/// Returns `(re, im)` pairs. Twiddles come from a table indexed by `k·m mod n_fft`,
/// which keeps the O(n²) sum exact in the argument and fast in debug builds.
pub fn naive_dft(frame: &[f32], window: &[f64], n_fft: usize, left: usize) -> Vec<(f64, f64)> {
    assert_eq!(frame.len(), window.len());
    let table: Vec<(f64, f64)> = (0..n_fft)
        .map(|m| {
            let a = 2.0 * PI * m as f64 / n_fft as f64;
            (a.cos(), a.sin())
        })
        .collect();
    (0..=n_fft / 2)
        .map(|k| {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, (&x, &w)) in frame.iter().zip(window).enumerate() {
                let v = x as f64 * w;
                let (c, s) = table[(k * (n + left)) % n_fft];
                re += v * c;
                im -= v * s;
            }
            (re, im)
        })
        .collect()
}

/// The eight window shapes with their default parameters, plus the other Kaiser βs of
/// the DSP.md §1.2 table.
pub fn windows_under_test() -> Vec<WindowKind> {
    vec![
        WindowKind::Rect,
        WindowKind::Hann,
        WindowKind::Hamming,
        WindowKind::Blackman,
        WindowKind::BlackmanHarris,
        WindowKind::Flattop,
        WindowKind::Kaiser { beta: 6.0 },
        WindowKind::Kaiser { beta: 8.6 },
        WindowKind::Kaiser { beta: 14.0 },
        WindowKind::Gaussian { sigma_frac: 0.2 },
    ]
}
