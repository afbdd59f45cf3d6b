#!/usr/bin/env bash
# Soak test of the live window (issue #9): memory, drops, panics and recoveries over a
# long run, in two phases of SECONDS each, sampling the resident set (VmRSS) every 10 s:
#   1. demo   the window on a private Xvfb running --demo, a parameter key (Up Down Left
#             Right W Tab M F) pressed every 2 s;
#   2. pulse  the window capturing from a private PulseAudio server with a tone playing,
#             the server killed (SIGKILL: the device vanishes) and restarted every 60 s
#             (every 20 s when SECONDS < 180, so a short run still loses the input), keys
#             as in 1.
# The keys come in two cycles of 10 that each leave every parameter as it was (Up Down
# Left Right Tab Tab M M W Shift+W, then F F F F Up Down Tab Tab W Shift+W), pressed at
# odd seconds, so the samples at t = 0, 20, 40 ... s all see the start state: RSS growth
# is measured between those (the other samples, mid-cycle, are listed but not judged:
# one pane or three, a history re-render or not, differ by megabytes).
# Goals, checked per phase (exit status 1 when one is missed):
#   RSS growth <= 1 MB after the first minute; 0 dropped samples and rows (the exit
#   summary's totals: an outage delivers no samples, so it drops none); 0 panics; a clean
#   exit at --duration; phase 2: every kill noticed and every outage recovered.
#
# Usage: scripts/soak.sh [SECONDS]            (default 3600; at least 60; CI runs 60)
#   env: HOPSCOPE    binary to run (default: cargo build --release, target/release/hopscope)
#        SOAK_HOST   --host for phase 2 (default: none, hopscope's default input)
#        SOAK_PHASES which phases to run (default: "demo pulse")
#        SOAK_MALLOC=default  leave glibc's malloc tuning alone (see below)
#        SOAK_KEEP=1 keep the work dir (logs, RSS samples, server logs) and print its path
# Needs: Xvfb xdotool (xvfb xdotool), pulseaudio pactl pacat paplay (pulseaudio
# pulseaudio-utils), the ALSA pulse plugin (libasound2-plugins), python3 (the tone WAV).
# `make test-deps` installs them. Everything it starts (Xvfb, PulseAudio and its clients,
# hopscope) runs on a private display / socket in a temp dir and is stopped by PID.
#
# hopscope runs with glibc's mmap threshold pinned at 128 KiB (MALLOC_MMAP_THRESHOLD_),
# so every large buffer it frees goes back to the OS and RSS follows live memory. With
# glibc's default (a threshold that rises up to 32 MB once such a buffer is freed) the
# re-render buffers the parameter keys free and allocate again stay in the heap: RSS then
# swings by tens of MB with the keys (measured 67-104 MB in 60 s): allocator retention
# rather than a leak, but enough to hide a leak of 1 MB.
# Runs shorter than 3 minutes take the RSS baseline at 20 s instead of 60 s and run with
# --history 10 (the 60 s history ring is touched page by page for its first minute,
# which is growth by design, not a leak).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${1:-3600}
if ! [[ $SECS =~ ^[0-9]+$ ]] || ((SECS < 60)); then
    echo "usage: scripts/soak.sh [SECONDS >= 60]" >&2
    exit 2
fi
KEY_EVERY=2
RSS_EVERY=10
DOWN_S=3
if ((SECS >= 180)); then
    KILL_EVERY=60 BASE_AT=60 HISTORY=()
else
    KILL_EVERY=20 BASE_AT=20 HISTORY=(--history 10)
fi
GROWTH_GOAL_KB=1024
MALLOC_ENV=(MALLOC_MMAP_THRESHOLD_=131072)
[[ ${SOAK_MALLOC:-} == default ]] && MALLOC_ENV=()
EXIT_GRACE=30
KEYS=(Up Down Left Right Tab Tab m m w shift+w f f f f Up Down Tab Tab w shift+w)
CYCLE_S=$((${#KEYS[@]} / 2 * KEY_EVERY))

say() { echo "soak: $*" >&2; }
missing=()
for t in Xvfb xdotool pulseaudio pactl pacat paplay python3; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
compgen -G "/usr/lib*/*/alsa-lib/libasound_module_pcm_pulse.so" >/dev/null ||
    compgen -G "/usr/lib*/alsa-lib/libasound_module_pcm_pulse.so" >/dev/null ||
    missing+=("libasound_module_pcm_pulse.so")
if ((${#missing[@]})); then
    say "missing ${missing[*]} (Debian: make test-deps installs xvfb xdotool pulseaudio pulseaudio-utils libasound2-plugins python3)"
    exit 2
fi
if [[ -z ${HOPSCOPE:-} ]]; then
    cargo build --release >&2
    HOPSCOPE=target/release/hopscope
fi
HOPSCOPE=$(readlink -f "$HOPSCOPE")

W=$(mktemp -d "${TMPDIR:-/tmp}/hopscope-soak.XXXXXX")
XVFB_PID="" APP_PID="" PA_PID="" KA_PID="" LOOP_PID=""
stop_pid() { # stop_pid PID [SIGNAL]: signal a process of ours and reap it
    [[ -n $1 ]] || return 0
    kill -"${2:-TERM}" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
stop_player() {
    stop_pid "$LOOP_PID"
    LOOP_PID=""
    if [[ -s $W/paplay.pid ]]; then
        kill -KILL "$(cat "$W/paplay.pid")" 2>/dev/null || true
        : >"$W/paplay.pid"
    fi
}
pulse_kill() {
    stop_pid "$PA_PID" KILL
    stop_pid "$KA_PID" KILL
    PA_PID="" KA_PID=""
}
cleanup() {
    stop_pid "$APP_PID" KILL
    stop_player
    pulse_kill
    stop_pid "$XVFB_PID"
    if [[ ${SOAK_KEEP:-0} == 1 ]]; then say "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

now_us() { echo "${EPOCHREALTIME/./}"; }

# --- Xvfb on a free display (-displayfd writes its number once it accepts clients) ---
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp -noreset 5>"$W/display" >"$W/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do [[ -s $W/display ]] && break; sleep 0.1; done
[[ -s $W/display ]] || { say "Xvfb did not start: $(cat "$W/xvfb.log")"; exit 1; }
export DISPLAY=":$(head -1 "$W/display")"
unset WAYLAND_DISPLAY XAUTHORITY

# --- the private PulseAudio server (tests/support/pulse-test.pa), its clients' config ---
mkdir -p "$W/pulse/run"
SOCK="$W/pulse/native"
sed "s#@SOCKET@#$SOCK#" tests/support/pulse-test.pa >"$W/pulse/test.pa"
printf 'autospawn = no\ndefault-server = unix:%s\n' "$SOCK" >"$W/pulse/client.conf"
cat >"$W/pulse/asoundrc" <<EOF
pcm.!default { type pulse server "unix:$SOCK" }
ctl.!default { type pulse server "unix:$SOCK" }
EOF
PULSE_ENV=(PULSE_SERVER="unix:$SOCK" PULSE_CLIENTCONFIG="$W/pulse/client.conf"
    ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$W/pulse/asoundrc" JACK_NO_START_SERVER=1)
pa() { env HOME="$W/pulse" "${PULSE_ENV[@]}" "$@"; }
pulse_start() { # the server, ready, with its keep-alive stream, warm
    HOME="$W/pulse" XDG_RUNTIME_DIR="$W/pulse/run" pulseaudio -n -F "$W/pulse/test.pa" \
        --daemonize=no --exit-idle-time=-1 --use-pid-file=no --log-target=stderr \
        >>"$W/pulse/pulse.log" 2>&1 &
    PA_PID=$!
    local i
    for i in $(seq 200); do pa pactl info >/dev/null 2>&1 && break; sleep 0.05; done
    pa pacat --playback --device=testsink --latency-msec=10 --raw --format=s16le \
        --rate=48000 --channels=2 /dev/zero >>"$W/pulse/keepalive.log" 2>&1 &
    KA_PID=$!
    for i in $(seq 200); do
        pa pactl list sinks 2>/dev/null | grep -A12 'Name: testsink' |
            grep -qE 'Latency: [0-9]{1,5} usec' && return 0
        sleep 0.05
    done
    say "the PulseAudio server did not come up: $(tail -5 "$W/pulse/pulse.log")"
    return 1
}
# 10 s of a 1500 Hz tone at -20 dBFS after 0.5 s of silence, replayed in a loop (a
# killed server kills paplay: the loop starts it again once the server is back).
python3 - "$W/tone.wav" <<'EOF'
import math, struct, sys, wave
rate = 48000
frames = [0] * (rate // 2) + [round(0.1 * 32767 * math.sin(2 * math.pi * 1500 * i / rate)) for i in range(10 * rate)]
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(struct.pack("<%dh" % len(frames), *frames))
EOF
start_player() {
    (
        while :; do
            pa paplay --device=testsink "$W/tone.wav" >>"$W/pulse/paplay.log" 2>&1 &
            echo $! >"$W/paplay.pid"
            wait $! || sleep 0.2
        done
    ) &
    LOOP_PID=$!
}

# --- one phase ---
RESULTS=()
FAILED=0
run_phase() { # run_phase NAME with_pulse(0|1) hopscope-args...
    local name=$1 with_pulse=$2
    shift 2
    local out="$W/$name.out" err="$W/$name.err" rss="$W/$name.rss"
    : >"$rss"
    if ((with_pulse)); then
        pulse_start
        start_player
        env "${PULSE_ENV[@]}" "${MALLOC_ENV[@]}" "$HOPSCOPE" "$@" --duration "$SECS" >"$out" 2>"$err" &
    else
        env "${MALLOC_ENV[@]}" "$HOPSCOPE" "$@" --duration "$SECS" >"$out" 2>"$err" &
    fi
    APP_PID=$!
    local wid="" i
    for i in $(seq 150); do
        wid=$(xdotool search --name '^hopscope$' 2>/dev/null | head -1) || true
        [[ -n $wid ]] && break
        kill -0 "$APP_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $wid ]]; then
        say "$name: no window: $(tail -3 "$err")"
        stop_pid "$APP_PID" KILL
        APP_PID=""
        RESULTS+=("$name - - - - - - - - - - - no-window")
        FAILED=1
        return
    fi
    xdotool mousemove 0 0 || true
    local t0 t next_key=$((KEY_EVERY / 2)) next_rss=0 next_kill=$KILL_EVERY restart_at=-1
    local kills=0 k=0 hung=0
    t0=$(now_us)
    while kill -0 "$APP_PID" 2>/dev/null; do
        t=$((($(now_us) - t0) / 1000000))
        if ((t >= SECS + EXIT_GRACE)); then hung=1; break; fi
        # Due keys and samples in time order (a server restart blocks this loop ~2.5 s).
        if ((t >= next_key && next_key < next_rss && t < SECS - 1)); then
            xdotool key --window "$wid" --delay 100 "${KEYS[k % ${#KEYS[@]}]}" 2>/dev/null || true
            k=$((k + 1))
            next_key=$((next_key + KEY_EVERY))
            continue
        elif ((t >= next_rss && next_rss < SECS)); then
            echo "$next_rss $(awk '/^VmRSS/ {print $2}' "/proc/$APP_PID/status" 2>/dev/null)" >>"$rss"
            next_rss=$((next_rss + RSS_EVERY))
            continue
        fi
        if ((with_pulse)); then
            if ((restart_at < 0 && t >= next_kill)); then
                # Only while there is time left to recover before --duration ends it.
                if ((next_kill + DOWN_S + 12 <= SECS)); then
                    pulse_kill
                    kills=$((kills + 1))
                    restart_at=$((t + DOWN_S))
                fi
                next_kill=$((next_kill + KILL_EVERY))
            fi
            if ((restart_at >= 0 && t >= restart_at)); then
                pulse_start || true
                restart_at=-1
            fi
        fi
        sleep 0.2
    done
    local rc
    if ((hung)); then
        say "$name: still running ${EXIT_GRACE} s after --duration: killed"
        stop_pid "$APP_PID" KILL
        rc=hung
    else
        rc=0
        wait "$APP_PID" || rc=$?
    fi
    APP_PID=""
    if ((with_pulse)); then
        stop_player
        pulse_kill
    fi

    # Figures.
    local start base end growth summary ds dr panics downs recoveries verdict=ok
    # Judged: the samples at the start state (t a multiple of CYCLE_S).
    awk -v c="$CYCLE_S" '$1 % c == 0 && $2 != ""' "$rss" >"$rss.judged"
    start=$(awk 'NR == 1 {print $2}' "$rss.judged")
    base=$(awk -v b="$BASE_AT" '$1 >= b {print $2; exit}' "$rss.judged")
    end=$(awk 'END {print $2}' "$rss.judged")
    [[ -n $base ]] || base=$end
    growth=$((${end:-0} - ${base:-0}))
    summary=$(grep '^hopscope: stopped after' "$err" || true)
    ds=$(sed -n 's/.* frames captured, \([0-9]*\) dropped; [0-9]* rows ([^)]*), \([0-9]*\) dropped.*/\1/p' <<<"$summary")
    dr=$(sed -n 's/.* frames captured, \([0-9]*\) dropped; [0-9]* rows ([^)]*), \([0-9]*\) dropped.*/\2/p' <<<"$summary")
    panics=$(grep -c 'panicked' "$err" || true)
    downs=$(sed -n 's/.*input down \([0-9]*\) time(s).*/\1/p' <<<"$summary")
    recoveries=$(grep -c '^hopscope: input back' "$err" || true)
    local why=()
    [[ $rc == 0 ]] || why+=("exit=$rc")
    [[ -n $summary ]] || why+=("no-summary")
    ((growth <= GROWTH_GOAL_KB)) || why+=("rss+${growth}kB")
    [[ ${ds:-x} == 0 && ${dr:-x} == 0 ]] || why+=("drops")
    ((panics == 0)) || why+=("panics")
    if ((with_pulse)); then
        [[ -n $downs ]] || why+=("no-input-down-in-summary")
        ((${downs:-0} >= kills)) || why+=("losses-unnoticed")
        ((recoveries >= ${downs:-0} && recoveries >= kills)) || why+=("not-all-recovered")
    fi
    if ((${#why[@]})); then
        verdict=$(
            IFS=,
            echo "FAIL:${why[*]}"
        )
        FAILED=1
        say "$name: $verdict; last stderr lines:"
        tail -5 "$err" >&2
    fi
    RESULTS+=("$name $rc ${start:--} ${base:--} ${end:--} $growth ${ds:--} ${dr:--} $panics $kills ${downs:--} $recoveries $verdict")
    cp "$rss" "$W/$name.rss.txt"
}

say "$SECS s per phase on $DISPLAY; RSS every $RSS_EVERY s, a key every $KEY_EVERY s; phase 2 kills the server every $KILL_EVERY s for $DOWN_S s"
PHASES=" ${SOAK_PHASES:-demo pulse} "
[[ $PHASES == *" demo "* ]] && run_phase demo 0 --demo "${HISTORY[@]}"
HOST_ARGS=()
[[ -n ${SOAK_HOST:-} ]] && HOST_ARGS=(--host "$SOAK_HOST")
[[ $PHASES == *" pulse "* ]] && run_phase pulse 1 "${HOST_ARGS[@]}" "${HISTORY[@]}"

printf '\nsoak: %s s per phase (%s); RSS in kB at the start state (t = 0, %s, %s ... s;\n' \
    "$SECS" "$("$HOPSCOPE" --version 2>/dev/null || echo hopscope)" "$CYCLE_S" "$((2 * CYCLE_S))"
printf 'baseline: the first at or after %s s; goal: growth <= %s kB; %s)\n' "$BASE_AT" "$GROWTH_GOAL_KB" \
    "${MALLOC_ENV[*]:-glibc malloc defaults}"
printf '%-6s %-5s %9s %9s %9s %7s %9s %8s %6s %5s %5s %10s  %s\n' phase exit rss_start \
    rss_base rss_end growth drop_smp drop_row panics kills downs recoveries verdict
for r in "${RESULTS[@]}"; do
    # shellcheck disable=SC2086
    printf '%-6s %-5s %9s %9s %9s %7s %9s %8s %6s %5s %5s %10s  %s\n' $r
done
for name in demo pulse; do
    [[ -f $W/$name.rss.txt ]] && printf 'RSS %s (t kB): %s\n' "$name" "$(tr '\n' ' ' <"$W/$name.rss.txt")"
done
exit "$FAILED"
