//! `--frontend NAME|PATH.json`: a built-in model front-end by name, or a front-end JSON.
//!
//! Thread: main (plain data).

use std::path::Path;
use std::sync::OnceLock;

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

/// The built-in front-ends, made once and kept for the program's lifetime: the specs
/// the window's panes and the analysis thread share read-only (`Control::SetFrontend`
/// carries a `&'static` one), in [`presets::NAMES`] order (the order N cycles them).
pub fn builtins() -> &'static [FrontendSpec] {
    static TABLE: OnceLock<Vec<FrontendSpec>> = OnceLock::new();
    TABLE.get_or_init(presets::all)
}

/// [`resolve`], kept for the program's lifetime: a built-in from [`builtins`], or the
/// JSON file's spec (leaked once per `--frontend`/`--compare` argument, a few kB).
///
/// # Errors
/// As [`resolve`].
pub fn resolve_static(arg: &str, flag: &'static str) -> Result<&'static FrontendSpec> {
    let lower = arg.to_ascii_lowercase();
    if let Some(spec) = builtins().iter().find(|s| s.name == lower) {
        return Ok(spec);
    }
    Ok(Box::leak(Box::new(resolve(arg, flag)?)))
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
