//! [`HttpWebsiteReader`]: reads the home page, then one page of each kind that matters
//! (services, work, about, team, contact) found from the home page's same-site links, within
//! the page cap, each capped in size and time, the whole site within a deadline. robots.txt is
//! fetched first and honoured. Every connection goes through the SSRF guard.

use std::sync::Arc;

use agency_domain::icp::{PageKind, SiteSnapshot};
use async_trait::async_trait;
use reqwest::redirect;
use url::Url;

use super::guard::{AddressPolicy, GuardedResolver, is_blocked};
use super::html::{Link, parse_page};
use super::robots::Robots;
use super::{ROBOTS_TOKEN, ReaderLimits, USER_AGENT, WebsiteError, WebsiteReader};

/// Bytes of robots.txt read at most.
const MAX_ROBOTS_BYTES: usize = 64 * 1024;
/// The page kinds read after the home page, in order of value.
const WANTED: &[PageKind] = &[
    PageKind::Services,
    PageKind::Work,
    PageKind::About,
    PageKind::Team,
    PageKind::Contact,
];

/// The real website reader.
#[derive(Debug, Clone)]
pub struct HttpWebsiteReader {
    client: reqwest::Client,
    policy: AddressPolicy,
    limits: ReaderLimits,
}

impl HttpWebsiteReader {
    /// A reader with the system resolver behind the guard of `policy`.
    pub fn new(policy: AddressPolicy, limits: ReaderLimits) -> Result<Self, String> {
        Self::with_resolver(GuardedResolver::new(policy), policy, limits)
    }

    /// A reader over a given guarded resolver (tests resolve names from a table).
    pub fn with_resolver(
        resolver: GuardedResolver,
        policy: AddressPolicy,
        limits: ReaderLimits,
    ) -> Result<Self, String> {
        let max_redirects = limits.max_redirects;
        let redirects = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(TooManyRedirects);
            }
            if !matches!(attempt.url().scheme(), "http" | "https") {
                return attempt.stop();
            }
            match policy.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(blocked) => attempt.error(blocked),
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.request_timeout)
            .redirect(redirects)
            .dns_resolver(Arc::new(resolver))
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            policy,
            limits,
        })
    }

    async fn read(&self, url: &Url) -> Result<SiteSnapshot, WebsiteError> {
        self.policy
            .check_url(url)
            .map_err(|_| WebsiteError::Blocked)?;
        let robots = self.robots(url).await;
        if !robots.allows(&path_of(url)) {
            return Err(WebsiteError::RobotsDisallowed);
        }
        let home = self.fetch(url).await?;
        let (home_page, links) = parse_page(home.url.as_str(), PageKind::Home, &home.body);
        let mut pages = vec![home_page];
        for (kind, link) in pick_links(&home.url, &links, self.limits.max_pages.saturating_sub(1)) {
            if !robots.allows(&path_of(&link)) {
                continue;
            }
            match self.fetch(&link).await {
                Ok(fetched) if same_site(&home.url, &fetched.url) => {
                    pages.push(parse_page(fetched.url.as_str(), kind, &fetched.body).0);
                }
                Ok(fetched) => {
                    tracing::debug!(url = %fetched.url, "skipped a page that redirected off the site");
                }
                Err(e) => tracing::debug!(url = %link, error = %e, "skipped an unreadable page"),
            }
        }
        let snapshot = SiteSnapshot {
            website_url: url.to_string(),
            pages,
        };
        if snapshot.word_count() < self.limits.min_words {
            return Err(WebsiteError::NoReadableText);
        }
        Ok(snapshot)
    }

    /// The robots.txt of `url`'s origin; anything but a readable 2xx allows everything.
    async fn robots(&self, url: &Url) -> Robots {
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Robots::allow_all();
        };
        let response = match self.client.get(robots_url).send().await {
            Ok(r) if r.status().is_success() => r,
            _ => return Robots::allow_all(),
        };
        match read_capped(response, MAX_ROBOTS_BYTES).await {
            Ok(body) => Robots::parse(&body, ROBOTS_TOKEN),
            Err(_) => Robots::allow_all(),
        }
    }

    /// One page: a 2xx HTML answer, its final URL and up to the size cap of its body.
    async fn fetch(&self, url: &Url) -> Result<Fetched, WebsiteError> {
        let response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml")
            .send()
            .await
            .map_err(|e| classify(url, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(WebsiteError::HttpStatus(status.as_u16()));
        }
        let is_html = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.to_ascii_lowercase().contains("html"));
        if !is_html {
            return Err(WebsiteError::NotHtml);
        }
        let final_url = response.url().clone();
        let body = read_capped(response, self.limits.max_page_bytes)
            .await
            .map_err(|e| classify(url, &e))?;
        Ok(Fetched {
            url: final_url,
            body,
        })
    }
}

#[async_trait]
impl WebsiteReader for HttpWebsiteReader {
    async fn read_site(&self, url: &Url) -> Result<SiteSnapshot, WebsiteError> {
        tokio::time::timeout(self.limits.total_timeout, self.read(url))
            .await
            .unwrap_or(Err(WebsiteError::Timeout))
    }
}

struct Fetched {
    url: Url,
    body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

fn has_source<E: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<E>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

fn classify(url: &Url, err: &reqwest::Error) -> WebsiteError {
    if is_blocked(err) {
        WebsiteError::Blocked
    } else if has_source::<TooManyRedirects>(err) {
        WebsiteError::TooManyRedirects
    } else if err.is_timeout() {
        WebsiteError::Timeout
    } else {
        WebsiteError::Unreachable(url.host_str().unwrap_or("the website").to_owned())
    }
}

/// Reads at most `cap` bytes of the body (the rest is left unread), as UTF-8 (lossy).
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<String, reqwest::Error> {
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn bare_host(url: &Url) -> Option<String> {
    url.host_str()
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

/// Same host (ignoring `www.`) and the same explicit port (http and https on their default
/// ports count as the same site).
fn same_site(a: &Url, b: &Url) -> bool {
    bare_host(a) == bare_host(b) && a.port() == b.port()
}

/// One same-site link of each wanted kind, in order of value, at most `room`.
fn pick_links(base: &Url, links: &[Link], room: usize) -> Vec<(PageKind, Url)> {
    let mut picked: Vec<(PageKind, Url)> = Vec::new();
    for kind in WANTED {
        if picked.len() >= room {
            break;
        }
        let found = links.iter().find_map(|link| {
            let mut url = base.join(&link.href).ok()?;
            url.set_fragment(None);
            let fits = matches!(url.scheme(), "http" | "https")
                && same_site(base, &url)
                && url.path() != base.path()
                && PageKind::of_link(url.path(), &link.text) == Some(*kind)
                && !picked.iter().any(|(_, u)| *u == url);
            fits.then_some(url)
        });
        if let Some(url) = found {
            picked.push((*kind, url));
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(href: &str, text: &str) -> Link {
        Link {
            href: href.into(),
            text: text.into(),
        }
    }

    #[test]
    fn one_same_site_link_of_each_kind_is_picked_in_order_of_value() {
        let base = Url::parse("https://www.brightside.example/").unwrap();
        let links = [
            link("/", "Home"),
            link("https://facebook.com/brightside", "Facebook"),
            link("/about-us", "About"),
            link("https://brightside.example/services#seo", "Services"),
            link("/services/seo", "SEO"),
            link("mailto:hi@brightside.example", "Email us"),
            link("/blog/case-study-tips", "Case study tips"),
            link("/case-studies", "Our work"),
            link("http://evil.example/contact", "Contact"),
            link("/contact", "Contact"),
        ];
        let picked: Vec<(PageKind, String)> = pick_links(&base, &links, 5)
            .into_iter()
            .map(|(k, u)| (k, u.to_string()))
            .collect();
        assert_eq!(
            picked,
            vec![
                (
                    PageKind::Services,
                    "https://brightside.example/services".to_owned()
                ),
                (
                    PageKind::Work,
                    "https://www.brightside.example/case-studies".to_owned()
                ),
                (
                    PageKind::About,
                    "https://www.brightside.example/about-us".to_owned()
                ),
                (
                    PageKind::Contact,
                    "https://www.brightside.example/contact".to_owned()
                ),
            ]
        );
        assert_eq!(pick_links(&base, &links, 2).len(), 2);
    }
}
