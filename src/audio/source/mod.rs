//! Sources that play the role of a microphone: the built-in demo signal and WAV
//! replay, delivered in periods paced to real time through the same
//! [`CaptureCallback`] as cpal, so everything downstream is the live path.

pub mod demo;
pub mod file;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::audio::callback::CaptureCallback;

/// A generator of interleaved f32 frames.
///
/// Thread: moved into the source thread.
pub trait BlockSource: Send {
    /// Channels per frame.
    fn channels(&self) -> usize;
    /// Sample rate.
    fn sample_rate_hz(&self) -> u32;
    /// Writes up to `out.len() / channels` frames; returns the frames written, 0 at the end.
    fn fill(&mut self, out: &mut [f32]) -> usize;
}

/// Longest single sleep of a paced source: a stop request is seen within this, however
/// long a period lasts (480 frames of an 8 Hz file are 60 s).
pub const MAX_SLEEP: Duration = Duration::from_millis(50);

/// Sleeps until `due` in slices of at most [`MAX_SLEEP`], checking `stop` before each;
/// `false` if `stop` was raised first.
fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= due {
            return true;
        }
        std::thread::sleep((due - now).min(MAX_SLEEP));
    }
}

/// A running paced source thread.
///
/// Thread: handle owned by main; the thread owns the source and the callback.
pub struct PacedSource {
    handle: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
}

impl PacedSource {
    /// Starts delivering `period_frames` frames every `period_frames / sample_rate` s.
    /// Frame `i` is stamped as captured at `i / sample_rate` s after `origin`, and is
    /// delivered once its period's last frame has been "captured".
    ///
    /// # Errors
    /// If the OS cannot spawn a thread.
    pub fn spawn(
        mut source: Box<dyn BlockSource>,
        period_frames: usize,
        mut callback: CaptureCallback<f32>,
        origin: Instant,
    ) -> crate::error::Result<PacedSource> {
        let stop = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (stop_t, finished_t) = (Arc::clone(&stop), Arc::clone(&finished));
        let handle = std::thread::Builder::new()
            .name("source".into())
            .spawn(move || {
                let channels = source.channels();
                let rate = source.sample_rate_hz() as u128;
                let mut buf = vec![0.0f32; period_frames.max(1) * channels];
                let mut frames_done: u64 = 0;
                while !stop_t.load(Ordering::Relaxed) {
                    let n = source.fill(&mut buf);
                    if n == 0 {
                        break;
                    }
                    let end_frame = (frames_done + n as u64) as u128;
                    let due =
                        origin + Duration::from_nanos((end_frame * 1_000_000_000 / rate) as u64);
                    if !sleep_until(due, &stop_t) {
                        break;
                    }
                    let capture_ns = (frames_done as u128 * 1_000_000_000 / rate) as u64;
                    callback.on_data(&buf[..n * channels], capture_ns);
                    frames_done += n as u64;
                }
                finished_t.store(true, Ordering::Relaxed);
            })
            .map_err(|source| crate::error::Error::SpawnThread {
                thread: "source",
                source,
            })?;
        Ok(PacedSource {
            handle: Some(handle),
            stop,
            finished,
        })
    }

    /// Whether the source has delivered its last frame.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }

    /// Stops the thread and waits for it.
    ///
    /// # Errors
    /// [`Error::ThreadPanicked`](crate::error::Error::ThreadPanicked) when it panicked.
    pub fn stop(&mut self) -> crate::error::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take() {
            Some(h) => crate::error::join(h, "source"),
            None => Ok(()),
        }
    }
}

impl Drop for PacedSource {
    /// Stops a source nobody stopped (an error path, where that error is the one
    /// reported): a panic of its thread is not reported a second time here.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::ring;
    use crate::error::Error;

    /// Panics on its first block.
    struct Doomed;

    impl BlockSource for Doomed {
        fn channels(&self) -> usize {
            1
        }
        fn sample_rate_hz(&self) -> u32 {
            8000
        }
        fn fill(&mut self, _out: &mut [f32]) -> usize {
            panic!("the source broke")
        }
    }

    #[test]
    fn a_panicking_source_is_reported_by_stop() {
        let (producer, _samples) = ring::sample_ring(8000, 1);
        let (marks, _mark_consumer) = ring::mark_ring();
        let callback = CaptureCallback::<f32>::new(producer, marks, Arc::default(), 1);
        let mut paced =
            PacedSource::spawn(Box::new(Doomed), 80, callback, Instant::now()).expect("spawn");
        while paced.handle.as_ref().is_some_and(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(1));
        }
        match paced.stop() {
            Err(Error::ThreadPanicked {
                role,
                thread,
                message,
            }) => {
                assert_eq!((role, thread.as_str()), ("source", "source"));
                assert_eq!(message, "the source broke");
            }
            other => panic!("expected ThreadPanicked, got {other:?}"),
        }
        assert!(paced.stop().is_ok(), "a second stop has nothing to join");
    }
}
