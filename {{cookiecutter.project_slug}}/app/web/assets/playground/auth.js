// Signing in, or creating an account and signing straight in with it.

import { $ } from "./dom.js";

export class Auth {
  constructor(api, { onSignedIn }) {
    this.api = api;
    this.onSignedIn = onSignedIn;
    this.mode = "signin";
    this.form = $("auth-form");
    this.error = $("auth-error");
    this.submitButton = $("auth-submit");
    $("auth-tab-signin").addEventListener("click", () => this.setMode("signin"));
    $("auth-tab-register").addEventListener("click", () => this.setMode("register"));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  show(message) {
    $("app-view").hidden = true;
    $("auth-view").hidden = false;
    this.setMode("signin");
    this.setMessage(message || "");
    $("auth-email").focus();
  }

  setMode(mode) {
    this.mode = mode;
    const register = mode === "register";
    $("auth-tab-signin").setAttribute("aria-selected", String(!register));
    $("auth-tab-register").setAttribute("aria-selected", String(register));
    this.form.setAttribute("aria-labelledby", register ? "auth-tab-register" : "auth-tab-signin");
    $("auth-name-field").hidden = !register;
    $("auth-password").autocomplete = register ? "new-password" : "current-password";
    $("auth-title").textContent = register ? "Create your account" : "Sign in to the playground";
    this.submitButton.textContent = register ? "Create account" : "Sign in";
    this.setMessage("");
  }

  async submit() {
    const email = $("auth-email").value.trim();
    const password = $("auth-password").value;
    if (!email || !password) return this.setMessage("Enter your email and password.");
    this.submitButton.disabled = true;
    try {
      if (this.mode === "register") {
        await this.api.register(email, password, $("auth-name").value.trim());
      }
      await this.api.login(email, password);
      $("auth-password").value = "";
      this.setMessage("");
      await this.onSignedIn();
    } catch (error) {
      this.setMessage(error.message);
    } finally {
      this.submitButton.disabled = false;
    }
  }

  setMessage(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }
}
