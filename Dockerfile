# Build with the full Node 24 image; run only the compiled JavaScript on distroless Node 24 as its
# non-root user. The final image has no shell, no package manager, no curl and no node_modules:
# its health check is a compiled Node script.
#
# No `# syntax=` line: the engine's own Dockerfile frontend builds this file (BuildKit or the classic
# builder alike), so a build needs no registry beyond the two base images.

FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && mkdir -p /data

# The root variant, so that WORKDIR and COPY create /app and everything in it as root: BuildKit
# creates a WORKDIR as the current user, so on :nonroot /app would belong to 65532 and the service
# could rewrite its own code. The switch to 65532 comes only after them (USER below).
FROM gcr.io/distroless/nodejs24-debian12:latest
# https://github.com/opencontainers/image-spec/blob/main/annotations.md. VERSION follows
# package.json (a test keeps them equal); pass the others when building:
#   --build-arg REVISION="$(git rev-parse HEAD)" --build-arg SOURCE=<repository URL>
# LICENSES stays NOASSERTION (SPDX: not stated) until the project names its licence.
ARG VERSION=1.0.0
ARG REVISION=
ARG SOURCE=
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="webhook-api" \
      org.opencontainers.image.description="Signed webhook receiver on Node 24's standard library" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.source="$SOURCE" \
      org.opencontainers.image.licenses="$LICENSES"
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
# The named volume mounted at /data takes this ownership, so the non-root user can write to it.
COPY --from=build --chown=65532:65532 /data /data
# A 4 MiB young generation (semi-space) instead of 16: the same throughput, about 20 MiB less
# peak RSS under load (BENCHMARKS.md). glibc's malloc: two arenas instead of eight per core (the
# HTTP thread, two storage threads and libuv's pool would each keep freed buffers in their own),
# and a fixed 64 KiB mmap threshold, so socket reads and body buffers go back to the system when
# freed instead of raising the threshold and staying in the heap (RELIABILITY.md, flood).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=4 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=65536 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite:////data/app.db
USER 65532:65532
EXPOSE 8000
VOLUME ["/data"]
# Every 30 s (Docker's default interval; it was 10 s): each check is a Node process, about 60-80 ms
# of CPU and 13-14 MiB of memory in the container (BENCHMARKS.md). The service leaves these
# requests out of its request metrics.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/dist/healthcheck.cjs"]
# The distroless entrypoint is node itself; it receives SIGTERM directly as PID 1. The drain
# (SHUTDOWN_GRACE_SECONDS, 8 s) ends inside `docker stop`'s default 10 s. The heap is sized from
# the container's memory limit (node reads the cgroup's), not the machine's: 20% of 256 Mi is about
# 51 MiB (the floods of RELIABILITY.md use up to about 40 MiB of heap), which keeps the whole
# process under its limit. The flag is not allowed in NODE_OPTIONS, hence here.
CMD ["--max-old-space-size-percentage=20", "/app/dist/main.js"]
