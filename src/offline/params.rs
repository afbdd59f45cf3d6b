//! `--params PATH.json`: an export (`spectrogram-export/1`, written by `--export`, the
//! live E key and snapshots) read back as the parameters of a run.
//!
//! Only the keys that set a parameter are read; the rest (snippets, descriptions) are
//! ignored, so a file trimmed by hand to those keys works too. Required: `schema`,
//! `sample_rate`, `n_fft`, `win_length`, `hop_length`, `window.name`, `center`, `power`,
//! `db.enabled`, `mel.enabled` (and, when true, `mel`'s `n_mels`, `fmin`, `fmax`,
//! `scale`, `norm`, `applied_to`) and `channel`. Checked when present: the window's
//! coefficients and the mel weights must be hopscope's own for those names (custom ones
//! are refused, not silently replaced), `periodic` true, `pad_mode` constant, `onesided`
//! true, and the dB section's `ref` 1, `amin` hopscope's floor, `top_db` null.
//!
//! Every error is one line naming the file and the key: `invalid --params:
//! 'p.json': hop_length: …`.
//!
//! Thread: main. Allocates: yes.

use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

use super::export::{BandNorm, MelFormula, Spectrum, SCHEMA};
use crate::config::params::FileParams;
use crate::config::{MelOptions, MAX_MEL_BANDS_X_N_FFT};
use crate::dsp::mel::{MelFilterbank, MelNorm, MelScale};
use crate::dsp::scale::{ValueScale, FLOOR_POWER};
use crate::dsp::stft::StftParams;
use crate::dsp::window::WindowKind;
use crate::error::Result;
use crate::io::json;

/// How far a recorded window coefficient or mel weight may be from hopscope's own,
/// relative to the largest of them.
pub const COEFFICIENT_TOLERANCE: f64 = 1e-6;

/// The keys of an export that `--params` reads.
#[derive(Deserialize)]
struct ParamsView {
    schema: String,
    sample_rate: u32,
    n_fft: usize,
    win_length: usize,
    hop_length: usize,
    window: WindowView,
    center: bool,
    pad_mode: Option<String>,
    onesided: Option<bool>,
    power: f64,
    mel: MelView,
    db: DbView,
    // Required although it may be null (the mix): a file without it is refused.
    #[serde(deserialize_with = "Option::deserialize")]
    channel: Option<usize>,
}

#[derive(Deserialize)]
struct WindowView {
    name: String,
    periodic: Option<bool>,
    coefficients_f64: Option<Vec<f64>>,
}

/// `mel`: its keys are required when `enabled` is true ([`MelView::keys`]).
#[derive(Deserialize)]
struct MelView {
    enabled: bool,
    n_mels: Option<usize>,
    fmin: Option<f64>,
    fmax: Option<f64>,
    scale: Option<MelFormula>,
    /// Missing (`None`), or null (`Some(None)`: no normalisation).
    #[serde(default, deserialize_with = "present")]
    norm: Option<Option<BandNorm>>,
    applied_to: Option<Spectrum>,
    weights_f32: Option<Vec<Vec<f64>>>,
}

/// The keys of an enabled `mel` section.
struct MelKeys {
    n_mels: usize,
    fmin: f64,
    fmax: f64,
    scale: MelFormula,
    norm: Option<BandNorm>,
    applied_to: Spectrum,
}

impl MelView {
    /// The section's keys, when it is enabled.
    fn keys(&self) -> std::result::Result<Option<MelKeys>, KeyError> {
        fn need<T: Copy>(v: Option<T>, key: &'static str) -> std::result::Result<T, KeyError> {
            v.ok_or((key, "missing (mel.enabled is true)".into()))
        }
        if !self.enabled {
            return Ok(None);
        }
        Ok(Some(MelKeys {
            n_mels: need(self.n_mels, "mel.n_mels")?,
            fmin: need(self.fmin, "mel.fmin")?,
            fmax: need(self.fmax, "mel.fmax")?,
            scale: need(self.scale, "mel.scale")?,
            norm: need(self.norm, "mel.norm")?,
            applied_to: need(self.applied_to, "mel.applied_to")?,
        }))
    }
}

/// `db`: `ref`, `amin` and `top_db` are checked when present.
#[derive(Deserialize)]
struct DbView {
    enabled: bool,
    #[serde(rename = "ref")]
    reference: Option<f64>,
    amin: Option<f64>,
    top_db: Option<f64>,
}

/// A key that may be null but not missing: `Some` whenever it is there.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Reads and checks the export `path` as run parameters.
///
/// # Errors
/// The file cannot be read, is not JSON, lacks a key, or holds a value hopscope cannot
/// run (out of range, inconsistent, custom window coefficients or mel weights).
pub fn read(path: &Path) -> Result<FileParams> {
    let view: ParamsView = json::read(path, "--params", "not a JSON export")?;
    view.check(path)
        .map_err(|(key, message)| json::key_error("--params", path, key, message))
}

/// A key and what is wrong with its value.
type KeyError = (&'static str, String);

impl ParamsView {
    fn check(self, path: &Path) -> std::result::Result<FileParams, KeyError> {
        if self.schema != SCHEMA {
            return Err(("schema", format!("'{}': expected '{SCHEMA}'", self.schema)));
        }
        if self.sample_rate == 0 {
            return Err(("sample_rate", "0 Hz".into()));
        }
        let params = self.stft_params()?;
        if self.pad_mode.as_ref().is_some_and(|m| m != "constant") {
            return Err((
                "pad_mode",
                format!(
                    "'{}' is not supported: hopscope pads with zeros ('constant')",
                    self.pad_mode.as_deref().unwrap_or_default()
                ),
            ));
        }
        if self.onesided == Some(false) {
            return Err((
                "onesided",
                "false is not supported: rows hold bins 0..=n_fft/2".into(),
            ));
        }
        let scale = self.scale()?;
        let mel = self.mel_options(params, scale)?;
        Ok(FileParams {
            path: path.to_path_buf(),
            params,
            center: self.center,
            scale,
            mel,
            channel: self.channel,
        })
    }

    fn stft_params(&self) -> std::result::Result<StftParams, KeyError> {
        let window = WindowKind::from_str(&self.window.name).map_err(|m| ("window.name", m))?;
        let params = StftParams {
            fft_size: self.n_fft,
            win_length: self.win_length,
            hop_size: self.hop_length,
            window,
        };
        params.validate().map_err(|m| {
            let key = if m.starts_with("n_fft") {
                "n_fft"
            } else if m.starts_with("win_length") {
                "win_length"
            } else {
                "hop_length"
            };
            (key, m)
        })?;
        if self.window.periodic == Some(false) {
            return Err((
                "window.periodic",
                "false: hopscope's windows are periodic (DFT-even); symmetric ones are not supported yet".into(),
            ));
        }
        if let Some(recorded) = &self.window.coefficients_f64 {
            let own = window.coefficients_f64(self.win_length);
            check_same(recorded, &own, |i| format!("coefficient {i}")).map_err(|m| {
                (
                    "window.coefficients_f64",
                    format!(
                        "custom coefficients are not supported yet: {m} in hopscope's '{}' of length {}",
                        self.window.name, self.win_length
                    ),
                )
            })?;
        }
        Ok(params)
    }

    /// The value scale: dB when `db` is enabled (of |X|², power 2), else |X| (power 1)
    /// or |X|² (power 2).
    fn scale(&self) -> std::result::Result<ValueScale, KeyError> {
        let power = match self.power {
            1.0 => Spectrum::Magnitude,
            2.0 => Spectrum::Power,
            p => return Err(("power", format!("{p}: expected 1.0 (|X|) or 2.0 (|X|²)"))),
        };
        let db = &self.db;
        if !db.enabled {
            return Ok(match power {
                Spectrum::Magnitude => ValueScale::Magnitude,
                Spectrum::Power => ValueScale::Power,
            });
        }
        if power != Spectrum::Power {
            return Err((
                "power",
                "1.0 with db enabled: hopscope's dB rows are of |X|² (power 2.0)".into(),
            ));
        }
        if db.reference.is_some_and(|r| r != 1.0) {
            return Err(("db.ref", "expected 1.0 (dB relative to full scale)".into()));
        }
        if db.amin.is_some_and(|a| a != f64::from(FLOOR_POWER)) {
            return Err((
                "db.amin",
                format!("expected hopscope's floor {}", f64::from(FLOOR_POWER)),
            ));
        }
        if let Some(top) = db.top_db {
            return Err(("db.top_db", format!("{top}: expected null (no clipping)")));
        }
        Ok(ValueScale::Db)
    }

    fn mel_options(
        &self,
        params: StftParams,
        scale: ValueScale,
    ) -> std::result::Result<Option<MelOptions>, KeyError> {
        let Some(m) = self.mel.keys()? else {
            return Ok(None);
        };
        let feeds = match scale {
            ValueScale::Magnitude => Spectrum::Magnitude,
            ValueScale::Power | ValueScale::Db => Spectrum::Power,
        };
        if m.applied_to != feeds {
            let name = |s: Spectrum| match s {
                Spectrum::Magnitude => "magnitude",
                Spectrum::Power => "power",
            };
            return Err((
                "mel.applied_to",
                format!(
                    "{} with power {}: hopscope's mel bands weight |X| for power 1.0 and |X|² for power 2.0",
                    name(m.applied_to),
                    self.power
                ),
            ));
        }
        let nyquist = f64::from(self.sample_rate) / 2.0;
        let opts = MelOptions {
            n_mels: m.n_mels,
            scale: match m.scale {
                MelFormula::Slaney => MelScale::Slaney,
                MelFormula::Htk => MelScale::Htk,
                MelFormula::Tf => MelScale::Tf,
            },
            norm: match m.norm {
                Some(BandNorm::Slaney) => MelNorm::Slaney,
                None => MelNorm::None,
            },
            fmin_hz: m.fmin,
            // The top edge at the file's Nyquist frequency is each input's Nyquist.
            fmax_hz: (m.fmax != nyquist).then_some(m.fmax),
        };
        let spec = opts.spec(self.sample_rate);
        spec.validate(self.sample_rate)
            .map_err(|msg| ("mel", msg))?;
        if m.n_mels.saturating_mul(params.fft_size) > MAX_MEL_BANDS_X_N_FFT {
            return Err((
                "mel.n_mels",
                format!(
                    "{} bands at n_fft {}: over the limit n_mels x n_fft <= {MAX_MEL_BANDS_X_N_FFT}",
                    m.n_mels, params.fft_size
                ),
            ));
        }
        if let Some(rows) = &self.mel.weights_f32 {
            let fb = MelFilterbank::new(spec, self.sample_rate, params.fft_size);
            let bins = fb.bins();
            if rows.len() != m.n_mels || rows.iter().any(|r| r.len() != bins) {
                return Err((
                    "mel.weights_f32",
                    format!(
                        "expected {} rows of {bins} weights (n_mels x n_fft/2+1)",
                        m.n_mels
                    ),
                ));
            }
            let recorded: Vec<f64> = rows.iter().flatten().copied().collect();
            let own: Vec<f64> = fb.dense().into_iter().map(f64::from).collect();
            let at = |i: usize| format!("weight [{}][{}]", i / bins, i % bins);
            check_same(&recorded, &own, at).map_err(|msg| {
                (
                    "mel.weights_f32",
                    format!("custom mel weights are not supported yet: {msg} in hopscope's filterbank for these mel settings"),
                )
            })?;
        }
        Ok(Some(opts))
    }
}

/// Whether `recorded` equals `own` within [`COEFFICIENT_TOLERANCE`] of `own`'s largest
/// magnitude; else which value (`name(index)`) differs, and how.
fn check_same(
    recorded: &[f64],
    own: &[f64],
    name: impl Fn(usize) -> String,
) -> std::result::Result<(), String> {
    if recorded.len() != own.len() {
        return Err(format!(
            "{} values where there are {}",
            recorded.len(),
            own.len()
        ));
    }
    let scale = own.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let tol = COEFFICIENT_TOLERANCE * scale;
    match recorded.iter().zip(own).position(|(a, b)| {
        let d = (a - b).abs();
        d.is_nan() || d > tol
    }) {
        None => Ok(()),
        Some(i) => Err(format!("{} is {}, not {}", name(i), recorded[i], own[i])),
    }
}
