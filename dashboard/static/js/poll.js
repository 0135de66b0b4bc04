// Polls the summary once per interval with If-None-Match: one request for all five charts, and a
// bodiless 304 when nothing changed. The freshness headers come on 304s too.

export class SummaryPoller {
  constructor(url, intervalMs, { onSummary, onFreshness, onError }) {
    this.url = url;
    this.intervalMs = intervalMs;
    this.handlers = { onSummary, onFreshness, onError };
    this.countries = null;         // null: all countries
    this.etag = null;
    this.timer = null;
    this.generation = 0;           // a changed selection makes answers in flight obsolete
  }

  // `codes`: the selected countries, or null for all of them. Polls at once, then every interval.
  setCountries(codes) {
    this.countries = codes;
    this.etag = null;
    this.generation += 1;
    this.schedule(0);
  }

  schedule(delayMs) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pollOnce(), delayMs);
  }

  requestUrl() {
    if (!this.countries) return this.url;
    return `${this.url}?countries=${encodeURIComponent(this.countries.join(","))}`;
  }

  async pollOnce() {
    const generation = this.generation;
    const started = performance.now();
    try {
      // no-store: the browser's cache stays out of the way, so the 304 reaches us as a 304.
      const headers = this.etag ? { "If-None-Match": this.etag } : {};
      const response = await fetch(this.requestUrl(), { headers, cache: "no-store" });
      if (generation !== this.generation) return;          // the selection changed meanwhile
      if (response.status === 200) {
        const body = await response.json();
        if (generation !== this.generation) return;
        this.etag = response.headers.get("ETag");
        this.handlers.onSummary(body);
      } else if (response.status !== 304) {
        throw new Error(await describeFailure(response));
      }
      this.handlers.onFreshness(freshnessFrom(response.headers));
    } catch (error) {
      if (generation === this.generation) this.handlers.onError(error);
    } finally {
      if (generation === this.generation) {
        this.schedule(Math.max(0, this.intervalMs - (performance.now() - started)));
      }
    }
  }
}

function freshnessFrom(headers) {
  const age = headers.get("X-Data-Age-Ms");
  return {
    asOf: headers.get("X-Data-As-Of"),
    ageMs: age === null ? null : Number(age),
    receivedAt: performance.now(),
  };
}

async function describeFailure(response) {
  try {
    const body = await response.json();
    return `the API answered ${response.status}: ${body.error?.message ?? response.statusText}`;
  } catch {
    return `the API answered ${response.status} ${response.statusText}`;
  }
}
