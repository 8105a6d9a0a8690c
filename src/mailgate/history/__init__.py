"""The change history: what changed, who changed it, chained by hash; never a secret."""
