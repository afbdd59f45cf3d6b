#!/usr/bin/env bash
# Device-loss recovery on a real PulseAudio server (issue 9): starts a private server
# (null sink, its monitor as the microphone), runs the release binary headless, kills
# the server with SIGKILL (a crashed desktop audio server), starts it again after a
# pause, and measures from the app's time-stamped stderr
#   detect_s  kill → the "input stalled" or "input lost" line
#   open_s    the restarted server running (its null sink at low latency) → the stream reopened
#   back_s    the same → the "input back" line (the reopened stream's first samples)
# for each host: native pulseaudio, and alsa (ALSA `default` → the pulse plugin).
# usage: benches/recovery.sh [ROUNDS=5] [DOWN_SECONDS=3]
# Needs pulseaudio, pulseaudio-utils, libasound2-plugins (scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
down_s=${2:-3}
bin=target/release/hopscope
cargo build --release --quiet
S=$(mktemp -d /tmp/hopscope-recovery.XXXXXX)
mkdir -p "$S/run"
export PULSE_SERVER=unix:$S/native
server="" keepalive=""
cleanup() { kill -9 $server $keepalive 2>/dev/null || true; rm -rf "$S"; }
server="" keepalive=""
trap cleanup EXIT
cat > "$S/test.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$S/native
load-module module-null-sink sink_name=testsink rate=48000 channels=2
set-default-sink testsink
set-default-source testsink.monitor
PA
now() { date +%s.%N; }
start_server() {
    HOME=$S XDG_RUNTIME_DIR=$S/run pulseaudio -n -F "$S/test.pa" --daemonize=no \
        --exit-idle-time=-1 --log-target=stderr > "$S/pulse.log" 2>&1 &
    server=$!
    until pactl info > /dev/null 2>&1; do sleep 0.02; done
    # The keep-alive stream: without it the null sink renders 2 s blocks.
    pacat --playback --device=testsink --latency-msec=10 --raw --format=s16le \
        --rate=48000 --channels=2 /dev/zero > /dev/null 2>&1 &
    keepalive=$!
    # A fresh null sink first renders one ~2 s block (../shared/TESTING.md): the server
    # is back, as a desktop's would be, once its sink runs at low latency.
    until pactl list sinks | grep -A12 'Name: testsink' | grep -qE 'Latency: [0-9]{1,5} usec'; do
        sleep 0.02
    done
}
since() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "") print "-"; else printf "%.3f", b - a }'; }
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done; }
first() { awk -v re="$1" '$0 ~ re {print $1; exit}' "$err"; }
stop_server() { kill -9 "$server" "$keepalive" 2>/dev/null || true; wait "$server" "$keepalive" 2>/dev/null || true; }
printf '%-11s %5s %9s %9s %9s  %s\n' host round detect_s open_s back_s exit
for host in pulseaudio alsa; do
    for r in $(seq "$rounds"); do
        start_server
        err=$S/err.$host.$r
        HOPSCOPE_LOG=debug "$bin" --host "$host" --headless --duration $((down_s + 8)) > /dev/null \
            2> >(stamp > "$err") &
        app=$!
        sleep 3
        killed=$(now)
        stop_server
        sleep "$down_s"
        start_server
        ready=$(now)
        rc=0; wait "$app" || rc=$?
        sleep 0.2 # the stamping reader drains
        lost=$(first 'input (lost|stalled)')
        opened=$(first 'debug: reopened')
        back=$(first 'input back')
        printf '%-11s %5d %9s %9s %9s  %s\n' "$host" "$r" "$(since "$killed" "$lost")" \
            "$(since "$ready" "$opened")" "$(since "$ready" "$back")" "$rc"
        stop_server
    done
done
