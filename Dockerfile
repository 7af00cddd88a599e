# One image per service of the mesh, and one for the gateway:
#   docker build --build-arg SERVICE=inventory -t retail-mesh/inventory .
#   docker build --build-arg SERVICE=gateway --build-arg DIR=gateway -t retail-mesh/gateway .
# The Node that runs is the project's own (the pinned `node` npm package, 24.x), the same binary that
# npm scripts and CI use. Not built on our development machines (no Docker engine there): check it in
# an environment that has one before relying on it.
FROM node:24-bookworm-slim AS build
ARG SERVICE
ARG DIR=services/${SERVICE}
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && node_modules/.bin/node node_modules/.bin/tsc -b "${DIR}" \
 && cp node_modules/node/bin/node /usr/local/bin/mesh-node \
 && npm prune --omit=dev --no-audit --no-fund

FROM debian:bookworm-slim
ARG SERVICE
ARG DIR=services/${SERVICE}
ENV NODE_ENV=production SERVICE=${SERVICE}
RUN groupadd --gid 10001 mesh && useradd --uid 10001 --gid mesh --no-create-home --shell /usr/sbin/nologin mesh
WORKDIR /app
COPY --from=build /usr/local/bin/mesh-node /usr/local/bin/node
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/packages/contracts/package.json ./packages/contracts/package.json
COPY --from=build /app/packages/contracts/dist ./packages/contracts/dist
COPY --from=build /app/packages/platform/package.json ./packages/platform/package.json
COPY --from=build /app/packages/platform/dist ./packages/platform/dist
# The unit's whole directory: dist/ and package.json, and for the gateway its generated openapi/.
COPY --from=build /app/${DIR} ./service
USER 10001:10001
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/node", "service/dist/main.js"]
