"""The store's tables, and the statements more than one part of the store uses."""

from __future__ import annotations

from datetime import timedelta

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    at REAL NOT NULL,            -- seconds since the epoch, UTC
    sensor TEXT NOT NULL,
    reading TEXT NOT NULL,
    value REAL NOT NULL,
    clock_trusted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    json TEXT NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL,
    memory TEXT,                 -- JSON: what the alert policy remembers of its episode
    upstream TEXT NOT NULL DEFAULT ''  -- '': the care team's broker; else the recipient's own
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(sent_at) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS audit (   -- every message that left for the care team, as it left
    at REAL NOT NULL,                -- when the broker acknowledged it
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    broker TEXT NOT NULL DEFAULT ''  -- as the outbox's upstream
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
"""
OUTBOX_ROW = (
    "INSERT OR IGNORE INTO outbox (id, topic, payload, created_at, memory, upstream)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
# Where the audit records an alert that no recipient agreed to: not sent anywhere.
WITHHELD = "(not sent: no recipient agreed to it)"
# An alert, once the broker has it, recorded in the audit as it was sent.
AUDIT_SENT = (
    "INSERT INTO audit (at, topic, payload, broker) SELECT ?, topic, payload, upstream"
    " FROM outbox WHERE id = ?"
)
# A message in the audit that no outbox row records (a status; one sent from memory).
AUDIT_LEFT = "INSERT INTO audit (at, topic, payload, broker) VALUES (?, ?, ?, ?)"
# How much longer than the events the audit of what left is kept: a year.
AUDIT_KEPT = timedelta(days=366)
