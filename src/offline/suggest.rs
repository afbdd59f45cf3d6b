//! `hopscope suggest`: rank STFT sizes (and windows) by the Rényi entropy of the
//! spectrogram (../shared/DSP.md §5).
//!
//! For each candidate the whole file (mono downmix, or one `--channel`) goes through
//! the live engine's [`FrameTransform`] in [`ValueScale::Power`]: frames
//! `[m·hop, m·hop + n_fft)` (no centring), one-sided bins, `win_length = n_fft`. The
//! measure is the order-3 Rényi entropy of the normalised power spectrogram
//! `p = P/ΣP`, in bits:
//!
//! ```text
//! R3 = (1/(1−3))·log2 Σ p³ = −½·log2(ΣP³ / (ΣP)³)
//! ```
//!
//! so only `ΣP` and `ΣP³` are accumulated (f64), never a whole spectrogram. Lower is
//! more concentrated.
//!
//! **Grid.** R3 depends on the sampling grid as well as on the window: a finer grid
//! spreads the same energy over more cells. With `hop = n_fft·ratio` (the default),
//! the cell area `Δt·Δf = (hop/sr)·(sr/n_fft) = ratio` is the same for every candidate
//! and raw R3 compares. With one fixed hop for all candidates, the ranking uses
//! `R3 + log2((hop/sr)·(sr/n_fft)) = R3 + log2(hop/n_fft)` (DSP.md §5 "Grid pitfall").
//!
//! **Time span.** Every candidate's frames cover the whole file, so a longer window
//! sees the file's first and last samples through fewer, tapered frames. DSP.md §5's
//! table instead keeps, for every size, only the frames whose centres lie in
//! `[4096, L − 4096)`; on its chirps that gives 0.14–0.40 bits less than the whole
//! file for the sizes below 8192 (the same for 8192), with the same ranking.
//! [`spectrogram_sums_rows`] computes either.
//!
//! Candidates are independent: each is cut into spans of [`SPAN_SAMPLES`] frame starts
//! and the pieces run on rayon's pool; the partial sums are added in span order, so
//! the result does not depend on the thread count or on scheduling, nor on whether the
//! file is held in memory ([`score`]) or streamed through ([`suggest`]: memory bounded
//! by two spans whatever the file's length).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::SuggestConfig;
use crate::dsp::entropy::{Grid, Renyi3};
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{FrameTransform, StftParams};
use crate::dsp::window::WindowKind;
use crate::error::{Error, Result};
use crate::io::interrupt;
use crate::offline::source::MonoSource;

/// Smallest candidate `n_fft` by default.
pub const DEFAULT_MIN_N_FFT: usize = 256;
/// Largest candidate `n_fft` by default.
pub const DEFAULT_MAX_N_FFT: usize = 16384;
/// Default `hop / n_fft`.
pub const DEFAULT_HOP_RATIO: f64 = 0.25;

/// Every (window, n_fft) candidate: powers of two from `min_fft_size` to
/// `max_fft_size` no longer than `signal_len`, `win_length = n_fft`, ordered by
/// n_fft, then by the order of `windows`.
pub fn candidates(
    windows: &[WindowKind],
    grid: Grid,
    min_fft_size: usize,
    max_fft_size: usize,
    signal_len: usize,
) -> Vec<StftParams> {
    let mut out = Vec::new();
    let mut n = min_fft_size.max(1);
    while n <= max_fft_size && n <= signal_len {
        for &window in windows {
            out.push(StftParams {
                fft_size: n,
                win_length: n,
                hop_size: grid.hop_for(n),
                window,
            });
        }
        n *= 2;
    }
    out
}

/// The ΣP and ΣP³ of the power spectrogram of `signal` (frames `[m·hop, m·hop + n_fft)`,
/// no centring), computed on the calling thread.
///
/// # Panics
/// If `params` is invalid.
pub fn spectrogram_sums(signal: &[f32], params: StftParams) -> Renyi3 {
    let rows = params.rows_for(signal.len() as u64) as usize;
    spectrogram_sums_rows(signal, params, 0..rows)
}

/// The ΣP and ΣP³ of rows `rows` only (row `m` is the frame `[m·hop, m·hop + n_fft)`),
/// computed on the calling thread. DSP.md §5's table keeps the rows whose centres
/// `m·hop + n_fft/2` lie in `[4096, L − 4096)`, the same time span for every size.
///
/// # Panics
/// If `params` is invalid or a row runs past the end of `signal`.
pub fn spectrogram_sums_rows(
    signal: &[f32],
    params: StftParams,
    rows: std::ops::Range<usize>,
) -> Renyi3 {
    let mut tf = FrameTransform::new(params, ValueScale::Power);
    let mut row = vec![0.0f32; params.num_bins()];
    let mut acc = Renyi3::default();
    rows_into(signal, 0, rows, &mut tf, &mut row, &mut acc);
    acc
}

/// Raw R3 (bits) of the power spectrogram of `signal` with `params`; `None` for a
/// silent signal or one shorter than a window.
pub fn entropy_bits(signal: &[f32], params: StftParams) -> Option<f64> {
    spectrogram_sums(signal, params).bits()
}

/// Adds rows `rows` (absolute) of a signal whose samples from `base` on are `signal`.
fn rows_into(
    signal: &[f32],
    base: usize,
    rows: std::ops::Range<usize>,
    tf: &mut FrameTransform,
    row: &mut [f32],
    acc: &mut Renyi3,
) {
    let p = tf.params();
    for m in rows {
        let start = m * p.hop_size - base;
        tf.process(&signal[start..start + p.win_length], row);
        acc.add_row(row);
    }
}

/// One ranked candidate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// The candidate.
    pub params: StftParams,
    /// Raw R3 of its power spectrogram, bits (`NaN` if undefined).
    pub raw_bits: f64,
    /// What the ranking uses: raw R3 plus the grid correction, bits.
    pub bits: f64,
    /// 1 = lowest `bits`; ties go to the smaller n_fft (shorter latency).
    pub rank: usize,
}

/// Scores every candidate and ranks them; the result keeps the order of `candidates`.
/// With `threads` 1 (or 0) everything runs on the calling thread, else on rayon's global
/// pool; the scores are the same bit for bit either way.
///
/// Each candidate is cut into [`CHUNKS_PER_CANDIDATE`] row ranges (jobs), the costliest
/// jobs queued first so the cores finish together; every job's partial sums are kept
/// in its own slot and added per candidate in job order, never in completion order.
///
/// Thread: caller, or caller (waits) plus the pool.
///
/// # Panics
/// If a candidate is invalid or longer than `signal`.
pub fn score(signal: &[f32], candidates: &[StftParams], grid: Grid, threads: usize) -> Vec<Score> {
    let jobs = jobs_of(signal.len(), candidates);
    let cost = |&(c, ref r): &(usize, std::ops::Range<usize>)| {
        let n = candidates[c].fft_size as f64;
        r.len() as f64 * n * n.log2()
    };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| cost(&jobs[b]).total_cmp(&cost(&jobs[a])));

    // One planned transform per candidate; a job works on a clone of its candidate's.
    let planned: Vec<FrameTransform> = candidates
        .iter()
        .map(|&p| FrameTransform::new(p, ValueScale::Power))
        .collect();
    let run = |state: &mut JobState, j: usize| {
        let (c, ref rows) = jobs[j];
        let tf = match &mut state.current {
            Some((held, tf)) if *held == c => tf,
            slot => &mut slot.insert((c, planned[c].clone())).1,
        };
        state.row.resize(candidates[c].num_bins(), 0.0);
        let mut acc = Renyi3::default();
        rows_into(signal, 0, rows.clone(), tf, &mut state.row, &mut acc);
        acc
    };
    // In `order`'s order: `done[i]` holds job `order[i]`'s sums.
    let done: Vec<Renyi3> = if threads <= 1 {
        let mut state = JobState::default();
        order.iter().map(|&j| run(&mut state, j)).collect()
    } else {
        order
            .par_iter()
            .with_max_len(1)
            .map_init(JobState::default, |state, &j| run(state, j))
            .collect()
    };
    let mut partial = vec![Renyi3::default(); jobs.len()];
    for (&j, acc) in order.iter().zip(done) {
        partial[j] = acc;
    }
    let mut totals = vec![Renyi3::default(); candidates.len()];
    // Job order, not completion order: the same sums in the same order every run.
    for ((c, _), acc) in jobs.iter().zip(&partial) {
        totals[*c].merge(*acc);
    }
    scores_of(candidates, &totals, grid)
}

/// The ranked scores of `candidates` from their sums.
fn scores_of(candidates: &[StftParams], totals: &[Renyi3], grid: Grid) -> Vec<Score> {
    let scores = candidates
        .iter()
        .zip(totals)
        .map(|(p, t)| {
            let raw = t.bits().unwrap_or(f64::NAN);
            Score {
                params: *p,
                raw_bits: raw,
                bits: raw + grid.correction_bits(p),
                rank: 0,
            }
        })
        .collect();
    ranked(scores)
}

/// A task's transform (of the candidate it last worked on) and row buffer.
#[derive(Default)]
struct JobState {
    current: Option<(usize, FrameTransform)>,
    row: Vec<f32>,
}

/// The jobs of [`score`]: (candidate, row range), one per [`SPAN_SAMPLES`] span of
/// frame starts ([`span_rows`]), in candidate order then span order.
///
/// # Panics
/// If a candidate is longer than the signal.
fn jobs_of(signal_len: usize, candidates: &[StftParams]) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut jobs = Vec::new();
    for (c, p) in candidates.iter().enumerate() {
        let rows = p.rows_for(signal_len as u64) as usize;
        assert!(
            rows > 0,
            "candidate n_fft {} is longer than the signal",
            p.fft_size
        );
        for k in 0..signal_len.div_ceil(SPAN_SAMPLES) {
            let r = span_rows(p, k, rows);
            if !r.is_empty() {
                jobs.push((c, r));
            }
        }
    }
    jobs
}

/// Frame starts per span: every candidate's ΣP and ΣP³ are summed span by span (rows
/// whose first sample lies in span k, from 0 each time) and the spans' sums added in
/// order, in memory ([`score`]) and streaming ([`suggest`]) alike, so both give the same
/// bits. 2^20 samples: 22 s at 48 kHz.
pub const SPAN_SAMPLES: usize = 1 << 20;

/// The rows of `params` whose frames start in span `k` (`m·hop ∈ [k·S, (k+1)·S)`), at
/// most `rows` in all.
pub fn span_rows(params: &StftParams, k: usize, rows: usize) -> std::ops::Range<usize> {
    let hop = params.hop_size;
    let lo = (k * SPAN_SAMPLES).div_ceil(hop).min(rows);
    let hi = ((k + 1) * SPAN_SAMPLES).div_ceil(hop).min(rows);
    lo..hi
}

/// `scores` with their ranks set: 1 = lowest `bits`, ties to the smaller n_fft, NaN last.
fn ranked(mut scores: Vec<Score>) -> Vec<Score> {
    let mut by_bits: Vec<usize> = (0..scores.len()).collect();
    by_bits.sort_by(|&a, &b| {
        let (sa, sb) = (&scores[a], &scores[b]);
        // NaN (undefined) ranks last.
        sa.bits.is_nan().cmp(&sb.bits.is_nan()).then(
            sa.bits
                .total_cmp(&sb.bits)
                .then(sa.params.fft_size.cmp(&sb.params.fft_size)),
        )
    });
    for (rank, &i) in by_bits.iter().enumerate() {
        scores[i].rank = rank + 1;
    }
    scores
}

/// What `suggest` measured.
#[derive(Clone, Debug)]
pub struct SuggestReport {
    /// Input file.
    pub input: PathBuf,
    /// Input sample rate.
    pub sample_rate_hz: u32,
    /// Input channels.
    pub channels: usize,
    /// Samples analysed (per channel).
    pub samples: usize,
    /// The grid used.
    pub grid: Grid,
    /// Whether several windows were ranked (adds a window column).
    pub several_windows: bool,
    /// Candidate sizes skipped because the file is shorter than them.
    pub skipped_too_long: Vec<usize>,
    /// Every candidate, ordered by n_fft then window.
    pub scores: Vec<Score>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl SuggestReport {
    /// The rank-1 candidate.
    ///
    /// # Panics
    /// Never for a report from [`suggest`] (it has at least one candidate).
    pub fn best(&self) -> &Score {
        self.scores
            .iter()
            .find(|s| s.rank == 1)
            .expect("suggest always scores at least one candidate")
    }

    /// The table and the `best:` line, as printed on stdout.
    pub fn to_text(&self) -> String {
        let sr = f64::from(self.sample_rate_hz);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# {}: {} Hz, {} ch, {:.3} s; {} candidates in {:.3} s; Rényi entropy of order 3 \
             of the normalised power spectrogram, bits (lower = more concentrated); \
             win_length = n_fft, no centring",
            self.input.display(),
            self.sample_rate_hz,
            self.channels,
            self.samples as f64 / sr,
            self.scores.len(),
            self.elapsed.as_secs_f64(),
        );
        match self.grid {
            Grid::HopRatio(r) => {
                let _ = writeln!(
                    out,
                    "# hop = n_fft x {r}: the same time-frequency cell for every size, so raw entropies compare"
                );
            }
            Grid::FixedHop(h) => {
                let _ = writeln!(
                    out,
                    "# fixed hop {h}: entropy_bits = raw_bits + log2(hop/n_fft), the grid correction of DSP.md §5, \
                     ranks the sizes (raw_bits alone favours the smallest n_fft)"
                );
            }
        }
        if !self.skipped_too_long.is_empty() {
            let sizes: Vec<String> = self
                .skipped_too_long
                .iter()
                .map(ToString::to_string)
                .collect();
            let _ = writeln!(
                out,
                "# skipped n_fft {}: longer than the file ({} samples)",
                sizes.join(", "),
                self.samples
            );
        }
        let fixed = matches!(self.grid, Grid::FixedHop(_));
        let _ = write!(out, "{:>6}", "n_fft");
        if self.several_windows {
            let _ = write!(out, "  {:<14}", "window");
        }
        let _ = write!(out, "  {:>12}", "entropy_bits");
        if fixed {
            let _ = write!(out, "  {:>8}", "raw_bits");
        }
        let _ = writeln!(out, "  {:>8}  {:>7}  {:>4}", "bin_hz", "hop_ms", "rank");
        for s in &self.scores {
            let p = s.params;
            let _ = write!(out, "{:>6}", p.fft_size);
            if self.several_windows {
                let _ = write!(out, "  {:<14}", p.window.to_string());
            }
            let _ = write!(out, "  {:>12.3}", s.bits);
            if fixed {
                let _ = write!(out, "  {:>8.3}", s.raw_bits);
            }
            let _ = write!(
                out,
                "  {:>8.2}  {:>7.3}  {:>4}",
                sr / p.fft_size as f64,
                p.hop_size as f64 * 1e3 / sr,
                s.rank
            );
            if s.rank == 1 {
                out.push_str("  <- best");
            }
            out.push('\n');
        }
        let b = self.best().params;
        let _ = writeln!(
            out,
            "best: n_fft={} win_length={} hop={} window={}",
            b.fft_size, b.win_length, b.hop_size, b.window
        );
        out
    }
}

/// Runs `hopscope suggest`.
///
/// # Errors
/// Unreadable WAV, a channel that does not exist, a file shorter than the smallest
/// candidate, or a silent file (the entropy is undefined).
pub fn suggest(cfg: &SuggestConfig) -> Result<SuggestReport> {
    let started = Instant::now();
    let mut source = MonoSource::open(&cfg.input, cfg.channel, cfg.nan, cfg.crop)?;
    let info = source.info().clone();
    // Every size up to the largest; those longer than the file are dropped at the end.
    let all = candidates(
        &cfg.windows,
        cfg.grid,
        cfg.min_fft_size,
        cfg.max_fft_size,
        usize::MAX,
    );
    let (totals, len, any_sound) = stream_sums(&mut source, &all)?;
    source.finish()?;
    let wav_error = |message: String| Error::Wav {
        path: cfg.input.clone(),
        message,
    };
    let kept: Vec<usize> = (0..all.len()).filter(|&c| all[c].fft_size <= len).collect();
    if kept.is_empty() {
        return Err(wav_error(format!(
            "too short: {len} samples, fewer than the smallest candidate n_fft {} (lower --min-n-fft)",
            cfg.min_fft_size
        )));
    }
    if !any_sound {
        return Err(wav_error(
            "is silent (every sample is 0): the entropy of its spectrogram is undefined".into(),
        ));
    }
    let mut skipped_too_long: Vec<usize> = all
        .iter()
        .filter(|p| p.fft_size > len)
        .map(|p| p.fft_size)
        .collect();
    skipped_too_long.dedup();
    let list: Vec<StftParams> = kept.iter().map(|&c| all[c]).collect();
    let sums: Vec<Renyi3> = kept.iter().map(|&c| totals[c]).collect();
    let scores = scores_of(&list, &sums, cfg.grid);
    if scores.iter().all(|s| s.bits.is_nan()) {
        return Err(wav_error(
            "has no energy in any analysed frame: the entropy of its spectrogram is undefined"
                .into(),
        ));
    }
    Ok(SuggestReport {
        input: cfg.input.clone(),
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        samples: len,
        grid: cfg.grid,
        several_windows: cfg.windows.len() > 1,
        skipped_too_long,
        scores,
        elapsed: started.elapsed(),
    })
}

/// The ΣP and ΣP³ of every candidate over the whole of `source`, span by span as
/// [`score`] sums them; with the signal's length and whether any sample was not 0.
///
/// Memory: two spans of samples plus the longest frame.
fn stream_sums(source: &mut MonoSource, all: &[StftParams]) -> Result<(Vec<Renyi3>, usize, bool)> {
    let longest = all.iter().map(|p| p.fft_size).max().unwrap_or(0);
    let planned: Vec<FrameTransform> = all
        .iter()
        .map(|&p| FrameTransform::new(p, ValueScale::Power))
        .collect();
    let mut totals = vec![Renyi3::default(); all.len()];
    // Samples from span `k`'s first on.
    let mut buf: Vec<f32> = Vec::new();
    let (mut k, mut ended, mut any_sound) = (0usize, false, false);
    loop {
        let need = SPAN_SAMPLES + longest;
        while !ended && buf.len() < need {
            let before = buf.len();
            let short = need - before;
            ended = source.read(&mut buf, short)? == 0;
            any_sound |= buf[before..].iter().any(|&x| x != 0.0);
        }
        let base = k * SPAN_SAMPLES;
        // Row counts once the end is in the buffer; until then every row of span k fits.
        let len = base + buf.len();
        let sums: Vec<Renyi3> = (0..all.len())
            .into_par_iter()
            .with_max_len(1)
            .map_init(
                || (None::<(usize, FrameTransform)>, Vec::new()),
                |(held, row), c| {
                    let p = all[c];
                    let rows = match ended {
                        true => p.rows_for(len as u64) as usize,
                        false => usize::MAX,
                    };
                    let r = span_rows(&p, k, rows);
                    let tf = match held {
                        Some((h, tf)) if *h == c => tf,
                        slot => &mut slot.insert((c, planned[c].clone())).1,
                    };
                    row.resize(p.num_bins(), 0.0);
                    let mut acc = Renyi3::default();
                    rows_into(&buf, base, r, tf, row, &mut acc);
                    acc
                },
            )
            .collect();
        for (t, s) in totals.iter_mut().zip(sums) {
            t.merge(s);
        }
        if ended && buf.len() <= SPAN_SAMPLES {
            return Ok((totals, len, any_sound));
        }
        buf.drain(..SPAN_SAMPLES.min(buf.len()));
        k += 1;
        interrupt::check()?;
    }
}
