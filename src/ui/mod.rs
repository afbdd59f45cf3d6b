//! The live window: pure key handling and view state, frame composition into a plain
//! pixel buffer (no display needed), and the minifb loop.
//!
//! | module | what |
//! |---|---|
//! | [`keys`], [`input`] | keys → actions; presses as events |
//! | [`state`] | the view state and what each action does to it (pure) |
//! | [`frame`] | rows into panes, and one frame composed into a pixel buffer |
//! | [`pane`] | a pane's band, waterfall and column map; rows into columns |
//! | `overlay`, `labels` | what is drawn over the waterfalls; the texts |
//! | [`hud`] | the HUD's figures and box |
//! | [`timing`] | latency and frame-time measurements |
//! | `effects` | background jobs: snapshot, export, suggest, screenshot, re-render |
//! | [`present`] | the frame to the X server (MIT-SHM or minifb's copy) |
//! | [`window`] | the frame loop |

mod effects;
pub mod frame;
pub mod hud;
pub mod input;
pub mod keys;
mod labels;
mod overlay;
pub mod pane;
pub mod present;
pub mod rerender;
pub mod state;
pub mod timing;
pub mod window;
