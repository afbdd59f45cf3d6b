//! The inputs and outputs of `analyze` and `render`: one file (`IN -o OUT.npy`, as it
//! always was) or a batch (several inputs, directories, `-o DIR/`).
//!
//! Thread: main (plain data).

use std::path::{Path, PathBuf};

use crate::cli::BatchArgs;
use crate::error::{Error, Result};
use crate::io::wav::STDIN_PATH;

/// Where the outputs go.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputTarget {
    /// The one output of the one input.
    File(PathBuf),
    /// A directory: each input's output inside it, mirroring the directories given.
    Dir(PathBuf),
}

/// `--export`.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportTarget {
    /// No export.
    None,
    /// `--export PATH.json` (one input only).
    Path(PathBuf),
    /// `--export` without a path: `OUT.json` beside each output `OUT.npy`/`OUT.png`.
    Beside,
}

impl ExportTarget {
    /// The export of the output `output`.
    pub fn for_output(&self, output: &Path) -> Option<PathBuf> {
        match self {
            ExportTarget::None => None,
            ExportTarget::Path(p) => Some(p.clone()),
            ExportTarget::Beside => Some(output.with_extension("json")),
        }
    }
}

/// The validated inputs and outputs of `analyze` or `render`.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Files and directories, as given.
    pub inputs: Vec<PathBuf>,
    /// Where the outputs go.
    pub output: OutputTarget,
    /// Descend into the subdirectories of the directories given.
    pub recursive: bool,
    /// No progress bar.
    pub quiet: bool,
    /// `--export`.
    pub export: ExportTarget,
}

impl BatchConfig {
    /// Checks the inputs against `-o` for outputs ending in `.ext` (`npy`, `png`):
    /// `-o` is a directory when it ends in '/' or is an existing directory whose name
    /// does not end in `.ext` (an existing directory `x.npy` stays the error it was);
    /// otherwise it is the one output of the one input file.
    ///
    /// # Errors
    /// '-' beside other inputs or with `-o DIR/`, a file output for several inputs or a
    /// directory, an output file not ending in `.ext`, `--export PATH` with `-o DIR/`.
    pub fn new(
        inputs: &[PathBuf],
        output: &Path,
        batch: &BatchArgs,
        export: Option<&Option<PathBuf>>,
        ext: &str,
    ) -> Result<BatchConfig> {
        let stdin = inputs.iter().any(|p| p.as_os_str() == STDIN_PATH);
        if stdin && inputs.len() > 1 {
            return Err(invalid(
                "IN.wav",
                "'-' (standard input) can only be the one input".into(),
            ));
        }
        let output = if names_dir(output, ext) {
            if stdin {
                return Err(invalid(
                    "--output",
                    format!(
                        "'-' (standard input) has no file name to put in '{}': give -o OUT.{ext}",
                        output.display()
                    ),
                ));
            }
            OutputTarget::Dir(output.to_path_buf())
        } else {
            let dir_input = inputs.iter().find(|p| p.is_dir());
            if inputs.len() > 1 || dir_input.is_some() {
                let what = match dir_input {
                    Some(d) => format!("the input '{}' is a directory", d.display()),
                    None => format!("there are {} inputs", inputs.len()),
                };
                return Err(invalid(
                    "--output",
                    format!(
                        "'{}' is one file, but {what}: give a directory, -o DIR/ (an existing directory, or a path ending in '/')",
                        output.display()
                    ),
                ));
            }
            if !output
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
            {
                return Err(invalid(
                    "--output",
                    format!("'{}' must end in .{ext}", output.display()),
                ));
            }
            OutputTarget::File(output.to_path_buf())
        };
        let export = match (export, &output) {
            (None, _) => ExportTarget::None,
            (Some(None), _) => ExportTarget::Beside,
            (Some(Some(path)), OutputTarget::File(_)) => ExportTarget::Path(path.clone()),
            (Some(Some(path)), OutputTarget::Dir(_)) => {
                return Err(invalid(
                    "--export",
                    format!(
                        "'{}': with -o DIR/ each output gets its own export beside it (OUT.json): give --export without a path",
                        path.display()
                    ),
                ))
            }
        };
        Ok(BatchConfig {
            inputs: inputs.to_vec(),
            output,
            recursive: batch.recursive,
            quiet: batch.quiet,
            export,
        })
    }
}

/// Whether `-o output` names a directory: it ends in '/', or it is an existing directory
/// whose name does not end in `.ext`.
fn names_dir(output: &Path, ext: &str) -> bool {
    let text = output.as_os_str().as_encoded_bytes();
    let slash = text
        .last()
        .is_some_and(|&b| b == b'/' || (cfg!(windows) && b == b'\\'));
    slash
        || (output.is_dir()
            && !output
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext)))
}

fn invalid(flag: &'static str, message: String) -> Error {
    Error::InvalidArgument { flag, message }
}
