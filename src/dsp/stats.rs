//! Order statistics for the latency and timing readouts: one quantile rule for the HUD,
//! the headless status line and the exit report.

use std::cmp::Ordering;

/// The `q` quantile (0 ≤ q ≤ 1) of `values`: the element of ascending rank
/// `floor(q·n)`, clamped to `n − 1` (so q = 0.5 is the upper median of an even count);
/// `None` when `values` is empty. Reorders `values` (a selection, not a sort).
///
/// Thread: any. Allocates: no.
pub fn quantile<T: Copy>(
    values: &mut [T],
    q: f64,
    cmp: impl FnMut(&T, &T) -> Ordering,
) -> Option<T> {
    if values.is_empty() {
        return None;
    }
    let rank = ((values.len() as f64 * q.clamp(0.0, 1.0)) as usize).min(values.len() - 1);
    Some(*values.select_nth_unstable_by(rank, cmp).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_equal_the_rank_in_a_sorted_copy() {
        // A deterministic permutation of 0..n with duplicates.
        for n in [1usize, 2, 3, 10, 101, 1000] {
            let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % n / 2) as f64).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.25, 0.5, 0.95, 0.99, 1.0] {
                let rank = ((n as f64 * q) as usize).min(n - 1);
                let mut v = values.clone();
                assert_eq!(
                    quantile(&mut v, q, f64::total_cmp),
                    Some(sorted[rank]),
                    "n {n} q {q}"
                );
            }
        }
        assert_eq!(quantile(&mut [] as &mut [f32], 0.5, f32::total_cmp), None);
    }
}
