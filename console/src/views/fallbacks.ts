// The instance's ordered fallback providers: tried in this order when the active one is unhealthy.
import { call, delivery, type Problem } from "../api";
import { clear, h } from "../dom";
import { type EmailProvider } from "../gen/zitadel/settings_pb";
import type { View } from "../main";
import { problemBox } from "../problems";
import { canWrite, type Session } from "../session";
import { isActive, providerName } from "./common";
import { listProviders } from "./providers";

const MAX = 10;

export const fallbacksView: View = {
  title: "Fallbacks",
  async render(main: HTMLElement, session: Session): Promise<void> {
    const writer = canWrite(session);
    const body = h("div", {});
    const status = h("div", { "aria-live": "polite" });
    clear(main, h("h1", {}, "Fallback order"), h("p", {}, "When the active provider fails, mailgate tries these in order."), status, body);
    let providers: EmailProvider[];
    let order: string[];
    try {
      [providers, order] = await Promise.all([listProviders(), call(delivery.getDeliveryFallbacks({})).then((r) => r.providerIds)]);
    } catch (error) {
      clear(body, problemBox(error as Problem));
      return;
    }
    const names = new Map(providers.map((p) => [p.id, providerName(p)]));
    const draw = (): void => {
      const items = order.map((id, index) =>
        h(
          "li",
          { "data-provider": id },
          h("span", { class: "name" }, names.get(id) ?? id),
          writer
            ? h(
                "span",
                { class: "row-actions" },
                h("button", { type: "button", disabled: index === 0, "aria-label": `Move ${names.get(id) ?? id} up`, onclick: () => { [order[index - 1], order[index]] = [order[index], order[index - 1]]; draw(); } }, "Up"),
                h("button", { type: "button", disabled: index === order.length - 1, "aria-label": `Move ${names.get(id) ?? id} down`, onclick: () => { [order[index + 1], order[index]] = [order[index], order[index + 1]]; draw(); } }, "Down"),
                h("button", { type: "button", "aria-label": `Remove ${names.get(id) ?? id} from the fallbacks`, onclick: () => { order.splice(index, 1); draw(); } }, "Remove"),
              )
            : null,
        ),
      );
      const candidates = providers.filter((p) => !order.includes(p.id) && !isActive(p));
      const pick = h("select", { name: "add" }, ...candidates.map((p) => h("option", { value: p.id }, providerName(p))));
      clear(
        body,
        order.length ? h("ol", { class: "fallbacks" }, ...items) : h("p", { class: "empty" }, "No fallbacks."),
        writer && candidates.length && order.length < MAX
          ? h("div", { class: "toolbar" }, h("label", {}, "Provider ", pick), h("button", { type: "button", onclick: () => { order.push(pick.value); draw(); } }, "Add to fallbacks"))
          : null,
        writer
          ? h("div", { class: "actions" }, h("button", {
              type: "button",
              onclick: async () => {
                try {
                  order = (await call(delivery.setDeliveryFallbacks({ providerIds: order }))).providerIds;
                  clear(status, h("p", { class: "notice", role: "status" }, "Fallback order saved."));
                } catch (error) {
                  clear(status, problemBox(error as Problem));
                }
                draw();
              },
            }, "Save order"))
          : null,
      );
    };
    draw();
  },
};
