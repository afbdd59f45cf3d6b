//! The lock-free SPSC rings between a capture callback and the analysis thread.
//!
//! Two rings: interleaved f32 samples (whole frames only), and timing [`Mark`]s, one
//! per callback, that tie a frame index to its capture instant.

use ringbuf::traits::Split;
use ringbuf::{HeapCons, HeapProd, HeapRb};

use crate::dsp::stft::MAX_FFT_SIZE;

/// Producer half of the sample ring. Thread: capture callback (moved in).
pub type SampleProducer = HeapProd<f32>;
/// Consumer half of the sample ring. Thread: analysis (moved in).
pub type SampleConsumer = HeapCons<f32>;
/// Producer half of the mark ring. Thread: capture callback (moved in).
pub type MarkProducer = HeapProd<Mark>;
/// Consumer half of the mark ring. Thread: analysis (moved in).
pub type MarkConsumer = HeapCons<Mark>;

/// Marks the ring holds; one is pushed per callback that delivered frames.
pub const MARK_CAPACITY: usize = 4096;

/// The capture instant of one frame in the ring's stream.
///
/// Thread: written by the capture callback, read by analysis. Plain `Copy` data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// Index of the frame in the stream of frames that entered the ring.
    pub frame_index: u64,
    /// When that frame was captured, in ns on the source's timebase
    /// (see `analysis::Timebase`).
    pub capture_ns: u64,
}

/// Ring capacity in frames: a power of two holding at least 0.5 s and 4 × the
/// largest FFT size.
pub fn capacity_frames(sample_rate_hz: u32) -> usize {
    let half_second = (sample_rate_hz as usize).div_ceil(2);
    half_second.max(4 * MAX_FFT_SIZE).next_power_of_two()
}

/// A sample ring for `channels` interleaved channels, sized by [`capacity_frames`].
pub fn sample_ring(sample_rate_hz: u32, channels: usize) -> (SampleProducer, SampleConsumer) {
    sample_ring_with_capacity(capacity_frames(sample_rate_hz) * channels)
}

/// A sample ring of exactly `capacity_samples` (tests use small rings).
pub fn sample_ring_with_capacity(capacity_samples: usize) -> (SampleProducer, SampleConsumer) {
    HeapRb::<f32>::new(capacity_samples).split()
}

/// A mark ring of [`MARK_CAPACITY`].
pub fn mark_ring() -> (MarkProducer, MarkConsumer) {
    HeapRb::<Mark>::new(MARK_CAPACITY).split()
}
