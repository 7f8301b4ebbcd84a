-- ICP fields the REST contract exposes on GET/PUT /clients/{cid}/icp that the core schema
-- keeps as single values: a list of value propositions and when the ICP was last extracted.
ALTER TABLE clients
    ADD COLUMN icp_value_propositions text[] NOT NULL DEFAULT '{}',
    ADD COLUMN icp_last_extraction_at timestamptz;
