"""Version 1: vibes-groove's ``INITIAL_SCHEMA``, exactly (docs/architecture.md#relations-v1)."""

VERSION = 1
DESCRIPTION = "Initial schema"
CONTRACT = True  # written by other programs too: never rolled back

#: The HNSW index of the initial schema (also used to rebuild it after a bulk load).
SEMANTIC_INDEX = """::hnsw create learning_embeddings:semantic_idx {
    dim: 384,
    m: 16,
    ef_construction: 200,
    fields: [embedding]
}"""

BLOCKS = [
    """:create schema_version {
    version: Int =>
    applied_at: Int,
    description: String
}""",
    """:create learning {
    id: String =>
    scope: String,
    category: String,
    description: String,
    pattern_json: String?,
    insight: String,
    confidence: Float,
    created_at: Int,
    updated_at: Int,
    source_type: String,
    source_json: String
}""",
    """:create usage_stats {
    learning_id: String =>
    times_injected: Int,
    times_helpful: Int,
    times_ignored: Int,
    times_contradicted: Int,
    last_used: Int?,
    confidence_alpha: Float,
    confidence_beta: Float
}""",
    """:create learning_embeddings {
    learning_id: String =>
    embedding: <F32; 384>
}""",
    """:create learning_relations {
    from_id: String,
    relation_type: String,
    to_id: String =>
    weight: Float,
    created_at: Int
}""",
    """:create adaptive_params {
    param_name: String =>
    value: Float,
    uncertainty: Float,
    observations: Int,
    prior_alpha: Float,
    prior_beta: Float,
    updated_at: Int
}""",
    "::index create learning:by_scope { scope }",
    "::index create learning:by_category { category }",
    "::index create learning_relations:by_from { from_id }",
    "::index create learning_relations:by_to { to_id }",
    SEMANTIC_INDEX,
]


def up(db):
    """Statements of the initial schema (the schema_version relation included)."""
    return BLOCKS
