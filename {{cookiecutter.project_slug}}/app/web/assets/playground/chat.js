// Sending messages and following the run's events as they stream in; cancelling a run.

import { failure } from "./api.js";
import { $, formatDuration } from "./dom.js";
import { readEvents } from "./sse.js";
import { Transcript } from "./transcript.js";

const MESSAGES_PAGE = 100;

export class Chat {
  constructor(api, { onRunFinished, onConversationStarted, onBusy }) {
    this.api = api;
    this.onBusy = onBusy;
    this.onRunFinished = onRunFinished;
    this.onConversationStarted = onConversationStarted;
    this.agent = null;
    this.conversationId = null;
    this.run = null;
    this.input = $("message-input");
    this.sendButton = $("send");
    this.cancelButton = $("cancel-run");
    this.status = $("run-status");
    this.transcript = new Transcript($("transcript"), $("chat-empty"));

    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.fit());
    this.cancelButton.addEventListener("click", () => this.cancel());
    for (const chip of document.querySelectorAll("[data-suggestion]")) {
      chip.addEventListener("click", () => {
        this.input.value = chip.dataset.suggestion;
        this.fit();
        this.input.focus();
      });
    }
  }

  get running() {
    return this.run !== null;
  }

  setAgent(agent) {
    this.agent = agent;
    this.newConversation();
    $("empty-title").textContent = agent ? `Chat with ${agent.name}` : "Create your first agent";
    $("empty-text").textContent = agent
      ? "Messages stream in as the model writes them; tool calls appear as they run."
      : "An agent is a system prompt, a provider and model, and the tools it may call.";
    $("suggestions").hidden = !agent || agent.provider !== "scripted";
    $("empty-new-agent").hidden = Boolean(agent);
    this.updateControls();
  }

  newConversation() {
    this.conversationId = null;
    this.transcript.clear();
    this.setStatus("");
    this.updateControls();
  }

  async openConversation(conversation) {
    this.conversationId = conversation.id;
    this.transcript.clear();
    this.setStatus("Loading messages…");
    const messages = [];
    for (let skip = 0; ; skip += MESSAGES_PAGE) {
      const page = await this.api.json(
        "GET",
        `/conversations/${conversation.id}/messages?skip=${skip}&limit=${MESSAGES_PAGE}`,
      );
      messages.push(...page.items);
      if (messages.length >= page.total || !page.items.length) break;
    }
    if (this.conversationId !== conversation.id) return; // another one was opened meanwhile
    this.replay(messages);
    this.setStatus(`Conversation loaded: ${messages.length} message${messages.length === 1 ? "" : "s"}.`);
    this.updateControls();
  }

  replay(messages) {
    let turn = null;
    for (const message of messages) {
      if (message.role === "user") {
        this.transcript.user(message.content);
        turn = null;
      } else if (message.role === "assistant") {
        turn = turn || this.transcript.assistant();
        turn.appendText(message.content);
        for (const call of message.tool_calls || []) turn.toolCall(call);
      } else if (message.role === "tool") {
        turn = turn || this.transcript.assistant();
        turn.toolResult({ call_id: message.tool_call_id, name: message.name || "tool", content: message.content });
      }
    }
  }

  submit() {
    const text = this.input.value.trim();
    if (!text || !this.agent || this.running) return;
    this.input.value = "";
    this.fit();
    this.send(text);
  }

  async send(text) {
    this.transcript.user(text);
    const turn = this.transcript.assistant();
    turn.streaming(true);
    this.run = { executionId: null, turn };
    this.updateControls();
    this.setStatus("Starting the run…");
    let outcome = null;
    try {
      const body = { message: text, stream: true };
      if (this.conversationId) body.conversation_id = this.conversationId;
      const response = await this.api.request("POST", `/agents/${this.agent.id}/execute`, {
        body,
        accept: "text/event-stream",
      });
      if (!response.ok) throw await failure(response);
      for await (const { event, data } of readEvents(response)) {
        outcome = this.handle(event, data, turn) || outcome;
      }
      if (!outcome) throw new Error("The stream ended before the run did.");
    } catch (error) {
      turn.fail(error.message);
      this.setStatus(`Failed: ${error.message}`);
    } finally {
      this.run = null;
      this.updateControls();
      this.input.focus();
      this.onRunFinished();
    }
  }

  // One SSE event; returns the run's summary when it is the final one.
  handle(event, data, turn) {
    switch (event) {
      case "execution.started":
        this.run.executionId = data.execution_id;
        if (!this.conversationId) {
          this.conversationId = data.conversation_id;
          this.onConversationStarted(data.conversation_id);
        }
        this.setStatus("Running…");
        this.updateControls();
        return null;
      case "message.delta":
        turn.appendText(data.text);
        return null;
      case "tool.call":
        turn.toolCall(data);
        this.setStatus(`Calling ${data.name}…`);
        return null;
      case "tool.result":
        turn.toolResult(data);
        this.setStatus("Running…");
        return null;
      case "execution.completed":
      case "execution.failed":
        turn.finish(data);
        this.setStatus(this.describeOutcome(data));
        return data;
      default:
        return null;
    }
  }

  describeOutcome(summary) {
    const took = formatDuration(summary.duration_ms);
    if (summary.status === "completed") return `Completed in ${took}.`;
    if (summary.status === "cancelled") return `Run cancelled after ${took}.`;
    return `Run ${summary.status}: ${summary.error_message || summary.error_type || "unknown error"}`;
  }

  async cancel() {
    if (!this.run || !this.run.executionId) return;
    this.cancelButton.disabled = true;
    this.setStatus("Cancelling…");
    try {
      await this.api.json("POST", `/executions/${this.run.executionId}/cancel`);
    } catch (error) {
      // 409: it finished first; the stream reports how.
      if (error.status !== 409) this.setStatus(`Could not cancel: ${error.message}`);
    }
  }

  updateControls() {
    const ready = Boolean(this.agent) && !this.running;
    this.input.disabled = !this.agent;
    this.sendButton.disabled = !ready;
    this.cancelButton.hidden = !this.running;
    this.cancelButton.disabled = !(this.run && this.run.executionId);
    this.onBusy(this.running);
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  fit() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 192)}px`;
  }
}
