//! RT3: a stalled consumer makes the ring drop and count exactly the overflow,
//! newest samples first. A slow consumer of rows makes analysis wait (no row lost, even
//! at hop 1); a stalled one, once 100 ms of audio wait, makes it drop and count rows.
//! Nothing blocks.

use std::sync::{mpsc, Arc};
use std::time::Instant;

use ringbuf::traits::{Consumer, Observer};

use hopscope::analysis::{
    max_backlog_frames, Analysis, AnalysisLink, AnalysisSetup, ROW_BUFFERS, ROW_CHANNEL_CAPACITY,
};
use hopscope::audio::callback::CaptureCallback;
use hopscope::audio::ring;
use hopscope::audio::stats::CaptureStats;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::stream::{ChannelSelect, Timebase};

use crate::support::PATIENCE;

#[test]
fn stalled_consumer_drops_exactly_the_overflow_newest_first() {
    let capacity_frames = 1000;
    let (producer, mut consumer) = ring::sample_ring_with_capacity(capacity_frames);
    let (marks_p, mut marks_c) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let mut cb = CaptureCallback::<i16>::new(producer, marks_p, Arc::clone(&stats), 1);
    // 7 callbacks of 333 samples = 2331 > 1000: the consumer never pops. The callback
    // must never block: they run on a thread of their own, and a callback still stuck
    // after PATIENCE (a hang catcher, not a speed claim) fails the test.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut next = 0i16;
        for _ in 0..7 {
            let data: Vec<i16> = (0..333)
                .map(|_| {
                    next += 1;
                    next
                })
                .collect();
            cb.on_data(&data, 0);
        }
        let _ = done.send(cb);
    });
    let mut cb = finished
        .recv_timeout(PATIENCE)
        .expect("the callback blocked on a full ring (or panicked)");
    let snap = stats.snapshot();
    assert_eq!(snap.frames_captured, 2331);
    assert_eq!(snap.frames_dropped, 2331 - 1000);
    assert_eq!(snap.callbacks, 7);
    // The ring holds the OLDEST 1000 samples, in order (newest were dropped).
    let mut got = vec![0.0f32; 1000];
    assert_eq!(consumer.pop_slice(&mut got), 1000);
    for (i, v) in got.iter().enumerate() {
        assert_eq!(*v, (i as f32 + 1.0) / 32768.0, "sample {i}");
    }
    // Marks exist only for callbacks that pushed something: 333 + 333 + 333 + 1 frames.
    let frame_indices: Vec<u64> = std::iter::from_fn(|| marks_c.try_pop())
        .map(|m| m.frame_index)
        .collect();
    assert_eq!(frame_indices, vec![0, 333, 666, 999]);
    // Once the consumer catches up, the next callback fits entirely.
    cb.on_data(&[5i16; 100], 0);
    assert_eq!(consumer.occupied_len(), 100);
    assert_eq!(stats.snapshot().frames_dropped, 1331);
}

#[test]
fn partial_frames_are_never_pushed() {
    // 9 samples of room, 2 channels: only 4 whole frames fit.
    let (producer, consumer) = ring::sample_ring_with_capacity(9);
    let (marks_p, _marks_c) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let mut cb = CaptureCallback::<f32>::new(producer, marks_p, Arc::clone(&stats), 2);
    cb.on_data(&[0.5f32; 14], 0);
    assert_eq!(consumer.occupied_len(), 8);
    assert_eq!(stats.snapshot().frames_captured, 7);
    assert_eq!(stats.snapshot().frames_dropped, 3);
}

#[test]
fn callback_longer_than_the_ring_and_empty_callbacks() {
    let (producer, consumer) = ring::sample_ring_with_capacity(64);
    let (marks_p, _marks_c) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let mut cb = CaptureCallback::<u16>::new(producer, marks_p, Arc::clone(&stats), 1);
    cb.on_data(&[], 0);
    cb.on_data(&vec![40000u16; 100_000], 0);
    cb.on_data(&[], 0);
    assert_eq!(consumer.occupied_len(), 64);
    let snap = stats.snapshot();
    assert_eq!(snap.frames_captured, 100_000);
    assert_eq!(snap.frames_dropped, 100_000 - 64);
}

/// An analysis thread at 48 kHz with `params`, fed by a callback on its own ring.
fn analysis_with(params: StftParams) -> (CaptureCallback<f32>, Analysis, AnalysisLink) {
    let (producer, consumer) = ring::sample_ring(48_000, 1);
    let (marks_p, marks_c) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let cb = CaptureCallback::<f32>::new(producer, marks_p, stats, 1);
    let (analysis, link) = Analysis::new(AnalysisSetup {
        history: None,
        swaps: None,
        columns_wait: false,
        backlog_s: hopscope::analysis::WINDOW_BACKLOG_S,
        samples: consumer,
        marks: marks_c,
        channels: 1,
        channel_select: ChannelSelect::Mix,
        sample_rate_hz: 48_000,
        timebase: Timebase {
            origin: Instant::now(),
        },
        params,
        compare: Vec::new(),
        scale: ValueScale::Db,
    });
    (cb, analysis, link)
}

fn params(fft_size: usize, hop_size: usize) -> StftParams {
    StftParams {
        fft_size,
        win_length: fft_size,
        hop_size,
        window: WindowKind::Hann,
    }
}

#[test]
fn a_slow_consumer_at_hop_1_loses_no_row() {
    // 20 000 frames at hop 1 in 10 ms callbacks: 480 rows each, but the row channel
    // holds 256. Analysis makes what fits and waits for the consumer instead of
    // dropping the rest.
    let (mut cb, mut analysis, link) = analysis_with(params(256, 1));
    let n = 20_000;
    let signal: Vec<f32> = (0..n).map(|i| (i as f32 * 0.1).sin()).collect();
    let mut firsts = Vec::new();
    let mut blocks = signal.chunks(480);
    let mut idle = 0;
    while idle < 3 {
        if let Some(block) = blocks.next() {
            cb.on_data(block, 0);
        }
        // Three passes per callback, the consumer draining after each (10 ms between
        // callbacks leave time for many).
        for _ in 0..3 {
            idle = if analysis.pass().frames == 0 {
                idle + 1
            } else {
                0
            };
            for row in link.rows.try_iter() {
                firsts.push(row.first_sample);
                link.recycle(row);
            }
        }
    }
    let snap = link.stats.snapshot();
    assert_eq!(snap.rows_dropped, 0);
    assert_eq!(snap.rows_produced, (n - 255) as u64);
    assert_eq!(firsts, (0..(n - 255) as u64).collect::<Vec<_>>());
}

#[test]
fn analysis_behind_the_audio_drops_no_row_while_the_consumer_keeps_up() {
    // 20 000 frames (more than 100 ms) waiting at once, as when analysis is slower than
    // the audio: rows are still made only as room frees, and the consumer, draining
    // after every pass, gets every one.
    let (mut cb, mut analysis, link) = analysis_with(params(256, 1));
    let n = 20_000;
    assert!(n > max_backlog_frames(48_000, hopscope::analysis::WINDOW_BACKLOG_S));
    let signal: Vec<f32> = (0..n).map(|i| (i as f32 * 0.1).sin()).collect();
    cb.on_data(&signal, 0);
    let mut rows = 0u64;
    while analysis.pass().frames > 0 {
        for row in link.rows.try_iter() {
            rows += 1;
            link.recycle(row);
        }
    }
    let snap = link.stats.snapshot();
    assert_eq!(snap.rows_dropped, 0);
    assert_eq!(rows, (n - 255) as u64);
}

#[test]
fn a_stalled_ui_makes_analysis_drop_and_count_rows_beyond_100_ms_of_backlog() {
    let (mut cb, mut analysis, link) = analysis_with(params(256, 64));
    // 100 ms at 48 kHz: what analysis leaves waiting before it drops rows.
    let backlog = 4800;
    assert_eq!(
        max_backlog_frames(48_000, hopscope::analysis::WINDOW_BACKLOG_S),
        backlog
    );
    let fed = 256 * 64 + backlog - 1;
    // One frame short of it behind what the row channel holds: analysis fills the row
    // channel, then waits (no drop).
    let signal: Vec<f32> = (0..fed).map(|i| (i as f32 * 0.1).sin()).collect();
    cb.on_data(&signal, 0);
    while analysis.pass().frames > 0 {}
    let snap = link.stats.snapshot();
    assert_eq!(snap.rows_dropped, 0);
    assert!(snap.rows_produced <= ROW_CHANNEL_CAPACITY as u64);
    assert_eq!(link.rows.len() as u64, snap.rows_produced);
    let waiting = fed - snap.frames_analysed as usize;
    assert!(
        waiting >= backlog - 4096,
        "analysis held {waiting} frames back"
    );
    assert!(waiting < backlog);
    // The UI still stalled and 100 ms waiting: rows are analysed and dropped (counted)
    // rather than shown ever later.
    let more: Vec<f32> = (0..20_000).map(|i| (i as f32 * 0.3).sin()).collect();
    cb.on_data(&more, 0);
    while analysis.pass().frames > 0 {}
    let snap = link.stats.snapshot();
    assert!(snap.rows_dropped > 0);
    assert_eq!(link.rows.len(), ROW_CHANNEL_CAPACITY);
    assert_eq!(
        snap.rows_produced,
        snap.rows_dropped + ROW_CHANNEL_CAPACITY as u64
    );
    // The rows that got through are the first ones, in order.
    let firsts: Vec<u64> = link.rows.try_iter().map(|r| r.first_sample).collect();
    let expected: Vec<u64> = (0..ROW_CHANNEL_CAPACITY as u64).map(|m| m * 64).collect();
    assert_eq!(firsts, expected);
    let waiting = fed + more.len() - link.stats.snapshot().frames_analysed as usize;
    assert!(waiting < backlog, "{waiting} frames still waiting");
    const { assert!(ROW_BUFFERS > ROW_CHANNEL_CAPACITY) };
}
