-- Core schema of Agency OS (SPEC.md section 2): tenants, people, campaigns, leads,
-- suppression, the activity log, the audit log and the webhook inbox.
-- Closed sets are CHECKed text so the dashboard (which reads some tables directly) sees
-- plain strings. Every tenant table carries client_id; soft deletes use deleted_at.

CREATE TABLE clients (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                    text NOT NULL CHECK (length(btrim(name)) > 0),
    tier                    text NOT NULL DEFAULT 'ignition'
                            CHECK (tier IN ('ignition', 'velocity', 'dominance')),
    subscription_status     text NOT NULL DEFAULT 'trialing'
                            CHECK (subscription_status IN ('trialing', 'active', 'past_due', 'cancelled', 'paused')),
    credits_remaining       integer NOT NULL DEFAULT 1250 CHECK (credits_remaining >= 0),
    credits_reset_at        timestamptz,
    default_permission_mode text NOT NULL DEFAULT 'co_pilot'
                            CHECK (default_permission_mode IN ('autopilot', 'co_pilot', 'manual')),
    website_url             text,
    company_description     text,
    value_proposition       text,
    default_offer           text,
    icp_industries          text[] NOT NULL DEFAULT '{}',
    icp_company_sizes       text[] NOT NULL DEFAULT '{}',
    icp_locations           text[] NOT NULL DEFAULT '{}',
    icp_titles              text[] NOT NULL DEFAULT '{}',
    icp_pain_points         text[] NOT NULL DEFAULT '{}',
    icp_keywords            text[] NOT NULL DEFAULT '{}',
    icp_exclusions          text[] NOT NULL DEFAULT '{}',
    icp_revenue_min         numeric(14, 2),
    icp_revenue_max         numeric(14, 2),
    icp_confirmed_at        timestamptz,
    als_weights             jsonb,
    als_weights_confidence  numeric(4, 3),
    als_weights_conversions integer NOT NULL DEFAULT 0,
    competitor_domains      text[] NOT NULL DEFAULT '{}',
    timezone                text NOT NULL DEFAULT 'Australia/Sydney',
    daily_ai_budget_aud     numeric(10, 2) NOT NULL DEFAULT 100.00 CHECK (daily_ai_budget_aud >= 0),
    mrr_aud                 numeric(10, 2) NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz
);

CREATE TABLE users (
    id                uuid PRIMARY KEY,
    email             text,
    full_name         text,
    is_platform_admin boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email)) WHERE email IS NOT NULL;

CREATE TABLE memberships (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id     uuid NOT NULL REFERENCES clients (id),
    user_id       uuid REFERENCES users (id),
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    invited_email text,
    invited_by    uuid REFERENCES users (id),
    accepted_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CHECK (user_id IS NOT NULL OR invited_email IS NOT NULL)
);
CREATE UNIQUE INDEX memberships_user_client_idx ON memberships (user_id, client_id)
    WHERE deleted_at IS NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX memberships_invite_client_idx ON memberships (client_id, lower(invited_email))
    WHERE deleted_at IS NULL AND user_id IS NULL;
CREATE INDEX memberships_client_idx ON memberships (client_id) WHERE deleted_at IS NULL;

CREATE TABLE campaigns (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id            uuid NOT NULL REFERENCES clients (id),
    name                 text NOT NULL CHECK (length(btrim(name)) > 0),
    description          text,
    status               text NOT NULL DEFAULT 'draft'
                         CHECK (status IN ('draft', 'active', 'paused', 'completed')),
    permission_mode      text NOT NULL DEFAULT 'co_pilot'
                         CHECK (permission_mode IN ('autopilot', 'co_pilot', 'manual')),
    target_industries    text[] NOT NULL DEFAULT '{}',
    target_titles        text[] NOT NULL DEFAULT '{}',
    target_company_sizes text[] NOT NULL DEFAULT '{}',
    target_locations     text[] NOT NULL DEFAULT '{}',
    allocation_email     smallint NOT NULL DEFAULT 40 CHECK (allocation_email BETWEEN 0 AND 100),
    allocation_linkedin  smallint NOT NULL DEFAULT 30 CHECK (allocation_linkedin BETWEEN 0 AND 100),
    allocation_voice     smallint NOT NULL DEFAULT 20 CHECK (allocation_voice BETWEEN 0 AND 100),
    allocation_sms       smallint NOT NULL DEFAULT 5 CHECK (allocation_sms BETWEEN 0 AND 100),
    allocation_mail      smallint NOT NULL DEFAULT 5 CHECK (allocation_mail BETWEEN 0 AND 100),
    daily_lead_limit     integer NOT NULL DEFAULT 50 CHECK (daily_lead_limit > 0),
    total_lead_limit     integer CHECK (total_lead_limit IS NULL OR total_lead_limit > 0),
    start_date           date,
    end_date             date,
    activated_at         timestamptz,
    completed_at         timestamptz,
    created_by           uuid REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    CONSTRAINT campaigns_allocation_sums_to_100 CHECK (
        allocation_email + allocation_linkedin + allocation_voice + allocation_sms + allocation_mail = 100
    ),
    CONSTRAINT campaigns_dates_ordered CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX campaigns_client_idx ON campaigns (client_id, created_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE campaign_sequence_steps (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id        uuid NOT NULL REFERENCES clients (id),
    campaign_id      uuid NOT NULL REFERENCES campaigns (id),
    step_number      integer NOT NULL CHECK (step_number > 0),
    channel          text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin', 'voice', 'mail')),
    delay_days       integer NOT NULL DEFAULT 0 CHECK (delay_days >= 0),
    subject_template text,
    body_template    text,
    skip_if_replied  boolean NOT NULL DEFAULT true,
    skip_if_bounced  boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, step_number)
);
CREATE INDEX campaign_sequence_steps_client_idx ON campaign_sequence_steps (client_id, campaign_id);

CREATE TABLE leads (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id                   uuid NOT NULL REFERENCES clients (id),
    campaign_id                 uuid REFERENCES campaigns (id),
    email                       text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    phone                       text CHECK (phone IS NULL OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    first_name                  text,
    last_name                   text,
    title                       text,
    company                     text,
    domain                      text,
    linkedin_url                text,
    email_verified              boolean NOT NULL DEFAULT false,
    personal_email              text,
    organization_industry       text,
    organization_employee_count integer CHECK (organization_employee_count IS NULL OR organization_employee_count >= 0),
    organization_country        text,
    organization_founded_year   integer,
    organization_is_hiring      boolean,
    organization_latest_funding_date date,
    employment_start_date       date,
    seo_looked_up               boolean NOT NULL DEFAULT false,
    seo_domain_rank             integer,
    seo_organic_traffic         integer,
    seo_top10_keywords          integer,
    seo_spam_score              integer,
    bounced_before              boolean NOT NULL DEFAULT false,
    als_score                   smallint CHECK (als_score IS NULL OR als_score BETWEEN 0 AND 100),
    als_tier                    text CHECK (als_tier IS NULL OR als_tier IN ('hot', 'warm', 'cool', 'cold', 'dead')),
    als_data_quality            smallint,
    als_authority               smallint,
    als_company_fit             smallint,
    als_timing                  smallint,
    als_risk                    smallint,
    als_weights                 jsonb,
    als_channels                text[],
    scored_at                   timestamptz,
    status                      text NOT NULL DEFAULT 'new'
                                CHECK (status IN ('new', 'enriched', 'scored', 'in_sequence', 'paused',
                                                  'converted', 'unsubscribed', 'bounced')),
    dncr_checked                boolean NOT NULL DEFAULT false,
    dncr_blocked                boolean NOT NULL DEFAULT false,
    enrichment_source           text,
    enrichment_confidence       numeric(4, 3),
    enriched_at                 timestamptz,
    enrichment_wait_reason      text,
    next_action_at              timestamptz,
    paused_until                timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    deleted_at                  timestamptz
);
-- One live lead per address per client, compared case-insensitively (emails are stored lowercased).
CREATE UNIQUE INDEX leads_client_email_idx ON leads (client_id, lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX leads_client_created_idx ON leads (client_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_client_campaign_idx ON leads (client_id, campaign_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_client_status_idx ON leads (client_id, status) WHERE deleted_at IS NULL;
CREATE INDEX leads_client_tier_idx ON leads (client_id, als_tier) WHERE deleted_at IS NULL;
CREATE INDEX leads_next_action_idx ON leads (next_action_at) WHERE deleted_at IS NULL AND next_action_at IS NOT NULL;

CREATE TABLE global_suppression (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email      text CHECK (email IS NULL OR email = lower(email)),
    phone      text,
    reason     text NOT NULL CHECK (reason IN ('unsubscribe', 'bounce', 'complaint', 'manual', 'dncr')),
    source     text NOT NULL DEFAULT 'manual',
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
CREATE UNIQUE INDEX global_suppression_email_idx ON global_suppression (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX global_suppression_phone_idx ON global_suppression (phone) WHERE phone IS NOT NULL;

CREATE TABLE activities (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id           uuid NOT NULL REFERENCES clients (id),
    campaign_id         uuid REFERENCES campaigns (id),
    lead_id             uuid REFERENCES leads (id),
    channel             text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin', 'voice', 'mail')),
    action              text NOT NULL,
    provider_message_id text,
    sequence_step       integer,
    subject             text,
    content_preview     text,
    content_snapshot    jsonb,
    intent              text,
    metadata            jsonb NOT NULL DEFAULT '{}',
    led_to_booking      boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activities_client_created_idx ON activities (client_id, created_at DESC);
CREATE INDEX activities_lead_created_idx ON activities (lead_id, created_at DESC);
CREATE INDEX activities_provider_message_idx ON activities (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Activities are append-only.
CREATE FUNCTION activities_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'activities are append-only' USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER activities_no_update BEFORE UPDATE OR DELETE ON activities
    FOR EACH ROW EXECUTE FUNCTION activities_append_only();

CREATE TABLE audit_log (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id   uuid REFERENCES clients (id),
    actor_id    uuid,
    actor_kind  text NOT NULL DEFAULT 'user' CHECK (actor_kind IN ('user', 'system', 'provider')),
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   uuid,
    before      jsonb,
    after       jsonb,
    request_id  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_client_created_idx ON audit_log (client_id, created_at DESC);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);

CREATE TABLE webhook_events (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider          text NOT NULL CHECK (provider IN ('twilio', 'resend', 'vapi')),
    provider_event_id text NOT NULL,
    event_type        text,
    client_id         uuid REFERENCES clients (id),
    headers           jsonb NOT NULL DEFAULT '{}',
    raw_body          bytea NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'processed', 'failed', 'rejected', 'ignored')),
    received_at       timestamptz NOT NULL DEFAULT now(),
    processed_at      timestamptz,
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    UNIQUE (provider, provider_event_id)
);
CREATE INDEX webhook_events_status_idx ON webhook_events (status, received_at);

-- Onboarding status for the dashboard: one row per accepted membership of the user.
CREATE FUNCTION get_onboarding_status(p_user_id uuid)
RETURNS TABLE (needs_onboarding boolean, client_id uuid, client_name text,
               icp_confirmed_at timestamptz, website_url text)
LANGUAGE sql STABLE AS $$
    SELECT c.icp_confirmed_at IS NULL, c.id, c.name, c.icp_confirmed_at, c.website_url
      FROM memberships m
      JOIN clients c ON c.id = m.client_id AND c.deleted_at IS NULL
     WHERE m.user_id = p_user_id
       AND m.accepted_at IS NOT NULL
       AND m.deleted_at IS NULL
     ORDER BY m.created_at
$$;
