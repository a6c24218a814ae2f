"""Identifier normalisation: DOI, arXiv id, ISBN, PMID, titles and years."""

from __future__ import annotations

import pytest

from specter_desk.models import (
    Paper,
    content_hash,
    find_arxiv_id,
    normalize_arxiv_id,
    normalize_doi,
    normalize_isbn,
    normalize_pmid,
    normalize_title,
    parse_year,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1145/3292500.3330701", "10.1145/3292500.3330701"),
        ("https://doi.org/10.1145/3292500.3330701", "10.1145/3292500.3330701"),
        ("http://dx.doi.org/10.1057/JIT.2008.33", "10.1057/jit.2008.33"),
        ("doi:10.1000/XYZ123", "10.1000/xyz123"),
        ("DOI: 10.1000/abc.", "10.1000/abc"),
        ("  10.48550/arXiv.2004.07180 ", "10.48550/arxiv.2004.07180"),
        ("doi.org/10.1016/j.cell.2020.01.001", "10.1016/j.cell.2020.01.001"),
        ("https://doi.org/10.1002%2Fanie.201", "10.1002/anie.201"),
        ("not a doi", None),
        ("11.1000/abc", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_doi(raw, expected):
    assert normalize_doi(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2004.07180", "2004.07180"),
        ("2004.07180v3", "2004.07180"),
        ("arXiv:2004.07180v2", "2004.07180"),
        ("https://arxiv.org/abs/2004.07180v1", "2004.07180"),
        ("https://arxiv.org/pdf/1706.03762.pdf", "1706.03762"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136", "math.gt/0309136"),
        ("1234", None),
        (None, None),
    ],
)
def test_normalize_arxiv_id(raw, expected):
    assert normalize_arxiv_id(raw) == expected


def test_find_arxiv_id_in_url_extra_or_doi():
    assert find_arxiv_id("https://arxiv.org/abs/2101.00001v4") == "2101.00001"
    assert find_arxiv_id(None, "tex.note: arXiv: 1810.04805") == "1810.04805"
    assert find_arxiv_id("10.48550/arXiv.2303.08774") == "2303.08774"
    assert find_arxiv_id("https://example.org/paper") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("978-0-262-03384-8", "9780262033848"),
        ("0-262-03384-4", "9780262033848"),  # ISBN-10 -> ISBN-13
        ("0 19 853453 1", "9780198534532"),
        ("080442957X", "9780804429573"),  # X check digit
        ("9780262033848 (hbk.); 0262033844", "9780262033848"),
        ("978-0-262-03384-9", None),  # bad check digit
        ("12345", None),
        (None, None),
    ],
)
def test_normalize_isbn(raw, expected):
    assert normalize_isbn(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PMID: 31452104", "31452104"),
        ("31452104", "31452104"),
        ("0012", "12"),
        ("pmid31452104", "31452104"),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_pmid(raw, expected):
    assert normalize_pmid(raw) == expected


def test_normalize_title_removes_diacritics_markup_and_punctuation():
    assert normalize_title("Über <i>Graph</i>-Neural   Networks: A Survey!") == (
        "uber graph neural networks a survey"
    )
    assert normalize_title("Naïve Bayes") == normalize_title("Naive  bayes")
    assert normalize_title(None) == ""


def test_parse_year():
    assert parse_year("2019-05-02") == 2019
    assert parse_year("May 1999") == 1999
    assert parse_year(2020) == 2020
    assert parse_year("n.d.") is None
    assert parse_year("12345") is None


def test_paper_normalises_identifiers_and_takes_arxiv_from_doi():
    paper = Paper(
        key="A",
        title="T",
        doi="https://doi.org/10.48550/arXiv.2004.07180",
        isbn="0-262-03384-4",
        pmid="PMID: 7",
    )
    assert paper.doi == "10.48550/arxiv.2004.07180"
    assert paper.arxiv_id == "2004.07180"
    assert paper.isbn == "9780262033848"
    assert paper.pmid == "7"
    assert paper.text_source == "title"  # no abstract


def test_content_hash_ignores_whitespace_but_not_text():
    assert content_hash("A  title", "An\nabstract") == content_hash("A title", "An abstract")
    assert content_hash("A title", "An abstract") != content_hash("A title", "Another abstract")
