//! How long N routes take to cross a route reflector, ours against BIRD 2.0.12 in the same
//! run: a BIRD client (node 2) announces N /26s in 10.0.0.0/8 (static routes), the reflector
//! (node 1) passes them to an FRR 8.4 client (node 3); the clock runs from the source BIRD's
//! start until FRR counts N prefixes from the reflector. Prints times and the reflector's
//! memory (VmRSS before, VmHWM after); asserts only that every route arrives. `ROUTES_N` sets N
//! (default 20000). Our daemon is the build under test (debug unless `--release`).

mod routes_common;

use std::time::{Duration, Instant};

use interop_tests::{require_root, wait_until, Bird, Fabric, Frr};
use routes_common as rc;

const AS: u32 = 64512;

fn n() -> usize {
    std::env::var("ROUTES_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn source_conf(n: usize) -> String {
    let statics: Vec<String> = (0..n)
        .map(|i| format!("10.{}.{}.{}/26", i / 1024 % 256, i / 4 % 256, i % 4 * 64))
        .collect();
    let refs: Vec<&str> = statics.iter().map(String::as_str).collect();
    rc::bird_conf(
        "10.99.0.2",
        &refs,
        &[("up", "10.99.0.2", AS, "10.99.0.1", AS)],
    )
}

fn frr_client() -> String {
    rc::frr_conf(AS, "10.99.0.3", &[("10.99.0.1", AS, "")], &[])
}

fn vm_hwm_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn vm_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn frr_count(frr: &Frr) -> u64 {
    frr.vtysh_json("show bgp ipv4 unicast summary json")
        .ok()
        .and_then(|v| v["peers"]["10.99.0.1"]["pfxRcd"].as_u64())
        .unwrap_or(0)
}

/// Starts the source, waits for FRR to count `n`; returns the time taken.
fn run(fabric: &Fabric, frr: &Frr, n: usize) -> Duration {
    let t0 = Instant::now();
    let _source = Bird::start(&fabric.node(2).ns, &source_conf(n)).expect("source bird");
    wait_until(
        &format!("FRR to count {n} routes from the reflector"),
        Duration::from_secs(120),
        || Ok(frr_count(frr) >= n as u64),
    )
    .unwrap_or_else(|e| panic!("{e}: FRR has {}", frr_count(frr)));
    t0.elapsed()
}

#[test]
fn n_routes_cross_our_reflector_and_birds_reflector() {
    if !require_root("n_routes_cross_our_reflector_and_birds_reflector") {
        return;
    }
    let n = n();
    // Ours as the reflector.
    let ours_time;
    let ours_rss;
    let ours_base;
    {
        let fabric = Fabric::new(&format!("rs-{}", std::process::id()), 3).expect("fabric");
        let config = rc::ours(
            "10.99.0.1",
            AS,
            &["10.99.0.1"],
            &[
                ("10.99.0.2", AS, "route_reflector_client = true\n"),
                ("10.99.0.3", AS, "route_reflector_client = true\n"),
            ],
        );
        let mut ours = rc::start_ours(
            &fabric.node(1).ns,
            &config,
            "ip_pools = [{ cidr = \"10.0.0.0/8\" }]\n",
        );
        let frr = Frr::start(&fabric.node(3).ns, &frr_client()).expect("frr");
        frr.wait_established("10.99.0.1", rc::CONVERGE)
            .expect("frr up");
        ours_base = vm_rss_kib(ours.proc().pid());
        ours_time = run(&fabric, &frr, n);
        ours_rss = vm_hwm_kib(ours.proc().pid());
    }
    // BIRD as the reflector, same topology.
    let bird_time;
    let bird_rss;
    let bird_base;
    {
        let fabric = Fabric::new(&format!("rsb-{}", std::process::id()), 3).expect("fabric");
        let mut conf = String::from(
            "log stderr all;\nrouter id 10.99.0.1;\nprotocol device {}\nprotocol direct { ipv4; }\n",
        );
        for (name, peer) in [("c2", "10.99.0.2"), ("c3", "10.99.0.3")] {
            conf += &format!(
                "protocol bgp {name} {{\n  local 10.99.0.1 as {AS};\n  neighbor {peer} as {AS};\n  \
                 rr client;\n  rr cluster id 10.99.0.1;\n  hold time 9;\n  keepalive time 3;\n  \
                 connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;\n  \
                 ipv4 {{ import all; export all; }};\n}}\n"
            );
        }
        let mut rr = Bird::start(&fabric.node(1).ns, &conf).expect("bird rr");
        let frr = Frr::start(&fabric.node(3).ns, &frr_client()).expect("frr");
        frr.wait_established("10.99.0.1", rc::CONVERGE)
            .expect("frr up");
        bird_base = vm_rss_kib(rr.proc().pid());
        bird_time = run(&fabric, &frr, n);
        bird_rss = vm_hwm_kib(rr.proc().pid());
    }
    println!(
        "{n} routes through the reflector to FRR: ours {:.2} s (VmHWM {} KiB; VmRSS {} KiB \
         before the routes), BIRD {:.2} s (VmHWM {} KiB; VmRSS {} KiB before); time ratio \
         ours/BIRD {:.2}, peak memory ratio {:.2}",
        ours_time.as_secs_f64(),
        ours_rss,
        ours_base,
        bird_time.as_secs_f64(),
        bird_rss,
        bird_base,
        ours_time.as_secs_f64() / bird_time.as_secs_f64(),
        ours_rss as f64 / bird_rss.max(1) as f64,
    );
}
