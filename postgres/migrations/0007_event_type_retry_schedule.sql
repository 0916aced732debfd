-- An event type's own retry schedule (Svix's per-event-type retry schedule): a JSON array of
-- the delays before each retry, in nanoseconds; NULL: the installation's default applies.
ALTER TABLE event_types ADD COLUMN retry_schedule TEXT;
