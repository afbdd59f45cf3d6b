//! Whether the live input is delivering, and what went wrong on the way.
//!
//! The supervisor thread (`audio::supervisor`) decides the state; the cpal error
//! callback counts errors by kind; the UI and the status line read one
//! [`HealthSnapshot`] per frame or second.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// What the input is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputState {
    /// Samples arrive at their nominal rate.
    Live,
    /// No samples for longer than the stall threshold; the stream is still open.
    Stalled,
    /// The backend said the device is gone (or the stall lasted): the stream is closed.
    Lost,
    /// Trying to reopen the device (backoff between attempts).
    Reconnecting,
    /// Samples arrive far faster than the nominal rate (a broken or unpaced source).
    Runaway,
}

impl InputState {
    const ALL: [InputState; 5] = [
        InputState::Live,
        InputState::Stalled,
        InputState::Lost,
        InputState::Reconnecting,
        InputState::Runaway,
    ];

    /// The status line's word.
    pub fn name(self) -> &'static str {
        match self {
            InputState::Live => "live",
            InputState::Stalled => "stalled",
            InputState::Lost => "lost",
            InputState::Reconnecting => "reconnecting",
            InputState::Runaway => "runaway",
        }
    }

    fn from_u8(v: u8) -> InputState {
        InputState::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(InputState::Live)
    }
}

/// The kinds of stream error cpal reports, counted separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The device is gone (`DeviceNotAvailable`).
    DeviceLost,
    /// The stream must be rebuilt (`StreamInvalidated`).
    Invalidated,
    /// A buffer overrun.
    Xrun,
    /// Anything else the backend reports.
    Backend,
}

impl ErrorKind {
    /// The kind of a cpal error.
    pub fn of(kind: cpal::ErrorKind) -> ErrorKind {
        match kind {
            cpal::ErrorKind::DeviceNotAvailable => ErrorKind::DeviceLost,
            cpal::ErrorKind::StreamInvalidated => ErrorKind::Invalidated,
            cpal::ErrorKind::Xrun => ErrorKind::Xrun,
            _ => ErrorKind::Backend,
        }
    }

    /// Whether the stream cannot go on after it (it must be reopened).
    pub fn is_fatal(self) -> bool {
        matches!(self, ErrorKind::DeviceLost | ErrorKind::Invalidated)
    }
}

/// Shared input health: state, since when, and counters.
///
/// Thread: state written by the supervisor; `record_error` called by cpal's error
/// callback (not the data callback); read by UI/status. All `Relaxed` atomics.
#[derive(Debug)]
pub struct InputHealth {
    origin: Instant,
    state: AtomicU8,
    /// ns after `origin` when the current fault began (meaningless while live).
    since_ns: AtomicU64,
    faults: AtomicU64,
    stalls: AtomicU64,
    losses: AtomicU64,
    runaways: AtomicU64,
    recoveries: AtomicU64,
    /// Total ns spent not live, faults that ended only.
    down_ns: AtomicU64,
    errors: [AtomicU64; 4],
    /// A fatal error arrived since the supervisor last looked.
    fatal_pending: AtomicU8,
}

/// A copy of [`InputHealth`] at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HealthSnapshot {
    /// The state.
    pub state: InputState,
    /// How long the current fault has lasted (zero while live).
    pub fault_for: Duration,
    /// Times the input stopped being live (one fault may be a stall, then a loss).
    pub faults: u64,
    /// Stalls detected.
    pub stalls: u64,
    /// Losses: the stream had to be closed and reopened (a fatal error, a stall that
    /// lasted, a runaway).
    pub losses: u64,
    /// Runaway episodes.
    pub runaways: u64,
    /// Times the input came back.
    pub recoveries: u64,
    /// Total time not live, the current fault included.
    pub down: Duration,
    /// Stream errors by kind: device lost, invalidated, xrun, other.
    pub errors: [u64; 4],
}

impl HealthSnapshot {
    /// All stream errors.
    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// `live`, or e.g. `device lost 3.2 s ago, reconnecting` for the banner.
    pub fn describe(&self) -> impl std::fmt::Display + '_ {
        Describe(self)
    }
}

/// [`HealthSnapshot::describe`]: written straight into the caller's buffer, so the
/// window's banner allocates nothing per frame.
struct Describe<'a>(&'a HealthSnapshot);

impl std::fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ago = self.0.fault_for.as_secs_f64();
        match self.0.state {
            InputState::Live => f.write_str("live"),
            InputState::Stalled => write!(f, "input stalled {ago:.1} s ago"),
            InputState::Lost => write!(f, "device lost {ago:.1} s ago"),
            InputState::Reconnecting => write!(f, "device lost {ago:.1} s ago, reconnecting"),
            InputState::Runaway => write!(
                f,
                "input runs far faster than its rate since {ago:.1} s, reopening"
            ),
        }
    }
}

impl InputHealth {
    /// A live input whose clock starts now.
    pub fn new() -> InputHealth {
        InputHealth {
            origin: Instant::now(),
            state: AtomicU8::new(0),
            since_ns: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            losses: AtomicU64::new(0),
            runaways: AtomicU64::new(0),
            recoveries: AtomicU64::new(0),
            down_ns: AtomicU64::new(0),
            errors: Default::default(),
            fatal_pending: AtomicU8::new(0),
        }
    }

    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    /// Counts a stream error; a fatal one is also flagged for the supervisor.
    ///
    /// Thread: cpal's error callback. Allocates: no.
    pub fn record_error(&self, kind: ErrorKind) {
        self.errors[kind as usize].fetch_add(1, Relaxed);
        if kind.is_fatal() {
            self.fatal_pending.store(1, Relaxed);
        }
    }

    /// Takes the fatal-error flag.
    pub fn take_fatal(&self) -> bool {
        self.fatal_pending.swap(0, Relaxed) != 0
    }

    /// The current state.
    pub fn state(&self) -> InputState {
        InputState::from_u8(self.state.load(Relaxed))
    }

    /// Moves to `state` at `now`, counting the fault it starts or ends.
    ///
    /// Thread: supervisor.
    pub fn set_state(&self, state: InputState, now: Instant) {
        let old = self.state();
        if old == state {
            return;
        }
        let counter = match state {
            InputState::Stalled => Some(&self.stalls),
            InputState::Lost if old != InputState::Reconnecting => Some(&self.losses),
            InputState::Runaway => Some(&self.runaways),
            _ => None,
        };
        if let Some(c) = counter {
            c.fetch_add(1, Relaxed);
        }
        if old == InputState::Live {
            self.since_ns.store(self.ns(now), Relaxed);
            self.faults.fetch_add(1, Relaxed);
        }
        if state == InputState::Live {
            let since = self.since_ns.load(Relaxed);
            self.down_ns
                .fetch_add(self.ns(now).saturating_sub(since), Relaxed);
            self.recoveries.fetch_add(1, Relaxed);
        }
        self.state.store(state as u8, Relaxed);
    }

    /// Reads everything at `now`.
    pub fn snapshot(&self, now: Instant) -> HealthSnapshot {
        let state = self.state();
        let fault_for = if state == InputState::Live {
            Duration::ZERO
        } else {
            Duration::from_nanos(self.ns(now).saturating_sub(self.since_ns.load(Relaxed)))
        };
        HealthSnapshot {
            state,
            fault_for,
            faults: self.faults.load(Relaxed),
            stalls: self.stalls.load(Relaxed),
            losses: self.losses.load(Relaxed),
            runaways: self.runaways.load(Relaxed),
            recoveries: self.recoveries.load(Relaxed),
            down: Duration::from_nanos(self.down_ns.load(Relaxed)) + fault_for,
            errors: std::array::from_fn(|i| self.errors[i].load(Relaxed)),
        }
    }
}

impl Default for InputHealth {
    fn default() -> Self {
        InputHealth::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_and_its_recovery_are_counted_once_with_their_duration() {
        let h = InputHealth::new();
        let t0 = h.origin + Duration::from_secs(10);
        assert_eq!(h.snapshot(t0).state, InputState::Live);
        h.set_state(InputState::Stalled, t0);
        h.set_state(InputState::Lost, t0 + Duration::from_millis(750));
        h.set_state(InputState::Reconnecting, t0 + Duration::from_millis(750));
        // a reopen that did not deliver: lost again, not a new loss
        h.set_state(InputState::Lost, t0 + Duration::from_secs(2));
        h.set_state(InputState::Reconnecting, t0 + Duration::from_secs(2));
        let during = h.snapshot(t0 + Duration::from_secs(3));
        assert_eq!(during.fault_for, Duration::from_secs(3));
        assert_eq!(
            during.describe().to_string(),
            "device lost 3.0 s ago, reconnecting"
        );
        h.set_state(InputState::Live, t0 + Duration::from_millis(4500));
        let s = h.snapshot(t0 + Duration::from_secs(9));
        assert_eq!(
            (s.faults, s.stalls, s.losses, s.runaways, s.recoveries),
            (1, 1, 1, 0, 1)
        );
        assert_eq!(s.down, Duration::from_millis(4500));
        assert_eq!(s.fault_for, Duration::ZERO);
        // a runaway closes the stream: a runaway and a loss, one fault
        h.set_state(InputState::Runaway, t0 + Duration::from_secs(20));
        h.set_state(InputState::Lost, t0 + Duration::from_secs(20));
        h.set_state(InputState::Live, t0 + Duration::from_secs(21));
        let s = h.snapshot(t0 + Duration::from_secs(30));
        assert_eq!((s.faults, s.losses, s.runaways, s.recoveries), (2, 2, 1, 2));
        assert_eq!(s.down, Duration::from_millis(5500));
    }

    #[test]
    fn errors_are_counted_by_kind_and_fatal_ones_flagged_once() {
        let h = InputHealth::new();
        h.record_error(ErrorKind::of(cpal::ErrorKind::Xrun));
        h.record_error(ErrorKind::of(cpal::ErrorKind::Xrun));
        assert!(!h.take_fatal());
        h.record_error(ErrorKind::of(cpal::ErrorKind::DeviceNotAvailable));
        h.record_error(ErrorKind::of(cpal::ErrorKind::StreamInvalidated));
        assert!(h.take_fatal());
        assert!(!h.take_fatal());
        let s = h.snapshot(Instant::now());
        assert_eq!(s.errors, [1, 1, 2, 0]);
        assert_eq!(s.error_total(), 4);
    }
}
