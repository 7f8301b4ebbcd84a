//! One HTML page into a [`WebPage`] (with the `scraper` HTML parser): title, meta description,
//! `og:site_name`, `h1`-`h3`, readable text (scripts, styles, templates, SVG and forms' hidden
//! parts left out), image alt texts and JSON-LD organisations; plus the page's links.

use std::sync::LazyLock;

use agency_domain::icp::{Heading, Organization, PageKind, PostalAddress, WebPage};
use scraper::{ElementRef, Html, Node, Selector};
use serde_json::Value;

/// A link on a page: its `href` as written and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The `href`.
    pub href: String,
    /// The anchor text, whitespace collapsed.
    pub text: String,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e}"))
}

static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));
static META: LazyLock<Selector> = LazyLock::new(|| selector("meta"));
static HEADINGS: LazyLock<Selector> = LazyLock::new(|| selector("h1, h2, h3"));
static IMAGES: LazyLock<Selector> = LazyLock::new(|| selector("img[alt]"));
static LINKS: LazyLock<Selector> = LazyLock::new(|| selector("a[href]"));
static JSON_LD: LazyLock<Selector> =
    LazyLock::new(|| selector(r#"script[type="application/ld+json"]"#));
static BODY: LazyLock<Selector> = LazyLock::new(|| selector("body"));

/// Elements whose content is not readable text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "iframe", "head", "select", "button",
    "canvas", "object",
];
/// Elements that end a block of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "tr",
    "td",
    "th",
    "table",
    "blockquote",
    "address",
    "figcaption",
    "dd",
    "dt",
    "form",
];
/// Most characters of readable text kept per page.
const MAX_TEXT_CHARS: usize = 100_000;

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn element_text(e: ElementRef<'_>) -> String {
    collapse(&e.text().collect::<String>())
}

/// Parses `html` read from `url` as a page of `kind`.
pub fn parse_page(url: &str, kind: PageKind, html: &str) -> (WebPage, Vec<Link>) {
    let doc = Html::parse_document(html);
    let mut page = WebPage::new(url, kind);
    page.title = doc
        .select(&TITLE)
        .next()
        .map(element_text)
        .filter(|t| !t.is_empty());
    let mut og_description = None;
    for meta in doc.select(&META) {
        let attr = |name: &str| meta.value().attr(name).map(str::trim);
        let key = attr("name")
            .or_else(|| attr("property"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let Some(content) = attr("content").map(collapse).filter(|c| !c.is_empty()) else {
            continue;
        };
        match key.as_str() {
            "description" => page.meta_description = Some(content),
            "og:description" => og_description = Some(content),
            "og:site_name" => page.site_name = Some(content),
            _ => {}
        }
    }
    if page.meta_description.is_none() {
        page.meta_description = og_description;
    }
    page.headings = doc
        .select(&HEADINGS)
        .filter_map(|h| {
            let level = h.value().name()[1..].parse().ok()?;
            let text = element_text(h);
            (!text.is_empty()).then_some(Heading { level, text })
        })
        .collect();
    page.image_alts = doc
        .select(&IMAGES)
        .filter_map(|i| i.value().attr("alt").map(collapse))
        .filter(|a| !a.is_empty())
        .collect();
    let root = doc
        .select(&BODY)
        .next()
        .unwrap_or_else(|| doc.root_element());
    let mut raw = String::new();
    readable_text(root, &mut raw);
    page.text = raw
        .lines()
        .map(collapse)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    for script in doc.select(&JSON_LD) {
        let body = script.text().collect::<String>();
        if let Ok(value) = serde_json::from_str::<Value>(body.trim()) {
            collect_organizations(&value, &mut page.organizations, 0);
        }
    }
    let links = doc
        .select(&LINKS)
        .filter_map(|a| {
            let href = a.value().attr("href")?.trim().to_owned();
            Some(Link {
                href,
                text: element_text(a),
            })
        })
        .collect();
    (page, links)
}

fn readable_text(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIPPED.contains(&name) || e.attr("hidden").is_some() {
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    out.push('\n');
                }
                if let Some(el) = ElementRef::wrap(child) {
                    readable_text(el, out);
                }
                if block {
                    out.push('\n');
                } else {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

/// The readable text of an HTML fragment or document (scripts, styles and hidden parts
/// skipped; block elements on their own lines; runs of blank lines folded). Used for an email
/// that arrives with an HTML part only.
pub fn html_to_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let mut out = String::new();
    readable_text(document.root_element(), &mut out);
    out.lines()
        .map(collapse)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_organization_type(value: &Value) -> bool {
    let check = |t: &str| {
        t.contains("Organization")
            || t.contains("Business")
            || t.contains("Agency")
            || t.contains("Corporation")
            || t == "ProfessionalService"
    };
    match value {
        Value::String(t) => check(t),
        Value::Array(items) => items.iter().filter_map(Value::as_str).any(check),
        _ => false,
    }
}

fn string_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(collapse(s)).filter(|s| !s.is_empty()),
        Value::Object(o) => string_of(o.get("name")),
        Value::Array(items) => items.iter().find_map(|v| string_of(Some(v))),
        _ => None,
    }
}

fn strings_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| string_of(Some(v))).collect(),
        other => string_of(other).into_iter().collect(),
    }
}

fn number_of(value: Option<&Value>) -> Option<u32> {
    match value? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().trim_end_matches('+').parse().ok(),
        Value::Object(o) => number_of(o.get("value"))
            .or_else(|| number_of(o.get("maxValue")))
            .or_else(|| number_of(o.get("minValue"))),
        _ => None,
    }
}

fn address_of(value: &Value) -> Option<PostalAddress> {
    match value {
        Value::String(s) => Some(PostalAddress {
            street: Some(collapse(s)),
            ..PostalAddress::default()
        }),
        Value::Object(o) => Some(PostalAddress {
            street: string_of(o.get("streetAddress")),
            locality: string_of(o.get("addressLocality")),
            region: string_of(o.get("addressRegion")),
            postcode: string_of(o.get("postalCode")),
            country: string_of(o.get("addressCountry")),
        }),
        _ => None,
    }
}

/// Walks a JSON-LD document (objects, arrays, `@graph`) and keeps every organisation.
fn collect_organizations(value: &Value, out: &mut Vec<Organization>, depth: usize) {
    if depth > 6 {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                collect_organizations(item, out, depth + 1);
            }
        }
        Value::Object(o) => {
            if o.get("@type").is_some_and(is_organization_type) {
                let addresses = match o.get("address") {
                    Some(Value::Array(items)) => items.iter().filter_map(address_of).collect(),
                    Some(one) => address_of(one).into_iter().collect(),
                    None => Vec::new(),
                };
                out.push(Organization {
                    name: string_of(o.get("name")),
                    description: string_of(o.get("description")),
                    slogan: string_of(o.get("slogan")),
                    telephone: string_of(o.get("telephone")),
                    addresses,
                    employees: number_of(o.get("numberOfEmployees")),
                    founding_year: string_of(o.get("foundingDate"))
                        .and_then(|d| d.get(..4).and_then(|y| y.parse().ok())),
                    area_served: strings_of(o.get("areaServed")),
                });
            }
            for (key, nested) in o {
                if key != "address" && (nested.is_object() || nested.is_array()) {
                    collect_organizations(nested, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_to_text_keeps_readable_lines_only() {
        let text = super::html_to_text(
            "<html><head><style>p{}</style></head><body><p>Sounds good, <b>Thursday</b> works</p>\
             <script>alert(1)</script><div>At 2pm?</div></body></html>",
        );
        assert_eq!(text, "Sounds good, Thursday works\nAt 2pm?");
    }

    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head>
      <title>Brightside Digital | Sydney SEO Agency</title>
      <meta name="description" content="We help Sydney clinics  grow.">
      <meta property="og:site_name" content="Brightside Digital">
      <style>.x{color:red}</style>
      <script>var tracking = "do not read";</script>
      <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
        {"@type":"WebSite","name":"site","publisher":{"@type":"Organization","name":"Brightside Digital",
         "numberOfEmployees":{"@type":"QuantitativeValue","value":14},"foundingDate":"2012-03-01",
         "address":{"@type":"PostalAddress","addressLocality":"Surry Hills","addressRegion":"NSW","postalCode":"2010","addressCountry":"AU"},
         "areaServed":["Sydney",{"@type":"City","name":"Newcastle"}]}}]}</script>
      </head><body>
      <nav><a href="/services">Services</a> <a href="https://other.example/x">Elsewhere</a></nav>
      <h1>We help   clinics grow</h1><p>Line one<br>line two</p>
      <template><p>hidden template</p></template><div hidden>also hidden</div>
      <img src="a.png" alt="Acme Dental logo"><img src="b.png" alt="">
      <h2>Our work</h2><noscript>enable js</noscript>
      </body></html>"#;

    #[test]
    fn a_page_keeps_its_readable_parts_and_drops_code() {
        let (page, links) = parse_page("https://brightside.example/", PageKind::Home, PAGE);
        assert_eq!(
            page.title.as_deref(),
            Some("Brightside Digital | Sydney SEO Agency")
        );
        assert_eq!(
            page.meta_description.as_deref(),
            Some("We help Sydney clinics grow.")
        );
        assert_eq!(page.site_name.as_deref(), Some("Brightside Digital"));
        assert_eq!(
            page.headings,
            vec![
                Heading {
                    level: 1,
                    text: "We help clinics grow".into()
                },
                Heading {
                    level: 2,
                    text: "Our work".into()
                },
            ]
        );
        assert!(page.text.contains("Line one\nline two"), "{}", page.text);
        for hidden in [
            "tracking",
            "color",
            "hidden template",
            "also hidden",
            "enable js",
        ] {
            assert!(
                !page.text.contains(hidden),
                "{hidden} leaked into {}",
                page.text
            );
        }
        assert_eq!(page.image_alts, vec!["Acme Dental logo".to_owned()]);
        assert_eq!(links.len(), 2);
        assert_eq!(
            links[0],
            Link {
                href: "/services".into(),
                text: "Services".into()
            }
        );
        let org = &page.organizations[0];
        assert_eq!(page.organizations.len(), 1);
        assert_eq!(org.name.as_deref(), Some("Brightside Digital"));
        assert_eq!(org.employees, Some(14));
        assert_eq!(org.founding_year, Some(2012));
        assert_eq!(org.addresses[0].locality.as_deref(), Some("Surry Hills"));
        assert_eq!(
            org.area_served,
            vec!["Sydney".to_owned(), "Newcastle".to_owned()]
        );
    }
}
