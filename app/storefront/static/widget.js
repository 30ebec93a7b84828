/*! Post-purchase engine storefront widget: reviews, stars and the points panel. Plain ES2017, no framework.
 * Include once per page, deferred:
 *   <script defer src=".../widget.js" data-api="/apps/ppe" data-store="ppk_..." data-token="..."
 *           data-locale="pl" data-primary="#1a73e8"></script>
 * data-api: "/apps/<prefix>" (Shopify app proxy, same origin) or our APP_URL (WooCommerce, CORS);
 * data-store: the public store key; data-token: the WooCommerce customer token (or <meta name="ppe-customer-token">);
 * data-customer-id: Shopify's customer.id, display only (the app proxy signs who is logged in);
 * data-locale / <html lang>: en, pl, hu, lv, kk, th; data-primary, data-on-primary: colours;
 * data-css: the stylesheet (default: widget.css next to this file); data-launcher="false": no points launcher.
 * Placeholders: <div data-ppe="reviews" data-product-id="123"></div>, <span data-ppe="stars" data-product-id="123">.
 * Strings are in the table below: the browser side has no gettext catalogues.
 */
(function () {
  'use strict';
  const S = document.currentScript;
  if (!S || window.__ppeWidget) return;
  window.__ppeWidget = true;
  const D = S.dataset;
  const meta = document.querySelector('meta[name="ppe-customer-token"]');
  const api = (D.api || '').replace(/\/+$/, '');
  const proxied = api.charAt(0) === '/' && api.charAt(1) !== '/';
  const token = D.token || (meta && meta.content) || '';

  // Plural forms follow Intl.PluralRules categories (https://cldr.unicode.org/index/cldr-spec/plural-rules).
  const T = {
    en: {
      reviews: 'Reviews', none: 'No reviews yet', count: { one: '{n} review', other: '{n} reviews' },
      stars: '{r} out of 5 stars', sort: 'Sort by', newest: 'Newest', highest: 'Highest rated', lowest: 'Lowest rated',
      prev: 'Previous', next: 'Next', page: 'Page {p} of {n}', verified: 'Verified buyer', reply: 'Reply from the store',
      photo: 'Photo from a review', anon: 'Customer', rewards: 'Rewards', spendable: 'Available points',
      pending: 'Pending', expiring: '{n} expire on {d}', tier: 'Tier', toNext: '{n} points to {t}', cost: '{n} pts',
      redeem: 'Redeem', creating: 'Creating your code…', code: 'Your code', copy: 'Copy', copied: 'Copied',
      referral: 'Refer a friend', refLink: 'Your referral link', activity: 'Recent activity', empty: 'Nothing yet',
      off: '{v} off', ship: 'Free shipping', toSpend: 'Spend {n} more to reach {t}',
      kinds: { earn: 'Order', reverse: 'Refund', action: 'Bonus', adjust: 'Adjustment', redeem: 'Reward', redeem_release: 'Points returned', tier_reward: 'Tier bonus', other: 'Points' },
      login: 'Log in to see your points and rewards.', close: 'Close', error: 'Something went wrong. Please try again.'
    },
    pl: {
      reviews: 'Opinie', none: 'Brak opinii', count: { one: '{n} opinia', few: '{n} opinie', many: '{n} opinii', other: '{n} opinii' },
      stars: '{r} na 5 gwiazdek', sort: 'Sortuj', newest: 'Najnowsze', highest: 'Najwyżej oceniane', lowest: 'Najniżej oceniane',
      prev: 'Poprzednia', next: 'Następna', page: 'Strona {p} z {n}', verified: 'Zweryfikowany zakup', reply: 'Odpowiedź sklepu',
      photo: 'Zdjęcie z opinii', anon: 'Klient', rewards: 'Nagrody', spendable: 'Punkty do wykorzystania',
      pending: 'Oczekujące', expiring: '{n} wygasa {d}', tier: 'Poziom', toNext: '{n} pkt do poziomu {t}', cost: '{n} pkt',
      redeem: 'Wymień', creating: 'Tworzymy kod…', code: 'Twój kod', copy: 'Kopiuj', copied: 'Skopiowano',
      referral: 'Poleć znajomemu', refLink: 'Twój link polecający', activity: 'Ostatnia aktywność', empty: 'Na razie nic',
      off: '{v} zniżki', ship: 'Darmowa dostawa', toSpend: 'Wydaj jeszcze {n}, by osiągnąć poziom {t}',
      kinds: { earn: 'Zamówienie', reverse: 'Zwrot', action: 'Premia', adjust: 'Korekta', redeem: 'Nagroda', redeem_release: 'Zwrócone punkty', tier_reward: 'Premia za poziom', other: 'Punkty' },
      login: 'Zaloguj się, aby zobaczyć punkty i nagrody.', close: 'Zamknij', error: 'Coś poszło nie tak. Spróbuj ponownie.'
    },
    hu: {
      reviews: 'Értékelések', none: 'Még nincs értékelés', count: { other: '{n} értékelés' },
      stars: '5-ből {r} csillag', sort: 'Rendezés', newest: 'Legújabb', highest: 'Legjobb értékelés', lowest: 'Legrosszabb értékelés',
      prev: 'Előző', next: 'Következő', page: '{p}. oldal / {n}', verified: 'Ellenőrzött vásárló', reply: 'Az áruház válasza',
      photo: 'Fotó egy értékelésből', anon: 'Vásárló', rewards: 'Jutalmak', spendable: 'Felhasználható pontok',
      pending: 'Függőben', expiring: '{n} pont lejár: {d}', tier: 'Szint', toNext: 'még {n} pont: {t}', cost: '{n} pont',
      redeem: 'Beváltás', creating: 'Kód készítése…', code: 'Az Ön kódja', copy: 'Másolás', copied: 'Másolva',
      referral: 'Ajánlja barátainak', refLink: 'Az Ön ajánlói linkje', activity: 'Legutóbbi tevékenység', empty: 'Még nincs semmi',
      off: '{v} kedvezmény', ship: 'Ingyenes szállítás', toSpend: 'Még {n} vásárlás a következő szintig: {t}',
      kinds: { earn: 'Rendelés', reverse: 'Visszatérítés', action: 'Bónusz', adjust: 'Korrekció', redeem: 'Jutalom', redeem_release: 'Visszakapott pontok', tier_reward: 'Szintbónusz', other: 'Pontok' },
      login: 'Jelentkezzen be a pontjai és jutalmai megtekintéséhez.', close: 'Bezárás', error: 'Hiba történt. Kérjük, próbálja újra.'
    },
    lv: {
      reviews: 'Atsauksmes', none: 'Vēl nav atsauksmju', count: { zero: '{n} atsauksmju', one: '{n} atsauksme', other: '{n} atsauksmes' },
      stars: '{r} no 5 zvaigznēm', sort: 'Kārtot', newest: 'Jaunākās', highest: 'Augstākais vērtējums', lowest: 'Zemākais vērtējums',
      prev: 'Iepriekšējā', next: 'Nākamā', page: '{p}. lapa no {n}', verified: 'Pārbaudīts pircējs', reply: 'Veikala atbilde',
      photo: 'Foto no atsauksmes', anon: 'Pircējs', rewards: 'Balvas', spendable: 'Izmantojamie punkti',
      pending: 'Gaida', expiring: '{n} beigsies {d}', tier: 'Līmenis', toNext: 'līdz {t}: {n} punkti', cost: '{n} p.',
      redeem: 'Izmantot', creating: 'Veidojam kodu…', code: 'Jūsu kods', copy: 'Kopēt', copied: 'Nokopēts',
      referral: 'Iesaki draugam', refLink: 'Jūsu ieteikuma saite', activity: 'Pēdējās darbības', empty: 'Pagaidām nekā',
      off: '{v} atlaide', ship: 'Bezmaksas piegāde', toSpend: 'Iztērējiet vēl {n}, lai sasniegtu {t}',
      kinds: { earn: 'Pasūtījums', reverse: 'Atmaksa', action: 'Bonuss', adjust: 'Korekcija', redeem: 'Balva', redeem_release: 'Atgriezti punkti', tier_reward: 'Līmeņa bonuss', other: 'Punkti' },
      login: 'Piesakieties, lai redzētu savus punktus un balvas.', close: 'Aizvērt', error: 'Radās kļūda. Lūdzu, mēģiniet vēlreiz.'
    },
    kk: {
      reviews: 'Пікірлер', none: 'Әзірге пікір жоқ', count: { other: '{n} пікір' },
      stars: '5 жұлдыздың {r}', sort: 'Сұрыптау', newest: 'Ең жаңа', highest: 'Ең жоғары баға', lowest: 'Ең төмен баға',
      prev: 'Алдыңғы', next: 'Келесі', page: '{n} беттің {p}-беті', verified: 'Расталған сатып алушы', reply: 'Дүкеннің жауабы',
      photo: 'Пікірдегі фото', anon: 'Сатып алушы', rewards: 'Сыйлықтар', spendable: 'Қолжетімді ұпайлар',
      pending: 'Күтуде', expiring: '{n} ұпай {d} күні жойылады', tier: 'Деңгей', toNext: '{t} деңгейіне {n} ұпай қалды', cost: '{n} ұпай',
      redeem: 'Айырбастау', creating: 'Код жасалуда…', code: 'Сіздің кодыңыз', copy: 'Көшіру', copied: 'Көшірілді',
      referral: 'Досыңызға ұсыныңыз', refLink: 'Сіздің сілтемеңіз', activity: 'Соңғы әрекеттер', empty: 'Әзірге ештеңе жоқ',
      off: '{v} жеңілдік', ship: 'Тегін жеткізу', toSpend: '{t} деңгейіне жету үшін тағы {n} жұмсаңыз',
      kinds: { earn: 'Тапсырыс', reverse: 'Қайтару', action: 'Бонус', adjust: 'Түзету', redeem: 'Сыйлық', redeem_release: 'Қайтарылған ұпайлар', tier_reward: 'Деңгей бонусы', other: 'Ұпайлар' },
      login: 'Ұпайлар мен сыйлықтарды көру үшін кіріңіз.', close: 'Жабу', error: 'Қате орын алды. Қайталап көріңіз.'
    },
    th: {
      reviews: 'รีวิว', none: 'ยังไม่มีรีวิว', count: { other: '{n} รีวิว' },
      stars: '{r} จาก 5 ดาว', sort: 'เรียงตาม', newest: 'ล่าสุด', highest: 'คะแนนสูงสุด', lowest: 'คะแนนต่ำสุด',
      prev: 'ก่อนหน้า', next: 'ถัดไป', page: 'หน้า {p} จาก {n}', verified: 'ผู้ซื้อที่ยืนยันแล้ว', reply: 'คำตอบจากร้านค้า',
      photo: 'รูปภาพจากรีวิว', anon: 'ลูกค้า', rewards: 'รางวัล', spendable: 'คะแนนที่ใช้ได้',
      pending: 'รอดำเนินการ', expiring: '{n} คะแนนหมดอายุ {d}', tier: 'ระดับ', toNext: 'อีก {n} คะแนนถึง {t}', cost: '{n} คะแนน',
      redeem: 'แลก', creating: 'กำลังสร้างโค้ด…', code: 'โค้ดของคุณ', copy: 'คัดลอก', copied: 'คัดลอกแล้ว',
      referral: 'แนะนำเพื่อน', refLink: 'ลิงก์แนะนำของคุณ', activity: 'กิจกรรมล่าสุด', empty: 'ยังไม่มี',
      off: 'ส่วนลด {v}', ship: 'จัดส่งฟรี', toSpend: 'ใช้จ่ายอีก {n} เพื่อไปถึง {t}',
      kinds: { earn: 'คำสั่งซื้อ', reverse: 'คืนเงิน', action: 'โบนัส', adjust: 'ปรับปรุง', redeem: 'รางวัล', redeem_release: 'คืนคะแนน', tier_reward: 'โบนัสระดับ', other: 'คะแนน' },
      login: 'เข้าสู่ระบบเพื่อดูคะแนนและรางวัลของคุณ', close: 'ปิด', error: 'เกิดข้อผิดพลาด โปรดลองอีกครั้ง'
    }
  };
  const pick = (tag) => {
    const lang = String(tag || '').toLowerCase().split(/[-_]/)[0];
    return T[lang] ? lang : null;
  };
  const locale = pick(D.locale) || pick(document.documentElement.lang) || pick(navigator.language) || 'en';
  const L = T[locale];
  const nf = new Intl.NumberFormat(locale);
  const plural = new Intl.PluralRules(locale);
  const fill = (s, v) => s.replace(/\{(\w)\}/g, (m, k) => (k in v ? v[k] : m));
  const t = (key, v) => {
    let s = L[key] || T.en[key];
    if (typeof s === 'object') s = s[plural.select(v.n)] || s.other;
    return fill(s, v || {});
  };
  const num = (n) => nf.format(Number(n) || 0);
  const avg = (n) => Number(n).toLocaleString(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const date = (iso) => {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric' });
  };

  // Elements are built with textContent only: review texts and names come from shoppers, never as HTML.
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'on') for (const e in v) el.addEventListener(e, v[e]);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  };
  let uid = 0;
  const id = (p) => 'ppe-' + p + '-' + ++uid;

  const color = (c) => (/^(#[0-9a-f]{3,8}|rgba?\([\d\s.,%]+\)|[a-z]{3,20})$/i.test(c || '') ? c : null);
  const theme = (el) => {
    const p = color(D.primary);
    const o = color(D.onPrimary);
    if (p) el.style.setProperty('--ppe-primary', p);
    if (o) el.style.setProperty('--ppe-on-primary', o);
    return el;
  };

  async function call(path, opts) {
    opts = opts || {};
    const url = new URL(api + '/api/v1' + path, location.href);
    // Cross-origin calls name the store in the query: browsers send no custom header on a CORS preflight.
    if (!proxied && D.store) url.searchParams.set('store', D.store);
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers);
    if (token && !proxied) headers.Authorization = 'Bearer ' + token;
    if (opts.body) headers['Content-Type'] = 'application/json';
    const res = await fetch(url.href, {
      method: opts.method || 'GET',
      headers,
      body: opts.body ? JSON.stringify(opts.body) : undefined,
      credentials: proxied ? 'same-origin' : 'omit'
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error((data && data.error) || 'http_' + res.status);
      err.status = res.status;
      throw err;
    }
    return data;
  }
  const safe = (p) => p.catch(() => null);

  function stars(rating, big) {
    const r = Math.max(0, Math.min(5, Number(rating) || 0));
    const label = t('stars', { r: num(Math.round(r * 10) / 10) });
    return h('span', { class: 'ppe-stars' + (big ? ' ppe-big' : ''), role: 'img', 'aria-label': label, title: label },
      h('span', { class: 'ppe-stars-on', style: 'width:' + r * 20 + '%', 'aria-hidden': 'true' }));
  }

  // ---- stars block: average and count
  async function renderStars(el) {
    const s = await safe(call('/products/' + encodeURIComponent(el.dataset.productId) + '/reviews/summary'));
    el.textContent = '';
    if (!s || !s.count) return;
    el.append(stars(s.average), ' ', h('span', { class: 'ppe-count' }, t('count', { n: s.count })));
    el.classList.add('ppe-ready');
  }

  // ---- reviews block: summary, distribution, sorted pages, photos, replies
  function renderReviews(el) {
    const pid = encodeURIComponent(el.dataset.productId);
    const state = { sort: 'newest', page: 1 };
    const title = id('title');
    const list = h('ol', { class: 'ppe-list', 'aria-live': 'polite' });
    const nav = h('nav', { class: 'ppe-pages', 'aria-label': t('reviews') });
    const head = h('div', { class: 'ppe-summary' });
    const sel = h('select', { id: id('sort'), on: { change: () => { state.sort = sel.value; state.page = 1; load(); } } },
      ['newest', 'highest', 'lowest'].map((k) => h('option', { value: k }, t(k))));
    const root = theme(h('section', { class: 'ppe-reviews', 'aria-labelledby': title },
      h('h2', { id: title }, t('reviews')), head,
      h('div', { class: 'ppe-sort' }, h('label', { for: sel.id }, t('sort')), ' ', sel), list, nav));
    el.textContent = '';
    el.append(root);

    safe(call('/products/' + pid + '/reviews/summary')).then((s) => {
      if (!s || !s.count) { head.append(h('p', null, t('none'))); root.classList.add('ppe-empty'); return; }
      const rows = [5, 4, 3, 2, 1].map((n) => {
        const c = s.distribution[n] || 0;
        return h('li', { 'aria-label': t('stars', { r: n }) + ': ' + t('count', { n: c }) },
          h('span', { 'aria-hidden': 'true' }, n + '★'),
          h('span', { class: 'ppe-bar', 'aria-hidden': 'true' }, h('span', { style: 'width:' + (100 * c / s.count) + '%' })),
          h('span', { 'aria-hidden': 'true' }, num(c)));
      });
      head.append(h('p', { class: 'ppe-avg' }, stars(s.average, true), ' ',
        h('strong', null, avg(s.average)), ' · ', t('count', { n: s.count })), h('ul', { class: 'ppe-dist' }, rows));
    });

    async function load() {
      const data = await safe(call('/products/' + pid + '/reviews?sort=' + state.sort + '&page=' + state.page));
      list.textContent = '';
      nav.textContent = '';
      if (!data) { list.append(h('li', { class: 'ppe-error' }, t('error'))); return; }
      for (const r of data.reviews) list.append(review(r));
      const pages = Math.ceil(data.total / data.page_size);
      if (pages > 1) {
        const go = (p) => () => { state.page = p; load().then(() => root.querySelector('h2').scrollIntoView()); };
        nav.append(h('button', { type: 'button', disabled: state.page <= 1, on: { click: go(state.page - 1) } }, t('prev')),
          h('span', null, t('page', { p: num(state.page), n: num(pages) })),
          h('button', { type: 'button', disabled: state.page >= pages, on: { click: go(state.page + 1) } }, t('next')));
      }
    }
    load();
  }

  function review(r) {
    const urls = r.photo_urls || [];
    return h('li', { class: 'ppe-review' },
      h('div', null, stars(r.rating), r.title ? h('h3', null, r.title) : null),
      r.body ? h('p', null, r.body) : null,
      urls.length ? h('div', { class: 'ppe-photos' }, urls.map((u) =>
        h('a', { href: u, target: '_blank', rel: 'noopener' }, h('img', { src: u, alt: t('photo'), loading: 'lazy', width: 96, height: 96 })))) : null,
      h('p', { class: 'ppe-meta' }, r.display_name || t('anon'), r.verified ? h('span', { class: 'ppe-verified' }, ' ✓ ' + t('verified')) : null,
        r.published_at ? ' · ' + date(r.published_at) : null),
      r.merchant_reply ? h('blockquote', { class: 'ppe-reply' }, h('strong', null, t('reply')), h('p', null, r.merchant_reply)) : null);
  }

  // ---- points launcher and dialog
  function launcher() {
    const title = id('panel');
    const body = h('div', { class: 'ppe-body' });
    const close = h('button', { type: 'button', class: 'ppe-close', 'aria-label': t('close'), on: { click: () => toggle(false) } }, '×');
    const panel = theme(h('div', { class: 'ppe-panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': title, hidden: true },
      h('div', { class: 'ppe-head' }, h('h2', { id: title }, t('rewards')), close), body));
    const btn = theme(h('button', { type: 'button', class: 'ppe-launcher', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
      on: { click: () => toggle(panel.hidden) } }, '★ ' + t('rewards')));
    btn.setAttribute('aria-controls', panel.id = id('dialog'));
    document.body.append(btn, panel);
    let loaded = false;

    function toggle(open) {
      panel.hidden = !open;
      btn.setAttribute('aria-expanded', String(open));
      if (open) {
        if (!loaded) { loaded = true; fillPanel(body); }
        close.focus();
      } else btn.focus();
    }
    // A modal dialog keeps focus inside and closes on Escape (https://www.w3.org/WAI/ARIA/apg/patterns/dialog-modal/).
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); toggle(false); return; }
      if (e.key !== 'Tab') return;
      const f = [...panel.querySelectorAll('button,a[href],input,select,textarea,[tabindex]:not([tabindex="-1"])')]
        .filter((x) => !x.disabled && x.offsetParent !== null);
      if (!f.length) return;
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
  }

  // The shapes are the storefront API's (app/storefront/loyalty.py, referrals.py; GET /api/v1/openapi.json).
  async function fillPanel(body) {
    body.setAttribute('aria-busy', 'true');
    const b = await call('/me/balance').catch((e) => e);
    body.removeAttribute('aria-busy');
    if (b instanceof Error) {
      body.append(h('p', null, b.status === 401 ? t('login') : t('error')));
      return;
    }
    const [rw, ref, act] = await Promise.all([safe(call('/rewards')), safe(call('/me/referral')), safe(call('/me/activity'))]);
    const top = h('div');
    const log = h('section', null, h('h3', null, t('activity')));
    const buttons = [];
    let spendable = 0;
    const show = (bal, acts) => {
      spendable = bal.spendable;
      top.replaceChildren(h('section', { class: 'ppe-balance' },
        h('p', { class: 'ppe-points' }, h('strong', null, num(bal.spendable)), ' ', t('spendable')),
        bal.pending ? h('p', null, t('pending') + ': ' + num(bal.pending)) : null,
        bal.expiring_30d && bal.expires_at
          ? h('p', { class: 'ppe-expiring' }, t('expiring', { n: num(bal.expiring_30d), d: date(bal.expires_at) })) : null),
        tier(bal));
      for (const [go, cost] of buttons) go.disabled = go.dataset.busy === '1' || cost > spendable;
      if (acts) log.replaceChildren(log.firstChild, activity(acts.activity));
    };
    // After a redemption the points are held (or given back): read them again rather than guess.
    // no-cache: not a copy another server process kept from before the write (it learns of writes within ms).
    const refresh = () => Promise.all([safe(call('/me/balance', { headers: { 'Cache-Control': 'no-cache' } })),
      safe(call('/me/activity'))])
      .then(([bal, acts]) => bal && show(bal, acts));
    body.append(top);
    const rewards = rw ? rw.rewards : [];
    if (rewards.length) {
      body.append(h('section', null, h('h3', null, t('rewards')), h('ul', { class: 'ppe-rewards' }, rewards.map((r) => {
        const out = h('div', { class: 'ppe-out', 'aria-live': 'polite' });
        const go = h('button', { type: 'button', class: 'ppe-primary', on: { click: () => redeem(r, go, out, refresh) } }, t('redeem'));
        buttons.push([go, r.points]);
        return h('li', null, h('span', null, h('strong', null, rewardName(r)), ' ', t('cost', { n: num(r.points) })), go, out);
      }))));
    }
    if (ref) body.append(h('section', null, h('h3', null, t('referral')), copyable(ref.share_url, t('refLink'))));
    body.append(log);
    show(b, act || { activity: [] });
  }

  const money = (v, cur) => (cur ? Number(v).toLocaleString(locale, { style: 'currency', currency: cur }) : num(v));
  function rewardName(r) {
    if (r.type === 'free_shipping') return t('ship');
    const v = r.type === 'percentage' ? (Number(r.value) / 100).toLocaleString(locale, { style: 'percent' }) : money(r.value, r.currency);
    return t('off', { v });
  }

  function activity(items) {
    const K = L.kinds;
    return items.length ? h('ul', { class: 'ppe-activity' }, items.slice(0, 10).map((a) => h('li', null,
      h('span', { class: a.points < 0 ? 'ppe-minus' : 'ppe-plus' }, (a.points > 0 ? '+' : '') + num(a.points)),
      h('span', null, K[a.kind] || K.other), h('time', { datetime: a.at }, date(a.at)))))
      : h('p', null, t('empty'));
  }

  // progress: the next tier, {tier, basis, threshold, current, remaining, currency} (decimal strings), or null.
  function tier(b) {
    const p = b.progress;
    if (!b.tier && !p) return null;
    const pct = p ? Math.round(100 * Math.max(0, Math.min(1, Number(p.current) / Number(p.threshold) || 0))) : 0;
    const need = p && t(p.basis === 'amount_spent' ? 'toSpend' : 'toNext',
      { n: p.basis === 'amount_spent' ? money(p.remaining, p.currency) : num(p.remaining), t: p.tier });
    return h('section', { class: 'ppe-tier' }, b.tier ? h('p', null, t('tier') + ': ', h('strong', null, b.tier)) : null,
      p ? [h('div', { class: 'ppe-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct,
        'aria-valuetext': need, 'aria-label': t('tier') + ': ' + p.tier }, h('span', { style: 'width:' + pct + '%' })),
      h('p', null, need)] : null);
  }

  function copyable(text, label) {
    const input = h('input', { type: 'text', readonly: true, value: text, 'aria-label': label, on: { focus: () => input.select() } });
    const btn = h('button', { type: 'button', on: { click: async () => {
      try { await navigator.clipboard.writeText(text); } catch (e) { input.select(); document.execCommand('copy'); }
      btn.textContent = t('copied');
    } } }, t('copy'));
    return h('div', { class: 'ppe-copy' }, input, btn);
  }

  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const key = () => (crypto.randomUUID ? crypto.randomUUID()
    : [...crypto.getRandomValues(new Uint8Array(16))].map((x) => x.toString(16).padStart(2, '0')).join(''));

  // One idempotency key per click: a retried POST (network error) cannot create a second code. The answer is
  // the redemption (pending): the code exists once the job created it at the store, so poll until then.
  async function redeem(reward, btn, out, refresh) {
    btn.disabled = true;
    btn.dataset.busy = '1';
    out.textContent = t('creating');
    const k = key();
    const post = () => call('/me/redemptions', { method: 'POST', headers: { 'Idempotency-Key': k },
      body: { reward_id: reward.id, idempotency_key: k } });
    try {
      let r = await post().catch((e) => (e.status ? Promise.reject(e) : wait(1000).then(post)));
      refresh();
      for (let i = 0; !r.code && r.status === 'pending' && i < 40; i++) {
        await wait(Math.min(500 * (i + 1), 3000));
        r = await call('/me/redemptions/' + r.id);
      }
      if (!r.code) throw new Error(r.status);
      out.replaceChildren(h('p', null, t('code') + ':'), copyable(r.code, t('code')));
    } catch (e) {
      out.textContent = t('error');
    }
    btn.dataset.busy = '';
    await refresh();
    // The clicked button was disabled meanwhile (focus lost): carry focus to the code, or back to the button.
    (out.querySelector('input') || btn).focus();
  }

  function init() {
    // Shopify's blocks put widget.css in the head (their "stylesheet" key); elsewhere the widget adds it.
    if (!document.querySelector('link[data-ppe-css],link[rel=stylesheet][href*="widget.css"]')) {
      const css = D.css || S.src.replace(/widget\.js(\?.*)?$/, 'widget.css$1');
      document.head.append(h('link', { rel: 'stylesheet', href: css, 'data-ppe-css': true }));
    }
    document.querySelectorAll('[data-ppe="stars"][data-product-id]').forEach(renderStars);
    document.querySelectorAll('[data-ppe="reviews"][data-product-id]').forEach(renderReviews);
    if (D.launcher !== 'false') launcher();
  }
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    (window.requestIdleCallback || ((f) => setTimeout(f, 1)))(init, { timeout: 2000 });
  };
  if (document.readyState === 'complete') start();
  else {
    document.addEventListener('DOMContentLoaded', start);
    window.addEventListener('load', start);
  }
})();
