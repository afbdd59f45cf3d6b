//! Which source feeds the capture ring in live mode (a device under its supervisor, or
//! a paced --file/--demo), how it starts, with the fallback to the demo, and how it stops.
//!
//! Thread: main (the sources run on their own threads).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use crate::audio::capture::{self, DeviceRequest, InputRequest};
use crate::audio::health::InputHealth;
use crate::audio::ring::{self, MarkConsumer, SampleConsumer};
use crate::audio::source::demo::DemoSignal;
use crate::audio::source::file::FileSource;
use crate::audio::source::{BlockSource, PacedSource};
use crate::audio::stats::CaptureStats;
use crate::audio::supervisor::{InputSwap, Supervisor, CLOSE_WAIT};
use crate::config::{LiveConfig, SourceChoice, DEFAULT_DEMO_RATE_HZ, DEFAULT_PACED_PERIOD};
use crate::error::{Error, Result};
use crate::stream::Timebase;

use super::live::INPUT_STOP_WAIT;

/// Label shown when live mode fell back to the demo signal.
pub const DEMO_FALLBACK_LABEL: &str = "DEMO SIGNAL - no input device";

/// What feeds the ring.
pub(super) enum Running {
    /// A device, watched (and reopened) by its supervisor.
    Mic(Supervisor),
    /// --file or --demo on a thread paced to real time.
    Paced(PacedSource),
}

/// A started source: what runs, what it is, and the analysis thread's ends of its rings.
pub(super) struct Started {
    /// What to stop at the end.
    pub running: Running,
    /// Device name, file name or demo label.
    pub label: String,
    /// The audio host (`None` for --file and --demo).
    pub host: Option<String>,
    /// The rings of reopened streams.
    pub swaps: Option<crossbeam_channel::Receiver<InputSwap>>,
    /// The stream's rate.
    pub sample_rate_hz: u32,
    /// Channels per frame.
    pub channels: usize,
    /// The sample ring's consumer.
    pub samples: SampleConsumer,
    /// The mark ring's consumer.
    pub marks: MarkConsumer,
    /// Maps the marks' timestamps onto `Instant`s.
    pub timebase: Timebase,
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

/// Starts the configured source; the default device falls back to the demo when it is
/// missing or unusable and nothing device-specific was asked for.
///
/// # Errors
/// The source's error (no such device or file, an unsupported configuration, ...).
pub(super) fn start_source(
    cfg: &LiveConfig,
    preloaded: Option<crate::io::audio::AudioReader>,
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

/// Stops the source, bounded: a hung audio backend is reported and left behind.
///
/// # Errors
/// The input or source thread panicked.
pub(super) fn stop(running: Running) -> Result<()> {
    match running {
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
    }
}
