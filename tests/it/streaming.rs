//! The offline commands stream (`offline::source`, `plot`, `suggest`): their results do
//! not depend on how the file arrives, and their memory does not grow with its length.
//!
//! Oracles: the in-memory paths on the same samples (`suggest::score`, `stft_rows` on a
//! decoded WAV), the definition of the `--width` fold written out by brute force, and
//! the file's own size against the peak heap.

use std::path::Path;

use hopscope::config::{AnalyzeConfig, SuggestConfig};
use hopscope::dsp::entropy::Grid;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::io::wav::NanPolicy;
use hopscope::offline::plot::PlotColumns;
use hopscope::offline::suggest;
use hopscope::stream::ChannelSelect;
use hopscope::stream::CropSeconds;

use crate::support::alloc::measure;
use crate::support::alone::alone;
use crate::support::codecs::{ffmpeg, source_ints, write_wav, SR};
use crate::support::npy::read_npy;
use crate::support::tempdir::TempDir;

fn analyze_cfg(input: &Path, output: &Path, center: bool, crop: CropSeconds) -> AnalyzeConfig {
    AnalyzeConfig {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        params: StftParams {
            fft_size: 1024,
            win_length: 1000,
            hop_size: 300,
            window: WindowKind::Hann,
        },
        scale: ValueScale::Db,
        center,
        channel: ChannelSelect::Mix,
        mel: None,
        export: None,
        nan: NanPolicy::Error,
        crop,
        params_from: None,
        frontend: None,
    }
}

/// The rows of `analyze` on a FLAC equal those on the WAV it was made from, bit for bit,
/// causal and centred; a `--start`/`--end` crop equals the analysis of a WAV holding just
/// that excerpt.
#[test]
fn analyze_rows_do_not_depend_on_the_container_or_the_crop() {
    let dir = TempDir::new("stream-analyze");
    let frames = 150_000;
    let ints = source_ints(frames, 16);
    let (wav, flac) = (dir.join("a.wav"), dir.join("a.flac"));
    write_wav(&wav, &ints, 16);
    ffmpeg(&wav, &["-c:a", "flac"], &flac);
    for center in [false, true] {
        let run = |input: &Path, name: &str, crop: CropSeconds| {
            let out = dir.join(name);
            hopscope::offline::analyze::run(&analyze_cfg(input, &out, center, crop))
                .expect("analyze");
            read_npy(&out)
        };
        let whole = CropSeconds::default();
        let (a, b) = (run(&wav, "w.npy", whole), run(&flac, "f.npy", whole));
        assert_eq!(a.shape, b.shape);
        assert!(
            a.data == b.data,
            "center {center}: FLAC rows differ from WAV rows"
        );
        // The crop: frames [0.5 s, 2.25 s) of the file, as a WAV of its own.
        let (s0, s1) = (24_000usize, 108_000usize);
        let excerpt = dir.join("excerpt.wav");
        write_wav(&excerpt, &ints[s0 * 2..s1 * 2], 16);
        let crop = CropSeconds {
            start_s: Some(0.5),
            end_s: Some(2.25),
        };
        let (c, d) = (run(&flac, "c.npy", crop), run(&excerpt, "e.npy", whole));
        assert_eq!(c.shape, d.shape);
        assert!(
            c.data == d.data,
            "center {center}: the crop differs from the excerpt"
        );
    }
}

/// Streaming `suggest` (span by span, two spans in memory) gives the very bits of the
/// in-memory `score` on the decoded samples, for a file of 2.4 spans.
#[test]
fn streaming_suggest_equals_the_in_memory_score_bit_for_bit() {
    let dir = TempDir::new("stream-suggest");
    let frames = suggest::SPAN_SAMPLES * 12 / 5;
    let ints = source_ints(frames, 16);
    let wav = dir.join("a.wav");
    write_wav(&wav, &ints, 16);
    let grid = Grid::HopRatio(0.25);
    let cfg = SuggestConfig {
        input: wav.clone(),
        windows: vec![WindowKind::Hann],
        grid,
        min_fft_size: 256,
        max_fft_size: 4096,
        channel: ChannelSelect::Index(1),
        nan: NanPolicy::Error,
        crop: CropSeconds::default(),
    };
    let report = suggest::suggest(&cfg).expect("suggest");
    let audio = hopscope::io::wav::read_wav(&wav).expect("read");
    let right: Vec<f32> = audio.samples.iter().skip(1).step_by(2).copied().collect();
    let list = suggest::candidates(&cfg.windows, grid, 256, 4096, right.len());
    let scores = suggest::score(&right, &list, grid, 2);
    assert_eq!(report.scores.len(), scores.len());
    for (a, b) in report.scores.iter().zip(&scores) {
        assert_eq!(a.params, b.params);
        assert_eq!(a.raw_bits.to_bits(), b.raw_bits.to_bits(), "{:?}", a.params);
        assert_eq!(a.rank, b.rank);
    }
    assert_eq!(report.samples, frames);
}

/// `--width`'s fold: column x holds rows a(x) .. max(a(x) + 1, a(x + 1)), a(x) = ⌊x·R/W⌋
/// (the definition, by brute force), and every row lies in the columns `columns_of` says.
#[test]
fn the_width_fold_puts_each_row_in_the_columns_of_its_definition() {
    for (rows, width) in [
        (1u64, 16u64),
        (7, 16),
        (16, 16),
        (17, 16),
        (1000, 7),
        (4001, 4000),
        (8_100_000, 4000),
        (3, 2),
    ] {
        let cols = PlotColumns::Fold { rows, width };
        let a = |x: u64| x * rows / width;
        let mut seen = vec![Vec::new(); width as usize];
        for m in 0..rows.min(20_000) {
            let (first, last) = cols.columns_of(m);
            assert!(first <= last && last < width, "R {rows} W {width} row {m}");
            for x in first..=last {
                seen[x as usize].push(m);
            }
        }
        for x in 0..width {
            let (lo, hi) = (a(x), a(x).max(a(x + 1)).max(a(x) + 1));
            if hi > rows.min(20_000) {
                continue;
            }
            let want: Vec<u64> = (lo..hi).collect();
            assert_eq!(seen[x as usize], want, "R {rows} W {width} column {x}");
        }
    }
}

/// `analyze` of a 120 s file (23 MB of 16-bit samples, 94 MB of f32 rows) holds no more
/// heap than of a 30 s one: two row blocks, the samples of three blocks, the decoder's
/// and writer's buffers, whatever the file's length.
#[test]
fn analyze_memory_does_not_grow_with_the_file() {
    if !alone(module_path!(), "analyze_memory_does_not_grow_with_the_file") {
        return;
    }
    let dir = TempDir::new("stream-mem");
    let long = source_ints(120 * SR as usize, 16);
    let mut peaks = Vec::new();
    for seconds in [30usize, 120] {
        let wav = dir.join(&format!("s{seconds}.wav"));
        write_wav(&wav, &long[..seconds * SR as usize * 2], 16);
        let flac = dir.join(&format!("s{seconds}.flac"));
        ffmpeg(&wav, &["-c:a", "flac"], &flac);
        for input in [wav, flac] {
            let out = dir.join("o.npy");
            let cfg = analyze_cfg(&input, &out, false, CropSeconds::default());
            let (r, peak) = measure(|| hopscope::offline::analyze::run(&cfg));
            r.expect("analyze");
            eprintln!(
                "analyze of {}: peak heap {:.1} MB",
                input.display(),
                peak as f64 / 1e6
            );
            peaks.push(peak);
        }
    }
    // [30 s wav, 30 s flac, 120 s wav, 120 s flac]
    for (short, long) in [(peaks[0], peaks[2]), (peaks[1], peaks[3])] {
        assert!(long < 16 << 20, "peak heap {long} B");
        assert!(
            long <= short + (1 << 20),
            "{long} B for 120 s, {short} B for 30 s"
        );
    }
}

/// `render --width` of a FLAC: every plot pixel is the colour of the maximum, over the
/// rows of its column (the fold's definition), of that pixel's value in each row: the
/// STFT row in dBFS through the frequency axis's map, as the live window's time axis
/// aggregates. On a log axis (whose low pixels interpolate between bins) and a linear
/// one, with more columns than rows and fewer.
#[test]
fn render_width_draws_the_maximum_of_each_pixel_over_its_rows() {
    use clap::Parser;
    use hopscope::dsp::stft::FrameTransform;
    use hopscope::offline::render::RenderPalette;
    use hopscope::render::chrome::Layout;
    use hopscope::render::colormap::Colormap;
    use hopscope::render::freqmap::ColumnMap;

    let dir = TempDir::new("stream-render");
    let frames = 96_000;
    let ints = source_ints(frames, 16);
    let (wav, flac) = (dir.join("a.wav"), dir.join("a.flac"));
    write_wav(&wav, &ints, 16);
    ffmpeg(&wav, &["-c:a", "flac"], &flac);
    let audio = hopscope::io::wav::read_wav(&wav).expect("read");
    let mono: Vec<f32> = audio
        .samples
        .chunks_exact(2)
        .map(|f| (f[0] + f[1]) * 0.5)
        .collect();
    for (scale, width) in [("log", "123"), ("linear", "700"), ("log", "2000")] {
        let out = dir.join(&format!("{scale}{width}.png"));
        let args = [
            "hopscope",
            "render",
            flac.to_str().expect("utf-8"),
            "-o",
            out.to_str().expect("utf-8"),
            "--n-fft",
            "512",
            "--hop",
            "256",
            "--height",
            "150",
            "--width",
            width,
            "--freq-scale",
            scale,
            "--colormap",
            "grayscale",
        ];
        let cli = hopscope::cli::Cli::try_parse_from(args).expect("flags");
        let Some(hopscope::cli::Command::Render(render_args)) = cli.command else {
            panic!("not render");
        };
        let cfg = hopscope::config::RenderConfig::try_from(&render_args).expect("config");
        let report = hopscope::offline::render::run(&cfg).expect("render");
        let p = cfg.params;
        let rows = p.rows_for(frames as u64) as usize;
        let w: usize = width.parse().expect("a number");
        assert_eq!(report.rows, rows);
        let axis = cfg.look.axis(cfg.freq_scale, SR).expect("axis");
        let map = ColumnMap::new(&axis, 150, p.fft_size, SR);
        let mut tf = FrameTransform::new(p, ValueScale::Db);
        let (mut db, mut mapped) = (vec![0.0; p.num_bins()], vec![0.0; 150]);
        let values: Vec<Vec<f32>> = (0..rows)
            .map(|m| {
                tf.process(
                    &mono[m * p.hop_size..m * p.hop_size + p.win_length],
                    &mut db,
                );
                map.apply(&db, &mut mapped);
                mapped.clone()
            })
            .collect();
        let img = crate::support::image::decode_png(&out);
        let layout = Layout::for_plot(w, 150);
        assert_eq!((img.width, img.height), (layout.width, layout.height));
        let cmap = Colormap::new(cfg.look.colormap);
        let palette = RenderPalette::new(cmap.lut());
        let range = cfg.look.range;
        let a = |x: usize| x * rows / w;
        let mut wrong = 0;
        for x in 0..w {
            let (lo, hi) = (a(x), a(x + 1).max(a(x) + 1));
            for y in 0..150 {
                let v = values[lo..hi]
                    .iter()
                    .map(|r| r[y])
                    .fold(f32::NEG_INFINITY, f32::max);
                let want = palette.colours[usize::from(palette.level_of[range.index(v)])];
                let got = img.at(layout.plot.x + x, layout.plot.y + 149 - y) & 0x00ff_ffff;
                if got != want {
                    wrong += 1;
                }
            }
        }
        assert_eq!(wrong, 0, "{scale} width {width}: {wrong} pixels differ");
    }
}
