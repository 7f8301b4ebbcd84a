//! Campaign use-cases: create (draft, validated allocations), partial update (completed is
//! read-only), status transitions, soft delete and the sequence; each write is audited in the
//! same transaction.

use agency_domain::CampaignId;
use agency_domain::ClientId;
use std::str::FromStr;

use agency_domain::{CampaignStatus, Channel, ChannelAllocation, PermissionMode};
use agency_store::PgPool;
use agency_store::campaigns::{
    self as store, Campaign, CampaignFields, CampaignFilter, NewSequenceStep, SequenceStep,
};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::usecase::{
    Actor, FieldError, UseCaseError, audit, clean_list, clean_text, delete_audited, double_option,
    snapshot,
};

/// Longest campaign name.
pub const MAX_NAME: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 5_000;
/// Largest daily lead limit.
pub const MAX_DAILY_LIMIT: i64 = 10_000;
/// Most sequence steps in a campaign.
pub const MAX_STEPS: usize = 50;

/// The body of `POST /campaigns`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignCreate {
    /// Display name (required, not blank).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// `autopilot`, `co_pilot` or `manual` (default: the client's default mode).
    pub permission_mode: Option<String>,
    /// Email share (default 40).
    pub allocation_email: Option<i64>,
    /// LinkedIn share (default 30).
    pub allocation_linkedin: Option<i64>,
    /// Voice share (default 20).
    pub allocation_voice: Option<i64>,
    /// SMS share (default 5).
    pub allocation_sms: Option<i64>,
    /// Mail share (default 5).
    pub allocation_mail: Option<i64>,
    /// New leads per day (default 50).
    pub daily_limit: Option<i64>,
    /// Cap on leads in the campaign.
    pub total_lead_limit: Option<i64>,
    /// First day of sending.
    pub start_date: Option<NaiveDate>,
    /// Last day of sending (not before `start_date`).
    pub end_date: Option<NaiveDate>,
    /// Target industries.
    pub target_industries: Option<Vec<String>>,
    /// Target titles.
    pub target_titles: Option<Vec<String>>,
    /// Target company sizes.
    pub target_company_sizes: Option<Vec<String>>,
    /// Target locations.
    pub target_locations: Option<Vec<String>>,
}

/// The body of `PUT /campaigns/{id}`: every field optional; `null` clears a nullable one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignUpdate {
    /// Display name.
    pub name: Option<String>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Permission mode.
    pub permission_mode: Option<String>,
    /// Email share.
    pub allocation_email: Option<i64>,
    /// LinkedIn share.
    pub allocation_linkedin: Option<i64>,
    /// Voice share.
    pub allocation_voice: Option<i64>,
    /// SMS share.
    pub allocation_sms: Option<i64>,
    /// Mail share.
    pub allocation_mail: Option<i64>,
    /// New leads per day.
    pub daily_limit: Option<i64>,
    /// Cap on leads (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub total_lead_limit: Option<Option<i64>>,
    /// First day (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    /// Last day (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    /// Target industries.
    pub target_industries: Option<Vec<String>>,
    /// Target titles.
    pub target_titles: Option<Vec<String>>,
    /// Target company sizes.
    pub target_company_sizes: Option<Vec<String>>,
    /// Target locations.
    pub target_locations: Option<Vec<String>>,
    /// A new status, checked against the transition table.
    pub status: Option<String>,
}

/// The body of `PATCH /campaigns/{id}/status`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `draft`, `active`, `paused` or `completed`.
    pub status: String,
}

/// One step in the body of `PUT /campaigns/{id}/sequences`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SequenceStepInput {
    /// Position from 1 (default: the position in the list).
    pub step_number: Option<i64>,
    /// `email`, `sms`, `linkedin`, `voice` or `mail`.
    pub channel: String,
    /// Days after the previous step (default 0).
    pub delay_days: Option<i64>,
    /// Subject template.
    pub subject_template: Option<String>,
    /// Body template.
    pub body_template: Option<String>,
    /// Skip once the lead replied (default true).
    pub skip_if_replied: Option<bool>,
    /// Skip once the address bounced (default true).
    pub skip_if_bounced: Option<bool>,
}

/// The body of `PUT /campaigns/{id}/sequences`: a bare list or `{steps: [...]}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SequenceInput {
    /// A bare list of steps.
    List(Vec<SequenceStepInput>),
    /// The steps wrapped in an object.
    Wrapped {
        /// The steps.
        steps: Vec<SequenceStepInput>,
    },
}

impl SequenceInput {
    fn steps(&self) -> &[SequenceStepInput] {
        match self {
            SequenceInput::List(s) | SequenceInput::Wrapped { steps: s } => s,
        }
    }
}

/// Parses a campaign status for a filter or a change; a 422 naming `path` otherwise.
pub fn parse_status(path: &str, text: &str) -> Result<CampaignStatus, UseCaseError> {
    CampaignStatus::from_str(text.trim()).map_err(|e| UseCaseError::field(path, e.to_string()))
}

fn parse_mode(text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match PermissionMode::from_str(text.trim()) {
        Ok(m) => Some(m.as_str().to_owned()),
        Err(e) => {
            errors.push(FieldError::new("permission_mode", e.to_string()));
            None
        }
    }
}

fn check_fields(f: &CampaignFields, errors: &mut Vec<FieldError>) {
    if let Err(e) = ChannelAllocation::new(
        f.allocation_email.into(),
        f.allocation_linkedin.into(),
        f.allocation_voice.into(),
        f.allocation_sms.into(),
        f.allocation_mail.into(),
    ) {
        for field in e.fields() {
            errors.push(FieldError::new(field, e.to_string()));
        }
    }
    if let (Some(start), Some(end)) = (f.start_date, f.end_date)
        && end < start
    {
        errors.push(FieldError::new("end_date", "must not be before start_date"));
    }
}

fn small_int(path: &str, value: i64, min: i64, max: i64, errors: &mut Vec<FieldError>) -> i64 {
    if value < min || value > max {
        errors.push(FieldError::new(
            path,
            format!("must be between {min} and {max}"),
        ));
        return min;
    }
    value
}

/// Allocation percentages are bounded to -1..=101 before the domain check, so the domain's
/// error keeps the field and the value fits a smallint.
fn alloc(value: i64) -> i16 {
    value.clamp(-1, 101) as i16
}

fn name_of(path: &str, text: &str, errors: &mut Vec<FieldError>) -> String {
    match clean_text(path, Some(text), MAX_NAME, errors) {
        Some(name) => name,
        None => {
            if text.trim().is_empty() {
                errors.push(FieldError::new(path, "must not be blank"));
            }
            String::new()
        }
    }
}

/// One page of the client's campaigns (`status` and `search` filters).
pub async fn list(
    pool: &PgPool,
    client_id: ClientId,
    status: Option<&str>,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Campaign>, i64), UseCaseError> {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_status("status", s)?.as_str().to_owned()),
        None => None,
    };
    let filter = CampaignFilter {
        status,
        search: search.map(str::to_owned),
    };
    Ok(store::list(pool, client_id, &filter, limit, offset).await?)
}

/// The campaign `id` of the client.
pub async fn get(
    pool: &PgPool,
    client_id: ClientId,
    id: CampaignId,
) -> Result<Campaign, UseCaseError> {
    store::get(pool, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("campaign"))
}

/// Creates a draft campaign.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    input: &CampaignCreate,
) -> Result<Campaign, UseCaseError> {
    let mut errors = Vec::new();
    let defaults = ChannelAllocation::default();
    let permission_mode = match &input.permission_mode {
        Some(mode) => parse_mode(mode, &mut errors),
        None => None,
    };
    let fields = CampaignFields {
        name: name_of("name", &input.name, &mut errors),
        description: clean_text(
            "description",
            input.description.as_deref(),
            MAX_DESCRIPTION,
            &mut errors,
        ),
        permission_mode: permission_mode.unwrap_or_default(),
        allocation_email: alloc(input.allocation_email.unwrap_or(defaults.email().into())),
        allocation_linkedin: alloc(
            input
                .allocation_linkedin
                .unwrap_or(defaults.linkedin().into()),
        ),
        allocation_voice: alloc(input.allocation_voice.unwrap_or(defaults.voice().into())),
        allocation_sms: alloc(input.allocation_sms.unwrap_or(defaults.sms().into())),
        allocation_mail: alloc(input.allocation_mail.unwrap_or(defaults.mail().into())),
        daily_lead_limit: small_int(
            "daily_limit",
            input.daily_limit.unwrap_or(50),
            1,
            MAX_DAILY_LIMIT,
            &mut errors,
        ) as i32,
        total_lead_limit: input
            .total_lead_limit
            .map(|v| small_int("total_lead_limit", v, 1, i64::from(i32::MAX), &mut errors) as i32),
        start_date: input.start_date,
        end_date: input.end_date,
        target_industries: clean_list(input.target_industries.as_deref().unwrap_or_default()),
        target_titles: clean_list(input.target_titles.as_deref().unwrap_or_default()),
        target_company_sizes: clean_list(input.target_company_sizes.as_deref().unwrap_or_default()),
        target_locations: clean_list(input.target_locations.as_deref().unwrap_or_default()),
    };
    check_fields(&fields, &mut errors);
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    let mut fields = fields;
    let mut tx = pool.begin().await?;
    if input.permission_mode.is_none() {
        fields.permission_mode = store::client_default_permission_mode(&mut *tx, client_id)
            .await
            .map_err(UseCaseError::not_found_as("client"))?;
    }
    let id = CampaignId::new_v7();
    store::insert(&mut tx, client_id, id, actor.user_id, &fields).await?;
    audit(
        &mut tx,
        actor,
        client_id,
        "campaign.create",
        ("campaign", Some(id.into_uuid())),
        None,
        snapshot(&fields),
    )
    .await?;
    let campaign = store::get(&mut *tx, client_id, id).await?;
    tx.commit().await?;
    Ok(campaign)
}

/// Applies a partial update; a completed campaign is read-only (409).
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: CampaignId,
    input: &CampaignUpdate,
) -> Result<Campaign, UseCaseError> {
    let mut tx = pool.begin().await?;
    let current = store::lock(&mut tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("campaign"))?;
    let status = parse_status("status", &current.status)?;
    if status.is_read_only() {
        return Err(read_only());
    }
    let target = match &input.status {
        Some(text) => Some(parse_status("status", text)?),
        None => None,
    };
    let mut errors = Vec::new();
    let mut f = current.fields.clone();
    if let Some(name) = &input.name {
        f.name = name_of("name", name, &mut errors);
    }
    if let Some(description) = &input.description {
        f.description = clean_text(
            "description",
            description.as_deref(),
            MAX_DESCRIPTION,
            &mut errors,
        );
    }
    if let Some(mode) = &input.permission_mode
        && let Some(mode) = parse_mode(mode, &mut errors)
    {
        f.permission_mode = mode;
    }
    let allocations = [
        (&mut f.allocation_email, input.allocation_email),
        (&mut f.allocation_linkedin, input.allocation_linkedin),
        (&mut f.allocation_voice, input.allocation_voice),
        (&mut f.allocation_sms, input.allocation_sms),
        (&mut f.allocation_mail, input.allocation_mail),
    ];
    for (slot, value) in allocations {
        if let Some(v) = value {
            *slot = alloc(v);
        }
    }
    if let Some(limit) = input.daily_limit {
        f.daily_lead_limit =
            small_int("daily_limit", limit, 1, MAX_DAILY_LIMIT, &mut errors) as i32;
    }
    if let Some(limit) = input.total_lead_limit {
        f.total_lead_limit = limit
            .map(|v| small_int("total_lead_limit", v, 1, i64::from(i32::MAX), &mut errors) as i32);
    }
    if let Some(date) = input.start_date {
        f.start_date = date;
    }
    if let Some(date) = input.end_date {
        f.end_date = date;
    }
    let lists = [
        (&mut f.target_industries, &input.target_industries),
        (&mut f.target_titles, &input.target_titles),
        (&mut f.target_company_sizes, &input.target_company_sizes),
        (&mut f.target_locations, &input.target_locations),
    ];
    for (slot, value) in lists {
        if let Some(v) = value {
            *slot = clean_list(v);
        }
    }
    check_fields(&f, &mut errors);
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    store::update(&mut tx, client_id, id, &f).await?;
    if let Some(to) = target
        && to != status
    {
        let to = status.transition(to).map_err(illegal)?;
        store::set_status(&mut tx, client_id, id, to.as_str()).await?;
    }
    audit(
        &mut tx,
        actor,
        client_id,
        "campaign.update",
        ("campaign", Some(id.into_uuid())),
        snapshot(&current),
        snapshot(&f),
    )
    .await?;
    let campaign = store::get(&mut *tx, client_id, id).await?;
    tx.commit().await?;
    Ok(campaign)
}

fn read_only() -> UseCaseError {
    UseCaseError::Conflict {
        code: "campaign_read_only",
        message: "This campaign is completed, so it can no longer be changed.".to_owned(),
    }
}

fn illegal(e: agency_domain::IllegalTransition) -> UseCaseError {
    UseCaseError::Conflict {
        code: "illegal_transition",
        message: e.to_string(),
    }
}

/// Moves the campaign to `to` if the transition table allows it (else 409).
pub async fn change_status(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: CampaignId,
    to: CampaignStatus,
) -> Result<Campaign, UseCaseError> {
    change_status_from(pool, actor, client_id, id, None, to).await
}

/// Like [`change_status`], but only from `from` when given (e.g. resume: paused -> active);
/// checked under the row lock, so the check and the change are atomic.
pub async fn change_status_from(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: CampaignId,
    from_only: Option<CampaignStatus>,
    to: CampaignStatus,
) -> Result<Campaign, UseCaseError> {
    let mut tx = pool.begin().await?;
    let current = store::lock(&mut tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("campaign"))?;
    let from = parse_status("status", &current.status)?;
    if let Some(required) = from_only
        && required != from
    {
        let message = if from == to {
            format!("This campaign is already {to}.")
        } else {
            format!("Only a {required} campaign can become {to}; this campaign is {from}.")
        };
        return Err(UseCaseError::Conflict {
            code: "illegal_transition",
            message,
        });
    }
    let to = from.transition(to).map_err(illegal)?;
    store::set_status(&mut tx, client_id, id, to.as_str()).await?;
    if to == CampaignStatus::Active {
        // Leads of a campaign that was not sending were scored but not allocated: plan their
        // first touches now, committed with the status change.
        crate::pipeline::enqueue_campaign_rescore(&mut tx, client_id, id).await?;
    }
    if to == CampaignStatus::Completed {
        crate::outbound::emit_event(
            &mut tx,
            client_id,
            agency_domain::EventType::CampaignCompleted,
            serde_json::json!({
                "campaign_id": id, "name": current.fields.name, "previous_status": from.as_str(),
            }),
        )
        .await?;
    }
    audit(
        &mut tx,
        actor,
        client_id,
        "campaign.status",
        ("campaign", Some(id.into_uuid())),
        Some(serde_json::json!({ "status": from.as_str() })),
        Some(serde_json::json!({ "status": to.as_str() })),
    )
    .await?;
    let campaign = store::get(&mut *tx, client_id, id).await?;
    tx.commit().await?;
    Ok(campaign)
}

/// Soft-deletes the campaign (the caller checked the role).
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: CampaignId,
) -> Result<(), UseCaseError> {
    delete_audited(
        pool,
        actor,
        client_id,
        id,
        "campaign",
        store::lock,
        store::soft_delete,
    )
    .await
}

/// The campaign's sequence (404 when the campaign is not the client's).
pub async fn sequence(
    pool: &PgPool,
    client_id: ClientId,
    id: CampaignId,
) -> Result<Vec<SequenceStep>, UseCaseError> {
    store::get(pool, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("campaign"))?;
    Ok(store::sequence(pool, client_id, id).await?)
}

fn validate_steps(input: &SequenceInput) -> Result<Vec<NewSequenceStep>, UseCaseError> {
    let steps = input.steps();
    let mut errors = Vec::new();
    if steps.len() > MAX_STEPS {
        return Err(UseCaseError::field(
            "steps",
            format!("A sequence has at most {MAX_STEPS} steps."),
        ));
    }
    let mut out = Vec::with_capacity(steps.len());
    let mut seen = std::collections::HashSet::new();
    for (i, s) in steps.iter().enumerate() {
        let path = |f: &str| format!("[{i}].{f}");
        let number = s.step_number.unwrap_or(i as i64 + 1);
        if !(1..=i64::from(i32::MAX)).contains(&number) {
            errors.push(FieldError::new(path("step_number"), "must be 1 or more"));
        } else if !seen.insert(number) {
            errors.push(FieldError::new(
                path("step_number"),
                "is used by another step",
            ));
        }
        let channel = Channel::from_str(s.channel.trim())
            .map_err(|e| errors.push(FieldError::new(path("channel"), e.to_string())))
            .ok();
        let delay = s.delay_days.unwrap_or(0);
        if !(0..=365).contains(&delay) {
            errors.push(FieldError::new(
                path("delay_days"),
                "must be between 0 and 365",
            ));
        }
        let subject = clean_text(
            &path("subject_template"),
            s.subject_template.as_deref(),
            1_000,
            &mut errors,
        );
        let body = clean_text(
            &path("body_template"),
            s.body_template.as_deref(),
            50_000,
            &mut errors,
        );
        for (field, template) in [("subject_template", &subject), ("body_template", &body)] {
            if let Some(Err(reason)) = template
                .as_deref()
                .map(crate::outreach::content::validate_template)
            {
                errors.push(FieldError::new(path(field), reason));
            }
        }
        if let Some(channel) = channel {
            out.push(NewSequenceStep {
                step_number: number.clamp(1, i64::from(i32::MAX)) as i32,
                channel: channel.as_str().to_owned(),
                delay_days: delay.clamp(0, 365) as i32,
                subject_template: subject,
                body_template: body,
                skip_if_replied: s.skip_if_replied.unwrap_or(true),
                skip_if_bounced: s.skip_if_bounced.unwrap_or(true),
            });
        }
    }
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    out.sort_by_key(|s| s.step_number);
    Ok(out)
}

/// Replaces the campaign's sequence; a completed campaign is read-only (409).
pub async fn replace_sequence(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: CampaignId,
    input: &SequenceInput,
) -> Result<Vec<SequenceStep>, UseCaseError> {
    let steps = validate_steps(input)?;
    let mut tx = pool.begin().await?;
    let current = store::lock(&mut tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("campaign"))?;
    if parse_status("status", &current.status)?.is_read_only() {
        return Err(read_only());
    }
    let before = store::sequence(&mut *tx, client_id, id).await?;
    let saved = store::replace_sequence(&mut tx, client_id, id, &steps).await?;
    audit(
        &mut tx,
        actor,
        client_id,
        "campaign.sequence",
        ("campaign", Some(id.into_uuid())),
        Some(serde_json::json!({ "steps": before.len() })),
        snapshot(&saved),
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}
