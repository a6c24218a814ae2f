"""The detector on real labelled records (bib-dedupe subsets) beats the Zotero-style rule."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "dedup"


def load(bench, name):
    import csv

    with open(FIXTURES / f"{name}_records.csv", encoding="utf-8") as fh:
        papers = [bench.paper_from_row(r) for r in csv.DictReader(fh)]
    with open(FIXTURES / f"{name}_groups.csv", encoding="utf-8") as fh:
        groups = [r["merged_ids"].split(";") for r in csv.DictReader(fh)]
    return papers, bench.pairs_of(groups)


@pytest.mark.parametrize("name", ["stroke", "digital_work"])
def test_precise_and_more_complete_than_the_zotero_rule(bench, name):
    papers, gold = load(bench, name)
    records, _, scored = bench.run_detector(papers)
    ours = bench.pairs_of(bench.cluster_keys(records, scored, 0.9))
    zotero = bench.pairs_of(bench.zotero_rule(papers))
    tp = len(ours & gold)
    precision, recall = tp / len(ours), tp / len(gold)
    zotero_recall = len(zotero & gold) / len(gold)
    assert precision >= 0.98, (name, precision)
    assert recall > zotero_recall, (name, recall, zotero_recall)


def test_bib_rows_map_to_papers(bench):
    papers, _ = load(bench, "digital_work")
    by_key = {p.key: p for p in papers}
    paper = by_key["id_1000014"]
    assert paper.doi == "10.2307/25750686"
    assert paper.creators[-1] == {
        "creatorType": "author",
        "lastName": "Nunamaker Jr.",
        "firstName": "Jay F.",
    }
    assert paper.raw["pages"] == "435--461" and paper.year == 2010
    assert paper.venue == "MIS Quarterly" and paper.item_type == "journalArticle"


def test_synthetic_planted_duplicates_and_preprints_are_found(bench):
    papers, gold = bench.synthetic(2000, seed=1)
    records, pairs, scored = bench.run_detector(papers)
    duplicates = bench.pairs_of(bench.cluster_keys(records, scored, 0.9))
    versions = bench.pairs_of(bench.version_keys(records, scored, 0.9))
    found = duplicates | versions
    completeness, per_record, most = bench.blocking_figures(records, pairs, gold)
    assert completeness >= 0.99 and per_record < 10 and most < 200
    assert len(found & gold) / len(gold) >= 0.95
    assert len(found & gold) / len(found) >= 0.95
    preprints = {p.key for p in papers if p.item_type == "preprint"}
    groups = bench.version_keys(records, scored, 0.9)
    assert groups and all(preprints & set(group) for group in groups)


def test_record_level_counts_keep_the_largest_gold_group_of_each_cluster(bench):
    gold = [["a", "b", "c"], ["d", "e"]]
    # one right cluster of three, one cluster that wrongly joins d with a single x
    tp, fp, fn = bench.record_counts([["a", "b", "c"], ["d", "x"]], gold)
    assert (tp, fp, fn) == (2, 1, 1)
