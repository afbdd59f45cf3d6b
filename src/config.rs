//! Validated configuration: `TryFrom` the raw flags, once.

use std::path::PathBuf;
use std::time::Duration;

use crate::analysis::ChannelSelect;
use crate::cli::{AnalysisArgs, AnalyzeArgs, LiveArgs};
use crate::dsp::scale::Scale;
use crate::dsp::stft::StftParams;
use crate::dsp::window::WindowKind;
use crate::error::{Error, Result};

/// Default hop when the window is at least 2048 samples long.
pub const DEFAULT_HOP: usize = 512;
/// Default sample rate of the demo signal.
pub const DEFAULT_DEMO_RATE_HZ: u32 = 48_000;
/// Default period of the paced sources (--file, --demo), in frames.
pub const DEFAULT_PACED_PERIOD: u32 = 480;
/// Largest accepted --buffer.
pub const MAX_BUFFER_FRAMES: u32 = 1 << 16;

fn invalid(flag: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidArgument {
        flag,
        message: message.into(),
    }
}

/// Validates the STFT flags.
///
/// # Errors
/// Any value out of range, naming the flag and the allowed range.
pub fn stft_params(args: &AnalysisArgs) -> Result<StftParams> {
    let window: WindowKind = args.window.parse().map_err(|m| invalid("--window", m))?;
    let fft_size = args.n_fft;
    let win_length = args.win_length.unwrap_or(fft_size);
    let hop_size = args
        .hop
        .unwrap_or_else(|| DEFAULT_HOP.min((win_length / 4).max(1)));
    let params = StftParams {
        fft_size,
        win_length,
        hop_size,
        window,
    };
    params.validate().map_err(|m| {
        let flag = if m.starts_with("n_fft") {
            "--n-fft"
        } else if m.starts_with("win_length") {
            "--win-length"
        } else {
            "--hop"
        };
        invalid(flag, m)
    })?;
    Ok(params)
}

fn channel_select(channel: Option<usize>) -> ChannelSelect {
    channel.map_or(ChannelSelect::Mix, ChannelSelect::Index)
}

/// Where live audio comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceChoice {
    /// The default input device; falls back to the demo when there is none.
    DefaultDevice,
    /// The one device whose name contains this (case-insensitive).
    Device(String),
    /// A WAV file replayed in real time.
    File {
        /// The file.
        path: PathBuf,
        /// Start again at the end.
        looping: bool,
    },
    /// The built-in demo signal.
    Demo,
}

/// Validated live-mode configuration.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Source.
    pub source: SourceChoice,
    /// Requested sample rate.
    pub sample_rate_hz: Option<u32>,
    /// Requested buffer size (frames).
    pub buffer_frames: Option<u32>,
    /// Channel to analyse.
    pub channel: ChannelSelect,
    /// STFT parameters.
    pub params: StftParams,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

impl LiveConfig {
    /// Validates live flags and STFT flags.
    ///
    /// # Errors
    /// Any value out of range or an impossible combination.
    pub fn new(live: &LiveArgs, analysis: &AnalysisArgs) -> Result<Self> {
        let params = stft_params(analysis)?;
        let source = if live.demo {
            SourceChoice::Demo
        } else if let Some(path) = &live.file {
            SourceChoice::File {
                path: path.clone(),
                looping: live.looping,
            }
        } else if let Some(d) = &live.device {
            SourceChoice::Device(d.clone())
        } else {
            SourceChoice::DefaultDevice
        };
        if let Some(rate) = live.sample_rate {
            if !(1000..=1_536_000).contains(&rate) {
                return Err(invalid(
                    "--sample-rate",
                    format!("{rate} Hz is out of range: expected 1000..=1536000"),
                ));
            }
            if matches!(source, SourceChoice::File { .. }) {
                return Err(invalid(
                    "--sample-rate",
                    "a --file plays at its own sample rate; resampling is not supported",
                ));
            }
        }
        if let Some(b) = live.buffer {
            if !(1..=MAX_BUFFER_FRAMES).contains(&b) {
                return Err(invalid(
                    "--buffer",
                    format!("{b} frames is out of range: expected 1..={MAX_BUFFER_FRAMES}"),
                ));
            }
        }
        let duration = match live.duration {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 && s <= 1e9 => Some(Duration::from_secs_f64(s)),
            Some(s) => {
                return Err(invalid(
                    "--duration",
                    format!("{s} is not a positive number of seconds"),
                ))
            }
        };
        Ok(LiveConfig {
            source,
            sample_rate_hz: live.sample_rate,
            buffer_frames: live.buffer,
            channel: channel_select(live.channel),
            params,
            duration,
        })
    }
}

/// Validated `analyze` configuration.
#[derive(Clone, Debug)]
pub struct AnalyzeConfig {
    /// Input WAV.
    pub input: PathBuf,
    /// Output .npy.
    pub output: PathBuf,
    /// STFT parameters.
    pub params: StftParams,
    /// Output scale.
    pub scale: Scale,
    /// librosa `center=True` framing.
    pub center: bool,
    /// Channel to analyse.
    pub channel: ChannelSelect,
}

impl TryFrom<&AnalyzeArgs> for AnalyzeConfig {
    type Error = Error;

    fn try_from(args: &AnalyzeArgs) -> Result<Self> {
        let params = stft_params(&args.analysis)?;
        let scale: Scale = args.scale.parse().map_err(|m| invalid("--scale", m))?;
        let ext_ok = args
            .output
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        if !ext_ok {
            return Err(invalid(
                "--output",
                format!("'{}' must end in .npy", args.output.display()),
            ));
        }
        Ok(AnalyzeConfig {
            input: args.input.clone(),
            output: args.output.clone(),
            params,
            scale,
            center: args.center,
            channel: channel_select(args.channel),
        })
    }
}
