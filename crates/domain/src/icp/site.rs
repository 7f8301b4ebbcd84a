//! What was read from a website: its pages' readable text, titles, meta descriptions,
//! headings, image alt texts and JSON-LD organisation data. Filled by the website reader in
//! `agency-providers`, read by the ICP extractor. Also which links lead to the pages worth
//! reading ([`PageKind::of_link`]).

use serde::{Deserialize, Serialize};

use crate::enum_macro::text_enum;

text_enum! {
    /// What a page of an agency's site is about.
    pub enum PageKind {
        /// The home page.
        Home => "home",
        /// About us / our story.
        About => "about",
        /// Services / what we do.
        Services => "services",
        /// Work, portfolio, case studies, clients.
        Work => "work",
        /// Team / people.
        Team => "team",
        /// Contact.
        Contact => "contact",
        /// Anything else.
        Other => "other",
    }
}

/// Words in a link's path or text that mark the page kinds worth reading, most telling first.
const LINK_WORDS: &[(PageKind, &[&str])] = &[
    (
        PageKind::Work,
        &[
            "case-stud",
            "case stud",
            "portfolio",
            "our-work",
            "our work",
            "work",
            "projects",
            "clients",
            "results",
        ],
    ),
    (
        PageKind::Services,
        &[
            "services",
            "service",
            "what-we-do",
            "what we do",
            "solutions",
            "capabilities",
            "expertise",
        ],
    ),
    (
        PageKind::About,
        &[
            "about",
            "our-story",
            "our story",
            "who-we-are",
            "who we are",
        ],
    ),
    (
        PageKind::Team,
        &["team", "people", "our-people", "meet-the", "meet the"],
    ),
    (
        PageKind::Contact,
        &[
            "contact",
            "get-in-touch",
            "get in touch",
            "enquire",
            "locations",
        ],
    ),
];

impl PageKind {
    /// The kind of page a same-site link leads to, from its path and its anchor text; `None`
    /// for pages not worth reading (blog posts, legal pages, files).
    pub fn of_link(path: &str, anchor_text: &str) -> Option<PageKind> {
        let path = path.to_ascii_lowercase();
        if path.trim_matches('/').is_empty() {
            return None;
        }
        let skip = [
            "/blog/",
            "/news/",
            "/tag/",
            "/category/",
            "/wp-",
            "privacy",
            "terms",
            "login",
            "cart",
            "/feed",
        ];
        let is_file = path
            .rsplit('/')
            .next()
            .and_then(|last| last.rsplit_once('.'))
            .is_some_and(|(_, ext)| !matches!(ext, "html" | "htm" | "php" | "aspx"));
        if is_file || skip.iter().any(|s| path.contains(s)) {
            return None;
        }
        let text = anchor_text.to_lowercase();
        LINK_WORDS.iter().find_map(|(kind, words)| {
            words
                .iter()
                .any(|w| path.contains(w) || text.contains(w))
                .then_some(*kind)
        })
    }
}

/// A heading (`h1` to `h3`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    /// 1 to 3.
    pub level: u8,
    /// Its text, whitespace collapsed.
    pub text: String,
}

/// A postal address from JSON-LD (`PostalAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Street.
    pub street: Option<String>,
    /// Suburb or city.
    pub locality: Option<String>,
    /// State or region.
    pub region: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// An organisation described in JSON-LD (`Organization`, `LocalBusiness` and their subtypes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `slogan`.
    pub slogan: Option<String>,
    /// `telephone`.
    pub telephone: Option<String>,
    /// `address` (one or more).
    pub addresses: Vec<PostalAddress>,
    /// `numberOfEmployees` (its value, or the top of its range).
    pub employees: Option<u32>,
    /// The year of `foundingDate`.
    pub founding_year: Option<i32>,
    /// `areaServed` names.
    pub area_served: Vec<String>,
}

/// One page as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebPage {
    /// The final URL (after redirects).
    pub url: String,
    /// What the page is about.
    pub kind: PageKind,
    /// `<title>`.
    pub title: Option<String>,
    /// `<meta name="description">` (or `og:description`).
    pub meta_description: Option<String>,
    /// `og:site_name`.
    pub site_name: Option<String>,
    /// `h1` to `h3`, in document order.
    pub headings: Vec<Heading>,
    /// Readable text (scripts, styles and hidden templates left out), one block a line.
    pub text: String,
    /// Alt texts of images (client logos among them).
    pub image_alts: Vec<String>,
    /// JSON-LD organisations.
    pub organizations: Vec<Organization>,
}

impl WebPage {
    /// An empty page of `kind` at `url` (filled by the reader).
    pub fn new(url: impl Into<String>, kind: PageKind) -> Self {
        Self {
            url: url.into(),
            kind,
            title: None,
            meta_description: None,
            site_name: None,
            headings: Vec::new(),
            text: String::new(),
            image_alts: Vec::new(),
            organizations: Vec::new(),
        }
    }

    /// Headings of `level`.
    pub fn headings_at(&self, level: u8) -> impl Iterator<Item = &str> {
        self.headings
            .iter()
            .filter(move |h| h.level == level)
            .map(|h| h.text.as_str())
    }
}

/// The pages read from one site, home page first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSnapshot {
    /// The address as given (normalised).
    pub website_url: String,
    /// The pages, home first.
    pub pages: Vec<WebPage>,
}

impl SiteSnapshot {
    /// The pages of `kind`.
    pub fn pages_of(&self, kind: PageKind) -> impl Iterator<Item = &WebPage> {
        self.pages.iter().filter(move |p| p.kind == kind)
    }

    /// The home page, if it was read.
    pub fn home(&self) -> Option<&WebPage> {
        self.pages_of(PageKind::Home).next()
    }

    /// Every JSON-LD organisation on the site.
    pub fn organizations(&self) -> impl Iterator<Item = &Organization> {
        self.pages.iter().flat_map(|p| p.organizations.iter())
    }

    /// Words of readable text over all pages.
    pub fn word_count(&self) -> usize {
        self.pages
            .iter()
            .map(|p| p.text.split_whitespace().count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_classified_by_path_or_text_and_noise_is_skipped() {
        assert_eq!(
            PageKind::of_link("/case-studies/", ""),
            Some(PageKind::Work)
        );
        assert_eq!(PageKind::of_link("/our-work", ""), Some(PageKind::Work));
        assert_eq!(
            PageKind::of_link("/what-we-do", ""),
            Some(PageKind::Services)
        );
        assert_eq!(
            PageKind::of_link("/p/12", "About us"),
            Some(PageKind::About)
        );
        assert_eq!(
            PageKind::of_link("/meet-the-team", ""),
            Some(PageKind::Team)
        );
        assert_eq!(
            PageKind::of_link("/contact-us", "Say hi"),
            Some(PageKind::Contact)
        );
        assert_eq!(PageKind::of_link("/blog/seo-tips", "SEO services"), None);
        assert_eq!(PageKind::of_link("/privacy-policy", "Privacy"), None);
        assert_eq!(PageKind::of_link("/brochure.pdf", "Our services"), None);
        assert_eq!(PageKind::of_link("/", "Home"), None);
        assert_eq!(PageKind::of_link("/pricing", "Pricing"), None);
        assert_eq!(
            PageKind::of_link("/services.html", ""),
            Some(PageKind::Services)
        );
    }
}
