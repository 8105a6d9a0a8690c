// The API over grpc-web, same origin, with the session's token; errors as Problems.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { BadRequestSchema, RequestInfoSchema } from "./gen/google/rpc/error_details_pb";
import { ConsoleService } from "./gen/mailgate/v1/console_pb";
import { DeliveryService } from "./gen/mailgate/v1/delivery_pb";
import { HistoryService } from "./gen/mailgate/v1/history_pb";
import { type SmtpTestReport, SmtpTestReportSchema } from "./gen/mailgate/v1/smtp_test_report_pb";
import { AdminService } from "./gen/zitadel/admin_pb";
import { ErrorDetailSchema } from "./gen/zitadel/message_pb";

const TOKEN_KEY = "mailgate.console.token";

export const tokenStore = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

const withToken: Interceptor = (next) => async (request) => {
  const token = tokenStore.get();
  if (token) request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};

const transport = createGrpcWebTransport({
  baseUrl: location.origin,
  useBinaryFormat: true,
  interceptors: [withToken],
  defaultTimeoutMs: 60_000,
});

export const admin = createClient(AdminService, transport);
export const delivery = createClient(DeliveryService, transport);
export const consoleApi = createClient(ConsoleService, transport);
export const historyApi = createClient(HistoryService, transport);

export interface Violation {
  field: string;
  description: string;
}

// What went wrong with a call, as the server said it.
export class Problem extends Error {
  constructor(
    message: string,
    readonly code: Code,
    readonly id: string,
    readonly violations: Violation[],
    readonly report: SmtpTestReport | undefined,
    readonly offline: boolean,
  ) {
    super(message);
  }
}

export function problem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  const failure = ConnectError.from(error);
  const detail = failure.findDetails(ErrorDetailSchema)[0];
  const request = failure.findDetails(RequestInfoSchema)[0];
  const violations = failure
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
  const report = failure.findDetails(SmtpTestReportSchema)[0];
  // No answer at all (fetch failed), or a proxy's 502/503 without a status of mailgate's.
  const offline =
    failure.cause instanceof TypeError ||
    (failure.code === Code.Unavailable && detail === undefined && failure.details.length === 0);
  const id = detail?.id ?? (request ? `request ${request.requestId}` : "");
  const message = offline ? "mailgate cannot be reached" : failure.rawMessage;
  return new Problem(message, failure.code, id, violations, report, offline);
}

type Listener = (problem: Problem | null) => void;
const listeners: Listener[] = [];

// Told about every call's outcome: the banner (server down) and sign-out (token no longer valid).
export function onCallOutcome(listener: Listener): void {
  listeners.push(listener);
}

export async function call<T>(pending: Promise<T>): Promise<T> {
  try {
    const answer = await pending;
    for (const listener of listeners) listener(null);
    return answer;
  } catch (error) {
    const found = problem(error);
    for (const listener of listeners) listener(found);
    throw found;
  }
}
