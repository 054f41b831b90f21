# Operator shortcuts. `up`, `down`, `logs` and `test` are the commands SPEC.md names.
.PHONY: help up down logs test build run typecheck bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

up: ## build the image and start the api service in the background (needs WEBHOOK_SECRET)
	docker compose up -d --build

down: ## stop the service and remove its data volume
	docker compose down -v

logs: ## follow the service's JSON log lines
	docker compose logs -f api

test: ## install from the lockfile, type check and run every test
	npm ci --no-audit --no-fund && npm test

build: ## compile src/ to dist/ (what the image runs)
	npm run build

run: ## run the service locally without Docker, on port 8000 (needs npm ci and WEBHOOK_SECRET)
	npm start

typecheck: ## type check only
	npm run typecheck

bench: ## load benchmark of the compiled service
	npm run bench

# Compose reads the whole file, WEBHOOK_SECRET's `:?` check included, even to stop or read logs;
# those two do not need the secret, so they work without it.
down logs: export WEBHOOK_SECRET ?= not-needed-to-$@
