// LEDGER_WORKERS=2: two service processes on one port, one /metrics for both, one graceful stop.
import http from "node:http";
import WebSocket from "ws";
import { describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/db/embedded.js";
import { errorLogs, startServiceProcess } from "../support/service-process.js";

/** GET on a new connection each time (keep-alive would pin one worker). */
function getOnce(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("several worker processes on one port", () => {
  it("two workers both serve, /metrics sums them (with their webhook threads), and a SIGTERM drains both and exits 0", async () => {
    const service = await startServiceProcess(await freePort(), {
      DATABASE_URL: inject("databaseUrl"),
      LEDGER_WORKERS: "2",
      LOG_LEVEL: "debug",
    });
    const requests = 40;
    for (let i = 0; i < requests; i++) expect((await getOnce(service.port, "/healthz")).status).toBe(200);
    const servers = new Set(
      service
        .logs()
        .filter((l) => l.route === "healthz")
        .map((l) => l.pid),
    );
    expect(servers.size).toBe(2);
    const metrics = await getOnce(service.port, "/metrics");
    const line = metrics.body.split("\n").find((l) => l.startsWith('ledger_http_requests_total{route="healthz",status="200"}'));
    expect(Number(line?.split(" ")[1])).toBe(requests); // both workers' counts, summed
    // The webhook threads' series reach the primary too (a queue gauge, read in each thread), as one series.
    expect(metrics.body.match(/^ledger_webhook_breakers_open \d+$/gm)).toHaveLength(1);
    service.signal("SIGTERM");
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(errorLogs(service)).toEqual([]);
  });

  it("an oversized WebSocket message is counted, not logged with a stack", async () => {
    const service = await startServiceProcess(await freePort(), { DATABASE_URL: inject("databaseUrl") });
    for (let i = 0; i < 3; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${service.port}/graphql`, "graphql-transport-ws");
      await new Promise((resolve) => socket.on("open", resolve));
      socket.send("x".repeat(1024 * 1024 + 10));
      expect(await new Promise((resolve) => socket.on("close", resolve))).toBe(1009);
    }
    const metrics = await getOnce(service.port, "/metrics");
    expect(metrics.body).toContain('ledger_client_mistakes_total{kind="websocket_oversized_message"} 3');
    service.signal("SIGTERM");
    expect((await service.exited).code).toBe(0);
    expect(service.lines.join("\n")).not.toMatch(/Max payload|Internal error|^\s+at /m);
  });
});
