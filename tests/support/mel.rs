//! Mel oracles written independently of `src/` (the formulas of ../shared/DSP.md §7,
//! inverted by hand), and the warped frequency axis built from them: used by the
//! render, UI and live-mel tests.

/// HTK mel, DSP.md §7: `2595·log10(1 + f/700)`.
pub fn htk(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Inverse of [`htk`], solved by hand: `f = 700·(10^(m/2595) − 1)`.
pub fn htk_inv(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Slaney mel, DSP.md §7: `3f/200` below 1 kHz, `15 + ln(f/1000)/(ln 6.4/27)` above.
pub fn slaney(hz: f64) -> f64 {
    if hz < 1000.0 {
        3.0 * hz / 200.0
    } else {
        15.0 + (hz / 1000.0).ln() / (6.4f64.ln() / 27.0)
    }
}

/// Inverse of [`slaney`], solved by hand.
pub fn slaney_inv(mel: f64) -> f64 {
    if mel < 15.0 {
        200.0 * mel / 3.0
    } else {
        1000.0 * ((mel - 15.0) * 6.4f64.ln() / 27.0).exp()
    }
}

/// Position of `hz` in the axis' warped units, from the formulas above.
pub fn warp(scale: hopscope::render::freqmap::FreqScale, hz: f64) -> f64 {
    use hopscope::render::freqmap::FreqScale;
    match scale {
        FreqScale::Linear => hz,
        FreqScale::Log => hz.ln(),
        FreqScale::MelHtk => htk(hz),
        FreqScale::MelSlaney => slaney(hz),
    }
}

/// Inverse of [`warp`].
pub fn unwarp(scale: hopscope::render::freqmap::FreqScale, v: f64) -> f64 {
    use hopscope::render::freqmap::FreqScale;
    match scale {
        FreqScale::Linear => v,
        FreqScale::Log => v.exp(),
        FreqScale::MelHtk => htk_inv(v),
        FreqScale::MelSlaney => slaney_inv(v),
    }
}
