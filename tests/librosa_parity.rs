//! `hopscope analyze` against librosa.stft (tests/python/parity.py), on the real binary.
//!
//! Needs a Python with numpy, scipy and librosa: `$HOPSCOPE_PYTHON`, else `.venv/bin/python`
//! (`make test-deps` creates it). A missing interpreter fails the test: it is not skipped.

use std::path::PathBuf;
use std::process::Command;

#[path = "support/python.rs"]
mod python;
use python::python;

#[test]
fn analyze_matches_librosa_within_1e_4() {
    let py = python();
    assert!(
        py.exists(),
        "no Python with librosa at {}: run `make test-deps` or set HOPSCOPE_PYTHON",
        py.display()
    );
    let work = std::env::temp_dir().join(format!("hopscope-parity-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("temp dir");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/parity.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_hopscope"))
        .arg(&work)
        .output()
        .expect("run parity.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&work);
    assert!(out.status.success(), "librosa parity failed:\n{stdout}");
    assert!(stdout.contains("parity: 0 failing case(s)"));
    assert!(stdout.lines().filter(|l| l.starts_with("ok")).count() >= 20);
}
