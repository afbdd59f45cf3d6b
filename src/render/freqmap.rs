//! The frequency axis: linear, log and mel (HTK or Slaney, ../shared/DSP.md §7) scales,
//! and [`ColumnMap`], which turns one STFT row into one display column.

use std::fmt;
use std::str::FromStr;

use crate::dsp::scale::num_bins;

/// Lowest frequency a log axis shows (0 Hz has no place on it).
pub const LOG_FMIN_HZ: f64 = 20.0;

/// A frequency scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreqScale {
    /// Equal Hz per pixel.
    Linear,
    /// Equal ratio per pixel, from max(fmin, 20 Hz).
    Log,
    /// HTK mel: `2595·log10(1 + f/700)` (librosa `htk=True`, torchaudio).
    MelHtk,
    /// Slaney mel: linear below 1 kHz, log above (librosa default).
    MelSlaney,
}

/// Every scale, in the order the `F` key cycles them.
pub const ALL_SCALES: [FreqScale; 4] = [
    FreqScale::Linear,
    FreqScale::Log,
    FreqScale::MelHtk,
    FreqScale::MelSlaney,
];

impl FreqScale {
    /// The name used on the command line and in status lines.
    pub fn name(&self) -> &'static str {
        match self {
            FreqScale::Linear => "linear",
            FreqScale::Log => "log",
            FreqScale::MelHtk => "mel",
            FreqScale::MelSlaney => "mel-slaney",
        }
    }

    /// The next scale (wraps).
    pub fn next(&self) -> FreqScale {
        let i = ALL_SCALES
            .iter()
            .position(|s| s == self)
            .expect("every scale is listed");
        ALL_SCALES[(i + 1) % ALL_SCALES.len()]
    }
}

impl fmt::Display for FreqScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FreqScale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "linear" | "lin" => Ok(FreqScale::Linear),
            "log" => Ok(FreqScale::Log),
            "mel" | "mel-htk" | "htk" => Ok(FreqScale::MelHtk),
            "mel-slaney" | "slaney" => Ok(FreqScale::MelSlaney),
            _ => Err(format!(
                "unknown frequency scale '{s}': expected linear, log, mel (HTK) or mel-slaney"
            )),
        }
    }
}

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

/// A frequency range on a scale: maps Hz ↔ a fraction of the axis (0 bottom, 1 top).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FreqAxis {
    /// The scale.
    pub scale: FreqScale,
    /// Bottom edge in Hz (a log axis starts at max(this, 20 Hz)).
    pub fmin_hz: f64,
    /// Top edge in Hz.
    pub fmax_hz: f64,
}

impl FreqAxis {
    /// The bottom edge actually shown.
    pub fn lo_hz(&self) -> f64 {
        match self.scale {
            FreqScale::Log => self.fmin_hz.max(LOG_FMIN_HZ),
            _ => self.fmin_hz,
        }
    }

    fn warp(&self, hz: f64) -> f64 {
        match self.scale {
            FreqScale::Linear => hz,
            FreqScale::Log => hz.max(1e-9).ln(),
            FreqScale::MelHtk => hz_to_mel_htk(hz),
            FreqScale::MelSlaney => hz_to_mel_slaney(hz),
        }
    }

    fn unwarp(&self, v: f64) -> f64 {
        match self.scale {
            FreqScale::Linear => v,
            FreqScale::Log => v.exp(),
            FreqScale::MelHtk => mel_htk_to_hz(v),
            FreqScale::MelSlaney => mel_slaney_to_hz(v),
        }
    }

    /// Position of `hz` on the axis: 0 at the bottom edge, 1 at the top.
    pub fn hz_to_frac(&self, hz: f64) -> f64 {
        let (a, b) = (self.warp(self.lo_hz()), self.warp(self.fmax_hz));
        (self.warp(hz) - a) / (b - a)
    }

    /// Frequency at `frac` of the axis; `frac_to_hz(0) = lo_hz()`, `frac_to_hz(1) = fmax_hz`.
    pub fn frac_to_hz(&self, frac: f64) -> f64 {
        if frac <= 0.0 {
            return self.lo_hz();
        }
        if frac >= 1.0 {
            return self.fmax_hz;
        }
        let (a, b) = (self.warp(self.lo_hz()), self.warp(self.fmax_hz));
        self.unwarp(a + frac * (b - a))
    }

    /// The axis zoomed by `factor` in warped units around its centre (`< 1` narrows),
    /// clamped to `[0 (20 Hz on log), nyquist_hz]`.
    pub fn zoomed(&self, factor: f64, nyquist_hz: f64) -> FreqAxis {
        let lo_limit = match self.scale {
            FreqScale::Log => LOG_FMIN_HZ,
            _ => 0.0,
        };
        let (a, b) = (self.warp(self.lo_hz()), self.warp(self.fmax_hz));
        let centre = 0.5 * (a + b);
        let half = 0.5 * (b - a) * factor;
        let mut lo = self.unwarp(centre - half).max(lo_limit);
        let mut hi = self.unwarp(centre + half).min(nyquist_hz);
        if hi - lo < 10.0 {
            // Never narrower than 10 Hz.
            lo = self.lo_hz();
            hi = self.fmax_hz;
        }
        FreqAxis {
            scale: self.scale,
            fmin_hz: lo,
            fmax_hz: hi,
        }
    }
}

/// How one display pixel is computed from the bins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Span {
    /// The pixel covers at least one bin centre: the maximum of bins `lo..=hi`.
    Max {
        /// First bin.
        lo: u32,
        /// Last bin.
        hi: u32,
    },
    /// The pixel falls between two bin centres: linear interpolation, `lo` and `lo + 1`.
    Interp {
        /// Lower bin.
        lo: u32,
        /// Weight of `lo + 1`.
        frac: f32,
    },
}

/// Maps an STFT row (`n_fft/2 + 1` bins) onto `height` display pixels on a [`FreqAxis`].
///
/// A pixel that covers bin centres shows their maximum (no peak is lost when bins are
/// compressed); a pixel between two bin centres interpolates them, so the display
/// never invents resolution. Pixel 0 is the bottom of the axis.
///
/// Thread: UI (built when the axis, size or parameters change). `apply` allocates nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnMap {
    spans: Vec<Span>,
    num_bins: usize,
}

impl ColumnMap {
    /// The map for rows of `fft_size` at `sample_rate_hz` onto `height` pixels.
    pub fn new(axis: &FreqAxis, height: usize, fft_size: usize, sample_rate_hz: u32) -> Self {
        let bins = num_bins(fft_size);
        let last = (bins - 1) as f64;
        let hz_per_bin = sample_rate_hz as f64 / fft_size as f64;
        let to_bin = |hz: f64| (hz / hz_per_bin).clamp(0.0, last);
        let spans = (0..height)
            .map(|y| {
                let b0 = to_bin(axis.frac_to_hz(y as f64 / height as f64));
                let b1 = to_bin(axis.frac_to_hz((y + 1) as f64 / height as f64));
                let (first, lastc) = (b0.ceil(), b1.floor());
                if lastc >= first {
                    Span::Max {
                        lo: first as u32,
                        hi: lastc as u32,
                    }
                } else {
                    let centre = to_bin(axis.frac_to_hz((y as f64 + 0.5) / height as f64));
                    let lo = centre.floor().min(last - 1.0).max(0.0);
                    Span::Interp {
                        lo: lo as u32,
                        frac: (centre - lo).clamp(0.0, 1.0) as f32,
                    }
                }
            })
            .collect();
        ColumnMap {
            spans,
            num_bins: bins,
        }
    }

    /// Display height in pixels.
    pub fn height(&self) -> usize {
        self.spans.len()
    }

    /// Bins per row this map expects.
    pub fn num_bins(&self) -> usize {
        self.num_bins
    }

    /// The spans, bottom pixel first.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Fills `out` (bottom pixel first) from `bins`.
    ///
    /// Thread: UI or offline worker. Allocates: no.
    ///
    /// # Panics
    /// If `bins` or `out` have the wrong length.
    pub fn apply(&self, bins: &[f32], out: &mut [f32]) {
        assert_eq!(bins.len(), self.num_bins, "row width must match the map");
        assert_eq!(
            out.len(),
            self.spans.len(),
            "column height must match the map"
        );
        for (o, span) in out.iter_mut().zip(&self.spans) {
            *o = match *span {
                Span::Max { lo, hi } => bins[lo as usize..=hi as usize]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max),
                Span::Interp { lo, frac } => {
                    let a = bins[lo as usize];
                    let b = bins[(lo as usize + 1).min(self.num_bins - 1)];
                    a + (b - a) * frac
                }
            };
        }
    }
}
