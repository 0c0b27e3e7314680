// The connection page in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against the real agent binary on a loopback port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { top, pki, shots, startAgent, startFake, launchChromium, assertAccessible } from './support.mjs';

const PASSWORD = 'correct horse battery';
const CANARY = 'CANARY-BROWSER-API-KEY-5e1f';
const ADO_PAT = 'CANARY-BROWSER-PAT-77aa';
let agent, browser, page, base, stateDir;
const fakes = {}; // name -> { proc, port, scenarioPath }
const JIRA_SCENARIO = {
  personality: 'jira-cloud',
  expected_authorization: 'Basic ' + Buffer.from('mia@example.com:' + CANARY).toString('base64'),
  user: { email: 'mia@example.com', display: 'Mia Krystof' },
};
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const CLIENT_SECRET = 'CANARY-BROWSER-CLIENT-SECRET-3c9d';
// Azure DevOps Server, and Microsoft Entra ID (the same fake) for the service principal.
const ADO_SCENARIO = {
  personality: 'ado', collection_path: '/tfs/DefaultCollection', projects: ['Fiber'],
  expected_authorization: 'Basic ' + Buffer.from(':' + ADO_PAT).toString('base64'),
  entra: { tenant: TENANT, clients: { [CLIENT]: { secret: CLIENT_SECRET } } },
};

async function fillCa() {
  if (!(await page.locator('#more').evaluate(d => d.open))) await page.click('#more summary');
  await page.fill('#f-ca_cert', readFileSync(path.join(pki, 'ca.pem'), 'utf8'));
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  stateDir = mkdtempSync(path.join(tmpdir(), 'tracklight-browser-'));
  agent = await startAgent(stateDir);
  base = agent.base;
  execFileSync(path.join(top, 'tools/gen_test_certs.sh'), [pki]);
  fakes.jira = await startFake(stateDir, 'jira', 'good', JIRA_SCENARIO);
  fakes.ado = await startFake(stateDir, 'ado', 'good', ADO_SCENARIO);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', e => { throw e; });
});

after(async () => {
  if (browser) await browser.close();
  if (agent) agent.proc.kill('SIGTERM');
  for (const f of Object.values(fakes)) f.proc.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

const visible = sel => page.locator(sel).isVisible();

test('first run: the admin password is set with the setup code', async () => {
  await page.goto(base + '/');
  await page.locator('#setup').waitFor();
  await assertAccessible(page, 'setup view');
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
  assert.deepEqual(adoAuths, ['pat', 'device-code', 'service-principal', 'managed-identity']);
  assert.ok(!(await visible('#f-tenant_id')));
  assert.ok(!(await visible('#f-client_secret')));
  assert.ok(await visible('#f-collection'));
  assert.ok(await visible('#f-project'));
  assert.ok(await visible('#f-use_for_tfvc'));
  assert.ok(await visible('#f-token'));
  assert.ok(!(await visible('#f-username')));
  assert.ok(!(await visible('#f-api_key')));
  await page.selectOption('#f-auth', 'service-principal');
  for (const f of ['#f-tenant_id', '#f-client_id', '#f-client_secret', '#f-authority_host']) assert.ok(await visible(f), f);
  assert.ok(!(await visible('#f-token')));
  await page.selectOption('#f-auth', 'managed-identity');
  assert.ok(await visible('#f-client_id'));
  assert.ok(await visible('#h-client_id'), 'says to leave it empty for the system-assigned identity');
  for (const f of ['#f-tenant_id', '#f-client_secret', '#f-authority_host', '#f-token']) assert.ok(!(await visible(f)), f);
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
  await page.fill('#f-server_url', 'https://localhost:' + fakes.jira.port);
  await page.fill('#f-username', 'mia@example.com');
  await page.fill('#f-api_key', CANARY);
  await fillCa();
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'password');
  await page.click('#f-api_key ~ .reveal');
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'text');
  await page.click('#f-api_key ~ .reveal');
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'password');
  await page.click('#test');
  await page.locator('#report h3', { hasText: 'all checks passed' }).waitFor({ timeout: 20000 });
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-jira.png') });
  await page.focus('#f-name');
  await page.keyboard.press('Enter'); // Connect is the form's default action
  await page.locator('#dlg').waitFor({ state: 'hidden' });
  const row = page.locator('#list tbody tr', { hasText: 'Team Jira' });
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /authorized/);
});

test('Test against a Jira that withholds a permission names it, and Connect saves nothing', async () => {
  writeFileSync(fakes.jira.scenarioPath, JSON.stringify({ ...JIRA_SCENARIO, permissions: { CREATE_ATTACHMENTS: false } }));
  await page.click('#add');
  await page.fill('#f-name', 'Fake Jira');
  await page.fill('#f-server_url', 'https://localhost:' + fakes.jira.port);
  await page.fill('#f-username', 'mia@example.com');
  await page.fill('#f-api_key', CANARY);
  await fillCa();
  await page.click('#test');
  const failed = page.locator('#report li.r-fail');
  await failed.waitFor({ timeout: 20000 });
  assert.match(await failed.textContent(), /Missing permissions: Create attachments/);
  assert.match(await failed.textContent(), /Fix: Ask a Jira admin/);
  assert.match(await page.textContent('#report'), /Passed.*Signed in as Mia Krystof/s);
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-test-report.png') });
  await page.click('#connect');
  await page.locator('#report h3', { hasText: 'problems found' }).waitFor();
  assert.ok(await visible('#dlg'), 'a failed Connect keeps the dialog open');
  await page.click('#cancel');
  assert.equal(await page.locator('#list tbody tr', { hasText: 'Fake Jira' }).count(), 0);
  writeFileSync(fakes.jira.scenarioPath, JSON.stringify(JIRA_SCENARIO));
});

test('adding an Azure DevOps connection with a PAT', async () => {
  await page.click('#add');
  await page.selectOption('#f-provider', 'azure-devops');
  await page.fill('#f-name', 'Fabrikam');
  await page.fill('#f-server_url', 'https://localhost:' + fakes.ado.port + '/tfs');
  await page.fill('#f-token', ADO_PAT);
  await page.check('#f-use_for_tfvc');
  await fillCa();
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-azure-devops.png') });
  await page.click('#connect');
  const row = page.locator('#list tbody tr', { hasText: 'Fabrikam' });
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /authorized/);
  // The only project the token sees was detected and stored.
  const stored = await page.evaluate(async () => (await (await fetch('/api/v1/connections/fabrikam')).json()));
  assert.equal(stored.project, 'Fiber');
});

test('adding an Azure DevOps connection with a service principal signs in through Entra ID', async () => {
  await page.click('#add');
  await page.selectOption('#f-provider', 'azure-devops');
  await page.selectOption('#f-auth', 'service-principal');
  await page.fill('#f-name', 'Fabrikam SP');
  await page.fill('#f-server_url', 'https://localhost:' + fakes.ado.port + '/tfs');
  await page.fill('#f-tenant_id', TENANT);
  await page.fill('#f-client_id', CLIENT);
  await page.fill('#f-client_secret', CLIENT_SECRET);
  await page.fill('#f-authority_host', 'https://localhost:' + fakes.ado.port);
  await fillCa();
  await page.click('#test');
  await page.locator('#report li', { hasText: 'Got a token from Microsoft Entra ID' }).waitFor({ timeout: 20000 });
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-azure-devops-service-principal.png') });
  await page.click('#connect');
  const row = page.locator('#list tbody tr', { hasText: 'Fabrikam SP' });
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /authorized/);
  const stored = await page.evaluate(async () => (await (await fetch('/api/v1/connections/fabrikam-sp')).json()));
  assert.equal(stored.secrets.client_secret, true);
  assert.equal(stored.authority_host, 'https://localhost:' + fakes.ado.port);
  assert.equal(JSON.stringify(stored).includes(CLIENT_SECRET), false);
  // The stored client secret stays with its authority host: moving it asks for the secret again.
  await page.locator('#list tbody tr', { hasText: 'Fabrikam SP' }).getByRole('button', { name: /Edit/ }).click();
  await page.fill('#f-authority_host', 'https://login.microsoftonline.us');
  assert.match(await page.locator('#dlg').textContent(), /Enter the client secret again/);
  await page.fill('#f-authority_host', 'https://localhost:' + fakes.ado.port);
  assert.doesNotMatch(await page.locator('#dlg').textContent(), /Enter the client secret again/);
  await page.click('#cancel');
});

test('after a reload the connections are there and secrets show as stored only', async () => {
  await page.reload();
  await page.locator('#list tbody tr', { hasText: 'Team Jira' }).waitFor();
  assert.equal(await page.locator('#list tbody tr').count(), 3);  // Jira, Azure DevOps with a PAT and with a service principal
  await page.locator('#list tbody tr', { hasText: 'Team Jira' }).getByRole('button', { name: /Edit/ }).click();
  assert.equal(await page.inputValue('#f-api_key'), '');
  assert.match(await page.getAttribute('#f-api_key', 'placeholder'), /stored/);
  assert.equal(await page.inputValue('#f-username'), 'mia@example.com');
  assert.ok(await page.locator('#f-id').evaluate(e => e.readOnly));
  assert.ok(!(await page.content()).includes(CANARY));
  // Saving without touching the secret keeps it.
  await page.fill('#f-name', 'Team Jira (renamed)');
  await page.click('#connect');
  await page.locator('#list tbody tr', { hasText: 'renamed' }).waitFor({ timeout: 20000 });
  const stored = await page.evaluate(async () => (await (await fetch('/api/v1/connections/team-jira')).json()));
  assert.equal(stored.secrets.api_key, true);
  assert.ok(!JSON.stringify(stored).includes('CANARY'));
  await page.screenshot({ path: path.join(shots, 'connections.png'), fullPage: true });
});

// A stored connection with every kind of stored secret: API key, proxy password, two headers.
async function storeProxied() {
  const r = await page.evaluate(async port => {
    const csrf = (await (await fetch('/api/v1/session')).json()).csrf_token; // the page's own session
    const res = await fetch('/api/v1/connections/proxied?verify=false', { method: 'PUT', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ name: 'Proxied Jira', provider: 'jira', auth: 'api-key', username: 'mia@example.com',
        server_url: 'https://localhost:' + port, api_key: 'CANARY-PROXIED-KEY', proxy_url: 'http://127.0.0.1:9',
        proxy_password: 'CANARY-PROXY-PW', headers: [{ name: 'X-One', value: 'CANARY-H1' }, { name: 'X-Two', value: 'CANARY-H2' }] }) });
    return res.status;
  }, fakes.jira.port);
  assert.equal(r, 200);
  await page.reload();
  await editProxied();
}

// Opens the stored proxied connection, closing whatever an earlier failed test left open.
async function editProxied() {
  if (await visible('#dlg')) await page.click('#cancel');
  await page.locator('#list tbody tr', { hasText: 'Proxied Jira' }).getByRole('button', { name: /Edit/ }).click();
  await page.locator('#dlg[open]').waitFor();
}

const buttonNames = async () => [...(await page.locator('#dlg').ariaSnapshot()).matchAll(/- button "([^"]*)"/g)].map(m => m[1]);

// Device code: the code is shown in the dialog, the person enters it on the (fake) Microsoft
// page in another tab, and the dialog notices, without losing what was typed.
test('the device code is shown, completed on the verification page, and connected', async () => {
  const dc = await startFake(stateDir, 'dc', 'good', {
    ...ADO_SCENARIO, expected_authorization: 'no PAT here',
    entra: { tenant: TENANT, clients: { [CLIENT]: { public_client: true } }, device: { interval: 1 } },
  });
  fakes.dc = dc;
  await page.click('#add');
  await page.selectOption('#f-provider', 'azure-devops');
  await page.selectOption('#f-auth', 'device-code');
  for (const f of ['#f-tenant_id', '#f-client_id', '#h-dc', '#f-authority_host', '#si']) assert.ok(await visible(f), f);
  for (const f of ['#f-client_secret', '#f-token', '#si-code']) assert.ok(!(await visible(f)), f);
  await page.fill('#f-name', 'Fabrikam DC');
  await page.fill('#f-server_url', 'https://localhost:' + dc.port + '/tfs');
  await page.fill('#f-project', 'Fiber');
  await page.fill('#f-tenant_id', TENANT);
  await page.fill('#f-client_id', CLIENT);
  await page.fill('#f-authority_host', 'https://localhost:' + dc.port);
  await fillCa();
  await page.click('#si');
  await page.locator('#si-code').waitFor();
  const code = await page.textContent('#si-uc');
  assert.match(code, /^[A-Z0-9]{9}$/);
  assert.match(await page.textContent('#si-msg'), new RegExp(code));
  const link = await page.getAttribute('#si-link', 'href');
  assert.equal(link, 'https://localhost:' + dc.port + '/devicelogin');
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-azure-devops-device-code.png') });
  // The person's phone: the fake's certificate comes from the test CA, which this browser lacks.
  const phone = await browser.newContext({ ignoreHTTPSErrors: true });
  const tab = await phone.newPage();
  await tab.goto(link);
  await tab.fill('#user_code', code);
  await tab.click('#approve');
  await tab.locator('#result[data-state="approved"]').waitFor();
  await phone.close();
  await page.locator('#si-who', { hasText: 'Signed in as mia@fabrikam.example' }).waitFor({ timeout: 20000 });
  assert.ok(!(await visible('#si-code')));
  assert.equal(await page.inputValue('#f-name'), 'Fabrikam DC', 'what was typed is kept');
  await page.click('#test');
  await page.locator('#report li.r-pass', { hasText: 'Microsoft Entra ID for mia@fabrikam.example' }).waitFor({ timeout: 20000 });
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-azure-devops-device-code-signed-in.png') });
  await page.click('#connect');
  const row = page.locator('#list tbody tr', { hasText: 'Fabrikam DC' });
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /authorized/);
  const stored = await page.evaluate(async () => (await (await fetch('/api/v1/connections/fabrikam-dc')).json()));
  assert.equal(stored.secrets.refresh_token, true);
  assert.equal(stored.signed_in_as, 'mia@fabrikam.example');
  // Opened again, the dialog says who is signed in.
  await row.getByRole('button', { name: /Edit/ }).click();
  assert.match(await page.textContent('#si-who'), /Signed in as mia@fabrikam.example/);
  await page.click('#cancel');
});

test('every button in the dialog names its own field; Show/Hide says what it does', async () => {
  await storeProxied();
  assert.ok(await page.locator('#more').evaluate(d => d.open));
  const names = await buttonNames();
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'buttons with the same name: ' + names.join(', '));
  for (const n of ['Clear stored API key', 'Clear stored proxy password', 'Show API key', 'Show proxy password',
    'Show header 1 value', 'Show header 2 value', 'Remove header 1', 'Remove header 2']) {
    assert.equal(await page.getByRole('button', { name: n, exact: true }).count(), 1, n);
  }
  const reveal = page.getByRole('button', { name: 'Show API key', exact: true });
  assert.equal(await reveal.getAttribute('aria-pressed'), 'false');
  await reveal.click();
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'text');
  const hide = page.getByRole('button', { name: 'Hide API key', exact: true });
  assert.equal(await hide.getAttribute('aria-pressed'), 'true');
  assert.equal((await hide.textContent()).replace(/ API key$/, ''), 'Hide', 'the visible word and the name disagree');
  assert.ok(await hide.evaluate(b => !b.hasAttribute('aria-label')), 'a fixed aria-label hides the toggled text');
  await hide.click();
  assert.equal(await page.getAttribute('#f-api_key', 'type'), 'password');
  await page.getByRole('button', { name: 'Clear stored proxy password', exact: true }).click();
  assert.match(await page.getAttribute('#f-proxy_password', 'placeholder'), /removed/);
  await page.click('#cancel');
});

test('header rows have their own names, ids and errors, renumbered when a row goes', async () => {
  await editProxied();
  await page.click('#add-header');
  const ids = () => page.locator('#headers input').evaluateAll(is => is.map(i => i.id + '|' + i.name + '|' + i.getAttribute('aria-describedby')));
  assert.deepEqual(await ids(), [0, 1, 2].flatMap(i => [`f-headers[${i}].name|headers[${i}].name|e-headers[${i}].name`,
    `f-headers[${i}].value|headers[${i}].value|e-headers[${i}].value c-headers[${i}].value`]));
  // The new third header repeats the second's name; once the first row goes, the agent names headers[1].name.
  await page.fill('#headers .hrow:nth-child(3) .hname', 'X-Two');
  await page.fill('#headers .hrow:nth-child(3) .secret input', 'v');
  await page.getByRole('button', { name: 'Remove header 1', exact: true }).click();
  assert.deepEqual(await ids(), [0, 1].flatMap(i => [`f-headers[${i}].name|headers[${i}].name|e-headers[${i}].name`,
    `f-headers[${i}].value|headers[${i}].value|e-headers[${i}].value c-headers[${i}].value`]));
  assert.equal(await page.inputValue('[id="f-headers[1].value"]'), 'v');
  assert.equal(await page.getByRole('textbox', { name: 'Header 2 name', exact: true }).inputValue(), 'X-Two');
  await page.click('#connect');
  const err = page.locator('[id="e-headers[1].name"]');
  await err.filter({ hasText: 'appears twice' }).waitFor({ timeout: 20000 });
  assert.equal(await page.getAttribute('[id="f-headers[1].name"]', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('[id="f-headers[0].name"]', 'aria-invalid'), 'false');
  assert.equal(await page.textContent('#e-headers'), '', 'the error landed on the fieldset');
  assert.equal(await page.textContent('[id="e-headers[0].name"]'), '');
  await page.click('#cancel');
});

test('a stored secret is asked for again when the Server URL or Proxy URL moves to another origin', async () => {
  await editProxied();
  const key = page.locator('#c-api_key'), proxy = page.locator('#c-proxy_password'), h1 = page.locator('[id="c-headers[0].value"]');
  const url = await page.inputValue('#f-server_url');
  assert.equal(await key.textContent(), '');
  await page.fill('#f-server_url', url + '/jira'); // same scheme, host and port: carried
  assert.equal(await key.textContent(), '');
  await page.fill('#f-server_url', url.replace('localhost', 'jira.example'));
  assert.equal(await key.textContent(), 'Enter the API key again: a stored secret is not sent to a different server');
  assert.match(await h1.textContent(), /Enter the header 1 value again/);
  assert.equal(await proxy.textContent(), '', 'the proxy did not move');
  assert.match(await page.getAttribute('#f-api_key', 'aria-describedby'), /\bc-api_key\b/);
  await page.fill('#f-api_key', 'typed again');
  assert.equal(await key.textContent(), '', 'a secret typed again is sent');
  await page.fill('#f-server_url', url.replace(/:\d+$/, ':1'));
  assert.equal(await key.textContent(), '');
  await page.fill('#f-api_key', '');
  assert.notEqual(await key.textContent(), '');
  await page.fill('#f-server_url', url);
  assert.equal(await key.textContent(), '');
  await page.fill('#f-proxy_url', 'http://127.0.0.1:3128');
  assert.equal(await proxy.textContent(), 'Enter the proxy password again: a stored secret is not sent to a different server');
  assert.equal(await key.textContent(), '');
  await page.locator('#dlg').screenshot({ path: path.join(shots, 'dialog-secret-not-carried.png') });
  await page.click('#cancel');
});

test('the agent\'s secret_not_carried answer is shown next to each named field', async () => {
  const message = 'the server or proxy address changed (scheme, host or port), so the stored api_key, proxy_password and ' +
    'headers[1].value are not sent there: enter them again';
  let sent;
  await page.route('**/api/v1/connections/proxied', route => {
    sent = route.request().postDataJSON();
    return route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: {
      code: 'secret_not_carried', message, field: 'api_key', fields: ['api_key', 'proxy_password', 'headers[1].value'] } }) });
  });
  await editProxied();
  await page.fill('#f-server_url', 'https://jira.example');
  await page.click('#connect');
  for (const [err, input] of [['#e-api_key', '#f-api_key'], ['#e-proxy_password', '#f-proxy_password'],
    ['[id="e-headers[1].value"]', '[id="f-headers[1].value"]']]) {
    await page.locator(err).filter({ hasText: 'enter them again' }).waitFor();
    assert.equal(await page.getAttribute(input, 'aria-invalid'), 'true', input);
    assert.ok(await page.locator(err).isVisible(), err);
  }
  assert.equal(await page.textContent('#e-form'), '');
  assert.ok(!('api_key' in sent) && !('proxy_password' in sent), 'the page sent a value for an omitted secret');
  await page.unroute('**/api/v1/connections/proxied');
  // Another sign-in method: the stored API key is no longer used, so it is dropped instead.
  await page.selectOption('#f-auth', 'pat');
  await page.fill('#f-token', 'new token');
  await page.route('**/api/v1/connections/test', route => { sent = route.request().postDataJSON(); return route.abort(); });
  await page.click('#test');
  await page.locator('#e-form').filter({ hasText: 'cannot be reached' }).waitFor();
  assert.equal(sent.api_key, '');
  assert.ok(!('proxy_password' in sent));
  await page.unroute('**/api/v1/connections/test');
  await page.click('#cancel');
});

test('axe-core: the list, the login and the dialog for each provider and auth method', async () => {
  if (await visible('#dlg')) await page.click('#cancel');
  await page.locator('#list tbody tr').first().waitFor();
  await assertAccessible(page, 'connection list');
  const methods = { jira: ['api-key', 'password', 'pat', 'oauth2'], 'azure-devops': ['pat', 'device-code', 'service-principal', 'managed-identity'] };
  for (const [provider, auths] of Object.entries(methods)) {
    for (const auth of auths) {
      await page.click('#add');
      await page.selectOption('#f-provider', provider);
      await page.selectOption('#f-auth', auth);
      await page.click('#more summary');
      if (provider === 'jira') await page.click('#add-header');
      await assertAccessible(page, `dialog for ${provider} with ${auth}`);
      await page.click('#cancel');
    }
  }
  // A stored connection: Clear buttons, stored-secret placeholders and a stored header row.
  await page.locator('#list tbody tr', { hasText: 'Team Jira' }).getByRole('button', { name: /Edit/ }).click();
  await page.click('#more summary');
  await assertAccessible(page, 'dialog editing a stored Jira connection');
  await page.click('#cancel');
  await page.click('#logout');
  await page.locator('#login').waitFor();
  await assertAccessible(page, 'login view');
  await page.fill('#l-pw', PASSWORD);
  await page.click('#login-form button');
  await page.locator('#list tbody tr').first().waitFor();
});

test('a new board link is shown once and opens the board', async () => {
  if (await visible('#dlg')) await page.click('#cancel');
  page.once('dialog', d => d.accept());
  await page.click('#board-key');
  await page.locator('#board-link').waitFor();
  const text = await page.locator('#board-link').textContent();
  const m = /(http:\/\/127\.0\.0\.1:\d+\/board\?key=([0-9a-f]{40}))/.exec(text);
  assert.ok(m, text);
  const conf = readFileSync(path.join(stateDir, 'tracklight.conf'), 'utf8');
  assert.ok(!conf.includes(m[2]), 'the key itself is stored');
  const r = await page.evaluate(async key => (await fetch('/api/v1/board?key=' + key)).status, m[2]);
  assert.equal(r, 200);
  await page.reload();
  await page.locator('#list tbody tr').first().waitFor();
  assert.ok(!(await page.content()).includes(m[2]), 'the key is shown again after a reload');
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
  assert.ok(!agent.log().includes('CANARY'));
});
