"""Version 7 (groove's own): every learning has a ``usage_stats`` row.

groove and vibes-groove's ``store()`` write a default row with every learning; a tier written
otherwise may lack some. Filling them in (default counts, the uniform Beta(1, 1) prior)
lets the usage order of a page be an inner join that reads the narrow index instead of
a negation over every learning (at 100,000 learnings: 0.6 s against 1.5 s). Rolling back
keeps the rows: they are valid defaults, and version 6 reads them as any other.
"""

VERSION = 7
DESCRIPTION = "groove: a usage_stats row for every learning"
CONTRACT = False

UP = [
    "?[learning_id, times_injected, times_helpful, times_ignored, times_contradicted, "
    "last_used, confidence_alpha, confidence_beta] := *learning{id: learning_id}, "
    "not *usage_stats{learning_id}, times_injected = 0, times_helpful = 0, "
    "times_ignored = 0, times_contradicted = 0, last_used = null, confidence_alpha = 1.0, "
    "confidence_beta = 1.0 :put usage_stats {learning_id => times_injected, times_helpful, "
    "times_ignored, times_contradicted, last_used, confidence_alpha, confidence_beta}",
]


def up(db):
    """The statement filling in missing usage rows."""
    return UP


def down(db):
    """Nothing to undo (see the module docstring)."""
    return []
