//! hopscope: a real-time microphone spectrogram monitor.
//!
//! ```text
//! mic → cpal callback (audio::callback) ─ convert, one bulk push, count
//!     → lock-free SPSC ring (ring)       ─ interleaved f32 + timing marks
//!     → analysis thread (analysis)       ─ downmix, sliding STFT (dsp::stft), dBFS (dsp::scale)
//!     → bounded crossbeam channel        ─ SpectrumRow (message), buffers recycled
//!     → main thread                      ─ the window (ui), or the headless status line
//! ```
//!
//! | thread | owns | shares | allocates | blocks |
//! |---|---|---|---|---|
//! | capture callback (RT) | `CaptureCallback<T>` (producers) | `Arc<CaptureStats>` (write) | never | never |
//! | `source` (--file/--demo) | a `BlockSource`, `CaptureCallback<f32>` | `Arc<CaptureStats>` | its period buffer once | sleeps until each period is due |
//! | analysis (`stft`) | consumers, `Stft`, channel ends | `Arc<AnalysisStats>` (write) | on reconfiguration only | short sleep when the ring is empty |
//! | main | `cpal::Stream`, `AnalysisLink` | stats (read) | yes, none per row | status interval |
//!
//! `analyze` runs the same [`dsp::stft::FrameTransform`] over a whole file on every core;
//! `suggest` ranks STFT sizes by the Rényi entropy of that transform's output.
#![deny(missing_docs)]
// Two modules need FFI: ui::present's shared-memory frames (X11 MIT-SHM via x11-dl), and
// audio::quiet's libasound/libjack message handlers.
#![deny(unsafe_code)]

pub mod analysis;
pub mod app;
pub mod audio;
pub mod cli;
pub mod config;
pub mod dsp;
pub mod error;
pub mod io;
pub mod offline;
pub mod render;
pub mod stream;
pub mod ui;
