//! The built-in deterministic demo signal (mono).
//!
//! | component | what | level |
//! |---|---|---|
//! | steady tones | 440 Hz, 1 kHz, and `64·sr/1024` Hz (3 kHz at 48 kHz: a bin centre of n_fft 1024 and 2048) | −20 dBFS each (peak 0.1) |
//! | log chirp | 50 Hz → min(20 kHz, 0.45·sr), restarting every 10 s | −20 dBFS |
//! | clicks | one-sample impulse at t ≡ 0.5 s (mod 1 s) | peak 0.5 |
//! | bursts | 20 ms Hann-shaped 6 kHz burst at t ≡ 1.25 s (mod 2 s) | peak 0.3 (−10.5 dBFS) |
//! | noise | white, uniform, seeded | −60 dBFS RMS (σ = 0.001/√2) |

use std::f64::consts::PI;

use super::BlockSource;
use crate::dsp::noise::WhiteNoise;

/// Seed of the demo's noise generator.
pub const RNG_SEED: u64 = 0x05EE_D0F4_015E;
/// Peak amplitude of each steady tone and of the chirp (−20 dBFS).
pub const TONE_AMPLITUDE: f64 = 0.1;
/// Frequencies of the steady tones other than the bin-centred one.
pub const STEADY_TONES_HZ: [f64; 2] = [440.0, 1000.0];
/// The bin-centred tone sits at bin 64 of n_fft 1024 (bin 128 of 2048).
pub const BIN_CENTRED_BIN_OF_1024: f64 = 64.0;
/// Chirp period in seconds.
pub const CHIRP_PERIOD_S: f64 = 10.0;
/// Noise RMS, −60 dBFS (a sine of peak 0.001 has this RMS).
pub const NOISE_RMS: f64 = 0.001 / std::f64::consts::SQRT_2;

/// The demo signal generator.
///
/// Thread: source thread.
pub struct DemoSignal {
    sample_rate_hz: u32,
    n: u64,
    noise: WhiteNoise,
}

impl DemoSignal {
    /// A demo signal at `sample_rate_hz`, starting at t = 0.
    pub fn new(sample_rate_hz: u32) -> Self {
        DemoSignal {
            sample_rate_hz,
            n: 0,
            noise: WhiteNoise::new(RNG_SEED),
        }
    }

    /// Frequency of the bin-centred steady tone.
    pub fn bin_centred_hz(sample_rate_hz: u32) -> f64 {
        BIN_CENTRED_BIN_OF_1024 * sample_rate_hz as f64 / 1024.0
    }

    /// The next sample.
    pub fn next_sample(&mut self) -> f32 {
        let sr = self.sample_rate_hz as f64;
        let n = self.n;
        self.n += 1;
        let t = n as f64 / sr;
        let tone = |f: f64| ((n as f64 * f / sr).fract() * 2.0 * PI).sin();
        let mut x = 0.0;
        for f in STEADY_TONES_HZ {
            x += TONE_AMPLITUDE * tone(f);
        }
        x += TONE_AMPLITUDE * tone(Self::bin_centred_hz(self.sample_rate_hz));
        // Log chirp f(t) = f0·(f1/f0)^(t/T); phase = 2π·f0·T/ln(f1/f0)·((f1/f0)^(t/T) − 1).
        let (f0, f1) = (50.0, 20_000f64.min(0.45 * sr));
        let tc = t % CHIRP_PERIOD_S;
        let k = (f1 / f0).ln();
        let chirp_phase =
            2.0 * PI * f0 * CHIRP_PERIOD_S / k * ((tc / CHIRP_PERIOD_S * k).exp() - 1.0);
        x += TONE_AMPLITUDE * chirp_phase.sin();
        // Click: one sample at t ≡ 0.5 s (mod 1 s).
        let sr_u = self.sample_rate_hz as u64;
        if n % sr_u == sr_u / 2 {
            x += 0.5;
        }
        // Burst: 20 ms of 6 kHz under a Hann envelope at t ≡ 1.25 s (mod 2 s).
        let tb = t % 2.0 - 1.25;
        if (0.0..0.02).contains(&tb) {
            let env = 0.5 - 0.5 * (2.0 * PI * tb / 0.02).cos();
            x += 0.3 * env * (2.0 * PI * 6000.0 * tb).sin();
        }
        x += NOISE_RMS * 3f64.sqrt() * self.noise.next_symmetric();
        x as f32
    }
}

impl BlockSource for DemoSignal {
    fn channels(&self) -> usize {
        1
    }

    fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    fn fill(&mut self, out: &mut [f32]) -> usize {
        for s in out.iter_mut() {
            *s = self.next_sample();
        }
        out.len()
    }
}
