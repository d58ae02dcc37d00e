// What happened before: the agent's conversations, and every execution with its usage.

import { $, formatCost, formatDuration, formatTime, h } from "./dom.js";

const CONVERSATIONS_PAGE = 50;
const EXECUTIONS_PAGE = 20;

export class Conversations {
  constructor(api, { onOpen }) {
    this.api = api;
    this.onOpen = onOpen;
    this.list = $("conversation-list");
    this.empty = $("conversations-empty");
    this.items = [];
    this.currentId = null;
  }

  async load(agent) {
    if (!agent) {
      this.items = [];
    } else {
      const page = await this.api.json(
        "GET",
        `/conversations?agent_id=${agent.id}&limit=${CONVERSATIONS_PAGE}`,
      );
      this.items = page.items;
    }
    this.render();
  }

  mark(id) {
    this.currentId = id;
    for (const button of this.list.querySelectorAll("button")) {
      button.setAttribute("aria-current", String(button.dataset.id === id));
    }
  }

  render() {
    this.list.replaceChildren(
      ...this.items.map((conversation) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              dataset: { id: conversation.id },
              "aria-current": String(conversation.id === this.currentId),
              onclick: () => this.onOpen(conversation),
            },
            h("span", { class: "conversation-title" }, conversation.title),
            h("span", { class: "conversation-time" }, formatTime(conversation.created_at)),
          ),
        ),
      ),
    );
    this.empty.hidden = this.items.length > 0;
  }
}

export class Executions {
  constructor(api, { agentName, onOpen }) {
    this.api = api;
    this.agentName = agentName;
    this.onOpen = onOpen;
    this.agent = null;
    this.skip = 0;
    this.total = 0;
    this.body = $("executions-body");
    this.scope = $("executions-scope");
    $("executions-refresh").addEventListener("click", () => this.load());
    this.scope.addEventListener("change", () => {
      this.skip = 0;
      this.load();
    });
    $("executions-prev").addEventListener("click", () => {
      this.skip = Math.max(0, this.skip - EXECUTIONS_PAGE);
      this.load();
    });
    $("executions-next").addEventListener("click", () => {
      this.skip += EXECUTIONS_PAGE;
      this.load();
    });
  }

  setAgent(agent) {
    this.agent = agent;
    this.skip = 0;
  }

  async load() {
    const params = new URLSearchParams({ skip: String(this.skip), limit: String(EXECUTIONS_PAGE) });
    if (this.scope.value === "agent" && this.agent) params.set("agent_id", this.agent.id);
    const page = await this.api.json("GET", `/executions?${params}`);
    this.total = page.total;
    this.render(page.items);
  }

  render(executions) {
    const rows = executions.map((execution) =>
      h(
        "tr",
        {
          tabindex: "0",
          "aria-label": `Execution ${execution.status}: ${execution.input}`,
          onclick: () => this.onOpen(execution),
          onkeydown: (event) => {
            if (event.key === "Enter") this.onOpen(execution);
          },
        },
        h("td", {}, h("span", { class: `badge ${execution.status}` }, execution.status)),
        h("td", {}, this.agentName(execution.agent_id)),
        h("td", { class: "input", title: execution.input }, execution.input),
        h("td", { class: "num" }, String(execution.input_tokens)),
        h("td", { class: "num" }, String(execution.output_tokens)),
        h("td", { class: "num" }, formatCost(execution.cost)),
        h("td", { class: "num" }, formatDuration(execution.duration_ms)),
        h("td", { class: "when" }, formatTime(execution.started_at || execution.created_at)),
      ),
    );
    if (!rows.length) {
      rows.push(h("tr", { class: "empty-row" }, h("td", { colspan: "8" }, "No executions yet.")));
    }
    this.body.replaceChildren(...rows);
    const last = Math.min(this.skip + executions.length, this.total);
    $("executions-summary").textContent = `${this.total} execution${this.total === 1 ? "" : "s"}, newest first`;
    $("executions-page").textContent = this.total ? `${this.skip + 1}–${last} of ${this.total}` : "";
    $("executions-prev").disabled = this.skip === 0;
    $("executions-next").disabled = last >= this.total;
  }
}
