# syntax=docker/dockerfile:1
# berth: a Kubernetes second scheduler. Build:  docker build -t <registry>/berth:<tag> .
#
# Stage 1 installs every dependency (npm ci), compiles TypeScript (tsc) and then drops the dev dependencies
# (npm prune --omit=dev). Stage 2 copies only dist/, the production node_modules, package.json and the bundled
# examples onto a Node LTS runtime and runs as an unprivileged user. Nothing is written at runtime: the image
# works with readOnlyRootFilesystem: true and needs no writable volume (logs go to stdout, no caches, no temp files).
#
# test/integration/shipImage.test.ts runs this file's WORKDIR/COPY/RUN steps in a clean copy of the tree and starts
# berth from the result exactly as ENTRYPOINT + CMD would, with the tree made read-only.

# A current Node LTS (22) on Alpine, pinned to the Alpine release; pin a digest (node:22-alpine3.22@sha256:...) for
# reproducible production builds.
ARG NODE_IMAGE=node:22-alpine3.22

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="berth" \
      org.opencontainers.image.description="A Kubernetes second scheduler with upstream kube-scheduler semantics, decision explanations and an offline simulator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/berth-scheduler/berth" \
      org.opencontainers.image.base.name="docker.io/library/${NODE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY examples ./examples
# nobody:nogroup, as JupyterHub's user-scheduler runs; numeric so runAsNonRoot can verify it.
USER 65534:65534
# berth's health and metrics port (plain HTTP): /healthz /livez /readyz /metrics.
EXPOSE 10259
# Exec form: node is PID 1 and receives SIGTERM itself; berth then stops taking pods, finishes the bindings in
# flight, releases its Lease and exits 0.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run", "--config", "/etc/berth/config.yaml"]
