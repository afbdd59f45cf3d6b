//! SIGINT, SIGTERM and SIGHUP during `analyze` and `render`: [`install`] turns the first
//! one into a flag that the pipelines poll between blocks and that every write to a
//! [`super::atomic::Staged`] file checks, so the run stops with one line and its
//! temporary files are dropped (removed). A second signal terminates at once, as if no
//! handler were installed; the next run then removes the temporaries it left.
//!
//! Only the binary installs the handlers, for the offline commands alone (live mode has
//! its own Ctrl-C handling): without them, [`received`] is always `None`.
//!
//! Thread: any. Allocates: in `install` only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

/// The number of the first signal received (0 before any), once installed.
static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Installs the handlers (once; later calls do nothing).
///
/// # Errors
/// The OS refused a handler.
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use std::sync::atomic::AtomicBool;
    if RECEIVED.get().is_some() {
        return Ok(());
    }
    let number = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        // Runs first: the default action (terminate) when a signal was already seen.
        signal_hook::flag::register_conditional_default(signal, Arc::clone(&seen))?;
        signal_hook::flag::register(signal, Arc::clone(&seen))?;
        signal_hook::flag::register_usize(signal, Arc::clone(&number), signal as usize)?;
    }
    let _ = RECEIVED.set(number);
    Ok(())
}

/// No handlers off Unix: Ctrl-C ends the process as before.
///
/// # Errors
/// Never.
#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}

/// The name of the signal received, if one was.
pub fn received() -> Option<&'static str> {
    let n = RECEIVED.get().map_or(0, |r| r.load(Ordering::Relaxed));
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match n as i32 {
            0 => None,
            SIGINT => Some("SIGINT"),
            SIGTERM => Some("SIGTERM"),
            SIGHUP => Some("SIGHUP"),
            _ => Some("a signal"),
        }
    }
    #[cfg(not(unix))]
    (n != 0).then_some("a signal")
}

/// `Err(Interrupted)` once a signal has arrived.
///
/// # Errors
/// A signal was received.
pub fn check() -> Result<()> {
    match received() {
        None => Ok(()),
        Some(signal) => Err(Error::Interrupted { signal }),
    }
}
