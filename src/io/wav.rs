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
    let err = |message: String| Error::Wav {
        path: path.to_path_buf(),
        message,
    };
    let (mut reader, file_bytes) = open_input(path).map_err(|e| err(e.to_string()))?;
    let layout = read_layout(&mut reader, file_bytes).map_err(err)?;
    let samples = read_samples(reader, &layout, file_bytes).map_err(|e| match e {
        ReadError::Interrupted(e) => e,
        ReadError::Message(m) => err(m),
    })?;
    Ok(WavAudio {
        sample_rate_hz: layout.sample_rate_hz,
        channels: layout.channels,
        samples,
    })
}

/// The sample rate and channel count of a WAV file, from its header alone; `None` for
/// an input that can be read only once (standard input, a pipe): its header is read with
/// the rest by [`read_wav`].
///
/// # Errors
/// A missing, corrupt or unsupported file, as [`read_wav`] words it.
pub fn read_header(path: &Path) -> Result<Option<(u32, usize)>> {
    let err = |message: String| Error::Wav {
        path: path.to_path_buf(),
        message,
    };
    if is_stream(path) {
        return Ok(None);
    }
    let (mut reader, file_bytes) = open_input(path).map_err(|e| err(e.to_string()))?;
    let layout = read_layout(&mut reader, file_bytes).map_err(err)?;
    Ok(Some((layout.sample_rate_hz, layout.channels)))
}

/// The input path that means standard input.
pub const STDIN_PATH: &str = "-";

/// Whether `path` is an input that can be read only once and has no length: `-`
/// (standard input), a pipe, a FIFO, `/dev/stdin`, a process substitution `<(…)`.
pub fn is_stream(path: &Path) -> bool {
    path.as_os_str() == STDIN_PATH || std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// A WAV input to walk: a regular file as it is, or a stream (see [`is_stream`]) read
/// whole into memory first, so that its length is known and it is read exactly once.
enum Input {
    File(std::io::BufReader<std::fs::File>),
    Bytes(std::io::Cursor<Vec<u8>>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::File(r) => r.read(buf),
            Input::Bytes(r) => r.read(buf),
        }
    }
}

impl Seek for Input {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Input::File(r) => r.seek(pos),
            Input::Bytes(r) => r.seek(pos),
        }
    }

    fn seek_relative(&mut self, offset: i64) -> std::io::Result<()> {
        match self {
            Input::File(r) => r.seek_relative(offset),
            Input::Bytes(r) => r.seek_relative(offset),
        }
    }
}

/// Opens `path` (`-`: standard input) and returns it with its length in bytes.
fn open_input(path: &Path) -> std::io::Result<(Input, u64)> {
    let read_all = |mut r: Box<dyn Read>| -> std::io::Result<(Input, u64)> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes)?;
        let len = bytes.len() as u64;
        Ok((Input::Bytes(std::io::Cursor::new(bytes)), len))
    };
    if path.as_os_str() == STDIN_PATH {
        return read_all(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return read_all(Box::new(file));
    }
    let reader = std::io::BufReader::with_capacity(4096, file);
    Ok((Input::File(reader), meta.len()))
}

/// Why the samples could not be read.
enum ReadError {
    /// A signal stopped the read.
    Interrupted(Error),
    /// Anything else, to be prefixed with the file.
    Message(String),
}

/// Decodes the data chunk, which `reader` is positioned at.
fn read_samples(
    mut reader: impl Read,
    layout: &Layout,
    file_bytes: u64,
) -> std::result::Result<Vec<f32>, ReadError> {
    let c = layout.container_bytes;
    let declared = layout.data_bytes / c as u64;
    let present = (file_bytes.saturating_sub(layout.data_offset)).min(layout.data_bytes);
    let mut samples = Vec::with_capacity((present / c as u64) as usize);
    let mut data = (&mut reader).take(present);
    let mut chunk = vec![0u8; (present as usize).clamp(c, READ_CHUNK_BYTES / c * c)];
    let mut filled = 0;
    loop {
        crate::io::interrupt::check().map_err(ReadError::Interrupted)?;
        let n = data
            .read(&mut chunk[filled..])
            .map_err(|e| ReadError::Message(e.to_string()))?;
        filled += n;
        let whole = filled / c * c;
        decode_pcm(&chunk[..whole], layout, &mut samples);
        chunk.copy_within(whole..filled, 0);
        filled -= whole;
        if n == 0 {
            break;
        }
    }
    if (samples.len() as u64) < declared {
        return Err(ReadError::Message(format!(
            "truncated: the header declares {declared} samples but the file ends after {}",
            samples.len()
        )));
    }
    Ok(samples)
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
