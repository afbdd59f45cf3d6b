//! hopscope: a real-time microphone spectrogram monitor.
//!
//! ```text
//! mic → cpal callback (audio::callback)  ─ convert, one bulk push, count
//!     → lock-free SPSC ring (audio::ring) ─ interleaved f32 + timing marks
//!     → analysis thread (analysis)        ─ downmix (stream), sliding STFT (dsp::stft), dBFS (dsp::scale);
//!                                           for the window, rows folded into time columns (render::timeaxis)
//!     → bounded crossbeam channel         ─ SpectrumRow (analysis::message): rows, or runs of columns; buffers recycled
//!     → main thread                       ─ the window (ui), or the headless status line (app)
//! files → io::wav → offline::{analyze, render, suggest} on the rayon pool → io::{npy, png}
//! ```
//!
//! Modules, lowest first; each uses only modules above it in this list
//! (`tests/it/layering.rs` checks it):
//!
//! | module | what |
//! |---|---|
//! | `error`, `stream` | the error type; what every stage shares (`ChannelSelect`, `Timebase`, `downmix_into`) |
//! | `dsp` | windows, STFT, scaling, mel, entropy, latency model, quantiles, white noise, note names: pure, no I/O |
//! | `io` | WAV in; `.npy`, PNG out; all-or-nothing writes; signals during offline runs |
//! | `render` | colormaps, frequency maps, text, the circular waterfall, axes and colour bar |
//! | `audio` | the real-time callback, the ring, cpal devices, the input supervisor, file/demo sources |
//! | `analysis` | the analysis thread, its column folds, its messages, the mono history |
//! | `cli`, `config` | clap arguments; validated configurations (pane settings in `config::pane`) |
//! | `offline` | `analyze`, `render`, `suggest`, `latency` (the model and measured CPU per hop), snapshots, exports, `--params` files, batches of files |
//! | `ui` | keys, view state, the frame loop, frame composition, overlays, background jobs, the MIT-SHM presenter |
//! | `app` | wiring: commands, live start and ordered shutdown, status lines, the offline progress bar |
//!
//! Threads:
//!
//! | thread | owns | shares | allocates | blocks |
//! |---|---|---|---|---|
//! | capture callback (RT, cpal's) | `CaptureCallback<T>` (ring producers) | `Arc<CaptureStats>` (write) | never | never |
//! | `source` (--file/--demo) | a `BlockSource`, `CaptureCallback<f32>` | `Arc<CaptureStats>` | its period buffer once | sleeps until each period is due |
//! | `input` (a device) | the cpal stream, the watchdog; (re)opens the device | `Arc<InputHealth>` (write), `InputSwap` (hands new rings to `stft`) | on (re)open only | 50 ms between looks; in the backend's open |
//! | `close` (one per closed stream) | a stream being paused and dropped | — | no | in the backend; left behind at exit after 0.5 s |
//! | analysis (`stft`) | ring consumers, one `Stft` and (window) one `PaneColumns` per pane, channel ends | `Arc<AnalysisStats>` (write), the mono history (short lock) | on reconfiguration only | short sleep when the ring is empty |
//! | `rerender` | nothing but requests | the mono history (copy under a short lock) | per request | waits for requests |
//! | `snapshot`, `suggest`, `screenshot` (one per key press) | their copy of the data | a notice channel back to the UI | yes | on file I/O |
//! | main (UI, or headless) | the window, the scene, `AnalysisLink` | stats (read) | yes, none per frame in steady state | 60 fps frame limiter (or the status interval) |
//! | ctrlc's handler (live) | — | the stop flag | no | waits for SIGINT/SIGTERM/SIGHUP |
//! | rayon pool (offline commands; suggest's G) | per-task `FrameTransform` clones | the input signal (read) | per block | — |
//! | `npy` writer (analyze) | the staged output file | blocks of rows from the pool | no | on write |
//! | `file-N` (a batch of `analyze`/`render`, one per pool thread) | one file's config and outputs at a time | the batch's plan and counters (read / atomics) | per file | on the pool, while its file's rows are computed |
//! | `progress` (the offline bar, stderr a terminal) | the bar's state | `offline::progress` counters (read), the bar handle (the `file-N` threads print above it) | per redraw | 100 ms between redraws |
//!
//! `analyze` runs the same [`dsp::stft::FrameTransform`] over a whole file on every core;
//! `suggest` ranks STFT sizes by the Rényi entropy of that transform's output.
#![deny(missing_docs)]
// A reader should not have to scroll a function: at most 100 lines (clippy.toml), outside
// the tests.
#![warn(clippy::too_many_lines)]
// Three modules need FFI: ui::present's shared-memory frames (X11 MIT-SHM via x11-dl),
// audio::quiet's libasound/libjack message handlers, and offline::latency's thread CPU
// clock (clock_gettime).
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
