"""Version 11 (groove's own): the tier records its own kind and name (``tier_info``).

Roles are checked by the tier's kind, which groove took from the name a ``config.toml``
gives the database: an enterprise tier's file declared as ``[tiers."project:/x"]`` was
opened as an owned tier, where the local principal acts as admin, bypassing its roles
and review. From this version the kind is kept in the database, written once by the
migration that creates it (the name the tier was opened under then), and
:class:`groove_core.tiers.Tier` refuses to open an enterprise tier's database under any
other kind. A tier migrated from an older version records the kind it is opened under
at that moment. Rolling back removes the relation.
"""

VERSION = 11
DESCRIPTION = "groove: the tier's kind and name, recorded in it"
CONTRACT = False
#: Only adds a relation of its own: no backup is needed before it.
ADDITIVE = True

UP = [
    ":create tier_info {k: Int => kind: String, name: String}",
    "?[k, kind, name] <- [[0, $tier_kind, $tier_name]] :put tier_info {k => kind, name}",
]
DOWN = ["::remove tier_info"]


def up(db):
    """Create and fill ``tier_info``; a tier that has it keeps what it recorded."""
    return [] if "tier_info" in db.relations() else UP


def down(db):
    """Remove ``tier_info``."""
    return DOWN if "tier_info" in db.relations() else []


def recorded(db) -> tuple[str, str] | None:
    """``(kind, name)`` the tier recorded about itself, or None (before this version)."""
    if "tier_info" not in db.relations():
        return None
    res = db.run("?[kind, name] := *tier_info{k, kind, name}, k = 0", read_only=True)
    return (res.rows[0][0], res.rows[0][1]) if res.rows else None
