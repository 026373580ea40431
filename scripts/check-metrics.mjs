#!/usr/bin/env node
// Checks a Prometheus text exposition (format 0.0.4) and exits non-zero on any problem.
//
//   node scripts/check-metrics.mjs [--expect NAME]... [FILE | URL | -]
//
// The input is a file, stdin (no argument or "-"), or an http(s) URL such as the service's
// http://127.0.0.1:8080/metrics (then the status must be 200 and the Content-Type text/plain,
// version 0.0.4 if one is given). --expect NAME fails unless family NAME has at least one sample.
//
// Two independent checks run: the npm parser parse-prometheus-text-format (installed by
// scripts/setup.sh into tools/node_modules from tools/package-lock.json) must accept the text, and
// a line-by-line check of the format's rules that parser does not enforce, because it is lenient
// (it accepts any metric name and value, and duplicate or scattered families): metric and label
// name syntax, escape sequences, numeric values, one HELP and TYPE per family given before its
// samples, families in one group, no duplicate series, counters not negative, and histograms
// with increasing `le`, cumulative buckets, a +Inf bucket equal to _count, and _sum.
// Where the format allows more spellings than a renderer needs (e.g. "infinity"), this check
// is deliberately stricter.
//
// Exit codes: 0 valid, 1 invalid, 2 usage error or missing tools (run scripts/setup.sh).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const prog = "check-metrics";

function usage(message) {
  if (message) console.error(`${prog}: ${message}`);
  console.error(`usage: node scripts/check-metrics.mjs [--expect NAME]... [FILE | URL | -]`);
  process.exit(2);
}

function loadParser() {
  // The tools live in tools/node_modules (npm ci --prefix tools), not beside this script, so
  // resolve from there explicitly.
  const require = createRequire(new URL("../tools/package.json", import.meta.url));
  try {
    return require("parse-prometheus-text-format");
  } catch (error) {
    console.error(
      `${prog}: cannot load the npm package parse-prometheus-text-format from tools/node_modules ` +
        `(${error.code ?? error.message}); run scripts/setup.sh or 'npm ci --prefix tools'`,
    );
    process.exit(2);
  }
}

async function readInput(source) {
  if (source === "-") return { text: await readStdin(), problems: [] };
  if (/^https?:\/\//.test(source)) {
    let response;
    try {
      response = await fetch(source, { signal: AbortSignal.timeout(10000) });
    } catch (error) {
      return { text: "", problems: [`cannot fetch ${source}: ${error.cause?.message ?? error.message}`] };
    }
    const problems = [];
    // The body of an error page is not an exposition: report the status alone.
    if (response.status !== 200) return { text: "", problems: [`HTTP status ${response.status}, expected 200`] };
    const type = response.headers.get("content-type") ?? "";
    if (!/^text\/plain(\s*;|$)/i.test(type)) {
      problems.push(`Content-Type '${type}' is not text/plain`);
    } else {
      const version = /;\s*version=([^;\s]+)/i.exec(type);
      if (version && version[1] !== "0.0.4") problems.push(`Content-Type version '${version[1]}', expected 0.0.4`);
    }
    return { text: decode(Buffer.from(await response.arrayBuffer()), problems), problems };
  }
  let bytes;
  try {
    bytes = readFileSync(source);
  } catch (error) {
    usage(`cannot read ${source}: ${error.message}`);
  }
  const problems = [];
  return { text: decode(bytes, problems), problems };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const problems = [];
  const text = decode(Buffer.concat(chunks), problems);
  if (problems.length) throw new Error(problems[0]);
  return text;
}

function decode(bytes, problems) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    problems.push("input is not valid UTF-8");
    return "";
  }
}

// ---------------------------------------------------------------------------
// The strict line check.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:Inf|NaN|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)$/;
const TIMESTAMP = /^-?\d+$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseFloatStrict(text) {
  if (!FLOAT.test(text)) return undefined;
  if (/Inf$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

// Reads `name{a="x",b="y"} value [timestamp]`; throws a message on a syntax error.
function parseSample(line) {
  let i = 0;
  const isBlank = (c) => c === " " || c === "\t";
  const skipBlanks = () => {
    while (i < line.length && isBlank(line[i])) i++;
  };
  const readWhile = (re) => {
    const start = i;
    while (i < line.length && re.test(line[i])) i++;
    return line.slice(start, i);
  };
  const name = readWhile(/[a-zA-Z0-9_:]/);
  if (!METRIC_NAME.test(name) || (i < line.length && !isBlank(line[i]) && line[i] !== "{")) {
    throw `invalid metric name '${line.split(/[ \t{]/)[0]}'`;
  }
  const labels = [];
  skipBlanks();
  if (line[i] === "{") {
    i++;
    for (;;) {
      skipBlanks();
      if (line[i] === "}") break;
      const label = readWhile(/[a-zA-Z0-9_:]/);
      if (!LABEL_NAME.test(label)) throw `invalid label name '${label || line.slice(i, i + 10)}'`;
      if (label.startsWith("__")) throw `label name '${label}' is reserved`;
      skipBlanks();
      if (line[i] !== "=") throw `expected '=' after label '${label}'`;
      i++;
      skipBlanks();
      if (line[i] !== '"') throw `expected '"' to open the value of label '${label}'`;
      i++;
      let value = "";
      for (;;) {
        if (i >= line.length) throw `unterminated value of label '${label}'`;
        const c = line[i++];
        if (c === '"') break;
        if (c === "\\") {
          const e = line[i++];
          if (e === "\\") value += "\\";
          else if (e === '"') value += '"';
          else if (e === "n") value += "\n";
          else throw `invalid escape '\\${e ?? ""}' in the value of label '${label}'`;
        } else {
          value += c;
        }
      }
      if (labels.some(([n]) => n === label)) throw `duplicate label '${label}'`;
      labels.push([label, value]);
      skipBlanks();
      if (line[i] === ",") {
        i++;
        continue;
      }
      if (line[i] !== "}") throw `expected ',' or '}' after the value of label '${label}'`;
      break;
    }
    i++;  // the '}'
  }
  const rest = line.slice(i).trim().split(/[ \t]+/);
  if (rest.length === 0 || rest[0] === "") throw "missing value";
  if (rest.length > 2) throw `unexpected text after the value: '${rest.slice(2).join(" ")}'`;
  const value = parseFloatStrict(rest[0]);
  if (value === undefined) throw `invalid value '${rest[0]}'`;
  if (rest.length === 2 && !TIMESTAMP.test(rest[1])) throw `invalid timestamp '${rest[1]}'`;
  return { name, labels, value };
}

function unescapeHelp(text) {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      out += text[i];
      continue;
    }
    const e = text[++i];
    if (e === "\\") out += "\\";
    else if (e === "n") out += "\n";
    else throw `invalid escape '\\${e ?? ""}' in HELP`;
  }
  return out;
}

function seriesText(name, labels) {
  const sorted = [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.length ? `${name}{${sorted.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(",")}}` : name;
}

function seriesKey(labels, without) {
  return JSON.stringify(labels.filter(([n]) => n !== without).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function check(text) {
  const problems = [];
  const families = new Map();  // name -> {type, help, samples, histograms}
  const closed = new Set();
  let current = null;
  let samples = 0;
  const problem = (lineNo, message) => problems.push(`line ${lineNo}: ${message}`);

  if (text.length > 0 && !text.endsWith("\n")) problems.push("the last line does not end with a newline");
  if (text.includes("\r")) problems.push("carriage return found; lines end with \\n only");

  const family = (name, lineNo) => {
    if (current && current.name === name) return current;
    if (current) closed.add(current.name);
    if (closed.has(name)) problem(lineNo, `family '${name}' appears again after other families (not one group)`);
    current = families.get(name) ?? { name, type: undefined, help: undefined, samples: 0, series: new Map(), seen: new Set() };
    families.set(name, current);
    return current;
  };

  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (/^[ \t]*$/.test(line)) return;
    if (line.startsWith("#")) {
      const meta = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!meta) {
        if (/^#[ \t]+(HELP|TYPE)\b/.test(line)) problem(lineNo, `malformed ${line.split(/[ \t]+/)[1]} line`);
        return;  // a plain comment
      }
      const [, kind, name, rest = ""] = meta;
      if (!METRIC_NAME.test(name)) return problem(lineNo, `invalid metric name '${name}' in ${kind}`);
      const f = family(name, lineNo);
      if (kind === "HELP") {
        if (f.help !== undefined) problem(lineNo, `second HELP for '${name}'`);
        try {
          f.help = unescapeHelp(rest);
        } catch (message) {
          problem(lineNo, message);
        }
      } else {
        if (f.type !== undefined) problem(lineNo, `second TYPE for '${name}'`);
        if (f.samples > 0) problem(lineNo, `TYPE for '${name}' after its samples`);
        if (!TYPES.has(rest.trim())) problem(lineNo, `unknown type '${rest.trim()}' (expected ${[...TYPES].join(", ")})`);
        f.type = rest.trim();
      }
      return;
    }

    let sample;
    try {
      sample = parseSample(line);
    } catch (message) {
      return problem(lineNo, message);
    }
    samples++;
    // Which family the sample belongs to: the current one if its name fits the type's suffixes.
    let f = current;
    let suffix = null;
    if (f) {
      const fits = (s) => sample.name === f.name + s;
      if (f.type === "histogram") suffix = ["_bucket", "_sum", "_count"].find(fits) ?? (fits("") ? "" : null);
      else if (f.type === "summary") suffix = ["_sum", "_count"].find(fits) ?? (fits("") ? "" : null);
      else suffix = fits("") ? "" : null;
    }
    if (suffix === null) {
      f = family(sample.name, lineNo);
      suffix = "";
    }
    f.samples++;
    const seriesId = seriesText(sample.name, sample.labels);
    if (f.seen.has(seriesId)) problem(lineNo, `duplicate series ${seriesId}`);
    f.seen.add(seriesId);

    if (f.type === "counter" && !(sample.value >= 0)) problem(lineNo, `counter '${f.name}' has value ${sample.value}`);
    if (f.type === "histogram") {
      if (suffix === "") return problem(lineNo, `histogram '${f.name}' sample without _bucket/_sum/_count`);
      const key = seriesKey(sample.labels, "le");
      const h = f.series.get(key) ?? {
        buckets: [],
        sum: undefined,
        count: undefined,
        line: lineNo,
        text: seriesText(f.name, sample.labels.filter(([n]) => n !== "le")),
      };
      f.series.set(key, h);
      const le = sample.labels.find(([n]) => n === "le");
      if (suffix === "_bucket") {
        if (!le) return problem(lineNo, `${sample.name} without an 'le' label`);
        const bound = parseFloatStrict(le[1]);
        if (bound === undefined || Number.isNaN(bound)) return problem(lineNo, `invalid le="${le[1]}"`);
        const previous = h.buckets[h.buckets.length - 1];
        if (h.sum !== undefined || h.count !== undefined) problem(lineNo, `bucket after _sum/_count of the series`);
        if (previous && !(bound > previous.bound)) problem(lineNo, `le="${le[1]}" does not increase`);
        if (previous && sample.value < previous.value) problem(lineNo, `bucket count ${sample.value} below the previous bucket's ${previous.value} (buckets are cumulative)`);
        if (!(sample.value >= 0)) problem(lineNo, `bucket count ${sample.value} is negative`);
        h.buckets.push({ bound, value: sample.value });
      } else {
        if (le) problem(lineNo, `${sample.name} must not have an 'le' label`);
        h[suffix.slice(1)] = sample.value;
      }
    }
    if (f.type === "summary" && suffix === "" && !sample.labels.some(([n]) => n === "quantile")) {
      problem(lineNo, `summary '${f.name}' sample without a 'quantile' label`);
    }
  });

  for (const f of families.values()) {
    if (f.type !== "histogram") continue;
    for (const h of f.series.values()) {
      const where = `histogram ${h.text} (from line ${h.line})`;
      const last = h.buckets[h.buckets.length - 1];
      if (!last || last.bound !== Infinity) problems.push(`${where}: no le="+Inf" bucket`);
      if (h.count === undefined) problems.push(`${where}: no _count`);
      if (h.sum === undefined) problems.push(`${where}: no _sum`);
      if (last && h.count !== undefined && last.value !== h.count) {
        problems.push(`${where}: +Inf bucket ${last.value} differs from _count ${h.count}`);
      }
    }
  }
  return { problems, families, samples };
}

// ---------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2);
  const expected = [];
  let source;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--expect") {
      if (i + 1 >= args.length) usage("--expect needs a metric name");
      expected.push(args[++i]);
    } else if (args[i] === "-h" || args[i] === "--help") {
      usage();
    } else if (source === undefined) {
      source = args[i];
    } else {
      usage(`unexpected argument '${args[i]}'`);
    }
  }
  source ??= "-";
  const parse = loadParser();

  const { text, problems } = await readInput(source);
  const result = check(text);
  problems.push(...result.problems);

  let parsed = [];
  try {
    parsed = parse(text);
  } catch (error) {
    problems.push(`parse-prometheus-text-format rejects the text: ${error.message}`);
  }
  // The library groups lines by itself; a disagreement on the families means the two readings of
  // the text differ, which is a problem whichever is right.
  const theirs = parsed.map((f) => f.name).join(",");
  const ours = [...result.families.keys()].join(",");
  if (problems.length === 0 && theirs !== ours) {
    problems.push(`parse-prometheus-text-format found families [${theirs}], the line check [${ours}]`);
  }
  for (const name of expected) {
    if (!(result.families.get(name)?.samples > 0)) problems.push(`expected family '${name}' has no samples`);
  }

  const label = source === "-" ? "stdin" : source;
  if (problems.length) {
    const shown = 50;  // a wrong document (an HTML page) would otherwise print one line per line
    for (const p of problems.slice(0, shown)) console.error(`${prog}: ${label}: ${p}`);
    if (problems.length > shown) console.error(`${prog}: ${label}: ... and ${problems.length - shown} more`);
    console.error(`${prog}: ${label}: INVALID (${problems.length} problem${problems.length === 1 ? "" : "s"})`);
    process.exit(1);
  }
  console.log(`${prog}: ${label}: OK (${parsed.length} families, ${result.samples} samples)`);
}

main().catch((error) => {
  console.error(`${prog}: ${error.message ?? error}`);
  process.exit(1);
});
