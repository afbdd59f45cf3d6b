"""YAMNet's log-mel front-end in TensorFlow, for frontend_ref.py's `--impl tf` (ML tier).

YAMNet's feature code (tensorflow/models, research/audioset/yamnet/features.py,
waveform_to_log_mel_spectrogram_patches, checked at commit
33630ec96c174a9321244d0d01589c5ecb428db0; Apache-2.0) is not on PyPI. This module is
not a copy of it: it makes the same tf.signal calls, in the same order, with YAMNet's
params.py values, and stops at the log-mel frames (no tf.signal.frame into 96-frame
patches, no pad_waveform, not the tflite_compatible DFT-matmul branch):

    window = round(16000 * 0.025) = 400, hop = round(16000 * 0.010) = 160,
    fft_length = 2 ** ceil(log2(400)) = 512
    |tf.signal.stft(waveform, 400, 160, 512)|            (periodic Hann, no padding)
    @ tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125.0, 7500.0)
    tf.math.log(mel + log_offset)                           (0.001 YAMNet, 0.01 VGGish)
"""
import numpy as np
import tensorflow as tf

SAMPLE_RATE = 16000
WINDOW, HOP, FFT = 400, 160, 512
MEL_BANDS, MEL_MIN_HZ, MEL_MAX_HZ = 64, 125.0, 7500.0


def log_mel_spectrogram(waveform, log_offset):
    """[frames, 64] float32 log-mel of a 1-D float32 waveform at 16 kHz."""
    x = tf.constant(np.asarray(waveform, dtype=np.float32))
    magnitude = tf.abs(tf.signal.stft(signals=x, frame_length=WINDOW, frame_step=HOP, fft_length=FFT))
    matrix = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=MEL_BANDS,
        num_spectrogram_bins=FFT // 2 + 1,
        sample_rate=SAMPLE_RATE,
        lower_edge_hertz=MEL_MIN_HZ,
        upper_edge_hertz=MEL_MAX_HZ,
    )
    mel = tf.matmul(magnitude, matrix)
    return tf.math.log(mel + log_offset).numpy()
