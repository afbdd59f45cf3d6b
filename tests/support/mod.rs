//! The one helper tree of the integration tests, shared by the in-process binary
//! (`tests/it`) and the end-to-end one (`tests/e2e`); each uses a subset.
//!
//! Oracles written independently of `src/`: the seeded generator ([`rng`]), windows
//! and the naive DFT ([`dsp`]), mel formulas and warped axes ([`mel`]), a strict PNG
//! reader ([`image`]), a `.npy` reader ([`npy`]), the DSP.md §5 chirps ([`chirp`]) and
//! the tone levels the live tests expect ([`tone`]). Test plumbing: temp dirs ([`tempdir`], on `tempfile`), the
//! counting global allocator of `tests/it` ([`alloc`]) and a test run alone in its own
//! process ([`alone`]); for the binary under test, a child with a hard deadline and the
//! one-line error contract ([`process`]), its status lines ([`status`]), a running child
//! read line by line ([`live`]), a private Xvfb with xdotool/import and PNG decoding
//! ([`x11`]), the FIFO-fed ALSA test microphone ([`fifo`]), a private PulseAudio server
//! that can be killed and restarted ([`pulse`]), the same for PipeWire and WirePlumber
//! ([`pipewire`]), and the Python with numpy/scipy/librosa ([`python`]).
//!
//! No wall-clock assertions: every deadline here is a hang catcher ([`PATIENCE`]).
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

pub mod alloc;
pub mod alone;
pub mod chirp;
pub mod codecs;
pub mod columns;
pub mod dsp;
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]
pub mod fifo;
pub mod image;
pub mod live;
pub mod mel;
pub mod npy;
#[cfg(target_os = "linux")]
pub mod pipewire;
pub mod process;
#[cfg(target_os = "linux")]
pub mod pulse;
pub mod python;
pub mod rng;
pub mod status;
pub mod tempdir;
pub mod tone;
#[cfg(unix)]
pub mod x11;

pub use alone::alone;
pub use npy::{read_npy, Npy};
pub use process::{
    assert_one_line_error, capture, hopscope_in, output_within, run_with_timeout, Capture, Outcome,
    HOPSCOPE, PATIENCE,
};
pub use status::{status_lines, Status};
pub use tempdir::TempDir;
