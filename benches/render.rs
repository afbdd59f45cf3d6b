//! `hopscope render` phases on the README's workload: 600 s of 48 kHz mono (a 1 kHz sine
//! at 0.3 plus white noise of RMS 0.05, generated here from a fixed seed) at n_fft 2048 /
//! hop 512, Hann, linear axis, magma, −120..0 dBFS: 56 247 columns × 1025 rows, a
//! 56 387 × 1073 px image. Run: `cargo bench --bench render`; figures go to the README.
//!
//! - `render_600s/stft_colour_index/<threads>`: STFT → dBFS → column map → colour index,
//!   laid out as image rows ([`offline::index_tiles`], transposition included).
//! - `render_600s/transpose`: that transposition alone, single-threaded: the whole
//!   column-major index array into image rows, 64 columns at a time.
//! - `render_600s/png_encode_sink/<threads>`: row assembly (chrome margins + plot
//!   indices through the palette levels) and indexed PNG encoding in parallel bands into
//!   `std::io::sink()` ([`png::encode_indexed`]).
//! - `render_600s/png_crate_alone/<compression>`: the `png` crate alone on the same
//!   indexed image (`write_image_data` from the materialised index image, filter None,
//!   one thread), for comparison: `fast` (fdeflate) and `level1` (flate2 level 1, the
//!   level of our bands). Their file sizes are printed once.
//!
//! `<threads>` runs in a rayon pool of that many threads. Reading the WAV and writing the
//! file are measured whole-process in the README.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::io::png as png_out;
use hopscope::offline::render::{self as offline, IndexTiles, RenderPalette, TILE_BLOCK};
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

/// A rayon pool of `threads` threads.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// Encodes the materialised `index` image with the `png` crate alone (one thread).
fn png_crate_alone(
    layout: &Layout,
    palette: &[u32],
    index: &[u8],
    c: png::DeflateCompression,
) -> usize {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, layout.width as u32, layout.height as u32);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(
        palette
            .iter()
            .flat_map(|c| c.to_be_bytes()[1..].to_vec())
            .collect::<Vec<u8>>(),
    );
    enc.set_filter(png::Filter::NoFilter);
    enc.set_deflate_compression(c);
    let mut writer = enc.write_header().expect("header");
    writer.write_image_data(index).expect("a Vec never fails");
    writer.finish().expect("a Vec never fails");
    out.len()
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn render_600s(c: &mut Criterion) {
    let w = workload();
    let threads = rayon::current_num_threads().max(2);
    let mut g = c.benchmark_group("render_600s");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Elements((w.rows * w.map.height()) as u64));

    for t in [1, threads] {
        let pool = pool(t);
        g.bench_with_input(BenchmarkId::new("stft_colour_index", t), &t, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    black_box(offline::index_tiles(
                        &w.samples, w.rows, w.params, &w.map, w.range,
                    ))
                })
            })
        });
    }
    let tiles: IndexTiles = offline::index_tiles(&w.samples, w.rows, w.params, &w.map, w.range);
    bench_transpose(&mut g, &w, &tiles);
    bench_encode(&mut g, &w, &tiles, threads);
    g.finish();
}

/// The transposition alone: a column-major index array → image rows.
fn bench_transpose(g: &mut Group<'_>, w: &Workload, tiles: &IndexTiles) {
    let height = w.map.height();
    let mut columns = vec![0u8; w.rows * height];
    let mut row = vec![0u8; w.rows];
    for r in 0..height {
        tiles.index_row(r, &mut row);
        for (m, &v) in row.iter().enumerate() {
            columns[m * height + r] = v;
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
            let mut want = vec![0u8; w.rows];
            tiles.index_row(r, &mut want);
            want == image_rows[r * w.rows..(r + 1) * w.rows]
        }),
        "the transposition reproduces the tiles"
    );
    g.bench_function("transpose", |b| {
        b.iter(|| {
            transpose(&mut image_rows);
            black_box(&image_rows);
        })
    });
}

/// Row assembly + indexed PNG encoding, ours and the `png` crate's alone.
fn bench_encode(g: &mut Group<'_>, w: &Workload, tiles: &IndexTiles, threads: usize) {
    let height = w.map.height();
    let layout = Layout::for_plot(w.rows, height);
    let frame = chrome_frame(w, &layout);
    let mut palette = RenderPalette::new(w.cmap.lut());
    let chrome = palette
        .chrome_indices(&frame, &layout, w.cmap.lut())
        .expect("the chrome's few colours fit");
    drop(frame);
    let source = |y: usize, out: &mut [u8]| offline::plot_row(&layout, &chrome, tiles, y, out);
    for t in [1, threads] {
        let pool = pool(t);
        g.bench_with_input(BenchmarkId::new("png_encode_sink", t), &t, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    png_out::encode_indexed(
                        std::io::sink(),
                        layout.width,
                        layout.height,
                        &palette.colours,
                        &source,
                    )
                })
                .expect("a sink never fails")
            })
        });
    }

    let mut index = vec![0u8; layout.width * layout.height];
    for (y, out) in index.chunks_exact_mut(layout.width).enumerate() {
        source(y, out);
    }
    let mut ours = Vec::new();
    png_out::encode_indexed(
        &mut ours,
        layout.width,
        layout.height,
        &palette.colours,
        &source,
    )
    .expect("a Vec never fails");
    for (name, compression) in [
        ("fast", png::DeflateCompression::FdeflateUltraFast),
        ("level1", png::DeflateCompression::Level(1)),
    ] {
        let size = png_crate_alone(&layout, &palette.colours, &index, compression);
        eprintln!(
            "png_crate_alone/{name}: {size} bytes (encode_indexed: {} bytes)",
            ours.len()
        );
        g.bench_function(BenchmarkId::new("png_crate_alone", name), |b| {
            b.iter(|| {
                black_box(png_crate_alone(
                    &layout,
                    &palette.colours,
                    &index,
                    compression,
                ))
            })
        });
    }
}

criterion_group!(benches, render_600s);
criterion_main!(benches);
