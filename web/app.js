'use strict';
// tracklight page: setup, login, connection list and the Task Tracking dialog.
// Talks only to /api/v1. Stored secrets never come back from the API; the form shows that one is
// stored, keeps it when the field is left empty, replaces it when typed, removes it on Clear.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
let csrf = '';
let editing = null; // the stored connection being edited, or null for a new one
// The dialog's own nonce, and its sign-in ({ id, done }) once Sign in was pressed: the agent
// lets only this session and dialog use it.
let dialogNonce = '';
let signin = null;
// The address a consent page sent this browser back to (/oauth/callback?code=&state=): handed to
// the agent once logged in, then taken out of the address bar and history.
let landed = location.pathname === '/oauth/callback' ? location.href : '';

const AUTH = {
  jira: [['api-key', 'API key (Jira Cloud)'], ['password', 'Password (Server/Data Center)'],
    ['pat', 'Personal access token (Data Center 8.14+)'], ['oauth2', 'OAuth 2.0 (Cloud, or Data Center 8.22+)']],
  'azure-devops': [['pat', 'Personal access token'], ['device-code', 'Device code (sign in as yourself)'],
    ['service-principal', 'Service principal (client secret)'], ['managed-identity', 'Managed identity (Azure VM or Arc)']],
};
const AUTH_NOTE = {
  jira: 'OAuth 1.0a sign-in is not available in this version yet.',
  'azure-devops': '',
};
const SECRETS = ['password', 'api_key', 'token', 'client_secret', 'proxy_password'];
const SECRET_NAME = { password: 'password', api_key: 'API key', token: 'token', client_secret: 'client secret',
  proxy_password: 'proxy password' };

async function api(method, path, body) {
  const opts = { method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    return { status: 0, json: { error: { message: 'The agent cannot be reached. Is it running?' } } };
  }
  let json = {};
  try { json = await res.json(); } catch (e) { /* empty body */ }
  return { status: res.status, json };
}

function show(id) {
  for (const s of ['setup', 'login', 'conns']) $('#' + s).hidden = s !== id;
  $('#logout').hidden = id !== 'conns';
  const first = $('#' + id + ' input');
  if (first) first.focus();
}

function banner(text) {
  $('#banner').textContent = text || '';
  $('#banner').hidden = !text;
}

async function start() {
  const r = await api('GET', '/api/v1/session');
  if (r.status === 200) {
    csrf = r.json.csrf_token;
    show('conns');
    return refresh();
  }
  const code = r.json.error && r.json.error.code;
  if (code === 'setup_required') return show('setup');
  if (code === 'not_logged_in') return show('login');
  banner((r.json.error && r.json.error.message) || 'Unexpected answer from the agent.');
}

function setErr(el, text) {
  if (!el) return;
  el.textContent = text || '';
  for (const i of $$('[aria-describedby~="' + CSS.escape(el.id) + '"]')) i.setAttribute('aria-invalid', text ? 'true' : 'false');
}

async function submitSetup(ev) {
  ev.preventDefault();
  const f = ev.target;
  $$('.err', f).forEach(e => setErr(e, ''));
  const pw = $('#s-pw').value;
  if (pw !== $('#s-pw2').value) return setErr($('#e-password2'), 'The passwords differ.');
  const r = await api('POST', '/api/v1/setup', { setup_code: $('#s-code').value.trim(), password: pw });
  if (r.status === 200) {
    csrf = r.json.csrf_token;
    f.reset();
    show('conns');
    return refresh();
  }
  const e = r.json.error || {};
  setErr($('#e-' + (e.field || 'setup_code')), e.message || 'Setup failed.');
}

async function submitLogin(ev) {
  ev.preventDefault();
  const r = await api('POST', '/api/v1/login', { password: $('#l-pw').value });
  if (r.status === 200) {
    csrf = r.json.csrf_token;
    ev.target.reset();
    setErr($('#e-login'), '');
    show('conns');
    return refresh();
  }
  setErr($('#e-login'), (r.json.error && r.json.error.message) || 'Login failed.');
}

async function logout() {
  await api('POST', '/api/v1/logout', {});
  csrf = '';
  show('login');
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function button(text, label, fn, cls) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.className = cls || 'link';
  if (label) b.setAttribute('aria-label', label);
  b.addEventListener('click', fn);
  return b;
}

async function finishLanded() {
  const url = landed;
  landed = '';
  history.replaceState(null, '', '/');
  const r = await api('POST', '/api/v1/signin/' + encodeURIComponent(new URL(url).searchParams.get('state') || '-'), { url });
  const e = r.json.error || {};
  banner(r.status !== 200 ? e.message : r.json.state === 'failed' ? e.message + ' ' + e.hint
    : 'Signed in. Go back to the page with the dialog to Test and Connect; this one can be closed.');
}

async function refresh() {
  if (landed) finishLanded();
  const [list, status] = await Promise.all([api('GET', '/api/v1/connections'), api('GET', '/api/v1/status')]);
  if (list.status === 401) return show('login');
  if (list.status !== 200) return banner((list.json.error && list.json.error.message) || 'Cannot load connections.');
  banner(status.json.config_problem || '');
  const body = $('#list tbody');
  body.textContent = '';
  const conns = list.json.connections;
  $('#empty').hidden = conns.length > 0;
  $('#list').hidden = conns.length === 0;
  for (const c of conns) {
    const tr = document.createElement('tr');
    cell(tr, c.name).dataset.label = 'Name';
    cell(tr, c.provider === 'jira' ? 'Jira' : 'Azure DevOps').dataset.label = 'Provider';
    cell(tr, c.server_url, 'url').dataset.label = 'Server';
    const st = cell(tr, c.status.replace('-', ' '), 'status s-' + c.status);
    st.dataset.label = 'Status';
    if (c.last_error || c.warning) {
      const why = document.createElement('small');
      why.className = 'why';
      why.textContent = c.last_error || c.warning;
      st.append(document.createElement('br'), why);
    }
    cell(tr, c.last_check ? new Date(c.last_check).toLocaleString() : 'never').dataset.label = 'Last check';
    const actions = cell(tr, '');
    actions.appendChild(button('Edit', 'Edit ' + c.name, () => openDialog(c)));
    actions.appendChild(button('Remove', 'Remove ' + c.name, () => remove(c)));
    body.appendChild(tr);
  }
}

async function remove(c) {
  if (!confirm('Remove the connection "' + c.name + '"? Its stored credentials are deleted.')) return;
  const r = await api('DELETE', '/api/v1/connections/' + encodeURIComponent(c.id));
  if (r.status !== 200) banner((r.json.error && r.json.error.message) || 'Could not remove the connection.');
  refresh();
}

// --- the dialog ---------------------------------------------------------------------------

// A secret input with its Show/Hide toggle, Clear button and the note (id `noteId`) that asks
// for it again; nameBox() then names the field in the buttons ("Clear stored API key").
function secretBox(box, noteId) {
  const input = $('input', box);
  const reveal = button('Show', '', () => {
    const shown = input.type === 'password';
    input.type = shown ? 'text' : 'password';
    showState(reveal, shown);
  }, 'reveal');
  // Named by its own text (the field's name is visually hidden), so name and text always agree.
  reveal.append(document.createElement('span'));
  reveal.lastChild.className = 'sr';
  showState(reveal, false);
  const clear = button('Clear', '', () => {
    box.dataset.clear = '1';
    box.dataset.stored = '';
    input.value = '';
    input.placeholder = 'will be removed';
    clear.hidden = true;
    updateCarryNotes();
  }, 'link clear');
  clear.hidden = true;
  box.append(reveal, clear);
  const note = document.createElement('p');
  note.className = 'note carry';
  note.id = noteId;
  box.carry = note;
  box.after(note);
  input.setAttribute('aria-describedby', ((input.getAttribute('aria-describedby') || '') + ' ' + noteId).trim());
  input.addEventListener('input', updateCarryNotes);
}

function showState(reveal, shown) {
  reveal.firstChild.textContent = shown ? 'Hide' : 'Show';
  reveal.setAttribute('aria-pressed', String(shown));
}

function nameBox(box, what) {
  box.dataset.what = what;
  $('.reveal .sr', box).textContent = ' ' + what;
  $('.clear', box).setAttribute('aria-label', 'Clear stored ' + what);
}

function setStored(box, stored) {
  const input = $('input', box);
  input.value = '';
  input.type = 'password';
  box.dataset.clear = '';
  box.dataset.stored = stored ? '1' : '';
  input.placeholder = stored ? '•••••••• stored (type to replace)' : '';
  $('.clear', box).hidden = !stored;
  showState($('.reveal', box), false);
}

// A header row's inputs and messages are named after its index, as the API names its errors
// ("headers[1].value"), so they are renumbered whenever a row comes or goes.
function numberHeaders() {
  $$('#headers .hrow').forEach((row, i) => {
    const f = 'headers[' + i + ']', n = 'header ' + (i + 1);
    const [name, value] = $$('input', row);
    const [eName, eValue] = $$('.err', row);
    const carry = $('.secret', row).carry;
    name.id = 'f-' + f + '.name'; name.name = f + '.name'; name.setAttribute('aria-label', 'Header ' + (i + 1) + ' name');
    value.id = 'f-' + f + '.value'; value.name = f + '.value'; value.setAttribute('aria-label', 'Header ' + (i + 1) + ' value');
    eName.id = 'e-' + f + '.name'; eValue.id = 'e-' + f + '.value'; carry.id = 'c-' + f + '.value';
    name.setAttribute('aria-describedby', eName.id);
    value.setAttribute('aria-describedby', eValue.id + ' ' + carry.id);
    $('.remove', row).setAttribute('aria-label', 'Remove ' + n);
    nameBox($('.secret', row), n + ' value');
  });
  updateCarryNotes();
}

function headerRow(h) {
  const row = document.createElement('div');
  row.className = 'hrow';
  const name = document.createElement('input');
  name.className = 'hname';
  name.value = h ? h.name : '';
  name.placeholder = 'X-Header-Name';
  const box = document.createElement('div');
  box.className = 'secret';
  const value = document.createElement('input');
  value.type = 'password';
  value.autocomplete = 'off';
  box.appendChild(value);
  const errs = [document.createElement('p'), document.createElement('p')];
  errs.forEach(e => { e.className = 'err'; });
  row.append(name, box, button('Remove', '', () => { row.remove(); numberHeaders(); }, 'link remove'), ...errs);
  secretBox(box, '');
  row.append(box.carry); // below the row, with the errors, not in its columns
  $('#headers').appendChild(row);
  setStored(box, !!h);
  $('.clear', box).hidden = true; // a stored header is removed with its row
  numberHeaders();
}

// The agent refuses to send a stored secret to another scheme, host or port than the one it
// was entered for (SPEC section 2), or past a new CA certificate; these notes say so while editing.
function origin(url) {
  try {
    const u = new URL(url);
    return u.protocol + '//' + u.hostname + ':' + (u.port || { 'https:': '443', 'http:': '80' }[u.protocol] || '');
  } catch (e) {
    return null; // unparsable: the agent treats it as a different server too
  }
}

function moved(id, was) {
  const now = $(id).value.trim();
  return !!editing && now !== '' && (origin(now) === null || origin(now) !== origin(was || ''));
}

// Stored secrets the agent would refuse to carry over, with whether the form still uses them.
function boundSecrets() {
  const ca = $('#f-ca_cert').value.trim();
  // The Entra methods' secrets go to the authority host too (empty: Microsoft's public cloud).
  const authority = a => origin(a || 'https://login.microsoftonline.com');
  const entra = ['service-principal', 'device-code'].includes($('#f-auth').value) && !!editing &&
    authority($('#f-authority_host').value.trim()) !== authority(editing.authority_host);
  const server = moved('#f-server_url', editing && editing.server_url) || !!editing && !!ca && ca !== (editing.ca_cert || '').trim() ||
    entra;
  const proxy = moved('#f-proxy_url', editing && editing.proxy_url);
  return $$('#cf .secret').filter(box => box.dataset.stored && !$('input', box).value &&
    (box.dataset.secret === 'proxy_password' ? proxy : server))
    .map(box => ({ box, used: !box.closest('[hidden]') }));
}

function updateCarryNotes() {
  const bound = new Set(boundSecrets().filter(b => b.used).map(b => b.box));
  for (const box of $$('#cf .secret')) {
    box.carry.textContent = bound.has(box)
      ? 'Enter the ' + box.dataset.what + ' again: a stored secret is not sent to a different server' : '';
  }
}

function fillAuth(provider, value) {
  const sel = $('#f-auth');
  sel.textContent = '';
  for (const [v, label] of AUTH[provider]) sel.add(new Option(label, v));
  sel.value = AUTH[provider].some(a => a[0] === value) ? value : AUTH[provider][0][0];
  $('#auth-note').textContent = AUTH_NOTE[provider];
}

function applyVisibility() {
  const p = $('#f-provider').value;
  const a = $('#f-auth').value;
  for (const el of $$('[data-show]', $('#cf'))) {
    const ok = el.dataset.show.split(' ').some(t => {
      const [tp, ta] = t.split(':');
      return tp === p && (!ta || ta.split(',').includes(a));
    });
    el.hidden = !ok;
  }
  $('#f-server_url').placeholder = p === 'jira' ? 'https://your-company.atlassian.net' : 'https://dev.azure.com/your-org';
}

function clearErrors() {
  $$('#cf .err').forEach(e => setErr(e, ''));
  $('#report').textContent = '';
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'connection';
}

function openDialog(c) {
  editing = c || null;
  dialogNonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
  signin = null;
  $('#si-code').hidden = $('#si-pb').hidden = true;
  $('#si-who').textContent = c && c.signed_in_as ? 'Signed in as ' + c.signed_in_as
    : c && c.secrets && c.secrets.refresh_token ? 'Signed in' : '';
  const f = $('#cf');
  f.reset();
  clearErrors();
  $('#headers').textContent = '';
  const v = c || { provider: 'jira', check_interval_s: 300, active: true, board: {}, secrets: {}, headers: [] };
  $('#f-provider').value = v.provider;
  fillAuth(v.provider, v.auth);
  for (const k of ['name', 'id', 'server_url', 'username', 'token_expires', 'collection', 'project', 'tenant_id',
    'client_id', 'authority_host', 'proxy_url', 'proxy_username', 'ca_cert', 'check_interval_s', 'redirect_uri']) {
    if (v[k] !== undefined) $('#f-' + k).value = v[k];
  }
  if (!v.redirect_uri) $('#f-redirect_uri').value = location.origin + '/oauth/callback';
  $('#f-id').readOnly = !!c;
  $('#f-use_for_tfvc').checked = !!v.use_for_tfvc;
  $('#f-active').checked = v.active !== false;
  const b = v.board || {};
  $('#b-enabled').checked = !!b.enabled;
  $('#b-interval_s').value = b.interval_s || 60;
  $('#b-max_issues').value = b.max_issues || 10;
  $('#b-jql').value = b.jql || '';
  $('#b-branch').value = b.branch || '';
  $('#b-pipelines').value = (b.pipelines || []).join('\n');
  for (const box of $$('#cf .secret[data-secret]')) setStored(box, !!(v.secrets && v.secrets[box.dataset.secret]));
  for (const h of v.headers || []) headerRow(h);
  $('#more').open = !!(v.proxy_url || v.ca_cert || (v.headers || []).length);
  $('#dlg-h').textContent = c ? 'Task Tracking: ' + c.name : 'Task Tracking';
  applyVisibility();
  updateCarryNotes();
  $('#dlg').showModal();
  $('#f-provider').focus();
}

function num(id) {
  const n = Number($(id).value);
  return Number.isInteger(n) ? n : $(id).value;
}

function collect() {
  const p = $('#f-provider').value;
  const c = {
    id: $('#f-id').value.trim(), name: $('#f-name').value.trim(), provider: p, auth: $('#f-auth').value,
    server_url: $('#f-server_url').value.trim(), proxy_url: $('#f-proxy_url').value.trim(),
    proxy_username: $('#f-proxy_username').value, ca_cert: $('#f-ca_cert').value.trim(),
    check_interval_s: num('#f-check_interval_s'), active: $('#f-active').checked,
    username: '', token_expires: '', collection: '', project: '', tenant_id: '', client_id: '', authority_host: '',
    redirect_uri: '',
    use_for_tfvc: false,
    headers: [],
    board: { enabled: $('#b-enabled').checked, interval_s: num('#b-interval_s'), max_issues: num('#b-max_issues'),
      jql: '', branch: '', pipelines: [] },
  };
  if (!c.id) c.id = slug(c.name);
  if (p === 'jira') {
    c.username = $('#f-username').value.trim();
    c.token_expires = $('#f-token_expires').value;
    c.board.jql = $('#b-jql').value.trim();
    if (c.auth === 'oauth2') for (const k of ['client_id', 'redirect_uri']) c[k] = $('#f-' + k).value.trim();
    for (const row of $$('#headers .hrow')) {
      const h = { name: $('.hname', row).value.trim() };
      const val = $('.secret input', row).value;
      if (val || !$('.secret', row).dataset.stored) h.value = val;
      c.headers.push(h);
    }
  } else {
    for (const k of ['collection', 'project', 'tenant_id', 'client_id', 'authority_host']) c[k] = $('#f-' + k).value.trim();
    c.use_for_tfvc = $('#f-use_for_tfvc').checked;
    c.board.branch = $('#b-branch').value.trim();
    c.board.pipelines = $('#b-pipelines').value.split('\n').map(s => s.trim()).filter(Boolean);
  }
  // A stored secret the chosen sign-in no longer uses cannot go to a new server either: drop it
  // rather than be refused over a field the person cannot see.
  const unused = new Set(boundSecrets().filter(b => !b.used).map(b => b.box.dataset.secret));
  for (const name of SECRETS) {
    const box = $('#cf .secret[data-secret="' + name + '"]');
    const val = $('input', box).value;
    if (val) c[name] = val;
    else if (box.dataset.clear || !box.dataset.stored || unused.has(name)) c[name] = '';
  }
  return c;
}

function fieldErr(field) {
  return $('#cf [data-for="' + field + '"]') || document.getElementById('e-' + field);
}

function showFieldError(field, message) {
  const el = fieldErr(field) || fieldErr(field.replace(/\[\d+\].*$/, '')) || fieldErr(field.split('.')[0]);
  if (el && $('#cf').contains(el)) {
    setErr(el, message);
    const d = el.closest('details');
    if (d) d.open = true;
    return true;
  }
  setErr($('#e-form'), field + ': ' + message);
  return false;
}

const RESULT_TEXT = { pass: 'Passed', warn: 'Warning', fail: 'Failed', skip: 'Skipped' };

function renderReport(report) {
  const box = $('#report');
  box.textContent = '';
  const h = document.createElement('h3');
  h.textContent = !report.ok ? 'Test report: problems found'
    : report.status === 'authorized' ? 'Test report: all checks passed'
      : 'Test report: no problems in what was checked (the server was not contacted)';
  const ol = document.createElement('ol');
  for (const ch of report.checks || []) {
    const li = document.createElement('li');
    li.className = 'r-' + ch.result;
    const badge = document.createElement('strong');
    badge.textContent = RESULT_TEXT[ch.result] || ch.result;
    li.append(badge, ' ' + ch.message);
    if (ch.hint) {
      const p = document.createElement('p');
      p.className = 'hint';
      p.textContent = 'Fix: ' + ch.hint;
      li.appendChild(p);
    }
    if (ch.detail) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      s.textContent = 'Details';
      d.append(s, ch.detail);
      li.appendChild(d);
    }
    ol.appendChild(li);
    for (const e of ch.errors || []) showFieldError(e.field, e.message);
  }
  box.append(h, ol);
  (box.querySelector('.r-fail') || box).scrollIntoView({ block: 'center' });
}

// Test and Connect name a completed sign-in of this dialog.
function withSignin(c) {
  if (signin && signin.done) Object.assign(c, { signin: signin.id, dialog: dialogNonce });
  return c;
}

function signinFailed(e) {
  setErr($('#e-refresh_token'), e.message + (e.hint ? ' Fix: ' + e.hint : ''));
  $('#si-code').hidden = $('#si-pb').hidden = true;
}

// Jira OAuth 2.0 without the callback reaching this page: the address the browser landed on.
async function pasteBack() {
  setErr($('#e-refresh_token'), '');
  const r = await api('POST', '/api/v1/signin/' + signin.id, { url: $('#si-url').value.trim() });
  if (r.status !== 200) return setErr($('#e-refresh_token'), (r.json.error || {}).message);
  if (r.json.state === 'failed') signinFailed(r.json.error);
}

// Jira Cloud: the person may have allowed sites other than Server URL's; one of them is chosen.
function chooseSite(sites) {
  if (!sites || sites.some(s => origin(s.url) === origin($('#f-server_url').value.trim()))) return;
  $('#si-who').textContent = 'Signed in. Choose the site: ';
  for (const s of sites) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = s.url;
    b.onclick = () => { $('#f-server_url').value = s.url; b.parentNode.textContent = 'Signed in. Test or Connect to use it.'; };
    $('#si-who').append(b, ' ');
  }
}

// Device code: the agent shows Entra's code and asks Entra at the interval it gave; the page
// asks the agent every 2 seconds until the person has signed in on their phone or laptop.
async function startSignin() {
  clearErrors();
  const mine = signin = { id: '', done: false };
  const r = await api('POST', '/api/v1/signin', { connection: collect(), dialog: dialogNonce });
  if (r.status !== 200) return handleAnswer(r);
  if (r.json.state === 'failed') return signinFailed(r.json.error);
  mine.id = r.json.id;
  const consent = r.json.authorize_url;
  $('#si-uc').textContent = r.json.user_code;
  $('#si-link').href = consent || r.json.verification_uri;
  $('#si-link').textContent = consent ? 'the consent page' : r.json.verification_uri;
  $('#si-to').textContent = consent ? ' and allow access' : ' on any device and enter ';
  $('#si-msg').textContent = r.json.message;
  $('#si-code').hidden = false;
  $('#si-pb').hidden = !consent;
  $('#si-who').textContent = '';
  while (signin === mine && $('#dlg').open) {
    await new Promise(done => setTimeout(done, 2000));
    if (signin !== mine || !$('#dlg').open) return;
    const p = await api('GET', '/api/v1/signin/' + mine.id + '?dialog=' + dialogNonce);
    if (p.status !== 200) return handleAnswer(p);
    if (p.json.state === 'failed') return signinFailed(p.json.error);
    if (p.json.state === 'complete') {
      mine.done = true;
      $('#si-code').hidden = $('#si-pb').hidden = true;
      $('#si-who').textContent = 'Signed in' + (p.json.account ? ' as ' + p.json.account : '') + '. Test or Connect to use it.';
      return chooseSite(p.json.sites);
    }
  }
}

async function runTest() {
  clearErrors();
  const c = withSignin(collect());
  if (!editing) delete c.id;
  const r = await api('POST', '/api/v1/connections/test', c);
  handleAnswer(r, rep => renderReport(rep));
}

async function connect(ev) {
  ev.preventDefault();
  clearErrors();
  const c = withSignin(collect());
  const r = await api('PUT', '/api/v1/connections/' + encodeURIComponent(c.id), c);
  if (r.status === 200) {
    $('#dlg').close();
    return refresh();
  }
  handleAnswer(r, () => {});
}

function handleAnswer(r, onReport) {
  if (r.status === 200 && r.json.checks) return onReport(r.json);
  if (r.json.report) return renderReport(r.json.report);
  if (r.status === 401) {
    $('#dlg').close();
    return show('login');
  }
  const e = r.json.error || {};
  const fields = e.fields || (e.field ? [e.field] : []);
  for (const f of fields) showFieldError(f, e.message);
  if (!fields.length) setErr($('#e-form'), e.message || 'The agent answered ' + r.status + '.');
}

// The board key is shown once: the agent keeps only its hash. A new link ends the old one.
async function newBoardLink() {
  if (!confirm('Make a new board link? Screens using the old link stop updating until they get the new one.')) return;
  const r = await api('POST', '/api/v1/board/key', {});
  const out = $('#board-link');
  out.hidden = false;
  if (r.status !== 200) { out.textContent = (r.json.error || {}).message || 'The agent answered ' + r.status + '.'; return; }
  out.textContent = 'Board link (shown only now; it opens the board and the CCTray feed, nothing else): ' +
    location.origin + r.json.path;
}

// Export / import (tracklight export / import): secrets leave only sealed for the receiving
// device's key; an import is shown as a dry run first and applied on confirmation.
function xfer(text) {
  $('#xfer').hidden = !text;
  $('#xfer').textContent = text;
}

function failed(r) {
  const e = r.json.error || {};
  return (e.message || 'The agent answered ' + r.status + '.') +
    (e.problems || []).map(p => '\nline ' + p.line + ': ' + p.message).join('');
}

async function exportFile() {
  let q = '';
  if ($('#x-secrets').checked) {
    const key = $('#x-for').value.trim();
    if (!/^x25519:[0-9a-f]{64}$/i.test(key)) { $('#x-for').focus(); return xfer("Paste the receiving device's key (x25519:…, from This device's key there)."); }
    q = '?with_secrets=1&for=' + key;
  }
  const res = await fetch('/api/v1/export' + q, { credentials: 'same-origin' });
  if (!res.ok) return xfer(failed({ status: res.status, json: await res.json().catch(() => ({})) }));
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await res.blob());
  a.download = 'tracklight-export.conf';
  a.click();
  URL.revokeObjectURL(a.href);
  xfer('Exported ' + (q ? 'with secrets sealed for that device.' : 'without secrets.'));
}

async function importFile() {
  const file = $('#x-file').files[0];
  $('#x-file').value = '';
  if (!file) return;
  const body = { text: await file.text() };
  const q = $('#x-replace').checked ? '&replace=1' : '';
  const dry = await api('POST', '/api/v1/import?dry_run=1' + q, body);
  if (dry.status !== 200) return xfer(file.name + ': ' + failed(dry));
  const lines = dry.json.lines.join('\n');
  if (!dry.json.changed) return xfer(file.name + ': nothing to change.\n' + lines);
  if (!confirm('Import ' + file.name + '?\n\n' + lines)) return xfer('Import cancelled; nothing was changed.');
  const r = await api('POST', '/api/v1/import?dry_run=0' + q, body);
  xfer(r.status === 200 ? 'Imported; the agent checks each changed connection now.\n' + r.json.lines.join('\n') : failed(r));
  refresh();
}

async function showKey() {
  const r = await api('GET', '/api/v1/device-key');
  xfer(r.status === 200 ? "This device's key (paste it into the export on the other device):\n" + r.json.public_key : failed(r));
}

function init() {
  $('#setup-form').addEventListener('submit', submitSetup);
  $('#login-form').addEventListener('submit', submitLogin);
  $('#logout').addEventListener('click', logout);
  $('#add').addEventListener('click', () => openDialog(null));
  $('#board-key').addEventListener('click', newBoardLink);
  $('#export').addEventListener('click', exportFile);
  $('#x-secrets').addEventListener('change', () => { $('#x-for').hidden = !$('#x-secrets').checked; });
  $('#import').addEventListener('click', () => $('#x-file').click());
  $('#x-file').addEventListener('change', importFile);
  $('#x-key').addEventListener('click', showKey);
  $('#cancel').addEventListener('click', () => $('#dlg').close());
  $('#test').addEventListener('click', runTest);
  $('#si').addEventListener('click', startSignin);
  $('#si-go').addEventListener('click', pasteBack);
  $('#cf').addEventListener('submit', connect);
  $('#add-header').addEventListener('click', () => headerRow(null));
  $('#f-provider').addEventListener('change', () => { fillAuth($('#f-provider').value); applyVisibility(); updateCarryNotes(); });
  $('#f-auth').addEventListener('change', () => { applyVisibility(); updateCarryNotes(); });
  $('#f-server_url').addEventListener('input', updateCarryNotes);
  $('#f-proxy_url').addEventListener('input', updateCarryNotes);
  $('#f-ca_cert').addEventListener('input', updateCarryNotes);
  $('#f-authority_host').addEventListener('input', updateCarryNotes);
  $('#f-name').addEventListener('input', () => {
    if (!editing) $('#f-id').value = slug($('#f-name').value);
  });
  for (const box of $$('#cf .secret[data-secret]')) {
    secretBox(box, 'c-' + box.dataset.secret);
    nameBox(box, SECRET_NAME[box.dataset.secret]);
  }
  // The monitor re-checks in the background: keep the list current while it is on screen.
  setInterval(() => { if (!$('#conns').hidden && !$('#dlg').open && !document.hidden) refresh(); }, 15000);
  start();
}

document.addEventListener('DOMContentLoaded', init);
