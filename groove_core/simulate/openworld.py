"""Synthetic open-world data with known structure, so the dashboard has something real
to show (``groove simulate openworld``).

Contexts come from real text: the learnings of the tier (each such fingerprint is
associated with its learning) and, when ``corpus_dir`` is given, lines of the rule files
in it (read at run time). To those are added *novel* contexts from five themes the tier
knows nothing about. Themes 0-2 become stored anomaly clusters, themes 3-4 are left
unclustered (the map proposes them with HDBSCAN); themes 0-3 get a capability gap each,
with failures in their contexts and a review history, and events tell the story.

Everything is written in one transaction and marked synthetic under a run id
(``openworld-seed<seed>``); :func:`remove_openworld_simulation` removes exactly those
rows again. Hashes of simulated contexts are salted, so they never collide with the
hash of a real context of the same text. The same seed, inputs and ``now`` give the
same rows. Embeddings are computed through the tier's embedding cache (computed once).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from groove_core.analysis.clustering import centroid
from groove_core.errors import ValidationError
from groove_core.model.openworld import (
    GAP_WORKFLOW,
    AnomalyCluster,
    CapabilityGap,
    FailureRecord,
    FailureType,
    GapChange,
    GapSeverity,
    GapStatus,
    OpenWorldEvent,
    PatternFingerprint,
    SolutionAction,
    SolutionSource,
    SuggestedSolution,
    context_hash,
    f32_values,
)
from groove_core.model.serde import now as _now
from groove_core.model.serde import to_rfc3339
from groove_core.progress import Progress, ProgressFn
from groove_core.simulate.tier import require_simulation_tier
from groove_core.store.openworld import OpenWorldBatch

SALT = "groove-simulation\0"
WHO = "simulation"

#: (name, gap category, gap status reached, number of failures, sentences)
THEMES: list[tuple[str, str, str | None, int, list[str]]] = [
    (
        "Helm release rollback",
        "tool_gap",
        "in_progress",
        14,
        [
            "roll back the helm release after the kubernetes deploy failed",
            "helm upgrade left the release in a failed state on the cluster",
            "kubectl rollout undo did not restore the previous helm chart values",
            "the helm chart values for the staging cluster drifted from production",
            "a failed helm hook blocks the next kubernetes deployment",
            "helm history shows a pending-upgrade release that cannot be rolled back",
        ],
    ),
    (
        "CUDA out of memory in training",
        "missing_knowledge",
        "confirmed",
        25,
        [
            "the pytorch training loop crashes with CUDA out of memory on the gpu",
            "reduce gpu memory with gradient checkpointing and a smaller batch size",
            "torch cuda memory fragmentation after many training epochs",
            "mixed precision training still runs out of CUDA memory on the large model",
            "the gpu memory is not released between validation and training steps",
            "nvidia-smi shows the CUDA memory held by a zombie training process",
        ],
    ),
    (
        "Terraform state drift",
        "incorrect_pattern",
        "resolved",
        6,
        [
            "terraform plan shows drift between the state file and the cloud resources",
            "import the manually created bucket into the terraform state",
            "the terraform state lock in the dynamodb table was never released",
            "terraform refresh changed the state of the load balancer unexpectedly",
            "moving a terraform resource between modules without destroying it",
        ],
    ),
    (
        "GraphQL federation schema",
        "context_mismatch",
        "detected",
        3,
        [
            "the apollo federation gateway rejects the subgraph schema composition",
            "graphql subgraph entities need a key directive for federation",
            "schema stitching conflicts between two graphql services with the same type",
            "the federated graphql query plan fetches the same entity twice",
        ],
    ),
    (
        "Flaky Bluetooth firmware tests",
        "missing_knowledge",
        None,
        0,
        [
            "the bluetooth low energy firmware test is flaky on the embedded board",
            "the ble pairing test times out when the firmware is flashed over uart",
            "an rtos task starves the bluetooth stack during the hardware in the loop test",
            "the firmware watchdog resets the board in the middle of the ble test run",
        ],
    ),
]
DETAILS = [
    "in the payments service",
    "for the nightly job",
    "on the staging environment",
    "in the mobile backend",
    "during the release",
    "for the data pipeline",
    "in the monorepo",
    "after the dependency upgrade",
    "on the new team's project",
    "in production",
    "in the ci pipeline",
    "for the analytics service",
]

N_CLUSTERED = 3  # themes stored as anomaly clusters; the rest are left for proposals
N_GAPS = 4


@dataclass
class OpenWorldSimulationReport:
    """What :func:`simulate_openworld` wrote."""

    run_id: str
    fingerprints: int = 0
    familiar: int = 0
    novel: int = 0
    from_learnings: int = 0
    from_corpus: int = 0
    clusters: int = 0
    gaps: int = 0
    failures: int = 0
    events: int = 0
    history: int = 0
    themes: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"run {self.run_id}: {self.fingerprints} fingerprints ({self.familiar} familiar "
            f"from {self.from_learnings} learnings and {self.from_corpus} corpus lines, "
            f"{self.novel} novel in {len(self.themes)} themes), {self.clusters} clusters, "
            f"{self.gaps} gaps, {self.failures} failures, {self.events} events"
        )


def run_id_for(seed: int) -> str:
    """The run id of the open-world simulation with this seed: ``openworld-seed<seed>``."""
    return f"openworld-seed{int(seed)}"


def _uuid7(at: datetime, rng: np.random.Generator) -> str:
    """A UUID v7 for ``at`` whose random bits come from ``rng`` (reproducible)."""
    ms = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(rng.bytes(10), "big")  # 80 bits, 74 of them used
    value = (
        (ms << 80)
        | (0x7 << 76)
        | ((rand >> 62) & 0xFFF) << 64
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


def learning_context(description: str, insight: str) -> str:
    """The context text of a learning: its description, then its insight when that says
    more (rule imports often repeat the description as the insight), at most 300
    characters, without markdown emphasis."""
    desc = " ".join(description.replace("**", "").split()).rstrip(".")
    ins = " ".join(insight.replace("**", "").split()).rstrip(".")
    if ins.lower().startswith(desc.lower()):  # the insight repeats and extends it
        return (ins or desc)[:300]
    return (f"{desc}. {ins}" if ins else desc)[:300]


_LINE_SKIP = re.compile(r"^(---|#|```|\||<|globs:|description:|alwaysApply:)")


def corpus_lines(corpus_dir: str | Path, limit_files: int | None = None) -> list[str]:
    """Sentence-like lines (40-220 characters) of the rule files in ``corpus_dir``."""
    folder = Path(corpus_dir)
    if not folder.is_dir():
        raise ValidationError(f"corpus folder {folder} does not exist")
    out: list[str] = []
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and (p.suffix in (".mdc", ".md", ".txt") or p.name == ".cursorrules")
    )
    for path in files[:limit_files]:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        in_code = False
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("```"):
                in_code = not in_code
                continue
            if in_code or not line or _LINE_SKIP.match(line):
                continue
            line = re.sub(r"^([-*+]|\d+\.)\s+", "", line).replace("**", "").strip()
            if 40 <= len(line) <= 220 and sum(c.isalpha() for c in line) > 0.6 * len(line):
                out.append(line)
    return list(dict.fromkeys(out))


@dataclass
class _Story:
    """The rows a simulation writes, gathered step by step."""

    fingerprints: list[PatternFingerprint] = field(default_factory=list)
    clusters: list[AnomalyCluster] = field(default_factory=list)
    gaps: list[CapabilityGap] = field(default_factory=list)
    contexts: dict[str, list[int]] = field(default_factory=dict)
    history: list[GapChange] = field(default_factory=list)
    failures: list[FailureRecord] = field(default_factory=list)
    events: list[OpenWorldEvent] = field(default_factory=list)

    def batch(self) -> OpenWorldBatch:
        """The rows as one :class:`~groove_core.store.openworld.OpenWorldBatch`."""
        return OpenWorldBatch(
            fingerprints=self.fingerprints,
            clusters=self.clusters,
            gaps=self.gaps,
            gap_contexts=self.contexts,
            gap_history=self.history,
            failures=self.failures,
            events=self.events,
        )


def _familiar_contexts(
    learnings: list, corpus_dir: str | Path | None, n_familiar: int, rng: np.random.Generator
) -> tuple[list[tuple[str, str | None]], int]:
    """Up to ``n_familiar`` (context, learning id or None) pairs: learnings first (half of
    them when a corpus is given), then corpus lines; and how many came from learnings."""
    familiar: list[tuple[str, str | None]] = []
    if learnings:
        order = rng.permutation(len(learnings))[
            : max(1, n_familiar // 2) if corpus_dir else n_familiar
        ]
        for i in order:
            lr = learnings[int(i)]
            familiar.append((learning_context(lr.content.description, lr.content.insight), lr.id))
    from_learnings = len(familiar)
    if corpus_dir is not None:
        lines = corpus_lines(corpus_dir)
        if lines:
            pick = rng.choice(
                len(lines), size=min(len(lines), n_familiar - len(familiar)), replace=False
            )
            familiar += [(lines[int(i)], None) for i in sorted(pick)]
    return familiar, from_learnings


def _novel_contexts(n_novel: int, rng: np.random.Generator) -> tuple[list[tuple[str, int]], dict]:
    """``n_novel`` distinct (context, theme index) pairs spread evenly over :data:`THEMES`,
    each a theme sentence with an rng-chosen detail; and the count per theme name."""
    per_theme = np.full(len(THEMES), n_novel // len(THEMES))
    per_theme[: n_novel % len(THEMES)] += 1
    novel: list[tuple[str, int]] = []
    for t, (_name, _cat, _status, _nf, sentences) in enumerate(THEMES):
        seen: set[str] = set()
        k = 0
        while len(seen) < per_theme[t]:
            s = sentences[int(rng.integers(len(sentences)))]
            d = DETAILS[int(rng.integers(len(DETAILS)))]
            text = f"{s} {d}" if k < 2 * len(sentences) * len(DETAILS) else f"{s} {d} #{k}"
            k += 1
            if text not in seen:
                seen.add(text)
                novel.append((text, t))
    return novel, {THEMES[t][0]: int(per_theme[t]) for t in range(len(THEMES))}


def _fingerprints(
    familiar: list[tuple[str, str | None]],
    novel: list[tuple[str, int]],
    emb: np.ndarray,
    start: datetime,
    end: datetime,
    rng: np.random.Generator,
) -> tuple[list[PatternFingerprint], dict[int, list[PatternFingerprint]]]:
    """Fingerprints (one per distinct salted hash): familiar ones spread over the month,
    each theme's emerging later; and the fingerprints of each theme."""
    fps: list[PatternFingerprint] = []
    theme_fps: dict[int, list[PatternFingerprint]] = {t: [] for t in range(len(THEMES))}
    span = (end - start).total_seconds()
    for i, (text, lid) in enumerate(familiar):
        at = start + timedelta(seconds=int(rng.uniform(0, span)))
        fps.append(PatternFingerprint(context_hash(SALT + text), emb[i], text[:200], lid, at))
    emerge = [0.25, 0.45, 0.1, 0.6, 0.75]
    for j, (text, t) in enumerate(novel):
        lo = emerge[t % len(emerge)]
        at = start + timedelta(seconds=int(rng.uniform(lo * span, span)))
        fp = PatternFingerprint(context_hash(SALT + text), emb[len(familiar) + j], text, None, at)
        fps.append(fp)
        theme_fps[t].append(fp)
    return list({f.hash: f for f in fps}.values()), theme_fps


def _add_clusters(
    story: _Story, theme_fps: dict[int, list[PatternFingerprint]], rng: np.random.Generator
) -> None:
    """The first :data:`N_CLUSTERED` themes as anomaly clusters, a ``NoveltyDetected``
    event per novel fingerprint and a ``ClusterUpdated`` event per cluster."""
    cluster_of: dict[int, str] = {}
    for t in range(N_CLUSTERED):
        members = theme_fps[t]
        first = min(f.created_at for f in members)
        last = max(f.created_at for f in members)
        c = AnomalyCluster(
            _uuid7(first, rng),
            centroid(np.stack([f.embedding for f in members])),
            tuple(f.hash for f in members),
            first,
            last,
        )
        story.clusters.append(c)
        for f in members:
            cluster_of[f.hash] = c.id
    novel_hashes = {f.hash for group in theme_fps.values() for f in group}
    for f in story.fingerprints:
        if f.hash in novel_hashes:
            data = {"fingerprint": f.to_json(), "cluster": cluster_of.get(f.hash)}
            story.events.append(
                OpenWorldEvent(_uuid7(f.created_at, rng), "NoveltyDetected", data, f.created_at)
            )
    by_hash = {f.hash: f for f in story.fingerprints}
    for c in story.clusters:
        data = {
            "cluster": {
                "id": c.id,
                "centroid": f32_values(c.centroid),
                "members": [by_hash[h].to_json() for h in c.members],
                "created_at": to_rfc3339(c.created_at),
                "last_seen": to_rfc3339(c.last_seen),
            }
        }
        story.events.append(
            OpenWorldEvent(_uuid7(c.last_seen, rng), "ClusterUpdated", data, c.last_seen)
        )


def _theme_failures(
    members: list[PatternFingerprint],
    n_fail: int,
    learning_ids: list[str],
    end: datetime,
    rng: np.random.Generator,
) -> list[FailureRecord]:
    """``n_fail`` failures in random contexts of a theme, within three days of them."""
    fails = []
    for _k in range(n_fail):
        f = members[int(rng.integers(len(members)))]
        at = f.created_at + timedelta(seconds=int(rng.uniform(0, 3 * 86400)))
        at = min(at, end)
        ftype = list(FailureType)[int(rng.integers(len(FailureType)))]
        lids = (
            (learning_ids[int(rng.integers(len(learning_ids)))],)
            if learning_ids
            and ftype in (FailureType.NEGATIVE_ATTRIBUTION, FailureType.LEARNING_NOT_ACTIVATED)
            else ()
        )
        fid = _uuid7(at, rng)
        session = f"sim-session-{int(rng.integers(40)):02d}"
        fails.append(FailureRecord(fid, session, ftype, f.hash, lids, at))
    return fails


def _theme_solutions(name: str, rng: np.random.Generator) -> tuple[SuggestedSolution, ...]:
    """A template learning and a question for people, with rng-drawn confidences."""
    return (
        SuggestedSolution(
            SolutionAction.create_learning(f"How to handle: {name.lower()}", "solution"),
            SolutionSource.TEMPLATE,
            round(float(rng.uniform(0.5, 0.9)), 2),
        ),
        SuggestedSolution(
            SolutionAction.request_human_input(
                f"Which project conventions apply to {name.lower()}?"
            ),
            SolutionSource.PATTERN_ANALYSIS,
            round(float(rng.uniform(0.2, 0.6)), 2),
        ),
    )


#: The workflow steps a simulated review takes to reach a theme's status.
_REVIEW_PATH: dict[str | None, list[GapStatus]] = {
    None: [],
    "detected": [],
    "confirmed": [GapStatus.CONFIRMED],
    "in_progress": [GapStatus.CONFIRMED, GapStatus.IN_PROGRESS],
    "resolved": [GapStatus.CONFIRMED, GapStatus.IN_PROGRESS, GapStatus.RESOLVED],
}


def _review(
    story: _Story,
    gap: CapabilityGap,
    status: str | None,
    end: datetime,
    rng: np.random.Generator,
) -> GapStatus:
    """Walk a new gap through the workflow to ``status`` (history and events); returns
    the status reached."""
    cur, at = GapStatus.DETECTED, gap.first_seen
    for nxt in _REVIEW_PATH[status]:
        assert nxt in GAP_WORKFLOW[cur]
        at = min(end, at + timedelta(hours=int(rng.integers(6, 72))))
        story.history.append(
            GapChange(gap.id, _uuid7(at, rng), at, WHO, "status", cur, nxt, "simulated review")
        )
        data = {"gap_id": gap.id, "old": cur.serde, "new": nxt.serde}
        story.events.append(OpenWorldEvent(_uuid7(at, rng), "GapStatusChanged", data, at))
        cur = nxt
    return cur


def _add_gap(
    story: _Story,
    t: int,
    members: list[PatternFingerprint],
    learning_ids: list[str],
    end: datetime,
    rng: np.random.Generator,
) -> None:
    """Theme ``t`` as a capability gap: its failures, solutions, creation, review."""
    name, category, status, n_fail, _ = THEMES[t]
    members = sorted(members, key=lambda f: f.created_at)
    first = members[0].created_at
    fails = _theme_failures(members, n_fail, learning_ids, end, rng)
    story.failures += fails
    last = max([f.timestamp for f in fails], default=members[-1].created_at)
    severity = GapSeverity.CRITICAL if t == 1 else GapSeverity.for_failures(n_fail)
    sols = _theme_solutions(name, rng)
    gap = CapabilityGap(
        _uuid7(first, rng),
        category,
        severity,
        GapStatus.DETECTED,
        name,
        max(1, n_fail),
        first,
        last,
        sols,
    )
    story.events.append(
        OpenWorldEvent(_uuid7(first, rng), "GapCreated", {"gap": gap.to_json()}, first)
    )
    story.history.append(
        GapChange(
            gap.id,
            _uuid7(first, rng),
            first,
            WHO,
            "created",
            None,
            GapStatus.DETECTED,
            "detected by the simulation",
        )
    )
    for s in sols:
        data = {"gap_id": gap.id, "solution": s.to_json()}
        story.events.append(OpenWorldEvent(_uuid7(first, rng), "SolutionGenerated", data, first))
    story.gaps.append(gap.with_(status=_review(story, gap, status, end, rng)))
    story.contexts[gap.id] = [f.hash for f in members]


def simulate_openworld(
    tier,
    *,
    seed: int = 0,
    corpus_dir: str | Path | None = None,
    n_contexts: int = 400,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> OpenWorldSimulationReport:
    """Write synthetic open-world data into simulation tier ``tier`` (see the module
    docstring); real tiers are refused.

    Args:
        tier: an open simulation :class:`groove_core.tiers.Tier` with an embedder.
        seed: the random seed; the run id is ``openworld-seed<seed>``.
        corpus_dir: a folder of rule files (``.mdc``, ``.md``, ``.cursorrules``) whose
            lines become familiar contexts besides the tier's learnings.
        n_contexts: number of fingerprints (at least 40): about 35 % novel.
        progress: called with :class:`~groove_core.progress.Progress` whose ``done`` is
            the fraction of the whole run (``total`` 1), docs/architecture.md#progress.
        now: the time the simulated month ends at (default: now).

    Raises:
        GrooveError: not a simulation tier.
        ValidationError: ``n_contexts`` too small or no corpus folder.
        EmbeddingError: the tier has no embedder.
    """
    require_simulation_tier(tier)
    n_contexts = int(n_contexts)
    if n_contexts < 40:
        raise ValidationError("n_contexts must be at least 40")
    report = OpenWorldSimulationReport(run_id_for(seed))

    def step(stage: str, fraction: float) -> None:
        if progress:
            progress(Progress(stage, fraction, 1))

    rng = np.random.default_rng(seed)
    end = (now or _now()).replace(microsecond=0)
    start = end - timedelta(days=30)
    step("collecting contexts", 0.0)
    learnings = list(tier.learnings.iter_all())
    n_novel = max(len(THEMES) * 4, int(round(0.35 * n_contexts)))
    n_familiar = n_contexts - n_novel
    familiar, report.from_learnings = _familiar_contexts(learnings, corpus_dir, n_familiar, rng)
    report.from_corpus = len(familiar) - report.from_learnings
    if len(familiar) < n_familiar:  # not enough real text: top up with more novel contexts
        n_novel += n_familiar - len(familiar)
    novel, report.themes = _novel_contexts(n_novel, rng)

    texts = [t for t, _ in familiar] + [t for t, _ in novel]

    def embedded(p: Progress) -> None:
        step("embedding contexts", 0.1 + 0.6 * (p.fraction or 0.0))

    step("embedding contexts", 0.1)
    emb = tier.learnings.embed_texts(texts, progress=embedded)
    story = _Story()
    story.fingerprints, theme_fps = _fingerprints(familiar, novel, emb, start, end, rng)
    report.fingerprints, report.familiar, report.novel = (
        len(story.fingerprints),
        len(familiar),
        len(novel),
    )
    step("building clusters and gaps", 0.75)
    _add_clusters(story, theme_fps, rng)
    learning_ids = [lr.id for lr in learnings]
    for t in range(N_GAPS):
        _add_gap(story, t, theme_fps[t], learning_ids, end, rng)
    step("writing", 0.85)
    tier.openworld.write_batch(story.batch(), synthetic_run=report.run_id)
    report.clusters, report.gaps = len(story.clusters), len(story.gaps)
    report.failures, report.events = len(story.failures), len(story.events)
    report.history = len(story.history)
    step("done", 1.0)
    return report


def remove_openworld_simulation(tier, run_id: str | None = None) -> dict[str, int]:
    """Remove the rows of one simulation run (or of all runs): counts by kind."""
    return tier.openworld.remove_synthetic(run_id)


__all__ = [
    "THEMES",
    "OpenWorldSimulationReport",
    "corpus_lines",
    "remove_openworld_simulation",
    "run_id_for",
    "simulate_openworld",
]
