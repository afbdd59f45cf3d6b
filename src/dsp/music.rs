//! Musical note names for the cursor readout (A4 = 440 Hz, equal temperament).

const NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// The nearest note and the deviation in cents, e.g. `"A4 +0c"`, `"C#5 -12c"`;
/// `None` below 1 Hz or for non-finite input.
pub fn note_name(hz: f64) -> Option<String> {
    if !hz.is_finite() || hz < 1.0 {
        return None;
    }
    let midi = 69.0 + 12.0 * (hz / 440.0).log2();
    let nearest = midi.round();
    let cents = ((midi - nearest) * 100.0).round() as i64;
    let n = nearest as i64;
    let name = NAMES[n.rem_euclid(12) as usize];
    let octave = n.div_euclid(12) - 1;
    Some(format!("{name}{octave} {cents:+}c"))
}
