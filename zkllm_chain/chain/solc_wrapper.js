#!/usr/bin/env node
// A `solc`-compatible command line over the npm `solc` package (solcjs).
//
// Supported:
//   --version                 prints "Version: <long version>" like the native binary
//   --standard-json           reads Standard JSON input on stdin, writes pure JSON on stdout
//   --base-path DIR           root for resolving imports that are not in the input
//   --allow-paths A,B         further directories imports may be read from
// Anything else is rejected with exit code 2.
//
// The npm package is located through ZKLLM_SOLCJS (path of the package directory),
// then through the usual Node module resolution.
'use strict';

const fs = require('fs');
const path = require('path');

function loadSolc() {
  const explicit = process.env.ZKLLM_SOLCJS;
  try {
    return explicit ? require(path.resolve(explicit)) : require('solc');
  } catch (err) {
    process.stderr.write(
      'solc_wrapper: cannot load the npm "solc" package' +
        (explicit ? ` from ${explicit}` : '') +
        `: ${err.message}\nrun scripts/install_node_tools.sh\n`
    );
    process.exit(3);
  }
}

// Writes all of `text` to a file descriptor. Pipes accept at most 64 KiB at a time and
// may be non-blocking, so keep writing (and retry on EAGAIN) until everything is out.
function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buf.length) {
    try {
      offset += fs.writeSync(fd, buf, offset, buf.length - offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function readStdin() {
  const chunks = [];
  const chunk = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (err.code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version') opts.version = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg === '--base-path') opts.basePath = argv[++i];
    else if (arg === '--allow-paths') opts.allowPaths.push(...String(argv[++i]).split(','));
    else if (arg === '-') continue;
    else {
      process.stderr.write(`solc_wrapper: unsupported argument ${arg}\n`);
      process.exit(2);
    }
  }
  return opts;
}

function importReader(opts) {
  const roots = [opts.basePath, ...opts.allowPaths]
    .filter((p) => p)
    .map((p) => path.resolve(p));
  return (importPath) => {
    for (const root of roots) {
      const candidate = path.resolve(root, importPath);
      if (candidate !== root && !candidate.startsWith(root + path.sep)) continue;
      if (fs.existsSync(candidate)) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found inside the allowed paths: ${importPath}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const solc = loadSolc();
  if (opts.version) {
    writeAll(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write('solc_wrapper: only --version and --standard-json are supported\n');
    return 2;
  }
  const input = readStdin();
  const output = solc.compile(input, { import: importReader(opts) });
  writeAll(1, output);
  return 0;
}

process.exitCode = main();
