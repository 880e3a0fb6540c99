"""Version 3: the attribution relations (``attribution``, ``learning_value``,
``ablation_experiment``) and their lookup indexes (docs/architecture.md#relations-v1)."""

VERSION = 3
DESCRIPTION = "Attribution relations (records, learning values, ablation experiments)"
CONTRACT = True

BLOCKS = [
    """:create attribution {
    learning_id: String,
    session_id: String =>
    timestamp: Int,
    was_activated: Bool,
    activation_confidence: Float,
    activation_signals_json: String,
    temporal_positive: Float,
    temporal_negative: Float,
    net_temporal: Float,
    was_withheld: Bool,
    session_outcome: Float,
    attributed_value: Float
}""",
    """:create learning_value {
    learning_id: String =>
    estimated_value: Float,
    confidence: Float,
    session_count: Int,
    activation_rate: Float,
    temporal_value: Float,
    temporal_confidence: Float,
    ablation_value: Float?,
    ablation_confidence: Float?,
    status: String,
    updated_at: Int
}""",
    """:create ablation_experiment {
    learning_id: String =>
    started_at: Int,
    sessions_with_json: String,
    sessions_without_json: String,
    marginal_value: Float?,
    confidence: Float?,
    is_significant: Bool?
}""",
    "::index create attribution:by_session { session_id }",
    "::index create attribution:by_time { timestamp }",
]


def up(db):
    """Statements creating the attribution relations."""
    return BLOCKS
