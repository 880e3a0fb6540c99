"""Writes a tier the way vibes-groove (seed 001's Rust store) does, with the upstream
CozoDB engine (PyPI ``cozo-embedded`` 0.7.6), never groove's code: run in a subprocess
so that this process's ``cozo_embedded`` is the real one, not groove's mnestic.

    python tests/vibes_writer.py create ENGINE PATH SEED_FILE ROWS_JSON
    python tests/vibes_writer.py append ENGINE PATH ROWS_JSON

``create`` runs seed 001's ``INITIAL_SCHEMA`` (read from the seed text itself) statement
by statement, records schema version 1, and writes the rows; ``append`` only writes rows.
ROWS_JSON maps relation names to lists of rows in the seed's column order.
"""

from __future__ import annotations

import json
import re
import sys
import time

COLUMNS = {
    "learning": "id => scope, category, description, pattern_json, insight, confidence, "
    "created_at, updated_at, source_type, source_json",
    "usage_stats": "learning_id => times_injected, times_helpful, times_ignored, "
    "times_contradicted, last_used, confidence_alpha, confidence_beta",
    "learning_embeddings": "learning_id => embedding",
    "learning_relations": "from_id, relation_type, to_id => weight, created_at",
    "adaptive_params": "param_name => value, uncertainty, observations, prior_alpha, "
    "prior_beta, updated_at",
}


def initial_schema(seed_text: str) -> list[str]:
    """The statements of seed 001's ``INITIAL_SCHEMA`` (migration 1), comments dropped."""
    body = re.search(r'pub const INITIAL_SCHEMA: &str = r#"(.*?)"#;', seed_text, re.S).group(1)
    statements: list[list[str]] = []
    for line in body.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith((":create", "::")) or not statements:
            statements.append([])
        statements[-1].append(line)
    return ["\n".join(lines) for lines in statements]


def write_rows(client, rows: dict) -> None:
    for relation, values in rows.items():
        if not values:
            continue
        spec = COLUMNS[relation]
        script = f"?[{spec.replace(' =>', ',')}] <- $rows :put {relation} {{{spec}}}"
        client.run(script, {"rows": values})


def main(argv: list[str]) -> None:
    import cozo_embedded
    from pycozo.client import Client

    assert "mnestic" not in cozo_embedded.__file__
    action, engine, path = argv[:3]
    client = Client(engine, path, dataframe=False)
    if action == "create":
        seed_file, rows_file = argv[3:5]
        with open(seed_file) as fh:
            for statement in initial_schema(fh.read()):
                client.run(statement)
        client.run(
            "?[version, applied_at, description] <- [[1, $at, 'Initial schema']] "
            ":put schema_version {version => applied_at, description}",
            {"at": int(time.time())},
        )
    else:
        rows_file = argv[3]
    with open(rows_file) as fh:
        write_rows(client, json.load(fh))
    client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
