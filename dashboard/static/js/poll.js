// Polls the summary once per interval with If-None-Match, while the stream (stream.js) cannot be
// had: one request for all five charts, and a bodiless 304 when nothing changed. The freshness
// headers come on 304s too.

const REQUEST_TIMEOUT_MS = 5000;

class ApiFailure extends Error {}

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

  // No more polls; answers in flight are dropped (the stream has taken over).
  stop() {
    this.generation += 1;
    clearTimeout(this.timer);
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
      // A request that hangs must fail, or the chain of polls would stop with it.
      const headers = this.etag ? { "If-None-Match": this.etag } : {};
      const response = await reach(() => fetch(this.requestUrl(),
        { headers, cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }));
      if (response.status === 200) {
        const body = await reach(() => response.json());
        if (generation !== this.generation) return;        // the selection changed meanwhile
        this.handlers.onSummary(body);
        this.etag = response.headers.get("ETag");          // only once drawn: a failed draw is retried
      } else if (response.status !== 304) {
        throw new ApiFailure(await describeFailure(response));
      }
      if (generation === this.generation) this.handlers.onFreshness(freshnessFrom(response.headers));
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof ApiFailure) {
        this.handlers.onError(error);
      } else {
        throw error;                                        // our own bug: the page's error handler shows it
      }
    } finally {
      if (generation === this.generation) {
        this.schedule(Math.max(0, this.intervalMs - (performance.now() - started)));
      }
    }
  }
}

// Network failures, time-outs and cut-off bodies are the API's failures; anything else is ours.
async function reach(step) {
  try {
    return await step();
  } catch (error) {
    const reason = error.name === "TimeoutError" ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : error.message;
    throw new ApiFailure(`cannot reach the API: ${reason}`);
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
