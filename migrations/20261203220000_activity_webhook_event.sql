-- Activities caused by a provider webhook event carry its id in metadata.webhook_event_id; a
-- replayed event looks its earlier activities up here so that it never records them twice.
CREATE INDEX activities_webhook_event_idx
    ON activities (client_id, ((metadata->>'webhook_event_id')))
    WHERE metadata ? 'webhook_event_id';
