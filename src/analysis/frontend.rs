//! A front-end pane on the analysis thread: the stream's mono samples resampled to the
//! front-end's rate ([`Resampler`]), its rows ([`FrontendEngine`]), Whisper-style clamps
//! against a rolling reference span ([`SpanMax`], the spec's `live_span_s`, 30 s for
//! Whisper) and the affine scaling ([`Post`]), stamped in stream samples so that they
//! fold onto the same time columns as the STFT panes.
//!
//! Values are the front-end's own units; a front-end without a log (linear |X| or mel
//! power) is shown as `10·log10(v)` so that it is coloured on a log scale
//! ([`crate::render::frontend::display_range`] gives the matching colour range).
//!
//! Thread: analysis. Allocates: in `new` only.

use crate::dsp::frontend::engine::FrontendEngine;
use crate::dsp::frontend::{row_max, FrontendSpec, Post, SpanMax};
use crate::dsp::resample::{ResampleError, Resampler};
use crate::dsp::stft::{StftParams, MAX_FFT_SIZE};
use crate::dsp::window::WindowKind;

/// `text` in the window's ASCII font: `×` → `x`, `−` → `-`, `·` → `.`, `²` → `^2`,
/// anything else outside ASCII → `?`.
pub fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '×' => out.push('x'),
            '−' | '–' => out.push('-'),
            '·' => out.push('.'),
            '²' => out.push_str("^2"),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// The HUD's two lines for a front-end pane on a stream at `stream_rate_hz`: what it is
/// and its rates, then the model's input and the clamp's reference span.
pub fn hud_lines(spec: &FrontendSpec, stream_rate_hz: u32) -> (String, String) {
    let rate = if spec.sample_rate_hz == stream_rate_hz {
        format!("{} Hz", spec.sample_rate_hz)
    } else {
        format!(
            "{} Hz (resampled from {stream_rate_hz})",
            spec.sample_rate_hz
        )
    };
    let first = format!(
        "FRONT-END {} (N/Shift+N)  {rate}  n_fft {} win {} hop {}  {:.2} frames/s  {} bands  E: save JSON",
        spec.name,
        spec.n_fft,
        spec.win_length,
        spec.hop,
        spec.frame_rate_hz(),
        spec.bands(),
    );
    let input = spec
        .model_input
        .as_ref()
        .map_or_else(|| "no fixed input shape".to_owned(), |m| m.text.clone());
    let clamp = match spec.clamp {
        Some(c) => format!(
            "clamp max - {} over the last {} s (rolling)",
            c.below_max, c.live_span_s
        ),
        None => "no clamp".to_owned(),
    };
    let second = format!("input {input}  {clamp}");
    (ascii(&first), ascii(&second))
}

/// Rows of the clamp's rolling reference span (at least 1).
pub fn span_rows(spec: &FrontendSpec) -> usize {
    spec.clamp
        .map_or(1, |c| {
            (c.live_span_s * spec.frame_rate_hz()).ceil() as usize
        })
        .max(1)
}

/// One row on its way out: values, and where it lies in the stream.
pub struct FrontendRow<'a> {
    /// The front-end's bands, after the clamp and scaling.
    pub values: &'a [f32],
    /// Stream index of its first sample (its frame's start, at the stream's rate).
    pub first_sample: u64,
    /// Stream index just past its last sample.
    pub end_sample: u64,
    /// Its geometry in stream samples (n_fft, window and hop at the stream's rate).
    pub params: StftParams,
}

/// See the module documentation.
///
/// Thread: analysis. Allocates: in `new` only.
pub struct FrontendPane {
    resampler: Resampler,
    engine: FrontendEngine,
    span: SpanMax,
    post: Post,
    /// Whether values go through `10·log10` (no log in the spec).
    log_colour: bool,
    row: Vec<f32>,
    /// Stream index of resampled sample 0.
    origin: u64,
    /// Rows emitted since `origin`.
    rows: u64,
    params: StftParams,
}

impl FrontendPane {
    /// `spec` on a stream at `stream_rate_hz`, from stream sample `origin` on.
    ///
    /// # Errors
    /// No resampler from the stream's rate to the front-end's.
    pub fn new(
        spec: &FrontendSpec,
        stream_rate_hz: u32,
        origin: u64,
    ) -> Result<FrontendPane, ResampleError> {
        let resampler = Resampler::new(stream_rate_hz, spec.sample_rate_hz)?;
        let to_stream = |n: usize| {
            ((n as f64 * f64::from(stream_rate_hz) / f64::from(spec.sample_rate_hz)).round()
                as usize)
                .clamp(1, MAX_FFT_SIZE)
        };
        let params = StftParams {
            fft_size: to_stream(spec.n_fft),
            win_length: to_stream(spec.win_length),
            hop_size: to_stream(spec.hop),
            window: WindowKind::Hann,
        };
        Ok(FrontendPane {
            resampler,
            engine: FrontendEngine::new(spec),
            span: SpanMax::new(span_rows(spec)),
            post: spec.post(),
            log_colour: spec.log.is_none(),
            row: vec![0.0; spec.bands()],
            origin,
            rows: 0,
            params,
        })
    }

    /// The front-end it computes.
    pub fn spec(&self) -> &FrontendSpec {
        self.engine.spec()
    }

    /// The stream rate it resamples from.
    pub fn stream_rate_hz(&self) -> u32 {
        self.resampler.from_hz()
    }

    /// Its geometry in stream samples.
    pub fn params(&self) -> StftParams {
        self.params
    }

    /// Starts the signal over at stream sample `origin` (after a gap in the input): the
    /// resampler and the frames restart, the clamp's reference span keeps its rows.
    ///
    /// Allocates: no.
    pub fn restart(&mut self, origin: u64) {
        self.resampler.reset();
        self.engine.reset();
        self.origin = origin;
        self.rows = 0;
    }

    /// Resamples `mono` and hands every row it completes to `on_row`.
    ///
    /// Allocates: no.
    pub fn push(&mut self, mono: &[f32], mut on_row: impl FnMut(FrontendRow<'_>)) {
        let FrontendPane {
            resampler,
            engine,
            span,
            post,
            log_colour,
            row,
            origin,
            rows,
            params,
        } = self;
        let (from, to) = (
            u128::from(resampler.from_hz()),
            u128::from(resampler.to_hz()),
        );
        // Resampled index j ↔ stream index origin + j·from/to.
        let at_stream = |j: i64| -> u64 {
            let j = u128::try_from(j.max(0)).unwrap_or(0);
            *origin + u64::try_from(j * from / to).unwrap_or(u64::MAX)
        };
        let win = engine.spec().win_length as i64;
        // The spec is needed per row while the engine is borrowed: its frame geometry.
        let (hop, shift) = (engine.spec().hop as i64, -engine.spec().frame_start(0));
        resampler.push(mono, |out| {
            engine.push(out, |values| {
                let start = *rows as i64 * hop - shift;
                *rows += 1;
                row.copy_from_slice(values);
                let span_max = span.push(row_max(row));
                post.apply(span_max, row);
                if *log_colour {
                    row.iter_mut()
                        .for_each(|v| *v = crate::render::frontend::log_colour(*v));
                }
                on_row(FrontendRow {
                    values: row,
                    first_sample: at_stream(start),
                    end_sample: at_stream(start + win),
                    params: *params,
                });
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::frontend::engine::FrontendEngine;
    use crate::dsp::frontend::presets;
    use crate::render::frontend::{display_range, display_unit};

    fn sine(hz: f64, rate_hz: u32, n: usize, amp: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (amp * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate_hz)).sin())
                    as f32
            })
            .collect()
    }

    /// The oracle: the engine and Post on a 16 kHz sine generated directly, with the
    /// span's maximum as the live path computes it.
    fn direct_rows(spec: &FrontendSpec, x: &[f32]) -> Vec<Vec<f32>> {
        let mut e = FrontendEngine::new(spec);
        let mut span = SpanMax::new(span_rows(spec));
        let post = spec.post();
        let mut out = Vec::new();
        e.push(x, |r| {
            let mut r = r.to_vec();
            let m = span.push(row_max(&r));
            post.apply(m, &mut r);
            out.push(r);
        });
        out
    }

    #[test]
    fn a_1khz_sine_at_48k_reads_as_the_same_sine_generated_at_16k() {
        let spec = presets::by_name("whisper").expect("built in");
        let mut pane = FrontendPane::new(&spec, 48_000, 0).expect("48k → 16k");
        let x48 = sine(1000.0, 48_000, 48_000, 0.5);
        let mut live = Vec::new();
        let mut ends = Vec::new();
        for chunk in x48.chunks(480) {
            pane.push(chunk, |r| {
                live.push(r.values.to_vec());
                ends.push(r.end_sample);
            });
        }
        let oracle = direct_rows(&spec, &sine(1000.0, 16_000, 16_000, 0.5));
        assert!(live.len() > 80, "{} rows", live.len());
        // The band holding 1 kHz: the one whose centre is nearest.
        let band = (0..spec.bands())
            .min_by(|&a, &b| {
                (spec.band_hz(a) - 1000.0)
                    .abs()
                    .total_cmp(&(spec.band_hz(b) - 1000.0).abs())
            })
            .expect("bands");
        // Rows past the start's reflection, before the resampler's tail.
        let mut worst = 0.0f32;
        for (m, (got, want)) in live.iter().zip(&oracle).enumerate().skip(3) {
            let peak = got
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            assert!(
                peak.is_some_and(|p| p.abs_diff(band) <= 1),
                "row {m}: peak band {peak:?}, 1 kHz is band {band}"
            );
            assert!(
                (got[band] - want[band]).abs() < 1e-3,
                "row {m}: {} vs {}",
                got[band],
                want[band]
            );
            for (g, w) in got.iter().zip(want) {
                worst = worst.max((g - w).abs());
            }
        }
        // Whisper's units: (log10 P + 4)/4; a 1e-3 difference is 0.012 dB of power; the
        // clamp floor (max − 8) makes far bands equal exactly.
        assert!(worst < 2e-3, "worst difference {worst}");
        // Row m ends at stream sample (m·160 − 200 + 400)·3.
        assert_eq!(ends[10], (10 * 160 + 200) * 3);
    }

    #[test]
    fn linear_front_ends_are_shown_in_log_units() {
        let spec = presets::by_name("tf-tutorial").expect("built in");
        let (lo, hi) = display_range(&spec);
        assert!(
            (lo - -30.0).abs() < 1e-4 && (hi - 14.771).abs() < 1e-3,
            "{lo}..{hi}"
        );
        assert_eq!(display_unit(&spec), "dB lin");
        for spec in presets::all() {
            assert!(display_unit(&spec).len() <= 8, "{}", spec.name);
            let (a, b) = hud_lines(&spec, 48_000);
            assert!(a.is_ascii() && b.is_ascii(), "{a} / {b}");
        }
        let (a, b) = hud_lines(&presets::by_name("whisper").expect("built in"), 48_000);
        assert!(a.contains("16000 Hz (resampled from 48000)"), "{a}");
        assert!(a.contains("100.00 frames/s"), "{a}");
        assert!(b.contains("80 x 3000 per 30 s"), "{b}");
        assert!(
            b.contains("clamp max - 8 over the last 30 s (rolling)"),
            "{b}"
        );
        let whisper = presets::by_name("whisper").expect("built in");
        assert_eq!(display_range(&whisper), whisper.display_range);
        assert_eq!(span_rows(&whisper), 3000);
    }
}
