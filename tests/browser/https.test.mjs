// The page over HTTPS (--listen-tls) in real headless Chromium: the browser trusts the device's
// own self-signed certificate only by the public-key hash the agent logs (as a person pins it
// after comparing the fingerprint), sets the password, logs in and uses the page, and holds a
// Secure session cookie. Without the pin the same browser refuses the certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAgent, launchChromium } from './support.mjs';

const PASSWORD = 'correct horse battery';
let agent, stateDir, base, spki;

before(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'tracklight-https-'));
  agent = await startAgent(stateDir, ['--listen-tls', '127.0.0.1:0']);
  const until = Date.now() + 5000;
  while (!/listening on https:/.test(agent.log()) && Date.now() < until) await new Promise(r => setTimeout(r, 20));
  base = /listening on (https:\/\/127\.0\.0\.1:\d+)\//.exec(agent.log())[1];
  spki = /public key SHA-256 \(base64, for pinning\) (\S+)/.exec(agent.log())[1];
});

after(() => {
  agent?.proc.kill('SIGTERM');
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test('without the pinned key Chromium refuses the self-signed certificate', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await assert.rejects(page.goto(base + '/'), /ERR_CERT_AUTHORITY_INVALID|ERR_CERT/);
  } finally {
    await browser.close();
  }
});

test('pinned by its public key: set up, log out, log in and use the page over HTTPS', async () => {
  const browser = await launchChromium(['--ignore-certificate-errors-spki-list=' + spki]);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(base + '/');
    assert.equal(response.status(), 200);
    const security = await response.securityDetails();
    assert.match(security.protocol, /TLS 1\.3/);
    await page.locator('#setup').waitFor();
    await page.fill('#s-code', readFileSync(path.join(stateDir, 'setup-code'), 'utf8').trim());
    await page.fill('#s-pw', PASSWORD);
    await page.fill('#s-pw2', PASSWORD);
    await page.click('#setup-form button');
    await page.locator('#conns').waitFor();
    const cookie = (await context.cookies(base)).find(c => c.name === 'tracklight_session');
    assert.ok(cookie, 'no session cookie');
    assert.equal(cookie.secure, true);
    assert.equal(cookie.httpOnly, true);
    await page.click('#logout');
    await page.locator('#login').waitFor();
    await page.fill('#l-pw', PASSWORD);
    await page.click('#login-form button');
    await page.locator('#conns').waitFor();
    // A write over HTTPS with the session and CSRF token the page holds: a new board key, whose
    // link opens the board over HTTPS.
    page.once('dialog', d => d.accept());
    await page.click('#board-key');
    await page.locator('#board-link').waitFor();
    const link = /(https:\/\/127\.0\.0\.1:\d+\/board\?key=[0-9a-f]{40})/.exec(await page.locator('#board-link').textContent());
    assert.ok(link, 'the board link is not an https link');
    const board = await page.goto(link[1]);
    assert.equal(board.status(), 200);
  } finally {
    await browser.close();
  }
});
