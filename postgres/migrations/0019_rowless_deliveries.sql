-- A delivery that succeeds at its first attempt is stored as that attempt alone (issue 14): the
-- attempt is marked rowless, and deliveries holds no row for it. That row cost a heap tuple,
-- three index entries and their share of page splits, about 730 of the 1,650 WAL bytes of a
-- delivery (docs/performance.md, "PostgreSQL"). Deliveries that are pending, failing, canceled
-- or manually resent keep their row. Every delivery still has one id: a rowless delivery's is
-- its attempt's id under the delivery prefix (atmpt_X is the attempt of delivery dlv_X), kept
-- in delivery_id. So the rowless deliveries of an endpoint, in id order, are its rowless
-- attempts in id order, along attempts_endpoint: no index is added.
--
-- Writers use deliveries; readers that want every delivery read the view delivery_rows, which
-- adds the rowless ones as successes with one attempt. A resend gives a rowless delivery its
-- row first (the attempt stops being rowless), so a delivery is never in both.
ALTER TABLE attempts ADD COLUMN rowless BOOLEAN NOT NULL DEFAULT false;

CREATE VIEW delivery_rows AS
	SELECT id, app_id, msg_id, endpoint_id, status, attempt_count, next_attempt_at, trigger_type,
		lease_owner, leased_until, created_at, updated_at
	FROM deliveries
	UNION ALL
	SELECT delivery_id, app_id, msg_id, endpoint_id, 0, 1, NULL::bigint, 0,
		NULL::text, NULL::bigint, created_at, created_at
	FROM attempts WHERE rowless;
