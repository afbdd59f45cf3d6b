//! The `input` thread: owns the cpal stream, runs the [`Watchdog`] every tick, and
//! when the input stalls for good, runs away, or the backend reports the device gone,
//! closes the stream and reopens the device with backoff. Each reopened stream gets
//! fresh rings, handed to the analysis thread as an [`InputSwap`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::StreamTrait;
use crossbeam_channel::Sender;

use super::capture::{self, InputRequest, OpenedInput};
use super::health::{InputHealth, InputState};
use super::stats::CaptureStats;
use super::watchdog::{Verdict, Watchdog};
use crate::audio::ring::{MarkConsumer, SampleConsumer};
use crate::error::Error;
use crate::stream::Timebase;

/// How often the watchdog looks.
pub const TICK: Duration = Duration::from_millis(50);
/// The first wait between reopen attempts; it doubles up to [`BACKOFF_MAX`].
pub const BACKOFF_START: Duration = Duration::from_millis(250);
/// The longest wait between reopen attempts, so a returning device is back within
/// this plus one open (a restarted PulseAudio server takes ~1.1 s to create the first
/// stream). Attempts against a dead server fail at once, so 2 a second cost nothing.
pub const BACKOFF_MAX: Duration = Duration::from_millis(500);
/// How long closing a stream may take at exit before we leave it behind.
pub const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// The analysis thread's ends of a newly opened stream.
///
/// Thread: built by the supervisor, moved to analysis over a channel.
pub struct InputSwap {
    /// Interleaved samples.
    pub samples: SampleConsumer,
    /// Timing marks (frame indices restart at 0 with every stream).
    pub marks: MarkConsumer,
    /// Channels per frame.
    pub channels: usize,
    /// The stream's rate (it may differ from the last one).
    pub sample_rate_hz: u32,
    /// Maps this stream's timestamps onto `Instant`s.
    pub timebase: Timebase,
}

impl InputSwap {
    /// Splits an opened input into the analysis ends, the stream, and a label.
    pub fn split(o: OpenedInput) -> (InputSwap, cpal::Stream, String) {
        let label = format!(
            "'{}' ({}, {} ch, {} Hz, buffer {})",
            o.device_name, o.sample_format, o.channels, o.sample_rate_hz, o.buffer
        );
        (
            InputSwap {
                samples: o.samples,
                marks: o.marks,
                channels: o.channels,
                sample_rate_hz: o.sample_rate_hz,
                timebase: o.timebase,
            },
            o.stream,
            label,
        )
    }
}

/// A running supervisor.
///
/// Thread: handle owned by main.
pub struct Supervisor {
    handle: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
}

/// What the supervisor thread owns.
struct Watch {
    request: InputRequest,
    /// What the last reopen opened, for the message when it delivers.
    label: String,
    stream: Option<cpal::Stream>,
    sample_rate_hz: u32,
    channels: usize,
    stats: Arc<CaptureStats>,
    health: Arc<InputHealth>,
    swaps: Sender<InputSwap>,
    stop: Arc<AtomicBool>,
}

/// What the first open answers the caller: the analysis ends, the device name and a
/// label, or why not.
type FirstOpen = crate::error::Result<(InputSwap, String, String)>;

/// How often the caller, waiting for the first open, looks at its stop flag.
const OPEN_POLL: Duration = Duration::from_millis(50);

impl Supervisor {
    /// Opens `request` on the `input` thread and, once it is open, watches it there;
    /// reopened streams' rings go to `swaps`. Returns the first stream's analysis ends,
    /// its device name and a label. The wait for the first open ends early when
    /// `cancel` is set (a backend can block in its open forever, e.g. an ALSA FIFO
    /// without a writer).
    ///
    /// # Errors
    /// The open's error (no such device, an unsupported configuration, ...), a thread
    /// that cannot be spawned, or [`Error::OpenInterrupted`] when `cancel` was set first.
    pub fn start(
        request: InputRequest,
        stats: Arc<CaptureStats>,
        health: Arc<InputHealth>,
        swaps: Sender<InputSwap>,
        cancel: &AtomicBool,
    ) -> crate::error::Result<(Supervisor, InputSwap, String, String)> {
        let stop = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (first_tx, first_rx) = crossbeam_channel::bounded::<FirstOpen>(1);
        let mut watch = Watch {
            request,
            label: String::new(),
            stream: None,
            sample_rate_hz: 0,
            channels: 0,
            stats,
            health,
            swaps,
            stop: Arc::clone(&stop),
        };
        let finished_t = Arc::clone(&finished);
        let handle = std::thread::Builder::new()
            .name("input".into())
            .spawn(move || {
                if watch.open_first(&first_tx) {
                    watch.run();
                }
                let closed = close(watch.stream.take(), CLOSE_WAIT);
                if !closed {
                    eprintln!(
                        "hopscope: the audio backend has not closed its stream after {} ms (a hung driver?); exiting without it",
                        CLOSE_WAIT.as_millis()
                    );
                }
                finished_t.store(true, Ordering::Release);
            })
            .map_err(|source| Error::SpawnThread {
                thread: "input",
                source,
            })?;
        let supervisor = Supervisor {
            handle: Some(handle),
            stop,
            finished,
        };
        loop {
            match first_rx.recv_timeout(OPEN_POLL) {
                Ok(Ok((swap, name, label))) => return Ok((supervisor, swap, name, label)),
                Ok(Err(e)) => return Err(e),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Audio("the input thread ended while opening".into()))
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            }
            if cancel.load(Ordering::Relaxed) {
                // The thread stays blocked in the backend's open; the process exits anyway.
                supervisor.stop.store(true, Ordering::Relaxed);
                return Err(Error::OpenInterrupted("its backend did not answer".into()));
            }
        }
    }

    /// Stops the thread and closes the stream, waiting at most `wait`; `Ok(false)` when
    /// the backend hung and the thread was left behind.
    ///
    /// # Errors
    /// [`Error::ThreadPanicked`] when the input thread panicked.
    pub fn stop(mut self, wait: Duration) -> crate::error::Result<bool> {
        self.stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + wait;
        while !self.finished.load(Ordering::Acquire) {
            if self.handle.as_ref().is_some_and(JoinHandle::is_finished) {
                break; // it ended without setting `finished`: it panicked
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(h) = self.handle.take() {
            crate::error::join(h, "input")?;
        }
        Ok(true)
    }
}

/// Pauses (no more callbacks) and closes a stream on a thread of its own (a backend
/// blocked in a read can hang the close forever); `true` if it closed within `wait`.
fn close(stream: Option<cpal::Stream>, wait: Duration) -> bool {
    let Some(stream) = stream else {
        return true;
    };
    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    let spawned = std::thread::Builder::new()
        .name("close".into())
        .spawn(move || {
            let t = Instant::now();
            let paused = stream.pause();
            let pause_ms = t.elapsed().as_secs_f64() * 1e3;
            drop(stream);
            if crate::audio::quiet::debug_enabled() {
                eprintln!("hopscope: debug: stream paused in {pause_ms:.1} ms ({paused:?})");
            }
            if crate::audio::quiet::debug_enabled() {
                eprintln!(
                    "hopscope: debug: stream closed in {:.1} ms",
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
            let _ = tx.send(());
        });
    match spawned {
        Ok(_) => rx.recv_timeout(wait).is_ok(),
        Err(_) => false,
    }
}

impl Watch {
    /// Opens the stream the first time and tells the caller; `false` when it failed
    /// (or nobody waits any more).
    fn open_first(&mut self, first: &Sender<FirstOpen>) -> bool {
        match capture::open_input(
            &self.request,
            Arc::clone(&self.stats),
            Arc::clone(&self.health),
        ) {
            Ok(opened) => {
                self.sample_rate_hz = opened.sample_rate_hz;
                self.channels = opened.channels;
                let name = opened.device_name.clone();
                let (swap, stream, label) = InputSwap::split(opened);
                self.stream = Some(stream);
                first.send(Ok((swap, name, label))).is_ok() && !self.stopped()
            }
            Err(e) => {
                let _ = first.send(Err(e));
                false
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn watchdog(&self, now: Instant) -> Watchdog {
        let cap = self.stats.snapshot();
        Watchdog::new(self.sample_rate_hz, now, cap.frames_captured, cap.callbacks)
    }

    fn run(&mut self) {
        let mut dog = self.watchdog(Instant::now());
        while !self.stopped() {
            std::thread::sleep(TICK);
            let now = Instant::now();
            let cap = self.stats.snapshot();
            let fatal = self.health.take_fatal();
            let verdict = if fatal {
                Verdict::Reopen
            } else {
                dog.tick(now, cap.frames_captured, cap.callbacks)
            };
            let state = self.health.state();
            match verdict {
                // A reopened stream counts as back once it delivers.
                Verdict::Live if state != InputState::Live && dog.delivered() => {
                    let down = self.health.snapshot(now).fault_for;
                    self.health.set_state(InputState::Live, now);
                    let how = if state == InputState::Reconnecting {
                        format!("reopened {}", self.label)
                    } else {
                        "the stream resumed by itself".to_string()
                    };
                    eprintln!(
                        "hopscope: input back after {:.1} s: {how}",
                        down.as_secs_f64()
                    );
                }
                Verdict::Live => {}
                Verdict::Stalled if state == InputState::Reconnecting => {}
                Verdict::Stalled => {
                    if state == InputState::Live {
                        self.health.set_state(InputState::Stalled, now);
                        eprintln!(
                            "hopscope: input stalled: no samples for {:.2} s",
                            dog.stall_threshold(cap.frames_captured, cap.callbacks)
                                .as_secs_f64()
                        );
                    }
                }
                Verdict::Reopen | Verdict::Runaway => {
                    let why = match verdict {
                        Verdict::Runaway => {
                            self.health.set_state(InputState::Runaway, now);
                            "samples arrive far faster than the stream's rate"
                        }
                        _ if fatal => "the backend reports the device gone",
                        _ => "no samples for 1 s",
                    };
                    self.fail(why, now);
                    if !self.reconnect() {
                        return;
                    }
                    dog = self.watchdog(Instant::now());
                }
            }
        }
    }

    /// Marks the loss, says `why` once, and closes the stream.
    fn fail(&mut self, why: &str, now: Instant) {
        // A reopened stream that never delivered is the same event, said already.
        let said = self.health.state() == InputState::Reconnecting;
        self.health.set_state(InputState::Lost, now);
        if !said {
            eprintln!("hopscope: input lost: {why}; reconnecting");
        }
        // Leave a hung close behind: the reopen must not wait for it.
        close(self.stream.take(), Duration::ZERO);
    }

    /// Reopens with backoff until it works (`true`) or the thread is stopped (`false`).
    fn reconnect(&mut self) -> bool {
        let mut backoff = BACKOFF_START;
        let mut attempts = 0u32;
        self.health
            .set_state(InputState::Reconnecting, Instant::now());
        while !self.stopped() {
            attempts += 1;
            match self.open() {
                Ok(opened) => return self.adopt(opened, attempts),
                // Said once when the loss began; each attempt only in the debug log.
                Err(e) if crate::audio::quiet::debug_enabled() => {
                    eprintln!("hopscope: debug: reopen attempt {attempts}: {e}");
                }
                Err(_) => {}
            }
            let until = Instant::now() + backoff;
            while Instant::now() < until && !self.stopped() {
                std::thread::sleep(TICK.min(until - Instant::now()));
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
        false
    }

    /// Opens the device again, asking for the rate it had (a reopened stream should
    /// not change format), or as the user asked if that rate is refused.
    fn open(&self) -> crate::error::Result<OpenedInput> {
        let same = InputRequest {
            sample_rate_hz: Some(self.sample_rate_hz),
            ..self.request.clone()
        };
        let health = Arc::clone(&self.health);
        match capture::open_input(&same, Arc::clone(&self.stats), Arc::clone(&health)) {
            Err(Error::DeviceConfig { .. }) if self.request.sample_rate_hz.is_none() => {
                capture::open_input(&self.request, Arc::clone(&self.stats), health)
            }
            other => other,
        }
    }

    /// Hands a reopened stream's rings to analysis; the state stays `reconnecting`
    /// until the stream delivers (see `run`).
    fn adopt(&mut self, opened: OpenedInput, attempts: u32) -> bool {
        let (rate, channels) = (opened.sample_rate_hz, opened.channels);
        let (swap, stream, label) = InputSwap::split(opened);
        self.stream = Some(stream);
        if self.swaps.send(swap).is_err() {
            return false; // analysis is gone: we are shutting down
        }
        let changed = if rate != self.sample_rate_hz || channels != self.channels {
            format!(
                "; its format changed from {} Hz, {} ch",
                self.sample_rate_hz, self.channels
            )
        } else {
            String::new()
        };
        self.label = format!("{label} at attempt {attempts}{changed}");
        if crate::audio::quiet::debug_enabled() {
            eprintln!(
                "hopscope: debug: reopened {}; waiting for its first samples",
                self.label
            );
        }
        self.sample_rate_hz = rate;
        self.channels = channels;
        true
    }
}
