//! WAV input: 8/16/24/32-bit integer and 32-bit float PCM, any channel count and rate.
//!
//! The RIFF chunks are walked here rather than by hound, whose reader (3.5) skips an
//! odd-length chunk without its pad byte, reads `fact` as 4 bytes whatever its length,
//! and takes 24 valid bits in a 4-byte container as right-justified.

use std::io::{Read, Seek};
use std::path::Path;

use crate::error::{Error, Result};
use crate::stream::{downmix_into, ChannelSelect};

/// Decoded audio, interleaved f32 in [−1, 1).
///
/// Thread: any (owned data).
#[derive(Clone, Debug, PartialEq)]
pub struct WavAudio {
    /// Sample rate.
    pub sample_rate_hz: u32,
    /// Channels per frame.
    pub channels: usize,
    /// Interleaved samples; length is a multiple of `channels`.
    pub samples: Vec<f32>,
}

impl WavAudio {
    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels
    }

    /// One channel, or the mean of all channels; a mono file is moved, not copied.
    pub fn into_mono(self, select: ChannelSelect) -> Vec<f32> {
        if self.channels == 1 {
            return self.samples;
        }
        self.to_mono(select)
    }

    /// One channel, or the mean of all channels.
    pub fn to_mono(&self, select: ChannelSelect) -> Vec<f32> {
        let mut mono = vec![0.0; self.frames()];
        downmix_into(&self.samples, self.channels, select, &mut mono);
        mono
    }
}

/// What `analyze`, `render` and `suggest` do with NaN and ±Inf samples (`--nan`): one
/// NaN turns every row it touches to NaN (magnitude) or the dB floor, and one Inf reads
/// hundreds of dB above full scale, so such a file is refused unless asked otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NanPolicy {
    /// Refuse the file: a one-line error with the count and the first one's time.
    #[default]
    Error,
    /// Replace each with 0 and say how many were replaced.
    Zero,
}

/// The NaN and ±Inf samples among those a [`ChannelSelect`] analyses.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFinite {
    /// How many.
    pub count: usize,
    /// Frame of the first one.
    pub first_frame: usize,
    /// Its channel.
    pub first_channel: usize,
}

impl NonFinite {
    /// `N non-finite sample(s) (NaN or ±Inf), the first at T s (frame F, channel C)`.
    pub fn describe(&self, sample_rate_hz: u32) -> String {
        format!(
            "{} non-finite sample{} (NaN or ±Inf), the first at {:.6} s (frame {}, channel {})",
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.first_frame as f64 / f64::from(sample_rate_hz),
            self.first_frame,
            self.first_channel
        )
    }
}

impl WavAudio {
    /// The non-finite samples among those `select` analyses (every channel of a mix);
    /// `None` if there are none.
    pub fn non_finite(&self, select: ChannelSelect) -> Option<NonFinite> {
        let mut found: Option<NonFinite> = None;
        for (i, _) in self.selected(select).filter(|(_, v)| !v.is_finite()) {
            let f = found.get_or_insert(NonFinite {
                count: 0,
                first_frame: i / self.channels,
                first_channel: i % self.channels,
            });
            f.count += 1;
        }
        found
    }

    /// Sets the non-finite samples among those `select` analyses to 0.
    pub fn zero_non_finite(&mut self, select: ChannelSelect) {
        let ch = self.channels;
        for (i, v) in self.samples.iter_mut().enumerate() {
            if is_selected(select, ch, i) && !v.is_finite() {
                *v = 0.0;
            }
        }
    }

    /// `(index, value)` of every sample `select` analyses.
    fn selected(&self, select: ChannelSelect) -> impl Iterator<Item = (usize, f32)> + '_ {
        let ch = self.channels;
        self.samples
            .iter()
            .copied()
            .enumerate()
            .filter(move |&(i, _)| is_selected(select, ch, i))
    }
}

/// Whether interleaved sample `i` of a `channels`-channel stream is one `select` analyses.
fn is_selected(select: ChannelSelect, channels: usize, i: usize) -> bool {
    match select {
        ChannelSelect::Index(c) if channels > 1 => i % channels == c,
        _ => true,
    }
}

/// How a file's samples are stored, from its header.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Sample rate.
    pub sample_rate_hz: u32,
    /// Channels per frame.
    pub channels: usize,
    /// IEEE float (else integer PCM).
    pub float: bool,
    /// Bytes per stored sample (1–4); the valid bits are left-justified in it.
    pub container_bytes: usize,
    /// Offset of the first sample.
    pub data_offset: u64,
    /// Bytes the data chunk declares.
    pub data_bytes: u64,
}

/// Longest run of bytes read and decoded at once.
const READ_CHUNK_BYTES: usize = 1 << 20;

/// Reads and decodes a whole WAV file: 8/16/24/32-bit integer PCM (also with fewer
/// valid bits, left-justified in an extensible container) and 32-bit float, any channel
/// count and rate. The RIFF chunks are walked as the format defines them (padded to even
/// lengths, the first `fmt ` before `data`); the RIFF size, byte rate and `fact` chunk are
/// redundant and ignored.
///
/// Memory: the samples (4 bytes each) and one read buffer, both bounded by what the file
/// holds, never by what its header claims.
///
/// # Errors
/// A missing, corrupt, truncated or unsupported file, with a one-line reason.
pub fn read_wav(path: &Path) -> Result<WavAudio> {
    let input = open_input(path, false).map_err(|e| wav_error(path, e.to_string()))?;
    let mut stream = WavStream::new(path, input)?;
    let mut samples = Vec::with_capacity(stream.present_samples as usize);
    while stream.read(&mut samples)? > 0 {}
    Ok(WavAudio {
        sample_rate_hz: stream.layout.sample_rate_hz,
        channels: stream.layout.channels,
        samples,
    })
}

fn wav_error(path: &Path, message: String) -> Error {
    Error::Wav {
        path: path.to_path_buf(),
        message,
    }
}

/// The sample rate and channel count of a WAV file, from its header alone; `None` for
/// an input that can be read only once (standard input, a pipe): its header is read with
/// the rest by [`read_wav`].
///
/// # Errors
/// A missing, corrupt or unsupported file, as [`read_wav`] words it.
pub fn read_header(path: &Path) -> Result<Option<(u32, usize)>> {
    if is_stream(path) {
        return Ok(None);
    }
    let input = open_input(path, false).map_err(|e| wav_error(path, e.to_string()))?;
    let stream = WavStream::new(path, input)?;
    Ok(Some((stream.layout.sample_rate_hz, stream.layout.channels)))
}

/// The input path that means standard input.
pub const STDIN_PATH: &str = "-";

/// Whether `path` is an input that can be read only once and has no length: `-`
/// (standard input), a pipe, a FIFO, `/dev/stdin`, a process substitution `<(…)`.
pub fn is_stream(path: &Path) -> bool {
    path.as_os_str() == STDIN_PATH || std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// An input file opened for reading: a regular file, a stream (see [`is_stream`]) read
/// as it comes, or a stream read whole into memory first (so that it can be replayed).
///
/// Thread: whoever reads it (moved between threads: `Send`).
pub enum Input {
    /// A regular file.
    File(std::io::BufReader<std::fs::File>),
    /// A stream held in memory.
    Bytes(std::io::Cursor<Vec<u8>>),
    /// A stream read once, front to back; seeks only forward, by reading.
    Stream(std::io::BufReader<Box<dyn Read + Send + Sync>>),
}

impl Input {
    /// Its length in bytes, if known (not for a [`Input::Stream`]).
    pub fn byte_len(&self) -> Option<u64> {
        match self {
            Input::File(r) => r.get_ref().metadata().ok().map(|m| m.len()),
            Input::Bytes(c) => Some(c.get_ref().len() as u64),
            Input::Stream(_) => None,
        }
    }

    /// Whether it can seek backwards.
    pub fn is_seekable(&self) -> bool {
        !matches!(self, Input::Stream(_))
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::File(r) => r.read(buf),
            Input::Bytes(r) => r.read(buf),
            Input::Stream(r) => r.read(buf),
        }
    }
}

impl Seek for Input {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Input::File(r) => r.seek(pos),
            Input::Bytes(r) => r.seek(pos),
            Input::Stream(r) => match pos {
                std::io::SeekFrom::Current(n) if n >= 0 => {
                    let skipped = std::io::copy(&mut r.take(n as u64), &mut std::io::sink())?;
                    if skipped < n as u64 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    Ok(0)
                }
                _ => Err(std::io::Error::other("a stream cannot seek backwards")),
            },
        }
    }

    fn seek_relative(&mut self, offset: i64) -> std::io::Result<()> {
        match self {
            Input::File(r) => r.seek_relative(offset),
            Input::Bytes(r) => r.seek_relative(offset),
            Input::Stream(_) => self.seek(std::io::SeekFrom::Current(offset)).map(|_| ()),
        }
    }
}

/// Opens `path` (`-`: standard input). A stream is read as it comes, or whole into
/// memory first when `whole` (to replay it).
///
/// # Errors
/// The file cannot be opened or, with `whole`, read.
pub fn open_input(path: &Path, whole: bool) -> std::io::Result<Input> {
    let stream = |r: Box<dyn Read + Send + Sync>| -> std::io::Result<Input> {
        if !whole {
            return Ok(Input::Stream(std::io::BufReader::with_capacity(1 << 16, r)));
        }
        let mut bytes = Vec::new();
        let mut r = r;
        r.read_to_end(&mut bytes)?;
        Ok(Input::Bytes(std::io::Cursor::new(bytes)))
    };
    if path.as_os_str() == STDIN_PATH {
        return stream(Box::new(std::io::stdin()));
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return stream(Box::new(file));
    }
    // A buffer no larger than the file (a tiny file costs tiny memory).
    let capacity = usize::try_from(meta.len())
        .unwrap_or(usize::MAX)
        .clamp(64, 1 << 16);
    Ok(Input::File(std::io::BufReader::with_capacity(
        capacity, file,
    )))
}

/// Whether the first bytes of a file are a RIFF/WAVE header.
pub fn is_wav_magic(head: &[u8]) -> bool {
    head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE"
}

/// A WAV file's samples, decoded block by block from its data chunk.
///
/// Thread: whoever reads it.
pub struct WavStream {
    path: std::path::PathBuf,
    input: Input,
    /// How the samples are stored.
    pub layout: Layout,
    /// Samples the header declares (whole frames).
    declared_samples: u64,
    /// Samples the file holds (≤ declared; the declared count until a stream ends).
    present_samples: u64,
    /// Samples before the read position.
    position_samples: u64,
    chunk: Vec<u8>,
}

impl WavStream {
    /// Reads the header of `input` and stops at the first sample.
    ///
    /// # Errors
    /// A corrupt or unsupported header, with a one-line reason.
    pub fn new(path: &Path, mut input: Input) -> Result<WavStream> {
        let file_bytes = input.byte_len().unwrap_or(u64::MAX);
        let layout = read_layout(&mut input, file_bytes).map_err(|m| wav_error(path, m))?;
        let frame = (layout.container_bytes * layout.channels) as u64;
        let present = file_bytes
            .saturating_sub(layout.data_offset)
            .min(layout.data_bytes);
        let c = layout.container_bytes as u64;
        let (declared, held) = (
            layout.data_bytes / frame * frame / c,
            present / frame * frame / c,
        );
        if held < declared {
            // Known from the file's length: refused before anything is decoded.
            return Err(wav_error(
                path,
                format!(
                    "truncated: the header declares {declared} samples but the file ends after {held}"
                ),
            ));
        }
        Ok(WavStream {
            path: path.to_path_buf(),
            input,
            layout,
            declared_samples: layout.data_bytes / frame * frame / c,
            present_samples: present / frame * frame / c,
            position_samples: 0,
            chunk: Vec::new(),
        })
    }

    /// Frames the header declares, at most those the file holds (when its length is
    /// known).
    pub fn frames(&self) -> u64 {
        self.present_samples / self.layout.channels as u64
    }

    /// Frames before the read position.
    pub fn position_frames(&self) -> u64 {
        self.position_samples / self.layout.channels as u64
    }

    /// Frames still to come, as the header declares them.
    pub fn frames_left(&self) -> u64 {
        (self.declared_samples - self.position_samples) / self.layout.channels as u64
    }

    /// Decodes the next block (at most [`READ_CHUNK_BYTES`] of the file) and appends its
    /// samples, interleaved, to `out`; returns the frames appended, 0 at the end.
    ///
    /// # Errors
    /// A read failure, a truncated file (fewer samples than the header declares), or a
    /// signal.
    pub fn read(&mut self, out: &mut Vec<f32>) -> Result<usize> {
        crate::io::interrupt::check()?;
        let (c, ch) = (self.layout.container_bytes, self.layout.channels);
        let frame = c * ch;
        let left_frames = (self.present_samples - self.position_samples) as usize / ch;
        let want = left_frames.min((READ_CHUNK_BYTES / frame).max(1)) * frame;
        self.chunk.resize(want, 0);
        let mut got = 0;
        while got < want {
            match self.input.read(&mut self.chunk[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(wav_error(&self.path, e.to_string())),
            }
        }
        let whole = got / frame * frame;
        decode_pcm(&self.chunk[..whole], &self.layout, out);
        self.position_samples += (whole / c) as u64;
        if got < want {
            // The file ends before its data chunk does (a stream's only way to tell).
            self.present_samples = self.position_samples;
        }
        if whole == 0 && self.position_samples < self.declared_samples {
            return Err(wav_error(
                &self.path,
                format!(
                    "truncated: the header declares {} samples but the file ends after {}",
                    self.declared_samples, self.position_samples
                ),
            ));
        }
        Ok(whole / frame)
    }

    /// Moves to frame `frame` of the data chunk (at most its end): by seeking, or for a
    /// stream by reading forward.
    ///
    /// # Errors
    /// A stream asked to go backwards, or a read failure.
    pub fn seek(&mut self, frame: u64) -> Result<()> {
        let ch = self.layout.channels as u64;
        let target = (frame * ch).min(self.present_samples);
        let c = self.layout.container_bytes as i64;
        let delta = (target as i64 - self.position_samples as i64) * c;
        self.input
            .seek_relative(delta)
            .map_err(|e| wav_error(&self.path, format!("cannot seek to frame {frame}: {e}")))?;
        self.position_samples = target;
        Ok(())
    }
}

/// Walks the RIFF chunks up to the data chunk and checks the format; leaves `reader`
/// at the first sample.
fn read_layout(
    reader: &mut (impl Read + Seek),
    file_bytes: u64,
) -> std::result::Result<Layout, String> {
    let eof = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "file is empty or its header is truncated".into(),
        _ => e.to_string(),
    };
    let mut riff = [0u8; 12];
    reader.read_exact(&mut riff).map_err(eof)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return Err("not a valid WAV file (no RIFF/WAVE header)".into());
    }
    let mut at: u64 = 12;
    let mut fmt: Option<Format> = None;
    loop {
        let mut head = [0u8; 8];
        reader.read_exact(&mut head).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof if fmt.is_some() => {
                "not a valid WAV file (no data chunk)".to_string()
            }
            _ => eof(e),
        })?;
        let len = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        at += 8;
        match &head[..4] {
            b"data" => {
                let format = fmt.ok_or("not a valid WAV file (data chunk before the fmt chunk)")?;
                return format.layout(at, len);
            }
            b"fmt " if fmt.is_none() => fmt = Some(Format::read(reader, len)?),
            _ => skip(reader, len + (len & 1))?,
        }
        at += len + (len & 1);
        if at > file_bytes {
            return Err(format!(
                "truncated: chunk '{}' claims {len} bytes, past the end of the file",
                head[..4].escape_ascii()
            ));
        }
    }
}

fn skip(reader: &mut impl Seek, bytes: u64) -> std::result::Result<(), String> {
    let offset = i64::try_from(bytes).map_err(|e| e.to_string())?;
    reader.seek_relative(offset).map_err(|e| e.to_string())
}

/// The fields of a `fmt ` chunk that define the samples.
#[derive(Clone, Copy, Debug)]
struct Format {
    tag: u16,
    channels: u16,
    sample_rate_hz: u32,
    block_align: u16,
    bits: u16,
    /// Valid bits (extensible; else `bits`).
    valid_bits: u16,
}

/// WAVE_FORMAT_EXTENSIBLE's sub-format GUIDs after their first two bytes (the tag).
const GUID_TAIL: [u8; 14] = [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71];

impl Format {
    /// Reads a `fmt ` chunk of `len` bytes (and its pad byte).
    fn read(reader: &mut (impl Read + Seek), len: u64) -> std::result::Result<Format, String> {
        if len < 16 {
            return Err(format!(
                "not a valid WAV file (fmt chunk of {len} bytes, expected at least 16)"
            ));
        }
        let mut b = [0u8; 40];
        let take = len.min(40) as usize;
        reader
            .read_exact(&mut b[..take])
            .map_err(|_| "file is empty or its header is truncated".to_string())?;
        skip(reader, len - take as u64 + (len & 1))?;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let mut f = Format {
            tag: u16_at(0),
            channels: u16_at(2),
            sample_rate_hz: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            block_align: u16_at(12),
            bits: u16_at(14),
            valid_bits: u16_at(14),
        };
        if f.tag == 0xfffe {
            if len < 40 || u16_at(16) < 22 || b[26..40] != GUID_TAIL {
                return Err("unsupported WAV encoding (an extensible format that is neither PCM nor IEEE float)".into());
            }
            f.tag = u16_at(24);
            f.valid_bits = match u16_at(18) {
                0 => f.bits,
                v => v,
            };
        }
        Ok(f)
    }

    /// The layout of a data chunk of `len` bytes at `offset`, or why it cannot be read.
    fn layout(self, offset: u64, len: u64) -> std::result::Result<Layout, String> {
        let float = match self.tag {
            1 => false,
            3 => true,
            tag => return Err(format!("unsupported WAV encoding (format tag {tag:#06x}; supported: PCM integer 8/16/24/32-bit, IEEE float 32-bit)")),
        };
        if self.channels == 0 {
            return Err("header declares 0 channels".into());
        }
        if self.sample_rate_hz == 0 {
            return Err("header declares a sample rate of 0 Hz".into());
        }
        let container = usize::from(self.bits / 8);
        let supported = if float {
            self.bits == 32 && self.valid_bits == 32
        } else {
            self.bits % 8 == 0
                && (1..=4).contains(&container)
                && (1..=self.bits).contains(&self.valid_bits)
        };
        if !supported {
            return Err(format!(
                "unsupported sample format: {}-bit {} in {} bits (supported: 8/16/24/32-bit integer, 32-bit float)",
                self.valid_bits,
                if float { "float" } else { "integer" },
                self.bits
            ));
        }
        let frame = usize::from(self.channels) * container;
        if usize::from(self.block_align) != frame {
            return Err(format!(
                "not a valid WAV file (block align {} for {} channels of {} bytes)",
                self.block_align, self.channels, container
            ));
        }
        if len == 0 {
            return Err("contains no audio: the data chunk holds 0 samples".into());
        }
        if len % frame as u64 != 0 {
            return Err(format!(
                "data holds {len} bytes, not a whole number of {}-channel frames",
                self.channels
            ));
        }
        Ok(Layout {
            sample_rate_hz: self.sample_rate_hz,
            channels: usize::from(self.channels),
            float,
            container_bytes: container,
            data_offset: offset,
            data_bytes: len,
        })
    }
}

/// Appends little-endian samples `bytes` as f32: integers scaled by the container's full
/// scale 2^(8·bytes−1), so valid bits left-justified in a wider container read right
/// (8-bit WAV is unsigned, offset 128); float copied.
fn decode_pcm(bytes: &[u8], layout: &Layout, out: &mut Vec<f32>) {
    match (layout.float, layout.container_bytes) {
        (true, _) => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        (_, 1) => out.extend(bytes.iter().map(|&b| (f32::from(b) - 128.0) / 128.0)),
        (_, 2) => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
        ),
        (_, 3) => out.extend(
            bytes
                .chunks_exact(3)
                .map(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0),
        ),
        _ => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0),
        ),
    }
}
