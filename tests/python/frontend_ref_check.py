#!/usr/bin/env python3
"""Self-check of frontend_ref.py.

usage: frontend_ref_check.py [--ml]

Runs every front-end's light impl on two 16 kHz signals (a speech-like one and white
noise at -20 dBFS RMS), 3.3 s long (a partial last hop) and 1.0 s long, and prints
frames x bands and the value range, and compares the default impl with the other light
impls (kaldi hf-numpy, keras-mel jax64). With --ml (make test-ml's venv), also runs each
ML impl on the same signals and prints the max abs difference from the default impl. Also round-trips one signal through a 16-bit WAV and the
CLI. Exit 1 if an impl fails, if frame counts of light and ML differ, or if a light-vs-ML
difference is over its tolerance.
"""
import os
import subprocess
import sys
import tempfile

import importlib.util

import numpy as np
import scipy.io.wavfile
import scipy.signal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frontend_ref  # noqa: E402

SR = 16000

# Light-vs-ML tolerances (max abs, in the front-end's output units). Whisper and AST are
# float32 pipelines on both sides, kaldi's ln is float32: 1e-4 leaves margin above
# float32 rounding. keras-mel is in dB (top 80 dB span). torchaudio-mel and
# tf-tutorial are linear power / magnitude: relative to the max, see REL.
TOL = {
    "whisper": 1e-4,
    "whisper-128": 1e-4,
    "yamnet": 1e-3,
    "vggish": 1e-3,
    "kaldi-fbank": 1e-3,
    "kaldi-fbank-80": 1e-3,
    "ast": 1e-4,
    "keras-mel": 1e-3,
}
REL = {"tf-tutorial": 1e-5, "torchaudio-mel": 3e-5}


def speech_like(seconds, seed=1):
    """Glottal-pulse train (f0 wandering 100-180 Hz) through three moving formant
    resonators, in syllables separated by pauses, plus noise 60 dB down."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * SR))
    t = np.arange(n) / SR
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = np.cumsum(f0 / SR)
    pulses = np.diff(np.floor(phase), prepend=0.0)
    # Rosenberg-like glottal pulse shape: smooth the impulse train.
    g = np.hanning(40)
    src = np.convolve(pulses, g / g.sum(), mode="same")
    src = np.diff(src, prepend=0.0)  # lip radiation
    y = np.zeros(n)
    block = 320
    for k in range(3):
        fc = [(500, 900), (1200, 2200), (2500, 3200)][k]
        bw = [80, 120, 200][k]
        out = np.zeros(n)
        zi = np.zeros(2)
        for s in range(0, n, block):
            tt = t[s]
            f = fc[0] + (fc[1] - fc[0]) * (0.5 + 0.5 * np.sin(2 * np.pi * (0.9 + 0.3 * k) * tt))
            r = np.exp(-np.pi * bw / SR)
            a = [1.0, -2 * r * np.cos(2 * np.pi * f / SR), r * r]
            b = [1.0 - r]
            out[s : s + block], zi = scipy.signal.lfilter(b, a, src[s : s + block], zi=zi)
        y += out * [1.0, 0.6, 0.3][k]
    # Syllables: 180 ms on, 90 ms pause, with 10 ms ramps.
    env = ((t % 0.27) < 0.18).astype(float)
    env = np.convolve(env, np.ones(160) / 160, mode="same")
    y *= env
    y *= 0.5 / np.max(np.abs(y))
    y += 0.0005 * rng.standard_normal(n)
    return y


def white(seconds, seed=2):
    rng = np.random.default_rng(seed)
    return 0.1 * rng.standard_normal(int(round(seconds * SR)))  # -20 dBFS RMS


def run(name, impl, x):
    try:
        return frontend_ref.features(name, x, SR, impl), None
    except Exception as e:  # noqa: BLE001
        return None, f"{type(e).__name__}: {e}"


def main():
    ml = "--ml" in sys.argv[1:]
    signals = {
        "speech3.3": speech_like(3.3),
        "noise3.3": white(3.3),
        "speech1.0": speech_like(1.0),
        "noise1.0": white(1.0),
    }
    bad = 0
    for name, (_, light, impls) in frontend_ref.FRONTENDS.items():
        if name == "keras-mel" and importlib.util.find_spec("jax") is None:
            print(f"{name:24s} skipped: keras needs jax, which only the ML venv has")
            continue
        for sname, x in signals.items():
            a, err = run(name, light, x)
            if err:
                print(f"{name:24s} {light:10s} {sname:10s} FAILED {err}")
                bad += 1
                continue
            print(
                f"{name:24s} {light:10s} {sname:10s} {a.shape[0]:4d} x {a.shape[1]:3d}"
                f"  [{a.min():+.6g}, {a.max():+.6g}]"
            )
            for impl in impls:
                if impl == light or not (ml or (name, impl) in frontend_ref.LIGHT_EXTRA):
                    continue
                b, err = run(name, impl, x)
                if err:
                    print(f"{name:24s} {impl:10s} {sname:10s} FAILED {err}")
                    bad += 1
                    continue
                if b.shape != a.shape:
                    print(f"{name:24s} {impl:10s} {sname:10s} SHAPE {b.shape} != light {a.shape}")
                    bad += 1
                    continue
                d = np.abs(a - b)
                diff = float(d.max())
                if name in REL:
                    lim = REL[name] * float(np.abs(a).max())
                else:
                    lim = TOL[name]
                where = np.unravel_index(np.argmax(d), d.shape)
                ok = diff <= lim
                bad += not ok
                print(
                    f"{name:24s} {impl:10s} {sname:10s} {b.shape[0]:4d} x {b.shape[1]:3d}"
                    f"  [{b.min():+.6g}, {b.max():+.6g}]  max|light-{impl}| = {diff:.3g}"
                    f" at {tuple(int(i) for i in where)} (limit {lim:.3g}) {'ok' if ok else 'OVER'}"
                )
    # The CLI on a 16-bit WAV: equals features() of the same quantised samples.
    with tempfile.TemporaryDirectory() as d:
        x = signals["speech1.0"]
        pcm = np.round(x * 32767).astype(np.int16)
        wav, npy = os.path.join(d, "x.wav"), os.path.join(d, "y.npy")
        scipy.io.wavfile.write(wav, SR, pcm)
        subprocess.run(
            [sys.executable, frontend_ref.__file__, "whisper", wav, npy], check=True
        )
        got = np.load(npy)
        want = frontend_ref.features("whisper", pcm / 32768.0, SR)
        cli_ok = got.dtype == np.float64 and np.array_equal(got, want)
        print(f"CLI whisper on int16 WAV: {got.shape} float64={got.dtype == np.float64} equal={cli_ok}")
        bad += not cli_ok
        scipy.io.wavfile.write(wav, 22050, pcm)
        r = subprocess.run(
            [sys.executable, frontend_ref.__file__, "whisper", wav, npy], capture_output=True, text=True
        )
        rate_ok = r.returncode != 0 and "22050" in r.stderr
        print(f"CLI refuses a 22050 Hz file: {rate_ok} ({r.stderr.strip().splitlines()[-1] if r.stderr else ''})")
        bad += not rate_ok
    print(f"{'FAILED' if bad else 'OK'}: {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
