// A test's or an attempt's stages as a timeline: time, reply, the failing stage marked, a hint,
// and the redacted transcript to copy.
import { SmtpTestStage as Stage, type SmtpTestStep, SmtpTlsMode } from "./gen/mailgate/v1/smtp_test_report_pb";
import { h } from "./dom";
import { hint, type Outcome } from "./hints";

export const STAGE_LABELS: Record<number, string> = {
  [Stage.UNSPECIFIED]: "unknown",
  [Stage.RESOLVE]: "Resolve",
  [Stage.POLICY]: "Address policy",
  [Stage.CONNECT]: "Connect",
  [Stage.TLS]: "TLS",
  [Stage.GREETING]: "Greeting",
  [Stage.EHLO]: "EHLO",
  [Stage.STARTTLS]: "STARTTLS",
  [Stage.AUTH]: "AUTH",
  [Stage.MAIL_FROM]: "MAIL FROM",
  [Stage.RCPT_TO]: "RCPT TO",
  [Stage.DATA]: "DATA",
  [Stage.QUIT]: "QUIT",
  [Stage.DEADLINE]: "Deadline",
  [Stage.DONE]: "Done",
};

export interface Run extends Outcome {
  steps: SmtpTestStep[];
  transcript: string[];
  elapsedMs: number;
  address: string;
  tlsMode: SmtpTlsMode;
  authMechanism: string;
}

interface Row {
  stage: Stage;
  startedMs: number;
  durationMs: number;
  reply: string;
  failed: boolean;
}

// "535 5.7.8 text": the enhanced code once, whether or not the server's text repeats it.
export function replyLine(code: number, enhanced: string, text: string): string {
  const parts = [code ? String(code) : "", enhanced && !text.startsWith(enhanced) ? enhanced : "", text];
  return parts.filter(Boolean).join(" ").replace(/\s+/g, " ").trim();
}

function rows(run: Run): Row[] {
  const found: Row[] = run.steps.map((step) => ({
    stage: step.stage,
    startedMs: step.startedMs,
    durationMs: step.durationMs,
    reply: step.replyCode ? replyLine(step.replyCode, step.enhancedStatusCode, step.replyText) : "",
    failed: false,
  }));
  if (run.stage === Stage.DONE) return found;
  const last = found[found.length - 1];
  if (last && (last.stage === run.stage || run.stage === Stage.DEADLINE)) {
    last.failed = true;
    if (!last.reply) last.reply = run.detail;
  }
  if (!last || last.stage !== run.stage) {
    found.push({ stage: run.stage, startedMs: run.elapsedMs, durationMs: 0, reply: run.detail, failed: true });
  }
  return found;
}

// What the transcript says about a stage: the extensions EHLO offered, TLS's version.
function extras(stage: Stage, transcript: string[]): string[] {
  if (stage === Stage.EHLO) {
    const offered = transcript
      .filter((line) => /^S: 250[- ]/.test(line))
      .map((line) => line.slice(7).trim())
      .filter((word) => /^[A-Z0-9-]+( |$)/.test(word) && !/^(OK|Ok)\b/.test(word));
    return offered.length ? [`offered: ${[...new Set(offered)].join(", ")}`] : [];
  }
  if (stage === Stage.TLS || stage === Stage.STARTTLS) {
    return transcript.filter((line) => line.startsWith("* TLS") || line.includes("certificate")).map((line) => line.slice(2));
  }
  return [];
}

const TLS_MODES: Record<number, string> = {
  [SmtpTlsMode.NONE]: "none (plaintext)",
  [SmtpTlsMode.IMPLICIT]: "implicit TLS",
  [SmtpTlsMode.STARTTLS]: "STARTTLS",
};

export function timeline(run: Run): HTMLElement {
  const ok = run.stage === Stage.DONE;
  const failedAt = STAGE_LABELS[run.stage] ?? String(run.stage);
  const reply = replyLine(run.replyCode, run.enhancedStatusCode, run.replyText);
  const advice = ok ? "" : hint(run);
  const summary = ok
    ? `Accepted in ${run.elapsedMs} ms`
    : `Failed at ${failedAt}${reply ? `: ${reply}` : run.detail ? `: ${run.detail}` : ""}`;
  const list = h(
    "ol",
    { class: "timeline", "aria-label": "Stages" },
    ...rows(run).map((row) =>
      h(
        "li",
        { class: row.failed ? "failed" : "passed", "data-stage": Stage[row.stage] },
        h("span", { class: "stage" }, STAGE_LABELS[row.stage] ?? String(row.stage)),
        h("span", { class: "time" }, `+${row.startedMs} ms`, h("span", { class: "duration" }, ` (${row.durationMs} ms)`)),
        row.failed ? h("span", { class: "badge bad" }, "failed") : null,
        row.reply ? h("span", { class: "reply" }, row.reply) : null,
        ...extras(row.stage, run.transcript).map((text) => h("span", { class: "extra" }, text)),
      ),
    ),
  );
  const facts = [
    run.host ? `server ${run.host}` : "",
    run.address ? `address ${run.address}` : "",
    TLS_MODES[run.tlsMode] ? `TLS ${TLS_MODES[run.tlsMode]}` : "",
    run.authMechanism ? `AUTH ${run.authMechanism}` : "",
  ].filter(Boolean);
  const transcript = run.transcript.join("\n");
  const pre = h("pre", { class: "transcript", tabindex: 0 }, transcript);
  const copied = h("span", { class: "hint", "aria-live": "polite" });
  const copy = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(transcript);
          copied.textContent = "Copied.";
        } catch {
          getSelection()?.selectAllChildren(pre);
          copied.textContent = "Selected: press Ctrl+C to copy.";
        }
      },
    },
    "Copy transcript",
  );
  return h(
    "section",
    { class: `result ${ok ? "ok" : "bad"}`, "data-testid": "timeline" },
    h("p", { class: "summary", role: "status" }, summary),
    advice ? h("p", { class: "advice", "data-testid": "hint" }, advice) : null,
    facts.length ? h("p", { class: "facts" }, facts.join(" · ")) : null,
    list,
    run.transcript.length
      ? h("details", {}, h("summary", {}, "Transcript (redacted)"), pre, h("div", { class: "actions" }, copy, copied))
      : null,
  );
}
