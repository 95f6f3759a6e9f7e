# Everything installs into ./.venv; nothing else is needed before these targets.
PYTHON ?= python3

.PHONY: up test bench install lint clean

up:
	$(PYTHON) scripts/dev.py up $(ARGS)

test:
	$(PYTHON) scripts/dev.py test $(ARGS)

bench:
	$(PYTHON) scripts/dev.py bench $(ARGS)

install:
	$(PYTHON) scripts/dev.py install

lint:
	.venv/bin/ruff check src tests bench && .venv/bin/mypy src

clean:
	rm -rf .venv build *.egg-info src/*.egg-info
