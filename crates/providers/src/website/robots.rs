//! `robots.txt`: the rules of the group naming our user-agent token (else the `*` group), with
//! the longest matching `Allow`/`Disallow` pattern deciding (`*` wildcards and a `$` end
//! anchor understood; a tie goes to `Allow`), as RFC 9309 describes.

/// One rule: (allow, pattern).
type Rule = (bool, String);
/// One group: its user agents and its rules.
type Group = (Vec<String>, Vec<Rule>);

/// The rules that apply to us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Robots {
    /// (allow, pattern), in file order.
    rules: Vec<Rule>,
}

impl Robots {
    /// Everything allowed (no robots.txt, or an unreadable one).
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Parses `body` for the crawler whose product token is `token` (case-insensitive).
    pub fn parse(body: &str, token: &str) -> Self {
        let token = token.to_ascii_lowercase();
        // (agents, rules) groups; consecutive user-agent lines share one group.
        let mut groups: Vec<Group> = Vec::new();
        let mut last_was_agent = false;
        for line in body.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !last_was_agent || groups.is_empty() {
                        groups.push((Vec::new(), Vec::new()));
                    }
                    if let Some(g) = groups.last_mut() {
                        g.0.push(value.to_ascii_lowercase());
                    }
                    last_was_agent = true;
                }
                "allow" | "disallow" => {
                    last_was_agent = false;
                    if let Some(g) = groups.last_mut()
                        && !value.is_empty()
                    {
                        g.1.push((key == "allow", value.to_owned()));
                    }
                }
                _ => last_was_agent = false,
            }
        }
        let ours: Vec<Rule> = groups
            .iter()
            .filter(|(agents, _)| {
                agents
                    .iter()
                    .any(|a| a != "*" && token.contains(a.as_str()))
            })
            .flat_map(|(_, rules)| rules.iter().cloned())
            .collect();
        let rules = if ours.is_empty()
            && !groups.iter().any(|(agents, _)| {
                agents
                    .iter()
                    .any(|a| a != "*" && token.contains(a.as_str()))
            }) {
            groups
                .iter()
                .filter(|(agents, _)| agents.iter().any(|a| a == "*"))
                .flat_map(|(_, rules)| rules.iter().cloned())
                .collect()
        } else {
            ours
        };
        Self { rules }
    }

    /// True when `path` (with its query) may be fetched.
    pub fn allows(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let len = pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, *allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Whether the robots pattern matches the start of `path`.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    glob(pattern.as_bytes(), path.as_bytes(), anchored)
}

fn glob(pattern: &[u8], text: &[u8], anchored: bool) -> bool {
    match pattern.split_first() {
        None => !anchored || text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..], anchored)),
        Some((c, rest)) => text
            .split_first()
            .is_some_and(|(t, text_rest)| t == c && glob(rest, text_rest, anchored)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_match_of_our_group_decides() {
        let body = "User-agent: *\nDisallow: /private/\nDisallow: /*.pdf$\nAllow: /private/open\n\n\
                    User-agent: BadBot\nDisallow: /\n";
        let r = Robots::parse(body, "AgencyOS");
        assert!(r.allows("/"));
        assert!(r.allows("/about"));
        assert!(!r.allows("/private/x"));
        assert!(r.allows("/private/open/page"));
        assert!(!r.allows("/files/brochure.pdf"));
        assert!(r.allows("/files/brochure.pdf?x=1"));
        assert!(!Robots::parse(body, "BadBot").allows("/about"));
    }

    #[test]
    fn a_group_naming_us_replaces_the_star_group_and_empty_disallow_allows() {
        let body =
            "User-agent: *\nDisallow: /\n\nUser-agent: agencyos\nUser-agent: other\nDisallow:\n";
        let r = Robots::parse(body, "AgencyOS-SiteReader");
        assert!(r.allows("/services"));
        assert!(!Robots::parse(body, "Googlebot").allows("/services"));
        assert!(Robots::allow_all().allows("/anything"));
        assert!(Robots::parse("garbage\n\n", "x").allows("/"));
    }
}
