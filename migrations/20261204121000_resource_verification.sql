-- Sending resources are unique per client, and usable (for sending and for routing inbound
-- replies) only once verified: an email domain by a DNS TXT token, a number by being in the
-- client's (or the platform's) Twilio account. Two tenants may both register a value; only one
-- can hold it verified, so inbound routing stays unambiguous. LinkedIn seats are names, not
-- owned identifiers: verified at once and never exclusive.
DROP INDEX IF EXISTS sending_resources_kind_value_idx;
CREATE UNIQUE INDEX sending_resources_client_kind_value_idx
    ON sending_resources (client_id, kind, lower(value)) WHERE deleted_at IS NULL;

ALTER TABLE sending_resources
    ADD COLUMN verified_at        timestamptz,
    -- The TXT value an email domain must publish at _agency-os-verify.<domain>.
    ADD COLUMN verification_token text;

-- Resources registered before verification existed were unique across tenants: keep them usable.
UPDATE sending_resources SET verified_at = created_at WHERE deleted_at IS NULL;

CREATE UNIQUE INDEX sending_resources_verified_value_idx
    ON sending_resources (kind, lower(value))
    WHERE deleted_at IS NULL AND verified_at IS NOT NULL AND kind <> 'linkedin_seat';
