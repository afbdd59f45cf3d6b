//! Helpers shared by the integration tests that run the `hopscope` binary
//! (`tests/cli_errors.rs`, `tests/alsa_capture.rs`, `tests/window_e2e.rs`): temp
//! dirs, a child with a hard timeout, `key=value` status-line parsing and `.npy`
//! header parsing; in submodules, a running child read line by line ([`live`]), a
//! private Xvfb with xdotool/import and PNG decoding ([`x11`]), the FIFO-fed ALSA
//! test microphone ([`fifo`]), a private PulseAudio server that can be killed and
//! restarted ([`pulse`]) and the same for PipeWire and WirePlumber ([`pipewire`]).
//!
//! Only std and the crate's own dependencies (`png`): no extra dev-dependencies.
#![allow(dead_code)] // each test crate uses a different subset

#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]
pub mod fifo;
pub mod live;
#[cfg(target_os = "linux")]
pub mod pipewire;
#[cfg(target_os = "linux")]
pub mod pulse;
pub mod tone;
#[cfg(unix)]
pub mod x11;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const HOPSCOPE: &str = env!("CARGO_BIN_EXE_hopscope");

mod tempdir;
pub use tempdir::TempDir;

/// What a finished child did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: String,
    /// Everything it wrote on stderr.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl Outcome {
    /// The exit code (`None` if killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// Runs `cmd` with stdin closed and both outputs captured; kills it and panics
/// (failing the test) if it is still running after `timeout`.
pub fn run_with_timeout(cmd: Command, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let args = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
    match capture(cmd, timeout) {
        Ok(out) => Outcome {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        },
        Err(Capture::Spawn(e)) => panic!("spawn hopscope: {e}"),
        Err(Capture::Timeout { stdout, stderr }) => panic!(
            "hopscope {args} still running after {timeout:?}: killed\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

/// Why [`capture`] has no exit status.
pub enum Capture {
    /// The program could not be started.
    Spawn(std::io::Error),
    /// Still running after the timeout: killed; what it wrote until then.
    Timeout { stdout: Vec<u8>, stderr: Vec<u8> },
}

/// Runs `cmd` with stdin closed and stdout/stderr captured (drained on threads, so a
/// chatty child never blocks on a full pipe); kills it if it still runs after `timeout`.
/// The one child-with-a-deadline primitive behind [`run_with_timeout`],
/// `x11::run_tool` and `pulse::run_tool`.
pub fn capture(mut cmd: Command, timeout: Duration) -> Result<std::process::Output, Capture> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Capture::Spawn)?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut v);
            }
            v
        })
    };
    let out_t = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err_t = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() <= timeout => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let (stdout, stderr) = (
        out_t.join().unwrap_or_default(),
        err_t.join().unwrap_or_default(),
    );
    match status {
        Some(status) => Ok(std::process::Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(Capture::Timeout { stdout, stderr }),
    }
}

/// A `Command` for the binary with `args`, run in `cwd`.
pub fn hopscope_in(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(cwd).args(args);
    cmd
}

/// Asserts the contract for every failure: exit code 2, exactly one non-empty
/// line on stderr, no panic message, nothing on stdout.
pub fn assert_one_line_error(what: &str, o: &Outcome) {
    assert_eq!(
        o.code(),
        Some(2),
        "{what}: expected exit code 2, got {:?}\nstdout: {}\nstderr: {}",
        o.status,
        o.stdout,
        o.stderr
    );
    assert!(
        !o.stderr.contains("panicked"),
        "{what}: panicked: {}",
        o.stderr
    );
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected exactly one stderr line, got {}: {:?}",
        lines.len(),
        o.stderr
    );
    assert!(
        o.stderr.ends_with('\n'),
        "{what}: stderr line not terminated"
    );
    assert!(
        lines[0].trim().len() > "hopscope:".len(),
        "{what}: empty error message: {:?}",
        o.stderr
    );
    assert!(
        o.stdout.is_empty(),
        "{what}: unexpected stdout on error: {:?}",
        o.stdout
    );
}

/// One parsed `status ...` line: `key=value` pairs (quotes stripped).
#[derive(Clone, Debug)]
pub struct Status {
    /// The line as printed.
    pub line: String,
    /// Its fields.
    pub fields: BTreeMap<String, String>,
}

impl Status {
    /// Parses a line starting with `status `; `None` otherwise.
    pub fn parse(line: &str) -> Option<Status> {
        let rest = line.strip_prefix("status ")?;
        let mut fields = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        while chars.peek().is_some() {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            if key.is_empty() {
                break;
            }
            let value: String = if chars.peek() == Some(&'"') {
                chars.next();
                let v = chars.by_ref().take_while(|&c| c != '"').collect();
                v
            } else {
                chars.by_ref().take_while(|&c| c != ' ').collect()
            };
            fields.insert(key, value);
        }
        Some(Status {
            line: line.to_string(),
            fields,
        })
    }

    /// A field as text.
    pub fn str(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("status line has no '{key}': {}", self.line))
    }

    /// A numeric field; a trailing unit `s` (as in `t=1.0s`) is ignored.
    pub fn num(&self, key: &str) -> f64 {
        let v = self.str(key);
        v.trim_end_matches('s')
            .parse()
            .unwrap_or_else(|_| panic!("status field {key}={v} is not a number: {}", self.line))
    }
}

/// Every status line of `stdout`, in order.
pub fn status_lines(stdout: &str) -> Vec<Status> {
    stdout.lines().filter_map(Status::parse).collect()
}

/// A parsed `.npy` file: shape, dtype descriptor and the float32 payload.
#[derive(Debug)]
pub struct Npy {
    /// `descr` from the header, e.g. `<f4`.
    pub descr: String,
    /// `fortran_order`.
    pub fortran_order: bool,
    /// `shape`.
    pub shape: Vec<usize>,
    /// Little-endian float32 values, C order.
    pub data: Vec<f32>,
}

impl Npy {
    /// Element `(r, c)` of a 2-D array.
    pub fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.shape[1] + c]
    }
}

/// Reads a NumPy 1.0/2.0 `.npy` file of little-endian float32, checking the
/// magic, the header padding and that the payload matches the shape.
pub fn read_npy(path: &Path) -> Npy {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(bytes.len() >= 10, "npy too short");
    assert_eq!(&bytes[..6], b"\x93NUMPY", "npy magic");
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => panic!("unknown npy version {v}"),
    };
    let end = start + header_len;
    assert_eq!(
        end % 64,
        0,
        "npy header must pad the data offset to 64 bytes"
    );
    let header = std::str::from_utf8(&bytes[start..end]).expect("npy header is ASCII");
    assert!(header.ends_with('\n'), "npy header ends with a newline");
    let field = |key: &str| -> &str {
        let at = header
            .find(&format!("'{key}':"))
            .unwrap_or_else(|| panic!("npy header lacks {key}: {header}"));
        header[at + key.len() + 3..].trim_start()
    };
    let descr_raw = field("descr");
    let descr = descr_raw[1..]
        .split('\'')
        .next()
        .expect("descr string")
        .to_string();
    let fortran_order = field("fortran_order").starts_with("True");
    let shape_raw = field("shape");
    let close = shape_raw.find(')').expect("shape tuple");
    let shape: Vec<usize> = shape_raw[1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("shape dimension"))
        .collect();
    assert_eq!(descr, "<f4", "hopscope writes little-endian float32");
    let count: usize = shape.iter().product();
    let payload = &bytes[end..];
    assert_eq!(
        payload.len(),
        count * 4,
        "npy payload must hold exactly shape {shape:?} float32 values"
    );
    let data = payload
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Npy {
        descr,
        fortran_order,
        shape,
        data,
    }
}
