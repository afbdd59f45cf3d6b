//! Composing one frame: rows into the panes' waterfalls, then each pane's band of the
//! frame (chrome, title, time ticks, waterfall, overlays) into a plain pixel buffer.
//!
//! Nothing here needs a display: [`Scene::compose`] draws into any `&mut [u32]` (the
//! presenter's buffer in the window, a `Vec` in the tests), and in steady state, frame
//! after frame with rows arriving, it allocates nothing. Every string drawn each frame
//! is written into a buffer the scene keeps; what changes only with the view (chrome,
//! help) is cached.

use std::fmt::Write;
use std::time::Instant;

use crate::analysis::message::SpectrumRow;
use crate::audio::health::{HealthSnapshot, InputState};
use crate::render::chrome::{self, Layout, Rect, BACKGROUND, FOREGROUND};
use crate::render::colormap::Colormap;
use crate::render::text::Canvas;
use crate::render::waterfall::View;
use crate::ui::hud::{Hud, HudSources, BANNER};
use crate::ui::labels;
use crate::ui::overlay::{self, Cursor, HelpBox, NoteCache, Overlay, OverlayTexts, ReadoutBuffers};
use crate::ui::pane::{display_axis, Pane, PendingRerender, RerenderWant, RowLook};
use crate::ui::present::{self, Blit};
use crate::ui::rerender::Rerendered;
use crate::ui::state::ViewState;
use crate::ui::timing::Meters;

/// What a frame shows besides the scene's own state.
pub struct FrameInput<'a> {
    /// The view.
    pub state: &'a ViewState,
    /// Colours of `state.colormap`.
    pub cmap: &'a Colormap,
    /// Source label (the single pane's title).
    pub source_label: &'a str,
    /// The pointer, in frame pixels, when over the window.
    pub pointer: Option<(usize, usize)>,
    /// A failed background job to show (over the focused pane).
    pub notice: Option<&'a str>,
    /// The live input's health (`None`: a source that cannot fail); NO INPUT unless live.
    pub health: Option<HealthSnapshot>,
}

/// Where a frame is drawn.
pub struct Target<'a> {
    /// The frame, `width × height` of the scene, row-major `0x00RRGGBB`.
    pub pixels: &'a mut [u32],
    /// Server-side presentation: cleared, then filled with what the server must copy
    /// (and only those rectangles are drawn into `pixels`). `None`: the whole frame is
    /// drawn and sent.
    pub blits: Option<&'a mut Vec<Blit>>,
}

/// What rows need besides the scene.
pub struct RowInput<'a> {
    /// The view (a row at another sample rate moves the axes).
    pub state: &'a mut ViewState,
    /// Colours.
    pub cmap: &'a Colormap,
    /// The pane set rows must belong to (see `Control::SetPanes`).
    pub layout_epoch: u64,
    /// When this frame started.
    pub frame_start: Instant,
    /// Row timing.
    pub meters: &'a mut Meters,
}

/// Buffers reused by every frame (one pane at a time).
struct Scratch {
    overlays: Vec<Overlay>,
    /// Time tick labels: the first `ticks_len` entries are this pane's.
    ticks: Vec<(usize, String)>,
    ticks_len: usize,
    title: String,
    readout: String,
    notes: NoteCache,
    /// The NO INPUT banner's text (empty: live).
    no_input: String,
}

impl Scratch {
    /// Buffers for frames `width` pixels wide.
    fn new(width: usize) -> Scratch {
        // Ticks are at least ~110 px apart: never more than this many labels, made now
        // so that a history filling the screen adds none.
        let max_ticks = width / 100 + 2;
        Scratch {
            overlays: Vec::with_capacity(256),
            ticks: (0..max_ticks)
                .map(|_| (0, String::with_capacity(16)))
                .collect(),
            ticks_len: 0,
            title: String::with_capacity(256),
            readout: String::with_capacity(128),
            notes: NoteCache::new(),
            no_input: String::with_capacity(128),
        }
    }

    /// Appends a tick at plot x `x`, reusing a label buffer.
    fn push_tick(&mut self, x: usize, args: std::fmt::Arguments<'_>) {
        if self.ticks_len == self.ticks.len() {
            self.ticks.push((x, String::with_capacity(16)));
        }
        let (tx, label) = &mut self.ticks[self.ticks_len];
        *tx = x;
        label.clear();
        // Writing into a String cannot fail.
        let _ = label.write_fmt(args);
        self.ticks_len += 1;
    }
}

/// The panes of one frame size and everything a frame reuses.
///
/// Thread: UI. Allocates: when made (a new size or pane set) and on view changes; not
/// per row or per frame in steady state.
pub struct Scene {
    width: usize,
    height: usize,
    /// The panes, top to bottom (waterfall image `i` of the presenter is pane `i`'s).
    panes: Vec<Pane>,
    hud: Hud,
    help: HelpBox,
    /// The help box was shown last frame (its area must be redrawn when it goes).
    help_shown: bool,
    scratch: Scratch,
    /// Serial just past the newest column shown, in every pane (one time axis).
    view_end: u64,
    /// A row came at another sample rate: the panes' axes moved, their columns must be
    /// asked for again (see [`Scene::take_regrid`]).
    regrid: bool,
}

impl Scene {
    /// Empty panes of `state`'s pane set in a `width × height` frame.
    pub fn new(width: usize, height: usize, state: &ViewState, cmap: &Colormap) -> Scene {
        let n = state.pane_count();
        let band = (height / n).max(1);
        let panes = (0..n)
            .map(|i| {
                // The last band takes the rows the division leaves.
                let h = if i + 1 == n { height - band * i } else { band };
                Pane::new(band * i, (width, h), state.span_ms, cmap)
            })
            .collect();
        Scene {
            width,
            height,
            panes,
            hud: Hud::new(width),
            help: HelpBox::new(width, height),
            help_shown: false,
            scratch: Scratch::new(width),
            view_end: 0,
            regrid: false,
        }
    }

    /// Empty panes of `state`'s pane set in a `width × height` frame, in place of these
    /// (which are dropped first).
    pub fn rebuild(&mut self, width: usize, height: usize, state: &ViewState, cmap: &Colormap) {
        self.panes.clear();
        *self = Scene::new(width, height, state, cmap);
    }

    /// Frame size, px.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// The panes, top to bottom.
    pub fn panes(&self) -> &[Pane] {
        &self.panes
    }

    pub(crate) fn panes_mut(&mut self) -> &mut [Pane] {
        &mut self.panes
    }

    /// The HUD.
    pub fn hud_mut(&mut self) -> &mut Hud {
        &mut self.hud
    }

    /// Re-renders the HUD's numbers for `now`.
    ///
    /// Allocates: no (see [`Hud::render`]).
    pub fn render_hud(
        &mut self,
        state: &ViewState,
        sources: &HudSources<'_>,
        meters: &mut Meters,
        now: Instant,
    ) {
        self.hud.render(state, sources, meters, now);
    }

    /// Draws `row` (a run of time columns) into its pane; returns the re-render it calls
    /// for. A run of a pane set or grid that is gone is ignored (its panes re-render
    /// their history), as is a row not folded into columns.
    ///
    /// Allocates: no, unless the row's parameters or sample rate changed.
    pub fn take_row(
        &mut self,
        row: &SpectrumRow,
        input: &mut RowInput<'_>,
    ) -> Option<RerenderWant> {
        if row.layout != input.layout_epoch || row.pane >= self.panes.len() {
            return None;
        }
        let state = &mut *input.state;
        if state.set_sample_rate(row.sample_rate_hz) {
            // A reopened device came back at another rate: new axes, columns asked again.
            for pane in &mut self.panes {
                pane.waterfall
                    .add_marker(format!("{} Hz", state.sample_rate_hz));
            }
            self.regrid = true;
        }
        let index = row.pane;
        let look = RowLook {
            cmap: input.cmap,
            range: state.pane_range(index),
            frontend: state.pane(index).frontend.is_some(),
        };
        let rows = row.columns.map_or(0, |c| c.rows);
        // A front-end pane's history is not re-rendered (the history keeps the stream,
        // and re-rendering runs STFTs).
        let rerender = state.rerender && state.pane(index).frontend.is_none();
        let want = self.panes[index].take_row(row, rerender, &look);
        if rows > 0 {
            let focused = index == state.focus;
            input.meters.row_drawn(
                row.captured_at,
                row.finished_at,
                input.frame_start,
                (focused, rows),
            );
        }
        want
    }

    /// Replaces pane `done.pane`'s history with re-rendered rows if they answer its
    /// pending request; returns whether it did (the presenter's copy is then stale).
    pub fn take_rerendered(
        &mut self,
        done: &Rerendered,
        state: &ViewState,
        cmap: &Colormap,
    ) -> bool {
        // An answer may come after its pane is gone (Tab back to one pane).
        if done.pane >= state.pane_count() {
            return false;
        }
        let Some(pane) = self.panes.get_mut(done.pane) else {
            return false;
        };
        let Some(pending) = pane.rerender.take_if(|p| p.id == done.id) else {
            return false;
        };
        let look = RowLook {
            cmap,
            range: state.pane_range(done.pane),
            frontend: state.pane(done.pane).frontend.is_some(),
        };
        pane.rebuild_history(done, &pending, &look)
    }

    /// Records that pane `pane`'s re-render request `id` was sent, replacing the columns
    /// before `cut_serial`.
    pub fn rerender_sent(&mut self, pane: usize, id: u64, cut_serial: u64) {
        if let Some(p) = self.panes.get_mut(pane) {
            p.rerender = Some(PendingRerender { id, cut_serial });
        }
    }

    /// Whether the panes' columns must be asked for again (a new sample rate); once.
    pub fn take_regrid(&mut self) -> bool {
        std::mem::take(&mut self.regrid)
    }

    /// Moves every pane's view to the newest column of any pane, so that all show the
    /// same time (a pane whose rows come later shows its newest columns left of the
    /// edge); a paused view stays on the same columns while the panes hold them.
    pub fn follow_view(&mut self, paused: bool) {
        let newest = self
            .panes
            .iter()
            .map(|p| p.waterfall.next_serial())
            .max()
            .unwrap_or(0);
        self.view_end = if paused {
            self.panes
                .iter()
                .map(|p| p.waterfall.paused_view_end(self.view_end, p.layout.plot.w))
                .max()
                .unwrap_or(self.view_end)
        } else {
            newest
        };
        for pane in &mut self.panes {
            pane.view_end = self.view_end;
        }
    }

    /// Draws the frame into `target`. Each pane draws into its band of the frame
    /// exactly as a one-pane frame of that size.
    ///
    /// Allocates: no in steady state (the chrome is redrawn, allocating, only when its
    /// axis, colours or range changed).
    pub fn compose(&mut self, input: &FrameInput<'_>, mut target: Target<'_>) {
        let cursor = overlay::cursor_target(&self.panes, input.state, input.pointer);
        self.scratch.no_input.clear();
        if let Some(h) = input.health.filter(|h| h.state != InputState::Live) {
            // Only while the input is down: `describe` makes a String.
            let _ = write!(self.scratch.no_input, "NO INPUT - {}", h.describe());
        }
        let full_help = input.state.help || self.help_shown;
        self.help_shown = input.state.help;
        if let Some(blits) = target.blits.as_deref_mut() {
            blits.clear();
        }
        for index in 0..self.panes.len() {
            let frame = PaneFrame {
                index,
                input,
                cursor: cursor.as_ref(),
                full_help,
                hud: &self.hud,
                help: &self.help,
            };
            compose_pane(
                &mut self.panes[index],
                &mut self.scratch,
                &frame,
                &mut target,
            );
        }
    }
}

/// One pane's share of a frame.
struct PaneFrame<'a> {
    index: usize,
    input: &'a FrameInput<'a>,
    cursor: Option<&'a Cursor>,
    /// Redraw the side margins (the help box may have covered them).
    full_help: bool,
    hud: &'a Hud,
    help: &'a HelpBox,
}

/// Draws pane `f.index` into its band of `target`.
fn compose_pane(
    pane: &mut Pane,
    scratch: &mut Scratch,
    f: &PaneFrame<'_>,
    target: &mut Target<'_>,
) {
    write_ticks(pane, scratch);
    labels::write_title(
        &mut scratch.title,
        f.input.state,
        f.input.source_label,
        f.index,
    );
    place_overlays(pane, scratch, f);
    let chrome_changed = refresh_chrome(pane, f.index, f.input);
    // Side margins change only with the chrome (or under the help overlay); the label
    // and time-tick strips are redrawn every frame.
    let full_margins = chrome_changed || f.full_help;
    let layout = pane.layout;
    let pixels = pane.band(target.pixels);
    if full_margins {
        chrome::copy_margins(pixels, &pane.chrome, &layout);
    } else {
        chrome::copy_strips(pixels, &pane.chrome, &layout);
    }
    let texts = OverlayTexts {
        markers: pane.waterfall.markers(),
        readout: &scratch.readout,
        no_input: &scratch.no_input,
        notice: f.input.notice.unwrap_or(""),
        help: f.help,
        hud: f.hud.pixels(),
    };
    let band = Band {
        pane,
        index: f.index,
        view: View {
            x0: layout.plot.x,
            y0: layout.plot.y,
            width: layout.plot.w,
            view_end: pane.view_end,
            background: f.input.cmap.lut()[0],
        },
        full_margins,
    };
    let blits = target.blits.as_deref_mut();
    draw_waterfall(&band, pixels, &scratch.overlays, &texts, blits);
    let mut canvas = Canvas {
        pixels,
        width: layout.width,
        height: layout.height,
    };
    draw_texts(&mut canvas, &layout, scratch, f, &texts);
}

/// The band's waterfall: composed whole into `pixels`, or (server-side, `blits`) listed
/// as blits of the server's mirror, composed here only under the overlays.
fn draw_waterfall(
    band: &Band<'_>,
    pixels: &mut [u32],
    overlays: &[Overlay],
    texts: &OverlayTexts<'_>,
    blits: Option<&mut Vec<Blit>>,
) {
    let (wf, v) = (&band.pane.waterfall, &band.view);
    match blits {
        Some(blits) => {
            let first = blits.len();
            server_side_blits(band, pixels, overlays, texts, blits);
            shift_blits(&mut blits[first..], band.pane.y0);
        }
        None => {
            let stride = band.pane.layout.width;
            wf.compose_into(pixels, stride, v);
        }
    }
}

/// The pane's title, time ticks and overlays, over everything else.
fn draw_texts(
    canvas: &mut Canvas<'_>,
    layout: &Layout,
    scratch: &Scratch,
    f: &PaneFrame<'_>,
    texts: &OverlayTexts<'_>,
) {
    let state = f.input.state;
    let title_color = if state.pane_count() > 1 && f.index == state.focus {
        BANNER
    } else {
        FOREGROUND
    };
    canvas.text(4, 6, &scratch.title, title_color, 1);
    chrome::draw_time_ticks(canvas, layout, &scratch.ticks[..scratch.ticks_len]);
    for o in &scratch.overlays {
        o.draw(canvas, layout.plot, texts);
    }
}

/// Time ticks: the newest visible column = 0 s, one column = `pane.column_s`.
fn write_ticks(pane: &Pane, scratch: &mut Scratch) {
    scratch.ticks_len = 0;
    let plot = pane.layout.plot;
    if pane.view_end == 0 || plot.w == 0 {
        return;
    }
    let span = pane.column_s * plot.w as f64;
    let (step, decimals) = chrome::time_step(pane.column_s * 110.0);
    let min_gap_px = chrome::time_label_gap_px(span, decimals);
    let column_s = pane.column_s;
    let age_s = |x: usize| Some((plot.w - x) as f64 * column_s - column_s);
    chrome::place_time_ticks(plot.w, step, min_gap_px, age_s, |x, tick_s| {
        scratch.push_tick(x, format_args!("-{tick_s:.decimals$}s"));
    });
}

/// Fixes every overlay of the pane's band before anything is drawn.
fn place_overlays(pane: &Pane, scratch: &mut Scratch, f: &PaneFrame<'_>) {
    let state = f.input.state;
    let plot = pane.layout.plot;
    let focused = f.index == state.focus;
    let out = &mut scratch.overlays;
    out.clear();
    overlay::place_markers(pane, out);
    let no_input = !scratch.no_input.is_empty();
    overlay::place_banners(plot, no_input, f.input.notice.is_some() && focused, out);
    if state.hud && focused {
        overlay::place_hud(plot, f.hud.size(), no_input, out);
    }
    if let Some(cursor) = f.cursor {
        let settings = state.pane(f.index);
        let buffers = ReadoutBuffers {
            text: &mut scratch.readout,
            notes: &mut scratch.notes,
        };
        let _ = overlay::place_readout((pane, f.index, &settings), cursor, buffers, out);
    }
    if state.help {
        out.push(f.help.overlay(pane.y0));
    }
}

/// Redraws the pane's cached chrome if its axis, colours or range changed; returns
/// whether it did.
fn refresh_chrome(pane: &mut Pane, index: usize, input: &FrameInput<'_>) -> bool {
    let state = input.state;
    let settings = state.pane(index);
    let axis = display_axis(&settings);
    let range = state.pane_range(index);
    let key = (axis, state.colormap, range, settings.mel.is_some());
    if pane.chrome_key == Some(key) {
        return false;
    }
    let layout = pane.layout;
    pane.chrome.fill(BACKGROUND);
    let mut c = Canvas {
        pixels: &mut pane.chrome,
        width: layout.width,
        height: layout.height,
    };
    let unit = match settings.frontend {
        Some(f) => crate::render::frontend::display_unit(f),
        None if settings.mel.is_some() => "dB mel",
        None => "dBFS",
    };
    let spec = chrome::Chrome {
        axis: &axis,
        cmap: input.cmap,
        range,
        time_ticks: &[],
        title: "",
        unit,
    };
    chrome::draw(&mut c, &layout, &spec);
    pane.chrome_key = Some(key);
    true
}

/// A pane's band as the server-side mode sees it.
struct Band<'a> {
    pane: &'a Pane,
    /// Its waterfall's image in the presenter.
    index: usize,
    /// Where the waterfall goes in the band.
    view: View,
    /// The side margins were redrawn (and must be copied).
    full_margins: bool,
}

/// The blits of one band (in band coordinates): the strips above and below the plot,
/// the side margins when redrawn, the waterfall from the server's mirror, and each
/// overlay's rectangle, under which the waterfall is composed into `pixels` here.
///
/// Allocates: no (while `blits` has room).
fn server_side_blits(
    band: &Band<'_>,
    pixels: &mut [u32],
    overlays: &[Overlay],
    texts: &OverlayTexts<'_>,
    blits: &mut Vec<Blit>,
) {
    let layout = band.pane.layout;
    let (width, band_h, plot) = (layout.width, layout.height, layout.plot);
    let frame_rect = |x, y, w, h| Blit::Frame(Rect { x, y, w, h });
    blits.push(frame_rect(0, 0, width, plot.y));
    let below = plot.y + plot.h;
    blits.push(frame_rect(0, below, width, band_h - below));
    if band.full_margins {
        blits.push(frame_rect(0, plot.y, plot.x, plot.h));
        let right = plot.x + plot.w;
        blits.push(frame_rect(right, plot.y, width - right, plot.h));
    }
    // The waterfall comes from the server's mirror; only the pixels under overlays are
    // composed here, each overlay's rectangle then copied over it.
    present::waterfall_blits(&band.pane.waterfall, band.index, &band.view, blits);
    for o in overlays {
        let r = o.rect(plot, texts.help, width, band_h);
        let cols = r.x.saturating_sub(plot.x)..(r.x + r.w).saturating_sub(plot.x);
        let rows = r.y.saturating_sub(plot.y)..(r.y + r.h).saturating_sub(plot.y);
        band.pane
            .waterfall
            .compose_region(pixels, width, &band.view, cols, rows);
        blits.push(Blit::Frame(r));
    }
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

#[cfg(test)]
mod tests {
    //! The server-side mode's blit list, executed in software over what the server's
    //! back buffer held (the previous frame), must show exactly the frame the software
    //! mode draws whole: frame after frame, with rows, markers, the HUD, the readout,
    //! the help box coming and going, a pause, one and three panes.

    use std::time::{Duration, Instant};

    use super::*;
    use crate::analysis::message::ColumnRun;
    use crate::analysis::AnalysisStats;
    use crate::audio::stats::CaptureStats;
    use crate::config::pane::PaneSettings;
    use crate::dsp::scale::ValueScale;
    use crate::dsp::stft::StftParams;
    use crate::dsp::window::WindowKind;
    use crate::render::colormap::ColormapKind;
    use crate::render::freqmap::{FreqAxis, FreqScale};
    use crate::render::timeaxis::TimeGrid;
    use crate::ui::present::assemble;
    use crate::ui::rerender::RunSpan;

    const SR: u32 = 48_000;
    const W: usize = 640;
    const H: usize = 480;

    fn view(windows: &[WindowKind]) -> ViewState {
        let axis = FreqAxis {
            scale: FreqScale::Log,
            fmin_hz: 20.0,
            fmax_hz: 24_000.0,
        };
        let params = |window| StftParams {
            fft_size: 1024,
            win_length: 1024,
            hop_size: 256,
            window,
        };
        let panes = windows
            .iter()
            .map(|&w| PaneSettings {
                frontend: None,
                params: params(w),
                win_follows: true,
                axis,
                mel: None,
            })
            .collect();
        ViewState {
            rerender: false,
            ..ViewState::new(panes, SR)
        }
    }

    /// Column `n` of pane `pane` (`height` pixels), as the analysis folds it.
    fn row(pane: usize, params: StftParams, n: u64, at: Instant, height: usize) -> SpectrumRow {
        let bins = (0..height)
            .map(|k| -100.0 + ((k as u64 * 7 + n * 3) % 80) as f32)
            .collect();
        SpectrumRow {
            pane,
            layout: 0,
            generation: 0,
            params,
            scale: ValueScale::Db,
            sample_rate_hz: SR,
            first_sample: n * params.hop_size as u64,
            gap_before: 0,
            captured_at: at,
            finished_at: at,
            bins,
            columns: Some(ColumnRun {
                grid_id: 0,
                grid: TimeGrid::new(10_000, W as u32, SR),
                first: n,
                last: n,
                rows: 2,
                first_row_end: n * params.hop_size as u64,
            }),
        }
    }

    /// One mode's scene and its own copies of everything a frame changes.
    struct Side {
        state: ViewState,
        scene: Scene,
        meters: Meters,
        frame: Vec<u32>,
    }

    impl Side {
        fn new(state: &ViewState, cmap: &Colormap) -> Side {
            Side {
                state: state.clone(),
                scene: Scene::new(W, H, state, cmap),
                meters: Meters::new(),
                frame: vec![BACKGROUND; W * H],
            }
        }

        fn frame(&mut self, k: u64, t0: Instant, cmap: &Colormap, blits: Option<&mut Vec<Blit>>) {
            let now = t0 + Duration::from_millis(16 * k);
            self.state.help = (40..60).contains(&k);
            self.state.paused = (70..90).contains(&k);
            for pane in 0..self.state.pane_count() {
                let mut params = self.state.pane(pane).params;
                if k < 20 {
                    // The first rows under another n_fft: a marker when it changes.
                    (params.fft_size, params.win_length) = (512, 512);
                }
                let height = self.scene.panes()[pane].waterfall.height();
                for n in 4 * k..4 * k + 4 {
                    let r = row(pane, params, n, now, height);
                    let mut input = RowInput {
                        state: &mut self.state,
                        cmap,
                        layout_epoch: 0,
                        frame_start: now,
                        meters: &mut self.meters,
                    };
                    self.scene.take_row(&r, &mut input);
                }
            }
            self.scene.follow_view(self.state.paused);
            if k % 15 == 0 {
                let (capture, analysis) = (CaptureStats::default(), AnalysisStats::default());
                let sources = HudSources {
                    source_label: "test",
                    demo_fallback: k % 30 == 0,
                    capture: &capture,
                    analysis: &analysis,
                };
                self.scene
                    .render_hud(&self.state, &sources, &mut self.meters, now);
            }
            let input = FrameInput {
                state: &self.state,
                cmap,
                source_label: "test",
                pointer: Some((W - 120, 60)),
                notice: (k > 100).then_some("a notice"),
                health: None,
            };
            let target = Target {
                pixels: &mut self.frame,
                blits,
            };
            self.scene.compose(&input, target);
            self.meters
                .frame_presented(now, now + Duration::from_millis(2));
        }
    }

    fn server_side_equals_software(windows: &[WindowKind]) {
        let state = view(windows);
        let cmap = Colormap::new(state.colormap);
        let (mut software, mut server) = (Side::new(&state, &cmap), Side::new(&state, &cmap));
        let mut blits = Vec::new();
        // The server's back buffer: what earlier frames' blits left there.
        let mut screen = vec![0x00ff_00ff; W * H];
        let t0 = Instant::now();
        for k in 0..120 {
            software.frame(k, t0, &cmap, None);
            server.frame(k, t0, &cmap, Some(&mut blits));
            let images: Vec<(&[u32], usize)> = server
                .scene
                .panes()
                .iter()
                .map(|p| (p.waterfall.pixels(), p.waterfall.capacity()))
                .collect();
            assemble(&blits, &server.frame, W, &images, &mut screen);
            let differ = screen.iter().zip(&software.frame).position(|(a, b)| a != b);
            assert_eq!(
                differ.map(|i| (i % W, i / W)),
                None,
                "{} pane(s), frame {k}: first differing pixel (x, y)",
                windows.len()
            );
        }
        let markers = software.scene.panes()[0].waterfall.markers();
        assert!(
            markers.iter().any(|m| m.label == "n_fft 1024"),
            "{markers:?}"
        );
    }

    #[test]
    fn server_side_blits_show_the_software_frame_with_one_pane() {
        server_side_equals_software(&[WindowKind::Hann]);
    }

    #[test]
    fn server_side_blits_show_the_software_frame_with_three_panes() {
        server_side_equals_software(&[WindowKind::Hamming, WindowKind::Hann, WindowKind::Blackman]);
    }

    /// A re-render answer for a pane that is gone (Tab back from three panes to one
    /// while it was computed) is dropped, not a panic (CI saw it: index 1 of 1 pane).
    #[test]
    fn a_rerender_answer_for_a_pane_that_is_gone_is_ignored() {
        let cmap = Colormap::new(ColormapKind::Magma);
        let three = view(&[WindowKind::Hann, WindowKind::Hamming, WindowKind::Blackman]);
        let mut scene = Scene::new(W, H, &three, &cmap);
        scene.rerender_sent(1, 7, 0);
        let one = view(&[WindowKind::Hann]);
        let done = Rerendered {
            id: 7,
            pane: 1,
            height: 1,
            spans: vec![RunSpan {
                first: 0,
                last: 0,
                values: Some(0),
            }],
            values: vec![-50.0],
            rows: 1,
        };
        assert!(!scene.take_rerendered(&done, &one, &cmap));
    }
}
