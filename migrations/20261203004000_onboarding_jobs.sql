-- Website analyses (onboarding and ICP re-analysis): one row per analysis with its step
-- progress, its error message for people, and the extracted profile. The `analyze_website`
-- job (apalis.jobs) drives a row from pending to completed or failed.
CREATE TABLE onboarding_jobs (
    id               uuid PRIMARY KEY,
    client_id        uuid NOT NULL REFERENCES clients (id),
    requested_by     uuid REFERENCES users (id),
    purpose          text NOT NULL DEFAULT 'onboarding'
                     CHECK (purpose IN ('onboarding', 'reanalysis')),
    website_url      text NOT NULL CHECK (length(website_url) BETWEEN 1 AND 2048),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    current_step     text CHECK (current_step IN ('fetching_website', 'extracting_services',
                         'analyzing_portfolio', 'extracting_value_proposition',
                         'identifying_industries', 'identifying_titles',
                         'identifying_pain_points', 'calculating_als_weights')),
    completed_steps  integer NOT NULL DEFAULT 0 CHECK (completed_steps BETWEEN 0 AND 8),
    error_message    text,
    result           jsonb,
    pages_read       integer NOT NULL DEFAULT 0 CHECK (pages_read >= 0),
    started_at       timestamptz,
    completed_at     timestamptz,
    confirmed_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT onboarding_jobs_result_when_completed
        CHECK (status <> 'completed' OR result IS NOT NULL),
    CONSTRAINT onboarding_jobs_error_when_failed
        CHECK (status <> 'failed' OR error_message IS NOT NULL)
);

CREATE INDEX onboarding_jobs_client_created_idx ON onboarding_jobs (client_id, created_at DESC);

ALTER TABLE onboarding_jobs ENABLE ROW LEVEL SECURITY;
