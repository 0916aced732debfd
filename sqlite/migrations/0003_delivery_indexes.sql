-- Fewer index writes per delivery. A delivery changes status twice per attempt (claimed, then
-- recorded), and every index that holds the status is rewritten each time. The claim and
-- due-time queries only ever look at pending rows by due time and sending rows by lease end,
-- so partial indexes serve them and stay small: finished deliveries leave them. The endpoint's
-- (endpoint_id, id) index serves its lists and counts, so (endpoint_id, status) goes.
DROP INDEX deliveries_due;
DROP INDEX deliveries_lease;
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 1;
CREATE INDEX deliveries_leased ON deliveries (leased_until) WHERE status = 3;
