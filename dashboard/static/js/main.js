// Wires the page: one live summary (pushed, or polled while the stream is down) feeds the five
// charts, the badge and the health panel.
import * as charts from "./charts.js";
import { SummaryPoller } from "./poll.js";
import { CountrySelector } from "./selector.js";
import { FreshnessBadge, renderHealth } from "./status.js";
import { LiveSummary } from "./stream.js";

const config = document.body.dataset;
const allCodes = config.sources.split(",");
const byId = (id) => document.getElementById(id);
const NO_COUNTRIES = { datasets: [] };
const MAP_RETRY_MS = 5000;
const CHARTS_AT_MOST_EVERY_MS = 500;     // pushed changes may come faster: the number shows each

// "3,120 arrived in the hour from 21:00 UTC, across 20 countries"
function arrivalsNote(body) {
  const latest = body.sot.datasets[0]?.data.at(-1);
  const countries = body.sources.filter((s) => s.rows > 0).length;
  const hour = latest ? `${charts.formatCount(latest.y)} arrived in the hour from ${latest.x} UTC, ` : "";
  return `${hour}across ${countries} ${countries === 1 ? "country" : "countries"}`;
}

function start() {
  const view = {
    count: byId("submissions-count"),
    countNote: byId("submissions-note"),
    sot: charts.createSubmissionsOverTime(byId("sot-chart")),
    tmins: charts.createLearningHours(byId("tmins-chart")),
    escs: null,                               // once the world atlas is loaded
    eeb: charts.createEarlyEducationBelonging(byId("eeb-chart")),
    health: document.querySelector("#health-table tbody"),
    badge: new FreshnessBadge(byId("freshness"), byId("freshness-announcer"),
      { staleAfterS: Number(config.staleAfterS), quietAfterS: Number(config.quietAfterS) }),
  };
  let last = null;                            // { body, drawn, moved, at }: the last summary
  let noneSelected = false;

  const filtered = (body, part) => (noneSelected ? NO_COUNTRIES : body[part]);
  const drawMap = (body) => view.escs && charts.updateEscsMap(view.escs, filtered(body, "escs"));

  let waiting = null;                         // the newest summary whose charts are not drawn yet
  let drawnAt = -Infinity;

  const drawSummary = () => {
    const body = waiting;
    waiting = null;
    drawnAt = performance.now();
    // What moved: rows (in any source), or what is drawn (figures, or only the selection).
    const moved = JSON.stringify(body.sources.map((s) => s.rows));
    const drawn = JSON.stringify([body.submissions, body.sot, body.tmins, body.escs, body.eeb, noneSelected]);
    if (!last || drawn !== last.drawn) {
      view.count.textContent = charts.formatCount(body.submissions.count);
      view.countNote.textContent = arrivalsNote(body);
      charts.updateSubmissionsOverTime(view.sot, body.sot);
      charts.updateLearningHours(view.tmins, filtered(body, "tmins"));
      charts.updateEarlyEducationBelonging(view.eeb, filtered(body, "eeb"), allCodes);
      drawMap(body);
    }
    view.badge.summaryArrived(body, last !== null && moved !== last.moved);
    last = { body, drawn, moved, at: performance.now() };
    renderHealth(view.health, body.sources, 0);
  };

  // The big number is painted as soon as a summary arrives; the charts and the panel follow once
  // that frame is on screen, at most twice a second, from the newest summary only: a burst of
  // pushed changes is one redraw, and no redraw (a world map is costly) holds the number back.
  const onSummary = (body) => {
    view.count.textContent = charts.formatCount(body.submissions.count);
    if (waiting === null) {
      const wait = Math.max(0, drawnAt + CHARTS_AT_MOST_EVERY_MS - performance.now());
      requestAnimationFrame(() => setTimeout(drawSummary, wait));
    }
    waiting = body;
  };

  const onFreshness = (freshness) => view.badge.freshnessArrived(freshness);
  const poller = new SummaryPoller(config.summaryUrl, Number(config.pollMs), {
    onSummary,
    onFreshness,
    onError: (error) => view.badge.failed(error),
  });
  const live = new LiveSummary(config.streamUrl, poller, {
    onSummary,
    onFreshness,
    onTransport: (transport, reason) => view.badge.transportChanged(transport, reason),
  }, { retryStreamMs: Number(config.streamRetryMs) });
  const showEmptySelection = () => {
    for (const id of ["tmins-chart", "escs-chart", "eeb-chart"]) {
      byId(id).closest(".card").querySelector(".empty-note").hidden = !noneSelected;
    }
  };
  const follow = (codes) => {
    noneSelected = codes !== null && codes.length === 0;
    showEmptySelection();
    live.setCountries(noneSelected ? null : codes);       // a stream for this selection
  };
  follow(new CountrySelector(byId("country-selector"), allCodes, follow).selection());

  // The map alone waits for its atlas (and retries it); the other charts do not wait for it.
  const loadMap = async () => {
    try {
      const response = await fetch(config.worldUrl);
      if (!response.ok) throw new Error(`the world map answered ${response.status}`);
      view.escs = charts.createEscsMap(byId("escs-chart"), await response.json());
      if (last) drawMap(last.body);
    } catch (error) {
      byId("escs-chart").setAttribute("aria-label", `The world map could not be loaded (${error.message}); retrying`);
      setTimeout(loadMap, MAP_RETRY_MS);
    }
  };
  loadMap();

  setInterval(() => view.badge.render(), 200);
  setInterval(() => last && renderHealth(view.health, last.body.sources, performance.now() - last.at), 1000);
}

start();
