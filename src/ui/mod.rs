//! The live window: pure key handling and view state, and the minifb loop.

pub mod input;
pub mod keys;
pub mod present;
pub mod rerender;
pub mod state;
pub mod window;
