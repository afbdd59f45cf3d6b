//! What one pane shows: its STFT parameters, frequency axis and mel view
//! ([`PaneSettings`]), and the `--compare` specs that set them ([`PaneSpec`]). Shared by
//! the validated configuration and the window's view state.

use crate::analysis::message::MAX_PANES;
use crate::dsp::frontend::FrontendSpec;
use crate::dsp::mel::{MelNorm, MelScale, MelSpec};
use crate::dsp::stft::StftParams;
use crate::dsp::window::WindowKind;
use crate::render::freqmap::{FreqAxis, FreqScale};

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
    /// The model front-end the pane shows instead of its STFT (`--frontend`, N,
    /// `--compare "frontend=NAME"`), if any.
    pub frontend: Option<&'static FrontendSpec>,
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
    /// `frontend=NAME|PATH.json` (`off`: none).
    pub frontend: Option<&'static FrontendSpec>,
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
            frontend: self.frontend,
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
                "frontend" => {
                    let spec_of = crate::config::frontend::resolve_static;
                    spec.frontend = Some(
                        spec_of(value.trim(), "--compare frontend").map_err(|e| e.to_string())?,
                    );
                }
                other => {
                    return Err(format!(
                    "unknown key '{other}': expected window, n_fft, win_length, hop, scale, mel or frontend"
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
