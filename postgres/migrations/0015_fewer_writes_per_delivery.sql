-- Fewer writes per delivery (issue 14): every index entry and foreign key check below was paid
-- by each delivery and each attempt, and no query needs it. docs/performance.md ("PostgreSQL")
-- has the profile and the EXPLAINs behind each line.
--
-- An attempt's delivery is never looked up (no query filters attempts by delivery_id), and a
-- delivery is only ever deleted by the cascade from its message, endpoint or application, which
-- reaches the attempts by msg_id and endpoint_id as well. The foreign key, and the index that
-- only served its cascade, cost a row lock (WAL) and a lookup per attempt.
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;
DROP INDEX attempts_delivery;
-- app_id on attempts and deliveries always names the application of their message and
-- endpoint, whose own foreign keys cascade from the application: these two checks (a lookup and
-- a share lock on the one application row per insert) guarded nothing the others do not.
ALTER TABLE attempts DROP CONSTRAINT attempts_app_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_app_id_fkey;
-- Every query of attempts names the application, so (app_id, id) serves as the primary key and
-- as the application's list in id order: one index where there were two.
DROP INDEX attempts_app;
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey, ADD CONSTRAINT attempts_pkey PRIMARY KEY (app_id, id);
-- An endpoint's deliveries by status (its stats, recover) are read along deliveries_endpoint_id,
-- which holds the same endpoint's rows; status in an index also made every change of status
-- write a new entry.
DROP INDEX deliveries_endpoint;
-- An endpoint row is rewritten with its health by every recording batch that touches it: room
-- on its page lets that be a HOT update (no index entries), the table being small.
ALTER TABLE endpoints SET (fillfactor = 50);
