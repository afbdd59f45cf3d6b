//! Validated configuration: `TryFrom` the raw flags, once.

pub mod batch;
pub mod frontend;
pub mod pane;
pub mod params;

use std::path::PathBuf;
use std::time::Duration;

use self::batch::BatchConfig;
use self::pane::{MelView, PaneSettings, PaneSpec};
use self::params::{FileParams, ParamsFrom};
use crate::cli::{
    AnalysisArgs, AnalyzeArgs, DisplayArgs, LatencyArgs, LiveArgs, LookArgs, MelArgs, RenderArgs,
    StreamArgs, SuggestArgs,
};
use crate::dsp::entropy::Grid;
use crate::dsp::mel::{MelNorm, MelScale, MelSpec};
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{StftParams, MAX_FFT_SIZE, MIN_FFT_SIZE};
use crate::dsp::window::{WindowKind, ALL_WINDOWS};
use crate::error::{Error, Result};
use crate::io::wav::NanPolicy;
use crate::render::colormap::{ColormapKind, DbRange};
use crate::render::freqmap::{FreqAxis, FreqScale};
use crate::stream::ChannelSelect;

/// Default n_fft.
pub const DEFAULT_FFT_SIZE: usize = 2048;
/// Default window.
pub const DEFAULT_WINDOW: WindowKind = WindowKind::Hann;
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
    let window = args.window.unwrap_or(DEFAULT_WINDOW);
    let fft_size = args.n_fft.unwrap_or(DEFAULT_FFT_SIZE);
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

/// Checks that `flag`'s value is a finite number of seconds above 0.
fn positive_seconds(flag: &'static str, seconds: f64) -> Result<()> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            flag,
            format!("{seconds} is not a positive number of seconds"),
        ))
    }
}

/// Most samples the live history (`--history`, kept for re-rendering) may hold at the
/// stream's rate: 2^28 f32, 1 GiB. 3600 s fits up to 74 kHz.
pub const MAX_HISTORY_SAMPLES: u64 = 1 << 28;
/// Highest sample rate of a live stream: `--sample-rate`'s bound, and a `--file`'s.
pub const MAX_LIVE_RATE_HZ: u32 = 1_536_000;
/// Most channels of a live `--file`: the capture ring holds at least 2^18 frames (and
/// 0.5 s) of every channel, so 64 channels at 1.536 MHz take 2^26 f32 (256 MiB).
pub const MAX_LIVE_FILE_CHANNELS: usize = 64;

/// Checks that `seconds` of history at `sample_rate_hz` fit [`MAX_HISTORY_SAMPLES`], before
/// anything is allocated. Live mode calls it with the stream's rate.
///
/// # Errors
/// `--history` too long for the rate.
pub fn check_history(seconds: f64, sample_rate_hz: u32) -> Result<()> {
    let samples = (seconds.max(0.0) * f64::from(sample_rate_hz)).ceil();
    if samples <= MAX_HISTORY_SAMPLES as f64 {
        return Ok(());
    }
    Err(invalid(
        "--history",
        format!(
            "{seconds} s at {sample_rate_hz} Hz is {samples} samples ({:.1} GB), over the limit of {MAX_HISTORY_SAMPLES} samples (1 GiB): at most {:.0} s at this rate",
            samples * 4e-9,
            MAX_HISTORY_SAMPLES as f64 / f64::from(sample_rate_hz)
        ),
    ))
}

/// Reads a live `--file`'s header: its rate and channels must fit the live stream's
/// bounds. Returns the rate; `None` for standard input or a pipe, which can be read only
/// once (the live start checks it with [`check_live_audio`] after reading it whole).
fn check_live_file(path: &std::path::Path) -> Result<Option<u32>> {
    if crate::io::wav::is_stream(path) {
        return Ok(None);
    }
    let reader = crate::io::audio::AudioReader::open(path, false)?;
    let (rate, channels) = (reader.info().sample_rate_hz, reader.info().channels);
    check_live_audio(path, rate, channels)?;
    Ok(Some(rate))
}

/// A live `--file` of `rate` and `channels` must fit the live stream's bounds.
///
/// # Errors
/// A rate or channel count over [`MAX_LIVE_RATE_HZ`] / [`MAX_LIVE_FILE_CHANNELS`].
pub fn check_live_audio(path: &std::path::Path, rate: u32, channels: usize) -> Result<()> {
    if rate > MAX_LIVE_RATE_HZ || channels > MAX_LIVE_FILE_CHANNELS {
        return Err(invalid(
            "--file",
            format!(
                "'{}' is {rate} Hz, {channels} ch: live replay takes at most {MAX_LIVE_RATE_HZ} Hz and {MAX_LIVE_FILE_CHANNELS} channels (`hopscope analyze` or `render` take any)",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// `--start` / `--end` in seconds.
///
/// # Errors
/// An end that is not after the start.
fn crop_seconds(args: &crate::cli::CropArgs) -> Result<crate::stream::CropSeconds> {
    if let (Some(start), Some(end)) = (args.start, args.end) {
        if end <= start {
            return Err(invalid(
                "--end",
                format!("{end} s is not after --start ({start} s)"),
            ));
        }
    }
    Ok(crate::stream::CropSeconds {
        start_s: args.start,
        end_s: args.end,
    })
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
    /// `--host` (`None`: cpal's default order).
    pub host: Option<String>,
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
    /// Seconds of mono input kept for re-rendering (0: none).
    pub history_s: f64,
    /// Where snapshots go (`None`: the current directory).
    pub snapshot_dir: Option<PathBuf>,
    /// Seconds of audio in a snapshot.
    pub snapshot_s: f64,
    /// Seconds of history a live suggestion (G) ranks over.
    pub suggest_s: f64,
    /// Status lines instead of a window.
    pub headless: bool,
    /// Whether --win-length was given (then n_fft keys leave it alone).
    pub win_length_set: bool,
    /// Window settings.
    pub display: DisplayConfig,
    /// `--compare` panes (empty: none).
    pub compare: Vec<PaneSpec>,
    /// `--mel N` and its options: the window starts on the mel view.
    pub mel: Option<MelOptions>,
    /// `--frontend NAME|PATH.json`: the first pane shows this model front-end.
    pub frontend: Option<&'static crate::dsp::frontend::FrontendSpec>,
    /// What the N key cycles (after `off`): the built-ins, then `--frontend`'s own JSON.
    pub frontends: Vec<&'static crate::dsp::frontend::FrontendSpec>,
}

/// Most mel bands the window shows.
pub const MAX_LIVE_MELS: usize = 512;

/// Frequency range, colours and dB range, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Look {
    /// Bottom of the frequency axis, Hz.
    pub fmin_hz: f64,
    /// Top of the frequency axis, Hz (`None`: Nyquist).
    pub fmax_hz: Option<f64>,
    /// Colormap.
    pub colormap: ColormapKind,
    /// dB range.
    pub range: DbRange,
}

impl Look {
    /// Validates the shared look flags.
    ///
    /// # Errors
    /// Unknown colormap, negative or inverted frequencies, floor ≥ ceiling.
    pub fn new(args: &LookArgs) -> Result<Self> {
        let colormap = args.colormap.into();
        if !(args.fmin.is_finite() && args.fmin >= 0.0) {
            return Err(invalid(
                "--fmin",
                format!("{} Hz: expected a frequency ≥ 0", args.fmin),
            ));
        }
        if let Some(fmax) = args.fmax {
            if !(fmax.is_finite() && fmax > args.fmin + 1.0) {
                return Err(invalid(
                    "--fmax",
                    format!(
                        "{fmax} Hz: expected a frequency at least 1 Hz above --fmin ({} Hz)",
                        args.fmin
                    ),
                ));
            }
        }
        if !(args.floor.is_finite() && args.ceiling.is_finite() && args.floor < args.ceiling) {
            return Err(invalid(
                "--floor",
                format!(
                    "floor {} dBFS must be below ceiling {} dBFS",
                    args.floor, args.ceiling
                ),
            ));
        }
        Ok(Look {
            fmin_hz: args.fmin,
            fmax_hz: args.fmax,
            colormap,
            range: DbRange {
                floor_db: args.floor,
                ceiling_db: args.ceiling,
            },
        })
    }

    /// The frequency axis for a stream at `sample_rate_hz`.
    ///
    /// # Errors
    /// fmin or fmax above the Nyquist frequency.
    pub fn axis(
        &self,
        scale: FreqScale,
        sample_rate_hz: u32,
    ) -> Result<crate::render::freqmap::FreqAxis> {
        let nyquist = sample_rate_hz as f64 / 2.0;
        let fmax = self.fmax_hz.unwrap_or(nyquist);
        if fmax > nyquist + 1e-9 {
            return Err(invalid(
                "--fmax",
                format!("{fmax} Hz is above the Nyquist frequency ({nyquist} Hz at {sample_rate_hz} Hz)"),
            ));
        }
        if self.fmin_hz >= fmax - 1.0 {
            let top = match self.fmax_hz {
                Some(_) => format!("--fmax, {fmax} Hz"),
                None => {
                    format!("{nyquist} Hz, the Nyquist frequency of the {sample_rate_hz} Hz input")
                }
            };
            return Err(invalid(
                "--fmin",
                format!(
                    "the frequency axis needs at least 1 Hz between --fmin ({} Hz) and its top ({top})",
                    self.fmin_hz
                ),
            ));
        }
        Ok(crate::render::freqmap::FreqAxis {
            scale,
            fmin_hz: self.fmin_hz,
            fmax_hz: fmax,
        })
    }
}

/// Shortest `--span`, s.
pub const MIN_SPAN_S: f64 = 0.1;
/// Longest `--span`, s.
pub const MAX_SPAN_S: f64 = 3600.0;

/// Validated window settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DisplayConfig {
    /// Window width.
    pub width: usize,
    /// Window height.
    pub height: usize,
    /// Time one screen spans, ms.
    pub span_ms: u32,
    /// Frequency scale.
    pub freq_scale: FreqScale,
    /// Range and colours.
    pub look: Look,
}

impl DisplayConfig {
    /// Validates the window flags.
    ///
    /// # Errors
    /// A size out of 320×240..=7680×4320, or a bad look flag.
    pub fn new(args: &DisplayArgs) -> Result<Self> {
        if !(320..=7680).contains(&args.width) {
            return Err(invalid(
                "--width",
                format!("{} px: expected 320..=7680", args.width),
            ));
        }
        if !(240..=4320).contains(&args.height) {
            return Err(invalid(
                "--height",
                format!("{} px: expected 240..=4320", args.height),
            ));
        }
        if !(args.span >= MIN_SPAN_S && args.span <= MAX_SPAN_S) {
            return Err(invalid(
                "--span",
                format!("{} s: expected {MIN_SPAN_S}..={MAX_SPAN_S}", args.span),
            ));
        }
        Ok(DisplayConfig {
            width: args.width,
            height: args.height,
            span_ms: (args.span * 1000.0).round() as u32,
            freq_scale: args.freq.freq_scale.into(),
            look: Look::new(&args.look)?,
        })
    }
}

/// Validated `render` configuration.
#[derive(Clone, Debug)]
pub struct RenderConfig {
    /// Input WAV.
    pub input: PathBuf,
    /// Output PNG.
    pub output: PathBuf,
    /// STFT parameters.
    pub params: StftParams,
    /// Frequency scale.
    pub freq_scale: FreqScale,
    /// Plot height (None: one pixel per bin).
    pub height: Option<usize>,
    /// Plot width (None: one column per STFT row).
    pub width: Option<PlotWidth>,
    /// Range and colours.
    pub look: Look,
    /// Channel to analyse.
    pub channel: ChannelSelect,
    /// `--export PATH.json`.
    pub export: Option<PathBuf>,
    /// NaN and ±Inf samples: refused, or set to 0.
    pub nan: NanPolicy,
    /// `--start` / `--end`.
    pub crop: crate::stream::CropSeconds,
    /// `--params`: the file and the flags given beside it (recorded in the export).
    pub params_from: Option<ParamsFrom>,
    /// `--frontend`: a model front-end's features instead of the STFT.
    pub frontend: Option<crate::dsp::frontend::FrontendSpec>,
}

/// Validated `render`: the settings of every file, and the files.
///
/// Thread: main (plain data; the batch clones `cfg` for each file).
#[derive(Clone, Debug)]
pub struct RenderJob {
    /// The settings. `input`, `output` and `export` are those of the one-file form
    /// (`IN -o OUT.png`); a batch replaces them for each file.
    pub cfg: RenderConfig,
    /// The inputs and outputs.
    pub batch: BatchConfig,
}

/// How wide `render`'s plot is, when not one column per STFT row.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlotWidth {
    /// `--width PX`.
    Px(usize),
    /// `--px-per-second N`: the width is the duration times N, rounded.
    PxPerSecond(f64),
}

/// Widest `render --width`: 2^18 px (e.g. 24 h at 3 px per second).
pub const MAX_RENDER_WIDTH_PX: usize = 1 << 18;

/// The settings of the one-file form (`IN -o OUT.png`) without a `--params` file: what
/// [`RenderJob::new`] gives, for callers with one input (tests).
impl TryFrom<&RenderArgs> for RenderConfig {
    type Error = Error;

    fn try_from(args: &RenderArgs) -> Result<Self> {
        RenderJob::new(args, None).map(|job| job.cfg)
    }
}

impl RenderJob {
    /// Validates the flags of `render` over the `--params` file `file` (read by the
    /// caller), if any.
    ///
    /// # Errors
    /// Any value out of range, naming its flag (and the file, for a value taken from it).
    pub fn new(args: &RenderArgs, file: Option<&FileParams>) -> Result<RenderJob> {
        let mut args_in = args.clone();
        let params_from = file.map(|f| f.fill_render(&mut args_in));
        let blame = |e: Error| match (file, &params_from) {
            (Some(f), Some(from)) => f.blame(e, from),
            _ => e,
        };
        let args = &args_in;
        let params = stft_params(&args.analysis).map_err(blame)?;
        let batch = BatchConfig::new(
            &args.inputs,
            &args.output,
            &args.batch,
            args.export.as_ref(),
            "png",
        )?;
        if let Some(h) = args.height {
            if !(16..=16384).contains(&h) {
                return Err(invalid("--height", format!("{h} px: expected 16..=16384")));
            }
        }
        let width = match (args.width, args.px_per_second) {
            (Some(px), _) if !(16..=MAX_RENDER_WIDTH_PX).contains(&px) => {
                return Err(invalid(
                    "--width",
                    format!("{px} px: expected 16..={MAX_RENDER_WIDTH_PX}"),
                ))
            }
            (Some(px), _) => Some(PlotWidth::Px(px)),
            (None, Some(pps)) if !(pps.is_finite() && pps > 0.0) => {
                return Err(invalid(
                    "--px-per-second",
                    format!("{pps}: expected a positive number"),
                ))
            }
            (None, Some(pps)) => Some(PlotWidth::PxPerSecond(pps)),
            (None, None) => None,
        };
        let cfg = RenderConfig {
            input: args.inputs[0].clone(),
            output: args.output.clone(),
            params,
            freq_scale: args.freq.freq_scale.into(),
            height: args.height,
            width,
            look: Look::new(&args.look)?,
            channel: channel_select(args.channel),
            export: batch.export.for_output(&args.output),
            nan: args.nan.into(),
            crop: crop_seconds(&args.crop)?,
            params_from,
            frontend: args
                .frontend
                .as_deref()
                .map(|f| frontend::resolve(f, "--frontend"))
                .transpose()?,
        };
        Ok(RenderJob { cfg, batch })
    }
}

impl LiveConfig {
    /// Validates live flags and STFT flags.
    ///
    /// # Errors
    /// Any value out of range or an impossible combination.
    pub fn new(
        live: &LiveArgs,
        analysis: &AnalysisArgs,
        display: &DisplayArgs,
        mel: &MelArgs,
    ) -> Result<Self> {
        let params = stft_params(analysis)?;
        let mut display = DisplayConfig::new(display)?;
        let mel = MelOptions::new(mel)?;
        if let Some(m) = &mel {
            live_mel_range(m, &mut display)?;
        }
        let compare = match &live.compare {
            None => Vec::new(),
            Some(text) => compare_specs(text, params, analysis, &display)?,
        };
        let source = SourceChoice::new(live);
        check_stream_flags(live, &source)?;
        let duration = duration(live.duration)?;
        check_history_flags(live, &source)?;
        if live.headless && live.frontend.is_some() {
            // Headless status lines describe the STFT; a front-end pane is the window's.
            return Err(invalid(
                "--frontend",
                "a front-end is drawn in the window; --headless prints the STFT's status lines (for a file's features: hopscope analyze --frontend)",
            ));
        }
        let frontend = live
            .frontend
            .as_deref()
            .map(|arg| frontend::resolve_static(arg, "--frontend"))
            .transpose()?;
        let mut frontends: Vec<_> = frontend::builtins().iter().collect();
        if let Some(own) = frontend.filter(|f| !frontends.iter().any(|b| std::ptr::eq(*b, *f))) {
            frontends.push(own);
        }
        Ok(LiveConfig {
            frontend,
            frontends,
            host: live.host.clone(),
            compare,
            mel,
            history_s: live.history,
            snapshot_dir: live.snapshot_dir.clone(),
            snapshot_s: live.snapshot_seconds.min(live.history.max(0.0)),
            suggest_s: live.suggest_seconds.min(live.history.max(0.0)),
            source,
            sample_rate_hz: live.stream.sample_rate,
            buffer_frames: live.stream.buffer,
            channel: channel_select(live.channel),
            params,
            duration,
            headless: live.headless,
            win_length_set: analysis.win_length.is_some(),
            display,
        })
    }
}

impl SourceChoice {
    /// The source the flags name (clap lets at most one of them through).
    fn new(live: &LiveArgs) -> SourceChoice {
        if live.demo {
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
        }
    }
}

/// Checks the live band count; live, the bands span the window's frequency range, so
/// `--mel-fmin`/`--mel-fmax` set it.
fn live_mel_range(m: &MelOptions, display: &mut DisplayConfig) -> Result<()> {
    if !(1..=MAX_LIVE_MELS).contains(&m.n_mels) {
        return Err(invalid(
            "--mel",
            format!("the window shows 1..={MAX_LIVE_MELS} mel bands"),
        ));
    }
    display.look.fmin_hz = m.fmin_hz.max(display.look.fmin_hz);
    if m.fmax_hz.is_some() {
        display.look.fmax_hz = m.fmax_hz;
    }
    Ok(())
}

/// Parses `--compare` and resolves each pane over the other flags (the frequency range
/// is checked against the sample rate once it is known).
fn compare_specs(
    text: &str,
    params: StftParams,
    analysis: &AnalysisArgs,
    display: &DisplayConfig,
) -> Result<Vec<PaneSpec>> {
    let specs = PaneSpec::parse_list(text).map_err(|m| invalid("--compare", m))?;
    let base = PaneSettings {
        frontend: None,
        params,
        win_follows: analysis.win_length.is_none(),
        axis: FreqAxis {
            scale: display.freq_scale,
            fmin_hz: 0.0,
            fmax_hz: f64::MAX,
        },
        mel: None,
    };
    for (i, spec) in specs.iter().enumerate() {
        spec.resolve(&base, MelView::DEFAULT)
            .map_err(|m| invalid("--compare", format!("pane {}: {m}", i + 1)))?;
        if spec.mel.is_some_and(|n| n > MAX_LIVE_MELS) {
            return Err(invalid(
                "--compare",
                format!(
                    "pane {}: mel is out of range: expected 0..={MAX_LIVE_MELS}",
                    i + 1
                ),
            ));
        }
    }
    Ok(specs)
}

/// `--sample-rate` (not for a `--file`) and `--buffer` in range.
fn check_stream_flags(live: &LiveArgs, source: &SourceChoice) -> Result<()> {
    check_rate_and_buffer(&live.stream)?;
    if live.stream.sample_rate.is_some() && matches!(source, SourceChoice::File { .. }) {
        return Err(invalid(
            "--sample-rate",
            "a --file plays at its own sample rate; resampling is not supported",
        ));
    }
    Ok(())
}

/// `--sample-rate` in 1000..=[`MAX_LIVE_RATE_HZ`] and `--buffer` in
/// 1..=[`MAX_BUFFER_FRAMES`], when given.
fn check_rate_and_buffer(stream: &StreamArgs) -> Result<()> {
    if let Some(rate) = stream.sample_rate {
        if !(1000..=MAX_LIVE_RATE_HZ).contains(&rate) {
            return Err(invalid(
                "--sample-rate",
                format!("{rate} Hz is out of range: expected 1000..={MAX_LIVE_RATE_HZ}"),
            ));
        }
    }
    if let Some(b) = stream.buffer {
        if !(1..=MAX_BUFFER_FRAMES).contains(&b) {
            return Err(invalid(
                "--buffer",
                format!("{b} frames is out of range: expected 1..={MAX_BUFFER_FRAMES}"),
            ));
        }
    }
    Ok(())
}

/// `--duration` in (0, 1e9] seconds.
fn duration(seconds: Option<f64>) -> Result<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 && s <= 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(invalid(
            "--duration",
            format!("{s} s is out of range: expected a number of seconds in (0, 1e9]"),
        )),
    }
}

/// `--history` and what depends on it (the history's size when the rate is already
/// known), `--suggest-seconds`, `--snapshot-seconds`, `--snapshot-dir`, and `--host`
/// only for a device.
fn check_history_flags(live: &LiveArgs, source: &SourceChoice) -> Result<()> {
    if !(live.history.is_finite() && (0.0..=3600.0).contains(&live.history)) {
        return Err(invalid(
            "--history",
            format!(
                "{} is out of range: expected 0..=3600 seconds",
                live.history
            ),
        ));
    }
    positive_seconds("--suggest-seconds", live.suggest_seconds)?;
    positive_seconds("--snapshot-seconds", live.snapshot_seconds)?;
    let known_rate_hz = match source {
        SourceChoice::File { path, .. } => check_live_file(path)?,
        SourceChoice::Demo => Some(live.stream.sample_rate.unwrap_or(DEFAULT_DEMO_RATE_HZ)),
        _ => live.stream.sample_rate,
    };
    if let Some(rate) = known_rate_hz.filter(|_| !live.headless) {
        check_history(live.history, rate)?;
    }
    if let Some(dir) = &live.snapshot_dir {
        if !dir.is_dir() {
            return Err(invalid(
                "--snapshot-dir",
                format!("'{}' is not a directory", dir.display()),
            ));
        }
    }
    if live.host.is_some() && (live.file.is_some() || live.demo) {
        return Err(invalid(
            "--host",
            "chooses the audio host of a device; --file and --demo use none".to_string(),
        ));
    }
    Ok(())
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
    pub scale: ValueScale,
    /// librosa `center=True` framing.
    pub center: bool,
    /// Channel to analyse.
    pub channel: ChannelSelect,
    /// Mel bands instead of linear bins.
    pub mel: Option<MelOptions>,
    /// `--export PATH.json`.
    pub export: Option<PathBuf>,
    /// NaN and ±Inf samples: refused, or set to 0.
    pub nan: NanPolicy,
    /// `--start` / `--end`.
    pub crop: crate::stream::CropSeconds,
    /// `--params`: the file and the flags given beside it (recorded in the export).
    pub params_from: Option<ParamsFrom>,
    /// `--frontend`: a model front-end instead of the STFT flags.
    pub frontend: Option<crate::dsp::frontend::FrontendSpec>,
}

/// `--mel N` and its options, before the sample rate is known.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MelOptions {
    /// Bands.
    pub n_mels: usize,
    /// Formula and construction.
    pub scale: MelScale,
    /// Row normalisation.
    pub norm: MelNorm,
    /// Lower edge, Hz.
    pub fmin_hz: f64,
    /// Upper edge, Hz (`None`: Nyquist).
    pub fmax_hz: Option<f64>,
}

impl MelOptions {
    /// Parses `--mel` and its options; `None` without `--mel`.
    ///
    /// # Errors
    /// An unknown scale or norm, or a norm TF does not have.
    pub fn new(args: &MelArgs) -> Result<Option<MelOptions>> {
        let Some(n_mels) = args.mel else {
            let others = [
                (args.mel_scale.is_some(), "--mel-scale"),
                (args.mel_norm.is_some(), "--mel-norm"),
                (args.mel_fmin.is_some(), "--mel-fmin"),
                (args.mel_fmax.is_some(), "--mel-fmax"),
            ];
            if let Some((_, flag)) = others.into_iter().find(|(set, _)| *set) {
                return Err(invalid(
                    flag,
                    "applies to mel bands: give --mel N too (or, in `analyze`, a --params file with mel bands)".to_string(),
                ));
            }
            return Ok(None);
        };
        let scale = args.mel_scale.map_or(MelScale::Slaney, MelScale::from);
        let norm = match args.mel_norm {
            Some(norm) => norm.into(),
            None if scale == MelScale::Slaney => MelNorm::Slaney,
            None => MelNorm::None,
        };
        let fmin_hz = args.mel_fmin.unwrap_or(0.0);
        for (flag, hz) in [("--mel-fmin", Some(fmin_hz)), ("--mel-fmax", args.mel_fmax)] {
            if hz.is_some_and(|hz| !(hz.is_finite() && hz >= 0.0)) {
                return Err(invalid(
                    flag,
                    format!("{} Hz: expected a finite frequency >= 0", hz.unwrap_or(0.0)),
                ));
            }
        }
        if let Some(fmax_hz) = args.mel_fmax.filter(|&f| f <= fmin_hz) {
            return Err(invalid(
                "--mel-fmax",
                format!("{fmax_hz} Hz must be above --mel-fmin ({fmin_hz} Hz)"),
            ));
        }
        let opts = MelOptions {
            n_mels,
            scale,
            norm,
            fmin_hz,
            fmax_hz: args.mel_fmax,
        };
        // The band count and the norm, on a range that passes: the range against the
        // Nyquist frequency is checked once the file's rate is known.
        let probe = MelSpec {
            fmin_hz: 0.0,
            fmax_hz: 1.0,
            ..opts.spec(2)
        };
        if let Err(m) = probe.validate(2) {
            return Err(invalid("--mel", m));
        }
        Ok(Some(opts))
    }

    /// The filterbank spec at `sample_rate_hz`.
    pub fn spec(&self, sample_rate_hz: u32) -> MelSpec {
        MelSpec {
            n_mels: self.n_mels,
            fmin_hz: self.fmin_hz,
            fmax_hz: self.fmax_hz.unwrap_or(f64::from(sample_rate_hz) / 2.0),
            scale: self.scale,
            norm: self.norm,
        }
    }
}

/// Largest `n_mels × n_fft` of `analyze --mel`: 2^24, so the filterbank holds at most
/// 2^23 + n_mels weights (32 MiB as f32), and `--export`, which writes them as JSON text,
/// peaks near 0.55 GB. E.g. 128 bands up to n_fft 65536 or 4096 bands up to 4096.
pub const MAX_MEL_BANDS_X_N_FFT: usize = 1 << 24;

fn check_mel_size(n_mels: usize, fft_size: usize) -> Result<()> {
    if n_mels.saturating_mul(fft_size) <= MAX_MEL_BANDS_X_N_FFT {
        return Ok(());
    }
    Err(invalid(
        "--mel",
        format!(
            "{n_mels} bands at n_fft {fft_size}: the filterbank is limited to n_mels x n_fft <= {MAX_MEL_BANDS_X_N_FFT} (at most {} bands at this n_fft)",
            MAX_MEL_BANDS_X_N_FFT / fft_size
        ),
    ))
}

/// Validated `analyze`: the settings of every file, and the files.
///
/// Thread: main (plain data; the batch clones `cfg` for each file).
#[derive(Clone, Debug)]
pub struct AnalyzeJob {
    /// The settings. `input`, `output` and `export` are those of the one-file form
    /// (`IN -o OUT.npy`); a batch replaces them for each file.
    pub cfg: AnalyzeConfig,
    /// The inputs and outputs.
    pub batch: BatchConfig,
}

/// The settings of the one-file form (`IN -o OUT.npy`) without a `--params` file: what
/// [`AnalyzeJob::new`] gives, for callers with one input (tests).
impl TryFrom<&AnalyzeArgs> for AnalyzeConfig {
    type Error = Error;

    fn try_from(args: &AnalyzeArgs) -> Result<Self> {
        AnalyzeJob::new(args, None).map(|job| job.cfg)
    }
}

impl AnalyzeJob {
    /// Validates the flags of `analyze` over the `--params` file `file` (read by the
    /// caller), if any.
    ///
    /// # Errors
    /// Any value out of range, naming its flag (and the file, for a value taken from it).
    pub fn new(args: &AnalyzeArgs, file: Option<&FileParams>) -> Result<AnalyzeJob> {
        let mut args_in = args.clone();
        let params_from = file.map(|f| f.fill_analyze(&mut args_in));
        let blame = |e: Error| match (file, &params_from) {
            (Some(f), Some(from)) => f.blame(e, from),
            _ => e,
        };
        let args = &args_in;
        let params = stft_params(&args.analysis).map_err(blame)?;
        let batch = BatchConfig::new(
            &args.inputs,
            &args.output,
            &args.batch,
            args.export.as_ref(),
            "npy",
        )?;
        let mel = MelOptions::new(&args.mel).map_err(blame)?;
        if let Some(m) = &mel {
            check_mel_size(m.n_mels, params.fft_size).map_err(blame)?;
        }
        let cfg = AnalyzeConfig {
            input: args.inputs[0].clone(),
            output: args.output.clone(),
            params,
            scale: args.value.scale.map_or(ValueScale::Db, Into::into),
            center: args.center.unwrap_or(false),
            channel: channel_select(args.channel),
            mel,
            export: batch.export.for_output(&args.output),
            nan: args.nan.into(),
            crop: crop_seconds(&args.crop)?,
            params_from,
            frontend: args
                .frontend
                .as_deref()
                .map(|f| frontend::resolve(f, "--frontend"))
                .transpose()?,
        };
        Ok(AnalyzeJob { cfg, batch })
    }
}

/// Validated `hopscope suggest` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct SuggestConfig {
    /// Input WAV.
    pub input: PathBuf,
    /// Windows to try (one, or every window with `--windows`).
    pub windows: Vec<WindowKind>,
    /// How the hop is chosen.
    pub grid: Grid,
    /// Smallest candidate `n_fft` (a power of two).
    pub min_fft_size: usize,
    /// Largest candidate `n_fft` (a power of two).
    pub max_fft_size: usize,
    /// Channel to analyse.
    pub channel: ChannelSelect,
    /// NaN and ±Inf samples: refused, or set to 0.
    pub nan: NanPolicy,
    /// `--start` / `--end`.
    pub crop: crate::stream::CropSeconds,
}

fn check_pow2(flag: &'static str, n: usize) -> Result<()> {
    if n.is_power_of_two() && (MIN_FFT_SIZE..=MAX_FFT_SIZE).contains(&n) {
        Ok(())
    } else {
        Err(invalid(
            flag,
            format!("{n}: expected a power of two in {MIN_FFT_SIZE}..={MAX_FFT_SIZE}"),
        ))
    }
}

impl TryFrom<&SuggestArgs> for SuggestConfig {
    type Error = Error;

    fn try_from(args: &SuggestArgs) -> Result<Self> {
        let windows = if args.windows {
            ALL_WINDOWS.to_vec()
        } else {
            vec![args.window]
        };
        check_pow2("--min-n-fft", args.min_n_fft)?;
        check_pow2("--max-n-fft", args.max_n_fft)?;
        if args.min_n_fft > args.max_n_fft {
            return Err(invalid(
                "--min-n-fft",
                format!(
                    "{} is above --max-n-fft ({})",
                    args.min_n_fft, args.max_n_fft
                ),
            ));
        }
        let grid = match args.hop {
            Some(0) => return Err(invalid("--hop", "0: expected at least 1 sample")),
            Some(h) if h > args.min_n_fft => {
                return Err(invalid(
                    "--hop",
                    format!(
                        "{h} is longer than the smallest candidate n_fft ({}): raise --min-n-fft or lower --hop",
                        args.min_n_fft
                    ),
                ))
            }
            Some(h) => Grid::FixedHop(h),
            None => {
                let r = args.hop_ratio;
                if !(r.is_finite() && r > 0.0 && r <= 1.0) {
                    return Err(invalid(
                        "--hop-ratio",
                        format!("{r}: expected a fraction of n_fft in (0, 1]"),
                    ));
                }
                if args.min_n_fft as f64 * r < 1.0 {
                    return Err(invalid(
                        "--hop-ratio",
                        format!(
                            "{r} gives a hop below one sample at n_fft {}",
                            args.min_n_fft
                        ),
                    ));
                }
                Grid::HopRatio(r)
            }
        };
        Ok(SuggestConfig {
            input: args.input.clone(),
            windows,
            grid,
            min_fft_size: args.min_n_fft,
            max_fft_size: args.max_n_fft,
            channel: args
                .channel
                .map_or(ChannelSelect::Mix, ChannelSelect::Index),
            nan: args.nan.into(),
            crop: crop_seconds(&args.crop)?,
        })
    }
}

/// The hops `latency` tabulates without `--hops` or `--hop`: those up to win_length.
pub const DEFAULT_LATENCY_HOPS: [usize; 5] = [1, 16, 64, 256, 1024];
/// Most hops in one `latency` table (each is measured for at least 0.25 s of CPU).
pub const MAX_LATENCY_HOPS: usize = 16;

/// Validated `latency` configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyConfig {
    /// n_fft, win_length and window; the hop is each of `hops` in turn.
    pub params: StftParams,
    /// The hops, in the order given, each valid with `params`.
    pub hops: Vec<usize>,
    /// Sample rate (default 48000).
    pub sample_rate_hz: u32,
    /// Audio block size in frames, the model's block term (default 480, as --demo).
    pub buffer_frames: usize,
    /// The value scale of the measured engine.
    pub scale: ValueScale,
}

impl TryFrom<&LatencyArgs> for LatencyConfig {
    type Error = Error;

    fn try_from(args: &LatencyArgs) -> Result<Self> {
        let params = stft_params(&args.analysis)?;
        check_rate_and_buffer(&args.stream)?;
        let hops = match (&args.hops[..], args.analysis.hop) {
            ([], Some(hop)) => vec![hop],
            ([], None) => DEFAULT_LATENCY_HOPS
                .into_iter()
                .filter(|&h| h <= params.win_length)
                .collect(),
            (list, _) => list.to_vec(),
        };
        if hops.len() > MAX_LATENCY_HOPS {
            return Err(invalid(
                "--hops",
                format!("{} hops: expected at most {MAX_LATENCY_HOPS}", hops.len()),
            ));
        }
        for &hop_size in &hops {
            StftParams { hop_size, ..params }
                .validate()
                .map_err(|m| invalid("--hops", m))?;
        }
        Ok(LatencyConfig {
            params,
            hops,
            sample_rate_hz: args.stream.sample_rate.unwrap_or(DEFAULT_DEMO_RATE_HZ),
            buffer_frames: args.stream.buffer.unwrap_or(DEFAULT_PACED_PERIOD) as usize,
            scale: args.value.scale.map_or(ValueScale::Db, Into::into),
        })
    }
}
