// The console: sign-in, then the views, switched by the location hash.
import { Code } from "@connectrpc/connect";
import { call, consoleApi, onCallOutcome, type Problem, tokenStore } from "./api";
import { byId, clear, field, h } from "./dom";
import { showProblem } from "./problems";
import { type Session } from "./session";
import { fallbacksView } from "./views/fallbacks";
import { historyView } from "./views/history";
import { messagesView } from "./views/messages";
import { providersView } from "./views/providers";

export interface View {
  title: string;
  render(main: HTMLElement, session: Session): Promise<void> | void;
  stop?(): void;
}

const VIEWS: Record<string, View> = {
  providers: providersView,
  messages: messagesView,
  fallbacks: fallbacksView,
  history: historyView,
};

let current: View | null = null;
let session: Session | null = null;

function banner(problem: Problem | null): void {
  const element = byId("banner");
  if (problem?.offline) {
    element.textContent = "mailgate cannot be reached. Nothing was lost: your input is kept; try again when it is back.";
    element.hidden = false;
  } else {
    element.hidden = true;
  }
}

onCallOutcome((problem) => {
  banner(problem);
  if (problem && problem.code === Code.Unauthenticated && session !== null) {
    signOut(`Signed out: ${problem.message}`);
  }
});

function signOut(reason: string): void {
  current?.stop?.();
  current = null;
  session = null;
  tokenStore.clear();
  showSignIn(reason);
}

function showSignIn(reason = ""): void {
  byId("top").hidden = true;
  const main = byId("main");
  const token = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const result = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "signin", novalidate: true },
    h("h1", {}, "mailgate console"),
    reason ? h("p", { class: "notice", role: "status" }, reason) : null,
    field("Token", token, "A mailgate token (mailgate token create). Kept in this tab only, until you sign out or close it."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in")),
    result,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (!value) {
      clear(result, h("p", { class: "error", role: "alert" }, "Paste a token first."));
      return;
    }
    tokenStore.set(value);
    void start(result);
  });
  clear(main, form);
  token.focus();
}

async function start(result: HTMLElement | null): Promise<void> {
  try {
    const answer = await call(consoleApi.getConsoleSession({}));
    session = { instanceId: answer.instanceId, tokenId: answer.tokenId, permissions: answer.permissions };
  } catch (error) {
    const problem = error as Problem;
    if (problem.offline && result === null) {
      // Opened with a stored token while the server is down: keep the token, offer sign-in again.
      showSignIn();
      return;
    }
    tokenStore.clear();
    if (result === null) {
      showSignIn(problem.message);
    } else {
      showProblem(result, problem);
    }
    return;
  }
  showShell(session);
  route();
}

function showShell(who: Session): void {
  const top = byId("top");
  const nav = h(
    "nav",
    { "aria-label": "Views" },
    ...Object.entries(VIEWS).map(([key, view]) => h("a", { href: `#/${key}`, "data-view": key }, view.title)),
  );
  const readOnly = !who.permissions.includes("iam.write");
  clear(
    top,
    h("span", { class: "brand" }, "mailgate"),
    nav,
    h(
      "div",
      { class: "who", "data-testid": "session" },
      h("span", {}, "Instance ", h("strong", { "data-testid": "instance" }, who.instanceId)),
      h("span", { "data-testid": "permissions" }, who.permissions.join(", ")),
      readOnly ? h("span", { class: "badge" }, "read-only") : null,
      h("button", { type: "button", onclick: () => signOut("Signed out.") }, "Sign out"),
    ),
  );
  top.hidden = false;
}

function route(): void {
  if (session === null) return;
  const key = location.hash.replace(/^#\/?/, "").split("?")[0] || "providers";
  const view = VIEWS[key] ?? providersView;
  current?.stop?.();
  current = view;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (link.dataset.view === key) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const main = byId("main");
  clear(main);
  document.title = `${view.title} · mailgate console`;
  void view.render(main, session);
}

window.addEventListener("hashchange", route);

if (tokenStore.get()) {
  void start(null);
} else {
  showSignIn();
}
