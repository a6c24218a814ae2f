"""Duplicates inside a real Zotero 10 with a real daemon (issue 20, part C): the Duplicates
dialog lists clusters and version groups apart; "Not duplicates" is remembered by the daemon
across syncs; "Merge all N clusters above ..." merges real duplicate groups in one batch
through Zotero's own merge, skips a cluster it cannot merge with its reason, and Zotero 10's
undo takes the batch back; a conference paper is merged into its journal version (it becomes
a journal article first, its conference name goes to Extra) and another version pair is linked
as related; an item saved through the connector that is already in the library gets the
notice with Show / Merge / Not a duplicate. The node fake's item schema is checked here."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from .harness import REPO, wait_until
from .library import connector_item, duplicate_groups, papers, version_pair

DIALOG = "chrome://specter-desk/content/dialog.xhtml"
MAIN = "chrome://zotero/content/zoteroPane.xhtml"
SCHEMA = REPO / "bridge" / "test" / "fixtures" / "zotero-item-types.json"
GROUPS = 5  # real duplicate groups: 1 marked not duplicates, 4 for the bulk merge (1 skipped)


def prefix(paper: dict) -> str:
    return paper["title"][:24]


@pytest.fixture(scope="module")
def dups(stack):
    """A few real papers, 5 real duplicate groups (2 records with one DOI each) and 3 version
    pairs (journal article + conference paper), synced; the daemon running."""
    stack.groups = duplicate_groups(GROUPS)
    stack.versions = [version_pair(0), version_pair(1), version_pair(2)]
    items = [connector_item(p) for p in papers()[:6]]
    items += [connector_item(p) for group in stack.groups for p in group]
    items += [connector_item(p) for pair in stack.versions for p in pair]
    stack.zotero.save_items(items)
    stack.daemon.cli("sync", "--library", "local")
    stack.daemon.start()
    return stack


def state(zotero, paper: dict) -> dict[str, dict]:
    return {r["key"]: r for r in zotero.run("items_state", prefix=prefix(paper))}


def open_dialog(zotero) -> dict:
    zotero.run("close_window", href=DIALOG)
    zotero.run("tools_menu", label="specter-desk: Duplicates…")
    return wait_until(
        lambda: (
            (v := zotero.run("duplicates_view", href=DIALOG)) and v["state"] == "clusters" and v
        ),
        90,
        "the Duplicates dialog",
    )


def view(zotero) -> dict:
    return zotero.run("duplicates_view", href=DIALOG)


def card_with(view_: dict, keys) -> dict:
    return next(c for c in view_["cards"] if set(c["keys"]) == set(keys))


def click(zotero, card: dict, selector: str) -> None:
    zotero.run(
        "click_in_window",
        href=DIALOG,
        selector=f'.sd-cluster[data-kind="{card["kind"]}"][data-cluster="{card["id"]}"] {selector}',
    )


def answer_prompt(zotero, accept: bool = True) -> dict:
    return wait_until(lambda: zotero.run("prompt", accept=accept), 30, "the confirmation")


def test_item_types_match_the_recorded_schema(dups):
    """bridge/test/fixtures/zotero-item-types.json (the node fake's schema) is this Zotero's."""
    recorded = json.loads(SCHEMA.read_text())
    live = dups.zotero.run("item_types", types=list(recorded["types"]))
    assert live["zotero"] == recorded["zotero"]
    assert live["types"] == recorded["types"]


def test_the_dialog_lists_duplicates_and_versions_apart(dups):
    zotero = dups.zotero
    shown = open_dialog(zotero)
    group_keys = [sorted(state(zotero, g[0])) for g in dups.groups]
    dup_cards = [c for c in shown["cards"] if c["kind"] == "duplicates"]
    assert sorted(sorted(c["keys"]) for c in dup_cards) == sorted(group_keys)
    version_cards = [c for c in shown["cards"] if c["kind"] == "versions"]
    assert len(version_cards) == len(dups.versions)
    for article, _conference in dups.versions:
        records = state(zotero, article)
        kept = next(k for k, r in records.items() if r["itemType"] == "journalArticle")
        card = card_with(shown, records)
        assert card["kept"] == kept, "the journal article is the version kept"
        assert card["buttons"] == [
            "Merge, keeping the published one…",
            "Link as related",
            "Not the same work",
        ]
    assert shown["bulk"]["button"] == f"Merge all {len(dup_cards)} clusters above 0.95"


def test_not_duplicates_is_remembered_by_the_daemon_across_syncs(dups):
    zotero, daemon = dups.zotero, dups.daemon
    group = dups.groups[0]
    keys = sorted(state(zotero, group[0]))
    shown = open_dialog(zotero)
    card = card_with(shown, keys)
    click(zotero, card, ".sd-distinct")
    wait_until(lambda: card_with(view(zotero), keys)["state"] == "distinct", 30, "the mark")
    assert "Marked as not duplicates" in card_with(view(zotero), keys)["status"]
    marks = daemon.get("/v1/duplicates/distinct").json()
    assert [sorted((p["a"], p["b"])) for p in marks["pairs"]] == [keys]
    # a new sync (the items upserted again) keeps the mark; the daemon no longer offers them
    daemon.cli("sync", "--library", "local")
    clusters = daemon.get("/v1/duplicates").json()["clusters"]
    assert keys not in [sorted(p["key"] for p in c["papers"]) for c in clusters]
    assert len(clusters) == GROUPS - 1
    shown = open_dialog(zotero)
    assert keys not in [sorted(c["keys"]) for c in shown["cards"]]
    # Zotero keeps no record of its own (docs/duplicates.md): both items are untouched
    assert all(not r["deleted"] and not r["relations"] for r in state(zotero, group[0]).values())


def docs_image(shot, name: str) -> None:
    if os.environ.get("SPECTER_DESK_DOCS_IMAGES"):
        shutil.copy(shot, REPO / "docs" / "images" / name)


def test_bulk_merge_merges_in_one_batch_skips_with_a_reason_and_zotero_undoes_it(dups, tmp_path):
    zotero = dups.zotero
    groups = dups.groups[1:]
    shown = open_dialog(zotero)
    before = {i: state(zotero, g[0]) for i, g in enumerate(groups)}
    cards = {i: card_with(shown, before[i]) for i in before}
    assert shown["bulk"]["button"] == f"Merge all {len(groups)} clusters above 0.95"
    # a record of one cluster goes to the trash after the dialog listed it: that cluster
    # cannot be merged any more
    skipped = 0
    trashed = next(k for k in before[skipped] if k != cards[skipped]["kept"])
    zotero.run("item_action", key=trashed, action="trash")

    zotero.run("click_in_window", href=DIALOG, selector=".sd-bulk-merge")
    prompt = answer_prompt(zotero)
    assert prompt["title"] == "Merge duplicates"
    assert prompt["text"].startswith(f"Merge {len(groups)} clusters ({2 * len(groups)} items)")
    assert "Zotero can undo these merges" in prompt["text"]
    done = wait_until(
        lambda: (v := view(zotero)) and v["bulk"]["status"].startswith("Merged") and v,
        120,
        "the batch",
    )
    merged = len(groups) - 1
    assert done["bulk"]["status"].startswith(
        f"Merged {merged} clusters ({2 * merged} items); skipped 1."
    )
    assert "is in the trash" in done["bulk"]["status"]
    assert done["bulk"]["progress"] == str(len(groups))
    assert done["bulk"]["undo"] == f"Undo these {merged} merges"
    docs_image(
        zotero.screenshot(tmp_path / "dialog.png", href=DIALOG), "duplicates-dialog-zotero.png"
    )

    for i, records in before.items():
        after = state(zotero, groups[i][0])
        kept = cards[i]["kept"]
        if i == skipped:
            assert not after[kept]["deleted"] and not after[kept]["relations"], "skipped: untouched"
            assert card_with(done, records)["state"] == "skipped"
            continue
        others = [k for k in records if k != kept]
        assert not after[kept]["deleted"]
        assert all(after[o]["deleted"] for o in others), "Zotero's merge trashed the others"
        assert sorted(after[kept]["relations"]["dc:replaces"]) == sorted(
            after[o]["uri"] for o in others
        )
        assert card_with(done, records)["state"] == "merged"
    assert (
        "Merging items" in zotero.log() and "Zotero.Items.merge() is deprecated" not in zotero.log()
    )

    # Zotero 10's undo, through the dialog: every merge of the batch taken back
    zotero.run("click_in_window", href=DIALOG, selector=".sd-bulk-undo-button")
    wait_until(
        lambda: view(zotero)["bulk"]["status"] == f"Undid {merged} merge(s).", 60, "the undo"
    )
    for i, records in before.items():
        after = state(zotero, groups[i][0])
        for key, record in records.items():
            if key == trashed:
                continue
            assert not after[key]["deleted"], f"{key} is back from the trash"
            assert after[key]["relations"] == record["relations"]
            assert after[key]["tags"] == record["tags"]
        if i != skipped:
            assert card_with(view(zotero), records)["state"] == "open"
    zotero.run("item_action", key=trashed, action="restore")


def test_a_conference_paper_merges_into_its_journal_version_and_a_pair_links_as_related(dups):
    zotero = dups.zotero
    (article, conference), (article2, _), _ = dups.versions
    shown = open_dialog(zotero)
    records = state(zotero, article)
    kept = next(k for k, r in records.items() if r["itemType"] == "journalArticle")
    other = next(k for k in records if k != kept)
    assert records[other]["itemType"] == "conferencePaper"
    assert records[other]["fields"]["conferenceName"] == conference["conferenceName"]

    click(zotero, card_with(shown, records), ".sd-merge")
    prompt = answer_prompt(zotero)
    assert "1 item(s) become a Journal Article first" in prompt["text"]
    assert f"({other}, Conference Paper)" in prompt["text"]
    wait_until(lambda: card_with(view(zotero), records)["state"] == "merged", 60, "the merge")
    status = card_with(view(zotero), records)["status"]
    assert "(Conference Paper → Journal Article)" in status, status

    after = state(zotero, article)
    assert not after[kept]["deleted"] and after[other]["deleted"]
    merged_away = after[other]
    assert merged_away["itemType"] == "journalArticle"
    # proceedingsTitle maps to publicationTitle (one base field); a conference name has no
    # place in a journal article: Zotero's fromJSON writes it into Extra
    assert merged_away["fields"]["publicationTitle"] == conference["proceedingsTitle"]
    assert f"Conference Name: {conference['conferenceName']}" in merged_away["fields"]["extra"]
    assert after[kept]["relations"]["dc:replaces"] == [merged_away["uri"]]
    assert after[kept]["fields"]["publicationTitle"] == article["publicationTitle"], (
        "kept as it was"
    )

    # the other version pair: Link as related (dc:relation both ways, nothing trashed)
    pair = state(zotero, article2)
    click(zotero, card_with(view(zotero), pair), ".sd-relate")
    wait_until(lambda: card_with(view(zotero), pair)["state"] == "related", 30, "the link")
    linked = state(zotero, article2)
    for key, record in linked.items():
        (partner,) = [r for k, r in linked.items() if k != key]
        assert not record["deleted"]
        assert record["relations"]["dc:relation"] == [partner["uri"]]


def test_a_merge_zotero_fails_is_rolled_back_and_the_items_are_as_they_were(dups):
    """Zotero's merge fails inside its transaction (after the type change and the moves): the
    card says why, the database and the items in memory are what they were; then it merges."""
    zotero = dups.zotero
    article, conference = dups.versions[2]
    shown = open_dialog(zotero)
    records = state(zotero, article)
    other = next(k for k, r in records.items() if r["itemType"] == "conferencePaper")
    card = card_with(shown, records)
    # the last step of mergeItems() before its saves is a Notifier trigger: make it throw
    zotero.eval(
        "const n = Zotero.Notifier; n._sdTrigger = n.trigger;"
        "n.trigger = function (event, ...rest) {"
        " if (event === 'removeDuplicatesMaster') throw new Error('a failure inside the merge');"
        " return n._sdTrigger.call(this, event, ...rest); }; return true;"
    )
    try:
        click(zotero, card, ".sd-merge")
        answer_prompt(zotero)
        wait_until(
            lambda: card_with(view(zotero), records)["state"] == "skipped", 60, "the failure"
        )
    finally:
        zotero.eval("Zotero.Notifier.trigger = Zotero.Notifier._sdTrigger; return true;")
    status = card_with(view(zotero), records)["status"]
    assert status == "Cannot merge: Zotero could not merge them: a failure inside the merge", status
    in_memory = state(zotero, article)
    assert in_memory == records, "the items in memory are what they were"
    assert in_memory[other]["fields"]["conferenceName"] == conference["conferenceName"]
    stored = zotero.eval(
        "return await Zotero.DB.valueQueryAsync('SELECT itemTypeID FROM items WHERE key = ?',"
        " [args.key]);",
        {"key": other},
    )
    assert stored == zotero.eval("return Zotero.ItemTypes.getID('conferencePaper');")
    # the same card again, Zotero working: merged
    click(zotero, card, ".sd-merge")
    answer_prompt(zotero)
    wait_until(lambda: card_with(view(zotero), records)["state"] == "merged", 60, "the merge")
    assert state(zotero, article)[other]["deleted"]


def save_again(zotero, paper: dict, known: list[str]) -> tuple[str, dict]:
    """Save paper through the connector once more; its new key and the notice with its row."""
    zotero.save_items([connector_item(paper)])
    added = wait_until(
        lambda: [k for k in state(zotero, paper) if k not in known], 30, "the new item"
    )[0]
    notice = wait_until(
        lambda: (n := zotero.run("notice")) and any(r["added"] == added for r in n["rows"]) and n,
        60,
        "the notice",
    )
    return added, notice


def test_an_item_already_in_the_library_gets_a_notice_with_show_merge_not_a_duplicate(
    dups, tmp_path
):
    zotero, daemon = dups.zotero, dups.daemon
    group = dups.groups[2]  # merged back apart by the undo above: two records with one DOI
    existing = sorted(state(zotero, group[0]))
    zotero.run("close_window", href=DIALOG)

    added, notice = save_again(zotero, group[0], existing)
    assert notice["beforeTrees"] == "zotero-trees", (
        "with Zotero's banners, above the collections and items"
    )
    row = next(r for r in notice["rows"] if r["added"] == added)
    assert row["existing"] in existing and row["kind"] == "duplicate"
    assert "is already in your library as" in row["text"] and "same DOI" in row["text"]
    assert row["buttons"] == ["Show", "Merge", "Not a duplicate"]
    assert daemon.requests("POST /v1/duplicates/check")
    shot = zotero.screenshot(tmp_path / "notice.png", selector="#specter-desk-duplicate-notice")
    docs_image(shot, "duplicate-notice-zotero.png")

    zotero.run(
        "click_in_window", href=notice["href"], selector=f'[data-added="{added}"] .sd-notice-show'
    )
    wait_until(lambda: zotero.run("selected_keys") == [row["existing"]], 30, "Show")

    # Not a duplicate: the daemon remembers the pair (after syncing the new item if need be)
    zotero.run(
        "click_in_window",
        href=notice["href"],
        selector=f'[data-added="{added}"] .sd-notice-distinct',
    )
    wait_until(
        lambda: (
            "Noted"
            in next(r for r in zotero.run("notice")["rows"] if r["added"] == added)["status"]
        ),
        180,
        "Not a duplicate",
    )
    marks = [
        sorted((p["a"], p["b"])) for p in daemon.get("/v1/duplicates/distinct").json()["pairs"]
    ]
    assert sorted([added, row["existing"]]) in marks

    # the same record saved once more: Merge merges it into the one that was there
    again, notice = save_again(zotero, group[0], [*existing, added])
    row = next(r for r in notice["rows"] if r["added"] == again)
    zotero.run(
        "click_in_window", href=notice["href"], selector=f'[data-added="{again}"] .sd-notice-merge'
    )
    wait_until(
        lambda: (
            "Merged 1 item(s)"
            in next(r for r in zotero.run("notice")["rows"] if r["added"] == again)["status"]
        ),
        60,
        "the merge",
    )
    after = state(zotero, group[0])
    assert after[again]["deleted"] and not after[row["existing"]]["deleted"]
    assert after[row["existing"]]["relations"]["dc:replaces"] == [after[again]["uri"]]
