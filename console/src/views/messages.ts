// The outbox: messages filtered by state, refreshed while open; a message's attempts as timelines;
// cancel and retry.
import { call, delivery, type Problem } from "../api";
import { clear, confirmAction, h, labelCells, modal } from "../dom";
import { type DeliveryAttempt, type Message, MessageState, ReplyClass } from "../gen/mailgate/v1/delivery_pb";
import { SmtpTlsMode } from "../gen/mailgate/v1/smtp_test_report_pb";
import type { View } from "../main";
import { problemBox } from "../problems";
import { canWrite, type Session } from "../session";
import { timeline } from "../timeline";
import { providerName, when } from "./common";
import { listProviders } from "./providers";

const STATES: [MessageState, string][] = [
  [MessageState.QUEUED, "queued"],
  [MessageState.SENDING, "sending"],
  [MessageState.DEFERRED, "deferred"],
  [MessageState.SENT, "sent"],
  [MessageState.FAILED, "failed"],
  [MessageState.EXPIRED, "expired"],
  [MessageState.CANCELED, "canceled"],
];
const STATE_NAMES = new Map(STATES);
const CLASSES: Record<number, string> = {
  [ReplyClass.DELIVERED]: "delivered",
  [ReplyClass.PERMANENT]: "refused for good",
  [ReplyClass.PROVIDER_FAULT]: "provider fault",
  [ReplyClass.TRANSIENT]: "transient",
};
const REFRESH_MS = 2000;
const PAGE_SIZE = 50;
let timer: number | undefined;
// Provider names by id, for the table and the attempts (ids alone when the list cannot be read).
const names = new Map<string, string>();

function provider(id: string): string {
  return id ? (names.get(id) ?? id) : "—";
}

function stateBadge(state: MessageState): HTMLElement {
  const name = STATE_NAMES.get(state) ?? "unknown";
  const tone = state === MessageState.SENT ? "good" : state === MessageState.FAILED || state === MessageState.EXPIRED ? "bad" : "";
  return h("span", { class: `badge ${tone}`, "data-state": name }, name);
}

function attemptView(attempt: DeliveryAttempt): HTMLElement {
  return h(
    "section",
    { class: "attempt" },
    h("h3", {}, `Attempt ${attempt.number}`, " · ", when(attempt.startTime), " · ", provider(attempt.providerId), " · ", CLASSES[attempt.replyClass] ?? ""),
    timeline({
      stage: attempt.stage,
      replyCode: attempt.replyCode,
      enhancedStatusCode: attempt.enhancedStatusCode,
      replyText: attempt.replyText,
      detail: attempt.detail,
      host: "",
      steps: attempt.steps,
      transcript: [],
      elapsedMs: attempt.durationMs,
      address: "",
      tlsMode: SmtpTlsMode.UNSPECIFIED,
      authMechanism: "",
    }),
  );
}

async function openMessage(id: string, writer: boolean, changed: () => void): Promise<void> {
  const body = h("div", { "aria-live": "polite" }, h("p", {}, "Loading…"));
  const dialog = modal(`Message ${id}`, body, h("div", { class: "actions" }, h("button", { type: "button", onclick: () => dialog.close() }, "Close")));
  const draw = async (): Promise<void> => {
    let message: Message | undefined;
    try {
      message = (await call(delivery.getMessage({ id }))).message;
    } catch (error) {
      clear(body, problemBox(error as Problem));
      return;
    }
    if (!message) return;
    const status = h("div", { "aria-live": "polite" });
    const act = async (what: string, work: () => Promise<unknown>): Promise<void> => {
      if (!(await confirmAction(`${what} this message?`, `${what} message ${id} to ${message.to.join(", ")}?`, what))) return;
      try {
        await call(work());
        changed();
        await draw();
      } catch (error) {
        clear(status, problemBox(error as Problem));
      }
    };
    const state = message.state;
    const actions = writer
      ? [
          state === MessageState.QUEUED || state === MessageState.DEFERRED
            ? h("button", { type: "button", class: "danger", onclick: () => void act("Cancel", () => delivery.cancelMessage({ id })) }, "Cancel message")
            : null,
          state === MessageState.FAILED || state === MessageState.EXPIRED
            ? h("button", { type: "button", onclick: () => void act("Retry", () => delivery.retryMessage({ id })) }, "Retry message")
            : null,
        ]
      : [];
    clear(
      body,
      h(
        "dl",
        { class: "facts-list" },
        h("dt", {}, "State"), h("dd", {}, stateBadge(state)),
        h("dt", {}, "To"), h("dd", {}, message.to.join(", ")),
        h("dt", {}, "Subject"), h("dd", {}, message.subject),
        h("dt", {}, "Category"), h("dd", {}, message.category || "—"),
        h("dt", {}, "Message-ID"), h("dd", {}, message.internetMessageId),
        h("dt", {}, "Created"), h("dd", {}, when(message.createTime)),
        h("dt", {}, "Attempts"), h("dd", {}, `${message.attemptCount} of ${message.maxAttempts}`),
        message.nextAttemptTime ? h("dt", {}, "Next attempt") : null,
        message.nextAttemptTime ? h("dd", {}, when(message.nextAttemptTime)) : null,
      ),
      h("div", { class: "actions" }, ...actions),
      status,
      ...(message.attempts.length ? message.attempts.map(attemptView) : [h("p", {}, "No attempts yet.")]),
    );
  };
  await draw();
  // Attempts keep coming while the dialog is open (a retry's new series, a deferred message's next).
  const refresh = window.setInterval(() => {
    if (dialog.open && document.querySelectorAll("dialog[open]").length === 1) void draw();
  }, REFRESH_MS);
  dialog.addEventListener("close", () => window.clearInterval(refresh));
}

export const messagesView: View = {
  title: "Messages",
  render(main: HTMLElement, session: Session): void {
    const writer = canWrite(session);
    const chosen = new Set<MessageState>();
    const filters = h(
      "fieldset",
      { class: "filters" },
      h("legend", {}, "States"),
      ...STATES.map(([state, name]) => {
        const box = h("input", { type: "checkbox", name: "state", value: name });
        box.addEventListener("change", () => {
          pages = 1;
          if (box.checked) chosen.add(state);
          else chosen.delete(state);
          void draw();
        });
        return h("label", { class: "check" }, box, ` ${name}`);
      }),
    );
    const recipient = h("input", { type: "search", name: "recipient", maxlength: 254, placeholder: "recipient" });
    recipient.addEventListener("change", () => {
      pages = 1;
      void draw();
    });
    const updated = h("span", { class: "hint", "aria-live": "off" });
    const body = h("div", { class: "table-wrap" });
    // Pages beyond the first stay shown until the filters change (the refresh redraws the first).
    let pages = 1;
    const more = h("button", { type: "button", hidden: true, onclick: () => { pages += 1; void draw(); } }, "Older messages");
    clear(
      main,
      h("h1", {}, "Messages"),
      h("div", { class: "toolbar" }, filters, h("label", {}, "Recipient ", recipient), h("button", { type: "button", onclick: () => void draw() }, "Refresh"), updated),
      body,
      h("div", { class: "actions" }, more),
    );

    async function draw(): Promise<void> {
      const messages: Message[] = [];
      try {
        let token = "";
        for (let page = 0; page < pages; page += 1) {
          const answer = await call(
            delivery.listMessages({ pageSize: PAGE_SIZE, pageToken: token, states: [...chosen], recipient: recipient.value.trim() }),
          );
          messages.push(...answer.messages);
          token = answer.nextPageToken;
          if (!token) break;
        }
        more.hidden = token === "";
      } catch (error) {
        clear(body, problemBox(error as Problem));
        return;
      }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (messages.length === 0) {
        clear(body, h("p", { class: "empty" }, "No messages."));
        return;
      }
      clear(
        body,
        labelCells(h(
          "table",
          { class: "messages" },
          h("thead", {}, h("tr", {}, ...["Created", "To", "Subject", "State", "Attempts", "Provider", "Last reply"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            ...messages.map((m) =>
              h(
                "tr",
                { "data-message": m.id },
                h("td", {}, when(m.createTime)),
                h("td", {}, m.to.join(", ")),
                h("th", { scope: "row" }, h("button", { type: "button", class: "link", onclick: () => void openMessage(m.id, writer, () => void draw()) }, m.subject || m.id)),
                h("td", {}, stateBadge(m.state)),
                h("td", {}, `${m.attemptCount}/${m.maxAttempts}`),
                h("td", {}, provider(m.providerId)),
                h("td", {}, m.lastAttempt ? `${m.lastAttempt.replyCode || ""} ${m.lastAttempt.replyText || m.lastAttempt.detail}`.trim() : "—"),
              ),
            ),
          ),
        )),
      );
    }
    void listProviders()
      .then((all) => {
        for (const p of all) names.set(p.id, providerName(p));
      })
      .catch(() => undefined)
      .finally(() => void draw());
    window.clearInterval(timer);
    timer = window.setInterval(() => {
      if (!document.querySelector("dialog[open]")) void draw();
    }, REFRESH_MS);
  },
  stop(): void {
    window.clearInterval(timer);
  },
};
