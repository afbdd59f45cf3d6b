//! The frequency axis: linear, log and mel (HTK or Slaney, ../shared/DSP.md §7) scales,
//! and [`ColumnMap`], which turns one STFT row into one display column: bins picked per
//! pixel on a [`FreqAxis`], or mel bands ([`ColumnMap::mel`], drawn against [`mel_axis`]).

use std::fmt;
use std::str::FromStr;

use crate::dsp::frontend::FrontendSpec;
use crate::dsp::mel::{
    hz_to_mel, hz_to_mel_htk, hz_to_mel_slaney, mel_htk_to_hz, mel_slaney_to_hz, mel_to_hz,
    MelFilterbank, MelNorm, MelScale, MelSpec,
};
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
                "unknown frequency scale '{s}': expected one of {}",
                ALL_SCALES.map(|s| s.name()).join(", ")
            )),
        }
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

/// Maps an STFT row (`n_fft/2 + 1` bins) onto `height` display pixels, in one of two modes.
///
/// - **Axis** ([`ColumnMap::new`]): pixels on a [`FreqAxis`]. A pixel that covers bin
///   centres shows their maximum (no peak is lost when bins are compressed); a pixel
///   between two bin centres interpolates them, so the display never invents resolution.
/// - **Mel** ([`ColumnMap::mel`]): `n_mels` bands drawn as equal-height stripes, each the
///   dB mel value `hopscope analyze --mel N --scale db` writes.
///
/// Pixel 0 is the bottom of the axis (the lowest frequency / band 0) in both modes.
///
/// Thread: UI (built when the axis, size or parameters change); shared read-only with
/// offline workers (`Send + Sync`: no interior mutability). `apply` allocates nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnMap {
    /// One span per pixel, bottom first. In mel mode: the bins the pixel's band draws on
    /// (see [`ColumnMap::spans`]).
    spans: Vec<Span>,
    num_bins: usize,
    /// `Some` in mel mode.
    mel: Option<MelBands>,
}

/// The mel mode of a [`ColumnMap`]: the filterbank, and the stripe of pixels each band
/// fills.
#[derive(Clone, Debug, PartialEq)]
struct MelBands {
    filterbank: MelFilterbank,
    /// Pixels `stripe[i]..stripe[i + 1]` show band `i` (`n_mels + 1` entries).
    stripe: Vec<usize>,
}

/// Band shown by pixel `y` of `height` when `n_mels` bands are stacked as equal stripes:
/// the band under the pixel's centre, `floor((y + ½)·n_mels/height)`.
fn band_of_pixel(y: usize, height: usize, n_mels: usize) -> usize {
    ((2 * y as u128 + 1) * n_mels as u128 / (2 * height as u128)) as usize
}

/// Centre frequency of band `i` of `spec`: the mel edge `i + 1` of
/// `linspace(mel(fmin), mel(fmax), n_mels + 2)` (DSP.md §7).
fn band_centre_hz(spec: &MelSpec, i: usize) -> f64 {
    let (m0, m1) = (
        hz_to_mel(spec.scale, spec.fmin_hz),
        hz_to_mel(spec.scale, spec.fmax_hz),
    );
    mel_to_hz(
        spec.scale,
        m0 + (i + 1) as f64 * (m1 - m0) / (spec.n_mels + 1) as f64,
    )
}

/// `10^(db/10)` in f64: the calibrated power of a dBFS value.
#[inline(always)]
fn db_to_power(db: f32) -> f64 {
    (f64::from(db) * (std::f64::consts::LN_10 / 10.0)).exp()
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
            mel: None,
        }
    }

    /// `spec.n_mels` mel bands of `spec` for rows of `fft_size` at `sample_rate_hz`, drawn
    /// as `n_mels` equal-height stripes over `height` pixels, low bands at the bottom.
    ///
    /// **The mel scaling formula.** With `L_k` the row's calibrated dBFS values
    /// (`ValueScale::Db`) and `w_ik` the weights of [`MelFilterbank`] for `spec`, band `i` reads
    ///
    /// ```text
    /// M_i = 10·log10(max(Σ_k w_ik · 10^(L_k/10), FLOOR_POWER))   (dsp::scale::power_to_db)
    /// ```
    ///
    /// i.e. the mel-weighted sum of calibrated bin powers, in dBFS: exactly the rows
    /// `hopscope analyze --mel N --scale db` writes (`offline::MelStage`). A band is
    /// therefore not normalised unless `spec.norm` is: with `MelNorm::None`, a full-scale
    /// bin-centred Hann sine at a band centre reads `10·log10(1 + 2·¼) = 1.76 dB`, not 0.
    /// Bins the row floored at `FLOOR_DB` count as `FLOOR_POWER`, so a band whose bins
    /// are all below the floor may read a few dB above [`crate::dsp::scale::FLOOR_DB`].
    ///
    /// **Stripes.** Pixel `y` (0 = bottom) shows band `floor((y + ½)·n_mels/height)`, the
    /// band under its centre: each band fills `height/n_mels` pixels (±1); with
    /// `height < n_mels`, bands under no pixel centre are not shown. Draw it against
    /// [`mel_axis`]`(spec)`, whose ticks line up with the stripes.
    ///
    /// `spec` is validated by the caller ([`MelSpec::validate`]).
    ///
    /// # Panics
    /// If `spec.n_mels == 0`.
    pub fn mel(spec: &MelSpec, height: usize, fft_size: usize, sample_rate_hz: u32) -> Self {
        assert!(spec.n_mels > 0, "a mel column map needs at least one band");
        let n = spec.n_mels;
        let bins = num_bins(fft_size);
        let filterbank = MelFilterbank::new(*spec, sample_rate_hz, fft_size);
        // What `spans()` reports per band: its non-zero bins, or, for a band no bin centre
        // falls into, the two bins around its centre.
        let hz_per_bin = f64::from(sample_rate_hz) / fft_size as f64;
        let band_spans: Vec<Span> = (0..n)
            .map(|i| match filterbank.band(i) {
                (lo, w) if !w.is_empty() => Span::Max {
                    lo: lo as u32,
                    hi: (lo + w.len() - 1) as u32,
                },
                _ => {
                    let last = (bins - 1) as f64;
                    let centre = (band_centre_hz(spec, i) / hz_per_bin).clamp(0.0, last);
                    let lo = centre.floor().min(last - 1.0).max(0.0);
                    Span::Interp {
                        lo: lo as u32,
                        frac: (centre - lo).clamp(0.0, 1.0) as f32,
                    }
                }
            })
            .collect();
        // Pixels are in band order: stripe[i] = the number of pixels showing bands below i.
        let mut stripe = vec![0usize; n + 1];
        for y in 0..height {
            stripe[band_of_pixel(y, height, n) + 1] += 1;
        }
        for i in 1..=n {
            stripe[i] += stripe[i - 1];
        }
        let spans = (0..height)
            .map(|y| band_spans[band_of_pixel(y, height, n)])
            .collect();
        ColumnMap {
            spans,
            num_bins: bins,
            mel: Some(MelBands { filterbank, stripe }),
        }
    }

    /// A model front-end's `n` bands (its row, already in its units) as `n` equal-height
    /// stripes over `height` pixels, band 0 at the bottom: pixel `y` shows band
    /// `floor((y + ½)·n/height)`. Draw it against [`frontend_axis`].
    pub fn stripes(n: usize, height: usize) -> Self {
        let n = n.max(1);
        let spans = (0..height)
            .map(|y| {
                let band = band_of_pixel(y, height, n) as u32;
                Span::Max { lo: band, hi: band }
            })
            .collect();
        ColumnMap {
            spans,
            num_bins: n,
            mel: None,
        }
    }

    /// The mel spec when in mel mode ([`ColumnMap::mel`]).
    pub fn mel_spec(&self) -> Option<&MelSpec> {
        self.mel.as_ref().map(|m| m.filterbank.spec())
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
    ///
    /// In mel mode they only describe which bins each pixel's band draws on (its triangle's
    /// non-zero bins as `Max`, or for a band that holds no bin centre the two bins around
    /// its centre as `Interp`); `apply` uses the triangle weights. No bin has weight at
    /// 0 Hz, so pixel 0 is never `Max { lo: 0, hi: 0 }`: a mel map is never taken for
    /// the identity map.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Fills `out` (bottom pixel first) from `bins` (in mel mode: a calibrated dBFS row,
    /// see [`ColumnMap::mel`]).
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
        if let Some(mel) = &self.mel {
            return mel.apply(bins, out);
        }
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

impl MelBands {
    /// The mel scaling formula of [`ColumnMap::mel`], band by band, each into its stripe
    /// (bands under no pixel are skipped). Lengths checked by the caller.
    fn apply(&self, db: &[f32], out: &mut [f32]) {
        for (i, bounds) in self.stripe.windows(2).enumerate() {
            let pixels = &mut out[bounds[0]..bounds[1]];
            if pixels.is_empty() {
                continue;
            }
            pixels.fill(self.filterbank.band_db(i, |k| db_to_power(db[k])));
        }
    }
}

/// The frequency axis whose ticks line up with [`ColumnMap::stripes`] of a model
/// front-end's bands: band `i` at [`FrontendSpec::band_hz`]`(i)` in the middle of stripe
/// `i`. Mel front-ends: [`mel_axis`] of their matrix's scale and edges; linear ones
/// (the TF tutorial's |X|): bin `k` of `n` at `(k + ½)/n` of a linear axis.
pub fn frontend_axis(spec: &FrontendSpec) -> FreqAxis {
    match &spec.mel {
        Some(m) => mel_axis(&MelSpec {
            n_mels: m.weights.len(),
            fmin_hz: m.fmin_hz,
            fmax_hz: m.fmax_hz,
            scale: m.scale,
            norm: MelNorm::None,
        }),
        None => {
            let half_bin = 0.5 * f64::from(spec.sample_rate_hz) / spec.n_fft as f64;
            FreqAxis {
                scale: FreqScale::Linear,
                fmin_hz: -half_bin,
                fmax_hz: spec.band_hz(spec.bands() - 1) + half_bin,
            }
        }
    }
}

/// The frequency axis whose ticks line up with the stripes of
/// [`ColumnMap::mel`]`(spec, ..)`: band `i`'s centre frequency sits in the middle of
/// stripe `i`, `hz_to_frac(centre_i) = (i + ½)/n_mels`.
///
/// The scale is [`FreqScale::MelHtk`] for HTK and TF (TF's `1127·ln(1 + f/700)` is
/// the HTK curve times 1.0000011, so fractions are the same) and [`FreqScale::MelSlaney`]
/// for Slaney. The axis runs from the mel midpoint below band 0's centre to the one above
/// the last band's centre: `mel(fmin) + ½Δ` to `mel(fmax) − ½Δ`,
/// `Δ = (mel(fmax) − mel(fmin))/(n_mels + 1)` the spacing of the centres.
pub fn mel_axis(spec: &MelSpec) -> FreqAxis {
    let scale = match spec.scale {
        MelScale::Slaney => FreqScale::MelSlaney,
        MelScale::Htk | MelScale::Tf => FreqScale::MelHtk,
    };
    let (m0, m1) = (
        hz_to_mel(spec.scale, spec.fmin_hz),
        hz_to_mel(spec.scale, spec.fmax_hz),
    );
    let half_step = 0.5 * (m1 - m0) / (spec.n_mels + 1) as f64;
    FreqAxis {
        scale,
        fmin_hz: mel_to_hz(spec.scale, m0 + half_step),
        fmax_hz: mel_to_hz(spec.scale, m1 - half_step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::frontend::presets;

    /// Every built-in front-end's band `i` sits in the middle of stripe `i` of its axis,
    /// and the stripes map band `i`'s value to its own pixels.
    #[test]
    fn frontend_bands_sit_in_their_stripes() {
        for spec in presets::all() {
            let axis = frontend_axis(&spec);
            let n = spec.bands();
            for i in [0, n / 3, n - 1] {
                let frac = axis.hz_to_frac(spec.band_hz(i));
                let want = (i as f64 + 0.5) / n as f64;
                assert!(
                    (frac - want).abs() < 1e-6,
                    "{} band {i}: {frac} vs {want}",
                    spec.name
                );
            }
            let height = 300;
            let map = ColumnMap::stripes(n, height);
            let row: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let mut out = vec![0.0; height];
            map.apply(&row, &mut out);
            assert_eq!(out[0], 0.0);
            assert_eq!(out[height - 1], (n - 1) as f32);
            let y = (((n / 3) as f64 + 0.5) * height as f64 / n as f64) as usize;
            assert_eq!(out[y], (n / 3) as f32, "{}", spec.name);
        }
    }
}
