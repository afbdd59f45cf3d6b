//! The Python the parity tests run: `$HOPSCOPE_PYTHON`, else the `.venv` that
//! `make test-deps` creates (numpy, scipy, librosa, keras, jax; `make test-ml-deps` adds
//! torch and TensorFlow); and the one with the newest librosa for the export test:
//! `$HOPSCOPE_PYTHON_LIBROSA_NEW`, else `.venv-librosa-new`.

use std::path::PathBuf;

/// The interpreter to run (it may not exist: callers fail with a clear message).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("HOPSCOPE_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// The interpreter with the newest librosa (tests/python/requirements-librosa-new.txt; it
/// may not exist: callers fail with a clear message).
pub fn python_librosa_new() -> PathBuf {
    if let Some(p) = std::env::var_os("HOPSCOPE_PYTHON_LIBROSA_NEW") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-librosa-new/bin/python")
}
