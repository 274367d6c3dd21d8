# One image for every Tessera process; the first argument picks it: api (default), worker or migrate.
#   docker build -t tessera . && docker run tessera worker
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: see scripts/ensure-deps.mjs (mirrors that serve only some platforms' optional binaries).
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# api:     node dist/server/main.js
# worker:  node dist/worker/main.js
# migrate: node dist/scripts/migrate.js
ENTRYPOINT ["node", "scripts/container-entrypoint.mjs"]
CMD ["api"]
