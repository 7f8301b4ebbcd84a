//! Reading an agency's website for onboarding: the [`WebsiteReader`] trait, the real reader
//! ([`HttpWebsiteReader`]: the home page plus the few pages that matter, found from same-site
//! links; timeouts, a size cap per page, a page cap, bounded redirects, a user agent naming the
//! product, `robots.txt` honoured, and the SSRF guard of [`guard`]), its sandbox twin
//! ([`SandboxWebsiteReader`]), the HTML parsing ([`html`]) and the settings
//! ([`WebsiteReaderConfig`]) that choose and build one.

pub mod guard;
pub mod html;
mod reader;
pub mod robots;
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use agency_domain::icp::SiteSnapshot;
use async_trait::async_trait;
use clap::Args;
use url::Url;

use crate::config::ProvidersConfigError;
pub use guard::{AddressPolicy, BlockedAddress, GuardedResolver, Lookup};
pub use reader::HttpWebsiteReader;
pub use sandbox::{SANDBOX_PAGES, SandboxWebsiteReader};

/// The user agent of every request: the product and where to learn about it.
pub const USER_AGENT: &str = "AgencyOS-SiteReader/1.0 (+https://agencyos.com.au/bot)";
/// The product token robots.txt groups are matched against.
pub const ROBOTS_TOKEN: &str = "AgencyOS-SiteReader";

/// Why a website could not be read; every message is a sentence for the agency's staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebsiteError {
    /// Not an http(s) address with a host.
    #[error("The website address is not valid: {0}.")]
    InvalidUrl(String),
    /// The address is private, loopback, link-local or a cloud metadata address.
    #[error(
        "The website address points to a private or internal network address, which cannot be analysed. Use the public address of your website."
    )]
    Blocked,
    /// Could not connect (no such host, refused, TLS failure).
    #[error(
        "We could not reach {0}. Check the address and that the website is online, then try again."
    )]
    Unreachable(String),
    /// The site did not answer in time.
    #[error("The website took too long to answer. Try again in a few minutes.")]
    Timeout,
    /// The home page answered with an error status.
    #[error(
        "The website answered with an error (HTTP {0}) for its home page. Check the address, then try again."
    )]
    HttpStatus(u16),
    /// The home page is not HTML.
    #[error("The address does not lead to a web page. Enter your website's home page address.")]
    NotHtml,
    /// Redirected more often than allowed.
    #[error("The website redirects too many times, so it could not be read.")]
    TooManyRedirects,
    /// robots.txt forbids reading the home page.
    #[error(
        "The website's robots.txt asks automated readers not to read it, so it was not analysed."
    )]
    RobotsDisallowed,
    /// Too little readable text (an image-only or script-rendered site).
    #[error(
        "The website has too little readable text to analyse (it may be built entirely with scripts or images). You can enter your profile by hand instead."
    )]
    NoReadableText,
}

/// Reads a website: the home page and the pages that matter.
#[async_trait]
pub trait WebsiteReader: Send + Sync + std::fmt::Debug {
    /// Reads the site at `url` (an http(s) home page address).
    async fn read_site(&self, url: &Url) -> Result<SiteSnapshot, WebsiteError>;

    /// True for the sandbox twin.
    fn is_sandbox(&self) -> bool {
        false
    }
}

/// Limits of one site read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderLimits {
    /// Pages read at most, the home page included.
    pub max_pages: usize,
    /// Bytes read at most per page (the rest is ignored).
    pub max_page_bytes: usize,
    /// Redirects followed at most per request.
    pub max_redirects: usize,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time for one whole request.
    pub request_timeout: Duration,
    /// Time for the whole site.
    pub total_timeout: Duration,
    /// Fewest words of readable text over all pages.
    pub min_words: usize,
}

impl Default for ReaderLimits {
    fn default() -> Self {
        Self {
            max_pages: 6,
            max_page_bytes: 1_048_576,
            max_redirects: 5,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(45),
            min_words: 30,
        }
    }
}

/// Settings of the website reader (flattened into the worker's configuration).
#[derive(Debug, Clone, Args)]
pub struct WebsiteReaderConfig {
    /// Use the sandbox website reader (a built-in demo agency site) instead of the web.
    #[arg(long = "website-reader-sandbox", env = "WEBSITE_READER_SANDBOX", value_name = "WEBSITE_READER_SANDBOX", default_value_t = false, action = clap::ArgAction::Set)]
    pub sandbox: bool,
    /// Allow reading sites on private, loopback and link-local addresses (development and tests only; refused in production).
    #[arg(long = "website-allow-private-addresses", env = "WEBSITE_ALLOW_PRIVATE_ADDRESSES", value_name = "WEBSITE_ALLOW_PRIVATE_ADDRESSES", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private_addresses: bool,
    /// Pages read per site at most, the home page included.
    #[arg(long = "website-max-pages", env = "WEBSITE_MAX_PAGES", value_name = "WEBSITE_MAX_PAGES", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_pages: u32,
    /// Bytes read per page at most.
    #[arg(long = "website-max-page-bytes", env = "WEBSITE_MAX_PAGE_BYTES", value_name = "WEBSITE_MAX_PAGE_BYTES", default_value_t = 1_048_576, value_parser = clap::value_parser!(u64).range(4_096..=20_971_520))]
    pub max_page_bytes: u64,
    /// Seconds one page request may take.
    #[arg(long = "website-request-timeout-secs", env = "WEBSITE_REQUEST_TIMEOUT_SECS", value_name = "WEBSITE_REQUEST_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub request_timeout_secs: u64,
    /// Seconds reading one whole site may take.
    #[arg(long = "website-total-timeout-secs", env = "WEBSITE_TOTAL_TIMEOUT_SECS", value_name = "WEBSITE_TOTAL_TIMEOUT_SECS", default_value_t = 45, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub total_timeout_secs: u64,
}

impl Default for WebsiteReaderConfig {
    fn default() -> Self {
        let limits = ReaderLimits::default();
        Self {
            sandbox: false,
            allow_private_addresses: false,
            max_pages: limits.max_pages as u32,
            max_page_bytes: limits.max_page_bytes as u64,
            request_timeout_secs: limits.request_timeout.as_secs(),
            total_timeout_secs: limits.total_timeout.as_secs(),
        }
    }
}

impl WebsiteReaderConfig {
    /// The limits these settings describe.
    pub fn limits(&self) -> ReaderLimits {
        ReaderLimits {
            max_pages: self.max_pages as usize,
            max_page_bytes: usize::try_from(self.max_page_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            total_timeout: Duration::from_secs(self.total_timeout_secs),
            ..ReaderLimits::default()
        }
    }

    /// Builds the reader. Production refuses private addresses always, and the sandbox unless
    /// `allow_sandbox` (`ALLOW_SANDBOX_IN_PRODUCTION`).
    pub fn build(
        &self,
        production: bool,
        allow_sandbox: bool,
    ) -> Result<Arc<dyn WebsiteReader>, ProvidersConfigError> {
        if production && self.allow_private_addresses {
            return Err(ProvidersConfigError::Invalid {
                var: "WEBSITE_ALLOW_PRIVATE_ADDRESSES",
                reason: "private addresses are never read in production".into(),
            });
        }
        if self.sandbox {
            if production && !allow_sandbox {
                return Err(ProvidersConfigError::SandboxInProduction {
                    vars: vec!["WEBSITE_READER_SANDBOX"],
                });
            }
            tracing::warn!("website reader runs as a sandbox (a built-in demo site)");
            return Ok(Arc::new(SandboxWebsiteReader));
        }
        let policy = AddressPolicy {
            allow_private: self.allow_private_addresses,
        };
        let reader = HttpWebsiteReader::new(policy, self.limits()).map_err(|e| {
            ProvidersConfigError::Invalid {
                var: "WEBSITE_READER_SANDBOX",
                reason: e,
            }
        })?;
        Ok(Arc::new(reader))
    }
}

/// Parses what a person typed as a website address: adds `https://` when no scheme is given;
/// only http(s) with a host is accepted.
pub fn parse_website_url(input: &str) -> Result<Url, WebsiteError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(WebsiteError::InvalidUrl("it is empty".into()));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| WebsiteError::InvalidUrl(format!("it cannot be read as an address ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WebsiteError::InvalidUrl(format!(
            "only http and https addresses can be read, not {}",
            url.scheme()
        )));
    }
    match url.host_str() {
        Some(h)
            if h.contains('.')
                || h == "localhost"
                || url
                    .host()
                    .is_some_and(|h| !matches!(h, url::Host::Domain(_))) => {}
        _ => return Err(WebsiteError::InvalidUrl("it has no domain name".into())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebsiteError::InvalidUrl(
            "it must not contain a user name or password".into(),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_addresses_are_normalised_or_refused() {
        assert_eq!(
            parse_website_url(" brightside.com.au ").unwrap().as_str(),
            "https://brightside.com.au/"
        );
        assert_eq!(
            parse_website_url("http://www.brightside.com.au/about")
                .unwrap()
                .as_str(),
            "http://www.brightside.com.au/about"
        );
        for bad in [
            "",
            "ftp://x.com",
            "https://",
            "nodots",
            "https://u:p@x.com/",
            "mailto:a@b.com",
        ] {
            assert!(parse_website_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn production_refuses_private_addresses_and_a_silent_sandbox() {
        let private = WebsiteReaderConfig {
            allow_private_addresses: true,
            ..WebsiteReaderConfig::default()
        };
        assert!(private.build(true, true).is_err());
        assert!(private.build(false, false).is_ok());
        let sandbox = WebsiteReaderConfig {
            sandbox: true,
            ..WebsiteReaderConfig::default()
        };
        assert!(sandbox.build(true, false).is_err());
        assert!(sandbox.build(true, true).unwrap().is_sandbox());
        assert!(
            !WebsiteReaderConfig::default()
                .build(true, false)
                .unwrap()
                .is_sandbox()
        );
    }
}
