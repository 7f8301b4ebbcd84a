-- Job system tables of our own, next to the apalis-postgres job tables (schema `apalis`, created
-- by the same `migrate` command after this set; nothing here references that schema).

-- Idempotency records: a handler inserts its effect key in the same transaction as the effect,
-- so a job delivered twice (at-least-once delivery) has one effect.
CREATE TABLE job_effects (
    effect_key  text PRIMARY KEY,
    job_id      text NOT NULL,
    kind        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_effects_created_idx ON job_effects (created_at);

-- One row per schedule tick that fired: the primary key makes a tick fire once however many
-- schedulers run, and the row commits in the same transaction as the job it enqueued.
CREATE TABLE schedule_runs (
    schedule    text NOT NULL,
    tick        timestamptz NOT NULL,
    job_id      text NOT NULL,
    fired_by    text NOT NULL,
    fired_at    timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule, tick)
);

-- Counters written by the `probe` job kind (ops smoke tests, crash and idempotency tests).
CREATE TABLE job_probe_hits (
    name        text PRIMARY KEY,
    hits        integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
