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

/// `"section": {"enabled": false}` for `None`, `{"enabled": true, …fields}` for `Some`:
/// `#[serde(with = "crate::io::json::enabled")]` on an `Option` field.
pub mod enabled {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Switch<T> {
        enabled: bool,
        #[serde(flatten)]
        body: Option<T>,
    }

    /// `{"enabled": false}`, or `{"enabled": true, …}` with the value's fields.
    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        Switch {
            enabled: v.is_some(),
            body: v.as_ref(),
        }
        .serialize(s)
    }

    /// The inverse of [`serialize`].
    ///
    /// # Errors
    /// `"enabled": true` without the section's fields, or a field of the wrong type.
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        match Switch::<T>::deserialize(d)? {
            Switch { enabled: false, .. } => Ok(None),
            Switch {
                body: Some(body), ..
            } => Ok(Some(body)),
            Switch { body: None, .. } => Err(D::Error::custom(
                "\"enabled\": true without the section's fields",
            )),
        }
    }
}
