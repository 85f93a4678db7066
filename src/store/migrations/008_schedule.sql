-- postbud register, version 8: the schedule (SPEC section 11).

-- Letters to employers about deductions, numbered per employer, kept six
-- months (the retention job deletes older ones; the record that a letter
-- went out stays in the audit log).
CREATE TABLE letters (
    id          INTEGER PRIMARY KEY,
    employer_id INTEGER NOT NULL REFERENCES employers(id),
    number      INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    -- the letter as data (JSON), what its text and PDF are made from
    content     TEXT NOT NULL,
    pdf         BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (employer_id, number)
);

-- Membership changes an employer must hear of (start or stop deducting),
-- recorded when they take effect by mail or approval; the office's own
-- imports are not changes. A letter takes the changes without one.
CREATE TABLE employer_changes (
    id           INTEGER PRIMARY KEY,
    employer_id  INTEGER NOT NULL REFERENCES employers(id),
    person_id    INTEGER NOT NULL REFERENCES people(id),
    -- start | stop
    what         TEXT NOT NULL,
    -- new-member, moved-in | resigned, left, moved-away
    why          TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    letter_id    INTEGER REFERENCES letters(id)
);
CREATE INDEX employer_changes_open ON employer_changes(employer_id, letter_id);

-- A job's work for one slot, item by item (one employer's letter): an item
-- done is not done again when the job is run again for the slot after a
-- crash. `jobs.last_slot` is set when every item is done.
CREATE TABLE job_items (
    job     TEXT NOT NULL,
    slot    TEXT NOT NULL,
    item    TEXT NOT NULL,
    done_at TEXT NOT NULL,
    PRIMARY KEY (job, slot, item)
);

-- Approved changes that take effect on a later date wait as 'scheduled'.
ALTER TABLE pending_changes ADD COLUMN effective_on TEXT;
CREATE INDEX pending_effective ON pending_changes(status, effective_on);

-- Raw bodies deleted by retention: the record stays.
ALTER TABLE messages ADD COLUMN raw_deleted_at TEXT;

-- The digest counts what was sent in the last 24 hours.
CREATE INDEX outbox_sent ON outbox(state, sent_at);
