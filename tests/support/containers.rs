//! Surgery on container files the tests make with ffmpeg, written from the format
//! specifications (ISO/IEC 14496-12 boxes, RFC 3533 Ogg pages), not from `src/`: an MP4
//! box tree that can be edited and written back, and Ogg pages re-checksummed after an
//! edit.

/// One MP4 box: its type and either its body or its children.
#[derive(Clone, Debug)]
pub struct Mp4Box {
    pub kind: [u8; 4],
    /// A full box's 4 bytes of version and flags before its children (`meta`).
    pub prefix: Vec<u8>,
    pub body: Vec<u8>,
    pub children: Option<Vec<Mp4Box>>,
    /// Write the header with a 64-bit size (size field 1).
    pub large: bool,
}

/// The boxes whose bodies are boxes (on the paths the tests edit).
const CONTAINERS: [&[u8; 4]; 10] = [
    b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl", b"udta", b"meta", b"ilst", b"----",
];

/// Parses `b` as a sequence of boxes.
pub fn parse_boxes(b: &[u8]) -> Vec<Mp4Box> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= b.len() {
        let size32 = u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        let kind: [u8; 4] = b[at + 4..at + 8].try_into().expect("4 bytes");
        let (size, header, large) = match size32 {
            0 => (b.len() - at, 8, false),
            1 => (
                u64::from_be_bytes(b[at + 8..at + 16].try_into().expect("8 bytes")) as usize,
                16,
                true,
            ),
            n => (n as usize, 8, false),
        };
        let body = &b[at + header..at + size];
        let mut bx = Mp4Box {
            kind,
            prefix: Vec::new(),
            body: body.to_vec(),
            children: None,
            large,
        };
        if CONTAINERS.contains(&&kind) {
            let skip = if &kind == b"meta" && body.get(..4) == Some(&[0, 0, 0, 0]) {
                4
            } else {
                0
            };
            bx.prefix = body[..skip].to_vec();
            bx.children = Some(parse_boxes(&body[skip..]));
        }
        out.push(bx);
        at += size;
    }
    out
}

/// Writes boxes back.
pub fn write_boxes(boxes: &[Mp4Box]) -> Vec<u8> {
    let mut out = Vec::new();
    for bx in boxes {
        let mut body = bx.prefix.clone();
        match &bx.children {
            Some(c) => body.extend(write_boxes(c)),
            None => body.extend_from_slice(&bx.body),
        }
        if bx.large {
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&bx.kind);
            out.extend_from_slice(&(body.len() as u64 + 16).to_be_bytes());
        } else {
            out.extend_from_slice(&(body.len() as u32 + 8).to_be_bytes());
            out.extend_from_slice(&bx.kind);
        }
        out.extend(body);
    }
    out
}

/// A leaf box.
pub fn leaf(kind: &[u8; 4], body: Vec<u8>) -> Mp4Box {
    Mp4Box {
        kind: *kind,
        prefix: Vec::new(),
        body,
        children: None,
        large: false,
    }
}

/// A container box.
pub fn container(kind: &[u8; 4], children: Vec<Mp4Box>) -> Mp4Box {
    Mp4Box {
        kind: *kind,
        prefix: Vec::new(),
        body: Vec::new(),
        children: Some(children),
        large: false,
    }
}

/// The first box of type `kind` among `boxes` and their descendants.
pub fn find_mut<'a>(boxes: &'a mut [Mp4Box], kind: &[u8; 4]) -> Option<&'a mut Mp4Box> {
    for bx in boxes.iter_mut() {
        if &bx.kind == kind {
            return Some(bx);
        }
        if let Some(c) = bx.children.as_mut() {
            if let Some(found) = find_mut(c, kind) {
                return Some(found);
            }
        }
    }
    None
}

/// An `elst` body: version 0 (32-bit) or 1 (64-bit) entries of (segment duration,
/// media time), rate 1.
pub fn elst_body(version: u8, edits: &[(u64, i64)]) -> Vec<u8> {
    let mut b = vec![version, 0, 0, 0];
    b.extend_from_slice(&(edits.len() as u32).to_be_bytes());
    for &(duration, media_time) in edits {
        if version == 1 {
            b.extend_from_slice(&duration.to_be_bytes());
            b.extend_from_slice(&media_time.to_be_bytes());
        } else {
            b.extend_from_slice(&(duration as u32).to_be_bytes());
            b.extend_from_slice(&(media_time as i32).to_be_bytes());
        }
        b.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    }
    b
}

/// A `udta/meta/ilst` holding an iTunes `----:com.apple.iTunes:iTunSMPB` tag.
pub fn itunsmpb_udta(priming: u32, padding: u32, length: u64) -> Mp4Box {
    let value = format!(" 00000000 {priming:08X} {padding:08X} {length:016X} 00000000 00000000");
    let mut mean = vec![0, 0, 0, 0];
    mean.extend_from_slice(b"com.apple.iTunes");
    let mut name = vec![0, 0, 0, 0];
    name.extend_from_slice(b"iTunSMPB");
    let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0]; // type 1: UTF-8; locale 0
    data.extend_from_slice(value.as_bytes());
    let mut hdlr = vec![0u8; 8];
    hdlr.extend_from_slice(b"mdir");
    hdlr.extend_from_slice(b"appl");
    hdlr.extend_from_slice(&[0; 9]);
    let mut meta = container(
        b"meta",
        vec![
            leaf(b"hdlr", hdlr),
            container(
                b"ilst",
                vec![container(
                    b"----",
                    vec![
                        leaf(b"mean", mean),
                        leaf(b"name", name),
                        leaf(b"data", data),
                    ],
                )],
            ),
        ],
    );
    meta.prefix = vec![0, 0, 0, 0];
    container(b"udta", vec![meta])
}

/// The Ogg CRC-32 (polynomial 0x04C11DB7, not reflected, initial 0).
fn ogg_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in bytes {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The pages of an Ogg file: (offset, length) of each.
pub fn ogg_pages(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 27 <= b.len() && &b[at..at + 4] == b"OggS" {
        let segments = usize::from(b[at + 26]);
        let table = &b[at + 27..at + 27 + segments];
        let len = 27 + segments + table.iter().map(|&s| usize::from(s)).sum::<usize>();
        out.push((at, len));
        at += len;
    }
    out
}

/// Recomputes the checksum of the Ogg page at `at`, `len` bytes (after an edit).
pub fn ogg_fix_crc(b: &mut [u8], at: usize, len: usize) {
    b[at + 22..at + 26].fill(0);
    let crc = ogg_crc(&b[at..at + len]);
    b[at + 22..at + 26].copy_from_slice(&crc.to_le_bytes());
}

/// Where the body of the Ogg page at `at` starts.
pub fn ogg_body(b: &[u8], at: usize) -> usize {
    at + 27 + usize::from(b[at + 26])
}
