//! Text in an 8×8 bitmap font (font8x8, public domain), drawn into a pixel buffer.

use font8x8::legacy::BASIC_LEGACY;

/// Glyph cell size in pixels at scale 1.
pub const GLYPH_PX: usize = 8;

/// A mutable view of a `0x00RRGGBB` pixel buffer.
pub struct Canvas<'a> {
    /// Pixels, row-major, top row first.
    pub pixels: &'a mut [u32],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

impl Canvas<'_> {
    /// Sets one pixel, clipped.
    #[inline]
    pub fn put(&mut self, x: i64, y: i64, color: u32) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = color;
        }
    }

    /// Fills a rectangle, clipped.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: usize, h: usize, color: u32) {
        let x0 = x.max(0) as usize;
        let y0 = y.max(0) as usize;
        let x1 = ((x + w as i64).max(0) as usize).min(self.width);
        let y1 = ((y + h as i64).max(0) as usize).min(self.height);
        for row in y0..y1 {
            if x0 < x1 {
                self.pixels[row * self.width + x0..row * self.width + x1].fill(color);
            }
        }
    }

    /// Darkens a rectangle to ~30 % brightness (a legible background for text).
    pub fn shade_rect(&mut self, x: i64, y: i64, w: usize, h: usize) {
        let x0 = x.max(0) as usize;
        let y0 = y.max(0) as usize;
        let x1 = ((x + w as i64).max(0) as usize).min(self.width);
        let y1 = ((y + h as i64).max(0) as usize).min(self.height);
        for row in y0..y1 {
            for p in &mut self.pixels[row * self.width + x0..row * self.width + x1.max(x0)] {
                *p = (*p >> 2) & 0x003f_3f3f;
            }
        }
    }

    /// Draws `text` with its top-left corner at (x, y); `scale` multiplies the 8×8 cell.
    /// Characters outside ASCII are drawn as `?`.
    pub fn text(&mut self, x: i64, y: i64, text: &str, color: u32, scale: usize) {
        for (i, ch) in text.chars().enumerate() {
            let code = if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            };
            let glyph = BASIC_LEGACY[code];
            let gx = x + (i * GLYPH_PX * scale) as i64;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.put(
                                    gx + (col * scale + dx) as i64,
                                    y + (row * scale + dy) as i64,
                                    color,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: usize) -> usize {
    text.chars().count() * GLYPH_PX * scale
}
