"""Version 2: the open-world relations (docs/architecture.md#relations-v2).

The seed puts its HNSW index on the JSON string ``embedding_json``; Cozo's HNSW needs a
vector column, so ``embedding: <F32; 384>?`` sits beside it (docs/architecture.md#data-contract),
null where a writer only filled the JSON.
"""

VERSION = 2
DESCRIPTION = "Open-world relations (fingerprints, clusters, gaps, failures, events)"
CONTRACT = True

BLOCKS = [
    """:create pattern_fingerprint {
    hash: Int =>
    embedding_json: String,
    context_summary: String,
    associated_learning: String?,
    created_at: Int,
    embedding: <F32; 384>? default null
}""",
    """:create anomaly_cluster {
    id: String =>
    centroid_json: String,
    member_count: Int,
    created_at: Int,
    last_seen: Int
}""",
    """:create cluster_member {
    cluster_id: String,
    fingerprint_hash: Int =>
    added_at: Int
}""",
    """:create capability_gap {
    id: String =>
    category: String,
    severity: String,
    status: String,
    context_pattern: String,
    failure_count: Int,
    first_seen: Int,
    last_seen: Int,
    solutions_json: String
}""",
    """:create failure_record {
    id: String =>
    session_id: String,
    failure_type: String,
    context_hash: Int,
    learning_ids_json: String,
    timestamp: Int
}""",
    """:create novelty_event {
    id: String =>
    event_type: String,
    event_data_json: String,
    timestamp: Int
}""",
    """::hnsw create pattern_fingerprint:embedding_idx {
    fields: [embedding],
    dim: 384,
    ef_construction: 50,
    m: 16,
    distance: Cosine
}""",
    "::index create cluster_member:by_hash { fingerprint_hash }",
    "::index create failure_record:by_context { context_hash }",
    "::index create failure_record:by_session { session_id }",
    "::index create novelty_event:by_time { timestamp }",
    "::index create capability_gap:by_status { status }",
]


def up(db):
    """Statements creating the open-world relations."""
    return BLOCKS
