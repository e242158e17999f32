// The simulator's page: be any member of the roster and chat with the
// "城市管理进社区" app as in WeCom. Everything the page sends goes to
// /sim/api/*, which turns it into a signed, encrypted WeCom callback; what
// the bot sends comes back from the fake WeCom through /sim/api/stream.
//
// Nothing from the server or the user is ever parsed as HTML: elements are
// built with createElement and text with text nodes.
(function () {
  'use strict';

  // ---------- words of the UI ----------
  const ROLE_NAMES = {
    inspector: '网格员', chief: '站长', deputy: '副站长', station_staff: '工作站',
    guidance: '业务指导员', committee: '城管委办公室', leader: '领导',
  };
  const DISTRICT_ROLES = ['inspector', 'chief', 'deputy', 'station_staff', 'guidance'];
  const SUBDISTRICT_ROLES = ['committee', 'leader'];
  const APP_NAME = '城市管理进社区';
  const COLORS = ['#3b7cf0', '#23a566', '#f29b1d', '#9a63d8', '#e5574f', '#16a2b5', '#8d6e63', '#5f6b7a'];
  const AVATAR_COLORS = ['#4f7cf3', '#24a36b', '#f08a24', '#9a63d8', '#e0584f', '#1aa2b8', '#c2417e', '#6d7b8f'];

  // ---------- state ----------
  const S = {
    users: [], byId: new Map(), map: null, proj: null,
    me: '', gen: 0, es: null,
    cur: { after: 0, sent: 0, groups: 0 },
    seenMsg: new Set(), seenSent: new Set(), seenGroup: new Set(),
    cards: new Map(), // task_id → {el, card}
    waiting: new Set(), // taps waiting for the bot's answer: their restore funcs
    groups: new Map(), // chat key → {key, name, robot, msgs, unread, last}
    openGroup: '', tab: 'app',
    demo: null, follow: true, demoClosed: 0, sawDemo: false, boot: '',
    pick: null, // the map's picked point {lng, lat, grid}
  };

  const $ = (id) => document.getElementById(id);

  // h builds an element: attrs are set as attributes (or listeners for
  // on*); children are nodes or strings (always text).
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    for (const c of kids.flat()) {
      if (c != null && c !== false) el.append(c);
    }
    return el;
  }
  function svg(tag, attrs, ...kids) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    setAttrs(el, attrs);
    for (const c of kids.flat()) {
      if (c != null && c !== false) el.append(c);
    }
    return el;
  }
  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  // safeURL allows only http(s) links.
  function safeURL(u) {
    if (typeof u !== 'string' || !u.trim()) return '';
    try {
      const url = new URL(String(u), location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
    } catch (e) {
      return '';
    }
  }

  function hash(s) {
    let n = 0;
    for (const ch of String(s)) n = (n * 31 + ch.codePointAt(0)) >>> 0;
    return n;
  }

  // ---------- HTTP ----------
  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    };
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      const err = new Error((data && data.error) || ('HTTP ' + r.status));
      err.status = r.status;
      throw err;
    }
    return data;
  }

  let toastTimer = 0;
  function toast(text) {
    const t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3200);
  }

  // ---------- time ----------
  const fmtTime = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });
  const fmtDay = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', month: 'numeric', day: 'numeric' });
  function timeLabel(t) {
    const d = new Date(t);
    if (isNaN(d)) return '';
    const day = fmtDay.format(d);
    return (day === fmtDay.format(new Date()) ? '' : day + ' ') + fmtTime.format(d);
  }

  // ---------- people ----------
  function roleName(u) {
    return (u.roles || []).map((r) => ROLE_NAMES[r] || r).join('、');
  }
  function describe(u) {
    const extra = u.roles.includes('inspector') && u.grid_name ? u.grid_name
      : u.roles.includes('guidance') && u.dept ? u.dept
        : u.district_name || '';
    return [u.name, roleName(u), extra].filter(Boolean).join(' · ');
  }
  function avatar(name, key, cls) {
    const el = h('span', { class: 'avatar' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true' }, String(name || '?').slice(-1));
    el.style.background = AVATAR_COLORS[hash(key || name) % AVATAR_COLORS.length];
    return el;
  }

  function fillPicker() {
    const sel = $('who');
    sel.replaceChildren();
    const placed = new Set();
    const add = (label, people) => {
      if (!people.length) return;
      const g = h('optgroup', { label });
      for (const u of people) {
        const extra = u.roles.includes('inspector') ? u.grid_name : u.roles.includes('guidance') ? u.dept : '';
        g.append(h('option', { value: u.userid }, u.name + '（' + roleName(u) + (extra ? ' · ' + extra : '') + '）'));
        placed.add(u.userid);
      }
      sel.append(g);
    };
    for (const d of S.map.districts) {
      for (const role of DISTRICT_ROLES) {
        add(d.name + ' · ' + ROLE_NAMES[role], S.users.filter((u) => !placed.has(u.userid) && u.district === d.id && u.roles[0] === role));
      }
    }
    for (const role of SUBDISTRICT_ROLES) {
      add('街道 · ' + ROLE_NAMES[role], S.users.filter((u) => !placed.has(u.userid) && u.roles[0] === role));
    }
    add('其他', S.users.filter((u) => !placed.has(u.userid)));
  }

  // switchTo makes userid the current member: their chat, from the start.
  function switchTo(userid) {
    const u = S.byId.get(userid);
    if (!u) return;
    S.me = userid;
    $('who').value = userid;
    $('who-name').textContent = describe(u);
    $('who-sub').textContent = u.name + ' · ' + roleName(u);
    $('who-avatar').replaceWith(Object.assign(avatar(u.name, u.userid, 'sm'), { id: 'who-avatar' }));
    if (location.hash.slice(1) !== userid) history.replaceState(null, '', '#' + encodeURIComponent(userid));
    S.cur.after = 0;
    S.cur.sent = 0;
    S.seenMsg.clear();
    S.seenSent.clear();
    S.cards.clear();
    S.waiting.clear();
    $('msgs').replaceChildren(h('div', { class: 'empty', id: 'chat-empty' }, '还没有消息。发照片、位置或一句话给“' + APP_NAME + '”试试。'));
    connect();
  }

  // ---------- the stream ----------
  function connect() {
    if (S.es) S.es.close();
    $('conn').classList.remove('on');
    const gen = ++S.gen;
    const q = new URLSearchParams({ user: S.me, after: S.cur.after, sent: S.cur.sent, groups: S.cur.groups });
    const es = new EventSource('api/stream?' + q.toString());
    S.es = es;
    es.onopen = () => { if (gen === S.gen) $('conn').classList.add('on'); };
    es.onmessage = (ev) => {
      if (gen !== S.gen) return;
      let b;
      try { b = JSON.parse(ev.data); } catch (e) { return; }
      onBatch(b);
    };
    es.onerror = () => {
      if (gen !== S.gen) return;
      es.close();
      $('conn').classList.remove('on');
      setTimeout(() => { if (gen === S.gen) connect(); }, 1000);
    };
  }

  function onBatch(b) {
    if (b.boot && S.boot && b.boot !== S.boot) {
      restart(b.boot);
      return;
    }
    S.boot = b.boot;
    const pane = $('chat-pane');
    const stick = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
    let added = false;
    for (const m of b.messages || []) {
      if (S.seenMsg.has(m.seq)) continue;
      S.seenMsg.add(m.seq);
      S.cur.after = Math.max(S.cur.after, m.seq);
      added = renderBot(m) || added;
    }
    for (const e of b.sent || []) added = acceptSent(e) || added;
    for (const g of b.groups || []) {
      if (S.seenGroup.has(g.seq)) continue;
      S.seenGroup.add(g.seq);
      S.cur.groups = Math.max(S.cur.groups, g.seq);
      addGroupMessage(g);
    }
    if (b.demo) onDemo(b.demo);
    if (added && stick) scrollDown();
  }

  // restart starts over after the server restarted: its sequence numbers
  // begin again, so every cursor and every chat is reset.
  function restart(boot) {
    S.boot = boot;
    S.cur.groups = 0;
    S.seenGroup.clear();
    S.groups.clear();
    S.openGroup = '';
    for (const c of S.map.chats) groupOf(c.id, c.name).robot = !!c.robot;
    closeGroup();
    switchTo(S.me);
  }

  function scrollDown() {
    const pane = $('chat-pane');
    requestAnimationFrame(() => { pane.scrollTop = pane.scrollHeight; });
  }

  // place puts a chat row in order: the bot's message seq, or what the
  // member sent right after the record after_seq.
  function place(el, key, at) {
    const list = $('msgs');
    const empty = $('chat-empty');
    if (empty) empty.remove();
    el.dataset.k = key.join(',');
    el._k = key;
    el._at = at;
    let before = null;
    for (let n = list.lastElementChild; n; n = n.previousElementSibling) {
      if (!n._k) continue;
      if (cmpKey(n._k, key) <= 0) break;
      before = n;
    }
    if (before) {
      list.insertBefore(el, before);
      return;
    }
    const prev = lastRow(list);
    const t = new Date(at).getTime();
    if (!prev || !prev._at || t - new Date(prev._at).getTime() > 5 * 60 * 1000) {
      const label = timeLabel(at);
      if (label) list.append(h('div', { class: 'time' }, label));
    }
    list.append(el);
  }
  function lastRow(list) {
    for (let n = list.lastElementChild; n; n = n.previousElementSibling) if (n._k) return n;
    return null;
  }
  function cmpKey(a, b) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
  }

  function botRow(content, sender) {
    return h('div', { class: 'row bot' },
      h('span', { class: 'avatar app', 'aria-hidden': 'true' }, '城管'),
      h('div', { class: 'stack' }, sender ? h('div', { class: 'sender' }, sender) : null, content));
  }

  // renderBot shows one delivered request; it reports whether a row was added.
  function renderBot(m) {
    const body = m.body || {};
    if (m.api === 'update_template_card') {
      applyUpdate(m.task_id, body);
      return false;
    }
    const content = messageContent(m.msgtype, body, m.task_id, true);
    place(botRow(content), [m.seq, 0, 0], m.at);
    for (const restore of [...S.waiting]) restore(); // the bot answered a tap with a message
    return true;
  }

  // messageContent renders a message body; cards are live (tappable) in the
  // member's own chat.
  function messageContent(type, body, taskID, live) {
    switch (type) {
      case 'text':
        return h('div', { class: 'bubble' }, (body.text && body.text.content) || '');
      case 'markdown':
      case 'markdown_v2': {
        const md = body[type] || {};
        return h('div', { class: 'bubble md' }, markdown(md.content || ''));
      }
      case 'template_card': {
        const card = body.template_card || {};
        const el = h('div', { class: 'card', 'data-task': taskID || card.task_id || '' });
        fillCard(el, card, live);
        if (live && (taskID || card.task_id)) S.cards.set(taskID || card.task_id, { el, card });
        return el;
      }
      case 'image': {
        const img = body.image || {};
        if (img.media_id) return photo('api/media/' + encodeURIComponent(img.media_id));
        if (img.base64) return photo('data:image/png;base64,' + img.base64.replace(/[^A-Za-z0-9+/=]/g, ''));
        break;
      }
      case 'textcard': {
        const tc = body.textcard || {};
        const el = h('div', { class: 'card' });
        el.append(h('div', { class: 'card-body' },
          h('div', { class: 'card-title' }, tc.title || ''),
          h('div', { class: 'card-sub' }, tc.description || '')),
        h('div', { class: 'card-foot' }, h('span', null, tc.btntxt || '详情'), h('span', null, '›')));
        return el;
      }
      case 'news': {
        const arts = (body.news && body.news.articles) || [];
        return h('div', { class: 'bubble md' }, arts.map((a) => h('div', { class: 'md-p' }, link(a.title || '', a.url))));
      }
    }
    return h('div', { class: 'note' }, '［' + (type || '未知') + ' 消息，模拟器暂不显示］');
  }

  function photo(src) {
    const img = h('img', { class: 'photo', src, alt: '照片', loading: 'lazy' });
    img.addEventListener('click', () => {
      $('lightbox-img').src = src;
      $('lightbox').hidden = false;
    });
    return img;
  }

  function link(text, url) {
    const href = safeURL(url);
    return href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text) : text;
  }

  // ---------- what the member sent ----------
  function acceptSent(e) {
    if (e.from !== S.me || S.seenSent.has(e.id)) return false;
    S.seenSent.add(e.id);
    S.cur.sent = Math.max(S.cur.sent, e.id);
    let content;
    switch (e.type) {
      case 'text':
        content = h('div', { class: 'bubble' }, e.text || '');
        break;
      case 'image':
        content = photo('api/media/' + encodeURIComponent(e.media_id || ''));
        break;
      case 'location':
        content = locationBubble(e);
        break;
      default:
        return false; // taps on menus and cards show no bubble in WeCom
    }
    const u = S.byId.get(e.from) || { name: e.from };
    const row = h('div', { class: 'row me' }, avatar(u.name, e.from), h('div', { class: 'stack' }, content));
    if (e.callback_status !== 200) {
      row.append(h('span', { class: 'failed-mark', title: '回调返回 ' + e.callback_status }, '!'));
    }
    place(row, [e.after_seq, 1, e.id], e.at);
    return true;
  }

  function locationBubble(e) {
    const g = gridAt(e.lng, e.lat);
    const m = svg('svg', { class: 'map mini', preserveAspectRatio: 'xMidYMid slice', 'aria-hidden': 'true' });
    drawMap(m, { pin: [e.lng, e.lat], labels: true, focus: g });
    const x = S.proj.x(e.lng), y = S.proj.y(e.lat);
    m.setAttribute('viewBox', [x - 90, y - 52, 180, 86].map((v) => v.toFixed(1)).join(' '));
    return h('div', { class: 'bubble loc' },
      h('div', { class: 'loc-text' },
        h('div', { class: 'loc-title' }, e.label || (g ? g.name : '位置')),
        h('div', { class: 'loc-sub' }, (g ? districtName(g.district) + ' · ' : '') + e.lat.toFixed(5) + ', ' + e.lng.toFixed(5))),
      m);
  }

  // ---------- template cards ----------
  function fillCard(el, card, live) {
    el.replaceChildren();
    el.classList.toggle('replaced', !!card.replace_text);
    const body = h('div', { class: 'card-body' });
    const src = card.source || {};
    if (src.desc || src.icon_url) {
      const icon = safeURL(src.icon_url) ? h('img', { class: 'src-icon', src: safeURL(src.icon_url), alt: '' }) : h('span', { class: 'src-icon' });
      body.append(h('div', { class: 'card-source' }, icon, h('span', { class: 'src-c' + (src.desc_color || 0) }, src.desc || '')));
    }
    const mt = card.main_title || {};
    if (mt.title) body.append(h('div', { class: 'card-title' }, mt.title));
    if (mt.desc) body.append(h('div', { class: 'card-desc' }, mt.desc));
    const em = card.emphasis_content;
    if (em && (em.title || em.desc)) {
      body.append(h('div', { class: 'card-emph' }, h('div', { class: 'card-emph-title' }, em.title || ''), h('div', { class: 'card-emph-desc' }, em.desc || '')));
    }
    const qa = card.quote_area;
    if (qa && (qa.title || qa.quote_text)) {
      body.append(h('div', { class: 'card-quote' }, qa.title ? h('div', { class: 'card-quote-title' }, qa.title) : null, qa.quote_text || ''));
    }
    if (card.sub_title_text) body.append(h('div', { class: 'card-sub' }, card.sub_title_text));
    const kv = card.horizontal_content_list || [];
    if (kv.length) {
      const grid = h('div', { class: 'card-kv' });
      for (const row of kv) {
        let v = row.value || '';
        if (row.type === 1) v = link(row.value || row.url || '', row.url);
        if (row.type === 3) v = (S.byId.get(row.userid) || { name: row.userid }).name;
        if (row.type === 2) v = row.value || '附件';
        grid.append(h('div', { class: 'k' }, row.keyname || ''), h('div', { class: 'v' }, v));
      }
      body.append(grid);
    }
    const jumps = card.jump_list || [];
    if (jumps.length) body.append(h('div', { class: 'card-jumps' }, jumps.map((j) => h('div', null, link(j.title || '', j.url)))));
    el.append(body);

    if (card.replace_text) {
      el.append(h('div', { class: 'card-replace' }, card.replace_text));
      return;
    }
    const buttons = card.button_list || [];
    if (buttons.length) {
      const row = h('div', { class: 'card-buttons' });
      for (const b of buttons) {
        const style = [1, 2, 3, 4].includes(b.style) ? b.style : 1;
        const btn = h('button', { type: 'button', class: 'style-' + style, 'data-key': b.key || '', title: b.text || '' }, b.text || '');
        if (b.type === 1) {
          btn.addEventListener('click', () => { const u = safeURL(b.url); if (u) window.open(u, '_blank', 'noopener'); });
        } else if (live) {
          btn.addEventListener('click', () => tapButton(el, card, b.key, btn));
        } else {
          btn.disabled = true;
        }
        row.append(btn);
      }
      el.append(row);
    } else if (card.card_type && card.card_type !== 'text_notice' && card.card_type !== 'news_notice') {
      el.append(h('div', { class: 'card-unsupported' }, '（此类卡片请在企业微信中操作）'));
    } else if (card.card_action) {
      el.append(h('div', { class: 'card-foot' }, h('span', null, '查看详情'), h('span', null, '›')));
    }
  }

  // tapButton sends a tap on a card button. The buttons wait until the bot
  // answers: by updating the card in place (greyed out), or — when it needs
  // more first, such as a photo — by a message, after which the card stays
  // tappable as in WeCom.
  async function tapButton(el, card, key, btn) {
    const row = el.querySelector('.card-buttons');
    if (!row || row.classList.contains('busy')) return;
    const task = el.getAttribute('data-task');
    row.classList.add('busy');
    btn.classList.add('pressed');
    row.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    const restore = () => {
      S.waiting.delete(restore);
      if (!el.contains(row)) return; // the card was updated
      row.classList.remove('busy');
      btn.classList.remove('pressed');
      row.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    };
    S.waiting.add(restore);
    setTimeout(restore, 20000);
    try {
      const res = await api('api/click', { from: S.me, task_id: task, key });
      if (res.callback_status !== 200) {
        toast('回调返回 ' + res.callback_status);
        restore();
      }
    } catch (e) {
      toast('点击失败：' + e.message);
      restore();
    }
  }

  // applyUpdate shows an update_template_card in place on the original card.
  function applyUpdate(taskID, body) {
    const c = S.cards.get(taskID);
    if (!c) return;
    if (body.button && body.button.replace_name) {
      c.card = Object.assign({}, c.card, { replace_text: body.button.replace_name });
    } else if (body.template_card) {
      c.card = Object.assign({}, body.template_card, { task_id: taskID });
    } else {
      return;
    }
    fillCard(c.el, c.card, true);
  }

  // ---------- markdown: WeCom's subset, built as elements ----------
  function markdown(src) {
    const root = document.createDocumentFragment();
    let list = null;
    for (const line of String(src).replace(/\r\n?/g, '\n').split('\n')) {
      let m;
      if ((m = /^\s*[-*+]\s+(.*)$/.exec(line)) && !/^\s*([-*_])\s*\1\s*\1\s*$/.test(line)) {
        if (!list || list.tagName !== 'UL') root.append(list = h('ul'));
        list.append(h('li', null, inline(m[1])));
        continue;
      }
      if ((m = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line))) {
        if (!list || list.tagName !== 'OL') root.append(list = h('ol', { start: m[1] }));
        list.append(h('li', null, inline(m[2])));
        continue;
      }
      list = null;
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        root.append(h('div', { class: 'md-h md-h' + m[1].length }, inline(m[2])));
      } else if ((m = /^>\s?(.*)$/.exec(line))) {
        root.append(h('div', { class: 'md-quote' }, inline(m[1])));
      } else if (/^\s*([-*_])\s*\1\s*\1[\s\-*_]*$/.test(line)) {
        root.append(h('hr'));
      } else if (line.trim() === '') {
        root.append(h('div', { class: 'md-gap' }));
      } else {
        root.append(h('div', { class: 'md-p' }, inline(line)));
      }
    }
    return root;
  }

  const INLINE = /\*\*(.+?)\*\*|<font\s+color\s*=\s*["']?(info|comment|warning)["']?\s*>(.*?)<\/font>|\[([^\]]+)\]\(([^)\s]+)\)|`([^`]+)`/g;
  function inline(text) {
    const out = [];
    let last = 0;
    INLINE.lastIndex = 0;
    const matches = [...String(text).matchAll(INLINE)];
    for (const m of matches) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) out.push(h('strong', null, inline(m[1])));
      else if (m[2] !== undefined) out.push(h('span', { class: 'md-' + m[2] }, inline(m[3])));
      else if (m[4] !== undefined) out.push(link(m[4], m[5]));
      else if (m[6] !== undefined) out.push(h('code', null, m[6]));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
  function plain(text) {
    return String(text).replace(/<font[^>]*>|<\/font>/g, '').replace(/\*\*/g, '').replace(/^#+\s*/gm, '').replace(/\s+/g, ' ').trim();
  }

  // ---------- group chats ----------
  function chatKeyOf(m) {
    if (m.api === 'appchat/send') {
      const c = S.map.chats.find((c) => c.id === m.to);
      return { key: m.to, name: c ? c.name : m.to, sender: APP_NAME, robot: false };
    }
    const name = String(m.to).replace(/^robot:/, '');
    const c = S.map.chats.find((c) => c.robot === name) ||
      S.map.chats.find((c) => c.id === name || c.id.toLowerCase().endsWith(name.toLowerCase()));
    return c ? { key: c.id, name: c.name, sender: c.robot === name ? name : '群机器人', robot: true }
      : { key: m.to, name: '群机器人 ' + name, sender: name, robot: true };
  }

  function groupOf(key, name) {
    if (!S.groups.has(key)) S.groups.set(key, { key, name, msgs: [], unread: 0, robot: false });
    return S.groups.get(key);
  }

  function addGroupMessage(m) {
    const who = chatKeyOf(m);
    const g = groupOf(who.key, who.name);
    g.robot = g.robot || who.robot;
    g.msgs.push({ m, sender: who.sender, robot: who.robot });
    const visible = S.tab === 'groups' && S.openGroup === g.key;
    if (!visible) g.unread++;
    if (visible) {
      appendGroupRow(g.msgs[g.msgs.length - 1]);
      const pane = $('groups-pane');
      requestAnimationFrame(() => { pane.scrollTop = pane.scrollHeight; });
    }
    renderChatList();
  }

  function preview(m) {
    const b = m.body || {};
    switch (m.msgtype) {
      case 'text': return (b.text && b.text.content) || '';
      case 'markdown': case 'markdown_v2': return plain((b[m.msgtype] || {}).content || '');
      case 'template_card': return '[卡片] ' + (((b.template_card || {}).main_title || {}).title || '');
      case 'image': return '[图片]';
      case 'news': return '[图文]';
      case 'file': return '[文件]';
    }
    return '[' + m.msgtype + ']';
  }

  function renderChatList() {
    const list = $('chat-list');
    list.replaceChildren();
    const all = [...S.groups.values()].sort((a, b) => {
      const sa = a.msgs.length ? a.msgs[a.msgs.length - 1].m.seq : 0;
      const sb = b.msgs.length ? b.msgs[b.msgs.length - 1].m.seq : 0;
      return sb - sa;
    });
    let unread = 0;
    for (const g of all) {
      unread += g.unread;
      const last = g.msgs[g.msgs.length - 1];
      list.append(h('li', { 'data-chat': g.key, onclick: () => openGroup(g.key) },
        h('span', { class: 'avatar' + (g.robot ? ' robot' : ''), 'aria-hidden': 'true' }, '群'),
        h('div', { class: 'chat-main' },
          h('div', { class: 'chat-top' }, h('span', { class: 'chat-name' }, g.name), h('span', { class: 'chat-time' }, last ? timeLabel(last.m.at) : '')),
          h('div', { class: 'chat-preview' }, last ? (last.sender + '：' + preview(last.m)) : '暂无消息')),
        g.unread ? h('span', { class: 'badge' }, String(g.unread)) : null));
    }
    const badge = $('group-badge');
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
  }

  function openGroup(key) {
    const g = S.groups.get(key);
    if (!g) return;
    S.openGroup = key;
    g.unread = 0;
    $('chat-list').hidden = true;
    $('group-view').hidden = false;
    $('group-title').textContent = g.name;
    const list = $('group-msgs');
    list.replaceChildren();
    if (!g.msgs.length) list.append(h('div', { class: 'empty' }, '这个群还没有收到消息。'));
    for (const item of g.msgs) appendGroupRow(item);
    renderChatList();
    const pane = $('groups-pane');
    requestAnimationFrame(() => { pane.scrollTop = pane.scrollHeight; });
  }

  function appendGroupRow(item) {
    const list = $('group-msgs');
    const empty = list.querySelector('.empty');
    if (empty) empty.remove();
    const content = messageContent(item.m.msgtype, item.m.body || {}, '', false);
    list.append(h('div', { class: 'time' }, timeLabel(item.m.at)));
    list.append(h('div', { class: 'row bot' },
      h('span', { class: 'avatar ' + (item.robot ? 'robot' : 'app'), 'aria-hidden': 'true' }, item.robot ? '助' : '城管'),
      h('div', { class: 'stack' }, h('div', { class: 'sender' }, item.sender), content)));
  }

  function closeGroup() {
    S.openGroup = '';
    $('group-view').hidden = true;
    $('chat-list').hidden = false;
    renderChatList();
  }

  function showTab(tab) {
    S.tab = tab;
    for (const b of document.querySelectorAll('.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    $('chat-pane').hidden = tab !== 'app';
    $('composer').hidden = tab !== 'app';
    $('groups-pane').hidden = tab !== 'groups';
    if (tab === 'groups') {
      if (S.openGroup) openGroup(S.openGroup);
      else renderChatList();
    } else {
      scrollDown();
    }
  }

  // ---------- the map ----------
  // projection: equirectangular around the subdistrict's latitude, in
  // viewBox units of about a pixel on a phone.
  function projection(map) {
    let minLng = Infinity, maxLng = -Infinity, minLat = Infinity, maxLat = -Infinity;
    for (const g of map.grids) for (const [lng, lat] of g.polygon[0]) {
      minLng = Math.min(minLng, lng); maxLng = Math.max(maxLng, lng);
      minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
    }
    if (!isFinite(minLng)) { [minLng, minLat] = map.center; maxLng = minLng + 0.01; maxLat = minLat + 0.01; }
    const kx = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    const pad = 6, width = 400;
    const scale = width / Math.max((maxLng - minLng) * kx, 1e-9);
    const w = width + 2 * pad, hgt = (maxLat - minLat) * scale + 2 * pad;
    return {
      w, h: hgt,
      x: (lng) => pad + (lng - minLng) * kx * scale,
      y: (lat) => pad + (maxLat - lat) * scale,
      lng: (x) => minLng + (x - pad) / (kx * scale),
      lat: (y) => maxLat - (y - pad) / scale,
    };
  }

  function districtColor(id) {
    const i = S.map.districts.findIndex((d) => d.id === id);
    return COLORS[(i < 0 ? hash(id) : i) % COLORS.length];
  }
  function districtName(id) {
    const d = S.map.districts.find((d) => d.id === id);
    return d ? d.name : '';
  }

  function inRing(ring, lng, lat) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > lat) !== (yj > lat) && lng < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function gridAt(lng, lat) {
    return S.map.grids.find((g) => inRing(g.polygon[0], lng, lat) && !g.polygon.slice(1).some((r) => inRing(r, lng, lat))) || null;
  }

  // labelHosts picks, per district, the grid nearest its middle to carry
  // the district's name.
  function labelHosts() {
    const hosts = new Set();
    for (const d of S.map.districts) {
      const gs = S.map.grids.filter((g) => g.district === d.id);
      if (!gs.length) continue;
      const cx = gs.reduce((s, g) => s + g.center[0], 0) / gs.length;
      const cy = gs.reduce((s, g) => s + g.center[1], 0) / gs.length;
      let best = gs[0], bd = Infinity;
      for (const g of gs) {
        const dd = (g.center[0] - cx) ** 2 + (g.center[1] - cy) ** 2;
        if (dd < bd) { bd = dd; best = g; }
      }
      hosts.add(best.id);
    }
    return hosts;
  }

  // drawMap draws the grids into an <svg>: opts.labels (names), opts.pin
  // ([lng, lat]), opts.mine (the member's grid), opts.focus (a grid).
  function drawMap(el, opts) {
    const P = S.proj;
    el.replaceChildren();
    el.setAttribute('viewBox', '0 0 ' + P.w.toFixed(1) + ' ' + P.h.toFixed(1));
    const hosts = labelHosts();
    const shapes = svg('g');
    const labels = svg('g');
    for (const g of S.map.grids) {
      const d = g.polygon.map((ring) => 'M' + ring.map(([lng, lat]) => P.x(lng).toFixed(1) + ' ' + P.y(lat).toFixed(1)).join('L') + 'Z').join('');
      const cls = 'grid' + (opts.mine === g.id ? ' mine' : '') + (opts.focus && opts.focus.id === g.id ? ' picked' : '');
      shapes.append(svg('path', { d, class: cls, fill: districtColor(g.district), 'fill-rule': 'evenodd', 'data-grid': g.id },
        svg('title', null, districtName(g.district) + ' · ' + g.name)));
      if (opts.labels === false) continue;
      const cx = P.x(g.center[0]), cy = P.y(g.center[1]);
      const i = g.name.indexOf('社区');
      const lines = i > 0 && i + 2 < g.name.length ? [g.name.slice(0, i + 2), g.name.slice(i + 2)] : [g.name];
      if (hosts.has(g.id)) lines.unshift(districtName(g.district));
      const y0 = cy - (lines.length - 1) * 6.5;
      lines.forEach((line, k) => {
        const isDistrict = hosts.has(g.id) && k === 0;
        labels.append(svg('text', { x: cx.toFixed(1), y: (y0 + k * 13 + 4).toFixed(1), class: isDistrict ? 'district' : null }, line));
      });
    }
    el.append(shapes, labels);
    if (opts.pin) {
      const x = P.x(opts.pin[0]), y = P.y(opts.pin[1]);
      el.append(svg('g', { class: 'pin', transform: 'translate(' + x.toFixed(1) + ' ' + y.toFixed(1) + ')' },
        svg('path', { d: 'M0 0 C-3 -7 -9 -10 -9 -16 A9 9 0 1 1 9 -16 C9 -10 3 -7 0 0Z', fill: '#e5484d', stroke: '#fff', 'stroke-width': '1.5' }),
        svg('circle', { cx: '0', cy: '-16', r: '3.5', fill: '#fff' })));
    }
  }

  function openMap() {
    S.pick = null;
    $('map-send').disabled = true;
    $('map-info').textContent = '在地图上点出问题所在的位置';
    const me = S.byId.get(S.me) || {};
    drawMap($('map-svg'), { labels: true, mine: me.grid });
    $('map-sheet').hidden = false;
  }

  function pickOnMap(ev) {
    const el = $('map-svg');
    const ctm = el.getScreenCTM();
    if (!ctm) return;
    const pt = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
    const lng = +S.proj.lng(pt.x).toFixed(6), lat = +S.proj.lat(pt.y).toFixed(6);
    const g = gridAt(lng, lat);
    S.pick = { lng, lat, grid: g };
    const me = S.byId.get(S.me) || {};
    drawMap(el, { labels: true, mine: me.grid, pin: [lng, lat], focus: g });
    const info = $('map-info');
    info.replaceChildren(g ? h('b', null, g.name) : h('b', null, S.map.name),
      g ? '（' + districtName(g.district) + '）' : '（不在任何网格内）',
      ' ' + lat.toFixed(5) + ', ' + lng.toFixed(5));
    $('map-send').disabled = false;
  }

  async function sendPicked() {
    if (!S.pick) return;
    const p = S.pick;
    $('map-sheet').hidden = true;
    await sendAs({ type: 'location', lat: p.lat, lng: p.lng, label: p.grid ? p.grid.name : S.map.name });
  }

  function drawLegend() {
    const el = $('map-legend');
    el.replaceChildren();
    for (const d of S.map.districts) {
      const i = h('i');
      i.style.background = districtColor(d.id);
      el.append(h('span', null, i, d.name));
    }
  }

  // ---------- sending ----------
  async function sendAs(body) {
    if (!S.me) return;
    const composer = $('composer');
    composer.classList.add('busy');
    try {
      const res = await api('api/send', Object.assign({ from: S.me }, body));
      if (res.callback_status !== 200) toast('回调返回 ' + res.callback_status);
      if (res.sent && acceptSent(res.sent)) scrollDown();
      return true;
    } catch (e) {
      toast('发送失败：' + e.message);
      return false;
    } finally {
      composer.classList.remove('busy');
    }
  }

  async function sendText(ev) {
    ev.preventDefault();
    const input = $('text');
    const text = input.value.trim();
    if (!text) return;
    $('send-btn').disabled = true;
    if (await sendAs({ type: 'text', text })) input.value = '';
    $('send-btn').disabled = false;
    input.focus();
  }

  async function sendPhoto() {
    const input = $('photo-input');
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    if (!/^image\//.test(file.type)) {
      toast('请选择一张图片');
      return;
    }
    try {
      const blob = file.size > 2 * 1024 * 1024 ? await shrink(file) : file;
      if (blob.size > 10 * 1024 * 1024) {
        toast('照片超过 10 MB');
        return;
      }
      await sendAs({ type: 'image', image_base64: await base64(blob) });
    } catch (e) {
      toast('读取照片失败');
    }
  }

  function base64(blob) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  }

  // shrink re-encodes a large photo as a JPEG of at most 1600 px.
  async function shrink(file) {
    const bmp = await createImageBitmap(file);
    const k = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
    const c = document.createElement('canvas');
    c.width = Math.round(bmp.width * k);
    c.height = Math.round(bmp.height * k);
    c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
    return new Promise((resolve) => c.toBlob((b) => resolve(b || file), 'image/jpeg', 0.85));
  }

  async function menu(key) {
    $('submenu').hidden = true;
    $('more-btn').setAttribute('aria-expanded', 'false');
    await sendAs({ type: 'click', event_key: key });
  }

  // ---------- the scripted demo ----------
  // startDemo plays the scripted demo; /sim/?pause=MS sets the pause
  // between its steps (default 2 s).
  async function startDemo() {
    S.follow = true;
    S.demoClosed = 0;
    const pause = new URLSearchParams(location.search).get('pause');
    try {
      onDemo(await api('api/demo', /^\d{1,5}$/.test(pause || '') ? { pause_ms: Number(pause) } : {}));
    } catch (e) {
      toast(e.status === 409 ? '演示正在进行中' : '无法开始演示：' + e.message);
    }
  }

  function onDemo(d) {
    S.demo = d;
    const running = d.state === 'running';
    for (const b of document.querySelectorAll('[data-demo-start]')) b.disabled = running;
    const banner = $('demo-banner');
    banner.classList.toggle('done', d.state === 'done');
    banner.classList.toggle('failed', d.state === 'failed');
    if (running) S.sawDemo = true;
    banner.hidden = !S.sawDemo || d.state === 'idle' || S.demoClosed === d.version;
    $('demo-step').textContent = running ? '演示 ' + d.step + '/' + d.total + (d.actor_name ? ' · ' + d.actor_name : '')
      : d.state === 'done' ? '演示结束' : d.state === 'failed' ? '演示中断' : '';
    $('demo-caption').textContent = d.caption || '';
    const log = $('demo-log');
    log.replaceChildren();
    (d.captions || []).forEach((c, i, all) => {
      const last = i === all.length - 1;
      const cls = last && running ? 'now' : last && d.state === 'done' ? 'ok' : '';
      log.append(h('li', { class: cls || null }, c));
    });
    if (d.state === 'failed' && d.error) log.append(h('li', { class: 'bad' }, d.error));
    if (running && S.follow && d.actor && d.actor !== S.me && S.byId.has(d.actor)) {
      if (S.tab !== 'app') showTab('app');
      switchTo(d.actor);
    }
  }

  // ---------- start ----------
  function wire() {
    $('who').addEventListener('change', (e) => {
      if (S.demo && S.demo.state === 'running') S.follow = false;
      switchTo(e.target.value);
    });
    for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
    $('send-form').addEventListener('submit', sendText);
    $('photo-btn').addEventListener('click', () => $('photo-input').click());
    $('photo-input').addEventListener('change', sendPhoto);
    $('loc-btn').addEventListener('click', openMap);
    $('map-svg').addEventListener('click', pickOnMap);
    $('map-cancel').addEventListener('click', () => { $('map-sheet').hidden = true; });
    $('map-sheet').addEventListener('click', (e) => { if (e.target === $('map-sheet')) $('map-sheet').hidden = true; });
    $('map-send').addEventListener('click', sendPicked);
    for (const b of document.querySelectorAll('[data-menu]')) b.addEventListener('click', () => menu(b.dataset.menu));
    $('more-btn').addEventListener('click', (e) => {
      e.stopPropagation();
      const sub = $('submenu');
      sub.hidden = !sub.hidden;
      $('more-btn').setAttribute('aria-expanded', String(!sub.hidden));
    });
    document.addEventListener('click', (e) => {
      if (!$('submenu').hidden && !$('submenu').contains(e.target)) $('submenu').hidden = true;
    });
    for (const b of document.querySelectorAll('[data-demo-start]')) b.addEventListener('click', startDemo);
    $('demo-close').addEventListener('click', () => {
      if (S.demo) S.demoClosed = S.demo.version;
      $('demo-banner').hidden = true;
    });
    $('group-back').addEventListener('click', closeGroup);
    $('lightbox').addEventListener('click', () => { $('lightbox').hidden = true; });
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      $('map-sheet').hidden = true;
      $('lightbox').hidden = true;
      $('submenu').hidden = true;
    });
    window.addEventListener('hashchange', () => {
      const id = decodeURIComponent(location.hash.slice(1));
      if (id && id !== S.me && S.byId.has(id)) switchTo(id);
    });
  }

  async function main() {
    wire();
    try {
      const [users, map] = await Promise.all([api('api/users'), api('api/map')]);
      S.users = users;
      S.map = map;
    } catch (e) {
      $('who-sub').textContent = '加载失败：' + e.message;
      return;
    }
    S.byId = new Map(S.users.map((u) => [u.userid, u]));
    S.proj = projection(S.map);
    for (const c of S.map.chats) groupOf(c.id, c.name).robot = !!c.robot;
    fillPicker();
    drawLegend();
    renderChatList();
    const wanted = decodeURIComponent(location.hash.slice(1));
    const first = S.byId.has(wanted) ? wanted
      : (S.users.find((u) => u.roles.includes('inspector')) || S.users[0] || {}).userid;
    if (first) switchTo(first);
    document.body.dataset.ready = 'true';
  }

  main();
})();
