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
