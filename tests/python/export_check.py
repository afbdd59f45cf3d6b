#!/usr/bin/env python3
"""Run the snippets `hopscope analyze --export` writes and compare their rows with the
.npy hopscope wrote (1e-4 of the largest value; dBFS rows also 1e-3 dB above -60 dBFS),
and the exported mel matrix with librosa.filters.mel (1e-6). Each line also gives the
largest absolute difference (in dB over every bin, for dBFS rows).

--run names the snippets to run (default: all four); each must be installed, or its
cases fail. The others are only compiled, and the line says so. `make test` runs
`--run librosa,keras` with KERAS_BACKEND=jax (tests/python/requirements.txt), and
`--run librosa` in .venv-librosa-new (the newest librosa); `make test-ml` runs
`--run torch,tf,keras` with KERAS_BACKEND=tensorflow (tests/python/requirements-ml.txt:
torch and tensorflow-cpu). The Keras snippet runs on the backend KERAS_BACKEND names
(Keras' default: tensorflow); the first lines say which librosa and Keras backend ran,
and the librosa snippet must name the running librosa's version as checked.

usage: export_check.py HOPSCOPE_BIN WORKDIR [--run LIB[,LIB...]]   LIB: librosa, torch, tf, keras
"""
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import librosa
import scipy.io.wavfile
import scipy.signal

LIBS = ("librosa", "torch", "tf", "keras")
args = sys.argv[1:]
run = set(LIBS)
if len(args) == 4 and args[2] == "--run":
    run = set(args[3].split(","))
elif len(args) != 2:
    sys.exit(__doc__)
if not run <= set(LIBS):
    sys.exit(f"--run: unknown snippet(s) {sorted(run - set(LIBS))}; known: {', '.join(LIBS)}")
BIN, WORK = args[0], args[1]
SR = 48000
rng = np.random.default_rng(7)
failures = 0


def report(ok, text):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {text}")


t = np.arange(int(2.0 * SR)) / SR
x = 0.3 * scipy.signal.chirp(t, 100, t[-1], 12000, method="logarithmic")
x += 0.1 * np.sin(2 * np.pi * 1000 * t) + 0.005 * rng.standard_normal(len(t))
stereo = np.stack([x, 0.5 * x[::-1]], axis=1)
wav16 = os.path.join(WORK, "in16.wav")
scipy.io.wavfile.write(wav16, SR, np.round(np.clip(stereo, -1, 32767 / 32768) * 32768).astype(np.int16))
wavf = os.path.join(WORK, "inf.wav")
scipy.io.wavfile.write(wavf, SR, x.astype(np.float32))

KERAS_BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
have = {lib: all(importlib.util.find_spec(m) is not None for m in mods)
        for lib, mods in zip(LIBS, (["librosa"], ["torch"], ["tensorflow"], ["keras", KERAS_BACKEND]))}
print(f"librosa {librosa.__version__} (python {sys.version.split()[0]})")
if "keras" in run:
    keras_version = importlib.metadata.version("keras") if have["keras"] else "not installed"
    print(f"keras backend: {KERAS_BACKEND} (keras {keras_version})")

cases = [
    ("db 2048/512 hann", wav16, ["--scale", "db"]),
    ("magnitude 1024/600/128 blackman", wav16, ["--n-fft", "1024", "--win-length", "600", "--hop", "128", "--window", "blackman", "--scale", "magnitude"]),
    ("power 1000/250 kaiser center", wavf, ["--n-fft", "1000", "--hop", "250", "--window", "kaiser=8.6", "--scale", "power", "--center"]),
    ("magnitude 512/400/160 hamming center channel 1", wav16, ["--n-fft", "512", "--win-length", "400", "--hop", "160", "--window", "hamming", "--scale", "magnitude", "--center", "--channel", "1"]),
    ("mel 128 power (librosa default)", wavf, ["--mel", "128", "--scale", "power"]),
    ("mel 40 htk 50-16000 dB", wav16, ["--mel", "40", "--mel-scale", "htk", "--mel-fmin", "50", "--mel-fmax", "16000", "--scale", "db"]),
    ("mel 64 tf 125-7600 magnitude", wavf, ["--mel", "64", "--mel-scale", "tf", "--mel-fmin", "125", "--mel-fmax", "7600", "--scale", "magnitude"]),
    # A one-sample window is scipy's [1.] (S1 = 1): the snippet used to divide by S1 = 0.
    ("db 16/1/1 win_length 1", wavf, ["--n-fft", "16", "--win-length", "1", "--hop", "1", "--scale", "db"]),
]
for i, (name, wav, flags) in enumerate(cases):
    out = os.path.join(WORK, f"hs{i}.npy")
    exp = os.path.join(WORK, f"export{i}.json")
    r = subprocess.run([BIN, "analyze", wav, "-o", out, "--export", exp, *flags], capture_output=True, text=True)
    if r.returncode != 0:
        report(False, f"{name}: hopscope failed: {r.stderr.strip()}")
        continue
    ours = np.load(out).astype(np.float64)
    P = json.load(open(exp))
    if P["mel"]["enabled"] and P["mel"]["scale"] in ("slaney", "htk"):
        ref = librosa.filters.mel(sr=SR, n_fft=P["n_fft"], n_mels=P["mel"]["n_mels"], fmin=P["mel"]["fmin"],
                                  fmax=P["mel"]["fmax"], htk=P["mel"]["scale"] == "htk", norm=P["mel"]["norm"])
        err = np.abs(np.asarray(P["mel"]["weights_f32"]) - ref).max()
        report(err <= 1e-6, f"{name}: exported mel matrix vs librosa.filters.mel max |diff| {err:.1e} (tol 1e-6)")
    for lib in LIBS:
        script = os.path.join(WORK, f"export{i}.{lib}.py")
        if lib not in run:
            compile(open(script).read(), script, "exec")
            report(True, f"{name}: {lib} snippet compiles (not run: --run {','.join(sorted(run))})")
            continue
        if lib == "librosa" and i == 0:
            # The snippet says which librosa it was checked against: this one must be named.
            stated = [l for l in open(script) if l.startswith("# Checked against librosa")]
            ok = len(stated) == 1 and librosa.__version__ in stated[0].replace(",", " ").split()
            report(ok, f"librosa snippet states the running librosa {librosa.__version__} as checked: "
                   + (stated[0].strip() if stated else "no '# Checked against librosa' line"))
        if not have[lib]:
            # torch and TensorFlow: `make test-ml-deps` installs them; keras and jax, `make test-deps`.
            hint = {"librosa": "", "keras": f" with the {KERAS_BACKEND} backend (make test installs keras and jax)"}
            report(False, f"{name}: {lib} snippet not run: {lib} is not installed"
                   + hint.get(lib, " (make test-ml installs torch and tensorflow-cpu)"))
            continue
        got_path = os.path.join(WORK, f"{lib}{i}.npy")
        r = subprocess.run([sys.executable, script, wav, got_path], capture_output=True, text=True)
        if r.returncode != 0:
            report(False, f"{name}: {lib} snippet failed: {r.stderr.strip()[-400:]}")
            continue
        got = np.load(got_path).astype(np.float64)
        if got.shape != ours.shape:
            report(False, f"{name}: {lib} shape {got.shape} != hopscope {ours.shape}")
            continue
        if P["db"]["enabled"]:
            # f32 round-off is ~1e-7 of a frame's peak, so the dB error grows as a bin
            # falls below it: compare as power relative to the peak (the 1e-4 criterion),
            # and in dB where the level is within 60 dB of full scale.
            pg, po = 10 ** (got / 10), 10 ** (ours / 10)
            err = np.abs(pg - po).max() / po.max()
            report(err <= 1e-4, f"{name}: {lib} snippet vs hopscope as power, max |diff|/max {err:.2e} (tol 1e-4), shape {got.shape}")
            err = np.abs(got - ours)[ours > -60].max()
            report(err <= 1e-3, f"{name}: {lib} snippet vs hopscope max |diff| {err:.2e} dB above -60 dBFS (tol 1e-3);"
                   f" {np.abs(got - ours).max():.2e} dB over all bins (min {ours.min():.1f} dBFS)")
        else:
            err = np.abs(got - ours).max() / np.abs(ours).max()
            report(err <= 1e-4, f"{name}: {lib} snippet vs hopscope max |diff|/max {err:.2e} (tol 1e-4),"
                   f" max |diff| {np.abs(got - ours).max():.2e} of max {np.abs(ours).max():.3g}, shape {got.shape}")

print(f"export: {failures} failing case(s)")
sys.exit(1 if failures else 0)
