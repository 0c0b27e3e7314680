// Export on one device's page and import on another's, in headless Chromium against two real
// agents: the key shown on the receiving page, a download sealed for it, a dry run confirmed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAgent, launchChromium, assertAccessible } from './support.mjs';

const PASSWORD = 'correct horse battery';
const CANARY = 'CANARY-BROWSER-TRANSFER-31c9';
const agents = {};
let browser, tmp;

// Sets the admin password through the API and returns a page logged in to that agent.
async function device(name) {
  const dir = path.join(tmp, name);
  const agent = await startAgent(dir);
  const code = readFileSync(path.join(dir, 'setup-code'), 'utf8').trim();
  const r = await fetch(agent.base + '/api/v1/setup', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ setup_code: code, password: PASSWORD }) });
  assert.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const csrf = (await r.json()).csrf_token;
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', e => { throw e; });
  await page.goto(agent.base + '/');
  await page.fill('#l-pw', PASSWORD);
  await page.click('#login-form button');
  await page.locator('#conns').waitFor();
  agents[name] = { ...agent, dir, page, cookie, csrf };
  return agents[name];
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'tracklight-transfer-'));
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const a of Object.values(agents)) a.proc.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

test('a connection moves from one device to another through the page, its secret sealed', async () => {
  const a = await device('a');
  const b = await device('b');
  const put = await fetch(a.base + '/api/v1/connections/team-jira?verify=false', { method: 'PUT',
    headers: { 'Content-Type': 'application/json', Cookie: a.cookie, 'X-CSRF-Token': a.csrf },
    body: JSON.stringify({ name: 'Team Jira', provider: 'jira', server_url: 'https://example.atlassian.net',
      auth: 'api-key', username: 'mia@example.com', api_key: CANARY }) });
  assert.equal(put.status, 200, await put.text());

  await b.page.click('#x-key');
  await b.page.locator('#xfer', { hasText: /x25519:[0-9a-f]{64}/ }).waitFor();  // fetched, made on first use
  const shown = await b.page.locator('#xfer').textContent();
  const key = /x25519:[0-9a-f]{64}/.exec(shown)[0];
  await assertAccessible(b.page, 'list with the device key shown');

  await a.page.check('#x-secrets');
  await a.page.fill('#x-for', key);
  const [download] = await Promise.all([a.page.waitForEvent('download'), a.page.click('#export')]);
  assert.equal(download.suggestedFilename(), 'tracklight-export.conf');
  const file = path.join(tmp, 'export.conf');
  await download.saveAs(file);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /\[connection team-jira\]/);
  assert.match(text, /api_key = sealed-for:/);
  assert.ok(!text.includes(CANARY));

  let asked = '';
  b.page.once('dialog', d => { asked = d.message(); d.accept(); });
  await b.page.setInputFiles('#x-file', file);
  await b.page.locator('#xfer', { hasText: 'Imported' }).waitFor();
  assert.match(asked, /added team-jira/);
  await b.page.locator('#list tbody tr', { hasText: 'Team Jira' }).waitFor();
  assert.match(await b.page.locator('#list tbody').textContent(), /not verified/);
  await assertAccessible(b.page, 'list after an import');

  // The same file sealed for b does not open on a: refused by name, nothing changes.
  await a.page.setInputFiles('#x-file', file);
  await a.page.locator('#xfer', { hasText: 'sealed for another device' }).waitFor();
  assert.match(await a.page.locator('#xfer').textContent(), /line \d+: \[connection team-jira\] api_key is sealed for another device/);
});
