-- Issue 15: enrichment spent credits twice when two jobs for the same lead ran at once.
-- A job claims the lead (compare-and-set on these columns, in the transaction that spends the
-- credit) before asking the cache or a provider; storing the result (or refunding) releases
-- it. A claim older than the enrichment job's time budget is stale and may be taken over.
ALTER TABLE leads
    ADD COLUMN enrichment_claimed_by text,
    ADD COLUMN enrichment_claimed_at timestamptz;
