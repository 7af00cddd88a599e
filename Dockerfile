# One image per service of the mesh, and one for the gateway, from one build of the whole tree:
#   buildah bud --isolation chroot --layers --build-arg SERVICE=inventory -t retail-mesh/inventory .
#   buildah bud --isolation chroot --layers --build-arg SERVICE=gateway --build-arg DIR=gateway -t retail-mesh/gateway .
# (docker build takes the same arguments.) BASE is any Debian bookworm image: debian:bookworm-slim from a
# registry, or one made with debootstrap where no registry is reachable (scripts/image-check.ts does that).
# The Node that runs is the project's own (the pinned `node` npm package, 24.x), the same binary that npm
# scripts and CI use; Debian's nodejs only runs `npm ci` in the build stage.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# Every unit at once: the per-unit images below share this stage (cached with --layers). Behind a
# TLS-inspecting proxy, its CA comes in as the build secret `ca` (never a layer of the image).
RUN --mount=type=secret,id=ca,required=false \
    if [ -f /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --no-audit --no-fund --loglevel=error \
 && node_modules/.bin/node node_modules/.bin/tsc -b \
 && cp node_modules/node/bin/node /usr/local/bin/mesh-node \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${BASE}
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
# The unit's whole directory: dist/ and package.json, and for the gateway its generated openapi/ and console/.
COPY --from=build /app/${DIR} ./service
USER 10001:10001
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/node", "service/dist/main.js"]
