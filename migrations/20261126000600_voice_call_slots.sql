-- Voice calls in flight (SPEC 3.2: at most 5 concurrent voice calls per client).
-- One row per call holding a slot: taken by the voice sender in the transaction that claims
-- the send (after the just-in-time check), given the provider's call id once the call is
-- placed, and deleted when the call ends (release is idempotent: the end-of-call webhook may
-- arrive twice). A call whose end we never hear of stops counting at `expires_at` (started_at
-- + the maximum call duration, 30 minutes) and is purged by the next acquire for its client.
-- Grants are serialised per client with a transaction-scoped advisory lock (safe behind a
-- transaction pooler), so concurrent senders in different processes never exceed the limit.

CREATE TABLE voice_call_slots (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id        uuid NOT NULL REFERENCES clients (id),
    lead_id          uuid NOT NULL REFERENCES leads (id),
    -- The voice provider's call id (e.g. Vapi's), NULL until the call is placed.
    provider_call_id text CHECK (provider_call_id IS NULL OR length(btrim(provider_call_id)) > 0),
    started_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    CHECK (expires_at > started_at)
);
-- Counting a client's unexpired calls, and finding the soonest expiry.
CREATE INDEX voice_call_slots_client_expires_idx ON voice_call_slots (client_id, expires_at);
-- The end-of-call webhook finds its slot by the provider's call id.
CREATE UNIQUE INDEX voice_call_slots_provider_call_idx ON voice_call_slots (provider_call_id)
    WHERE provider_call_id IS NOT NULL;
