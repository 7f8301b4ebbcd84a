-- Issue 15: the per-user cap on clients created per day counts a user's recent
-- `client.created` audit rows; this index keeps that count cheap on a large audit log.
CREATE INDEX audit_log_client_created_by_actor_idx ON audit_log (actor_id, created_at)
    WHERE action = 'client.created';
