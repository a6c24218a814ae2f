"""A fake OpenAlex + Crossref + Semantic Scholar: a real HTTP server on 127.0.0.1 that replays
the real recorded responses in tests/fixtures/citations/ (see SOURCE.md there).

    with FakeCitations() as server:
        env = server.env()   # SPECTER_DESK_OPENALEX_URL=.../openalex, CROSSREF=.../crossref, ...

What is replayed and what is built:
- OpenAlex singletons (`/works/W..`, `/works/doi:..`, `/works/https://doi.org/..`,
  `/works/pmid:..`): the recorded body and headers when that work was recorded on its own, else
  the real work object from a recorded list (SYNERGY), serialised; an unknown work gets the
  real recorded 404 HTML page with its headers.
- OpenAlex lists (`/works?filter=...`): the real work objects, filtered, sorted and paged here,
  inside a `meta` envelope built the way the recorded pages show it (no recorded non-empty
  `cites:` page nor a cursor page exists; see the data README's gaps). `select` is honoured.
  `cites:W3209445140` with page=1&per_page=50 is the real recorded empty page, byte for byte.
- Crossref `/works/<doi>` and Semantic Scholar `/graph/v1/paper/<id>/references`: recorded
  bodies and headers by DOI (and offset); unknown ones get the recorded 404 bodies.
Recorded headers are replayed without Content-Encoding / Content-Length / Transfer-Encoding:
the stored bodies are already decoded (the data README's quirk).

Faults: `server.fail(path_part, status=429, headers=..., times=1)` or a `mode` of "drop" (close
the connection without an answer), "truncate" (announce more bytes than are sent) or
"garbage" (200 with a body that is not JSON).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from fake_http import LocalHTTPFake

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "citations"
DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


def load_json(path: Path) -> Any:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def recorded_headers(sidecar: Path | None) -> tuple[int, list[tuple[str, str]]]:
    """(status, headers) of a recorded response, minus the stale encoding headers."""
    if sidecar is None or not sidecar.exists():
        return 200, [("Content-Type", "application/json")]
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    response = data["response"]
    headers = [
        (name, value)
        for name, values in response["headers"].items()
        if name.lower() not in DROPPED_HEADERS
        for value in values
    ]
    return int(response["status"]["code"]), headers


def short_id(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def norm_doi(value: str | None) -> str:
    value = (value or "").lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
        value = value.removeprefix(prefix)
    return value


@dataclass
class Fault:
    path_part: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    mode: str = "status"  # status | drop | truncate | garbage
    times: int = 1


@dataclass
class Recorded:
    body: Path
    sidecar: Path | None = None


class FakeCitations(LocalHTTPFake):
    """The server; start()/stop() or a context manager."""

    def __init__(self, *, works: list[dict[str, Any]] | None = None):
        self.works: dict[str, dict[str, Any]] = {}
        self.singletons: dict[str, Recorded] = {}  # work id -> its own recording
        self.crossref: dict[str, Recorded] = {}  # doi -> recording
        self.s2_references: dict[str, dict[int, Recorded]] = {}  # doi -> offset -> page
        self.faults: list[Fault] = []
        self.log: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self._load_fixtures(works)

    # -- data -----------------------------------------------------------------------------

    def _load_fixtures(self, works: list[dict[str, Any]] | None) -> None:
        oa = FIXTURES / "openalex"
        for work in works if works is not None else load_json(oa / "donners_works.json.gz"):
            self.works[short_id(work["id"])] = work
        for name in ("works_W2741809807.json", "works_W3209445140.json"):
            work = load_json(oa / name)
            self.works[short_id(work["id"])] = work
            self.singletons[short_id(work["id"])] = Recorded(oa / name)
        cross = FIXTURES / "cross_source"
        for body in sorted(cross.glob("*.openalex.json")):
            work = load_json(body)
            self.works[short_id(work["id"])] = work
            self.singletons[short_id(work["id"])] = Recorded(
                body, body.with_name(body.name.replace(".json", ".http.json"))
            )
        for body in sorted(
            [*cross.glob("*.crossref.json"), *FIXTURES.glob("crossref/works_*.json")]
        ):
            message = load_json(body).get("message", {})
            self.crossref[norm_doi(message.get("DOI"))] = Recorded(
                body, body.with_name(body.name.replace(".json", ".http.json"))
            )
        s2 = FIXTURES / "semanticscholar"
        self.s2_references["10.2139/ssrn.2250500"] = {
            0: Recorded(
                s2 / "references_title_offset0.json", s2 / "references_title_offset0.http.json"
            ),
            50: Recorded(
                s2 / "references_title_offset50.json", s2 / "references_title_offset50.http.json"
            ),
        }

    def find(self, ident: str) -> dict[str, Any] | None:
        """A work by W id, DOI (any prefix) or pmid:N."""
        ident = unquote(ident)
        if ident.upper().startswith("W") and ident[1:].isdigit():
            return self.works.get(ident.upper())
        if ident.lower().startswith("pmid:"):
            pmid = ident.split(":", 1)[1]
            for work in self.works.values():
                if str(work.get("ids", {}).get("pmid", "")).rstrip("/").endswith("/" + pmid):
                    return work
            return None
        doi = norm_doi(ident)
        for work in self.works.values():
            if norm_doi(work.get("doi")) == doi:
                return work
        return None

    def fail(self, path_part: str, **kwargs: Any) -> None:
        """Answer the next `times` requests whose path contains path_part with a fault."""
        with self.lock:
            self.faults.append(Fault(path_part, **kwargs))

    # -- lifecycle (start/stop/with, port, base: LocalHTTPFake) -------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def env(self) -> dict[str, str]:
        """Environment variables that point specter-desk at this server."""
        return {
            "SPECTER_DESK_OPENALEX_URL": self.base + "/openalex",
            "SPECTER_DESK_CROSSREF_URL": self.base + "/crossref",
            "SPECTER_DESK_SEMANTICSCHOLAR_URL": self.base + "/s2",
        }

    def requests(self, part: str = "") -> list[dict[str, Any]]:
        """Logged requests whose path contains part."""
        with self.lock:
            return [r for r in self.log if part in r["path"]]

    # -- OpenAlex lists ---------------------------------------------------------------------

    def list_works(self, query: dict[str, str]) -> dict[str, Any] | None:
        """The filtered, sorted, paged answer of /works (None: a filter this fake cannot do)."""
        results = list(self.works.values())
        for part in filter(None, (query.get("filter") or "").split(",")):
            key, _, value = part.partition(":")
            options = value.split("|")
            if key in ("doi",):
                wanted = {norm_doi(v) for v in options}
                results = [w for w in results if norm_doi(w.get("doi")) in wanted]
            elif key in ("openalex", "openalex_id", "ids.openalex"):
                wanted = {short_id(v).upper() for v in options}
                results = [w for w in results if short_id(w["id"]) in wanted]
            elif key in ("pmid", "ids.pmid"):
                wanted = {v.rsplit("/", 1)[-1] for v in options}
                results = [
                    w
                    for w in results
                    if str(w.get("ids", {}).get("pmid", "")).rsplit("/", 1)[-1] in wanted
                ]
            elif key == "cites":
                wanted = {f"https://openalex.org/{short_id(v).upper()}" for v in options}
                results = [w for w in results if wanted & set(w.get("referenced_works") or [])]
            elif key == "title.search":
                words = value.lower().split()
                results = [
                    w
                    for w in results
                    if all(word in _words(w.get("title") or "") for word in words)
                ]
            elif key == "publication_year":
                low, _, high = value.partition("-")
                results = [
                    w for w in results if int(low) <= int(w["publication_year"]) <= int(high or low)
                ]
            elif key == "from_publication_date":
                results = [w for w in results if (w.get("publication_date") or "") >= value]
            else:
                return None
        if query.get("sort") == "publication_date:desc":
            results.sort(key=lambda w: (w.get("publication_date") or "", w["id"]), reverse=True)
        else:
            results.sort(key=lambda w: w["id"])
        per_page = int(query.get("per_page") or query.get("per-page") or 25)
        meta: dict[str, Any] = {
            "count": len(results),
            "db_response_time_ms": 12,
            "page": None,
            "per_page": per_page,
            "groups_count": None,
        }
        if "cursor" in query:
            start = 0 if query["cursor"] == "*" else _decode_cursor(query["cursor"])
            page = results[start : start + per_page]
            end = start + len(page)
            meta["next_cursor"] = _encode_cursor(end) if end < len(results) else None
        else:
            number = int(query.get("page") or 1)
            meta["page"] = number
            page = results[(number - 1) * per_page : number * per_page]
        if query.get("select"):
            fields = query["select"].split(",")
            page = [{k: w[k] for k in fields if k in w} for w in page]
        return {"meta": meta, "results": page, "group_by": []}


def _words(text: str) -> set[str]:
    import re

    return set(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1])


class _Handler(BaseHTTPRequestHandler):
    fake: FakeCitations
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parsed = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        path = parsed.path
        with self.fake.lock:
            self.fake.log.append({"path": path, "query": query})
            fault = next((f for f in self.fake.faults if f.path_part in self.path), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.fake.faults.remove(fault)
        if fault is not None:
            self._fault(fault)
            return
        if path.startswith("/openalex/works"):
            self._openalex(path.removeprefix("/openalex/works"), query)
        elif path.startswith("/crossref/works/"):
            doi = norm_doi(unquote(path.removeprefix("/crossref/works/")))
            recorded = self.fake.crossref.get(doi)
            if recorded is None:
                self._replay(
                    Recorded(
                        FIXTURES / "crossref/works_10.1371-notarealdoi_404.txt",
                        FIXTURES / "crossref/works_10.1371-notarealdoi_404.http.json",
                    )
                )
            else:
                self._replay(recorded)
        elif path.startswith("/s2/graph/v1/paper/") and path.endswith("/references"):
            paper = unquote(path.removeprefix("/s2/graph/v1/paper/").removesuffix("/references"))
            pages = self.fake.s2_references.get(norm_doi(paper.removeprefix("DOI:")))
            recorded = pages.get(int(query.get("offset", 0))) if pages else None
            if recorded is None:
                s2 = FIXTURES / "semanticscholar"
                recorded = Recorded(
                    s2 / "paper_not_found_404.json", s2 / "paper_not_found_404.http.json"
                )
            self._replay(recorded)
        else:
            self._send(
                404,
                b'{"error": "no such path in the fake"}',
                [("Content-Type", "application/json")],
            )

    def _openalex(self, rest: str, query: dict[str, str]) -> None:
        if rest in ("", "/"):
            if (
                query.get("filter") == "cites:W3209445140"
                and query.get("page") == "1"
                and query.get("per_page") == "50"
            ):
                self._replay(
                    Recorded(
                        FIXTURES / "openalex/works_filter_cites_W3209445140_page_1_per_page_50.json"
                    )
                )
                return
            if int(query.get("per_page") or 25) > 200:
                body = b'{"error": "Invalid query parameters error.", "message": "per-page"}'
                self._send(400, body, [("Content-Type", "application/json")])
                return
            answer = self.fake.list_works(query)
            if answer is None:
                self._send(
                    400,
                    b'{"error": "unsupported filter in the fake"}',
                    [("Content-Type", "application/json")],
                )
                return
            self._send(200, json.dumps(answer).encode(), [("Content-Type", "application/json")])
            return
        work = self.fake.find(rest.lstrip("/"))
        if work is None:
            self._replay(
                Recorded(
                    FIXTURES / "openalex/works_doi_not_in_openalex_404.html",
                    FIXTURES / "openalex/works_doi_not_in_openalex_404.http.json",
                )
            )
            return
        recorded = self.fake.singletons.get(short_id(work["id"]))
        if recorded is not None:
            self._replay(recorded)
        else:
            self._send(200, json.dumps(work).encode(), [("Content-Type", "application/json")])

    def _replay(self, recorded: Recorded) -> None:
        status, headers = recorded_headers(recorded.sidecar)
        self._send(status, recorded.body.read_bytes(), headers)

    def _fault(self, fault: Fault) -> None:
        if fault.mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault.mode == "truncate":
            body = b'{"meta": {"count": 1}, "results": [{"id": "https://openalex.org/W1'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 500))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault.mode == "garbage":
            self._send(
                200, b"<html>upstream proxy error</html>", [("Content-Type", "application/json")]
            )
            return
        self._send(fault.status, fault.body, list(fault.headers.items()))

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
