//! `show interfaces [summary]` (BIRD 1.6 `if_show`, `if_show_summary`), from the kernel's view
//! at the time of the command: links and flags from `getifaddrs(3)` and `/sys/class/net`,
//! addresses from `getifaddrs(3)`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::control::reply::{code, Framer};

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

fn prefix_len(mask: Option<IpAddr>) -> u8 {
    match mask {
        Some(IpAddr::V4(m)) => u32::from(m).count_ones() as u8,
        Some(IpAddr::V6(m)) => u128::from(m).count_ones() as u8,
        None => 0,
    }
}

fn sys_u32(name: &str, file: &str) -> u32 {
    std::fs::read_to_string(format!("/sys/class/net/{name}/{file}"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Reads a `sockaddr` as an IP address.
#[allow(unsafe_code)]
fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: `sa` is non-null and points into the list `getifaddrs` returned, still alive
    // (freed only after the walk); the family field is read first, then the struct of that
    // family, which the kernel filled in full.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let s = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::from(u32::from_be(s.sin_addr.s_addr).to_be_bytes()))
            }
            libc::AF_INET6 => {
                let s = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::from(s.sin6_addr.s6_addr))
            }
            _ => None,
        }
    }
}

/// The interfaces and addresses the kernel reports now, by index.
#[allow(unsafe_code)]
pub fn read() -> std::io::Result<Vec<Iface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `getifaddrs` writes a list head into `head`; on success the list is freed by
    // `freeifaddrs` below and nothing from it outlives this function.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut by_name: BTreeMap<String, Iface> = BTreeMap::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a non-null node of the list returned above.
        let ifa = unsafe { &*cur };
        // SAFETY: `ifa_name` is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let e = by_name.entry(name.clone()).or_insert_with(|| Iface {
            index: sys_u32(&name, "ifindex"),
            mtu: sys_u32(&name, "mtu"),
            name,
            ..Iface::default()
        });
        e.flags |= ifa.ifa_flags;
        if let Some(a) = sockaddr_ip(ifa.ifa_addr) {
            e.addrs.push((a, prefix_len(sockaddr_ip(ifa.ifa_netmask))));
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `head` came from a successful `getifaddrs` and is freed once.
    unsafe { libc::freeifaddrs(head) };
    let mut v: Vec<Iface> = by_name.into_values().collect();
    v.sort_by_key(|i| i.index);
    Ok(v)
}

pub fn run(summary: bool, f: &mut Framer) {
    let ifaces = match read() {
        Ok(v) => v,
        Err(e) => return f.end(code::RELOAD_FAILED, &format!("Cannot read interfaces: {e}")),
    };
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

    #[test]
    fn reads_this_hosts_loopback() {
        let v = read().expect("getifaddrs");
        let lo = v.iter().find(|i| i.name == "lo").expect("lo exists");
        assert_eq!(lo.index, 1);
        assert!(lo
            .addrs
            .iter()
            .any(|(a, l)| a.is_loopback() && *l == 8 || *l == 128));
        let mut f = Framer::new();
        run(false, &mut f);
        let t = f.take();
        assert!(t.starts_with("1001-"), "{t}");
        assert!(t.ends_with("0000 \n"));
    }
}
