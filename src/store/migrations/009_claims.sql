-- postbud register, version 9: the sender claims replies in batches (SPEC
-- section 13). A claimed row is picked for sending but not yet handed over;
-- `claim_boot` is the machine's boot id at the claim, so that after a crash
-- a claim from this boot (the process died) is simply queued again, and one
-- from before a restart of the machine is checked or marked uncertain.
ALTER TABLE outbox ADD COLUMN claim_boot TEXT;
