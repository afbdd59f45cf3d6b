//! The seeded generator of every randomised test (SplitMix64).

use std::f64::consts::PI;

/// Seed of every random sequence in the tests.
pub const RNG_SEED: u64 = 0x5EED_0FD5_B020_2024;

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, deterministic, good enough for test signals.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `RNG_SEED ^ stream`, so each test gets its own sequence.
    pub fn new(stream: u64) -> Self {
        Rng(RNG_SEED ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize
    }

    /// Standard normal sample (Box–Muller, cosine branch).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }

    /// `len` samples uniform in [-1, 1).
    pub fn signal(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.range(-1.0, 1.0) as f32).collect()
    }
}
