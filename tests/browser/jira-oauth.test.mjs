// Jira Cloud OAuth 2.0 (3LO) in real headless Chromium: the dialog's Sign in link opens the fake
// Atlassian consent page (tests/fakes/signin_atlassian.py) in a new tab; accepting sends that tab
// back to the device's /oauth/callback, which hands the address to the agent; the dialog, still
// open in the first tab with everything typed, notices, then Tests and Connects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { top, pki, shots, startAgent, startFake, launchChromium, assertAccessible } from './support.mjs';

const PASSWORD = 'correct horse battery';
const CLIENT = 'atl-browser-client-5d';
const SECRET = 'CANARY-BROWSER-ATL-SECRET-8f2b';
const CLOUD_ID = '1324a887-45db-1bf4-1e99-ef0ff456d421';
let agent, fake, browser, context, page, base, dir;

before(async () => {
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'tracklight-oauth-'));
  execFileSync(path.join(top, 'tools/gen_test_certs.sh'), [pki]);
  fake = await startFake(path.join(dir, 'fake'), 'atl', 'good', {});
  const atlassian = 'https://localhost:' + fake.port;
  agent = await startAgent(path.join(dir, 'state'), ['--atlassian-auth-url', atlassian, '--atlassian-api-url', atlassian]);
  base = agent.base;
  // One fake plays auth.atlassian.com, api.atlassian.com and the Jira Cloud site behind it; the
  // app's registered callback is this page's own (the fake re-reads its scenario per request).
  writeFileSync(fake.scenarioPath, JSON.stringify({
    personality: 'jira-cloud', expected_authorization: 'only the gateway\'s tokens',
    user: { email: 'mia@example.com', display: 'Mia Krystof' },
    atlassian: {
      clients: { [CLIENT]: { secret: SECRET, callback: base + '/oauth/callback' } },
      sites: [{ id: CLOUD_ID, name: 'fabrikam', url: atlassian }],
    },
  }));
  browser = await launchChromium();
  // The fake's certificate comes from the test CA, which this browser does not trust.
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ignoreHTTPSErrors: true });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', e => { throw e; });
  await page.goto(base + '/');
  await page.fill('#s-code', readFileSync(path.join(dir, 'state', 'setup-code'), 'utf8').trim());
  await page.fill('#s-pw', PASSWORD);
  await page.fill('#s-pw2', PASSWORD);
  await page.click('#setup-form button');
  await page.locator('#conns').waitFor();
});

after(async () => {
  if (browser) await browser.close();
  if (agent) agent.proc.kill('SIGTERM');
  if (fake) fake.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const visible = sel => page.locator(sel).isVisible();

test('Jira Cloud OAuth 2.0: consent in another tab, back through /oauth/callback, then Test and Connect', async () => {
  const server = 'https://localhost:' + fake.port;
  await page.click('#add');
  await page.selectOption('#f-auth', 'oauth2');
  for (const f of ['#f-client_id', '#f-client_secret', '#f-redirect_uri', '#h-cb', '#si']) assert.ok(await visible(f), f);
  for (const f of ['#f-username', '#f-api_key', '#f-token_expires', '#f-tenant_id', '#h-cs', '#si-code', '#si-pb']) {
    assert.ok(!(await visible(f)), f);
  }
  assert.equal(await page.inputValue('#f-redirect_uri'), base + '/oauth/callback', 'the exact callback to register');
  await assertAccessible(page, 'dialog for jira with oauth2');
  await page.fill('#f-name', 'Fabrikam Cloud');
  await page.fill('#f-server_url', server);
  await page.fill('#f-client_id', CLIENT);
  await page.fill('#f-client_secret', SECRET);
  await page.click('#more summary');
  await page.fill('#f-ca_cert', readFileSync(path.join(pki, 'ca.pem'), 'utf8'));
  await page.click('#si');
  await page.locator('#si-code').waitFor();
  assert.ok(await visible('#si-pb'), 'the paste-back field is offered');
  const link = await page.getAttribute('#si-link', 'href');
  assert.ok(link.startsWith(server + '/authorize?audience=api.atlassian.com&client_id=' + CLIENT), link);
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-jira-oauth2.png') });

  const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#si-link')]);
  await tab.locator('#accept').waitFor();
  assert.match(await tab.textContent('#scopes'), /offline_access/);
  await tab.click('#accept');
  await tab.locator('#banner', { hasText: 'Signed in' }).waitFor({ timeout: 20000 });
  assert.equal(tab.url(), base + '/', 'the code is taken out of the address bar');
  await tab.screenshot({ path: path.join(shots, 'oauth-callback.png') });
  await tab.close();

  await page.locator('#si-who', { hasText: 'Signed in' }).waitFor({ timeout: 20000 });
  assert.ok(!(await visible('#si-code')));
  assert.equal(await page.inputValue('#f-name'), 'Fabrikam Cloud', 'what was typed is kept');
  await page.click('#test');
  // The token the sign-in gave, kept in memory: no renewal yet.
  await page.locator('#report li.r-pass', { hasText: 'Using the token from Atlassian' }).waitFor({ timeout: 20000 });
  await page.locator('#report li.r-pass', { hasText: 'Signed in as Mia Krystof' }).waitFor();
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-jira-oauth2-signed-in.png') });
  await page.click('#connect');
  const row = page.locator('#list tbody tr', { hasText: 'Fabrikam Cloud' });
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /authorized/);
  const stored = await page.evaluate(async () => (await (await fetch('/api/v1/connections/fabrikam-cloud')).json()));
  assert.equal(stored.secrets.refresh_token, true);
  assert.equal(stored.secrets.client_secret, true);
  assert.equal(stored.cloud_id, CLOUD_ID);
  await row.getByRole('button', { name: /Edit/ }).click();
  assert.match(await page.textContent('#si-who'), /Signed in/);
  await page.click('#cancel');
});

// Paste-back: the app's callback is a localhost address nothing listens on (the consent page
// cannot reach the device); the person copies the address the browser landed on into the dialog.
test('Jira OAuth 2.0 paste-back: the landing address typed into the dialog completes the sign-in', async () => {
  const scenario = JSON.parse(readFileSync(fake.scenarioPath, 'utf8'));
  scenario.atlassian.clients[CLIENT].callback = 'http://localhost:9/cb';
  writeFileSync(fake.scenarioPath, JSON.stringify(scenario));
  await page.click('#add');
  await page.selectOption('#f-auth', 'oauth2');
  await page.fill('#f-name', 'Fabrikam Paste');
  await page.fill('#f-server_url', 'https://localhost:' + fake.port);
  await page.fill('#f-client_id', CLIENT);
  await page.fill('#f-client_secret', SECRET);
  await page.fill('#f-redirect_uri', 'http://localhost:9/cb');
  await page.click('#more summary');
  await page.fill('#f-ca_cert', readFileSync(path.join(pki, 'ca.pem'), 'utf8'));
  await page.click('#si');
  await page.locator('#si-pb').waitFor();
  // Nothing listens there; the browser shows an error page with the address in its bar.
  await context.route('http://localhost:9/**', route => route.fulfill({ status: 502, body: 'cannot connect' }));
  const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#si-link')]);
  await tab.click('#accept');
  await tab.waitForURL(/^http:\/\/localhost:9\/cb\?/);
  const landed = tab.url();
  await tab.close();
  await page.fill('#si-url', 'http://localhost:9/cb?code=WRONG&state=0123');
  await page.click('#si-go');
  await page.locator('#e-refresh_token', { hasText: 'another sign-in' }).waitFor();
  await page.fill('#si-url', landed);
  await page.click('#si-go');
  await page.locator('#si-who', { hasText: 'Signed in as mia@example.com' }).waitFor({ timeout: 20000 });
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-jira-oauth2-paste-back.png') });
  await page.click('#connect');
  const row = page.locator('#list tbody tr', { hasText: 'Fabrikam Paste' });
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /authorized/);
});

test('the agent log holds no secret', () => {
  assert.ok(!agent.log().includes(SECRET));
  assert.ok(!agent.log().includes('eyJ'), 'a token reached the log');
});
