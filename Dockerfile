# Multi-stage build: dependencies and the generated Prisma client in one stage, a slim
# non-root runtime in the other. The container applies migrations, then serves.
# Set DATABASE_URL: the embedded PostgreSQL is for local development only.
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
RUN npm run typecheck && npm run build:web && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:4000/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["sh", "-c", "npm run db:migrate && exec npx tsx src/main.ts"]
