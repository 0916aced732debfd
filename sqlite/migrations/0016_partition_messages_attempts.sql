-- Nothing to do on SQLite: PostgreSQL's migration of this number partitions messages and
-- attempts by time so that retention drops whole partitions; SQLite keeps one table each and
-- its Purge deletes rows, as before.
SELECT 1;
