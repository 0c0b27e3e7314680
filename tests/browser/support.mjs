// What the browser tests share: the real agent binary on a loopback port, the fake trackers
// over TLS with the test PKI, and Debian's Chromium (never a downloaded browser).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const top = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const binary = process.env.TRACKLIGHT_BINARY || path.join(top, 'build/test/tracklight');
export const pki = path.join(top, 'build/test-pki');
export const shots = process.env.SCREENSHOT_DIR || path.resolve('build/screenshots');

// Starts the agent; resolves to { proc, base, log() } once it listens.
export function startAgent(stateDir, extra = []) {
  let log = '';
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['--listen', '127.0.0.1:0', '--state-dir', stateDir, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('agent did not start:\n' + log)), 15000);
    proc.stderr.on('data', d => {
      log += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(log);
      if (m) { clearTimeout(timer); resolve({ proc, base: m[1], log: () => log }); }
    });
    proc.on('exit', code => reject(new Error('agent exited ' + code + ':\n' + log)));
  });
}

// A fake tracker (tests/fakes/fake_tracker.py) with the test certificate `cert`. Its scenario
// file is re-read on every request, so a test can change what it answers. Resolves to
// { proc, port, scenarioPath }.
export function startFake(prefix, name, cert, scenario) {
  const scenarioPath = prefix + '-' + name + '.json';
  writeFileSync(scenarioPath, JSON.stringify(scenario));
  return new Promise((resolve, reject) => {
    const proc = spawn('/usr/bin/python3', [path.join(top, 'tests/fakes/fake_tracker.py'), '--cert', path.join(pki, cert + '.pem'),
      '--key', path.join(pki, cert + '.key'), '--scenario', scenarioPath, '--log', prefix + '-' + name + '.log'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => reject(new Error('fake tracker did not start')), 15000);
    let out = ''; // print() may write "listening" and the port in separate chunks
    proc.stdout.on('data', d => {
      out += d;
      const m = /listening (\d+)\n/.exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, port: Number(m[1]), scenarioPath }); }
    });
  });
}

export function launchChromium(extra = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', ...extra],
  });
}

// axe-core (npm) run inside the page as it is, under its own CSP: evaluated through the
// DevTools protocol, which a page's script-src does not govern, so no policy is loosened.
const axeSource = readFileSync(path.join(top, 'tests/browser/node_modules/axe-core/axe.min.js'), 'utf8');

// Fails listing every serious or critical violation (rule, impact, what to fix, where).
export async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
      `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map(n => '    ' + n.target.join(' ') + ' — ' + n.failureSummary.replace(/\n/g, ' ')).join('\n'));
  });
  assert.deepEqual(found, [], what + ': axe-core found serious or critical violations:\n' + found.join('\n'));
}
