//! Every unknown key in the document, each with its position and a "did you mean" hint.
//! serde's `deny_unknown_fields` stays on as a safety net but would stop at the first one.

use toml::de::{DeTable, DeValue};

use super::Ctx;
use crate::error::ErrorKind;
use crate::schema::keys;

/// Reports unknown keys; returns whether any was found.
pub(super) fn check(cx: &mut Ctx<'_>, root: &DeTable<'_>) -> bool {
    let before = cx.errors.len();
    table(cx, root, "", keys::ROOT);
    for (k, v) in root.iter() {
        let sub: Option<&[&str]> = match k.get_ref().as_ref() {
            "listen" => Some(keys::LISTEN),
            "kernel" => Some(keys::KERNEL),
            "control" => Some(keys::CONTROL),
            "metrics" => Some(keys::METRICS),
            "services" => Some(keys::SERVICES),
            "bgp" => Some(keys::BGP),
            "graceful_restart" => Some(keys::GRACEFUL_RESTART),
            _ => None,
        };
        if let (Some(known), DeValue::Table(t)) = (sub, v.get_ref()) {
            table(cx, t, k.get_ref(), known);
        }
        let elem: Option<(&str, &[&str])> = match k.get_ref().as_ref() {
            "templates" => Some(("template", keys::PEER)),
            "neighbors" => Some(("neighbor", keys::PEER)),
            "ip_pools" => Some(("", keys::POOL)),
            "filters" => Some(("filter", keys::FILTER)),
            "prefix_advertisements" => Some(("", keys::PREFIX_ADVERTISEMENT)),
            _ => None,
        };
        let (Some((label, known)), DeValue::Array(items)) = (elem, v.get_ref()) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                continue;
            };
            let name = t.get("name").and_then(|n| match n.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                _ => None,
            });
            let path = match name {
                Some(n) if !label.is_empty() => format!("{label} {n:?}"),
                _ => format!("{}[{i}]", k.get_ref()),
            };
            table(cx, t, &path, known);
            if let Some(ap) = t.get("add_path") {
                if let DeValue::Table(ap) = ap.get_ref() {
                    table(cx, ap, &format!("{path}.add_path"), keys::ADD_PATH);
                }
            }
            for lim in ["receive_limit", "import_limit"] {
                if let Some(DeValue::Table(l)) = t.get(lim).map(|v| v.get_ref()) {
                    let lp = format!("{path}.{lim}");
                    table(cx, l, &lp, keys::LIMITS);
                    for fam in ["ipv4", "ipv6"] {
                        if let Some(DeValue::Table(f)) = l.get(fam).map(|v| v.get_ref()) {
                            table(cx, f, &format!("{lp}.{fam}"), keys::LIMIT);
                        }
                    }
                }
            }
            if k.get_ref().as_ref() == "filters" {
                rule_lists(cx, t, &path);
            }
        }
    }
    cx.errors.len() > before
}

/// The rule lists of one `[[filters]]` entry, their `prefix_length` and `operations`.
fn rule_lists(cx: &mut Ctx<'_>, filter: &DeTable<'_>, path: &str) {
    for list in ["export_v4", "import_v4", "export_v6", "import_v6"] {
        let Some(DeValue::Array(rules)) = filter.get(list).map(|v| v.get_ref()) else {
            continue;
        };
        for (j, rule) in rules.iter().enumerate() {
            let DeValue::Table(rule) = rule.get_ref() else {
                continue;
            };
            let rp = format!("{path}.{list}[{j}]");
            table(cx, rule, &rp, keys::RULE);
            if let Some(DeValue::Table(pl)) = rule.get("prefix_length").map(|v| v.get_ref()) {
                table(cx, pl, &format!("{rp}.prefix_length"), keys::PREFIX_LENGTH);
            }
            if let Some(DeValue::Array(ops)) = rule.get("operations").map(|v| v.get_ref()) {
                for (o, op) in ops.iter().enumerate() {
                    if let DeValue::Table(op) = op.get_ref() {
                        table(cx, op, &format!("{rp}.operations[{o}]"), keys::OPERATION);
                    }
                }
            }
        }
    }
}

/// "did you mean `x`?" when a known name is close to `name`, else the list of known names.
pub(super) fn suggest(name: &str, known: &[&str], what: &str) -> String {
    match known.iter().min_by_key(|c| distance(name, c)) {
        Some(best) if distance(name, best) <= 2 + name.len() / 4 => {
            format!("did you mean {best:?}?")
        }
        _ => format!("{what}: {}", known.join(", ")),
    }
}

fn table(cx: &mut Ctx<'_>, t: &DeTable<'_>, path: &str, known: &[&str]) {
    for (k, _) in t.iter() {
        let key = k.get_ref().as_ref();
        if known.contains(&key) {
            continue;
        }
        let hint = match known.iter().min_by_key(|c| distance(key, c)) {
            Some(best) if distance(key, best) <= 2 + key.len() / 4 => {
                format!("did you mean `{best}`?")
            }
            _ => format!("known fields here: {}", known.join(", ")),
        };
        let full = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        cx.err(
            ErrorKind::UnknownField,
            k.span(),
            &full,
            format!("unknown field `{key}`"),
            &hint,
        );
    }
}

/// The field path of the value containing byte `at` (for serde errors, which carry a span but
/// no usable path), written like the validation paths. Searches leaves: a table's own span may
/// cover only its header.
pub(super) fn path_at(root: &DeTable<'_>, at: usize) -> String {
    find(root, at, "").unwrap_or_default()
}

fn find(table: &DeTable<'_>, at: usize, base: &str) -> Option<String> {
    for (k, v) in table.iter() {
        let path = if base.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{base}.{}", k.get_ref())
        };
        match v.get_ref() {
            DeValue::Table(t) => {
                if let Some(p) = find(t, at, &path) {
                    return Some(p);
                }
                if v.span().contains(&at) {
                    return Some(path);
                }
            }
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item.get_ref() {
                        DeValue::Table(t) => {
                            let name = t.get("name").and_then(|n| match n.get_ref() {
                                DeValue::String(s) => Some(s.to_string()),
                                _ => None,
                            });
                            let ip = match (k.get_ref().as_ref(), name) {
                                ("neighbors", Some(n)) if base.is_empty() => {
                                    format!("neighbor {n:?}")
                                }
                                ("templates", Some(n)) if base.is_empty() => {
                                    format!("template {n:?}")
                                }
                                ("filters", Some(n)) if base.is_empty() => {
                                    format!("filter {n:?}")
                                }
                                _ => format!("{path}[{i}]"),
                            };
                            if let Some(p) = find(t, at, &ip) {
                                return Some(p);
                            }
                        }
                        _ if item.span().contains(&at) => return Some(format!("{path}[{i}]")),
                        _ => {}
                    }
                }
                if v.span().contains(&at) {
                    return Some(path);
                }
            }
            _ if v.span().contains(&at) => return Some(path),
            _ => {}
        }
    }
    None
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("remote_as", "remote_as"), 0);
        assert_eq!(distance("remote_asn", "remote_as"), 1);
        assert_eq!(distance("hold", "hold_time"), 5);
    }
}
