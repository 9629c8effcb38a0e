//! The protocols other than BGP in `show protocols`: `kernel1`, `device1`, `direct1`,
//! `static1`.

use std::time::SystemTime;

use super::{gr_recovery_line, row};
use crate::control::cmd::show_interfaces;
use crate::control::direct;
use crate::control::parse::{pattern_match, Target};
use crate::control::state::View;
use crate::control::time;
use crate::route_view::{RouteFilter, RouteReply};

/// The protocols other than BGP that exist in this daemon, in BIRD's order (Calico's
/// `bird.cfg`: kernel, device, direct, static). `kernel1` and `device1` are the FIB task (routes
/// to the kernel; fib-sync tracks links and addresses), present only when kernel writes are
/// on; `direct1` shows the device routes of the node's addresses ([`crate::control::direct`]);
/// `static1` originates our own blocks (the RIB actor, always there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Kernel,
    Device,
    Direct,
    Static,
}

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Kernel => "kernel1",
            Builtin::Device => "device1",
            Builtin::Direct => direct::NAME,
            Builtin::Static => "static1",
        }
    }

    fn proto(self) -> &'static str {
        match self {
            Builtin::Kernel => "Kernel",
            Builtin::Device => "Device",
            Builtin::Direct => "Direct",
            Builtin::Static => "Static",
        }
    }

    /// The ones this view has.
    pub fn present(view: &View) -> Vec<Builtin> {
        let mut v = Vec::new();
        if view.state.kernel.is_some() {
            v.push(Builtin::Kernel);
            v.push(Builtin::Device);
        }
        v.push(Builtin::Direct);
        v.push(Builtin::Static);
        v
    }

    /// `proto_state_name`: `wait` for the kernel protocol while graceful-restart recovery
    /// defers the kernel reconciliation, else `up`.
    fn state(self, view: &View) -> &'static str {
        match (self, &view.state.kernel) {
            (Builtin::Kernel, Some(k)) if k.recovering() || view.state.recovering().is_some() => {
                "wait"
            }
            _ => "up",
        }
    }

    fn since(self, view: &View) -> SystemTime {
        match (self, &view.state.kernel) {
            (Builtin::Kernel | Builtin::Device, Some(k)) => k.since,
            _ => view.state.boot,
        }
    }

    pub(super) fn row(self, view: &View, now: SystemTime) -> String {
        row(
            self.name(),
            self.proto(),
            "master",
            self.state(view),
            &time::short(self.since(view), now),
            "",
        )
    }

    /// `proto_show_basic_info`: preference (BIRD's defaults: kernel 10, device 240, static
    /// 200), the filters, and the route counts where we keep them per family.
    pub(super) fn details(self, view: &View) -> Vec<String> {
        let mut d = Vec::new();
        let (pref, output) = match self {
            Builtin::Kernel => (10, "(unnamed)"),
            Builtin::Device => (240, "REJECT"),
            Builtin::Direct => (direct::PREFERENCE, "REJECT"),
            Builtin::Static => (200, "REJECT"),
        };
        d.push(format!("  Preference:     {pref}"));
        d.push("  Input filter:   ACCEPT".into());
        d.push(format!("  Output filter:  {output}"));
        if view.state.recovering().is_some() {
            // Only the kernel protocol waits for the end of the recovery (BIRD: `kernel` with
            // `graceful restart`, as Calico configures it).
            d.push(gr_recovery_line(false, self == Builtin::Kernel));
        }
        match self {
            // The FIB task counts kernel routes for both families together: no per-family
            // line rather than a wrong one.
            Builtin::Kernel => {}
            Builtin::Device => {
                d.push("  Routes:         0 imported, 0 exported, 0 preferred".into());
            }
            Builtin::Direct => {
                let n = direct::routes(
                    &show_interfaces::current(view),
                    view.family,
                    view.state.boot,
                    view.state.direct_interfaces.as_deref(),
                )
                .len();
                d.push(format!(
                    "  Routes:         {n} imported, 0 exported, {n} preferred"
                ));
            }
            Builtin::Static => {
                let count = view.routes(RouteFilter {
                    protocol: Some(self.name().to_string()),
                    count: true,
                    ..Default::default()
                });
                if let Ok(RouteReply::Count {
                    routes, primary, ..
                }) = count
                {
                    d.push(format!(
                        "  Routes:         {routes} imported, 0 exported, {primary} preferred"
                    ));
                }
            }
        }
        d
    }
}

/// The non-BGP protocols a target selects.
pub(super) fn select_builtins(view: &View, target: Option<&Target>) -> Vec<Builtin> {
    Builtin::present(view)
        .into_iter()
        .filter(|b| match target {
            None | Some(Target::All) => true,
            Some(Target::Name(n)) => n == b.name(),
            Some(Target::Pattern(pat)) => pattern_match(pat, b.name()),
        })
        .collect()
}
