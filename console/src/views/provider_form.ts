// Add and edit providers: SMTP from a preset, or HTTP. Secrets are "set" with a Replace action.
import { create } from "@bufbuild/protobuf";
import { admin, call, consoleApi, type Problem } from "../api";
import { clear, field, fieldError, h, modal, uid } from "../dom";
import {
  type SmtpPreset,
  SmtpPresetAuth,
  SmtpTestNoAuthSchema,
  SmtpTestPlainAuthSchema,
  SmtpTestXOAuth2Auth_ClientCredentialsSchema,
  SmtpTestXOAuth2AuthSchema,
  type TestSmtpSettingsRequest,
} from "../gen/mailgate/v1/console_pb";
import {
  type AddEmailProviderSMTPRequest,
  SMTPNoAuthSchema,
  SMTPPlainAuthSchema,
  SMTPXOAuth2Auth_ClientCredentialsSchema,
  SMTPXOAuth2AuthSchema,
} from "../gen/zitadel/admin_pb";
import { type EmailProvider } from "../gen/zitadel/settings_pb";
import { markFields, problemBox } from "../problems";
import { EMAIL, hostProblem, providerName } from "./common";
import { receiverInput, receiverProblem, showTest } from "./testing";

let presets: SmtpPreset[] | null = null;

async function catalogue(): Promise<SmtpPreset[]> {
  presets ??= (await call(consoleApi.listSmtpPresets({}))).presets;
  return presets;
}

type AuthChoice = "none" | "plain" | "xoauth2";

// A secret input that, for a stored provider, shows "set" and a Replace button until asked.
class SecretField {
  readonly input = h("input", { type: "password", autocomplete: "new-password", maxlength: 200 });
  readonly element: HTMLElement;
  private replacing: boolean;

  constructor(label: string, stored: boolean) {
    this.replacing = !stored;
    this.input.id = uid("secret");
    this.input.setAttribute("aria-describedby", `${this.input.id}-error`);
    const replace = h("button", { type: "button", class: "link", "aria-label": `${label} is set: replace it` }, "Replace");
    const holder = h("div", { class: "secret" }, h("span", { class: "secret-set" }, "set"), replace);
    replace.addEventListener("click", () => {
      this.replacing = true;
      holder.replaceWith(this.input);
      this.input.focus();
    });
    this.element = h(
      "div",
      { class: "field" },
      h("label", { for: this.input.id }, label),
      stored ? holder : this.input,
      h("p", { class: "field-error", id: `${this.input.id}-error`, "aria-live": "polite" }),
    );
  }

  // What to send: the new secret, or "" to keep the stored one.
  get value(): string {
    return this.replacing ? this.input.value : "";
  }

  get required(): boolean {
    return this.replacing;
  }
}

export async function smtpForm(existing: EmailProvider | undefined, onSaved: () => void): Promise<void> {
  const smtp = existing?.config.case === "smtp" ? existing.config.value : undefined;
  const storedAuth = smtp?.Auth.case;
  const list = await catalogue().catch((error: Problem) => {
    alertProblem(error);
    return null;
  });
  if (list === null) return;

  const preset = h("select", { name: "preset" }, ...list.map((p) => h("option", { value: p.id }, p.name)));
  const hosts = h("datalist", { id: "preset-hosts" });
  const description = h("input", { name: "description", maxlength: 200 });
  const host = h("input", { name: "host", maxlength: 500, list: "preset-hosts", placeholder: "smtp.example.com:587", required: true });
  const tls = h("input", { type: "checkbox", name: "tls" });
  const auth = h(
    "select",
    { name: "auth" },
    h("option", { value: "plain" }, "User and password (PLAIN or LOGIN)"),
    h("option", { value: "xoauth2" }, "XOAUTH2, client credentials"),
    h("option", { value: "none" }, "None"),
  );
  const user = h("input", { name: "user", maxlength: 200, autocomplete: "off" });
  const password = new SecretField("Password", storedAuth === "plain");
  const tokenEndpoint = h("input", { name: "token_endpoint", maxlength: 200, type: "url" });
  const scopes = h("input", { name: "scopes", placeholder: "space-separated" });
  const clientId = h("input", { name: "client_id", maxlength: 200 });
  const storedGrant = storedAuth === "xoauth2" && smtp?.Auth.value.OAuth2Type.case === "clientCredentials";
  const clientSecret = new SecretField("Client secret", storedGrant);
  const sender = h("input", { name: "sender_address", type: "email", maxlength: 200, required: true });
  const senderName = h("input", { name: "sender_name", maxlength: 200, required: true });
  const replyTo = h("input", { name: "reply_to_address", type: "email", maxlength: 200 });
  const note = h("p", { class: "hint", "aria-live": "polite" });
  const plainPart = h("div", {}, password.element);
  const oauthPart = h("div", {}, field("Token endpoint", tokenEndpoint), field("Scopes", scopes), field("Client id", clientId), clientSecret.element);
  const userPart = field("User", user);

  const showAuth = (): void => {
    const choice = auth.value as AuthChoice;
    plainPart.hidden = choice !== "plain";
    oauthPart.hidden = choice !== "xoauth2";
    userPart.hidden = choice === "none";
  };
  const applyPreset = (): void => {
    const chosen = list.find((p) => p.id === preset.value);
    if (!chosen) return;
    host.value = chosen.host;
    tls.checked = chosen.tls;
    user.value = chosen.fixedUser;
    user.placeholder = chosen.userHint;
    password.input.placeholder = chosen.passwordHint;
    auth.value = chosen.auth === SmtpPresetAuth.XOAUTH2_CLIENT_CREDENTIALS || chosen.auth === SmtpPresetAuth.XOAUTH2_JWT_BEARER ? "xoauth2" : chosen.auth === SmtpPresetAuth.NONE ? "none" : "plain";
    tokenEndpoint.value = chosen.tokenEndpoint;
    scopes.value = chosen.scopes.join(" ");
    clear(hosts, ...[chosen.host, ...chosen.alternativeHosts].filter(Boolean).map((value) => h("option", { value })));
    note.textContent = chosen.note;
    save.disabled = chosen.auth === SmtpPresetAuth.XOAUTH2_JWT_BEARER;
    showAuth();
  };
  preset.addEventListener("change", applyPreset);
  auth.addEventListener("change", showAuth);

  const save = h("button", { type: "submit" }, existing ? "Save" : "Add provider");
  const receiver = receiverInput();
  const testButton = h("button", { type: "button" }, "Send test email");
  const senderEcho = h("strong", {});
  sender.addEventListener("input", () => (senderEcho.textContent = sender.value || "(sender address)"));
  const testResult = h("div", { class: "test-result", "aria-live": "polite" });
  const result = h("div", { "aria-live": "polite" });
  const controls: Record<string, HTMLElement> = {
    description, host, user, password: password.input, token_endpoint: tokenEndpoint, scopes, client_id: clientId,
    client_secret: clientSecret.input, sender_address: sender, sender_name: senderName, reply_to_address: replyTo,
    receiver_address: receiver,
  };

  const form = h(
    "form",
    { class: "provider-form", novalidate: true },
    existing ? null : field("Preset", preset, "Fills in the provider's host, port, TLS and user; the catalogue comes from the server."),
    hosts,
    note,
    h("fieldset", {}, h("legend", {}, "Server"),
      field("Description", description),
      field("Host and port", host, "host:port. TLS on: implicit TLS when the server speaks it from the first byte (465), else STARTTLS (587)."),
      h("div", { class: "field check" }, h("label", {}, tls, " TLS (implicit or STARTTLS, required)")),
    ),
    h("fieldset", {}, h("legend", {}, "Authentication"), field("Method", auth), userPart, plainPart, oauthPart),
    h("fieldset", {}, h("legend", {}, "Sender"), field("Sender address", sender), field("Sender name", senderName), field("Reply-to address", replyTo)),
    h("fieldset", { class: "test" }, h("legend", {}, "Test these settings (unsaved)"),
      h("p", {}, "From ", senderEcho),
      field("To", receiver),
      h("div", { class: "actions" }, testButton),
      testResult,
    ),
    result,
    h("div", { class: "actions" }, save, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")),
  );

  if (smtp && existing) {
    description.value = existing.description;
    host.value = smtp.host;
    tls.checked = smtp.tls;
    user.value = smtp.user;
    sender.value = smtp.senderAddress;
    senderName.value = smtp.senderName;
    replyTo.value = smtp.replyToAddress;
    if (smtp.Auth.case === "xoauth2") {
      auth.value = "xoauth2";
      tokenEndpoint.value = smtp.Auth.value.tokenEndpoint;
      scopes.value = smtp.Auth.value.scopes.join(" ");
      if (smtp.Auth.value.OAuth2Type.case === "clientCredentials") clientId.value = smtp.Auth.value.OAuth2Type.value.clientId;
    } else {
      auth.value = smtp.Auth.case ?? "plain";
    }
    showAuth();
  } else {
    applyPreset();
  }
  senderEcho.textContent = sender.value || "(sender address)";

  const check = (testing: boolean): boolean => {
    const problems: [HTMLElement, string][] = [];
    const need = (control: HTMLInputElement, max: number, required: boolean): void => {
      const value = control.value.trim();
      if (required && !value) problems.push([control, "Required."]);
      else if (value.length > max) problems.push([control, `At most ${max} characters.`]);
    };
    for (const control of Object.values(controls)) fieldError(control, "");
    need(description, 200, false);
    const hostText = hostProblem(host.value.trim());
    if (hostText) problems.push([host, hostText]);
    need(sender, 200, true);
    if (sender.value.trim() && !EMAIL.test(sender.value.trim())) problems.push([sender, "Enter an email address."]);
    need(senderName, 200, true);
    need(replyTo, 200, false);
    const choice = auth.value as AuthChoice;
    if (choice === "plain" && password.required && !password.value && !testing) problems.push([password.input, "Required."]);
    if (choice === "xoauth2") {
      need(tokenEndpoint, 200, true);
      const list = scopes.value.split(/\s+/).filter(Boolean);
      if (list.length === 0) problems.push([scopes, "At least one scope."]);
      if (list.length > 20 || list.some((s) => s.length > 100)) problems.push([scopes, "At most 20 scopes of at most 100 characters."]);
      need(clientId, 200, true);
      if (clientSecret.required && !clientSecret.value && !testing) problems.push([clientSecret.input, "Required."]);
    }
    if (testing) {
      const text = receiverProblem(receiver);
      if (text) problems.push([receiver, text]);
    }
    for (const [control, text] of problems) fieldError(control, text);
    problems[0]?.[0].focus();
    return problems.length === 0;
  };

  const authValue = (): AddEmailProviderSMTPRequest["Auth"] => {
    switch (auth.value as AuthChoice) {
      case "none":
        return { case: "none", value: create(SMTPNoAuthSchema) };
      case "plain":
        return { case: "plain", value: create(SMTPPlainAuthSchema, { password: password.value }) };
      case "xoauth2":
        return {
          case: "xoauth2",
          value: create(SMTPXOAuth2AuthSchema, {
            tokenEndpoint: tokenEndpoint.value.trim(),
            scopes: scopes.value.split(/\s+/).filter(Boolean),
            OAuth2Type: {
              case: "clientCredentials",
              value: create(SMTPXOAuth2Auth_ClientCredentialsSchema, { clientId: clientId.value.trim(), clientSecret: clientSecret.value }),
            },
          }),
        };
    }
  };
  // The same settings as mailgate.v1's test request (ZITADEL's TestEmailProviderSMTP field for field).
  const testAuth = (): TestSmtpSettingsRequest["auth"] => {
    switch (auth.value as AuthChoice) {
      case "none":
        return { case: "none", value: create(SmtpTestNoAuthSchema) };
      case "plain":
        return { case: "plain", value: create(SmtpTestPlainAuthSchema, { password: password.value }) };
      case "xoauth2":
        return {
          case: "xoauth2",
          value: create(SmtpTestXOAuth2AuthSchema, {
            tokenEndpoint: tokenEndpoint.value.trim(),
            scopes: scopes.value.split(/\s+/).filter(Boolean),
            grant: {
              case: "clientCredentials",
              value: create(SmtpTestXOAuth2Auth_ClientCredentialsSchema, { clientId: clientId.value.trim(), clientSecret: clientSecret.value }),
            },
          }),
        };
    }
  };
  const settings = () => ({
    senderAddress: sender.value.trim(),
    senderName: senderName.value.trim(),
    tls: tls.checked,
    host: host.value.trim(),
    user: auth.value === "none" ? "" : user.value.trim(),
    Auth: authValue(),
  });

  testButton.addEventListener("click", async () => {
    if (!check(true)) return;
    testButton.disabled = true;
    const { Auth: _, ...fields } = settings();
    const pending = consoleApi.testSmtpSettings({ ...fields, auth: testAuth(), receiverAddress: receiver.value.trim(), id: existing?.id ?? "" });
    await showTest(testResult, pending, "");
    testButton.disabled = false;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!check(false)) return;
    save.disabled = true;
    clear(result);
    const common = { ...settings(), replyToAddress: replyTo.value.trim(), description: description.value.trim() };
    try {
      if (existing) {
        await call(admin.updateEmailProviderSMTP({ ...common, id: existing.id }));
      } else {
        await call(admin.addEmailProviderSMTP(common));
      }
      dialog.close();
      onSaved();
    } catch (error) {
      const problem = error as Problem;
      clear(result, problemBox(problem));
      markFields(problem, controls);
    } finally {
      save.disabled = false;
    }
  });

  const dialog = modal(existing ? `Edit ${providerName(existing)}` : "Add SMTP provider", form);
  (existing ? description : preset).focus();
}

export function httpForm(existing: EmailProvider | undefined, onSaved: () => void): void {
  const http = existing?.config.case === "http" ? existing.config.value : undefined;
  const endpoint = h("input", { name: "endpoint", type: "url", maxlength: 2048, required: true, placeholder: "https://mail.example.com/send" });
  const description = h("input", { name: "description", maxlength: 200 });
  endpoint.value = http?.endpoint ?? "";
  description.value = existing?.description ?? "";
  const result = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit" }, existing ? "Save" : "Add provider");
  const close = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const form = h(
    "form",
    { class: "provider-form", novalidate: true },
    field("Description", description),
    field("Endpoint", endpoint, "mailgate POSTs each email as JSON, signed with the provider's signing key (ZITADEL-Signature)."),
    result,
    h("div", { class: "actions" }, save, close),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError(endpoint, "");
    fieldError(description, "");
    const url = endpoint.value.trim();
    if (!/^https?:\/\/\S+$/.test(url) || url.length > 2048) {
      fieldError(endpoint, "Enter an http:// or https:// URL (at most 2048 characters).");
      endpoint.focus();
      return;
    }
    if (description.value.length > 200) {
      fieldError(description, "At most 200 characters.");
      return;
    }
    save.disabled = true;
    try {
      if (existing) {
        await call(admin.updateEmailProviderHTTP({ id: existing.id, endpoint: url, description: description.value.trim() }));
        dialog.close();
      } else {
        const answer = await call(admin.addEmailProviderHTTP({ endpoint: url, description: description.value.trim() }));
        clear(
          result,
          h("div", { class: "notice", role: "status" },
            h("p", {}, "Added. Its signing key is shown this once: keep it where the endpoint checks signatures."),
            h("pre", { class: "secret-once", tabindex: 0, "data-testid": "signing-key" }, answer.signingKey),
          ),
        );
        save.hidden = true;
        close.textContent = "Done";
        close.focus();
      }
      onSaved();
    } catch (error) {
      const problem = error as Problem;
      clear(result, problemBox(problem));
      markFields(problem, { endpoint, description });
    } finally {
      save.disabled = false;
    }
  });
  const dialog = modal(existing ? `Edit ${providerName(existing)}` : "Add HTTP provider", form);
  description.focus();
}

function alertProblem(problem: Problem): void {
  const dialog = modal("Something went wrong", problemBox(problem), h("div", { class: "actions" }, h("button", { type: "button", onclick: () => dialog.close() }, "Close")));
}
