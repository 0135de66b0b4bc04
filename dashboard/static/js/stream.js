// Follows the summary as the server pushes it (Server-Sent Events, /api/v1/stream): a `summary`
// event when the figures change, a `freshness` event when only their age moved. While the stream
// cannot be had, the once-a-second ETag poller (poll.js) takes over, the badge says so, and the
// stream is tried again every `retryStreamMs`.

const FALL_BACK_AFTER_MS = 3000;     // a stream that stays down this long hands over to polling

export class LiveSummary {
  constructor(streamUrl, poller, { onSummary, onFreshness, onTransport }, { retryStreamMs }) {
    this.streamUrl = streamUrl;
    this.poller = poller;
    this.handlers = { onSummary, onFreshness, onTransport };
    this.retryStreamMs = retryStreamMs;
    this.countries = null;           // null: all countries
    this.source = null;              // the EventSource, while one is open or opening
    this.polling = false;
    this.fallBackTimer = null;
    this.retryTimer = null;
  }

  // `codes`: the selected countries, or null for all of them.
  setCountries(codes) {
    this.countries = codes;
    if (this.polling) this.poller.setCountries(codes);
    this.openStream();
  }

  requestUrl() {
    if (!this.countries) return this.streamUrl;
    return `${this.streamUrl}?countries=${encodeURIComponent(this.countries.join(","))}`;
  }

  openStream() {
    this.closeStream();
    const source = new EventSource(this.requestUrl());
    this.source = source;
    source.addEventListener("open", () => {
      this.cancelFallBack();
      if (this.polling) {
        this.polling = false;
        this.poller.stop();
      }
      this.handlers.onTransport("stream");
    });
    source.addEventListener("summary", (event) => {
      const body = JSON.parse(event.data);
      this.handlers.onSummary(body);
      this.handlers.onFreshness({ asOf: body.as_of, ageMs: body.age_ms, receivedAt: performance.now() });
    });
    source.addEventListener("freshness", (event) => {
      const freshness = JSON.parse(event.data);
      this.handlers.onFreshness({ asOf: freshness.as_of, ageMs: freshness.age_ms, receivedAt: performance.now() });
    });
    source.addEventListener("error", () => {
      if (source !== this.source) return;
      // CLOSED: refused (an error status, not an event stream); the browser will not retry it.
      // CONNECTING: the browser reconnects by itself, which a server restart needs for a second.
      if (this.polling || source.readyState === EventSource.CLOSED) {
        this.fallBack(this.polling ? "the live stream is still unavailable" : "the live stream was refused");
      } else if (this.fallBackTimer === null) {      // counted from the first failure
        this.fallBackTimer = setTimeout(() => this.fallBack("the live stream is not answering"), FALL_BACK_AFTER_MS);
      }
    });
  }

  cancelFallBack() {
    clearTimeout(this.fallBackTimer);
    this.fallBackTimer = null;
  }

  closeStream() {
    this.cancelFallBack();
    clearTimeout(this.retryTimer);
    if (this.source) this.source.close();
    this.source = null;
  }

  fallBack(reason) {
    this.closeStream();
    if (!this.polling) {
      this.polling = true;
      this.poller.setCountries(this.countries);         // polls at once, then every second
      this.handlers.onTransport("polling", reason);
    }
    this.retryTimer = setTimeout(() => this.openStream(), this.retryStreamMs);
  }
}
