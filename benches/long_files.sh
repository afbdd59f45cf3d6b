#!/usr/bin/env bash
# Long-file figures of the README ("Long recordings"): peak RSS and wall time of the
# offline commands on a synthetic 2-hour and 24-hour 48 kHz recording (a slow 300 Hz →
# 6 kHz sweep over pink noise, 16-bit), generated once with sox into $BENCH_DIR.
#
#   benches/long_files.sh            # 2 h WAV + FLAC and 24 h FLAC (generation: ~10 min)
#   benches/long_files.sh 2h         # the 2-hour files only
#
# Each line: the command, wall seconds, peak RSS (from /usr/bin/time), and its output.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/hopscope-long}
mkdir -p "$dir"
bin=target/release/hopscope
[ -x "$bin" ] || cargo build --release
command -v sox >/dev/null || { echo "needs sox (apt-get install sox)"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)"; exit 1; }

make_file() { # seconds path
    [ -s "$2" ] && return
    echo "generating $2 ($1 s) ..." >&2
    sox -n -r 48000 -b 16 -c 1 "$2.tmp.${2##*.}" synth "$1" sine 300-6000 pinknoise \
        remix 1v0.4,2v0.05
    mv "$2.tmp.${2##*.}" "$2"
}

measure() { # label command...
    local label=$1
    shift
    local out
    out=$( { /usr/bin/time -f "%e s %M KB" "$@" >/dev/null; } 2>&1 | tail -1)
    local secs=${out%% s*} kb=${out##* s }
    kb=${kb% KB}
    printf '%-55s %8.2f s  %7.1f MB peak RSS\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)"
}

make_file 7200 "$dir/2h.wav"
make_file 7200 "$dir/2h.flac"
measure "analyze --mel 64   2 h WAV" $bin analyze "$dir/2h.wav" -o "$dir/out.npy" --mel 64
measure "analyze --mel 64   2 h FLAC" $bin analyze "$dir/2h.flac" -o "$dir/out.npy" --mel 64
measure "analyze (1025 bins) 2 h WAV" $bin analyze "$dir/2h.wav" -o "$dir/out.npy"
measure "render --width 4000   2 h WAV" $bin render "$dir/2h.wav" -o "$dir/2h.png" --width 4000
measure "render --width 4000   2 h FLAC" $bin render "$dir/2h.flac" -o "$dir/2h.png" --width 4000
measure "suggest   2 h FLAC" $bin suggest "$dir/2h.flac"
# Model front-ends: resampled 48 → 16 kHz; Whisper's clamp needs a second pass over the
# staged .npy (the maximum of the whole input).
measure "analyze --frontend whisper   2 h WAV" $bin analyze "$dir/2h.wav" -o "$dir/out.npy" --frontend whisper
measure "analyze --frontend kaldi-fbank-80   2 h WAV" $bin analyze "$dir/2h.wav" -o "$dir/out.npy" --frontend kaldi-fbank-80
rm -f "$dir/out.npy"
[ "${1:-}" = 2h ] && exit 0
make_file 86400 "$dir/24h.flac"
measure "render --width 4000   24 h FLAC" $bin render "$dir/24h.flac" -o "$dir/24h.png" --width 4000
measure "render --width 4000 --start 6:00:00 --end 6:10:00" $bin render "$dir/24h.flac" -o "$dir/24h-crop.png" --width 4000 --start 6:00:00 --end 6:10:00
