//! A front-end as a JSON file: the export format (`spectrogram-export/1`, the keys E and
//! `--export` write, librosa's names where librosa has one) with a `frontend` section for
//! what a plain spectrogram export does not have (pre-processing, framing, log, clamp,
//! scaling, the model's input). `hopscope frontends NAME --json` writes a built-in this
//! way; `--frontend PATH.json` reads one back, the user's own included.
//!
//! Coefficients are exact: the window as `coefficients_f64`, the mel matrix as
//! `weights_f64` (f64 text that parses back to the same bits).
//!
//! Thread: main. Allocates: yes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dsp::frontend::{
    Affine, ClampSpec, Framing, FrontendSpec, LogFunc, LogSpec, MelMatrix, ModelInput, Pad,
    Preemphasis, Spectrum, Triangles,
};
use crate::dsp::mel::MelScale;
use crate::error::Result;

/// The `schema` of every export, front-ends included.
pub const SCHEMA: &str = "spectrogram-export/1";

/// The file (see the module documentation).
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontendFile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// `hopscope VERSION`.
    #[serde(default)]
    pub generator: String,
    /// Hz: the rate the model expects.
    pub sample_rate: u32,
    /// FFT size.
    pub n_fft: usize,
    /// Window length.
    pub win_length: usize,
    /// Hop, samples.
    pub hop_length: usize,
    /// The window.
    pub window: FileWindow,
    /// Centred frames (torch/librosa `center=True`).
    pub center: bool,
    /// `reflect` or `constant` (centred frames' padding).
    pub pad_mode: String,
    /// `|X|` (1.0) or `|X|²` (2.0) into the mel matrix.
    pub power: f64,
    /// The mel stage (`{"enabled": false}` without).
    #[serde(with = "super::json::enabled")]
    pub mel: Option<FileMel>,
    /// Everything else.
    pub frontend: FileFrontend,
    /// How frames are cut, in words (written, not read).
    #[serde(default)]
    pub framing: String,
    /// Array layout of `analyze`'s .npy (written, not read).
    #[serde(default)]
    pub layout: String,
}

/// `window`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileWindow {
    /// In words, e.g. `povey (symmetric hann ^ 0.85)`.
    pub name: String,
    /// The `win_length` coefficients.
    pub coefficients_f64: Vec<f64>,
}

/// `mel` when enabled (`{"enabled": false}` without a mel stage).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileMel {
    /// Bands.
    pub n_mels: usize,
    /// Lower edge, Hz.
    pub fmin: f64,
    /// Upper edge, Hz.
    pub fmax: f64,
    /// `slaney`, `htk` or `tf_htk_1127_ln` (for band centres).
    pub scale: String,
    /// `slaney` or null.
    #[serde(default)]
    pub norm: Option<String>,
    /// `hz`, `mel` or `fft_bins`.
    pub triangles: String,
    /// `n_mels` rows of `n_fft/2 + 1` weights.
    pub weights_f64: Vec<Vec<f64>>,
}

/// `frontend`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileFrontend {
    /// Name.
    pub name: String,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// The reference it matches.
    #[serde(default)]
    pub reference: String,
    /// The waveform's scale (1: floats in ±1).
    pub waveform_scale: f64,
    /// `{"coefficient": 0.97, "per": "frame"|"signal"}` or null.
    pub preemphasis: Option<FilePreemphasis>,
    /// Per-frame DC removal.
    pub remove_dc: bool,
    /// `center`, `valid` or `pad_end`.
    pub framing: String,
    /// Whisper's dropped last frame.
    pub drop_last_frame: bool,
    /// Multiplies the spectrum.
    pub spectrum_scale: f64,
    /// `func(max(x + offset, floor))`, or null.
    pub log: Option<FileLog>,
    /// `max(v, max − below_max)`, or null.
    pub clamp: Option<FileClamp>,
    /// `(v + add)/div`, or null.
    pub affine: Option<FileAffine>,
    /// The model's input, or null.
    pub model_input: Option<FileModelInput>,
    /// What the values are.
    pub units: String,
    /// The colour bar's default range.
    pub display_range: [f32; 2],
}

/// `frontend.preemphasis`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilePreemphasis {
    /// `c` of `x[i] − c·x[i−1]`.
    pub coefficient: f64,
    /// `frame` (Kaldi) or `signal` (python_speech_features).
    pub per: String,
}

/// `frontend.log`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileLog {
    /// `ln`, `log10` or `10log10`.
    pub func: String,
    /// Added before the floor.
    pub offset: f64,
    /// `max(x + offset, floor)`.
    pub floor: f64,
    /// dB reference (`10log10` only).
    #[serde(rename = "ref", default = "one")]
    pub reference: f64,
}

fn one() -> f64 {
    1.0
}

/// `frontend.clamp`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileClamp {
    /// How far below the maximum.
    pub below_max: f64,
    /// The live span, seconds (offline: the whole input).
    pub live_span_s: f64,
}

/// `frontend.affine`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileAffine {
    /// Added.
    pub add: f64,
    /// Divided by.
    pub div: f64,
}

/// `frontend.model_input`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileModelInput {
    /// Frames per input.
    pub frames: usize,
    /// Frames between inputs.
    pub hop_frames: usize,
    /// In words.
    pub text: String,
}

impl FrontendFile {
    /// The file of `spec`.
    pub fn of(spec: &FrontendSpec) -> FrontendFile {
        let (center, pad_mode, framing) = match spec.framing {
            Framing::Center { pad } => (
                true,
                match pad {
                    Pad::Reflect => "reflect",
                    Pad::Constant => "constant",
                },
                "center",
            ),
            Framing::Valid => (false, "constant", "valid"),
            Framing::PadEnd => (false, "constant", "pad_end"),
        };
        let mel = file_mel(spec);
        FrontendFile {
            schema: SCHEMA.into(),
            generator: format!("hopscope {}", env!("CARGO_PKG_VERSION")),
            sample_rate: spec.sample_rate_hz,
            n_fft: spec.n_fft,
            win_length: spec.win_length,
            hop_length: spec.hop,
            window: FileWindow {
                name: spec.window_name.clone(),
                coefficients_f64: spec.window.clone(),
            },
            center,
            pad_mode: pad_mode.into(),
            power: match spec.spectrum {
                Spectrum::Magnitude => 1.0,
                Spectrum::Power => 2.0,
            },
            mel,
            frontend: FileFrontend {
                name: spec.name.clone(),
                description: spec.description.clone(),
                reference: spec.reference.clone(),
                waveform_scale: spec.waveform_scale,
                preemphasis: spec.preemphasis.map(|p| match p {
                    Preemphasis::Frame(c) => FilePreemphasis {
                        coefficient: c,
                        per: "frame".into(),
                    },
                    Preemphasis::Signal(c) => FilePreemphasis {
                        coefficient: c,
                        per: "signal".into(),
                    },
                }),
                remove_dc: spec.remove_dc,
                framing: framing.into(),
                drop_last_frame: spec.drop_last_frame,
                spectrum_scale: spec.spectrum_scale,
                log: spec.log.map(|l| FileLog {
                    func: match l.func {
                        LogFunc::Ln => "ln",
                        LogFunc::Log10 => "log10",
                        LogFunc::Db10 => "10log10",
                    }
                    .into(),
                    offset: l.offset,
                    floor: l.floor,
                    reference: l.reference,
                }),
                clamp: spec.clamp.map(|c| FileClamp {
                    below_max: c.below_max,
                    live_span_s: c.live_span_s,
                }),
                affine: spec.affine.map(|a| FileAffine {
                    add: a.add,
                    div: a.div,
                }),
                model_input: spec.model_input.as_ref().map(|m| FileModelInput {
                    frames: m.frames,
                    hop_frames: m.hop_frames,
                    text: m.text.clone(),
                }),
                units: spec.units.clone(),
                display_range: [spec.display_range.0, spec.display_range.1],
            },
            framing: framing_text(spec),
            layout: "[frames, bands] float32, C order (hopscope analyze --frontend .npy)".into(),
        }
    }

    /// The JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data with string keys")
    }

    /// The spec it describes, checked.
    ///
    /// # Errors
    /// A key's value is unknown or inconsistent with another (`(key, message)`).
    pub fn spec(&self) -> std::result::Result<FrontendSpec, (&'static str, String)> {
        if self.schema != SCHEMA {
            return Err(("schema", format!("'{}': expected '{SCHEMA}'", self.schema)));
        }
        let f = &self.frontend;
        let pad = match self.pad_mode.as_str() {
            "reflect" => Pad::Reflect,
            "constant" => Pad::Constant,
            other => {
                return Err((
                    "pad_mode",
                    format!("'{other}': expected reflect or constant"),
                ))
            }
        };
        let framing = match (f.framing.as_str(), self.center) {
            ("center", true) => Framing::Center { pad },
            ("valid", false) => Framing::Valid,
            ("pad_end", false) => Framing::PadEnd,
            (other, center) => {
                return Err((
                    "frontend.framing",
                    format!("'{other}' with center {center}: expected center (center true), valid or pad_end (center false)"),
                ))
            }
        };
        let spectrum = if self.power == 1.0 {
            Spectrum::Magnitude
        } else if self.power == 2.0 {
            Spectrum::Power
        } else {
            return Err(("power", format!("{}: expected 1.0 or 2.0", self.power)));
        };
        let preemphasis = match &f.preemphasis {
            None => None,
            Some(p) if p.per == "frame" => Some(Preemphasis::Frame(p.coefficient)),
            Some(p) if p.per == "signal" => Some(Preemphasis::Signal(p.coefficient)),
            Some(p) => {
                return Err((
                    "frontend.preemphasis.per",
                    format!("'{}': expected frame or signal", p.per),
                ))
            }
        };
        let log = f.log.as_ref().map(parse_log).transpose()?;
        let spec = FrontendSpec {
            name: f.name.clone(),
            description: f.description.clone(),
            reference: f.reference.clone(),
            sample_rate_hz: self.sample_rate,
            n_fft: self.n_fft,
            win_length: self.win_length,
            hop: self.hop_length,
            window: self.window.coefficients_f64.clone(),
            window_name: self.window.name.clone(),
            waveform_scale: f.waveform_scale,
            preemphasis,
            remove_dc: f.remove_dc,
            framing,
            drop_last_frame: f.drop_last_frame,
            spectrum,
            spectrum_scale: f.spectrum_scale,
            mel: self.mel_matrix()?,
            log,
            clamp: f.clamp.as_ref().map(|c| ClampSpec {
                below_max: c.below_max,
                live_span_s: c.live_span_s,
            }),
            affine: f.affine.as_ref().map(|a| Affine {
                add: a.add,
                div: a.div,
            }),
            model_input: f.model_input.as_ref().map(|m| ModelInput {
                frames: m.frames,
                hop_frames: m.hop_frames,
                text: m.text.clone(),
            }),
            units: f.units.clone(),
            display_range: (f.display_range[0], f.display_range[1]),
        };
        let (lo, hi) = spec.display_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err((
                "frontend.display_range",
                format!("[{lo}, {hi}]: expected two finite numbers, low < high"),
            ));
        }
        spec.validate().map_err(|m| ("frontend", m))?;
        Ok(spec)
    }

    fn mel_matrix(&self) -> std::result::Result<Option<MelMatrix>, (&'static str, String)> {
        let Some(m) = &self.mel else {
            return Ok(None);
        };
        let scale = match m.scale.as_str() {
            "slaney" => MelScale::Slaney,
            "htk" => MelScale::Htk,
            "tf_htk_1127_ln" => MelScale::Tf,
            other => {
                return Err((
                    "mel.scale",
                    format!("{other:?}: expected slaney, htk or tf_htk_1127_ln"),
                ))
            }
        };
        let triangles = match m.triangles.as_str() {
            "hz" => Triangles::Hz,
            "mel" => Triangles::Mel,
            "fft_bins" => Triangles::FftBins,
            other => {
                return Err((
                    "mel.triangles",
                    format!("{other:?}: expected hz, mel or fft_bins"),
                ))
            }
        };
        if m.n_mels != m.weights_f64.len() {
            return Err((
                "mel.n_mels",
                format!(
                    "{} bands but {} rows of weights",
                    m.n_mels,
                    m.weights_f64.len()
                ),
            ));
        }
        Ok(Some(MelMatrix {
            weights: m.weights_f64.clone(),
            scale,
            fmin_hz: m.fmin,
            fmax_hz: m.fmax,
            slaney_norm: m.norm.as_deref() == Some("slaney"),
            triangles,
        }))
    }
}

/// The `mel` section of `spec`.
fn file_mel(spec: &FrontendSpec) -> Option<FileMel> {
    spec.mel.as_ref().map(|m| FileMel {
        n_mels: m.weights.len(),
        fmin: m.fmin_hz,
        fmax: m.fmax_hz,
        scale: scale_name(m.scale).into(),
        norm: m.slaney_norm.then(|| "slaney".into()),
        triangles: match m.triangles {
            Triangles::Hz => "hz",
            Triangles::Mel => "mel",
            Triangles::FftBins => "fft_bins",
        }
        .into(),
        weights_f64: m.weights.clone(),
    })
}

/// `frontend.log` as a [`LogSpec`].
fn parse_log(l: &FileLog) -> std::result::Result<LogSpec, (&'static str, String)> {
    let func = match l.func.as_str() {
        "ln" => LogFunc::Ln,
        "log10" => LogFunc::Log10,
        "10log10" => LogFunc::Db10,
        other => {
            return Err((
                "frontend.log.func",
                format!("'{other}': expected ln, log10 or 10log10"),
            ))
        }
    };
    Ok(LogSpec {
        func,
        offset: l.offset,
        floor: l.floor,
        reference: l.reference,
    })
}

fn scale_name(scale: MelScale) -> &'static str {
    match scale {
        MelScale::Slaney => "slaney",
        MelScale::Htk => "htk",
        MelScale::Tf => "tf_htk_1127_ln",
    }
}

fn framing_text(spec: &FrontendSpec) -> String {
    let (hop, win, n_fft) = (spec.hop, spec.win_length, spec.n_fft);
    let base = match spec.framing {
        Framing::Center { pad } => format!(
            "centred: x padded with n_fft//2 = {} samples each side ({}), frame m = padded[m*hop, m*hop + n_fft); rows = 1 + len(x)//hop",
            n_fft / 2,
            if pad == Pad::Reflect { "reflect" } else { "zeros" }
        ),
        Framing::Valid => format!(
            "valid: frame m = x[m*hop, m*hop + {win}), zero-padded to n_fft = {n_fft}; rows = 1 + (len(x) - {win})//{hop}"
        ),
        Framing::PadEnd => format!(
            "valid, then zeros at the end for a last partial frame: rows = 1 + ceil((len(x) - {win})/{hop}) (1 when len(x) <= {win})"
        ),
    };
    if spec.drop_last_frame {
        format!("{base}, then the last row dropped")
    } else {
        base
    }
}

/// Reads a front-end JSON; errors are one line naming the file and the key, for `flag`.
///
/// # Errors
/// Unreadable, not JSON, a missing key, or values hopscope cannot run.
pub fn read(path: &Path, flag: &'static str) -> Result<FrontendSpec> {
    let file: FrontendFile = super::json::read(path, flag, "not JSON")?;
    file.spec()
        .map_err(|(key, message)| super::json::key_error(flag, path, key, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::frontend::presets;

    #[test]
    fn every_built_in_round_trips_through_its_json_exactly() {
        for spec in presets::all() {
            let text = FrontendFile::of(&spec).to_json_pretty();
            let back: FrontendFile = serde_json::from_str(&text).expect("parses");
            assert_eq!(back.spec().expect("valid"), spec, "{}", spec.name);
        }
    }

    #[test]
    fn inconsistent_files_name_the_key() {
        let spec = presets::by_name("whisper").expect("built in");
        let mut file = FrontendFile::of(&spec);
        file.center = false;
        assert_eq!(
            file.spec().expect_err("centre mismatch").0,
            "frontend.framing"
        );
        let mut file = FrontendFile::of(&spec);
        file.window.coefficients_f64.pop();
        assert_eq!(file.spec().expect_err("short window").0, "frontend");
        let mut file = FrontendFile::of(&spec);
        file.mel.as_mut().expect("whisper has mel bands").n_mels = 3;
        assert_eq!(file.spec().expect_err("bands").0, "mel.n_mels");
    }
}
