//! The window's view state and what each action does to it (pure, testable).

use crate::dsp::stft::{StftParams, MAX_FFT_SIZE, MIN_FFT_SIZE};
use crate::render::colormap::{ColormapKind, DbRange};
use crate::render::freqmap::FreqAxis;

use super::keys::Action;

/// dB step of the floor and ceiling keys.
pub const DB_STEP: f32 = 5.0;
/// Time zoom range: columns per row = 2^zoom (negative: rows per column = 2^−zoom).
pub const ZOOM_RANGE: std::ops::RangeInclusive<i32> = -4..=4;

/// What the window must do after an action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Effect {
    /// Nothing changed.
    None,
    /// Send these STFT parameters to the analysis thread.
    Params(StftParams),
    /// Re-colour the history (colormap or dB range).
    Recolor,
    /// The frequency axis changed: rebuild the column map.
    Remap,
    /// Something only the overlay shows changed.
    Redraw,
    /// Save a screenshot.
    Screenshot,
    /// Save a snapshot folder.
    Snapshot,
    /// Export the parameters.
    Export,
    /// Start a suggestion.
    Suggest,
    /// Quit.
    Quit,
}

/// Everything the user can change in the window.
///
/// Thread: UI.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// Current STFT parameters (what the analysis was last asked for).
    pub params: StftParams,
    /// Whether win_length follows n_fft (not set on its own with --win-length).
    pub win_follows: bool,
    /// Frequency axis.
    pub axis: FreqAxis,
    /// Colormap.
    pub colormap: ColormapKind,
    /// dB range.
    pub range: DbRange,
    /// Time zoom exponent.
    pub zoom: i32,
    /// Display paused.
    pub paused: bool,
    /// Help overlay shown.
    pub help: bool,
    /// HUD shown.
    pub hud: bool,
    /// Re-render the visible history when parameters or the axis change.
    pub rerender: bool,
    /// The last suggestion (`G`), applied by `A`.
    pub suggestion: Option<StftParams>,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
}

impl ViewState {
    /// Nyquist frequency of the stream.
    pub fn nyquist_hz(&self) -> f64 {
        self.sample_rate_hz as f64 / 2.0
    }

    /// Applies `action`; returns what the window must do.
    pub fn apply(&mut self, action: Action) -> Effect {
        let p = self.params;
        match action {
            Action::FftUp | Action::FftDown => {
                let fft_size = if action == Action::FftUp {
                    (p.fft_size * 2).min(MAX_FFT_SIZE)
                } else {
                    (p.fft_size / 2).max(MIN_FFT_SIZE)
                };
                let win_length = if self.win_follows {
                    fft_size
                } else {
                    p.win_length.min(fft_size)
                };
                self.set_params(StftParams {
                    fft_size,
                    win_length,
                    hop_size: p.hop_size.min(win_length),
                    ..p
                })
            }
            Action::HopDown => self.set_params(StftParams {
                hop_size: (p.hop_size / 2).max(1),
                ..p
            }),
            Action::HopUp => self.set_params(StftParams {
                hop_size: (p.hop_size * 2).min(p.win_length),
                ..p
            }),
            Action::WindowNext => self.set_params(StftParams {
                window: p.window.next(),
                ..p
            }),
            Action::WindowPrev => self.set_params(StftParams {
                window: p.window.prev(),
                ..p
            }),
            Action::FreqScaleNext => {
                self.axis.scale = self.axis.scale.next();
                Effect::Remap
            }
            Action::ColormapNext => {
                self.colormap = self.colormap.next();
                Effect::Recolor
            }
            Action::FloorDown => {
                self.set_range(self.range.floor_db - DB_STEP, self.range.ceiling_db)
            }
            Action::FloorUp => self.set_range(self.range.floor_db + DB_STEP, self.range.ceiling_db),
            Action::CeilingDown => {
                self.set_range(self.range.floor_db, self.range.ceiling_db - DB_STEP)
            }
            Action::CeilingUp => {
                self.set_range(self.range.floor_db, self.range.ceiling_db + DB_STEP)
            }
            Action::RangeNarrow | Action::RangeWiden => {
                let factor = if action == Action::RangeNarrow {
                    0.5
                } else {
                    2.0
                };
                let zoomed = self.axis.zoomed(factor, self.nyquist_hz());
                if (zoomed.lo_hz(), zoomed.fmax_hz) == (self.axis.lo_hz(), self.axis.fmax_hz) {
                    return Effect::None;
                }
                self.axis = zoomed;
                Effect::Remap
            }
            Action::TimeCompress | Action::TimeStretch => {
                let z = self.zoom + if action == Action::TimeStretch { 1 } else { -1 };
                if !ZOOM_RANGE.contains(&z) {
                    return Effect::None;
                }
                self.zoom = z;
                Effect::Redraw
            }
            Action::TogglePause => {
                self.paused = !self.paused;
                Effect::Redraw
            }
            Action::Screenshot => Effect::Screenshot,
            Action::Snapshot => Effect::Snapshot,
            Action::Export => Effect::Export,
            Action::Suggest => Effect::Suggest,
            Action::ApplySuggestion => match self.suggestion {
                Some(p) if p != self.params && p.validate().is_ok() => {
                    self.params = p;
                    Effect::Params(p)
                }
                _ => Effect::None,
            },
            Action::ToggleHelp => {
                self.help = !self.help;
                Effect::Redraw
            }
            Action::ToggleHud => {
                self.hud = !self.hud;
                Effect::Redraw
            }
            Action::ToggleRerender => {
                self.rerender = !self.rerender;
                Effect::Redraw
            }
            Action::Quit => Effect::Quit,
        }
    }

    fn set_params(&mut self, params: StftParams) -> Effect {
        if params == self.params || params.validate().is_err() {
            return Effect::None;
        }
        self.params = params;
        Effect::Params(params)
    }

    fn set_range(&mut self, floor_db: f32, ceiling_db: f32) -> Effect {
        if ceiling_db - floor_db < DB_STEP || floor_db < -200.0 || ceiling_db > 60.0 {
            return Effect::None;
        }
        self.range = DbRange {
            floor_db,
            ceiling_db,
        };
        Effect::Recolor
    }

    /// The one-line status printed on stdout after every change.
    pub fn status_line(&self) -> String {
        let p = self.params;
        format!(
            "n_fft={} win_length={} hop={} window={} scale={} fmin={:.0} fmax={:.0} colormap={} floor={:.0} ceiling={:.0} zoom={} paused={} rerender={}",
            p.fft_size,
            p.win_length,
            p.hop_size,
            p.window,
            self.axis.scale,
            self.axis.lo_hz(),
            self.axis.fmax_hz,
            self.colormap,
            self.range.floor_db,
            self.range.ceiling_db,
            self.zoom,
            self.paused,
            if self.rerender { "on" } else { "off" }
        )
    }
}
