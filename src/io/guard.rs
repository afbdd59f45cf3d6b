//! Panics of the decoders, caught.
//!
//! symphonia's demuxers and decoders are meant to return errors on bad input, but some
//! of its arithmetic on header fields overflows (a CAF with 0xFFFFFFFF bytes per packet,
//! an AIFF of 65535 channels: `tests/it/fuzz_formats.rs`), which panics in a build with
//! overflow checks. [`guarded`] runs such a call under `catch_unwind` and turns a panic
//! into the message the caller reports as a one-line error naming the file and the
//! position.
//!
//! The default panic hook would print the panic and a backtrace hint to standard error
//! first. The first call of [`guarded`] installs, once for the process, a hook that stays
//! quiet for panics inside a guarded call on the thread that runs it (keeping their
//! message for the error) and hands every other panic, on any thread, to the hook that
//! was there before: a bug elsewhere still reports as it did.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

thread_local! {
    /// Guarded calls running on this thread (they may nest).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The message of the last panic caught on this thread.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Runs `f`; a panic in it becomes `Err` with its message and where it happened, on one
/// line.
///
/// # Errors
/// `f` panicked.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                CAUGHT.with(|c| *c.borrow_mut() = Some(describe(info)));
            } else {
                previous(info);
            }
        }));
    });
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|_| {
        CAUGHT
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| "a panic".into())
    })
}

/// `message (at file:line)` on one line.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    // A dependency's file from its crate's folder on (not the registry's path).
    let at = info
        .location()
        .map(|l| {
            let file = l.file();
            let file = file
                .split_once("/registry/src/")
                .and_then(|(_, rest)| rest.split_once('/'))
                .map_or(file, |(_, krate)| krate);
            format!(" (at {file}:{})", l.line())
        })
        .unwrap_or_default();
    format!("{message}{at}").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_place() {
        let e = guarded(|| -> u32 { panic!("boom\nagain") }).expect_err("panicked");
        assert!(e.starts_with("boom again (at "), "{e}");
        assert!(e.contains("guard.rs"), "{e}");
        assert_eq!(guarded(|| 7), Ok(7));
        // Nested: the inner panic is caught by the inner guard, the outer goes on.
        let outer = guarded(|| guarded(|| -> u8 { panic!("inner") }).is_err());
        assert_eq!(outer, Ok(true));
    }
}
