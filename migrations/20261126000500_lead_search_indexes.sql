-- Indexes for the campaign and lead API: campaign counters (activities by campaign and lead),
-- the leads list sorted by ALS score, and substring search over email, names and company
-- (trigram GIN index over one expression, used by `ILIKE '%...%'`).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX activities_campaign_lead_idx ON activities (campaign_id, lead_id, action)
    WHERE campaign_id IS NOT NULL;

CREATE INDEX leads_client_score_idx ON leads (client_id, als_score DESC NULLS LAST, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

CREATE INDEX leads_search_trgm_idx ON leads USING gin (
    (email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(company, ''))
    gin_trgm_ops
) WHERE deleted_at IS NULL;
