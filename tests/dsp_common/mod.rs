//! Oracles shared by the `tests/dsp_*.rs` integration tests.
//!
//! Everything here is written independently of `src/dsp`: the windows are the
//! closed forms of ../shared/DSP.md §1.1 typed in again, the DFT is the naive
//! O(n²) sum in f64, and the random signals come from a seeded SplitMix64.
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::f64::consts::PI;

use hopscope::dsp::window::WindowKind;

/// Seed of every random signal in the DSP tests.
pub const RNG_SEED: u64 = 0x5EED_0FD5_B020_2024;

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, deterministic, good enough for test signals.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `RNG_SEED ^ stream`, so each test gets its own sequence.
    pub fn new(stream: u64) -> Self {
        Rng(RNG_SEED ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize
    }

    /// Standard normal sample (Box–Muller, cosine branch).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }

    /// `len` samples uniform in [-1, 1).
    pub fn signal(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.range(-1.0, 1.0) as f32).collect()
    }
}

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
