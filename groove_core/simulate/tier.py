"""The tier ``groove simulate`` writes into: a ``simulation:<name>`` tier holding synthetic
copies of a real tier's learnings, so that no real learning, usage statistic, posterior,
value, experiment or parameter is ever touched by a simulation.

A copy is a new learning (new id) with the original's scope, category and content, its
source ``Promoted`` from the original (which keeps the original id), fresh usage
statistics (Beta(1, 1): only synthetic outcomes will ever reach it) and the original's
embedding (copied, not recomputed). The source tier's adaptive parameters are copied as
starting points. Copying twice adds nothing. Removing the simulation deletes the whole
tier (:func:`remove_simulation_tier`).
"""

from __future__ import annotations

from dataclasses import dataclass

from groove_core.config import SYNTHETIC_KINDS, tier_kind
from groove_core.errors import GrooveError
from groove_core.model.access import Action
from groove_core.model.learning import Learning, LearningSource
from groove_core.model.serde import new_id, now

__all__ = [
    "DEFAULT_SIMULATION_TIER",
    "SimulationCopy",
    "copy_into_simulation",
    "remove_simulation_tier",
    "require_simulation_tier",
]

#: The tier ``groove simulate`` uses unless told otherwise.
DEFAULT_SIMULATION_TIER = "simulation:demo"


@dataclass(frozen=True)
class SimulationCopy:
    """What :func:`copy_into_simulation` did: the tiers, learnings copied now, learnings
    copied before, parameters copied."""

    tier: str
    source: str
    copied: int
    already: int
    params: int


def require_simulation_tier(tier) -> None:
    """Raise GrooveError unless ``tier`` is a simulation tier: the simulators write only
    there, never into a real tier."""
    if not getattr(tier, "synthetic", False):
        raise GrooveError(
            f"groove simulate writes only into a simulation tier (simulation:<name>), not "
            f"into '{tier.name}': its learnings are copied with --from {tier.name}"
        )


def copy_into_simulation(groove, name: str = DEFAULT_SIMULATION_TIER, source: str = "user"):
    """Open (creating it) simulation tier ``name`` and copy into it the learnings of tier
    ``source`` it does not hold yet, with their embeddings, and the source's adaptive
    parameters it does not hold yet. The source tier is only read.

    Args:
        groove: an open :class:`groove_core.tiers.Groove`.
        name: ``simulation:<name>``.
        source: the real tier whose learnings are copied (must exist).

    Returns:
        (the simulation :class:`~groove_core.tiers.Tier`, a :class:`SimulationCopy`).

    Raises:
        GrooveError: ``name`` is not a simulation tier, ``source`` is one, or the source
            has no learnings. TierUnavailableError: the source does not exist.
    """
    if tier_kind(groove.resolve(name)) not in SYNTHETIC_KINDS:
        raise GrooveError(
            f"groove simulate writes only into a simulation tier (simulation:<name>), not '{name}'"
        )
    src = groove.tier(source, create=False)
    if src.synthetic:
        raise GrooveError(f"copy learnings from a real tier, not from '{src.name}'")
    originals = list(src.learnings.iter_all())
    if not originals:
        raise GrooveError(f"tier '{src.name}' has no learnings to simulate; import some first")
    sim = groove.tier(name)
    have = {
        lr.source.data.get("original_id")
        for lr in sim.learnings.iter_all()
        if lr.source.kind == "promoted"
    }
    todo = sorted((lr for lr in originals if lr.id not in have), key=lambda lr: lr.id)
    vectors = src.learnings.embeddings_many([lr.id for lr in todo])
    t = now()
    copies = [
        Learning(
            id=new_id(),
            scope=lr.scope,
            category=lr.category,
            content=lr.content,
            source=LearningSource.promoted(lr.scope, lr.id),
            confidence=0.5,
            created_at=t,
            updated_at=t,
        )
        for lr in todo
    ]
    with_vec = [i for i, lr in enumerate(todo) if lr.id in vectors]
    without = [i for i, lr in enumerate(todo) if lr.id not in vectors]
    if with_vec:
        sim.learnings.store_many(
            [copies[i] for i in with_vec],
            action=Action.learning_promote,
            vectors=[vectors[todo[i].id] for i in with_vec],
        )
    if without:  # written by another program without an embedding: embed the copy
        sim.learnings.store_many([copies[i] for i in without], action=Action.learning_promote)
    held = {p.name for p in sim.params.all_params()}
    params = [p for p in src.params.all_params() if p.name not in held]
    if params:
        sim.params.store_params(params)
    report = SimulationCopy(sim.name, src.name, len(copies), len(have - {None}), len(params))
    return sim, report


def remove_simulation_tier(groove, name: str = DEFAULT_SIMULATION_TIER) -> bool:
    """Delete simulation tier ``name`` and everything in it (its database and its entry
    in ``config.toml``). Returns False when there was none.

    Raises: GrooveError when ``name`` is not a simulation tier.
    """
    return groove.drop_tier(name)
