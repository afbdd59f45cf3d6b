//! Issue 9: time with no input is a gap of its real length, never squeezed out and
//! never drawn as silence; a reopened stream continues the same timeline; non-finite
//! samples from a broken driver are counted and replaced.
//!
//! The analysis thread's unit of work (`Analysis::pass`) is driven directly, its rings
//! fed through the real capture callback with chosen capture timestamps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hopscope::analysis::history::MonoHistory;
use hopscope::analysis::message::SpectrumRow;
use hopscope::analysis::{Analysis, AnalysisLink, AnalysisSetup};
use hopscope::audio::callback::CaptureCallback;
use hopscope::audio::ring;
use hopscope::audio::stats::CaptureStats;
use hopscope::audio::supervisor::InputSwap;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::stream::{ChannelSelect, Timebase};

const RATE: u32 = 48_000;
const CALLBACK: usize = 480; // 10 ms
/// n_fft 256 at 48 kHz: 187.5 Hz bins, so 1125 Hz is bin 6 and 3000 Hz bin 16.
const PARAMS: StftParams = StftParams {
    fft_size: 256,
    win_length: 256,
    hop_size: 64,
    window: WindowKind::Hann,
};
const BEFORE_HZ: f64 = 1125.0;
const AFTER_HZ: f64 = 3000.0;
const AMPLITUDE: f32 = 0.25; // -12.04 dBFS

fn tone(hz: f64, start: usize, n: usize, channels: usize) -> Vec<f32> {
    (start..start + n)
        .flat_map(|i| {
            let v = AMPLITUDE
                * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(RATE)).sin() as f32;
            std::iter::repeat_n(v, channels)
        })
        .collect()
}

fn ns(seconds: f64) -> u64 {
    (seconds * 1e9).round() as u64
}

/// A ring pair fed by a real capture callback.
fn input(
    channels: usize,
) -> (
    CaptureCallback<f32>,
    ring::SampleConsumer,
    ring::MarkConsumer,
) {
    let (producer, samples) = ring::sample_ring(RATE, channels);
    let (marks_p, marks) = ring::mark_ring();
    let cb = CaptureCallback::<f32>::new(
        producer,
        marks_p,
        Arc::new(CaptureStats::default()),
        channels,
    );
    (cb, samples, marks)
}

/// Delivers `data` in 10 ms callbacks, the first captured at `t0_s` on its timebase.
fn deliver(cb: &mut CaptureCallback<f32>, data: &[f32], channels: usize, t0_s: f64) {
    for (k, chunk) in data.chunks(CALLBACK * channels).enumerate() {
        cb.on_data(chunk, ns(t0_s + (k * CALLBACK) as f64 / f64::from(RATE)));
    }
}

/// Runs passes until the rings are empty; the rows, their buffers handed back.
fn drain(analysis: &mut Analysis, link: &AnalysisLink) -> Vec<SpectrumRow> {
    let mut rows = Vec::new();
    let take = |rows: &mut Vec<SpectrumRow>| {
        for row in link.rows.try_iter() {
            rows.push(row.clone());
            link.recycle(row);
        }
    };
    for _ in 0..10_000 {
        let outcome = analysis.pass();
        take(&mut rows);
        if outcome.frames == 0 && analysis.pass().frames == 0 {
            take(&mut rows);
            assert_eq!(link.stats.snapshot().rows_dropped, 0);
            return rows;
        }
    }
    panic!("analysis did not drain");
}

fn level_db(row: &SpectrumRow, hz: f64) -> f32 {
    row.bins[(hz * PARAMS.fft_size as f64 / f64::from(RATE)).round() as usize]
}

fn expected_db() -> f32 {
    20.0 * AMPLITUDE.log10()
}

fn analysis(
    samples: ring::SampleConsumer,
    marks: ring::MarkConsumer,
    channels: usize,
    origin: Instant,
    history: Option<hopscope::analysis::history::SharedHistory>,
    swaps: Option<crossbeam_channel::Receiver<InputSwap>>,
) -> (Analysis, AnalysisLink) {
    Analysis::new(AnalysisSetup {
        samples,
        marks,
        channels,
        channel_select: ChannelSelect::Mix,
        sample_rate_hz: RATE,
        timebase: Timebase { origin },
        params: PARAMS,
        compare: Vec::new(),
        scale: ValueScale::Db,
        history,
        swaps,
        columns_wait: false,
        backlog_s: hopscope::analysis::WINDOW_BACKLOG_S,
    })
}

#[test]
fn a_jump_in_capture_time_is_a_gap_of_its_length_that_no_row_spans() {
    let (mut cb, samples, marks) = input(1);
    let origin = Instant::now();
    let history = MonoHistory::shared(4.0, RATE);
    let (mut a, link) = analysis(samples, marks, 1, origin, Some(history.clone()), None);
    // 0.1 s of one tone, nothing for 2.5 s, then 0.1 s of another.
    let before = 4800;
    deliver(&mut cb, &tone(BEFORE_HZ, 0, before, 1), 1, 0.0);
    let rows_before = drain(&mut a, &link);
    deliver(&mut cb, &tone(AFTER_HZ, 0, 4800, 1), 1, 0.1 + 2.5);
    let rows_after = drain(&mut a, &link);

    let gap = 120_000u64; // 2.5 s
    let stats = link.stats.snapshot();
    assert_eq!((stats.gaps, stats.gap_samples), (1, gap));
    assert!(!rows_before.is_empty() && !rows_after.is_empty());
    for r in &rows_before {
        assert!(r.first_sample + 256 <= before as u64);
        assert_eq!(r.gap_before, 0);
        assert!((level_db(r, BEFORE_HZ) - expected_db()).abs() < 0.01);
    }
    // Every row after the gap lies wholly after it, on the grid, and carries only the
    // new tone: nothing of the old one leaks across the gap.
    let resume = before as u64 + gap;
    assert_eq!(
        rows_after[0].gap_before, gap,
        "the first row after carries the gap"
    );
    assert!(rows_after[1..].iter().all(|r| r.gap_before == 0));
    assert_eq!(rows_after[0].first_sample, resume.div_ceil(64) * 64);
    for r in &rows_after {
        assert!(r.first_sample >= resume);
        assert_eq!(r.first_sample % 64, 0);
        assert!(
            (level_db(r, AFTER_HZ) - expected_db()).abs() < 0.01,
            "{}",
            level_db(r, AFTER_HZ)
        );
        assert!(
            level_db(r, BEFORE_HZ) < -90.0,
            "old tone leaks: {}",
            level_db(r, BEFORE_HZ)
        );
    }
    // Rows keep their capture time across the gap: the last sample's instant.
    let r = &rows_after[0];
    let last = r.first_sample + 255 - resume; // index within the new block
    let want = origin + Duration::from_nanos(ns(2.6 + last as f64 / f64::from(RATE)));
    let off = if r.captured_at > want {
        r.captured_at - want
    } else {
        want - r.captured_at
    };
    assert!(off < Duration::from_micros(1), "captured_at off by {off:?}");
    // The history holds the gap as NaN (of its real length) between real samples.
    let h = history.lock().expect("not poisoned");
    assert_eq!(h.total(), before as u64 + gap + 4800);
    let mut out = vec![0.0f32; (before as u64 + gap + 4800) as usize];
    let oldest = h.oldest();
    assert_eq!(oldest, 0, "4 s of history holds all 2.7 s");
    assert!(h.copy(0, &mut out));
    assert!(out[..before].iter().all(|v| v.is_finite()));
    assert!(out[before..before + gap as usize]
        .iter()
        .all(|v| v.is_nan()));
    assert!(out[before + gap as usize..].iter().all(|v| v.is_finite()));
    let gaps = hopscope::offline::snapshot::gaps_of(&out);
    assert_eq!(gaps, vec![(before, gap as usize)]);
}

#[test]
fn timestamp_jitter_below_100_ms_is_not_a_gap() {
    let (mut cb, samples, marks) = input(1);
    let (mut a, link) = analysis(samples, marks, 1, Instant::now(), None, None);
    let data = tone(BEFORE_HZ, 0, 48_000, 1);
    for (k, chunk) in data.chunks(CALLBACK).enumerate() {
        // ±40 ms of jitter on a 10 ms grid, and a clock running 1 % fast.
        let jitter = if k % 3 == 0 { 0.04 } else { -0.02 };
        cb.on_data(chunk, ns((0.01 * k as f64 * 1.01 + jitter).max(0.0)));
    }
    let rows = drain(&mut a, &link);
    assert_eq!(link.stats.snapshot().gaps, 0);
    assert_eq!(rows.len(), 1 + (48_000 - 256) / 64);
}

#[test]
fn a_reopened_stream_continues_the_timeline_after_a_gap_even_with_other_channels() {
    let (mut cb, samples, marks) = input(2);
    let origin = Instant::now();
    let (swap_tx, swap_rx) = crossbeam_channel::bounded(4);
    let (mut a, link) = analysis(samples, marks, 2, origin, None, Some(swap_rx));
    deliver(&mut cb, &tone(BEFORE_HZ, 0, 4800, 2), 2, 0.0);
    let rows_before = drain(&mut a, &link);
    // The device comes back 1.2 s after the old stream's last frame, mono, on a
    // timebase of its own that starts 0.3 s later.
    let (mut cb2, samples2, marks2) = input(1);
    swap_tx
        .send(InputSwap {
            samples: samples2,
            marks: marks2,
            channels: 1,
            sample_rate_hz: RATE,
            timebase: Timebase {
                origin: origin + Duration::from_millis(300),
            },
        })
        .expect("analysis holds the receiver");
    deliver(&mut cb2, &tone(AFTER_HZ, 0, 4800, 1), 1, 0.1 + 1.2 - 0.3);
    let rows_after = drain(&mut a, &link);
    let stats = link.stats.snapshot();
    assert_eq!((stats.gaps, stats.gap_samples), (1, 57_600));
    assert_eq!(stats.frames_analysed, 9600);
    let resume = 4800 + 57_600;
    assert_eq!(rows_after[0].gap_before, 57_600);
    assert!(rows_before.iter().all(|r| r.first_sample + 256 <= 4800));
    for r in &rows_after {
        assert!(r.first_sample >= resume);
        assert!((level_db(r, AFTER_HZ) - expected_db()).abs() < 0.01);
        assert!(level_db(r, BEFORE_HZ) < -90.0);
    }
    assert_eq!(rows_after.len(), 1 + (4800 - 256) / 64);
}

#[test]
fn non_finite_samples_are_counted_replaced_and_the_view_recovers() {
    let (mut cb, samples, marks) = input(2);
    let history = MonoHistory::shared(2.0, RATE);
    let (mut a, link) = analysis(
        samples,
        marks,
        2,
        Instant::now(),
        Some(history.clone()),
        None,
    );
    let mut data = tone(AFTER_HZ, 0, 9600, 2);
    // A broken driver: NaN, +Inf, -Inf in one channel or both, around frame 4800.
    for (i, v) in [
        (9600, f32::NAN),
        (9601, f32::NAN),
        (9603, f32::INFINITY),
        (9700, f32::NEG_INFINITY),
    ] {
        data[i] = v;
    }
    deliver(&mut cb, &data, 2, 0.0);
    let rows = drain(&mut a, &link);
    assert_eq!(link.stats.snapshot().nonfinite_samples, 4);
    assert!(rows.iter().all(|r| r.bins.iter().all(|v| v.is_finite())));
    // Rows whose window holds no replaced sample read the tone's level exactly.
    let hit = 4800..=4850;
    for r in &rows {
        let span = r.first_sample..r.first_sample + 256;
        if !hit.clone().any(|f| span.contains(&f)) {
            assert!((level_db(r, AFTER_HZ) - expected_db()).abs() < 0.01);
        }
    }
    let h = history.lock().expect("not poisoned");
    let mut out = vec![0.0f32; 9600];
    assert!(h.copy(0, &mut out));
    assert!(
        out.iter().all(|v| v.is_finite()),
        "the history is never poisoned"
    );
}

#[test]
fn a_stream_reopened_at_another_rate_is_analysed_at_it_and_the_old_history_forgotten() {
    let (mut cb, samples, marks) = input(1);
    let origin = Instant::now();
    let history = MonoHistory::shared(4.0, RATE);
    let (swap_tx, swap_rx) = crossbeam_channel::bounded(4);
    let (mut a, link) = analysis(
        samples,
        marks,
        1,
        origin,
        Some(history.clone()),
        Some(swap_rx),
    );
    deliver(&mut cb, &tone(BEFORE_HZ, 0, 4800, 1), 1, 0.0);
    drain(&mut a, &link);
    // A headset back in its 16 kHz profile 0.5 s later: 1000 Hz is bin 16 at n_fft 256.
    let (producer, samples2) = ring::sample_ring(16_000, 1);
    let (marks_p, marks2) = ring::mark_ring();
    let mut cb2 =
        CaptureCallback::<f32>::new(producer, marks_p, Arc::new(CaptureStats::default()), 1);
    swap_tx
        .send(InputSwap {
            samples: samples2,
            marks: marks2,
            channels: 1,
            sample_rate_hz: 16_000,
            timebase: Timebase { origin },
        })
        .expect("analysis holds the receiver");
    let slow: Vec<f32> = (0..3200)
        .map(|i| {
            AMPLITUDE * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 16_000.0).sin() as f32
        })
        .collect();
    for (k, chunk) in slow.chunks(160).enumerate() {
        cb2.on_data(chunk, ns(0.6 + k as f64 * 0.01));
    }
    let rows = drain(&mut a, &link);
    let stats = link.stats.snapshot();
    assert_eq!(
        (stats.gaps, stats.gap_samples),
        (1, 8000),
        "0.5 s at 16 kHz"
    );
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r.sample_rate_hz, 16_000);
        assert!((r.bins[16] - expected_db()).abs() < 0.01, "{}", r.bins[16]);
    }
    let h = history.lock().expect("not poisoned");
    let mut out = vec![0.0f32; 4800 + 8000];
    assert!(h.copy(0, &mut out));
    assert!(
        out.iter().all(|v| v.is_nan()),
        "48 kHz samples are forgotten, the gap is a gap"
    );
}
