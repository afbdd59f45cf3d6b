//! The STFT engine shared by live analysis and offline `analyze`.
//!
//! [`FrameTransform`] turns one frame of `win_length` samples into one row
//! (window → zero-padded FFT → scale). [`Stft`] slides it over a stream: frame `m`
//! covers samples `[m·hop, m·hop + win_length)` (causal frames, librosa
//! `center=False` when `win_length == n_fft`), one row per `hop` samples.
//!
//! A window shorter than `n_fft` sits centred in the FFT buffer at
//! `left = (n_fft − win_length)/2` with zeros around it, as librosa and torch do; the
//! magnitudes equal theirs, the frame's samples are the causal `[m·hop, m·hop+win_length)`.

use realfft::num_complex::Complex;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use realfft::{RealFftPlanner, RealToComplex};

use super::scale::{num_bins, Calibration, ValueScale};
use super::window::{WindowKind, WindowSums};

/// Smallest accepted FFT size.
pub const MIN_FFT_SIZE: usize = 16;
/// Largest accepted FFT size.
pub const MAX_FFT_SIZE: usize = 65536;
/// Samples of history the streaming engine keeps: enough for a hop of the old
/// parameters plus a window of the new ones after any parameter change.
pub const HISTORY_LEN: usize = 2 * MAX_FFT_SIZE;

/// STFT parameters, validated by [`StftParams::validate`].
///
/// Thread: any (plain `Copy` data; travels in `Control` and `SpectrumRow`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StftParams {
    /// FFT length `n_fft` (any length in `MIN_FFT_SIZE..=MAX_FFT_SIZE`).
    pub fft_size: usize,
    /// Window length `win_length ≤ n_fft`.
    pub win_length: usize,
    /// Hop `1 ≤ hop ≤ win_length`, in samples.
    pub hop_size: usize,
    /// Window shape.
    pub window: WindowKind,
}

impl StftParams {
    /// Checks every bound; the message names the parameter and the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_FFT_SIZE..=MAX_FFT_SIZE).contains(&self.fft_size) {
            return Err(format!(
                "n_fft {} is out of range: expected {MIN_FFT_SIZE}..={MAX_FFT_SIZE}",
                self.fft_size
            ));
        }
        if self.win_length == 0 || self.win_length > self.fft_size {
            return Err(format!(
                "win_length {} is out of range: expected 1..=n_fft ({})",
                self.win_length, self.fft_size
            ));
        }
        if self.hop_size == 0 || self.hop_size > self.win_length {
            return Err(format!(
                "hop {} is out of range: expected 1..=win_length ({})",
                self.hop_size, self.win_length
            ));
        }
        Ok(())
    }

    /// Number of one-sided bins, `n_fft/2 + 1`.
    pub fn num_bins(&self) -> usize {
        num_bins(self.fft_size)
    }

    /// Offset of the window inside the FFT buffer, `(n_fft − win_length)/2`.
    pub fn window_offset(&self) -> usize {
        (self.fft_size - self.win_length) / 2
    }

    /// Rows produced by `n` samples: `floor((n − win_length)/hop) + 1`, or 0.
    pub fn rows_for(&self, n: u64) -> u64 {
        if n < self.win_length as u64 {
            0
        } else {
            (n - self.win_length as u64) / self.hop_size as u64 + 1
        }
    }
}

/// Window → FFT → scale for one frame. Built once per parameter set; a clone shares the
/// FFT plan and has buffers of its own (one per offline worker, without re-planning).
///
/// Thread: the thread that owns it (analysis, or one offline worker). Allocates: only in
/// `new` and `clone`.
#[derive(Clone)]
pub struct FrameTransform {
    params: StftParams,
    scale: ValueScale,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    sums: WindowSums,
    calibration: Calibration,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

/// The forward real FFT of `fft_size`, planned once per process: every transform of
/// that size, on any thread (analysis, re-render, offline workers), shares the plan and
/// its twiddles. The lock is taken only when a transform is built (never per frame).
///
/// Thread: any. Allocates: the first time a size is planned.
pub fn forward_plan(fft_size: usize) -> Arc<dyn RealToComplex<f32>> {
    static PLANNER: OnceLock<Mutex<RealFftPlanner<f32>>> = OnceLock::new();
    PLANNER
        .get_or_init(|| Mutex::new(RealFftPlanner::new()))
        .lock()
        // A panic while planning leaves the planner's cache as it was.
        .unwrap_or_else(PoisonError::into_inner)
        .plan_fft_forward(fft_size)
}

impl FrameTransform {
    /// Plans the FFT (once per size and process: [`forward_plan`]) and allocates every
    /// buffer.
    ///
    /// # Panics
    /// If `params` is invalid (callers validate first).
    pub fn new(params: StftParams, scale: ValueScale) -> Self {
        if let Err(e) = params.validate() {
            panic!("FrameTransform::new with invalid parameters: {e}");
        }
        let fft = forward_plan(params.fft_size);
        let mut window = vec![0.0; params.win_length];
        params.window.fill_in_place(&mut window);
        let sums = WindowSums::of(params.window, params.win_length);
        FrameTransform {
            params,
            scale,
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            calibration: Calibration::new(sums.s1, params.fft_size),
            sums,
            window,
            fft,
        }
    }

    /// The parameters this transform was built for.
    pub fn params(&self) -> StftParams {
        self.params
    }

    /// The output scale.
    pub fn scale(&self) -> ValueScale {
        self.scale
    }

    /// `S1`, `S2` of the window.
    pub fn sums(&self) -> WindowSums {
        self.sums
    }

    /// One row from one frame: `frame.len() == win_length`, `out.len() == num_bins`.
    ///
    /// Thread: owner. Allocates: no.
    ///
    /// # Panics
    /// On wrong slice lengths (a caller bug).
    pub fn process(&mut self, frame: &[f32], out: &mut [f32]) {
        let win = self.params.win_length;
        assert_eq!(frame.len(), win, "frame length must equal win_length");
        assert_eq!(
            out.len(),
            self.spectrum.len(),
            "row length must equal num_bins"
        );
        let left = self.params.window_offset();
        // The FFT destroys its input: rebuild the whole buffer every frame.
        self.input[..left].fill(0.0);
        self.input[left + win..].fill(0.0);
        for ((dst, &x), &w) in self.input[left..left + win]
            .iter_mut()
            .zip(frame)
            .zip(&self.window)
        {
            *dst = x * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers come from make_*_vec of this plan, so lengths always match");
        match self.scale {
            ValueScale::Power => {
                for (o, c) in out.iter_mut().zip(&self.spectrum) {
                    *o = c.re * c.re + c.im * c.im;
                }
            }
            ValueScale::Magnitude => {
                for (o, c) in out.iter_mut().zip(&self.spectrum) {
                    *o = (c.re * c.re + c.im * c.im).sqrt();
                }
            }
            ValueScale::Db => {
                for (o, c) in out.iter_mut().zip(&self.spectrum) {
                    *o = c.re * c.re + c.im * c.im;
                }
                self.calibration.power_to_dbfs_in_place(out);
            }
        }
    }
}

/// Information about one finished row, passed to [`Stft::push`]'s callback.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowInfo {
    /// Stream index of the row's first sample (`m·hop` without parameter changes).
    pub first_sample: u64,
    /// Parameters the row was computed with.
    pub params: StftParams,
}

/// The first row end on the grid `win + k·hop` whose window starts at or after `floor`.
fn grid_end_from(floor: u64, win: u64, hop: u64) -> u64 {
    win + floor.div_ceil(hop) * hop
}

/// Sliding STFT over a stream of mono samples.
///
/// Keeps the last [`HISTORY_LEN`] samples, so a parameter change takes effect at the
/// next row and a larger window fills from history.
///
/// Thread: analysis. Allocates: in `new` and `reconfigure` only.
pub struct Stft {
    transform: FrameTransform,
    /// Every sample is written twice, at `i % HISTORY_LEN` and `+ HISTORY_LEN`, so any
    /// window is one contiguous slice.
    history: Vec<f32>,
    total: u64,
    /// The first sample a row may use (samples before it are across a gap).
    floor: u64,
    next_end: u64,
    last_end: Option<u64>,
    row: Vec<f32>,
}

impl Stft {
    /// A new engine; the first row ends at sample `win_length`.
    ///
    /// # Panics
    /// If `params` is invalid (callers validate first).
    pub fn new(params: StftParams, scale: ValueScale) -> Self {
        let transform = FrameTransform::new(params, scale);
        Stft {
            transform,
            history: vec![0.0; 2 * HISTORY_LEN],
            total: 0,
            floor: 0,
            next_end: params.win_length as u64,
            last_end: None,
            row: vec![0.0; params.num_bins()],
        }
    }

    /// A second engine on the same stream with `params`: it takes this one's sample
    /// history and position, and its rows fall on the grid a fresh engine started at
    /// sample 0 would use (ends at `win_length + k·hop`); the first one is the newest
    /// the history already holds, so it comes with the next push.
    ///
    /// Thread: analysis. Allocates: yes (plan and buffers).
    ///
    /// # Panics
    /// If `params` is invalid (callers validate first).
    pub fn fork(&self, params: StftParams, scale: ValueScale) -> Stft {
        let transform = FrameTransform::new(params, scale);
        let (win, hop) = (params.win_length as u64, params.hop_size as u64);
        let next_end = if self.total >= win {
            self.total - (self.total - win) % hop
        } else {
            win
        }
        .max(grid_end_from(self.floor, win, hop));
        Stft {
            transform,
            history: self.history.clone(),
            total: self.total,
            floor: self.floor,
            next_end,
            last_end: None,
            row: vec![0.0; params.num_bins()],
        }
    }

    /// Current parameters.
    pub fn params(&self) -> StftParams {
        self.transform.params()
    }

    /// Current scale.
    pub fn scale(&self) -> ValueScale {
        self.transform.scale()
    }

    /// Samples pushed so far.
    pub fn samples_pushed(&self) -> u64 {
        self.total
    }

    /// New parameters from the next row on; history is kept.
    ///
    /// The next row ends one new hop after the last row (or at `win_length` before
    /// the first row). Thread: analysis. Allocates: yes (new plan and buffers).
    pub fn reconfigure(&mut self, params: StftParams, scale: ValueScale) {
        self.transform = FrameTransform::new(params, scale);
        self.row.resize(params.num_bins(), 0.0);
        let win = params.win_length as u64;
        self.next_end = match self.last_end {
            Some(end) => (end + params.hop_size as u64).max(win),
            None => grid_end_from(self.floor, win, params.hop_size as u64),
        };
    }

    /// Skips `n` samples that never arrived (a gap in the input): the position
    /// advances by `n`, no row spans the gap, and the next row is the first on the
    /// grid (`win_length + k·hop`) whose window lies wholly after it.
    ///
    /// Thread: analysis. Allocates: no.
    pub fn skip(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        self.floor = self.total;
        self.last_end = None;
        let p = self.transform.params();
        self.next_end = grid_end_from(self.floor, p.win_length as u64, p.hop_size as u64);
    }

    /// Appends samples; calls `on_row` for every row they complete, in order.
    ///
    /// Thread: analysis. Allocates: no.
    pub fn push(&mut self, mut samples: &[f32], mut on_row: impl FnMut(RowInfo, &[f32])) {
        loop {
            while self.total >= self.next_end {
                self.emit(&mut on_row);
            }
            if samples.is_empty() {
                return;
            }
            let take = ((self.next_end - self.total) as usize).min(samples.len());
            self.write_history(&samples[..take]);
            samples = &samples[take..];
        }
    }

    fn write_history(&mut self, mut data: &[f32]) {
        while !data.is_empty() {
            let pos = (self.total % HISTORY_LEN as u64) as usize;
            let n = data.len().min(HISTORY_LEN - pos);
            self.history[pos..pos + n].copy_from_slice(&data[..n]);
            self.history[HISTORY_LEN + pos..HISTORY_LEN + pos + n].copy_from_slice(&data[..n]);
            self.total += n as u64;
            data = &data[n..];
        }
    }

    fn emit(&mut self, on_row: &mut impl FnMut(RowInfo, &[f32])) {
        let params = self.transform.params();
        let end = self.next_end;
        let first = end - params.win_length as u64;
        debug_assert!(self.total - first <= HISTORY_LEN as u64);
        let pos = (first % HISTORY_LEN as u64) as usize;
        let frame = &self.history[pos..pos + params.win_length];
        self.transform.process(frame, &mut self.row);
        on_row(
            RowInfo {
                first_sample: first,
                params,
            },
            &self.row,
        );
        self.last_end = Some(end);
        self.next_end = end + params.hop_size as u64;
    }
}
