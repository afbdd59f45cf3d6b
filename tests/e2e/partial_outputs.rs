//! No partial output survives a run: a signal (SIGINT, SIGTERM, SIGHUP) during `analyze`
//! or `render` stops it with one line and exit code 2 and removes its temporary files; a
//! run killed outright leaves its temporary, which the next run writing the same output
//! removes (a live process's temporary is kept); and a failing `--export` leaves neither
//! the export nor the `.npy`/`.png`, which used to be renamed into place first.

#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    assert_one_line_error, hopscope_in, run_with_timeout, Outcome, TempDir, HOPSCOPE, PATIENCE,
};

/// 60 s of 48 kHz noise-like int16: long enough that the debug binary is still working
/// seconds after its temporary file appears.
fn write_long_wav(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    let mut x: u32 = 1;
    for _ in 0..48_000 * 60 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        w.write_sample((x >> 16) as i16 / 4).expect("sample");
    }
    w.finalize().expect("finalize");
}

fn temporaries(dir: &TempDir) -> Vec<String> {
    dir.entries()
        .into_iter()
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

/// Polls until a temporary file appears in `dir` (the run is writing), or panics.
fn wait_for_temporary(dir: &TempDir, child: &mut Child) {
    let started = Instant::now();
    while temporaries(dir).is_empty() {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("hopscope exited ({status}) before writing a temporary file");
        }
        assert!(started.elapsed() < PATIENCE, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(dir: &TempDir, args: &[&str]) -> Child {
    Command::new(HOPSCOPE)
        .current_dir(dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hopscope")
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits for `child` (killing it after [`PATIENCE`]) and collects its output.
fn finish(child: Child) -> Outcome {
    let pid = child.id();
    let started = Instant::now();
    let watchdog = std::thread::spawn(move || {
        while started.elapsed() < PATIENCE {
            std::thread::sleep(Duration::from_millis(50));
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return;
            }
        }
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    let out = child.wait_with_output().expect("wait for hopscope");
    let _ = watchdog.join();
    Outcome {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

#[test]
fn a_signal_mid_run_removes_every_partial_output() {
    let dir = TempDir::new("partial-signal");
    write_long_wav(&dir.join("long.wav"));
    let analyze: &[&str] = &[
        "analyze", "long.wav", "-o", "out.npy", "--n-fft", "4096", "--hop", "32", "--mel", "40",
        "--export", "out.json",
    ];
    let render: &[&str] = &[
        "render", "long.wav", "-o", "out.png", "--hop", "64", "--export", "out.json",
    ];
    for (args, signal) in [
        (analyze, "TERM"),
        (analyze, "INT"),
        (analyze, "HUP"),
        (render, "TERM"),
        (render, "INT"),
    ] {
        let what = format!("SIG{signal} during {}", args[0]);
        let mut child = spawn(&dir, args);
        wait_for_temporary(&dir, &mut child);
        send(&child, signal);
        let o = finish(child);
        assert_one_line_error(&what, &o);
        assert!(
            o.stderr.contains(&format!("interrupted by SIG{signal}")),
            "{what}: {}",
            o.stderr
        );
        assert_eq!(dir.entries(), vec!["long.wav"], "{what}: files left behind");
    }
}

#[test]
fn the_next_run_removes_the_temporaries_of_a_killed_run() {
    let dir = TempDir::new("partial-stale");
    write_long_wav(&dir.join("long.wav"));
    let args = [
        "analyze", "long.wav", "-o", "out.npy", "--n-fft", "4096", "--hop", "32", "--mel", "40",
    ];
    let mut child = spawn(&dir, &args);
    wait_for_temporary(&dir, &mut child);
    send(&child, "KILL");
    let o = finish(child);
    assert_eq!(o.code(), None, "SIGKILL cannot be caught");
    let left = temporaries(&dir);
    assert_eq!(left.len(), 1, "the killed run's temporary: {left:?}");
    // A temporary of a process that is alive (this test) must survive the next run.
    let alive = format!(".out.npy.tmp-{}-keepme", std::process::id());
    std::fs::write(dir.join(&alive), b"in use").expect("write");
    // The next run, on a short input, writing the same output.
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.join("short.wav"), spec).expect("wav");
    for n in 0..8_000 {
        w.write_sample((n % 100) as i16 * 100).expect("sample");
    }
    w.finalize().expect("finalize");
    let o = run_with_timeout(
        hopscope_in(dir.path(), &["analyze", "short.wav", "-o", "out.npy"]),
        PATIENCE,
    );
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
    let mut want = vec![
        alive,
        "long.wav".to_string(),
        "out.npy".into(),
        "short.wav".into(),
    ];
    want.sort();
    assert_eq!(
        dir.entries(),
        want,
        "the stale temporary {left:?} must be gone"
    );
}

#[test]
fn a_failing_export_leaves_no_output_at_all() {
    let dir = TempDir::new("partial-export");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.join("in.wav"), spec).expect("wav");
    for n in 0..16_000 {
        w.write_sample((n % 50) as i16 * 300).expect("sample");
    }
    w.finalize().expect("finalize");
    std::fs::create_dir(dir.join("adir.json")).expect("mkdir");
    let before = dir.entries();
    for (out, export) in [
        // The export's directory is missing: found only once the rows are written.
        ("out.npy", "no/such/dir/x.json"),
        ("out.png", "no/such/dir/x.json"),
        ("out.npy", "adir.json"),
        ("out.png", "x.txt"),
    ] {
        let command = if out.ends_with(".npy") {
            "analyze"
        } else {
            "render"
        };
        let args = [command, "in.wav", "-o", out, "--export", export];
        let o = run_with_timeout(hopscope_in(dir.path(), &args), PATIENCE);
        let what = args.join(" ");
        assert_one_line_error(&what, &o);
        assert!(
            o.stderr
                .contains(export.rsplit('/').next().unwrap_or(export)),
            "{what}: {}",
            o.stderr
        );
        assert_eq!(
            dir.entries(),
            before,
            "{what}: an output (or temporary) was left"
        );
    }
}
