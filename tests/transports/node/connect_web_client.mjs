// Drives mailgate's grpc-web endpoint with @connectrpc/connect-web, a client nobody here wrote.
// Messages and the service come from a FileDescriptorSet at run time (no generated code).
// Usage: node connect_web_client.mjs <descriptor-set.binpb> <base-url> <token>
// Prints one JSON object with what each call returned, for the Python test to check.
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

const [descriptorPath, baseUrl, token] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorPath)));
const service = registry.getService("zitadel.admin.v1.AdminService");
const errorDetail = registry.getMessage("zitadel.v1.ErrorDetail");
const client = createClient(service, createGrpcWebTransport({ baseUrl, useBinaryFormat: true }));
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
    };
  }
}

const add = rpc("AddEmailProviderSMTP");
const added = await add.call(
  { senderAddress: "web@example.com", senderName: "Web", host: "smtp.example.com:587", tls: true },
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
    invalid: await failure(get.call({ id: "" }, auth)),
    unauthenticated: await failure(get.call({ id: added.id })),
  }),
);
