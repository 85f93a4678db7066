-- postbud register, version 1. Conceptual model: SPEC section 2.
-- Nothing about people is ever deleted by the daemon; rows are deactivated
-- or get an end date. Times are RFC 3339 UTC text; dates are YYYY-MM-DD.

CREATE TABLE units (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    type      TEXT NOT NULL CHECK (type IN ('lag', 'region', 'forbund')),
    parent_id INTEGER REFERENCES units(id)
);

CREATE TABLE employers (
    id      INTEGER PRIMARY KEY,
    orgnr   TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    unit_id INTEGER REFERENCES units(id)
);

CREATE TABLE workplaces (
    id          INTEGER PRIMARY KEY,
    employer_id INTEGER NOT NULL REFERENCES employers(id),
    name        TEXT NOT NULL,
    midlevel    TEXT,
    open        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (employer_id, name)
);

CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    member_no     TEXT UNIQUE,
    name          TEXT NOT NULL,
    birth_date    TEXT,
    national_id   TEXT,
    phone         TEXT,
    address       TEXT,
    postcode      TEXT,
    city          TEXT,
    language      TEXT,
    employer_id   INTEGER REFERENCES employers(id),
    workplace_id  INTEGER REFERENCES workplaces(id),
    position      TEXT,
    percent       TEXT,
    permanent     INTEGER,
    unit_id       INTEGER REFERENCES units(id),
    status        TEXT NOT NULL DEFAULT 'active',
    status_from   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX people_national_id ON people(national_id);
CREATE INDEX people_employer ON people(employer_id);

-- A person's mail addresses. An address belongs to one person at most.
CREATE TABLE addresses (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    email     TEXT NOT NULL UNIQUE,
    verified  INTEGER NOT NULL DEFAULT 0,
    added_at  TEXT NOT NULL
);
CREATE INDEX addresses_person ON addresses(person_id);

-- Roles (rep, deputy, coordinator, admin) by address, at a level.
CREATE TABLE roles (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL,
    person_id    INTEGER REFERENCES people(id),
    role         TEXT NOT NULL,
    level        TEXT NOT NULL,
    employer_id  INTEGER REFERENCES employers(id),
    workplace_id INTEGER REFERENCES workplaces(id),
    unit_id      INTEGER REFERENCES units(id),
    valid_from   TEXT,
    valid_to     TEXT
);
CREATE INDEX roles_email ON roles(email);

-- Employer contacts: deactivated, never deleted.
CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL,
    name         TEXT,
    phone        TEXT,
    employer_id  INTEGER NOT NULL REFERENCES employers(id),
    duties       TEXT NOT NULL DEFAULT '',
    declaration  TEXT,
    active       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (email, employer_id)
);

-- Every message seen, by identity (SPEC section 3). outcome: handled,
-- silent, held (over the reply limit), quarantined.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    identity    TEXT NOT NULL UNIQUE,
    sender      TEXT,
    subject     TEXT,
    kind        TEXT,
    result      TEXT,
    ref         TEXT,
    outcome     TEXT NOT NULL,
    reason      TEXT,
    received_at TEXT NOT NULL,
    handled_at  TEXT NOT NULL,
    seen_count  INTEGER NOT NULL DEFAULT 1,
    raw         BLOB
);
CREATE INDEX messages_outcome ON messages(outcome);
CREATE INDEX messages_handled_at ON messages(handled_at);

-- References PB-YYYY-NNNNNN: the last number used per year.
CREATE TABLE refs (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- Replies and letters to send. state: queued, sending, sent, failed,
-- unknown (a crash while sending over a transport that cannot tell).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER REFERENCES messages(id),
    ref             TEXT,
    kind            TEXT NOT NULL,
    result          TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    mail_from       TEXT NOT NULL,
    rfc_message_id  TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    raw             BLOB NOT NULL,
    -- the body holds a code: replaced by a note once sent
    secret          INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(recipient, created_at);

-- Every change to the register, with the message that caused it.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    message_id INTEGER REFERENCES messages(id),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT,
    detail     TEXT
);

CREATE TABLE tickets (
    id         INTEGER PRIMARY KEY,
    ref        TEXT NOT NULL UNIQUE,
    message_id INTEGER REFERENCES messages(id),
    sender     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    topic      TEXT NOT NULL DEFAULT 'support',
    status     TEXT NOT NULL DEFAULT 'open',
    created_at TEXT NOT NULL
);

-- One-time codes, hashed (salted SHA-256). purpose: login (KODE), confirm
-- (BEKREFT for an unverified sender's command), link (KOBLE), accept
-- (AKSEPTERER). payload: what confirming carries out.
CREATE TABLE codes (
    id         INTEGER PRIMARY KEY,
    email      TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    salt       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    tries      INTEGER NOT NULL DEFAULT 0,
    payload    TEXT
);
CREATE INDEX codes_email ON codes(email, purpose, created_at);

-- Neutral replies to unknown addresses asking for a code: at most one a day.
CREATE TABLE neutral_replies (
    email TEXT NOT NULL,
    day   TEXT NOT NULL,
    PRIMARY KEY (email, day)
);

-- Addresses that bounce (from delivery status reports).
CREATE TABLE bounces (
    email    TEXT PRIMARY KEY,
    first_at TEXT NOT NULL,
    last_at  TEXT NOT NULL,
    count    INTEGER NOT NULL DEFAULT 1
);

-- Scheduled jobs: the last slot each ran for.
CREATE TABLE jobs (
    name        TEXT PRIMARY KEY,
    last_slot   TEXT NOT NULL,
    last_run_at TEXT NOT NULL
);
