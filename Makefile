# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on the way.
VENV := .venv
PY := $(VENV)/bin/python
FLASK := ASSISTANT_DEV=1 $(VENV)/bin/flask --app assistant
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install test-deps bench phone soak check clean messages translations

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[bench]"
	touch $@

# Debian's chromium for the browser tests (never a browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# LHC-Forms from npm, pinned by tests/browser/lforms/package-lock.json, for the FHIR renderer test (no scripts run).
LFORMS := tests/browser/lforms
$(LFORMS)/node_modules/.installed: $(LFORMS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm >/dev/null; }
	cd $(LFORMS) && npm ci --legacy-peer-deps --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

test-deps: $(VENV)/.test-installed chromium $(LFORMS)/node_modules/.installed

# The pages' own words: gettext catalogs in assistant/locales/<lang>/LC_MESSAGES/messages.po, compiled to .mo (build
# output, not committed) before the app runs or is tested. `make messages` gathers new words from the code and
# templates into every catalog, for a translator to fill in.
LOCALES := assistant/locales
MO := $(patsubst %.po,%.mo,$(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po))

$(LOCALES)/%/LC_MESSAGES/messages.mo: $(LOCALES)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d $(LOCALES) -l $*

translations: $(MO)

messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output --project assistant \
		-o $(LOCALES)/messages.pot assistant
	$(VENV)/bin/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete

run: install translations
	$(FLASK) init-db
	$(FLASK) run --host 127.0.0.1 --port 5000

check: install translations
	$(FLASK) flows check

test: test-deps translations
	$(FLASK) flows check
	$(PY) -m pytest

# Benchmarks (~10 min), then the soak (~12 min, see `soak`): prints tables and writes docs/performance.md.
# bench/run.py installs wrk (apt-get) and Lighthouse (npm, under bench/) when missing; PostgreSQL is measured when it
# answers on 127.0.0.1:5432.
bench: $(VENV)/.bench-installed chromium
	$(PY) bench/run.py
	$(PY) bench/soak.py

# The slow phone alone (~3 min): Debian's chromium throttled (150 ms, 1.6 Mbit/s, CPU 4x), JavaScript on and off,
# against the Procfile's own command; prints the turns (bench/out/phone.json). `bench` runs it too.
phone: $(VENV)/.bench-installed chromium
	$(PY) bench/phone.py

# The soak alone (~12 min): 200 phones on PostgreSQL, a worker killed, the database frozen 20 s; its own section of
# docs/performance.md. Needs PostgreSQL on 127.0.0.1:5432 (database soak, created when missing).
soak: $(VENV)/.bench-installed
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) instance test-output
