// Wires the page: one poller feeds the five charts, the badge and the health panel.
import * as charts from "./charts.js";
import { SummaryPoller } from "./poll.js";
import { CountrySelector } from "./selector.js";
import { FreshnessBadge, renderHealth } from "./status.js";

const config = document.body.dataset;
const allCodes = config.sources.split(",");
const byId = (id) => document.getElementById(id);

// "3,120 arrived in the hour from 21:00 UTC, across 20 countries"
function arrivalsNote(body) {
  const latest = body.sot.datasets[0]?.data.at(-1);
  const countries = body.sources.filter((s) => s.rows > 0).length;
  const hour = latest ? `${charts.formatCount(latest.y)} arrived in the hour from ${latest.x} UTC, ` : "";
  return `${hour}across ${countries} ${countries === 1 ? "country" : "countries"}`;
}

async function start() {
  const world = await (await fetch(config.worldUrl)).json();
  const view = {
    count: byId("submissions-count"),
    countNote: byId("submissions-note"),
    sot: charts.createSubmissionsOverTime(byId("sot-chart")),
    tmins: charts.createLearningHours(byId("tmins-chart")),
    escs: charts.createEscsMap(byId("escs-chart"), world),
    eeb: charts.createEarlyEducationBelonging(byId("eeb-chart")),
    health: document.querySelector("#health-table tbody"),
    badge: new FreshnessBadge(byId("freshness"), Number(config.staleAfterS)),
  };
  let lastFigures = null;
  let noneSelected = false;

  const filteredCharts = () => [view.tmins, view.escs, view.eeb];
  const showEmptySelection = (empty) => {
    for (const chart of filteredCharts()) {
      chart.canvas.closest(".card").querySelector(".empty-note").hidden = !empty;
    }
  };
  const noCountries = { datasets: [] };

  const onSummary = (body) => {
    const figures = JSON.stringify([body.submissions, body.sot, body.tmins, body.escs, body.eeb]);
    const changed = figures !== lastFigures;
    lastFigures = figures;
    view.badge.summaryArrived(body, changed);
    renderHealth(view.health, body.sources);
    if (!changed) return;
    view.count.textContent = charts.formatCount(body.submissions.count);
    view.countNote.textContent = arrivalsNote(body);
    charts.updateSubmissionsOverTime(view.sot, body.sot);
    charts.updateLearningHours(view.tmins, noneSelected ? noCountries : body.tmins);
    charts.updateEscsMap(view.escs, noneSelected ? noCountries : body.escs);
    charts.updateEarlyEducationBelonging(view.eeb, noneSelected ? noCountries : body.eeb, allCodes);
  };

  const poller = new SummaryPoller(config.summaryUrl, Number(config.pollMs), {
    onSummary,
    onFreshness: (freshness) => view.badge.freshnessArrived(freshness),
    onError: (error) => view.badge.failed(error),
  });
  const selector = new CountrySelector(byId("country-selector"), allCodes, (codes) => {
    noneSelected = codes !== null && codes.length === 0;
    showEmptySelection(noneSelected);
    lastFigures = null;                       // redraw with the next answer, even if unchanged
    poller.setCountries(noneSelected ? null : codes);
  });
  const initial = selector.selection();
  noneSelected = initial !== null && initial.length === 0;
  showEmptySelection(noneSelected);
  poller.setCountries(noneSelected ? null : initial);     // starts polling
  setInterval(() => view.badge.render(), 200);
}

start().catch((error) => {
  byId("freshness").textContent = `The dashboard could not start: ${error.message}`;
  byId("freshness").className = "badge badge-down";
});
