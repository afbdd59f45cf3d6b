//! `--frontend NAME|PATH.json`: a built-in model front-end by name, or a front-end JSON.
//!
//! Thread: main (plain data).

use std::path::Path;

use crate::dsp::frontend::{presets, FrontendSpec};
use crate::error::{Error, Result};
use crate::io::frontend_json;

/// The front-end `arg` names: a built-in ([`presets::NAMES`]) or a JSON file.
///
/// # Errors
/// Neither a built-in name nor a readable, valid front-end JSON: one line listing the
/// built-ins.
pub fn resolve(arg: &str, flag: &'static str) -> Result<FrontendSpec> {
    if let Some(spec) = presets::by_name(&arg.to_ascii_lowercase()) {
        return Ok(spec);
    }
    let path = Path::new(arg);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || path.exists()
    {
        return frontend_json::read(path, flag);
    }
    Err(Error::InvalidArgument {
        flag,
        message: format!(
            "'{arg}' is neither a built-in front-end ({}) nor a .json file",
            presets::NAMES.join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_case_blind_and_unknown_ones_list_the_built_ins() {
        assert_eq!(
            resolve("Whisper", "--frontend").expect("built in").name,
            "whisper"
        );
        let e = resolve("wisper", "--frontend").expect_err("unknown");
        assert!(e.to_string().contains("kaldi-fbank"), "{e}");
        let e = resolve("/nonexistent/x.json", "--frontend").expect_err("missing file");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
