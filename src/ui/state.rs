//! The window's view state and what each action does to it (pure, testable).

use crate::analysis::message::MAX_PANES;
use crate::dsp::mel::{MelNorm, MelScale, MelSpec};
use crate::dsp::stft::{StftParams, MAX_FFT_SIZE, MIN_FFT_SIZE};
use crate::dsp::window::WindowKind;
use crate::render::colormap::{ColormapKind, DbRange};
use crate::render::freqmap::{FreqAxis, FreqScale};

use super::keys::Action;

/// dB step of the floor and ceiling keys.
pub const DB_STEP: f32 = 5.0;
/// Time zoom range: columns per row = 2^zoom (negative: rows per column = 2^−zoom).
pub const ZOOM_RANGE: std::ops::RangeInclusive<i32> = -4..=4;
/// Largest zoom of a pane whose hop is longer than another pane's (columns per row =
/// 2^this at most).
pub const MAX_PANE_ZOOM: i32 = 8;

/// What the window must do after an action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Effect {
    /// Nothing changed.
    None,
    /// Send these STFT parameters to the analysis thread.
    Params(StftParams),
    /// Re-colour the history (colormap or dB range).
    Recolor,
    /// The frequency axis (or the mel view) of the focused pane changed: rebuild its
    /// column map.
    Remap,
    /// The set of panes changed (Tab): rebuild every pane and send the analysis the set.
    Panes,
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

/// The mel view of a pane: N bands of the mel-weighted calibrated bin powers, in dB
/// (what `hopscope analyze --mel N --scale db` writes), between the pane's axis edges.
///
/// Thread: UI (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MelView {
    /// Bands.
    pub n_mels: usize,
    /// Formula and filterbank.
    pub scale: MelScale,
    /// Band normalisation (`None`: the library's own default for `scale`).
    pub norm: Option<MelNorm>,
}

impl MelView {
    /// What M shows without `--mel`: librosa's defaults (128 Slaney bands, Slaney norm).
    pub const DEFAULT: MelView = MelView {
        n_mels: 128,
        scale: MelScale::Slaney,
        norm: None,
    };

    /// The filterbank spec over `axis`'s edges.
    pub fn spec(&self, axis: &FreqAxis) -> MelSpec {
        MelSpec {
            n_mels: self.n_mels,
            fmin_hz: axis.fmin_hz,
            fmax_hz: axis.fmax_hz,
            scale: self.scale,
            norm: self.norm.unwrap_or(match self.scale {
                MelScale::Slaney => MelNorm::Slaney,
                MelScale::Htk | MelScale::Tf => MelNorm::None,
            }),
        }
    }

    /// Short name: `128 slaney`.
    pub fn label(&self) -> String {
        format!("{} {}", self.n_mels, self.scale)
    }
}

/// One pane's own settings (each compare pane has its own).
///
/// Thread: UI (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaneSettings {
    /// STFT parameters.
    pub params: StftParams,
    /// Whether win_length follows n_fft.
    pub win_follows: bool,
    /// Frequency axis (the mel bands' edges in the mel view).
    pub axis: FreqAxis,
    /// The mel view, when on.
    pub mel: Option<MelView>,
}

/// One `--compare` pane: what it sets; everything else comes from the pane Tab splits
/// (so `window=blackman` compares windows at the current n_fft and hop).
///
/// Thread: UI (plain data).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PaneSpec {
    /// `window=NAME`.
    pub window: Option<WindowKind>,
    /// `n_fft=N`.
    pub fft_size: Option<usize>,
    /// `win_length=N` (or `win=N`).
    pub win_length: Option<usize>,
    /// `hop=N`.
    pub hop_size: Option<usize>,
    /// `scale=linear|log|mel|mel-slaney`.
    pub freq_scale: Option<FreqScale>,
    /// `mel=N` (0: off).
    pub mel: Option<usize>,
}

/// Tab's panes without `--compare`: these windows at the current n_fft and hop.
pub const DEFAULT_COMPARE: [WindowKind; 3] =
    [WindowKind::Hamming, WindowKind::Hann, WindowKind::Blackman];

impl PaneSpec {
    /// Parses `SPEC;SPEC[;SPEC[;SPEC]]`, each `key=value[,key=value…]` with keys window,
    /// n_fft, win_length (win), hop, scale, mel.
    ///
    /// # Errors
    /// Fewer than 2 or more than [`MAX_PANES`] panes, an unknown key, a bad value.
    pub fn parse_list(text: &str) -> Result<Vec<PaneSpec>, String> {
        let specs = text
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
            .map(|(i, s)| {
                s.parse::<PaneSpec>()
                    .map_err(|e| format!("pane {}: {e}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(2..=MAX_PANES).contains(&specs.len()) {
            return Err(format!(
                "{} pane(s) given: expected 2 to {MAX_PANES} specs separated by ';'",
                specs.len()
            ));
        }
        Ok(specs)
    }

    /// This pane's settings, the unset ones taken from `base` (n_fft alone moves a
    /// following win_length with it; win_length and hop shrink to fit).
    ///
    /// # Errors
    /// The set values cannot go together (e.g. win_length > n_fft).
    pub fn resolve(
        &self,
        base: &PaneSettings,
        mel_default: MelView,
    ) -> Result<PaneSettings, String> {
        let b = base.params;
        let fft_size = self.fft_size.unwrap_or(b.fft_size);
        let win_follows = self.win_length.is_none() && base.win_follows;
        let win_length = match self.win_length {
            Some(w) => w,
            None if win_follows => fft_size,
            None => b.win_length.min(fft_size),
        };
        let hop_size = self.hop_size.unwrap_or(b.hop_size.min(win_length));
        let params = StftParams {
            fft_size,
            win_length,
            hop_size,
            window: self.window.unwrap_or(b.window),
        };
        params.validate()?;
        let mut axis = base.axis;
        if let Some(scale) = self.freq_scale {
            axis.scale = scale;
        }
        let mel = match self.mel {
            None => base.mel,
            Some(0) => None,
            Some(n) => Some(MelView {
                n_mels: n,
                ..base.mel.unwrap_or(mel_default)
            }),
        };
        Ok(PaneSettings {
            params,
            win_follows,
            axis,
            mel,
        })
    }
}

impl std::str::FromStr for PaneSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut spec = PaneSpec::default();
        for field in text.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("'{field}' is not key=value"))?;
            let number = || {
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("{key}: '{value}' is not a whole number"))
            };
            match key.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "window" => spec.window = Some(value.trim().parse()?),
                "n_fft" | "nfft" => spec.fft_size = Some(number()?),
                "win_length" | "win" => spec.win_length = Some(number()?),
                "hop" | "hop_length" => spec.hop_size = Some(number()?),
                "scale" | "freq_scale" => spec.freq_scale = Some(value.trim().parse()?),
                "mel" => spec.mel = Some(number()?),
                other => {
                    return Err(format!(
                    "unknown key '{other}': expected window, n_fft, win_length, hop, scale or mel"
                ))
                }
            }
        }
        if spec == PaneSpec::default() {
            return Err("an empty pane spec".into());
        }
        Ok(spec)
    }
}

/// Everything the user can change in the window.
///
/// The focused pane's settings live in `params`, `win_follows`, `axis` and `mel`, so every
/// key acts on it; the other panes' are parked in `panes` (see [`ViewState::pane`]).
///
/// Thread: UI.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// Current STFT parameters of the focused pane (what the analysis was last asked for).
    pub params: StftParams,
    /// Whether win_length follows n_fft (not set on its own with --win-length).
    pub win_follows: bool,
    /// Frequency axis of the focused pane.
    pub axis: FreqAxis,
    /// The focused pane's mel view, when on.
    pub mel: Option<MelView>,
    /// What M turns on (`--mel N`, `--mel-scale`, `--mel-norm`).
    pub mel_default: MelView,
    /// Every pane's settings (one entry per pane; the focused one's entry is stale).
    pub panes: Vec<PaneSettings>,
    /// The focused pane.
    pub focus: usize,
    /// Tab's pane set (`--compare`; empty: [`DEFAULT_COMPARE`]).
    pub compare: Vec<PaneSpec>,
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
                match &mut self.mel {
                    // The mel view: the next formula (each with its library's norm).
                    Some(mel) => {
                        mel.scale = match mel.scale {
                            MelScale::Slaney => MelScale::Htk,
                            MelScale::Htk => MelScale::Tf,
                            MelScale::Tf => MelScale::Slaney,
                        }
                    }
                    None => self.axis.scale = self.axis.scale.next(),
                }
                Effect::Remap
            }
            Action::ToggleMel => {
                self.mel = match self.mel {
                    Some(_) => None,
                    None => Some(self.mel_default),
                };
                Effect::Remap
            }
            Action::ToggleCompare => {
                let focused = self.focused();
                if self.panes.len() > 1 {
                    self.panes = vec![focused];
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
                }
                self.focus = 0;
                self.load(0);
                Effect::Panes
            }
            Action::Focus(n) => {
                if n >= self.panes.len() || n == self.focus {
                    return Effect::None;
                }
                self.panes[self.focus] = self.focused();
                self.focus = n;
                self.load(n);
                Effect::Redraw
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

    /// The focused pane's settings.
    pub fn focused(&self) -> PaneSettings {
        PaneSettings {
            params: self.params,
            win_follows: self.win_follows,
            axis: self.axis,
            mel: self.mel,
        }
    }

    /// Pane `i`'s settings (the focused one's are current).
    pub fn pane(&self, i: usize) -> PaneSettings {
        if i == self.focus {
            self.focused()
        } else {
            self.panes[i]
        }
    }

    /// Pane `i`'s time zoom: [`ViewState::zoom`] plus log2 of its hop over the smallest
    /// hop (rounded), so that panes of different hops share one time axis (exactly when
    /// the hops are powers of two apart). At most [`MAX_PANE_ZOOM`].
    pub fn pane_zoom(&self, i: usize) -> i32 {
        let min_hop = (0..self.pane_count())
            .map(|j| self.pane(j).params.hop_size)
            .min()
            .unwrap_or(1)
            .max(1);
        let ratio = self.pane(i).params.hop_size as f64 / min_hop as f64;
        (self.zoom + ratio.log2().round() as i32).min(MAX_PANE_ZOOM)
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
        follow(&mut self.axis);
        for pane in &mut self.panes {
            follow(&mut pane.axis);
        }
        self.sample_rate_hz = sample_rate_hz;
        true
    }

    /// Number of panes.
    pub fn pane_count(&self) -> usize {
        self.panes.len().max(1)
    }

    fn load(&mut self, i: usize) {
        let p = self.panes[i];
        self.params = p.params;
        self.win_follows = p.win_follows;
        self.axis = p.axis;
        self.mel = p.mel;
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
            "n_fft={} win_length={} hop={} window={} scale={} fmin={:.0} fmax={:.0} colormap={} floor={:.0} ceiling={:.0} zoom={} paused={} rerender={} mel={} pane={}/{}",
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
            if self.rerender { "on" } else { "off" },
            self.mel
                .map_or("off".to_string(), |m| m.label().replace(' ', "-")),
            self.focus + 1,
            self.pane_count()
        )
    }
}
