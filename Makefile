# Satu Data: two commands on a fresh machine.
#   make up    run the whole platform (embedded PostgreSQL and NATS unless DATABASE_URL/NATS_URL)
#   make test  the same bootstrap, then the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: up test test-unit bench fuzz install browser clean-data compose-check compose-env help

help:
	@echo "make up      run the platform (gateway on http://localhost:8000)"
	@echo "make test    run the whole test suite"
	@echo "make test-unit  the unit suite alone (no PostgreSQL, no NATS; about 20 s)"
	@echo "make bench   run the benchmarks (bench/), results in bench/results/"
	@echo "make fuzz    Schemathesis on the whole API, ~10,000 cases (tests/fuzz_api.py)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/satudata up

# Debian's Chromium for the portal's browser test (Playwright drives it; it cannot download
# a browser of its own here). Installed when missing and we may; the test says why if not.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for the portal test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium"; \
	  else echo "chromium missing: the portal browser test will be skipped"; fi; }

test: $(STAMP) browser
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"  # tantivy and PyStemmer, the search peer
	$(BIN)/python bench/run_all.py

# Schemathesis against the whole public API as the walidata and as a village (~10,000 cases)
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_api.py

# docker-compose's secrets, random and kept out of the repository (.env is git-ignored)
compose-env: $(STAMP)
	@test -f .env && echo ".env exists; keeping it" || { umask 077; \
	  printf 'POSTGRES_PASSWORD=%s\n' \
	    "$$(python3 -c 'import secrets;print(secrets.token_urlsafe(24))')" > .env; \
	  $(BIN)/satudata signing-keys >> .env; \
	  echo "wrote .env (mode 600)"; }

compose-check:
	docker compose config --quiet && echo "docker-compose.yml is valid"

clean-data:
	rm -rf .satudata
