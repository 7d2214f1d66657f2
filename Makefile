# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format chromium fonts clean

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

test: $(STAMP) chromium fonts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .nicegui
