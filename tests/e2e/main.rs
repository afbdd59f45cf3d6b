//! The end-to-end tests, one binary: each runs the real `hopscope` binary (and, where it
//! needs them, Python with numpy/scipy/librosa, a private Xvfb, the FIFO-fed ALSA test
//! microphone, a private PulseAudio or PipeWire server) and checks what it prints,
//! writes and shows. The in-process tests are in `tests/it`; the helpers in
//! `tests/support`.
//!
//! No wall-clock assertions: a hang is caught by a generous deadline
//! (`support::PATIENCE`), never a claim about speed.
//!
//! The torch and TensorFlow snippet check is `#[ignore]`d: `make test-ml` runs it (with
//! `-- --ignored`) after installing tests/python/requirements-ml.txt.

#[path = "../support/mod.rs"]
mod support;

mod alloc_bounds;
mod alsa_capture;
mod batch_cli;
mod cli_errors;
mod damaged_formats;
mod export_snippets;
mod frontend_cli;
mod frontend_parity;
mod latency_cli;
mod librosa_parity;
mod nonfinite;
mod params_cli;
mod partial_outputs;
mod pipewire_live;
mod pulse_live;
mod render_cli;
mod stdin_input;
mod suggest_cli;
mod window_e2e;
mod window_scipy;
