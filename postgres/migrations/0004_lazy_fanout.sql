-- Messages are the delivery queue, as in SQLite's migration of the same number (this store's
-- 0001 holds SQLite's 0001 to 0003, so the numbers between are unused here): a new message
-- waits for dispatch, and the delivery engine fans it out when it claims it; a delivery row is
-- written when its first outcome is recorded (or when it cannot be sent at once). A delivery
-- that succeeds at once then costs one insert, where an eager fan-out cost an insert, a claim
-- and an update.
--
-- dispatch_until (unix microseconds, like every time here) is NULL once the message is fanned
-- out for good; existing messages were fanned out when they were created. Otherwise the message
-- is due for fan-out at dispatch_until: its creation for a new message, the end of the lease of
-- the process that fanned it out (dispatch_owner) while its fresh deliveries are on their way.
-- Adding nullable columns without a default rewrites nothing.
ALTER TABLE messages ADD COLUMN dispatch_owner TEXT, ADD COLUMN dispatch_until BIGINT;
-- The claim's fan-out branch, ReleaseExpiredLeases and NextDueAt: partial, so the messages
-- fanned out for good (nearly all rows) are not in it.
CREATE INDEX messages_dispatch ON messages (dispatch_until) WHERE dispatch_until IS NOT NULL;

-- One delivery per message and endpoint, so that a message fanned out twice (its first
-- dispatcher died) keeps the deliveries it has: deliveries_msg has been UNIQUE on
-- (msg_id, endpoint_id) since 0001 here, so unlike SQLite there is nothing to rebuild.
