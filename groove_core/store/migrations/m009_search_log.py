"""Version 9 (groove's own): the change log that feeds groove's derived search indexes.

``search_log`` is a monotonic sequence of learning writes: every write of a learning's
text or embedding, and every deletion, appends one row ``{seq => ids, at}`` naming the
learnings it touched, in the SAME transaction as the write (see
:mod:`groove_core.store.changelog`). ``search_head`` holds the last ``seq`` and the
tier's identity (a random UUID), so a persisted index file can tell which tier and which
point of the log it covers. Cozo stays the system of record: the log only says what to
re-read. Rolling back drops both relations (the derived indexes are then rebuilt).
"""

VERSION = 9
DESCRIPTION = "groove: change log for derived search indexes"
CONTRACT = False

UP = [
    ":create search_log {seq: Int => ids: [String], at: Int}",
    ":create search_head {k: Int => seq: Int, tier_uid: String}",
    "?[k, seq, tier_uid] := k = 0, seq = 0, tier_uid = to_string(rand_uuid_v4()) "
    ":put search_head {k => seq, tier_uid}",
]

DOWN = ["::remove search_head", "::remove search_log"]


def up(db):
    """Statements creating the log and its head row."""
    return UP


def down(db):
    """Statements removing the log and its head."""
    return DOWN
