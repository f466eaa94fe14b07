"""Alerts leaving the hub: rendered (JSON now), queued in the outbox, published upstream."""
