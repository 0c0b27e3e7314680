// The kiosk board in real headless Chromium at the two wall-screen sizes (1920x1080 and the
// Raspberry Pi touch display's 800x480), against the real agent and the fake trackers over TLS:
// everything fits without scrolling, status is shown by colour and by word, relative times
// tick, and the banners say when a tracker or the agent itself cannot be reached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { top, pki, shots, startAgent, startFake, launchChromium } from './support.mjs';

const TOKEN = 'CANARY-BOARD-API-KEY-19ab', PAT = 'CANARY-BOARD-PAT-42cd';
const basic = (u, p) => 'Basic ' + Buffer.from(u + ':' + p).toString('base64');
let agent, browser, base, stateDir;
const fakes = {};

async function api(method, p, body, session) {
  const headers = { 'Content-Type': 'application/json' };
  if (session) Object.assign(headers, { Cookie: session.cookie, 'X-CSRF-Token': session.csrf });
  const r = await fetch(base + p, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, headers: r.headers, json: r.status === 304 ? null : await r.json() };
}

async function waitForBoard(ok, ms = 40000) {
  const until = Date.now() + ms;
  let b;
  while (Date.now() < until) {
    b = (await api('GET', '/api/v1/board')).json;
    if (b.sources.length && b.sources.every(ok)) return b;
    await new Promise(r => setTimeout(r, 250));
  }
  assert.fail('board never reached the expected state: ' + JSON.stringify(b));
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  stateDir = mkdtempSync(path.join(tmpdir(), 'tracklight-board-'));
  execFileSync(path.join(top, 'tools/gen_test_certs.sh'), [pki]);
  agent = await startAgent(stateDir);
  base = agent.base;
  fakes.jira = await startFake(stateDir, 'jira', 'good', { personality: 'jira-cloud', expected_authorization: basic('mia@example.com', TOKEN),
    user: { email: 'mia@example.com' }, issues: 31 });
  fakes.ado = await startFake(stateDir, 'ado', 'noip', { personality: 'ado', collection_path: '/tfs/DefaultCollection', projects: ['Fiber'],
    expected_authorization: basic('', PAT), pipelines: 8,
    pipeline_names: ['CI', 'Nightly', 'Deploy', 'Docs', 'Mobile app', 'Release', 'Integration tests', 'Security scan'] });
  const code = readFileSync(path.join(stateDir, 'setup-code'), 'utf8').trim();
  const setup = await fetch(base + '/api/v1/setup', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ setup_code: code, password: 'correct horse battery' }) });
  const session = { cookie: setup.headers.get('set-cookie').split(';')[0], csrf: (await setup.json()).csrf_token };
  const ca = readFileSync(path.join(pki, 'ca.pem'), 'utf8');
  let r = await api('PUT', '/api/v1/connections/jira', { name: 'Team Jira', provider: 'jira',
    server_url: 'https://localhost:' + fakes.jira.port, auth: 'api-key', username: 'mia@example.com', api_key: TOKEN,
    ca_cert: ca, board: { enabled: true, interval_s: 15, jql: 'project = TL' } }, session);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  r = await api('PUT', '/api/v1/connections/ado', { name: 'Fabrikam builds', provider: 'azure-devops',
    server_url: 'https://localhost:' + fakes.ado.port + '/tfs', auth: 'pat', token: PAT, ca_cert: ca,
    board: { enabled: true, interval_s: 15 } }, session);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await waitForBoard(s => !s.stale);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (agent) agent.proc.kill('SIGTERM');
  for (const f of Object.values(fakes)) f.proc.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

async function openBoard(width, height, clock) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(10000);
  page.on('pageerror', e => { throw e; });
  if (clock) await page.clock.install();
  await page.goto(base + '/board');
  await page.waitForSelector('.tile');
  return page;
}

for (const [width, height] of [[1920, 1080], [800, 480]]) {
  test(`board fits ${width}x${height} without scrolling, status by colour and word`, async () => {
    const page = await openBoard(width, height);
    assert.equal(await page.locator('.tile').count(), 8);
    assert.equal(await page.locator('.issues li').count(), 10);
    const fit = await page.evaluate(() => {
      const root = document.documentElement;
      const out = [...document.querySelectorAll('.tile, .count, .issues li')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5 || r.height < 8;
      }).map(e => e.textContent);
      return { scroll: root.scrollHeight > innerHeight || root.scrollWidth > innerWidth, out };
    });
    assert.equal(fit.scroll, false, 'the page scrolls');
    assert.deepEqual(fit.out, [], 'cut off or squashed');
    const nightly = page.locator('.tile', { hasText: 'Nightly' });
    assert.match(await nightly.locator('.state').textContent(), /Failed/i);
    const colour = await nightly.evaluate(e => getComputedStyle(e).backgroundColor);
    const ci = await page.locator('.tile', { hasText: 'CI' }).first().evaluate(e => getComputedStyle(e).backgroundColor);
    assert.notEqual(colour, ci, 'failed and succeeded look the same');
    assert.match(await page.locator('.tile', { hasText: 'Deploy' }).locator('.state').textContent(), /Building.*last succeeded/i);
    assert.match(await page.locator('.counts').textContent(), /To do/);
    const fontPx = await nightly.locator('.name').evaluate(e => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(fontPx >= (width > 1000 ? 32 : 16), 'pipeline names too small: ' + fontPx + 'px');
    assert.equal(await page.locator('#banner').isVisible(), false);
    await page.screenshot({ path: path.join(shots, `board-${width}x${height}.png`) });
    await page.close();
  });
}

test('relative times keep ticking', async () => {
  const page = await openBoard(1920, 1080, true);
  const when = page.locator('.tile', { hasText: 'Nightly' }).locator('[data-time]');
  const before = await when.textContent();
  await page.clock.fastForward('03:00:00');
  const afterText = await when.textContent();
  assert.notEqual(afterText, before);
  assert.match(afterText, /(\d+) (h|d) ago/);
  await page.close();
});

test('a tracker that goes down shows a stale banner and keeps the last board', async () => {
  fakes.ado.proc.kill('SIGKILL');
  await waitForBoard(s => s.id !== 'ado' || s.stale);
  const page = await openBoard(800, 480);
  const banner = page.locator('#banner');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.textContent(), /Fabrikam builds: stale since .* — cannot reach localhost/);
  assert.equal(await page.locator('.tile').count(), 8, 'the last known pipelines stay up');
  assert.equal(await page.locator('.src.builds .tag').textContent(), 'STALE');
  const scroll = await page.evaluate(() => document.documentElement.scrollHeight > innerHeight);
  assert.equal(scroll, false, 'the banner pushed the board into scrolling');
  await page.screenshot({ path: path.join(shots, 'board-stale-800x480.png') });
  await page.close();
});

test('the page says when it cannot reach the agent', async () => {
  const page = await openBoard(1920, 1080, true);
  agent.proc.kill('SIGKILL');
  agent = null;
  await page.clock.fastForward('00:20');
  const banner = page.locator('#banner');
  await banner.waitFor({ state: 'visible' });
  await page.waitForFunction(() => /Cannot reach the tracklight agent/.test(document.getElementById('banner').textContent));
  assert.equal(await page.locator('.tile').count(), 8);
  await page.screenshot({ path: path.join(shots, 'board-agent-down-1920x1080.png') });
  await page.close();
});
