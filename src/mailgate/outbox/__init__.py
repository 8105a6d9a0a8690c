"""Notification delivery: the outbox, leases, workers, reply classes, retries and failover."""
