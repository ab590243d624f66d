// Headless Chromium for the end-to-end tests: Debian's chromium driven by playwright-core (no
// browser download). Without a Chromium the e2e tests are skipped and say why.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const chromiumMissing = existsSync(chromiumPath)
  ? null
  : `no Chromium at ${chromiumPath}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`;
if (chromiumMissing) console.warn(`e2e tests skipped: ${chromiumMissing}`);

const root = path.resolve(import.meta.dirname, "../..");
export const screenshotDir = path.join(root, "docs/screenshots");

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    // As root in CI: no sandbox. No background traffic: the page must need nothing but the service.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
    headless: true,
  });
}

export interface WatchedPage {
  page: Page;
  /** Requests the page tried to send anywhere but the service (they are aborted). */
  offOrigin: string[];
  /** Console errors and uncaught exceptions of the page. */
  pageErrors: string[];
}

/** A page in a fresh context (UTC, fixed size) that may only talk to `origin`. */
export async function openPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const context = await browser.newContext({ timezoneId: "UTC", locale: "en-US", viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];
  // On the context, so that Monaco's workers' requests pass through here too.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    offOrigin.push(url);
    return route.abort();
  });
  // WebSockets are not routed by page.route: check them as they open.
  page.on("websocket", (socket) => {
    if (!socket.url().startsWith(`${origin.replace(/^http/, "ws")}/`)) offOrigin.push(socket.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return { page, offOrigin, pageErrors };
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, name), fullPage });
}

/** The element with this data-testid. */
export const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

/** The text of the element with this data-testid, once it is there. */
export const textOf = (page: Page, id: string) => byTestId(page, id).textContent({ timeout: 10_000 });

/** Waits until the element with this data-testid has exactly this text. */
export async function waitText(page: Page, id: string, expected: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ([testId, text]) => document.querySelector(`[data-testid="${testId}"]`)?.textContent === text,
    [id, expected] as const,
    { timeout },
  );
}
