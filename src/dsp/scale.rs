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
//! size (AES17), and digital silence reads [`FLOOR_DB`]. `10·log10` is evaluated as
//! `10·log10(2)·log2` with [`fast_log2`] (error ≤ 1e-6 dB plus f32 rounding), which
//! vectorises: a dB row costs about what a magnitude row costs.
//! The `Magnitude` and `Power` scales are the raw `|X[k]|` and `|X[k]|²`, the
//! convention of librosa, torch and TensorFlow (`np.abs(librosa.stft(...))`).

use std::fmt;

/// Lowest level any row reports, in dBFS (the calibrated power floor `1e-20`).
pub const FLOOR_DB: f32 = -200.0;
/// Calibrated power below which levels are clamped to [`FLOOR_DB`].
pub const FLOOR_POWER: f32 = 1e-20;

/// What a row's values mean.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueScale {
    /// Calibrated dBFS (DSP.md §2.2): a full-scale bin-centred sine reads 0.
    Db,
    /// Raw `|X[k]|`, as `np.abs(librosa.stft(...))`.
    Magnitude,
    /// Raw `|X[k]|²`, as librosa's power spectrogram.
    Power,
}

impl fmt::Display for ValueScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueScale::Db => "db",
            ValueScale::Magnitude => "magnitude",
            ValueScale::Power => "power",
        })
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

    /// The gain of bin `k` of a row of `bins` bins: [`Calibration::edge_gain`] for DC
    /// and an even `n_fft`'s Nyquist bin, [`Calibration::gain`] for the others.
    pub fn bin_gain(&self, k: usize, bins: usize) -> f32 {
        if k == 0 || (self.has_nyquist && k + 1 == bins) {
            self.edge_gain
        } else {
            self.gain
        }
    }

    /// Turns raw powers `|X[k]|²` into calibrated dBFS in place (the one formula above).
    ///
    /// Thread: analysis. Allocates: no.
    pub fn power_to_dbfs_in_place(&self, values: &mut [f32]) {
        let last = values.len() - 1;
        let (dc, nyquist) = (values[0], values[last]);
        for v in values.iter_mut() {
            *v = power_to_db(*v * self.gain);
        }
        values[0] = power_to_db(dc * self.edge_gain);
        if self.has_nyquist {
            values[last] = power_to_db(nyquist * self.edge_gain);
        }
    }
}

/// dB per octave of power: `10·log10(2)`.
const DB_PER_LOG2: f32 = 3.010_3;

/// `10·log10(max(calibrated_power, FLOOR_POWER))`.
#[inline(always)]
pub fn power_to_db(calibrated_power: f32) -> f32 {
    DB_PER_LOG2 * fast_log2(calibrated_power.max(FLOOR_POWER))
}

/// `log2(x)` for positive normal `x` (NaN-free callers clamp to [`FLOOR_POWER`] first).
///
/// Splits `x = 2^e·m` with `m ∈ [√½, √2)`, then `ln m = 2·atanh(t)`, `t = (m−1)/(m+1)`,
/// `|t| < 0.172`, by its series to `t⁹`; the first omitted term is below 2e-9. Branch-free,
/// so loops over it vectorise. Error ≤ 2e-7 plus the f32 rounding of the result
/// (½ ulp: 3.8e-6 at |log2 x| = 66, i.e. 1e-5 dB at −200 dBFS).
#[inline(always)]
pub fn fast_log2(x: f32) -> f32 {
    const SQRT_2: f32 = std::f32::consts::SQRT_2;
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let high = mantissa > SQRT_2;
    let m = if high { mantissa * 0.5 } else { mantissa };
    let e = exponent + high as i32;
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let ln_m =
        t * (2.0 + t2 * (2.0 / 3.0 + t2 * (2.0 / 5.0 + t2 * (2.0 / 7.0 + t2 * (2.0 / 9.0)))));
    e as f32 + ln_m * std::f32::consts::LOG2_E
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_log2_matches_f64_log2() {
        let mut worst = 0.0f64;
        let mut x = 1e-20f32;
        while x < 1e20 {
            for k in 0..64 {
                let v = x * (1.0 + k as f32 / 64.0);
                let exact = (v as f64).log2();
                // Allowed: 2e-7 of approximation plus the f32 rounding of the result (½ ulp).
                let err = (fast_log2(v) as f64 - exact).abs() / (2e-7 + 6e-8 * exact.abs());
                worst = worst.max(err);
            }
            x *= 1.37;
        }
        assert!(worst <= 1.0, "fast_log2 error {worst} × the allowance");
        assert_eq!(fast_log2(1.0), 0.0);
        assert_eq!(fast_log2(0.25), -2.0);
        assert!((power_to_db(0.5) + 3.010_3).abs() < 1e-5);
        assert_eq!(power_to_db(0.0), FLOOR_DB);
    }
}
