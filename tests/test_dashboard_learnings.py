"""AppTest tests of the Overview and Learnings pages on temporary homes.

The pages open ``Groove($GROOVE_HOME)``; here its default embedder is replaced by the
test HashingEmbedder, so every search mode runs without loading the real model."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder, make_learning, put_as_another_program, rendered
from streamlit.testing.v1 import AppTest

from groove_core.errors import ValidationError
from groove_core.model.learning import LearningSource
from groove_core.model.relations import LearningRelation, RelationType
from groove_core.tiers import Groove

PAGES = Path(__file__).resolve().parents[1] / "dashboard" / "app_pages"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty groove home the pages will open; the current folder is a tmp project."""
    import groove_core.tiers

    monkeypatch.setattr(groove_core.tiers, "default_embedder", HashingEmbedder)
    h = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("GROOVE_HOME", str(h))
    monkeypatch.chdir(project)
    yield h
    import dashboard.state

    dashboard.state._open.clear()


@pytest.fixture
def seeded(home):
    """Five learnings in the user tier: 3 preferences (one about tabs), 2 code patterns
    (one imported), a relation, some outcomes. Returns {name: learning}."""
    with Groove(home, embedder=HashingEmbedder()) as g:
        ls = {
            "tabs": make_learning("Use tabs for indentation", "Indent code with tabs"),
            "quotes": make_learning("Prefer double quotes", "Strings use double quotes"),
            "short": make_learning("Keep functions short", "Split functions over 40 lines"),
            "dataclass": make_learning(
                "Prefer dataclasses for records", "Use frozen dataclasses", "code_pattern"
            ),
            "retry": make_learning(
                "Retry when the database is locked",
                "Back off exponentially",
                "code_pattern",
                scope="project:/work/app",
                source=LearningSource.imported("/work/app/CLAUDE.md"),
            ),
        }
        store = g.user.learnings
        store.store_many(list(ls.values()))
        store.store_relation(
            LearningRelation(ls["dataclass"].id, RelationType.RELATED_TO, ls["retry"].id)
        )
        for outcome in ["helpful", "helpful", "ignored"]:
            store.record_outcome(ls["short"].id, outcome)
    return ls


def run(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def routed(page: str, **query) -> AppTest:
    """``page`` opened through the router (the navigation its links need)."""
    at = AppTest.from_file(str(PAGES.parent / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def by_label(widgets, label):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r} in {[w.label for w in widgets]}"
    return found[0]


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "subheader", "text", "title")
        for e in getattr(at, kind)
    ]
    return "\n".join(rendered(p) for p in parts)


def frame(at: AppTest, prefix: str):
    """The table whose key starts with ``prefix`` (None when not shown)."""
    found = [d for d in at.dataframe if d.key and d.key.startswith(prefix)]
    return found[0] if found else None


def table(at: AppTest, prefix: str = "rows_"):
    found = frame(at, prefix)
    assert found is not None, [d.key for d in at.dataframe]
    return found.value


def chart_counts(at: AppTest, index: int) -> dict[str, int]:
    """{bar label: count} of a plotly bar chart (plotly may send typed arrays)."""
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    out: dict[str, int] = {}
    for trace in spec["data"]:
        xs = trace["x"]
        if isinstance(xs, dict):
            xs = np.frombuffer(base64.b64decode(xs["bdata"]), dtype=np.dtype(xs["dtype"]))
        for label, n in zip(trace["y"], xs, strict=True):
            out[label] = out.get(label, 0) + int(n)
    return out


def open_tab(at: AppTest, name: str) -> AppTest:
    """Open the detail panel's tab whose label starts with ``name`` (only the open tab
    is drawn)."""
    at.session_state["detail_tab"] = next(t.label for t in at.tabs if t.label.startswith(name))
    at.run()
    assert not at.exception, at.exception
    return at


def fresh(home, learning_id):
    with Groove(home, embedder=HashingEmbedder()) as g:
        return g.user.learnings.get(learning_id), g.user.learnings.history(learning_id)


# ---------------------------------------------------------------- overview
def test_overview_counts_match_what_was_written(seeded):
    at = run("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Learnings"] == "5"
    assert metrics["Tier user"] == "5"
    assert chart_counts(at, 0) == {"preference": 3, "code pattern": 2}
    assert chart_counts(at, 1) == {"user created": 4, "imported": 1}
    newest = table(at, "newest")
    assert len(newest) == 5
    assert set(newest["description"]) == {lr.description for lr in seeded.values()}


def test_empty_store_offers_import_and_imports_project_rules(home):
    (Path.cwd() / "CLAUDE.md").write_text(
        "# Style\n\n- Always run the linter before committing.\n"
        "- Never commit secrets to the repository.\n"
    )
    at = run("overview")
    assert "No learnings yet" in texts(at)
    assert "CLAUDE.md" in texts(at)
    by_label(at.text_input, "Folder or rule file to import")
    by_label(at.button, "Import 1 rule file").click().run()
    assert not at.exception, at.exception
    assert any("Imported 2 learnings" in s.value for s in at.success), [s.value for s in at.success]
    assert {m.label: m.value for m in at.metric}["Learnings"] == "2"


def test_import_of_a_missing_folder_is_a_message(home):
    at = run("overview")
    by_label(at.text_input, "Folder or rule file to import").input("/no/such/folder")
    by_label(at.button, "Import folder").click().run()
    assert not at.exception
    assert any("no such file or folder" in e.value for e in at.error)


def test_tier_that_cannot_be_opened_is_named(seeded, home):
    from groove_core.store.engine import Engine

    db = Engine("enterprise:acme", "sqlite", home / "acme.db")
    db.run(
        "?[version, applied_at, description] <- [[999, 0, 'from the future']] "
        ":create schema_version {version => applied_at, description}"
    )
    db.close()
    with (home / "config.toml").open("a") as fh:
        fh.write('\n[tiers."enterprise:acme"]\nengine = "sqlite"\npath = "acme.db"\n')
    for page in ("overview", "learnings"):
        at = run(page)
        warnings = [rendered(w.value) for w in at.warning]
        assert any("enterprise:acme" in w for w in warnings), warnings
        # the user tier still shows
        assert len(table(at, "newest" if page == "overview" else "rows_")) == 5


# ---------------------------------------------------------------- learnings
def test_learnings_lists_rows_and_category_filter_narrows(seeded):
    at = run("learnings")
    assert len(table(at)) == 5
    at.selectbox(key="category").set_value("code_pattern").run()
    rows = table(at)
    assert set(rows["description"]) == {
        seeded["dataclass"].description,
        seeded["retry"].description,
    }
    at.selectbox(key="source").set_value("imported").run()
    assert list(table(at)["description"]) == [seeded["retry"].description]


def test_the_flagged_toggle_keeps_what_the_content_scan_flagged(seeded, home):
    """A curator looking for secrets: the toggle lists, counts and searches only the
    learning whose text carries a key, and a link with ``?flagged=`` opens that view."""
    from test_review import aws_pair

    key, secret = aws_pair()
    marked = make_learning("Deploy with the shared key", f"Use {key} with {secret} to deploy")
    with Groove(home, embedder=HashingEmbedder()) as g:
        g.user.learnings.store_many([marked])
    at = run("learnings")
    assert len(table(at)) == 6
    at.toggle(key="flagged").set_value(True).run()
    assert list(table(at)["description"]) == [marked.description]
    assert "1 learning" in [s.value for s in at.subheader]
    at.text_input(key="q").input("tabs indentation deploy").run()
    assert list(table(at)["description"]) == [marked.description]
    again = run("learnings", flagged="true")
    assert again.toggle(key="flagged").value is True
    assert list(table(again)["description"]) == [marked.description]


def test_a_listing_or_a_search_selects_nothing_until_a_row_is_ticked(seeded):
    described = {lr.description for lr in seeded.values()}
    at = run("learnings")
    assert "Tick a row to see that learning's details here." in texts(at)
    assert not [s for s in at.subheader if s.value in described]
    at.text_input(key="q").input("tabs indentation").run()
    assert table(at)["description"].iloc[0] == seeded["tabs"].description  # best first
    assert "Tick a row to see that learning's details here." in texts(at)
    assert not [s for s in at.subheader if s.value in described]


@pytest.mark.parametrize("mode", ["fulltext", "semantic", "hybrid"])
def test_search_shows_scores_and_leg_ranks(seeded, mode):
    at = run("learnings")
    at.selectbox(key="mode").set_value(mode)
    at.text_input(key="q").input("tabs indentation").run()
    rows = table(at)
    assert rows["description"].iloc[0] == seeded["tabs"].description
    assert "score" in rows
    assert ("text rank" in rows) == (mode != "semantic")
    assert ("semantic rank" in rows) == (mode != "fulltext")
    if mode != "semantic":
        assert rows["text rank"].iloc[0] == 1
    if mode != "fulltext":
        assert rows["semantic rank"].iloc[0] == 1


def test_pagination_pages_through_the_store(home):
    with Groove(home, embedder=HashingEmbedder()) as g:
        g.user.learnings.store_many(
            [make_learning(f"Rule number {i:03d}", f"insight {i}") for i in range(60)]
        )
    at = run("learnings")
    at.selectbox(key="sort").set_value("description").run()
    at.selectbox(key="size").set_value(25).run()
    assert list(table(at)["description"])[:2] == ["Rule number 000", "Rule number 001"]
    assert "60 learnings" in texts(at)
    at.get("pagination")[0].set_value(3).run()
    assert list(table(at)["description"]) == [f"Rule number {i:03d}" for i in range(50, 60)]
    # a search matching all 60 shows the best 50 and says it is a cut, not a total
    at.text_input(key="q").set_value("Rule number").run()
    assert len(table(at)) == 50
    assert [s.value for s in at.subheader][:1] == ["The best 50 results for “Rule number”"]
    at.text_input(key="q").set_value("").run()
    at.selectbox(key="category").set_value("preference").run()  # a new view: page 1
    assert list(table(at)["description"])[:1] == ["Rule number 000"]
    assert at.get("pagination")[0].value == 1 and "page" not in at.query_params


def test_edit_is_visible_after_rerun_in_history_and_search(seeded, home):
    lr = seeded["tabs"]
    at = open_tab(run("learnings", id=lr.id), "Edit")
    by_label(at.text_input, "Description").input("Use spaces for indentation")
    by_label(at.text_area, "Insight").input("Indent code with four spaces")
    by_label(at.button, "Save changes").click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)
    assert "Use spaces for indentation" in list(table(at)["description"])
    open_tab(at, "History")
    changes = [t.value for t in at.table if "before" in t.value.columns]
    assert len(changes) == 1  # one edit, newest first
    edit = changes[0]
    assert set(edit.index) == {"description", "insight"}
    assert edit.loc["description", "before"] == "Use tabs for indentation"
    assert edit.loc["description", "after"] == "Use spaces for indentation"
    assert any(m.value.startswith("**edited**") for m in at.markdown)

    stored, hist = fresh(home, lr.id)
    assert stored.description == "Use spaces for indentation"
    assert hist[-1].action == "edited"

    at.selectbox(key="mode").set_value("fulltext")
    at.text_input(key="q").input("spaces").run()
    assert list(table(at)["description"]) == ["Use spaces for indentation"]
    at.text_input(key="q").input("tabs").run()
    rows = frame(at, "rows_")
    assert rows is None or "Use spaces for indentation" not in list(rows.value["description"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("Description", "   ", "description must not be empty"),
        ("Scope", "galaxy:far", "invalid scope"),
        ("Scope", "project:", "needs a value"),
    ],
)
def test_invalid_edit_shows_error_and_saves_nothing(seeded, home, field, value, message):
    lr = seeded["quotes"]
    at = open_tab(run("learnings", id=lr.id), "Edit")
    by_label(at.text_area, "Insight").input("changed insight")
    by_label(at.text_input, field).input(value)
    by_label(at.button, "Save changes").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(message in e for e in errors), errors
    stored, hist = fresh(home, lr.id)
    assert stored == lr
    assert [e.action for e in hist] == ["created"]


def test_delete_asks_for_confirmation_and_can_be_undone(seeded, home):
    lr = seeded["short"]
    at = open_tab(run("learnings", id=lr.id), "Edit")
    by_label(at.button, "Delete this learning…").click().run()
    assert "Delete 1 learning?" in texts(at)
    assert fresh(home, lr.id)[0] is not None  # nothing deleted yet
    by_label(at.button, "Cancel").click().run()
    assert "Delete 1 learning?" not in texts(at)
    assert fresh(home, lr.id)[0] is not None

    by_label(at.button, "Delete this learning…").click().run()
    by_label(at.button, "Yes, delete").click().run()
    assert not at.exception
    assert fresh(home, lr.id)[0] is None
    assert len(table(at)) == 4
    by_label(at.button, "Undo delete").click().run()
    assert any("Restored 1 learning" in s.value for s in at.success)
    restored, _ = fresh(home, lr.id)
    assert restored is not None and restored.description == lr.description
    assert len(table(at)) == 5


def test_bulk_recategorise_and_delete_selected_rows(seeded, home):
    at = run("learnings")
    at.selectbox(key="sort").set_value("description").run()
    rows = list(table(at)["description"])
    picked = [rows.index(seeded["quotes"].description), rows.index(seeded["tabs"].description)]
    key = frame(at, "rows_").key
    at.session_state[key] = {"selection": {"rows": picked, "columns": [], "cells": []}}
    at.run()
    assert "2 selected" in texts(at)
    at.selectbox(key="bulk_cat").set_value("tool_usage")
    by_label(at.button, "Re-categorise selected…").click().run()
    assert "Set the category of 2 learnings to" in texts(at)
    by_label(at.button, "Yes, re-categorise").click().run()
    assert not at.exception
    for name in ("quotes", "tabs"):
        assert fresh(home, seeded[name].id)[0].category.value == "tool_usage"
    assert fresh(home, seeded["short"].id)[0].category.value == "preference"

    key = frame(at, "rows_").key
    at.session_state[key] = {"selection": {"rows": picked, "columns": [], "cells": []}}
    at.run()
    by_label(at.button, "Delete selected…").click().run()
    assert "Delete 2 learnings?" in texts(at)
    by_label(at.button, "Yes, delete").click().run()
    assert fresh(home, seeded["quotes"].id)[0] is None
    assert fresh(home, seeded["tabs"].id)[0] is None
    assert len(table(at)) == 3


def test_ticks_never_move_to_another_learning(seeded, home):
    """A ticked row belongs to the learning shown there: when another write moves every
    row down one, or another page is shown, nothing stays ticked (a bulk delete never
    acts on a learning nobody ticked)."""
    at = run("learnings")
    at.selectbox(key="sort").set_value("description").run()
    at.session_state[frame(at, "rows_").key] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    at.run()
    assert "1 selected" in texts(at)
    with Groove(home, embedder=HashingEmbedder()) as g:  # sorts first: the rows shift
        g.user.learnings.store(make_learning("Always annotate types", "Type every function"))
    at.run()
    assert "1 selected" not in texts(at)
    assert not [b for b in at.button if b.label == "Delete selected…"]


def test_a_link_to_a_learning_of_a_simulation_tier_selects_it(seeded, home):
    with Groove(home, embedder=HashingEmbedder()) as g:
        sim = make_learning("Synthetic: prefer pathlib", "A copy in the simulation tier")
        g.tier("simulation:demo").learnings.store(sim)
        others = [make_learning(f"Synthetic {i}", "filler") for i in range(60)]
        g.tier("simulation:demo").learnings.store_many(others)
    at = AppTest.from_file(str(PAGES / "learnings.py"), default_timeout=60)
    at.query_params.update({"tier": "simulation:demo", "id": sim.id, "page": "2"})
    at.run()  # the learning is on page 1: it is looked up in the tier picked
    assert "not in any open tier" not in texts(at)
    assert sim.description in [rendered(s.value) for s in at.subheader]


def test_detail_shows_confidence_usage_and_relation_links(seeded):
    lr = seeded["dataclass"]
    at = open_tab(run("learnings", id=seeded["short"].id), "Confidence")
    metrics = {m.label: m.value for m in at.metric}
    # Beta(3, 1.1): mean 3 / 4.1
    assert metrics["Confidence (posterior mean)"] == "0.73"
    assert metrics["Injected"] == "3" and metrics["Helpful"] == "2"
    assert "95% equal-tailed credible interval" in texts(at)

    at = open_tab(run("learnings", id=lr.id), "Relations")
    link = [b for b in at.button if seeded["retry"].description in b.label]
    assert link, [b.label for b in at.button]
    link[0].click().run()
    assert at.query_params["id"] == [seeded["retry"].id] or at.query_params["id"] == (
        seeded["retry"].id
    )
    assert seeded["retry"].description in [s.value for s in at.subheader]


def test_unknown_id_in_address_is_a_message(seeded):
    at = run("learnings", id="not-a-uuid")
    assert any("not a learning id" in w.value for w in at.warning)
    assert len(table(at)) == 5


def test_a_row_another_program_broke_is_named_and_the_rest_are_listed(seeded, home):
    """A learning whose row does not follow the data contract (a category from a newer
    version) is left out of the table and the search, named in a warning; a link to it
    says what is wrong."""
    with Groove(home, embedder=HashingEmbedder()) as g:
        bad = seeded["tabs"].id
        g.user.db.run(  # as another program: no groove write, no change log
            "?[id, category, updated_at] <- [[$id, 'test_pattern', 2000000000]] "
            ":update learning {id => category, updated_at}",
            {"id": bad},
        )
        g.user.db.run("?[id] <- [[$id]] :rm learning {id}", {"id": seeded["quotes"].id})
    at = run("learnings")
    shown = set(table(at)["description"])
    assert shown == {seeded[k].description for k in ("short", "dataclass", "retry")}
    (warning,) = [w.value for w in at.warning if "left out" in w.value]
    assert "1 learning of tier 'user' was left out" in rendered(warning)
    assert bad in rendered(warning) and "unknown category 'test_pattern'" in rendered(warning)
    at = run("learnings", q="tabs indentation")
    assert seeded["tabs"].description not in set(table(at)["description"])
    at = run("learnings", id=bad)
    assert any("test_pattern" in rendered(e.value) for e in at.error), [e.value for e in at.error]

    # the owner deletes it after a confirmation; its row is kept in the edit history
    at = run("learnings")
    at.button(key="unreadable_user_delete").click().run()
    at.button(key="unreadable_user_yes").click().run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if "left out" in w.value]
    assert any("Deleted 1" in s.value for s in at.success), [s.value for s in at.success]
    with Groove(home, embedder=HashingEmbedder()) as g:
        assert g.user.db.run("?[id] := *learning{id}, id = $id", {"id": bad}).rows == []
        (deleted,) = [e for e in g.user.learnings.history(bad) if e.action == "deleted"]
        assert deleted.before["row"][2] == "test_pattern"
        with pytest.raises(ValidationError, match="cannot restore"):
            g.user.learnings.restore(bad)


def test_a_hostile_id_in_the_left_out_warning_is_inert(seeded, home):
    """An id another program wrote with a link and an image in it is shown as written,
    never drawn (no link, no remote image)."""
    bad = "x` [Click to fix](http://evil.example) ![](http://evil.example/t.png) `"
    with Groove(home, embedder=HashingEmbedder()) as g:
        put_as_another_program(
            g.user.db,
            {"id": bad, "description": "Use tabs, says another program", "insight": "tabs"},
        )
    at = run("learnings")
    (warning,) = [w.value for w in at.warning if "left out" in w.value]
    assert bad in rendered(warning)
    assert "](http" not in warning and "![" not in warning
    assert len(table(at)) == 5


# ---------------------------------------------------------------- many writers, one view
def test_a_tier_another_process_configures_shows_on_the_next_run(seeded, home, tmp_path):
    at = run("learnings")
    assert len(table(at)) == 5
    tier = f"project:{tmp_path / 'other'}"
    lr = make_learning("Pin numpy below 3", "numpy 3 breaks the build")
    with Groove(home, embedder=HashingEmbedder()) as g:  # another process, for the server
        g.tier(tier).learnings.store_many([lr])
    at.run()
    assert tier in at.selectbox(key="learnings_tier").options
    assert lr.description in list(table(at)["description"])  # all tiers
    at = run("learnings", id=lr.id)
    assert lr.description in [s.value for s in at.subheader]
    assert f"tier **{tier}**" in texts(at)


@pytest.mark.parametrize("which", ["unknown", "deleted"])
def test_a_link_to_a_learning_no_tier_holds_offers_nothing_to_act_on(seeded, home, which):
    lid = "0190f5c2-0000-7000-8000-000000000001"
    if which == "deleted":
        lid = seeded["tabs"].id
        with Groove(home, embedder=HashingEmbedder()) as g:
            g.user.learnings.delete(lid)
    at = run("learnings", id=lid)
    assert any("is not in any open tier" in i.value for i in at.info)
    assert not at.tabs  # no detail panel: nothing to edit, delete or promote
    assert not [b for b in at.button if b.label in ("Save changes", "Delete this learning…")]
    assert len(table(at)) == (4 if which == "deleted" else 5)  # the rows are still listed


def test_an_edit_of_a_learning_changed_meanwhile_is_refused(seeded, home):
    lr = seeded["quotes"]
    at = open_tab(run("learnings", id=lr.id), "Edit")
    with Groove(home, embedder=HashingEmbedder()) as g:  # someone else edits it meanwhile
        g.user.learnings.update(lr.id, insight="Use single quotes after all")
    by_label(at.text_area, "Insight").input("Strings use typographic quotes")
    by_label(at.button, "Save changes").click().run()
    assert not at.exception
    assert any("changed by someone else" in e.value for e in at.error)
    stored, hist = fresh(home, lr.id)
    assert stored.insight == "Use single quotes after all"  # their edit stays
    assert [e.action for e in hist] == ["created", "edited"]
    # the form now starts from the current version, and saving it works
    assert by_label(at.text_area, "Insight").value == "Use single quotes after all"
    by_label(at.text_area, "Insight").input("Strings use double quotes, always")
    by_label(at.button, "Save changes").click().run()
    assert fresh(home, lr.id)[0].insight == "Strings use double quotes, always"


def test_every_confidence_shown_is_the_posterior_of_the_usage_stats(home, tmp_path):
    """A promoted copy keeps no evidence: the table and its detail both show its own
    Beta(1, 1) posterior's mean, 0.50 (its original, 2 helpful of 2, shows 0.75)."""
    lr = make_learning("Use ruff", "ruff replaces flake8")
    with Groove(home, embedder=HashingEmbedder()) as g:
        g.user.learnings.store_many([lr])
        for session in ("s-1", "s-2"):
            g.user.learnings.record_outcome(lr.id, "helpful", session_id=session)
        copy = g.promote(lr.id, f"project:{tmp_path / 'app'}").learnings[0]
    at = run("learnings")
    rows = table(at).set_index("tier")
    beta_mean = {"user": 3 / (3 + 1), copy.tier: 1 / (1 + 1)}  # Beta(1 + helpful, 1)
    for tier, mean in beta_mean.items():
        assert rows.loc[tier, "confidence"] == pytest.approx(mean)
        at = open_tab(run("learnings", id=lr.id if tier == "user" else copy.id), "Confidence")
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Confidence (posterior mean)"] == f"{mean:.2f}"


def test_a_link_with_the_view_in_the_address_reproduces_it(seeded):
    """The address holds each choice as its label (Streamlit's query-parameter binding;
    the browser test checks the address is written)."""
    at = run("learnings")
    at.selectbox(key="category").set_value("preference").run()
    at.selectbox(key="sort").set_value("description").run()
    shown = list(table(at)["description"])
    assert shown == sorted(
        lr.description for lr in seeded.values() if lr.category.value == "preference"
    )
    again = run("learnings", category="preference", sort="Description (A-Z)", tier="user")
    assert list(table(again)["description"]) == shown
    assert again.selectbox(key="learnings_tier").value == "user"


def test_outcomes_update_the_rows_and_leave_the_counts(seeded, home):
    """Rows are cached per data version and counts per learnings version: an outcome
    recorded elsewhere shows in the table on the next run; the counts stay right."""
    at = run("learnings")
    rows = table(at).set_index("description")
    lr = seeded["quotes"]
    assert rows.loc[lr.description, "uses"] == 0
    with Groove(home, embedder=HashingEmbedder()) as g:
        g.user.learnings.record_outcome(lr.id, "helpful", session_id="s-1")
    at.run()
    rows = table(at).set_index("description")
    assert rows.loc[lr.description, "uses"] == 1
    assert rows.loc[lr.description, "confidence"] == pytest.approx(2 / 3)
    assert "5 learnings" in texts(at)
    with Groove(home, embedder=HashingEmbedder()) as g:  # a new learning changes the count
        g.user.learnings.store_many([make_learning("Prefer pathlib", "over os.path")])
    at.run()
    assert "6 learnings" in texts(at)


def test_the_rows_shown_can_be_downloaded(seeded):
    at = run("learnings")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["JSON of these 5 rows", "CSV of these 5 rows"]


def test_two_learnings_with_one_description_are_two_choices(home):
    """A picker's value is its label: learnings that read the same are told apart, so
    picking the second shows the second (the Posterior page's learning picker)."""
    twins = [make_learning("Use ruff", f"ruff, reason {i}") for i in (1, 2)]
    with Groove(home, embedder=HashingEmbedder()) as g:
        g.user.learnings.store_many(twins)
        g.user.learnings.record_outcome(twins[1].id, "contradicted", session_id="s-1")
    at = routed("posterior")
    pick = at.selectbox(key="posterior_pick")
    assert len(set(pick.options)) == len(pick.options)
    pick.set_value(twins[1].id).run()
    assert not at.exception
    assert at.selectbox(key="posterior_pick").value == twins[1].id
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Posterior mean"] == f"{1 / (1 + 2.5):.3f}"  # Beta(1, 1 + 1.5)


def test_pickers_open_on_the_tier_with_data_and_keep_the_choice(home, tmp_path):
    """With a project tier (learnings, no outcomes) read before the user tier (outcomes),
    the Posterior page opens on the user tier; a tier picked there is kept across pages
    and written to the address."""
    lr = make_learning("Run the tests first", "pytest -x before pushing")
    project = f"project:{tmp_path / 'app'}"
    with Groove(home, embedder=HashingEmbedder()) as g:
        g.user.learnings.store_many([lr])
        g.user.learnings.record_outcome(lr.id, "helpful", session_id="s-1")
        g.tier(project).learnings.store_many([make_learning("Use make", "make test")])
    at = routed("posterior")
    picker = at.selectbox(key="posterior_tier")
    assert picker.options[0] == project  # read order: the project tier first
    assert picker.value == "user"  # ... but the user tier holds the outcomes
    assert at.query_params["tier"] in ("user", ["user"])
    picker.set_value(project).run()
    at.switch_page("app_pages/overview.py").run()
    at.switch_page("app_pages/posterior.py").run()
    assert not at.exception
    assert at.selectbox(key="posterior_tier").value == project
    assert at.query_params["tier"] in (project, [project])
