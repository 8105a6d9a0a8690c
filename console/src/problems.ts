// A failed call shown where it happened: the server's message and error id, and each field's problem.
import { type Problem } from "./api";
import { clear, fieldError, h } from "./dom";

export function problemBox(problem: Problem): HTMLElement {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, problem.message),
    problem.id ? h("p", { class: "error-id" }, "Error id: ", h("code", {}, problem.id)) : null,
    problem.violations.length
      ? h("ul", {}, ...problem.violations.map((v) => h("li", {}, h("code", {}, v.field), ": ", v.description)))
      : null,
  );
}

export function showProblem(where: HTMLElement, problem: Problem): void {
  clear(where, problemBox(problem));
}

// Field violations next to their inputs: `controls` by proto field name ("sender_address").
export function markFields(problem: Problem, controls: Record<string, HTMLElement>): void {
  for (const violation of problem.violations) {
    const name = violation.field.split(".").pop() ?? violation.field;
    const control = controls[violation.field] ?? controls[name];
    if (control) fieldError(control, violation.description);
  }
}
