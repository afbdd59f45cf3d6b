//! Window oracles: coefficients against the closed forms of ../shared/DSP.md §1.1,
//! the §1.1 numeric oracles, the §1.2 figures of merit at N = 1024, and parsing.
//!
//! Every expected number is either typed in from DSP.md or computed here from a
//! formula written in this file (`support::dsp::ref_window`); nothing is taken from
//! the implementation's own output.

use std::f64::consts::PI;
use std::str::FromStr;

use crate::support::dsp::{ref_i0, ref_window, windows_under_test};
use hopscope::dsp::window::{bessel_i0, WindowKind, WindowSums, ALL_WINDOWS};
use realfft::RealFftPlanner;

/// Test 2: every window, lengths 7, 8, 1024, 1025, against the periodic closed forms.
#[test]
fn coefficients_match_closed_forms() {
    let mut kinds = windows_under_test();
    kinds.extend([
        WindowKind::Kaiser { beta: 0.0 },
        WindowKind::Kaiser { beta: 0.5 },
        WindowKind::Gaussian { sigma_frac: 0.1 },
        WindowKind::Gaussian { sigma_frac: 0.45 },
    ]);
    let mut worst_f64: f64 = 0.0;
    let mut worst_f32: f64 = 0.0;
    for kind in kinds {
        for len in [7usize, 8, 1024, 1025] {
            let expected: Vec<f64> = (0..len).map(|n| ref_window(kind, n, len)).collect();
            let via_vec = kind.coefficients_f64(len);
            let mut via_f32 = vec![f32::NAN; len];
            kind.fill_in_place(&mut via_f32);
            assert_eq!(via_vec.len(), len);
            for n in 0..len {
                let e = expected[n];
                let c = kind.coefficient(n, len);
                let err = (c - e).abs();
                worst_f64 = worst_f64.max(err);
                assert!(
                    err <= 1e-12,
                    "{kind} N={len} n={n}: coefficient {c} vs closed form {e}"
                );
                assert!(
                    (via_vec[n] - e).abs() <= 1e-12,
                    "{kind} N={len} n={n}: coefficients_f64 {} vs closed form {e}",
                    via_vec[n]
                );
                // f32 rounding: half an ulp of values ≤ 1 is ≤ 6e-8.
                let err32 = (via_f32[n] as f64 - e).abs();
                worst_f32 = worst_f32.max(err32);
                assert!(
                    err32 <= 1e-7,
                    "{kind} N={len} n={n}: fill_in_place {} vs closed form {e}",
                    via_f32[n]
                );
            }
            // Periodic (DFT-even) symmetry: w[n] = w[N − n] for 1 ≤ n < N.
            for n in 1..len {
                assert!(
                    (kind.coefficient(n, len) - kind.coefficient(len - n, len)).abs() <= 1e-12,
                    "{kind} N={len}: periodic window must satisfy w[n] = w[N-n] (n={n})"
                );
            }
        }
    }
    eprintln!("window coefficients: max |err| f64 {worst_f64:.3e}, f32 {worst_f32:.3e}");
}

/// Periodic N is symmetric N+1 without its last sample (DSP.md §1.1), checked with the
/// symmetric Hann written with `N_sym − 1` in the denominator.
#[test]
fn periodic_is_symmetric_plus_one_truncated() {
    for len in [7usize, 8, 1024, 1025] {
        let m = len + 1; // symmetric length
        for n in 0..len {
            let sym = 0.5 - 0.5 * (2.0 * PI * n as f64 / (m - 1) as f64).cos();
            let got = WindowKind::Hann.coefficient(n, len);
            assert!((got - sym).abs() <= 1e-12, "N={len} n={n}: {got} vs {sym}");
        }
    }
}

/// DSP.md §1.1 oracles: periodic Hann N=7 and the N=1024 sums.
#[test]
fn hann_numeric_oracles() {
    let expected7 = [0.0, 0.188, 0.611, 0.950, 0.950, 0.611, 0.188];
    let got7 = WindowKind::Hann.coefficients_f64(7);
    for (n, (&g, &e)) in got7.iter().zip(&expected7).enumerate() {
        assert!((g - e).abs() <= 1e-3, "Hann N=7 n={n}: {g} vs DSP.md {e}");
    }
    // Not TF's wrong odd-N "periodic" form [0, .25, .75, 1, .75, .25, 0].
    assert!((got7[1] - 0.25).abs() > 0.05);

    let sums = WindowSums::of(WindowKind::Hann, 1024);
    eprintln!(
        "Hann N=1024: S1 {:.15} S2 {:.15} ENBW {:.15}",
        sums.s1,
        sums.s2,
        sums.enbw_bins()
    );
    assert_eq!(sums.len, 1024);
    assert!((sums.s1 - 512.0).abs() <= 1e-9, "S1 {}", sums.s1);
    assert!((sums.s2 - 384.0).abs() <= 1e-9, "S2 {}", sums.s2);
    assert!(
        (sums.enbw_bins() - 1.5).abs() <= 1e-9,
        "ENBW {}",
        sums.enbw_bins()
    );
    assert!((sums.coherent_gain() - 0.5).abs() <= 1e-12);
}

/// `bessel_i0` against tabulated values (Abramowitz & Stegun table 9.8 / exact series).
#[test]
fn bessel_i0_values() {
    // I0(0) = 1, I0(1) = 1.2660658777520082, I0(5) = 27.239871823604442,
    // I0(8.6) = 779.0863..., checked against the fixed-length series.
    assert_eq!(bessel_i0(0.0), 1.0);
    assert!((bessel_i0(1.0) - 1.266_065_877_752_008_2).abs() <= 1e-15);
    assert!((bessel_i0(5.0) - 27.239_871_823_604_442).abs() <= 1e-11);
    for x in [0.5, 3.0, 6.0, 8.6, 14.0, 30.0, 100.0] {
        let r = ref_i0(x);
        assert!(
            ((bessel_i0(x) - r) / r).abs() <= 1e-14,
            "I0({x}) = {} vs series {r}",
            bessel_i0(x)
        );
    }
}

/// DSP.md §1.2, typed in (triangle omitted: hopscope has no Bartlett window). Columns:
/// CG, ENBW, −3 dB BW, −6 dB BW, 1st null, highest sidelobe dB, scalloping dB,
/// worst-case PL dB.
#[rustfmt::skip]
const MERITS: [(WindowKind, &str, [f64; 8]); 10] = [
    (WindowKind::Rect, "rectangular", [1.0000, 1.0000, 0.8845, 1.2067, 1.000, -13.26, 3.922, 3.922]),
    (WindowKind::Hann, "hann", [0.5000, 1.5000, 1.4382, 2.0000, 2.000, -31.47, 1.424, 3.185]),
    (WindowKind::Hamming, "hamming", [0.5400, 1.3628, 1.3008, 1.8152, 2.000, -42.67, 1.751, 3.096]),
    (WindowKind::Blackman, "blackman", [0.4200, 1.7268, 1.6409, 2.2988, 3.000, -58.11, 1.099, 3.471]),
    (WindowKind::BlackmanHarris, "blackmanharris4", [0.3588, 2.0044, 1.8962, 2.6664, 4.000, -92.01, 0.826, 3.845]),
    (WindowKind::Flattop, "flattop", [0.2156, 3.7702, 3.7210, 4.5829, 5.000, -93.01, 0.010, 5.773]),
    (WindowKind::Kaiser { beta: 6.0 }, "kaiser_b6", [0.5000, 1.4668, 1.3999, 1.9544, 2.156, -43.79, 1.509, 3.173]),
    (WindowKind::Kaiser { beta: 8.6 }, "kaiser_b8.6", [0.4208, 1.7214, 1.6342, 2.2914, 2.914, -63.25, 1.109, 3.468]),
    (WindowKind::Kaiser { beta: 14.0 }, "kaiser_b14", [0.3319, 2.1611, 2.0419, 2.8744, 4.567, -105.92, 0.713, 4.060]),
    (WindowKind::Gaussian { sigma_frac: 0.2 }, "gauss_a2.5", [0.4951, 1.4456, 1.3709, 1.9215, 3.203, -43.25, 1.580, 3.181]),
];

/// |W(f)| of the window at `f` bins, by the direct DTFT sum in f64.
fn dtft_abs(w: &[f64], f: f64) -> f64 {
    let big_n = w.len() as f64;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in w.iter().enumerate() {
        let a = 2.0 * PI * f * n as f64 / big_n;
        re += v * a.cos();
        im -= v * a.sin();
    }
    re.hypot(im)
}

/// Golden-section search for an extremum of `g` on `[a, b]` (maximum if `maximise`).
fn golden(mut a: f64, mut b: f64, maximise: bool, g: impl Fn(f64) -> f64) -> (f64, f64) {
    let sign = if maximise { -1.0 } else { 1.0 };
    let h = |x: f64| sign * g(x);
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut hc, mut hd) = (h(c), h(d));
    for _ in 0..80 {
        if hc < hd {
            b = d;
            d = c;
            hd = hc;
            c = b - r * (b - a);
            hc = h(c);
        } else {
            a = c;
            c = d;
            hc = hd;
            d = a + r * (b - a);
            hd = h(d);
        }
        if b - a < 1e-10 {
            break;
        }
    }
    let x = (a + b) / 2.0;
    (x, g(x))
}

/// Bisection for the `f` in `[lo, hi]` where `|W(f)|/|W(0)|` crosses `level` (decreasing).
fn crossing(w: &[f64], w0: f64, level: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if dtft_abs(w, mid) / w0 > level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Test 3: DSP.md §1.2 figures of merit at N = 1024 for every window in the table.
///
/// ENBW/CG come from the sums; the DTFT comes from a 64× zero-padded f64 FFT of the
/// window (grid step 1/64 bin), refined with the direct DTFT sum: the main lobe ends at
/// the first local minimum of |W| after DC, the highest sidelobe is the largest |W|
/// beyond it (over 0..N/2 bins) relative to |W(0)|.
#[test]
fn figures_of_merit_match_dsp_md_table() {
    const N: usize = 1024;
    const PAD: usize = 64;
    let p = N * PAD;
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(p);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();

    for (kind, name, table) in MERITS {
        let [t_cg, t_enbw, t_bw3, t_bw6, t_null, t_sidelobe, t_scallop, t_pl] = table;
        let w = kind.coefficients_f64(N);

        // ENBW and CG: from the library's sums, and again from the raw coefficients.
        let sums = WindowSums::of(kind, N);
        let s1: f64 = w.iter().sum();
        let s2: f64 = w.iter().map(|v| v * v).sum();
        let enbw_direct = N as f64 * s2 / (s1 * s1);
        assert!((sums.s1 - s1).abs() <= 1e-9 * s1 && (sums.s2 - s2).abs() <= 1e-9 * s2);
        let enbw = sums.enbw_bins();
        let cg = sums.coherent_gain();

        // DTFT on a 1/PAD-bin grid.
        input.fill(0.0);
        input[..N].copy_from_slice(&w);
        fft.process(&mut input, &mut spectrum)
            .expect("buffers from this plan");
        let mag: Vec<f64> = spectrum.iter().map(|c| c.norm()).collect();
        let w0 = mag[0];
        assert!((w0 - s1).abs() <= 1e-9 * s1, "W(0) must equal S1");
        let null_i = (1..mag.len() - 1)
            .find(|&i| mag[i] < mag[i - 1] && mag[i] <= mag[i + 1])
            .expect("every window has a first minimum");
        let (first_null, _) = golden(
            (null_i - 1) as f64 / PAD as f64,
            (null_i + 1) as f64 / PAD as f64,
            false,
            |f| dtft_abs(&w, f),
        );
        let peak_i = (null_i..mag.len())
            .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
            .expect("non-empty");
        let (_, side_peak) = golden(
            (peak_i.saturating_sub(1)) as f64 / PAD as f64,
            ((peak_i + 1).min(mag.len() - 1)) as f64 / PAD as f64,
            true,
            |f| dtft_abs(&w, f),
        );
        let side_peak = side_peak.max(mag[peak_i]);
        let sidelobe_db = 20.0 * (side_peak / w0).log10();

        // Widths: full width at −3.0 dB and at half amplitude (−6.02 dB), by bisection
        // inside the main lobe.
        let bw3 = 2.0 * crossing(&w, w0, 10f64.powf(-3.0 / 20.0), 0.0, first_null);
        let bw6 = 2.0 * crossing(&w, w0, 0.5, 0.0, first_null);
        let scalloping_db = -20.0 * (dtft_abs(&w, 0.5) / w0).log10();
        let worst_pl_db = scalloping_db + 10.0 * enbw.log10();

        eprintln!(
            "{:>16}: CG {cg:.5} ENBW {enbw:.5} (direct {enbw_direct:.5}) -3dB {bw3:.4} -6dB {bw6:.4} \
             null {first_null:.4} sidelobe {sidelobe_db:.3} dB (peak at {:.3} bins) \
             scallop {scalloping_db:.4} PL {worst_pl_db:.4}",
            name,
            peak_i as f64 / PAD as f64
        );
        let check = |what: &str, got: f64, want: f64, tol: f64| {
            assert!(
                (got - want).abs() <= tol,
                "{name}: {what} {got:.5} vs DSP.md {want} (tol {tol})"
            );
        };
        check("ENBW", enbw, t_enbw, 1e-3);
        check("ENBW (direct)", enbw_direct, t_enbw, 1e-3);
        check("CG", cg, t_cg, 1e-3);
        check("highest sidelobe dB", sidelobe_db, t_sidelobe, 0.05);
        check("-3 dB width", bw3, t_bw3, 1e-3);
        check("-6 dB width", bw6, t_bw6, 1e-3);
        check("first null", first_null, t_null, 1e-3);
        check("scalloping dB", scalloping_db, t_scallop, 1e-3);
        check("worst-case PL dB", worst_pl_db, t_pl, 2e-3);
    }
}

/// Test 8: `FromStr` accepts the documented names and rejects the rest.
#[test]
fn parse_window_names() {
    let ok: &[(&str, WindowKind)] = &[
        ("rect", WindowKind::Rect),
        ("rectangular", WindowKind::Rect),
        ("boxcar", WindowKind::Rect),
        ("hann", WindowKind::Hann),
        ("hanning", WindowKind::Hann),
        ("HANN", WindowKind::Hann),
        ("  Hann ", WindowKind::Hann),
        ("hamming", WindowKind::Hamming),
        ("blackman", WindowKind::Blackman),
        ("blackmanharris", WindowKind::BlackmanHarris),
        ("flattop", WindowKind::Flattop),
        ("kaiser", WindowKind::Kaiser { beta: 8.6 }),
        ("kaiser=6", WindowKind::Kaiser { beta: 6.0 }),
        ("kaiser=8.6", WindowKind::Kaiser { beta: 8.6 }),
        ("Kaiser = 14", WindowKind::Kaiser { beta: 14.0 }),
        ("kaiser=0", WindowKind::Kaiser { beta: 0.0 }),
        ("gaussian", WindowKind::Gaussian { sigma_frac: 0.2 }),
        ("gaussian=0.2", WindowKind::Gaussian { sigma_frac: 0.2 }),
        ("gaussian=0.05", WindowKind::Gaussian { sigma_frac: 0.05 }),
    ];
    for (s, want) in ok {
        assert_eq!(WindowKind::from_str(s).as_ref(), Ok(want), "parsing {s:?}");
    }
    let bad = [
        "",
        "hann2",
        "triangle",
        "bartlett",
        "kaiser=",
        "kaiser=abc",
        "kaiser=-1",
        "kaiser=nan",
        "kaiser=inf",
        "kaiser=1000", // I0(1000) overflows f64: the window would be NaN
        "gaussian=0",
        "gaussian=-0.2",
        "gaussian=nan",
        "gaussian=inf",
        "hann=3",
        "rect=1",
        "flattop=0.5",
        "kaiser=6=7",
    ];
    for s in bad {
        let r = WindowKind::from_str(s);
        assert!(r.is_err(), "{s:?} must be rejected, got {r:?}");
        assert!(
            !r.unwrap_err().is_empty(),
            "{s:?}: error message must not be empty"
        );
    }
    // Display round-trips through FromStr, and every accepted parameter gives finite coefficients.
    for kind in ALL_WINDOWS.iter().copied().chain(windows_under_test()) {
        let text = kind.to_string();
        assert_eq!(
            WindowKind::from_str(&text),
            Ok(kind),
            "round trip of {text}"
        );
    }
    for s in ["kaiser=0", "kaiser=100", "gaussian=0.001", "gaussian=10"] {
        if let Ok(kind) = WindowKind::from_str(s) {
            let w = kind.coefficients_f64(1025);
            assert!(
                w.iter().all(|v| v.is_finite()),
                "{s}: non-finite coefficient"
            );
        }
    }
}
