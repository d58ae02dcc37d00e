// The conversation on screen: user bubbles, and assistant turns made of text and tool calls.

import { formatArguments, formatCost, formatDuration, h } from "./dom.js";

export class Transcript {
  constructor(root, emptyState) {
    this.root = root;
    this.emptyState = emptyState;
  }

  clear() {
    for (const node of [...this.root.children]) {
      if (node !== this.emptyState) node.remove();
    }
    this.emptyState.hidden = false;
  }

  user(text) {
    this.emptyState.hidden = true;
    const node = h(
      "article",
      { class: "message user", "aria-label": "You" },
      h("span", { class: "who" }, "You"),
      h("div", { class: "bubble" }, text),
    );
    this.root.append(node);
    this.scroll(true);
  }

  assistant() {
    this.emptyState.hidden = true;
    const turn = new AssistantTurn(() => this.scroll(false));
    this.root.append(turn.node);
    this.scroll(true);
    return turn;
  }

  // Follow new content unless the reader has scrolled up to read something earlier.
  scroll(force) {
    const distance = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight;
    if (force || distance < 120) this.root.scrollTop = this.root.scrollHeight;
  }
}

export class AssistantTurn {
  constructor(onChange) {
    this.onChange = onChange;
    this.segments = h("div", { class: "segments" });
    this.node = h(
      "article",
      { class: "message assistant", "aria-label": "Assistant" },
      h("span", { class: "who" }, "Assistant"),
      this.segments,
    );
    this.text = null;
    this.placeholder = null;
    this.cards = new Map();
  }

  streaming(active) {
    this.node.classList.toggle("streaming", active);
    this.node.setAttribute("aria-busy", String(active));
    if (active && !this.segments.childElementCount) {
      this.placeholder = h("p", { class: "thinking" }, "Thinking…");
      this.segments.append(this.placeholder);
    }
    if (!active) this.dropPlaceholder();
    this.onChange();
  }

  dropPlaceholder() {
    if (this.placeholder) this.placeholder.remove();
    this.placeholder = null;
  }

  appendText(text) {
    if (!text) return;
    this.dropPlaceholder();
    if (!this.text) {
      this.text = h("div", { class: "text" });
      this.segments.append(this.text);
    }
    this.text.append(text);
    this.onChange();
  }

  toolCall({ id, name, arguments: args }) {
    this.dropPlaceholder();
    this.text = null; // text after a tool call starts a new block
    const badge = h("span", { class: "badge running" }, "running");
    const time = h("span", { class: "tool-time" });
    const card = h(
      "section",
      { class: "tool-call", role: "group", "aria-label": `Tool call ${name}` },
      h(
        "header",
        {},
        h("span", { class: "tool-kind" }, "TOOL"),
        h("span", { class: "tool-name" }, name),
        h("span", { class: "spacer" }),
        time,
        badge,
      ),
      h("pre", { "aria-label": "Arguments" }, h("span", { class: "label" }, "Arguments"), formatArguments(args)),
    );
    this.cards.set(id, { card, badge, time });
    this.segments.append(card);
    this.onChange();
    return card;
  }

  toolResult({ call_id: callId, name, content, is_error: isError, duration_ms: durationMs }) {
    let entry = this.cards.get(callId);
    if (!entry) {
      this.toolCall({ id: callId, name, arguments: {} });
      entry = this.cards.get(callId);
    }
    entry.badge.className = `badge ${isError ? "error" : "ok"}`;
    entry.badge.textContent = isError ? "error" : "done";
    if (durationMs !== undefined && durationMs !== null) entry.time.textContent = formatDuration(durationMs);
    entry.card.append(h("pre", { "aria-label": "Result" }, h("span", { class: "label" }, "Result"), content));
    this.onChange();
  }

  // The run's outcome under the turn: status, tokens, cost and time.
  finish(summary) {
    this.streaming(false);
    for (const { badge } of this.cards.values()) {
      if (badge.textContent === "running") {
        badge.className = "badge cancelled";
        badge.textContent = "not run";
      }
    }
    const status = summary.status || "failed";
    const meta = h(
      "div",
      { class: "run-meta", role: "group", "aria-label": "Run summary" },
      h("span", { class: `badge ${status}` }, status),
      h("span", {}, `${summary.input_tokens ?? 0} in / ${summary.output_tokens ?? 0} out tokens`),
      h("span", {}, formatCost(summary.cost)),
      h("span", {}, formatDuration(summary.duration_ms)),
    );
    this.node.append(meta);
    if (status !== "completed" && summary.error_message) {
      const tone = status === "cancelled" ? "run-note" : "run-error";
      this.node.append(h("p", { class: tone }, summary.error_message));
    }
    if (!this.segments.childElementCount) this.segments.hidden = true;
    this.onChange();
  }

  fail(message) {
    this.streaming(false);
    this.node.append(h("p", { class: "run-error", role: "alert" }, message));
    this.onChange();
  }
}
