-- Issue 15: the database itself keeps a child row in its parent's tenant. Each parent gets
-- UNIQUE (client_id, id) and each child a composite (client_id, parent_id) foreign key, so a
-- lead can only join a campaign of its own client, an activity only name a lead of its
-- client, and so on, whatever a query forgets. The single-column foreign keys stay.
--
-- Safe on existing data: the new keys are added NOT VALID (enforced for every new or changed
-- row at once), then validated; a database holding rows that already break the rule keeps
-- the key unvalidated and logs a warning naming it instead of failing the migration.

ALTER TABLE campaigns ADD CONSTRAINT campaigns_client_id_id_key UNIQUE (client_id, id);
ALTER TABLE leads ADD CONSTRAINT leads_client_id_id_key UNIQUE (client_id, id);
ALTER TABLE sending_resources ADD CONSTRAINT sending_resources_client_id_id_key UNIQUE (client_id, id);

ALTER TABLE leads
    ADD CONSTRAINT leads_campaign_tenant_fkey FOREIGN KEY (client_id, campaign_id)
        REFERENCES campaigns (client_id, id) NOT VALID,
    ADD CONSTRAINT leads_allocated_resource_tenant_fkey FOREIGN KEY (client_id, allocated_resource_id)
        REFERENCES sending_resources (client_id, id) NOT VALID;
ALTER TABLE campaign_sequence_steps
    ADD CONSTRAINT campaign_sequence_steps_campaign_tenant_fkey FOREIGN KEY (client_id, campaign_id)
        REFERENCES campaigns (client_id, id) NOT VALID;
ALTER TABLE activities
    ADD CONSTRAINT activities_lead_tenant_fkey FOREIGN KEY (client_id, lead_id)
        REFERENCES leads (client_id, id) NOT VALID,
    ADD CONSTRAINT activities_campaign_tenant_fkey FOREIGN KEY (client_id, campaign_id)
        REFERENCES campaigns (client_id, id) NOT VALID;
ALTER TABLE voice_call_slots
    ADD CONSTRAINT voice_call_slots_lead_tenant_fkey FOREIGN KEY (client_id, lead_id)
        REFERENCES leads (client_id, id) NOT VALID;
ALTER TABLE replies
    ADD CONSTRAINT replies_lead_tenant_fkey FOREIGN KEY (client_id, lead_id)
        REFERENCES leads (client_id, id) NOT VALID,
    ADD CONSTRAINT replies_campaign_tenant_fkey FOREIGN KEY (client_id, campaign_id)
        REFERENCES campaigns (client_id, id) NOT VALID;
ALTER TABLE meetings
    ADD CONSTRAINT meetings_lead_tenant_fkey FOREIGN KEY (client_id, lead_id)
        REFERENCES leads (client_id, id) NOT VALID,
    ADD CONSTRAINT meetings_campaign_tenant_fkey FOREIGN KEY (client_id, campaign_id)
        REFERENCES campaigns (client_id, id) NOT VALID;
ALTER TABLE outreach_sends
    ADD CONSTRAINT outreach_sends_lead_tenant_fkey FOREIGN KEY (client_id, lead_id)
        REFERENCES leads (client_id, id) NOT VALID,
    ADD CONSTRAINT outreach_sends_campaign_tenant_fkey FOREIGN KEY (client_id, campaign_id)
        REFERENCES campaigns (client_id, id) NOT VALID;

DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT conrelid::regclass AS tbl, conname
          FROM pg_constraint
         WHERE contype = 'f' AND NOT convalidated AND conname LIKE '%\_tenant\_fkey'
           AND connamespace = 'public'::regnamespace
    LOOP
        BEGIN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', fk.tbl, fk.conname);
        EXCEPTION WHEN foreign_key_violation THEN
            RAISE WARNING 'tenant key % on % left NOT VALID: existing rows cross tenants; '
                          'fix them, then VALIDATE CONSTRAINT', fk.conname, fk.tbl;
        END;
    END LOOP;
END;
$$;
