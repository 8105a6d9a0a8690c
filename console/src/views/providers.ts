// The provider table: state, kind, host, auth, sender, last test; add, edit, test, (de)activate, remove.
import { admin, call, type Problem } from "../api";
import { clear, confirmAction, h, labelCells } from "../dom";
import { type EmailProvider } from "../gen/zitadel/settings_pb";
import type { View } from "../main";
import { problemBox } from "../problems";
import { canWrite, type Session } from "../session";
import { authKind, isActive, lastTests, providerName } from "./common";
import { httpForm, smtpForm } from "./provider_form";
import { testStoredDialog } from "./testing";

export async function listProviders(): Promise<EmailProvider[]> {
  const found: EmailProvider[] = [];
  for (let offset = 0n; ; ) {
    const page = await call(admin.listEmailProviders({ query: { offset, limit: 100, asc: true } }));
    found.push(...page.result);
    if (page.result.length < 100) return found;
    offset += BigInt(page.result.length);
  }
}

function row(provider: EmailProvider, all: EmailProvider[], writer: boolean, refresh: () => void, status: HTMLElement): HTMLElement {
  const smtp = provider.config.case === "smtp" ? provider.config.value : undefined;
  const http = provider.config.case === "http" ? provider.config.value : undefined;
  const active = isActive(provider);
  const test = lastTests()[provider.id];
  const name = providerName(provider);
  const act = async (label: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await call(work());
      clear(status, h("p", { class: "notice", role: "status" }, label));
    } catch (error) {
      clear(status, problemBox(error as Problem));
    }
    refresh();
  };
  const actions: HTMLElement[] = [
    h("a", { href: `#/history?provider=${encodeURIComponent(provider.id)}`, class: "button", "aria-label": `History of ${name}` }, "History"),
  ];
  if (writer) {
    if (smtp) actions.push(h("button", { type: "button", onclick: () => testStoredDialog(provider, refresh) }, "Test"));
    const jwt = smtp?.Auth.case === "xoauth2" && smtp.Auth.value.OAuth2Type.case === "jwtBearer";
    if (!jwt) {
      actions.push(h("button", { type: "button", onclick: () => void (smtp ? smtpForm(provider, refresh) : httpForm(provider, refresh)) }, "Edit"));
    }
    if (active) {
      actions.push(
        h("button", {
          type: "button",
          onclick: async () => {
            const yes = await confirmAction(
              `Deactivate ${name}?`,
              `${name} is the active provider. Without an active provider mailgate sends no email: SendEmail fails with MG-NO-PROVIDER.`,
              "Deactivate",
            );
            if (yes) await act(`${name} deactivated.`, () => admin.deactivateEmailProvider({ id: provider.id }));
          },
        }, "Deactivate"),
      );
    } else {
      actions.push(
        h("button", {
          type: "button",
          onclick: async () => {
            const current = all.find(isActive);
            const text = current
              ? `${providerName(current)} is the active provider now; it stops being active and ${name} sends every email from now on.`
              : `No provider is active now; ${name} sends every email from now on.`;
            const yes = await confirmAction(`Activate ${name}?`, text, "Activate");
            if (yes) await act(`${name} activated.`, () => admin.activateEmailProvider({ id: provider.id }));
          },
        }, "Activate"),
      );
    }
    actions.push(
      h("button", {
        type: "button",
        class: "danger",
        onclick: async () => {
          const warning = active ? " It is the active provider: mailgate sends no email until another is activated." : "";
          const yes = await confirmAction(`Remove ${name}?`, `Its settings and secrets are deleted; this cannot be undone.${warning}`, "Remove");
          if (yes) await act(`${name} removed.`, () => admin.removeEmailProvider({ id: provider.id }));
        },
      }, "Remove"),
    );
  }
  return h(
    "tr",
    { "data-provider": provider.id },
    h("th", { scope: "row" }, name, h("div", { class: "sub" }, provider.id)),
    h("td", {}, h("span", { class: `badge ${active ? "good" : ""}` }, active ? "active" : "inactive")),
    h("td", {}, smtp ? "SMTP" : "HTTP"),
    h("td", { class: "host" }, smtp ? `${smtp.host}${smtp.tls ? " (TLS)" : ""}` : (http?.endpoint ?? "")),
    h("td", {}, authKind(provider)),
    h("td", {}, smtp ? `${smtp.senderName} <${smtp.senderAddress}>` : "—"),
    h("td", { "data-testid": "last-test" }, test ? h("span", { class: `badge ${test.ok ? "good" : "bad"}`, title: test.at }, test.text) : "not tested"),
    h("td", { class: "row-actions" }, ...actions),
  );
}

export const providersView: View = {
  title: "Providers",
  async render(main: HTMLElement, session: Session): Promise<void> {
    const writer = canWrite(session);
    const status = h("div", { "aria-live": "polite" });
    const body = h("div", { class: "table-wrap" }, h("p", {}, "Loading providers…"));
    const refresh = (): void => void draw();
    const toolbar = writer
      ? h(
          "div",
          { class: "toolbar" },
          h("button", { type: "button", onclick: () => void smtpForm(undefined, refresh) }, "Add SMTP provider"),
          h("button", { type: "button", onclick: () => httpForm(undefined, refresh) }, "Add HTTP provider"),
        )
      : null;
    clear(main, h("h1", {}, "Providers"), toolbar, status, body);

    async function draw(): Promise<void> {
      let all: EmailProvider[];
      try {
        all = await listProviders();
      } catch (error) {
        clear(body, problemBox(error as Problem));
        return;
      }
      if (all.length === 0) {
        clear(body, h("p", { class: "empty" }, writer ? "No providers yet: add one." : "No providers yet."));
        return;
      }
      clear(
        body,
        labelCells(h(
          "table",
          { class: "providers" },
          h("caption", { class: "visually-hidden" }, "Email providers"),
          h("thead", {}, h("tr", {}, ...["Provider", "State", "Kind", "Host", "Auth", "Sender", "Last test", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, ...all.map((p) => row(p, all, writer, refresh, status))),
        )),
      );
    }
    await draw();
  },
};
