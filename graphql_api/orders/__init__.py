"""Orders: checkout, the order state machine and order events."""
