//! The in-process integration tests, one binary (one link against cpal and minifb): the
//! DSP, analysis, render, UI-state and WAV tests call the library directly, with no
//! child process of hopscope, no X server and no audio server (those are in `tests/e2e`).
//! One module per behaviour; the oracles are in `tests/support`.
//!
//! The binary's global allocator is `assert_no_alloc`'s, counting live bytes as well
//! (`support::alloc`): the live-mel test checks that its hot path never allocates, the
//! WAV fuzz test bounds the reader's and `analyze`'s peak heap (alone in a process of
//! its own, `support::alone`). `tests/no_alloc.rs` stays a binary of its own.

#[path = "../support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: support::alloc::Counting = support::alloc::Counting;

mod batch_plan;
mod compare;
mod dsp_calibration;
mod dsp_mel;
mod dsp_stft;
mod dsp_window;
mod formats;
mod fuzz_formats;
mod fuzz_wav;
mod history;
mod input_gaps;
mod latency_model;
mod latency_table;
mod layering;
mod live_mel;
mod overflow;
mod params_file;
mod render_axes;
mod render_image;
mod streaming;
mod suggest;
mod time_columns;
mod ui_state;
