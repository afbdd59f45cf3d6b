//! PNG output of `0x00RRGGBB` frames: screenshots (never overwrite) and `render`.
//!
//! The encoder is this module's own (the `png` crate writes only the chunk framing):
//! 8-bit RGB, filter None, and a DEFLATE stream made for frames whose colours come
//! from a small palette (a colormap plus a few chrome colours):
//!
//! - **Pixel matches.** A direct-mapped table remembers where each colour was last seen
//!   in the current row; a pixel whose colour was seen within DEFLATE's 32 KiB window is
//!   coded as a 3-byte match back to it, extended while the following pixels repeat.
//!   A colour-indexed frame thereby costs about its index entropy plus the distance
//!   code (≈ 9 bits a pixel on a noisy spectrogram instead of 24), and flat areas
//!   collapse into 258-byte matches. No hashing of byte strings, no match search.
//! - **Dynamic Huffman block per ≥ 64 Ki pixels** (one row of a long render: each
//!   row is one frequency, whose few colours get short codes).
//! - **Parallel bands.** Horizontal bands of rows are compressed independently on
//!   worker threads; each ends byte-aligned with an empty stored block (a zlib "sync
//!   flush"), so the bands concatenate into one valid stream. Matches never reach
//!   across rows, so a band needs nothing from its neighbours. The Adler-32 of the whole
//!   stream is combined from the bands' (`adler32_combine`). The caller's thread
//!   writes each band as an `IDAT` chunk as soon as it and its predecessors are done.
//!
//! Rows are pulled from a callback, so `render` never materialises its frame.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::io::atomic::stamped_names;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Encodes `pixels` (`width × height`, row-major) as 8-bit RGB PNG into `out`.
///
/// Single-threaded below 4 Mi pixels (screenshots), else on every core.
///
/// # Errors
/// Any I/O or encoder failure.
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
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    encode_rows(out, width, height, threads, &|y, row: &mut [u32]| {
        row.copy_from_slice(&pixels[y * width..(y + 1) * width]);
    })
}

/// A source of frame rows: `row(y, out)` fills `out` (`width` pixels, `0x00RRGGBB`)
/// with row `y`. Called once per row, from any of the encoder's threads.
pub type RowSource<'a> = dyn Fn(usize, &mut [u32]) + Sync + 'a;

/// Frames smaller than this many pixels are encoded on the caller's thread alone.
const PARALLEL_MIN_PIXELS: usize = 4 << 20;

/// Encodes a `width × height` frame whose rows come from `row` as 8-bit RGB PNG into
/// `out`, compressing bands of rows on up to `threads` threads (the caller's thread
/// writes).
///
/// # Errors
/// Any I/O failure; a zero or oversized dimension.
pub fn encode_rows<W: Write>(
    out: W,
    width: usize,
    height: usize,
    threads: usize,
    row: &RowSource<'_>,
) -> std::io::Result<()> {
    encode_rows_from(out, width, height, threads, PARALLEL_MIN_PIXELS, row)
}

/// [`encode_rows`], parallel from `parallel_min` pixels.
fn encode_rows_from<W: Write>(
    out: W,
    width: usize,
    height: usize,
    threads: usize,
    parallel_min: usize,
    row: &RowSource<'_>,
) -> std::io::Result<()> {
    let (w32, h32) = match (u32::try_from(width), u32::try_from(height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 && width <= deflate::MAX_WIDTH => (w, h),
        _ => {
            return Err(std::io::Error::other(format!(
                "cannot encode a {width} x {height} PNG"
            )))
        }
    };
    let mut enc = png::Encoder::new(out, w32, h32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.validate_sequence(false);
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;

    let plan = deflate::BandPlan::new(width, height, threads, parallel_min);
    let mut adler = 1u32; // Adler-32 of nothing
    let mut emit = |band: &deflate::Band| -> std::io::Result<()> {
        for chunk in band.bytes.chunks(1 << 30) {
            writer
                .write_chunk(png::chunk::IDAT, chunk)
                .map_err(std::io::Error::other)?;
        }
        adler = deflate::adler32_combine(adler, band.adler, band.raw_len);
        Ok(())
    };
    if plan.threads <= 1 {
        let mut scratch = deflate::Scratch::new(width);
        let mut buffer = Vec::new();
        for b in 0..plan.bands {
            let band = deflate::encode_band(&plan, b, row, &mut scratch, buffer);
            emit(&band)?;
            buffer = band.bytes;
        }
    } else {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (tx, rx) = crossbeam_channel::unbounded::<deflate::Band>();
        // Written bands' buffers go back to the workers (no fresh pages to fault in).
        let (recycle_tx, recycle_rx) = crossbeam_channel::unbounded::<Vec<u8>>();
        std::thread::scope(|scope| -> std::io::Result<()> {
            for _ in 0..plan.threads {
                let (tx, next, stop, plan) = (tx.clone(), &next, &stop, &plan);
                let recycled = recycle_rx.clone();
                scope.spawn(move || {
                    let mut scratch = deflate::Scratch::new(width);
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        if b >= plan.bands || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let buffer = recycled.try_recv().unwrap_or_default();
                        let band = deflate::encode_band(plan, b, row, &mut scratch, buffer);
                        if tx.send(band).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            // Bands arrive in any order; write them in order.
            let mut pending: Vec<Option<deflate::Band>> = (0..plan.bands).map(|_| None).collect();
            let mut written = 0;
            for band in &rx {
                let i = band.index;
                pending[i] = Some(band);
                while let Some(band) = pending.get_mut(written).and_then(Option::take) {
                    if let Err(e) = emit(&band) {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                    let _ = recycle_tx.send(band.bytes);
                    written += 1;
                }
            }
            if written == plan.bands {
                Ok(())
            } else {
                Err(std::io::Error::other("a PNG encoder thread stopped early"))
            }
        })?;
    }
    // A final empty stored block, then the Adler-32 of all the filtered rows.
    let mut tail = [0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 0];
    tail[5..].copy_from_slice(&adler.to_be_bytes());
    writer
        .write_chunk(png::chunk::IDAT, &tail)
        .map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}

/// The DEFLATE (RFC 1951) side of the encoder; see the module documentation.
mod deflate {
    use super::RowSource;

    /// Widest row (PNG allows 2³¹ − 1): band positions, `u32`, space rows a window
    /// apart, so a band of one such row still fits.
    pub const MAX_WIDTH: usize = (1 << 31) - (1 << 16);
    /// Bytes a match may reach back (DEFLATE's window) → whole pixels.
    const WINDOW_PX: usize = 32_768 / 3;
    /// Longest match, in pixels (258 bytes).
    const MAX_MATCH_PX: usize = 86;
    /// Direct-mapped colour → last-position table size (24 KiB).
    const TABLE_BITS: u32 = 11;
    /// Marks a used table entry (colours are 24-bit).
    const USED: u32 = 1 << 31;
    /// "No next pixel" (the end of a row): equal to no colour.
    const NO_PIXEL: u32 = 1 << 30;
    /// Tokens (u32): `1..=NEAR` a one-pixel match at that many pixels back (the common
    /// case, coded through a per-block table); `MATCH | px << 16 | d` any other match
    /// (`px` pixels, `d` pixels back); `LITERAL | 0xRRGGBB` a literal pixel; `FILTER` the
    /// row's filter byte.
    const NEAR: usize = 1024;
    const MATCH: u32 = 1 << 31;
    const FILTER: u32 = 1 << 30;
    const LITERAL: u32 = 1 << 29;
    /// A new Huffman block after at least this many pixels.
    const BLOCK_PIXELS: usize = 1 << 16;

    const LEN_BASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEN_EXTRA: [u8; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DIST_BASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u8; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];
    /// Order of the code-length code lengths in a dynamic block header.
    const CL_ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    /// Length (3..=258) → index into `LEN_BASE` (length symbol − 257).
    const LEN_INDEX: [u8; 259] = {
        let mut t = [0u8; 259];
        let mut i = 0;
        while i < 29 {
            let end = if i == 28 {
                259
            } else {
                LEN_BASE[i + 1] as usize
            };
            let mut l = LEN_BASE[i] as usize;
            while l < end {
                t[l] = i as u8;
                l += 1;
            }
            i += 1;
        }
        t[258] = 28;
        t
    };

    /// Distance (1..=32768) → distance code.
    #[inline(always)]
    fn dist_code(d: u32) -> usize {
        if d <= 4 {
            (d - 1) as usize
        } else {
            let b = 31 - (d - 1).leading_zeros();
            (2 * b + (((d - 1) >> (b - 1)) & 1)) as usize
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

    /// How the frame is split: `bands` bands of `band_rows` rows, `threads` workers.
    pub struct BandPlan {
        pub width: usize,
        pub height: usize,
        pub band_rows: usize,
        pub bands: usize,
        pub threads: usize,
    }

    impl BandPlan {
        pub fn new(width: usize, height: usize, threads: usize, parallel_min: usize) -> Self {
            let threads = if width * height < parallel_min {
                1
            } else {
                threads.max(1)
            };
            // ~8 bands a thread (balance, and the writer starts early), ≥ 1 Mi pixels each
            // (a band starts with an empty match table), and positions fit in u32.
            let by_count = height.div_ceil(8 * threads);
            let by_size = (1usize << 20).div_ceil(width);
            let by_u32 = (u32::MAX as usize / 2) / (width + WINDOW_PX + 1);
            let band_rows = by_count.max(by_size).min(by_u32).clamp(1, height);
            let bands = height.div_ceil(band_rows);
            BandPlan {
                width,
                height,
                band_rows,
                bands,
                threads: threads.min(bands),
            }
        }
    }

    /// One compressed band: whole non-final blocks ending byte-aligned (the first band
    /// starts with the zlib header), the Adler-32 and length of its filtered rows.
    pub struct Band {
        pub index: usize,
        pub bytes: Vec<u8>,
        pub adler: u32,
        pub raw_len: u64,
    }

    /// A worker's buffers, reused band after band.
    pub struct Scratch {
        pixels: Vec<u32>,
        raw: Vec<u8>,
        tokens: Vec<u32>,
        table: Vec<Seen>,
    }

    impl Scratch {
        pub fn new(width: usize) -> Self {
            Scratch {
                pixels: vec![0; width],
                raw: vec![0; 1 + 3 * width],
                tokens: Vec::new(),
                table: vec![Seen::default(); 1 << TABLE_BITS],
            }
        }
    }

    /// LSB-first bit writer (DEFLATE's order). `put` at most 56 bits between `flush`es.
    struct Bits {
        out: Vec<u8>,
        pos: usize,
        acc: u64,
        n: u32,
    }

    impl Bits {
        /// A writer into `out` (its contents are overwritten), at least `capacity` long.
        fn new(mut out: Vec<u8>, capacity: usize) -> Self {
            if out.len() < capacity.max(64) {
                out.resize(capacity.max(64), 0);
            }
            Bits {
                out,
                pos: 0,
                acc: 0,
                n: 0,
            }
        }

        /// Appends the low `n` bits of `bits` (higher bits must be zero).
        #[inline(always)]
        fn put(&mut self, bits: u64, n: u32) {
            debug_assert!(self.n + n <= 63 && bits >> n == 0);
            self.acc |= bits << self.n;
            self.n += n;
        }

        /// Moves the whole bytes out of the accumulator (≤ 7 bits stay).
        #[inline(always)]
        fn flush(&mut self) {
            if self.pos + 8 > self.out.len() {
                self.out.resize(self.out.len() * 2, 0);
            }
            self.out[self.pos..self.pos + 8].copy_from_slice(&self.acc.to_le_bytes());
            let whole = self.n & !7;
            self.pos += whole as usize / 8;
            self.acc >>= whole;
            self.n -= whole;
        }

        /// `put` then `flush`.
        #[inline(always)]
        fn push(&mut self, bits: u64, n: u32) {
            self.put(bits, n);
            self.flush();
        }

        /// Pads to a byte boundary with zero bits and returns the bytes written.
        fn finish(mut self) -> Vec<u8> {
            self.n = self.n.div_ceil(8) * 8;
            self.flush();
            self.out.truncate(self.pos);
            self.out
        }

        /// Appends whole bytes (at a byte boundary).
        fn bytes(&mut self, bytes: &[u8]) {
            debug_assert_eq!(self.n, 0);
            for &b in bytes {
                self.push(u64::from(b), 8);
            }
        }
    }

    /// [`Bits`] over a slice with room for everything to be pushed (no growth check).
    struct Slice<'a> {
        out: &'a mut [u8],
        pos: usize,
        acc: u64,
        n: u32,
    }

    impl Slice<'_> {
        #[inline(always)]
        fn push(&mut self, bits: u64, n: u32) {
            debug_assert!(self.n + n <= 63 && bits >> n == 0);
            self.acc |= bits << self.n;
            self.n += n;
            self.out[self.pos..self.pos + 8].copy_from_slice(&self.acc.to_le_bytes());
            let whole = self.n & !7;
            self.pos += whole as usize / 8;
            self.acc >>= whole;
            self.n -= whole;
        }
    }

    /// [`code_lengths`] into a new vector.
    #[cfg(test)]
    pub fn code_lengths_for_test(freq: &[u32], limit: usize) -> Vec<u8> {
        let mut lens = vec![0; freq.len().max(2)];
        code_lengths(freq, limit, &mut lens);
        lens
    }

    /// Optimal prefix code lengths for `freq`, none longer than `limit`; unused symbols
    /// get 0. At least two symbols always get a code (a lone one gets a partner).
    fn code_lengths(freq: &[u32], limit: usize, lens: &mut [u8]) {
        lens.fill(0);
        let mut syms: Vec<(u32, u16)> = freq
            .iter()
            .enumerate()
            .filter(|(_, f)| **f > 0)
            .map(|(s, f)| (*f, s as u16))
            .collect();
        match syms.len() {
            0 => syms.extend([(1, 0), (1, 1)]),
            1 => syms.push((1, u16::from(syms[0].1 == 0))),
            _ => {}
        }
        syms.sort_unstable();
        let mut a: Vec<u32> = syms.iter().map(|s| s.0).collect();
        minimum_redundancy(&mut a);
        // Clamp to the limit, then restore the Kraft equality (miniz's method).
        let mut count = [0u32; 16];
        for &l in &a {
            count[(l as usize).min(limit)] += 1;
        }
        let mut total: u64 = (1..=limit)
            .map(|l| u64::from(count[l]) << (limit - l))
            .sum();
        while total > 1 << limit {
            count[limit] -= 1;
            for l in (1..limit).rev() {
                if count[l] > 0 {
                    count[l] -= 1;
                    count[l + 1] += 2;
                    break;
                }
            }
            total -= 1;
        }
        // Shortest codes to the most frequent symbols.
        let mut most_frequent_first = syms.iter().rev();
        for (l, &c) in count.iter().enumerate().take(limit + 1).skip(1) {
            for _ in 0..c {
                let (_, s) = most_frequent_first
                    .next()
                    .expect("counts sum to the symbols");
                lens[*s as usize] = l as u8;
            }
        }
    }

    /// In-place Huffman code lengths for ascending weights (Moffat & Katajainen 1995).
    fn minimum_redundancy(a: &mut [u32]) {
        let n = a.len();
        if n < 2 {
            a.fill(1);
            return;
        }
        a[0] += a[1];
        let (mut root, mut leaf) = (0usize, 2usize);
        for next in 1..n - 1 {
            if leaf >= n || a[root] < a[leaf] {
                a[next] = a[root];
                a[root] = next as u32;
                root += 1;
            } else {
                a[next] = a[leaf];
                leaf += 1;
            }
            if leaf >= n || (root < next && a[root] < a[leaf]) {
                a[next] += a[root];
                a[root] = next as u32;
                root += 1;
            } else {
                a[next] += a[leaf];
                leaf += 1;
            }
        }
        a[n - 2] = 0;
        for next in (0..n - 2).rev() {
            a[next] = a[a[next] as usize] + 1;
        }
        let (mut avail, mut used, mut depth) = (1i64, 0i64, 0u32);
        let (mut root, mut next) = (n as isize - 2, n as isize - 1);
        while avail > 0 {
            while root >= 0 && a[root as usize] == depth {
                used += 1;
                root -= 1;
            }
            while avail > used {
                a[next as usize] = depth;
                next -= 1;
                avail -= 1;
            }
            avail = 2 * used;
            depth += 1;
            used = 0;
        }
    }

    /// Canonical codes for `lens` (RFC 1951 §3.2.2), bit-reversed for the LSB-first writer.
    fn canonical_codes(lens: &[u8], codes: &mut [u16]) {
        let mut count = [0u32; 16];
        for &l in lens {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for bits in 1..16 {
            code = (code + count[bits - 1]) << 1;
            next[bits] = code;
        }
        for (c, &l) in codes.iter_mut().zip(lens) {
            if l > 0 {
                let v = next[l as usize];
                next[l as usize] += 1;
                *c = ((v as u16).reverse_bits()) >> (16 - l);
            } else {
                *c = 0;
            }
        }
    }

    /// Writes a dynamic block header for `lit_lens` (286) and `dist_lens` (30).
    fn write_header(bits: &mut Bits, lit_lens: &[u8], dist_lens: &[u8]) {
        let hlit = 257.max(lit_lens.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));
        let hdist = 1.max(dist_lens.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));
        let seq: Vec<u8> = lit_lens[..hlit]
            .iter()
            .chain(&dist_lens[..hdist])
            .copied()
            .collect();
        // Run-length code the lengths: (symbol, extra value).
        let mut items: Vec<(u8, u8)> = Vec::with_capacity(seq.len());
        let mut i = 0;
        while i < seq.len() {
            let l = seq[i];
            let mut run = 1;
            while i + run < seq.len() && seq[i + run] == l {
                run += 1;
            }
            i += run;
            let mut r = run;
            if l == 0 {
                while r >= 11 {
                    let k = r.min(138);
                    items.push((18, (k - 11) as u8));
                    r -= k;
                }
                if r >= 3 {
                    items.push((17, (r - 3) as u8));
                    r = 0;
                }
            } else {
                items.push((l, 0));
                r -= 1;
                while r >= 3 {
                    let k = r.min(6);
                    items.push((16, (k - 3) as u8));
                    r -= k;
                }
            }
            items.extend(std::iter::repeat_n((l, 0), r));
        }
        let mut freq = [0u32; 19];
        for &(s, _) in &items {
            freq[s as usize] += 1;
        }
        let mut cl_lens = [0u8; 19];
        code_lengths(&freq, 7, &mut cl_lens);
        let mut cl_codes = [0u16; 19];
        canonical_codes(&cl_lens, &mut cl_codes);
        let hclen = 4.max(
            CL_ORDER
                .iter()
                .rposition(|&s| cl_lens[s] > 0)
                .map_or(0, |p| p + 1),
        );
        // BFINAL 0, BTYPE 10 (dynamic).
        bits.push(0b100, 3);
        bits.push((hlit - 257) as u64, 5);
        bits.push((hdist - 1) as u64, 5);
        bits.push((hclen - 4) as u64, 4);
        for &s in &CL_ORDER[..hclen] {
            bits.push(u64::from(cl_lens[s]), 3);
        }
        for (s, extra) in items {
            let s = s as usize;
            bits.push(u64::from(cl_codes[s]), u32::from(cl_lens[s]));
            match s {
                16 => bits.push(u64::from(extra), 2),
                17 => bits.push(u64::from(extra), 3),
                18 => bits.push(u64::from(extra), 7),
                _ => {}
            }
        }
    }

    /// Symbol counts of a block; one-pixel matches are counted by distance (`near`,
    /// folded into `lit`/`dist` when the block is written).
    struct Freqs {
        lit: [u32; 286],
        dist: [u32; 30],
        near: [u32; NEAR + 1],
    }

    impl Freqs {
        fn new() -> Self {
            Freqs {
                lit: [0; 286],
                dist: [0; 30],
                near: [0; NEAR + 1],
            }
        }
    }

    /// Where a colour was last seen in the band, and the pixel that followed it.
    #[derive(Clone, Copy, Default)]
    pub struct Seen {
        colour: u32,
        at: u32,
        next: u32,
    }

    #[inline(always)]
    fn slot(c: u32) -> usize {
        (c.wrapping_mul(0x9e37_79b1) >> (32 - TABLE_BITS)) as usize
    }

    /// Tokenises one row (`pixels`, 24-bit, at band position `base`: earlier rows lie
    /// more than a window back) into `tokens[at..]`, counting symbols; returns the new
    /// end. `tokens` has room for `pixels.len() + 1`.
    #[inline(always)]
    fn tokenise_row(
        pixels: &[u32],
        base: u32,
        table: &mut [Seen],
        tokens: &mut [u32],
        at: usize,
        f: &mut Freqs,
    ) -> usize {
        let w = pixels.len();
        let tokens = &mut tokens[at..at + w + 1];
        tokens[0] = FILTER;
        let mut k = 1;
        f.lit[0] += 1;
        let next_of = |x: usize| pixels.get(x + 1).map_or(NO_PIXEL, |&p| p);
        let mut x = 0usize;
        while x < w {
            let c = pixels[x];
            let s = slot(c);
            let seen = table[s];
            let here = base + x as u32;
            let next = next_of(x);
            table[s] = Seen {
                colour: c | USED,
                at: here,
                next,
            };
            let d = here.wrapping_sub(seen.at) as usize;
            if seen.colour != c | USED || d > WINDOW_PX {
                tokens[k] = LITERAL | c;
                k += 1;
                f.lit[(c >> 16) as usize] += 1;
                f.lit[((c >> 8) & 0xff) as usize] += 1;
                f.lit[(c & 0xff) as usize] += 1;
                x += 1;
            } else if seen.next != next {
                tokens[k] = if d <= NEAR {
                    f.near[d] += 1;
                    d as u32
                } else {
                    f.lit[257] += 1;
                    f.dist[dist_code(3 * d as u32)] += 1;
                    MATCH | 1 << 16 | d as u32
                };
                k += 1;
                x += 1;
            } else {
                // A repeat: compare on (near, in flat areas) pixels.
                let max = MAX_MATCH_PX.min(w - x);
                let mut l = 2;
                while l < max && pixels[x + l] == pixels[x + l - d] {
                    l += 1;
                }
                f.lit[257 + LEN_INDEX[3 * l] as usize] += 1;
                f.dist[dist_code(3 * d as u32)] += 1;
                tokens[k] = MATCH | (l as u32) << 16 | d as u32;
                k += 1;
                let e = pixels[x + l - 1];
                table[slot(e)] = Seen {
                    colour: e | USED,
                    at: here + l as u32 - 1,
                    next: next_of(x + l - 1),
                };
                x += l;
            }
        }
        at + k
    }

    /// Writes one dynamic block holding `tokens`.
    fn write_block(bits: &mut Bits, tokens: &[u32], f: &mut Freqs) {
        for (d, &n) in f.near.iter().enumerate().skip(1) {
            f.lit[257] += n;
            f.dist[dist_code(3 * d as u32)] += n;
        }
        f.lit[256] += 1; // end of block
                         // Two distance codes always (some inflaters reject an empty or lone one).
        f.dist[0] = f.dist[0].max(1);
        f.dist[1] = f.dist[1].max(1);
        let (mut lit_lens, mut dist_lens) = ([0u8; 286], [0u8; 30]);
        code_lengths(&f.lit, 15, &mut lit_lens);
        code_lengths(&f.dist, 15, &mut dist_lens);
        let (mut lit_codes, mut dist_codes) = ([0u16; 286], [0u16; 30]);
        canonical_codes(&lit_lens, &mut lit_codes);
        canonical_codes(&dist_lens, &mut dist_codes);
        write_header(bits, &lit_lens, &dist_lens);
        let lit = |b: usize| (u64::from(lit_codes[b]), u32::from(lit_lens[b]));
        // A match of `px` pixels `d` pixels back → its bits and their count.
        let match_bits = |px: usize, d: usize| -> (u64, u32) {
            let (len, dist) = (3 * px, 3 * d as u32);
            let i = LEN_INDEX[len] as usize;
            let (lc, ln) = lit(257 + i);
            let (lb, ln) = (
                lc | ((len - LEN_BASE[i] as usize) as u64) << ln,
                ln + u32::from(LEN_EXTRA[i]),
            );
            let dc = dist_code(dist);
            let dn = u32::from(dist_lens[dc]);
            let db = u64::from(dist_codes[dc]) | u64::from(dist - u32::from(DIST_BASE[dc])) << dn;
            (lb | db << ln, ln + dn + u32::from(DIST_EXTRA[dc]))
        };
        // One-pixel matches up to NEAR back: bits << 6 | count.
        let mut near = [0u64; NEAR + 1];
        for (d, e) in near.iter_mut().enumerate().skip(1) {
            let (b, n) = match_bits(1, d);
            *e = b << 6 | u64::from(n);
        }
        // The token loop keeps the writer's state in registers: room for the worst
        // case (56 bits a token) is made first.
        let need = bits.pos + 7 * tokens.len() + 16;
        if bits.out.len() < need {
            let grown = need.max(bits.out.len() * 3 / 2);
            bits.out.resize(grown, 0);
        }
        let mut w = Slice {
            out: &mut bits.out,
            pos: bits.pos,
            acc: bits.acc,
            n: bits.n,
        };
        for &t in tokens {
            if t as usize <= NEAR {
                let e = near[t as usize];
                w.push(e >> 6, (e & 63) as u32);
            } else if t & MATCH != 0 {
                let (b, n) = match_bits(((t >> 16) & 0x7f) as usize, (t & 0xffff) as usize);
                w.push(b, n);
            } else if t & LITERAL != 0 {
                let (rb, rn) = lit(((t >> 16) & 0xff) as usize);
                let (gb, gn) = lit(((t >> 8) & 0xff) as usize);
                let (bb, bn) = lit((t & 0xff) as usize);
                w.push(rb | gb << rn | bb << (rn + gn), rn + gn + bn);
            } else {
                let (b, n) = lit(0);
                w.push(b, n);
            }
        }
        (bits.pos, bits.acc, bits.n) = (w.pos, w.acc, w.n);
        let (b, n) = lit(256);
        bits.push(b, n);
    }

    /// Compresses band `index` of `plan`, pulling its rows from `row`, into `buffer`
    /// (any contents; reused to spare fresh pages).
    pub fn encode_band(
        plan: &BandPlan,
        index: usize,
        row: &RowSource<'_>,
        s: &mut Scratch,
        buffer: Vec<u8>,
    ) -> Band {
        let width = plan.width;
        let first = index * plan.band_rows;
        let end = (first + plan.band_rows).min(plan.height);
        let mut bits = Bits::new(buffer, (end - first) * (3 * width + 1) / 2);
        if index == 0 {
            bits.bytes(&[0x78, 0x01]); // zlib: deflate, 32 KiB window
        }
        s.table.fill(Seen::default());
        let mut adler = simd_adler32::Adler32::new();
        let mut freqs = Freqs::new();
        let mut ntok = 0;
        let mut block_pixels = 0;
        for (i, y) in (first..end).enumerate() {
            row(y, &mut s.pixels);
            for (dst, p) in s.raw[1..].chunks_exact_mut(3).zip(&mut s.pixels) {
                *p &= 0x00ff_ffff;
                dst.copy_from_slice(&p.to_be_bytes()[1..]);
            }
            adler.write(&s.raw);
            if s.tokens.len() < ntok + width + 1 {
                s.tokens.resize(ntok + width + 1, 0);
            }
            ntok = tokenise_row(
                &s.pixels,
                (i * (width + WINDOW_PX + 1)) as u32,
                &mut s.table,
                &mut s.tokens,
                ntok,
                &mut freqs,
            );
            block_pixels += width;
            if block_pixels >= BLOCK_PIXELS || y + 1 == end {
                write_block(&mut bits, &s.tokens[..ntok], &mut freqs);
                ntok = 0;
                freqs = Freqs::new();
                block_pixels = 0;
            }
        }
        // Sync flush: an empty stored block brings the band to a byte boundary.
        bits.push(0, 3);
        let mut bytes = bits.finish();
        bytes.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        Band {
            index,
            bytes,
            adler: adler.finish(),
            raw_len: ((end - first) * (3 * width + 1)) as u64,
        }
    }
}

/// Saves a screenshot as `dir/hopscope-YYYYMMDD-HHMMSS[-N].png`, never overwriting.
///
/// # Errors
/// The directory is not writable.
pub fn save_screenshot(
    dir: &Path,
    pixels: &[u32],
    width: usize,
    height: usize,
) -> std::io::Result<PathBuf> {
    for name in stamped_names("hopscope", ".png") {
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => {
                let result = encode(BufWriter::new(file), pixels, width, height);
                if let Err(e) = result {
                    let _ = std::fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(std::path::absolute(&path).unwrap_or(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "1000 screenshots this second already",
    ))
}

#[cfg(test)]
mod tests {
    use super::deflate::{adler32_combine, code_lengths_for_test};
    use super::*;

    /// xorshift64*.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Decodes with every checksum (CRC-32s and the Adler-32) verified.
    fn decode(png: &[u8]) -> (usize, usize, Vec<u32>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.ignore_checksums(false);
        let mut reader = decoder.read_info().expect("header");
        let mut buf = vec![0u8; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let pixels = buf[..info.buffer_size()]
            .chunks_exact(3)
            .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]))
            .collect();
        (info.width as usize, info.height as usize, pixels)
    }

    fn round_trip(name: &str, pixels: &[u32], w: usize, h: usize) -> usize {
        let mut sizes = Vec::new();
        for (threads, parallel_min) in [(1, usize::MAX), (3, 0)] {
            let mut out = Vec::new();
            encode_rows_from(
                &mut out,
                w,
                h,
                threads,
                parallel_min,
                &|y, row: &mut [u32]| {
                    row.copy_from_slice(&pixels[y * w..(y + 1) * w]);
                },
            )
            .expect("encodes");
            let (dw, dh, got) = decode(&out);
            assert_eq!((dw, dh), (w, h), "{name}");
            let want: Vec<u32> = pixels.iter().map(|p| p & 0x00ff_ffff).collect();
            if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
                panic!(
                    "{name} ({threads} threads): pixel ({}, {}) is {:06x}, want {:06x}",
                    i % w,
                    i / w,
                    got[i],
                    want[i]
                );
            }
            sizes.push(out.len());
        }
        sizes[0]
    }

    #[test]
    fn shapes_and_palettes_round_trip_with_valid_checksums() {
        let mut rng = Rng(7);
        for (w, h, colours) in [
            (1usize, 1usize, 1u64),
            (1, 9, 2),
            (7, 5, 3),
            (300, 2, 0),
            (300, 40, 4),
            (20_000, 3, 3000), // distances past NEAR and past the 32 KiB window
            (4096, 40, 260),   // several blocks, several rows a block
            (50, 2000, 16),
        ] {
            let palette: Vec<u32> = (0..colours.max(1))
                .map(|_| rng.next() as u32 & 0x00ff_ffff)
                .collect();
            let pixels: Vec<u32> = (0..w * h)
                .map(|_| {
                    if colours == 0 {
                        rng.next() as u32 // any colour, garbage in the top byte
                    } else {
                        palette[rng.below(colours) as usize]
                    }
                })
                .collect();
            round_trip(&format!("{w}x{h}/{colours}"), &pixels, w, h);
        }
    }

    #[test]
    fn runs_and_repeats_round_trip_and_compress() {
        let (w, h) = (1000usize, 30usize);
        let mut rng = Rng(11);
        let mut pixels = vec![0u32; w * h];
        for (y, row) in pixels.chunks_exact_mut(w).enumerate() {
            let mut x = 0;
            while x < w {
                // Runs of 1..300 pixels (matches longer than 258 bytes must split),
                // repeated patterns, and runs of black (colour 0).
                let len = 1 + rng.below(300) as usize;
                let c = if rng.below(3) == 0 {
                    0
                } else {
                    rng.below(8) as u32 * 0x0001_0101
                };
                for p in row[x..(x + len).min(w)].iter_mut() {
                    *p = c;
                }
                x += len;
            }
            if y % 2 == 1 {
                let (a, b) = row.split_at_mut(w / 2);
                b[..w / 2].copy_from_slice(&a[..w / 2]);
            }
        }
        let size = round_trip("runs", &pixels, w, h);
        assert!(
            size < w * h / 4,
            "{size} bytes for {} pixels of runs",
            w * h
        );
        let flat = vec![0x0012_3456u32; 3000 * 20];
        let size = round_trip("flat", &flat, 3000, 20);
        assert!(size < 3000 * 20 * 3 / 100, "{size} bytes for a flat frame");
    }

    #[test]
    fn adler32_combines_like_one_pass() {
        let mut rng = Rng(3);
        let data: Vec<u8> = (0..200_000).map(|_| rng.next() as u8).collect();
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
    fn code_lengths_are_complete_and_limited() {
        // Fibonacci weights make an unlimited Huffman code 30 bits deep.
        let mut fib = vec![1u32, 1];
        while fib.len() < 30 {
            let n = fib.len();
            fib.push(fib[n - 1] + fib[n - 2]);
        }
        let mut rng = Rng(5);
        let random: Vec<u32> = (0..286).map(|_| rng.below(1000) as u32).collect();
        for (freq, limit) in [
            (fib.clone(), 15usize),
            (fib, 7),
            (random, 15),
            (vec![0, 5, 0], 7),
        ] {
            let lens = code_lengths_for_test(&freq, limit);
            let used = freq.iter().filter(|&&f| f > 0).count().max(2);
            assert_eq!(lens.iter().filter(|&&l| l > 0).count(), used);
            assert!(lens.iter().all(|&l| usize::from(l) <= limit));
            let kraft: u64 = lens
                .iter()
                .filter(|&&l| l > 0)
                .map(|&l| 1u64 << (limit - usize::from(l)))
                .sum();
            assert_eq!(kraft, 1 << limit, "complete code");
        }
    }

    #[test]
    fn bad_dimensions_are_errors() {
        let row = |_: usize, _: &mut [u32]| {};
        assert!(encode_rows(std::io::sink(), 0, 5, 1, &row).is_err());
        assert!(encode_rows(std::io::sink(), 5, 0, 1, &row).is_err());
        assert!(encode(std::io::sink(), &[0; 3], 2, 2).is_err());
    }
}
