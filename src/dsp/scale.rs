//! The one scaling formula (../shared/DSP.md §2.2) and bin ↔ Hz helpers.
//!
//! Neither rustfft nor realfft normalises. With `X[k]` the raw DFT of the windowed
//! frame and `S1 = Σw` over the `win_length` window samples (zero padding excluded):
//!
//! ```text
//! L_dBFS[k] = 10·log10(max(|X[k]|²·(2/S1)², FLOOR_POWER))   0 < k < n_fft/2
//! L_dBFS[k] = 10·log10(max(|X[k]|²·(1/S1)², FLOOR_POWER))   k = 0 and k = n_fft/2 (even n_fft)
//! ```
//!
//! so a full-scale sine (peak 1.0) centred on a bin reads 0 dBFS for every window and
//! size (AES17), and digital silence reads [`FLOOR_DB`].
//! The `Magnitude` and `Power` scales are the raw `|X[k]|` and `|X[k]|²`, the
//! convention of librosa, torch and TensorFlow (`np.abs(librosa.stft(...))`).

use std::fmt;
use std::str::FromStr;

/// Lowest level any row reports, in dBFS (the calibrated power floor `1e-20`).
pub const FLOOR_DB: f32 = -200.0;
/// Calibrated power below which levels are clamped to [`FLOOR_DB`].
pub const FLOOR_POWER: f32 = 1e-20;

/// What a row's values mean.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Calibrated dBFS (DSP.md §2.2): a full-scale bin-centred sine reads 0.
    Db,
    /// Raw `|X[k]|`, as `np.abs(librosa.stft(...))`.
    Magnitude,
    /// Raw `|X[k]|²`, as librosa's power spectrogram.
    Power,
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scale::Db => "db",
            Scale::Magnitude => "magnitude",
            Scale::Power => "power",
        })
    }
}

impl FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "db" | "dbfs" => Ok(Scale::Db),
            "magnitude" | "mag" => Ok(Scale::Magnitude),
            "power" => Ok(Scale::Power),
            _ => Err(format!(
                "unknown scale '{s}': expected db, magnitude or power"
            )),
        }
    }
}

/// Gains that turn raw `|X|²` into calibrated power, for one window and FFT size.
///
/// Thread: analysis (built on reconfiguration). Allocates: no.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// `(2/S1)²`: applies to every bin but DC and Nyquist.
    pub gain: f32,
    /// `(1/S1)²`: DC, and Nyquist when `n_fft` is even.
    pub edge_gain: f32,
    /// Whether the last bin is a Nyquist bin (even `n_fft`).
    pub has_nyquist: bool,
}

impl Calibration {
    /// Calibration for a window whose coherent sum is `s1`, in an FFT of `fft_size`.
    pub fn new(s1: f64, fft_size: usize) -> Self {
        Calibration {
            gain: ((2.0 / s1) * (2.0 / s1)) as f32,
            edge_gain: ((1.0 / s1) * (1.0 / s1)) as f32,
            has_nyquist: fft_size % 2 == 0,
        }
    }

    /// Turns raw powers `|X[k]|²` into calibrated dBFS in place (the one formula above).
    ///
    /// Thread: analysis. Allocates: no.
    pub fn power_to_dbfs_in_place(&self, values: &mut [f32]) {
        let last = values.len() - 1;
        let (dc, nyquist) = (values[0], values[last]);
        for v in values.iter_mut() {
            *v = 10.0 * (*v * self.gain).max(FLOOR_POWER).log10();
        }
        values[0] = 10.0 * (dc * self.edge_gain).max(FLOOR_POWER).log10();
        if self.has_nyquist {
            values[last] = 10.0 * (nyquist * self.edge_gain).max(FLOOR_POWER).log10();
        }
    }
}

/// Centre frequency of bin `k` in Hz.
pub fn bin_to_hz(k: f64, fft_size: usize, sample_rate_hz: u32) -> f64 {
    k * sample_rate_hz as f64 / fft_size as f64
}

/// Fractional bin index of `hz`.
pub fn hz_to_bin(hz: f64, fft_size: usize, sample_rate_hz: u32) -> f64 {
    hz * fft_size as f64 / sample_rate_hz as f64
}

/// Number of one-sided bins, `n_fft/2 + 1`.
pub fn num_bins(fft_size: usize) -> usize {
    fft_size / 2 + 1
}
