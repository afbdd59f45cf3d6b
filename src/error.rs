//! The library's error type. Every variant renders as one line that already includes its
//! cause (`main` prints that line, not the `source()` chain, so nothing repeats); the cause
//! is also kept typed as the variant's `#[source]` for callers that inspect it.
//!
//! No variant converts from a bare `std::io::Error` (`#[from]`): each I/O failure names
//! what it was doing (writing which file, starting which thread).

use std::path::PathBuf;
use std::thread::JoinHandle;

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
    /// An audio file that cannot be read (any format but WAV, or any once opened).
    #[error("cannot read '{path}': {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and where.
        message: String,
    },
    /// An output file that cannot be written.
    #[error("cannot write '{path}': {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No input device exists.
    #[error("no audio input device found ({0})")]
    NoInputDevice(String),
    /// `--device` matched nothing or several devices.
    #[error("{0}")]
    DeviceSelection(String),
    /// The device rejected or cannot provide the requested configuration.
    #[error("device '{device}': {message}{}", in_parens(source.as_ref()))]
    DeviceConfig {
        /// Device name.
        device: String,
        /// What failed and what is supported.
        message: String,
        /// The backend's error, when one caused it.
        #[source]
        source: Option<cpal::Error>,
    },
    /// `--host` names no usable audio host.
    #[error("{0}")]
    Host(String),
    /// An audio host that exists here could not be opened.
    #[error("{}cannot use audio host {host}: {source}", device.as_ref().map_or_else(String::new, |d| format!("cannot open input device '{d}': ")))]
    HostOpen {
        /// The host, e.g. `alsa`.
        host: String,
        /// The `--device` being opened, if any.
        device: Option<String>,
        /// The backend's error.
        #[source]
        source: cpal::Error,
    },
    /// A host's input devices could not be listed.
    #[error("cannot list the input devices of audio host {host}: {source}")]
    ListDevices {
        /// The host, e.g. `alsa`.
        host: String,
        /// The backend's error.
        #[source]
        source: cpal::Error,
    },
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
    /// The OS could not start a thread.
    #[error("cannot start the '{thread}' thread: {source}")]
    SpawnThread {
        /// The thread's name, e.g. `stft`.
        thread: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A thread panicked (the panic itself was printed when it happened); reported when
    /// it is joined, so the process exits non-zero.
    #[error("the {role} thread '{thread}' panicked: {message}")]
    ThreadPanicked {
        /// What the thread does, e.g. `analysis`.
        role: &'static str,
        /// Its name, e.g. `stft`.
        thread: String,
        /// The first line of its panic message.
        message: String,
    },
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

fn in_parens(source: Option<&cpal::Error>) -> String {
    source.map_or_else(String::new, |e| format!(" ({e})"))
}

/// Joins `handle`; a panic becomes [`Error::ThreadPanicked`] naming `role` and the thread.
///
/// # Errors
/// The thread panicked.
pub fn join(handle: JoinHandle<()>, role: &'static str) -> Result<()> {
    let thread = handle.thread().name().unwrap_or("unnamed").to_string();
    handle.join().map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic payload".into());
        Error::ThreadPanicked {
            role,
            thread,
            message: text.lines().next().unwrap_or("").to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_thread_is_an_error_naming_it() {
        let handle = std::thread::Builder::new()
            .name("doomed".into())
            .spawn(|| panic!("row {} out of range\nsecond line", 7))
            .expect("spawn");
        let err = join(handle, "test").expect_err("it panicked");
        assert_eq!(
            err.to_string(),
            "the test thread 'doomed' panicked: row 7 out of range"
        );
        let fine = std::thread::spawn(|| {});
        assert!(join(fine, "test").is_ok());
    }

    #[test]
    fn causes_are_kept_as_sources_and_shown_once() {
        use std::error::Error as _;
        let e = Error::DeviceConfig {
            device: "mic".into(),
            message: "cannot open input stream".into(),
            source: Some(cpal::Error::new(cpal::ErrorKind::DeviceBusy)),
        };
        assert!(e.source().is_some_and(|s| s.is::<cpal::Error>()));
        let text = e.to_string();
        assert!(text.starts_with("device 'mic': cannot open input stream ("));
        assert_eq!(text.lines().count(), 1);
        let e = Error::SpawnThread {
            thread: "stft",
            source: std::io::Error::from(std::io::ErrorKind::OutOfMemory),
        };
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
        assert!(e
            .to_string()
            .starts_with("cannot start the 'stft' thread: "));
    }
}
