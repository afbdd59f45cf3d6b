#!/usr/bin/env python3
"""Check `hopscope analyze` against librosa.stft on real-ish signals.

usage: parity.py HOPSCOPE_BIN WORKDIR
Exit 0 iff every case matches within its tolerance; prints one line per case.

Framing: hopscope frame m covers samples [m*hop, m*hop + win_length) (causal).
With win_length == n_fft that is librosa center=False. With a shorter window,
librosa centres it in an n_fft frame at left = (n_fft - win)//2, so the same
frames come from librosa on x padded with `left` zeros in front and
`n_fft - win - left` at the end. `--center` equals librosa center=True,
pad_mode="constant" for every win_length.
"""
import os
import subprocess
import sys

import numpy as np
import librosa
import scipy.io.wavfile
import scipy.signal

REL_TOL = 1e-4
BIN, WORK = sys.argv[1], sys.argv[2]
SR = 48000
rng = np.random.default_rng(20261123)


def signal(seconds):
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * scipy.signal.chirp(t, 50, t[-1], 18000, method="logarithmic")
    x += 0.1 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 3000 * t)
    x += 0.01 * rng.standard_normal(len(t))
    x[::9600] += 0.4  # clicks
    return x.astype(np.float32)


def scipy_window(name, n):
    if name.startswith("kaiser"):
        return scipy.signal.get_window(("kaiser", float(name.split("=")[1])), n)
    if name.startswith("gaussian"):
        return scipy.signal.get_window(("gaussian", float(name.split("=")[1]) * n), n)
    return scipy.signal.get_window({"rect": "boxcar"}.get(name, name), n)


def run(args):
    r = subprocess.run([BIN, "analyze", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"hopscope failed ({r.returncode}): {r.stderr.strip()}")


def librosa_mag(x, n_fft, win, hop, window, center):
    w = scipy_window(window, win)
    if not center and win < n_fft:
        left = (n_fft - win) // 2
        x = np.concatenate([np.zeros(left, x.dtype), x, np.zeros(n_fft - win - left, x.dtype)])
    S = librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win, window=w,
                     center=center, pad_mode="constant")
    return np.abs(S).T, w


failures = 0


def check(name, ours, ref, tol=REL_TOL):
    global failures
    if ours.shape != ref.shape:
        print(f"FAIL {name}: shape {ours.shape} != librosa {ref.shape}")
        failures += 1
        return
    scale = np.abs(ref).max()
    err = np.abs(ours.astype(np.float64) - ref).max() / scale
    ok = err <= tol
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}: shape {ours.shape}, max|diff|/max|ref| = {err:.2e} (tol {tol:g})")


x = signal(3.0)
mono = os.path.join(WORK, "mono_f32.wav")
scipy.io.wavfile.write(mono, SR, x)

cases = [
    (2048, 2048, 512, "hann"), (1024, 1024, 256, "hamming"), (4096, 4096, 1024, "blackman"),
    (1024, 600, 128, "hann"), (1000, 1000, 250, "blackmanharris"), (512, 400, 160, "flattop"),
    (2048, 2048, 512, "kaiser=8.6"), (2048, 1500, 300, "gaussian=0.2"), (256, 256, 64, "rect"),
    # Odd n_fft, the signal a multiple of the hop: centred, librosa has 1 + (L - 1)//hop
    # frames, not 1 + L//hop (hopscope wrote one more; found by tests/it/fuzz_wav.rs).
    (1025, 1024, 250, "hann"), (17, 17, 4, "hann"),
]
for n_fft, win, hop, window in cases:
    for center in (False, True):
        out = os.path.join(WORK, "out.npy")
        args = [mono, "-o", out, "--n-fft", str(n_fft), "--win-length", str(win), "--hop", str(hop),
                "--window", window, "--scale", "magnitude"] + (["--center"] if center else [])
        run(args)
        ref, _ = librosa_mag(x.astype(np.float64), n_fft, win, hop, window, center)
        check(f"magnitude n_fft={n_fft} win={win} hop={hop} {window} center={center}", np.load(out), ref)

# Power and calibrated dB against the same librosa STFT.
out = os.path.join(WORK, "p.npy")
ref, w = librosa_mag(x.astype(np.float64), 2048, 2048, 512, "hann", False)
run([mono, "-o", out, "--scale", "power"])
check("power 2048/512 hann", np.load(out), ref ** 2)
run([mono, "-o", out, "--scale", "db"])
gain = np.full(ref.shape[1], 2.0 / w.sum())
gain[0] = gain[-1] = 1.0 / w.sum()
ref_db = 20 * np.log10(np.maximum(ref * gain, 1e-10))
ours = np.load(out)
# f32 round-off is ~1e-7 of the frame's peak, so the dB error grows as a bin falls below it.
for floor, tol in ((-60, 1e-3), (-120, 1e-2)):
    db_err = np.abs(ours - ref_db)[ref_db > floor].max()
    ok = db_err <= tol
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} dBFS 2048/512 hann vs 20*log10(2|X|/S1): max |diff| = {db_err:.2e} dB "
          f"over bins above {floor} dBFS (tol {tol:g})")

# Integer stereo WAV, mixed to mono; and one channel.
left, right = x, (0.5 * signal(3.0)).astype(np.float32)
st = np.stack([left, right], axis=1)
st16 = np.round(np.clip(st, -1, 32767 / 32768) * 32768).astype(np.int16)
stereo = os.path.join(WORK, "stereo_i16.wav")
scipy.io.wavfile.write(stereo, SR, st16)
f = st16.astype(np.float64) / 32768
run([stereo, "-o", out, "--scale", "magnitude"])
check("int16 stereo mix 2048/512 hann", np.load(out), librosa_mag(f.mean(axis=1), 2048, 2048, 512, "hann", False)[0])
run([stereo, "-o", out, "--scale", "magnitude", "--channel", "1", "--center"])
check("int16 stereo --channel 1 --center", np.load(out), librosa_mag(f[:, 1], 2048, 2048, 512, "hann", True)[0])

# Mel (DSP.md §7): `--mel N` rows = mel_basis @ |X|^2 (power), @ |X| (magnitude), or the
# calibrated bin powers summed then in dBFS. Oracles: librosa.filters.mel (Slaney and
# HTK), and a numpy transliteration of tf.signal.linear_to_mel_weight_matrix (float64).
def tf_mel_matrix(n_mels, bins, sr, lo_hz, hi_hz):
    mel = lambda f: 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)
    freqs = np.linspace(0.0, sr / 2.0, bins)[1:]
    edges = np.linspace(mel(lo_hz), mel(hi_hz), n_mels + 2)
    m = mel(freqs)[:, None]
    lower = (m - edges[None, :-2]) / (edges[None, 1:-1] - edges[None, :-2])
    upper = (edges[None, 2:] - m) / (edges[None, 2:] - edges[None, 1:-1])
    w = np.maximum(0.0, np.minimum(lower, upper))
    return np.pad(w, [[1, 0], [0, 0]]).T  # [n_mels, bins], DC row zero


mag, w = librosa_mag(x.astype(np.float64), 2048, 2048, 512, "hann", False)
mel_cases = [
    ("librosa default (slaney, norm slaney) 128", ["--mel", "128"],
     librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128)),
    ("htk norm none 40 mels 50-16000 Hz (torchaudio)", ["--mel", "40", "--mel-scale", "htk", "--mel-fmin", "50", "--mel-fmax", "16000"],
     librosa.filters.mel(sr=SR, n_fft=2048, n_mels=40, fmin=50, fmax=16000, htk=True, norm=None)),
    ("slaney scale, no norm 64", ["--mel", "64", "--mel-norm", "none"],
     librosa.filters.mel(sr=SR, n_fft=2048, n_mels=64, norm=None)),
    ("tf 80 mels 125-7600 Hz", ["--mel", "80", "--mel-scale", "tf", "--mel-fmin", "125", "--mel-fmax", "7600"],
     tf_mel_matrix(80, 1025, SR, 125.0, 7600.0)),
]
for name, flags, basis in mel_cases:
    basis = np.asarray(basis, np.float64)
    run([mono, "-o", out, "--scale", "power", *flags])
    check(f"mel power {name}", np.load(out), (mag ** 2) @ basis.T)
run([mono, "-o", out, "--scale", "magnitude", "--mel", "128"])
check("mel magnitude (power=1) librosa default 128", np.load(out), mag @ np.asarray(librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128), np.float64).T)
run([mono, "-o", out, "--scale", "db", "--mel", "128"])
basis = np.asarray(librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128), np.float64)
gain2 = np.full(mag.shape[1], (2.0 / w.sum()) ** 2)
gain2[0] = gain2[-1] = (1.0 / w.sum()) ** 2
ref_db = 10 * np.log10(np.maximum(((mag ** 2) * gain2) @ basis.T, 1e-20))
db_err = np.abs(np.load(out) - ref_db)[ref_db > -100].max()
ok = db_err <= 1e-3
failures += not ok
print(f"{'ok  ' if ok else 'FAIL'} mel dBFS 128 vs 10*log10(mel(calibrated |X|^2)): max |diff| = {db_err:.2e} dB over bands above -100 dBFS (tol 0.001)")

print(f"parity: {failures} failing case(s)")
sys.exit(1 if failures else 0)
