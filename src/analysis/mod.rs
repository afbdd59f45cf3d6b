//! The analysis thread: drain `Control`, pop the ring, downmix, slide the STFT,
//! stamp and send rows.

pub mod columns;
pub mod frontend;
pub mod history;
pub mod message;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use ringbuf::traits::{Consumer, Observer};

use crate::analysis::columns::{FoldRow, PaneColumns, TimeOrigin};
use crate::analysis::frontend::FrontendPane;
use crate::analysis::history::SharedHistory;
use crate::analysis::message::{ColumnRun, Control, Generation, SpectrumRow, MAX_PANES};
use crate::audio::ring::{MarkConsumer, SampleConsumer};
use crate::audio::supervisor::InputSwap;
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{Stft, StftParams};
use crate::render::timeaxis::{Run, TimeGrid};
use crate::stream::{downmix_into, ChannelSelect, Timebase};

/// Frames popped from the ring per pass.
pub const CHUNK_FRAMES: usize = 4096;
/// Capacity of the row channel.
pub const ROW_CHANNEL_CAPACITY: usize = 256;
/// Row buffers in circulation: the row channel plus what the UI may hold at once.
pub const ROW_BUFFERS: usize = ROW_CHANNEL_CAPACITY + 16;

/// Analysis counters.
///
/// Thread: written by analysis, read by UI/status (`Relaxed`); `controls_dropped` is
/// written by the controller's [`ControlSender`].
#[derive(Debug, Default)]
pub struct AnalysisStats {
    rows_produced: AtomicU64,
    rows_dropped: AtomicU64,
    controls_dropped: AtomicU64,
    frames_analysed: AtomicU64,
    row_time_ns_total: AtomicU64,
    row_time_ns_max: AtomicU64,
    generation: AtomicU64,
    nonfinite_samples: AtomicU64,
    gaps: AtomicU64,
    gap_samples: AtomicU64,
    rows_folded: AtomicU64,
    runs_sent: AtomicU64,
}

/// A copy of [`AnalysisStats`] at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnalysisSnapshot {
    /// Rows computed (sent or dropped).
    pub rows_produced: u64,
    /// Rows dropped: the row channel was full or no buffer was free.
    pub rows_dropped: u64,
    /// [`Control`] messages dropped: the control channel was full (the analysis thread
    /// was [`CONTROL_CAPACITY`] messages behind) or the thread was gone.
    pub controls_dropped: u64,
    /// Frames popped from the ring and analysed.
    pub frames_analysed: u64,
    /// Sum of per-row processing times, ns.
    pub row_time_ns_total: u64,
    /// Largest per-row processing time since the last [`AnalysisStats::take_max`].
    pub row_time_ns_max: u64,
    /// Current parameter generation.
    pub generation: Generation,
    /// Non-finite input samples (NaN, ±Inf) replaced by 0 before analysis.
    pub nonfinite_samples: u64,
    /// Gaps in the input (time with no samples) marked in the rows and the history.
    pub gaps: u64,
    /// Their total length in samples.
    pub gap_samples: u64,
    /// Rows folded into time columns for the window (the rest are sent one by one).
    pub rows_folded: u64,
    /// Runs of time columns sent (each one or more columns of one or more rows).
    pub runs_sent: u64,
}

impl AnalysisStats {
    /// Reads every counter.
    pub fn snapshot(&self) -> AnalysisSnapshot {
        AnalysisSnapshot {
            rows_produced: self.rows_produced.load(Relaxed),
            rows_dropped: self.rows_dropped.load(Relaxed),
            controls_dropped: self.controls_dropped.load(Relaxed),
            frames_analysed: self.frames_analysed.load(Relaxed),
            row_time_ns_total: self.row_time_ns_total.load(Relaxed),
            row_time_ns_max: self.row_time_ns_max.load(Relaxed),
            generation: self.generation.load(Relaxed),
            nonfinite_samples: self.nonfinite_samples.load(Relaxed),
            gaps: self.gaps.load(Relaxed),
            gap_samples: self.gap_samples.load(Relaxed),
            rows_folded: self.rows_folded.load(Relaxed),
            runs_sent: self.runs_sent.load(Relaxed),
        }
    }

    /// Returns the per-row maximum and resets it (one status interval).
    pub fn take_max(&self) -> u64 {
        self.row_time_ns_max.swap(0, Relaxed)
    }
}

/// What the analysis thread needs, moved in at spawn.
pub struct AnalysisSetup {
    /// Interleaved samples from the capture callback.
    pub samples: SampleConsumer,
    /// Timing marks from the capture callback.
    pub marks: MarkConsumer,
    /// Channels per frame in `samples`.
    pub channels: usize,
    /// Which channel to analyse.
    pub channel_select: ChannelSelect,
    /// Stream sample rate.
    pub sample_rate_hz: u32,
    /// Maps mark timestamps onto `Instant`s.
    pub timebase: Timebase,
    /// Initial parameters of pane 0 (validated).
    pub params: StftParams,
    /// Initial parameters of further compare panes (validated; at most
    /// [`MAX_PANES`]` - 1`).
    pub compare: Vec<StftParams>,
    /// Initial scale.
    pub scale: ValueScale,
    /// Where the analysed mono signal is also kept (for re-rendering), if anywhere.
    pub history: Option<SharedHistory>,
    /// Rings of reopened streams (a live device's supervisor), if any.
    pub swaps: Option<Receiver<InputSwap>>,
    /// The window's analysis: nothing is analysed while a pane waits for its time
    /// columns ([`Control::SetColumns`], sent as soon as the window knows its size), so
    /// that every row is folded and drawn (the frames wait in the ring meanwhile).
    pub columns_wait: bool,
    /// Audio waiting for the row consumer beyond which rows are dropped, s
    /// ([`WINDOW_BACKLOG_S`], [`HEADLESS_BACKLOG_S`]).
    pub backlog_s: f64,
}

/// Capacity of the control channel.
pub const CONTROL_CAPACITY: usize = 64;

/// The controller's end of the control channel. It never blocks (but for
/// [`ControlSender::shutdown`]): a message that does not fit, or finds the analysis
/// thread gone, is dropped and counted in [`AnalysisSnapshot::controls_dropped`].
///
/// Thread: UI/status (main). Allocates: no.
pub struct ControlSender {
    tx: Sender<Control>,
    stats: Arc<AnalysisStats>,
}

impl ControlSender {
    /// Queues `msg` for the analysis thread's next pass; `false` when it was dropped
    /// (and counted).
    pub fn send(&self, msg: Control) -> bool {
        match self.tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.controls_dropped.fetch_add(1, Relaxed);
                false
            }
        }
    }

    /// Sends [`Control::Shutdown`], waiting for room in the channel (the thread drains
    /// it every pass), so the stop is never dropped; `false` when the thread is gone.
    pub fn shutdown(&self) -> bool {
        self.tx.send(Control::Shutdown).is_ok()
    }
}

/// The controller's ends of the analysis thread's channels.
///
/// Thread: UI/status (main).
pub struct AnalysisLink {
    /// Parameter changes and shutdown; drops are counted.
    pub control: ControlSender,
    /// Finished rows.
    pub rows: Receiver<SpectrumRow>,
    /// Return drained row buffers here.
    pub recycle: Sender<Vec<f32>>,
    /// Counters.
    pub stats: Arc<AnalysisStats>,
}

impl AnalysisLink {
    /// Hands a row's buffer back for reuse (never blocks; a full channel frees it).
    pub fn recycle(&self, row: SpectrumRow) {
        let _ = self.recycle.try_send(row.bins);
    }
}

/// The analysis loop's state. `pass` is the unit of work; tests drive it directly.
///
/// Thread: analysis. Allocates: on reconfiguration and while filling the row-buffer
/// pool during warm-up; never in steady state.
pub struct Analysis {
    samples: SampleConsumer,
    marks: MarkConsumer,
    channels: usize,
    channel_select: ChannelSelect,
    sample_rate_hz: u32,
    timebase: Timebase,
    /// One STFT per pane, all fed the same mono signal.
    stfts: Vec<Stft>,
    /// Panes that show a model front-end instead of their STFT (which then only
    /// skips the samples).
    frontends: [Option<FrontendPane>; MAX_PANES],
    /// Panes in use (`stfts[..panes]`; the rest keep their buffers for reuse).
    panes: usize,
    layout: u64,
    generation: Generation,
    control: Receiver<Control>,
    rows: Sender<SpectrumRow>,
    recycle: Receiver<Vec<f32>>,
    pool: Vec<Vec<f32>>,
    buffers_made: usize,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
    /// The newest mark a row has passed: (stream sample index, capture instant).
    current_mark: Option<(u64, Instant)>,
    stats: Arc<AnalysisStats>,
    shutdown: bool,
    history: Option<SharedHistory>,
    swaps: Option<Receiver<InputSwap>>,
    /// A reopened stream waiting for the old ring to drain.
    next_input: Option<InputSwap>,
    clock: StreamClock,
    /// The gap (time without samples) each pane's next row follows, if any.
    pending_gap: [Option<PendingGap>; MAX_PANES],
    /// Panes whose rows are folded into time columns (the window's).
    columns: [Option<PaneColumns>; MAX_PANES],
    /// Stream time at the last change of sample rate.
    time_origin: TimeOrigin,
    /// See [`AnalysisSetup::columns_wait`].
    columns_wait: bool,
    /// See [`AnalysisSetup::backlog_s`].
    backlog_s: f64,
}

/// Where the current ring's frames stand in the stream and in time, for gap detection.
///
/// Thread: analysis.
#[derive(Clone, Copy, Debug, Default)]
struct StreamClock {
    /// Stream sample index of the current ring's frame 0 (gaps and earlier rings
    /// before it).
    base: u64,
    /// Frames popped from the current ring.
    popped: u64,
    /// The newest mark checked for a gap: (ring frame index, capture instant).
    anchor: Option<(u64, Instant)>,
}

/// A jump in capture time this much larger than the frames between two marks is a
/// gap (the input delivered nothing for that long); smaller jumps are timestamp jitter.
pub const GAP_MIN: Duration = Duration::from_millis(100);

/// What one [`Analysis::pass`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassOutcome {
    /// Frames analysed in this pass.
    pub frames: usize,
    /// Whether the thread should stop (shutdown requested or the controller is gone).
    pub stop: bool,
}

impl Analysis {
    /// Builds the state and the controller's link.
    ///
    /// # Panics
    /// If `setup.params` is invalid or `setup.channels` is 0.
    pub fn new(setup: AnalysisSetup) -> (Analysis, AnalysisLink) {
        assert!(setup.channels > 0, "at least one channel");
        assert!(setup.compare.len() < MAX_PANES, "at most {MAX_PANES} panes");
        let (control_tx, control_rx) = crossbeam_channel::bounded(CONTROL_CAPACITY);
        let (row_tx, row_rx) = crossbeam_channel::bounded(ROW_CHANNEL_CAPACITY);
        let (recycle_tx, recycle_rx) = crossbeam_channel::bounded(ROW_BUFFERS);
        let stats = Arc::new(AnalysisStats::default());
        let num_bins = std::iter::once(&setup.params)
            .chain(&setup.compare)
            .map(StftParams::num_bins)
            .max()
            .unwrap_or(0);
        let mut stfts = Vec::with_capacity(MAX_PANES);
        stfts.push(Stft::new(setup.params, setup.scale));
        stfts.extend(setup.compare.iter().map(|p| Stft::new(*p, setup.scale)));
        let pool: Vec<Vec<f32>> = (0..ROW_BUFFERS)
            .map(|_| Vec::with_capacity(num_bins))
            .collect();
        let analysis = Analysis {
            samples: setup.samples,
            marks: setup.marks,
            channels: setup.channels,
            channel_select: setup.channel_select,
            sample_rate_hz: setup.sample_rate_hz,
            timebase: setup.timebase,
            panes: stfts.len(),
            stfts,
            frontends: std::array::from_fn(|_| None),
            layout: 0,
            generation: 0,
            control: control_rx,
            rows: row_tx,
            recycle: recycle_rx,
            buffers_made: pool.len(),
            pool,
            interleaved: vec![0.0; CHUNK_FRAMES * setup.channels],
            mono: vec![0.0; CHUNK_FRAMES],
            current_mark: None,
            stats: Arc::clone(&stats),
            shutdown: false,
            history: setup.history,
            swaps: setup.swaps,
            next_input: None,
            clock: StreamClock::default(),
            pending_gap: [None; MAX_PANES],
            columns: std::array::from_fn(|_| None),
            time_origin: TimeOrigin::default(),
            columns_wait: setup.columns_wait,
            backlog_s: setup.backlog_s,
        };
        let link = AnalysisLink {
            control: ControlSender {
                tx: control_tx,
                stats: Arc::clone(&stats),
            },
            rows: row_rx,
            recycle: recycle_tx,
            stats,
        };
        (analysis, link)
    }

    /// Current parameters of pane 0.
    pub fn params(&self) -> StftParams {
        self.stfts[0].params()
    }

    /// Current parameters of every pane (a front-end pane's geometry in stream samples).
    pub fn pane_params(&self) -> impl Iterator<Item = StftParams> + '_ {
        self.stfts[..self.panes]
            .iter()
            .zip(&self.frontends)
            .map(|(s, f)| f.as_ref().map_or_else(|| s.params(), FrontendPane::params))
    }

    /// The front-end pane `pane` shows, if any.
    pub fn frontend(&self, pane: usize) -> Option<&FrontendPane> {
        self.frontends.get(pane).and_then(Option::as_ref)
    }

    /// The smallest hop of the panes (how often rows come).
    fn min_hop(&self) -> usize {
        self.pane_params().map(|p| p.hop_size).min().unwrap_or(1)
    }

    /// One unit of work: apply pending controls, take back recycled buffers, pop up
    /// to [`CHUNK_FRAMES`] whole frames, analyse them, send the rows.
    ///
    /// Thread: analysis. Allocates: not in steady state.
    pub fn pass(&mut self) -> PassOutcome {
        self.drain_control();
        while let Ok(buf) = self.recycle.try_recv() {
            if self.pool.len() < ROW_BUFFERS {
                self.pool.push(buf);
            }
        }
        if self.shutdown {
            return PassOutcome {
                frames: 0,
                stop: true,
            };
        }
        let ring_frames = self.samples.occupied_len() / self.channels;
        if ring_frames == 0 {
            self.take_input();
        }
        let waiting_for_columns =
            self.columns_wait && self.columns[..self.panes].iter().any(Option::is_none);
        let available = if waiting_for_columns {
            0
        } else {
            ring_frames.min(CHUNK_FRAMES)
        };
        let mut frames = self.frames_within_buffers(available);
        if frames == 0 {
            return PassOutcome {
                frames: 0,
                stop: false,
            };
        }
        if let Some((before, gap_ns)) = self.find_gap(frames) {
            if before == 0 {
                self.mark_gap(gap_ns);
            } else {
                frames = before; // up to the gap now, the gap at the next pass
            }
        }
        let n = frames * self.channels;
        let popped = self.samples.pop_slice(&mut self.interleaved[..n]);
        debug_assert_eq!(popped, n, "only the analysis thread pops");
        self.clock.popped += frames as u64;
        self.downmix(frames);
        if let Some(history) = &self.history {
            // One memcpy under the lock; the re-render thread holds it as briefly.
            if let Ok(mut h) = history.lock() {
                h.push(&self.mono[..frames]);
            }
        }
        self.analyse(frames);
        self.stats.frames_analysed.fetch_add(frames as u64, Relaxed);
        PassOutcome {
            frames,
            stop: self.shutdown,
        }
    }

    /// How many of `available` frames to analyse now: as many as the free row buffers
    /// and the row channel have room for (a pane with hop h makes at most ⌊frames/h⌋ + 1
    /// rows), so that at a small hop a burst of rows waits for the consumer to hand
    /// buffers back instead of being dropped. With no room left and the frames waiting in
    /// the ring at [`max_backlog_frames`] (of `backlog_s`), the consumer is not keeping up: then all of
    /// them, and rows without room are dropped (counted), so that the picture never lags
    /// further because of it. (Analysis slower than the audio drops no row: its lag grows
    /// until the ring drops samples, counted at the ring.)
    fn frames_within_buffers(&self, available: usize) -> usize {
        let free_buffers = self.pool.len() + (ROW_BUFFERS - self.buffers_made);
        let free_rows = free_buffers.min(ROW_CHANNEL_CAPACITY - self.rows.len());
        let rows_per_frame: f64 = self
            .pane_params()
            .zip(&self.columns)
            .map(|(p, c)| match c {
                Some(c) => c.runs_per_frame(p.hop_size),
                None => 1.0 / p.hop_size as f64,
            })
            .sum();
        // Per pane: a row or run straddling the pass, and a gap's run.
        let fixed_rows = 2 * self.panes;
        let fit = if free_rows > fixed_rows && rows_per_frame > 0.0 {
            ((free_rows - fixed_rows) as f64 / rows_per_frame).floor() as usize
        } else {
            0
        };
        if fit > 0 {
            return available.min(fit);
        }
        // No room: the consumer is behind. Wait for it, up to the backlog.
        let waiting = self.samples.occupied_len() / self.channels.max(1);
        if waiting >= max_backlog_frames(self.sample_rate_hz, self.backlog_s) {
            available
        } else {
            0
        }
    }

    /// Switches to a reopened stream's rings once the old ring is drained. The time
    /// between the old stream's last frame and the new one's first is then a gap.
    ///
    /// Allocates: when the new stream has more channels.
    fn take_input(&mut self) {
        if let Some(rx) = &self.swaps {
            if let Ok(swap) = rx.try_recv() {
                self.next_input = Some(swap);
            }
        }
        let Some(swap) = self.next_input.take() else {
            return;
        };
        // The old stream's end on the clock: the instant of the frame after its last.
        let end = self
            .clock
            .anchor
            .map(|(f, t)| t + self.duration_of(self.clock.popped.saturating_sub(f)));
        self.clock = StreamClock {
            base: self.clock.base + self.clock.popped,
            popped: 0,
            // The new ring's frame 0 is "expected" right after the old one's end.
            anchor: end.map(|t| (0, t)),
        };
        if swap.channels > self.channels {
            self.interleaved.resize(CHUNK_FRAMES * swap.channels, 0.0);
        }
        if swap.sample_rate_hz != self.sample_rate_hz {
            // Columns continue in time at the new rate from the old stream's end.
            self.time_origin = self
                .time_origin
                .advanced(self.clock.base, self.sample_rate_hz);
            // The history's samples are at the old rate: none of it can be re-rendered
            // at the new one. The gap to the new stream is counted at the new rate.
            if let Some(history) = &self.history {
                if let Ok(mut h) = history.lock() {
                    h.forget();
                }
            }
        }
        self.samples = swap.samples;
        self.marks = swap.marks;
        self.channels = swap.channels;
        self.sample_rate_hz = swap.sample_rate_hz;
        self.timebase = swap.timebase;
    }

    fn duration_of(&self, frames: u64) -> Duration {
        frames_duration(frames, self.sample_rate_hz)
    }

    /// The first gap among the next `frames` frames: frames before it, and its length.
    /// A gap is a mark whose capture instant is more than [`GAP_MIN`] later than the
    /// previous mark and the frames between them account for.
    fn find_gap(&mut self, frames: usize) -> Option<(usize, Duration)> {
        let end = self.clock.popped + frames as u64;
        let mut found = None;
        for mark in self.marks.iter() {
            if mark.frame_index < self.clock.popped
                || self.clock.anchor.is_some_and(|(f, _)| mark.frame_index < f)
            {
                continue;
            }
            if mark.frame_index >= end {
                break;
            }
            let at = self.timebase.instant(mark.capture_ns);
            if let Some((f, t)) = self.clock.anchor {
                let expected = t + self.duration_of(mark.frame_index - f);
                let late = at.saturating_duration_since(expected);
                if late > GAP_MIN {
                    found = Some((
                        (mark.frame_index - self.clock.popped) as usize,
                        late,
                        (mark.frame_index, at),
                    ));
                    break;
                }
            }
            self.clock.anchor = Some((mark.frame_index, at));
        }
        let (before, late, anchor) = found?;
        if before == 0 {
            // Applied now: the mark after the gap anchors what follows.
            self.clock.anchor = Some(anchor);
        }
        Some((before, late))
    }

    /// Marks a gap of `length` before the next frame: every STFT and the history skip
    /// its samples, and each pane's next row carries it for the display.
    fn mark_gap(&mut self, length: Duration) {
        let samples = (length.as_secs_f64() * f64::from(self.sample_rate_hz)).round() as u64;
        for stft in &mut self.stfts[..self.panes] {
            stft.skip(samples);
        }
        if let Some(history) = &self.history {
            if let Ok(mut h) = history.lock() {
                h.push_gap(samples);
            }
        }
        let end = self.clock.base + self.clock.popped + samples;
        for f in self.frontends[..self.panes].iter_mut().flatten() {
            f.restart(end);
        }
        for g in self.pending_gap.iter_mut().filter(|_| samples > 0) {
            let before = g.map_or(0, |g| g.samples);
            *g = Some(PendingGap {
                samples: before + samples,
                end,
            });
        }
        if crate::audio::quiet::debug_enabled() {
            eprintln!(
                "hopscope: debug: gap of {:.1} ms ({samples} samples) at stream sample {}",
                length.as_secs_f64() * 1e3,
                self.clock.base + self.clock.popped
            );
        }
        self.clock.base += samples;
        self.stats.gaps.fetch_add(1, Relaxed);
        self.stats.gap_samples.fetch_add(samples, Relaxed);
    }

    fn drain_control(&mut self) {
        loop {
            match self.control.try_recv() {
                Ok(Control::SetParams(pane, params)) => {
                    let Some(stft) = self.stfts[..self.panes].get_mut(pane) else {
                        continue;
                    };
                    if params.validate().is_ok() && params != stft.params() {
                        let scale = stft.scale();
                        stft.reconfigure(params, scale);
                        self.bump_generation();
                    }
                }
                Ok(Control::SetPanes {
                    layout,
                    count,
                    params,
                }) => {
                    let count = count.clamp(1, MAX_PANES);
                    if params[..count].iter().any(|p| p.validate().is_err()) {
                        continue;
                    }
                    let scale = self.stfts[0].scale();
                    for (pane, p) in params[..count].iter().enumerate() {
                        if pane < self.panes {
                            // A pane that stays keeps its stream (a change takes effect
                            // at its next row, like SetParams).
                            let stft = &mut self.stfts[pane];
                            if stft.params() != *p {
                                stft.reconfigure(*p, scale);
                            }
                            continue;
                        }
                        // A new pane starts from pane 0's samples, on its own grid, and
                        // (in the window) waits for its columns.
                        self.columns[pane] = None;
                        self.frontends[pane] = None;
                        let fork = self.stfts[0].fork(*p, scale);
                        match self.stfts.get_mut(pane) {
                            Some(slot) => *slot = fork,
                            None => self.stfts.push(fork),
                        }
                    }
                    self.panes = count;
                    self.layout = layout;
                    self.bump_generation();
                }
                Ok(Control::SetFrontend(pane, spec)) => {
                    if pane >= self.panes {
                        continue;
                    }
                    let origin = self.clock.base + self.clock.popped;
                    // A rate rubato refuses leaves the pane on its STFT.
                    self.frontends[pane] =
                        spec.and_then(|s| FrontendPane::new(s, self.sample_rate_hz, origin).ok());
                    self.bump_generation();
                }
                Ok(Control::SetScale(scale)) => {
                    let mut changed = false;
                    for stft in &mut self.stfts[..self.panes] {
                        if scale != stft.scale() {
                            let params = stft.params();
                            stft.reconfigure(params, scale);
                            changed = true;
                        }
                    }
                    if changed {
                        self.bump_generation();
                    }
                }
                Ok(Control::SetColumns {
                    pane,
                    grid_id,
                    spec,
                }) => {
                    if let (Some(slot), Some(stft)) = (
                        self.columns.get_mut(pane),
                        self.stfts[..self.panes].get(pane),
                    ) {
                        *slot = Some(PaneColumns::new(
                            grid_id,
                            spec,
                            &stft.params(),
                            self.sample_rate_hz,
                            &self.time_origin,
                        ));
                    }
                }
                Ok(Control::Shutdown) | Err(TryRecvError::Disconnected) => {
                    self.shutdown = true;
                    return;
                }
                Err(TryRecvError::Empty) => return,
            }
        }
    }

    fn bump_generation(&mut self) {
        self.generation += 1;
        self.stats.generation.store(self.generation, Relaxed);
    }

    fn downmix(&mut self, frames: usize) {
        let ch = self.channels;
        let mut nonfinite = 0u64;
        for v in &mut self.interleaved[..frames * ch] {
            if !v.is_finite() {
                *v = 0.0;
                nonfinite += 1;
            }
        }
        if nonfinite > 0 {
            self.stats.nonfinite_samples.fetch_add(nonfinite, Relaxed);
        }
        downmix_into(
            &self.interleaved[..frames * ch],
            ch,
            self.channel_select,
            &mut self.mono[..frames],
        );
    }

    fn analyse(&mut self, frames: usize) {
        let Analysis {
            stfts,
            frontends,
            panes,
            layout,
            mono,
            marks,
            current_mark,
            timebase,
            sample_rate_hz,
            generation,
            rows,
            pool,
            buffers_made,
            stats,
            shutdown,
            clock,
            pending_gap,
            columns,
            time_origin,
            ..
        } = self;
        let mut sink = RowSink {
            outbox: Outbox {
                rows,
                pool,
                buffers_made,
                stats,
                shutdown,
            },
            marks,
            current_mark,
            timebase,
            clock_base: clock.base,
            sample_rate_hz: *sample_rate_hz,
            layout: *layout,
            generation: *generation,
            time_origin,
            started: Instant::now(),
        };
        for (pane, stft) in stfts[..*panes].iter_mut().enumerate() {
            let scale = stft.scale();
            sink.started = Instant::now();
            let fold = &mut columns[pane];
            let gap = &mut pending_gap[pane];
            if let Some(fe) = frontends[pane].as_mut() {
                stft.skip(frames as u64);
                if fe.stream_rate_hz() != *sample_rate_hz {
                    // A reopened device at another rate: the front-end starts over on it.
                    let origin = clock.base + clock.popped - frames as u64;
                    match FrontendPane::new(&fe.spec().clone(), *sample_rate_hz, origin) {
                        Ok(new) => *fe = new,
                        Err(_) => continue,
                    }
                }
                fe.push(&mono[..frames], |r| {
                    let row = PaneRow {
                        pane,
                        params: r.params,
                        scale,
                        first_sample: r.first_sample,
                        end_sample: r.end_sample,
                        values: r.values,
                    };
                    sink.deliver(row, gap, fold.as_mut());
                });
                continue;
            }
            stft.push(&mono[..frames], |info, bins| {
                let row = PaneRow {
                    pane,
                    params: info.params,
                    scale,
                    first_sample: info.first_sample,
                    end_sample: info.first_sample + info.params.win_length as u64,
                    values: bins,
                };
                sink.deliver(row, gap, fold.as_mut());
            });
        }
    }
}

/// One pane's row for [`RowSink::deliver`].
struct PaneRow<'a> {
    pane: usize,
    params: StftParams,
    scale: ValueScale,
    first_sample: u64,
    /// Stream index just past its last sample.
    end_sample: u64,
    values: &'a [f32],
}

/// Where rows go: stamped with their capture time (from the marks), folded into time
/// columns or sent one by one, counted.
///
/// Thread: analysis. Allocates: no (see [`Outbox`]).
struct RowSink<'a> {
    outbox: Outbox<'a>,
    marks: &'a mut MarkConsumer,
    current_mark: &'a mut Option<(u64, Instant)>,
    timebase: &'a Timebase,
    clock_base: u64,
    sample_rate_hz: u32,
    layout: u64,
    generation: Generation,
    time_origin: &'a TimeOrigin,
    /// When the pane's previous row was finished (the row time's start).
    started: Instant,
}

impl RowSink<'_> {
    fn deliver(
        &mut self,
        row: PaneRow<'_>,
        pending_gap: &mut Option<PendingGap>,
        fold: Option<&mut PaneColumns>,
    ) {
        let rate = self.sample_rate_hz;
        let ns_of = |frames: u64| frames_duration(frames, rate);
        let last_sample = row.end_sample.saturating_sub(1);
        while let Some(next) = self.marks.try_peek() {
            let at = self.clock_base + next.frame_index;
            if at > last_sample {
                break;
            }
            *self.current_mark = Some((at, self.timebase.instant(next.capture_ns)));
            self.marks.try_pop();
        }
        let finished_at = Instant::now();
        // An earlier pane may have taken marks past this row's end: its time is then
        // counted back from the mark.
        let captured_at = match *self.current_mark {
            Some((at, t)) if last_sample >= at => t + ns_of(last_sample - at),
            Some((at, t)) => t.checked_sub(ns_of(at - last_sample)).unwrap_or(t),
            None => finished_at,
        };
        let row_ns = finished_at.duration_since(self.started).as_nanos() as u64;
        self.started = finished_at;
        let stats = self.outbox.stats;
        stats.rows_produced.fetch_add(1, Relaxed);
        stats.row_time_ns_total.fetch_add(row_ns, Relaxed);
        stats.row_time_ns_max.fetch_max(row_ns, Relaxed);
        let gap = pending_gap.take();
        let stamp = Stamp {
            pane: row.pane,
            layout: self.layout,
            generation: self.generation,
            params: row.params,
            scale: row.scale,
            sample_rate_hz: rate,
            first_sample: row.first_sample,
            gap_before: gap.map_or(0, |g| g.samples),
            captured_at,
            finished_at,
        };
        let Some(fold) = fold else {
            self.outbox.send(&stamp, row.values, None);
            return;
        };
        stats.rows_folded.fetch_add(1, Relaxed);
        let grid_id = fold.grid_id;
        let folded = FoldRow {
            bins: row.values,
            params: &row.params,
            sample_rate_hz: rate,
            end_sample: row.end_sample,
            gap_end: gap.map(|g| g.end),
        };
        let outbox = &mut self.outbox;
        fold.push(folded, self.time_origin, |run, params, grid| {
            let stamp = Stamp {
                params: *params,
                gap_before: 0,
                ..stamp
            };
            outbox.send_run(&stamp, &run, (grid_id, grid));
        });
    }
}

/// A gap in the input a pane's next row follows (several gaps between two rows add up).
#[derive(Clone, Copy, Debug)]
struct PendingGap {
    /// Its samples.
    samples: u64,
    /// The stream sample index where the newest one ended.
    end: u64,
}

/// What every message of a row carries but its values.
#[derive(Clone, Copy)]
struct Stamp {
    pane: usize,
    layout: u64,
    generation: Generation,
    params: StftParams,
    scale: ValueScale,
    sample_rate_hz: u32,
    first_sample: u64,
    gap_before: u64,
    captured_at: Instant,
    finished_at: Instant,
}

/// The analysis loop's sending end: row buffers from the pool, drops counted.
///
/// Thread: analysis. Allocates: only while the pool is being filled (warm-up).
struct Outbox<'a> {
    rows: &'a Sender<SpectrumRow>,
    pool: &'a mut Vec<Vec<f32>>,
    buffers_made: &'a mut usize,
    stats: &'a AnalysisStats,
    shutdown: &'a mut bool,
}

impl Outbox<'_> {
    /// Sends `values` stamped `stamp`; `false` when it was dropped (no free buffer or a
    /// full channel) or the controller is gone.
    fn send(&mut self, stamp: &Stamp, values: &[f32], columns: Option<ColumnRun>) -> bool {
        let dropped = u64::from(columns.map_or(1, |c| c.rows));
        let mut buf = match self.pool.pop() {
            Some(buf) => buf,
            None if *self.buffers_made < ROW_BUFFERS => {
                *self.buffers_made += 1;
                Vec::with_capacity(values.len())
            }
            None => {
                self.stats.rows_dropped.fetch_add(dropped, Relaxed);
                return false;
            }
        };
        buf.clear();
        buf.extend_from_slice(values);
        let row = SpectrumRow {
            pane: stamp.pane,
            layout: stamp.layout,
            generation: stamp.generation,
            params: stamp.params,
            scale: stamp.scale,
            sample_rate_hz: stamp.sample_rate_hz,
            first_sample: stamp.first_sample,
            gap_before: stamp.gap_before,
            captured_at: stamp.captured_at,
            finished_at: stamp.finished_at,
            bins: buf,
            columns,
        };
        match self.rows.try_send(row) {
            Ok(()) => true,
            Err(TrySendError::Full(row)) => {
                self.stats.rows_dropped.fetch_add(dropped, Relaxed);
                self.pool.push(row.bins);
                false
            }
            Err(TrySendError::Disconnected(row)) => {
                self.pool.push(row.bins);
                *self.shutdown = true;
                false
            }
        }
    }

    /// Sends a run of time columns made on `grid` (the controller's `grid_id`).
    fn send_run(&mut self, stamp: &Stamp, run: &Run<'_>, (grid_id, grid): (u64, &TimeGrid)) {
        let columns = ColumnRun {
            grid_id,
            grid: *grid,
            first: run.first,
            last: run.last,
            rows: run.rows,
            first_row_end: run.first_row_end,
        };
        if self.send(stamp, run.values.unwrap_or(&[]), Some(columns)) {
            self.stats.runs_sent.fetch_add(1, Relaxed);
        }
    }
}

/// How long the window lets audio wait for it to catch up before rows are dropped
/// rather than shown late (the picture never lags more for it).
pub const WINDOW_BACKLOG_S: f64 = 0.1;
/// The same for `--headless`, whose status lines do not go stale with a late row: a busy
/// machine's hiccup of the status loop costs no row (still well inside the ring's 5.4 s).
pub const HEADLESS_BACKLOG_S: f64 = 2.0;

/// Most frames analysis leaves waiting in the ring for the row consumer to catch up
/// (`backlog_s`, at least one pass): beyond it rows are dropped rather than shown late.
pub fn max_backlog_frames(sample_rate_hz: u32, backlog_s: f64) -> usize {
    ((f64::from(sample_rate_hz) * backlog_s) as usize).max(CHUNK_FRAMES)
}

/// How long `frames` last at `sample_rate_hz` (to the ns, rounded down).
fn frames_duration(frames: u64, sample_rate_hz: u32) -> Duration {
    Duration::from_nanos((frames as u128 * 1_000_000_000 / sample_rate_hz.max(1) as u128) as u64)
}

/// Spawns the analysis thread (`"stft"`).
///
/// It sleeps about ¼ hop when the ring is empty and stops on `Control::Shutdown`
/// or when the controller drops its link.
///
/// # Errors
/// If the OS cannot spawn a thread.
pub fn spawn(setup: AnalysisSetup) -> crate::error::Result<(JoinHandle<()>, AnalysisLink)> {
    let (mut analysis, link) = Analysis::new(setup);
    let handle = std::thread::Builder::new()
        .name("stft".into())
        .spawn(move || loop {
            let outcome = analysis.pass();
            if outcome.stop {
                return;
            }
            if outcome.frames == 0 {
                let hop = analysis.min_hop() as u64;
                let quarter_hop_us = hop * 250_000 / analysis.sample_rate_hz.max(1) as u64;
                std::thread::sleep(Duration::from_micros(quarter_hop_us.clamp(200, 20_000)));
            }
        })
        .map_err(|source| crate::error::Error::SpawnThread {
            thread: "stft",
            source,
        })?;
    Ok((handle, link))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::ring;
    use crate::dsp::window::WindowKind;

    fn analysis() -> (Analysis, AnalysisLink) {
        let (_producer, samples) = ring::sample_ring(8000, 1);
        let (_mark_producer, marks) = ring::mark_ring();
        Analysis::new(AnalysisSetup {
            samples,
            marks,
            channels: 1,
            channel_select: ChannelSelect::Mix,
            sample_rate_hz: 8000,
            timebase: Timebase {
                origin: Instant::now(),
            },
            params: StftParams {
                fft_size: 256,
                win_length: 256,
                hop_size: 64,
                window: WindowKind::Hann,
            },
            compare: Vec::new(),
            scale: ValueScale::Db,
            history: None,
            swaps: None,
            columns_wait: false,
            backlog_s: WINDOW_BACKLOG_S,
        })
    }

    #[test]
    fn every_control_that_does_not_fit_or_finds_no_thread_is_counted() {
        let (mut analysis, link) = analysis();
        let first = analysis.params();
        let set = |hop_size| Control::SetParams(0, StftParams { hop_size, ..first });
        let msgs: Vec<Control> = (1..=CONTROL_CAPACITY + 3).map(set).collect();
        let sent = msgs.into_iter().filter(|&m| link.control.send(m)).count();
        assert_eq!(sent, CONTROL_CAPACITY);
        assert_eq!(link.stats.snapshot().controls_dropped, 3);
        // The thread drains them all; the newest that fitted wins.
        assert!(!analysis.pass().stop);
        assert_eq!(analysis.params().hop_size, CONTROL_CAPACITY);
        assert!(link.control.send(set(32)));
        assert_eq!(link.stats.snapshot().controls_dropped, 3);
        drop(analysis);
        assert!(!link.control.send(set(16)), "no thread: dropped");
        assert!(!link.control.shutdown());
        assert_eq!(link.stats.snapshot().controls_dropped, 4);
    }
}
