//! The sandbox twin of the website reader: a built-in demo agency site (Harbour Lane Digital,
//! a Sydney agency for clinics, law firms and trades), parsed by the same HTML code as the
//! real reader, whatever address is asked for. `agencyctl dev` serves the same pages locally.

use agency_domain::icp::{PageKind, SiteSnapshot};
use async_trait::async_trait;
use url::Url;

use super::html::parse_page;
use super::{WebsiteError, WebsiteReader};

/// The demo site: (path, kind, HTML).
pub const SANDBOX_PAGES: &[(&str, PageKind, &str)] = &[
    ("/", PageKind::Home, HOME),
    ("/services", PageKind::Services, SERVICES),
    ("/case-studies", PageKind::Work, WORK),
    ("/about", PageKind::About, ABOUT),
    ("/contact", PageKind::Contact, CONTACT),
];

const HOME: &str = r#"<!doctype html>
<html lang="en-AU"><head>
<title>Harbour Lane Digital | Sydney Digital Marketing Agency</title>
<meta name="description" content="Harbour Lane Digital helps Sydney dental clinics, law firms and trades businesses win more enquiries with SEO, Google Ads and websites that convert.">
<meta property="og:site_name" content="Harbour Lane Digital">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"ProfessionalService","name":"Harbour Lane Digital",
"description":"A Sydney digital marketing agency for clinics, law firms and trades businesses.",
"slogan":"More enquiries, less guesswork","telephone":"(02) 9555 0142","foundingDate":"2014",
"numberOfEmployees":{"@type":"QuantitativeValue","value":18},
"address":{"@type":"PostalAddress","streetAddress":"Level 3, 88 Foveaux Street","addressLocality":"Surry Hills","addressRegion":"NSW","postalCode":"2010","addressCountry":"AU"},
"areaServed":["Sydney","Newcastle"]}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/services">Services</a> <a href="/case-studies">Case studies</a> <a href="/about">About</a> <a href="/contact">Contact</a> <a href="/blog/seo-checklist">Blog</a></nav>
<h1>We help Sydney clinics, law firms and trades win more enquiries</h1>
<p>Harbour Lane Digital is a Google Partner agency for small and medium-sized businesses across Sydney and Newcastle.</p>
<h2>Trusted by</h2>
<img src="/logos/smile.png" alt="Bondi Smile Dental logo"><img src="/logos/keystone.png" alt="Keystone Lawyers logo"><img src="/logos/volt.png" alt="Volt Electrical logo">
<h2>Tired of ads that don't pay?</h2>
<p>Most of our clients came to us tired of paying for Google Ads that never turned into booked appointments.</p>
<p>No lock-in contracts. Month-to-month, with transparent reporting every week.</p>
<footer><address>Level 3, 88 Foveaux Street, Surry Hills NSW 2010 · (02) 9555 0142</address></footer>
</body></html>"#;

const SERVICES: &str = r#"<!doctype html>
<html><head><title>Services | Harbour Lane Digital</title>
<meta name="description" content="SEO, Google Ads, web design and social media for Sydney businesses."></head><body>
<h1>Our services</h1>
<h2>Search engine optimisation (SEO)</h2>
<p>Local SEO that puts dental clinics and law firms at the top of Google Maps. Technical SEO audits, content and link building.</p>
<h2>Google Ads management</h2>
<p>Google Ads and PPC campaigns built around booked appointments, not clicks. Paid search for clinics, lawyers and tradies.</p>
<h2>Web design and development</h2>
<p>Fast WordPress websites and landing pages designed to convert visitors into enquiries.</p>
<h2>Social media marketing</h2>
<p>Facebook ads and Instagram content for local businesses.</p>
</body></html>"#;

const WORK: &str = r#"<!doctype html>
<html><head><title>Case studies | Harbour Lane Digital</title></head><body>
<h1>Case studies</h1>
<h2>Bondi Smile Dental: 3x new patient bookings</h2>
<p>A dental clinic in Bondi struggling to fill its chairs on weekdays. SEO and Google Ads tripled new patient bookings in six months.</p>
<h2>Keystone Lawyers — 140% more enquiries</h2>
<p>A family law firm in Parramatta. New website, local SEO and paid search for their legal services.</p>
<h2>Volt Electrical</h2>
<p>An electrician and trades business on the Central Coast: Google Ads for emergency call-outs.</p>
<h3>Northside Physio</h3>
<p>Allied health clinic: landing pages and Google Ads.</p>
</body></html>"#;

const ABOUT: &str = r#"<!doctype html>
<html><head><title>About us | Harbour Lane Digital</title>
<meta name="description" content="Founded in 2014, Harbour Lane Digital is a team of 18 marketers in Surry Hills."></head><body>
<h1>About Harbour Lane Digital</h1>
<p>Founded in 2014, we are an Australian owned team of 18 specialists working with practice owners, managing partners and business owners.</p>
<p>We are a certified Google Partner and we specialise in healthcare, legal and trades businesses.</p>
<h2>Meet the team</h2>
<h3>Olivia Chen</h3><p>Managing Director</p>
<h3>Marcus Reid</h3><p>Head of SEO</p>
</body></html>"#;

const CONTACT: &str = r#"<!doctype html>
<html><head><title>Contact | Harbour Lane Digital</title></head><body>
<h1>Contact us</h1>
<p>Level 3, 88 Foveaux Street, Surry Hills NSW 2010</p>
<p>Phone (02) 9555 0142 · hello@harbourlane.example</p>
</body></html>"#;

/// Answers every address with the demo site.
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxWebsiteReader;

#[async_trait]
impl WebsiteReader for SandboxWebsiteReader {
    async fn read_site(&self, url: &Url) -> Result<SiteSnapshot, WebsiteError> {
        let pages = SANDBOX_PAGES
            .iter()
            .map(|(path, kind, html)| {
                let page_url = url
                    .join(path)
                    .map_or_else(|_| url.to_string(), |u| u.to_string());
                parse_page(&page_url, *kind, html).0
            })
            .collect();
        Ok(SiteSnapshot {
            website_url: url.to_string(),
            pages,
        })
    }

    fn is_sandbox(&self) -> bool {
        true
    }
}
