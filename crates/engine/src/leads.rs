//! Lead use-cases: normalising and validating lead input (shared with the CSV import), create,
//! bulk create, update, soft delete, filtered/sorted/keyset lists and the activity timeline.
//! Uniqueness of an email per client is enforced by the database's unique index, never by a
//! racing pre-check; globally suppressed addresses are refused.

use agency_domain::CampaignId;
use agency_domain::LeadId;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::Duration;

use agency_cache::Cache;
use agency_domain::{
    CampaignStatus, ClientId, Email, LeadStatus, Phone, Role, Tier, UserId, normalise_domain,
    parse_linkedin_url,
};
use agency_store::activities::{self, Activity};
use agency_store::campaigns as campaign_store;
use agency_store::leads::{
    self as store, EMAIL_UNIQUE_INDEX, Lead, LeadFields, LeadFilter, LeadSort, SuppressionHit,
};
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Services;
use crate::pipeline::enqueue_new_leads;
use crate::single_flight::SingleFlight;
use crate::usecase::{
    Actor, FieldError, UseCaseError, audit, clean_text, delete_audited, double_option, snapshot,
};

/// Longest free-text lead field.
pub const MAX_TEXT: usize = 500;
/// Most leads in one `POST /leads/bulk`.
pub const MAX_BULK: usize = 1_000;
/// Most activities answered at once.
pub const MAX_ACTIVITIES: i64 = 500;

/// The body of `POST /leads` (and each entry of `POST /leads/bulk`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadCreate {
    /// Email (trimmed and lowercased; unique per client).
    pub email: String,
    /// Campaign of the client the lead joins.
    pub campaign_id: Uuid,
    /// Phone, any common format (stored E.164; national numbers read as Australian).
    pub phone: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// LinkedIn profile URL.
    pub linkedin_url: Option<String>,
    /// Company website or domain (stored as a bare domain).
    pub domain: Option<String>,
    /// Industry.
    pub organization_industry: Option<String>,
    /// Employee count.
    pub organization_employee_count: Option<i64>,
    /// Country.
    pub organization_country: Option<String>,
}

/// The body of `POST /leads/bulk`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadBulkCreate {
    /// The leads (at most 1,000), each with its campaign_id.
    pub leads: Vec<LeadCreate>,
}

/// The answer of `POST /leads/bulk`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeadBulkResult {
    /// Leads created.
    pub created: u64,
    /// Entries skipped (invalid, suppressed, unknown campaign, or duplicate email).
    pub skipped: u64,
    /// Entries received.
    pub total: u64,
}

/// The body of `PUT /leads/{id}`: any LeadCreate field and `status`; `null` clears a
/// nullable field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadUpdate {
    /// Email.
    pub email: Option<String>,
    /// Campaign (`null` detaches).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub campaign_id: Option<Option<Uuid>>,
    /// Phone.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// First name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    /// Last name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    /// Title.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// Company.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub company: Option<Option<String>>,
    /// LinkedIn URL.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub linkedin_url: Option<Option<String>>,
    /// Domain.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
    /// Industry.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub organization_industry: Option<Option<String>>,
    /// Employee count.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub organization_employee_count: Option<Option<i64>>,
    /// Country.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub organization_country: Option<Option<String>>,
    /// Lifecycle status (`new`, `enriched`, `scored`, `in_sequence`, `paused`, `converted`,
    /// `unsubscribed`, `bounced`).
    pub status: Option<String>,
}

/// Raw lead values from any source (JSON body or CSV row), before normalisation.
#[derive(Debug, Clone, Default)]
pub struct RawLead<'a> {
    /// Email.
    pub email: &'a str,
    /// Phone.
    pub phone: Option<&'a str>,
    /// First name.
    pub first_name: Option<&'a str>,
    /// Last name.
    pub last_name: Option<&'a str>,
    /// Title.
    pub title: Option<&'a str>,
    /// Company.
    pub company: Option<&'a str>,
    /// LinkedIn URL.
    pub linkedin_url: Option<&'a str>,
    /// Website or domain.
    pub domain: Option<&'a str>,
    /// Industry.
    pub industry: Option<&'a str>,
    /// Employee count.
    pub employees: Option<i64>,
    /// Country.
    pub country: Option<&'a str>,
}

/// Normalises and validates raw lead values into storable columns (status `new`, no
/// campaign); errors name fields under `prefix` (e.g. `leads[2].`).
pub fn normalise(raw: &RawLead<'_>, prefix: &str) -> Result<LeadFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let path = |f: &str| format!("{prefix}{f}");
    let email = match Email::parse(raw.email) {
        Ok(e) => Some(e),
        Err(e) => {
            errors.push(FieldError::new(path("email"), e.to_string()));
            None
        }
    };
    let phone = match raw.phone.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => match Phone::parse(p) {
            Ok(p) => Some(p.as_str().to_owned()),
            Err(e) => {
                errors.push(FieldError::new(path("phone"), e.to_string()));
                None
            }
        },
        None => None,
    };
    let domain = match raw.domain.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => match normalise_domain(d) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(FieldError::new(path("domain"), e.to_string()));
                None
            }
        },
        None => email
            .as_ref()
            .filter(|e| !e.is_free_mail())
            .map(|e| e.domain().to_owned()),
    };
    let employees = match raw.employees {
        Some(n) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            errors.push(FieldError::new(
                path("organization_employee_count"),
                "must be 0 or more",
            ));
            None
        }
        other => other.map(|n| n as i32),
    };
    let fields = LeadFields {
        campaign_id: None,
        email: email.map(String::from).unwrap_or_default(),
        phone,
        first_name: clean_text(&path("first_name"), raw.first_name, MAX_TEXT, &mut errors),
        last_name: clean_text(&path("last_name"), raw.last_name, MAX_TEXT, &mut errors),
        title: clean_text(&path("title"), raw.title, MAX_TEXT, &mut errors),
        company: clean_text(&path("company"), raw.company, MAX_TEXT, &mut errors),
        linkedin_url: clean_text(
            &path("linkedin_url"),
            raw.linkedin_url,
            MAX_TEXT,
            &mut errors,
        )
        .and_then(|url| match parse_linkedin_url(&url) {
            Ok(url) => Some(url),
            Err(e) => {
                errors.push(FieldError::new(path("linkedin_url"), e.to_string()));
                None
            }
        }),
        domain,
        organization_industry: clean_text(
            &path("organization_industry"),
            raw.industry,
            MAX_TEXT,
            &mut errors,
        ),
        organization_employee_count: employees,
        organization_country: clean_text(
            &path("organization_country"),
            raw.country,
            MAX_TEXT,
            &mut errors,
        ),
        status: LeadStatus::New.as_str().to_owned(),
    };
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

fn raw_of(input: &LeadCreate) -> RawLead<'_> {
    RawLead {
        email: &input.email,
        phone: input.phone.as_deref(),
        first_name: input.first_name.as_deref(),
        last_name: input.last_name.as_deref(),
        title: input.title.as_deref(),
        company: input.company.as_deref(),
        linkedin_url: input.linkedin_url.as_deref(),
        domain: input.domain.as_deref(),
        industry: input.organization_industry.as_deref(),
        employees: input.organization_employee_count,
        country: input.organization_country.as_deref(),
    }
}

/// A readable reason for a suppression entry.
pub fn suppression_reason(hit: &SuppressionHit) -> String {
    match (&hit.email, &hit.phone) {
        (Some(e), _) => format!("{e} is on the global suppression list ({})", hit.reason),
        (None, Some(p)) => format!("{p} is on the global suppression list ({})", hit.reason),
        (None, None) => format!(
            "the address is on the global suppression list ({})",
            hit.reason
        ),
    }
}

/// Field errors for whichever of the lead's email and phone are globally suppressed.
async fn check_suppression(
    conn: &mut PgConnection,
    f: &LeadFields,
    prefix: &str,
) -> Result<(), UseCaseError> {
    let phones: Vec<String> = f.phone.iter().cloned().collect();
    let hits = store::suppressed(&mut *conn, std::slice::from_ref(&f.email), &phones).await?;
    if hits.is_empty() {
        return Ok(());
    }
    let fields = hits
        .iter()
        .map(|h| {
            let field = if h.email.is_some() { "email" } else { "phone" };
            FieldError::new(format!("{prefix}{field}"), suppression_reason(h))
        })
        .collect();
    Err(UseCaseError::invalid(fields))
}

/// Checks that `campaign_id` is a live campaign of the client that accepts leads.
pub async fn check_campaign(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
    path: &str,
) -> Result<(), UseCaseError> {
    let status = match campaign_store::status_for_share(conn, client_id, campaign_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            return Err(UseCaseError::field(
                path,
                "There is no such campaign in this agency.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if CampaignStatus::from_str(&status).is_ok_and(CampaignStatus::is_read_only) {
        return Err(UseCaseError::Conflict {
            code: "campaign_read_only",
            message: "This campaign is completed, so it accepts no new leads.".to_owned(),
        });
    }
    Ok(())
}

fn duplicate(email: &str) -> UseCaseError {
    UseCaseError::Conflict {
        code: "duplicate_email",
        message: format!("A lead with the email {email} already exists in this agency."),
    }
}

fn map_write(err: StoreError, email: &str) -> UseCaseError {
    if err.is_conflict_on(EMAIL_UNIQUE_INDEX) {
        duplicate(email)
    } else {
        UseCaseError::not_found_as("lead")(err)
    }
}

/// Creates one lead (201); duplicate email in the client -> 409 via the unique index.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    input: &LeadCreate,
) -> Result<Lead, UseCaseError> {
    let mut fields = normalise(&raw_of(input), "").map_err(UseCaseError::invalid)?;
    let campaign_id = CampaignId::from_uuid(input.campaign_id);
    fields.campaign_id = Some(campaign_id);
    let mut tx = pool.begin().await?;
    check_campaign(&mut tx, client_id, campaign_id, "campaign_id").await?;
    check_suppression(&mut tx, &fields, "").await?;
    let id = LeadId::new_v7();
    let lead = store::insert(&mut tx, client_id, id, &fields)
        .await
        .map_err(|e| map_write(e, &fields.email))?;
    audit(
        &mut tx,
        actor,
        client_id,
        "lead.create",
        ("lead", Some(id.into_uuid())),
        None,
        snapshot(&fields),
    )
    .await?;
    // The lead enters the pipeline (enrich -> score -> allocate) with the same commit.
    enqueue_new_leads(&mut tx, client_id, &[id]).await?;
    tx.commit().await?;
    Ok(lead)
}

/// Creates many leads in one transaction, skipping invalid, suppressed and duplicate ones.
pub async fn bulk_create(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    input: &LeadBulkCreate,
) -> Result<LeadBulkResult, UseCaseError> {
    let total = input.leads.len();
    if total > MAX_BULK {
        return Err(UseCaseError::TooLarge(format!(
            "at most {MAX_BULK} leads per bulk request, got {total}"
        )));
    }
    let mut tx = pool.begin().await?;
    let mut campaign_ok: HashMap<CampaignId, bool> = HashMap::new();
    for id in input
        .leads
        .iter()
        .map(|l| CampaignId::from_uuid(l.campaign_id))
    {
        if let std::collections::hash_map::Entry::Vacant(slot) = campaign_ok.entry(id) {
            let ok = check_campaign(&mut tx, client_id, id, "campaign_id")
                .await
                .is_ok();
            slot.insert(ok);
        }
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for lead in &input.leads {
        let campaign_id = CampaignId::from_uuid(lead.campaign_id);
        if !campaign_ok.get(&campaign_id).copied().unwrap_or(false) {
            continue;
        }
        if let Ok(mut fields) = normalise(&raw_of(lead), "") {
            fields.campaign_id = Some(campaign_id);
            if seen.insert(fields.email.clone()) {
                rows.push((LeadId::new_v7(), fields));
            }
        }
    }
    let rows = drop_suppressed(&mut tx, rows).await?.0;
    let inserted = store::insert_many(&mut tx, client_id, &rows).await?;
    let result = LeadBulkResult {
        created: inserted.len() as u64,
        skipped: (total - inserted.len()) as u64,
        total: total as u64,
    };
    audit(
        &mut tx,
        actor,
        client_id,
        "lead.bulk_create",
        ("lead", None),
        None,
        snapshot(&result),
    )
    .await?;
    let created: Vec<LeadId> = inserted.iter().map(|(id, _)| *id).collect();
    enqueue_new_leads(&mut tx, client_id, &created).await?;
    tx.commit().await?;
    Ok(result)
}

/// Splits candidate rows into those free to insert and those suppressed (with the reason).
pub async fn drop_suppressed(
    conn: &mut PgConnection,
    rows: Vec<(LeadId, LeadFields)>,
) -> Result<
    (
        Vec<(LeadId, LeadFields)>,
        Vec<((LeadId, LeadFields), String)>,
    ),
    UseCaseError,
> {
    if rows.is_empty() {
        return Ok((rows, Vec::new()));
    }
    let emails: Vec<String> = rows.iter().map(|(_, f)| f.email.clone()).collect();
    let phones: Vec<String> = rows.iter().filter_map(|(_, f)| f.phone.clone()).collect();
    let hits = store::suppressed(&mut *conn, &emails, &phones).await?;
    if hits.is_empty() {
        return Ok((rows, Vec::new()));
    }
    let mut by_email = HashMap::new();
    let mut by_phone = HashMap::new();
    for hit in &hits {
        if let Some(e) = &hit.email {
            by_email.insert(e.clone(), suppression_reason(hit));
        }
        if let Some(p) = &hit.phone {
            by_phone.insert(p.clone(), suppression_reason(hit));
        }
    }
    let (mut keep, mut dropped) = (Vec::new(), Vec::new());
    for row in rows {
        let reason = by_email
            .get(&row.1.email)
            .or_else(|| row.1.phone.as_ref().and_then(|p| by_phone.get(p)))
            .cloned();
        match reason {
            Some(r) => dropped.push((row, r)),
            None => keep.push(row),
        }
    }
    Ok((keep, dropped))
}

/// Applies a partial update (any LeadCreate field and status) with an owner's rights.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: LeadId,
    input: &LeadUpdate,
) -> Result<Lead, UseCaseError> {
    update_as(pool, actor, Role::Owner, client_id, id, input).await
}

/// Applies a partial update for a caller with `role`: below admin, an unsubscribed or bounced
/// lead cannot be moved back to a contactable status (403).
pub async fn update_as(
    pool: &PgPool,
    actor: &Actor,
    role: Role,
    client_id: ClientId,
    id: LeadId,
    input: &LeadUpdate,
) -> Result<Lead, UseCaseError> {
    let mut tx = pool.begin().await?;
    let current = store::lock(&mut tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("lead"))?;
    let pick = |new: &Option<Option<String>>, old: &Option<String>| -> Option<String> {
        match new {
            Some(v) => v.clone(),
            None => old.clone(),
        }
    };
    let email = input.email.clone().unwrap_or_else(|| current.email.clone());
    let phone = pick(&input.phone, &current.phone);
    let first_name = pick(&input.first_name, &current.first_name);
    let last_name = pick(&input.last_name, &current.last_name);
    let title = pick(&input.title, &current.title);
    let company = pick(&input.company, &current.company);
    // Checked only when the request sets it: a stored URL from a provider (often plain
    // http) must not block an unrelated edit.
    let linkedin_url = input.linkedin_url.clone().flatten();
    let domain = pick(&input.domain, &current.domain);
    let industry = pick(&input.organization_industry, &current.organization_industry);
    let country = pick(&input.organization_country, &current.organization_country);
    let employees = match input.organization_employee_count {
        Some(v) => v,
        None => current.organization_employee_count.map(i64::from),
    };
    let raw = RawLead {
        email: &email,
        phone: phone.as_deref(),
        first_name: first_name.as_deref(),
        last_name: last_name.as_deref(),
        title: title.as_deref(),
        company: company.as_deref(),
        linkedin_url: linkedin_url.as_deref(),
        domain: domain.as_deref(),
        industry: industry.as_deref(),
        employees,
        country: country.as_deref(),
    };
    let mut errors = Vec::new();
    let mut fields = normalise(&raw, "").unwrap_or_else(|e| {
        errors = e;
        current.clone()
    });
    if input.domain.is_none() {
        fields.domain = current.domain.clone();
    }
    if input.linkedin_url.is_none() {
        fields.linkedin_url = current.linkedin_url.clone();
    }
    fields.status = match &input.status {
        Some(s) => match LeadStatus::from_str(s.trim()) {
            Ok(s) => s.as_str().to_owned(),
            Err(e) => {
                errors.push(FieldError::new("status", e.to_string()));
                current.status.clone()
            }
        },
        None => current.status.clone(),
    };
    fields.campaign_id = match input.campaign_id {
        Some(c) => c.map(CampaignId::from_uuid),
        None => current.campaign_id,
    };
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    let reopens = fields.status != current.status
        && LeadStatus::from_str(&current.status)
            .is_ok_and(|s| matches!(s, LeadStatus::Unsubscribed | LeadStatus::Bounced))
        && LeadStatus::from_str(&fields.status).is_ok_and(LeadStatus::is_contactable);
    if reopens && !role.at_least(Role::Admin) {
        return Err(UseCaseError::Forbidden(format!(
            "Only an admin or owner may move a {} lead back to {}; you are {role} in this client.",
            current.status, fields.status
        )));
    }
    if let Some(campaign_id) = fields.campaign_id
        && Some(campaign_id) != current.campaign_id
    {
        check_campaign(&mut tx, client_id, campaign_id, "campaign_id").await?;
    }
    if fields.email != current.email || (fields.phone != current.phone && fields.phone.is_some()) {
        let mut probe = fields.clone();
        if fields.email == current.email {
            probe.email = String::new();
        }
        if fields.phone == current.phone {
            probe.phone = None;
        }
        check_suppression(&mut tx, &probe, "").await?;
    }
    let lead = store::update(&mut tx, client_id, id, &fields)
        .await
        .map_err(|e| map_write(e, &fields.email))?;
    audit(
        &mut tx,
        actor,
        client_id,
        "lead.update",
        ("lead", Some(id.into_uuid())),
        snapshot(&current),
        snapshot(&fields),
    )
    .await?;
    tx.commit().await?;
    Ok(lead)
}

/// Soft-deletes the lead.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: LeadId,
) -> Result<(), UseCaseError> {
    delete_audited(
        pool,
        actor,
        client_id,
        id,
        "lead",
        store::lock,
        store::soft_delete,
    )
    .await
}

/// The lead `id` of the client.
pub async fn get(pool: &PgPool, client_id: ClientId, id: LeadId) -> Result<Lead, UseCaseError> {
    store::get(pool, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("lead"))
}

/// The list query, as received (all optional text).
#[derive(Debug, Clone, Default)]
pub struct LeadQuery {
    /// Campaign filter.
    pub campaign_id: Option<Uuid>,
    /// Status filter.
    pub status: Option<String>,
    /// Tier filter.
    pub tier: Option<String>,
    /// Search text.
    pub search: Option<String>,
    /// `created_at`, `-created_at`, `als_score` or `-als_score`.
    pub sort: Option<String>,
}

fn nonblank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Validates the list query into a store filter and an order.
pub fn parse_query(q: &LeadQuery) -> Result<(LeadFilter, LeadSort), UseCaseError> {
    let mut errors = Vec::new();
    let status = nonblank(&q.status).and_then(|s| match LeadStatus::from_str(s) {
        Ok(s) => Some(s.as_str().to_owned()),
        Err(e) => {
            errors.push(FieldError::new("status", e.to_string()));
            None
        }
    });
    let tier = nonblank(&q.tier).and_then(|s| match Tier::from_str(s) {
        Ok(t) => Some(t.as_str().to_owned()),
        Err(e) => {
            errors.push(FieldError::new("tier", e.to_string()));
            None
        }
    });
    let sort = match nonblank(&q.sort) {
        None | Some("-created_at") => LeadSort::CreatedDesc,
        Some("created_at") => LeadSort::CreatedAsc,
        Some("-als_score") => LeadSort::ScoreDesc,
        Some("als_score") => LeadSort::ScoreAsc,
        Some(other) => {
            errors.push(FieldError::new(
                "sort",
                format!("unknown sort `{other}` (expected created_at, -created_at, als_score or -als_score)"),
            ));
            LeadSort::CreatedDesc
        }
    };
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    let filter = LeadFilter {
        campaign_id: q.campaign_id.map(CampaignId::from_uuid),
        status,
        tier,
        search: q.search.clone(),
    };
    Ok((filter, sort))
}

/// How long a cached lead count answers list totals (writes through the API invalidate it
/// at once; other writers, such as workers changing statuses, within this time).
pub const COUNT_TTL: Duration = Duration::from_secs(10);

fn generation_key(client_id: ClientId) -> String {
    format!("leads_count_gen:{client_id}")
}

/// Makes every cached lead count of the client stale; call after a lead write.
pub async fn invalidate_counts(cache: &dyn Cache, client_id: ClientId) {
    let generation = Uuid::now_v7().simple().to_string();
    let day = Duration::from_secs(24 * 60 * 60);
    if let Err(e) = cache
        .set(&generation_key(client_id), generation.as_bytes(), day)
        .await
    {
        tracing::warn!(error = %e, "could not invalidate cached lead counts");
    }
}

/// One offset page of leads and the total. With a cache, the total of the same filter is
/// reused for [`COUNT_TTL`] (a `count(*)` over a large tenant costs milliseconds; the page
/// itself is an index range scan).
pub async fn list(
    pool: &PgPool,
    cache: Option<&dyn Cache>,
    client_id: ClientId,
    q: &LeadQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Lead>, i64), UseCaseError> {
    let (filter, sort) = parse_query(q)?;
    let Some(cache) = cache else {
        return Ok(store::list(pool, client_id, &filter, sort, limit, offset).await?);
    };
    let (items, cached) = tokio::join!(
        store::page(pool, client_id, &filter, sort, limit, offset),
        cached_total(cache, client_id, &filter)
    );
    let total = total(pool, cache, client_id, &filter, cached, None).await?;
    Ok((items?, total))
}

/// [`list`] for a caller whose access to the client was not checked yet: the membership is
/// checked in the statement that reads the page (one round trip for both; the dashboard's
/// busiest call). Not a member, or no such client, is `NotFound("client")`, as the tenant
/// check answers; the total is computed only for a member.
pub async fn list_as_member(
    services: &Services,
    user_id: UserId,
    client_id: ClientId,
    q: &LeadQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Lead>, i64), UseCaseError> {
    let (filter, sort) = parse_query(q)?;
    let pool = &services.pool;
    let cache: &dyn Cache = services.cache.as_ref();
    let client = client_id;
    let (items, cached) = tokio::join!(
        store::page_for_member(pool, client_id, user_id, &filter, sort, limit, offset),
        cached_total(cache, client, &filter)
    );
    let items = items?.ok_or(UseCaseError::NotFound("client"))?;
    let flights = Some(services.lead_counts.as_ref());
    let total = total(pool, cache, client, &filter, cached, flights).await?;
    Ok((items, total))
}

/// The cached total of `filter` under the client's current count generation (one cache
/// round trip): the key it is stored at and the total when present; `None` when the cache
/// cannot answer.
async fn cached_total(
    cache: &dyn Cache,
    client_id: ClientId,
    filter: &LeadFilter,
) -> Option<(String, Option<i64>)> {
    let mut hasher = DefaultHasher::new();
    filter.hash(&mut hasher);
    let prefix = format!("leads_count:{client_id}:");
    let suffix = format!(":{:016x}", hasher.finish());
    match cache
        .get_in_generation(&generation_key(client_id), &prefix, &suffix)
        .await
    {
        Ok((generation, value)) => {
            let total = value.and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok());
            Some((format!("{prefix}{generation}{suffix}"), total))
        }
        Err(e) => {
            tracing::warn!(error = %e, "lead count cache unavailable");
            None
        }
    }
}

/// The total of `filter`: the cached one, else counted (and cached when the cache answered).
/// With `flights`, concurrent misses of the same key in this process share one count: when
/// the cached total expires under load, one `count(*)` runs, not one per waiting request.
async fn total(
    pool: &PgPool,
    cache: &dyn Cache,
    client_id: ClientId,
    filter: &LeadFilter,
    cached: Option<(String, Option<i64>)>,
    flights: Option<&SingleFlight<i64>>,
) -> Result<i64, UseCaseError> {
    let (key, total) = match cached {
        Some(cached) => cached,
        None => return Ok(store::count(pool, client_id, filter).await?),
    };
    if let Some(total) = total {
        return Ok(total);
    }
    let count = || async {
        let total = store::count(pool, client_id, filter).await?;
        if let Err(e) = cache
            .set(&key, total.to_string().as_bytes(), COUNT_TTL)
            .await
        {
            tracing::warn!(error = %e, "could not cache a lead count");
        }
        Ok::<_, UseCaseError>(total)
    };
    match flights {
        Some(flights) => flights.run(&key, count).await,
        None => count().await,
    }
}

/// The keyset position of a lead: `(created_at, id)`.
pub type LeadKey = (DateTime<Utc>, LeadId);

/// One keyset page after `after`, and the key to continue from when more may follow.
/// Only `created_at` orders are keyset-able; other sorts answer 422.
pub async fn list_keyset(
    pool: &PgPool,
    client_id: ClientId,
    q: &LeadQuery,
    after: Option<LeadKey>,
    limit: i64,
) -> Result<(Vec<Lead>, Option<LeadKey>), UseCaseError> {
    let (filter, sort) = parse_query(q)?;
    let desc = match sort {
        LeadSort::CreatedDesc => true,
        LeadSort::CreatedAsc => false,
        _ => {
            return Err(UseCaseError::field(
                "sort",
                "cursor pagination supports sort=created_at or -created_at",
            ));
        }
    };
    let mut items = store::list_after(pool, client_id, &filter, desc, after, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit.max(0) as usize);
    let next = if more {
        items
            .last()
            .map(|l| (l.created_at, LeadId::from_uuid(l.id)))
    } else {
        None
    };
    Ok((items, next))
}

/// The lead's latest activities (404 for a lead outside the client).
pub async fn activities(
    pool: &PgPool,
    client_id: ClientId,
    lead_id: LeadId,
    limit: Option<i64>,
) -> Result<Vec<Activity>, UseCaseError> {
    store::get(pool, client_id, lead_id)
        .await
        .map_err(UseCaseError::not_found_as("lead"))?;
    let limit = limit.unwrap_or(50).clamp(1, MAX_ACTIVITIES);
    Ok(activities::for_lead(pool, client_id, lead_id, limit).await?)
}
