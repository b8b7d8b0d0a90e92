// Drive real Open WebUI in headless Debian Chromium with playwright-core (no bundled browsers).
//
//   node driver.mjs '<json spec>'
//
// Spec (JSON, one argument):
//   baseUrl        Open WebUI, e.g. http://127.0.0.1:8123                      (required)
//   model          model id to preselect with /?models=<id>                     (required)
//   chatPath       continue a saved chat instead, e.g. /c/<chat id> (its model stays),
//                  default none: a new chat
//   messages       list of user messages, sent one after another                (required)
//   attach         files to attach (paths) before the first message, as the "+" → upload
//                  does; waits until Open WebUI has stored and processed them, default []
//   screenshot     PNG path for the final page                                  (required)
//   waitFor        texts that must appear in the last assistant message at some
//                  point (a status line that later hides counts), default []
//   clickText      button texts to click, in order, once each shows up in the
//                  last assistant message or in a dialog (an approval), default []
//   timeoutMs      per answer, default 90000
//   settleMs       how long the answer text must stay unchanged once done, default 800
//   nodeDir        folder whose node_modules holds playwright-core (or $PIPEKIT_E2E_NODE_DIR)
//   chromium       browser binary, default /usr/bin/chromium
//   userDataDir    fresh profile folder (required: the caller makes and removes it)
//   viewport       {width, height}, default 1280x900
//   expandSources  click the "N Sources" chip of the last answer and report the names, default true
//   listModels     open the model selector after the messages (none is fine) and report the
//                  ids it offers in `modelOptions`; the screenshot shows it open, default false
//   adminValves    instead of chatting, edit valves in Admin Panel → Settings → Pipelines as an
//                  admin does: {pipeline: id, fill: {"Field Title": text}, toDefault: [titles
//                  whose Custom/Default toggle to press]}, then Save. Reports `admin`:
//                  {posted (the body Open WebUI's page sent, or null), status, toasts,
//                  invalid (titles of fields the browser refused to submit)}
//
// Requests to anywhere but baseUrl are aborted (and listed in `blocked`): tests talk to
// 127.0.0.1 only.
//
// Prints ONE JSON line on stdout: {ok, answers: [...], assistantText, assistantHtml, seen: [...],
// sources: [...], modelOptions: [...], admin?, blocked: [...], pageUrl, elapsedMs, screenshot,
// error?, console: [...]}.
import { createRequire } from 'node:module';
import path from 'node:path';

const spec = JSON.parse(process.argv[2] || '{}');
const nodeDir = spec.nodeDir || process.env.PIPEKIT_E2E_NODE_DIR;
const require = createRequire(path.join(nodeDir || process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const timeoutMs = spec.timeoutMs ?? 90000;
const settleMs = spec.settleMs ?? 800;
const waitFor = spec.waitFor ?? [];
const clickText = [...(spec.clickText ?? [])];
const started = Date.now();
const consoleLines = [];
const seen = new Set();
const blocked = new Set();
const result = {
  ok: false, answers: [], assistantText: '', assistantHtml: '', seen: [], sources: [],
  modelOptions: [], blocked: [], console: consoleLines,
};

const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function dismissDialogs(page) {
  // First visit on a fresh DATA_DIR shows the changelog ("Okay, Let's Go!").
  const okay = page.getByRole('button', { name: /Okay, Let's Go!/i });
  if (await okay.count()) {
    await okay.first().click().catch(() => {});
    await sleep(300);
  }
}

// Record every line the last assistant message shows, on every DOM change: a status line
// can be replaced within milliseconds, faster than any polling would see it.
async function watchAssistantText(page) {
  await page.evaluate(() => {
    window.__pipekitSeen = new Set();
    const record = () => {
      const messages = document.querySelectorAll('.chat-assistant');
      const last = messages[messages.length - 1];
      if (!last) return;
      for (const line of last.innerText.split('\n')) {
        if (line.trim()) window.__pipekitSeen.add(line.trim());
      }
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true, childList: true, characterData: true,
    });
  });
}

// The last assistant message: its answer text, its whole visible text, and its source chips.
async function snapshot(page) {
  return page.evaluate(() => {
    const messages = document.querySelectorAll('.chat-assistant');
    const last = messages[messages.length - 1];
    if (!last) return { count: 0 };
    const content = last.querySelector('#response-content-container');
    const stop = document.querySelector('button[aria-label="Stop"], #stop-response-button');
    return {
      count: messages.length,
      // The answer's markdown, without the sources toggle under it.
      answer: content
        ? [...content.querySelectorAll('.markdown-prose')].map((el) => el.innerText).join('\n') ||
          content.innerText
        : '',
      whole: last.innerText,
      // The action buttons (copy, regenerate ...) under the message, outside .chat-assistant,
      // are rendered only once the answer is done.
      done: !!last.closest('[id^="message-"]')?.querySelector('.copy-response-button') && !stop,
    };
  });
}

// Open WebUI 0.12 shows sources as one "N Sources" toggle; opened, it lists
// buttons id="source-<message id>-<n>" whose text is "<n> <name>".
async function expandSources(page) {
  const last = page.locator('.chat-assistant').last();
  const toggle = last.locator('button[aria-label^="Toggle"][aria-label$="source"], button[aria-label^="Toggle"][aria-label$="sources"]');
  if (!(await toggle.count())) return [];
  await toggle.first().click();
  await sleep(300);
  const names = await last.locator('button[id^="source-"]').allInnerTexts();
  return names.map((text) => text.replace(/\s+/g, ' ').trim().replace(/^\d+\s*/, ''));
}

// What a user can pick in the model selector: [role=option] entries carry the model id.
async function listModels(page) {
  await page.locator('#model-selector-model-button').first().click();
  const options = page.locator('[role="option"][data-value]');
  await options.first().waitFor({ state: 'visible' });
  await sleep(300);
  return options.evaluateAll((els) => els.map((el) => el.getAttribute('data-value')));
}

// The admin panel's valves form: one row per valve, titled by a <label>, with a
// "Custom"/"Default" toggle button beside it and the input (placeholder = title) under it.
async function editAdminValves(page, { pipeline, fill = {}, toDefault = [] }) {
  const admin = { posted: null, status: null, toasts: [], invalid: [] };
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes(`/pipelines/${pipeline}/valves/update`)) {
      admin.posted = JSON.parse(request.postData() || 'null');
    }
  });
  page.on('response', (response) => {
    if (response.url().includes(`/pipelines/${pipeline}/valves/update`)) admin.status = response.status();
  });
  await page.goto(`${spec.baseUrl}/admin/settings/pipelines`);
  const chooser = page.locator('select#pipeline');
  await chooser.waitFor({ state: 'visible' });
  // The list fills in once Open WebUI has asked the pipelines server: "<id> (pipe|filter)".
  const option = await page.waitForFunction(
    (id) => [...document.querySelectorAll('select#pipeline option')]
      .map((o) => o.textContent.trim())
      .find((text) => text.startsWith(`${id} (`)),
    pipeline
  ).catch(() => null);
  if (!option) throw new Error(`pipeline ${pipeline} is not in the admin panel's list`);
  await chooser.selectOption({ label: await option.jsonValue() });
  const row = (title) => page.locator('label', { hasText: new RegExp(`^${title}$`) }).locator('xpath=../..');
  for (const [title, text] of Object.entries(fill)) {
    await row(title).getByPlaceholder(title, { exact: true }).fill(text);
  }
  for (const title of toDefault) {
    await row(title).locator('button[id$="-control"]').click();
  }
  // Only toasts about the save count (not "You're now logged in.").
  const toasts = async () => (await page.locator('[data-sonner-toast]').allInnerTexts())
    .map((text) => text.trim())
    .filter((text) => !/logged in/i.test(text));
  const before = new Set(await toasts());
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  // Either a toast (the server answered) or the browser's own form validation stops it.
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    admin.toasts = (await toasts()).filter((text) => !before.has(text));
    if (admin.toasts.length) break;
    admin.invalid = await page.locator('form :invalid').evaluateAll(
      (fields) => fields.map((field) => field.getAttribute('placeholder') || field.name || field.id)
    );
    if (admin.invalid.length && admin.status === null) {
      await sleep(1000);  // give a request that did go out time to answer
      if (admin.status === null) break;
    }
    await sleep(200);
  }
  return admin;
}

async function waitForAnswer(page, index) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let stableSince = Date.now();
  let snap = {};
  while (Date.now() < deadline) {
    snap = await snapshot(page);
    if (snap.count >= index + 1) {
      for (const line of (snap.whole || '').split('\n')) if (line.trim()) seen.add(line.trim());
      for (const line of await page.evaluate(() => [...(window.__pipekitSeen || [])])) seen.add(line);
      if (clickText.length) {
        // In the answer (buttons a pipe renders) or in a dialog (Open WebUI's confirmation).
        const scope = page.locator('.chat-assistant').last().or(page.locator('[role="dialog"]'));
        const button = scope.getByRole('button', { name: clickText[0] });
        if (await button.count()) {
          await button.first().click();
          clickText.shift();
        }
      }
      if (snap.whole !== last) {
        last = snap.whole;
        stableSince = Date.now();
      }
      const waitsMet = waitFor.every((text) => [...seen].some((line) => line.includes(text)));
      if (snap.done && waitsMet && !clickText.length && Date.now() - stableSince >= settleMs) {
        return snap;
      }
    }
    await sleep(100);
  }
  const missing = waitFor.filter((text) => ![...seen].some((line) => line.includes(text)));
  throw new Error(
    `answer ${index + 1} not complete after ${timeoutMs} ms (done=${!!snap.done}, ` +
    `missing waitFor=${JSON.stringify(missing)}, unclicked=${JSON.stringify(clickText)}, ` +
    `text so far=${JSON.stringify((snap.whole || '').slice(0, 300))})`
  );
}

// Upload through the chat input's file field. Open WebUI stores each file, then streams its
// processing status (text extraction, embedding); the message waits for both to finish.
async function attachFiles(page, paths) {
  const processed = paths.map(() =>
    page.waitForEvent('requestfinished', (request) => request.url().includes('/process/status'))
  );
  await page.locator('input[type="file"]:not(#camera-input)').first().setInputFiles(paths);
  await Promise.all(processed);
  await sleep(300);
}

// Send spec.messages one by one in the open chat and wait for each answer.
async function chat(page, input) {
  // A saved chat renders its history after the input shows: count the answers already
  // there, so the wait below is for the new ones.
  if (spec.chatPath) await page.locator('.chat-assistant').first().waitFor({ state: 'visible' });
  const earlier = await page.locator('.chat-assistant').count();
  await dismissDialogs(page);
  await watchAssistantText(page);
  if (spec.attach?.length) await attachFiles(page, spec.attach);
  for (const [index, message] of spec.messages.entries()) {
    await dismissDialogs(page);
    await input.click();
    await page.keyboard.type(message);
    await page.locator('#send-message-button').click();
    const snap = await waitForAnswer(page, earlier + index);
    result.answers.push(snap.answer.trim());
    result.assistantText = snap.whole;
    // The rendered message, for what its text does not show (citation buttons, links).
    result.assistantHtml = await page.locator('.chat-assistant').last().evaluate((el) => el.outerHTML);
  }
  if (spec.expandSources ?? true) result.sources = await expandSources(page);
  if (spec.listModels) result.modelOptions = await listModels(page);
}

async function main() {
  // Playwright owns --user-data-dir: a persistent context on the caller's fresh folder.
  const context = await chromium.launchPersistentContext(spec.userDataDir, {
    executablePath: spec.chromium || '/usr/bin/chromium',
    headless: true,
    args: LAUNCH_ARGS,
    viewport: spec.viewport || { width: 1280, height: 900 },
  });
  let page;
  try {
    const origin = new URL(spec.baseUrl).origin;
    await context.route(
      (url) => !url.href.startsWith(origin) && !/^(data|blob|about):/.test(url.protocol),
      (route) => {
        blocked.add(route.request().url().slice(0, 200));
        return route.abort();
      }
    );
    page = context.pages()[0] || (await context.newPage());
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleLines.push(msg.text().slice(0, 300));
    });
    page.setDefaultTimeout(timeoutMs);
    const start = spec.chatPath || `/?models=${encodeURIComponent(spec.model)}`;
    await page.goto(`${spec.baseUrl}${start}`);
    const input = page.locator('#chat-input');
    await input.waitFor({ state: 'visible' });
    if (spec.adminValves) {
      await dismissDialogs(page);
      result.admin = await editAdminValves(page, spec.adminValves);
    } else {
      await chat(page, input);
    }
    result.pageUrl = page.url();
    result.ok = true;
  } catch (error) {
    result.error = String(error && error.stack ? error.stack : error);
  } finally {
    if (page && spec.screenshot) {
      // The "You're now logged in." toast would cover the user's message; errors stay shown.
      // On the admin panel, the save's own toast is the point of the picture.
      const hideSuccessToasts = '[data-sonner-toast][data-type="success"] { display: none !important; }';
      if (!spec.adminValves) await page.addStyleTag({ content: hideSuccessToasts }).catch(() => {});
      await page.screenshot({ path: spec.screenshot, fullPage: true }).catch((error) => {
        result.error = (result.error ? result.error + '\n' : '') + `screenshot failed: ${error}`;
      });
      result.screenshot = spec.screenshot;
    }
    await context.close();
  }
  result.seen = [...seen];
  result.blocked = [...blocked];
  result.elapsedMs = Date.now() - started;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.ok ? 0 : 1);
}

main().catch((error) => {
  result.error = String(error && error.stack ? error.stack : error);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(2);
});
