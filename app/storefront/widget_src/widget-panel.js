/*! ppe storefront widget: the points panel; source: app/storefront/widget_src */
// Loaded by widget.js when a shopper first reaches the launcher; uses its helpers (window.__ppe).
// The shapes are the storefront API's (GET /api/v1/openapi.json; docs/storefront-api.md).
(function (P) {
  'use strict';
  const { h, t, num, safe, call, fmt } = P;
  Object.assign(P.E, {
    spendable: 'Available points', pending: 'Pending', expiring: '{n} expire on {d}', tier: 'Tier',
    toNext: '{n} points to {t}', cost: '{n} pts', redeem: 'Redeem', creating: 'Creating your code…', code: 'Your code',
    copy: 'Copy', copied: 'Copied', referral: 'Refer a friend', refLink: 'Your referral link',
    activity: 'Recent activity', empty: 'Nothing yet', off: '{v} off', ship: 'Free shipping',
    toSpend: 'Spend {n} more to reach {t}', login: 'Log in to see your points and rewards.',
    k_earn: 'Order', k_reverse: 'Refund', k_action: 'Bonus', k_adjust: 'Adjustment', k_redeem: 'Reward',
    k_redeem_release: 'Points returned', k_tier_reward: 'Tier bonus', k_other: 'Points'
  });

  P.panel = async (body) => {
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
    // No tier: '' (replaceChildren writes a null as the text "null").
    const show = (bal, acts) => {
      top.replaceChildren(h('section', { class: 'ppe-balance' },
        h('p', { class: 'ppe-points' }, h('strong', null, num(bal.spendable)), ' ', t('spendable')),
        bal.pending ? h('p', null, t('pending') + ': ' + num(bal.pending)) : null,
        bal.expiring_30d && bal.expires_at
          ? h('p', { class: 'ppe-expiring' }, t('expiring', { n: num(bal.expiring_30d), d: P.date(bal.expires_at) })) : null),
        tier(bal) || '');
      for (const [go, cost] of buttons) go.disabled = go.dataset.busy === '1' || cost > bal.spendable;
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
  };

  const money = (v, cur) => (cur ? fmt(v, { style: 'currency', currency: cur }) : num(v));
  function rewardName(r) {
    if (r.type === 'free_shipping') return t('ship');
    return t('off', { v: r.type === 'percentage' ? fmt(Number(r.value) / 100, { style: 'percent' }) : money(r.value, r.currency) });
  }

  // The kind of a row as a word (k_<kind> strings), else "Points".
  function activity(items) {
    return items.length ? h('ul', { class: 'ppe-activity' }, items.slice(0, 10).map((a) => h('li', null,
      h('span', { class: a.points < 0 ? 'ppe-minus' : 'ppe-plus' }, (a.points > 0 ? '+' : '') + num(a.points)),
      h('span', null, t(P.E['k_' + a.kind] ? 'k_' + a.kind : 'k_other')), h('time', { datetime: a.at }, P.date(a.at)))))
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
})(window.__ppe);
