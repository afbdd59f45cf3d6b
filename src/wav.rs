//! WAV input (hound): 8/16/24/32-bit integer and 32-bit float PCM, any channel count and rate.

use std::io::Read;
use std::path::Path;

use hound::{SampleFormat, WavReader};

use crate::analysis::ChannelSelect;
use crate::error::{Error, Result};

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
        let ch = self.channels;
        match select {
            _ if ch == 1 => self.samples.clone(),
            ChannelSelect::Index(c) => self.samples.chunks_exact(ch).map(|f| f[c]).collect(),
            ChannelSelect::Mix => {
                let k = 1.0 / ch as f32;
                self.samples
                    .chunks_exact(ch)
                    .map(|f| f.iter().sum::<f32>() * k)
                    .collect()
            }
        }
    }
}

/// What `analyze`, `render` and `suggest` do with NaN and ±Inf samples (`--nan`): one
/// NaN turns every row it touches to NaN (magnitude) or the dB floor, and one Inf reads
/// hundreds of dB above full scale, so such a file is refused unless asked otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
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

/// Reads and decodes a whole WAV file.
///
/// # Errors
/// A missing, corrupt, truncated or unsupported file, with a one-line reason.
pub fn read_wav(path: &Path) -> Result<WavAudio> {
    let err = |message: String| Error::Wav {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = WavReader::open(path).map_err(|e| err(describe(e)))?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(err("header declares 0 channels".into()));
    }
    if spec.sample_rate == 0 {
        return Err(err("header declares a sample rate of 0 Hz".into()));
    }
    let declared = reader.len() as usize;
    if declared % spec.channels as usize != 0 {
        return Err(err(format!(
            "data holds {declared} samples, not a whole number of {}-channel frames",
            spec.channels
        )));
    }
    let truncated = |got: usize| {
        err(format!(
            "truncated: the header declares {declared} samples but the file ends after {got}"
        ))
    };
    if declared == 0 {
        return Err(err(
            "contains no audio: the data chunk holds 0 samples".into()
        ));
    }
    // The header's count is untrusted: never reserve more than the file can hold
    // (a lying header would otherwise abort on allocation failure).
    let bytes_per_sample = usize::from(spec.bits_per_sample).div_ceil(8).max(1);
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len() as usize);
    let mut samples = Vec::with_capacity(declared.min(file_bytes / bytes_per_sample));
    // Bytes per stored sample, from the fmt chunk's block_align (hound 3.5 does not expose it).
    let container_bytes =
        fmt_block_align(path).map_or(0, |a| usize::from(a) / usize::from(spec.channels));
    match (spec.sample_format, spec.bits_per_sample) {
        // Standard layouts: decode the data chunk straight from its bytes (8× faster
        // than hound's per-sample iterator); hound has parsed the header and left the
        // reader at the first sample.
        (SampleFormat::Float, 32) | (SampleFormat::Int, 8 | 16 | 24 | 32)
            if container_bytes * 8 == usize::from(spec.bits_per_sample) =>
        {
            let mut data = reader.into_inner().take((declared * container_bytes) as u64);
            let mut chunk = vec![0u8; (1 << 18) * container_bytes];
            let mut filled = 0;
            loop {
                let n = data.read(&mut chunk[filled..]).map_err(|e| err(e.to_string()))?;
                filled += n;
                let whole = filled / container_bytes * container_bytes;
                decode_pcm(&chunk[..whole], spec.sample_format, spec.bits_per_sample, &mut samples);
                chunk.copy_within(whole..filled, 0);
                filled -= whole;
                if n == 0 {
                    break;
                }
            }
        }
        (SampleFormat::Float, 32) => {
            for s in reader.samples::<f32>() {
                samples.push(s.map_err(|_| truncated(samples.len()))?);
            }
        }
        (SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            for s in reader.samples::<i32>() {
                samples.push(s.map_err(|_| truncated(samples.len()))? as f32 * scale);
            }
        }
        (format, bits) => {
            return Err(err(format!(
                "unsupported sample format: {bits}-bit {} (supported: 8/16/24/32-bit integer, 32-bit float)",
                if format == SampleFormat::Float { "float" } else { "integer" }
            )))
        }
    }
    if samples.len() < declared {
        return Err(truncated(samples.len()));
    }
    Ok(WavAudio {
        sample_rate_hz: spec.sample_rate,
        channels: spec.channels as usize,
        samples,
    })
}

/// The sample rate and channel count of a WAV file, from its header alone.
///
/// # Errors
/// A missing, corrupt or unsupported file, as [`read_wav`] words it.
pub fn read_header(path: &Path) -> Result<(u32, usize)> {
    let reader = WavReader::open(path).map_err(|e| Error::Wav {
        path: path.to_path_buf(),
        message: describe(e),
    })?;
    let spec = reader.spec();
    Ok((spec.sample_rate, usize::from(spec.channels)))
}

/// `block_align` of the first `fmt ` chunk, found by walking the RIFF chunks.
fn fmt_block_align(path: &Path) -> Option<u16> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let mut riff = [0u8; 12];
    f.read_exact(&mut riff).ok()?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return None;
    }
    for _ in 0..64 {
        let mut head = [0u8; 8];
        f.read_exact(&mut head).ok()?;
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if &head[..4] == b"fmt " {
            let mut fmt = [0u8; 14];
            f.read_exact(&mut fmt).ok()?;
            return Some(u16::from_le_bytes([fmt[12], fmt[13]]));
        }
        f.seek(SeekFrom::Current(i64::from(size) + i64::from(size & 1)))
            .ok()?;
    }
    None
}

/// Appends little-endian PCM `bytes` as f32: integers scaled by 2^(bits−1) (8-bit WAV is
/// unsigned, offset 128), float copied.
fn decode_pcm(bytes: &[u8], format: SampleFormat, bits: u16, out: &mut Vec<f32>) {
    match (format, bits) {
        (SampleFormat::Float, _) => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        (_, 8) => out.extend(bytes.iter().map(|&b| (f32::from(b) - 128.0) / 128.0)),
        (_, 16) => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
        ),
        (_, 24) => out.extend(
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

fn describe(e: hound::Error) -> String {
    match e {
        // hound reports a short read of the header as ErrorKind::Other with this text.
        hound::Error::IoError(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof
                || io.to_string() == "Failed to read enough bytes." =>
        {
            "file is empty or its header is truncated".into()
        }
        hound::Error::IoError(io) => io.to_string(),
        hound::Error::FormatError(m) => format!("not a valid WAV file ({m})"),
        hound::Error::Unsupported => {
            "unsupported WAV encoding (supported: PCM integer 8/16/24/32-bit, IEEE float 32-bit)"
                .into()
        }
        other => other.to_string(),
    }
}
