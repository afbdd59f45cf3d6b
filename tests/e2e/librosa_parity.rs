//! `hopscope analyze` against librosa.stft (tests/python/parity.py), on the real binary.
//!
//! Needs a Python with numpy, scipy and librosa: `$HOPSCOPE_PYTHON`, else `.venv/bin/python`
//! (`make test-deps` creates it). A missing interpreter fails the test: it is not skipped.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::python::python;
use crate::support::{output_within, TempDir};

/// A hang catcher for the whole script (it runs hopscope and librosa 32 times).
const SCRIPT_PATIENCE: Duration = Duration::from_secs(600);

#[test]
fn analyze_matches_librosa_within_1e_4() {
    let py = python();
    assert!(
        py.exists(),
        "no Python with librosa at {}: run `make test-deps` or set HOPSCOPE_PYTHON",
        py.display()
    );
    let work = TempDir::new("parity");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/parity.py");
    let mut cmd = Command::new(&py);
    cmd.arg(&script)
        .arg(env!("CARGO_BIN_EXE_hopscope"))
        .arg(work.path());
    let out = output_within(cmd, SCRIPT_PATIENCE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "librosa parity failed:\n{stdout}");
    assert!(stdout.contains("parity: 0 failing case(s)"));
    assert!(stdout.lines().filter(|l| l.starts_with("ok")).count() >= 20);
}
