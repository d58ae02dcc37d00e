// Choosing an agent, and creating one from the providers and tools this service offers.

import { $, h } from "./dom.js";

const AGENTS_PAGE = 100;

export class Agents {
  constructor(api, config, { onSelect }) {
    this.api = api;
    this.config = config;
    this.onSelect = onSelect;
    this.agents = [];
    this.tools = null;
    this.select = $("agent-select");
    this.dialog = $("agent-dialog");
    this.form = $("agent-form");
    this.error = $("agent-error");
    this.provider = $("agent-provider");
    this.model = $("agent-model");
    this.modelEdited = false;

    this.select.addEventListener("change", () => this.choose(this.select.value));
    for (const id of ["new-agent", "empty-new-agent"]) {
      $(id).addEventListener("click", () => this.openDialog());
    }
    $("agent-cancel").addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.provider.addEventListener("change", () => this.suggestModel());
    this.model.addEventListener("input", () => {
      this.modelEdited = this.model.value.trim() !== "";
    });
  }

  get current() {
    return this.agents.find((agent) => agent.id === this.select.value) || null;
  }

  byId(id) {
    return this.agents.find((agent) => agent.id === id) || null;
  }

  async load(preferredId) {
    const page = await this.api.json("GET", `/agents?limit=${AGENTS_PAGE}`);
    this.agents = page.items;
    this.select.replaceChildren(
      ...(this.agents.length
        ? this.agents.map((agent) => h("option", { value: agent.id }, agent.name))
        : [h("option", { value: "" }, "No agents yet")]),
    );
    this.select.disabled = !this.agents.length;
    const wanted = this.byId(preferredId) || this.agents[0] || null;
    this.choose(wanted ? wanted.id : "");
  }

  choose(id) {
    this.select.value = id;
    const agent = this.byId(id);
    if (agent) sessionStorage.setItem("playground.agent", agent.id);
    $("agent-facts").hidden = !agent;
    if (agent) {
      $("fact-provider").textContent = agent.provider;
      $("fact-model").textContent = agent.model;
      $("fact-tools").textContent = agent.tools.length ? agent.tools.join(", ") : "none";
    }
    this.onSelect(agent);
  }

  async openDialog() {
    this.error.hidden = true;
    this.form.reset();
    this.modelEdited = false;
    this.provider.replaceChildren(
      ...this.config.providers.map((provider) => h("option", { value: provider.name }, provider.name)),
    );
    const preferred = this.config.providers.find((p) => p.name === this.config.default_provider);
    if (preferred) this.provider.value = preferred.name;
    this.suggestModel();
    this.dialog.showModal();
    $("agent-name").focus();
    try {
      await this.renderTools();
    } catch (error) {
      this.showError(`Could not list the tools: ${error.message}`);
    }
  }

  suggestModel() {
    if (this.modelEdited) return;
    const provider = this.config.providers.find((p) => p.name === this.provider.value);
    this.model.value = provider ? provider.default_model : "";
  }

  async renderTools() {
    if (!this.tools) {
      const page = await this.api.json("GET", "/tools?limit=100");
      this.tools = page.items;
    }
    $("agent-tools").replaceChildren(
      ...this.tools.map((tool) =>
        h(
          "label",
          { class: "tool-option" },
          h("input", { type: "checkbox", name: "tools", value: tool.name }),
          h("span", {}, h("code", {}, tool.name), h("small", {}, firstSentence(tool.description))),
        ),
      ),
    );
  }

  async create() {
    const data = new FormData(this.form);
    const body = {
      name: String(data.get("name") || "").trim(),
      system_prompt: String(data.get("system_prompt") || ""),
      provider: String(data.get("provider") || ""),
      model: String(data.get("model") || "").trim(),
      temperature: Number(data.get("temperature") || 0.7),
      tools: data.getAll("tools").map(String),
    };
    if (!body.name) return this.showError("Give the agent a name.");
    if (!body.model) return this.showError("Name the model the provider should use.");
    const submit = $("agent-submit");
    submit.disabled = true;
    try {
      const agent = await this.api.json("POST", "/agents", body);
      this.dialog.close();
      await this.load(agent.id);
    } catch (error) {
      this.showError(error.message);
    } finally {
      submit.disabled = false;
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}

function firstSentence(text) {
  const sentence = (text || "").split(/(?<=\.)\s/)[0];
  return sentence.length > 120 ? `${sentence.slice(0, 117)}…` : sentence;
}
