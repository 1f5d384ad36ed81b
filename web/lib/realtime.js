// One websocket to the server's /api/realtime, shared by every view and by Open MCT's
// telemetry provider. Keys are subscribed while someone listens to them; after a
// reconnection every key still listened to is subscribed again.

const STREAMS = ['events', 'track']; // the server's names for the story feed and the position

export class Realtime {
  constructor(path = '/api/realtime') {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${location.host}${path}`;
    this.channels = new Map(); // key -> Set of callbacks(datum)
    this.staleness = new Map(); // key -> Set of callbacks({isStale, timestamp})
    this.streams = new Map([...STREAMS, 'tick'].map((s) => [s, new Set()]));
    this.latest = new Map(); // key -> last datum
    this.stale = new Map(); // key -> last isStale
    this.retry = 500;
    this.connect();
  }

  connect() {
    this.ws = new WebSocket(this.url);
    this.ws.onopen = () => {
      this.retry = 500;
      const keys = [...new Set([...this.channels.keys(), ...this.staleness.keys()])];
      keys.push(...STREAMS.filter((s) => this.streams.get(s).size));
      if (keys.length) this.send({ subscribe: keys });
    };
    this.ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    this.ws.onclose = () => {
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  send(message) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Subscribe or unsubscribe a key with the others asked in the same turn: one message for a view's hundred keys. */
  #ask(verb, key) {
    if (!this.asked) {
      this.asked = { subscribe: new Set(), unsubscribe: new Set() };
      queueMicrotask(() => {
        const { subscribe, unsubscribe } = this.asked;
        this.asked = null;
        if (subscribe.size) this.send({ subscribe: [...subscribe] });
        if (unsubscribe.size) this.send({ unsubscribe: [...unsubscribe] });
        unsubscribe.forEach((key) => {
          this.latest.delete(key);
          this.stale.delete(key);
        });
      });
    }
    const other = verb === 'subscribe' ? 'unsubscribe' : 'subscribe';
    if (this.asked[other].has(key)) this.asked[other].delete(key); // asked and taken back in the same turn
    else this.asked[verb].add(key);
  }

  receive(frame) {
    if (frame.type === 'telemetry') {
      for (const datum of frame.data) {
        this.latest.set(datum.id, datum);
        this.channels.get(datum.id)?.forEach((cb) => cb(datum));
      }
      this.now = frame.timestamp;
      this.streams.get('tick').forEach((cb) => cb(frame.timestamp));
    } else if (frame.type === 'staleness') {
      for (const { id, isStale } of frame.data) {
        this.stale.set(id, isStale);
        this.staleness.get(id)?.forEach((cb) => cb({ isStale, timestamp: frame.timestamp }));
      }
    } else if (frame.type === 'events' || frame.type === 'track') {
      this.streams.get(frame.type).forEach((cb) => cb(frame.data, frame.timestamp));
    } else if (frame.type === 'error') {
      console.warn('issim realtime:', frame.message);
    }
  }

  #listen(map, key, cb) {
    let set = map.get(key);
    const first = !this.channels.has(key) && !this.staleness.has(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(cb);
    if (first) this.#ask('subscribe', key);
    // a key others already listen to: what is known of it now, at once
    if (map === this.channels && this.latest.has(key)) cb(this.latest.get(key));
    if (map === this.staleness && this.stale.has(key)) cb({ isStale: this.stale.get(key), timestamp: this.now });
    return () => {
      set.delete(cb);
      if (!set.size) map.delete(key);
      if (!this.channels.has(key) && !this.staleness.has(key)) {
        this.#ask('unsubscribe', key);
      }
    };
  }

  /** Call `cb(datum)` with each new value of a channel; returns the unsubscribe function. */
  subscribe(key, cb) {
    return this.#listen(this.channels, key, cb);
  }

  /** Call `cb({isStale, timestamp})` when a channel's staleness changes. */
  subscribeStaleness(key, cb) {
    return this.#listen(this.staleness, key, cb);
  }

  /** Listen to a stream: 'events' (new log entries), 'track' (the position), 'tick' (every frame's time). */
  on(stream, cb) {
    const set = this.streams.get(stream);
    set.add(cb);
    if (STREAMS.includes(stream) && set.size === 1) this.send({ subscribe: [stream] });
    return () => {
      set.delete(cb);
      if (STREAMS.includes(stream) && !set.size) this.send({ unsubscribe: [stream] });
    };
  }
}
