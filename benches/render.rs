//! `hopscope render` phases on the README's workload: 600 s of 48 kHz mono (a 1 kHz sine
//! at 0.3 plus white noise of RMS 0.05, generated here from a fixed seed) at n_fft 2048 /
//! hop 512, Hann, linear axis, magma, −120..0 dBFS: 56 247 columns × 1025 rows, a
//! 56 387 × 1073 px image. Run: `cargo bench --bench render`; figures go to the README.
//!
//! - `render_600s/stft_colour_index/<threads>`: STFT → dBFS → column map → colour index,
//!   laid out as image rows ([`offline::index_tiles`], transposition included).
//! - `render_600s/transpose`: that transposition alone, single-threaded: the whole
//!   column-major index array into image rows, 64 columns at a time.
//! - `render_600s/png_encode_sink/<threads>`: row assembly (chrome margins + colormap)
//!   and PNG encoding into `std::io::sink()` ([`png::encode_rows`]).
//! - `render_600s/png_crate_fast_sink`: the encoder `render` used before, for comparison:
//!   the `png` crate's `Compression::Fast` (adaptive filter + fdeflate), single-threaded,
//!   from the materialised frame.
//!
//! Reading the WAV and writing the file are measured whole-process in the README.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::io::png as png_out;
use hopscope::offline::render::{self as offline, IndexTiles, TILE_BLOCK};
use hopscope::render::chrome::{self, Layout};
use hopscope::render::colormap::{Colormap, ColormapKind, DbRange};
use hopscope::render::freqmap::{ColumnMap, FreqAxis, FreqScale};
use hopscope::render::text::Canvas;

const RNG_SEED: u64 = 0x0B5E_55ED;
const SAMPLE_RATE: u32 = 48_000;

/// 600 s: a 1 kHz sine at 0.3 plus uniform white noise of RMS 0.05.
fn signal() -> Vec<f32> {
    let mut s = RNG_SEED;
    let a = 0.05 * 3f32.sqrt();
    (0..600 * SAMPLE_RATE as usize)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            let t = i as f64 / SAMPLE_RATE as f64;
            (0.3 * (std::f64::consts::TAU * 1000.0 * t).sin()) as f32 + a * u
        })
        .collect()
}

struct Workload {
    samples: Vec<f32>,
    params: StftParams,
    rows: usize,
    map: ColumnMap,
    axis: FreqAxis,
    range: DbRange,
    cmap: Colormap,
}

fn workload() -> Workload {
    let samples = signal();
    let params = StftParams {
        fft_size: 2048,
        win_length: 2048,
        hop_size: 512,
        window: WindowKind::Hann,
    };
    let rows = params.rows_for(samples.len() as u64) as usize;
    let axis = FreqAxis {
        scale: FreqScale::Linear,
        fmin_hz: 0.0,
        fmax_hz: SAMPLE_RATE as f64 / 2.0,
    };
    let map = ColumnMap::new(&axis, params.num_bins(), params.fft_size, SAMPLE_RATE);
    Workload {
        samples,
        params,
        rows,
        map,
        axis,
        range: DbRange {
            floor_db: -120.0,
            ceiling_db: 0.0,
        },
        cmap: Colormap::new(ColormapKind::Magma),
    }
}

/// The chrome `render` draws around the plot (a zeroed frame: only margins are touched).
fn chrome_frame(w: &Workload, layout: &Layout) -> Vec<u32> {
    let seconds_per_column = w.params.hop_size as f64 / SAMPLE_RATE as f64;
    let ticks = offline::time_ticks(w.rows, seconds_per_column, 2048.0 / SAMPLE_RATE as f64);
    let mut frame = vec![0u32; layout.width * layout.height];
    let mut canvas = Canvas {
        pixels: &mut frame,
        width: layout.width,
        height: layout.height,
    };
    let title = "bench.wav  48000 Hz  n_fft 2048  win 2048  hop 512  hann  linear 0-24000 Hz";
    let spec = chrome::Chrome {
        axis: &w.axis,
        cmap: &w.cmap,
        range: w.range,
        time_ticks: &ticks,
        title,
        unit: "dBFS",
    };
    chrome::draw(&mut canvas, layout, &spec);
    frame
}

fn render_600s(c: &mut Criterion) {
    let w = workload();
    let threads = hopscope::offline::worker_threads().max(2);
    let height = w.map.height();
    let mut g = c.benchmark_group("render_600s");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements((w.rows * height) as u64));

    for t in [1, threads] {
        g.bench_with_input(BenchmarkId::new("stft_colour_index", t), &t, |b, &t| {
            b.iter(|| {
                black_box(offline::index_tiles(
                    &w.samples, w.rows, w.params, &w.map, w.range, t,
                ))
            })
        });
    }
    let tiles: IndexTiles =
        offline::index_tiles(&w.samples, w.rows, w.params, &w.map, w.range, threads);

    // The transposition alone: a column-major index array → image rows.
    let mut columns = vec![0u8; w.rows * height];
    let mut row = vec![0u32; w.rows];
    for r in 0..height {
        tiles.colour_row(r, &std::array::from_fn(|i| i as u32), &mut row);
        for (m, &v) in row.iter().enumerate() {
            columns[m * height + r] = v as u8;
        }
    }
    let mut image_rows = vec![0u8; w.rows * height];
    let transpose = |image_rows: &mut [u8]| {
        for at in (0..w.rows).step_by(TILE_BLOCK) {
            let n = TILE_BLOCK.min(w.rows - at);
            let block = &columns[at * height..(at + n) * height];
            offline::transpose_block(block, height, n, image_rows, w.rows, at);
        }
    };
    transpose(&mut image_rows);
    assert!(
        (0..height).all(|r| {
            let mut want = vec![0u32; w.rows];
            tiles.colour_row(r, &std::array::from_fn(|i| i as u32), &mut want);
            want.iter()
                .zip(&image_rows[r * w.rows..(r + 1) * w.rows])
                .all(|(&a, &b)| a == u32::from(b))
        }),
        "the transposition reproduces the tiles"
    );
    g.bench_function("transpose", |b| {
        b.iter(|| {
            transpose(&mut image_rows);
            black_box(&image_rows);
        })
    });
    drop((columns, image_rows));

    let layout = Layout::for_plot(w.rows, height);
    let frame = chrome_frame(&w, &layout);
    let lut = w.cmap.lut();
    let source =
        |y: usize, out: &mut [u32]| offline::plot_row(&layout, &frame, &tiles, lut, y, out);
    for t in [1, threads] {
        g.bench_with_input(BenchmarkId::new("png_encode_sink", t), &t, |b, &t| {
            b.iter(|| {
                png_out::encode_rows(std::io::sink(), layout.width, layout.height, t, &source)
                    .expect("a sink never fails")
            })
        });
    }

    let mut pixels = vec![0u32; layout.width * layout.height];
    for (y, out) in pixels.chunks_exact_mut(layout.width).enumerate() {
        source(y, out);
    }
    g.bench_function("png_crate_fast_sink", |b| {
        b.iter(|| {
            let mut enc =
                png::Encoder::new(std::io::sink(), layout.width as u32, layout.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            let mut writer = enc.write_header().expect("header");
            let mut stream = writer.stream_writer().expect("stream");
            let mut line = vec![0u8; layout.width * 3];
            for row in pixels.chunks_exact(layout.width) {
                for (dst, &p) in line.chunks_exact_mut(3).zip(row) {
                    dst.copy_from_slice(&p.to_be_bytes()[1..]);
                }
                std::io::Write::write_all(&mut stream, &line).expect("a sink never fails");
            }
            stream.finish().expect("a sink never fails");
        })
    });
    g.finish();
}

criterion_group!(benches, render_600s);
criterion_main!(benches);
