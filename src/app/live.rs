//! Live mode's wiring: check the input, open the window, start the source and the
//! analysis thread, run the window or the headless status loop, then the ordered
//! shutdown (STYLE.md §2: source, analysis, summary).
//!
//! Thread: main. The source, input and analysis threads are joined by [`Session::shutdown`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::analysis::history::{MonoHistory, SharedHistory};
use crate::analysis::{self, AnalysisLink, AnalysisSetup};
use crate::audio::health::InputHealth;
use crate::audio::stats::CaptureStats;
use crate::config::pane::{MelView, PaneSettings};
use crate::config::{LiveConfig, SourceChoice};
use crate::dsp::scale::ValueScale;
use crate::error::{Error, Result};
use crate::io::audio::AudioReader;
use crate::io::wav;
use crate::ui::state::ViewState;
use crate::ui::window::LiveInfo;

use super::source::{self, Running, Started, DEMO_FALLBACK_LABEL};
use super::status::{self, StatusLine};

/// How long quitting waits for the input thread before leaving a hung backend behind.
pub const INPUT_STOP_WAIT: Duration = Duration::from_millis(1000);

/// Runs live mode: the window, or with `--headless` one status line per second on stdout,
/// until Q/Esc, Ctrl-C, `--duration`, or the end of a non-looping `--file`.
///
/// # Errors
/// Source, device, window or thread failures, a thread that panicked included.
pub fn run_live(cfg: &LiveConfig) -> Result<()> {
    // Input errors first (a bad file or channel), then the window (without a display,
    // fail before touching audio), then audio.
    let preloaded = preload(cfg)?;
    let window = if cfg.headless {
        None
    } else {
        Some(crate::ui::window::open(&cfg.display)?)
    };
    let stats = Arc::new(CaptureStats::default());
    let health = Arc::new(InputHealth::new());
    let stop = stop_on_signals();
    let started = source::start_source(cfg, preloaded, &stats, &health, &stop)?;
    cfg.channel.check(started.channels)?;
    let layout = Layout::new(cfg, started.sample_rate_hz)?;
    let (session, source) = Session::start(started, &layout, cfg, stats, health, stop)?;
    match window {
        Some(window) => {
            let info = live_info(cfg, &source, &session, layout.history.clone());
            let state = view_state(cfg, layout, source.sample_rate_hz);
            let result = crate::ui::window::run(window, &session.link, &info, state);
            first_error(result, session.shutdown())
        }
        None => run_headless(cfg, &source, layout.panes.len(), session),
    }
}

/// Opens a `--file` (decoded as it plays; a looped stream is read whole first so that it
/// can start over) and checks `--channel` against it (or the demo's one channel).
fn preload(cfg: &LiveConfig) -> Result<Option<AudioReader>> {
    match &cfg.source {
        SourceChoice::File { path, looping } => {
            let stream = wav::is_stream(path);
            let reader = AudioReader::open(path, stream && *looping)?;
            let (rate, channels) = (reader.info().sample_rate_hz, reader.info().channels);
            if stream {
                // Standard input or a pipe: its header could not be checked before.
                crate::config::check_live_audio(path, rate, channels)?;
                if !cfg.headless {
                    crate::config::check_history(cfg.history_s, rate)?;
                }
            }
            cfg.channel.check(channels)?;
            Ok(Some(reader))
        }
        SourceChoice::Demo => {
            cfg.channel.check(1)?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// A flag that Ctrl-C, SIGTERM and SIGHUP (ctrlc's `termination`) set, from the first
/// open of the device on; everything live stops on it.
fn stop_on_signals() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // A second handler cannot be installed (tests run several lives): ignore that.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    stop
}

/// The panes and the history, fixed once the stream's rate is known.
struct Layout {
    /// One pane, or the `--compare` set over it.
    panes: Vec<PaneSettings>,
    /// The mel view M shows (`--mel`'s, or the default).
    mel_default: MelView,
    /// The mono history the window re-renders from (`None`: headless, or `--history 0`).
    history: Option<SharedHistory>,
}

impl Layout {
    /// Checks the axis, the history and the mel bands against the stream's rate.
    fn new(cfg: &LiveConfig, sample_rate_hz: u32) -> Result<Layout> {
        let axis = cfg
            .display
            .look
            .axis(cfg.display.freq_scale, sample_rate_hz)?;
        // The history's size is known only now for a device's default rate.
        crate::config::check_history(cfg.history_s, sample_rate_hz)?;
        // The window re-renders its history from this; headless mode has none to redraw.
        let history = (!cfg.headless && cfg.history_s > 0.0)
            .then(|| MonoHistory::shared(cfg.history_s, sample_rate_hz));
        let mel_default = cfg.mel.map_or(MelView::DEFAULT, |m| MelView {
            n_mels: m.n_mels,
            scale: m.scale,
            norm: Some(m.norm),
        });
        let first = PaneSettings {
            frontend: cfg.frontend,
            params: cfg.params,
            win_follows: !cfg.win_length_set,
            axis,
            mel: cfg.mel.map(|_| mel_default),
        };
        let panes: Vec<PaneSettings> = if cfg.compare.is_empty() {
            vec![first]
        } else {
            cfg.compare
                .iter()
                .map(|spec| spec.resolve(&first, mel_default))
                .collect::<std::result::Result<_, _>>()
                .map_err(|message| Error::InvalidArgument {
                    flag: "--compare",
                    message,
                })?
        };
        for mel in panes.iter().filter_map(|p| p.mel.map(|m| m.spec(&p.axis))) {
            mel.validate(sample_rate_hz)
                .map_err(|message| Error::InvalidArgument {
                    flag: "--mel",
                    message,
                })?;
        }
        Ok(Layout {
            panes,
            mel_default,
            history,
        })
    }
}

/// What the source is, for the window and the status lines.
struct SourceInfo {
    label: String,
    host: Option<String>,
    sample_rate_hz: u32,
    channels: usize,
}

/// Everything running once live mode has started: what the loops read and what
/// [`Session::shutdown`] stops, in order.
///
/// Thread: main.
struct Session {
    running: Running,
    link: AnalysisLink,
    analysis: JoinHandle<()>,
    stats: Arc<CaptureStats>,
    /// A device's health (`None` for --file and --demo: always live).
    health: Option<Arc<InputHealth>>,
    stop: Arc<AtomicBool>,
    t0: Instant,
}

impl Session {
    /// Starts the analysis thread on the source's rings.
    fn start(
        started: Started,
        layout: &Layout,
        cfg: &LiveConfig,
        stats: Arc<CaptureStats>,
        health: Arc<InputHealth>,
        stop: Arc<AtomicBool>,
    ) -> Result<(Session, SourceInfo)> {
        let Started {
            running,
            label,
            host,
            swaps,
            sample_rate_hz,
            channels,
            samples,
            marks,
            timebase,
        } = started;
        let (analysis, link) = analysis::spawn(AnalysisSetup {
            history: layout.history.clone(),
            samples,
            marks,
            channels,
            channel_select: cfg.channel,
            sample_rate_hz,
            timebase,
            params: layout.panes[0].params,
            compare: layout.panes[1..].iter().map(|p| p.params).collect(),
            scale: ValueScale::Db,
            swaps,
            columns_wait: !cfg.headless,
            backlog_s: if cfg.headless {
                analysis::HEADLESS_BACKLOG_S
            } else {
                analysis::WINDOW_BACKLOG_S
            },
        })?;
        // Front-end panes (--frontend, --compare "frontend=…"): queued before the window
        // asks for columns, so their first rows are the front-end's. The window's only:
        // headless status lines describe STFT rows (peak in Hz, dBFS).
        for (i, pane) in layout.panes.iter().enumerate() {
            if pane.frontend.is_some() && !cfg.headless {
                link.control
                    .send(crate::analysis::message::Control::SetFrontend(
                        i,
                        pane.frontend,
                    ));
            }
        }
        let health = matches!(running, Running::Mic(_)).then_some(health);
        let session = Session {
            running,
            link,
            analysis,
            stats,
            health,
            stop,
            t0: Instant::now(),
        };
        let source = SourceInfo {
            label,
            host,
            sample_rate_hz,
            channels,
        };
        Ok((session, source))
    }

    /// Whether the headless loop ends at `now`: a stop signal, `--duration`, or a source
    /// that finished with every frame analysed and every row taken.
    fn should_stop(&self, duration: Option<Duration>, now: Instant) -> bool {
        let source_done = match &self.running {
            Running::Paced(p) => p.finished(),
            Running::Mic(_) => false,
        };
        let cap = self.stats.snapshot();
        let drained =
            self.link.stats.snapshot().frames_analysed >= cap.frames_captured - cap.frames_dropped;
        self.stop.load(Ordering::Relaxed)
            || duration.is_some_and(|d| now - self.t0 >= d)
            || (source_done && drained && self.link.rows.is_empty())
    }

    /// Ordered shutdown: stop the source, then analysis, then report drops (and the
    /// input's losses) on stderr. Bounded: a hung audio backend is reported and left.
    ///
    /// # Errors
    /// A thread that panicked (input, source or analysis), after the summary.
    fn shutdown(self) -> Result<()> {
        let input_stopped = source::stop(self.running);
        // A dead analysis thread has dropped its receiver: this fails, the join reports.
        self.link.control.shutdown();
        let analysis = crate::error::join(self.analysis, "analysis");
        status::print_summary(
            self.t0.elapsed(),
            &self.stats,
            &self.link.stats.snapshot(),
            self.health.as_deref(),
        );
        first_error(analysis, input_stopped)
    }
}

/// What the window needs to know of the session besides the rows.
fn live_info<'a>(
    cfg: &LiveConfig,
    source: &SourceInfo,
    session: &'a Session,
    history: Option<SharedHistory>,
) -> LiveInfo<'a> {
    let current_dir = || std::env::current_dir().unwrap_or_else(|_| ".".into());
    LiveInfo {
        demo_fallback: source.label == DEMO_FALLBACK_LABEL,
        source_label: source.label.clone(),
        capture: &session.stats,
        health: session.health.as_deref(),
        screenshot_dir: current_dir(),
        deadline: cfg.duration.map(|d| session.t0 + d),
        stop: &session.stop,
        history,
        snapshot_dir: cfg.snapshot_dir.clone().unwrap_or_else(current_dir),
        snapshot_s: cfg.snapshot_s,
        suggest_s: cfg.suggest_s,
        channel: cfg.channel.index_in(source.channels),
    }
}

/// The window's first state: pane 0 focused, the HUD on, nothing paused.
fn view_state(cfg: &LiveConfig, layout: Layout, sample_rate_hz: u32) -> ViewState {
    ViewState {
        mel_default: layout.mel_default,
        compare: cfg.compare.clone(),
        colormap: cfg.display.look.colormap,
        range: cfg.display.look.range,
        rerender: layout.history.is_some(),
        span_ms: cfg.display.span_ms,
        frontends: cfg.frontends.clone(),
        ..ViewState::new(layout.panes, sample_rate_hz)
    }
}

/// The headless loop: take the rows, print a status line every second, stop when
/// [`Session::should_stop`], then shut down.
fn run_headless(
    cfg: &LiveConfig,
    source: &SourceInfo,
    panes: usize,
    session: Session,
) -> Result<()> {
    let mut status = StatusLine::new(source.label.clone(), source.sample_rate_hz, cfg.params);
    status.panes = panes;
    status.host = source.host.clone();
    let (t0, link) = (session.t0, &session.link);
    let health = session.health.as_deref();
    let mut next_status = t0 + Duration::from_secs(1);
    loop {
        match link.rows.recv_timeout(Duration::from_millis(50)) {
            Ok(row) => {
                status.observe(&row);
                link.recycle(row);
                for row in link.rows.try_iter() {
                    status.observe(&row);
                    link.recycle(row);
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_status {
            status.print(now - t0, &session.stats, link, health);
            next_status += Duration::from_secs(1);
        }
        if session.should_stop(cfg.duration, now) {
            break;
        }
    }
    // A last line for the partial interval, unless it would measure (almost) nothing.
    if t0.elapsed() >= status.prev_t + Duration::from_millis(250) {
        status.print(t0.elapsed(), &session.stats, link, health);
    }
    session.shutdown()
}

/// `first`'s error, else `second`'s; when both failed, `second`'s is printed here (one
/// line) so that neither is lost.
fn first_error(first: Result<()>, second: Result<()>) -> Result<()> {
    match (first, second) {
        (Err(first), Err(second)) => {
            eprintln!("hopscope: error: {second}");
            Err(first)
        }
        (first, second) => first.and(second),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(role: &'static str) -> Result<()> {
        Err(Error::ThreadPanicked {
            role,
            thread: role.into(),
            message: "boom".into(),
        })
    }

    #[test]
    fn the_first_error_wins_and_none_is_lost() {
        assert!(first_error(Ok(()), Ok(())).is_ok());
        let only_second = first_error(Ok(()), failed("input")).expect_err("second failed");
        assert!(only_second.to_string().contains("input"));
        let both = first_error(failed("analysis"), failed("input")).expect_err("both");
        assert!(both.to_string().contains("analysis"));
    }
}
