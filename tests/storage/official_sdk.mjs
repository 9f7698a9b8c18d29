// Drives the official 0G TS SDK for interoperability tests and benches. Prints one JSON line.
//   node official_sdk.mjs root FILE...                         -> {"roots": ["0x..", ...]}
//   node official_sdk.mjs upload FILE RPC_URL KEY INDEXER_URL    -> {"root", "txHash", "txSeq"}
//   node official_sdk.mjs download ROOT OUT INDEXER_URL        -> {"ok": true}
import { Indexer, ZgFile } from "@0gfoundation/0g-ts-sdk";
import { ethers } from "ethers";

// The SDK logs progress to stdout; keep stdout for our one JSON line.
const print = console.log.bind(console);
console.log = (...args) => console.error(...args);

async function root(files) {
  const roots = [];
  for (const path of files) {
    const file = await ZgFile.fromFilePath(path);
    const [tree, err] = await file.merkleTree();
    await file.close();
    if (err) throw err;
    roots.push(tree.rootHash());
  }
  return { roots };
}

async function upload(path, rpc, key, indexerUrl, taskSize) {
  const signer = new ethers.Wallet(key, new ethers.JsonRpcProvider(rpc));
  const file = await ZgFile.fromFilePath(path);
  try {
    const options = taskSize ? { taskSize: Number(taskSize) } : undefined;
    const [result, err] = await new Indexer(indexerUrl).upload(file, rpc, signer, options);
    if (err) throw err;
    return { root: result.rootHash, txHash: result.txHash, txSeq: result.txSeq };
  } finally {
    await file.close();
  }
}

async function download(rootHash, out, indexerUrl) {
  const err = await new Indexer(indexerUrl).download(rootHash, out, true);
  if (err) throw err;
  return { ok: true };
}

const [command, ...args] = process.argv.slice(2);
const commands = { root: () => root(args), upload: () => upload(...args), download: () => download(...args) };
if (!commands[command]) {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
try {
  print(JSON.stringify(await commands[command]()));
  process.exit(0);
} catch (err) {
  console.error(String(err?.stack || err));
  process.exit(1);
}
