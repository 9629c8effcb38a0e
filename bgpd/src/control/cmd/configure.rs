//! `configure [soft] ["FILE"]` and `configure check ["FILE"]` (BIRD 1.6 `cmd_check_config`,
//! `cmd_reconfig`). The file (default: the one the daemon started with) is loaded and fully
//! validated with `conf`: `0002-Reading configuration from F`, then `0020 Configuration OK`
//! or `8002` with every error. Applying a configuration at run time is not implemented yet, so
//! `configure` without `check` validates and then answers `8006 Reconfiguration not
//! supported...` instead of pretending it reconfigured.

use std::path::Path;

use conf::Config;

use crate::control::reply::{code, Framer};
use crate::control::state::View;

pub fn run(view: &View, check: bool, file: Option<&str>, f: &mut Framer) {
    let path = file.map(Path::new).or(view.state.config_path.as_deref());
    let result = match path {
        Some(p) => {
            f.line(
                code::READING_CONFIG,
                &format!("Reading configuration from {}", p.display()),
            );
            Config::load(p)
        }
        None => {
            f.line(
                code::READING_CONFIG,
                "Reading configuration from the embedded default",
            );
            Config::embedded_default()
        }
    };
    match result {
        Ok(_) if check => f.end(code::CONFIG_OK, "Configuration OK"),
        Ok(_) => f.end(
            code::RELOAD_FAILED,
            "Reconfiguration not supported yet: configuration OK but not applied",
        ),
        Err(errors) => {
            let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            let (last, first) = match all.split_last() {
                Some(x) => x,
                None => return f.end(code::CONFIG_ERROR, "invalid configuration"),
            };
            for e in first {
                f.line(code::CONFIG_ERROR, e);
            }
            f.end(code::CONFIG_ERROR, last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::view_with;

    #[test]
    fn check_validates_for_real() {
        let (view, _keep) = view_with(&[]);
        let dir = std::env::temp_dir().join(format!("bgpd-configure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(&good, "router_id = \"10.0.0.1\"\nlocal_as = 64512\n").unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(
            &bad,
            "router_id = \"10.0.0.1\"\nlocal_as = 64512\nbogus = 1\n",
        )
        .unwrap();
        let mut f = Framer::new();
        run(&view, true, Some(good.to_str().unwrap()), &mut f);
        assert_eq!(
            f.take(),
            format!(
                "0002-Reading configuration from {}\n0020 Configuration OK\n",
                good.display()
            )
        );
        run(&view, true, Some(bad.to_str().unwrap()), &mut f);
        let t = f.take();
        assert!(t.starts_with("0002-Reading configuration from "), "{t}");
        let errors: Vec<&str> = t.lines().skip(1).collect();
        assert!(errors.last().unwrap().starts_with("8002 "), "{t}");
        assert!(t.contains("bogus"), "the unknown field is named: {t}");
        assert!(t.contains("bad.toml:"), "errors carry file and line: {t}");
        run(&view, false, Some(good.to_str().unwrap()), &mut f);
        assert!(f.take().ends_with(
            "\n8006 Reconfiguration not supported yet: configuration OK but not applied\n"
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
