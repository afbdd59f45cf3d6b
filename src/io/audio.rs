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

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use crate::error::{Error, Result};
use crate::io::wav::{self, Input, WavAudio, WavStream};

/// The containers and codecs hopscope reads, for error messages.
pub const SUPPORTED: &str = "WAV, FLAC, MP3, Ogg Vorbis, AAC and ALAC in MP4/M4A, AIFF/AIFC, CAF, Matroska/WebM (FLAC, Vorbis, PCM)";

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
        let mut head = [0u8; 12];
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
                Some(at) => self.position = at,
                None if frame < self.position => {
                    return Err(self.error_here("cannot seek backwards in this input"))
                }
                None => {}
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

/// A symphonia demuxer and decoder on the file's first audio track.
///
/// Thread: whoever reads it.
struct MediaStream {
    info: AudioInfo,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Frames per time-base unit of the track, as `numer·rate/denom`.
    time_base: (u64, u64),
    /// The largest packet seen or declared, in frames.
    max_packet_frames: u64,
    /// Decoded samples not handed out yet (the probe's first packet, a seek's remainder).
    pending: Vec<f32>,
}

impl MediaStream {
    fn open(path: &Path, input: Input) -> Result<MediaStream> {
        let fail = |m: String| input_error(path, m);
        let source: Box<dyn MediaSource> = match input {
            Input::File(r) => Box::new(r.into_inner()),
            Input::Bytes(c) => Box::new(c),
            Input::Stream(r) => Box::new(ReadOnlySource::new(r)),
        };
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| {
                fail(match e {
                    SymError::Unsupported(_) => {
                        format!("unknown or unsupported format (supported: {SUPPORTED})")
                    }
                    e => format!("not a readable audio file ({e})"),
                })
            })?;
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
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| {
                fail(format!(
                    "unsupported codec in a {short} file ({e}; supported: {SUPPORTED})"
                ))
            })?;
        let codec = decoder.codec_info().short_name;
        let track_id = track.id;
        let frames = track.num_frames;
        let time_base = track
            .time_base
            .map(|tb| (u64::from(tb.numer.get()), u64::from(tb.denom.get())));
        let mut stream = MediaStream {
            info: AudioInfo {
                sample_rate_hz: params.sample_rate.unwrap_or(0),
                channels: params.channels.as_ref().map_or(0, |c| c.count()),
                frames,
                format: format!("{short}/{codec}"),
            },
            format,
            decoder,
            track_id,
            time_base: (1, 1),
            max_packet_frames: params.max_frames_per_packet.unwrap_or(0),
            pending: Vec::new(),
        };
        stream.prime(path)?;
        let sr = u64::from(stream.info.sample_rate_hz);
        stream.time_base = time_base.map_or((1, 1), |(n, d)| (n * sr, d));
        Ok(stream)
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

    /// The next packet of the track, decoded and appended to `out`.
    fn read(&mut self, out: &mut Vec<f32>) -> std::result::Result<Got, String> {
        if !self.pending.is_empty() {
            let n = self.pending.len() / self.info.channels.max(1);
            out.append(&mut self.pending);
            return Ok(Got::Frames(n));
        }
        loop {
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
            let silence = || {
                let (num, den) = self.time_base;
                (packet.dur.get() * num / den.max(1)) as usize
            };
            match self.decoder.decode(&packet) {
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
                        return Err(format!(
                            "the stream changes from {} Hz, {} ch to {} Hz, {channels} ch",
                            self.info.sample_rate_hz,
                            self.info.channels,
                            buf.spec().rate()
                        ));
                    }
                    let frames = buf.frames();
                    self.max_packet_frames = self.max_packet_frames.max(frames as u64);
                    let at = out.len();
                    out.resize(at + buf.samples_interleaved(), 0.0);
                    buf.copy_to_slice_interleaved(&mut out[at..]);
                    if frames > 0 {
                        return Ok(Got::Frames(frames));
                    }
                }
                Err(SymError::DecodeError(m)) => {
                    let frames = silence();
                    out.resize(out.len() + frames * self.info.channels, 0.0);
                    return Ok(Got::Silence {
                        frames,
                        message: m.to_string(),
                    });
                }
                Err(SymError::IoError(e)) => {
                    let frames = silence();
                    out.resize(out.len() + frames * self.info.channels, 0.0);
                    return Ok(Got::Silence {
                        frames,
                        message: e.to_string(),
                    });
                }
                Err(e) => return Err(format!("cannot decode: {e}")),
            }
        }
    }

    /// Seeks to a point at or before `frame`; returns the frame the stream is now at, or
    /// `None` if the format cannot seek (the caller then decodes forward).
    fn seek(&mut self, frame: u64) -> Option<u64> {
        let (num, den) = self.time_base;
        let ts = i64::try_from(frame * den / num.max(1)).ok()?;
        let to = SeekTo::Timestamp {
            ts: Timestamp::new(ts),
            track_id: self.track_id,
        };
        let seeked = self.format.seek(SeekMode::Accurate, to).ok()?;
        self.decoder.reset();
        self.pending.clear();
        let at = u64::try_from(seeked.actual_ts.get()).ok()?;
        Some(at * num / den.max(1))
    }
}
