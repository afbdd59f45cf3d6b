//! WAV input (hound): 8/16/24/32-bit integer and 32-bit float PCM, any channel count and rate.

use std::path::Path;

use hound::{SampleFormat, WavReader};

use crate::error::{Error, Result};
use crate::analysis::ChannelSelect;

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
    let mut samples = Vec::with_capacity(declared);
    match (spec.sample_format, spec.bits_per_sample) {
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

fn describe(e: hound::Error) -> String {
    match e {
        hound::Error::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "file is empty or its header is truncated".into()
        }
        hound::Error::IoError(io) => io.to_string(),
        hound::Error::FormatError(m) => format!("not a valid WAV file ({m})"),
        hound::Error::Unsupported => "unsupported WAV encoding (supported: PCM integer 8/16/24/32-bit, IEEE float 32-bit)".into(),
        other => other.to_string(),
    }
}
