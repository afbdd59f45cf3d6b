//! Keeps libasound and libjack from printing on our stderr.
//!
//! On a machine without a sound card libasound prints eight `ALSA lib confmisc.c:…`
//! lines at every start, and libjack a few `Cannot connect to server socket` lines
//! when no JACK server runs. hopscope says what matters in its own one-line
//! messages; what the libraries said goes to the log at debug level
//! (`HOPSCOPE_LOG=debug`).

use std::ffi::{c_char, c_int, CStr};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static DEBUG: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Whether `HOPSCOPE_LOG=debug` asked for the libraries' messages.
pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Installs the handlers (once per process; later calls do nothing).
pub fn install() {
    INSTALL.call_once(|| {
        let debug = std::env::var("HOPSCOPE_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("debug"));
        DEBUG.store(debug, Ordering::Relaxed);
        #[cfg(target_os = "linux")]
        alsa::install();
        // Only where libjack is installed: jack-sys resolves its functions on first
        // use and panics when the library cannot be loaded.
        #[cfg(all(target_os = "linux", feature = "jack"))]
        if jack::jack_sys::library().is_ok() {
            jack::set_logger(jack::LoggerType::Custom {
                info: jack_message,
                error: jack_message,
            });
        }
    });
}

fn log_line(origin: &str, text: &str) {
    if debug_enabled() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "hopscope: debug: {origin}: {}",
            text.trim_end()
        );
    }
}

/// # Safety
/// `text` is null or a NUL-terminated string (libjack's contract).
#[cfg(all(target_os = "linux", feature = "jack"))]
unsafe extern "C" fn jack_message(text: *const c_char) {
    if text.is_null() {
        return;
    }
    // SAFETY: libjack passes a NUL-terminated message valid for this call.
    let text = unsafe { CStr::from_ptr(text) };
    log_line("jack", &text.to_string_lossy());
}

/// Called by the C handler in `src/audio/c/alsa_quiet.c` with the formatted message.
///
/// # Safety
/// Every pointer is null or a NUL-terminated string valid for this call (libasound's
/// contract for `file` and `function`; the C handler's own buffer for `message`).
#[no_mangle]
pub unsafe extern "C" fn hopscope_alsa_message(
    file: *const c_char,
    line: c_int,
    function: *const c_char,
    err: c_int,
    message: *const c_char,
) {
    if !debug_enabled() {
        return;
    }
    let text = |p: *const c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: non-null and NUL-terminated per this function's contract.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    log_line(
        "alsa",
        &format!(
            "{}:{line} ({}) {} [err {err}]",
            text(file),
            text(function),
            text(message)
        ),
    );
}

#[cfg(target_os = "linux")]
mod alsa {
    use std::ffi::{c_char, c_int};

    type Handler =
        unsafe extern "C" fn(*const c_char, c_int, *const c_char, c_int, *const c_char, ...);

    extern "C" {
        /// Defined in `src/audio/c/alsa_quiet.c` (built by build.rs).
        fn hopscope_alsa_error(
            file: *const c_char,
            line: c_int,
            function: *const c_char,
            err: c_int,
            fmt: *const c_char,
            ...
        );
    }

    #[link(name = "asound")]
    extern "C" {
        fn snd_lib_error_set_handler(handler: Option<Handler>) -> c_int;
    }

    pub(super) fn install() {
        // SAFETY: sets a process-wide function pointer; the handler is a valid C
        // function for the whole life of the process.
        unsafe {
            snd_lib_error_set_handler(Some(hopscope_alsa_error));
        }
    }
}
