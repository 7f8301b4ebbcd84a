//! Just-in-time validation for every send path (SPEC 3.2): reads the snapshot inside the
//! caller's transaction (the one claiming the `outreach_sends` row; the lead row is locked
//! `FOR SHARE`) and runs the domain's `validate_send`. One function, so no send path can skip
//! a check.

use agency_domain::ClientId;
use agency_domain::LeadId;
use agency_domain::{
    CampaignStatus, Channel, LeadStatus, SendBlocked, SendSnapshot, SubscriptionStatus, Tier,
    validate_send,
};
use agency_store::leads::send_snapshot as store;
use sqlx::PgConnection;

use crate::error::UseCaseError;

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, UseCaseError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| UseCaseError::Corrupt(format!("{what}: {e}")))
}

/// Checks that a send on `channel` to the lead may go now: `Ok(Ok(()))` to send,
/// `Ok(Err(reason))` to record the reason and send nothing, `Err` when the check itself failed.
/// A lead without a campaign counts as a deleted campaign.
pub async fn check_send(
    conn: &mut PgConnection,
    client_id: ClientId,
    lead_id: LeadId,
    channel: Channel,
) -> Result<Result<(), SendBlocked>, UseCaseError> {
    let row = store::send_snapshot(conn, client_id, lead_id).await?;
    let snapshot = SendSnapshot {
        subscription_status: parse::<SubscriptionStatus>(
            "subscription_status",
            &row.subscription_status,
        )?,
        credits_remaining: i64::from(row.credits_remaining),
        campaign_status: match &row.campaign_status {
            Some(s) => parse::<CampaignStatus>("campaign status", s)?,
            None => CampaignStatus::Draft,
        },
        campaign_deleted: row.campaign_deleted || row.campaign_status.is_none(),
        lead_deleted: row.lead_deleted,
        lead_status: parse::<LeadStatus>("lead status", &row.lead_status)?,
        lead_tier: row
            .lead_tier
            .as_deref()
            .map(|t| parse::<Tier>("tier", t))
            .transpose()?,
        address_suppressed: if channel.is_phone() {
            row.phone_suppressed
        } else {
            row.email_suppressed
        },
        channel,
        dncr_checked: row.dncr_checked,
        dncr_blocked: row.dncr_blocked,
    };
    Ok(validate_send(&snapshot))
}
