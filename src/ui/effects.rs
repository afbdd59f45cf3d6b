//! Work the window starts and does not wait for: snapshots (P), parameter export (E),
//! suggestions (G), screenshots (S), history re-rendering, and the notices that report
//! their failures in the window.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::analysis::history::SharedHistory;
use crate::config::pane::PaneSettings;
use crate::dsp::stft::StftParams;
use crate::io::png;
use crate::render::colormap::Colormap;
use crate::ui::frame::Scene;
use crate::ui::labels::ScaleLabel;
use crate::ui::pane::{column_spec, Pane, RerenderWant};
use crate::ui::present::{self, Blit, Presenter};
use crate::ui::rerender::{self, RerenderLink, RerenderRequest};
use crate::ui::state::ViewState;
use crate::ui::window::LiveInfo;

/// How long a notice stays on screen.
const NOTICE_FOR: Duration = Duration::from_secs(6);

/// What a job needs to know about the focused pane.
pub struct Job<'a> {
    /// The window's setup (directories, durations, history).
    pub info: &'a LiveInfo<'a>,
    /// The parameters of the rows on screen.
    pub params: StftParams,
    /// The pane's settings.
    pub settings: PaneSettings,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
}

/// The background jobs and their channels back to the window.
///
/// Thread: UI (the jobs run on their own threads: `snapshot`, `suggest`, `screenshot`,
/// `rerender`). Allocates: when a job starts; polling allocates nothing.
pub struct Effects {
    rerender_thread: Option<JoinHandle<()>>,
    rerender: Option<RerenderLink>,
    /// Suggestions computed in the background (G), applied with A.
    suggest_tx: Sender<StftParams>,
    suggest_rx: Receiver<StftParams>,
    /// Failures of background jobs, shown for [`NOTICE_FOR`].
    notice_tx: Sender<String>,
    notice_rx: Receiver<String>,
    notice: Option<(String, Instant)>,
    /// Jobs whose files must be complete before the process exits.
    jobs: Vec<JoinHandle<()>>,
}

impl Effects {
    /// Starts history re-rendering when the live source keeps a `history`.
    pub fn start(history: Option<SharedHistory>) -> Effects {
        let (rerender_thread, rerender) = match history.map(rerender::spawn) {
            Some(Ok((handle, link))) => (Some(handle), Some(link)),
            Some(Err(e)) => {
                eprintln!("hopscope: history re-rendering is off: {e}");
                (None, None)
            }
            None => (None, None),
        };
        let (suggest_tx, suggest_rx) = crossbeam_channel::bounded(4);
        let (notice_tx, notice_rx) = crossbeam_channel::bounded(8);
        Effects {
            rerender_thread,
            rerender,
            suggest_tx,
            suggest_rx,
            notice_tx,
            notice_rx,
            notice: None,
            jobs: Vec::new(),
        }
    }

    /// The notice to show now.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_ref().map(|(text, _)| text.as_str())
    }

    /// Takes what the jobs sent back: suggestions (into `state`), re-rendered history
    /// (into `scene`; `presenter`'s copy refreshed), notices (the newest, for a while).
    ///
    /// Allocates: no (re-rendered history is rebuilt, allocating, when it arrives).
    pub fn poll(
        &mut self,
        state: &mut ViewState,
        scene: &mut Scene,
        presenter: &mut Presenter,
        cmap: &Colormap,
    ) {
        for best in self.suggest_rx.try_iter() {
            state.suggestion = Some(best);
        }
        if let Some(link) = &self.rerender {
            for done in link.results.try_iter() {
                if scene.take_rerendered(&done, state, cmap) {
                    presenter.invalidate_waterfall(done.pane);
                }
            }
        }
        if let Some(text) = self.notice_rx.try_iter().last() {
            self.notice = Some((text, Instant::now()));
        }
        if self
            .notice
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() > NOTICE_FOR)
        {
            self.notice = None;
        }
    }

    /// Asks the `rerender` thread for `want` under the pane's current map: one screen
    /// of columns before the cut. Nothing happens without history.
    pub fn request_rerender(&mut self, scene: &mut Scene, want: RerenderWant, state: &ViewState) {
        let Some(link) = self.rerender.as_mut() else {
            return;
        };
        let Some(pane) = scene.panes().get(want.pane) else {
            return;
        };
        if want.pane >= state.pane_count() {
            return;
        }
        link.sent += 1;
        let id = link.sent;
        let plot = pane.layout.plot;
        // The pane's columns as the analysis folds them (their spec's map).
        let spec = column_spec(&state.pane(want.pane), (plot.w, plot.h), state.span_ms);
        let request = RerenderRequest {
            id,
            pane: want.pane,
            params: want.params,
            map: spec.map(want.params.fft_size, want.grid.sample_rate_hz),
            grid: want.grid,
            first_end: want.first_end,
            cut_serial: want.cut_serial,
            columns: plot.w,
        };
        if link.requests.try_send(request).is_ok() {
            scene.rerender_sent(want.pane, id, want.cut_serial);
        }
    }

    /// Copies what a snapshot needs (the newest history, the visible columns of `pane`)
    /// and writes it on a `snapshot` thread, which prints the folder.
    pub fn snapshot(&mut self, job: &Job<'_>, pane: &Pane) {
        let Some(history) = &job.info.history else {
            notify(
                &self.notice_tx,
                "snapshot: no history is kept (--history 0)".into(),
            );
            return;
        };
        let want = (job.info.snapshot_s * f64::from(job.sample_rate_hz)).round() as u64;
        let Ok(history) = history.lock() else {
            return;
        };
        let (first_sample, samples) = history.newest(want);
        drop(history);
        let height = pane.waterfall.height();
        let s = &job.settings;
        let snap = crate::offline::snapshot::Snapshot {
            dir: job.info.snapshot_dir.clone(),
            samples,
            first_sample,
            sample_rate_hz: job.sample_rate_hz,
            params: job.params,
            channel: job.info.channel,
            display: visible_columns(pane),
            display_height: height,
            display_axis: format!(
                "{} {:.0}-{:.0} Hz, {height} px",
                ScaleLabel(s),
                s.axis.lo_hz(),
                s.axis.fmax_hz,
            ),
        };
        let done = self.notice_tx.clone();
        let spawned = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || match crate::offline::snapshot::write(&snap) {
                Ok(path) => println!("snapshot: {}", path.display()),
                Err(e) => notify(&done, format!("snapshot failed: {e}")),
            });
        match spawned {
            Ok(handle) => self.jobs.push(handle),
            Err(e) => notify(&self.notice_tx, format!("snapshot failed: {e}")),
        }
    }

    /// Writes `hopscope-params-STAMP[-N].json` (and its snippets) for the rows on screen
    /// into the snapshot directory, never overwriting, and prints the path.
    pub fn export(&self, job: &Job<'_>) {
        let Some(path) = crate::io::atomic::stamped_names("hopscope-params", ".json")
            .map(|name| job.info.snapshot_dir.join(name))
            .find(|p| !p.exists())
        else {
            notify(&self.notice_tx, "export: no free file name".into());
            return;
        };
        let s = &job.settings;
        if let Some(frontend) = s.frontend {
            return self.export_frontend(frontend, job);
        }
        // The mel view exports its filterbank: the rows on screen are those mel rows.
        let filterbank = s.mel.map(|mel| {
            crate::dsp::mel::MelFilterbank::new(
                mel.spec(&s.axis),
                job.sample_rate_hz,
                job.params.fft_size,
            )
        });
        let spec = crate::offline::export::ExportSpec {
            sample_rate_hz: job.sample_rate_hz,
            params: job.params,
            center: false,
            scale: crate::dsp::scale::ValueScale::Db,
            mel: filterbank.as_ref(),
            channel: job.info.channel,
            params_from: None,
        };
        match crate::offline::export::write(&path, &spec) {
            Ok(_) => println!(
                "export: {}",
                std::path::absolute(&path).unwrap_or(path).display()
            ),
            Err(e) => notify(&self.notice_tx, format!("export failed: {e}")),
        }
    }

    /// E on a front-end pane: the front-end as JSON (`io::frontend_json`, the export
    /// format), loadable with `--frontend PATH.json` (and `hopscope frontends NAME --json`
    /// writes the same).
    fn export_frontend(&self, spec: &crate::dsp::frontend::FrontendSpec, job: &Job<'_>) {
        let stem = format!("hopscope-frontend-{}", spec.name);
        let Some(path) = crate::io::atomic::stamped_names(&stem, ".json")
            .map(|name| job.info.snapshot_dir.join(name))
            .find(|p| !p.exists())
        else {
            notify(&self.notice_tx, "export: no free file name".into());
            return;
        };
        let json = crate::io::frontend_json::FrontendFile::of(spec).to_json_pretty();
        match std::fs::write(&path, json) {
            Ok(()) => println!(
                "export: {} (load it with --frontend PATH.json)",
                std::path::absolute(&path).unwrap_or(path).display()
            ),
            Err(e) => notify(&self.notice_tx, format!("export failed: {e}")),
        }
    }

    /// Ranks n_fft (256..16384, the current window, hop = n_fft × the current hop ratio)
    /// by Rényi entropy over the last `--suggest-seconds` of history on a `suggest`
    /// thread, which prints the table and sends the best parameters back for A.
    pub fn suggest(&mut self, job: &Job<'_>) {
        let Some(history) = &job.info.history else {
            eprintln!("hopscope: suggest: no history is kept (--history 0)");
            return;
        };
        let want = (job.info.suggest_s * f64::from(job.sample_rate_hz)) as u64;
        let Ok(history) = history.lock() else {
            return;
        };
        let (_, samples) = history.newest(want);
        drop(history);
        let (params, sr, results) = (job.params, job.sample_rate_hz, self.suggest_tx.clone());
        let spawned = std::thread::Builder::new()
            .name("suggest".into())
            .spawn(move || {
                if let Some(best) = print_suggestions(&samples, params, sr) {
                    let _ = results.try_send(best);
                }
            });
        match spawned {
            Ok(handle) => self.jobs.push(handle),
            Err(e) => eprintln!("hopscope: suggest failed: {e}"),
        }
    }

    /// Saves the frame as a PNG in `dir` on a `screenshot` thread (the frame loop never
    /// waits for the encoder), which prints the path.
    pub fn screenshot(&mut self, pixels: Vec<u32>, (width, height): (usize, usize), dir: PathBuf) {
        let spawned = std::thread::Builder::new()
            .name("screenshot".into())
            .spawn(
                move || match png::save_screenshot(&dir, &pixels, width, height) {
                    Ok(path) => println!("screenshot: {}", path.display()),
                    Err(e) => eprintln!("hopscope: screenshot failed: {e}"),
                },
            );
        match spawned {
            Ok(handle) => self.jobs.push(handle),
            Err(e) => eprintln!("hopscope: screenshot failed: {e}"),
        }
    }

    /// Waits for every job that writes files (never leave half a screenshot behind) and
    /// stops the `rerender` thread.
    ///
    /// # Errors
    /// A job or the `rerender` thread panicked (the first one; all are waited for).
    pub fn finish(self) -> crate::error::Result<()> {
        let mut first_panic = Ok(());
        for job in self.jobs {
            first_panic = first_panic.and(crate::error::join(job, "background"));
        }
        drop(self.rerender);
        if let Some(handle) = self.rerender_thread {
            first_panic = first_panic.and(crate::error::join(handle, "re-render"));
        }
        first_panic
    }
}

/// Says a failure of a background job (P, E) on stderr and in the window.
fn notify(notices: &Sender<String>, message: String) {
    eprintln!("hopscope: {message}");
    // A full channel means the window has more notices than it can show.
    let _ = notices.try_send(message);
}

/// The dB values of the pane's visible columns, column after column (bottom-up each).
fn visible_columns(pane: &Pane) -> Vec<f32> {
    let wf = &pane.waterfall;
    let width = pane.layout.plot.w;
    let mut display = Vec::with_capacity(width * wf.height());
    let mut column = vec![0.0; wf.height()];
    for serial in pane.view_end.saturating_sub(width as u64)..pane.view_end {
        if wf.column(serial, &mut column) {
            display.extend_from_slice(&column);
        }
    }
    display
}

/// Scores n_fft candidates over `samples` and prints the table; returns the best.
fn print_suggestions(
    samples: &[f32],
    params: StftParams,
    sample_rate_hz: u32,
) -> Option<StftParams> {
    use crate::dsp::entropy::Grid;
    use crate::offline::suggest::{candidates, score};
    let sr = f64::from(sample_rate_hz);
    let ratio = params.hop_size as f64 / params.fft_size as f64;
    let grid = Grid::HopRatio(ratio);
    let cands = candidates(&[params.window], grid, 256, 16384, samples.len());
    if cands.is_empty() {
        println!("suggest: not enough history yet");
        return None;
    }
    let scores = score(samples, &cands, grid, 1);
    println!(
        "suggest: last {:.1} s, window {}, hop = n_fft x {ratio}: n_fft, entropy bits, bin Hz, hop ms, rank",
        samples.len() as f64 / sr,
        params.window,
    );
    for s in &scores {
        println!(
            "suggest: {:>6} {:>8.3} {:>8.2} {:>8.3} {:>3}",
            s.params.fft_size,
            s.bits,
            sr / s.params.fft_size as f64,
            s.params.hop_size as f64 * 1e3 / sr,
            s.rank
        );
    }
    let best = scores.iter().find(|s| s.rank == 1)?.params;
    println!(
        "suggest: best n_fft={} win_length={} hop={} window={} (A applies)",
        best.fft_size, best.win_length, best.hop_size, best.window
    );
    Some(best)
}

/// The frame as the window shows it: the presenter's buffer, with this frame's blits
/// laid over it in server-side mode (the buffer then holds all but the waterfalls).
pub fn screenshot_pixels(presenter: &Presenter, scene: &Scene, blits: &[Blit]) -> Vec<u32> {
    let mut pixels = presenter.pixels().to_vec();
    if presenter.server_side() {
        let images: Vec<(&[u32], usize)> = scene
            .panes()
            .iter()
            .map(|p| (p.waterfall.pixels(), p.waterfall.capacity()))
            .collect();
        let (width, _) = presenter.size();
        present::assemble(blits, presenter.pixels(), width, &images, &mut pixels);
    }
    pixels
}
