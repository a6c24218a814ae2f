"""BibTeX, RIS, CSL-JSON and JSONL files: import and sync, on real exports."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.config import Config
from specter_desk.corpus import read_corpus
from specter_desk.desk import Desk
from specter_desk.errors import InputError, SyncFileError
from specter_desk.sync import run_sync
from specter_desk.sync.files import paper_from_record, read_file, read_jsonl, read_jsonl_records
from specter_desk.sync.writer import import_papers

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def desk() -> Desk:
    return Desk(Config.load(), notice=lambda m: None)


def test_bibtex_export_keeps_citekeys_and_decodes_latex(home):
    read = read_file(EXPORTS / "zotero_export_40.bib", library="file:x")
    assert read.format == "bibtex" and len(read.papers) == 40 and not read.skipped
    first = read.papers[0]
    assert first.key == "larsen_microangiography_1999"
    assert first.title.startswith("Microangiography of the humeral condyle in Cocker Spaniel")
    assert first.creators[0] == {"creatorType": "author", "lastName": "Larsen", "firstName": "LJ"}
    assert (first.year, first.item_type) == (1999, "journalArticle")
    assert first.venue == "VETERINARY AND COMPARATIVE ORTHOPAEDICS AND TRAUMATOLOGY"
    with_doi = next(p for p in read.papers if p.key == "wasielewska_molecular_2019")
    assert with_doi.doi == "10.21521/mw.6330"
    assert all(p.abstract for p in read.papers)  # these 40 all have one; broken.bib has not
    assert all(p.text_source == ("abstract" if p.abstract else "title") for p in read.papers)


def test_broken_bibtex_entries_are_reported_and_the_rest_imported(home):
    read = read_file(EXPORTS / "broken.bib", library="file:broken.bib")
    assert [p.key for p in read.papers] == [
        "larsen_microangiography_1999",
        "wasielewska_molecular_2019",
        "gavaghan_dilated_1997",
        "mueller_uber_2020",
    ]
    assert read.skipped == ["gomes_generalized_2013: unparsable entry"]
    unicode = read.papers[-1]
    assert unicode.title == "Über die Brücke: Méthodes d'analyse"
    assert unicode.creators[0]["lastName"] == "Müller"
    assert unicode.creators[1]["firstName"] == "René"
    assert read.papers[2].abstract == ""


def test_ris_export_utf8_and_missing_ids(home):
    read = read_file(EXPORTS / "zotero_export_40.ris", library="file:x")
    assert read.format == "ris" and len(read.papers) == 40
    bib = read_file(EXPORTS / "zotero_export_40.bib", library="file:x")
    assert [p.title for p in read.papers] == [p.title for p in bib.papers]
    assert sum(not p.abstract for p in read.papers) == sum(not p.abstract for p in bib.papers)
    assert len({p.key for p in read.papers}) == 40 and read.papers[0].key.startswith("ris-")
    again = read_file(EXPORTS / "zotero_export_40.ris", library="file:x")
    assert [p.key for p in again.papers] == [p.key for p in read.papers]  # stable keys
    cyrillic = read_file(EXPORTS / "example_utf_chars.ris", library="file:x").papers[0]
    assert cyrillic.title.startswith("Состояние рецепторного аппарата")
    assert cyrillic.year == 2009


def test_ris_with_no_usable_record_is_a_malformed_file(home):
    with pytest.raises(SyncFileError, match="no usable ris records"):
        read_file(EXPORTS / "example_bom.ris", library="file:x")


def test_csl_json_keeps_ids(home, tmp_path):
    path = tmp_path / "refs.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "vaswani2017",
                    "type": "paper-conference",
                    "title": "Attention is all you need",
                    "author": [{"family": "Vaswani", "given": "Ashish"}],
                    "issued": {"date-parts": [[2017]]},
                    "DOI": "10.48550/arXiv.1706.03762",
                    "abstract": "The dominant models...",
                },
                {"id": "no-title"},
                {
                    "id": "nougat",
                    "type": "article",
                    "title": "Nougat",
                    "URL": "https://arxiv.org/abs/2308.13418v1",
                },
            ]
        ),
        encoding="utf-8",
    )
    read = read_file(path, library="file:refs.json")
    assert read.format == "csl-json" and read.skipped == ["no-title: no title"]
    first, second = read.papers
    assert (first.key, first.year, first.arxiv_id, first.item_type) == (
        "vaswani2017",
        2017,
        "1706.03762",
        "conferencePaper",
    )
    assert (second.key, second.arxiv_id, second.text_source) == ("nougat", "2308.13418", "title")


def test_a_jsonl_record_without_a_title_is_skipped_and_listed(home, tmp_path):
    """As docs/sync.md says for every format: the rest of the file is read."""
    path = tmp_path / "refs.jsonl"
    path.write_text('{"key": "a", "title": "A"}\n{"key": "b"}\n[1]\n', encoding="utf-8")
    read = read_jsonl(path, library="file:refs.jsonl")
    assert [p.key for p in read.papers] == ["a"]
    assert read.skipped == ["line 2: record b has no title", "line 3: not a JSON object"]
    assert paper_from_record({"id": "x", "title": "T"}, library="l").key == "x"
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.stdout and "2 records skipped: line 2" in result.stderr
    path.write_text('{"key": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="refs.jsonl: no usable jsonl records found"):
        read_file(path, library="file:refs.jsonl")


def test_jsonl_is_read_by_one_parser_with_or_without_gzip_or_a_bom(tmp_path):
    lines = '{"key": "K1", "title": "First"}\n\n{"key": "K2", "title": "Second"}\n'
    plain = tmp_path / "refs.jsonl"
    plain.write_text("\ufeff" + lines, encoding="utf-8")
    packed = tmp_path / "refs.jsonl.gz"
    packed.write_bytes(gzip.compress(lines.encode("utf-8")))
    for path in (plain, packed):
        assert [n for n, _ in read_jsonl_records(path)] == [1, 3]
        assert [p.key for p in read_file(path, library="f").papers] == ["K1", "K2"]
    corpus = [p.key for p in read_corpus(plain, library="corpus")]
    assert corpus == ["K1", "K2"]
    plain.write_text(lines + "{oops\n", encoding="utf-8")
    with pytest.raises(SyncFileError, match=r"refs.jsonl:4: not JSON"):
        list(read_jsonl_records(plain))


def test_import_counts_by_the_sync_writer_rules(store):
    papers = [paper_from_record({"key": "K1", "title": "First"}, library="file:a.jsonl")]
    assert import_papers(store, papers).added == 1
    assert import_papers(store, papers).unchanged == 1
    store.mark_deleted(["K1"])
    again = import_papers(store, papers)  # back from the dead: added, as a sync counts it
    assert (again.added, again.updated, again.unchanged) == (1, 0, 0)
    other = [paper_from_record({"key": "K1", "title": "Not mine"}, library="file:b.jsonl")]
    assert import_papers(store, other).clashes == ["K1"]
    assert store.get_paper("K1").title == "First"


def test_cli_import_every_format_as_library_or_candidates(home):
    runner = CliRunner()
    out = runner.invoke(app, ["import", str(EXPORTS / "broken.bib"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (data["added"], data["format"], data["skipped"]) == (
        4,
        "bibtex",
        ["gomes_generalized_2013: unparsable entry"],
    )
    out = runner.invoke(app, ["import", str(EXPORTS / "test_export.ris"), "--as", "candidates"])
    assert out.exit_code == 0 and "3 added" in out.output
    d = desk()
    assert d.store.count_papers(pool="candidates") == 3
    # The same keys again from another file: a clash, reported, not overwritten.
    out = runner.invoke(app, ["import", str(EXPORTS / "zotero_export_40.bib"), "--json"])
    data = json.loads(out.output)
    assert data["added"] == 38 and sorted(data["clashes"]) == [
        "larsen_microangiography_1999",
        "wasielewska_molecular_2019",
    ]
    assert d.store.get_paper("larsen_microangiography_1999").library == "file:broken.bib"
    out = runner.invoke(app, ["import", str(EXPORTS / "broken.bib"), "--as", "nope"])
    assert out.exit_code == 2


def test_malformed_file_is_one_line_error_and_store_intact(home, tmp_path):
    runner = CliRunner()
    runner.invoke(app, ["import", str(EXPORTS / "test_export.bib")])
    before = [p.to_dict() for p in desk().store.papers(pool=None, include_deleted=True)]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "a", "title": ', encoding="utf-8")
    for command in (
        ["import", str(bad)],
        ["sync", "--library", str(bad)],
        ["sync", "--library", str(tmp_path / "missing.bib")],
    ):
        out = runner.invoke(app, command)
        assert out.exit_code == 2, out.output
        assert len(out.output.strip().splitlines()) == 1 and "error:" in out.output
    after = [p.to_dict() for p in desk().store.papers(pool=None, include_deleted=True)]
    assert after == before


def test_sync_from_a_file_flags_records_removed_from_it(home, tmp_path):
    path = tmp_path / "refs.bib"
    text = (EXPORTS / "broken.bib").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    d = desk()
    first = run_sync(d, str(path), embed=False)
    assert (first.library, first.added) == ("file:refs.bib", 4)
    path.write_text(text.split("@article{wasielewska")[0], encoding="utf-8")
    with pytest.raises(SyncFileError, match="would flag 3 of the 4 papers"):
        run_sync(d, str(path), embed=False)  # most of the library: see check_shrink
    second = run_sync(d, str(path), embed=False, allow_shrink=True)
    assert (second.added, second.updated, second.deleted) == (0, 0, 3)
    assert d.store.count_papers() == 1


def test_zotero_items_map_identifiers_and_skip_non_papers():
    from specter_desk.sync.zotero_items import paper_from_item

    preprint = {
        "key": "PRE1",
        "version": 7,
        "data": {
            "key": "PRE1",
            "itemType": "preprint",
            "title": "A preprint",
            "extra": "arXiv: 2101.00001\nPMID: 12345",
            "url": "",
            "DOI": "",
            "repository": "arXiv",
            "date": "2021-01-01",
            "tags": [{"tag": "ml", "type": 1}],
            "creators": [{"creatorType": "author", "name": "A Consortium"}],
        },
    }
    paper = paper_from_item(preprint, library="user:1")
    assert (paper.arxiv_id, paper.pmid, paper.version, paper.venue) == (
        "2101.00001",
        "12345",
        7,
        "arXiv",
    )
    assert paper.creators == [{"creatorType": "author", "name": "A Consortium"}]
    by_doi = paper_from_item(
        {
            "data": {
                "key": "D1",
                "itemType": "journalArticle",
                "title": "T",
                "DOI": "https://doi.org/10.48550/arXiv.2308.13418",
            }
        },
        library="user:1",
    )
    assert (by_doi.doi, by_doi.arxiv_id) == ("10.48550/arxiv.2308.13418", "2308.13418")
    by_url = paper_from_item(
        {
            "data": {
                "key": "U1",
                "itemType": "conferencePaper",
                "title": "T",
                "url": "https://arxiv.org/abs/1706.03762v5",
                "proceedingsTitle": "NeurIPS",
            }
        },
        library="user:1",
    )
    assert (by_url.arxiv_id, by_url.venue) == ("1706.03762", "NeurIPS")
    for kind in ("note", "attachment", "annotation"):
        assert paper_from_item({"data": {"key": "N", "itemType": kind}}, library="x") is None


def test_excerpt_starts_after_the_title():
    from specter_desk.sync.fulltext import excerpt

    text = "Journal of Things 2020\nDeep  Learning: for Proteins\nAbstract We study " + "x " * 500
    assert excerpt("Deep learning for proteins", text).startswith("Abstract We study")
    assert len(excerpt("Deep learning for proteins", text).split()) == 200
    assert excerpt("Not in the text", "one two three") == "one two three"


def test_login_key_goes_to_the_os_keyring_when_there_is_one(home, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    from specter_desk.config import Paths
    from specter_desk.sync.credentials import (
        credentials_file,
        delete_credentials,
        load_credentials,
        save_credentials,
    )

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict = {}

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def get_password(self, service, username):
            return self.store.get((service, username))

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    monkeypatch.delenv("SPECTER_DESK_NO_KEYRING", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        paths = Paths.resolve()
        assert save_credentials(paths, {"api_key": "k", "user_id": "1"}) == "keyring"
        assert not credentials_file(paths).exists()
        assert load_credentials(paths) == {"api_key": "k", "user_id": "1"}
        delete_credentials(paths)
        assert load_credentials(paths) == {}
    finally:
        keyring.set_keyring(previous)


def test_a_first_import_with_repeated_keys_names_the_repeats_not_another_library(home, tmp_path):
    path = tmp_path / "twice.jsonl"
    path.write_text(
        '{"key": "K1", "title": "First"}\n{"key": "K1", "title": "First again"}\n'
        '{"key": "K2", "title": "Second"}\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    for command in (["import", str(path)], ["sync", "--library", str(path), "--no-embed"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        assert "another library" not in result.stderr
        assert "K1: repeats the key of an earlier record (the first is kept)" in result.stderr
    from specter_desk.store import Store

    store = Store(home / "library.db")
    assert store.get_paper("K1").title == "First"
    store.close()


def _live_keys(home) -> set[str]:
    from specter_desk.store import Store

    store = Store(home / "library.db")
    try:
        return {p.key for p in store.papers()}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "is empty"),
        (b" \n\t\r\n  \n", "is empty"),
        (None, "would flag 37 of the 40 papers"),  # cut in the fourth entry
    ],
    ids=["zero-bytes", "whitespace", "truncated"],
)
def test_sync_refuses_an_empty_or_cut_export_and_keeps_the_library(home, tmp_path, content, why):
    full = (EXPORTS / "zotero_export_40.bib").read_bytes()
    path = tmp_path / "library.bib"
    path.write_bytes(full)
    runner = CliRunner()
    first = runner.invoke(app, ["sync", "--library", str(path), "--no-embed"])
    assert first.exit_code == 0, first.output
    before = _live_keys(home)
    assert len(before) == 40
    third = [m.start() for m in re.finditer(rb"\n@", full)][2]
    path.write_bytes(full[: third + 40] if content is None else content)
    result = runner.invoke(app, ["sync", "--library", str(path), "--no-embed"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and why in result.stderr
    assert "--allow-shrink" in result.stderr
    assert _live_keys(home) == before
    allowed = runner.invoke(
        app, ["sync", "--library", str(path), "--no-embed", "--allow-shrink", "--json"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["deleted"] == (40 if content is not None else 37)


def test_sync_takes_a_file_that_lost_a_few_papers(home, tmp_path):
    full = (EXPORTS / "zotero_export_40.bib").read_text(encoding="utf-8")
    path = tmp_path / "library.bib"
    path.write_text(full, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--library", str(path), "--no-embed"]).exit_code == 0
    entries = full.split("\n@")
    path.write_text("\n@".join(entries[:-5]), encoding="utf-8")
    result = runner.invoke(app, ["sync", "--library", str(path), "--no-embed", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deleted"] == 5
