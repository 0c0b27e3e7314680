// The wall board: polls /api/v1/board (a 304 when nothing changed), draws one tile per
// pipeline and the Jira counts and top issues, keeps relative times ticking, and says plainly
// when a tracker or the agent itself cannot be reached. Text only through textContent.
'use strict';
(function () {
  const key = new URLSearchParams(location.search).get('key');
  const url = '/api/v1/board' + (key ? '?key=' + encodeURIComponent(key) : '');
  const POLL_MS = 15000;
  const WORD = {
    succeeded: '✔ Succeeded', failed: '✖ Failed', 'partially-succeeded': '◐ Partial', canceled: '◼ Canceled',
    'in-progress': '▶ Building', queued: '… Queued', canceling: '◼ Canceling', unknown: '? Unknown'
  };
  const CATEGORY = { new: 'To do', indeterminate: 'In progress', done: 'Done' };
  let etag = '', board = null, agentDownSince = 0, refused = '';

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function ago(iso) {
    const t = Date.parse(iso);
    if (!t) return '';
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 45) return 'just now';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }
  function clock(iso) {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });
  }
  function timeSpan(prefix, iso) {
    const span = el('span', '', prefix + ago(iso));
    span.dataset.time = iso;
    span.dataset.prefix = prefix;
    return span;
  }
  function tick() {
    document.querySelectorAll('[data-time]').forEach(function (e) {
      e.textContent = e.dataset.prefix + ago(e.dataset.time);
    });
    banner();
  }

  function tile(p) {
    const state = WORD[p.state] ? p.state : 'unknown';
    const t = el(p.url ? 'a' : 'div', 'tile s-' + state);
    if (p.url && /^https?:\/\//.test(p.url)) { t.href = p.url; t.target = '_blank'; t.rel = 'noopener'; }
    t.append(el('div', 'name', p.name));
    let word = WORD[state];
    if (!/succeeded|failed|canceled/.test(state) && p.last_result) word += ' · last ' + (WORD[p.last_result] || p.last_result).slice(2).toLowerCase();
    t.append(el('div', 'state', word));
    t.append(el('div', 'meta', [p.build_number && '#' + p.build_number, p.branch].filter(Boolean).join(' · ')));
    const when = el('div', 'meta', p.requested_by ? p.requested_by + ' · ' : '');
    if (p.finished_at) when.append(timeSpan('', p.finished_at));
    else if (p.queued_at) when.append(timeSpan('started ', p.queued_at));
    t.append(when);
    return t;
  }

  function builds(src, box) {
    const tiles = el('div', 'tiles');
    const n = src.pipelines.length;
    // Columns for roughly square tiles in the space this section has.
    const ratio = box.clientWidth / Math.max(1, box.clientHeight);
    tiles.style.setProperty('--cols', String(Math.max(1, Math.min(n, Math.round(Math.sqrt(n * ratio))))));
    src.pipelines.forEach(function (p) { tiles.append(tile(p)); });
    if (!n) tiles.append(el('p', 'empty', 'No pipelines match this board.'));
    return tiles;
  }

  function jira(src) {
    const j = src.jira, panel = el('div', 'panel');
    const counts = el('div', 'counts');
    ['new', 'indeterminate', 'done'].forEach(function (c) {
      const box = el('div', 'count c-' + c);
      box.append(el('b', '', String(j.counts[c] || 0) + (j.complete ? '' : '+')));
      box.append(el('span', '', CATEGORY[c]));
      counts.append(box);
    });
    panel.append(counts);
    const list = el('ol', 'issues');
    j.issues.forEach(function (i) {
      const li = el('li');
      li.append(el('span', 'k', i.key), el('span', 't', i.summary), el('span', 'st c-' + i.category, i.status));
      list.append(li);
    });
    panel.append(list);
    panel.append(el('div', 'more', j.total + ' issue' + (j.total === 1 ? '' : 's') + (j.complete ? '' : ' or more') +
      (j.issues.length < j.total ? ' · top ' + j.issues.length + ' shown' : '')));
    return panel;
  }

  function draw() {
    const main = document.getElementById('board');
    main.textContent = '';
    if (!board || !board.sources.length) {
      main.append(el('p', 'empty', 'No boards yet: switch one on in a connection\'s Board settings.'));
      return;
    }
    board.sources.forEach(function (src) {
      const kind = src.pipelines ? 'builds' : src.jira ? 'jira' : 'none';
      const box = el('section', 'src ' + kind + (src.stale ? ' stale' : ''));
      const h = el('h1', '', src.name);
      if (src.stale) h.append(el('span', 'tag', 'STALE'));
      box.append(h);
      main.append(box);
      if (kind === 'builds') box.append(builds(src, box));
      else if (kind === 'jira') box.append(jira(src));
      else box.append(el('p', 'empty', 'Waiting for the first data…'));
    });
  }

  function banner() {
    const b = document.getElementById('banner');
    b.textContent = '';
    b.classList.toggle('down', !!(agentDownSince || refused));
    if (refused) b.append(el('p', '', refused));
    else if (agentDownSince) {
      b.append(el('p', '', 'Cannot reach the tracklight agent since ' + clock(new Date(agentDownSince).toISOString()) +
        ' (' + ago(new Date(agentDownSince).toISOString()) + '). Showing the last board.'));
    }
    (board ? board.sources : []).forEach(function (s) {
      if (!s.stale) return;
      b.append(el('p', '', s.name + ': ' + (s.fetched_at ? 'stale since ' + clock(s.fetched_at) + ' (' + ago(s.fetched_at) + ')' : 'no data yet') +
        ' — ' + s.reason));
    });
    b.hidden = !b.childNodes.length;
  }

  function poll() {
    fetch(url, { headers: etag ? { 'If-None-Match': etag } : {}, cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (r.status === 401) {
          refused = key ? 'This board link is no longer valid (the key was rotated). Ask the admin for the new link.'
            : 'This board needs its link with the key, or a login on the main page.';
          return null;
        }
        if (r.status === 304) { agentDownSince = 0; refused = ''; return null; }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        etag = r.headers.get('ETag') || '';
        return r.json();
      })
      .then(function (data) {
        if (data) { board = data; agentDownSince = 0; refused = ''; draw(); }
        banner();
      })
      .catch(function () {
        if (!agentDownSince) agentDownSince = Date.now();
        banner();
      });
  }

  poll();
  setInterval(poll, POLL_MS);
  setInterval(tick, 10000);
  window.addEventListener('resize', draw);
})();
