//! The live window (minifb, main thread): keys, rows → waterfall, chrome, HUD, cursor
//! readout, screenshots. The only module that names minifb.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use minifb::{KeyRepeat, MouseMode, Window, WindowOptions};

use crate::analysis::AnalysisLink;
use crate::audio::stats::CaptureStats;
use crate::config::DisplayConfig;
use crate::dsp::latency;
use crate::dsp::stft::StftParams;
use crate::dsp::window::WindowSums;
use crate::error::{Error, Result};
use crate::message::Control;
use crate::music::note_name;
use crate::render::chrome::{self, Layout, BACKGROUND, FOREGROUND};
use crate::render::colormap::{rgb, Colormap, ColormapKind, DbRange};
use crate::render::freqmap::{ColumnMap, FreqAxis};
use crate::render::png_out;
use crate::render::text::{text_width, Canvas};
use crate::render::waterfall::Waterfall;
use crate::ui::keys::{action_for, Key, ALL_KEYS, KEY_HELP};
use crate::ui::state::{Effect, ViewState};

/// Window title (what `xdotool search --name hopscope` finds).
pub const TITLE: &str = "hopscope";
/// Target display rate.
pub const FPS: usize = 60;
/// Waterfall history in screen widths (how long a pause can hold its view).
pub const HISTORY_SCREENS: usize = 4;

/// How often the HUD's numbers are re-rendered.
pub const HUD_REFRESH: Duration = Duration::from_millis(250);

const BANNER: u32 = rgb(255, 200, 40);
const HUD_BACKGROUND: u32 = rgb(10, 10, 14);
const MARKER: u32 = rgb(240, 240, 240);

fn to_minifb(key: Key) -> minifb::Key {
    match key {
        Key::Up => minifb::Key::Up,
        Key::Down => minifb::Key::Down,
        Key::Left => minifb::Key::Left,
        Key::Right => minifb::Key::Right,
        Key::W => minifb::Key::W,
        Key::F => minifb::Key::F,
        Key::C => minifb::Key::C,
        Key::LeftBracket => minifb::Key::LeftBracket,
        Key::RightBracket => minifb::Key::RightBracket,
        Key::Minus => minifb::Key::Minus,
        Key::Equal => minifb::Key::Equal,
        Key::Z => minifb::Key::Z,
        Key::X => minifb::Key::X,
        Key::Comma => minifb::Key::Comma,
        Key::Period => minifb::Key::Period,
        Key::Space => minifb::Key::Space,
        Key::S => minifb::Key::S,
        Key::H => minifb::Key::H,
        Key::I => minifb::Key::I,
        Key::Q => minifb::Key::Q,
        Key::Escape => minifb::Key::Escape,
    }
}

/// Opens the window (before audio starts, so a missing display fails fast).
///
/// # Errors
/// No display: one line naming `hopscope render` and `--headless`.
pub fn open(display: &DisplayConfig) -> Result<Window> {
    let mut window = Window::new(
        TITLE,
        display.width,
        display.height,
        WindowOptions {
            resize: true,
            // Our frame always matches the window: a plain copy, not minifb's default
            // per-pixel linear resize (which cost ~7 % of a core at 1280×720, 60 fps).
            scale_mode: minifb::ScaleMode::UpperLeft,
            ..WindowOptions::default()
        },
    )
    .map_err(|e| Error::NoDisplay(e.to_string().lines().next().unwrap_or("").to_string()))?;
    window.set_target_fps(FPS);
    Ok(window)
}

/// What the window shows besides the rows.
pub struct LiveInfo<'a> {
    /// Source label (device, file, DEMO SIGNAL).
    pub source_label: String,
    /// Whether live mode fell back to the demo for lack of a device.
    pub demo_fallback: bool,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
    /// Capture counters.
    pub capture: &'a CaptureStats,
    /// Where screenshots go.
    pub screenshot_dir: PathBuf,
    /// Close the window at this instant (`--duration`).
    pub deadline: Option<Instant>,
    /// Set by Ctrl-C.
    pub stop: &'a std::sync::atomic::AtomicBool,
}

/// Per-frame scratch and history that the loop keeps.
struct Scene {
    layout: Layout,
    pixels: Vec<u32>,
    waterfall: Waterfall,
    map: ColumnMap,
    map_fft_size: usize,
    column: Vec<f32>,
    acc: Vec<f32>,
    acc_count: u32,
    view_end: u64,
    /// Everything outside the plot that changes only with layout, axis, colours or range.
    chrome: Vec<u32>,
    chrome_key: Option<(FreqAxis, ColormapKind, DbRange)>,
    /// The HUD, rendered at most every [`HUD_REFRESH`] into an opaque box.
    hud: Vec<u32>,
    hud_size: (usize, usize),
    hud_at: Option<Instant>,
    help_shown: bool,
}

impl Scene {
    fn new(
        width: usize,
        height: usize,
        state: &ViewState,
        fft_size: usize,
        cmap: &Colormap,
    ) -> Scene {
        let layout = Layout::new(width, height);
        let (w, h) = (layout.plot.w, layout.plot.h);
        Scene {
            layout,
            pixels: vec![BACKGROUND; width * height],
            waterfall: Waterfall::new(w * HISTORY_SCREENS, h, cmap.lut()[0]),
            map: ColumnMap::new(&state.axis, h, fft_size, state.sample_rate_hz),
            map_fft_size: fft_size,
            column: vec![0.0; h],
            acc: vec![f32::NEG_INFINITY; h],
            acc_count: 0,
            view_end: 0,
            chrome: vec![BACKGROUND; width * height],
            chrome_key: None,
            hud: Vec::new(),
            hud_size: (0, 0),
            hud_at: None,
            help_shown: false,
        }
    }

    fn remap(&mut self, axis: &FreqAxis, fft_size: usize, sample_rate_hz: u32) {
        self.map = ColumnMap::new(axis, self.layout.plot.h, fft_size, sample_rate_hz);
        self.map_fft_size = fft_size;
    }
}

/// Rolling latency samples (capture of a row's last sample → its frame handed to the window).
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
        self.scratch.sort_by(f64::total_cmp);
        let n = self.scratch.len();
        Some((
            self.scratch[n / 2],
            self.scratch[((n * 95) / 100).min(n - 1)],
        ))
    }
}

fn change_label(old: &StftParams, new: &StftParams) -> String {
    let mut parts = Vec::new();
    if old.fft_size != new.fft_size {
        parts.push(format!("n_fft {}", new.fft_size));
    }
    if old.win_length != new.win_length && new.win_length != new.fft_size {
        parts.push(format!("win {}", new.win_length));
    }
    if old.hop_size != new.hop_size {
        parts.push(format!("hop {}", new.hop_size));
    }
    if old.window != new.window {
        parts.push(new.window.to_string());
    }
    if parts.is_empty() {
        "scale".into()
    } else {
        parts.join(" ")
    }
}

/// Runs the window until Q/Esc or the window is closed.
///
/// # Errors
/// The window system failed mid-run.
pub fn run(
    mut window: Window,
    link: &AnalysisLink,
    info: &LiveInfo<'_>,
    mut state: ViewState,
) -> Result<()> {
    let mut cmap = Colormap::new(state.colormap);
    let (mut width, mut height) = window.get_size();
    let mut scene = Scene::new(width, height, &state, state.params.fft_size, &cmap);
    let mut last_params = state.params;
    let mut last_generation = 0;
    let mut latency = LatencyWindow {
        samples: VecDeque::with_capacity(4096),
        scratch: Vec::with_capacity(4096),
    };
    // Rows drawn this frame: (captured, ready for the UI = max(finished, frame start)).
    let mut pending: Vec<(Instant, Instant)> = Vec::with_capacity(4096);
    let mut row_times: VecDeque<Instant> = VecDeque::with_capacity(8192);
    let mut hud_lines: Vec<String> = Vec::with_capacity(8);
    let mut screenshot = false;
    // Row → frame beyond the wait for the frame: present − max(row finished, frame start).
    let mut beyond_wait_ms: Vec<f32> = Vec::with_capacity(1 << 16);
    let mut draw_ms: Vec<f32> = Vec::with_capacity(1 << 14);
    let mut capture_ms: Vec<f32> = Vec::with_capacity(1 << 16);
    println!("{}", state.status_line());
    let mut shots: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let result = 'frames: loop {
        if !window.is_open()
            || info.stop.load(std::sync::atomic::Ordering::Relaxed)
            || info.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break Ok(());
        }
        let frame_start = Instant::now();
        // Keys.
        let shift = window.is_key_down(minifb::Key::LeftShift)
            || window.is_key_down(minifb::Key::RightShift);
        for key in ALL_KEYS {
            if !window.is_key_pressed(to_minifb(key), KeyRepeat::No) {
                continue;
            }
            let Some(action) = action_for(key, shift) else {
                continue;
            };
            let effect = state.apply(action);
            match effect {
                Effect::None => continue,
                Effect::Quit => break 'frames Ok(()),
                Effect::Screenshot => {
                    screenshot = true;
                    continue;
                }
                Effect::Params(p) => {
                    let _ = link.control.try_send(Control::SetParams(p));
                }
                Effect::Recolor => {
                    cmap = Colormap::new(state.colormap);
                    scene.waterfall.recolor(&cmap, state.range);
                }
                Effect::Remap => {
                    scene.remap(&state.axis, scene.map_fft_size, state.sample_rate_hz);
                    scene.waterfall.add_marker(format!(
                        "{} {:.0}-{:.0} Hz",
                        state.axis.scale,
                        state.axis.lo_hz(),
                        state.axis.fmax_hz
                    ));
                }
                Effect::Redraw => {}
            }
            scene.hud_at = None;
            println!("{}", state.status_line());
        }
        // Resize: a new layout and an empty history at the new size.
        let (w, h) = window.get_size();
        if (w, h) != (width, height) && w > 0 && h > 0 {
            (width, height) = (w, h);
            scene = Scene::new(width, height, &state, scene.map_fft_size, &cmap);
        }
        // Rows.
        for row in link.rows.try_iter() {
            if row.generation != last_generation || row.params.fft_size != scene.map_fft_size {
                if row.params != last_params {
                    scene
                        .waterfall
                        .add_marker(change_label(&last_params, &row.params));
                }
                if row.params.fft_size != scene.map_fft_size {
                    scene.remap(&state.axis, row.params.fft_size, row.sample_rate_hz);
                }
                last_generation = row.generation;
                last_params = row.params;
            }
            scene.map.apply(&row.bins, &mut scene.column);
            let time_s = (row.first_sample + row.params.win_length as u64) as f64
                / row.sample_rate_hz as f64;
            if state.zoom >= 0 {
                for _ in 0..(1u32 << state.zoom) {
                    scene
                        .waterfall
                        .push_column(&scene.column, time_s, &cmap, state.range);
                }
            } else {
                for (a, &v) in scene.acc.iter_mut().zip(&scene.column) {
                    *a = a.max(v);
                }
                scene.acc_count += 1;
                if scene.acc_count >= 1u32 << (-state.zoom) {
                    scene
                        .waterfall
                        .push_column(&scene.acc, time_s, &cmap, state.range);
                    scene.acc.fill(f32::NEG_INFINITY);
                    scene.acc_count = 0;
                }
            }
            if pending.len() < pending.capacity() {
                pending.push((row.captured_at, row.finished_at.max(frame_start)));
            }
            if row_times.len() == row_times.capacity() {
                row_times.pop_front();
            }
            row_times.push_back(row.finished_at);
            link.recycle(row);
        }
        if !state.paused {
            scene.view_end = scene.waterfall.next_serial();
        } else {
            // A pause longer than the history slides the frozen view just enough to stay
            // on held columns.
            let held_from = scene
                .waterfall
                .next_serial()
                .saturating_sub(scene.waterfall.capacity() as u64);
            scene.view_end = scene.view_end.max(held_from + scene.layout.plot.w as u64);
        }
        draw_frame(
            &mut scene,
            &state,
            &cmap,
            info,
            link,
            &mut latency,
            &row_times,
            &mut hud_lines,
            &window,
        );
        let presented = Instant::now();
        for (captured, ready) in pending.drain(..) {
            let ms = presented.saturating_duration_since(captured).as_secs_f64() * 1e3;
            latency.push(presented, ms);
            if capture_ms.len() < capture_ms.capacity() {
                capture_ms.push(ms as f32);
                beyond_wait_ms.push(presented.saturating_duration_since(ready).as_secs_f32() * 1e3);
            }
        }
        if draw_ms.len() < draw_ms.capacity() {
            draw_ms.push(presented.duration_since(frame_start).as_secs_f32() * 1e3);
        }
        if let Err(e) = window.update_with_buffer(&scene.pixels, width, height) {
            break Err(Error::Display(e.to_string()));
        }
        // Work no row waits for: refresh the HUD's numbers after the frame is handed over.
        let now = Instant::now();
        if state.hud
            && scene
                .hud_at
                .is_some_and(|t| now.duration_since(t) >= HUD_REFRESH)
        {
            scene.hud_at = Some(now);
            render_hud(
                &mut scene,
                &state,
                info,
                link,
                &mut latency,
                &row_times,
                &mut hud_lines,
                now,
            );
        }
        if screenshot {
            screenshot = false;
            // Encode off the UI thread: the frame loop never waits for the PNG.
            let (pixels, dir) = (scene.pixels.clone(), info.screenshot_dir.clone());
            let spawned = std::thread::Builder::new()
                .name("screenshot".into())
                .spawn(
                    move || match png_out::save_screenshot(&dir, &pixels, width, height) {
                        Ok(path) => println!("screenshot: {}", path.display()),
                        Err(e) => eprintln!("hopscope: screenshot failed: {e}"),
                    },
                );
            match spawned {
                Ok(handle) => shots.push(handle),
                Err(e) => eprintln!("hopscope: screenshot failed: {e}"),
            }
        }
    };
    // Never leave a half-written screenshot behind.
    for shot in shots {
        let _ = shot.join();
    }
    report_frame_timing(&beyond_wait_ms, &draw_ms, &capture_ms);
    result
}

/// Prints, at exit, on stderr: how long frames took to draw, how long rows waited beyond
/// the next display frame, and the capture → frame latency (the HUD's), over the run.
fn report_frame_timing(beyond_wait_ms: &[f32], draw_ms: &[f32], capture_ms: &[f32]) {
    let pct = |v: &[f32], q: f64| -> f32 {
        let mut s = v.to_vec();
        s.sort_by(f32::total_cmp);
        s.get(((s.len() as f64 * q) as usize).min(s.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    if draw_ms.is_empty() {
        return;
    }
    eprintln!(
        "hopscope: window: {} frames, draw p50 {:.2} ms p99 {:.2} ms; {} rows, row ready -> frame handed over (beyond the frame wait) p50 {:.2} ms p99 {:.2} ms; capture -> frame (the HUD's measured latency) p50 {:.2} ms p95 {:.2} ms",
        draw_ms.len(),
        pct(draw_ms, 0.5),
        pct(draw_ms, 0.99),
        beyond_wait_ms.len(),
        pct(beyond_wait_ms, 0.5),
        pct(beyond_wait_ms, 0.99),
        pct(capture_ms, 0.5),
        pct(capture_ms, 0.95)
    );
}

#[allow(clippy::too_many_arguments)]
fn render_hud(
    scene: &mut Scene,
    state: &ViewState,
    info: &LiveInfo<'_>,
    link: &AnalysisLink,
    latency: &mut LatencyWindow,
    row_times: &VecDeque<Instant>,
    hud: &mut Vec<String>,
    now: Instant,
) {
    let p = state.params;
    let sr = info.sample_rate_hz as f64;
    let sums = WindowSums::of(p.window, p.win_length);
    let cap = info.capture.snapshot();
    // The audio buffer as delivered: the mean callback length.
    let buffer_frames = cap.frames_captured.checked_div(cap.callbacks).unwrap_or(0) as usize;
    let model = latency::model(&p, info.sample_rate_hz, buffer_frames);
    let ana = link.stats.snapshot();
    let rows_per_s = row_times
        .iter()
        .rev()
        .take_while(|t| now.duration_since(**t) <= Duration::from_secs(1))
        .count();
    let measured = match latency.percentiles(now) {
        Some((p50, p95)) => format!("{p50:.1} ms p50, {p95:.1} ms p95"),
        None => "n/a".into(),
    };
    hud.clear();
    hud.push(format!(
        "{} Hz  n_fft {}  win {} ({:.1} ms)  hop {} ({:.2} ms)  overlap {:.1}%  {}",
        info.sample_rate_hz,
        p.fft_size,
        p.win_length,
        p.win_length as f64 * 1e3 / sr,
        p.hop_size,
        p.hop_size as f64 * 1e3 / sr,
        100.0 * (1.0 - p.hop_size as f64 / p.win_length as f64),
        p.window
    ));
    hud.push(format!(
        "bin {:.2} Hz  resolution (ENBW) {:.2} Hz  rows {rows_per_s}/s",
        sr / p.fft_size as f64,
        sums.enbw_bins() * sr / p.win_length as f64
    ));
    hud.push(format!("latency measured (capture -> frame): {measured}"));
    hud.push(format!(
        "latency model: click {:.1} ms, tone onset {:.1} ms (-6 dB), buffer {:.1} ms",
        model.click_ms, model.tone_ms, model.buffer_ms
    ));
    hud.push(format!(
        "dropped: samples {}  rows {}  stream errors {}{}",
        cap.frames_dropped,
        ana.rows_dropped,
        cap.stream_errors,
        if state.paused {
            "   PAUSED (capture continues)"
        } else {
            ""
        }
    ));
    let banner = if info.demo_fallback {
        "DEMO SIGNAL - no input device".to_string()
    } else {
        info.source_label.clone()
    };
    let lines_w = hud.iter().map(|l| text_width(l, 1)).max().unwrap_or(0);
    // The banner is large when it fits the HUD's width (long device names stay small).
    let banner_scale = if text_width(&banner, 2) <= lines_w {
        2
    } else {
        1
    };
    let box_w = lines_w.max(text_width(&banner, banner_scale)) + 12;
    let box_h = 16 + 6 + hud.len() * 11 + 6;
    scene.hud.clear();
    scene.hud.resize(box_w * box_h, HUD_BACKGROUND);
    scene.hud_size = (box_w, box_h);
    let mut c = Canvas {
        pixels: &mut scene.hud,
        width: box_w,
        height: box_h,
    };
    let color = if info.demo_fallback {
        BANNER
    } else {
        FOREGROUND
    };
    c.text(6, 5, &banner, color, banner_scale);
    for (i, line) in hud.iter().enumerate() {
        c.text(6, 26 + (i * 11) as i64, line, FOREGROUND, 1);
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_frame(
    scene: &mut Scene,
    state: &ViewState,
    cmap: &Colormap,
    info: &LiveInfo<'_>,
    link: &AnalysisLink,
    latency: &mut LatencyWindow,
    row_times: &VecDeque<Instant>,
    hud: &mut Vec<String>,
    window: &Window,
) {
    let layout = scene.layout;
    let plot = layout.plot;
    let (width, height) = (layout.width, layout.height);
    let background = cmap.lut()[0];
    scene.waterfall.compose_into(
        &mut scene.pixels,
        width,
        plot.x,
        plot.y,
        plot.w,
        scene.view_end,
        background,
    );
    // Time ticks from the columns' stream times: newest visible column = 0 s.
    let newest = scene
        .view_end
        .checked_sub(1)
        .and_then(|s| scene.waterfall.time_s(s));
    let mut ticks: Vec<(usize, String)> = Vec::new();
    if let Some(t_end) = newest {
        let oldest_serial = scene.view_end.saturating_sub(plot.w as u64);
        let t_start = scene
            .waterfall
            .time_s(oldest_serial)
            .filter(|t| t.is_finite())
            .unwrap_or(t_end);
        let span = (t_end - t_start).max(1e-3);
        // Over the columns actually spanned (fewer than plot.w while history fills).
        let spanned = scene.view_end.saturating_sub(oldest_serial).max(1);
        let (step, decimals) = chrome::time_step(span * 110.0 / spanned as f64);
        let mut next_tick = step;
        for x in (0..plot.w).rev() {
            let serial = scene.view_end as i64 - (plot.w - x) as i64;
            let Some(t) = (serial >= 0)
                .then(|| scene.waterfall.time_s(serial as u64))
                .flatten()
            else {
                break;
            };
            if t_end - t >= next_tick - 1e-9 {
                ticks.push((x, format!("-{next_tick:.decimals$}s")));
                next_tick += step;
            }
        }
    }
    let title = format!(
        "{}   {} Hz   {}{}",
        info.source_label,
        info.sample_rate_hz,
        state.axis.scale,
        if state.paused { "   [PAUSED]" } else { "" }
    );
    let key = (state.axis, state.colormap, state.range);
    // Side margins change only with the chrome (or under the help overlay); the title
    // and time-tick strips are redrawn every frame.
    let full_margins = scene.chrome_key != Some(key) || state.help || scene.help_shown;
    scene.help_shown = state.help;
    if scene.chrome_key != Some(key) {
        scene.chrome.fill(BACKGROUND);
        let mut c = Canvas {
            pixels: &mut scene.chrome,
            width,
            height,
        };
        chrome::draw(&mut c, &layout, &state.axis, cmap, state.range, &[], "");
        scene.chrome_key = Some(key);
    }
    if full_margins {
        chrome::copy_margins(&mut scene.pixels, &scene.chrome, &layout);
    } else {
        chrome::copy_strips(&mut scene.pixels, &scene.chrome, &layout);
    }
    let mut canvas = Canvas {
        pixels: &mut scene.pixels,
        width,
        height,
    };
    chrome::draw_title(&mut canvas, &title);
    chrome::draw_time_ticks(&mut canvas, &layout, &ticks);
    // Parameter-change markers.
    for m in scene.waterfall.markers() {
        if m.column >= scene.view_end || m.column + plot.w as u64 <= scene.view_end {
            continue;
        }
        // Stagger labels so quick successive changes stay readable.
        let label_y = (plot.y + plot.h) as i64 - 11 - 12 * i64::from(m.lane);
        let x = (plot.x + plot.w) as i64 - (scene.view_end - m.column) as i64;
        for y in (plot.y..plot.y + plot.h).step_by(3) {
            canvas.put(x, y as i64, MARKER);
        }
        let lw = text_width(&m.label, 1);
        // The shade box is 1 px wider than the text on each side: keep it in the plot.
        let lx = (x + 3).min((plot.x + plot.w - lw - 1) as i64);
        canvas.shade_rect(lx - 1, label_y - 1, lw + 2, 11);
        canvas.text(lx, label_y, &m.label, MARKER, 1);
    }
    // HUD: re-rendered every HUD_REFRESH (or after a change), blitted every frame.
    if state.hud {
        if scene.hud_at.is_none() {
            // After a change: render now (otherwise it is refreshed after presenting).
            let now = Instant::now();
            scene.hud_at = Some(now);
            render_hud(scene, state, info, link, latency, row_times, hud, now);
        }
        let (hw, hh) = scene.hud_size;
        let (x0, y0) = (plot.x + 6, plot.y + 6);
        let w = hw.min((plot.x + plot.w).saturating_sub(x0));
        for r in 0..hh.min((plot.y + plot.h).saturating_sub(y0)) {
            let d = (y0 + r) * width + x0;
            scene.pixels[d..d + w].copy_from_slice(&scene.hud[r * hw..r * hw + w]);
        }
    }
    let mut canvas = Canvas {
        pixels: &mut scene.pixels,
        width,
        height,
    };
    // Cursor readout.
    if let Some((mx, my)) = window.get_mouse_pos(MouseMode::Discard) {
        let (mx, my) = (mx as usize, my as usize);
        if plot.contains(mx, my) {
            let serial = scene.view_end as i64 - (plot.x + plot.w - mx) as i64;
            let row = my - plot.y;
            let frac = ((plot.y + plot.h - my) as f64 - 0.5) / plot.h as f64;
            let hz = state.axis.frac_to_hz(frac);
            let value = (serial >= 0)
                .then(|| scene.waterfall.value(serial as u64, row))
                .flatten();
            let t = (serial >= 0)
                .then(|| scene.waterfall.time_s(serial as u64))
                .flatten();
            let t_end = scene
                .view_end
                .checked_sub(1)
                .and_then(|s| scene.waterfall.time_s(s));
            if let (Some(v), Some(t), Some(t_end)) = (value, t, t_end) {
                let text = format!(
                    "{:+.3} s  {:.1} Hz  {}  {:.1} dBFS",
                    t - t_end,
                    hz,
                    note_name(hz).unwrap_or_default(),
                    v
                );
                let tw = text_width(&text, 1);
                let tx = if mx + 14 + tw < plot.x + plot.w {
                    mx + 14
                } else {
                    // Never into the side margins, which are not redrawn every frame.
                    mx.saturating_sub(tw + 14).max(plot.x + 3)
                };
                let ty = if my > plot.y + 16 { my - 14 } else { my + 14 };
                canvas.shade_rect(tx as i64 - 3, ty as i64 - 3, tw + 6, 14);
                canvas.text(tx as i64, ty as i64, &text, FOREGROUND, 1);
            }
        }
    }
    // Help overlay.
    if state.help {
        let scale = if width >= 1100 && height >= 500 { 2 } else { 1 };
        let line_h = (10 * scale) as i64;
        let lines: Vec<String> = KEY_HELP
            .iter()
            .map(|(k, d)| format!("{k:<14} {d}"))
            .collect();
        let box_w = lines
            .iter()
            .map(|l| text_width(l, scale))
            .max()
            .unwrap_or(0)
            + 24;
        let box_h = (lines.len() + 2) * 10 * scale + 12;
        let x0 = (width.saturating_sub(box_w) / 2) as i64;
        let y0 = (height.saturating_sub(box_h) / 2) as i64;
        canvas.shade_rect(x0, y0, box_w, box_h);
        canvas.text(x0 + 12, y0 + 10, "hopscope keys", BANNER, scale);
        for (i, line) in lines.iter().enumerate() {
            canvas.text(
                x0 + 12,
                y0 + 10 + line_h * (i as i64 + 2),
                line,
                FOREGROUND,
                scale,
            );
        }
    }
}
