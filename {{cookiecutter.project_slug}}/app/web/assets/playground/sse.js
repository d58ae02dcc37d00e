// Server-Sent Events over fetch(): EventSource cannot POST or send an Authorization header.

export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.name = "";
    this.data = [];
  }

  push(chunk) {
    this.buffer += chunk;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i += 1) {
      const char = this.buffer[i];
      if (char !== "\n" && char !== "\r") continue;
      if (char === "\r" && i + 1 === this.buffer.length) break; // a "\n" may follow in the next chunk
      this.line(this.buffer.slice(start, i));
      if (char === "\r" && this.buffer[i + 1] === "\n") i += 1;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  end() {
    if (this.buffer) this.line(this.buffer.replace(/\r$/, ""));
    this.buffer = "";
    this.line("");
  }

  line(text) {
    if (text === "") {
      if (this.data.length) this.onEvent({ event: this.name || "message", data: this.data.join("\n") });
      this.name = "";
      this.data = [];
      return;
    }
    if (text.startsWith(":")) return; // keep-alive comment
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.name = value;
    else if (field === "data") this.data.push(value);
  }
}

// Yields {event, data} with `data` parsed as JSON, as the events arrive.
export async function* readEvents(response) {
  const queue = [];
  const parser = new SseParser((event) => queue.push(event));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      finished = done;
      if (done) parser.end();
      else parser.push(value);
      while (queue.length) {
        const event = queue.shift();
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          data = { text: event.data };
        }
        yield { event: event.event, data };
      }
      if (done) return;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}
