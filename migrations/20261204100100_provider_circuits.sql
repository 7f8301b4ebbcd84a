-- Provider circuit breaker states, published by the worker when a breaker changes state and
-- shown in the admin console's system status (docs/admin.md). One row per provider: the latest
-- change any worker process saw (a change older than the stored one is ignored).
CREATE TABLE provider_circuits (
    provider   text PRIMARY KEY CHECK (length(btrim(provider)) > 0),
    state      text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    since      timestamptz NOT NULL,
    retry_at   timestamptz,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE provider_circuits ENABLE ROW LEVEL SECURITY;
