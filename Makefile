.PHONY: up down logs test build typecheck bench

up:
	docker compose up -d --build

down:
	docker compose down -v

logs:
	docker compose logs -f api

test:
	npm ci --no-audit --no-fund && npm test

build:
	npm run build

typecheck:
	npm run typecheck

bench:
	npm run bench
