// jupyterlab-kip end to end, in a real browser: playwright-core drives Debian's
// /usr/bin/chromium (never a downloaded browser) against a JupyterLab that tests/jupyterlab_e2e.rs
// started on loopback. Each step prints a `step:` line; a failed expectation exits 1 with a
// `FAIL:` line naming what was expected, and a screenshot of the page beside the others.
//
//   node run.cjs   with KIP_E2E_NODE_MODULES (playwright-core), KIP_E2E_RUNTIME_DIR (the server's
//   JUPYTER_RUNTIME_DIR: its jpserver-<pid>.json gives the URL and token), KIP_E2E_SERVER_PID,
//   KIP_E2E_SHOTS (where the screenshots go), KIP_E2E_CHROMIUM (the browser binary).
'use strict';

const fs = require('fs');
const path = require('path');

const { chromium } = require(path.join(process.env.KIP_E2E_NODE_MODULES, 'playwright-core'));

const SHOTS = process.env.KIP_E2E_SHOTS;
/** Milliseconds a UI expectation may take: kernel starts and kip's install are real. */
const WAIT = 120000;

function step(msg) {
  console.log(`step: ${msg}`);
}

/** The server's runtime file, once it exists (jupyter_server writes it when it listens). */
async function server() {
  const file = path.join(
    process.env.KIP_E2E_RUNTIME_DIR,
    `jpserver-${process.env.KIP_E2E_SERVER_PID}.json`
  );
  const deadline = Date.now() + WAIT;
  for (;;) {
    try {
      const info = JSON.parse(fs.readFileSync(file, 'utf8'));
      const r = await fetch(`${info.url}api/status?token=${info.token}`);
      if (r.ok) {
        return info;
      }
    } catch {
      // not written yet, or not answering yet
    }
    if (Date.now() > deadline) {
      throw new Error(`the server never answered (${file})`);
    }
    // Polls a condition (the file, then an answer) under a deadline.
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

/** The toast whose text contains `text`. */
function toast(page, text) {
  return page.locator('.Toastify__toast', { hasText: text });
}

/**
 * Installed in every page: records whether the execution indicator has left the "idle" it
 * starts with (JupyterLab and Notebook 7 show "idle" before the kernel exists, then
 * "initializing", "connecting", "idle"), so `kernelIdle` waits for a connected kernel.
 */
function watchKernelStatus() {
  window.__kipKernelStarted = false;
  new MutationObserver(() => {
    for (const e of document.querySelectorAll('.jp-Notebook-ExecutionIndicator')) {
      if (e.getAttribute('data-status') !== 'idle') {
        window.__kipKernelStarted = true;
      }
    }
  }).observe(document, { attributes: true, attributeFilter: ['data-status'], subtree: true, childList: true });
}

/** Wait for the notebook's kernel to be connected and idle. */
async function kernelIdle(page) {
  await page.waitForFunction(
    () =>
      window.__kipKernelStarted &&
      document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null,
    null,
    { timeout: WAIT }
  );
}

/** Run the notebook's first cell (click into it, Shift+Enter) once its kernel is idle. */
async function runFirstCell(page) {
  await kernelIdle(page);
  const editor = page.locator('.jp-Notebook .jp-Cell').first().locator('.cm-content');
  await editor.waitFor({ timeout: WAIT });
  await editor.click();
  await page.keyboard.press('Shift+Enter');
}

/** The first cell's output, once it contains `text`. */
async function expectOutput(page, text) {
  await page
    .locator('.jp-Notebook .jp-Cell')
    .first()
    .locator('.jp-OutputArea-output', { hasText: text })
    .first()
    .waitFor({ timeout: WAIT });
}

/**
 * Open NOTEBOOK at URL, run `import demo`, install through the notification, run the cell
 * again. `shotPrefix` names the screenshots.
 */
async function installFlow(page, url, kernel, shotPrefix) {
  await page.goto(url);
  step(`${shotPrefix}: run "import demo" in a notebook on ${kernel}`);
  await runFirstCell(page);
  await expectOutput(page, "No module named 'demo'");
  const offer = toast(page, 'No module named "demo"');
  const button = offer.getByRole('button', { name: `Install demo into ${kernel}` });
  await button.waitFor({ timeout: WAIT });
  step(`${shotPrefix}: the notification offers "Install demo into ${kernel}"`);
  await page.screenshot({ path: path.join(SHOTS, `${shotPrefix}-notification.png`), animations: 'disabled' });
  await button.click();
  const done = toast(page, '"import demo" works');
  await done.waitFor({ timeout: WAIT });
  step(`${shotPrefix}: the notification says: ${(await done.innerText()).trim()}`);
  await page.screenshot({ path: path.join(SHOTS, `${shotPrefix}-installed.png`), animations: 'disabled' });
  await runFirstCell(page);
  await expectOutput(page, 'demo works');
  step(`${shotPrefix}: the cell runs again and "import demo" succeeds`);
}

async function main() {
  const info = await server();
  const base = info.url;
  const q = `token=${info.token}`;
  step(`server at ${base}`);
  const browser = await chromium.launch({
    executablePath: process.env.KIP_E2E_CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--metrics-recording-only'
    ]
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await context.addInitScript(watchKernelStatus);
  let page = await context.newPage();
  let current = 'start';
  try {
    // 1. JupyterLab: the install flow, and the status bar naming the kernel's env.
    current = 'lab';
    // `reset`: a fresh workspace, so each page shows one notebook.
    await installFlow(page, `${base}lab/tree/lab-demo.ipynb?reset&${q}`, 'analysis', 'lab');
    const status = page.locator('.jp-kip-status');
    await status.filter({ hasText: /venv · analysis · 3\.\d+/ }).waitFor({ timeout: WAIT });
    step(`lab: the status bar shows "${(await status.innerText()).trim()}"`);
    await page.locator('#jp-main-statusbar').screenshot({ path: path.join(SHOTS, 'lab-statusbar.png') });
    await status.click();
    const dialog = page.locator('.jp-Dialog', { hasText: 'kip doctor' });
    await dialog.waitFor({ timeout: WAIT });
    step(`lab: a click on it opens "${(await dialog.locator('.jp-Dialog-header').innerText()).trim()}"`);
    await page.screenshot({ path: path.join(SHOTS, 'lab-findings.png'), animations: 'disabled' });
    await dialog.getByRole('button', { name: /ok/i }).click();

    // 2. An unknown module: why's answer, no install action.
    current = 'unknown';
    await page.close();
    page = await context.newPage();
    await page.goto(`${base}lab/tree/unknown.ipynb?reset&${q}`);
    step('unknown: run "import kip_e2e_nowhere"');
    await runFirstCell(page);
    await expectOutput(page, "No module named 'kip_e2e_nowhere'");
    const unknown = toast(page, 'kip knows no distribution');
    await unknown.waitFor({ timeout: WAIT });
    const actions = await unknown.locator('button.jp-toast-button').count();
    if (actions !== 0) {
      throw new Error(`the unknown module's notification has ${actions} action button(s), expected none`);
    }
    step(`unknown: "${(await unknown.innerText()).trim()}" with no install action`);
    await page.screenshot({ path: path.join(SHOTS, 'unknown-notification.png'), animations: 'disabled' });

    // 3. Notebook 7 (no status bar): the same install flow.
    current = 'notebook7';
    await page.close();
    page = await context.newPage();
    await installFlow(page, `${base}notebooks/nb7-demo.ipynb?${q}`, 'beta', 'notebook7');
    if (await page.locator('#jp-main-statusbar').count()) {
      throw new Error('Notebook 7 has a status bar here; expected none');
    }
  } catch (e) {
    await page.screenshot({ path: path.join(SHOTS, `failed-${current}.png`) }).catch(() => {});
    console.log(`FAIL: ${current}: ${e.message.split('\n')[0]}`);
    console.log(e.stack);
    await browser.close();
    process.exit(1);
  }
  await browser.close();
  console.log('e2e: all steps passed');
}

main().catch(e => {
  console.log(`FAIL: ${e.message}`);
  process.exit(1);
});
