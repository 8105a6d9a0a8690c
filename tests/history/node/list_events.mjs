// ZITADEL's own Node client reading mailgate's history: ListEvents (all, paged by sequence,
// filtered by type), ListEventTypes, ListAggregateTypes, and an unknown type's error.
// Usage: node list_events.mjs <host:port> <token>; prints one line of JSON.
import { createAccessTokenInterceptor, createAdminClient } from "@zitadel/node/dist/api/index.js";

const [target, token] = process.argv.slice(2);
const admin = createAdminClient(target, createAccessTokenInterceptor(token));

const brief = (event) => ({
  sequence: Number(event.sequence),
  type: event.type?.type,
  aggregate: event.aggregate?.type?.type,
  aggregateId: event.aggregate?.id,
  editor: event.editor?.userId,
  editorName: event.editor?.displayName,
  payload: event.payload,
  created: event.creationDate?.toISOString(),
});

const providers = ["instance.smtp.config.added", "instance.smtp.config.activated", "instance.smtp.config.http.added"];
const all = await admin.listEvents({ asc: true });
const firstPage = await admin.listEvents({ asc: true, limit: 2, eventTypes: providers });
const last = firstPage.events[firstPage.events.length - 1];
const secondPage = await admin.listEvents({ asc: true, limit: 2, eventTypes: providers, sequence: last.sequence });
const activated = await admin.listEvents({ eventTypes: ["instance.smtp.config.activated"] });
const types = await admin.listEventTypes({});
const aggregates = await admin.listAggregateTypes({});
let unknown = null;
try {
  await admin.listEvents({ eventTypes: ["instance.smtp.config.unknown"] });
} catch (error) {
  unknown = { code: error.code, details: error.details };
}
console.log(
  JSON.stringify({
    all: all.events.map(brief),
    firstPage: firstPage.events.map(brief),
    secondPage: secondPage.events.map(brief),
    activated: activated.events.map(brief),
    types: types.eventTypes.map((t) => t.type),
    aggregates: aggregates.aggregateTypes.map((a) => a.type),
    unknown,
  }),
);
