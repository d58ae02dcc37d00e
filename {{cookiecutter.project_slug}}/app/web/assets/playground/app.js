// The playground's entry point: loads the configuration, then wires the views together.

import { Agents } from "./agents.js";
import { Api } from "./api.js";
import { Auth } from "./auth.js";
import { Chat } from "./chat.js";
import { $ } from "./dom.js";
import { Conversations, Executions } from "./history.js";

class Playground {
  constructor(config) {
    this.config = config;
    this.api = new Api(config.api_prefix, { onSignedOut: (message) => this.auth.show(message) });
    this.auth = new Auth(this.api, { onSignedIn: () => this.enter() });
    this.chat = new Chat(this.api, {
      onRunFinished: () => this.afterRun(),
      onConversationStarted: (id) => this.conversationStarted(id),
      onBusy: (busy) => this.setBusy(busy),
    });
    this.agents = new Agents(this.api, config, { onSelect: (agent) => this.selectAgent(agent) });
    this.conversations = new Conversations(this.api, {
      onOpen: (conversation) => this.openConversation(conversation),
    });
    this.executions = new Executions(this.api, {
      agentName: (id) => (this.agents.byId(id) || { name: "(deleted agent)" }).name,
      onOpen: (execution) => this.openExecution(execution),
    });
    this.tabs = [
      { tab: $("tab-chat"), panel: $("chat-panel") },
      { tab: $("tab-executions"), panel: $("executions-panel") },
    ];
    this.tabs.forEach(({ tab }, index) => {
      tab.addEventListener("click", () => this.selectTab(index));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = (index + step + this.tabs.length) % this.tabs.length;
        this.selectTab(next);
        this.tabs[next].tab.focus();
      });
    });
    $("new-chat").addEventListener("click", () => {
      this.chat.newConversation();
      this.conversations.mark(null);
      this.selectTab(0);
      $("message-input").focus();
    });
    $("sign-out").addEventListener("click", () => this.signOut());
  }

  async start() {
    if (this.api.signedIn) await this.enter();
    else this.auth.show();
  }

  async enter() {
    $("auth-view").hidden = true;
    $("app-view").hidden = false;
    $("user-email").textContent = this.api.email;
    $("user-email").title = this.api.email;
    this.selectTab(0);
    await this.guard(() => this.agents.load(sessionStorage.getItem("playground.agent")));
  }

  async signOut() {
    await this.api.logout().catch(() => {});
    sessionStorage.removeItem("playground.agent");
    this.auth.show("You are signed out.");
  }

  selectAgent(agent) {
    $("chat-title").textContent = agent ? agent.name : "Playground";
    $("chat-subtitle").textContent = agent
      ? [agent.provider, agent.model, agent.tools.length ? `tools: ${agent.tools.join(", ")}` : "no tools"].join(" · ")
      : "No agent yet";
    this.chat.setAgent(agent);
    this.executions.setAgent(agent);
    this.conversations.mark(null);
    this.guard(() => this.conversations.load(agent));
    if (this.activeTab === 1) this.guard(() => this.executions.load());
  }

  selectTab(index) {
    this.activeTab = index;
    this.tabs.forEach(({ tab, panel }, i) => {
      const selected = i === index;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      panel.hidden = !selected;
    });
    if (index === 1) this.guard(() => this.executions.load());
  }

  async openConversation(conversation) {
    this.selectTab(0);
    this.conversations.mark(conversation.id);
    await this.guard(() => this.chat.openConversation(conversation));
  }

  async openExecution(execution) {
    await this.guard(async () => {
      const conversation = await this.api.json("GET", `/conversations/${execution.conversation_id}`);
      if (!this.chat.agent || this.chat.agent.id !== conversation.agent_id) {
        this.agents.choose(conversation.agent_id);
      }
      await this.openConversation(conversation);
    });
  }

  conversationStarted(id) {
    this.conversations.mark(id);
    this.guard(async () => {
      await this.conversations.load(this.chat.agent);
      this.conversations.mark(id);
    });
  }

  afterRun() {
    if (this.activeTab === 1) this.guard(() => this.executions.load());
  }

  setBusy(busy) {
    $("agent-select").disabled = busy || !this.agents.agents.length;
    $("new-agent").disabled = busy;
    $("new-chat").disabled = busy;
    $("conversation-list").inert = busy;
  }

  // Errors from background loads go to the status line instead of vanishing.
  async guard(action) {
    try {
      await action();
    } catch (error) {
      if (this.api.signedIn) $("run-status").textContent = error.message;
    }
  }
}

async function boot() {
  const response = await fetch("config.json", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`config.json answered HTTP ${response.status}`);
  const config = await response.json();
  document.title = `${config.app_name} · Playground`;
  for (const node of document.querySelectorAll("[data-app-name]")) node.textContent = config.app_name;
  $("app-version").textContent = `v${config.version}`;
  const docs = $("docs-link");
  if (config.docs_url) docs.href = config.docs_url;
  else docs.hidden = true;
  $("boot").hidden = true;
  await new Playground(config).start();
}

boot().catch((error) => {
  $("boot").textContent = `The playground could not start: ${error.message}`;
});
