-- A lean hot job table (docs/decisions.md, ADR-010). Every claim and every completion writes a
-- new version of the job's row; none can be a HOT update (status is in an index predicate), so
-- each version adds an entry to every index whose predicate it satisfies, and the entries of
-- the versions it replaced stay until vacuum. apalis-postgres's history leaves six indexes:
-- - `unique_job_id` duplicates the primary key, and `lidx` duplicates `idx_apalis_jobs_lock_by`.
-- - `idx_apalis_jobs_lock_by` has one key per worker, so every job a worker ever claimed sits
--   under its key: a lookup by worker (a heartbeat, or a completion whose plan chose it) walked
--   all of them and took 300-900 ms near the end of a 100,000-job run. Our worker finds its
--   jobs by id instead (it knows what it holds), so the index goes with its duplicate.
-- - `idx_jobs_idempotency_key` indexed every job although almost none has a key: it becomes
--   partial, with the same name and the same uniqueness, so a duplicate key is still refused by
--   the index our enqueue recognises by name.
-- - `fk_worker_lock_by` checked, on every claimed row, that its worker is registered, taking a
--   share lock on that worker's row each time: about a third of the claim's cost. Our worker
--   registers itself before it claims, and recovery goes by the lease (`lock_at`), not by the
--   worker row, so nothing relies on it; it goes.
-- Dead letters get a small partial index of their own (only dead rows enter it): the dead-letter
-- count the worker samples and the admin list no longer read the whole table.
-- A database migrated with our migrations alone (some store tests) has no job tables: skip.
DO $do$
BEGIN
    IF to_regclass('apalis.jobs') IS NULL THEN
        RETURN;
    END IF;
    ALTER TABLE apalis.jobs DROP CONSTRAINT IF EXISTS fk_worker_lock_by;
    DROP INDEX IF EXISTS apalis.unique_job_id;
    DROP INDEX IF EXISTS apalis.lidx;
    DROP INDEX IF EXISTS apalis.idx_apalis_jobs_lock_by;
    DROP INDEX IF EXISTS apalis.idx_jobs_idempotency_key;
    CREATE UNIQUE INDEX idx_jobs_idempotency_key ON apalis.jobs (job_type, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX idx_jobs_dead ON apalis.jobs (done_at DESC)
        WHERE status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts);
END
$do$;
