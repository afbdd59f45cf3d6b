//! STFT cost. Run: `make bench` (or `cargo bench --bench stft`); figures go to the README.
//!
//! - `bare_realfft/N`: one realfft forward transform, the floor any STFT pays.
//! - `row/<window>/N`: one full row (window, FFT, calibrated dBFS) — compare with the hop's
//!   real-time budget `hop/sr` (at hop = N/4, 48 kHz: N/4/48 µs·1000).
//! - `row_scale/<scale>/2048`: the cost of each output scale.
//! - `stream_push/N`: the live engine (`Stft::push`) per row, history copy included.
//! - `analyze_600s/<threads>`: 600 s of 48 kHz mono at 2048/512, magnitudes: the 56 247
//!   rows `analyze` computes, block by block as it does; `analyze_600s/bare_transforms` is
//!   the floor (the same transforms alone, single-threaded). Goal: `/1` ≤ 1.3 × the floor.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use realfft::RealFftPlanner;

use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::{FrameTransform, Stft, StftParams};
use hopscope::dsp::window::{WindowKind, ALL_WINDOWS};
use hopscope::offline;

const SIZES: [usize; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];
const RNG_SEED: u64 = 0x0B5E_55ED;

fn noise(n: usize) -> Vec<f32> {
    let mut s = RNG_SEED;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn params(fft_size: usize, window: WindowKind) -> StftParams {
    StftParams {
        fft_size,
        win_length: fft_size,
        hop_size: fft_size / 4,
        window,
    }
}

fn bare_realfft(c: &mut Criterion) {
    let mut g = c.benchmark_group("bare_realfft");
    let mut planner = RealFftPlanner::<f32>::new();
    for n in SIZES {
        let fft = planner.plan_fft_forward(n);
        let mut input = fft.make_input_vec();
        let mut output = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let frame = noise(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                input.copy_from_slice(&frame);
                fft.process_with_scratch(&mut input, &mut output, &mut scratch)
                    .expect("lengths from make_*_vec");
                black_box(&output);
            })
        });
    }
    g.finish();
}

fn row(c: &mut Criterion) {
    for window in ALL_WINDOWS {
        let mut g = c.benchmark_group(format!("row/{}", window.base_name()));
        for n in SIZES {
            let p = params(n, window);
            let mut t = FrameTransform::new(p, ValueScale::Db);
            let frame = noise(n);
            let mut out = vec![0.0; p.num_bins()];
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    t.process(black_box(&frame), &mut out);
                    black_box(&out);
                })
            });
        }
        g.finish();
    }
}

fn row_scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("row_scale");
    for scale in [ValueScale::Magnitude, ValueScale::Power, ValueScale::Db] {
        let p = params(2048, WindowKind::Hann);
        let mut t = FrameTransform::new(p, scale);
        let frame = noise(2048);
        let mut out = vec![0.0; p.num_bins()];
        g.bench_function(BenchmarkId::new(scale.to_string(), 2048), |b| {
            b.iter(|| {
                t.process(black_box(&frame), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
}

fn stream_push(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream_push");
    for n in SIZES {
        let p = params(n, WindowKind::Hann);
        let mut stft = Stft::new(p, ValueScale::Db);
        let signal = noise(p.hop_size * 64);
        g.throughput(Throughput::Elements(64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let mut rows = 0u32;
                stft.push(&signal, |_, row| {
                    rows += 1;
                    black_box(row);
                });
                black_box(rows)
            })
        });
    }
    g.finish();
}

/// The analysis cost of compare panes (issue 4 §2): one second of 48 kHz audio pushed
/// through 4 engines at n_fft 4096 / hop 256 (187.5 dB rows/s each), as a 4-pane
/// comparison of windows would run on the analysis thread. Real time needs < 1 s.
fn four_panes(c: &mut Criterion) {
    let mut g = c.benchmark_group("four_panes_4096_256");
    let windows = [
        WindowKind::Hamming,
        WindowKind::Hann,
        WindowKind::Blackman,
        WindowKind::Kaiser { beta: 8.6 },
    ];
    let mut engines: Vec<Stft> = windows
        .iter()
        .map(|&w| {
            Stft::new(
                StftParams {
                    fft_size: 4096,
                    win_length: 4096,
                    hop_size: 256,
                    window: w,
                },
                ValueScale::Db,
            )
        })
        .collect();
    let second = noise(48_000);
    g.throughput(Throughput::Elements(48_000));
    g.bench_function("one_second_of_audio", |b| {
        b.iter(|| {
            let mut rows = 0u32;
            for stft in &mut engines {
                stft.push(&second, |_, row| {
                    rows += 1;
                    black_box(row);
                });
            }
            black_box(rows)
        })
    });
    g.finish();
}

fn analyze_600s(c: &mut Criterion) {
    let mut g = c.benchmark_group("analyze_600s");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    let signal = noise(600 * 48_000);
    let p = StftParams {
        fft_size: 2048,
        win_length: 2048,
        hop_size: 512,
        window: WindowKind::Hann,
    };
    let rows = p.rows_for(signal.len() as u64) as usize;
    // Exactly analyze's compute: blocks of BLOCK_ROWS rows into a reused buffer
    // (file reading and writing are measured whole-process in the README).
    let bins = p.num_bins();
    let mut block = vec![0.0f32; offline::BLOCK_ROWS * bins];
    let transform = FrameTransform::new(p, ValueScale::Magnitude);
    for threads in [1, rayon::current_num_threads().max(2)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        g.bench_with_input(BenchmarkId::from_parameter(threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    let mut first = 0;
                    while first < rows {
                        let n = offline::BLOCK_ROWS.min(rows - first);
                        offline::compute_rows(&signal, first, &transform, &mut block[..n * bins]);
                        first += n;
                    }
                });
                black_box(&block);
            })
        });
    }
    // The floor: the same number of bare transforms, single-threaded.
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(2048);
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    g.bench_function("bare_transforms", |b| {
        b.iter(|| {
            for m in 0..rows {
                input.copy_from_slice(&signal[m * 512..m * 512 + 2048]);
                fft.process_with_scratch(&mut input, &mut output, &mut scratch)
                    .expect("lengths from make_*_vec");
            }
            black_box(&output);
        })
    });
    g.finish();
}

fn short() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
}

criterion_group! {
    name = benches;
    config = short();
    targets = bare_realfft, row_scale, row, stream_push, four_panes, analyze_600s
}
criterion_main!(benches);
