// The connection page in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against the real agent binary on a loopback port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.env.TRACKLIGHT_BINARY || path.resolve('build/test/tracklight');
const shots = process.env.SCREENSHOT_DIR || path.resolve('build/screenshots');
const PASSWORD = 'correct horse battery';
const CANARY = 'CANARY-BROWSER-API-KEY-5e1f';
let agent, browser, page, base, stateDir, log = '';

function startAgent() {
  return new Promise((resolve, reject) => {
    agent = spawn(binary, ['--listen', '127.0.0.1:0', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('agent did not start:\n' + log)), 15000);
    agent.stderr.on('data', d => {
      log += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    agent.on('exit', code => reject(new Error('agent exited ' + code + ':\n' + log)));
  });
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  stateDir = mkdtempSync(path.join(tmpdir(), 'tracklight-browser-'));
  base = await startAgent();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', e => { throw e; });
});

after(async () => {
  if (browser) await browser.close();
  if (agent) agent.kill('SIGTERM');
  rmSync(stateDir, { recursive: true, force: true });
});

const visible = sel => page.locator(sel).isVisible();

test('first run: the admin password is set with the setup code', async () => {
  await page.goto(base + '/');
  await page.locator('#setup').waitFor();
  const code = readFileSync(path.join(stateDir, 'setup-code'), 'utf8').trim();
  await page.fill('#s-code', 'WRONG-CODE1');
  await page.fill('#s-pw', PASSWORD);
  await page.fill('#s-pw2', PASSWORD);
  await page.click('#setup-form button');
  await page.locator('#e-setup_code').filter({ hasText: 'setup code is wrong' }).waitFor();
  await page.fill('#s-code', code.toLowerCase());
  await page.click('#setup-form button');
  await page.locator('#conns').waitFor();
  assert.ok(await visible('#empty'));
});

test('switching provider and auth method changes the fields', async () => {
  await page.click('#add');
  await page.locator('#dlg[open]').waitFor();
  assert.equal(await page.inputValue('#f-provider'), 'jira');
  assert.equal(await page.inputValue('#f-auth'), 'api-key');
  assert.ok(await visible('#f-username'));
  assert.ok(await visible('#f-api_key'));
  assert.ok(!(await visible('#f-password')));
  assert.ok(!(await visible('#f-token')));
  assert.ok(!(await visible('#f-collection')));

  await page.selectOption('#f-auth', 'password');
  assert.ok(await visible('#f-password'));
  assert.ok(!(await visible('#f-api_key')));
  await page.selectOption('#f-auth', 'pat');
  assert.ok(await visible('#f-token'));
  assert.ok(!(await visible('#f-password')));

  await page.selectOption('#f-provider', 'azure-devops');
  const adoAuths = await page.locator('#f-auth option').evaluateAll(os => os.map(o => o.value));
  assert.deepEqual(adoAuths, ['pat']);
  assert.ok(await visible('#f-collection'));
  assert.ok(await visible('#f-project'));
  assert.ok(await visible('#f-use_for_tfvc'));
  assert.ok(await visible('#f-token'));
  assert.ok(!(await visible('#f-username')));
  assert.ok(!(await visible('#f-api_key')));
  await page.click('#cancel');
});

test('Cancel discards the edits', async () => {
  await page.click('#add');
  await page.fill('#f-name', 'Discard me');
  await page.fill('#f-server_url', 'https://discard.example');
  await page.click('#cancel');
  assert.ok(!(await visible('#dlg')));
  assert.ok(await visible('#empty'));
  await page.click('#add');
  assert.equal(await page.inputValue('#f-name'), '');
  assert.equal(await page.inputValue('#f-server_url'), '');
  await page.keyboard.press('Escape'); // keyboard users close it the same way
  assert.ok(!(await visible('#dlg')));
});

test('a bad field shows its error next to the field and nothing is saved', async () => {
  await page.click('#add');
  await page.fill('#f-name', 'Broken');
  await page.fill('#f-server_url', 'http://insecure.example');
  await page.fill('#f-username', 'mia@example.com');
  await page.fill('#f-api_key', 'x');
  await page.click('#connect');
  await page.locator('#e-server_url').filter({ hasText: 'https' }).waitFor();
  assert.equal(await page.getAttribute('#f-server_url', 'aria-invalid'), 'true');
  assert.ok(await visible('#dlg'));
  assert.match(await page.textContent('#report'), /Failed/);
  await page.click('#cancel');
  assert.ok(await visible('#empty'));
});

test('adding a Jira connection with an API key, by keyboard', async () => {
  await page.focus('#add');
  await page.keyboard.press('Enter');
  await page.locator('#dlg[open]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-provider');
  await page.fill('#f-name', 'Team Jira');
  assert.equal(await page.inputValue('#f-id'), 'team-jira');
  await page.fill('#f-server_url', 'https://example.atlassian.net');
  await page.fill('#f-username', 'mia@example.com');
  await page.fill('#f-api_key', CANARY);
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'password');
  await page.click('#f-api_key ~ .reveal');
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'text');
  await page.click('#f-api_key ~ .reveal');
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'password');
  await page.click('#test');
  await page.locator('#report li').first().waitFor();
  assert.match(await page.textContent('#report'), /Passed/);
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-jira.png') });
  await page.focus('#f-name');
  await page.keyboard.press('Enter'); // Connect is the form's default action
  await page.locator('#dlg').waitFor({ state: 'hidden' });
  const row = page.locator('#list tbody tr', { hasText: 'Team Jira' });
  await row.waitFor();
  assert.match(await row.textContent(), /not verified/);
});

test('adding an Azure DevOps connection with a PAT', async () => {
  await page.click('#add');
  await page.selectOption('#f-provider', 'azure-devops');
  await page.fill('#f-name', 'Fabrikam');
  await page.fill('#f-server_url', 'https://dev.azure.com/fabrikam');
  await page.fill('#f-token', 'CANARY-BROWSER-PAT-77aa');
  await page.fill('#f-project', 'Fiber');
  await page.check('#f-use_for_tfvc');
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-azure-devops.png') });
  await page.click('#connect');
  await page.locator('#list tbody tr', { hasText: 'Fabrikam' }).waitFor();
});

test('after a reload the connections are there and secrets show as stored only', async () => {
  await page.reload();
  await page.locator('#list tbody tr', { hasText: 'Team Jira' }).waitFor();
  assert.equal(await page.locator('#list tbody tr').count(), 2);
  await page.locator('#list tbody tr', { hasText: 'Team Jira' }).getByRole('button', { name: /Edit/ }).click();
  assert.equal(await page.inputValue('#f-api_key'), '');
  assert.match(await page.getAttribute('#f-api_key', 'placeholder'), /stored/);
  assert.equal(await page.inputValue('#f-username'), 'mia@example.com');
  assert.ok(await page.locator('#f-id').evaluate(e => e.readOnly));
  assert.ok(!(await page.content()).includes(CANARY));
  // Saving without touching the secret keeps it.
  await page.fill('#f-name', 'Team Jira (renamed)');
  await page.click('#connect');
  await page.locator('#list tbody tr', { hasText: 'renamed' }).waitFor();
  const stored = await page.evaluate(async () => (await (await fetch('/api/v1/connections/team-jira')).json()));
  assert.equal(stored.secrets.api_key, true);
  assert.ok(!JSON.stringify(stored).includes('CANARY'));
  await page.screenshot({ path: path.join(shots, 'connections.png'), fullPage: true });
});

test('usable on a phone-sized screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator('#list tbody tr').first().waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
  await page.click('#add');
  const box = await page.locator('#dlg').boundingBox();
  assert.ok(box.width <= 390);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
  await page.screenshot({ path: path.join(shots, 'dialog-phone.png') });
  await page.click('#cancel');
  await page.screenshot({ path: path.join(shots, 'connections-phone.png') });
});

test('the agent log holds no secret', () => {
  assert.ok(!log.includes('CANARY'));
});
