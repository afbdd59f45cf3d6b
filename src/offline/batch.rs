//! Many files for `analyze` and `render` (`IN… DIR… -o OUT/`): which files a batch
//! takes and where each output goes ([`plan`]), and running them in parallel with each
//! failure reported and the others carried on ([`run`]).
//!
//! - A file given is taken whatever its name; its output is `OUT/NAME.ext`.
//! - A directory given contributes its audio files by extension ([`AUDIO_EXTENSIONS`],
//!   any case), each written at its path relative to that directory: `DIR/a/b.flac` →
//!   `OUT/a/b.ext`. Its subdirectories are walked with `--recursive` only; without it
//!   they are skipped and counted. Other files, and hidden entries (names starting
//!   with '.'), are skipped and counted too.
//! - Two inputs with the same output (`a.wav` and `a.flac` → `a.npy`) are an error
//!   before any work.
//!
//! Each file runs through the one-file pipeline (`offline::analyze::run`,
//! `offline::render::run`), on up to as many `file-N` threads as rayon's pool has:
//! each thread takes the next file and waits while the pipeline's own parallel work
//! runs on the pool. (Files as rayon tasks would let a pool thread waiting inside one
//! file's pipeline steal another whole file, holding both decoded signals; these
//! threads bound the files in memory at once to their number.)
//!
//! Thread: main, plus the `file-N` threads of [`run`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use walkdir::WalkDir;

use crate::error::{Error, Result};
use crate::io::interrupt;

/// The extensions (compared in any case) that make a file of a directory given an
/// audio file.
pub const AUDIO_EXTENSIONS: [&str; 15] = [
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "aac", "alac", "aif", "aiff",
    "aifc", "caf",
];

/// Whether `path` has one of the [`AUDIO_EXTENSIONS`].
pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// One file of a batch.
///
/// Thread: main, then read by the `file-N` threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchFile {
    /// The input, as found (a directory given joined with the path inside it).
    pub input: PathBuf,
    /// Its output.
    pub output: PathBuf,
}

/// The files of a batch, decided before any work.
///
/// Thread: main, then read by the `file-N` threads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The files, in the order given (a directory's sorted by name, depth first).
    pub files: Vec<BatchFile>,
    /// Entries of the directories given that are not taken: other files, hidden
    /// entries, and subdirectories without `--recursive`.
    pub skipped: usize,
    /// What could not be listed (an unreadable directory, a symlink loop), with why:
    /// each counts as a failed file.
    pub unlisted: Vec<(PathBuf, String)>,
}

/// The files `inputs` name, each with its output under `out_dir` ending in `.ext`.
///
/// # Errors
/// Two inputs with the same output, or a file argument without a file name.
pub fn plan(inputs: &[PathBuf], out_dir: &Path, recursive: bool, ext: &str) -> Result<Plan> {
    let mut plan = Plan::default();
    for input in inputs {
        if input.is_dir() {
            walk(input, out_dir, recursive, ext, &mut plan);
            continue;
        }
        let Some(name) = input.file_name() else {
            return Err(Error::InvalidArgument {
                flag: "IN.wav",
                message: format!("'{}' names no file", input.display()),
            });
        };
        plan.files.push(BatchFile {
            input: input.clone(),
            output: out_dir.join(name).with_extension(ext),
        });
    }
    check_distinct(&plan.files)?;
    Ok(plan)
}

/// Adds the audio files of `dir` (of its subdirectories too when `recursive`).
fn walk(dir: &Path, out_dir: &Path, recursive: bool, ext: &str, plan: &mut Plan) {
    let mut entries = WalkDir::new(dir)
        .min_depth(1)
        .max_depth(if recursive { usize::MAX } else { 1 })
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                plan.unlisted.push((path, e.to_string()));
                continue;
            }
        };
        let hidden = entry.file_name().as_encoded_bytes().first() == Some(&b'.');
        if entry.file_type().is_dir() {
            if hidden || !recursive {
                plan.skipped += 1;
                if recursive {
                    entries.skip_current_dir();
                }
            }
            continue;
        }
        if hidden || !is_audio(entry.path()) {
            plan.skipped += 1;
            continue;
        }
        let inside = entry
            .path()
            .strip_prefix(dir)
            .expect("walkdir joins each entry's name onto the directory given");
        plan.files.push(BatchFile {
            input: entry.path().to_path_buf(),
            output: out_dir.join(inside).with_extension(ext),
        });
    }
}

/// No two files may share an output.
fn check_distinct(files: &[BatchFile]) -> Result<()> {
    let mut seen: std::collections::HashMap<&Path, &Path> = Default::default();
    for f in files {
        if let Some(first) = seen.insert(&f.output, &f.input) {
            return Err(Error::InvalidArgument {
                flag: "IN.wav",
                message: format!(
                    "'{}' and '{}' would both write '{}'",
                    first.display(),
                    f.input.display(),
                    f.output.display()
                ),
            });
        }
    }
    Ok(())
}

/// What a batch did: `N files: K written, F failed (S skipped)`, then the failed inputs.
///
/// Thread: main (plain data).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Audio files of the batch (and paths that could not be listed).
    pub files: usize,
    /// Files whose outputs were written.
    pub written: usize,
    /// Files that failed, each reported.
    pub failed: usize,
    /// [`Plan::skipped`].
    pub skipped: usize,
    /// The inputs that failed, in the plan's order.
    pub failed_inputs: Vec<std::path::PathBuf>,
    /// The signal that stopped the batch, if one did (the files not finished then are
    /// neither written nor failed).
    pub interrupted: Option<&'static str>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files: {} written, {} failed ({} skipped)",
            self.files, self.written, self.failed, self.skipped
        )?;
        // Each failed input by name, the first ten (the errors above say why).
        const NAMED: usize = 10;
        for (i, path) in self.failed_inputs.iter().take(NAMED).enumerate() {
            let sep = if i == 0 { ": failed " } else { ", " };
            write!(f, "{sep}{}", path.display())?;
        }
        if self.failed_inputs.len() > NAMED {
            write!(f, " and {} more", self.failed_inputs.len() - NAMED)?;
        }
        Ok(())
    }
}

/// Runs `each` on every file of `plan`, on up to `rayon::current_num_threads()`
/// `file-N` threads, creating each output's directory first; calls `done` with each
/// file's result on the thread that ran it as soon as it is finished (a failure to
/// create the directory is that file's result). A file stopped by a signal is not
/// passed to `done`; once a signal has arrived no file starts.
///
/// The paths `plan` could not list are counted as failed files; the caller reports
/// them.
///
/// # Errors
/// A thread could not be started.
pub fn run<T, E, D>(plan: &Plan, each: E, done: D) -> Result<Summary>
where
    E: Fn(&BatchFile) -> Result<T> + Sync,
    D: Fn(&BatchFile, Result<T>) + Sync,
{
    let next = AtomicUsize::new(0);
    let (written, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let failed_at = std::sync::Mutex::new(Vec::new());
    let work = || {
        while interrupt::received().is_none() {
            let Some(file) = plan.files.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let result = create_parent(&file.output).and_then(|()| each(file));
            super::progress::file_done();
            match result {
                Err(Error::Interrupted { .. }) => continue,
                Ok(_) => written.fetch_add(1, Ordering::Relaxed),
                Err(_) => {
                    if let Ok(mut list) = failed_at.lock() {
                        list.push(next_index(plan, file));
                    }
                    failed.fetch_add(1, Ordering::Relaxed)
                }
            };
            done(file, result);
        }
    };
    let threads = rayon::current_num_threads().clamp(1, plan.files.len().max(1));
    std::thread::scope(|scope| {
        for i in 0..threads {
            let spawned = std::thread::Builder::new()
                .name(format!("file-{i}"))
                .spawn_scoped(scope, work);
            match spawned {
                Ok(_) => {}
                // The threads started take every file: fewer at a time.
                Err(_) if i > 0 => break,
                Err(source) => {
                    return Err(Error::SpawnThread {
                        thread: "file",
                        source,
                    })
                }
            }
        }
        Ok(())
    })?;
    let mut failed_inputs: Vec<usize> = failed_at.into_inner().unwrap_or_default();
    failed_inputs.sort_unstable();
    let failed_inputs = failed_inputs
        .into_iter()
        .map(|i| plan.files[i].input.clone())
        .chain(plan.unlisted.iter().map(|u| u.0.clone()))
        .collect();
    Ok(Summary {
        failed_inputs,
        files: plan.files.len() + plan.unlisted.len(),
        written: written.into_inner(),
        failed: failed.into_inner() + plan.unlisted.len(),
        skipped: plan.skipped,
        interrupted: interrupt::received(),
    })
}

/// The index of `file` in `plan` (the files are compared by address).
fn next_index(plan: &Plan, file: &BatchFile) -> usize {
    plan.files
        .iter()
        .position(|f| std::ptr::eq(f, file))
        .expect("the file comes from the plan")
}

/// Creates the directory `output` goes in (an existing one is fine).
fn create_parent(output: &Path) -> Result<()> {
    match output.parent().filter(|p| !p.as_os_str().is_empty()) {
        None => Ok(()),
        Some(dir) => std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        }),
    }
}
