//! What is drawn over the waterfalls: parameter-change markers, the NO INPUT and notice
//! banners, the HUD box, the linked cursor readout, the help box. Each overlay's
//! geometry is fixed before anything is drawn (so the server-side mode can lay the
//! waterfall under all of them first); its text stays where it lives (a marker, a
//! reused buffer) and is looked up when drawn, so placing overlays allocates nothing.

use std::fmt::Write;

use crate::config::pane::PaneSettings;
use crate::dsp::music::Note;
use crate::render::chrome::{Rect, FOREGROUND};
use crate::render::colormap::rgb;
use crate::render::text::{text_width, Canvas};
use crate::render::waterfall::Marker;
use crate::ui::hud::BANNER;
use crate::ui::keys::KEY_HELP;
use crate::ui::pane::{display_axis, Pane};
use crate::ui::state::ViewState;

/// The NO INPUT banner's background (white text on it).
pub const NO_INPUT: u32 = rgb(200, 30, 30);
/// A notice's background (white text on it).
pub const NOTICE: u32 = rgb(150, 40, 20);
const WHITE: u32 = rgb(255, 255, 255);
/// The NO INPUT (and notice) banner's height, px.
pub const NO_INPUT_H: usize = 24;
const MARKER: u32 = rgb(240, 240, 240);
/// Arm of the linked cursor's cross, px.
const CROSS_ARM: usize = 4;

/// Which text a banner shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BannerText {
    /// NO INPUT and why.
    NoInput,
    /// A failed background job.
    Notice,
}

/// Something drawn over the waterfall, in band coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Overlay {
    /// A parameter-change marker's dotted line at x.
    MarkerLine { x: usize },
    /// Label of marker `marker` (an index into the pane's markers) at (x, y); `w`: its
    /// text's width.
    Label {
        x: i64,
        y: i64,
        w: usize,
        marker: usize,
    },
    /// The HUD box at (x, y), its top-left `w × h`.
    Hud {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
    },
    /// The cursor readout text at (x, y); `w`: its width.
    Readout { x: usize, y: usize, w: usize },
    /// The linked cursor's point in a pane the pointer is not over (a small cross).
    Cross { x: usize, y: usize },
    /// A banner `w × h` at (x, y): white text on `color`.
    Banner {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        text: BannerText,
        color: u32,
    },
    /// The help box with its top-left corner at (x, y).
    Help { x: i64, y: i64 },
}

/// Where the overlays' texts and pixels are, to draw them.
pub struct OverlayTexts<'a> {
    /// The pane's markers ([`Overlay::Label`] indexes them).
    pub markers: &'a [Marker],
    /// The readout's text.
    pub readout: &'a str,
    /// The NO INPUT banner's text.
    pub no_input: &'a str,
    /// The notice's text.
    pub notice: &'a str,
    /// The help box.
    pub help: &'a HelpBox,
    /// The HUD box: pixels, width, height.
    pub hud: (&'a [u32], usize, usize),
}

impl Overlay {
    /// The pixels it touches in a `width × height` band, clipped to it.
    pub fn rect(&self, plot: Rect, help: &HelpBox, width: usize, height: usize) -> Rect {
        let (x, y, w, h) = match *self {
            Overlay::MarkerLine { x } => (x as i64, plot.y as i64, 1, plot.h),
            Overlay::Label { x, y, w, .. } => (x - 1, y - 1, w + 2, 11),
            Overlay::Hud { x, y, w, h } => (x as i64, y as i64, w, h),
            Overlay::Readout { x, y, w } => (x as i64 - 3, y as i64 - 3, w + 6, 14),
            Overlay::Help { x, y } => (x, y, help.w, help.h),
            Overlay::Banner { x, y, w, h, .. } => (x as i64, y as i64, w, h),
            Overlay::Cross { x, y } => {
                // Kept in the plot: the margins are not redrawn every frame.
                let x0 = x.saturating_sub(CROSS_ARM).max(plot.x);
                let y0 = y.saturating_sub(CROSS_ARM).max(plot.y);
                let x1 = (x + CROSS_ARM + 1).min(plot.x + plot.w);
                let y1 = (y + CROSS_ARM + 1).min(plot.y + plot.h);
                (x0 as i64, y0 as i64, x1 - x0, y1 - y0)
            }
        };
        let x0 = x.clamp(0, width as i64) as usize;
        let y0 = y.clamp(0, height as i64) as usize;
        let x1 = (x + w as i64).clamp(0, width as i64) as usize;
        let y1 = (y + h as i64).clamp(0, height as i64) as usize;
        Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// Draws it into the band `canvas`.
    ///
    /// Allocates: no.
    pub fn draw(&self, canvas: &mut Canvas<'_>, plot: Rect, texts: &OverlayTexts<'_>) {
        match *self {
            Overlay::MarkerLine { x } => {
                for y in (plot.y..plot.y + plot.h).step_by(3) {
                    canvas.put(x as i64, y as i64, MARKER);
                }
            }
            Overlay::Label { x, y, w, marker } => {
                let Some(m) = texts.markers.get(marker) else {
                    return;
                };
                canvas.shade_rect(x - 1, y - 1, w + 2, 11);
                canvas.text(x, y, &m.label, MARKER, 1);
            }
            Overlay::Hud { x, y, w, h } => draw_hud(canvas, (x, y, w, h), texts.hud),
            Overlay::Cross { x, y } => {
                let r = self.rect(plot, texts.help, canvas.width, canvas.height);
                draw_cross(canvas, x, y, r);
            }
            Overlay::Banner {
                x,
                y,
                w,
                h,
                text,
                color,
            } => {
                let text = match text {
                    BannerText::NoInput => texts.no_input,
                    BannerText::Notice => texts.notice,
                };
                draw_banner(canvas, Rect { x, y, w, h }, text, color);
            }
            Overlay::Readout { x, y, w } => {
                canvas.shade_rect(x as i64 - 3, y as i64 - 3, w + 6, 14);
                canvas.text(x as i64, y as i64, texts.readout, FOREGROUND, 1);
            }
            Overlay::Help { x, y } => texts.help.draw(canvas, x, y),
        }
    }
}

/// Copies the top-left `w × h` of the HUD box (`hud`: pixels, width, height) to (x, y).
fn draw_hud(
    canvas: &mut Canvas<'_>,
    (x, y, w, h): (usize, usize, usize, usize),
    hud: (&[u32], usize, usize),
) {
    let (pixels, hud_w, hud_h) = hud;
    for r in 0..h.min(hud_h) {
        let d = (y + r) * canvas.width + x;
        let w = w.min(hud_w);
        canvas.pixels[d..d + w].copy_from_slice(&pixels[r * hud_w..r * hud_w + w]);
    }
}

/// A cross centred on (x, y), kept within `clip`.
fn draw_cross(canvas: &mut Canvas<'_>, x: usize, y: usize, clip: Rect) {
    let (x, y) = (x as i64, y as i64);
    for d in 1..=CROSS_ARM as i64 {
        for (px, py) in [(x - d, y), (x + d, y), (x, y - d), (x, y + d)] {
            if px >= 0 && py >= 0 && clip.contains(px as usize, py as usize) {
                canvas.put(px, py, MARKER);
            }
        }
    }
}

/// White `text` on a `color` band `r`, large when it fits.
fn draw_banner(canvas: &mut Canvas<'_>, r: Rect, text: &str, color: u32) {
    for row in r.y..(r.y + r.h).min(canvas.height) {
        let start = row * canvas.width;
        canvas.pixels[start + r.x..start + (r.x + r.w).min(canvas.width)].fill(color);
    }
    let scale = if text_width(text, 2) + 16 <= r.w {
        2
    } else {
        1
    };
    let ty = r.y as i64 + (r.h as i64 - 8 * scale as i64) / 2;
    canvas.text(r.x as i64 + 8, ty, text, WHITE, scale);
}

/// The help box: the key table, centred on the frame, in large type when it fits.
///
/// Thread: UI. Allocates: when made (once per frame size).
pub struct HelpBox {
    lines: Vec<String>,
    /// Top-left corner in frame coordinates.
    x: i64,
    y: i64,
    w: usize,
    h: usize,
    scale: usize,
}

impl HelpBox {
    /// The help box of a `width × height` frame.
    pub fn new(width: usize, height: usize) -> HelpBox {
        let lines: Vec<String> = KEY_HELP
            .iter()
            .map(|(k, d)| format!("{k:<14} {d}"))
            .collect();
        let size = |scale: usize| {
            let w = lines
                .iter()
                .map(|l| text_width(l, scale))
                .max()
                .unwrap_or(0)
                + 24;
            (w, (lines.len() + 2) * 10 * scale + 12)
        };
        let (w2, h2) = size(2);
        let scale = if w2 <= width && h2 <= height { 2 } else { 1 };
        let (w, h) = size(scale);
        HelpBox {
            x: (width.saturating_sub(w) / 2) as i64,
            y: (height.saturating_sub(h) / 2) as i64,
            w,
            h,
            scale,
            lines,
        }
    }

    /// The overlay of the part of the box over the band starting at frame row `y0`.
    pub fn overlay(&self, y0: usize) -> Overlay {
        Overlay::Help {
            x: self.x,
            y: self.y - y0 as i64,
        }
    }

    fn draw(&self, canvas: &mut Canvas<'_>, x: i64, y: i64) {
        let scale = self.scale;
        let line_h = (10 * scale) as i64;
        canvas.shade_rect(x, y, self.w, self.h);
        canvas.text(x + 12, y + 10, "hopscope keys", BANNER, scale);
        for (i, line) in self.lines.iter().enumerate() {
            let ly = y + 10 + line_h * (i as i64 + 2);
            canvas.text(x + 12, ly, line, FOREGROUND, scale);
        }
    }
}

/// The parameter-change markers in view: a dotted line and a label each.
///
/// Allocates: no (while `out` has room).
pub fn place_markers(pane: &Pane, out: &mut Vec<Overlay>) {
    let plot = pane.layout.plot;
    let view_end = pane.view_end;
    for (i, m) in pane.waterfall.markers().iter().enumerate() {
        if m.column >= view_end || m.column + plot.w as u64 <= view_end {
            continue;
        }
        // Stagger labels so quick successive changes stay readable.
        let label_y = (plot.y + plot.h) as i64 - 11 - 12 * i64::from(m.lane);
        let x = plot.x + plot.w - (view_end - m.column) as usize;
        let w = text_width(&m.label, 1);
        // The shade box is 1 px wider than the text on each side: keep it in the plot.
        let lx = (x as i64 + 3).min((plot.x + plot.w) as i64 - w as i64 - 1);
        out.push(Overlay::MarkerLine { x });
        out.push(Overlay::Label {
            x: lx,
            y: label_y,
            w,
            marker: i,
        });
    }
}

/// The NO INPUT banner along the plot's top (`no_input`), and a notice along its bottom
/// (`notice`).
pub fn place_banners(plot: Rect, no_input: bool, notice: bool, out: &mut Vec<Overlay>) {
    let h = NO_INPUT_H.min(plot.h);
    if no_input {
        out.push(Overlay::Banner {
            x: plot.x,
            y: plot.y,
            w: plot.w,
            h,
            text: BannerText::NoInput,
            color: NO_INPUT,
        });
    }
    if notice {
        out.push(Overlay::Banner {
            x: plot.x,
            y: plot.y + plot.h - h,
            w: plot.w,
            h,
            text: BannerText::Notice,
            color: NOTICE,
        });
    }
}

/// The HUD box (`size`) in the plot's top-left corner, under the NO INPUT banner when
/// it shows.
pub fn place_hud(plot: Rect, size: (usize, usize), below_banner: bool, out: &mut Vec<Overlay>) {
    let (hw, hh) = size;
    let below = if below_banner { NO_INPUT_H } else { 0 };
    let (x, y) = (plot.x + 6, plot.y + 6 + below);
    out.push(Overlay::Hud {
        x,
        y,
        w: hw.min((plot.x + plot.w).saturating_sub(x)),
        h: hh.min((plot.y + plot.h).saturating_sub(y)),
    });
}

/// The point the pointer designates, shared by every pane (the linked readout).
pub struct Cursor {
    /// The pane under the pointer.
    pane: usize,
    /// Pointer position in that pane's band.
    x: usize,
    y: usize,
    /// The column under the pointer: the same instant in every pane (one time axis).
    serial: u64,
    /// The time of the column under the pointer before the newest visible column, s (≤ 0).
    before_s: f64,
    /// Frequency under the pointer, Hz.
    hz: f64,
}

/// Where the pointer (frame pixel) is, when it is over a held column of a pane's plot.
pub fn cursor_target(
    panes: &[Pane],
    state: &ViewState,
    pointer: Option<(usize, usize)>,
) -> Option<Cursor> {
    let (mx, my) = pointer?;
    let (index, pane) = panes
        .iter()
        .enumerate()
        .find(|(_, p)| my >= p.y0 && my < p.y0 + p.layout.height)?;
    let y = my - pane.y0;
    let plot = pane.layout.plot;
    if !plot.contains(mx, y) {
        return None;
    }
    let serial = pane.view_end.checked_sub((plot.x + plot.w - mx) as u64)?;
    let frac = ((plot.y + plot.h - y) as f64 - 0.5) / plot.h as f64;
    // Over a column this pane holds; times on the shared grid (the edge is "now").
    if !pane.waterfall.holds(serial) {
        return None;
    }
    let before_s = pane.time_s(serial) - pane.time_s(pane.view_end.checked_sub(1)?);
    Some(Cursor {
        pane: index,
        x: mx,
        y,
        serial,
        before_s,
        hz: display_axis(&state.pane(index)).frac_to_hz(frac),
    })
}

/// The note name of the last frequency asked for, kept until another is asked for.
pub struct NoteCache {
    hz_bits: u64,
    text: String,
}

impl NoteCache {
    /// Empty.
    pub fn new() -> NoteCache {
        NoteCache {
            hz_bits: f64::NAN.to_bits(),
            text: String::with_capacity(16),
        }
    }

    /// The note of `hz` (empty below 1 Hz), rewritten only when `hz` changed (the
    /// pointer moved, the axis changed). Allocates: no.
    fn get(&mut self, hz: f64) -> &str {
        if hz.to_bits() != self.hz_bits {
            self.hz_bits = hz.to_bits();
            self.text.clear();
            if let Some(note) = Note::of(hz) {
                let _ = write!(self.text, "{note}");
            }
        }
        &self.text
    }
}

/// Where a readout goes and what it says.
pub struct ReadoutBuffers<'a> {
    /// The readout's text, rewritten.
    pub text: &'a mut String,
    /// Note names.
    pub notes: &'a mut NoteCache,
}

/// The readout of `cursor` in pane `index` (the same time and frequency in every pane,
/// with a cross where the pointer is not): its level there, written into `buf.text`.
///
/// Allocates: no (but see [`NoteCache`]).
pub fn place_readout(
    (pane, index, settings): (&Pane, usize, &PaneSettings),
    cursor: &Cursor,
    buf: ReadoutBuffers<'_>,
    out: &mut Vec<Overlay>,
) -> Option<()> {
    let plot = pane.layout.plot;
    let (x, y, serial) = if index == cursor.pane {
        let serial = pane
            .view_end
            .checked_sub((plot.x + plot.w - cursor.x) as u64)?;
        (cursor.x, cursor.y, serial)
    } else {
        let (x, y, serial) = linked_point(pane, settings, cursor)?;
        out.push(Overlay::Cross { x, y });
        (x, y, serial)
    };
    let value = pane.waterfall.value(serial, y - plot.y)?;
    let text = buf.text;
    text.clear();
    let note = buf.notes.get(cursor.hz);
    // Writing into a String cannot fail.
    let _ = write!(
        text,
        "{:+.3} s  {:.1} Hz  {note}  ",
        cursor.before_s, cursor.hz
    );
    let _ = if value.is_nan() {
        write!(text, "gap: no input")
    } else {
        let unit = match settings.frontend {
            Some(f) => crate::render::frontend::display_unit(f),
            None if settings.mel.is_some() => "dB mel",
            None => "dBFS",
        };
        // A front-end's own units are small numbers (Whisper's -1..1.5).
        let decimals = if settings.frontend.is_some() { 3 } else { 1 };
        write!(text, "{value:.decimals$} {unit}")
    };
    let tw = text_width(text, 1);
    let tx = if x + 14 + tw < plot.x + plot.w {
        x + 14
    } else {
        // Never into the side margins, which are not redrawn every frame.
        x.saturating_sub(tw + 14).max(plot.x + 3)
    };
    let ty = if y > plot.y + 16 { y - 14 } else { y + 14 };
    out.push(Overlay::Readout {
        x: tx,
        y: ty.min((plot.y + plot.h).saturating_sub(11)),
        w: tw,
    });
    Some(())
}

/// In a pane the pointer is not over: the same column (every pane shares the time axis
/// and the view) at the row of the cursor's frequency, if that frequency is on the
/// pane's axis.
fn linked_point(
    pane: &Pane,
    settings: &PaneSettings,
    cursor: &Cursor,
) -> Option<(usize, usize, u64)> {
    let plot = pane.layout.plot;
    let back = pane.view_end.checked_sub(cursor.serial)?;
    let x = (plot.x + plot.w).checked_sub(back as usize)?;
    if x < plot.x {
        return None;
    }
    let frac = display_axis(settings).hz_to_frac(cursor.hz);
    if !(0.0..=1.0).contains(&frac) {
        return None;
    }
    let row = ((1.0 - frac) * plot.h as f64)
        .floor()
        .clamp(0.0, (plot.h - 1) as f64);
    Some((x, plot.y + row as usize, cursor.serial))
}
