// The little the page does in the browser: the upload drop zone, and live progress on a
// campaign's page. No framework, no build step; loaded as a file (the CSP allows no inline code).
"use strict";

(function () {
  const POLL_EVERY_MS = 1500;
  const ROWS_EVERY_MS = 3000; // the rows table costs the server more than the counts
  const BAR_ORDER = ["completed", "no_answer", "busy", "failed", "rejected", "unknown", "active", "dialing"];

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    const whole = Math.max(Math.round(seconds), 0);
    const d = Math.floor(whole / 86400), h = Math.floor((whole % 86400) / 3600);
    const m = Math.floor((whole % 3600) / 60), s = whole % 60;
    const two = (n) => String(n).padStart(2, "0");
    if (d) return `${d}d ${h}h ${two(m)}m`;
    if (h) return `${h}h ${two(m)}m`;
    return m ? `${m}m ${two(s)}s` : `${s}s`;
  }

  function formatUtc(epochS) {
    if (!epochS) return "-";
    return new Date(epochS * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  // --- the new-campaign form ----------------------------------------------------------------
  function setUpDrop(form) {
    const zone = form.querySelector("[data-drop]");
    const input = zone.querySelector("input[type=file]");
    const chosen = zone.querySelector("[data-chosen]");
    const error = form.querySelector("[data-upload-error]");
    const maxBytes = Number(input.dataset.maxBytes);

    function show() {
      const file = input.files[0];
      chosen.textContent = file ? `${file.name} (${Math.ceil(file.size / 1024)} KB)` : "";
      const tooBig = file && file.size > maxBytes;
      error.hidden = !tooBig;
      error.textContent = tooBig ? `${file.name} is larger than the ${Math.round(maxBytes / 1048576)} MB this server takes: split the list into smaller files.` : "";
      return !tooBig;
    }
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    input.addEventListener("change", show);
    form.addEventListener("submit", (event) => {
      if (!show()) event.preventDefault();
    });
  }

  // --- a campaign's live progress -----------------------------------------------------------
  function setText(root, selector, text) {
    const node = root.querySelector(selector);
    if (node) node.textContent = text;
  }

  function drawBar(root, p) {
    let x = 0;
    BAR_ORDER.forEach((status) => {
      const rect = root.querySelector(`[data-bar-status="${status}"]`);
      if (!rect) return;
      const width = p.callable_rows ? 1000 * (p.counts[status] || 0) / p.callable_rows : 0;
      rect.setAttribute("x", x.toFixed(2));
      rect.setAttribute("width", width.toFixed(2));
      x += width;
    });
  }

  function drawChart(root, p) {
    const top = Math.max(1, ...Object.values(p.counts));
    Object.entries(p.counts).forEach(([status, n]) => {
      const rect = root.querySelector(`[data-chart-status="${status}"]`);
      if (rect) rect.setAttribute("width", (440 * n / top).toFixed(1));
      setText(root, `[data-chart-count="${status}"]`, n.toLocaleString("en-US"));
    });
  }

  function render(root, p) {
    const state = root.querySelector("[data-state]");
    state.textContent = p.state;
    state.className = `state state-${p.state}`;
    setText(root, "[data-done]", p.done_rows.toLocaleString("en-US"));
    setText(root, "[data-callable]", p.callable_rows.toLocaleString("en-US"));
    setText(root, "[data-percent]", Math.round(p.percent_done));
    setText(root, "[data-in-flight]", p.in_flight.toLocaleString("en-US"));
    setText(root, "[data-rate]", p.rate_per_min === null ? "-" : p.rate_per_min.toFixed(1));
    setText(root, "[data-eta]", formatDuration(p.eta_s));
    const due = p.next_due_at && p.next_due_at > Date.now() / 1000 ? p.next_due_at : null;
    setText(root, "[data-next-due]", formatUtc(due));
    const reason = root.querySelector("[data-reason]");
    reason.hidden = !p.reason;
    reason.textContent = p.reason;
    root.querySelector("[data-stop-form]").hidden = !p.can_stop;
    root.querySelector("[data-resume-form]").hidden = !p.can_resume;
    drawBar(root, p);
    drawChart(root, p);
  }

  // The rows table is server-rendered (every cell escaped there) and swapped in whole, when
  // the counts have changed since it was drawn, and once more when the campaign ends.
  function sameCounts(a, b) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => (a[key] || 0) === (b[key] || 0));
  }

  function rowsRefresher(root) {
    const container = root.querySelector("[data-rows]");
    if (!container) return async () => {};
    let drawnFor = JSON.parse(container.dataset.counts); // the counts the page was drawn with
    let lastAt = 0;
    return async function refresh(progress) {
      const due = progress.ended || Date.now() - lastAt >= ROWS_EVERY_MS;
      if (sameCounts(progress.counts, drawnFor) || !due) return;
      lastAt = Date.now();
      const answer = await fetch(container.dataset.rowsUrl, { credentials: "same-origin" });
      if (answer.ok) {
        container.innerHTML = await answer.text();
        drawnFor = progress.counts;
      }
    };
  }

  function follow(root) {
    const url = root.dataset.progressUrl;
    const refreshRows = rowsRefresher(root);
    async function poll() {
      let ended = false;
      try {
        const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (answer.status === 401) {
          window.location.reload(); // signed out: the page sends to the sign-in form
          return;
        }
        if (answer.ok) {
          const progress = await answer.json();
          render(root, progress);
          ended = progress.ended;
          await refreshRows(progress);
        }
      } catch (error) {
        // the server restarting: try again at the next tick
      }
      // An ended campaign changes only if someone resumes it: look again, but rarely.
      window.setTimeout(poll, ended ? POLL_EVERY_MS * 10 : POLL_EVERY_MS);
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-upload-form]").forEach(setUpDrop);
    document.querySelectorAll("[data-progress-url]").forEach(follow);
  });
})();
