"""mailgate.v1.DeliveryService: request messages in, outbox calls, response messages out."""
