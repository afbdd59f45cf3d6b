//! The window's view state and what each action does to it (pure, testable).

use crate::config::pane::{MelView, PaneSettings, PaneSpec, DEFAULT_COMPARE};
use crate::dsp::frontend::FrontendSpec;
use crate::dsp::mel::MelScale;
use crate::dsp::stft::{StftParams, MAX_FFT_SIZE, MIN_FFT_SIZE};
use crate::render::colormap::{ColormapKind, DbRange};
use crate::render::freqmap::FreqAxis;

use super::keys::Action;

/// dB step of the floor and ceiling keys.
pub const DB_STEP: f32 = 5.0;

/// A front-end pane's colour-range step, as a fraction of its `display_range` span.
pub const FRONTEND_RANGE_STEP: f32 = 0.1;
/// The spans `,` and `.` step through: the time one screen shows, ms.
pub const SPANS_MS: [u32; 7] = [1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000];
/// The span a window starts with unless `--span` says otherwise, ms.
pub const DEFAULT_SPAN_MS: u32 = 10_000;

/// What the window must do after an action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Effect {
    /// Nothing changed.
    None,
    /// Send these STFT parameters to the analysis thread.
    Params(StftParams),
    /// Re-colour the history (colormap or dB range).
    Recolor,
    /// The frequency axis (or the mel view) of the focused pane changed: ask for its
    /// columns on the new axis.
    Remap,
    /// The time a screen spans changed: ask for every pane's columns on the new span.
    Regrid,
    /// The set of panes changed (Tab): rebuild every pane and send the analysis the set.
    Panes,
    /// Something only the overlay shows changed.
    Redraw,
    /// Save a screenshot.
    Screenshot,
    /// Save a snapshot folder.
    Snapshot,
    /// Export the parameters (a front-end pane: the front-end's JSON).
    Export,
    /// The focused pane's front-end changed (N): send it to the analysis and ask for
    /// the pane's columns on its band axis.
    Frontend,
    /// Start a suggestion.
    Suggest,
    /// Quit.
    Quit,
}

/// Everything the user can change in the window.
///
/// Each pane's own settings (STFT parameters, axis, mel view) live in `panes` and only
/// there; every key acts on the focused one ([`ViewState::focused`],
/// [`ViewState::focused_mut`]).
///
/// Thread: UI.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// What M turns on (`--mel N`, `--mel-scale`, `--mel-norm`).
    pub mel_default: MelView,
    /// Every pane's settings, top to bottom; never empty.
    pub panes: Vec<PaneSettings>,
    /// The focused pane (an index into `panes`).
    pub focus: usize,
    /// Tab's pane set (`--compare`; empty: [`DEFAULT_COMPARE`]).
    pub compare: Vec<PaneSpec>,
    /// Colormap.
    pub colormap: ColormapKind,
    /// dB range.
    pub range: DbRange,
    /// Time one screen spans, ms (whatever the hop).
    pub span_ms: u32,
    /// Display paused.
    pub paused: bool,
    /// Help overlay shown.
    pub help: bool,
    /// HUD shown.
    pub hud: bool,
    /// The latency panel shown (a part of the HUD's box: only with `hud`).
    pub latency_panel: bool,
    /// Re-render the visible history when parameters or the axis change.
    pub rerender: bool,
    /// The last suggestion (`G`), applied by `A`.
    pub suggestion: Option<StftParams>,
    /// While the panes are split by Tab: the pane the user had before, and the first
    /// split pane as Tab made it (Tab back restores the former while the latter is
    /// focused and untouched).
    pub before_split: Option<(PaneSettings, PaneSettings)>,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
    /// What N cycles after `off` (the built-ins, then `--frontend`'s own JSON).
    pub frontends: Vec<&'static FrontendSpec>,
    /// `[ ] - =` on a front-end pane: its colour range's floor and ceiling moved by
    /// these fractions of its `display_range` span (in [`FRONTEND_RANGE_STEP`] steps).
    pub frontend_shift: (f32, f32),
}

impl ViewState {
    /// The window's first state for `panes` (never empty) on a stream at
    /// `sample_rate_hz`: pane 0 focused, Tab's default compare set, magma on the default
    /// dB range, the HUD and its latency panel on, re-rendering on, nothing paused.
    pub fn new(panes: Vec<PaneSettings>, sample_rate_hz: u32) -> ViewState {
        ViewState {
            mel_default: MelView::DEFAULT,
            panes,
            focus: 0,
            compare: Vec::new(),
            colormap: ColormapKind::Magma,
            range: DbRange::DEFAULT,
            span_ms: DEFAULT_SPAN_MS,
            paused: false,
            help: false,
            hud: true,
            latency_panel: true,
            rerender: true,
            suggestion: None,
            before_split: None,
            sample_rate_hz,
            frontends: crate::config::frontend::builtins().iter().collect(),
            frontend_shift: (0.0, 0.0),
        }
    }

    /// L: the latency panel on or off; with the HUD hidden, both shown.
    fn toggle_latency_panel(&mut self) -> Effect {
        if self.hud {
            self.latency_panel = !self.latency_panel;
        } else {
            (self.hud, self.latency_panel) = (true, true);
        }
        Effect::Redraw
    }

    /// Nyquist frequency of the stream.
    pub fn nyquist_hz(&self) -> f64 {
        self.sample_rate_hz as f64 / 2.0
    }

    /// Applies `action` to the focused pane or the shared view; returns what the window
    /// must do.
    pub fn apply(&mut self, action: Action) -> Effect {
        let p = self.focused().params;
        match action {
            Action::FftUp => self.set_fft_size((p.fft_size * 2).min(MAX_FFT_SIZE)),
            Action::FftDown => self.set_fft_size((p.fft_size / 2).max(MIN_FFT_SIZE)),
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
            Action::FreqScaleNext => self.next_freq_scale(),
            Action::ToggleMel => self.toggle_mel(),
            Action::FrontendNext => self.cycle_frontend(true),
            Action::FrontendPrev => self.cycle_frontend(false),
            Action::ToggleCompare => self.toggle_compare(),
            Action::Focus(n) => self.focus_pane(n),
            Action::ColormapNext => {
                self.colormap = self.colormap.next();
                Effect::Recolor
            }
            Action::FloorDown => self.shift_range(-DB_STEP, 0.0),
            Action::FloorUp => self.shift_range(DB_STEP, 0.0),
            Action::CeilingDown => self.shift_range(0.0, -DB_STEP),
            Action::CeilingUp => self.shift_range(0.0, DB_STEP),
            Action::RangeNarrow => self.zoom_axis(0.5),
            Action::RangeWiden => self.zoom_axis(2.0),
            Action::TimeCompress => self.step_span(true),
            Action::TimeStretch => self.step_span(false),
            Action::TogglePause => toggle(&mut self.paused),
            Action::Screenshot => Effect::Screenshot,
            Action::Snapshot => Effect::Snapshot,
            Action::Export => Effect::Export,
            Action::Suggest => Effect::Suggest,
            Action::ApplySuggestion => self.apply_suggestion(),
            Action::ToggleHelp => toggle(&mut self.help),
            Action::ToggleHud => toggle(&mut self.hud),
            Action::ToggleLatency => self.toggle_latency_panel(),
            Action::ToggleRerender => toggle(&mut self.rerender),
            Action::Quit => Effect::Quit,
        }
    }

    /// N / Shift+N: the focused pane's next / previous front-end in
    /// `off, frontends[0], …, frontends[n − 1]` (wraps).
    fn cycle_frontend(&mut self, forward: bool) -> Effect {
        let n = self.frontends.len();
        if n == 0 {
            return Effect::None;
        }
        let now = self.focused().frontend.and_then(|f| {
            self.frontends
                .iter()
                .position(|g| std::ptr::eq(*g, f) || *g == f)
        });
        // 0 is off, i + 1 is frontends[i].
        let at = now.map_or(0, |i| i + 1);
        let next = if forward {
            (at + 1) % (n + 1)
        } else {
            (at + n) % (n + 1)
        };
        let spec = next.checked_sub(1).map(|i| self.frontends[i]);
        self.focused_mut().frontend = spec;
        Effect::Frontend
    }

    /// The colour range of pane `i`: a front-end pane's own (its units), else the shared
    /// dB range.
    pub fn pane_range(&self, i: usize) -> DbRange {
        match self.panes.get(i).and_then(|p| p.frontend) {
            Some(f) => {
                let (lo, hi) = crate::render::frontend::display_range(f);
                let (a, b) = self.frontend_shift;
                DbRange {
                    floor_db: lo + a * (hi - lo),
                    ceiling_db: hi + b * (hi - lo),
                }
            }
            None => self.range,
        }
    }

    /// The focused pane's settings.
    pub fn focused(&self) -> PaneSettings {
        self.panes[self.focus]
    }

    /// The focused pane's settings, to change them.
    pub fn focused_mut(&mut self) -> &mut PaneSettings {
        &mut self.panes[self.focus]
    }

    /// Pane `i`'s settings.
    ///
    /// # Panics
    /// `i` is not a pane (`i >= pane_count()`).
    pub fn pane(&self, i: usize) -> PaneSettings {
        self.panes[i]
    }

    /// A reopened device came back at `sample_rate_hz`: every pane's frequency axis
    /// follows the new Nyquist frequency when it ended at the old one, and is cut to it
    /// when it ended above it. Returns whether anything changed.
    pub fn set_sample_rate(&mut self, sample_rate_hz: u32) -> bool {
        if sample_rate_hz == self.sample_rate_hz || sample_rate_hz == 0 {
            return false;
        }
        let (old, new) = (self.nyquist_hz(), f64::from(sample_rate_hz) / 2.0);
        let follow = |axis: &mut FreqAxis| {
            axis.fmax_hz = if (axis.fmax_hz - old).abs() < 1e-9 {
                new
            } else {
                axis.fmax_hz.min(new)
            };
            axis.fmin_hz = axis.fmin_hz.min(axis.fmax_hz - 1.0).max(0.0);
        };
        for pane in &mut self.panes {
            follow(&mut pane.axis);
        }
        if let Some((solo, first)) = &mut self.before_split {
            follow(&mut solo.axis);
            follow(&mut first.axis);
        }
        self.sample_rate_hz = sample_rate_hz;
        true
    }

    /// Number of panes.
    pub fn pane_count(&self) -> usize {
        self.panes.len()
    }

    /// n_fft of the focused pane becomes `fft_size`; win_length follows it (or is only
    /// clamped when set on its own), and the hop is clamped to win_length.
    fn set_fft_size(&mut self, fft_size: usize) -> Effect {
        let focused = self.focused();
        let p = focused.params;
        let win_length = if focused.win_follows {
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

    fn set_params(&mut self, params: StftParams) -> Effect {
        if params == self.focused().params || params.validate().is_err() {
            return Effect::None;
        }
        self.focused_mut().params = params;
        Effect::Params(params)
    }

    fn apply_suggestion(&mut self) -> Effect {
        match self.suggestion {
            Some(p) if p != self.focused().params && p.validate().is_ok() => {
                self.focused_mut().params = p;
                Effect::Params(p)
            }
            _ => Effect::None,
        }
    }

    /// F: the next frequency scale, or in the mel view the next formula (each with its
    /// library's norm).
    fn next_freq_scale(&mut self) -> Effect {
        let pane = self.focused_mut();
        match &mut pane.mel {
            Some(mel) => {
                mel.scale = match mel.scale {
                    MelScale::Slaney => MelScale::Htk,
                    MelScale::Htk => MelScale::Tf,
                    MelScale::Tf => MelScale::Slaney,
                }
            }
            None => pane.axis.scale = pane.axis.scale.next(),
        }
        Effect::Remap
    }

    fn toggle_mel(&mut self) -> Effect {
        let mel_default = self.mel_default;
        let pane = self.focused_mut();
        pane.mel = match pane.mel {
            Some(_) => None,
            None => Some(mel_default),
        };
        Effect::Remap
    }

    /// Tab: the compare panes split from the focused pane, focus on the first; Tab again:
    /// one pane, the one the user chose (focused elsewhere or changed), or else the pane
    /// they had before the split (Tab, Tab is a no-op).
    fn toggle_compare(&mut self) -> Effect {
        let focused = self.focused();
        if self.panes.len() > 1 {
            let pane = match self.before_split.take() {
                Some((solo, first)) if self.focus == 0 && focused == first => solo,
                _ => focused,
            };
            self.panes = vec![pane];
        } else {
            let default: Vec<PaneSpec>;
            let specs = if self.compare.is_empty() {
                default = DEFAULT_COMPARE
                    .iter()
                    .map(|w| PaneSpec {
                        window: Some(*w),
                        ..PaneSpec::default()
                    })
                    .collect();
                &default
            } else {
                &self.compare
            };
            self.panes = specs
                .iter()
                .map(|spec| spec.resolve(&focused, self.mel_default).unwrap_or(focused))
                .collect();
            self.before_split = Some((focused, self.panes[0]));
        }
        self.focus = 0;
        Effect::Panes
    }

    fn focus_pane(&mut self, n: usize) -> Effect {
        if n >= self.panes.len() || n == self.focus {
            return Effect::None;
        }
        self.focus = n;
        Effect::Redraw
    }

    /// Z / X: the focused pane's axis narrowed or widened by `factor` around its centre.
    fn zoom_axis(&mut self, factor: f64) -> Effect {
        let nyquist_hz = self.nyquist_hz();
        let axis = &mut self.focused_mut().axis;
        let zoomed = axis.zoomed(factor, nyquist_hz);
        if (zoomed.lo_hz(), zoomed.fmax_hz) == (axis.lo_hz(), axis.fmax_hz) {
            return Effect::None;
        }
        *axis = zoomed;
        Effect::Remap
    }

    /// `,` / `.`: the next longer (`longer`) or shorter span of [`SPANS_MS`] than the
    /// current one (which `--span` may have set between them).
    fn step_span(&mut self, longer: bool) -> Effect {
        let next = if longer {
            SPANS_MS.iter().copied().find(|&s| s > self.span_ms)
        } else {
            SPANS_MS.iter().rev().copied().find(|&s| s < self.span_ms)
        };
        let Some(span_ms) = next else {
            return Effect::None;
        };
        self.span_ms = span_ms;
        Effect::Regrid
    }

    fn shift_range(&mut self, floor_step_db: f32, ceiling_step_db: f32) -> Effect {
        if self.focused().frontend.is_some() {
            // A front-end's units: steps of a tenth of its own range, at least a tenth left.
            let step = FRONTEND_RANGE_STEP / DB_STEP;
            let (a, b) = (
                self.frontend_shift.0 + floor_step_db * step,
                self.frontend_shift.1 + ceiling_step_db * step,
            );
            if 1.0 + b - a < FRONTEND_RANGE_STEP - 1e-4 || a.abs() > 3.0 || b.abs() > 3.0 {
                return Effect::None;
            }
            self.frontend_shift = (a, b);
            return Effect::Recolor;
        }
        let floor_db = self.range.floor_db + floor_step_db;
        let ceiling_db = self.range.ceiling_db + ceiling_step_db;
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
        let focused = self.focused();
        let (p, axis) = (focused.params, focused.axis);
        // The focused pane's colour range: dB, or a front-end's own units (2 decimals).
        let r = self.pane_range(self.focus);
        let decimals = if focused.frontend.is_some() { 2 } else { 0 };
        format!(
            "n_fft={} win_length={} hop={} window={} scale={} fmin={:.0} fmax={:.0} colormap={} floor={:.decimals$} ceiling={:.decimals$} span_s={} paused={} rerender={} mel={} frontend={} pane={}/{}",
            p.fft_size,
            p.win_length,
            p.hop_size,
            p.window,
            axis.scale,
            axis.lo_hz(),
            axis.fmax_hz,
            self.colormap,
            r.floor_db,
            r.ceiling_db,
            f64::from(self.span_ms) / 1000.0,
            self.paused,
            if self.rerender { "on" } else { "off" },
            focused
                .mel
                .map_or("off".to_string(), |m| m.label().replace(' ', "-")),
            focused.frontend.map_or("off", |f| f.name.as_str()),
            self.focus + 1,
            self.pane_count()
        )
    }
}

/// Flips `flag`; only the overlay shows it.
fn toggle(flag: &mut bool) -> Effect {
    *flag = !*flag;
    Effect::Redraw
}
