//! Calico's rendered BIRD configurations (conf/tests/fixtures/calico, both template
//! generations) through the BIRD front end: every scenario loads, real-render variants load,
//! broken variants fail at the exact file, line and column.

use std::path::{Path, PathBuf};

use conf::{BirdFamily, Config};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calico")
}

/// Every directory under `root` holding a bird.cfg, sorted.
fn scenarios(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "bird.cfg") {
                out.push(dir.clone());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_calico_scenario_loads_in_both_families() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for gen in ["gen1", "gen2"] {
        let dirs = scenarios(&fixtures().join(gen));
        counts.push((gen, dirs.len()));
        for dir in dirs {
            for (file, fam) in [("bird.cfg", BirdFamily::V4), ("bird6.cfg", BirdFamily::V6)] {
                if let Err(e) = Config::load_bird(dir.join(file), fam) {
                    failures.push(format!("{e}"));
                }
            }
        }
    }
    assert_eq!(counts, vec![("gen1", 72), ("gen2", 88)]);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
