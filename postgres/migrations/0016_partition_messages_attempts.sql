-- messages and attempts become range-partitioned by id, which begins with the creation time
-- (see postgres/partition.go): retention drops a day (or an hour) of them at once instead of
-- deleting row by row. This file does what must precede the conversion; the conversion itself
-- is the migration's Go step (postgres.(*DB).partitionStep), which needs the clock and the
-- configured partition interval: it renames each table to <table>_legacy, makes a partitioned
-- table of the same columns, indexes and foreign keys (so whatever index set an earlier
-- migration left is carried over), attaches the old table as the partition of every id below
-- the end of the current interval (no row is copied: PostgreSQL reads the table once to check
-- the bound), adds a DEFAULT partition and the partitions ahead.
--
-- A foreign key to a partitioned table blocks dropping its partitions (PostgreSQL checks the
-- referencing table when one is detached), so the keys from deliveries and attempts to
-- messages, and from attempts to deliveries, go: Purge deletes a message's deliveries,
-- attempts and eventId itself. The keys to applications and endpoints stay, and so does their
-- ON DELETE CASCADE.
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_msg_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_msg_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_delivery_id_fkey;

-- A unique index on a partitioned table must contain the partition key, so the eventId rule
-- (one message per application and eventId, whatever its age) moves to a table of its own,
-- which CreateMessage writes in the statement that inserts the message.
CREATE TABLE message_event_ids (
	app_id    TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	event_id  TEXT COLLATE "C" NOT NULL,
	msg_id    TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (app_id, event_id)
);
INSERT INTO message_event_ids (app_id, event_id, msg_id)
	SELECT app_id, event_id, id FROM messages WHERE event_id IS NOT NULL;
DROP INDEX IF EXISTS messages_app_event_id;
