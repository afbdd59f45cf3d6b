//! Opus packets (from symphonia's Ogg demuxer, which has the Opus mapping but 0.6.1 has
//! no Opus decoder) decoded by rusty-opus, a pure-Rust port of libopus (float build).
//!
//! The identification header (`OpusHead`, RFC 7845 §5.1) gives the channels, the
//! pre-skip (frames the decoder must drop at the start: [`OpusCodec::pre_skip`], applied
//! by the caller with the end trim of the last page's granule position), the output gain
//! (applied here, as libopus's `opusfile` and ffmpeg do) and the channel mapping. Family 0
//! (mono, stereo) is one Opus stream; family 1 (Vorbis order, 1–8 channels, put in WAV's
//! order L R C LFE …) is several streams per packet, split here (RFC 6716 Appendix B,
//! self-delimited framing: rusty-opus's own multistream decoder hands those sub-packets
//! to its decoders as if undelimited and decodes libopus's 5.1 files to noise) and
//! decoded one by one. The other families (2 and 3, ambisonics; 255, channels without a
//! meaning) are refused: symphonia's Ogg demuxer does not take them either
//! ([`unsupported_in_ogg`] says so before it is asked). Output is always 48 kHz.

use rusty_opus::OpusDecoder;

/// The output rate (Opus decodes at 48 kHz whatever the input's rate was).
pub const OPUS_RATE_HZ: u32 = 48_000;

/// The longest Opus packet: 120 ms at 48 kHz, in frames.
const MAX_PACKET_FRAMES: usize = 5760;

/// Family 1 channels come in Vorbis order (RFC 7845 §5.1.1.2: L C R, …, LFE last); the
/// output is in WAV's (and ffmpeg's) order, L R C LFE …: output channel `i` of an
/// `n`-channel stream is decoded channel `VORBIS_TO_WAV[n − 1][i]`.
const VORBIS_TO_WAV: [&[usize]; 8] = [
    &[0],
    &[0, 1],
    &[0, 2, 1],
    &[0, 1, 2, 3],
    &[0, 2, 1, 3, 4],
    &[0, 2, 1, 5, 3, 4],
    &[0, 2, 1, 6, 5, 3, 4],
    &[0, 2, 1, 7, 5, 6, 3, 4],
];

/// What the identification header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channels.
    pub channels: usize,
    /// Frames to drop at the start.
    pub pre_skip: u16,
    /// Gain to apply, Q7.8 dB.
    pub output_gain_q8: i16,
    /// Channel mapping family.
    pub mapping_family: u8,
    /// Streams per packet.
    pub streams: usize,
    /// Of which the first this many are stereo.
    pub coupled: usize,
    /// For each output channel, the decoded channel it takes (255: silence); decoded
    /// channels are the coupled streams' two each, then the others' one each.
    pub mapping: Vec<u8>,
}

impl OpusHead {
    /// Parses an `OpusHead` packet.
    ///
    /// # Errors
    /// A packet too short, of another magic, a major version other than 0, no channels,
    /// a mapping table that does not add up.
    pub fn parse(b: &[u8]) -> Result<OpusHead, String> {
        let bad = |why: &str| format!("invalid Opus header: {why}");
        if b.len() < 19 || &b[..8] != b"OpusHead" {
            return Err(bad("too short or no OpusHead magic"));
        }
        if b[8] >> 4 != 0 {
            return Err(bad(&format!("version {} is not 0.x", b[8])));
        }
        let channels = usize::from(b[9]);
        if channels == 0 {
            return Err(bad("no channels"));
        }
        let mapping_family = b[18];
        let (streams, coupled, mapping) = if mapping_family == 0 {
            if channels > 2 {
                return Err(bad(&format!("{channels} channels in family 0")));
            }
            (1, channels - 1, (0..channels as u8).collect())
        } else {
            let table = b
                .get(19..21 + channels)
                .ok_or_else(|| bad("channel mapping table cut short"))?;
            let (streams, coupled) = (usize::from(table[0]), usize::from(table[1]));
            if streams == 0 || coupled > streams || streams + coupled > 255 {
                return Err(bad(&format!("{streams} streams, {coupled} coupled")));
            }
            let mapping = table[2..].to_vec();
            if let Some(m) = mapping
                .iter()
                .find(|&&m| m != 255 && usize::from(m) >= streams + coupled)
            {
                return Err(bad(&format!(
                    "channel mapped to {m} of {}",
                    streams + coupled
                )));
            }
            (streams, coupled, mapping)
        };
        Ok(OpusHead {
            channels,
            pre_skip: u16::from_le_bytes([b[10], b[11]]),
            output_gain_q8: i16::from_le_bytes([b[16], b[17]]),
            mapping_family,
            streams,
            coupled,
            mapping,
        })
    }
}

/// An Opus stream's decoder.
///
/// Thread: whoever reads the file (`Send`).
pub struct OpusCodec {
    head: OpusHead,
    /// One per stream.
    decoders: Vec<OpusDecoder>,
    /// Linear output gain.
    gain: f32,
    /// Each stream's output of one packet, at most 120 ms of two channels.
    scratch: Vec<Vec<f32>>,
    /// Output channel → (stream, channel in it); `None`: silent.
    sources: Vec<Option<(usize, usize)>>,
}

impl OpusCodec {
    /// A decoder for the stream whose identification header is `head`.
    ///
    /// # Errors
    /// An invalid header or an ambisonic channel mapping (see the module docs).
    pub fn new(head: &[u8]) -> Result<OpusCodec, String> {
        let head = OpusHead::parse(head)?;
        if head.mapping_family > 1 {
            return Err(unsupported(&head));
        }
        let decoders = Self::make(&head)?;
        let coupled = head.coupled;
        let decoded = |m: usize| {
            if m < 2 * coupled {
                (m / 2, m % 2)
            } else {
                (coupled + m - 2 * coupled, 0)
            }
        };
        let order: Vec<usize> = match (head.mapping_family, VORBIS_TO_WAV.get(head.channels - 1)) {
            (1, Some(order)) => order.to_vec(),
            _ => (0..head.channels).collect(),
        };
        let sources = order
            .iter()
            .map(|&c| match head.mapping[c] {
                255 => None,
                m => Some(decoded(usize::from(m))),
            })
            .collect();
        Ok(OpusCodec {
            gain: 10f32.powf(f32::from(head.output_gain_q8) / (20.0 * 256.0)),
            scratch: vec![vec![0.0; MAX_PACKET_FRAMES * 2]; head.streams],
            sources,
            decoders,
            head,
        })
    }

    fn make(head: &OpusHead) -> Result<Vec<OpusDecoder>, String> {
        (0..head.streams)
            .map(|s| {
                let channels = if s < head.coupled { 2 } else { 1 };
                OpusDecoder::new(OPUS_RATE_HZ as i32, channels).map_err(|e| e.to_string())
            })
            .collect()
    }

    /// Output channels.
    pub fn channels(&self) -> usize {
        self.head.channels
    }

    /// Frames to drop at the start of the stream.
    pub fn pre_skip(&self) -> u64 {
        u64::from(self.head.pre_skip)
    }

    /// Decodes `packet` and appends its interleaved frames to `out`; returns the frames.
    ///
    /// # Errors
    /// A malformed packet (the decoder's words).
    pub fn decode(&mut self, packet: &[u8], out: &mut Vec<f32>) -> Result<usize, String> {
        let streams = self.decoders.len();
        let mut rest = packet;
        let mut frames = None;
        for (s, (decoder, buf)) in self.decoders.iter_mut().zip(&mut self.scratch).enumerate() {
            let got = if s + 1 < streams {
                let (standard, used) = undelimit(rest)?;
                rest = &rest[used..];
                decoder.decode(&standard, MAX_PACKET_FRAMES, buf)
            } else {
                decoder.decode(rest, MAX_PACKET_FRAMES, buf)
            }
            .map_err(|e| e.to_string())?;
            if frames.is_some_and(|f| f != got) {
                return Err("the streams of a multistream packet differ in length".into());
            }
            frames = Some(got);
        }
        let frames = frames.unwrap_or(0);
        out.reserve(frames * self.sources.len());
        for i in 0..frames {
            for source in &self.sources {
                out.push(match *source {
                    Some((s, c)) => {
                        let width = if s < self.head.coupled { 2 } else { 1 };
                        self.scratch[s][i * width + c] * self.gain
                    }
                    None => 0.0,
                });
            }
        }
        Ok(frames)
    }

    /// Forgets the past (after a seek): new decoders.
    pub fn reset(&mut self) {
        if let Ok(d) = Self::make(&self.head) {
            self.decoders = d;
        }
    }
}

fn unsupported(head: &OpusHead) -> String {
    format!(
        "unsupported Opus channel mapping (family {}, {} channels; read: families 0 and 1)",
        head.mapping_family, head.channels
    )
}

/// Why the Ogg Opus file whose first bytes are `head` cannot be read, if its first
/// page's identification header says so (a channel mapping family other than 0 and 1).
pub fn unsupported_in_ogg(head: &[u8]) -> Option<String> {
    if head.len() < 27 || &head[..4] != b"OggS" {
        return None;
    }
    let body = head.get(27 + usize::from(head[26])..)?;
    let parsed = OpusHead::parse(body).ok()?;
    (parsed.mapping_family > 1).then(|| unsupported(&parsed))
}

/// A self-delimited Opus packet at the start of `b` (RFC 6716 Appendix B: every stream
/// of a multistream packet but the last) in the standard framing, and the bytes it took.
fn undelimit(b: &[u8]) -> Result<(Vec<u8>, usize), String> {
    let short = || "multistream packet cut short".to_string();
    let byte = |i: usize| b.get(i).copied().ok_or_else(short);
    // A frame length: one byte below 252, else two (b0 + 4·b1).
    let length = |i: &mut usize| -> Result<usize, String> {
        let b0 = usize::from(byte(*i)?);
        *i += 1;
        if b0 < 252 {
            return Ok(b0);
        }
        let b1 = usize::from(byte(*i)?);
        *i += 1;
        Ok(b0 + 4 * b1)
    };
    let toc = byte(0)?;
    let mut i = 1;
    // The standard packet is b with one length field (at `cut`) left out.
    let (cut, data_len) = match toc & 3 {
        0 => {
            let at = i;
            let n = length(&mut i)?;
            (at..i, n)
        }
        1 => {
            let at = i;
            let n = length(&mut i)?;
            (at..i, 2 * n)
        }
        2 => {
            let n1 = length(&mut i)?;
            let at = i;
            let n2 = length(&mut i)?;
            (at..i, n1 + n2)
        }
        _ => {
            let m = byte(i)?;
            i += 1;
            let (count, vbr) = (usize::from(m & 0x3f), m & 0x80 != 0);
            if count == 0 {
                return Err("multistream packet of no frames".into());
            }
            let mut padding = 0;
            if m & 0x40 != 0 {
                loop {
                    let p = byte(i)?;
                    i += 1;
                    padding += if p == 255 { 254 } else { usize::from(p) };
                    if p != 255 {
                        break;
                    }
                }
            }
            let mut data = 0;
            if vbr {
                for _ in 0..count - 1 {
                    data += length(&mut i)?;
                }
            }
            let at = i;
            let last = length(&mut i)?;
            data += if vbr { last } else { count * last };
            (at..i, data + padding)
        }
    };
    let end = i
        .checked_add(data_len)
        .filter(|&e| e <= b.len())
        .ok_or_else(short)?;
    let mut standard = Vec::with_capacity(end - (cut.end - cut.start));
    standard.extend_from_slice(&b[..cut.start]);
    standard.extend_from_slice(&b[cut.end..end]);
    Ok((standard, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, family: u8, table: &[u8]) -> Vec<u8> {
        let mut b = b"OpusHead".to_vec();
        b.extend_from_slice(&[1, channels]);
        b.extend_from_slice(&312u16.to_le_bytes());
        b.extend_from_slice(&48_000u32.to_le_bytes());
        b.extend_from_slice(&(-256i16).to_le_bytes());
        b.push(family);
        b.extend_from_slice(table);
        b
    }

    #[test]
    fn the_header_fields_are_read() {
        let h = OpusHead::parse(&head(2, 0, &[])).expect("valid");
        assert_eq!((h.channels, h.pre_skip, h.output_gain_q8), (2, 312, -256));
        assert_eq!((h.streams, h.coupled, h.mapping), (1, 1, vec![0, 1]));
        let c = OpusCodec::new(&head(2, 0, &[])).expect("stereo");
        assert!((c.gain - 10f32.powf(-1.0 / 20.0)).abs() < 1e-6);
        // 5.1 in Vorbis order (L C R RL RR LFE) comes out as L R C LFE RL RR.
        let c = OpusCodec::new(&head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5])).expect("5.1");
        let by_stream = [Some((0, 0)), Some((0, 1)), Some((2, 0))];
        assert_eq!(&c.sources[..3], &by_stream);
        assert_eq!(&c.sources[3..], &[Some((3, 0)), Some((1, 0)), Some((1, 1))]);
    }

    #[test]
    fn bad_headers_and_ambisonics_are_refused_with_words() {
        let e = OpusCodec::new(&head(4, 2, &[2, 2, 0, 1, 2, 3]))
            .err()
            .expect("ambisonics");
        assert!(
            e.contains("unsupported Opus channel mapping (family 2"),
            "{e}"
        );
        let e = OpusCodec::new(&head(2, 255, &[2, 0, 0, 1]))
            .err()
            .expect("no meaning");
        assert!(e.contains("family 255, 2 channels"), "{e}");
        let e = OpusCodec::new(&head(2, 1, &[1, 0, 0, 1]))
            .err()
            .expect("bad map");
        assert!(e.contains("channel mapped to 1 of 1"), "{e}");
        assert!(OpusHead::parse(&head(6, 1, &[4])).is_err());
        assert!(OpusHead::parse(&head(3, 0, &[])).is_err());
        assert!(OpusHead::parse(&head(0, 0, &[])).is_err());
    }

    #[test]
    fn self_delimited_packets_lose_their_extra_length() {
        // Code 0: TOC, length 3, 3 bytes; then the next stream's bytes.
        let (p, used) = undelimit(&[0x00, 3, 7, 8, 9, 0xEE]).expect("code 0");
        assert_eq!((p, used), (vec![0x00, 7, 8, 9], 5));
        // Code 2: TOC, N1 = 1, N2 = 2 (the extra one), frames.
        let (p, used) = undelimit(&[0x02, 1, 2, 5, 6, 7]).expect("code 2");
        assert_eq!((p, used), (vec![0x02, 1, 5, 6, 7], 6));
        // Code 3 VBR of 2 frames with 1 byte of padding: lengths 1 and (extra) 2.
        let b = [0x03, 0xC2, 1, 1, 2, 5, 6, 7, 0, 0xEE];
        let (p, used) = undelimit(&b).expect("code 3");
        assert_eq!((p, used), (vec![0x03, 0xC2, 1, 1, 5, 6, 7, 0], 9));
        // A two-byte length (252 + 4·1 = 256) and a packet shorter than it says.
        assert!(undelimit(&[0x00, 252, 1, 0]).is_err());
        assert!(undelimit(&[0x03, 0x00, 1]).is_err());
        assert!(undelimit(&[]).is_err());
    }
}
