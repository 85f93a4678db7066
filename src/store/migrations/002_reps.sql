-- postbud register, version 2: what reps work with (SPEC sections 5-7).

-- A peer (likeperson): a person in a chapter, with a peer number.
CREATE TABLE peers (
    id            INTEGER PRIMARY KEY,
    peer_no       TEXT NOT NULL UNIQUE,
    person_id     INTEGER NOT NULL UNIQUE REFERENCES people(id),
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    -- the registration form the peer came from, if any: never registered twice
    form_id       TEXT UNIQUE,
    registered_at TEXT NOT NULL
);
CREATE INDEX peers_unit ON peers(unit_id);

-- Years a peer was active, as reported by reps (SPEC section 7).
CREATE TABLE peer_activity (
    peer_id       INTEGER NOT NULL REFERENCES peers(id),
    year          INTEGER NOT NULL,
    registered_at TEXT NOT NULL,
    message_id    INTEGER REFERENCES messages(id),
    PRIMARY KEY (peer_id, year)
);

-- Access beyond a role's own scope, always with a reason (a rep borrowing
-- peers from a neighbouring chapter).
CREATE TABLE grants (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL,
    unit_id     INTEGER REFERENCES units(id),
    employer_id INTEGER REFERENCES employers(id),
    reason      TEXT NOT NULL,
    valid_from  TEXT,
    valid_to    TEXT
);
CREATE INDEX grants_email ON grants(email);

-- Changes that wait for an admin (SPEC section 2): what was asked, by whom.
-- kind: member-left, member-moved, workplace-new, workplace-rename,
-- workplace-close, new-rep, registration. status: pending, applied,
-- rejected, undone. payload: the details, as JSON.
CREATE TABLE pending_changes (
    id           INTEGER PRIMARY KEY,
    ref          TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    message_id   INTEGER REFERENCES messages(id),
    summary      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    decided_by   TEXT,
    decided_at   TEXT,
    reason       TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX pending_status ON pending_changes(status);

-- A rep at mid-level holds it for the workplaces under that mid-level.
ALTER TABLE roles ADD COLUMN midlevel TEXT;
