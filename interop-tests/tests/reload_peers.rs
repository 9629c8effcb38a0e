//! Live reload with real peers: our bgpd on node 1 (AS 64512) with GoBGP 3.10 on node 2 and
//! FRR 8.4 on node 3 (iBGP), and FRR on node 4 for a neighbor added and removed by reload.
//!
//! - 100 reloads, alternating SIGHUP and `configure` on the control socket, each changing only a
//!   description: no session flaps, checked on the PEERS' side (FRR `connectionsEstablished` /
//!   `connectionsDropped` / established epoch; GoBGP `flops` / uptime) and on ours;
//! - a broken file on `configure` is answered `8002 FILE, line N: ...` and on SIGHUP is logged;
//!   the sessions stay up and the running configuration stays;
//! - adding a neighbor by reload starts only that session; removing it sends Cease / Peer
//!   De-configured (6/3) to that peer only;
//! - a changed remote AS resets only that neighbor (Cease / Other Configuration Change, 6/6);
//! - a block (and its pool) added by reload is announced to both peers, a BGPFilter added to
//!   one neighbor by the next reload withdraws it from that peer only, and the last reload
//!   withdraws it from both, without a session reset (the RIB actor's `Reconfigure`).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::{require_root, wait_until, Fabric, Frr, Gobgp};

const AS: u32 = 64512;
const UP: Duration = Duration::from_secs(60);
const RELOADS: usize = 100;

fn frr_conf(id: &str) -> String {
    format!(
        "hostname frr\nlog stdout informational\nrouter bgp {AS}\n bgp router-id {id}\n \
         no bgp ebgp-requires-policy\n neighbor 10.99.0.1 remote-as {AS}\n \
         neighbor 10.99.0.1 timers 3 9\n neighbor 10.99.0.1 timers connect 2\n"
    )
}

fn gobgp_conf() -> String {
    format!(
        "[global.config]\n  as = {AS}\n  router-id = \"10.99.0.2\"\n  \
         local-address-list = [\"10.99.0.2\"]\n\
         [[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"10.99.0.1\"\n    \
         peer-as = {AS}\n  [neighbors.timers.config]\n    connect-retry = 2\n    \
         hold-time = 9\n    keepalive-interval = 3\n  [[neighbors.afi-safis]]\n    \
         [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n"
    )
}

/// One control-socket exchange: the reply lines after the greeting, up to the final one.
fn control(sock: &Path, cmd: &str) -> Vec<String> {
    let s = UnixStream::connect(sock).expect("control socket");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    w.write_all(format!("{cmd}\n").as_bytes()).expect("write");
    let mut r = BufReader::new(s);
    let mut out = Vec::new();
    let mut greeted = false;
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).expect("read") == 0 {
            break;
        }
        let l = l.trim_end_matches('\n').to_owned();
        let last = l.len() >= 5
            && l.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && l.as_bytes()[4] == b' ';
        if greeted {
            out.push(l);
            if last {
                break;
            }
        } else if last {
            greeted = true;
        }
    }
    out
}

/// FRR's counters for its session to us: (established, dropped, established epoch).
fn frr_counters(frr: &Frr) -> (u64, u64, u64) {
    let v = frr
        .vtysh_json("show bgp neighbors 10.99.0.1 json")
        .expect("frr json");
    let n = &v["10.99.0.1"];
    (
        n["connectionsEstablished"].as_u64().unwrap_or(0),
        n["connectionsDropped"].as_u64().unwrap_or(0),
        n["bgpTimerUpEstablishedEpoch"].as_u64().unwrap_or(0),
    )
}

/// FRR's view unchanged: same connection counts, established epoch within a second (FRR
/// computes it as now − uptime, so it jitters by one).
fn assert_frr_same(now: (u64, u64, u64), before: (u64, u64, u64), what: &str) {
    assert_eq!(
        (now.0, now.1),
        (before.0, before.1),
        "FRR connection counters: {what}"
    );
    assert!(
        now.2.abs_diff(before.2) <= 1,
        "FRR session restarted: {what}: {now:?} vs {before:?}"
    );
}

/// GoBGP's counters for its session to us: (flops, uptime seconds as of the epoch).
fn gobgp_counters(g: &Gobgp<'_>) -> (u64, i64) {
    let v = g
        .gobgp_json(&["neighbor", "10.99.0.1"])
        .expect("gobgp json");
    let flops = v["state"]["flops"].as_u64().unwrap_or(0);
    let up = v["timers"]["state"]["uptime"]["seconds"]
        .as_i64()
        .unwrap_or(0);
    (flops, up)
}

fn sighup(bgpd: &mut Bgpd) {
    let pid = bgpd.proc().pid().to_string();
    let st = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill");
    assert!(st.success());
}

/// Inserts `line` into neighbor `name`'s table of the generated configuration.
fn with_line(base: &str, name: &str, line: &str) -> String {
    let anchor = format!("name = \"{name}\"\n");
    assert!(base.contains(&anchor), "{name} in the configuration");
    base.replacen(&anchor, &format!("{anchor}{line}\n"), 1)
}

#[test]
fn reloads_do_not_flap_unchanged_sessions() {
    if !require_root("reloads_do_not_flap_unchanged_sessions") {
        return;
    }
    let fab = Fabric::new("rld", 4).expect("fabric");
    let g = Gobgp::start(&fab.node(2).ns, &gobgp_conf()).expect("gobgp starts");
    let frr = Frr::start(&fab.node(3).ns, &frr_conf("10.99.0.3")).expect("frr starts");
    let frr4 = Frr::start(&fab.node(4).ns, &frr_conf("10.99.0.4")).expect("frr 4 starts");
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: AS,
        listen: vec!["10.99.0.1".into()],
        neighbors: vec![
            BgpdNeighbor::new("Mesh_10_99_0_2", "10.99.0.2", AS),
            BgpdNeighbor::new("Mesh_10_99_0_3", "10.99.0.3", AS),
        ],
    };
    let mut bgpd = Bgpd::start(&fab.node(1).ns, &config).expect("our bgpd starts");
    let sock = bgpd.dir().join("bgpd.ctl");
    let conf = bgpd.dir().join("bgpd.toml");
    let base = std::fs::read_to_string(&conf).expect("config");
    bgpd.wait_established("10.99.0.2", UP).expect("GoBGP up");
    bgpd.wait_established("10.99.0.3", UP).expect("FRR up");
    g.wait_established("10.99.0.1", UP).expect("GoBGP sees us");
    frr.wait_established("10.99.0.1", UP).expect("FRR sees us");
    let frr_before = frr_counters(&frr);
    let gobgp_before = gobgp_counters(&g);
    eprintln!("peers before: FRR {frr_before:?}, GoBGP {gobgp_before:?}");
    eprintln!(
        "GoBGP neighbor JSON: {}",
        g.gobgp(&["neighbor", "10.99.0.1", "-j"])
            .unwrap_or_default()
    );

    // 100 description-only reloads, alternating SIGHUP and `configure`.
    let t0 = Instant::now();
    for i in 0..RELOADS {
        let text = with_line(
            &base,
            "Mesh_10_99_0_2",
            &format!("description = \"reload {i}\""),
        );
        std::fs::write(&conf, text).expect("write config");
        if i % 2 == 0 {
            sighup(&mut bgpd);
            let want = i + 1;
            wait_until("SIGHUP reload applied", Duration::from_secs(10), || {
                Ok(bgpd.events("reconfigured", None).len() >= want)
            })
            .expect("reload via SIGHUP");
        } else {
            let r = control(&sock, "configure");
            assert_eq!(
                r.last().map(String::as_str),
                Some("0003 Reconfigured"),
                "{r:?}"
            );
            assert!(
                r[0].starts_with("0002-Reading configuration from "),
                "{r:?}"
            );
        }
    }
    eprintln!("{RELOADS} reloads in {:?}", t0.elapsed());
    assert_eq!(bgpd.events("reconfigured", None).len(), RELOADS);
    // The new description is visible on the control socket.
    let detail = control(&sock, "show protocols all Mesh_10_99_0_2");
    assert!(
        detail
            .iter()
            .any(|l| l.contains(&format!("reload {}", RELOADS - 1))),
        "{detail:?}"
    );
    // A keepalive round later, nothing moved on either peer.
    std::thread::sleep(Duration::from_secs(4));
    assert_frr_same(frr_counters(&frr), frr_before, "after 100 reloads");
    let (flops, _) = gobgp_counters(&g);
    assert_eq!(flops, gobgp_before.0, "GoBGP saw no flap");
    let (_, up_now) = gobgp_counters(&g);
    assert!(
        up_now.abs_diff(gobgp_before.1) <= 1,
        "GoBGP's session start time stayed"
    );
    assert_eq!(bgpd.events("established", Some("10.99.0.2")).len(), 1);
    assert_eq!(bgpd.events("established", Some("10.99.0.3")).len(), 1);

    // A broken file: answered with file and line, nothing changes.
    let broken = format!("{base}\nbogus_key = 1\n");
    std::fs::write(&conf, &broken).expect("write broken");
    let line = broken.lines().count();
    let r = control(&sock, "configure");
    eprintln!("configure with a broken file: {r:?}");
    let want = format!("8002 {}, line {line}: ", conf.display());
    assert!(
        r.last().is_some_and(|l| l.starts_with(&want)),
        "{r:?} ~ {want}"
    );
    sighup(&mut bgpd);
    wait_until("SIGHUP reload rejected", Duration::from_secs(10), || {
        Ok(!bgpd.events("reload_failed", None).is_empty())
    })
    .expect("failed reload logged");
    assert_eq!(bgpd.events("reconfigured", None).len(), RELOADS);
    std::thread::sleep(Duration::from_secs(2));
    assert_frr_same(frr_counters(&frr), frr_before, "unrelated reload");
    assert_eq!(gobgp_counters(&g).0, gobgp_before.0);

    // Add a neighbor (FRR on node 4): only that session starts.
    let added = format!(
        "{base}\n[[neighbors]]\nname = \"Mesh_10_99_0_4\"\naddress = \"10.99.0.4\"\n\
         remote_as = {AS}\nhold_time = 9\nkeepalive_time = 3\nconnect_delay_time = 1\n\
         connect_retry_time = 2\nerror_wait_min = 1\nerror_wait_max = 4\n"
    );
    std::fs::write(&conf, &added).expect("write");
    assert_eq!(
        control(&sock, "configure").last().map(String::as_str),
        Some("0003 Reconfigured")
    );
    frr4.wait_established("10.99.0.1", UP)
        .expect("added neighbor up");
    bgpd.wait_established("10.99.0.4", UP)
        .expect("we see it up");
    let rows = control(&sock, "show protocols");
    assert!(
        rows.iter().any(|l| l.contains("Mesh_10_99_0_4")),
        "{rows:?}"
    );
    assert_frr_same(frr_counters(&frr), frr_before, "unrelated reload");
    assert_eq!(gobgp_counters(&g).0, gobgp_before.0);

    // Remove it again: Cease / Peer De-configured to that peer only.
    std::fs::write(&conf, &base).expect("write");
    sighup(&mut bgpd);
    wait_until("FRR 4 to see the Cease", UP, || {
        Ok(frr4.bgp_state("10.99.0.1")?.as_deref() != Some("Established"))
    })
    .expect("removed neighbor down");
    let sent = bgpd.events("notification_sent", Some("10.99.0.4"));
    assert!(
        sent.iter()
            .any(|v| v["fields"]["code"] == 6 && v["fields"]["subcode"] == 3),
        "Cease 6/3 sent: {sent:?}"
    );
    let rows = control(&sock, "show protocols");
    assert!(
        !rows.iter().any(|l| l.contains("Mesh_10_99_0_4")),
        "{rows:?}"
    );
    let frr4_view = frr4
        .vtysh("show bgp neighbors 10.99.0.1")
        .unwrap_or_default();
    eprintln!("FRR 4 after removal:\n{frr4_view}");
    assert_frr_same(frr_counters(&frr), frr_before, "unrelated reload");
    assert_eq!(gobgp_counters(&g).0, gobgp_before.0);

    // A changed remote AS resets only that neighbor (GoBGP), with Cease 6/6.
    let wrong_as = base.replacen(
        "name = \"Mesh_10_99_0_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\n",
        "name = \"Mesh_10_99_0_2\"\naddress = \"10.99.0.2\"\nremote_as = 65099\n",
        1,
    );
    assert_ne!(wrong_as, base);
    std::fs::write(&conf, &wrong_as).expect("write");
    assert_eq!(
        control(&sock, "configure").last().map(String::as_str),
        Some("0003 Reconfigured")
    );
    wait_until("GoBGP to see the reset", UP, || {
        Ok(g.session_state("10.99.0.1")? != Some(6))
    })
    .expect("GoBGP session reset");
    let sent = bgpd.events("notification_sent", Some("10.99.0.2"));
    assert!(
        sent.iter()
            .any(|v| v["fields"]["code"] == 6 && v["fields"]["subcode"] == 6),
        "Cease 6/6 sent: {sent:?}"
    );
    // Back to the right AS: the session returns; FRR never noticed.
    std::fs::write(&conf, &base).expect("write");
    sighup(&mut bgpd);
    g.wait_established("10.99.0.1", UP).expect("GoBGP back");
    bgpd.wait_established("10.99.0.2", UP)
        .expect("we see GoBGP back");
    let after = gobgp_counters(&g);
    eprintln!("GoBGP after the AS change and back: {after:?} (before {gobgp_before:?})");
    assert!(after.1 > gobgp_before.1 + 1, "GoBGP's session restarted");
    assert_frr_same(
        frr_counters(&frr),
        frr_before,
        "AS change of another neighbor",
    );
    assert_eq!(bgpd.events("established", Some("10.99.0.3")).len(), 1);

    // Routing policy: a block and a pool added by reload are announced to both peers, and
    // withdrawn by the next reload, without any session reset.
    let gobgp_mark = gobgp_counters(&g);
    let frr_mark = frr_counters(&frr);
    let with_block = format!(
        "local_blocks = [\"10.64.1.0/26\"]\nip_pools = [{{ cidr = \"10.64.0.0/16\" }}]\n{base}"
    );
    std::fs::write(&conf, &with_block).expect("write");
    assert_eq!(
        control(&sock, "configure").last().map(String::as_str),
        Some("0003 Reconfigured")
    );
    wait_until("FRR to learn the block", UP, || {
        Ok(frr.vtysh("show ip bgp 10.64.1.0/26")?.contains("10.99.0.1"))
    })
    .expect("block reaches FRR");
    wait_until("GoBGP to learn the block", UP, || {
        Ok(g.gobgp(&["global", "rib"])?.contains("10.64.1.0/26"))
    })
    .expect("block reaches GoBGP");
    // A BGPFilter on the GoBGP neighbor rejecting the block: GoBGP loses it, FRR keeps it.
    let filtered = with_line(
        &format!(
            "filters = [{{ name = \"nogo\", export_v4 = [{{ cidr = \"10.64.0.0/16\", \
             match_operator = \"In\", action = \"Reject\" }}] }}]\n{with_block}"
        ),
        "Mesh_10_99_0_2",
        "filters = [\"nogo\"]",
    );
    std::fs::write(&conf, &filtered).expect("write");
    sighup(&mut bgpd);
    wait_until("GoBGP to lose the filtered block", UP, || {
        Ok(!g.gobgp(&["global", "rib"])?.contains("10.64.1.0/26"))
    })
    .expect("export filter reaches GoBGP");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        frr.vtysh("show ip bgp 10.64.1.0/26")
            .expect("vtysh")
            .contains("10.99.0.1"),
        "FRR keeps the block"
    );
    std::fs::write(&conf, &base).expect("write");
    sighup(&mut bgpd);
    wait_until("FRR to lose the block", UP, || {
        Ok(!frr.vtysh("show ip bgp 10.64.1.0/26")?.contains("10.99.0.1"))
    })
    .expect("withdrawal reaches FRR");
    wait_until("GoBGP to lose the block", UP, || {
        Ok(!g.gobgp(&["global", "rib"])?.contains("10.64.1.0/26"))
    })
    .expect("withdrawal reaches GoBGP");
    assert_frr_same(frr_counters(&frr), frr_mark, "policy reloads");
    let now = gobgp_counters(&g);
    assert!(
        now.1.abs_diff(gobgp_mark.1) <= 1,
        "GoBGP session kept: {now:?} vs {gobgp_mark:?}"
    );
    assert_eq!(bgpd.events("established", Some("10.99.0.3")).len(), 1);
}

/// TCP-MD5 by reload (we are passive, so the listener's per-neighbor key is what counts):
/// without a key FRR (which requires one) cannot connect; a reload adding the key brings the
/// session up; a reload removing it resets the session and removes the key from the listener,
/// so FRR's signed connections are dropped again.
#[test]
fn reload_adds_and_removes_the_md5_key() {
    if !require_root("reload_adds_and_removes_the_md5_key") {
        return;
    }
    let fab = Fabric::new("rmd5", 2).expect("fabric");
    let frr_text = format!(
        "{}neighbor 10.99.0.1 password s3cret\n",
        frr_conf("10.99.0.2")
    )
    .replace(
        "neighbor 10.99.0.1 password",
        " neighbor 10.99.0.1 password",
    );
    let frr = Frr::start(&fab.node(2).ns, &frr_text).expect("frr starts");
    let mut n = BgpdNeighbor::new("Mesh_10_99_0_2", "10.99.0.2", AS);
    n.passive = true;
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: AS,
        listen: vec!["10.99.0.1".into()],
        neighbors: vec![n],
    };
    let bgpd = Bgpd::start(&fab.node(1).ns, &config).expect("our bgpd starts");
    let sock = bgpd.dir().join("bgpd.ctl");
    let conf = bgpd.dir().join("bgpd.toml");
    let base = std::fs::read_to_string(&conf).expect("config");
    std::thread::sleep(Duration::from_secs(6));
    assert_ne!(bgpd.state("10.99.0.2"), "Established", "no key: no session");

    let key = bgpd.dir().join("Mesh_10_99_0_2.key");
    std::fs::write(&key, "s3cret\n").expect("key");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("0600");
    }
    let with_key = with_line(
        &base,
        "Mesh_10_99_0_2",
        &format!("password_file = \"{}\"", key.display()),
    );
    std::fs::write(&conf, &with_key).expect("write");
    assert_eq!(
        control(&sock, "configure").last().map(String::as_str),
        Some("0003 Reconfigured")
    );
    frr.wait_established("10.99.0.1", UP)
        .expect("FRR connects with the key");
    bgpd.wait_established("10.99.0.2", UP)
        .expect("we see it up");

    std::fs::write(&conf, &base).expect("write");
    assert_eq!(
        control(&sock, "configure").last().map(String::as_str),
        Some("0003 Reconfigured")
    );
    wait_until("FRR to see the reset", UP, || {
        Ok(frr.bgp_state("10.99.0.1")?.as_deref() != Some("Established"))
    })
    .expect("session reset");
    let sent = bgpd.events("notification_sent", Some("10.99.0.2"));
    assert!(
        sent.iter()
            .any(|v| v["fields"]["code"] == 6 && v["fields"]["subcode"] == 6),
        "Cease 6/6 sent: {sent:?}"
    );
    // FRR keeps trying with its key every 2 s; the listener no longer has one.
    std::thread::sleep(Duration::from_secs(8));
    assert_ne!(
        frr.bgp_state("10.99.0.1").ok().flatten().as_deref(),
        Some("Established"),
        "the key is gone from our listener"
    );
}
