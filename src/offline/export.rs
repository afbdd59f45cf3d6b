//! `--export PATH.json`: the exact parameters of a spectrogram (../shared/DSP.md §8.1) and
//! ready-to-run Python snippets for librosa, torch, tf.signal and Keras 3 that reproduce the
//! rows hopscope computes, written next to the JSON as `PATH.librosa.py`, `PATH.torch.py`,
//! `PATH.tf.py` and `PATH.keras.py` (each also embedded in the JSON under `snippets`).
//!
//! The JSON is [`Export`], a typed schema (`spectrogram-export/1`) that serde writes and
//! reads back: every key the snippets and `tests/python/export_check.py` read is a field.
//!
//! The snippets read the WAV with scipy (integer PCM scaled by 2^(bits−1), channels
//! averaged or one picked, as hopscope does), take the window coefficients and the mel
//! matrix from the JSON (so no library's own window or mel construction can differ), and
//! undo the library pitfalls of DSP.md §8: torch's rectangular default window and
//! reflect padding, TF's start-aligned short windows and its lack of centring, and
//! hopscope's causal framing (`[m·hop, m·hop + win)`, the window centred in the FFT
//! buffer as librosa does), which librosa gets from `center=False` on a signal padded by
//! `(n_fft − win)//2` zeros in front.
//!
//! The Keras snippet puts the same rows inside a model: `build_frontend()` returns a
//! `keras.Sequential` (waveform batch → rows) of `ZeroPadding1D` (the framing),
//! `layers.STFTSpectrogram` (`mode="stft"`, its DFT kernel replaced by one computed in
//! float64: its own is float32 and wrong for an odd n_fft), and small layers for what
//! Keras lacks (|X| or |X|² without its 1e-7 floor, the dBFS gain, `10·log10` without
//! `top_db`); the mel matrix is a `Dense` layer holding the exported weights, since
//! `layers.MelSpectrogram` can only build TF's matrix, centred with reflect padding. The
//! snippet lists what each Keras layer cannot express. It runs on any Keras backend
//! (checked with jax and tensorflow), in float32.
//!
//! The librosa snippet names the librosa versions it was checked against (the pinned one
//! and the newest that installs; `tests/python/export_check.py` checks that the running
//! librosa is one of them).
//!
//! Thread: main (offline commands). Allocates: yes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::params::ParamsFrom;
use crate::dsp::mel::{MelFilterbank, MelNorm, MelScale};
use crate::dsp::scale::{ValueScale, FLOOR_POWER};
use crate::dsp::stft::StftParams;
use crate::error::{Error, Result};
use crate::io::atomic::{commit_all, Staged};

/// What was computed, for the export.
///
/// Thread: main.
pub struct ExportSpec<'a> {
    /// Stream sample rate.
    pub sample_rate_hz: u32,
    /// STFT parameters.
    pub params: StftParams,
    /// librosa `center=True` framing (else hopscope's causal frames).
    pub center: bool,
    /// What the values are.
    pub scale: ValueScale,
    /// Mel bands, when rows are mel.
    pub mel: Option<&'a MelFilterbank>,
    /// Channel analysed (`None`: the mean of all channels).
    pub channel: Option<usize>,
    /// `--params`: the file the parameters came from and the flags that overrode it.
    pub params_from: Option<&'a ParamsFrom>,
}

/// The `schema` value of every export this version writes.
pub const SCHEMA: &str = "spectrogram-export/1";

/// The export JSON (`spectrogram-export/1`). Field names are the JSON keys; the keys keep
/// librosa's names (`sample_rate`, `hop_length`) where librosa has one.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// `hopscope VERSION`.
    pub generator: String,
    /// Where the parameters came from, when a `--params` file gave them; absent
    /// otherwise (and in every export written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_from: Option<ParamsFromExport>,
    /// Hz.
    pub sample_rate: u32,
    /// FFT size.
    pub n_fft: usize,
    /// Window length (≤ n_fft, centred in the FFT buffer).
    pub win_length: usize,
    /// Hop in samples.
    pub hop_length: usize,
    /// The window and its exact coefficients.
    pub window: WindowExport,
    /// librosa `center=True` framing.
    pub center: bool,
    /// Always `constant` (zeros).
    pub pad_mode: String,
    /// How frames are cut, in words and formulas.
    pub framing: String,
    /// Always true: bins 0..=n_fft/2.
    pub onesided: bool,
    /// The power of |X| the rows (or the mel sums) start from: 1.0 or 2.0.
    pub power: f64,
    /// The level calibration.
    pub scaling: Scaling,
    /// Mel bands (`{"enabled": false}` without).
    #[serde(with = "crate::io::json::enabled")]
    pub mel: Option<MelExport>,
    /// dBFS conversion (`{"enabled": false}` for magnitude and power rows).
    #[serde(with = "crate::io::json::enabled")]
    pub db: Option<DbExport>,
    /// Channel analysed (`null`: the mean of all channels).
    pub channel: Option<usize>,
    /// Array layout of `analyze`'s .npy.
    pub layout: String,
    /// Which instants a row covers.
    pub frame_time: String,
    /// Always `float32`.
    pub dtype: String,
    /// The four snippets, as written beside the JSON.
    pub snippets: Snippets,
}

/// `params_from`: `{"file": "/abs/params.json", "overridden": ["--hop"]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamsFromExport {
    /// The `--params` file, absolute.
    pub file: String,
    /// The flags given beside it, which replaced its values (empty: none).
    pub overridden: Vec<String>,
}

impl From<&ParamsFrom> for ParamsFromExport {
    fn from(p: &ParamsFrom) -> Self {
        ParamsFromExport {
            file: p.file.display().to_string(),
            overridden: p.overridden.iter().map(|f| (*f).to_string()).collect(),
        }
    }
}

/// `window`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowExport {
    /// As `--window` takes it, e.g. `kaiser=8.6`.
    pub name: String,
    /// Without the parameter, e.g. `kaiser`.
    pub base: String,
    /// Always true (DFT-even, scipy `fftbins=True`).
    pub periodic: bool,
    /// The `win_length` coefficients.
    pub coefficients_f64: Vec<f64>,
}

/// `scaling`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// How levels are calibrated.
    pub mode: ScalingMode,
}

/// `scaling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMode {
    /// dBFS: a full-scale sine reads 0 (DSP.md §2.2).
    SineDbfs,
    /// Raw |X| or |X|².
    None,
}

/// `mel` when enabled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MelExport {
    /// Bands.
    pub n_mels: usize,
    /// Lower edge, Hz.
    pub fmin: f64,
    /// Upper edge, Hz.
    pub fmax: f64,
    /// The formula.
    pub scale: MelFormula,
    /// Band normalisation (`null`: none).
    pub norm: Option<BandNorm>,
    /// Where the triangles are straight.
    pub triangles: Triangles,
    /// Whether the DC bin's weights are zero (TF).
    pub drop_dc: bool,
    /// What the weights multiply.
    pub applied_to: Spectrum,
    /// `n_mels` rows of `n_fft/2 + 1` f32 weights (written as the f64 of each f32, exact).
    #[serde(serialize_with = "f32_rows_as_f64")]
    pub weights_f32: Vec<Vec<f32>>,
}

/// `mel.scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MelFormula {
    /// librosa's default (Slaney's Auditory Toolbox).
    #[serde(rename = "slaney")]
    Slaney,
    /// `2595·log10(1 + f/700)`.
    #[serde(rename = "htk")]
    Htk,
    /// TensorFlow's `1127·ln(1 + f/700)`.
    #[serde(rename = "tf_htk_1127_ln")]
    Tf,
}

/// `mel.norm` when not `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BandNorm {
    /// Each band × `2/(f_{i+2} − f_i)`: area 1 in Hz.
    Slaney,
}

/// `mel.triangles`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Triangles {
    /// Straight in Hz (librosa, torchaudio).
    Hz,
    /// Straight in mel (TF).
    Mel,
}

/// `mel.applied_to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Spectrum {
    /// |X|.
    Magnitude,
    /// |X|².
    Power,
}

/// `db` when enabled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbExport {
    /// The formula, in words.
    pub func: String,
    /// The per-bin gain, in words.
    pub gain: String,
    /// Sum of the window coefficients.
    #[serde(rename = "S1")]
    pub s1: f64,
    /// librosa's `ref`: always 1.0.
    #[serde(rename = "ref")]
    pub reference: f64,
    /// The power floor.
    pub amin: f64,
    /// librosa's `top_db`: always `null` (no clipping below the peak).
    pub top_db: Option<f64>,
}

/// `snippets`: each as written to `STEM.LIB.py`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snippets {
    /// `STEM.librosa.py`.
    pub librosa: String,
    /// `STEM.torch.py`.
    pub torch: String,
    /// `STEM.tf.py`.
    pub tf: String,
    /// `STEM.keras.py` (empty in exports written before it existed).
    #[serde(default)]
    pub keras: String,
}

/// Each f32 as the f64 it equals: `0.1760600060224533`, not `0.17606`, so Python's f64
/// reads the very weight hopscope multiplied by.
fn f32_rows_as_f64<S: serde::Serializer>(
    rows: &[Vec<f32>],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq as _;
    let mut seq = s.serialize_seq(Some(rows.len()))?;
    for row in rows {
        seq.serialize_element(&row.iter().map(|&w| f64::from(w)).collect::<Vec<f64>>())?;
    }
    seq.end()
}

impl Export {
    /// The export of `spec`, its snippets reading `json_name` beside them.
    pub fn new(spec: &ExportSpec<'_>, json_name: &str) -> Export {
        let p = spec.params;
        let coefficients_f64 = p.window.coefficients_f64(p.win_length);
        let s1: f64 = coefficients_f64.iter().sum();
        let spectrum = match spec.scale {
            ValueScale::Magnitude => Spectrum::Magnitude,
            ValueScale::Power | ValueScale::Db => Spectrum::Power,
        };
        let db = (spec.scale == ValueScale::Db).then(|| DbExport {
            func: "10*log10(max(sum_k W[k]*|X[k]|^2*gain[k], amin))".into(),
            gain: "(2/S1)^2 for every bin but DC and Nyquist, (1/S1)^2 for those; S1 = sum(window)"
                .into(),
            s1,
            reference: 1.0,
            amin: f64::from(FLOOR_POWER),
            top_db: None,
        });
        let [librosa, torch, tf, keras] = Lib::ALL.map(|lib| snippet(lib, json_name));
        Export {
            schema: SCHEMA.into(),
            generator: format!("hopscope {}", env!("CARGO_PKG_VERSION")),
            params_from: spec.params_from.map(ParamsFromExport::from),
            sample_rate: spec.sample_rate_hz,
            n_fft: p.fft_size,
            win_length: p.win_length,
            hop_length: p.hop_size,
            window: WindowExport {
                name: p.window.to_string(),
                base: p.window.base_name().into(),
                periodic: true,
                coefficients_f64,
            },
            center: spec.center,
            pad_mode: "constant".into(),
            framing: framing(p, spec.center),
            onesided: true,
            power: match spectrum {
                Spectrum::Magnitude => 1.0,
                Spectrum::Power => 2.0,
            },
            scaling: Scaling {
                mode: match db {
                    Some(_) => ScalingMode::SineDbfs,
                    None => ScalingMode::None,
                },
            },
            mel: spec.mel.map(|fb| mel_export(fb, spectrum)),
            db,
            channel: spec.channel,
            layout: "[frames, bins] float32, C order (hopscope analyze .npy)".into(),
            frame_time: if spec.center {
                "frame m centred at m*hop/sr".into()
            } else {
                "frame m covers [m*hop, m*hop + win_length)/sr; its newest sample is at (m*hop + win_length - 1)/sr".into()
            },
            dtype: "float32".into(),
            snippets: Snippets {
                librosa,
                torch,
                tf,
                keras,
            },
        }
    }

    /// The JSON text written to `PATH.json`.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("an Export's maps have string keys only (non-finite floats become null)")
    }
}

fn mel_export(fb: &MelFilterbank, applied_to: Spectrum) -> MelExport {
    let m = fb.spec();
    MelExport {
        n_mels: m.n_mels,
        fmin: m.fmin_hz,
        fmax: m.fmax_hz,
        scale: match m.scale {
            MelScale::Slaney => MelFormula::Slaney,
            MelScale::Htk => MelFormula::Htk,
            MelScale::Tf => MelFormula::Tf,
        },
        norm: match m.norm {
            MelNorm::Slaney => Some(BandNorm::Slaney),
            MelNorm::None => None,
        },
        triangles: match m.scale {
            MelScale::Tf => Triangles::Mel,
            MelScale::Slaney | MelScale::Htk => Triangles::Hz,
        },
        drop_dc: m.scale == MelScale::Tf,
        applied_to,
        weights_f32: fb
            .dense()
            .chunks_exact(fb.bins())
            .map(<[f32]>::to_vec)
            .collect(),
    }
}

fn framing(p: StftParams, center: bool) -> String {
    let left = (p.fft_size - p.win_length) / 2;
    if center {
        format!(
            "librosa center=True: x padded with n_fft//2 = {} zeros each side; frame m = padded[m*hop, m*hop + n_fft) with the window at offset {left}",
            p.fft_size / 2
        )
    } else {
        format!(
            "causal: frame m covers x[m*hop, m*hop + win_length); the window sits at offset {left} of the n_fft buffer (librosa center=False on x padded with {left} zeros in front and {} behind); rows = 1 + (len(x) - win_length)//hop",
            p.fft_size - p.win_length - left
        )
    }
}

/// The JSON file's name, checked: it must end in `.json`.
///
/// # Errors
/// Any other name.
pub fn json_name(path: &Path) -> Result<&str> {
    path.file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.to_ascii_lowercase().ends_with(".json"))
        .ok_or_else(|| Error::InvalidArgument {
            flag: "--export",
            message: format!("'{}' must end in .json", path.display()),
        })
}

/// Every file [`write()`] creates for `path`: the JSON, then `STEM.librosa.py`,
/// `STEM.torch.py`, `STEM.tf.py` and `STEM.keras.py` beside it.
///
/// # Errors
/// The path does not end in `.json`.
pub fn paths(path: &Path) -> Result<Vec<PathBuf>> {
    let json_name = json_name(path)?;
    let stem = &json_name[..json_name.len() - 5];
    let mut all = vec![path.to_path_buf()];
    for lib in Lib::ALL {
        all.push(path.with_file_name(format!("{stem}.{}.py", lib.key())));
    }
    Ok(all)
}

/// Writes the JSON and its four snippets ([`paths`]) under temporary names, for the
/// caller to commit with the run's other outputs.
///
/// # Errors
/// The path does not end in `.json`, or a file cannot be written.
pub fn stage(path: &Path, spec: &ExportSpec<'_>) -> Result<Vec<Staged>> {
    let export = Export::new(spec, json_name(path)?);
    let Snippets {
        librosa,
        torch,
        tf,
        keras,
    } = export.snippets.clone();
    let texts = [export.to_json_pretty(), librosa, torch, tf, keras];
    paths(path)?
        .iter()
        .zip(texts)
        .map(|(p, text)| stage_text(p, &text))
        .collect()
}

/// Writes `path` (the JSON) and its four snippets next to it, all or none.
///
/// # Errors
/// The path does not end in `.json`, or a file cannot be written.
pub fn write(path: &Path, spec: &ExportSpec<'_>) -> Result<Vec<PathBuf>> {
    let staged = stage(path, spec)?;
    let written = staged.iter().map(|s| s.target().to_path_buf()).collect();
    commit_all(staged)?;
    Ok(written)
}

/// `text` written to a staged `path`, flushed.
///
/// # Errors
/// The file cannot be created or written.
pub(crate) fn stage_text(path: &Path, text: &str) -> Result<Staged> {
    let mut staged = Staged::create(path)?;
    staged
        .write_all(text.as_bytes())
        .and_then(|()| staged.flush())
        .map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(staged)
}

#[derive(Clone, Copy)]
enum Lib {
    Librosa,
    Torch,
    Tf,
    Keras,
}

impl Lib {
    /// In the order of [`paths`] and of `Snippets`.
    const ALL: [Lib; 4] = [Lib::Librosa, Lib::Torch, Lib::Tf, Lib::Keras];

    fn key(self) -> &'static str {
        match self {
            Lib::Librosa => "librosa",
            Lib::Torch => "torch",
            Lib::Tf => "tf",
            Lib::Keras => "keras",
        }
    }

    /// The header's usage line: how to run the snippet.
    fn usage(self) -> &'static str {
        match self {
            Lib::Keras => "KERAS_BACKEND=jax|tensorflow|torch python {this file} IN.wav OUT.npy",
            Lib::Librosa | Lib::Torch | Lib::Tf => "python {this file} IN.wav OUT.npy",
        }
    }
}

/// Shared by the four snippets: loading, framing pads, power/mel/dB.
const COMMON: &str = r#"import json
import os
import sys

import numpy as np
import scipy.io.wavfile

P = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "__JSON__")))


def load_mono(path):
    """float64 samples as hopscope reads them: PCM / 2**(bits-1), channels averaged."""
    sr, x = scipy.io.wavfile.read(path)
    if sr != P["sample_rate"]:
        raise SystemExit(f"{path}: {sr} Hz, but the export is for {P['sample_rate']} Hz")
    if x.dtype == np.uint8:
        x = (x.astype(np.float64) - 128.0) / 128.0
    elif x.dtype.kind == "i":
        x = x.astype(np.float64) / float(2 ** (8 * x.dtype.itemsize - 1))
    else:
        x = x.astype(np.float64)
    if x.ndim == 2:
        x = x[:, P["channel"]] if P["channel"] is not None else x.mean(axis=1)
    return x


def causal_pad(x):
    """hopscope's causal frames [m*hop, m*hop + win) as centred library frames."""
    if P["center"]:
        return x
    left = (P["n_fft"] - P["win_length"]) // 2
    return np.concatenate([np.zeros(left), x, np.zeros(P["n_fft"] - P["win_length"] - left)])


def finish(mag):
    """[frames, bins] |X| -> the values hopscope writes (power, mel, dBFS)."""
    mag = np.asarray(mag, np.float64)
    s = mag if P["power"] == 1.0 else mag ** 2
    if P["db"]["enabled"]:
        gain = np.full(s.shape[1], (2.0 / P["db"]["S1"]) ** 2)
        gain[0] = (1.0 / P["db"]["S1"]) ** 2
        if P["n_fft"] % 2 == 0:
            gain[-1] = gain[0]
        s = s * gain
    if P["mel"]["enabled"]:
        s = s @ np.asarray(P["mel"]["weights_f32"], np.float64).T
    if P["db"]["enabled"]:
        s = 10.0 * np.log10(np.maximum(s, P["db"]["amin"]))
    return s.astype(np.float32)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {sys.argv[0]} IN.wav OUT.npy")
    np.save(sys.argv[2], spectrogram(load_mono(sys.argv[1])))
"#;

const LIBROSA: &str = r#"
# Checked against librosa 0.11.0 and 1.0.1 (hopscope's tests/python/export_check.py).
import librosa


def spectrogram(x):
    """Rows equal to `hopscope analyze` with this export's parameters."""
    w = np.asarray(P["window"]["coefficients_f64"])
    S = librosa.stft(causal_pad(x), n_fft=P["n_fft"], hop_length=P["hop_length"],
                     win_length=P["win_length"], window=w, center=P["center"],
                     pad_mode="constant")
    return finish(np.abs(S).T)


if __name__ == "__main__":
    main()
"#;

const TORCH: &str = r#"
import torch


def spectrogram(x):
    """Rows equal to `hopscope analyze`: window and pad_mode passed explicitly (torch's
    defaults are a rectangular window and reflect padding)."""
    w = torch.tensor(P["window"]["coefficients_f64"], dtype=torch.float64)
    S = torch.stft(torch.from_numpy(causal_pad(x)), n_fft=P["n_fft"],
                   hop_length=P["hop_length"], win_length=P["win_length"], window=w,
                   center=P["center"], pad_mode="constant", return_complex=True)
    return finish(S.abs().numpy().T)


if __name__ == "__main__":
    main()
"#;

const TF: &str = r#"
import tensorflow as tf


def spectrogram(x):
    """Rows equal to `hopscope analyze`. TF frames are [m*hop, m*hop + win) with the window
    at the start of the FFT buffer (magnitudes equal hopscope's centred window), and TF
    never centres: for center=True pad n_fft//2 each side, drop (n_fft - win)//2."""
    n_fft, win, hop = P["n_fft"], P["win_length"], P["hop_length"]
    coeffs = P["window"]["coefficients_f64"]
    if P["center"]:
        y = np.pad(x, n_fft // 2)[(n_fft - win) // 2:]
        frames = 1 + (len(x) + 2 * (n_fft // 2) - n_fft) // hop
    else:
        y = x
        frames = 1 + (len(x) - win) // hop
    S = tf.signal.stft(tf.constant(y, tf.float64), frame_length=win, frame_step=hop,
                       fft_length=n_fft, window_fn=lambda L, dtype: tf.constant(coeffs, dtype),
                       pad_end=False)
    return finish(np.abs(S.numpy())[:frames])


if __name__ == "__main__":
    main()
"#;

/// Keras 3: the rows from a model (`build_frontend()`), for a TensorFlow (or jax, torch)
/// user to put the parameters in the graph itself.
const KERAS: &str = r#"
import warnings

import keras
from keras import layers, ops

# What keras 3.15.1's own layers can and cannot express of these rows (read in its source):
# - layers.STFTSpectrogram takes `window` as an array, so the exact coefficients fit, but
#   its named windows are scipy's symmetric ones by default (periodic=False), and
#   "kaiser" cannot carry its beta as a string. It never centres (padding="same" pads
#   TF-style, not n_fft//2 each side) and refuses frame_step > frame_length: a
#   ZeroPadding1D in front and frames of n_fft samples with the window at
#   (n_fft - win_length)//2 (librosa's layout) give both of hopscope's framings. It builds
#   its DFT kernel in float32, up to 5e-4 off at n_fft 1000-2048, and from
#   2*(n_fft//2) points, so an odd n_fft gets wrong frequencies: its kernel is replaced
#   below by one computed in float64 (set_weights). Its "magnitude"/"log" modes floor |X|^2
#   at keras.config.epsilon() (1e-7), "psd" doubles every bin but DC and Nyquist, and its
#   `scaling` divides by sqrt(sum w^2) or sum w, which is not the dBFS gain: mode="stft"
#   (real, then imaginary parts) with scaling=None, then the small layers below.
# - layers.MelSpectrogram always centres with reflect padding, builds only TF's mel matrix
#   (1127*ln(1 + f/700), triangles in mel, DC dropped, no norm) in the compute dtype,
#   always clips at max - top_db over the whole batch and returns [batch, mels, frames]:
#   it cannot give any of hopscope's rows. The exported matrix goes into a Dense layer, and
#   PowerToDb does 10*log10(max(S, amin)) with no top_db.
# Precision: float32, Keras' default (the jax backend has no float64 without
# jax_enable_x64). hopscope's tests hold the rows to 1e-4 of their largest value (measured
# 7e-7 on jax, 2e-6 on tensorflow) and dB rows to 1e-3 dB above -60 dBFS (measured 2e-4 dB);
# far below a frame's peak the float32 error grows in dB (0.03 dB at -139 dBFS).


@keras.saving.register_keras_serializable(package="hopscope")
class Spectrum(layers.Layer):
    """[..., 2*bins] real and imaginary parts (STFTSpectrogram mode="stft") -> |X|
    (power 1) or |X|^2 (power 2), with no floor."""

    def __init__(self, bins, power, **kwargs):
        super().__init__(**kwargs)
        self.bins, self.power = bins, power

    def call(self, x):
        re, im = x[..., : self.bins], x[..., self.bins:]
        s = re * re + im * im
        return s if self.power == 2.0 else ops.sqrt(s)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "power": self.power}


@keras.saving.register_keras_serializable(package="hopscope")
class BinGain(layers.Layer):
    """Multiplies each bin by its dBFS gain: (2/S1)^2, (1/S1)^2 at DC and Nyquist."""

    def __init__(self, gain, **kwargs):
        super().__init__(**kwargs)
        self.gain = [float(g) for g in gain]

    def call(self, x):
        return x * ops.convert_to_tensor(np.asarray(self.gain), x.dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


@keras.saving.register_keras_serializable(package="hopscope")
class PowerToDb(layers.Layer):
    """10*log10(max(S, amin)): librosa's power_to_db with ref 1.0 and no top_db."""

    def __init__(self, amin, **kwargs):
        super().__init__(**kwargs)
        self.amin = float(amin)

    def call(self, x):
        return 10.0 * ops.log10(ops.maximum(x, self.amin))

    def get_config(self):
        return {**super().get_config(), "amin": self.amin}


def dft_kernels(window):
    """STFTSpectrogram's (real, imag) kernels for an n_fft-sample window, from the exact
    phases 2*pi*((t*k) mod n_fft)/n_fft in float64, each value rounded once to float32."""
    n = len(window)
    t, k = np.arange(n)[:, None], np.arange(n // 2 + 1)[None, :]
    phase = 2.0 * np.pi * ((t * k) % n) / n
    w = np.asarray(window)[:, None]
    return [(w * np.cos(phase))[:, None, :].astype(np.float32),
            (-w * np.sin(phase))[:, None, :].astype(np.float32)]


def build_frontend():
    """A keras.Model mapping a float32 waveform batch [batch, samples] to
    [batch, frames, bins] (bins: n_fft//2 + 1, or n_mels) equal to hopscope's rows."""
    n_fft, win, hop = P["n_fft"], P["win_length"], P["hop_length"]
    bins, left = n_fft // 2 + 1, (n_fft - win) // 2
    window = np.zeros(n_fft)
    window[left:left + win] = P["window"]["coefficients_f64"]
    # Frame m is padded[m*hop, m*hop + n_fft): centred, n_fft//2 zeros each side (librosa
    # center=True, pad_mode="constant"); causal, the window's `left` zeros in front, so the
    # frame's window covers x[m*hop, m*hop + win_length).
    pad = (n_fft // 2, n_fft // 2) if P["center"] else (left, n_fft - win - left)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its advice that fft_length be a power of two
        stft = layers.STFTSpectrogram(mode="stft", frame_length=n_fft, frame_step=hop,
                                      fft_length=n_fft, window=window.tolist(), scaling=None,
                                      padding="valid", trainable=False, name="stft")
    stack = [keras.Input(shape=(None,), dtype="float32"), layers.Reshape((-1, 1)),
             layers.ZeroPadding1D(pad), stft, Spectrum(bins, P["power"], name="spectrum")]
    if P["db"]["enabled"]:
        gain = np.full(bins, (2.0 / P["db"]["S1"]) ** 2)
        gain[0] = (1.0 / P["db"]["S1"]) ** 2
        if n_fft % 2 == 0:
            gain[-1] = gain[0]
        stack.append(BinGain(gain, name="dbfs_gain"))
    mel = None
    if P["mel"]["enabled"]:
        mel = layers.Dense(P["mel"]["n_mels"], use_bias=False, trainable=False, name="mel")
        stack.append(mel)
    if P["db"]["enabled"]:
        stack.append(PowerToDb(P["db"]["amin"], name="power_to_db"))
    model = keras.Sequential(stack, name="hopscope_frontend")
    stft.set_weights(dft_kernels(window))
    if mel is not None:
        # hopscope's own float32 weights, exactly: [bins, n_mels].
        mel.set_weights([np.asarray(P["mel"]["weights_f32"], np.float32).T])
    return model


def spectrogram(x):
    """Rows equal to `hopscope analyze`, from the model build_frontend() returns."""
    batch = np.asarray(x, np.float32)[None, :]
    return ops.convert_to_numpy(build_frontend()(batch))[0].astype(np.float32)


if __name__ == "__main__":
    main()
"#;

fn snippet(lib: Lib, json_name: &str) -> String {
    let body = match lib {
        Lib::Librosa => LIBROSA,
        Lib::Torch => TORCH,
        Lib::Tf => TF,
        Lib::Keras => KERAS,
    };
    let header = format!(
        "# hopscope export: reproduces `hopscope analyze` rows with {}.\n# usage: {}   (reads {json_name} beside it)\n",
        lib.key(),
        lib.usage()
    );
    format!("{header}{}{body}", COMMON.replace("__JSON__", json_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::mel::{MelScale, MelSpec};
    use crate::dsp::window::WindowKind;

    fn params(window: WindowKind) -> StftParams {
        StftParams {
            fft_size: 512,
            win_length: 400,
            hop_size: 160,
            window,
        }
    }

    fn round_trip(export: &Export) -> serde_json::Value {
        let text = export.to_json_pretty();
        let back: Export = serde_json::from_str(&text).expect("the export parses back");
        assert_eq!(&back, export, "serialize → parse → equal");
        serde_json::from_str(&text).expect("valid JSON")
    }

    #[test]
    fn linear_db_export_round_trips_with_its_sections_off_or_on() {
        let spec = ExportSpec {
            sample_rate_hz: 16_000,
            params: params(WindowKind::Kaiser { beta: 5.0 }),
            center: false,
            scale: ValueScale::Db,
            mel: None,
            channel: Some(1),
            params_from: None,
        };
        let export = Export::new(&spec, "x.json");
        let v = round_trip(&export);
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["window"]["name"], "kaiser=5");
        assert_eq!(v["window"]["base"], "kaiser");
        assert_eq!(v["mel"], serde_json::json!({"enabled": false}));
        assert_eq!(v["db"]["enabled"], true);
        assert_eq!(v["db"]["ref"], 1.0);
        assert_eq!(v["db"]["top_db"], serde_json::Value::Null);
        assert_eq!(v["scaling"]["mode"], "sine_dbfs");
        assert_eq!(v["power"], 2.0);
        assert_eq!(v["channel"], 1);
        assert!(v["snippets"]["torch"]
            .as_str()
            .is_some_and(|t| t.contains("\"x.json\"")));
        assert!(v["snippets"]["keras"]
            .as_str()
            .is_some_and(|t| t.contains("\"x.json\"") && t.contains("def build_frontend()")));
        // The JSON, then one snippet per library, in Lib::ALL's order.
        let names: Vec<String> = paths(Path::new("/d/x.json"))
            .expect("a .json path")
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/d/x.json",
                "/d/x.librosa.py",
                "/d/x.torch.py",
                "/d/x.tf.py",
                "/d/x.keras.py"
            ]
        );
    }

    #[test]
    fn mel_export_round_trips_with_exact_f32_weights() {
        let mel_spec = MelSpec {
            scale: MelScale::Tf,
            norm: MelNorm::None,
            ..MelSpec::librosa(40, 16_000)
        };
        let fb = MelFilterbank::new(mel_spec, 16_000, 512);
        let spec = ExportSpec {
            sample_rate_hz: 16_000,
            params: params(WindowKind::Hann),
            center: true,
            scale: ValueScale::Magnitude,
            mel: Some(&fb),
            channel: None,
            params_from: None,
        };
        let export = Export::new(&spec, "m.json");
        let v = round_trip(&export);
        assert_eq!(v["db"], serde_json::json!({"enabled": false}));
        assert_eq!(v["scaling"]["mode"], "none");
        assert_eq!(v["power"], 1.0);
        assert_eq!(v["channel"], serde_json::Value::Null);
        let mel = &v["mel"];
        assert_eq!(mel["enabled"], true);
        assert_eq!(mel["scale"], "tf_htk_1127_ln");
        assert_eq!(mel["norm"], serde_json::Value::Null);
        assert_eq!(mel["triangles"], "mel");
        assert_eq!(mel["drop_dc"], true);
        assert_eq!(mel["applied_to"], "magnitude");
        // Each weight is written as the f64 equal to the f32 the rows were computed with.
        let rows = mel["weights_f32"].as_array().expect("rows");
        assert_eq!(rows.len(), 40);
        for (row, dense) in rows.iter().zip(fb.dense().chunks_exact(fb.bins())) {
            for (w, &f) in row.as_array().expect("row").iter().zip(dense) {
                assert_eq!(w.as_f64(), Some(f64::from(f)));
            }
        }
    }

    #[test]
    fn enabled_without_its_fields_is_refused() {
        let spec = ExportSpec {
            sample_rate_hz: 8_000,
            params: params(WindowKind::Hann),
            center: false,
            scale: ValueScale::Db,
            mel: None,
            channel: None,
            params_from: None,
        };
        let mut v: serde_json::Value =
            serde_json::from_str(&Export::new(&spec, "e.json").to_json_pretty()).expect("JSON");
        v["mel"] = serde_json::json!({"enabled": true});
        let err = serde_json::from_value::<Export>(v).expect_err("mel without its fields");
        assert!(err.to_string().contains("enabled"), "{err}");
    }
}
