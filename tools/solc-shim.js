#!/usr/bin/env node
// A native-solc-compatible front end for solcjs, so py-solc-x / ape-solidity can drive it.
// Supports `--version` and `--standard-json` (input on stdin) with --base-path/--include-path.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const args = process.argv.slice(2);

if (args.includes("--version")) {
  process.stdout.write(
    `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`,
  );
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc-shim: only --version and --standard-json are supported\n");
  process.exit(2);
}

function optionValues(name) {
  const values = [];
  args.forEach((arg, i) => {
    if (arg === name && i + 1 < args.length) values.push(...args[i + 1].split(","));
    else if (arg.startsWith(`${name}=`)) values.push(...arg.slice(name.length + 1).split(","));
  });
  return values;
}

const roots = [...optionValues("--base-path"), ...optionValues("--include-path"), process.cwd()];

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
// Native solc reads `urls` itself; solcjs only accepts inline `content`.
for (const [name, source] of Object.entries(input.sources || {})) {
  if (source.content === undefined && Array.isArray(source.urls)) {
    const found = source.urls.map(findImports).find((r) => r.contents !== undefined);
    if (found) input.sources[name] = { content: found.contents };
  }
}
process.stdout.write(solc.compile(JSON.stringify(input), { import: findImports }));
