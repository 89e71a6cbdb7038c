# syntax=docker/dockerfile:1
# One image for every Beamline component; the command picks it:
#   docker run beamline:0.1.0 proxy          (or broker-api, broker-store)
#   docker run beamline:0.1.0 pki list ...    (anything else is a `beamline` CLI command)
# Not built in this repository's CI (no container engine there): test/packaging.spec.ts starts every service
# of infra/compose/*.yml through the same entrypoint, outside containers. See README, "Packaging".

# --- build: the whole toolchain, then only the production dependencies are kept ---
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY bench bench
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: Node and the built apps, nothing else; runs as an unprivileged user ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY infra/docker/entrypoint.sh /usr/local/bin/beamline-entrypoint
RUN chmod 0755 /usr/local/bin/beamline-entrypoint /app/bin/beamline \
 && ln -s /app/bin/beamline /usr/local/bin/beamline
# The node image's own unprivileged user (uid 1000); the app tree stays root-owned and read-only to it.
USER node
# broker-api 8080, proxy 8081 (BIND_ADDR); broker-store listens on none of its own.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/beamline-entrypoint"]
CMD ["--help"]
