// Drives Pier's dashboard in headless Chromium (Debian's, through playwright-core):
//   1. the page loads without console errors or failed requests;
//   2. its numbers rise while traffic goes through Pier;
//   3. a backend that turns unhealthy shows as unhealthy in the backends table.
// A screenshot is kept. Started by tests/integration/test_dashboard.py, which runs Pier and the
// backends; everything is on 127.0.0.1.
//
// node dashboard_test.mjs --admin URL --proxy URL --backend-control URL --backend ADDRESS
//                         --screenshot PATH [--chromium PATH]
import { chromium } from "playwright-core";

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const k of ["admin", "proxy", "backend-control", "backend", "screenshot"]) {
    if (!out[k]) throw new Error("missing --" + k);
  }
  return out;
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  const a = args();
  const browser = await chromium.launch({
    executablePath: a.chromium || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
    await page.goto(a.admin + "/", { waitUntil: "load" });
    await waitFor("the dashboard to say live", async () =>
      (await page.textContent("#state")) === "live", 10000);

    // Traffic through Pier for a few seconds: the request rate tile must rise above zero.
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        await Promise.all(Array.from({ length: 5 }, () => fetch(a.proxy + "/").then((r) => r.text())));
      }
    })();
    await waitFor("requests/s above zero", async () =>
      Number((await page.textContent("#now-rps")).replace("k", "e3")) > 0, 15000);
    const row = `#backends tr[data-backend="${a.backend}"]`;
    await waitFor("the backend's row", async () => (await page.$(row)) !== null, 10000);
    if ((await page.getAttribute(row, "data-health")) !== "healthy") {
      throw new Error("the backend should start healthy");
    }

    // The backend fails its health checks: its row turns unhealthy within a few seconds.
    await fetch(a["backend-control"] + "/control?healthy=0");
    await waitFor("the backend's row to turn unhealthy", async () =>
      (await page.getAttribute(row, "data-health")) === "unhealthy", 10000);
    sending = false;
    await traffic;
    await page.screenshot({ path: a.screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
  if (problems.length) throw new Error("the page reported problems:\n" + problems.join("\n"));
  console.log("dashboard ok: live, rising numbers, unhealthy backend shown; screenshot " + a.screenshot);
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
