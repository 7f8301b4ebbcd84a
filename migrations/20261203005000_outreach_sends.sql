-- Outreach (SPEC 3.2, issue 9): the planned sends, the sandbox outbox and the sender identity
-- every commercial email carries.
--
-- outreach_sends: one row per planned send. A sequence step of a lead in a campaign has exactly
-- one row per channel (unique), so a retried job or a second sweep cannot plan or send it
-- twice; the row's status is the send's state machine:
--   scheduled -> sending -> sent | failed          (autopilot, and approved drafts)
--   scheduled -> awaiting_approval -> approved -> sending ... | rejected   (co-pilot)
--   scheduled | awaiting_approval | approved -> blocked (just-in-time check) | cancelled
-- `sending` is written in the transaction that ran the just-in-time check, before the provider
-- is called; a row found `sending` by a retry is never sent again through a provider that has
-- no idempotency key (SMS, voice), and is repeated with the same key for email.
CREATE TABLE outreach_sends (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id           uuid NOT NULL REFERENCES clients (id),
    campaign_id         uuid NOT NULL REFERENCES campaigns (id),
    lead_id             uuid NOT NULL REFERENCES leads (id),
    -- The campaign step (1-based); 0 for a manual send.
    step_number         integer NOT NULL CHECK (step_number >= 0),
    channel             text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin', 'voice', 'mail')),
    origin              text NOT NULL DEFAULT 'sequence' CHECK (origin IN ('sequence', 'manual')),
    status              text NOT NULL DEFAULT 'scheduled'
                        CHECK (status IN ('scheduled', 'awaiting_approval', 'approved', 'sending',
                                          'sent', 'blocked', 'failed', 'cancelled', 'rejected')),
    due_at              timestamptz NOT NULL,
    resource_id         uuid REFERENCES sending_resources (id),
    -- The rendered content (a co-pilot draft, editable until approved; what was sent).
    subject             text,
    body                text,
    blocked_reason      text,
    last_error          text,
    provider            text,
    provider_message_id text,
    attempts            integer NOT NULL DEFAULT 0,
    claimed_at          timestamptz,
    sent_at             timestamptz,
    decided_by          uuid REFERENCES users (id),
    decided_at          timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outreach_sends_step_idx
    ON outreach_sends (lead_id, campaign_id, step_number, channel) WHERE origin = 'sequence';
-- The sweep finds due, unsent rows by this index (never by scanning leads).
CREATE INDEX outreach_sends_due_idx ON outreach_sends (due_at)
    WHERE status IN ('scheduled', 'approved');
CREATE INDEX outreach_sends_client_status_idx ON outreach_sends (client_id, status, created_at DESC);
CREATE INDEX outreach_sends_lead_idx ON outreach_sends (lead_id, created_at);
CREATE INDEX outreach_sends_provider_message_idx ON outreach_sends (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
ALTER TABLE outreach_sends ENABLE ROW LEVEL SECURITY;

-- The sandbox outbox: every message a sandbox provider took instead of the real one.
CREATE TABLE sandbox_messages (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id           uuid NOT NULL REFERENCES clients (id),
    send_id             uuid NOT NULL REFERENCES outreach_sends (id),
    campaign_id         uuid REFERENCES campaigns (id),
    lead_id             uuid REFERENCES leads (id),
    channel             text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin', 'voice', 'mail')),
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    from_address        text,
    to_address          text NOT NULL,
    subject             text,
    body                text NOT NULL,
    headers             jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sandbox_messages_send_idx ON sandbox_messages (send_id);
CREATE INDEX sandbox_messages_client_created_idx ON sandbox_messages (client_id, created_at DESC, id DESC);
ALTER TABLE sandbox_messages ENABLE ROW LEVEL SECURITY;

-- Who the email comes from (Spam Act 2003: identify the sender) and where replies go.
ALTER TABLE clients
    ADD COLUMN IF NOT EXISTS postal_address text,
    ADD COLUMN IF NOT EXISTS reply_to_email text;

