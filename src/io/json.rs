//! A JSON file read into a typed view (an export for `--params`, a front-end for
//! `--frontend`), with one-line errors that name the flag, the file and the key.
//!
//! Thread: main. Allocates: yes.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The error for `key` of the file `path` given to `flag` (no key: the file itself):
/// `invalid --params: 'p.json': hop_length: …`.
pub fn key_error(flag: &'static str, path: &Path, key: &str, message: String) -> Error {
    Error::InvalidArgument {
        flag,
        message: if key.is_empty() || key == "." {
            format!("'{}': {message}", path.display())
        } else {
            format!("'{}': {key}: {message}", path.display())
        },
    }
}

/// Reads `path` as a `T`. A file that is not JSON at all is `'{path}': {not_json}: …`.
///
/// # Errors
/// The file cannot be read, is not JSON, or a key is missing or of the wrong type.
pub fn read<T: DeserializeOwned>(path: &Path, flag: &'static str, not_json: &str) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| key_error(flag, path, "", format!("cannot read: {e}")))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            key_error(flag, path, "", format!("{not_json}: {inner}"))
        } else {
            key_error(flag, path, &key, inner.to_string())
        }
    })
}
