//! What every stage of the live stream shares: the mapping of capture timestamps
//! onto `Instant`s.

use std::time::{Duration, Instant};

/// Maps a source's capture timestamps (ns) onto `Instant`s: `origin + ns`.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug)]
pub struct Timebase {
    /// The `Instant` of timestamp 0.
    pub origin: Instant,
}

impl Timebase {
    /// The instant of `ns` on this timebase.
    pub fn instant(&self, ns: u64) -> Instant {
        self.origin + Duration::from_nanos(ns)
    }
}

/// Which input channel feeds the STFT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelSelect {
    /// Mean of all channels.
    Mix,
    /// One channel, 0-based.
    Index(usize),
}

impl ChannelSelect {
    /// The channel index as exported (`None`: the mix, or a mono source where the
    /// choice makes no difference).
    pub fn index_in(self, channels: usize) -> Option<usize> {
        match self {
            ChannelSelect::Index(c) if channels > 1 => Some(c),
            _ => None,
        }
    }

    /// Checks that the selected channel exists in a source of `channels` channels.
    ///
    /// # Errors
    /// `--channel` out of range, naming the valid range.
    pub fn check(self, channels: usize) -> crate::error::Result<()> {
        match self {
            ChannelSelect::Index(c) if c >= channels => Err(crate::error::Error::InvalidArgument {
                flag: "--channel",
                message: format!(
                    "channel {c} does not exist: the source has {channels} channel(s) (0..={})",
                    channels.saturating_sub(1)
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// The mono signal every stage analyses: channel `select` of the interleaved `src`
/// (`channels` per frame), or the mean of all channels, written into `dst` (one value
/// per frame; `dst.len()` frames). The one downmix of live and offline paths alike.
///
/// Thread: any. Allocates: no.
pub fn downmix_into(src: &[f32], channels: usize, select: ChannelSelect, dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len() * channels, "whole frames");
    match select {
        _ if channels == 1 => dst.copy_from_slice(src),
        ChannelSelect::Index(c) => {
            for (d, frame) in dst.iter_mut().zip(src.chunks_exact(channels)) {
                *d = frame[c];
            }
        }
        ChannelSelect::Mix => {
            let scale = 1.0 / channels as f32;
            for (d, frame) in dst.iter_mut().zip(src.chunks_exact(channels)) {
                *d = frame.iter().sum::<f32>() * scale;
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_picks_a_channel_or_takes_the_mean() {
        let src = [1.0, -3.0, 0.5, 2.0, 4.0, 8.0];
        let mut dst = [0.0f32; 2];
        downmix_into(&src, 3, ChannelSelect::Index(1), &mut dst);
        assert_eq!(dst, [-3.0, 4.0]);
        downmix_into(&src, 3, ChannelSelect::Mix, &mut dst);
        for (got, want) in dst
            .iter()
            .zip([(1.0 - 3.0 + 0.5) / 3.0, (2.0 + 4.0 + 8.0) / 3.0])
        {
            assert!((got - want).abs() <= 1e-6 * want.abs(), "{got} vs {want}");
        }
        let mut mono = [0.0f32; 6];
        downmix_into(&src, 1, ChannelSelect::Index(5), &mut mono);
        assert_eq!(mono, src);
    }
}
