-- Hookline's PostgreSQL schema: the same tables, columns and meaning as SQLite's 0001 and 0002,
-- so both stores behave identically. Times are BIGINT unix microseconds UTC, as in SQLite.
-- Ids are sortable strings compared bytewise (COLLATE "C"): ORDER BY id is creation order
-- whatever the database's default collation. Payloads, schemas and response bodies are kept
-- byte for byte (BYTEA or TEXT, never JSONB, which would reorder keys and drop whitespace);
-- JSONB holds only the values the store filters on or that it writes itself from Go maps.

CREATE TABLE applications (
	id          TEXT COLLATE "C" PRIMARY KEY,
	uid         TEXT COLLATE "C" UNIQUE,   -- NULL when the platform gave none
	name        TEXT NOT NULL,
	rate_limit  INTEGER,
	metadata    JSONB NOT NULL DEFAULT 'null',
	internal    BOOLEAN NOT NULL DEFAULT false,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

CREATE TABLE event_types (
	name          TEXT COLLATE "C" PRIMARY KEY,
	description   TEXT NOT NULL DEFAULT '',
	archived      BOOLEAN NOT NULL DEFAULT false,
	deprecated    BOOLEAN NOT NULL DEFAULT false,
	feature_flag  TEXT NOT NULL DEFAULT '',
	group_name    TEXT NOT NULL DEFAULT '',
	schemas       TEXT NOT NULL DEFAULT 'null', -- {"version": schema}, schemas kept byte for byte
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

CREATE TABLE endpoints (
	id                  TEXT COLLATE "C" PRIMARY KEY,
	app_id              TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	uid                 TEXT COLLATE "C",
	url                 TEXT NOT NULL,
	description         TEXT NOT NULL DEFAULT '',
	version             INTEGER NOT NULL DEFAULT 1,
	disabled            BOOLEAN NOT NULL DEFAULT false,
	disabled_reason     TEXT,                           -- NULL while enabled
	filter_types        JSONB NOT NULL DEFAULT 'null',
	channels            JSONB NOT NULL DEFAULT 'null',
	rate_limit          INTEGER,
	metadata            JSONB NOT NULL DEFAULT 'null',
	headers             JSONB NOT NULL DEFAULT 'null',
	secret_sealed       TEXT NOT NULL,                  -- SecretBox.Seal of the signing secret
	old_secrets_sealed  TEXT NOT NULL DEFAULT '[]',     -- [{"sealed": ..., "expiresAt": micros}]
	-- Health, maintained by RecordAttempts.
	failure_streak      INTEGER NOT NULL DEFAULT 0,
	failing_since       BIGINT,                         -- first failure of the streak
	last_attempt_at     BIGINT,
	last_event_type     TEXT,
	last_status         INTEGER,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL
);

CREATE UNIQUE INDEX endpoints_app_uid ON endpoints (app_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX endpoints_app_id ON endpoints (app_id, id);

CREATE TABLE messages (
	id          TEXT COLLATE "C" PRIMARY KEY,
	app_id      TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	event_type  TEXT COLLATE "C" NOT NULL,
	event_id    TEXT COLLATE "C",
	payload     BYTEA NOT NULL,                -- exactly as received, never re-serialised
	channels    JSONB NOT NULL DEFAULT 'null',
	tags        JSONB NOT NULL DEFAULT 'null',
	created_at  BIGINT NOT NULL
);

-- The eventId idempotency rule: concurrent duplicates from several processes meet here.
CREATE UNIQUE INDEX messages_app_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX messages_app_id ON messages (app_id, id);
-- Purge walks messages in (created_at, id) order.
CREATE INDEX messages_created_at ON messages (created_at, id);

-- deliveries are Svix's "message destinations": one message on its way to one endpoint,
-- with the retry state the delivery engine claims (lease_owner, leased_until).
CREATE TABLE deliveries (
	id               TEXT COLLATE "C" PRIMARY KEY,
	app_id           TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	msg_id           TEXT COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	endpoint_id      TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
	status           INTEGER NOT NULL,
	attempt_count    INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  BIGINT,
	trigger_type     INTEGER NOT NULL DEFAULT 0,   -- 1 (manual) after a resend or recover
	lease_owner      TEXT,
	leased_until     BIGINT,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);

-- One delivery per message and endpoint; a resend from two processes at once updates it.
CREATE UNIQUE INDEX deliveries_msg ON deliveries (msg_id, endpoint_id);
-- The claim's two branches, and NextDueAt: partial, so finished deliveries (nearly all rows)
-- are not in them.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 1;
CREATE INDEX deliveries_lease ON deliveries (leased_until) WHERE status = 3;
-- An endpoint's messages, paginated by delivery id; its stats; its failed deliveries (recover).
CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, status);

CREATE TABLE attempts (
	id                    TEXT COLLATE "C" PRIMARY KEY,
	app_id                TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	msg_id                TEXT COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	endpoint_id           TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
	delivery_id           TEXT COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
	url                   TEXT NOT NULL,
	request_headers       TEXT NOT NULL DEFAULT 'null',
	response_status_code  INTEGER NOT NULL DEFAULT 0,
	response              BYTEA NOT NULL DEFAULT '',    -- whatever the receiver sent, valid UTF-8 or not
	response_duration_ms  BIGINT NOT NULL DEFAULT 0,
	trigger_type          INTEGER NOT NULL DEFAULT 0,
	status                INTEGER NOT NULL,
	created_at            BIGINT NOT NULL
);

CREATE INDEX attempts_app ON attempts (app_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
CREATE INDEX attempts_msg ON attempts (msg_id, id);
CREATE INDEX attempts_delivery ON attempts (delivery_id);

CREATE TABLE tokens (
	id          TEXT COLLATE "C" PRIMARY KEY,
	name        TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	app_id      TEXT COLLATE "C" REFERENCES applications (id) ON DELETE CASCADE, -- NULL for operator tokens
	hash        BYTEA NOT NULL UNIQUE,
	prefix      TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT,
	revoked_at  BIGINT
);

CREATE INDEX tokens_app ON tokens (app_id, id);

CREATE TABLE idempotency_keys (
	scope         TEXT COLLATE "C" NOT NULL,
	key           TEXT COLLATE "C" NOT NULL,
	request_hash  TEXT NOT NULL,
	completed     BOOLEAN NOT NULL DEFAULT false,
	status_code   INTEGER NOT NULL DEFAULT 0,
	body          BYTEA,
	created_at    BIGINT NOT NULL,
	PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
