-- Indexes for the reports (crates/store/src/reports.rs): range scans of a client's (or one
-- campaign's) activities that count by channel, action, lead and local day. The INCLUDE
-- columns let PostgreSQL answer from the index alone (activities are append-only, so the
-- visibility map stays current after vacuum).
CREATE INDEX activities_client_created_cover_idx
    ON activities (client_id, created_at) INCLUDE (campaign_id, lead_id, channel, action);
CREATE INDEX activities_client_campaign_created_idx
    ON activities (client_id, campaign_id, created_at) INCLUDE (lead_id, channel, action);
