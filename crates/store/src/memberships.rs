//! Memberships: which user holds which role in which client, pending invites (by email) and
//! their acceptance. Reads for authorisation only see accepted, live memberships of live
//! clients.

use agency_domain::{ClientId, MembershipId, UserId};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::StoreError;

/// The accepted, live memberships of live clients (`m`, `c`), open for more `AND` conditions.
macro_rules! live_membership {
    () => {
        "FROM memberships m JOIN clients c ON c.id = m.client_id AND c.deleted_at IS NULL
          WHERE m.accepted_at IS NOT NULL AND m.deleted_at IS NULL"
    };
}

/// Pushes `EXISTS (..)`: whether `user_id` holds an accepted, live membership of the live
/// client `client_id` (the same rule as [`access`]), for statements that check access and
/// read in one round trip.
pub(crate) fn push_is_member(
    qb: &mut QueryBuilder<Postgres>,
    client_id: ClientId,
    user_id: UserId,
) {
    qb.push(concat!(
        "EXISTS (SELECT 1 ",
        live_membership!(),
        " AND m.client_id = "
    ))
    .push_bind(client_id)
    .push(" AND m.user_id = ")
    .push_bind(user_id)
    .push(")");
}

/// An accepted membership used to authorise a request.
#[derive(Debug, Clone, FromRow)]
pub struct Access {
    /// The membership.
    pub membership_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The client's name.
    pub client_name: String,
    /// The role text.
    pub role: String,
}

/// One of the user's memberships, for `/me`.
#[derive(Debug, Clone, FromRow)]
pub struct UserMembership {
    /// The membership.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The client's name.
    pub client_name: String,
    /// The role text.
    pub role: String,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// A member or pending invite of a client.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    /// The membership.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The user, once accepted.
    pub user_id: Option<Uuid>,
    /// The user's email, or the invited email while pending.
    pub email: Option<String>,
    /// The role text.
    pub role: String,
    /// The invited email.
    pub invited_email: Option<String>,
    /// Who invited.
    pub invited_by: Option<Uuid>,
    /// When it was accepted (`None` while pending).
    pub accepted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

const MEMBER_SELECT: &str =
    "SELECT m.id, m.client_id, m.user_id, COALESCE(u.email, m.invited_email) AS email,
    m.role, m.invited_email, m.invited_by, m.accepted_at, m.created_at, m.updated_at
    FROM memberships m LEFT JOIN users u ON u.id = m.user_id";

/// The user's accepted membership of a live client, if any.
pub async fn access(
    pool: &PgPool,
    client_id: ClientId,
    user_id: UserId,
) -> Result<Option<Access>, StoreError> {
    Ok(sqlx::query_as::<_, Access>(concat!(
        "SELECT m.id AS membership_id, c.id AS client_id, c.name AS client_name, m.role ",
        live_membership!(),
        " AND m.client_id = $1 AND m.user_id = $2"
    ))
    .bind(client_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// The user's accepted memberships of live clients, oldest first.
pub async fn for_user(pool: &PgPool, user_id: UserId) -> Result<Vec<UserMembership>, StoreError> {
    Ok(sqlx::query_as::<_, UserMembership>(
        "SELECT m.id, c.id AS client_id, c.name AS client_name, m.role, m.accepted_at
           FROM memberships m JOIN clients c ON c.id = m.client_id AND c.deleted_at IS NULL
          WHERE m.user_id = $1 AND m.accepted_at IS NOT NULL AND m.deleted_at IS NULL
          ORDER BY m.created_at, m.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// A page of the client's live members and invites, oldest first, with the total.
pub async fn list(
    conn: &mut PgConnection,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MemberRow>, i64), StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships WHERE client_id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, MemberRow>(sqlx::AssertSqlSafe(format!(
        "{MEMBER_SELECT} WHERE m.client_id = $1 AND m.deleted_at IS NULL ORDER BY m.created_at, m.id LIMIT $2 OFFSET $3"
    )))
    .bind(client_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// The live membership `id` of the client; `lock` takes a row lock for an update.
pub async fn get(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: MembershipId,
    lock: bool,
) -> Result<MemberRow, StoreError> {
    let sql = if lock {
        // Lock the membership row only (not the joined user).
        format!(
            "{MEMBER_SELECT} WHERE m.client_id = $1 AND m.id = $2 AND m.deleted_at IS NULL FOR UPDATE OF m"
        )
    } else {
        format!("{MEMBER_SELECT} WHERE m.client_id = $1 AND m.id = $2 AND m.deleted_at IS NULL")
    };
    sqlx::query_as::<_, MemberRow>(sqlx::AssertSqlSafe(sql))
        .bind(client_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Locks the client's accepted owner memberships and returns how many there are; call it
/// before demoting or removing an owner so two such changes cannot both pass the check.
pub async fn lock_owners(conn: &mut PgConnection, client_id: ClientId) -> Result<i64, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM memberships
          WHERE client_id = $1 AND role = 'owner' AND accepted_at IS NOT NULL AND deleted_at IS NULL
          ORDER BY id FOR UPDATE",
    )
    .bind(client_id)
    .fetch_all(conn)
    .await?;
    Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
}

/// True when a user with this email (case-insensitive) is already a live member of the client.
pub async fn email_is_member(
    conn: &mut PgConnection,
    client_id: ClientId,
    email: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.client_id = $1 AND m.deleted_at IS NULL AND lower(u.email) = lower($2))",
    )
    .bind(client_id)
    .bind(email)
    .fetch_one(conn)
    .await?)
}

/// Creates a pending invite; a live invite of the same email conflicts on
/// `memberships_invite_client_idx`.
pub async fn invite(
    conn: &mut PgConnection,
    client_id: ClientId,
    email: &str,
    role: &str,
    invited_by: UserId,
) -> Result<MemberRow, StoreError> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO memberships (id, client_id, role, invited_email, invited_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(role)
    .bind(email)
    .bind(invited_by)
    .fetch_one(&mut *conn)
    .await?;
    get(conn, client_id, MembershipId::from_uuid(id), false).await
}

/// Sets the role of a live membership.
pub async fn set_role(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: MembershipId,
    role: &str,
) -> Result<MemberRow, StoreError> {
    let done = sqlx::query(
        "UPDATE memberships SET role = $3, updated_at = now() WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(id)
    .bind(role)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    get(conn, client_id, id, false).await
}

/// Soft-deletes a live membership.
pub async fn remove(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: MembershipId,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE memberships SET deleted_at = now(), updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(id)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A pending invite by id (any client), locked for acceptance.
pub async fn pending_invite(
    conn: &mut PgConnection,
    id: MembershipId,
) -> Result<MemberRow, StoreError> {
    sqlx::query_as::<_, MemberRow>(sqlx::AssertSqlSafe(format!(
        "{MEMBER_SELECT} WHERE m.id = $1 AND m.deleted_at IS NULL AND m.user_id IS NULL FOR UPDATE OF m"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Accepts a pending invite for `user_id`; a user already in the client conflicts on
/// `memberships_user_client_idx`.
pub async fn accept(
    conn: &mut PgConnection,
    id: MembershipId,
    user_id: UserId,
) -> Result<UserMembership, StoreError> {
    sqlx::query_as::<_, UserMembership>(
        "WITH m AS (
            UPDATE memberships SET user_id = $2, accepted_at = now(), updated_at = now()
             WHERE id = $1 AND deleted_at IS NULL AND user_id IS NULL
            RETURNING id, client_id, role, accepted_at)
         SELECT m.id, m.client_id, c.name AS client_name, m.role, m.accepted_at
           FROM m JOIN clients c ON c.id = m.client_id",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Adds an accepted membership directly (seeding and tests).
pub async fn add_accepted(
    conn: &mut PgConnection,
    client_id: ClientId,
    user_id: UserId,
    role: &str,
) -> Result<Uuid, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO memberships (id, client_id, user_id, role, accepted_at) VALUES ($1, $2, $3, $4, now()) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(user_id)
    .bind(role)
    .fetch_one(conn)
    .await?)
}
