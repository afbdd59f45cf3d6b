//! Model front-ends: the exact feature pipeline a deployed model consumes (Whisper's
//! scaled log-mel, YAMNet's log-mel of magnitudes, Kaldi fbank, …), as data
//! ([`FrontendSpec`]) and as a streaming engine ([`engine::FrontendEngine`]).
//!
//! The pipeline of one row, in order (../shared/FRONTENDS.md):
//!
//! 1. the waveform × `waveform_scale`, pre-emphasised once over the whole signal
//!    ([`Preemphasis::Signal`], python_speech_features);
//! 2. framing ([`Framing`]): frame `m` starts at `m·hop` (valid / pad-end) or is centred
//!    on `m·hop` with `n_fft/2` samples of padding each side (`center`);
//! 3. per frame: DC removal, then pre-emphasis `x[i] − c·x[i−1]` with `x[−1] = x[0]`
//!    (Kaldi), then the window's exact coefficients;
//! 4. the zero-padded real FFT of `n_fft` (f64), `|X|` or `|X|²`, × `spectrum_scale`;
//! 5. the mel matrix (when there is one) on that spectrum;
//! 6. the log ([`LogSpec`]): `func(max(x + offset, floor))`;
//! 7. the clamp ([`ClampSpec`]): `max(v, max_span(v) − below_max)` over a reference
//!    span (the whole input offline, a rolling span live: [`SpanMax`]);
//! 8. the affine scaling `(v + add) / div`.
//!
//! Steps 1–6 are the engine's; 7–8 are [`Post`], applied once the span's maximum is
//! known.
//!
//! Thread: specs are plain data (any thread); an engine belongs to the thread that runs
//! it (the analysis thread live, one offline worker).

pub mod engine;
pub mod presets;

use super::mel::{hz_to_mel, mel_to_hz, MelScale};

/// How frames are cut from the signal.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `center=True` (torch.stft, librosa, keras): `n_fft/2` samples of padding each
    /// side, frame `m` centred on sample `m·hop`; `1 + len/hop` frames.
    Center {
        /// What the padding holds.
        pad: Pad,
    },
    /// No padding (Kaldi `snip_edges`, tf.signal.stft): frame `m` is
    /// `x[m·hop, m·hop + win)`; `1 + (len − win)/hop` frames.
    Valid,
    /// python_speech_features: valid frames, then enough zeros at the end for one more
    /// frame when samples remain: `1 + ceil((len − win)/hop)` frames (1 when
    /// `len ≤ win`).
    PadEnd,
}

/// The padding of [`Framing::Center`].
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pad {
    /// `x[−i] = x[i]` (numpy/torch `reflect`).
    Reflect,
    /// Zeros.
    Constant,
}

/// Where pre-emphasis happens.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Preemphasis {
    /// Per frame, after DC removal: `x[i] − c·x[i−1]`, `x[0] − c·x[0]` (Kaldi).
    Frame(f64),
    /// Once over the signal: `y[0] = x[0]`, `y[i] = x[i] − c·x[i−1]`
    /// (python_speech_features).
    Signal(f64),
}

/// What the FFT's bins become before the mel matrix.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spectrum {
    /// `|X|` (YAMNet, VGGish, the TF tutorial).
    Magnitude,
    /// `|X|²`.
    Power,
}

/// The logarithm: `func(max(x + offset, floor))`, and for `Db10`,
/// `− 10·log10(max(reference, floor))`.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSpec {
    /// Which logarithm.
    pub func: LogFunc,
    /// Added before the floor (YAMNet's 0.001, VGGish's 0.01).
    pub offset: f64,
    /// The smallest value the log sees (Whisper's 1e-10, Kaldi's f32 epsilon).
    pub floor: f64,
    /// `ref` of a dB scale (keras's `ref_power`); 1 elsewhere.
    pub reference: f64,
}

/// A logarithm.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFunc {
    /// Natural log.
    Ln,
    /// `log10`.
    Log10,
    /// `10·log10` (dB of a power).
    Db10,
}

/// `max(v, max_span(v) − below_max)`.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClampSpec {
    /// How far below the span's maximum values are clamped (Whisper 8, keras 80).
    pub below_max: f64,
    /// The live reference span, seconds (offline: the whole input, as the references).
    pub live_span_s: f64,
}

/// `(v + add) / div`.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Added first.
    pub add: f64,
    /// Then divided by.
    pub div: f64,
}

/// The fixed input a model takes, for the HUD and `hopscope frontends`.
///
/// Thread: any (plain data).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInput {
    /// Frames per model input (Whisper 3000, YAMNet's patch 96).
    pub frames: usize,
    /// Frames between inputs (patch hop), equal to `frames` for back-to-back inputs.
    pub hop_frames: usize,
    /// In words, e.g. `80 × 3000 per 30 s (audio padded with zeros or cut to 30 s)`.
    pub text: String,
}

/// The mel stage: a dense matrix and how it was made.
///
/// Thread: any (plain data).
#[derive(Clone, Debug, PartialEq)]
pub struct MelMatrix {
    /// `n_mels` rows of `n_fft/2 + 1` weights.
    pub weights: Vec<Vec<f64>>,
    /// The mel formula (for band centres on the frequency axis).
    pub scale: MelScale,
    /// Lower edge, Hz.
    pub fmin_hz: f64,
    /// Upper edge, Hz.
    pub fmax_hz: f64,
    /// Area normalisation (Slaney) applied to the triangles.
    pub slaney_norm: bool,
    /// How the triangles were built, in words (`hz`, `mel`, `fft_bins`).
    pub triangles: Triangles,
}

/// Where the triangles of a mel matrix are straight.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Triangles {
    /// Straight in Hz, evaluated at each bin's frequency (librosa, torchaudio).
    Hz,
    /// Straight in mel (TF, Kaldi, VGGish).
    Mel,
    /// On integer FFT bins `floor((n_fft + 1)·f/sr)` (python_speech_features).
    FftBins,
}

impl MelMatrix {
    /// Band `i`'s centre frequency, Hz: the peak of its triangle on the mel scale.
    pub fn centre_hz(&self, i: usize) -> f64 {
        let n = self.weights.len();
        let (m0, m1) = (
            hz_to_mel(self.scale, self.fmin_hz),
            hz_to_mel(self.scale, self.fmax_hz),
        );
        mel_to_hz(self.scale, m0 + (m1 - m0) * (i + 1) as f64 / (n + 1) as f64)
    }
}

/// A model front-end, complete: everything that decides its rows.
///
/// Thread: any (plain data; the analysis thread gets a clone).
#[derive(Clone, Debug, PartialEq)]
pub struct FrontendSpec {
    /// `whisper`, `yamnet`, … or the file's stem.
    pub name: String,
    /// One line: what model uses it.
    pub description: String,
    /// The reference implementation(s) it matches, with versions.
    pub reference: String,
    /// The rate the model expects, Hz.
    pub sample_rate_hz: u32,
    /// FFT size.
    pub n_fft: usize,
    /// Window length, ≤ `n_fft`.
    pub win_length: usize,
    /// Hop, samples.
    pub hop: usize,
    /// The window's `win_length` coefficients, exact.
    pub window: Vec<f64>,
    /// The window's name (`hann (periodic)`, `povey`, …).
    pub window_name: String,
    /// The waveform's scale (1: floats in ±1; 32768: Kaldi's own integer reading).
    pub waveform_scale: f64,
    /// Pre-emphasis, if any.
    pub preemphasis: Option<Preemphasis>,
    /// Subtract each frame's mean before pre-emphasis (Kaldi).
    pub remove_dc: bool,
    /// Framing.
    pub framing: Framing,
    /// Drop the last frame (Whisper's `stft[..., :-1]`).
    pub drop_last_frame: bool,
    /// `|X|` or `|X|²`.
    pub spectrum: Spectrum,
    /// Multiplies the spectrum (python_speech_features' `1/n_fft`).
    pub spectrum_scale: f64,
    /// The mel stage (`None`: linear bins).
    pub mel: Option<MelMatrix>,
    /// The log (`None`: linear values).
    pub log: Option<LogSpec>,
    /// The clamp below the span's maximum.
    pub clamp: Option<ClampSpec>,
    /// The final scaling.
    pub affine: Option<Affine>,
    /// The model's input shape, if fixed.
    pub model_input: Option<ModelInput>,
    /// What the values are, for the colour bar.
    pub units: String,
    /// The colour bar's default range, in `units`.
    pub display_range: (f32, f32),
}

impl FrontendSpec {
    /// Output values per row: mel bands, or `n_fft/2 + 1` bins.
    pub fn bands(&self) -> usize {
        self.mel
            .as_ref()
            .map_or(self.n_fft / 2 + 1, |m| m.weights.len())
    }

    /// Rows per second of audio.
    pub fn frame_rate_hz(&self) -> f64 {
        f64::from(self.sample_rate_hz) / self.hop as f64
    }

    /// Band `i`'s frequency, Hz (mel centre or bin frequency).
    pub fn band_hz(&self, i: usize) -> f64 {
        match &self.mel {
            Some(m) => m.centre_hz(i),
            None => i as f64 * f64::from(self.sample_rate_hz) / self.n_fft as f64,
        }
    }

    /// Frame `m`'s first sample, in signal indices (negative: in the start's padding).
    pub fn frame_start(&self, m: u64) -> i64 {
        let shift = match self.framing {
            Framing::Center { .. } => {
                (self.n_fft / 2) as i64 - ((self.n_fft - self.win_length) / 2) as i64
            }
            Framing::Valid | Framing::PadEnd => 0,
        };
        (m * self.hop as u64) as i64 - shift
    }

    /// Rows an input of `n` samples gives (after dropping the last frame if asked).
    pub fn rows_for(&self, n: u64) -> u64 {
        let (win, hop) = (self.win_length as u64, self.hop as u64);
        let frames = match self.framing {
            Framing::Center { .. } => 1 + n / hop,
            Framing::Valid if n < win => 0,
            Framing::Valid => 1 + (n - win) / hop,
            Framing::PadEnd if n == 0 => 0,
            Framing::PadEnd if n <= win => 1,
            Framing::PadEnd => 1 + (n - win).div_ceil(hop),
        };
        frames.saturating_sub(u64::from(self.drop_last_frame))
    }

    /// The shortest input that gives a row, samples.
    pub fn min_samples(&self) -> u64 {
        match self.framing {
            // Reflection needs `n_fft/2` samples beyond the edge sample.
            Framing::Center { pad: Pad::Reflect } => {
                (self.n_fft / 2 + 1).max(self.hop * usize::from(self.drop_last_frame)) as u64
            }
            Framing::Center { pad: Pad::Constant } => {
                1.max(self.hop * usize::from(self.drop_last_frame)) as u64
            }
            Framing::Valid => self.win_length as u64,
            Framing::PadEnd => 1,
        }
    }

    /// The clamp and scaling, applied after the engine.
    pub fn post(&self) -> Post {
        Post {
            below_max: self.clamp.map(|c| c.below_max as f32),
            affine: self.affine,
        }
    }

    /// Checks every size and coefficient; the message names the field.
    ///
    /// # Errors
    /// Sizes out of range, a window of the wrong length, a mel matrix of the wrong shape,
    /// non-finite numbers, or a rate of 0.
    pub fn validate(&self) -> Result<(), String> {
        use super::stft::{MAX_FFT_SIZE, MIN_FFT_SIZE};
        if self.sample_rate_hz == 0 {
            return Err("sample_rate must be positive".into());
        }
        if !(MIN_FFT_SIZE..=MAX_FFT_SIZE).contains(&self.n_fft) {
            return Err(format!(
                "n_fft {} is out of range: expected {MIN_FFT_SIZE}..={MAX_FFT_SIZE}",
                self.n_fft
            ));
        }
        if self.win_length == 0 || self.win_length > self.n_fft {
            return Err(format!(
                "win_length {} is out of range: expected 1..=n_fft ({})",
                self.win_length, self.n_fft
            ));
        }
        if self.hop == 0 || self.hop > MAX_FFT_SIZE {
            return Err(format!("hop_length {} is out of range", self.hop));
        }
        if self.window.len() != self.win_length {
            return Err(format!(
                "window: {} coefficients for win_length {}",
                self.window.len(),
                self.win_length
            ));
        }
        if !self.window.iter().all(|w| w.is_finite()) {
            return Err("window: coefficients must be finite".into());
        }
        if self.drop_last_frame && matches!(self.framing, Framing::Center { .. }) {
            // The last frame always needs the end's padding, so it is never emitted before
            // the input ends (and can be dropped then).
            if self.n_fft / 2 < self.hop {
                return Err("drop_last_frame needs n_fft/2 >= hop".into());
            }
        } else if self.drop_last_frame {
            return Err("drop_last_frame is only defined for centred framing".into());
        }
        if let Some(m) = &self.mel {
            let bins = self.n_fft / 2 + 1;
            if m.weights.is_empty() || m.weights.iter().any(|r| r.len() != bins) {
                return Err(format!(
                    "mel: weights must be rows of n_fft/2 + 1 = {bins} values"
                ));
            }
            if !m.weights.iter().flatten().all(|w| w.is_finite()) {
                return Err("mel: weights must be finite".into());
            }
        }
        let finite = [self.waveform_scale, self.spectrum_scale]
            .into_iter()
            .chain(
                self.log
                    .iter()
                    .flat_map(|l| [l.offset, l.floor, l.reference]),
            )
            .chain(self.clamp.iter().flat_map(|c| [c.below_max, c.live_span_s]))
            .chain(self.affine.iter().flat_map(|a| [a.add, a.div]))
            .all(f64::is_finite);
        if !finite {
            return Err("scales, log, clamp and affine must be finite numbers".into());
        }
        if self.log.is_some_and(|l| l.floor <= 0.0 && l.offset <= 0.0) {
            return Err("log: floor or offset must be positive (log of 0)".into());
        }
        if self.affine.is_some_and(|a| a.div == 0.0) {
            return Err("affine: div must not be 0".into());
        }
        if self
            .clamp
            .is_some_and(|c| c.below_max < 0.0 || c.live_span_s <= 0.0)
        {
            return Err("clamp: below_max >= 0 and live_span_s > 0 expected".into());
        }
        Ok(())
    }
}

/// Steps 7–8: the clamp below the reference span's maximum, then the affine scaling.
///
/// Thread: any (plain `Copy` data). Allocates: no.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Post {
    /// `max(v, span_max − below_max)`.
    pub below_max: Option<f32>,
    /// `(v + add) / div`.
    pub affine: Option<Affine>,
}

impl Post {
    /// Applies both to `row`, `span_max` being the reference span's maximum (ignored
    /// without a clamp).
    pub fn apply(&self, span_max: f32, row: &mut [f32]) {
        if let Some(below) = self.below_max {
            let lo = span_max - below;
            for v in row.iter_mut() {
                *v = v.max(lo);
            }
        }
        if let Some(a) = self.affine {
            for v in row.iter_mut() {
                *v = ((f64::from(*v) + a.add) / a.div) as f32;
            }
        }
    }
}

/// The maximum of the last `capacity` rows' maxima (a rolling reference span),
/// amortised O(1) per row with a monotonic queue in a fixed ring.
///
/// Thread: the analysis thread. Allocates: in `new` only.
pub struct SpanMax {
    /// `(row index, row max)`, decreasing maxima, oldest first, as a ring.
    ring: Vec<(u64, f32)>,
    head: usize,
    len: usize,
    next: u64,
}

impl SpanMax {
    /// A span of `rows` rows (at least 1).
    pub fn new(rows: usize) -> SpanMax {
        SpanMax {
            ring: vec![(0, f32::NEG_INFINITY); rows.max(1)],
            head: 0,
            len: 0,
            next: 0,
        }
    }

    /// Rows the span covers.
    pub fn rows(&self) -> usize {
        self.ring.len()
    }

    /// Adds a row's maximum; returns the maximum over the span ending with it.
    pub fn push(&mut self, row_max: f32) -> f32 {
        let cap = self.ring.len();
        let index = self.next;
        self.next += 1;
        // Drop the entry that left the span.
        if self.len > 0 && index - self.ring[self.head].0 >= cap as u64 {
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        // Drop the newer entries it dominates.
        while self.len > 0 {
            let last = (self.head + self.len - 1) % cap;
            if self.ring[last].1 > row_max {
                break;
            }
            self.len -= 1;
        }
        let slot = (self.head + self.len) % cap;
        self.ring[slot] = (index, row_max);
        self.len += 1;
        self.ring[self.head].1
    }

    /// Forgets every row.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.next = 0;
    }
}

/// The largest value of `row` (NaN-free rows: −∞ when empty).
pub fn row_max(row: &[f32]) -> f32 {
    row.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_max_equals_a_naive_window_maximum() {
        // A pseudo-random sequence with runs up and down.
        let values: Vec<f32> = (0..500u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) % 1000) as f32 / 10.0)
            .collect();
        for span in [1, 2, 7, 64] {
            let mut s = SpanMax::new(span);
            for (i, &v) in values.iter().enumerate() {
                let lo = (i + 1).saturating_sub(span);
                let naive = values[lo..=i].iter().copied().fold(f32::MIN, f32::max);
                assert_eq!(s.push(v), naive, "span {span}, row {i}");
            }
        }
    }

    #[test]
    fn post_clamps_below_the_span_max_then_scales() {
        let post = Post {
            below_max: Some(8.0),
            affine: Some(Affine { add: 4.0, div: 4.0 }),
        };
        let mut row = [-10.0, -3.0, 1.0];
        post.apply(1.0, &mut row);
        // max(v, 1 − 8) then (v + 4)/4.
        assert_eq!(row, [-0.75, 0.25, 1.25]);
    }
}
