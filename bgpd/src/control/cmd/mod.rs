//! One module per command; each writes its whole reply into a [`Framer`].

pub mod configure;
pub mod down;
pub mod enable_disable;
pub mod reload;
pub mod show_bfd;
pub mod show_interfaces;
pub mod show_memory;
pub mod show_protocols;
pub mod show_route;
pub mod show_status;

use std::time::SystemTime;

use super::parse::{Command, ParseError};
use super::reply::{code, Framer};
use super::state::View;

/// What the connection does after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    /// `down` was served: the daemon is stopping.
    ShuttingDown,
}

/// Parses and runs one command line.
pub fn execute(line: &str, view: &View, now: SystemTime, f: &mut Framer) -> After {
    match super::parse::parse(line) {
        Ok(cmd) => run(cmd, view, now, f),
        Err(e) => {
            parse_error(&e, f);
            After::Continue
        }
    }
}

fn parse_error(e: &ParseError, f: &mut Framer) {
    f.end(code::PARSE_ERROR, &e.to_string());
}

fn run(cmd: Command, view: &View, now: SystemTime, f: &mut Framer) -> After {
    match cmd {
        Command::ShowStatus => show_status::run(view, now, f),
        Command::ShowProtocols { all, target } => {
            show_protocols::run(view, all, target.as_ref(), now, f)
        }
        Command::ShowRoute(q) => show_route::run(view, &q, now, f),
        Command::ShowInterfaces { summary } => show_interfaces::run(view, summary, f),
        Command::ShowMemory => show_memory::run(f),
        Command::ShowBfdSessions => show_bfd::run(view, now, f),
        Command::Configure { check, file } => configure::run(view, check, file.as_deref(), f),
        Command::Enable(t) => enable_disable::run(view, enable_disable::Action::Enable, &t, f),
        Command::Disable(t) => enable_disable::run(view, enable_disable::Action::Disable, &t, f),
        Command::Restart(t) => enable_disable::run(view, enable_disable::Action::Restart, &t, f),
        Command::Reload { direction, target } => reload::run(view, direction, &target, f),
        Command::Down => return down::run(view, f),
    }
    After::Continue
}
