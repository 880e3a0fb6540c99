"""Version 8 (groove's own): roles, the audit log, proposals and content-scan marks.

- ``tier_role``: each principal's role in this tier (reader, contributor, curator, admin);
- ``audit_log``: one entry per write, append-only and hash-chained (``prev_hash`` is the
  ``hash`` of the entry before; ``hash`` covers every other column), with ``audit_head``
  holding the newest entry's sequence number and hash so a writer finds it by key;
- ``proposal``: learning changes filed for review (author, reason, full before/after,
  content-scan findings, the decision and who made it);
- ``learning_scan``: the content-scan findings of a stored learning, and the override
  (who, why) that let it in.

Rolling back keeps these relations (like version 7 keeps its rows): no product path
deletes audit entries, and re-applying the version creates only what is missing.
"""

VERSION = 8
DESCRIPTION = "groove: roles, audit log, proposals, content-scan marks"
CONTRACT = False

RELATIONS = {
    "tier_role": """:create tier_role {
    principal: String =>
    role: String,
    name: String,
    granted_at: Int,
    granted_by: String
}""",
    "audit_log": """:create audit_log {
    seq: Int =>
    at: Int,
    principal: String,
    principal_name: String,
    via: String,
    action: String,
    target: String,
    before_hash: String?,
    after_hash: String?,
    detail: String?,
    prev_hash: String,
    hash: String
}""",
    "audit_head": """:create audit_head {
    k: Int =>
    seq: Int,
    hash: String
}""",
    "proposal": """:create proposal {
    id: String =>
    created_at: Int,
    updated_at: Int,
    author: String,
    author_name: String,
    kind: String,
    learning_ids_json: String,
    reason: String,
    before_json: String?,
    after_json: String?,
    findings_json: String,
    status: String,
    decided_by: String?,
    decision_note: String?,
    override_reason: String?,
    source_json: String?
}""",
    "learning_scan": """:create learning_scan {
    learning_id: String =>
    scanned_at: Int,
    findings_json: String,
    override_by: String?,
    override_reason: String?
}""",
}

INDEXES = {
    "audit_log:by_principal": "::index create audit_log:by_principal { principal, seq }",
    "audit_log:by_time": "::index create audit_log:by_time { at, seq }",
    "audit_log:by_target": "::index create audit_log:by_target { target, seq }",
    "proposal:by_status": "::index create proposal:by_status { status, created_at, id }",
}


def up(db):
    """Create what is missing (all of it on a tier that never had version 8)."""
    have = db.relations()
    return [s for name, s in {**RELATIONS, **INDEXES}.items() if name not in have]


def down(db):
    """Nothing is removed (see the module docstring)."""
    return []
