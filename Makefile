# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres bench bench-quick soak lint format chromium fonts clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) fonts
	$(BIN)/python -m app migrate
	DEMO_DATA=1 $(BIN)/python main.py

# Debian's chromium serves the Playwright tests (Playwright's own browser download is not reachable here).
chromium:
	@command -v chromium >/dev/null 2>&1 || scripts/apt-install.sh chromium

# Invoice PDFs are set in DejaVu Sans, and in WenQuanYi Micro Hei when they contain Chinese (app/services/invoice_pdf.py).
fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf -a -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
		|| scripts/apt-install.sh fonts-dejavu-core fonts-wqy-microhei

# Test files run in parallel, one process per core (pytest-xdist, a file at a time so that module-scoped servers are
# shared). Browser tests run in their own pass: sync Playwright and NiceGUI's async `user` tests cannot share a process.
PYTEST_PARALLEL := -n auto --dist loadfile

test: $(STAMP) chromium fonts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scripts/with-localstripe.sh $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) tests --ignore=tests/e2e
	scripts/with-localstripe.sh $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) tests/e2e
	$(MAKE) --no-print-directory test-postgres

# The service and API tests again on PostgreSQL, then two app processes sharing it (and Redis for NiceGUI's storage).
# Both servers are throwaway ones from Debian's postgresql and redis-server packages, installed when missing.
# The browser test must run after every async API test on its worker (sync Playwright keeps an event loop running):
# xdist would otherwise start the files with the most tests first, whatever the collection order.
test-postgres: $(STAMP) chromium fonts
	scripts/with-postgres.sh scripts/with-redis.sh scripts/with-localstripe.sh \
		$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) --no-loadscope-reorder tests/unit tests/api \
		tests/hardening/test_ownership.py tests/hardening/test_text_input.py tests/hardening/test_payment_retries.py \
		tests/hardening/test_webhook_ssrf.py tests/hardening/test_sign_in_grants.py \
		tests/hardening/test_invoice_pdf_locale.py tests/hardening/test_login_lockout.py \
		tests/hardening/test_link_tokens.py tests/hardening/test_plan_quantity.py \
		tests/e2e/test_scale_out_e2e.py

# Performance: 100,000 customers, HTTP load, memory, preview latency and the billing clock over 100,000 due
# subscriptions -> benchmarks/results/latest.{json,md}, each figure judged by its ratio to a baseline of the same
# run; appends the run to benchmarks/results/history.md. BENCH_ARGS=--only-billing-clock measures only the clock,
# BENCH_ARGS=--only-api only the REST API (with bench-quick: 10,000 customers, a few minutes).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.customer_import

# The same targets on a tenth of the data without the memory windows (a minute on a quiet machine), then the
# billing clock over 10,000 due subscriptions; BENCH_ARGS='--clock-subscriptions 0' skips the clock.
bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick $(BENCH_ARGS)

# Load: 50 simulated portal customers for 60 s (service layer + HTTP, loopback only); 0 errors, 0 lost writes.
# Not part of `make test`; writes benchmarks/results/soak.json.
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .nicegui
