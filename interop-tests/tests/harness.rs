//! The harness's own guarantees: namespaces and processes are cleaned up on drop and on panic,
//! a fabric's nodes reach each other over IPv4 and IPv6, and waits time out.

use std::path::Path;
use std::time::Duration;

use interop_tests::{require_root, wait_until, Fabric, HarnessError, Netns, Proc};

fn netns_exists(name: &str) -> bool {
    Path::new("/var/run/netns").join(name).exists()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn netns_drop_kills_leftover_processes_and_deletes_namespace() {
    if !require_root("netns_drop_kills_leftover_processes_and_deletes_namespace") {
        return;
    }
    let ns = Netns::new("it-h-drop").expect("netns");
    let name = ns.name().to_owned();
    // A daemonised process that no guard owns: only the namespace guard can end it.
    ns.exec(&["sh", "-c", "sleep 1000 >/dev/null 2>&1 &"])
        .expect("spawn");
    let pids = ns.pids();
    assert_eq!(pids.len(), 1, "one sleep inside {name}: {pids:?}");
    assert!(netns_exists(&name));
    drop(ns);
    assert!(!netns_exists(&name), "{name} still exists");
    wait_until("sleep to be gone", Duration::from_secs(5), || {
        Ok(!pid_alive(pids[0]))
    })
    .expect("leftover process killed");
}

#[test]
fn netns_is_deleted_when_the_test_panics() {
    if !require_root("netns_is_deleted_when_the_test_panics") {
        return;
    }
    let mut name = String::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let ns = Netns::new("it-h-panic").expect("netns");
        name = ns.name().to_owned();
        panic!("deliberate panic with {} alive", ns.name());
    }));
    assert!(result.is_err());
    assert!(!name.is_empty());
    assert!(!netns_exists(&name), "{name} survived the panic");
}

#[test]
fn proc_drop_stops_the_process_and_keeps_logs_until_then() {
    if !require_root("proc_drop_stops_the_process_and_keeps_logs_until_then") {
        return;
    }
    let ns = Netns::new("it-h-proc").expect("netns");
    let mut p = Proc::spawn(
        &ns,
        "echo-sleep",
        &["sh", "-c", "echo hello; exec sleep 1000"],
    )
    .expect("spawn");
    let pid = p.pid();
    wait_until("output", Duration::from_secs(5), || {
        Ok(std::fs::read_to_string(p.stdout_path())
            .map(|s| s.contains("hello"))
            .unwrap_or(false))
    })
    .expect("stdout captured");
    p.check_alive().expect("still running");
    assert!(p.log_tail(5).contains("hello"));
    drop(p);
    assert!(!pid_alive(pid), "pid {pid} survived Proc drop");
}

#[test]
fn proc_reports_early_exit_with_log_tail() {
    if !require_root("proc_reports_early_exit_with_log_tail") {
        return;
    }
    let ns = Netns::new("it-h-exit").expect("netns");
    let mut p = Proc::spawn(
        &ns,
        "fails",
        &["sh", "-c", "echo broken config >&2; exit 3"],
    )
    .expect("spawn");
    let err = wait_until("exit", Duration::from_secs(5), || {
        p.check_alive()?;
        Ok(false)
    })
    .expect_err("process exits");
    let text = err.to_string();
    assert!(text.contains("broken config"), "{text}");
    assert!(text.contains("exit status: 3"), "{text}");
}

const LISTENER: &str = "import socket\n\
s = socket.create_server(('::', 7000), family=socket.AF_INET6, dualstack_ipv6=True)\n\
while True:\n    s.accept()[0].close()\n";

#[test]
fn fabric_nodes_reach_each_other_over_ipv4_and_ipv6() {
    if !require_root("fabric_nodes_reach_each_other_over_ipv4_and_ipv6") {
        return;
    }
    let fab = Fabric::new("it-h-fab", 3).expect("fabric");
    let names: Vec<String> = fab
        .nodes()
        .iter()
        .map(|n| n.ns.name().to_owned())
        .chain([fab.bridge().name().to_owned()])
        .collect();
    let (a, c) = (fab.node(1), fab.node(3));
    assert_eq!(c.v4.to_string(), "10.99.0.3");
    assert_eq!(c.v6.to_string(), "fd99::3");
    // No ping on the test machines: a TCP connect to a listener in node 3 proves the path.
    let server =
        Proc::spawn(&c.ns, "listener", &["/usr/bin/python3", "-c", LISTENER]).expect("listener");
    for dst in [c.v4.to_string(), c.v6.to_string()] {
        let client = format!("import socket; socket.create_connection(('{dst}', 7000), 2).close()");
        wait_until(
            &format!("TCP connect to {dst}"),
            Duration::from_secs(10),
            || Ok(a.exec(&["/usr/bin/python3", "-c", &client]).is_ok()),
        )
        .expect("node 1 reaches node 3");
    }
    drop(server);
    drop(fab);
    for n in names {
        assert!(!netns_exists(&n), "{n} survived Fabric drop");
    }
}

#[test]
fn wait_until_times_out_with_the_last_error() {
    let err = wait_until("never", Duration::from_millis(300), || {
        Err(HarnessError::Timeout {
            what: "inner".into(),
            timeout: Duration::ZERO,
        })
    })
    .expect_err("times out");
    match err {
        HarnessError::Timeout { what, .. } => assert!(what.contains("inner"), "{what}"),
        other => panic!("unexpected error {other}"),
    }
}
