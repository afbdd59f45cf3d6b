#!/usr/bin/env bash
# A speech WAV for the front-end screenshots (README "Model front-ends, live"):
# espeak-ng's voice at 22050 Hz, resampled by sox to a microphone's 48 kHz, mono f32.
# Needs: espeak-ng, sox (apt-get install -y espeak-ng sox).
# Usage: scripts/speech-wav.sh OUT.wav
set -euo pipefail
out=${1:?usage: scripts/speech-wav.sh OUT.wav}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -s 150 -w "$tmp/voice.wav" \
  "The quick brown fox jumps over the lazy dog. Hopscope shows what Whisper sees, \
next to your own spectrogram. One two three four five six seven eight nine ten."
sox "$tmp/voice.wav" -r 48000 -e floating-point -b 32 "$out" rate -v
echo "$out"
