//! The demo agency website dev mode serves on loopback (the pages of the sandbox website
//! reader: Harbour Lane Digital's home, services, case studies, about and contact pages, and a
//! robots.txt), so onboarding can analyse a real site over HTTP with no network. Dev mode lets
//! the worker's website reader read private and loopback addresses for it (the SSRF guard
//! still refuses them whenever the environment is production).

use std::net::SocketAddr;

use agency_providers::website::SANDBOX_PAGES;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

const ROBOTS: &str = "User-agent: *\nAllow: /\n";

/// The demo site's routes.
pub fn router() -> Router {
    let mut router = Router::new().route(
        "/robots.txt",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                ROBOTS,
            )
        }),
    );
    for (path, _, html) in SANDBOX_PAGES {
        let html: &'static str = html;
        router = router.route(
            path,
            get(move || async move {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
            }),
        );
    }
    router
}

/// Binds the demo site on `addr` and serves it in the background until the process ends;
/// returns the address it listens on.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("the demo website could not listen on {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router()).await {
            tracing::warn!(error = %e, "the demo website stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agency_domain::icp::extract_icp;
    use agency_providers::website::{
        AddressPolicy, HttpWebsiteReader, ReaderLimits, WebsiteReader, parse_website_url,
    };

    #[tokio::test]
    async fn onboarding_reads_the_demo_site_over_loopback() {
        let addr = serve(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("serve");
        let url = parse_website_url(&format!("http://{addr}/")).expect("url");
        // The development policy reads loopback; the production one refuses it.
        let dev = HttpWebsiteReader::new(
            AddressPolicy {
                allow_private: true,
            },
            ReaderLimits::default(),
        )
        .expect("reader");
        let site = dev.read_site(&url).await.expect("the demo site reads");
        assert_eq!(site.pages.len(), SANDBOX_PAGES.len());
        let profile = extract_icp(&site, chrono::Utc::now());
        assert_eq!(profile.company_name, "Harbour Lane Digital");
        assert!(!profile.icp_industries.is_empty());
        let public = HttpWebsiteReader::new(AddressPolicy::PUBLIC_ONLY, ReaderLimits::default())
            .expect("reader");
        assert!(public.read_site(&url).await.is_err());
    }
}
