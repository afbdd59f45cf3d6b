//! The REAL capture path (cpal → ALSA) without a sound card: a temp dir holding a FIFO
//! and an asoundrc (`tests/support/asoundrc.testmic.conf`) whose capture PCM `testmic`
//! is ALSA's `file` plugin over `null` reading the FIFO, and a writer thread pacing a
//! known signal into it in real time (the role of a sound card's ADC).
//!
//! Used by `tests/e2e/alsa_capture.rs` and `tests/e2e/window_e2e.rs`: `AlsaFixture::new` + `Feeder::start`, then run hopscope with
//! `AlsaFixture::config_path()` as `ALSA_CONFIG_PATH` and `--device testmic --buffer N`
//! where N is the feeder's chunk size.

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

use super::TempDir;

/// System ALSA configuration that must precede ours in `ALSA_CONFIG_PATH`.
pub const ALSA_CONF: &str = "/usr/share/alsa/alsa.conf";
/// The PCM template; `@INFILE@` becomes the FIFO.
const ASOUNDRC_TEMPLATE: &str = include_str!("asoundrc.testmic.conf");
/// What cpal negotiates on the `file`-over-`null` PCM by default.
pub const RATE: u32 = 48_000;
/// Channels of that default configuration (the feeder writes this layout).
pub const CHANNELS: usize = 2;

// Linux values on the architectures `mod fifo` is compiled for (see support/mod.rs);
// std has no names for them and the tests take no libc dependency.
const O_NONBLOCK: i32 = 0o4000;
const ENXIO: i32 = 6;

/// `lead_s` of silence, then a sine on each channel for `tone_s`, then silence.
/// Restarts from frame 0 for every reader of the FIFO.
#[derive(Clone, Copy, Debug)]
pub struct Signal {
    /// Left channel frequency.
    pub left_hz: f64,
    /// Right channel frequency.
    pub right_hz: f64,
    /// Peak amplitude (1.0 = full scale).
    pub amplitude: f64,
    /// Leading silence in seconds.
    pub lead_s: f64,
    /// Tone duration in seconds.
    pub tone_s: f64,
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
pub struct FeedReport {
    /// How many times a reader opened the FIFO (ALSA opens the PCM more than once).
    pub readers: u32,
    /// Chunks written over all readers.
    pub chunks: u64,
}

/// A real-time FIFO writer thread; stopped (and joined) on drop.
pub struct Feeder {
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    handle: Option<JoinHandle<std::io::Result<FeedReport>>>,
}

impl Feeder {
    /// Starts writing `signal` into `fifo`, `chunk_frames` frames per write() (must
    /// equal hopscope's ALSA period: the `file` plugin reads once per period), paced
    /// at `RATE`. Never blocks: the open and the writes are non-blocking.
    pub fn start(fifo: &Path, chunk_frames: usize, signal: Signal) -> Feeder {
        let stop = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let stop_t = Arc::clone(&stop);
        let paused_t = Arc::clone(&paused);
        let fifo = fifo.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("fifo-feeder".into())
            .spawn(move || feed(&fifo, chunk_frames, signal, &stop_t, &paused_t))
            .expect("spawn feeder");
        Feeder {
            stop,
            paused,
            handle: Some(handle),
        }
    }

    /// A stalled device: stops writing (keeping the FIFO open, so the reader blocks in
    /// read() instead of seeing the end of the file) until [`Feeder::resume`].
    pub fn pause(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }

    /// Writes again, in real time from now on (no burst to catch up), continuing the
    /// signal where it stopped.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::Relaxed);
    }

    /// Stops the writer and returns what it did (panics on its I/O errors).
    pub fn finish(mut self) -> FeedReport {
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
    paused: &AtomicBool,
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
        let mut due = Instant::now();
        let mut frame: u64 = 0;
        'session: while !stop.load(Ordering::Relaxed) {
            if paused.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
                due = Instant::now();
                continue;
            }
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
            report.chunks += 1;
            due += period;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
    Ok(report)
}

/// A temp dir holding `mic.fifo` and an `asoundrc` whose `testmic` reads it.
pub struct AlsaFixture {
    dir: TempDir,
}

impl AlsaFixture {
    /// Creates the temp dir, the FIFO and the asoundrc. Panics (no skip) when ALSA's
    /// configuration or `mkfifo` is missing: `make test-deps` installs them.
    pub fn new(tag: &str) -> AlsaFixture {
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

    /// The temp dir.
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    /// The FIFO.
    pub fn fifo(&self) -> PathBuf {
        self.dir.join("mic.fifo")
    }

    /// The value for `ALSA_CONFIG_PATH`.
    pub fn config_path(&self) -> String {
        format!("{ALSA_CONF}:{}", self.dir.join("asoundrc").display())
    }
}
