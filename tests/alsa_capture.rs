//! The REAL capture path (cpal → ALSA) on a machine without a sound card.
//!
//! Each test makes a temp dir with a FIFO and an asoundrc (from
//! `tests/support/asoundrc.testmic.conf`) defining the capture PCM `testmic` as
//! ALSA's `file` plugin over `null`, reading its samples from the FIFO. A writer
//! thread paces a known signal into the FIFO in real time, one ALSA period per
//! write, as F32 little-endian, 2 channels, 48 kHz (cpal's default configuration
//! on that PCM; the test checks hopscope reports exactly that). hopscope runs with
//! `ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:<dir>/asoundrc`, so nothing outside
//! the temp dir is touched and tests can run in parallel.
//!
//! These tests take real time (~2–4 s each). They are skipped (with a message) when
//! ALSA's configuration or `mkfifo` is missing.
#![cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]

mod support;

use std::f64::consts::PI;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::{assert_one_line_error, run_with_timeout, status_lines, Outcome, Status, TempDir};

/// System ALSA configuration that must precede ours in `ALSA_CONFIG_PATH`.
const ALSA_CONF: &str = "/usr/share/alsa/alsa.conf";
/// The PCM template; `@INFILE@` becomes the FIFO.
const ASOUNDRC_TEMPLATE: &str = include_str!("support/asoundrc.testmic.conf");
/// What cpal negotiates on the `file`-over-`null` PCM by default.
const RATE: u32 = 48_000;
const CHANNELS: usize = 2;
/// Hard limit for any hopscope run: a stuck FIFO or device must fail, not hang.
const CHILD_TIMEOUT: Duration = Duration::from_secs(20);

// Linux values on the architectures this file is compiled for (see the cfg above);
// std has no names for them and the test takes no libc dependency.
const O_NONBLOCK: i32 = 0o4000;
const ENXIO: i32 = 6;

/// The signal the feeder writes: `lead` s of silence, then a sine on each channel
/// for `tone` s, then silence until the test ends. Restarts for every reader.
#[derive(Clone, Copy, Debug)]
struct Signal {
    left_hz: f64,
    right_hz: f64,
    amplitude: f64,
    lead_s: f64,
    tone_s: f64,
}

impl Signal {
    fn frame(&self, i: u64) -> [f32; CHANNELS] {
        let lead = (self.lead_s * f64::from(RATE)) as u64;
        let end = lead + (self.tone_s * f64::from(RATE)) as u64;
        if i < lead || i >= end {
            return [0.0; CHANNELS];
        }
        let t = (i - lead) as f64 / f64::from(RATE);
        [
            (self.amplitude * (2.0 * PI * self.left_hz * t).sin()) as f32,
            (self.amplitude * (2.0 * PI * self.right_hz * t).sin()) as f32,
        ]
    }
}

/// What the feeder did.
#[derive(Debug, Default)]
struct FeedReport {
    /// How many times a reader opened the FIFO (ALSA opens the PCM more than once).
    readers: u32,
    /// Chunks written over all readers.
    chunks: u64,
}

/// A real-time FIFO writer thread (the role of a sound card's ADC).
struct Feeder {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<std::io::Result<FeedReport>>>,
}

impl Feeder {
    /// Starts writing `signal` into `fifo`, `chunk_frames` frames per write() (must
    /// equal hopscope's ALSA period: the `file` plugin reads once per period and a
    /// short read leaves stale samples), paced at `RATE`. Every time a reader opens
    /// the FIFO the signal restarts from frame 0; when the reader goes away (EPIPE)
    /// the FIFO is reopened for the next one. Never blocks: the open and the writes
    /// are non-blocking, so `stop` is always honoured.
    fn start(fifo: &Path, chunk_frames: usize, signal: Signal) -> Feeder {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_t = Arc::clone(&stop);
        let fifo = fifo.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("fifo-feeder".into())
            .spawn(move || feed(&fifo, chunk_frames, signal, &stop_t))
            .expect("spawn feeder");
        Feeder {
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> FeedReport {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().expect("feeder joined once");
        handle
            .join()
            .expect("feeder thread panicked")
            .expect("feeder I/O error")
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn feed(
    fifo: &Path,
    chunk_frames: usize,
    signal: Signal,
    stop: &AtomicBool,
) -> std::io::Result<FeedReport> {
    let mut report = FeedReport::default();
    let period = Duration::from_secs_f64(chunk_frames as f64 / f64::from(RATE));
    let mut buf = Vec::with_capacity(chunk_frames * CHANNELS * 4);
    while !stop.load(Ordering::Relaxed) {
        // O_WRONLY|O_NONBLOCK on a FIFO fails with ENXIO while no reader has it open.
        let mut f = match OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(fifo)
        {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(ENXIO) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            Err(e) => return Err(e),
        };
        report.readers += 1;
        let t0 = Instant::now();
        let mut frame: u64 = 0;
        let mut n: u32 = 0;
        'session: while !stop.load(Ordering::Relaxed) {
            buf.clear();
            for i in frame..frame + chunk_frames as u64 {
                for s in signal.frame(i) {
                    buf.extend_from_slice(&s.to_le_bytes());
                }
            }
            let mut written = 0;
            while written < buf.len() {
                match f.write(&buf[written..]) {
                    Ok(k) => written += k,
                    // Pipe full: the reader has not started or is behind.
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        if stop.load(Ordering::Relaxed) {
                            break 'session;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    // The reader closed the FIFO: wait for the next one.
                    Err(e) if e.kind() == ErrorKind::BrokenPipe => break 'session,
                    Err(e) => return Err(e),
                }
            }
            frame += chunk_frames as u64;
            n += 1;
            report.chunks += 1;
            let due = t0 + period * n;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
    Ok(report)
}

/// A temp dir holding `mic.fifo` and `asoundrc`.
struct AlsaFixture {
    dir: TempDir,
}

impl AlsaFixture {
    /// A temp dir with a FIFO and an asoundrc whose `testmic` reads it.
    fn new(tag: &str) -> AlsaFixture {
        // Not a skip: `make test` installs these, and a silent pass would hide a broken setup.
        assert!(
            Path::new(ALSA_CONF).exists(),
            "{ALSA_CONF} not found: install libasound2-data (make test-deps does)"
        );
        let dir = TempDir::new(tag);
        let fifo = dir.join("mic.fifo");
        match Command::new("mkfifo").arg(&fifo).status() {
            Ok(s) if s.success() => {}
            other => panic!("mkfifo failed: {other:?}"),
        }
        let conf = ASOUNDRC_TEMPLATE.replace("@INFILE@", &fifo.to_string_lossy());
        std::fs::write(dir.join("asoundrc"), conf).expect("write asoundrc");
        AlsaFixture { dir }
    }

    fn fifo(&self) -> PathBuf {
        self.dir.join("mic.fifo")
    }

    /// Runs hopscope with this fixture's ALSA configuration and a hard timeout.
    fn run(&self, args: &[&str]) -> Outcome {
        let mut cmd = Command::new(support::HOPSCOPE);
        // Live runs print status lines (no window); `devices` takes no live flags.
        if args.first() != Some(&"devices") {
            cmd.arg("--headless");
        }
        cmd.current_dir(self.dir.path()).args(args).env(
            "ALSA_CONFIG_PATH",
            format!("{ALSA_CONF}:{}", self.dir.join("asoundrc").display()),
        );
        run_with_timeout(cmd, CHILD_TIMEOUT)
    }
}

const BIN_CENTRED_3000: Signal = Signal {
    left_hz: 3000.0,
    right_hz: 3000.0,
    amplitude: 0.5,
    lead_s: 0.25,
    tone_s: 8.0,
};

/// 20·log10(0.5): a bin-centred sine of amplitude 0.5.
const MINUS_6_DB: f64 = -6.0206;
/// n_fft 1024, hop 256 at 48 kHz.
const ROWS_PER_S: f64 = 48_000.0 / 256.0;

/// Checks a live run that should show `expect_hz` at −6.02 dBFS after its start.
fn check_live_run(what: &str, o: &Outcome, buffer: u32, duration_s: f64, expect_hz: &str) {
    let dump = format!("--- stdout\n{}--- stderr\n{}", o.stdout, o.stderr);
    assert_eq!(
        o.code(),
        Some(0),
        "{what}: exit status {:?}\n{dump}",
        o.status
    );
    assert!(!o.stderr.contains("panicked"), "{what}: {dump}");
    // The feeder's byte layout relies on this negotiation.
    let expect_cfg = format!("F32, {CHANNELS} ch, {RATE} Hz, buffer {buffer} frames");
    assert!(
        o.stderr.contains("capturing from 'Test microphone") && o.stderr.contains(&expect_cfg),
        "{what}: expected the test microphone opened as {expect_cfg}\n{dump}"
    );
    assert!(
        o.elapsed < Duration::from_secs_f64(duration_s + 3.0),
        "{what}: --duration {duration_s} took {:?}",
        o.elapsed
    );
    let lines = status_lines(&o.stdout);
    // One line per second, then the final line at exit.
    let (last, periodic) = lines.split_last().expect("status lines");
    assert!(
        periodic.len() + 1 >= duration_s as usize,
        "{what}: expected ~{duration_s} periodic status lines\n{dump}"
    );
    let settled: Vec<&Status> = periodic.iter().filter(|s| s.num("t") >= 1.5).collect();
    assert!(
        !settled.is_empty(),
        "{what}: no status line after 1.5 s\n{dump}"
    );
    for s in &settled {
        assert_eq!(
            s.str("src"),
            "Test microphone (raw file via ALSA file plugin)"
        );
        assert_eq!(s.num("sr"), f64::from(RATE), "{}", s.line);
        assert_eq!(s.num("n_fft"), 1024.0, "{}", s.line);
        assert_eq!(s.num("hop"), 256.0, "{}", s.line);
        assert_eq!(s.str("peak_hz"), expect_hz, "{what}: {}", s.line);
        let db = s.num("peak_dbfs");
        assert!(
            (db - MINUS_6_DB).abs() <= 0.05,
            "{what}: peak_dbfs {db}, expected −6.02 ± 0.05: {}",
            s.line
        );
        let rps = s.num("rows_per_s");
        assert!(
            (rps - ROWS_PER_S).abs() <= 0.1 * ROWS_PER_S,
            "{what}: rows_per_s {rps}, expected {ROWS_PER_S} ± 10%: {}",
            s.line
        );
        // Real-time pacing: captured frames keep up with the wall clock.
        let expect_frames = s.num("t") * f64::from(RATE);
        let captured = s.num("captured");
        assert!(
            (captured - expect_frames).abs() <= 0.1 * expect_frames,
            "{what}: captured {captured} frames by t={}, expected ~{expect_frames}",
            s.num("t")
        );
    }
    for s in periodic.iter().chain(std::iter::once(last)) {
        for key in ["dropped_samples", "dropped_rows", "stream_errors"] {
            assert_eq!(s.num(key), 0.0, "{what}: {key}: {}", s.line);
        }
    }
    assert_eq!(
        last.str("peak_hz"),
        expect_hz,
        "{what}: final {}",
        last.line
    );
    assert!(
        o.stderr.matches(", 0 dropped;").count() == 2 && o.stderr.contains("; 0 stream errors"),
        "{what}: summary reports losses\n{dump}"
    );
    let summary: Vec<String> = settled
        .iter()
        .map(|s| {
            format!(
                "t={} peak_hz={} peak_dbfs={} rows_per_s={} captured={} p50={}ms",
                s.str("t"),
                s.str("peak_hz"),
                s.str("peak_dbfs"),
                s.str("rows_per_s"),
                s.str("captured"),
                s.str("capture_to_row_ms_p50")
            )
        })
        .collect();
    println!("{what}: exit in {:.2?}; {}", o.elapsed, summary.join(" | "));
}

#[test]
fn devices_lists_the_test_microphone() {
    let fx = AlsaFixture::new("alsa-devices");
    // Listing opens the PCM for its configurations: it blocks without a writer.
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let o = fx.run(&["devices"]);
    let report = feeder.finish();
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("Test microphone (raw file via ALSA file plugin)")
            && o.stdout.contains("testmic"),
        "devices should list testmic:\n{}",
        o.stdout
    );
    println!("devices: FIFO opened {} time(s)", report.readers);
}

/// Both channels 3000 Hz (bin 64 of n_fft 1024), amplitude 0.5, the default mix.
#[test]
fn captures_a_bin_centred_tone_in_real_time() {
    let fx = AlsaFixture::new("alsa-tone");
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let args = [
        "--device",
        "testmic",
        "--buffer",
        "240",
        "--n-fft",
        "1024",
        "--hop",
        "256",
        "--duration",
        "4",
    ];
    let o = fx.run(&args);
    let report = feeder.finish();
    check_live_run("mix, buffer 240", &o, 240, 4.0, "3000.0");
    assert!(report.readers >= 1, "{report:?}");
    println!("mix, buffer 240: feeder {report:?}");
}

/// Left 1500 Hz, right 6000 Hz: `--channel` picks one; a 480-frame buffer is
/// honoured (the feeder writes 480-frame periods to match).
#[test]
fn channel_selection_and_buffer_size() {
    let fx = AlsaFixture::new("alsa-channels");
    let signal = Signal {
        left_hz: 1500.0,
        right_hz: 6000.0,
        ..BIN_CENTRED_3000
    };
    for (channel, hz) in [("1", "6000.0"), ("0", "1500.0")] {
        let feeder = Feeder::start(&fx.fifo(), 480, signal);
        let args = [
            "--device",
            "testmic",
            "--buffer",
            "480",
            "--n-fft",
            "1024",
            "--hop",
            "256",
            "--channel",
            channel,
            "--duration",
            "3",
        ];
        let o = fx.run(&args);
        let report = feeder.finish();
        let what = format!("channel {channel}, buffer 480");
        check_live_run(&what, &o, 480, 3.0, hz);
        println!("{what}: feeder {report:?}");
    }
}

/// With no --device, ALSA's `default` (→ testmic via `pcm.!default`) is used.
#[test]
fn default_device_is_the_test_microphone() {
    let fx = AlsaFixture::new("alsa-default");
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let o = fx.run(&[
        "--buffer",
        "240",
        "--n-fft",
        "1024",
        "--hop",
        "256",
        "--duration",
        "2",
    ]);
    feeder.finish();
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout, o.stderr);
    assert!(
        !o.stderr.contains("DEMO"),
        "must not fall back to the demo:\n{}",
        o.stderr
    );
    let lines = status_lines(&o.stdout);
    let last = lines.last().expect("status lines");
    assert_eq!(last.str("peak_hz"), "3000.0", "{}", last.line);
    assert!(
        (last.num("peak_dbfs") - MINUS_6_DB).abs() <= 0.05,
        "{}",
        last.line
    );
    assert_eq!(last.num("dropped_samples"), 0.0, "{}", last.line);
}

/// An unknown --device is one line listing the devices there are, exit 2.
#[test]
fn unknown_device_is_a_one_line_error_listing_devices() {
    let fx = AlsaFixture::new("alsa-nodevice");
    // In case device enumeration opens the PCM: keep a writer there.
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let o = fx.run(&["--device", "nosuchdevice", "--duration", "2"]);
    feeder.finish();
    assert_one_line_error("--device nosuchdevice", &o);
    assert!(
        o.stderr.contains("nosuchdevice")
            && o.stderr
                .contains("Test microphone (raw file via ALSA file plugin)"),
        "the error should name the query and list the devices: {}",
        o.stderr
    );
    assert!(o.elapsed < Duration::from_secs(5), "took {:?}", o.elapsed);
}
