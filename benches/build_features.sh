#!/usr/bin/env bash
# What each audio-host feature adds to a release build (issue 9): builds the ALSA-only
# baseline in a scratch target dir, then each feature alone on top of it, then all of
# them, and prints the wall time of each step. usage: benches/build_features.sh [TARGET_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-$(mktemp -d /tmp/hopscope-features.XXXXXX)}
export CARGO_TARGET_DIR=$target
step() { # step LABEL CARGO-ARGS...
    local label=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    cargo build --release --quiet "$@"
    t1=$(date +%s.%N)
    printf '%-34s %6.1f s   binary %5.1f MB\n' "$label" "$(echo "$t1 - $t0" | bc)" \
        "$(echo "$(stat -c %s "$target/release/hopscope") / 1048576" | bc -l)"
}
cargo fetch --quiet
step "alsa only (clean build)" --no-default-features
# What every step below pays anyway: hopscope itself recompiled and linked (thin LTO).
touch src/lib.rs
step "alsa only, hopscope rebuilt" --no-default-features
for f in pulseaudio pipewire jack; do
    step "+ $f (on top of alsa)" --no-default-features --features "$f"
done
step "all (default, on top of the above)"
echo "(target dir: $target; remove it when done)"
