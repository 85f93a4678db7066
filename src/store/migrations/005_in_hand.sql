-- postbud register, version 5: messages in hand (SPEC section 3, "No poison
-- pills"). A batch's messages are marked before it is handled and the marks
-- are cleared in the batch's own transaction: a mark found at the next start
-- means the process died while that message was in hand. attempts: 1 in a
-- batch, 2 alone; a third time it is quarantined unread.
CREATE TABLE in_hand (
    hash     TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    first_at TEXT NOT NULL
);

-- A quarantined message kept only in part (too large to keep whole).
ALTER TABLE messages ADD COLUMN raw_truncated INTEGER NOT NULL DEFAULT 0;
