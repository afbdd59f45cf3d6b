//! The output files of one offline run, staged under hidden temporary names beside their
//! targets (`.NAME.tmp-PID-XXXXXX`, made by `tempfile`) and renamed into place together
//! by [`commit_all`] once every one is complete: a run that fails, or is interrupted
//! (see [`super::interrupt`]), leaves none of its outputs, and a staged file dropped
//! unfinished is removed. A run killed outright (SIGKILL, a second signal) cannot remove
//! its temporaries; the next run writing the same target does ([`remove_stale`]).
//!
//! The same helper writes the files that must never replace another (screenshots:
//! [`Staged::commit_new`]) and, as [`StagedDir`], a folder written whole (snapshots).
//!
//! Thread: whoever owns the file (the offline writer thread, or main).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempDir};

use crate::error::{Error, Result};

/// One output being written under a temporary name.
pub struct Staged {
    file: NamedTempFile,
    target: PathBuf,
}

impl Staged {
    /// Creates an empty temporary file beside `target`.
    ///
    /// # Errors
    /// The target's directory is missing or not writable, or the target is a directory.
    pub fn create(target: &Path) -> Result<Staged> {
        let err = |source| Error::Write {
            path: target.to_path_buf(),
            source,
        };
        if target.is_dir() {
            return Err(err(std::io::Error::other("it is a directory")));
        }
        let file = create_beside(target, 0o666, |b, dir| b.tempfile_in(dir))?;
        Ok(Staged {
            file,
            target: target.to_path_buf(),
        })
    }

    /// Where the file goes on [`Staged::commit`].
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file's current name.
    pub fn temporary_path(&self) -> &Path {
        self.file.path()
    }

    /// The open file.
    pub fn file_mut(&mut self) -> &mut File {
        self.file.as_file_mut()
    }

    /// Renames the file onto its target.
    ///
    /// # Errors
    /// The rename failed (the temporary file is then removed).
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        self.file
            .persist(&target)
            .map(drop)
            .map_err(|e| Error::Write {
                path: target,
                source: e.error,
            })
    }

    /// Renames the file onto the first of `names` (in the target's directory) that does
    /// not exist, never replacing a file, and returns that path.
    ///
    /// # Errors
    /// Every name is taken, or the rename failed (the temporary file is then removed).
    pub fn commit_new(self, names: impl IntoIterator<Item = String>) -> Result<PathBuf> {
        let dir = directory_of(&self.target).to_path_buf();
        let mut file = self.file;
        for name in names {
            let path = dir.join(name);
            match file.persist_noclobber(&path) {
                Ok(_) => return Ok(path),
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => file = e.file,
                Err(e) => {
                    return Err(Error::Write {
                        path,
                        source: e.error,
                    })
                }
            }
        }
        Err(Error::Write {
            path: self.target,
            source: std::io::Error::other("every name for it is taken"),
        })
    }
}

impl Write for Staged {
    /// Writes to the file, or fails once a termination signal has arrived.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(signal) = super::interrupt::received() {
            return Err(std::io::Error::other(format!("interrupted by {signal}")));
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Renames every file onto its target, in order, once all are written. If a rename
/// fails, the targets already renamed by this call are removed again (the files they
/// replaced are gone: a rename cannot be undone) and the remaining temporaries dropped,
/// so either every output of the run is in place or none of its new files is.
///
/// # Errors
/// The first rename that failed.
pub fn commit_all(files: Vec<Staged>) -> Result<()> {
    let mut done: Vec<PathBuf> = Vec::with_capacity(files.len());
    for staged in files {
        let target = staged.target.clone();
        if let Err(e) = staged.commit() {
            for path in &done {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        done.push(target);
    }
    Ok(())
}

/// A folder being written under a temporary name beside its target
/// (`.NAME.tmp-PID-XXXXXX`), removed with its contents when dropped unpublished.
pub struct StagedDir {
    dir: TempDir,
    target: PathBuf,
}

impl StagedDir {
    /// Creates an empty temporary folder beside `target`.
    ///
    /// # Errors
    /// The target's directory is missing or not writable.
    pub fn create(target: &Path) -> Result<StagedDir> {
        let dir = create_beside(target, 0o777, |b, dir| b.tempdir_in(dir))?;
        Ok(StagedDir {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// The temporary folder, to write into.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Renames the folder onto the first of `names` (in the target's directory) that
    /// does not exist, and returns that path. A folder that appears under the chosen
    /// name meanwhile is not replaced (a rename onto a non-empty folder fails): the next
    /// name is tried.
    ///
    /// # Errors
    /// Every name is taken, or the rename failed (the temporary folder is then removed).
    pub fn commit_new(self, names: impl IntoIterator<Item = String>) -> Result<PathBuf> {
        let dir = directory_of(&self.target).to_path_buf();
        for name in names {
            let path = dir.join(name);
            if path.exists() {
                continue;
            }
            match std::fs::rename(self.dir.path(), &path) {
                Ok(()) => {
                    // Renamed: nothing is left at the temporary name to clean up.
                    let _ = self.dir.keep();
                    return Ok(path);
                }
                Err(_) if path.exists() => continue,
                Err(source) => return Err(Error::Write { path, source }),
            }
        }
        Err(Error::Write {
            path: self.target,
            source: std::io::Error::other("every name for it is taken"),
        })
    }
}

/// Creates a temporary of `target` beside it with `create` (a `tempfile` builder's
/// `tempfile_in` or `tempdir_in`, given the builder and the directory): named
/// `.NAME.tmp-PID-XXXXXX` (what [`remove_stale`] recognises), with `mode` less the umask
/// (what `File::create` and `create_dir` use, not tempfile's private 0600/0700).
fn create_beside<T>(
    target: &Path,
    mode: u32,
    create: impl FnOnce(&tempfile::Builder<'_, '_>, &Path) -> std::io::Result<T>,
) -> Result<T> {
    let prefix = format!("{}{}-", temp_prefix(target), std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).rand_bytes(6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    create(&builder, directory_of(target)).map_err(|source| Error::Write {
        path: target.to_path_buf(),
        source,
    })
}

/// Removes the temporaries (files or folders) of `target` whose process no longer
/// exists (a run killed before it could remove them). Linux only (`/proc`); elsewhere
/// nothing is removed.
pub fn remove_stale(target: &Path) {
    let Ok(entries) = std::fs::read_dir(directory_of(target)) else {
        return;
    };
    let prefix = temp_prefix(target);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if pid.parse::<u32>().is_ok_and(|pid| !process_exists(pid)) {
            let path = entry.path();
            let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
    }
}

/// Whether process `pid` exists; `true` where that cannot be told.
fn process_exists(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// `.NAME.tmp-`: every temporary of `target` starts so (then the PID).
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.tmp-")
}

/// The directory `target` is in (`.` for a bare file name).
fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `YYYYMMDD-HHMMSS` in UTC for `unix_s` seconds since 1970.
pub fn utc_stamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Howard Hinnant's days → civil date.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The names `PREFIX-YYYYMMDD-HHMMSS` + `ext`, then with `-1`, `-2`, … (1000 in all),
/// stamped with the current UTC second: the first one free is the output's name.
pub fn stamped_names(prefix: &str, ext: &str) -> impl Iterator<Item = String> {
    let unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(unix_s);
    let (prefix, ext) = (prefix.to_string(), ext.to_string());
    (0..1000).map(move |n| {
        if n == 0 {
            format!("{prefix}-{stamp}{ext}")
        } else {
            format!("{prefix}-{stamp}-{n}{ext}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commit_new_takes_the_first_free_name_and_never_replaces() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("a.png"), b"old").expect("written");
        let mut staged = Staged::create(&dir.path().join("shot.png")).expect("staged");
        staged.write_all(b"new").expect("written");
        let temporary = staged.temporary_path().to_path_buf();
        let name = temporary.file_name().expect("a name").to_string_lossy();
        assert!(
            name.starts_with(&format!(".shot.png.tmp-{}-", std::process::id())),
            "{name}"
        );
        let path = staged
            .commit_new(names(&["a.png", "b.png"]))
            .expect("b.png is free");
        assert_eq!(path, dir.path().join("b.png"));
        assert_eq!(
            std::fs::read(dir.path().join("a.png")).expect("kept"),
            b"old"
        );
        assert_eq!(std::fs::read(&path).expect("committed"), b"new");
        assert!(!temporary.exists());

        let staged = Staged::create(&dir.path().join("shot.png")).expect("staged");
        let temporary = staged.temporary_path().to_path_buf();
        assert!(staged.commit_new(names(&["a.png", "b.png"])).is_err());
        assert!(!temporary.exists(), "a failed commit removes its temporary");
    }

    #[test]
    fn a_staged_folder_is_published_whole_or_removed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let target = dir.path().join("snap");
        let staged = StagedDir::create(&target).expect("staged");
        let temporary = staged.path().to_path_buf();
        std::fs::write(temporary.join("x"), b"1").expect("written");
        drop(staged);
        assert!(!temporary.exists(), "dropped unpublished: removed");

        std::fs::create_dir(dir.path().join("s1")).expect("made");
        std::fs::write(dir.path().join("s1/old"), b"0").expect("written");
        let staged = StagedDir::create(&target).expect("staged");
        std::fs::write(staged.path().join("x"), b"1").expect("written");
        let folder = staged.commit_new(names(&["s1", "s2"])).expect("s2 is free");
        assert_eq!(folder, dir.path().join("s2"));
        assert_eq!(std::fs::read(folder.join("x")).expect("moved"), b"1");
        assert!(dir.path().join("s1/old").exists(), "s1 untouched");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listed")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let target = dir.path().join("out.npy");
        // PIDs are below 2^22 on Linux: 4 000 000 000 is no process.
        let dead_file = dir.path().join(".out.npy.tmp-4000000000-abcdef");
        let dead_dir = dir.path().join(".out.npy.tmp-4000000000-ghijkl");
        let ours = dir
            .path()
            .join(format!(".out.npy.tmp-{}-mnopqr", std::process::id()));
        let other = dir.path().join(".other.npy.tmp-4000000000-abcdef");
        std::fs::write(&dead_file, b"").expect("written");
        std::fs::create_dir(&dead_dir).expect("made");
        std::fs::write(dead_dir.join("inside"), b"").expect("written");
        std::fs::write(&ours, b"").expect("written");
        std::fs::write(&other, b"").expect("written");
        remove_stale(&target);
        if cfg!(target_os = "linux") {
            assert!(!dead_file.exists() && !dead_dir.exists());
        }
        assert!(ours.exists(), "a live process's temporary is kept");
        assert!(other.exists(), "another target's temporary is kept");
    }
}
