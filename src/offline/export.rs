//! `--export PATH.json`: the exact parameters of a spectrogram (../shared/DSP.md §8.1) and
//! ready-to-run Python snippets for librosa, torch and tf.signal that reproduce the rows
//! hopscope computes, written next to the JSON as `PATH.librosa.py`, `PATH.torch.py` and
//! `PATH.tf.py` (each also embedded in the JSON under `snippets`).
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
//! Thread: main (offline commands). Allocates: yes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

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
}

/// The export JSON as a value.
pub fn to_json(spec: &ExportSpec<'_>) -> Value {
    let p = spec.params;
    let coeffs = p.window.coefficients_f64(p.win_length);
    let s1: f64 = coeffs.iter().sum();
    let power = match spec.scale {
        ValueScale::Magnitude => 1.0,
        ValueScale::Power | ValueScale::Db => 2.0,
    };
    let mel = match spec.mel {
        Some(fb) => {
            let m = fb.spec();
            json!({
                "enabled": true,
                "n_mels": m.n_mels,
                "fmin": m.fmin_hz,
                "fmax": m.fmax_hz,
                "scale": match m.scale {
                    MelScale::Slaney => "slaney",
                    MelScale::Htk => "htk",
                    MelScale::Tf => "tf_htk_1127_ln",
                },
                "norm": match m.norm { MelNorm::Slaney => json!("slaney"), MelNorm::None => Value::Null },
                "triangles": if m.scale == MelScale::Tf { "mel" } else { "hz" },
                "drop_dc": m.scale == MelScale::Tf,
                "applied_to": if power == 1.0 { "magnitude" } else { "power" },
                "weights_f32": fb.dense().chunks_exact(fb.bins()).map(|r| r.to_vec()).collect::<Vec<_>>(),
            })
        }
        None => json!({"enabled": false}),
    };
    let db = if spec.scale == ValueScale::Db {
        json!({
            "enabled": true,
            "func": "10*log10(max(sum_k W[k]*|X[k]|^2*gain[k], amin))",
            "gain": "(2/S1)^2 for every bin but DC and Nyquist, (1/S1)^2 for those; S1 = sum(window)",
            "S1": s1,
            "ref": 1.0,
            "amin": f64::from(FLOOR_POWER),
            "top_db": Value::Null,
        })
    } else {
        json!({"enabled": false})
    };
    let left = (p.fft_size - p.win_length) / 2;
    let framing = if spec.center {
        format!(
            "librosa center=True: x padded with n_fft//2 = {} zeros each side; frame m = padded[m*hop, m*hop + n_fft) with the window at offset {left}",
            p.fft_size / 2
        )
    } else {
        format!(
            "causal: frame m covers x[m*hop, m*hop + win_length); the window sits at offset {left} of the n_fft buffer (librosa center=False on x padded with {left} zeros in front and {} behind); rows = 1 + (len(x) - win_length)//hop",
            p.fft_size - p.win_length - left
        )
    };
    let mut v = json!({
        "schema": "spectrogram-export/1",
        "generator": format!("hopscope {}", env!("CARGO_PKG_VERSION")),
        "sample_rate": spec.sample_rate_hz,
        "n_fft": p.fft_size,
        "win_length": p.win_length,
        "hop_length": p.hop_size,
        "window": {
            "name": p.window.to_string(),
            "base": p.window.base_name(),
            "periodic": true,
            "coefficients_f64": coeffs,
        },
        "center": spec.center,
        "pad_mode": "constant",
        "framing": framing,
        "onesided": true,
        "power": power,
        "scaling": {"mode": if spec.scale == ValueScale::Db { "sine_dbfs" } else { "none" }},
        "mel": mel,
        "db": db,
        "channel": spec.channel,
        "layout": "[frames, bins] float32, C order (hopscope analyze .npy)",
        "frame_time": if spec.center {
            "frame m centred at m*hop/sr".to_string()
        } else {
            "frame m covers [m*hop, m*hop + win_length)/sr; its newest sample is at (m*hop + win_length - 1)/sr".to_string()
        },
        "dtype": "float32",
    });
    v["snippets"] = json!({
        "librosa": snippet(Lib::Librosa, "EXPORT.json"),
        "torch": snippet(Lib::Torch, "EXPORT.json"),
        "tf": snippet(Lib::Tf, "EXPORT.json"),
    });
    v
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

/// Every file [`write`] creates for `path`: the JSON, then `STEM.librosa.py`,
/// `STEM.torch.py` and `STEM.tf.py` beside it.
///
/// # Errors
/// The path does not end in `.json`.
pub fn paths(path: &Path) -> Result<Vec<PathBuf>> {
    let json_name = json_name(path)?;
    let stem = &json_name[..json_name.len() - 5];
    let mut all = vec![path.to_path_buf()];
    for lib in [Lib::Librosa, Lib::Torch, Lib::Tf] {
        all.push(path.with_file_name(format!("{stem}.{}.py", lib.key())));
    }
    Ok(all)
}

/// Writes the JSON and its three snippets ([`paths`]) under temporary names, for the
/// caller to commit with the run's other outputs.
///
/// # Errors
/// The path does not end in `.json`, or a file cannot be written.
pub fn stage(path: &Path, spec: &ExportSpec<'_>) -> Result<Vec<Staged>> {
    let json_name = json_name(path)?;
    let mut value = to_json(spec);
    for lib in [Lib::Librosa, Lib::Torch, Lib::Tf] {
        value["snippets"][lib.key()] = json!(snippet(lib, json_name));
    }
    let text = serde_json::to_string_pretty(&value).expect("a JSON value always serialises");
    let mut texts = vec![text];
    texts.extend([Lib::Librosa, Lib::Torch, Lib::Tf].map(|lib| snippet(lib, json_name)));
    paths(path)?
        .iter()
        .zip(texts)
        .map(|(p, text)| stage_text(p, &text))
        .collect()
}

/// Writes `path` (the JSON) and its three snippets next to it, all or none.
///
/// # Errors
/// The path does not end in `.json`, or a file cannot be written.
pub fn write(path: &Path, spec: &ExportSpec<'_>) -> Result<Vec<PathBuf>> {
    let staged = stage(path, spec)?;
    let written = staged.iter().map(|s| s.target().to_path_buf()).collect();
    commit_all(staged)?;
    Ok(written)
}

fn stage_text(path: &Path, text: &str) -> Result<Staged> {
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
}

impl Lib {
    fn key(self) -> &'static str {
        match self {
            Lib::Librosa => "librosa",
            Lib::Torch => "torch",
            Lib::Tf => "tf",
        }
    }
}

/// Shared by the three snippets: loading, framing pads, power/mel/dB.
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

fn snippet(lib: Lib, json_name: &str) -> String {
    let body = match lib {
        Lib::Librosa => LIBROSA,
        Lib::Torch => TORCH,
        Lib::Tf => TF,
    };
    let header = format!(
        "# hopscope export: reproduces `hopscope analyze` rows with {}.\n# usage: python {{this file}} IN.wav OUT.npy   (reads {json_name} beside it)\n",
        lib.key()
    );
    format!("{header}{}{body}", COMMON.replace("__JSON__", json_name))
}
