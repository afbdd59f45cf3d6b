//! The order-3 Rényi entropy of a power spectrogram (../shared/DSP.md §5), the measure
//! `hopscope suggest` ranks STFT sizes by, and the grid correction that makes it
//! comparable across sampling grids.

use crate::dsp::stft::StftParams;

/// Rényi order used throughout (TFTB's default, DSP.md §5).
pub const RENYI_ORDER: f64 = 3.0;
/// Running sums `ΣP` and `ΣP³` of a power distribution, for the order-3 Rényi entropy.
///
/// Thread: any (plain `Copy` data). Allocates: no.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Renyi3 {
    /// `ΣP`.
    pub sum: f64,
    /// `ΣP³`.
    pub sum_cubes: f64,
}

impl Renyi3 {
    /// Adds the cells of one power row.
    ///
    /// Thread: any. Allocates: no.
    pub fn add_row(&mut self, power: &[f32]) {
        let (mut s1, mut s3) = (0.0f64, 0.0f64);
        for &v in power {
            let p = f64::from(v);
            s1 += p;
            s3 += p * p * p;
        }
        self.sum += s1;
        self.sum_cubes += s3;
    }

    /// Adds cells given in f64.
    pub fn add_f64(&mut self, power: &[f64]) {
        for &p in power {
            self.sum += p;
            self.sum_cubes += p * p * p;
        }
    }

    /// Adds another partial sum.
    pub fn merge(&mut self, other: Renyi3) {
        self.sum += other.sum;
        self.sum_cubes += other.sum_cubes;
    }

    /// `R3 = (1/(1−3))·log2 Σp³` of `p = P/ΣP`, in bits; `None` when the total
    /// power is zero (the distribution is undefined) or not finite.
    pub fn bits(&self) -> Option<f64> {
        if !(self.sum > 0.0 && self.sum.is_finite() && self.sum_cubes.is_finite()) {
            return None;
        }
        // Σp³ = ΣP³/(ΣP)³, divided step by step so (ΣP)³ cannot overflow.
        let sum_p3 = self.sum_cubes / self.sum / self.sum / self.sum;
        Some(sum_p3.log2() / (1.0 - RENYI_ORDER))
    }
}

/// Order-3 Rényi entropy in bits of the distribution `power / Σpower`; `None` if
/// `Σpower` is zero or not finite.
pub fn renyi3_bits(power: &[f64]) -> Option<f64> {
    let mut acc = Renyi3::default();
    acc.add_f64(power);
    acc.bits()
}

/// The grid correction `log2((hop/sr)·(sr/n_fft)) = log2(hop/n_fft)`, bits.
pub fn grid_correction_bits(hop_size: usize, fft_size: usize) -> f64 {
    (hop_size as f64 / fft_size as f64).log2()
}

/// How the hop follows the candidate size.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Grid {
    /// `hop = n_fft·ratio`: constant cell area, raw R3 compares.
    HopRatio(f64),
    /// The same hop for every candidate: R3 is corrected by `log2(hop/n_fft)`.
    FixedHop(usize),
}

impl Grid {
    /// The hop for a candidate of size `fft_size` (at least 1).
    pub fn hop_for(&self, fft_size: usize) -> usize {
        match *self {
            Grid::HopRatio(r) => ((fft_size as f64 * r).round() as usize).max(1),
            Grid::FixedHop(h) => h,
        }
    }

    /// The correction added to raw R3 before ranking (0 for [`Grid::HopRatio`]).
    pub fn correction_bits(&self, params: &StftParams) -> f64 {
        match self {
            Grid::HopRatio(_) => 0.0,
            Grid::FixedHop(_) => grid_correction_bits(params.hop_size, params.fft_size),
        }
    }
}
