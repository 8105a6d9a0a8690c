// Drives mailgate's Connect endpoint with @connectrpc/connect's Connect transport (connect-web's
// createConnectTransport, on Node's fetch), a client nobody here wrote.
// Messages and the service come from a FileDescriptorSet at run time (no generated code).
// Usage: node connect_client.mjs <descriptor-set.binpb> <base-url> <token> <json|binary>
// Prints one JSON object with what each call returned, for the Python test to check.
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

const [descriptorPath, baseUrl, token, format] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorPath)));
const service = registry.getService("zitadel.admin.v1.AdminService");
const errorDetail = registry.getMessage("zitadel.v1.ErrorDetail");
const badRequest = registry.getMessage("google.rpc.BadRequest");
const transport = createConnectTransport({ baseUrl, useBinaryFormat: format === "binary" });
const client = createClient(service, transport);
const auth = { headers: { authorization: `Bearer ${token}` } };

function rpc(name) {
  const method = service.methods.find((m) => m.name === name);
  return { call: client[method.localName].bind(client), output: method.output };
}

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    const error = ConnectError.from(err);
    return {
      code: error.code,
      codeName: Code[error.code],
      message: error.rawMessage,
      details: error.findDetails(errorDetail).map((d) => toJson(errorDetail, d)),
      fieldViolations: error
        .findDetails(badRequest)
        .flatMap((d) => d.fieldViolations.map((v) => v.field)),
    };
  }
}

const add = rpc("AddEmailProviderSMTP");
const added = await add.call(
  { senderAddress: "connect@example.com", senderName: "Connect", host: "smtp.example.com:587", tls: true },
  auth,
);
const get = rpc("GetEmailProviderById");
const got = await get.call({ id: added.id }, { ...auth, timeoutMs: 5000 });
const list = rpc("ListEmailProviders");
const listed = await list.call({ query: { limit: 10 } }, auth);

console.log(
  JSON.stringify({
    addedId: added.id,
    got: toJson(get.output, got),
    listedIds: listed.result.map((p) => p.id),
    totalResult: listed.details.totalResult.toString(),
    notFound: await failure(get.call({ id: "123456789012345678" }, auth)),
    invalid: await failure(add.call({ senderAddress: "", senderName: "", host: "" }, auth)),
    unauthenticated: await failure(get.call({ id: added.id })),
  }),
);
