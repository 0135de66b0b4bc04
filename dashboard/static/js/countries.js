// The served countries: display names, and the ISO 3166-1 numeric ids the world map is keyed by.
export const COUNTRIES = {
  ALB: { name: "Albania", numeric: "008" },
  ARG: { name: "Argentina", numeric: "032" },
  AUS: { name: "Australia", numeric: "036" },
  AUT: { name: "Austria", numeric: "040" },
  BEL: { name: "Belgium", numeric: "056" },
  BGR: { name: "Bulgaria", numeric: "100" },
  BIH: { name: "Bosnia and Herzegovina", numeric: "070" },
  BLR: { name: "Belarus", numeric: "112" },
  BRA: { name: "Brazil", numeric: "076" },
  BRN: { name: "Brunei Darussalam", numeric: "096" },
  CAN: { name: "Canada", numeric: "124" },
  CHE: { name: "Switzerland", numeric: "756" },
  CHL: { name: "Chile", numeric: "152" },
  COL: { name: "Colombia", numeric: "170" },
  CRI: { name: "Costa Rica", numeric: "188" },
  CZE: { name: "Czechia", numeric: "203" },
  DEU: { name: "Germany", numeric: "276" },
  DNK: { name: "Denmark", numeric: "208" },
  DOM: { name: "Dominican Republic", numeric: "214" },
  ESP: { name: "Spain", numeric: "724" },
};

export function countryName(code) {
  return COUNTRIES[code]?.name ?? code;
}

// One colour per country, fixed, so a country keeps its colour when the selection changes.
// Twenty distinct hues, each at least 3:1 against white (WCAG's contrast for graphics).
const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#c2185b", "#00796b", "#b35806",
  "#5e35b1", "#00838f", "#6d4c41", "#ad1457", "#2e7d32", "#1565c0", "#e65100", "#7b1fa2",
  "#558b2f", "#37474f", "#0277bd", "#827717",
];

export function countryColour(code, allCodes) {
  const index = allCodes.indexOf(code);
  return PALETTE[(index < 0 ? 0 : index) % PALETTE.length];
}
