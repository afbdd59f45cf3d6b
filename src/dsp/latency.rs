//! The latency model of a causal sliding STFT (../shared/DSP.md §4), computed from the
//! actual window coefficients so it holds for every window, length and hop.
//!
//! An event at sample t0 is first weighted by the frame that ends just after it; with
//! hop H (or audio blocks B > H) the phase of the event within a hop is uniform, adding
//! a mean of `(max(H, B) − 1)/2` samples.

use super::stft::StftParams;

/// Mean model delays for one parameter set, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyModel {
    /// A click reaches ≥ −6.02 dB (half amplitude) of its full level.
    pub click_ms: f64,
    /// A tone onset reaches −6.02 dB of its steady level (its window tail sum reaches ½).
    pub tone_ms: f64,
    /// The audio buffer itself (B / sr), shown separately.
    pub buffer_ms: f64,
}

/// The frame positions where a click reads at least −6.02 dB: where the window `w` is
/// at least half its peak.
pub fn half_peak_positions(w: &[f64]) -> impl DoubleEndedIterator<Item = usize> + '_ {
    let peak = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (0..w.len()).filter(move |&p| w[p] >= 0.5 * peak - 1e-12)
}

/// The model for `params` at `sample_rate_hz` with audio blocks of `buffer_frames`.
pub fn model(params: &StftParams, sample_rate_hz: u32, buffer_frames: usize) -> LatencyModel {
    let w = params.window.coefficients_f64(params.win_length);
    model_of_window(&w, params.hop_size, sample_rate_hz, buffer_frames)
}

/// The model for frames windowed by the coefficients `w` (the frame's newest sample
/// last), one every `hop` samples at `sample_rate_hz`, with audio blocks of
/// `buffer_frames` at that rate: a model front-end's own window (povey, a symmetric or
/// rectangular one) as much as an STFT's.
pub fn model_of_window(
    w: &[f64],
    hop: usize,
    sample_rate_hz: u32,
    buffer_frames: usize,
) -> LatencyModel {
    let n = w.len();
    // The last half-peak position p: the click is delayed N − p samples in that frame.
    let p_click = half_peak_positions(w).next_back().unwrap_or(n - 1);
    // Last p whose tail Σ_{m≥p} w[m] reaches ½·S1.
    let s1: f64 = w.iter().sum();
    let mut tail = 0.0;
    let mut p_tone = 0;
    for p in (0..n).rev() {
        tail += w[p];
        if tail >= 0.5 * s1 - 1e-9 * s1.abs() {
            p_tone = p;
            break;
        }
    }
    let hop_term = (hop.max(buffer_frames.max(1)) as f64 - 1.0) / 2.0;
    let ms = |samples: f64| samples * 1000.0 / sample_rate_hz as f64;
    LatencyModel {
        click_ms: ms((n - p_click) as f64 + hop_term),
        tone_ms: ms((n - p_tone) as f64 + hop_term),
        buffer_ms: ms(buffer_frames as f64),
    }
}
