//! The live window (minifb, main thread): the frame loop. Each frame takes the key
//! presses (view changes, jobs), the rows (into the panes), what background jobs sent
//! back, composes the frame ([`crate::ui::frame`]) and presents it
//! ([`crate::ui::present`]). The only module that opens a minifb window.

use std::path::PathBuf;
use std::time::Instant;

use minifb::{MouseMode, Window, WindowOptions};

use crate::analysis::history::SharedHistory;
use crate::analysis::message::{Control, MAX_PANES};
use crate::analysis::AnalysisLink;
use crate::audio::health::InputHealth;
use crate::audio::stats::CaptureStats;
use crate::config::DisplayConfig;
use crate::error::{Error, Result};
use crate::render::chrome::BACKGROUND;
use crate::render::colormap::Colormap;
use crate::ui::effects::{self, Effects, Job};
use crate::ui::frame::{FrameInput, RowInput, Scene, Target};
use crate::ui::hud::HudSources;
use crate::ui::input::{KeyEvents, Press};
use crate::ui::keys::action_for;
use crate::ui::labels;
use crate::ui::pane::column_spec;
use crate::ui::present::{Blit, Screen};
use crate::ui::state::{Effect, ViewState};
use crate::ui::timing::Meters;

/// Window title (what `xdotool search --name hopscope` finds).
pub const TITLE: &str = "hopscope";
/// Target display rate.
pub const FPS: usize = 60;

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

/// Runs the window until Q/Esc or the window is closed.
///
/// # Errors
/// The window system failed mid-run.
pub fn run(
    window: Window,
    link: &AnalysisLink,
    info: &LiveInfo<'_>,
    state: ViewState,
) -> Result<()> {
    let mut live = Live::new(window, link, info, state);
    println!("{}", live.state.status_line());
    let result = live.frames();
    // A frame-loop error comes first; a panicked job is reported when the loop ended well.
    let finished = live.finish();
    result.and(finished)
}

/// Whether the loop goes on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

/// What a key's effect amounted to.
enum Handled {
    /// Quit.
    Quit,
    /// The view changed: refresh the HUD, print the status line.
    Changed,
    /// Nothing to show (no change, or a job started).
    Quiet,
}

/// Everything the frame loop owns.
///
/// Thread: UI (main).
struct Live<'a> {
    /// The window and its presenter (dropped last: see [`Screen`]).
    screen: Screen,
    scene: Scene,
    state: ViewState,
    cmap: Colormap,
    effects: Effects,
    meters: Meters,
    keys: KeyEvents,
    /// What the server copies this frame (server-side presentation).
    blits: Vec<Blit>,
    /// The pane set rows must belong to (see `Control::SetPanes`).
    layout_epoch: u64,
    /// The newest column geometry asked of the analysis (see `Control::SetColumns`).
    grid_epoch: u64,
    /// S was pressed: save this frame.
    screenshot: bool,
    link: &'a AnalysisLink,
    info: &'a LiveInfo<'a>,
}

impl<'a> Live<'a> {
    fn new(
        mut window: Window,
        link: &'a AnalysisLink,
        info: &'a LiveInfo<'a>,
        state: ViewState,
    ) -> Live<'a> {
        let cmap = Colormap::new(state.colormap);
        let keys = KeyEvents::install(&mut window);
        let screen = Screen::new(window, BACKGROUND);
        let (width, height) = screen.presenter().size();
        let mut live = Live {
            scene: Scene::new(width, height, &state, &cmap),
            blits: Vec::with_capacity(64 * MAX_PANES),
            screen,
            effects: Effects::start(info.history.clone()),
            meters: Meters::new(),
            keys,
            layout_epoch: 0,
            grid_epoch: 0,
            screenshot: false,
            state,
            cmap,
            link,
            info,
        };
        live.regrid_all();
        live
    }

    fn frames(&mut self) -> Result<()> {
        while !self.should_close() {
            if self.frame()? == Flow::Quit {
                break;
            }
        }
        Ok(())
    }

    fn should_close(&self) -> bool {
        !self.screen.window().is_open()
            || self.info.stop.load(std::sync::atomic::Ordering::Relaxed)
            || self.info.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// One frame: keys, rows, jobs' results, compose, present, then the work no row
    /// waits for.
    fn frame(&mut self) -> Result<Flow> {
        let frame_start = Instant::now();
        if self.handle_keys() == Flow::Quit {
            return Ok(Flow::Quit);
        }
        self.follow_resize();
        self.take_rows(frame_start);
        if self.scene.take_regrid() {
            self.regrid_all();
        }
        let presenter = self.screen.presenter_mut();
        self.effects
            .poll(&mut self.state, &mut self.scene, presenter, &self.cmap);
        self.scene.follow_view(self.state.paused);
        self.compose();
        let presented = self.screen.present(&self.blits).map_err(Error::Display)?;
        self.meters.frame_presented(frame_start, presented);
        // Events, and the wait for the next display frame.
        self.screen.finish();
        // Work no row waits for: refresh the HUD's numbers after the frame is handed over.
        let now = Instant::now();
        if self.state.hud && self.scene.hud_mut().due(now) {
            self.render_hud(now);
        }
        if std::mem::take(&mut self.screenshot) {
            let pixels =
                effects::screenshot_pixels(self.screen.presenter(), &self.scene, &self.blits);
            let dir = self.info.screenshot_dir.clone();
            self.effects.screenshot(pixels, self.scene.size(), dir);
        }
        Ok(Flow::Go)
    }

    /// Every press since the last frame, in order (see `ui::input`).
    fn handle_keys(&mut self) -> Flow {
        let presses = self.keys.take();
        for &Press { key, shift } in presses.as_slice() {
            let Some(action) = action_for(key, shift) else {
                continue;
            };
            let effect = self.state.apply(action);
            match self.on_effect(effect) {
                Handled::Quit => return Flow::Quit,
                Handled::Quiet => {}
                Handled::Changed => {
                    self.scene.hud_mut().invalidate();
                    println!("{}", self.state.status_line());
                }
            }
        }
        Flow::Go
    }

    fn on_effect(&mut self, effect: Effect) -> Handled {
        let focus = self.state.focus;
        match effect {
            Effect::None => return Handled::Quiet,
            Effect::Quit => return Handled::Quit,
            Effect::Screenshot => self.screenshot = true,
            Effect::Snapshot => {
                let job = self.job();
                self.effects.snapshot(&job, &self.scene.panes()[focus]);
            }
            Effect::Export => self.effects.export(&self.job()),
            Effect::Suggest => {
                let job = self.job();
                self.effects.suggest(&job);
            }
            Effect::Params(p) => {
                self.link.control.send(Control::SetParams(focus, p));
                return Handled::Changed;
            }
            Effect::Panes => {
                self.set_panes();
                return Handled::Changed;
            }
            Effect::Recolor => {
                self.cmap = Colormap::new(self.state.colormap);
                for (i, pane) in self.scene.panes_mut().iter_mut().enumerate() {
                    pane.waterfall.recolor(&self.cmap, self.state.pane_range(i));
                }
                return Handled::Changed;
            }
            Effect::Remap => {
                self.remap_focused();
                return Handled::Changed;
            }
            Effect::Frontend => {
                let spec = self.state.focused().frontend;
                self.link.control.send(Control::SetFrontend(focus, spec));
                self.remap_focused();
                return Handled::Changed;
            }
            Effect::Regrid => {
                self.regrid_all();
                return Handled::Changed;
            }
            Effect::Redraw => return Handled::Changed,
        }
        Handled::Quiet
    }

    /// What a job (P, E, G) needs: the focused pane's rows on screen.
    fn job(&self) -> Job<'a> {
        let focused = self.state.focused();
        let pane = &self.scene.panes()[self.state.focus];
        Job {
            info: self.info,
            params: pane.last_params.unwrap_or(focused.params),
            settings: focused,
            sample_rate_hz: self.state.sample_rate_hz,
        }
    }

    /// Tab: sends the analysis the new pane set; fresh panes each re-render the history
    /// with their first row.
    fn set_panes(&mut self) {
        self.layout_epoch += 1;
        let count = self.state.pane_count();
        let mut params = [self.state.focused().params; MAX_PANES];
        for (i, p) in params.iter_mut().enumerate().take(count) {
            *p = self.state.pane(i).params;
        }
        self.link.control.send(Control::SetPanes {
            layout: self.layout_epoch,
            count,
            params,
        });
        for i in 0..count {
            let spec = self.state.pane(i).frontend;
            self.link.control.send(Control::SetFrontend(i, spec));
        }
        let (width, height) = self.scene.size();
        self.fresh_scene(width, height);
    }

    /// A new frame and empty panes of `width × height`, their columns asked for.
    fn fresh_scene(&mut self, width: usize, height: usize) {
        self.screen.rebuild(width, height, BACKGROUND);
        self.scene.rebuild(width, height, &self.state, &self.cmap);
        self.regrid_all();
    }

    /// Asks the analysis for pane `index`'s columns as its settings, size and the span
    /// now say; the pane continues on them (its first run re-renders the history).
    fn regrid(&mut self, index: usize) {
        self.grid_epoch += 1;
        let span_ms = self.state.span_ms;
        let Some(pane) = self.scene.panes_mut().get_mut(index) else {
            return;
        };
        let plot = pane.layout.plot;
        let spec = column_spec(&self.state.pane(index), (plot.w, plot.h), span_ms);
        pane.regrid(self.grid_epoch, span_ms, &self.cmap);
        self.link.control.send(Control::SetColumns {
            pane: index,
            grid_id: self.grid_epoch,
            spec,
        });
        self.screen.presenter_mut().invalidate_waterfall(index);
    }

    /// [`Live::regrid`] for every pane.
    fn regrid_all(&mut self) {
        for index in 0..self.scene.panes().len() {
            self.regrid(index);
        }
    }

    /// The focused pane's axis changed: a marker, and its columns on the new axis.
    fn remap_focused(&mut self) {
        let focus = self.state.focus;
        self.regrid(focus);
        let label = labels::axis_marker(&self.state.focused());
        self.scene.panes_mut()[focus].grid_marker = Some(label);
    }

    /// Resize: a new layout and fresh panes at the new size.
    fn follow_resize(&mut self) {
        let (w, h) = self.screen.window().get_size();
        if (w, h) != self.scene.size() && w > 0 && h > 0 {
            self.fresh_scene(w, h);
        }
    }

    /// Draws every row the analysis finished into its pane.
    fn take_rows(&mut self, frame_start: Instant) {
        let link = self.link;
        for row in link.rows.try_iter() {
            let mut input = RowInput {
                state: &mut self.state,
                cmap: &self.cmap,
                layout_epoch: self.layout_epoch,
                frame_start,
                meters: &mut self.meters,
            };
            if let Some(want) = self.scene.take_row(&row, &mut input) {
                self.effects
                    .request_rerender(&mut self.scene, want, &self.state);
            }
            link.recycle(row);
        }
    }

    fn render_hud(&mut self, now: Instant) {
        let sources = HudSources {
            source_label: &self.info.source_label,
            demo_fallback: self.info.demo_fallback,
            capture: self.info.capture,
            analysis: &self.link.stats,
        };
        self.scene
            .render_hud(&self.state, &sources, &mut self.meters, now);
    }

    /// Draws the frame into the presenter's buffer and lists in `blits` what the server
    /// must copy (server-side mode; the whole buffer is sent otherwise).
    fn compose(&mut self) {
        // HUD: re-rendered every HUD_REFRESH (or, here, right after a change).
        if self.state.hud && self.scene.hud_mut().stale() {
            self.render_hud(Instant::now());
        }
        let pointer = self
            .screen
            .window()
            .get_mouse_pos(MouseMode::Discard)
            .map(|(x, y)| (x as usize, y as usize));
        let input = FrameInput {
            state: &self.state,
            cmap: &self.cmap,
            source_label: &self.info.source_label,
            pointer,
            notice: self.effects.notice(),
            health: self.info.health.map(|h| h.snapshot(Instant::now())),
        };
        let presenter = self.screen.presenter_mut();
        let server_side = presenter.server_side();
        if server_side {
            for (i, pane) in self.scene.panes().iter().enumerate() {
                presenter.sync_waterfall(i, &pane.waterfall);
            }
        }
        self.blits.clear();
        let target = Target {
            pixels: presenter.pixels_mut(),
            blits: server_side.then_some(&mut self.blits),
        };
        self.scene.compose(&input, target);
    }

    /// Waits for the jobs and prints the run's frame timing.
    ///
    /// # Errors
    /// A background job or the `rerender` thread panicked.
    fn finish(self) -> Result<()> {
        let jobs = self.effects.finish();
        let presenter = self.screen.presenter();
        self.meters.report(presenter.method(), presenter.flush_ms());
        if self.keys.dropped() > 0 {
            eprintln!(
                "hopscope: {} key presses dropped (more than {} in one frame)",
                self.keys.dropped(),
                crate::ui::input::MAX_PRESSES
            );
        }
        jobs
    }
}
