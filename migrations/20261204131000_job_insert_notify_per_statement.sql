-- One wake-up per statement instead of one per job (docs/decisions.md, ADR-009).
-- apalis-postgres's `notify_workers` trigger sends a `pg_notify` FOR EACH ROW, with the job's
-- id in the payload, so a batch of 256 jobs queued 256 distinct notifications, and PostgreSQL
-- writes every notification into its queue under one database-wide lock at commit, held until
-- the commit's WAL flush: batched enqueues (the webhook inbox, bulk imports) serialised their
-- commits on it. Our worker only needs to know that something became due (it LISTENs on the
-- same channel and wakes its idle tasks whatever the payload), so the trigger now sends one
-- notification per job type per statement (identical ones in a transaction fold into one).
-- apalis reads nothing else from it: we run our own claim loop, not apalis's listener.
-- A database migrated with our migrations alone (some store tests) has no job tables: skip.
DO $do$
BEGIN
    IF to_regclass('apalis.jobs') IS NULL THEN
        RETURN;
    END IF;
    DROP TRIGGER IF EXISTS notify_workers ON apalis.jobs;

    CREATE FUNCTION apalis.notify_new_jobs_per_statement() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
    BEGIN
        PERFORM pg_notify('apalis::job::insert', json_build_object('job_type', t.job_type)::text)
           FROM (SELECT DISTINCT job_type FROM new_jobs WHERE run_at <= now()) t;
        RETURN NULL;
    END;
    $fn$;

    CREATE TRIGGER notify_workers AFTER INSERT ON apalis.jobs
        REFERENCING NEW TABLE AS new_jobs
        FOR EACH STATEMENT EXECUTE FUNCTION apalis.notify_new_jobs_per_statement();
END;
$do$;
