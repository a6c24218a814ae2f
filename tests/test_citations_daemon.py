"""The daemon's sync runner fetches citations after a library sync when [citations] after_sync
is on: the fake Zotero holds the library, the fake citation server the recorded works."""

from __future__ import annotations

import pytest
from citation_helpers import donners_works
from fake_citations import FakeCitations
from fake_zotero import FakeZotero

from specter_desk.server.daemon import default_sync_runner


@pytest.fixture
def servers(desk, monkeypatch):
    monkeypatch.setenv("SPECTER_DESK_NO_KEYRING", "1")
    with FakeZotero(api_key="k") as zotero, FakeCitations() as citations:
        for work in donners_works()[:6]:
            zotero.add_item(title=work.title, DOI=work.doi, date=str(work.year))
        desk.config.values["zotero"].update(
            url=zotero.url, api_key="k", library_id=str(zotero.user_id)
        )
        desk.config.values["citations"].update(
            openalex_url=citations.base + "/openalex",
            crossref_url=citations.base + "/crossref",
            recent_days=5000,  # the recorded works are from 2021 and before
        )
        yield zotero, citations


def run(desk) -> dict:
    runner = default_sync_runner(desk)
    return runner("user", lambda stage, done, total: None, lambda: False)


def test_citations_follow_a_sync_when_enabled(desk, servers):
    desk.config.values["citations"]["after_sync"] = True
    result = run(desk)
    assert result["added"] == 6
    assert result["citations"]["matched"] == 6 and result["citations"]["items"] == 6
    pool = result["citations"]["citing_candidates"]
    assert pool > 0 and result["embedded"] == 6 + pool  # the citing papers are embedded too


def test_no_citation_requests_when_disabled(desk, servers):
    _, citations = servers
    result = run(desk)
    assert "citations" not in result and citations.log == []


def test_a_failing_citation_source_does_not_fail_the_sync(desk, servers):
    _, citations = servers
    desk.config.values["citations"]["after_sync"] = True
    citations.fail("/openalex/", mode="garbage", times=100)
    result = run(desk)
    assert result["added"] == 6 and result["embedded"] == 6
    assert "malformed" in result["citations"]["error"]
