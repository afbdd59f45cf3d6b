//! cpal devices and streams: the only module that opens hardware.
//!
//! cpal 0.18.2's ALSA backend stamps callbacks with the time elapsed since the
//! stream was created (an `Instant` taken inside `build_input_stream`). We take our
//! own `Instant` just before that call as the timebase origin, so capture instants
//! are at most the stream-creation time late (a few hundred µs, conservative: the
//! measured latency reads slightly high, never low).

use std::sync::Arc;
use std::time::Instant;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{
    BufferSize, Device, FromSample, InputCallbackInfo, SampleFormat, SizedSample, StreamConfig,
    SupportedBufferSize, SupportedStreamConfig, SupportedStreamConfigRange,
};

use super::callback::CaptureCallback;
use super::health::{ErrorKind, InputHealth};
use super::stats::CaptureStats;
use crate::audio::ring::{self, MarkConsumer, SampleConsumer};
use crate::error::{Error, Result};
use crate::stream::Timebase;

/// One input device as `hopscope devices` shows it.
#[derive(Clone, Debug)]
pub struct DeviceReport {
    /// Human-readable name.
    pub name: String,
    /// Backend id (e.g. the ALSA PCM name).
    pub id: String,
    /// Whether it is the host's default input.
    pub is_default: bool,
    /// Default configuration, or why there is none.
    pub default_config: String,
    /// Supported configuration ranges.
    pub supported: Vec<String>,
}

fn device_name(device: &Device) -> String {
    device
        .description()
        .map(|d| d.name().to_string())
        .unwrap_or_else(|_| "<unnamed>".into())
}

fn device_id(device: &Device) -> String {
    device
        .id()
        .map(|id| id.to_string())
        .unwrap_or_else(|_| String::new())
}

fn describe_buffer(b: &SupportedBufferSize) -> String {
    match b {
        SupportedBufferSize::Range { min, max } => format!("buffer {min}..={max} frames"),
        SupportedBufferSize::Unknown => "buffer size unknown".into(),
    }
}

fn describe_config(c: &SupportedStreamConfig) -> String {
    format!(
        "{:?}, {} ch, {} Hz, {}",
        c.sample_format(),
        c.channels(),
        c.sample_rate(),
        describe_buffer(c.buffer_size())
    )
}

fn describe_range(r: &SupportedStreamConfigRange) -> String {
    format!(
        "{:?}, {} ch, {}..={} Hz, {}",
        r.sample_format(),
        r.channels(),
        r.min_sample_rate(),
        r.max_sample_rate(),
        describe_buffer(r.buffer_size())
    )
}

/// One line per sample format: its channel counts and rate span (the full list
/// can run to hundreds of ranges, e.g. ALSA's `null` device).
fn summarize_ranges(ranges: &[SupportedStreamConfigRange]) -> Vec<String> {
    let mut formats: Vec<SampleFormat> = Vec::new();
    for r in ranges {
        if !formats.contains(&r.sample_format()) {
            formats.push(r.sample_format());
        }
    }
    formats
        .into_iter()
        .map(|f| {
            let of: Vec<&SupportedStreamConfigRange> =
                ranges.iter().filter(|r| r.sample_format() == f).collect();
            let ch_min = of.iter().map(|r| r.channels()).min().unwrap_or(0);
            let ch_max = of.iter().map(|r| r.channels()).max().unwrap_or(0);
            let sr_min = of.iter().map(|r| r.min_sample_rate()).min().unwrap_or(0);
            let sr_max = of.iter().map(|r| r.max_sample_rate()).max().unwrap_or(0);
            let channels = if ch_min == ch_max {
                format!("{ch_min} ch")
            } else {
                format!("{ch_min}..={ch_max} ch")
            };
            let rates = if sr_min == sr_max {
                format!("{sr_min} Hz")
            } else {
                format!("{sr_min}..={sr_max} Hz")
            };
            format!("{f:?}: {channels}, {rates}")
        })
        .collect()
}

/// A host's name as the user types it (`--host`): `alsa`, `pulseaudio`, `pipewire`, `jack`.
pub fn host_name(id: cpal::HostId) -> String {
    id.name().to_lowercase()
}

/// Every audio host compiled in, as `--host` names them (lowercase), in cpal's order.
pub fn host_names() -> Vec<String> {
    cpal::ALL_HOSTS.iter().map(|&id| host_name(id)).collect()
}

/// The host to use: the one named (any case), or cpal's default, the first that
/// answers of PipeWire > PulseAudio > ALSA.
///
/// # Errors
/// A name that is not a host compiled in and answering here, listing those that are.
pub fn resolve_host(name: Option<&str>) -> Result<cpal::HostId> {
    let available = cpal::available_hosts();
    let Some(name) = name else {
        return Ok(cpal::default_host().id());
    };
    let list = || {
        available
            .iter()
            .map(|&h| host_name(h))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match cpal::ALL_HOSTS
        .iter()
        .find(|h| host_name(**h) == name.to_lowercase())
    {
        Some(id) if available.contains(id) => Ok(*id),
        Some(_) => Err(Error::Host(format!(
            "audio host '{name}' is not available here (no server answers); available: {}",
            list()
        ))),
        None => Err(Error::Host(format!(
            "unknown audio host '{name}'; available: {}",
            list()
        ))),
    }
}

fn open_host(id: cpal::HostId) -> Result<cpal::Host> {
    cpal::host_from_id(id).map_err(|source| Error::HostOpen {
        host: host_name(id),
        device: None,
        source,
    })
}

/// One host as `hopscope devices` shows it.
#[derive(Clone, Debug)]
pub struct HostReport {
    /// `alsa`, `pulseaudio`, ...
    pub name: String,
    /// Whether live mode uses it without `--host`.
    pub is_default: bool,
    /// Name and id of its default input, if any.
    pub default_input: Option<String>,
    /// Its input devices, or why they cannot be listed.
    pub devices: std::result::Result<Vec<DeviceReport>, String>,
}

/// Every available host with its input devices.
pub fn list_hosts() -> Vec<HostReport> {
    let default = cpal::default_host().id();
    cpal::available_hosts()
        .into_iter()
        .map(|id| {
            let (default_input, devices) = match open_host(id) {
                Ok(host) => (
                    host.default_input_device()
                        .map(|d| format!("{} [id {}]", device_name(&d), device_id(&d))),
                    list_input_devices(&host),
                ),
                Err(e) => (None, Err(e.to_string())),
            };
            HostReport {
                name: host_name(id),
                is_default: id == default,
                default_input,
                devices,
            }
        })
        .collect()
}

fn list_input_devices(host: &cpal::Host) -> std::result::Result<Vec<DeviceReport>, String> {
    let default_id = host.default_input_device().map(|d| device_id(&d));
    let devices = host
        .input_devices()
        .map_err(|e| format!("cannot list input devices: {e}"))?;
    Ok(devices
        .map(|d| {
            let id = device_id(&d);
            DeviceReport {
                name: device_name(&d),
                is_default: default_id.as_deref() == Some(id.as_str()),
                id,
                default_config: match d.default_input_config() {
                    Ok(c) => describe_config(&c),
                    Err(e) => format!("none ({e})"),
                },
                supported: d
                    .supported_input_configs()
                    .map(|it| summarize_ranges(&it.collect::<Vec<_>>()))
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// Which device to open (and to look for again after a loss).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceRequest {
    /// The host's default input (re-resolved at every reopen).
    Default,
    /// The one device whose name or id contains this, case-insensitive.
    Named(String),
}

/// Everything needed to open (and reopen) the live input.
///
/// Thread: main, then moved to the supervisor.
#[derive(Clone, Debug)]
pub struct InputRequest {
    /// The host.
    pub host: cpal::HostId,
    /// The device.
    pub device: DeviceRequest,
    /// The sample rate to ask for (`None`: the device default).
    pub sample_rate_hz: Option<u32>,
    /// The buffer size to ask for (`None`: the backend default).
    pub buffer_frames: Option<u32>,
}

/// A running cpal input stream and the analysis thread's ends of its rings.
///
/// Thread: main owns it; dropping `stream` stops the callback.
pub struct OpenedInput {
    /// The stream (keep it alive).
    pub stream: cpal::Stream,
    /// Device name.
    pub device_name: String,
    /// Negotiated sample rate.
    pub sample_rate_hz: u32,
    /// Negotiated channels.
    pub channels: usize,
    /// Negotiated sample format.
    pub sample_format: String,
    /// Buffer size request.
    pub buffer: String,
    /// Sample ring consumer.
    pub samples: SampleConsumer,
    /// Mark ring consumer.
    pub marks: MarkConsumer,
    /// Maps the callback timestamps onto `Instant`s.
    pub timebase: Timebase,
}

fn find_device(host: &cpal::Host, request: &DeviceRequest) -> Result<Device> {
    match request {
        DeviceRequest::Default => host.default_input_device().ok_or_else(|| {
            let why = match host.id().name() {
                "JACK" => " (is a JACK server running?)",
                _ => "",
            };
            Error::NoInputDevice(format!(
                "the {} host reports no default input{why}",
                host_name(host.id())
            ))
        }),
        DeviceRequest::Named(query) => {
            let devices: Vec<Device> = host
                .input_devices()
                .map_err(|source| Error::ListDevices {
                    host: host_name(host.id()),
                    source,
                })?
                .collect();
            let all: Vec<String> = devices.iter().map(device_name).collect();
            let q = query.to_lowercase();
            let mut matches: Vec<Device> = devices
                .into_iter()
                .filter(|d| {
                    device_name(d).to_lowercase().contains(&q)
                        || device_id(d).to_lowercase().contains(&q)
                })
                .collect();
            let list = |names: &[String]| {
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            };
            match matches.len() {
                1 => Ok(matches.remove(0)),
                0 => Err(Error::DeviceSelection(format!(
                    "no input device matches '{query}'; input devices: {}",
                    list(&all)
                ))),
                _ => {
                    // An exact name match wins over substring matches.
                    if let Some(i) = matches
                        .iter()
                        .position(|d| device_name(d).to_lowercase() == q)
                    {
                        return Ok(matches.remove(i));
                    }
                    let names: Vec<String> = matches.iter().map(device_name).collect();
                    Err(Error::DeviceSelection(format!(
                        "'{query}' matches several input devices: {}; be more specific",
                        list(&names)
                    )))
                }
            }
        }
    }
}

fn choose_config(
    device: &Device,
    name: &str,
    sample_rate_hz: Option<u32>,
) -> Result<SupportedStreamConfig> {
    let default = device
        .default_input_config()
        .map_err(|e| Error::DeviceConfig {
            device: name.into(),
            message: "has no default input configuration".into(),
            source: Some(e),
        })?;
    let Some(rate) = sample_rate_hz else {
        return Ok(default);
    };
    if default.sample_rate() == rate {
        return Ok(default);
    }
    let ranges: Vec<SupportedStreamConfigRange> = device
        .supported_input_configs()
        .map_err(|e| Error::DeviceConfig {
            device: name.into(),
            message: "cannot list supported configurations".into(),
            source: Some(e),
        })?
        .collect();
    let score = |r: &SupportedStreamConfigRange| {
        (r.sample_format() == default.sample_format()) as u8 * 2
            + (r.channels() == default.channels()) as u8
    };
    ranges
        .iter()
        .filter(|r| r.contains_rate(rate))
        .max_by_key(|r| score(r))
        .and_then(|r| r.try_with_sample_rate(rate))
        .ok_or_else(|| Error::DeviceConfig {
            device: name.into(),
            message: format!(
                "does not support {rate} Hz; supported: {}",
                ranges
                    .iter()
                    .map(describe_range)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            source: None,
        })
}

/// Opens and starts an input stream.
///
/// # Errors
/// No such host or device, an unsupported rate or buffer size (naming what is
/// supported), or a backend failure.
pub fn open_input(
    request: &InputRequest,
    stats: Arc<CaptureStats>,
    health: Arc<InputHealth>,
) -> Result<OpenedInput> {
    let host = open_host(request.host).map_err(|e| match (e, &request.device) {
        (Error::HostOpen { host, source, .. }, DeviceRequest::Named(query)) => Error::HostOpen {
            host,
            device: Some(query.clone()),
            source,
        },
        (e, _) => e,
    })?;
    let device = find_device(&host, &request.device)?;
    let name = device_name(&device);
    // Errors name the device as `hopscope devices` lists it, id included.
    let named = match device_id(&device) {
        id if id.is_empty() => name.clone(),
        id => format!("{name} [id {id}]"),
    };
    let supported = choose_config(&device, &named, request.sample_rate_hz)?;
    let buffer_frames = request.buffer_frames;
    let mut config: StreamConfig = supported.config();
    if let Some(frames) = buffer_frames {
        if let SupportedBufferSize::Range { min, max } = supported.buffer_size() {
            if !(*min..=*max).contains(&frames) {
                return Err(Error::DeviceConfig {
                    device: named,
                    message: format!(
                        "buffer of {frames} frames is not supported: supported {min}..={max} frames"
                    ),
                    source: None,
                });
            }
        }
        config.buffer_size = BufferSize::Fixed(frames);
    }
    let format = supported.sample_format();
    let (stream, samples, marks, timebase) = match format {
        SampleFormat::I8 => build::<i8>(&device, &config, stats, health.clone()),
        SampleFormat::I16 => build::<i16>(&device, &config, stats, health.clone()),
        SampleFormat::I24 => build::<cpal::I24>(&device, &config, stats, health.clone()),
        SampleFormat::I32 => build::<i32>(&device, &config, stats, health.clone()),
        SampleFormat::I64 => build::<i64>(&device, &config, stats, health.clone()),
        SampleFormat::U8 => build::<u8>(&device, &config, stats, health.clone()),
        SampleFormat::U16 => build::<u16>(&device, &config, stats, health.clone()),
        SampleFormat::U24 => build::<cpal::U24>(&device, &config, stats, health.clone()),
        SampleFormat::U32 => build::<u32>(&device, &config, stats, health.clone()),
        SampleFormat::U64 => build::<u64>(&device, &config, stats, health.clone()),
        SampleFormat::F32 => build::<f32>(&device, &config, stats, health.clone()),
        SampleFormat::F64 => build::<f64>(&device, &config, stats, health.clone()),
        other => Err(BuildFailure(
            format!("unsupported sample format {other:?}"),
            None,
        )),
    }
    .map_err(|BuildFailure(message, source)| Error::DeviceConfig {
        device: named.clone(),
        message,
        source,
    })?;
    Ok(OpenedInput {
        stream,
        device_name: name,
        sample_rate_hz: config.sample_rate,
        channels: config.channels as usize,
        sample_format: format!("{format:?}"),
        buffer: match config.buffer_size {
            BufferSize::Fixed(n) => format!("{n} frames"),
            BufferSize::Default => "default".into(),
        },
        samples,
        marks,
        timebase,
    })
}

type Built = (cpal::Stream, SampleConsumer, MarkConsumer, Timebase);

/// Why a stream was not built: what failed, and the backend's error when it gave one.
struct BuildFailure(String, Option<cpal::Error>);

fn build<T>(
    device: &Device,
    config: &StreamConfig,
    stats: Arc<CaptureStats>,
    health: Arc<InputHealth>,
) -> std::result::Result<Built, BuildFailure>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    let channels = config.channels as usize;
    if channels == 0 {
        return Err(BuildFailure("the device offers 0 channels".into(), None));
    }
    let (producer, consumer) = ring::sample_ring(config.sample_rate, channels);
    let (mark_producer, mark_consumer) = ring::mark_ring();
    let mut callback =
        CaptureCallback::<T>::new(producer, mark_producer, Arc::clone(&stats), channels);
    let error_stats = stats;
    let origin = Instant::now();
    let stream = device
        .build_input_stream::<T, _, _>(
            *config,
            move |data: &[T], info: &InputCallbackInfo| {
                let capture_ns = info.timestamp().capture.as_nanos() as u64;
                callback.on_data(data, capture_ns);
            },
            move |e: cpal::Error| {
                let kind = ErrorKind::of(e.kind());
                error_stats.record_stream_error(kind == ErrorKind::Xrun);
                health.record_error(kind);
            },
            None,
        )
        .map_err(|e| {
            let message = match config.buffer_size {
                BufferSize::Fixed(n) => format!("cannot open a stream with a buffer of {n} frames"),
                BufferSize::Default => "cannot open input stream".into(),
            };
            BuildFailure(message, Some(e))
        })?;
    stream
        .play()
        .map_err(|e| BuildFailure("cannot start input stream".into(), Some(e)))?;
    Ok((stream, consumer, mark_consumer, Timebase { origin }))
}
