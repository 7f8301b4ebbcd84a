-- The platform-admin console: alerts raised by the system (deduplicated while open) and a
-- daily snapshot of every client's plan and billing state (written by the daily metrics job,
-- read for MRR growth and churn).

CREATE TABLE alerts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id       uuid REFERENCES clients (id),
    kind            text NOT NULL CHECK (length(btrim(kind)) > 0),
    dedupe_key      text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    title           text NOT NULL,
    description     text NOT NULL,
    metadata        jsonb NOT NULL DEFAULT '{}',
    occurrences     integer NOT NULL DEFAULT 1,
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- One open alert per condition: raising it again bumps the open one.
CREATE UNIQUE INDEX alerts_open_dedupe_idx ON alerts (dedupe_key) WHERE acknowledged_at IS NULL;
CREATE INDEX alerts_created_idx ON alerts (created_at DESC);
CREATE INDEX alerts_client_idx ON alerts (client_id, created_at DESC) WHERE client_id IS NOT NULL;
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;

CREATE TABLE client_daily_metrics (
    client_id           uuid NOT NULL REFERENCES clients (id),
    day                 date NOT NULL,
    tier                text NOT NULL CHECK (tier IN ('ignition', 'velocity', 'dominance')),
    subscription_status text NOT NULL
                        CHECK (subscription_status IN ('trialing', 'active', 'past_due', 'cancelled', 'paused')),
    leads               integer NOT NULL,
    active_campaigns    integer NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, day)
);
CREATE INDEX client_daily_metrics_day_idx ON client_daily_metrics (day);
ALTER TABLE client_daily_metrics ENABLE ROW LEVEL SECURITY;

-- Admin lists: recent activity across clients, clients by name.
CREATE INDEX activities_created_idx ON activities (created_at DESC);
