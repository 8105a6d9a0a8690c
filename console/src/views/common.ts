// Pieces the views share: provider names and kinds, the test results remembered in this tab.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { type SmtpTestReport, SmtpTestStage } from "../gen/mailgate/v1/smtp_test_report_pb";
import { type EmailProvider, EmailProviderState } from "../gen/zitadel/settings_pb";
import { type Run, STAGE_LABELS } from "../timeline";

export function providerName(provider: EmailProvider): string {
  return provider.description || provider.id;
}

export function isActive(provider: EmailProvider): boolean {
  return provider.state === EmailProviderState.EMAIL_PROVIDER_ACTIVE;
}

export function authKind(provider: EmailProvider): string {
  if (provider.config.case !== "smtp") return "signing key";
  const auth = provider.config.value.Auth;
  switch (auth.case) {
    case "none":
      return "none";
    case "plain":
      return "password";
    case "xoauth2":
      return auth.value.OAuth2Type.case === "jwtBearer" ? "XOAUTH2 (JWT bearer)" : "XOAUTH2 (client credentials)";
    default:
      return "unknown";
  }
}

export function when(stamp: Timestamp | undefined): string {
  if (!stamp) return "";
  return timestampDate(stamp).toLocaleString();
}

export function reportRun(report: SmtpTestReport): Run {
  return {
    stage: report.stage,
    replyCode: report.replyCode,
    enhancedStatusCode: report.enhancedStatusCode,
    replyText: report.replyText,
    detail: report.detail,
    host: report.host,
    steps: report.steps,
    transcript: report.transcript,
    elapsedMs: report.elapsedMs,
    address: report.address,
    tlsMode: report.tlsMode,
    authMechanism: report.authMechanism,
  };
}

const TESTS_KEY = "mailgate.console.tests";

export interface LastTest {
  ok: boolean;
  text: string;
  at: string;
}

export function lastTests(): Record<string, LastTest> {
  try {
    return JSON.parse(sessionStorage.getItem(TESTS_KEY) ?? "{}") as Record<string, LastTest>;
  } catch {
    return {};
  }
}

export function rememberTest(providerId: string, report: SmtpTestReport): void {
  const ok = report.stage === SmtpTestStage.DONE;
  const reply = [report.replyCode || "", report.enhancedStatusCode].filter(Boolean).join(" ");
  const text = ok ? "passed" : `failed at ${STAGE_LABELS[report.stage]}${reply ? ` (${reply})` : ""}`;
  const all = lastTests();
  all[providerId] = { ok, text, at: new Date().toLocaleTimeString() };
  sessionStorage.setItem(TESTS_KEY, JSON.stringify(all));
}

// Limits the protos declare, checked before sending.
export function tooLong(value: string, max: number): boolean {
  return value.length > max;
}

export const HOST_PORT = /^.+:([0-9]+)$/;

export function hostProblem(host: string): string {
  if (!host) return "Required: host:port, for example smtp.example.com:587.";
  const match = HOST_PORT.exec(host);
  if (!match) return "Include the port: host:port, for example smtp.example.com:587.";
  const port = Number(match[1]);
  if (port < 1 || port > 65535) return "The port must be between 1 and 65535.";
  if (host.length > 500) return "At most 500 characters.";
  return "";
}

export const EMAIL = /^[^\s@]+@[^\s@]+$/;
