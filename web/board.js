// The wall board: polls /api/v1/board (a 304 when nothing changed), draws one tile per
// pipeline and the Jira counts and top issues, keeps relative times ticking, and says plainly
// when a tracker or the agent itself cannot be reached. Text only through textContent.
// Data it cannot read costs only that tile or source, and is reported as a data problem, never
// as an unreachable agent. Screen readers hear changes (#news), not every redraw.
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
  let etag = '', board = null, agentDownSince = 0, refused = '', failing = '', unreadable = [], seen = null, said = '';

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
    let bad = 0;
    src.pipelines.forEach(function (p) {
      try { tiles.append(tile(p)); } catch (e) { bad++; }
    });
    if (bad) unreadable.push(src.name + ': ' + bad + ' pipeline' + (bad === 1 ? '' : 's'));
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
    let bad = 0;
    j.issues.forEach(function (i) {
      if (!i || typeof i !== 'object') { bad++; return; }
      const li = el('li');
      li.append(el('span', 'k', i.key), el('span', 't', i.summary), el('span', 'st c-' + i.category, i.status));
      list.append(li);
    });
    if (bad) unreadable.push(src.name + ': ' + bad + ' issue' + (bad === 1 ? '' : 's'));
    panel.append(list);
    panel.append(el('div', 'more', j.total + ' issue' + (j.total === 1 ? '' : 's') + (j.complete ? '' : ' or more') +
      (j.issues.length < j.total ? ' · top ' + j.issues.length + ' shown' : '')));
    return panel;
  }

  function draw() {
    const main = document.getElementById('board');
    main.textContent = '';
    unreadable = [];
    if (!board || !board.sources.length) {
      main.append(el('p', 'empty', 'No boards yet: switch one on in a connection\'s Board settings.'));
      return;
    }
    board.sources.forEach(function (src, i) {
      try { source(main, src); } catch (e) {
        unreadable.push((src && typeof src.name === 'string' ? src.name : 'board ' + (i + 1)) + ': its data');
      }
    });
  }

  function source(main, src) {
      const kind = Array.isArray(src.pipelines) ? 'builds' : src.jira ? 'jira' : 'none';
      const box = el('section', 'src ' + kind + (src.stale ? ' stale' : ''));
      const h = el('h1', '', src.name);
      if (src.stale) h.append(el('span', 'tag', 'STALE'));
      box.append(h);
      main.append(box);
      if (kind === 'builds') box.append(builds(src, box));
      else if (kind === 'jira') box.append(jira(src));
      else box.append(el('p', 'empty', 'Waiting for the first data…'));
  }

  function banner() {
    const b = document.getElementById('banner');
    b.textContent = '';
    b.classList.toggle('down', !!(agentDownSince || refused || failing));
    if (refused) b.append(el('p', '', refused));
    else if (agentDownSince) {
      b.append(el('p', '', 'Cannot reach the tracklight agent since ' + clock(new Date(agentDownSince).toISOString()) +
        ' (' + ago(new Date(agentDownSince).toISOString()) + '). Showing the last board.'));
    } else if (failing) b.append(el('p', '', failing));
    if (unreadable.length) b.append(el('p', '', problem()));
    sources().forEach(function (s) {
      if (!s.stale) return;
      b.append(el('p', '', s.name + ': ' + (s.fetched_at ? 'stale since ' + clock(s.fetched_at) + ' (' + ago(s.fetched_at) + ')' : 'no data yet') +
        ' — ' + s.reason));
    });
    b.hidden = !b.childNodes.length;
  }

  function problem() {
    return 'Some board data could not be shown (' + unreadable.join('; ') +
      '). The agent is reachable and the rest of the board is current; the agent\'s log may say more.';
  }

  function sources() {
    return (board ? board.sources : []).filter(function (s) { return s && typeof s === 'object'; });
  }

  // What a listener should hear about: each pipeline's state and each source's staleness.
  function snapshot() {
    const out = {};
    sources().forEach(function (s) {
      out[s.id + ''] = [s.name, s.stale ? 'stale' : 'fresh', s.reason];
      (Array.isArray(s.pipelines) ? s.pipelines : []).forEach(function (p) {
        if (p && typeof p === 'object' && WORD[p.state]) out[s.id + '/' + p.name] = [p.name, p.state];
      });
    });
    return out;
  }

  function say(lines) {
    const text = lines.join('. ');
    if (!text || text === said) return;
    said = text;
    document.getElementById('news').textContent = text;
  }

  function changes() {
    const now = snapshot(), was = seen, lines = [];
    seen = now;
    if (was) {
      Object.keys(now).forEach(function (k) {
        const a = now[k], b = was[k];
        if (!b || a[1] === b[1]) return;
        if (a[1] === 'stale') lines.push(a[0] + ' is stale: ' + a[2]);
        else if (a[1] === 'fresh') lines.push(a[0] + ' is up to date again');
        else lines.push(a[0] + ' ' + WORD[a[1]].slice(2).toLowerCase());
      });
    }
    if (unreadable.length) lines.push(problem());
    say(lines);
  }

  function reachable() {
    if (agentDownSince) say(['The tracklight agent is reachable again']);
    agentDownSince = 0;
  }

  function unreachable() {
    if (!agentDownSince) {
      agentDownSince = Date.now();
      say(['Cannot reach the tracklight agent. Showing the last board']);
    }
    banner();
  }

  function take(data, tag) {
    failing = '';
    if (!data || !Array.isArray(data.sources)) {
      unreadable = ['the answer is not a board'];
      say([problem()]);
    } else {
      board = data;
      etag = tag || '';
      draw();
      changes();
    }
    banner();
  }

  function answer(r) {
    reachable();
    refused = '';
    if (r.status === 401) {
      refused = key ? 'This board link is no longer valid (the key was rotated). Ask the admin for the new link.'
        : 'This board needs its link with the key, or a login on the main page.';
    } else if (r.status !== 304 && !r.ok) {
      failing = 'The tracklight agent answered HTTP ' + r.status + ' for the board data. Showing the last board.';
    } else if (r.status !== 304) {
      return r.json().then(function (data) { take(data, r.headers.get('ETag')); }, function () { take(null); });
    }
    if (r.status === 304) failing = '';
    banner();
  }

  function poll() {
    fetch(url, { headers: etag ? { 'If-None-Match': etag } : {}, cache: 'no-store', credentials: 'same-origin' })
      .then(answer, unreachable);
  }

  poll();
  setInterval(poll, POLL_MS);
  setInterval(tick, 10000);
  window.addEventListener('resize', draw);
})();
