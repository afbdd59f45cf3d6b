//! The linear chirps of ../shared/DSP.md §5, whose best STFT size `hopscope suggest`
//! must find: the signals, the best power-of-two n_fft and the table's Rényi entropies.

use std::f64::consts::PI;

/// The rate of every chirp.
pub const SR: u32 = 48_000;

/// One DSP.md §5 chirp: `(f0, f1, seconds, c)` with the best pow2 n_fft and the
/// table's R3 values `(n_fft, bits)`.
pub struct Chirp {
    pub f0: f64,
    pub seconds: f64,
    pub rate_hz_per_s: f64,
    pub best: usize,
    pub table: [(usize, f64); 3],
}

pub const CHIRPS: [Chirp; 3] = [
    Chirp {
        f0: 2000.0,
        seconds: 1.0,
        rate_hz_per_s: 1000.0,
        best: 4096,
        table: [(2048, 7.330), (4096, 7.200), (8192, 8.144)],
    },
    Chirp {
        f0: 2000.0,
        seconds: 1.0,
        rate_hz_per_s: 8000.0,
        best: 1024,
        table: [(512, 9.263), (1024, 8.561), (2048, 9.126)],
    },
    Chirp {
        f0: 500.0,
        seconds: 0.7,
        rate_hz_per_s: 32000.0,
        best: 512,
        table: [(256, 9.616), (512, 8.912), (1024, 9.484)],
    },
];

/// `0.5·sin(2π(f0·t + c·t²/2))`, `t = n/sr`, computed in f64.
pub fn chirp(ch: &Chirp) -> Vec<f32> {
    let len = (ch.seconds * f64::from(SR)).round() as usize;
    (0..len)
        .map(|n| {
            let t = n as f64 / f64::from(SR);
            (0.5 * (2.0 * PI * (ch.f0 * t + ch.rate_hz_per_s * t * t / 2.0)).sin()) as f32
        })
        .collect()
}
