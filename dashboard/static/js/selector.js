// The country multi-select: checkboxes in a disclosure, chips for the current choice. The choice
// lives in the page's address (?countries=), so a reload or a shared link keeps it.
import { countryName } from "./countries.js";

const CHIPS_SHOWN = 3;

export class CountrySelector {
  constructor(root, allCodes, onChange) {
    this.allCodes = allCodes;
    this.onChange = onChange;
    this.chips = root.querySelector("#country-chips");
    this.options = root.querySelector("#country-options");
    this.boxes = allCodes.map((code) => this.addOption(code));
    root.querySelector("[data-select=all]").addEventListener("click", () => this.setAll(true));
    root.querySelector("[data-select=none]").addEventListener("click", () => this.setAll(false));
    this.restore(new URLSearchParams(window.location.search).get("countries"));
  }

  addOption(code) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = code;
    box.checked = true;
    box.addEventListener("change", () => this.changed());
    box.setAttribute("aria-label", `${countryName(code)} (${code})`);
    label.append(box, ` ${code}`);
    label.title = countryName(code);
    this.options.append(label);
    return box;
  }

  restore(fromAddress) {
    if (!fromAddress) return this.render();
    const wanted = new Set(fromAddress.toUpperCase().split(","));
    for (const box of this.boxes) box.checked = wanted.has(box.value);
    this.render();
  }

  setAll(checked) {
    for (const box of this.boxes) box.checked = checked;
    this.changed();
  }

  selected() {
    return this.boxes.filter((box) => box.checked).map((box) => box.value);
  }

  // null means every country (the API's default); [] means none.
  selection() {
    const codes = this.selected();
    return codes.length === this.allCodes.length ? null : codes;
  }

  changed() {
    this.render();
    const codes = this.selection();
    const url = new URL(window.location.href);
    if (codes === null) url.searchParams.delete("countries");
    else url.searchParams.set("countries", codes.join(","));
    window.history.replaceState(null, "", url);
    this.onChange(codes);
  }

  render() {
    const codes = this.selected();
    this.chips.replaceChildren();
    if (codes.length === this.allCodes.length) {
      this.chips.append(chip(`All ${codes.length}`));
    } else if (codes.length === 0) {
      this.chips.append(chip("None", "chip chip-none"));
    } else {
      for (const code of codes.slice(0, CHIPS_SHOWN)) this.chips.append(chip(code));
      if (codes.length > CHIPS_SHOWN) this.chips.append(chip(`+${codes.length - CHIPS_SHOWN}`, "chip chip-more"));
    }
  }
}

function chip(text, className = "chip") {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}
