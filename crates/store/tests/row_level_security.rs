//! Row-level security for the database the dashboard reads directly (Supabase exposes `public`
//! to the roles `anon` and `authenticated`). Tests connect as the superuser `postgres`, which
//! bypasses RLS, so each probe runs in a transaction under `SET LOCAL ROLE` with the JWT claims
//! PostgREST would set, then rolls back. Also guards later migrations: every table in `public`
//! must have RLS, and the dashboard roles may hold nothing beyond what the contract lists.

use agency_store::migrate;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Runs `sql` as `role` with the claims of `sub` (none for `anon`), then rolls back.
async fn run_as(
    pool: &PgPool,
    role: &str,
    sub: Option<Uuid>,
    sql: &str,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let claims = match sub {
        Some(id) => serde_json::json!({"sub": id, "role": role}),
        None => serde_json::json!({"role": role}),
    };
    sqlx::query("SELECT set_config('request.jwt.claims', $1, true)")
        .bind(claims.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE {role}")))
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut *tx)
        .await;
    tx.rollback().await?;
    rows
}

/// The uuid column `col` of every row.
fn ids(rows: &[PgRow], col: &str) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = rows.iter().map(|r| r.get(col)).collect();
    out.sort();
    out
}

/// True when the error is PostgreSQL's "insufficient privilege" (42501).
fn is_denied(result: &Result<Vec<PgRow>, sqlx::Error>) -> bool {
    matches!(result, Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501"))
}

struct World {
    user_a: Uuid,
    user_b: Uuid,
    client_a: Uuid,
    client_b: Uuid,
    client_gone: Uuid,
}

async fn exec(pool: &PgPool, sql: &str, binds: &[Uuid]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(pool).await.unwrap();
}

/// Two users, each owning a client; A also has a pending invite to B's client, a revoked
/// membership of a third client and an accepted membership of a deleted client; both clients
/// hold a lead, an activity and an audit row.
async fn world(pool: &PgPool) -> World {
    migrate::run(pool).await.unwrap();
    let [user_a, user_b, client_a, client_b, client_c, client_gone] =
        std::array::from_fn(|_| Uuid::now_v7());
    exec(
        pool,
        "INSERT INTO users (id, email) VALUES ($1, 'a@a-corp.com'), ($2, 'b@b-corp.com')",
        &[user_a, user_b],
    )
    .await;
    exec(
        pool,
        "INSERT INTO clients (id, name) VALUES ($1, 'A Corp'), ($2, 'B Corp'), ($3, 'C Corp')",
        &[client_a, client_b, client_c],
    )
    .await;
    exec(
        pool,
        "INSERT INTO clients (id, name, deleted_at) VALUES ($1, 'Gone', now())",
        &[client_gone],
    )
    .await;
    exec(
        pool,
        "INSERT INTO memberships (client_id, user_id, role, accepted_at, deleted_at) VALUES
           ($1, $3, 'owner', now(), NULL),
           ($2, $4, 'owner', now(), NULL),
           ($2, $3, 'member', NULL, NULL),
           ($5, $3, 'admin', now(), now()),
           ($6, $3, 'owner', now(), NULL)",
        &[client_a, client_b, user_a, user_b, client_c, client_gone],
    )
    .await;
    for client in [client_a, client_b] {
        exec(
            pool,
            "INSERT INTO leads (client_id, email) VALUES ($1, 'jo@example.com')",
            &[client],
        )
        .await;
        exec(
            pool,
            "INSERT INTO activities (client_id, channel, action) VALUES ($1, 'email', 'sent')",
            &[client],
        )
        .await;
        exec(
            pool,
            "INSERT INTO audit_log (client_id, action, entity_type) VALUES ($1, 'test', 'lead')",
            &[client],
        )
        .await;
    }
    World {
        user_a,
        user_b,
        client_a,
        client_b,
        client_gone,
    }
}

#[sqlx::test(migrations = false)]
async fn a_user_reads_only_their_own_rows(pool: PgPool) {
    let w = world(&pool).await;
    let a = Some(w.user_a);
    let auth = "authenticated";

    let memberships = run_as(&pool, auth, a, "SELECT client_id, user_id FROM memberships")
        .await
        .unwrap();
    let mut expected = vec![w.client_a, w.client_gone];
    expected.sort();
    assert_eq!(
        ids(&memberships, "client_id"),
        expected,
        "only A's accepted live memberships (not the invite, the revoked one or B's)"
    );
    assert_eq!(ids(&memberships, "user_id"), vec![w.user_a, w.user_a]);

    let clients = run_as(&pool, auth, a, "SELECT * FROM clients")
        .await
        .unwrap();
    assert_eq!(
        ids(&clients, "id"),
        vec![w.client_a],
        "only A's live clients (not the deleted one A is still a member of)"
    );

    let users = run_as(&pool, auth, a, "SELECT id, is_platform_admin FROM users")
        .await
        .unwrap();
    assert_eq!(ids(&users, "id"), vec![w.user_a]);

    let b = run_as(&pool, auth, Some(w.user_b), "SELECT id FROM clients")
        .await
        .unwrap();
    assert_eq!(ids(&b, "id"), vec![w.client_b]);

    let nobody = run_as(&pool, auth, None, "SELECT id FROM clients")
        .await
        .unwrap();
    assert!(nobody.is_empty(), "no sub claim, no rows");
}

#[sqlx::test(migrations = false)]
async fn a_user_cannot_write_or_read_tenant_data(pool: PgPool) {
    let w = world(&pool).await;
    let a = Some(w.user_a);
    let auth = "authenticated";
    let probes = [
        format!(
            "UPDATE users SET is_platform_admin = true WHERE id = '{}'",
            w.user_a
        ),
        format!(
            "INSERT INTO memberships (client_id, user_id, role, accepted_at) \
             VALUES ('{}', '{}', 'owner', now())",
            w.client_b, w.user_a
        ),
        format!(
            "UPDATE memberships SET role = 'owner' WHERE user_id = '{}'",
            w.user_a
        ),
        "DELETE FROM memberships".to_owned(),
        "UPDATE clients SET credits_remaining = 999999, tier = 'dominance'".to_owned(),
        "INSERT INTO clients (name) VALUES ('Mine')".to_owned(),
        "SELECT * FROM leads".to_owned(),
        "SELECT * FROM activities".to_owned(),
        "SELECT * FROM audit_log".to_owned(),
        "SELECT * FROM campaigns".to_owned(),
        "SELECT * FROM webhook_events".to_owned(),
        "SELECT * FROM cache_entries".to_owned(),
        "SELECT * FROM apalis.jobs".to_owned(),
    ];
    for sql in &probes {
        let result = run_as(&pool, auth, a, sql).await;
        assert!(is_denied(&result), "{sql}: {:?}", result.map(|r| r.len()));
    }
    let admin: bool = sqlx::query_scalar("SELECT is_platform_admin FROM users WHERE id = $1")
        .bind(w.user_a)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!admin);
    let owners_of_b: i64 =
        sqlx::query_scalar("SELECT count(*) FROM memberships WHERE client_id = $1")
            .bind(w.client_b)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(owners_of_b, 2, "B's owner and A's pending invite only");
}

#[sqlx::test(migrations = false)]
async fn anon_sees_nothing(pool: PgPool) {
    let w = world(&pool).await;
    for sql in [
        "SELECT * FROM users",
        "SELECT * FROM memberships",
        "SELECT * FROM clients",
        "SELECT * FROM leads",
        "SELECT * FROM get_onboarding_status()",
    ] {
        let result = run_as(&pool, "anon", None, sql).await;
        assert!(is_denied(&result), "{sql}");
    }
    // Even with a forged-looking sub claim the anon role holds no grants.
    let result = run_as(&pool, "anon", Some(w.user_a), "SELECT * FROM clients").await;
    assert!(is_denied(&result));
}

#[sqlx::test(migrations = false)]
async fn onboarding_status_answers_for_the_caller_only(pool: PgPool) {
    let w = world(&pool).await;
    let auth = "authenticated";
    let rows = run_as(
        &pool,
        auth,
        Some(w.user_a),
        "SELECT * FROM get_onboarding_status()",
    )
    .await
    .unwrap();
    assert_eq!(ids(&rows, "client_id"), vec![w.client_a]);
    let row = &rows[0];
    assert!(row.get::<bool, _>("needs_onboarding"));
    assert_eq!(row.get::<String, _>("client_name"), "A Corp");

    let rows = run_as(
        &pool,
        auth,
        Some(w.user_b),
        "SELECT * FROM get_onboarding_status()",
    )
    .await
    .unwrap();
    assert_eq!(ids(&rows, "client_id"), vec![w.client_b]);

    for role in ["authenticated", "anon"] {
        let result = run_as(
            &pool,
            role,
            Some(w.user_a),
            &format!("SELECT * FROM get_onboarding_status('{}')", w.user_b),
        )
        .await;
        assert!(
            is_denied(&result),
            "{role} must not run the 1-argument form"
        );
    }
    // Our services (the owner) still use the one-argument form.
    let owner: Vec<Uuid> = sqlx::query_scalar("SELECT client_id FROM get_onboarding_status($1)")
        .bind(w.user_b)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(owner, vec![w.client_b]);
}

/// Guards every later migration: a new table without RLS, or a grant to the dashboard roles
/// beyond the contract, fails here.
#[sqlx::test(migrations = false)]
async fn every_public_table_has_rls_and_the_dashboard_roles_hold_only_the_contract(pool: PgPool) {
    migrate::run(&pool).await.unwrap();
    let without_rls: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
            AND NOT c.relrowsecurity
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        without_rls.is_empty(),
        "tables in public without row-level security (add \
         `ALTER TABLE ... ENABLE ROW LEVEL SECURITY` to your migration, ADR-006): {without_rls:?}"
    );

    let grants: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT r.rolname::text, c.relname::text, p.privilege
           FROM pg_class c
           CROSS JOIN pg_roles r
           CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                   'REFERENCES', 'TRIGGER']) AS p(privilege)
          WHERE c.relnamespace IN ('public'::regnamespace, 'apalis'::regnamespace)
            AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            AND r.rolname IN ('anon', 'authenticated')
            AND has_table_privilege(r.oid, c.oid, p.privilege)
          ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let expected: Vec<(String, String, String)> = ["clients", "memberships", "users"]
        .iter()
        .map(|t| ("authenticated".into(), (*t).into(), "SELECT".into()))
        .collect();
    assert_eq!(grants, expected);

    let definers: Vec<String> = sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p
          WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
            AND (has_function_privilege('anon', p.oid, 'EXECUTE')
                 OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        definers.is_empty(),
        "SECURITY DEFINER functions the dashboard roles can run: {definers:?}"
    );
}

/// On Supabase the roles, the `auth` schema and `auth.uid()` already exist: the migration keeps
/// them (it creates them only where they are missing).
#[sqlx::test(migrations = false)]
async fn an_existing_auth_uid_is_kept(pool: PgPool) {
    sqlx::query("CREATE SCHEMA auth")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
         $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("GRANT USAGE ON SCHEMA auth TO PUBLIC")
        .execute(&pool)
        .await
        .unwrap();
    migrate::run(&pool).await.unwrap();
    let body: String =
        sqlx::query_scalar("SELECT prosrc FROM pg_proc WHERE oid = 'auth.uid()'::regprocedure")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(body.contains("request.jwt.claim.sub") && !body.contains("request.jwt.claims"));
    let roles: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', 'authenticated') AND NOT rolcanlogin",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(roles, 2);
}
