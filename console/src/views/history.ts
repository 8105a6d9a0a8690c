// The change history: the instance's events (or one provider's), newest first, with who made each
// change and what it set; secrets only as "changed" with their fingerprints.
import { toJson } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import { call, historyApi, type Problem } from "../api";
import { clear, h, labelCells } from "../dom";
import { type HistoryEvent } from "../gen/mailgate/v1/history_pb";
import { type EmailProvider } from "../gen/zitadel/settings_pb";
import type { View } from "../main";
import { problemBox } from "../problems";
import { type Session } from "../session";
import { providerName, when } from "./common";
import { listProviders } from "./providers";

const PAGE = 50;

function shown(value: Value | undefined): string {
  if (value === undefined) return "—";
  return JSON.stringify(toJson(ValueSchema, value));
}

function actor(event: HistoryEvent): string {
  const who = event.actor;
  if (!who) return "";
  const token = who.tokenId ? `token ${who.tokenId}${who.tokenDescription ? ` (${who.tokenDescription})` : ""}` : "mailgate";
  return [token, who.transport].filter(Boolean).join(" · ");
}

function changes(event: HistoryEvent): HTMLElement {
  return h(
    "ul",
    { class: "changes" },
    ...event.changes.map((change) => h("li", {}, h("code", {}, change.field), ": ", shown(change.oldValue), " → ", shown(change.newValue))),
    ...event.secrets.map((secret) => h("li", {}, h("code", {}, secret.field), ": changed ", h("span", { class: "sub" }, secret.fingerprint))),
    event.secretChanged && event.secrets.length === 0 ? h("li", {}, "a secret changed") : null,
  );
}

export function providerFromHash(): string {
  const query = location.hash.split("?")[1] ?? "";
  return new URLSearchParams(query).get("provider") ?? "";
}

export const historyView: View = {
  title: "History",
  async render(main: HTMLElement, _session: Session): Promise<void> {
    let providers: EmailProvider[] = [];
    const body = h("div", { class: "table-wrap" }, h("p", {}, "Loading history…"));
    const pick = h("select", { name: "provider" }, h("option", { value: "" }, "Every provider and change"));
    const more = h("button", { type: "button", hidden: true }, "Older events");
    clear(main, h("h1", {}, "History"), h("div", { class: "toolbar" }, h("label", {}, "Show ", pick)), body, h("div", { class: "actions" }, more));
    try {
      providers = await listProviders();
    } catch {
      // The filter lists ids only; the history below says what went wrong, if anything.
    }
    const names = new Map(providers.map((p) => [p.id, providerName(p)]));
    for (const p of providers) pick.append(h("option", { value: p.id }, providerName(p)));
    pick.value = providerFromHash();
    let token = "";
    let rows: HTMLElement[] = [];

    const draw = async (reset: boolean): Promise<void> => {
      if (reset) {
        token = "";
        rows = [];
      }
      let events: HistoryEvent[];
      try {
        const page = await call(historyApi.listHistory({ pageSize: PAGE, pageToken: token, providerId: pick.value }));
        events = page.events;
        token = page.nextPageToken;
      } catch (error) {
        clear(body, problemBox(error as Problem));
        return;
      }
      rows.push(
        ...events.map((event) =>
          h(
            "tr",
            { "data-sequence": String(event.sequence) },
            h("td", {}, when(event.createTime)),
            h("th", { scope: "row" }, event.type),
            h("td", {}, event.providerId ? (names.get(event.providerId) ?? event.providerId) : "—"),
            h("td", {}, actor(event)),
            h("td", {}, changes(event)),
          ),
        ),
      );
      more.hidden = token === "";
      if (rows.length === 0) {
        clear(body, h("p", { class: "empty" }, "No changes recorded."));
        return;
      }
      clear(
        body,
        labelCells(
          h(
            "table",
            { class: "history" },
            h("thead", {}, h("tr", {}, ...["When", "Event", "Provider", "By", "Changes"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, ...rows),
          ),
        ),
      );
    };
    pick.addEventListener("change", () => {
      history.replaceState(null, "", pick.value ? `#/history?provider=${encodeURIComponent(pick.value)}` : "#/history");
      void draw(true);
    });
    more.addEventListener("click", () => void draw(false));
    await draw(true);
  },
};
