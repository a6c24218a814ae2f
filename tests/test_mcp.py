"""`specter-desk mcp`: the read-only MCP tools, driven by the official SDK's own client — in
process against a real store, index and tiny model, and once over stdio as an agent runs it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client, StdioServerParameters

from conftest import make_paper
from specter_desk.server.mcp_tools import create_mcp

TOOLS = {"related", "recommend", "search", "duplicates", "status"}


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def library(desk):
    from specter_desk.embed.pipeline import embed_missing

    lib = dict(library="user:1")
    pool = dict(pool="candidates", library="file:c.jsonl")
    desk.store.upsert_papers(
        [
            make_paper("G1", "Gene regulatory network growth", "Genes.", date_added=_ago(1), **lib),
            make_paper(
                "G2", "Gene Regulatory Network Growth.", "Genes.", date_added=_ago(400), **lib
            ),
            make_paper(
                "R1", "Trust-aware collaborative filtering", "Trust.", date_added=_ago(2), **lib
            ),
            make_paper("C1", "Evolution of transcription factor networks", "TFs.", **pool),
            make_paper("C2", "Evaluating collaborative filtering", "Recsys.", **pool),
            make_paper("C3", "Gene regulatory network growth", "Genes.", **pool),  # a library copy
        ]
    )
    embed_missing(desk.store, desk.encoder("tiny"))
    return desk


def call(server, tool: str, arguments: dict | None = None):
    async def run():
        async with Client(server) as client:
            return await client.call_tool(tool, arguments or {})

    return asyncio.run(run())


def test_the_tools_are_listed_read_only_with_descriptions(library):
    async def run():
        async with Client(create_mcp(lambda: library)) as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in asyncio.run(run())}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.description


def test_related_search_recommend_duplicates_and_status_answer_compactly(library):
    server = create_mcp(lambda: library)
    related = call(server, "related", {"item": "G1", "limit": 5}).structured_content
    keys = [r["key"] for r in related["related"]]
    assert related["item"]["key"] == "G1" and not {"G2", "C3"} & set(keys)  # copies of itself
    assert set(related["related"][0]) >= {"key", "title", "score"}
    found = call(server, "search", {"query": "collaborative filtering", "limit": 3})
    assert len(found.structured_content["results"]) == 3
    rec = call(server, "recommend", {"since": "week", "limit": 5}).structured_content
    assert rec["seeds"] == 2 and rec["scope"] == "the library"
    assert {r["key"] for r in rec["results"]} == {"C1", "C2"}  # never C3, a library copy
    assert all(r["in_library"] is False and r["because"] for r in rec["results"])
    dups = call(server, "duplicates", {}).structured_content
    assert dups["duplicate_groups"] == 1
    assert {p["key"] for p in dups["groups"][0]["papers"]} == {"G1", "G2"}
    status = call(server, "status").structured_content
    assert (status["papers"], status["candidates"], status["model"]) == (3, 3, "tiny")
    assert status["vectors"] == {"tiny": 6}


def test_tool_errors_are_one_line_tool_errors_and_nothing_is_written(library):
    server = create_mcp(lambda: library)
    before = library.store.db.execute("SELECT count(*) FROM feedback").fetchone()
    missing = call(server, "related", {"item": "no such paper anywhere"})
    assert (
        missing.is_error and "no paper matches 'no such paper anywhere'" in missing.content[0].text
    )
    bad = call(server, "recommend", {"since": "fortnight"})
    assert bad.is_error and "cannot read --since 'fortnight'" in bad.content[0].text
    too_many = call(server, "search", {"query": "genes", "limit": 500})
    assert too_many.is_error and "limit" in too_many.content[0].text
    unknown = call(server, "recommend", {"collection": "Physics"})
    assert unknown.is_error and "no collection 'Physics'" in unknown.content[0].text
    assert library.store.db.execute("SELECT count(*) FROM feedback").fetchone() == before


def test_specter_desk_mcp_over_stdio(library, home):
    """The command an agent configures: a subprocess speaking MCP on stdin/stdout."""
    library.close()
    env = {**os.environ, "SPECTER_DESK_HOME": str(home), "SPECTER_DESK_MODEL": "tiny"}
    code = (
        "import sys; from specter_desk.embed.registry import ModelSpec, register_model; "
        f"register_model(ModelSpec('tiny', 'example/tiny-bert', 't', local_path=lambda: "
        f"{_tiny_path()!r})); "
        "from specter_desk.cli import main; sys.argv = ['specter-desk', 'mcp']; main()"
    )
    params = StdioServerParameters(command=sys.executable, args=["-c", code], env=env)

    async def run():
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            status = await client.call_tool("status", {})
            return names, status

    names, status = asyncio.run(run())
    assert names == TOOLS
    assert json.loads(status.content[0].text)["papers"] == 3


def _tiny_path() -> str:
    from specter_desk.embed.registry import get_model

    return get_model("tiny").local_path()
