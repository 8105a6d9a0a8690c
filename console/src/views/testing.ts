// Test emails: a stored provider from the table, or the form's unsaved settings; drawn as a timeline.
import { call, consoleApi, type Problem } from "../api";
import { clear, field, fieldError, h, modal } from "../dom";
import { type SmtpTestReport } from "../gen/mailgate/v1/smtp_test_report_pb";
import { type EmailProvider } from "../gen/zitadel/settings_pb";
import { problemBox } from "../problems";
import { timeline } from "../timeline";
import { EMAIL, providerName, rememberTest, reportRun } from "./common";

const RECEIVER_KEY = "mailgate.console.receiver";

export function receiverInput(): HTMLInputElement {
  const input = h("input", { type: "email", name: "receiver_address", maxlength: 200, autocomplete: "email" });
  input.value = sessionStorage.getItem(RECEIVER_KEY) ?? "";
  return input;
}

export function receiverProblem(input: HTMLInputElement): string {
  const value = input.value.trim();
  if (!value) return "Required: the address the test email goes to.";
  if (value.length > 200 || !EMAIL.test(value)) return "Enter an email address, for example you@example.com.";
  sessionStorage.setItem(RECEIVER_KEY, value);
  return "";
}

// Waits for a test, then shows its timeline (passed or failed) or the error; the report, if any.
export async function showTest(
  result: HTMLElement,
  pending: Promise<{ report?: SmtpTestReport }>,
  providerId: string,
): Promise<SmtpTestReport | undefined> {
  clear(result, h("p", { class: "pending", role: "status" }, "Sending the test email…"));
  let report: SmtpTestReport | undefined;
  try {
    report = (await call(pending)).report;
  } catch (error) {
    const problem = error as Problem;
    report = problem.report;
    if (!report) {
      clear(result, problemBox(problem));
      return undefined;
    }
    clear(result, problemBox(problem), timeline(reportRun(report)));
    if (providerId) rememberTest(providerId, report);
    return report;
  }
  if (report) {
    clear(result, timeline(reportRun(report)));
    if (providerId) rememberTest(providerId, report);
  }
  return report;
}

export function testStoredDialog(provider: EmailProvider, onDone: () => void): void {
  const sender = provider.config.case === "smtp" ? provider.config.value.senderAddress : "";
  const receiver = receiverInput();
  const result = h("div", { class: "test-result", "aria-live": "polite" });
  const send = h("button", { type: "submit" }, "Send test email");
  const form = h(
    "form",
    { novalidate: true },
    h("p", {}, "From ", h("strong", {}, sender || "(no sender)"), " through ", h("strong", {}, provider.config.case === "smtp" ? provider.config.value.host : "")),
    field("To", receiver),
    h("div", { class: "actions" }, send, h("button", { type: "button", onclick: () => dialog.close() }, "Close")),
    result,
  );
  const dialog = modal(`Test ${providerName(provider)}`, form);
  dialog.addEventListener("close", onDone);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = receiverProblem(receiver);
    fieldError(receiver, problem);
    if (problem) return;
    send.disabled = true;
    await showTest(result, consoleApi.testSmtpProvider({ id: provider.id, receiverAddress: receiver.value.trim() }), provider.id);
    send.disabled = false;
  });
  receiver.focus();
}
