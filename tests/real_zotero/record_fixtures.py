"""Record what a real Zotero 10 writes and answers into tests/fixtures/zotero10/ (see its
SOURCE.md), for the CI tests of the local-API and zotero.sqlite readers:

- local_sync.json: every request `specter-desk sync --library local` made to Zotero's local
  API and Zotero's answer (status, headers, body), for a first sync and for a second one after
  an edit, a trash, a restore, an erase and a new item; plus the answers the readers must
  handle besides (304, 412 for another database, 403 with the local API off);
- zotero.sqlite.gz and zotero.sqlite-wal.gz: the database and its write-ahead log copied
  while Zotero runs, in the state of the second sync (the changes since Zotero's idle
  maintenance, which truncates the -wal, are in the -wal only);
- expected.json: the papers (key, title, deleted) Zotero has then, from its own local API.

    cd tests && ZOTERO_APP=... ../.venv/bin/python -m real_zotero.record_fixtures
"""

from __future__ import annotations

import gzip
import http.client
import json
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .harness import REPO, Daemon, ZoteroApp, build_helper_xpi, free_port
from .library import connector_item, papers

OUT = REPO / "tests" / "fixtures" / "zotero10"
DATA_DIR_URI = "file:///ZOTERO-DATA-DIR"  # stands for the data dir of the recording
KEEP_HEADERS = {
    "content-type",
    "last-modified-version",
    "total-results",
    "link",
    "zotero-api-version",
    "zotero-schema-version",
    "zotero-server-id",
    "x-zotero-version",
}


class Recorder:
    """An HTTP proxy in front of Zotero that keeps every exchange."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.exchanges: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                conn = http.client.HTTPConnection("127.0.0.1", recorder.target_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("GET", self.path, headers=headers)
                reply = conn.getresponse()
                body = reply.read()
                recorder.exchanges.append(
                    {
                        "method": "GET",
                        "path": self.path,
                        "request_headers": {
                            k: v
                            for k, v in headers.items()
                            if k.lower().startswith(("zotero-", "if-modified"))
                        },
                        "status": reply.status,
                        "headers": {
                            k: v for k, v in reply.getheaders() if k.lower() in KEEP_HEADERS
                        },
                        "body": body.decode("utf-8"),
                    }
                )
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self) -> list[dict]:
        taken, self.exchanges = self.exchanges, []
        return taken


def record(app: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="specter-desk-record-"))
    zotero = ZoteroApp(
        app=app, root=work / "zotero", port=free_port(), xpis=[build_helper_xpi(work / "h.xpi")]
    )
    try:
        zotero.start()
        library = papers()[:8]
        items = [connector_item(p) for p in library]
        items[0]["notes"] = [{"note": "<p>A note</p>"}]
        items[1]["tags"] = [{"tag": "recorded"}]
        zotero.save_items(items)
        keys = {t: zotero.item_keys(t)[0] for t in (p["title"] for p in library)}
        pdf = work / "paper.pdf"
        pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
        zotero.run("add_attachment", parent=keys[library[2]["title"]], path=str(pdf))
        zotero.run("item_action", key=keys[library[3]["title"]], action="trash")
        # Zotero's own idle maintenance (what it runs after 5 idle minutes): backup, vacuum,
        # and a checkpoint that truncates the -wal; what follows is in the -wal only
        _wait_quiet(zotero)  # a new profile installs its bundled translators and styles first
        zotero.eval('await Zotero.DB.observe(null, "idle", null);')

        proxy = Recorder(zotero.port)
        daemon = Daemon.create(work / "home", zotero)
        daemon.env["SPECTER_DESK_ZOTERO_LOCAL_URL"] = proxy.url
        first = daemon.cli_json("sync", "--library", "local", "--no-embed")
        first_exchanges = proxy.take()

        zotero.run("item_action", key=keys[library[4]["title"]], action="edit",
                   fields={"title": "An edited title"})  # fmt: skip
        zotero.run("item_action", key=keys[library[5]["title"]], action="trash")
        zotero.run("item_action", key=keys[library[3]["title"]], action="restore")
        zotero.run("item_action", key=keys[library[6]["title"]], action="erase")
        zotero.save_items([connector_item(papers()[8])])
        second = daemon.cli_json("sync", "--library", "local", "--no-embed")
        second_exchanges = proxy.take()

        # the other answers the readers meet
        server_id = second_exchanges[0]["headers"]["Zotero-Server-ID"]
        version = second_exchanges[0]["headers"]["Last-Modified-Version"]
        others = {}
        for name, headers in (
            ("not_modified", {"If-Modified-Since-Version": version}),
            ("another_database", {"Zotero-Server-ID": "notthisone12"}),
        ):
            conn = http.client.HTTPConnection("127.0.0.1", proxy.server.server_address[1])
            conn.request("GET", "/api/users/0/items?format=versions", headers=headers)
            conn.getresponse().read()
            others[name] = proxy.take()[0]
        zotero.set_prefs({"extensions.zotero.httpServer.localAPI.enabled": False})
        conn = http.client.HTTPConnection("127.0.0.1", proxy.server.server_address[1])
        conn.request("GET", "/api/users/0/items?format=versions")
        conn.getresponse().read()
        others["local_api_off"] = proxy.take()[0]
        zotero.set_prefs({"extensions.zotero.httpServer.localAPI.enabled": True})

        listed = zotero.api("items", includeTrashed=1).json()
        expected = sorted(
            (
                {
                    "key": i["key"],
                    "title": i["data"]["title"],
                    "deleted": bool(i["data"].get("deleted")),
                }
                for i in listed
                if i["data"]["itemType"] not in ("note", "attachment")
            ),
            key=lambda p: p["key"],
        )
        OUT.mkdir(parents=True, exist_ok=True)
        for name in ("zotero.sqlite", "zotero.sqlite-wal"):
            data = (zotero.data_dir / name).read_bytes()
            (OUT / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
        recording = json.dumps(
            {
                "zotero": zotero.eval("return Zotero.version;"),
                "server_id": server_id,
                "first_sync": {"result": _counts(first), "exchanges": first_exchanges},
                "second_sync": {"result": _counts(second), "exchanges": second_exchanges},
                "other_answers": others,
            },
            indent=1,
            ensure_ascii=False,
        )
        # the one machine-specific thing in the answers: attachment file URLs under the data dir
        recording = recording.replace(zotero.data_dir.as_uri(), DATA_DIR_URI)
        (OUT / "local_sync.json").write_text(recording + "\n")
        (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
        print(f"recorded into {OUT}: {len(first_exchanges)} + {len(second_exchanges)} exchanges")
    except BaseException:
        print(f"kept {work} for a look", file=sys.stderr)
        raise
    else:
        shutil.rmtree(work, ignore_errors=True)
    finally:
        zotero.stop()


def _wait_quiet(zotero: ZoteroApp, seconds: int = 8) -> None:
    """Until zotero.sqlite-wal has not grown for `seconds` in a row."""
    wal = zotero.data_dir / "zotero.sqlite-wal"
    last, still = -1, 0
    while still < seconds:
        time.sleep(1)
        size = wal.stat().st_size if wal.exists() else 0
        still = still + 1 if size == last else 0
        last = size


def _counts(result: dict) -> dict:
    return {k: result[k] for k in ("added", "updated", "deleted", "requests")}


if __name__ == "__main__":
    import os

    record(Path(os.environ["ZOTERO_APP"]))
