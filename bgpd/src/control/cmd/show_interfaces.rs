//! `show interfaces [summary]` (BIRD 1.6 `if_show`, `if_show_summary`), from the daemon's
//! interface table (links, flags, MTU and addresses as netlink reported them, kept current by
//! [`fib_sync::InterfaceWatch`]).

use std::net::IpAddr;

use crate::control::reply::{code, Framer};
use crate::control::View;

/// One interface as BIRD shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Iface {
    pub name: String,
    pub index: u32,
    pub flags: u32,
    pub mtu: u32,
    /// Address and prefix length.
    pub addrs: Vec<(IpAddr, u8)>,
}

impl Iface {
    fn up(&self) -> bool {
        self.flags & (libc::IFF_UP as u32) != 0
    }
    fn link_up(&self) -> bool {
        self.flags & (libc::IFF_LOWER_UP as u32) != 0
    }
}

fn scope(a: &IpAddr) -> &'static str {
    match a {
        IpAddr::V4(v) if v.is_loopback() => "host",
        IpAddr::V6(v) if v.is_loopback() => "host",
        IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80 => "link",
        _ => "univ",
    }
}

/// The `show interfaces` lines of one interface (without codes), in BIRD's shape.
pub fn lines(i: &Iface) -> Vec<(u16, String)> {
    let f = |bit: i32| i.flags & (bit as u32) != 0;
    let mut v = vec![(
        code::INTERFACE_LIST,
        format!(
            "{} {} (index={})",
            i.name,
            if i.up() { "up" } else { "DOWN" },
            i.index
        ),
    )];
    let kind = if f(libc::IFF_POINTOPOINT) {
        "PtP"
    } else {
        "MultiAccess"
    };
    v.push((
        code::INTERFACE_FLAGS,
        format!(
            "\t{kind}{}{} Admin{} Link{}{} MTU={}",
            if f(libc::IFF_BROADCAST) {
                " Broadcast"
            } else {
                ""
            },
            if f(libc::IFF_MULTICAST) {
                " Multicast"
            } else {
                ""
            },
            if i.up() { "Up" } else { "Down" },
            if i.link_up() { "Up" } else { "Down" },
            if f(libc::IFF_LOOPBACK) {
                " Loopback"
            } else {
                ""
            },
            i.mtu
        ),
    ));
    let mut first = [true, true];
    for (a, len) in &i.addrs {
        let fam = usize::from(a.is_ipv6());
        let kind = if first[fam] { "Primary" } else { "Secondary" };
        first[fam] = false;
        v.push((
            code::INTERFACE_ADDRESS,
            format!("\t{a}/{len} ({kind}, scope {})", scope(a)),
        ));
    }
    v
}

/// The interfaces of the daemon's table ([`fib_sync::InterfaceWatch`]), by index, each with
/// its addresses in the kernel's order.
pub fn from_table(table: &fib_sync::Interfaces) -> Vec<Iface> {
    table
        .links()
        .map(|l| Iface {
            name: l.name.clone(),
            index: l.index,
            flags: l.flags,
            mtu: l.mtu,
            addrs: table
                .addresses(l.index)
                .iter()
                .map(|a| (a.addr(), a.prefix_len()))
                .collect(),
        })
        .collect()
}

/// The interfaces as the daemon's table has them now.
pub fn current(view: &View) -> Vec<Iface> {
    from_table(&view.state.interfaces.borrow())
}

pub fn run(view: &View, summary: bool, f: &mut Framer) {
    let ifaces = current(view);
    if summary {
        f.line(code::INTERFACE_HEADING, "interface state address");
        for i in &ifaces {
            let addr = i
                .addrs
                .first()
                .map(|(a, l)| format!("{a}/{l}"))
                .unwrap_or_default();
            f.line(
                code::INTERFACE_SUMMARY,
                &format!(
                    "{:<9} {:<5} {addr}",
                    i.name,
                    if i.up() { "up" } else { "DOWN" }
                ),
            );
        }
    } else {
        for i in &ifaces {
            for (c, l) in lines(i) {
                f.line(c, &l);
            }
        }
    }
    f.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_lines_look_like_bird() {
        let lo = Iface {
            name: "lo".into(),
            index: 1,
            flags: (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_LOWER_UP) as u32,
            mtu: 65536,
            addrs: vec![
                ("127.0.0.1".parse().unwrap(), 8),
                ("::1".parse().unwrap(), 128),
            ],
        };
        let l: Vec<String> = lines(&lo).into_iter().map(|(_, s)| s).collect();
        assert_eq!(l[0], "lo up (index=1)");
        assert_eq!(l[1], "\tMultiAccess AdminUp LinkUp Loopback MTU=65536");
        assert_eq!(l[2], "\t127.0.0.1/8 (Primary, scope host)");
        assert_eq!(l[3], "\t::1/128 (Primary, scope host)");
    }

    #[tokio::test]
    async fn shows_this_hosts_loopback_from_the_netlink_table() {
        // Reading links and addresses over netlink needs no privilege.
        let watch = fib_sync::InterfaceWatch::start().await.expect("netlink");
        let (mut view, _keep) = crate::control::testing::view_with(&[]);
        crate::control::testing::with_interfaces(&mut view, watch.subscribe());
        let v = current(&view);
        let lo = v.iter().find(|i| i.name == "lo").expect("lo exists");
        assert_eq!(lo.index, 1);
        assert!(lo.flags & libc::IFF_LOOPBACK as u32 != 0);
        assert!(lo
            .addrs
            .iter()
            .any(|(a, l)| a.is_loopback() && (*l == 8 || *l == 128)));
        let mut f = Framer::new();
        run(&view, false, &mut f);
        let t = f.take();
        assert!(t.starts_with("1001-lo up (index=1)\n"), "{t}");
        assert!(
            t.contains("\tMultiAccess AdminUp LinkUp Loopback MTU=65536\n"),
            "{t}"
        );
        assert!(t.ends_with("0000 \n"));
    }
}
