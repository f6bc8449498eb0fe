//! The TUI's state and its one transition function. Pure: no I/O, no clock, no terminal.
//! Keys and worker replies come in as `Msg`s; what should happen outside (queries, the
//! import, quitting) goes out as `Effect`s for `tui` and `worker` to carry out.

pub mod explain;
pub mod filter;
pub mod help;
pub mod keymap;
pub mod msg;
pub mod state;
pub mod update;

pub use keymap::{Action, Context, Keymap};
pub use msg::{Effect, Msg};
pub use state::AppState;
pub use update::{start, update};
