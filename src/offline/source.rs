//! The mono signal the offline commands analyse, streamed from any supported file in
//! bounded memory ([`MonoSource`]), and the frames of an STFT cut from it as it arrives
//! ([`RowFeed`]).
//!
//! Thread: the offline pipeline's (one owner at a time; `Send`).

use std::path::{Path, PathBuf};

use crate::dsp::stft::StftParams;
use crate::error::{Error, Result};
use crate::io::audio::{AudioInfo, AudioReader};
use crate::io::wav::{NanPolicy, NonFinite};
use crate::stream::{downmix_into, ChannelSelect};

/// The part of a file to analyse, in frames: `[start, end)`.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Crop {
    /// First frame.
    pub start_frame: u64,
    /// One past the last frame (`None`: the end of the file).
    pub end_frame: Option<u64>,
}

/// `--start` / `--end` in seconds, before the rate is known.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CropSeconds {
    /// `--start`.
    pub start_s: Option<f64>,
    /// `--end`.
    pub end_s: Option<f64>,
}

impl CropSeconds {
    /// In frames at `sample_rate_hz` (rounded to the nearest frame).
    pub fn frames(&self, sample_rate_hz: u32) -> Crop {
        let at = |s: f64| (s * f64::from(sample_rate_hz)).round() as u64;
        Crop {
            start_frame: self.start_s.map_or(0, at),
            end_frame: self.end_s.map(at),
        }
    }
}

/// What a finished [`MonoSource`] read, for the report.
///
/// Thread: any (plain data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSummary {
    /// The file's header.
    pub info: AudioInfo,
    /// Mono frames delivered (after the crop).
    pub frames: u64,
}

/// A file's selected channel (or the mix of all), cropped, as a stream of mono samples.
/// Non-finite samples are counted as they pass; [`MonoSource::finish`] refuses the run
/// under [`NanPolicy::Error`] (the outputs are still staged then, so none appears) or
/// says how many were set to 0; packets that failed to decode are reported there too.
///
/// Memory: one decoded packet or WAV block, whatever the file's length.
///
/// Thread: the pipeline's.
pub struct MonoSource {
    reader: AudioReader,
    path: PathBuf,
    select: ChannelSelect,
    policy: NanPolicy,
    /// Frames still to deliver (`None`: to the end of the file).
    left: Option<u64>,
    delivered: u64,
    interleaved: Vec<f32>,
    non_finite: Option<NonFinite>,
    crop: Crop,
}

impl MonoSource {
    /// Opens `path`, checks the channel and the crop against it and moves to the crop's
    /// start.
    ///
    /// # Errors
    /// An unreadable file, a channel that does not exist, a crop outside the file.
    pub fn open(
        path: &Path,
        select: ChannelSelect,
        policy: NanPolicy,
        crop: CropSeconds,
    ) -> Result<MonoSource> {
        let mut reader = AudioReader::open(path, false)?;
        let info = reader.info().clone();
        select.check(info.channels)?;
        let crop = crop.frames(info.sample_rate_hz);
        check_crop(path, &info, crop)?;
        if crop.start_frame > 0 {
            reader.seek(crop.start_frame)?;
        }
        Ok(MonoSource {
            reader,
            path: path.to_path_buf(),
            select,
            policy,
            left: crop.end_frame.map(|e| e - crop.start_frame),
            delivered: 0,
            interleaved: Vec::new(),
            non_finite: None,
            crop,
        })
    }

    /// The file's header.
    pub fn info(&self) -> &AudioInfo {
        self.reader.info()
    }

    /// Sample rate.
    pub fn sample_rate_hz(&self) -> u32 {
        self.reader.info().sample_rate_hz
    }

    /// The frame of the file the first delivered sample is.
    pub fn start_frame(&self) -> u64 {
        self.crop.start_frame
    }

    /// Mono frames this source will deliver, if the header says (a lying header is found
    /// out at the end: the readers count what they deliver).
    pub fn expected_frames(&self) -> Option<u64> {
        let to_end = self
            .reader
            .info()
            .frames
            .map(|n| n.saturating_sub(self.crop.start_frame));
        match (to_end, self.left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Frames delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Appends at least `min_frames` mono samples to `out` (fewer only at the end);
    /// returns how many were appended, 0 at the end.
    ///
    /// # Errors
    /// As [`AudioReader::read`].
    pub fn read(&mut self, out: &mut Vec<f32>, min_frames: usize) -> Result<usize> {
        let mut total = 0;
        while total < min_frames.max(1) {
            let n = self.read_block(out)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok(total)
    }

    /// One decoder block.
    fn read_block(&mut self, out: &mut Vec<f32>) -> Result<usize> {
        if self.left == Some(0) {
            return Ok(0);
        }
        self.interleaved.clear();
        let frames = self.reader.read(&mut self.interleaved)?;
        let n = self.left.map_or(frames, |l| frames.min(l as usize));
        let ch = self.reader.info().channels;
        let at = out.len();
        out.resize(at + n, 0.0);
        let mut block = std::mem::take(&mut self.interleaved);
        self.count_non_finite(&mut block[..n * ch]);
        downmix_into(&block[..n * ch], ch, self.select, &mut out[at..]);
        self.interleaved = block;
        if let Some(l) = &mut self.left {
            *l -= n as u64;
        }
        self.delivered += n as u64;
        crate::offline::progress::add_audio(n as u64, self.sample_rate_hz());
        Ok(n)
    }

    /// Counts the non-finite samples of `block` among those analysed, and zeroes them
    /// under [`NanPolicy::Zero`].
    fn count_non_finite(&mut self, block: &mut [f32]) {
        let ch = self.reader.info().channels;
        let base = self.delivered;
        for (i, v) in block.iter_mut().enumerate() {
            let selected = match self.select {
                ChannelSelect::Index(c) if ch > 1 => i % ch == c,
                _ => true,
            };
            if !selected || v.is_finite() {
                continue;
            }
            let found = self.non_finite.get_or_insert(NonFinite {
                count: 0,
                first_frame: (self.crop.start_frame + base) as usize + i / ch,
                first_channel: i % ch,
            });
            found.count += 1;
            if self.policy == NanPolicy::Zero {
                *v = 0.0;
            }
        }
    }

    /// Ends the read: the NaN policy's verdict, then warnings on stderr for samples set to
    /// 0 and for packets replaced by silence.
    ///
    /// # Errors
    /// Non-finite samples under [`NanPolicy::Error`]; an `--end` past the file's end.
    pub fn finish(self) -> Result<SourceSummary> {
        let info = self.reader.info().clone();
        let name = self.path.display();
        if let Some(bad) = self.non_finite {
            let what = bad.describe(info.sample_rate_hz);
            match self.policy {
                NanPolicy::Error => {
                    return Err(Error::Wav {
                        path: self.path.clone(),
                        message: format!(
                            "{what}: pass --nan zero to analyse it with those samples set to 0"
                        ),
                    })
                }
                NanPolicy::Zero => {
                    eprintln!("hopscope: warning: '{name}': {what}: set to 0 (--nan zero)")
                }
            }
        }
        if let Some(end) = self.crop.end_frame {
            let reached = self.crop.start_frame + self.delivered;
            if reached < end {
                return Err(Error::InvalidArgument {
                    flag: "--end",
                    message: format!(
                        "{:.3} s is past the end of '{name}' ({:.3} s)",
                        end as f64 / f64::from(info.sample_rate_hz),
                        reached as f64 / f64::from(info.sample_rate_hz)
                    ),
                });
            }
        }
        if let Some(issues) = self.reader.issues() {
            eprintln!(
                "hopscope: warning: '{name}': {}",
                issues.describe(info.sample_rate_hz)
            );
        }
        Ok(SourceSummary {
            info,
            frames: self.delivered,
        })
    }
}

/// A crop must lie inside the file (as far as its header tells) and not be empty.
fn check_crop(path: &Path, info: &AudioInfo, crop: Crop) -> Result<()> {
    let sr = f64::from(info.sample_rate_hz);
    if let Some(end) = crop.end_frame {
        if end <= crop.start_frame {
            return Err(Error::InvalidArgument {
                flag: "--end",
                message: format!(
                    "{:.3} s is not after --start ({:.3} s)",
                    end as f64 / sr,
                    crop.start_frame as f64 / sr
                ),
            });
        }
    }
    if let Some(frames) = info.frames {
        if crop.start_frame > 0 && crop.start_frame >= frames {
            return Err(Error::InvalidArgument {
                flag: "--start",
                message: format!(
                    "{:.3} s is past the end of '{}' ({:.3} s)",
                    crop.start_frame as f64 / sr,
                    path.display(),
                    frames as f64 / sr
                ),
            });
        }
    }
    Ok(())
}

/// The frames of an STFT over a [`MonoSource`], cut as the samples arrive: causal
/// (librosa `center=False`) or centred (`center=True`, `pad_mode="constant"`: `n_fft/2`
/// zeros at both ends, librosa's row count; see [`crate::offline::frame_signal`]).
///
/// Memory: the samples of the rows asked for at once plus one window.
///
/// Thread: the pipeline's.
pub struct RowFeed {
    params: StftParams,
    center: bool,
    /// Samples from row `next_row`'s first on.
    buf: Vec<f32>,
    next_row: u64,
    /// Signal samples read so far (without padding).
    signal_len: u64,
    /// The row count, once the signal has ended.
    total_rows: Option<u64>,
}

impl RowFeed {
    /// An empty feed.
    pub fn new(params: StftParams, center: bool) -> RowFeed {
        let mut buf = Vec::new();
        if center {
            buf.resize(params.fft_size / 2 - params.window_offset(), 0.0);
        }
        RowFeed {
            params,
            center,
            buf,
            next_row: 0,
            signal_len: 0,
            total_rows: None,
        }
    }

    /// Rows of a signal of `len` samples, as [`crate::offline::frame_signal`] counts them.
    pub fn rows_for(params: &StftParams, center: bool, len: u64) -> u64 {
        if !center {
            return params.rows_for(len);
        }
        let half = (params.fft_size / 2) as u64;
        let front = half - params.window_offset() as u64;
        (len + 2 * half)
            .checked_sub(params.fft_size as u64)
            .map_or(0, |n| n / params.hop_size as u64 + 1)
            .min(params.rows_for(front + len + half))
    }

    /// The first row the next [`RowFeed::fill`] returns.
    pub fn next_row(&self) -> u64 {
        self.next_row
    }

    /// Reads from `source` until `rows` rows (from [`RowFeed::next_row`]) are in the
    /// buffer or the signal ends; returns how many are (0: no more rows).
    ///
    /// # Errors
    /// As [`MonoSource::read`].
    pub fn fill(&mut self, source: &mut MonoSource, rows: usize) -> Result<usize> {
        let (hop, win) = (self.params.hop_size, self.params.win_length);
        let need = rows.saturating_sub(1) * hop + win;
        while self.total_rows.is_none() && self.buf.len() < need {
            let short = need - self.buf.len();
            let n = source.read(&mut self.buf, short)?;
            self.signal_len += n as u64;
            if n == 0 {
                self.end();
            }
        }
        Ok(self.available().min(rows))
    }

    /// Appends already-read samples (for a caller that reads the source itself, e.g. to
    /// overlap decoding with computing); `ended` when the signal is over.
    pub fn push(&mut self, samples: &[f32], ended: bool) {
        self.buf.extend_from_slice(samples);
        self.signal_len += samples.len() as u64;
        if ended && self.total_rows.is_none() {
            self.end();
        }
    }

    fn end(&mut self) {
        if self.center {
            self.buf
                .resize(self.buf.len() + self.params.fft_size / 2, 0.0);
        }
        self.total_rows = Some(Self::rows_for(&self.params, self.center, self.signal_len));
    }

    /// Rows complete in the buffer.
    pub fn available(&self) -> usize {
        let whole = self.params.rows_for(self.buf.len() as u64);
        let left = self
            .total_rows
            .map_or(whole, |t| whole.min(t.saturating_sub(self.next_row)));
        left as usize
    }

    /// The samples of the rows in the buffer: row `next_row + i` is
    /// `samples()[i·hop .. i·hop + win_length]`.
    pub fn samples(&self) -> &[f32] {
        &self.buf
    }

    /// Drops the first `rows` rows' hops from the buffer.
    pub fn advance(&mut self, rows: usize) {
        let drop = (rows * self.params.hop_size).min(self.buf.len());
        self.buf.drain(..drop);
        self.next_row += rows as u64;
    }

    /// Signal samples read so far.
    pub fn signal_len(&self) -> u64 {
        self.signal_len
    }

    /// The row count, once the signal has ended.
    pub fn total_rows(&self) -> Option<u64> {
        self.total_rows
    }
}
