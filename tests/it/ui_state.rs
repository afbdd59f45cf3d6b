//! Keys → actions (`ui::keys`) and what each action does to the window's view state
//! (`ui::state::ViewState::apply`).
//!
//! Oracles: the key table below is typed in from the README/brief (not read from
//! `KEY_HELP`); the expected parameter, dB range, zoom and axis transitions are computed
//! by a naive reference model written here ([`Model`]), whose frequency warps are the
//! DSP.md §7 formulas in `support::mel`. A seeded random walk over every action checks
//! the implementation against the model step by step, plus the invariants (bounds, and
//! "an effect is returned exactly when something changed").

use crate::support::mel::{htk, htk_inv, slaney, slaney_inv, unwarp, warp};
use crate::support::rng::Rng;
use hopscope::config::pane::{MelView, PaneSettings, PaneSpec, DEFAULT_COMPARE};
use hopscope::dsp::mel::MelScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::{WindowKind, ALL_WINDOWS};
use hopscope::render::colormap::{ColormapKind, ALL_COLORMAPS};
use hopscope::render::freqmap::{FreqAxis, FreqScale};
use hopscope::ui::keys::{action_for, Action, Key, ALL_KEYS, KEY_HELP};
use hopscope::ui::state::{Effect, ViewState, DB_STEP, DEFAULT_SPAN_MS, SPANS_MS};

const SR: u32 = 48_000;
const NYQ: f64 = 24_000.0;

/// Every key, its label in the help table, and its action without / with Shift.
const KEY_TABLE: [(Key, &str, Action, Action); 34] = [
    (Key::Up, "Up", Action::FftUp, Action::FftUp),
    (Key::Down, "Down", Action::FftDown, Action::FftDown),
    (Key::Left, "Left", Action::HopDown, Action::HopDown),
    (Key::Right, "Right", Action::HopUp, Action::HopUp),
    (Key::W, "W", Action::WindowNext, Action::WindowPrev),
    (Key::F, "F", Action::FreqScaleNext, Action::FreqScaleNext),
    (Key::C, "C", Action::ColormapNext, Action::ColormapNext),
    (Key::LeftBracket, "[", Action::FloorDown, Action::FloorDown),
    (Key::RightBracket, "]", Action::FloorUp, Action::FloorUp),
    (Key::Minus, "-", Action::CeilingDown, Action::CeilingDown),
    (Key::Equal, "=", Action::CeilingUp, Action::CeilingUp),
    (Key::Z, "Z", Action::RangeNarrow, Action::RangeNarrow),
    (Key::X, "X", Action::RangeWiden, Action::RangeWiden),
    (Key::Comma, ",", Action::TimeCompress, Action::TimeCompress),
    (Key::Period, ".", Action::TimeStretch, Action::TimeStretch),
    (
        Key::Space,
        "Space",
        Action::TogglePause,
        Action::TogglePause,
    ),
    (Key::S, "S", Action::Screenshot, Action::Screenshot),
    (Key::H, "H", Action::ToggleHelp, Action::ToggleHelp),
    (Key::I, "I", Action::ToggleHud, Action::ToggleHud),
    (Key::L, "L", Action::ToggleLatency, Action::ToggleLatency),
    (Key::R, "R", Action::ToggleRerender, Action::ToggleRerender),
    (Key::P, "P", Action::Snapshot, Action::Snapshot),
    (Key::E, "E", Action::Export, Action::Export),
    (Key::G, "G", Action::Suggest, Action::Suggest),
    (
        Key::A,
        "A",
        Action::ApplySuggestion,
        Action::ApplySuggestion,
    ),
    (Key::M, "M", Action::ToggleMel, Action::ToggleMel),
    (Key::N, "N", Action::FrontendNext, Action::FrontendPrev),
    (
        Key::Tab,
        "Tab",
        Action::ToggleCompare,
        Action::ToggleCompare,
    ),
    (Key::Key1, "1 - 4", Action::Focus(0), Action::Focus(0)),
    (Key::Key2, "1 - 4", Action::Focus(1), Action::Focus(1)),
    (Key::Key3, "1 - 4", Action::Focus(2), Action::Focus(2)),
    (Key::Key4, "1 - 4", Action::Focus(3), Action::Focus(3)),
    (Key::Q, "Q", Action::Quit, Action::Quit),
    (Key::Escape, "Esc", Action::Quit, Action::Quit),
];

/// Every action (Quit twice in the key table).
const ALL_ACTIONS: [Action; 27] = [
    Action::FftUp,
    Action::FftDown,
    Action::HopDown,
    Action::HopUp,
    Action::WindowNext,
    Action::WindowPrev,
    Action::FreqScaleNext,
    Action::ColormapNext,
    Action::FloorDown,
    Action::FloorUp,
    Action::CeilingDown,
    Action::CeilingUp,
    Action::RangeNarrow,
    Action::RangeWiden,
    Action::TimeCompress,
    Action::TimeStretch,
    Action::TogglePause,
    Action::Screenshot,
    Action::ToggleHelp,
    Action::ToggleHud,
    Action::ToggleLatency,
    Action::ToggleRerender,
    Action::Snapshot,
    Action::Export,
    Action::Suggest,
    Action::ApplySuggestion,
    Action::Quit,
];

fn params(fft_size: usize, win_length: usize, hop_size: usize) -> StftParams {
    StftParams {
        fft_size,
        win_length,
        hop_size,
        window: WindowKind::Hann,
    }
}

const MEL_DEFAULT: MelView = MelView {
    n_mels: 128,
    scale: MelScale::Slaney,
    norm: None,
};

fn state_with(p: StftParams, win_follows: bool) -> ViewState {
    let axis = FreqAxis {
        scale: FreqScale::Linear,
        fmin_hz: 0.0,
        fmax_hz: NYQ,
    };
    let pane = PaneSettings {
        frontend: None,
        params: p,
        win_follows,
        axis,
        mel: None,
    };
    ViewState {
        mel_default: MEL_DEFAULT,
        ..ViewState::new(vec![pane], SR)
    }
}

fn default_state() -> ViewState {
    state_with(params(2048, 2048, 512), true)
}

// ---------------------------------------------------------------- keys

#[test]
fn every_key_maps_to_its_action_with_and_without_shift() {
    assert_eq!(ALL_KEYS.len(), KEY_TABLE.len());
    for (key, _, plain, shifted) in KEY_TABLE {
        assert_eq!(action_for(key, false), Some(plain), "{key:?}");
        assert_eq!(action_for(key, true), Some(shifted), "Shift+{key:?}");
        assert_eq!(
            ALL_KEYS.iter().filter(|&&k| k == key).count(),
            1,
            "{key:?} is polled exactly once"
        );
    }
    for key in ALL_KEYS {
        assert!(
            KEY_TABLE.iter().any(|(k, ..)| *k == key),
            "{key:?} is polled but not in the expected table"
        );
    }
    // Q and Escape quit; Shift+W is the previous window.
    assert_eq!(action_for(Key::Q, false), Some(Action::Quit));
    assert_eq!(action_for(Key::Escape, false), Some(Action::Quit));
    assert_eq!(action_for(Key::W, true), Some(Action::WindowPrev));
    // Every action is reachable from some key.
    for action in ALL_ACTIONS {
        assert!(
            KEY_TABLE
                .iter()
                .any(|(_, _, a, b)| *a == action || *b == action),
            "{action:?} has no key"
        );
    }
}

#[test]
fn key_help_lists_exactly_the_keys() {
    let mut labels: Vec<&str> = KEY_HELP
        .iter()
        .flat_map(|(keys, _)| keys.split(" / "))
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Mouse")
        .collect();
    labels.sort_unstable();
    let mut expected: Vec<&str> = KEY_TABLE.iter().map(|(_, l, ..)| *l).collect();
    expected.push("Shift+W");
    expected.push("Shift+N");
    expected.sort_unstable();
    // "1 - 4" is one line for four keys.
    expected.dedup();
    assert_eq!(labels, expected, "KEY_HELP key column vs the key table");
    for (keys, what) in KEY_HELP {
        assert!(
            keys.is_empty() || !what.is_empty(),
            "{keys}: no description"
        );
    }
}

// ---------------------------------------------------------------- reference model

/// The naive model of the view state: what the README says each key does.
#[derive(Clone, Debug, PartialEq)]
struct Model {
    fft: usize,
    win: usize,
    hop: usize,
    window_index: usize,
    win_follows: bool,
    scale_index: usize,
    fmin: f64,
    fmax: f64,
    cmap_index: usize,
    floor: f32,
    ceiling: f32,
    span_ms: u32,
    paused: bool,
    help: bool,
    hud: bool,
    latency: bool,
    rerender: bool,
}

const SCALES: [FreqScale; 4] = [
    FreqScale::Linear,
    FreqScale::Log,
    FreqScale::MelHtk,
    FreqScale::MelSlaney,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    None,
    Params,
    Recolor,
    Remap,
    Regrid,
    Redraw,
    Screenshot,
    Snapshot,
    Export,
    Suggest,
    Quit,
    /// Model only: the axis would move by float noise alone (≤ 1e-9 relative); either
    /// `Remap` (to the recomputed edges) or `None` is right.
    RemapOrNone,
}

fn kind(e: &Effect) -> Kind {
    match e {
        Effect::None => Kind::None,
        Effect::Params(_) => Kind::Params,
        Effect::Recolor => Kind::Recolor,
        Effect::Remap => Kind::Remap,
        Effect::Regrid => Kind::Regrid,
        Effect::Redraw => Kind::Redraw,
        Effect::Screenshot => Kind::Screenshot,
        Effect::Snapshot => Kind::Snapshot,
        Effect::Export => Kind::Export,
        Effect::Suggest => Kind::Suggest,
        Effect::Panes => panic!("the walk has no pane actions"),
        Effect::Frontend => panic!("the walk has no front-end actions"),
        Effect::Quit => Kind::Quit,
    }
}

impl Model {
    fn of(s: &ViewState) -> Model {
        Model {
            fft: s.focused().params.fft_size,
            win: s.focused().params.win_length,
            hop: s.focused().params.hop_size,
            window_index: ALL_WINDOWS
                .iter()
                .position(|w| *w == s.focused().params.window)
                .expect("a listed window"),
            win_follows: s.focused().win_follows,
            scale_index: SCALES
                .iter()
                .position(|x| *x == s.focused().axis.scale)
                .unwrap(),
            fmin: s.focused().axis.fmin_hz,
            fmax: s.focused().axis.fmax_hz,
            cmap_index: ALL_COLORMAPS.iter().position(|c| *c == s.colormap).unwrap(),
            floor: s.range.floor_db,
            ceiling: s.range.ceiling_db,
            span_ms: s.span_ms,
            paused: s.paused,
            help: s.help,
            hud: s.hud,
            latency: s.latency_panel,
            rerender: s.rerender,
        }
    }

    fn scale(&self) -> FreqScale {
        SCALES[self.scale_index]
    }

    /// The bottom of the axis actually shown: max(fmin, 20 Hz) on a log axis.
    fn lo(&self) -> f64 {
        if self.scale() == FreqScale::Log {
            self.fmin.max(20.0)
        } else {
            self.fmin
        }
    }

    fn apply(&mut self, action: Action) -> Kind {
        match action {
            Action::FftUp | Action::FftDown => {
                let fft = if action == Action::FftUp {
                    (self.fft * 2).min(65536)
                } else {
                    (self.fft / 2).max(16)
                };
                let win = if self.win_follows {
                    fft
                } else {
                    self.win.min(fft)
                };
                let hop = self.hop.min(win);
                self.set(fft, win, hop, self.window_index)
            }
            Action::HopDown => {
                self.set(self.fft, self.win, (self.hop / 2).max(1), self.window_index)
            }
            Action::HopUp => self.set(
                self.fft,
                self.win,
                (self.hop * 2).min(self.win),
                self.window_index,
            ),
            Action::WindowNext => {
                self.set(self.fft, self.win, self.hop, (self.window_index + 1) % 8)
            }
            Action::WindowPrev => {
                self.set(self.fft, self.win, self.hop, (self.window_index + 7) % 8)
            }
            Action::FreqScaleNext => {
                self.scale_index = (self.scale_index + 1) % 4;
                Kind::Remap
            }
            Action::ColormapNext => {
                self.cmap_index = (self.cmap_index + 1) % ALL_COLORMAPS.len();
                Kind::Recolor
            }
            Action::FloorDown => self.set_db(self.floor - 5.0, self.ceiling),
            Action::FloorUp => self.set_db(self.floor + 5.0, self.ceiling),
            Action::CeilingDown => self.set_db(self.floor, self.ceiling - 5.0),
            Action::CeilingUp => self.set_db(self.floor, self.ceiling + 5.0),
            Action::RangeNarrow | Action::RangeWiden => {
                let factor = if action == Action::RangeNarrow {
                    0.5
                } else {
                    2.0
                };
                let s = self.scale();
                let limit = if s == FreqScale::Log { 20.0 } else { 0.0 };
                let (a, b) = (warp(s, self.lo()), warp(s, self.fmax));
                let (c, h) = (0.5 * (a + b), 0.5 * (b - a) * factor);
                let lo = unwarp(s, c - h).max(limit);
                let hi = unwarp(s, c + h).min(NYQ);
                if hi - lo < 10.0 {
                    return Kind::None;
                }
                if lo == self.lo() && hi == self.fmax {
                    return Kind::None;
                }
                let tiny = close(lo, self.lo()) && close(hi, self.fmax);
                self.fmin = lo;
                self.fmax = hi;
                if tiny {
                    Kind::RemapOrNone
                } else {
                    Kind::Remap
                }
            }
            Action::TimeCompress | Action::TimeStretch => {
                // The README's spans, s: `,` the next longer, `.` the next shorter.
                const SPANS_S: [u32; 7] = [1, 2, 5, 10, 20, 30, 60];
                let next = if action == Action::TimeCompress {
                    SPANS_S.iter().find(|&&x| x * 1000 > self.span_ms)
                } else {
                    SPANS_S.iter().rev().find(|&&x| x * 1000 < self.span_ms)
                };
                let Some(&next) = next else {
                    return Kind::None;
                };
                self.span_ms = next * 1000;
                Kind::Regrid
            }
            Action::TogglePause => {
                self.paused = !self.paused;
                Kind::Redraw
            }
            Action::ToggleHelp => {
                self.help = !self.help;
                Kind::Redraw
            }
            Action::ToggleLatency => {
                if self.hud {
                    self.latency = !self.latency;
                } else {
                    (self.hud, self.latency) = (true, true);
                }
                Kind::Redraw
            }
            Action::ToggleHud => {
                self.hud = !self.hud;
                Kind::Redraw
            }
            Action::ToggleRerender => {
                self.rerender = !self.rerender;
                Kind::Redraw
            }
            Action::Screenshot => Kind::Screenshot,
            Action::Snapshot => Kind::Snapshot,
            Action::Export => Kind::Export,
            Action::Suggest => Kind::Suggest,
            // The random walk never receives a suggestion: nothing to apply.
            Action::ApplySuggestion => Kind::None,
            Action::Quit => Kind::Quit,
            // Panes and the mel view have their own tests below.
            Action::ToggleMel
            | Action::ToggleCompare
            | Action::Focus(_)
            | Action::FrontendNext
            | Action::FrontendPrev => {
                panic!("not in the walk: {action:?}")
            }
        }
    }

    fn set(&mut self, fft: usize, win: usize, hop: usize, window_index: usize) -> Kind {
        if (fft, win, hop, window_index) == (self.fft, self.win, self.hop, self.window_index) {
            return Kind::None;
        }
        (self.fft, self.win, self.hop, self.window_index) = (fft, win, hop, window_index);
        Kind::Params
    }

    fn set_db(&mut self, floor: f32, ceiling: f32) -> Kind {
        if ceiling - floor < 5.0 || floor < -200.0 || ceiling > 60.0 {
            return Kind::None;
        }
        (self.floor, self.ceiling) = (floor, ceiling);
        Kind::Recolor
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks the implementation's state against the model (axis within 1e-9 relative).
fn assert_matches(s: &ViewState, m: &Model, what: &str) {
    let got = Model::of(s);
    let axis_ok = close(got.fmin, m.fmin) || close(got_lo(s), m.lo());
    assert!(
        axis_ok && close(got.fmax, m.fmax),
        "{what}: axis {:?} vs model {}..{}",
        s.focused().axis,
        m.lo(),
        m.fmax
    );
    let strip = |x: &Model| Model {
        fmin: 0.0,
        fmax: 0.0,
        ..x.clone()
    };
    assert_eq!(strip(&got), strip(m), "{what}");
}

fn got_lo(s: &ViewState) -> f64 {
    s.focused().axis.lo_hz()
}

/// Applies `action` to both, compares effects and states; re-syncs the model's axis to
/// the implementation's (they agree to 1e-9) so float noise cannot accumulate.
fn step(s: &mut ViewState, m: &mut Model, action: Action, what: &str) -> Effect {
    let before = s.clone();
    let e = s.apply(action);
    let expected = match m.apply(action) {
        Kind::RemapOrNone if kind(&e) == Kind::None => Kind::None,
        Kind::RemapOrNone => Kind::Remap,
        k => k,
    };
    assert_eq!(
        kind(&e),
        expected,
        "{what}: {action:?} from {} ({:?})",
        before.status_line(),
        before.focused().axis
    );
    assert_matches(s, m, &format!("{what}: after {action:?}"));
    match e {
        Effect::Params(p) => {
            assert_eq!(
                p,
                s.focused().params,
                "{what}: Params carries the new parameters"
            );
            assert_ne!(
                p,
                before.focused().params,
                "{what}: Params only when they change"
            );
            assert!(p.validate().is_ok(), "{what}: {p:?} invalid");
        }
        Effect::None | Effect::Screenshot | Effect::Quit => {
            assert_eq!(*s, before, "{what}: {e:?} must leave the state unchanged")
        }
        _ => assert_eq!(
            s.focused().params,
            before.focused().params,
            "{what}: {e:?} changed the params"
        ),
    }
    m.fmin = s.focused().axis.fmin_hz;
    m.fmax = s.focused().axis.fmax_hz;
    e
}

// ---------------------------------------------------------------- STFT parameters

#[test]
fn fft_up_from_2048_doubles_n_fft_and_win_length_and_reports_it() {
    let mut s = default_state();
    let e = s.apply(Action::FftUp);
    let expected = params(4096, 4096, 512);
    assert_eq!(e, Effect::Params(expected));
    assert_eq!(s.focused().params, expected);
    let line = s.status_line();
    for part in [
        "n_fft=4096",
        "win_length=4096",
        "hop=512",
        "window=hann",
        "scale=linear",
        "colormap=magma",
        "floor=-120",
        "ceiling=0",
        "span_s=10",
        "paused=false",
        "rerender=on",
        "mel=off",
        "pane=1/1",
        "fmin=0",
        "fmax=24000",
    ] {
        assert!(
            line.split_whitespace().any(|w| w == part),
            "status line lacks {part}: {line}"
        );
    }
    assert!(!line.contains('\n'), "one line: {line:?}");
}

#[test]
fn fft_size_walks_powers_of_two_to_both_clamps() {
    let mut s = default_state();
    let mut m = Model::of(&s);
    let mut sizes = vec![];
    loop {
        let e = step(&mut s, &mut m, Action::FftUp, "up");
        if e == Effect::None {
            break;
        }
        sizes.push(s.focused().params.fft_size);
        assert_eq!(
            s.focused().params.win_length,
            s.focused().params.fft_size,
            "win follows"
        );
    }
    assert_eq!(sizes, [4096, 8192, 16384, 32768, 65536]);
    assert_eq!(s.focused().params.fft_size, 65536);
    assert_eq!(s.apply(Action::FftUp), Effect::None, "clamped at 65536");
    let mut down = vec![];
    loop {
        let e = step(&mut s, &mut m, Action::FftDown, "down");
        if e == Effect::None {
            break;
        }
        down.push((s.focused().params.fft_size, s.focused().params.hop_size));
    }
    assert_eq!(
        down,
        [
            (32768, 512),
            (16384, 512),
            (8192, 512),
            (4096, 512),
            (2048, 512),
            (1024, 512),
            (512, 512),
            (256, 256),
            (128, 128),
            (64, 64),
            (32, 32),
            (16, 16),
        ],
        "hop is clamped to win_length on the way down"
    );
    assert_eq!(s.apply(Action::FftDown), Effect::None, "clamped at 16");
    assert_eq!(s.focused().params, params(16, 16, 16));
}

#[test]
fn win_length_set_on_its_own_is_kept_and_only_clamped() {
    let mut s = state_with(params(2048, 1000, 250), false);
    let mut m = Model::of(&s);
    let mut seen = vec![];
    for a in [
        Action::FftUp,
        Action::FftDown,
        Action::FftDown,
        Action::FftDown,
        Action::FftDown,
        Action::FftDown,
        Action::FftUp,
        Action::FftUp,
    ] {
        step(&mut s, &mut m, a, "win kept");
        seen.push((
            s.focused().params.fft_size,
            s.focused().params.win_length,
            s.focused().params.hop_size,
        ));
    }
    assert_eq!(
        seen,
        [
            (4096, 1000, 250),
            (2048, 1000, 250),
            (1024, 1000, 250),
            (512, 512, 250),
            (256, 256, 250),
            (128, 128, 128),
            (256, 128, 128),
            (512, 128, 128),
        ]
    );
}

#[test]
fn hop_halves_and_doubles_within_1_and_win_length() {
    let mut s = default_state();
    let mut m = Model::of(&s);
    let mut hops = vec![];
    while step(&mut s, &mut m, Action::HopDown, "hop down") != Effect::None {
        hops.push(s.focused().params.hop_size);
    }
    assert_eq!(hops, [256, 128, 64, 32, 16, 8, 4, 2, 1]);
    hops.clear();
    while step(&mut s, &mut m, Action::HopUp, "hop up") != Effect::None {
        hops.push(s.focused().params.hop_size);
    }
    assert_eq!(hops, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    // Not a power of two: clamped to win_length, then nothing.
    let mut s = state_with(params(2048, 1000, 600), false);
    assert_eq!(
        s.apply(Action::HopUp),
        Effect::Params(params(2048, 1000, 1000))
    );
    assert_eq!(s.apply(Action::HopUp), Effect::None);
    let mut s = state_with(params(2048, 2048, 3), true);
    assert_eq!(
        s.apply(Action::HopDown),
        Effect::Params(params(2048, 2048, 1))
    );
    assert_eq!(s.apply(Action::HopDown), Effect::None);
}

#[test]
fn window_keys_cycle_all_eight_windows_both_ways() {
    let mut s = default_state();
    let start = ALL_WINDOWS
        .iter()
        .position(|w| *w == WindowKind::Hann)
        .unwrap();
    for i in 1..=8 {
        let e = s.apply(Action::WindowNext);
        let w = ALL_WINDOWS[(start + i) % 8];
        assert_eq!(
            e,
            Effect::Params(StftParams {
                window: w,
                ..params(2048, 2048, 512)
            })
        );
        assert!(s.status_line().contains(&format!("window={w} ")));
    }
    assert_eq!(s.focused().params.window, WindowKind::Hann, "back after 8");
    for i in 1..=8 {
        s.apply(Action::WindowPrev);
        assert_eq!(s.focused().params.window, ALL_WINDOWS[(start + 8 - i) % 8]);
    }
    assert_eq!(s.focused().params.window, WindowKind::Hann);
}

// ---------------------------------------------------------------- look

#[test]
fn f_cycles_linear_log_mel_slaney() {
    let mut s = default_state();
    for (scale, name) in [
        (FreqScale::Log, "log"),
        (FreqScale::MelHtk, "mel"),
        (FreqScale::MelSlaney, "mel-slaney"),
        (FreqScale::Linear, "linear"),
    ] {
        assert_eq!(s.apply(Action::FreqScaleNext), Effect::Remap);
        assert_eq!(s.focused().axis.scale, scale);
        assert!(
            s.status_line().contains(&format!("scale={name} ")),
            "{}",
            s.status_line()
        );
        let lo = if scale == FreqScale::Log { "20" } else { "0" };
        assert!(
            s.status_line().contains(&format!("fmin={lo} ")),
            "{}",
            s.status_line()
        );
    }
}

#[test]
fn c_cycles_every_colormap() {
    let mut s = default_state();
    for i in 1..=ALL_COLORMAPS.len() {
        assert_eq!(s.apply(Action::ColormapNext), Effect::Recolor);
        assert_eq!(s.colormap, ALL_COLORMAPS[i % ALL_COLORMAPS.len()]);
        assert!(s
            .status_line()
            .contains(&format!("colormap={} ", s.colormap)));
    }
    assert_eq!(s.colormap, ColormapKind::Magma);
}

#[test]
fn floor_and_ceiling_step_5_db_within_their_limits() {
    assert_eq!(DB_STEP, 5.0);
    let mut s = default_state();
    let mut m = Model::of(&s);
    let mut n = 0;
    while step(&mut s, &mut m, Action::FloorDown, "floor down") == Effect::Recolor {
        n += 1;
    }
    assert_eq!(
        (n, s.range.floor_db),
        (16, -200.0),
        "−120 → −200 in 16 steps"
    );
    n = 0;
    while step(&mut s, &mut m, Action::CeilingUp, "ceiling up") == Effect::Recolor {
        n += 1;
    }
    assert_eq!((n, s.range.ceiling_db), (12, 60.0), "0 → 60 in 12 steps");
    n = 0;
    while step(&mut s, &mut m, Action::FloorUp, "floor up") == Effect::Recolor {
        n += 1;
    }
    assert_eq!(
        (n, s.range.floor_db),
        (51, 55.0),
        "−200 → 55: 5 dB below 60"
    );
    assert_eq!(
        s.apply(Action::CeilingDown),
        Effect::None,
        "gap stays ≥ 5 dB"
    );
    assert_eq!(s.range.ceiling_db - s.range.floor_db, 5.0);
    assert!(s.status_line().contains("floor=55 ceiling=60"));
}

#[test]
fn z_and_x_zoom_the_linear_axis_around_its_centre() {
    let mut s = default_state();
    assert_eq!(
        s.apply(Action::RangeWiden),
        Effect::None,
        "already 0..nyquist"
    );
    assert_eq!(s.apply(Action::RangeNarrow), Effect::Remap);
    assert_eq!(
        (s.focused().axis.fmin_hz, s.focused().axis.fmax_hz),
        (6000.0, 18000.0)
    );
    assert_eq!(s.apply(Action::RangeNarrow), Effect::Remap);
    assert_eq!(
        (s.focused().axis.fmin_hz, s.focused().axis.fmax_hz),
        (9000.0, 15000.0)
    );
    assert_eq!(s.apply(Action::RangeWiden), Effect::Remap);
    assert_eq!(s.apply(Action::RangeWiden), Effect::Remap);
    assert_eq!(
        (s.focused().axis.fmin_hz, s.focused().axis.fmax_hz),
        (0.0, NYQ)
    );
    // Narrowing stops before the range would fall under 10 Hz: 24000/2^11 = 11.7 Hz.
    let mut n = 0;
    while s.apply(Action::RangeNarrow) == Effect::Remap {
        n += 1;
        assert!(s.focused().axis.fmax_hz - s.focused().axis.fmin_hz >= 10.0);
    }
    assert_eq!(n, 11);
    assert!((s.focused().axis.fmax_hz - s.focused().axis.fmin_hz - NYQ / 2048.0).abs() < 1e-9);
    assert!((0.5 * (s.focused().axis.fmin_hz + s.focused().axis.fmax_hz) - 12000.0).abs() < 1e-9);
    // Off-centre: widening clamps at 0 Hz.
    let mut s = default_state();
    s.focused_mut().axis.fmin_hz = 1000.0;
    s.focused_mut().axis.fmax_hz = 5000.0;
    assert_eq!(s.apply(Action::RangeWiden), Effect::Remap);
    assert_eq!(
        (s.focused().axis.fmin_hz, s.focused().axis.fmax_hz),
        (0.0, 7000.0)
    );
}

#[test]
fn z_on_log_and_mel_axes_zooms_in_warped_units() {
    // Log 20..24000: the centre is the geometric mean, the half-span a quarter of ln 1200.
    let mut s = default_state();
    s.focused_mut().axis = FreqAxis {
        scale: FreqScale::Log,
        fmin_hz: 20.0,
        fmax_hz: NYQ,
    };
    assert_eq!(s.apply(Action::RangeNarrow), Effect::Remap);
    let r = 1200f64.powf(0.25);
    assert!(
        (s.focused().axis.fmin_hz - 20.0 * r).abs() < 1e-9 * NYQ,
        "{:?}",
        s.focused().axis
    );
    assert!(
        (s.focused().axis.fmax_hz - NYQ / r).abs() < 1e-9 * NYQ,
        "{:?}",
        s.focused().axis
    );
    for (scale, f, finv) in [
        (
            FreqScale::MelHtk,
            htk as fn(f64) -> f64,
            htk_inv as fn(f64) -> f64,
        ),
        (FreqScale::MelSlaney, slaney, slaney_inv),
    ] {
        let mut s = default_state();
        s.focused_mut().axis = FreqAxis {
            scale,
            fmin_hz: 100.0,
            fmax_hz: 8000.0,
        };
        assert_eq!(s.apply(Action::RangeNarrow), Effect::Remap);
        let (a, b) = (f(100.0), f(8000.0));
        let (c, h) = (0.5 * (a + b), 0.25 * (b - a));
        assert!(
            (s.focused().axis.fmin_hz - finv(c - h)).abs() < 1e-6,
            "{scale}: {:?}",
            s.focused().axis
        );
        assert!(
            (s.focused().axis.fmax_hz - finv(c + h)).abs() < 1e-6,
            "{scale}: {:?}",
            s.focused().axis
        );
    }
}

/// X on an axis that already shows everything must be a no-op (Effect::None) on every
/// scale, including a log axis whose fmin is below 20 Hz (it shows 20 Hz..nyquist).
#[test]
fn x_at_the_full_range_is_a_no_op_on_every_scale() {
    for scale in SCALES {
        let mut s = default_state();
        s.focused_mut().axis.scale = scale;
        let before = s.clone();
        let e = s.apply(Action::RangeWiden);
        assert_eq!(
            (e, s.focused().axis.lo_hz(), s.focused().axis.fmax_hz),
            (
                Effect::None,
                before.focused().axis.lo_hz(),
                before.focused().axis.fmax_hz
            ),
            "{scale}: X at the full range (visible {}..{} Hz) returned {e:?}, axis now {:?}",
            before.focused().axis.lo_hz(),
            before.focused().axis.fmax_hz,
            s.focused().axis
        );
    }
}

#[test]
fn the_span_steps_through_the_listed_seconds_and_stops_at_the_ends() {
    assert_eq!(SPANS_MS, [1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000]);
    let mut s = default_state();
    assert_eq!(s.span_ms, DEFAULT_SPAN_MS);
    assert_eq!(DEFAULT_SPAN_MS, 10_000);
    for want in [5000, 2000, 1000] {
        assert_eq!(s.apply(Action::TimeStretch), Effect::Regrid);
        assert_eq!(s.span_ms, want);
    }
    assert_eq!(s.apply(Action::TimeStretch), Effect::None);
    assert!(s.status_line().contains(" span_s=1 "));
    for want in [2000, 5000, 10_000, 20_000, 30_000, 60_000] {
        assert_eq!(s.apply(Action::TimeCompress), Effect::Regrid);
        assert_eq!(s.span_ms, want);
    }
    assert_eq!(s.apply(Action::TimeCompress), Effect::None);
    assert!(s.status_line().contains(" span_s=60 "));
    // A --span between the listed ones steps to its neighbours.
    s.span_ms = 3500;
    assert_eq!(s.apply(Action::TimeCompress), Effect::Regrid);
    assert_eq!(s.span_ms, 5000);
    s.span_ms = 3500;
    assert_eq!(s.apply(Action::TimeStretch), Effect::Regrid);
    assert_eq!(s.span_ms, 2000);
    s.span_ms = 500;
    assert!(s.status_line().contains(" span_s=0.5 "));
    assert_eq!(s.apply(Action::TimeStretch), Effect::None);
}

#[test]
fn toggles_screenshot_and_quit() {
    let mut s = default_state();
    assert_eq!(s.apply(Action::TogglePause), Effect::Redraw);
    assert!(s.paused && s.status_line().contains(" paused=true "));
    assert_eq!(s.apply(Action::TogglePause), Effect::Redraw);
    assert!(!s.paused);
    assert_eq!(s.apply(Action::ToggleHelp), Effect::Redraw);
    assert!(s.help);
    assert_eq!(s.apply(Action::ToggleHelp), Effect::Redraw);
    assert!(!s.help);
    assert_eq!(s.apply(Action::ToggleHud), Effect::Redraw);
    assert!(!s.hud);
    assert_eq!(s.apply(Action::ToggleHud), Effect::Redraw);
    assert!(s.hud);
    assert!(s.latency_panel, "on by default");
    assert_eq!(s.apply(Action::ToggleLatency), Effect::Redraw);
    assert!(!s.latency_panel);
    assert_eq!(s.apply(Action::ToggleLatency), Effect::Redraw);
    assert!(s.latency_panel);
    // L with the HUD hidden shows both.
    s.apply(Action::ToggleLatency);
    s.apply(Action::ToggleHud);
    assert!(!s.hud);
    assert_eq!(s.apply(Action::ToggleLatency), Effect::Redraw);
    assert!(s.hud && s.latency_panel);
    assert_eq!(s.apply(Action::ToggleRerender), Effect::Redraw);
    assert!(!s.rerender && s.status_line().contains(" rerender=off "));
    assert_eq!(s.apply(Action::ToggleRerender), Effect::Redraw);
    assert!(s.rerender && s.status_line().contains(" rerender=on "));
    let before = s.clone();
    assert_eq!(s.apply(Action::Screenshot), Effect::Screenshot);
    assert_eq!(s.apply(Action::Snapshot), Effect::Snapshot);
    assert_eq!(s.apply(Action::Export), Effect::Export);
    assert_eq!(s.apply(Action::Suggest), Effect::Suggest);
    assert_eq!(
        s.apply(Action::ApplySuggestion),
        Effect::None,
        "no suggestion yet"
    );
    assert_eq!(s.apply(Action::Quit), Effect::Quit);
    assert_eq!(s, before);
}

// ---------------------------------------------------------------- random walk

/// 4000 random actions from several starting states; after each: the implementation
/// agrees with the model, effects are returned exactly when something changed, and every
/// bound holds.
#[test]
fn random_walk_agrees_with_the_model_and_keeps_every_bound() {
    let mut rng = Rng::new(7);
    let starts = [
        (params(2048, 2048, 512), true),
        (params(1024, 600, 150), false),
        (params(65536, 65536, 1), true),
        (params(16, 16, 16), true),
    ];
    for (i, (p, follows)) in starts.into_iter().enumerate() {
        let mut s = state_with(p, follows);
        let mut m = Model::of(&s);
        for n in 0..1000 {
            let action = ALL_ACTIONS[rng.below(ALL_ACTIONS.len())];
            let what = format!("start {i} step {n}");
            step(&mut s, &mut m, action, &what);
            let q = s.focused().params;
            assert!((16..=65536).contains(&q.fft_size), "{what}: {q:?}");
            assert!(
                q.win_length <= q.fft_size && q.win_length >= 1,
                "{what}: {q:?}"
            );
            assert!(
                q.hop_size >= 1 && q.hop_size <= q.win_length,
                "{what}: {q:?}"
            );
            if follows {
                assert_eq!(q.win_length, q.fft_size, "{what}");
                assert!(q.fft_size.is_power_of_two(), "{what}");
            }
            let r = s.range;
            assert!(
                r.floor_db >= -200.0 && r.ceiling_db <= 60.0,
                "{what}: {r:?}"
            );
            assert!(r.ceiling_db - r.floor_db >= 5.0, "{what}: {r:?}");
            assert!((1000..=60_000).contains(&s.span_ms), "{what}");
            let (lo, hi) = (s.focused().axis.lo_hz(), s.focused().axis.fmax_hz);
            let limit = if s.focused().axis.scale == FreqScale::Log {
                20.0
            } else {
                0.0
            };
            assert!(
                lo >= limit && hi <= NYQ && hi - lo >= 10.0,
                "{what}: {:?}",
                s.focused().axis
            );
        }
    }
}

#[test]
fn a_applies_the_suggestion_once() {
    let mut s = default_state();
    let best = params(1024, 1024, 256);
    s.suggestion = Some(best);
    assert_eq!(s.apply(Action::ApplySuggestion), Effect::Params(best));
    assert_eq!(s.focused().params, best);
    assert!(s
        .status_line()
        .starts_with("n_fft=1024 win_length=1024 hop=256 "));
    // Already in effect: nothing to send.
    assert_eq!(s.apply(Action::ApplySuggestion), Effect::None);
}

// ---------------------------------------------------------------- compare panes, mel view

fn hann_2048() -> ViewState {
    state_with(params(2048, 2048, 512), true)
}

#[test]
fn tab_splits_into_hamming_hann_blackman_at_the_current_sizes_and_back() {
    let mut s = hann_2048();
    s.apply(Action::FftUp); // 4096 / 4096 / 512
    assert_eq!(s.apply(Action::ToggleCompare), Effect::Panes);
    assert_eq!(s.pane_count(), 3);
    let windows: Vec<WindowKind> = (0..3).map(|i| s.pane(i).params.window).collect();
    assert_eq!(
        windows,
        [WindowKind::Hamming, WindowKind::Hann, WindowKind::Blackman]
    );
    assert_eq!(DEFAULT_COMPARE.to_vec(), windows);
    for i in 0..3 {
        let p = s.pane(i).params;
        assert_eq!((p.fft_size, p.win_length, p.hop_size), (4096, 4096, 512));
    }
    assert_eq!(s.focus, 0);
    assert!(
        s.status_line().ends_with(" pane=1/3"),
        "{}",
        s.status_line()
    );
    // Keys act on the focused pane only.
    assert_eq!(s.apply(Action::Focus(2)), Effect::Redraw);
    assert_eq!(s.focused().params.window, WindowKind::Blackman);
    assert_eq!(
        s.apply(Action::HopDown),
        Effect::Params(StftParams {
            hop_size: 256,
            ..s.pane(2).params
        })
    );
    assert_eq!(s.pane(2).params.hop_size, 256);
    assert_eq!(s.pane(0).params.hop_size, 512);
    assert_eq!(s.pane(1).params.hop_size, 512);
    assert_eq!(s.apply(Action::FreqScaleNext), Effect::Remap);
    assert_eq!(s.pane(2).axis.scale, FreqScale::Log);
    assert_eq!(s.pane(0).axis.scale, FreqScale::Linear);
    // Focus follows: pane 1 still has its own settings.
    assert_eq!(s.apply(Action::Focus(0)), Effect::Redraw);
    assert_eq!(s.focused().params.window, WindowKind::Hamming);
    assert_eq!(s.focused().params.hop_size, 512);
    assert_eq!(s.apply(Action::Focus(0)), Effect::None, "already focused");
    assert_eq!(s.apply(Action::Focus(3)), Effect::None, "no 4th pane");
    // Tab again: one pane, the focused one's settings.
    s.apply(Action::Focus(2));
    assert_eq!(s.apply(Action::ToggleCompare), Effect::Panes);
    assert_eq!(s.pane_count(), 1);
    assert_eq!(s.focused().params.window, WindowKind::Blackman);
    assert_eq!(s.focused().params.hop_size, 256);
    assert_eq!(s.focused().axis.scale, FreqScale::Log);
    assert_eq!(s.apply(Action::Focus(1)), Effect::None, "one pane left");
}

#[test]
fn tab_tab_restores_the_pane_the_user_had_unless_they_chose_another() {
    // The pane before Tab: another window, n_fft 4096, a log axis, the mel view on.
    let mut s = hann_2048();
    s.apply(Action::FftUp);
    s.apply(Action::WindowPrev);
    s.apply(Action::FreqScaleNext);
    s.apply(Action::ToggleMel);
    let before = s.focused();
    assert_ne!(before.params.window, WindowKind::Hamming);
    // Tab, Tab: exactly what the user had (it used to keep the first split pane, Hamming).
    s.apply(Action::ToggleCompare);
    assert_eq!(s.focused().params.window, WindowKind::Hamming);
    assert_eq!(s.apply(Action::ToggleCompare), Effect::Panes);
    assert_eq!((s.pane_count(), s.focus), (1, 0));
    assert_eq!(s.focused(), before);
    // Focus moved away and back, nothing changed: still a round trip.
    s.apply(Action::ToggleCompare);
    s.apply(Action::Focus(1));
    s.apply(Action::Focus(0));
    s.apply(Action::ToggleCompare);
    assert_eq!(s.focused(), before);
    // The first pane changed while split: the user's change is kept.
    s.apply(Action::ToggleCompare);
    s.apply(Action::HopDown);
    let changed = s.focused();
    s.apply(Action::ToggleCompare);
    assert_eq!(s.focused(), changed);
    assert_eq!(s.focused().params.window, WindowKind::Hamming);
    // Another pane focused: that one is kept, untouched.
    s.apply(Action::ToggleCompare);
    s.apply(Action::Focus(2));
    let chosen = s.focused();
    s.apply(Action::ToggleCompare);
    assert_eq!(s.focused(), chosen);
    assert_eq!(s.focused().params.window, WindowKind::Blackman);
}

#[test]
fn compare_specs_parse_resolve_and_refuse_bad_input() {
    let specs = PaneSpec::parse_list(
        "window=blackman,n_fft=4096; hop=128 ;window=kaiser=5,mel=64,scale=log",
    )
    .expect("valid");
    assert_eq!(specs.len(), 3);
    let base = hann_2048().focused();
    let a = specs[0].resolve(&base, MEL_DEFAULT).expect("resolves");
    // n_fft alone moves a following win_length with it; the hop stays.
    assert_eq!(
        a.params,
        StftParams {
            fft_size: 4096,
            win_length: 4096,
            hop_size: 512,
            window: WindowKind::Blackman,
        }
    );
    let b = specs[1].resolve(&base, MEL_DEFAULT).expect("resolves");
    assert_eq!(
        b.params,
        StftParams {
            hop_size: 128,
            ..base.params
        }
    );
    let c = specs[2].resolve(&base, MEL_DEFAULT).expect("resolves");
    assert_eq!(c.params.window, WindowKind::Kaiser { beta: 5.0 });
    assert_eq!(c.axis.scale, FreqScale::Log);
    assert_eq!(
        c.mel,
        Some(MelView {
            n_mels: 64,
            ..MEL_DEFAULT
        })
    );
    // A win_length set on its own does not follow n_fft.
    let fixed = state_with(params(2048, 1024, 256), false).focused();
    let d = "n_fft=8192"
        .parse::<PaneSpec>()
        .expect("valid")
        .resolve(&fixed, MEL_DEFAULT);
    assert_eq!(d.expect("resolves").params.win_length, 1024);
    for (bad, why) in [
        ("window=hann", "one pane"),
        ("a;b;c;d;e", "not key=value"),
        ("window=hann;window=x", "unknown window"),
        ("window=hann;colour=red", "unknown key"),
        ("window=hann;n_fft=big", "not a number"),
        (
            "window=hann;;window=hann;window=hann;window=hann;window=hann",
            "five panes",
        ),
    ] {
        assert!(PaneSpec::parse_list(bad).is_err(), "{bad}: {why}");
    }
    let too_long = "win_length=4096".parse::<PaneSpec>().expect("parses");
    assert!(
        too_long.resolve(&base, MEL_DEFAULT).is_err(),
        "win_length > n_fft"
    );
    // Tab uses --compare when given.
    let mut s = hann_2048();
    s.compare = specs;
    s.apply(Action::ToggleCompare);
    assert_eq!(s.pane_count(), 3);
    assert_eq!(s.pane(1).params.hop_size, 128);
    assert_eq!(s.pane(2).mel.map(|m| m.n_mels), Some(64));
}

#[test]
fn m_toggles_the_mel_view_and_f_then_cycles_its_formula() {
    let mut s = hann_2048();
    assert_eq!(s.apply(Action::ToggleMel), Effect::Remap);
    assert_eq!(s.focused().mel, Some(MEL_DEFAULT));
    assert!(
        s.status_line().contains(" mel=128-slaney "),
        "{}",
        s.status_line()
    );
    let spec = s.focused().mel.expect("on").spec(&s.focused().axis);
    assert_eq!((spec.fmin_hz, spec.fmax_hz, spec.n_mels), (0.0, NYQ, 128));
    assert_eq!(
        spec.norm,
        hopscope::dsp::mel::MelNorm::Slaney,
        "librosa's default norm"
    );
    for want in [MelScale::Htk, MelScale::Tf, MelScale::Slaney] {
        assert_eq!(s.apply(Action::FreqScaleNext), Effect::Remap);
        assert_eq!(s.focused().mel.map(|m| m.scale), Some(want));
        assert_eq!(
            s.focused().axis.scale,
            FreqScale::Linear,
            "the axis scale is left alone"
        );
    }
    let htk = MelView {
        scale: MelScale::Htk,
        ..MEL_DEFAULT
    }
    .spec(&s.focused().axis);
    assert_eq!(
        htk.norm,
        hopscope::dsp::mel::MelNorm::None,
        "torchaudio's default norm"
    );
    // Z narrows the bands' range too.
    assert_eq!(s.apply(Action::RangeNarrow), Effect::Remap);
    let narrowed = s.focused().mel.expect("on").spec(&s.focused().axis);
    assert!(narrowed.fmax_hz < NYQ && narrowed.fmax_hz == s.focused().axis.fmax_hz);
    assert_eq!(s.apply(Action::ToggleMel), Effect::Remap);
    assert_eq!(s.focused().mel, None);
    assert!(s.status_line().contains(" mel=off "));
}

// ---------------------------------------------------------------- a device back at another rate

#[test]
fn a_new_sample_rate_moves_axes_that_ended_at_nyquist_and_cuts_those_above_it() {
    let mut s = default_state();
    // a second pane narrowed to 6-18 kHz
    let mut narrow = s.panes[0];
    narrow.axis.fmin_hz = 6000.0;
    narrow.axis.fmax_hz = 18000.0;
    s.panes.push(narrow);
    assert!(!s.set_sample_rate(SR), "the same rate changes nothing");
    assert!(s.set_sample_rate(16_000));
    assert_eq!(s.sample_rate_hz, 16_000);
    assert_eq!(s.nyquist_hz(), 8000.0);
    assert_eq!(
        (s.focused().axis.fmin_hz, s.focused().axis.fmax_hz),
        (0.0, 8000.0),
        "followed Nyquist"
    );
    assert_eq!(
        (s.panes[1].axis.fmin_hz, s.panes[1].axis.fmax_hz),
        (6000.0, 8000.0),
        "cut to the new Nyquist"
    );
    // and back up: both now end at Nyquist, so both follow it
    assert!(s.set_sample_rate(SR));
    assert_eq!(s.focused().axis.fmax_hz, NYQ);
    assert_eq!(s.panes[1].axis.fmax_hz, NYQ);
    // a pane above the new Nyquist entirely keeps 1 Hz of axis
    let mut high = s.panes[0];
    high.axis.fmin_hz = 12_000.0;
    high.axis.fmax_hz = 20_000.0;
    s.panes[1] = high;
    s.set_sample_rate(16_000);
    assert_eq!(
        (s.panes[1].axis.fmin_hz, s.panes[1].axis.fmax_hz),
        (7999.0, 8000.0)
    );
}

/// N / Shift+N: the focused pane cycles off → every built-in front-end in
/// `presets::NAMES` order → off, and back; the other panes keep theirs; each step asks
/// for the pane's columns again (`Effect::Frontend`) and the pane's colour range becomes
/// the front-end's own.
#[test]
fn n_cycles_the_focused_panes_front_end_through_off_and_back() {
    use hopscope::dsp::frontend::presets::NAMES;
    let mut s = default_state();
    s.panes.push(s.panes[0]);
    s.focus = 1;
    let name = |s: &ViewState| s.focused().frontend.map(|f| f.name.clone());
    assert_eq!(name(&s), None);
    for want in NAMES {
        assert_eq!(s.apply(Action::FrontendNext), Effect::Frontend);
        assert_eq!(name(&s).as_deref(), Some(want));
        assert_eq!(s.panes[0].frontend, None, "pane 1 untouched");
    }
    assert_eq!(s.apply(Action::FrontendNext), Effect::Frontend);
    assert_eq!(name(&s), None, "off after the last");
    assert_eq!(s.apply(Action::FrontendPrev), Effect::Frontend);
    assert_eq!(name(&s).as_deref(), Some(NAMES[NAMES.len() - 1]));
    assert_eq!(s.apply(Action::FrontendPrev), Effect::Frontend);
    assert_eq!(name(&s).as_deref(), Some(NAMES[NAMES.len() - 2]));
    // Whisper's colour range is its own units, the STFT pane keeps the dB range.
    while name(&s).as_deref() != Some("whisper") {
        s.apply(Action::FrontendNext);
    }
    let r = s.pane_range(1);
    assert_eq!((r.floor_db, r.ceiling_db), (-1.0, 1.5));
    assert_eq!(s.pane_range(0), s.range);
}

/// `[ ] - =` on a front-end pane move its colour range by tenths of its own span (Whisper:
/// 2.5 → 0.25 a step), leave the STFT panes' dB range alone, and stop with a tenth left;
/// on an STFT pane they move the dB range as before.
#[test]
fn range_keys_on_a_front_end_pane_step_a_tenth_of_its_range() {
    let mut s = default_state();
    s.panes.push(s.panes[0]);
    s.focus = 1;
    while s.focused().frontend.map(|f| f.name.as_str()) != Some("whisper") {
        s.apply(Action::FrontendNext);
    }
    let db = s.range;
    assert_eq!(s.apply(Action::FloorUp), Effect::Recolor);
    assert_eq!(s.apply(Action::CeilingDown), Effect::Recolor);
    let r = s.pane_range(1);
    assert!((r.floor_db - -0.75).abs() < 1e-6, "{r:?}");
    assert!((r.ceiling_db - 1.25).abs() < 1e-6, "{r:?}");
    assert_eq!(s.range, db, "the dB range is the STFT panes'");
    // Narrow until a tenth of the span is left: then the keys stop.
    let mut steps = 0;
    while s.apply(Action::FloorUp) == Effect::Recolor {
        steps += 1;
        assert!(steps < 100);
    }
    let r = s.pane_range(1);
    assert!((r.ceiling_db - r.floor_db - 0.25).abs() < 1e-4, "{r:?}");
    // The STFT pane: 5 dB steps of the shared range.
    s.focus = 0;
    assert_eq!(s.apply(Action::FloorUp), Effect::Recolor);
    assert_eq!(s.range.floor_db, db.floor_db + 5.0);
}

/// `--compare "frontend=whisper;n_fft=2048"`: pane 1 is Whisper's front-end, pane 2 an
/// STFT; an unknown front-end is refused with the built-ins listed.
#[test]
fn compare_specs_take_front_ends() {
    let specs = PaneSpec::parse_list("frontend=whisper;n_fft=2048").expect("valid");
    let base = default_state().focused();
    let panes: Vec<PaneSettings> = specs
        .iter()
        .map(|p| p.resolve(&base, MelView::DEFAULT).expect("resolves"))
        .collect();
    assert_eq!(panes[0].frontend.map(|f| f.name.as_str()), Some("whisper"));
    assert_eq!(panes[1].frontend, None);
    assert_eq!(panes[1].params.fft_size, 2048);
    let e = PaneSpec::parse_list("frontend=wisper;n_fft=2048").expect_err("unknown");
    assert!(e.contains("kaldi-fbank"), "{e}");
}
