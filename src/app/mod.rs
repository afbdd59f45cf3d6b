//! Wiring: start a source, the analysis thread and the status loop; ordered shutdown.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::history::MonoHistory;
use crate::analysis::message::SpectrumRow;
use crate::analysis::{self, AnalysisLink, AnalysisSetup};
use crate::audio::capture::{self, DeviceRequest, InputRequest};
use crate::audio::health::InputHealth;
use crate::audio::ring::{self, MarkConsumer, SampleConsumer};
use crate::audio::source::demo::DemoSignal;
use crate::audio::source::file::FileSource;
use crate::audio::source::{BlockSource, PacedSource};
use crate::audio::stats::CaptureStats;
use crate::audio::supervisor::{InputSwap, Supervisor, CLOSE_WAIT};
use crate::cli::{Cli, Command};
use crate::config::{
    AnalyzeConfig, LiveConfig, RenderConfig, SourceChoice, DEFAULT_DEMO_RATE_HZ,
    DEFAULT_PACED_PERIOD,
};
use crate::dsp::scale::{bin_to_hz, ValueScale};
use crate::dsp::stft::StftParams;
use crate::error::{Error, Result};
use crate::io::wav;
use crate::offline;
use crate::stream::Timebase;
use crate::ui::state::{MelView, PaneSettings};

/// Label shown when live mode fell back to the demo signal.
pub const DEMO_FALLBACK_LABEL: &str = "DEMO SIGNAL - no input device";

/// Runs the command the user asked for.
///
/// # Errors
/// Every failure, as one line.
pub fn run(cli: Cli) -> Result<()> {
    crate::audio::quiet::install();
    match &cli.command {
        Some(Command::Devices) => run_devices(),
        Some(Command::Analyze(args)) => {
            let cfg = AnalyzeConfig::try_from(args)?;
            let r = offline::analyze::run(&cfg)?;
            println!(
                "wrote {}: {} rows x {} bins float32 ({}) from {} ({} Hz, {} ch, {:.3} s) in {:.3} s",
                cfg.output.display(),
                r.rows,
                r.bins,
                cfg.scale,
                cfg.input.display(),
                r.sample_rate_hz,
                r.channels,
                r.seconds,
                r.elapsed.as_secs_f64()
            );
            for path in &r.exported {
                println!("exported {}", path.display());
            }
            Ok(())
        }
        Some(Command::Render(args)) => {
            let cfg = RenderConfig::try_from(args)?;
            let r = offline::render::run(&cfg)?;
            println!(
                "wrote {}: {} x {} px ({} rows x {} bins, {} scale) from {} in {:.3} s",
                cfg.output.display(),
                r.width,
                r.height,
                r.rows,
                r.bins,
                cfg.freq_scale,
                cfg.input.display(),
                r.elapsed.as_secs_f64()
            );
            for path in &r.exported {
                println!("exported {}", path.display());
            }
            Ok(())
        }
        Some(Command::Suggest(args)) => run_suggest(args),
        None => run_live(&LiveConfig::new(
            &cli.live,
            &cli.analysis,
            &cli.display,
            &cli.mel,
        )?),
    }
}

/// Runs `hopscope suggest`: the ranking table and the `best:` line on stdout.
///
/// # Errors
/// Invalid flags, an unreadable or too short WAV.
pub fn run_suggest(args: &crate::cli::SuggestArgs) -> Result<()> {
    let cfg = crate::config::SuggestConfig::try_from(args)?;
    let report = crate::offline::suggest::suggest(&cfg)?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.to_text().as_bytes());
    let _ = out.flush();
    Ok(())
}

fn run_devices() -> Result<()> {
    let hosts = capture::list_hosts();
    for host in &hosts {
        let default = if host.is_default {
            " (default host)"
        } else {
            ""
        };
        println!("host {}{default}", host.name);
        match &host.devices {
            Err(e) => println!("  {e}"),
            Ok(devices) => {
                if let Some(input) = &host.default_input {
                    if !devices.iter().any(|d| d.is_default) {
                        println!("  default input: {input} (an alias of a device below, or not openable)");
                    }
                }
                if devices.is_empty() {
                    println!("  no input devices");
                }
                for d in devices {
                    let default = if d.is_default { " (default)" } else { "" };
                    println!("  {}{default}  [id {}]", d.name, d.id);
                    println!("      default: {}", d.default_config);
                    for s in &d.supported {
                        println!("      supports: {s}");
                    }
                }
            }
        }
    }
    if !hosts
        .iter()
        .any(|h| h.devices.as_ref().is_ok_and(|d| !d.is_empty()))
    {
        println!("no input devices found (live mode will fall back to the demo signal)");
    }
    Ok(())
}

/// What feeds the ring.
enum Running {
    /// A device, watched (and reopened) by its supervisor.
    Mic(Supervisor),
    Paced(PacedSource),
}

struct Started {
    running: Running,
    label: String,
    /// The audio host (`None` for --file and --demo).
    host: Option<String>,
    /// The rings of reopened streams.
    swaps: Option<crossbeam_channel::Receiver<InputSwap>>,
    sample_rate_hz: u32,
    channels: usize,
    samples: SampleConsumer,
    marks: MarkConsumer,
    timebase: Timebase,
}

fn start_paced(
    source: Box<dyn BlockSource>,
    period: u32,
    label: String,
    stats: &Arc<CaptureStats>,
) -> Result<Started> {
    let (rate, channels) = (source.sample_rate_hz(), source.channels());
    let (producer, samples) = ring::sample_ring(rate, channels);
    let (mark_producer, marks) = ring::mark_ring();
    let callback = crate::audio::callback::CaptureCallback::<f32>::new(
        producer,
        mark_producer,
        Arc::clone(stats),
        channels,
    );
    let origin = Instant::now();
    let paced = PacedSource::spawn(source, period as usize, callback, origin)?;
    Ok(Started {
        running: Running::Paced(paced),
        label,
        host: None,
        swaps: None,
        sample_rate_hz: rate,
        channels,
        samples,
        marks,
        timebase: Timebase { origin },
    })
}

fn start_demo(cfg: &LiveConfig, label: &str, stats: &Arc<CaptureStats>) -> Result<Started> {
    let rate = cfg.sample_rate_hz.unwrap_or(DEFAULT_DEMO_RATE_HZ);
    let period = cfg.buffer_frames.unwrap_or(DEFAULT_PACED_PERIOD);
    start_paced(Box::new(DemoSignal::new(rate)), period, label.into(), stats)
}

fn start_mic(
    device: DeviceRequest,
    cfg: &LiveConfig,
    stats: &Arc<CaptureStats>,
    health: &Arc<InputHealth>,
    stop: &AtomicBool,
) -> Result<Started> {
    let request = InputRequest {
        host: capture::resolve_host(cfg.host.as_deref())?,
        device,
        sample_rate_hz: cfg.sample_rate_hz,
        buffer_frames: cfg.buffer_frames,
    };
    let host = capture::host_name(request.host);
    let (swap_tx, swaps) = crossbeam_channel::bounded(4);
    let (supervisor, first, name, label) = Supervisor::start(
        request,
        Arc::clone(stats),
        Arc::clone(health),
        swap_tx,
        stop,
    )?;
    eprintln!("hopscope: capturing from {label} via {host}");
    Ok(Started {
        label: name,
        host: Some(host),
        swaps: Some(swaps),
        sample_rate_hz: first.sample_rate_hz,
        channels: first.channels,
        samples: first.samples,
        marks: first.marks,
        timebase: first.timebase,
        running: Running::Mic(supervisor),
    })
}

fn start_source(
    cfg: &LiveConfig,
    preloaded: Option<wav::WavAudio>,
    stats: &Arc<CaptureStats>,
    health: &Arc<InputHealth>,
    stop: &AtomicBool,
) -> Result<Started> {
    match &cfg.source {
        SourceChoice::Demo => start_demo(cfg, "DEMO SIGNAL", stats),
        SourceChoice::File { path, looping } => {
            let audio = preloaded.expect("run_live reads a --file before starting it");
            let label = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let period = cfg.buffer_frames.unwrap_or(DEFAULT_PACED_PERIOD);
            start_paced(
                Box::new(FileSource::new(audio, *looping)),
                period,
                label,
                stats,
            )
        }
        SourceChoice::Device(query) => start_mic(
            DeviceRequest::Named(query.clone()),
            cfg,
            stats,
            health,
            stop,
        ),
        SourceChoice::DefaultDevice => {
            match start_mic(DeviceRequest::Default, cfg, stats, health, stop) {
                Ok(started) => Ok(started),
                // Only fall back when the user asked for nothing specific of the device.
                Err(
                    e @ (Error::NoInputDevice(_) | Error::DeviceConfig { .. } | Error::Audio(_)),
                ) if cfg.sample_rate_hz.is_none()
                    && cfg.buffer_frames.is_none()
                    && cfg.host.is_none() =>
                {
                    eprintln!("hopscope: no usable input device ({e}); showing the built-in DEMO SIGNAL instead");
                    start_demo(cfg, DEMO_FALLBACK_LABEL, stats)
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// Runs live mode headless: one status line per second on stdout until Ctrl-C,
/// `--duration`, or the end of a non-looping `--file`.
///
/// # Errors
/// Source, device or thread failures.
pub fn run_live(cfg: &LiveConfig) -> Result<()> {
    // Input errors first (a bad file or channel), then the window (without a display,
    // fail before touching audio), then audio.
    let preloaded = match &cfg.source {
        SourceChoice::File { path, .. } => {
            let audio = wav::read_wav(path)?;
            cfg.channel.check(audio.channels)?;
            Some(audio)
        }
        SourceChoice::Demo => {
            cfg.channel.check(1)?;
            None
        }
        _ => None,
    };
    let window = if cfg.headless {
        None
    } else {
        Some(crate::ui::window::open(&cfg.display)?)
    };
    let stats = Arc::new(CaptureStats::default());
    let health = Arc::new(InputHealth::new());
    // Ctrl-C, SIGTERM and SIGHUP (ctrlc's `termination`) all stop the same way, from the
    // first open of the device on.
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // A second handler cannot be installed (tests run several lives): ignore that.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }
    let started = start_source(cfg, preloaded, &stats, &health, &stop)?;
    cfg.channel.check(started.channels)?;
    let axis = cfg
        .display
        .look
        .axis(cfg.display.freq_scale, started.sample_rate_hz)?;
    // The history's size is known only now for a device's default rate.
    crate::config::check_history(cfg.history_s, started.sample_rate_hz)?;
    // The window re-renders its history from this; headless mode has no history to redraw.
    let history = (!cfg.headless && cfg.history_s > 0.0)
        .then(|| MonoHistory::shared(cfg.history_s, started.sample_rate_hz));
    let rerender_on = history.is_some();
    // The panes: one, or the --compare set over it.
    let mel_default = cfg.mel.map_or(MelView::DEFAULT, |m| MelView {
        n_mels: m.n_mels,
        scale: m.scale,
        norm: Some(m.norm),
    });
    let first = PaneSettings {
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
    for pane in &panes {
        if let Some(mel) = pane.mel {
            mel.spec(&pane.axis)
                .validate(started.sample_rate_hz)
                .map_err(|message| Error::InvalidArgument {
                    flag: "--mel",
                    message,
                })?;
        }
    }
    let (handle, link) = analysis::spawn(AnalysisSetup {
        history: history.clone(),
        samples: started.samples,
        marks: started.marks,
        channels: started.channels,
        channel_select: cfg.channel,
        sample_rate_hz: started.sample_rate_hz,
        timebase: started.timebase,
        params: panes[0].params,
        compare: panes[1..].iter().map(|p| p.params).collect(),
        scale: ValueScale::Db,
        swaps: started.swaps,
    })?;
    let is_mic = matches!(started.running, Running::Mic(_));
    let health = is_mic.then_some(health);
    let t0 = Instant::now();
    let running = started.running;
    if let Some(window) = window {
        let info = crate::ui::window::LiveInfo {
            demo_fallback: started.label == DEMO_FALLBACK_LABEL,
            source_label: started.label.clone(),
            capture: &stats,
            health: health.as_deref(),
            screenshot_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
            deadline: cfg.duration.map(|d| t0 + d),
            stop: &stop,
            history,
            snapshot_dir: cfg
                .snapshot_dir
                .clone()
                .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| ".".into())),
            snapshot_s: cfg.snapshot_s,
            suggest_s: cfg.suggest_s,
            channel: cfg.channel.index_in(started.channels),
        };
        let state = crate::ui::state::ViewState {
            params: panes[0].params,
            win_follows: panes[0].win_follows,
            axis: panes[0].axis,
            mel: panes[0].mel,
            mel_default,
            panes,
            focus: 0,
            compare: cfg.compare.clone(),
            colormap: cfg.display.look.colormap,
            range: cfg.display.look.range,
            zoom: 0,
            paused: false,
            help: false,
            hud: true,
            rerender: rerender_on,
            suggestion: None,
            sample_rate_hz: started.sample_rate_hz,
        };
        let result = crate::ui::window::run(window, &link, &info, state);
        let stopped = shutdown(running, link, handle, &stats, health.as_deref(), t0);
        return first_error(result, stopped);
    }
    let mut status = StatusLine::new(started.label.clone(), started.sample_rate_hz, cfg.params);
    status.panes = panes.len();
    status.host = started.host.clone();
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
            status.print(now - t0, &stats, &link, health.as_deref());
            next_status += Duration::from_secs(1);
        }
        let source_done = match &running {
            Running::Paced(p) => p.finished(),
            Running::Mic(_) => false,
        };
        let cap = stats.snapshot();
        let drained =
            link.stats.snapshot().frames_analysed >= cap.frames_captured - cap.frames_dropped;
        if stop.load(Ordering::Relaxed)
            || cfg.duration.is_some_and(|d| now - t0 >= d)
            || (source_done && drained && link.rows.is_empty())
        {
            break;
        }
    }
    // A last line for the partial interval, unless it would measure (almost) nothing.
    if t0.elapsed() >= status.prev_t + Duration::from_millis(250) {
        status.print(t0.elapsed(), &stats, &link, health.as_deref());
    }
    shutdown(running, link, handle, &stats, health.as_deref(), t0)
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

/// How long quitting waits for the input thread before leaving a hung backend behind.
pub const INPUT_STOP_WAIT: Duration = Duration::from_millis(1000);

/// Ordered shutdown: stop the source, then analysis, then report drops (and the
/// input's losses) on stderr. Bounded: a hung audio backend is reported and left.
///
/// # Errors
/// A thread that panicked (input, source or analysis), after the summary.
fn shutdown(
    running: Running,
    link: AnalysisLink,
    handle: std::thread::JoinHandle<()>,
    stats: &CaptureStats,
    health: Option<&InputHealth>,
    t0: Instant,
) -> Result<()> {
    let input_stopped = match running {
        Running::Mic(supervisor) => match supervisor.stop(INPUT_STOP_WAIT.max(CLOSE_WAIT)) {
            Ok(true) => Ok(()),
            Ok(false) => {
                eprintln!(
                    "hopscope: the audio input did not stop within {} ms (a hung backend); exiting without it",
                    INPUT_STOP_WAIT.as_millis()
                );
                Ok(())
            }
            Err(e) => Err(e),
        },
        Running::Paced(mut paced) => paced.stop(),
    };
    // A dead analysis thread has dropped its receiver: this fails, the join reports.
    link.control.shutdown();
    let analysis = crate::error::join(handle, "analysis");
    let cap = stats.snapshot();
    let ana = link.stats.snapshot();
    let input = health.map_or_else(String::new, |h| {
        let s = h.snapshot(Instant::now());
        let extra = format!(
            "{} gap(s) marked; {} non-finite samples replaced",
            ana.gaps, ana.nonfinite_samples
        );
        if s.faults == 0 {
            return format!("; input never lost; {extra}");
        }
        format!(
            "; input down {} time(s) for {:.1} s ({} stall(s), {} loss(es), {} runaway(s)), {} recovery(ies); {extra}",
            s.faults,
            s.down.as_secs_f64(),
            s.stalls,
            s.losses,
            s.runaways,
            s.recoveries,
        )
    });
    eprintln!(
        "hopscope: stopped after {:.1} s: {} frames captured, {} dropped; {} rows, {} dropped; {} control messages dropped; {} stream errors ({} xruns){input}",
        t0.elapsed().as_secs_f64(),
        cap.frames_captured,
        cap.frames_dropped,
        ana.rows_produced,
        ana.rows_dropped,
        ana.controls_dropped,
        cap.stream_errors,
        cap.xruns
    );
    first_error(analysis, input_stopped)
}

/// The once-per-second headless status line (`key=value` for scripts).
///
/// Thread: main.
struct StatusLine {
    label: String,
    sample_rate_hz: u32,
    params: StftParams,
    last_peak: Option<(f64, f32)>,
    latencies_ms: Vec<f64>,
    prev_rows: u64,
    prev_row_ns: u64,
    prev_t: Duration,
    panes: usize,
    host: Option<String>,
}

impl StatusLine {
    fn new(label: String, sample_rate_hz: u32, params: StftParams) -> Self {
        StatusLine {
            label,
            sample_rate_hz,
            params,
            last_peak: None,
            latencies_ms: Vec::with_capacity(4096),
            prev_rows: 0,
            prev_row_ns: 0,
            prev_t: Duration::ZERO,
            panes: 1,
            host: None,
        }
    }

    /// `state=… host=… stalls=… losses=… recoveries=… down_s=… gaps=… nonfinite=…`
    /// (a --file or --demo source is always live).
    fn input_fields(
        &self,
        health: Option<&InputHealth>,
        ana: &crate::analysis::AnalysisSnapshot,
    ) -> String {
        let h = health.map(|h| h.snapshot(Instant::now()));
        let [lost, invalidated, xruns, backend] = h.map_or([0; 4], |h| h.errors);
        format!(
            "state={} host={} stalls={} losses={} runaways={} recoveries={} down_s={:.2} gaps={} nonfinite={} \
             errors_device_lost={lost} errors_invalidated={invalidated} errors_xrun={xruns} errors_backend={backend}",
            h.map_or("live", |h| h.state.name()),
            self.host.as_deref().unwrap_or("-"),
            h.map_or(0, |h| h.stalls),
            h.map_or(0, |h| h.losses),
            h.map_or(0, |h| h.runaways),
            h.map_or(0, |h| h.recoveries),
            h.map_or(0.0, |h| h.down.as_secs_f64()),
            ana.gaps,
            ana.nonfinite_samples,
        )
    }

    fn observe(&mut self, row: &SpectrumRow) {
        let latency = row.finished_at.saturating_duration_since(row.captured_at);
        self.latencies_ms.push(latency.as_secs_f64() * 1e3);
        if row.pane != 0 {
            return; // the line describes pane 0; every pane's rows are counted
        }
        self.params = row.params;
        let (k, level) = row.peak();
        self.last_peak = Some((
            bin_to_hz(k as f64, row.params.fft_size, row.sample_rate_hz),
            level,
        ));
    }

    fn print(
        &mut self,
        t: Duration,
        stats: &CaptureStats,
        link: &AnalysisLink,
        health: Option<&InputHealth>,
    ) {
        let cap = stats.snapshot();
        let ana = link.stats.snapshot();
        let row_max_ns = link.stats.take_max();
        let dt = (t - self.prev_t).as_secs_f64().max(1e-9);
        let new_rows = ana.rows_produced - self.prev_rows;
        let rows_per_s = new_rows as f64 / dt;
        let row_us_mean = if new_rows > 0 {
            (ana.row_time_ns_total - self.prev_row_ns) as f64 / new_rows as f64 / 1e3
        } else {
            0.0
        };
        self.latencies_ms.sort_by(f64::total_cmp);
        let latency_p50 = self
            .latencies_ms
            .get(self.latencies_ms.len() / 2)
            .copied()
            .unwrap_or(f64::NAN);
        self.latencies_ms.clear();
        let (peak_hz, peak_db) = self.last_peak.unwrap_or((f64::NAN, f32::NAN));
        let p = self.params;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "status t={:.1}s src=\"{}\" sr={} n_fft={} win_length={} hop={} window={} rows={} rows_per_s={:.1} \
             peak_hz={:.1} peak_dbfs={:.2} captured={} dropped_samples={} dropped_rows={} dropped_controls={} stream_errors={} \
             row_us_mean={:.1} row_us_max={:.1} capture_to_row_ms_p50={:.2} panes={} {}",
            t.as_secs_f64(),
            self.label,
            self.sample_rate_hz,
            p.fft_size,
            p.win_length,
            p.hop_size,
            p.window,
            ana.rows_produced,
            rows_per_s,
            peak_hz,
            peak_db,
            cap.frames_captured,
            cap.frames_dropped,
            ana.rows_dropped,
            ana.controls_dropped,
            cap.stream_errors,
            row_us_mean,
            row_max_ns as f64 / 1e3,
            latency_p50,
            self.panes,
            self.input_fields(health, &ana),
        );
        let _ = out.flush();
        self.prev_rows = ana.rows_produced;
        self.prev_row_ns = ana.row_time_ns_total;
        self.prev_t = t;
    }
}
