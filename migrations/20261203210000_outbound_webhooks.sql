-- Outbound webhooks (SPEC 6, issue 12): each client's endpoints and the outbox of deliveries.
-- A delivery row is written in the same transaction as the change that causes its event and
-- is sent by the `deliver_webhook` job; every attempt is logged on the row (status, latency,
-- response excerpt). docs/webhooks-outbound.md describes the flow.

CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id                   uuid NOT NULL REFERENCES clients (id),
    url                         text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    events                      text[] NOT NULL CHECK (
        cardinality(events) > 0
        AND events <@ ARRAY['lead.replied', 'meeting.booked', 'meeting.cancelled',
                            'lead.unsubscribed', 'campaign.completed', 'call.completed']::text[]),
    -- The signing secret (`whsec_...`): needed in clear to sign, shown to the client once.
    secret                      text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    -- During a rotation's overlap the previous secret signs too, until it expires.
    previous_secret             text CHECK (previous_secret LIKE 'whsec\_%'),
    previous_secret_expires_at  timestamptz,
    status                      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason             text,
    disabled_at                 timestamptz,
    -- The first failed attempt since the last success (NULL while healthy).
    failing_since               timestamptz,
    last_success_at             timestamptz,
    created_by                  uuid REFERENCES users (id),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    deleted_at                  timestamptz,
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL)),
    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL))
);
-- Lists and emit_event (a client has a handful of endpoints: the events are filtered there).
CREATE INDEX webhook_endpoints_client_idx
    ON webhook_endpoints (client_id, created_at) WHERE deleted_at IS NULL;
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;

CREATE TABLE webhook_deliveries (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id           uuid NOT NULL REFERENCES clients (id),
    endpoint_id         uuid NOT NULL REFERENCES webhook_endpoints (id),
    -- The event (shared by its deliveries to several endpoints); `webhook-id` is derived from it.
    event_id            uuid NOT NULL,
    event_type          text NOT NULL CHECK (event_type IN (
        'lead.replied', 'meeting.booked', 'meeting.cancelled', 'lead.unsubscribed',
        'campaign.completed', 'call.completed', 'webhook.test')),
    -- The body sent: {"type", "timestamp", "data"}.
    payload             jsonb NOT NULL,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at     timestamptz,
    last_attempt_at     timestamptz,
    last_status_code    integer,
    last_latency_ms     integer,
    last_response_excerpt text CHECK (octet_length(last_response_excerpt) <= 1024),
    last_error          text,
    -- One object per attempt: {attempt, at, status_code, latency_ms, response_excerpt, error}.
    attempt_log         jsonb NOT NULL DEFAULT '[]',
    delivered_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint_idx
    ON webhook_deliveries (client_id, endpoint_id, created_at DESC, id DESC);
-- Retention (delivery logs after 30 days) scans by client.
CREATE INDEX webhook_deliveries_client_created_idx ON webhook_deliveries (client_id, created_at);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
