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
