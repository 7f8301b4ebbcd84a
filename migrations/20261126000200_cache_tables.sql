-- PostgreSQL fallback for agency-cache (used when REDIS_URL is unset or Redis is down).
-- UNLOGGED: fast, not WAL-logged, emptied after a crash; acceptable for cache data and
-- for counters that would otherwise live in Redis. Keys carry the `v1:` version prefix.

-- Key/value entries. A NULL value is a tombstone: a delete made while Redis was down,
-- replayed against Redis (DEL) when it comes back, then removed.
CREATE UNLOGGED TABLE cache_entries (
    key        text        PRIMARY KEY,
    value      bytea,
    expires_at timestamptz NOT NULL
);
CREATE INDEX cache_entries_expires_at_idx ON cache_entries (expires_at);

-- Counters: daily counts (`count`), daily money totals in AUD (`money`, exact numeric)
-- and fixed-window rate limits (`window`). Expired rows are treated as absent and are
-- reset by the next increment; purge_expired() deletes them.
CREATE UNLOGGED TABLE cache_counters (
    key        text        PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('count', 'money', 'window')),
    value      numeric     NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX cache_counters_expires_at_idx ON cache_counters (expires_at);
