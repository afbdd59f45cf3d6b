//! Analysis windows: periodic (DFT-even) forms, coefficient-exact with
//! scipy `get_window(name, N, fftbins=True)` (../shared/DSP.md §1.1).
//!
//! Periodic length `N` is the symmetric length-`N+1` window without its last
//! sample, so every formula below uses `N` (not `N−1`) in its denominator.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// Default Kaiser β (≈ Blackman-like sidelobes, −63 dB).
pub const DEFAULT_KAISER_BETA: f64 = 8.6;
/// Default Gaussian σ as a fraction of the window length (α = 2.5).
pub const DEFAULT_GAUSSIAN_SIGMA: f64 = 0.2;

/// A window shape. Names follow scipy `get_window`.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WindowKind {
    /// Rectangular (`boxcar`).
    Rect,
    /// Hann: 0.5 − 0.5·c1.
    Hann,
    /// Hamming: 0.54 − 0.46·c1.
    Hamming,
    /// Blackman: 0.42 − 0.5·c1 + 0.08·c2.
    Blackman,
    /// 4-term Blackman–Harris.
    BlackmanHarris,
    /// Flat-top (MATLAB `flattopwin`, scipy `flattop`).
    Flattop,
    /// Kaiser with shape parameter β.
    Kaiser {
        /// Shape parameter β (0 = rectangular).
        beta: f64,
    },
    /// Gaussian with standard deviation `sigma_frac · N` samples.
    Gaussian {
        /// σ as a fraction of the window length.
        sigma_frac: f64,
    },
}

/// Every window with default parameters, in the order the `W` key cycles them.
pub const ALL_WINDOWS: [WindowKind; 8] = [
    WindowKind::Rect,
    WindowKind::Hann,
    WindowKind::Hamming,
    WindowKind::Blackman,
    WindowKind::BlackmanHarris,
    WindowKind::Flattop,
    WindowKind::Kaiser {
        beta: DEFAULT_KAISER_BETA,
    },
    WindowKind::Gaussian {
        sigma_frac: DEFAULT_GAUSSIAN_SIGMA,
    },
];

impl WindowKind {
    /// The scipy name without parameters (`"hann"`, `"kaiser"`, ...).
    pub fn base_name(&self) -> &'static str {
        match self {
            WindowKind::Rect => "rect",
            WindowKind::Hann => "hann",
            WindowKind::Hamming => "hamming",
            WindowKind::Blackman => "blackman",
            WindowKind::BlackmanHarris => "blackmanharris",
            WindowKind::Flattop => "flattop",
            WindowKind::Kaiser { .. } => "kaiser",
            WindowKind::Gaussian { .. } => "gaussian",
        }
    }

    /// Cosine-sum coefficients `a_k` of `Σ (−1)^k a_k cos(2πkn/N)`, if this is a cosine-sum window.
    fn cosine_terms(&self) -> Option<&'static [f64]> {
        match self {
            WindowKind::Rect => Some(&[1.0]),
            WindowKind::Hann => Some(&[0.5, 0.5]),
            WindowKind::Hamming => Some(&[0.54, 0.46]),
            WindowKind::Blackman => Some(&[0.42, 0.50, 0.08]),
            WindowKind::BlackmanHarris => Some(&[0.35875, 0.48829, 0.14128, 0.01168]),
            WindowKind::Flattop => Some(&[
                0.215_578_95,
                0.416_631_58,
                0.277_263_158,
                0.083_578_947,
                0.006_947_368,
            ]),
            WindowKind::Kaiser { .. } | WindowKind::Gaussian { .. } => None,
        }
    }

    /// Coefficient `n` of the periodic window of length `len`, in f64.
    ///
    /// A window of length 1 is `[1.0]` for every kind, as scipy's
    /// `get_window(name, 1, fftbins=True)` returns (its `_len_guards`): the periodic
    /// formula would give Hann the single coefficient 0, hence `S1 = 0`.
    ///
    /// # Panics
    /// If `n >= len`.
    pub fn coefficient(&self, n: usize, len: usize) -> f64 {
        assert!(n < len, "window index {n} out of range for length {len}");
        if len == 1 {
            return 1.0;
        }
        let big_n = len as f64;
        let x = n as f64;
        if let Some(terms) = self.cosine_terms() {
            return terms
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                    sign * a * (2.0 * PI * k as f64 * x / big_n).cos()
                })
                .sum();
        }
        let half = big_n / 2.0;
        match *self {
            WindowKind::Kaiser { beta } => {
                let r = (x - half) / half;
                bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
            }
            WindowKind::Gaussian { sigma_frac } => {
                let sigma = sigma_frac * big_n;
                let d = x - half;
                (-0.5 * (d / sigma) * (d / sigma)).exp()
            }
            _ => unreachable!("cosine-sum windows returned above"),
        }
    }

    /// Fills `out` with the periodic window of length `out.len()`.
    ///
    /// Thread: any. Allocates: no.
    pub fn fill_in_place(&self, out: &mut [f32]) {
        let len = out.len();
        for (n, w) in out.iter_mut().enumerate() {
            *w = self.coefficient(n, len) as f32;
        }
    }

    /// The periodic window of length `len`, in f64 (for export and oracles).
    pub fn coefficients_f64(&self, len: usize) -> Vec<f64> {
        (0..len).map(|n| self.coefficient(n, len)).collect()
    }

    /// The next window in [`ALL_WINDOWS`] order (wraps).
    pub fn next(&self) -> WindowKind {
        let i = self.cycle_index();
        ALL_WINDOWS[(i + 1) % ALL_WINDOWS.len()]
    }

    /// The previous window in [`ALL_WINDOWS`] order (wraps).
    pub fn prev(&self) -> WindowKind {
        let i = self.cycle_index();
        ALL_WINDOWS[(i + ALL_WINDOWS.len() - 1) % ALL_WINDOWS.len()]
    }

    fn cycle_index(&self) -> usize {
        ALL_WINDOWS
            .iter()
            .position(|w| w.base_name() == self.base_name())
            .expect("every WindowKind variant appears in ALL_WINDOWS")
    }
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowKind::Kaiser { beta } => write!(f, "kaiser={beta}"),
            WindowKind::Gaussian { sigma_frac } => write!(f, "gaussian={sigma_frac}"),
            other => f.write_str(other.base_name()),
        }
    }
}

impl FromStr for WindowKind {
    type Err = String;

    /// Parses `rect`, `hann`, `hamming`, `blackman`, `blackmanharris`, `flattop`,
    /// `kaiser[=β]`, `gaussian[=σ/N]` (case-insensitive; scipy aliases accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let (name, param) = match lower.split_once('=') {
            Some((n, p)) => (n.trim(), Some(p.trim())),
            None => (lower.as_str(), None),
        };
        let parse_param = |what: &str, lo: f64, hi: f64, default: f64| -> Result<f64, String> {
            match param {
                None => Ok(default),
                Some(p) => match p.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= lo && v <= hi => Ok(v),
                    _ => Err(format!(
                        "invalid {what} '{p}' for window '{name}': expected a number in {lo}..={hi}"
                    )),
                },
            }
        };
        let no_param = |kind: WindowKind| -> Result<WindowKind, String> {
            match param {
                None => Ok(kind),
                Some(_) => Err(format!("window '{name}' takes no parameter")),
            }
        };
        match name {
            "rect" | "rectangular" | "boxcar" => no_param(WindowKind::Rect),
            "hann" | "hanning" => no_param(WindowKind::Hann),
            "hamming" => no_param(WindowKind::Hamming),
            "blackman" => no_param(WindowKind::Blackman),
            "blackmanharris" => no_param(WindowKind::BlackmanHarris),
            "flattop" => no_param(WindowKind::Flattop),
            "kaiser" => Ok(WindowKind::Kaiser {
                beta: parse_param("beta", 0.0, 100.0, DEFAULT_KAISER_BETA)?,
            }),
            "gaussian" => Ok(WindowKind::Gaussian {
                sigma_frac: parse_param("sigma fraction", 1e-3, 10.0, DEFAULT_GAUSSIAN_SIGMA)?,
            }),
            _ => Err(format!(
                "unknown window '{s}': expected one of rect, hann, hamming, blackman, \
                 blackmanharris, flattop, kaiser[=beta], gaussian[=sigma_fraction]"
            )),
        }
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; exact to f64 for β ≤ 100).
pub fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-18 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// Window sums that calibrate levels: `S1 = Σw`, `S2 = Σw²` (DSP.md §1.2, §2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowSums {
    /// Coherent sum `S1 = Σw[n]`.
    pub s1: f64,
    /// Energy sum `S2 = Σw[n]²`.
    pub s2: f64,
    /// Window length `N`.
    pub len: usize,
}

impl WindowSums {
    /// Sums of `kind` at length `len`, in f64.
    pub fn of(kind: WindowKind, len: usize) -> Self {
        let (mut s1, mut s2) = (0.0, 0.0);
        for n in 0..len {
            let w = kind.coefficient(n, len);
            s1 += w;
            s2 += w * w;
        }
        WindowSums { s1, s2, len }
    }

    /// Sums of explicit coefficients `w` (a model front-end's povey or symmetric window).
    pub fn of_coefficients(w: &[f64]) -> Self {
        let (s1, s2) = w.iter().fold((0.0, 0.0), |(a, b), v| (a + v, b + v * v));
        WindowSums {
            s1,
            s2,
            len: w.len(),
        }
    }

    /// Equivalent noise bandwidth in bins: `N·S2/S1²`.
    pub fn enbw_bins(&self) -> f64 {
        self.len as f64 * self.s2 / (self.s1 * self.s1)
    }

    /// Frequency resolution in Hz at `sample_rate_hz`: ENBW·sr/N, what the window
    /// resolves whatever the zero padding to n_fft.
    pub fn resolution_hz(&self, sample_rate_hz: u32) -> f64 {
        self.enbw_bins() * f64::from(sample_rate_hz) / self.len as f64
    }

    /// Coherent gain `S1/N`.
    pub fn coherent_gain(&self) -> f64 {
        self.s1 / self.len as f64
    }
}
