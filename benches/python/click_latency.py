#!/usr/bin/env python3
"""Sound-to-pixel latency of a known click through the real capture path, measured from
outside the program, against the HUD's latency model.

usage: click_latency.py HOPSCOPE_BIN [--n-fft 2048] [--hop 512] [--buffer 240] [--clicks 12]

- A private Xvfb and an ALSA `file`-plugin capture device reading a FIFO (as in
  tests/e2e/alsa_capture.rs); hopscope runs live on it with the grayscale colormap.
- This script writes the FIFO in real time, one ALSA period per write, silence with a
  one-sample click of 1.0 every 0.75 s (both channels), and notes the monotonic time each
  click's period is written.
- An Xlib poller (ctypes) reads the newest pixel column of the plot at 12 kHz every
  0.5 ms and notes when it reaches the grey level of the click's peak level − 6 dB.
- Reported: click → pixel (median, p95, min, max) and the model: the mean delay until a
  click reaches −6 dB (DSP.md §4, from the window coefficients, as the HUD shows) plus
  the audio buffer, plus the mean wait for the next 60 Hz frame (8.3 ms). The goal is
  agreement within one display frame (16.7 ms).
Needs: Xvfb, python3 with numpy. Linux only. Prints one summary line per quantity.
"""
import argparse
import atexit
import ctypes
import ctypes.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("bin")
ap.add_argument("--n-fft", type=int, default=2048)
ap.add_argument("--hop", type=int, default=512)
ap.add_argument("--buffer", type=int, default=240)
ap.add_argument("--clicks", type=int, default=12)
a = ap.parse_args()
a.bin = os.path.abspath(a.bin)
SR, CH = 48000, 2
W, H = 1280, 720
PLOT_X0, PLOT_X1, PLOT_Y0, PLOT_H = 64, W - 76, 20, H - 20 - 28
FREQ = 12000.0
y = PLOT_Y0 + int((1 - FREQ / (SR / 2)) * PLOT_H)
x = PLOT_X1 - 1

# Expected level of the click at the frame where it reaches −6 dB of its peak:
# a unit impulse under a periodic Hann of N reads 20·log10(2·w/S1) with S1 = N/2.
peak_db = 20 * np.log10(2 * 1.0 / (a.n_fft / 2))
threshold_db = peak_db - 6.02
grey = int(round((threshold_db + 120) / 120 * 255))

tmp = tempfile.mkdtemp(prefix="hopscope-click-")
fifo = os.path.join(tmp, "mic.fifo")
os.mkfifo(fifo)
here = os.path.dirname(os.path.abspath(__file__))
tmpl = open(os.path.join(here, "..", "..", "tests", "support", "asoundrc.testmic.conf")).read()
open(os.path.join(tmp, "asoundrc"), "w").write(tmpl.replace("@INFILE@", fifo))

r, w = os.pipe()
xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                        pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
atexit.register(xvfb.terminate)
os.close(w)
display = ":" + os.read(r, 16).decode().strip()
env = dict(os.environ, DISPLAY=display, ALSA_CONFIG_PATH=f"/usr/share/alsa/alsa.conf:{tmp}/asoundrc")
env.pop("WAYLAND_DISPLAY", None)

# Feeder: real-time paced periods; clicks at known frames.
period = a.buffer
chunk_bytes = period * CH * 4
click_every = int(0.75 * SR)
first_click = int(2.0 * SR)
click_frames = [first_click + k * click_every for k in range(a.clicks)]
click_written = {}
stop = threading.Event()


def feeder():
    fd = os.open(fifo, os.O_WRONLY)  # blocks until hopscope opens the device
    t0 = time.monotonic()
    n = 0
    while not stop.is_set():
        buf = np.zeros((period, CH), np.float32)
        lo, hi = n * period, (n + 1) * period
        hit = [c for c in click_frames if lo <= c < hi]
        for c in hit:
            buf[c - lo, :] = 1.0
        due = t0 + hi / SR
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            os.write(fd, buf.tobytes())
        except BrokenPipeError:
            break
        now = time.monotonic()
        for c in hit:
            click_written[c] = now
        n += 1
    os.close(fd)


proc = subprocess.Popen([a.bin, "--device", "testmic", "--buffer", str(period), "--n-fft", str(a.n_fft),
                         "--hop", str(a.hop), "--colormap", "grayscale"],
                        env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
ft = threading.Thread(target=feeder, daemon=True)
ft.start()

x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XGetImage.restype = ctypes.c_void_p
x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                          ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
x11.XGetPixel.restype = ctypes.c_ulong
x11.XGetPixel.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
x11.XDestroyImage = None
d = x11.XOpenDisplay(display.encode())
wid = None
for _ in range(200):
    out = subprocess.run(["xdotool", "search", "--name", "^hopscope$"], env=env, capture_output=True, text=True)
    if out.stdout.strip():
        wid = int(out.stdout.split()[0])
        break
    time.sleep(0.05)
if wid is None:
    sys.exit("window did not appear: " + proc.stderr.read().decode())

rises = []
was_bright = False
deadline = time.monotonic() + 3 + 0.75 * a.clicks
while time.monotonic() < deadline:
    img = x11.XGetImage(d, wid, x, y, 1, 1, 0xFFFFFFFF, 2)
    if img:
        v = x11.XGetPixel(img, 0, 0) & 0xFF
        bright = v >= grey
        if bright and not was_bright:
            rises.append(time.monotonic())
        was_bright = bright
    time.sleep(0.0005)
stop.set()
proc.send_signal(signal.SIGINT)  # Ctrl-C: ordered shutdown, exit report on stderr
proc.wait(timeout=10)
err = proc.stderr.read().decode()
xvfb.terminate()
shutil.rmtree(tmp, ignore_errors=True)

lat = []
for c in click_frames:
    t = click_written.get(c)
    if t is None:
        continue
    after = [r_ for r_ in rises if r_ > t]
    if after and after[0] - t < 0.3:
        lat.append((after[0] - t) * 1e3)
lat = np.array(lat)
if len(lat) < a.clicks // 2:
    sys.exit(f"only {len(lat)} of {a.clicks} clicks seen (rises {len(rises)}); hopscope said: {err}")

# The model, as the HUD computes it (DSP.md §4): last p with w[p] ≥ ½ max → N − p, plus (max(H,B)−1)/2.
n = np.arange(a.n_fft)
wnd = 0.5 - 0.5 * np.cos(2 * np.pi * n / a.n_fft)
p = np.nonzero(wnd >= 0.5 * wnd.max() - 1e-12)[0][-1]
model_click_ms = ((a.n_fft - p) + (max(a.hop, a.buffer) - 1) / 2) / SR * 1e3
buffer_ms = a.buffer / SR * 1e3
frame_ms = 1000 / 60
expected = model_click_ms + buffer_ms + frame_ms / 2
print(f"click -> pixel over {len(lat)} clicks (n_fft {a.n_fft}, hop {a.hop}, buffer {a.buffer}): "
      f"median {np.median(lat):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, min {lat.min():.1f}, max {lat.max():.1f}")
print(f"model: click -6 dB {model_click_ms:.1f} ms + buffer {buffer_ms:.1f} ms + mean frame wait {frame_ms / 2:.1f} ms "
      f"= {expected:.1f} ms; measured median - expected = {np.median(lat) - expected:+.1f} ms "
      f"(goal: within one display frame, {frame_ms:.1f} ms)")
m = re.search(r"window: .*", err)
if m:
    print("hopscope " + m.group(0))
hud = re.search(r"capture -> frame \(the HUD's measured latency\) p50 ([0-9.]+) ms", err)
if hud:
    hud_ms = float(hud.group(1))
    print(f"HUD check: model click {model_click_ms:.1f} ms + HUD measured capture->frame p50 {hud_ms:.1f} ms = "
          f"{model_click_ms + hud_ms:.1f} ms; click -> pixel median {np.median(lat):.1f} ms; difference "
          f"{np.median(lat) - model_click_ms - hud_ms:+.1f} ms (goal: within one display frame, {frame_ms:.1f} ms)")
