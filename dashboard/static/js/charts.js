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
Chart.defaults.animation.duration = 250;

function axis(title) {
  return { grid: { color: GRID }, title: { display: Boolean(title), text: title } };
}

export function formatCount(count) {
  return numberFormat.format(count);
}

// Submissions over time: a line over the last 24 hours.
export function createSubmissionsOverTime(canvas) {
  return new Chart(canvas, {
    type: "line",
    data: { labels: [], datasets: [{ label: "Submissions", data: [], borderColor: ACCENT,
      backgroundColor: "rgba(79, 70, 229, 0.12)", fill: true, tension: 0.25, pointRadius: 2 }] },
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
    data: { labels: [], datasets: [{ label: "Hours per week", data: [], backgroundColor: "#e8c1a0",
      borderColor: "#c08552", borderWidth: 1 }] },
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
    (tmins.datasets.map((d) => `${countryName(d.country)} ${d.hours}`).join(", ") || "no data"));
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
          callbacks: { label: (item) => `${item.chart.data.labels[item.dataIndex]}: ESCS ${item.raw.value}` } } },
      scales: {
        projection: { axis: "x", projection: "equalEarth" },
        color: { axis: "x", interpolate: "purples", missing: "#f3f4f6",
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
    (escs.datasets.map((d) => `${countryName(d.id)} ${d.value}`).join(", ") || "no data"));
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
          `${item.raw.x} years early education, belonging ${item.raw.y}, ` +
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
    (eeb.datasets.map((d) => `${countryName(d.id)} ${d.data[0]?.x} years, belonging ${d.data[0]?.y}`)
      .join("; ") || "no data"));
}
