/*! ppe storefront widget: the reviews block; source: app/storefront/widget_src */
// Loaded by widget.js when the page has a reviews placeholder; uses its helpers (window.__ppe).
(function (P) {
  'use strict';
  const { h, t, num } = P;
  Object.assign(P.E, {
    reviews: 'Reviews', none: 'No reviews yet', sort: 'Sort by', newest: 'Newest', highest: 'Highest rated',
    lowest: 'Lowest rated', prev: 'Previous', next: 'Next', page: 'Page {p} of {n}', verified: 'Verified buyer',
    reply: 'Reply from the store', photo: 'Photo from a review', anon: 'Customer'
  });

  // The summary, the distribution, sorted pages of reviews with their photos and the merchant's replies.
  P.reviews = (el) => {
    const pid = encodeURIComponent(el.dataset.productId);
    const state = { sort: 'newest', page: 1 };
    const title = P.id('title');
    const list = h('ol', { class: 'ppe-list', 'aria-live': 'polite' });
    const nav = h('nav', { class: 'ppe-pages', 'aria-label': t('reviews') });
    const head = h('div', { class: 'ppe-summary' });
    const sel = h('select', { id: P.id('sort'), on: { change: () => { state.sort = sel.value; state.page = 1; more(); } } },
      ['newest', 'highest', 'lowest'].map((k) => h('option', { value: k }, t(k))));
    const root = P.theme(h('section', { class: 'ppe-reviews', 'aria-labelledby': title },
      h('h2', { id: title }, t('reviews')), head,
      h('div', { class: 'ppe-sort' }, h('label', { for: sel.id }, t('sort')), ' ', sel), list, nav));
    const summarise = (s) => {
      if (!s || !s.count) { head.append(h('p', null, t('none'))); root.classList.add('ppe-empty'); return; }
      const rows = [5, 4, 3, 2, 1].map((n) => {
        const c = s.distribution[n] || 0;
        return h('li', { 'aria-label': t('stars', { r: n }) + ': ' + t('count', { n: c }) },
          h('span', { 'aria-hidden': 'true' }, n + '★'),
          h('span', { class: 'ppe-bar', 'aria-hidden': 'true' }, h('span', { style: 'width:' + (100 * c / s.count) + '%' })),
          h('span', { 'aria-hidden': 'true' }, num(c)));
      });
      head.append(h('p', { class: 'ppe-avg' }, P.stars(s.average, true), ' ',
        h('strong', null, (Number(s.average) || 0).toFixed(1).replace('.', P.sep)), ' · ',
        t('count', { n: s.count })), h('ul', { class: 'ppe-dist' }, rows));
    };
    const fetchPage = () => P.safe(P.call('/products/' + pid + '/reviews?sort=' + state.sort + '&page=' + state.page));
    const show = (data) => {
      list.textContent = nav.textContent = '';
      if (!data) { list.append(h('li', { class: 'ppe-error' }, t('error'))); return; }
      for (const r of data.reviews) list.append(review(r));
      const pages = Math.ceil(data.total / data.page_size);
      const go = (p) => () => { state.page = p; more().then(() => root.querySelector('h2').scrollIntoView()); };
      const button = (p, key) => h('button', { type: 'button', disabled: p < 1 || p > pages, on: { click: go(p) } }, t(key));
      if (pages > 1) {
        nav.append(button(state.page - 1, 'prev'), h('span', null, t('page', { p: num(state.page), n: num(pages) })),
          button(state.page + 1, 'next'));
      }
    };
    const more = () => fetchPage().then(show);
    // The block appears once, whole: the summary (the same request as the stars', widget.js keeps one per
    // product) and the first page, so nothing inside it moves as they arrive (layout shift).
    const both = Promise.all([P.summary(pid), fetchPage()]);
    // The date formatter, made in a task of its own while the requests are out (widget.js says why).
    setTimeout(P.date);
    both.then(([s, data]) => {
      summarise(s);
      show(data);
      el.replaceChildren(root);
    });
  };

  function review(r) {
    const urls = r.photo_urls || [];
    return h('li', { class: 'ppe-review' },
      h('div', null, P.stars(r.rating), r.title && h('h3', null, r.title)),
      r.body && h('p', null, r.body),
      urls.length > 0 && h('div', { class: 'ppe-photos' }, urls.map((u) => h('a', { href: u, target: '_blank', rel: 'noopener' },
        h('img', { src: u, alt: t('photo'), loading: 'lazy', width: 96, height: 96 })))),
      h('p', { class: 'ppe-meta' }, r.display_name || t('anon'),
        r.verified && h('span', { class: 'ppe-verified' }, ' ✓ ' + t('verified')),
        r.published_at && ' · ' + P.date(r.published_at)),
      r.merchant_reply && h('blockquote', { class: 'ppe-reply' }, h('strong', null, t('reply')), h('p', null, r.merchant_reply)));
  }
})(window.__ppe);
