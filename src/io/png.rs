//! PNG output through the `png` crate: screenshots of the window (8-bit RGB, never
//! overwriting a file) and `render`'s spectrograms (8-bit indexed: a `PLTE` palette and
//! one byte per pixel).
//!
//! An indexed image is compressed in horizontal bands of rows on rayon's pool, each band
//! a raw DEFLATE stream (flate2) that ends byte-aligned with a sync flush (an empty
//! stored block), so the bands concatenate into one zlib stream; its Adler-32 is combined
//! from the bands' ([`adler32_combine`]). Compressed bands are written while the next
//! ones are compressed. The `png` crate writes the signature, `IHDR`, `PLTE`, the `IDAT`
//! chunks (one per band) and `IEND`. Band boundaries depend only on the image's size,
//! so the file is the same on any number of cores.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::Error;
use crate::io::atomic::{remove_stale, stamped_names, Staged};

/// Encodes `pixels` (`width × height`, row-major, `0x00RRGGBB`; the top byte is
/// ignored) as an 8-bit RGB PNG into `out`.
///
/// # Errors
/// A pixel count that does not match, a zero or oversized dimension, any I/O failure.
pub fn encode<W: Write>(
    out: W,
    pixels: &[u32],
    width: usize,
    height: usize,
) -> std::io::Result<()> {
    if pixels.len() != width * height {
        return Err(std::io::Error::other(format!(
            "{} pixels for a {width} x {height} frame",
            pixels.len()
        )));
    }
    let mut enc = encoder(out, width, height)?;
    enc.set_color(png::ColorType::Rgb);
    let rgb: Vec<u8> = pixels
        .iter()
        .flat_map(|p| {
            let [_, r, g, b] = p.to_be_bytes();
            [r, g, b]
        })
        .collect();
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(&rgb)
        .map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}

/// An 8-bit PNG encoder for a `width × height` image (colour type still to be set).
fn encoder<W: Write>(
    out: W,
    width: usize,
    height: usize,
) -> std::io::Result<png::Encoder<'static, W>> {
    // PNG allows dimensions up to 2³¹ − 1.
    let dim = |n: usize| u32::try_from(n).ok().filter(|&n| n > 0 && n < 1 << 31);
    let (Some(w), Some(h)) = (dim(width), dim(height)) else {
        return Err(std::io::Error::other(format!(
            "cannot encode a {width} x {height} PNG"
        )));
    };
    let mut enc = png::Encoder::new(out, w, h);
    enc.set_depth(png::BitDepth::Eight);
    Ok(enc)
}

/// A source of image rows as palette indices: `row(y, out)` fills `out` (`width`
/// bytes) with row `y`. Called once per row, from any thread of rayon's pool.
pub type IndexRows<'a> = dyn Fn(usize, &mut [u8]) + Sync + 'a;

/// Raw (filtered) bytes per band: about 2 MiB, so a 600 s render is cut into ~30 bands
/// for the cores to share, and a band's start without a history costs nothing visible.
const BAND_BYTES: usize = 2 << 20;

/// DEFLATE level of the bands: 1, miniz_oxide's fast greedy matcher (flate2's default
/// backend). On the README's 600 s render it gave 39.8 MB in 0.31 s on one core, where
/// levels 2 to 6 gave 41.2 MB in 1.7–1.9 s (the indices are mostly noise: what counts
/// is the Huffman coding of the literals, which level 1 does as well).
const BAND_LEVEL: u32 = 1;

/// Encodes a `width × height` image of indices into `palette` (`0x00RRGGBB` colours,
/// at most 256), whose rows come from `rows`, as an 8-bit indexed PNG into `out`.
/// Filter None on every row; bands of rows are compressed on rayon's pool.
///
/// # Errors
/// A zero or oversized dimension, an empty or oversized palette, an index past the
/// palette's end, any I/O failure.
pub fn encode_indexed<W: Write + Send>(
    out: W,
    width: usize,
    height: usize,
    palette: &[u32],
    rows: &IndexRows<'_>,
) -> std::io::Result<()> {
    if palette.is_empty() || palette.len() > 256 {
        return Err(std::io::Error::other(format!(
            "a palette of {} colours (1 to 256 allowed)",
            palette.len()
        )));
    }
    let mut enc = encoder(out, width, height)?;
    enc.set_color(png::ColorType::Indexed);
    let plte: Vec<u8> = palette
        .iter()
        .flat_map(|c| c.to_be_bytes()[1..].to_vec())
        .collect();
    enc.set_palette(plte);
    // The IDAT chunks are written here, not through `write_image_data`.
    enc.validate_sequence(false);
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;

    let band_rows = BAND_BYTES.div_ceil(width + 1).clamp(1, height);
    let mut adler = 1; // of nothing
    let mut idat = |bytes: &[u8]| {
        bytes
            .chunks(1 << 30)
            .try_for_each(|chunk| writer.write_chunk(png::chunk::IDAT, chunk))
            .map_err(std::io::Error::other)
    };
    // zlib header (deflate, 32 KiB window, no dictionary), the bands, the Adler-32.
    idat(&[0x78, 0x01])?;
    compress_bands(width, height, band_rows, palette.len(), rows, |band| {
        adler = adler32_combine(adler, band.adler, band.raw_len);
        idat(&band.deflate)
    })?;
    idat(&adler.to_be_bytes())?;
    writer.finish().map_err(std::io::Error::other)
}

/// Compresses the bands of `band_rows` rows (the last one shorter) of a `width ×
/// height` image whose rows come from `rows` on rayon's pool, and hands each to `write`
/// in order. The bands go in waves of two per pool thread: wave k is written while wave
/// k+1 is compressed, the two halves of one `rayon::join` (the thread that writes helps
/// compress when done).
fn compress_bands(
    width: usize,
    height: usize,
    band_rows: usize,
    colours: usize,
    rows: &IndexRows<'_>,
    mut write: impl FnMut(Band) -> std::io::Result<()> + Send,
) -> std::io::Result<()> {
    let starts: Vec<usize> = (0..height).step_by(band_rows).collect();
    let wave = 2 * rayon::current_num_threads();
    let mut done: Vec<Band> = Vec::new();
    for next in starts.chunks(wave).chain([&[][..]]) {
        let (written, compressed) = rayon::join(
            || done.drain(..).try_for_each(&mut write),
            || {
                next.par_iter()
                    .map_init(
                        || BandState::new(width),
                        |state, &first| {
                            let ys = first..(first + band_rows).min(height);
                            state.compress(ys, height, colours, rows)
                        },
                    )
                    .collect::<std::io::Result<Vec<Band>>>()
            },
        );
        written?;
        done = compressed?;
    }
    Ok(())
}

/// One compressed band: raw DEFLATE blocks ending byte-aligned (the last band's final
/// block closes the stream), with the Adler-32 and length of the filtered rows.
struct Band {
    deflate: Vec<u8>,
    adler: u32,
    raw_len: u64,
}

/// A task's compressor and row buffer, reused band after band.
struct BandState {
    z: flate2::Compress,
    /// The filter byte (0, None) and one row of indices.
    row: Vec<u8>,
}

impl BandState {
    fn new(width: usize) -> Self {
        BandState {
            z: flate2::Compress::new(flate2::Compression::new(BAND_LEVEL), false),
            row: vec![0; width + 1],
        }
    }

    /// Compresses image rows `ys` (of `height`) pulled from `rows`.
    fn compress(
        &mut self,
        ys: std::ops::Range<usize>,
        height: usize,
        colours: usize,
        rows: &IndexRows<'_>,
    ) -> std::io::Result<Band> {
        self.z.reset();
        let raw_len = (ys.len() * self.row.len()) as u64;
        let mut out = Vec::with_capacity(raw_len as usize / 2);
        let mut adler = simd_adler32::Adler32::new();
        let end = ys.end;
        for y in ys {
            rows(y, &mut self.row[1..]);
            // The largest index (vectorised), rather than a search for a bad one.
            let top = self.row[1..].iter().copied().max().unwrap_or(0);
            if usize::from(top) >= colours {
                return Err(std::io::Error::other(format!(
                    "row {y} holds index {top}, past the palette of {colours} colours"
                )));
            }
            adler.write(&self.row);
            deflate(
                &mut self.z,
                &self.row,
                &mut out,
                flate2::FlushCompress::None,
            )?;
        }
        let flush = if end == height {
            flate2::FlushCompress::Finish
        } else {
            flate2::FlushCompress::Sync
        };
        deflate(&mut self.z, &[], &mut out, flush)?;
        Ok(Band {
            deflate: out,
            adler: adler.finish(),
            raw_len,
        })
    }
}

/// Feeds `input` to `z`, appending its output to `out` (grown as needed), then flushes
/// as `flush` says: until the stream ends for `Finish`, until the output stops filling
/// for the others.
fn deflate(
    z: &mut flate2::Compress,
    mut input: &[u8],
    out: &mut Vec<u8>,
    flush: flate2::FlushCompress,
) -> std::io::Result<()> {
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 << 10));
        }
        let before = z.total_in();
        let status = z
            .compress_vec(input, out, flush)
            .map_err(std::io::Error::other)?;
        input = &input[(z.total_in() - before) as usize..];
        let room_left = out.len() < out.capacity();
        match (status, flush) {
            (flate2::Status::StreamEnd, _) => return Ok(()),
            (_, flate2::FlushCompress::Finish) => {}
            _ if input.is_empty() && room_left => return Ok(()),
            _ => {}
        }
    }
}

/// Adler-32 of `A ++ B` from Adler-32 `a` of A, `b` of B and B's length (zlib's
/// `adler32_combine`).
pub fn adler32_combine(a: u32, b: u32, len_b: u64) -> u32 {
    const BASE: u64 = 65_521;
    let rem = len_b % BASE;
    let (a1, a2) = (u64::from(a & 0xffff), u64::from(a >> 16));
    let (b1, b2) = (u64::from(b & 0xffff), u64::from(b >> 16));
    let s1 = (a1 + b1 + BASE - 1) % BASE;
    let s2 = (rem * a1 % BASE + a2 + b2 + BASE - rem) % BASE;
    ((s2 << 16) | s1) as u32
}

/// Saves a screenshot as `dir/hopscope-YYYYMMDD-HHMMSS[-N].png`, never overwriting: it
/// is written under a temporary name (`.hopscope.png.tmp-PID-XXXXXX`, see
/// [`Staged`]) and renamed onto the first name not taken. Temporaries that killed
/// processes left in `dir` are removed first.
///
/// # Errors
/// The directory is not writable.
pub fn save_screenshot(
    dir: &Path,
    pixels: &[u32],
    width: usize,
    height: usize,
) -> std::io::Result<PathBuf> {
    // The I/O error itself: its caller names the screenshot, not our temporary's name.
    let io = |e: Error| match e {
        Error::Write { source, .. } => source,
        other => std::io::Error::other(other),
    };
    let base = dir.join("hopscope.png");
    remove_stale(&base);
    let mut staged = Staged::create(&base).map_err(io)?;
    let mut out = BufWriter::new(&mut staged);
    encode(&mut out, pixels, width, height)?;
    out.flush()?;
    drop(out);
    let path = staged
        .commit_new(stamped_names("hopscope", ".png"))
        .map_err(io)?;
    Ok(std::path::absolute(&path).unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::noise::WhiteNoise;

    /// Random bits for the test images.
    struct Rng(WhiteNoise);
    impl Rng {
        fn new(seed: u64) -> Rng {
            Rng(WhiteNoise::new(seed))
        }
        fn below(&mut self, n: u64) -> u64 {
            self.0.next_u64() % n
        }
    }

    /// Decodes with every checksum (CRC-32s and the Adler-32) verified, the palette
    /// expanded to RGB: (width, height, the colour type in the file, pixels).
    fn decode(png: &[u8]) -> (usize, usize, png::ColorType, Vec<u32>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.ignore_checksums(false);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("header");
        let stored = reader.info().color_type;
        let mut buf = vec![0u8; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let pixels = buf[..info.buffer_size()]
            .chunks_exact(3)
            .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]))
            .collect();
        (info.width as usize, info.height as usize, stored, pixels)
    }

    /// Encodes `index` (`w × h`) through `palette` and checks the decoded pixels.
    fn indexed_round_trip(
        name: &str,
        palette: &[u32],
        index: &[u8],
        w: usize,
        h: usize,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        encode_indexed(&mut out, w, h, palette, &|y, row: &mut [u8]| {
            row.copy_from_slice(&index[y * w..(y + 1) * w]);
        })
        .expect("encodes");
        let (dw, dh, stored, got) = decode(&out);
        assert_eq!((dw, dh, stored), (w, h, png::ColorType::Indexed), "{name}");
        for (i, (&g, &k)) in got.iter().zip(index).enumerate() {
            let want = palette[usize::from(k)] & 0x00ff_ffff;
            assert_eq!(g, want, "{name}: pixel ({}, {})", i % w, i / w);
        }
        out
    }

    #[test]
    fn a_known_indexed_image_decodes_to_its_palette_colours() {
        // 4 × 3: every pixel's colour written out, the palette's order scrambled.
        let palette = [0x0010_1014, 0x00dc_dcdc, 0x008c_8c96, 0xff00_0004];
        let index = [0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 3, 1];
        let out = indexed_round_trip("4x3", &palette, &index, 4, 3);
        let (_, _, _, got) = decode(&out);
        assert_eq!(
            got,
            [
                0x10_1014, 0xdc_dcdc, 0x8c_8c96, 0x00_0004, 0x00_0004, 0x8c_8c96, 0xdc_dcdc,
                0x10_1014, 0x10_1014, 0x10_1014, 0x00_0004, 0xdc_dcdc,
            ]
        );
        // The palette as written: PLTE holds exactly these colours, in this order.
        let decoder = png::Decoder::new(std::io::Cursor::new(&out));
        let reader = decoder.read_info().expect("header");
        let plte = reader
            .info()
            .palette
            .as_deref()
            .expect("a PLTE chunk")
            .to_vec();
        let want: Vec<u8> = palette
            .iter()
            .flat_map(|c| c.to_be_bytes()[1..].to_vec())
            .collect();
        assert_eq!(plte, want);
    }

    #[test]
    fn indexed_shapes_and_bands_round_trip_with_valid_checksums() {
        let mut rng = Rng::new(7);
        for (w, h, colours) in [
            (1usize, 1usize, 1u64),
            (1, 9, 2),
            (7, 5, 3),
            (300, 40, 251),
            (50_000, 100, 256), // several bands (2 MiB each): sync flushes, Adler-32 combined
            (3_000_000, 2, 17), // a band of one row
            (50, 2000, 16),
        ] {
            let palette: Vec<u32> = (0..colours).map(|_| rng.0.next_u64() as u32).collect();
            let index: Vec<u8> = (0..w * h)
                .map(|i| {
                    // Runs and noise, so both matches and literals occur.
                    if (i / 97) % 3 == 0 {
                        (i / 1000 % colours as usize) as u8
                    } else {
                        rng.below(colours) as u8
                    }
                })
                .collect();
            indexed_round_trip(&format!("{w}x{h}/{colours}"), &palette, &index, w, h);
        }
    }

    #[test]
    fn the_file_is_the_same_on_any_number_of_threads() {
        let (w, h) = (20_000usize, 300usize);
        let mut rng = Rng::new(13);
        let index: Vec<u8> = (0..w * h).map(|_| rng.below(40) as u8).collect();
        let palette: Vec<u32> = (0..40).map(|i| i * 0x0001_0203).collect();
        let encode_on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            let mut out = Vec::new();
            pool.install(|| {
                encode_indexed(&mut out, w, h, &palette, &|y, row: &mut [u8]| {
                    row.copy_from_slice(&index[y * w..(y + 1) * w]);
                })
            })
            .expect("encodes");
            out
        };
        let one = encode_on(1);
        assert_eq!(one, encode_on(3));
        indexed_round_trip("threads", &palette, &index, w, h);
    }

    #[test]
    fn rgb_frames_round_trip() {
        let mut rng = Rng::new(3);
        for (w, h) in [(1usize, 1usize), (7, 5), (1280, 720)] {
            let pixels: Vec<u32> = (0..w * h).map(|_| rng.0.next_u64() as u32).collect();
            let mut out = Vec::new();
            encode(&mut out, &pixels, w, h).expect("encodes");
            let (dw, dh, stored, got) = decode(&out);
            assert_eq!((dw, dh, stored), (w, h, png::ColorType::Rgb));
            let want: Vec<u32> = pixels.iter().map(|p| p & 0x00ff_ffff).collect();
            assert!(got == want, "{w}x{h}: pixels differ");
        }
    }

    #[test]
    fn adler32_combines_like_one_pass() {
        let mut rng = Rng::new(3);
        let data: Vec<u8> = (0..200_000).map(|_| rng.0.next_u64() as u8).collect();
        for cut in [0usize, 1, 5552, 65_521, 65_522, 131_042, 200_000] {
            let (a, b) = data.split_at(cut);
            let one = |d: &[u8]| {
                let mut h = simd_adler32::Adler32::new();
                h.write(d);
                h.finish()
            };
            assert_eq!(
                adler32_combine(one(a), one(b), b.len() as u64),
                one(&data),
                "{cut}"
            );
        }
    }

    #[test]
    fn bad_dimensions_palettes_and_indices_are_errors() {
        let row = |_: usize, out: &mut [u8]| out.fill(2);
        let sink = std::io::sink;
        assert!(encode_indexed(sink(), 0, 5, &[0], &row).is_err());
        assert!(encode_indexed(sink(), 5, 0, &[0], &row).is_err());
        assert!(encode_indexed(sink(), 5, 5, &[], &row).is_err());
        assert!(encode_indexed(sink(), 5, 5, &[0; 257], &row).is_err());
        let past = encode_indexed(sink(), 5, 5, &[0, 1], &row).expect_err("index 2 of 2");
        assert!(past.to_string().contains("past the palette"), "{past}");
        assert!(encode_indexed(sink(), 5, 5, &[0, 1, 2], &row).is_ok());
        assert!(encode(sink(), &[0; 3], 2, 2).is_err());
        assert!(encode(sink(), &[], 0, 0).is_err());
    }
}
