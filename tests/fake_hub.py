"""A stand-in for the Hugging Face hub: a real HTTP server on 127.0.0.1 that huggingface_hub
talks to unmodified (point HF_ENDPOINT at `hub.url`).

It serves what the client asks for: the repository listing with file sizes, git blob ids and
LFS sha256 (`GET /api/models/ORG/NAME[/revision/REV]`), `HEAD`/`GET /ORG/NAME/resolve/REV/FILE`
with `X-Repo-Commit` and `ETag`, and for LFS files a redirect to an absolute "CDN" URL with
`X-Linked-Etag` / `X-Linked-Size`, as huggingface.co does. Range requests are honoured (206), so
a partial download resumes. Faults can be injected: a connection dropped after N bytes of a
file, and a file whose bytes differ from what the listing promises (same size).

    with FakeHub() as hub:
        hub.add_repo("allenai/specter2_base", folder)
        os.environ["HF_ENDPOINT"] = hub.url
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from fake_http import LocalHTTPFake

LFS_SUFFIXES = (".bin", ".safetensors", ".h5", ".msgpack", ".onnx")


@dataclass
class HubFile:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def blob_id(self) -> str:
        """The git object id of the file (for LFS files the id of the pointer file, as on the
        hub; the client never checks it for those)."""
        body = self.pointer if self.lfs else self.data
        return hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()

    @property
    def pointer(self) -> bytes:
        return (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\n"
            f"size {len(self.data)}\n"
        ).encode()


@dataclass
class Repo:
    id: str
    commit: str
    files: dict[str, HubFile] = field(default_factory=dict)


@dataclass
class Fault:
    kind: str  # "drop" or "corrupt"
    name: str
    times: int
    after: int = 0


class FakeHub(LocalHTTPFake):
    """The server; start()/stop() or a context manager."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.faults: list[Fault] = []
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def url(self) -> str:
        return self.base

    # -- content ------------------------------------------------------------------------

    def add_repo(self, repo_id: str, folder: Path, extra: dict[str, bytes] | None = None) -> Repo:
        """Serve every file of folder (top level) as repo_id; weights files are LFS files."""
        files = {
            p.name: HubFile(p.read_bytes(), p.name.endswith(LFS_SUFFIXES))
            for p in sorted(folder.iterdir())
            if p.is_file()
        }
        for name, data in (extra or {}).items():
            files[name] = HubFile(data, name.endswith(LFS_SUFFIXES))
        digest = hashlib.sha1(repo_id.encode(), usedforsecurity=False)
        for name, file in sorted(files.items()):
            digest.update(name.encode() + file.sha256.encode())
        repo = Repo(repo_id, digest.hexdigest(), files)
        self.repos[repo_id] = repo
        return repo

    def drop_connection(self, name: str, *, after: int, times: int = 1) -> None:
        """Close the connection after `after` bytes of file `name`, for the next `times` GETs."""
        with self.lock:
            self.faults.append(Fault("drop", name, times, after))

    def corrupt(self, name: str, *, times: int = 1_000_000) -> None:
        """Serve file `name` with one byte changed (same size), for the next `times` GETs."""
        with self.lock:
            self.faults.append(Fault("corrupt", name, times))

    def requests(self, contains: str = "", method: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for r in self.log
                if contains in r["path"] and (method is None or r["method"] == method)
            ]

    def _fault(self, kind: str, name: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind == kind and fault.name == name and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _find(self, path: str) -> tuple[Repo, str] | None:
        """(repo, file name) for /ORG/NAME/resolve/REV/FILE (REV: main or the commit)."""
        parts = path.strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return None
        repo = self.repos.get("/".join(parts[:2]))
        if repo is None or parts[3] not in ("main", repo.commit):
            return None
        name = "/".join(parts[4:])
        return (repo, name) if name in repo.files else None

    def _by_sha(self, sha: str) -> tuple[str, HubFile] | None:
        for repo in self.repos.values():
            for name, file in repo.files.items():
                if file.lfs and file.sha256 == sha:
                    return name, file
        return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _record(self, status: int) -> None:
        with self.fake.lock:
            self.fake.log.append(
                {
                    "method": self.command,
                    "path": unquote(urlparse(self.path).path),
                    "range": self.headers.get("Range"),
                    "status": status,
                }
            )

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self._record(status)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self._resolve()

    def do_GET(self) -> None:  # noqa: N802
        path = unquote(urlparse(self.path).path)
        if path.startswith("/api/models/"):
            self._listing(path.removeprefix("/api/models/"))
        elif path.startswith("/cdn/"):
            found = self.fake._by_sha(path.removeprefix("/cdn/"))
            if found is None:
                self._send(404, {}, b"no such blob")
            else:
                self._body(*found)
        else:
            self._resolve()

    def _listing(self, rest: str) -> None:
        repo_id, _, revision = rest.partition("/revision/")
        repo = self.fake.repos.get(repo_id)
        if repo is None:
            self._send(404, {"X-Error-Code": "RepoNotFound"}, b'{"error":"Repository not found"}')
            return
        if revision and revision not in ("main", repo.commit):
            self._send(404, {"X-Error-Code": "RevisionNotFound"}, b'{"error":"Revision not found"}')
            return
        siblings = []
        for name, file in sorted(repo.files.items()):
            entry: dict[str, Any] = {"rfilename": name, "size": len(file.data)}
            entry["blobId"] = file.blob_id
            if file.lfs:
                entry["lfs"] = {
                    "sha256": file.sha256,
                    "size": len(file.data),
                    "pointerSize": len(file.pointer),
                }
            siblings.append(entry)
        body = {"id": repo.id, "modelId": repo.id, "sha": repo.commit, "siblings": siblings}
        self._send(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    def _resolve(self) -> None:
        found = self.fake._find(unquote(urlparse(self.path).path))
        if found is None:
            self._send(404, {"X-Error-Code": "EntryNotFound"}, b"Entry not found")
            return
        repo, name = found
        file = repo.files[name]
        if file.lfs:  # like huggingface.co: a redirect to the CDN, the real etag and size
            self._send(
                302,
                {
                    "Location": f"{self.fake.url}/cdn/{file.sha256}",
                    "X-Repo-Commit": repo.commit,
                    "X-Linked-Etag": f'"{file.sha256}"',
                    "X-Linked-Size": str(len(file.data)),
                    "ETag": f'"{file.blob_id}"',
                },
            )
            return
        if self.command == "HEAD":
            self._send(
                200,
                {
                    "X-Repo-Commit": repo.commit,
                    "ETag": f'"{file.blob_id}"',
                    "Content-Length": str(len(file.data)),
                },
            )
            return
        self._body(name, file, {"X-Repo-Commit": repo.commit, "ETag": f'"{file.blob_id}"'})

    def _body(self, name: str, file: HubFile, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        data = file.data
        if self.fake._fault("corrupt", name) is not None:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        requested = self.headers.get("Range", "")
        if requested.startswith("bytes=") and requested.endswith("-"):
            start = int(requested[6:-1])
        status = 206 if start else 200
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        headers["Content-Length"] = str(len(body))
        drop = self.fake._fault("drop", name)
        if drop is None or drop.after >= len(body):
            self._send(status, headers, body)
            return
        self._record(status)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body[: drop.after])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)
