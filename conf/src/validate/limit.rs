//! `receive_limit` / `import_limit` of a template or neighbor: one `{ max, action }` table per
//! family (BIRD's `receive limit N action A;` / `import limit N action A;`, whose default
//! action is `disable`).

use std::collections::BTreeMap;

use bgp_proto::types::Family;

use super::Ctx;
use crate::error::ErrorKind;
use crate::model::{LimitAction, RouteLimit, RouteLimits};
use crate::schema::{RawLimits, S};

/// The actions by name, as BIRD spells them.
pub(crate) const ACTIONS: [(&str, LimitAction); 4] = [
    ("warn", LimitAction::Warn),
    ("block", LimitAction::Block),
    ("restart", LimitAction::Restart),
    ("disable", LimitAction::Disable),
];

/// One `*_limit` table, per family.
pub(super) fn limits(
    cx: &mut Ctx<'_>,
    raw: &S<RawLimits>,
    path: &str,
) -> Option<BTreeMap<Family, RouteLimit>> {
    let r = raw.get_ref();
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (fam, name, v) in [
        (Family::Ipv4Unicast, "ipv4", &r.ipv4),
        (Family::Ipv6Unicast, "ipv6", &r.ipv6),
    ] {
        let Some(v) = v else { continue };
        let fp = format!("{path}.{name}");
        let l = v.get_ref();
        let max = match &l.max {
            Some(m) => cx
                .int(
                    m,
                    &format!("{fp}.max"),
                    1,
                    i64::from(u32::MAX),
                    "a route count",
                    "the most routes held before the action is taken",
                )
                .and_then(|n| u32::try_from(n).ok()),
            None => {
                cx.err(
                    ErrorKind::Missing,
                    v.span(),
                    &fp,
                    "no max",
                    "e.g. { max = 1000, action = \"restart\" }",
                );
                None
            }
        };
        let action = match &l.action {
            Some(a) => cx.word(a, &format!("{fp}.action"), &ACTIONS),
            None => Some(LimitAction::Disable),
        };
        match (max, action) {
            (Some(max), Some(action)) => {
                out.insert(fam, RouteLimit { max, action });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// The two kinds merged per family.
pub(super) fn merge(
    receive: Option<&BTreeMap<Family, RouteLimit>>,
    import: Option<&BTreeMap<Family, RouteLimit>>,
) -> BTreeMap<Family, RouteLimits> {
    let mut out: BTreeMap<Family, RouteLimits> = BTreeMap::new();
    for (f, l) in receive.into_iter().flatten() {
        out.entry(*f).or_default().receive = Some(*l);
    }
    for (f, l) in import.into_iter().flatten() {
        out.entry(*f).or_default().import = Some(*l);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{Config, ConfigError, ErrorKind, LimitAction, RouteLimit, RouteLimits};
    use bgp_proto::types::Family;

    fn nb(extra: &str) -> String {
        format!(
            "router_id = \"10.0.0.1\"\nlocal_as = 64512\n[[templates]]\nname = \"t\"\n\
             import_limit = {{ ipv4 = {{ max = 5 }} }}\n[[neighbors]]\nname = \"n\"\n\
             template = \"t\"\naddress = \"10.0.0.2\"\nremote_as = 1\n{extra}"
        )
    }

    fn errors(text: &str) -> Vec<ConfigError> {
        match Config::from_str(text, "bgpd.toml") {
            Ok(c) => panic!("expected errors, got {:?}", c.neighbors[0].route_limits),
            Err(e) => e.errors,
        }
    }

    #[test]
    fn limits_per_family_with_birds_default_action_and_template_inheritance() {
        let c = Config::from_str(&nb(""), "bgpd.toml").expect("valid");
        let l = |max, action| Some(RouteLimit { max, action });
        assert_eq!(
            c.neighbors[0].route_limits.get(&Family::Ipv4Unicast),
            Some(&RouteLimits {
                receive: None,
                import: l(5, LimitAction::Disable),
            })
        );
        let text = nb("families = [\"ipv4\", \"ipv6\"]\n\
             receive_limit = { ipv6 = { max = 100, action = \"warn\" } }\n\
             import_limit = { ipv4 = { max = 10, action = \"block\" }, ipv6 = { max = 7, action = \"restart\" } }\n");
        let c = Config::from_str(&text, "bgpd.toml").expect("valid");
        let r = &c.neighbors[0].route_limits;
        assert_eq!(r[&Family::Ipv4Unicast].import, l(10, LimitAction::Block));
        assert_eq!(r[&Family::Ipv6Unicast].receive, l(100, LimitAction::Warn));
        assert_eq!(r[&Family::Ipv6Unicast].import, l(7, LimitAction::Restart));
    }

    #[test]
    fn bad_limits_are_reported_at_their_value() {
        let e = errors(&nb(
            "import_limit = { ipv4 = { max = 0, action = \"drop\" }, ipx = 1 }\n",
        ));
        let got: Vec<(ErrorKind, usize, usize, &str)> = e
            .iter()
            .map(|e| (e.kind, e.line(), e.column(), e.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [(
                ErrorKind::UnknownField,
                11,
                55,
                "neighbor \"n\".import_limit.ipx"
            ),],
            "{e:#?}"
        );
        let e = errors(&nb(
            "import_limit = { ipv4 = { max = 0, action = \"drop\" } }\n",
        ));
        let got: Vec<(ErrorKind, usize, usize, &str)> = e
            .iter()
            .map(|e| (e.kind, e.line(), e.column(), e.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    ErrorKind::OutOfRange,
                    11,
                    33,
                    "neighbor \"n\".import_limit.ipv4.max"
                ),
                (
                    ErrorKind::Invalid,
                    11,
                    45,
                    "neighbor \"n\".import_limit.ipv4.action"
                ),
            ],
            "{e:#?}"
        );
        let e = errors(&nb("receive_limit = { ipv6 = { max = 3 } }\n"));
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].kind, ErrorKind::Conflict);
        assert_eq!(e[0].path, "neighbor \"n\".receive_limit");
        let e = errors(&nb("receive_limit = { ipv4 = { action = \"warn\" } }\n"));
        assert_eq!(
            (e[0].kind, e[0].path.as_str()),
            (ErrorKind::Missing, "neighbor \"n\".receive_limit.ipv4")
        );
    }
}
