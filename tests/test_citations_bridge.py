"""The bridge's citation routes on a real uvicorn server: the item pane's Cites / Cited-by
lists and related?by=citations|both, with their errors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from citation_helpers import NOW, library_papers, settings_for, sources_for
from fake_citations import FakeCitations
from server_helpers import LiveServer, free_port

from specter_desk.embed.pipeline import embed_missing
from specter_desk.server.app import BridgeContext, create_app
from specter_desk.server.token import ensure_token
from specter_desk.services.citations.fetch import sync_citations


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model) -> Iterator[httpx.Client]:
    from specter_desk.config import Config
    from specter_desk.desk import Desk

    root = tmp_path_factory.mktemp("citations-bridge")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPECTER_DESK_HOME", str(root / "home"))
        config = Config.load()
        config.values["model"]["name"] = "tiny"
        desk = Desk(config, notice=lambda message: None)
        desk.store.upsert_papers(library_papers())
        with FakeCitations() as server:
            settings = settings_for(server, recent_days=5000)
            sync_citations(desk.store, settings, sources=sources_for(server), now=NOW)
        embed_missing(desk.store, desk.encoder())
        desk.index(refresh=True)
        token = ensure_token(desk.paths.data_dir)
        port = free_port()
        app = create_app(BridgeContext(desk), token=lambda: token, port=port)
        with LiveServer(app, port) as live:
            with httpx.Client(
                base_url=live.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as http:
                yield http
        desk.close()


def test_status_says_how_much_is_matched(client):
    citations = client.get("/v1/status").json()["citations"]
    assert (citations["items"], citations["matched"]) == (17, 16)
    assert citations["matches"]["none"] == 1 and citations["last_fetch"]


def test_citations_lists_with_counts_and_library_marks(client):
    response = client.get("/v1/papers/LIB00000/citations")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["work"] == "W2400928773" and data["matched_by"] == "doi"
    counts = data["counts"]
    assert counts["cites"] == len(data["cites"]) > 10
    assert counts["cited_by"] >= counts["cited_by_listed"] == len(data["cited_by"])
    assert counts["cited_by_in_library"] == sum(e["in_library"] for e in data["cited_by"]) >= 5
    for entry in data["cited_by"]:
        assert entry["in_library"] == (entry["pool"] == "library")
        assert entry["in_library"] <= bool(entry["key"])
    outside = [e for e in data["cites"] + data["cited_by"] if not e["in_library"] and e["doi"]]
    assert outside and all(e["url"] == f"https://doi.org/{e['doi']}" for e in outside)


def test_candidates_citing_the_paper_are_marked_by_pool(client):
    data = client.get("/v1/papers/LIB00000/citations").json()
    candidates = [e for e in data["cited_by"] if e["pool"] == "candidates"]
    assert candidates and all(e["key"].startswith("openalex:W") for e in candidates)


def test_citations_limit_caps_each_list(client):
    data = client.get("/v1/papers/LIB00000/citations", params={"limit": 2}).json()
    assert len(data["cites"]) == 2 and len(data["cited_by"]) == 2
    assert data["counts"]["cites"] > 2  # the counts stay whole


def test_an_unmatched_paper_answers_with_a_message(client):
    data = client.get("/v1/papers/UNKNOWN1/citations").json()
    assert data["work"] is None and data["cites"] == [] and "citations sync" in data["message"]


def test_citations_of_an_unknown_key_is_404(client):
    response = client.get("/v1/papers/NOSUCH99/citations")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_citations_limit_out_of_range_is_refused(client):
    response = client.get("/v1/papers/LIB00000/citations", params={"limit": 0})
    assert response.status_code == 422


def test_related_by_citations_gives_reasons(client):
    response = client.get("/v1/papers/LIB00000/related", params={"by": "citations", "k": 5})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["by"] == "citations" and data["model"] is None and len(data["related"]) == 5
    assert all(hit["reasons"] for hit in data["related"])


def test_related_by_both_fuses(client):
    data = client.get("/v1/papers/LIB00000/related", params={"by": "both", "k": 6}).json()
    assert data["model"] == "tiny" and len(data["related"]) == 6
    assert all(set(hit["scores"]) == {"meaning", "citations"} for hit in data["related"])


def test_related_by_meaning_has_no_citation_reasons(client):
    data = client.get("/v1/papers/LIB00000/related", params={"k": 3, "by": "meaning"}).json()
    assert data["by"] == "meaning" and all(hit["reasons"] == [] for hit in data["related"])


def test_related_by_default_fuses_when_the_paper_has_citation_data(client):
    assert client.get("/v1/papers/LIB00000/related").json()["by"] == "both"
    assert client.get("/v1/papers/UNKNOWN1/related").json()["by"] == "meaning"


def test_related_by_citations_without_data_is_409(client):
    response = client.get("/v1/papers/UNKNOWN1/related", params={"by": "citations"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_citations"


def test_related_by_both_without_data_falls_back_with_a_message(client):
    data = client.get("/v1/papers/UNKNOWN1/related", params={"by": "both", "k": 3}).json()
    assert "meaning only" in data["message"] and len(data["related"]) == 3


def test_related_by_an_unknown_mode_is_422(client):
    response = client.get("/v1/papers/LIB00000/related", params={"by": "vibes"})
    assert response.status_code == 422


def test_recommendations_by_both(client):
    response = client.get("/v1/recommendations", params={"by": "both", "since": "5000d"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results and any(r["reasons"] for r in results)
