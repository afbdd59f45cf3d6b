#!/usr/bin/env bash
# UI cost of the live window: runs `hopscope --demo` (default 1280x720 window) on a
# private Xvfb for a fixed time and reports CPU time as a share of one core, for the
# whole process and per thread (main = the UI thread, `stft` = analysis, `source` =
# the demo signal), the resident memory at the end (now and peak, with its parts), and
# hopscope's own exit summary (rows produced, folded, dropped). Goal: the UI thread at
# most 5 % of one core at the defaults.
#
# Usage: benches/ui_cpu.sh [SECONDS] [-- extra hopscope flags]
#   env: DISPLAY_NUM (default 77), WARMUP (seconds before measuring, default 2),
#        HOPSCOPE (binary, default target/release/hopscope, built if missing).
# Needs: Xvfb (Debian: xvfb). Measures /proc/PID/task/TID/stat utime+stime over the
# window [WARMUP, WARMUP + SECONDS] (start-up excluded), then stops hopscope with
# SIGINT (its ordered shutdown) and the X server it started.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_TO_RUN=30
if [[ $# -gt 0 && $1 != "--" ]]; then
    SECONDS_TO_RUN=$1
    shift
fi
[[ ${1:-} == "--" ]] && shift
EXTRA=("$@")
DISPLAY_NUM=${DISPLAY_NUM:-77}
WARMUP=${WARMUP:-2}
HOPSCOPE=${HOPSCOPE:-target/release/hopscope}

command -v Xvfb >/dev/null || { echo "ui_cpu: Xvfb not found (apt-get install xvfb)" >&2; exit 2; }
if [[ ! -x $HOPSCOPE ]]; then
    cargo build --release >&2
fi
if [[ -e /tmp/.X${DISPLAY_NUM}-lock || -e /tmp/.X11-unix/X${DISPLAY_NUM} ]]; then
    echo "ui_cpu: display :${DISPLAY_NUM} is in use; set DISPLAY_NUM" >&2
    exit 2
fi

XVFB_PID=""
APP_PID=""
cleanup() {
    [[ -n $APP_PID ]] && kill "$APP_PID" 2>/dev/null || true
    [[ -n $XVFB_PID ]] && kill "$XVFB_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

Xvfb ":${DISPLAY_NUM}" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do
    [[ -S /tmp/.X11-unix/X${DISPLAY_NUM} ]] && break
    sleep 0.05
done
[[ -S /tmp/.X11-unix/X${DISPLAY_NUM} ]] || { echo "ui_cpu: Xvfb did not start" >&2; exit 1; }

TICK=$(getconf CLK_TCK)
LOG=$(mktemp)
TSTART=$(date +%s.%N)
DISPLAY=":${DISPLAY_NUM}" "$HOPSCOPE" --demo "${EXTRA[@]}" >"$LOG" 2>&1 &
APP_PID=$!

# "tid name ticks" for every thread of $1 (utime + stime; the name may hold spaces).
snapshot() {
    local task tid line rest name
    for task in /proc/"$1"/task/*; do
        tid=${task##*/}
        line=$(cat "$task/stat" 2>/dev/null) || continue
        rest=${line##*) }
        name=${line#*(}
        name=${name%)*}
        # shellcheck disable=SC2206
        local fields=($rest)
        echo "$tid ${name// /_} $((fields[11] + fields[12]))"
    done
}
proc_ticks() { # utime + stime of a whole process
    local line rest
    line=$(cat /proc/"$1"/stat)
    rest=${line##*) }
    # shellcheck disable=SC2206
    local fields=($rest)
    echo $((fields[11] + fields[12]))
}

sleep "$WARMUP"
kill -0 "$APP_PID" 2>/dev/null || { echo "ui_cpu: hopscope exited early:" >&2; cat "$LOG" >&2; exit 1; }
BEFORE=$(snapshot "$APP_PID")
APP0=$(proc_ticks "$APP_PID")
X0=$(proc_ticks "$XVFB_PID")
T0=$(date +%s.%N)
sleep "$SECONDS_TO_RUN"
AFTER=$(snapshot "$APP_PID")
APP1=$(proc_ticks "$APP_PID")
X1=$(proc_ticks "$XVFB_PID")
T1=$(date +%s.%N)
MAIN_TID=$APP_PID
# Memory at the end of the measured window: resident now and at peak, and what makes it
# up (anonymous heap, shared memory: the MIT-SHM images, file-backed: the binary).
MEM=$(grep -E '^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):' /proc/"$APP_PID"/status | tr -s ' \t' ' ' | tr '\n' ';')
kill -INT "$APP_PID"
wait "$APP_PID" 2>/dev/null || true
APP_PID=""

ELAPSED=$(echo "$T1 - $T0" | bc -l)
pct() { printf '%.2f' "$(echo "100 * $1 / $TICK / $ELAPSED" | bc -l)"; }

printf 'hopscope --demo%s on Xvfb :%s (1280x800x24): %.1f s measured after %s s warm-up\n' \
    "${EXTRA[*]:+ ${EXTRA[*]}}" "$DISPLAY_NUM" "$ELAPSED" "$WARMUP"
printf '  %-16s %6s %% of one core\n' "process" "$(pct $((APP1 - APP0)))"
printf '  %-16s %6s %% of one core (%.1f s from launch, start-up included)\n' "whole run" \
    "$(printf '%.2f' "$(echo "100 * $APP1 / $TICK / ($T1 - $TSTART)" | bc -l)")" "$(echo "$T1 - $TSTART" | bc -l)"
UI_PCT=0
while read -r tid name ticks1; do
    ticks0=$(awk -v t="$tid" '$1 == t { print $3 }' <<<"$BEFORE")
    p=$(pct $((ticks1 - ${ticks0:-0})))
    label=$name
    if [[ $tid == "$MAIN_TID" ]]; then
        label="main (UI)"
        UI_PCT=$p
    fi
    printf '    %-14s %6s %%   tid %s\n' "$label" "$p" "$tid"
done <<<"$AFTER"
printf '  %-16s %6s %% of one core (the X server, not hopscope)\n' "Xvfb" "$(pct $((X1 - X0)))"
echo "  memory: ${MEM}"
grep -a -E '^hopscope: (stopped after|window )' "$LOG" | sed 's/^/  /' || true
if (($(echo "$UI_PCT <= 5" | bc -l))); then
    echo "  UI thread ${UI_PCT} % <= 5 %: goal met"
else
    echo "  UI thread ${UI_PCT} % > 5 %: goal missed"
fi
rm -f "$LOG"
