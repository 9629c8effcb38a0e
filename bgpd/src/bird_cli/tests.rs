use super::*;

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn run(argv0: &str, v: &[&str]) -> BirdArgs {
    match parse(argv0, &args(v)) {
        Ok(Invocation::Run(a)) => a,
        other => panic!("{v:?}: {other:?}"),
    }
}

#[test]
fn calico_nodes_command_lines_parse() {
    let a = run(
        "/usr/bin/bird",
        &[
            "-R",
            "-s",
            "/var/run/calico/bird.ctl",
            "-d",
            "-c",
            "/etc/calico/confd/config/bird.cfg",
        ],
    );
    assert_eq!(a.name, "bird");
    assert_eq!(a.family, BirdFamily::V4);
    assert_eq!(a.config, PathBuf::from("/etc/calico/confd/config/bird.cfg"));
    assert_eq!(a.socket, PathBuf::from("/var/run/calico/bird.ctl"));
    assert!(a.graceful_restart_recovery && a.debug && !a.parse_only);
    assert!(!a.detaches());
    let a = run(
        "bird6",
        &["-p", "-c", "/etc/calico/confd/config/.bird6.cfg123"],
    );
    assert_eq!(a.family, BirdFamily::V6);
    assert!(a.parse_only && !a.debug && !a.graceful_restart_recovery);
    assert_eq!(
        a.config,
        PathBuf::from("/etc/calico/confd/config/.bird6.cfg123")
    );
}

#[test]
fn defaults_follow_the_family_and_l_moves_them_to_the_working_directory() {
    let a = run("bird", &[]);
    assert_eq!(
        (a.config, a.socket),
        ("/etc/bird.conf".into(), "/var/run/bird.ctl".into())
    );
    let a = run("/sbin/bird6", &[]);
    assert_eq!(
        (a.config, a.socket),
        ("/etc/bird6.conf".into(), "/var/run/bird6.ctl".into())
    );
    let a = run("bird6", &["-l"]);
    assert_eq!(
        (a.config, a.socket),
        ("bird6.conf".into(), "bird6.ctl".into())
    );
    // An explicit file or socket wins over -l, before or after it.
    let a = run("bird", &["-c", "x.cfg", "-l"]);
    assert_eq!((a.config, a.socket), ("x.cfg".into(), "bird.ctl".into()));
    let a = run("bird", &["-l", "-s", "/tmp/s.ctl"]);
    assert_eq!(
        (a.config, a.socket),
        ("bird.conf".into(), "/tmp/s.ctl".into())
    );
}

#[test]
fn every_flag_sets_its_field() {
    let a = run(
        "bird",
        &[
            "-f",
            "-D",
            "/tmp/d.log",
            "-P",
            "/tmp/b.pid",
            "-u",
            "nobody",
            "-g",
            "65534",
        ],
    );
    assert!(a.foreground && !a.debug);
    assert_eq!(a.debug_file, Some(PathBuf::from("/tmp/d.log")));
    assert_eq!(a.pid_file, Some(PathBuf::from("/tmp/b.pid")));
    assert_eq!(a.user.as_deref(), Some("nobody"));
    assert_eq!(a.group.as_deref(), Some("65534"));
    assert!(!a.detaches(), "-f and -D keep the foreground");
    assert!(run("bird", &["-D", "x"]).debug_file.is_some());
    assert!(!run("bird", &["-D", "x"]).detaches());
    assert!(run("bird", &["-c", "x"]).detaches());
}

#[test]
fn getopt_clusters_attached_values_and_double_dash() {
    let a = run("bird", &["-dRp", "-cfile.cfg", "-sctl"]);
    assert!(a.debug && a.graceful_restart_recovery && a.parse_only);
    assert_eq!(a.config, PathBuf::from("file.cfg"));
    assert_eq!(a.socket, PathBuf::from("ctl"));
    // A value after a cluster: the rest of the cluster is the value.
    let a = run("bird", &["-dc", "f.cfg"]);
    assert!(a.debug);
    assert_eq!(a.config, PathBuf::from("f.cfg"));
    // A value that looks like a flag is still a value.
    assert_eq!(run("bird", &["-c", "-d"]).config, PathBuf::from("-d"));
    assert!(!run("bird", &["-c", "-d"]).debug);
    assert_eq!(
        parse("bird", &args(&["--", "-d"])),
        Err(UsageError::Positional("-d".into()))
    );
}

#[test]
fn help_and_version() {
    assert_eq!(parse("bird", &args(&["--help"])), Ok(Invocation::Help));
    assert_eq!(
        parse("bird", &args(&["--version"])),
        Ok(Invocation::Version)
    );
    assert_eq!(parse("bird", &args(&["-h"])), Ok(Invocation::Help));
    assert_eq!(parse("bird", &args(&["-d", "-h"])), Ok(Invocation::Help));
    // As BIRD: the long forms only alone.
    assert_eq!(
        parse("bird", &args(&["-d", "--version"])),
        Err(UsageError::InvalidOption('-'))
    );
    assert!(version().starts_with("BIRD version v"), "{}", version());
    let h = help("bird6");
    assert!(h.starts_with("Usage: bird6 [--version] [--help] [-c <config-file>] [OPTIONS]\n"));
    for flag in [
        "-c ", "-d ", "-D ", "-f ", "-g ", "-h,", "-l ", "-p ", "-P ", "-R ", "-s ", "-u ",
    ] {
        assert!(h.contains(&format!("  {flag}")), "{flag} in {h}");
    }
    assert!(h.contains("/etc/bird6.conf") && h.contains("/var/run/bird6.ctl"));
}

#[test]
fn usage_errors() {
    assert_eq!(
        parse("bird", &args(&["-x"])),
        Err(UsageError::InvalidOption('x'))
    );
    assert_eq!(
        parse("bird", &args(&["-d", "-c"])),
        Err(UsageError::MissingArgument('c'))
    );
    assert_eq!(
        parse("bird", &args(&["-s"])),
        Err(UsageError::MissingArgument('s'))
    );
    assert_eq!(
        parse("bird", &args(&["--config", "x"])),
        Err(UsageError::InvalidOption('-'))
    );
    assert_eq!(
        parse("bird", &args(&["bird.cfg", "-d"])),
        Err(UsageError::Positional("bird.cfg".into()))
    );
    assert_eq!(
        UsageError::InvalidOption('x').message().as_deref(),
        Some("invalid option -- 'x'")
    );
    assert_eq!(
        UsageError::MissingArgument('c').message().as_deref(),
        Some("option requires an argument -- 'c'")
    );
    assert_eq!(UsageError::Positional("a".into()).message(), None);
    assert_eq!(
        usage("bird"),
        "Usage: bird [--version] [--help] [-c <config-file>] [OPTIONS]\n"
    );
}

#[test]
fn bird_command_line_applies_by_name_or_by_bird_only_flag() {
    assert!(applies("/usr/bin/bird", &[]));
    assert!(applies("bird6", &args(&["-c", "x.toml"])));
    assert!(!applies("birdcl", &[]));
    assert!(!applies("/usr/bin/bird-x", &[]));
    // bgpd's own command line.
    for own in [
        &[][..],
        &["-c", "bgpd.toml"],
        &["-c", "/tmp/fdpl.toml", "-R"],
        &["-c/tmp/fdpl.toml"],
        &["--config", "-d"],
        &["--config=d.toml", "--check"],
        &["-s", "-p", "-R", "--graceful-restart-wait", "-f"],
        &["--log-format", "json"],
        &["-h"],
        &["--", "-d"],
    ] {
        assert!(!applies("bgpd", &args(own)), "{own:?}");
    }
    // BIRD-only flags.
    for bird in [
        &["-p", "-c", "bird.cfg"][..],
        &["-d", "-c", "bird.cfg"],
        &["-R", "-s", "x.ctl", "-d", "-c", "bird.cfg"],
        &["-Rd"],
        &["-f"],
        &["-l"],
        &["-P", "x.pid"],
        &["-D", "x.log"],
        &["-u", "nobody"],
        &["-g", "nogroup"],
        &["-c", "x.toml", "-p"],
    ] {
        assert!(applies("/usr/bin/bgpd", &args(bird)), "{bird:?}");
    }
    // Invoked as bgpd with BIRD flags: IPv4.
    assert_eq!(run("bgpd", &["-p", "-c", "x"]).family, BirdFamily::V4);
}

#[test]
fn config_errors_print_as_bird_p_does() {
    let mut e = conf::ConfigError {
        file: "/etc/calico/confd/config/bird_ipam.cfg".into(),
        location: Some(conf::Location {
            line: 12,
            column: 7,
        }),
        path: String::new(),
        kind: conf::ErrorKind::Syntax,
        message: "syntax error".into(),
        hint: None,
    };
    assert_eq!(
        config_error_line(&e),
        "bird: /etc/calico/confd/config/bird_ipam.cfg:12:7 syntax error"
    );
    e.location = None;
    e.hint = Some("check the path".into());
    assert_eq!(
        config_error_line(&e),
        "bird: /etc/calico/confd/config/bird_ipam.cfg: syntax error (hint: check the path)"
    );
}
