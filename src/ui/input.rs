//! Key presses as events, not levels.
//!
//! minifb keeps one "is down" level per key and compares it once per frame, so a
//! press and its release that both land between two frames (a quick tap while a
//! frame is slow: a loaded machine, a big re-render) would never be seen. Instead,
//! minifb's input callback records every press edge, in order, with the Shift state
//! of that instant; the UI loop takes them once per frame. Auto-repeat of a held
//! key is ignored (a press while the key is already down), as before.
//!
//! Thread ownership: the UI thread only (minifb calls the callback from
//! `Window::update` on the thread that owns the window).

use std::cell::RefCell;
use std::rc::Rc;

use super::keys::{Key, ALL_KEYS};

/// Presses held between two frames; more are counted as dropped (a person cannot
/// type 64 keys in one frame, so this only guards the fixed-size store).
pub const MAX_PRESSES: usize = 64;

/// minifb's keys are `repr(u8)` with contiguous discriminants `0..=Key::Count`.
const KEY_COUNT: usize = minifb::Key::Count as usize + 1;

/// One key press: the key and whether Shift was down when it was pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Press {
    /// The key.
    pub key: Key,
    /// Shift held at the press.
    pub shift: bool,
}

/// The presses of one frame, in the order they happened (no allocation).
#[derive(Clone, Copy, Debug)]
pub struct Presses {
    items: [Press; MAX_PRESSES],
    len: usize,
}

impl Presses {
    const EMPTY: Press = Press {
        key: Key::Escape,
        shift: false,
    };

    fn new() -> Self {
        Self {
            items: [Self::EMPTY; MAX_PRESSES],
            len: 0,
        }
    }

    /// The presses, oldest first.
    pub fn as_slice(&self) -> &[Press] {
        &self.items[..self.len]
    }
}

/// What the callback has recorded since the last [`KeyEvents::take`].
#[derive(Debug)]
struct Recorded {
    presses: Presses,
    /// Keys down now (for ignoring auto-repeat), indexed by `minifb::Key as usize`.
    down: [bool; KEY_COUNT],
    left_shift: bool,
    right_shift: bool,
    dropped: u64,
}

impl Recorded {
    fn record(&mut self, key: minifb::Key, is_down: bool) {
        match key {
            minifb::Key::LeftShift => self.left_shift = is_down,
            minifb::Key::RightShift => self.right_shift = is_down,
            _ => {}
        }
        let Some(slot) = self.down.get_mut(key as usize) else {
            return;
        };
        let was_down = std::mem::replace(slot, is_down);
        if !is_down || was_down {
            return;
        }
        let Some(key) = from_minifb(key) else {
            return;
        };
        let presses = &mut self.presses;
        if presses.len == MAX_PRESSES {
            self.dropped += 1;
            return;
        }
        presses.items[presses.len] = Press {
            key,
            shift: self.left_shift || self.right_shift,
        };
        presses.len += 1;
    }
}

/// The UI loop's end of the key recorder.
#[derive(Debug)]
pub struct KeyEvents {
    recorded: Rc<RefCell<Recorded>>,
}

/// minifb's end: the window owns it and calls it from `update`.
struct Recorder {
    recorded: Rc<RefCell<Recorded>>,
}

impl minifb::InputCallback for Recorder {
    fn add_char(&mut self, _uni_char: u32) {}

    fn set_key_state(&mut self, key: minifb::Key, state: bool) {
        self.recorded.borrow_mut().record(key, state);
    }
}

impl KeyEvents {
    /// Installs the recorder on `window` (replacing any input callback).
    pub fn install(window: &mut minifb::Window) -> Self {
        let events = Self::detached();
        window.set_input_callback(Box::new(Recorder {
            recorded: Rc::clone(&events.recorded),
        }));
        events
    }

    fn detached() -> Self {
        Self {
            recorded: Rc::new(RefCell::new(Recorded {
                presses: Presses::new(),
                down: [false; KEY_COUNT],
                left_shift: false,
                right_shift: false,
                dropped: 0,
            })),
        }
    }

    /// The presses since the last call, oldest first.
    pub fn take(&self) -> Presses {
        let mut recorded = self.recorded.borrow_mut();
        std::mem::replace(&mut recorded.presses, Presses::new())
    }

    /// Presses dropped because more than [`MAX_PRESSES`] came in one frame.
    pub fn dropped(&self) -> u64 {
        self.recorded.borrow().dropped
    }
}

/// The hopscope key of a minifb key (`None`: not one we listen to).
fn from_minifb(key: minifb::Key) -> Option<Key> {
    ALL_KEYS.into_iter().find(|&ours| to_minifb(ours) == key)
}

/// The minifb key of each of ours (exhaustive, so a new key cannot be forgotten).
fn to_minifb(key: Key) -> minifb::Key {
    match key {
        Key::Up => minifb::Key::Up,
        Key::Down => minifb::Key::Down,
        Key::Left => minifb::Key::Left,
        Key::Right => minifb::Key::Right,
        Key::W => minifb::Key::W,
        Key::F => minifb::Key::F,
        Key::C => minifb::Key::C,
        Key::LeftBracket => minifb::Key::LeftBracket,
        Key::RightBracket => minifb::Key::RightBracket,
        Key::Minus => minifb::Key::Minus,
        Key::Equal => minifb::Key::Equal,
        Key::Z => minifb::Key::Z,
        Key::X => minifb::Key::X,
        Key::Comma => minifb::Key::Comma,
        Key::Period => minifb::Key::Period,
        Key::Space => minifb::Key::Space,
        Key::S => minifb::Key::S,
        Key::H => minifb::Key::H,
        Key::I => minifb::Key::I,
        Key::L => minifb::Key::L,
        Key::R => minifb::Key::R,
        Key::P => minifb::Key::P,
        Key::E => minifb::Key::E,
        Key::G => minifb::Key::G,
        Key::A => minifb::Key::A,
        Key::M => minifb::Key::M,
        Key::N => minifb::Key::N,
        Key::Tab => minifb::Key::Tab,
        Key::Key1 => minifb::Key::Key1,
        Key::Key2 => minifb::Key::Key2,
        Key::Key3 => minifb::Key::Key3,
        Key::Key4 => minifb::Key::Key4,
        Key::Q => minifb::Key::Q,
        Key::Escape => minifb::Key::Escape,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(events: &KeyEvents, key: minifb::Key, down: bool) {
        events.recorded.borrow_mut().record(key, down);
    }

    #[test]
    fn a_tap_between_two_frames_is_one_press() {
        let events = KeyEvents::detached();
        // M tapped twice and F once, all before the next frame.
        for key in [minifb::Key::M, minifb::Key::M, minifb::Key::F] {
            feed(&events, key, true);
            feed(&events, key, false);
        }
        let keys: Vec<Key> = events.take().as_slice().iter().map(|p| p.key).collect();
        assert_eq!(keys, [Key::M, Key::M, Key::F]);
        assert!(events.take().as_slice().is_empty());
    }

    #[test]
    fn auto_repeat_is_ignored_and_shift_is_taken_at_the_press() {
        let events = KeyEvents::detached();
        feed(&events, minifb::Key::Up, true);
        feed(&events, minifb::Key::Up, true); // auto-repeat
        feed(&events, minifb::Key::Up, false);
        feed(&events, minifb::Key::RightShift, true);
        feed(&events, minifb::Key::Tab, true);
        feed(&events, minifb::Key::RightShift, false);
        feed(&events, minifb::Key::Tab, false);
        feed(&events, minifb::Key::NumPad7, true); // not ours
        let presses = events.take();
        assert_eq!(
            presses.as_slice(),
            [
                Press {
                    key: Key::Up,
                    shift: false
                },
                Press {
                    key: Key::Tab,
                    shift: true
                }
            ]
        );
    }

    #[test]
    fn presses_beyond_the_store_are_counted() {
        let events = KeyEvents::detached();
        for _ in 0..MAX_PRESSES + 3 {
            feed(&events, minifb::Key::Z, true);
            feed(&events, minifb::Key::Z, false);
        }
        assert_eq!(events.take().as_slice().len(), MAX_PRESSES);
        assert_eq!(events.dropped(), 3);
    }
}
