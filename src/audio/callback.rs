//! The only real-time code: convert, push, count (STYLE.md RT1).

use std::marker::PhantomData;
use std::sync::Arc;

use cpal::{FromSample, Sample};
use ringbuf::traits::{Observer, Producer};

use super::stats::CaptureStats;
use crate::audio::ring::{Mark, MarkProducer, SampleProducer};

/// The capture callback's state, moved into the audio thread.
///
/// Thread: capture callback (RT). Allocates: never. Blocks: never.
pub struct CaptureCallback<T> {
    producer: SampleProducer,
    marks: MarkProducer,
    stats: Arc<CaptureStats>,
    channels: usize,
    frames_pushed: u64,
    _format: PhantomData<fn(T)>,
}

impl<T> CaptureCallback<T>
where
    T: Sample,
    f32: FromSample<T>,
{
    /// A callback pushing `channels`-channel interleaved frames into `producer`.
    ///
    /// # Panics
    /// If `channels` is 0.
    pub fn new(
        producer: SampleProducer,
        marks: MarkProducer,
        stats: Arc<CaptureStats>,
        channels: usize,
    ) -> Self {
        assert!(channels > 0, "a capture stream has at least one channel");
        CaptureCallback {
            producer,
            marks,
            stats,
            channels,
            frames_pushed: 0,
            _format: PhantomData,
        }
    }

    /// Handles one callback: `data` is interleaved frames, `capture_ns` the capture
    /// instant of its first frame on the source's timebase.
    ///
    /// Pushes the whole frames that fit in one bulk commit, drops the rest (newest
    /// first) and counts them; any length is accepted (0, odd, longer than the ring).
    /// A trailing partial frame, which no host delivers, is ignored.
    ///
    /// Thread: capture callback (RT). Allocates: no. Locks: no. Syscalls: no.
    pub fn on_data(&mut self, data: &[T], capture_ns: u64) {
        let frames = data.len() / self.channels;
        if frames == 0 {
            return;
        }
        let fit = frames.min(self.producer.vacant_len() / self.channels);
        let pushed_samples = self.producer.push_iter(
            data[..fit * self.channels]
                .iter()
                .map(|&s| f32::from_sample_(s)),
        );
        let pushed = (pushed_samples / self.channels) as u64;
        if pushed > 0 {
            let mark = Mark {
                frame_index: self.frames_pushed,
                capture_ns,
            };
            if self.marks.try_push(mark).is_err() {
                self.stats.record_mark_dropped();
            }
            self.frames_pushed += pushed;
        }
        self.stats
            .record_callback(frames as u64, frames as u64 - pushed);
    }
}
