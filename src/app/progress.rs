//! The progress bar of `analyze`, `render` and `suggest` on stderr: files done of the
//! total, seconds of audio done of the total, the rate (× real time) and the time
//! left.
//!
//! Drawn only when stderr is a terminal, not with `--quiet`, and only once the work has
//! taken [`DELAY`] (`HOPSCOPE_PROGRESS_DELAY_MS` sets another, e.g. 0 for the tests):
//! nothing flashes for a short run. A `progress` thread reads the pipelines' counters
//! (`offline::progress`) ten times a second and redraws; the bar is cleared at the end.
//! The total audio comes from each input's header (the frames it declares, less the
//! `--start`/`--end` crop), read by the `progress` thread; when one is unknown (standard
//! input, a format that does not declare it), the bar counts files and shows the rate
//! without the time left.
//!
//! Only this module names indicatif.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::io::audio::AudioReader;
use crate::io::wav;
use crate::offline::progress;
use crate::stream::CropSeconds;

/// How long the work runs before the bar appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The progress bar of one run: hidden, or drawn by its `progress` thread.
///
/// Thread: made and finished on main; the bar handle is shared with the `progress`
/// thread (which draws) and the `file-N` threads (which print above it through
/// [`Progress::suspend`]).
pub struct Progress {
    bar: ProgressBar,
    stop: Option<Sender<()>>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the bar for `inputs` (their count, and their durations cropped by `crop`),
    /// unless `quiet` or stderr is not a terminal.
    pub fn start(inputs: Vec<PathBuf>, crop: CropSeconds, quiet: bool) -> Progress {
        let bar = ProgressBar::hidden();
        if quiet || !std::io::stderr().is_terminal() {
            return Progress {
                bar,
                stop: None,
                ticker: None,
            };
        }
        let (stop, stopped) = crossbeam_channel::bounded(1);
        let ticker = Ticker {
            bar: bar.clone(),
            stopped,
            inputs,
            crop,
            files_before: progress::files_done(),
            audio_before_s: progress::audio_done_s(),
        };
        // No bar is better than no run: a thread that cannot start leaves it hidden.
        let ticker = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || ticker.run())
            .ok();
        Progress {
            bar,
            stop: Some(stop),
            ticker,
        }
    }

    /// Runs `f` (which prints) with the bar taken off the terminal, then redraws it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Stops and clears the bar.
    pub fn finish(mut self) {
        self.stop_ticker();
    }

    fn stop_ticker(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_ticker();
    }
}

/// The `progress` thread's state.
///
/// Thread: `progress` (moved in).
struct Ticker {
    bar: ProgressBar,
    stopped: Receiver<()>,
    inputs: Vec<PathBuf>,
    crop: CropSeconds,
    files_before: u64,
    audio_before_s: f64,
}

impl Ticker {
    fn run(self) {
        let started = Instant::now();
        let files_total = self.inputs.len() as u64;
        let Ok(audio_total_s) = self.total_seconds() else {
            return;
        };
        if self.wait(delay().saturating_sub(started.elapsed())) {
            return;
        }
        // A fixed bar, then the message cut at the terminal's width (never wrapped).
        let style = ProgressStyle::with_template("{bar:12} {wide_msg}")
            .expect("a valid template")
            .progress_chars("█▉▊▋▌▍▎▏ ");
        self.bar.set_style(style);
        let mut shown = false;
        loop {
            let now = Snapshot {
                files_done: progress::files_done().saturating_sub(self.files_before),
                files_total,
                audio_done_s: progress::audio_done_s() - self.audio_before_s,
                audio_total_s,
                elapsed_s: started.elapsed().as_secs_f64(),
            };
            let (position, length) = now.bar();
            self.bar.set_message(now.message());
            self.bar.update(|state| {
                state.set_len(length);
                state.set_pos(position);
            });
            // Shown once it holds the first values: no empty first frame.
            if !shown {
                self.bar.set_draw_target(ProgressDrawTarget::stderr());
                self.bar.tick();
                shown = true;
            }
            if self.wait(TICK) {
                break;
            }
        }
        self.bar.finish_and_clear();
    }

    /// Waits `d`; true once told to stop.
    fn wait(&self, d: Duration) -> bool {
        !matches!(self.stopped.recv_timeout(d), Err(RecvTimeoutError::Timeout))
    }

    /// The seconds of audio in the inputs, if every one's header says; `Err` when told
    /// to stop meanwhile (many files, a short run).
    fn total_seconds(&self) -> Result<Option<f64>, ()> {
        let mut total = 0.0;
        for path in &self.inputs {
            if !matches!(self.stopped.try_recv(), Err(TryRecvError::Empty)) {
                return Err(());
            }
            match seconds(path, self.crop) {
                Some(s) => total += s,
                None => return Ok(None),
            }
        }
        Ok(Some(total))
    }
}

/// [`DELAY`], or `HOPSCOPE_PROGRESS_DELAY_MS`.
fn delay() -> Duration {
    std::env::var("HOPSCOPE_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DELAY, Duration::from_millis)
}

/// The seconds of audio `crop` takes of `path`, from the frames its header declares
/// (`None`: not declared, unreadable, or standard input or a pipe, which must not be
/// read here).
fn seconds(path: &Path, crop: CropSeconds) -> Option<f64> {
    if wav::is_stream(path) {
        return None;
    }
    let reader = AudioReader::open(path, false).ok()?;
    let info = reader.info();
    let frames = info.frames?;
    let crop = crop.frames(info.sample_rate_hz);
    let end = crop.end_frame.map_or(frames, |e| e.min(frames));
    let rate = f64::from(info.sample_rate_hz.max(1));
    Some(end.saturating_sub(crop.start_frame) as f64 / rate)
}

/// What the bar shows at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snapshot {
    /// Files finished.
    pub files_done: u64,
    /// Files in the run.
    pub files_total: u64,
    /// Seconds of audio analysed.
    pub audio_done_s: f64,
    /// Seconds of audio in the run, if known.
    pub audio_total_s: Option<f64>,
    /// Seconds since the run started.
    pub elapsed_s: f64,
}

impl Snapshot {
    /// `3/10 files, 2:00/10:00 audio, 30.0× real time, ETA 0:16`: the files, the audio
    /// (of its total when known), the rate once some audio is done (whole from 100×), and
    /// the time left at that rate when the total is known. At most 67 characters for up
    /// to 99 files and 99 hours: a 12-character bar and the message fit 80 columns.
    pub fn message(&self) -> String {
        let mut parts = vec![format!("{}/{} files", self.files_done, self.files_total)];
        parts.push(match self.audio_total_s {
            Some(total) => format!("{}/{} audio", clock(self.audio_done_s), clock(total)),
            None => format!("{} audio", clock(self.audio_done_s)),
        });
        if let Some(rate) = self.rate() {
            let digits = if rate >= 100.0 { 0 } else { 1 };
            parts.push(format!("{rate:.digits$}× real time"));
            if let Some(total) = self.audio_total_s {
                let left_s = (total - self.audio_done_s).max(0.0) / rate;
                parts.push(format!("ETA {}", clock(left_s)));
            }
        }
        parts.join(", ")
    }

    /// Seconds of audio per second of work, once there is some of both.
    pub fn rate(&self) -> Option<f64> {
        (self.audio_done_s > 0.0 && self.elapsed_s > 0.0)
            .then(|| self.audio_done_s / self.elapsed_s)
    }

    /// The bar's (position, length): milliseconds of audio when the total is known,
    /// else files.
    pub fn bar(&self) -> (u64, u64) {
        match self.audio_total_s {
            Some(total) => {
                let length = (total * 1000.0).round() as u64;
                (
                    ((self.audio_done_s * 1000.0).round() as u64).min(length),
                    length,
                )
            }
            None => (self.files_done.min(self.files_total), self.files_total),
        }
    }
}

/// `s` seconds as `M:SS`, or `H:MM:SS` from an hour on (rounded to the second).
pub fn clock(s: f64) -> String {
    let total = s.max(0.0).round() as u64;
    let (h, m, sec) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m}:{sec:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(
        files_done: u64,
        audio_done_s: f64,
        audio_total_s: Option<f64>,
        elapsed_s: f64,
    ) -> Snapshot {
        Snapshot {
            files_done,
            files_total: 10,
            audio_done_s,
            audio_total_s,
            elapsed_s,
        }
    }

    #[test]
    fn the_rate_and_the_time_left_follow_from_the_counters() {
        // 120 s of 600 done in 4 s: 30× real time, 480 s left at that rate = 16 s.
        let s = snap(3, 120.0, Some(600.0), 4.0);
        assert_eq!(s.rate(), Some(30.0));
        assert_eq!(
            s.message(),
            "3/10 files, 2:00/10:00 audio, 30.0× real time, ETA 0:16"
        );
        assert_eq!(s.bar(), (120_000, 600_000));
        // 3 h of 6 done at 2.5× real time: the 3 h left take 1:12:00.
        let s = snap(5, 3.0 * 3600.0, Some(6.0 * 3600.0), 3.0 * 3600.0 / 2.5);
        assert_eq!(
            s.message(),
            "5/10 files, 3:00:00/6:00:00 audio, 2.5× real time, ETA 1:12:00"
        );
        // From 100× on, the rate is whole: 1 h in 8 s is 450×; the 5 h left take 40 s.
        let s = snap(1, 3600.0, Some(6.0 * 3600.0), 8.0);
        assert_eq!(
            s.message(),
            "1/10 files, 1:00:00/6:00:00 audio, 450× real time, ETA 0:40"
        );
        let long = Snapshot {
            files_done: 99,
            files_total: 99,
            ..snap(0, 99.9 * 3600.0, Some(99.99 * 3600.0), 3602.0)
        };
        // 99.9 h in 3602 s: 99.84×; the 324 s left take 3.2 s.
        assert_eq!(
            long.message(),
            "99/99 files, 99:54:00/99:59:24 audio, 99.8× real time, ETA 0:03"
        );
        let worst = "99/99 files, 99:59:59/99:59:59 audio, 99.9× real time, ETA 99:59:59";
        assert!(12 + 1 + worst.chars().count() <= 80);
    }

    #[test]
    fn without_a_total_there_is_a_rate_but_no_time_left_and_the_bar_counts_files() {
        let s = snap(4, 90.0, None, 10.0);
        assert_eq!(s.message(), "4/10 files, 1:30 audio, 9.0× real time");
        assert_eq!(s.bar(), (4, 10));
    }

    #[test]
    fn before_any_audio_is_done_there_is_no_rate() {
        let s = snap(0, 0.0, Some(60.0), 0.5);
        assert_eq!(s.rate(), None);
        assert_eq!(s.message(), "0/10 files, 0:00/1:00 audio");
        assert_eq!(s.bar(), (0, 60_000));
        // More done than the headers said (a header under-counting): the bar stays full.
        assert_eq!(snap(10, 61.0, Some(60.0), 1.0).bar(), (60_000, 60_000));
    }

    #[test]
    fn clock_rounds_to_the_second_and_shows_hours_from_one_hour() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(59.4), "0:59");
        assert_eq!(clock(59.6), "1:00");
        assert_eq!(clock(3599.0), "59:59");
        assert_eq!(clock(3600.0), "1:00:00");
        assert_eq!(clock(-3.0), "0:00");
    }
}
