//! Graceful restart (RFC 4724) of a BIRD 2.0.12 peer as seen by our RIB: BIRD is killed (no
//! NOTIFICATION), its routes stay in ours (stale) while it restarts; the restarted BIRD
//! announces one of its two blocks, and after its End-of-RIB the other one is gone.

mod routes_common;

use std::time::Duration;

use interop_tests::{require_root, wait_until, Bird, Fabric};
use routes_common as rc;

const AS: u32 = 64512;

fn bird_conf(statics: &[&str]) -> String {
    rc::bird_conf(
        "10.99.0.2",
        statics,
        &[("mesh", "10.99.0.2", AS, "10.99.0.1", AS)],
    )
    .replace(
        "  hold time 9;\n",
        "  hold time 9;\n  graceful restart on;\n  graceful restart time 60;\n",
    )
}

#[test]
fn a_restarting_bird_keeps_its_routes_until_its_end_of_rib_sweeps_the_stale_one() {
    if !require_root("a_restarting_bird_keeps_its_routes_until_its_end_of_rib_sweeps_the_stale_one")
    {
        return;
    }
    let fabric = Fabric::new(&format!("rg-{}", std::process::id()), 2).expect("fabric");
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1"],
        &[("10.99.0.2", AS, "graceful_restart = true\n")],
    );
    let ours = rc::start_ours(
        &fabric.node(1).ns,
        &config,
        "local_blocks = [\"10.64.1.0/26\"]\n",
    );
    let bird = Bird::start(
        &fabric.node(2).ns,
        &bird_conf(&["10.64.2.0/26", "10.64.4.0/26"]),
    )
    .expect("bird starts");
    let show = || ours.show(false, "show route").unwrap_or_default();
    rc::converge(
        "both BIRD blocks in ours",
        || rc::ours_has(&ours, "10.64.2.0/26") && rc::ours_has(&ours, "10.64.4.0/26"),
        show,
    );
    assert!(rc::bird_has(&bird, "10.64.1.0/26"));

    // Killed: the TCP connection closes without a NOTIFICATION.
    interop_tests::command::run("kill", &["-KILL", &bird.pid().to_string()]).expect("kill");
    wait_until("our RIB to see BIRD go", Duration::from_secs(15), || {
        Ok(ours
            .events("rib_peer_down", None)
            .iter()
            .any(|e| e["fields"]["graceful"].as_bool() == Some(true)))
    })
    .unwrap_or_else(|e| panic!("{e}\n{:?}", ours.events("rib_peer_down", None)));
    assert!(
        rc::ours_has(&ours, "10.64.2.0/26") && rc::ours_has(&ours, "10.64.4.0/26"),
        "stale routes kept while BIRD restarts:\n{}",
        show()
    );
    drop(bird);

    // Back, with one block only.
    let bird =
        Bird::start(&fabric.node(2).ns, &bird_conf(&["10.64.2.0/26"])).expect("bird restarts");
    rc::converge(
        "the block BIRD no longer announces swept at its End-of-RIB",
        || {
            ours.events("established", Some("10.99.0.2")).len() >= 2
                && rc::ours_has(&ours, "10.64.2.0/26")
                && !rc::ours_has(&ours, "10.64.4.0/26")
        },
        show,
    );
    assert!(
        ours.events("stale_swept", None).is_empty()
            && !ours.events("stale_cleared", None).is_empty(),
        "swept by End-of-RIB, not by the restart timer"
    );
    assert!(rc::bird_has(&bird, "10.64.1.0/26"));
}
