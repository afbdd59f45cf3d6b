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
/// Text lines: the HUD's three (parameters, resolution, drops), then the latency
/// panel's three (its title with Δt and Δf, the model, the measured latency).
const LINES: usize = 6;
/// The HUD's lines (under the banner).
const HUD_LINES: std::ops::Range<usize> = 0..3;
/// The latency panel's lines (above its bars).
const PANEL_LINES: std::ops::Range<usize> = 3..6;
/// The HUD's drop line.
const DROP_LINE: usize = 2;
const LINE_H: usize = 11;
/// Banner height with its gap.
const BANNER_H: usize = 22;
/// Seconds of measured latency the panel's bars show, one bar a second.
pub const PANEL_SECONDS: usize = 10;
const BAR_W: usize = 24;
const BAR_GAP: usize = 6;
const BARS_H: usize = 40;
/// p95 bars, p50 bars and the model's tone-onset line in the latency panel.
const P95_COLOUR: u32 = rgb(95, 80, 160);
const P50_COLOUR: u32 = rgb(240, 170, 60);
const MODEL_COLOUR: u32 = rgb(110, 220, 120);
/// The tallest box: margins, the HUD and the panel.
const MAX_BOX_H: usize = 5 + BANNER_H + 6 * LINE_H + BARS_H + 10 + 6;

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
    /// When the analysis was last seen short of what the panes need (dropping rows, or
    /// falling behind the input), and by how much.
    dropping: Option<Shortfall>,
    /// Measured latency (p50, p95 ms over a second), one sample a second, oldest first;
    /// `None`: no row in that second.
    history: [Option<(f64, f64)>; PANEL_SECONDS],
    /// When the next history sample is due.
    history_due: Option<Instant>,
    /// The model's tone-onset delay, ms, for the panel's line.
    model_tone_ms: f64,
    /// The bars' scale label (`50 ms`), rewritten in place.
    scale_label: String,
}

/// Rows dropped within this long before a render keep the HUD's drop line red.
const DROP_WARNING: Duration = Duration::from_secs(1);
/// Audio waiting in the ring beyond this means the analysis is falling behind the input
/// (the machine cannot make the rows the panes need): the drop line turns red too.
const BEHIND_S: f64 = 0.5;

/// The analysis short of what the panes need, as last seen.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shortfall {
    /// When.
    at: Instant,
    /// Rows made per second (all panes) over the last interval.
    made: f64,
    /// Rows dropped per second over it (0: none dropped, only behind).
    dropped: f64,
    /// Seconds of audio waiting to be analysed.
    behind_s: f64,
}
/// The drop line's colour while rows are being dropped.
const DROP_RED: u32 = rgb(240, 70, 70);

impl Hud {
    /// A HUD for frames `max_w` pixels wide, not rendered yet.
    pub fn new(max_w: usize) -> Hud {
        Hud {
            lines: std::array::from_fn(|_| String::with_capacity(128)),
            pixels: Vec::with_capacity(max_w * MAX_BOX_H),
            size: (0, 0),
            max_w,
            at: None,
            model: None,
            rows_seen: None,
            dropping: None,
            history: [None; PANEL_SECONDS],
            history_due: None,
            model_tone_ms: 0.0,
            scale_label: String::with_capacity(16),
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
        self.paint(banner, sources.demo_fallback, dropping, state.latency_panel);
    }

    /// Takes one measured-latency sample a second into the panel's history.
    fn track_latency(&mut self, measured: Option<(f64, f64)>, now: Instant) {
        if self.history_due.is_some_and(|due| now < due) {
            return;
        }
        self.history.rotate_left(1);
        self.history[PANEL_SECONDS - 1] = measured;
        self.history_due = Some(now + Duration::from_secs(1));
    }

    /// Updates the shortfall from the analysis counters and the audio waiting to be
    /// analysed (`behind_s`): `dropping` holds the rates of the last interval that
    /// dropped rows or was more than [`BEHIND_S`] behind, for [`DROP_WARNING`].
    fn track_drops(&mut self, (produced, dropped): (u64, u64), behind_s: f64, now: Instant) {
        if let Some((t, p0, d0)) = self.rows_seen {
            let dt = now.duration_since(t).as_secs_f64();
            if (dropped > d0 || behind_s > BEHIND_S) && dt > 0.0 {
                let rate = |n: u64| n as f64 / dt;
                self.dropping = Some(Shortfall {
                    at: now,
                    made: rate(produced - p0),
                    dropped: rate(dropped - d0),
                    behind_s,
                });
            }
        }
        self.rows_seen = Some((now, produced, dropped));
        if self
            .dropping
            .is_some_and(|d| now.duration_since(d.at) > DROP_WARNING)
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
        let waiting =
            (cap.frames_captured - cap.frames_dropped).saturating_sub(ana.frames_analysed);
        self.track_drops(
            (ana.rows_produced, ana.rows_dropped),
            waiting as f64 / sr,
            now,
        );
        let rows_per_s = meters.rows_per_s(now);
        let measured = meters.latency_ms(now);
        self.track_latency(measured, now);
        for line in &mut self.lines {
            line.clear();
        }
        let [l0, l1, l4, l3, l5, l2] = &mut self.lines;
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
        let resolution_hz = sums.resolution_hz(state.sample_rate_hz);
        let _ = write!(
            l1,
            "bin {:.2} Hz  resolution (ENBW) {resolution_hz:.2} Hz  rows {rows_per_s}/s",
            sr / p.fft_size as f64,
        );
        if let Some(fe) = state.focused().frontend {
            // A front-end pane: its own rates and shape instead of the STFT's (allocates
            // on each HUD refresh, a few times a second, not per frame).
            let (first, second) = crate::analysis::frontend::hud_lines(fe, state.sample_rate_hz);
            l0.clear();
            l0.push_str(&first);
            l1.clear();
            l1.push_str(&second);
        }
        let model = match state.focused().frontend {
            Some(fe) => {
                let (m, line) = frontend_latency(fe, state.sample_rate_hz, buffer_frames);
                l3.push_str(&line);
                m
            }
            None => write_stft_latency(l3, &p, sr, resolution_hz, model),
        };
        self.model_tone_ms = model.tone_ms;
        let _ = write!(
            l5,
            "model: click {:.1} ms, tone onset {:.1} ms (-6 dB), buffer {:.1} ms",
            model.click_ms, model.tone_ms, model.buffer_ms
        );
        let _ = match measured {
            Some((p50, p95)) => write!(
                l2,
                "measured capture -> frame: {p50:.1} ms p50, {p95:.1} ms p95 (bars: {PANEL_SECONDS} s)"
            ),
            None => write!(l2, "measured capture -> frame: n/a"),
        };
        let paused = if state.paused {
            "   PAUSED (capture continues)"
        } else {
            ""
        };
        if let Some(d) = self.dropping {
            // Every pane's rows: what the parameters need, and what gets through.
            let needed: f64 = (0..state.pane_count())
                .map(|i| sr / state.pane(i).params.hop_size as f64)
                .sum();
            let _ = if d.dropped > 0.0 {
                write!(
                    l4,
                    "DROPPING ROWS: {needed:.0} rows/s needed, {:.0} made, {:.0} shown; ",
                    d.made,
                    d.made - d.dropped
                )
            } else {
                write!(
                    l4,
                    "FALLING BEHIND {:.1} s: {needed:.0} rows/s needed, {:.0} made; ",
                    d.behind_s, d.made
                )
            };
        }
        let _ = write!(
            l4,
            "dropped: frames {}  rows {}  controls {}  stream errors {}{paused}",
            cap.frames_dropped, ana.rows_dropped, ana.controls_dropped, cap.stream_errors,
        );
    }

    /// Paints the banner and the HUD's lines, and the latency panel when `panel`, into the
    /// box (as wide as they are, at most the frame: only the part inside the plot is ever
    /// shown).
    fn paint(&mut self, banner: &str, warn: bool, dropping: bool, panel: bool) {
        let width_of = |range: std::ops::Range<usize>, lines: &[String; LINES]| {
            range.map(|i| text_width(&lines[i], 1)).max().unwrap_or(0)
        };
        let hud_w = width_of(HUD_LINES, &self.lines);
        let panel_w = if panel {
            width_of(PANEL_LINES, &self.lines).max(PANEL_SECONDS * (BAR_W + BAR_GAP) + 180)
        } else {
            0
        };
        let lines_w = hud_w.max(panel_w);
        // The banner is large when it fits the HUD's width (long device names stay small).
        let banner_scale = if text_width(banner, 2) <= lines_w {
            2
        } else {
            1
        };
        let banner_w = text_width(banner, banner_scale);
        let hud_h = BANNER_H + HUD_LINES.len() * LINE_H;
        let panel_h = if panel {
            PANEL_LINES.len() * LINE_H + BARS_H + 10
        } else {
            0
        };
        let box_w = (lines_w.max(banner_w) + 12).min(self.max_w);
        let box_h = 5 + hud_h + panel_h + 6;
        self.pixels.clear();
        self.pixels.resize(box_w * box_h, HUD_BACKGROUND);
        self.size = (box_w, box_h);
        let mut c = Canvas {
            pixels: &mut self.pixels,
            width: box_w,
            height: box_h,
        };
        let mut y = 5i64;
        let color = if warn { BANNER } else { FOREGROUND };
        c.text(6, y, banner, color, banner_scale);
        y += BANNER_H as i64;
        for i in HUD_LINES {
            let color = if dropping && i == DROP_LINE {
                DROP_RED
            } else {
                FOREGROUND
            };
            c.text(6, y, &self.lines[i], color, 1);
            y += LINE_H as i64;
        }
        if panel {
            for i in PANEL_LINES {
                let color = if i == PANEL_LINES.start {
                    BANNER
                } else {
                    FOREGROUND
                };
                c.text(6, y, &self.lines[i], color, 1);
                y += LINE_H as i64;
            }
            let top_ms = bars_top_ms(&self.history, self.model_tone_ms);
            self.scale_label.clear();
            // Writing into a String cannot fail.
            let _ = write!(self.scale_label, "{top_ms:.0} ms");
            let bars = Bars {
                history: &self.history,
                model_tone_ms: self.model_tone_ms,
                top_ms,
                top_label: &self.scale_label,
            };
            bars.draw(&mut c, 6, y + 4);
        }
    }
}

/// The panel's bars: one per second, p95 (behind) and p50 (in front) on a 0 … `top_ms`
/// scale, the model's tone-onset delay as a line, and the scale's top as a label.
struct Bars<'a> {
    history: &'a [Option<(f64, f64)>; PANEL_SECONDS],
    model_tone_ms: f64,
    top_ms: f64,
    top_label: &'a str,
}

impl Bars<'_> {
    fn draw(&self, c: &mut Canvas<'_>, x: i64, y: i64) {
        let px = |ms: f64| ((ms / self.top_ms).clamp(0.0, 1.0) * BARS_H as f64).round() as usize;
        let bars_w = PANEL_SECONDS * (BAR_W + BAR_GAP) - BAR_GAP;
        c.fill_rect(x, y + BARS_H as i64, bars_w, 1, FOREGROUND);
        for (i, sample) in self.history.iter().enumerate() {
            let Some((p50, p95)) = *sample else { continue };
            let bx = x + (i * (BAR_W + BAR_GAP)) as i64;
            let (h95, h50) = (px(p95), px(p50));
            c.fill_rect(bx, y + (BARS_H - h95) as i64, BAR_W, h95, P95_COLOUR);
            c.fill_rect(
                bx + 3,
                y + (BARS_H - h50) as i64,
                BAR_W - 6,
                h50,
                P50_COLOUR,
            );
        }
        let line_y = y + (BARS_H - px(self.model_tone_ms)) as i64;
        c.fill_rect(x, line_y, bars_w, 1, MODEL_COLOUR);
        let lx = x + bars_w as i64 + 8;
        c.text(lx, y, self.top_label, FOREGROUND, 1);
        c.text(lx, y + 11, "p50", P50_COLOUR, 1);
        c.text(lx + 32, y + 11, "p95", P95_COLOUR, 1);
        c.text(lx + 64, y + 11, "model", MODEL_COLOUR, 1);
        c.text(
            lx,
            y + BARS_H as i64 - 8,
            "0 ms, 1 bar a second",
            FOREGROUND,
            1,
        );
    }
}

/// The bars' full scale: the largest p95 or the model's tone onset, rounded up to a
/// 1-2-5 step (at least 1 ms).
pub fn bars_top_ms(history: &[Option<(f64, f64)>], model_tone_ms: f64) -> f64 {
    let max = history
        .iter()
        .flatten()
        .map(|&(_, p95)| p95)
        .fold(model_tone_ms, f64::max)
        .max(1.0);
    let decade = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * decade)
        .find(|&t| t >= max - 1e-9)
        .unwrap_or(10.0 * decade)
}

/// The STFT's latency line into `l3` (no allocation); `model` back.
fn write_stft_latency(
    l3: &mut String,
    p: &crate::dsp::stft::StftParams,
    sr: f64,
    resolution_hz: f64,
    model: crate::dsp::latency::LatencyModel,
) -> crate::dsp::latency::LatencyModel {
    let _ = write!(
        l3,
        "LATENCY (L)  hop {} = dt {:.2} ms  df {resolution_hz:.2} Hz (ENBW)",
        p.hop_size,
        p.hop_size as f64 * 1e3 / sr,
    );
    model
}

/// A front-end pane's latency line and model: its own hop and window at its own rate,
/// plus the resampler's delay ([`crate::dsp::resample::latency_s`]) when the stream is at
/// another rate.
fn frontend_latency(
    fe: &crate::dsp::frontend::FrontendSpec,
    stream_rate_hz: u32,
    buffer_frames: usize,
) -> (crate::dsp::latency::LatencyModel, String) {
    let rate = f64::from(fe.sample_rate_hz);
    let buffer_at_rate = (buffer_frames as f64 * rate / f64::from(stream_rate_hz)).round() as usize;
    let mut m =
        crate::dsp::latency::model_of_window(&fe.window, fe.hop, fe.sample_rate_hz, buffer_at_rate);
    let resampler_ms = 1e3 * crate::dsp::resample::latency_s(stream_rate_hz, fe.sample_rate_hz);
    m.click_ms += resampler_ms;
    m.tone_ms += resampler_ms;
    let enbw_hz = WindowSums::of_coefficients(&fe.window).resolution_hz(fe.sample_rate_hz);
    let line = format!(
        "LATENCY (L)  hop {} = dt {:.2} ms at {} Hz  df {enbw_hz:.2} Hz (ENBW)  resampler {resampler_ms:.1} ms",
        fe.hop,
        fe.hop as f64 * 1e3 / rate,
        fe.sample_rate_hz,
    );
    (m, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pane::PaneSettings;
    use crate::dsp::window::WindowKind;
    use crate::render::freqmap::{FreqAxis, FreqScale};

    fn state(latency_panel: bool) -> ViewState {
        let pane = PaneSettings {
            frontend: None,
            params: StftParams {
                fft_size: 2048,
                win_length: 2048,
                hop_size: 512,
                window: WindowKind::Hann,
            },
            win_follows: true,
            axis: FreqAxis {
                scale: FreqScale::Linear,
                fmin_hz: 0.0,
                fmax_hz: 24_000.0,
            },
            mel: None,
        };
        ViewState {
            latency_panel,
            ..ViewState::new(vec![pane], 48_000)
        }
    }

    fn count(pixels: &[u32], colour: u32) -> usize {
        pixels.iter().filter(|&&p| p == colour).count()
    }

    #[test]
    fn l_shows_the_panel_with_its_bars_and_the_model_line() {
        let (capture, analysis) = (CaptureStats::default(), AnalysisStats::default());
        let sources = HudSources {
            source_label: "test",
            demo_fallback: false,
            capture: &capture,
            analysis: &analysis,
        };
        let mut meters = Meters::new();
        let t0 = Instant::now();
        // Rows captured 12 ms before the frames that showed them: p50 = p95 = 12 ms.
        for f in 0..30u64 {
            let at = t0 + Duration::from_millis(f * 16);
            meters.row_drawn(at - Duration::from_millis(12), at, at, (true, 1));
            meters.frame_presented(at, at);
        }
        let now = t0 + Duration::from_millis(29 * 16);
        let mut sizes = Vec::new();
        for panel_on in [true, false] {
            let mut hud = Hud::new(1280);
            hud.render(&state(panel_on), &sources, &mut meters, now);
            let (pixels, w, h) = hud.pixels();
            assert_eq!(pixels.len(), w * h);
            let bars = count(pixels, P50_COLOUR);
            if panel_on {
                // One bar: p50 12 ms of a 50 ms scale (the model's tone onset, 26.7 ms,
                // rounded up) is round(12/50·40) = 10 px tall, BAR_W − 6 wide, plus the
                // legend's "p50" text.
                assert_eq!(bars_top_ms(&hud.history, hud.model_tone_ms), 50.0);
                assert!(bars >= 10 * (BAR_W - 6), "{bars} p50 pixels");
                assert!(count(pixels, MODEL_COLOUR) >= PANEL_SECONDS * (BAR_W + BAR_GAP) - BAR_GAP);
                assert!(
                    hud.lines[PANEL_LINES.start].starts_with("LATENCY (L)  hop 512 = dt 10.67 ms")
                );
                assert!(hud.lines[PANEL_LINES.end - 1].contains("12.0 ms p50, 12.0 ms p95"));
            } else {
                assert_eq!(bars, 0);
                assert_eq!(count(pixels, MODEL_COLOUR), 0);
            }
            sizes.push(h);
        }
        assert!(sizes[0] > sizes[1], "{sizes:?}");
    }

    #[test]
    fn the_bars_keep_one_sample_a_second_and_scale_to_1_2_5() {
        let mut hud = Hud::new(640);
        let t0 = Instant::now();
        for (ms, p50) in [
            (0, 1.0),
            (400, 2.0),
            (1_000, 3.0),
            (1_999, 4.0),
            (2_000, 5.0),
        ] {
            hud.track_latency(Some((p50, 2.0 * p50)), t0 + Duration::from_millis(ms));
        }
        let kept: Vec<f64> = hud.history.iter().flatten().map(|s| s.0).collect();
        assert_eq!(kept, [1.0, 3.0, 5.0]);
        assert_eq!(hud.history[PANEL_SECONDS - 1], Some((5.0, 10.0)));
        assert_eq!(bars_top_ms(&hud.history, 0.0), 10.0);
        assert_eq!(bars_top_ms(&hud.history, 26.3), 50.0);
        assert_eq!(bars_top_ms(&hud.history, 123.0), 200.0);
        assert_eq!(bars_top_ms(&[None; PANEL_SECONDS], 0.4), 1.0);
        assert_eq!(bars_top_ms(&[Some((1.0, 20.0))], 0.0), 20.0);
        assert_eq!(bars_top_ms(&[Some((1.0, 501.0))], 0.0), 1000.0);
    }

    #[test]
    fn the_drop_line_turns_red_with_the_interval_rates_and_back_after_a_second() {
        let mut hud = Hud::new(1280);
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        hud.track_drops((1_000, 0), 0.0, at(0));
        hud.track_drops((13_000, 0), 0.1, at(250));
        assert_eq!(hud.dropping, None, "no row dropped yet, not behind");
        // 12 000 rows made in 250 ms, 4 000 of them dropped: 48 000/s made, 16 000/s dropped.
        hud.track_drops((25_000, 4_000), 0.0, at(500));
        let d = hud.dropping.expect("dropping");
        assert_eq!(d.at, at(500));
        assert!((d.made - 48_000.0).abs() < 1e-6 && (d.dropped - 16_000.0).abs() < 1e-6);
        // No more drops: still shown for a second, then cleared.
        hud.track_drops((37_000, 4_000), 0.0, at(1_500));
        assert!(hud.dropping.is_some());
        hud.track_drops((49_000, 4_000), 0.0, at(1_501));
        assert_eq!(hud.dropping, None);
        // No drop, but 0.8 s of audio waiting: behind, with the rate made (28 000/s).
        hud.track_drops((56_000, 4_000), 0.8, at(1_751));
        let d = hud.dropping.expect("behind");
        assert!(d.dropped == 0.0 && (d.made - 28_000.0).abs() < 1e-6 && d.behind_s == 0.8);
    }

    #[test]
    fn a_front_end_pane_has_its_own_latency_line_and_model() {
        let fe = crate::dsp::frontend::presets::by_name("whisper").expect("built in");
        let (m16, line) = frontend_latency(&fe, 16_000, 160);
        // Periodic Hann 400 at 16 kHz: ENBW 1.5 bins of 40 Hz; no resampler.
        assert!(
            line.starts_with("LATENCY (L)  hop 160 = dt 10.00 ms at 16000 Hz  df 60.00 Hz"),
            "{line}"
        );
        assert!(line.ends_with("resampler 0.0 ms"), "{line}");
        let direct = crate::dsp::latency::model_of_window(&fe.window, 160, 16_000, 160);
        assert_eq!(m16, direct);
        // From 48 kHz the resampler's delay is added to both events.
        let (m48, line) = frontend_latency(&fe, 48_000, 480);
        let extra = 1e3 * crate::dsp::resample::latency_s(48_000, 16_000);
        assert!((m48.tone_ms - m16.tone_ms - extra).abs() < 1e-9, "{line}");
        assert!((m48.click_ms - m16.click_ms - extra).abs() < 1e-9);
    }
}
