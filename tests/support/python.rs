//! The Python the parity tests run: `$HOPSCOPE_PYTHON`, else the `.venv` that
//! `make test-deps` creates (numpy, scipy, librosa; `make test-ml-deps` adds torch and
//! TensorFlow).

use std::path::PathBuf;

/// The interpreter to run (it may not exist: callers fail with a clear message).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("HOPSCOPE_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}
