// The five charts. Each is built once and then updated in place (no re-creation, no flicker).
/* global Chart, ChartGeo */
import { COUNTRIES, countryColour, countryName } from "./countries.js";

const INK = "#1f2937";
const GRID = "#e5e7eb";
const ACCENT = "#4f46e5";
const numberFormat = new Intl.NumberFormat("en-US");

Chart.defaults.color = INK;
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
Chart.defaults.maintainAspectRatio = false;
// A figure that changes every second is redrawn at once: no animation to watch or to wait for.
Chart.defaults.animation = false;

function axis(title) {
  return { grid: { color: GRID }, title: { display: Boolean(title), text: title } };
}

export function formatCount(count) {
  return numberFormat.format(count);
}

// A figure for a label or tooltip: a country whose rows all lack an index has null for it.
const figure = (value) => (value === null || value === undefined ? "no data" : String(value));

// The map's colours run from a light to a dark violet: its lowest country must not look like
// the grey of a country without data.
const MAP_LOW = [199, 195, 242];
const MAP_HIGH = [59, 15, 112];
function mapColour(t) {
  const channel = (i) => Math.round(MAP_LOW[i] + (MAP_HIGH[i] - MAP_LOW[i]) * t);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}

// Submissions over time: a line over the last 24 hours.
export function createSubmissionsOverTime(canvas) {
  return new Chart(canvas, {
    type: "line",
    data: { labels: [], datasets: [{ label: "Submissions", data: [], borderColor: ACCENT,
      backgroundColor: "rgba(79, 70, 229, 0.12)", fill: true, tension: 0, pointRadius: 2 }] },
    options: {
      plugins: { legend: { display: false } },
      scales: { x: axis("Hour (UTC)"), y: { ...axis("Submissions"), beginAtZero: true } },
    },
  });
}

export function updateSubmissionsOverTime(chart, sot) {
  const points = sot.datasets[0]?.data ?? [];
  chart.data.labels = points.map((p) => p.x);
  chart.data.datasets[0].data = points.map((p) => p.y);
  chart.update();
  const latest = points.at(-1);
  chart.canvas.setAttribute("aria-label", latest
    ? `Submissions per hour over the last 24 hours; ${formatCount(latest.y)} in the hour from ${latest.x} UTC`
    : "Submissions per hour: no data");
}

// Learning hours per week: one bar per selected country.
export function createLearningHours(canvas) {
  return new Chart(canvas, {
    type: "bar",
    data: { labels: [], datasets: [{ label: "Hours per week", data: [], backgroundColor: "#c08552",
      borderColor: "#8a5a33", borderWidth: 1 }] },
    options: {
      plugins: { legend: { display: false },
        tooltip: { callbacks: { title: (items) => countryName(items[0].label) } } },
      scales: { x: { ...axis(""), ticks: { autoSkip: false } }, y: { ...axis("Hours per week"), beginAtZero: true } },
    },
  });
}

export function updateLearningHours(chart, tmins) {
  chart.data.labels = tmins.datasets.map((d) => d.country);
  chart.data.datasets[0].data = tmins.datasets.map((d) => d.hours);
  chart.update();
  chart.canvas.setAttribute("aria-label", "Learning hours per week: " +
    (tmins.datasets.map((d) => `${countryName(d.country)} ${figure(d.hours)}`).join(", ") || "no data"));
}

// ESCS: a world choropleth; countries outside the selection (or with no data) stay grey.
export function createEscsMap(canvas, world) {
  // Antarctica ("010") would take a fifth of the height and has no PISA country.
  const features = ChartGeo.topojson.feature(world, world.objects.countries).features
    .filter((f) => f.id !== "010");
  return new Chart(canvas, {
    type: "choropleth",
    data: {
      labels: features.map((f) => f.properties.name),
      datasets: [{ label: "Mean ESCS", data: features.map((feature) => ({ feature, value: null })),
        borderColor: "#6b7280", borderWidth: 0.5 }],
    },
    options: {
      showOutline: false,
      showGraticule: false,
      plugins: { legend: { display: false },
        tooltip: { filter: (item) => item.raw.value !== null,
          callbacks: { label: (item) => `${item.chart.data.labels[item.dataIndex]}: ESCS ${figure(item.raw.value)}` } } },
      scales: {
        projection: { axis: "x", projection: "equalEarth" },
        color: { axis: "x", interpolate: mapColour, missing: "#f3f4f6",
          legend: { position: "bottom-left", align: "right" } },
      },
    },
  });
}

export function updateEscsMap(chart, escs) {
  const byNumeric = new Map(escs.datasets.map((d) => [COUNTRIES[d.id]?.numeric, d.value]));
  for (const point of chart.data.datasets[0].data) {
    point.value = byNumeric.get(point.feature.id) ?? null;
  }
  chart.update();
  chart.canvas.setAttribute("aria-label", "Mean ESCS by country: " +
    (escs.datasets.map((d) => `${countryName(d.id)} ${figure(d.value)}`).join(", ") || "no data"));
}

// Early education (x) against sense of belonging (y), bubbles sized by submissions.
export function createEarlyEducationBelonging(canvas) {
  return new Chart(canvas, {
    type: "bubble",
    data: { datasets: [] },
    options: {
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: (item) => `${countryName(item.dataset.label)}: ` +
          `${figure(item.raw.x)} years early education, belonging ${figure(item.raw.y)}, ` +
          `${formatCount(item.raw.submissions)} submissions` } },
      },
      scales: { x: axis("Average years in early education"), y: axis("Standardised sense of belonging") },
    },
  });
}

export function updateEarlyEducationBelonging(chart, eeb, allCodes) {
  const largest = Math.max(1, ...eeb.datasets.map((d) => d.data[0]?.submissions ?? 0));
  const byId = new Map(chart.data.datasets.map((d) => [d.label, d]));
  // Existing datasets are updated in place, so bubbles move instead of being redrawn from nothing.
  chart.data.datasets = eeb.datasets.map((d) => {
    const dataset = byId.get(d.id) ?? { label: d.id, backgroundColor: countryColour(d.id, allCodes) + "cc",
      borderColor: countryColour(d.id, allCodes) };
    dataset.data = d.data.map((p) => ({ ...p, r: 4 + 22 * Math.sqrt(p.submissions / largest) }));
    return dataset;
  });
  chart.update();
  chart.canvas.setAttribute("aria-label", "Early education against sense of belonging: " +
    (eeb.datasets.map((d) => `${countryName(d.id)} ${figure(d.data[0]?.x)} years, belonging ${figure(d.data[0]?.y)}`)
      .join("; ") || "no data"));
}
