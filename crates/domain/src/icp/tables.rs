//! The keyword tables the deterministic ICP extractor reads pages with: services (with their
//! category, the pain point they answer and a buying signal), industries (with their decision
//! makers), Australian places, company-size phrases and the revenue each size usually has.

/// A service an agency sells.
pub(super) struct Service {
    pub name: &'static str,
    pub category: &'static str,
    pub keywords: &'static [&'static str],
    pub pain_point: &'static str,
    pub signal: &'static str,
}

pub(super) const SERVICES: &[Service] = &[
    Service {
        name: "Search engine optimisation (SEO)",
        category: "Digital marketing",
        keywords: &[
            "seo",
            "search engine optimisation",
            "search engine optimization",
            "organic search",
            "local search",
        ],
        pain_point: "Not showing up on Google when customers search for their services",
        signal: "Low organic search traffic for their main services",
    },
    Service {
        name: "Google Ads and PPC",
        category: "Digital marketing",
        keywords: &[
            "google ads",
            "ppc",
            "pay per click",
            "pay-per-click",
            "adwords",
            "paid search",
            "sem",
        ],
        pain_point: "Spending on ads without a clear return",
        signal: "Already advertising on Google",
    },
    Service {
        name: "Social media marketing",
        category: "Digital marketing",
        keywords: &[
            "social media",
            "facebook ads",
            "meta ads",
            "instagram",
            "tiktok",
            "paid social",
            "linkedin ads",
        ],
        pain_point: "Social media that takes time but brings in no enquiries",
        signal: "Active on social media with little engagement",
    },
    Service {
        name: "Web design and development",
        category: "Web and development",
        keywords: &[
            "web design",
            "website design",
            "web development",
            "website development",
            "wordpress",
            "shopify",
            "new website",
            "websites",
        ],
        pain_point: "An outdated website that does not turn visitors into leads",
        signal: "An old or slow website",
    },
    Service {
        name: "Branding and creative",
        category: "Creative and branding",
        keywords: &[
            "branding",
            "brand strategy",
            "brand identity",
            "logo design",
            "graphic design",
            "creative",
        ],
        pain_point: "A brand that looks like every competitor's",
        signal: "Rebranding, a new product or a new location",
    },
    Service {
        name: "Content marketing",
        category: "Content",
        keywords: &[
            "content marketing",
            "content strategy",
            "content creation",
            "copywriting",
            "blog",
        ],
        pain_point: "No time to produce content consistently",
        signal: "A blog or newsletter that stopped",
    },
    Service {
        name: "Email marketing and automation",
        category: "Digital marketing",
        keywords: &[
            "email marketing",
            "edm",
            "newsletters",
            "marketing automation",
            "email automation",
            "klaviyo",
            "mailchimp",
        ],
        pain_point: "A customer list that is never marketed to",
        signal: "A growing customer list with no email programme",
    },
    Service {
        name: "Video and photography",
        category: "Creative and branding",
        keywords: &[
            "video production",
            "videography",
            "video content",
            "photography",
            "animation",
        ],
        pain_point: "No video while competitors use it to win attention",
        signal: "Launching products or campaigns without video",
    },
    Service {
        name: "Public relations",
        category: "Public relations",
        keywords: &[
            "public relations",
            "media relations",
            "pr",
            "press releases",
        ],
        pain_point: "Little awareness of the business in its market",
        signal: "News to announce: funding, launches, awards",
    },
    Service {
        name: "Conversion rate optimisation",
        category: "Digital marketing",
        keywords: &[
            "conversion rate optimisation",
            "conversion rate optimization",
            "cro",
            "landing pages",
            "landing page",
        ],
        pain_point: "Traffic that does not convert into enquiries or sales",
        signal: "Paying for traffic to pages that do not convert",
    },
    Service {
        name: "Marketing strategy",
        category: "Strategy and consulting",
        keywords: &[
            "marketing strategy",
            "digital strategy",
            "go-to-market",
            "marketing plan",
            "fractional cmo",
        ],
        pain_point: "Marketing spend with no plan behind it",
        signal: "Growing without a marketing lead",
    },
    Service {
        name: "Analytics and reporting",
        category: "Strategy and consulting",
        keywords: &["analytics", "ga4", "tracking", "attribution", "dashboards"],
        pain_point: "No clear view of which marketing works",
        signal: "Several channels running with no shared reporting",
    },
];

/// An industry an agency serves, and who decides there.
pub(super) struct Industry {
    pub name: &'static str,
    pub keywords: &'static [&'static str],
    pub titles: &'static [&'static str],
}

pub(super) const INDUSTRIES: &[Industry] = &[
    Industry {
        name: "Healthcare and medical",
        keywords: &[
            "dental",
            "dentist",
            "medical",
            "clinic",
            "healthcare",
            "health care",
            "physio",
            "chiropract",
            "allied health",
            "veterinar",
            "pharmac",
        ],
        titles: &["Practice Manager", "Practice Owner"],
    },
    Industry {
        name: "Legal services",
        keywords: &["law firm", "lawyers", "legal", "solicitors", "conveyanc"],
        titles: &["Managing Partner", "Practice Manager"],
    },
    Industry {
        name: "Real estate and property",
        keywords: &[
            "real estate",
            "property",
            "realestate",
            "property developer",
            "strata",
        ],
        titles: &["Principal", "Director"],
    },
    Industry {
        name: "Construction and trades",
        keywords: &[
            "construction",
            "builders",
            "builder",
            "trades",
            "tradies",
            "plumb",
            "electrician",
            "roofing",
            "landscap",
            "hvac",
        ],
        titles: &["Owner", "Operations Manager"],
    },
    Industry {
        name: "Hospitality and food",
        keywords: &[
            "restaurant",
            "cafe",
            "café",
            "hospitality",
            "hotel",
            "venue",
            "catering",
            "food and beverage",
            "brewery",
        ],
        titles: &["Venue Manager", "Owner"],
    },
    Industry {
        name: "Retail and e-commerce",
        keywords: &[
            "ecommerce",
            "e-commerce",
            "online store",
            "retail",
            "retailers",
            "direct-to-consumer",
            "fashion",
        ],
        titles: &["E-commerce Manager", "Founder"],
    },
    Industry {
        name: "Professional services",
        keywords: &[
            "accounting",
            "accountants",
            "financial planning",
            "financial advis",
            "consultancies",
            "bookkeep",
            "architects",
            "professional services",
        ],
        titles: &["Managing Director", "Partner"],
    },
    Industry {
        name: "Finance and insurance",
        keywords: &[
            "mortgage broker",
            "insurance",
            "lending",
            "fintech",
            "finance brokers",
            "wealth management",
        ],
        titles: &["Head of Marketing", "Director"],
    },
    Industry {
        name: "Technology and SaaS",
        keywords: &[
            "saas",
            "software",
            "tech startup",
            "technology companies",
            "apps",
        ],
        titles: &["Founder", "Head of Growth"],
    },
    Industry {
        name: "Education and training",
        keywords: &[
            "education",
            "schools",
            "university",
            "universities",
            "training provider",
            "rto",
            "childcare",
            "early learning",
        ],
        titles: &["Marketing Manager", "Principal"],
    },
    Industry {
        name: "Fitness, beauty and wellness",
        keywords: &[
            "gym", "gyms", "fitness", "wellness", "yoga", "pilates", "beauty", "salon", "spa",
        ],
        titles: &["Owner", "Studio Manager"],
    },
    Industry {
        name: "Automotive",
        keywords: &["automotive", "car dealer", "dealership", "mechanic"],
        titles: &["Dealer Principal", "General Manager"],
    },
    Industry {
        name: "Manufacturing and industrial",
        keywords: &[
            "manufactur",
            "industrial",
            "engineering firms",
            "wholesale",
            "distributors",
        ],
        titles: &["General Manager", "Sales Director"],
    },
    Industry {
        name: "Not-for-profit",
        keywords: &[
            "not-for-profit",
            "not for profit",
            "nonprofit",
            "non-profit",
            "charity",
            "charities",
        ],
        titles: &["Marketing Manager", "CEO"],
    },
    Industry {
        name: "Tourism and travel",
        keywords: &["tourism", "travel", "accommodation", "tour operator"],
        titles: &["Marketing Manager", "General Manager"],
    },
];

/// Australian cities and the state they are in.
pub(super) const CITIES: &[(&str, &str)] = &[
    ("Sydney", "NSW"),
    ("Melbourne", "VIC"),
    ("Brisbane", "QLD"),
    ("Perth", "WA"),
    ("Adelaide", "SA"),
    ("Canberra", "ACT"),
    ("Hobart", "TAS"),
    ("Darwin", "NT"),
    ("Gold Coast", "QLD"),
    ("Sunshine Coast", "QLD"),
    ("Newcastle", "NSW"),
    ("Wollongong", "NSW"),
    ("Central Coast", "NSW"),
    ("Geelong", "VIC"),
    ("Ballarat", "VIC"),
    ("Bendigo", "VIC"),
    ("Townsville", "QLD"),
    ("Cairns", "QLD"),
    ("Toowoomba", "QLD"),
    ("Launceston", "TAS"),
    ("Parramatta", "NSW"),
];

/// State names and their abbreviations.
pub(super) const STATES: &[(&str, &str)] = &[
    ("New South Wales", "NSW"),
    ("Victoria", "VIC"),
    ("Queensland", "QLD"),
    ("Western Australia", "WA"),
    ("South Australia", "SA"),
    ("Tasmania", "TAS"),
    ("Northern Territory", "NT"),
    ("Australian Capital Territory", "ACT"),
];

/// The state of an Australian landline area code (`02` NSW/ACT, `03` VIC/TAS, `07` QLD); `08`
/// spans three states and says nothing.
pub(super) fn state_of_area_code(code: char) -> Option<&'static str> {
    match code {
        '2' => Some("NSW"),
        '3' => Some("VIC"),
        '7' => Some("QLD"),
        _ => None,
    }
}

/// Phrases that say Australia as a whole is served.
pub(super) const NATIONAL: &[&str] = &[
    "australia-wide",
    "australia wide",
    "across australia",
    "australian businesses",
    "australian brands",
    "nationally",
    "all over australia",
];

/// Employee ranges, smallest first.
pub(super) const SIZE_RANGES: &[&str] = &["1-10", "11-50", "51-200", "201-500", "500+"];

/// Phrases that name the size of customers, and the ranges they mean.
pub(super) const SIZE_PHRASES: &[(&[&str], &[&str])] = &[
    (
        &[
            "small business",
            "small businesses",
            "smes",
            "sme",
            "small and medium",
            "local business",
            "local businesses",
            "startups",
            "start-ups",
            "sole traders",
            "family-owned",
        ],
        &["1-10", "11-50"],
    ),
    (
        &[
            "medium-sized",
            "medium sized",
            "mid-sized",
            "mid-market",
            "growing businesses",
            "scale-ups",
            "scaleups",
            "established businesses",
        ],
        &["11-50", "51-200"],
    ),
    (
        &[
            "enterprise",
            "large organisations",
            "large organizations",
            "national brands",
            "corporates",
            "asx-listed",
            "asx listed",
            "multinational",
        ],
        &["201-500", "500+"],
    ),
];

/// Typical yearly revenue (AUD) of each employee range: label, low, high (`None`: no top).
pub(super) const REVENUE_BY_SIZE: &[(&str, &str, u64, Option<u64>)] = &[
    ("1-10", "$0-$2M", 0, Some(2_000_000)),
    ("11-50", "$2M-$10M", 2_000_000, Some(10_000_000)),
    ("51-200", "$10M-$50M", 10_000_000, Some(50_000_000)),
    ("201-500", "$50M-$200M", 50_000_000, Some(200_000_000)),
    ("500+", "$200M+", 200_000_000, None),
];

/// Decision makers by customer size: small, mid, large.
pub(super) const TITLES_BY_SIZE: &[(&str, &[&str])] = &[
    ("1-10", &["Owner", "Founder"]),
    ("11-50", &["Managing Director", "General Manager"]),
    ("51-200", &["Marketing Manager", "Head of Marketing"]),
    ("201-500", &["Marketing Director", "Head of Digital"]),
    ("500+", &["Chief Marketing Officer", "Head of Digital"]),
];

/// Titles a site may name outright ("we work with marketing managers"), and their form.
pub(super) const TITLE_MENTIONS: &[(&str, &str)] = &[
    ("business owners", "Owner"),
    ("founders", "Founder"),
    ("marketing managers", "Marketing Manager"),
    ("heads of marketing", "Head of Marketing"),
    ("cmos", "Chief Marketing Officer"),
    ("practice managers", "Practice Manager"),
    ("general managers", "General Manager"),
    ("ceos", "CEO"),
    ("managing directors", "Managing Director"),
];

/// Words that open a sentence about a customer's problem.
pub(super) const PAIN_TRIGGERS: &[&str] = &[
    "struggling to ",
    "struggling with ",
    "tired of ",
    "frustrated with ",
    "frustrated by ",
    "sick of ",
    "wasting money on ",
];

/// Words that mark a sentence as a differentiator.
pub(super) const DIFFERENTIATOR_WORDS: &[&str] = &[
    "award",
    "certified",
    "google partner",
    "premier partner",
    "meta business partner",
    "no lock-in",
    "no lock in",
    "lock-in contracts",
    "guarantee",
    "transparent",
    "in-house",
    "dedicated account manager",
    "australian owned",
    "australian-owned",
    "specialise in",
    "specialists in",
];

/// Headings that name a section, not a company.
pub(super) const GENERIC_HEADINGS: &[&str] = &[
    "our work",
    "work",
    "case studies",
    "case study",
    "portfolio",
    "our clients",
    "clients",
    "results",
    "projects",
    "featured work",
    "recent work",
    "selected work",
    "contact",
    "contact us",
    "get in touch",
    "let's talk",
    "lets talk",
    "services",
    "our services",
    "about",
    "about us",
    "testimonials",
    "what we do",
    "why choose us",
    "our process",
    "trusted by",
    "brands we've worked with",
    "menu",
    "follow us",
];
