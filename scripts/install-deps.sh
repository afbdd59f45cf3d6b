#!/usr/bin/env bash
# Installs what hopscope needs on a Debian/Ubuntu machine, and says exactly what to
# install elsewhere.   usage: scripts/install-deps.sh run|test|ml
#   run   build needs: Rust (cargo), libasound2-dev, pkg-config, libpipewire-0.3-dev, libclang-dev,
#         libjack-jackd2-dev (only its jack.pc is used: libjack is loaded at run time)
#   test  (make test) + Python 3 venv with numpy/scipy/librosa and the light front-end
#         references (transformers, kaldi-native-fbank, python_speech_features,
#         torchvggish --no-deps) in .venv (tests/python/requirements.txt,
#         requirements-nodeps.txt; no torch, no TensorFlow, no jax)
#         + headless X for tests/e2e/window_e2e.rs: Xvfb, xauth, xdotool, ImageMagick import,
#           xdpyinfo
#         + a real audio server for tests/e2e/pulse_live.rs and scripts/soak.sh: PulseAudio
#           (run privately per test, never as the desktop's server), its client tools and
#           ALSA's pulse plugin
#         + the same for tests/e2e/pipewire_live.rs: PipeWire, WirePlumber, pw-cli/pw-cat/
#           pw-metadata and dbus-daemon (a private session bus per test)
#   ml    (make test-ml) everything of test, + torch, tensorflow-cpu, torchaudio,
#         openai-whisper, keras and jax in .venv, and a second venv, .venv-librosa-new,
#         with the newest librosa (tests/python/requirements-librosa-new.txt), made with a
#         Python >= 3.12 (python3.12+ on PATH, a pyenv one, or one uv installs) (tests/python/requirements-ml.txt) for the exported
#         torch/tf snippets and the ML-tier front-end references
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."
say() { echo "install-deps: $*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
    say "cargo not found: install Rust 1.85 or newer (https://rustup.rs), then run this again"
    exit 1
fi

pkgs=()
command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
pkg-config --exists alsa 2>/dev/null || pkgs+=(libasound2-dev)
# The native PipeWire host (default feature `pipewire`): its -sys crates run bindgen,
# which needs libclang. Without them: cargo build --no-default-features --features pulseaudio,jack
pkg-config --exists libpipewire-0.3 2>/dev/null || pkgs+=(libpipewire-0.3-dev)
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || pkgs+=(libclang-dev)
# The JACK host (default feature `jack`): libjack is loaded at run time, but jack-sys's
# build script asks pkg-config for `jack` on Linux and fails without jack.pc.
pkg-config --exists jack 2>/dev/null || pkgs+=(libjack-jackd2-dev)
case "$mode" in
run | test | ml) ;;
*)
    say "unknown mode '$mode': use run, test or ml"
    exit 2
    ;;
esac

if [ "$mode" != run ]; then
    command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || pkgs+=(python3-venv)
    command -v mkfifo >/dev/null 2>&1 || pkgs+=(coreutils)
    # The format tests: fixtures encoded, and lossy files decoded independently, by
    # ffmpeg; AIFF-C by sox.
    command -v ffmpeg >/dev/null 2>&1 || pkgs+=(ffmpeg)
    command -v sox >/dev/null 2>&1 || pkgs+=(sox)
    [ -f /usr/share/alsa/alsa.conf ] || pkgs+=(libasound2-data)
    # The window end-to-end tests: a private X server, keys and screenshots.
    command -v Xvfb >/dev/null 2>&1 || pkgs+=(xvfb)
    command -v xauth >/dev/null 2>&1 || pkgs+=(xauth)
    command -v xdotool >/dev/null 2>&1 || pkgs+=(xdotool)
    command -v import >/dev/null 2>&1 || pkgs+=(imagemagick)
    command -v xdpyinfo >/dev/null 2>&1 || pkgs+=(x11-utils)
    # Live input on a real audio server that tests kill and restart: pulseaudio (the
    # server), pulseaudio-utils (pactl, pacat, paplay), libasound2-plugins (ALSA -> pulse).
    command -v pulseaudio >/dev/null 2>&1 || pkgs+=(pulseaudio)
    command -v paplay >/dev/null 2>&1 || pkgs+=(pulseaudio-utils)
    compgen -G '/usr/lib*/*/alsa-lib/libasound_module_pcm_pulse.so' >/dev/null ||
        compgen -G '/usr/lib*/alsa-lib/libasound_module_pcm_pulse.so' >/dev/null ||
        pkgs+=(libasound2-plugins)
    # The native PipeWire host on a real PipeWire that tests kill and restart: pipewire
    # (pipewire-bin: the pipewire daemon, pw-cli, pw-cat, pw-metadata), wireplumber (the
    # session manager that makes the test sink the default), dbus (dbus-daemon: its
    # private session bus; Debian 12 ships the binary in dbus-daemon, pulled in by dbus).
    command -v pipewire >/dev/null 2>&1 || pkgs+=(pipewire pipewire-bin)
    for t in pw-cli pw-cat pw-metadata; do
        command -v $t >/dev/null 2>&1 || { pkgs+=(pipewire-bin); break; }
    done
    command -v wireplumber >/dev/null 2>&1 || pkgs+=(wireplumber)
    command -v dbus-daemon >/dev/null 2>&1 || pkgs+=(dbus)
fi

if [ ${#pkgs[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 || { say "need root or sudo to run: apt-get install ${pkgs[*]}"; exit 1; }
            sudo="sudo"
        fi
        say "installing ${pkgs[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    else
        say "missing: ${pkgs[*]} (Debian names). Install the ALSA development headers (alsa-lib-devel on Fedora,"
        say "alsa-lib on Arch), the PipeWire and JACK ones and libclang (pipewire-devel jack-audio-connection-kit-devel"
        say "clang-devel; pipewire jack2 clang), or build without PipeWire or JACK, e.g."
        say "cargo build --release --no-default-features --features pulseaudio;"
        say "pkg-config and, for tests, Python 3 with venv, Xvfb, xauth, xdotool,"
        say "ImageMagick, xdpyinfo, PulseAudio with pactl/pacat/paplay and the ALSA pulse plugin"
        say "(alsa-plugins-pulseaudio on Fedora, pulseaudio-alsa on Arch), PipeWire with"
        say "pw-cli/pw-cat/pw-metadata, WirePlumber and dbus-daemon; then run this again."
        exit 1
    fi
fi

# A Python >= 3.12 with venv, for .venv-librosa-new: its path, or nothing.
new_python() {
    local c
    for c in python3 python3.14 python3.13 python3.12 \
        "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3; do
        if "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            echo "$c"
            return
        fi
    done
    if command -v uv >/dev/null 2>&1; then uv python find '>=3.12' 2>/dev/null || true; fi
}

if [ "$mode" != run ]; then
    # The light front-end references of tests/python/frontend_ref.py come with the
    # oracles (transformers is 130 MB of them).
    light_mods='import numpy, scipy, librosa, transformers, kaldi_native_fbank, python_speech_features'
    if ! .venv/bin/python -c "$light_mods" >/dev/null 2>&1; then
        say "creating .venv with tests/python/requirements.txt (numpy, scipy, librosa, front-end references)"
        rm -rf .venv
        python3 -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
    fi
    # torchvggish declares torch and resampy, but only its numpy mel_features.py is used:
    # installed without its dependencies (the file is loaded on its own).
    if ! .venv/bin/python -c 'import importlib.util as u; assert u.find_spec("torchvggish")' >/dev/null 2>&1; then
        .venv/bin/pip install -q --disable-pip-version-check --no-deps -r tests/python/requirements-nodeps.txt
    fi
fi
# torch and TensorFlow, to run the exported snippets and the ML-tier front-end
# references: only for make test-ml (measured: 70 s + 22 s, 6.8 GB).
if [ "$mode" = ml ] && ! .venv/bin/python -c 'import torch, tensorflow, torchaudio, whisper, jax' >/dev/null 2>&1; then
    say "adding torch, tensorflow-cpu, torchaudio, openai-whisper and jax to .venv (tests/python/requirements-ml.txt)"
    .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements-ml.txt
fi
# The newest librosa (1.0.x needs Python >= 3.12), for the librosa snippet's second
# check: only for make test-ml, so that make test's Python stays under 1 GB (measured:
# .venv 0.74 GB, .venv-librosa-new 0.5 GB).
if [ "$mode" = ml ]; then
    want=$(sed -n 's/^librosa==//p' tests/python/requirements-librosa-new.txt)
    have=$(.venv-librosa-new/bin/python -c 'import numpy, scipy, librosa; print(librosa.__version__)' 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
        py=$(new_python)
        if [ -z "$py" ]; then
            # No Python >= 3.12 here (Debian 12 has 3.11): uv, pinned, fetches a standalone one.
            say "no Python >= 3.12 found: installing one with uv (tests/python/requirements-uv.txt)"
            .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements-uv.txt
            .venv/bin/uv python install -q 3.12
            py=$(.venv/bin/uv python find 3.12)
        fi
        say "creating .venv-librosa-new with $py and tests/python/requirements-librosa-new.txt (librosa $want)"
        rm -rf .venv-librosa-new
        "$py" -m venv .venv-librosa-new
        .venv-librosa-new/bin/pip install -q --disable-pip-version-check -r tests/python/requirements-librosa-new.txt
    fi
fi
