//! Audio file input: every container hopscope reads, decoded as a stream of interleaved
//! f32 frames in [−1, 1).
//!
//! WAV goes through our own RIFF walker ([`crate::io::wav`]: exact integer scaling,
//! extensible formats, odd chunks); every other format through symphonia (pure Rust):
//! FLAC, MP3 (and MP1/MP2), Ogg Vorbis, AAC-LC and ALAC in MP4/M4A, AIFF/AIFC, CAF,
//! Matroska/WebM; and Ogg Opus through symphonia's demuxer and rusty-opus
//! ([`crate::io::opus`]).
//!
//! Gapless: the encoder delay and padding the file declares are dropped. The MP3 and
//! Vorbis decoders do it themselves (symphonia's packet trimming); for AAC in MP4 the
//! edit list or `iTunSMPB` ([`crate::io::mp4`], read before symphonia takes the file),
//! for Opus the pre-skip and the last page's granule position give a window of the
//! decoder's output ([`Window`]) that this module applies.
//!
//! Damage: a packet that fails to decode (a corrupt frame) is replaced by silence of its
//! duration, so that what follows stays at its time, and counted ([`DecodeIssues`]); the
//! caller reports the count and the first one's position. Packets a demuxer skips (a FLAC
//! frame whose CRC fails, an Ogg page whose CRC fails; FLAC frames in Matroska, whose
//! CRC symphonia does not check, are checked here) show as a jump in the timestamps and
//! are replaced by silence the same way; a demuxer that fails before the declared end is
//! sought past the failure. A file that ends before the frames its header declares is an
//! error, and so is an Ogg stream that breaks off inside a page. A header no real file
//! has (255+ channels, packets of 2 million samples) is refused before a decoder
//! allocates for it, and a panic in symphonia (some header fields overflow its
//! arithmetic) becomes an error ([`crate::io::guard`]). `tests/it/fuzz_formats.rs` holds
//! the corpus.
//!
//! Seeking lands on the frame asked for exactly, the samples those of a decode from the
//! start: from a preroll before it where the codec's memory is short ([`Preroll`]), from
//! the start where it is not (AAC, Opus) or where the timestamps are coarser than a frame
//! (Matroska's milliseconds cannot place a packet to the frame).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_FLAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_OPUS,
    CODEC_ID_VORBIS,
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
use crate::io::guard::guarded;
use crate::io::opus::{OpusCodec, OPUS_RATE_HZ};
use crate::io::wav::{self, Input, WavAudio, WavStream};

/// Channels read at most (Opus's limit; WAV's header allows 65535, symphonia's decoders
/// allocate per channel).
const MAX_CHANNELS: usize = 255;
/// Samples of one packet at most, as a header declares it: FLAC's largest block (65535
/// frames) of 32 channels; 8 MB of f32.
const MAX_PACKET_SAMPLES: u64 = 1 << 21;
/// Frames of silence handed out at most per read: for a corrupt packet whose duration
/// the container gives (no real packet is longer than FLAC's 65535 frames), and per block
/// of a gap in the timestamps.
const MAX_SILENCE_FRAMES: u64 = 1 << 16;
/// A gap in the timestamps is filled with silence up to this many frames past the
/// declared end (a timestamp beyond it is a damaged one, not lost packets), or up to this
/// many when no length is declared.
const MAX_GAP_FRAMES: u64 = 1 << 24;
/// A gap is believed up to this many of the longest packet seen (a lost Ogg page or
/// Matroska cluster holds a few dozen); a longer one is a damaged timestamp, or a lying
/// rate that makes every timestamp a gap.
const MAX_GAP_PACKETS: u64 = 64;
/// Seeks past failures of the demuxer, per file.
const MAX_RESYNCS: u32 = 32;

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
        let mut media = MediaStream::open(path, input)?;
        let info = media.info.clone();
        let primed = media.primed.take();
        let mut reader = AudioReader::new(path, info, Decoder::Media(Box::new(media)));
        reader.issues = primed;
        Ok(reader)
    }

    fn new(path: &Path, info: AudioInfo, decoder: Decoder) -> AudioReader {
        AudioReader {
            path: path.to_path_buf(),
            info,
            decoder,
            position: 0,
            issues: None,
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
                    Ok(Got::Frames(n)) => n,
                    Ok(Got::Silence {
                        frames,
                        message,
                        continues,
                    }) => {
                        let issues = self.issues.get_or_insert(DecodeIssues {
                            count: 0,
                            frames: 0,
                            first_frame: self.position,
                            first_message: message,
                        });
                        issues.count += u64::from(!continues);
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
        // The decoder's own count: samples handed out from `prime` may be silence.
        if let (false, Some(issues)) = (m.decoded_any, &self.issues) {
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
    /// A packet that failed to decode, or packets the demuxer lost (a gap in the
    /// timestamps), replaced by `frames` of silence; `continues` the previous one when a
    /// long gap is handed out in several blocks.
    Silence {
        frames: usize,
        message: String,
        continues: bool,
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
        check_plausible(params)?;
        let decoder = guarded(|| {
            symphonia::default::get_codecs()
                .make_audio_decoder(params, &AudioDecoderOptions::default())
        })
        .map_err(|m| format!("the decoder failed: {m}"))?
        .map_err(|e| format!("unsupported codec ({e}; supported: {SUPPORTED})"))?;
        let name = decoder.codec_info().short_name;
        Ok((Codec::Symphonia(decoder), name))
    }
}

/// Refuses a header whose channels or packet size no real file has: the decoder would
/// allocate a packet's buffer of that size (a CAF claiming 2³¹ frames per packet asks
/// for 16 GB).
fn check_plausible(params: &AudioCodecParameters) -> std::result::Result<(), String> {
    let channels = params.channels.as_ref().map_or(0, |c| c.count());
    if channels > MAX_CHANNELS {
        return Err(format!(
            "implausible header: {channels} channels (at most {MAX_CHANNELS} are read)"
        ));
    }
    let frames = params.max_frames_per_packet.unwrap_or(0);
    if frames.saturating_mul(channels.max(1) as u64) > MAX_PACKET_SAMPLES {
        return Err(format!(
            "implausible header: packets of {frames} frames of {channels} channels"
        ));
    }
    Ok(())
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
    /// Frames of silence still to hand out for a gap in the timestamps, the packet that
    /// follows the gap (samples, frames, issue), whether the next block of silence is the
    /// gap's first, and what to report.
    silence_owed: u64,
    held: Option<(Vec<f32>, usize, Option<String>)>,
    gap_first: bool,
    gap_message: String,
    /// A corrupt packet's message, until a gap places it.
    unplaced_issue: Option<String>,
    /// The first frames' timestamp (in frames) less their place on the media timeline.
    pts_offset: Option<i64>,
    /// Seeks made past a failure of the demuxer, and whether the next packet is the
    /// first after one.
    resyncs: u32,
    resyncing: bool,
    /// FLAC packets, whose CRC-16 is checked here (symphonia's FLAC demuxer checks its
    /// own, the Matroska one hands damaged frames to the decoder).
    flac: bool,
    /// An Ogg file (see [`MediaStream::read`] on its end).
    ogg: bool,
    /// Whether a packet decoded.
    /// The packets `prime` replaced by silence (at the start of `pending`).
    primed: Option<DecodeIssues>,
    decoded_any: bool,
    /// A packet's timestamp is ahead of the frames decoded by more than this (one unit of
    /// the time base, which may be a millisecond) only when packets were lost.
    pts_tolerance: u64,
    preroll: Preroll,
    /// How to read the file again from the start, where symphonia cannot seek.
    reopen: Reopen,
    path: PathBuf,
}

/// Where a [`MediaStream`]'s bytes can be had again.
struct Reopen {
    from: ReopenFrom,
    /// Whether symphonia is told it can seek.
    seekable: bool,
}

enum ReopenFrom {
    File(PathBuf),
    Bytes(Arc<Vec<u8>>),
    /// A stream read once.
    Never,
}

impl Reopen {
    /// The bytes from the start again (`None` for a stream).
    fn open(&self) -> std::result::Result<Option<Box<dyn MediaSource>>, String> {
        let source: Box<dyn MediaSource> = match (&self.from, self.seekable) {
            (ReopenFrom::File(p), seekable) => {
                let file = std::fs::File::open(p).map_err(|e| e.to_string())?;
                if seekable {
                    Box::new(file)
                } else {
                    Box::new(ReadOnlySource::new(file))
                }
            }
            (ReopenFrom::Bytes(b), true) => Box::new(std::io::Cursor::new(SharedBytes(b.clone()))),
            (ReopenFrom::Bytes(b), false) => Box::new(ReadOnlySource::new(std::io::Cursor::new(
                SharedBytes(b.clone()),
            ))),
            (ReopenFrom::Never, _) => return Ok(None),
        };
        Ok(Some(source))
    }
}

/// Whether `input` starts with `magic` (read, then back to the start).
fn starts_with(input: &mut Input, magic: &[u8]) -> bool {
    use std::io::Seek;
    let mut head = vec![0u8; magic.len()];
    let same = input.read_exact(&mut head).is_ok() && head == magic;
    input.seek(std::io::SeekFrom::Start(0)).is_ok() && same
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
    let (source, from): (Box<dyn MediaSource>, ReopenFrom) = match input {
        Input::File(r) => (
            Box::new(r.into_inner()),
            ReopenFrom::File(path.to_path_buf()),
        ),
        Input::Bytes(c) => {
            let bytes = Arc::new(c.into_inner());
            let source = Box::new(std::io::Cursor::new(SharedBytes(bytes.clone())));
            (source, ReopenFrom::Bytes(bytes))
        }
        Input::Stream(r) => (Box::new(ReadOnlySource::new(r)), ReopenFrom::Never),
    };
    (
        source,
        Reopen {
            from,
            seekable: true,
        },
    )
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
    let probed = guarded(|| {
        symphonia::default::get_probe().probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
    })
    .map_err(|m| format!("not a readable audio file (the demuxer failed: {m})"))?;
    probed.map_err(|e| match e {
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
        let ogg = input.is_seekable() && starts_with(&mut input, b"OggS");
        let (source, mut reopen) = media_source(path, input);
        let format = match probe(path, source) {
            Ok(format) => format,
            // symphonia's Ogg demuxer reads the last pages at the start (for the length)
            // and fails on a damaged one; read as a stream it skips damaged pages.
            Err(m) if ogg => {
                reopen.seekable = false;
                match reopen.open().map_err(&fail)? {
                    Some(source) => probe(path, source).map_err(fail)?,
                    None => return Err(fail(m)),
                }
            }
            Err(m) => return Err(fail(m)),
        };
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
            silence_owed: 0,
            held: None,
            gap_first: false,
            gap_message: String::new(),
            unplaced_issue: None,
            pts_offset: None,
            resyncs: 0,
            resyncing: false,
            pts_tolerance: u64::MAX,
            flac: params.codec == CODEC_ID_FLAC,
            ogg: short == "ogg",
            primed: None,
            decoded_any: false,
            preroll: Preroll::of(params.codec),
            reopen,
            path: path.to_path_buf(),
        };
        let header_rate = u64::from(stream.info.sample_rate_hz);
        stream.time_base = time_base.map_or((1, 1), |(n, d)| (n * header_rate, d));
        stream.prime(path)?;
        let sr = u64::from(stream.info.sample_rate_hz);
        stream.time_base = time_base.map_or((1, 1), |(n, d)| (n * sr, d));
        stream.pts_tolerance = stream.ts_frames(1) + 1;
        if header_rate == 0 {
            // Learnt with no time base: from the next packet instead.
            stream.pts_offset = None;
        }
        stream.trim(short == "isomp4", gapless, declared, delay);
        Ok(stream)
    }

    /// Applies the trim symphonia's decoders do not do themselves: Opus's pre-skip and
    /// end, an MP4's edit list or `iTunSMPB`.
    fn trim(
        &mut self,
        mp4: bool,
        gapless: Option<crate::io::mp4::Gapless>,
        declared: Option<u64>,
        delay: Option<u32>,
    ) {
        match &self.codec {
            Codec::Opus(o) => {
                // The granule positions count the pre-skip; the last page's ends the stream.
                let skip = delay.map_or(o.pre_skip(), u64::from);
                self.set_window(skip, declared);
            }
            Codec::Symphonia(_) if mp4 => {
                let trim = gapless.and_then(|g| g.trim(self.track_id, self.info.sample_rate_hz));
                if let Some(t) = trim {
                    let skip = self.ts_frames(t.skip);
                    let end = t.frames.map(|f| skip + self.ts_frames(f));
                    self.set_window(skip, end.or(declared));
                }
            }
            Codec::Symphonia(_) => {}
        }
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

    /// Decodes the first packet that gives frames (the rate or the channels, when the
    /// header does not give them; where its timestamps start), and checks both.
    fn prime(&mut self, path: &Path) -> Result<()> {
        {
            let mut first = Vec::new();
            loop {
                let at = (first.len() / self.info.channels.max(1)) as u64;
                match self.read(&mut first) {
                    Ok(Got::Frames(_)) => break,
                    Ok(Got::Silence {
                        frames,
                        message,
                        continues,
                    }) => {
                        let issues = self.primed.get_or_insert(DecodeIssues {
                            count: 0,
                            frames: 0,
                            first_frame: at,
                            first_message: message,
                        });
                        issues.count += u64::from(!continues);
                        issues.frames += frames as u64;
                    }
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
        let ch = self.info.channels.max(1);
        loop {
            if self.silence_owed > 0 {
                match self.owed_silence(out) {
                    Some(got) => return Ok(got),
                    None => continue,
                }
            }
            if let Some((samples, frames, issue)) = self.held.take() {
                let at = out.len();
                out.extend_from_slice(&samples);
                match self.finish(out, at, frames, issue) {
                    Some(got) => return Ok(got),
                    None => continue,
                }
            }
            if !self.pending.is_empty() {
                let n = self.pending.len() / ch;
                out.append(&mut self.pending);
                return Ok(Got::Frames(n));
            }
            if !self.reanchor && self.window.end.is_some_and(|e| self.media_pos >= e) {
                return Ok(Got::End);
            }
            let next = guarded(|| self.format.next_packet())
                .map_err(|m| format!("the demuxer failed: {m}"))?;
            let packet = match next {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(Got::End),
                // A damaged page or element (a length past the end of the file) before
                // the declared end: on past it, if the demuxer can seek.
                Err(_) if self.resync() => continue,
                // symphonia's Ogg demuxer ends a whole stream with `None`: the end of the
                // file inside a page is a truncated or damaged one.
                Err(SymError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof && self.ogg =>
                {
                    return Err(format!(
                        "the Ogg stream breaks off (truncated, or a damaged page): {e}"
                    ))
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(Got::End)
                }
                Err(e) => return Err(format!("cannot read the container: {e}")),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let at = out.len();
            let (frames, issue) = match self.decode(&packet, out) {
                Ok(n) => (n, None),
                Err(Decoded::Corrupt(message)) => {
                    let frames = self.ts_frames(packet.dur.get()).min(MAX_SILENCE_FRAMES);
                    out.resize(at + frames as usize * ch, 0.0);
                    (frames as usize, Some(message))
                }
                Err(Decoded::Fatal(m)) => return Err(m),
            };
            if frames == 0 {
                // A corrupt packet of no known duration (Matroska's blocks): the gap
                // before the next one's timestamp places it.
                self.unplaced_issue = issue.or(self.unplaced_issue.take());
                continue;
            }
            let start = self.packet_start(&packet);
            if self.reanchor {
                self.reanchor = false;
                self.media_pos = start.unwrap_or(0);
                self.overshot = self.media_pos > self.drop_before;
            } else if let Some(start) = start {
                if std::mem::take(&mut self.resyncing) && start < self.media_pos {
                    // Back before what was read: `drop_before` drops it again.
                    self.media_pos = start;
                }
                let gap = start.saturating_sub(self.media_pos);
                let limit = self
                    .window
                    .end
                    .or(self.info.frames)
                    .map_or(MAX_GAP_FRAMES, |e| e.saturating_sub(self.media_pos))
                    .min(MAX_GAP_PACKETS * self.max_packet_frames.max(1024));
                if gap > self.pts_tolerance && gap <= limit {
                    // Packets the demuxer skipped (a damaged FLAC frame or Ogg page):
                    // silence in their place, so that what follows stays at its time.
                    self.held = Some((out.split_off(at), frames, issue));
                    self.silence_owed = gap;
                    self.gap_first = true;
                    let why = self.unplaced_issue.take();
                    let why = why.as_deref().unwrap_or("damaged packets skipped");
                    self.gap_message = format!("{gap} frames missing ({why})");
                    continue;
                }
            }
            if let Some(got) = self.finish(out, at, frames, issue) {
                return Ok(got);
            }
        }
    }

    /// Where `packet` starts on the media timeline by its timestamp, less the offset of
    /// the first packet's (Vorbis in Matroska starts a few ms in); `None` before 0.
    fn packet_start(&mut self, packet: &symphonia::core::packet::Packet) -> Option<u64> {
        let ts = packet
            .pts
            .get()
            .saturating_add(packet.trim_start.get() as i64);
        let abs = if ts < 0 {
            -(self.ts_frames(ts.unsigned_abs()) as i64)
        } else {
            self.ts_frames(ts as u64) as i64
        };
        let offset = *self
            .pts_offset
            .get_or_insert(abs.saturating_sub(self.media_pos as i64));
        u64::try_from(abs.saturating_sub(offset)).ok()
    }

    /// The next block of a gap's silence (`None`: it fell before the window).
    fn owed_silence(&mut self, out: &mut Vec<f32>) -> Option<Got> {
        let n = self.silence_owed.min(MAX_SILENCE_FRAMES) as usize;
        self.silence_owed -= n as u64;
        let at = out.len();
        out.resize(at + n * self.info.channels.max(1), 0.0);
        let kept = self.keep(out, at, n);
        if kept == 0 {
            return None;
        }
        let continues = !std::mem::replace(&mut self.gap_first, false);
        Some(Got::Silence {
            frames: kept,
            message: self.gap_message.clone(),
            continues,
        })
    }

    /// After the demuxer failed before the declared end: seeks past the failure, further
    /// each try, so that reading goes on (a gap in the timestamps then places the lost
    /// packets); `false` when it cannot (a stream, no declared end, no tries left).
    fn resync(&mut self) -> bool {
        let Some(end) = self.window.end.or(self.info.frames) else {
            return false;
        };
        let floor = self.media_pos;
        let mut jump = self.max_packet_frames.max(4096);
        while self.resyncs < MAX_RESYNCS && floor + jump < end {
            self.resyncs += 1;
            if self.seek_media(floor + jump) {
                self.reanchor = false;
                self.resyncing = true;
                self.drop_before = floor;
                return true;
            }
            jump *= 2;
        }
        false
    }

    /// Keeps what the window keeps of the `frames` just decoded into `out[at..]`, and
    /// says what they were (`None`: nothing kept).
    fn finish(
        &mut self,
        out: &mut Vec<f32>,
        at: usize,
        frames: usize,
        issue: Option<String>,
    ) -> Option<Got> {
        let kept = self.keep(out, at, frames);
        if kept == 0 {
            return None;
        }
        Some(match issue {
            None => Got::Frames(kept),
            Some(message) => Got::Silence {
                frames: kept,
                message,
                continues: false,
            },
        })
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
                let n = guarded(|| o.decode(&packet.data, out))
                    .map_err(|m| Decoded::Fatal(format!("the decoder failed: {m}")))?
                    .map_err(Decoded::Corrupt)?;
                self.decoded_any = true;
                // The last page's granule position ends the stream inside its packet.
                let keep = n.saturating_sub(trim_end);
                out.truncate(at + keep * o.channels());
                self.max_packet_frames = self.max_packet_frames.max(n as u64);
                Ok(keep)
            }
            Codec::Symphonia(_) if self.flac && !flac_crc_ok(&packet.data) => {
                Err(Decoded::Corrupt("FLAC frame CRC mismatch".into()))
            }
            Codec::Symphonia(decoder) => match guarded(|| decoder.decode(packet))
                .map_err(|m| Decoded::Fatal(format!("the decoder failed: {m}")))?
            {
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
                    self.decoded_any = true;
                    self.max_packet_frames = self.max_packet_frames.max(frames as u64);
                    let at = out.len();
                    out.resize(at + buf.samples_interleaved(), 0.0);
                    buf.copy_to_slice_interleaved(&mut out[at..]);
                    Ok(frames)
                }
                Err(SymError::DecodeError(m)) => Err(Decoded::Corrupt(m.to_string())),
                Err(SymError::IoError(e)) => Err(Decoded::Corrupt(e.to_string())),
                // Mid-stream, a packet asking for what the decoder does not do is a
                // damaged one (FLAC: "lpc shifts less than 0 are not supported").
                Err(SymError::Unsupported(m)) if self.decoded_any => {
                    Err(Decoded::Corrupt(format!("unsupported: {m}")))
                }
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
        // Timestamps coarser than a frame (Matroska's milliseconds) cannot say where a
        // packet starts exactly: count from the start instead.
        let coarse = self.pts_tolerance > 2;
        let mut restarted = false;
        if coarse || !self.seek_media(from) {
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
        let Some(source) = self.reopen.open()? else {
            return Ok(false);
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
        self.held = None;
        self.silence_owed = 0;
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
        if !matches!(
            guarded(|| self.format.seek(SeekMode::Accurate, to)),
            Ok(Ok(_))
        ) {
            return false;
        }
        self.reset_decoder();
        self.reanchor = true;
        self.overshot = false;
        true
    }
}

/// Whether a FLAC frame's CRC-16 (polynomial 0x8005 over the frame, in its last two
/// bytes) is right; a packet that is not a whole frame (no sync code) passes.
fn flac_crc_ok(frame: &[u8]) -> bool {
    if frame.len() < 4 || frame[0] != 0xFF || frame[1] & 0xFE != 0xF8 {
        return true;
    }
    let (body, crc) = frame.split_at(frame.len() - 2);
    let acc = body.iter().fold(0u16, |acc, &byte| {
        (acc << 8) ^ FLAC_CRC16[usize::from((acc >> 8) as u8 ^ byte)]
    });
    acc == u16::from_be_bytes([crc[0], crc[1]])
}

/// The CRC-16 of each byte value, polynomial 0x8005, MSB first.
const FLAC_CRC16: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Why a packet gave no frames.
enum Decoded {
    /// A corrupt packet: replaced by silence, and counted.
    Corrupt(String),
    /// The stream cannot go on.
    Fatal(String),
}
