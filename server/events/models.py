"""The events app keeps no relational model: Idempotency-Key records live in the spool file, in the
transaction that spools their batch (shipping.spool). Migration 0002 moved the old table's rows
there."""
