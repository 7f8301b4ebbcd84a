-- Sending resources (SPEC 3.2) and each lead's planned first touch.
-- A resource is one client's email domain, SMS number, voice number or LinkedIn seat; its
-- daily use lives in the cache crate's daily counters (`v1:ratelimit:{kind}:{id}:{day}`, the
-- day in the client's timezone), not here.

CREATE TABLE sending_resources (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id          uuid NOT NULL REFERENCES clients (id),
    kind               text NOT NULL
                       CHECK (kind IN ('email_domain', 'sms_number', 'voice_number', 'linkedin_seat')),
    value              text NOT NULL CHECK (length(btrim(value)) > 0),
    -- Email domains: the first day of warm-up (10 sends that day, +10 a day up to 50);
    -- NULL means warmed up. Ignored for other kinds.
    warmup_started_on  date,
    -- Lowers (never raises) the kind's daily cap, e.g. for a seat the provider limits further.
    daily_cap_override integer CHECK (daily_cap_override IS NULL OR daily_cap_override >= 0),
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz
);
-- A domain or number belongs to one tenant (inbound replies are matched through it).
CREATE UNIQUE INDEX sending_resources_kind_value_idx ON sending_resources (kind, lower(value))
    WHERE deleted_at IS NULL;
CREATE INDEX sending_resources_client_kind_idx ON sending_resources (client_id, kind)
    WHERE deleted_at IS NULL;

-- The allocation of a lead: its first-touch channel and the resource reserved for it
-- (NULL while waiting for capacity, with the reason), planned for leads.next_action_at.
ALTER TABLE leads
    ADD COLUMN first_touch_channel    text
        CHECK (first_touch_channel IS NULL OR first_touch_channel IN ('email', 'sms', 'linkedin', 'voice', 'mail')),
    ADD COLUMN allocated_resource_id  uuid REFERENCES sending_resources (id),
    ADD COLUMN allocated_at           timestamptz,
    ADD COLUMN allocation_wait_reason text;

-- The tier report groups a client's live leads by campaign and tier.
CREATE INDEX leads_client_campaign_tier_idx ON leads (client_id, campaign_id, als_tier)
    WHERE deleted_at IS NULL;
