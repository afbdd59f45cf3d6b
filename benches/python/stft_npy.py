#!/usr/bin/env python3
"""The fastest plain numpy/scipy equivalent of `hopscope analyze IN.wav -o OUT.npy
--scale magnitude` (causal frames, periodic Hann): the baseline for the README's
whole-process comparison.   usage: stft_npy.py IN.wav OUT.npy [n_fft hop]"""
import sys

import numpy as np
import scipy.io.wavfile
import scipy.signal

src, dst = sys.argv[1], sys.argv[2]
n_fft, hop = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (2048, 512)
sr, x = scipy.io.wavfile.read(src)
x = x.astype(np.float32) / 32768.0
if x.ndim > 1:
    x = x.mean(axis=1)
w = scipy.signal.get_window("hann", n_fft).astype(np.float32)
frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
mag = np.abs(np.fft.rfft(frames * w, axis=1)).astype(np.float32)
np.save(dst, mag)
