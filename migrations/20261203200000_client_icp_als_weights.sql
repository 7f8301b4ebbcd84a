-- The lead-scoring weights the website analysis suggested, as the agency confirmed them
-- (with its adjustments) or as the last re-analysis found them: the five ALS weights,
-- summing to 1. Kept apart from `als_weights`, which SPEC 3.1 reserves for weights learned
-- from conversions: scoring reads only those (confidence > 0.7 on at least 50 conversions)
-- and otherwise the defaults. `clients` already has row level security.
ALTER TABLE clients ADD COLUMN icp_als_weights jsonb;
