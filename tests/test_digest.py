"""recommend --format json|markdown|html|atom: every format carries the ranking in the same
stable order with its links, authors, abstracts and reasons; the Atom feed parses as Atom."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import pytest
from test_recommend import NOW, index_of, put, unit
from typer.testing import CliRunner

from specter_desk.cli import app
from specter_desk.errors import InputError
from specter_desk.services.digest import check_format, render, to_atom
from specter_desk.services.recommend import recommend

A = "{http://www.w3.org/2005/Atom}"
runner = CliRunner()


@pytest.fixture
def answer(store):
    put(store, "SEED", "Sparse coding <basics>", unit((0, 1)), added=1)
    people = [
        {"creatorType": "author", "firstName": "Ada", "lastName": "Lovelace"},
        {"creatorType": "editor", "firstName": "Ed", "lastName": "Itor"},
    ]
    put(
        store,
        "C1",
        "Dictionary learning & *fast* codes",
        unit((0, 1), (1, 0.2)),
        pool="candidates",
        doi="10.1234/dl",
        creators=people,
        year=2021,
        venue="JMLR",
        abstract="We learn dictionaries. <b>Quickly</b>.",
    )
    put(
        store,
        "C2",
        "Codes from arXiv",
        unit((0, 1), (1, 0.5)),
        pool="candidates",
        arxiv_id="2101.00001",
    )
    put(store, "C3", "Codes without a link", unit((0, 1), (1, 0.9)), pool="candidates")
    return store, recommend(store, index_of(store), since="week", now=NOW, diversity=False)


def test_markdown_lists_the_ranking_with_links_details_and_reasons(answer):
    store, found = answer
    text = render(store, found, "markdown")
    assert (
        text.index("Dictionary learning")
        < text.index("Codes from arXiv")
        < text.index("Codes without a link")
    )
    assert "1. **[Dictionary learning & \\*fast\\* codes](https://doi.org/10.1234/dl)**" in text
    assert "(https://arxiv.org/abs/2101.00001)" in text
    assert "3. **Codes without a link**" in text
    assert "Ada Lovelace, 2021, JMLR" in text and "Itor" not in text  # editors are not authors
    assert "because of: Sparse coding \\<basics\\>" in text


def test_html_escapes_everything_and_parses(answer):
    store, found = answer
    text = render(store, found, "html")
    assert "<b>Quickly</b>" not in text and "&lt;b&gt;Quickly&lt;/b&gt;" in text
    assert '<a href="https://doi.org/10.1234/dl">Dictionary learning &amp; *fast* codes</a>' in text
    starts: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            starts.append(tag)

    Collect().feed(text)
    assert starts.count("li") == 3 and "blockquote" in starts


def test_atom_is_an_atom_feed_with_one_stable_entry_per_paper(answer):
    store, found = answer
    text = to_atom(store, found, feed_id="urn:test:feed", now=NOW)
    assert text == to_atom(store, found, feed_id="urn:test:feed", now=NOW)  # stable
    feed = ET.fromstring(text)
    assert feed.tag == f"{A}feed" and feed.findtext(f"{A}updated") == "2026-11-25T12:00:00Z"
    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}id") for e in entries] == [
        "urn:test:feed:C1",
        "urn:test:feed:C2",
        "urn:test:feed:C3",
    ]
    first = entries[0]
    assert first.findtext(f"{A}title") == "Dictionary learning & *fast* codes"
    assert [a.findtext(f"{A}name") for a in first.findall(f"{A}author")] == ["Ada Lovelace"]
    assert first.find(f"{A}link[@rel='alternate']").get("href") == "https://doi.org/10.1234/dl"
    assert first.findtext(f"{A}summary") == "We learn dictionaries. <b>Quickly</b>."
    content = first.find(f"{A}content")
    assert content.get("type") == "html"
    assert "because of: Sparse coding &lt;basics&gt; (0.98)" in content.text
    assert first.findtext(f"{A}published") == "2021-01-01T00:00:00Z"
    assert entries[2].find(f"{A}link") is None  # no DOI, arXiv id or URL


def test_json_digest_adds_rank_link_authors_and_abstract(answer):
    store, found = answer
    data = json.loads(render(store, found, "json"))
    assert [r["key"] for r in data["results"]] == ["C1", "C2", "C3"]
    assert [r["rank"] for r in data["results"]] == [1, 2, 3]
    assert data["results"][0]["authors"] == ["Ada Lovelace"]
    assert data["results"][1]["link"] == "https://arxiv.org/abs/2101.00001"


def test_an_empty_answer_is_still_a_valid_document(store):
    put(store, "OLD", "Old", unit((0, 1)), added=300)
    found = recommend(store, index_of(store), since="week", now=NOW)
    assert found.message
    feed = ET.fromstring(to_atom(store, found, now=NOW))
    assert feed.findall(f"{A}entry") == [] and "no papers were added" in feed.findtext(
        f"{A}subtitle"
    )
    assert found.message in render(store, found, "markdown")
    assert json.loads(render(store, found, "json"))["message"] == found.message


def test_unknown_formats_are_refused():
    with pytest.raises(InputError, match="json, markdown, html, atom"):
        check_format("pdf")


def test_recommend_format_on_the_command_line(home, tmp_path, tiny_model):
    from test_recommend_cli import import_world

    import_world(tmp_path)
    args = ["recommend", "--model", "tiny", "--since", "3d", "-n", "3"]
    atom = runner.invoke(app, [*args, "--format", "atom"])
    assert atom.exit_code == 0, atom.output
    assert len(ET.fromstring(atom.stdout).findall(f"{A}entry")) == 3
    as_json = runner.invoke(app, [*args, "--format", "json"])
    legacy = runner.invoke(app, [*args, "--json"])
    assert json.loads(as_json.stdout)["results"] == json.loads(legacy.stdout)["results"]
    markdown = runner.invoke(app, [*args, "-f", "markdown"])
    assert markdown.stdout.startswith("# Recommended for")
    titles = [r["title"] for r in json.loads(as_json.stdout)["results"]]
    places = [markdown.stdout.index(t[:20].replace("*", "\\*")) for t in titles]
    assert places == sorted(places)  # one ranking, whatever the format
    bad = runner.invoke(app, [*args, "--format", "pdf"])
    assert bad.exit_code == 2 and "unknown format 'pdf'" in bad.output
