//! Helpers shared by `tests/ui_state.rs`, `tests/render_axes.rs` and
//! `tests/render_image.rs`: a seeded generator, a temp dir, and oracles written
//! independently of `src/` (mel formulas from ../shared/DSP.md §7, a PNG decoder
//! wrapper over the `png` crate).
//!
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::Path;

#[path = "../support/rng.rs"]
mod rng;
#[allow(unused_imports)] // each test crate uses a different subset
pub use rng::Rng;

/// HTK mel, DSP.md §7: `2595·log10(1 + f/700)`.
pub fn htk(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Inverse of [`htk`], solved by hand: `f = 700·(10^(m/2595) − 1)`.
pub fn htk_inv(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Slaney mel, DSP.md §7: `3f/200` below 1 kHz, `15 + ln(f/1000)/(ln 6.4/27)` above.
pub fn slaney(hz: f64) -> f64 {
    if hz < 1000.0 {
        3.0 * hz / 200.0
    } else {
        15.0 + (hz / 1000.0).ln() / (6.4f64.ln() / 27.0)
    }
}

/// Inverse of [`slaney`], solved by hand.
pub fn slaney_inv(mel: f64) -> f64 {
    if mel < 15.0 {
        200.0 * mel / 3.0
    } else {
        1000.0 * ((mel - 15.0) * 6.4f64.ln() / 27.0).exp()
    }
}

#[path = "../support/tempdir.rs"]
mod tempdir;
#[allow(unused_imports)] // each test crate uses a different subset
pub use tempdir::TempDir;

/// A decoded 8-bit PNG as `0x00RRGGBB` pixels, row-major.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u32>,
}

impl Image {
    /// Pixel at (x, y), y = 0 top.
    pub fn at(&self, x: usize, y: usize) -> u32 {
        self.pixels[y * self.width + x]
    }
}

/// Decodes an 8-bit RGB PNG (screenshots) or an 8-bit indexed one (`render`), its
/// palette expanded to RGB, with the `png` crate.
pub fn decode_png(path: &Path) -> Image {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("PNG header");
    assert!(
        matches!(
            reader.info().color_type,
            png::ColorType::Rgb | png::ColorType::Indexed
        ),
        "RGB or indexed PNG, not {:?}",
        reader.info().color_type
    );
    let mut buf = vec![0u8; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    assert_eq!(info.color_type, png::ColorType::Rgb, "RGB after expansion");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit PNG");
    let (width, height) = (info.width as usize, info.height as usize);
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|c| ((c[0] as u32) << 16) | ((c[1] as u32) << 8) | c[2] as u32)
        .collect::<Vec<_>>();
    assert_eq!(pixels.len(), width * height);
    Image {
        width,
        height,
        pixels,
    }
}

/// Position of `hz` in the axis' warped units, from the formulas above.
pub fn warp(scale: hopscope::render::freqmap::FreqScale, hz: f64) -> f64 {
    use hopscope::render::freqmap::FreqScale;
    match scale {
        FreqScale::Linear => hz,
        FreqScale::Log => hz.ln(),
        FreqScale::MelHtk => htk(hz),
        FreqScale::MelSlaney => slaney(hz),
    }
}

/// Inverse of [`warp`].
pub fn unwarp(scale: hopscope::render::freqmap::FreqScale, v: f64) -> f64 {
    use hopscope::render::freqmap::FreqScale;
    match scale {
        FreqScale::Linear => v,
        FreqScale::Log => v.exp(),
        FreqScale::MelHtk => htk_inv(v),
        FreqScale::MelSlaney => slaney_inv(v),
    }
}
