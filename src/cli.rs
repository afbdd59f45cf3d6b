//! Raw command-line flags (clap derive). Doc comments are the `--help` text;
//! `config.rs` validates them. The values of the enumerated flags are in [`values`].

pub mod values;

use std::convert::Infallible;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::dsp::window::WindowKind;
use values::{
    host_parser, ColormapArg, FreqScaleArg, MelNormArg, MelScaleArg, NanPolicyArg, ValueScaleArg,
    WindowParser,
};

/// Real-time microphone spectrogram monitor with calibrated dBFS rows and
/// ML-ready STFT parameters.
///
/// With no subcommand, runs the live monitor on the default input device (or
/// --device / --file / --demo). Without an input device it falls back to the
/// built-in demo signal and says so.
#[derive(Debug, Parser)]
#[command(name = "hopscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; omit for the live monitor.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Live options.
    #[command(flatten)]
    pub live: LiveArgs,
    /// STFT options.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Window options.
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Mel view options (`--mel N` starts the window on N mel bands; M toggles).
    #[command(flatten)]
    pub mel: MelArgs,
}

/// How the live window looks (every setting also has a key).
#[derive(Clone, Debug, Args)]
pub struct DisplayArgs {
    /// Window width in pixels.
    #[arg(
        long,
        value_name = "PX",
        default_value_t = 1280,
        allow_negative_numbers = true
    )]
    pub width: usize,
    /// Window height in pixels.
    #[arg(
        long,
        value_name = "PX",
        default_value_t = 720,
        allow_negative_numbers = true
    )]
    pub height: usize,
    /// Seconds one screen of the waterfall spans, whatever the hop (`,` and `.` step
    /// through 1 2 5 10 20 30 60).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    pub span: f64,
    /// Frequency axis.
    #[command(flatten)]
    pub freq: FreqScaleArgs,
    /// Frequency range, colours, dB range.
    #[command(flatten)]
    pub look: LookArgs,
}

/// The frequency axis flag of the live window and `render`.
#[derive(Clone, Debug, Args)]
pub struct FreqScaleArgs {
    /// Frequency axis.
    #[arg(
        long = "freq-scale",
        value_enum,
        value_name = "SCALE",
        ignore_case = true,
        default_value_t = FreqScaleArg::Linear
    )]
    pub freq_scale: FreqScaleArg,
    /// Hidden: `--scale` is only the value scale (of `analyze`); the axis was called
    /// `--scale` by `render` until it became --freq-scale as live. Any use here is an
    /// error naming --freq-scale, never a silent reinterpretation.
    #[arg(long = "scale", hide = true, value_name = "SCALE", value_parser = scale_is_now_freq_scale)]
    pub scale_renamed: Option<Infallible>,
}

/// Frequency range, colours and dB range: shared by the window and `render`.
#[derive(Clone, Debug, Args)]
pub struct LookArgs {
    /// Lowest frequency shown, Hz (a log axis starts at 20 Hz at the lowest).
    #[arg(
        long,
        value_name = "HZ",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub fmin: f64,
    /// Highest frequency shown, Hz [default: sample_rate/2].
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    pub fmax: Option<f64>,
    /// Colormap.
    #[arg(
        long,
        value_enum,
        value_name = "NAME",
        ignore_case = true,
        default_value_t = ColormapArg::Magma
    )]
    pub colormap: ColormapArg,
    /// dB floor: levels at or below it get the first colour.
    #[arg(long, value_name = "DBFS", default_value_t = -120.0, allow_negative_numbers = true)]
    pub floor: f32,
    /// dB ceiling: levels at or above it get the last colour.
    #[arg(
        long,
        value_name = "DBFS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub ceiling: f32,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every input device with its default and supported configurations.
    Devices,
    /// Write the STFT of WAV files (or of the audio files in directories) as float32 .npy
    /// arrays of shape (frames, bins).
    Analyze(AnalyzeArgs),
    /// Draw the whole spectrogram of WAV files (or of the audio files in directories) as
    /// PNGs, with the live window's renderer.
    Render(RenderArgs),
    /// Rank STFT sizes (and optionally windows) for a WAV file by the Rényi entropy of
    /// its spectrogram; prints a table and a `best:` line.
    Suggest(SuggestArgs),
    /// For each hop, the latency model (DSP.md §4), the rows per second, the window's
    /// resolution and the measured analysis CPU per second of audio on this machine:
    /// the table to consult before choosing a hop.
    Latency(LatencyArgs),
    /// List the model front-ends `--frontend` takes (Whisper, YAMNet, Kaldi fbank, …),
    /// each with its full parameter set and the reference it matches; with NAME, write
    /// that one's JSON (the export format, loadable with `--frontend PATH.json`).
    Frontends(FrontendsArgs),
}

/// `hopscope frontends [NAME] [--json]`.
#[derive(Clone, Debug, Args)]
pub struct FrontendsArgs {
    /// One front-end (a built-in name or a PATH.json) instead of all.
    #[arg(value_name = "NAME|PATH.json")]
    pub name: Option<String>,
    /// Print the JSON of NAME (the export format, with the window coefficients and mel
    /// weights), e.g. to start a custom front-end from.
    #[arg(long, requires = "name")]
    pub json: bool,
}

/// `hopscope latency --hops 1,16,64,256,1024`.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// STFT options (--hop N gives a table of that one hop; --hops lists several).
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Hops in samples, comma-separated, each 1..=win_length, at most 16
    /// [default: those of 1,16,64,256,1024 up to win_length].
    #[arg(
        long,
        value_name = "H,H,...",
        value_delimiter = ',',
        conflicts_with = "hop",
        allow_negative_numbers = true
    )]
    pub hops: Vec<usize>,
    /// Sample rate and audio buffer (the model's block term).
    #[command(flatten)]
    pub stream: StreamArgs,
    /// The value scale of the measured engine (live computes dB).
    #[command(flatten)]
    pub value: ValueScaleArgs,
}

/// `hopscope suggest IN.wav`: order-3 Rényi entropy (bits) of the power spectrogram for
/// each power-of-two n_fft (win_length = n_fft, no centring); lower is more concentrated.
#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Input WAV (8/16/24/32-bit integer or 32-bit float PCM).
    #[arg(value_name = "IN.wav")]
    pub input: PathBuf,
    /// Window (periodic); kaiser and gaussian take a parameter: kaiser=BETA,
    /// gaussian=SIGMA (a fraction of the window).
    #[arg(long, value_name = "NAME", value_parser = WindowParser, default_value = "hann")]
    pub window: WindowKind,
    /// Rank every (window, n_fft) pair, with each window at its default parameter.
    #[arg(long, conflicts_with = "window")]
    pub windows: bool,
    /// Hop as a fraction of n_fft, in (0, 1]: the same time-frequency cell for every
    /// size, so entropies compare as they are.
    #[arg(
        long = "hop-ratio",
        value_name = "R",
        default_value_t = 0.25,
        allow_negative_numbers = true
    )]
    pub hop_ratio: f64,
    /// One hop in samples for every size instead of --hop-ratio; the ranking then adds
    /// the grid correction log2(hop/n_fft) to each entropy.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "hop_ratio",
        allow_negative_numbers = true
    )]
    pub hop: Option<usize>,
    /// Smallest n_fft tried (a power of two).
    #[arg(
        long = "min-n-fft",
        value_name = "N",
        default_value_t = 256,
        allow_negative_numbers = true
    )]
    pub min_n_fft: usize,
    /// Largest n_fft tried (a power of two; sizes longer than the file are skipped).
    #[arg(
        long = "max-n-fft",
        value_name = "N",
        default_value_t = 16384,
        allow_negative_numbers = true
    )]
    pub max_n_fft: usize,
    /// Analyse one channel (0 = first) instead of the mix of all channels.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub channel: Option<usize>,
    /// What to do with NaN and ±Inf samples.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = NanPolicyArg::Error)]
    pub nan: NanPolicyArg,
    /// The part of the file to analyse.
    #[command(flatten)]
    pub crop: CropArgs,
    /// No progress bar (there is one on stderr, when it is a terminal, for work longer
    /// than about a second).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// A mel spectrogram instead of linear bins (../shared/DSP.md §7). The options other
/// than `--mel` need `--mel N` (or, in `analyze`, a `--params` file with mel bands).
#[derive(Clone, Debug, Args)]
pub struct MelArgs {
    /// N mel bands. Live, the window starts on the mel view (M toggles). `analyze` writes
    /// per row the mel-weighted sum of |X|² (`--scale power`; librosa `melspectrogram`),
    /// of |X| (`--scale magnitude`), or of the calibrated bin powers in dB (`--scale db`).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub mel: Option<usize>,
    /// Mel formula and filterbank [default: slaney].
    #[arg(
        long = "mel-scale",
        value_enum,
        value_name = "SCALE",
        ignore_case = true
    )]
    pub mel_scale: Option<MelScaleArg>,
    /// Band normalisation [default: slaney for the slaney scale, none for htk and tf, as
    /// each library does].
    #[arg(long = "mel-norm", value_enum, value_name = "NORM", ignore_case = true)]
    pub mel_norm: Option<MelNormArg>,
    /// Lower edge of the first mel band in Hz [default: 0].
    #[arg(long = "mel-fmin", value_name = "HZ", allow_negative_numbers = true)]
    pub mel_fmin: Option<f64>,
    /// Upper edge of the last mel band in Hz [default: Nyquist].
    #[arg(long = "mel-fmax", value_name = "HZ", allow_negative_numbers = true)]
    pub mel_fmax: Option<f64>,
}

/// `hopscope render IN.wav -o OUT.png`, `hopscope render IN… DIR… -o OUT/`.
#[derive(Clone, Debug, Args)]
pub struct RenderArgs {
    /// Input audio files (WAV, FLAC, MP3, Ogg Vorbis, AAC/ALAC in MP4, AIFF, CAF) or
    /// directories of them ('-': standard input, as the only input).
    #[arg(value_name = "IN.wav", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Output PNG; or a directory (an existing one, or a path ending in '/', created)
    /// where each input's PNG goes, mirroring the input directories.
    #[arg(short = 'o', long = "output", value_name = "OUT.png|DIR/")]
    pub output: PathBuf,
    /// Several inputs: directories, progress.
    #[command(flatten)]
    pub batch: BatchArgs,
    /// Take n_fft, win_length, hop, window and channel from an export JSON (`--export`,
    /// the live E key); flags given beside it override it.
    #[arg(long, value_name = "PATH.json")]
    pub params: Option<PathBuf>,
    /// Draw a model front-end's features instead of the STFT: a built-in name (see
    /// `hopscope frontends`) or a front-end JSON; the input is resampled to its rate.
    #[arg(
        long,
        value_name = "NAME|PATH.json",
        conflicts_with_all = ["params", "n_fft", "win_length", "hop", "window", "freq_scale", "floor", "ceiling", "fmin", "fmax"]
    )]
    pub frontend: Option<String>,
    /// STFT options.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Frequency axis.
    #[command(flatten)]
    pub freq: FreqScaleArgs,
    /// Plot height in pixels [default: one pixel per bin, n_fft/2 + 1].
    #[arg(long, value_name = "PX", allow_negative_numbers = true)]
    pub height: Option<usize>,
    /// Plot width in pixels: the STFT rows are folded into this many columns, each pixel
    /// the maximum of its rows (as the live window's time axis) [default: one column per
    /// row].
    #[arg(
        long,
        value_name = "PX",
        allow_negative_numbers = true,
        conflicts_with = "px_per_second"
    )]
    pub width: Option<usize>,
    /// Plot width as pixels per second of audio (fractions allowed: 0.05 draws 24 h in
    /// 4320 px), folded as --width.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub px_per_second: Option<f64>,
    /// Frequency range, colours, dB range.
    #[command(flatten)]
    pub look: LookArgs,
    /// Analyse one channel (0 = first) instead of the mix of all channels.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub channel: Option<usize>,
    /// Also write the STFT parameters of the image (dBFS rows) as JSON, with
    /// PATH.librosa.py, PATH.torch.py, PATH.tf.py and PATH.keras.py beside it; without a
    /// path (and with -o DIR/), OUT.json beside each PNG.
    #[arg(long, value_name = "PATH.json", num_args = 0..=1)]
    pub export: Option<Option<PathBuf>>,
    /// What to do with NaN and ±Inf samples.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = NanPolicyArg::Error)]
    pub nan: NanPolicyArg,
    /// The part of the file to analyse.
    #[command(flatten)]
    pub crop: CropArgs,
}

/// Where live audio comes from and how it is captured.
#[derive(Debug, Args)]
#[group(id = "live")]
pub struct LiveArgs {
    /// Audio host [default: the first that answers of pipewire, pulseaudio, alsa].
    #[arg(long, value_name = "NAME", ignore_case = true, value_parser = host_parser())]
    pub host: Option<String>,
    /// Input device: case-insensitive substring of its name (see `hopscope devices`).
    #[arg(long, value_name = "SUBSTR", group = "source")]
    pub device: Option<String>,
    /// Replay a WAV file paced in real time, exactly like a microphone.
    #[arg(long, value_name = "PATH.wav", group = "source")]
    pub file: Option<PathBuf>,
    /// With --file: start again at the end.
    #[arg(long = "loop", requires = "file")]
    pub looping: bool,
    /// Use the built-in demo signal (tones, chirp, clicks, bursts, noise).
    #[arg(long, group = "source")]
    pub demo: bool,
    /// Sample rate and audio buffer size.
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Analyse one input channel (0 = first) instead of the mix of all channels.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub channel: Option<usize>,
    /// No window: print one status line per second on stdout instead.
    #[arg(long)]
    pub headless: bool,
    /// Stop after this many seconds (default: run until Ctrl-C, or the end of a --file).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Seconds of mono input kept for re-rendering the history when parameters change
    /// (0 turns re-rendering off).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    pub history: f64,
    /// Where P saves snapshot folders [default: the current directory].
    #[arg(long = "snapshot-dir", value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Seconds of audio in a snapshot (at most --history).
    #[arg(
        long = "snapshot-seconds",
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    pub snapshot_seconds: f64,
    /// Seconds of history G ranks n_fft over (at most --history).
    #[arg(
        long = "suggest-seconds",
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    pub suggest_seconds: f64,
    /// Start with 2-4 stacked compare panes on the same input, each a SPEC of
    /// key=value pairs (window, n_fft, win_length, hop, freq_scale, mel) over the other flags,
    /// e.g. "window=hann;window=blackman,n_fft=4096". Tab toggles them.
    #[arg(long, value_name = "SPEC;SPEC[;…]")]
    pub compare: Option<String>,
    /// Show a model's front-end (a built-in name or a front-end JSON): the capture is
    /// resampled to its rate and the waterfall shows its values (N cycles the built-ins).
    #[arg(long, value_name = "NAME|PATH.json")]
    pub frontend: Option<String>,
}

/// The stream's sample rate and audio buffer: live capture asks the device for them,
/// `latency` models them.
#[derive(Clone, Debug, Args)]
pub struct StreamArgs {
    /// Sample rate in Hz (live: the device default if omitted, 48000 for --demo;
    /// `latency`: 48000).
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    pub sample_rate: Option<u32>,
    /// Audio buffer size in frames (live: the device default if omitted, 480 for
    /// --file/--demo; `latency`: 480).
    #[arg(long, value_name = "FRAMES", allow_negative_numbers = true)]
    pub buffer: Option<u32>,
}

/// The value scale of the rows: `analyze`'s output, `latency`'s measured engine.
#[derive(Clone, Debug, Args)]
pub struct ValueScaleArgs {
    /// What the values are (the value scale; the frequency axis of `render` and the
    /// window is --freq-scale) [default: db].
    #[arg(long = "scale", value_enum, value_name = "SCALE", ignore_case = true)]
    pub scale: Option<ValueScaleArg>,
}

/// STFT parameters shared by live mode and `analyze`.
#[derive(Clone, Debug, Args)]
pub struct AnalysisArgs {
    /// FFT size n_fft: any length 16..=65536 (powers of two and 2^a·3^b are fastest)
    /// [default: 2048].
    #[arg(long = "n-fft", value_name = "N", allow_negative_numbers = true)]
    pub n_fft: Option<usize>,
    /// Window length ≤ n_fft [default: n_fft]; a shorter window is centred in the
    /// FFT buffer and zero-padded, as librosa and torch do.
    #[arg(long = "win-length", value_name = "N", allow_negative_numbers = true)]
    pub win_length: Option<usize>,
    /// Hop in samples, 1..=win_length [default: 512, or win_length/4 when that is smaller].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub hop: Option<usize>,
    /// Window (periodic); kaiser and gaussian take a parameter: kaiser=BETA,
    /// gaussian=SIGMA (a fraction of the window) [default: hann].
    #[arg(long, value_name = "NAME", value_parser = WindowParser)]
    pub window: Option<WindowKind>,
}

/// What `analyze` and `render` do with several inputs.
#[derive(Clone, Debug, Args)]
pub struct BatchArgs {
    /// Also take the audio files in the subdirectories of a directory given (without it,
    /// they are skipped and counted in the summary).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// No progress bar (there is one on stderr, when it is a terminal, for work longer
    /// than about a second).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `hopscope analyze IN.wav -o OUT.npy`, `hopscope analyze IN… DIR… -o OUT/`.
#[derive(Clone, Debug, Args)]
pub struct AnalyzeArgs {
    /// Input audio files (WAV, FLAC, MP3, Ogg Vorbis, AAC/ALAC in MP4, AIFF, CAF) or
    /// directories of them ('-': standard input, as the only input).
    #[arg(value_name = "IN.wav", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Output .npy (float32, shape (frames, bins), C order); or a directory (an existing
    /// one, or a path ending in '/', created) where each input's .npy goes, mirroring the
    /// input directories.
    #[arg(short = 'o', long = "output", value_name = "OUT.npy|DIR/")]
    pub output: PathBuf,
    /// Several inputs: directories, progress.
    #[command(flatten)]
    pub batch: BatchArgs,
    /// Take the STFT, value scale, centring, mel and channel parameters from an export
    /// JSON (`--export`, the live E key); flags given beside it override it.
    #[arg(long, value_name = "PATH.json")]
    pub params: Option<PathBuf>,
    /// Compute a model's front-end instead of the STFT flags: a built-in name (see
    /// `hopscope frontends`: whisper, yamnet, kaldi-fbank, …) or a front-end JSON. The
    /// input is resampled to the front-end's rate when it differs.
    #[arg(
        long,
        value_name = "NAME|PATH.json",
        conflicts_with_all = ["params", "n_fft", "win_length", "hop", "window", "scale", "center", "mel"]
    )]
    pub frontend: Option<String>,
    /// STFT options.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// The value scale.
    #[command(flatten)]
    pub value: ValueScaleArgs,
    /// Pad n_fft/2 zeros at both ends (librosa center=True, pad_mode="constant");
    /// `--center=false` turns off the centring of a --params file.
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub center: Option<bool>,
    /// Analyse one channel (0 = first) instead of the mix of all channels.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub channel: Option<usize>,
    /// Mel options (`--mel N` writes N mel bands instead of the linear bins).
    #[command(flatten)]
    pub mel: MelArgs,
    /// Also write the exact parameters as JSON (../shared/DSP.md §8.1) and, beside it,
    /// PATH.librosa.py, PATH.torch.py, PATH.tf.py and PATH.keras.py (a Keras 3 model) that
    /// reproduce these rows; without a path (and with -o DIR/), OUT.json beside each .npy.
    #[arg(long, value_name = "PATH.json", num_args = 0..=1)]
    pub export: Option<Option<PathBuf>>,
    /// What to do with NaN and ±Inf samples.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = NanPolicyArg::Error)]
    pub nan: NanPolicyArg,
    /// The part of the file to analyse.
    #[command(flatten)]
    pub crop: CropArgs,
}

/// `--start` / `--end`: the part of an input file to analyse.
#[derive(Clone, Debug, Default, Args)]
pub struct CropArgs {
    /// Start at this time: seconds (`90`, `1.5`) or [HH:]MM:SS[.frac] (`1:30`,
    /// `02:00:00`). What lies before it is skipped by seeking where the format can.
    #[arg(long, value_name = "TIME", value_parser = values::parse_time)]
    pub start: Option<f64>,
    /// Stop at this time (same forms); the default is the end of the file.
    #[arg(long, value_name = "TIME", value_parser = values::parse_time)]
    pub end: Option<f64>,
}

/// The value parser of the hidden `--scale` of `render` and live mode: always an error
/// that names the flag to use instead.
fn scale_is_now_freq_scale(value: &str) -> Result<Infallible, String> {
    Err(format!(
        "the frequency axis is --freq-scale (it was render's --scale; --scale is the value scale of `analyze`): use --freq-scale {value}"
    ))
}
