//! Running a program (hopscope, a tool) to its end with a hard deadline, and the
//! contract every failing hopscope run keeps (one line, exit code 2).

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const HOPSCOPE: &str = env!("CARGO_BIN_EXE_hopscope");

/// How long anything may take before a test calls it a hang: for waits on children,
/// servers, windows and lines. Never a performance claim (the CI machine has 2 cores
/// and builds while it tests): a wait polls for its condition and returns as soon as
/// it holds.
pub const PATIENCE: Duration = Duration::from_secs(60);

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
    let out = output_within(cmd, timeout);
    Outcome {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `Command::output` with a hard deadline: stdin closed, both outputs captured; kills
/// the child and panics (failing the test, with what it wrote) if it is still running
/// after `timeout`.
pub fn output_within(cmd: Command, timeout: Duration) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let args = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
    match capture(cmd, timeout) {
        Ok(out) => out,
        Err(Capture::Spawn(e)) => panic!("cannot run {program}: {e}"),
        Err(Capture::Timeout { stdout, stderr }) => panic!(
            "{program} {args} still running after {timeout:?}: killed\n--- stdout\n{}\n--- stderr\n{}",
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
pub fn capture(mut cmd: Command, timeout: Duration) -> Result<Output, Capture> {
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
        Some(status) => Ok(Output {
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
