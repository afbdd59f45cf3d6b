//! What the window measures about itself: capture → frame latency (the HUD's), rows per
//! second, frame draw times, and the summary printed at exit.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::dsp::stats::quantile;

/// Frames whose row counts are kept: over a second at up to 240 frames a second.
const FRAME_COUNTS: usize = 256;

/// Rolling latency samples (capture of a row's last sample → its frame handed to the
/// window).
struct LatencyWindow {
    samples: VecDeque<(Instant, f64)>,
    scratch: Vec<f64>,
}

impl LatencyWindow {
    fn push(&mut self, now: Instant, ms: f64) {
        if self.samples.len() == self.samples.capacity() {
            self.samples.pop_front();
        }
        self.samples.push_back((now, ms));
    }

    /// (p50, p95) over the last second, ms.
    fn percentiles(&mut self, now: Instant) -> Option<(f64, f64)> {
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.samples.pop_front();
        }
        if self.samples.is_empty() {
            return None;
        }
        self.scratch.clear();
        self.scratch.extend(self.samples.iter().map(|(_, ms)| *ms));
        // A selection, not a sort: no heap buffer, whatever the length.
        let p50 = quantile(&mut self.scratch, 0.5, f64::total_cmp)?;
        let p95 = quantile(&mut self.scratch, 0.95, f64::total_cmp)?;
        Some((p50, p95))
    }
}

/// The window's own timing: rows drawn this frame, the focused pane's row arrivals, the
/// latency window, and per-run samples for the exit summary. Every buffer is bounded and
/// made in [`Meters::new`].
///
/// Thread: UI. Allocates: in `new` only (and [`Meters::report`] at exit).
pub struct Meters {
    latency: LatencyWindow,
    /// Rows drawn this frame: (captured, ready for the UI = max(finished, frame start)).
    pending: Vec<(Instant, Instant)>,
    /// The focused pane's rows drawn per presented frame: (presented, rows), the last
    /// [`FRAME_COUNTS`] frames (rows/s counted per frame, so any row rate fits).
    frame_rows: VecDeque<(Instant, u32)>,
    /// The focused pane's rows drawn in the frame being made.
    focused_rows: u32,
    /// Row → frame beyond the wait for the frame: present − max(row finished, frame start).
    beyond_wait_ms: Vec<f32>,
    draw_ms: Vec<f32>,
    capture_ms: Vec<f32>,
}

impl Default for Meters {
    fn default() -> Self {
        Meters::new()
    }
}

impl Meters {
    /// Empty meters with room for a long run.
    pub fn new() -> Meters {
        Meters {
            latency: LatencyWindow {
                samples: VecDeque::with_capacity(4096),
                scratch: Vec::with_capacity(4096),
            },
            pending: Vec::with_capacity(4096),
            frame_rows: VecDeque::with_capacity(FRAME_COUNTS),
            focused_rows: 0,
            beyond_wait_ms: Vec::with_capacity(1 << 16),
            draw_ms: Vec::with_capacity(1 << 14),
            capture_ms: Vec::with_capacity(1 << 16),
        }
    }

    /// Columns were drawn in the frame that started at `frame_start`, holding `rows`
    /// rows whose newest was captured at `captured_at` and finished at `finished_at`;
    /// `focused`: of the focused pane.
    ///
    /// Allocates: no.
    pub fn row_drawn(
        &mut self,
        captured_at: Instant,
        finished_at: Instant,
        frame_start: Instant,
        (focused, rows): (bool, u32),
    ) {
        if self.pending.len() < self.pending.capacity() {
            self.pending
                .push((captured_at, finished_at.max(frame_start)));
        }
        if focused {
            self.focused_rows = self.focused_rows.saturating_add(rows);
        }
    }

    /// The frame that started at `frame_start` was handed over at `presented`.
    ///
    /// Allocates: no.
    pub fn frame_presented(&mut self, frame_start: Instant, presented: Instant) {
        if self.frame_rows.len() == FRAME_COUNTS {
            self.frame_rows.pop_front();
        }
        self.frame_rows
            .push_back((presented, std::mem::take(&mut self.focused_rows)));
        for (captured, ready) in self.pending.drain(..) {
            let ms = presented.saturating_duration_since(captured).as_secs_f64() * 1e3;
            self.latency.push(presented, ms);
            if self.capture_ms.len() < self.capture_ms.capacity() {
                self.capture_ms.push(ms as f32);
                self.beyond_wait_ms
                    .push(presented.saturating_duration_since(ready).as_secs_f32() * 1e3);
            }
        }
        if self.draw_ms.len() < self.draw_ms.capacity() {
            self.draw_ms
                .push(presented.duration_since(frame_start).as_secs_f32() * 1e3);
        }
    }

    /// The focused pane's rows drawn in frames presented in the second before `now`.
    pub fn rows_per_s(&self, now: Instant) -> usize {
        self.frame_rows
            .iter()
            .rev()
            .take_while(|(t, _)| now.duration_since(*t) <= Duration::from_secs(1))
            .map(|(_, rows)| *rows as usize)
            .sum()
    }

    /// Capture → frame latency (p50, p95) over the second before `now`, ms.
    ///
    /// Allocates: no.
    pub fn latency_ms(&mut self, now: Instant) -> Option<(f64, f64)> {
        self.latency.percentiles(now)
    }

    /// Prints, at exit, on stderr: how long frames took to draw, how long rows waited
    /// beyond the next display frame, and the capture → frame latency (the HUD's), over
    /// the run. `method` and `flush_ms` describe the presenter.
    pub fn report(&self, method: &str, flush_ms: &[f32]) {
        if self.draw_ms.is_empty() {
            return;
        }
        let flush_note = if flush_ms.is_empty() {
            String::new()
        } else {
            format!(
                ", then the flush that wakes the X server p50 {:.2} ms p99 {:.2} ms",
                percentile(flush_ms, 0.5),
                percentile(flush_ms, 0.99)
            )
        };
        let (draw, beyond, capture) = (&self.draw_ms, &self.beyond_wait_ms, &self.capture_ms);
        eprintln!(
            "hopscope: window ({method}): {} frames, draw p50 {:.2} ms p99 {:.2} ms; {} column runs, run ready -> frame handed over (beyond the frame wait) p50 {:.2} ms p99 {:.2} ms{flush_note}; capture -> frame (the HUD's measured latency) p50 {:.2} ms p95 {:.2} ms",
            draw.len(),
            percentile(draw, 0.5),
            percentile(draw, 0.99),
            beyond.len(),
            percentile(beyond, 0.5),
            percentile(beyond, 0.99),
            percentile(capture, 0.5),
            percentile(capture, 0.95)
        );
    }
}

/// The `q` quantile of `v` (0 when empty).
fn percentile(v: &[f32], q: f64) -> f32 {
    quantile(&mut v.to_vec(), q, f32::total_cmp).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_per_s_counts_every_focused_row_of_the_last_second_at_any_rate() {
        let mut m = Meters::new();
        let t0 = Instant::now();
        // 90 frames at 60 fps, 800 focused rows each (hop 1 at 48 kHz) and 5 of another
        // pane: the last second holds 61 frames (t = 0.5 s … 1.5 s, both ends in).
        for f in 0..90u64 {
            let start = t0 + Duration::from_micros(f * 1_000_000 / 60);
            for _ in 0..800 {
                m.row_drawn(start, start, start, (true, 1));
            }
            for _ in 0..5 {
                m.row_drawn(start, start, start, (false, 1));
            }
            m.frame_presented(start, start);
        }
        let now = t0 + Duration::from_micros(89 * 1_000_000 / 60);
        let frames_in_last_second = (0..90u64)
            .filter(|f| (89 - f) * 1_000_000 / 60 <= 1_000_000)
            .count();
        assert_eq!(frames_in_last_second, 61);
        assert_eq!(m.rows_per_s(now), 61 * 800);
        // Nothing drawn for two seconds: 0.
        assert_eq!(m.rows_per_s(now + Duration::from_secs(2)), 0);
    }
}
