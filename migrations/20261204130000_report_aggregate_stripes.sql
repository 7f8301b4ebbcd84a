-- Striped report counters (docs/decisions.md, ADR-008). The per-day counters of
-- 20261204100000 were single rows per (client, scope, day, channel, action): every concurrent
-- send of a client updated the same `sent` row and held its lock until commit, so one client's
-- sends ran one at a time (send throughput fell from about 400/s to 225/s). Each counter row now
-- has a `stripe`, chosen by the writing connection (its backend pid modulo 8), so concurrent
-- writers on different connections add to different rows; readers already sum. The daily
-- metrics job folds the stripes of past days back into stripe 0 (`report_aggregates_fold`), so
-- the rows a report reads stay about as many as before. `report_lead_stages` is per lead and
-- is not striped.

ALTER TABLE report_activity_days ADD COLUMN stripe smallint NOT NULL DEFAULT 0;
ALTER TABLE report_activity_days DROP CONSTRAINT report_activity_days_pkey,
    ADD PRIMARY KEY (client_id, scope, day, channel, action, stripe);
ALTER TABLE report_stage_firsts ADD COLUMN stripe smallint NOT NULL DEFAULT 0;
ALTER TABLE report_stage_firsts DROP CONSTRAINT report_stage_firsts_pkey,
    ADD PRIMARY KEY (client_id, day, scope, stage, prev_day, stripe);

-- The stripe of this connection's counter writes.
CREATE FUNCTION report_stripe() RETURNS smallint
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (pg_backend_pid() % 8)::smallint
$$;

-- Moves the striped counts of local days before `p_before` into stripe 0 (a count that sums
-- to zero is dropped); answers the striped rows removed. Safe beside the trigger's writers: a
-- row being folded is locked by the DELETE, and a writer's upsert on it then inserts afresh.
CREATE FUNCTION report_aggregates_fold(p_before date) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    v_days bigint;
    v_firsts bigint;
BEGIN
    WITH moved AS (
        DELETE FROM report_activity_days WHERE stripe <> 0 AND day < p_before RETURNING *
    ), summed AS (
        SELECT client_id, day, scope, channel, action, sum(activities) AS activities
          FROM moved GROUP BY client_id, scope, day, channel, action
    ), saved AS (
        INSERT INTO report_activity_days (client_id, day, scope, channel, action, stripe, activities)
        SELECT client_id, day, scope, channel, action, 0, activities
          FROM summed WHERE activities <> 0
         ORDER BY client_id, scope, day, channel, action
            ON CONFLICT (client_id, scope, day, channel, action, stripe)
            DO UPDATE SET activities = report_activity_days.activities + excluded.activities
    )
    SELECT count(*) INTO v_days FROM moved;

    WITH moved AS (
        DELETE FROM report_stage_firsts WHERE stripe <> 0 AND day < p_before RETURNING *
    ), summed AS (
        SELECT client_id, day, scope, stage, prev_day, sum(leads) AS leads
          FROM moved GROUP BY client_id, day, scope, stage, prev_day
    ), saved AS (
        INSERT INTO report_stage_firsts (client_id, day, scope, stage, prev_day, stripe, leads)
        SELECT client_id, day, scope, stage, prev_day, 0, leads
          FROM summed WHERE leads <> 0
         ORDER BY client_id, day, scope, stage, prev_day
            ON CONFLICT (client_id, day, scope, stage, prev_day, stripe)
            DO UPDATE SET leads = report_stage_firsts.leads + excluded.leads
    )
    SELECT count(*) INTO v_firsts FROM moved;
    RETURN v_days + v_firsts;
END;
$$;

-- Adds one local day to one lead's stage in one scope: the path of small statements (a send,
-- a webhook event), with plain cached statements; the lead-stage row lock serialises writers of
-- the same lead and stage.
CREATE OR REPLACE FUNCTION report_lead_stage_add(p_client uuid, p_scope uuid, p_stage text, p_lead uuid, p_day date)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_days date[];
    v_prev date;
    v_next date;
    v_stripe smallint := report_stripe();
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
    INSERT INTO report_stage_firsts AS f (client_id, day, scope, stage, prev_day, stripe, leads)
    VALUES (p_client, p_day, p_scope, p_stage, v_prev, v_stripe, 1)
        ON CONFLICT (client_id, day, scope, stage, prev_day, stripe) DO UPDATE SET leads = f.leads + 1;
    IF v_next IS NOT NULL THEN
        -- The next day's previous day was v_prev and is now p_day (rows in key order).
        INSERT INTO report_stage_firsts AS f (client_id, day, scope, stage, prev_day, stripe, leads)
        VALUES (p_client, v_next, p_scope, p_stage, v_prev, v_stripe, -1),
               (p_client, v_next, p_scope, p_stage, p_day, v_stripe, 1)
            ON CONFLICT (client_id, day, scope, stage, prev_day, stripe)
            DO UPDATE SET leads = f.leads + excluded.leads;
    END IF;
END;
$$;

-- Adds a statement's new activities to the aggregates. Rows are written in key order so that
-- concurrent statements take their row locks in the same order.
CREATE OR REPLACE FUNCTION report_aggregates_add() RETURNS trigger
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
    INSERT INTO report_activity_days (client_id, day, scope, channel, action, stripe, activities)
    SELECT client_id, day, scope, channel, action, report_stripe(), count(*)
      FROM scoped GROUP BY client_id, scope, day, channel, action
     ORDER BY client_id, scope, day, channel, action
        ON CONFLICT (client_id, scope, day, channel, action, stripe)
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
    INSERT INTO report_stage_firsts (client_id, day, scope, stage, prev_day, stripe, leads)
    SELECT client_id, day, scope, stage, prev_day, report_stripe(), sum(n)
      FROM moves GROUP BY client_id, day, scope, stage, prev_day
    HAVING sum(n) <> 0
     ORDER BY client_id, day, scope, stage, prev_day
        ON CONFLICT (client_id, day, scope, stage, prev_day, stripe)
        DO UPDATE SET leads = report_stage_firsts.leads + excluded.leads;
    RETURN NULL;
END;
$$;

