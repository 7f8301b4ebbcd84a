//! The lead list decodes its rows by position (`Lead::from_columns`) for speed: these tests
//! pin that the positions follow `LEAD_COLUMNS`, by comparing with the by-name decoding on a
//! lead whose columns of each type all hold different values.

use agency_domain::{ClientId, UserId};
use agency_store::leads::{self, LEAD_COLUMNS, Lead, LeadFilter, LeadSort};
use sqlx::PgPool;
use uuid::Uuid;

/// A client with one campaign and one lead with every listed column set, all different.
async fn seed(pool: &PgPool) -> (Uuid, Uuid) {
    let client: Uuid =
        sqlx::query_scalar("INSERT INTO clients (name) VALUES ('Acme') RETURNING id")
            .fetch_one(pool)
            .await
            .expect("client");
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name) VALUES ($1, 'Spring') RETURNING id",
    )
    .bind(client)
    .fetch_one(pool)
    .await
    .expect("campaign");
    sqlx::query(
        "INSERT INTO leads (client_id, campaign_id, email, phone, first_name, last_name, title,
                company, linkedin_url, domain, als_score, als_tier, als_data_quality,
                als_authority, als_company_fit, als_timing, als_risk, als_weights, als_channels,
                scored_at, organization_industry, organization_employee_count,
                organization_country, status, enrichment_source, enrichment_confidence,
                dncr_checked, next_action_at, created_at, updated_at)
         VALUES ($1, $2, 'ada@acme.com.au', '+61400000001', 'Ada', 'Lovelace', 'Director',
                'Acme Pty Ltd', 'https://www.linkedin.com/in/ada', 'acme.com.au', 71, 'warm', 11,
                12, 13, 14, 15, '{\"w\": 1}', ARRAY['email', 'sms'],
                '2026-01-01T00:00:01Z', 'Software', 42, 'AU', 'scored', 'apollo', 0.875,
                true, '2026-01-02T00:00:02Z', '2026-01-03T00:00:03Z', '2026-01-04T00:00:04Z')",
    )
    .bind(client)
    .bind(campaign)
    .execute(pool)
    .await
    .expect("lead");
    (client, campaign)
}

async fn by_name(pool: &PgPool, client: Uuid) -> Vec<Lead> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE client_id = $1"
    )))
    .bind(client)
    .fetch_all(pool)
    .await
    .expect("by name")
}

#[sqlx::test(migrations = "../../migrations")]
async fn decoding_by_position_matches_decoding_by_name(pool: PgPool) {
    let (client, campaign) = seed(&pool).await;
    let expected = by_name(&pool, client).await;
    assert_eq!(expected.len(), 1);
    let lead = &expected[0];
    // The by-name decoding itself read what was written.
    assert_eq!(
        (
            lead.campaign_id,
            lead.first_name.as_deref(),
            lead.last_name.as_deref()
        ),
        (Some(campaign), Some("Ada"), Some("Lovelace"))
    );
    assert_eq!(
        (
            lead.als_score,
            lead.als_risk,
            lead.organization_employee_count
        ),
        (Some(71), Some(15), Some(42))
    );

    let page = leads::page(
        &pool,
        ClientId::from_uuid(client),
        &LeadFilter::default(),
        LeadSort::CreatedDesc,
        10,
        0,
    )
    .await
    .expect("page");
    assert_eq!(page, expected);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_member_page_decodes_after_its_access_column(pool: PgPool) {
    let (client, _) = seed(&pool).await;
    let user = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, email) VALUES ($1, 'm@example.com')")
        .bind(user)
        .execute(&pool)
        .await
        .expect("user");
    sqlx::query(
        "INSERT INTO memberships (client_id, user_id, role, accepted_at)
         VALUES ($1, $2, 'member', now())",
    )
    .bind(client)
    .bind(user)
    .execute(&pool)
    .await
    .expect("membership");
    let page = leads::page_for_member(
        &pool,
        ClientId::from_uuid(client),
        UserId::from_uuid(user),
        &LeadFilter::default(),
        LeadSort::CreatedDesc,
        10,
        0,
    )
    .await
    .expect("page");
    assert_eq!(page, Some(by_name(&pool, client).await));
    let stranger = leads::page_for_member(
        &pool,
        ClientId::from_uuid(client),
        UserId::from_uuid(Uuid::now_v7()),
        &LeadFilter::default(),
        LeadSort::CreatedDesc,
        10,
        0,
    )
    .await
    .expect("no access is not an error");
    assert_eq!(stranger, None);
}
