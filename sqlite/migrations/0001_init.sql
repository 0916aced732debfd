-- Hookline's SQLite schema. Times are INTEGER unix microseconds UTC; ids are sortable
-- strings, so ORDER BY id is creation order. JSON columns are TEXT written by the store.

CREATE TABLE applications (
	id          TEXT PRIMARY KEY,
	uid         TEXT UNIQUE,          -- NULL when the platform gave none
	name        TEXT NOT NULL,
	rate_limit  INTEGER,
	metadata    TEXT NOT NULL DEFAULT 'null',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE event_types (
	name          TEXT PRIMARY KEY,
	description   TEXT NOT NULL DEFAULT '',
	archived      INTEGER NOT NULL DEFAULT 0,
	deprecated    INTEGER NOT NULL DEFAULT 0,
	feature_flag  TEXT NOT NULL DEFAULT '',
	group_name    TEXT NOT NULL DEFAULT '',
	schemas       TEXT NOT NULL DEFAULT 'null', -- {"version": schema}, schemas kept byte-for-byte
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoints (
	id                  TEXT PRIMARY KEY,
	app_id              TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	uid                 TEXT,
	url                 TEXT NOT NULL,
	description         TEXT NOT NULL DEFAULT '',
	version             INTEGER NOT NULL DEFAULT 1,
	disabled            INTEGER NOT NULL DEFAULT 0,
	filter_types        TEXT NOT NULL DEFAULT 'null',
	channels            TEXT NOT NULL DEFAULT 'null',
	rate_limit          INTEGER,
	metadata            TEXT NOT NULL DEFAULT 'null',
	headers             TEXT NOT NULL DEFAULT 'null',
	secret_sealed       TEXT NOT NULL,                -- SecretBox.Seal of the signing secret
	old_secrets_sealed  TEXT NOT NULL DEFAULT '[]',   -- [{"sealed": ..., "expiresAt": micros}]
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX endpoints_app_uid ON endpoints (app_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX endpoints_app_id ON endpoints (app_id, id);

CREATE TABLE messages (
	id          TEXT PRIMARY KEY,
	app_id      TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	event_type  TEXT NOT NULL,
	event_id    TEXT,
	payload     BLOB NOT NULL,                 -- exactly as received, never re-serialised
	channels    TEXT NOT NULL DEFAULT 'null',
	tags        TEXT NOT NULL DEFAULT 'null',
	created_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX messages_app_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX messages_app_id ON messages (app_id, id);
CREATE INDEX messages_created_at ON messages (created_at);

-- deliveries are Svix's "message destinations": one message on its way to one endpoint,
-- with the retry state the delivery engine claims (lease_owner, leased_until).
CREATE TABLE deliveries (
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
	updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, status);

CREATE TABLE attempts (
	id                    TEXT PRIMARY KEY,
	app_id                TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	msg_id                TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	endpoint_id           TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
	delivery_id           TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
	url                   TEXT NOT NULL,
	request_headers       TEXT NOT NULL DEFAULT 'null',
	response_status_code  INTEGER NOT NULL DEFAULT 0,
	response              TEXT NOT NULL DEFAULT '',
	response_duration_ms  INTEGER NOT NULL DEFAULT 0,
	trigger_type          INTEGER NOT NULL DEFAULT 0,
	status                INTEGER NOT NULL,
	created_at            INTEGER NOT NULL
) STRICT;

CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_delivery ON attempts (delivery_id);

CREATE TABLE tokens (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	app_id      TEXT REFERENCES applications (id) ON DELETE CASCADE, -- NULL for operator tokens
	hash        BLOB NOT NULL UNIQUE,
	prefix      TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER,
	revoked_at  INTEGER
) STRICT;

CREATE INDEX tokens_app ON tokens (app_id, id);

CREATE TABLE idempotency_keys (
	scope         TEXT NOT NULL,
	key           TEXT NOT NULL,
	request_hash  TEXT NOT NULL,
	completed     INTEGER NOT NULL DEFAULT 0,
	status_code   INTEGER NOT NULL DEFAULT 0,
	body          BLOB,
	created_at    INTEGER NOT NULL,
	PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
