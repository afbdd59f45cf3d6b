//! The built-in front-ends, each the parameter set of a reference implementation
//! (../shared/FRONTENDS.md; the versions each matches are in [`REFERENCES`] and the
//! README). `tests/e2e/frontend_parity.rs` runs every reference on the same audio.
//!
//! Thread: any (builds plain data). Allocates: yes.

use std::f64::consts::PI;

use super::{
    Affine, ClampSpec, Framing, FrontendSpec, LogFunc, LogSpec, MelMatrix, ModelInput, Pad,
    Preemphasis, Spectrum, Triangles,
};
use crate::dsp::mel::{hz_to_mel, mel_to_hz, weights_f64, MelNorm, MelScale, MelSpec};
use crate::dsp::window::WindowKind;

/// Every built-in name, in the order `hopscope frontends` lists them and the live key
/// cycles them.
pub const NAMES: [&str; 11] = [
    "whisper",
    "whisper-128",
    "yamnet",
    "vggish",
    "kaldi-fbank",
    "kaldi-fbank-80",
    "ast",
    "python-speech-features",
    "tf-tutorial",
    "keras-mel",
    "torchaudio-mel",
];

/// The reference implementation each built-in is tested against (light tier first).
pub const REFERENCES: [(&str, &str); 11] = [
    (
        "whisper",
        "transformers 5.25.0 WhisperFeatureExtractor (numpy); openai-whisper 20250625 log_mel_spectrogram",
    ),
    (
        "whisper-128",
        "transformers 5.25.0 WhisperFeatureExtractor(feature_size=128); openai-whisper 20250625",
    ),
    (
        "yamnet",
        "torchvggish 0.2 mel_features.py (numpy); YAMNet features.py (tf.signal, TF 2.21)",
    ),
    (
        "vggish",
        "torchvggish 0.2 mel_features.py (numpy); YAMNet/VGGish tf.signal code",
    ),
    (
        "kaldi-fbank",
        "kaldi-native-fbank 1.23.0 (dither 0); torchaudio.compliance.kaldi.fbank",
    ),
    (
        "kaldi-fbank-80",
        "kaldi-native-fbank 1.23.0 (dither 0, 80 bins); torchaudio.compliance.kaldi.fbank",
    ),
    (
        "ast",
        "kaldi-native-fbank 1.23.0 (hanning, 128 bins) + AST normalisation; transformers ASTFeatureExtractor",
    ),
    ("python-speech-features", "python_speech_features 0.6 logfbank"),
    ("tf-tutorial", "tf.signal.stft(frame_length=255, frame_step=128), TF 2.21"),
    (
        "keras-mel",
        "keras 3.15.1 layers.MelSpectrogram() (jax and tensorflow backends)",
    ),
    (
        "torchaudio-mel",
        "librosa 0.11.0 melspectrogram (htk, norm=None); torchaudio transforms.MelSpectrogram",
    ),
];

/// The built-in front-end `name`.
pub fn by_name(name: &str) -> Option<FrontendSpec> {
    let spec = match name {
        "whisper" => whisper(80),
        "whisper-128" => whisper(128),
        "yamnet" => audioset("yamnet", 0.001),
        "vggish" => audioset("vggish", 0.01),
        "kaldi-fbank" => kaldi(23),
        "kaldi-fbank-80" => kaldi(80),
        "ast" => ast(),
        "python-speech-features" => psf(),
        "tf-tutorial" => tf_tutorial(),
        "keras-mel" => keras_mel(),
        "torchaudio-mel" => torchaudio_mel(),
        _ => return None,
    };
    Some(spec)
}

/// Every built-in, in [`NAMES`] order.
pub fn all() -> Vec<FrontendSpec> {
    NAMES
        .iter()
        .map(|n| by_name(n).expect("every name in NAMES is built in"))
        .collect()
}

fn reference(name: &str) -> String {
    REFERENCES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(String::new, |(_, r)| (*r).to_string())
}

/// A spec with the fields every built-in shares (16 kHz, float waveform, no
/// pre-processing, no clamp), to be completed.
fn base(name: &str, n_fft: usize, win_length: usize, hop: usize) -> FrontendSpec {
    FrontendSpec {
        name: name.into(),
        description: String::new(),
        reference: reference(name),
        sample_rate_hz: 16_000,
        n_fft,
        win_length,
        hop,
        window: WindowKind::Hann.coefficients_f64(win_length),
        window_name: "hann (periodic)".into(),
        waveform_scale: 1.0,
        preemphasis: None,
        remove_dc: false,
        framing: Framing::Valid,
        drop_last_frame: false,
        spectrum: Spectrum::Power,
        spectrum_scale: 1.0,
        mel: None,
        log: None,
        clamp: None,
        affine: None,
        model_input: None,
        units: String::new(),
        display_range: (0.0, 1.0),
    }
}

fn whisper(n_mels: usize) -> FrontendSpec {
    let name = if n_mels == 80 {
        "whisper"
    } else {
        "whisper-128"
    };
    FrontendSpec {
        description: format!(
            "OpenAI Whisper log-mel, {n_mels} bands (large-v3 uses 128, the others 80)"
        ),
        framing: Framing::Center { pad: Pad::Reflect },
        drop_last_frame: true,
        mel: Some(mel_matrix(MelSpec::librosa(n_mels, 16_000), 400)),
        log: Some(LogSpec {
            func: LogFunc::Log10,
            offset: 0.0,
            floor: 1e-10,
            reference: 1.0,
        }),
        clamp: Some(ClampSpec {
            below_max: 8.0,
            live_span_s: 30.0,
        }),
        affine: Some(Affine { add: 4.0, div: 4.0 }),
        model_input: Some(ModelInput {
            frames: 3000,
            hop_frames: 3000,
            text: format!("{n_mels} × 3000 per 30 s (audio padded with zeros or cut to 30 s)"),
        }),
        units: "Whisper log-mel: (max(log10 P, max − 8) + 4)/4".into(),
        display_range: (-1.0, 1.5),
        ..base(name, 400, 400, 160)
    }
}

fn audioset(name: &str, log_offset: f64) -> FrontendSpec {
    let (description, model_input) = if name == "yamnet" {
        (
            "Google YAMNet (AudioSet, 521 classes) log-mel of magnitudes",
            ModelInput {
                frames: 96,
                hop_frames: 48,
                text: "96 × 64 patches (0.96 s) every 48 frames (0.48 s)".into(),
            },
        )
    } else {
        (
            "Google VGGish (AudioSet embeddings) log-mel of magnitudes",
            ModelInput {
                frames: 96,
                hop_frames: 96,
                text: "96 × 64 examples (0.96 s), back to back".into(),
            },
        )
    };
    FrontendSpec {
        description: description.into(),
        spectrum: Spectrum::Magnitude,
        mel: Some(mel_matrix(tf_mel(64, 125.0, 7500.0), 512)),
        log: Some(LogSpec {
            func: LogFunc::Ln,
            offset: log_offset,
            floor: 0.0,
            reference: 1.0,
        }),
        model_input: Some(model_input),
        units: format!("ln(mel |X| + {log_offset})"),
        display_range: ((log_offset.ln() as f32).floor(), 3.0),
        ..base(name, 512, 400, 160)
    }
}

/// torchaudio.compliance.kaldi.fbank's defaults (dither 0): povey window, DC removal and
/// pre-emphasis per frame, snip edges, power, `ln(max(x, f32::EPSILON))`.
fn kaldi_base(name: &str, n_mels: usize) -> FrontendSpec {
    FrontendSpec {
        window: povey(400),
        window_name: "povey (symmetric hann ^ 0.85)".into(),
        preemphasis: Some(Preemphasis::Frame(0.97)),
        remove_dc: true,
        mel: Some(mel_matrix(tf_mel(n_mels, 20.0, 8000.0), 512)),
        log: Some(LogSpec {
            func: LogFunc::Ln,
            offset: 0.0,
            floor: f64::from(f32::EPSILON),
            reference: 1.0,
        }),
        units: "ln(mel power), float waveform (torchaudio's scale)".into(),
        display_range: (-16.0, 6.0),
        ..base(name, 512, 400, 160)
    }
}

fn kaldi(n_mels: usize) -> FrontendSpec {
    let name = if n_mels == 23 {
        "kaldi-fbank"
    } else {
        "kaldi-fbank-80"
    };
    FrontendSpec {
        description: format!(
            "Kaldi fbank, {n_mels} bins (torchaudio.compliance.kaldi.fbank defaults, dither 0)"
        ),
        ..kaldi_base(name, n_mels)
    }
}

fn ast() -> FrontendSpec {
    // ASTFeatureExtractor: kaldi fbank with a symmetric Hann ("hanning"), 128 bins, then
    // (x − mean)/(2·std) with AudioSet's mean −4.2677393 and std 4.5689974.
    FrontendSpec {
        description: "Audio Spectrogram Transformer (HF ASTFeatureExtractor, AudioSet)".into(),
        window: symmetric_hann(400),
        window_name: "hanning (symmetric hann)".into(),
        affine: Some(Affine {
            add: 4.267_739_3,
            div: 2.0 * 4.568_997_4,
        }),
        model_input: Some(ModelInput {
            frames: 1024,
            hop_frames: 1024,
            text: "128 × 1024 per 10.24 s (frames padded with 0 before scaling, or cut)".into(),
        }),
        units: "AST: (ln mel power + 4.2677)/(2 · 4.5690)".into(),
        display_range: (-1.3, 1.2),
        ..kaldi_base("ast", 128)
    }
}

fn psf() -> FrontendSpec {
    FrontendSpec {
        description: "python_speech_features logfbank defaults (26 filters, rectangular window)"
            .into(),
        window: vec![1.0; 400],
        window_name: "rectangular".into(),
        preemphasis: Some(Preemphasis::Signal(0.97)),
        framing: Framing::PadEnd,
        spectrum_scale: 1.0 / 512.0,
        mel: Some(psf_filterbank(26, 512, 16_000, 0.0, 8000.0)),
        log: Some(LogSpec {
            func: LogFunc::Ln,
            offset: 0.0,
            floor: f64::EPSILON,
            reference: 1.0,
        }),
        units: "ln(mel power / n_fft)".into(),
        display_range: (-20.0, 2.0),
        ..base("python-speech-features", 512, 400, 160)
    }
}

fn tf_tutorial() -> FrontendSpec {
    FrontendSpec {
        description: "TensorFlow 'simple audio' tutorial: |tf.signal.stft(x, 255, 128)|".into(),
        window: symmetric_hann(255),
        window_name: "tf.signal.hann_window(255): symmetric (odd length)".into(),
        spectrum: Spectrum::Magnitude,
        model_input: Some(ModelInput {
            frames: 124,
            hop_frames: 124,
            text: "124 × 129 per 1 s clip (zero-padded to 16000 samples)".into(),
        }),
        units: "|X| (linear; log colour)".into(),
        display_range: (1e-3, 30.0),
        ..base("tf-tutorial", 256, 255, 128)
    }
}

fn keras_mel() -> FrontendSpec {
    FrontendSpec {
        description: "keras 3 layers.MelSpectrogram() defaults at 16 kHz".into(),
        framing: Framing::Center { pad: Pad::Reflect },
        mel: Some(keras_mel_matrix(128, 20.0, 8000.0, 16_000, 2048)),
        log: Some(LogSpec {
            func: LogFunc::Db10,
            offset: 0.0,
            floor: 1e-10,
            reference: 1.0,
        }),
        clamp: Some(ClampSpec {
            below_max: 80.0,
            live_span_s: 30.0,
        }),
        units: "dB: 10·log10(mel power), clamped at max − 80".into(),
        display_range: (-20.0, 60.0),
        ..base("keras-mel", 2048, 2048, 512)
    }
}

fn torchaudio_mel() -> FrontendSpec {
    let spec = MelSpec {
        n_mels: 128,
        fmin_hz: 0.0,
        fmax_hz: 8000.0,
        scale: MelScale::Htk,
        norm: MelNorm::None,
    };
    FrontendSpec {
        description: "torchaudio transforms.MelSpectrogram() defaults".into(),
        framing: Framing::Center { pad: Pad::Reflect },
        mel: Some(mel_matrix(spec, 400)),
        units: "mel power |X|² (linear; log colour)".into(),
        display_range: (1e-6, 1e3),
        ..base("torchaudio-mel", 400, 400, 200)
    }
}

/// `0.5 − 0.5·cos(2πn/(N−1))`: Kaldi's `hanning`, TF's odd-length `hann_window`.
fn symmetric_hann(len: usize) -> Vec<f64> {
    if len == 1 {
        return vec![1.0];
    }
    (0..len)
        .map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / (len - 1) as f64).cos())
        .collect()
}

/// Kaldi's `povey`: the symmetric Hann to the power 0.85.
fn povey(len: usize) -> Vec<f64> {
    symmetric_hann(len)
        .into_iter()
        .map(|w| w.powf(0.85))
        .collect()
}

/// The mel stage of `spec` at 16 kHz for `n_fft`, with the weights `dsp::mel` computes
/// (its filterbank's own construction before the f32 storage): TF's triangles straight
/// in mel, in f64 (`linear_to_mel_weight_matrix`, VGGish's `mel_features.py`, and
/// Kaldi's `get_mel_banks`: with fmin > 0 its DC weights are zero as TF's, and its
/// Nyquist bin is the last edge); librosa's and torchaudio's straight in Hz, rounded to
/// f32 as librosa stores them.
fn mel_matrix(spec: MelSpec, n_fft: usize) -> MelMatrix {
    let bins = n_fft / 2 + 1;
    let tf = spec.scale == MelScale::Tf;
    let weights = weights_f64(&spec, 16_000, n_fft)
        .chunks_exact(bins)
        .map(|row| {
            row.iter()
                .map(|&w| if tf { w } else { f64::from(w as f32) })
                .collect()
        })
        .collect();
    MelMatrix {
        weights,
        scale: spec.scale,
        fmin_hz: spec.fmin_hz,
        fmax_hz: spec.fmax_hz,
        slaney_norm: spec.norm == MelNorm::Slaney,
        triangles: if tf { Triangles::Mel } else { Triangles::Hz },
    }
}

/// TF's mel convention (`1127·ln`, no norm) over `fmin_hz..fmax_hz`.
fn tf_mel(n_mels: usize, fmin_hz: f64, fmax_hz: f64) -> MelSpec {
    MelSpec {
        n_mels,
        fmin_hz,
        fmax_hz,
        scale: MelScale::Tf,
        norm: MelNorm::None,
    }
}

/// keras 3's `MelSpectrogram._linear_to_mel_weight_matrix`: TF's construction (see
/// [`mel_matrix`]) evaluated in float32, as keras builds it whatever the
/// layer's dtype; its weights differ from the f64 ones by up to 3e-5, which moves the
/// output by up to 5e-4 dB: the preset takes keras's own.
fn keras_mel_matrix(
    n: usize,
    fmin_hz: f64,
    fmax_hz: f64,
    sample_rate_hz: u32,
    n_fft: usize,
) -> MelMatrix {
    let bins = n_fft / 2 + 1;
    let mel = |f: f32| 1127.0f32 * (1.0f32 + f / 700.0f32).ln();
    let linspace = |a: f32, b: f32, k: usize, i: usize| -> f32 {
        if i == k - 1 {
            b
        } else {
            a + i as f32 * ((b - a) / (k - 1) as f32)
        }
    };
    let (m0, m1) = (mel(fmin_hz as f32), mel(fmax_hz as f32));
    let nyquist = sample_rate_hz as f32 / 2.0;
    let weights = (0..n)
        .map(|i| {
            let (lo, c, hi) = (
                linspace(m0, m1, n + 2, i),
                linspace(m0, m1, n + 2, i + 1),
                linspace(m0, m1, n + 2, i + 2),
            );
            (0..bins)
                .map(|k| {
                    if k == 0 {
                        return 0.0;
                    }
                    let m = mel(linspace(0.0, nyquist, bins, k));
                    f64::from(((m - lo) / (c - lo)).min((hi - m) / (hi - c)).max(0.0))
                })
                .collect()
        })
        .collect();
    MelMatrix {
        weights,
        scale: MelScale::Tf,
        fmin_hz,
        fmax_hz,
        slaney_norm: false,
        triangles: Triangles::Mel,
    }
}

/// python_speech_features' `get_filterbanks`: `2595·log10` mel edges mapped to integer
/// bins `floor((n_fft + 1)·f/sr)`, triangles rising and falling over those bins.
fn psf_filterbank(
    n: usize,
    n_fft: usize,
    sample_rate_hz: u32,
    fmin_hz: f64,
    fmax_hz: f64,
) -> MelMatrix {
    let (m0, m1) = (
        hz_to_mel(MelScale::Htk, fmin_hz),
        hz_to_mel(MelScale::Htk, fmax_hz),
    );
    let sr = f64::from(sample_rate_hz);
    // numpy.linspace(lowmel, highmel, nfilt + 2), then floor((nfft+1)*mel2hz(m)/sr).
    let step = (m1 - m0) / (n + 1) as f64;
    let bin: Vec<usize> = (0..n + 2)
        .map(|i| {
            let m = if i == n + 1 { m1 } else { m0 + i as f64 * step };
            ((n_fft + 1) as f64 * mel_to_hz(MelScale::Htk, m) / sr).floor() as usize
        })
        .collect();
    let bins = n_fft / 2 + 1;
    let weights = (0..n)
        .map(|j| {
            let mut row = vec![0.0; bins];
            let (a, b, c) = (bin[j], bin[j + 1], bin[j + 2]);
            for (i, w) in row.iter_mut().enumerate().take(b).skip(a) {
                *w = (i - a) as f64 / (b - a) as f64;
            }
            for (i, w) in row.iter_mut().enumerate().take(c).skip(b) {
                *w = (c - i) as f64 / (c - b) as f64;
            }
            row
        })
        .collect();
    MelMatrix {
        weights,
        scale: MelScale::Htk,
        fmin_hz,
        fmax_hz,
        slaney_norm: false,
        triangles: Triangles::FftBins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_is_valid_and_named_as_listed() {
        for (spec, name) in all().iter().zip(NAMES) {
            assert_eq!(spec.name, name);
            spec.validate().expect("built-ins are valid");
            assert!(!spec.reference.is_empty(), "{name} names its reference");
            assert!(!spec.units.is_empty(), "{name} names its units");
        }
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn shapes_match_the_references_frame_counts() {
        // FRONTENDS.md: YAMNet 1 s → 98 frames, python_speech_features 1 s → 99, the TF
        // tutorial 124 × 129, Whisper 30 s → 3000.
        let rows = |n: &str, s: u64| by_name(n).expect("built in").rows_for(s);
        assert_eq!(rows("yamnet", 16_000), 98);
        assert_eq!(rows("python-speech-features", 16_000), 99);
        assert_eq!(rows("tf-tutorial", 16_000), 124);
        assert_eq!(by_name("tf-tutorial").expect("built in").bands(), 129);
        assert_eq!(rows("whisper", 480_000), 3000);
        assert_eq!(rows("kaldi-fbank", 16_000), 98);
        assert_eq!(rows("torchaudio-mel", 16_000), 81);
    }

    #[test]
    fn povey_is_the_symmetric_hann_to_the_085() {
        let w = povey(400);
        assert_eq!(w[0], 0.0);
        assert_eq!(w[399], 0.0);
        // Centre pair of an even symmetric window: 0.5 − 0.5·cos(π·399/399... ) closed form.
        let c = (0.5 - 0.5 * (2.0 * PI * 200.0 / 399.0).cos()).powf(0.85);
        assert!((w[200] - c).abs() < 1e-15);
    }

    #[test]
    fn psf_triangles_sit_on_integer_bins() {
        let m = psf_filterbank(26, 512, 16_000, 0.0, 8000.0);
        // The first filter's edges: floor(513·mel2hz(k·step)/16000) for k = 0, 1, 2.
        let step = hz_to_mel(MelScale::Htk, 8000.0) / 27.0;
        let b = |k: f64| (513.0 * mel_to_hz(MelScale::Htk, k * step) / 16_000.0).floor() as usize;
        let row = &m.weights[0];
        assert_eq!(row[b(0.0)], 0.0);
        assert_eq!(row[b(1.0)], 1.0);
        assert_eq!(row[b(2.0)], 0.0);
    }
}
