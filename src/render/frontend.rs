//! How a model front-end's values are shown (live panes, `render --frontend`): its own
//! units, or `10·log10` of them for a front-end without a log, so that linear |X| and
//! mel power are coloured on a log scale.
//!
//! Thread: any (pure functions).

use crate::dsp::frontend::FrontendSpec;

/// The smallest linear value shown on a log colour scale.
pub const LINEAR_FLOOR: f32 = 1e-30;

/// The colour range of a front-end's values as shown: its `display_range`, in
/// `10·log10` for a front-end without a log (see the module documentation).
pub fn display_range(spec: &FrontendSpec) -> (f32, f32) {
    let (lo, hi) = spec.display_range;
    if spec.log.is_none() {
        (log_colour(lo), log_colour(hi))
    } else {
        (lo, hi)
    }
}

/// The unit under the colour bar (at most 8 characters; the HUD spells out the
/// spec's `units`): `log10/4` Whisper's scaled log10, `ln mel` YAMNet's natural-log mel,
/// `ln sc` a scaled ln (AST), `dB mel` keras, `dB lin` a linear front-end shown in
/// `10·log10`.
pub fn display_unit(spec: &FrontendSpec) -> &'static str {
    use crate::dsp::frontend::LogFunc;
    match (
        spec.log.map(|l| l.func),
        spec.affine.is_some(),
        spec.mel.is_some(),
    ) {
        (None, _, _) => "dB lin",
        (Some(LogFunc::Log10), true, _) => "log10 sc",
        (Some(LogFunc::Log10), false, _) => "log10",
        (Some(LogFunc::Ln), true, _) => "ln sc",
        (Some(LogFunc::Ln), false, true) => "ln mel",
        (Some(LogFunc::Ln), false, false) => "ln",
        (Some(LogFunc::Db10), _, _) => "dB mel",
    }
}

/// A value as shown: itself, or [`log_colour`] of it for a front-end without a log.
pub fn display_value(spec: &FrontendSpec, v: f32) -> f32 {
    if spec.log.is_none() {
        log_colour(v)
    } else {
        v
    }
}

/// A linear value on the log colour scale: `10·log10(max(v, LINEAR_FLOOR))`.
pub fn log_colour(v: f32) -> f32 {
    10.0 * v.max(LINEAR_FLOOR).log10()
}
