// Elements built from data with textContent only: nothing the API returns is parsed as HTML.
export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);
export type Attrs = Record<string, AttrValue>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  append(element, ...children);
}

export function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} missing`);
  return found as T;
}

let counter = 0;
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

// A modal dialog: the browser keeps focus inside it and closes it on Escape.
export function modal(title: string, ...content: Child[]): HTMLDialogElement {
  const heading = uid("dialog-title");
  const dialog = h("dialog", { "aria-labelledby": heading }, h("h2", { id: heading }, title), ...content);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

// A yes/no question; resolves true only when the confirming button was pressed.
export function confirmAction(title: string, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { type: "button", class: "danger", onclick: () => { answer = true; dialog.close(); } }, action);
    const no = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
    const dialog = modal(title, h("p", {}, text), h("div", { class: "actions" }, yes, no));
    dialog.addEventListener("close", () => resolve(answer));
    no.focus();
  });
}

export function field(label: string, control: HTMLElement, hint?: Child): HTMLElement {
  const id = control.id || uid("field");
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, error);
}

export function fieldError(control: HTMLElement, text: string): void {
  const error = document.getElementById(`${control.id}-error`);
  if (error) error.textContent = text;
  if (text) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
}

// Each body cell names its column (data-label), for the stacked layout at phone width.
export function labelCells(table: HTMLTableElement): HTMLTableElement {
  const names = [...(table.tHead?.rows[0]?.cells ?? [])].map((cell) => cell.textContent ?? "");
  for (const body of table.tBodies) {
    for (const row of body.rows) [...row.cells].forEach((cell, index) => (cell.dataset.label = names[index] ?? ""));
  }
  return table;
}
