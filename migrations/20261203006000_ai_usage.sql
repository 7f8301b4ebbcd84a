-- The AI spend ledger (SPEC 3.4): one row per Claude call, written as a reservation before
-- the call and settled with the billed usage after it. The spend counters (Redis or the
-- cache fallback) hold the running daily totals; this table is the record behind them and
-- the source of the spend reports.
--   reserved  the estimate is held in the counters; the call is in flight
--   settled   the call answered: tokens and cost_aud are the billed usage
--   released  the call failed before any usage: the estimate was given back
--   expired   nobody settled it in time (the process died): the estimate was given back;
--             a late settle still records the cost (and moves it to settled)

CREATE TABLE ai_usage (
    id             uuid PRIMARY KEY,
    client_id      uuid NOT NULL REFERENCES clients (id),
    purpose        text NOT NULL CHECK (purpose IN ('classify_reply', 'write_message', 'extract_icp')),
    model          text NOT NULL CHECK (length(model) > 0),
    status         text NOT NULL DEFAULT 'reserved'
                   CHECK (status IN ('reserved', 'settled', 'released', 'expired')),
    estimate_aud   numeric(14, 6) NOT NULL CHECK (estimate_aud >= 0),
    input_tokens   bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens  bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    cost_aud       numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_aud >= 0),
    -- The client's local calendar day of `at` (the day its budget counter belongs to).
    usage_date     date NOT NULL,
    -- The platform's calendar day of `at` (Australia/Sydney; the platform cap's day).
    platform_date  date NOT NULL,
    -- When the call was reserved, by the application clock (the counters' day is derived from it).
    at             timestamptz NOT NULL,
    settled_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ai_usage_client_date_idx ON ai_usage (client_id, usage_date);
CREATE INDEX ai_usage_platform_date_idx ON ai_usage (platform_date);
CREATE INDEX ai_usage_reserved_idx ON ai_usage (created_at) WHERE status = 'reserved';

ALTER TABLE ai_usage ENABLE ROW LEVEL SECURITY;
