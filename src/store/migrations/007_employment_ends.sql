-- postbud register, version 7: when a member's employment at an employer
-- ended, so that a deduction list from that employer still matches them for
-- 12 months (SPEC section 8) while matching no one else.
CREATE TABLE employment_ends (
    person_id   INTEGER NOT NULL REFERENCES people(id),
    employer_id INTEGER NOT NULL REFERENCES employers(id),
    ended_on    TEXT NOT NULL,
    PRIMARY KEY (person_id, employer_id)
);
