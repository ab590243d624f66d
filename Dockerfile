# Multi-stage build: dependencies, the generated Prisma client, the compiled service (tsc into
# build/) and the browser apps in one stage; a slim non-root runtime that runs compiled
# JavaScript in the other. `node` is the process that receives SIGTERM (exec form, no shell or
# npm in between), so `docker stop` drains in-flight requests and sockets exactly as SIGTERM on
# `npm start` does; run with --init (compose: init: true) so a PID 1 reaps zombies.
# The container applies pending migrations at start (under an advisory lock: replicas starting
# together apply them once), then serves. Set DATABASE_URL: the embedded PostgreSQL is for local
# development only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY . .
# GraphiQL and the dashboard are built here (Vite is a dev dependency); production serves them
# only with LEDGER_GRAPHIQL=true / LEDGER_DASHBOARD=true.
RUN npm run typecheck && npm run build && npm run build:web && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/schema.graphql ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/prisma ./prisma
COPY --from=build --chown=node:node /app/build ./build
COPY --from=build --chown=node:node /app/dist/web ./dist/web
USER node
EXPOSE 4000
# Readiness: the database answers, migrations are applied, the change feed runs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "build/src/main.js"]
