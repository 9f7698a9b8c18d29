# The two commands a user needs: `make up` (whole local network) and `make test` (whole test suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.28
SOLCX_DIR := $(or $(SOLCX_BINARY_PATH),$(HOME)/.solcx)
SOLC := $(SOLCX_DIR)/solc-v$(SOLC_VERSION)
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: install browser solc compile model up test lint clean

install: $(VENV)/.installed node_modules/.installed solc compile model browser

# The browser tests (tests/browser.py) drive the system's headless chromium; Playwright never downloads one.
# apt-get update only when the install fails: a fresh machine's package lists are empty or stale.
CHROMIUM := $(or $(ZG_CHROMIUM),/usr/bin/chromium)
APT_CHROMIUM := env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
browser:
	@test -x $(CHROMIUM) || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo $(APT_CHROMIUM) || { $$sudo apt-get update && $$sudo $(APT_CHROMIUM); }; \
	  test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing after installing chromium"; exit 1; }; \
	}

# Python: a venv with the pinned set (constraints.txt) and this project editable, with every extra
# (dev = provider: torch, devnet: ape, and the test and lint tools).
$(VENV)/.installed: pyproject.toml constraints.txt zerog/storage/_merkle.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# Node: anvil, cast, solcjs, OpenZeppelin and hardhat (a second EVM for tests), exactly as locked. The real
# anvil/cast binaries go into the venv: npm's launchers are node wrappers that do not pass signals on.
node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	for tool in anvil cast; do ln -sf "$$(ls $(CURDIR)/node_modules/@foundry-rs/$$tool-*/bin/$$tool | head -1)" $(BIN)/$$tool; done
	$(BIN)/anvil --version | head -1
	touch $@

# ape-solidity finds compilers in py-solc-x's folder: put a solcjs-backed `solc-v<ver>` there,
# unless a native one of that version is already installed.
solc: node_modules/.installed
	@mkdir -p $(SOLCX_DIR)
	@if [ ! -x $(SOLC) ] || grep -qs solc-shim.js $(SOLC); then \
	  printf '#!/bin/sh\nexec node "%s/tools/solc-shim.js" "$$@"\n' "$(CURDIR)" > $(SOLC).tmp; \
	  chmod +x $(SOLC).tmp; cmp -s $(SOLC).tmp $(SOLC) && rm $(SOLC).tmp || mv $(SOLC).tmp $(SOLC); \
	fi
	@$(SOLC) --version | grep -q "Version: $(SOLC_VERSION)+commit" || { echo "$(SOLC) is not solc $(SOLC_VERSION)"; exit 1; }

compile: $(VENV)/.installed solc
	$(BIN)/ape compile

# The compute provider's tiny model, trained once on the bundled corpus and cached (no downloads).
model: $(VENV)/.installed
	$(BIN)/zg compute model train

up: install
	$(BIN)/zg up

test: install
	$(BIN)/ape test tests

# Style, and the layers pyproject.toml's [tool.importlinter] contracts describe.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf .build contracts/.cache $(VENV) node_modules
