"""Feeds per collection or tag: recommend --collection/--tag (seeds from there, subcollections
included, recent additions weighted most), `feeds` list/add/set/remove/show/refresh/collections,
collections from every sync source, and the daemon's refresh after a sync — on a real store,
real hnswlib, the fake Zotero server and the real SyncWorker thread."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_recommend import NOW, index_of, put, unit
from typer.testing import CliRunner

from conftest import make_paper
from specter_desk.cli import app
from specter_desk.errors import (
    AmbiguousItemError,
    InputError,
    ItemNotFoundError,
    ModelNotFoundError,
)
from specter_desk.models import Collection
from specter_desk.server.worker import SyncWorker
from specter_desk.services.feeds import (
    add_feed,
    configure_feed,
    get_feed,
    list_feeds,
    refresh_feed,
    refresh_feeds,
    remove_feed,
    subscribe_collection,
)
from specter_desk.services.recommend import recommend
from specter_desk.services.seeds import seed_weights

runner = CliRunner()
LIB = "user:1"


@pytest.fixture
def shelves(store):
    """Collection ML (with subcollection Deep) holds topic-0 papers, Bio holds topic-1 ones;
    a second 'Deep' lives under Bio. Candidates on both topics."""
    store.replace_collections(
        LIB,
        [
            Collection("MLKEY", "ML", library=LIB),
            Collection("DEEPKEY", "Deep", parent="MLKEY", library=LIB),
            Collection("BIOKEY", "Bio", library=LIB),
            Collection("DEEP2", "Deep", parent="BIOKEY", library=LIB),
        ],
    )
    put(store, "M1", "Kernel machines", unit((0, 1)), added=400, collections=["MLKEY"])
    put(store, "M2", "Deep nets", unit((0, 1), (2, 0.2)), added=2, collections=["DEEPKEY"])
    put(store, "B1", "Protein folding", unit((1, 1)), added=1, collections=["BIOKEY"], tags=["bio"])
    for i in range(3):
        put(store, f"CM{i}", f"ML candidate {i}", unit((0, 1), (3 + i, 0.4)), pool="candidates")
        put(store, f"CB{i}", f"Bio candidate {i}", unit((1, 1), (6 + i, 0.4)), pool="candidates")
    return store


def keys(answer):
    return [r.paper.key for r in answer.results]


def test_a_collection_feed_takes_its_seeds_from_the_collection_and_its_subcollections(shelves):
    answer = recommend(shelves, index_of(shelves), since="week", now=NOW, collection="ML", n=3)
    assert {s["key"] for s in answer.seeds} == {"M1", "M2"}  # M1 is older than the window
    assert set(keys(answer)) == {"CM0", "CM1", "CM2"}
    assert answer.scope == {"kind": "collection", "target": "MLKEY", "label": "collection 'ML'"}
    bio = recommend(shelves, index_of(shelves), since="week", now=NOW, collection="BIOKEY", n=3)
    assert set(keys(bio)) == {"CB0", "CB1", "CB2"}
    by_path = recommend(shelves, index_of(shelves), since="week", now=NOW, collection="ml/deep")
    assert [s["key"] for s in by_path.seeds] == ["M2"]
    tagged = recommend(shelves, index_of(shelves), since="week", now=NOW, tag="BIO", n=3)
    assert [s["key"] for s in tagged.seeds] == ["B1"] and set(keys(tagged)) == {"CB0", "CB1", "CB2"}


def test_in_a_scope_old_papers_count_a_quarter_and_new_ones_fully():
    weights = seed_weights(np.array([0.0, 3.5, 7.0, 400.0]), 7.0, scoped=True)
    assert weights.tolist() == pytest.approx([1.0, 0.5, 0.25, 0.25])
    assert seed_weights(np.array([400.0]), 7.0)[0] < 1e-10  # unscoped: it would not count


def test_scope_errors_name_the_fix(shelves):
    index = index_of(shelves)
    with pytest.raises(AmbiguousItemError, match="2 collections are called 'Deep'.*path"):
        recommend(shelves, index, now=NOW, collection="Deep")
    with pytest.raises(ItemNotFoundError, match="no collection 'Physics'; known: Bio, Deep, ML"):
        recommend(shelves, index, now=NOW, collection="Physics")
    both = recommend(shelves, index, now=NOW, collection="Bio", tag="bio")
    assert [s["key"] for s in both.seeds] == ["B1"]
    assert both.scope["label"] == "collection 'Bio' with tag 'bio'"
    neither = recommend(shelves, index, now=NOW, collection="ML", tag="bio")
    assert neither.seeds == [] and "with tag 'bio' has no papers yet" in neither.message
    with pytest.raises(InputError, match="--tag is empty"):
        recommend(shelves, index, now=NOW, tag="  ")
    empty = recommend(shelves, index, now=NOW, tag="nothing-has-this")
    assert "tag 'nothing-has-this' has no papers yet" in empty.message


def test_feeds_are_configured_listed_revoked_and_removed(shelves):
    feed = add_feed(shelves, collection="ML", limit=2)
    assert (feed.id, feed.kind, feed.target, feed.name, feed.limit) == (
        "ml",
        "collection",
        "MLKEY",
        "ML",
        2,
    )
    tag = add_feed(shelves, tag="bio", since="week")
    whole = add_feed(shelves, whole_library=True)
    assert [f.id for f in list_feeds(shelves)] == ["bio", "ml", "my-library"]
    assert "token" not in feed.to_dict() and len(feed.token) >= 32
    with pytest.raises(InputError, match="already"):
        add_feed(shelves, collection="MLKEY")
    with pytest.raises(InputError, match="one of"):
        add_feed(shelves, collection="ML", tag="bio")
    with pytest.raises(InputError, match="1 to 100"):
        add_feed(shelves, collection="Bio", limit=0)
    with pytest.raises(InputError, match="--since"):
        add_feed(shelves, collection="Bio", since="fortnight")
    changed = configure_feed(shelves, "ml", since="2w", name="Machine learning", new_token=True)
    assert (changed.since, changed.name) == ("2w", "Machine learning")
    assert changed.token != feed.token
    with pytest.raises(InputError, match="nothing to change"):
        configure_feed(shelves, "ml")
    assert remove_feed(shelves, tag.id).id == "bio"
    with pytest.raises(ItemNotFoundError, match="no feed 'bio' \\(feeds: ml, my-library\\)"):
        get_feed(shelves, "bio")
    assert whole.kind == "library"


def test_refresh_stores_what_a_feed_serves_and_a_broken_feed_does_not_stop_the_rest(shelves):
    add_feed(shelves, collection="ML", since="week", limit=2)
    add_feed(shelves, collection="Bio", since="week", limit=2)
    index = index_of(shelves)
    served = refresh_feed(shelves, index, get_feed(shelves, "ml"), now=NOW)
    entries = shelves.feed_entries("ml")
    assert [e["key"] for e in entries] == keys(served) and len(entries) == 2
    assert entries[0]["because"][0]["key"] in {"M1", "M2"}
    assert get_feed(shelves, "ml").refreshed_at
    shelves.replace_collections(LIB, [Collection("MLKEY", "ML", library=LIB)])  # Bio deleted
    report = refresh_feeds(shelves, index, now=NOW)
    assert report.refreshed == {"ml": 2}
    assert "no collection 'BIOKEY'" in report.failed["bio"]
    assert "no collection 'BIOKEY'" in get_feed(shelves, "bio").message


# -- the command line ---------------------------------------------------------------------


def _world(home, tmp_path):
    """A JSONL library with collections (by name) and tags, and a candidates file."""
    rows = [
        ("L1", "Gene regulatory network growth by duplication", ["Genes"], 1),
        ("L2", "Probabilistic Boolean networks for gene regulation", ["Genes"], 2),
        ("L3", "Trust-aware collaborative filtering for recommender systems", ["Recsys"], 1),
    ]
    lib = [
        {"key": k, "title": t, "collections": c, "tags": ["mine"], "date_added": _ago(d)}
        for k, t, c, d in rows
    ]
    cands = [
        {"key": "K1", "title": "Evolution of transcription factor networks"},
        {"key": "K2", "title": "Evaluating collaborative filtering recommender systems"},
        {"key": "K3", "title": "Gene duplication and network evolution"},
    ]
    (tmp_path / "lib.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lib))
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in cands))
    assert runner.invoke(app, ["import", str(tmp_path / "lib.jsonl")]).exit_code == 0
    assert runner.invoke(app, ["candidates", "add", str(tmp_path / "c.jsonl")]).exit_code == 0


def _ago(days):
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_feeds_on_the_command_line(home, tmp_path, tiny_model):
    _world(home, tmp_path)
    model = ["--model", "tiny"]
    listed = runner.invoke(app, ["feeds", "collections", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert [(c["path"], c["papers"]) for c in data["collections"]] == [("Genes", 2), ("Recsys", 1)]
    assert data["tags"] == {"mine": 3}
    rec = runner.invoke(app, ["recommend", *model, "--collection", "genes", "--json"])
    assert rec.exit_code == 0, rec.output
    assert {s["key"] for s in json.loads(rec.stdout)["seeds"]} == {"L1", "L2"}
    missing = runner.invoke(app, ["recommend", *model, "--collection", "Physics"])
    assert missing.exit_code == 3 and "no collection 'Physics'" in missing.output
    added = runner.invoke(app, ["feeds", "add", "--collection", "Genes", "-n", "2", "--json"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["id"] == "genes"
    env = {"SPECTER_DESK_MODEL": "tiny"}
    shown = runner.invoke(app, ["feeds", "show", "genes", "--format", "atom"], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.count("<entry>") == 2 and "urn:specter-desk:feed:genes:" in shown.stdout
    refreshed = runner.invoke(app, ["feeds", "refresh", "--json"], env=env)
    assert json.loads(refreshed.stdout) == {"refreshed": {"genes": 2}, "failed": {}, "added": []}
    feeds = json.loads(runner.invoke(app, ["feeds", "list", "--json"]).stdout)["feeds"]
    assert [f["id"] for f in feeds] == ["genes"] and feeds[0]["refreshed_at"]
    assert runner.invoke(app, ["feeds", "set", "genes", "--new-token"]).exit_code == 0
    bad = runner.invoke(app, ["feeds", "add"])
    assert bad.exit_code == 2 and "--collection NAME, --tag TAG or --library" in bad.output
    gone = runner.invoke(app, ["feeds", "remove", "nope"])
    assert gone.exit_code == 3 and "no feed 'nope'" in gone.output
    assert runner.invoke(app, ["feeds", "remove", "genes"]).exit_code == 0


# -- collections from sync sources --------------------------------------------------------


def test_collections_come_from_a_bibtex_file_and_are_replaced_on_resync(store, tmp_path):
    from specter_desk.sync.files import read_file
    from specter_desk.sync.writer import PageWriter

    bib = tmp_path / "lib.bib"
    bib.write_text(
        "@article{a, title={One}, groups={Reading, Methods}}\n@article{b, title={Two}}\n"
    )
    read = read_file(bib, library="file:lib.bib")
    assert read.papers[0].collections == ["Reading", "Methods"]
    writer = PageWriter(store, "file:lib.bib")
    writer.write_library(
        read.papers,
        {},
        check_stop=lambda: None,
        report=lambda *a: None,
        stage="writing",
        collections=read.collections("file:lib.bib"),
    )
    assert [c.name for c in store.collections("file:lib.bib")] == ["Methods", "Reading"]
    assert store.keys_in_collections(["Reading"]) == ["a"]


def test_collections_come_from_the_zotero_web_api_and_follow_renames(home, monkeypatch):
    from fake_zotero import FakeZotero

    from specter_desk.config import Config
    from specter_desk.desk import Desk
    from specter_desk.sync import run_sync

    with FakeZotero(api_key="k") as fake:
        monkeypatch.setenv("SPECTER_DESK_ZOTERO_URL", fake.url)
        monkeypatch.setenv("ZOTERO_API_KEY", "k")
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(f'[zotero]\nlibrary_id = "{fake.user_id}"\n')
        top = fake.add_collection("Thesis")
        sub = fake.add_collection("Chapter 2", parent=top)
        fake.add_item(key="ITEM0001", title="A paper", collections=[sub])
        desk = Desk(Config.load(), notice=lambda m: None)
        run_sync(desk, "user", embed=False)
        library = f"user:{fake.user_id}"
        found = {c.key: (c.name, c.parent) for c in desk.store.collections(library)}
        assert found == {top: ("Thesis", None), sub: ("Chapter 2", top)}
        assert desk.store.keys_in_collections([sub]) == ["ITEM0001"]
        fake.add_collection("PhD thesis", key=top)  # a rename bumps the library version
        run_sync(desk, "user", embed=False)
        assert {c.name for c in desk.store.collections(library)} == {"PhD thesis", "Chapter 2"}
        desk.close()


# -- the daemon ---------------------------------------------------------------------------


def test_the_sync_worker_refreshes_after_a_good_sync_only():
    calls = []

    def run(library, progress, should_stop):
        if library == "bad":
            from specter_desk.errors import SyncError

            raise SyncError("zotero is down")
        return {"added": 1}

    worker = SyncWorker(run, nice=0, on_synced=lambda: calls.append("feeds"))
    worker.start()
    try:
        worker.request("good")
        _wait(lambda: not worker.busy and worker.status().get("last_result"))
        assert calls == ["feeds"]
        worker.request("bad")
        _wait(lambda: not worker.busy and worker.status().get("last_error"))
        assert calls == ["feeds"]
    finally:
        worker.stop()


def _wait(done, seconds=30.0):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_store_migration_keeps_votes_and_adds_feed_tables(home, monkeypatch):
    import specter_desk.store as store_module
    from specter_desk.store import Store

    path = home / "library.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:5])
    old = Store(path)
    old.upsert_papers([make_paper("V1", "Voted")])
    old.db.execute("INSERT INTO feedback (key, vote, voted_at) VALUES ('V1', 1, 'then')")
    old.close()
    monkeypatch.undo()
    store = Store(path)
    assert store.schema_version == len(store_module.MIGRATIONS)
    assert store.votes() == {"V1": 1}
    assert store.feeds() == [] and store.collections() == []
    store.close()


def test_subscribing_a_collection_reuses_its_feed_and_survives_a_refresh_that_cannot_run(shelves):
    def no_model():  # what desk.index() raises when the model is not on disk
        raise ModelNotFoundError("model minilm is not on disk; `specter-desk model download`")

    made = subscribe_collection(shelves, no_model, "ML")
    assert made.created and made.entries == 0 and made.feed.refreshed_at is None
    assert made.message.startswith("model minilm is not on disk")
    assert made.feed.message == made.message  # `feeds list` says why too
    again = subscribe_collection(shelves, lambda: index_of(shelves), "MLKEY")
    assert not again.created and again.feed.id == made.feed.id  # by key or name: one feed
    assert again.feed.refreshed_at and again.entries > 0 and again.message is None
    with pytest.raises(ItemNotFoundError, match="no collection 'Physics'"):
        subscribe_collection(shelves, lambda: index_of(shelves), "Physics")
    assert len(list_feeds(shelves)) == 1
