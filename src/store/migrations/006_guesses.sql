-- postbud register, version 6: wrong confirmation guesses, counted per
-- address and purpose across all its codes (SPEC section 10, "Guessing").
CREATE TABLE code_failures (
    id      INTEGER PRIMARY KEY,
    email   TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at      TEXT NOT NULL,
    -- the guess that used up the last try: the codes of the purpose died
    locked  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX code_failures_email ON code_failures(email, purpose, at);
