// Plain-language hints for the failures people meet most, from the stage, reply and detail.
import { SmtpTestStage as Stage } from "./gen/mailgate/v1/smtp_test_report_pb";

export interface Outcome {
  stage: Stage;
  replyCode: number;
  enhancedStatusCode: string;
  replyText: string;
  detail: string;
  host: string; // host:port as configured, when known
}

function port(host: string): number {
  const match = /:(\d+)$/.exec(host);
  return match ? Number(match[1]) : 0;
}

export function hint(outcome: Outcome): string {
  const { stage, replyCode, enhancedStatusCode: enhanced, detail } = outcome;
  const text = `${outcome.replyText} ${detail}`.toLowerCase();
  const onPort = port(outcome.host);
  if (enhanced === "5.7.139") return "535 5.7.139: SMTP AUTH is disabled for this tenant, use OAuth (XOAUTH2) or enable SMTP AUTH for the mailbox.";
  switch (stage) {
    case Stage.RESOLVE:
      return "The host name does not resolve: check its spelling, and that it is a name this server's DNS knows.";
    case Stage.POLICY:
      return "mailgate's outbound-address policy refused this address; an operator can allow it with MAILGATE_OUTBOUND_ALLOW.";
    case Stage.CONNECT:
      if (text.includes("refused")) return `Nothing accepts connections on port ${onPort || "?"}: check the port (587 for STARTTLS, 465 for implicit TLS) and any firewall.`;
      return "The connection could not be opened: check the host, the port and the firewall between mailgate and the server.";
    case Stage.TLS:
      if (text.includes("certificate")) return "The server's certificate is not valid for this host name, or is not trusted.";
      return "The TLS handshake failed: the server may not speak TLS from the first byte on this port (port 587 usually wants STARTTLS, 465 implicit TLS).";
    case Stage.STARTTLS:
      return "TLS is on, but the server offers no STARTTLS or refused it: use the provider's TLS port, or turn TLS off only for a trusted local relay.";
    case Stage.GREETING:
      if (onPort === 465) return "Port 465 needs implicit TLS: turn TLS on.";
      return "The server sent no greeting: it may expect TLS from the first byte (port 465 needs implicit TLS), or it is not an SMTP server.";
    case Stage.EHLO:
      return "The server refused EHLO: it may not accept mail from this client.";
    case Stage.AUTH:
      if (replyCode === 535 || text.includes("not accepted") || text.includes("credentials")) return "The server refused the user name or password (or token): check both, and whether the provider wants an API key or app password instead.";
      if (text.includes("token")) return "The access token could not be fetched: check the token endpoint, client id, client secret and scopes.";
      if (text.includes("not offer") || text.includes("no auth") || text.includes("not supported")) return "The server offers no AUTH here: it may only allow it after TLS, or need none.";
      return "Authentication failed: check the user name and the secret.";
    case Stage.MAIL_FROM:
      return "The server does not let this account send as the sender address: use an address or domain verified with the provider.";
    case Stage.RCPT_TO:
      return "The server refused the recipient: check the address you sent the test to.";
    case Stage.DATA:
      return "The server refused the message content: check the sender domain's verification with the provider.";
    case Stage.DEADLINE:
      return "The test ran out of time: a firewall may be dropping the connection, or the server is very slow.";
    default:
      return "";
  }
}
