//! hopscope's PNGs read back with the `png` crate (not hopscope's encoder), strictly:
//! they must be 8-bit RGB. (`x11::Image` decodes ImageMagick's screenshots, any format.)

use std::path::Path;

/// A decoded 8-bit RGB PNG as `0x00RRGGBB` pixels, row-major.
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
