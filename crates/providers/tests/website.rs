//! The website reader against local HTTP servers: a realistic agency site with a redirect, a
//! huge page, a slow page, a link to another site and one to a private address; robots.txt;
//! redirect loops; script-only sites; and the SSRF guard refusing loopback, private and
//! metadata addresses in production mode (without sending them any traffic).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agency_domain::icp::PageKind;
use agency_providers::website::guard::Lookup;
use agency_providers::website::{
    AddressPolicy, GuardedResolver, HttpWebsiteReader, ReaderLimits, WebsiteError, WebsiteReader,
};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn html(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "text/html; charset=utf-8")
}

async fn page(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

fn limits() -> ReaderLimits {
    ReaderLimits {
        max_page_bytes: 64 * 1024,
        request_timeout: Duration::from_millis(800),
        total_timeout: Duration::from_secs(20),
        ..ReaderLimits::default()
    }
}

fn dev_reader() -> HttpWebsiteReader {
    HttpWebsiteReader::new(
        AddressPolicy {
            allow_private: true,
        },
        limits(),
    )
    .expect("reader")
}

fn production_reader() -> HttpWebsiteReader {
    HttpWebsiteReader::new(AddressPolicy::PUBLIC_ONLY, limits()).expect("reader")
}

const WORDS: &str = "We are a Sydney marketing agency helping dental clinics and law firms grow with SEO and \
    Google Ads. Our team builds websites, runs paid search and writes content for local businesses \
    across New South Wales.";

async fn requests_to(server: &MockServer, at: &str) -> usize {
    server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path() == at)
        .count()
}

#[tokio::test]
async fn the_home_page_and_the_pages_that_matter_are_read_within_the_limits() {
    let site = MockServer::start().await;
    let other = MockServer::start().await;
    let other_link = format!("http://localhost:{}/contact", other.address().port());
    page(
        &site,
        "/",
        html(&format!(
            r#"<html><head><title>Harbour Lane Digital</title></head><body>
            <a href="/services">Services</a> <a href="/case-studies">Work</a> <a href="/about">About</a>
            <a href="{other_link}">Contact (other site)</a> <a href="http://10.0.0.1/team">Team</a>
            <a href="/contact">Contact</a><p>{WORDS}</p></body></html>"#
        )),
    )
    .await;
    page(
        &site,
        "/services",
        ResponseTemplate::new(301).insert_header("location", "/our-services"),
    )
    .await;
    page(
        &site,
        "/our-services",
        html("<h1>Our services</h1><h2>SEO</h2><p>Local SEO for clinics.</p>"),
    )
    .await;
    let huge = format!(
        "<h1>Case studies</h1><p>{}</p><p>END-OF-HUGE-PAGE</p>",
        "Bondi Smile Dental. ".repeat(20_000)
    );
    page(&site, "/case-studies", html(&huge)).await;
    page(
        &site,
        "/about",
        html("<h1>About</h1><p>slow</p>").set_delay(Duration::from_secs(3)),
    )
    .await;
    page(
        &site,
        "/contact",
        html("<h1>Contact</h1><p>Surry Hills NSW 2010</p>"),
    )
    .await;
    page(&other, "/contact", html("<p>not ours</p>")).await;

    let snapshot = dev_reader()
        .read_site(&Url::parse(&site.uri()).unwrap())
        .await
        .expect("read");
    let kinds: Vec<(PageKind, String)> = snapshot
        .pages
        .iter()
        .map(|p| (p.kind, Url::parse(&p.url).unwrap().path().to_owned()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (PageKind::Home, "/".to_owned()),
            (PageKind::Services, "/our-services".to_owned()),
            (PageKind::Work, "/case-studies".to_owned()),
            (PageKind::Contact, "/contact".to_owned()),
        ],
        "the slow about page is skipped"
    );
    let work = &snapshot.pages[2];
    assert!(work.text.len() <= 64 * 1024, "{}", work.text.len());
    assert!(
        !work.text.contains("END-OF-HUGE-PAGE"),
        "the page was cut at the size cap"
    );
    assert_eq!(
        requests_to(&other, "/contact").await,
        0,
        "another site is never read"
    );
    assert_eq!(requests_to(&site, "/about").await, 1);
}

#[tokio::test]
async fn robots_txt_is_honoured() {
    let site = MockServer::start().await;
    page(
        &site,
        "/",
        html(&format!(
            r#"<a href="/services">Services</a><a href="/about">About</a><p>{WORDS}</p>"#
        )),
    )
    .await;
    page(&site, "/services", html("<h1>Services</h1>")).await;
    page(&site, "/about", html("<h1>About</h1>")).await;
    Mock::given(method("GET"))
        .and(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "User-agent: *\nDisallow: /\n\nUser-agent: AgencyOS-SiteReader\nDisallow: /services\n",
        ))
        .mount(&site)
        .await;
    let snapshot = dev_reader()
        .read_site(&Url::parse(&site.uri()).unwrap())
        .await
        .expect("read");
    let kinds: Vec<PageKind> = snapshot.pages.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![PageKind::Home, PageKind::About]);
    assert_eq!(requests_to(&site, "/services").await, 0);

    let closed = MockServer::start().await;
    page(&closed, "/", html(&format!("<p>{WORDS}</p>"))).await;
    page(
        &closed,
        "/robots.txt",
        ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /\n"),
    )
    .await;
    let err = dev_reader()
        .read_site(&Url::parse(&closed.uri()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, WebsiteError::RobotsDisallowed);
    assert_eq!(requests_to(&closed, "/").await, 0);
}

#[tokio::test]
async fn loops_errors_and_empty_sites_fail_with_their_reason() {
    let site = MockServer::start().await;
    page(
        &site,
        "/loop-a",
        ResponseTemplate::new(302).insert_header("location", "/loop-b"),
    )
    .await;
    page(
        &site,
        "/loop-b",
        ResponseTemplate::new(302).insert_header("location", "/loop-a"),
    )
    .await;
    page(&site, "/broken", ResponseTemplate::new(500)).await;
    page(
        &site,
        "/pdf",
        ResponseTemplate::new(200).set_body_raw("%PDF", "application/pdf"),
    )
    .await;
    page(
        &site,
        "/empty",
        html("<html><body><script>render()</script><div id=app></div></body></html>"),
    )
    .await;
    page(
        &site,
        "/slow",
        html(WORDS).set_delay(Duration::from_secs(3)),
    )
    .await;
    let reader = dev_reader();
    let read = |p: &str| {
        let url = Url::parse(&format!("{}{p}", site.uri())).unwrap();
        let reader = reader.clone();
        async move { reader.read_site(&url).await.unwrap_err() }
    };
    assert_eq!(read("/loop-a").await, WebsiteError::TooManyRedirects);
    assert_eq!(read("/broken").await, WebsiteError::HttpStatus(500));
    assert_eq!(read("/pdf").await, WebsiteError::NotHtml);
    assert_eq!(read("/empty").await, WebsiteError::NoReadableText);
    assert_eq!(read("/slow").await, WebsiteError::Timeout);
    let loops = requests_to(&site, "/loop-a").await + requests_to(&site, "/loop-b").await;
    assert_eq!(loops, 6, "the first request and five redirects");
}

/// A resolver table: name -> addresses (no DNS).
struct Table(HashMap<String, Vec<SocketAddr>>);

impl Lookup for Table {
    fn lookup(
        &self,
        host: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
    {
        let found = self.0.get(&host).cloned().unwrap_or_default();
        Box::pin(async move { Ok(found) })
    }
}

#[tokio::test]
async fn the_guard_refuses_loopback_private_and_metadata_addresses_in_production() {
    let site = MockServer::start().await;
    page(&site, "/", html(&format!("<p>{WORDS}</p>"))).await;
    let port = site.address().port();
    let reader = production_reader();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        "http://10.0.0.8/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/".to_owned(),
    ] {
        let err = reader
            .read_site(&Url::parse(&url).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err, WebsiteError::Blocked, "{url}");
    }
    assert!(
        site.received_requests().await.unwrap().is_empty(),
        "no request reached the server"
    );

    // Names that resolve to private or metadata addresses are refused at connect time.
    let table = Table(HashMap::from([
        (
            "intranet.example".to_owned(),
            vec!["10.0.0.7:80".parse().unwrap()],
        ),
        (
            "metadata.example".to_owned(),
            vec!["169.254.169.254:80".parse().unwrap()],
        ),
        (
            "rebind.example".to_owned(),
            vec![
                "127.0.0.1:80".parse().unwrap(),
                "[fd00::1]:80".parse().unwrap(),
            ],
        ),
    ]));
    let guarded = GuardedResolver::with_lookup(AddressPolicy::PUBLIC_ONLY, Arc::new(table));
    let reader = HttpWebsiteReader::with_resolver(guarded, AddressPolicy::PUBLIC_ONLY, limits())
        .expect("reader");
    for host in ["intranet.example", "metadata.example", "rebind.example"] {
        let err = reader
            .read_site(&Url::parse(&format!("http://{host}/")).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err, WebsiteError::Blocked, "{host}");
    }
    // The same site with the development allowance is read.
    let snapshot = dev_reader()
        .read_site(&Url::parse(&format!("http://localhost:{port}/")).unwrap())
        .await
        .expect("development may read local sites");
    assert_eq!(snapshot.pages.len(), 1);
}
