-- Maintained report aggregates (docs/reports.md "Performance", docs/decisions.md): the reports
-- read these instead of scanning `activities` at request time. They are kept by a statement
-- trigger on `activities` in the same transaction as every insert (whoever the writer is);
-- activities are append-only and their redaction (erasure, retention) is an UPDATE, which does
-- not touch them. Days are local dates in the client's timezone (the reports' ranges are whole
-- local days of that timezone); changing a client's timezone rebuilds its rows.
--
-- * report_activity_days: activities per (client, local day, scope, channel, action).
-- * report_lead_stages: per (client, scope, lead stage, lead) the sorted local days on which the
--   lead had an activity of that stage (`contacted`, `replied`, `converted`).
-- * report_stage_firsts: per (client, local day, scope, stage, previous day) how many leads had
--   that stage on `day` with their previous such day `prev_day` ('-infinity': none). The
--   distinct leads of a stage in [F, T] are exactly those whose first day in the range has its
--   previous day before F: sum(leads) WHERE day BETWEEN F AND T AND prev_day < F.
--
-- `scope` is a campaign id, or the nil uuid for the whole client (every activity counts in the
-- client scope, and in its campaign's scope when it has one).

-- The lead-level stage of an action (mirrors agency_domain::FunnelStage: Sent, Replied,
-- Converted; a test compares the two).
CREATE FUNCTION report_lead_stage(action text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN action IN ('sent', 'call_initiated', 'connection_requested') THEN 'contacted'
        WHEN action = 'replied' THEN 'replied'
        WHEN action IN ('meeting_booked', 'converted') THEN 'converted'
    END
$$;

CREATE TABLE report_activity_days (
    client_id  uuid NOT NULL,
    day        date NOT NULL,
    scope      uuid NOT NULL,
    channel    text NOT NULL,
    action     text NOT NULL,
    activities bigint NOT NULL,
    PRIMARY KEY (client_id, scope, day, channel, action)
);
ALTER TABLE report_activity_days ENABLE ROW LEVEL SECURITY;

CREATE TABLE report_lead_stages (
    client_id uuid NOT NULL,
    scope     uuid NOT NULL,
    stage     text NOT NULL CHECK (stage IN ('contacted', 'replied', 'converted')),
    lead_id   uuid NOT NULL,
    days      date[] NOT NULL,
    PRIMARY KEY (client_id, scope, stage, lead_id)
);
ALTER TABLE report_lead_stages ENABLE ROW LEVEL SECURITY;

CREATE TABLE report_stage_firsts (
    client_id uuid NOT NULL,
    day       date NOT NULL,
    scope     uuid NOT NULL,
    stage     text NOT NULL,
    prev_day  date NOT NULL,
    leads     bigint NOT NULL,
    PRIMARY KEY (client_id, day, scope, stage, prev_day)
);
ALTER TABLE report_stage_firsts ENABLE ROW LEVEL SECURITY;

-- Recomputes one client's aggregates from its activities (the backfill below, and a timezone
-- change). Excludes the trigger's writers for that client until the transaction ends.
CREATE FUNCTION report_aggregates_rebuild(p_client uuid) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(20261204, hashtext(p_client::text));
    DELETE FROM report_activity_days WHERE client_id = p_client;
    DELETE FROM report_lead_stages WHERE client_id = p_client;
    DELETE FROM report_stage_firsts WHERE client_id = p_client;

    WITH a AS (
        SELECT a.campaign_id, a.lead_id, a.channel, a.action,
               (a.created_at AT TIME ZONE c.timezone)::date AS day
          FROM activities a JOIN clients c ON c.id = a.client_id
         WHERE a.client_id = p_client
    ), scoped AS (
        SELECT '00000000-0000-0000-0000-000000000000'::uuid AS scope, * FROM a
        UNION ALL
        SELECT campaign_id, * FROM a WHERE campaign_id IS NOT NULL
    )
    INSERT INTO report_activity_days (client_id, day, scope, channel, action, activities)
    SELECT p_client, day, scope, channel, action, count(*)
      FROM scoped GROUP BY day, scope, channel, action;

    WITH a AS (
        SELECT a.campaign_id, a.lead_id, report_lead_stage(a.action) AS stage,
               (a.created_at AT TIME ZONE c.timezone)::date AS day
          FROM activities a JOIN clients c ON c.id = a.client_id
         WHERE a.client_id = p_client AND a.lead_id IS NOT NULL
           AND report_lead_stage(a.action) IS NOT NULL
    ), scoped AS (
        SELECT '00000000-0000-0000-0000-000000000000'::uuid AS scope, * FROM a
        UNION ALL
        SELECT campaign_id, * FROM a WHERE campaign_id IS NOT NULL
    )
    INSERT INTO report_lead_stages (client_id, scope, stage, lead_id, days)
    SELECT p_client, scope, stage, lead_id, array_agg(DISTINCT day ORDER BY day)
      FROM scoped GROUP BY scope, stage, lead_id;

    INSERT INTO report_stage_firsts (client_id, day, scope, stage, prev_day, leads)
    SELECT p_client, d.day, s.scope, s.stage, coalesce(s.days[d.i - 1], '-infinity'), count(*)
      FROM report_lead_stages s, unnest(s.days) WITH ORDINALITY AS d(day, i)
     WHERE s.client_id = p_client
     GROUP BY 2, 3, 4, 5;
END;
$$;

-- Adds one local day to one lead's stage in one scope: the path of small statements (a send,
-- a webhook event), with plain cached statements; the lead-stage row lock serialises writers of
-- the same lead and stage.
CREATE FUNCTION report_lead_stage_add(p_client uuid, p_scope uuid, p_stage text, p_lead uuid, p_day date)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_days date[];
    v_prev date;
    v_next date;
BEGIN
    INSERT INTO report_lead_stages (client_id, scope, stage, lead_id, days)
    VALUES (p_client, p_scope, p_stage, p_lead, ARRAY[p_day])
        ON CONFLICT DO NOTHING;
    IF FOUND THEN
        v_prev := '-infinity';
    ELSE
        SELECT days INTO v_days FROM report_lead_stages
         WHERE client_id = p_client AND scope = p_scope AND stage = p_stage AND lead_id = p_lead
           FOR UPDATE;
        IF p_day = ANY (v_days) THEN
            RETURN;
        END IF;
        SELECT coalesce(max(d) FILTER (WHERE d < p_day), '-infinity'), min(d) FILTER (WHERE d > p_day)
          INTO v_prev, v_next FROM unnest(v_days) AS d;
        UPDATE report_lead_stages
           SET days = ARRAY(SELECT d FROM unnest(v_days || p_day) AS d ORDER BY d)
         WHERE client_id = p_client AND scope = p_scope AND stage = p_stage AND lead_id = p_lead;
    END IF;
    INSERT INTO report_stage_firsts AS f (client_id, day, scope, stage, prev_day, leads)
    VALUES (p_client, p_day, p_scope, p_stage, v_prev, 1)
        ON CONFLICT (client_id, day, scope, stage, prev_day) DO UPDATE SET leads = f.leads + 1;
    IF v_next IS NOT NULL THEN
        -- The next day's previous day was v_prev and is now p_day (rows in key order).
        INSERT INTO report_stage_firsts AS f (client_id, day, scope, stage, prev_day, leads)
        VALUES (p_client, v_next, p_scope, p_stage, v_prev, -1), (p_client, v_next, p_scope, p_stage, p_day, 1)
            ON CONFLICT (client_id, day, scope, stage, prev_day) DO UPDATE SET leads = f.leads + excluded.leads;
    END IF;
END;
$$;

-- Adds a statement's new activities to the aggregates. Rows are written in key order so that
-- concurrent statements take their row locks in the same order.
CREATE FUNCTION report_aggregates_add() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    incoming report_lead_stages[];
    r record;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(20261204, hashtext(c.client_id::text))
       FROM (SELECT DISTINCT client_id FROM new_rows ORDER BY 1) c;

    WITH a AS (
        SELECT n.client_id, n.campaign_id, n.channel, n.action,
               (n.created_at AT TIME ZONE c.timezone)::date AS day
          FROM new_rows n JOIN clients c ON c.id = n.client_id
    ), scoped AS (
        SELECT '00000000-0000-0000-0000-000000000000'::uuid AS scope, * FROM a
        UNION ALL
        SELECT campaign_id, * FROM a WHERE campaign_id IS NOT NULL
    )
    INSERT INTO report_activity_days (client_id, day, scope, channel, action, activities)
    SELECT client_id, day, scope, channel, action, count(*)
      FROM scoped GROUP BY client_id, scope, day, channel, action
     ORDER BY client_id, scope, day, channel, action
        ON CONFLICT (client_id, scope, day, channel, action)
        DO UPDATE SET activities = report_activity_days.activities + excluded.activities;

    WITH a AS (
        SELECT n.client_id, n.campaign_id, n.lead_id, report_lead_stage(n.action) AS stage,
               (n.created_at AT TIME ZONE c.timezone)::date AS day
          FROM new_rows n JOIN clients c ON c.id = n.client_id
         WHERE n.lead_id IS NOT NULL AND report_lead_stage(n.action) IS NOT NULL
    ), scoped AS (
        SELECT '00000000-0000-0000-0000-000000000000'::uuid AS scope, * FROM a
        UNION ALL
        SELECT campaign_id, * FROM a WHERE campaign_id IS NOT NULL
    )
    , keyed AS (
        SELECT DISTINCT client_id, scope, stage, lead_id, day FROM scoped
    )
    SELECT array_agg(ROW(client_id, scope, stage, lead_id, ARRAY[day])::report_lead_stages
                     ORDER BY client_id, scope, stage, lead_id, day)
      INTO incoming FROM keyed;
    IF incoming IS NULL THEN
        RETURN NULL;
    END IF;
    -- Small statements take the per-key path (in key order); bulk ones the set-based path.
    IF cardinality(incoming) <= 8 THEN
        FOR r IN SELECT * FROM unnest(incoming) LOOP
            PERFORM report_lead_stage_add(r.client_id, r.scope, r.stage, r.lead_id, r.days[1]);
        END LOOP;
        RETURN NULL;
    END IF;
    SELECT array_agg(ROW(client_id, scope, stage, lead_id, days)::report_lead_stages
                     ORDER BY client_id, scope, stage, lead_id)
      INTO incoming
      FROM (SELECT client_id, scope, stage, lead_id, array_agg(days[1] ORDER BY days[1]) AS days
              FROM unnest(incoming) GROUP BY client_id, scope, stage, lead_id) g;

    -- Every key gets its row (a concurrent first insert of the same key waits here).
    INSERT INTO report_lead_stages (client_id, scope, stage, lead_id, days)
    SELECT client_id, scope, stage, lead_id, '{}' FROM unnest(incoming)
        ON CONFLICT DO NOTHING;

    -- Lock the keys' rows in order, merge the new days in, and move the firsts counters from
    -- the keys' old day sequences to the new ones.
    WITH inc AS (
        SELECT * FROM unnest(incoming)
    ), old AS (
        SELECT s.client_id, s.scope, s.stage, s.lead_id, s.days
          FROM report_lead_stages s
          JOIN inc i ON (i.client_id, i.scope, i.stage, i.lead_id)
                      = (s.client_id, s.scope, s.stage, s.lead_id)
         ORDER BY s.client_id, s.scope, s.stage, s.lead_id
           FOR UPDATE OF s
    ), merged AS (
        SELECT o.client_id, o.scope, o.stage, o.lead_id, o.days AS before,
               ARRAY(SELECT DISTINCT d FROM unnest(o.days || i.days) AS d ORDER BY d) AS after
          FROM old o
          JOIN inc i ON (i.client_id, i.scope, i.stage, i.lead_id)
                      = (o.client_id, o.scope, o.stage, o.lead_id)
    ), changed AS (
        SELECT * FROM merged WHERE after <> before
    ), saved AS (
        UPDATE report_lead_stages s SET days = c.after
          FROM changed c
         WHERE (s.client_id, s.scope, s.stage, s.lead_id) = (c.client_id, c.scope, c.stage, c.lead_id)
    ), moves AS (
        SELECT c.client_id, d.day, c.scope, c.stage,
               coalesce(c.after[d.i - 1], '-infinity') AS prev_day, 1 AS n
          FROM changed c, unnest(c.after) WITH ORDINALITY AS d(day, i)
        UNION ALL
        SELECT c.client_id, d.day, c.scope, c.stage,
               coalesce(c.before[d.i - 1], '-infinity'), -1
          FROM changed c, unnest(c.before) WITH ORDINALITY AS d(day, i)
    )
    INSERT INTO report_stage_firsts (client_id, day, scope, stage, prev_day, leads)
    SELECT client_id, day, scope, stage, prev_day, sum(n)
      FROM moves GROUP BY client_id, day, scope, stage, prev_day
    HAVING sum(n) <> 0
     ORDER BY client_id, day, scope, stage, prev_day
        ON CONFLICT (client_id, day, scope, stage, prev_day)
        DO UPDATE SET leads = report_stage_firsts.leads + excluded.leads;
    RETURN NULL;
END;
$$;

CREATE TRIGGER activities_report_aggregates AFTER INSERT ON activities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_aggregates_add();

CREATE FUNCTION clients_report_timezone() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM report_aggregates_rebuild(NEW.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER clients_report_timezone AFTER UPDATE OF timezone ON clients
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION clients_report_timezone();

-- Backfill.
SELECT report_aggregates_rebuild(id) FROM clients;
