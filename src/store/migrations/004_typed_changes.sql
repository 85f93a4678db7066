-- postbud register, version 4: a pending change's payload names its kind
-- (`{"kind": "member-left", ...}`), so it reads back as one typed value.
UPDATE pending_changes SET payload = json_set(payload, '$.kind', kind);
