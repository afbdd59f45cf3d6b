//! Musical note names for the cursor readout (A4 = 440 Hz, equal temperament).

const NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// The nearest note and the deviation in cents, e.g. `"A4 +0c"`, `"C#5 -12c"`;
/// `None` below 1 Hz or for non-finite input.
pub fn note_name(hz: f64) -> Option<String> {
    Note::of(hz).map(|n| n.to_string())
}

/// The nearest equal-tempered note of a frequency and the deviation from it; its
/// `Display` is [`note_name`]'s text, written without allocating.
///
/// Thread: any (plain `Copy` data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Note {
    /// MIDI note number (A4 = 69).
    pub midi: i64,
    /// Deviation from it, cents (−50…+50).
    pub cents: i64,
}

impl Note {
    /// The note nearest `hz`; `None` below 1 Hz or for non-finite input.
    pub fn of(hz: f64) -> Option<Note> {
        if !hz.is_finite() || hz < 1.0 {
            return None;
        }
        let midi = 69.0 + 12.0 * (hz / 440.0).log2();
        let nearest = midi.round();
        Some(Note {
            midi: nearest as i64,
            cents: ((midi - nearest) * 100.0).round() as i64,
        })
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = NAMES[self.midi.rem_euclid(12) as usize];
        let octave = self.midi.div_euclid(12) - 1;
        write!(f, "{name}{octave} {:+}c", self.cents)
    }
}
