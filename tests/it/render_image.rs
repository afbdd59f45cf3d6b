//! Images: the circular waterfall (`render::waterfall`) and PNG output
//! (`render::png_out`), in-process (`hopscope render` end to end: `tests/e2e/render_cli.rs`).
//!
//! Oracles: the waterfall is compared with a naive reconstruction that keeps every
//! pushed column in a `Vec` and lays out the view by hand; timestamps come from Python's
//! `datetime.fromtimestamp(t, timezone.utc)`; PNGs are decoded with the `png` crate.

use std::path::Path;

use crate::support::image::decode_png;
use crate::support::rng::Rng;
use crate::support::TempDir;
use hopscope::io::atomic::utc_stamp;
use hopscope::io::png::{encode, save_screenshot};
use hopscope::render::chrome::Rect;
use hopscope::render::colormap::{rgb, Colormap, ColormapKind, DbRange};
use hopscope::render::waterfall::{View, Waterfall};
use hopscope::ui::present::{assemble, waterfall_blits, Blit};

// ---------------------------------------------------------------- waterfall

const BG: u32 = 0x00ab_cdef;
const SENTINEL: u32 = 0x0012_3456;

/// Grayscale over 0..255 dB: a value v shows as rgb(v, v, v), so every pixel says which
/// column and row it came from.
fn gray() -> (Colormap, DbRange) {
    (
        Colormap::new(ColormapKind::Grayscale),
        DbRange {
            floor_db: 0.0,
            ceiling_db: 255.0,
        },
    )
}

/// Column `serial`, bottom pixel first: distinct small integers.
fn column(serial: u64, height: usize) -> Vec<f32> {
    (0..height)
        .map(|i| ((serial * 17 + i as u64 * 5 + 3) % 251) as f32)
        .collect()
}

/// Naive reference: everything ever pushed, and the frame the view should show.
struct Reference {
    columns: Vec<Vec<f32>>,
    capacity: usize,
    height: usize,
}

impl Reference {
    /// `width` columns ending just before `view_end`, newest at the right; a column not
    /// held (never pushed, evicted, or before serial 0) shows `background`.
    #[allow(clippy::too_many_arguments)]
    fn frame(
        &self,
        stride: usize,
        rows: usize,
        x0: usize,
        y0: usize,
        width: usize,
        view_end: u64,
        lut: &[u32; 256],
        range: DbRange,
    ) -> Vec<u32> {
        let pushed = self.columns.len() as i64;
        let oldest = (pushed - self.capacity as i64).max(0);
        let end = view_end as i64;
        let height = self.height;
        let mut dst = vec![SENTINEL; stride * rows];
        for x in 0..width {
            let serial = end - width as i64 + x as i64;
            for r in 0..height {
                dst[(y0 + r) * stride + x0 + x] = if serial >= oldest && serial < pushed {
                    let v = self.columns[serial as usize][height - 1 - r];
                    lut[range.index(v)]
                } else {
                    BG
                };
            }
        }
        dst
    }
}

fn compose(
    w: &Waterfall,
    stride: usize,
    rows: usize,
    x0: usize,
    y0: usize,
    width: usize,
    view_end: u64,
) -> Vec<u32> {
    let mut dst = vec![SENTINEL; stride * rows];
    let view = View {
        x0,
        y0,
        width,
        view_end,
        background: BG,
    };
    w.compose_into(&mut dst, stride, &view);
    dst
}

#[test]
fn compose_places_newest_right_pads_wraps_and_shows_paused_views() {
    let (cmap, range) = gray();
    let (stride, rows, x0, y0) = (12usize, 6usize, 2usize, 1usize);
    let mut checked = 0;
    // Live (view_end = newest + 1), paused back to the oldest held column, and beyond
    // the newest (background at the right: a pane whose columns come later than another
    // pane's), after every push.
    each_state(|w, reference, width, view_end, what| {
        assert_eq!(w.next_serial(), reference.columns.len() as u64, "{what}");
        let got = compose(w, stride, rows, x0, y0, width, view_end);
        let want = reference.frame(stride, rows, x0, y0, width, view_end, cmap.lut(), range);
        assert_eq!(got, want, "{what}");
        checked += 1;
    });
    assert!(checked > 200);
    // Spot check in plain words: after 13 pushes into 5 slots, a live 7-wide view shows
    // 2 background columns then serials 8..=12, newest (12) at the right edge.
    let mut w = Waterfall::new(5, 3, 0);
    for s in 0..13 {
        w.push_column(&column(s, 3), s as f64 * 0.01, &cmap, range);
    }
    let got = compose(&w, 7, 3, 0, 0, 7, 13);
    let top = |serial: u64| {
        let v = column(serial, 3)[2] as u8;
        rgb(v, v, v)
    };
    assert_eq!(
        &got[..7],
        &[BG, BG, top(8), top(9), top(10), top(11), top(12)]
    );
}

/// Every (capacity, pushes, width, view_end) the history can be in, with its reference.
fn each_state(mut check: impl FnMut(&Waterfall, &Reference, usize, u64, &str)) {
    let (cmap, range) = gray();
    let (capacity, height) = (5usize, 3usize);
    let mut w = Waterfall::new(capacity, height, 0);
    let mut reference = Reference {
        columns: vec![],
        capacity,
        height,
    };
    for pushed in 0..=13u64 {
        if pushed > 0 {
            let col = column(pushed - 1, height);
            w.push_column(&col, pushed as f64 * 0.01, &cmap, range);
            reference.columns.push(col);
        }
        let oldest = pushed.saturating_sub(capacity as u64);
        for width in [1usize, 3, 5, 7, 10] {
            for view_end in oldest..=pushed + 2 {
                let what = format!("pushed {pushed} width {width} view_end {view_end}");
                check(&w, &reference, width, view_end, &what);
            }
        }
    }
}

#[test]
fn compose_region_draws_exactly_its_rectangle_of_the_full_view() {
    let (cmap, range) = gray();
    let (stride, rows, x0, y0) = (12usize, 6usize, 2usize, 1usize);
    let mut rng = Rng::new(7);
    let mut cases = 0;
    each_state(|w, reference, width, view_end, what| {
        let full = reference.frame(stride, rows, x0, y0, width, view_end, cmap.lut(), range);
        let view = View {
            x0,
            y0,
            width,
            view_end,
            background: BG,
        };
        for _ in 0..6 {
            // Ranges may be empty, reversed-free and overhanging the view (clipped).
            let c0 = rng.below(width + 2);
            let c1 = c0 + rng.below(width + 2);
            let r0 = rng.below(4);
            let r1 = r0 + rng.below(4);
            let mut got = vec![SENTINEL; stride * rows];
            w.compose_region(&mut got, stride, &view, c0..c1, r0..r1);
            for y in 0..rows {
                for x in 0..stride {
                    let inside = x >= x0 + c0
                        && x < x0 + c1.min(width)
                        && y >= y0 + r0
                        && y < y0 + r1.min(w.height());
                    let want = if inside {
                        full[y * stride + x]
                    } else {
                        SENTINEL
                    };
                    assert_eq!(
                        got[y * stride + x],
                        want,
                        "{what} cols {c0}..{c1} rows {r0}..{r1} at ({x}, {y})"
                    );
                }
            }
            cases += 1;
        }
    });
    assert!(cases > 1000, "{cases} cases");
}

#[test]
fn server_side_blits_rebuild_the_composed_view() {
    // What the X server is asked to copy (pad fill + one or two runs of the image),
    // executed in software, equals the naive view, and never touches anything else.
    let (cmap, range) = gray();
    let (stride, rows, x0, y0) = (12usize, 6usize, 2usize, 1usize);
    let mut runs_seen = [0usize; 3];
    each_state(|w, reference, width, view_end, what| {
        let want = reference.frame(stride, rows, x0, y0, width, view_end, cmap.lut(), range);
        let mut blits = Vec::new();
        // Image 1 of two (the compare panes' indexing): image 0 must not be read.
        let view = View {
            x0,
            y0,
            width,
            view_end,
            background: BG,
        };
        waterfall_blits(w, 1, &view, &mut blits);
        let runs = blits
            .iter()
            .filter(|b| matches!(b, Blit::Waterfall { .. }))
            .count();
        runs_seen[runs] += 1;
        let frame = vec![SENTINEL; stride * rows];
        let mut got = vec![SENTINEL; stride * rows];
        let decoy = vec![SENTINEL ^ 0x00ff_ffff; w.pixels().len()];
        let images = [(&decoy[..], w.capacity()), (w.pixels(), w.capacity())];
        assemble(&blits, &frame, stride, &images, &mut got);
        assert_eq!(got, want, "{what}: {blits:?}");
    });
    // Both the wrapped (two runs) and the padded/unwrapped cases were exercised.
    assert!(runs_seen.iter().all(|&n| n > 10), "{runs_seen:?}");
}

#[test]
fn frame_blits_copy_their_rectangle_and_fills_paint_theirs() {
    let (fw, fh) = (9usize, 7usize);
    let frame: Vec<u32> = (0..fw * fh).map(|i| i as u32 + 1).collect();
    let mut out = vec![0u32; fw * fh];
    let r = Rect {
        x: 2,
        y: 1,
        w: 3,
        h: 4,
    };
    let f = Rect {
        x: 0,
        y: 5,
        w: 9,
        h: 2,
    };
    assemble(
        &[Blit::Frame(r), Blit::Fill(f, 0xabc)],
        &frame,
        fw,
        &[],
        &mut out,
    );
    for y in 0..fh {
        for x in 0..fw {
            let want = if f.contains(x, y) {
                0xabc
            } else if r.contains(x, y) {
                (y * fw + x) as u32 + 1
            } else {
                0
            };
            assert_eq!(out[y * fw + x], want, "({x}, {y})");
        }
    }
}

#[test]
fn a_paused_view_stays_put_until_its_columns_are_evicted_then_slides_with_them() {
    // Oracle: the paused view keeps its end unless its oldest column (end − width) is
    // older than the oldest held one; then it ends exactly width columns after that.
    let (cmap, range) = gray();
    let (capacity, height) = (20usize, 2usize);
    for width in [1usize, 5, 12, 20] {
        for paused_at in [0u64, 3, 12, 19, 20, 33] {
            let mut w = Waterfall::new(capacity, height, 0);
            for s in 0..paused_at {
                w.push_column(&column(s, height), s as f64, &cmap, range);
            }
            let mut view_end = paused_at;
            for s in paused_at..paused_at + 60 {
                w.push_column(&column(s, height), s as f64, &cmap, range);
                view_end = w.paused_view_end(view_end, width);
                let pushed = s + 1;
                let oldest_held = pushed.saturating_sub(capacity as u64);
                let want = if paused_at.saturating_sub(width as u64) >= oldest_held
                    || pushed <= capacity as u64
                {
                    paused_at
                } else {
                    oldest_held + width as u64
                };
                assert_eq!(
                    view_end, want,
                    "width {width}, paused at {paused_at}, {pushed} pushed"
                );
            }
        }
    }
}

/// Paused long enough that the view's last column has been evicted: nothing of the view
/// is held any more, so the whole plot must be background (and must not panic).
#[test]
fn compose_of_a_view_that_has_scrolled_out_of_the_history_is_background() {
    let (cmap, range) = gray();
    let mut w = Waterfall::new(4, 2, 0);
    for s in 0..10 {
        w.push_column(&column(s, 2), s as f64, &cmap, range);
    }
    // Held: serials 6..=9. A view paused at view_end 5 shows serials 2..=4: none held.
    let got = compose(&w, 3, 2, 0, 0, 3, 5);
    assert_eq!(got, vec![BG; 6]);
}

#[test]
fn recolor_repaints_the_whole_history_with_the_new_map_and_range() {
    let (cmap, range) = gray();
    let (capacity, height) = (6usize, 4usize);
    let mut w = Waterfall::new(capacity, height, 0);
    let mut reference = Reference {
        columns: vec![],
        capacity,
        height,
    };
    for s in 0..9 {
        let col = column(s, height);
        w.push_column(&col, s as f64, &cmap, range);
        reference.columns.push(col);
    }
    for (kind, range) in [
        (
            ColormapKind::Magma,
            DbRange {
                floor_db: 20.0,
                ceiling_db: 200.0,
            },
        ),
        (
            ColormapKind::Viridis,
            DbRange {
                floor_db: -50.0,
                ceiling_db: 100.0,
            },
        ),
    ] {
        let cmap = Colormap::new(kind);
        let recolors = w.recolors();
        w.recolor(&cmap, range);
        // The count a server-side mirror uses to know it must copy everything again.
        assert_eq!(w.recolors(), recolors + 1);
        for width in [4usize, 6, 8] {
            let got = compose(&w, width, height, 0, 0, width, 9);
            let want = reference.frame(width, height, 0, 0, width, 9, cmap.lut(), range);
            assert_eq!(got, want, "{kind} {range:?} width {width}");
        }
        // New columns after the recolor use whatever map they are pushed with.
        let col = column(reference.columns.len() as u64, height);
        w.push_column(&col, 0.0, &cmap, range);
        reference.columns.push(col);
        let n = reference.columns.len() as u64;
        let got = compose(&w, 6, height, 0, 0, 6, n);
        assert_eq!(
            got,
            reference.frame(6, height, 0, 0, 6, n, cmap.lut(), range)
        );
    }
}

#[test]
fn values_and_times_are_readable_while_held_and_gone_after_eviction() {
    let (cmap, range) = gray();
    let (capacity, height) = (4usize, 3usize);
    let mut w = Waterfall::new(capacity, height, 0);
    assert_eq!(w.value(0, 0), None);
    assert_eq!(w.time_s(0), None);
    for pushed in 1..=11u64 {
        let s = pushed - 1;
        w.push_column(&column(s, height), 0.5 + s as f64 * 0.25, &cmap, range);
        for serial in 0..pushed + 2 {
            let held = serial < pushed && serial + capacity as u64 >= pushed;
            for row in 0..height + 1 {
                let want = (held && row < height).then(|| column(serial, height)[height - 1 - row]);
                assert_eq!(
                    w.value(serial, row),
                    want,
                    "pushed {pushed} serial {serial} row {row}"
                );
            }
            let want_t = held.then_some(0.5 + serial as f64 * 0.25);
            assert_eq!(w.time_s(serial), want_t, "pushed {pushed} serial {serial}");
        }
    }
    assert_eq!((w.capacity(), w.height()), (capacity, height));
}

/// A level the image holds exactly: it keeps dB values to 0.01 dB.
fn centi_db(rng: &mut Rng) -> f32 {
    f32::from(-(rng.below(12_000) as i16)) / 100.0
}

/// `put_run` (the live window's columns by absolute number) against a map of what each
/// column must hold: runs that skip columns leave them empty, runs over columns already
/// drawn keep the larger value per pixel (NaN, a gap, loses to a value), and only the
/// newest `capacity` columns are held. (Levels are multiples of 0.01 dB: what the image
/// keeps; `values_are_kept_to_a_hundredth_of_a_db` checks the rounding.)
#[test]
fn runs_fill_their_columns_skip_merge_and_evict_like_a_map() {
    let (cmap, range) = gray();
    let (capacity, height) = (16usize, 3usize);
    let mut w = Waterfall::new(capacity, height, 0);
    let mut model: std::collections::BTreeMap<u64, Vec<f32>> = Default::default();
    let mut rng = Rng::new(17);
    let mut newest: Option<u64> = None;
    for _ in 0..400 {
        // Mostly forward; now and then back over the newest columns (a merge), or a jump.
        let next = newest.map_or(0, |n| n + 1);
        let first = match rng.below(6) {
            0 => next.saturating_sub(rng.below(4) as u64),
            1 => next + rng.below(40) as u64,
            _ => next,
        };
        let last = first + rng.below(5) as u64;
        let values: Option<Vec<f32>> =
            (rng.below(8) != 0).then(|| (0..height).map(|_| centi_db(&mut rng)).collect());
        w.put_run((first, last), values.as_deref(), |s| s as f64, &cmap, range);
        let held_before = newest.map_or(0, |n| (n + 1).saturating_sub(capacity as u64));
        for c in first..=last {
            let v = values.clone().unwrap_or(vec![f32::NAN; height]);
            let merged = match model.get(&c) {
                Some(old) if newest.is_some_and(|n| c <= n) && c >= held_before => {
                    old.iter().zip(&v).map(|(a, b)| a.max(*b)).collect()
                }
                _ => v,
            };
            model.insert(c, merged);
        }
        newest = Some(newest.map_or(last, |n| n.max(last)));
        let n = newest.expect("set");
        assert_eq!(w.next_serial(), n + 1);
        let oldest = (n + 1).saturating_sub(capacity as u64);
        let mut got = vec![0.0f32; height];
        for c in oldest..=n {
            assert!(w.column(c, &mut got), "column {c} held");
            let want = model
                .get(&c)
                .cloned()
                .unwrap_or(vec![f32::NEG_INFINITY; height]);
            let same = got
                .iter()
                .zip(&want)
                .all(|(g, w)| g == w || (g.is_nan() && w.is_nan()));
            assert!(same, "column {c}: {got:?} vs {want:?}");
        }
        assert!(!w.column(oldest.wrapping_sub(1), &mut got) || oldest == 0);
        // Skipped columns are empty in the model too: forget what left the image.
        model.retain(|&c, _| c >= oldest);
        for c in oldest..=n {
            model.entry(c).or_insert(vec![f32::NEG_INFINITY; height]);
        }
    }
}

#[test]
fn values_are_kept_to_a_hundredth_of_a_db() {
    let (cmap, range) = gray();
    let mut w = Waterfall::new(4, 6, 0);
    let col = [
        -54.346_363f32,
        -0.004,
        59.999,
        -200.0,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    w.push_column(&col, 0.0, &cmap, range);
    let mut got = [0.0f32; 6];
    assert!(w.column(0, &mut got));
    for (g, v) in got.iter().zip(&col) {
        if v.is_finite() {
            assert!((g - v).abs() <= 0.005 + 1e-5, "{g} for {v}");
        }
    }
    assert_eq!(got[4], f32::NEG_INFINITY, "empty stays empty");
    assert!(got[5].is_nan(), "a gap stays a gap");
    // A level beyond the i16 range saturates, never wraps.
    w.push_column(&[400.0, -400.0, 0.0, 0.0, 0.0, 0.0], 0.0, &cmap, range);
    assert!(w.column(1, &mut got));
    assert!(
        (got[0] - 327.67).abs() < 1e-3 && got[1] == f32::NEG_INFINITY,
        "{got:?}"
    );
}

#[test]
fn markers_live_exactly_as_long_as_their_column() {
    let (cmap, range) = gray();
    let capacity = 5u64;
    let mut w = Waterfall::new(capacity as usize, 2, 0);
    let mut made: Vec<(u64, String)> = vec![];
    for s in 0..20u64 {
        if s % 3 == 0 {
            let label = format!("change at {s}");
            w.add_marker(label.clone());
            made.push((s, label));
        }
        w.push_column(&column(s, 2), s as f64, &cmap, range);
        let pushed = s + 1;
        let oldest = pushed.saturating_sub(capacity);
        let want: Vec<(u64, String)> = made.iter().filter(|(c, _)| *c >= oldest).cloned().collect();
        let got: Vec<(u64, String)> = w
            .markers()
            .iter()
            .map(|m| (m.column, m.label.clone()))
            .collect();
        assert_eq!(got, want, "after pushing serial {s}");
    }
    // Lanes cycle 0, 1, 2, 3 over the markers made.
    let lanes: Vec<u8> = w.markers().iter().map(|m| m.lane).collect();
    let first_index = made.len() - lanes.len();
    for (i, lane) in lanes.iter().enumerate() {
        assert_eq!(*lane as usize, (first_index + i) % 4);
    }
    // A marker for the next (not yet pushed) column is kept.
    w.add_marker("pending".into());
    assert_eq!(w.markers().last().unwrap().column, w.next_serial());
}

// ---------------------------------------------------------------- PNG output

#[test]
fn utc_stamps_of_known_epochs() {
    // python3: datetime.fromtimestamp(t, timezone.utc).strftime('%Y%m%d-%H%M%S')
    for (t, want) in [
        (0u64, "19700101-000000"),
        (951_782_400, "20000229-000000"),
        (951_868_799, "20000229-235959"),
        (1_000_000_000, "20010909-014640"),
        (1_795_478_400, "20261124-000000"),
        (4_102_444_799, "20991231-235959"),
        (4_102_444_800, "21000101-000000"),
        (4_107_542_399, "21000228-235959"),
        (4_107_542_400, "21000301-000000"),
        (253_402_300_799, "99991231-235959"),
    ] {
        assert_eq!(utc_stamp(t), want, "{t}");
    }
}

fn random_pixels(rng: &mut Rng, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| (rng.next_u64() as u32) & 0x00ff_ffff)
        .collect()
}

#[test]
fn encode_round_trips_through_the_png_crate() {
    let dir = TempDir::new("png-rt");
    let mut rng = Rng::new(3);
    for (w, h) in [(1usize, 1usize), (7, 5), (300, 2)] {
        let pixels = random_pixels(&mut rng, w * h);
        let path = dir.join(&format!("{w}x{h}.png"));
        encode(
            std::io::BufWriter::new(std::fs::File::create(&path).unwrap()),
            &pixels,
            w,
            h,
        )
        .unwrap();
        let img = decode_png(&path);
        assert_eq!((img.width, img.height), (w, h));
        assert_eq!(img.pixels, pixels, "{w}x{h}");
    }
}

#[test]
fn screenshots_in_the_same_second_never_overwrite() {
    let dir = TempDir::new("shots");
    let mut rng = Rng::new(4);
    let (w, h) = (9usize, 4usize);
    // Occupy the names of this second and the next so the calls below must add -1/-2.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let placeholders: Vec<String> = [now, now + 1]
        .iter()
        .map(|&t| format!("hopscope-{}.png", utc_stamp(t)))
        .collect();
    for name in &placeholders {
        std::fs::write(dir.join(name), b"not a png").unwrap();
    }
    let a = random_pixels(&mut rng, w * h);
    let b = random_pixels(&mut rng, w * h);
    let pa = save_screenshot(dir.path(), &a, w, h).unwrap();
    let pb = save_screenshot(dir.path(), &b, w, h).unwrap();
    assert_ne!(pa, pb);
    assert!(pa.is_absolute() && pb.is_absolute());
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let (na, nb) = (name(&pa), name(&pb));
    assert!(
        na.starts_with("hopscope-") && na.ends_with("-1.png"),
        "{na}"
    );
    assert!(
        nb.ends_with("-2.png") || (nb.ends_with("-1.png") && na != nb),
        "{nb} (after {na})"
    );
    for p in &placeholders {
        assert_eq!(
            std::fs::read(dir.join(p)).unwrap(),
            b"not a png",
            "{p} overwritten"
        );
    }
    assert_eq!(decode_png(&pa).pixels, a);
    assert_eq!(decode_png(&pb).pixels, b);
    // Without placeholders: two quick saves are two files.
    let dir2 = TempDir::new("shots2");
    let p1 = save_screenshot(dir2.path(), &a, w, h).unwrap();
    let p2 = save_screenshot(dir2.path(), &b, w, h).unwrap();
    assert_ne!(p1, p2);
    assert_eq!(dir2.entries().len(), 2);
    assert_eq!(decode_png(&p1).pixels, a);
    assert_eq!(decode_png(&p2).pixels, b);
    let (n1, n2) = (name(&p1), name(&p2));
    if n1.len() == "hopscope-YYYYMMDD-HHMMSS.png".len() && n2.starts_with(&n1[..n1.len() - 4]) {
        assert_eq!(n2, format!("{}-1.png", &n1[..n1.len() - 4]), "same second");
    }
}

#[test]
fn screenshot_into_a_missing_directory_is_an_error() {
    let dir = TempDir::new("shots-missing");
    let missing = dir.join("no/such/dir");
    assert!(save_screenshot(&missing, &[0; 4], 2, 2).is_err());
}
