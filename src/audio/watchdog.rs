//! The watchdog's rules, as a pure function of the capture counters and the clock
//! (the supervisor feeds it every tick; tests feed it synthetic time).

use std::time::{Duration, Instant};

/// The shortest silence from the device that counts as a stall.
pub const MIN_STALL: Duration = Duration::from_millis(250);
/// A stall this long (from the last sample) is treated as a lost device: the
/// stream is closed and reopened.
pub const REOPEN_AFTER: Duration = Duration::from_millis(1000);
/// A newly opened stream may take this long to deliver its first samples before it
/// counts as stalled (PulseAudio's ALSA plugin takes 1-2 s to start).
pub const FIRST_DATA_GRACE: Duration = Duration::from_secs(2);
/// Input faster than this multiple of the nominal rate, over [`RATE_WINDOW`], runs away.
pub const RUNAWAY_FACTOR: f64 = 1.5;
/// The span the delivered rate is measured over.
pub const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What the watchdog concludes at one tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Samples flow at a plausible rate.
    Live,
    /// No samples for longer than the stall threshold.
    Stalled,
    /// The stall lasted [`REOPEN_AFTER`]: close and reopen the stream.
    Reopen,
    /// Samples came faster than [`RUNAWAY_FACTOR`] × the nominal rate over the last
    /// [`RATE_WINDOW`]: close and reopen the stream.
    Runaway,
}

/// Stall and runaway detection for one open stream.
///
/// Thread: supervisor.
#[derive(Clone, Debug)]
pub struct Watchdog {
    sample_rate_hz: f64,
    last_frames: u64,
    last_callbacks: u64,
    last_progress: Instant,
    window_start: Instant,
    window_frames: u64,
    start_frames: u64,
}

impl Watchdog {
    /// A watchdog for a stream of `sample_rate_hz` opened at `now` whose counters read
    /// `frames` and `callbacks`.
    pub fn new(sample_rate_hz: u32, now: Instant, frames: u64, callbacks: u64) -> Watchdog {
        Watchdog {
            sample_rate_hz: f64::from(sample_rate_hz.max(1)),
            last_frames: frames,
            last_callbacks: callbacks,
            last_progress: now,
            window_start: now,
            window_frames: frames,
            start_frames: frames,
        }
    }

    /// The stall threshold: max(250 ms, 4 audio buffers), a buffer being the mean
    /// callback length so far (`frames / callbacks`).
    pub fn stall_threshold(&self, frames: u64, callbacks: u64) -> Duration {
        let buffer_frames = frames.checked_div(callbacks).unwrap_or(0) as f64;
        MIN_STALL.max(Duration::from_secs_f64(
            4.0 * buffer_frames / self.sample_rate_hz,
        ))
    }

    /// Whether the stream has delivered anything since the watchdog was made.
    pub fn delivered(&self) -> bool {
        self.last_frames != self.start_frames
    }

    /// One tick at `now` with the capture counters (`frames` delivered, `callbacks`).
    pub fn tick(&mut self, now: Instant, frames: u64, callbacks: u64) -> Verdict {
        if frames != self.last_frames || callbacks != self.last_callbacks {
            self.last_frames = frames;
            self.last_callbacks = callbacks;
            self.last_progress = now;
        }
        let window = now.saturating_duration_since(self.window_start);
        if window >= RATE_WINDOW {
            let delivered = frames.saturating_sub(self.window_frames) as f64;
            let nominal = self.sample_rate_hz * window.as_secs_f64();
            self.window_start = now;
            self.window_frames = frames;
            if delivered > RUNAWAY_FACTOR * nominal {
                return Verdict::Runaway;
            }
        }
        let silent = now.saturating_duration_since(self.last_progress);
        let grace = if self.delivered() {
            Duration::ZERO
        } else {
            FIRST_DATA_GRACE
        };
        let silent = silent.saturating_sub(grace);
        if silent >= REOPEN_AFTER.max(self.stall_threshold(frames, callbacks)) {
            Verdict::Reopen
        } else if silent >= self.stall_threshold(frames, callbacks) {
            Verdict::Stalled
        } else {
            Verdict::Live
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48_000;

    /// Feeds `seconds` of callbacks of `period` frames every `period / RATE` s ×
    /// `speed`, ticking every 50 ms; returns the verdicts.
    fn run(
        w: &mut Watchdog,
        t: &mut Instant,
        frames: &mut u64,
        speed: f64,
        ms: u64,
    ) -> Vec<Verdict> {
        let mut out = Vec::new();
        for _ in 0..ms / 50 {
            *t += Duration::from_millis(50);
            *frames += (f64::from(RATE) * 0.05 * speed) as u64;
            out.push(w.tick(*t, *frames, *frames / 480));
        }
        out
    }

    #[test]
    fn steady_input_is_live() {
        let mut t = Instant::now();
        let mut w = Watchdog::new(RATE, t, 0, 0);
        assert!(!w.delivered());
        let mut frames = 0;
        let v = run(&mut w, &mut t, &mut frames, 1.0, 5000);
        assert!(w.delivered());
        assert!(v.iter().all(|&v| v == Verdict::Live), "{v:?}");
        // 1.4x is still plausible (a device clock off by a lot, or a catch-up burst).
        let v = run(&mut w, &mut t, &mut frames, 1.4, 3000);
        assert!(v.iter().all(|&v| v == Verdict::Live), "{v:?}");
    }

    #[test]
    fn silence_stalls_at_250_ms_and_reopens_at_1_s() {
        let mut t = Instant::now();
        let mut w = Watchdog::new(RATE, t, 0, 0);
        let mut frames = 0;
        run(&mut w, &mut t, &mut frames, 1.0, 1000);
        let v = run(&mut w, &mut t, &mut frames, 0.0, 1200);
        // ticks at 50, 100, ... ms of silence
        let first_stall = v.iter().position(|&v| v == Verdict::Stalled);
        let first_reopen = v.iter().position(|&v| v == Verdict::Reopen);
        assert_eq!(first_stall, Some(4), "stalled at 250 ms: {v:?}");
        assert_eq!(first_reopen, Some(19), "reopen at 1000 ms: {v:?}");
        // data again: live at once
        let v = run(&mut w, &mut t, &mut frames, 1.0, 100);
        assert_eq!(v.last(), Some(&Verdict::Live));
    }

    #[test]
    fn a_new_stream_has_2_s_to_deliver_its_first_samples() {
        let mut t = Instant::now();
        let mut w = Watchdog::new(RATE, t, 0, 0);
        let mut frames = 0;
        let v = run(&mut w, &mut t, &mut frames, 0.0, 3000);
        assert_eq!(
            v.iter().position(|&v| v != Verdict::Live),
            Some(44),
            "{v:?}"
        );
        assert_eq!(
            v.iter().position(|&v| v == Verdict::Reopen),
            Some(59),
            "{v:?}"
        );
        // once it delivered, silence stalls at 250 ms again
        let mut w = Watchdog::new(RATE, t, 0, 0);
        run(&mut w, &mut t, &mut frames, 1.0, 100);
        let v = run(&mut w, &mut t, &mut frames, 0.0, 300);
        assert_eq!(v.iter().position(|&v| v != Verdict::Live), Some(4), "{v:?}");
    }

    #[test]
    fn long_buffers_raise_the_stall_threshold() {
        let t = Instant::now();
        let w = Watchdog::new(RATE, t, 0, 0);
        // 4 buffers of 4800 frames = 400 ms
        assert_eq!(w.stall_threshold(48_000, 10), Duration::from_millis(400));
        assert_eq!(w.stall_threshold(48_000, 100), MIN_STALL);
        assert_eq!(w.stall_threshold(0, 0), MIN_STALL);
    }

    #[test]
    fn unpaced_input_runs_away() {
        let mut t = Instant::now();
        let mut w = Watchdog::new(RATE, t, 0, 0);
        let mut frames = 0;
        let v = run(&mut w, &mut t, &mut frames, 4900.0, 1000);
        assert_eq!(v.last(), Some(&Verdict::Runaway), "{v:?}");
        let v = run(&mut w, &mut t, &mut frames, 1.6, 1000);
        assert_eq!(v.last(), Some(&Verdict::Runaway), "{v:?}");
    }
}
