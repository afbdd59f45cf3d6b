//! Offline analysis: WAV (hound) → the live engine's [`FrameTransform`] → `.npy`.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use realfft::RealFftPlanner;

use crate::analysis::ChannelSelect;
use crate::config::AnalyzeConfig;
use crate::dsp::scale::Scale;
use crate::dsp::stft::{FrameTransform, StftParams};

use crate::error::{Error, Result};
use crate::{npy, wav};

/// A signal prepared for framing: samples plus the number of rows to take.
#[derive(Clone, Debug, PartialEq)]
pub struct Framed<'a> {
    /// Samples; row `m` uses `[m·hop, m·hop + win_length)`.
    pub samples: Cow<'a, [f32]>,
    /// Rows.
    pub rows: usize,
}

/// Frames `signal` causally (librosa `center=False`), or as librosa `center=True`
/// with `pad_mode="constant"`: `n_fft/2` zeros at both ends, `1 + L/hop` rows.
///
/// With `win_length < n_fft`, librosa's centred frame `m` windows padded samples
/// `[m·hop + left, m·hop + left + win_length)`, `left = (n_fft − win_length)/2`; the
/// front padding is therefore `n_fft/2 − left` so that the causal frames line up.
pub fn frame_signal<'a>(signal: &'a [f32], params: &StftParams, center: bool) -> Framed<'a> {
    if !center {
        return Framed {
            samples: Cow::Borrowed(signal),
            rows: params.rows_for(signal.len() as u64) as usize,
        };
    }
    let half = params.fft_size / 2;
    let front = half - params.window_offset();
    let mut samples = vec![0.0; front + signal.len() + half];
    samples[front..front + signal.len()].copy_from_slice(signal);
    let rows =
        (1 + signal.len() / params.hop_size).min(params.rows_for(samples.len() as u64) as usize);
    Framed {
        samples: Cow::Owned(samples),
        rows,
    }
}

/// Rows per block of the streaming `analyze` pipeline: 2 MB at n_fft 2048, so a block
/// stays in L2 between the workers that fill it and the writer that drains it.
pub const BLOCK_ROWS: usize = 512;

/// One [`FrameTransform`] per worker thread, built once.
pub fn transforms(params: StftParams, scale: Scale, threads: usize) -> Vec<FrameTransform> {
    (0..threads.max(1))
        .map(|_| FrameTransform::new(params, scale, &mut RealFftPlanner::new()))
        .collect()
}

/// Computes rows `first_row..first_row + out.len()/num_bins` of `samples` into `out`
/// (row-major), splitting them over the given transforms, one thread each.
///
/// Thread: caller plus `transforms.len() − 1` scoped workers. Allocates: no.
pub fn compute_rows(
    samples: &[f32],
    first_row: usize,
    transforms: &mut [FrameTransform],
    out: &mut [f32],
) {
    let Some(params) = transforms.first().map(FrameTransform::params) else {
        return;
    };
    let bins = params.num_bins();
    let rows = out.len() / bins;
    if rows == 0 {
        return;
    }
    let per = rows.div_ceil(transforms.len());
    let work = |t: usize, chunk: &mut [f32], tf: &mut FrameTransform| {
        for (i, row) in chunk.chunks_exact_mut(bins).enumerate() {
            let start = (first_row + t * per + i) * params.hop_size;
            tf.process(&samples[start..start + params.win_length], row);
        }
    };
    if transforms.len() == 1 || rows < 64 {
        return work(0, out, &mut transforms[0]);
    }
    std::thread::scope(|scope| {
        let mut jobs = out
            .chunks_mut(per * bins)
            .zip(transforms.iter_mut())
            .enumerate();
        let first = jobs.next();
        for (t, (chunk, tf)) in jobs {
            scope.spawn(move || work(t, chunk, tf));
        }
        if let Some((t, (chunk, tf))) = first {
            work(t, chunk, tf);
        }
    });
}

/// Computes `rows` rows of `samples` into a new row-major `rows × num_bins` array.
pub fn stft_rows(
    samples: &[f32],
    rows: usize,
    params: StftParams,
    scale: Scale,
    threads: usize,
) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * params.num_bins()];
    compute_rows(
        samples,
        0,
        &mut transforms(params, scale, threads),
        &mut out,
    );
    out
}

/// What `analyze` did.
#[derive(Clone, Debug)]
pub struct AnalyzeReport {
    /// Rows written.
    pub rows: usize,
    /// Bins per row.
    pub bins: usize,
    /// Input sample rate.
    pub sample_rate_hz: u32,
    /// Input channels.
    pub channels: usize,
    /// Input duration in seconds.
    pub seconds: f64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

/// Threads for offline work: every available core.
pub fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Computes every row of `framed` block by block and streams them into `writer`:
/// the workers fill block k+1 while a writer thread writes block k.
///
/// # Errors
/// Any write failure (the temporary file is removed).
pub fn stream_rows(
    framed: &Framed<'_>,
    params: StftParams,
    scale: Scale,
    mut writer: npy::NpyWriter,
) -> Result<()> {
    let bins = params.num_bins();
    let (full_tx, full_rx) = crossbeam_channel::bounded::<(Vec<f32>, usize)>(1);
    let (empty_tx, empty_rx) = crossbeam_channel::bounded::<Vec<f32>>(2);
    for _ in 0..2 {
        empty_tx
            .send(vec![0.0; BLOCK_ROWS * bins])
            .expect("receiver alive");
    }
    let mut workers = transforms(params, scale, worker_threads());
    std::thread::scope(|scope| {
        let write = scope.spawn(move || -> Result<()> {
            for (buf, len) in full_rx {
                writer.write(&buf[..len])?;
                let _ = empty_tx.send(buf);
            }
            writer.finish()
        });
        let mut first_row = 0;
        while first_row < framed.rows {
            let n = BLOCK_ROWS.min(framed.rows - first_row);
            let Ok(mut buf) = empty_rx.recv() else { break };
            compute_rows(
                &framed.samples,
                first_row,
                &mut workers,
                &mut buf[..n * bins],
            );
            if full_tx.send((buf, n * bins)).is_err() {
                break; // the writer failed; its error is returned below
            }
            first_row += n;
        }
        drop(full_tx);
        write.join().expect("the writer thread does not panic")
    })
}

/// Runs `hopscope analyze`.
///
/// # Errors
/// Unreadable WAV, a channel that does not exist, a file too short for one frame,
/// or an unwritable output.
pub fn analyze(cfg: &AnalyzeConfig) -> Result<AnalyzeReport> {
    let started = Instant::now();
    let audio = wav::read_wav(&cfg.input)?;
    if let ChannelSelect::Index(c) = cfg.channel {
        if c >= audio.channels {
            return Err(Error::InvalidArgument {
                flag: "--channel",
                message: format!(
                    "channel {c} does not exist: '{}' has {} channel(s) (0..={})",
                    cfg.input.display(),
                    audio.channels,
                    audio.channels - 1
                ),
            });
        }
    }
    let (sample_rate_hz, channels) = (audio.sample_rate_hz, audio.channels);
    let mono = audio.into_mono(cfg.channel);
    let framed = frame_signal(&mono, &cfg.params, cfg.center);
    if framed.rows == 0 {
        return Err(Error::Wav {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, fewer than one window of {} (use --center or a smaller --win-length)",
                mono.len(),
                cfg.params.win_length
            ),
        });
    }
    let bins = cfg.params.num_bins();
    let writer = npy::NpyWriter::create(&cfg.output, framed.rows, bins)?;
    stream_rows(&framed, cfg.params, cfg.scale, writer)?;
    Ok(AnalyzeReport {
        rows: framed.rows,
        bins,
        sample_rate_hz,
        channels,
        seconds: mono.len() as f64 / sample_rate_hz as f64,
        elapsed: started.elapsed(),
    })
}

/// What `render` did.
#[derive(Clone, Debug)]
pub struct RenderReport {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// STFT rows (plot columns).
    pub rows: usize,
    /// Bins per row.
    pub bins: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

/// Time ticks for a plot whose column `x` ends at `(x + 1)·seconds_per_column` s:
/// a 1-2-5 step at least ~90 px apart, labelled in seconds.
pub fn time_ticks(
    columns: usize,
    seconds_per_column: f64,
    first_column_s: f64,
) -> Vec<(usize, String)> {
    let span = columns as f64 * seconds_per_column;
    let raw = span * 90.0 / columns.max(1) as f64;
    let steps = [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0,
        60.0, 120.0, 300.0, 600.0,
    ];
    let step = steps.iter().copied().find(|s| *s >= raw).unwrap_or(1200.0);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let mut ticks = Vec::new();
    let mut t = (first_column_s / step).ceil() * step;
    while t <= first_column_s + span + 1e-9 {
        let x = ((t - first_column_s) / seconds_per_column).round() as usize;
        if x < columns {
            ticks.push((x, format!("{t:.decimals$}s")));
        }
        t += step;
    }
    ticks
}

/// Runs `hopscope render`: the whole file, one column per row, through the window's
/// column map, colormap and chrome.
///
/// # Errors
/// Unreadable WAV, a bad channel or frequency range, a file too short, an unwritable output.
pub fn render(cfg: &crate::config::RenderConfig) -> Result<RenderReport> {
    use crate::render::chrome::{self, Layout, BACKGROUND};
    use crate::render::colormap::Colormap;
    use crate::render::freqmap::ColumnMap;
    use crate::render::text::Canvas;

    let started = Instant::now();
    let audio = wav::read_wav(&cfg.input)?;
    if let ChannelSelect::Index(c) = cfg.channel {
        if c >= audio.channels {
            return Err(Error::InvalidArgument {
                flag: "--channel",
                message: format!(
                    "channel {c} does not exist: the file has {} channel(s)",
                    audio.channels
                ),
            });
        }
    }
    let sample_rate_hz = audio.sample_rate_hz;
    let axis = cfg.look.axis(cfg.freq_scale, sample_rate_hz)?;
    let mono = audio.into_mono(cfg.channel);
    let params = cfg.params;
    let rows = params.rows_for(mono.len() as u64) as usize;
    if rows == 0 {
        return Err(Error::Wav {
            path: cfg.input.clone(),
            message: format!(
                "too short: {} samples, fewer than one window of {}",
                mono.len(),
                params.win_length
            ),
        });
    }
    let bins = params.num_bins();
    let plot_h = cfg.height.unwrap_or(bins);
    let layout = Layout::for_plot(rows, plot_h);
    let map = ColumnMap::new(&axis, plot_h, params.fft_size, sample_rate_hz);
    let cmap = Colormap::new(cfg.look.colormap);
    let range = cfg.look.range;

    // 1. STFT rows → column map → colour index, column-major (index[m·H + r], r = 0 top).
    let threads = worker_threads();
    let mut index = vec![0u8; rows * plot_h];
    let per = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        for (t, chunk) in index.chunks_mut(per * plot_h).enumerate() {
            let (mono, map) = (&mono, &map);
            scope.spawn(move || {
                let mut tf = FrameTransform::new(params, Scale::Db, &mut RealFftPlanner::new());
                let mut row = vec![0.0f32; bins];
                let mut column = vec![0.0f32; plot_h];
                for (i, out) in chunk.chunks_exact_mut(plot_h).enumerate() {
                    let start = (t * per + i) * params.hop_size;
                    tf.process(&mono[start..start + params.win_length], &mut row);
                    map.apply(&row, &mut column);
                    for (o, &v) in out.iter_mut().zip(column.iter().rev()) {
                        *o = range.index(v) as u8;
                    }
                }
            });
        }
    });

    // 2. Transpose into the frame, bands of image rows per thread, 64 rows at a time.
    let (width, height) = (layout.width, layout.height);
    let mut pixels = vec![BACKGROUND; width * height];
    let plot = layout.plot;
    let lut = cmap.lut();
    {
        let plot_rows = &mut pixels[plot.y * width..(plot.y + plot_h) * width];
        let band = plot_h.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for (b, rows_chunk) in plot_rows.chunks_mut(band * width).enumerate() {
                let index = &index;
                scope.spawn(move || {
                    let r0 = b * band;
                    let n = rows_chunk.len() / width;
                    for g in (0..n).step_by(64) {
                        let g_end = (g + 64).min(n);
                        for m in 0..rows {
                            let col = &index[m * plot_h..(m + 1) * plot_h];
                            for r in g..g_end {
                                rows_chunk[r * width + plot.x + m] = lut[col[r0 + r] as usize];
                            }
                        }
                    }
                });
            }
        });
    }

    // 3. Chrome: the window's axes, ticks, colour bar and a title with the parameters.
    let seconds_per_column = params.hop_size as f64 / sample_rate_hz as f64;
    let ticks = time_ticks(
        rows,
        seconds_per_column,
        params.win_length as f64 / sample_rate_hz as f64,
    );
    let name = cfg
        .input
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let title = format!(
        "{name}  {sample_rate_hz} Hz  n_fft {}  win {}  hop {}  {}  {} {:.0}-{:.0} Hz  {:.0}..{:.0} dBFS  {:.1} s",
        params.fft_size,
        params.win_length,
        params.hop_size,
        params.window,
        axis.scale,
        axis.lo_hz(),
        axis.fmax_hz,
        range.floor_db,
        range.ceiling_db,
        mono.len() as f64 / sample_rate_hz as f64
    );
    let mut canvas = Canvas {
        pixels: &mut pixels,
        width,
        height,
    };
    chrome::draw(&mut canvas, &layout, &axis, &cmap, range, &ticks, &title);

    // 4. PNG, atomically.
    crate::render::png_out::write_atomic(&cfg.output, &pixels, width, height).map_err(
        |source| Error::Write {
            path: cfg.output.clone(),
            source,
        },
    )?;
    Ok(RenderReport {
        width,
        height,
        rows,
        bins,
        elapsed: started.elapsed(),
    })
}
