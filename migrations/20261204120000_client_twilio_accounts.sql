-- A client's own Twilio account (SPEC 5, "a client may bring its own Twilio account"): SMS
-- from the client's numbers are sent through it, and webhooks carrying its AccountSid are
-- verified with its auth token. The token is sealed (XChaCha20-Poly1305 under the key named by
-- key_id, see agency_providers::sealed; associated data `twilio:{client_id}:{account_sid}`)
-- and never leaves the services: the dashboard's roles get nothing here.
CREATE TABLE client_twilio_accounts (
    client_id        uuid PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    account_sid      text NOT NULL CHECK (account_sid ~ '^AC[0-9A-Za-z]{32}$'),
    key_id           text NOT NULL,
    token_nonce      bytea NOT NULL,
    token_sealed     bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One account serves one tenant: a webhook's AccountSid names exactly one client.
CREATE UNIQUE INDEX client_twilio_accounts_sid_idx ON client_twilio_accounts (account_sid);

ALTER TABLE client_twilio_accounts ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON client_twilio_accounts FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        EXECUTE 'REVOKE ALL ON client_twilio_accounts FROM anon';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        EXECUTE 'REVOKE ALL ON client_twilio_accounts FROM authenticated';
    END IF;
END $$;
