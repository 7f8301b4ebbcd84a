//! The demo tenant dev mode seeds (idempotent): one client, its owner and a draft campaign.

use uuid::Uuid;

/// The demo owner's id (stable, so a saved token keeps working across restarts).
pub const DEMO_USER_ID: Uuid = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0001);
/// The demo client's id.
pub const DEMO_CLIENT_ID: Uuid = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0002);
/// The demo campaign's id.
pub const DEMO_CAMPAIGN_ID: Uuid = Uuid::from_u128(0x0194_0000_0000_7000_8000_0000_0000_0003);
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
    tx.commit().await?;
    Ok(Demo {
        user_id: DEMO_USER_ID,
        client_id: DEMO_CLIENT_ID,
    })
}
