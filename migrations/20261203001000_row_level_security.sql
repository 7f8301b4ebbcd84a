-- Row-level security for the database the dashboard reads directly (issue 15, docs/security.md).
-- In production the database is Supabase's, whose REST layer exposes the `public` schema to the
-- roles `anon` and `authenticated`. Those roles get nothing except what API_CONTRACT.md ("The
-- database the dashboard reads directly") lists, and only the calling user's rows of it:
--   users        their own row, read-only;
--   memberships  their own accepted, live memberships, read-only;
--   clients      the live clients they hold such a membership in, read-only;
--   get_onboarding_status()  (no argument, for auth.uid()); the one-argument form is closed.
-- Our services connect as the table owner, which RLS does not restrict (no FORCE).
-- Every table in `public` has RLS enabled; a later migration that adds a table must enable it
-- too (crates/store/tests/row_level_security.rs fails otherwise; docs/decisions.md ADR-006).
--
-- The same file runs on plain PostgreSQL (tests, `agencyctl dev`) and on Supabase: the roles,
-- the `auth` schema and `auth.uid()` are created only where they do not exist. Roles are
-- cluster-wide and several test databases migrate at once, so a concurrent creation of the same
-- role (duplicate_object, or unique_violation on pg_authid) counts as success.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a concurrent migration of another database
            END;
        END IF;
    END LOOP;
END
$$;

-- `auth.uid()` as Supabase defines it: the `sub` claim of the request's JWT, or NULL.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth') THEN
        CREATE SCHEMA auth;
        GRANT USAGE ON SCHEMA auth TO anon, authenticated;
    END IF;
    IF to_regprocedure('auth.uid()') IS NULL THEN
        CREATE FUNCTION auth.uid() RETURNS uuid
        LANGUAGE sql STABLE
        SET search_path = pg_catalog
        AS $fn$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim.sub', true), ''),
                nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
            )::uuid
        $fn$;
        GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated;
    END IF;
END
$$;

-- Row-level security on every table in public (a table with RLS and no policy shows nothing).
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- Nothing for the dashboard roles but what is granted below; the same for objects created
-- later by the migrating role (Supabase's default privileges grant everything in public).
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM anon, authenticated;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM anon, authenticated;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM anon, authenticated;
REVOKE CREATE ON SCHEMA public FROM PUBLIC, anon, authenticated;
GRANT USAGE ON SCHEMA public TO anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM anon, authenticated;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'apalis') THEN
        REVOKE ALL ON SCHEMA apalis FROM PUBLIC, anon, authenticated;
        REVOKE ALL ON ALL TABLES IN SCHEMA apalis FROM PUBLIC, anon, authenticated;
    END IF;
END
$$;

-- The signed-in user's own row.
GRANT SELECT ON users TO authenticated;
CREATE POLICY users_select_own ON users
    FOR SELECT TO authenticated
    USING (id = auth.uid());

-- The signed-in user's own accepted, live memberships.
GRANT SELECT ON memberships TO authenticated;
CREATE POLICY memberships_select_own ON memberships
    FOR SELECT TO authenticated
    USING (user_id = auth.uid() AND accepted_at IS NOT NULL AND deleted_at IS NULL);

-- The live clients the signed-in user is an accepted member of. The subquery reads memberships
-- under the policy above, which never refers back to clients (no recursion).
GRANT SELECT ON clients TO authenticated;
CREATE POLICY clients_select_member ON clients
    FOR SELECT TO authenticated
    USING (
        deleted_at IS NULL
        AND id IN (SELECT m.client_id
                     FROM memberships m
                    WHERE m.user_id = auth.uid()
                      AND m.accepted_at IS NOT NULL
                      AND m.deleted_at IS NULL)
    );

-- The one-argument form answers for any user id: our services only.
REVOKE EXECUTE ON FUNCTION get_onboarding_status(uuid) FROM PUBLIC, anon, authenticated;

-- The dashboard's form: the calling user's onboarding rows. SECURITY INVOKER on purpose: it
-- runs with the caller's rights, so the policies above bound what it can return even if its
-- body were wrong, and it grants nothing a direct SELECT would not. Fixed search_path anyway.
CREATE FUNCTION get_onboarding_status()
RETURNS TABLE (needs_onboarding boolean, client_id uuid, client_name text,
               icp_confirmed_at timestamptz, website_url text)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
    SELECT c.icp_confirmed_at IS NULL, c.id, c.name, c.icp_confirmed_at, c.website_url
      FROM public.memberships m
      JOIN public.clients c ON c.id = m.client_id AND c.deleted_at IS NULL
     WHERE m.user_id = auth.uid()
       AND m.accepted_at IS NOT NULL
       AND m.deleted_at IS NULL
     ORDER BY m.created_at
$$;
REVOKE EXECUTE ON FUNCTION get_onboarding_status() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION get_onboarding_status() TO authenticated;
