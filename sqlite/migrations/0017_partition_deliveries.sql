-- Nothing to do on SQLite: PostgreSQL's migration of this number partitions deliveries by
-- message, as 0016 did messages and attempts; SQLite keeps one table and deletes rows.
SELECT 1;
