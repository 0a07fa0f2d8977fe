# Every target bootstraps .venv itself: nothing is installed by hand.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Lambda runtime is python3.12; use it locally when the machine has it, else python3.
PYTHON_FOR_VENV ?= $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null) python3.12 python3; do \
	"$$p" -c "import sys; assert sys.version_info >= (3, 11)" 2>/dev/null && { echo "$$p"; break; }; done)
PYTEST_WORKERS ?= 2

.PHONY: demo test lint typecheck unit bench build serve clean

$(STAMP): pyproject.toml
	$(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/intercept demo

serve: $(STAMP)
	$(BIN)/intercept serve

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy shared/intercept functions

test: lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope

bench: $(STAMP)
	$(BIN)/python -m bench

# sam build needs aws-sam-cli, which pins its own boto3 and click: keep it in a venv of its own.
build: $(STAMP)
	test -x .tools/sam/bin/sam || ($(PYTHON_FOR_VENV) -m venv .tools/sam && \
		.tools/sam/bin/pip install --quiet aws-sam-cli)
	PATH="$(dir $(PYTHON_FOR_VENV)):$$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 \
		.tools/sam/bin/sam build --template-file template.yaml

clean:
	rm -rf $(VENV) .tools .aws-sam .pytest_cache .mypy_cache .ruff_cache .intercept
