"""Bulk writes: many rows into several relations as ONE Cozo transaction, without
converting each value to a Python object the engine has to parse.

The rows of each relation are written to an Arrow IPC file (pyarrow), copied by mnestic's
``import_columnar_file`` into a staging relation of the same columns, then one chained
program copies every staging relation into its target (with whatever other statements
the write needs: the change log, dropping and re-creating an index) and removes the
staging relations. If that program fails nothing of the write is visible; the staging
relations are removed in any case. At 20,000 embeddings this took 1.2 s against 34 s for
the same rows passed as parameters, at a fraction of the memory (0.3 against 2.2 GB).
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from groove_core.errors import DatabaseError
from groove_core.store.engine import Engine


@dataclass(frozen=True)
class Rows:
    """Rows for one target relation: ``columns`` in order, ``rows`` as lists in that
    order, except a vector column, given whole as a float32 ``(n, dim)`` array in
    ``vectors``."""

    relation: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]] = ()
    vectors: dict[str, np.ndarray] | None = None


def _arrow_type(cozo_type: str) -> pa.DataType:
    base = cozo_type.rstrip("?")
    if base.startswith("<F32;"):
        return pa.list_(pa.float32(), int(base[5:-1]))
    return {"String": pa.string(), "Int": pa.int64(), "Float": pa.float64()}[base]


def _table(spec: list[dict], rows: Rows) -> pa.Table:
    arrays = []
    plain = [c for c in rows.columns if c not in (rows.vectors or {})]
    position = {c: n for n, c in enumerate(plain)}
    for col in spec:
        kind = _arrow_type(col["type"])
        name = col["column"]
        if rows.vectors and name in rows.vectors:
            vecs = np.ascontiguousarray(rows.vectors[name], dtype=np.float32)
            arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), vecs.shape[1]))
        else:
            arrays.append(pa.array([r[position[name]] for r in rows.rows], type=kind))
    return pa.Table.from_arrays(arrays, names=[c["column"] for c in spec])


def _staging(token: str, n: int) -> str:
    # not "_..." : Cozo drops relations named with a leading underscore after each program
    return f"groove_bulk_{token}_{n}"


def _create(name: str, spec: list[dict]) -> str:
    keys = ", ".join(f"{c['column']}: {c['type']}" for c in spec if c["is_key"])
    vals = ", ".join(f"{c['column']}: {c['type']}" for c in spec if not c["is_key"])
    return f":create {name} {{{keys} => {vals}}}" if vals else f":create {name} {{{keys}}}"


def _copy(staged: str, target: str, spec: list[dict]) -> str:
    cols = ", ".join(c["column"] for c in spec)
    keys = ", ".join(c["column"] for c in spec if c["is_key"])
    vals = ", ".join(c["column"] for c in spec if not c["is_key"])
    keyed = f"{keys} => {vals}" if vals else keys
    return f"?[{cols}] := *{staged}{{{cols}}} :put {target} {{{keyed}}}"


def write(
    db: Engine,
    tables: Sequence[Rows],
    *,
    before: Sequence[str] = (),
    between: Sequence[str] = (),
    after: Sequence[str] = (),
    params: dict | None = None,
) -> bool:
    """Write ``tables`` and run ``before`` + the copies + ``between`` + ``after`` as one
    transaction (``params`` bound for those statements). ``between`` runs after the
    copies (e.g. re-creating an index over the copied rows) and ``after`` last.

    Returns False, writing nothing, when the engine has no columnar import (http tiers):
    the caller then writes the rows with parameters.

    Raises:
        DatabaseError: a row does not fit its relation, or the transaction failed.
    """
    token = secrets.token_hex(6)
    specs = {t.relation: db.run(f"::columns {t.relation}", read_only=True).dicts() for t in tables}
    staged: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="groove-bulk-") as folder:
            for n, t in enumerate(tables):
                name = _staging(token, n)
                try:
                    table = _table(specs[t.relation], t)
                except (pa.ArrowException, KeyError, ValueError, TypeError) as err:
                    raise DatabaseError(f"tier '{db.tier}': rows for {t.relation}: {err}") from None
                path = Path(folder) / f"{n}.arrow"
                feather.write_feather(table, path, compression="uncompressed")
                db.run(_create(name, specs[t.relation]))
                staged.append(name)
                if not db.import_columnar(name, path):
                    return False
        copies = [
            _copy(_staging(token, n), t.relation, specs[t.relation]) for n, t in enumerate(tables)
        ]
        db.run_chain([*before, *copies, *between, *after], params or {})
    finally:
        for name in staged:
            with contextlib.suppress(DatabaseError):
                db.run(f"::remove {name}")
    return True
