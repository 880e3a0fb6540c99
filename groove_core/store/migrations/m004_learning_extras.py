"""Version 4 (groove's own): edit history, outcome events, embedding cache, the
full-text index over description + insight, and recency indexes for paging."""

VERSION = 4
DESCRIPTION = "groove: edit history, outcome events, embedding cache, full-text index"
CONTRACT = False

UP = [
    """:create learning_edit {
    learning_id: String,
    edit_id: String =>
    at: Int,
    who: String,
    action: String,
    before_json: String?,
    after_json: String?
}""",
    """:create outcome_event {
    learning_id: String,
    event_id: String =>
    at: Int,
    outcome: String,
    session_id: String?
}""",
    """:create embedding_cache {
    content_hash: String =>
    embedding: <F32; 384>
}""",
    """::fts create learning:text_idx {
    extractor: concat(description, ' ', insight),
    tokenizer: Simple,
    filters: [Lowercase, Stemmer('english'), Stopwords('en')]
}""",
    "::index create learning:by_updated { updated_at, id }",
    "::index create learning:by_created { created_at, id }",
    "::index create outcome_event:by_time { at }",
]

DOWN = [
    "::index drop outcome_event:by_time",
    "::index drop learning:by_created",
    "::index drop learning:by_updated",
    "::fts drop learning:text_idx",
    "::remove embedding_cache",
    "::remove outcome_event",
    "::remove learning_edit",
]


def up(db):
    return UP


def down(db):
    return DOWN
