-- The table of the test-only `probe` job kind (feature `test-kinds` of agency-engine), applied
-- by test helpers through `jobs::test_kinds::create_probe_table` (`job_probe_hits::create`),
-- never by `migrations/`.
CREATE TABLE IF NOT EXISTS job_probe_hits (
    name        text PRIMARY KEY,
    hits        integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
