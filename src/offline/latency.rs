//! `hopscope latency`: for each hop, what a user weighs before choosing it. The model
//! columns ([`model_row`]: Δt, rows per second, the ../shared/DSP.md §4 delays, the
//! window's resolution) are pure functions of the parameters; the CPU columns
//! ([`measure_cpu`]) time the live engine on this machine.
//!
//! The measurement runs [`Stft::push`], the sliding engine the live analysis thread
//! runs, over deterministic white noise pushed in blocks of the audio buffer, and times
//! it with the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`; the wall clock where libc
//! is not a dependency). Rows come back to back with warm caches: the live thread
//! sleeps between rows, so its own figure per row is higher at large hops (the headless
//! `row_us_mean`).

use std::fmt::Write as _;

use crate::config::LatencyConfig;
use crate::dsp::latency;
use crate::dsp::noise::WhiteNoise;
use crate::dsp::scale::ValueScale;
use crate::dsp::stft::{Stft, StftParams};
use crate::dsp::window::WindowSums;

/// The model columns of one hop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelRow {
    /// The hop, in samples.
    pub hop_size: usize,
    /// The hop in time, Δt = hop/sr, in ms.
    pub hop_ms: f64,
    /// Rows per second, sr/hop.
    pub rows_per_s: f64,
    /// The delays of [`latency::model`] (click and tone onset at −6 dB; the buffer).
    pub latency: latency::LatencyModel,
    /// The window's resolution Δf = ENBW·sr/win_length (ENBW in bins of the window's
    /// own length; the same as ENBW·sr/n_fft without zero padding), in Hz.
    pub resolution_hz: f64,
}

/// The model columns for `params` (its hop included) at `sample_rate_hz` with audio
/// blocks of `buffer_frames`.
pub fn model_row(params: &StftParams, sample_rate_hz: u32, buffer_frames: usize) -> ModelRow {
    let sr = f64::from(sample_rate_hz);
    let sums = WindowSums::of(params.window, params.win_length);
    ModelRow {
        hop_size: params.hop_size,
        hop_ms: params.hop_size as f64 * 1000.0 / sr,
        rows_per_s: sr / params.hop_size as f64,
        latency: latency::model(params, sample_rate_hz, buffer_frames),
        resolution_hz: sums.resolution_hz(sample_rate_hz),
    }
}

/// The model rows of every hop in `cfg`, in its order.
pub fn model_rows(cfg: &LatencyConfig) -> Vec<ModelRow> {
    cfg.hops
        .iter()
        .map(|&hop_size| {
            let params = StftParams {
                hop_size,
                ..cfg.params
            };
            model_row(&params, cfg.sample_rate_hz, cfg.buffer_frames)
        })
        .collect()
}

/// How long one measurement runs: until at least `min_cpu_s` of CPU **and** `min_audio_s`
/// of audio, or at least `min_cpu_s` and `max_cpu_s` of CPU (then fewer rows, scaled).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Least CPU time, s.
    pub min_cpu_s: f64,
    /// Least audio, s (unless `max_cpu_s` is reached first).
    pub min_audio_s: f64,
    /// CPU time after which the run stops even short of `min_audio_s`, s.
    pub max_cpu_s: f64,
}

/// The command's budget: 0.25 s of CPU and 1 s of audio, at most 1 s of CPU per hop
/// (hop 1 at n_fft 4096 takes about 0.4 s in a release build).
pub const BUDGET: Budget = Budget {
    min_cpu_s: 0.25,
    min_audio_s: 1.0,
    max_cpu_s: 1.0,
};

/// What one measurement found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuCost {
    /// Rows computed while timed.
    pub rows: u64,
    /// Samples pushed while timed.
    pub samples: u64,
    /// CPU time they took, s.
    pub cpu_s: f64,
    /// The sample rate, Hz.
    pub sample_rate_hz: u32,
}

impl CpuCost {
    /// Audio pushed, s.
    pub fn audio_s(&self) -> f64 {
        self.samples as f64 / f64::from(self.sample_rate_hz)
    }

    /// CPU per row, µs.
    pub fn us_per_row(&self) -> f64 {
        self.cpu_s * 1e6 / self.rows.max(1) as f64
    }

    /// CPU per second of audio, ms.
    pub fn cpu_ms_per_audio_s(&self) -> f64 {
        self.cpu_s * 1000.0 / self.audio_s()
    }

    /// The share of one core the analysis takes in real time, %.
    pub fn core_percent(&self) -> f64 {
        self.cpu_ms_per_audio_s() / 10.0
    }

    /// Whether one core keeps up in real time (less than 1 s of CPU per s of audio).
    pub fn fits_one_core(&self) -> bool {
        self.cpu_ms_per_audio_s() < 1000.0
    }
}

/// The smallest hop at which rows costing `us_per_row` µs each fit one core in real
/// time at `sample_rate_hz`: `ceil(sr · µs_per_row / 1e6)`, at least 1.
pub fn smallest_realtime_hop(us_per_row: f64, sample_rate_hz: u32) -> usize {
    (f64::from(sample_rate_hz) * us_per_row / 1e6)
        .ceil()
        .max(1.0) as usize
}

/// Samples of the noise pushed round and round: 2^16, a whole number of blocks.
const NOISE_SAMPLES: usize = 1 << 16;
/// The CPU clock is read once at least this many rows have been made since the last look.
const ROWS_PER_LOOK: u64 = 32;

/// Deterministic white noise, uniform in [−0.5, 0.5) (fixed seed).
fn noise(len: usize) -> Vec<f32> {
    let mut g = WhiteNoise::new(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| (0.5 * g.next_symmetric()) as f32)
        .collect()
}

/// Times the live engine ([`Stft`] with `params` and `scale`) on white noise pushed in
/// blocks of `buffer_frames`, after a warm-up of one window and a few rows, for as long
/// as `budget` says. Each row is copied out, as the live thread copies it into the row it
/// sends.
///
/// Thread: the caller's (its CPU clock). Allocates: before the timed loop only.
///
/// # Panics
/// If `params` is invalid (callers validate first).
pub fn measure_cpu(
    params: StftParams,
    scale: ValueScale,
    sample_rate_hz: u32,
    buffer_frames: usize,
    budget: Budget,
) -> CpuCost {
    let block = buffer_frames.clamp(1, NOISE_SAMPLES);
    let signal = noise(NOISE_SAMPLES / block * block);
    let mut stft = Stft::new(params, scale);
    let mut copy = vec![0.0f32; params.num_bins()];
    let mut rows = 0u64;
    let mut blocks = signal.chunks_exact(block).cycle();
    let mut push = |stft: &mut Stft, rows: &mut u64| {
        let samples = blocks.next().unwrap_or_default();
        stft.push(samples, |_, bins| {
            copy.copy_from_slice(bins);
            std::hint::black_box(&mut copy);
            *rows += 1;
        });
    };
    // Warm-up: the first window and a few rows (plan, buffers and caches).
    while stft.samples_pushed() < (params.win_length + 4 * params.hop_size) as u64 {
        push(&mut stft, &mut rows);
    }
    let (rows_before, samples_before) = (rows, stft.samples_pushed());
    let started = cpu_clock::now_s();
    let mut looked_at = rows;
    let cpu_s = loop {
        push(&mut stft, &mut rows);
        if rows - looked_at < ROWS_PER_LOOK {
            continue;
        }
        looked_at = rows;
        let cpu_s = cpu_clock::now_s() - started;
        let audio_s = (stft.samples_pushed() - samples_before) as f64 / f64::from(sample_rate_hz);
        if cpu_s >= budget.min_cpu_s && (audio_s >= budget.min_audio_s || cpu_s >= budget.max_cpu_s)
        {
            break cpu_s;
        }
    };
    CpuCost {
        rows: rows - rows_before,
        samples: stft.samples_pushed() - samples_before,
        cpu_s,
        sample_rate_hz,
    }
}

/// One line of the table: the model and the measured cost of one hop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyLine {
    /// The model columns.
    pub model: ModelRow,
    /// The measured columns.
    pub cost: CpuCost,
}

/// The whole table of `hopscope latency`.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyReport {
    /// The configuration it was made for.
    pub config: LatencyConfig,
    /// One line per hop, in the order given.
    pub lines: Vec<LatencyLine>,
}

/// Computes the model rows and measures every hop, one after another, on this thread.
pub fn run(cfg: &LatencyConfig) -> LatencyReport {
    let lines = model_rows(cfg)
        .into_iter()
        .map(|model| {
            let params = StftParams {
                hop_size: model.hop_size,
                ..cfg.params
            };
            let cost = measure_cpu(
                params,
                cfg.scale,
                cfg.sample_rate_hz,
                cfg.buffer_frames,
                BUDGET,
            );
            LatencyLine { model, cost }
        })
        .collect();
    LatencyReport {
        config: cfg.clone(),
        lines,
    }
}

impl LatencyReport {
    /// The largest CPU per row of the table, µs: the row cost the one-core hop is
    /// computed from (so it holds for every measured hop's cost).
    pub fn worst_us_per_row(&self) -> f64 {
        self.lines
            .iter()
            .map(|l| l.cost.us_per_row())
            .fold(0.0, f64::max)
    }

    /// The `#` lines above the table: the parameters, what the columns mean, and a note
    /// when a hop leaves some click phases below −6 dB.
    fn comment_lines(&self) -> String {
        let c = &self.config;
        let p = c.params;
        let sums = WindowSums::of(p.window, p.win_length);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# {} Hz, n_fft {}, win_length {}, window {}, audio buffer {} frames, scale {}",
            c.sample_rate_hz, p.fft_size, p.win_length, p.window, c.buffer_frames, c.scale
        );
        let _ = writeln!(
            out,
            "# click_ms, tone_ms: the model's mean delay (DSP.md §4) until a click, a tone \
             onset reads -6 dB, over the event's phase in max(hop, buffer); buffer_ms: the \
             buffer itself; df_hz: ENBW {:.4} bins x sr/win_length",
            sums.enbw_bins()
        );
        let w = p.window.coefficients_f64(p.win_length);
        let width = latency::half_peak_positions(&w).count();
        if c.hops.iter().any(|&h| h > width) {
            let _ = writeln!(
                out,
                "# a hop above {width} samples (where the window is at least half its peak) lets \
                 some clicks reach -6 dB in no frame (DSP.md §4.3 \"50% never\"): click_ms is \
                 then the model's mean over all phases"
            );
        }
        let _ = writeln!(
            out,
            "# cpu: the live sliding STFT over white noise in {}-frame blocks, {}, rows back \
             to back; realtime: fits one core",
            c.buffer_frames,
            cpu_clock::NAME
        );
        out
    }

    /// The table as printed: `#` comment lines, a header of column names, one line per
    /// hop, and a `one core:` line with the smallest hop one core sustains.
    pub fn to_text(&self) -> String {
        let c = &self.config;
        let p = c.params;
        let mut out = self.comment_lines();
        let _ = writeln!(
            out,
            "{:>6}  {:>8}  {:>10}  {:>8}  {:>8}  {:>9}  {:>8}  {:>10}  {:>12}  {:>8}  {:>8}",
            "hop",
            "hop_ms",
            "rows_per_s",
            "click_ms",
            "tone_ms",
            "buffer_ms",
            "df_hz",
            "us_per_row",
            "cpu_ms_per_s",
            "core_pct",
            "realtime"
        );
        for l in &self.lines {
            write_line(&mut out, l);
        }
        let us = self.worst_us_per_row();
        let hop = smallest_realtime_hop(us, c.sample_rate_hz);
        let within = if hop <= p.win_length {
            String::new()
        } else {
            format!(" (above win_length {}: no hop fits)", p.win_length)
        };
        let _ = writeln!(
            out,
            "one core: smallest_hop={hop} n_fft={} us_per_row={us:.3} \
             (ceil({} Hz x the largest us_per_row above / 1e6)){within}",
            p.fft_size, c.sample_rate_hz
        );
        out
    }
}

fn write_line(out: &mut String, l: &LatencyLine) {
    let (m, cost) = (&l.model, &l.cost);
    let _ = writeln!(
        out,
        "{:>6}  {:>8.4}  {:>10.3}  {:>8.3}  {:>8.3}  {:>9.3}  {:>8.3}  {:>10.3}  {:>12.3}  {:>8.3}  {:>8}",
        m.hop_size,
        m.hop_ms,
        m.rows_per_s,
        m.latency.click_ms,
        m.latency.tone_ms,
        m.latency.buffer_ms,
        m.resolution_hz,
        cost.us_per_row(),
        cost.cpu_ms_per_audio_s(),
        cost.core_percent(),
        if cost.fits_one_core() { "yes" } else { "no" }
    );
}

/// The calling thread's CPU time.
#[cfg(all(unix, not(target_os = "macos")))]
mod cpu_clock {
    /// What the table says it measured with.
    pub const NAME: &str = "thread CPU clock";

    /// CPU time of the calling thread, s (`CLOCK_THREAD_CPUTIME_ID`).
    #[allow(unsafe_code)]
    pub fn now_s() -> f64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant that
        // every supported kernel knows.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        debug_assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }
}

/// Where libc is not a dependency: the wall clock (includes time the thread waited).
#[cfg(not(all(unix, not(target_os = "macos"))))]
mod cpu_clock {
    use std::sync::OnceLock;
    use std::time::Instant;

    /// What the table says it measured with.
    pub const NAME: &str = "wall clock (no thread CPU clock on this platform)";

    /// Seconds since the first call.
    pub fn now_s() -> f64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64()
    }
}
