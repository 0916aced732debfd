-- Fewer b-tree writes per delivery. A delivery is inserted, claimed (status 3, lease) and
-- recorded (final status, or pending again): every b-tree that holds a changed column is
-- rewritten each time, so this migration keeps only the ones the queries need.
--
-- * deliveries becomes a WITHOUT ROWID table clustered by its id: its rows are small, and a
--   TEXT primary key in a rowid table costs a second b-tree for the id.
-- * The claim and due-time queries look only at pending rows by due time and sending rows by
--   lease end: partial indexes serve them and stay small, since finished deliveries leave them.
-- * (endpoint_id, id) serves the endpoint's lists and counts; (endpoint_id, status) goes.
-- * attempts.delivery_id loses its foreign key and index: deliveries are only ever deleted with
--   their message or endpoint, whose own foreign keys already delete the attempts.

CREATE TABLE deliveries_new (
	id               TEXT PRIMARY KEY,
	app_id           TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	msg_id           TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	endpoint_id      TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
	status           INTEGER NOT NULL,
	attempt_count    INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER,
	lease_owner      TEXT,
	leased_until     INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	trigger_type     INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

INSERT INTO deliveries_new (id, app_id, msg_id, endpoint_id, status, attempt_count, next_attempt_at,
	lease_owner, leased_until, created_at, updated_at, trigger_type)
SELECT id, app_id, msg_id, endpoint_id, status, attempt_count, next_attempt_at,
	lease_owner, leased_until, created_at, updated_at, trigger_type FROM deliveries;

CREATE TABLE attempts_new (
	id                    TEXT PRIMARY KEY,
	app_id                TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	msg_id                TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	endpoint_id           TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
	delivery_id           TEXT NOT NULL,
	url                   TEXT NOT NULL,
	request_headers       TEXT NOT NULL DEFAULT 'null',
	response_status_code  INTEGER NOT NULL DEFAULT 0,
	response              TEXT NOT NULL DEFAULT '',
	response_duration_ms  INTEGER NOT NULL DEFAULT 0,
	trigger_type          INTEGER NOT NULL DEFAULT 0,
	status                INTEGER NOT NULL,
	created_at            INTEGER NOT NULL
) STRICT;

INSERT INTO attempts_new SELECT id, app_id, msg_id, endpoint_id, delivery_id, url, request_headers,
	response_status_code, response, response_duration_ms, trigger_type, status, created_at FROM attempts;

DROP TABLE attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE attempts_new RENAME TO attempts;

CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 1;
CREATE INDEX deliveries_leased ON deliveries (leased_until) WHERE status = 3;
CREATE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);
CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint_id, id);

CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_app ON attempts (app_id, id);
