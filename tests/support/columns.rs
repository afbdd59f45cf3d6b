//! The naive time-column oracle: what the window's column `c` must show, computed from
//! its definition (README "Time axis") by brute force, independently of
//! `render::timeaxis`.
//!
//! Column `c` of a screen of `width_px` columns spanning `span_ms` holds the stream times
//! `[c·T, (c+1)·T)`, `T = span/width`; a row's time is its end `e / sr`. A column holds the
//! per-pixel maximum of the rows whose time falls in it; a column no row falls in shows
//! the first row after it (the row whose hop spans it); columns before the first row's
//! have nothing.

use std::collections::BTreeMap;

/// Whether a row ending at `end` falls in column `col` or later: `e/sr ≥ c·T`, compared
/// as products (no division): `e·width·1000 ≥ c·span_ms·sr`.
fn at_or_after(end: u64, col: u64, span_ms: u32, width_px: u32, sr: u32) -> bool {
    u128::from(end) * u128::from(width_px) * 1000
        >= u128::from(col) * u128::from(span_ms) * u128::from(sr)
}

/// Columns (index → values) of `rows` (`(end, values)`, ends increasing).
pub fn naive_columns(
    rows: &[(u64, Vec<f32>)],
    span_ms: u32,
    width_px: u32,
    sr: u32,
) -> BTreeMap<u64, Vec<f32>> {
    let mut out = BTreeMap::new();
    let Some(first) = rows.first() else {
        return out;
    };
    let last = rows.last().expect("not empty");
    // The columns of the first and last rows, found by walking up from 0 in big steps.
    let column_of = |end: u64| {
        let (mut lo, mut hi) = (0u64, 1u64);
        while at_or_after(end, hi, span_ms, width_px, sr) {
            hi *= 2;
        }
        // Largest c with at_or_after(end, c): binary search on [lo, hi).
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if at_or_after(end, mid, span_ms, width_px, sr) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let (c0, c1) = (column_of(first.0), column_of(last.0));
    let mut r = 0; // first row not before column c
    for c in c0..=c1 {
        while r < rows.len() && !at_or_after(rows[r].0, c, span_ms, width_px, sr) {
            r += 1;
        }
        let mut k = r;
        let mut max: Option<Vec<f32>> = None;
        while k < rows.len() && !at_or_after(rows[k].0, c + 1, span_ms, width_px, sr) {
            let v = &rows[k].1;
            max = Some(match max {
                None => v.clone(),
                Some(m) => m.iter().zip(v).map(|(a, b)| a.max(*b)).collect(),
            });
            k += 1;
        }
        // No row in the column: the next one spans it.
        let values = max.unwrap_or_else(|| rows[r].1.clone());
        out.insert(c, values);
    }
    out
}
