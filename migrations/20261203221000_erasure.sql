-- Erasure (the Australian Privacy Act's and the GDPR's right to be forgotten): a person's
-- email or phone is erased or anonymised in every tenant, and kept only as a SHA-256 digest
-- so that they are never contacted again.
CREATE FUNCTION identity_digest(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT encode(sha256(convert_to(value, 'UTF8')), 'hex') $$;

CREATE TABLE erased_identities (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind IN ('email', 'phone')),
    digest       text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    requested_by uuid REFERENCES users (id),
    erased_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, digest)
);
ALTER TABLE erased_identities ENABLE ROW LEVEL SECURITY;

-- A later lead with an erased address (an import, an enrichment) is suppressed at once.
ALTER TABLE global_suppression DROP CONSTRAINT global_suppression_reason_check;
ALTER TABLE global_suppression ADD CONSTRAINT global_suppression_reason_check
    CHECK (reason IN ('unsubscribe', 'bounce', 'complaint', 'manual', 'dncr', 'erasure'));

CREATE FUNCTION leads_resuppress_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM erased_identities
                WHERE kind = 'email' AND digest = identity_digest(NEW.email)) THEN
        INSERT INTO global_suppression (email, reason, source)
        VALUES (NEW.email, 'erasure', 'erasure') ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.phone IS NOT NULL AND EXISTS (SELECT 1 FROM erased_identities
                WHERE kind = 'phone' AND digest = identity_digest(NEW.phone)) THEN
        INSERT INTO global_suppression (phone, reason, source)
        VALUES (NEW.phone, 'erasure', 'erasure') ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER leads_resuppress_erased AFTER INSERT OR UPDATE OF email, phone ON leads
    FOR EACH ROW EXECUTE FUNCTION leads_resuppress_erased();

-- Activities stay append-only, except for an erasure, which anonymises them in place (it sets
-- `agency.erasure` for its own transaction only).
CREATE OR REPLACE FUNCTION activities_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('agency.erasure', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'activities are append-only' USING ERRCODE = 'check_violation';
END;
$$;
