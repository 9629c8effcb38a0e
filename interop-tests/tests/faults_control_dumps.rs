//! 64 clients listing the whole table (`show route`) in a loop while a peer sends 20,000
//! routes: found by fault injection, route processing slowed 33x (1.97 s -> 65 s for 100k
//! routes) and 0.4-0.6 GB stayed held afterwards, because each listing was built whole by the
//! RIB actor before a line was written. Now listings stream in pages that wait behind route
//! processing: the load completes, every client keeps getting whole listings, the health
//! command Calico polls with gets through on a reserved slot, and memory after the clients
//! are gone stays near the level of the same load without them.
//!
//! Runs `route_bench` (single scenario, ours polled with `show protocols all`, a health
//! command) twice, without and with `--dumpers 64`, and prints both times; the assertions are
//! on completion and memory, not on time (the full 100k figures beside BIRD are in the
//! report of `route_bench --sizes 100000 --daemons ours-proto,bird --dumpers 64`).

use interop_tests::require_root;

const ROUTES: u32 = 20_000;
const DUMPERS: usize = 64;

/// (seconds, dumps line if any) from one `route_bench` run for ours.
fn run(dumpers: usize) -> (f64, Option<String>, String) {
    let bgpd = interop_tests::bgpd::binary().expect("bgpd binary");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_route_bench"))
        .args([
            "--daemons",
            "ours-proto",
            "--sizes",
            &ROUTES.to_string(),
            "--scenarios",
            "single",
            "--dumpers",
            &dumpers.to_string(),
            "--bgpd",
            bgpd.to_str().expect("utf-8"),
        ])
        .output()
        .expect("route_bench runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{text}\n{err}");
    let secs = text
        .lines()
        .find_map(|l| l.strip_prefix("| ours-proto | "))
        .and_then(|r| r.split(" | ").next()?.trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    let dumps = text
        .lines()
        .find(|l| l.starts_with("dumps ours-proto:"))
        .map(str::to_owned);
    (secs, dumps, format!("{text}\n{err}"))
}

/// A number after `key` in `line` (`... key 12.3 MiB ...`).
fn number_after(line: &str, key: &str) -> f64 {
    line.split(key)
        .nth(1)
        .and_then(|r| {
            r.split_whitespace()
                .next()?
                .trim_end_matches(',')
                .parse()
                .ok()
        })
        .unwrap_or(f64::NAN)
}

#[test]
fn route_listings_by_64_clients_during_a_load_neither_stall_it_nor_keep_memory() {
    if !require_root("route_listings_by_64_clients_during_a_load_neither_stall_it_nor_keep_memory")
    {
        return;
    }
    let (alone, quiet, log_alone) = run(0);
    let (with, dumps, log) = run(DUMPERS);
    let quiet = quiet.unwrap_or_else(|| panic!("no memory line:\n{log_alone}"));
    assert!(alone.is_finite(), "the load alone completes:\n{log_alone}");
    assert!(
        with.is_finite(),
        "the load completes with the listings:\n{log}"
    );
    let dumps = dumps.unwrap_or_else(|| panic!("no dumps line:\n{log}"));
    let listings = number_after(&dumps, "clients, ");
    assert!(
        listings >= DUMPERS as f64,
        "every client got listings: {dumps}"
    );
    let after_alone = number_after(&quiet, "after load and dumps ");
    let after = number_after(&dumps, "after load and dumps ");
    // The same table either way; what the listings leave (glibc keeps some freed pages) is
    // bounded by a few pages per client, not a copy of the table per client.
    assert!(
        after - after_alone < 24.0,
        "memory held after the listings: {dumps} (without them: {quiet})"
    );
    println!(
        "{ROUTES} routes: {alone:.3} s alone, {with:.3} s with {DUMPERS} clients listing \
         (ratio {:.2}); {dumps}; without them: {quiet}",
        with / alone
    );
}
