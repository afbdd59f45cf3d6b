#!/usr/bin/env python3
"""Reference features of the model front-ends that `hopscope analyze --frontend NAME` presets.

usage: frontend_ref.py NAME IN.wav OUT.npy [--impl IMPL]

Writes a float64 .npy of shape [frames, bands] (time first) = the reference front-end's
features for the WHOLE input, at the file's rate, which must be the preset's rate. No
padding or trimming to a model's fixed input length: no Whisper 30 s pad, no AST
1024-frame pad/cut, no YAMNet/VGGish patching (the log-mel frames before patching).
The WAV is read as hopscope reads it: integer PCM / 2**(bits-1), uint8 as (x-128)/128,
float as is; mono, or the mean of the channels.

Each NAME's default impl is the light one (tests/python/requirements.txt: no torch, no
TensorFlow); the others need tests/python/requirements-ml.txt (make test-ml).

| NAME | impl | package==version | the exact call |
|---|---|---|---|
| whisper | hf (light) | transformers==5.25.0 | WhisperFeatureExtractor(feature_size=80)._np_extract_fbank_features(x.astype(float32)[None], "cpu")[0] |
| whisper | openai | openai-whisper==20250625, torch==2.15.0 | whisper.audio.log_mel_spectrogram(x.astype(float32), n_mels=80, padding=0) |
| whisper-128 | hf (light) | transformers==5.25.0 | as whisper with feature_size=128 |
| whisper-128 | openai | openai-whisper==20250625 | log_mel_spectrogram(..., n_mels=128, padding=0) |
| yamnet | numpy (light) | torchvggish==0.2 (mel_features.py only) | mel_features.log_mel_spectrogram(x, audio_sample_rate=16000, log_offset=0.001, window_length_secs=0.025, hop_length_secs=0.010, num_mel_bins=64, lower_edge_hertz=125, upper_edge_hertz=7500) |
| yamnet | tf | tensorflow-cpu==2.21.0 | yamnet_tf_features.log_mel_spectrogram(x, log_offset=0.001): tf.abs(tf.signal.stft(x, 400, 160, 512)) @ tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125, 7500), then tf.math.log(. + 0.001) |
| vggish | numpy (light) | torchvggish==0.2 | as yamnet with log_offset=0.01 (this is VGGish's own vggish_input path) |
| vggish | tf | tensorflow-cpu==2.21.0 | as yamnet tf with log_offset=0.01 |
| kaldi-fbank | knf (light) | kaldi-native-fbank==1.23.0 | OnlineFbank(FbankOptions: dither=0, samp_freq=16000, num_bins=23, rest default = povey, snip_edges, remove_dc, preemph 0.97, low 20, high 0 (= Nyquist), use_energy False); float waveform as given; float32 inside |
| kaldi-fbank | hf-numpy | transformers==5.25.0 | transformers.audio_utils.spectrogram(x32, window_function(400, "povey", periodic=False), 400, 160, fft_length=512, power=2.0, center=False, preemphasis=0.97, mel_filters=mel_filter_bank(257, 23, 20, 8000, 16000, norm=None, mel_scale="kaldi", triangularize_in_mel_space=True), log_mel="log", mel_floor=1.192092955078125e-07, remove_dc_offset=True, dtype=float64).T: float64 (complex64-stored spectrum); within 1.2e-7 of an all-float64 Kaldi fbank |
| kaldi-fbank | torchaudio | torchaudio==2.11.1, torch==2.15.0 | torchaudio.compliance.kaldi.fbank(torch.from_numpy(x32)[None], dither=0.0, num_mel_bins=23, sample_frequency=16000, window_type="povey") |
| kaldi-fbank-80 | knf / hf-numpy / torchaudio | as kaldi-fbank | num_bins / num_mel_filters / num_mel_bins = 80 |
| ast | hf-numpy (light) | transformers==5.25.0 | as kaldi-fbank hf-numpy with window_function(400, "hann", periodic=False) (= Kaldi "hanning") and 128 filters, then (f + 4.2677393) / (2 * 4.5689974): the calls of ASTFeatureExtractor's own no-torchaudio branch, without its torch pad/cut. kaldi-native-fbank cannot be the light AST reference: with 128 bins at 16 kHz / 512 points mel filter 3 covers no FFT bin and knf (like Kaldi) refuses ("You may have set num_mel_bins too large") |
| ast | hf | transformers==5.25.0 + torchaudio==2.11.1, torch==2.15.0 | ASTFeatureExtractor(max_length=n_frames)(x32, sampling_rate=16000, return_tensors="np")["input_values"][0] (its torchaudio kaldi.fbank branch) |
| python-speech-features | psf (light) | python_speech_features==0.6 | python_speech_features.logfbank(x, samplerate=16000) |
| tf-tutorial | scipy (light) | scipy==1.17.1 | abs(scipy.signal.stft(x32, window=hann(255, sym=True), nperseg=255, noverlap=127, nfft=256, boundary=None, padded=False, detrend=False)[2]).T * sum(window) |
| tf-tutorial | tf | tensorflow-cpu==2.21.0 | tf.abs(tf.signal.stft(x32, frame_length=255, frame_step=128)) |
| keras-mel | jax (ML tier: keras needs jax, kept out of the light venv) | keras==3.15.1, jax==0.10.2, jaxlib==0.10.2 | KERAS_BACKEND=jax keras.layers.MelSpectrogram(sampling_rate=16000)(x32).T |
| keras-mel | jax64 | keras==3.15.1, jax==0.10.2, jaxlib==0.10.2 | KERAS_BACKEND=jax JAX_ENABLE_X64=1 keras.layers.MelSpectrogram(sampling_rate=16000, dtype="float64")(x).T: float64 STFT, keras' float32 mel matrix |
| keras-mel | tf | keras==3.15.1, tensorflow-cpu==2.21.0 | KERAS_BACKEND=tensorflow, the same layer (run in a subprocess: the backend is fixed per process) |
| torchaudio-mel | librosa (light) | librosa==0.11.0 | librosa.feature.melspectrogram(y=x (float64), sr=16000, n_fft=400, hop_length=200, win_length=400, window="hann", center=True, pad_mode="reflect", power=2.0, n_mels=128, fmin=0.0, fmax=8000.0, htk=True, norm=None).T |
| torchaudio-mel | torchaudio | torchaudio==2.11.1, torch==2.15.0 | torchaudio.transforms.MelSpectrogram(sample_rate=16000)(torch.from_numpy(x32)).T |

x32 = the waveform as float32 (each of these references computes in float32 or casts to it,
as its own loader does: whisper's ffmpeg loader, the HF extractors' __call__, keras' compute
dtype, the TF tutorial's decode_wav); 16-bit PCM / 32768 is exact in float32. The numpy impls
of yamnet/vggish, python-speech-features, keras-mel jax64 and torchaudio-mel librosa take the
float64 waveform. frontend_ref_check.py prints the light-vs-ML differences.
"""
import argparse
import importlib.util
import os
import subprocess
import sys

import numpy as np
import scipy.io.wavfile

HERE = os.path.dirname(os.path.abspath(__file__))

# NAME -> (sample rate, default impl, all impls)
FRONTENDS = {
    "whisper": (16000, "hf", ("hf", "openai")),
    "whisper-128": (16000, "hf", ("hf", "openai")),
    "yamnet": (16000, "numpy", ("numpy", "tf")),
    "vggish": (16000, "numpy", ("numpy", "tf")),
    "kaldi-fbank": (16000, "knf", ("knf", "hf-numpy", "torchaudio")),
    "kaldi-fbank-80": (16000, "knf", ("knf", "hf-numpy", "torchaudio")),
    "ast": (16000, "hf-numpy", ("hf-numpy", "hf")),
    "python-speech-features": (16000, "psf", ("psf",)),
    "tf-tutorial": (16000, "scipy", ("scipy", "tf")),
    "keras-mel": (16000, "jax", ("jax", "jax64", "tf")),
    "torchaudio-mel": (16000, "librosa", ("librosa", "torchaudio")),
}
LIGHT = {name: spec[1] for name, spec in FRONTENDS.items()}
# Further impls that need no torch/TensorFlow (compared with the default in the light check).
LIGHT_EXTRA = {("kaldi-fbank", "hf-numpy"), ("kaldi-fbank-80", "hf-numpy"), ("keras-mel", "jax64")}

AST_MEAN, AST_STD = -4.2677393, 4.5689974


def read_wav(path):
    """(rate, float64 mono) the way hopscope reads a WAV."""
    rate, data = scipy.io.wavfile.read(path)
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        # scipy returns 24-bit PCM left-justified in int32, so bits = 32 for it: the
        # full-scale divisor is the container's, which is what hopscope's reader does.
        x = data.astype(np.float64) / float(2 ** (8 * data.dtype.itemsize - 1))
    else:
        x = data.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return rate, x


# ---------------------------------------------------------------- whisper
def whisper_hf(x, n_mels):
    # The numpy path is called directly: WhisperFeatureExtractor.__call__ would use torch
    # when it is installed (ML tier) and always pads: with padding="max_length" (default)
    # to 30 s, and even padding="longest" goes through self.pad. _np_extract_fbank_features
    # is exactly what __call__ runs after padding (its input cast to float32 as __call__
    # does), so feeding it the unpadded waveform gives the whole-input features with the
    # -8 clamp over exactly the given input. It returns [bands, frames] float32; the
    # spectrum is stored as complex64 inside transformers' spectrogram().
    from transformers import WhisperFeatureExtractor

    fe = WhisperFeatureExtractor(feature_size=n_mels)
    out = fe._np_extract_fbank_features(x.astype(np.float32)[None, :], "cpu")[0]
    return out.T


def whisper_openai(x, n_mels):
    import whisper.audio

    # padding=0: no zeros appended (transcribe() passes N_SAMPLES); the last STFT frame
    # is dropped inside, as in the HF path.
    out = whisper.audio.log_mel_spectrogram(x.astype(np.float32), n_mels=n_mels, padding=0)
    return out.numpy().T


# ---------------------------------------------------------------- yamnet / vggish
def _mel_features():
    # torchvggish's package __init__ imports torch and resampy; load only its numpy file
    # (installed with pip --no-deps, see scripts/install-deps.sh).
    spec = importlib.util.find_spec("torchvggish")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("torchvggish not installed: pip install --no-deps torchvggish==0.2")
    path = os.path.join(list(spec.submodule_search_locations)[0], "mel_features.py")
    mspec = importlib.util.spec_from_file_location("vggish_mel_features", path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod


def audioset_numpy(x, log_offset):
    mf = _mel_features()
    return mf.log_mel_spectrogram(
        x,
        audio_sample_rate=16000,
        log_offset=log_offset,
        window_length_secs=0.025,
        hop_length_secs=0.010,
        num_mel_bins=64,
        lower_edge_hertz=125.0,
        upper_edge_hertz=7500.0,
    )


def audioset_tf(x, log_offset):
    sys.path.insert(0, HERE)
    import yamnet_tf_features

    return yamnet_tf_features.log_mel_spectrogram(x.astype(np.float32), log_offset)


# ---------------------------------------------------------------- kaldi
def knf_fbank(x, num_bins, window_type="povey"):
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0  # knf's default is 3e-5; torchaudio's is 0
    opts.frame_opts.samp_freq = 16000
    opts.frame_opts.window_type = window_type
    opts.mel_opts.num_bins = num_bins
    # The rest are knf's defaults, equal to torchaudio.compliance.kaldi.fbank's:
    # frame 25 ms / shift 10 ms, snip_edges, remove_dc_offset, preemph 0.97,
    # round_to_power_of_two, low_freq 20, high_freq 0 (= Nyquist), use_energy False,
    # htk_compat False, use_log_fbank, use_power, energy_floor 0.
    assert opts.frame_opts.snip_edges and opts.frame_opts.remove_dc_offset
    assert opts.frame_opts.preemph_coeff == np.float32(0.97) or abs(opts.frame_opts.preemph_coeff - 0.97) < 1e-6
    assert opts.mel_opts.low_freq == 20 and opts.mel_opts.high_freq == 0
    assert not opts.use_energy and opts.use_power and opts.use_log_fbank
    assert not opts.mel_opts.is_librosa and not opts.mel_opts.htk_mode
    fb = knf.OnlineFbank(opts)
    # The waveform in [-1, 1) as given, NOT scaled by 32768 (torchaudio's kaldi.fbank and
    # HF's AST extractor take it so; Kaldi's own tools would see int16 values).
    fb.accept_waveform(16000, x.astype(np.float32).tolist())
    fb.input_finished()
    n = fb.num_frames_ready
    return np.array([fb.get_frame(i) for i in range(n)], dtype=np.float64).reshape(n, num_bins)


def torchaudio_fbank(x, num_bins, window_type="povey"):
    import torch
    import torchaudio.compliance.kaldi as ta_kaldi

    w = torch.from_numpy(x.astype(np.float32))[None, :]
    out = ta_kaldi.fbank(
        w, dither=0.0, num_mel_bins=num_bins, sample_frequency=16000.0, window_type=window_type
    )
    return out.numpy()


def hf_numpy_fbank(x, num_bins, window_type="povey"):
    # transformers' own numpy Kaldi-fbank path: the exact calls of
    # ASTFeatureExtractor._extract_fbank_features's branch without torchaudio
    # (mel_scale="kaldi" = 1127 ln(1 + f/700), triangles in mel space, no norm, symmetric
    # window, snip edges, per-frame DC removal and pre-emphasis 0.97 with the first sample
    # times 0.03, power, ln(max(., 1.1920929e-7))). That branch then needs torch only for
    # torch.from_numpy and the 1024-frame ZeroPad2d/cut, which are left out here.
    # float64 throughout except the complex spectrum, stored as complex64.
    from transformers.audio_utils import mel_filter_bank, spectrogram, window_function

    mel_filters = mel_filter_bank(
        num_frequency_bins=257,
        num_mel_filters=num_bins,
        min_frequency=20,
        max_frequency=16000 // 2,
        sampling_rate=16000,
        norm=None,
        mel_scale="kaldi",
        triangularize_in_mel_space=True,
    )
    win = {"hanning": "hann", "povey": "povey"}[window_type]
    return spectrogram(
        x.astype(np.float32),
        window_function(400, win, periodic=False),
        frame_length=400,
        hop_length=160,
        fft_length=512,
        power=2.0,
        center=False,
        preemphasis=0.97,
        mel_filters=mel_filters,
        log_mel="log",
        mel_floor=1.192092955078125e-07,
        remove_dc_offset=True,
        dtype=np.float64,
    ).T


def ast_norm(fbank):
    return (fbank - AST_MEAN) / (AST_STD * 2)


def ast_hf(x):
    from transformers import ASTFeatureExtractor

    # No pad/cut to 1024 frames: max_length is set to the input's own frame count
    # (snip_edges: 1 + (len - 400) // 160), so _extract_fbank_features neither appends
    # zero rows nor cuts. With torchaudio installed HF calls torchaudio's kaldi.fbank
    # (window_type="hanning", num_mel_bins=128, its other defaults); without it, its
    # numpy spectrogram() port.
    n_frames = 1 + (len(x) - 400) // 160
    fe = ASTFeatureExtractor(max_length=n_frames)
    out = fe(x.astype(np.float32), sampling_rate=16000, return_tensors="np")["input_values"][0]
    return out


# ---------------------------------------------------------------- others
def psf(x):
    import python_speech_features

    return python_speech_features.logfbank(x, samplerate=16000)


def tf_tutorial_scipy(x):
    import scipy.signal

    # tf.signal.stft(frame_length=255, frame_step=128): fft_length = 256 (next power of
    # two), frames [m*128, m*128+255) with no padding, window tf.signal.hann_window(255)
    # which is symmetric (TF's periodic flag only acts on even lengths), frame zero-padded
    # at its END to 256. scipy's stft zero-pads the segment at the end too (fft n=nfft)
    # and divides by sum(window) (scaling="spectrum"): multiplied back here.
    win = scipy.signal.windows.hann(255, sym=True)
    _, _, z = scipy.signal.stft(
        x.astype(np.float32),
        window=win,
        nperseg=255,
        noverlap=255 - 128,
        nfft=256,
        boundary=None,
        padded=False,
        detrend=False,
        return_onesided=True,
    )
    return np.abs(z).T * win.sum()


def tf_tutorial_tf(x):
    import tensorflow as tf

    s = tf.signal.stft(tf.constant(x.astype(np.float32)), frame_length=255, frame_step=128)
    return tf.abs(s).numpy()


_KERAS_SNIPPET = r"""
import sys, numpy as np, keras
x = np.load(sys.argv[1])
dtype = sys.argv[3]
layer = keras.layers.MelSpectrogram(sampling_rate=16000, dtype=dtype)
out = keras.ops.convert_to_numpy(layer(x.astype(dtype)))
np.save(sys.argv[2], np.ascontiguousarray(out.T.astype(np.float64)))
"""


def keras_mel(x, backend, dtype="float32"):
    # The keras backend is fixed at import: run the layer in a child with KERAS_BACKEND.
    # The layer returns [bands, frames] for 1-D input: transposed to [frames, bands].
    # dtype="float64" (impl jax64, with JAX_ENABLE_X64) runs the same layer code with a
    # float64 STFT; its mel matrix stays float32 (linear_to_mel_weight_matrix's default
    # dtype), so jax64 = float64 |STFT|^2 @ keras' float32 matrix, exactly.
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
        np.save(src, np.ascontiguousarray(x))
        env = dict(os.environ, KERAS_BACKEND=backend)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env.setdefault("JAX_PLATFORMS", "cpu")
        if dtype == "float64":
            env["JAX_ENABLE_X64"] = "1"
        subprocess.run([sys.executable, "-c", _KERAS_SNIPPET, src, dst, dtype], env=env, check=True)
        return np.load(dst)


def torchaudio_mel_librosa(x):
    import librosa

    # float64 input: librosa then computes in float64 (torchaudio's float32 result differs
    # from it by ~1e-5 of the maximum).
    return librosa.feature.melspectrogram(
        y=x,
        sr=16000,
        n_fft=400,
        hop_length=200,
        win_length=400,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=2.0,
        n_mels=128,
        fmin=0.0,
        fmax=8000.0,
        htk=True,
        norm=None,
    ).T


def torchaudio_mel_torchaudio(x):
    import torch
    import torchaudio

    m = torchaudio.transforms.MelSpectrogram(sample_rate=16000)
    return m(torch.from_numpy(x.astype(np.float32))).numpy().T


IMPLS = {
    ("whisper", "hf"): lambda x: whisper_hf(x, 80),
    ("whisper", "openai"): lambda x: whisper_openai(x, 80),
    ("whisper-128", "hf"): lambda x: whisper_hf(x, 128),
    ("whisper-128", "openai"): lambda x: whisper_openai(x, 128),
    ("yamnet", "numpy"): lambda x: audioset_numpy(x, 0.001),
    ("yamnet", "tf"): lambda x: audioset_tf(x, 0.001),
    ("vggish", "numpy"): lambda x: audioset_numpy(x, 0.01),
    ("vggish", "tf"): lambda x: audioset_tf(x, 0.01),
    ("kaldi-fbank", "knf"): lambda x: knf_fbank(x, 23),
    ("kaldi-fbank", "torchaudio"): lambda x: torchaudio_fbank(x, 23),
    ("kaldi-fbank-80", "knf"): lambda x: knf_fbank(x, 80),
    ("kaldi-fbank-80", "torchaudio"): lambda x: torchaudio_fbank(x, 80),
    ("kaldi-fbank", "hf-numpy"): lambda x: hf_numpy_fbank(x, 23),
    ("kaldi-fbank-80", "hf-numpy"): lambda x: hf_numpy_fbank(x, 80),
    ("ast", "hf-numpy"): lambda x: ast_norm(hf_numpy_fbank(x, 128, "hanning")),
    ("ast", "hf"): ast_hf,
    ("python-speech-features", "psf"): psf,
    ("tf-tutorial", "scipy"): tf_tutorial_scipy,
    ("tf-tutorial", "tf"): tf_tutorial_tf,
    ("keras-mel", "jax"): lambda x: keras_mel(x, "jax"),
    ("keras-mel", "jax64"): lambda x: keras_mel(x, "jax", "float64"),
    ("keras-mel", "tf"): lambda x: keras_mel(x, "tensorflow"),
    ("torchaudio-mel", "librosa"): torchaudio_mel_librosa,
    ("torchaudio-mel", "torchaudio"): torchaudio_mel_torchaudio,
}


def features(name, x, rate, impl=None):
    """[frames, bands] float64 features of waveform x (float64, mono) at rate."""
    if name not in FRONTENDS:
        raise SystemExit(f"unknown front-end {name!r}: one of {', '.join(FRONTENDS)}")
    want, default, impls = FRONTENDS[name]
    impl = impl or default
    if impl not in impls:
        raise SystemExit(f"{name}: unknown impl {impl!r}: one of {', '.join(impls)}")
    if rate != want:
        raise SystemExit(f"{name}: the input is at {rate} Hz; the front-end's rate is {want} Hz")
    out = np.asarray(IMPLS[(name, impl)](np.asarray(x, dtype=np.float64)), dtype=np.float64)
    assert out.ndim == 2, out.shape
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("name", choices=sorted(FRONTENDS))
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--impl", default=None)
    a = ap.parse_args()
    rate, x = read_wav(a.input)
    np.save(a.output, np.ascontiguousarray(features(a.name, x, rate, a.impl)))


if __name__ == "__main__":
    main()
