//! A long-running child (the live window) whose output is read while it runs:
//! stdout lines arrive on a channel as they are printed, stderr is collected, and the
//! child is killed when the handle is dropped (a failing test never leaves it behind).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Status;

/// A spawned child with its stdout lines streamed and its stderr collected.
pub struct LiveChild {
    what: String,
    child: Child,
    started: Instant,
    lines: Receiver<String>,
    stdout_log: Arc<Mutex<Vec<String>>>,
    stderr_log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl LiveChild {
    /// Spawns `cmd` (stdin closed, stdout and stderr piped); `what` names it in messages.
    pub fn spawn(what: &str, mut cmd: Command) -> LiveChild {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: spawn {:?}: {e}", cmd.get_program()));
        let started = Instant::now();
        let stdout = child.stdout.take().expect("stdout pipe");
        let stderr = child.stderr.take().expect("stderr pipe");
        let (tx, lines) = mpsc::channel();
        let stdout_log = Arc::new(Mutex::new(Vec::new()));
        let stderr_log = Arc::new(Mutex::new(String::new()));
        let out_log = Arc::clone(&stdout_log);
        let out_reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                out_log.lock().expect("stdout log").push(line.clone());
                // The receiver may be gone (test over): keep draining regardless.
                let _ = tx.send(line);
            }
        });
        let err_log = Arc::clone(&stderr_log);
        let err_reader = std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut buf = [0u8; 4096];
            loop {
                match stderr.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => err_log
                        .lock()
                        .expect("stderr log")
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        LiveChild {
            what: what.to_string(),
            child,
            started,
            lines,
            stdout_log,
            stderr_log,
            readers: vec![out_reader, err_reader],
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (a name for `kill -s`, e.g. `INT`) to the child.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal} {}", self.child.id());
    }

    /// Time since spawn.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether the child is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything printed so far, for failure messages.
    pub fn dump(&self) -> String {
        let out = self.stdout_log.lock().expect("stdout log").join("\n");
        let err = self.stderr_log.lock().expect("stderr log").clone();
        format!("--- {} stdout\n{out}\n--- stderr\n{err}", self.what)
    }

    /// CPU time (user + system) the child has used so far, in seconds; `None` once it
    /// has exited (Linux: /proc/PID/stat).
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        let out = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()?;
        let per_s: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        Some(ticks / per_s)
    }

    /// Every stdout line so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout_log.lock().expect("stdout log").clone()
    }

    /// Everything on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr_log.lock().expect("stderr log").clone()
    }

    /// The next stdout line (not returned before) satisfying `pred`, waiting at most
    /// `timeout`; lines before it are skipped. `None` on timeout or end of output.
    pub fn wait_for_line(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return Some(line),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Like [`LiveChild::wait_for_line`] but panics (with the output so far) on timeout.
    pub fn expect_line(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        match self.wait_for_line(timeout, pred) {
            Some(line) => line,
            None => panic!("{what}: no such line within {timeout:?}\n{}", self.dump()),
        }
    }

    /// The next `status ...` line (headless mode), waiting at most `timeout`; panics
    /// with the output so far when none comes.
    pub fn next_status(&mut self, what: &str, timeout: Duration) -> Status {
        let line = self.expect_line(what, timeout, |l| l.starts_with("status "));
        Status::parse(&line).expect("a status line")
    }

    /// The first `status ...` line within `timeout` satisfying `pred` (earlier ones are
    /// skipped); panics with the output so far when none comes.
    pub fn wait_status(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Status) -> bool,
    ) -> Status {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(line) = self.wait_for_line(left, |l| l.starts_with("status ")) else {
                panic!(
                    "{what}: no such status line within {timeout:?}\n{}",
                    self.dump()
                );
            };
            let s = Status::parse(&line).expect("a status line");
            if pred(&s) {
                return s;
            }
        }
    }

    /// Waits at most `timeout` for the child to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The pipes are closed now: let the readers finish the logs.
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for LiveChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
