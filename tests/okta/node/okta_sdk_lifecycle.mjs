// Okta's Node SDK (@okta/okta-sdk-nodejs) through the Email Servers lifecycle against mailgate.
//
// Usage: node okta_sdk_lifecycle.mjs '<json>' with orgUrl, token, host, port, username, password,
// fromAddress and toAddress. The SDK trusts mailgate's CA through NODE_EXTRA_CA_CERTS (node-fetch
// uses Node's https module). Prints one JSON object: what each step returned, as the SDK parsed it.
import okta from '@okta/okta-sdk-nodejs';

const input = JSON.parse(process.argv[2]);
const client = new okta.Client({ orgUrl: input.orgUrl, token: input.token });
const api = client.emailServerApi;

async function failure(call) {
  try {
    return { succeeded: await call() };
  } catch (error) {
    return { status: error.status, errorCode: error.errorCode };
  }
}

const created = await api.createEmailServer({
  emailServerPost: {
    alias: 'Node SDK',
    host: input.host,
    port: input.port,
    username: input.username,
    password: input.password,
  },
});
const emailServerId = created.id;
const listed = await api.listEmailServers();
const got = await api.getEmailServer({ emailServerId });
const updated = await api.updateEmailServer({
  emailServerId,
  emailServerRequest: { alias: 'Node SDK renamed', enabled: true },
});
const gotUpdated = await api.getEmailServer({ emailServerId });
const tested = await api.testEmailServer({
  emailServerId,
  emailTestAddresses: { fromAddress: input.fromAddress, toAddress: input.toAddress },
});
await api.deleteEmailServer({ emailServerId });
const afterDelete = await failure(() => api.getEmailServer({ emailServerId }));

console.log(JSON.stringify({ created, listed, got, updated, gotUpdated, tested: tested ?? null, afterDelete }));
