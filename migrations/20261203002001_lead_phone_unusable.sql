-- A lead's number that can never receive SMS (Twilio reported a permanent failure: landline,
-- unreachable or unknown handset, invalid number). Senders skip SMS to it; voice may still call.
ALTER TABLE leads
    ADD COLUMN phone_unusable_at     timestamptz,
    ADD COLUMN phone_unusable_reason text;
