// Who is signed in: the token's instance and permissions, from GetConsoleSession.
export interface Session {
  instanceId: string;
  tokenId: string;
  permissions: string[];
}

export function canWrite(session: Session): boolean {
  return session.permissions.includes("iam.write");
}
