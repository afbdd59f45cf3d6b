//! The HUD: the focused pane's STFT figures, measured and modelled latency, and the drop
//! counters (red, with the rows/s needed and getting through, while rows are dropped),
//! rendered at most every [`HUD_REFRESH`] into an opaque box that each frame
//! copies over the plot.

use std::fmt::Write;
use std::time::{Duration, Instant};

use crate::analysis::AnalysisStats;
use crate::audio::stats::CaptureStats;
use crate::dsp::latency::{self, LatencyModel};
use crate::dsp::stft::StftParams;
use crate::dsp::window::WindowSums;
use crate::render::chrome::FOREGROUND;
use crate::render::colormap::rgb;
use crate::render::text::{text_width, Canvas};
use crate::ui::state::ViewState;
use crate::ui::timing::Meters;

/// How often the HUD's numbers are re-rendered.
pub const HUD_REFRESH: Duration = Duration::from_millis(250);

/// The demo banner's colour (and the focused pane's title in compare mode).
pub const BANNER: u32 = rgb(255, 200, 40);
const HUD_BACKGROUND: u32 = rgb(10, 10, 14);
/// Lines under the banner.
const LINES: usize = 5;
/// Box height: banner, gap, the lines, margin.
const BOX_H: usize = 16 + 6 + LINES * 11 + 6;

/// Where the HUD's figures come from.
pub struct HudSources<'a> {
    /// Source label (device, file, DEMO SIGNAL): the banner.
    pub source_label: &'a str,
    /// Live mode fell back to the demo for lack of a device (a warning banner).
    pub demo_fallback: bool,
    /// Capture counters.
    pub capture: &'a CaptureStats,
    /// Analysis counters.
    pub analysis: &'a AnalysisStats,
}

/// What the latency model and the window's sums were computed for: the parameters, the
/// rate and the mean callback length.
type ModelKey = (StftParams, u32, usize);

/// The HUD's text lines and pixels.
///
/// Thread: UI. Allocates: when made; re-rendering reuses its buffers (the latency model,
/// which allocates, is recomputed only when its inputs change).
pub struct Hud {
    lines: [String; LINES],
    /// `size.0 × size.1` pixels, row-major.
    pixels: Vec<u32>,
    size: (usize, usize),
    /// Widest box, px: the frame width (the box is shown inside the plot).
    max_w: usize,
    /// When last rendered (`None`: must be rendered before the next frame).
    at: Option<Instant>,
    model: Option<(ModelKey, LatencyModel, WindowSums)>,
    /// Rows produced and dropped (all panes) when last rendered.
    rows_seen: Option<(Instant, u64, u64)>,
    /// When rows were last seen dropped, and the rates then (rows/s produced, dropped).
    dropping: Option<(Instant, f64, f64)>,
}

/// Rows dropped within this long before a render keep the HUD's drop line red.
const DROP_WARNING: Duration = Duration::from_secs(1);
/// The drop line's colour while rows are being dropped.
const DROP_RED: u32 = rgb(240, 70, 70);

impl Hud {
    /// A HUD for frames `max_w` pixels wide, not rendered yet.
    pub fn new(max_w: usize) -> Hud {
        Hud {
            lines: std::array::from_fn(|_| String::with_capacity(128)),
            pixels: Vec::with_capacity(max_w * BOX_H),
            size: (0, 0),
            max_w,
            at: None,
            model: None,
            rows_seen: None,
            dropping: None,
        }
    }

    /// Marks the numbers as out of date (a change): rendered before the next frame.
    pub fn invalidate(&mut self) {
        self.at = None;
    }

    /// Whether it must be rendered before the next frame.
    pub fn stale(&self) -> bool {
        self.at.is_none()
    }

    /// Whether [`HUD_REFRESH`] has passed since it was rendered.
    pub fn due(&self, now: Instant) -> bool {
        self.at
            .is_some_and(|t| now.duration_since(t) >= HUD_REFRESH)
    }

    /// The box: pixels, width, height.
    pub fn pixels(&self) -> (&[u32], usize, usize) {
        (&self.pixels, self.size.0, self.size.1)
    }

    /// Box size, px.
    pub fn size(&self) -> (usize, usize) {
        self.size
    }

    /// Renders the figures of `now` for the focused pane of `state`.
    ///
    /// Allocates: no, unless the latency model's inputs changed.
    pub fn render(
        &mut self,
        state: &ViewState,
        sources: &HudSources<'_>,
        meters: &mut Meters,
        now: Instant,
    ) {
        self.at = Some(now);
        self.write_lines(state, sources, meters, now);
        let banner = if sources.demo_fallback {
            "DEMO SIGNAL - no input device"
        } else {
            sources.source_label
        };
        let dropping = self.dropping.is_some();
        self.paint(banner, sources.demo_fallback, dropping);
    }

    /// Updates the drop rates from the analysis counters: `dropping` holds the rates of
    /// the last interval that dropped rows, for [`DROP_WARNING`].
    fn track_drops(&mut self, produced: u64, dropped: u64, now: Instant) {
        if let Some((t, p0, d0)) = self.rows_seen {
            let dt = now.duration_since(t).as_secs_f64();
            if dropped > d0 && dt > 0.0 {
                let rate = |n: u64| n as f64 / dt;
                self.dropping = Some((now, rate(produced - p0), rate(dropped - d0)));
            }
        }
        self.rows_seen = Some((now, produced, dropped));
        if self
            .dropping
            .is_some_and(|(t, ..)| now.duration_since(t) > DROP_WARNING)
        {
            self.dropping = None;
        }
    }

    /// The latency model and the window's sums for `key`, recomputed when it changed.
    fn model(&mut self, key: ModelKey) -> (LatencyModel, WindowSums) {
        match &self.model {
            Some((k, model, sums)) if *k == key => (*model, *sums),
            _ => {
                let (p, sample_rate_hz, buffer_frames) = key;
                let model = latency::model(&p, sample_rate_hz, buffer_frames);
                let sums = WindowSums::of(p.window, p.win_length);
                self.model = Some((key, model, sums));
                (model, sums)
            }
        }
    }

    fn write_lines(
        &mut self,
        state: &ViewState,
        sources: &HudSources<'_>,
        meters: &mut Meters,
        now: Instant,
    ) {
        let p = state.focused().params;
        let sr = f64::from(state.sample_rate_hz);
        let cap = sources.capture.snapshot();
        // The audio buffer as delivered: the mean callback length.
        let buffer_frames = cap.frames_captured.checked_div(cap.callbacks).unwrap_or(0) as usize;
        let (model, sums) = self.model((p, state.sample_rate_hz, buffer_frames));
        let ana = sources.analysis.snapshot();
        self.track_drops(ana.rows_produced, ana.rows_dropped, now);
        let rows_per_s = meters.rows_per_s(now);
        let measured = meters.latency_ms(now);
        for line in &mut self.lines {
            line.clear();
        }
        let [l0, l1, l2, l3, l4] = &mut self.lines;
        // Writing into a String cannot fail.
        let _ = write!(
            l0,
            "{} Hz  n_fft {}  win {} ({:.1} ms)  hop {} ({:.2} ms)  overlap {:.1}%  {}",
            state.sample_rate_hz,
            p.fft_size,
            p.win_length,
            p.win_length as f64 * 1e3 / sr,
            p.hop_size,
            p.hop_size as f64 * 1e3 / sr,
            100.0 * (1.0 - p.hop_size as f64 / p.win_length as f64),
            p.window
        );
        let _ = write!(
            l1,
            "bin {:.2} Hz  resolution (ENBW) {:.2} Hz  rows {rows_per_s}/s",
            sr / p.fft_size as f64,
            sums.enbw_bins() * sr / p.win_length as f64
        );
        let _ = match measured {
            Some((p50, p95)) => write!(
                l2,
                "latency measured (capture -> frame): {p50:.1} ms p50, {p95:.1} ms p95"
            ),
            None => write!(l2, "latency measured (capture -> frame): n/a"),
        };
        let _ = write!(
            l3,
            "latency model: click {:.1} ms, tone onset {:.1} ms (-6 dB), buffer {:.1} ms",
            model.click_ms, model.tone_ms, model.buffer_ms
        );
        let paused = if state.paused {
            "   PAUSED (capture continues)"
        } else {
            ""
        };
        if let Some((_, produced, dropped)) = self.dropping {
            // Every pane's rows: what the parameters need, and what gets through.
            let needed: f64 = (0..state.pane_count())
                .map(|i| sr / state.pane(i).params.hop_size as f64)
                .sum();
            let _ = write!(
                l4,
                "DROPPING ROWS: {needed:.0} rows/s needed, {produced:.0} made, {:.0} shown; ",
                produced - dropped
            );
        }
        let _ = write!(
            l4,
            "dropped: frames {}  rows {}  controls {}  stream errors {}{paused}",
            cap.frames_dropped, ana.rows_dropped, ana.controls_dropped, cap.stream_errors,
        );
    }

    /// Paints the banner and the lines into the box (as wide as they are, at most the
    /// frame: only the part inside the plot is ever shown).
    fn paint(&mut self, banner: &str, warn: bool, dropping: bool) {
        let lines_w = self
            .lines
            .iter()
            .map(|l| text_width(l, 1))
            .max()
            .unwrap_or(0);
        // The banner is large when it fits the HUD's width (long device names stay small).
        let banner_scale = if text_width(banner, 2) <= lines_w {
            2
        } else {
            1
        };
        let box_w = (lines_w.max(text_width(banner, banner_scale)) + 12).min(self.max_w);
        self.pixels.clear();
        self.pixels.resize(box_w * BOX_H, HUD_BACKGROUND);
        self.size = (box_w, BOX_H);
        let mut c = Canvas {
            pixels: &mut self.pixels,
            width: box_w,
            height: BOX_H,
        };
        let color = if warn { BANNER } else { FOREGROUND };
        c.text(6, 5, banner, color, banner_scale);
        for (i, line) in self.lines.iter().enumerate() {
            let color = if dropping && i == LINES - 1 {
                DROP_RED
            } else {
                FOREGROUND
            };
            c.text(6, 26 + (i * 11) as i64, line, color, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drop_line_turns_red_with_the_interval_rates_and_back_after_a_second() {
        let mut hud = Hud::new(1280);
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        hud.track_drops(1_000, 0, at(0));
        hud.track_drops(13_000, 0, at(250));
        assert_eq!(hud.dropping, None, "no row dropped yet");
        // 12 000 rows made in 250 ms, 4 000 of them dropped: 48 000/s made, 16 000/s dropped.
        hud.track_drops(25_000, 4_000, at(500));
        let (t, made, dropped) = hud.dropping.expect("dropping");
        assert_eq!(t, at(500));
        assert!((made - 48_000.0).abs() < 1e-6 && (dropped - 16_000.0).abs() < 1e-6);
        // No more drops: still shown for a second, then cleared.
        hud.track_drops(37_000, 4_000, at(1_500));
        assert!(hud.dropping.is_some());
        hud.track_drops(49_000, 4_000, at(1_501));
        assert_eq!(hud.dropping, None);
    }
}
