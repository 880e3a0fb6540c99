"""Plain data types of groove and their serde-compatible JSON forms."""
