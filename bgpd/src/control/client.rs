//! The client side of the BIRD CLI protocol, for `bgpctl` (and `birdcl` compatibility): line
//! classification, a blocking connection that reads one reply, and the JSON forms of
//! `show protocols` and `show route` built from the text replies. Works against our daemon and
//! against a real BIRD (1.6 or 2).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Map, Value};

/// One reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLine {
    /// The line's code; continuation lines carry the code of the line they continue.
    pub code: u16,
    /// `NNNN text`: the reply ends here.
    pub last: bool,
    /// `+text`: a spontaneous message.
    pub async_msg: bool,
    pub text: String,
}

impl ReplyLine {
    /// 8xxx and 9xxx.
    pub fn is_error(&self) -> bool {
        self.code >= 8000
    }
    /// What birdc prints: the text, except for code 0 lines, which print nothing.
    pub fn printable(&self) -> Option<&str> {
        (self.code != 0 || self.async_msg).then_some(self.text.as_str())
    }
}

/// Classifies one line given the code of the line before it.
pub fn classify(line: &str, prev: u16) -> ReplyLine {
    let b = line.as_bytes();
    if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && (b[4] == b' ' || b[4] == b'-') {
        return ReplyLine {
            code: line[..4].parse().unwrap_or(0),
            last: b[4] == b' ',
            async_msg: false,
            text: line[5..].to_string(),
        };
    }
    if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        return ReplyLine {
            code: line.parse().unwrap_or(0),
            last: true,
            async_msg: false,
            text: String::new(),
        };
    }
    let (async_msg, text) = match line.strip_prefix('+') {
        Some(t) => (true, t),
        None => (false, line.strip_prefix(' ').unwrap_or(line)),
    };
    ReplyLine {
        code: prev,
        last: false,
        async_msg,
        text: text.to_string(),
    }
}

/// Why the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("Unable to connect to server control socket ({path}): {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("Connection closed by server")]
    Closed,
    #[error("Server read error: {0}")]
    Io(#[from] std::io::Error),
}

/// A blocking connection to a BIRD-style control socket.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    prev: u16,
}

impl Connection {
    /// Connects; the greeting is left to [`Connection::read_reply`].
    pub fn connect(path: &Path, timeout: Duration) -> Result<Connection, ClientError> {
        let s = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        let writer = s.try_clone()?;
        Ok(Connection {
            reader: BufReader::new(s),
            writer,
            prev: 0,
        })
    }

    /// Reads lines up to and including the last line of one reply.
    pub fn read_reply(&mut self) -> Result<Vec<ReplyLine>, ClientError> {
        let mut out = Vec::new();
        loop {
            let mut raw = Vec::new();
            let n = self.reader.read_until(b'\n', &mut raw)?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            while matches!(raw.last(), Some(b'\n' | b'\r')) {
                raw.pop();
            }
            let line = String::from_utf8_lossy(&raw);
            let l = classify(&line, self.prev);
            self.prev = l.code;
            let last = l.last;
            out.push(l);
            if last {
                return Ok(out);
            }
        }
    }

    /// Sends one command line.
    pub fn send(&mut self, command: &str) -> Result<(), ClientError> {
        self.writer.write_all(command.as_bytes())?;
        self.writer.write_all(b"\n")?;
        Ok(())
    }

    /// Sends `command` and reads its reply.
    pub fn command(&mut self, command: &str) -> Result<Vec<ReplyLine>, ClientError> {
        self.send(command)?;
        self.read_reply()
    }
}

/// `show protocols [all]` as a JSON array: one object per protocol with the six columns, the
/// BGP state word (first word of `info`), and with `all` the detail lines as `details`
/// (`"Key": "value"` from `Key: value` lines, nested sections flattened; a `Receive limit:` /
/// `Import limit:` / `Export limit:` line and its `Action:` line become one object
/// `{"limit": N, "hit": bool, "action": "..."}`).
pub fn protocols_json(lines: &[ReplyLine]) -> Value {
    let mut protos: Vec<Value> = Vec::new();
    let mut header: Option<Vec<String>> = None;
    // The limit the next `Action:` line belongs to.
    let mut last_limit: Option<String> = None;
    for l in lines {
        match l.code {
            2002 => header = Some(l.text.split_whitespace().map(str::to_lowercase).collect()),
            1002 => {
                let cols: Vec<&str> = l.text.split_whitespace().collect();
                if cols.len() < 4 {
                    continue;
                }
                let mut o = Map::new();
                let names = ["name", "proto", "table", "state", "since"];
                for (i, k) in names.iter().enumerate() {
                    o.insert((*k).into(), json!(cols.get(i).copied().unwrap_or("")));
                }
                // BIRD 2 splits `since` in two tokens only with a date format; 1.6 never does.
                let info = cols.get(5..).map(|c| c.join(" ")).unwrap_or_default();
                o.insert("info".into(), json!(info));
                if cols.get(1) == Some(&"BGP") {
                    if let Some(s) = cols.get(5) {
                        o.insert("bgp_state".into(), json!(s));
                    }
                }
                protos.push(Value::Object(o));
            }
            1006 => {
                let Some(Value::Object(o)) = protos.last_mut() else {
                    continue;
                };
                let d = o
                    .entry("details")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let (Some((k, v)), Value::Object(d)) = (l.text.split_once(':'), d) {
                    let (k, v) = (k.trim(), v.trim());
                    if k.ends_with(" limit") {
                        let (n, hit) = match v.strip_suffix("[HIT]") {
                            Some(n) => (n.trim(), true),
                            None => (v, false),
                        };
                        let limit = n.parse::<u64>().map_or_else(|_| json!(n), |n| json!(n));
                        d.insert(k.to_string(), json!({"limit": limit, "hit": hit}));
                        last_limit = Some(k.to_string());
                    } else if let (true, Some(Value::Object(lim))) = (
                        k == "Action",
                        last_limit.as_ref().and_then(|n| d.get_mut(n)),
                    ) {
                        lim.insert("action".into(), json!(v));
                    } else if !k.is_empty() && !v.is_empty() {
                        d.insert(k.to_string(), json!(v));
                    }
                }
            }
            _ => {}
        }
    }
    let _ = header;
    Value::Array(protos)
}

/// `show route [all]` as a JSON array, one object per route (every path of a network, the
/// best first): network, kind (`via`, `dev`, `blackhole`, `unreachable`, `prohibited`,
/// `multipath`, `unicast`), gateway, interface, protocol, since, primary, and the rest of the
/// line as `info`. Both BIRD 1.6 one-line routes and BIRD 2's indented `via` lines. With `all`:
/// `type` (`BGP unicast univ`), `attributes` (`{"BGP.origin": "IGP", ...}`, a set's
/// continuation lines joined to it with one space) and, for a route that is not the best,
/// `not_best` (the decision step it lost at, as the text line says it).
pub fn routes_json(lines: &[ReplyLine]) -> Value {
    let mut routes: Vec<Value> = Vec::new();
    let mut net = String::new();
    // The attribute the last `1012` line named (for `\t\t` continuation lines).
    let mut last_attr: Option<String> = None;
    for l in lines {
        if l.code == 1008 || l.code == 1012 {
            if let Some(Value::Object(o)) = routes.last_mut() {
                route_detail(o, &l.text, &mut last_attr);
            }
            continue;
        }
        if l.code != 1007 {
            continue;
        }
        last_attr = None;
        let t = l.text.as_str();
        let trimmed = t.trim_start();
        if t.starts_with('\t') {
            // A BIRD 2 next hop line (or an ECMP line) belongs to the previous route.
            let w: Vec<&str> = trimmed.split_whitespace().collect();
            if let (Some(Value::Object(o)), ["via", gw, "on", ifc, ..]) =
                (routes.last_mut(), &w[..])
            {
                let hops = o.entry("nexthops").or_insert_with(|| json!([]));
                if let Value::Array(h) = hops {
                    h.push(json!({"gateway": gw, "interface": ifc}));
                }
            } else if let (Some(Value::Object(o)), ["dev", ifc, ..]) = (routes.last_mut(), &w[..]) {
                o.insert("interface".into(), json!(ifc));
            }
            continue;
        }
        if trimmed.starts_with("Table ") {
            continue;
        }
        let Some(open) = t.find(" [") else { continue };
        let head = &t[..open];
        let (dest, rest) = if t.starts_with(' ') {
            (net.clone(), head.trim())
        } else {
            match head.split_once(char::is_whitespace) {
                Some((d, r)) => (d.to_string(), r.trim()),
                None => (head.to_string(), ""),
            }
        };
        net = dest.clone();
        let mut o = Map::new();
        o.insert("network".into(), json!(dest));
        let w: Vec<&str> = rest.split_whitespace().collect();
        match &w[..] {
            ["via", gw, "on", ifc, ..] => {
                o.insert("kind".into(), json!("via"));
                o.insert("gateway".into(), json!(gw));
                o.insert("interface".into(), json!(ifc));
            }
            ["dev", ifc, ..] => {
                o.insert("kind".into(), json!("dev"));
                o.insert("interface".into(), json!(ifc));
            }
            [k, ..] => {
                o.insert("kind".into(), json!(k));
            }
            [] => {}
        }
        let tail = &t[open + 2..];
        if let Some(close) = tail.find(']') {
            let inside: Vec<&str> = tail[..close].split_whitespace().collect();
            o.insert(
                "protocol".into(),
                json!(inside.first().copied().unwrap_or("")),
            );
            o.insert("since".into(), json!(inside.get(1).copied().unwrap_or("")));
            if let Some(i) = inside.iter().position(|w| *w == "from") {
                o.insert(
                    "from".into(),
                    json!(inside.get(i + 1).copied().unwrap_or("")),
                );
            }
            let after = tail[close + 1..].trim_start();
            let primary = after.starts_with('*') || after.starts_with('!');
            o.insert("primary".into(), json!(primary));
            let info = after.trim_start_matches(['*', '!']).trim();
            o.insert("info".into(), json!(info));
        }
        routes.push(Value::Object(o));
    }
    Value::Array(routes)
}

/// One `show route all` line under a route, into its object.
fn route_detail(o: &mut Map<String, Value>, text: &str, last: &mut Option<String>) {
    if let Some(more) = text.strip_prefix("\t\t") {
        // A community list's continuation line.
        if let (Some(k), Some(Value::Object(a))) = (last.as_ref(), o.get_mut("attributes")) {
            if let Some(Value::String(v)) = a.get_mut(k) {
                v.push(' ');
                v.push_str(more.trim());
            }
        }
        return;
    }
    let t = text.trim_start();
    if let Some(kind) = t.strip_prefix("Type: ") {
        o.insert("type".into(), json!(kind.trim()));
    } else if let Some(why) = t.strip_prefix("Not best: ") {
        o.insert("not_best".into(), json!(why.trim()));
    } else if let Some((k, v)) = t.split_once(": ") {
        let a = o
            .entry("attributes")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(a) = a {
            a.insert(k.to_string(), json!(v.trim()));
        }
        *last = Some(k.to_string());
    } else if let Some(k) = t.strip_suffix(':') {
        // An attribute with an empty value (`BGP.as_path: ` with its space trimmed).
        let a = o
            .entry("attributes")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(a) = a {
            a.insert(k.to_string(), json!(""));
        }
        *last = Some(k.to_string());
    }
}

/// One keyword of the command grammar and what may follow it.
struct Keyword {
    word: &'static str,
    next: &'static [Keyword],
}

const fn kw(word: &'static str, next: &'static [Keyword]) -> Keyword {
    Keyword { word, next }
}

static ROUTE_OPTIONS: [Keyword; 5] = [
    kw("all", &ROUTE_OPTIONS),
    kw("for", &ROUTE_OPTIONS),
    kw("protocol", &ROUTE_OPTIONS),
    kw("count", &ROUTE_OPTIONS),
    kw("primary", &ROUTE_OPTIONS),
];
static SHOW: [Keyword; 5] = [
    kw("status", &[]),
    kw("protocols", &[kw("all", &[])]),
    kw("route", &ROUTE_OPTIONS),
    kw("interfaces", &[kw("summary", &[])]),
    kw("memory", &[]),
];
static TOP: [Keyword; 8] = [
    kw("show", &SHOW),
    kw("configure", &[kw("check", &[]), kw("soft", &[])]),
    kw("enable", &[kw("all", &[])]),
    kw("disable", &[kw("all", &[])]),
    kw("restart", &[kw("all", &[])]),
    kw("reload", &[kw("in", &[]), kw("out", &[]), kw("all", &[])]),
    kw("down", &[]),
    kw("quit", &[]),
];

/// Expands unambiguous keyword abbreviations as `birdc` does on the client side
/// (`sh pro al` → `show protocols all`); the server only knows whole keywords. Words that are
/// not a keyword or a unique keyword prefix (names, addresses, quoted patterns) pass unchanged.
pub fn expand(line: &str) -> String {
    let mut level: &[Keyword] = &TOP;
    let mut out: Vec<String> = Vec::new();
    for word in line.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let exact = level.iter().find(|k| k.word == lower);
        let mut prefixed = level.iter().filter(|k| k.word.starts_with(&lower));
        let hit = exact.or_else(|| match (prefixed.next(), prefixed.next()) {
            (Some(k), None) if !word.starts_with('"') => Some(k),
            _ => None,
        });
        match hit {
            Some(k) => {
                out.push(k.word.to_string());
                level = k.next;
            }
            None => out.push(word.to_string()),
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Vec<ReplyLine> {
        let mut prev = 0;
        text.lines()
            .map(|l| {
                let r = classify(l, prev);
                prev = r.code;
                r
            })
            .collect()
    }

    #[test]
    fn expands_abbreviations_like_birdc() {
        assert_eq!(expand("sh pro"), "show protocols");
        assert_eq!(expand("sh pro al Mesh_1"), "show protocols all Mesh_1");
        assert_eq!(
            expand("sh ro fo 10.0.0.1 pro Mesh_1 c"),
            "show route for 10.0.0.1 protocol Mesh_1 count"
        );
        assert_eq!(expand("sh s"), "show status");
        assert_eq!(expand("conf ch"), "configure check");
        assert_eq!(expand("re in x"), "re in x", "restart/reload is ambiguous");
        assert_eq!(expand("rel in x"), "reload in x");
        assert_eq!(expand("dis \"M*\""), "disable \"M*\"");
        assert_eq!(expand("show bananas"), "show bananas");
    }

    #[test]
    fn classifies_codes_continuations_and_ends() {
        let r = reply(
            "1000-BIRD 1.6.8\n1011-Router ID is 1.2.3.4\n Current\n0013 Daemon is up and running",
        );
        assert_eq!(r[2].code, 1011);
        assert_eq!(r[2].text, "Current");
        assert!(!r[2].last && r[3].last);
        assert_eq!(classify("0000 ", 0).printable(), None);
        assert!(classify("9001 syntax error", 0).is_error());
        assert_eq!(classify("+async", 5).printable(), Some("async"));
    }

    #[test]
    fn protocols_json_from_bird_1_6_text() {
        let r = reply(
            "2002-name     proto    table    state  since       info\n\
             1002-kernel1  Kernel   master   wait   05:29:13    \n\
             \x20Mesh_10_99_0_2 BGP      master   up     05:29:15    Established   \n\
             1006-  Description:    Connection to BGP peer\n\
             \x20  BGP state:          Established\n\
             \x20    Neighbor address: 10.99.0.2\n\
             \x20\n\
             0000 ",
        );
        let v = protocols_json(&r);
        assert_eq!(v[0]["name"], "kernel1");
        assert_eq!(v[0]["info"], "");
        assert_eq!(v[1]["bgp_state"], "Established");
        assert_eq!(v[1]["details"]["Neighbor address"], "10.99.0.2");
        assert_eq!(v[1]["details"]["BGP state"], "Established");
    }

    #[test]
    fn protocols_json_keeps_each_limit_with_its_action() {
        let r = reply(
            "2002-name     proto    table    state  since       info\n\
             1002-Global_10_99_0_3 BGP      master   down   05:29:15    \
             Automatic shutdown: Route limit exceeded\n\
             1006-  Preference:     100\n\
             \x20  Receive limit:  200\n\
             \x20    Action:       block\n\
             \x20  Import limit:   5 [HIT]\n\
             \x20    Action:       disable\n\
             \x20\n\
             0000 ",
        );
        let v = protocols_json(&r);
        let d = &v[0]["details"];
        assert_eq!(
            d["Receive limit"],
            json!({"limit": 200, "hit": false, "action": "block"})
        );
        assert_eq!(
            d["Import limit"],
            json!({"limit": 5, "hit": true, "action": "disable"})
        );
        assert!(d.get("Action").is_none());
        assert_eq!(v[0]["info"], "Automatic shutdown: Route limit exceeded");
    }

    #[test]
    fn routes_json_from_bird_1_6_and_bird_2_text() {
        let r = reply(
            "1007-10.99.0.0/24       dev ck1 [direct1 05:29:13] * (240)\n\
             \x2010.99.64.0/26      blackhole [static1 05:29:13] * (200)\n\
             \x2010.99.65.0/26      via 10.99.0.2 on ck1 [Mesh_10_99_0_2 05:29:15] * (100/0) [i]\n\
             \x20                   via 10.99.0.3 on ck1 [Mesh_10_99_0_3 05:29:15] (100/0) [i]\n\
             0000 ",
        );
        let v = routes_json(&r);
        assert_eq!(v[0]["kind"], "dev");
        assert_eq!(v[1]["kind"], "blackhole");
        assert_eq!(v[2]["gateway"], "10.99.0.2");
        assert_eq!(v[2]["protocol"], "Mesh_10_99_0_2");
        assert_eq!(v[2]["primary"], true);
        assert_eq!(v[2]["info"], "(100/0) [i]");
        assert_eq!(v[3]["network"], "10.99.65.0/26");
        assert_eq!(v[3]["primary"], false);
        let r2 = reply(
            "1007-Table master4:\n\
             \x2010.0.0.0/26          unicast [ours 05:27:12.258] * (100) [i]\n\
             \x20\tvia 10.99.0.2 on ck1\n\
             0000 ",
        );
        let v2 = routes_json(&r2);
        assert_eq!(v2[0]["network"], "10.0.0.0/26");
        assert_eq!(v2[0]["nexthops"][0]["gateway"], "10.99.0.2");
    }

    #[test]
    fn routes_json_carries_type_attributes_and_why_a_path_is_not_the_best() {
        let r = reply(
            "1007-10.99.5.0/24       via 10.99.0.2 on eth0 [Mesh_10_99_0_2 17:27:58] * (100/0) [AS65010i]\n\
             1008-\tType: BGP unicast univ\n\
             1012-\tBGP.origin: IGP\n\
             \x20\tBGP.as_path: \n\
             \x20\tBGP.local_pref: 200\n\
             \x20\tBGP.community: (65000,1) (65000,2)\n\
             \x20\t\t(65000,3)\n\
             1007-                   via 10.99.0.3 on eth0 [Global_10_99_0_3 17:27:58] (100/0) [AS65003i]\n\
             1008-\tType: BGP unicast univ\n\
             1012-\tBGP.as_path: 65003\n\
             \x20\tNot best: lost on LOCAL_PREF (100 < 200) to 10.99.0.2\n\
             0000 ",
        );
        let v = routes_json(&r);
        assert_eq!(v.as_array().map(Vec::len), Some(2));
        assert_eq!(v[0]["type"], "BGP unicast univ");
        assert_eq!(v[0]["attributes"]["BGP.origin"], "IGP");
        assert_eq!(v[0]["attributes"]["BGP.as_path"], "");
        assert_eq!(
            v[0]["attributes"]["BGP.community"],
            "(65000,1) (65000,2) (65000,3)"
        );
        assert_eq!(v[0]["primary"], true);
        assert!(v[0].get("not_best").is_none());
        assert_eq!(v[1]["network"], "10.99.5.0/24");
        assert_eq!(v[1]["attributes"]["BGP.as_path"], "65003");
        assert_eq!(
            v[1]["not_best"],
            "lost on LOCAL_PREF (100 < 200) to 10.99.0.2"
        );
    }
}
