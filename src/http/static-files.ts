// The browser apps the service carries (GraphiQL, the example dashboard): built files from
// dist/web/<app>, served from memory-cheap disk reads with a strict same-origin CSP.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { projectRoot } from "../project-root.js";

export const webRoot = path.join(projectRoot, "dist", "web");

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".ttf": "font/ttf",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/**
 * Nothing leaves the origin: scripts, styles, fonts and connections (HTTP and WebSocket) are
 * the service's own. Monaco (GraphiQL's editor) starts its workers from blob: URLs and sets
 * inline styles.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

export interface WebApp {
  /** URL prefix and folder name: "graphiql" serves /graphiql/ from dist/web/graphiql. */
  name: string;
  root?: string;
}

/**
 * Serves `pathname` (already known to start with /<app>) from the app's folder; answers 404 for
 * files that are not there and 503 when the app was never built. Paths cannot leave the folder.
 */
export async function serveWebApp(app: WebApp, pathname: string, response: ServerResponse): Promise<void> {
  const folder = path.join(app.root ?? webRoot, app.name);
  if (pathname === `/${app.name}`) {
    response.writeHead(308, { location: `/${app.name}/` });
    response.end();
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(app.name.length + 2));
  } catch {
    return sendText(response, 400, "bad path");
  }
  const file = path.join(folder, relative === "" ? "index.html" : relative);
  if (!file.startsWith(folder + path.sep) || relative.includes("\0")) return sendText(response, 404, "not found");
  const found = await stat(file).catch(() => null);
  if (!found?.isFile()) {
    const built = await stat(path.join(folder, "index.html")).catch(() => null);
    if (!built) return sendText(response, 503, `${app.name} is not built: run npm run build:web`);
    return sendText(response, 404, "not found");
  }
  const hashed = relative.startsWith("assets/");
  response.writeHead(200, {
    "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream",
    "content-length": found.size,
    // Vite names assets by content hash; index.html must be re-read to find new ones.
    "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    "content-security-policy": contentSecurityPolicy,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  createReadStream(file)
    .on("error", () => response.destroy())
    .pipe(response);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  response.end(text);
}
