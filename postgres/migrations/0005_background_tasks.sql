-- Background tasks (Svix's QueueBackgroundTask): recover, replay, statistics and the other work
-- that goes on after the request that started it. A running task is held by one runner under a
-- lease (owner, leased_until) that the runner renews while it works; a task whose lease ended
-- is taken up again by the next claim. runs counts the claims, so a task that keeps killing
-- its runner is given up. data is the JSON object clients read; cursor is the runner's
-- bookmark for a run taken up again. The same table as SQLite's migration of the same number:
-- times are unix microseconds, ids compare bytewise.
CREATE TABLE background_tasks (
	id            TEXT COLLATE "C" PRIMARY KEY,
	app_id        TEXT COLLATE "C" REFERENCES applications (id) ON DELETE CASCADE, -- NULL across applications
	kind          TEXT NOT NULL,
	status        TEXT NOT NULL,
	input         TEXT NOT NULL DEFAULT '{}',
	data          TEXT NOT NULL DEFAULT '{}',
	cursor        TEXT NOT NULL DEFAULT '',
	runs          INTEGER NOT NULL DEFAULT 0,
	owner         TEXT,
	leased_until  BIGINT,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

CREATE INDEX background_tasks_app ON background_tasks (app_id, id);
-- The claim: running tasks, by the end of their lease.
CREATE INDEX background_tasks_running ON background_tasks (leased_until) WHERE status = 'running';
