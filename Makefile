# Targets create and reuse .venv themselves; `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo proto proto-check console console-check screenshots lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mailgate serve

# Three workers: most tests wait on servers and peers, so 2 cores run three files at once. A file
# stays on one worker (its module-scoped servers and their order).
test: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist loadfile

# A sink, a server, a provider, one email and its status, on this machine (tools/demo.py).
demo: $(STAMP)
	$(BIN)/python tools/demo.py

proto: $(STAMP)
	$(BIN)/python tools/genproto.py

# Fails when the committed stubs differ from a fresh `make proto` (changed, added or removed files).
proto-check: proto
	@test -z "$$(git status --porcelain -- src/mailgate/gen)" || \
		{ git status --short -- src/mailgate/gen; echo "generated code is stale: run make proto"; exit 1; }

# The admin console (console/, TypeScript): npm's locked packages, the client generated from proto/
# with protoc-gen-es, type-checked, bundled by esbuild into src/mailgate/console/static (committed,
# so `make run` needs no Node).
NODE_STAMP := console/node_modules/.installed

$(NODE_STAMP): console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

console: $(STAMP) $(NODE_STAMP)
	$(BIN)/python tools/genconsole.py
	cd console && npx tsc --noEmit && node build.mjs

# Fails when the committed client or build differs from a fresh `make console`.
console-check: console
	@test -z "$$(git status --porcelain -- console/src/gen src/mailgate/console/static)" || \
		{ git status --short -- console/src/gen src/mailgate/console/static; \
		  echo "the console build is stale: run make console"; exit 1; }

# docs/screenshots/*.png, taken by the console's browser tests.
screenshots: $(STAMP)
	MAILGATE_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/console

lint: $(STAMP) proto
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint build/proto-image.binpb --path zitadel --path mailgate

# The load generators come from Debian: h2load (nghttp2-client) for gRPC, wrk for HTTP.
bench: $(STAMP)
	@command -v wrk >/dev/null && command -v h2load >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq wrk nghttp2-client >/dev/null)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build console/node_modules
