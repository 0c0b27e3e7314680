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
import { top, pki, shots, startAgent, startFake, launchChromium, assertAccessible } from './support.mjs';

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
    await assertAccessible(page, `board at ${width}x${height}`);
    await page.screenshot({ path: path.join(shots, `board-${width}x${height}.png`) });
    await page.close();
  });
}

test('relative times keep ticking', async () => {
  const page = await openBoard(1920, 1080, true);
  const when = page.locator('.tile', { hasText: 'Nightly' }).locator('[data-time]');
  const before = await when.textContent();
  await page.clock.fastForward(3 * 24 * 3600 * 1000); // a change in any unit, however old the fake's build is
  const afterText = await when.textContent();
  assert.notEqual(afterText, before);
  assert.match(afterText, /(\d+) (h|d) ago/);
  await page.close();
});

// A page whose /api/v1/board answers come from the test: `serve()` is called per request.
async function routedBoard(width, height, serve) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.setDefaultTimeout(10000);
  page.on('pageerror', e => { throw e; });
  await page.clock.install();
  let served = 0;
  await page.route('**/api/v1/board*', route => { served++; return route.fulfill(serve()); });
  await page.goto(base + '/board');
  // Lets the board poll once more and waits until that answer arrived.
  page.nextPoll = async () => {
    const n = served;
    await page.clock.fastForward('00:16');
    const until = Date.now() + 5000;
    while (served === n && Date.now() < until) await new Promise(r => setTimeout(r, 50));
    assert.ok(served > n, 'the board did not poll');
    await page.evaluate(() => new Promise(r => setTimeout(r, 0)));
  };
  return page;
}
// Waits (on the real clock; the page's own is paused) until `sel`'s text matches `re`.
async function says(page, sel, re) {
  const until = Date.now() + 5000;
  let text = '';
  while (Date.now() < until) {
    text = await page.locator(sel).textContent();
    if (re.test(text)) return text;
    await new Promise(r => setTimeout(r, 50));
  }
  assert.fail(sel + ' never matched ' + re + ': ' + text);
}
const json = body => ({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });

test('a broken entry in the board data costs that entry, and is not called an unreachable agent', async () => {
  const broken = (await api('GET', '/api/v1/board')).json;
  const ado = broken.sources.find(s => Array.isArray(s.pipelines)), jiraSrc = broken.sources.find(s => s.jira);
  ado.pipelines.splice(1, 0, null); // the duplicate-name defect left a null tile
  ado.pipelines.find(p => p && p.name === 'Deploy').last_result = 5; // a wrong type in one tile
  jiraSrc.jira.issues[0] = null;
  let answer = json(broken);
  const page = await routedBoard(1920, 1080, () => answer);
  await page.waitForSelector('.tile');
  const banner = page.locator('#banner');
  await banner.waitFor({ state: 'visible' });
  const text = await banner.textContent();
  assert.match(text, /^Some board data could not be shown \(.*\)/);
  assert.match(text, /Fabrikam builds: 2 pipelines/);
  assert.match(text, /Team Jira: 1 issue\b/);
  assert.doesNotMatch(text, /Cannot reach/);
  assert.equal(await page.locator('.tile').count(), 7, 'the readable tiles are drawn');
  assert.equal(await page.locator('.tile', { hasText: 'Nightly' }).count(), 1);
  assert.equal(await page.locator('.issues li').count(), 9);
  assert.match(await page.locator('#news').textContent(), /Some board data could not be shown/);
  await page.screenshot({ path: path.join(shots, 'board-broken-entry-1920x1080.png') });
  // An answer that is not a board at all keeps the last board, and says so as a data problem.
  answer = { status: 200, contentType: 'application/json', body: '{"sources": null' };
  await page.nextPoll();
  assert.doesNotMatch(await says(page, '#banner', /Some board data could not be shown \(the answer is not a board\)/), /Cannot reach/);
  assert.equal(await page.locator('.tile').count(), 7);
  // An agent that answers with an error is reachable: it is named with its status.
  answer = { status: 500, contentType: 'application/json', body: '{}' };
  await page.nextPoll();
  assert.doesNotMatch(await says(page, '#banner', /The tracklight agent answered HTTP 500/), /Cannot reach/);
  await page.close();
});

test('screen readers hear what changed, not every refresh', async () => {
  let board = (await api('GET', '/api/v1/board')).json;
  const page = await routedBoard(800, 480, () => json(board));
  await page.waitForSelector('.tile');
  const live = await page.locator('[aria-live], [role=status], [role=alert], [role=log]').evaluateAll(es => es.map(e => e.id));
  assert.deepEqual(live, ['news'], 'only the small news region is live, not the tiles or the banner');
  const news = page.locator('#news');
  assert.equal(await news.textContent(), '');
  await page.nextPoll(); // the same board again: nothing to say
  assert.equal(await news.textContent(), '');
  board = structuredClone(board);
  const ado = board.sources.find(s => Array.isArray(s.pipelines));
  const ci = ado.pipelines.find(p => p.name === 'CI');
  assert.equal(ci.state, 'succeeded');
  ci.state = 'failed';
  await page.nextPoll();
  await says(page, '#news', /^CI failed$/);
  Object.assign(ado, { stale: true, reason: 'cannot reach localhost' });
  board = structuredClone(board);
  await page.nextPoll();
  await says(page, '#news', /^Fabrikam builds is stale: cannot reach localhost$/);
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
  await assertAccessible(page, 'stale board at 800x480');
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
