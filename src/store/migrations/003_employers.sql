-- postbud register, version 3: what employer contacts work with (SPEC
-- section 8, seeds 002 and 003).

-- A deduction-list submission: one message's lists for one employer and
-- period. status: waiting (for the confidentiality declaration),
-- processed, manual (a PDF for an admin).
CREATE TABLE submissions (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL,
    employer_id INTEGER NOT NULL REFERENCES employers(id),
    period      TEXT NOT NULL,
    sender      TEXT NOT NULL,
    message_id  INTEGER REFERENCES messages(id),
    status      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX submissions_employer ON submissions(employer_id, period);

-- Each file of a submission. The same file (sha256) for the same employer
-- and period is counted once: later copies point at the first.
CREATE TABLE submission_files (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    employer_id   INTEGER NOT NULL REFERENCES employers(id),
    period        TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    lines         INTEGER NOT NULL DEFAULT 0,
    amount_ore    INTEGER NOT NULL DEFAULT 0,
    duplicate_of  INTEGER REFERENCES submission_files(id),
    received_at   TEXT NOT NULL
);
CREATE INDEX submission_files_sha ON submission_files(employer_id, period, sha256);

-- The lines of a file, matched against the register.
CREATE TABLE submission_lines (
    file_id     INTEGER NOT NULL REFERENCES submission_files(id),
    line        INTEGER NOT NULL,
    national_id TEXT,
    person_id   INTEGER REFERENCES people(id),
    amount_ore  INTEGER,
    problem     TEXT,
    PRIMARY KEY (file_id, line)
);
CREATE INDEX submission_lines_person ON submission_lines(person_id);

-- Answers (STATUS) for members registered at an employer but not deducted
-- in a period (utrukne): Ansatt, Permittert, Sluttet, Annet.
CREATE TABLE not_deducted (
    employer_id INTEGER NOT NULL REFERENCES employers(id),
    period      TEXT NOT NULL,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    status      TEXT NOT NULL,
    comment     TEXT,
    answered_by TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (employer_id, period, person_id)
);

-- When a contact was deactivated (kept, never deleted).
ALTER TABLE contacts ADD COLUMN deactivated_at TEXT;
