-- Retention (SPEC 7): each client's policy for raw call transcripts (the summary and outcome
-- stay; the transcript is removed after this many days), and the indexes the daily clean-up
-- reads by age: finished outbound deliveries (kept 30 days) and activities holding a
-- transcript.
ALTER TABLE clients
    ADD COLUMN transcript_retention_days integer NOT NULL DEFAULT 90
        CHECK (transcript_retention_days BETWEEN 1 AND 3650);
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at)
    WHERE status <> 'pending';
CREATE INDEX activities_transcript_idx ON activities (created_at)
    WHERE metadata ? 'transcript';
