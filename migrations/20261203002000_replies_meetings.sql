-- Inbound replies and meetings (SPEC 2, 3.3; API_CONTRACT "Replies", "Meetings").
-- A reply belongs to the tenant that owns the receiving number or address; lead_id is NULL
-- while the sender matches no lead of that tenant (an unmatched reply, listed for admins).
-- Replies made from a webhook event keep its id, unique, so processing the event twice
-- stores one reply.

CREATE TABLE replies (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id          uuid NOT NULL REFERENCES clients (id),
    lead_id            uuid REFERENCES leads (id),
    campaign_id        uuid REFERENCES campaigns (id),
    -- The inbox row it came from (no foreign key: processed events are purged after 30 days).
    webhook_event_id   uuid,
    channel            text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin', 'voice', 'mail')),
    from_address       text NOT NULL,
    to_address         text,
    subject            text,
    content            text NOT NULL DEFAULT '',
    intent             text CHECK (intent IS NULL OR intent IN ('meeting_request', 'interested', 'question',
                                                              'not_interested', 'unsubscribe',
                                                              'out_of_office', 'auto_reply')),
    intent_confidence  double precision CHECK (intent_confidence IS NULL OR intent_confidence BETWEEN 0 AND 1),
    -- Facts found in the reply (e.g. an out-of-office return date).
    extracted          jsonb NOT NULL DEFAULT '{}',
    provider_message_id text,
    received_at        timestamptz NOT NULL DEFAULT now(),
    handled_at         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX replies_webhook_event_idx ON replies (webhook_event_id) WHERE webhook_event_id IS NOT NULL;
CREATE INDEX replies_client_received_idx ON replies (client_id, received_at DESC, id DESC);
CREATE INDEX replies_client_unhandled_idx ON replies (client_id, received_at DESC) WHERE handled_at IS NULL;
CREATE INDEX replies_lead_idx ON replies (lead_id, received_at DESC) WHERE lead_id IS NOT NULL;
ALTER TABLE replies ENABLE ROW LEVEL SECURITY;

-- btree_gist lets the exclusion constraint compare client_id with `=` beside the range.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The time a meeting occupies, [start, start + minutes). Adding minutes to a timestamptz does
-- not depend on the session time zone, so the function is truly immutable.
CREATE FUNCTION meeting_span(starts timestamptz, minutes integer) RETURNS tstzrange
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT tstzrange(starts, starts + minutes * interval '1 minute', '[)') $$;

CREATE TABLE meetings (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id        uuid NOT NULL REFERENCES clients (id),
    lead_id          uuid NOT NULL REFERENCES leads (id),
    campaign_id      uuid REFERENCES campaigns (id),
    scheduled_at     timestamptz NOT NULL,
    duration_minutes integer NOT NULL DEFAULT 30 CHECK (duration_minutes BETWEEN 5 AND 480),
    meeting_type     text NOT NULL DEFAULT 'discovery' CHECK (meeting_type IN ('discovery', 'demo', 'follow_up')),
    calendar_link    text,
    source           text NOT NULL DEFAULT 'manual' CHECK (source IN ('reply', 'voice', 'manual')),
    status           text NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
    -- The provider call or reply that booked it (Vapi call id, reply id), if any.
    source_ref       text,
    created_by       uuid REFERENCES users (id),
    cancelled_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- One calendar per client: no two scheduled meetings of a client overlap.
    CONSTRAINT meetings_no_overlap EXCLUDE USING gist (
        client_id WITH =, meeting_span(scheduled_at, duration_minutes) WITH &&
    ) WHERE (status = 'scheduled')
);
CREATE INDEX meetings_client_scheduled_idx ON meetings (client_id, scheduled_at, id);
CREATE INDEX meetings_lead_idx ON meetings (lead_id);
-- A tool call retried by Vapi books once.
CREATE UNIQUE INDEX meetings_source_ref_idx ON meetings (client_id, source, source_ref) WHERE source_ref IS NOT NULL;
ALTER TABLE meetings ENABLE ROW LEVEL SECURITY;
