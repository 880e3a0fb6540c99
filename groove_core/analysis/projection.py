"""2-D UMAP projection of fingerprint embeddings, cached on disk, and plot sampling.

Pure analysis: arrays and data frames in, data frames out; no database access.

The embeddings are all-MiniLM-L6-v2 vectors, float32 arrays of shape ``(n, 384)``.
UMAP runs with ``metric="cosine"`` and ``n_components=2``; umap-learn compiles its numba
kernels on first use (30-60 s on these machines), so a fitted projection is kept on disk
by :class:`ProjectionCache` and reused:

* the exact same set of fingerprints (same ids, same vectors) -> the stored coordinates,
  nothing is computed;
* a superset of a set fitted by this same :class:`ProjectionCache` object (its fitted
  model is still in memory), where the points that model was *not* fitted on make up at
  most :data:`TRANSFORM_MAX_FRACTION` of the new set -> the old coordinates are kept and
  only the new points are placed with ``UMAP.transform`` (umap-learn's documented way to
  embed new data into an existing embedding without refitting);
* anything else -> a fresh fit.

Only coordinates go to disk, never the fitted model: pickling a UMAP model (its graph and
nearest-neighbour index) cost 55 s of a 10,000-point first projection whose fit took 9 s.
So a model lives only as long as the process that fitted it (the dashboard server), and a
superset seen after a restart is fitted again.

Counting *all* points the model was not fitted on (not only the ones new in this call)
bounds the drift: a chain of small additions cannot grow into a picture made mostly of
transformed points; once it would, the set is refitted.

Tiny inputs: UMAP needs at least three points (its spectral initialisation needs more,
so below :data:`SPECTRAL_MIN_N` points it starts from a random layout, seeded). For
``n < 3`` the points are placed deterministically without UMAP: one point sits at
``(0, 0)``; two points sit at ``(-d/2, 0)`` and ``(d/2, 0)`` in sorted-id order, ``d``
being their cosine distance. ``n_neighbors`` is clamped to ``n - 1``.

Progress is reported with groove's one protocol, :class:`groove_core.progress.Progress`
(``done`` is the fraction of the whole projection, ``total`` is 1), to a
:data:`~groove_core.progress.ProgressFn`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from cachetools import LRUCache

from groove_core.embed import DIM
from groove_core.errors import ValidationError
from groove_core.progress import Progress, ProgressFn

__all__ = [
    "EMBEDDING_DIM",
    "SPECTRAL_MIN_N",
    "TRANSFORM_MAX_FRACTION",
    "CachedProjection",
    "Projection",
    "ProjectionCache",
    "cached_projection",
    "project_in",
    "SampleInfo",
    "project",
    "projection_key",
    "sample_for_plot",
    "validate_embeddings",
]

EMBEDDING_DIM = DIM  # docs/architecture.md#vocabulary
"""Width of an all-MiniLM-L6-v2 embedding."""

TRANSFORM_MAX_FRACTION = 0.2
"""Largest share of a set that may be placed by ``transform`` instead of a fit."""

SPECTRAL_MIN_N = 10
"""Below this many points UMAP starts from a seeded random layout, not a spectral one."""

STAGE_LOADING = "loading cache"
STAGE_FITTING = "fitting UMAP on {n:,} points"
STAGE_PLACING = "placing new points"
STAGE_SAVING = "saving cache"
STAGE_DONE = "done"

_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_FORMAT_VERSION = 2  # 1 kept a pickled model beside the coordinates


# --------------------------------------------------------------------------- validation


def validate_embeddings(
    ids: Sequence[str], embeddings: np.ndarray, *, allow_empty: bool = True
) -> tuple[list[str], np.ndarray]:
    """Check ids and embeddings; return the ids as a list and the vectors as float32.

    Raises :class:`ValidationError` when the array is not 2-D with
    :data:`EMBEDDING_DIM` columns, holds NaN/inf or all-zero rows, when ``ids`` is not
    a sequence of distinct non-empty strings, or when the counts differ.
    """
    if isinstance(ids, str | bytes):
        raise ValidationError("ids must be a sequence of strings, not a single string")
    try:
        id_list = list(ids)
    except TypeError as exc:
        raise ValidationError(f"ids must be a sequence of strings: {exc}") from None
    bad = [i for i in id_list if not isinstance(i, str) or not i]
    if bad:
        raise ValidationError(f"every id must be a non-empty string; got {bad[0]!r}")
    if len(set(id_list)) != len(id_list):
        seen: set[str] = set()
        dup = next(i for i in id_list if i in seen or seen.add(i))
        raise ValidationError(f"ids must be distinct; {dup!r} appears more than once")
    try:
        arr = np.asarray(embeddings)
    except Exception as exc:  # ragged lists and the like
        raise ValidationError(f"embeddings are not an array: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != EMBEDDING_DIM:
        raise ValidationError(
            f"embeddings must have shape (n, {EMBEDDING_DIM}); got {tuple(arr.shape)}"
        )
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ValidationError(f"embeddings must be real numbers; got dtype {arr.dtype}")
    if arr.shape[0] != len(id_list):
        raise ValidationError(
            f"{len(id_list)} ids but {arr.shape[0]} embedding rows; they must match"
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise ValidationError("no embeddings given")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise ValidationError(
            f"embeddings hold NaN or infinite values (first at id {id_list[rows[0]]!r})"
        )
    zero = np.flatnonzero(~arr.any(axis=1))
    if zero.size:
        raise ValidationError(
            f"embedding of id {id_list[zero[0]]!r} is all zeros; it has no direction"
        )
    return id_list, arr


def projection_key(ids: Sequence[str], embeddings: np.ndarray) -> str:
    """Identity of a set of fingerprints: sha256 over the sorted (id, vector bytes) pairs.

    Independent of row order; changes when any id or any vector (as float32) changes.
    """
    id_list, arr = validate_embeddings(ids, embeddings)
    h = hashlib.sha256()
    h.update(f"groove-projection-v1:{EMBEDDING_DIM}:".encode())
    for i in sorted(range(len(id_list)), key=id_list.__getitem__):
        raw = id_list[i].encode("utf-8")
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)
        h.update(arr[i].astype("<f4", copy=False).tobytes())
    return h.hexdigest()


def _row_digests(arr: np.ndarray) -> list[str]:
    """A short digest per vector, to check that a cached id still has the same vector."""
    little = arr.astype("<f4", copy=False)
    return [hashlib.blake2b(row.tobytes(), digest_size=12).hexdigest() for row in little]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Projection:
    """Where each fingerprint lands in 2-D.

    Attributes:
        frame: columns ``id``, ``x``, ``y``, one row per input id, in input order.
        key: :func:`projection_key` of the set.
        n_fitted: points whose coordinates come from the UMAP fit.
        n_transformed: points placed by ``UMAP.transform`` into an earlier fit (in this
            call or in the calls that built the cached projection). For ``n >= 3``,
            ``n_fitted + n_transformed == n``; for ``n < 3`` both are 0.
        from_cache: True when nothing was computed (exact set found in the cache).
        method: ``"umap"`` (fresh fit), ``"transform"`` (old fit + new points placed),
            ``"cache"`` or ``"trivial"`` (``n < 3``, no UMAP).
    """

    frame: pd.DataFrame
    key: str
    n_fitted: int
    n_transformed: int
    from_cache: bool
    method: str = "umap"


@dataclass(frozen=True)
class CachedProjection:
    """One cache entry: the coordinates, the metadata, and the fitted model when this
    process fitted it (``None`` otherwise: models are never read from disk)."""

    frame: pd.DataFrame
    model: Any
    meta: dict[str, Any]
    row_digests: dict[str, str]


@dataclass(frozen=True)
class SampleInfo:
    """What :func:`sample_for_plot` did, for the page to say out loud."""

    total: int
    shown: int
    method: str
    description: str


# --------------------------------------------------------------------------- cache


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


class ProjectionCache:
    """Projections on disk, keyed by :func:`projection_key`, and the models this object
    fitted, in memory.

    Each entry is two files: ``<key>.npz`` (ids, coordinates and per-id vector digests,
    plain arrays read with ``allow_pickle=False``) and ``<key>.json`` (small metadata:
    ``n``, ``created_at``, ``last_used_at``, the UMAP parameters, ``ids`` and
    ``fitted_ids``). Files are written atomically (temporary file + rename) and the JSON
    last, so a reader in another process sees a whole entry or none. An entry that cannot
    be read counts as a miss. The fitted models given to :meth:`put` stay in memory only
    (the ``keep_models`` most recent), for ``transform`` of later supersets.

    Args:
        directory: where the entries live (created if missing).
        keep_models: fitted models kept in memory (0: none, so every superset is refitted).
    """

    def __init__(self, directory: Path | str, keep_models: int = 2):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep_models = keep_models
        self._models: LRUCache[str, Any] = LRUCache(maxsize=max(keep_models, 1))

    # paths -------------------------------------------------------------------------
    def _paths(self, key: str) -> tuple[Path, Path]:
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ValidationError(f"not a projection key: {key!r}")
        return self.directory / f"{key}.npz", self.directory / f"{key}.json"

    # reading -----------------------------------------------------------------------
    def metadata(self, key: str) -> dict[str, Any] | None:
        """The metadata of an entry, without reading its coordinates; ``None`` if absent."""
        _, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT_VERSION:
            return None
        return meta

    def entries(self) -> list[dict[str, Any]]:
        """Metadata of every readable entry, most recently used first."""
        out = []
        for meta_path in self.directory.glob("*.json"):
            key = meta_path.stem
            if not _KEY_RE.match(key):
                continue
            meta = self.metadata(key)
            if meta is not None and (self.directory / f"{key}.npz").exists():
                out.append(meta)
        out.sort(key=lambda m: (m.get("last_used_at", 0), m.get("created_at", 0)), reverse=True)
        return out

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(_KEY_RE.match(key)) and self.metadata(key) is not None

    def get(self, key: str) -> CachedProjection | None:
        """Load an entry (coordinates, metadata, the model if this object fitted it), or
        ``None`` when absent or unreadable."""
        data_path, meta_path = self._paths(key)
        meta = self.metadata(key)
        if meta is None:
            return None
        try:
            with np.load(data_path, allow_pickle=False) as data:
                frame = _frame(data["ids"].tolist(), data["xy"])
                digests = dict(zip(data["ids"].tolist(), data["digests"].tolist(), strict=True))
        except (OSError, ValueError, KeyError):  # missing, truncated, not ours
            return None
        meta["last_used_at"] = time.time()
        with contextlib.suppress(OSError):
            _atomic_write(meta_path, lambda p: p.write_text(json.dumps(meta), encoding="utf-8"))
        model = self._models.get(key)  # a hit counts as a use
        return CachedProjection(frame=frame, model=model, meta=meta, row_digests=digests)

    # writing -----------------------------------------------------------------------
    def put(
        self,
        key: str,
        result: Projection | pd.DataFrame,
        model: Any,
        *,
        params: dict[str, Any] | None = None,
        fitted_ids: Sequence[str] | None = None,
        row_digests: dict[str, str] | None = None,
    ) -> None:
        """Store a projection's coordinates under ``key``; keep ``model`` (the UMAP model
        that produced it, or None) in memory only.

        ``fitted_ids`` are the ids the model was fitted on (all ids by default);
        ``row_digests`` maps ids to vector digests (used to check that a cached id still
        has the same vector before reusing its coordinates).

        Raises:
            ValidationError: ``key`` is not a projection key or the frame lacks id, x, y.
            OSError: the directory cannot be written.
        """
        data_path, meta_path = self._paths(key)
        frame = result.frame if isinstance(result, Projection) else result
        if not {"id", "x", "y"} <= set(frame.columns):
            raise ValidationError("a projection frame needs the columns id, x, y")
        frame = _tidy(frame)
        ids = frame["id"].tolist()
        fitted = list(fitted_ids) if fitted_ids is not None else ids
        digests = dict(row_digests or {})
        now = time.time()
        meta = {
            "format": _FORMAT_VERSION,
            "key": key,
            "n": len(ids),
            "n_fitted": len(fitted),
            "created_at": now,
            "last_used_at": now,
            "umap_params": dict(params or {}),
            "ids": ids,
            "fitted_ids": fitted,
        }
        arrays = {
            "ids": np.array(ids, dtype=str),
            "xy": frame[["x", "y"]].to_numpy(np.float64),
            "digests": np.array([digests.get(i, "") for i in ids], dtype=str),
        }

        def write_arrays(path: Path) -> None:
            with path.open("wb") as fh:
                np.savez(fh, **arrays)

        _atomic_write(data_path, write_arrays)
        _atomic_write(meta_path, lambda p: p.write_text(json.dumps(meta), encoding="utf-8"))
        if model is not None and self.keep_models > 0:
            self._models[key] = model  # the least recently used model is dropped

    def remove(self, key: str) -> None:
        """Delete one entry (no error when it is absent)."""
        self._models.pop(key, None)
        for path in self._paths(key)[::-1]:  # metadata first: the entry vanishes at once
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def prune(self, keep: int = 5) -> list[str]:
        """Keep the ``keep`` most recently used entries; delete the rest and stray files
        (half-written or orphaned coordinates, models pickled by earlier versions).

        Returns the deleted keys.
        """
        if keep < 0:
            raise ValidationError("keep must be >= 0")
        entries = self.entries()
        removed = [m["key"] for m in entries[keep:]]
        for key in removed:
            self.remove(key)
        live = {m["key"] for m in entries[:keep]}
        for path in self.directory.iterdir():  # half-written, orphaned or older formats
            stray = path.suffix in (".npz", ".json", ".joblib") and path.stem not in live
            if stray and _KEY_RE.match(path.stem):
                with contextlib.suppress(OSError):
                    path.unlink()
                    if path.stem not in removed:
                        removed.append(path.stem)
        return removed


# --------------------------------------------------------------------------- projection


def _report(progress: ProgressFn | None, stage: str, fraction: float, message: str = "") -> None:
    if progress is not None:
        progress(Progress(stage, float(min(max(fraction, 0.0), 1.0)), 1, message))


def _frame(ids: Sequence[str], xy: np.ndarray) -> pd.DataFrame:
    return _tidy(pd.DataFrame({"id": list(ids), "x": xy[:, 0], "y": xy[:, 1]}))


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns id (pandas' string dtype), x, y (float64), a fresh 0..n-1 index."""
    out = frame[["id", "x", "y"]].reset_index(drop=True)
    return out.astype({"id": str, "x": np.float64, "y": np.float64})


def _trivial_layout(ids: list[str], arr: np.ndarray) -> np.ndarray:
    xy = np.zeros((len(ids), 2), dtype=np.float64)
    if len(ids) == 2:
        a, b = arr[0].astype(np.float64), arr[1].astype(np.float64)
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        half = (1.0 - min(max(cos, -1.0), 1.0)) / 2.0
        first = 0 if ids[0] < ids[1] else 1
        xy[first, 0], xy[1 - first, 0] = -half, half
    return xy


class _EpochReport(io.TextIOBase):
    """The file umap-learn's epoch bar (tqdm, ``bar_format="{n}/{total}"``) writes to:
    each ``n/total`` becomes a :class:`Progress` at ``0.1 + 0.8 * n / total``."""

    def __init__(self, progress: ProgressFn, stage: str):
        self._progress = progress
        self._stage = stage

    def write(self, text: str) -> int:
        m = _EPOCH_RE.search(text)
        if m and int(m.group(2)):
            done, total = int(m.group(1)), int(m.group(2))
            message = f"optimising the layout, epoch {done}/{total}"
            _report(self._progress, self._stage, 0.1 + 0.8 * done / total, message)
        return len(text)


_EPOCH_RE = re.compile(r"(\d+)/(\d+)")


def _make_umap(n: int, params: dict[str, Any], progress: ProgressFn | None = None):
    import umap  # heavy import (numba): only when a fit is needed

    # umap-learn shows its epochs with tqdm when asked through ``tqdm_kwds``
    stage = STAGE_FITTING.format(n=n)
    tqdm_kwds = (
        {"disable": False, "file": _EpochReport(progress, stage), "bar_format": "{n}/{total}\n"}
        if progress is not None
        else {"disable": True}
    )
    return umap.UMAP(
        n_components=2,
        n_neighbors=params["n_neighbors"],
        min_dist=params["min_dist"],
        metric="cosine",
        random_state=params["random_state"],
        # A fixed seed makes umap-learn single-threaded anyway; say so to avoid its warning.
        n_jobs=1 if params["random_state"] is not None else -1,
        init="spectral" if n >= SPECTRAL_MIN_N else "random",
        tqdm_kwds=tqdm_kwds,
    )


def _find_base(
    cache: ProjectionCache,
    id_list: list[str],
    digests: dict[str, str],
    params: dict[str, Any],
) -> CachedProjection | None:
    """The largest cached strict subset whose model is in memory and that may grow by
    transform, loaded; else None."""
    wanted = set(id_list)
    n = len(id_list)
    candidates = []
    for key in list(cache._models):
        meta = cache.metadata(key)
        if meta is None:
            continue
        ids = meta.get("ids") or []
        fitted = meta.get("fitted_ids") or []
        if not (0 < len(ids) < n) or meta.get("umap_params") != params:
            continue
        if not wanted.issuperset(ids) or not set(fitted) <= set(ids):
            continue
        # Points not fitted by that model (old transformed ones + the new ones).
        if n - len(fitted) > TRANSFORM_MAX_FRACTION * n:
            continue
        candidates.append(meta)
    candidates.sort(key=lambda m: (len(m["ids"]), m.get("last_used_at", 0)), reverse=True)
    for meta in candidates:
        entry = cache.get(meta["key"])
        if entry is None or entry.model is None:
            continue
        if any(entry.row_digests.get(i) != digests[i] for i in meta["ids"]):
            continue  # an id kept its name but changed its vector: not reusable
        return entry
    return None


def _umap_params(
    n: int, n_neighbors: int, min_dist: float, random_state: int | None
) -> dict[str, Any]:
    """The checked UMAP parameters of a projection of ``n`` points (the cache compares them)."""
    if not isinstance(n_neighbors, int | np.integer) or n_neighbors < 2:
        raise ValidationError(f"n_neighbors must be an integer >= 2; got {n_neighbors!r}")
    if not (
        isinstance(min_dist, int | float) and float(min_dist) >= 0.0 and math.isfinite(min_dist)
    ):
        raise ValidationError(f"min_dist must be a finite number >= 0; got {min_dist!r}")
    return {
        "n_neighbors": int(min(n_neighbors, max(n - 1, 2))),
        "min_dist": float(min_dist),
        "random_state": None if random_state is None else int(random_state),
        "metric": "cosine",
        "n_components": 2,
    }


def _cached(
    cache: ProjectionCache, key: str, id_list: list[str], params: dict[str, Any]
) -> Projection | None:
    """The cached projection of exactly this set with these parameters, in input order."""
    meta = cache.metadata(key)
    if meta is None or meta.get("umap_params") != params:
        return None
    entry = cache.get(key)
    if entry is None or set(entry.frame["id"]) != set(id_list):
        return None
    frame = _tidy(entry.frame.set_index("id").loc[id_list].reset_index())
    n, n_fit = len(id_list), int(entry.meta.get("n_fitted", len(id_list)))
    return Projection(frame, key, n_fit, n - n_fit, True, "cache")


def cached_projection(
    ids: Sequence[str],
    embeddings: np.ndarray,
    *,
    cache: ProjectionCache,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    random_state: int | None = 42,
) -> Projection | None:
    """What :func:`project` would return without computing anything: the projection of
    this exact set with these parameters from ``cache`` (``method="cache"``), the trivial
    layout for fewer than three points, else None (a fit or a transform is needed).

    Raises:
        ValidationError: bad ids, embeddings or parameters.
    """
    id_list, arr = validate_embeddings(ids, embeddings)
    if len(id_list) < 3:
        return project(id_list, arr, cache=None)
    params = _umap_params(len(id_list), n_neighbors, min_dist, random_state)
    return _cached(cache, projection_key(id_list, arr), id_list, params)


_CACHES: dict[Path, ProjectionCache] = {}


def project_in(directory: Path | str, ids: Sequence[str], embeddings: np.ndarray, **kwargs):
    """:func:`project` with this process's :class:`ProjectionCache` of ``directory``, so
    the models it fitted stay in memory for ``transform`` of later supersets: what a
    background job runs (a module-level function, so it can be sent to a worker).

    ``kwargs`` are :func:`project`'s (``n_neighbors``, ``min_dist``, ``random_state``,
    ``progress``). Returns a :class:`Projection`; raises as :func:`project` does.
    """
    where = Path(directory).resolve()
    cache = _CACHES.get(where)
    if cache is None:
        cache = _CACHES[where] = ProjectionCache(where)
    return project(ids, embeddings, cache=cache, **kwargs)


def project(
    ids: Sequence[str],
    embeddings: np.ndarray,
    *,
    cache: ProjectionCache | None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    random_state: int | None = 42,
    progress: ProgressFn | None = None,
) -> Projection:
    """Project fingerprint embeddings to 2-D with UMAP (cosine), reusing the cache.

    Args:
        ids: one distinct non-empty id per row of ``embeddings``.
        embeddings: float ``(n, 384)``, finite, no all-zero row.
        cache: where coordinates are kept (None: compute and keep nothing).
        n_neighbors, min_dist: UMAP's parameters (McInnes, Healy & Melville 2018,
            arXiv:1802.03426); ``n_neighbors`` is clamped to ``n - 1``.
        random_state: a seed for a reproducible layout (umap-learn then runs on one
            core), or None to use every core.
        progress: receives a :class:`~groove_core.progress.Progress` at each stage and
            UMAP epoch (``done`` is the fraction of the whole, ``total`` 1); the last has
            stage ``"done"`` and ``done == 1``.

    Returns:
        a :class:`Projection`; see the module docstring for the cache rules and the
        handling of tiny inputs.

    Raises:
        ValidationError: bad ids, embeddings or parameters.
    """
    id_list, arr = validate_embeddings(ids, embeddings)
    n = len(id_list)
    params = _umap_params(n, n_neighbors, min_dist, random_state)
    key = projection_key(id_list, arr)

    if n < 3:
        _report(progress, STAGE_DONE, 1.0)
        return Projection(
            _frame(id_list, _trivial_layout(id_list, arr)), key, 0, 0, False, "trivial"
        )

    digests: dict[str, str] = {}
    if cache is not None:
        _report(progress, STAGE_LOADING, 0.0)
        hit = _cached(cache, key, id_list, params)
        if hit is not None:
            _report(progress, STAGE_DONE, 1.0)
            return hit
        digests = dict(zip(id_list, _row_digests(arr), strict=True))
        base = _find_base(cache, id_list, digests, params)
        if base is not None:
            _report(progress, STAGE_PLACING, 0.1)
            old = base.frame.set_index("id")
            new_mask = ~pd.Index(id_list).isin(old.index)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                new_xy = np.asarray(base.model.transform(arr[new_mask]), dtype=np.float64)
            xy = np.empty((n, 2), dtype=np.float64)
            old_ids = [i for i, is_new in zip(id_list, new_mask, strict=True) if not is_new]
            xy[~new_mask] = old.loc[old_ids, ["x", "y"]].to_numpy(dtype=np.float64)
            xy[new_mask] = new_xy
            fitted = list(base.meta["fitted_ids"])
            result = Projection(
                _frame(id_list, xy), key, len(fitted), n - len(fitted), False, "transform"
            )
            _report(progress, STAGE_SAVING, 0.9)
            cache.put(
                key, result, base.model, params=params, fitted_ids=fitted, row_digests=digests
            )
            _report(progress, STAGE_DONE, 1.0)
            return result

    _report(progress, STAGE_FITTING.format(n=n), 0.05, "nearest neighbours and initial layout")
    model = _make_umap(n, params, progress)
    with warnings.catch_warnings():
        # umap-learn warns about disconnected graphs and tiny n; the layout is still valid.
        warnings.simplefilter("ignore", UserWarning)
        xy = np.asarray(model.fit_transform(arr), dtype=np.float64)
    model.tqdm_kwds = {"disable": True}  # the progress file is not kept with the model
    result = Projection(_frame(id_list, xy), key, n, 0, False, "umap")
    if cache is not None:
        _report(progress, STAGE_SAVING, 0.9)
        cache.put(key, result, model, params=params, fitted_ids=id_list, row_digests=digests)
    _report(progress, STAGE_DONE, 1.0)
    return result


# --------------------------------------------------------------------------- sampling


def _allocate(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Per-group quotas summing to ``budget`` (< sizes.sum()), small groups protected.

    Each group first gets ``min(size, floor)`` with ``floor = budget // (2 * groups)``
    (at least 1), so at most half the budget goes to these minimums and a small cluster
    is shown whole; the rest is shared in proportion to what each group has left
    (largest-remainder rounding, ties to the earlier group).
    """
    g = len(sizes)
    floor = max(1, budget // (2 * g))
    quota = np.minimum(sizes, floor)
    rest = budget - int(quota.sum())
    spare = sizes - quota
    if rest > 0 and spare.sum() > 0:
        share = rest * spare / spare.sum()
        extra = np.floor(share).astype(np.int64)
        left = rest - int(extra.sum())
        order = np.argsort(-(share - extra), kind="stable")
        extra[order[:left]] += 1
        quota = quota + np.minimum(extra, spare)
    return quota


def sample_for_plot(
    frame: pd.DataFrame,
    max_points: int = 5000,
    *,
    stratify_by: str | None = None,
    random_state: int = 0,
    noun: str = "fingerprints",
) -> tuple[pd.DataFrame, SampleInfo]:
    """At most ``max_points`` rows of ``frame`` to draw, and a sentence saying so.

    Up to ``max_points`` rows: all of them (method ``"all"``). Above: a reproducible
    random sample with ``numpy.random.default_rng(random_state)``; with ``stratify_by``
    (a column, e.g. the cluster label) every group keeps at least
    ``min(size, max_points // (2 * groups))`` rows, so small clusters stay visible, and
    the rest is shared in proportion to group size (method ``"stratified"``, else
    ``"random"``). If there are more groups than ``max_points``, the largest
    ``max_points`` groups get one row each, and the description says so. Rows keep
    their original order and index.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError("sample_for_plot needs a pandas DataFrame")
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, int | np.integer)
        or max_points < 1
    ):
        raise ValidationError(f"max_points must be a positive integer; got {max_points!r}")
    if stratify_by is not None and stratify_by not in frame.columns:
        raise ValidationError(f"no column {stratify_by!r} to stratify by")
    total = len(frame)
    if total <= max_points:
        return frame.copy(), SampleInfo(total, total, "all", f"Showing all {total:,} {noun}.")

    rng = np.random.default_rng(random_state)
    if stratify_by is None:
        pos = np.sort(rng.choice(total, size=max_points, replace=False))
        desc = f"Showing {max_points:,} of {total:,} {noun}, a random sample (seed {random_state})."
        return frame.iloc[pos].copy(), SampleInfo(total, max_points, "random", desc)

    codes, uniques = pd.factorize(frame[stratify_by], sort=True, use_na_sentinel=False)
    sizes = np.bincount(codes, minlength=len(uniques)).astype(np.int64)
    groups = len(uniques)
    note = ""
    if groups > max_points:
        quota = np.zeros(groups, dtype=np.int64)
        largest = np.argsort(-sizes, kind="stable")[:max_points]
        quota[largest] = 1
        note = f" Only the {max_points:,} largest of {groups:,} groups could be shown."
    else:
        quota = _allocate(sizes, max_points)
    chosen = []
    for g in range(groups):
        if quota[g] == 0:
            continue
        members = np.flatnonzero(codes == g)
        chosen.append(rng.choice(members, size=int(quota[g]), replace=False))
    pos = np.sort(np.concatenate(chosen))
    shown = len(pos)
    desc = (
        f"Showing {shown:,} of {total:,} {noun}, a random sample stratified by "
        f"{stratify_by} (seed {random_state}).{note}"
    )
    return frame.iloc[pos].copy(), SampleInfo(total, shown, "stratified", desc)
