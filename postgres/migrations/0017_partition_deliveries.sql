-- deliveries becomes range-partitioned by msg_id, with the bounds of the partitions of
-- messages (see postgres/partition.go): retention drops a day of messages and the deliveries of
-- those messages together, where it deleted the deliveries row by row. The conversion is the
-- migration's Go step (postgres.(*DB).deliveriesPartitionStep), as in 0016: the old table
-- becomes deliveries_legacy, the partition of the deliveries of every message below the end of
-- the current interval. The primary key becomes (id, msg_id), since a primary key must hold
-- the partition key (the one index the step builds); (msg_id, endpoint_id) stays unique.
SELECT 1;
