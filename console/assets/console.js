// Callboard console: the little a page needs beyond HTML. Charts (uPlot) from the JSON
// the page carries, the date-range picker, the 90-day hint, and the wallboard refresh.
// Every page works without this file, except the charts.
'use strict';

(function () {
  const form = document.getElementById('filters');

  // Picking a preset applies it at once (the URL changes); typing a date makes the range custom.
  if (form) {
    const range = form.querySelector('[data-range]');
    const from = form.querySelector('#date_from');
    const to = form.querySelector('#date_to');
    const spanError = form.querySelector('[data-span-error]');
    const maxDays = Number(form.dataset.maxDays || '90');
    if (range) {
      range.addEventListener('change', () => {
        if (range.value === 'custom') { if (from) from.focus(); return; }
        // A preset is resolved by the server in the page's time zone: send it alone.
        if (from) from.disabled = true;
        if (to) to.disabled = true;
        form.requestSubmit();
      });
    }
    const checkSpan = () => {
      if (!from || !to || !spanError) return;
      let message = '';
      if (from.value && to.value) {
        const days = Math.round((Date.parse(to.value) - Date.parse(from.value)) / 86400000) + 1;
        if (days < 1) message = 'The end date is before the start date.';
        else if (days > maxDays) message = `That is ${days} days: a range may not exceed ${maxDays} days.`;
      }
      to.setCustomValidity(message);
      spanError.textContent = message;
      spanError.hidden = message === '';
      if (message) to.setAttribute('aria-invalid', 'true'); else to.removeAttribute('aria-invalid');
    };
    for (const input of [from, to]) {
      if (!input) continue;
      input.addEventListener('input', () => {
        if (range) range.value = 'custom';
        checkSpan();
      });
    }
    form.addEventListener('submit', () => {
      // A custom range is sent as its dates; a preset as its name.
      if (range && range.value !== 'custom') { if (from) from.disabled = true; if (to) to.disabled = true; }
      // Empty selects add nothing to the URL.
      for (const el of form.querySelectorAll('select, input')) if (!el.multiple && el.value === '' && el.name) el.disabled = true;
    });
  }
  for (const select of document.querySelectorAll('[data-autosubmit]')) {
    select.addEventListener('change', () => select.form.requestSubmit());
  }

  // Charts: one uPlot per [data-chart], its rows in the JSON script it names; the x axis is
  // the bucket labels, in order, one point per bucket.
  const charts = [];
  function draw() {
    if (typeof window.uPlot !== 'function') return;
    for (const el of document.querySelectorAll('[data-chart]')) {
      const source = document.getElementById(el.dataset.chart);
      if (!source) continue;
      const rows = JSON.parse(source.textContent || '[]');
      const labels = rows.map((r) => String(r[el.dataset.x]));
      const series = el.dataset.series.split(',').map((s) => {
        const [key, label, stroke] = s.split(':');
        return { key, label, stroke };
      });
      const data = [rows.map((_, i) => i), ...series.map((s) => rows.map((r) => Number(r[s.key])))];
      const opts = {
        width: Math.max(300, el.clientWidth),
        height: 300,
        scales: { x: { time: false } },
        axes: [
          { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) && labels[t] !== undefined ? labels[t] : '')) },
          {},
        ],
        series: [{ label: 'Bucket', value: (_u, v) => (v === null || labels[v] === undefined ? '–' : labels[v]) },
          ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: rows.length <= 120 } }))],
      };
      el.textContent = '';
      const plot = new window.uPlot(opts, data, el);
      el.uplot = plot;
      charts.push({ el, plot });
    }
  }
  if (document.readyState === 'loading') window.addEventListener('DOMContentLoaded', draw);
  else draw();
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { for (const c of charts) c.plot.setSize({ width: Math.max(300, c.el.clientWidth), height: 300 }); }, 150);
  });

  // Wallboard: ?refresh=N reloads every N seconds while the tab is visible, and pauses while hidden.
  const every = Number(document.body.dataset.refresh || '0') * 1000;
  if (every > 0) {
    const due = Date.now() + every;
    const reloadIfDue = () => {
      if (document.visibilityState === 'visible' && Date.now() >= due) window.location.reload();
    };
    setInterval(reloadIfDue, 1000);
    // Back from hidden, an overdue reload happens at once.
    document.addEventListener('visibilitychange', reloadIfDue);
  }
})();
