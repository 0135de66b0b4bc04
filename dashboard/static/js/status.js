// The freshness badge and the per-source health panel: stale data and sick sources are shown,
// never hidden.
import { countryName } from "./countries.js";

const STATE_LABELS = { live: "live", lagging: "lagging", error: "error", pending: "waiting for first sync" };

export class FreshnessBadge {
  // `element` shows the ticking text; `announcer` (a live region) only hears when the level changes.
  // Data older than `staleAfterS` is stale; no new rows for `quietAfterS` is said too.
  constructor(element, announcer, { staleAfterS, quietAfterS }) {
    this.element = element;
    this.announcer = announcer;
    this.staleAfterMs = staleAfterS * 1000;
    this.quietAfterMs = quietAfterS * 1000;
    this.freshness = null;        // from the last answer's headers
    this.sources = null;          // the last summary's per-source health
    this.failure = null;          // { error, since } while the API cannot be reached
    this.lastMoveAt = null;       // when the data last moved (performance.now())
    this.transport = null;        // { mode: "stream" | "polling", reason }
    this.announced = null;
  }

  // How the figures arrive: pushed ("stream"), or polled while the stream cannot be had.
  transportChanged(mode, reason) {
    this.transport = { mode, reason };
    this.element.dataset.transport = mode;
  }

  // `dataMoved`: new rows arrived (the selection alone does not count).
  summaryArrived(body, dataMoved) {
    this.sources = body.sources;
    if (dataMoved || this.lastMoveAt === null) this.lastMoveAt = performance.now();
  }

  freshnessArrived(freshness) {
    this.freshness = freshness;
    this.failure = null;
  }

  failed(error) {
    this.failure = this.failure ?? { error, since: performance.now() };
    this.failure.error = error;
  }

  // Ages keep counting between events and polls, so a stalled pipeline shows up within the second.
  render() {
    const { text, level, announcement } = this.describe();
    if (this.element.textContent !== text) this.element.textContent = text;
    this.element.className = `badge badge-${level}`;
    if (announcement !== this.announced) {
      this.announcer.textContent = announcement;
      this.announced = announcement;
    }
  }

  describe() {
    const pageError = this.element.ownerDocument.body.dataset.pageError;
    if (pageError) {
      return { level: "down", text: pageError, announcement: "The dashboard page failed; reload it" };
    }
    if (!this.sources && !this.failure) {
      return { level: "pending", text: "Connecting…", announcement: "Connecting to the dashboard" };
    }
    const count = (state) => (this.sources ?? []).filter((s) => s.state === state).length;
    const total = this.sources?.length ?? 0;
    const live = `${count("live")} of ${total} sources live`;
    if (this.failure) {
      const shown = this.freshness ? `; the figures shown are ${formatDuration(this.ageMs())} old` : "";
      return { level: "down", text: `${this.failure.error.message} (for ${formatDuration(performance.now() - this.failure.since)})${shown}`,
        announcement: "The dashboard API cannot be reached; showing the last figures" };
    }
    if (this.freshness?.ageMs === null || this.freshness?.ageMs === undefined) {
      const failing = count("error");
      const text = failing ? `No source is syncing: ${failing} of ${total} failing (see Sources)`
        : `No source has synced yet; ${live}`;
      return { level: "down", text, announcement: text };
    }
    const ageMs = this.ageMs();
    const polled = this.transport?.mode === "polling"
      ? { text: `; polling every second (${this.transport.reason})`, announcement: "; live updates paused, polling" }
      : { text: "", announcement: "" };
    if (ageMs > this.staleAfterMs) {
      return { level: "stale", text: `Data is ${formatDuration(ageMs)} old: sync is behind; ${live}${polled.text}`,
        announcement: `Data is stale: sync is behind; ${live}${polled.announcement}` };
    }
    const quietMs = performance.now() - this.lastMoveAt;
    const quiet = quietMs >= this.quietAfterMs ? `; no new rows for ${formatDuration(quietMs)}` : "";
    const level = count("live") < total ? "partial" : "live";
    return { level, text: `Updated ${formatDuration(ageMs)} ago, ${live}${quiet}${polled.text}`,
      announcement: `Data is up to date; ${live}${quiet ? "; no new rows for a minute or more" : ""}${polled.announcement}` };
  }

  ageMs() {
    return this.freshness.ageMs + (performance.now() - this.freshness.receivedAt);
  }
}

export function formatDuration(ms) {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

// wal (logical replication) with the WAL its slot keeps at the source, or xmin; a note (a fallback
// to xmin, a resync) is marked and shown on hover.
function captureText(source) {
  if (!source.capture) return "–";
  const kept = source.wal_retained_bytes === null ? "" : ` · ${formatBytes(source.wal_retained_bytes)} WAL kept`;
  return `${source.capture}${source.capture === "wal" ? kept : ""}${source.capture_note ? " *" : ""}`;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${Math.round(bytes / 1024)} kB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

// `sinceMs`: how long ago the health was read. A source that is not live keeps falling behind
// while its state (and so the summary's ETag) stays the same: its lag keeps counting here.
export function renderHealth(tbody, sources, sinceMs) {
  const rows = sources.map((source) => {
    const tr = document.createElement("tr");
    tr.className = `state-${source.state}`;
    const lagMs = source.lag_ms === null ? null : source.lag_ms + (source.state === "live" ? 0 : sinceMs);
    const cells = [
      [source.source, `${countryName(source.source)} (${source.source})`],
      [source.rows.toLocaleString("en-US"), null, "num"],
      [lagMs === null ? "–" : formatDuration(lagMs), null, "num"],
      [captureText(source), source.capture_note, "capture"],
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
