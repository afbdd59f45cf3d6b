//! What live mode reports: the once-per-second headless status line on stdout and the
//! exit summary on stderr.
//!
//! Thread: main.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::analysis::message::SpectrumRow;
use crate::analysis::{AnalysisLink, AnalysisSnapshot};
use crate::audio::health::InputHealth;
use crate::audio::stats::CaptureStats;
use crate::dsp::scale::bin_to_hz;
use crate::dsp::stats::quantile;
use crate::dsp::stft::StftParams;

/// Prints the exit summary: frames captured and dropped; rows produced, folded into the
/// window's time columns, and dropped; control messages dropped, stream errors, and for
/// a device its losses.
pub(super) fn print_summary(
    elapsed: Duration,
    stats: &CaptureStats,
    ana: &AnalysisSnapshot,
    health: Option<&InputHealth>,
) {
    let cap = stats.snapshot();
    let input = health.map_or_else(String::new, |h| {
        let s = h.snapshot(Instant::now());
        let extra = format!(
            "{} gap(s) marked; {} non-finite samples replaced",
            ana.gaps, ana.nonfinite_samples
        );
        if s.faults == 0 {
            return format!("; input never lost; {extra}");
        }
        format!(
            "; input down {} time(s) for {:.1} s ({} stall(s), {} loss(es), {} runaway(s)), {} recovery(ies); {extra}",
            s.faults,
            s.down.as_secs_f64(),
            s.stalls,
            s.losses,
            s.runaways,
            s.recoveries,
        )
    });
    eprintln!(
        "hopscope: stopped after {:.1} s: {} frames captured, {} dropped; {} rows ({} folded into {} column runs), {} dropped; {} control messages dropped; {} stream errors ({} xruns){input}",
        elapsed.as_secs_f64(),
        cap.frames_captured,
        cap.frames_dropped,
        ana.rows_produced,
        ana.rows_folded,
        ana.runs_sent,
        ana.rows_dropped,
        ana.controls_dropped,
        cap.stream_errors,
        cap.xruns
    );
}

/// The once-per-second headless status line (`key=value` for scripts).
///
/// Thread: main.
pub(super) struct StatusLine {
    label: String,
    sample_rate_hz: u32,
    params: StftParams,
    last_peak: Option<(f64, f32)>,
    latencies_ms: Vec<f64>,
    prev_rows: u64,
    prev_row_ns: u64,
    /// When the last line was printed (since the start).
    pub prev_t: Duration,
    /// STFTs running.
    pub panes: usize,
    /// The audio host (`None`: `-`, for --file and --demo).
    pub host: Option<String>,
}

impl StatusLine {
    pub fn new(label: String, sample_rate_hz: u32, params: StftParams) -> Self {
        StatusLine {
            label,
            sample_rate_hz,
            params,
            last_peak: None,
            latencies_ms: Vec::with_capacity(4096),
            prev_rows: 0,
            prev_row_ns: 0,
            prev_t: Duration::ZERO,
            panes: 1,
            host: None,
        }
    }

    /// `state=… host=… stalls=… losses=… recoveries=… down_s=… gaps=… nonfinite=…`
    /// (a --file or --demo source is always live).
    fn input_fields(&self, health: Option<&InputHealth>, ana: &AnalysisSnapshot) -> String {
        let h = health.map(|h| h.snapshot(Instant::now()));
        let [lost, invalidated, xruns, backend] = h.map_or([0; 4], |h| h.errors);
        format!(
            "state={} host={} stalls={} losses={} runaways={} recoveries={} down_s={:.2} gaps={} nonfinite={} \
             errors_device_lost={lost} errors_invalidated={invalidated} errors_xrun={xruns} errors_backend={backend}",
            h.map_or("live", |h| h.state.name()),
            self.host.as_deref().unwrap_or("-"),
            h.map_or(0, |h| h.stalls),
            h.map_or(0, |h| h.losses),
            h.map_or(0, |h| h.runaways),
            h.map_or(0, |h| h.recoveries),
            h.map_or(0.0, |h| h.down.as_secs_f64()),
            ana.gaps,
            ana.nonfinite_samples,
        )
    }

    /// Takes a row's latency, and pane 0's parameters and peak.
    pub fn observe(&mut self, row: &SpectrumRow) {
        let latency = row.finished_at.saturating_duration_since(row.captured_at);
        self.latencies_ms.push(latency.as_secs_f64() * 1e3);
        if row.pane != 0 {
            return; // the line describes pane 0; every pane's rows are counted
        }
        self.params = row.params;
        let (k, level) = row.peak();
        self.last_peak = Some((
            bin_to_hz(k as f64, row.params.fft_size, row.sample_rate_hz),
            level,
        ));
    }

    /// Prints one line for the interval since the last one.
    pub fn print(
        &mut self,
        t: Duration,
        stats: &CaptureStats,
        link: &AnalysisLink,
        health: Option<&InputHealth>,
    ) {
        let cap = stats.snapshot();
        let ana = link.stats.snapshot();
        let row_max_ns = link.stats.take_max();
        let dt = (t - self.prev_t).as_secs_f64().max(1e-9);
        let new_rows = ana.rows_produced - self.prev_rows;
        let rows_per_s = new_rows as f64 / dt;
        let row_us_mean = if new_rows > 0 {
            (ana.row_time_ns_total - self.prev_row_ns) as f64 / new_rows as f64 / 1e3
        } else {
            0.0
        };
        let latency_p50 = quantile(&mut self.latencies_ms, 0.5, f64::total_cmp).unwrap_or(f64::NAN);
        self.latencies_ms.clear();
        let (peak_hz, peak_db) = self.last_peak.unwrap_or((f64::NAN, f32::NAN));
        let p = self.params;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "status t={:.1}s src=\"{}\" sr={} n_fft={} win_length={} hop={} window={} rows={} rows_folded={} rows_per_s={:.1} \
             peak_hz={:.1} peak_dbfs={:.2} captured={} dropped_samples={} dropped_rows={} dropped_controls={} stream_errors={} \
             row_us_mean={:.1} row_us_max={:.1} capture_to_row_ms_p50={:.2} panes={} {}",
            t.as_secs_f64(),
            self.label,
            self.sample_rate_hz,
            p.fft_size,
            p.win_length,
            p.hop_size,
            p.window,
            ana.rows_produced,
            ana.rows_folded,
            rows_per_s,
            peak_hz,
            peak_db,
            cap.frames_captured,
            cap.frames_dropped,
            ana.rows_dropped,
            ana.controls_dropped,
            cap.stream_errors,
            row_us_mean,
            row_max_ns as f64 / 1e3,
            latency_p50,
            self.panes,
            self.input_fields(health, &ana),
        );
        let _ = out.flush();
        self.prev_rows = ana.rows_produced;
        self.prev_row_ns = ana.row_time_ns_total;
        self.prev_t = t;
    }
}
