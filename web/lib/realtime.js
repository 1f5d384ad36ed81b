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

  receive(frame) {
    if (frame.type === 'telemetry') {
      for (const datum of frame.data) {
        this.latest.set(datum.id, datum);
        this.channels.get(datum.id)?.forEach((cb) => cb(datum));
      }
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
    if (first) this.send({ subscribe: [key] });
    else if (map === this.channels && this.latest.has(key)) cb(this.latest.get(key));
    return () => {
      set.delete(cb);
      if (!set.size) map.delete(key);
      if (!this.channels.has(key) && !this.staleness.has(key)) {
        this.latest.delete(key);
        this.send({ unsubscribe: [key] });
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
