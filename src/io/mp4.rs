//! The gapless metadata of an MP4/M4A file, which symphonia's demuxer parses but does not
//! apply: each track's edit list (`moov/trak/edts/elst`) and iTunes' `iTunSMPB` tag
//! (`moov/udta/meta/ilst/----`).
//!
//! An AAC encoder starts with priming frames (1024 for ffmpeg's, 2112 for Apple's) and
//! pads the last packet; the file says which frames to present. The edit list does it in
//! the movie's terms: an edit plays `segment_duration` (movie timescale) of the media from
//! `media_time` (media timescale). `iTunSMPB` does it as hex fields: priming, padding
//! and the original length, in frames.
//!
//! The walker is small and bounded: it reads box headers and seeks past their bodies
//! (an `mdat` of gigabytes costs one seek), reads only the `mvhd`, `tkhd`, `mdhd`,
//! `hdlr`, `elst` and `iTunSMPB` bodies, at most [`MAX_BOXES`] boxes, [`MAX_EDITS`] edits
//! and [`MAX_DEPTH`] levels, and never reads past the file or its parent box. It gives
//! up silently (`None`) on anything it does not understand: the file is then decoded
//! whole, as before, and symphonia reports what is wrong with it.

use std::io::{Read, Seek, SeekFrom};

/// Boxes visited at most (a file of millions of empty boxes must not take forever).
const MAX_BOXES: usize = 10_000;
/// Edit list entries read at most; a longer list is ignored.
const MAX_EDITS: u32 = 256;
/// Box nesting followed at most (`moov/udta/meta/ilst/----/data` is 6).
const MAX_DEPTH: usize = 8;
/// Bytes of an `iTunSMPB` value read at most.
const MAX_TAG_BYTES: u64 = 1024;

/// Which decoded frames of a track to present: `skip` frames, then `frames` (`None`: all
/// that follow). Both in the track's media timescale.
///
/// Thread: any (plain data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trim {
    /// Frames at the start to drop (encoder priming).
    pub skip: u64,
    /// Frames to present after them (`None`: to the end).
    pub frames: Option<u64>,
}

/// One track's timing, as the file declares it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackTiming {
    /// `tkhd` track id (what symphonia's `Track::id` is for MP4).
    pub track_id: u32,
    /// `mdhd` timescale (units per second of the media).
    pub media_timescale: u32,
    /// `mdhd` duration, in the media timescale.
    pub media_duration: u64,
    /// `hdlr` handler type (`soun` for audio).
    pub handler: [u8; 4],
    /// The edit list's entries: (segment duration in the movie timescale, media time in the
    /// media timescale, −1 for an empty edit; rate is 1.0 or the list is dropped).
    pub edits: Vec<(u64, i64)>,
}

/// What [`read_gapless`] found in a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gapless {
    /// `mvhd` timescale (of the edits' segment durations).
    pub movie_timescale: u32,
    /// Every track's timing.
    pub tracks: Vec<TrackTiming>,
    /// `iTunSMPB`: (priming, padding, original length) in frames.
    pub itunsmpb: Option<(u64, u64, u64)>,
}

impl Gapless {
    /// The frames to present of track `track_id` whose sample rate is `sample_rate_hz`:
    /// from its edit list when it has one we apply (one edit at rate 1, after any empty
    /// edits, which would insert silence and are ignored), else from `iTunSMPB` (for the
    /// first audio track), else `None`. In the track's media timescale.
    ///
    /// The segment duration is in the movie timescale, often 1/1000 s, so it may be off
    /// by up to one tick; when the media's own end (its sample durations, which encoders
    /// such as ffmpeg's set to the real length of the last packet) lies within one tick
    /// of the edit's end, the media's end is the exact one and is used.
    pub fn trim(&self, track_id: u32, sample_rate_hz: u32) -> Option<Trim> {
        let track = self.tracks.iter().find(|t| t.track_id == track_id)?;
        let media_ts = u64::from(track.media_timescale);
        if let Some(trim) = self.edit_trim(track) {
            return Some(trim);
        }
        let first_audio = self.tracks.iter().find(|t| &t.handler == b"soun")?;
        let (priming, _padding, length) = self.itunsmpb?;
        if first_audio.track_id != track_id || media_ts == 0 || sample_rate_hz == 0 {
            return None;
        }
        // iTunSMPB counts frames at the sample rate; the trim is in the media timescale.
        let to_media = |frames: u64| mul_div(frames, media_ts, u64::from(sample_rate_hz));
        Some(Trim {
            skip: to_media(priming)?,
            frames: if length == 0 {
                None
            } else {
                Some(to_media(length)?)
            },
        })
    }

    fn edit_trim(&self, track: &TrackTiming) -> Option<Trim> {
        let mut edits = track
            .edits
            .iter()
            .skip_while(|(_, media_time)| *media_time < 0);
        let &(segment, media_time) = edits.next()?;
        if edits.next().is_some() || media_time < 0 {
            return None; // several edits (or empty ones after): not a gapless trim
        }
        let skip = u64::try_from(media_time).ok()?;
        let (movie_ts, media_ts) = (
            u64::from(self.movie_timescale),
            u64::from(track.media_timescale),
        );
        if segment == 0 || movie_ts == 0 || media_ts == 0 {
            // A zero duration means "the rest of the media" in fragmented files.
            return Some(Trim { skip, frames: None });
        }
        let mut frames = mul_div(segment, media_ts, movie_ts)?;
        let media_left = track.media_duration.checked_sub(skip)?;
        let tick = media_ts.div_ceil(movie_ts);
        if media_left.abs_diff(frames) <= tick {
            frames = media_left;
        }
        Some(Trim {
            skip,
            frames: Some(frames.min(media_left)),
        })
    }
}

/// `a·b/c` rounded to nearest, `None` on overflow.
fn mul_div(a: u64, b: u64, c: u64) -> Option<u64> {
    let v = (u128::from(a) * u128::from(b) + u128::from(c / 2)) / u128::from(c.max(1));
    u64::try_from(v).ok()
}

/// Reads the gapless metadata of the MP4 file `r` (`len` bytes), leaving `r` at the
/// start. `None` when it is not an MP4 (no leading `ftyp` box) or has no `moov`.
///
/// # Errors
/// Only a failure to seek back to the start; a read failure or a malformed box ends the
/// walk with what was found so far.
pub fn read_gapless<R: Read + Seek>(r: &mut R, len: u64) -> std::io::Result<Option<Gapless>> {
    let mut walker = Walker {
        r,
        visited: 0,
        found: Gapless::default(),
        moov: false,
    };
    let result = walker.top(len);
    walker.r.seek(SeekFrom::Start(0))?;
    Ok(match result {
        Some(true) if walker.moov => Some(walker.found),
        _ => None,
    })
}

struct Walker<'a, R> {
    r: &'a mut R,
    visited: usize,
    found: Gapless,
    moov: bool,
}

/// A box: its type, where its body starts and ends.
struct BoxHeader {
    kind: [u8; 4],
    body: u64,
    end: u64,
}

impl<R: Read + Seek> Walker<'_, R> {
    /// The top level: `ftyp` first, then everything up to `moov`.
    fn top(&mut self, len: u64) -> Option<bool> {
        let mut at = 0;
        let mut first = true;
        while at < len {
            let b = self.header(at, len)?;
            if first && &b.kind != b"ftyp" {
                return Some(false);
            }
            first = false;
            if &b.kind == b"moov" {
                self.moov = true;
                self.moov_box(&b, 1)?;
                return Some(true);
            }
            at = b.end;
        }
        Some(!first)
    }

    /// The header of the box at `at`, which must end by `parent_end`.
    fn header(&mut self, at: u64, parent_end: u64) -> Option<BoxHeader> {
        self.visited += 1;
        if self.visited > MAX_BOXES || parent_end.checked_sub(at)? < 8 {
            return None;
        }
        self.r.seek(SeekFrom::Start(at)).ok()?;
        let mut h = [0u8; 8];
        self.r.read_exact(&mut h).ok()?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = [h[4], h[5], h[6], h[7]];
        let (size, header_len) = match size32 {
            0 => (parent_end - at, 8),
            1 => {
                let mut big = [0u8; 8];
                self.r.read_exact(&mut big).ok()?;
                (u64::from_be_bytes(big), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header_len || size > parent_end - at {
            return None;
        }
        Some(BoxHeader {
            kind,
            body: at + header_len,
            end: at + size,
        })
    }

    /// Calls `each` on every child box of `parent` whose body starts at `from`.
    fn children(
        &mut self,
        from: u64,
        end: u64,
        depth: usize,
        mut each: impl FnMut(&mut Self, &BoxHeader) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut at = from;
        while at + 8 <= end {
            let b = self.header(at, end)?;
            each(self, &b)?;
            at = b.end;
        }
        Some(())
    }

    fn moov_box(&mut self, moov: &BoxHeader, depth: usize) -> Option<()> {
        self.children(moov.body, moov.end, depth, |w, b| {
            match &b.kind {
                b"mvhd" => {
                    let body = w.body(b, 32)?;
                    // version 1: 8-byte times, timescale at 20; version 0: 4-byte, at 12.
                    let at = if body[0] == 1 { 20 } else { 12 };
                    w.found.movie_timescale = be_u32(&body, at)?;
                }
                b"trak" => {
                    let mut track = TrackTiming::default();
                    w.trak(b, depth + 1, &mut track)?;
                    w.found.tracks.push(track);
                }
                // A damaged udta (tags) must not cost the edit lists.
                b"udta" => _ = w.udta(b, depth + 1),
                _ => {}
            }
            Some(())
        })
    }

    fn trak(&mut self, trak: &BoxHeader, depth: usize, t: &mut TrackTiming) -> Option<()> {
        self.children(trak.body, trak.end, depth, |w, b| {
            match &b.kind {
                b"tkhd" => {
                    let body = w.body(b, 24)?;
                    let at = if body[0] == 1 { 20 } else { 12 };
                    t.track_id = be_u32(&body, at)?;
                }
                b"edts" => w.children(b.body, b.end, depth + 1, |w, e| {
                    if &e.kind == b"elst" {
                        t.edits = w.elst(e).unwrap_or_default();
                    }
                    Some(())
                })?,
                b"mdia" => w.children(b.body, b.end, depth + 1, |w, m| {
                    match &m.kind {
                        b"mdhd" => {
                            // version 0: 4-byte times (20 bytes to the duration's end).
                            let v1 = w.body(m, 1)?[0] == 1;
                            let body = w.body(m, if v1 { 32 } else { 20 })?;
                            if v1 {
                                t.media_timescale = be_u32(&body, 20)?;
                                t.media_duration = be_u64(&body, 24)?;
                            } else {
                                t.media_timescale = be_u32(&body, 12)?;
                                t.media_duration = u64::from(be_u32(&body, 16)?);
                            }
                        }
                        b"hdlr" => {
                            let body = w.body(m, 12)?;
                            t.handler.copy_from_slice(body.get(8..12)?);
                        }
                        _ => {}
                    }
                    Some(())
                })?,
                _ => {}
            }
            Some(())
        })
    }

    /// The entries of an `elst` box; `None` (no trim) for a rate other than 1 or a list
    /// longer than [`MAX_EDITS`].
    fn elst(&mut self, b: &BoxHeader) -> Option<Vec<(u64, i64)>> {
        let head = self.body(b, 8)?;
        let (version, count) = (head[0], be_u32(&head, 4)?);
        let entry = if version == 1 { 20 } else { 12 };
        if count > MAX_EDITS || 8 + u64::from(count) * entry > b.end - b.body {
            return None;
        }
        let body = self.body(b, 8 + count as usize * entry as usize)?;
        let mut edits = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let e = 8 + i * entry as usize;
            let (segment, media_time, rate_at) = if version == 1 {
                (be_u64(&body, e)?, be_u64(&body, e + 8)? as i64, e + 16)
            } else {
                (
                    u64::from(be_u32(&body, e)?),
                    i64::from(be_u32(&body, e + 4)? as i32),
                    e + 8,
                )
            };
            if be_u32(&body, rate_at)? != 0x0001_0000 {
                return None;
            }
            edits.push((segment, media_time));
        }
        Some(edits)
    }

    fn udta(&mut self, udta: &BoxHeader, depth: usize) -> Option<()> {
        self.children(udta.body, udta.end, depth, |w, b| {
            if &b.kind == b"meta" {
                // ISO: a full box (4 bytes of version and flags); QuickTime: plain.
                let head = w.body(b, 4)?;
                let from = if head == [0, 0, 0, 0] {
                    b.body + 4
                } else {
                    b.body
                };
                w.children(from, b.end, depth + 1, |w, m| {
                    if &m.kind == b"ilst" {
                        w.children(m.body, m.end, depth + 2, |w, tag| {
                            if &tag.kind == b"----" {
                                w.freeform(tag, depth + 3);
                            }
                            Some(())
                        })?;
                    }
                    Some(())
                })?;
            }
            Some(())
        })
    }

    /// A `----` tag: `iTunSMPB` when its name says so.
    fn freeform(&mut self, tag: &BoxHeader, depth: usize) {
        let mut name = false;
        let mut value = None;
        let _ = self.children(tag.body, tag.end, depth, |w, b| {
            match &b.kind {
                // name: 4 bytes of version/flags, then the name.
                b"name" => name = w.body(b, 0)?.get(4..) == Some(b"iTunSMPB"),
                // data: 4 bytes of type, 4 of locale, then the value.
                b"data" => value = w.body(b, 0).and_then(|d| d.get(8..).map(<[u8]>::to_vec)),
                _ => {}
            }
            Some(())
        });
        if let (true, Some(v)) = (name, value) {
            self.found.itunsmpb = parse_itunsmpb(&v);
        }
    }

    /// The first `want` bytes of a box's body (all of it, up to [`MAX_TAG_BYTES`], when
    /// `want` is 0); `None` when the body is shorter.
    fn body(&mut self, b: &BoxHeader, want: usize) -> Option<Vec<u8>> {
        let len = b.end - b.body;
        let n = if want == 0 {
            len.min(MAX_TAG_BYTES) as usize
        } else {
            want
        };
        if (n as u64) > len {
            return None;
        }
        self.r.seek(SeekFrom::Start(b.body)).ok()?;
        let mut buf = vec![0u8; n];
        self.r.read_exact(&mut buf).ok()?;
        Some(buf)
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// ` 00000000 00000840 000001CC 00000000001A7AA4 …`: (priming, padding, length).
fn parse_itunsmpb(value: &[u8]) -> Option<(u64, u64, u64)> {
    let text = std::str::from_utf8(value).ok()?;
    let mut fields = text.split_whitespace().map(|f| u64::from_str_radix(f, 16));
    let _zero = fields.next()?.ok()?;
    let priming = fields.next()?.ok()?;
    let padding = fields.next()?.ok()?;
    let length = fields.next()?.ok()?;
    Some((priming, padding, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_fields_are_hex() {
        assert_eq!(
            parse_itunsmpb(b" 00000000 00000840 000001CC 00000000001A7AA4 00000000"),
            Some((0x840, 0x1cc, 0x1a_7aa4))
        );
        assert_eq!(parse_itunsmpb(b" 00000000 zz"), None);
    }

    #[test]
    fn mul_div_rounds_to_nearest() {
        assert_eq!(mul_div(1500, 48_000, 1000), Some(72_000));
        assert_eq!(mul_div(1, 44_100, 1000), Some(44));
        assert_eq!(mul_div(u64::MAX, u64::MAX, 1), None);
    }
}
