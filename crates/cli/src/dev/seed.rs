//! The demo tenant dev mode seeds (idempotent): one client, its owner, a draft campaign and
//! [`DEMO_LEAD_COUNT`] varied leads (from decision makers of funded, hiring Australian software
//! companies to interns at bounced addresses), scored by the engine so every tier shows. Demo
//! addresses use the reserved `.example` domain and phones the numbers ACMA sets aside for
//! fiction, so nothing seeded can reach a real person.

use agency_domain::{ClientId, LeadId};
use chrono::{Days, NaiveDate, Utc};
use uuid::Uuid;

/// The demo owner's id (stable, so a saved token keeps working across restarts).
pub const DEMO_USER_ID: Uuid = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0001);
/// The demo client's id.
pub const DEMO_CLIENT_ID: Uuid = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0002);
/// The demo campaign's id.
pub const DEMO_CAMPAIGN_ID: Uuid = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0003);
/// The first demo lead's id; lead `i` is this plus `i`.
pub const DEMO_LEAD_BASE: u128 = 0x0194_0000_0000_7000_8000_0000_0000_1000;
/// How many demo leads are seeded.
pub const DEMO_LEAD_COUNT: usize = 36;
/// The demo owner's email.
pub const DEMO_EMAIL: &str = "owner@demo-agency.com.au";

/// Ids of what was seeded.
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    /// The owner.
    pub user_id: Uuid,
    /// The client.
    pub client_id: Uuid,
}

/// Seeds the demo tenant unless it exists.
pub async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<Demo> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO users (id, email, full_name) VALUES ($1, $2, 'Demo Owner') ON CONFLICT (id) DO NOTHING")
        .bind(DEMO_USER_ID)
        .bind(DEMO_EMAIL)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO clients (id, name, tier, subscription_status, credits_remaining, website_url, icp_industries, icp_locations)
         VALUES ($1, 'Demo Agency', 'velocity', 'active', 2250, 'https://demo-agency.com.au',
                 ARRAY['marketing', 'software'], ARRAY['Australia'])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(DEMO_CLIENT_ID)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO memberships (client_id, user_id, role, accepted_at)
         SELECT $1, $2, 'owner', now()
         WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE client_id = $1 AND user_id = $2 AND deleted_at IS NULL)",
    )
    .bind(DEMO_CLIENT_ID)
    .bind(DEMO_USER_ID)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO campaigns (id, client_id, name, description, target_industries, target_locations)
         VALUES ($1, $2, 'Sydney SaaS founders', 'Demo campaign seeded by agencyctl dev',
                 ARRAY['software'], ARRAY['Australia'])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(DEMO_CAMPAIGN_ID)
    .bind(DEMO_CLIENT_ID)
    .execute(&mut *tx)
    .await?;
    let today = Utc::now().date_naive();
    let mut inserted = Vec::new();
    for lead in demo_leads(today) {
        let id: Option<LeadId> = sqlx::query_scalar(
            "INSERT INTO leads (id, client_id, campaign_id, email, phone, first_name, last_name, title,
                                company, domain, linkedin_url, email_verified, personal_email,
                                organization_industry, organization_employee_count, organization_country,
                                organization_is_hiring, organization_latest_funding_date,
                                employment_start_date, seo_looked_up, seo_domain_rank,
                                seo_organic_traffic, seo_top10_keywords, bounced_before, status,
                                enrichment_source, enrichment_confidence, enriched_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                     $19, $20, $21, $22, $23, $24, 'enriched', 'demo', 0.9, now())
             ON CONFLICT DO NOTHING
             RETURNING id",
        )
        .bind(lead.id)
        .bind(DEMO_CLIENT_ID)
        .bind(DEMO_CAMPAIGN_ID)
        .bind(&lead.email)
        .bind(&lead.phone)
        .bind(lead.first_name)
        .bind(lead.last_name)
        .bind(lead.title)
        .bind(lead.company)
        .bind(&lead.domain)
        .bind(&lead.linkedin_url)
        .bind(lead.email_verified)
        .bind(&lead.personal_email)
        .bind(lead.industry)
        .bind(lead.employees)
        .bind(lead.country)
        .bind(lead.hiring)
        .bind(lead.funded_on)
        .bind(lead.in_role_since)
        .bind(lead.seo.is_some())
        .bind(lead.seo.map(|s| s.0))
        .bind(lead.seo.map(|s| s.1))
        .bind(lead.seo.map(|s| s.2))
        .bind(lead.bounced_before)
        .fetch_optional(&mut *tx)
        .await?;
        inserted.extend(id);
    }
    tx.commit().await?;
    // New demo leads are scored at once (the same scoring the pipeline runs), so the
    // dashboard shows scores and tiers from the first start; seeded leads keep theirs.
    if !inserted.is_empty() {
        agency_engine::pipeline::score_leads(
            pool,
            ClientId::from_uuid(DEMO_CLIENT_ID),
            &inserted,
            Utc::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("scoring the demo leads failed: {e}"))?;
    }
    Ok(Demo {
        user_id: DEMO_USER_ID,
        client_id: DEMO_CLIENT_ID,
    })
}

/// One demo lead.
#[derive(Debug, Clone)]
pub struct DemoLead {
    /// Stable id.
    pub id: Uuid,
    /// `first.last@company.example`.
    pub email: String,
    /// A fictional Australian number, or none.
    pub phone: Option<String>,
    /// First name.
    pub first_name: &'static str,
    /// Last name.
    pub last_name: &'static str,
    /// Job title.
    pub title: &'static str,
    /// Company.
    pub company: &'static str,
    /// `company.example`.
    pub domain: String,
    /// LinkedIn profile, or none.
    pub linkedin_url: Option<String>,
    /// Email verified.
    pub email_verified: bool,
    /// A personal address, or none.
    pub personal_email: Option<String>,
    /// Industry.
    pub industry: &'static str,
    /// Employees.
    pub employees: i32,
    /// Country.
    pub country: &'static str,
    /// Hiring now.
    pub hiring: bool,
    /// Latest funding round.
    pub funded_on: Option<NaiveDate>,
    /// Started in the role on.
    pub in_role_since: Option<NaiveDate>,
    /// SEO facts: domain rank, organic traffic, top-10 keywords.
    pub seo: Option<(i32, i32, i32)>,
    /// An earlier email bounced.
    pub bounced_before: bool,
}

const PEOPLE: [(&str, &str); DEMO_LEAD_COUNT] = [
    ("Olivia", "Nguyen"),
    ("Jack", "Thompson"),
    ("Charlotte", "Smith"),
    ("William", "Wilson"),
    ("Amelia", "Brown"),
    ("Noah", "Taylor"),
    ("Isla", "Anderson"),
    ("Oliver", "Martin"),
    ("Mia", "White"),
    ("Lucas", "Harris"),
    ("Ava", "Clarke"),
    ("Henry", "Walker"),
    ("Grace", "Robinson"),
    ("Leo", "Wright"),
    ("Chloe", "King"),
    ("Thomas", "Scott"),
    ("Sophie", "Green"),
    ("James", "Baker"),
    ("Zoe", "Adams"),
    ("Ethan", "Nelson"),
    ("Ruby", "Hill"),
    ("Harrison", "Campbell"),
    ("Matilda", "Mitchell"),
    ("Liam", "Roberts"),
    ("Ella", "Carter"),
    ("Cooper", "Phillips"),
    ("Evie", "Evans"),
    ("Samuel", "Turner"),
    ("Harper", "Torres"),
    ("Max", "Parker"),
    ("Layla", "Collins"),
    ("Archie", "Edwards"),
    ("Willow", "Stewart"),
    ("Hudson", "Morris"),
    ("Sienna", "Murphy"),
    ("Oscar", "Cook"),
];

const COMPANIES: [&str; 12] = [
    "Brightpath Software",
    "Koala Cloud",
    "Southern Cross Analytics",
    "Tidewater Apps",
    "Redgum Systems",
    "Harbourside Health",
    "Outback Retail Co",
    "Coastal Legal",
    "Ironbark Builders",
    "Wattle Logistics",
    "Bluewren Hospitality",
    "Gumtree Dental",
];

/// The five kinds of demo lead, from hot to dead, with the titles each uses.
const KINDS: [&[&str]; 5] = [
    &["CEO", "Founder", "Managing Director", "Owner"],
    &["Director of Marketing", "Head of Growth", "VP Sales"],
    &[
        "Marketing Manager",
        "Operations Manager",
        "Senior Manager, Digital",
    ],
    &["Account Executive", "Sales Representative"],
    &["Marketing Intern", "Receptionist"],
];

fn slug(company: &str) -> String {
    company
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// The demo leads as of `today` (their dates are relative to it): the same ids, people and
/// companies every time, spread over the five kinds so every tier shows once scored.
pub fn demo_leads(today: NaiveDate) -> Vec<DemoLead> {
    let days_ago = |n: u64| today.checked_sub_days(Days::new(n));
    PEOPLE
        .iter()
        .enumerate()
        .map(|(i, (first, last))| {
            // Hot and warm are the minority, as in a real list.
            let kind = match i % 9 {
                0 | 1 => 0,
                2 | 3 => 1,
                4 | 5 => 2,
                6 | 7 => 3,
                _ => 4,
            };
            let titles = KINDS[kind];
            let company = COMPANIES[(i * 5) % COMPANIES.len()];
            let software = (i * 5) % COMPANIES.len() < 5;
            let domain = format!("{}.example", slug(company));
            let user = format!(
                "{}.{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            );
            let idx = u128::try_from(i).unwrap_or_default();
            DemoLead {
                id: Uuid::from_u128(DEMO_LEAD_BASE + idx),
                email: format!("{user}@{domain}"),
                // (02) 5550 xxxx and (03) 5550 xxxx are reserved for fiction.
                phone: (kind <= 1 || i % 4 == 0)
                    .then(|| format!("+61{}5550{:04}", if i % 2 == 0 { 2 } else { 3 }, 100 + i)),
                first_name: first,
                last_name: last,
                title: titles[i % titles.len()],
                company,
                linkedin_url: (kind <= 2)
                    .then(|| format!("https://www.linkedin.com/in/{user}-demo")),
                email_verified: kind <= 1,
                personal_email: (kind == 0).then(|| format!("{user}@personal.example")),
                industry: if software && kind <= 1 {
                    "software"
                } else if software {
                    "information technology"
                } else {
                    "retail"
                },
                employees: [18, 42, 120, 9, 640, 35][i % 6],
                country: if kind == 4 && i % 2 == 1 {
                    "New Zealand"
                } else {
                    "Australia"
                },
                hiring: kind <= 1,
                funded_on: (kind == 0).then(|| days_ago(90)).flatten(),
                in_role_since: (kind == 0).then(|| days_ago(60)).flatten(),
                seo: (kind <= 1).then_some((600, 3_000, 12)),
                bounced_before: kind == 4,
                domain,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_leads_are_varied_and_stable() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
        let leads = demo_leads(today);
        assert_eq!(leads.len(), DEMO_LEAD_COUNT);
        let mut emails: Vec<&str> = leads.iter().map(|l| l.email.as_str()).collect();
        emails.sort_unstable();
        emails.dedup();
        assert_eq!(emails.len(), DEMO_LEAD_COUNT, "emails are unique");
        assert!(leads.iter().all(|l| l.email.ends_with(".example")));
        assert!(
            leads
                .iter()
                .filter_map(|l| l.phone.as_deref())
                .all(|p| p.starts_with("+6125550") || p.starts_with("+6135550"))
        );
        assert_eq!(demo_leads(today)[7].id, leads[7].id);
        assert_eq!(leads[0].id, Uuid::from_u128(DEMO_LEAD_BASE));
    }
}
