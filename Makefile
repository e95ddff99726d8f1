# Thin front door: every target delegates to a script or a Python entry point.
.PHONY: run test bench drill lint venv clean

run: venv
	.venv/bin/python -m devstack.run

test: venv
	scripts/test.sh

bench: venv
	@command -v wrk >/dev/null || apt-get install -y wrk || { echo "make bench needs wrk (apt-get install wrk)"; exit 1; }
	.venv/bin/python -m bench.run

# The disaster scenarios of docs/drill.md against a throwaway make run stack (~10 minutes).
drill: venv
	.venv/bin/python -m bench.drill

lint: venv
	.venv/bin/ruff check .

venv:
	scripts/bootstrap.sh

clean:
	rm -rf .venv .pytest_cache .ruff_cache .coverage htmlcov
