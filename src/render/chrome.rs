//! Axes, ticks, colour bar and title around a plot: shared by the window and `render`.

use super::colormap::{rgb, Colormap, DbRange};
use super::freqmap::{FreqAxis, FreqScale};
use super::text::{text_width, Canvas, GLYPH_PX};

/// Background outside the plot.
pub const BACKGROUND: u32 = rgb(16, 16, 20);
/// Axis and label colour.
pub const FOREGROUND: u32 = rgb(220, 220, 220);
/// Tick colour.
pub const TICK: u32 = rgb(140, 140, 150);

/// A rectangle in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left.
    pub x: usize,
    /// Top.
    pub y: usize,
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
}

impl Rect {
    /// Whether (x, y) lies inside.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }
}

/// Where everything goes in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// The spectrogram.
    pub plot: Rect,
    /// The colour bar.
    pub colorbar: Rect,
}

/// Left margin (frequency labels).
pub const MARGIN_LEFT: usize = 64;
/// Right margin (colour bar and its labels).
pub const MARGIN_RIGHT: usize = 76;
/// Top margin (title).
pub const MARGIN_TOP: usize = 20;
/// Bottom margin (time labels).
pub const MARGIN_BOTTOM: usize = 28;

impl Layout {
    /// The layout of a `width × height` frame.
    pub fn new(width: usize, height: usize) -> Layout {
        let w = width.saturating_sub(MARGIN_LEFT + MARGIN_RIGHT).max(1);
        let h = height.saturating_sub(MARGIN_TOP + MARGIN_BOTTOM).max(1);
        Layout {
            width,
            height,
            plot: Rect {
                x: MARGIN_LEFT,
                y: MARGIN_TOP,
                w,
                h,
            },
            colorbar: Rect {
                x: MARGIN_LEFT + w + 12,
                y: MARGIN_TOP,
                w: 14,
                h,
            },
        }
    }

    /// The layout whose plot is exactly `plot_w × plot_h` (offline render).
    pub fn for_plot(plot_w: usize, plot_h: usize) -> Layout {
        Layout::new(
            plot_w + MARGIN_LEFT + MARGIN_RIGHT,
            plot_h + MARGIN_TOP + MARGIN_BOTTOM,
        )
    }

    /// Frame y of the centre of the plot pixel row at axis fraction `frac` (0 bottom).
    pub fn freq_frac_to_y(&self, frac: f64) -> f64 {
        (self.plot.y + self.plot.h) as f64 - frac * self.plot.h as f64
    }
}

/// Formats a frequency for a tick: `500`, `1k`, `2.5k`, `20k`.
pub fn format_hz(hz: f64) -> String {
    if hz >= 1000.0 {
        let k = hz / 1000.0;
        if (k - k.round()).abs() < 1e-6 {
            format!("{}k", k.round())
        } else {
            format!("{:.1}k", k)
        }
    } else {
        format!("{}", hz.round())
    }
}

/// Tick frequencies for an axis: a 1-2-5 sequence, at least ~18 px apart.
pub fn freq_ticks(axis: &FreqAxis, plot_h: usize) -> Vec<f64> {
    let (lo, hi) = (axis.lo_hz(), axis.fmax_hz);
    let mut candidates = Vec::new();
    match axis.scale {
        FreqScale::Linear => {
            let span = hi - lo;
            let target = (plot_h / 40).clamp(2, 12) as f64;
            let raw = span / target;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| *s >= raw)
                .unwrap_or(10.0 * mag);
            let mut f = (lo / step).ceil() * step;
            while f <= hi + 1e-9 {
                candidates.push(f);
                f += step;
            }
        }
        _ => {
            let mut decade = 10f64.powf(lo.max(1.0).log10().floor());
            while decade <= hi {
                for m in [1.0, 2.0, 5.0] {
                    let f = m * decade;
                    if f >= lo - 1e-9 && f <= hi + 1e-9 {
                        candidates.push(f);
                    }
                }
                decade *= 10.0;
            }
        }
    }
    let mut ticks: Vec<f64> = Vec::new();
    let mut last_y = f64::INFINITY;
    for f in candidates {
        let y = axis.hz_to_frac(f) * plot_h as f64;
        if ticks.is_empty() || (y - last_y).abs() >= 18.0 {
            ticks.push(f);
            last_y = y;
        }
    }
    ticks
}

/// What the chrome shows besides the layout: the frequency axis, the colours and their
/// dB range, time ticks (plot x, label), the title and the colour bar's unit (`dBFS`;
/// `dB mel` for mel bands).
///
/// Thread: the caller's (borrowed, read-only).
#[derive(Clone, Copy, Debug)]
pub struct Chrome<'a> {
    /// The frequency axis of the plot.
    pub axis: &'a FreqAxis,
    /// The colormap of the plot and colour bar.
    pub cmap: &'a Colormap,
    /// The dB range the colours span.
    pub range: DbRange,
    /// Time ticks: (plot x, label).
    pub time_ticks: &'a [(usize, String)],
    /// The title line.
    pub title: &'a str,
    /// The colour bar's unit.
    pub unit: &'a str,
}

/// Draws everything but the plot: background margins, frequency ticks and labels, time
/// ticks, the colour bar with its dB scale, the title.
pub fn draw(canvas: &mut Canvas<'_>, layout: &Layout, chrome: &Chrome<'_>) {
    draw_margins(canvas, layout);
    draw_title(canvas, chrome.title);
    draw_freq_ticks(canvas, layout, chrome.axis);
    draw_time_ticks(canvas, layout, chrome.time_ticks);
    draw_colorbar(canvas, layout, chrome);
}

/// The background around the plot.
fn draw_margins(canvas: &mut Canvas<'_>, layout: &Layout) {
    let p = layout.plot;
    canvas.fill_rect(0, 0, layout.width, p.y, BACKGROUND);
    canvas.fill_rect(
        0,
        (p.y + p.h) as i64,
        layout.width,
        layout.height - (p.y + p.h),
        BACKGROUND,
    );
    canvas.fill_rect(0, p.y as i64, p.x, p.h, BACKGROUND);
    canvas.fill_rect(
        (p.x + p.w) as i64,
        p.y as i64,
        layout.width - (p.x + p.w),
        p.h,
        BACKGROUND,
    );
}

/// Frequency ticks and labels left of the plot, and the `Hz` unit.
fn draw_freq_ticks(canvas: &mut Canvas<'_>, layout: &Layout, axis: &FreqAxis) {
    let p = layout.plot;
    for f in freq_ticks(axis, p.h) {
        let y = layout.freq_frac_to_y(axis.hz_to_frac(f)).round() as i64;
        canvas.fill_rect(p.x as i64 - 5, y, 5, 1, TICK);
        let label = format_hz(f);
        let lw = text_width(&label, 1) as i64;
        canvas.text(p.x as i64 - 8 - lw, y - 4, &label, FOREGROUND, 1);
    }
    canvas.text(4, (p.y + p.h) as i64 + 16, "Hz", TICK, 1);
}

/// The colour bar (top = ceiling), its dB ticks and its unit.
fn draw_colorbar(canvas: &mut Canvas<'_>, layout: &Layout, chrome: &Chrome<'_>) {
    let (cb, range) = (layout.colorbar, chrome.range);
    let lut = chrome.cmap.lut();
    for row in 0..cb.h {
        let t = 1.0 - row as f32 / (cb.h.max(2) - 1) as f32;
        let db = range.floor_db + t * (range.ceiling_db - range.floor_db);
        canvas.fill_rect(
            cb.x as i64,
            (cb.y + row) as i64,
            cb.w,
            1,
            lut[range.index(db)],
        );
    }
    let span = range.ceiling_db - range.floor_db;
    let step = if span > 100.0 {
        20.0
    } else if span > 40.0 {
        10.0
    } else if span > 20.0 {
        5.0
    } else {
        // A model front-end's own units (Whisper's −1..1.5): 1, 2 or 5 × 10^k, 4–10 ticks.
        let base = 10f32.powf((span / 4.0).log10().floor());
        [1.0, 2.0, 5.0]
            .into_iter()
            .map(|m| m * base)
            .find(|s| span / s <= 10.0)
            .unwrap_or(5.0 * base)
    };
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let mut db = (range.floor_db / step).ceil() * step;
    while db <= range.ceiling_db + 1e-3 {
        let frac = (db - range.floor_db) / span;
        let y = (cb.y + cb.h) as f32 - frac * cb.h as f32;
        let y = y.round() as i64;
        canvas.fill_rect((cb.x + cb.w) as i64, y, 3, 1, TICK);
        canvas.text(
            (cb.x + cb.w + 5) as i64,
            y - 4,
            &format!("{db:.decimals$}"),
            FOREGROUND,
            1,
        );
        db += step;
    }
    canvas.text(
        cb.x as i64 - 2,
        (cb.y + cb.h) as i64 + 16,
        chrome.unit,
        TICK,
        1,
    );
}

/// Draws the title line.
pub fn draw_title(canvas: &mut Canvas<'_>, title: &str) {
    canvas.text(4, 6, title, FOREGROUND, 1);
}

/// Draws time ticks ((plot x, label)) under the plot.
pub fn draw_time_ticks(canvas: &mut Canvas<'_>, layout: &Layout, time_ticks: &[(usize, String)]) {
    let p = layout.plot;
    for (x, label) in time_ticks {
        let x = (p.x + x) as i64;
        canvas.fill_rect(x, (p.y + p.h) as i64, 1, 5, TICK);
        let lw = text_width(label, 1) as i64;
        canvas.text(x - lw / 2, (p.y + p.h) as i64 + 8, label, FOREGROUND, 1);
    }
}

/// Copies everything outside the plot from `from` (a frame of the same layout).
pub fn copy_margins(dst: &mut [u32], from: &[u32], layout: &Layout) {
    let (w, p) = (layout.width, layout.plot);
    let top = p.y * w;
    dst[..top].copy_from_slice(&from[..top]);
    let bottom = (p.y + p.h) * w;
    dst[bottom..].copy_from_slice(&from[bottom..]);
    for row in p.y..p.y + p.h {
        let r = row * w;
        dst[r..r + p.x].copy_from_slice(&from[r..r + p.x]);
        dst[r + p.x + p.w..r + w].copy_from_slice(&from[r + p.x + p.w..r + w]);
    }
}

/// Copies only the strips above and below the plot (title, time ticks) from `from`.
pub fn copy_strips(dst: &mut [u32], from: &[u32], layout: &Layout) {
    let (w, p) = (layout.width, layout.plot);
    let top = p.y * w;
    dst[..top].copy_from_slice(&from[..top]);
    let bottom = (p.y + p.h) * w;
    dst[bottom..].copy_from_slice(&from[bottom..]);
}

/// Width in pixels of the widest live time label (`-{age:.decimals$}s`) for ages up to
/// `max_age_s`, plus the gap kept between two labels.
pub fn time_label_gap_px(max_age_s: f64, decimals: usize) -> usize {
    let int_digits = (max_age_s.max(1.0).log10().floor() as usize) + 1;
    let chars = 2 + int_digits + if decimals > 0 { 1 + decimals } else { 0 };
    chars * GLYPH_PX + 8
}

/// Places live time ticks from right (newest) to left over a plot `width` columns wide,
/// where `age_s(x)` is how long before the newest column column `x` was (`None`: no
/// column there, and none further left). The tick for `k·step` goes on the first column
/// (from the right) at least that old. A column that jumps past several steps (rows
/// missing, a gap) gets one tick, the newest step it passed, and the ones it skipped are
/// not drawn later; a tick closer than `min_gap_px` to the previous one is left out, so
/// no label is ever drawn over another. Calls `push(x, tick_s)` for each.
pub fn place_time_ticks(
    width: usize,
    step_s: f64,
    min_gap_px: usize,
    age_s: impl Fn(usize) -> Option<f64>,
    mut push: impl FnMut(usize, f64),
) {
    let mut next_k = 1u64;
    let mut last_x: Option<usize> = None;
    for x in (0..width).rev() {
        let Some(age) = age_s(x) else { break };
        // The newest step this column has reached (with a little slack for rounding).
        let reached = ((age + 1e-9 * step_s.max(1.0)) / step_s).floor();
        if reached < next_k as f64 {
            continue;
        }
        let k = reached as u64;
        next_k = k + 1;
        if last_x.is_some_and(|last| last - x < min_gap_px) {
            continue;
        }
        last_x = Some(x);
        push(x, k as f64 * step_s);
    }
}

/// The time-tick step for ticks at least `min_step_s` apart: the first of the 1-2-5 × 10^k
/// sequence not below it, and the decimals its labels need.
pub fn time_step(min_step_s: f64) -> (f64, usize) {
    const STEPS: [f64; 20] = [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0,
        100.0, 200.0, 500.0, 1000.0, 2000.0,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|s| *s >= min_step_s)
        .unwrap_or(5000.0);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    (step, decimals)
}
