//! The streaming front-end engine: samples in, rows of a [`FrontendSpec`] out (steps 1–6
//! of the module's pipeline), in f64 from the waveform to the log.
//!
//! Samples arrive in chunks of any size; frame `m` is emitted as soon as its last sample
//! has arrived. Frames that need the end's padding (centred framing, python_speech_features'
//! zero-padded tail) are emitted by [`FrontendEngine::finish`], which knows where the
//! input ends. A live stream never ends, so only its start is padded: the stream is one
//! signal, never chunks reflected one by one (FRONTENDS.md trap 2).
//!
//! Thread: the thread that owns it (analysis live, the offline worker). Allocates: in
//! `new` only: `push` and `finish` reuse fixed buffers (tests/no_alloc.rs).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::{Framing, FrontendSpec, LogFunc, LogSpec, Pad, Preemphasis, Spectrum};

/// Samples appended per step of `push` beyond what the frames keep.
const CHUNK: usize = 4096;

/// One band of the mel matrix: its first non-zero bin and its weights from there.
struct Band {
    first: usize,
    weights: Vec<f64>,
}

/// See the module documentation.
///
/// Thread: its owner's. Allocates: in `new` only.
pub struct FrontendEngine {
    spec: FrontendSpec,
    fft: Arc<dyn RealToComplex<f64>>,
    bands: Vec<Band>,
    /// Samples from absolute index `base`, `len` of them valid.
    buf: Vec<f64>,
    len: usize,
    base: u64,
    /// Samples pushed (after the signal's pre-emphasis).
    total: u64,
    /// The next frame's index.
    next: u64,
    /// The last raw sample, for signal pre-emphasis.
    prev: Option<f64>,
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    linear: Vec<f64>,
    row: Vec<f32>,
}

impl FrontendEngine {
    /// Plans the FFT and allocates every buffer.
    ///
    /// # Panics
    /// If `spec` is invalid (callers validate first).
    pub fn new(spec: &FrontendSpec) -> FrontendEngine {
        if let Err(e) = spec.validate() {
            panic!("FrontendEngine::new with an invalid front-end: {e}");
        }
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(spec.n_fft);
        let bands = spec.mel.as_ref().map_or_else(Vec::new, |m| {
            m.weights
                .iter()
                .map(|row| {
                    let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
                    let last = row.iter().rposition(|&w| w != 0.0).map_or(first, |l| l + 1);
                    Band {
                        first,
                        weights: row[first..last].to_vec(),
                    }
                })
                .collect()
        });
        let bins = spec.n_fft / 2 + 1;
        FrontendEngine {
            fft: Arc::clone(&fft),
            bands,
            buf: vec![0.0; 2 * (spec.n_fft + 1) + spec.win_length + CHUNK],
            len: 0,
            base: 0,
            total: 0,
            next: 0,
            prev: None,
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            linear: vec![0.0; bins],
            row: vec![0.0; spec.bands()],
            spec: spec.clone(),
        }
    }

    /// The front-end it computes.
    pub fn spec(&self) -> &FrontendSpec {
        &self.spec
    }

    /// Starts over, as if new.
    pub fn reset(&mut self) {
        self.len = 0;
        self.base = 0;
        self.total = 0;
        self.next = 0;
        self.prev = None;
    }

    /// Appends `samples` and emits every row whose samples have all arrived.
    ///
    /// Allocates: no.
    pub fn push(&mut self, mut samples: &[f32], mut on_row: impl FnMut(&[f32])) {
        while !samples.is_empty() {
            self.compact();
            let room = self.buf.len() - self.len;
            let n = room.min(samples.len());
            self.append(&samples[..n]);
            samples = &samples[n..];
            while self.ready(self.next) {
                self.emit(&mut on_row);
            }
        }
    }

    /// The input has ended: emits the rows that need the end's padding, up to
    /// [`FrontendSpec::rows_for`] the samples pushed.
    ///
    /// Allocates: no.
    pub fn finish(&mut self, mut on_row: impl FnMut(&[f32])) {
        let rows = self.spec.rows_for(self.total);
        if self.total < self.spec.min_samples() {
            return;
        }
        while self.next < rows {
            self.emit(&mut on_row);
        }
    }

    fn append(&mut self, samples: &[f32]) {
        let scale = self.spec.waveform_scale;
        let coef = match self.spec.preemphasis {
            Some(Preemphasis::Signal(c)) => Some(c),
            _ => None,
        };
        for (slot, &s) in self.buf[self.len..].iter_mut().zip(samples) {
            let x = f64::from(s) * scale;
            *slot = match (coef, self.prev) {
                (Some(c), Some(p)) => x - c * p,
                _ => x,
            };
            self.prev = Some(x);
        }
        self.len += samples.len();
        self.total += samples.len() as u64;
    }

    /// Frame `m`'s first sample, in signal indices (negative: in the start's padding).
    fn start(&self, m: u64) -> i64 {
        self.spec.frame_start(m)
    }

    /// Whether frame `m` can be computed from the samples so far (without the end).
    fn ready(&self, m: u64) -> bool {
        let start = self.start(m);
        let end = start + self.spec.win_length as i64;
        let reflect_ok = match self.spec.framing {
            Framing::Center { pad: Pad::Reflect } => start >= 0 || (-start) < self.total as i64,
            _ => true,
        };
        end <= self.total as i64 && reflect_ok
    }

    /// Drops the samples no frame needs any more: everything before the next frame's
    /// start and before the last `n_fft + 1` samples (the end's reflection reads those).
    fn compact(&mut self) {
        let keep_back = self.total.saturating_sub(self.spec.n_fft as u64 + 1);
        let next_start = self.start(self.next).max(0) as u64;
        // The start's reflection reads samples 1..=n_fft/2.
        let keep_from = keep_back.min(next_start).max(self.base);
        let keep_from = if self.start(self.next) < 0 {
            self.base
        } else {
            keep_from
        };
        let drop = (keep_from - self.base) as usize;
        if drop > 0 {
            self.buf.copy_within(drop..self.len, 0);
            self.len -= drop;
            self.base = keep_from;
        }
    }

    /// Sample `i` of the padded signal.
    fn sample(&self, i: i64) -> f64 {
        let total = self.total as i64;
        let j = if i < 0 {
            match self.spec.framing {
                Framing::Center { pad: Pad::Reflect } => -i,
                _ => return 0.0,
            }
        } else if i >= total {
            match self.spec.framing {
                Framing::Center { pad: Pad::Reflect } => 2 * (total - 1) - i,
                _ => return 0.0,
            }
        } else {
            i
        };
        let k = j - self.base as i64;
        debug_assert!(
            (0..self.len as i64).contains(&k),
            "sample {i} (→ {j}) outside the kept {}..{}",
            self.base,
            self.base + self.len as u64
        );
        self.buf[k.clamp(0, self.len as i64 - 1) as usize]
    }

    /// Computes frame `self.next` and hands its row to `on_row`.
    fn emit(&mut self, on_row: &mut impl FnMut(&[f32])) {
        let start = self.start(self.next);
        let win = self.spec.win_length;
        let mut frame = std::mem::take(&mut self.frame);
        for (i, v) in frame[..win].iter_mut().enumerate() {
            *v = self.sample(start + i as i64);
        }
        self.frame = frame;
        self.transform();
        on_row(&self.row);
        self.next += 1;
    }

    /// DC removal, pre-emphasis, window, FFT, spectrum, mel and log of `self.frame`.
    fn transform(&mut self) {
        let s = &self.spec;
        let win = s.win_length;
        let x = &mut self.frame[..win];
        if s.remove_dc {
            let mean = x.iter().sum::<f64>() / win as f64;
            x.iter_mut().for_each(|v| *v -= mean);
        }
        if let Some(Preemphasis::Frame(c)) = s.preemphasis {
            for i in (1..win).rev() {
                x[i] -= c * x[i - 1];
            }
            x[0] -= c * x[0];
        }
        for (v, w) in x.iter_mut().zip(&s.window) {
            *v *= w;
        }
        self.frame[win..].iter_mut().for_each(|v| *v = 0.0);
        self.fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .expect("the buffers were made by this plan");
        for (l, c) in self.linear.iter_mut().zip(&self.spectrum) {
            let power = c.norm_sqr();
            *l = match s.spectrum {
                Spectrum::Power => power,
                Spectrum::Magnitude => power.sqrt(),
            } * s.spectrum_scale;
        }
        if self.bands.is_empty() {
            for (o, &l) in self.row.iter_mut().zip(&self.linear) {
                *o = log(s.log, l) as f32;
            }
        } else {
            for (o, band) in self.row.iter_mut().zip(&self.bands) {
                let bins = &self.linear[band.first..band.first + band.weights.len()];
                let sum: f64 = band.weights.iter().zip(bins).map(|(w, v)| w * v).sum();
                *o = log(s.log, sum) as f32;
            }
        }
    }
}

/// Step 6: the log of one value.
fn log(spec: Option<LogSpec>, x: f64) -> f64 {
    let Some(l) = spec else {
        return x;
    };
    let v = (x + l.offset).max(l.floor);
    match l.func {
        LogFunc::Ln => v.ln(),
        LogFunc::Log10 => v.log10(),
        LogFunc::Db10 => 10.0 * v.log10() - 10.0 * l.reference.max(l.floor).log10(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::presets;
    use super::*;

    /// A deterministic test signal.
    fn signal(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                (0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                    + 0.1 * (2.0 * std::f64::consts::PI * 3_100.0 * t * (1.0 + t)).sin())
                    as f32
            })
            .collect()
    }

    fn rows(spec: &FrontendSpec, x: &[f32], chunk: usize) -> Vec<Vec<f32>> {
        let mut e = FrontendEngine::new(spec);
        let mut out = Vec::new();
        for c in x.chunks(chunk) {
            e.push(c, |r| out.push(r.to_vec()));
        }
        e.finish(|r| out.push(r.to_vec()));
        out
    }

    #[test]
    fn rows_do_not_depend_on_chunking_and_match_rows_for() {
        let x = signal(16_000 + 1234);
        for spec in presets::all() {
            let whole = rows(&spec, &x, x.len());
            assert_eq!(
                whole.len() as u64,
                spec.rows_for(x.len() as u64),
                "{}",
                spec.name
            );
            for chunk in [1, 37, 4096, 10_000] {
                assert_eq!(rows(&spec, &x, chunk), whole, "{} chunk {chunk}", spec.name);
            }
        }
    }

    /// The DFT of one frame, by the definition (no FFT), for the oracle below.
    fn naive_power(frame: &[f64], n_fft: usize, k: usize) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in frame.iter().enumerate() {
            let ph = -2.0 * std::f64::consts::PI * (k * n) as f64 / n_fft as f64;
            re += v * ph.cos();
            im += v * ph.sin();
        }
        re * re + im * im
    }

    #[test]
    fn a_centred_reflected_frame_equals_the_definition() {
        // torchaudio-mel's frame 0: reflect-padded, centred on sample 0, power, HTK mel.
        let spec = presets::by_name("torchaudio-mel").expect("built in");
        let x = signal(4000);
        let got = rows(&spec, &x, 333);
        let pad = spec.n_fft / 2;
        for m in [0usize, 1, 7, got.len() - 1] {
            let frame: Vec<f64> = (0..spec.n_fft)
                .map(|i| {
                    let j = (m * spec.hop + i) as i64 - pad as i64;
                    let n = x.len() as i64;
                    let j = if j < 0 {
                        -j
                    } else if j >= n {
                        2 * (n - 1) - j
                    } else {
                        j
                    };
                    f64::from(x[j as usize]) * spec.window[i]
                })
                .collect();
            let mel = spec.mel.as_ref().expect("mel");
            for (b, w) in mel.weights.iter().enumerate().step_by(17) {
                let want: f64 = w
                    .iter()
                    .enumerate()
                    .filter(|(_, &w)| w != 0.0)
                    .map(|(k, &w)| w * naive_power(&frame, spec.n_fft, k))
                    .sum();
                let g = f64::from(got[m][b]);
                assert!(
                    (g - want).abs() <= 1e-6 * want.abs().max(1e-12),
                    "frame {m} band {b}: {g} vs {want}"
                );
            }
        }
    }

    #[test]
    fn kaldi_frames_remove_dc_and_preemphasise_before_the_window() {
        let spec = presets::by_name("kaldi-fbank").expect("built in");
        let x = signal(2000);
        let got = rows(&spec, &x, 100);
        let m = 3;
        let mut f: Vec<f64> = (0..spec.win_length)
            .map(|i| f64::from(x[m * spec.hop + i]))
            .collect();
        let mean = f.iter().sum::<f64>() / f.len() as f64;
        f.iter_mut().for_each(|v| *v -= mean);
        let pre: Vec<f64> = (0..f.len())
            .map(|i| f[i] - 0.97 * f[i.saturating_sub(1)])
            .collect();
        let windowed: Vec<f64> = pre.iter().zip(&spec.window).map(|(a, w)| a * w).collect();
        let mel = spec.mel.as_ref().expect("mel");
        for (b, w) in mel.weights.iter().enumerate() {
            let e: f64 = w
                .iter()
                .enumerate()
                .filter(|(_, &w)| w != 0.0)
                .map(|(k, &w)| w * naive_power(&windowed, spec.n_fft, k))
                .sum();
            let want = e.max(f64::from(f32::EPSILON)).ln();
            assert!(
                (f64::from(got[m][b]) - want).abs() < 1e-5,
                "band {b}: {} vs {want}",
                got[m][b]
            );
        }
    }
}
