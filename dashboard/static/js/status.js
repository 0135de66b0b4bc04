// The freshness badge and the per-source health panel: stale data and sick sources are shown,
// never hidden.
import { countryName } from "./countries.js";

const STATE_LABELS = { live: "live", lagging: "lagging", error: "error", pending: "waiting for first sync" };

export class FreshnessBadge {
  constructor(element, staleAfterS) {
    this.element = element;
    this.staleAfterMs = staleAfterS * 1000;
    this.freshness = null;        // from the last answer's headers
    this.sources = null;          // { live, total }
    this.failure = null;          // { error, since } while the API cannot be reached
    this.lastChangeAt = null;     // when the figures last moved (performance.now())
  }

  summaryArrived(body, figuresChanged) {
    this.sources = { live: body.sources_live, total: body.sources_total };
    if (figuresChanged || this.lastChangeAt === null) this.lastChangeAt = performance.now();
  }

  freshnessArrived(freshness) {
    this.freshness = freshness;
    this.failure = null;
  }

  failed(error) {
    this.failure = this.failure ?? { error, since: new Date() };
    this.failure.error = error;
  }

  // Ages keep counting between polls, so a stalled pipeline shows up within the second.
  render() {
    const { text, level } = this.describe();
    if (this.element.textContent !== text) this.element.textContent = text;
    this.element.className = `badge badge-${level}`;
  }

  describe() {
    if (this.failure) {
      return { level: "down", text: `Cannot reach the API since ${this.failure.since.toLocaleTimeString()} ` +
        `(${this.failure.error.message}); showing the last figures` };
    }
    if (!this.freshness || !this.sources) return { level: "pending", text: "Connecting…" };
    const live = `${this.sources.live} of ${this.sources.total} sources live`;
    if (this.freshness.ageMs === null) return { level: "down", text: `No source has synced yet; ${live}` };
    const ageMs = this.freshness.ageMs + (performance.now() - this.freshness.receivedAt);
    const quietS = (performance.now() - this.lastChangeAt) / 1000;
    const quiet = quietS >= 60 ? `; no new data for ${formatDuration(quietS * 1000)}` : "";
    if (ageMs > this.staleAfterMs) {
      return { level: "stale", text: `Data is ${formatDuration(ageMs)} old: sync is behind; ${live}` };
    }
    const level = this.sources.live < this.sources.total ? "partial" : "live";
    return { level, text: `Updated ${formatDuration(ageMs)} ago, ${live}${quiet}` };
  }
}

export function formatDuration(ms) {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

export function renderHealth(tbody, sources) {
  const rows = sources.map((source) => {
    const tr = document.createElement("tr");
    tr.className = `state-${source.state}`;
    const lag = source.lag_ms === null ? "–" : formatDuration(source.lag_ms);
    const cells = [
      [`${source.source}`, countryName(source.source)],
      [source.rows.toLocaleString("en-US"), null, "num"],
      [lag, null, "num"],
      [STATE_LABELS[source.state] ?? source.state, null, "state"],
      [source.last_error ?? "", source.last_error_at ? `at ${source.last_error_at}` : null, "error"],
    ];
    for (const [text, title, className] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (title) td.title = title;
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  });
  tbody.replaceChildren(...rows);
}
