//! Running one test alone in a fresh process of its own test binary, for the tests
//! that measure something every thread of the process shares (the heap's peak, see
//! [`super::alloc`]): in-process, the other tests of the binary run beside them.

use std::process::Command;
use std::time::Duration;

use super::{capture, Capture};

/// Set in the child to the name of the one test it runs.
const ENV: &str = "HOPSCOPE_TEST_ALONE";
/// A hang catcher for the child (the WAV fuzz test has its own per-case watchdog).
const CHILD_TIMEOUT: Duration = Duration::from_secs(900);

/// Whether the calling test should run its body here: `true` in the child process,
/// where it runs alone. In the test binary's own run it returns `false` after running
/// the test `test` of the module `module` (pass `module_path!()`) in a child with
/// `--exact --test-threads=1`, and panics (with the child's output) unless the child ran
/// that one test and it passed.
pub fn alone(module: &str, test: &str) -> bool {
    // `module_path!()` starts with the crate's name, which libtest's names leave out.
    let path = match module.split_once("::") {
        Some((_, rest)) => format!("{rest}::{test}"),
        None => test.to_string(),
    };
    if std::env::var(ENV).is_ok_and(|v| v == path) {
        return true;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args([path.as_str(), "--exact", "--test-threads=1", "--nocapture"])
        .env(ENV, &path);
    let out = match capture(cmd, CHILD_TIMEOUT) {
        Ok(out) => out,
        Err(Capture::Spawn(e)) => panic!("{path}: cannot run the test binary again: {e}"),
        Err(Capture::Timeout { stdout, stderr }) => panic!(
            "{path}: still running alone after {CHILD_TIMEOUT:?}: killed\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    };
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    // Through libtest's capture: shown when the test fails (or with --nocapture).
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "{path}, run alone in its own process, failed ({})",
        out.status
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{path}: the child process did not run exactly this test"
    );
    false
}
