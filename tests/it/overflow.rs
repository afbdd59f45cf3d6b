//! RT3: a stalled consumer makes the ring drop and count exactly the overflow,
//! newest samples first; a stalled UI makes analysis drop and count rows. Nothing blocks.

use std::sync::{mpsc, Arc};
use std::time::Instant;

use ringbuf::traits::{Consumer, Observer};

use hopscope::analysis::{Analysis, AnalysisSetup, ROW_BUFFERS, ROW_CHANNEL_CAPACITY};
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

#[test]
fn stalled_ui_makes_analysis_drop_and_count_rows() {
    let params = StftParams {
        fft_size: 256,
        win_length: 256,
        hop_size: 64,
        window: WindowKind::Hann,
    };
    let (producer, consumer) = ring::sample_ring(48_000, 1);
    let (marks_p, marks_c) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let mut cb = CaptureCallback::<f32>::new(producer, marks_p, stats, 1);
    let (mut analysis, link) = Analysis::new(AnalysisSetup {
        history: None,
        swaps: None,
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
    // 600 rows' worth; the UI never drains.
    let n = 256 + 599 * 64;
    let signal: Vec<f32> = (0..n).map(|i| (i as f32 * 0.1).sin()).collect();
    cb.on_data(&signal, 0);
    while analysis.pass().frames > 0 {}
    let snap = link.stats.snapshot();
    assert_eq!(snap.rows_produced, 600);
    assert_eq!(snap.rows_dropped, 600 - ROW_CHANNEL_CAPACITY as u64);
    assert_eq!(link.rows.len(), ROW_CHANNEL_CAPACITY);
    // The rows that got through are the first ones, in order.
    let firsts: Vec<u64> = link.rows.try_iter().map(|r| r.first_sample).collect();
    let expected: Vec<u64> = (0..ROW_CHANNEL_CAPACITY as u64).map(|m| m * 64).collect();
    assert_eq!(firsts, expected);
    const { assert!(ROW_BUFFERS > ROW_CHANNEL_CAPACITY) };
}
