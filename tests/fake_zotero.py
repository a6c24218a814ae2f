"""A fake Zotero server: a real HTTP server on 127.0.0.1 speaking web API v3 (and the local API).

Web mode serves `/users/ID/...` and `/groups/ID/...` with `Last-Modified-Version`,
`Total-Results` and `Link` paging, `If-Modified-Since-Version` -> 304, `/deleted`,
`/fulltext`, `/items/KEY/fulltext`, `/keys/KEY`, 403 for a wrong key, and injectable 429/503
(with `Retry-After`), `Backoff` headers and slow pages. Local mode answers as Zotero 10's local
API does under `/api/` (recorded from the real app in tests/fixtures/zotero10; test_zotero10
compares the two): user 0, no key, no `/deleted`, no paging, `Last-Modified-Version` and 304,
`Zotero-Server-ID` on every response (412 when a request names another), 403 "Local API is not
enabled" when switched off, `itemKey=` never returning an item in the trash, and moving an
item to the trash changing no version. pyzotero talks to it unmodified: set `zot.endpoint`.

Use it from tests, benchmarks or a shell:

    with FakeZotero(api_key="k") as server:
        server.add_items(item_json_list)          # or server.add_item(title=..., ...)
        url = server.url                          # http://127.0.0.1:PORT  (local: .../api)
"""

from __future__ import annotations

import copy
import json
import random
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from fake_http import LocalHTTPFake

DATA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "zotero"
_KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


def random_key(rng: random.Random) -> str:
    """An 8-character Zotero object key."""
    return "".join(rng.choice(_KEY_CHARS) for _ in range(8))


@dataclass
class Library:
    """One library: items by key, a version counter, a deletion log and full texts."""

    kind: str  # "users" or "groups"
    id: int
    name: str = "Library"
    version: int = 0
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)  # key -> version when deleted
    fulltext: dict[str, tuple[int, str]] = field(default_factory=dict)  # attachment key
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> envelope
    deleted_collections: dict[str, int] = field(default_factory=dict)


@dataclass
class Injection:
    status: int
    headers: dict[str, str]
    times: int
    path_contains: str
    body: str = ""


class FakeZotero(LocalHTTPFake):
    """The server; thread-safe; start() / stop() or use as a context manager."""

    def __init__(
        self,
        *,
        api_key: str | None = "good-key",
        user_id: int = 475425,
        local: bool = False,
        local_api_enabled: bool = True,
        server_id: str | None = "fakeserver1",
        page_delay: float = 0.0,
        seed: int = 0,
    ):
        self.api_key = api_key
        self.user_id = user_id
        self.local = local
        self.local_api_enabled = local_api_enabled
        self.server_id = server_id
        self.page_delay = page_delay
        self.rng = random.Random(seed)
        self.libraries: dict[tuple[str, int], Library] = {
            ("users", user_id): Library("users", user_id, "My Library"),
        }
        self.log: list[dict[str, Any]] = []
        self.injections: list[Injection] = []
        # Called with each logged request once it is answered (tests change the library
        # mid-sync with it).
        self.on_request: Callable[[dict[str, Any]], None] | None = None
        self.lock = threading.RLock()
        self.dead = False  # refuse_connections() was called

    # -- lifecycle (start/stop/with, port, base: LocalHTTPFake) -------------------------

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def refuse_connections(self) -> None:
        """Die as a killed Zotero does: the answer being sent is the last one on its connection
        and new connections are refused (stop() still ends the server thread)."""
        assert self._httpd is not None
        self.dead = True
        self._httpd.socket.close()

    @property
    def url(self) -> str:
        """The endpoint pyzotero uses: the base for the web API, base + /api for local."""
        return self.base + ("/api" if self.local else "")

    # -- library editing ----------------------------------------------------------------

    def library(self, kind: str = "users", id: int | None = None) -> Library:
        key = (kind, self.user_id if id is None else id)
        with self.lock:
            if key not in self.libraries:
                self.libraries[key] = Library(kind, key[1], f"Group {key[1]}")
            return self.libraries[key]

    def add_items(self, items: list[dict[str, Any]], *, library: Library | None = None) -> None:
        """Add full item JSON objects ({key, data}); all get the next library version."""
        lib = library or self.library()
        with self.lock:
            lib.version += 1
            for item in items:
                item = copy.deepcopy(item)
                data = item.get("data", item)
                key = data.get("key") or item.get("key") or random_key(self.rng)
                data["key"] = key
                data["version"] = lib.version
                lib.items[key] = self._envelope(lib, data)
                lib.deleted.pop(key, None)

    def add_item(self, *, library: Library | None = None, **data: Any) -> str:
        """Add one item from data fields (title=..., abstractNote=...); returns its key."""
        data.setdefault("key", random_key(self.rng))
        data.setdefault("itemType", "journalArticle")
        for name in ("title", "abstractNote", "date", "DOI", "url", "extra"):
            data.setdefault(name, "")
        data.setdefault("creators", [])
        data.setdefault("tags", [])
        data.setdefault("collections", [])
        data.setdefault("dateAdded", "2024-01-01T00:00:00Z")
        data.setdefault("dateModified", "2024-01-01T00:00:00Z")
        self.add_items([{"data": data}], library=library)
        return data["key"]

    def update_item(self, key: str, *, library: Library | None = None, **fields: Any) -> None:
        """Change fields of an item (bumps the library and item version)."""
        lib = library or self.library()
        with self.lock:
            data = dict(lib.items[key]["data"])
            data.update(fields)
            self.add_items([{"data": data}], library=lib)

    def trash_item(self, key: str, *, library: Library | None = None) -> None:
        """Move an item to the trash (data.deleted = 1). Zotero 10.0's local API keeps the
        item's and the library's version when it does this; the web API bumps both."""
        if not self.local:
            self.update_item(key, library=library, deleted=1)
            return
        lib = library or self.library()
        with self.lock:
            lib.items[key]["data"]["deleted"] = 1

    def delete_item(self, key: str, *, library: Library | None = None) -> None:
        """Delete an item for good (it shows up in /deleted)."""
        lib = library or self.library()
        with self.lock:
            lib.version += 1
            lib.items.pop(key)
            lib.deleted[key] = lib.version

    def add_collection(
        self,
        name: str,
        *,
        parent: str | None = None,
        key: str | None = None,
        library: Library | None = None,
    ) -> str:
        """Add (or rename, for an existing key) a collection; bumps the library version."""
        lib = library or self.library()
        with self.lock:
            lib.version += 1
            key = key or random_key(self.rng)
            data = {
                "key": key,
                "version": lib.version,
                "name": name,
                "parentCollection": parent or False,
                "relations": {},
            }
            envelope = self._envelope(lib, data)
            envelope["links"]["self"]["href"] = envelope["links"]["self"]["href"].replace(
                "/items/", "/collections/"
            )
            envelope["meta"] = {"numCollections": 0, "numItems": 0}
            lib.collections[key] = envelope
            lib.deleted_collections.pop(key, None)
            return key

    def delete_collection(self, key: str, *, library: Library | None = None) -> None:
        """Delete a collection for good (it shows up in /deleted)."""
        lib = library or self.library()
        with self.lock:
            lib.version += 1
            lib.collections.pop(key)
            lib.deleted_collections[key] = lib.version

    def set_fulltext(
        self, attachment_key: str, content: str, *, library: Library | None = None
    ) -> None:
        """Give an attachment item full-text content (bumps the library version)."""
        lib = library or self.library()
        with self.lock:
            lib.version += 1
            lib.fulltext[attachment_key] = (lib.version, content)

    def inject(
        self,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_contains: str = "",
        body: str = "",
    ) -> None:
        """Answer the next `times` matching requests with this status (e.g. 429, 503)."""
        with self.lock:
            self.injections.append(Injection(status, headers or {}, times, path_contains, body))

    def requests(self, path_contains: str = "") -> list[dict[str, Any]]:
        """Logged requests (method, path, query, status), optionally filtered."""
        with self.lock:
            return [r for r in self.log if path_contains in r["path"]]

    def _envelope(self, lib: Library, data: dict[str, Any]) -> dict[str, Any]:
        prefix = "users" if lib.kind == "users" else "groups"
        return {
            "key": data["key"],
            "version": data["version"],
            "library": {
                "type": prefix[:-1],
                "id": lib.id,
                "name": lib.name,
                "links": {
                    "alternate": {"href": f"https://www.zotero.org/{lib.id}", "type": "text/html"}
                },
            },
            "links": {
                "self": {
                    "href": f"https://api.zotero.org/{prefix}/{lib.id}/items/{data['key']}",
                    "type": "application/json",
                }
            },
            "meta": {"numChildren": 0},
            "data": data,
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeZotero
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        pass

    def do_GET(self) -> None:  # noqa: N802
        fake = self.fake
        parsed = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        path = parsed.path
        status, headers, body = self._route(fake, path, query)
        with fake.lock:
            fake.log.append(
                {
                    "method": "GET",
                    "path": path,
                    "query": query,
                    "status": status,
                    "headers": dict(self.headers),
                }
            )
        payload = (
            body
            if isinstance(body, bytes)
            else (json.dumps(body).encode() if not isinstance(body, str) else body.encode())
        )
        self.send_response(status)
        if fake.local and fake.server_id:  # None: a Zotero 7-9, which sends no such header
            headers.setdefault("Zotero-Server-ID", fake.server_id)
        if status != 304:
            headers.setdefault(
                "Content-Type", "text/plain" if isinstance(body, str) else "application/json"
            )
        headers.setdefault("Zotero-API-Version", "3")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if status != 304:
            self.wfile.write(payload)
        if fake.on_request is not None:
            fake.on_request(fake.log[-1])
        if fake.dead:
            self.close_connection = True

    # -- routing ------------------------------------------------------------------------

    def _route(self, fake: FakeZotero, path: str, query: dict[str, str]):
        with fake.lock:
            for inj in fake.injections:
                if inj.times > 0 and inj.path_contains in path:
                    inj.times -= 1
                    return inj.status, dict(inj.headers), inj.body or f"HTTP {inj.status}"
        if fake.local:
            if not fake.local_api_enabled:
                return 403, {}, "Local API is not enabled"
            if not path.startswith("/api/"):
                return 404, {}, "Not found"
            path = path[4:]
            sent = self.headers.get("Zotero-Server-ID")
            if sent and sent != fake.server_id:
                return 412, {}, "Zotero-Server-ID does not match this server"
            if path == "/":
                return 200, {}, "Nothing to see here."
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["keys"] and len(parts) == 2:
            key = self._api_key(query) if parts[1] == "current" else parts[1]
            if fake.api_key is None or key != fake.api_key:
                return 403, {}, "Invalid key"
            return (
                200,
                {},
                {
                    "key": key,
                    "userID": fake.user_id,
                    "username": "fake-user",
                    "access": {"user": {"library": True, "files": True}},
                },
            )
        if len(parts) < 3 or parts[0] not in ("users", "groups"):
            return 404, {}, "Not found"
        kind, lib_id = parts[0], parts[1]
        if fake.local and kind == "users" and lib_id == "0":
            lib_id = str(fake.user_id)
        if not lib_id.isdigit() or (kind, int(lib_id)) not in fake.libraries:
            return 404, {}, "Not found"
        if not fake.local and fake.api_key is not None and self._api_key(query) != fake.api_key:
            return 403, {}, "Forbidden"
        with fake.lock:
            lib = fake.libraries[(kind, int(lib_id))]
            return self._library_route(fake, lib, parts[2:], query)

    def _api_key(self, query: dict[str, str]) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:]
        return self.headers.get("Zotero-API-Key") or query.get("key")

    def _library_route(
        self, fake: FakeZotero, lib: Library, rest: list[str], query: dict[str, str]
    ):
        headers: dict[str, str] = {"Last-Modified-Version": str(lib.version)}
        since_header = self.headers.get("If-Modified-Since-Version")
        unmodified = bool(since_header and since_header.isdigit())
        unmodified = unmodified and lib.version <= int(since_header or 0)
        if unmodified and not fake.local:
            return 304, headers, b""
        since = int(query.get("since") or 0)
        if rest == ["deleted"]:
            if fake.local:
                return 404, {}, "Not found"
            if "since" not in query:
                return 400, headers, "'since' parameter must be provided"
            keys = sorted(k for k, v in lib.deleted.items() if v > since)
            gone = sorted(k for k, v in lib.deleted_collections.items() if v > since)
            return (
                200,
                headers,
                {"collections": gone, "searches": [], "items": keys, "tags": [], "settings": []},
            )
        if rest == ["collections"]:
            found = sorted(lib.collections.values(), key=lambda c: c["key"])
            found = [c for c in found if c["version"] > since]
            headers["Total-Results"] = str(len(found))
            return self._page(fake, found, query, headers)
        if rest == ["fulltext"]:
            return 200, headers, {k: v for k, (v, _) in sorted(lib.fulltext.items()) if v > since}
        if len(rest) == 3 and rest[0] == "items" and rest[2] == "fulltext":
            if rest[1] not in lib.fulltext:
                return 404, headers, "Not found"
            version, content = lib.fulltext[rest[1]]
            headers["Last-Modified-Version"] = str(version)
            return 200, headers, {"content": content, "indexedPages": 1, "totalPages": 1}
        if len(rest) == 2 and rest[0] == "items" and rest[1] not in ("top", "trash"):
            item = lib.items.get(rest[1])
            return (200, headers, item) if item else (404, headers, "Not found")
        if rest[:1] != ["items"] or len(rest) > 2:
            return 404, headers, "Not found"
        pool = lib.items.values()
        if query.get("itemKey"):  # by key: no need to sort the whole library
            pool = [lib.items[k] for k in query["itemKey"].split(",") if k in lib.items]
        items = sorted(pool, key=lambda i: (i["data"].get("dateModified", ""), i["key"]))
        if rest[1:] == ["top"]:
            items = [i for i in items if not i["data"].get("parentItem")]
        trash = rest[1:] == ["trash"]
        if trash:
            items = [i for i in items if i["data"].get("deleted")]
        elif query.get("includeTrashed") not in ("1", "true"):
            items = [i for i in items if not i["data"].get("deleted")]
        items = [i for i in items if i["version"] > since]
        if query.get("itemKey"):
            wanted = query["itemKey"].split(",")
            if len(wanted) > 50:
                return 400, headers, "Cannot request more than 50 items by itemKey"
            items = [i for i in items if i["key"] in set(wanted)]
            if fake.local:  # Zotero 10.0: never an item in the trash, includeTrashed or not
                items = [i for i in items if not i["data"].get("deleted")]
        if query.get("itemType"):
            kind = query["itemType"]
            items = [
                i
                for i in items
                if (
                    i["data"]["itemType"] != kind[1:]
                    if kind.startswith("-")
                    else i["data"]["itemType"] == kind
                )
            ]
        headers["Total-Results"] = str(len(items))
        if unmodified:  # the local API answers 304 with the listing's headers
            return 304, headers, b""
        return self._page(fake, items, query, headers)

    def _page(self, fake: FakeZotero, items: list[dict[str, Any]], query: dict[str, str], headers):
        """One page of a listing (the whole of it on the local API or for versions/keys)."""
        fmt = query.get("format", "json")
        if fmt in ("versions", "keys") and "limit" not in query or fake.local:
            page = items
        else:
            limit = min(int(query.get("limit") or 25), 100)
            start = int(query.get("start") or 0)
            page = items[start : start + limit]
            links = []
            if start + limit < len(items):
                links.append(self._link(query, start + limit, limit, "next"))
                last = ((len(items) - 1) // limit) * limit
                links.append(self._link(query, last, limit, "last"))
            links.append(self._link(query, 0, limit, "alternate"))
            headers["Link"] = ", ".join(links)
            if fake.page_delay and fmt == "json":
                time.sleep(fake.page_delay)
        if fmt == "versions":
            return 200, headers, {i["key"]: i["version"] for i in page}
        if fmt == "keys":
            return 200, headers, "\n".join(i["key"] for i in page)
        return 200, headers, page

    def _link(self, query: dict[str, str], start: int, limit: int, rel: str) -> str:
        params = {**query, "start": str(start), "limit": str(limit)}
        params.pop("key", None)
        return f'<{self.fake.base}{urlparse(self.path).path}?{urlencode(params)}>; rel="{rel}"'


def load_fixture_items() -> list[dict[str, Any]]:
    """The 20 real items of pyzotero's items_doc.json (copied into tests/fixtures/zotero)."""
    return json.loads((DATA / "items_doc.json").read_text(encoding="utf-8"))


def synthetic_library(
    server: FakeZotero, n: int, *, seed: int = 0, abstract_every: int = 2, attachment_every: int = 0
) -> list[str]:
    """Add n realistic journal articles (every `abstract_every`-th with an abstract, and every
    `attachment_every`-th, from the second on, with a PDF attachment with full text); returns
    their keys."""
    rng = random.Random(seed)
    words = [w for w in string.ascii_lowercase]
    vocab = ["".join(rng.choice(words) for _ in range(rng.randint(3, 9))) for _ in range(2000)]
    keys, items, texts = [], [], []
    for i in range(n):
        key = random_key(rng)
        title = " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 12))).capitalize()
        abstract = (
            " ".join(rng.choice(vocab) for _ in range(rng.randint(80, 200)))
            if abstract_every and i % abstract_every == 0
            else ""
        )
        items.append(
            {
                "data": {
                    "key": key,
                    "itemType": "journalArticle",
                    "title": title,
                    "abstractNote": abstract,
                    "creators": [
                        {
                            "creatorType": "author",
                            "firstName": rng.choice(vocab).title(),
                            "lastName": rng.choice(vocab).title(),
                        }
                        for _ in range(3)
                    ],
                    "date": str(1990 + i % 35),
                    "DOI": f"10.5555/fake.{i}",
                    "url": "",
                    "extra": "",
                    "publicationTitle": "Journal of " + rng.choice(vocab).title(),
                    "dateAdded": "2024-01-01T00:00:00Z",
                    "dateModified": f"2024-01-01T00:{i % 60:02d}Z",
                    "tags": [{"tag": rng.choice(vocab)}],
                    "collections": [],
                    "relations": {},
                }
            }
        )
        keys.append(key)
        if attachment_every and (i - 1) % attachment_every == 0:  # odd i: often title-only
            att = random_key(rng)
            items.append(
                {
                    "data": {
                        "key": att,
                        "itemType": "attachment",
                        "parentItem": key,
                        "linkMode": "imported_file",
                        "title": "Full Text PDF",
                        "contentType": "application/pdf",
                        "filename": "paper.pdf",
                        "tags": [],
                        "relations": {},
                        "dateAdded": "2024-01-01T00:00:00Z",
                        "dateModified": "2024-01-01T00:00:00Z",
                    }
                }
            )
            texts.append((att, title + " " + " ".join(rng.choice(vocab) for _ in range(400))))
    for start in range(0, len(items), 1000):
        server.add_items(items[start : start + 1000])
    for att, text in texts:
        server.set_fulltext(att, text)
    return keys


if __name__ == "__main__":  # a fake server to point the CLI at by hand
    import sys

    fake = FakeZotero(local="--local" in sys.argv).start()
    fake.add_items(load_fixture_items())
    print(f"fake Zotero at {fake.url} (api key good-key, user {fake.user_id}); Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
