//! Mel filterbanks in the three conventions ML pipelines use (../shared/DSP.md §7), so
//! that a mel spectrogram from hopscope equals the one the user's library computes.
//!
//! | convention | mel formula | bins at | triangles | normalisation |
//! |---|---|---|---|---|
//! | [`MelScale::Slaney`] (librosa default) | linear < 1 kHz, log above | `k·sr/n_fft` | linear in Hz | `norm="slaney"`: row i × 2/(f_{i+2} − f_i) |
//! | [`MelScale::Htk`] (librosa `htk=True`, torchaudio) | `2595·log10(1 + f/700)` | `k·sr/n_fft` | linear in Hz | none or slaney |
//! | [`MelScale::Tf`] (`tf.signal.linear_to_mel_weight_matrix`) | `1127·ln(1 + f/700)` | `linspace(0, sr/2, bins)` | linear in mel, DC row zero | none |
//!
//! Weights are computed in f64 and stored as f32, as librosa does (its float32 matrix
//! from float64 edges). TensorFlow's float32 default evaluates the same formula in
//! float32 and differs from this by ~1e-6 (cancellation in `(m − lo)/(c − lo)`).
//!
//! A mel row is `mel[i] = Σ_k W[i][k]·S[k]` with `S` the power spectrum `|X[k]|²`
//! (librosa's `melspectrogram(power=2)`; always exported as power).

use std::fmt;

use crate::dsp::scale::power_to_db;

/// HTK mel of `hz`: `2595·log10(1 + hz/700)`.
pub fn hz_to_mel_htk(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Inverse of [`hz_to_mel_htk`].
pub fn mel_htk_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

const SLANEY_F_SP: f64 = 200.0 / 3.0;
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;
const SLANEY_MIN_LOG_MEL: f64 = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;

fn slaney_logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Slaney mel of `hz` (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel_slaney(hz: f64) -> f64 {
    if hz < SLANEY_MIN_LOG_HZ {
        hz / SLANEY_F_SP
    } else {
        SLANEY_MIN_LOG_MEL + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_logstep()
    }
}

/// Inverse of [`hz_to_mel_slaney`].
pub fn mel_slaney_to_hz(mel: f64) -> f64 {
    if mel < SLANEY_MIN_LOG_MEL {
        mel * SLANEY_F_SP
    } else {
        SLANEY_MIN_LOG_HZ * (slaney_logstep() * (mel - SLANEY_MIN_LOG_MEL)).exp()
    }
}

/// Which mel formula and filterbank construction.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MelScale {
    /// librosa's default (`htk=False`): Slaney's Auditory Toolbox scale.
    Slaney,
    /// HTK, `2595·log10(1 + f/700)`: librosa `htk=True`, torchaudio's default.
    Htk,
    /// TensorFlow's `1127·ln(1 + f/700)`, triangles in mel, DC dropped.
    Tf,
}

impl fmt::Display for MelScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MelScale::Slaney => "slaney",
            MelScale::Htk => "htk",
            MelScale::Tf => "tf",
        })
    }
}

/// Row normalisation of a filterbank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MelNorm {
    /// Peak 1 (torchaudio `norm=None`, librosa `norm=None`, TF).
    None,
    /// Slaney: each row × `2/(f_{i+2} − f_i)`, area ≈ 1 in Hz (librosa default).
    Slaney,
}

impl fmt::Display for MelNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MelNorm::None => "none",
            MelNorm::Slaney => "slaney",
        })
    }
}

/// Everything that defines a filterbank besides the FFT size and sample rate.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MelSpec {
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lower edge of the first band, Hz.
    pub fmin_hz: f64,
    /// Upper edge of the last band, Hz.
    pub fmax_hz: f64,
    /// Formula and construction.
    pub scale: MelScale,
    /// Row normalisation (TF has none).
    pub norm: MelNorm,
}

impl MelSpec {
    /// librosa's `filters.mel` defaults for `n_mels` bands: Slaney scale and norm, 0 Hz to
    /// Nyquist.
    pub fn librosa(n_mels: usize, sample_rate_hz: u32) -> MelSpec {
        MelSpec {
            n_mels,
            fmin_hz: 0.0,
            fmax_hz: f64::from(sample_rate_hz) / 2.0,
            scale: MelScale::Slaney,
            norm: MelNorm::Slaney,
        }
    }

    /// Checks the spec against a sample rate; the message names the offending option.
    ///
    /// # Errors
    /// No bands, a negative or inverted range, or `fmax` above Nyquist, or TF with a norm.
    pub fn validate(&self, sample_rate_hz: u32) -> Result<(), String> {
        let nyquist = f64::from(sample_rate_hz) / 2.0;
        if self.n_mels == 0 || self.n_mels > 4096 {
            return Err(format!("--mel {}: expected 1..=4096 bands", self.n_mels));
        }
        if !(self.fmin_hz >= 0.0 && self.fmin_hz < self.fmax_hz) {
            return Err(format!(
                "mel range {}..{} Hz: expected 0 <= fmin < fmax",
                self.fmin_hz, self.fmax_hz
            ));
        }
        if self.fmax_hz > nyquist + 1e-9 {
            return Err(format!(
                "mel fmax {} Hz is above Nyquist ({nyquist} Hz)",
                self.fmax_hz
            ));
        }
        if self.scale == MelScale::Tf && self.norm != MelNorm::None {
            return Err("--mel-scale tf has no normalisation: use --mel-norm none".into());
        }
        Ok(())
    }
}

/// Mel of `hz` on `scale` (f64).
pub fn hz_to_mel(scale: MelScale, hz: f64) -> f64 {
    match scale {
        MelScale::Slaney => hz_to_mel_slaney(hz),
        MelScale::Htk => hz_to_mel_htk(hz),
        MelScale::Tf => 1127.0 * (hz / 700.0).ln_1p(),
    }
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(scale: MelScale, mel: f64) -> f64 {
    match scale {
        MelScale::Slaney => mel_slaney_to_hz(mel),
        MelScale::Htk => mel_htk_to_hz(mel),
        MelScale::Tf => 700.0 * (mel / 1127.0).exp_m1(),
    }
}

/// A filterbank stored by rows: band `i` covers bins `first[i]..first[i] + len` of
/// `weights[offset[i]..offset[i + 1]]`.
///
/// Thread: built anywhere, then read-only (`Sync`). Allocates: in `new` only.
#[derive(Clone, Debug, PartialEq)]
pub struct MelFilterbank {
    spec: MelSpec,
    bins: usize,
    first: Vec<usize>,
    offset: Vec<usize>,
    weights: Vec<f32>,
}

impl MelFilterbank {
    /// The filterbank for `n_fft` at `sample_rate_hz` (`spec` validated by the caller).
    pub fn new(spec: MelSpec, sample_rate_hz: u32, n_fft: usize) -> MelFilterbank {
        let dense: Vec<f32> = weights_f64(&spec, sample_rate_hz, n_fft)
            .into_iter()
            .map(|w| w as f32)
            .collect();
        let bins = n_fft / 2 + 1;
        let mut first = Vec::with_capacity(spec.n_mels);
        let mut offset = Vec::with_capacity(spec.n_mels + 1);
        let mut weights = Vec::new();
        offset.push(0);
        for row in dense.chunks_exact(bins) {
            let lo = row.iter().position(|&w| w != 0.0).unwrap_or(0);
            let hi = row.iter().rposition(|&w| w != 0.0).map_or(lo, |h| h + 1);
            first.push(lo);
            weights.extend_from_slice(&row[lo..hi]);
            offset.push(weights.len());
        }
        MelFilterbank {
            spec,
            bins,
            first,
            offset,
            weights,
        }
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &MelSpec {
        &self.spec
    }

    /// Bands.
    pub fn n_mels(&self) -> usize {
        self.spec.n_mels
    }

    /// Spectrum bins expected by [`MelFilterbank::apply`] (`n_fft/2 + 1`).
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The dense matrix `[n_mels][bins]`, row-major (librosa's layout; TF and torch use
    /// its transpose).
    pub fn dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.n_mels() * self.bins];
        for i in 0..self.n_mels() {
            let w = &self.weights[self.offset[i]..self.offset[i + 1]];
            out[i * self.bins + self.first[i]..][..w.len()].copy_from_slice(w);
        }
        out
    }

    /// Bands whose weights are all zero (no FFT bin falls inside them): a sign that
    /// n_fft is too small for this many bands.
    pub fn dead_bands(&self) -> usize {
        (0..self.n_mels())
            .filter(|&i| {
                self.weights[self.offset[i]..self.offset[i + 1]]
                    .iter()
                    .all(|&w| w == 0.0)
            })
            .count()
    }

    /// Band `i`'s non-zero stretch: `(first bin, weights of bins first..first + len)`
    /// (empty for a band no bin centre falls into).
    pub fn band(&self, i: usize) -> (usize, &[f32]) {
        (
            self.first[i],
            &self.weights[self.offset[i]..self.offset[i + 1]],
        )
    }

    /// The one mel-in-dB formula (DSP.md §7), for band `i` of calibrated bin powers
    /// `power(k)`: `10·log10(max(Σ_k w_ik·P_k, FLOOR_POWER))` ([`power_to_db`]),
    /// accumulated in f64. `analyze --mel --scale db` and the live mel view both use it.
    ///
    /// Thread: any. Allocates: no.
    pub fn band_db(&self, i: usize, power: impl Fn(usize) -> f64) -> f32 {
        let (first, w) = self.band(i);
        let sum: f64 = w
            .iter()
            .enumerate()
            .map(|(j, &w)| f64::from(w) * power(first + j))
            .sum();
        power_to_db(sum as f32)
    }

    /// `out[i] = Σ_k W[i][k]·spectrum[k]`, accumulated in f64.
    ///
    /// Thread: any. Allocates: no.
    pub fn apply(&self, spectrum: &[f32], out: &mut [f32]) {
        debug_assert_eq!(spectrum.len(), self.bins);
        for (i, o) in out.iter_mut().enumerate().take(self.n_mels()) {
            let w = &self.weights[self.offset[i]..self.offset[i + 1]];
            let s = &spectrum[self.first[i]..self.first[i] + w.len()];
            *o = w
                .iter()
                .zip(s)
                .map(|(&w, &s)| f64::from(w) * f64::from(s))
                .sum::<f64>() as f32;
        }
    }
}

/// The dense `[n_mels][bins]` weights (row-major), computed as the library of
/// `spec.scale` does, before the filterbank stores them as f32: TF's in f64; librosa's
/// as its float32 triangle times the f64 norm.
pub fn weights_f64(spec: &MelSpec, sample_rate_hz: u32, n_fft: usize) -> Vec<f64> {
    let bins = n_fft / 2 + 1;
    let n = spec.n_mels;
    let mut out = vec![0.0f64; n * bins];
    let sr = f64::from(sample_rate_hz);
    match spec.scale {
        MelScale::Slaney | MelScale::Htk => {
            // librosa filters.mel: edges mel_to_hz(linspace(mel(fmin), mel(fmax), n+2)),
            // bins at k·sr/n_fft, triangles linear in Hz (f64), stored as f32.
            let (m0, m1) = (
                hz_to_mel(spec.scale, spec.fmin_hz),
                hz_to_mel(spec.scale, spec.fmax_hz),
            );
            let edges: Vec<f64> = linspace(m0, m1, n + 2)
                .into_iter()
                .map(|m| mel_to_hz(spec.scale, m))
                .collect();
            for i in 0..n {
                let (lo, c, hi) = (edges[i], edges[i + 1], edges[i + 2]);
                let enorm = match spec.norm {
                    MelNorm::Slaney => 2.0 / (hi - lo),
                    MelNorm::None => 1.0,
                };
                for k in 0..bins {
                    let f = k as f64 * sr / n_fft as f64;
                    let lower = (f - lo) / (c - lo);
                    let upper = (hi - f) / (hi - c);
                    // librosa stores the triangle in float32, then multiplies by the
                    // float64 enorm (numpy promotes) and stores float32 again.
                    let w = lower.min(upper).max(0.0) as f32;
                    out[i * bins + k] = f64::from(w) * enorm;
                }
            }
        }
        MelScale::Tf => {
            // tf.signal.linear_to_mel_weight_matrix: bins at linspace(0, sr/2, bins), DC
            // row zero, triangles linear in mel (evaluated in f64, as TF does with
            // dtype=float64; TF's float32 default differs by ~1e-6 from cancellation).
            let band: Vec<f64> = linspace(
                hz_to_mel(MelScale::Tf, spec.fmin_hz),
                hz_to_mel(MelScale::Tf, spec.fmax_hz),
                n + 2,
            );
            let freqs = linspace(0.0, sr / 2.0, bins);
            for k in 1..bins {
                let m = hz_to_mel(MelScale::Tf, freqs[k]);
                for i in 0..n {
                    let (lo, c, hi) = (band[i], band[i + 1], band[i + 2]);
                    let lower = (m - lo) / (c - lo);
                    let upper = (hi - m) / (hi - c);
                    out[i * bins + k] = lower.min(upper).max(0.0);
                }
            }
        }
    }
    out
}

/// numpy `linspace(a, b, n)` in f64 (endpoint included, last value exact).
fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    let step = (b - a) / (n - 1) as f64;
    (0..n)
        .map(|i| if i == n - 1 { b } else { a + i as f64 * step })
        .collect()
}
