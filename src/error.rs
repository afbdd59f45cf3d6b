//! The library's error type. Every variant renders as one line.

use std::path::PathBuf;

/// Everything that can go wrong, with context.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value out of range or malformed.
    #[error("invalid {flag}: {message}")]
    InvalidArgument {
        /// The flag, e.g. `--n-fft`.
        flag: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A WAV file that cannot be read.
    #[error("cannot read WAV '{path}': {message}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An output file that cannot be written.
    #[error("cannot write '{path}': {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No input device exists.
    #[error("no audio input device found ({0})")]
    NoInputDevice(String),
    /// `--device` matched nothing or several devices.
    #[error("{0}")]
    DeviceSelection(String),
    /// The device rejected or cannot provide the requested configuration.
    #[error("device '{device}': {message}")]
    DeviceConfig {
        /// Device name.
        device: String,
        /// What failed and what is supported.
        message: String,
    },
    /// `--host` names no usable audio host.
    #[error("{0}")]
    Host(String),
    /// Ctrl-C, SIGTERM or SIGHUP came while the audio backend was still opening the
    /// device (it may never answer).
    #[error("interrupted while opening the audio device: {0}")]
    OpenInterrupted(String),
    /// The audio backend failed.
    #[error("audio backend: {0}")]
    Audio(String),
    /// No window can be opened (no display).
    #[error("cannot open a window ({0}); for an offline spectrogram use `hopscope render IN.wav -o OUT.png`, or run live with --headless")]
    NoDisplay(String),
    /// The window system failed while running.
    #[error("window: {0}")]
    Display(String),
    /// `analyze` or `render` received SIGINT, SIGTERM or SIGHUP and stopped.
    #[error("interrupted by {signal}: stopped, and removed the partial outputs")]
    Interrupted {
        /// The signal's name.
        signal: &'static str,
    },
    /// A thread could not be started.
    #[error("cannot start thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
