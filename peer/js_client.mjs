// Peer conformance: Esri's @esri/arcgis-rest-request (unpatched) against an ArcGIS.
//
// Started by peer/run.py, which passes where everything is in PEER_* environment variables
// (the password too, so it never shows in a process list) and trusts the test CA through
// NODE_EXTRA_CA_CERTS. Prints "PASS name (detail)" or "FAIL name: reason" per check.
// Nothing here works around a server's quirks: a failure is the server's (the emulator's).

import {
  ApiKeyManager,
  ApplicationCredentialsManager,
  ArcGISIdentityManager,
  Job,
  request,
} from "@esri/arcgis-rest-request";
import { queryFeatures } from "@esri/arcgis-rest-feature-service";

const env = process.env;
const portal = `${env.PEER_PORTAL}/sharing/rest`;
const online = `${env.PEER_ONLINE}/sharing/rest`;
const layer = `${env.PEER_FEDERATED}/rest/services/Secure/MapServer/0`;
const task = `${env.PEER_FEDERATED}/rest/services/LongJob/GPServer/Run`;
const hostedLayer = `${env.PEER_HOSTED}/rest/services/Hosted/FeatureServer/0`;
const state = {};

async function check(name, needs, fn) {
  if (needs && !(needs in state)) {
    console.log(`FAIL ${name}: not run, needs ${needs}`);
    return;
  }
  try {
    const detail = await fn();
    console.log(`PASS ${name}${detail === undefined ? "" : ` (${detail})`}`);
  } catch (error) {
    const reason = String((error && error.message) || error).replace(/\s+/g, " ");
    console.log(`FAIL ${name}: ${reason.slice(0, 300)}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

await check("portal_signin", null, async () => {
  const session = await ArcGISIdentityManager.signIn({
    username: env.PEER_USER,
    password: env.PEER_PASSWORD,
    portal,
  });
  const me = await session.getUser();
  expect(me.username === env.PEER_USER, `getUser() is ${me.username}`);
  expect(!Number.isNaN(session.tokenExpires.getTime()), "tokenExpires is Invalid Date");
  state.session = session;
  return me.username;
});

await check("federated_query_discovers_federation", "session", async () => {
  const reply = await queryFeatures({ url: layer, where: "1=1", authentication: state.session });
  expect(reply.features.length > 0, "no features");
  return `${reply.features.length} features`;
});

await check("federated_count_and_ids", "session", async () => {
  const auth = state.session;
  const counted = await queryFeatures({ url: layer, returnCountOnly: true, authentication: auth });
  const ids = await queryFeatures({ url: layer, returnIdsOnly: true, authentication: auth });
  expect(Number.isInteger(counted.count), `count reply ${JSON.stringify(counted)}`);
  expect(ids.objectIds.length === counted.count, `ids reply ${JSON.stringify(ids)}`);
  return `count=${counted.count}`;
});

await check("federated_gp_job", "session", async () => {
  const job = await Job.submitJob({
    url: task,
    params: { duration: 2 },
    authentication: state.session,
    pollingRate: 500,
  });
  const output = await job.getResult("Output");
  expect(output && "value" in output, `result ${JSON.stringify(output)}`);
  return "esriJobSucceeded";
});

await check("app_credentials", null, async () => {
  const app = await ApplicationCredentialsManager.fromCredentials({
    clientId: env.PEER_CLIENT_ID,
    clientSecret: env.PEER_CLIENT_SECRET,
    portal,
  });
  const reply = await queryFeatures({ url: layer, returnCountOnly: true, authentication: app });
  return `count=${reply.count}`;
});

await check("standalone_server_signin", null, async () => {
  const server = new ArcGISIdentityManager({
    username: env.PEER_USER,
    password: env.PEER_PASSWORD,
    server: env.PEER_SERVER,
  });
  await server.refreshCredentials();
  expect(!Number.isNaN(server.tokenExpires.getTime()), "tokenExpires is Invalid Date");
  const url = `${env.PEER_SERVER}/rest/services/Secure/MapServer/0/query`;
  const reply = await request(url, { params: { where: "1=1", token: server.token } });
  expect(reply.features.length > 0, "no features");
  return server.tokenExpires.toISOString();
});

await check("online_signin_hosted_query", null, async () => {
  const session = await ArcGISIdentityManager.signIn({
    username: env.PEER_USER,
    password: env.PEER_PASSWORD,
    portal: online,
  });
  const reply = await queryFeatures({
    url: hostedLayer,
    returnCountOnly: true,
    authentication: session,
  });
  return `count=${reply.count}`;
});

await check("api_key_hosted_query", null, async () => {
  const key = ApiKeyManager.fromKey(env.PEER_API_KEY);
  const reply = await queryFeatures({ url: hostedLayer, returnCountOnly: true, authentication: key });
  return `count=${reply.count}`;
});
