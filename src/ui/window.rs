//! The live window (minifb, main thread): keys, rows → waterfall, chrome, HUD, cursor
//! readout, screenshots. The only module that names minifb.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use minifb::{MouseMode, Window, WindowOptions};

use crate::analysis::history::SharedHistory;
use crate::analysis::message::{Control, SpectrumRow, MAX_PANES};
use crate::analysis::AnalysisLink;
use crate::audio::health::{InputHealth, InputState};
use crate::audio::stats::CaptureStats;
use crate::config::DisplayConfig;
use crate::dsp::latency;
use crate::dsp::music::note_name;
use crate::dsp::stft::StftParams;
use crate::dsp::window::WindowSums;
use crate::error::{Error, Result};
use crate::io::{atomic, png};
use crate::render::chrome::{self, Layout, Rect, BACKGROUND, FOREGROUND};
use crate::render::colormap::{rgb, Colormap, ColormapKind, DbRange};
use crate::render::freqmap::{mel_axis, ColumnMap, FreqAxis};
use crate::render::text::{text_width, Canvas};
use crate::render::waterfall::{View, Waterfall};
use crate::ui::input::{KeyEvents, Press};
use crate::ui::keys::{action_for, KEY_HELP};
use crate::ui::present::{self, Blit, Presenter};
use crate::ui::rerender::{self, RerenderLink, RerenderRequest, Rerendered};
use crate::ui::state::{Effect, PaneSettings, ViewState};

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
/// The NO INPUT banner's background (white text on it).
pub const NO_INPUT: u32 = rgb(200, 30, 30);
const WHITE: u32 = rgb(255, 255, 255);
/// The NO INPUT banner's height, px.
const NO_INPUT_H: usize = 24;
const MARKER: u32 = rgb(240, 240, 240);
/// Arm of the linked cursor's cross, px.
const CROSS_ARM: usize = 4;

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
    /// Capture counters.
    pub capture: &'a CaptureStats,
    /// The live device's health (`None` for --file and --demo, which cannot fail).
    pub health: Option<&'a InputHealth>,
    /// Where screenshots go.
    pub screenshot_dir: PathBuf,
    /// Close the window at this instant (`--duration`).
    pub deadline: Option<Instant>,
    /// Set by Ctrl-C.
    pub stop: &'a std::sync::atomic::AtomicBool,
    /// The analysed mono signal's recent past, for re-rendering (`None`: off).
    pub history: Option<SharedHistory>,
    /// Where snapshots go.
    pub snapshot_dir: PathBuf,
    /// Seconds of audio a snapshot keeps.
    pub snapshot_s: f64,
    /// Seconds of history a suggestion (G) ranks over.
    pub suggest_s: f64,
    /// Channel analysed (`None`: the mix), for the snapshot's parameters.
    pub channel: Option<usize>,
}

/// The frequency axis pane settings `s` are drawn on: the mel bands' own axis in the mel
/// view (band i's centre in the middle of stripe i).
pub fn display_axis(s: &PaneSettings) -> FreqAxis {
    match s.mel {
        Some(mel) => mel_axis(&mel.spec(&s.axis)),
        None => s.axis,
    }
}

/// The bins → pixels map of pane settings `s` for rows of `fft_size`.
fn column_map(s: &PaneSettings, height: usize, fft_size: usize, sample_rate_hz: u32) -> ColumnMap {
    match s.mel {
        Some(mel) => ColumnMap::mel(&mel.spec(&s.axis), height, fft_size, sample_rate_hz),
        None => ColumnMap::new(&s.axis, height, fft_size, sample_rate_hz),
    }
}

/// What a pane's axis and scale text say: `linear`, `mel 128 slaney`.
fn scale_label(s: &PaneSettings) -> String {
    match s.mel {
        Some(mel) => format!("mel {}", mel.label()),
        None => s.axis.scale.to_string(),
    }
}

/// One pane: a full-width band of the frame with its own layout (label line, frequency
/// axis, plot, time ticks, colour bar), waterfall and column map. Its rows come from its
/// own STFT in the analysis thread.
struct Pane {
    /// First frame row of the band; the band is `layout.height` rows.
    y0: usize,
    /// The band's layout, in band coordinates.
    layout: Layout,
    waterfall: Waterfall,
    map: ColumnMap,
    map_fft_size: usize,
    column: Vec<f32>,
    /// Rows folded into the next column while time is compressed.
    zoom_acc: ZoomAcc,
    view_end: u64,
    /// Everything outside the plot that changes only with layout, axis, colours or range.
    chrome: Vec<u32>,
    /// What the chrome was drawn for: axis, colours, range, and whether it shows mel bands.
    chrome_key: Option<(FreqAxis, ColormapKind, DbRange, bool)>,
    /// Parameters of the newest row drawn (`None`: none yet).
    last_params: Option<StftParams>,
    /// End sample (exclusive) of the newest row drawn.
    last_row_end: Option<u64>,
    /// The re-render in flight.
    rerender: Option<PendingRerender>,
}

impl Pane {
    fn new(
        y0: usize,
        width: usize,
        height: usize,
        settings: &PaneSettings,
        sample_rate_hz: u32,
        cmap: &Colormap,
    ) -> Pane {
        let layout = Layout::new(width, height);
        let (w, h) = (layout.plot.w, layout.plot.h);
        let fft_size = settings.params.fft_size;
        Pane {
            y0,
            layout,
            waterfall: Waterfall::new(w * HISTORY_SCREENS, h, cmap.lut()[0]),
            map: column_map(settings, h, fft_size, sample_rate_hz),
            map_fft_size: fft_size,
            column: vec![0.0; h],
            zoom_acc: ZoomAcc {
                max: vec![f32::NEG_INFINITY; h],
                count: 0,
            },
            view_end: 0,
            chrome: vec![BACKGROUND; width * height],
            chrome_key: None,
            last_params: None,
            last_row_end: None,
            rerender: None,
        }
    }

    fn remap(&mut self, settings: &PaneSettings, fft_size: usize, sample_rate_hz: u32) {
        self.map = column_map(settings, self.layout.plot.h, fft_size, sample_rate_hz);
        self.map_fft_size = fft_size;
    }

    /// The frame's rows `[y0, y0 + height)`: the band this pane draws into.
    fn band<'a>(&self, frame: &'a mut [u32]) -> &'a mut [u32] {
        let w = self.layout.width;
        &mut frame[self.y0 * w..(self.y0 + self.layout.height) * w]
    }
}

/// Per-frame scratch and the panes that the loop keeps.
struct Scene {
    width: usize,
    height: usize,
    /// The frame (shared with the X server when MIT-SHM is available).
    surface: Presenter,
    /// What the server copies this frame (server-side presentation).
    blits: Vec<Blit>,
    /// The panes, top to bottom (waterfall image `i` of the presenter is pane `i`'s).
    panes: Vec<Pane>,
    /// The HUD, rendered at most every [`HUD_REFRESH`] into an opaque box.
    hud: Vec<u32>,
    hud_size: (usize, usize),
    hud_at: Option<Instant>,
    help_shown: bool,
}

impl Scene {
    fn new(
        window: &Window,
        width: usize,
        height: usize,
        state: &ViewState,
        cmap: &Colormap,
    ) -> Scene {
        let n = state.pane_count();
        let band = (height / n).max(1);
        let panes = (0..n)
            .map(|i| {
                // The last band takes the rows the division leaves.
                let h = if i + 1 == n { height - band * i } else { band };
                Pane::new(
                    band * i,
                    width,
                    h,
                    &state.pane(i),
                    state.sample_rate_hz,
                    cmap,
                )
            })
            .collect();
        Scene {
            width,
            height,
            surface: Presenter::new(window, width, height, BACKGROUND),
            blits: Vec::with_capacity(64 * n),
            panes,
            hud: Vec::new(),
            hud_size: (0, 0),
            hud_at: None,
            help_shown: false,
        }
    }
}

/// Copies what a snapshot needs (the newest history, the visible columns) and writes it
/// on a `snapshot` thread, which prints the folder. `None` when there is nothing to save.
fn start_snapshot(
    pane: &Pane,
    settings: &PaneSettings,
    info: &LiveInfo<'_>,
    params: &StftParams,
    sample_rate_hz: u32,
    notices: &Sender<String>,
) -> Option<std::thread::JoinHandle<()>> {
    let Some(history) = &info.history else {
        notify(notices, "snapshot: no history is kept (--history 0)".into());
        return None;
    };
    let want = (info.snapshot_s * f64::from(sample_rate_hz)).round() as u64;
    let (first_sample, samples) = history.lock().ok()?.newest(want);
    let wf = &pane.waterfall;
    let plot = pane.layout.plot;
    let height = wf.height();
    let mut display = Vec::with_capacity(plot.w * height);
    let mut column = vec![0.0; height];
    for serial in pane.view_end.saturating_sub(plot.w as u64)..pane.view_end {
        if wf.column(serial, &mut column) {
            display.extend_from_slice(&column);
        }
    }
    let snap = crate::offline::snapshot::Snapshot {
        dir: info.snapshot_dir.clone(),
        samples,
        first_sample,
        sample_rate_hz,
        params: *params,
        channel: info.channel,
        display,
        display_height: height,
        display_axis: format!(
            "{} {:.0}-{:.0} Hz, {} px",
            scale_label(settings),
            settings.axis.lo_hz(),
            settings.axis.fmax_hz,
            height
        ),
    };
    let done = notices.clone();
    let spawned = std::thread::Builder::new()
        .name("snapshot".into())
        .spawn(move || match crate::offline::snapshot::write(&snap) {
            Ok(path) => println!("snapshot: {}", path.display()),
            Err(e) => notify(&done, format!("snapshot failed: {e}")),
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(e) => {
            notify(notices, format!("snapshot failed: {e}"));
            None
        }
    }
}

/// Says a failure of a background job (P, E) on stderr and in the window.
fn notify(notices: &Sender<String>, message: String) {
    eprintln!("hopscope: {message}");
    // A full channel means the window has more notices than it can show.
    let _ = notices.try_send(message);
}

/// How long a notice stays on screen.
const NOTICE_FOR: Duration = Duration::from_secs(6);
/// A notice's background (white text on it).
const NOTICE: u32 = rgb(150, 40, 20);

/// Writes `hopscope-params-STAMP[-N].json` (and its snippets) for the rows on screen into
/// the snapshot directory, never overwriting, and prints the path.
fn export_params(
    info: &LiveInfo<'_>,
    params: &StftParams,
    settings: &PaneSettings,
    sample_rate_hz: u32,
    notices: &Sender<String>,
) {
    let Some(path) = atomic::stamped_names("hopscope-params", ".json")
        .map(|name| info.snapshot_dir.join(name))
        .find(|p| !p.exists())
    else {
        notify(notices, "export: no free file name".into());
        return;
    };
    // The mel view exports its filterbank: the rows on screen are those mel rows.
    let filterbank = settings.mel.map(|mel| {
        crate::dsp::mel::MelFilterbank::new(
            mel.spec(&settings.axis),
            sample_rate_hz,
            params.fft_size,
        )
    });
    let spec = crate::offline::export::ExportSpec {
        sample_rate_hz,
        params: *params,
        center: false,
        scale: crate::dsp::scale::ValueScale::Db,
        mel: filterbank.as_ref(),
        channel: info.channel,
    };
    match crate::offline::export::write(&path, &spec) {
        Ok(_) => println!(
            "export: {}",
            std::path::absolute(&path).unwrap_or(path).display()
        ),
        Err(e) => notify(notices, format!("export failed: {e}")),
    }
}

/// Ranks n_fft (256..16384, the current window, hop = n_fft × the current hop ratio) by
/// Rényi entropy over the last `--suggest-seconds` of history on a `suggest` thread,
/// which prints the table and sends the best parameters back for A.
fn start_suggest(
    info: &LiveInfo<'_>,
    params: &StftParams,
    sample_rate_hz: u32,
    results: &crossbeam_channel::Sender<StftParams>,
) -> Option<std::thread::JoinHandle<()>> {
    let Some(history) = &info.history else {
        eprintln!("hopscope: suggest: no history is kept (--history 0)");
        return None;
    };
    let want = (info.suggest_s * f64::from(sample_rate_hz)) as u64;
    let (_, samples) = history.lock().ok()?.newest(want);
    let (params, sr, results) = (*params, sample_rate_hz, results.clone());
    let spawned = std::thread::Builder::new()
        .name("suggest".into())
        .spawn(move || {
            use crate::dsp::entropy::Grid;
            use crate::offline::suggest::{candidates, score};
            let grid = Grid::HopRatio(params.hop_size as f64 / params.fft_size as f64);
            let cands = candidates(&[params.window], grid, 256, 16384, samples.len());
            if cands.is_empty() {
                println!("suggest: not enough history yet");
                return;
            }
            let scores = score(&samples, &cands, grid, 1);
            println!(
                "suggest: last {:.1} s, window {}, hop = n_fft x {}: n_fft, entropy bits, bin Hz, hop ms, rank",
                samples.len() as f64 / f64::from(sr),
                params.window,
                params.hop_size as f64 / params.fft_size as f64
            );
            for s in &scores {
                println!(
                    "suggest: {:>6} {:>8.3} {:>8.2} {:>8.3} {:>3}",
                    s.params.fft_size,
                    s.bits,
                    f64::from(sr) / s.params.fft_size as f64,
                    s.params.hop_size as f64 * 1e3 / f64::from(sr),
                    s.rank
                );
            }
            if let Some(best) = scores.iter().find(|s| s.rank == 1) {
                let b = best.params;
                println!(
                    "suggest: best n_fft={} win_length={} hop={} window={} (A applies)",
                    b.fft_size, b.win_length, b.hop_size, b.window
                );
                let _ = results.try_send(b);
            }
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(e) => {
            eprintln!("hopscope: suggest failed: {e}");
            None
        }
    }
}

/// Rows folded into one column while time is compressed (zoom < 0).
struct ZoomAcc {
    max: Vec<f32>,
    count: u32,
}

/// Pushes one row's column: `2^zoom` copies when stretched, or the maximum of `2^−zoom`
/// rows when compressed (peaks survive).
#[allow(clippy::too_many_arguments)]
fn push_row(
    waterfall: &mut Waterfall,
    acc: &mut ZoomAcc,
    column: &[f32],
    time_s: f64,
    zoom: i32,
    cmap: &Colormap,
    range: DbRange,
) {
    if zoom >= 0 {
        for _ in 0..(1u32 << zoom) {
            waterfall.push_column(column, time_s, cmap, range);
        }
    } else {
        for (a, &v) in acc.max.iter_mut().zip(column) {
            *a = a.max(v);
        }
        acc.count += 1;
        if acc.count >= 1u32 << (-zoom) {
            waterfall.push_column(&acc.max, time_s, cmap, range);
            acc.max.fill(f32::NEG_INFINITY);
            acc.count = 0;
        }
    }
}

/// Draws the gap in the input before `row` as hatched columns: as many as the rows
/// the gap's real duration would have made (at the pane's zoom), at most a screenful.
fn push_gap(
    waterfall: &mut Waterfall,
    row: &SpectrumRow,
    zoom: i32,
    cmap: &Colormap,
    range: DbRange,
) {
    let hop = row.params.hop_size as u64;
    let rows = row.gap_before / hop.max(1);
    let columns = if zoom >= 0 {
        rows << zoom
    } else {
        rows >> (-zoom)
    }
    .clamp(1, waterfall.capacity() as u64);
    let rate = f64::from(row.sample_rate_hz.max(1));
    let start = row.first_sample.saturating_sub(row.gap_before) as f64;
    let step = row.gap_before as f64 / columns as f64;
    for k in 0..columns {
        waterfall.push_gap((start + (k + 1) as f64 * step) / rate, cmap, range);
    }
}

/// A re-render in flight: its id and the first waterfall column drawn with the new
/// parameters (everything before it will be replaced).
struct PendingRerender {
    id: u64,
    cut_serial: u64,
}

/// Asks the `rerender` thread for the rows before `first_end` under `params` and the
/// current axis, enough to fill the waterfall's history.
fn request_rerender(
    pane: &mut Pane,
    index: usize,
    link: Option<&mut RerenderLink>,
    params: StftParams,
    first_end: u64,
    state: &ViewState,
) {
    let zoom = state.pane_zoom(index);
    let Some(link) = link else { return };
    link.sent += 1;
    let id = link.sent;
    let capacity = pane.waterfall.capacity();
    let max_rows = if zoom >= 0 {
        capacity >> zoom
    } else {
        capacity << (-zoom)
    };
    let request = RerenderRequest {
        id,
        pane: index,
        params,
        map: pane.map.clone(),
        first_end,
        max_rows,
        sample_rate_hz: state.sample_rate_hz,
    };
    if link.requests.try_send(request).is_ok() {
        pane.rerender = Some(PendingRerender {
            id,
            cut_serial: pane.waterfall.next_serial(),
        });
    }
}

/// Replaces the waterfall with the re-rendered rows followed by the columns drawn since
/// the change (and their markers); a paused view stays on the same moment.
fn rebuild_history(
    pane: &mut Pane,
    surface: &mut Presenter,
    done: &Rerendered,
    pending: &PendingRerender,
    state: &ViewState,
    cmap: &Colormap,
) {
    let old = &pane.waterfall;
    if done.height != old.height() {
        return; // the window was resized meanwhile
    }
    let paused_time = state
        .paused
        .then(|| pane.view_end.checked_sub(1).and_then(|s| old.time_s(s)))
        .flatten();
    let mut fresh = Waterfall::new(old.capacity(), old.height(), cmap.lut()[0]);
    let mut acc = ZoomAcc {
        max: vec![f32::NEG_INFINITY; old.height()],
        count: 0,
    };
    for (column, &t) in done
        .columns
        .chunks_exact(done.height.max(1))
        .zip(&done.times_s)
    {
        push_row(
            &mut fresh,
            &mut acc,
            column,
            t,
            state.pane_zoom(done.pane),
            cmap,
            state.range,
        );
    }
    let mut column = vec![0.0; old.height()];
    for serial in pending.cut_serial..old.next_serial() {
        let Some(t) = old.time_s(serial) else {
            continue;
        };
        if !old.column(serial, &mut column) {
            continue;
        }
        for m in old.markers() {
            if m.column == serial && serial != pending.cut_serial {
                fresh.add_marker(m.label.clone());
            }
        }
        fresh.push_column(&column, t, cmap, state.range);
    }
    pane.waterfall = fresh;
    surface.invalidate_waterfall(done.pane);
    if let Some(t) = paused_time {
        // The newest column at or before the moment the paused view ended on.
        let w = &pane.waterfall;
        let first = w.next_serial().saturating_sub(w.capacity() as u64);
        pane.view_end = (first..w.next_serial())
            .rev()
            .find(|&s| w.time_s(s).is_some_and(|ts| ts <= t + 1e-9))
            .map_or(w.next_serial(), |s| s + 1);
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
    let mut scene = Scene::new(&window, width, height, &state, &cmap);
    // The pane set rows must belong to (see `Control::SetPanes`).
    let mut layout_epoch = 0u64;
    // History re-rendering (when the live source keeps a history).
    let (rerender_thread, mut rerender) = match info.history.clone().map(rerender::spawn) {
        Some(Ok((handle, link))) => (Some(handle), Some(link)),
        Some(Err(e)) => {
            eprintln!("hopscope: history re-rendering is off: {e}");
            (None, None)
        }
        None => (None, None),
    };
    // Suggestions computed in the background (G), applied with A.
    let (suggest_tx, suggest_rx) = crossbeam_channel::bounded::<StftParams>(4);
    // Failures of background jobs, shown for NOTICE_FOR.
    let (notice_tx, notice_rx) = crossbeam_channel::bounded::<String>(8);
    let mut notice: Option<(String, Instant)> = None;
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
    let keys = KeyEvents::install(&mut window);
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
        // Keys, every press since the last frame in order (see `ui::input`).
        let presses = keys.take();
        let zooms_before: [i32; MAX_PANES] = std::array::from_fn(|i| {
            if i < state.pane_count() {
                state.pane_zoom(i)
            } else {
                0
            }
        });
        for &Press { key, shift } in presses.as_slice() {
            let Some(action) = action_for(key, shift) else {
                continue;
            };
            let effect = state.apply(action);
            let focus = state.focus;
            match effect {
                Effect::None => continue,
                Effect::Quit => break 'frames Ok(()),
                Effect::Screenshot => {
                    screenshot = true;
                    continue;
                }
                Effect::Snapshot => {
                    let pane = &scene.panes[focus];
                    let params = pane.last_params.unwrap_or(state.params);
                    if let Some(handle) = start_snapshot(
                        pane,
                        &state.focused(),
                        info,
                        &params,
                        state.sample_rate_hz,
                        &notice_tx,
                    ) {
                        shots.push(handle);
                    }
                    continue;
                }
                Effect::Export => {
                    let params = scene.panes[focus].last_params.unwrap_or(state.params);
                    export_params(
                        info,
                        &params,
                        &state.focused(),
                        state.sample_rate_hz,
                        &notice_tx,
                    );
                    continue;
                }
                Effect::Suggest => {
                    let params = scene.panes[focus].last_params.unwrap_or(state.params);
                    if let Some(handle) =
                        start_suggest(info, &params, state.sample_rate_hz, &suggest_tx)
                    {
                        shots.push(handle);
                    }
                    continue;
                }
                Effect::Params(p) => {
                    link.control.send(Control::SetParams(focus, p));
                }
                Effect::Panes => {
                    layout_epoch += 1;
                    let mut params = [state.params; MAX_PANES];
                    for (i, p) in params.iter_mut().enumerate().take(state.pane_count()) {
                        *p = state.pane(i).params;
                    }
                    link.control.send(Control::SetPanes {
                        layout: layout_epoch,
                        count: state.pane_count(),
                        params,
                    });
                    // Fresh panes; each re-renders the history with its first row.
                    drop(scene);
                    scene = Scene::new(&window, width, height, &state, &cmap);
                }
                Effect::Recolor => {
                    cmap = Colormap::new(state.colormap);
                    for pane in &mut scene.panes {
                        pane.waterfall.recolor(&cmap, state.range);
                    }
                }
                Effect::Remap => {
                    let settings = state.focused();
                    let pane = &mut scene.panes[focus];
                    pane.remap(&settings, pane.map_fft_size, state.sample_rate_hz);
                    let axis = display_axis(&settings);
                    pane.waterfall.add_marker(format!(
                        "{} {:.0}-{:.0} Hz",
                        scale_label(&settings),
                        axis.lo_hz(),
                        axis.fmax_hz
                    ));
                    if let (true, Some(end), Some(p)) =
                        (state.rerender, pane.last_row_end, pane.last_params)
                    {
                        // The history on the new axis, up to the newest row drawn.
                        request_rerender(
                            pane,
                            focus,
                            rerender.as_mut(),
                            p,
                            end + p.hop_size as u64,
                            &state,
                        );
                    }
                }
                Effect::Redraw => {}
            }
            scene.hud_at = None;
            println!("{}", state.status_line());
        }
        // A pane whose time zoom changed (`,` `.`, or a hop change that moves the
        // shared time axis) redraws its history at the new zoom.
        if state.rerender {
            for (index, pane) in scene.panes.iter_mut().enumerate() {
                if state.pane_zoom(index) == zooms_before[index] {
                    continue;
                }
                if let (Some(end), Some(p)) = (pane.last_row_end, pane.last_params) {
                    request_rerender(
                        pane,
                        index,
                        rerender.as_mut(),
                        p,
                        end + p.hop_size as u64,
                        &state,
                    );
                }
            }
        }
        // Resize: a new layout and fresh panes at the new size.
        let (w, h) = window.get_size();
        if (w, h) != (width, height) && w > 0 && h > 0 {
            (width, height) = (w, h);
            drop(scene);
            scene = Scene::new(&window, width, height, &state, &cmap);
        }
        // Rows.
        for row in link.rows.try_iter() {
            if row.layout != layout_epoch || row.pane >= scene.panes.len() {
                // From a pane set that is gone (its panes re-render their history).
                link.recycle(row);
                continue;
            }
            if state.set_sample_rate(row.sample_rate_hz) {
                // A reopened device came back at another rate: new axes and maps.
                for (i, pane) in scene.panes.iter_mut().enumerate() {
                    pane.remap(&state.pane(i), pane.map_fft_size, state.sample_rate_hz);
                    pane.waterfall
                        .add_marker(format!("{} Hz", state.sample_rate_hz));
                }
            }
            let index = row.pane;
            let pane = &mut scene.panes[index];
            if pane.last_params != Some(row.params) || row.params.fft_size != pane.map_fft_size {
                if let Some(old) = pane.last_params.filter(|old| *old != row.params) {
                    pane.waterfall.add_marker(change_label(&old, &row.params));
                }
                if row.params.fft_size != pane.map_fft_size {
                    pane.remap(&state.pane(index), row.params.fft_size, row.sample_rate_hz);
                }
                if pane.last_params != Some(row.params) && state.rerender {
                    // Redraw what came before this row as these parameters would have.
                    request_rerender(
                        pane,
                        index,
                        rerender.as_mut(),
                        row.params,
                        row.first_sample + row.params.win_length as u64,
                        &state,
                    );
                }
                pane.last_params = Some(row.params);
            }
            if row.gap_before > 0 {
                push_gap(
                    &mut pane.waterfall,
                    &row,
                    state.pane_zoom(index),
                    &cmap,
                    state.range,
                );
            }
            pane.map.apply(&row.bins, &mut pane.column);
            let row_end = row.first_sample + row.params.win_length as u64;
            pane.last_row_end = Some(row_end);
            let time_s = row_end as f64 / row.sample_rate_hz as f64;
            push_row(
                &mut pane.waterfall,
                &mut pane.zoom_acc,
                &pane.column,
                time_s,
                state.pane_zoom(index),
                &cmap,
                state.range,
            );
            if pending.len() < pending.capacity() {
                pending.push((row.captured_at, row.finished_at.max(frame_start)));
            }
            if index == state.focus {
                if row_times.len() == row_times.capacity() {
                    row_times.pop_front();
                }
                row_times.push_back(row.finished_at);
            }
            link.recycle(row);
        }
        for best in suggest_rx.try_iter() {
            state.suggestion = Some(best);
        }
        if let Some(link) = &rerender {
            for done in link.results.try_iter() {
                let Some(pane) = scene.panes.get_mut(done.pane) else {
                    continue;
                };
                if let Some(pending) = pane.rerender.take_if(|p| p.id == done.id) {
                    rebuild_history(pane, &mut scene.surface, &done, &pending, &state, &cmap);
                }
            }
        }
        for pane in &mut scene.panes {
            pane.view_end = if state.paused {
                pane.waterfall
                    .paused_view_end(pane.view_end, pane.layout.plot.w)
            } else {
                pane.waterfall.next_serial()
            };
        }
        if let Some(text) = notice_rx.try_iter().last() {
            notice = Some((text, Instant::now()));
        }
        if notice
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > NOTICE_FOR)
        {
            notice = None;
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
            notice.as_ref().map(|(text, _)| text.as_str()),
        );
        let presented = match scene.surface.present(&mut window, &scene.blits) {
            Ok(at) => at,
            Err(e) => break Err(Error::Display(e)),
        };
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
        // Events, and the wait for the next display frame.
        scene.surface.finish(&mut window);
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
            let mut pixels = scene.surface.pixels().to_vec();
            if scene.surface.server_side() {
                // The buffer holds all but the waterfalls: lay this frame's blits over it.
                let images: Vec<(&[u32], usize)> = scene
                    .panes
                    .iter()
                    .map(|p| (p.waterfall.pixels(), p.waterfall.capacity()))
                    .collect();
                present::assemble(
                    &scene.blits,
                    scene.surface.pixels(),
                    width,
                    &images,
                    &mut pixels,
                );
            }
            let dir = info.screenshot_dir.clone();
            let spawned = std::thread::Builder::new()
                .name("screenshot".into())
                .spawn(
                    move || match png::save_screenshot(&dir, &pixels, width, height) {
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
    drop(rerender);
    if let Some(handle) = rerender_thread {
        let _ = handle.join();
    }
    report_frame_timing(&beyond_wait_ms, &draw_ms, &capture_ms, &scene.surface);
    if keys.dropped() > 0 {
        eprintln!(
            "hopscope: {} key presses dropped (more than {} in one frame)",
            keys.dropped(),
            crate::ui::input::MAX_PRESSES
        );
    }
    result
}

/// Prints, at exit, on stderr: how long frames took to draw, how long rows waited beyond
/// the next display frame, and the capture → frame latency (the HUD's), over the run.
fn report_frame_timing(
    beyond_wait_ms: &[f32],
    draw_ms: &[f32],
    capture_ms: &[f32],
    surface: &Presenter,
) {
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
    let flush = surface.flush_ms();
    let flush_note = if flush.is_empty() {
        String::new()
    } else {
        format!(
            ", then the flush that wakes the X server p50 {:.2} ms p99 {:.2} ms",
            pct(flush, 0.5),
            pct(flush, 0.99)
        )
    };
    eprintln!(
        "hopscope: window ({}): {} frames, draw p50 {:.2} ms p99 {:.2} ms; {} rows, row ready -> frame handed over (beyond the frame wait) p50 {:.2} ms p99 {:.2} ms{flush_note}; capture -> frame (the HUD's measured latency) p50 {:.2} ms p95 {:.2} ms",
        surface.method(),
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
    let sr = state.sample_rate_hz as f64;
    let sums = WindowSums::of(p.window, p.win_length);
    let cap = info.capture.snapshot();
    // The audio buffer as delivered: the mean callback length.
    let buffer_frames = cap.frames_captured.checked_div(cap.callbacks).unwrap_or(0) as usize;
    let model = latency::model(&p, state.sample_rate_hz, buffer_frames);
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
        state.sample_rate_hz,
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

/// Something drawn over the waterfall, with its geometry fixed before anything is drawn
/// (so the server-side mode can lay the waterfall under all of them first).
enum Overlay {
    /// A parameter-change marker's dotted line at frame x.
    MarkerLine { x: usize },
    /// A marker's label at (x, y).
    Label { x: i64, y: i64, text: String },
    /// The HUD box at (x, y), `w × h` of `Scene::hud`.
    Hud {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
    },
    /// The cursor readout text at (x, y).
    Readout { x: usize, y: usize, text: String },
    /// The linked cursor's point in a pane the pointer is not over (a small cross).
    Cross { x: usize, y: usize },
    /// A banner `w × h` at (x, y): white text on `color` (NO INPUT, a failed job).
    Banner {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        text: String,
        color: u32,
    },
    /// The help box at (x, y).
    Help {
        x: i64,
        y: i64,
        w: usize,
        h: usize,
        scale: usize,
        lines: Vec<String>,
    },
}

impl Overlay {
    /// The pixels it touches, clipped to the frame.
    fn rect(&self, plot: Rect, width: usize, height: usize) -> Rect {
        let (x, y, w, h) = match self {
            Overlay::MarkerLine { x } => (*x as i64, plot.y as i64, 1, plot.h),
            Overlay::Label { x, y, text } => (x - 1, y - 1, text_width(text, 1) + 2, 11),
            Overlay::Hud { x, y, w, h } => (*x as i64, *y as i64, *w, *h),
            Overlay::Readout { x, y, text } => {
                (*x as i64 - 3, *y as i64 - 3, text_width(text, 1) + 6, 14)
            }
            Overlay::Help { x, y, w, h, .. } => (*x, *y, *w, *h),
            Overlay::Banner { x, y, w, h, .. } => (*x as i64, *y as i64, *w, *h),
            Overlay::Cross { x, y } => {
                // Kept in the plot: the margins are not redrawn every frame.
                let x0 = x.saturating_sub(CROSS_ARM).max(plot.x);
                let y0 = y.saturating_sub(CROSS_ARM).max(plot.y);
                let x1 = (x + CROSS_ARM + 1).min(plot.x + plot.w);
                let y1 = (y + CROSS_ARM + 1).min(plot.y + plot.h);
                (x0 as i64, y0 as i64, x1 - x0, y1 - y0)
            }
        };
        let x0 = x.clamp(0, width as i64) as usize;
        let y0 = y.clamp(0, height as i64) as usize;
        let x1 = (x + w as i64).clamp(0, width as i64) as usize;
        let y1 = (y + h as i64).clamp(0, height as i64) as usize;
        Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    fn draw(&self, canvas: &mut Canvas<'_>, plot: Rect, hud: &[u32]) {
        match self {
            Overlay::MarkerLine { x } => {
                for y in (plot.y..plot.y + plot.h).step_by(3) {
                    canvas.put(*x as i64, y as i64, MARKER);
                }
            }
            Overlay::Label { x, y, text } => {
                canvas.shade_rect(x - 1, y - 1, text_width(text, 1) + 2, 11);
                canvas.text(*x, *y, text, MARKER, 1);
            }
            Overlay::Hud { x, y, w, h } => {
                let hud_w = hud.len() / (*h).max(1);
                for r in 0..*h {
                    let d = (y + r) * canvas.width + x;
                    canvas.pixels[d..d + w].copy_from_slice(&hud[r * hud_w..r * hud_w + w]);
                }
            }
            Overlay::Cross { x, y } => {
                let r = self.rect(plot, canvas.width, canvas.height);
                for d in 1..=CROSS_ARM as i64 {
                    for (px, py) in [
                        (*x as i64 - d, *y as i64),
                        (*x as i64 + d, *y as i64),
                        (*x as i64, *y as i64 - d),
                        (*x as i64, *y as i64 + d),
                    ] {
                        if r.contains(px as usize, py as usize) && px >= 0 && py >= 0 {
                            canvas.put(px, py, MARKER);
                        }
                    }
                }
            }
            Overlay::Banner {
                x,
                y,
                w,
                h,
                text,
                color,
            } => {
                for r in *y..(*y + *h).min(canvas.height) {
                    let row = r * canvas.width;
                    canvas.pixels[row + x..row + (x + w).min(canvas.width)].fill(*color);
                }
                let scale = if text_width(text, 2) + 16 <= *w { 2 } else { 1 };
                let ty = *y as i64 + (*h as i64 - 8 * scale as i64) / 2;
                canvas.text(*x as i64 + 8, ty, text, WHITE, scale);
            }
            Overlay::Readout { x, y, text } => {
                let tw = text_width(text, 1);
                canvas.shade_rect(*x as i64 - 3, *y as i64 - 3, tw + 6, 14);
                canvas.text(*x as i64, *y as i64, text, FOREGROUND, 1);
            }
            Overlay::Help {
                x,
                y,
                w,
                h,
                scale,
                lines,
            } => {
                let line_h = (10 * scale) as i64;
                canvas.shade_rect(*x, *y, *w, *h);
                canvas.text(x + 12, y + 10, "hopscope keys", BANNER, *scale);
                for (i, line) in lines.iter().enumerate() {
                    canvas.text(
                        x + 12,
                        y + 10 + line_h * (i as i64 + 2),
                        line,
                        FOREGROUND,
                        *scale,
                    );
                }
            }
        }
    }
}

/// The point the pointer designates, shared by every pane (the linked readout).
struct Cursor {
    /// The pane under the pointer.
    pane: usize,
    /// Pointer position in that pane's band.
    x: usize,
    y: usize,
    /// Stream time of the column under the pointer, s.
    time_s: f64,
    /// That time before the pane's newest visible column, s (≤ 0).
    before_s: f64,
    /// Frequency under the pointer, Hz.
    hz: f64,
}

/// Where the pointer is, when it is over a held column of a pane's plot.
fn cursor_target(scene: &Scene, state: &ViewState, window: &Window) -> Option<Cursor> {
    let (mx, my) = window.get_mouse_pos(MouseMode::Discard)?;
    let (mx, my) = (mx as usize, my as usize);
    let (index, pane) = scene
        .panes
        .iter()
        .enumerate()
        .find(|(_, p)| my >= p.y0 && my < p.y0 + p.layout.height)?;
    let y = my - pane.y0;
    let plot = pane.layout.plot;
    if !plot.contains(mx, y) {
        return None;
    }
    let serial = pane.view_end.checked_sub((plot.x + plot.w - mx) as u64)?;
    let frac = ((plot.y + plot.h - y) as f64 - 0.5) / plot.h as f64;
    let time_s = pane.waterfall.time_s(serial)?;
    let t_end = pane.waterfall.time_s(pane.view_end.checked_sub(1)?)?;
    Some(Cursor {
        pane: index,
        x: mx,
        y,
        time_s,
        before_s: time_s - t_end,
        hz: display_axis(&state.pane(index)).frac_to_hz(frac),
    })
}

/// The readout of `cursor` in pane `index` (the same time and frequency in every pane,
/// with a cross where the pointer is not): its level there.
fn pane_readout(
    pane: &Pane,
    index: usize,
    settings: &PaneSettings,
    cursor: &Cursor,
    out: &mut Vec<Overlay>,
) -> Option<()> {
    let plot = pane.layout.plot;
    let (x, y, serial) = if index == cursor.pane {
        let serial = pane
            .view_end
            .checked_sub((plot.x + plot.w - cursor.x) as u64)?;
        (cursor.x, cursor.y, serial)
    } else {
        // The visible column nearest in time, if the time is on screen here.
        let first = pane.view_end.saturating_sub(plot.w as u64);
        let (serial, t) = (first..pane.view_end)
            .filter_map(|s| pane.waterfall.time_s(s).map(|t| (s, t)))
            .min_by(|a, b| {
                (a.1 - cursor.time_s)
                    .abs()
                    .total_cmp(&(b.1 - cursor.time_s).abs())
            })?;
        let t_first = pane.waterfall.time_s(first)?;
        let spacing = (pane.waterfall.time_s(pane.view_end - 1)? - t_first)
            / (pane.view_end - first).max(2) as f64;
        if (t - cursor.time_s).abs() > 1.5 * spacing.abs() + 1e-6 {
            return None;
        }
        let frac = display_axis(settings).hz_to_frac(cursor.hz);
        if !(0.0..=1.0).contains(&frac) {
            return None;
        }
        let row = ((1.0 - frac) * plot.h as f64)
            .floor()
            .clamp(0.0, (plot.h - 1) as f64);
        let x = plot.x + plot.w - (pane.view_end - serial) as usize;
        let y = plot.y + row as usize;
        out.push(Overlay::Cross { x, y });
        (x, y, serial)
    };
    let value = pane.waterfall.value(serial, y - plot.y)?;
    let level = if value.is_nan() {
        "gap: no input".to_string()
    } else {
        let unit = if settings.mel.is_some() {
            "dB mel"
        } else {
            "dBFS"
        };
        format!("{value:.1} {unit}")
    };
    let text = format!(
        "{:+.3} s  {:.1} Hz  {}  {level}",
        cursor.before_s,
        cursor.hz,
        note_name(cursor.hz).unwrap_or_default(),
    );
    let tw = text_width(&text, 1);
    let tx = if x + 14 + tw < plot.x + plot.w {
        x + 14
    } else {
        // Never into the side margins, which are not redrawn every frame.
        x.saturating_sub(tw + 14).max(plot.x + 3)
    };
    let ty = if y > plot.y + 16 { y - 14 } else { y + 14 };
    out.push(Overlay::Readout {
        x: tx,
        y: ty.min((plot.y + plot.h).saturating_sub(11)),
        text,
    });
    Some(())
}

/// The label line of pane `index` of `count`.
fn pane_title(state: &ViewState, info: &LiveInfo<'_>, index: usize, count: usize) -> String {
    let s = state.pane(index);
    let paused = if state.paused { "   [PAUSED]" } else { "" };
    if count == 1 {
        return format!(
            "{}   {} Hz   {}{paused}",
            info.source_label,
            state.sample_rate_hz,
            scale_label(&s)
        );
    }
    let p = s.params;
    let sr = f64::from(state.sample_rate_hz);
    format!(
        "{}{}  {}  n_fft {}  win {}  hop {} ({:.2} ms)  bin {:.1} Hz  {}{paused}",
        if index == state.focus { "> " } else { "  " },
        index + 1,
        p.window,
        p.fft_size,
        p.win_length,
        p.hop_size,
        p.hop_size as f64 * 1e3 / sr,
        sr / p.fft_size as f64,
        scale_label(&s)
    )
}

/// Shifts blits made in band coordinates down by `y0` frame rows.
fn shift_blits(blits: &mut [Blit], y0: usize) {
    for b in blits {
        match b {
            Blit::Frame(r) | Blit::Fill(r, _) => r.y += y0,
            Blit::Waterfall { dst_y, .. } => *dst_y += y0,
        }
    }
}

/// Draws the frame into the presenter's buffer and lists in `scene.blits` what the
/// server must copy (server-side mode; the whole buffer is sent otherwise). Each pane
/// draws into its band of the frame exactly as a one-pane frame of that size.
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
    notice: Option<&str>,
) {
    let (width, height) = (scene.width, scene.height);
    let background = cmap.lut()[0];
    // HUD: re-rendered every HUD_REFRESH (or, here, right after a change).
    if state.hud && scene.hud_at.is_none() {
        let now = Instant::now();
        scene.hud_at = Some(now);
        render_hud(scene, state, info, link, latency, row_times, hud, now);
    }
    let cursor = cursor_target(scene, state, window);
    // The NO INPUT banner while the device is stalled, lost or reconnecting.
    let no_input = info
        .health
        .map(|h| h.snapshot(Instant::now()))
        .filter(|h| h.state != InputState::Live)
        .map(|h| format!("NO INPUT - {}", h.describe()));
    // The help box, centred on the frame; each pane draws the part over its band.
    let help = state.help.then(|| {
        let lines: Vec<String> = KEY_HELP
            .iter()
            .map(|(k, d)| format!("{k:<14} {d}"))
            .collect();
        let size = |scale: usize| {
            let w = lines
                .iter()
                .map(|l| text_width(l, scale))
                .max()
                .unwrap_or(0)
                + 24;
            (w, (lines.len() + 2) * 10 * scale + 12)
        };
        let (w2, h2) = size(2);
        let scale = if w2 <= width && h2 <= height { 2 } else { 1 };
        let (w, h) = size(scale);
        (
            (width.saturating_sub(w) / 2) as i64,
            (height.saturating_sub(h) / 2) as i64,
            w,
            h,
            scale,
            lines,
        )
    });
    let full_help = state.help || scene.help_shown;
    scene.help_shown = state.help;
    let server_side = scene.surface.server_side();
    scene.blits.clear();
    let count = scene.panes.len();
    let Scene {
        surface,
        blits,
        panes,
        hud: hud_pixels,
        hud_size,
        ..
    } = scene;
    if server_side {
        for (i, pane) in panes.iter().enumerate() {
            surface.sync_waterfall(i, &pane.waterfall);
        }
    }
    for (index, pane) in panes.iter_mut().enumerate() {
        let settings = state.pane(index);
        let axis = display_axis(&settings);
        let layout = pane.layout;
        let plot = layout.plot;
        let band_h = layout.height;
        let view = View {
            x0: plot.x,
            y0: plot.y,
            width: plot.w,
            view_end: pane.view_end,
            background,
        };
        // Time ticks from the columns' stream times: newest visible column = 0 s.
        let newest = pane
            .view_end
            .checked_sub(1)
            .and_then(|s| pane.waterfall.time_s(s));
        let mut ticks: Vec<(usize, String)> = Vec::new();
        if let Some(t_end) = newest {
            let oldest_serial = pane.view_end.saturating_sub(plot.w as u64);
            let t_start = pane
                .waterfall
                .time_s(oldest_serial)
                .filter(|t| t.is_finite())
                .unwrap_or(t_end);
            let span = (t_end - t_start).max(1e-3);
            // Over the columns actually spanned (fewer than plot.w while history fills).
            let spanned = pane.view_end.saturating_sub(oldest_serial).max(1);
            let (step, decimals) = chrome::time_step(span * 110.0 / spanned as f64);
            let mut next_tick = step;
            for x in (0..plot.w).rev() {
                let serial = pane.view_end as i64 - (plot.w - x) as i64;
                let Some(t) = (serial >= 0)
                    .then(|| pane.waterfall.time_s(serial as u64))
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
        let title = pane_title(state, info, index, count);
        // Overlays, placed before anything is drawn.
        let mut overlays: Vec<Overlay> = Vec::new();
        for m in pane.waterfall.markers() {
            if m.column >= pane.view_end || m.column + plot.w as u64 <= pane.view_end {
                continue;
            }
            // Stagger labels so quick successive changes stay readable.
            let label_y = (plot.y + plot.h) as i64 - 11 - 12 * i64::from(m.lane);
            let x = plot.x + plot.w - (pane.view_end - m.column) as usize;
            let lw = text_width(&m.label, 1);
            // The shade box is 1 px wider than the text on each side: keep it in the plot.
            let lx = (x as i64 + 3).min((plot.x + plot.w - lw - 1) as i64);
            overlays.push(Overlay::MarkerLine { x });
            overlays.push(Overlay::Label {
                x: lx,
                y: label_y,
                text: m.label.clone(),
            });
        }
        if let Some(text) = &no_input {
            overlays.push(Overlay::Banner {
                x: plot.x,
                y: plot.y,
                w: plot.w,
                h: NO_INPUT_H.min(plot.h),
                text: text.clone(),
                color: NO_INPUT,
            });
        }
        if let Some(text) = notice.filter(|_| index == state.focus) {
            let h = NO_INPUT_H.min(plot.h);
            overlays.push(Overlay::Banner {
                x: plot.x,
                y: plot.y + plot.h - h,
                w: plot.w,
                h,
                text: text.to_string(),
                color: NOTICE,
            });
        }
        if state.hud && index == state.focus {
            let (hw, hh) = *hud_size;
            let below_banner = if no_input.is_some() { NO_INPUT_H } else { 0 };
            let (x, y) = (plot.x + 6, plot.y + 6 + below_banner);
            overlays.push(Overlay::Hud {
                x,
                y,
                w: hw.min((plot.x + plot.w).saturating_sub(x)),
                h: hh.min((plot.y + plot.h).saturating_sub(y)),
            });
        }
        if let Some(c) = &cursor {
            let _ = pane_readout(pane, index, &settings, c, &mut overlays);
        }
        if let Some((x, y, w, h, scale, lines)) = &help {
            overlays.push(Overlay::Help {
                x: *x,
                y: y - pane.y0 as i64,
                w: *w,
                h: *h,
                scale: *scale,
                lines: lines.clone(),
            });
        }
        let key = (axis, state.colormap, state.range, settings.mel.is_some());
        // Side margins change only with the chrome (or under the help overlay); the
        // label and time-tick strips are redrawn every frame.
        let full_margins = pane.chrome_key != Some(key) || full_help;
        if pane.chrome_key != Some(key) {
            pane.chrome.fill(BACKGROUND);
            let mut c = Canvas {
                pixels: &mut pane.chrome,
                width,
                height: band_h,
            };
            let unit = if settings.mel.is_some() {
                "dB mel"
            } else {
                "dBFS"
            };
            chrome::draw(&mut c, &layout, &axis, cmap, state.range, &[], "", unit);
            pane.chrome_key = Some(key);
        }
        let first_blit = blits.len();
        let pixels = pane.band(surface.pixels_mut());
        if full_margins {
            chrome::copy_margins(pixels, &pane.chrome, &layout);
        } else {
            chrome::copy_strips(pixels, &pane.chrome, &layout);
        }
        if server_side {
            blits.push(Blit::Frame(Rect {
                x: 0,
                y: 0,
                w: width,
                h: plot.y,
            }));
            blits.push(Blit::Frame(Rect {
                x: 0,
                y: plot.y + plot.h,
                w: width,
                h: band_h - (plot.y + plot.h),
            }));
            if full_margins {
                blits.extend([
                    Blit::Frame(Rect {
                        x: 0,
                        y: plot.y,
                        w: plot.x,
                        h: plot.h,
                    }),
                    Blit::Frame(Rect {
                        x: plot.x + plot.w,
                        y: plot.y,
                        w: width - (plot.x + plot.w),
                        h: plot.h,
                    }),
                ]);
            }
            // The waterfall comes from the server's mirror; only the pixels under
            // overlays are composed here, each overlay's rectangle then copied over it.
            present::waterfall_blits(
                &pane.waterfall,
                index,
                plot.x,
                plot.y,
                plot.w,
                pane.view_end,
                background,
                blits,
            );
            for o in &overlays {
                let r = o.rect(plot, width, band_h);
                let cols = r.x.saturating_sub(plot.x)..(r.x + r.w).saturating_sub(plot.x);
                let rows = r.y.saturating_sub(plot.y)..(r.y + r.h).saturating_sub(plot.y);
                pane.waterfall
                    .compose_region(pixels, width, &view, cols, rows);
                blits.push(Blit::Frame(r));
            }
            shift_blits(&mut blits[first_blit..], pane.y0);
        } else {
            pane.waterfall.compose_into(
                pixels,
                width,
                plot.x,
                plot.y,
                plot.w,
                pane.view_end,
                background,
            );
        }
        let mut canvas = Canvas {
            pixels,
            width,
            height: band_h,
        };
        let title_color = if count > 1 && index == state.focus {
            BANNER
        } else {
            FOREGROUND
        };
        canvas.text(4, 6, &title, title_color, 1);
        chrome::draw_time_ticks(&mut canvas, &layout, &ticks);
        for o in &overlays {
            o.draw(&mut canvas, plot, hud_pixels);
        }
    }
}
