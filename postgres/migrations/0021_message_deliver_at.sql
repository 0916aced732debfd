-- A message's deliverAt (Svix's MessageIn.deliverAt): when it is to be sent, in Unix
-- microseconds, or NULL for at once. The message waits, due at that time (dispatch_until), like
-- any message awaiting dispatch. A column added with no default rewrites nothing, on every
-- partition.
ALTER TABLE messages ADD COLUMN deliver_at BIGINT;
