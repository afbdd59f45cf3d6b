//! Audio file input: every container hopscope reads, decoded as a stream of interleaved
//! f32 frames in [−1, 1).
//!
//! WAV goes through our own RIFF walker ([`crate::io::wav`]: exact integer scaling,
//! extensible formats, odd chunks); every other format through symphonia (pure Rust):
//! FLAC, MP3 (and MP1/MP2), Ogg Vorbis, AAC-LC and ALAC in MP4/M4A, AIFF/AIFC, CAF,
//! Matroska/WebM. The MP3 and Vorbis decoders drop the encoder delay and padding the
//! file's gapless metadata declares (symphonia's packet trimming).
//!
//! A packet that fails to decode (a corrupt frame) is replaced by silence of its duration,
//! so that what follows stays at its time, and counted ([`DecodeIssues`]); the caller
//! reports the count and the first one's position. A file that ends before the frames its
//! header declares is an error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_OPUS, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{
    AudioCodecId, AudioCodecParameters, AudioDecoder, AudioDecoderOptions,
};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use crate::error::{Error, Result};
use crate::io::opus::{OpusCodec, OPUS_RATE_HZ};
use crate::io::wav::{self, Input, WavAudio, WavStream};

/// Seek preroll of MPEG audio: the bit reservoir reaches 511 bytes back (a few frames at
/// low rates), then one granule of MDCT overlap and the 512-tap synthesis filterbank.
const MP3_PREROLL_FRAMES: u64 = 8 * 1152;
/// Seek preroll of Vorbis: one block's overlap (blocks are at most 8192 frames).
const VORBIS_PREROLL_FRAMES: u64 = 8192;

/// The containers and codecs hopscope reads, for error messages.
pub const SUPPORTED: &str = "WAV, FLAC, MP3, Ogg Vorbis, Ogg Opus, AAC and ALAC in MP4/M4A, AIFF/AIFC, CAF, Matroska/WebM (FLAC, Vorbis, PCM)";

/// What a file holds.
///
/// Thread: any (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioInfo {
    /// Sample rate.
    pub sample_rate_hz: u32,
    /// Channels per frame.
    pub channels: usize,
    /// Frames the header declares (`None`: not declared, e.g. a stream or some MP3s).
    pub frames: Option<u64>,
    /// Container and codec, e.g. `WAV PCM 16-bit`, `flac/flac`.
    pub format: String,
}

/// Packets that failed to decode and were replaced by silence.
///
/// Thread: any (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeIssues {
    /// How many.
    pub count: u64,
    /// Frames of silence put in their place.
    pub frames: u64,
    /// The first one's frame.
    pub first_frame: u64,
    /// The decoder's words for the first one.
    pub first_message: String,
}

impl DecodeIssues {
    /// `N corrupt packet(s) replaced by M frames of silence, the first at T s (frame F: why)`.
    pub fn describe(&self, sample_rate_hz: u32) -> String {
        format!(
            "{} corrupt packet{} replaced by {} frames of silence, the first at {:.3} s (frame {}: {})",
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.frames,
            self.first_frame as f64 / f64::from(sample_rate_hz.max(1)),
            self.first_frame,
            self.first_message
        )
    }
}

/// A decoded audio file, read front to back in blocks.
///
/// Thread: whoever reads it (`Send`).
pub struct AudioReader {
    path: PathBuf,
    info: AudioInfo,
    decoder: Decoder,
    /// Frames before the read position.
    position: u64,
    issues: Option<DecodeIssues>,
    /// Whether any packet decoded (a file of nothing but corrupt packets is no audio).
    decoded_any: bool,
}

enum Decoder {
    Wav(WavStream),
    Media(Box<MediaStream>),
}

impl AudioReader {
    /// Opens `path` (`-`: standard input) and reads its header. A stream (standard input,
    /// a pipe) is read as it comes, or whole into memory first when `replayable`.
    ///
    /// # Errors
    /// A missing file, an unknown or unsupported format (naming those supported), a corrupt
    /// header.
    pub fn open(path: &Path, replayable: bool) -> Result<AudioReader> {
        let fail = |m: String| input_error(path, m);
        let mut input = wav::open_input(path, replayable).map_err(|e| fail(e.to_string()))?;
        // Enough for an Ogg page header and an OpusHead after it.
        let mut head = [0u8; 96];
        let got = read_head(&mut input, &mut head).map_err(|e| fail(e.to_string()))?;
        if got == 0 {
            return Err(fail("file is empty".into()));
        }
        let input = rewind(input, &head[..got]).map_err(|e| fail(e.to_string()))?;
        if wav::is_wav_magic(&head[..got]) {
            let stream = WavStream::new(path, input)?;
            let l = stream.layout;
            let info = AudioInfo {
                sample_rate_hz: l.sample_rate_hz,
                channels: l.channels,
                frames: Some(stream.frames()),
                format: format!(
                    "WAV {} {}-bit",
                    if l.float { "float" } else { "PCM" },
                    l.container_bytes * 8
                ),
            };
            return Ok(AudioReader::new(path, info, Decoder::Wav(stream)));
        }
        if let Some(why) = crate::io::opus::unsupported_in_ogg(&head[..got]) {
            return Err(fail(why));
        }
        let media = MediaStream::open(path, input)?;
        let info = media.info.clone();
        Ok(AudioReader::new(
            path,
            info,
            Decoder::Media(Box::new(media)),
        ))
    }

    fn new(path: &Path, info: AudioInfo, decoder: Decoder) -> AudioReader {
        AudioReader {
            path: path.to_path_buf(),
            info,
            decoder,
            position: 0,
            issues: None,
            decoded_any: false,
        }
    }

    /// What the file holds.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames before the read position.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The packets replaced by silence so far.
    pub fn issues(&self) -> Option<&DecodeIssues> {
        self.issues.as_ref()
    }

    /// Decodes the next block (a packet, or up to 1 MB of a WAV) and appends its
    /// interleaved samples to `out`; returns the frames appended, 0 at the end.
    ///
    /// # Errors
    /// A read failure, a truncated file, an unrecoverable decoder error, or a signal; each
    /// names the file and the position.
    pub fn read(&mut self, out: &mut Vec<f32>) -> Result<usize> {
        let frames = match &mut self.decoder {
            Decoder::Wav(w) => w.read(out)?,
            Decoder::Media(m) => {
                crate::io::interrupt::check()?;
                match m.read(out) {
                    Ok(Got::Frames(n)) => {
                        self.decoded_any = true;
                        n
                    }
                    Ok(Got::Silence { frames, message }) => {
                        let issues = self.issues.get_or_insert(DecodeIssues {
                            count: 0,
                            frames: 0,
                            first_frame: self.position,
                            first_message: message,
                        });
                        issues.count += 1;
                        issues.frames += frames as u64;
                        frames
                    }
                    Ok(Got::End) => self.check_complete()?,
                    Err(m) => return Err(self.error_here(&m)),
                }
            }
        };
        self.position += frames as u64;
        Ok(frames)
    }

    /// At the end of a symphonia stream: fewer frames than declared is a truncated file
    /// (beyond one packet's worth, which encoders round to).
    fn check_complete(&self) -> Result<usize> {
        let Decoder::Media(m) = &self.decoder else {
            return Ok(0);
        };
        if let (false, Some(issues)) = (self.decoded_any, &self.issues) {
            return Err(input_error(
                &self.path,
                format!(
                    "no decodable audio in it (as {}): {}",
                    self.info.format,
                    issues.describe(self.info.sample_rate_hz)
                ),
            ));
        }
        let declared = self.info.frames.unwrap_or(0);
        if self.position + m.max_packet_frames < declared {
            let sr = f64::from(self.info.sample_rate_hz);
            return Err(input_error(
                &self.path,
                format!(
                    "truncated: it ends at {:.3} s (frame {}) but its header declares {:.3} s ({declared} frames)",
                    self.position as f64 / sr,
                    self.position,
                    declared as f64 / sr
                ),
            ));
        }
        Ok(0)
    }

    fn error_here(&self, message: &str) -> Error {
        input_error(
            &self.path,
            format!(
                "{message} at {:.3} s (frame {})",
                self.position as f64 / f64::from(self.info.sample_rate_hz),
                self.position
            ),
        )
    }

    /// Moves the read position to `frame` exactly (at most the end): seeks where the
    /// input and format can, then decodes and drops what lies before `frame`.
    ///
    /// # Errors
    /// A stream asked to go backwards; otherwise as [`AudioReader::read`].
    pub fn seek(&mut self, frame: u64) -> Result<()> {
        match &mut self.decoder {
            Decoder::Wav(w) => {
                w.seek(frame)?;
                self.position = w.position_frames();
                return Ok(());
            }
            Decoder::Media(m) => match m.seek(frame) {
                Ok(Some(at)) => {
                    self.position = at;
                    return Ok(());
                }
                Ok(None) if frame < self.position => {
                    return Err(self.error_here("cannot seek backwards in this input"))
                }
                Ok(None) => {}
                Err(m) => return Err(self.error_here(&m)),
            },
        }
        let ch = self.info.channels;
        let mut scratch = Vec::new();
        while self.position < frame {
            scratch.clear();
            let before = self.position;
            if self.read(&mut scratch)? == 0 {
                break;
            }
            if self.position > frame {
                let drop = (frame - before) as usize * ch;
                if let Decoder::Media(m) = &mut self.decoder {
                    m.pending = scratch[drop..].to_vec();
                }
                self.position = frame;
            }
        }
        Ok(())
    }
}

/// Reads up to `head.len()` bytes; fewer only at the end of the input.
fn read_head(input: &mut Input, head: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// `input` as it was before `head` was read from it.
fn rewind(input: Input, head: &[u8]) -> std::io::Result<Input> {
    use std::io::Seek;
    match input {
        Input::Stream(r) => {
            let rest: Box<dyn Read + Send + Sync> =
                Box::new(std::io::Cursor::new(head.to_vec()).chain(r));
            Ok(Input::Stream(std::io::BufReader::with_capacity(
                1 << 16,
                rest,
            )))
        }
        mut seekable => {
            seekable.seek(std::io::SeekFrom::Start(0))?;
            Ok(seekable)
        }
    }
}

fn input_error(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads a whole file into memory (any supported format).
///
/// # Errors
/// As [`AudioReader::open`] and [`AudioReader::read`]; decode issues are errors here.
pub fn read_all(path: &Path) -> Result<WavAudio> {
    let mut reader = AudioReader::open(path, false)?;
    let info = reader.info().clone();
    let mut samples = Vec::new();
    while reader.read(&mut samples)? > 0 {}
    if let Some(issues) = reader.issues() {
        return Err(input_error(path, issues.describe(info.sample_rate_hz)));
    }
    Ok(WavAudio {
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        samples,
    })
}

/// What one [`MediaStream::read`] produced.
enum Got {
    Frames(usize),
    /// A packet that failed to decode, replaced by `frames` of silence.
    Silence {
        frames: usize,
        message: String,
    },
    End,
}

/// The track's decoder: symphonia's, or ours for Opus (symphonia 0.6.1 has none).
enum Codec {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(Box<OpusCodec>),
}

impl Codec {
    /// The decoder of a track, and its short name.
    fn new(params: &AudioCodecParameters) -> std::result::Result<(Codec, &'static str), String> {
        if params.codec == CODEC_ID_OPUS {
            let head = params.extra_data.as_deref().unwrap_or_default();
            let opus = OpusCodec::new(head)?;
            return Ok((Codec::Opus(Box::new(opus)), "opus"));
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| format!("unsupported codec ({e}; supported: {SUPPORTED})"))?;
        let name = decoder.codec_info().short_name;
        Ok((Codec::Symphonia(decoder), name))
    }
}

/// How far before a seek target decoding must start for the frames from the target on
/// to be the very ones a decode from the start gives (measured: `tests/it/formats.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Preroll {
    /// Packets decode alone (PCM, FLAC, ALAC): none.
    None,
    /// This many frames: the decoder's memory (an MDCT overlap, MP3's bit reservoir and
    /// synthesis filterbank) is rebuilt exactly within them.
    Frames(u64),
    /// Only a decode from the start is exact. Opus: CELT's energy prediction and pitch
    /// pre-filter, SILK's LPC state carry on indefinitely. AAC: its noise substitution
    /// (PNS, which ffmpeg's encoder uses) draws from one random sequence over the whole
    /// stream; from a preroll of two packets the output is otherwise exact, and within
    /// −40 dB of a decode from the start on the test signal.
    FromStart,
}

impl Preroll {
    fn of(codec: AudioCodecId) -> Preroll {
        match codec {
            CODEC_ID_OPUS | CODEC_ID_AAC => Preroll::FromStart,
            CODEC_ID_MP1 | CODEC_ID_MP2 | CODEC_ID_MP3 => Preroll::Frames(MP3_PREROLL_FRAMES),
            CODEC_ID_VORBIS => Preroll::Frames(VORBIS_PREROLL_FRAMES),
            _ => Preroll::None,
        }
    }
}

/// The frames of the decoder's output to present, on the media timeline (the decoder's
/// output from the track's first packet, before any trimming).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    /// Frames at the start to drop (encoder priming: an MP4 edit list, Opus pre-skip).
    skip: u64,
    /// Where presentation ends (`None`: the end of the stream).
    end: Option<u64>,
}

/// A symphonia demuxer and decoder on the file's first audio track.
///
/// Thread: whoever reads it.
struct MediaStream {
    info: AudioInfo,
    format: Box<dyn FormatReader>,
    codec: Codec,
    track_id: u32,
    /// Frames per time-base unit of the track, as `numer·rate/denom`.
    time_base: (u64, u64),
    /// The largest packet seen or declared, in frames.
    max_packet_frames: u64,
    /// Decoded samples not handed out yet (the probe's first packet, a seek's remainder).
    pending: Vec<f32>,
    window: Window,
    /// The media frame the next decoded frame is at.
    media_pos: u64,
    /// Frames before this media frame are dropped (a seek's target).
    drop_before: u64,
    /// After a seek: take `media_pos` from the next packet that decodes to frames.
    reanchor: bool,
    /// A re-anchoring found the stream past `drop_before`.
    overshot: bool,
    preroll: Preroll,
    /// How to read the file again from the start, where symphonia cannot seek.
    reopen: Reopen,
    path: PathBuf,
}

/// Where a [`MediaStream`]'s bytes can be had again.
enum Reopen {
    File(PathBuf),
    Bytes(Arc<Vec<u8>>),
    /// A stream read once.
    Never,
}

/// A file held in memory, shared by the demuxer and [`Reopen`].
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// symphonia's source for `input`, and how to have it again.
fn media_source(path: &Path, input: Input) -> (Box<dyn MediaSource>, Reopen) {
    match input {
        Input::File(r) => (Box::new(r.into_inner()), Reopen::File(path.to_path_buf())),
        Input::Bytes(c) => {
            let bytes = Arc::new(c.into_inner());
            let source = Box::new(std::io::Cursor::new(SharedBytes(bytes.clone())));
            (source, Reopen::Bytes(bytes))
        }
        Input::Stream(r) => (Box::new(ReadOnlySource::new(r)), Reopen::Never),
    }
}

/// symphonia's demuxer for `source`, the extension of `path` as a hint.
fn probe(
    path: &Path,
    source: Box<dyn MediaSource>,
) -> std::result::Result<Box<dyn FormatReader>, String> {
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(_) => {
                format!("unknown or unsupported format (supported: {SUPPORTED})")
            }
            e => format!("not a readable audio file ({e})"),
        })
}

impl MediaStream {
    fn open(path: &Path, mut input: Input) -> Result<MediaStream> {
        let fail = |m: String| input_error(path, m);
        // MP4's gapless metadata, read before symphonia takes the file (seekable only).
        let gapless = match input.byte_len() {
            Some(len) if input.is_seekable() => {
                crate::io::mp4::read_gapless(&mut input, len).map_err(|e| fail(e.to_string()))?
            }
            _ => None,
        };
        let (source, reopen) = media_source(path, input);
        let format = probe(path, source).map_err(fail)?;
        let short = format.format_info().short_name;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| fail(format!("{short} file without an audio track")))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| fail(format!("{short} file without an audio track")))?
            .clone();
        let (codec, codec_name) =
            Codec::new(&params).map_err(|m| fail(format!("{short} file: {m}")))?;
        let track_id = track.id;
        let declared = track.num_frames;
        let delay = track.delay;
        let time_base = track
            .time_base
            .map(|tb| (u64::from(tb.numer.get()), u64::from(tb.denom.get())));
        let (sample_rate_hz, channels) = match &codec {
            Codec::Opus(o) => (OPUS_RATE_HZ, o.channels()),
            Codec::Symphonia(_) => (
                params.sample_rate.unwrap_or(0),
                params.channels.as_ref().map_or(0, |c| c.count()),
            ),
        };
        let mut stream = MediaStream {
            info: AudioInfo {
                sample_rate_hz,
                channels,
                frames: declared,
                format: format!("{short}/{codec_name}"),
            },
            format,
            codec,
            track_id,
            time_base: (1, 1),
            max_packet_frames: params.max_frames_per_packet.unwrap_or(0),
            pending: Vec::new(),
            window: Window { skip: 0, end: None },
            media_pos: 0,
            drop_before: 0,
            reanchor: false,
            overshot: false,
            preroll: Preroll::of(params.codec),
            reopen,
            path: path.to_path_buf(),
        };
        stream.prime(path)?;
        let sr = u64::from(stream.info.sample_rate_hz);
        stream.time_base = time_base.map_or((1, 1), |(n, d)| (n * sr, d));
        // The trim symphonia's decoders do not do themselves.
        match &stream.codec {
            Codec::Opus(o) => {
                // The granule positions count the pre-skip; the last page's ends the stream.
                let skip = delay.map_or(o.pre_skip(), u64::from);
                stream.set_window(skip, declared);
            }
            Codec::Symphonia(_) if short == "isomp4" => {
                let trim = gapless.and_then(|g| g.trim(track_id, stream.info.sample_rate_hz));
                if let Some(t) = trim {
                    let skip = stream.ts_frames(t.skip);
                    let end = t.frames.map(|f| skip + stream.ts_frames(f));
                    stream.set_window(skip, end.or(declared));
                }
            }
            Codec::Symphonia(_) => {}
        }
        Ok(stream)
    }

    /// Presents the media frames `skip..end`, and declares their count.
    fn set_window(&mut self, skip: u64, end: Option<u64>) {
        self.window = Window { skip, end };
        self.info.frames = end.map(|e| e.saturating_sub(skip));
        // A first packet decoded by `prime` was decoded before the window was known.
        let mut pending = std::mem::take(&mut self.pending);
        let frames = pending.len() / self.info.channels.max(1);
        self.media_pos = 0;
        self.keep(&mut pending, 0, frames);
        self.pending = pending;
    }

    /// Frames of the track's time-base units `ts` (rounded down).
    fn ts_frames(&self, ts: u64) -> u64 {
        let (num, den) = self.time_base;
        (u128::from(ts) * u128::from(num) / u128::from(den.max(1))) as u64
    }

    /// Decodes the first packet when the header does not give the rate or the channels,
    /// and checks both.
    fn prime(&mut self, path: &Path) -> Result<()> {
        if self.info.sample_rate_hz == 0 || self.info.channels == 0 {
            let mut first = Vec::new();
            loop {
                match self.read(&mut first) {
                    Ok(Got::Frames(_)) => break,
                    Ok(Got::Silence { .. }) => continue,
                    Ok(Got::End) => break,
                    Err(m) => return Err(input_error(path, m)),
                }
            }
            self.pending = first;
        }
        if self.info.sample_rate_hz == 0 {
            return Err(input_error(path, "no sample rate in the file".into()));
        }
        if self.info.channels == 0 {
            return Err(input_error(path, "no audio channels in the file".into()));
        }
        Ok(())
    }

    /// Of the `frames` frames just decoded into `buf[at..]`, at `media_pos`, keeps those
    /// inside the window and past `drop_before`; returns how many it kept.
    fn keep(&mut self, buf: &mut Vec<f32>, at: usize, frames: usize) -> usize {
        let ch = self.info.channels.max(1);
        let start = self.media_pos;
        let end = start + frames as u64;
        self.media_pos = end;
        let lo = self.window.skip.max(self.drop_before).clamp(start, end);
        let hi = self.window.end.map_or(end, |e| e.min(end)).max(lo);
        let (a, b) = ((lo - start) as usize, (hi - start) as usize);
        buf.truncate(at + b * ch);
        buf.drain(at..at + a * ch);
        b - a
    }

    /// The frame of the output (the window's) the media frame `media` is.
    fn output_frame(&self, media: u64) -> u64 {
        let end = self.window.end.map_or(media, |e| media.min(e));
        end.saturating_sub(self.window.skip)
    }

    /// The next packet of the track, decoded and appended to `out`.
    fn read(&mut self, out: &mut Vec<f32>) -> std::result::Result<Got, String> {
        if !self.pending.is_empty() {
            let n = self.pending.len() / self.info.channels.max(1);
            out.append(&mut self.pending);
            return Ok(Got::Frames(n));
        }
        loop {
            if !self.reanchor && self.window.end.is_some_and(|e| self.media_pos >= e) {
                return Ok(Got::End);
            }
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(Got::End),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(Got::End)
                }
                Err(e) => return Err(format!("cannot read the container: {e}")),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let at = out.len();
            let decoded = self.decode(&packet, out);
            let (frames, issue) = match decoded {
                Ok(n) => (n, None),
                Err(Decoded::Corrupt(message)) => {
                    let frames = self.ts_frames(packet.dur.get()) as usize;
                    out.resize(at + frames * self.info.channels, 0.0);
                    (frames, Some(message))
                }
                Err(Decoded::Fatal(m)) => return Err(m),
            };
            if frames == 0 {
                continue;
            }
            if self.reanchor {
                self.reanchor = false;
                let first = packet.pts.get() + packet.trim_start.get() as i64;
                self.media_pos = self.ts_frames(u64::try_from(first).unwrap_or(0));
                self.overshot = self.media_pos > self.drop_before;
            }
            let kept = self.keep(out, at, frames);
            if kept == 0 {
                continue;
            }
            return Ok(match issue {
                None => Got::Frames(kept),
                Some(message) => Got::Silence {
                    frames: kept,
                    message,
                },
            });
        }
    }

    /// Decodes `packet`, appending to `out`; returns its frames.
    fn decode(
        &mut self,
        packet: &symphonia::core::packet::Packet,
        out: &mut Vec<f32>,
    ) -> std::result::Result<usize, Decoded> {
        let trim_end = self.ts_frames(packet.trim_end.get()) as usize;
        match &mut self.codec {
            Codec::Opus(o) => {
                let at = out.len();
                let n = o.decode(&packet.data, out).map_err(Decoded::Corrupt)?;
                // The last page's granule position ends the stream inside its packet.
                let keep = n.saturating_sub(trim_end);
                out.truncate(at + keep * o.channels());
                self.max_packet_frames = self.max_packet_frames.max(n as u64);
                Ok(keep)
            }
            Codec::Symphonia(decoder) => match decoder.decode(packet) {
                Ok(buf) => {
                    let channels = buf.spec().channels().count();
                    if self.info.channels == 0 {
                        self.info.channels = channels;
                    }
                    if self.info.sample_rate_hz == 0 {
                        self.info.sample_rate_hz = buf.spec().rate();
                    }
                    if channels != self.info.channels
                        || buf.spec().rate() != self.info.sample_rate_hz
                    {
                        return Err(Decoded::Fatal(format!(
                            "the stream changes from {} Hz, {} ch to {} Hz, {channels} ch",
                            self.info.sample_rate_hz,
                            self.info.channels,
                            buf.spec().rate()
                        )));
                    }
                    let frames = buf.frames();
                    self.max_packet_frames = self.max_packet_frames.max(frames as u64);
                    let at = out.len();
                    out.resize(at + buf.samples_interleaved(), 0.0);
                    buf.copy_to_slice_interleaved(&mut out[at..]);
                    Ok(frames)
                }
                Err(SymError::DecodeError(m)) => Err(Decoded::Corrupt(m.to_string())),
                Err(SymError::IoError(e)) => Err(Decoded::Corrupt(e.to_string())),
                Err(e) => Err(Decoded::Fatal(format!("cannot decode: {e}"))),
            },
        }
    }

    /// Moves to the output frame `frame` exactly (or the end, if before): seeks the
    /// demuxer to [`Preroll`] before it, decodes from there and keeps what follows it.
    /// Returns the output frame it is at, or `None` if the format cannot seek (the caller
    /// then decodes forward).
    fn seek(&mut self, frame: u64) -> std::result::Result<Option<u64>, String> {
        let target = frame.saturating_add(self.window.skip);
        let from = match self.preroll {
            Preroll::None => target,
            Preroll::Frames(n) => target.saturating_sub(n),
            Preroll::FromStart => 0,
        };
        let mut restarted = false;
        if !self.seek_media(from) {
            // symphonia cannot seek there (a CAF at its end, a target past the end):
            // from the start, if the file can be read again.
            if !self.restart()? {
                return Ok(None);
            }
            restarted = true;
        }
        self.drop_before = target;
        let mut buf = Vec::new();
        loop {
            match self.read(&mut buf)? {
                Got::Frames(_) | Got::Silence { .. } => {
                    if self.overshot && !restarted {
                        // The demuxer landed past the preroll: start over from the start.
                        buf.clear();
                        if !self.restart()? {
                            return Ok(None);
                        }
                        restarted = true;
                        continue;
                    }
                    self.pending = buf;
                    return Ok(Some(frame));
                }
                Got::End => return Ok(Some(self.output_frame(self.media_pos).min(frame))),
            }
        }
    }

    /// Reads the file again from its start (a new demuxer); `false` for a stream.
    fn restart(&mut self) -> std::result::Result<bool, String> {
        let source: Box<dyn MediaSource> = match &self.reopen {
            Reopen::File(p) => Box::new(std::fs::File::open(p).map_err(|e| e.to_string())?),
            Reopen::Bytes(b) => Box::new(std::io::Cursor::new(SharedBytes(b.clone()))),
            Reopen::Never => return Ok(false),
        };
        self.format = probe(&self.path, source)?;
        if !self.format.tracks().iter().any(|t| t.id == self.track_id) {
            return Err("the file changed while it was read".into());
        }
        self.reset_decoder();
        self.media_pos = 0;
        self.reanchor = false;
        self.overshot = false;
        Ok(true)
    }

    /// A decoder as new: symphonia's `reset` keeps some state (AAC's noise generator).
    fn reset_decoder(&mut self) {
        match &mut self.codec {
            Codec::Symphonia(d) => {
                let fresh = symphonia::default::get_codecs()
                    .make_audio_decoder(d.codec_params(), &AudioDecoderOptions::default());
                match fresh {
                    Ok(fresh) => *d = fresh,
                    Err(_) => d.reset(),
                }
            }
            Codec::Opus(o) => o.reset(),
        }
        self.pending.clear();
    }

    /// Seeks the demuxer to the media frame `from` or before; `false` if it cannot.
    fn seek_media(&mut self, from: u64) -> bool {
        let (num, den) = self.time_base;
        let Ok(ts) = i64::try_from(u128::from(from) * u128::from(den) / u128::from(num.max(1)))
        else {
            return false;
        };
        let to = SeekTo::Timestamp {
            ts: Timestamp::new(ts),
            track_id: self.track_id,
        };
        if self.format.seek(SeekMode::Accurate, to).is_err() {
            return false;
        }
        self.reset_decoder();
        self.reanchor = true;
        self.overshot = false;
        true
    }
}

/// Why a packet gave no frames.
enum Decoded {
    /// A corrupt packet: replaced by silence, and counted.
    Corrupt(String),
    /// The stream cannot go on.
    Fatal(String),
}
