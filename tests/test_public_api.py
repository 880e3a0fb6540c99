"""The public surface of groove_core: ``__all__`` is complete, every name in it exists and
is documented (httpx's test of its ``__init__`` is the model)."""

from __future__ import annotations

import inspect

import groove_core


def test_all_names_exist_and_nothing_public_is_left_out():
    exported = set(groove_core.__all__)
    assert len(exported) == len(groove_core.__all__), "duplicates in __all__"
    for name in exported:
        assert hasattr(groove_core, name), name
    public = {
        name
        for name, value in vars(groove_core).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == exported


def test_every_public_class_and_function_has_a_docstring():
    missing = [
        name
        for name in groove_core.__all__
        if (inspect.isclass(obj := getattr(groove_core, name)) or inspect.isfunction(obj))
        and not (obj.__doc__ or "").strip()
    ]
    assert not missing, f"no docstring: {missing}"


def test_the_public_methods_of_the_stores_are_documented():
    missing = []
    for name in (
        "Groove",
        "LearningStore",
        "SearchStore",
        "ParamStore",
        "AttributionStore",
        "OpenWorldStore",
        "AccessStore",
        "ProposalStore",
        "AuditLog",
        "TierWriter",
    ):
        cls = getattr(groove_core, name)
        for attr, member in vars(cls).items():
            if attr.startswith("_") or not callable(member):
                continue
            if not (member.__doc__ or "").strip():
                missing.append(f"{name}.{attr}")
    assert not missing, f"no docstring: {missing}"
