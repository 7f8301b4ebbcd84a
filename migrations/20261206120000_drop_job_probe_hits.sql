-- `job_probe_hits` belongs to the test-only `probe` job kind (feature `test-kinds` of
-- agency-engine), which production builds no longer have: test helpers create the table
-- (crates/engine/src/jobs/test_kinds.sql), production schemas drop it.
DROP TABLE IF EXISTS job_probe_hits;
