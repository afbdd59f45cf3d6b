//! Keys → actions, pure (the README key table and the help overlay come from [`KEY_HELP`]).

/// The keys hopscope listens to (mapped from minifb in `ui::window`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Key {
    Up,
    Down,
    Left,
    Right,
    W,
    F,
    C,
    LeftBracket,
    RightBracket,
    Minus,
    Equal,
    Z,
    X,
    Comma,
    Period,
    Space,
    S,
    H,
    I,
    L,
    R,
    P,
    E,
    G,
    A,
    M,
    N,
    Tab,
    Key1,
    Key2,
    Key3,
    Key4,
    Q,
    Escape,
}

/// Every key, for polling.
pub const ALL_KEYS: [Key; 34] = [
    Key::Up,
    Key::Down,
    Key::Left,
    Key::Right,
    Key::W,
    Key::F,
    Key::C,
    Key::LeftBracket,
    Key::RightBracket,
    Key::Minus,
    Key::Equal,
    Key::Z,
    Key::X,
    Key::Comma,
    Key::Period,
    Key::Space,
    Key::S,
    Key::H,
    Key::I,
    Key::L,
    Key::R,
    Key::P,
    Key::E,
    Key::G,
    Key::A,
    Key::M,
    Key::N,
    Key::Tab,
    Key::Key1,
    Key::Key2,
    Key::Key3,
    Key::Key4,
    Key::Q,
    Key::Escape,
];

/// What a key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// n_fft × 2 (win_length follows unless set on its own).
    FftUp,
    /// n_fft ÷ 2.
    FftDown,
    /// hop ÷ 2.
    HopDown,
    /// hop × 2.
    HopUp,
    /// Next window.
    WindowNext,
    /// Previous window.
    WindowPrev,
    /// Next frequency scale.
    FreqScaleNext,
    /// Next colormap.
    ColormapNext,
    /// Floor −5 dB.
    FloorDown,
    /// Floor +5 dB.
    FloorUp,
    /// Ceiling −5 dB.
    CeilingDown,
    /// Ceiling +5 dB.
    CeilingUp,
    /// Narrow the frequency range (zoom in).
    RangeNarrow,
    /// Widen the frequency range.
    RangeWiden,
    /// Compress time: a screen spans the next longer span (`ui::state::SPANS_MS`).
    TimeCompress,
    /// Stretch time: a screen spans the next shorter span.
    TimeStretch,
    /// Pause or resume the display.
    TogglePause,
    /// Save a PNG of the window.
    Screenshot,
    /// Show or hide the help overlay.
    ToggleHelp,
    /// Show or hide the HUD.
    ToggleHud,
    /// Show or hide the latency panel.
    ToggleLatency,
    /// Re-render the history on parameter changes, or not.
    ToggleRerender,
    /// Save a snapshot folder (audio, rows, display, parameters).
    Snapshot,
    /// Export the current parameters (JSON + librosa/torch/tf/keras snippets).
    Export,
    /// Rank n_fft over the recent history by Rényi entropy (background).
    Suggest,
    /// Apply the last suggestion.
    ApplySuggestion,
    /// Show the focused pane as a mel spectrogram, or back to its frequency axis.
    ToggleMel,
    /// The focused pane shows the next model front-end (off → whisper → … → off).
    FrontendNext,
    /// The previous one.
    FrontendPrev,
    /// Split into compare panes (`--compare`, or hamming / hann / blackman), or back to one.
    ToggleCompare,
    /// Focus pane n (0-based): the keys act on it.
    Focus(usize),
    /// Quit.
    Quit,
}

/// The action of `key` (`shift` held or not).
pub fn action_for(key: Key, shift: bool) -> Option<Action> {
    Some(match key {
        Key::Up => Action::FftUp,
        Key::Down => Action::FftDown,
        Key::Left => Action::HopDown,
        Key::Right => Action::HopUp,
        Key::W if shift => Action::WindowPrev,
        Key::W => Action::WindowNext,
        Key::F => Action::FreqScaleNext,
        Key::C => Action::ColormapNext,
        Key::LeftBracket => Action::FloorDown,
        Key::RightBracket => Action::FloorUp,
        Key::Minus => Action::CeilingDown,
        Key::Equal => Action::CeilingUp,
        Key::Z => Action::RangeNarrow,
        Key::X => Action::RangeWiden,
        Key::Comma => Action::TimeCompress,
        Key::Period => Action::TimeStretch,
        Key::Space => Action::TogglePause,
        Key::S => Action::Screenshot,
        Key::H => Action::ToggleHelp,
        Key::I => Action::ToggleHud,
        Key::L => Action::ToggleLatency,
        Key::R => Action::ToggleRerender,
        Key::P => Action::Snapshot,
        Key::E => Action::Export,
        Key::G => Action::Suggest,
        Key::A => Action::ApplySuggestion,
        Key::M => Action::ToggleMel,
        Key::N if shift => Action::FrontendPrev,
        Key::N => Action::FrontendNext,
        Key::Tab => Action::ToggleCompare,
        Key::Key1 => Action::Focus(0),
        Key::Key2 => Action::Focus(1),
        Key::Key3 => Action::Focus(2),
        Key::Key4 => Action::Focus(3),
        Key::Q | Key::Escape => Action::Quit,
    })
}

/// The key table: (keys, what they do). The help overlay and the README show exactly this.
pub const KEY_HELP: [(&str, &str); 26] = [
    ("Up / Down", "n_fft x2 / /2 (win_length follows unless set)"),
    ("Left / Right", "hop /2 / x2"),
    ("W / Shift+W", "next / previous window"),
    (
        "F",
        "frequency scale: linear, log, mel, mel-slaney (mel view: formula)",
    ),
    ("M", "mel view: N bands (--mel N), or back to the spectrum"),
    (
        "N / Shift+N",
        "next / previous model front-end (whisper, yamnet, ...; off)",
    ),
    ("C", "colormap"),
    ("[ / ]", "floor -5 / +5 dB (front-end: 10% of its range)"),
    ("- / =", "ceiling -5 / +5 dB (front-end: 10%)"),
    ("Z / X", "narrow / widen the frequency range"),
    (
        ", / .",
        "screen spans more / less time (1 2 5 10 20 30 60 s)",
    ),
    ("Space", "pause / resume the display (capture goes on)"),
    ("S", "screenshot PNG (path printed)"),
    ("H", "this help"),
    ("I", "show / hide the HUD"),
    ("L", "latency panel: model, measured p50/p95 (10 s), dt, df"),
    ("R", "re-render the history on changes: on / off"),
    ("P", "snapshot: last seconds as WAV + rows .npy + JSON"),
    (
        "E",
        "export: JSON + librosa/torch/tf/keras snippets (front-end: its JSON)",
    ),
    ("G", "suggest n_fft from the last seconds (Renyi entropy)"),
    ("A", "apply the suggested n_fft and hop"),
    (
        "Tab",
        "compare panes: hamming/hann/blackman or --compare; again: one",
    ),
    (
        "1 - 4",
        "focus a pane: the keys above change the focused pane",
    ),
    ("Mouse", "time, frequency, note and level under the cursor"),
    ("Q / Esc", "quit"),
    ("", "every change prints a status line on stdout"),
];
